/* \summary: the .hlx file: a compiled matcher saved and loaded (docs/formats.md (.hlx))
 *
 * Loading is the sensor's start-up and reload path, so it avoids JSON and
 * pattern compilation: indicators are compact binary records, the tables
 * are rebuilt from them, the Hyperscan databases are deserialised as they
 * were compiled. It also avoids small allocations and page faults: the
 * records are copied into the matcher's one store (matcher_int.h), tables
 * are sized once, and every large block is mapped in at once (bigalloc.h).
 * What remains is mostly the SHA-256 of the whole file (about half of a
 * load; libsodium's portable SHA-256 runs at ~350 MB/s). Every byte is untrusted: the trailing
 * SHA-256 is checked first, then every length, count, enum and string, with each count bounded by
 * the bytes left so no hostile count can make a large allocation.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bigalloc.h"
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

/* width 1, 2, 4 or 8. The bytes go to the low-addressed end of v, which
 * le64toh reads as the little-endian number they are on any host; one
 * load instead of a loop a byte, on the path every record takes. */
static inline bool get_le(struct rd *r, size_t width, uint64_t *out)
{
	if (r->left < width)
		return false;
	uint64_t v = 0;
	memcpy(&v, r->p, width);
	v = le64toh(v);
	r->p += width;
	r->left -= width;
	*out = v;
	return true;
}

/* A string as it sits in the file: not NUL-terminated. */
struct span {
	const uint8_t *p;
	size_t len;
};

/* A length-prefixed string, 1..max bytes; with check, also no NUL byte. */
static const char *get_span(struct rd *r, size_t max, bool check, struct span *out)
{
	uint64_t len;
	if (!get_le(r, 4, &len) || len > r->left)
		return "string runs past its section";
	if (len == 0 || len > max)
		return "string length out of range";
	if (check && memchr(r->p, '\0', (size_t)len) != NULL)
		return "string contains a NUL byte";
	out->p = r->p;
	out->len = (size_t)len;
	r->p += len;
	r->left -= (size_t)len;
	return NULL;
}

/* A length-prefixed string, as a malloc'd C string in *out. */
static const char *get_str(struct rd *r, size_t max, char **out)
{
	struct span sp;
	*out = NULL;
	const char *err = get_span(r, max, true, &sp);
	if (err != NULL)
		return err;
	char *s = malloc(sp.len + 1);
	if (s == NULL)
		return "out of memory";
	memcpy(s, sp.p, sp.len);
	s[sp.len] = '\0';
	*out = s;
	return NULL;
}

/* Indicators are read twice: first to check every record and measure
 * what the store needs (nothing is allocated for them before every count
 * and length is known good), then to copy the strings into the store. */
struct load {
	bool place;         /* second pass: copy into st and the indicators */
	struct hl_store st; /* place only */
	size_t ptrs, bytes; /* measure only: what the store needs */
};

static const char *str_out(struct load *ld, const struct span *sp, char **out)
{
	if (!ld->place) {
		ld->bytes += sp->len + 1;
		return NULL;
	}
	*out = hl_store_str(&ld->st, sp->p, sp->len);
	/* Cannot happen: the first pass measured these very bytes. */
	return *out != NULL ? NULL : "record changed while loading";
}

static const char *get_strv(struct rd *r, struct load *ld, struct hl_strv *sv)
{
	uint64_t n;
	if (!get_le(r, 4, &n))
		return "truncated string list";
	if (n > r->left / 5) /* each string is at least 5 bytes */
		return "string list count exceeds the bytes left";
	if (n == 0)
		return NULL;
	if (ld->place) {
		sv->v = hl_store_ptrs(&ld->st, (size_t)n);
		if (sv->v == NULL)
			return "record changed while loading";
		sv->n = (size_t)n;
	} else {
		ld->ptrs += (size_t)n;
	}
	for (size_t i = 0; i < n; i++) {
		struct span sp;
		const char *err = get_span(r, HLX_STR_MAX, !ld->place, &sp);
		if (err == NULL)
			err = str_out(ld, &sp, ld->place ? &sv->v[i] : NULL);
		if (err != NULL)
			return err;
	}
	return NULL;
}

/* One record into ind (second pass) or just checked and measured (first);
 * *value is where its value sits in the file. */
static const char *get_indicator(struct rd *r, struct load *ld, struct hl_indicator *ind,
                                 struct span *value)
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
	bool check = !ld->place;
	struct span sp;
	const char *err = get_span(r, HL_INDICATOR_VALUE_MAX, check, value);
	if (err == NULL)
		err = str_out(ld, value, &ind->value);
	if (err == NULL && (flags & HLX_IND_FLAG_ID)) {
		err = get_span(r, HL_INDICATOR_ID_MAX, check, &sp);
		if (err == NULL)
			err = str_out(ld, &sp, &ind->id);
	}
	if (err == NULL)
		err = get_strv(r, ld, &ind->sources);
	if (err == NULL)
		err = get_strv(r, ld, &ind->tags);
	if (err == NULL && (flags & HLX_IND_FLAG_DESC)) {
		err = get_span(r, HLX_STR_MAX, check, &sp);
		if (err == NULL)
			err = str_out(ld, &sp, &ind->description);
	}
	return err;
}

