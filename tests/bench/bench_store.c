/* \summary: store throughput: inbound sightings with inbox dedup, outbox cycle
 *
 * Usage: bench_store [DIR] [N]   (DIR default ".", N default 200000)
 *        BENCH_STORE_ONLY=i runs only the i-th inbound case (0-based);
 *        BENCH_STORE_KEEP=1 keeps the databases (for dbstat).
 * Creates fresh stores under DIR (on the disk being measured: tmpfs makes
 * fsync free and the numbers meaningless), and reports rows/s for:
 *   - N inbound sightings, each an inbox record_once + sighting add (the
 *     receiver's rule), committed in transactions of 1, 64 and 1024
 *     messages (synchronous=FULL: one WAL fsync per commit). Batch 1 stops
 *     after BATCH1_CAP_S seconds: it measures fsync latency, not SQLite.
 *   - the same at 1024 with an audit row per message, and with ids derived
 *     from the record (the local-sensor path: JSON parse + canonical hash);
 *   - message ids are random 128-bit hex as on the wire (docs/protocol.md)
 *     and the inbox key includes the envelope's sent_at; for comparison, the
 *     same without sent_at (random key), and time-ordered ids without it;
 *   - N outbox messages: enqueue, fetch due + mark_sent, ack, 1024 per
 *     transaction, with time-ordered and with random message ids.
 * Sighting ids are random hex digests throughout, as on the wire.
 * Deterministic inputs; times are wall clock.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hotline/timefmt.h"
#include "store.h"

#define BATCH1_CAP_S 5.0

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a busy machine wall-clock rates fall with
 * the load, CPU rates less so; both are printed. */
static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

struct bench {
	const char *dir;
	char path[1024];
	int seq;
};

static hl_store_t *fresh(struct bench *b)
{
	snprintf(b->path, sizeof b->path, "%s/bench-store-%d-%d.db", b->dir, (int)getpid(),
	         b->seq++);
	char err[512];
	hl_store_t *s = hl_store_open(b->path, err, sizeof err);
	if (s == NULL)
		fprintf(stderr, "bench_store: %s\n", err);
	return s;
}

static void discard(struct bench *b, hl_store_t **s)
{
	hl_store_close(s);
	if (getenv("BENCH_STORE_KEEP") != NULL) {
		printf("kept %s\n", b->path);
		return;
	}
	char p[1100];
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", b->path, suffix[i]);
		unlink(p);
	}
}

#define T0 1714557600000000LL /* 2024-05-01T10:00:00Z */
#define STEP_US 20            /* sightings arrive in first_seen order, 50k/s */

