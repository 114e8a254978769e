/* \summary: unit tests of the sensor's sharer link against a fake sharer (a ROUTER here)
 *
 * The fake sharer is a ZeroMQ ROUTER on ipc in a temporary directory, driven
 * by the test thread: it receives what the link sends and answers ACKs and
 * NACKs by hand. Every wait is a zmq_poll with a deadline.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "hotline/err.h"
#include "hotline/wire.h"
#include "sharer_link.h"

#define DEADLINE_MS 10000

struct fake {
	char dir[64];
	char ep[128];
	void *ctx;
	void *router;
};

struct got {
	char route[64];
	size_t route_len;
	struct hl_wire_envelope env;
	json_t *body;
};

static void quiet_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void fake_bind(struct fake *f)
{
	f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
	assert_non_null(f->router);
	int linger = 0;
	zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
	assert_int_equal(zmq_bind(f->router, f->ep), 0);
}

static void fake_close(struct fake *f)
{
	if (f->router != NULL)
		zmq_close(f->router);
	f->router = NULL;
}

/* Unbind and wait for libzmq's I/O thread to report the listener closed
 * (it removes the socket file first), so that the endpoint can be bound
 * again without the old listener removing the new file. */
static void fake_unbind(struct fake *f)
{
	char mon_ep[64];
	snprintf(mon_ep, sizeof mon_ep, "inproc://fake-mon-%p", (void *)f);
	assert_int_equal(zmq_socket_monitor(f->router, mon_ep, ZMQ_EVENT_CLOSED), 0);
	void *mon = zmq_socket(f->ctx, ZMQ_PAIR);
	assert_int_equal(zmq_connect(mon, mon_ep), 0);
	assert_int_equal(zmq_unbind(f->router, f->ep), 0);
	zmq_pollitem_t it = {.socket = mon, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&it, 1, DEADLINE_MS), 1);
	zmq_msg_t m;
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, mon, 0) >= 0);
	uint16_t ev;
	memcpy(&ev, zmq_msg_data(&m), sizeof ev);
	assert_int_equal(ev, ZMQ_EVENT_CLOSED);
	zmq_msg_close(&m);
	zmq_socket_monitor(f->router, NULL, 0);
	zmq_close(mon);
	fake_close(f);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/hl-link-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ep, sizeof f->ep, "ipc://%s/s.sock", f->dir);
	f->ctx = zmq_ctx_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	fake_close(f);
	zmq_ctx_term(f->ctx);
	char p[128];
	snprintf(p, sizeof p, "%s/s.sock", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static hl_sharer_link_t *link_new(struct fake *f, size_t queue_max, int resend_ms)
{
	struct hl_sharer_link_opts o = {.endpoint = f->ep,
	                                .name = "s1",
	                                .queue_max = queue_max,
	                                .resend_ms = resend_ms,
	                                .log = quiet_log};
	char err[256];
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	if (l == NULL)
		fail_msg("%s", err);
	return l;
}

static void record(unsigned i, char *out, size_t outlen)
{
	int n = snprintf(
	        out, outlen,
	        "{\"first_seen\":\"2026-01-01T00:00:00.000000Z\","
	        "\"last_seen\":\"2026-01-01T00:00:01.000000Z\",\"count\":%u,"
	        "\"indicator\":{\"id\":\"i%u\",\"type\":\"domain\",\"value\":\"x.example\"},"
	        "\"match\":{\"field\":\"dns.query\"}}",
	        i + 1, i);
	assert_true(n > 0 && (size_t)n < outlen);
}

static void send_n(hl_sharer_link_t *l, unsigned from, unsigned n)
{
	char line[512];
	for (unsigned i = from; i < from + n; i++) {
		record(i, line, sizeof line);
		assert_int_equal(hl_sharer_link_send(l, line, strlen(line)), 0);
	}
}

/* Receive one message at the fake sharer (false at the deadline). */
static bool fake_recv(struct fake *f, struct got *g, int timeout_ms)
{
	memset(g, 0, sizeof *g);
	zmq_pollitem_t it = {.socket = f->router, .events = ZMQ_POLLIN};
	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return false;
	zmq_msg_t m[3];
	for (int i = 0; i < 3; i++) {
		zmq_msg_init(&m[i]);
		assert_true(zmq_msg_recv(&m[i], f->router, 0) >= 0);
		assert_int_equal(zmq_msg_more(&m[i]), i < 2);
	}
	g->route_len = zmq_msg_size(&m[0]);
	assert_true(g->route_len < sizeof g->route);
	memcpy(g->route, zmq_msg_data(&m[0]), g->route_len);
	struct hl_wire_error we;
	int rc = hl_wire_decode(zmq_msg_data(&m[1]), zmq_msg_size(&m[1]), zmq_msg_data(&m[2]),
	                        zmq_msg_size(&m[2]), 0, &g->env, &g->body, &we);
	if (rc != 0)
		fail_msg("the link sent what the wire refuses: %s", we.msg);
	for (int i = 0; i < 3; i++)
		zmq_msg_close(&m[i]);
	return true;
}

static void fake_reply(struct fake *f, const struct got *to, enum hl_wire_type type, json_t *body)
{
	struct hl_wire_envelope e;
	assert_int_equal(hl_wire_envelope_init(&e, type, "sharer", "s1", 0, 0), 0);
	char *env, *b;
	size_t el, bl;
	assert_int_equal(hl_wire_encode(&e, body, &env, &el, &b, &bl), 0);
	json_decref(body);
	assert_true(zmq_send(f->router, to->route, to->route_len, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(f->router, env, el, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(f->router, b, bl, 0) >= 0);
	free(env);
	free(b);
}

static void ack(struct fake *f, const struct got *g)
{
	const char *ids[1] = {g->env.id};
	fake_reply(f, g, HL_WIRE_T_ACK, hl_wire_body_ack(ids, 1));
}

/* The records of a received "sightings" message. */
static size_t nrec(const struct got *g)
{
	return json_array_size(json_object_get(g->body, "records"));
}

static unsigned count_of(const struct got *g, size_t i)
{
	json_t *r = json_array_get(json_object_get(g->body, "records"), i);
	return (unsigned)json_integer_value(json_object_get(r, "count"));
}

/* Receive messages until they carry want records in all; check that they
 * are records from, from + 1, ... in order. The number of messages. */
static size_t recv_records(struct fake *f, struct got *g, size_t max, unsigned from, size_t want)
{
	size_t n = 0, got = 0;
	while (got < want) {
		assert_true(n < max);
		assert_true(fake_recv(f, &g[n], DEADLINE_MS));
		assert_int_equal(g[n].env.type, HL_WIRE_T_SIGHTINGS);
		for (size_t i = 0; i < nrec(&g[n]); i++)
			assert_int_equal(count_of(&g[n], i), from + got++ + 1);
		n++;
	}
	assert_int_equal(got, want);
	return n;
}

static void free_got(struct got *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(g[i].body);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The link's thread takes ACKs on its own: poll its stats, with a
 * deadline, until it has taken n messages' ACKs in all. */
static void wait_messages_acked(hl_sharer_link_t *l, unsigned long n,
                                struct hl_sharer_link_stats *st)
{
	int64_t deadline = mono_ms() + DEADLINE_MS;
	for (;;) {
		hl_sharer_link_stats(l, st);
		if (st->messages_acked >= n)
			break;
		if (mono_ms() > deadline)
			fail_msg("%lu message(s) ACKed, waited for %lu", st->messages_acked, n);
		poll(NULL, 0, 1);
	}
	assert_int_equal(st->messages_acked, n);
}

/* Every record queued is in exactly one state. */
static void assert_balanced(const struct hl_sharer_link_stats *st)
{
	assert_int_equal(st->queued, st->acked + st->pending + st->dropped + st->refused);
}

/* One record sent and received alone in its message (the fake sharer takes
 * it before the next is sent). */
static void send_one(struct fake *f, hl_sharer_link_t *l, unsigned i, struct got *g)
{
	send_n(l, i, 1);
	assert_int_equal(recv_records(f, g, 1, i, 1), 1);
	assert_int_equal(nrec(g), 1);
}

/* The sensor's own records are not parsed again, but a line that could
 * break the batch's array is still refused. */
static void test_own_records_framing(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, 0, 0);
	static const char *bad[] = {"not json", "[1]", "{", "{\"a\":1}\n{\"b\":2}", "}{"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(hl_sharer_link_send_own(l, bad[i], strlen(bad[i])), HL_EINVAL);
	char nul[] = "{\"a\":\"x\0y\"}";
	assert_int_equal(hl_sharer_link_send_own(l, nul, sizeof nul - 1), HL_EINVAL);
	char line[512];
	record(0, line, sizeof line);
	size_t len = strlen(line);
	line[len] = '\n'; /* a trailing newline is trimmed, as by hl_sharer_link_send */
	assert_int_equal(hl_sharer_link_send_own(l, line, len + 1), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.invalid, 6);
	assert_int_equal(st.queued, 1);
	hl_sharer_link_destroy(&l);
}

static void test_invalid_lines(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, 0, 0);
	static const char *bad[] = {"not json", "{}", "[1]",
	                            "{\"first_seen\":\"2026-01-01T00:00:00Z\"}"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(hl_sharer_link_send(l, bad[i], strlen(bad[i])), HL_EINVAL);
	/* Length is honoured: a valid record cut short is invalid. */
	char line[512];
	record(0, line, sizeof line);
	assert_int_equal(hl_sharer_link_send(l, line, strlen(line) - 1), HL_EINVAL);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.invalid, 5);
	assert_int_equal(st.queued, 0);
	assert_int_equal(hl_sharer_link_flush(l, 0), 0);
	hl_sharer_link_destroy(&l);
	assert_null(l);
	hl_sharer_link_destroy(&l);
}

static void test_sent_and_acked_in_one_ack(void **state)
{
	struct fake *f = *state;
	fake_bind(f);
	hl_sharer_link_t *l = link_new(f, 0, 60000);
	send_n(l, 0, 5);
	/* As many messages as the link's thread found records waiting. */
	struct got g[5];
	const char *ids[5];
	size_t n = recv_records(f, g, 5, 0, 5);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(g[i].env.from, "s1");
		assert_string_equal(g[i].env.to, "sharer");
		assert_int_equal(g[i].route_len, 2); /* routing id = the name */
		ids[i] = g[i].env.id;
	}
	fake_reply(f, &g[0], HL_WIRE_T_ACK, hl_wire_body_ack(ids, n));
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.queued, 5);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.acked, 5);
	assert_int_equal(st.messages_acked, n);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.resent + st.dropped + st.refused, 0);
	free_got(g, n);
	hl_sharer_link_destroy(&l);
}

