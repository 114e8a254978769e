/* \summary: sharer end to end: sensor link -> alpha -> CURVE -> bravo, sightings/s and latency
 *
 * Usage: bench_sharer [--n N] [--rate R] [--seconds S] [--dir DIR] [--sharer PATH] [--json]
 *                     [--keep] [--smoke]
 *
 * Starts two real hotline-sharer processes (alpha, bravo; keys from
 * `hotline-sharer keygen`, CURVE between them on loopback, stores in a
 * fresh directory under DIR, which must be on the disk being measured:
 * tmpfs makes fsync free) and drives alpha's local sensor socket with the
 * sensor's own link code (hl_sharer_link) from this process.
 *
 *   throughput  N sightings handed to the link as fast as it takes them
 *               (its queue is kept under QUEUE_HIGH); the figure is N over
 *               the time from the first hand-over to the commit of the last
 *               record at bravo (bravo's received_at of the newest row).
 *               Also: when alpha had ACKed all of them to the link, and the
 *               CPU seconds each process spent (from /proc/PID/stat).
 *   latency     R sightings per second for S seconds, paced on an absolute
 *               clock; per record, from just before hl_sharer_link_send_own to
 *               the moment a reader of bravo's store sees it (a poller
 *               thread looks every POLL_US: an upper bound, at most POLL_US
 *               late) and to bravo's received_at (taken when bravo began
 *               handling the batch, before its commit: a lower bound).
 *   baselines   in the same run, so that ratios mean something on a shared
 *               machine: (s) the same records inserted into a bare SQLite
 *               table (WAL, synchronous=FULL, 256 per transaction, as the
 *               sharer's receive batch) on the same disk; (z) the same bytes
 *               as two-frame messages over a CURVE DEALER -> ROUTER pair in
 *               this process, one ACK frame per 256.
 *
 * Bravo's store is read with a read-only SQLite connection (WAL: it never
 * blocks bravo's writer). Everything is bounded: each wait gives up after
 * WAIT_S, and the children are killed on every way out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <zmq.h>

#include "control.h"
#include "sharer_link.h"

#define WAIT_S 180.0
#define QUEUE_HIGH 40000
#define POLL_US 2000
#define LINE_MAX_ 1024

extern char **environ;

struct party {
	char name[16];
	int port;
	char config[600], control[600], sensor[600], log[600], db[600];
	pid_t pid;
};

struct bench {
	const char *sharer;
	char dir[512];
	size_t n;
	double rate, seconds;
	bool json, keep;
	struct party a, b;
	json_t *report;
};

static struct bench *g_cleanup; /* for die(): the only way to reach the children */

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void stop_party(struct party *p, int sig)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, sig);
	double dl = mono_s() + 20;
	int st;
	while (waitpid(p->pid, &st, WNOHANG) == 0) {
		if (mono_s() > dl) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			break;
		}
		sleep_us(10000);
	}
	p->pid = 0;
}

