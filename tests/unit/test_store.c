/* \summary: store open, pragmas, migrations, refusals, transactions, crash safety */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hotline/err.h"
#include "store_impl.h"
#include "test_store_util.h"

static const char *const REC = "{\"first_seen\":\"2024-05-01T10:00:00Z\",\"indicator\":"
                               "{\"id\":\"hl--abc\"},\"count\":1}";

static void add_sighting(hl_store_t *s, const char *id, int64_t at)
{
	struct hl_store_sighting sg = {
	        .id = id, .origin = "local", .received_at = at, .record = REC};
	bool added = false;
	assert_int_equal(hl_store_sighting_add(s, &sg, &added), 0);
	assert_true(added);
}

static void open_create_reopen_keeps_data(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	int version = 0;
	assert_int_equal(hl_store_schema_version(s, &version), 0);
	assert_int_equal(version, HL_STORE_SCHEMA_VERSION);
	add_sighting(s, "s1", 100);
	assert_int_equal(hl_store_outbox_enqueue(s, "bravo", "sighting", HL_PRIO_SIGHTING, "m1",
	                                         NULL, "{}", 100),
	                 0);
	hl_store_close(&s);
	assert_null(s);
	hl_store_close(&s); /* NULL is fine */
	hl_store_close(NULL);

	s = open_ok(t->path);
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_outbox_depth(s, "bravo", &n), 0);
	assert_int_equal(n, 1);
	hl_store_close(&s);
}

static void memory_store_works_without_wal(void **state)
{
	(void)state;
	hl_store_t *s = open_ok(":memory:");
	int version = 0;
	assert_int_equal(hl_store_schema_version(s, &version), 0);
	assert_int_equal(version, HL_STORE_SCHEMA_VERSION);
	add_sighting(s, "s1", 1);
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(n, 1);
	hl_store_close(&s);
}

