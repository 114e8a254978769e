/* \summary: integration tests of hotline-sharer and hotline-ctl: two real sharers
 *
 * alpha and bravo run as processes from generated keys and YAML configs,
 * CURVE on tcp://127.0.0.1 (free ports), and the test plays the sensor
 * through the sensor's own sharer link (sensor/sharer_link.h). Checks go
 * through the control socket and the hotline-ctl binary. Hostile peers are
 * raw libzmq clients.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <zmq.h>

#include "hotline/err.h"
#include "hotline/wire.h"
#include "sharer_harness.h"
#include "sharer_link.h"

struct pair {
	struct h_env e;
	struct h_party a, b;
	char sensor_pub[64];
	char rogue_pub[64];
};

static void link_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= 1)
		fprintf(stderr, "sensor link: %s\n", msg);
}

/* alpha takes sensor1 over CURVE on tcp; both have each other as peer. */
static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	assert_non_null(p);
	h_env_init(&p->e);
	h_party_setup(&p->e, &p->a, "alpha");
	h_party_setup(&p->e, &p->b, "bravo");
	h_keygen(&p->e, "sensor1", p->sensor_pub);
	h_keygen(&p->e, "rogue", p->rogue_pub);
	snprintf(p->a.sensor, sizeof p->a.sensor, "tcp://127.0.0.1:%d", h_free_port());
	const struct h_party *to_b[] = {&p->b}, *to_a[] = {&p->a};
	h_write_config(&p->e, &p->a, to_b, 1,
	               "sensors:\n  sensor1:\n    public_key_file: sensor1.pub\n"
	               "limits:\n  resend_min: 1s\n");
	/* bravo's cap is small, so that an oversize message is cheap to make. */
	h_write_config(&p->e, &p->b, to_a, 1, "limits:\n  max_message: 64KiB\n");
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
	char srv[512], sec[512], err[256];
	h_path(&p->e, "alpha.pub", srv, sizeof srv);
	h_path(&p->e, "sensor1.key", sec, sizeof sec);
	struct hl_sharer_link_opts o = {.endpoint = p->a.sensor,
	                                .name = "sensor1",
	                                .to = "alpha",
	                                .server_key_file = srv,
	                                .secret_key_file = sec,
	                                .resend_ms = 2000,
	                                .log = link_log};
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	if (l == NULL)
		fail_msg("sharer link: %s", err);
	return l;
}

static void send_sightings(hl_sharer_link_t *l, unsigned from, unsigned n, const char *tag)
{
	char line[1024];
	for (unsigned i = from; i < from + n; i++) {
		h_sighting_line(i, tag, line, sizeof line);
		assert_int_equal(hl_sharer_link_send(l, line, strlen(line)), 0);
	}
}

/* hotline-ctl ARGS... against party p: exit code, stdout in *out. */
static int ctl(struct pair *p, const struct h_party *who, char **out, ...)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = (char *)HOTLINE_CTL_BIN;
	argv[n++] = "--socket";
	argv[n++] = (char *)who->control;
	va_list ap;
	va_start(ap, out);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		assert_true(n < 15);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	char *err = NULL;
	int rc = h_run(&p->e, argv, out, &err);
	free(err);
	return rc;
}

