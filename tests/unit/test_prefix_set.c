/* \summary: unit tests for the IPv4/IPv6 prefix set (rules/prefix_set.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "hotline/err.h"
#include "prefix_set.h"

#define MAX_HITS 4096

struct hits {
	size_t n;
	uint32_t value[MAX_HITS];
	unsigned plen[MAX_HITS];
	size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, uint32_t value, unsigned plen)
{
	struct hits *h = ctx;
	if (h->n < MAX_HITS) {
		h->value[h->n] = value;
		h->plen[h->n] = plen;
	}
	h->n++;
	return h->stop_after != 0 && h->n >= h->stop_after;
}

static void v4(const char *s, uint8_t out[4])
{
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void v6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void add4(hl_prefix_set_t *set, const char *addr, unsigned plen, uint32_t value)
{
	uint8_t a[4];
	v4(addr, a);
	assert_int_equal(hl_prefix_set_add(set, 4, a, plen, value), 0);
}

static void add6(hl_prefix_set_t *set, const char *addr, unsigned plen, uint32_t value)
{
	uint8_t a[16];
	v6(addr, a);
	assert_int_equal(hl_prefix_set_add(set, 6, a, plen, value), 0);
}

static size_t look4(const hl_prefix_set_t *set, const char *addr, struct hits *h)
{
	uint8_t a[4];
	v4(addr, a);
	memset(h, 0, sizeof *h);
	return hl_prefix_set_lookup(set, 4, a, collect, h);
}

static size_t look6(const hl_prefix_set_t *set, const char *addr, struct hits *h)
{
	uint8_t a[16];
	v6(addr, a);
	memset(h, 0, sizeof *h);
	return hl_prefix_set_lookup(set, 6, a, collect, h);
}

static void empty_set_finds_nothing(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	assert_non_null(set);
	struct hits h;
	assert_int_equal(look4(set, "1.2.3.4", &h), 0);
	assert_int_equal(look6(set, "::1", &h), 0);
	uint8_t a[16] = {0};
	assert_false(hl_prefix_set_contains(set, 4, a));
	assert_false(hl_prefix_set_covers(set, 6, a, 0));
	assert_int_equal(hl_prefix_set_count(set), 0);
	assert_true(hl_prefix_set_memory(set) > 0);
	hl_prefix_set_destroy(&set);
	assert_null(set);
	hl_prefix_set_destroy(&set);
	hl_prefix_set_destroy(NULL);
}

static void bad_arguments_are_rejected(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	uint8_t a[16] = {0};
	assert_int_equal(hl_prefix_set_add(set, 5, a, 8, 1), HL_EINVAL);
	assert_int_equal(hl_prefix_set_add(set, 4, a, 33, 1), HL_EINVAL);
	assert_int_equal(hl_prefix_set_add(set, 6, a, 129, 1), HL_EINVAL);
	assert_int_equal(hl_prefix_set_add(NULL, 4, a, 8, 1), HL_EINVAL);
	assert_int_equal(hl_prefix_set_add(set, 4, NULL, 8, 1), HL_EINVAL);
	assert_int_equal(hl_prefix_set_count(set), 0);
	assert_int_equal(hl_prefix_set_lookup(set, 0, a, collect, NULL), 0);
	assert_int_equal(hl_prefix_set_lookup(NULL, 4, a, collect, NULL), 0);
	assert_false(hl_prefix_set_covers(set, 4, a, 33));
	assert_false(hl_prefix_set_contains(NULL, 4, a));
	hl_prefix_set_destroy(&set);
}

static void slash_zero_covers_its_family_only(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add4(set, "0.0.0.0", 0, 7);
	struct hits h;
	assert_int_equal(look4(set, "255.255.255.255", &h), 1);
	assert_int_equal(h.value[0], 7);
	assert_int_equal(h.plen[0], 0);
	assert_int_equal(look4(set, "0.0.0.0", &h), 1);
	assert_int_equal(look6(set, "::", &h), 0);
	assert_int_equal(look6(set, "ffff::1", &h), 0);

	add6(set, "::", 0, 8);
	assert_int_equal(look6(set, "2001:db8::1", &h), 1);
	assert_int_equal(h.value[0], 8);
	assert_int_equal(look4(set, "9.9.9.9", &h), 1);
	assert_int_equal(h.value[0], 7);
	assert_int_equal(hl_prefix_set_count(set), 2);
	hl_prefix_set_destroy(&set);
}

static void full_length_prefixes_match_one_address(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add4(set, "192.0.2.1", 32, 1);
	add6(set, "2001:db8::1", 128, 2);
	struct hits h;
	assert_int_equal(look4(set, "192.0.2.1", &h), 1);
	assert_int_equal(h.value[0], 1);
	assert_int_equal(h.plen[0], 32);
	assert_int_equal(look4(set, "192.0.2.0", &h), 0);
	assert_int_equal(look4(set, "192.0.2.3", &h), 0);
	assert_int_equal(look6(set, "2001:db8::1", &h), 1);
	assert_int_equal(h.value[0], 2);
	assert_int_equal(h.plen[0], 128);
	assert_int_equal(look6(set, "2001:db8::", &h), 0);
	assert_int_equal(look6(set, "2001:db8::3", &h), 0);
	/* Same bytes, other family: the v4 address as the first 4 bytes of v6. */
	uint8_t a[16] = {192, 0, 2, 1};
	assert_false(hl_prefix_set_contains(set, 6, a));
	hl_prefix_set_destroy(&set);
}