static void cleanup(struct bench *b)
{
	stop_party(&b->a, SIGTERM);
	stop_party(&b->b, SIGTERM);
	if (b->dir[0] != '\0' && !b->keep)
		nftw(b->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_sharer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (g_cleanup != NULL) {
		g_cleanup->keep = true;
		fprintf(stderr, "bench_sharer: logs kept in %s\n", g_cleanup->dir);
		stop_party(&g_cleanup->a, SIGKILL);
		stop_party(&g_cleanup->b, SIGKILL);
	}
	exit(1);
}

static void fmt_path(char *out, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void fmt_path(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		die("path too long");
}

static pid_t spawn(char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		die("cannot start %s: %s", argv[0], strerror(rc));
	return pid;
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("no free port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

static void setup_party(struct bench *b, struct party *p, const char *name)
{
	snprintf(p->name, sizeof p->name, "%s", name);
	p->port = free_port();
	fmt_path(p->config, sizeof p->config, "%s/%s.yaml", b->dir, name);
	fmt_path(p->control, sizeof p->control, "%s/%s-ctl.sock", b->dir, name);
	fmt_path(p->sensor, sizeof p->sensor, "ipc://%s/%s-sensor.sock", b->dir, name);
	fmt_path(p->log, sizeof p->log, "%s/%s.log", b->dir, name);
	fmt_path(p->db, sizeof p->db, "%s/%s.db", b->dir, name);
	char *argv[] = {(char *)b->sharer, "keygen", "-d", b->dir, (char *)name, NULL};
	pid_t pid = spawn(argv, p->log);
	int st = 0;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("keygen %s failed (see %s)", name, p->log);
}

static void write_config(const struct bench *b, const struct party *p, const struct party *peer)
{
	FILE *f = fopen(p->config, "w");
	if (f == NULL)
		die("%s: %s", p->config, strerror(errno));
	fprintf(f,
	        "version: 1\nname: %s\nlisten: tcp://127.0.0.1:%d\nsensor_listen: %s\n"
	        "control: %s\nstore: %s\nagreement: agreement.yaml\nlog_level: warning\n"
	        "keys:\n  secret_key_file: %s.key\n"
	        "peers:\n  %s:\n    public_key_file: %s.pub\n    endpoint: tcp://127.0.0.1:%d\n",
	        p->name, p->port, p->sensor, p->control, p->db, p->name, peer->name, peer->name,
	        peer->port);
	if (fclose(f) != 0)
		die("%s: write failed", p->config);
	(void)b;
}

static bool ctl_ok(const struct party *p)
{
	json_t *req = json_pack("{s:s}", "cmd", "status");
	json_t *rep = NULL;
	int rc = hl_control_call(p->control, req, 500, &rep);
	json_decref(req);
	bool ok = rc == 0 && json_is_true(json_object_get(rep, "ok"));
	json_decref(rep);
	return ok;
}

static void start_party(struct bench *b, struct party *p)
{
	char *argv[] = {(char *)b->sharer, "run", "--config", p->config, NULL};
	p->pid = spawn(argv, p->log);
	double dl = mono_s() + WAIT_S;
	while (!ctl_ok(p)) {
		int st;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			die("%s exited at start (see %s)", p->name, p->log);
		}
		if (mono_s() > dl)
			die("%s: control socket silent", p->name);
		sleep_us(20000);
	}
}

/* utime + stime of a process, seconds. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A sensor-shaped sighting record, in the canonical form hotline-sensor
 * writes (compact, keys sorted); tag and i make it (and its id) unique. */
static size_t make_line(char *out, size_t len, const char *tag, size_t i)
{
	unsigned s = (unsigned)(i % 86400), us = (unsigned)(i % 1000000);
	int n = snprintf(out, len,
	                 "{\"count\":1,\"final\":false,"
	                 "\"first_seen\":\"2026-01-02T%02u:%02u:%02u.%06uZ\","
	                 "\"flow\":{\"dst_ip\":\"198.51.100.53\",\"dst_port\":53,\"proto\":\"udp\","
	                 "\"src_ip\":\"192.0.2.10\",\"src_port\":%zu,\"vlan\":[]},"
	                 "\"indicator\":{\"id\":\"%s-%zu\",\"source\":null,\"tlp\":\"amber\","
	                 "\"type\":\"domain\",\"value\":\"evil-%zu.example\"},"
	                 "\"last_seen\":\"2026-01-02T%02u:%02u:%02u.%06uZ\","
	                 "\"match\":{\"field\":\"dns.query\",\"value\":\"www.evil-%zu.example\"},"
	                 "\"sensor\":\"bench\"}",
	                 s / 3600, s / 60 % 60, s % 60, us, 1024 + i % 60000, tag, i, i, s / 3600,
	                 s / 60 % 60, s % 60, us, i);
	if (n < 0 || (size_t)n >= len)
		die("record too long");
	return (size_t)n;
}

static void link_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= 1)
		fprintf(stderr, "bench_sharer: sensor link: %s\n", msg);
}

static hl_sharer_link_t *open_link(struct bench *b)
{
	char err[256];
	struct hl_sharer_link_opts o = {.endpoint = b->a.sensor,
	                                .name = "sensor1",
	                                .to = "alpha",
	                                .queue_max = QUEUE_HIGH + 10000,
	                                .log = link_log};
	hl_sharer_link_t *l = hl_sharer_link_new(&o, err, sizeof err);
	if (l == NULL)
		die("sensor link: %s", err);
	return l;
}

static sqlite3 *open_ro(const char *db)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("%s: %s", db, h ? sqlite3_errmsg(h) : "cannot open");
	sqlite3_busy_timeout(h, 5000);
	return h;
}

