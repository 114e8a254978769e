/* \summary: the transport outlives a peer that dies while the listener is behind
 *
 * libzmq 4.3.4 aborts ("Assertion failed: !_io_error
 * (src/stream_engine_base.cpp:331)", zeromq/libzmq#4364) when a connection
 * whose input is stopped because the receive queue is full gets a reset,
 * and the heartbeat timer then fires. The sharer met it in the kill -9
 * fault tests. This test builds exactly that situation: a peer process
 * floods the listener, which reads nothing; the peer is stopped with an
 * unread reply in its socket and killed, so the kernel answers with a
 * reset; the listener keeps heartbeating (every HB_MS) for a while. It
 * must then report the disconnect, still hold what arrived, and take a new
 * connection. docs/transport.md ("Queues and sizes") explains the fix.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "hotline/err.h"
#include "transport.h"

#define DEADLINE_MS 20000 /* generous: sanitizers and a loaded machine */
#define HB_MS 100
#define FLOOD 5000 /* messages; far beyond libzmq's default queue of 1000 */
#define SETTLE_MS 300
#define SURVIVE_MS (10 * HB_MS)

/* Test keys, never used anywhere else (as in test_transport.c). */
static const struct hl_keypair alpha_kp = {"-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G",
                                           "lfZ+yUkPd=u#my6l^%sBLlXMyS]zlmz3rknOaqNx"};
static const struct hl_keypair bravo_kp = {"jO#6IM/BTL?qK8QX84JN>r/&&g0^i-osj?izNgJT",
                                           "b29%ZVuvK1B5^(f<InFet<w11!tfdtwLvGC}5Nn0"};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void quiet_log(void *ctx, enum hl_log_level level, const char *msg)
{
	(void)ctx;
	if (getenv("HL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "[log] %s: %s\n", hl_log_level_name(level), msg);
}

static void set_int(void *s, int opt, int v)
{
	zmq_setsockopt(s, opt, &v, sizeof v);
}

/* The peer: a plain libzmq CURVE DEALER named bravo that queues FLOOD
 * messages, says so on wfd and waits to be killed. It makes its libzmq
 * context only after the fork, from the endpoint it reads on rfd. */
static void peer_main(int rfd, int wfd)
{
	char ep[HL_TP_ENDPOINT_MAX] = "";
	size_t len = 0;
	while (len + 1 < sizeof ep) {
		ssize_t n = read(rfd, ep + len, 1);
		if (n <= 0 || ep[len] == '\n')
			break;
		len++;
	}
	ep[len] = '\0';
	void *ctx = zmq_ctx_new();
	void *d = zmq_socket(ctx, ZMQ_DEALER);
	if (d == NULL)
		_exit(2);
	set_int(d, ZMQ_SNDHWM, 0);
	set_int(d, ZMQ_LINGER, 0);
	zmq_setsockopt(d, ZMQ_ROUTING_ID, "bravo", 5);
	zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, alpha_kp.public_z85, 40);
	zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, bravo_kp.public_z85, 40);
	zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, bravo_kp.secret_z85, 40);
	if (zmq_connect(d, ep) != 0)
		_exit(3);
	char buf[200];
	memset(buf, 'x', sizeof buf);
	for (int i = 0; i < FLOOD; i++)
		if (zmq_send(d, buf, sizeof buf, 0) != (int)sizeof buf)
			_exit(4);
	if (write(wfd, "q", 1) != 1)
		_exit(5);
	for (;;)
		pause();
}

/* Pump the listener's monitor (never its messages) for ms; true if a
 * disconnect was reported meanwhile. */
static bool pump_for(hl_tp_sock_t *s, int ms)
{
	int64_t end = mono_ms() + ms;
	bool disconnected = false;
	for (int64_t left; (left = end - mono_ms()) > 0;) {
		struct hl_tp_event ev;
		if (hl_tp_wait_event(s, ZMQ_EVENT_DISCONNECTED, (int)left, &ev) == 0)
			disconnected = true;
	}
	return disconnected;
}

