/* \summary: sightings bodies read record by record (wire_records.c) against the whole-body
 * reference
 *
 * The reference is what decode did before: the body parsed whole with
 * duplicate keys refused, then each record written out in canonical form.
 * Every body here, hand-made or mutated from a good batch with a fixed
 * seed, must get the same verdict, the same body and the same texts.
 */
#define _GNU_SOURCE /* memmem */
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

#define ENV                                                                                        \
	"{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"sightings\","             \
	"\"from\":\"alpha\",\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00.000000Z\",\"seq\":" \
	"7}"

/* Canonical: compact, keys sorted. */
#define REC_C(n)                                                                                 \
	"{\"count\":" n ",\"first_seen\":\"2024-06-01T10:00:00.000000Z\",\"indicator\":{\"id\":" \
	"\"i-" n "\",\"type\":\"domain\",\"value\":\"evil.example\"},\"last_seen\":"             \
	"\"2024-06-01T10:00:01.000000Z\",\"match\":{\"field\":\"dns.query\"}}"
/* The same record with its keys in another order. */
#define REC_U(n)                                                                               \
	"{\"first_seen\":\"2024-06-01T10:00:00.000000Z\",\"last_seen\":"                       \
	"\"2024-06-01T10:00:01.000000Z\",\"count\":" n ",\"match\":{\"field\":\"dns.query\"}," \
	"\"indicator\":{\"type\":\"domain\",\"id\":\"i-" n "\",\"value\":\"evil.example\"}}"

struct outcome {
	int rc;
	enum hl_wire_err code;
	json_t *body;
	char **texts;
	size_t n;
};

static void outcome_free(struct outcome *o)
{
	json_decref(o->body);
	for (size_t i = 0; i < o->n; i++)
		free(o->texts[i]);
	free(o->texts);
}

static struct outcome run_fast(const char *body, size_t len)
{
	struct outcome o = {0};
	struct hl_wire_envelope e;
	struct hl_wire_error err;
	struct hl_wire_texts c = {0};
	o.rc = hl_wire_decode_texts(ENV, strlen(ENV), body, len, 0, &e, &o.body, &c, &err);
	o.code = o.rc == 0 ? HL_WIRE_OK : err.code;
	if (o.rc == 0) {
		o.n = c.n;
		o.texts = calloc(c.n + 1, sizeof *o.texts);
		for (size_t i = 0; i < c.n; i++)
			o.texts[i] = strdup(hl_wire_record_text(&c, i));
	} else {
		assert_int_equal(c.n, 0);
	}
	hl_wire_texts_free(&c);
	return o;
}

static struct outcome run_reference(const char *body, size_t len)
{
	struct outcome o = {0};
	json_t *b = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	struct hl_wire_error err;
	if (b == NULL) {
		o.rc = HL_EINVAL;
		o.code = HL_WIRE_E_JSON;
		return o;
	}
	o.rc = hl_wire_check_body(HL_WIRE_T_SIGHTINGS, b, &err);
	if (o.rc != 0) {
		o.code = err.code;
		json_decref(b);
		return o;
	}
	json_t *recs = json_object_get(b, "records");
	o.n = json_array_size(recs);
	o.texts = calloc(o.n + 1, sizeof *o.texts);
	for (size_t i = 0; i < o.n; i++)
		o.texts[i] = json_dumps(json_array_get(recs, i), JSON_COMPACT | JSON_SORT_KEYS);
	o.body = b;
	return o;
}