static int64_t query_i64(sqlite3 *h, const char *sql, int64_t arg)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		die("%s: %s", sql, sqlite3_errmsg(h));
	sqlite3_bind_int64(st, 1, arg);
	int64_t v = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Wait until bravo holds `want` sightings in all. Polled with max(seq)
 * (rows are only added, seq counts them; a B-tree descent), counted once
 * at the end: a count(*) every poll would scan the table each time, in
 * this process, on the cores being measured. */
static void wait_bravo(sqlite3 *h, int64_t want, const char *what)
{
	double dl = mono_s() + WAIT_S;
	int64_t have;
	while ((have = query_i64(h, "SELECT coalesce(max(seq), 0) FROM sightings WHERE seq > ?",
	                         0)) < want) {
		if (mono_s() > dl)
			die("%s: bravo has %" PRId64 " of %" PRId64 " sightings after %.0f s", what,
			    have, want, WAIT_S);
		sleep_us(20000);
	}
	have = query_i64(h, "SELECT count(*) FROM sightings WHERE seq > ?", 0);
	if (have != want)
		die("%s: bravo has %" PRId64 " sightings, want exactly %" PRId64, what, have, want);
}

static void send_or_die(hl_sharer_link_t *l, const char *line, size_t len)
{
	int rc = hl_sharer_link_send_own(l, line, len);
	if (rc != 0)
		die("hl_sharer_link_send_own: %d", rc);
}

/* ---- throughput --------------------------------------------------------- */

static void throughput(struct bench *b, hl_sharer_link_t *l, sqlite3 *h, int64_t base)
{
	char line[LINE_MAX_];
	double ca = proc_cpu_s(b->a.pid), cb = proc_cpu_s(b->b.pid), cs = self_cpu_s();
	int64_t t0 = real_us();
	double m0 = mono_s();
	for (size_t i = 0; i < b->n; i++) {
		struct hl_sharer_link_stats st;
		if (i % 256 == 0) {
			for (;;) {
				hl_sharer_link_stats(l, &st);
				if (st.pending < QUEUE_HIGH)
					break;
				sleep_us(1000);
			}
		}
		send_or_die(l, line, make_line(line, sizeof line, "thr", i));
	}
	double m_queued = mono_s();
	if (hl_sharer_link_flush(l, (int)(WAIT_S * 1000)) != 0)
		die("throughput: alpha did not ACK everything within %.0f s", WAIT_S);
	double m_acked = mono_s();
	wait_bravo(h, base + (int64_t)b->n, "throughput");
	int64_t t_last = query_i64(h, "SELECT max(received_at) FROM sightings WHERE seq > ?", base);
	double wall = (double)(t_last - t0) / 1e6;
	double cpu_a = proc_cpu_s(b->a.pid) - ca, cpu_b = proc_cpu_s(b->b.pid) - cb;
	double cpu_s = self_cpu_s() - cs;
	double n = (double)b->n;
	json_t *o = json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "sightings",
	                      (json_int_t)b->n, "seconds", wall, "sightings_per_s", n / wall,
	                      "queued_s", m_queued - m0, "acked_by_alpha_s", m_acked - m0,
	                      "acked_per_s", n / (m_acked - m0), "cpu_alpha_s", cpu_a,
	                      "cpu_bravo_s", cpu_b, "cpu_bench_s", cpu_s, "cpu_us_per_sighting",
	                      (cpu_a + cpu_b + cpu_s) * 1e6 / n, "cpu_sightings_per_s",
	                      n / (cpu_a + cpu_b + cpu_s));
	json_object_set_new(b->report, "throughput", o);
}

/* ---- latency ------------------------------------------------------------ */

struct lat {
	sqlite3 *h;
	int64_t base; /* bravo's seq before the phase */
	size_t n;
	int64_t *sent, *seen, *recv; /* realtime µs per record; 0: not yet */
	size_t got;
	volatile bool stop;
};

