/* \summary: integration: hotline-ctl indicators -> the sharer's store -> a sensor's link; a peer's
 * set
 *
 * A real hotline-sharer ("alpha"), the real hotline-ctl, and the sensor's
 * own link (sensor/sharer_link.h) on the local ipc socket with an
 * on_indicators callback: what the analyst adds and retracts arrives at the
 * sensor as whole sets with the version and hash the sharer recorded. A
 * peer ("bravo") is played by a raw CURVE client: its indicators are
 * stored once, its hostile ones refused.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zmq.h>

#include "hotline/err.h"
#include "hotline/iset.h"
#include "hotline/parse.h"
#include "hotline/wire.h"
#include "sharer_harness.h"
#include "sharer_link.h"
#include "store.h"

struct seen {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned calls;
	uint64_t version;
	char hash[65];
	size_t count;
	bool has_id[4]; /* the test's ids 0..3 */
};

struct pair {
	struct h_env e;
	struct h_party a, b;
	struct seen seen;
};

static const char *const IDS[4] = {"hl--push-test-ip", "hl--push-test-domain", "hl--push-test-url",
                                   "hl--push-test-other"};

static void link_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= 1)
		fprintf(stderr, "sensor link: %s\n", msg);
}

static int on_set(void *ctx, uint64_t version, const char *hash, const struct hl_iset *set)
{
	struct seen *s = ctx;
	pthread_mutex_lock(&s->mu);
	s->calls++;
	s->version = version;
	snprintf(s->hash, sizeof s->hash, "%s", hash);
	s->count = hl_iset_count(set);
	for (int i = 0; i < 4; i++)
		s->has_id[i] = hl_iset_find_id(set, IDS[i]) != NULL;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Wait until the callback saw version (or fail at the deadline). */
static void wait_version(struct seen *s, uint64_t version)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += H_DEADLINE_MS / 1000;
	pthread_mutex_lock(&s->mu);
	while (s->version != version)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0)
			break;
	uint64_t got = s->version;
	pthread_mutex_unlock(&s->mu);
	if (got != version)
		fail_msg("the sensor link has set version %llu, want %llu", (unsigned long long)got,
		         (unsigned long long)version);
}

/* The link's push stats once it counted `sets` sets (they are counted
 * just after the callback returns). */
static void push_stats(hl_sharer_link_t *l, unsigned long sets,
                       struct hl_sharer_link_push_stats *ps)
{
	for (int i = 0; i < H_DEADLINE_MS / H_POLL_MS; i++) {
		hl_sharer_link_push_stats(l, ps);
		if (ps->sets >= sets)
			return;
		struct timespec ts = {0, H_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	fail_msg("the link counted %lu sets, want %lu", ps->sets, sets);
}

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	assert_non_null(p);
	pthread_mutex_init(&p->seen.mu, NULL);
	pthread_cond_init(&p->seen.cv, NULL);
	h_env_init(&p->e);
	h_party_setup(&p->e, &p->a, "alpha");
	h_party_setup(&p->e, &p->b, "bravo");
	const struct h_party *to_b[] = {&p->b};
	/* bravo is listed without endpoint: alpha does not dial it (the test
	 * plays bravo with a raw client). */
	p->b.not_dialled = true;
	h_write_config(&p->e, &p->a, to_b, 1, "limits:\n  resend_min: 1s\n");
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	if (p->a.pid != 0)
		h_kill9(&p->a);
	h_env_cleanup(&p->e);
	pthread_mutex_destroy(&p->seen.mu);
	pthread_cond_destroy(&p->seen.cv);
	free(p);
	return 0;
}

static hl_sharer_link_t *sensor_link(struct pair *p)
{
	char err[256];
	struct hl_sharer_link_opts o = {.endpoint = p->a.sensor,
	                                .name = "sensor1",
	                                .to = "alpha",
	                                .resend_ms = 2000,
	                                .log = link_log,
	                                .on_indicators = on_set,
	                                .on_indicators_ctx = &p->seen};
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	if (l == NULL)
		fail_msg("sharer link: %s", err);
	return l;
}

/* hotline-ctl ARGS... against alpha: exit code; stdout and stderr. */
static int ctl(struct pair *p, char **out, char **err, ...)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = (char *)HOTLINE_CTL_BIN;
	argv[n++] = "--socket";
	argv[n++] = p->a.control;
	va_list ap;
	va_start(ap, err);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		assert_true(n < 15);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return h_run(&p->e, argv, out, err);
}