static void expect_audit_ok(struct pair *p, const struct h_party *who, long long rows)
{
	char *out = NULL;
	assert_int_equal(ctl(p, who, &out, "audit", "verify", NULL), 0);
	char want[64];
	snprintf(want, sizeof want, "audit: OK, %lld rows, head ", rows);
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("%s: audit verify said \"%s\", want \"%s...\"", who->name, out, want);
	free(out);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* 1. 100 sightings from a CURVE sensor reach bravo exactly once, audited. */
static void test_hundred_exactly_once(void **state)
{
	struct pair *p = *state;
	h_start(&p->a);
	h_start(&p->b);
	hl_sharer_link_t *l = sensor_link(p);
	send_sightings(l, 0, 100, "one");
	assert_int_equal(hl_sharer_link_flush(l, H_DEADLINE_MS), 0);
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	assert_int_equal(st.acked, 100);
	assert_int_equal(st.dropped + st.refused + st.invalid, 0);
	hl_sharer_link_destroy(&l);

	h_wait_eq(&p->b, "sightings", 100);
	h_wait_eq(&p->a, "outbox_depth", 0);
	assert_int_equal(h_status_int(&p->a, "sightings"), 100);
	assert_int_equal(h_status_int(&p->a, "exchange.sightings_local"), 100);
	assert_int_equal(h_status_int(&p->b, "exchange.sightings_peer"), 100);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected_total"), 0);
	assert_int_equal(h_status_int(&p->a, "exchange.rejected_total"), 0);
	assert_int_equal(h_status_int(&p->a, "exchange.acks_unknown"), 0);
	assert_int_equal(h_status_int(&p->b, "exchange.acks_unknown"), 0);

	/* Every message arrived once: one audit row per received message at
	 * bravo, as many as alpha first sent; at alpha one per sensor message
	 * (the link batches: st.messages_acked) and one per first send. */
	long long local, local_ids, sent, sent_ids, recv, recv_ids;
	h_audit_count(&p->e, &p->a, "local", &local, &local_ids);
	h_audit_count(&p->e, &p->a, "sent", &sent, &sent_ids);
	h_audit_count(&p->e, &p->b, "received", &recv, &recv_ids);
	assert_int_equal(local, (long long)st.messages_acked);
	assert_int_equal(local_ids, local);
	assert_int_equal(sent_ids, sent);
	assert_true(sent >= 1 && sent <= local);
	assert_int_equal(recv, sent);
	assert_int_equal(recv_ids, recv);
	expect_audit_ok(p, &p->b, recv);
	expect_audit_ok(p, &p->a, local + sent);
	/* Every message and the hello; more only if something was resent. */
	assert_true(h_status_int(&p->a, "exchange.acks_received") >= sent + 1);

	char *out = NULL;
	assert_int_equal(ctl(p, &p->b, &out, "sightings", "list", "--json", NULL), 0);
	assert_int_equal(count_lines(out), 100);
	assert_non_null(strstr(out, "\"origin\":\"peer:alpha\""));
	assert_null(strstr(out, "\"origin\":\"local\""));
	assert_non_null(strstr(out, "\"indicator_id\":\"ind-one-99\""));
	free(out);
	assert_int_equal(
	        ctl(p, &p->b, &out, "sightings", "list", "--since", "2100-01-01T00:00:00Z", NULL),
	        0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(ctl(p, &p->b, &out, "sightings", "list", "--limit", "7", NULL), 0);
	assert_int_equal(count_lines(out), 7);
	assert_non_null(strstr(out, " peer:alpha "));
	free(out);
	assert_int_equal(ctl(p, &p->b, &out, "sightings", "list", "--since", "never", NULL), 2);
	free(out);
	assert_int_equal(ctl(p, &p->b, &out, "bogus", NULL), 2);
	free(out);
	assert_int_equal(ctl(p, &p->a, &out, "peers", NULL), 0);
	assert_non_null(strstr(out, "bravo"));
	assert_non_null(strstr(out, " up "));
	free(out);
	assert_int_equal(ctl(p, &p->b, &out, "status", NULL), 0);
	assert_non_null(strstr(out, "sightings:     100 stored"));
	free(out);

	h_stop(&p->a);
	h_stop(&p->b);
}

/* An envelope, by hand: hostile tests need what the encoder would refuse. */
static void envelope(char *out, size_t outlen, int v, unsigned id, const char *type,
                     const char *from, const char *to)
{
	int n = snprintf(out, outlen,
	                 "{\"v\":%d,\"id\":\"%032x\",\"type\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
	                 "\"sent_at\":\"2026-01-01T00:00:00.000000Z\",\"seq\":%u}",
	                 v, id, type, from, to, id);
	assert_true(n > 0 && (size_t)n < outlen);
}

static char *sighting_body(unsigned i)
{
	char line[1024];
	h_sighting_line(i, "raw", line, sizeof line);
	char *b = NULL;
	assert_true(asprintf(&b, "{\"record\":%s}", line) > 0);
	return b;
}

/* The next reply on a raw client must be a NACK of id with code. */
static void expect_nack(void *sock, unsigned id, const char *code)
{
	json_t *env, *body;
	if (!h_raw_recv(sock, H_DEADLINE_MS, &env, &body))
		fail_msg("no NACK for %032x (%s)", id, code);
	char want[40];
	snprintf(want, sizeof want, "%032x", id);
	assert_string_equal(json_string_value(json_object_get(env, "type")), "nack");
	assert_string_equal(json_string_value(json_object_get(env, "from")), "bravo");
	assert_string_equal(json_string_value(json_object_get(body, "id")), want);
	assert_string_equal(json_string_value(json_object_get(body, "reason_code")), code);
	json_decref(env);
	json_decref(body);
}

static void expect_ack(void *sock, unsigned id)
{
	json_t *env, *body;
	if (!h_raw_recv(sock, H_DEADLINE_MS, &env, &body))
		fail_msg("no ACK for %032x", id);
	char want[40];
	snprintf(want, sizeof want, "%032x", id);
	assert_string_equal(json_string_value(json_object_get(env, "type")), "ack");
	const json_t *ids = json_object_get(body, "ids");
	assert_int_equal(json_array_size(ids), 1);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), want);
	json_decref(env);
	json_decref(body);
}

