/* \summary: floods against the real hotline-sensor: the caps hold, are counted, and memory
 * does not grow with the flood
 *
 * Each case generates its pcap at test time (fixed seed, nothing stored)
 * and streams it through a FIFO into a hotline-sensor child running one
 * worker with a small --max-flows. The final stats line (--stats-json) must
 * show the counters the flood implies, exactly where the outcome is
 * deterministic, and the child's peak RSS (wait4) must stay under a bound
 * derived from the caps. Each flood case runs twice, the second time with
 * ten times the packets: the peak RSS must not grow with the flood size,
 * which is the real claim (docs/operations.md, "Memory").
 *
 * Sizes shrink tenfold under AddressSanitizer (or with HOTLINE_FLOOD_SCALE=10
 * in the environment), where the child is slower; its quarantine of freed
 * blocks is cut to 4 MiB so that its RSS follows live memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#define SET HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/indicators.jsonl"
#define DEADLINE_MS 120000
#define MAX_FLOWS 1000
/* Defaults of the bounds that have no option yet (sensor/packet.h,
 * sensor/tcp_reorder.h); the test fails if they change without it. */
#define FRAG_MAX_REASSEMBLIES 4096
#define FRAG_MAX_MEM (32u * 1024 * 1024)
#define REORDER_MAX_DIR 65536u
#define REORDER_MAX_TOTAL (32u * 1024 * 1024)
#define SEG_OVERHEAD 48u
#define EVIDENCE_MEMORY 262144u

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

extern char **environ;

static char workdir[256];
static unsigned scale = 1; /* divisor of the flood sizes */
static long base_rss_kb;   /* the sensor on a one-packet capture */

/* ---- pcap generation */

struct gen {
	FILE *f;
	int64_t ts; /* packet time, us: one per packet, so nothing times out */
	uint64_t rng;
	uint64_t packets;
	uint8_t buf[2048];
};

static uint32_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (uint32_t)(g->rng >> 11);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void pcap_header(struct gen *g)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {0xa1b2c3d4u, 2, 4, 0, 0, 65535, 1};
	assert_int_equal(fwrite(&h, sizeof h, 1, g->f), 1);
}

static void emit(struct gen *g, size_t len)
{
	uint32_t rec[4] = {(uint32_t)(g->ts / 1000000), (uint32_t)(g->ts % 1000000), (uint32_t)len,
	                   (uint32_t)len};
	assert_int_equal(fwrite(rec, sizeof rec, 1, g->f), 1);
	assert_int_equal(fwrite(g->buf, 1, len, g->f), len);
	g->ts++;
	g->packets++;
}

/* Digits only: no indicator of the set can match them. */
static void fill(struct gen *g, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)('0' + rnd(g) % 10);
}

static uint8_t *eth(struct gen *g, uint32_t type)
{
	static const uint8_t macs[12] = {0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1};
	memcpy(g->buf, macs, sizeof macs);
	put16(g->buf + 12, type);
	return g->buf + 14;
}