static void *poller(void *arg)
{
	struct lat *L = arg;
	sqlite3_stmt *st = NULL;
	const char *sql = "SELECT seq, received_at, json_extract(record, '$.indicator.id') "
	                  "FROM sightings WHERE seq > ? ORDER BY seq";
	if (sqlite3_prepare_v2(L->h, sql, -1, &st, NULL) != SQLITE_OK)
		die("poller: %s", sqlite3_errmsg(L->h));
	int64_t last = L->base;
	double dl = 0;
	while (L->got < L->n) {
		if (L->stop) {
			if (dl == 0)
				dl = mono_s() + WAIT_S;
			else if (mono_s() > dl)
				break;
		}
		sqlite3_bind_int64(st, 1, last);
		int64_t now = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (now == 0)
				now = real_us();
			last = sqlite3_column_int64(st, 0);
			const char *id = (const char *)sqlite3_column_text(st, 2);
			const char *dash = id ? strrchr(id, '-') : NULL;
			if (dash == NULL || strncmp(id, "lat-", 4) != 0)
				continue;
			size_t i = strtoul(dash + 1, NULL, 10);
			if (i < L->n && L->seen[i] == 0) {
				L->seen[i] = now;
				L->recv[i] = sqlite3_column_int64(st, 1);
				L->got++;
			}
		}
		sqlite3_reset(st);
		sleep_us(POLL_US);
	}
	sqlite3_finalize(st);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static json_t *percentiles(int64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_i64);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	return json_pack("{s:f,s:f,s:f,s:f,s:f}", "p50_ms", v[n / 2] / 1e3, "p90_ms",
	                 v[n * 9 / 10] / 1e3, "p99_ms", v[n * 99 / 100] / 1e3, "max_ms",
	                 v[n - 1] / 1e3, "mean_ms", sum / (double)n / 1e3);
}

static void latency(struct bench *b, hl_sharer_link_t *l, sqlite3 *h, int64_t base)
{
	struct lat L = {.h = h, .base = base, .n = (size_t)(b->rate * b->seconds)};
	if (L.n < 10)
		L.n = 10;
	L.sent = calloc(L.n, sizeof *L.sent);
	L.seen = calloc(L.n, sizeof *L.seen);
	L.recv = calloc(L.n, sizeof *L.recv);
	if (L.sent == NULL || L.seen == NULL || L.recv == NULL)
		die("out of memory");
	pthread_t th;
	if (pthread_create(&th, NULL, poller, &L) != 0)
		die("cannot start the poller");
	char line[LINE_MAX_];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < L.n; i++) {
		size_t len = make_line(line, sizeof line, "lat", i);
		int64_t off = (int64_t)((double)i * 1e9 / b->rate);
		struct timespec due = {t0.tv_sec + (t0.tv_nsec + off) / 1000000000,
		                       (t0.tv_nsec + off) % 1000000000};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
		L.sent[i] = real_us();
		send_or_die(l, line, len);
	}
	L.stop = true;
	pthread_join(th, NULL);
	if (L.got != L.n)
		die("latency: bravo has %zu of %zu records", L.got, L.n);
	for (size_t i = 0; i < L.n; i++) {
		L.seen[i] -= L.sent[i];
		L.recv[i] -= L.sent[i];
	}
	json_t *o = json_pack("{s:I,s:f,s:o,s:o,s:i}", "sightings", (json_int_t)L.n, "rate_per_s",
	                      b->rate, "to_visible", percentiles(L.seen, L.n), "to_received_at",
	                      percentiles(L.recv, L.n), "poll_us", POLL_US);
	json_object_set_new(b->report, "latency", o);
	free(L.sent);
	free(L.seen);
	free(L.recv);
}

/* ---- baselines ---------------------------------------------------------- */

