/* \summary: store internals shared by store*.c (not a public interface) */
#ifndef HOTLINE_SHARER_STORE_IMPL_H
#define HOTLINE_SHARER_STORE_IMPL_H

#include <sqlite3.h>

#include "store.h"

/* Every cached statement has a slot; the SQL lives next to its user. */
enum hls_stmt {
	HLS_BEGIN,
	HLS_COMMIT,
	HLS_ROLLBACK,
	HLS_OUTBOX_ENQUEUE,
	HLS_OUTBOX_BODY_ADD,
	HLS_OUTBOX_BODY_DEL,
	HLS_OUTBOX_DUE,
	HLS_OUTBOX_MARK,
	HLS_OUTBOX_ACK,
	HLS_OUTBOX_RESCHEDULE,
	HLS_OUTBOX_DEPTH,
	HLS_OUTBOX_DEPTH_ALL,
	HLS_OUTBOX_WAKEUP,
	HLS_OUTBOX_PURGE,
	HLS_INBOX_INSERT,
	HLS_INBOX_SEEN,
	HLS_INBOX_PURGE,
	HLS_AUDIT_TAIL,
	HLS_AUDIT_INSERT,
	HLS_AUDIT_WALK,
	HLS_SIGHTING_INSERT,
	HLS_SIGHTING_SINCE_RECV,
	HLS_SIGHTING_SINCE_SEEN,
	HLS_SIGHTING_COUNT,
	HLS_IND_PUT,
	HLS_IND_STATUS,
	HLS_IND_GET,
	HLS_IND_LIST,
	HLS_IND_COUNT,
	HLS_SETV_INSERT,
	HLS_SETV_GET,
	HLS_SETV_LATEST,
	HLS_PIND_PUT,
	HLS_PIND_RETRACT,
	HLS_PIND_RETRACT_ALL,
	HLS_PIND_COUNT,
	HLS_PIND_GET,
	HLS_PIND_LIST,
	HLS_STMT_COUNT
};

struct hl_store {
	sqlite3 *db;
	char *path;
	unsigned flags;
	sqlite3_stmt *stmt[HLS_STMT_COUNT];
	hl_store_log_fn log;
	void *log_ud;
	char errmsg[512];
	struct hls_checkpointer *checkpointer; /* HL_STORE_CHECKPOINT_THREAD */
	int64_t page_size;                     /* the database's, read at open */
};

/* store_checkpoint.c: start the checkpoint thread (0 or HL_E*, error
 * recorded), and stop it (before the connection closes; no-op without). */
int hls_checkpointer_start(hl_store_t *s);
void hls_checkpointer_stop(hl_store_t *s);

/* Map a SQLite result code to HL_E*. */
int hls_code(int rc);
/* Record "what: sqlite message" as the handle's error, log it, and return
 * the HL_E* code for rc. */
int hls_fail(hl_store_t *s, int rc, const char *what);
/* Record a non-SQLite error (code err) with a message. */
int hls_error(hl_store_t *s, int err, const char *what);
/* The cached statement for slot, prepared from sql on first use; NULL with
 * the error recorded (*rc gets the HL_E* code). */
sqlite3_stmt *hls_stmt(hl_store_t *s, enum hls_stmt slot, const char *sql, int *rc);
/* Reset a statement after use and clear its bindings. */
void hls_done(sqlite3_stmt *st);
/* An indicator row (id, type, value, source, tlp, record, status,
 * set_version, updated_at: the column order of every indicator query) into
 * ind, whose strings point into st. 0, or HL_EFORMAT for a malformed row. */
struct hl_store_indicator;
int hls_indicator_row(sqlite3_stmt *st, struct hl_store_indicator *ind);
/* Pass each row of a prepared, bound indicator select to fn (a non-zero
 * return stops: negative is the error, positive a normal stop), count the
 * rows passed, reset st. Errors name what. */
int hls_indicator_each(hl_store_t *s, sqlite3_stmt *st, const char *what, hl_indicator_fn fn,
                       void *ud, size_t *count);
/* Step a statement that returns no rows, then reset it. */
int hls_exec_stmt(hl_store_t *s, sqlite3_stmt *st, const char *what);
/* Bind text (NULL binds SQL NULL). */
int hls_bind_text(hl_store_t *s, sqlite3_stmt *st, int idx, const char *text);
/* Check an id-like string: non-empty, at most HL_STORE_ID_MAX bytes. */
bool hls_id_ok(const char *id);

/* Run one store operation atomically: starts a transaction only when the
 * caller has none open (then *own is true and hls_op_end commits or rolls
 * back according to rc). */
int hls_op_begin(hl_store_t *s, bool *own);
int hls_op_end(hl_store_t *s, bool own, int rc);

#endif
