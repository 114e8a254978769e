/* \summary: wire envelope and bodies: round trips and every rejection */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/wire.h"

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"
#define ENV_OF(type)                                                                             \
	"{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"" type "\",\"from\":\"alpha\",\"to\":\"bravo\"," \
	"\"sent_at\":\"2024-06-01T10:00:00.000000Z\",\"seq\":7}"

#define RECORD                                                                                    \
	"{\"first_seen\":\"2024-06-01T10:00:00.000000Z\",\"last_seen\":\"2024-06-01T10:00:01."    \
	"000000Z\",\"count\":2,\"final\":false,\"sensor\":\"edge1\",\"indicator\":{\"id\":\"hl--" \
	"ed152b32b035d8e873341938ca5f75d2\",\"type\":\"domain\",\"value\":\"example.com\","       \
	"\"source\":\"alpha\",\"tlp\":\"green\"},\"match\":{\"field\":\"dns.query\",\"value\":"   \
	"\"www.example.com\"},\"flow\":{\"proto\":\"udp\",\"src_ip\":\"10.0.0.1\",\"src_port\":"  \
	"5353,\"dst_ip\":\"10.0.0.53\",\"dst_port\":53,\"vlan\":[]}}"

#define HASH "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

struct decoded {
	int rc;
	struct hl_wire_envelope env;
	json_t *body;
	struct hl_wire_error err;
};

static struct decoded decode_n(const char *env, size_t env_len, const char *body, size_t body_len,
                               size_t max)
{
	struct decoded d;
	d.rc = hl_wire_decode(env, env_len, body, body_len, max, &d.env, &d.body, &d.err);
	if (d.rc == 0)
		assert_non_null(d.body);
	else
		assert_null(d.body);
	return d;
}

static struct decoded decode(const char *env, const char *body)
{
	return decode_n(env, strlen(env), body, strlen(body), 0);
}

static void expect_reject(const char *env, const char *body, enum hl_wire_err code, const char *msg)
{
	struct decoded d = decode(env, body);
	assert_int_equal(d.rc, HL_EINVAL);
	assert_string_equal(hl_wire_err_name(d.err.code), hl_wire_err_name(code));
	assert_string_equal(d.err.msg, msg);
}

/* ---- round trips ------------------------------------------------------ */

static void round_trip(enum hl_wire_type type, json_t *body)
{
	assert_non_null(body);
	struct hl_wire_envelope env;
	assert_int_equal(
	        hl_wire_envelope_init(&env, type, "alpha", "bravo", 42, 1717236000123456LL), 0);
	char *e, *b;
	size_t el, bl;
	assert_int_equal(hl_wire_encode(&env, body, &e, &el, &b, &bl), 0);
	assert_int_equal(strlen(e), el);
	assert_int_equal(strlen(b), bl);
	struct decoded d = decode_n(e, el, b, bl, 0);
	if (d.rc != 0)
		fail_msg("%s: %s", hl_wire_type_name(type), d.err.msg);
	assert_int_equal(d.env.type, type);
	assert_string_equal(d.env.id, env.id);
	assert_string_equal(d.env.from, "alpha");
	assert_string_equal(d.env.to, "bravo");
	assert_int_equal(d.env.seq, 42);
	assert_int_equal(d.env.sent_at, 1717236000123456LL);
	assert_int_equal(d.env.v, 1);
	assert_int_equal(d.err.ignored_keys, 0);
	assert_true(json_equal(d.body, body));
	json_decref(d.body);
	free(e);
	free(b);
	json_decref(body);
}

