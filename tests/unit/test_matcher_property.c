/* \summary: property test: the matcher agrees with a naive linear scan
 *
 * A fixed-seed random set of a few thousand mixed indicators (domains with
 * nested subdomains, urls with and without queries, uris, addresses and
 * CIDRs of both families, contents, validity windows) and an allowlist;
 * random observations, about half drawn to hit (subdomains, query strings
 * added, addresses inside CIDRs, payloads carrying a content) and the rest
 * near misses ("x" + label, a changed byte) or noise. For each one the set
 * of reported indicators must equal what the documented semantics give by
 * checking every indicator in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"
#include "hotline/matcher.h"

#define N_DOMAIN 2500
#define N_URL 1000
#define N_URI 500
#define N_IP 1200
#define N_CONTENT 200
#define N_OBS 1500 /* per kind */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: fixed seed, same sequence everywhere */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(uint32_t n)
{
	return rnd() % n;
}

static void label(char *out, size_t cap, const char *alphabet)
{
	size_t n = 2 + below(4), k = strlen(alphabet);
	for (size_t i = 0; i < n && i + 1 < cap; i++)
		out[i] = alphabet[below((uint32_t)k)];
	out[n < cap ? n : cap - 1] = '\0';
}

/* ---- the random set ---- */

struct pool {
	char **v;
	size_t n;
};

static void pool_add(struct pool *p, const char *s)
{
	p->v = realloc(p->v, (p->n + 1) * sizeof *p->v);
	assert_non_null(p->v);
	p->v[p->n++] = strdup(s);
}

static void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static void add(hl_iset_t *set, enum hl_ind_type type, const char *value, bool nocase)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = type;
	ind.value = strdup(value);
	ind.nocase = nocase;
	if (below(5) == 0) {
		ind.valid_from = 1000 + below(4000);
		ind.valid_until = ind.valid_from + 1 + below(3000);
	}
	char why[256];
	if (hl_indicator_normalise(&ind, why, sizeof why) != 0)
		fail_msg("normalise %s: %s", value, why);
	assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
}

static const char *const tlds[] = {"example", "test", "invalid"};

static void make_domain(char *out, size_t cap, const struct pool *existing)
{
	char a[16], b[16];
	label(a, sizeof a, "abcde");
	if (existing->n > 0 && below(3) == 0) {
		snprintf(out, cap, "%s.%s", a, existing->v[below((uint32_t)existing->n)]);
		return;
	}
	label(b, sizeof b, "abcde");
	snprintf(out, cap, "%s.%s.%s", a, b, tlds[below(3)]);
}

static void make_target(char *out, size_t cap)
{
	char seg[16], k[16];
	label(seg, sizeof seg, "pqr");
	label(k, sizeof k, "xy");
	if (below(3) == 0)
		snprintf(out, cap, "/%s?%s=%u", seg, k, below(3));
	else
		snprintf(out, cap, "/%s", seg);
}

