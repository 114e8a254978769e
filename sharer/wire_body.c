/* \summary: wire bodies: one schema table per message type, one checker
 *
 * A missing key or a wrong JSON type is HL_WIRE_E_SCHEMA; a value of the
 * right type that is malformed, out of range, too long or has too many
 * items is HL_WIRE_E_FIELD. Keys a body's schema does not name are ignored
 * and counted (forward compatibility); inside sighting records and
 * indicator objects, which are formats of their own, extra keys are simply
 * carried. Tables follow docs/protocol.md, "Message types".
 */
#include <stdint.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/matcher.h"
#include "hotline/wire.h"
#include "wire_int.h"

enum bkind {
	B_STR,    /* any UTF-8 string, min..max bytes */
	B_LINE,   /* one line: no control characters, min..max bytes */
	B_VIS,    /* visible ASCII, no spaces, min..max bytes */
	B_NAME,   /* party name */
	B_ID,     /* message id */
	B_TOKEN,  /* request/escalation id */
	B_HASH,   /* SHA-256 hex */
	B_REASON, /* NACK reason code: [a-z][a-z0-9_]{0,31} */
	B_TIME,   /* RFC 3339 date-time */
	B_INT,    /* integer lo..hi */
	B_BOOL,
	B_ENUM, /* one of choices */
	B_STRS, /* a string, or an array of up to max strings of 1..256 bytes */
	B_OBJECT,
	B_ARRAY, /* min..max items, each checked by item() */
};

struct bfield;
typedef int (*bcheck_fn)(const json_t *v, struct hl_wpath *p, struct hl_wire_error *err);

struct bfield {
	const char *key;
	enum bkind kind;
	bool required;
	size_t min, max;            /* bytes (strings), items (arrays) */
	int64_t lo, hi;             /* B_INT */
	const char *const *choices; /* B_ENUM, NULL-terminated */
	bcheck_fn item;             /* B_OBJECT: the object; B_ARRAY: each item */
};

#define REQ true
#define OPT false

static int check_object(const struct bfield *f, size_t n, const json_t *obj, struct hl_wpath *p,
                        struct hl_wire_error *err, bool count_unknown);

/* ---- vocabularies ---------------------------------------------------- */

static const char *const prio_names[] = {"low", "normal", "high", "critical", NULL};
static const char *const status_names[] = {"acknowledged", "in_progress", "answered",
                                           "closed",       "rejected",    NULL};
static const char *const esc_severities[] = {"low", "medium", "high", "critical", NULL};
static const char *const ind_types[] = {"ip", "domain", "url", "uri", "content", "regex", NULL};
static const char *const tlp_names[] = {"clear", "green", "amber", "amber+strict", "red", NULL};
static const char *const sev_names[] = {"unknown", "low", "medium", "high", "critical", NULL};
static const char *const field_names[] = {"dns.query",   "http.host", "tls.sni", "http.url",
                                          "http.uri",    "src_ip",    "dst_ip",  "tcp.payload",
                                          "udp.payload", NULL};

const char *hl_wire_priority_name(enum hl_wire_priority p)
{
	return (unsigned)p < HL_WIRE_PRIO_COUNT ? prio_names[p] : "?";
}

