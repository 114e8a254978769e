/* \summary: rules benchmark: parse, compile, save, load and lookup latency
 *
 * Generates mixed indicator sets with a fixed seed (45% domain, 35% ip/CIDR
 * of which a third IPv6, 10% url, 5% uri, 4% content, 1% regex), builds the
 * hl_iset_t through the library, writes it as native JSON lines and then
 * times each stage on one core:
 *   parse   hl_parse_file of the native file
 *   compile hl_matcher_compile (no expiry, no allowlist)
 *   save    hl_matcher_save; the .hlx size
 *   load    hl_matcher_load
 *   lookups hl_match_field(dns.query) hits and misses, hl_match_addr, each
 *           call timed alone; a baseline loop times an FNV-1a hash of the
 *           same observations the same way, so the clock's own cost shows.
 * Memory: resident set size from /proc/self/statm (second field) sampled
 * just before and after a stage, with the stage's result kept alive; the
 * "before" sample follows malloc_trim(0), so that memory freed by earlier
 * stages and reused by this one counts. Plus hl_matcher_memory().
 *
 * usage: bench_rules [--quick] [--json] [--seed N] [--lookups N] [SIZE...]
 * Default sizes 1000 10000 100000 1000000; --quick: 1000 10000.
 * A program, never a timed test: scripts/bench runs it.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/ipaddr.h"
#include "hotline/iset.h"
#include "hotline/matcher.h"
#include "hotline/parse.h"

#define MAX_SIZES 16
#define NAME_MAX_LEN 256

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	/* xorshift64*: fixed seed -> the same sets on every machine */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

static const char *const words[] = {"login",  "update", "cdn",   "mail",  "secure", "api",
                                    "static", "files",  "track", "pay",   "auth",   "dl",
                                    "img",    "news",   "shop",  "portal"};
#define N_WORDS (sizeof words / sizeof words[0])

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall and CPU seconds of one stage: on a shared machine the CPU time
 * shows what the stage costs, the wall time what a user waits. */
