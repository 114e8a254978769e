/* \summary: store: list what one peer's indicator set holds (hotline-ctl indicators list --peer)
 *
 * The rows of one peer are found through the primary key (peer, id) and
 * sorted here; a peer's set is bounded by what its messages may carry.
 */
#include "store_impl.h"

#include "hotline/err.h"

static const char SQL_PIND_LIST[] =
        "SELECT id, type, value, peer, tlp, record, status, set_version, updated_at"
        " FROM peer_indicators WHERE peer = ?1 AND status = ?2 ORDER BY type, value, id";

int hl_store_peer_indicators_list(hl_store_t *s, const char *peer, enum hl_ind_status status,
                                  hl_indicator_fn fn, void *ud, size_t *count)
{
	if (count != NULL)
		*count = 0;
	if (!hls_id_ok(peer) || fn == NULL ||
	    (status != HL_IND_ACTIVE && status != HL_IND_RETRACTED))
		return hls_error(s, HL_EINVAL, "peer indicators list: bad argument");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_PIND_LIST, SQL_PIND_LIST, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, hl_ind_status_name(status))) != 0) {
		hls_done(st);
		return rc;
	}
	return hls_indicator_each(s, st, "peer indicators list", fn, ud, count);
}
