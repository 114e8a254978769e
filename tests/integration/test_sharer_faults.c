/* \summary: sharer fault tests: restarts and kill -9 while sightings flow
 *
 * alpha takes sightings from the test (the sensor's sharer link, over
 * alpha's local ipc socket) and forwards them to bravo. Processes are
 * stopped (SIGTERM) or killed (SIGKILL) at points the test picks from
 * their progress, then started again; afterwards every sighting must be at
 * bravo exactly once. "Exactly once" is checked three ways: bravo's
 * sighting count, its audit log (one row per applied message: a resend
 * applied twice would add a row) and alpha's (one row per sensor message
 * applied, one per outbox message first sent); sightings travel in
 * batches, so these are counted by message id (expect_delivered).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotline/err.h"
#include "sharer_harness.h"
#include "sharer_link.h"

struct pair {
	struct h_env e;
	struct h_party a, b;
};

static void link_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= 0)
		fprintf(stderr, "sensor link: %s\n", msg);
}

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	assert_non_null(p);
	h_env_init(&p->e);
	h_party_setup(&p->e, &p->a, "alpha");
	h_party_setup(&p->e, &p->b, "bravo");
	const struct h_party *to_b[] = {&p->b}, *to_a[] = {&p->a};
	/* Resends after a lost connection come from the reconnect, not the
	 * timer; a short timer still bounds the test if one is missed. */
	h_write_config(&p->e, &p->a, to_b, 1, "limits:\n  resend_min: 1s\n  resend_max: 4s\n");
	h_write_config(&p->e, &p->b, to_a, 1, "limits:\n  resend_min: 1s\n  resend_max: 4s\n");
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	if (p->a.pid != 0)
		h_kill9(&p->a);
	if (p->b.pid != 0)
		h_kill9(&p->b);
	h_env_cleanup(&p->e);
	free(p);
	return 0;
}

static hl_sharer_link_t *sensor_link(struct pair *p)
{
	char err[256];
	struct hl_sharer_link_opts o = {.endpoint = p->a.sensor,
	                                .name = "sensor1",
	                                .to = "alpha",
	                                .queue_max = 20000,
	                                /* Resends after a kill come from the
	                                 * reconnect. A short timer would resend
	                                 * whole windows while a slow (ASan,
	                                 * loaded) alpha still works through
	                                 * them: 7698 resends for 3302 first
	                                 * sends, and no flush within 60 s. */
	                                .resend_ms = 15000,
	                                .log = link_log};
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	if (l == NULL)
		fail_msg("sharer link: %s", err);
	return l;
}

static void send_sightings(hl_sharer_link_t *l, unsigned from, unsigned n)
{
	char line[1024];
	for (unsigned i = from; i < from + n; i++) {
		h_sighting_line(i, "fault", line, sizeof line);
		assert_int_equal(hl_sharer_link_send(l, line, strlen(line)), 0);
	}
}

/* Flush, waiting as long as ACKs keep coming (a slow alpha is not a
 * failure; H_DEADLINE_MS without one is). */
static int flush_progress(hl_sharer_link_t *l)
{
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	for (;;) {
		unsigned long before = st.acked;
		int rc = hl_sharer_link_flush(l, H_DEADLINE_MS);
		hl_sharer_link_stats(l, &st);
		if (rc == 0 || st.acked == before)
			return rc;
	}
}

static void flush_all(hl_sharer_link_t *l, unsigned long want_acked)
{
	int rc = flush_progress(l);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	if (rc != 0)
		fail_msg("sensor link: no ACK for %d ms (%d): %lu acked, %lu pending, "
		         "%lu sent, %lu resent, %lu disconnects",
		         H_DEADLINE_MS, rc, st.acked, st.pending, st.sent, st.resent,
		         st.disconnects);
	assert_int_equal(st.acked, want_acked);
	assert_int_equal(st.dropped + st.refused + st.invalid + st.pending, 0);
}

/* The audit chain is intact; its row count. */
static long long audit_rows(const struct h_party *who)
{
	json_t *r = h_ctl(who, "audit-verify");
	if (!json_is_true(json_object_get(r, "intact")))
		fail_msg("%s: audit chain broken: %s", who->name,
		         json_string_value(json_object_get(r, "reason")));
	long long got = json_integer_value(json_object_get(r, "rows"));
	json_decref(r);
	return got;
}