static void write_text(struct pair *p, const char *name, const char *text, char *path,
                       size_t pathlen)
{
	h_path(&p->e, name, path, pathlen);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The set hash of a file, computed here with the rules library. */
static void file_hash(const char *path, char out[65])
{
	hl_iset_t *set = hl_iset_new();
	struct hl_diag diag = {0};
	assert_int_equal(hl_parse_file(path, NULL, set, &diag), 0);
	assert_int_equal(diag.errors, 0);
	uint8_t h[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(set, h), 0);
	hl_hex(h, sizeof h, out);
	hl_iset_destroy(&set);
}

static const char THREE[] =
        "{\"id\":\"hl--push-test-ip\",\"type\":\"ip\",\"value\":\"198.51.100.7\",\"tlp\":\"green\"}"
        "\n"
        "{\"id\":\"hl--push-test-domain\",\"type\":\"domain\",\"value\":\"evil.example\","
        "\"tlp\":\"green\"}\n"
        "{\"id\":\"hl--push-test-url\",\"type\":\"url\",\"value\":\"http://evil.example/x\","
        "\"tlp\":\"amber\"}\n";

/* 1. add, a bad file, retract: each version reaches the sensor whole. */
static void test_add_retract_push(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	hl_sharer_link_t *l = sensor_link(p);

	char good[512], bad[512], two[512];
	write_text(p, "three.jsonl", THREE, good, sizeof good);
	char *out = NULL, *err = NULL;
	assert_int_equal(ctl(p, &out, &err, "indicators", "add", good, NULL), 0);
	assert_non_null(strstr(out, "3 added, 0 updated, 0 unchanged"));
	assert_non_null(strstr(out, "set version: 1 (3 active)"));
	free(out);
	free(err);

	wait_version(&p->seen, 1);
	char want[65];
	file_hash(good, want);
	pthread_mutex_lock(&p->seen.mu);
	assert_string_equal(p->seen.hash, want);
	assert_int_equal(p->seen.count, 3);
	assert_true(p->seen.has_id[0] && p->seen.has_id[1] && p->seen.has_id[2]);
	pthread_mutex_unlock(&p->seen.mu);
	json_t *r = h_ctl(&p->a, "indicators-list");
	assert_int_equal(json_integer_value(json_object_get(r, "set_version")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "set_hash")), want);
	assert_int_equal(json_array_size(json_object_get(r, "indicators")), 3);
	json_decref(r);

	/* A bad line: FILE:LINE on stderr, exit 1, nothing stored. */
	write_text(p, "bad.jsonl",
	           "{\"id\":\"hl--push-test-other\",\"type\":\"ip\",\"value\":\"203.0.113.9\"}\n"
	           "{\"type\":\"ip\",\"value\":\"300.1.2.3\"}\n",
	           bad, sizeof bad);
	assert_int_equal(ctl(p, &out, &err, "indicators", "add", bad, NULL), 1);
	char where[600];
	snprintf(where, sizeof where, "%s:2:", bad);
	if (strstr(err, where) == NULL)
		fail_msg("want \"%s\" in: %s", where, err);
	assert_non_null(strstr(err, "nothing stored"));
	free(out);
	free(err);
	assert_int_equal(ctl(p, &out, &err, "indicators", "list", NULL), 0);
	assert_non_null(strstr(out, "set version: 1,"));
	assert_null(strstr(out, "hl--push-test-other"));
	free(out);
	free(err);

	/* The same file again changes nothing: no new version. */
	assert_int_equal(ctl(p, &out, &err, "indicators", "add", good, NULL), 0);
	assert_non_null(strstr(out, "0 added, 0 updated, 3 unchanged"));
	assert_non_null(strstr(out, "set version: 1 "));
	free(out);
	free(err);

	/* Retract an unknown id: exit 1, nothing changes. */
	assert_int_equal(ctl(p, &out, &err, "indicators", "retract", IDS[0], "hl--no-such", NULL),
	                 1);
	assert_non_null(strstr(err, "hl--no-such"));
	free(out);
	free(err);

	assert_int_equal(ctl(p, &out, &err, "indicators", "retract", IDS[0], NULL), 0);
	assert_non_null(strstr(out, "1 retracted"));
	assert_non_null(strstr(out, "set version: 2 (2 active)"));
	free(out);
	free(err);
	wait_version(&p->seen, 2);
	assert_int_equal(h_status_int(&p->a, "indicators.set_version"), 2);
	assert_int_equal(h_status_int(&p->a, "indicators.active"), 2);
	assert_int_equal(h_status_int(&p->a, "indicators.retracted"), 1);
	assert_int_equal(ctl(p, &out, &err, "status", NULL), 0);
	assert_non_null(strstr(out, "indicators:    2 active, set version 2;"));
	free(out);
	free(err);
	write_text(p, "two.jsonl", strchr(THREE, '\n') + 1, two, sizeof two);
	file_hash(two, want);
	pthread_mutex_lock(&p->seen.mu);
	assert_string_equal(p->seen.hash, want);
	assert_int_equal(p->seen.count, 2);
	assert_false(p->seen.has_id[0]);
	assert_true(p->seen.has_id[1] && p->seen.has_id[2]);
	pthread_mutex_unlock(&p->seen.mu);

	assert_int_equal(
	        ctl(p, &out, &err, "indicators", "list", "--status", "retracted", "--json", NULL),
	        0);
	assert_non_null(strstr(out, "\"id\":\"hl--push-test-ip\""));
	assert_non_null(strstr(out, "\"status\":\"retracted\""));
	free(out);
	free(err);

	/* A new link (a restarted sensor) is sent the current set on hello. */
	hl_sharer_link_destroy(&l);
	pthread_mutex_lock(&p->seen.mu);
	p->seen.version = 0;
	pthread_mutex_unlock(&p->seen.mu);
	l = sensor_link(p);
	wait_version(&p->seen, 2);
	struct hl_sharer_link_push_stats ps;
	push_stats(l, 1, &ps);
	assert_int_equal(ps.sets, 1);
	assert_int_equal(ps.set_version, 2);
	assert_int_equal(ps.refused, 0);
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
}

