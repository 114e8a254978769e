/* \summary: the .hlx file: a compiled matcher saved and loaded (docs/formats.md (.hlx))
 *
 * Loading is the sensor's start-up and reload path, so it avoids JSON and
 * pattern compilation, and almost all work on the indicators: their
 * section is the matcher's store (matcher_int.h) byte for byte, read into
 * one block and used where it lies once checked (matcher_store.c); the
 * tables are rebuilt from it (their hash keys are random per process);
 * the Hyperscan databases are deserialised as they were compiled. Every
 * byte is untrusted: the trailing BLAKE2b-256 is checked first, then
 * every length, count, offset, enum and string.
 *
 * The file's checksum is BLAKE2b (libsodium crypto_generichash), not
 * SHA-256: it guards against corruption, and runs at ~1.5x the speed of
 * libsodium's portable SHA-256, which was half of a version 1 load. The
 * set hash in the header stays SHA-256 (hl_iset_hash).
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

/* The store is used in place: its integers are the host's. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the .hlx indicator section is little-endian and used in place; a big-endian "
               "host needs a byte-swapping pass in matcher_io.c");

#define HLX_MAGIC "HLX1"
#define HLX_VERSION 2
#define HLX_HEADER_LEN 72
#define HLX_TRAILER_LEN 32
#define HLX_FLAG_HS 0x1u
#define HLX_SEC_INDICATORS 1
#define HLX_SEC_ALLOWLIST 2
#define HLX_SEC_HS_BLOCK 3
#define HLX_SEC_HS_STREAM 4
#define HLX_SECTION_HEAD 16
#define HLX_PREFIX (HLX_HEADER_LEN + HLX_SECTION_HEAD) /* header + indicator section head */
#define HLX_STR_MAX 65536                              /* allowlist value */
#define HLX_HS_MIN 256                                 /* shortest Hyperscan database accepted */
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

static bool put_str(struct buf *b, const char *s, size_t max)
{
	size_t len = strlen(s);
	if (len > max)
		return false;
	put_le(b, len, 4);
	put(b, s, len);
	return true;
}

static void put_section_head(struct buf *b, uint32_t tag, uint64_t len)
{
	put_le(b, tag, 4);
	put_le(b, 0, 4);
	put_le(b, len, 8);
}

/* The file in pieces: the header and the indicator section's head, the
 * store (m's own block), and the rest (allowlist and Hyperscan sections). */
struct pieces {
	struct buf head, rest;
};

static int put_hs(struct buf *b, uint32_t tag, const hs_database_t *db)
{
	char *bytes = NULL;
	size_t len = 0;
	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return HL_ENOMEM;
	put_section_head(b, tag, len);
	put(b, bytes, len);
	free(bytes);
	return 0;
}

static int serialise(const hl_matcher_t *m, struct pieces *pc)
{
	bool with_hs = m->block_db != NULL && m->stream_db != NULL;
	if (m->n > UINT32_MAX || m->allow_count > UINT32_MAX)
		return HL_ELIMIT;
	struct buf al = {0};
	for (size_t i = 0; i < m->allow_count; i++) {
		enum hl_allow_kind kind;
		const char *value = NULL;
		int rc = hl_allowlist_entry(m->allow, i, &kind, &value);
		if (rc != 0) {
			free(al.p);
			return rc;
		}
		put_le(&al, (unsigned)kind, 1);
		if (!put_str(&al, value, HLX_STR_MAX)) {
			free(al.p);
			return HL_ELIMIT;
		}
	}
	put_section_head(&pc->rest, HLX_SEC_ALLOWLIST, al.len);
	put(&pc->rest, al.p, al.len);
	free(al.p);
	if (with_hs) {
		int rc = put_hs(&pc->rest, HLX_SEC_HS_BLOCK, m->block_db);
		if (rc == 0)
			rc = put_hs(&pc->rest, HLX_SEC_HS_STREAM, m->stream_db);
		if (rc != 0)
			return rc;
	}

	struct buf *b = &pc->head;
	put(b, HLX_MAGIC, 4);
	put_le(b, HLX_VERSION, 2);
	put_le(b, HLX_HEADER_LEN, 2);
	put_le(b, with_hs ? HLX_FLAG_HS : 0, 4);
	put_le(b, with_hs ? 4 : 2, 4);
	put_le(b, HLX_PREFIX + m->store_len + pc->rest.len + HLX_TRAILER_LEN, 8);
	put_le(b, m->version, 8);
	put(b, m->hash, HL_SHA256_LEN);
	put_le(b, m->n, 4);
	put_le(b, m->allow_count, 4);
	put_section_head(b, HLX_SEC_INDICATORS, m->store_len);
	return b->failed || pc->rest.failed ? HL_ENOMEM : 0;
}

