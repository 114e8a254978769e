/* \summary: audit log: append-only, each row hash-chained to the one before
 *
 * row_hash = SHA-256 of the canonical encoding (docs/store.md):
 *   "HLAUDIT1" || u64be(seq) || i64be(at) || str(direction) || str(peer)
 *   || str(msg_id) || str(type) || body_sha256 (32 bytes) || prev_hash (32)
 * where str(x) = u32be(byte length) || bytes, and NULL is u32be(0xffffffff).
 * Lengths make the encoding unambiguous (no field can borrow bytes from its
 * neighbour); the tag names the version of the encoding.
 */
#include "store_impl.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "hotline/err.h"
#include "sha256.h"

#define TAG "HLAUDIT1"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static const char SQL_TAIL[] = "SELECT seq, row_hash FROM audit ORDER BY seq DESC LIMIT 1";
static const char SQL_INSERT[] =
        "INSERT INTO audit (seq, at, direction, peer, msg_id, type, body_sha256, prev_hash,"
        " row_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_WALK[] = "SELECT seq, at, direction, peer, msg_id, type, body_sha256,"
                               " prev_hash, row_hash FROM audit ORDER BY seq";

const char *hl_audit_dir_name(enum hl_audit_dir d)
{
	switch (d) {
	case HL_AUDIT_SENT:
		return "sent";
	case HL_AUDIT_RECEIVED:
		return "received";
	case HL_AUDIT_LOCAL:
		return "local";
	}
	return NULL;
}

static void put_u64(crypto_hash_sha256_state *h, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	crypto_hash_sha256_update(h, b, sizeof b);
}

static void put_str(crypto_hash_sha256_state *h, const char *s)
{
	uint32_t len = s != NULL ? (uint32_t)strlen(s) : UINT32_MAX;
	uint8_t b[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                (uint8_t)len};
	crypto_hash_sha256_update(h, b, sizeof b);
	if (s != NULL)
		crypto_hash_sha256_update(h, (const uint8_t *)s, len);
}

/* Exactly 64 lower-case hex digits. */
static int unhex32(const char *hex, uint8_t out[32])
{
	if (hex == NULL || strlen(hex) != 64)
		return HL_EINVAL;
	for (size_t i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return HL_EINVAL;
	size_t bin_len = 0;
	if (sodium_hex2bin(out, 32, hex, 64, NULL, &bin_len, NULL) != 0 || bin_len != 32)
		return HL_EINVAL;
	return 0;
}

/* The row hash over raw digests (the append path has them as bytes). */
static void row_hash_raw(int64_t seq, int64_t at, const char *direction, const char *peer,
                         const char *msg_id, const char *type, const uint8_t body[32],
                         const uint8_t prev[32], char out[HL_STORE_HASH_HEX])
{
	uint8_t digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)TAG, sizeof TAG - 1);
	put_u64(&h, (uint64_t)seq);
	put_u64(&h, (uint64_t)at);
	put_str(&h, direction);
	put_str(&h, peer);
	put_str(&h, msg_id);
	put_str(&h, type);
	crypto_hash_sha256_update(&h, body, 32);
	crypto_hash_sha256_update(&h, prev, 32);
	crypto_hash_sha256_final(&h, digest);
	sodium_bin2hex(out, HL_STORE_HASH_HEX, digest, sizeof digest);
}

int hl_store_audit_row_hash(int64_t seq, int64_t at, const char *direction, const char *peer,
                            const char *msg_id, const char *type, const char *body_sha256,
                            const char *prev_hash, char out[HL_STORE_HASH_HEX])
{
	uint8_t body[32], prev[32];
	if (seq <= 0 || direction == NULL || type == NULL || unhex32(body_sha256, body) != 0 ||
	    unhex32(prev_hash, prev) != 0)
		return HL_EINVAL;
	row_hash_raw(seq, at, direction, peer, msg_id, type, body, prev, out);
	return 0;
}

static bool short_ok(const char *s)
{
	return s == NULL || hls_id_ok(s);
}

/* The last row's seq and hash (0 and 64 zeros when empty). */
static int tail(hl_store_t *s, int64_t *seq, char hash[HL_STORE_HASH_HEX])
{
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_AUDIT_TAIL, SQL_TAIL, &rc);
	if (st == NULL)
		return rc;
	*seq = 0;
	memcpy(hash, ZERO_HASH, HL_STORE_HASH_HEX);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		if (h == NULL || strlen(h) != 64)
			rc = hls_error(s, HL_EFORMAT, "audit: last row has no valid row_hash");
		else
			memcpy(hash, h, HL_STORE_HASH_HEX);
	} else if (r != SQLITE_DONE) {
		rc = hls_fail(s, r, "audit tail");
	}
	hls_done(st);
	return rc;
}

