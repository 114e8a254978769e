/* \summary: build and lookup cost of the prefix set and the name table
 *
 * Usage: bench_tables [N]   (default 1000000)
 * Builds N random IPv4 /32s, N random IPv6 /64s and N ~20-byte domain
 * names, then times lookups (hits and misses) and reports bytes per entry.
 * Deterministic inputs (fixed seed); times are wall clock.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "name_table.h"
#include "prefix_set.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_one(void *ctx, uint32_t value, unsigned plen)
{
	(void)value;
	(void)plen;
	++*(size_t *)ctx;
	return 0;
}

static int count_name(void *ctx, uint32_t value)
{
	(void)value;
	++*(size_t *)ctx;
	return 0;
}

static int bench_prefixes(size_t n, int family, unsigned plen)
{
	unsigned width = family == 4 ? 4 : 16;
	hl_prefix_set_t *set = hl_prefix_set_new();
	uint8_t *addrs = malloc(n * width);
	if (set == NULL || addrs == NULL)
		return 1;
	uint64_t seed = 7;
	for (size_t i = 0; i < n * width; i++)
		addrs[i] = (uint8_t)rnd(&seed);
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		if (hl_prefix_set_add(set, family, addrs + i * width, plen, (uint32_t)i) != 0)
			return 1;
	}
	double t1 = now();
	size_t hits = 0;
	for (size_t i = 0; i < n; i++)
		hl_prefix_set_lookup(set, family, addrs + i * width, count_one, &hits);
	double t2 = now();
	size_t misses = 0;
	uint8_t probe[16];
	for (size_t i = 0; i < n; i++) {
		for (unsigned j = 0; j < width; j++)
			probe[j] = (uint8_t)rnd(&seed);
		misses += hl_prefix_set_contains(set, family, probe);
	}
	double t3 = now();
	size_t mem = hl_prefix_set_memory(set);
	printf("prefix_set v%d /%u: %zu prefixes, build %.0f ns/add, lookup hit %.0f ns, "
	       "random %.0f ns, %zu bytes (%.1f B/prefix), %zu hits\n",
	       family, plen, hl_prefix_set_count(set), (t1 - t0) / (double)n * 1e9,
	       (t2 - t1) / (double)n * 1e9, (t3 - t2) / (double)n * 1e9, mem,
	       (double)mem / (double)n, hits);
	(void)misses;
	free(addrs);
	hl_prefix_set_destroy(&set);
	return 0;
}

static int bench_names(size_t n)
{
	hl_name_table_t *t = hl_name_table_new();
	char *names = malloc(n * 24);
	size_t *lens = malloc(n * sizeof *lens);
	if (t == NULL || names == NULL || lens == NULL)
		return 1;
	uint64_t seed = 11;
	static const char *const tlds[] = {"com", "net", "org", "example", "io"};
	for (size_t i = 0; i < n; i++) {
		char *p = names + i * 24;
		unsigned label = 8 + (unsigned)(rnd(&seed) % 6);
		for (unsigned j = 0; j < label; j++)
			p[j] = (char)('a' + rnd(&seed) % 26);
		int w = snprintf(p + label, 24 - label, ".%s", tlds[rnd(&seed) % 5]);
		lens[i] = label + (size_t)w;
	}
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		if (hl_name_table_add(t, names + i * 24, lens[i], (uint32_t)i) != 0)
			return 1;
	}
	double t1 = now();
	size_t found = 0;
	const uint32_t *v;
	for (size_t i = 0; i < n; i++)
		found += hl_name_table_get(t, names + i * 24, lens[i], &v);
	double t2 = now();
	size_t walked = 0;
	char q[64];
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(q, sizeof q, "www.cdn.%.*s", (int)lens[i], names + i * 24);
		hl_name_table_suffix_walk(t, q, (size_t)w, count_name, &walked);
	}
	double t3 = now();
	size_t mem = hl_name_table_memory(t);
	printf("name_table: %zu keys, build %.0f ns/add, get %.0f ns, suffix walk (4 labels) "
	       "%.0f ns, %zu bytes (%.1f B/key), %zu found, %zu walked\n",
	       hl_name_table_count(t), (t1 - t0) / (double)n * 1e9, (t2 - t1) / (double)n * 1e9,
	       (t3 - t2) / (double)n * 1e9, mem, (double)mem / (double)n, found, walked);
	free(lens);
	free(names);
	hl_name_table_destroy(&t);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	if (n == 0)
		return 2;
	return bench_prefixes(n, 4, 32) || bench_prefixes(n, 6, 64) || bench_prefixes(n, 6, 128) ||
	       bench_names(n);
}
