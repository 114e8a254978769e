/* \summary: wire envelope: names, ids, encode and decode (docs/protocol.md)
 *
 * The envelope is strict (an unknown key is refused: a new envelope key
 * means a new "v"); bodies are checked by wire_body.c.
 */
#include "hotline/wire.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/timefmt.h"
#include "wire_int.h"

static const char *const type_names[HL_WIRE_T_COUNT] = {
#define HL_WIRE_TYPE_STR(name, str) [HL_WIRE_T_##name] = str,
        HL_WIRE_TYPE_MAP(HL_WIRE_TYPE_STR)
#undef HL_WIRE_TYPE_STR
};

static const char *const err_names[HL_WIRE_E_COUNT] = {[HL_WIRE_OK] = "ok",
#define HL_WIRE_ERR_STR(name, str, msg) [HL_WIRE_E_##name] = str,
                                                       HL_WIRE_ERR_MAP(HL_WIRE_ERR_STR)
#undef HL_WIRE_ERR_STR
};

static const char *const err_texts[HL_WIRE_E_COUNT] = {[HL_WIRE_OK] = "accepted",
#define HL_WIRE_ERR_TEXT(name, str, msg) [HL_WIRE_E_##name] = msg,
                                                       HL_WIRE_ERR_MAP(HL_WIRE_ERR_TEXT)
#undef HL_WIRE_ERR_TEXT
};

const char *hl_wire_type_name(enum hl_wire_type type)
{
	return (unsigned)type < HL_WIRE_T_COUNT ? type_names[type] : "?";
}

int hl_wire_type_parse(const char *s, enum hl_wire_type *out)
{
	for (unsigned i = 0; s != NULL && i < HL_WIRE_T_COUNT; i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum hl_wire_type)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

const char *hl_wire_err_name(enum hl_wire_err code)
{
	return (unsigned)code < HL_WIRE_E_COUNT ? err_names[code] : "?";
}

const char *hl_wire_err_text(enum hl_wire_err code)
{
	return (unsigned)code < HL_WIRE_E_COUNT ? err_texts[code] : "?";
}

enum hl_wire_err hl_wire_err_parse(const char *s)
{
	for (unsigned i = 1; s != NULL && i < HL_WIRE_E_COUNT; i++) {
		if (strcmp(s, err_names[i]) == 0)
			return (enum hl_wire_err)i;
	}
	return HL_WIRE_E_UNKNOWN;
}

/* ---- paths and errors ---------------------------------------------------- */

void hl_wpath_init(struct hl_wpath *p, const char *root)
{
	p->len = 0;
	p->buf[0] = '\0';
	hl_wpath_key(p, root);
}

/* Append text (already formatted); too long a path is cut and ends in
 * "..." so the message stays bounded. Returns the length before. */
static size_t wpath_append(struct hl_wpath *p, const char *text, size_t n)
{
	size_t old = p->len;
	if (n >= sizeof p->buf - p->len) {
		p->len = sizeof p->buf - 1;
		memcpy(p->buf + sizeof p->buf - 4, "...", 4);
	} else {
		memcpy(p->buf + p->len, text, n);
		p->len += n;
		p->buf[p->len] = '\0';
	}
	return old;
}

size_t hl_wpath_key(struct hl_wpath *p, const char *key)
{
	size_t old = p->len;
	if (p->len > 0)
		wpath_append(p, ".", 1);
	wpath_append(p, key, strlen(key));
	return old;
}

size_t hl_wpath_index(struct hl_wpath *p, size_t i)
{
	char text[32];
	int n = snprintf(text, sizeof text, "[%zu]", i);
	return wpath_append(p, text, n > 0 ? (size_t)n : 0);
}

void hl_wpath_pop(struct hl_wpath *p, size_t len)
{
	if (len < sizeof p->buf) {
		p->len = len;
		p->buf[len] = '\0';
	}
}

int hl_wire_fail(struct hl_wire_error *err, enum hl_wire_err code, const struct hl_wpath *p,
                 const char *fmt, ...)
{
	if (err == NULL)
		return HL_EINVAL;
	err->code = code;
	int n = snprintf(err->msg, sizeof err->msg, "%s: ", p != NULL ? p->buf : "message");
	if (n < 0 || (size_t)n >= sizeof err->msg)
		return HL_EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
	va_end(ap);
	return HL_EINVAL;
}

/* ---- value checks ---------------------------------------------------- */

bool hl_wire_name_valid(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[0] == '.' || s[0] == '-')
		return false;
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= HL_WIRE_NAME_MAX || !(isalnum(c) || c == '_' || c == '.' || c == '-') ||
		    c >= 0x80)
			return false;
	}
	return true;
}

