/* \summary: sensor benchmark baselines: a bare pcap read loop and a Hyperscan scan
 *
 * The two reference points scripts/bench compares hotline-sensor with:
 *   read PCAP          (a) pcap_next_ex over the file, no work: the floor
 *   build-db SET DB    compile every string the indicator set (native JSON
 *                      lines) contains into one Hyperscan block database
 *                      and serialise it to DB (not timed by the harness, as
 *                      the sensor's .hlx is compiled beforehand too)
 *   scan PCAP DB       (b) the read loop plus a minimal, bounds-checked
 *                      Ethernet/802.1Q/IPv4/IPv6/TCP/UDP parse and one
 *                      hs_scan of every non-empty L4 payload, one scratch:
 *                      the irreducible pattern-matching cost
 * "Every string": domain, url and uri values as caseless literals (names are
 * case-insensitive), content values decoded from their |hex| blocks (caseless
 * with nocase), regex values as patterns (HS_FLAG_DOTALL). IP indicators are
 * no strings. All patterns are HS_FLAG_SINGLEMATCH, so a payload reports each
 * pattern at most once. Non-first IPv4 fragments and IPv6 fragments with an
 * offset carry no L4 header and are not scanned.
 *
 *   run OUT -- CMD...  run CMD, wait4() for it and write its wall time, CPU
 *                      time and peak RSS as one JSON line to OUT. The harness
 *                      times every program through this small process rather
 *                      than from Python: Linux carries the parent's resident
 *                      high-water mark over fork and exec into the child's
 *                      ru_maxrss, so a child of a 25 MiB interpreter never
 *                      reports less than 25 MiB. Here the floor is this
 *                      program's own few MiB (see "run /bin/true").
 *
 * The other modes print one JSON line on stdout: counters and the loop's own
 * wall time (the harness measures the whole process from outside).
 */
#include <errno.h>
#include <hs/hs.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATTERN 8192

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The L4 payload of an Ethernet frame, or false when there is none to scan
 * (not IP, not TCP/UDP, a later fragment, or a header cut short). */
static bool l4_payload(const uint8_t *p, size_t n, const uint8_t **pl, size_t *pn)
{
	if (n < 14)
		return false;
	uint16_t et = rd16(p + 12);
	size_t o = 14, end = n;
	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		if (n < o + 4)
			return false;
		et = rd16(p + o + 2);
		o += 4;
	}
	uint8_t proto;
	if (et == 0x0800) {
		if (n < o + 20 || p[o] >> 4 != 4)
			return false;
		size_t ihl = (size_t)(p[o] & 15) * 4, tot = rd16(p + o + 2);
		if (ihl < 20 || tot < ihl || n < o + ihl)
			return false;
		if (rd16(p + o + 6) & 0x1fff)
			return false;
		if (o + tot < end)
			end = o + tot; /* Ethernet padding */
		proto = p[o + 9];
		o += ihl;
	} else if (et == 0x86dd) {
		if (n < o + 40 || p[o] >> 4 != 6)
			return false;
		size_t plen = rd16(p + o + 4);
		uint8_t nh = p[o + 6];
		if (o + 40 + plen < end)
			end = o + 40 + plen;
		o += 40;
		for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 44 || nh == 60); i++) {
			if (end < o + 8)
				return false;
			if (nh == 44 && (rd16(p + o + 2) & 0xfff8))
				return false;
			size_t len = nh == 44 ? 8 : ((size_t)p[o + 1] + 1) * 8;
			nh = p[o];
			o += len;
		}
		if (o > end)
			return false;
		proto = nh;
	} else {
		return false;
	}
	if (proto == 6) {
		if (end < o + 20)
			return false;
		size_t doff = (size_t)(p[o + 12] >> 4) * 4;
		if (doff < 20 || end < o + doff)
			return false;
		o += doff;
	} else if (proto == 17) {
		if (end < o + 8)
			return false;
		o += 8;
	} else {
		return false;
	}
	*pl = p + o;
	*pn = end - o;
	return true;
}

