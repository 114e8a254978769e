/* \summary: inbox: message ids already received, for dedup at the receiver
 *
 * The receiver records (peer, msg_id) and the message's effect in one
 * transaction, commits, then ACKs. A re-delivery (the ACK was lost, the
 * sender restarted) finds the id and is only ACKed again.
 */
#include "store_impl.h"

#include "hotline/err.h"

static const char SQL_INSERT[] = "INSERT INTO inbox (peer, msg_id, type, received_at, sent_at)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
static const char SQL_SEEN[] =
        "SELECT 1 FROM inbox WHERE peer = ?1 AND sent_at = ?3 AND msg_id = ?2";
static const char SQL_PURGE[] = "DELETE FROM inbox WHERE received_at < ?1";

int hl_store_inbox_record(hl_store_t *s, const char *peer, const char *msg_id, int64_t sent_at,
                          const char *type, int64_t now, bool *is_new)
{
	*is_new = false;
	if (!hls_id_ok(peer) || !hls_id_ok(msg_id) || !hls_id_ok(type))
		return hls_error(s, HL_EINVAL, "inbox record: bad peer, id or type");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_INBOX_INSERT, SQL_INSERT, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, msg_id)) != 0 ||
	    (rc = hls_bind_text(s, st, 3, type)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, sent_at);
	rc = hls_exec_stmt(s, st, "inbox record");
	if (rc == 0)
		*is_new = sqlite3_changes64(s->db) == 1;
	return rc;
}

int hl_store_inbox_record_once(hl_store_t *s, const char *peer, const char *msg_id,
                               const char *type, int64_t now, bool *is_new)
{
	return hl_store_inbox_record(s, peer, msg_id, 0, type, now, is_new);
}

int hl_store_inbox_seen(hl_store_t *s, const char *peer, const char *msg_id, int64_t sent_at,
                        bool *seen)
{
	*seen = false;
	if (!hls_id_ok(peer) || !hls_id_ok(msg_id))
		return hls_error(s, HL_EINVAL, "inbox seen: bad peer or id");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_INBOX_SEEN, SQL_SEEN, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, msg_id)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, sent_at);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*seen = true;
	else if (r != SQLITE_DONE)
		rc = hls_fail(s, r, "inbox seen");
	hls_done(st);
	return rc;
}

int hl_store_inbox_purge(hl_store_t *s, int64_t before, size_t *purged)
{
	if (purged != NULL)
		*purged = 0;
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_INBOX_PURGE, SQL_PURGE, &rc);
	if (st == NULL)
		return rc;
	sqlite3_bind_int64(st, 1, before);
	rc = hls_exec_stmt(s, st, "inbox purge");
	if (rc == 0 && purged != NULL)
		*purged = (size_t)sqlite3_changes64(s->db);
	return rc;
}