static void durability_pragmas_are_set(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(raw_int(s->db, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(raw_int(s->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(raw_int(s->db, "PRAGMA application_id"), HL_STORE_APPLICATION_ID);
	assert_int_equal(raw_int(s->db, "PRAGMA busy_timeout"), 5000);
	hl_store_close(&s);
}

struct due_one {
	char id[64], body[64];
};

static int take_due(void *ud, const struct hl_outbox_msg *m)
{
	struct due_one *d = ud;
	snprintf(d->id, sizeof d->id, "%s", m->msg_id);
	snprintf(d->body, sizeof d->body, "%s", m->body);
	return 0;
}

static void migrates_from_version_1(void **state)
{
	struct tmpdb *t = *state;
	size_t nsteps = 0;
	const char *const *steps = hl_store_migrations(&nsteps);
	assert_int_equal(nsteps, HL_STORE_SCHEMA_VERSION);

	/* A version-1 database, as a release with only step 1 left it. */
	sqlite3 *db = raw_open(t->path);
	raw_exec(db, "PRAGMA journal_mode = WAL; BEGIN");
	raw_exec(db, steps[0]);
	raw_exec(db, "PRAGMA user_version = 1; COMMIT");
	raw_exec(db, "INSERT INTO sightings (id, origin, received_at, first_seen, indicator_id,"
	             " record) VALUES ('old', 'peer:bravo', 5, 4, 'hl--x', '{}');"
	             "INSERT INTO outbox (msg_id, peer, type, priority, body, created_at,"
	             " next_attempt_at) VALUES ('m-old', 'bravo', 'sighting', 30, '{}', 5, 5)");
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'audit'"), 0);
	sqlite3_close(db);

	hl_store_t *s = open_ok(t->path);
	int version = 0;
	assert_int_equal(hl_store_schema_version(s, &version), 0);
	assert_int_equal(version, HL_STORE_SCHEMA_VERSION);
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_outbox_depth(s, "bravo", &n), 0);
	assert_int_equal(n, 1);
	/* Step 3 moved the pending message's bytes: it is still sent. */
	struct due_one d = {0};
	assert_int_equal(hl_store_outbox_next_due(s, "bravo", 10, 0, take_due, &d, NULL), 0);
	assert_string_equal(d.id, "m-old");
	assert_string_equal(d.body, "{}");
	/* The step-2 table works. */
	struct hl_audit_entry e = {.at = 7, .direction = HL_AUDIT_LOCAL, .type = "migrated"};
	int64_t seq = 0;
	assert_int_equal(hl_store_audit_append(s, &e, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(hl_store_audit_verify(s, NULL, NULL, NULL), 0);
	hl_store_close(&s);

	/* Reopening a current database migrates nothing. */
	s = open_ok(t->path);
	assert_int_equal(hl_store_schema_version(s, &version), 0);
	assert_int_equal(version, HL_STORE_SCHEMA_VERSION);
	hl_store_close(&s);
}

static void newer_version_is_refused(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	hl_store_close(&s);
	sqlite3 *db = raw_open(t->path);
	char sql[64], want[96];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", HL_STORE_SCHEMA_VERSION + 1);
	snprintf(want, sizeof want, "schema version %d is newer than this program knows (%d)",
	         HL_STORE_SCHEMA_VERSION + 1, HL_STORE_SCHEMA_VERSION);
	raw_exec(db, sql);
	sqlite3_close(db);

	char err[512] = "";
	s = hl_store_open(t->path, err, sizeof err);
	assert_null(s);
	assert_non_null(strstr(err, t->path));
	assert_non_null(strstr(err, want));
	/* Refusal changed nothing. */
	db = raw_open(t->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), HL_STORE_SCHEMA_VERSION + 1);
	sqlite3_close(db);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void not_a_database_is_refused(void **state)
{
	struct tmpdb *t = *state;
	char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)('a' + i % 26);
	write_file(t->path, junk, sizeof junk);
	char err[512] = "";
	hl_store_t *s = hl_store_open(t->path, err, sizeof err);
	assert_null(s);
	assert_non_null(strstr(err, t->path));
	assert_non_null(strstr(err, "file is not a database"));

	/* No err buffer: still refused, no crash. */
	assert_null(hl_store_open(t->path, NULL, 0));
	/* A directory, an empty path. */
	assert_null(hl_store_open(t->dir, err, sizeof err));
	assert_non_null(strstr(err, t->dir));
	assert_null(hl_store_open("", err, sizeof err));
	assert_null(hl_store_open(NULL, err, sizeof err));
}

static void other_sqlite_database_is_refused(void **state)
{
	struct tmpdb *t = *state;
	sqlite3 *db = raw_open(t->path);
	raw_exec(db, "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)");
	sqlite3_close(db);
	char err[512] = "";
	assert_null(hl_store_open(t->path, err, sizeof err));
	assert_non_null(strstr(err, t->path));
	assert_non_null(strstr(err, "not a hotline store"));
	db = raw_open(t->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
	sqlite3_close(db);
}

/* A store whose pages past the first were overwritten: reads fail with
 * HL_EFORMAT and a message naming the file; nothing crashes. */
static void corrupt_pages_are_an_error(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof id, "s%d", i);
		add_sighting(s, id, i);
	}
	hl_store_close(&s); /* checkpoints: all pages in the main file */

	int fd = open(t->path, O_RDWR);
	assert_true(fd >= 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	/* The page size, from the file header (big-endian at offset 16). */
	uint8_t be[2];
	assert_int_equal(pread(fd, be, 2, 16), 2);
	size_t page = (size_t)be[0] << 8 | be[1];
	assert_int_equal(page, 16384); /* a new store's (store.c NEW_PAGE_SIZE) */
	assert_true(sb.st_size > (off_t)(2 * page));
	char junk[16384];
	memset(junk, 0x5a, sizeof junk);
	for (off_t off = (off_t)page; off + (off_t)page <= sb.st_size; off += (off_t)page)
		assert_int_equal(pwrite(fd, junk, page, off), (ssize_t)page);
	close(fd);

	/* Page 1 (header and schema) is intact, so the store opens and the
	 * damage shows on the first read of a damaged table. */
	s = open_ok(t->path);
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(s, &n), HL_EFORMAT);
	assert_non_null(
	        strstr(hl_store_errmsg(s), "sighting count: database disk image is malformed"));
	assert_non_null(strstr(hl_store_errmsg(s), t->path));
	hl_store_close(&s);
}

static void rollback_leaves_neither_change_nor_outbox_row(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	assert_false(hl_store_in_transaction(s));
	assert_int_equal(hl_store_begin(s), 0);
	assert_true(hl_store_in_transaction(s));
	assert_int_equal(hl_store_begin(s), HL_ESTATE);
	add_sighting(s, "s1", 1);
	assert_int_equal(hl_store_outbox_enqueue(s, "bravo", "sighting", HL_PRIO_SIGHTING, "m1",
	                                         NULL, "{}", 1),
	                 0);
	assert_int_equal(hl_store_rollback(s), 0);
	assert_false(hl_store_in_transaction(s));
	size_t n = 9;
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hl_store_outbox_depth(s, NULL, &n), 0);
	assert_int_equal(n, 0);

	/* The same pair committed: both there. */
	assert_int_equal(hl_store_begin(s), 0);
	add_sighting(s, "s1", 1);
	assert_int_equal(hl_store_outbox_enqueue(s, "bravo", "sighting", HL_PRIO_SIGHTING, "m1",
	                                         NULL, "{}", 1),
	                 0);
	assert_int_equal(hl_store_commit(s), 0);
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_outbox_depth(s, "bravo", &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(hl_store_commit(s), HL_ESTATE);
	assert_int_equal(hl_store_rollback(s), 0);
	hl_store_close(&s);

	/* Closing with a transaction open rolls it back. */
	s = open_ok(t->path);
	assert_int_equal(hl_store_begin(s), 0);
	add_sighting(s, "s2", 2);
	hl_store_close(&s);
	s = open_ok(t->path);
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(n, 1);
	hl_store_close(&s);
}

struct log_seen {
	int calls;
	int err;
	char msg[512];
};

static void log_cb(void *ud, int err, const char *msg)
{
	struct log_seen *l = ud;
	l->calls++;
	l->err = err;
	snprintf(l->msg, sizeof l->msg, "%s", msg);
}

static void errors_carry_sqlite_message_and_reach_the_log(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	struct log_seen seen = {0};
	hl_store_set_log(s, log_cb, &seen);
	assert_string_equal(hl_store_errmsg(s), "");
	assert_int_equal(hl_store_outbox_enqueue(s, "bravo", "sighting", 30, "m1", NULL, "{}", 1),
	                 0);
	assert_int_equal(hl_store_outbox_enqueue(s, "bravo", "sighting", 30, "m1", NULL, "{}", 1),
	                 HL_EEXISTS);
	assert_non_null(strstr(hl_store_errmsg(s), "UNIQUE constraint failed: outbox.msg_id"));
	assert_non_null(strstr(hl_store_errmsg(s), t->path));
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.err, HL_EEXISTS);
	assert_string_equal(seen.msg, hl_store_errmsg(s));

	/* A CHECK constraint is HL_EINVAL (origin checked before SQL too). */
	struct hl_store_sighting sg = {.id = "x", .origin = "peer:", .record = "{}"};
	assert_int_equal(hl_store_sighting_add(s, &sg, NULL), HL_EINVAL);
	assert_int_equal(seen.calls, 2);
	hl_store_set_log(s, NULL, NULL);
	assert_int_equal(hl_store_sighting_add(s, &sg, NULL), HL_EINVAL);
	assert_int_equal(seen.calls, 2);
	hl_store_close(&s);
}

static void hostile_strings_are_data_not_sql(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *s = open_ok(t->path);
	const char *peer = "b'); DROP TABLE outbox; --";
	const char *id = "\"; DELETE FROM inbox; '";
	assert_int_equal(hl_store_outbox_enqueue(s, peer, "x'y", 0, id, "'", "\"", 1), 0);
	bool is_new = false;
	assert_int_equal(hl_store_inbox_record_once(s, peer, id, "t", 1, &is_new), 0);
	assert_true(is_new);
	size_t n = 0;
	assert_int_equal(hl_store_outbox_depth(s, peer, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_outbox_ack(s, peer, id, 2), 0);
	assert_int_equal(hl_store_outbox_depth(s, peer, &n), 0);
	assert_int_equal(n, 0);
	bool seen = false;
	assert_int_equal(hl_store_inbox_seen(s, peer, id, 0, &seen), 0);
	assert_true(seen);
	hl_store_close(&s);
}

static void readonly_connection_reads_committed_data(void **state)
{
	struct tmpdb *t = *state;
	hl_store_t *w = open_ok(t->path);
	add_sighting(w, "s1", 1);
	char err[512] = "";
	hl_store_t *r = hl_store_open_flags(t->path, HL_STORE_READONLY, err, sizeof err);
	if (r == NULL)
		fail_msg("%s", err);
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(r, &n), 0);
	assert_int_equal(n, 1);
	/* An open write transaction is invisible to the reader. */
	assert_int_equal(hl_store_begin(w), 0);
	add_sighting(w, "s2", 2);
	assert_int_equal(hl_store_sighting_count(r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_commit(w), 0);
	assert_int_equal(hl_store_sighting_count(r, &n), 0);
	assert_int_equal(n, 2);
	/* Writes are refused. */
	assert_int_equal(hl_store_outbox_enqueue(r, "bravo", "t", 0, "m", NULL, "{}", 1), HL_EPERM);
	hl_store_close(&r);
	hl_store_close(&w);
}

static void readonly_refuses_an_old_schema(void **state)
{
	struct tmpdb *t = *state;
	size_t nsteps = 0;
	const char *const *steps = hl_store_migrations(&nsteps);
	sqlite3 *db = raw_open(t->path);
	raw_exec(db, "BEGIN");
	raw_exec(db, steps[0]);
	raw_exec(db, "PRAGMA user_version = 1; COMMIT");
	sqlite3_close(db);
	char err[512] = "";
	assert_null(hl_store_open_flags(t->path, HL_STORE_READONLY, err, sizeof err));
	assert_non_null(strstr(err, "needs migrating"));
}

/* ---- crash safety ------------------------------------------------------ */

#define CRASH_ROWS 1000
#define CRASH_KILL_AFTER 300

/* The child: commit a sighting and its outbox row per transaction and report
 * each committed index through the pipe. Never returns. */
static void crash_child(const char *path, int fd)
{
	char err[512];
	hl_store_t *s = hl_store_open(path, err, sizeof err);
	if (s == NULL)
		_exit(2);
	for (int i = 0; i < CRASH_ROWS; i++) {
		char id[32], rec[64];
		snprintf(id, sizeof id, "c%04d", i);
		snprintf(rec, sizeof rec, "{\"n\":%d}", i);
		struct hl_store_sighting sg = {.id = id,
		                               .origin = "local",
		                               .received_at = i + 1,
		                               .first_seen = i + 1,
		                               .indicator_id = "hl--x",
		                               .record = rec};
		if (hl_store_begin(s) != 0 || hl_store_sighting_add(s, &sg, NULL) != 0 ||
		    hl_store_outbox_enqueue(s, "bravo", "sighting", 30, id, NULL, rec, i) != 0 ||
		    hl_store_commit(s) != 0)
			_exit(3);
		int32_t v = i;
		if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
			_exit(4);
	}
	/* All done before the kill: wait for it. */
	for (;;)
		pause();
}

static void kill_9_loses_no_committed_row(void **state)
{
	struct tmpdb *t = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		crash_child(t->path, p[1]);
	}
	close(p[1]);
	int32_t v = -1, last = -1;
	int reports = 0;
	while (reports < CRASH_KILL_AFTER && read(p[0], &v, sizeof v) == (ssize_t)sizeof v) {
		assert_int_equal(v, last + 1);
		last = v;
		reports++;
	}
	assert_int_equal(reports, CRASH_KILL_AFTER);
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* Reports written between our last read and the kill count too. */
	while (read(p[0], &v, sizeof v) == (ssize_t)sizeof v) {
		assert_int_equal(v, last + 1);
		last = v;
	}
	close(p[0]);

	hl_store_t *s = open_ok(t->path);
	size_t n = 0, depth = 0;
	assert_int_equal(hl_store_sighting_count(s, &n), 0);
	assert_int_equal(hl_store_outbox_depth(s, "bravo", &depth), 0);
	/* Every reported row is there; at most the one in flight beyond it. */
	assert_true(n >= (size_t)last + 1 && n <= (size_t)last + 2);
	assert_int_equal(depth, n);
	sqlite3 *db = raw_open(t->path);
	char sql[128];
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM sightings s JOIN outbox o ON o.msg_id = s.id"
	         " WHERE s.id <= 'c%04d'",
	         last);
	assert_int_equal(raw_int(db, sql), last + 1);
	assert_string_equal(sqlite3_errmsg(db), "not an error");
	sqlite3_close(db);
	hl_store_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(open_create_reopen_keeps_data, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test(memory_store_works_without_wal),
	        cmocka_unit_test_setup_teardown(durability_pragmas_are_set, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(migrates_from_version_1, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(newer_version_is_refused, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(not_a_database_is_refused, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(other_sqlite_database_is_refused, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(corrupt_pages_are_an_error, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(rollback_leaves_neither_change_nor_outbox_row,
	                                        tmpdb_setup, tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(errors_carry_sqlite_message_and_reach_the_log,
	                                        tmpdb_setup, tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(hostile_strings_are_data_not_sql, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(readonly_connection_reads_committed_data,
	                                        tmpdb_setup, tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(readonly_refuses_an_old_schema, tmpdb_setup,
	                                        tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(kill_9_loses_no_committed_row, tmpdb_setup,
	                                        tmpdb_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
