/* \summary: helpers for the store tests: a temp directory per test, raw SQL */
#ifndef HOTLINE_TEST_STORE_UTIL_H
#define HOTLINE_TEST_STORE_UTIL_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct tmpdb {
	char dir[512];
	char path[600];
};

static inline void tmpdb_make(struct tmpdb *t)
{
	int n = snprintf(t->dir, sizeof t->dir, "%s/store-test-XXXXXX", HOTLINE_BINARY_DIR);
	assert_true(n > 0 && (size_t)n < sizeof t->dir);
	assert_non_null(mkdtemp(t->dir));
	n = snprintf(t->path, sizeof t->path, "%s/hotline.db", t->dir);
	assert_true(n > 0 && (size_t)n < sizeof t->path);
}

/* Remove the database, its -wal/-shm and anything else the test left. */
static inline void tmpdb_remove(struct tmpdb *t)
{
	DIR *d = opendir(t->dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[900];
			snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(t->dir);
}

/* cmocka setup/teardown: *state is a struct tmpdb with its directory made. */
static inline int tmpdb_setup(void **state)
{
	struct tmpdb *t = calloc(1, sizeof *t);
	assert_non_null(t);
	tmpdb_make(t);
	*state = t;
	return 0;
}

static inline int tmpdb_teardown(void **state)
{
	struct tmpdb *t = *state;
	tmpdb_remove(t);
	free(t);
	return 0;
}

static inline hl_store_t *open_ok(const char *path)
{
	char err[512] = "";
	hl_store_t *s = hl_store_open(path, err, sizeof err);
	if (s == NULL)
		fail_msg("open %s: %s", path, err);
	return s;
}

/* A raw connection for what the API must not allow (tampering, old
 * versions). */
static inline sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static inline void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg != NULL ? msg : "?");
}

static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif
