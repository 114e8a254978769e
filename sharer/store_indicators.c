/* \summary: indicators (by id, with a status) and the set versions recorded
 *
 * An indicator row keeps its canonical native JSON line as the record and
 * the few fields that select it (type, value, status, set version).
 * Inbound indicators land as 'quarantined' or 'active' by policy; a
 * retraction keeps the row so a later re-offer is recognised.
 */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/indicator.h"

static const char SQL_PUT[] =
        "INSERT INTO indicators (id, type, value, source, tlp, record, status, set_version,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO UPDATE SET"
        " type = excluded.type, value = excluded.value, source = excluded.source,"
        " tlp = excluded.tlp, record = excluded.record, status = excluded.status,"
        " set_version = excluded.set_version, updated_at = excluded.updated_at";
static const char SQL_STATUS[] = "UPDATE indicators SET status = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_COLUMNS[] =
        "SELECT id, type, value, source, tlp, record, status, set_version, updated_at"
        " FROM indicators ";
static const char SQL_GET[] = "WHERE id = ?1";
static const char SQL_LIST[] = "WHERE status = ?1 ORDER BY type, value";
static const char SQL_COUNT[] = "SELECT count(*) FROM indicators WHERE status = ?1";
static const char SQL_SETV_INSERT[] = "INSERT INTO set_versions (version, hash, created_at, count)"
                                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
static const char SQL_SETV_GET[] = "SELECT hash FROM set_versions WHERE version = ?1";
static const char SQL_SETV_LATEST[] = "SELECT version, hash, created_at, count FROM set_versions"
                                      " ORDER BY version DESC LIMIT 1";

static const char *const STATUS_NAMES[] = {"active", "quarantined", "retracted"};

const char *hl_ind_status_name(enum hl_ind_status st)
{
	return (unsigned)st < sizeof STATUS_NAMES / sizeof STATUS_NAMES[0] ? STATUS_NAMES[st]
	                                                                   : NULL;
}

int hl_ind_status_parse(const char *name, enum hl_ind_status *st)
{
	for (size_t i = 0; name != NULL && i < sizeof STATUS_NAMES / sizeof STATUS_NAMES[0]; i++) {
		if (strcmp(name, STATUS_NAMES[i]) == 0) {
			*st = (enum hl_ind_status)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

int hls_indicator_row(sqlite3_stmt *st, struct hl_store_indicator *ind)
{
	*ind = (struct hl_store_indicator){
	        .id = (const char *)sqlite3_column_text(st, 0),
	        .type = (const char *)sqlite3_column_text(st, 1),
	        .value = (const char *)sqlite3_column_text(st, 2),
	        .source = (const char *)sqlite3_column_text(st, 3),
	        .tlp = (const char *)sqlite3_column_text(st, 4),
	        .record = (const char *)sqlite3_column_text(st, 5),
	        .set_version = (uint64_t)sqlite3_column_int64(st, 7),
	        .updated_at = sqlite3_column_int64(st, 8),
	};
	if (ind->id == NULL || ind->type == NULL || ind->value == NULL || ind->tlp == NULL ||
	    ind->record == NULL)
		return HL_EFORMAT;
	return hl_ind_status_parse((const char *)sqlite3_column_text(st, 6), &ind->status);
}

int hl_store_indicator_put(hl_store_t *s, const struct hl_store_indicator *ind)
{
	const char *status = ind != NULL ? hl_ind_status_name(ind->status) : NULL;
	if (status == NULL || !hls_id_ok(ind->id) || ind->type == NULL || ind->value == NULL ||
	    ind->tlp == NULL || ind->record == NULL || ind->set_version > INT64_MAX)
		return hls_error(s, HL_EINVAL, "indicator put: bad indicator");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_IND_PUT, SQL_PUT, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, ind->id)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, ind->type)) != 0 ||
	    (rc = hls_bind_text(s, st, 3, ind->value)) != 0 ||
	    (rc = hls_bind_text(s, st, 4, ind->source)) != 0 ||
	    (rc = hls_bind_text(s, st, 5, ind->tlp)) != 0 ||
	    (rc = hls_bind_text(s, st, 6, ind->record)) != 0 ||
	    (rc = hls_bind_text(s, st, 7, status)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 8, (int64_t)ind->set_version);
	sqlite3_bind_int64(st, 9, ind->updated_at);
	return hls_exec_stmt(s, st, "indicator put");
}

int hl_store_indicator_put_native(hl_store_t *s, const struct hl_indicator *ind,
                                  enum hl_ind_status status, uint64_t set_version, int64_t now)
{
	if (ind == NULL || ind->id == NULL || ind->value == NULL)
		return hls_error(s, HL_EINVAL, "indicator put: indicator is not normalised");
	char *line = hl_indicator_to_native(ind);
	if (line == NULL)
		return hls_error(s, HL_ENOMEM, "indicator put: cannot serialise");
	struct hl_store_indicator row = {
	        .id = ind->id,
	        .type = hl_ind_type_name(ind->type),
	        .value = ind->value,
	        .source = ind->sources.n > 0 ? ind->sources.v[0] : NULL,
	        .tlp = hl_tlp_name(ind->tlp),
	        .record = line,
	        .status = status,
	        .set_version = set_version,
	        .updated_at = now,
	};
	int rc = hl_store_indicator_put(s, &row);
	free(line);
	return rc;
}

int hl_store_indicator_set_status(hl_store_t *s, const char *id, enum hl_ind_status status,
                                  int64_t now)
{
	const char *name = hl_ind_status_name(status);
	if (name == NULL || !hls_id_ok(id))
		return hls_error(s, HL_EINVAL, "indicator status: bad id or status");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_IND_STATUS, SQL_STATUS, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, id)) != 0 || (rc = hls_bind_text(s, st, 2, name)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, now);
	rc = hls_exec_stmt(s, st, "indicator status");
	if (rc == 0 && sqlite3_changes64(s->db) == 0)
		return hls_error(s, HL_ENOTFOUND, "indicator status: no such indicator");
	return rc;
}

