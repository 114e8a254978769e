/* \summary: audit log: canonical row hash, chain verify, tamper detection */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "test_store_util.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
/* Known answers, computed outside C (Python hashlib) from the encoding in
 * docs/store.md: row 1 below, then row 2 chained to it. */
#define BODY1_SHA "5d483fcdc0a4b0733b19709dfe74bf22fb2167782e19f1d7be5de94a18028f43"
#define ROW1_HASH "5b70191f7c902d1c025b57c613b4149cbbd55434ebd8fff39dc32e822fd3348d"
#define ROW2_HASH "44aea65513c883a319cf4911e1eaf0bcb55e68f77bab3527976648757f3bc490"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Row 2 with msg_id "" instead of NULL: the encoding tells them apart. */
#define ROW2_EMPTY_ID_HASH "ae1cc6553b9d6ad13c88e36552e939b76c7b717d9071433180ef437e25c11001"

struct fixture {
	struct tmpdb t;
	hl_store_t *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	tmpdb_make(&f->t);
	f->s = open_ok(f->t.path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hl_store_close(&f->s);
	tmpdb_remove(&f->t);
	free(f);
	return 0;
}

static const char BODY1[] = "{\"hello\":\"bravo\"}";

static void append_known_rows(hl_store_t *s)
{
	struct hl_audit_entry e1 = {.at = 1714557600000000,
	                            .direction = HL_AUDIT_SENT,
	                            .peer = "bravo",
	                            .msg_id = "m-1",
	                            .type = "sighting",
	                            .body = BODY1,
	                            .body_len = strlen(BODY1)};
	struct hl_audit_entry e2 = {.at = -5, .direction = HL_AUDIT_LOCAL, .type = "note"};
	int64_t seq = 0;
	assert_int_equal(hl_store_audit_append(s, &e1, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(hl_store_audit_append(s, &e2, &seq), 0);
	assert_int_equal(seq, 2);
}

/* More rows, all directions; rows 1..n. */
static void append_rows(hl_store_t *s, int n)
{
	append_known_rows(s);
	for (int i = 3; i <= n; i++) {
		char id[16], body[32];
		snprintf(id, sizeof id, "m-%d", i);
		snprintf(body, sizeof body, "{\"n\":%d}", i);
		struct hl_audit_entry e = {.at = 1000 + i,
		                           .direction = i % 2 ? HL_AUDIT_RECEIVED : HL_AUDIT_SENT,
		                           .peer = "bravo",
		                           .msg_id = id,
		                           .type = "sighting",
		                           .body = body,
		                           .body_len = strlen(body)};
		int64_t seq = 0;
		assert_int_equal(hl_store_audit_append(s, &e, &seq), 0);
		assert_int_equal(seq, i);
	}
}

static void row_hash_matches_the_documented_encoding(void **state)
{
	struct fixture *f = *state;
	char out[HL_STORE_HASH_HEX];
	assert_int_equal(hl_store_audit_row_hash(1, 1714557600000000, "sent", "bravo", "m-1",
	                                         "sighting", BODY1_SHA, ZEROS, out),
	                 0);
	assert_string_equal(out, ROW1_HASH);
	assert_int_equal(hl_store_audit_row_hash(2, -5, "local", NULL, NULL, "note", EMPTY_SHA,
	                                         ROW1_HASH, out),
	                 0);
	assert_string_equal(out, ROW2_HASH);
	assert_int_equal(hl_store_audit_row_hash(2, -5, "local", NULL, "", "note", EMPTY_SHA,
	                                         ROW1_HASH, out),
	                 0);
	assert_string_equal(out, ROW2_EMPTY_ID_HASH);
	/* Bad hashes are refused: upper case, short, not hex. */
	assert_int_equal(hl_store_audit_row_hash(1, 0, "sent", NULL, NULL, "t",
	                                         "5D483FCDC0A4B0733B19709DFE74BF22FB2167782E19F1D7"
	                                         "BE5DE94A18028F43",
	                                         ZEROS, out),
	                 HL_EINVAL);
	assert_int_equal(hl_store_audit_row_hash(1, 0, "sent", NULL, NULL, "t", "abc", ZEROS, out),
	                 HL_EINVAL);
	assert_int_equal(hl_store_audit_row_hash(0, 0, "sent", NULL, NULL, "t", ZEROS, ZEROS, out),
	                 HL_EINVAL);

	/* The store writes exactly these rows. */
	append_known_rows(f->s);
	sqlite3 *db = raw_open(f->t.path);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	        sqlite3_prepare_v2(db,
	                           "SELECT direction, peer, msg_id, body_sha256, prev_hash,"
	                           " row_hash FROM audit ORDER BY seq",
	                           -1, &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "sent");
	assert_string_equal(sqlite3_column_text(st, 1), "bravo");
	assert_string_equal(sqlite3_column_text(st, 3), BODY1_SHA);
	assert_string_equal(sqlite3_column_text(st, 4), ZEROS);
	assert_string_equal(sqlite3_column_text(st, 5), ROW1_HASH);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "local");
	assert_int_equal(sqlite3_column_type(st, 1), SQLITE_NULL);
	assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
	assert_string_equal(sqlite3_column_text(st, 3), EMPTY_SHA);
	assert_string_equal(sqlite3_column_text(st, 4), ROW1_HASH);
	assert_string_equal(sqlite3_column_text(st, 5), ROW2_HASH);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

struct report {
	int calls;
	int64_t seq;
	char reason[160];
};

static void report_cb(void *ud, int64_t seq, const char *reason)
{
	struct report *r = ud;
	r->calls++;
	r->seq = seq;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
}

static void intact_chain_verifies(void **state)
{
	struct fixture *f = *state;
	struct hl_audit_summary sum;
	struct report r = {0};
	assert_int_equal(hl_store_audit_verify(f->s, report_cb, &r, &sum), 0);
	assert_int_equal(sum.rows, 0);
	assert_int_equal(sum.last_seq, 0);
	assert_string_equal(sum.head, ZEROS);

	append_rows(f->s, 10);
	assert_int_equal(hl_store_audit_verify(f->s, report_cb, &r, &sum), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(sum.rows, 10);
	assert_int_equal(sum.last_seq, 10);
	assert_int_equal(sum.first_bad, 0);
	sqlite3 *db = raw_open(f->t.path);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	        sqlite3_prepare_v2(db, "SELECT row_hash FROM audit WHERE seq = 10", -1, &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sum.head, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* Also fine without a callback or summary, and across a reopen. */
	hl_store_close(&f->s);
	f->s = open_ok(f->t.path);
	assert_int_equal(hl_store_audit_verify(f->s, NULL, NULL, NULL), 0);
}

static void triggers_forbid_update_and_delete(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 3);
	sqlite3 *db = raw_open(f->t.path);
	assert_int_equal(
	        sqlite3_exec(db, "UPDATE audit SET type = 'x' WHERE seq = 2", NULL, NULL, NULL),
	        SQLITE_CONSTRAINT);
	assert_string_equal(sqlite3_errmsg(db), "audit log is append-only");
	assert_int_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 2", NULL, NULL, NULL),
	                 SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_TRIGGER);
	sqlite3_close(db);
	assert_int_equal(hl_store_audit_verify(f->s, NULL, NULL, NULL), 0);
}

/* Tamper through a raw connection, with the triggers dropped as an
 * attacker with the file would. */
static void tamper(struct fixture *f, const char *sql)
{
	sqlite3 *db = raw_open(f->t.path);
	raw_exec(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete");
	raw_exec(db, sql);
	sqlite3_close(db);
}

/* The chain must break at seq, after an intact prefix of `intact` rows. */
static void expect_broken(struct fixture *f, int64_t seq, int64_t intact, const char *reason_part)
{
	struct report r = {0};
	struct hl_audit_summary sum;
	assert_int_equal(hl_store_audit_verify(f->s, report_cb, &r, &sum), HL_EFORMAT);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.seq, seq);
	assert_int_equal(sum.first_bad, seq);
	assert_int_equal(sum.rows, intact);
	assert_int_equal(sum.last_seq, intact);
	if (strstr(r.reason, reason_part) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", r.reason, reason_part);
	assert_string_equal(sum.reason, r.reason);
}

static void changed_row_is_detected(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 6);
	tamper(f, "UPDATE audit SET peer = 'charlie' WHERE seq = 4");
	expect_broken(f, 4, 3, "row_hash does not match");
}

static void changed_time_is_detected(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 6);
	tamper(f, "UPDATE audit SET at = at + 1 WHERE seq = 1");
	expect_broken(f, 1, 0, "row_hash does not match");
}

static void rehashed_row_breaks_the_next_link(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 6);
	/* The attacker changes row 3 and recomputes its own hash correctly. */
	sqlite3 *db = raw_open(f->t.path);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT at, direction, peer, msg_id, type, body_sha256,"
	                                    " prev_hash FROM audit WHERE seq = 3",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char h[HL_STORE_HASH_HEX];
	assert_int_equal(hl_store_audit_row_hash(3, sqlite3_column_int64(st, 0),
	                                         (const char *)sqlite3_column_text(st, 1),
	                                         "mallory",
	                                         (const char *)sqlite3_column_text(st, 3),
	                                         (const char *)sqlite3_column_text(st, 4),
	                                         (const char *)sqlite3_column_text(st, 5),
	                                         (const char *)sqlite3_column_text(st, 6), h),
	                 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	char sql[256];
	snprintf(sql, sizeof sql,
	         "UPDATE audit SET peer = 'mallory', row_hash = '%s' WHERE seq = 3", h);
	tamper(f, sql);
	expect_broken(f, 4, 3, "prev_hash is not the previous row's row_hash");
}

static void deleted_row_is_detected(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 6);
	tamper(f, "DELETE FROM audit WHERE seq = 3");
	expect_broken(f, 4, 2, "seq 4 follows 2");
}

static void deleted_first_row_is_detected(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 3);
	tamper(f, "DELETE FROM audit WHERE seq = 1");
	expect_broken(f, 2, 0, "seq 2 follows 0");
}