struct span {
	double wall, cpu;
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct span span_start(void)
{
	return (struct span){.wall = now_s(), .cpu = cpu_s()};
}

static struct span span_end(struct span start)
{
	return (struct span){.wall = now_s() - start.wall, .cpu = cpu_s() - start.cpu};
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double rss_mb(void)
{
	malloc_trim(0);
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;
	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* Samples kept for lookups: the generated domains and IPv4 prefixes. */
struct samples {
	char (*names)[NAME_MAX_LEN];
	size_t n_names;
	uint32_t *v4; /* network-order prefix bases (host order ints) */
	uint8_t *v4_plen;
	size_t n_v4;
};

static void make_value(struct rng *r, size_t i, enum hl_ind_type *type, char *v, size_t vlen)
{
	uint32_t pick = rng_below(r, 1000);
	const char *w = words[rng_below(r, N_WORDS)];
	uint32_t x = (uint32_t)rng_next(r);
	if (pick < 450) {
		*type = HL_IND_DOMAIN;
		snprintf(v, vlen, "%s%zx-%08x.example", w, i, x);
	} else if (pick < 800 && rng_below(r, 3) != 0) {
		static const unsigned plens[] = {32, 32, 32, 32, 32, 32, 32, 28, 24, 20};
		unsigned plen = plens[rng_below(r, 10)];
		uint32_t a = x & (plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen));
		*type = HL_IND_IP;
		snprintf(v, vlen, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		         a & 255, plen);
	} else if (pick < 800) {
		uint32_t y = (uint32_t)rng_next(r);
		*type = HL_IND_IP;
		if (rng_below(r, 2))
			snprintf(v, vlen, "2001:db8:%x:%x::/64", x >> 16, x & 0xffff);
		else
			snprintf(v, vlen, "2001:db8:%x:%x::%x:%x", x >> 16, x & 0xffff, y >> 16,
			         (y & 0xffff) | 1);
	} else if (pick < 900) {
		*type = HL_IND_URL;
		if (rng_below(r, 4) == 0)
			snprintf(v, vlen, "%s%zx.example/%s/%08x.php?id=%x", w, i, w, x, x >> 7);
		else
			snprintf(v, vlen, "%s%zx.example/%s/%08x.bin", w, i, w, x);
	} else if (pick < 950) {
		*type = HL_IND_URI;
		snprintf(v, vlen, "/%s/%zx/%08x.php", w, i, x);
	} else if (pick < 990) {
		*type = HL_IND_CONTENT;
		snprintf(v, vlen, "%s-%zx-%08x|0d 0a|", w, i, x);
	} else {
		*type = HL_IND_REGEX;
		snprintf(v, vlen, "%s[0-9]{2,4}-%zx-%08x", w, i, x);
	}
}

static void keep_sample(struct samples *s, const struct hl_indicator *ind)
{
	if (ind->type == HL_IND_DOMAIN) {
		snprintf(s->names[s->n_names++], NAME_MAX_LEN, "%s", ind->value);
		return;
	}
	struct hl_cidr c;
	char why[64];
	if (ind->type == HL_IND_IP && hl_cidr_parse(ind->value, &c, why, sizeof why) == 0 &&
	    c.family == 4) {
		s->v4[s->n_v4] = (uint32_t)c.addr[0] << 24 | (uint32_t)c.addr[1] << 16 |
		                 (uint32_t)c.addr[2] << 8 | c.addr[3];
		s->v4_plen[s->n_v4++] = (uint8_t)c.plen;
	}
}

static hl_iset_t *generate(size_t n, uint64_t seed, struct samples *s)
{
	struct rng r = {.s = seed ? seed : 1};
	hl_iset_t *set = hl_iset_new();
	s->names = calloc(n, sizeof *s->names);
	s->v4 = calloc(n, sizeof *s->v4);
	s->v4_plen = calloc(n, 1);
	s->n_names = s->n_v4 = 0;
	if (set == NULL || s->names == NULL || s->v4 == NULL || s->v4_plen == NULL)
		return NULL;
	char v[512], why[256];
	for (size_t i = 0; i < n; i++) {
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		make_value(&r, i, &ind.type, v, sizeof v);
		ind.value = strdup(v);
		ind.confidence = (int)rng_below(&r, 101);
		ind.tlp = rng_below(&r, 2) ? HL_TLP_AMBER : HL_TLP_GREEN;
		if (ind.value == NULL || hl_strv_push(&ind.sources, "bench") != 0)
			return NULL;
		if (hl_indicator_normalise(&ind, why, sizeof why) != 0) {
			fprintf(stderr, "bench_rules: generated %s '%s' rejected: %s\n",
			        hl_ind_type_name(ind.type), v, why);
			hl_indicator_clear(&ind);
			continue;
		}
		keep_sample(s, &ind);
		if (hl_iset_add(set, &ind, NULL) != 0)
			return NULL;
	}
	return set;
}

static void samples_free(struct samples *s)
{
	free(s->names);
	free(s->v4);
	free(s->v4_plen);
	memset(s, 0, sizeof *s);
}

struct lat {
	double p50, p99;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct lat summarise(uint64_t *ns, size_t n)
{
	struct lat l = {0, 0};
	if (n == 0)
		return l;
	qsort(ns, n, sizeof *ns, cmp_u64);
	l.p50 = (double)ns[n / 2];
	l.p99 = (double)ns[(n * 99) / 100];
	return l;
}

static int count_match(void *ctx, const struct hl_match *m)
{
	(void)m;
	(*(size_t *)ctx)++;
	return 0;
}

static uint64_t fnv1a(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

struct lookups {
	struct lat name_hit, name_miss, addr, base_name, base_addr;
	size_t hits_name, hits_addr; /* sanity: how many observations matched */
};

/* Observations: names are subdomains of generated domains (hits) or fresh
 * names (misses); addresses lie inside generated IPv4 prefixes half the
 * time. Made before timing so the loop times the lookup alone. */
static void measure_lookups(const hl_matcher_t *m, const struct samples *s, size_t n_obs,
                            uint64_t seed, struct lookups *out)
{
	struct rng r = {.s = seed ^ 0x9e3779b97f4a7c15ULL};
	char(*hit)[NAME_MAX_LEN] = calloc(n_obs, NAME_MAX_LEN);
	char(*miss)[NAME_MAX_LEN] = calloc(n_obs, NAME_MAX_LEN);
	uint8_t(*addr)[4] = calloc(n_obs, 4);
	uint64_t *ns = calloc(n_obs, sizeof *ns);
	hl_scratch_t *scratch = hl_scratch_new(m);
	memset(out, 0, sizeof *out);
	if (!hit || !miss || !addr || !ns || !scratch || s->n_names == 0 || s->n_v4 == 0)
		goto done;
	for (size_t i = 0; i < n_obs; i++) {
		snprintf(hit[i], NAME_MAX_LEN, "www.%s",
		         s->names[rng_below(&r, (uint32_t)s->n_names)]);
		snprintf(miss[i], NAME_MAX_LEN, "host%zx.nomatch%08x.example", i,
		         (uint32_t)rng_next(&r));
		uint32_t a = (uint32_t)rng_next(&r);
		if (i % 2 == 0) {
			size_t k = rng_below(&r, (uint32_t)s->n_v4);
			unsigned plen = s->v4_plen[k];
			uint32_t host = plen == 32 ? 0 : a & (0xffffffffu >> plen);
			a = s->v4[k] | host;
		}
		addr[i][0] = (uint8_t)(a >> 24);
		addr[i][1] = (uint8_t)(a >> 16);
		addr[i][2] = (uint8_t)(a >> 8);
		addr[i][3] = (uint8_t)a;
	}
	volatile uint64_t sink = 0;
	size_t count = 0;
	for (size_t i = 0; i < n_obs; i++) {
		size_t len = strlen(hit[i]);
		uint64_t t0 = now_ns();
		sink += fnv1a(hit[i], len);
		ns[i] = now_ns() - t0;
	}
	out->base_name = summarise(ns, n_obs);
	for (size_t i = 0; i < n_obs; i++) {
		size_t len = strlen(hit[i]), before = count;
		uint64_t t0 = now_ns();
		hl_match_field(m, scratch, HL_FIELD_DNS_QUERY, hit[i], len, 0, count_match, &count);
		ns[i] = now_ns() - t0;
		out->hits_name += count > before;
	}
	out->name_hit = summarise(ns, n_obs);
	for (size_t i = 0; i < n_obs; i++) {
		size_t len = strlen(miss[i]);
		uint64_t t0 = now_ns();
		hl_match_field(m, scratch, HL_FIELD_DNS_QUERY, miss[i], len, 0, count_match,
		               &count);
		ns[i] = now_ns() - t0;
	}
	out->name_miss = summarise(ns, n_obs);
	for (size_t i = 0; i < n_obs; i++) {
		uint64_t t0 = now_ns();
		sink += fnv1a(addr[i], 4);
		ns[i] = now_ns() - t0;
	}
	out->base_addr = summarise(ns, n_obs);
	for (size_t i = 0; i < n_obs; i++) {
		size_t before = count;
		uint64_t t0 = now_ns();
		hl_match_addr(m, HL_FIELD_DST_IP, 4, addr[i], 0, count_match, &count);
		ns[i] = now_ns() - t0;
		out->hits_addr += count > before;
	}
	out->addr = summarise(ns, n_obs);
	(void)sink;
done:
	hl_scratch_destroy(&scratch);
	free(hit);
	free(miss);
	free(addr);
	free(ns);
}

struct run {
	size_t size, indicators;
	struct span gen, parse, compile, save, load;
	double native_mb, hlx_mb, matcher_mb;
	double rss_parse_mb, rss_compile_mb, rss_load_mb;
	size_t obs;
	struct lookups lk;
};

static double file_mb(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (double)st.st_size / (1024.0 * 1024.0) : 0;
}

static int bench_one(size_t n, uint64_t seed, size_t n_obs, const char *dir, struct run *out)
{
	char native[512], hlx[512];
	snprintf(native, sizeof native, "%s/bench-%zu.jsonl", dir, n);
	snprintf(hlx, sizeof hlx, "%s/bench-%zu.hlx", dir, n);
	memset(out, 0, sizeof *out);
	out->size = n;
	out->obs = n_obs;
	struct samples s = {0};
	int rc = -1;
	hl_iset_t *gen = NULL, *parsed = NULL;
	hl_matcher_t *m = NULL, *loaded = NULL;

	struct span t = span_start();
	gen = generate(n, seed, &s);
	out->gen = span_end(t);
	if (gen == NULL)
		goto done;
	FILE *f = fopen(native, "w");
	if (f == NULL || hl_write_native(f, gen) != 0 || fclose(f) != 0)
		goto done;
	hl_iset_destroy(&gen);
	out->native_mb = file_mb(native);

	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	po.format = HL_FMT_NATIVE;
	struct hl_diag diag = {0};
	double rss0 = rss_mb();
	parsed = hl_iset_new();
	t = span_start();
	if (parsed == NULL || hl_parse_file(native, &po, parsed, &diag) != 0 || diag.errors)
		goto done;
	out->parse = span_end(t);
	out->rss_parse_mb = rss_mb() - rss0;
	out->indicators = hl_iset_count(parsed);

	struct hl_compile_opts co = {.now = 0, .allowlist = NULL};
	struct hl_compile_stats cs;
	rss0 = rss_mb();
	t = span_start();
	if (hl_matcher_compile(parsed, &co, &m, &cs, &diag) != 0)
		goto done;
	out->compile = span_end(t);
	out->rss_compile_mb = rss_mb() - rss0;
	out->matcher_mb = (double)hl_matcher_memory(m) / (1024.0 * 1024.0);

	t = span_start();
	if (hl_matcher_save(m, hlx) != 0)
		goto done;
	out->save = span_end(t);
	out->hlx_mb = file_mb(hlx);
	hl_matcher_destroy(&m);
	hl_iset_destroy(&parsed);

	rss0 = rss_mb();
	t = span_start();
	if (hl_matcher_load(hlx, &loaded, &diag) != 0)
		goto done;
	out->load = span_end(t);
	out->rss_load_mb = rss_mb() - rss0;

	measure_lookups(loaded, &s, n_obs, seed, &out->lk);
	rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "bench_rules: size %zu failed (%lu diagnostics)\n", n, diag.errors);
	hl_matcher_destroy(&loaded);
	hl_matcher_destroy(&m);
	hl_iset_destroy(&parsed);
	hl_iset_destroy(&gen);
	samples_free(&s);
	unlink(native);
	unlink(hlx);
	return rc;
}

static void print_table(const struct run *runs, size_t n)
{
	printf("seconds as wall/cpu; memory in MB (rss_*: resident set growth of the stage)\n");
	printf("%8s %8s %13s %15s %13s %13s %7s %7s %8s %8s %8s %8s\n", "size", "indicat.",
	       "parse_s", "compile_s", "save_s", "load_s", "json", "hlx", "matcher", "rss_prs",
	       "rss_cmp", "rss_load");
	for (size_t i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		printf("%8zu %8zu %6.3f/%-6.3f %7.3f/%-7.3f %6.3f/%-6.3f %6.3f/%-6.3f %7.1f %7.1f "
		       "%8.1f %8.1f %8.1f %8.1f\n",
		       r->size, r->indicators, r->parse.wall, r->parse.cpu, r->compile.wall,
		       r->compile.cpu, r->save.wall, r->save.cpu, r->load.wall, r->load.cpu,
		       r->native_mb, r->hlx_mb, r->matcher_mb, r->rss_parse_mb, r->rss_compile_mb,
		       r->rss_load_mb);
	}
	printf("\nlookup latency, ns per call (p50 / p99), clock read included; baseline = FNV-1a "
	       "of the same observation\n");
	printf("%9s %13s %13s %13s %13s %13s %9s %9s\n", "size", "name_hit", "name_miss",
	       "base_name", "addr", "base_addr", "x_name", "x_addr");
	for (size_t i = 0; i < n; i++) {
		const struct lookups *l = &runs[i].lk;
		printf("%9zu %6.0f/%-6.0f %6.0f/%-6.0f %6.0f/%-6.0f %6.0f/%-6.0f %6.0f/%-6.0f "
		       "%9.1f "
		       "%9.1f\n",
		       runs[i].size, l->name_hit.p50, l->name_hit.p99, l->name_miss.p50,
		       l->name_miss.p99, l->base_name.p50, l->base_name.p99, l->addr.p50,
		       l->addr.p99, l->base_addr.p50, l->base_addr.p99,
		       l->base_name.p50 > 0 ? l->name_hit.p50 / l->base_name.p50 : 0,
		       l->base_addr.p50 > 0 ? l->addr.p50 / l->base_addr.p50 : 0);
	}
	printf("\nsanity: observations that matched (of %zu per kind): ", runs[0].obs);
	for (size_t i = 0; i < n; i++)
		printf("%s%zu: names %zu, addrs %zu", i ? "; " : "", runs[i].size,
		       runs[i].lk.hits_name, runs[i].lk.hits_addr);
	printf("\n");
}

static void print_lat(const char *name, struct lat l, bool last)
{
	printf("\"%s\": {\"p50_ns\": %.0f, \"p99_ns\": %.0f}%s", name, l.p50, l.p99,
	       last ? "" : ", ");
}

static void print_span(const char *name, struct span sp)
{
	printf("\"%s_s\": %.6f, \"%s_cpu_s\": %.6f, ", name, sp.wall, name, sp.cpu);
}

static void print_json(const struct run *runs, size_t n, uint64_t seed)
{
	printf("{\"benchmark\": \"rules\", \"seed\": %llu, \"runs\": [", (unsigned long long)seed);
	for (size_t i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		printf("%s\n  {\"size\": %zu, \"indicators\": %zu, ", i ? "," : "", r->size,
		       r->indicators);
		print_span("parse", r->parse);
		print_span("compile", r->compile);
		print_span("save", r->save);
		print_span("load", r->load);
		printf("\"native_mb\": %.3f, \"hlx_mb\": %.3f, \"matcher_mb\": %.3f, "
		       "\"rss_parse_mb\": %.3f, \"rss_compile_mb\": %.3f, \"rss_load_mb\": %.3f, "
		       "\"observations\": %zu, \"name_hits\": %zu, \"addr_hits\": %zu, ",
		       r->native_mb, r->hlx_mb, r->matcher_mb, r->rss_parse_mb, r->rss_compile_mb,
		       r->rss_load_mb, r->obs, r->lk.hits_name, r->lk.hits_addr);
		print_lat("name_hit", r->lk.name_hit, false);
		print_lat("name_miss", r->lk.name_miss, false);
		print_lat("baseline_name", r->lk.base_name, false);
		print_lat("addr", r->lk.addr, false);
		print_lat("baseline_addr", r->lk.base_addr, true);
		printf("}");
	}
	printf("\n]}\n");
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_rules [--quick] [--json] [--seed N] [--lookups N] "
	                "[--dir TMPDIR] [SIZE...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES], n_sizes = 0, n_obs = 200000;
	uint64_t seed = 20240301;
	bool json = false, quick = false;
	const char *dir = getenv("TMPDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end = NULL;
		if (strcmp(a, "--quick") == 0) {
			quick = true;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], &end, 10);
		} else if (strcmp(a, "--lookups") == 0 && i + 1 < argc) {
			n_obs = strtoull(argv[++i], &end, 10);
		} else if (strcmp(a, "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (a[0] >= '1' && a[0] <= '9' && n_sizes < MAX_SIZES) {
			sizes[n_sizes++] = strtoull(a, &end, 10);
			if (*end == 'k')
				sizes[n_sizes - 1] *= 1000;
			else if (*end == 'M')
				sizes[n_sizes - 1] *= 1000000;
		} else {
			return usage();
		}
	}
	if (n_sizes == 0) {
		const size_t full[] = {1000, 10000, 100000, 1000000};
		n_sizes = quick ? 2 : 4;
		memcpy(sizes, full, n_sizes * sizeof *sizes);
	}
	if (quick && n_obs > 20000)
		n_obs = 20000;
	if (n_obs == 0)
		return usage();
	struct run runs[MAX_SIZES];
	for (size_t i = 0; i < n_sizes; i++) {
		if (!json)
			fprintf(stderr, "bench_rules: %zu indicators...\n", sizes[i]);
		if (bench_one(sizes[i], seed, n_obs, dir, &runs[i]) != 0)
			return 1;
	}
	if (json)
		print_json(runs, n_sizes, seed);
	else
		print_table(runs, n_sizes);
	return 0;
}
