/* \summary: unit tests of the control socket: requests good and hostile, replies, file mode
 *
 * The test is the client (a REQ socket) and the server (hl_control_serve)
 * in one thread: the request is queued, served, and the reply read, each
 * wait a zmq_poll with a deadline.
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "control.h"
#include "hotline/err.h"
#include "hotline/iset.h"
#include "hotline/parse.h"
#include "store.h"

#define DEADLINE_MS 10000

struct ctx {
	char dir[64];
	char sock[128];
	char db[128];
	hl_store_t *store;
	hl_control_t *c;
	void *zctx, *req;
	int info_calls;
};

static json_t *info(void *ud, const char *cmd, const json_t *req)
{
	struct ctx *t = ud;
	(void)req;
	t->info_calls++;
	if (strcmp(cmd, "status") == 0)
		return json_pack("{s:b,s:i}", "ok", 1, "answer", 42);
	/* The daemon's configured peers: bravo only. */
	if (strcmp(cmd, "peers") == 0)
		return json_pack("{s:b,s:[{s:s}]}", "ok", 1, "peers", "name", "bravo");
	return NULL;
}

static void add_sighting(hl_store_t *s, int i, int64_t at)
{
	char rec[512];
	snprintf(rec, sizeof rec,
	         "{\"first_seen\":\"2026-01-01T00:00:0%d.000000Z\",\"count\":1,"
	         "\"indicator\":{\"id\":\"ind-%d\"}}",
	         i, i);
	struct hl_store_sighting sg = {.origin = "local", .received_at = at, .record = rec};
	bool added = false;
	assert_int_equal(hl_store_sighting_add(s, &sg, &added), 0);
	assert_true(added);
}

static int setup(void **state)
{
	struct ctx *t = calloc(1, sizeof *t);
	assert_non_null(t);
	snprintf(t->dir, sizeof t->dir, "/tmp/hl-ctl-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->sock, sizeof t->sock, "%s/c.sock", t->dir);
	snprintf(t->db, sizeof t->db, "%s/s.db", t->dir);
	char err[256];
	t->store = hl_store_open(t->db, err, sizeof err);
	assert_non_null(t->store);
	for (int i = 1; i <= 3; i++)
		add_sighting(t->store, i, 1000000LL * i);
	int rc = 0;
	t->c = hl_control_open(t->sock, 0, t->store, info, t, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(t->c);
	t->zctx = zmq_ctx_new();
	t->req = zmq_socket(t->zctx, ZMQ_REQ);
	int linger = 0;
	zmq_setsockopt(t->req, ZMQ_LINGER, &linger, sizeof linger);
	char ep[160];
	snprintf(ep, sizeof ep, "ipc://%s", t->sock);
	assert_int_equal(zmq_connect(t->req, ep), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *t = *state;
	zmq_close(t->req);
	zmq_ctx_term(t->zctx);
	hl_control_close(&t->c);
	assert_null(t->c);
	hl_control_close(&t->c);
	/* The socket file goes with the control socket. */
	assert_int_equal(access(t->sock, F_OK), -1);
	hl_store_close(&t->store);
	char p[160];
	snprintf(p, sizeof p, "%s-wal", t->db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", t->db);
	unlink(p);
	unlink(t->db);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* Send raw request bytes, serve them, return the parsed reply. */
static json_t *ask_raw(struct ctx *t, const char *data, size_t len)
{
	assert_true(zmq_send(t->req, data, len, 0) >= 0);
	zmq_pollitem_t srv = {.socket = hl_control_zsocket(t->c), .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&srv, 1, DEADLINE_MS), 1);
	assert_int_equal(hl_control_serve(t->c), 0);
	assert_int_equal(hl_control_serve(t->c), HL_EAGAIN);
	zmq_pollitem_t cli = {.socket = t->req, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&cli, 1, DEADLINE_MS), 1);
	zmq_msg_t m;
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, t->req, 0) >= 0);
	json_t *r = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, NULL);
	zmq_msg_close(&m);
	assert_non_null(r);
	assert_true(json_is_object(r));
	return r;
}

static json_t *ask(struct ctx *t, const char *text)
{
	return ask_raw(t, text, strlen(text));
}

static void expect_error(struct ctx *t, const char *req, const char *error)
{
	json_t *r = ask(t, req);
	assert_true(json_is_false(json_object_get(r, "ok")));
	const char *e = json_string_value(json_object_get(r, "error"));
	assert_non_null(e);
	if (strstr(e, error) == NULL)
		fail_msg("%s: error \"%s\", want \"%s\"", req, e, error);
	json_decref(r);
}