static void baseline_sqlite(struct bench *b)
{
	char path[700];
	fmt_path(path, sizeof path, "%s/baseline.db", b->dir);
	sqlite3 *h = NULL;
	if (sqlite3_open(path, &h) != SQLITE_OK)
		die("%s: cannot open", path);
	char *err = NULL;
	if (sqlite3_exec(h,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                 "CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
	                 " record TEXT NOT NULL) STRICT;",
	                 NULL, NULL, &err) != SQLITE_OK)
		die("baseline: %s", err);
	sqlite3_stmt *ins = NULL;
	sqlite3_prepare_v2(h, "INSERT INTO t (id, record) VALUES (?, ?)", -1, &ins, NULL);
	char line[LINE_MAX_], id[32];
	double m0 = mono_s(), c0 = self_cpu_s();
	for (size_t i = 0; i < b->n; i++) {
		if (i % 256 == 0)
			sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
		size_t len = make_line(line, sizeof line, "base", i);
		snprintf(id, sizeof id, "%016zx", i * 2654435761u);
		sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, line, (int)len, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("baseline insert: %s", sqlite3_errmsg(h));
		sqlite3_reset(ins);
		if (i % 256 == 255 || i + 1 == b->n)
			if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
				die("baseline commit: %s", sqlite3_errmsg(h));
	}
	double wall = mono_s() - m0, cpu = self_cpu_s() - c0;
	sqlite3_finalize(ins);
	sqlite3_close(h);
	json_object_set_new(b->report, "baseline_sqlite",
	                    json_pack("{s:f,s:f,s:f,s:i}", "seconds", wall, "rows_per_s",
	                              (double)b->n / wall, "rows_per_cpu_s", (double)b->n / cpu,
	                              "per_transaction", 256));
}

struct zpair {
	void *ctx;
	char endpoint[64];
	char server_pub[41], server_sec[41];
	size_t n;
};

static void *zserver(void *arg)
{
	struct zpair *z = arg;
	void *s = zmq_socket(z->ctx, ZMQ_ROUTER);
	int one = 1, hwm = 0;
	zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, z->server_sec, 40);
	zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
	if (zmq_bind(s, z->endpoint) != 0)
		die("baseline bind %s: %s", z->endpoint, zmq_strerror(errno));
	char route[256], buf[2048];
	for (size_t got = 0; got < z->n;) {
		int rl = zmq_recv(s, route, sizeof route, 0);
		if (rl < 0 || rl > (int)sizeof route)
			break;
		int more = 1;
		while (more) {
			zmq_recv(s, buf, sizeof buf, 0);
			size_t ml = sizeof more;
			zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
		}
		got++;
		if (got % 256 == 0 || got == z->n) {
			zmq_send(s, route, (size_t)rl, ZMQ_SNDMORE);
			zmq_send(s, &got, sizeof got, 0);
		}
	}
	zmq_close(s);
	return NULL;
}

static void baseline_curve(struct bench *b)
{
	struct zpair z = {.ctx = zmq_ctx_new(), .n = b->n};
	char cpub[41], csec[41];
	zmq_curve_keypair(z.server_pub, z.server_sec);
	zmq_curve_keypair(cpub, csec);
	snprintf(z.endpoint, sizeof z.endpoint, "tcp://127.0.0.1:%d", free_port());
	pthread_t th;
	if (pthread_create(&th, NULL, zserver, &z) != 0)
		die("cannot start the baseline server");
	void *c = zmq_socket(z.ctx, ZMQ_DEALER);
	int hwm = 0;
	zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, z.server_pub, 40);
	zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, cpub, 40);
	zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, csec, 40);
	zmq_setsockopt(c, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_connect(c, z.endpoint);
	char line[LINE_MAX_];
	const char env[] = "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":"
	                   "\"sighting\",\"from\":\"sensor1\",\"to\":\"alpha\",\"sent_at\":"
	                   "\"2026-01-02T00:00:00.000000Z\",\"seq\":1}";
	/* A window like the link's: at most 1000 un-ACKed. */
	size_t acked = 0;
	double m0 = mono_s(), c0 = self_cpu_s();
	for (size_t i = 0; i < b->n; i++) {
		while (i - acked >= 1000) {
			size_t v = 0;
			if (zmq_recv(c, &v, sizeof v, 0) < 0)
				die("baseline recv: %s", zmq_strerror(errno));
			acked = v;
		}
		size_t len = make_line(line, sizeof line, "curve", i);
		zmq_send(c, env, sizeof env - 1, ZMQ_SNDMORE);
		zmq_send(c, line, len, 0);
	}
	while (acked < b->n) {
		size_t v = 0;
		if (zmq_recv(c, &v, sizeof v, 0) < 0)
			die("baseline recv: %s", zmq_strerror(errno));
		acked = v;
	}
	double wall = mono_s() - m0, cpu = self_cpu_s() - c0;
	pthread_join(th, NULL);
	int zero = 0;
	zmq_setsockopt(c, ZMQ_LINGER, &zero, sizeof zero);
	zmq_close(c);
	zmq_ctx_term(z.ctx);
	json_object_set_new(b->report, "baseline_curve",
	                    json_pack("{s:f,s:f,s:f}", "seconds", wall, "messages_per_s",
	                              (double)b->n / wall, "messages_per_cpu_s",
	                              (double)b->n / cpu));
}

