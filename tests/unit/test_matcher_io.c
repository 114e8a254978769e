/* \summary: unit tests for .hlx save/load: round trip, hostile and broken files */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/matcher.h"

#define HEADER_LEN 72
#define TRAILER_LEN 32

struct spec {
	enum hl_ind_type type;
	const char *value;
	bool nocase;
};

static const struct spec specs[] = {
        {.type = HL_IND_IP, .value = "10.0.0.0/8"},
        {.type = HL_IND_IP, .value = "192.0.2.7"},
        {.type = HL_IND_IP, .value = "2001:db8::/32"},
        {.type = HL_IND_DOMAIN, .value = "evil.example"},
        {.type = HL_IND_DOMAIN, .value = "bad.test"},
        {.type = HL_IND_URL, .value = "evil.example/dl?id=7"},
        {.type = HL_IND_URL, .value = "evil.example/path"},
        {.type = HL_IND_URI, .value = "/gate.php"},
        {.type = HL_IND_CONTENT, .value = "GET |0d 0a|X-Evil"},
        {.type = HL_IND_CONTENT, .value = "beacon", .nocase = true},
        {.type = HL_IND_REGEX, .value = "ab[0-9]+cd"},
};
#define NSPECS (sizeof specs / sizeof specs[0])

static hl_iset_t *make_set(void)
{
	hl_iset_t *set = hl_iset_new();
	for (size_t i = 0; i < NSPECS; i++) {
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		ind.type = specs[i].type;
		ind.value = strdup(specs[i].value);
		ind.nocase = specs[i].nocase;
		ind.confidence = (int)(i * 7);
		ind.severity = HL_SEV_HIGH;
		ind.tlp = HL_TLP_GREEN;
		if (i == 1) {
			ind.valid_from = 1000;
			ind.valid_until = 2000;
		}
		if (i % 2 == 0) {
			hl_strv_push(&ind.sources, "alpha");
			hl_strv_push(&ind.tags, "c2");
			hl_strv_push(&ind.tags, "botnet");
			ind.description = strdup("seen in campaign \"x\"");
		}
		char why[256];
		if (hl_indicator_normalise(&ind, why, sizeof why) != 0)
			fail_msg("%s: %s", specs[i].value, why);
		assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
	}
	return set;
}

static hl_matcher_t *make_matcher(bool payload)
{
	hl_iset_t *set = make_set();
	if (!payload) {
		hl_iset_t *names = hl_iset_new();
		for (size_t i = 0; i < hl_iset_count(set); i++) {
			const struct hl_indicator *ind = hl_iset_at(set, i);
			if (ind->type == HL_IND_CONTENT || ind->type == HL_IND_REGEX)
				continue;
			struct hl_indicator copy;
			hl_indicator_init(&copy);
			hl_indicator_copy(&copy, ind);
			hl_iset_add(names, &copy, NULL);
		}
		hl_iset_destroy(&set);
		set = names;
	}
	hl_allowlist_t *al = hl_allowlist_new();
	char why[128];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, "ok.evil.example", why, sizeof why),
	                 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "10.9.0.0/16", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "/gate.php?x", why, sizeof why), 0);
	struct hl_compile_opts opts = {.allowlist = al};
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_matcher_compile(set, &opts, &m, NULL, NULL), 0);
	hl_matcher_set_version(m, 0x0102030405060708ull);
	hl_allowlist_destroy(&al);
	hl_iset_destroy(&set);
	return m;
}

static char *tmp_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/test_matcher_io.%ld.%s", HOTLINE_BINARY_DIR, (long)getpid(),
	         name);
	return path;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* ---- observations both matchers must agree on ---- */

struct got {
	size_t n;
	uint32_t idx[32];
	uint64_t off[32];
};

static int collect(void *ctx, const struct hl_match *match)
{
	struct got *g = ctx;
	if (g->n < 32) {
		g->idx[g->n] = match->indicator;
		g->off[g->n] = match->offset;
	}
	g->n++;
	return 0;
}

