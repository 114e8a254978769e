/* \summary: the local indicator set (read back, hashed, versioned) and the peers' sets
 *
 * The local set is what this site's sensors get: every active row of the
 * indicators table. Its hash is computed from the stored canonical lines
 * read back through the native reader, exactly as a sensor computes it
 * from the lines it is sent, so both sides agree byte for byte.
 *
 * A peer's indicators live in their own table (peer_indicators), keyed by
 * (peer, id): what the peer says its set holds, never mixed into ours.
 */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/iset.h"
#include "hotline/parse.h"

/* ---- the local set ------------------------------------------------------ */

struct lines {
	char *buf;
	size_t len, cap;
	int err;
};

static int add_line(void *ud, const struct hl_store_indicator *ind)
{
	struct lines *l = ud;
	size_t n = strlen(ind->record);
	if (l->len + n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		while (cap < l->len + n + 2)
			cap *= 2;
		char *nb = realloc(l->buf, cap);
		if (nb == NULL) {
			l->err = HL_ENOMEM;
			return HL_ENOMEM;
		}
		l->buf = nb;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, ind->record, n);
	l->len += n;
	l->buf[l->len++] = '\n';
	return 0;
}

int hl_store_local_set(hl_store_t *s, hl_iset_t **out, char hash[HL_STORE_HASH_HEX])
{
	*out = NULL;
	struct lines l = {0};
	int rc = hl_store_indicators_list(s, HL_IND_ACTIVE, add_line, &l, NULL);
	hl_iset_t *set = rc == 0 ? hl_iset_new() : NULL;
	if (rc == 0 && set == NULL)
		rc = HL_ENOMEM;
	struct hl_diag diag = {0};
	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	if (rc == 0)
		rc = hl_parse_native("store", l.buf != NULL ? l.buf : "", l.len, &po, set, &diag);
	free(l.buf);
	if (rc == 0 && (diag.errors > 0 || diag.warnings > 0))
		rc = hls_error(s, HL_EFORMAT, "local set: a stored indicator does not read back");
	if (rc == 0) {
		hl_iset_sort(set);
		uint8_t h[HL_SHA256_LEN];
		rc = hl_iset_hash(set, h);
		if (rc == 0 && hash != NULL)
			hl_hex(h, sizeof h, hash);
	}
	if (rc != 0) {
		hl_iset_destroy(&set);
		return rc;
	}
	*out = set;
	return 0;
}

int hl_store_set_bump(hl_store_t *s, int64_t now, struct hl_store_set_version *out)
{
	struct hl_store_set_version v;
	int rc = hl_store_set_version_latest(s, &v);
	if (rc == HL_ENOTFOUND)
		v.version = 0;
	else if (rc != 0)
		return rc;
	if (v.version >= INT64_MAX)
		return hls_error(s, HL_ELIMIT, "set version: no next version");
	hl_iset_t *set = NULL;
	char hash[HL_STORE_HASH_HEX];
	rc = hl_store_local_set(s, &set, hash);
	if (rc != 0)
		return rc;
	size_t count = hl_iset_count(set);
	hl_iset_destroy(&set);
	rc = hl_store_set_version_record(s, v.version + 1, hash, count, now);
	if (rc == 0 && out != NULL) {
		out->version = v.version + 1;
		memcpy(out->hash, hash, sizeof out->hash);
		out->created_at = now;
		out->count = count;
	}
	return rc;
}

/* ---- the peers' sets ---------------------------------------------------- */

static const char SQL_PIND_PUT[] =
        "INSERT INTO peer_indicators (peer, id, type, value, tlp, record, status, set_version,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (peer, id) DO"
        " UPDATE SET type = excluded.type, value = excluded.value, tlp = excluded.tlp,"
        " record = excluded.record, status = excluded.status,"
        " set_version = excluded.set_version, updated_at = excluded.updated_at";
static const char SQL_PIND_RETRACT[] =
        "UPDATE peer_indicators SET status = 'retracted', set_version = ?3, updated_at = ?4"
        " WHERE peer = ?1 AND id = ?2";
static const char SQL_PIND_RETRACT_ALL[] =
        "UPDATE peer_indicators SET status = 'retracted', set_version = ?2, updated_at = ?3"
        " WHERE peer = ?1 AND status = 'active'";
static const char SQL_PIND_COUNT[] =
        "SELECT count(*) FROM peer_indicators WHERE (?1 IS NULL OR peer = ?1) AND status = ?2";
static const char SQL_PIND_GET[] =
        "SELECT id, type, value, peer, tlp, record, status, set_version, updated_at"
        " FROM peer_indicators WHERE peer = ?1 AND id = ?2";