/* Same verdict, same error class, same body; texts true to the records. */
static void same_as_reference(const char *body, size_t len)
{
	struct outcome f = run_fast(body, len), r = run_reference(body, len);
	if (f.rc != r.rc || f.code != r.code)
		fail_msg("%.*s: fast %d/%s, reference %d/%s", (int)(len > 200 ? 200 : len), body,
		         f.rc, hl_wire_err_name(f.code), r.rc, hl_wire_err_name(r.code));
	if (r.rc == 0) {
		assert_true(json_equal(f.body, r.body));
		assert_int_equal(f.n, r.n);
		json_t *recs = json_object_get(r.body, "records");
		for (size_t i = 0; i < r.n; i++) {
			json_t *again = json_loads(f.texts[i], JSON_REJECT_DUPLICATES, NULL);
			assert_true(json_equal(again, json_array_get(recs, i)));
			json_decref(again);
			assert_true(strcmp(f.texts[i], r.texts[i]) == 0 ||
			            memmem(body, len, f.texts[i], strlen(f.texts[i])) != NULL);
		}
	}
	outcome_free(&f);
	outcome_free(&r);
}

static void canonical_records_are_their_own_text(void **state)
{
	(void)state;
	static const char body[] = "{\"records\":[" REC_C("1") "," REC_C("2") "]}";
	struct outcome f = run_fast(body, sizeof body - 1);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.texts[0], REC_C("1"));
	assert_string_equal(f.texts[1], REC_C("2"));
	outcome_free(&f);
	same_as_reference(body, sizeof body - 1);
}

/* A record's bytes are its text: hashing them gives the id whatever their
 * key order; a body of another layout gets canonical texts. */
static void texts_are_the_bytes_sent_or_canonical(void **state)
{
	(void)state;
	static const char body[] = "{\"records\":[" REC_U("1") "," REC_C("2") "]}";
	struct outcome f = run_fast(body, sizeof body - 1);
	assert_int_equal(f.rc, 0);
	assert_string_equal(f.texts[0], REC_U("1"));
	assert_string_equal(f.texts[1], REC_C("2"));
	outcome_free(&f);
	same_as_reference(body, sizeof body - 1);

	static const char spaced[] = "{ \"records\": [" REC_U("1") ", " REC_C("2") "] }";
	f = run_fast(spaced, sizeof spaced - 1);
	assert_int_equal(f.rc, 0);
	assert_string_equal(f.texts[0], REC_C("1"));
	assert_string_equal(f.texts[1], REC_C("2"));
	outcome_free(&f);
	same_as_reference(spaced, sizeof spaced - 1);
}

static void duplicate_keys_are_refused_in_any_order(void **state)
{
	(void)state;
	/* A repeat at the end of a canonical record, and inside an object. */
	static const char *bodies[] = {
	        "{\"records\":[" REC_C("1") "," REC_C("2") "]}",
	        "{\"records\":[{\"count\":1,\"count\":2,\"first_seen\":\"2024-06-01T10:00:00Z\","
	        "\"indicator\":{\"id\":\"i\",\"type\":\"domain\",\"value\":\"e.example\"},"
	        "\"last_seen\":\"2024-06-01T10:00:00Z\",\"match\":{\"field\":\"dns.query\"}}]}",
	        "{\"records\":[" REC_C(
	                "1") ",{\"count\":1,\"first_seen\":\"2024-06-01T10:00:00Z\","
	                     "\"indicator\":{\"id\":\"i\",\"type\":\"domain\",\"value\":\"e."
	                     "example\","
	                     "\"value\":\"f.example\"},\"last_seen\":\"2024-06-01T10:00:00Z\","
	                     "\"match\":{\"field\":\"dns.query\"}}]}",
	        "{\"records\":[{\"last_seen\":\"2024-06-01T10:00:00Z\",\"count\":1,"
	        "\"first_seen\":\"2024-06-01T10:00:00Z\",\"count\":1,"
	        "\"indicator\":{\"id\":\"i\",\"type\":\"domain\",\"value\":\"e.example\"},"
	        "\"match\":{\"field\":\"dns.query\"}}]}",
	};
	for (size_t i = 1; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct outcome f = run_fast(bodies[i], strlen(bodies[i]));
		assert_int_equal(f.rc, HL_EINVAL);
		assert_int_equal(f.code, HL_WIRE_E_JSON);
		outcome_free(&f);
		same_as_reference(bodies[i], strlen(bodies[i]));
	}
}