/* ---- main --------------------------------------------------------------- */

static double num(const json_t *o, const char *a, const char *k)
{
	return json_real_value(json_object_get(json_object_get(o, a), k));
}

static void print_table(const struct bench *b)
{
	const json_t *r = b->report;
	double thr = num(r, "throughput", "sightings_per_s");
	double bs = num(r, "baseline_sqlite", "rows_per_s");
	double bz = num(r, "baseline_curve", "messages_per_s");
	const json_t *lat = json_object_get(r, "latency");
	printf("sharer: sensor link -> alpha -> CURVE -> bravo (%s)\n", b->dir);
	printf("%-44s %12s %10s\n", "what", "per second", "seconds");
	printf("%-44s %12.0f %10.3f\n", "throughput: handed to link -> bravo commit", thr,
	       num(r, "throughput", "seconds"));
	printf("%-44s %12.0f %10.3f\n", "  ... ACKed by alpha to the link",
	       num(r, "throughput", "acked_per_s"), num(r, "throughput", "acked_by_alpha_s"));
	printf("%-44s %12.0f %10.3f\n", "(s) baseline: SQLite insert, 256/commit", bs,
	       num(r, "baseline_sqlite", "seconds"));
	printf("%-44s %12.0f %10.3f\n", "(z) baseline: CURVE DEALER->ROUTER", bz,
	       num(r, "baseline_curve", "seconds"));
	printf("ratios: sharer/(s) %.3f, sharer/(z) %.3f\n", bs > 0 ? thr / bs : 0,
	       bz > 0 ? thr / bz : 0);
	printf("CPU seconds: alpha %.2f, bravo %.2f, link (this process) %.2f: %.1f us/sighting\n",
	       num(r, "throughput", "cpu_alpha_s"), num(r, "throughput", "cpu_bravo_s"),
	       num(r, "throughput", "cpu_bench_s"), num(r, "throughput", "cpu_us_per_sighting"));
	printf("latency at %.0f/s, %lld sightings, ms: %-12s %8s %8s %8s %8s\n",
	       json_real_value(json_object_get(lat, "rate_per_s")),
	       (long long)json_integer_value(json_object_get(lat, "sightings")), "", "p50", "p90",
	       "p99", "max");
	const char *ks[] = {"to_visible", "to_received_at"};
	for (int i = 0; i < 2; i++)
		printf("  %-58s %8.2f %8.2f %8.2f %8.2f\n", ks[i], num(lat, ks[i], "p50_ms"),
		       num(lat, ks[i], "p90_ms"), num(lat, ks[i], "p99_ms"),
		       num(lat, ks[i], "max_ms"));
}

static const char *default_sharer(void)
{
	static char path[PATH_MAX + 64];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return "hotline-sharer";
	self[n] = '\0';
	snprintf(path, sizeof path, "%s/../bin/hotline-sharer", dirname(self));
	return path;
}