static void test_round_trip_each_type(void **state)
{
	(void)state;
	const char *ids[] = {ID1, ID2};
	const char *ind_ids[] = {"hl--ed152b32b035d8e873341938ca5f75d2", "indicator--x"};

	round_trip(HL_WIRE_T_HELLO, hl_wire_body_hello("alpha", "0.1.0", HASH));
	round_trip(HL_WIRE_T_HELLO, hl_wire_body_hello("alpha", "0.1.0", NULL));
	round_trip(HL_WIRE_T_HEARTBEAT, hl_wire_body_heartbeat());
	round_trip(HL_WIRE_T_ACK, hl_wire_body_ack(ids, 2));
	round_trip(HL_WIRE_T_NACK, hl_wire_body_nack(ID1, HL_WIRE_E_VERSION, "speak 1", 1));
	round_trip(HL_WIRE_T_SIGHTING, hl_wire_body_sighting_line(RECORD, strlen(RECORD)));

	json_t *batch = hl_wire_body_sightings();
	json_t *rec = json_loads(RECORD, 0, NULL);
	assert_int_equal(hl_wire_sightings_add(batch, rec), 0);
	assert_int_equal(hl_wire_sightings_add(batch, rec), 0);
	json_decref(rec);
	round_trip(HL_WIRE_T_SIGHTINGS, batch);

	json_t *inds = hl_wire_body_indicators(3, HASH, true);
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup("example.com");
	ind.tlp = HL_TLP_GREEN;
	ind.confidence = 80;
	assert_int_equal(hl_indicator_normalise(&ind, NULL, 0), 0);
	assert_int_equal(hl_wire_indicators_add(inds, &ind), 0);
	hl_indicator_clear(&ind);
	assert_int_equal(json_array_size(json_object_get(inds, "indicators")), 1);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(inds, "indicators"), 0), "id")),
	                    "hl--ed152b32b035d8e873341938ca5f75d2");
	round_trip(HL_WIRE_T_INDICATORS, inds);

	round_trip(HL_WIRE_T_INDICATOR_RETRACT, hl_wire_body_indicator_retract(ind_ids, 2));

	struct hl_wire_request r = {
	        .request_id = "alpha-2024-17",
	        .priority = HL_WIRE_PRIO_HIGH,
	        .subject = "C2 beaconing from your AS",
	        .description = "Hosts in 203.0.113.0/24 beacon every 60 s.\nPlease check.",
	        .respond_by = 1717322400000000LL,
	        .indicators = NULL,
	};
	round_trip(HL_WIRE_T_REQUEST, hl_wire_body_request(&r));
	r.indicators = json_loads("[{\"id\":\"x1\",\"type\":\"ip\",\"value\":\"203.0.113.0/24\","
	                          "\"tlp\":\"amber\",\"tags\":[\"c2\"]}]",
	                          0, NULL);
	assert_non_null(r.indicators);
	round_trip(HL_WIRE_T_REQUEST, hl_wire_body_request(&r));
	json_decref(r.indicators);

	round_trip(
	        HL_WIRE_T_REQUEST_UPDATE,
	        hl_wire_body_request_update("alpha-2024-17", HL_WIRE_STATUS_IN_PROGRESS, "seen"));
	round_trip(HL_WIRE_T_REQUEST_UPDATE,
	           hl_wire_body_request_update("alpha-2024-17", HL_WIRE_STATUS_CLOSED, NULL));
	round_trip(HL_WIRE_T_ESCALATION,
	           hl_wire_body_escalation("esc-1", HL_SEV_CRITICAL, "Ransomware staging",
	                                   "details", "+1 555 0100"));
	round_trip(HL_WIRE_T_ESCALATION_ACK, hl_wire_body_escalation_ack("esc-1", "duty officer"));
	json_t *stats = hl_wire_body_stats();
	json_object_set_new(stats, "outbox", json_integer(3));
	json_object_set_new(stats, "by_type", json_pack("{s:i,s:i}", "ack", 1, "sighting", 9));
	round_trip(HL_WIRE_T_STATS, stats);
}

static void test_encode_shape(void **state)
{
	(void)state;
	struct hl_wire_envelope env;
	assert_int_equal(
	        hl_wire_envelope_init(&env, HL_WIRE_T_ACK, "alpha", "bravo", 7, 1717236000000000LL),
	        0);
	memcpy(env.id, ID1, sizeof env.id);
	const char *ids[] = {ID2};
	json_t *body = hl_wire_body_ack(ids, 1);
	char *e, *b;
	size_t el, bl;
	assert_int_equal(hl_wire_encode(&env, body, &e, &el, &b, &bl), 0);
	assert_string_equal(e, ENV_OF("ack"));
	assert_string_equal(b, "{\"ids\":[\"" ID2 "\"]}");
	free(e);
	free(b);
	json_decref(body);
}