static void nested_prefixes_come_longest_first(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	/* Inserted in an order that forces inserts above, below and beside. */
	add4(set, "10.1.2.0", 24, 24);
	add4(set, "10.1.2.3", 32, 32);
	add4(set, "10.0.0.0", 8, 8);
	add4(set, "10.1.0.0", 16, 16);
	add4(set, "10.1.2.128", 25, 25);
	add4(set, "10.2.0.0", 16, 99);
	add4(set, "0.0.0.0", 0, 0);
	struct hits h;
	assert_int_equal(look4(set, "10.1.2.3", &h), 5);
	const uint32_t want[] = {32, 24, 16, 8, 0};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(h.value[i], want[i]);
		assert_int_equal(h.plen[i], want[i]);
	}
	assert_int_equal(look4(set, "10.1.2.200", &h), 5);
	assert_int_equal(h.value[0], 25);
	assert_int_equal(h.value[1], 24);
	assert_int_equal(look4(set, "10.2.3.4", &h), 3);
	assert_int_equal(h.value[0], 99);
	assert_int_equal(h.value[1], 8);
	assert_int_equal(look4(set, "11.0.0.1", &h), 1);
	assert_int_equal(h.value[0], 0);

	/* Stop after two calls: the walk ends there. */
	uint8_t a[4];
	v4("10.1.2.3", a);
	memset(&h, 0, sizeof h);
	h.stop_after = 2;
	assert_int_equal(hl_prefix_set_lookup(set, 4, a, collect, &h), 2);
	assert_int_equal(h.value[1], 24);
	assert_int_equal(hl_prefix_set_count(set), 7);
	hl_prefix_set_destroy(&set);
}

static void nested_v6_prefixes(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add6(set, "2001:db8::", 32, 32);
	add6(set, "2001:db8:1::", 48, 48);
	add6(set, "2001:db8:1::1", 128, 128);
	add6(set, "2001:db8:1::", 127, 127);
	add6(set, "2000::", 3, 3);
	struct hits h;
	assert_int_equal(look6(set, "2001:db8:1::1", &h), 5);
	const uint32_t want[] = {128, 127, 48, 32, 3};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(h.value[i], want[i]);
	assert_int_equal(look6(set, "2001:db8:1::", &h), 4);
	assert_int_equal(h.value[0], 127);
	assert_int_equal(look6(set, "3fff::", &h), 1);
	assert_int_equal(look6(set, "4000::", &h), 0);
	hl_prefix_set_destroy(&set);
}

static void bits_past_the_length_are_ignored(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add4(set, "10.255.255.255", 8, 1);
	add4(set, "10.0.0.0", 8, 2);
	assert_int_equal(hl_prefix_set_count(set), 1);
	struct hits h;
	assert_int_equal(look4(set, "10.0.0.1", &h), 2);
	assert_int_equal(h.value[0], 1);
	assert_int_equal(h.value[1], 2);
	assert_int_equal(h.plen[1], 8);
	hl_prefix_set_destroy(&set);
}

static void many_values_on_one_prefix_keep_order(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add4(set, "198.51.100.0", 24, 5000);
	for (uint32_t v = 0; v < 3000; v++) {
		add4(set, "198.51.100.0", 24, v);
		add4(set, "198.51.100.7", 32, 100000 + v); /* interleaved */
	}
	assert_int_equal(hl_prefix_set_count(set), 2);
	struct hits h;
	assert_int_equal(look4(set, "198.51.100.7", &h), 6001);
	for (uint32_t v = 0; v < 3000; v++)
		assert_int_equal(h.value[v], 100000 + v);
	assert_int_equal(h.value[3000], 5000);
	for (uint32_t v = 0; v < 1000; v++)
		assert_int_equal(h.value[3001 + v], v);
	assert_int_equal(look4(set, "198.51.100.8", &h), 3001);

	/* Stopping inside a list of values. */
	uint8_t a[4];
	v4("198.51.100.7", a);
	memset(&h, 0, sizeof h);
	h.stop_after = 3002;
	assert_int_equal(hl_prefix_set_lookup(set, 4, a, collect, &h), 3002);
	assert_int_equal(h.value[3001], 0);
	hl_prefix_set_destroy(&set);
}