static void peer_dies_while_listener_is_behind(void **state)
{
	(void)state;
	int to_peer[2], from_peer[2];
	assert_int_equal(pipe(to_peer), 0);
	assert_int_equal(pipe(from_peer), 0);
	/* Fork before any libzmq thread exists in this process. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(to_peer[1]);
		close(from_peer[0]);
		peer_main(to_peer[0], from_peer[1]);
	}
	close(to_peer[0]);
	close(from_peer[1]);

	struct hl_transport_opts o;
	hl_transport_opts_init(&o);
	o.name = "alpha";
	o.keys = &alpha_kp;
	o.log = quiet_log;
	o.heartbeat_ivl_ms = HB_MS;
	/* Longer than the test: the heartbeat timeout would otherwise drop
	 * the stalled connection before the reset and hide the bug. */
	o.heartbeat_timeout_ms = 60000;
	o.heartbeat_ttl_ms = 60000;
	int err = 0;
	hl_transport_t *t = hl_transport_new(&o, &err);
	assert_non_null(t);
	const struct hl_peer_key peers[] = {{"bravo", bravo_kp.public_z85}};
	assert_int_equal(hl_transport_set_allowlist(t, peers, 1, NULL), 0);
	hl_tp_sock_t *srv = hl_tp_listen(t, "tcp://127.0.0.1:*", &err);
	assert_non_null(srv);
	char line[HL_TP_ENDPOINT_MAX + 1];
	int n = snprintf(line, sizeof line, "%s\n", hl_tp_endpoint(srv));
	assert_true(n > 0 && (size_t)n < sizeof line);
	assert_int_equal(write(to_peer[1], line, (size_t)n), n);

	struct hl_tp_event ev;
	assert_int_equal(hl_tp_wait_event(srv, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, DEADLINE_MS, &ev), 0);
	struct pollfd pf = {.fd = from_peer[0], .events = POLLIN};
	assert_int_equal(poll(&pf, 1, DEADLINE_MS), 1);
	/* Let the flood reach us (and, with a bounded queue, stall). The
	 * checks below hold however much of it arrived. */
	assert_false(pump_for(srv, SETTLE_MS));

	/* A reply the stopped peer never reads makes its kernel answer the
	 * kill with a reset. */
	assert_int_equal(kill(pid, SIGSTOP), 0);
	struct hl_frame reply = {"unread", 6};
	assert_int_equal(hl_tp_send_route(srv, "bravo", 5, &reply, 1), 0);
	assert_false(pump_for(srv, SETTLE_MS));
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* Heartbeats keep firing for SURVIVE_MS; the death is reported. */
	int64_t killed = mono_ms();
	assert_int_equal(hl_tp_wait_event(srv, ZMQ_EVENT_DISCONNECTED, DEADLINE_MS, &ev), 0);
	int64_t left = SURVIVE_MS - (mono_ms() - killed);
	if (left > 0)
		pump_for(srv, (int)left);

	/* What arrived before the death is still delivered, all from bravo. */
	struct hl_tp_msg m = {0};
	unsigned got = 0;
	while (hl_tp_recv(srv, &m, 0) == 0) {
		assert_string_equal(m.peer, "bravo");
		assert_int_equal(m.nframes, 1);
		assert_int_equal(m.frames[0].len, 200);
		got++;
	}
	assert_true(got >= 1 && got <= FLOOD);
	print_message("listener held %u of %u messages at the peer's death\n", got, FLOOD);

	/* And the listener takes the next connection. */
	struct hl_transport_opts bo;
	hl_transport_opts_init(&bo);
	bo.name = "bravo";
	bo.keys = &bravo_kp;
	bo.log = quiet_log;
	hl_transport_t *b = hl_transport_new(&bo, &err);
	assert_non_null(b);
	hl_tp_sock_t *cli =
	        hl_tp_connect(b, "alpha", hl_tp_endpoint(srv), alpha_kp.public_z85, &err);
	assert_non_null(cli);
	assert_int_equal(hl_tp_wait_event(cli, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, DEADLINE_MS, &ev), 0);
	struct hl_frame again = {"again", 5};
	assert_int_equal(hl_tp_send(cli, &again, 1), 0);
	assert_int_equal(hl_tp_recv(srv, &m, DEADLINE_MS), 0);
	assert_string_equal(m.peer, "bravo");
	assert_int_equal(m.nframes, 1);
	assert_int_equal(m.frames[0].len, 5);
	assert_memory_equal(m.frames[0].data, "again", 5);
	hl_tp_msg_clear(&m);

	hl_transport_destroy(&b);
	hl_transport_destroy(&t);
	close(to_peer[1]);
	close(from_peer[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(peer_dies_while_listener_is_behind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