static void test_ids(void **state)
{
	(void)state;
	char a[HL_WIRE_ID_LEN + 1], b[HL_WIRE_ID_LEN + 1];
	hl_wire_new_id(a);
	hl_wire_new_id(b);
	assert_true(hl_wire_id_valid(a));
	assert_true(hl_wire_id_valid(b));
	assert_string_not_equal(a, b);
	assert_false(hl_wire_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(hl_wire_id_valid("0123456789abcdef0123456789abcde"));
	assert_false(hl_wire_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_true(hl_wire_name_valid("bravo-cert.example_2"));
	assert_false(hl_wire_name_valid("-bravo"));
	assert_false(hl_wire_name_valid(".bravo"));
	assert_false(hl_wire_name_valid("bra vo"));
	assert_false(hl_wire_name_valid(""));
	char long_name[66];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(hl_wire_name_valid(long_name));
	long_name[64] = '\0';
	assert_true(hl_wire_name_valid(long_name));
}

static void test_names(void **state)
{
	(void)state;
	for (unsigned t = 0; t < HL_WIRE_T_COUNT; t++) {
		enum hl_wire_type back;
		assert_int_equal(hl_wire_type_parse(hl_wire_type_name(t), &back), 0);
		assert_int_equal(back, t);
	}
	enum hl_wire_type t;
	assert_int_equal(hl_wire_type_parse("Hello", &t), HL_EINVAL);
	assert_string_equal(hl_wire_type_name(HL_WIRE_T_INDICATOR_RETRACT), "indicator_retract");
	for (unsigned c = 1; c < HL_WIRE_E_COUNT; c++)
		assert_int_equal(hl_wire_err_parse(hl_wire_err_name(c)), c);
	assert_int_equal(hl_wire_err_parse("no_such_reason"), HL_WIRE_E_UNKNOWN);
	assert_string_equal(hl_wire_err_name(HL_WIRE_E_OVERSIZE), "oversize");
	enum hl_wire_priority p;
	assert_int_equal(hl_wire_priority_parse("critical", &p), 0);
	assert_int_equal(p, HL_WIRE_PRIO_CRITICAL);
	enum hl_wire_status s;
	assert_int_equal(hl_wire_status_parse("in_progress", &s), 0);
	assert_int_equal(s, HL_WIRE_STATUS_IN_PROGRESS);
	assert_int_equal(hl_wire_status_parse("done", &s), HL_EINVAL);
}

/* ---- envelope rejections --------------------------------------------- */

static void test_reject_version(void **state)
{
	(void)state;
	const char *env = "{\"v\":2,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"alpha\","
	                  "\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00Z\",\"seq\":1,"
	                  "\"new\":true}";
	struct decoded d = decode(env, "{}");
	assert_int_equal(d.rc, HL_EINVAL);
	assert_int_equal(d.err.code, HL_WIRE_E_VERSION);
	assert_string_equal(d.err.msg, "env.v: version 2 not supported (this side speaks 1)");
	/* What a NACK needs survives the rejection. */
	assert_string_equal(d.env.id, ID1);
	assert_string_equal(d.env.from, "alpha");
	assert_int_equal(d.env.v, 2);

	expect_reject("{\"v\":\"1\",\"id\":\"" ID1 "\"}", "{}", HL_WIRE_E_SCHEMA,
	              "env.v: expected an integer");
	expect_reject("{\"id\":\"" ID1 "\"}", "{}", HL_WIRE_E_SCHEMA, "env.v: missing");
	expect_reject("{\"v\":0}", "{}", HL_WIRE_E_VERSION,
	              "env.v: version 0 not supported (this side speaks 1)");
}

static void test_reject_envelope_fields(void **state)
{
	(void)state;
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"gossip\",\"from\":\"alpha\","
	              "\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00Z\",\"seq\":1}",
	              "{}", HL_WIRE_E_TYPE, "env.type: unknown type \"gossip\"");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":7}", "{}", HL_WIRE_E_SCHEMA,
	              "env.type: expected a string");
	expect_reject("{\"v\":1,\"id\":\"XYZ\",\"type\":\"heartbeat\"}", "{}", HL_WIRE_E_FIELD,
	              "env.id: not 32 lower-case hex digits");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"al pha\"}",
	              "{}", HL_WIRE_E_FIELD, "env.from: not a party name");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"alpha\"}",
	              "{}", HL_WIRE_E_SCHEMA, "env.to: missing");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"alpha\","
	              "\"to\":\"bravo\",\"sent_at\":\"2024-06-01\",\"seq\":1}",
	              "{}", HL_WIRE_E_FIELD, "env.sent_at: not an RFC 3339 date-time");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"alpha\","
	              "\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00Z\",\"seq\":-1}",
	              "{}", HL_WIRE_E_FIELD, "env.seq: negative");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"alpha\","
	              "\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00Z\",\"seq\":1.5}",
	              "{}", HL_WIRE_E_SCHEMA, "env.seq: expected an integer");
	expect_reject("{\"v\":1,\"id\":\"" ID1 "\",\"type\":\"heartbeat\",\"from\":\"alpha\","
	              "\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00Z\",\"seq\":1,"
	              "\"trace\":\"x\"}",
	              "{}", HL_WIRE_E_SCHEMA, "env.trace: unknown envelope key");
	expect_reject("[1]", "{}", HL_WIRE_E_SCHEMA, "env: expected an object");
}