bool hl_wire_id_valid(const char *s)
{
	if (s == NULL)
		return false;
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		if (n >= HL_WIRE_ID_LEN ||
		    !((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	}
	return n == HL_WIRE_ID_LEN;
}

bool hl_wire_visible_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	}
	return true;
}

bool hl_wire_token_valid(const char *s)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= HL_WIRE_TOKEN_MAX ||
		    !(isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-') || c >= 0x80)
			return false;
	}
	return n > 0;
}

bool hl_wire_hash_valid(const char *s)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		if (n >= HL_WIRE_HASH_HEX ||
		    !((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	}
	return n == HL_WIRE_HASH_HEX;
}

int hl_wire_time_parse(const char *s, int64_t *us)
{
	/* hl_time_parse also takes a bare date; on the wire an instant is
	 * always a date-time. */
	if (strlen(s) >= HL_TIME_ISO_MAX || strchr(s, 'T') == NULL)
		return HL_EINVAL;
	return hl_time_parse(s, us);
}

size_t hl_wire_depth(const json_t *v, size_t limit)
{
	if (limit == 0)
		return 1;
	size_t deepest = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m)
		{
			size_t d = hl_wire_depth(m, limit - 1);
			if (d > deepest)
				deepest = d;
			if (deepest >= limit)
				break;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
		{
			size_t d = hl_wire_depth(m, limit - 1);
			if (d > deepest)
				deepest = d;
			if (deepest >= limit)
				break;
		}
	}
	return deepest + 1;
}

/* ---- envelope ------------------------------------------------------------ */

void hl_wire_new_id(char out[HL_WIRE_ID_LEN + 1])
{
	/* 128 random bits: unique without coordination or a clock, and they
	 * leak nothing; order comes from seq (docs/protocol.md, "Ids"). */
	uint8_t raw[HL_WIRE_ID_LEN / 2];
	randombytes_buf(raw, sizeof raw);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof raw; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[HL_WIRE_ID_LEN] = '\0';
}

int hl_wire_envelope_init(struct hl_wire_envelope *env, enum hl_wire_type type, const char *from,
                          const char *to, uint64_t seq, int64_t now_us)
{
	memset(env, 0, sizeof *env);
	if ((unsigned)type >= HL_WIRE_T_COUNT || !hl_wire_name_valid(from) ||
	    !hl_wire_name_valid(to) || seq > (uint64_t)INT64_MAX)
		return HL_EINVAL;
	env->type = type;
	env->v = HL_WIRE_VERSION;
	snprintf(env->from, sizeof env->from, "%s", from);
	snprintf(env->to, sizeof env->to, "%s", to);
	env->seq = seq;
	env->sent_at = now_us;
	hl_wire_new_id(env->id);
	return 0;
}

/* A hello names its sender; a mismatch is a confused or lying peer. */
static int check_hello_sender(const struct hl_wire_envelope *env, const json_t *body,
                              struct hl_wire_error *err)
{
	if (env->type != HL_WIRE_T_HELLO)
		return 0;
	const char *name = json_string_value(json_object_get(body, "name"));
	if (name == NULL || strcmp(name, env->from) == 0)
		return 0;
	struct hl_wpath p;
	hl_wpath_init(&p, "body");
	hl_wpath_key(&p, "name");
	return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "\"%s\" is not the sender \"%s\"", name,
	                    env->from);
}

static int check_envelope(const struct hl_wire_envelope *env, struct hl_wire_error *err)
{
	struct hl_wpath p;
	hl_wpath_init(&p, "env");
	char t[HL_TIME_ISO_MAX];
	if ((unsigned)env->type >= HL_WIRE_T_COUNT)
		return hl_wire_fail(err, HL_WIRE_E_TYPE, &p, "type %d unknown", (int)env->type);
	if (!hl_wire_id_valid(env->id))
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "id is not %d hex digits",
		                    HL_WIRE_ID_LEN);
	if (!hl_wire_name_valid(env->from) || !hl_wire_name_valid(env->to))
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "from/to is not a party name");
	if (env->seq > (uint64_t)INT64_MAX)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "seq out of range");
	if (hl_time_format(env->sent_at, t, sizeof t) != 0)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "sent_at out of range");
	return 0;
}

/* The envelope frame's text (keys in the documented order); NULL on out
 * of memory. env has been checked. */
static char *envelope_text(const struct hl_wire_envelope *env)
{
	char sent[HL_TIME_ISO_MAX];
	hl_time_format(env->sent_at, sent, sizeof sent);
	json_t *e = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I}", "v", HL_WIRE_VERSION, "id",
	                      env->id, "type", hl_wire_type_name(env->type), "from", env->from,
	                      "to", env->to, "sent_at", sent, "seq", (json_int_t)env->seq);
	char *es = e != NULL ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(e);
	return es;
}