static const struct {
	enum hl_field field;
	const char *obs;
} observations[] = {
        {HL_FIELD_DNS_QUERY, "www.evil.example"},
        {HL_FIELD_DNS_QUERY, "a.ok.evil.example"},
        {HL_FIELD_TLS_SNI, "notevil.example"},
        {HL_FIELD_HTTP_HOST, "bad.test"},
        {HL_FIELD_HTTP_URL, "evil.example/path?q=1"},
        {HL_FIELD_HTTP_URL, "evil.example/dl?id=7"},
        {HL_FIELD_HTTP_URI, "/gate.php"},
        {HL_FIELD_HTTP_URI, "/gate.php?x"},
        {HL_FIELD_TCP_PAYLOAD, "GET \r\nX-Evil: 1"},
        {HL_FIELD_UDP_PAYLOAD, "..BEACON..ab12cd"},
        {HL_FIELD_UDP_PAYLOAD, "nothing here"},
};

static void same_matches(const hl_matcher_t *a, const hl_matcher_t *b)
{
	hl_scratch_t *sa = hl_scratch_new(a);
	hl_scratch_t *sb = hl_scratch_new(b);
	size_t total = 0;
	for (size_t i = 0; i < sizeof observations / sizeof observations[0]; i++) {
		struct got ga = {0}, gb = {0};
		const char *o = observations[i].obs;
		int ra = hl_match_field(a, sa, observations[i].field, o, strlen(o), 1500, collect,
		                        &ga);
		int rb = hl_match_field(b, sb, observations[i].field, o, strlen(o), 1500, collect,
		                        &gb);
		assert_int_equal(ra, rb);
		assert_int_equal(ga.n, gb.n);
		assert_memory_equal(ga.idx, gb.idx, ga.n * sizeof ga.idx[0]);
		assert_memory_equal(ga.off, gb.off, ga.n * sizeof ga.off[0]);
		total += ga.n;
	}
	const char *ips[] = {"10.1.2.3", "10.9.1.1", "192.0.2.7", "2001:db8::5", "8.8.8.8"};
	for (size_t i = 0; i < 5; i++) {
		uint8_t addr[16];
		int fam = strchr(ips[i], ':') ? 6 : 4;
		inet_pton(fam == 4 ? AF_INET : AF_INET6, ips[i], addr);
		struct got ga = {0}, gb = {0};
		hl_match_addr(a, HL_FIELD_SRC_IP, fam, addr, 1500, collect, &ga);
		hl_match_addr(b, HL_FIELD_SRC_IP, fam, addr, 1500, collect, &gb);
		assert_int_equal(ga.n, gb.n);
		assert_memory_equal(ga.idx, gb.idx, ga.n * sizeof ga.idx[0]);
		total += ga.n;
	}
	assert_true(total >= 8);
	hl_scratch_destroy(&sa);
	hl_scratch_destroy(&sb);
}

static void same_indicators(const hl_matcher_t *a, const hl_matcher_t *b)
{
	assert_int_equal(hl_matcher_count(a), hl_matcher_count(b));
	for (uint32_t i = 0; i < hl_matcher_count(a); i++) {
		const struct hl_indicator *x = hl_matcher_indicator(a, i);
		const struct hl_indicator *y = hl_matcher_indicator(b, i);
		char *lx = hl_indicator_to_native(x), *ly = hl_indicator_to_native(y);
		assert_string_equal(lx, ly);
		free(lx);
		free(ly);
		assert_int_equal(x->nocase, y->nocase);
	}
	uint8_t ha[HL_SHA256_LEN], hb[HL_SHA256_LEN];
	hl_matcher_hash(a, ha);
	hl_matcher_hash(b, hb);
	assert_memory_equal(ha, hb, HL_SHA256_LEN);
	assert_int_equal(hl_matcher_version(a), hl_matcher_version(b));
	const hl_allowlist_t *aa = hl_matcher_allowlist(a), *ab = hl_matcher_allowlist(b);
	assert_int_equal(hl_allowlist_count(aa), hl_allowlist_count(ab));
}