static void test_reject_json(void **state)
{
	(void)state;
	struct decoded d = decode(ENV_OF("heartbeat"), "hello");
	assert_int_equal(d.rc, HL_EINVAL);
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	assert_string_equal(d.err.msg, "body: invalid token near 'hello' (line 1, column 5)");

	/* Truncated: the frame ends inside a string. */
	d = decode(ENV_OF("ack"), "{\"ids\":[\"0123");
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	assert_true(strncmp(d.err.msg, "body: premature end of input", 28) == 0);

	/* Truncated envelope. */
	d = decode_n(ENV_OF("ack"), 20, "{}", 2, 0);
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	assert_true(strncmp(d.err.msg, "env: ", 5) == 0);

	/* Empty frames. */
	d = decode_n("", 0, "{}", 2, 0);
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	d = decode_n(ENV_OF("heartbeat"), strlen(ENV_OF("heartbeat")), NULL, 0, 0);
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	assert_true(strncmp(d.err.msg, "body: ", 6) == 0);

	/* An escaped NUL in a string. */
	d = decode(ENV_OF("escalation_ack"), "{\"escalation_id\":\"e1\",\"by\":\"a\\u0000b\"}");
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	assert_string_equal(d.err.msg, "body: \\u0000 is not allowed without JSON_ALLOW_NUL near "
	                               "'\"a\\u0000b\"' (line 1, column 37)");

	/* A raw NUL byte inside the frame: the length is what counts. */
	static const char raw[] = "{\"escalation_id\":\"e1\",\"by\":\"a\0b\"}";
	d = decode_n(ENV_OF("escalation_ack"), strlen(ENV_OF("escalation_ack")), raw,
	             sizeof raw - 1, 0);
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);

	/* Trailing garbage after the object. */
	d = decode(ENV_OF("heartbeat"), "{} {}");
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);

	/* Duplicate keys. */
	d = decode(ENV_OF("escalation_ack"),
	           "{\"escalation_id\":\"e1\",\"by\":\"a\",\"by\":\"b\"}");
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
	assert_true(strncmp(d.err.msg, "body: duplicate object key", 26) == 0);

	/* Invalid UTF-8. */
	d = decode(ENV_OF("escalation_ack"), "{\"escalation_id\":\"e1\",\"by\":\"\xff\"}");
	assert_int_equal(d.err.code, HL_WIRE_E_JSON);
}

static void test_reject_oversize(void **state)
{
	(void)state;
	const char *env = ENV_OF("stats");
	size_t el = strlen(env);
	struct decoded d = decode_n(env, el, "{\"a\":\"0123456789\"}", 18, el + 17);
	assert_int_equal(d.err.code, HL_WIRE_E_OVERSIZE);
	char want[128];
	snprintf(want, sizeof want, "message: %zu bytes, more than %zu", el + 18, el + 17);
	assert_string_equal(d.err.msg, want);
	d = decode_n(env, el, "{\"a\":\"0123456789\"}", 18, el + 18);
	assert_int_equal(d.rc, 0);
	json_decref(d.body);

	char big[2048];
	memset(big, ' ', sizeof big);
	memcpy(big, env, el);
	d = decode_n(big, sizeof big, "{}", 2, 0);
	assert_int_equal(d.err.code, HL_WIRE_E_OVERSIZE);
	assert_string_equal(d.err.msg, "env: 2048 bytes, more than 1024");

	/* Lengths whose sum wraps around are not small. */
	d = decode_n(env, el, "{}", SIZE_MAX - 1, 100);
	assert_int_equal(d.err.code, HL_WIRE_E_OVERSIZE);
}