int main(int argc, char **argv)
{
	struct bench b = {.sharer = default_sharer(), .n = 100000, .rate = 1000, .seconds = 10};
	const char *dir = "/tmp";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--json") == 0)
			b.json = true;
		else if (strcmp(a, "--keep") == 0)
			b.keep = true;
		else if (strcmp(a, "--smoke") == 0)
			b.n = 2000, b.seconds = 1;
		else if (v != NULL && strcmp(a, "--n") == 0 && ++i)
			b.n = strtoul(v, NULL, 10);
		else if (v != NULL && strcmp(a, "--rate") == 0 && ++i)
			b.rate = strtod(v, NULL);
		else if (v != NULL && strcmp(a, "--seconds") == 0 && ++i)
			b.seconds = strtod(v, NULL);
		else if (v != NULL && strcmp(a, "--dir") == 0 && ++i)
			dir = v;
		else if (v != NULL && strcmp(a, "--sharer") == 0 && ++i)
			b.sharer = v;
		else {
			fprintf(stderr,
			        "usage: bench_sharer [--n N] [--rate R] [--seconds S] "
			        "[--dir DIR] [--sharer PATH] [--json] [--keep] [--smoke]\n");
			return 2;
		}
	}
	if (b.n < 1 || b.rate <= 0 || b.seconds <= 0)
		die("--n, --rate and --seconds must be positive");
	if (access(b.sharer, X_OK) != 0)
		die("%s: not an executable (--sharer)", b.sharer);
	signal(SIGPIPE, SIG_IGN);
	/* Absolute: the configs name files that the sharers resolve against
	 * the config's own directory. */
	char absdir[PATH_MAX];
	if (realpath(dir, absdir) == NULL)
		die("%s: %s", dir, strerror(errno));
	fmt_path(b.dir, sizeof b.dir, "%s/hl-bench-sharer-XXXXXX", absdir);
	if (mkdtemp(b.dir) == NULL)
		die("mkdtemp %s: %s", b.dir, strerror(errno));
	g_cleanup = &b;
	b.report = json_object();
	char agr[700];
	fmt_path(agr, sizeof agr, "%s/agreement.yaml", b.dir);
	FILE *f = fopen(agr, "w");
	if (f == NULL || fputs("version: 1\n", f) < 0 || fclose(f) != 0)
		die("%s: cannot write", agr);
	setup_party(&b, &b.a, "alpha");
	setup_party(&b, &b.b, "bravo");
	write_config(&b, &b.a, &b.b);
	write_config(&b, &b.b, &b.a);
	start_party(&b, &b.b);
	start_party(&b, &b.a);

	/* Warm-up: the connections are up and the stores exist. */
	hl_sharer_link_t *l = open_link(&b);
	char line[LINE_MAX_];
	for (size_t i = 0; i < 200; i++)
		send_or_die(l, line, make_line(line, sizeof line, "warm", i));
	sqlite3 *h = NULL;
	double dl = mono_s() + WAIT_S;
	while (access(b.b.db, F_OK) != 0 && mono_s() < dl)
		sleep_us(10000);
	h = open_ro(b.b.db);
	wait_bravo(h, 200, "warm-up");

	baseline_sqlite(&b);
	throughput(&b, l, h, 200);
	latency(&b, l, h, 200 + (int64_t)b.n);
	baseline_curve(&b);
	if (hl_sharer_link_flush(l, (int)(WAIT_S * 1000)) != 0)
		die("link did not drain");
	struct hl_sharer_link_stats st;
	hl_sharer_link_stats(l, &st);
	json_object_set_new(b.report, "link",
	                    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "messages_acked",
	                              (json_int_t)st.messages_acked, "sent", (json_int_t)st.sent,
	                              "resent", (json_int_t)st.resent, "acked",
	                              (json_int_t)st.acked, "dropped", (json_int_t)st.dropped,
	                              "refused", (json_int_t)st.refused));
	hl_sharer_link_destroy(&l);
	sqlite3_close(h);
	if (st.dropped + st.refused != 0)
		die("the link dropped %lu and had %lu refused", st.dropped, st.refused);
	json_object_set_new(b.report, "dir", json_string(b.dir));
	double thr = num(b.report, "throughput", "sightings_per_s");
	json_object_set_new(b.report, "ratio_to_sqlite",
	                    json_real(thr / num(b.report, "baseline_sqlite", "rows_per_s")));
	json_object_set_new(b.report, "ratio_to_curve",
	                    json_real(thr / num(b.report, "baseline_curve", "messages_per_s")));
	if (b.json) {
		json_dumpf(b.report, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		print_table(&b);
	}
	json_decref(b.report);
	cleanup(&b);
	return 0;
}