static void round_trip(void **state)
{
	(void)state;
	for (int payload = 0; payload <= 1; payload++) {
		hl_matcher_t *m = make_matcher(payload);
		char *path = tmp_path("rt.hlx");
		assert_int_equal(hl_matcher_save(m, path), 0);
		char tmp[600];
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		assert_int_equal(access(tmp, F_OK), -1); /* renamed, nothing left behind */
		assert_true(hl_matcher_is_serialised(path));
		struct hl_diag diag = {0};
		hl_matcher_t *back = NULL;
		assert_int_equal(hl_matcher_load(path, &back, &diag), 0);
		assert_int_equal(diag.errors + diag.warnings + diag.notes, 0);
		same_indicators(m, back);
		assert_int_equal(hl_matcher_version(back), 0x0102030405060708ull);
		same_matches(m, back);
		assert_int_equal(hl_matcher_memory(back) > 0, 1);
		/* Saving the loaded one gives the same bytes. */
		size_t l1, l2;
		uint8_t *b1 = read_file(path, &l1);
		char *path2 = strdup(tmp_path("rt2.hlx"));
		assert_int_equal(hl_matcher_save(back, path2), 0);
		uint8_t *b2 = read_file(path2, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(b1, b2, l1);
		unlink(path);
		unlink(path2);
		free(path2);
		free(b1);
		free(b2);
		hl_matcher_destroy(&back);
		hl_matcher_destroy(&m);
	}
}

static void missing_and_foreign_files(void **state)
{
	(void)state;
	hl_matcher_t *m = NULL;
	struct hl_diag diag = {0};
	assert_int_equal(hl_matcher_load(tmp_path("absent.hlx"), &m, &diag), HL_ENOTFOUND);
	assert_null(m);
	assert_int_equal(diag.errors, 1);
	assert_false(hl_matcher_is_serialised(tmp_path("absent.hlx")));
	char *path = tmp_path("text.hlx");
	FILE *f = fopen(path, "w");
	fputs("{\"type\":\"domain\",\"value\":\"x.example\"}\n", f);
	fclose(f);
	assert_false(hl_matcher_is_serialised(path));
	assert_int_equal(hl_matcher_load(path, &m, &diag), HL_EFORMAT);
	unlink(path);
	assert_int_equal(hl_matcher_load_buffer("", 0, "empty", &m, &diag), HL_EFORMAT);
	assert_int_equal(hl_matcher_load_buffer("HLX1", 4, "magic only", &m, &diag), HL_EFORMAT);
	assert_null(m);
	assert_int_equal(hl_matcher_save(NULL, path), HL_EINVAL);
	hl_matcher_t *good = make_matcher(false);
	assert_int_equal(hl_matcher_save(good, "/nonexistent-dir/x.hlx"), HL_EIO);
	hl_matcher_destroy(&good);
}

static uint8_t *saved_bytes(bool payload, size_t *len)
{
	hl_matcher_t *m = make_matcher(payload);
	char *path = tmp_path("bytes.hlx");
	assert_int_equal(hl_matcher_save(m, path), 0);
	uint8_t *p = read_file(path, len);
	unlink(path);
	hl_matcher_destroy(&m);
	return p;
}

static uint64_t le(const uint8_t *p, size_t width)
{
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void set_le(uint8_t *p, uint64_t v, size_t width)
{
	for (size_t i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Make a modified file self-consistent again (length, checksum) so that
 * the parser behind the checksum is what gets exercised. */
static void reseal(uint8_t *p, size_t len)
{
	set_le(p + 16, len, 8);
	crypto_generichash(p + len - TRAILER_LEN, TRAILER_LEN, p, len - TRAILER_LEN, NULL, 0);
}

static int load(const uint8_t *p, size_t len, struct hl_diag *diag)
{
	hl_matcher_t *m = NULL;
	int rc = hl_matcher_load_buffer(p, len, "test.hlx", &m, diag);
	if (rc == 0) {
		assert_non_null(m);
		/* Whatever loads must also match without trouble. */
		hl_scratch_t *s = hl_scratch_new(m);
		struct got g = {0};
		hl_match_field(m, s, HL_FIELD_DNS_QUERY, "www.evil.example", 16, 1500, collect, &g);
		hl_match_field(m, s, HL_FIELD_TCP_PAYLOAD, "GET \r\nX-Evil", 12, 1500, collect, &g);
		hl_scratch_destroy(&s);
	} else {
		assert_null(m);
	}
	hl_matcher_destroy(&m);
	return rc;
}

static void truncated_anywhere(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = saved_bytes(true, &len);
	/* Section boundaries, from the layout. */
	size_t bounds[16], nb = 0, at = HEADER_LEN;
	bounds[nb++] = HEADER_LEN;
	for (int s = 0; s < 4; s++) {
		at += 16 + le(p + at + 8, 8);
		bounds[nb++] = at;
	}
	assert_int_equal(at + TRAILER_LEN, len);
	for (size_t b = 0; b < nb; b++) {
		for (size_t d = 0; d < 3 && bounds[b] + d < len; d++) {
			struct hl_diag diag = {0};
			uint8_t *cut = malloc(bounds[b] + d);
			memcpy(cut, p, bounds[b] + d);
			assert_int_equal(load(cut, bounds[b] + d, &diag), HL_EFORMAT);
			assert_int_equal(diag.errors, 1);
			/* Resealed at that length: the sections do not fit. */
			if (bounds[b] + d >= HEADER_LEN + TRAILER_LEN) {
				reseal(cut, bounds[b] + d);
				assert_int_equal(load(cut, bounds[b] + d, NULL), HL_EFORMAT);
			}
			free(cut);
		}
	}
	/* Every prefix, in an exact-size buffer so ASan sees any over-read. */
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n > 0 ? n : 1);
		memcpy(cut, p, n);
		assert_int_equal(load(cut, n, NULL), HL_EFORMAT);
		free(cut);
	}
	free(p);
}

static void byte_flips(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = saved_bytes(true, &len);
	uint8_t *q = malloc(len);
	uint64_t seed = 12345;
	size_t loaded = 0, refused = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(q, p, len);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* Bias towards the header and records, where the parser is. */
		size_t span = round % 2 ? len : (len < 2048 ? len : 2048);
		size_t at = (size_t)(seed >> 33) % span;
		q[at] ^= (uint8_t)(1u << ((seed >> 20) % 8));
		assert_int_equal(load(q, len, NULL), HL_EFORMAT); /* checksum catches it */
		reseal(q, len);
		int rc = load(q, len, NULL);
		assert_true(rc == 0 || rc == HL_EFORMAT);
		if (rc == 0)
			loaded++;
		else
			refused++;
	}
	print_message("resealed flips: %zu loaded, %zu refused\n", loaded, refused);
	assert_true(refused > 0);
	free(q);
	free(p);
}

/* Where the parts of the indicator section (the matcher's store, see
 * docs/formats.md (.hlx)) are in a file. */
struct store_at {
	size_t head, recs, metas, pool, strings;
	uint32_t n_recs, n_metas, n_pool, strings_len;
};

static struct store_at store_at(const uint8_t *p)
{
	struct store_at s;
	s.head = HEADER_LEN + 16;
	s.n_recs = (uint32_t)le(p + s.head, 4);
	s.n_metas = (uint32_t)le(p + s.head + 4, 4);
	s.n_pool = (uint32_t)le(p + s.head + 8, 4);
	s.strings_len = (uint32_t)le(p + s.head + 12, 4);
	s.recs = s.head + 32;
	s.metas = s.head + ((32 + 12 * (size_t)s.n_recs + 7) & ~(size_t)7);
	s.pool = s.metas + 40 * (size_t)s.n_metas;
	s.strings = s.pool + 4 * (size_t)s.n_pool;
	return s;
}

/* Offset of the first occurrence of s in p. */
static size_t find(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(p + i, s, n) == 0)
			return i;
	fail_msg("%s not in the file", s);
	return 0;
}