static uint16_t ip_sum(const uint8_t *h)
{
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 header for flow/host number n; frag: offset in bytes | 0x10000 for MF. */
static uint8_t *ipv4(struct gen *g, uint32_t n, uint8_t proto, uint32_t id, uint32_t frag,
                     uint32_t payload)
{
	uint8_t *h = eth(g, 0x0800);
	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, 20 + payload);
	put16(h + 4, id);
	put16(h + 6, (frag & 0x10000 ? 0x2000 : 0) | ((frag & 0xffff) >> 3));
	h[8] = 64;
	h[9] = proto;
	uint8_t src[4] = {10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	uint8_t dst[4] = {172, 16, 0, 1};
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	put16(h + 10, ip_sum(h));
	return h + 20;
}

static uint8_t *tcp(uint8_t *p, uint32_t n, uint32_t seq, uint8_t flags)
{
	memset(p, 0, 20);
	put16(p, 1024 + n % 60000);
	put16(p + 2, 8080);
	put32(p + 4, seq);
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	return p + 20;
}

#define TH_SYN 0x02
#define TH_ACK 0x10
#define TH_PSH 0x08

/* A TCP segment of flow n. */
static void tcp_seg(struct gen *g, uint32_t n, uint32_t seq, uint8_t flags, uint32_t len)
{
	uint8_t *p = tcp(ipv4(g, n, 6, n, 0, 20 + len), n, seq, flags);
	fill(g, p, len);
	emit(g, 14 + 20 + 20 + len);
}

static void udp_dgram(struct gen *g, uint32_t n, uint32_t len)
{
	uint8_t *p = ipv4(g, n, 17, n, 0, 8 + len);
	put16(p, 1024 + n % 60000);
	put16(p + 2, 5000);
	put16(p + 4, 8 + len);
	put16(p + 6, 0);
	fill(g, p + 8, len);
	emit(g, 14 + 20 + 8 + len);
}

static void ipv4_frag(struct gen *g, uint32_t n, uint32_t id, uint32_t offset, bool more,
                      uint32_t len)
{
	uint8_t *p = ipv4(g, n, 17, id, offset | (more ? 0x10000u : 0), len);
	fill(g, p, len);
	emit(g, 14 + 20 + len);
}

static void ipv6_frag(struct gen *g, uint32_t n, uint32_t id, uint32_t offset, bool more,
                      uint32_t len)
{
	uint8_t *h = eth(g, 0x86dd);
	memset(h, 0, 40);
	h[0] = 0x60;
	put16(h + 4, 8 + len);
	h[6] = 44; /* fragment header */
	h[7] = 64;
	h[8] = 0xfd;
	put32(h + 20, n);
	h[24] = 0xfd;
	h[39] = 1;
	uint8_t *f = h + 40;
	f[0] = 17;
	f[1] = 0;
	put16(f + 2, (offset & ~7u) | (more ? 1u : 0));
	put32(f + 4, id);
	fill(g, f + 8, len);
	emit(g, 14 + 40 + 8 + len);
}

/* ---- running the sensor */

struct result {
	json_t *stats; /* the final stats line */
	long rss_kb;   /* peak RSS of the child */
	double seconds;
	uint64_t packets;
};

typedef void (*gen_fn)(struct gen *g, uint32_t n);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool reap(pid_t pid, bool block, int *status, struct rusage *ru)
{
	pid_t r;
	do
		r = wait4(pid, status, block ? 0 : WNOHANG, ru);
	while (r < 0 && errno == EINTR);
	assert_true(r >= 0);
	return r == pid;
}

static json_t *final_stats(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[8192];
	json_t *found = NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] != '{')
			continue;
		json_t *o = json_loads(line, 0, NULL);
		if (o != NULL && json_is_true(json_object_get(o, "final"))) {
			json_decref(found);
			found = o;
		} else {
			json_decref(o);
		}
	}
	fclose(f);
	if (found == NULL) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "cat '%s' >&2", path);
		(void)system(cmd);
	}
	assert_non_null(found);
	return found;
}