struct counts {
	uint64_t packets, bytes, payloads, payload_bytes, matches;
	double loop_s;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
	(void)id, (void)from, (void)to, (void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* The read loop: db NULL is baseline (a). */
static int run_loop(const char *path, const hs_database_t *db, hs_scratch_t *scratch,
                    struct counts *c)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (p == NULL) {
		fprintf(stderr, "bench_baseline: %s\n", err);
		return -1;
	}
	if (db != NULL && pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "bench_baseline: %s: only Ethernet captures are parsed\n", path);
		pcap_close(p);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	double t0 = now_s();
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		c->packets++;
		c->bytes += h->caplen;
		const uint8_t *pl;
		size_t pn;
		if (db == NULL || !l4_payload(data, h->caplen, &pl, &pn) || pn == 0)
			continue;
		c->payloads++;
		c->payload_bytes += pn;
		if (hs_scan(db, (const char *)pl, (unsigned)pn, 0, scratch, on_match,
		            &c->matches) != HS_SUCCESS) {
			fprintf(stderr, "bench_baseline: hs_scan failed\n");
			pcap_close(p);
			return -1;
		}
	}
	c->loop_s = now_s() - t0;
	if (rc == -1)
		fprintf(stderr, "bench_baseline: %s: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return rc == -1 ? -1 : 0;
}

static void print_counts(const char *mode, const struct counts *c)
{
	json_t *o =
	        json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f}", "mode", mode, "packets",
	                  (json_int_t)c->packets, "bytes", (json_int_t)c->bytes, "payloads",
	                  (json_int_t)c->payloads, "payload_bytes", (json_int_t)c->payload_bytes,
	                  "matches", (json_int_t)c->matches, "loop_s", c->loop_s);
	if (o == NULL)
		return;
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

/* ---- build-db ---- */

struct patterns {
	char **expr;
	unsigned *flags, *ids;
	size_t n, cap;
};

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Bytes as a Hyperscan expression of escapes, so any byte is literal. */
static char *escape(const uint8_t *b, size_t n)
{
	char *e = malloc(n * 4 + 1);
	if (e == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(e + i * 4, 5, "\\x%02x", b[i]);
	e[n * 4] = '\0';
	return e;
}

/* A canonical content value ("text|0d 0a|text") to its bytes. */
static size_t content_bytes(const char *v, uint8_t *out, size_t cap)
{
	size_t n = 0;
	bool hex = false;
	for (const char *s = v; *s; s++) {
		if (*s == '|') {
			hex = !hex;
			continue;
		}
		if (hex && *s == ' ')
			continue;
		if (n >= cap)
			return 0;
		if (hex) {
			int hi = hexval((unsigned char)s[0]),
			    lo = s[1] ? hexval((unsigned char)s[1]) : -1;
			if (hi < 0 || lo < 0)
				return 0;
			out[n++] = (uint8_t)(hi << 4 | lo);
			s++;
		} else {
			out[n++] = (uint8_t)*s;
		}
	}
	return hex ? 0 : n;
}

static int add_pattern(struct patterns *ps, char *expr, unsigned flags)
{
	if (expr == NULL)
		return -1;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 1024;
		char **e = realloc(ps->expr, cap * sizeof *e);
		if (e != NULL)
			ps->expr = e;
		unsigned *f = realloc(ps->flags, cap * sizeof *f);
		if (f != NULL)
			ps->flags = f;
		unsigned *id = realloc(ps->ids, cap * sizeof *id);
		if (id != NULL)
			ps->ids = id;
		if (e == NULL || f == NULL || id == NULL) {
			free(expr);
			return -1;
		}
		ps->cap = cap;
	}
	ps->expr[ps->n] = expr;
	ps->flags[ps->n] = flags;
	ps->ids[ps->n] = (unsigned)ps->n;
	ps->n++;
	return 0;
}

static int read_set(const char *path, struct patterns *ps)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "bench_baseline: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = 0;
	static uint8_t bytes[MAX_PATTERN];
	while (rc == 0 && getline(&line, &cap, f) != -1) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#')
			continue;
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *value = json_string_value(json_object_get(o, "value"));
		unsigned flags = HS_FLAG_SINGLEMATCH;
		if (json_is_true(json_object_get(o, "nocase")))
			flags |= HS_FLAG_CASELESS;
		if (type == NULL || value == NULL) {
			fprintf(stderr, "bench_baseline: %s:%zu: no type or value\n", path, lineno);
			rc = -1;
		} else if (!strcmp(type, "domain") || !strcmp(type, "url") ||
		           !strcmp(type, "uri")) {
			rc = add_pattern(ps, escape((const uint8_t *)value, strlen(value)),
			                 flags | HS_FLAG_CASELESS);
		} else if (!strcmp(type, "content")) {
			size_t n = content_bytes(value, bytes, sizeof bytes);
			if (n == 0) {
				fprintf(stderr, "bench_baseline: %s:%zu: bad content\n", path,
				        lineno);
				rc = -1;
			} else {
				rc = add_pattern(ps, escape(bytes, n), flags);
			}
		} else if (!strcmp(type, "regex")) {
			rc = add_pattern(ps, strdup(value), flags | HS_FLAG_DOTALL);
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	return rc;
}