/* Write the pieces and the checksum of them all. */
static int write_file(const char *path, const hl_matcher_t *m, const struct pieces *pc)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return errno == EACCES ? HL_EPERM : HL_EIO;
	const struct {
		const void *p;
		size_t len;
	} part[3] = {
	        {pc->head.p, pc->head.len}, {m->store, m->store_len}, {pc->rest.p, pc->rest.len}};
	crypto_generichash_state st;
	uint8_t sum[HLX_TRAILER_LEN];
	crypto_generichash_init(&st, NULL, 0, sizeof sum);
	bool ok = true;
	for (size_t i = 0; i < 3; i++) {
		crypto_generichash_update(&st, part[i].p, part[i].len);
		ok = ok && fwrite(part[i].p, 1, part[i].len, f) == part[i].len;
	}
	crypto_generichash_final(&st, sum, sizeof sum);
	ok = ok && fwrite(sum, 1, sizeof sum, f) == sizeof sum;
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
	if (sodium_init() < 0)
		return HL_ENOMEM;
	struct pieces pc;
	memset(&pc, 0, sizeof pc);
	int rc = serialise(m, &pc);
	size_t plen = strlen(path);
	char *tmp = rc == 0 ? malloc(plen + 5) : NULL;
	if (rc == 0 && tmp == NULL)
		rc = HL_ENOMEM;
	if (rc == 0) {
		memcpy(tmp, path, plen);
		memcpy(tmp + plen, ".tmp", 5);
		rc = write_file(tmp, m, &pc);
		if (rc == 0 && rename(tmp, path) != 0)
			rc = HL_EIO;
		if (rc != 0)
			unlink(tmp);
	}
	free(tmp);
	free(pc.head.p);
	free(pc.rest.p);
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

/* A length-prefixed string, 1..max bytes, no NUL byte. */
static const char *get_span(struct rd *r, size_t max, struct span *out)
{
	uint64_t len;
	if (!get_le(r, 4, &len) || len > r->left)
		return "string runs past its section";
	if (len == 0 || len > max)
		return "string length out of range";
	if (memchr(r->p, '\0', (size_t)len) != NULL)
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
	const char *err = get_span(r, max, &sp);
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

static int fail(struct hl_diag *diag, const char *name, const char *why)
{
	hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "not a usable .hlx file: %s", why);
	return strcmp(why, "out of memory") == 0 ? HL_ENOMEM : HL_EFORMAT;
}

static int recompile_hs(hl_matcher_t *m, const char *name, struct hl_diag *diag)
{
	hl_matcher_hs_free(m);
	size_t first = m->n - m->by_type[HL_IND_CONTENT] - m->by_type[HL_IND_REGEX];
	size_t np = m->n - first;
	const struct hl_indicator **inds = malloc((np > 0 ? np : 1) * sizeof *inds);
	struct hl_indicator *views = malloc((np > 0 ? np : 1) * sizeof *views);
	char *ids = malloc((np > 0 ? np : 1) * HL_MATCHER_ID_BUF);
	bool *rejected = calloc(np > 0 ? np : 1, sizeof *rejected);
	int rc = inds != NULL && views != NULL && ids != NULL && rejected != NULL ? 0 : HL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < np; i++) {
		hl_matcher_view_fill(m, first + i, &views[i], ids + i * HL_MATCHER_ID_BUF);
		inds[i] = &views[i];
	}
	/* No renumbering: the indicators are fixed, a pattern this Hyperscan
	 * rejects only never matches. */
	if (rc == 0)
		rc = hl_matcher_hs_build(inds, np, (uint32_t)first, false, rejected, &m->block_db,
		                         &m->stream_db, diag);
	free(inds);
	free(views);
	free(ids);
	free(rejected);
	if (rc != 0)
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "recompiling the payload patterns: %s",
		               hl_strerror(rc));
	return rc;
}

/* The header and the indicator section's head (HLX_PREFIX bytes) of a
 * file of len bytes: *flags, and the indicator section's length. */
static const char *check_prefix(const uint8_t *p, size_t len, uint64_t *flags, size_t *store_len)
{
	if (len < 4 || memcmp(p, HLX_MAGIC, 4) != 0)
		return "no HLX1 magic";
	if (len < HLX_PREFIX + HLX_TRAILER_LEN)
		return "truncated header";
	struct rd r = {p + 4, HLX_PREFIX - 4};
	uint64_t version, hdrlen, nsec, flen, tag, reserved, slen;
	get_le(&r, 2, &version);
	get_le(&r, 2, &hdrlen);
	get_le(&r, 4, flags);
	get_le(&r, 4, &nsec);
	get_le(&r, 8, &flen);
	if (version == 1)
		return "format version 1 is no longer read (this program reads version 2); "
		       "compile the indicators again with this hotline-rules";
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
	r.p = p + HLX_HEADER_LEN;
	r.left = HLX_SECTION_HEAD;
	get_le(&r, 4, &tag);
	get_le(&r, 4, &reserved);
	get_le(&r, 8, &slen);
	if (tag != HLX_SEC_INDICATORS || reserved != 0)
		return "unexpected section";
	if (slen > len - HLX_PREFIX - HLX_TRAILER_LEN)
		return "section runs past the end of the file";
	*store_len = (size_t)slen;
	return NULL;
}

