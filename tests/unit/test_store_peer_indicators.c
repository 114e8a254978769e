/* \summary: unit tests of hl_store_peer_indicators_list: one peer's set, by status, in order
 *
 * Rows are written through the store's own peer functions, as the exchange
 * writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/iset.h"
#include "hotline/parse.h"
#include "test_store_util.h"

#define T0 1767225600000000LL /* 2026-01-01T00:00:00Z */

#define IND_IP "{\"id\":\"hl--ip\",\"tlp\":\"green\",\"type\":\"ip\",\"value\":\"198.51.100.7\"}"
#define IND_DOM \
	"{\"id\":\"hl--dom\",\"tlp\":\"amber\",\"type\":\"domain\",\"value\":\"evil.example\"}"
#define IND_DOM2 \
	"{\"id\":\"hl--dom2\",\"tlp\":\"green\",\"type\":\"domain\",\"value\":\"bad.example\"}"

struct ctx {
	struct tmpdb db;
	hl_store_t *s;
};

struct row {
	char id[64], type[16], value[64], source[32], tlp[16];
	enum hl_ind_status status;
	uint64_t set_version;
	int64_t updated_at;
	bool record_has_id;
};

struct rows {
	struct row r[8];
	size_t n;
	size_t stop_after; /* 0: never */
	int stop_with;
};

static int collect(void *ud, const struct hl_store_indicator *ind)
{
	struct rows *rs = ud;
	assert_true(rs->n < 8);
	struct row *r = &rs->r[rs->n++];
	snprintf(r->id, sizeof r->id, "%s", ind->id);
	snprintf(r->type, sizeof r->type, "%s", ind->type);
	snprintf(r->value, sizeof r->value, "%s", ind->value);
	snprintf(r->source, sizeof r->source, "%s", ind->source ? ind->source : "");
	snprintf(r->tlp, sizeof r->tlp, "%s", ind->tlp);
	r->status = ind->status;
	r->set_version = ind->set_version;
	r->updated_at = ind->updated_at;
	char want[80];
	snprintf(want, sizeof want, "\"id\":\"%s\"", ind->id);
	r->record_has_id = strstr(ind->record, want) != NULL;
	if (rs->stop_after != 0 && rs->n == rs->stop_after)
		return rs->stop_with;
	return 0;
}

static void put(hl_store_t *s, const char *peer, const char *line, uint64_t v, int64_t at)
{
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	assert_int_equal(hl_parse_native("t", line, strlen(line), NULL, set, NULL), 0);
	assert_int_equal(hl_iset_count(set), 1);
	assert_int_equal(
	        hl_store_peer_indicator_put(s, peer, hl_iset_at(set, 0), HL_IND_ACTIVE, v, at), 0);
	hl_iset_destroy(&set);
}

static int setup(void **state)
{
	struct ctx *t = calloc(1, sizeof *t);
	assert_non_null(t);
	tmpdb_make(&t->db);
	t->s = open_ok(t->db.path);
	put(t->s, "bravo", IND_IP, 3, T0 + 1);
	put(t->s, "bravo", IND_DOM, 3, T0 + 2);
	put(t->s, "bravo", IND_DOM2, 3, T0 + 3);
	put(t->s, "charlie", IND_IP, 9, T0 + 4);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *t = *state;
	hl_store_close(&t->s);
	tmpdb_remove(&t->db);
	free(t);
	return 0;
}

/* Active rows of one peer only, ordered by (type, value), every field. */
static void test_list_active(void **state)
{
	struct ctx *t = *state;
	struct rows rs = {0};
	size_t n = 99;
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rs.n, 3);
	/* domain bad.example < domain evil.example < ip */
	assert_string_equal(rs.r[0].id, "hl--dom2");
	assert_string_equal(rs.r[0].value, "bad.example");
	assert_string_equal(rs.r[1].id, "hl--dom");
	assert_string_equal(rs.r[1].type, "domain");
	assert_string_equal(rs.r[1].value, "evil.example");
	assert_string_equal(rs.r[1].tlp, "amber");
	assert_string_equal(rs.r[2].id, "hl--ip");
	assert_string_equal(rs.r[2].type, "ip");
	assert_string_equal(rs.r[2].value, "198.51.100.7");
	assert_string_equal(rs.r[2].tlp, "green");
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(rs.r[i].source, "bravo");
		assert_int_equal(rs.r[i].status, HL_IND_ACTIVE);
		assert_int_equal(rs.r[i].set_version, 3);
		assert_true(rs.r[i].record_has_id);
	}
	assert_int_equal(rs.r[2].updated_at, T0 + 1);
	assert_int_equal(rs.r[1].updated_at, T0 + 2);

	/* charlie's copy of the same id is its own row. */
	memset(&rs, 0, sizeof rs);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "charlie", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rs.r[0].id, "hl--ip");
	assert_string_equal(rs.r[0].source, "charlie");
	assert_int_equal(rs.r[0].set_version, 9);
}