static int build_db(const char *set, const char *out)
{
	struct patterns ps = {0};
	int rc = -1;
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	char *bytes = NULL;
	size_t len = 0;
	FILE *f = NULL;
	double t0 = now_s();
	if (read_set(set, &ps) != 0)
		goto done;
	if (ps.n == 0) {
		fprintf(stderr, "bench_baseline: %s: no strings to match\n", set);
		goto done;
	}
	if (hs_compile_multi((const char *const *)ps.expr, ps.flags, ps.ids, (unsigned)ps.n,
	                     HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		fprintf(stderr, "bench_baseline: pattern %d: %s\n", cerr ? cerr->expression : -1,
		        cerr ? cerr->message : "?");
		goto done;
	}
	double compile_s = now_s() - t0;
	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		goto done;
	f = fopen(out, "wb");
	if (f == NULL || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) {
		f = NULL;
		fprintf(stderr, "bench_baseline: writing %s failed\n", out);
		goto done;
	}
	f = NULL;
	size_t mem = 0;
	hs_database_size(db, &mem);
	json_t *o = json_pack("{s:s,s:I,s:f,s:I,s:I}", "mode", "build-db", "patterns",
	                      (json_int_t)ps.n, "compile_s", compile_s, "db_bytes", (json_int_t)mem,
	                      "serialised_bytes", (json_int_t)len);
	if (o != NULL) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	}
	rc = 0;
done:
	if (f != NULL)
		fclose(f);
	free(bytes);
	hs_free_compile_error(cerr);
	hs_free_database(db);
	for (size_t i = 0; i < ps.n; i++)
		free(ps.expr[i]);
	free(ps.expr);
	free(ps.flags);
	free(ps.ids);
	return rc;
}

static hs_database_t *load_db(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (f == NULL || fstat(fileno(f), &st) != 0 || st.st_size <= 0) {
		fprintf(stderr, "bench_baseline: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	char *bytes = malloc((size_t)st.st_size);
	hs_database_t *db = NULL;
	if (bytes != NULL && fread(bytes, 1, (size_t)st.st_size, f) == (size_t)st.st_size &&
	    hs_deserialize_database(bytes, (size_t)st.st_size, &db) != HS_SUCCESS) {
		db = NULL;
		fprintf(stderr, "bench_baseline: %s: not a Hyperscan database\n", path);
	}
	free(bytes);
	fclose(f);
	return db;
}

/* ---- run ---- */

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int run_child(const char *out, char **argv)
{
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_baseline: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "bench_baseline: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	pid_t got;
	while ((got = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	double wall = now_s() - t0;
	if (got != pid) {
		fprintf(stderr, "bench_baseline: wait4: %s\n", strerror(errno));
		return 1;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	json_t *o = json_pack("{s:f,s:f,s:f,s:I,s:i}", "wall_s", wall, "user_s", tv_s(ru.ru_utime),
	                      "sys_s", tv_s(ru.ru_stime), "maxrss_kib", (json_int_t)ru.ru_maxrss,
	                      "status", code);
	FILE *f = fopen(out, "w");
	int rc = o != NULL && f != NULL && json_dumpf(o, f, JSON_COMPACT) == 0 ? 0 : 1;
	if (f != NULL && fclose(f) != 0)
		rc = 1;
	json_decref(o);
	if (rc != 0)
		fprintf(stderr, "bench_baseline: writing %s failed\n", out);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_baseline read PCAP\n"
	                "       bench_baseline build-db SET.jsonl OUT.db\n"
	                "       bench_baseline scan PCAP DB\n"
	                "       bench_baseline run OUT.json -- CMD [ARG...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct counts c = {0};
	if (argc >= 5 && strcmp(argv[1], "run") == 0 && strcmp(argv[3], "--") == 0)
		return run_child(argv[2], argv + 4);
	if (argc == 3 && strcmp(argv[1], "read") == 0) {
		if (run_loop(argv[2], NULL, NULL, &c) != 0)
			return 1;
		print_counts("read", &c);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "build-db") == 0)
		return build_db(argv[2], argv[3]) == 0 ? 0 : 1;
	if (argc == 4 && strcmp(argv[1], "scan") == 0) {
		hs_database_t *db = load_db(argv[3]);
		hs_scratch_t *scratch = NULL;
		if (db == NULL || hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
			hs_free_database(db);
			return 1;
		}
		int rc = run_loop(argv[2], db, scratch, &c);
		if (rc == 0)
			print_counts("scan", &c);
		hs_free_scratch(scratch);
		hs_free_database(db);
		return rc == 0 ? 0 : 1;
	}
	return usage();
}
