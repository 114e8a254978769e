/* \summary: the .hlx file: a compiled matcher saved and loaded (docs/formats.md (.hlx))
 *
 * Loading is the sensor's start-up and reload path, so it avoids JSON and
 * pattern compilation: indicators are compact binary records, the tables
 * are rebuilt from them, the Hyperscan databases are deserialised as they
 * were compiled. Every byte is untrusted: the trailing SHA-256 is checked
 * first, then every length, count, enum and string, with each count bounded
 * by the bytes left so no hostile count can make a large allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "hotline/err.h"
#include "matcher_int.h"

#define HLX_MAGIC "HLX1"
#define HLX_VERSION 1
#define HLX_HEADER_LEN 72
#define HLX_TRAILER_LEN 32
#define HLX_FLAG_HS 0x1u
#define HLX_SEC_INDICATORS 1
#define HLX_SEC_ALLOWLIST 2
#define HLX_SEC_HS_BLOCK 3
#define HLX_SEC_HS_STREAM 4
#define HLX_SECTION_HEAD 16
#define HLX_STR_MAX 65536 /* id, source, tag, description, allowlist value */
#define HLX_IND_FLAG_NOCASE 0x1u
#define HLX_IND_FLAG_ID 0x2u
#define HLX_IND_FLAG_DESC 0x4u
#define HLX_IND_MIN 37 /* shortest indicator record: see docs/formats.md (.hlx) */
#define HLX_HS_MIN 256 /* shortest Hyperscan database accepted */
#define HLX_FILE_MAX ((size_t)1 << 32)

/* ---- writing ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->cap - b->len < len) {
		size_t cap = b->cap > 0 ? b->cap : 4096;
		while (cap - b->len < len)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put_le(struct buf *b, uint64_t v, size_t width)
{
	uint8_t bytes[8];
	for (size_t i = 0; i < width; i++)
		bytes[i] = (uint8_t)(v >> (8 * i));
	put(b, bytes, width);
}

static void set_le(uint8_t *at, uint64_t v, size_t width)
{
	for (size_t i = 0; i < width; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static bool put_str(struct buf *b, const char *s, size_t max)
{
	size_t len = strlen(s);
	if (len > max)
		return false;
	put_le(b, len, 4);
	put(b, s, len);
	return true;
}

static bool put_strv(struct buf *b, const struct hl_strv *sv)
{
	put_le(b, sv->n, 4);
	for (size_t i = 0; i < sv->n; i++)
		if (!put_str(b, sv->v[i], HLX_STR_MAX))
			return false;
	return true;
}

static bool put_indicator(struct buf *b, const struct hl_indicator *ind)
{
	unsigned flags = (ind->nocase ? HLX_IND_FLAG_NOCASE : 0) |
	                 (ind->id != NULL ? HLX_IND_FLAG_ID : 0) |
	                 (ind->description != NULL ? HLX_IND_FLAG_DESC : 0);
	put_le(b, (unsigned)ind->type, 1);
	put_le(b, (unsigned)ind->tlp, 1);
	put_le(b, (unsigned)ind->severity, 1);
	put_le(b, flags, 1);
	put_le(b, (uint32_t)(int32_t)ind->confidence, 4);
	put_le(b, (uint64_t)ind->valid_from, 8);
	put_le(b, (uint64_t)ind->valid_until, 8);
	if (!put_str(b, ind->value, HL_INDICATOR_VALUE_MAX))
		return false;
	if (ind->id != NULL && !put_str(b, ind->id, HL_INDICATOR_ID_MAX))
		return false;
	if (!put_strv(b, &ind->sources) || !put_strv(b, &ind->tags))
		return false;
	if (ind->description != NULL && !put_str(b, ind->description, HLX_STR_MAX))
		return false;
	return true;
}

/* Start a section; returns where its length goes. */
static size_t section_begin(struct buf *b, uint32_t tag)
{
	put_le(b, tag, 4);
	put_le(b, 0, 4);
	size_t at = b->len;
	put_le(b, 0, 8);
	return at;
}

static void section_end(struct buf *b, size_t at)
{
	if (!b->failed)
		set_le(b->p + at, b->len - at - 8, 8);
}

static int put_hs(struct buf *b, uint32_t tag, const hs_database_t *db)
{
	char *bytes = NULL;
	size_t len = 0;
	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return HL_ENOMEM;
	size_t at = section_begin(b, tag);
	put(b, bytes, len);
	section_end(b, at);
	free(bytes);
	return 0;
}