static void hostile_fields(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = saved_bytes(true, &len);
	uint8_t *q = malloc(len);
	struct store_at st = store_at(p);
	assert_int_equal(st.n_recs, NSPECS);
	/* Confidence differs from indicator to indicator here, so no meta
	 * is shared. */
	assert_int_equal(st.n_metas, NSPECS);
	assert_true(st.n_pool >= 5); /* [1, alpha] [2, c2, botnet] */
	size_t value0 = st.strings + le(p + st.recs, 4);
	size_t m0 = st.metas + 40 * le(p + st.recs + 4, 4); /* meta of record 0 */
	size_t run = st.pool + 4 * le(p + m0 + 16, 4);      /* its sources run */
	struct {
		size_t at, width;
		uint64_t value;
		const char *what;
	} cases[] = {
	        {4, 2, 1, "format version 1"},
	        {4, 2, 3, "format version"},
	        {6, 2, 64, "header length"},
	        {8, 4, 0x80, "flags"},
	        {8, 4, 0, "flags without the databases"},
	        {12, 4, 3, "section count"},
	        {64, 4, 0xffffffff, "indicator count"},
	        {64, 4, 12, "indicator count one too many"},
	        {64, 4, 10, "indicator count one too few"},
	        {68, 4, 0xfffffff0, "allowlist count"},
	        {HEADER_LEN, 4, 2, "section tag"},
	        {HEADER_LEN + 4, 4, 1, "section reserved"},
	        {HEADER_LEN + 8, 8, 0xffffffffffffull, "section length"},
	        {st.head, 4, 0xffffffff, "record count"},
	        {st.head, 4, NSPECS + 1, "record count one too many"},
	        {st.head + 4, 4, st.n_metas + 1, "meta count"},
	        {st.head + 8, 4, st.n_pool - 1, "pool count"},
	        {st.head + 12, 4, st.strings_len + 1, "strings length"},
	        {st.head + 16, 4, 1, "store reserved"},
	        {st.recs, 4, st.strings_len, "value offset"},
	        {st.recs, 4, 0xfffffff0, "value offset far out"},
	        {st.recs + 4, 4, st.n_metas, "meta index"},
	        {st.recs + 8, 4, st.strings_len, "id offset"},
	        {st.recs + 8, 4, st.strings_len - 1, "id offset at the last NUL"},
	        {m0 + 16, 4, st.n_pool, "sources run"},
	        {m0 + 20, 4, 0xfffffff0, "tags run"},
	        {m0 + 24, 4, st.strings_len, "description offset"},
	        {m0 + 28, 4, 101, "confidence"},
	        {m0 + 32, 1, HL_IND_TYPE_COUNT, "type"},
	        {m0 + 32, 1, HL_IND_DOMAIN, "type out of order"},
	        {m0 + 33, 1, HL_TLP_COUNT, "tlp"},
	        {m0 + 34, 1, HL_SEV_COUNT, "severity"},
	        {m0 + 35, 1, 0xf0, "indicator flags"},
	        {m0 + 36, 4, 1, "meta reserved"},
	        {run, 4, 0, "empty list"},
	        {run, 4, 0x40000000, "list count"},
	        {run + 4, 4, st.strings_len, "list string offset"},
	        {value0, 1, 0, "empty value"},
	        {value0 + 2, 1, 0, "NUL in value: an ip that does not parse"},
	        {value0, 1, 'z', "ip that does not parse"},
	        /* "10.0.0.0/8" -> "30.0.0.0/8": still an address, now after
	         * "192.0.2.7" */
	        {value0, 1, '3', "records out of order"},
	        {st.strings + st.strings_len - 1, 1, 'x', "strings not terminated"},
	        {find(p, len, "alpha"), 1, 0, "empty source"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(q, p, len);
		set_le(q + cases[i].at, cases[i].value, cases[i].width);
		reseal(q, len);
		struct hl_diag diag = {0};
		int rc = load(q, len, &diag);
		if (rc != HL_EFORMAT)
			fail_msg("%s: rc %d", cases[i].what, rc);
		assert_int_equal(diag.errors, 1);
	}
	/* Swapped Hyperscan databases (tags kept in order) are refused by
	 * their mode. */
	size_t at = HEADER_LEN;
	at += 16 + le(p + at + 8, 8);
	at += 16 + le(p + at + 8, 8);
	size_t block_len = le(p + at + 8, 8);
	size_t stream_at = at + 16 + block_len;
	size_t stream_len = le(p + stream_at + 8, 8);
	uint8_t *w = malloc(len);
	memcpy(w, p, at);
	size_t o = at;
	set_le(w + o, 3, 4);
	set_le(w + o + 4, 0, 4);
	set_le(w + o + 8, stream_len, 8);
	memcpy(w + o + 16, p + stream_at + 16, stream_len);
	o += 16 + stream_len;
	set_le(w + o, 4, 4);
	set_le(w + o + 4, 0, 4);
	set_le(w + o + 8, block_len, 8);
	memcpy(w + o + 16, p + at + 16, block_len);
	o += 16 + block_len;
	assert_int_equal(o + TRAILER_LEN, len);
	reseal(w, len);
	struct hl_diag diag = {0};
	assert_int_equal(load(w, len, &diag), HL_EFORMAT);
	assert_int_equal(diag.errors, 1);
	free(w);
	free(q);
	free(p);
}

/* A loaded matcher owns everything it needs: the buffer it came from can
 * be overwritten and freed at once. */
static void loaded_matcher_outlives_its_buffer(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = saved_bytes(true, &len);
	hl_matcher_t *orig = make_matcher(true);
	struct hl_diag diag = {0};
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_matcher_load_buffer(p, len, "buffer.hlx", &m, &diag), 0);
	memset(p, 0xa5, len);
	free(p);
	same_indicators(orig, m);
	same_matches(orig, m);
	const struct hl_indicator *ind = hl_matcher_indicator(m, 0);
	assert_string_equal(ind->value, "10.0.0.0/8");
	assert_int_equal(ind->sources.n, 1);
	assert_string_equal(ind->sources.v[0], "alpha");
	assert_int_equal(ind->tags.n, 2);
	assert_string_equal(ind->description, "seen in campaign \"x\"");
	assert_null(hl_matcher_indicator(m, (uint32_t)NSPECS));
	hl_matcher_destroy(&m);
	hl_matcher_destroy(&orig);
}