static bool peer_status_ok(enum hl_ind_status st)
{
	return st == HL_IND_ACTIVE || st == HL_IND_RETRACTED;
}

int hl_store_peer_indicator_put(hl_store_t *s, const char *peer, const struct hl_indicator *ind,
                                enum hl_ind_status status, uint64_t set_version, int64_t now)
{
	if (!hls_id_ok(peer) || ind == NULL || !hls_id_ok(ind->id) || ind->value == NULL ||
	    !peer_status_ok(status) || set_version > INT64_MAX)
		return hls_error(s, HL_EINVAL, "peer indicator put: bad argument");
	char *line = hl_indicator_to_native(ind);
	if (line == NULL)
		return hls_error(s, HL_ENOMEM, "peer indicator put: cannot serialise");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_PIND_PUT, SQL_PIND_PUT, &rc);
	if (st != NULL) {
		if ((rc = hls_bind_text(s, st, 1, peer)) != 0 ||
		    (rc = hls_bind_text(s, st, 2, ind->id)) != 0 ||
		    (rc = hls_bind_text(s, st, 3, hl_ind_type_name(ind->type))) != 0 ||
		    (rc = hls_bind_text(s, st, 4, ind->value)) != 0 ||
		    (rc = hls_bind_text(s, st, 5, hl_tlp_name(ind->tlp))) != 0 ||
		    (rc = hls_bind_text(s, st, 6, line)) != 0 ||
		    (rc = hls_bind_text(s, st, 7, hl_ind_status_name(status))) != 0) {
			hls_done(st);
		} else {
			sqlite3_bind_int64(st, 8, (int64_t)set_version);
			sqlite3_bind_int64(st, 9, now);
			rc = hls_exec_stmt(s, st, "peer indicator put");
		}
	}
	free(line);
	return rc;
}

int hl_store_peer_indicator_retract(hl_store_t *s, const char *peer, const char *id,
                                    uint64_t set_version, int64_t now, bool *found)
{
	if (found != NULL)
		*found = false;
	if (!hls_id_ok(peer) || !hls_id_ok(id) || set_version > INT64_MAX)
		return hls_error(s, HL_EINVAL, "peer indicator retract: bad argument");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_PIND_RETRACT, SQL_PIND_RETRACT, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 || (rc = hls_bind_text(s, st, 2, id)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, (int64_t)set_version);
	sqlite3_bind_int64(st, 4, now);
	rc = hls_exec_stmt(s, st, "peer indicator retract");
	if (rc == 0 && found != NULL)
		*found = sqlite3_changes64(s->db) > 0;
	return rc;
}

int hl_store_peer_indicators_retract_all(hl_store_t *s, const char *peer, uint64_t set_version,
                                         int64_t now)
{
	if (!hls_id_ok(peer) || set_version > INT64_MAX)
		return hls_error(s, HL_EINVAL, "peer indicators retract: bad argument");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_PIND_RETRACT_ALL, SQL_PIND_RETRACT_ALL, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 2, (int64_t)set_version);
	sqlite3_bind_int64(st, 3, now);
	return hls_exec_stmt(s, st, "peer indicators retract");
}

int hl_store_peer_indicator_count(hl_store_t *s, const char *peer, enum hl_ind_status status,
                                  size_t *count)
{
	*count = 0;
	if ((peer != NULL && !hls_id_ok(peer)) || !peer_status_ok(status))
		return hls_error(s, HL_EINVAL, "peer indicator count: bad argument");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_PIND_COUNT, SQL_PIND_COUNT, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, hl_ind_status_name(status))) != 0) {
		hls_done(st);
		return rc;
	}
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*count = (size_t)sqlite3_column_int64(st, 0);
	else
		rc = hls_fail(s, r, "peer indicator count");
	hls_done(st);
	return rc;
}

int hl_store_peer_indicator_get(hl_store_t *s, const char *peer, const char *id, hl_indicator_fn fn,
                                void *ud)
{
	if (!hls_id_ok(peer) || !hls_id_ok(id) || fn == NULL)
		return hls_error(s, HL_EINVAL, "peer indicator get: bad argument");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_PIND_GET, SQL_PIND_GET, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, peer)) != 0 || (rc = hls_bind_text(s, st, 2, id)) != 0) {
		hls_done(st);
		return rc;
	}
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		struct hl_store_indicator ind;
		if (hls_indicator_row(st, &ind) != 0)
			rc = hls_error(s, HL_EFORMAT, "peer indicator get: malformed row");
		else
			rc = fn(ud, &ind);
		if (rc > 0)
			rc = 0;
	} else {
		rc = r == SQLITE_DONE ? HL_ENOTFOUND : hls_fail(s, r, "peer indicator get");
	}
	hls_done(st);
	return rc;
}