int hl_wire_encode_checked(const struct hl_wire_envelope *env, const json_t *body, char **env_out,
                           size_t *env_len, char **body_out, size_t *body_len,
                           struct hl_wire_error *err)
{
	*env_out = NULL;
	*body_out = NULL;
	*env_len = *body_len = 0;
	if (err != NULL)
		memset(err, 0, sizeof *err);
	int rc = check_envelope(env, err);
	if (rc == 0)
		rc = hl_wire_check_body(env->type, body, err);
	if (rc == 0)
		rc = check_hello_sender(env, body, err);
	if (rc != 0)
		return rc;

	char *es = envelope_text(env);
	char *bs = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (es == NULL || bs == NULL) {
		free(es);
		free(bs);
		return HL_ENOMEM;
	}
	*env_out = es;
	*env_len = strlen(es);
	*body_out = bs;
	*body_len = strlen(bs);
	return 0;
}

int hl_wire_encode_envelope(const struct hl_wire_envelope *env, char **env_out, size_t *env_len,
                            struct hl_wire_error *err)
{
	*env_out = NULL;
	*env_len = 0;
	if (err != NULL)
		memset(err, 0, sizeof *err);
	int rc = check_envelope(env, err);
	if (rc != 0)
		return rc;
	char *es = envelope_text(env);
	if (es == NULL)
		return HL_ENOMEM;
	*env_out = es;
	*env_len = strlen(es);
	return 0;
}

int hl_wire_encode(const struct hl_wire_envelope *env, const json_t *body, char **env_out,
                   size_t *env_len, char **body_out, size_t *body_len)
{
	return hl_wire_encode_checked(env, body, env_out, env_len, body_out, body_len, NULL);
}

/* Parse one frame; jansson reads exactly len bytes, refuses \u0000 (no
 * JSON_ALLOW_NUL) and duplicate keys, and stops at its own depth limit. */
int hl_wire_load_frame(const char *what, const void *data, size_t len, json_t **out,
                       struct hl_wire_error *err)
{
	struct hl_wpath p;
	hl_wpath_init(&p, what);
	json_error_t jerr;
	*out = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (*out != NULL)
		return 0;
	enum json_error_code jc = json_error_code(&jerr);
	if (jc == json_error_out_of_memory) {
		hl_wire_fail(err, HL_WIRE_E_INTERNAL, &p, "out of memory");
		return HL_ENOMEM;
	}
	return hl_wire_fail(err, jc == json_error_stack_overflow ? HL_WIRE_E_DEPTH : HL_WIRE_E_JSON,
	                    &p, "%s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
}

static int env_string(json_t *e, const char *key, struct hl_wpath *p, const char **out,
                      struct hl_wire_error *err)
{
	size_t old = hl_wpath_key(p, key);
	json_t *v = json_object_get(e, key);
	int rc = 0;
	if (v == NULL)
		rc = hl_wire_fail(err, HL_WIRE_E_SCHEMA, p, "missing");
	else if (!json_is_string(v))
		rc = hl_wire_fail(err, HL_WIRE_E_SCHEMA, p, "expected a string");
	else
		*out = json_string_value(v);
	hl_wpath_pop(p, old);
	return rc;
}

static const char *const env_keys[] = {"v", "id", "type", "from", "to", "sent_at", "seq"};

static int decode_envelope(json_t *e, struct hl_wire_envelope *out, struct hl_wire_error *err)
{
	struct hl_wpath p;
	hl_wpath_init(&p, "env");
	if (!json_is_object(e))
		return hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "expected an object");

	/* Id and sender first, if readable: a NACK for any later failure
	 * needs them. */
	const char *s = json_string_value(json_object_get(e, "id"));
	if (s != NULL && hl_wire_id_valid(s))
		snprintf(out->id, sizeof out->id, "%s", s);
	s = json_string_value(json_object_get(e, "from"));
	if (s != NULL && hl_wire_name_valid(s))
		snprintf(out->from, sizeof out->from, "%s", s);