static int insert(hl_store_t *s, const struct hl_audit_entry *e, int64_t *seq_out)
{
	int64_t seq = 0;
	char prev[HL_STORE_HASH_HEX], row[HL_STORE_HASH_HEX], body[HL_STORE_HASH_HEX];
	int rc = tail(s, &seq, prev);
	if (rc != 0)
		return rc;
	if (seq == INT64_MAX)
		return hls_error(s, HL_ERANGE, "audit: sequence exhausted");
	seq++;
	uint8_t body_raw[crypto_hash_sha256_BYTES], prev_raw[32];
	if (unhex32(prev, prev_raw) != 0)
		return hls_error(s, HL_EFORMAT, "audit: last row has no valid row_hash");
	hl_sha256(e->body != NULL ? e->body : (const void *)"", e->body != NULL ? e->body_len : 0,
	          body_raw);
	sodium_bin2hex(body, sizeof body, body_raw, sizeof body_raw);
	const char *dir = hl_audit_dir_name(e->direction);
	row_hash_raw(seq, e->at, dir, e->peer, e->msg_id, e->type, body_raw, prev_raw, row);

	sqlite3_stmt *st = hls_stmt(s, HLS_AUDIT_INSERT, SQL_INSERT, &rc);
	if (st == NULL)
		return rc;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, e->at);
	if ((rc = hls_bind_text(s, st, 3, dir)) != 0 ||
	    (rc = hls_bind_text(s, st, 4, e->peer)) != 0 ||
	    (rc = hls_bind_text(s, st, 5, e->msg_id)) != 0 ||
	    (rc = hls_bind_text(s, st, 6, e->type)) != 0 ||
	    (rc = hls_bind_text(s, st, 7, body)) != 0 ||
	    (rc = hls_bind_text(s, st, 8, prev)) != 0 || (rc = hls_bind_text(s, st, 9, row)) != 0) {
		hls_done(st);
		return rc;
	}
	rc = hls_exec_stmt(s, st, "audit append");
	if (rc == 0 && seq_out != NULL)
		*seq_out = seq;
	return rc;
}

int hl_store_audit_append(hl_store_t *s, const struct hl_audit_entry *e, int64_t *seq)
{
	if (e == NULL || hl_audit_dir_name(e->direction) == NULL || !hls_id_ok(e->type) ||
	    !short_ok(e->peer) || !short_ok(e->msg_id) || (e->body == NULL && e->body_len != 0))
		return hls_error(s, HL_EINVAL, "audit append: bad entry");
	bool own = false;
	int rc = hls_op_begin(s, &own);
	if (rc != 0)
		return rc;
	return hls_op_end(s, own, insert(s, e, seq));
}

/* ---- verify ------------------------------------------------------------ */

static int broken(struct hl_audit_summary *sum, hl_audit_report_fn fn, void *ud, int64_t seq,
                  const char *reason)
{
	sum->first_bad = seq;
	snprintf(sum->reason, sizeof sum->reason, "%s", reason);
	if (fn != NULL)
		fn(ud, seq, reason);
	return HL_EFORMAT;
}

/* Check one row against the previous one; NULL when it holds, else why. */
static const char *check_row(sqlite3_stmt *st, int64_t prev_seq, const char *prev_hash,
                             int64_t *seq, char *why, size_t whylen)
{
	*seq = sqlite3_column_int64(st, 0);
	const char *dir = (const char *)sqlite3_column_text(st, 2);
	const char *peer = (const char *)sqlite3_column_text(st, 3);
	const char *msg_id = (const char *)sqlite3_column_text(st, 4);
	const char *type = (const char *)sqlite3_column_text(st, 5);
	const char *body = (const char *)sqlite3_column_text(st, 6);
	const char *prev = (const char *)sqlite3_column_text(st, 7);
	const char *row = (const char *)sqlite3_column_text(st, 8);
	if (*seq != prev_seq + 1) {
		snprintf(why, whylen, "seq %" PRId64 " follows %" PRId64 " (rows missing or moved)",
		         *seq, prev_seq);
		return why;
	}
	if (prev == NULL || strcmp(prev, prev_hash) != 0)
		return "prev_hash is not the previous row's row_hash";
	char want[HL_STORE_HASH_HEX];
	if (hl_store_audit_row_hash(*seq, sqlite3_column_int64(st, 1), dir, peer, msg_id, type,
	                            body, prev, want) != 0)
		return "malformed row (direction, type or hashes)";
	if (row == NULL || strcmp(row, want) != 0)
		return "row_hash does not match the row's contents";
	return NULL;
}

int hl_store_audit_verify(hl_store_t *s, hl_audit_report_fn fn, void *ud,
                          struct hl_audit_summary *sum)
{
	struct hl_audit_summary local;
	if (sum == NULL)
		sum = &local;
	memset(sum, 0, sizeof *sum);
	memcpy(sum->head, ZERO_HASH, HL_STORE_HASH_HEX);
	int rc = 0;
	sqlite3_stmt *st = hls_stmt(s, HLS_AUDIT_WALK, SQL_WALK, &rc);
	if (st == NULL)
		return rc;
	char why[160];
	for (;;) {
		int r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = hls_fail(s, r, "audit verify");
			break;
		}
		int64_t seq = 0;
		const char *bad = check_row(st, sum->last_seq, sum->head, &seq, why, sizeof why);
		if (bad != NULL) {
			rc = broken(sum, fn, ud, seq, bad);
			break;
		}
		sum->rows++;
		sum->last_seq = seq;
		memcpy(sum->head, sqlite3_column_text(st, 8), HL_STORE_HASH_HEX);
	}
	hls_done(st);
	return rc;
}