static void *alpha_client(struct pair *p, void *ctx)
{
	char key[512];
	h_path(&p->e, "alpha.key", key, sizeof key);
	return h_raw_client(ctx, &p->b, key);
}

/* 2. An unlisted key is refused by ZAP, a plaintext client by the CURVE
 * handshake; both are counted, nothing is stored, bravo keeps serving. */
static void test_unlisted_and_plaintext_refused(void **state)
{
	struct pair *p = *state;
	h_start(&p->b);
	void *ctx = zmq_ctx_new();
	char key[512], env[512];
	h_path(&p->e, "rogue.key", key, sizeof key);
	char *body = sighting_body(1);

	void *rogue = h_raw_client(ctx, &p->b, key);
	envelope(env, sizeof env, 1, 1, "sighting", "alpha", "bravo");
	h_raw_send(rogue, env, body, strlen(body));
	h_wait_ge(&p->b, "zap.refused_unknown_key", 1);
	assert_int_equal(h_status_int(&p->b, "zap.admitted"), 0);

	void *plain = h_raw_client(ctx, &p->b, NULL);
	h_raw_send(plain, env, body, strlen(body));
	/* Whichever side sees the mechanism mismatch first hangs up: the
	 * server counts a protocol failure, or (the client was faster) a
	 * failure without detail. */
	h_wait_ge(&p->b, "listener.handshakes_failed_protocol+listener.handshakes_failed_other", 1);

	/* A listed peer still gets through, after both refusals. */
	void *good = alpha_client(p, ctx);
	envelope(env, sizeof env, 1, 2, "sighting", "alpha", "bravo");
	h_raw_send(good, env, body, strlen(body));
	expect_ack(good, 2);
	json_t *e2, *b2;
	assert_false(h_raw_recv(rogue, 0, &e2, &b2));
	assert_false(h_raw_recv(plain, 0, &e2, &b2));

	assert_int_equal(h_status_int(&p->b, "sightings"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.received"), 1);
	assert_true(h_status_int(&p->b, "zap.refused") >= 1);
	assert_true(h_log_has(&p->b, "zap: refused"));
	char *out = NULL;
	assert_int_equal(ctl(p, &p->b, &out, "status", NULL), 0);
	assert_non_null(strstr(out, "handshakes:"));
	assert_null(strstr(out, "handshakes:    0 refused by key"));
	free(out);

	free(body);
	zmq_close(rogue);
	zmq_close(plain);
	zmq_close(good);
	zmq_ctx_term(ctx);
	h_stop(&p->b);
}

/* 3. Hostile messages from an authenticated peer: each refused with its
 * reason, counted and logged; bravo keeps serving and stores only the
 * valid one, once. */
static void test_hostile_messages(void **state)
{
	struct pair *p = *state;
	h_start(&p->b);
	void *ctx = zmq_ctx_new();
	void *s = alpha_client(p, ctx);
	char env[1024];
	char *body = sighting_body(7);

	/* No readable envelope: nothing a NACK could name; refused, counted. */
	h_raw_send(s, "{\"v\":1,\"id\":", body, strlen(body));
	h_wait_ge(&p->b, "exchange.rejected.json", 1);

	envelope(env, sizeof env, 1, 0x11, "sighting", "alpha", "bravo");
	h_raw_send(s, env, "{\"record\":", 10);
	expect_nack(s, 0x11, "json");

	envelope(env, sizeof env, 1, 0x12, "bogus", "alpha", "bravo");
	h_raw_send(s, env, body, strlen(body));
	expect_nack(s, 0x12, "type");

	envelope(env, sizeof env, 2, 0x13, "sighting", "alpha", "bravo");
	h_raw_send(s, env, body, strlen(body));
	expect_nack(s, 0x13, "version");

	/* Over bravo's 64 KiB max_message. */
	size_t big_len = 70000;
	char *big = malloc(big_len + 64);
	assert_non_null(big);
	int n = snprintf(big, 64, "{\"pad\":\"");
	memset(big + n, 'x', big_len);
	memcpy(big + n + big_len, "\"}", 3);
	envelope(env, sizeof env, 1, 0x14, "sighting", "alpha", "bravo");
	h_raw_send(s, env, big, strlen(big));
	free(big);
	expect_nack(s, 0x14, "oversize");

	/* Authenticated as alpha, claiming to be someone else. */
	envelope(env, sizeof env, 1, 0x15, "sighting", "charlie", "bravo");
	h_raw_send(s, env, body, strlen(body));
	expect_nack(s, 0x15, "unexpected");

	envelope(env, sizeof env, 1, 0x16, "sighting", "alpha", "charlie");
	h_raw_send(s, env, body, strlen(body));
	expect_nack(s, 0x16, "unexpected");

	envelope(env, sizeof env, 1, 0x17, "sighting", "alpha", "bravo");
	h_raw_send(s, env, "{\"record\":{\"count\":1}}", 22);
	expect_nack(s, 0x17, "schema");

	/* Still serving: a valid sighting is stored and ACKed, a resend only
	 * ACKed again. */
	envelope(env, sizeof env, 1, 0x18, "sighting", "alpha", "bravo");
	h_raw_send(s, env, body, strlen(body));
	expect_ack(s, 0x18);
	h_raw_send(s, env, body, strlen(body));
	expect_ack(s, 0x18);

	/* A batch of three in one message. */
	char batch[4096], l1[1024], l2[1024], l3[1024];
	h_sighting_line(100, "raw", l1, sizeof l1);
	h_sighting_line(101, "raw", l2, sizeof l2);
	h_sighting_line(102, "raw", l3, sizeof l3);
	snprintf(batch, sizeof batch, "{\"records\":[%s,%s,%s]}", l1, l2, l3);
	envelope(env, sizeof env, 1, 0x19, "sightings", "alpha", "bravo");
	h_raw_send(s, env, batch, strlen(batch));
	expect_ack(s, 0x19);

	assert_int_equal(h_status_int(&p->b, "sightings"), 4);
	assert_int_equal(h_status_int(&p->b, "exchange.sightings_peer"), 4);
	assert_int_equal(h_status_int(&p->b, "exchange.duplicates"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected.json"), 2);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected.type"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected.version"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected.oversize"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected.unexpected"), 2);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected.schema"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.rejected_total"), 8);
	assert_int_equal(h_status_int(&p->b, "exchange.from_mismatch"), 1);
	assert_int_equal(h_status_int(&p->b, "exchange.to_mismatch"), 1);
	assert_true(h_log_has(&p->b, "refused message 00000000000000000000000000000015"));
	assert_true(h_log_has(&p->b, "is not the authenticated peer"));
	expect_audit_ok(p, &p->b, 2);

	free(body);
	zmq_close(s);
	zmq_ctx_term(ctx);
	h_stop(&p->b);
}

static int run_sharer(struct pair *p, char **err, ...)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = (char *)HOTLINE_SHARER_BIN;
	va_list ap;
	va_start(ap, err);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		assert_true(n < 15);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	char *out = NULL;
	int rc = h_run(&p->e, argv, &out, err);
	free(out);
	return rc;
}

/* The command line: usage, refusals at start, keygen never overwrites. */
static void test_cli(void **state)
{
	struct pair *p = *state;
	char *err = NULL;
	assert_int_equal(run_sharer(p, &err, "--help", NULL), 0);
	free(err);
	assert_int_equal(run_sharer(p, &err, NULL), 2);
	free(err);
	assert_int_equal(run_sharer(p, &err, "frobnicate", NULL), 2);
	assert_non_null(strstr(err, "unknown command \"frobnicate\""));
	free(err);
	assert_int_equal(run_sharer(p, &err, "run", NULL), 2);
	free(err);
	/* keygen refuses to overwrite a key. */
	assert_int_equal(run_sharer(p, &err, "keygen", "-d", p->e.dir, "alpha", NULL), 1);
	free(err);

	/* A config error names the file and line. */
	char bad[512];
	h_path(&p->e, "bad.yaml", bad, sizeof bad);
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("name: alpha\nstore: x.db\nagreement: agreement.yaml\nkeys:\n"
	      "  secret_key_file: alpha.key\nlisten: 12\n",
	      f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run_sharer(p, &err, "run", "--config", bad, NULL), 1);
	assert_non_null(strstr(err, "bad.yaml:6"));
	free(err);

	/* A secret key others may read is refused. */
	char key[512];
	h_path(&p->e, "alpha.key", key, sizeof key);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(run_sharer(p, &err, "--config", p->a.config, NULL), 1);
	assert_non_null(strstr(err, "alpha.key"));
	free(err);
	assert_int_equal(chmod(key, 0600), 0);

	/* A second sharer on a running one's sockets is refused (here at its
	 * listener; tests/unit/test_control.c covers the control socket). */
	h_start(&p->a);
	assert_int_equal(run_sharer(p, &err, "--config", p->a.config, NULL), 1);
	assert_non_null(strstr(err, "already"));
	free(err);
	assert_int_equal(h_status_int(&p->a, "sightings"), 0);
	h_stop(&p->a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_hundred_exactly_once, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unlisted_and_plaintext_refused, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_hostile_messages, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