/* Run the sensor on the capture fn(n) writes, with extra options. */
static void run_flood(const char *tag, gen_fn fn, uint32_t n, const char *const *extra,
                      struct result *res)
{
	char fifo[300], err[300];
	snprintf(fifo, sizeof fifo, "%s/%s.pcap", workdir, tag);
	snprintf(err, sizeof err, "%s/%s.err", workdir, tag);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	char max_flows[16];
	snprintf(max_flows, sizeof max_flows, "%d", MAX_FLOWS);
	const char *argv[32] = {HOTLINE_SENSOR_BIN,
	                        "-r",
	                        fifo,
	                        "-R",
	                        SET,
	                        "-w",
	                        "1",
	                        "--max-flows",
	                        max_flows,
	                        "--stats-json",
	                        "--sensor-name",
	                        "flood",
	                        "-o",
	                        "/dev/null"};
	size_t k = 14;
	for (; extra != NULL && *extra != NULL && k < 31; extra++)
		argv[k++] = *extra;
	argv[k] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	double start = now_s();
	assert_int_equal(
	        posix_spawn(&pid, HOTLINE_SENSOR_BIN, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);

	/* The reader opens the FIFO once it has loaded its indicators. */
	int status = 0;
	struct rusage ru;
	int fd;
	while ((fd = open(fifo, O_WRONLY | O_NONBLOCK)) < 0) {
		assert_int_equal(errno, ENXIO);
		if (reap(pid, false, &status, &ru))
			fail_msg("%s: the sensor exited (status %d) before reading", tag, status);
		if (now_s() - start > DEADLINE_MS / 1000.0) {
			kill(pid, SIGKILL);
			reap(pid, true, &status, &ru);
			fail_msg("%s: the sensor did not open its input", tag);
		}
		poll(NULL, 0, 5);
	}
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	struct gen *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->f = fdopen(fd, "wb");
	assert_non_null(g->f);
	setvbuf(g->f, NULL, _IOFBF, 1 << 20);
	g->ts = (int64_t)1700000000 * 1000000;
	g->rng = 0x9e3779b97f4a7c15ull;
	pcap_header(g);
	fn(g, n);
	assert_int_equal(fclose(g->f), 0);
	res->packets = g->packets;
	free(g);

	reap(pid, true, &status, &ru);
	res->seconds = now_s() - start;
	unlink(fifo);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "tail -5 '%s' >&2", err);
		(void)system(cmd);
		fail_msg("%s: the sensor ended with status 0x%x", tag, status);
	}
	res->rss_kb = ru.ru_maxrss;
	res->stats = final_stats(err);
	assert_int_equal(json_integer_value(json_object_get(res->stats, "packets")),
	                 (json_int_t)res->packets);
	if (getenv("HOTLINE_FLOOD_VERBOSE") != NULL) {
		char *line = json_dumps(res->stats, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	fprintf(stderr, "flood %-14s %8u units %9llu packets  peak RSS %7ld KiB  %.2f s\n", tag, n,
	        (unsigned long long)res->packets, res->rss_kb, res->seconds);
}

static json_int_t counter(const struct result *r, const char *group, const char *name)
{
	json_t *o = json_object_get(r->stats, group);
	json_t *v = json_object_get(o, name);
	if (!json_is_integer(v))
		fail_msg("stats has no %s.%s", group, name);
	return json_integer_value(v);
}

/* The flood's peak RSS may exceed the idle sensor's by what the caps let
 * it hold (cap_kb) plus the reader's ring and allocator slack; and ten
 * times the flood may not add more than slack. */
static void assert_rss_flat(const struct result *small, const struct result *big, long cap_kb)
{
	const long ring_kb = 8 * 1024, slack_kb = UNDER_ASAN ? 16 * 1024 : 2 * 1024;
	long bound = base_rss_kb + ring_kb + cap_kb + slack_kb;
	if (UNDER_ASAN)
		bound += cap_kb; /* redzones and quarantine */
	if (small->rss_kb > bound || big->rss_kb > bound)
		fail_msg("peak RSS %ld / %ld KiB over the bound %ld KiB (idle %ld, caps %ld)",
		         small->rss_kb, big->rss_kb, bound, base_rss_kb, cap_kb);
	if (big->rss_kb > small->rss_kb + slack_kb)
		fail_msg("peak RSS grew with the flood: %ld KiB -> %ld KiB at 10x", small->rss_kb,
		         big->rss_kb);
}

static void free_result(struct result *r)
{
	json_decref(r->stats);
	r->stats = NULL;
}

/* ---- the floods */

static void one_packet(struct gen *g, uint32_t n)
{
	(void)n;
	udp_dgram(g, 1, 16);
}

/* Large enough that the smaller flood already cycles through the whole
 * reader ring (8 MiB), whose pages count in the peak RSS. */
#define FLOW_DATA 100

/* n new flows, one packet each: TCP SYNs carrying data (a payload stream
 * opens) and UDP datagrams, alternately. */
static void flow_flood(struct gen *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i % 2 == 0)
			tcp_seg(g, i, 1000, TH_SYN, FLOW_DATA);
		else
			udp_dgram(g, i, FLOW_DATA);
	}
}

/* Per group: an IPv4 first fragment and a conflicting overlap of it, an
 * IPv6 first fragment; every 4th group also an IPv4 fragment at the
 * highest offset that fits (its buffer is 64 KiB: the byte cap's test) and
 * one past the 65535-byte limit. Nothing ever completes. */
static void frag_flood(struct gen *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		ipv4_frag(g, i, i & 0xffff, 0, true, 64);
		ipv4_frag(g, i, i & 0xffff, 32, true, 64);
		ipv6_frag(g, i, i, 0, true, 64);
		if (i % 4 == 0) {
			ipv4_frag(g, i, (i & 0xffff) ^ 0x8000, 64992, false, 16);
			ipv4_frag(g, i, (i & 0xffff) ^ 0x4000, 65528, true, 16);
		}
	}
}