static int serialise(const hl_matcher_t *m, struct buf *b)
{
	bool with_hs = m->block_db != NULL && m->stream_db != NULL;
	if (m->n > UINT32_MAX || m->allow_count > UINT32_MAX)
		return HL_ELIMIT;
	put(b, HLX_MAGIC, 4);
	put_le(b, HLX_VERSION, 2);
	put_le(b, HLX_HEADER_LEN, 2);
	put_le(b, with_hs ? HLX_FLAG_HS : 0, 4);
	put_le(b, with_hs ? 4 : 2, 4);
	put_le(b, 0, 8); /* file length, set below */
	put_le(b, m->version, 8);
	put(b, m->hash, HL_SHA256_LEN);
	put_le(b, m->n, 4);
	put_le(b, m->allow_count, 4);

	size_t at = section_begin(b, HLX_SEC_INDICATORS);
	for (size_t i = 0; i < m->n; i++)
		if (!put_indicator(b, &m->inds[i]))
			return HL_ELIMIT;
	section_end(b, at);

	at = section_begin(b, HLX_SEC_ALLOWLIST);
	for (size_t i = 0; i < m->allow_count; i++) {
		enum hl_allow_kind kind;
		const char *value = NULL;
		int rc = hl_allowlist_entry(m->allow, i, &kind, &value);
		if (rc != 0)
			return rc;
		put_le(b, (unsigned)kind, 1);
		if (!put_str(b, value, HLX_STR_MAX))
			return HL_ELIMIT;
	}
	section_end(b, at);

	if (with_hs) {
		int rc = put_hs(b, HLX_SEC_HS_BLOCK, m->block_db);
		if (rc == 0)
			rc = put_hs(b, HLX_SEC_HS_STREAM, m->stream_db);
		if (rc != 0)
			return rc;
	}
	if (b->failed)
		return HL_ENOMEM;
	set_le(b->p + 16, b->len + HLX_TRAILER_LEN, 8);
	uint8_t sum[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(sum, b->p, b->len);
	put(b, sum, sizeof sum);
	return b->failed ? HL_ENOMEM : 0;
}

static int write_all(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return errno == EACCES ? HL_EPERM : HL_EIO;
	bool ok = fwrite(data, 1, len, f) == len;
	ok = fflush(f) == 0 && ok;
	/* On disk before the rename makes it visible. */
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : HL_EIO;
}

int hl_matcher_save(const hl_matcher_t *m, const char *path)
{
	if (m == NULL || path == NULL)
		return HL_EINVAL;
	struct buf b = {0};
	int rc = serialise(m, &b);
	size_t plen = strlen(path);
	char *tmp = rc == 0 ? malloc(plen + 5) : NULL;
	if (rc == 0 && tmp == NULL)
		rc = HL_ENOMEM;
	if (rc == 0) {
		memcpy(tmp, path, plen);
		memcpy(tmp + plen, ".tmp", 5);
		rc = write_all(tmp, b.p, b.len);
		if (rc == 0 && rename(tmp, path) != 0)
			rc = HL_EIO;
		if (rc != 0)
			unlink(tmp);
	}
	free(tmp);
	free(b.p);
	return rc;
}

/* ---- reading ---- */

struct rd {
	const uint8_t *p;
	size_t left;
};

static bool get_le(struct rd *r, size_t width, uint64_t *out)
{
	if (r->left < width)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += width;
	r->left -= width;
	*out = v;
	return true;
}

/* A length-prefixed string, 1..max bytes, no NUL; malloc'd copy in *out. */
static const char *get_str(struct rd *r, size_t max, char **out)
{
	uint64_t len;
	*out = NULL;
	if (!get_le(r, 4, &len) || len > r->left)
		return "string runs past its section";
	if (len == 0 || len > max)
		return "string length out of range";
	if (memchr(r->p, '\0', (size_t)len) != NULL)
		return "string contains a NUL byte";
	char *s = malloc((size_t)len + 1);
	if (s == NULL)
		return "out of memory";
	memcpy(s, r->p, (size_t)len);
	s[len] = '\0';
	r->p += len;
	r->left -= (size_t)len;
	*out = s;
	return NULL;
}

static const char *get_strv(struct rd *r, struct hl_strv *sv)
{
	uint64_t n;
	if (!get_le(r, 4, &n))
		return "truncated string list";
	if (n > r->left / 5) /* each string is at least 5 bytes */
		return "string list count exceeds the bytes left";
	if (n == 0)
		return NULL;
	sv->v = calloc((size_t)n, sizeof *sv->v);
	if (sv->v == NULL)
		return "out of memory";
	for (size_t i = 0; i < n; i++) {
		const char *err = get_str(r, HLX_STR_MAX, &sv->v[i]);
		if (err != NULL)
			return err;
		sv->n++;
	}
	return NULL;
}

static const char *get_indicator(struct rd *r, struct hl_indicator *ind)
{
	uint64_t type, tlp, sev, flags, conf, from, until;
	if (!get_le(r, 1, &type) || !get_le(r, 1, &tlp) || !get_le(r, 1, &sev) ||
	    !get_le(r, 1, &flags) || !get_le(r, 4, &conf) || !get_le(r, 8, &from) ||
	    !get_le(r, 8, &until))
		return "truncated indicator record";
	int32_t confidence = (int32_t)(uint32_t)conf;
	if (type >= HL_IND_TYPE_COUNT)
		return "unknown indicator type";
	if (tlp >= HL_TLP_COUNT)
		return "unknown TLP";
	if (sev >= HL_SEV_COUNT)
		return "unknown severity";
	if (flags & ~(uint64_t)(HLX_IND_FLAG_NOCASE | HLX_IND_FLAG_ID | HLX_IND_FLAG_DESC))
		return "unknown indicator flags";
	if (confidence != HL_CONFIDENCE_UNSET && (confidence < 0 || confidence > 100))
		return "confidence out of range";
	ind->type = (enum hl_ind_type)type;
	ind->tlp = (enum hl_tlp)tlp;
	ind->severity = (enum hl_severity)sev;
	ind->confidence = confidence;
	ind->valid_from = (int64_t)from;
	ind->valid_until = (int64_t)until;
	ind->nocase = (flags & HLX_IND_FLAG_NOCASE) != 0;
	const char *err = get_str(r, HL_INDICATOR_VALUE_MAX, &ind->value);
	if (err == NULL && (flags & HLX_IND_FLAG_ID))
		err = get_str(r, HL_INDICATOR_ID_MAX, &ind->id);
	if (err == NULL)
		err = get_strv(r, &ind->sources);
	if (err == NULL)
		err = get_strv(r, &ind->tags);
	if (err == NULL && (flags & HLX_IND_FLAG_DESC))
		err = get_str(r, HLX_STR_MAX, &ind->description);
	return err;
}

struct section {
	uint32_t tag;
	struct rd body;
};

static const char *get_section(struct rd *r, uint32_t want, struct section *s)
{
	uint64_t tag, reserved, len;
	if (!get_le(r, 4, &tag) || !get_le(r, 4, &reserved) || !get_le(r, 8, &len))
		return "truncated section header";
	if (tag != want || reserved != 0)
		return "unexpected section";
	if (len > r->left)
		return "section runs past the end of the file";
	s->tag = (uint32_t)tag;
	s->body.p = r->p;
	s->body.left = (size_t)len;
	r->p += len;
	r->left -= (size_t)len;
	return NULL;
}

static const char *load_indicators(hl_matcher_t *m, struct rd *body, uint64_t count)
{
	if (count > body->left / HLX_IND_MIN)
		return "indicator count exceeds the section's bytes";
	m->inds = calloc(count > 0 ? (size_t)count : 1, sizeof *m->inds);
	if (m->inds == NULL)
		return "out of memory";
	for (size_t i = 0; i < count; i++) {
		/* calloc'd zeroes are a valid cleared indicator, and every
		 * field is set below: no hl_indicator_init needed. */
		struct hl_indicator *ind = &m->inds[i];
		m->n++;
		const char *err = get_indicator(body, ind);
		if (err != NULL)
			return err;
		if (i > 0 && hl_matcher_ind_cmp(&m->inds[i - 1], ind) >= 0)
			return "indicators out of canonical order or repeated";
	}
	if (body->left != 0)
		return "bytes left over after the last indicator";
	return NULL;
}

static const char *load_allowlist(hl_matcher_t *m, struct rd *body, uint64_t count)
{
	if (count > body->left / 6)
		return "allowlist count exceeds the section's bytes";
	hl_allowlist_t *al = hl_allowlist_new();
	if (al == NULL)
		return "out of memory";
	const char *err = NULL;
	for (size_t i = 0; i < count && err == NULL; i++) {
		uint64_t kind;
		char *value = NULL;
		char why[128];
		if (!get_le(body, 1, &kind))
			err = "truncated allowlist entry";
		else if (kind > HL_ALLOW_CIDR)
			err = "unknown allowlist entry kind";
		else
			err = get_str(body, HLX_STR_MAX, &value);
		if (err == NULL &&
		    hl_allowlist_add(al, (enum hl_allow_kind)kind, value, why, sizeof why) != 0)
			err = "allowlist entry does not parse";
		free(value);
	}
	if (err == NULL && body->left != 0)
		err = "bytes left over after the last allowlist entry";
	if (err != NULL) {
		hl_allowlist_destroy(&al);
		return err;
	}
	hl_allowlist_destroy(&m->allow);
	m->allow = al;
	m->allow_count = hl_allowlist_count(al);
	return NULL;
}

/* Deserialise one database. 1: built elsewhere (another Hyperscan version
 * or CPU), the caller recompiles; 0: done; HL_EFORMAT: unusable. */
static int load_hs(const struct rd *body, const char *mode, hs_database_t **out, char *why,
                   size_t whylen)
{
	const char *bytes = (const char *)body->p;
	/* hs_serialized_database_info reads the engine's mode past
	 * Hyperscan's own header without checking the length; no real
	 * database is anywhere near this short. */
	if (body->left < HLX_HS_MIN) {
		snprintf(why, whylen, "Hyperscan database too short");
		return HL_EFORMAT;
	}
	char *info = NULL;
	hs_error_t rc = hs_serialized_database_info(bytes, body->left, &info);
	if (rc == HS_DB_VERSION_ERROR) {
		snprintf(why, whylen, "Hyperscan database built by another version, this is %s",
		         hs_version());
		return 1;
	}
	if (rc != HS_SUCCESS) {
		snprintf(why, whylen, "not a Hyperscan database");
		return HL_EFORMAT;
	}
	if (strstr(info, mode) == NULL) {
		snprintf(why, whylen, "Hyperscan database \"%s\" is not in %s", info, mode);
		free(info);
		return HL_EFORMAT;
	}
	rc = hs_deserialize_database(bytes, body->left, out);
	if (rc == HS_DB_PLATFORM_ERROR) {
		snprintf(why, whylen, "Hyperscan database built for another CPU (\"%s\")", info);
		free(info);
		return 1;
	}
	free(info);
	if (rc != HS_SUCCESS) {
		*out = NULL;
		snprintf(why, whylen, "corrupt Hyperscan database (error %d)", (int)rc);
		return HL_EFORMAT;
	}
	return 0;
}

static int recompile_hs(hl_matcher_t *m, const char *name, struct hl_diag *diag)
{
	hs_free_database(m->block_db);
	hs_free_database(m->stream_db);
	m->block_db = NULL;
	m->stream_db = NULL;
	size_t first = m->n - m->by_type[HL_IND_CONTENT] - m->by_type[HL_IND_REGEX];
	size_t np = m->n - first;
	const struct hl_indicator **inds = malloc((np > 0 ? np : 1) * sizeof *inds);
	bool *rejected = calloc(np > 0 ? np : 1, sizeof *rejected);
	int rc = inds != NULL && rejected != NULL ? 0 : HL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < np; i++)
		inds[i] = &m->inds[first + i];
	/* No renumbering: the indicators are fixed, a pattern this Hyperscan
	 * rejects only never matches. */
	if (rc == 0)
		rc = hl_matcher_hs_build(inds, np, (uint32_t)first, false, rejected, &m->block_db,
		                         &m->stream_db, diag);
	free(inds);
	free(rejected);
	if (rc != 0)
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "recompiling the payload patterns: %s",
		               hl_strerror(rc));
	return rc;
}

