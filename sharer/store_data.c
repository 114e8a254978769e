/* \summary: sightings table: add once by id, list by time, count
 *
 * The record is kept as the JSON text it arrived as; only the id, origin,
 * times and indicator id are columns. A record is parsed only when one of
 * those must be derived from it, which keeps the bulk path (peer sightings
 * arrive with their id) free of JSON work.
 */
#include "store_impl.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "sha256.h"
#include "hotline/timefmt.h"

static const char SQL_INSERT[] =
        "INSERT INTO sightings (id, origin, received_at, first_seen, indicator_id, record)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (first_seen, id) DO NOTHING";
static const char SQL_SINCE_RECV[] =
        "SELECT id, origin, received_at, first_seen, indicator_id, record FROM sightings"
        " WHERE received_at >= ?1 ORDER BY received_at, seq LIMIT ?2";
static const char SQL_SINCE_SEEN[] =
        "SELECT id, origin, received_at, first_seen, indicator_id, record FROM sightings"
        " WHERE first_seen >= ?1 ORDER BY first_seen, id LIMIT ?2";
static const char SQL_COUNT[] = "SELECT count(*) FROM sightings";

static bool origin_ok(const char *origin)
{
	if (origin == NULL || !hls_id_ok(origin))
		return false;
	return strcmp(origin, "local") == 0 || (strncmp(origin, "peer:", 5) == 0 && origin[5] != 0);
}

static void hash_hex(const char *canon, char out[HL_STORE_HASH_HEX])
{
	uint8_t digest[HL_SHA256_BYTES];
	hl_sha256(canon, strlen(canon), digest);
	sodium_bin2hex(out, HL_STORE_HASH_HEX, digest, sizeof digest);
}

static int canonical_id(const json_t *rec, char out[HL_STORE_HASH_HEX])
{
	char *canon = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL)
		return HL_ENOMEM;
	hash_hex(canon, out);
	free(canon);
	return 0;
}

