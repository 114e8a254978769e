/* \summary: unit tests of pushed indicator sets at the sensor's link, against a fake sharer
 *
 * The fake sharer is a ROUTER on ipc driven by the test thread (as in
 * test_sharer_link.c): it receives the link's hello, sends "indicators"
 * and "indicator_retract" messages by hand and reads the ACKs and NACKs.
 * The callback runs on the link's thread and records what it got; the
 * reply to a message follows the callback, so it is read after the reply.
 * Last, the hl_push_reload adapter feeds a real reload thread.
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "hotline/err.h"
#include "hotline/iset.h"
#include "hotline/parse.h"
#include "hotline/setload.h"
#include "hotline/wire.h"
#include "matcher_slot.h"
#include "reload.h"
#include "sharer_link.h"
#include "sharer_link_push.h"

#define DEADLINE_MS 10000

struct fake {
	char dir[64];
	char ep[128];
	void *ctx;
	void *router;
	char route[64];
	size_t route_len;
	/* what the callback saw */
	pthread_mutex_t mu;
	unsigned calls;
	int fail_next; /* the callback returns this once */
	uint64_t version;
	char hash[65];
	size_t count;
	char ids[8][64];
};

static void quiet_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static int on_set(void *ctx, uint64_t version, const char *hash, const struct hl_iset *set)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	f->calls++;
	int rc = f->fail_next;
	f->fail_next = 0;
	f->version = version;
	snprintf(f->hash, sizeof f->hash, "%s", hash);
	f->count = hl_iset_count(set);
	for (size_t i = 0; i < 8; i++)
		snprintf(f->ids[i], sizeof f->ids[i], "%s",
		         i < f->count ? hl_iset_at(set, i)->id : "");
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/hl-lpush-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ep, sizeof f->ep, "ipc://%s/s.sock", f->dir);
	f->ctx = zmq_ctx_new();
	pthread_mutex_init(&f->mu, NULL);
	f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
	int linger = 0;
	zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
	assert_int_equal(zmq_bind(f->router, f->ep), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	zmq_close(f->router);
	zmq_ctx_term(f->ctx);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

static hl_sharer_link_t *link_new(struct fake *f, hl_sharer_link_indicators_fn cb, void *ctx)
{
	struct hl_sharer_link_opts o = {.endpoint = f->ep,
	                                .name = "s1",
	                                .to = "sharer",
	                                .log = quiet_log,
	                                .on_indicators = cb,
	                                .on_indicators_ctx = ctx};
	char err[256];
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	if (l == NULL)
		fail_msg("%s", err);
	return l;
}

/* The next message from the link (false if none in timeout_ms). */
static bool fake_recv(struct fake *f, int timeout_ms, struct hl_wire_envelope *e, json_t **body)
{
	zmq_pollitem_t it = {.socket = f->router, .events = ZMQ_POLLIN};
	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return false;
	zmq_msg_t m[3];
	for (int i = 0; i < 3; i++) {
		zmq_msg_init(&m[i]);
		assert_true(zmq_msg_recv(&m[i], f->router, 0) >= 0);
	}
	f->route_len = zmq_msg_size(&m[0]);
	assert_true(f->route_len < sizeof f->route);
	memcpy(f->route, zmq_msg_data(&m[0]), f->route_len);
	struct hl_wire_error we;
	if (hl_wire_decode(zmq_msg_data(&m[1]), zmq_msg_size(&m[1]), zmq_msg_data(&m[2]),
	                   zmq_msg_size(&m[2]), 0, e, body, &we) != 0)
		fail_msg("the link sent what the wire refuses: %s", we.msg);
	for (int i = 0; i < 3; i++)
		zmq_msg_close(&m[i]);
	return true;
}

/* Send a message from "from" to the link; its id into id. */
static void fake_send(struct fake *f, enum hl_wire_type type, const char *from, json_t *body,
                      char id[HL_WIRE_ID_LEN + 1])
{
	struct hl_wire_envelope e;
	assert_int_equal(hl_wire_envelope_init(&e, type, from, "s1", 1, 0), 0);
	char *env, *b;
	size_t el, bl;
	assert_int_equal(hl_wire_encode(&e, body, &env, &el, &b, &bl), 0);
	json_decref(body);
	memcpy(id, e.id, HL_WIRE_ID_LEN + 1);
	assert_true(zmq_send(f->router, f->route, f->route_len, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(f->router, env, el, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(f->router, b, bl, 0) >= 0);
	free(env);
	free(b);
}

/* The link's reply to id: "ack" or a NACK's reason_code. */
static char *reply_to(struct fake *f, const char *id, char *why, size_t whylen)
{
	struct hl_wire_envelope e;
	json_t *b;
	if (!fake_recv(f, DEADLINE_MS, &e, &b))
		fail_msg("no reply to %s", id);
	static char code[32];
	if (e.type == HL_WIRE_T_ACK) {
		assert_string_equal(json_string_value(json_array_get(json_object_get(b, "ids"), 0)),
		                    id);
		snprintf(code, sizeof code, "ack");
	} else {
		assert_int_equal(e.type, HL_WIRE_T_NACK);
		assert_string_equal(json_string_value(json_object_get(b, "id")), id);
		snprintf(code, sizeof code, "%s",
		         json_string_value(json_object_get(b, "reason_code")));
		if (why != NULL)
			snprintf(why, whylen, "%s",
			         json_string_value(json_object_get(b, "reason")));
	}
	assert_string_equal(e.from, "s1");
	assert_string_equal(e.to, "sharer");
	json_decref(b);
	return code;
}

#define IND(n) \
	"{\"id\":\"hl--t" #n "\",\"tlp\":\"green\",\"type\":\"ip\",\"value\":\"192.0.2." #n "\"}"

static void hash_of(const char *lines, char out[65])
{
	hl_iset_t *set = hl_iset_new();
	assert_int_equal(hl_parse_native("t", lines, strlen(lines), NULL, set, NULL), 0);
	uint8_t h[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(set, h), 0);
	hl_hex(h, sizeof h, out);
	hl_iset_destroy(&set);
}

static json_t *part(uint64_t v, const char *hash, bool full, const char *arr)
{
	json_t *b = hl_wire_body_indicators(v, hash, full);
	assert_non_null(b);
	json_t *a = json_loads(arr, 0, NULL);
	assert_non_null(a);
	json_object_set_new(b, "indicators", a);
	return b;
}

static void hello(struct fake *f, const char *want_hash)
{
	struct hl_wire_envelope e;
	json_t *b;
	assert_true(fake_recv(f, DEADLINE_MS, &e, &b));
	assert_int_equal(e.type, HL_WIRE_T_HELLO);
	assert_string_equal(json_string_value(json_object_get(b, "name")), "s1");
	const char *h = json_string_value(json_object_get(b, "set_hash"));
	if (want_hash == NULL)
		assert_null(h);
	else
		assert_string_equal(h, want_hash);
	json_decref(b);
}

static unsigned calls(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	unsigned n = f->calls;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* Parts add up to the set; then a delta, a retraction, a new hello. */
static void test_parts_then_delta_and_retract(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, on_set, f);
	hello(f, NULL);
	char h3[65], h4[65], h2[65], id[HL_WIRE_ID_LEN + 1];
	hash_of(IND(1) "\n" IND(2) "\n" IND(3) "\n", h3);
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(7, h3, true, "[" IND(1) "," IND(2) "]"),
	          id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	assert_int_equal(calls(f), 0); /* not whole yet */
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(7, h3, false, "[" IND(3) "]"), id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->version, 7);
	assert_string_equal(f->hash, h3);
	assert_int_equal(f->count, 3);
	assert_string_equal(f->ids[0], "hl--t1"); /* canonical order */
	pthread_mutex_unlock(&f->mu);

	/* A delta on top of the set held. */
	hash_of(IND(1) "\n" IND(2) "\n" IND(3) "\n" IND(4) "\n", h4);
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(8, h4, false, "[" IND(4) "]"), id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->count, 4);
	assert_int_equal(f->version, 8);
	pthread_mutex_unlock(&f->mu);

	/* A retraction with a wrong hash is refused; with the right one taken. */
	const char *ids[] = {"hl--t1", "hl--t3"};
	json_t *rb = hl_wire_body_indicator_retract(ids, 2);
	json_object_set_new(rb, "set_hash", json_string(h3));
	fake_send(f, HL_WIRE_T_INDICATOR_RETRACT, "sharer", rb, id);
	assert_string_equal(reply_to(f, id, NULL, 0), "field");
	hash_of(IND(2) "\n" IND(4) "\n", h2);
	rb = hl_wire_body_indicator_retract(ids, 2);
	json_object_set_new(rb, "set_hash", json_string(h2));
	json_object_set_new(rb, "set_version", json_integer(9));
	fake_send(f, HL_WIRE_T_INDICATOR_RETRACT, "sharer", rb, id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->count, 2);
	assert_int_equal(f->version, 9);
	assert_string_equal(f->hash, h2);
	pthread_mutex_unlock(&f->mu);

	struct hl_sharer_link_push_stats ps;
	hl_sharer_link_push_stats(l, &ps);
	assert_int_equal(ps.hellos, 1);
	assert_int_equal(ps.parts, 4);
	assert_int_equal(ps.sets, 3);
	assert_int_equal(ps.refused, 1);
	assert_int_equal(ps.set_version, 9);
	assert_string_equal(ps.set_hash, h2);
	hl_sharer_link_destroy(&l);
}

/* Hostile or unexpected messages: NACKed, the callback never called. */
static void test_hostile(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, on_set, f);
	hello(f, NULL);
	char h[65], id[HL_WIRE_ID_LEN + 1], why[HL_WIRE_REASON_MAX];
	hash_of(IND(1) "\n", h);
	/* An invalid value: the native reader refuses it. */
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer",
	          part(1, h, true,
	               "[" IND(1) ",{\"id\":\"x\",\"tlp\":\"green\",\"type\":\"ip\","
	                          "\"value\":\"300.0.0.1\"}]"),
	          id);
	assert_string_equal(reply_to(f, id, why, sizeof why), "field");
	assert_non_null(strstr(why, "body.indicators[1]"));
	/* The same indicator twice. */
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(1, h, true, "[" IND(1) "," IND(1) "]"),
	          id);
	assert_string_equal(reply_to(f, id, NULL, 0), "field");
	/* Not from our sharer. */
	fake_send(f, HL_WIRE_T_INDICATORS, "mallory", part(1, h, true, "[" IND(1) "]"), id);
	assert_string_equal(reply_to(f, id, NULL, 0), "unexpected");
	/* A body the wire refuses (full is not a boolean). */
	json_t *b = part(1, h, true, "[" IND(1) "]");
	char envs[512];
	snprintf(envs, sizeof envs,
	         "{\"v\":1,\"id\":\"%032x\",\"type\":\"indicators\",\"from\":\"sharer\","
	         "\"to\":\"s1\",\"sent_at\":\"2026-01-01T00:00:00Z\",\"seq\":1}",
	         77u);
	json_object_set_new(b, "full", json_string("yes"));
	char *bs = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	assert_true(zmq_send(f->router, f->route, f->route_len, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(f->router, envs, strlen(envs), ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(f->router, bs, strlen(bs), 0) >= 0);
	free(bs);
	snprintf(id, sizeof id, "%032x", 77u);
	assert_string_equal(reply_to(f, id, NULL, 0), "schema");
	/* The callback fails once: "internal", and the resend is taken. */
	pthread_mutex_lock(&f->mu);
	f->fail_next = HL_EIO;
	pthread_mutex_unlock(&f->mu);
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(1, h, true, "[" IND(1) "]"), id);
	assert_string_equal(reply_to(f, id, NULL, 0), "internal");
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(1, h, true, "[" IND(1) "]"), id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	assert_int_equal(calls(f), 2);
	struct hl_sharer_link_push_stats ps;
	hl_sharer_link_push_stats(l, &ps);
	assert_int_equal(ps.refused, 5);
	assert_int_equal(ps.sets, 1);
	hl_sharer_link_destroy(&l);

	/* Without a callback: no hello, and a pushed set is refused. */
	l = link_new(f, NULL, NULL);
	assert_int_equal(hl_sharer_link_send(l, "x", 1), HL_EINVAL);
	struct hl_wire_envelope e;
	json_t *body;
	assert_false(fake_recv(f, 300, &e, &body));
	hl_sharer_link_destroy(&l);
}