/* 2. A set over the per-message limit goes in parts and arrives whole. */
static void test_large_set_in_parts(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	hl_sharer_link_t *l = sensor_link(p);
	char path[512];
	h_path(&p->e, "big.txt", path, sizeof path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	const unsigned n = HL_WIRE_INDICATORS_MAX + 500;
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "10.%u.%u.%u\n", i >> 16, (i >> 8) & 255, i & 255);
	assert_int_equal(fclose(f), 0);
	char *out = NULL, *err = NULL;
	assert_int_equal(ctl(p, &out, &err, "--timeout", "30000", "indicators", "add", path,
	                     "--format", "list", NULL),
	                 0);
	free(out);
	free(err);
	wait_version(&p->seen, 1);
	char want[65];
	file_hash(path, want);
	pthread_mutex_lock(&p->seen.mu);
	assert_int_equal(p->seen.count, n);
	assert_string_equal(p->seen.hash, want);
	pthread_mutex_unlock(&p->seen.mu);
	struct hl_sharer_link_push_stats ps;
	push_stats(l, 1, &ps);
	assert_true(ps.parts >= 2);
	assert_int_equal(ps.sets, 1);
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
}

/* ---- a peer ------------------------------------------------------------- */

static void envelope(char *out, size_t outlen, unsigned id, const char *type)
{
	int n = snprintf(out, outlen,
	                 "{\"v\":1,\"id\":\"%032x\",\"type\":\"%s\",\"from\":\"bravo\",\"to\":"
	                 "\"alpha\",\"sent_at\":\"2026-01-01T00:00:00.000000Z\",\"seq\":%u}",
	                 id, type, id);
	assert_true(n > 0 && (size_t)n < outlen);
}

static json_t *reply(void *sock, unsigned id, const char *type)
{
	json_t *env, *body;
	if (!h_raw_recv(sock, H_DEADLINE_MS, &env, &body))
		fail_msg("no %s for %032x", type, id);
	assert_string_equal(json_string_value(json_object_get(env, "type")), type);
	char want[40];
	snprintf(want, sizeof want, "%032x", id);
	if (strcmp(type, "ack") == 0)
		assert_string_equal(
		        json_string_value(json_array_get(json_object_get(body, "ids"), 0)), want);
	else
		assert_string_equal(json_string_value(json_object_get(body, "id")), want);
	json_decref(env);
	return body;
}