#define OOO_SEGS 4
#define OOO_LEN 200
#define OOO_HOLE 200

/* n flows, each a SYN and OOO_SEGS segments each after a hole that is
 * never filled. */
static void reorder_flood(struct gen *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t isn = rnd(g);
		tcp_seg(g, i, isn, TH_SYN, 0);
		for (uint32_t k = 0; k < OOO_SEGS; k++)
			tcp_seg(g, i, isn + 1 + k * (OOO_HOLE + OOO_LEN) + OOO_HOLE,
			        TH_ACK | TH_PSH, OOO_LEN);
	}
}

#define DIR_FLOWS 40
#define DIR_SEGS 80
#define DIR_LEN 1000

/* DIR_FLOWS flows of DIR_SEGS segments, each after an 8-byte hole: more
 * than one direction may hold. */
static void reorder_dir_cap(struct gen *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		tcp_seg(g, i, 0, TH_SYN, 0);
		for (uint32_t k = 0; k < DIR_SEGS; k++)
			tcp_seg(g, i, 1 + k * (DIR_LEN + 8) + 8, TH_ACK, DIR_LEN);
	}
}

#define TOTAL_FLOWS 600
#define TOTAL_SEGS 60

/* More flows holding just under the per-direction cap than the worker's
 * total allows. */
static void reorder_total_cap(struct gen *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		tcp_seg(g, i, 0, TH_SYN, 0);
		for (uint32_t k = 0; k < TOTAL_SEGS; k++)
			tcp_seg(g, i, 1 + k * (DIR_LEN + 8) + 8, TH_ACK, DIR_LEN);
	}
}

/* ---- tests */