/* A file in its three parts, as read. */
struct parts {
	const uint8_t *prefix; /* HLX_PREFIX bytes */
	void *store;           /* the indicator section, a block of its own */
	size_t store_len;
	const uint8_t *rest; /* the other sections and the trailer */
	size_t rest_len;
};

static bool checksum_ok(const struct parts *pt)
{
	crypto_generichash_state st;
	uint8_t sum[HLX_TRAILER_LEN];
	crypto_generichash_init(&st, NULL, 0, sizeof sum);
	crypto_generichash_update(&st, pt->prefix, HLX_PREFIX);
	crypto_generichash_update(&st, pt->store, pt->store_len);
	crypto_generichash_update(&st, pt->rest, pt->rest_len - HLX_TRAILER_LEN);
	crypto_generichash_final(&st, sum, sizeof sum);
	return sodium_memcmp(sum, pt->rest + pt->rest_len - HLX_TRAILER_LEN, sizeof sum) == 0;
}

/* Build the matcher from checked parts. pt->store becomes the matcher's
 * (set NULL) once adopted; otherwise the caller frees it. */
static int load_parts(struct parts *pt, uint64_t flags, const char *name, hl_matcher_t **out,
                      struct hl_diag *diag)
{
	if (!checksum_ok(pt))
		return fail(diag, name, "checksum mismatch");
	hl_matcher_t *m = hl_matcher_alloc();
	if (m == NULL)
		return fail(diag, name, "out of memory");
	struct rd r = {pt->prefix + 24, HLX_HEADER_LEN - 24};
	uint64_t version, nind, nallow;
	get_le(&r, 8, &version);
	memcpy(m->hash, r.p, HL_SHA256_LEN);
	r.p += HL_SHA256_LEN;
	r.left -= HL_SHA256_LEN;
	get_le(&r, 4, &nind);
	get_le(&r, 4, &nallow);
	m->version = version;

	const char *err = hl_matcher_store_adopt(m, pt->store, pt->store_len);
	if (err == NULL) {
		pt->store = NULL;
		if (m->n != nind)
			err = "indicator count does not match the header";
	}
	r.p = pt->rest;
	r.left = pt->rest_len - HLX_TRAILER_LEN;
	struct section sec[4];
	size_t nsec = (flags & HLX_FLAG_HS) ? 4 : 2;
	for (size_t i = 1; i < nsec && err == NULL; i++)
		err = get_section(&r, (uint32_t)(i + 1), &sec[i]);
	if (err == NULL && r.left != 0)
		err = "bytes between the last section and the checksum";
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

int hl_matcher_load_buffer(const void *data, size_t len, const char *name, hl_matcher_t **out,
                           struct hl_diag *diag)
{
	if (out == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return HL_ENOMEM;
	const uint8_t *p = data;
	uint64_t flags = 0;
	size_t store_len = 0;
	const char *err = check_prefix(p, len, &flags, &store_len);
	if (err != NULL)
		return fail(diag, name, err);
	struct parts pt = {p, hl_big_alloc(store_len), store_len, p + HLX_PREFIX + store_len,
	                   len - HLX_PREFIX - store_len};
	if (pt.store == NULL)
		return fail(diag, name, "out of memory");
	memcpy(pt.store, p + HLX_PREFIX, store_len);
	int rc = load_parts(&pt, flags, name, out, diag);
	free(pt.store);
	return rc;
}

/* Read exactly len bytes of fd into buf. */
static bool read_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* The indicator section straight into the block the matcher keeps (so a
 * load holds the file's indicators once, not a copy as well), the rest
 * into a block freed once the Hyperscan databases are deserialised. */
static int load_fd(int fd, size_t len, const char *path, hl_matcher_t **out, struct hl_diag *diag)
{
	uint8_t prefix[HLX_PREFIX];
	size_t first = len < HLX_PREFIX ? len : HLX_PREFIX;
	if (!read_exact(fd, prefix, first)) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "short read");
		return HL_EIO;
	}
	uint64_t flags = 0;
	size_t store_len = 0;
	const char *err = check_prefix(prefix, len, &flags, &store_len);
	if (err != NULL)
		return fail(diag, path, err);
	struct parts pt = {prefix, hl_big_alloc(store_len), store_len, NULL,
	                   len - HLX_PREFIX - store_len};
	uint8_t *rest = hl_big_alloc(pt.rest_len);
	int rc = 0;
	if (pt.store == NULL || rest == NULL)
		rc = fail(diag, path, "out of memory");
	else if (!read_exact(fd, pt.store, store_len) || !read_exact(fd, rest, pt.rest_len))
		rc = HL_EIO;
	if (rc == HL_EIO)
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "short read");
	pt.rest = rest;
	if (rc == 0)
		rc = load_parts(&pt, flags, path, out, diag);
	free(pt.store);
	free(rest);
	return rc;
}

int hl_matcher_load(const char *path, hl_matcher_t **out, struct hl_diag *diag)
{
	if (path == NULL || out == NULL)
		return HL_EINVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return HL_ENOMEM;
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
	int rc = load_fd(fd, (size_t)st.st_size, path, out, diag);
	close(fd);
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
