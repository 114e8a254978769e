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
#include "hotline/timefmt.h"
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

/* `hotline-ctl status --json` (a real process): its indicator_push object
 * must be exactly want (every counter, no other key). */
static void expect_push_counters(struct pair *p, const char *want_text)
{
	char *out = NULL, *err = NULL;
	assert_int_equal(ctl(p, &out, &err, "status", "--json", NULL), 0);
	json_error_t je;
	json_t *r = json_loads(out, 0, &je);
	if (r == NULL)
		fail_msg("status --json is not JSON (%s): %s", je.text, out);
	json_t *want = json_loads(want_text, 0, &je);
	assert_non_null(want);
	const json_t *got = json_object_get(r, "indicator_push");
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("indicator_push is %s, want %s", g ? g : "(none)", want_text);
	}
	json_decref(want);
	json_decref(r);
	free(out);
	free(err);
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
	/* No push may be resent within the test (its counters are checked
	 * exactly): the first resend only after a minute. */
	const struct h_party *to_b[] = {&p->b};
	h_write_config(&p->e, &p->a, to_b, 1, "limits:\n  resend_min: 60s\n");
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

	/* Both pushes ACKed before the link goes (else the new hello would
	 * find one still pending). */
	h_wait_eq(&p->a, "indicator_push.push_acked", 2);

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

	/* Three whole sets pushed (version 1, version 2, version 2 again to
	 * the new link's hello), one part each, each ACKed; two hellos. */
	h_wait_eq(&p->a, "indicator_push.push_acked", 3);
	expect_push_counters(p, "{\"sensor_hellos\":2,\"pushes\":3,\"push_parts\":3,"
	                        "\"push_resent\":0,\"push_failed\":0,\"push_acked\":3,"
	                        "\"push_nacked\":0,\"peer_messages\":0,\"peer_stored\":0,"
	                        "\"peer_retracted\":0,\"peer_refused\":0}");
	assert_int_equal(ctl(p, &out, &err, "status", NULL), 0);
	if (strstr(out, "to sensors:    3 sets pushed in 3 parts (3 acked, 0 refused), 0 resent, "
	                "0 failed; 2 sensor hellos\n") == NULL ||
	    strstr(out, "peer sets:     0 messages stored (0 indicators, 0 retracted), "
	                "0 refused\n") == NULL)
		fail_msg("status:\n%s", out);
	free(out);
	free(err);
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

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One line of `indicators list --peer bravo --json`: exact fields, and the
 * time it was stored no later than before. */
static void expect_peer_row(const char *line, const char *id, const char *type, const char *value,
                            const char *status, long long version, int64_t before)
{
	json_t *o = json_loads(line, 0, NULL);
	if (o == NULL)
		fail_msg("not JSON: %s", line);
	assert_string_equal(json_string_value(json_object_get(o, "id")), id);
	assert_string_equal(json_string_value(json_object_get(o, "type")), type);
	assert_string_equal(json_string_value(json_object_get(o, "value")), value);
	assert_string_equal(json_string_value(json_object_get(o, "tlp")), "green");
	assert_string_equal(json_string_value(json_object_get(o, "status")), status);
	assert_int_equal(json_integer_value(json_object_get(o, "set_version")), version);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "record"), "id")),
	                    id);
	int64_t at = 0;
	assert_int_equal(hl_time_parse(json_string_value(json_object_get(o, "updated_at")), &at),
	                 0);
	if (at <= 0 || at > before)
		fail_msg("%s stored at %lld, after %lld", id, (long long)at, (long long)before);
	json_decref(o);
}

/* Split out into lines (in place); how many. */
static size_t lines(char *out, char **line, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *l = strtok_r(out, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		assert_true(n < max);
		line[n++] = l;
	}
	return n;
}

/* What bravo's set holds, as `hotline-ctl indicators list --peer bravo`
 * shows it: both indicators of PEER_SET, at the peer's version 3. */