static void make_cidr(char *out, size_t cap)
{
	uint8_t a[16] = {0};
	char text[64];
	unsigned plen;
	if (below(4) != 0) {
		static const uint8_t firsts[] = {10, 192, 203};
		a[0] = firsts[below(3)];
		a[1] = (uint8_t)below(4);
		a[2] = (uint8_t)below(4);
		a[3] = (uint8_t)below(256);
		plen = below(2) ? 32 : 8 + below(25);
		for (unsigned bit = plen; bit < 32; bit++)
			a[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
		inet_ntop(AF_INET, a, text, sizeof text);
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[4] = (uint8_t)below(3);
		a[15] = (uint8_t)below(256);
		plen = below(2) ? 128 : 32 + below(97);
		for (unsigned bit = plen; bit < 128; bit++)
			a[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
		inet_ntop(AF_INET6, a, text, sizeof text);
	}
	snprintf(out, cap, "%s/%u", text, plen);
}

struct world {
	hl_iset_t *set;
	hl_allowlist_t *al;
	struct pool domains, urls, uris, cidrs, contents;
};

static void build(struct world *w)
{
	memset(w, 0, sizeof *w);
	w->set = hl_iset_new();
	char buf[512], t[128];
	for (size_t i = 0; i < N_DOMAIN; i++) {
		make_domain(buf, sizeof buf, &w->domains);
		pool_add(&w->domains, buf);
		add(w->set, HL_IND_DOMAIN, buf, false);
	}
	for (size_t i = 0; i < N_URL; i++) {
		make_target(t, sizeof t);
		snprintf(buf, sizeof buf, "%s%s", w->domains.v[below(N_DOMAIN)], t);
		pool_add(&w->urls, buf);
		add(w->set, HL_IND_URL, buf, false);
	}
	for (size_t i = 0; i < N_URI; i++) {
		make_target(buf, sizeof buf);
		pool_add(&w->uris, buf);
		add(w->set, HL_IND_URI, buf, false);
	}
	for (size_t i = 0; i < N_IP; i++) {
		make_cidr(buf, sizeof buf);
		pool_add(&w->cidrs, buf);
		add(w->set, HL_IND_IP, buf, false);
	}
	for (size_t i = 0; i < N_CONTENT; i++) {
		size_t n = 4 + below(4);
		for (size_t k = 0; k < n; k++)
			buf[k] = "abcdefABCDEF"[below(12)];
		buf[n] = '\0';
		pool_add(&w->contents, buf);
		add(w->set, HL_IND_CONTENT, buf, below(2) == 0);
	}
	w->al = hl_allowlist_new();
	char why[128];
	for (size_t i = 0; i < 40; i++) {
		const char *d = w->domains.v[below(N_DOMAIN)];
		assert_int_equal(hl_allowlist_add(w->al, HL_ALLOW_SUFFIX, d, why, sizeof why), 0);
		const char *u = w->urls.v[below(N_URL)];
		assert_int_equal(hl_allowlist_add(w->al, HL_ALLOW_EXACT, u, why, sizeof why), 0);
	}
	assert_int_equal(hl_allowlist_add(w->al, HL_ALLOW_CIDR, "10.1.0.0/16", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(w->al, HL_ALLOW_CIDR, "2001:db8:1::/48", why, sizeof why),
	                 0);
}

static void unbuild(struct world *w)
{
	hl_iset_destroy(&w->set);
	hl_allowlist_destroy(&w->al);
	pool_free(&w->domains);
	pool_free(&w->urls);
	pool_free(&w->uris);
	pool_free(&w->cidrs);
	pool_free(&w->contents);
}

/* ---- the naive reference ---- */

static bool valid_at(const struct hl_indicator *ind, int64_t ts)
{
	return (ind->valid_from == 0 || ts >= ind->valid_from) &&
	       (ind->valid_until == 0 || ts < ind->valid_until);
}

static bool name_hits(const char *value, const char *obs, size_t len)
{
	size_t vn = strlen(value);
	if (vn > len || memcmp(obs + len - vn, value, vn) != 0)
		return false;
	return vn == len || obs[len - vn - 1] == '.';
}

static bool string_hits(const char *value, const char *obs, size_t len)
{
	size_t vn = strlen(value);
	if (vn == len && memcmp(value, obs, len) == 0)
		return true;
	const char *q = memchr(obs, '?', len);
	return q != NULL && strchr(value, '?') == NULL && vn == (size_t)(q - obs) &&
	       memcmp(value, obs, vn) == 0;
}

static bool bytes_hit(const struct hl_indicator *ind, const uint8_t *p, size_t len)
{
	uint8_t *needle = NULL;
	size_t nn = 0;
	assert_int_equal(hl_content_decode(ind->value, &needle, &nn, NULL, 0), 0);
	bool hit = false;
	for (size_t i = 0; i + nn <= len && !hit; i++) {
		hit = ind->nocase ? strncasecmp((const char *)p + i, (const char *)needle, nn) == 0
		                  : memcmp(p + i, needle, nn) == 0;
	}
	free(needle);
	return hit;
}

static bool reference_allowlisted(const hl_allowlist_t *al, enum hl_field f, const char *obs,
                                  size_t len, int family, const uint8_t *addr)
{
	switch (f) {
	case HL_FIELD_DNS_QUERY:
		return hl_allowlist_has_name(al, obs, len);
	case HL_FIELD_HTTP_URL:
	case HL_FIELD_HTTP_URI: {
		const char *q = memchr(obs, '?', len);
		return hl_allowlist_has_string(al, obs, len) ||
		       (q != NULL && hl_allowlist_has_string(al, obs, (size_t)(q - obs)));
	}
	case HL_FIELD_DST_IP:
		return hl_allowlist_has_addr(al, family, addr);
	default:
		return false;
	}
}

static size_t reference(const hl_matcher_t *m, const hl_allowlist_t *al, enum hl_field f,
                        const void *data, size_t len, int family, const uint8_t *addr, int64_t ts,
                        uint32_t *out, bool *suppressed)
{
	size_t n = 0;
	for (uint32_t i = 0; i < hl_matcher_count(m); i++) {
		const struct hl_indicator *ind = hl_matcher_indicator(m, i);
		bool hit = false;
		if (f == HL_FIELD_DNS_QUERY && ind->type == HL_IND_DOMAIN)
			hit = name_hits(ind->value, data, len);
		else if (f == HL_FIELD_HTTP_URL && ind->type == HL_IND_URL)
			hit = string_hits(ind->value, data, len);
		else if (f == HL_FIELD_HTTP_URI && ind->type == HL_IND_URI)
			hit = string_hits(ind->value, data, len);
		else if (f == HL_FIELD_DST_IP && ind->type == HL_IND_IP) {
			struct hl_cidr c;
			assert_int_equal(hl_cidr_parse(ind->value, &c, NULL, 0), 0);
			hit = hl_cidr_contains(&c, family, addr);
		} else if (f == HL_FIELD_UDP_PAYLOAD && ind->type == HL_IND_CONTENT)
			hit = bytes_hit(ind, data, len);
		if (hit && valid_at(ind, ts))
			out[n++] = i;
	}
	*suppressed = n > 0 && reference_allowlisted(al, f, data, len, family, addr);
	return *suppressed ? 0 : n;
}

/* ---- comparing ---- */

struct got {
	size_t n;
	uint32_t idx[256];
};

static int collect(void *ctx, const struct hl_match *match)
{
	struct got *g = ctx;
	assert_true(g->n < 256);
	g->idx[g->n++] = match->indicator;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct tally {
	size_t observations, with_hits, hits, suppressed;
};

static void check(const hl_matcher_t *m, hl_scratch_t *s, const hl_allowlist_t *al, enum hl_field f,
                  const void *data, size_t len, int family, const uint8_t *addr, int64_t ts,
                  struct tally *t)
{
	struct got g = {0};
	int rc = family != 0 ? hl_match_addr(m, f, family, addr, ts, collect, &g)
	                     : hl_match_field(m, s, f, data, len, ts, collect, &g);
	assert_int_equal(rc, (int)g.n);
	uint32_t want[256];
	bool suppressed = false;
	size_t nw = reference(m, al, f, data, len, family, addr, ts, want, &suppressed);

	/* Order: most specific first (longer name, longer prefix). */
	for (size_t i = 1; i < g.n; i++) {
		const struct hl_indicator *a = hl_matcher_indicator(m, g.idx[i - 1]);
		const struct hl_indicator *b = hl_matcher_indicator(m, g.idx[i]);
		if (f == HL_FIELD_DNS_QUERY)
			assert_true(strlen(a->value) > strlen(b->value));
		if (f == HL_FIELD_DST_IP) {
			struct hl_cidr ca, cb;
			hl_cidr_parse(a->value, &ca, NULL, 0);
			hl_cidr_parse(b->value, &cb, NULL, 0);
			assert_true(ca.plen > cb.plen);
		}
	}
	qsort(g.idx, g.n, sizeof g.idx[0], cmp_u32);
	if (g.n != nw || memcmp(g.idx, want, nw * sizeof want[0]) != 0) {
		char obs[600] = "";
		if (family != 0)
			inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, obs, sizeof obs);
		else
			snprintf(obs, sizeof obs, "%.*s", (int)(len < 500 ? len : 500),
			         (const char *)data);
		fail_msg("field %s obs \"%s\" ts %lld: matcher %zu, reference %zu",
		         hl_field_name(f), obs, (long long)ts, g.n, nw);
	}
	t->observations++;
	t->with_hits += nw > 0;
	t->hits += nw;
	t->suppressed += suppressed;
}

static void random_observations(const struct world *w, const hl_matcher_t *m, hl_scratch_t *s,
                                struct tally *t)
{
	char buf[700], l[16];
	for (size_t i = 0; i < N_OBS; i++) {
		int64_t ts = below(8000);
		/* names */
		const char *d = w->domains.v[below(N_DOMAIN)];
		label(l, sizeof l, "abcdex");
		switch (below(4)) {
		case 0:
			snprintf(buf, sizeof buf, "%s", d);
			break;
		case 1:
			snprintf(buf, sizeof buf, "%s.%s", l, d);
			break;
		case 2:
			snprintf(buf, sizeof buf, "x%s", d); /* prefixed label */
			break;
		default:
			snprintf(buf, sizeof buf, "%s.%s", l, tlds[below(3)]);
		}
		check(m, s, w->al, HL_FIELD_DNS_QUERY, buf, strlen(buf), 0, NULL, ts, t);

		/* urls and uris */
		const char *u = w->urls.v[below(N_URL)];
		switch (below(4)) {
		case 0:
			snprintf(buf, sizeof buf, "%s", u);
			break;
		case 1:
			snprintf(buf, sizeof buf, "%s%s", u, strchr(u, '?') ? "&z=1" : "?z=1");
			break;
		case 2:
			snprintf(buf, sizeof buf, "%sx", u);
			break;
		default:
			snprintf(buf, sizeof buf, "%s/p", w->domains.v[below(N_DOMAIN)]);
		}
		check(m, s, w->al, HL_FIELD_HTTP_URL, buf, strlen(buf), 0, NULL, ts, t);
		const char *r = w->uris.v[below(N_URI)];
		if (below(2))
			snprintf(buf, sizeof buf, "%s", r);
		else
			snprintf(buf, sizeof buf, "%s?%s", r, l);
		check(m, s, w->al, HL_FIELD_HTTP_URI, buf, strlen(buf), 0, NULL, ts, t);

		/* addresses: inside a random CIDR, or random nearby */
		struct hl_cidr c;
		assert_int_equal(hl_cidr_parse(w->cidrs.v[below(N_IP)], &c, NULL, 0), 0);
		uint8_t a[16];
		memcpy(a, c.addr, 16);
		unsigned bits = c.family == 4 ? 32 : 128;
		unsigned from = below(2) ? c.plen : (c.plen > 4 ? c.plen - 4 : 0);
		for (unsigned bit = from; bit < bits; bit++)
			if (below(2))
				a[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		check(m, s, w->al, HL_FIELD_DST_IP, NULL, 0, c.family, a, ts, t);

		/* payloads */
		size_t n = 10 + below(40);
		for (size_t k = 0; k < n; k++)
			buf[k] = "abcdefABCDEF "[below(13)];
		if (below(2)) {
			const char *ct = w->contents.v[below(N_CONTENT)];
			size_t at = below((uint32_t)(n - 1));
			size_t cn = strlen(ct);
			memcpy(buf + at, ct, cn);
			if (at + cn > n)
				n = at + cn;
		}
		check(m, s, w->al, HL_FIELD_UDP_PAYLOAD, buf, n, 0, NULL, ts, t);
	}
}

static void matcher_agrees_with_linear_scan(void **state)
{
	(void)state;
	struct world w;
	build(&w);
	struct hl_compile_opts opts = {.now = 0, .allowlist = w.al};
	struct hl_compile_stats st;
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_matcher_compile(w.set, &opts, &m, &st, NULL), 0);
	assert_int_equal(st.compiled, hl_iset_count(w.set));
	assert_int_equal(st.rejected, 0);
	hl_scratch_t *s = hl_scratch_new(m);
	assert_non_null(s);
	struct tally t = {0};
	random_observations(&w, m, s, &t);
	/* The draw must really exercise both outcomes. */
	print_message("%zu observations, %zu with hits, %zu hits, %zu allowlisted\n",
	              t.observations, t.with_hits, t.hits, t.suppressed);
	assert_true(t.suppressed > 10);
	assert_true(t.with_hits > t.observations / 5);
	assert_true(t.with_hits < t.observations * 4 / 5);
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&m);
	unbuild(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(matcher_agrees_with_linear_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