/* Prepare "SELECT columns ... where" into slot. */
static sqlite3_stmt *select_stmt(hl_store_t *s, enum hls_stmt slot, const char *where, int *rc)
{
	char sql[sizeof SQL_COLUMNS + 64];
	int n = snprintf(sql, sizeof sql, "%s%s", SQL_COLUMNS, where);
	if (n < 0 || (size_t)n >= sizeof sql) {
		*rc = hls_error(s, HL_ELIMIT, "indicator query too long");
		return NULL;
	}
	return hls_stmt(s, slot, sql, rc);
}

int hls_indicator_each(hl_store_t *s, sqlite3_stmt *st, const char *what, hl_indicator_fn fn,
                       void *ud, size_t *count)
{
	size_t n = 0;
	int rc = 0;
	for (;;) {
		int r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = hls_fail(s, r, what);
			break;
		}
		struct hl_store_indicator ind;
		if (hls_indicator_row(st, &ind) != 0) {
			char why[128];
			snprintf(why, sizeof why, "%s: malformed row", what);
			rc = hls_error(s, HL_EFORMAT, why);
			break;
		}
		n++;
		int cb = fn(ud, &ind);
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

int hl_store_indicator_get(hl_store_t *s, const char *id, hl_indicator_fn fn, void *ud)
{
	if (!hls_id_ok(id) || fn == NULL)
		return hls_error(s, HL_EINVAL, "indicator get: bad id");
	int rc = 0;
	sqlite3_stmt *st = select_stmt(s, HLS_IND_GET, SQL_GET, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, id)) != 0) {
		hls_done(st);
		return rc;
	}
	size_t n = 0;
	rc = hls_indicator_each(s, st, "indicator query", fn, ud, &n);
	if (rc == 0 && n == 0)
		return HL_ENOTFOUND;
	return rc;
}

int hl_store_indicators_list(hl_store_t *s, enum hl_ind_status status, hl_indicator_fn fn, void *ud,
                             size_t *count)
{
	if (count != NULL)
		*count = 0;
	const char *name = hl_ind_status_name(status);
	if (name == NULL || fn == NULL)
		return hls_error(s, HL_EINVAL, "indicators list: bad status");
	int rc = 0;
	sqlite3_stmt *st = select_stmt(s, HLS_IND_LIST, SQL_LIST, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, name)) != 0) {
		hls_done(st);
		return rc;
	}
	return hls_indicator_each(s, st, "indicator query", fn, ud, count);
}

int hl_store_indicator_count(hl_store_t *s, enum hl_ind_status status, size_t *count)
{
	*count = 0;
	const char *name = hl_ind_status_name(status);
	if (name == NULL)
		return hls_error(s, HL_EINVAL, "indicator count: bad status");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_IND_COUNT, SQL_COUNT, &rc);
	if (st == NULL)
		return rc;
	if ((rc = hls_bind_text(s, st, 1, name)) == 0) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			*count = (size_t)sqlite3_column_int64(st, 0);
		else
			rc = hls_fail(s, r, "indicator count");
	}
	hls_done(st);
	return rc;
}

/* ---- set versions ------------------------------------------------------ */

static bool hex64(const char *h)
{
	if (h == NULL || strlen(h) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

/* The hash recorded for version (HL_ENOTFOUND if none). */
static int setv_hash(hl_store_t *s, int64_t version, char hash[HL_STORE_HASH_HEX])
{
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_SETV_GET, SQL_SETV_GET, &rc);
	if (st == NULL)
		return rc;
	sqlite3_bind_int64(st, 1, version);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);
		snprintf(hash, HL_STORE_HASH_HEX, "%s", h != NULL ? h : "");
	} else {
		rc = r == SQLITE_DONE ? HL_ENOTFOUND : hls_fail(s, r, "set version");
	}
	hls_done(st);
	return rc;
}

int hl_store_set_version_record(hl_store_t *s, uint64_t version, const char *hash_hex, size_t count,
                                int64_t now)
{
	if (version == 0 || version > INT64_MAX || !hex64(hash_hex) || count > INT64_MAX)
		return hls_error(s, HL_EINVAL, "set version: bad version or hash");
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_SETV_INSERT, SQL_SETV_INSERT, &rc);
	if (st == NULL)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)version);
	if ((rc = hls_bind_text(s, st, 2, hash_hex)) != 0) {
		hls_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, (int64_t)count);
	rc = hls_exec_stmt(s, st, "set version");
	if (rc != 0 || sqlite3_changes64(s->db) == 1)
		return rc;
	char have[HL_STORE_HASH_HEX];
	rc = setv_hash(s, (int64_t)version, have);
	if (rc == 0 && strcmp(have, hash_hex) != 0)
		return hls_error(s, HL_EEXISTS, "set version: recorded before with another hash");
	return rc;
}

int hl_store_set_version_latest(hl_store_t *s, struct hl_store_set_version *out)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_SETV_LATEST, SQL_SETV_LATEST, &rc);
	if (st == NULL)
		return rc;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 1);
		out->version = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(out->hash, sizeof out->hash, "%s", h != NULL ? h : "");
		out->created_at = sqlite3_column_int64(st, 2);
		out->count = (size_t)sqlite3_column_int64(st, 3);
	} else {
		rc = r == SQLITE_DONE ? HL_ENOTFOUND : hls_fail(s, r, "set version latest");
	}
	hls_done(st);
	return rc;
}