/* Everything sent so far (n sightings) is at bravo exactly once. Records
 * travel in batches, so "once" is checked per message: alpha audited each
 * sensor message it applied once ("local", distinct ids) and each outbox
 * message once when first sent; bravo applied each of those exactly once
 * ("received": as many rows as alpha's "sent", all distinct); nothing
 * else is in either log. */
static void expect_delivered(struct pair *p, long long n)
{
	h_wait_eq(&p->b, "sightings", n);
	h_wait_eq(&p->a, "outbox_depth", 0);
	assert_int_equal(h_status_int(&p->a, "sightings"), n);
	long long local, local_ids, sent, sent_ids, recv, recv_ids;
	h_audit_count(&p->e, &p->a, "local", &local, &local_ids);
	h_audit_count(&p->e, &p->a, "sent", &sent, &sent_ids);
	h_audit_count(&p->e, &p->b, "received", &recv, &recv_ids);
	assert_int_equal(local, local_ids);
	assert_true(local >= 1 && local <= n);
	assert_int_equal(sent, sent_ids);
	assert_true(sent >= 1 && sent <= n);
	assert_int_equal(recv, recv_ids);
	assert_int_equal(recv, sent);
	assert_int_equal(audit_rows(&p->b), recv);
	assert_int_equal(audit_rows(&p->a), local + sent);
}

/* 4a. bravo stops cleanly; alpha keeps taking sightings; bravo comes back
 * and alpha's outbox drains into it. Here only bravo dials (alpha lists it
 * without an endpoint), so alpha sends over bravo's connection to alpha's
 * listener, which it learns again from bravo's hello after the restart. */
static void test_restart_bravo(void **state)
{
	struct pair *p = *state;
	p->b.not_dialled = true;
	const struct h_party *to_b[] = {&p->b};
	h_write_config(&p->e, &p->a, to_b, 1, "limits:\n  resend_min: 1s\n  resend_max: 4s\n");
	h_start(&p->a);
	h_start(&p->b);
	hl_sharer_link_t *l = sensor_link(p);
	send_sightings(l, 0, 50);
	flush_all(l, 50);
	h_wait_eq(&p->b, "sightings", 50);
	h_wait_eq(&p->a, "outbox_depth", 0); /* bravo's ACKs are in */

	h_stop(&p->b);
	send_sightings(l, 50, 50);
	flush_all(l, 100);
	/* The 50 wait in alpha's outbox, in as many batches as the link
	 * sent them in. */
	long long depth = h_status_int(&p->a, "outbox_depth");
	assert_true(depth >= 1 && depth <= 50);
	assert_int_equal(h_status_int(&p->a, "sightings"), 100);

	h_start(&p->b);
	expect_delivered(p, 100);
	char want[64];
	snprintf(want, sizeof want, "bravo is up; %lld message(s) pending", depth);
	assert_true(h_log_has(&p->a, want));
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
	h_stop(&p->b);
}

/* 4b. alpha is killed (SIGKILL) while 2,000 sightings flow in from the
 * sensor and out to bravo, and started again: nothing the sensor had
 * ACKed is lost, nothing arrives twice. */
static void test_kill_alpha(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	h_start(&p->b);
	hl_sharer_link_t *l = sensor_link(p);
	send_sightings(l, 0, 1000);
	h_wait_ge(&p->a, "sightings", 300);
	h_kill9(&p->a);
	long long at_bravo = h_status_int(&p->b, "sightings");
	/* Taken while alpha is away: the link keeps them. */
	send_sightings(l, 1000, 1000);
	h_start(&p->a);
	flush_all(l, 2000);
	expect_delivered(p, 2000);
	print_message("kill -9 of alpha: bravo had %lld of 2000 at the kill\n", at_bravo);
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
	h_stop(&p->b);
}

