/* \summary: outbox: messages to peers kept until acknowledged
 *
 * A message enters the outbox in the same transaction as the change it
 * reports, and leaves it only when the peer's ACK is recorded, so a crash at
 * any point resends rather than loses it. Backoff is the caller's policy:
 * mark_sent takes the time of the next attempt.
 */
#include "store_impl.h"

#include "hotline/err.h"

/* The row's state and its bytes live apart (schema v4): the state is
 * updated at every attempt and at the ACK, the bytes are written once and
 * deleted at the ACK. */
static const char SQL_ENQUEUE[] = "INSERT INTO outbox (msg_id, peer, type, priority, created_at,"
                                  " next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
static const char SQL_BODY_ADD[] =
        "INSERT INTO outbox_body (msg_id, envelope, body) VALUES (?1, ?2, ?3)";
static const char SQL_BODY_DEL[] = "DELETE FROM outbox_body WHERE msg_id = ?1";
static const char SQL_DUE[] =
        "SELECT o.msg_id, o.peer, o.type, o.priority, b.envelope, b.body, o.created_at,"
        " o.attempts, o.next_attempt_at FROM outbox AS o INDEXED BY outbox_pending"
        " LEFT JOIN outbox_body AS b ON b.msg_id = o.msg_id"
        " WHERE o.peer = ?1 AND o.acked_at IS NULL AND o.next_attempt_at <= ?2"
        " ORDER BY o.priority, o.created_at, o.rowid LIMIT ?3";
static const char SQL_MARK[] =
        "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2, next_attempt_at = ?3"
        " WHERE msg_id = ?1";
static const char SQL_ACK[] =
        "UPDATE outbox SET acked_at = coalesce(acked_at, ?3) WHERE msg_id = ?2 AND peer = ?1";
static const char SQL_RESCHEDULE[] =
        "UPDATE outbox SET next_attempt_at = ?2"
        " WHERE peer = ?1 AND acked_at IS NULL AND next_attempt_at > ?2";
static const char SQL_DEPTH[] = "SELECT count(*) FROM outbox WHERE peer = ?1 AND acked_at IS NULL";
static const char SQL_DEPTH_ALL[] = "SELECT count(*) FROM outbox WHERE acked_at IS NULL";
static const char SQL_WAKEUP[] =
        "SELECT min(next_attempt_at) FROM outbox WHERE peer = ?1 AND acked_at IS NULL";
static const char SQL_PURGE[] = "DELETE FROM outbox WHERE acked_at IS NOT NULL AND acked_at < ?1";

int hl_store_outbox_enqueue(hl_store_t *s, const char *peer, const char *type, int priority,
                            const char *msg_id, const char *envelope_json, const char *body_json,
                            int64_t now)
{
	if (!hls_id_ok(peer) || !hls_id_ok(msg_id) || !hls_id_ok(type) || body_json == NULL)
		return hls_error(s, HL_EINVAL, "outbox enqueue: bad peer, type, id or body");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_ENQUEUE, SQL_ENQUEUE, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, msg_id)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 3, type)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int(st, 4, priority);
	sqlite3_bind_int64(st, 5, now);
	/* Both rows or neither: a caller outside a transaction gets one. */
	bool own = !hl_store_in_transaction(s);
	if (own && (rc = hl_store_begin(s)) != 0) {
		hls_done(st);
		return rc;
	}
	rc = hls_exec_stmt(s, st, "outbox enqueue");
	if (rc == 0 && (st = hls_stmt(s, HLS_OUTBOX_BODY_ADD, SQL_BODY_ADD, &rc)) != NULL) {
		if ((rc = hls_bind_text(s, st, 1, msg_id)) != 0 ||
		    (rc = hls_bind_text(s, st, 2, envelope_json)) != 0 ||
		    (rc = hls_bind_text(s, st, 3, body_json)) != 0)
			hls_done(st);
		else
			rc = hls_exec_stmt(s, st, "outbox enqueue (body)");
	}
	if (own)
		rc = rc == 0 ? hl_store_commit(s) : (hl_store_rollback(s), rc);
	return rc;
}

int hl_store_outbox_next_due(hl_store_t *s, const char *peer, int64_t now, size_t limit,
                             hl_outbox_fn fn, void *ud, size_t *count)
{
	if (count != NULL)
		*count = 0;
	if (!hls_id_ok(peer) || fn == NULL)
		return hls_error(s, HL_EINVAL, "outbox next_due: bad peer or callback");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_DUE, SQL_DUE, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
	size_t n = 0;
	for (;;) {
		int r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = hls_fail(s, r, "outbox next_due");
			break;
		}
		struct hl_outbox_msg m = {
		        .msg_id = (const char *)sqlite3_column_text(st, 0),
		        .peer = (const char *)sqlite3_column_text(st, 1),
		        .type = (const char *)sqlite3_column_text(st, 2),
		        .priority = sqlite3_column_int(st, 3),
		        .envelope = (const char *)sqlite3_column_text(st, 4),
		        .body = (const char *)sqlite3_column_text(st, 5),
		        .created_at = sqlite3_column_int64(st, 6),
		        .attempts = sqlite3_column_int64(st, 7),
		        .next_attempt_at = sqlite3_column_int64(st, 8),
		};
		/* A pending row whose bytes are missing (the file was edited)
		 * comes with an empty body: the caller cannot send it and
		 * gives up on it, rather than every round failing here. */
		if (m.body == NULL && sqlite3_column_type(st, 5) == SQLITE_NULL)
			m.body = "";
		if (m.msg_id == NULL || m.peer == NULL || m.type == NULL || m.body == NULL) {
			rc = hls_fail(s, sqlite3_errcode(s->db), "outbox next_due: reading a row");
			break;
		}
		n++;
		int cb = fn(ud, &m);
		if (cb != 0) {
			rc = cb < 0 ? cb : 0;
			break;
		}
	}
	hls_done(st);
	if (count != NULL)
		*count = n;
	return rc;
}