static void covers_needs_a_whole_stored_prefix(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add4(set, "10.0.0.0", 16, 1);
	add4(set, "10.1.0.0", 16, 2); /* makes a value-less branch at /15 */
	add4(set, "192.168.0.0", 16, 3);
	add6(set, "2001:db8::", 32, 4);
	uint8_t a[16];

	v4("10.0.0.0", a);
	assert_false(hl_prefix_set_covers(set, 4, a, 15)); /* branch, not a prefix */
	assert_true(hl_prefix_set_covers(set, 4, a, 16));
	assert_true(hl_prefix_set_covers(set, 4, a, 24));
	assert_true(hl_prefix_set_covers(set, 4, a, 32));
	assert_false(hl_prefix_set_covers(set, 4, a, 8));
	assert_false(hl_prefix_set_covers(set, 4, a, 0));
	v4("10.1.128.0", a);
	assert_true(hl_prefix_set_covers(set, 4, a, 17));
	v4("10.2.0.0", a);
	assert_false(hl_prefix_set_covers(set, 4, a, 16));
	assert_false(hl_prefix_set_covers(set, 4, a, 32));
	v4("192.168.1.1", a);
	assert_true(hl_prefix_set_covers(set, 4, a, 32));
	assert_true(hl_prefix_set_contains(set, 4, a));
	/* Host bits beyond plen are ignored: 192.168.1.1/16 is 192.168/16. */
	assert_true(hl_prefix_set_covers(set, 4, a, 16));
	assert_false(hl_prefix_set_covers(set, 4, a, 12));

	v6("2001:db8:ffff::", a);
	assert_true(hl_prefix_set_covers(set, 6, a, 48));
	assert_true(hl_prefix_set_covers(set, 6, a, 128));
	assert_false(hl_prefix_set_covers(set, 6, a, 31));
	assert_false(hl_prefix_set_covers(set, 4, a, 32));

	add4(set, "0.0.0.0", 0, 9);
	v4("10.2.0.0", a);
	assert_true(hl_prefix_set_covers(set, 4, a, 0));
	assert_true(hl_prefix_set_covers(set, 4, a, 16));
	hl_prefix_set_destroy(&set);
}

static void has_finds_exact_prefixes_only(void **state)
{
	(void)state;
	hl_prefix_set_t *set = hl_prefix_set_new();
	add4(set, "10.0.0.0", 16, 1);
	add4(set, "10.1.0.0", 16, 2); /* value-less branch at /15 */
	add6(set, "2001:db8::", 32, 3);
	uint8_t a[16];
	v4("10.0.0.0", a);
	assert_true(hl_prefix_set_has(set, 4, a, 16));
	assert_false(hl_prefix_set_has(set, 4, a, 15));
	assert_false(hl_prefix_set_has(set, 4, a, 17));
	assert_false(hl_prefix_set_has(set, 4, a, 0));
	assert_false(hl_prefix_set_has(set, 4, a, 33));
	assert_false(hl_prefix_set_has(set, 6, a, 16));
	v4("10.0.255.255", a); /* bits past the length are ignored */
	assert_true(hl_prefix_set_has(set, 4, a, 16));
	v4("10.2.0.0", a);
	assert_false(hl_prefix_set_has(set, 4, a, 16));
	v6("2001:db8::", a);
	assert_true(hl_prefix_set_has(set, 6, a, 32));
	assert_false(hl_prefix_set_has(set, 6, a, 128));
	assert_false(hl_prefix_set_has(NULL, 6, a, 32));
	hl_prefix_set_destroy(&set);
}

/* Deterministic xorshift64* so the property test is the same every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

struct naive_prefix {
	int family;
	uint8_t addr[16];
	unsigned plen;
	uint32_t value;
};

static bool naive_covers(const struct naive_prefix *p, int family, const uint8_t *addr,
                         unsigned plen)
{
	if (p->family != family || p->plen > plen)
		return false;
	/* Whole bytes first, then bit by bit: slow enough to be obviously
	 * right, fast enough for 250M calls under ASan. */
	unsigned bit = 0;
	for (; bit + 8 <= p->plen; bit += 8) {
		if (p->addr[bit / 8] != addr[bit / 8])
			return false;
	}
	for (; bit < p->plen; bit++) {
		unsigned m = 0x80u >> (bit % 8);
		if ((p->addr[bit / 8] & m) != (addr[bit / 8] & m))
			return false;
	}
	return true;
}

