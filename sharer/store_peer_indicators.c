/* \summary: store: list what one peer's indicator set holds (hotline-ctl indicators list --peer)
 *
 * A read for an analyst, not for the exchange's hot path: the statement is
 * prepared per call rather than given a cached slot, so this file adds
 * nothing to the store's statement table (store_impl.h) for a request that
 * comes at human speed. The rows of one peer are found through the primary
 * key (peer, id) and sorted here; a peer's set is bounded by what its
 * messages may carry.
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
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(s->db, SQL_PIND_LIST, -1, &st, NULL);
	if (r != SQLITE_OK)
		return hls_fail(s, r, "peer indicators list: prepare");
	int rc = hls_bind_text(s, st, 1, peer);
	if (rc == 0)
		rc = hls_bind_text(s, st, 2, hl_ind_status_name(status));
	size_t n = 0;
	while (rc == 0) {
		r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = hls_fail(s, r, "peer indicators list");
			break;
		}
		struct hl_store_indicator ind;
		if (hls_indicator_row(st, &ind) != 0) {
			rc = hls_error(s, HL_EFORMAT, "peer indicators list: malformed row");
			break;
		}
		n++;
		int cb = fn(ud, &ind);
		if (cb != 0) {
			rc = cb < 0 ? cb : 0;
			break;
		}
	}
	sqlite3_finalize(st);
	if (count != NULL)
		*count = n;
	return rc;
}
