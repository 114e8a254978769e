/* \summary: unit tests for the sharer transport: CURVE, ZAP admission, identity, reconnects
 *
 * Two transports (alpha, bravo, ...) talk over loopback TCP or ipc in one
 * process. Nothing sleeps: tests wait for monitor events or messages with a
 * deadline (DEADLINE_MS), and a "nothing arrives" check polls for a short
 * quiet period (QUIET_MS) after the event that makes arrival impossible.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <zmq.h>

#include "hotline/err.h"
#include "transport.h"
#include "zap.h"

#define DEADLINE_MS 20000 /* only a failing test waits this long (ASan, loaded host) */
#define QUIET_MS 200

/* Test keys, never used anywhere else. */
static const struct hl_keypair alpha_kp = {"-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G",
                                           "lfZ+yUkPd=u#my6l^%sBLlXMyS]zlmz3rknOaqNx"};
static const struct hl_keypair bravo_kp = {"jO#6IM/BTL?qK8QX84JN>r/&&g0^i-osj?izNgJT",
                                           "b29%ZVuvK1B5^(f<InFet<w11!tfdtwLvGC}5Nn0"};
static const struct hl_keypair charlie_kp = {"?e4Oo{>hV+c)Y=ZDr]6JVm1(oLC+2D&cZ&Igqr9)",
                                             "e/t)+YqjnsA}Hw(M3fB*3*+4g}*Kr)>%Z>q3K=k#"};
static const struct hl_keypair mallory_kp = {"-z[07Z3{]ocap)ytROs!>uKgvnUS>P.iIBgUqoS8",
                                             ":CiX+N88Qz=(k*J3Gt6*dAcc4^^afXHeI4P0ie!X"};

/* --- helpers ------------------------------------------------------------ */

struct logcap {
	pthread_mutex_t mu;
	char buf[65536];
	size_t len;
};