/* ---- body rejections -------------------------------------------------- */

static void test_reject_body_structure(void **state)
{
	(void)state;
	expect_reject(ENV_OF("heartbeat"), "[]", HL_WIRE_E_SCHEMA,
	              "body: expected an object, got an array");
	expect_reject(ENV_OF("heartbeat"), "\"x\"", HL_WIRE_E_SCHEMA,
	              "body: expected an object, got a string");
	expect_reject(ENV_OF("ack"), "{}", HL_WIRE_E_SCHEMA, "body.ids: missing");
	expect_reject(ENV_OF("ack"), "{\"ids\":\"" ID1 "\"}", HL_WIRE_E_SCHEMA,
	              "body.ids: expected an array, got a string");
	expect_reject(ENV_OF("ack"), "{\"ids\":[]}", HL_WIRE_E_FIELD,
	              "body.ids: too few items (0, at least 1)");
	expect_reject(ENV_OF("ack"), "{\"ids\":[\"" ID1 "\",\"nothex\"]}", HL_WIRE_E_FIELD,
	              "body.ids[1]: not 32 lower-case hex digits");
	expect_reject(ENV_OF("hello"), "{\"name\":\"bravo\",\"version\":\"1\"}", HL_WIRE_E_FIELD,
	              "body.name: \"bravo\" is not the sender \"alpha\"");
	expect_reject(ENV_OF("hello"), "{\"name\":\"alpha\",\"version\":\"1\",\"set_hash\":\"ab\"}",
	              HL_WIRE_E_FIELD, "body.set_hash: not 64 lower-case hex digits");
	expect_reject(
	        ENV_OF("nack"), "{\"id\":\"" ID1 "\",\"reason_code\":\"Bad Code\",\"reason\":\"\"}",
	        HL_WIRE_E_FIELD, "body.reason_code: not a reason code ([a-z][a-z0-9_], 1..32)");
	expect_reject(ENV_OF("request_update"), "{\"request_id\":\"r1\",\"status\":\"done\"}",
	              HL_WIRE_E_FIELD, "body.status: unknown value \"done\"");
	expect_reject(ENV_OF("escalation"),
	              "{\"escalation_id\":\"e 1\",\"severity\":\"high\",\"summary\":\"s\","
	              "\"details\":\"\"}",
	              HL_WIRE_E_FIELD, "body.escalation_id: not an id ([A-Za-z0-9._:-], 1..64)");
	expect_reject(ENV_OF("escalation"),
	              "{\"escalation_id\":\"e1\",\"severity\":\"unknown\",\"summary\":\"s\","
	              "\"details\":\"\"}",
	              HL_WIRE_E_FIELD, "body.severity: unknown value \"unknown\"");
	expect_reject(ENV_OF("escalation_ack"), "{\"escalation_id\":\"e1\",\"by\":\"a\\nb\"}",
	              HL_WIRE_E_FIELD, "body.by: contains a control character");
	expect_reject(ENV_OF("indicators"),
	              "{\"set_version\":-1,\"set_hash\":\"" HASH "\",\"full\":true,"
	              "\"indicators\":[]}",
	              HL_WIRE_E_FIELD,
	              "body.set_version: out of range (-1, expected 0..9223372036854775807)");
	expect_reject(ENV_OF("indicators"),
	              "{\"set_version\":1,\"set_hash\":\"" HASH "\",\"full\":1,\"indicators\":[]}",
	              HL_WIRE_E_SCHEMA, "body.full: expected a boolean, got an integer");
	expect_reject(ENV_OF("indicators"),
	              "{\"set_version\":1,\"set_hash\":\"" HASH "\",\"full\":false,\"indicators\":"
	              "[{\"id\":\"a\",\"type\":\"ip\",\"value\":\"1.2.3.4\",\"tlp\":\"amber\"},"
	              "{\"id\":\"b\",\"type\":\"ip\",\"value\":\"1.2.3.5\",\"tlp\":\"amber\","
	              "\"confidence\":101}]}",
	              HL_WIRE_E_FIELD,
	              "body.indicators[1].confidence: out of range (101, expected 0..100)");
	expect_reject(ENV_OF("indicators"),
	              "{\"set_version\":1,\"set_hash\":\"" HASH "\",\"full\":false,\"indicators\":"
	              "[{\"id\":\"a\",\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"tlp\":\"amber\"}]}",
	              HL_WIRE_E_FIELD, "body.indicators[0].type: unknown value \"ipv4\"");
	expect_reject(ENV_OF("indicators"),
	              "{\"set_version\":1,\"set_hash\":\"" HASH "\",\"full\":false,\"indicators\":"
	              "[{\"id\":\"a\",\"type\":\"ip\",\"value\":\"1.2.3.4\",\"tlp\":\"amber\","
	              "\"tags\":[\"ok\",7]}]}",
	              HL_WIRE_E_SCHEMA,
	              "body.indicators[0].tags[1]: expected a string, got an integer");
	expect_reject(ENV_OF("request"),
	              "{\"request_id\":\"r1\",\"priority\":\"normal\",\"subject\":\"s\","
	              "\"description\":\"d\",\"respond_by\":\"tomorrow\"}",
	              HL_WIRE_E_FIELD, "body.respond_by: not an RFC 3339 date-time");
}