static void renumbered_after_delete_is_detected(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 6);
	/* Delete row 3 and close the gap by renumbering: the hashes cover seq. */
	tamper(f, "DELETE FROM audit WHERE seq = 3; UPDATE audit SET seq = seq - 1 WHERE seq > 3");
	expect_broken(f, 3, 2, "prev_hash is not the previous row's row_hash");
}

static void reordered_rows_are_detected(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 6);
	/* Swap rows 2 and 3 (their contents trade places in the order). */
	tamper(f, "UPDATE audit SET seq = 100 WHERE seq = 2;"
	          "UPDATE audit SET seq = 2 WHERE seq = 3;"
	          "UPDATE audit SET seq = 3 WHERE seq = 100");
	expect_broken(f, 2, 1, "prev_hash is not the previous row's row_hash");
}

static void append_joins_the_callers_transaction(void **state)
{
	struct fixture *f = *state;
	append_rows(f->s, 2);
	assert_int_equal(hl_store_begin(f->s), 0);
	struct hl_audit_entry e = {.at = 1, .direction = HL_AUDIT_RECEIVED, .type = "t"};
	int64_t seq = 0;
	assert_int_equal(hl_store_audit_append(f->s, &e, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(hl_store_audit_append(f->s, &e, &seq), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(hl_store_rollback(f->s), 0);
	struct hl_audit_summary sum;
	assert_int_equal(hl_store_audit_verify(f->s, NULL, NULL, &sum), 0);
	assert_int_equal(sum.rows, 2);
	/* The next append reuses seq 3 and the chain stays intact. */
	assert_int_equal(hl_store_audit_append(f->s, &e, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(hl_store_audit_verify(f->s, NULL, NULL, &sum), 0);
	assert_int_equal(sum.rows, 3);
}

static void bad_entries_are_refused(void **state)
{
	struct fixture *f = *state;
	struct hl_audit_entry e = {.at = 1, .direction = HL_AUDIT_SENT, .type = NULL};
	assert_int_equal(hl_store_audit_append(f->s, &e, NULL), HL_EINVAL);
	e.type = "t";
	e.direction = (enum hl_audit_dir)7;
	assert_int_equal(hl_store_audit_append(f->s, &e, NULL), HL_EINVAL);
	e.direction = HL_AUDIT_SENT;
	e.body_len = 3; /* length without a body */
	assert_int_equal(hl_store_audit_append(f->s, &e, NULL), HL_EINVAL);
	e.body_len = 0;
	e.peer = "";
	assert_int_equal(hl_store_audit_append(f->s, &e, NULL), HL_EINVAL);
	assert_int_equal(hl_store_audit_append(f->s, NULL, NULL), HL_EINVAL);
	struct hl_audit_summary sum;
	assert_int_equal(hl_store_audit_verify(f->s, NULL, NULL, &sum), 0);
	assert_int_equal(sum.rows, 0);
	assert_null(hl_audit_dir_name((enum hl_audit_dir)9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(row_hash_matches_the_documented_encoding, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(intact_chain_verifies, setup, teardown),
	        cmocka_unit_test_setup_teardown(triggers_forbid_update_and_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(changed_row_is_detected, setup, teardown),
	        cmocka_unit_test_setup_teardown(changed_time_is_detected, setup, teardown),
	        cmocka_unit_test_setup_teardown(rehashed_row_breaks_the_next_link, setup, teardown),
	        cmocka_unit_test_setup_teardown(deleted_row_is_detected, setup, teardown),
	        cmocka_unit_test_setup_teardown(deleted_first_row_is_detected, setup, teardown),
	        cmocka_unit_test_setup_teardown(renumbered_after_delete_is_detected, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(reordered_rows_are_detected, setup, teardown),
	        cmocka_unit_test_setup_teardown(append_joins_the_callers_transaction, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(bad_entries_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