/* Run an UPDATE/DELETE and report how many rows it changed. */
static int run_changes(hl_store_t *s, sqlite3_stmt *st, const char *what, size_t *changed)
{
	int rc = hls_exec_stmt(s, st, what);
	if (rc == 0 && changed != NULL)
		*changed = (size_t)sqlite3_changes64(s->db);
	return rc;
}

int hl_store_outbox_mark_sent(hl_store_t *s, const char *msg_id, int64_t now,
                              int64_t next_attempt_at)
{
	if (!hls_id_ok(msg_id))
		return hls_error(s, HL_EINVAL, "outbox mark_sent: bad id");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_MARK, SQL_MARK, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, msg_id)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, next_attempt_at);
	size_t changed = 0;
	rc = run_changes(s, st, "outbox mark_sent", &changed);
	if (rc == 0 && changed == 0)
		return hls_error(s, HL_ENOTFOUND, "outbox mark_sent: no such message");
	return rc;
}

int hl_store_outbox_ack(hl_store_t *s, const char *peer, const char *msg_id, int64_t now)
{
	if (!hls_id_ok(peer) || !hls_id_ok(msg_id))
		return hls_error(s, HL_EINVAL, "outbox ack: bad peer or id");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_ACK, SQL_ACK, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, msg_id)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, now);
	size_t changed = 0;
	rc = run_changes(s, st, "outbox ack", &changed);
	/* An UPDATE that sets a column to its own value still counts the row,
	 * so a repeated ack is found, and an ack naming another peer's message
	 * is not. */
	if (rc == 0 && changed == 0)
		return hls_error(s, HL_ENOTFOUND, "outbox ack: peer has no such message");
	/* Never sent again: its bytes go (the audit log keeps their hash). */
	if (rc == 0 && (st = hls_stmt(s, HLS_OUTBOX_BODY_DEL, SQL_BODY_DEL, &rc)) != NULL) {
		if ((rc = hls_bind_text(s, st, 1, msg_id)) != 0)
			hls_done(st);
		else
			rc = hls_exec_stmt(s, st, "outbox ack (body)");
	}
	return rc;
}

int hl_store_outbox_reschedule(hl_store_t *s, const char *peer, int64_t now, size_t *count)
{
	if (count != NULL)
		*count = 0;
	if (!hls_id_ok(peer))
		return hls_error(s, HL_EINVAL, "outbox reschedule: bad peer");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_RESCHEDULE, SQL_RESCHEDULE, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 2, now);
	return run_changes(s, st, "outbox reschedule", count);
}

/* One integer from a cached single-row statement whose ?1 is peer (if any). */
static int scalar(hl_store_t *s, sqlite3_stmt *st, const char *peer, const char *what, int64_t *out,
                  bool *is_null)
{
	int rc = peer != NULL ? hls_bind_text(s, st, 1, peer) : 0;
	if (rc == 0) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			*is_null = sqlite3_column_type(st, 0) == SQLITE_NULL;
			*out = sqlite3_column_int64(st, 0);
		} else {
			rc = hls_fail(s, r, what);
		}
	}
	hls_done(st);
	return rc;
}

int hl_store_outbox_depth(hl_store_t *s, const char *peer, size_t *depth)
{
	*depth = 0;
	if (peer != NULL && !hls_id_ok(peer))
		return hls_error(s, HL_EINVAL, "outbox depth: bad peer");
	int rc = 0;
	sqlite3_stmt *st = peer != NULL ? hls_stmt(s, HLS_OUTBOX_DEPTH, SQL_DEPTH, &rc)
	                                : hls_stmt(s, HLS_OUTBOX_DEPTH_ALL, SQL_DEPTH_ALL, &rc);
	if (st == NULL)
		return rc;
	int64_t n = 0;
	bool is_null = false;
	rc = scalar(s, st, peer, "outbox depth", &n, &is_null);
	if (rc == 0)
		*depth = (size_t)n;
	return rc;
}

int hl_store_outbox_next_wakeup(hl_store_t *s, const char *peer, int64_t *at)
{
	if (!hls_id_ok(peer))
		return hls_error(s, HL_EINVAL, "outbox next_wakeup: bad peer");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_WAKEUP, SQL_WAKEUP, &rc);
	if (st == NULL)
		return rc;
	bool is_null = true;
	rc = scalar(s, st, peer, "outbox next_wakeup", at, &is_null);
	if (rc == 0 && is_null)
		return HL_ENOTFOUND; /* nothing pending is not an error worth logging */
	return rc;
}

int hl_store_outbox_purge(hl_store_t *s, int64_t before, size_t *purged)
{
	if (purged != NULL)
		*purged = 0;
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_OUTBOX_PURGE, SQL_PURGE, &rc);
	if (st == NULL)
		return rc;
	sqlite3_bind_int64(st, 1, before);
	return run_changes(s, st, "outbox purge", purged);
}