static char *sightings_with(size_t n, size_t bad, const char *bad_record)
{
	size_t cap = 64 + n * (strlen(RECORD) + strlen(bad_record) + 2);
	char *s = malloc(cap);
	assert_non_null(s);
	size_t len = (size_t)snprintf(s, cap, "{\"records\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "",
		                        i == bad ? bad_record : RECORD);
	snprintf(s + len, cap - len, "]}");
	return s;
}

static void test_reject_sighting_records(void **state)
{
	(void)state;
	const char *no_id =
	        "{\"first_seen\":\"2024-06-01T10:00:00Z\",\"last_seen\":\"2024-06-01T10:00:00Z\","
	        "\"count\":1,\"indicator\":{\"type\":\"ip\",\"value\":\"1.2.3.4\"},"
	        "\"match\":{\"field\":\"dst_ip\"}}";
	char *body = sightings_with(5, 3, no_id);
	expect_reject(ENV_OF("sightings"), body, HL_WIRE_E_SCHEMA,
	              "body.records[3].indicator.id: missing");
	free(body);

	const char *backwards =
	        "{\"first_seen\":\"2024-06-01T10:00:01Z\",\"last_seen\":\"2024-06-01T10:00:00Z\","
	        "\"count\":1,\"indicator\":{\"id\":\"i\",\"type\":\"ip\",\"value\":\"1.2.3.4\"},"
	        "\"match\":{\"field\":\"dst_ip\"}}";
	body = sightings_with(2, 1, backwards);
	expect_reject(ENV_OF("sightings"), body, HL_WIRE_E_FIELD,
	              "body.records[1].last_seen: before first_seen");
	free(body);

	const char *zero =
	        "{\"first_seen\":\"2024-06-01T10:00:00Z\",\"last_seen\":\"2024-06-01T10:00:00Z\","
	        "\"count\":0,\"indicator\":{\"id\":\"i\",\"type\":\"ip\",\"value\":\"1.2.3.4\"},"
	        "\"match\":{\"field\":\"dst_ip\"}}";
	body = sightings_with(1, 0, zero);
	expect_reject(ENV_OF("sightings"), body, HL_WIRE_E_FIELD,
	              "body.records[0].count: out of range (0, expected 1..9223372036854775807)");
	free(body);

	const char *bad_field =
	        "{\"first_seen\":\"2024-06-01T10:00:00Z\",\"last_seen\":\"2024-06-01T10:00:00Z\","
	        "\"count\":1,\"indicator\":{\"id\":\"i\",\"type\":\"ip\",\"value\":\"1.2.3.4\"},"
	        "\"match\":{\"field\":\"smtp.from\"}}";
	body = sightings_with(1, 0, bad_field);
	expect_reject(ENV_OF("sightings"), body, HL_WIRE_E_FIELD,
	              "body.records[0].match.field: unknown value \"smtp.from\"");
	free(body);

	expect_reject(ENV_OF("sighting"), "{\"record\":[]}", HL_WIRE_E_SCHEMA,
	              "body.record: expected an object, got an array");

	/* Too many records: the batch cap. */
	body = sightings_with(HL_WIRE_BATCH_MAX + 1, SIZE_MAX, "");
	struct decoded d = decode_n(ENV_OF("sightings"), strlen(ENV_OF("sightings")), body,
	                            strlen(body), 4 * 1024 * 1024);
	assert_int_equal(d.err.code, HL_WIRE_E_FIELD);
	assert_string_equal(d.err.msg, "body.records: too many items (1001, at most 1000)");
	free(body);
}

