/* \summary: unit tests of the indicator plumbing in the sharer: store, version bump, push in parts
 *
 * The control handlers (hl_control_indicators) on a store in a temporary
 * directory: add, update, retract, each change one new set version whose
 * hash is the rules library's hash of the active set; hostile requests
 * store nothing. The push to a sensor: a real local ROUTER (transport) and
 * a DEALER played by the test; the exchange is driven by hand with an
 * injected clock.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "control_int.h"
#include "exchange.h"
#include "hotline/err.h"
#include "hotline/indicator.h"
#include "hotline/iset.h"
#include "hotline/parse.h"
#include "hotline/wire.h"
#include "store.h"
#include "transport.h"

#define DEADLINE_MS 10000
#define T0 1767225600000000LL /* 2026-01-01 */

struct ctx {
	char dir[64];
	char db[128];
	hl_store_t *store;
};

static int setup(void **state)
{
	struct ctx *t = calloc(1, sizeof *t);
	assert_non_null(t);
	snprintf(t->dir, sizeof t->dir, "/tmp/hl-xind-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->db, sizeof t->db, "%s/s.db", t->dir);
	char err[256];
	t->store = hl_store_open(t->db, err, sizeof err);
	assert_non_null(t->store);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *t = *state;
	hl_store_close(&t->store);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static json_t *req(const char *text)
{
	json_error_t je;
	json_t *r = json_loads(text, 0, &je);
	if (r == NULL)
		fail_msg("bad test request: %s", je.text);
	return r;
}

/* Run one control request; the reply must have ok == want_ok. */
static json_t *run(struct ctx *t, const char *cmd, const char *text, bool want_ok, int64_t now)
{
	json_t *r = req(text);
	json_t *rep = hl_control_indicators(t->store, cmd, r, now);
	json_decref(r);
	assert_non_null(rep);
	if (json_is_true(json_object_get(rep, "ok")) != want_ok)
		fail_msg("%s: %s", cmd, json_dumps(rep, JSON_COMPACT));
	return rep;
}

static json_int_t geti(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* The hash the rules library gives these native lines. */
static void hash_of(const char *lines, char out[65])
{
	hl_iset_t *set = hl_iset_new();
	struct hl_diag d = {0};
	assert_int_equal(hl_parse_native("t", lines, strlen(lines), NULL, set, &d), 0);
	assert_int_equal(d.errors, 0);
	uint8_t h[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(set, h), 0);
	hl_hex(h, sizeof h, out);
	hl_iset_destroy(&set);
}

#define IND_A "{\"id\":\"hl--a\",\"tlp\":\"green\",\"type\":\"ip\",\"value\":\"198.51.100.7\"}"
#define IND_B "{\"id\":\"hl--b\",\"tlp\":\"amber\",\"type\":\"domain\",\"value\":\"evil.example\"}"
#define IND_B2 "{\"id\":\"hl--b\",\"tlp\":\"red\",\"type\":\"domain\",\"value\":\"evil.example\"}"

static void expect_version(struct ctx *t, uint64_t v, const char *hash, size_t count)
{
	struct hl_store_set_version sv;
	assert_int_equal(hl_store_set_version_latest(t->store, &sv), 0);
	assert_int_equal(sv.version, v);
	assert_string_equal(sv.hash, hash);
	assert_int_equal(sv.count, count);
}

static void test_add_update_retract_bump(void **state)
{
	struct ctx *t = *state;
	char h[65];
	/* Nothing yet: version 0. */
	json_t *rep = run(t, "indicators-list", "{}", true, T0);
	assert_int_equal(geti(rep, "set_version"), 0);
	assert_string_equal(json_string_value(json_object_get(rep, "set_hash")), "");
	json_decref(rep);

	rep = run(t, "indicators-add", "{\"indicators\":[" IND_A "," IND_B "]}", true, T0 + 1);
	assert_int_equal(geti(rep, "added"), 2);
	assert_int_equal(geti(rep, "set_version"), 1);
	assert_int_equal(geti(rep, "count"), 2);
	hash_of(IND_A "\n" IND_B "\n", h);
	assert_string_equal(json_string_value(json_object_get(rep, "set_hash")), h);
	json_decref(rep);
	expect_version(t, 1, h, 2);

	/* The same again: unchanged, no new version. */
	rep = run(t, "indicators-add", "{\"indicators\":[" IND_B "]}", true, T0 + 2);
	assert_int_equal(geti(rep, "unchanged"), 1);
	assert_int_equal(geti(rep, "set_version"), 1);
	json_decref(rep);

	/* An attribute changes: updated, version 2. */
	rep = run(t, "indicators-add", "{\"indicators\":[" IND_B2 "]}", true, T0 + 3);
	assert_int_equal(geti(rep, "updated"), 1);
	assert_int_equal(geti(rep, "set_version"), 2);
	json_decref(rep);
	hash_of(IND_A "\n" IND_B2 "\n", h);
	expect_version(t, 2, h, 2);

	/* The stored local set reads back to the same hash. */
	hl_iset_t *set = NULL;
	char h2[HL_STORE_HASH_HEX];
	assert_int_equal(hl_store_local_set(t->store, &set, h2), 0);
	assert_string_equal(h2, h);
	assert_int_equal(hl_iset_count(set), 2);
	hl_iset_destroy(&set);

	rep = run(t, "indicators-retract", "{\"ids\":[\"hl--a\"]}", true, T0 + 4);
	assert_int_equal(geti(rep, "retracted"), 1);
	assert_int_equal(geti(rep, "set_version"), 3);
	assert_int_equal(geti(rep, "count"), 1);
	json_decref(rep);
	hash_of(IND_B2 "\n", h);
	expect_version(t, 3, h, 1);
	rep = run(t, "indicators-retract", "{\"ids\":[\"hl--a\"]}", true, T0 + 5);
	assert_int_equal(geti(rep, "unchanged"), 1);
	assert_int_equal(geti(rep, "set_version"), 3);
	json_decref(rep);

	rep = run(t, "indicators-list", "{\"status\":\"all\"}", true, T0);
	assert_int_equal(geti(rep, "count"), 2);
	json_t *first = json_array_get(json_object_get(rep, "indicators"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "status")), "active");
	json_decref(rep);
	rep = run(t, "indicators-list", "{\"status\":\"retracted\"}", true, T0);
	assert_int_equal(geti(rep, "count"), 1);
	json_decref(rep);

	/* Re-adding a retracted one makes it active again. */
	rep = run(t, "indicators-add", "{\"indicators\":[" IND_A "]}", true, T0 + 6);
	assert_int_equal(geti(rep, "updated"), 1);
	assert_int_equal(geti(rep, "set_version"), 4);
	json_decref(rep);

	/* One local audit row per change (none for the no-ops). */
	struct hl_audit_summary sum;
	assert_int_equal(hl_store_audit_verify(t->store, NULL, NULL, &sum), 0);
	assert_int_equal(sum.rows, 4);
}

/* Hostile requests: refused whole, nothing stored, no version. */
static void test_hostile_requests(void **state)
{
	struct ctx *t = *state;
	static const char *const bad_add[] = {
	        "{}",
	        "{\"indicators\":[]}",
	        "{\"indicators\":{}}",
	        "{\"indicators\":[" IND_A ",{\"type\":\"ip\",\"value\":\"300.1.1.1\"}]}",
	        "{\"indicators\":[" IND_A ",7]}",
	        "{\"indicators\":[" IND_A ",{\"type\":\"nope\",\"value\":\"x\"}]}",
	        "{\"indicators\":[{\"id\":\"hl--a\",\"type\":\"ip\",\"value\":\"192.0.2.1\"},"
	        "{\"id\":\"hl--a\",\"type\":\"ip\",\"value\":\"192.0.2.2\"}]}",
	};
	for (size_t i = 0; i < sizeof bad_add / sizeof bad_add[0]; i++) {
		json_t *rep = run(t, "indicators-add", bad_add[i], false, T0);
		json_decref(rep);
	}
	json_t *rep = run(t, "indicators-add",
	                  "{\"indicators\":[" IND_A ",{\"type\":\"ip\",\"value\":\"300.1.1.1\"}]}",
	                  false, T0);
	assert_non_null(strstr(json_string_value(json_object_get(rep, "error")), "indicators[1]"));
	json_decref(rep);
	size_t n = 9;
	assert_int_equal(hl_store_indicator_count(t->store, HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 0);
	struct hl_store_set_version sv;
	assert_int_equal(hl_store_set_version_latest(t->store, &sv), HL_ENOTFOUND);

	json_decref(run(t, "indicators-add", "{\"indicators\":[" IND_A "]}", true, T0));
	static const char *const bad_retract[] = {
	        "{}",
	        "{\"ids\":[]}",
	        "{\"ids\":[7]}",
	        "{\"ids\":[\"\"]}",
	        "{\"ids\":[\"hl--a\",\"hl--unknown\"]}",
	};
	for (size_t i = 0; i < sizeof bad_retract / sizeof bad_retract[0]; i++)
		json_decref(run(t, "indicators-retract", bad_retract[i], false, T0));
	assert_int_equal(hl_store_indicator_count(t->store, HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_set_version_latest(t->store, &sv), 0);
	assert_int_equal(sv.version, 1);
	json_decref(run(t, "indicators-list", "{\"status\":\"bogus\"}", false, T0));
	assert_null(hl_control_indicators(t->store, "indicators-bogus", NULL, T0));
}

static void put_peer(struct ctx *t, const char *peer, const char *line, uint64_t v)
{
	hl_iset_t *set = hl_iset_new();
	assert_int_equal(hl_parse_native("t", line, strlen(line), NULL, set, NULL), 0);
	assert_int_equal(hl_store_peer_indicator_put(t->store, peer, hl_iset_at(set, 0),
	                                             HL_IND_ACTIVE, v, T0),
	                 0);
	hl_iset_destroy(&set);
}

static int same_record(void *ud, const struct hl_store_indicator *ind)
{
	assert_string_equal(ind->source, "bravo");
	*(int *)ud = ind->status == HL_IND_ACTIVE && strcmp(ind->type, "ip") == 0;
	return 0;
}

/* A peer's indicator of our id does not replace ours. */
static void test_peer_table(void **state)
{
	struct ctx *t = *state;
	json_decref(run(t, "indicators-add", "{\"indicators\":[" IND_A "]}", true, T0));
	put_peer(t, "bravo", IND_B, 1);
	put_peer(t, "bravo", IND_A, 1);
	put_peer(t, "charlie", IND_A, 7);
	size_t n = 0;
	assert_int_equal(hl_store_peer_indicator_count(t->store, "bravo", HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hl_store_peer_indicator_count(t->store, NULL, HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(hl_store_indicator_count(t->store, HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 1);
	int ok = 0;
	assert_int_equal(hl_store_peer_indicator_get(t->store, "bravo", "hl--a", same_record, &ok),
	                 0);
	assert_true(ok);
	bool found = false;
	assert_int_equal(hl_store_peer_indicator_retract(t->store, "bravo", "hl--a", 2, T0, &found),
	                 0);
	assert_true(found);
	assert_int_equal(
	        hl_store_peer_indicator_retract(t->store, "bravo", "hl--none", 2, T0, &found), 0);
	assert_false(found);
	assert_int_equal(hl_store_peer_indicators_retract_all(t->store, "bravo", 3, T0), 0);
	assert_int_equal(hl_store_peer_indicator_count(t->store, "bravo", HL_IND_RETRACTED, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hl_store_peer_indicator_count(t->store, "charlie", HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_peer_indicator_count(t->store, "bravo", HL_IND_QUARANTINED, &n),
	                 HL_EINVAL);
	/* Our own set is untouched by all of it. */
	assert_int_equal(hl_store_indicator_count(t->store, HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 1);
}

/* ---- the push, in parts ------------------------------------------------- */

struct link {
	hl_transport_t *t;
	hl_tp_sock_t *router;
	hl_exchange_t *x;
	void *zctx, *dealer;
};

static void quiet(void *ctx, enum hl_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void link_open(struct ctx *t, struct link *k, size_t max_msg)
{
	struct hl_transport_opts to;
	hl_transport_opts_init(&to);
	to.name = "alpha";
	to.log = quiet;
	int err = 0;
	k->t = hl_transport_new(&to, &err);
	assert_non_null(k->t);
	char ep[160];
	snprintf(ep, sizeof ep, "ipc://%s/sensor.sock", t->dir);
	k->router = hl_tp_listen_local(k->t, ep, HL_TP_LOCAL_ROUTER, "local", 0, &err);
	assert_non_null(k->router);
	struct hl_exchange_opts xo;
	hl_exchange_opts_init(&xo);
	xo.name = "alpha";
	xo.store = t->store;
	xo.max_msg_bytes = max_msg;
	xo.log = quiet;
	k->x = hl_exchange_new(&xo, &err);
	assert_non_null(k->x);
	k->zctx = zmq_ctx_new();
	k->dealer = zmq_socket(k->zctx, ZMQ_DEALER);
	int linger = 0;
	zmq_setsockopt(k->dealer, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(k->dealer, ZMQ_ROUTING_ID, "s1", 2);
	assert_int_equal(zmq_connect(k->dealer, ep), 0);
}

static void link_close(struct link *k)
{
	zmq_close(k->dealer);
	zmq_ctx_term(k->zctx);
	hl_exchange_destroy(&k->x);
	hl_tp_close(&k->router);
	hl_transport_destroy(&k->t);
}

/* The test's sensor sends type with body; the exchange handles it. */
static void sensor_says(struct link *k, enum hl_wire_type type, json_t *body, int64_t now)
{
	struct hl_wire_envelope e;
	assert_int_equal(hl_wire_envelope_init(&e, type, "s1", "alpha", 1, now), 0);
	char *env, *b;
	size_t el, bl;
	assert_int_equal(hl_wire_encode(&e, body, &env, &el, &b, &bl), 0);
	json_decref(body);
	assert_true(zmq_send(k->dealer, env, el, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(k->dealer, b, bl, 0) >= 0);
	free(env);
	free(b);
	struct hl_tp_msg m = {0};
	assert_int_equal(hl_tp_recv(k->router, &m, DEADLINE_MS), 0);
	assert_int_equal(hl_exchange_handle(k->x, k->router, &m, 1, now), 0);
	hl_tp_msg_clear(&m);
}

/* The next message to the sensor (false if none within timeout_ms). */
static bool sensor_gets(struct link *k, int timeout_ms, struct hl_wire_envelope *e, json_t **body)
{
	zmq_pollitem_t it = {.socket = k->dealer, .events = ZMQ_POLLIN};
	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return false;
	zmq_msg_t f[2];
	for (int i = 0; i < 2; i++) {
		zmq_msg_init(&f[i]);
		assert_true(zmq_msg_recv(&f[i], k->dealer, 0) >= 0);
	}
	struct hl_wire_error we;
	if (hl_wire_decode(zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), zmq_msg_data(&f[1]),
	                   zmq_msg_size(&f[1]), 64u << 20, e, body, &we) != 0)
		fail_msg("the sharer sent what the wire refuses: %s", we.msg);
	zmq_msg_close(&f[0]);
	zmq_msg_close(&f[1]);
	return true;
}

static void add_many(struct ctx *t, unsigned n)
{
	json_t *arr = json_array();
	for (unsigned i = 0; i < n; i++) {
		char v[32];
		snprintf(v, sizeof v, "10.0.%u.%u", i / 256, i % 256);
		json_array_append_new(arr, json_pack("{s:s,s:s}", "type", "ip", "value", v));
	}
	json_t *r = json_pack("{s:o}", "indicators", arr);
	json_t *rep = hl_control_indicators(t->store, "indicators-add", r, T0);
	json_decref(r);
	assert_true(json_is_true(json_object_get(rep, "ok")));
	json_decref(rep);
}

static void test_push_in_parts(void **state)
{
	struct ctx *t = *state;
	add_many(t, 300);
	struct hl_store_set_version sv;
	assert_int_equal(hl_store_set_version_latest(t->store, &sv), 0);
	struct link k;
	link_open(t, &k, 8192); /* about 100 indicators a part */
	int64_t now = T0 + 1000000;
	sensor_says(&k, HL_WIRE_T_HELLO, hl_wire_body_hello("s1", "test", NULL), now);
	struct hl_wire_envelope e;
	json_t *b;
	assert_true(sensor_gets(&k, DEADLINE_MS, &e, &b)); /* the hello's ACK */
	assert_int_equal(e.type, HL_WIRE_T_ACK);
	json_decref(b);

	assert_int_equal(hl_exchange_indicators_pump(k.x, now), 0);
	hl_iset_t *got = hl_iset_new();
	size_t parts = 0;
	char ids[16][HL_WIRE_ID_LEN + 1];
	while (sensor_gets(&k, parts == 0 ? DEADLINE_MS : 200, &e, &b)) {
		assert_int_equal(e.type, HL_WIRE_T_INDICATORS);
		assert_true(parts < 16);
		assert_int_equal(json_is_true(json_object_get(b, "full")), parts == 0);
		assert_int_equal(geti(b, "set_version"), (json_int_t)sv.version);
		assert_string_equal(json_string_value(json_object_get(b, "set_hash")), sv.hash);
		char *text = json_dumps(json_object_get(b, "indicators"), JSON_COMPACT);
		assert_true(strlen(text) < 8192);
		free(text);
		size_t i;
		json_t *o;
		json_array_foreach(json_object_get(b, "indicators"), i, o)
		{
			char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
			assert_int_equal(hl_parse_native("p", line, strlen(line), NULL, got, NULL),
			                 0);
			free(line);
		}
		memcpy(ids[parts++], e.id, sizeof ids[0]);
		json_decref(b);
	}
	assert_true(parts >= 3);
	assert_int_equal(hl_iset_count(got), 300);
	uint8_t h[HL_SHA256_LEN];
	char hex[65];
	assert_int_equal(hl_iset_hash(got, h), 0);
	hl_hex(h, sizeof h, hex);
	assert_string_equal(hex, sv.hash);
	hl_iset_destroy(&got);

	/* Nothing ACKed: after the backoff the whole set goes again. */
	assert_int_equal(hl_exchange_indicators_pump(k.x, now + 1000), 0);
	assert_false(sensor_gets(&k, 100, &e, &b));
	now += 6 * 1000000LL;
	assert_int_equal(hl_exchange_indicators_pump(k.x, now), 0);
	size_t again = 0;
	while (sensor_gets(&k, again == 0 ? DEADLINE_MS : 200, &e, &b)) {
		memcpy(ids[again++], e.id, sizeof ids[0]);
		json_decref(b);
	}
	assert_int_equal(again, parts);
	struct hl_exchange_ind_counters c;
	hl_exchange_ind_counters(k.x, &c);
	assert_int_equal(c.pushes, 2);
	assert_int_equal(c.push_resent, 1);
	assert_int_equal(c.push_parts, 2 * parts);

	/* All ACKed: no more resends. */
	const char *idp[16];
	for (size_t i = 0; i < again; i++)
		idp[i] = ids[i];
	sensor_says(&k, HL_WIRE_T_ACK, hl_wire_body_ack(idp, again), now);
	hl_exchange_ind_counters(k.x, &c);
	assert_int_equal(c.push_acked, again);
	now += 600 * 1000000LL;
	assert_int_equal(hl_exchange_indicators_pump(k.x, now), 0);
	assert_false(sensor_gets(&k, 100, &e, &b));

	/* A new version goes out at once; a hello holding it gets nothing. */
	json_decref(run(t, "indicators-retract", "{\"ids\":[\"hl--none\"]}", false, now));
	add_many(t, 301);
	hl_exchange_indicators_changed(k.x);
	assert_int_equal(hl_exchange_indicators_pump(k.x, now), 0);
	assert_true(sensor_gets(&k, DEADLINE_MS, &e, &b));
	assert_int_equal(geti(b, "set_version"), (json_int_t)sv.version + 1);
	json_decref(b);
	while (sensor_gets(&k, 200, &e, &b))
		json_decref(b);
	assert_int_equal(hl_store_set_version_latest(t->store, &sv), 0);
	sensor_says(&k, HL_WIRE_T_HELLO, hl_wire_body_hello("s1", "test", sv.hash), now);
	assert_true(sensor_gets(&k, DEADLINE_MS, &e, &b)); /* the ACK */
	assert_int_equal(e.type, HL_WIRE_T_ACK);
	json_decref(b);
	assert_int_equal(hl_exchange_indicators_pump(k.x, now), 0);
	assert_false(sensor_gets(&k, 100, &e, &b));

	/* Back to the first content under a new version: the sensor holds
	 * the 301, so it is sent the 300 again. */
	char first_hash[HL_STORE_HASH_HEX], rid[HL_INDICATOR_ID_MAX], rq[HL_INDICATOR_ID_MAX + 32];
	hl_iset_t *cur = NULL;
	assert_int_equal(hl_indicator_derive_id(HL_IND_IP, "10.0.1.44", rid, sizeof rid), 0);
	snprintf(rq, sizeof rq, "{\"ids\":[\"%s\"]}", rid);
	json_decref(run(t, "indicators-retract", rq, true, now));
	assert_int_equal(hl_store_local_set(t->store, &cur, first_hash), 0);
	assert_int_equal(hl_iset_count(cur), 300);
	hl_iset_destroy(&cur);
	hl_exchange_indicators_changed(k.x);
	assert_int_equal(hl_exchange_indicators_pump(k.x, now), 0);
	assert_true(sensor_gets(&k, DEADLINE_MS, &e, &b));
	assert_int_equal(geti(b, "set_version"), (json_int_t)sv.version + 1);
	assert_string_equal(json_string_value(json_object_get(b, "set_hash")), first_hash);
	json_decref(b);
	link_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_add_update_retract_bump, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hostile_requests, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_peer_table, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_push_in_parts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