	size_t old = hl_wpath_key(&p, "v");
	json_t *v = json_object_get(e, "v");
	if (v == NULL)
		return hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "missing");
	if (!json_is_integer(v))
		return hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "expected an integer");
	out->v = json_integer_value(v);
	if (out->v != HL_WIRE_VERSION)
		return hl_wire_fail(err, HL_WIRE_E_VERSION, &p,
		                    "version %lld not supported (this side speaks %d)",
		                    (long long)out->v, HL_WIRE_VERSION);
	hl_wpath_pop(&p, old);

	if (env_string(e, "type", &p, &s, err) != 0)
		return HL_EINVAL;
	if (hl_wire_type_parse(s, &out->type) != 0) {
		hl_wpath_key(&p, "type");
		return hl_wire_fail(err, HL_WIRE_E_TYPE, &p, "unknown type \"%.40s\"", s);
	}

	if (env_string(e, "id", &p, &s, err) != 0)
		return HL_EINVAL;
	if (!hl_wire_id_valid(s)) {
		hl_wpath_key(&p, "id");
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "not %d lower-case hex digits",
		                    HL_WIRE_ID_LEN);
	}

	const char *names[2] = {"from", "to"};
	char *dst[2] = {out->from, out->to};
	for (int i = 0; i < 2; i++) {
		if (env_string(e, names[i], &p, &s, err) != 0)
			return HL_EINVAL;
		if (!hl_wire_name_valid(s)) {
			hl_wpath_key(&p, names[i]);
			return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "not a party name");
		}
		snprintf(dst[i], HL_WIRE_NAME_MAX + 1, "%s", s);
	}

	if (env_string(e, "sent_at", &p, &s, err) != 0)
		return HL_EINVAL;
	if (hl_wire_time_parse(s, &out->sent_at) != 0) {
		hl_wpath_key(&p, "sent_at");
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "not an RFC 3339 date-time");
	}

	old = hl_wpath_key(&p, "seq");
	v = json_object_get(e, "seq");
	if (v == NULL)
		return hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "missing");
	if (!json_is_integer(v))
		return hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "expected an integer");
	if (json_integer_value(v) < 0)
		return hl_wire_fail(err, HL_WIRE_E_FIELD, &p, "negative");
	out->seq = (uint64_t)json_integer_value(v);
	hl_wpath_pop(&p, old);

	const char *k;
	json_t *m;
	json_object_foreach(e, k, m)
	{
		bool known = false;
		for (size_t i = 0; i < sizeof env_keys / sizeof env_keys[0]; i++)
			known = known || strcmp(k, env_keys[i]) == 0;
		if (!known) {
			hl_wpath_key(&p, k);
			return hl_wire_fail(err, HL_WIRE_E_SCHEMA, &p, "unknown envelope key");
		}
	}
	return 0;
}

int hl_wire_decode(const void *env, size_t env_len, const void *body, size_t body_len,
                   size_t max_bytes, struct hl_wire_envelope *out, json_t **body_out,
                   struct hl_wire_error *err)
{
	struct hl_wire_texts t = {0};
	int rc = hl_wire_decode_texts(env, env_len, body, body_len, max_bytes, out, body_out, &t,
	                              err);
	hl_wire_texts_free(&t);
	return rc;
}

int hl_wire_decode_texts(const void *env, size_t env_len, const void *body, size_t body_len,
                         size_t max_bytes, struct hl_wire_envelope *out, json_t **body_out,
                         struct hl_wire_texts *texts, struct hl_wire_error *err)
{
	hl_wire_texts_reset(texts);
	memset(out, 0, sizeof *out);
	out->type = HL_WIRE_T_COUNT;
	memset(err, 0, sizeof *err);
	*body_out = NULL;
	if (max_bytes == 0)
		max_bytes = HL_WIRE_MAX_DEFAULT;

	struct hl_wpath p;
	hl_wpath_init(&p, "env");
	if (env_len > HL_WIRE_ENV_MAX)
		return hl_wire_fail(err, HL_WIRE_E_OVERSIZE, &p, "%zu bytes, more than %d", env_len,
		                    HL_WIRE_ENV_MAX);
	if (body_len > max_bytes || env_len > max_bytes - body_len) {
		hl_wpath_init(&p, "message");
		return hl_wire_fail(err, HL_WIRE_E_OVERSIZE, &p, "%zu bytes, more than %zu",
		                    env_len + (body_len > SIZE_MAX - env_len ? 0 : body_len),
		                    max_bytes);
	}
	if ((env == NULL && env_len > 0) || (body == NULL && body_len > 0))
		return hl_wire_fail(err, HL_WIRE_E_JSON, NULL, "no data");

	json_t *e = NULL;
	int rc = hl_wire_load_frame("env", env_len > 0 ? env : "", env_len, &e, err);
	if (rc != 0)
		return rc;
	rc = decode_envelope(e, out, err);
	json_decref(e);
	if (rc != 0)
		return rc;

	json_t *b = NULL;
	const char *bp = body_len > 0 ? body : "";
	if (out->type == HL_WIRE_T_SIGHTINGS || out->type == HL_WIRE_T_SIGHTING)
		rc = hl_wire_load_records(bp, body_len, &b, texts, err);
	else
		rc = hl_wire_load_frame("body", bp, body_len, &b, err);
	if (rc != 0) {
		hl_wire_texts_reset(texts);
		return rc;
	}
	rc = hl_wire_check_body(out->type, b, err);
	if (rc == 0)
		rc = check_hello_sender(out, b, err);
	if (rc != 0) {
		json_decref(b);
		hl_wire_texts_reset(texts);
		return rc;
	}
	*body_out = b;
	return 0;
}
