/* \summary: store handle: open, durability pragmas, migrations, transactions
 *
 * Durability: WAL with synchronous=FULL. In WAL mode NORMAL skips the fsync
 * of the WAL at commit, so a committed transaction survives a crash of the
 * process (kill -9) but may roll back after a power loss or kernel crash;
 * FULL fsyncs the WAL on every commit, so an ACK, which is sent only after
 * the commit returns, means the data is on stable storage. The cost is one
 * fsync per transaction, which is why the exchange batches (docs/store.md).
 */
#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

#define BUSY_TIMEOUT_MS 5000
#define JOURNAL_SIZE_LIMIT (64 * 1024 * 1024)
/* Page cache per connection (KiB): the hot ends of the indexes stay in
 * memory during a burst. */
#define CACHE_KIB 32768
/* Checkpoint at 32 MiB of WAL rather than SQLite's 1000 pages: fewer
 * checkpoint fsyncs during a burst; the WAL is truncated back to
 * JOURNAL_SIZE_LIMIT after each. */
#define AUTOCHECKPOINT_BYTES (32 * 1024 * 1024)
/* A new database's page size. Every WAL frame is two writes and a header;
 * 16 KiB pages cut a sharer's CPU per sighting by about 8% against 4 KiB in
 * a 100,000-sighting burst, while 64 KiB pages (a few more percent) made
 * each small commit write so much that the median latency at 1,000/s
 * doubled (docs/store.md, "Page size"). An existing database keeps its own:
 * WAL mode cannot change it. */
#define NEW_PAGE_SIZE 16384

int hls_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return HL_ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return HL_EAGAIN;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
			return HL_EEXISTS;
		return HL_EINVAL;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
	case SQLITE_SCHEMA:
		return HL_EFORMAT;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return HL_EPERM;
	case SQLITE_TOOBIG:
		return HL_ELIMIT;
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		return HL_EINVAL;
	case SQLITE_NOTFOUND:
		return HL_ENOTFOUND;
	default:
		return HL_EIO;
	}
}

static void log_error(hl_store_t *s, int err)
{
	if (s->log != NULL)
		s->log(s->log_ud, err, s->errmsg);
}

int hls_error(hl_store_t *s, int err, const char *what)
{
	snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", s->path, what);
	log_error(s, err);
	return err;
}

int hls_fail(hl_store_t *s, int rc, const char *what)
{
	int err = hls_code(rc);
	if (err == 0)
		err = HL_EIO;
	snprintf(s->errmsg, sizeof s->errmsg, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	log_error(s, err);
	return err;
}

sqlite3_stmt *hls_stmt(hl_store_t *s, enum hls_stmt slot, const char *sql, int *rc)
{
	if (s->stmt[slot] != NULL)
		return s->stmt[slot];
	int r = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[slot], NULL);
	if (r != SQLITE_OK) {
		sqlite3_finalize(s->stmt[slot]);
		s->stmt[slot] = NULL;
		*rc = hls_fail(s, r, "prepare");
		return NULL;
	}
	return s->stmt[slot];
}

void hls_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int hls_exec_stmt(hl_store_t *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);
	int rc = r == SQLITE_DONE || r == SQLITE_ROW ? 0 : hls_fail(s, r, what);
	hls_done(st);
	return rc;
}

int hls_bind_text(hl_store_t *s, sqlite3_stmt *st, int idx, const char *text)
{
	int r = text != NULL ? sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC)
	                     : sqlite3_bind_null(st, idx);
	return r == SQLITE_OK ? 0 : hls_fail(s, r, "bind");
}

bool hls_id_ok(const char *id)
{
	if (id == NULL || id[0] == '\0')
		return false;
	return strnlen(id, HL_STORE_ID_MAX + 1) <= HL_STORE_ID_MAX;
}

/* ---- transactions ------------------------------------------------------ */

static int exec_slot(hl_store_t *s, enum hls_stmt slot, const char *sql, const char *what)
{
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, slot, sql, &rc);
	return st != NULL ? hls_exec_stmt(s, st, what) : rc;
}

bool hl_store_in_transaction(hl_store_t *s)
{
	return sqlite3_get_autocommit(s->db) == 0;
}

int hl_store_begin(hl_store_t *s)
{
	if (hl_store_in_transaction(s))
		return hls_error(s, HL_ESTATE, "begin: a transaction is already open");
	return exec_slot(s, HLS_BEGIN, "BEGIN IMMEDIATE", "begin");
}