/* A retracted row moves from the active list to the retracted one, with
 * the version and time of the retraction. */
static void test_list_retracted(void **state)
{
	struct ctx *t = *state;
	bool found = false;
	assert_int_equal(
	        hl_store_peer_indicator_retract(t->s, "bravo", "hl--dom", 4, T0 + 50, &found), 0);
	assert_true(found);
	struct rows rs = {0};
	size_t n = 0;
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_RETRACTED, collect, &rs, &n),
	        0);
	assert_int_equal(n, 1);
	assert_string_equal(rs.r[0].id, "hl--dom");
	assert_int_equal(rs.r[0].status, HL_IND_RETRACTED);
	assert_int_equal(rs.r[0].set_version, 4);
	assert_int_equal(rs.r[0].updated_at, T0 + 50);
	memset(&rs, 0, sizeof rs);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rs.r[0].id, "hl--dom2");
	assert_string_equal(rs.r[1].id, "hl--ip");
	/* A full set from charlie replaces: everything it had is retracted. */
	assert_int_equal(hl_store_peer_indicators_retract_all(t->s, "charlie", 10, T0 + 60), 0);
	memset(&rs, 0, sizeof rs);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "charlie", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "charlie", HL_IND_RETRACTED, collect, &rs, &n),
	        0);
	assert_int_equal(n, 1);
	assert_int_equal(rs.r[0].set_version, 10);
}

/* A peer with nothing stored: 0 and no call, not an error. */
static void test_empty_peer(void **state)
{
	struct ctx *t = *state;
	struct rows rs = {0};
	size_t n = 99;
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "delta", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rs.n, 0);
	n = 99;
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "delta", HL_IND_RETRACTED, collect, &rs, &n),
	        0);
	assert_int_equal(n, 0);
	/* A name that differs only in case is another peer. */
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "BRAVO", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 0);
	/* A hostile name is a value, never SQL. */
	assert_int_equal(hl_store_peer_indicators_list(t->s, "x' OR '1'='1", HL_IND_ACTIVE, collect,
	                                               &rs, &n),
	                 0);
	assert_int_equal(n, 0);
	assert_int_equal(rs.n, 0);
}

/* The callback stops the walk: negative comes back, positive is 0. */
static void test_stop(void **state)
{
	struct ctx *t = *state;
	struct rows rs = {.stop_after = 1, .stop_with = HL_ENOMEM};
	size_t n = 0;
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_ACTIVE, collect, &rs, &n),
	        HL_ENOMEM);
	assert_int_equal(n, 1);
	memset(&rs, 0, sizeof rs);
	rs.stop_after = 2;
	rs.stop_with = 1;
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rs.n, 2);
	/* The statement was finalised: the next walk starts afresh. */
	memset(&rs, 0, sizeof rs);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_ACTIVE, collect, &rs, &n), 0);
	assert_int_equal(n, 3);
}

static void test_bad_arguments(void **state)
{
	struct ctx *t = *state;
	struct rows rs = {0};
	size_t n = 99;
	assert_int_equal(hl_store_peer_indicators_list(t->s, NULL, HL_IND_ACTIVE, collect, &rs, &n),
	                 HL_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(hl_store_peer_indicators_list(t->s, "", HL_IND_ACTIVE, collect, &rs, &n),
	                 HL_EINVAL);
	char longname[HL_STORE_ID_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, longname, HL_IND_ACTIVE, collect, &rs, &n),
	        HL_EINVAL);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_QUARANTINED, collect, &rs, &n),
	        HL_EINVAL);
	assert_int_equal(hl_store_peer_indicators_list(t->s, "bravo", (enum hl_ind_status)42,
	                                               collect, &rs, &n),
	                 HL_EINVAL);
	assert_int_equal(
	        hl_store_peer_indicators_list(t->s, "bravo", HL_IND_ACTIVE, NULL, NULL, &n),
	        HL_EINVAL);
	assert_int_equal(rs.n, 0);
	assert_non_null(strstr(hl_store_errmsg(t->s), "peer indicators list"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_list_active, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_list_retracted, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_empty_peer, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