/* Enough indicators that every large block of a load (file, store,
 * tables, databases) takes the mapped-at-once path, with strings at their
 * caps and many list entries; what comes back is what went in. */
static void large_set_round_trip(void **state)
{
	(void)state;
	enum { N = 6000 };
	hl_iset_t *set = hl_iset_new();
	char v[128], why[256];
	char *big = malloc(HL_INDICATOR_VALUE_MAX + 1);
	memset(big, 'a', HL_INDICATOR_VALUE_MAX);
	big[HL_INDICATOR_VALUE_MAX] = '\0';
	for (int i = 0; i < N; i++) {
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		switch (i % 6) {
		case 0:
			ind.type = HL_IND_IP;
			snprintf(v, sizeof v, "10.%d.%d.0/24", i / 256 % 256, i % 256);
			break;
		case 1:
			ind.type = HL_IND_IP;
			snprintf(v, sizeof v, "2001:db8:%x::%x", i, i + 1);
			break;
		case 2:
			ind.type = HL_IND_DOMAIN;
			snprintf(v, sizeof v, "host%d.example", i);
			break;
		case 3:
			ind.type = HL_IND_URL;
			snprintf(v, sizeof v, "site%d.example/p/%d?q=%d", i, i, i);
			break;
		case 4:
			ind.type = HL_IND_URI;
			snprintf(v, sizeof v, "/gate%d.php", i);
			break;
		default:
			ind.type = i % 60 == 5 ? HL_IND_CONTENT : HL_IND_DOMAIN;
			snprintf(v, sizeof v, "payload-%d-marker", i);
			break;
		}
		ind.value = strdup(v);
		ind.confidence = i % 101;
		char s[64];
		for (int k = 0; k < i % 4; k++) {
			snprintf(s, sizeof s, "source-%d", (i + k) % 17);
			hl_strv_push(&ind.sources, s);
		}
		snprintf(s, sizeof s, "tag-%d", i % 5);
		hl_strv_push(&ind.tags, s);
		if (i % 3 == 0)
			ind.description =
			        strdup(i == 3 ? big : "a description long enough to count");
		if (i == 6)
			ind.id = strdup("an-explicit-id");
		if (hl_indicator_normalise(&ind, why, sizeof why) != 0)
			fail_msg("%s: %s", v, why);
		assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
	}
	free(big);
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_matcher_compile(set, NULL, &m, NULL, NULL), 0);
	hl_iset_destroy(&set);
	assert_int_equal(hl_matcher_count(m), N);
	char *path = tmp_path("large.hlx");
	assert_int_equal(hl_matcher_save(m, path), 0);
	struct hl_diag diag = {0};
	hl_matcher_t *back = NULL;
	assert_int_equal(hl_matcher_load(path, &back, &diag), 0);
	unlink(path);
	assert_int_equal(diag.errors + diag.warnings + diag.notes, 0);
	same_indicators(m, back);
	/* Field by field too, lists included. */
	for (uint32_t i = 0; i < N; i++) {
		const struct hl_indicator *x = hl_matcher_indicator(m, i);
		const struct hl_indicator *y = hl_matcher_indicator(back, i);
		assert_int_equal(x->type, y->type);
		assert_string_equal(x->value, y->value);
		assert_string_equal(x->id, y->id);
		assert_int_equal(x->confidence, y->confidence);
		assert_int_equal(x->sources.n, y->sources.n);
		for (size_t k = 0; k < x->sources.n; k++)
			assert_string_equal(x->sources.v[k], y->sources.v[k]);
		assert_int_equal(x->tags.n, y->tags.n);
		assert_string_equal(x->tags.v[0], y->tags.v[0]);
		assert_int_equal(x->description == NULL, y->description == NULL);
		if (x->description != NULL)
			assert_string_equal(x->description, y->description);
	}
	struct got g = {0};
	assert_int_equal(hl_match_field(back, NULL, HL_FIELD_DNS_QUERY, "www.host2.example", 17, 0,
	                                collect, &g),
	                 1);
	uint8_t a[4] = {10, 0, 12, 99};
	assert_int_equal(hl_match_addr(back, HL_FIELD_DST_IP, 4, a, 0, NULL, NULL), 1);
	hl_scratch_t *s = hl_scratch_new(back);
	static const char payload[] = "xx payload-5-marker yy";
	assert_int_equal(hl_match_field(back, s, HL_FIELD_TCP_PAYLOAD, payload, sizeof payload - 1,
	                                0, NULL, NULL),
	                 1);
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&back);
	hl_matcher_destroy(&m);
}

