/* \summary: the store's checkpoint thread (HL_STORE_CHECKPOINT_THREAD) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <sys/stat.h>
#include <time.h>

#include "hotline/err.h"
#include "store_impl.h"
#include "test_store_util.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One transaction of about 20 MiB through the store's own connection: past
 * the 16 MiB that wakes the checkpointer. */
static void big_commit(hl_store_t *s)
{
	assert_int_equal(
	        sqlite3_exec(s->db,
	                     "CREATE TABLE IF NOT EXISTS scratch (b BLOB);"
	                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	                     " WHERE i < 5000)"
	                     " INSERT INTO scratch SELECT zeroblob(4000) FROM n;",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
}

static void the_thread_checkpoints_after_a_big_commit(void **state)
{
	struct tmpdb *t = *state;
	char err[512];
	hl_store_t *s = hl_store_open_flags(t->path, HL_STORE_CHECKPOINT_THREAD, err, sizeof err);
	assert_non_null(s);
	unsigned long runs, failures;
	hl_store_checkpoint_stats(s, &runs, &failures);
	assert_int_equal(runs, 0);
	big_commit(s);
	/* The commit path does not checkpoint by itself (the automatic
	 * checkpoint is off): the 20 MiB reach the database file only through
	 * the thread. */
	struct stat st;
	int64_t deadline = now_ms() + 20000;
	do {
		assert_int_equal(stat(t->path, &st), 0);
		hl_store_checkpoint_stats(s, &runs, &failures);
		if (st.st_size > 16 * 1024 * 1024 && runs >= 1)
			break;
		poll(NULL, 0, 10);
	} while (now_ms() < deadline);
	assert_true(st.st_size > 16 * 1024 * 1024);
	hl_store_checkpoint_stats(s, &runs, &failures);
	assert_true(runs >= 1);
	assert_int_equal(failures, 0);
	hl_store_close(&s);
	/* reopened, every row is there */
	s = hl_store_open(t->path, err, sizeof err);
	assert_non_null(s);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT count(*) FROM scratch", -1, &q, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 5000);
	sqlite3_finalize(q);
	hl_store_close(&s);
}

static void without_the_flag_there_is_no_thread(void **state)
{
	struct tmpdb *t = *state;
	char err[512];
	hl_store_t *s = hl_store_open(t->path, err, sizeof err);
	assert_non_null(s);
	big_commit(s);
	unsigned long runs, failures;
	hl_store_checkpoint_stats(s, &runs, &failures);
	assert_int_equal(runs, 0);
	assert_int_equal(failures, 0);
	hl_store_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(the_thread_checkpoints_after_a_big_commit,
	                                        tmpdb_setup, tmpdb_teardown),
	        cmocka_unit_test_setup_teardown(without_the_flag_there_is_no_thread, tmpdb_setup,
	                                        tmpdb_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