static void test_reject_lengths(void **state)
{
	(void)state;
	char subject[HL_WIRE_LINE_MAX + 2];
	memset(subject, 's', sizeof subject);
	subject[HL_WIRE_LINE_MAX + 1] = '\0';
	char body[1024];
	snprintf(body, sizeof body,
	         "{\"request_id\":\"r1\",\"priority\":\"low\",\"subject\":\"%s\","
	         "\"description\":\"d\",\"respond_by\":\"2024-06-02T10:00:00Z\"}",
	         subject);
	expect_reject(ENV_OF("request"), body, HL_WIRE_E_FIELD,
	              "body.subject: too long (257 bytes, at most 256)");
	subject[HL_WIRE_LINE_MAX] = '\0';
	snprintf(body, sizeof body,
	         "{\"request_id\":\"r1\",\"priority\":\"low\",\"subject\":\"%s\","
	         "\"description\":\"d\",\"respond_by\":\"2024-06-02T10:00:00Z\"}",
	         subject);
	struct decoded d = decode(ENV_OF("request"), body);
	assert_int_equal(d.rc, 0);
	json_decref(d.body);
	expect_reject(ENV_OF("request"),
	              "{\"request_id\":\"r1\",\"priority\":\"low\",\"subject\":\"\","
	              "\"description\":\"d\",\"respond_by\":\"2024-06-02T10:00:00Z\"}",
	              HL_WIRE_E_FIELD, "body.subject: empty");

	/* Array cap: 1001 ids in an ack. */
	size_t cap = 16 + (HL_WIRE_BATCH_MAX + 1) * 35;
	char *ack = malloc(cap);
	size_t len = (size_t)snprintf(ack, cap, "{\"ids\":[");
	for (size_t i = 0; i <= HL_WIRE_BATCH_MAX; i++)
		len += (size_t)snprintf(ack + len, cap - len, "%s\"" ID1 "\"", i ? "," : "");
	snprintf(ack + len, cap - len, "]}");
	expect_reject(ENV_OF("ack"), ack, HL_WIRE_E_FIELD,
	              "body.ids: too many items (1001, at most 1000)");
	free(ack);
}

static void test_reject_depth(void **state)
{
	(void)state;
	char body[256];
	size_t n = 0;
	n += (size_t)snprintf(body + n, sizeof body - n, "{\"a\":");
	for (int i = 0; i < 16; i++)
		body[n++] = '[';
	for (int i = 0; i < 16; i++)
		body[n++] = ']';
	snprintf(body + n, sizeof body - n, "}");
	expect_reject(ENV_OF("heartbeat"), body, HL_WIRE_E_DEPTH, "body: nested deeper than 16");

	/* Deeper than jansson's own limit: refused by the parser, same code. */
	size_t deep = 5000;
	char *huge = malloc(2 * deep + 8);
	n = 0;
	huge[n++] = '{';
	huge[n++] = '"';
	huge[n++] = 'a';
	huge[n++] = '"';
	huge[n++] = ':';
	for (size_t i = 0; i < deep; i++)
		huge[n++] = '[';
	for (size_t i = 0; i < deep; i++)
		huge[n++] = ']';
	huge[n++] = '}';
	struct decoded d = decode_n(ENV_OF("heartbeat"), strlen(ENV_OF("heartbeat")), huge, n, 0);
	assert_int_equal(d.err.code, HL_WIRE_E_DEPTH);
	free(huge);

	/* stats: free-form but small. */
	struct decoded ok = decode(ENV_OF("stats"), "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}");
	assert_int_equal(ok.rc, 0);
	json_decref(ok.body);
	expect_reject(ENV_OF("stats"), "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", HL_WIRE_E_DEPTH,
	              "body.a.b.c.d: nested deeper than 4");
}

static void test_unknown_body_keys_ignored(void **state)
{
	(void)state;
	struct decoded d = decode(ENV_OF("escalation_ack"),
	                          "{\"escalation_id\":\"e1\",\"by\":\"x\",\"zeta\":1,\"alpha\":2}");
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.err.ignored_keys, 2);
	assert_true(strcmp(d.err.ignored_key, "body.zeta") == 0 ||
	            strcmp(d.err.ignored_key, "body.alpha") == 0);
	json_decref(d.body);

	/* Extra keys inside a record are the record's own business. */
	d = decode(ENV_OF("sighting"), "{\"record\":" RECORD "}");
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.err.ignored_keys, 0);
	json_decref(d.body);
}