/* A reconnected link says hello with the hash of the set it holds. */
static void test_hello_names_the_set(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, on_set, f);
	hello(f, NULL);
	char h[65], id[HL_WIRE_ID_LEN + 1];
	hash_of(IND(5) "\n", h);
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(3, h, true, "[" IND(5) "]"), id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	/* The sharer restarts: a new connection, a new hello. Wait for the
	 * old listener to be closed before binding the path again. */
	char mon_ep[64];
	snprintf(mon_ep, sizeof mon_ep, "inproc://lpush-mon-%p", (void *)f);
	assert_int_equal(zmq_socket_monitor(f->router, mon_ep, ZMQ_EVENT_CLOSED), 0);
	void *mon = zmq_socket(f->ctx, ZMQ_PAIR);
	assert_int_equal(zmq_connect(mon, mon_ep), 0);
	assert_int_equal(zmq_unbind(f->router, f->ep), 0);
	zmq_pollitem_t it = {.socket = mon, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&it, 1, DEADLINE_MS), 1);
	zmq_socket_monitor(f->router, NULL, 0);
	zmq_close(mon);
	zmq_close(f->router);
	f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
	int linger = 0;
	zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
	assert_int_equal(zmq_bind(f->router, f->ep), 0);
	hello(f, h);
	hl_sharer_link_destroy(&l);
}