/* 4c. bravo is killed while alpha's outbox drains into it. */
static void test_kill_bravo(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	h_start(&p->b);
	hl_sharer_link_t *l = sensor_link(p);
	send_sightings(l, 0, 2000);
	h_wait_ge(&p->b, "sightings", 300);
	h_kill9(&p->b);
	h_start(&p->b);
	flush_all(l, 2000);
	expect_delivered(p, 2000);
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
	h_stop(&p->b);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10,000 sightings, alpha and bravo each killed once mid-flow; prints the
 * rate of a clean run first (a measurement, not a pass criterion). */
static void test_ten_thousand(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	h_start(&p->b);
	hl_sharer_link_t *l = sensor_link(p);
	double t0 = mono_s();
	send_sightings(l, 0, 5000);
	flush_all(l, 5000);
	double t1 = mono_s();
	h_wait_eq(&p->b, "sightings", 5000);
	double t2 = mono_s();
	print_message("clean: 5000 sightings ACKed by alpha in %.2f s (%.0f/s), at bravo after "
	              "%.2f s (%.0f/s)\n",
	              t1 - t0, 5000 / (t1 - t0), t2 - t0, 5000 / (t2 - t0));

	send_sightings(l, 5000, 5000);
	h_wait_ge(&p->a, "sightings", 6500);
	h_kill9(&p->a);
	h_start(&p->a);
	h_wait_ge(&p->b, "sightings", 8000);
	h_kill9(&p->b);
	h_start(&p->b);
	flush_all(l, 10000);
	expect_delivered(p, 10000);
	hl_sharer_link_destroy(&l);
	h_stop(&p->a);
	h_stop(&p->b);
}

/* A sensor process: the link in a child, sending [from, from + n), exiting
 * 0 once the sharer has ACKed them all. The test process has no threads
 * when it forks (each control call's libzmq context is gone by then).
 *
 * With ctl (a socket back to the test), it sends the first `ready` and,
 * once they are ACKed, writes one byte to ctl and sends the rest at once:
 * a kill -9 on that byte lands while they flow, however fast the sharers
 * are (waiting on alpha's count instead, the sensor could be done and gone
 * before the kill). Then it waits for the test to close ctl. */
static pid_t sensor_process(struct pair *p, unsigned from, unsigned n, unsigned ready, int *ctl)
{
	int sv[2] = {-1, -1};
	if (ctl != NULL)
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		if (ctl != NULL) {
			close(sv[1]);
			*ctl = sv[0];
		}
		return pid;
	}
	hl_sharer_link_t *l = sensor_link(p);
	int rc = 0;
	if (ctl != NULL) {
		close(sv[0]);
		send_sightings(l, from, ready);
		rc = flush_progress(l);
		if (rc != 0 || write(sv[1], "r", 1) != 1)
			_exit(1);
		from += ready;
		n -= ready;
	}
	send_sightings(l, from, n);
	rc = flush_progress(l);
	hl_sharer_link_destroy(&l);
	if (ctl != NULL) {
		char c;
		while (read(sv[1], &c, 1) < 0 && errno == EINTR)
			;
	}
	_exit(rc == 0 ? 0 : 1);
}

/* The byte a sensor_process with ctl writes once its first records are
 * ACKed; fails if it exits first or stays silent for H_DEADLINE_MS. */
static void wait_ready(int ctl)
{
	struct pollfd pfd = {.fd = ctl, .events = POLLIN};
	int r;
	while ((r = poll(&pfd, 1, H_DEADLINE_MS)) < 0 && errno == EINTR)
		;
	char c = 0;
	if (r != 1 || read(ctl, &c, 1) != 1 || c != 'r')
		fail_msg("the sensor did not have its first sightings ACKed within %d ms",
		         H_DEADLINE_MS);
}

/* 4d. The sensor is killed while 5,000 sightings flow; a new one sends
 * 5,000 more. What the first had not had ACKed is lost with it (its queue
 * is memory); everything alpha took reaches bravo exactly once. */
static void test_kill_sensor(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	h_start(&p->b);
	int ctl = -1;
	struct h_party s1 = {.pid = sensor_process(p, 0, 5000, 1000, &ctl)};
	snprintf(s1.name, sizeof s1.name, "sensor");
	wait_ready(ctl); /* alpha has 1000: the other 4000 are on their way */
	h_kill9(&s1);
	close(ctl);
	struct h_party s2 = {.pid = sensor_process(p, 5000, 5000, 0, NULL)};
	snprintf(s2.name, sizeof s2.name, "sensor");
	h_wait_ge(&p->a, "sightings", 6000);
	int status = 0;
	assert_int_equal(waitpid(s2.pid, &status, 0), s2.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	long long k = h_status_int(&p->a, "sightings");
	assert_true(k >= 6000 && k <= 10000);
	expect_delivered(p, k);
	print_message("kill -9 of the sensor: alpha had %lld of 10000 (the rest died un-ACKed "
	              "with it)\n",
	              k);
	h_stop(&p->a);
	h_stop(&p->b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_restart_bravo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kill_alpha, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kill_bravo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ten_thousand, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kill_sensor, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