int hl_wire_priority_parse(const char *s, enum hl_wire_priority *out)
{
	for (unsigned i = 0; s != NULL && i < HL_WIRE_PRIO_COUNT; i++) {
		if (strcmp(s, prio_names[i]) == 0) {
			*out = (enum hl_wire_priority)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

const char *hl_wire_status_name(enum hl_wire_status s)
{
	return (unsigned)s < HL_WIRE_STATUS_COUNT ? status_names[s] : "?";
}

int hl_wire_status_parse(const char *s, enum hl_wire_status *out)
{
	for (unsigned i = 0; s != NULL && i < HL_WIRE_STATUS_COUNT; i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum hl_wire_status)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

/* ---- value checks ---------------------------------------------------- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static int wrong_type(const json_t *v, const char *want, struct hl_wpath *p,
                      struct hl_wire_error *err)
{
	return hl_wire_fail(err, HL_WIRE_E_SCHEMA, p, "expected %s, got %s", want, json_kind(v));
}

static bool no_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return true;
}

static bool reason_code_valid(const char *s)
{
	size_t n = 0;
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= 32 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static int check_choice(const char *s, const char *const *choices, struct hl_wpath *p,
                        struct hl_wire_error *err)
{
	for (size_t i = 0; choices[i] != NULL; i++) {
		if (strcmp(s, choices[i]) == 0)
			return 0;
	}
	return hl_wire_fail(err, HL_WIRE_E_FIELD, p, "unknown value \"%.40s\"", s);
}

static int check_length(size_t len, size_t min, size_t max, struct hl_wpath *p,
                        struct hl_wire_error *err)
{
	if (len < min)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, p,
		                    len == 0 ? "empty" : "too short (%zu bytes, at least %zu)", len,
		                    min);
	if (len > max)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, p, "too long (%zu bytes, at most %zu)",
		                    len, max);
	return 0;
}

static int check_count(size_t n, size_t min, size_t max, struct hl_wpath *p,
                       struct hl_wire_error *err)
{
	if (n < min)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, p, "too few items (%zu, at least %zu)", n,
		                    min);
	if (n > max)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, p, "too many items (%zu, at most %zu)", n,
		                    max);
	return 0;
}

static int check_string(const struct bfield *f, const json_t *v, struct hl_wpath *p,
                        struct hl_wire_error *err)
{
	if (!json_is_string(v))
		return wrong_type(v, "a string", p, err);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	int64_t t;
	switch (f->kind) {
	case B_STR:
		return check_length(len, f->min, f->max, p, err);
	case B_LINE:
		if (check_length(len, f->min, f->max, p, err) != 0)
			return HL_EINVAL;
		if (!no_controls(s, len))
			return hl_wire_fail(err, HL_WIRE_E_FIELD, p,
			                    "contains a control character");
		return 0;
	case B_VIS:
		if (check_length(len, f->min, f->max, p, err) != 0)
			return HL_EINVAL;
		if (!hl_wire_visible_ascii(s, len))
			return hl_wire_fail(err, HL_WIRE_E_FIELD, p,
			                    "not visible ASCII without spaces");
		return 0;
	case B_NAME:
		return hl_wire_name_valid(s)
		               ? 0
		               : hl_wire_fail(err, HL_WIRE_E_FIELD, p,
		                              "not a party name ([A-Za-z0-9_.-], 1..%d)",
		                              HL_WIRE_NAME_MAX);
	case B_ID:
		return hl_wire_id_valid(s)
		               ? 0
		               : hl_wire_fail(err, HL_WIRE_E_FIELD, p,
		                              "not %d lower-case hex digits", HL_WIRE_ID_LEN);
	case B_TOKEN:
		return hl_wire_token_valid(s) ? 0
		                              : hl_wire_fail(err, HL_WIRE_E_FIELD, p,
		                                             "not an id ([A-Za-z0-9._:-], 1..%d)",
		                                             HL_WIRE_TOKEN_MAX);
	case B_HASH:
		return hl_wire_hash_valid(s)
		               ? 0
		               : hl_wire_fail(err, HL_WIRE_E_FIELD, p,
		                              "not %d lower-case hex digits", HL_WIRE_HASH_HEX);
	case B_REASON:
		return reason_code_valid(s)
		               ? 0
		               : hl_wire_fail(err, HL_WIRE_E_FIELD, p,
		                              "not a reason code ([a-z][a-z0-9_], 1..32)");
	case B_TIME:
		return hl_wire_time_parse(s, &t) == 0
		               ? 0
		               : hl_wire_fail(err, HL_WIRE_E_FIELD, p, "not an RFC 3339 date-time");
	case B_ENUM:
		return check_choice(s, f->choices, p, err);
	default:
		return HL_EINVAL;
	}
}

static int check_strs(const struct bfield *f, const json_t *v, struct hl_wpath *p,
                      struct hl_wire_error *err)
{
	static const struct bfield one = {NULL, B_STR, REQ, 1, 256, 0, 0, NULL, NULL};
	if (json_is_string(v))
		return check_string(&one, v, p, err);
	if (!json_is_array(v))
		return wrong_type(v, "a string or an array of strings", p, err);
	if (check_count(json_array_size(v), 0, f->max, p, err) != 0)
		return HL_EINVAL;
	size_t i;
	json_t *m;
	json_array_foreach(v, i, m)
	{
		size_t old = hl_wpath_index(p, i);
		if (check_string(&one, m, p, err) != 0)
			return HL_EINVAL;
		hl_wpath_pop(p, old);
	}
	return 0;
}

static int check_value(const struct bfield *f, const json_t *v, struct hl_wpath *p,
                       struct hl_wire_error *err)
{
	switch (f->kind) {
	case B_INT: {
		if (!json_is_integer(v))
			return wrong_type(v, "an integer", p, err);
		json_int_t x = json_integer_value(v);
		if (x < f->lo || x > f->hi)
			return hl_wire_fail(err, HL_WIRE_E_FIELD, p,
			                    "out of range (%lld, expected %lld..%lld)",
			                    (long long)x, (long long)f->lo, (long long)f->hi);
		return 0;
	}
	case B_BOOL:
		return json_is_boolean(v) ? 0 : wrong_type(v, "a boolean", p, err);
	case B_STRS:
		return check_strs(f, v, p, err);
	case B_OBJECT:
		if (!json_is_object(v))
			return wrong_type(v, "an object", p, err);
		return f->item(v, p, err);
	case B_ARRAY: {
		if (!json_is_array(v))
			return wrong_type(v, "an array", p, err);
		if (check_count(json_array_size(v), f->min, f->max, p, err) != 0)
			return HL_EINVAL;
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
		{
			size_t old = hl_wpath_index(p, i);
			if (f->item(m, p, err) != 0)
				return HL_EINVAL;
			hl_wpath_pop(p, old);
		}
		return 0;
	}
	default:
		return check_string(f, v, p, err);
	}
}

static int check_object(const struct bfield *f, size_t n, const json_t *obj, struct hl_wpath *p,
                        struct hl_wire_error *err, bool count_unknown)
{
	if (!json_is_object(obj))
		return wrong_type(obj, "an object", p, err);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, f[i].key);
		size_t old = hl_wpath_key(p, f[i].key);
		if (v == NULL) {
			if (f[i].required)
				return hl_wire_fail(err, HL_WIRE_E_SCHEMA, p, "missing");
		} else if (check_value(&f[i], v, p, err) != 0) {
			return HL_EINVAL;
		}
		hl_wpath_pop(p, old);
	}
	if (!count_unknown || err == NULL)
		return 0;
	const char *k;
	json_t *m;
	json_object_foreach((json_t *)obj, k, m)
	{
		bool known = false;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(k, f[i].key) == 0;
		if (known)
			continue;
		if (err->ignored_keys++ == 0) {
			size_t old = hl_wpath_key(p, k);
			size_t len = strnlen(p->buf, sizeof err->ignored_key - 1);
			memcpy(err->ignored_key, p->buf, len);
			err->ignored_key[len] = '\0';
			hl_wpath_pop(p, old);
		}
	}
	return 0;
}

#define CHECK_OBJECT_FN(fn, table)                                                            \
	static int fn(const json_t *v, struct hl_wpath *p, struct hl_wire_error *err)         \
	{                                                                                     \
		return check_object(table, sizeof table / sizeof table[0], v, p, err, false); \
	}

/* ---- sighting records (sensor/sighting.h, docs/formats.md) ----------- */

static const struct bfield rec_indicator[] = {
        {"id", B_VIS, REQ, 1, HL_INDICATOR_ID_MAX - 1, 0, 0, NULL, NULL},
        {"type", B_ENUM, REQ, 0, 0, 0, 0, ind_types, NULL},
        {"value", B_STR, REQ, 1, HL_INDICATOR_VALUE_MAX, 0, 0, NULL, NULL},
};
CHECK_OBJECT_FN(check_rec_indicator, rec_indicator)

static const struct bfield rec_match[] = {
        {"field", B_ENUM, REQ, 0, 0, 0, 0, field_names, NULL},
};
CHECK_OBJECT_FN(check_rec_match, rec_match)

static const struct bfield record[] = {
        {"first_seen", B_TIME, REQ, 0, 0, 0, 0, NULL, NULL},
        {"last_seen", B_TIME, REQ, 0, 0, 0, 0, NULL, NULL},
        {"count", B_INT, REQ, 0, 0, 1, INT64_MAX, NULL, NULL},
        {"indicator", B_OBJECT, REQ, 0, 0, 0, 0, NULL, check_rec_indicator},
        {"match", B_OBJECT, REQ, 0, 0, 0, 0, NULL, check_rec_match},
};

static int check_record(const json_t *v, struct hl_wpath *p, struct hl_wire_error *err)
{
	if (check_object(record, sizeof record / sizeof record[0], v, p, err, false) != 0)
		return HL_EINVAL;
	int64_t first = 0, last = 0;
	hl_wire_time_parse(json_string_value(json_object_get(v, "first_seen")), &first);
	hl_wire_time_parse(json_string_value(json_object_get(v, "last_seen")), &last);
	if (last < first) {
		size_t old = hl_wpath_key(p, "last_seen");
		hl_wire_fail(err, HL_WIRE_E_FIELD, p, "before first_seen");
		hl_wpath_pop(p, old);
		return HL_EINVAL;
	}
	return 0;
}

/* ---- native indicator objects (docs/formats.md, "Native JSON lines") -- */

static const struct bfield native[] = {
        {"id", B_VIS, REQ, 1, HL_INDICATOR_ID_MAX - 1, 0, 0, NULL, NULL},
        {"type", B_ENUM, REQ, 0, 0, 0, 0, ind_types, NULL},
        {"value", B_STR, REQ, 1, HL_INDICATOR_VALUE_MAX, 0, 0, NULL, NULL},
        {"tlp", B_ENUM, REQ, 0, 0, 0, 0, tlp_names, NULL},
        {"confidence", B_INT, OPT, 0, 0, 0, 100, NULL, NULL},
        {"severity", B_ENUM, OPT, 0, 0, 0, 0, sev_names, NULL},
        {"valid_from", B_TIME, OPT, 0, 0, 0, 0, NULL, NULL},
        {"valid_until", B_TIME, OPT, 0, 0, 0, 0, NULL, NULL},
        {"nocase", B_BOOL, OPT, 0, 0, 0, 0, NULL, NULL},
        {"source", B_STRS, OPT, 0, 64, 0, 0, NULL, NULL},
        {"tags", B_STRS, OPT, 0, 64, 0, 0, NULL, NULL},
        {"description", B_STR, OPT, 0, HL_WIRE_TEXT_MAX, 0, 0, NULL, NULL},
};
CHECK_OBJECT_FN(check_native, native)

static int check_indicator_id(const json_t *v, struct hl_wpath *p, struct hl_wire_error *err)
{
	static const struct bfield f = {NULL, B_VIS, REQ,  1,   HL_INDICATOR_ID_MAX - 1,
	                                0,    0,     NULL, NULL};
	return check_value(&f, v, p, err);
}

static int check_message_id(const json_t *v, struct hl_wpath *p, struct hl_wire_error *err)
{
	static const struct bfield f = {NULL, B_ID, REQ, 0, 0, 0, 0, NULL, NULL};
	return check_value(&f, v, p, err);
}

/* ---- stats: a small free-form object --------------------------------- */

#define STATS_MEMBERS_MAX 256
#define STATS_DEPTH_MAX 4

static int check_stats_value(const json_t *v, struct hl_wpath *p, struct hl_wire_error *err,
                             size_t depth, size_t *members)
{
	if (++*members > STATS_MEMBERS_MAX)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, p, "more than %d members in all",
		                    STATS_MEMBERS_MAX);
	if (json_is_string(v))
		return check_length(json_string_length(v), 0, HL_WIRE_LINE_MAX, p, err);
	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth >= STATS_DEPTH_MAX)
		return hl_wire_fail(err, HL_WIRE_E_DEPTH, p, "nested deeper than %d",
		                    STATS_DEPTH_MAX);
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
		{
			size_t old = hl_wpath_index(p, i);
			if (check_stats_value(m, p, err, depth + 1, members) != 0)
				return HL_EINVAL;
			hl_wpath_pop(p, old);
		}
		return 0;
	}
	const char *k;
	json_t *m;
	json_object_foreach((json_t *)v, k, m)
	{
		size_t old = hl_wpath_key(p, k);
		if (check_length(strlen(k), 1, 64, p, err) != 0 ||
		    check_stats_value(m, p, err, depth + 1, members) != 0)
			return HL_EINVAL;
		hl_wpath_pop(p, old);
	}
	return 0;
}

/* ---- the message types ----------------------------------------------- */

static const struct bfield f_hello[] = {
        {"name", B_NAME, REQ, 0, 0, 0, 0, NULL, NULL},
        {"version", B_LINE, REQ, 1, 64, 0, 0, NULL, NULL},
        {"set_hash", B_HASH, OPT, 0, 0, 0, 0, NULL, NULL},
};
static const struct bfield f_ack[] = {
        {"ids", B_ARRAY, REQ, 1, HL_WIRE_BATCH_MAX, 0, 0, NULL, check_message_id},
};
static const struct bfield f_nack[] = {
        {"id", B_ID, REQ, 0, 0, 0, 0, NULL, NULL},
        {"reason_code", B_REASON, REQ, 0, 0, 0, 0, NULL, NULL},
        {"reason", B_STR, REQ, 0, HL_WIRE_REASON_MAX, 0, 0, NULL, NULL},
        {"supported_v", B_INT, OPT, 0, 0, 1, 65535, NULL, NULL},
};
static const struct bfield f_sighting[] = {
        {"record", B_OBJECT, REQ, 0, 0, 0, 0, NULL, check_record},
};
static const struct bfield f_sightings[] = {
        {"records", B_ARRAY, REQ, 1, HL_WIRE_BATCH_MAX, 0, 0, NULL, check_record},
};
static const struct bfield f_indicators[] = {
        {"set_version", B_INT, REQ, 0, 0, 0, INT64_MAX, NULL, NULL},
        {"set_hash", B_HASH, REQ, 0, 0, 0, 0, NULL, NULL},
        {"full", B_BOOL, REQ, 0, 0, 0, 0, NULL, NULL},
        {"indicators", B_ARRAY, REQ, 0, HL_WIRE_INDICATORS_MAX, 0, 0, NULL, check_native},
};
static const struct bfield f_retract[] = {
        {"ids", B_ARRAY, REQ, 1, HL_WIRE_INDICATORS_MAX, 0, 0, NULL, check_indicator_id},
        {"set_version", B_INT, OPT, 0, 0, 0, INT64_MAX, NULL, NULL},
        {"set_hash", B_HASH, OPT, 0, 0, 0, 0, NULL, NULL},
};
static const struct bfield f_request[] = {
        {"request_id", B_TOKEN, REQ, 0, 0, 0, 0, NULL, NULL},
        {"priority", B_ENUM, REQ, 0, 0, 0, 0, prio_names, NULL},
        {"subject", B_LINE, REQ, 1, HL_WIRE_LINE_MAX, 0, 0, NULL, NULL},
        {"description", B_STR, REQ, 1, HL_WIRE_TEXT_MAX, 0, 0, NULL, NULL},
        {"respond_by", B_TIME, REQ, 0, 0, 0, 0, NULL, NULL},
        {"indicators", B_ARRAY, OPT, 0, HL_WIRE_BATCH_MAX, 0, 0, NULL, check_native},
};
static const struct bfield f_request_update[] = {
        {"request_id", B_TOKEN, REQ, 0, 0, 0, 0, NULL, NULL},
        {"status", B_ENUM, REQ, 0, 0, 0, 0, status_names, NULL},
        {"note", B_STR, OPT, 0, HL_WIRE_TEXT_MAX, 0, 0, NULL, NULL},
};
static const struct bfield f_escalation[] = {
        {"escalation_id", B_TOKEN, REQ, 0, 0, 0, 0, NULL, NULL},
        {"severity", B_ENUM, REQ, 0, 0, 0, 0, esc_severities, NULL},
        {"summary", B_LINE, REQ, 1, HL_WIRE_LINE_MAX, 0, 0, NULL, NULL},
        {"details", B_STR, REQ, 0, HL_WIRE_TEXT_MAX, 0, 0, NULL, NULL},
        {"contact", B_LINE, OPT, 1, HL_WIRE_LINE_MAX, 0, 0, NULL, NULL},
};
static const struct bfield f_escalation_ack[] = {
        {"escalation_id", B_TOKEN, REQ, 0, 0, 0, 0, NULL, NULL},
        {"by", B_LINE, REQ, 1, HL_WIRE_LINE_MAX, 0, 0, NULL, NULL},
};

struct btype {
	const struct bfield *fields;
	size_t n;
};

#define BT(table)                                     \
	{                                             \
		table, sizeof table / sizeof table[0] \
	}
static const struct btype types[HL_WIRE_T_COUNT] = {
        [HL_WIRE_T_HELLO] = BT(f_hello),
        [HL_WIRE_T_HEARTBEAT] = {NULL, 0},
        [HL_WIRE_T_ACK] = BT(f_ack),
        [HL_WIRE_T_NACK] = BT(f_nack),
        [HL_WIRE_T_SIGHTING] = BT(f_sighting),
        [HL_WIRE_T_SIGHTINGS] = BT(f_sightings),
        [HL_WIRE_T_INDICATORS] = BT(f_indicators),
        [HL_WIRE_T_INDICATOR_RETRACT] = BT(f_retract),
        [HL_WIRE_T_REQUEST] = BT(f_request),
        [HL_WIRE_T_REQUEST_UPDATE] = BT(f_request_update),
        [HL_WIRE_T_ESCALATION] = BT(f_escalation),
        [HL_WIRE_T_ESCALATION_ACK] = BT(f_escalation_ack),
        [HL_WIRE_T_STATS] = {NULL, 0},
};

int hl_wire_check_body(enum hl_wire_type type, const json_t *body, struct hl_wire_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof *err);
	struct hl_wpath p;
	hl_wpath_init(&p, "body");
	if ((unsigned)type >= HL_WIRE_T_COUNT)
		return hl_wire_fail(err, HL_WIRE_E_TYPE, &p, "type %d unknown", (int)type);
	if (body == NULL || !json_is_object(body))
		return body == NULL ? hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "missing")
		                    : wrong_type(body, "an object", &p, err);
	if (hl_wire_depth(body, HL_WIRE_DEPTH_MAX + 1) > HL_WIRE_DEPTH_MAX)
		return hl_wire_fail(err, HL_WIRE_E_DEPTH, &p, "nested deeper than %d",
		                    HL_WIRE_DEPTH_MAX);
	if (type == HL_WIRE_T_STATS) {
		size_t members = 0;
		return check_stats_value(body, &p, err, 0, &members);
	}
	return check_object(types[type].fields, types[type].n, body, &p, err, true);
}