/* The adapter: a pushed set becomes the reload's next generation. */
static void test_push_into_reload(void **state)
{
	struct fake *f = *state;
	char seed[128], pushed[128];
	snprintf(seed, sizeof seed, "%s/seed.jsonl", f->dir);
	snprintf(pushed, sizeof pushed, "%s/pushed.jsonl", f->dir);
	FILE *sf = fopen(seed, "w");
	assert_non_null(sf);
	fputs(IND(9) "\n", sf);
	assert_int_equal(fclose(sf), 0);
	const char *paths[] = {seed};
	struct hl_setload_opts so;
	hl_setload_opts_init(&so);
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_set_load(paths, 1, &so, &m, NULL, NULL), 0);
	hl_matcher_slot_t *slot = hl_matcher_slot_new(&m);
	assert_non_null(slot);
	struct hl_reload_config cfg;
	hl_reload_config_init(&cfg);
	cfg.paths = paths;
	cfg.n_paths = 1;
	FILE *log = tmpfile();
	cfg.log = log;
	hl_reload_t *r = hl_reload_new(&cfg, slot);
	assert_non_null(r);
	assert_null(hl_push_reload_new(NULL, pushed));
	hl_push_reload_t *pr = hl_push_reload_new(r, pushed);
	assert_non_null(pr);

	hl_sharer_link_t *l = link_new(f, hl_push_reload_cb, pr);
	hello(f, NULL);
	char h[65], id[HL_WIRE_ID_LEN + 1];
	hash_of(IND(1) "\n" IND(2) "\n", h);
	fake_send(f, HL_WIRE_T_INDICATORS, "sharer", part(4, h, true, "[" IND(2) "," IND(1) "]"),
	          id);
	assert_string_equal(reply_to(f, id, NULL, 0), "ack");
	assert_int_equal(hl_reload_wait(r, 1, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.pushes, 1);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.indicators, 2);
	assert_int_equal(hl_matcher_slot_generation(slot), 2);
	hl_matcher_gen_t *g = hl_matcher_slot_acquire(slot);
	uint8_t mh[HL_SHA256_LEN];
	char hex[HL_SHA256_HEX_LEN];
	hl_matcher_hash(hl_matcher_gen_matcher(g), mh);
	hl_hex(mh, sizeof mh, hex);
	hl_matcher_gen_release(&g);
	assert_string_equal(hex, h);

	hl_sharer_link_destroy(&l);
	hl_push_reload_destroy(&pr);
	assert_null(pr);
	hl_reload_destroy(&r);
	hl_matcher_slot_destroy(&slot);
	fclose(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_parts_then_delta_and_retract, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hello_names_the_set, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_push_into_reload, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