static void test_socket_mode(void **state)
{
	struct ctx *t = *state;
	struct stat sb;
	assert_int_equal(stat(t->sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
}

static void test_hostile_requests(void **state)
{
	struct ctx *t = *state;
	expect_error(t, "not json", "not a JSON object");
	expect_error(t, "[1,2]", "not a JSON object");
	expect_error(t, "{\"cmd\":1}", "no \"cmd\"");
	expect_error(t, "{}", "no \"cmd\"");
	expect_error(t, "{\"cmd\":\"x\",\"cmd\":\"y\"}", "not a JSON object");
	expect_error(t, "{\"cmd\":\"bogus\"}", "unknown command \"bogus\"");
	expect_error(t, "{\"cmd\":\"sightings\",\"since\":\"yesterday\"}", "since:");
	expect_error(t, "{\"cmd\":\"sightings\",\"since\":[1]}", "since:");
	expect_error(t, "{\"cmd\":\"sightings\",\"limit\":-1}", "limit:");
	expect_error(t, "{\"cmd\":\"sightings\",\"limit\":\"5\"}", "limit:");
	expect_error(t, "{\"cmd\":\"sightings\",\"by\":\"size\"}", "by:");
	/* A NUL inside the request, and an empty one. */
	expect_error(t, "{\"cmd\":\"st\0atus\"}", "not a JSON object");
	json_t *r = ask_raw(t, "", 0);
	assert_true(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	/* Still serving. */
	r = ask(t, "{\"cmd\":\"status\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "answer")), 42);
	json_decref(r);
	assert_int_equal(t->info_calls, 2); /* bogus and status */
}

static void test_sightings(void **state)
{
	struct ctx *t = *state;
	json_t *r = ask(t, "{\"cmd\":\"sightings\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "total")), 3);
	assert_true(json_is_false(json_object_get(r, "more")));
	json_t *first = json_array_get(json_object_get(r, "sightings"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "origin")), "local");
	assert_string_equal(json_string_value(json_object_get(first, "indicator_id")), "ind-1");
	assert_string_equal(json_string_value(json_object_get(first, "received_at")),
	                    "1970-01-01T00:00:01.000000Z");
	assert_true(json_is_object(json_object_get(first, "record")));
	json_decref(r);

	r = ask(t, "{\"cmd\":\"sightings\",\"limit\":2}");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
	assert_true(json_is_true(json_object_get(r, "more")));
	json_decref(r);

	/* since: µs or RFC 3339, inclusive. */
	r = ask(t, "{\"cmd\":\"sightings\",\"since\":2000000}");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
	json_decref(r);
	r = ask(t, "{\"cmd\":\"sightings\",\"since\":\"1970-01-01T00:00:03Z\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
	json_decref(r);
	r = ask(t, "{\"cmd\":\"sightings\",\"since\":\"2030-01-01T00:00:00Z\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "total")), 3);
	json_decref(r);
	r = ask(t, "{\"cmd\":\"sightings\",\"by\":\"first_seen\",\"since\":"
	           "\"2026-01-01T00:00:02Z\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
	json_decref(r);
}

static void test_audit_verify(void **state)
{
	struct ctx *t = *state;
	json_t *r = ask(t, "{\"cmd\":\"audit-verify\"}");
	assert_true(json_is_true(json_object_get(r, "intact")));
	assert_int_equal(json_integer_value(json_object_get(r, "rows")), 0);
	json_decref(r);
	for (int i = 0; i < 2; i++) {
		struct hl_audit_entry a = {.at = i, .direction = HL_AUDIT_LOCAL, .type = "x"};
		assert_int_equal(hl_store_audit_append(t->store, &a, NULL), 0);
	}
	r = ask(t, "{\"cmd\":\"audit-verify\"}");
	assert_true(json_is_true(json_object_get(r, "intact")));
	assert_int_equal(json_integer_value(json_object_get(r, "rows")), 2);
	assert_int_equal(strlen(json_string_value(json_object_get(r, "head"))), 64);
	json_decref(r);
}

static void put_peer(hl_store_t *s, const char *peer, const char *line, uint64_t v, int64_t at)
{
	hl_iset_t *set = hl_iset_new();
	assert_int_equal(hl_parse_native("t", line, strlen(line), NULL, set, NULL), 0);
	assert_int_equal(
	        hl_store_peer_indicator_put(s, peer, hl_iset_at(set, 0), HL_IND_ACTIVE, v, at), 0);
	hl_iset_destroy(&set);
}

static const char *field(const json_t *arr, size_t i, const char *k)
{
	const char *v = json_string_value(json_object_get(json_array_get(arr, i), k));
	assert_non_null(v);
	return v;
}

/* indicators-list with "peer": that peer's rows only, never ours. */
static void test_peer_indicators(void **state)
{
	struct ctx *t = *state;
	put_peer(t->store, "bravo",
	         "{\"id\":\"hl--p-ip\",\"type\":\"ip\",\"value\":\"192.0.2.1\",\"tlp\":\"green\"}",
	         3, 2000000);
	put_peer(t->store, "bravo",
	         "{\"id\":\"hl--p-dom\",\"type\":\"domain\",\"value\":\"bad.example\","
	         "\"tlp\":\"amber\"}",
	         3, 2000000);
	put_peer(t->store, "charlie",
	         "{\"id\":\"hl--c\",\"type\":\"ip\",\"value\":\"192.0.2.2\",\"tlp\":\"green\"}", 7,
	         3000000);
	bool found = false;
	assert_int_equal(
	        hl_store_peer_indicator_retract(t->store, "bravo", "hl--p-ip", 4, 5000000, &found),
	        0);
	assert_true(found);

	json_t *r = ask(t, "{\"cmd\":\"indicators-list\",\"peer\":\"bravo\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "peer")), "bravo");
	assert_true(json_is_true(json_object_get(r, "configured")));
	assert_int_equal(json_integer_value(json_object_get(r, "active")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "retracted")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
	const json_t *list = json_object_get(r, "indicators");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(field(list, 0, "id"), "hl--p-dom");
	assert_string_equal(field(list, 0, "type"), "domain");
	assert_string_equal(field(list, 0, "value"), "bad.example");
	assert_string_equal(field(list, 0, "tlp"), "amber");
	assert_string_equal(field(list, 0, "status"), "active");
	assert_string_equal(field(list, 0, "updated_at"), "1970-01-01T00:00:02.000000Z");
	assert_int_equal(
	        json_integer_value(json_object_get(json_array_get(list, 0), "set_version")), 3);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(json_array_get(list, 0), "record"), "id")),
	                    "hl--p-dom");
	json_decref(r);

	r = ask(t, "{\"cmd\":\"indicators-list\",\"peer\":\"bravo\",\"status\":\"all\"}");
	list = json_object_get(r, "indicators");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(field(list, 0, "id"), "hl--p-dom");
	assert_string_equal(field(list, 1, "id"), "hl--p-ip");
	assert_string_equal(field(list, 1, "status"), "retracted");
	assert_string_equal(field(list, 1, "updated_at"), "1970-01-01T00:00:05.000000Z");
	assert_int_equal(
	        json_integer_value(json_object_get(json_array_get(list, 1), "set_version")), 4);
	json_decref(r);

	r = ask(t, "{\"cmd\":\"indicators-list\",\"peer\":\"bravo\",\"status\":\"retracted\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
	json_decref(r);

	/* Not configured, but stored from: listed, and said so. */
	r = ask(t, "{\"cmd\":\"indicators-list\",\"peer\":\"charlie\"}");
	assert_true(json_is_false(json_object_get(r, "configured")));
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
	assert_string_equal(field(json_object_get(r, "indicators"), 0, "id"), "hl--c");
	json_decref(r);

	/* Our own list is untouched by the peers' rows. */
	r = ask(t, "{\"cmd\":\"indicators-list\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_array_size(json_object_get(r, "indicators")), 0);
	json_decref(r);

	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":\"delta\"}",
	             "no peer \"delta\": not configured, and nothing stored from it");
	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":\"\"}", "peer: not a party name");
	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":7}", "peer: not a party name");
	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":null}", "peer: not a party name");
	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":\"b' OR 1=1 --\"}",
	             "peer: not a party name");
	expect_error(t,
	             "{\"cmd\":\"indicators-list\",\"peer\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	             "peer: not a party name");
	expect_error(t,
	             "{\"cmd\":\"indicators-list\",\"peer\":\"bravo\",\"status\":\"quarantined\"}",
	             "status: \"quarantined\" is not active, retracted or all");
	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":\"bravo\",\"status\":\"gone\"}",
	             "status: \"gone\"");
	expect_error(t, "{\"cmd\":\"indicators-list\",\"peer\":\"bravo\",\"status\":1}",
	             "status: not a string");
}

static void test_client_without_server(void **state)
{
	(void)state;
	json_t *req = json_pack("{s:s}", "cmd", "status");
	json_t *rep = (json_t *)1;
	assert_int_equal(hl_control_call("/tmp/hl-ctl-nonexistent/c.sock", req, 50, &rep),
	                 HL_EAGAIN);
	assert_null(rep);
	char longp[200];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	assert_int_equal(hl_control_call(longp, req, 50, &rep), HL_EINVAL);
	json_decref(req);
	int rc = 0;
	assert_null(hl_control_open(longp, 0, NULL, NULL, NULL, &rc));
	assert_int_equal(rc, HL_EINVAL);
	assert_null(hl_control_open("/nonexistent-dir/c.sock", 0, NULL, NULL, NULL, &rc));
	assert_int_equal(rc, HL_EIO);
}

/* A second sharer on the same path is refused, not allowed to steal it. */
static void test_path_in_use(void **state)
{
	struct ctx *t = *state;
	int rc = 0;
	assert_null(hl_control_open(t->sock, 0, t->store, NULL, NULL, &rc));
	assert_int_equal(rc, HL_EEXISTS);
	/* The first one still answers. */
	json_t *r = ask(t, "{\"cmd\":\"status\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "answer")), 42);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hostile_requests, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sightings, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_audit_verify, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_peer_indicators, setup, teardown),
	        cmocka_unit_test(test_client_without_server),
	        cmocka_unit_test_setup_teardown(test_path_in_use, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