/* Records queued while the sharer is away leave in full batches when it
 * comes: 1100 are one message of 1000 (BATCH_RECORDS; the records are
 * small, so the byte cap is not what closes it) and one of 100. */
static void test_batches_while_away(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, 0, 60000);
	send_n(l, 0, 1100);
	fake_bind(f);
	struct got g[2];
	assert_int_equal(recv_records(f, g, 2, 0, 1100), 2);
	assert_int_equal(nrec(&g[0]), 1000);
	assert_int_equal(nrec(&g[1]), 100);
	assert_true(g[1].env.seq == g[0].env.seq + 1);
	ack(f, &g[1]);
	ack(f, &g[0]);
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.acked, 1100);
	assert_int_equal(st.messages_acked, 2);
	free_got(g, 2);
	hl_sharer_link_destroy(&l);
}

/* batch_bytes caps a message's records: 12 records of about 180 bytes
 * with a 1000-byte cap are three or more messages, none over the cap. */
static void test_batch_bytes(void **state)
{
	struct fake *f = *state;
	struct hl_sharer_link_opts o = {
	        .endpoint = f->ep, .name = "s1", .batch_bytes = 1000, .log = quiet_log};
	char err[256];
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	assert_non_null(l);
	send_n(l, 0, 12);
	fake_bind(f);
	struct got g[12];
	size_t n = recv_records(f, g, 12, 0, 12);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		size_t bytes = 0;
		for (size_t k = 0; k < nrec(&g[i]); k++) {
			char *t =
			        json_dumps(json_array_get(json_object_get(g[i].body, "records"), k),
			                   JSON_COMPACT);
			bytes += strlen(t) + (k > 0);
			free(t);
		}
		assert_true(bytes <= 1000);
		ack(f, &g[i]);
	}
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	free_got(g, n);
	hl_sharer_link_destroy(&l);
}