#define NBASES 128

/* Random address near one of a few bases, so prefixes nest and collide. */
static void random_addr(uint64_t *s, const uint8_t bases[][16], int family, uint8_t *out)
{
	unsigned width = family == 4 ? 4 : 16;
	memcpy(out, bases[rnd(s) % NBASES], width);
	unsigned keep = (unsigned)(rnd(s) % (width * 8 + 1));
	for (unsigned bit = keep; bit < width * 8; bit++) {
		if (rnd(s) & 1)
			out[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
	}
}

static void random_prefixes_match_a_linear_scan(void **state)
{
	(void)state;
	enum { NPREFIX = 5000, NLOOKUP = 50000 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	uint8_t bases4[NBASES][16], bases6[NBASES][16];
	for (int i = 0; i < NBASES; i++) {
		for (int j = 0; j < 16; j++) {
			bases4[i][j] = (uint8_t)rnd(&seed);
			bases6[i][j] = (uint8_t)rnd(&seed);
		}
	}
	struct naive_prefix *all = calloc(NPREFIX, sizeof *all);
	assert_non_null(all);
	hl_prefix_set_t *set = hl_prefix_set_new();
	for (uint32_t i = 0; i < NPREFIX; i++) {
		struct naive_prefix *p = &all[i];
		p->family = rnd(&seed) % 3 == 0 ? 6 : 4;
		unsigned maxbits = p->family == 4 ? 32 : 128;
		random_addr(&seed, p->family == 4 ? bases4 : bases6, p->family, p->addr);
		/* Mostly /8 and longer, some full lengths, a few short ones
		 * and a handful of /0s: nesting without every lookup hitting
		 * hundreds of near-root prefixes. */
		uint64_t r = rnd(&seed) % 10;
		if (i % 1000 == 999)
			p->plen = 0;
		else if (r == 0)
			p->plen = maxbits;
		else if (r == 1)
			p->plen = 4 + (unsigned)(rnd(&seed) % 13);
		else
			p->plen = 8 + (unsigned)(rnd(&seed) % (maxbits - 7));
		p->value = i;
		assert_int_equal(hl_prefix_set_add(set, p->family, p->addr, p->plen, i), 0);
	}
	/* The scan visits only its family's prefixes, in insertion order. */
	uint32_t *byfam[2], nfam[2] = {0, 0};
	byfam[0] = calloc(NPREFIX, sizeof(uint32_t));
	byfam[1] = calloc(NPREFIX, sizeof(uint32_t));
	assert_non_null(byfam[0]);
	assert_non_null(byfam[1]);
	for (uint32_t i = 0; i < NPREFIX; i++) {
		int f = all[i].family == 6;
		byfam[f][nfam[f]++] = i;
	}

	uint32_t *hit = calloc(NPREFIX, sizeof *hit);
	uint32_t *want = calloc(NPREFIX, sizeof *want);
	unsigned *wantlen = calloc(NPREFIX, sizeof *wantlen);
	struct hits *h = calloc(1, sizeof *h);
	assert_non_null(hit);
	assert_non_null(want);
	assert_non_null(wantlen);
	assert_non_null(h);
	size_t total = 0;
	for (int q = 0; q < NLOOKUP; q++) {
		int family = rnd(&seed) % 3 == 0 ? 6 : 4;
		unsigned maxbits = family == 4 ? 32 : 128;
		uint8_t addr[16] = {0};
		random_addr(&seed, family == 4 ? bases4 : bases6, family, addr);

		/* Expected: covering prefixes, longest first, insertion order
		 * within one length (= one prefix): scan, then a stable
		 * counting sort by length. */
		size_t nhit = 0;
		const uint32_t *list = byfam[family == 6];
		uint32_t nlist = nfam[family == 6];
		for (uint32_t k = 0; k < nlist; k++) {
			uint32_t i = list[k];
			if (all[i].plen >= 8 && all[i].addr[0] != addr[0])
				continue;
			if (naive_covers(&all[i], family, addr, maxbits))
				hit[nhit++] = i;
		}
		size_t n = 0;
		for (int len = (int)maxbits; len >= 0; len--) {
			for (size_t k = 0; k < nhit; k++) {
				if (all[hit[k]].plen == (unsigned)len) {
					want[n] = hit[k];
					wantlen[n++] = (unsigned)len;
				}
			}
		}
		memset(h, 0, sizeof *h);
		size_t calls = hl_prefix_set_lookup(set, family, addr, collect, h);
		assert_int_equal(calls, n);
		assert_int_equal(h->n, n);
		for (size_t i = 0; i < n && i < MAX_HITS; i++) {
			assert_int_equal(h->value[i], want[i]);
			assert_int_equal(h->plen[i], wantlen[i]);
		}
		assert_int_equal(hl_prefix_set_contains(set, family, addr), n > 0);

		/* covers() against the scan, at a random length. */
		unsigned plen = (unsigned)(rnd(&seed) % (maxbits + 1));
		bool expect = false;
		for (uint32_t k = 0; k < nlist && !expect; k++)
			expect = naive_covers(&all[list[k]], family, addr, plen);
		assert_int_equal(hl_prefix_set_covers(set, family, addr, plen), expect);
		total += n;
	}
	/* The data really nests: on average more than one hit, not hundreds. */
	assert_true(total > NLOOKUP);
	assert_true(total < (size_t)NLOOKUP * 40);
	free(h);
	free(byfam[0]);
	free(byfam[1]);
	free(wantlen);
	free(hit);
	free(want);
	free(all);
	hl_prefix_set_destroy(&set);
}

static void memory_stays_compact_for_random_hosts(void **state)
{
	(void)state;
	enum { N = 200000 };
	uint64_t seed = 42;
	hl_prefix_set_t *set = hl_prefix_set_new();
	for (uint32_t i = 0; i < N; i++) {
		uint32_t a = (uint32_t)rnd(&seed);
		uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
		                (uint8_t)a};
		assert_int_equal(hl_prefix_set_add(set, 4, b, 32, i), 0);
	}
	size_t mem = hl_prefix_set_memory(set);
	assert_true(hl_prefix_set_count(set) > N - 100); /* a few random repeats */
	assert_true(mem / N < 100);
	hl_prefix_set_destroy(&set);
}

/* After a reservation, adding that many prefixes does not grow the node
 * arrays (the memory figure stays put), and lookups are as without it. */
static void reserve_sizes_the_arrays_once(void **state)
{
	(void)state;
	enum { N4 = 3000, N6 = 1000 };
	uint64_t seed = 7;
	hl_prefix_set_t *set = hl_prefix_set_new();
	assert_int_equal(hl_prefix_set_reserve(NULL, 1, 1), HL_EINVAL);
	assert_int_equal(hl_prefix_set_reserve(set, 0, 0), 0);
	assert_int_equal(hl_prefix_set_reserve(set, N4, N6), 0);
	size_t mem = hl_prefix_set_memory(set);
	/* Two nodes a prefix at most: 20-byte IPv4 nodes, 32-byte IPv6. */
	assert_true(mem >= (size_t)N4 * 2 * 20 + (size_t)N6 * 2 * 32);
	uint8_t first[4] = {0};
	for (uint32_t i = 0; i < N4 + N6; i++) {
		uint8_t b[16] = {0};
		uint64_t a = rnd(&seed);
		memcpy(b, &a, sizeof a);
		if (i == 0)
			memcpy(first, b, 4);
		if (i < N4)
			assert_int_equal(hl_prefix_set_add(set, 4, b, 24 + (unsigned)(a % 9), i),
			                 0);
		else
			assert_int_equal(hl_prefix_set_add(set, 6, b, 64, i), 0);
	}
	assert_int_equal(hl_prefix_set_memory(set), mem);
	struct hits h = {0};
	assert_true(hl_prefix_set_lookup(set, 4, first, collect, &h) >= 1);
	bool found = false;
	for (size_t i = 0; i < h.n && i < MAX_HITS; i++)
		found = found || h.value[i] == 0;
	assert_true(found);
	hl_prefix_set_destroy(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(empty_set_finds_nothing),
	        cmocka_unit_test(bad_arguments_are_rejected),
	        cmocka_unit_test(slash_zero_covers_its_family_only),
	        cmocka_unit_test(full_length_prefixes_match_one_address),
	        cmocka_unit_test(nested_prefixes_come_longest_first),
	        cmocka_unit_test(nested_v6_prefixes),
	        cmocka_unit_test(bits_past_the_length_are_ignored),
	        cmocka_unit_test(many_values_on_one_prefix_keep_order),
	        cmocka_unit_test(covers_needs_a_whole_stored_prefix),
	        cmocka_unit_test(has_finds_exact_prefixes_only),
	        cmocka_unit_test(random_prefixes_match_a_linear_scan),
	        cmocka_unit_test(memory_stays_compact_for_random_hosts),
	        cmocka_unit_test(reserve_sizes_the_arrays_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