static void expect_peer_list(struct pair *p, int64_t before)
{
	char *out = NULL, *err = NULL;
	assert_int_equal(ctl(p, &out, &err, "indicators", "list", "--peer", "bravo", NULL), 0);
	char *line[8];
	size_t n = lines(out, line, 8);
	if (n != 4)
		fail_msg("want a header, column names and 2 rows:\n%s", out);
	assert_string_equal(line[0], "peer bravo: 2 active, 0 retracted; 2 listed (active)");
	assert_true(strncmp(line[1], "ID ", 3) == 0);
	assert_non_null(strstr(line[1], "RECEIVED"));
	/* Canonical order: domain before ip. */
	assert_true(strncmp(line[2], "hl--peer-one ", 13) == 0);
	assert_non_null(strstr(line[2], " domain  green       active          3  20"));
	assert_non_null(strstr(line[2], "  bad.example"));
	assert_true(strncmp(line[3], "hl--peer-two ", 13) == 0);
	assert_non_null(strstr(line[3], " ip      green       active          3  20"));
	assert_non_null(strstr(line[3], "  192.0.2.1"));
	free(out);
	free(err);

	assert_int_equal(
	        ctl(p, &out, &err, "indicators", "list", "--peer", "bravo", "--json", NULL), 0);
	n = lines(out, line, 8);
	assert_int_equal(n, 2);
	expect_peer_row(line[0], "hl--peer-one", "domain", "bad.example", "active", 3, before);
	expect_peer_row(line[1], "hl--peer-two", "ip", "192.0.2.1", "active", 3, before);
	free(out);
	free(err);
}

/* After the retraction (peer version 5): one active, one retracted. */
static void expect_peer_list_after_retract(struct pair *p)
{
	char *out = NULL, *err = NULL;
	int64_t before = now_us();
	assert_int_equal(ctl(p, &out, &err, "indicators", "list", "--peer", "bravo", "--status",
	                     "all", "--json", NULL),
	                 0);
	char *line[8];
	size_t n = lines(out, line, 8);
	assert_int_equal(n, 2);
	expect_peer_row(line[0], "hl--peer-two", "ip", "192.0.2.1", "active", 3, before);
	expect_peer_row(line[1], "hl--peer-one", "domain", "bad.example", "retracted", 5, before);
	free(out);
	free(err);
	assert_int_equal(ctl(p, &out, &err, "indicators", "list", "--peer", "bravo", NULL), 0);
	assert_non_null(strstr(out, "peer bravo: 1 active, 1 retracted; 1 listed (active)\n"));
	assert_null(strstr(out, "hl--peer-one"));
	free(out);
	free(err);
}

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
	expect_peer_list(p, now_us());

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
	expect_peer_list_after_retract(p);

	/* A name alpha neither has configured nor holds anything from. */
	char *out = NULL, *err = NULL;
	assert_int_equal(ctl(p, &out, &err, "indicators", "list", "--peer", "delta", NULL), 1);
	if (strstr(err, "no peer \"delta\"") == NULL)
		fail_msg("stderr: %s", err);
	assert_string_equal(out, "");
	free(out);
	free(err);
	assert_int_equal(ctl(p, &out, &err, "indicators", "list", "--peer", "bravo", "--status",
	                     "quarantined", NULL),
	                 1);
	assert_non_null(strstr(err, "status: \"quarantined\""));
	free(out);
	free(err);

	/* Set (1) and retraction (1) stored; the resend was only a duplicate;
	 * the hostile message refused. The sensor said hello, and was sent
	 * nothing: a peer's set is not ours. */
	expect_push_counters(p, "{\"sensor_hellos\":1,\"pushes\":0,\"push_parts\":0,"
	                        "\"push_resent\":0,\"push_failed\":0,\"push_acked\":0,"
	                        "\"push_nacked\":0,\"peer_messages\":2,\"peer_stored\":2,"
	                        "\"peer_retracted\":1,\"peer_refused\":1}");

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