/* A database from another Hyperscan build is recompiled, not refused. */
static void foreign_hyperscan_database_recompiled(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = saved_bytes(true, &len);
	hl_matcher_t *orig = make_matcher(true);
	size_t at = HEADER_LEN;
	at += 16 + le(p + at + 8, 8);
	at += 16 + le(p + at + 8, 8);
	/* Hyperscan's serialised header: magic, version, length, platform. */
	for (int which = 0; which < 2; which++) {
		uint8_t *q = malloc(len);
		memcpy(q, p, len);
		size_t body = at + 16;
		if (which == 0)
			set_le(q + body + 4, le(q + body + 4, 4) ^ 0x00010000u, 4); /* version */
		else
			set_le(q + body + 12, 0xffffffffffffffffull, 8); /* platform */
		reseal(q, len);
		struct hl_diag diag = {0};
		hl_matcher_t *m = NULL;
		assert_int_equal(hl_matcher_load_buffer(q, len, "foreign.hlx", &m, &diag), 0);
		assert_int_equal(diag.notes, 1);
		assert_int_equal(diag.errors, 0);
		same_indicators(orig, m);
		same_matches(orig, m);
		hl_matcher_destroy(&m);
		free(q);
	}
	hl_matcher_destroy(&orig);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(round_trip),
	        cmocka_unit_test(missing_and_foreign_files),
	        cmocka_unit_test(truncated_anywhere),
	        cmocka_unit_test(byte_flips),
	        cmocka_unit_test(hostile_fields),
	        cmocka_unit_test(foreign_hyperscan_database_recompiled),
	        cmocka_unit_test(loaded_matcher_outlives_its_buffer),
	        cmocka_unit_test(large_set_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