static void other_shapes_read_as_before(void **state)
{
	(void)state;
	static const char *bodies[] = {
	        "{ \"records\" : [ " REC_C("1") " , " REC_U("2") " ] }",
	        "{\"records\":[" REC_C("1") "]}\n",
	        "{\"records\":[" REC_C("1") "]} x",
	        "{\"records\":[" REC_C("1") "],\"extra\":1}",
	        "{\"records\":[" REC_C("1") ",]}",
	        "{\"records\":[" REC_C("1") "]",
	        "{\"records\":[]}",
	        "{\"records\":[1]}",
	        "{\"records\":[[]]}",
	        "{\"records\":[" REC_C("1") ",1]}",
	        "{\"records\":[" REC_C("1") "}",
	        "{\"records\":[{\"count\":0}]}",
	        "{\"records\":[{\"a\":\"\\u0000\"}]}",
	        "{\"records\":[",
	        "{\"records\":",
	        "",
	        "[]",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
		same_as_reference(bodies[i], strlen(bodies[i]));
}

static char *batch(size_t n)
{
	size_t cap = 64 + n * (sizeof REC_C("1") + 8);
	char *b = malloc(cap);
	size_t len = (size_t)snprintf(b, cap, "{\"records\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len, "%s" REC_C("1"), i ? "," : "");
	snprintf(b + len, cap - len, "]}");
	return b;
}

static void batch_limit_is_the_schema_s(void **state)
{
	(void)state;
	char *ok = batch(HL_WIRE_BATCH_MAX), *over = batch(HL_WIRE_BATCH_MAX + 1);
	struct outcome f = run_fast(ok, strlen(ok));
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, HL_WIRE_BATCH_MAX);
	outcome_free(&f);
	f = run_fast(over, strlen(over));
	assert_int_equal(f.rc, HL_EINVAL);
	assert_int_equal(f.code, HL_WIRE_E_FIELD);
	outcome_free(&f);
	same_as_reference(over, strlen(over));
	free(ok);
	free(over);
}

/* Cut, repeat, flip and splice a good batch at seeded positions. */
static void mutated_batches_match_the_reference(void **state)
{
	(void)state;
	static const char good[] = "{\"records\":[" REC_C("1") "," REC_U("2") "," REC_C("3") "]}";
	size_t gl = sizeof good - 1;
	char buf[2 * sizeof good];
	uint64_t seed = 0x9e3779b97f4a7c15u;
	static const char pick[] = "{}[],:\" \\0a1\n";
	for (int round = 0; round < 20000; round++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		size_t at = (size_t)(seed % gl), len = gl;
		memcpy(buf, good, gl);
		switch ((seed >> 32) % 4) {
		case 0: /* cut */
			len = at;
			break;
		case 1: /* replace one byte */
			buf[at] = pick[(seed >> 40) % (sizeof pick - 1)];
			break;
		case 2: /* insert one byte */
			memmove(buf + at + 1, buf + at, gl - at);
			buf[at] = pick[(seed >> 40) % (sizeof pick - 1)];
			len = gl + 1;
			break;
		default: { /* repeat a slice (keys, values, records) */
			size_t n = 1 + (size_t)((seed >> 40) % 40);
			if (at + n > gl)
				n = gl - at;
			memmove(buf + at + n, buf + at, gl - at);
			len = gl + n;
			break;
		}
		}
		same_as_reference(buf, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(canonical_records_are_their_own_text),
	        cmocka_unit_test(texts_are_the_bytes_sent_or_canonical),
	        cmocka_unit_test(duplicate_keys_are_refused_in_any_order),
	        cmocka_unit_test(other_shapes_read_as_before),
	        cmocka_unit_test(batch_limit_is_the_schema_s),
	        cmocka_unit_test(mutated_batches_match_the_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