static void test_encode_refuses_bad(void **state)
{
	(void)state;
	struct hl_wire_envelope env;
	assert_int_equal(hl_wire_envelope_init(&env, HL_WIRE_T_ACK, "alpha", "bravo", 1, 0), 0);
	json_t *body = json_pack("{s:[s]}", "ids", "short");
	char *e = (char *)1, *b = (char *)1;
	size_t el, bl;
	struct hl_wire_error err;
	assert_int_equal(hl_wire_encode_checked(&env, body, &e, &el, &b, &bl, &err), HL_EINVAL);
	assert_null(e);
	assert_null(b);
	assert_string_equal(err.msg, "body.ids[0]: not 32 lower-case hex digits");
	json_decref(body);

	assert_int_equal(hl_wire_envelope_init(&env, HL_WIRE_T_ACK, "al pha", "bravo", 1, 0),
	                 HL_EINVAL);
	assert_int_equal(
	        hl_wire_envelope_init(&env, HL_WIRE_T_ACK, "alpha", "bravo", UINT64_MAX, 0),
	        HL_EINVAL);
	assert_int_equal(hl_wire_envelope_init(&env, HL_WIRE_T_COUNT, "alpha", "bravo", 1, 0),
	                 HL_EINVAL);

	/* hello sent under another name */
	assert_int_equal(hl_wire_envelope_init(&env, HL_WIRE_T_HELLO, "alpha", "bravo", 1, 0), 0);
	body = hl_wire_body_hello("bravo", "1", NULL);
	assert_int_equal(hl_wire_encode_checked(&env, body, &e, &el, &b, &bl, &err), HL_EINVAL);
	assert_int_equal(err.code, HL_WIRE_E_FIELD);
	json_decref(body);
}

static void test_constructors_refuse_bad(void **state)
{
	(void)state;
	const char *bad[] = {"nothex"};
	assert_null(hl_wire_body_ack(bad, 1));
	assert_null(hl_wire_body_ack(NULL, 0));
	assert_null(hl_wire_body_hello("alpha", NULL, NULL));
	assert_null(hl_wire_body_hello("al pha", "1", NULL));
	assert_null(hl_wire_body_nack(ID1, HL_WIRE_OK, "x", 0));
	assert_null(hl_wire_body_escalation("e1", HL_SEV_UNKNOWN, "s", "d", NULL));
	assert_null(hl_wire_body_request_update("r1", HL_WIRE_STATUS_COUNT, NULL));
	assert_null(hl_wire_body_sighting_line("{\"x\":1}", 7));
	assert_null(hl_wire_body_sighting_line(RECORD, 20));
	assert_null(hl_wire_body_indicators(1, "abc", true));
	json_t *batch = hl_wire_body_sightings();
	json_t *rec = json_pack("{s:s}", "first_seen", "x");
	assert_int_equal(hl_wire_sightings_add(batch, rec), HL_EINVAL);
	json_decref(rec);
	json_decref(batch);
	char long_subject[HL_WIRE_LINE_MAX + 2];
	memset(long_subject, 'x', sizeof long_subject - 1);
	long_subject[sizeof long_subject - 1] = '\0';
	struct hl_wire_request r = {"r1", HL_WIRE_PRIO_LOW, long_subject, "d", 0, NULL};
	assert_null(hl_wire_body_request(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip_each_type),
	        cmocka_unit_test(test_encode_shape),
	        cmocka_unit_test(test_ids),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_reject_version),
	        cmocka_unit_test(test_reject_envelope_fields),
	        cmocka_unit_test(test_reject_json),
	        cmocka_unit_test(test_reject_oversize),
	        cmocka_unit_test(test_reject_body_structure),
	        cmocka_unit_test(test_reject_sighting_records),
	        cmocka_unit_test(test_reject_lengths),
	        cmocka_unit_test(test_reject_depth),
	        cmocka_unit_test(test_unknown_body_keys_ignored),
	        cmocka_unit_test(test_encode_refuses_bad),
	        cmocka_unit_test(test_constructors_refuse_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