static void cap_log(void *ctx, enum hl_log_level level, const char *msg)
{
	struct logcap *c = ctx;
	pthread_mutex_lock(&c->mu);
	size_t room = sizeof c->buf - c->len;
	int n = snprintf(c->buf + c->len, room, "%s: %s\n", hl_log_level_name(level), msg);
	if (n > 0)
		c->len += (size_t)n < room ? (size_t)n : room - 1;
	pthread_mutex_unlock(&c->mu);
	if (getenv("HL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "[log] %s: %s\n", hl_log_level_name(level), msg);
}

static bool cap_has(struct logcap *c, const char *needle)
{
	pthread_mutex_lock(&c->mu);
	bool found = strstr(c->buf, needle) != NULL;
	pthread_mutex_unlock(&c->mu);
	return found;
}

static struct logcap *cap_new(void)
{
	struct logcap *c = calloc(1, sizeof *c);
	assert_non_null(c);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static void cap_free(struct logcap *c)
{
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_opts(struct hl_transport_opts *o, const char *name, const struct hl_keypair *kp,
                      struct logcap *cap)
{
	hl_transport_opts_init(o);
	o->name = name;
	o->keys = kp;
	o->log = cap_log;
	o->log_ctx = cap;
	/* Short backoff so that reconnects happen well inside the deadline. */
	o->reconnect_ivl_ms = 20;
	o->reconnect_ivl_max_ms = 200;
}

static hl_transport_t *mk(const char *name, const struct hl_keypair *kp, struct logcap *cap)
{
	struct hl_transport_opts o;
	test_opts(&o, name, kp, cap);
	int err = 0;
	hl_transport_t *t = hl_transport_new(&o, &err);
	assert_non_null(t);
	return t;
}

static void allow(hl_transport_t *t, const struct hl_peer_key *peers, size_t n)
{
	assert_int_equal(hl_transport_set_allowlist(t, peers, n, NULL), 0);
}

static hl_tp_sock_t *listen_tcp(hl_transport_t *t)
{
	int err = 0;
	hl_tp_sock_t *s = hl_tp_listen(t, "tcp://127.0.0.1:*", &err);
	assert_non_null(s);
	assert_int_equal(strncmp(hl_tp_endpoint(s), "tcp://127.0.0.1:", 16), 0);
	assert_null(strchr(hl_tp_endpoint(s), '*'));
	assert_int_equal(hl_tp_state(s), HL_TP_LISTENING);
	return s;
}

static hl_tp_sock_t *dial(hl_transport_t *t, const char *peer, hl_tp_sock_t *server,
                          const struct hl_keypair *server_kp)
{
	int err = 0;
	hl_tp_sock_t *s =
	        hl_tp_connect(t, peer, hl_tp_endpoint(server), server_kp->public_z85, &err);
	assert_non_null(s);
	return s;
}

static void expect_event(hl_tp_sock_t *s, unsigned mask, struct hl_tp_event *ev)
{
	assert_int_equal(hl_tp_wait_event(s, mask, DEADLINE_MS, ev), 0);
	assert_true((ev->event & mask) != 0);
}

static void expect_up(hl_tp_sock_t *s)
{
	struct hl_tp_event ev;
	expect_event(s, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, &ev);
	assert_int_equal(hl_tp_state(s), HL_TP_UP);
}

/* Pump s's monitor until cond (over its counters tc_) holds, or fail at the deadline. */
#define PUMP_UNTIL(s, cond)                            \
	do {                                           \
		int64_t dl_ = mono_ms() + DEADLINE_MS; \
		struct hl_tp_counters tc_;             \
		for (;;) {                             \
			hl_tp_counters((s), &tc_);     \
			if (cond)                      \
				break;                 \
			assert_true(mono_ms() < dl_);  \
			hl_tp_pump((s), 50);           \
		}                                      \
	} while (0)

static void send_text(hl_tp_sock_t *s, const char *text)
{
	struct hl_frame f = {text, strlen(text)};
	assert_int_equal(hl_tp_send(s, &f, 1), 0);
}

static void frame_is(const struct hl_tp_msg *m, size_t i, const char *text)
{
	assert_true(i < m->nframes);
	assert_int_equal(m->frames[i].len, strlen(text));
	assert_memory_equal(m->frames[i].data, text, strlen(text));
}

static void expect_text(hl_tp_sock_t *s, struct hl_tp_msg *m, const char *peer, const char *text)
{
	assert_int_equal(hl_tp_recv(s, m, DEADLINE_MS), 0);
	assert_string_equal(m->peer, peer);
	assert_int_equal(m->nframes, 1);
	frame_is(m, 0, text);
}

static void expect_nothing(hl_tp_sock_t *s)
{
	struct hl_tp_msg m = {0};
	assert_int_equal(hl_tp_recv(s, &m, QUIET_MS), HL_EAGAIN);
	assert_int_equal(m.nframes, 0);
}

static const char *fpr_of(const struct hl_keypair *kp, char out[HL_KEY_FPR_LEN + 1])
{
	assert_int_equal(hl_key_fingerprint_z85(kp->public_z85, out), 0);
	return out;
}

/* Raw libzmq monitor for sockets the transport does not own. */
static void *raw_monitor(void *ctx, void *sock, const char *ep)
{
	assert_int_equal(zmq_socket_monitor(sock, ep, ZMQ_EVENT_ALL), 0);
	void *mon = zmq_socket(ctx, ZMQ_PAIR);
	assert_non_null(mon);
	assert_int_equal(zmq_connect(mon, ep), 0);
	return mon;
}

static unsigned raw_wait_event(void *mon, unsigned mask)
{
	int64_t dl = mono_ms() + DEADLINE_MS;
	if (getenv("HL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "[raw wait] from %lld\n", (long long)mono_ms());
	for (;;) {
		long left = (long)(dl - mono_ms());
		assert_true(left > 0);
		zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&it, 1, left) <= 0)
			continue;
		zmq_msg_t a, b;
		zmq_msg_init(&a);
		zmq_msg_init(&b);
		assert_true(zmq_msg_recv(&a, mon, 0) >= 0);
		assert_true(zmq_msg_recv(&b, mon, 0) >= 0);
		uint16_t e;
		memcpy(&e, zmq_msg_data(&a), sizeof e);
		zmq_msg_close(&a);
		zmq_msg_close(&b);
		if (getenv("HL_TEST_VERBOSE") != NULL)
			fprintf(stderr, "[raw event] 0x%x at %lld\n", e, (long long)mono_ms());
		if (e & mask)
			return e;
	}
}

/* Stop the monitor before closing its reader: libzmq 4.3.4 sends events
 * with a blocking send from its I/O thread, which would wait for ever for a
 * reader that is gone, stalling every socket of the context. */
static void raw_close_monitored(void *sock, void *mon)
{
	zmq_socket_monitor(sock, NULL, 0);
	zmq_close(sock);
	zmq_close(mon);
}

static void *raw_socket(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	assert_non_null(s);
	int zero = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	return s;
}

/* --- tests -------------------------------------------------------------- */

static void allowed_key_round_trip(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	hl_transport_t *bravo = mk("bravo", &bravo_kp, cap);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);

	hl_tp_sock_t *srv = listen_tcp(alpha);
	hl_tp_sock_t *cli = dial(bravo, "alpha", srv, &alpha_kp);
	expect_up(cli);

	struct hl_frame out[3] = {{"hello", 5}, {"", 0}, {"world", 5}};
	assert_int_equal(hl_tp_send(cli, out, 3), 0);
	struct hl_tp_msg m = {0};
	assert_int_equal(hl_tp_recv(srv, &m, DEADLINE_MS), 0);
	assert_string_equal(m.peer, "bravo");
	assert_int_equal(m.auth, HL_TP_AUTH_ZAP);
	assert_int_equal(m.route_len, 5);
	assert_memory_equal(m.route, "bravo", 5);
	assert_false(m.route_mismatch);
	assert_string_equal(m.address, "127.0.0.1");
	assert_int_equal(m.nframes, 3);
	frame_is(&m, 0, "hello");
	frame_is(&m, 1, "");
	frame_is(&m, 2, "world");

	/* the reply goes back over the route the message came in on */
	struct hl_frame ack = {"ack", 3};
	assert_int_equal(hl_tp_reply(srv, &m, &ack, 1), 0);
	struct hl_tp_msg r = {0};
	expect_text(cli, &r, "alpha", "ack");
	assert_int_equal(r.auth, HL_TP_AUTH_SERVER_KEY);
	assert_int_equal(r.route_len, 0);

	/* or to a routing id; an unknown one is an error, not a silent drop */
	struct hl_frame push = {"push", 4};
	assert_int_equal(hl_tp_send_route(srv, m.route, m.route_len, &push, 1), 0);
	expect_text(cli, &r, "alpha", "push");
	assert_int_equal(hl_tp_send_route(srv, "nobody", 6, &push, 1), HL_ENOTFOUND);
	/* the DEALER's reply goes to its one peer */
	assert_int_equal(hl_tp_reply(cli, &r, &ack, 1), 0);
	expect_text(srv, &m, "bravo", "ack");

	struct hl_tp_peer_stats ps;
	assert_int_equal(hl_tp_peer_stats(srv, "bravo", &ps), 0);
	assert_int_equal(ps.msgs_in, 2);
	assert_int_equal(ps.bytes_in, 13);
	assert_int_equal(ps.msgs_out, 1); /* replies are counted per peer */
	assert_int_equal(ps.bytes_out, 3);
	assert_int_equal(ps.route_mismatch, 0);
	assert_int_equal(hl_tp_peer_stats(srv, "charlie", &ps), HL_ENOTFOUND);

	struct hl_tp_counters c;
	hl_tp_counters(cli, &c);
	assert_int_equal(c.handshakes_ok, 1);
	assert_int_equal(c.msgs_out, 2);
	assert_int_equal(c.msgs_in, 2);
	assert_int_equal(c.bytes_out, 13);
	PUMP_UNTIL(srv, tc_.handshakes_ok == 1);
	hl_tp_counters(srv, &c);
	assert_int_equal(c.connects, 1);
	assert_int_equal(c.msgs_in, 2);
	assert_int_equal(c.send_unroutable, 1);
	assert_int_equal(c.handshakes_failed_auth, 0);

	struct hl_zap_stats zs;
	hl_transport_zap_stats(alpha, &zs);
	assert_int_equal(zs.requests, 1);
	assert_int_equal(zs.admitted, 1);
	assert_int_equal(zs.refused, 0);
	char fpr[HL_KEY_FPR_LEN + 1], line[128];
	snprintf(line, sizeof line, "admitted bravo (key %s) from 127.0.0.1",
	         fpr_of(&bravo_kp, fpr));
	assert_true(cap_has(cap, line));

	/* wrong-direction calls are refused, not sent */
	assert_int_equal(hl_tp_send(srv, &push, 1), HL_EINVAL);
	assert_int_equal(hl_tp_send_route(cli, "x", 1, &push, 1), HL_EINVAL);
	assert_int_equal(hl_tp_send(cli, NULL, 0), HL_EINVAL);

	hl_tp_msg_clear(&m);
	hl_tp_msg_clear(&r);
	hl_tp_close(&cli);
	hl_tp_close(&srv);
	assert_null(srv);
	hl_transport_destroy(&bravo);
	hl_transport_destroy(&alpha);
	assert_null(alpha);
	cap_free(cap);
}

static void unlisted_key_refused(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	hl_transport_t *mallory = mk("mallory", &mallory_kp, cap);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);
	hl_tp_sock_t *cli = dial(mallory, "alpha", srv, &alpha_kp);

	struct hl_tp_event ev;
	expect_event(cli, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, &ev);
	assert_int_equal(ev.value, 400);
	assert_int_equal(hl_tp_state(cli), HL_TP_REFUSED);
	/* no completed connection: the send is refused, not queued */
	struct hl_frame f = {"let me in", 9};
	assert_int_equal(hl_tp_send(cli, &f, 1), HL_EAGAIN);
	expect_nothing(srv);

	struct hl_zap_stats zs;
	hl_transport_zap_stats(alpha, &zs);
	assert_true(zs.refused_unknown_key >= 1);
	assert_int_equal(zs.refused, zs.refused_unknown_key);
	assert_int_equal(zs.admitted, 0);
	PUMP_UNTIL(srv, tc_.handshakes_failed_auth >= 1);
	struct hl_tp_counters c;
	hl_tp_counters(srv, &c);
	assert_int_equal(c.msgs_in, 0);
	assert_int_equal(c.handshakes_ok, 0);
	hl_tp_counters(cli, &c);
	assert_int_equal(c.send_again, 1);

	/* what the operator sees on both sides */
	char fpr[HL_KEY_FPR_LEN + 1], line[160];
	snprintf(line, sizeof line,
	         "zap: refused CURVE key %s from 127.0.0.1: not in the allowlist (refusal #1",
	         fpr_of(&mallory_kp, fpr));
	assert_true(cap_has(cap, line));
	snprintf(line, sizeof line, "alpha at %s refused our key %s", hl_tp_endpoint(cli), fpr);
	assert_true(cap_has(cap, line));

	hl_tp_close(&cli);
	hl_tp_close(&srv);
	hl_transport_destroy(&mallory);
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

/* Pinning the wrong server key: the handshake cannot complete, whoever
 * listens there (the server cannot even read our HELLO). */
static void wrong_server_key_never_connects(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	hl_transport_t *bravo = mk("bravo", &bravo_kp, cap);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);
	hl_tp_sock_t *cli = dial(bravo, "alpha", srv, &charlie_kp); /* not alpha's key */
	PUMP_UNTIL(srv, tc_.handshakes_failed_protocol + tc_.handshakes_failed_other >= 1);
	PUMP_UNTIL(cli, tc_.handshakes_failed_protocol + tc_.handshakes_failed_other >= 1);
	struct hl_frame f = {"secret", 6};
	assert_int_equal(hl_tp_send(cli, &f, 1), HL_EAGAIN);
	expect_nothing(srv);
	struct hl_tp_counters c;
	hl_tp_counters(cli, &c);
	assert_int_equal(c.handshakes_ok, 0);
	assert_true(hl_tp_state(cli) != HL_TP_UP);
	hl_tp_counters(srv, &c);
	assert_int_equal(c.handshakes_ok, 0);
	struct hl_zap_stats zs;
	hl_transport_zap_stats(alpha, &zs);
	assert_int_equal(zs.requests, 0); /* it never got as far as ZAP */
	char line[160];
	snprintf(line, sizeof line, "transport: handshake with alpha failed: ");
	assert_true(cap_has(cap, line));

	hl_tp_close(&cli);
	hl_tp_close(&srv);
	hl_transport_destroy(&bravo);
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

static void plaintext_client_refused(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);

	void *ctx = zmq_ctx_new();
	void *raw = raw_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(raw, ZMQ_ROUTING_ID, "bravo", 5); /* a claimed name buys nothing */
	void *mon = raw_monitor(ctx, raw, "inproc://raw-null");
	assert_int_equal(zmq_connect(raw, hl_tp_endpoint(srv)), 0);
	assert_int_equal(zmq_send(raw, "plain", 5, ZMQ_DONTWAIT), 5); /* queued */
	assert_int_equal(raw_wait_event(mon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL),
	                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
	/* The server sees the mismatch, or the client hanging up on finding it
	 * first (no detail): which one is a race. */
	PUMP_UNTIL(srv, tc_.handshakes_failed_protocol + tc_.handshakes_failed_other >= 1);
	expect_nothing(srv);
	raw_close_monitored(raw, mon);

	/* PLAIN (username/password) is no better */
	raw = raw_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(raw, ZMQ_PLAIN_USERNAME, "bravo", 5);
	zmq_setsockopt(raw, ZMQ_PLAIN_PASSWORD, "secret", 6);
	mon = raw_monitor(ctx, raw, "inproc://raw-plain");
	assert_int_equal(zmq_connect(raw, hl_tp_endpoint(srv)), 0);
	assert_int_equal(zmq_send(raw, "plain", 5, ZMQ_DONTWAIT), 5);
	raw_wait_event(mon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
	PUMP_UNTIL(srv, tc_.handshakes_failed_protocol + tc_.handshakes_failed_other >= 2);
	expect_nothing(srv);
	raw_close_monitored(raw, mon);
	zmq_ctx_term(ctx);

	struct hl_tp_counters c;
	hl_tp_counters(srv, &c);
	assert_int_equal(c.msgs_in, 0);
	assert_int_equal(c.handshakes_ok, 0);
	/* refused at the greeting (mechanism mismatch): ZAP is never asked */
	struct hl_zap_stats zs;
	hl_transport_zap_stats(alpha, &zs);
	assert_int_equal(zs.requests, 0);
	char line[128];
	snprintf(line, sizeof line, "transport: handshake on %s failed: ", hl_tp_endpoint(srv));
	assert_true(cap_has(cap, line));

	hl_tp_close(&srv);
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

/* The ZAP handler alone, on sockets set up by hand: it refuses what our own
 * sockets never ask it about (NULL, PLAIN, another domain). */
static void zap_refuses_other_mechanisms(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	void *ctx = zmq_ctx_new();
	int err = 0;
	hl_zap_t *zap = hl_zap_new(ctx, cap_log, cap, &err);
	assert_non_null(zap);
	assert_null(hl_zap_new(ctx, cap_log, cap, &err));
	assert_int_equal(err, HL_EEXISTS);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	assert_int_equal(hl_zap_set_allowlist(zap, peers, 1, NULL), 0);

	struct {
		const char *domain;
		int mech; /* 0 NULL, 1 PLAIN, 2 CURVE */
		bool admitted;
	} cases[] = {
	        {HL_ZAP_DOMAIN, 0, false},
	        {HL_ZAP_DOMAIN, 1, false},
	        {"elsewhere", 2, false},
	        {HL_ZAP_DOMAIN, 2, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		void *srv = raw_socket(ctx, ZMQ_ROUTER);
		void *cli = raw_socket(ctx, ZMQ_DEALER);
		int one = 1;
		zmq_setsockopt(srv, ZMQ_ZAP_DOMAIN, cases[i].domain, strlen(cases[i].domain));
		if (cases[i].mech == 1) {
			zmq_setsockopt(srv, ZMQ_PLAIN_SERVER, &one, sizeof one);
			zmq_setsockopt(cli, ZMQ_PLAIN_USERNAME, "bravo", 5);
			zmq_setsockopt(cli, ZMQ_PLAIN_PASSWORD, "pw", 2);
		} else if (cases[i].mech == 2) {
			zmq_setsockopt(srv, ZMQ_CURVE_SERVER, &one, sizeof one);
			zmq_setsockopt(srv, ZMQ_CURVE_SECRETKEY, alpha_kp.secret_z85, 40);
			zmq_setsockopt(cli, ZMQ_CURVE_SERVERKEY, alpha_kp.public_z85, 40);
			zmq_setsockopt(cli, ZMQ_CURVE_PUBLICKEY, bravo_kp.public_z85, 40);
			zmq_setsockopt(cli, ZMQ_CURVE_SECRETKEY, bravo_kp.secret_z85, 40);
		}
		char ep[64], mep[64];
		size_t len = sizeof ep;
		assert_int_equal(zmq_bind(srv, "tcp://127.0.0.1:*"), 0);
		assert_int_equal(zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, ep, &len), 0);
		snprintf(mep, sizeof mep, "inproc://zap-case-%zu", i);
		void *mon = raw_monitor(ctx, cli, mep);
		assert_int_equal(zmq_connect(cli, ep), 0);
		unsigned e = raw_wait_event(mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
		                                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
		assert_int_equal(e, cases[i].admitted ? ZMQ_EVENT_HANDSHAKE_SUCCEEDED
		                                      : ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
		if (cases[i].admitted) {
			assert_int_equal(zmq_send(cli, "hi", 2, 0), 2);
			zmq_msg_t m;
			zmq_msg_init(&m);
			assert_true(zmq_msg_recv(&m, srv, 0) >= 0);
			assert_string_equal(zmq_msg_gets(&m, "User-Id"), "bravo");
			assert_string_equal(zmq_msg_gets(&m, HL_ZAP_KEY_PROPERTY),
			                    bravo_kp.public_z85);
			assert_true(zmq_msg_more(&m));
			assert_true(zmq_msg_recv(&m, srv, 0) >= 0);
			zmq_msg_close(&m);
		}
		raw_close_monitored(cli, mon);
		zmq_close(srv);
	}
	struct hl_zap_stats zs;
	hl_zap_stats(zap, &zs);
	assert_int_equal(zs.requests, 4);
	assert_int_equal(zs.admitted, 1);
	assert_int_equal(zs.refused, 3);
	assert_int_equal(zs.refused_mechanism, 2);
	assert_int_equal(zs.refused_domain, 1);
	assert_int_equal(zs.refused_unknown_key, 0);
	assert_true(cap_has(cap, "zap: refused NULL client from 127.0.0.1: only CURVE is admitted "
	                         "(refusal #1 for this reason)"));
	assert_true(cap_has(cap, "zap: refused PLAIN client from 127.0.0.1: only CURVE is admitted "
	                         "(refusal #2 for this reason)"));
	assert_true(cap_has(cap, "zap: refused CURVE client from 127.0.0.1: unknown ZAP domain "
	                         "elsewhere (refusal #1"));

	uint8_t bin[HL_KEY_BIN_LEN];
	assert_int_equal(hl_key_decode(bravo_kp.public_z85, bin), 0);
	assert_true(hl_zap_check(zap, bin, "bravo"));
	assert_false(hl_zap_check(zap, bin, "charlie"));

	/* a bad allowlist is refused whole; the old one stays */
	struct hl_diag diag = {0};
	const struct hl_peer_key bad_name[] = {{"bravo", bravo_kp.public_z85}, {"../x", NULL}};
	assert_int_equal(hl_zap_set_allowlist(zap, bad_name, 2, &diag), HL_EINVAL);
	const struct hl_peer_key bad_key[] = {{"charlie", "not a key"}};
	assert_int_equal(hl_zap_set_allowlist(zap, bad_key, 1, &diag), HL_EINVAL);
	const struct hl_peer_key twice[] = {{"bravo", bravo_kp.public_z85},
	                                    {"charlie", bravo_kp.public_z85}};
	assert_int_equal(hl_zap_set_allowlist(zap, twice, 2, &diag), HL_EINVAL);
	assert_int_equal(diag.errors, 3);
	assert_int_equal(hl_zap_set_allowlist(zap, peers, HL_ZAP_MAX_PEERS + 1, &diag), HL_ELIMIT);
	assert_true(hl_zap_check(zap, bin, "bravo"));
	/* the same entry twice, and two keys for one name (rotation), are fine */
	const struct hl_peer_key rotate[] = {{"bravo", bravo_kp.public_z85},
	                                     {"bravo", bravo_kp.public_z85},
	                                     {"bravo", charlie_kp.public_z85}};
	assert_int_equal(hl_zap_set_allowlist(zap, rotate, 3, &diag), 0);
	uint8_t bin2[HL_KEY_BIN_LEN];
	assert_int_equal(hl_key_decode(charlie_kp.public_z85, bin2), 0);
	assert_true(hl_zap_check(zap, bin2, "bravo"));
	assert_int_equal(hl_zap_set_allowlist(zap, NULL, 0, &diag), 0);
	assert_false(hl_zap_check(zap, bin, "bravo"));

	hl_zap_destroy(&zap);
	assert_null(zap);
	hl_zap_destroy(&zap);
	zmq_ctx_term(ctx);
	cap_free(cap);
}

static void routing_id_is_not_identity(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	/* bravo's key, but it calls itself "alpha" */
	hl_transport_t *liar = mk("alpha", &bravo_kp, cap);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);
	hl_tp_sock_t *cli = dial(liar, "alpha", srv, &alpha_kp);
	expect_up(cli);
	send_text(cli, "I am alpha");

	struct hl_tp_msg m = {0};
	expect_text(srv, &m, "bravo", "I am alpha");
	assert_int_equal(m.auth, HL_TP_AUTH_ZAP);
	assert_int_equal(m.route_len, 5);
	assert_memory_equal(m.route, "alpha", 5);
	assert_true(m.route_mismatch);
	struct hl_tp_peer_stats ps;
	assert_int_equal(hl_tp_peer_stats(srv, "bravo", &ps), 0);
	assert_int_equal(ps.route_mismatch, 1);
	assert_int_equal(hl_tp_peer_stats(srv, "alpha", &ps), HL_ENOTFOUND);
	struct hl_tp_counters c;
	hl_tp_counters(srv, &c);
	assert_int_equal(c.route_mismatch, 1);
	assert_true(cap_has(cap, "bravo (127.0.0.1) sent with a routing id that is not its name"));

	/* the routing id stays what it is, an address: a reply reaches the
	 * connection the message came on */
	struct hl_frame f = {"for bravo", 9};
	assert_int_equal(hl_tp_reply(srv, &m, &f, 1), 0);
	struct hl_tp_msg r = {0};
	expect_text(cli, &r, "alpha", "for bravo");

	hl_tp_msg_clear(&m);
	hl_tp_msg_clear(&r);
	hl_transport_destroy(&liar); /* closes cli */
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

static void allowlist_swap(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	hl_transport_t *charlie = mk("charlie", &charlie_kp, cap);
	const struct hl_peer_key only_bravo[] = {{"bravo", bravo_kp.public_z85}};
	const struct hl_peer_key with_charlie[] = {{"bravo", bravo_kp.public_z85},
	                                           {"charlie", charlie_kp.public_z85}};
	allow(alpha, only_bravo, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);
	hl_tp_sock_t *cli = dial(charlie, "alpha", srv, &alpha_kp);
	struct hl_tp_event ev;
	expect_event(cli, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, &ev);

	/* admitted at its next reconnect, with no restart of anything */
	assert_true(hl_tp_next_timeout(cli) >= 0); /* a re-dial is scheduled */
	allow(alpha, with_charlie, 2);
	expect_up(cli);
	assert_int_equal(hl_tp_next_timeout(cli), -1);
	struct hl_tp_counters cc;
	hl_tp_counters(cli, &cc);
	assert_true(cc.redials >= 1);
	assert_int_equal(cc.handshakes_ok, 1);
	assert_int_equal(cc.handshakes_failed_auth, cc.redials);
	send_text(cli, "admitted");
	struct hl_tp_msg m = {0};
	expect_text(srv, &m, "charlie", "admitted");
	struct hl_zap_stats zs;
	hl_transport_zap_stats(alpha, &zs);
	assert_int_equal(zs.admitted, 1);
	assert_true(zs.refused_unknown_key >= 1);

	/* revoked: the live connection's messages are dropped... */
	allow(alpha, only_bravo, 1);
	send_text(cli, "revoked");
	expect_nothing(srv);
	struct hl_tp_counters c;
	hl_tp_counters(srv, &c);
	assert_int_equal(c.dropped_revoked, 1);
	assert_int_equal(c.msgs_in, 1);
	assert_true(cap_has(cap, "dropped a message from charlie (127.0.0.1): its key is no "
	                         "longer allowed for that name"));
	/* ...and a new connection is refused */
	hl_tp_sock_t *cli2 = dial(charlie, "alpha", srv, &alpha_kp);
	expect_event(cli2, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, &ev);

	hl_tp_msg_clear(&m);
	hl_tp_close(&cli2);
	hl_tp_close(&cli);
	hl_tp_close(&srv);
	hl_transport_destroy(&charlie);
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

static void reconnects_after_server_restart(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	hl_transport_t *alpha = mk("alpha", &alpha_kp, cap);
	hl_transport_t *bravo = mk("bravo", &bravo_kp, cap);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);
	char ep[HL_TP_ENDPOINT_MAX];
	snprintf(ep, sizeof ep, "%s", hl_tp_endpoint(srv));
	hl_tp_sock_t *cli = dial(bravo, "alpha", srv, &alpha_kp);
	expect_up(cli);
	send_text(cli, "before");
	struct hl_tp_msg m = {0};
	expect_text(srv, &m, "bravo", "before");

	hl_tp_close(&srv); /* returns once the port is free */
	struct hl_tp_event ev;
	expect_event(cli, ZMQ_EVENT_DISCONNECTED, &ev);
	assert_int_equal(hl_tp_state(cli), HL_TP_DOWN);
	assert_true(cap_has(cap, "connection to alpha at "));

	int err = 0;
	srv = hl_tp_listen(alpha, ep, &err);
	assert_non_null(srv);
	assert_string_equal(hl_tp_endpoint(srv), ep);
	expect_up(cli);
	send_text(cli, "after");
	expect_text(srv, &m, "bravo", "after");

	struct hl_tp_counters c;
	hl_tp_counters(cli, &c);
	assert_int_equal(c.handshakes_ok, 2);
	assert_true(c.disconnects >= 1);
	assert_int_equal(c.msgs_out, 2);
	assert_int_equal(c.redials, 0); /* libzmq reconnected by itself */

	/* bravo comes back on a new connection while alpha still holds the
	 * old one (NAT timeout, suspend): the newest connection takes over
	 * the routing id, and its messages arrive */
	hl_tp_sock_t *cli2 = dial(bravo, "alpha", srv, &alpha_kp);
	expect_up(cli2);
	send_text(cli2, "new connection");
	expect_text(srv, &m, "bravo", "new connection");
	struct hl_frame f = {"to the newest", 13};
	assert_int_equal(hl_tp_reply(srv, &m, &f, 1), 0);
	struct hl_tp_msg r = {0};
	expect_text(cli2, &r, "alpha", "to the newest");
	hl_tp_msg_clear(&r);
	hl_tp_close(&cli2);

	hl_tp_msg_clear(&m);
	hl_tp_close(&cli);
	hl_tp_close(&srv);
	hl_transport_destroy(&bravo);
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

static void frame_and_size_limits(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	struct hl_transport_opts o;
	test_opts(&o, "alpha", &alpha_kp, cap);
	o.max_frames = 3;
	o.max_msg_size = 1024;
	int err = 0;
	hl_transport_t *alpha = hl_transport_new(&o, &err);
	assert_non_null(alpha);
	hl_transport_t *bravo = mk("bravo", &bravo_kp, cap); /* default, larger limits */
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	allow(alpha, peers, 1);
	hl_tp_sock_t *srv = listen_tcp(alpha);
	hl_tp_sock_t *cli = dial(bravo, "alpha", srv, &alpha_kp);
	expect_up(cli);

	static char big[2000];
	memset(big, 'x', sizeof big);
	struct hl_frame four[4] = {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}};
	struct hl_frame split[3] = {{big, 500}, {big, 500}, {big, 500}};
	assert_int_equal(hl_tp_send(cli, four, 4), 0);  /* too many for alpha */
	assert_int_equal(hl_tp_send(cli, split, 3), 0); /* 1500 bytes in all */
	send_text(cli, "fine");
	struct hl_tp_msg m = {0};
	expect_text(srv, &m, "bravo", "fine"); /* the rest is still processed */
	struct hl_tp_counters c;
	hl_tp_counters(srv, &c);
	assert_int_equal(c.dropped_frames, 1);
	assert_int_equal(c.dropped_oversize, 1);
	assert_int_equal(c.msgs_in, 1);
	assert_true(cap_has(cap, "dropped a message from bravo (127.0.0.1): 4 payload frames, "
	                         "allowed 1-3"));

	/* alpha will not send what bravo could not take either */
	assert_int_equal(hl_tp_reply(srv, &m, four, 4), HL_ELIMIT);
	struct hl_frame huge = {big, sizeof big};
	assert_int_equal(hl_tp_reply(srv, &m, &huge, 1), HL_ELIMIT);

	/* one frame over ZMQ_MAXMSGSIZE: libzmq drops the whole connection, and
	 * the sender only sees a disconnect (then reconnects) */
	assert_int_equal(hl_tp_send(cli, &huge, 1), 0);
	struct hl_tp_event ev;
	expect_event(cli, ZMQ_EVENT_DISCONNECTED, &ev);
	expect_up(cli);
	send_text(cli, "again");
	expect_text(srv, &m, "bravo", "again");
	hl_tp_counters(srv, &c);
	assert_int_equal(c.msgs_in, 2);
	assert_true(c.disconnects >= 1);

	hl_tp_msg_clear(&m);
	hl_transport_destroy(&bravo);
	hl_transport_destroy(&alpha);
	cap_free(cap);
}

static void local_ipc_listener(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	char dir[64] = "/tmp/hl-tp-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[96], ep[128];
	snprintf(path, sizeof path, "%s/sensor.sock", dir);
	snprintf(ep, sizeof ep, "ipc://%s", path);

	hl_transport_t *alpha = mk("alpha", NULL, cap); /* no keys: local only */
	int err = 0;
	hl_tp_sock_t *pull = hl_tp_listen_local(alpha, ep, HL_TP_LOCAL_PULL, "sensor", 0, &err);
	assert_non_null(pull);
	assert_string_equal(hl_tp_endpoint(pull), ep);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* bounded queue, no heartbeats: docs/transport.md, "Queues and sizes" */
	int v = -1;
	size_t vlen = sizeof v;
	assert_int_equal(zmq_getsockopt(hl_tp_zsocket(pull), ZMQ_RCVHWM, &v, &vlen), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(zmq_getsockopt(hl_tp_zsocket(pull), ZMQ_HEARTBEAT_IVL, &v, &vlen), 0);
	assert_int_equal(v, 0);

	void *ctx = zmq_ctx_new();
	void *push = raw_socket(ctx, ZMQ_PUSH);
	assert_int_equal(zmq_connect(push, ep), 0);
	assert_int_equal(zmq_send(push, "sighting", 8, ZMQ_SNDMORE), 8);
	assert_int_equal(zmq_send(push, "{}", 2, 0), 2);
	struct hl_tp_msg m = {0};
	assert_int_equal(hl_tp_recv(pull, &m, DEADLINE_MS), 0);
	assert_string_equal(m.peer, "sensor");
	assert_int_equal(m.auth, HL_TP_AUTH_LOCAL);
	assert_int_equal(m.route_len, 0);
	assert_int_equal(m.nframes, 2);
	frame_is(&m, 0, "sighting");
	frame_is(&m, 1, "{}");
	struct hl_frame f = {"x", 1};
	assert_int_equal(hl_tp_reply(pull, &m, &f, 1), HL_EINVAL); /* PULL cannot answer */
	hl_tp_msg_clear(&m);
	zmq_close(push);
	zmq_ctx_term(ctx);

	/* a running listener's path is not taken over */
	assert_null(hl_tp_listen_local(alpha, ep, HL_TP_LOCAL_PULL, "sensor", 0, &err));
	assert_int_equal(err, HL_EEXISTS);
	assert_true(cap_has(cap, "is in use by a running listener"));

	/* a tighter mode, and a ROUTER for request/reply (hotline-ctl) */
	char path2[128], ep2[160];
	snprintf(path2, sizeof path2, "%s/ctl.sock", dir);
	snprintf(ep2, sizeof ep2, "ipc://%s", path2);
	hl_tp_sock_t *ctl = hl_tp_listen_local(alpha, ep2, HL_TP_LOCAL_ROUTER, "ctl", 0600, &err);
	assert_non_null(ctl);
	assert_int_equal(stat(path2, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* what a local listener refuses */
	assert_null(hl_tp_listen_local(alpha, "ipc://@abstract", HL_TP_LOCAL_PULL, "s", 0, &err));
	assert_int_equal(err, HL_EINVAL);
	assert_null(hl_tp_listen_local(alpha, "tcp://127.0.0.1:*", HL_TP_LOCAL_PULL, "s", 0, &err));
	assert_null(hl_tp_listen_local(alpha, ep, HL_TP_LOCAL_PULL, "no name", 0, &err));
	assert_null(hl_tp_listen_local(alpha, ep, HL_TP_LOCAL_PULL, "s", 01777, &err));
	/* and CURVE sockets need keys */
	assert_null(hl_tp_listen(alpha, "tcp://127.0.0.1:*", &err));
	assert_int_equal(err, HL_EINVAL);

	hl_tp_close(&pull);
	hl_tp_close(&ctl);
	assert_int_equal(access(path, F_OK), -1); /* the socket files are removed */
	assert_int_equal(access(path2, F_OK), -1);

	/* a stale socket file (its owner died) is replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	assert_int_equal(bind(fd, (const struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	assert_int_equal(access(path, F_OK), 0);
	pull = hl_tp_listen_local(alpha, ep, HL_TP_LOCAL_PULL, "sensor", 0, &err);
	assert_non_null(pull);
	hl_transport_destroy(&alpha); /* closes pull */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
	cap_free(cap);
}

static void socket_options_and_bad_arguments(void **state)
{
	(void)state;
	struct logcap *cap = cap_new();
	struct hl_transport_opts o;
	hl_transport_opts_init(&o); /* the defaults, as documented */
	o.name = "bravo";
	o.keys = &bravo_kp;
	o.log = cap_log;
	o.log_ctx = cap;
	int err = 0;
	hl_transport_t *t = hl_transport_new(&o, &err);
	assert_non_null(t);
	hl_tp_sock_t *s = hl_tp_connect(t, "alpha", "tcp://127.0.0.1:9", alpha_kp.public_z85, &err);
	assert_non_null(s);
	void *z = hl_tp_zsocket(s);
	assert_non_null(hl_tp_zmonitor(s));
	struct {
		int opt;
		int want;
	} ints[] = {
	        {ZMQ_RECONNECT_IVL, 100},   {ZMQ_RECONNECT_IVL_MAX, 30000},
	        {ZMQ_HEARTBEAT_IVL, 5000},  {ZMQ_HEARTBEAT_TIMEOUT, 15000},
	        {ZMQ_HEARTBEAT_TTL, 15000}, {ZMQ_HANDSHAKE_IVL, 10000},
	        {ZMQ_SNDHWM, 1000},         {ZMQ_RCVHWM, 0},
	        {ZMQ_IMMEDIATE, 1},         {ZMQ_LINGER, 0},
	        {ZMQ_MECHANISM, ZMQ_CURVE}, {ZMQ_CURVE_SERVER, 0},
	};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		int v = -1;
		size_t len = sizeof v;
		assert_int_equal(zmq_getsockopt(z, ints[i].opt, &v, &len), 0);
		assert_int_equal(v, ints[i].want);
	}
	int64_t max = 0;
	size_t len = sizeof max;
	assert_int_equal(zmq_getsockopt(z, ZMQ_MAXMSGSIZE, &max, &len), 0);
	assert_int_equal(max, 16 * 1024 * 1024);
	char rid[256];
	len = sizeof rid;
	assert_int_equal(zmq_getsockopt(z, ZMQ_ROUTING_ID, rid, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(rid, "bravo", 5);
	assert_int_equal(hl_tp_state(s), HL_TP_DOWN);
	assert_string_equal(hl_tp_state_name(HL_TP_REFUSED), "refused");

	/* refused arguments */
	assert_null(hl_tp_connect(t, "alpha", "tcp://127.0.0.1:9", "short", &err));
	assert_int_equal(err, HL_EINVAL);
	assert_null(hl_tp_connect(t, "al pha", "tcp://127.0.0.1:9", alpha_kp.public_z85, &err));
	assert_null(hl_tp_connect(t, "alpha", "udp://127.0.0.1:9", alpha_kp.public_z85, &err));
	assert_null(hl_tp_listen(t, "tcp://256.0.0.1:1", &err));
	hl_tp_sock_t *l = hl_tp_listen(t, "tcp://127.0.0.1:*", &err);
	assert_non_null(l);
	assert_null(hl_tp_listen(t, hl_tp_endpoint(l), &err));
	assert_int_equal(err, HL_EEXISTS);
	assert_true(cap_has(cap, "cannot listen on"));

	struct hl_transport_opts bad = o;
	bad.name = "";
	assert_null(hl_transport_new(&bad, &err));
	assert_int_equal(err, HL_EINVAL);
	bad = o;
	bad.max_frames = 0;
	assert_null(hl_transport_new(&bad, &err));
	bad = o;
	bad.heartbeat_ttl_ms = 7000000;
	assert_null(hl_transport_new(&bad, &err));
	struct hl_keypair mismatched = {{0}, {0}};
	memcpy(mismatched.public_z85, alpha_kp.public_z85, sizeof mismatched.public_z85);
	memcpy(mismatched.secret_z85, bravo_kp.secret_z85, sizeof mismatched.secret_z85);
	bad = o;
	bad.keys = &mismatched;
	assert_null(hl_transport_new(&bad, &err));
	assert_int_equal(err, HL_EINVAL);

	hl_tp_close(&s);
	hl_tp_close(&s);          /* NULL is fine */
	hl_transport_destroy(&t); /* closes l */
	hl_transport_destroy(&t);
	cap_free(cap);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]); /* e.g. test_transport 'allowlist_*' */
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(allowed_key_round_trip),
	        cmocka_unit_test(unlisted_key_refused),
	        cmocka_unit_test(wrong_server_key_never_connects),
	        cmocka_unit_test(plaintext_client_refused),
	        cmocka_unit_test(zap_refuses_other_mechanisms),
	        cmocka_unit_test(routing_id_is_not_identity),
	        cmocka_unit_test(allowlist_swap),
	        cmocka_unit_test(reconnects_after_server_restart),
	        cmocka_unit_test(frame_and_size_limits),
	        cmocka_unit_test(local_ipc_listener),
	        cmocka_unit_test(socket_options_and_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