static size_t peer_count(struct pair *p, enum hl_ind_status st)
{
	char db[512], err[256];
	h_path(&p->e, "alpha.db", db, sizeof db);
	hl_store_t *s = hl_store_open_flags(db, HL_STORE_READONLY, err, sizeof err);
	if (s == NULL)
		fail_msg("%s", err);
	size_t n = 0;
	assert_int_equal(hl_store_peer_indicator_count(s, "bravo", st, &n), 0);
	hl_store_close(&s);
	return n;
}

static const char PEER_SET[] =
        "{\"full\":true,\"set_version\":3,\"set_hash\":"
        "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
        "\"indicators\":[{\"id\":\"hl--peer-one\",\"type\":\"domain\",\"value\":\"bad.example\","
        "\"tlp\":\"green\"},{\"id\":\"hl--peer-two\",\"type\":\"ip\",\"value\":\"192.0.2.1\","
        "\"tlp\":\"green\"}]}";

/* 3. A peer's indicators: stored once, not pushed; hostile ones refused. */
static void test_peer_indicators(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	hl_sharer_link_t *l = sensor_link(p);
	void *ctx = zmq_ctx_new();
	char key[512], env[512];
	h_path(&p->e, "bravo.key", key, sizeof key);
	void *s = h_raw_client(ctx, &p->a, key);

	envelope(env, sizeof env, 1, "indicators");
	h_raw_send(s, env, PEER_SET, strlen(PEER_SET));
	json_decref(reply(s, 1, "ack"));
	h_raw_send(s, env, PEER_SET, strlen(PEER_SET)); /* a resend */
	json_decref(reply(s, 1, "ack"));
	assert_int_equal(h_status_int(&p->a, "exchange.duplicates"), 1);
	assert_int_equal(peer_count(p, HL_IND_ACTIVE), 2);

	/* Hostile: a value the native reader refuses; nothing is stored. */
	static const char BAD[] =
	        "{\"full\":false,\"set_version\":4,\"set_hash\":"
	        "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
	        "\"indicators\":[{\"id\":\"hl--peer-three\",\"type\":\"ip\",\"value\":\"10.0.0.9\","
	        "\"tlp\":\"green\"},{\"id\":\"hl--peer-four\",\"type\":\"ip\",\"value\":"
	        "\"999.0.0.1\",\"tlp\":\"green\"}]}";
	envelope(env, sizeof env, 2, "indicators");
	h_raw_send(s, env, BAD, strlen(BAD));
	json_t *b = reply(s, 2, "nack");
	assert_string_equal(json_string_value(json_object_get(b, "reason_code")), "field");
	assert_non_null(
	        strstr(json_string_value(json_object_get(b, "reason")), "body.indicators[1]"));
	json_decref(b);
	assert_int_equal(h_status_int(&p->a, "exchange.rejected.field"), 1);
	assert_int_equal(peer_count(p, HL_IND_ACTIVE), 2);

	static const char RETRACT[] = "{\"ids\":[\"hl--peer-one\"],\"set_version\":5}";
	envelope(env, sizeof env, 3, "indicator_retract");
	h_raw_send(s, env, RETRACT, strlen(RETRACT));
	json_decref(reply(s, 3, "ack"));
	assert_int_equal(peer_count(p, HL_IND_ACTIVE), 1);
	assert_int_equal(peer_count(p, HL_IND_RETRACTED), 1);
	assert_int_equal(h_status_int(&p->a, "indicators.peer_active"), 1);

	/* Our own set stays empty, and nothing was pushed to the sensor. */
	json_t *r = h_ctl(&p->a, "indicators-list");
	assert_int_equal(json_array_size(json_object_get(r, "indicators")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "set_version")), 0);
	json_decref(r);
	pthread_mutex_lock(&p->seen.mu);
	assert_int_equal(p->seen.calls, 0);
	pthread_mutex_unlock(&p->seen.mu);

	zmq_close(s);
	zmq_ctx_term(ctx);
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_add_retract_push, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_large_set_in_parts, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_peer_indicators, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