/* The sharer is away: the queue keeps the newest queue_max records. */
static void test_full_queue_drops_oldest(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, 4, 60000);
	send_n(l, 0, 6);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.pending, 4);
	assert_int_equal(hl_sharer_link_flush(l, 0), HL_EAGAIN);
	fake_bind(f);
	struct got g;
	assert_int_equal(recv_records(f, &g, 1, 2, 4), 1);
	ack(f, &g);
	json_decref(g.body);
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.acked, 4);
	hl_sharer_link_destroy(&l);
}

/* A NACK "field" ends a message; "internal" means: again later. */
static void test_nack(void **state)
{
	struct fake *f = *state;
	hl_sharer_link_t *l = link_new(f, 0, 200);
	send_n(l, 0, 2);
	fake_bind(f);
	struct got a, b, again;
	assert_int_equal(recv_records(f, &a, 1, 0, 2), 1);
	send_n(l, 2, 1);
	assert_int_equal(recv_records(f, &b, 1, 2, 1), 1);
	fake_reply(f, &a, HL_WIRE_T_NACK, hl_wire_body_nack(a.env.id, HL_WIRE_E_FIELD, "bad", 0));
	fake_reply(f, &b, HL_WIRE_T_NACK,
	           hl_wire_body_nack(b.env.id, HL_WIRE_E_INTERNAL, "disk full", 0));
	/* b comes again (resend_ms), under the same id; a never does. */
	assert_true(fake_recv(f, &again, DEADLINE_MS));
	assert_string_equal(again.env.id, b.env.id);
	assert_int_equal(again.env.seq, b.env.seq);
	assert_true(json_equal(again.body, b.body));
	ack(f, &again);
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.refused, 2);
	assert_int_equal(st.acked, 1);
	assert_true(st.resent >= 1);
	json_decref(a.body);
	json_decref(b.body);
	json_decref(again.body);
	hl_sharer_link_destroy(&l);
}