static json_t *load_record(const char *record)
{
	json_t *rec = json_loads(record, JSON_REJECT_DUPLICATES, NULL);
	if (rec != NULL && !json_is_object(rec)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

int hl_store_sighting_derive_id(const char *record, char out[HL_STORE_HASH_HEX])
{
	if (record == NULL)
		return HL_EINVAL;
	json_t *rec = load_record(record);
	if (rec == NULL)
		return HL_EPARSE;
	int rc = canonical_id(rec, out);
	json_decref(rec);
	return rc;
}

static int other_fields(const json_t *rec, struct hl_store_sighting *sg);

int hl_store_sighting_fields(const json_t *rec, struct hl_store_sighting *sg,
                             char id[HL_STORE_HASH_HEX])
{
	if (!json_is_object(rec))
		return HL_EPARSE;
	int rc = canonical_id(rec, id);
	if (rc != 0)
		return rc;
	sg->id = id;
	return other_fields(rec, sg);
}

int hl_store_sighting_fields_canon(const json_t *rec, const char *canon,
                                   struct hl_store_sighting *sg, char id[HL_STORE_HASH_HEX])
{
	if (!json_is_object(rec) || canon == NULL)
		return HL_EPARSE;
	hash_hex(canon, id);
	sg->id = id;
	return other_fields(rec, sg);
}

static int other_fields(const json_t *rec, struct hl_store_sighting *sg)
{
	sg->first_seen = 0;
	json_t *fs = json_object_get(rec, "first_seen");
	if (json_is_string(fs) && hl_time_parse(json_string_value(fs), &sg->first_seen) != 0)
		return HL_EPARSE;
	if (json_is_integer(fs))
		sg->first_seen = (int64_t)json_integer_value(fs);
	json_t *iid = json_object_get(json_object_get(rec, "indicator"), "id");
	if (!json_is_string(iid))
		iid = json_object_get(rec, "indicator_id");
	sg->indicator_id = json_is_string(iid) && hls_id_ok(json_string_value(iid))
	                           ? json_string_value(iid)
	                           : NULL;
	return 0;
}

int hl_store_sighting_add(hl_store_t *s, const struct hl_store_sighting *sg, bool *added)
{
	if (added != NULL)
		*added = false;
	if (sg == NULL || sg->record == NULL || !origin_ok(sg->origin) ||
	    (sg->id != NULL && !hls_id_ok(sg->id)) ||
	    (sg->indicator_id != NULL && !hls_id_ok(sg->indicator_id)))
		return hls_error(s, HL_EINVAL,
		                 "sighting add: bad id, origin, indicator id or record");
	/* What the caller gave wins; the rest comes from the record. */
	struct hl_store_sighting row = *sg;
	char id[HL_STORE_HASH_HEX];
	json_t *rec = NULL;
	if (sg->id == NULL || sg->first_seen == 0 || sg->indicator_id == NULL) {
		struct hl_store_sighting from = {0};
		rec = load_record(sg->record);
		int rc = rec != NULL ? hl_store_sighting_fields(rec, &from, id) : HL_EPARSE;
		if (rc != 0) {
			json_decref(rec);
			return hls_error(s, rc,
			                 rc == HL_EPARSE
			                         ? "sighting add: record is not a JSON object "
			                           "with a valid first_seen"
			                         : "sighting add: cannot derive the id");
		}
		row.id = sg->id != NULL ? sg->id : from.id;
		row.first_seen = sg->first_seen != 0 ? sg->first_seen : from.first_seen;
		row.indicator_id = sg->indicator_id != NULL ? sg->indicator_id : from.indicator_id;
	}
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_SIGHTING_INSERT, SQL_INSERT, &rc);
	if (st == NULL)
		goto out;
	if ((rc = hls_bind_text(s, st, 1, row.id)) != 0 ||
	    (rc = hls_bind_text(s, st, 2, row.origin)) != 0 ||
	    (rc = hls_bind_text(s, st, 5, row.indicator_id)) != 0 ||
	    (rc = hls_bind_text(s, st, 6, row.record)) != 0) {
		hls_done(st);
		goto out;
	}
	sqlite3_bind_int64(st, 3, row.received_at);
	sqlite3_bind_int64(st, 4, row.first_seen);
	rc = hls_exec_stmt(s, st, "sighting add");
	if (rc == 0 && added != NULL)
		*added = sqlite3_changes64(s->db) == 1;
out:
	json_decref(rec); /* after the step: row.indicator_id may point into it */
	return rc;
}

int hl_store_sightings_since(hl_store_t *s, enum hl_store_time by, int64_t since, size_t limit,
                             hl_sighting_fn fn, void *ud, size_t *count)
{
	if (count != NULL)
		*count = 0;
	if (fn == NULL || (by != HL_STORE_BY_RECEIVED && by != HL_STORE_BY_FIRST_SEEN))
		return hls_error(s, HL_EINVAL, "sightings since: bad arguments");
	int rc = 0;
	sqlite3_stmt *st = by == HL_STORE_BY_RECEIVED
	                           ? hls_stmt(s, HLS_SIGHTING_SINCE_RECV, SQL_SINCE_RECV, &rc)
	                           : hls_stmt(s, HLS_SIGHTING_SINCE_SEEN, SQL_SINCE_SEEN, &rc);
	if (st == NULL)
		return rc;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
	size_t n = 0;
	for (;;) {
		int r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = hls_fail(s, r, "sightings since");
			break;
		}
		struct hl_store_sighting sg = {
		        .id = (const char *)sqlite3_column_text(st, 0),
		        .origin = (const char *)sqlite3_column_text(st, 1),
		        .received_at = sqlite3_column_int64(st, 2),
		        .first_seen = sqlite3_column_int64(st, 3),
		        .indicator_id = (const char *)sqlite3_column_text(st, 4),
		        .record = (const char *)sqlite3_column_text(st, 5),
		};
		if (sg.id == NULL || sg.origin == NULL || sg.record == NULL) {
			rc = hls_fail(s, sqlite3_errcode(s->db), "sightings since: reading a row");
			break;
		}
		n++;
		int cb = fn(ud, &sg);
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

int hl_store_sighting_count(hl_store_t *s, size_t *count)
{
	*count = 0;
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_SIGHTING_COUNT, SQL_COUNT, &rc);
	if (st == NULL)
		return rc;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*count = (size_t)sqlite3_column_int64(st, 0);
	else
		rc = hls_fail(s, r, "sighting count");
	hls_done(st);
	return rc;
}