/* Canonical order on records still in the file: type, then value
 * bytewise (as strcmp, the values holding no NUL). */
static int rec_cmp(const struct hl_indicator *a, const struct span *va,
                   const struct hl_indicator *b, const struct span *vb)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	int c = memcmp(va->p, vb->p, va->len < vb->len ? va->len : vb->len);
	if (c != 0)
		return c;
	return va->len < vb->len ? -1 : va->len > vb->len;
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

static const char *load_indicators(hl_matcher_t *m, const struct rd *body, uint64_t count)
{
	if (count > body->left / HLX_IND_MIN)
		return "indicator count exceeds the section's bytes";
	struct load ld = {.place = false};
	struct rd r = *body;
	struct hl_indicator cur, prev;
	struct span vcur, vprev = {NULL, 0};
	for (size_t i = 0; i < count; i++) {
		memset(&cur, 0, sizeof cur);
		const char *err = get_indicator(&r, &ld, &cur, &vcur);
		if (err != NULL)
			return err;
		if (i > 0 && rec_cmp(&prev, &vprev, &cur, &vcur) >= 0)
			return "indicators out of canonical order or repeated";
		prev = cur;
		vprev = vcur;
	}
	if (r.left != 0)
		return "bytes left over after the last indicator";

	int rc = hl_matcher_store_alloc(m, (size_t)count, ld.ptrs, ld.bytes, &ld.st);
	if (rc != 0)
		return rc == HL_ENOMEM ? "out of memory" : "indicators too large";
	ld.place = true;
	r = *body;
	for (size_t i = 0; i < count; i++) {
		struct hl_indicator *ind = &m->inds[i];
		/* Zeroed here rather than the whole array up front: the
		 * record is written next while its lines are in cache. */
		memset(ind, 0, sizeof *ind);
		const char *err = get_indicator(&r, &ld, ind, &vcur);
		if (err != NULL)
			return err;
		m->n++;
	}
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
static int load_hs(const struct rd *body, const char *mode, hs_database_t **out, void **out_mem,
                   char *why, size_t whylen)
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
	/* Into a block of ours, mapped in at once: the database is as large
	 * as its serialised form and is written whole right away. */
	size_t size = 0;
	rc = hs_serialized_database_size(bytes, body->left, &size);
	void *mem = NULL;
	if (rc == HS_SUCCESS) {
		mem = hl_big_alloc(size);
		rc = mem != NULL ? hs_deserialize_database_at(bytes, body->left, mem) : HS_NOMEM;
	}
	if (rc == HS_DB_PLATFORM_ERROR) {
		snprintf(why, whylen, "Hyperscan database built for another CPU (\"%s\")", info);
		free(info);
		free(mem);
		return 1;
	}
	free(info);
	if (rc != HS_SUCCESS) {
		free(mem);
		if (rc == HS_NOMEM)
			return HL_ENOMEM;
		snprintf(why, whylen, "corrupt Hyperscan database (error %d)", (int)rc);
		return HL_EFORMAT;
	}
	*out = mem;
	*out_mem = mem;
	return 0;
}

static int recompile_hs(hl_matcher_t *m, const char *name, struct hl_diag *diag)
{
	hl_matcher_hs_free(m);
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
		int rc = load_hs(&sec[2].body, "Mode: BLOCK", &m->block_db, &m->block_mem, why,
		                 sizeof why);
		if (rc == 0)
			rc = load_hs(&sec[3].body, "Mode: STREAM", &m->stream_db, &m->stream_mem,
			             why, sizeof why);
		if (rc == HL_ENOMEM) {
			hl_matcher_destroy(&m);
			return fail(diag, name, "out of memory");
		}
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

/* Read all of fd into a block mapped in at once (see bigalloc.h). */
static int read_all(int fd, size_t len, uint8_t **out)
{
	uint8_t *data = hl_big_alloc(len);
	if (data == NULL)
		return HL_ENOMEM;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, data + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != len) {
		free(data);
		return HL_EIO;
	}
	*out = data;
	return 0;
}

int hl_matcher_load(const char *path, hl_matcher_t **out, struct hl_diag *diag)
{
	if (path == NULL || out == NULL)
		return HL_EINVAL;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno; /* the report may change errno */
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot open: %s", strerror(e));
		return e == ENOENT ? HL_ENOTFOUND : HL_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > HLX_FILE_MAX) {
		close(fd);
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot size the file");
		return HL_EIO;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *data = NULL;
	int rc = read_all(fd, len, &data);
	close(fd);
	if (rc == HL_EIO)
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "short read");
	if (rc != 0)
		return rc;
	rc = hl_matcher_load_buffer(data, len, path, out, diag);
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