struct log_lines {
	char text[2048];
	pthread_mutex_t mu;
};

static void keep_log(void *ctx, int level, const char *msg)
{
	struct log_lines *k = ctx;
	(void)level;
	pthread_mutex_lock(&k->mu);
	size_t used = strlen(k->text);
	snprintf(k->text + used, sizeof k->text - used, "%s\n", msg);
	pthread_mutex_unlock(&k->mu);
}

/* A batch refused as oversize is counted like any refusal, and the log
 * says which setting to lower. */
static void test_oversize_names_the_remedy(void **state)
{
	struct fake *f = *state;
	struct log_lines k = {.text = "", .mu = PTHREAD_MUTEX_INITIALIZER};
	struct hl_sharer_link_opts o = {.endpoint = f->ep,
	                                .name = "s1",
	                                .batch_bytes = 8192,
	                                .log = keep_log,
	                                .log_ctx = &k};
	char err[256];
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	assert_non_null(l);
	send_n(l, 0, 3);
	fake_bind(f);
	struct got a;
	assert_int_equal(recv_records(f, &a, 1, 0, 3), 1);
	fake_reply(f, &a, HL_WIRE_T_NACK,
	           hl_wire_body_nack(a.env.id, HL_WIRE_E_OVERSIZE, "700 bytes, more than 600", 0));
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.refused, 3);
	pthread_mutex_lock(&k.mu);
	assert_non_null(strstr(k.text, "oversize: 700 bytes, more than 600"));
	assert_non_null(strstr(k.text, "batches of up to 8192 bytes of records are too large for "
	                               "this sharer: give --sharer-batch-bytes"));
	pthread_mutex_unlock(&k.mu);
	json_decref(a.body);
	hl_sharer_link_destroy(&l);
}

/* The sharer goes away with messages un-ACKed and comes back: they are
 * sent again at once (not after resend_ms, which is long here). */
static void test_resend_after_reconnect(void **state)
{
	struct fake *f = *state;
	fake_bind(f);
	hl_sharer_link_t *l = link_new(f, 0, 600000);
	send_n(l, 0, 3);
	struct got g[3];
	size_t n = recv_records(f, g, 3, 0, 3);
	fake_unbind(f);
	fake_bind(f);
	/* Each comes again, same id and bytes, possibly twice
	 * (at-least-once): ACK what comes until all were seen. */
	bool seen[3] = {false, false, false};
	size_t nseen = 0;
	for (int k = 0; nseen < n; k++) {
		assert_true(k < 12);
		struct got r;
		assert_true(fake_recv(f, &r, DEADLINE_MS));
		bool known = false;
		for (size_t i = 0; i < n; i++)
			if (strcmp(r.env.id, g[i].env.id) == 0) {
				assert_true(json_equal(r.body, g[i].body));
				known = true;
				nseen += !seen[i];
				seen[i] = true;
			}
		assert_true(known);
		ack(f, &r);
		json_decref(r.body);
	}
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.acked, 3);
	assert_int_equal(st.sent, 3);
	assert_true(st.resent >= 3);
	assert_true(st.disconnects >= 1);
	free_got(g, n);
	hl_sharer_link_destroy(&l);
}

/* The sharer ACKs messages 2 and 3 before message 1: their records stop
 * counting at once (pending, and the queue bound), so a queue of 4 takes
 * 3 more records without dropping any; with all 4 un-ACKed, the next drops
 * the oldest un-ACKed one. Each record reaches the sharer once. */