int hl_store_commit(hl_store_t *s)
{
	if (!hl_store_in_transaction(s))
		return hls_error(s, HL_ESTATE, "commit: no transaction is open");
	return exec_slot(s, HLS_COMMIT, "COMMIT", "commit");
}

int hl_store_rollback(hl_store_t *s)
{
	if (!hl_store_in_transaction(s))
		return 0;
	return exec_slot(s, HLS_ROLLBACK, "ROLLBACK", "rollback");
}

int hls_op_begin(hl_store_t *s, bool *own)
{
	*own = !hl_store_in_transaction(s);
	return *own ? hl_store_begin(s) : 0;
}

int hls_op_end(hl_store_t *s, bool own, int rc)
{
	if (!own)
		return rc;
	if (rc == 0) {
		rc = hl_store_commit(s);
		if (rc == 0)
			return 0;
	}
	hl_store_rollback(s);
	return rc;
}

/* ---- open -------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *path, const char *what, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s%s%s", path, what, why != NULL ? ": " : "",
		         why != NULL ? why : "");
}

/* Run sql (no rows expected, or the rows are ignored). */
static int exec_sql(hl_store_t *s, const char *sql, char *err, size_t errlen, const char *what)
{
	int r = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (r != SQLITE_OK) {
		set_err(err, errlen, s->path, what, sqlite3_errmsg(s->db));
		return hls_code(r) != 0 ? hls_code(r) : HL_EIO;
	}
	return 0;
}

/* One integer from a single-row query. */
static int query_int(hl_store_t *s, const char *sql, int64_t *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (r == SQLITE_OK) {
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			r = SQLITE_OK;
		}
	}
	if (r != SQLITE_OK) {
		set_err(err, errlen, s->path, "cannot read the database", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return hls_code(r) != 0 ? hls_code(r) : HL_EIO;
	}
	sqlite3_finalize(st);
	return 0;
}

/* A file that SQLite reads but that is some other program's database is
 * refused rather than migrated into. */
static int check_identity(hl_store_t *s, int64_t *version, char *err, size_t errlen)
{
	int64_t app = 0, tables = 0;
	int rc = query_int(s, "PRAGMA application_id", &app, err, errlen);
	if (rc == 0)
		rc = query_int(s, "PRAGMA user_version", version, err, errlen);
	if (rc == 0)
		rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err, errlen);
	if (rc != 0)
		return rc;
	if (app == HL_STORE_APPLICATION_ID || (app == 0 && *version == 0 && tables == 0))
		return 0;
	char why[96];
	snprintf(why, sizeof why, "application_id 0x%08llx, user_version %lld, %lld schema objects",
	         (unsigned long long)(uint32_t)app, (long long)*version, (long long)tables);
	set_err(err, errlen, s->path, "not a hotline store", why);
	return HL_EFORMAT;
}