static int setup(void **state)
{
	(void)state;
	const char *s = getenv("HOTLINE_FLOOD_SCALE");
	scale = UNDER_ASAN ? 10 : 1;
	if (s != NULL && atoi(s) > 0)
		scale = (unsigned)atoi(s);
	signal(SIGPIPE, SIG_IGN);
	if (UNDER_ASAN) {
		/* The child's freed blocks would wait in a 256 MiB quarantine and
		 * count as resident: keep it small so RSS tracks live memory. */
		const char *old = getenv("ASAN_OPTIONS");
		static char opts[1024];
		snprintf(opts, sizeof opts, "%s%squarantine_size_mb=4", old ? old : "",
		         old && *old ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	snprintf(workdir, sizeof workdir, "%s/flood-XXXXXX", HOTLINE_BINARY_DIR);
	if (mkdtemp(workdir) == NULL)
		return -1;
	struct result r;
	run_flood("idle", one_packet, 1, NULL, &r);
	base_rss_kb = r.rss_kb;
	free_result(&r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void check_flow_flood(const struct result *r, uint32_t n)
{
	assert_int_equal(counter(r, "flows", "capacity"), MAX_FLOWS);
	assert_int_equal(counter(r, "flows", "created"), n);
	assert_int_equal(counter(r, "flows", "evicted"), n - MAX_FLOWS);
	assert_int_equal(counter(r, "flows", "expired"), 0);
	assert_int_equal(counter(r, "flows", "flushed"), MAX_FLOWS);
	assert_int_equal(counter(r, "flows", "active_max"), MAX_FLOWS);
	assert_int_equal(counter(r, "flows", "active"), 0);
	assert_int_equal(counter(r, "tcp", "segments"), (n + 1) / 2);
	assert_int_equal(counter(r, "tcp", "bytes_out"), (json_int_t)(n + 1) / 2 * FLOW_DATA);
	assert_int_equal(counter(r, "tcp", "held"), 0);
	assert_int_equal(counter(r, "payload", "match_errors"), 0);
	assert_int_equal(counter(r, "payload", "app_memory"), 0);
}

static void new_flow_flood_evicts_and_stays_flat(void **state)
{
	(void)state;
	uint32_t n = 60000 / scale;
	if (n < 2 * MAX_FLOWS)
		n = 2 * MAX_FLOWS;
	struct result small, big;
	run_flood("flows", flow_flood, n, NULL, &small);
	check_flow_flood(&small, n);
	run_flood("flows-10x", flow_flood, 10 * n, NULL, &big);
	check_flow_flood(&big, 10 * n);
	long table_kb = (long)counter(&big, "flows", "memory") / 1024;
	assert_rss_flat(&small, &big, table_kb + 2048);
	free_result(&small);
	free_result(&big);
}

static void check_frag_flood(const struct result *r, uint32_t n)
{
	json_int_t huge = (n + 3) / 4;
	json_int_t started = 2 * (json_int_t)n + huge;
	json_int_t active = counter(r, "frag", "active");
	assert_true(active > 0 && active <= FRAG_MAX_REASSEMBLIES);
	assert_int_equal(counter(r, "frag", "evicted") + active, started);
	assert_int_equal(counter(r, "frag", "reassembled"), 0);
	assert_int_equal(counter(r, "frag", "timeout"), 0);
	assert_int_equal(counter(r, "frag", "nomem"), 0);
	assert_int_equal(counter(r, "frag", "limit"), 0);
	assert_int_equal(counter(r, "frag", "too_big"), huge);
	assert_int_equal(counter(r, "frag", "overlap"), n);
	assert_int_equal(counter(r, "frag", "held"), 3 * (json_int_t)n + huge);
	assert_true(counter(r, "frag", "memory_peak") <= FRAG_MAX_MEM);
	assert_true(counter(r, "frag", "memory") <= FRAG_MAX_MEM);
	assert_int_equal(counter(r, "flows", "created"), 0);
}

static void fragment_flood_hits_the_caps_and_stays_flat(void **state)
{
	(void)state;
	uint32_t n = 40000 / scale;
	struct result small, big;
	run_flood("frags", frag_flood, n, NULL, &small);
	check_frag_flood(&small, n);
	/* the byte cap, not only the count, was reached */
	assert_true(counter(&small, "frag", "memory_peak") > FRAG_MAX_MEM - 70000);
	run_flood("frags-10x", frag_flood, 10 * n, NULL, &big);
	check_frag_flood(&big, 10 * n);
	assert_rss_flat(&small, &big, FRAG_MAX_MEM / 1024 + 2048);
	free_result(&small);
	free_result(&big);
}

static void check_reorder_flood(const struct result *r, uint32_t n)
{
	json_int_t segs = (json_int_t)n * OOO_SEGS;
	assert_int_equal(counter(r, "flows", "created"), n);
	assert_int_equal(counter(r, "flows", "evicted"), n - MAX_FLOWS);
	assert_int_equal(counter(r, "tcp", "segments"), (json_int_t)n * (OOO_SEGS + 1));
	assert_int_equal(counter(r, "tcp", "out_of_order"), segs);
	/* held until the flow ended, then delivered with the holes skipped */
	assert_int_equal(counter(r, "tcp", "gaps"), segs);
	assert_int_equal(counter(r, "tcp", "gap_bytes"), segs * OOO_HOLE);
	assert_int_equal(counter(r, "tcp", "bytes_out"), segs * OOO_LEN);
	assert_int_equal(counter(r, "tcp", "overflows"), 0);
	assert_int_equal(counter(r, "tcp", "held"), 0);
	assert_int_equal(counter(r, "tcp", "held_peak"),
	                 (json_int_t)MAX_FLOWS * OOO_SEGS * (OOO_LEN + SEG_OVERHEAD));
	/* evidence: every flow keeps its packets until the memory cap says no */
	assert_true(counter(r, "evidence", "flows_refused") > 0);
	assert_true(counter(r, "evidence", "memory_peak") <= EVIDENCE_MEMORY);
	assert_int_equal(counter(r, "evidence", "memory"), 0);
	assert_int_equal(counter(r, "evidence", "triggered"), 0);
}

static void out_of_order_flood_is_bounded_and_stays_flat(void **state)
{
	(void)state;
	uint32_t n = 20000 / scale;
	if (n < 2 * MAX_FLOWS)
		n = 2 * MAX_FLOWS;
	char dir[300], mem[32];
	snprintf(dir, sizeof dir, "%s/evidence", workdir);
	assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(mem, sizeof mem, "%u", EVIDENCE_MEMORY);
	const char *extra[] = {"--evidence-dir", dir, "--evidence-memory", mem, NULL};
	struct result small, big;
	run_flood("reorder", reorder_flood, n, extra, &small);
	check_reorder_flood(&small, n);
	run_flood("reorder-10x", reorder_flood, 10 * n, extra, &big);
	check_reorder_flood(&big, 10 * n);
	long cap_kb = (long)counter(&big, "tcp", "held_peak") / 1024 + EVIDENCE_MEMORY / 1024 +
	              (long)counter(&big, "flows", "memory") / 1024 + 2048;
	assert_rss_flat(&small, &big, cap_kb);
	free_result(&small);
	free_result(&big);
}

static void reorder_caps_per_direction_and_per_worker(void **state)
{
	(void)state;
	struct result r;
	run_flood("reorder-dir", reorder_dir_cap, DIR_FLOWS, NULL, &r);
	/* 62 segments fit in a direction's 64 KiB; each later one skips the
	 * hole before the earliest held segment to make room */
	const uint32_t fit = REORDER_MAX_DIR / (DIR_LEN + SEG_OVERHEAD);
	assert_int_equal(counter(&r, "tcp", "overflows"), DIR_FLOWS * (DIR_SEGS - fit));
	assert_int_equal(counter(&r, "tcp", "gaps"), DIR_FLOWS * DIR_SEGS);
	assert_int_equal(counter(&r, "tcp", "out_of_order"), DIR_FLOWS * DIR_SEGS);
	assert_int_equal(counter(&r, "tcp", "bytes_out"), DIR_FLOWS * DIR_SEGS * DIR_LEN);
	assert_int_equal(counter(&r, "tcp", "held_peak"),
	                 (json_int_t)DIR_FLOWS * fit * (DIR_LEN + SEG_OVERHEAD));
	free_result(&r);

	run_flood("reorder-total", reorder_total_cap, TOTAL_FLOWS, NULL, &r);
	json_int_t peak = counter(&r, "tcp", "held_peak");
	assert_true(peak <= REORDER_MAX_TOTAL);
	assert_true(peak > REORDER_MAX_TOTAL - (DIR_LEN + SEG_OVERHEAD));
	assert_true(counter(&r, "tcp", "overflows") > 0);
	assert_int_equal(counter(&r, "tcp", "held"), 0);
	assert_int_equal(counter(&r, "tcp", "bytes_in"),
	                 (json_int_t)TOTAL_FLOWS * TOTAL_SEGS * DIR_LEN);
	assert_int_equal(counter(&r, "tcp", "bytes_out"),
	                 (json_int_t)TOTAL_FLOWS * TOTAL_SEGS * DIR_LEN);
	free_result(&r);
}

/* The caps are the command line's: smaller ones given as options are the
 * ones the floods hit. */
static void configured_caps_are_the_ones_hit(void **state)
{
	(void)state;
	struct result r;
	const char *frag_opts[] = {"--frag-memory", "1048576", "--frag-max", "256", NULL};
	uint32_t n = 4000 / scale;
	run_flood("frags-opt", frag_flood, n, frag_opts, &r);
	assert_true(counter(&r, "frag", "active") <= 256);
	assert_true(counter(&r, "frag", "memory_peak") <= 1048576);
	assert_true(counter(&r, "frag", "evicted") > 0);
	free_result(&r);

	const char *dir_opts[] = {"--reorder-dir-bytes", "16384", NULL};
	run_flood("reorder-dir-opt", reorder_dir_cap, DIR_FLOWS, dir_opts, &r);
	const uint32_t fit = 16384 / (DIR_LEN + SEG_OVERHEAD);
	assert_int_equal(counter(&r, "tcp", "overflows"), DIR_FLOWS * (DIR_SEGS - fit));
	assert_int_equal(counter(&r, "tcp", "held_peak"),
	                 (json_int_t)DIR_FLOWS * fit * (DIR_LEN + SEG_OVERHEAD));
	free_result(&r);

	const char *total_opts[] = {"--reorder-memory", "1048576", NULL};
	run_flood("reorder-total-opt", reorder_total_cap, TOTAL_FLOWS, total_opts, &r);
	json_int_t peak = counter(&r, "tcp", "held_peak");
	assert_true(peak <= 1048576);
	assert_true(peak > 1048576 - (DIR_LEN + SEG_OVERHEAD));
	assert_true(counter(&r, "tcp", "overflows") > 0);
	free_result(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(new_flow_flood_evicts_and_stays_flat),
	        cmocka_unit_test(fragment_flood_hits_the_caps_and_stays_flat),
	        cmocka_unit_test(out_of_order_flood_is_bounded_and_stays_flat),
	        cmocka_unit_test(reorder_caps_per_direction_and_per_worker),
	        cmocka_unit_test(configured_caps_are_the_ones_hit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