static void test_out_of_order_ack(void **state)
{
	struct fake *f = *state;
	fake_bind(f);
	hl_sharer_link_t *l = link_new(f, 4, 600000);
	struct got g[7];
	for (unsigned i = 0; i < 3; i++)
		send_one(f, l, i, &g[i]);
	ack(f, &g[2]);
	ack(f, &g[1]);
	struct hl_sharer_link_stats st;
	wait_messages_acked(l, 2, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.acked, 2);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.dropped, 0);
	/* Room for 3: the ring (4 messages) is full after the first of them
	 * and makes room from the ACKed messages behind the head. */
	for (unsigned i = 3; i < 6; i++) {
		send_one(f, l, i, &g[i]);
		hl_sharer_link_stats(l, &st);
		assert_int_equal(st.dropped, 0);
		assert_int_equal(st.pending, i - 1);
		assert_balanced(&st);
	}
	assert_int_equal(st.queued, 6);
	assert_int_equal(st.sent, 6);
	/* Full: record 6 pushes out record 0 (message 1, still un-ACKed). */
	send_one(f, l, 6, &g[6]);
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.pending, 4);
	assert_balanced(&st);
	/* An ACK of the dropped message counts nothing. */
	ack(f, &g[6]);
	ack(f, &g[0]);
	ack(f, &g[4]);
	ack(f, &g[3]);
	ack(f, &g[5]);
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.queued, 7);
	assert_int_equal(st.sent, 7);
	assert_int_equal(st.acked, 6);
	assert_int_equal(st.messages_acked, 6);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.resent + st.refused + st.invalid, 0);
	struct got extra;
	assert_false(fake_recv(f, &extra, 0)); /* nothing came twice */
	free_got(g, 7);
	hl_sharer_link_destroy(&l);
}

/* The head message stays un-ACKed while 20 later ones are ACKed one by
 * one: the ring of 3 wraps and compacts again and again, pending stays 1,
 * nothing is dropped; a reconnect then sends the head again, and only it. */
static void test_stuck_head(void **state)
{
	struct fake *f = *state;
	fake_bind(f);
	hl_sharer_link_t *l = link_new(f, 3, 600000);
	struct got head;
	send_one(f, l, 0, &head);
	struct hl_sharer_link_stats st;
	for (unsigned i = 1; i <= 20; i++) {
		struct got g;
		send_one(f, l, i, &g);
		ack(f, &g);
		json_decref(g.body);
		wait_messages_acked(l, i, &st);
		assert_int_equal(st.pending, 1);
		assert_int_equal(st.dropped, 0);
		assert_int_equal(st.acked, i);
		assert_balanced(&st);
	}
	fake_unbind(f);
	fake_bind(f);
	struct got r;
	assert_true(fake_recv(f, &r, DEADLINE_MS));
	assert_string_equal(r.env.id, head.env.id);
	assert_true(json_equal(r.body, head.body));
	ack(f, &r);
	json_decref(r.body);
	wait_messages_acked(l, 21, &st);
	assert_int_equal(hl_sharer_link_flush(l, DEADLINE_MS), 0);
	/* A second copy may have left before the ACK (both the drop and the
	 * new handshake send again); nothing else may. */
	while (fake_recv(f, &r, 0)) {
		assert_string_equal(r.env.id, head.env.id);
		json_decref(r.body);
	}
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.queued, 21);
	assert_int_equal(st.sent, 21);
	assert_int_equal(st.acked, 21);
	assert_int_equal(st.messages_acked, 21);
	assert_int_equal(st.pending + st.dropped + st.refused, 0);
	assert_true(st.resent >= 1);
	json_decref(head.body);
	hl_sharer_link_destroy(&l);
}

static void test_bad_options(void **state)
{
	(void)state;
	char err[256];
	struct hl_sharer_link_opts o = {.endpoint = "udp://x", .name = "s1"};
	assert_null(hl_sharer_link_new(&o, err, sizeof err));
	assert_non_null(strstr(err, "not ipc:// or tcp://"));
	o.endpoint = "ipc:///tmp/x.sock";
	o.name = "-bad";
	assert_null(hl_sharer_link_new(&o, err, sizeof err));
	o.name = "s1";
	o.endpoint = "tcp://127.0.0.1:1";
	assert_null(hl_sharer_link_new(&o, err, sizeof err));
	assert_non_null(strstr(err, "tcp needs the sharer's public key"));
	o.server_key_file = "/nonexistent/sharer.pub";
	assert_null(hl_sharer_link_new(&o, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/sharer.pub"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_invalid_lines, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_own_records_framing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sent_and_acked_in_one_ack, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_batches_while_away, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_batch_bytes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_full_queue_drops_oldest, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_oversize_names_the_remedy, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_resend_after_reconnect, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_out_of_order_ack, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stuck_head, setup, teardown),
	        cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