static int migrate(hl_store_t *s, int64_t version, char *err, size_t errlen)
{
	size_t n = 0;
	const char *const *steps = hl_store_migrations(&n);
	if (version > (int64_t)n) {
		char why[96];
		snprintf(why, sizeof why,
		         "schema version %lld is newer than this program knows (%zu)",
		         (long long)version, n);
		set_err(err, errlen, s->path, "refusing to open", why);
		return HL_EFORMAT;
	}
	if (version < (int64_t)n && (s->flags & HL_STORE_READONLY) != 0) {
		char why[96];
		snprintf(why, sizeof why, "schema version %lld needs migrating to %zu",
		         (long long)version, n);
		set_err(err, errlen, s->path, "cannot open read-only", why);
		return HL_ESTATE;
	}
	for (size_t i = (size_t)version; i < n; i++) {
		char what[64], bump[64];
		snprintf(what, sizeof what, "migration %zu -> %zu", i, i + 1);
		snprintf(bump, sizeof bump, "PRAGMA user_version = %zu", i + 1);
		int rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen, what);
		if (rc == 0)
			rc = exec_sql(s, steps[i], err, errlen, what);
		if (rc == 0)
			rc = exec_sql(s, bump, err, errlen, what);
		if (rc == 0)
			rc = exec_sql(s, "COMMIT", err, errlen, what);
		if (rc != 0) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

static int setup(hl_store_t *s, char *err, size_t errlen)
{
	bool ro = (s->flags & HL_STORE_READONLY) != 0;
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* The file may come from anywhere: no schema tricks, no functions with
	 * side effects from views or triggers. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

	int64_t version = 0;
	int rc = check_identity(s, &version, err, errlen);
	if (rc != 0)
		return rc;
	if (!ro && version == 0) {
		char ps[64];
		snprintf(ps, sizeof ps, "PRAGMA page_size = %d", NEW_PAGE_SIZE);
		rc = exec_sql(s, ps, err, errlen, "cannot set the page size");
		if (rc != 0)
			return rc;
	}
	if (!ro && strcmp(s->path, ":memory:") != 0) {
		sqlite3_stmt *st = NULL;
		int r = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
			const char *mode = (const char *)sqlite3_column_text(st, 0);
			if (mode == NULL || strcmp(mode, "wal") != 0) {
				set_err(err, errlen, s->path, "cannot use WAL journal mode",
				        mode != NULL ? mode : "?");
				sqlite3_finalize(st);
				return HL_EIO;
			}
			r = SQLITE_OK;
		}
		if (r != SQLITE_OK) {
			set_err(err, errlen, s->path, "cannot set WAL", sqlite3_errmsg(s->db));
			sqlite3_finalize(st);
			return hls_code(r) != 0 ? hls_code(r) : HL_EIO;
		}
		sqlite3_finalize(st);
	}
	rc = query_int(s, "PRAGMA page_size", &s->page_size, err, errlen);
	if (rc != 0)
		return rc;
	char pragmas[256];
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
	         "PRAGMA journal_size_limit = %d; PRAGMA cache_size = -%d; "
	         "PRAGMA wal_autocheckpoint = %lld;",
	         JOURNAL_SIZE_LIMIT, CACHE_KIB,
	         (long long)(AUTOCHECKPOINT_BYTES / (s->page_size > 0 ? s->page_size : 4096)));
	rc = exec_sql(s, pragmas, err, errlen, "cannot set pragmas");
	if (rc != 0)
		return rc;
	return migrate(s, version, err, errlen);
}

hl_store_t *hl_store_open_flags(const char *path, unsigned flags, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		set_err(err, errlen, "(no path)", "cannot open store", "empty path");
		return NULL;
	}
	hl_store_t *s = calloc(1, sizeof *s);
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		set_err(err, errlen, path, "cannot open store", "out of memory");
		return NULL;
	}
	s->flags = flags;
	int oflags = SQLITE_OPEN_NOMUTEX | ((flags & HL_STORE_READONLY) != 0
	                                            ? SQLITE_OPEN_READONLY
	                                            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int r = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (r != SQLITE_OK) {
		set_err(err, errlen, path, "cannot open store",
		        s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
		hl_store_close(&s);
		return NULL;
	}
	if (setup(s, err, errlen) != 0) {
		hl_store_close(&s);
		return NULL;
	}
	if ((flags & HL_STORE_CHECKPOINT_THREAD) != 0 && (flags & HL_STORE_READONLY) == 0 &&
	    strcmp(path, ":memory:") != 0 && hls_checkpointer_start(s) != 0) {
		set_err(err, errlen, path, "cannot start the checkpoint thread", s->errmsg);
		hl_store_close(&s);
		return NULL;
	}
	return s;
}

hl_store_t *hl_store_open(const char *path, char *err, size_t errlen)
{
	return hl_store_open_flags(path, 0, err, errlen);
}

void hl_store_close(hl_store_t **store_p)
{
	if (store_p == NULL || *store_p == NULL)
		return;
	hl_store_t *s = *store_p;
	hls_checkpointer_stop(s);
	for (size_t i = 0; i < HLS_STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL && sqlite3_get_autocommit(s->db) == 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	*store_p = NULL;
}

void hl_store_set_log(hl_store_t *s, hl_store_log_fn fn, void *ud)
{
	s->log = fn;
	s->log_ud = ud;
}

const char *hl_store_errmsg(const hl_store_t *s)
{
	return s->errmsg;
}

int hl_store_schema_version(hl_store_t *s, int *version)
{
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		r = SQLITE_OK;
	}
	int rc = r == SQLITE_OK ? 0 : hls_fail(s, r, "user_version");
	sqlite3_finalize(st);
	return rc;
}