/* A sighting record shaped like the sensor's (about 400 bytes). */
static void record(char *buf, size_t len, size_t i)
{
	char first[HL_TIME_ISO_MAX], last[HL_TIME_ISO_MAX];
	hl_time_format(T0 + (int64_t)i * STEP_US, first, sizeof first);
	hl_time_format(T0 + (int64_t)i * STEP_US + 1000, last, sizeof last);
	snprintf(buf, len,
	         "{\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"count\":1,\"final\":false,"
	         "\"sensor\":\"s1\",\"indicator\":{\"id\":\"hl--%032zx\",\"type\":\"domain\","
	         "\"value\":\"evil%zu.example\",\"source\":\"alpha\",\"tlp\":\"amber\"},"
	         "\"match\":{\"field\":\"dns.query\",\"value\":\"www.evil%zu.example\"},"
	         "\"flow\":{\"proto\":\"udp\",\"src_ip\":\"192.0.2.%zu\",\"src_port\":%zu,"
	         "\"dst_ip\":\"198.51.100.53\",\"dst_port\":53,\"vlan\":[]}}",
	         first, last, i % 977, i % 977, i % 977, i % 250 + 1, 1024 + i % 60000);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A hex digest-like id: uniformly spread, the worst case for B-tree
 * locality. */
static void random_id(char *buf, size_t len, uint64_t salt, size_t i, int words)
{
	size_t o = 0;
	for (int w = 0; w < words && o + 17 <= len; w++, o += 16)
		snprintf(buf + o, len - o, "%016llx",
		         (unsigned long long)mix(salt * 0x100000000ULL + i * 4 + (size_t)w));
}

/* A time-ordered message id (sender time, then a counter), as
 * docs/store.md recommends: consecutive ids land on the same B-tree page. */
static void ordered_id(char *buf, size_t len, size_t i)
{
	snprintf(buf, len, "%016llx-%08zx", (unsigned long long)(T0 + (int64_t)i * STEP_US), i);
}

struct inbound_run {
	const char *label;
	size_t batch;
	bool audit;          /* an audit row per message */
	bool derived;        /* id, first_seen, indicator id derived from the record */
	bool random_msg_ids; /* else time-ordered */
	bool sent_at;        /* inbox keyed by (peer, sent_at, msg_id) */
};

/* Receive n sightings from peer bravo, r->batch per transaction. Returns
 * rows done (may stop early at cap seconds), or 0 on error. */
static size_t inbound(hl_store_t *s, size_t n, const struct inbound_run *r, double cap,
                      double *secs)
{
	char rec[768], msg_id[40], sg_id[72];
	double t0 = now_s();
	size_t i = 0;
	while (i < n) {
		if (hl_store_begin(s) != 0)
			return 0;
		for (size_t k = 0; k < r->batch && i < n; k++, i++) {
			record(rec, sizeof rec, i);
			if (r->random_msg_ids)
				random_id(msg_id, sizeof msg_id, 1, i, 2);
			else
				ordered_id(msg_id, sizeof msg_id, i);
			random_id(sg_id, sizeof sg_id, 2, i, 4);
			bool is_new = false;
			int64_t sent_at = r->sent_at ? T0 + (int64_t)i * STEP_US + 2000 : 0;
			if (hl_store_inbox_record(s, "bravo", msg_id, sent_at, "sighting",
			                          T0 + (int64_t)i, &is_new) != 0)
				return 0;
			if (!is_new)
				continue;
			struct hl_store_sighting sg = {
			        .id = r->derived ? NULL : sg_id,
			        .origin = "peer:bravo",
			        .received_at = T0 + (int64_t)i * STEP_US + 5000,
			        .first_seen = r->derived ? 0 : T0 + (int64_t)i * STEP_US,
			        .indicator_id = r->derived ? NULL : "hl--x",
			        .record = rec,
			};
			if (hl_store_sighting_add(s, &sg, NULL) != 0)
				return 0;
			if (r->audit) {
				struct hl_audit_entry e = {.at = sg.received_at,
				                           .direction = HL_AUDIT_RECEIVED,
				                           .peer = "bravo",
				                           .msg_id = msg_id,
				                           .type = "sighting",
				                           .body = rec,
				                           .body_len = strlen(rec)};
				if (hl_store_audit_append(s, &e, NULL) != 0)
					return 0;
			}
		}
		if (hl_store_commit(s) != 0)
			return 0;
		if (cap > 0 && now_s() - t0 > cap)
			break;
	}
	*secs = now_s() - t0;
	return i;
}

static int run_inbound(struct bench *b, size_t n, const struct inbound_run *r)
{
	hl_store_t *s = fresh(b);
	if (s == NULL)
		return 1;
	double secs = 0, cpu0 = cpu_s();
	size_t done = inbound(s, n, r, r->batch == 1 ? BATCH1_CAP_S : 0, &secs);
	double cpu = cpu_s() - cpu0;
	if (done == 0) {
		fprintf(stderr, "bench_store: %s\n", hl_store_errmsg(s));
		discard(b, &s);
		return 1;
	}
	printf("inbound %-34s batch %5zu: %7zu rows %7.3f s %8.0f rows/s %5.0f commits/s "
	       "%8.0f rows/cpu-s%s\n",
	       r->label, r->batch, done, secs, (double)done / secs,
	       (double)((done + r->batch - 1) / r->batch) / secs, (double)done / cpu,
	       done < n ? " [time cap]" : "");
	discard(b, &s);
	return 0;
}

struct due_ids {
	char (*ids)[40];
	size_t n;
};

static int take(void *ud, const struct hl_outbox_msg *m)
{
	struct due_ids *d = ud;
	snprintf(d->ids[d->n++], 40, "%s", m->msg_id);
	return 0;
}

static int run_outbox(struct bench *b, size_t n, size_t batch, bool random_ids)
{
	hl_store_t *s = fresh(b);
	char(*ids)[40] = malloc(batch * sizeof *ids);
	if (s == NULL || ids == NULL) {
		free(ids);
		return 1;
	}
	char rec[768], msg_id[40];
	int rc = 0;
	double t0 = now_s();
	for (size_t i = 0; i < n && rc == 0;) {
		rc = hl_store_begin(s);
		for (size_t k = 0; k < batch && i < n && rc == 0; k++, i++) {
			record(rec, sizeof rec, i);
			if (random_ids)
				random_id(msg_id, sizeof msg_id, 3, i, 2);
			else
				ordered_id(msg_id, sizeof msg_id, i);
			rc = hl_store_outbox_enqueue(s, "bravo", "sighting", HL_PRIO_SIGHTING,
			                             msg_id, NULL, rec, (int64_t)i);
		}
		rc = rc == 0 ? hl_store_commit(s) : rc;
	}
	double t_enq = now_s() - t0;

	/* Send cycle: fetch a batch of due messages, mark them sent; later the
	 * peer's ACKs arrive and are recorded, a batch per transaction. */
	double t_send = 0, t_ack = 0;
	size_t acked = 0;
	while (rc == 0) {
		struct due_ids d = {.ids = ids};
		double t1 = now_s();
		rc = hl_store_begin(s);
		if (rc == 0)
			rc = hl_store_outbox_next_due(s, "bravo", INT64_MAX - 1, batch, take, &d,
			                              NULL);
		for (size_t k = 0; k < d.n && rc == 0; k++)
			rc = hl_store_outbox_mark_sent(s, ids[k], 1, INT64_MAX);
		rc = rc == 0 ? hl_store_commit(s) : rc;
		double t2 = now_s();
		t_send += t2 - t1;
		if (d.n == 0 || rc != 0)
			break;
		rc = hl_store_begin(s);
		for (size_t k = 0; k < d.n && rc == 0; k++)
			rc = hl_store_outbox_ack(s, "bravo", ids[k], 2);
		rc = rc == 0 ? hl_store_commit(s) : rc;
		t_ack += now_s() - t2;
		acked += d.n;
	}
	size_t depth = 1;
	if (rc == 0)
		rc = hl_store_outbox_depth(s, "bravo", &depth);
	if (rc != 0 || acked != n || depth != 0) {
		fprintf(stderr, "bench_store: outbox: %s (acked %zu of %zu)\n", hl_store_errmsg(s),
		        acked, n);
		free(ids);
		discard(b, &s);
		return 1;
	}
	const char *ids_kind = random_ids ? "random ids" : "ordered ids";
	printf("outbox enqueue     %-15s batch %5zu: %7zu rows %7.3f s %8.0f rows/s\n", ids_kind,
	       batch, n, t_enq, (double)n / t_enq);
	printf("outbox due+mark    %-15s batch %5zu: %7zu rows %7.3f s %8.0f rows/s\n", ids_kind,
	       batch, n, t_send, (double)n / t_send);
	printf("outbox ack         %-15s batch %5zu: %7zu rows %7.3f s %8.0f rows/s\n", ids_kind,
	       batch, n, t_ack, (double)n / t_ack);
	printf("outbox full cycle  %-15s            : %7zu msgs %7.3f s %8.0f msgs/s\n", ids_kind,
	       n, t_enq + t_send + t_ack, (double)n / (t_enq + t_send + t_ack));
	free(ids);
	discard(b, &s);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {.dir = argc > 1 ? argv[1] : "."};
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
	if (n == 0) {
		fprintf(stderr, "usage: bench_store [DIR] [N]\n");
		return 2;
	}
	printf("bench_store: SQLite %s, WAL, synchronous=FULL, dir %s, N=%zu\n",
	       sqlite3_libversion(), b.dir, n);
	const struct inbound_run runs[] = {
	        {"sighting+inbox", 1, false, false, true, true},
	        {"sighting+inbox", 64, false, false, true, true},
	        {"sighting+inbox", 1024, false, false, true, true},
	        {"sighting+inbox+audit", 1024, true, false, true, true},
	        {"sighting(derived id)+inbox", 1024, false, true, true, true},
	        {"sighting+inbox, no sent_at in key", 1024, false, false, true, false},
	        {"sighting+inbox, ordered ids, no sent_at", 1024, false, false, false, false},
	};
	int rc = 0;
	const char *only = getenv("BENCH_STORE_ONLY");
	for (size_t i = 0; i < sizeof runs / sizeof runs[0] && rc == 0; i++)
		if (only == NULL || (size_t)atoi(only) == i)
			rc = run_inbound(&b, n, &runs[i]);
	if (only != NULL)
		return rc;
	if (rc == 0)
		rc = run_outbox(&b, n, 1024, false);
	if (rc == 0)
		rc = run_outbox(&b, n, 1024, true);
	return rc;
}