static int fail(struct hl_diag *diag, const char *name, const char *why)
{
	hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "not a usable .hlx file: %s", why);
	return strcmp(why, "out of memory") == 0 ? HL_ENOMEM : HL_EFORMAT;
}

static const char *check_header(const uint8_t *p, size_t len, uint64_t *flags)
{
	if (len < 4 || memcmp(p, HLX_MAGIC, 4) != 0)
		return "no HLX1 magic";
	if (len < HLX_HEADER_LEN + HLX_TRAILER_LEN)
		return "truncated header";
	struct rd r = {p + 4, HLX_HEADER_LEN - 4};
	uint64_t version, hdrlen, nsec, flen;
	get_le(&r, 2, &version);
	get_le(&r, 2, &hdrlen);
	get_le(&r, 4, flags);
	get_le(&r, 4, &nsec);
	get_le(&r, 8, &flen);
	if (version != HLX_VERSION)
		return "unsupported format version";
	if (hdrlen != HLX_HEADER_LEN)
		return "unexpected header length";
	if (*flags & ~(uint64_t)HLX_FLAG_HS)
		return "unknown flags";
	if (nsec != ((*flags & HLX_FLAG_HS) ? 4 : 2))
		return "section count does not match the flags";
	if (flen != len)
		return flen > len ? "file is truncated" : "trailing bytes after the checksum";
	uint8_t sum[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(sum, p, len - HLX_TRAILER_LEN);
	if (sodium_memcmp(sum, p + len - HLX_TRAILER_LEN, sizeof sum) != 0)
		return "checksum mismatch";
	return NULL;
}

int hl_matcher_load_buffer(const void *data, size_t len, const char *name, hl_matcher_t **out,
                           struct hl_diag *diag)
{
	if (out == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	*out = NULL;
	const uint8_t *p = data;
	uint64_t flags = 0;
	const char *err = check_header(p, len, &flags);
	if (err != NULL)
		return fail(diag, name, err);

	hl_matcher_t *m = hl_matcher_alloc();
	if (m == NULL)
		return fail(diag, name, "out of memory");
	struct rd r = {p + 24, HLX_HEADER_LEN - 24};
	uint64_t version, nind, nallow;
	get_le(&r, 8, &version);
	memcpy(m->hash, r.p, HL_SHA256_LEN);
	r.p += HL_SHA256_LEN;
	r.left -= HL_SHA256_LEN;
	get_le(&r, 4, &nind);
	get_le(&r, 4, &nallow);
	m->version = version;

	r.p = p + HLX_HEADER_LEN;
	r.left = len - HLX_HEADER_LEN - HLX_TRAILER_LEN;
	struct section sec[4];
	size_t nsec = (flags & HLX_FLAG_HS) ? 4 : 2;
	for (size_t i = 0; i < nsec && err == NULL; i++)
		err = get_section(&r, (uint32_t)(i + 1), &sec[i]);
	if (err == NULL && r.left != 0)
		err = "bytes between the last section and the checksum";
	if (err == NULL)
		err = load_indicators(m, &sec[0].body, nind);
	if (err == NULL)
		err = load_allowlist(m, &sec[1].body, nallow);
	if (err == NULL) {
		int rc = hl_matcher_index(m);
		if (rc == HL_ENOMEM)
			err = "out of memory";
		else if (rc != 0)
			err = "an ip indicator does not parse";
	}
	bool has_payload = err == NULL && m->by_type[HL_IND_CONTENT] + m->by_type[HL_IND_REGEX] > 0;
	if (err == NULL && has_payload != ((flags & HLX_FLAG_HS) != 0))
		err = "Hyperscan databases present without payload indicators or missing";
	if (err != NULL) {
		hl_matcher_destroy(&m);
		return fail(diag, name, err);
	}

	if (has_payload) {
		char why[256] = "";
		int rc = load_hs(&sec[2].body, "Mode: BLOCK", &m->block_db, why, sizeof why);
		if (rc == 0)
			rc = load_hs(&sec[3].body, "Mode: STREAM", &m->stream_db, why, sizeof why);
		if (rc == 1) {
			hl_diag_report(diag, HL_DIAG_NOTE, name, 0,
			               "%s; recompiling from the indicators", why);
			rc = recompile_hs(m, name, diag);
		} else if (rc < 0) {
			hl_matcher_destroy(&m);
			return fail(diag, name, why);
		}
		if (rc != 0) {
			hl_matcher_destroy(&m);
			return rc;
		}
	}
	*out = m;
	return 0;
}

int hl_matcher_load(const char *path, hl_matcher_t **out, struct hl_diag *diag)
{
	if (path == NULL || out == NULL)
		return HL_EINVAL;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return errno == ENOENT ? HL_ENOTFOUND : HL_EIO;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > HLX_FILE_MAX) {
		fclose(f);
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot size the file");
		return HL_EIO;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *data = malloc(len > 0 ? len : 1);
	if (data == NULL) {
		fclose(f);
		return HL_ENOMEM;
	}
	size_t got = fread(data, 1, len, f);
	fclose(f);
	if (got != len) {
		free(data);
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "short read");
		return HL_EIO;
	}
	int rc = hl_matcher_load_buffer(data, len, path, out, diag);
	free(data);
	return rc;
}

bool hl_matcher_is_serialised(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	char magic[4];
	bool yes = fread(magic, 1, 4, f) == 4 && memcmp(magic, HLX_MAGIC, 4) == 0;
	fclose(f);
	return yes;
}
