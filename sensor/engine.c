/* \summary: reader thread, worker threads and the rings between them */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hotline/err.h"
#include "ring.h"
#include "shard.h"
#include "stats_print.h"

#define HL_ENGINE_PUBLISH_EVERY 4096u /* frames between stats snapshots */
#define HL_ENGINE_BATCH 64u           /* frame references per ring record */
#define HL_ENGINE_WAIT_SPINS 64u      /* release checks before sleeping */

/* What the reader writes into a ring: a copy of a frame (libpcap's buffer
 * is reused at the next read), or a batch of references to frames that
 * stay in the capture's block pool until the worker says it is done. */
enum { REC_FRAME = 1, REC_BATCH = 2 };

struct frame_rec { /* REC_FRAME, then caplen bytes */
	uint32_t kind;
	int32_t linktype;
	uint32_t caplen, wirelen;
	int64_t ts;
};

struct batch_rec { /* REC_BATCH, then n struct frame_ref */
	uint32_t kind, n;
	uint64_t end_pos; /* pos of the last frame */
};

struct frame_ref {
	int64_t ts;
	const uint8_t *data;
	uint32_t caplen, wirelen;
	int32_t linktype;
	uint32_t pad;
};

/* The reader sleeps here when it needs a block that workers still use. */
struct release_wait {
	atomic_int waiting;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

struct worker_slot {
	hl_worker_t *worker;
	hl_ring_t *ring;
	struct release_wait *rw;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards snapshot */
	struct hl_worker_stats snapshot;
	/* worker: pos of the last frame of the last batch it finished */
	_Alignas(64) atomic_uint_least64_t done;
	/* reader only: the batch being filled, and what was committed */
	_Alignas(64) uint64_t committed;
	uint64_t pending_end;
	unsigned n_pending;
	struct frame_ref pending[HL_ENGINE_BATCH];
};

/* What the reader's callbacks need. */
struct reader {
	struct worker_slot *slots;
	unsigned n;
	struct release_wait rw;
};

void hl_engine_config_init(struct hl_engine_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	hl_capture_config_init(&cfg->capture);
	hl_worker_config_init(&cfg->worker);
	cfg->workers = 1;
	cfg->ring_bytes = 8u << 20;
}

static void publish(struct worker_slot *slot)
{
	struct hl_worker_stats st;
	hl_worker_stats(slot->worker, &st);
	pthread_mutex_lock(&slot->lock);
	slot->snapshot = st;
	pthread_mutex_unlock(&slot->lock);
}

/* A batch is done: its frames' blocks may be reused. */
static void batch_done(struct worker_slot *slot, uint64_t end_pos)
{
	atomic_store(&slot->done, end_pos);
	if (atomic_load(&slot->rw->waiting)) {
		pthread_mutex_lock(&slot->rw->lock);
		pthread_cond_broadcast(&slot->rw->cond);
		pthread_mutex_unlock(&slot->rw->lock);
	}
}

static void *worker_main(void *arg)
{
	struct worker_slot *slot = arg;
	const uint8_t *rec;
	size_t len;
	unsigned n = 0;
	while ((rec = hl_ring_peek(slot->ring, &len, true)) != NULL) {
		uint32_t kind;
		memcpy(&kind, rec, sizeof kind);
		if (kind == REC_BATCH) {
			struct batch_rec b;
			memcpy(&b, rec, sizeof b);
			for (uint32_t i = 0; i < b.n; i++) {
				struct frame_ref r;
				memcpy(&r, rec + sizeof b + i * sizeof r, sizeof r);
				struct hl_frame f = {r.ts, r.caplen, r.wirelen, r.linktype, r.data};
				hl_worker_process(slot->worker, &f);
				if (++n % HL_ENGINE_PUBLISH_EVERY == 0)
					publish(slot);
			}
			hl_ring_release(slot->ring);
			batch_done(slot, b.end_pos);
			continue;
		}
		struct frame_rec h;
		memcpy(&h, rec, sizeof h);
		struct hl_frame f = {h.ts, h.caplen, h.wirelen, h.linktype, rec + sizeof h};
		hl_worker_process(slot->worker, &f);
		hl_ring_release(slot->ring);
		if (++n % HL_ENGINE_PUBLISH_EVERY == 0)
			publish(slot);
	}
	hl_worker_flush(slot->worker);
	publish(slot);
	return NULL;
}

static double now_s(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counter structs made only of 64-bit counters add up word by word. */
static void add_words(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;
	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		d[i] += s[i];
}

static void sum_stats(struct hl_worker_stats *total, const struct hl_worker_stats *w)
{
	total->packets += w->packets;
	total->bytes += w->bytes;
	total->decoded += w->decoded;
	total->sightings += w->sightings;
	total->updates += w->updates;
	total->output_errors += w->output_errors;
	total->app_memory_refused += w->app_memory_refused;
	add_words(&total->decode, &w->decode, sizeof w->decode);
	add_words(&total->flow, &w->flow, sizeof w->flow);
	add_words(&total->tcp, &w->tcp, sizeof w->tcp);
	add_words(&total->dns, &w->dns, sizeof w->dns);
	add_words(&total->http, &w->http, sizeof w->http);
	add_words(&total->tls, &w->tls, sizeof w->tls);
	total->depth_skipped += w->depth_skipped;
	total->match_errors += w->match_errors;
	total->app_memory += w->app_memory;
	total->switches += w->switches;
	add_words(&total->evidence, &w->evidence, sizeof w->evidence);
	add_words(&total->enrich, &w->enrich, sizeof w->enrich);
	if (w->generation > total->generation)
		total->generation = w->generation;
	if (w->last_ts > total->last_ts)
		total->last_ts = w->last_ts;
}

static void collect(struct worker_slot *slots, unsigned n, struct hl_worker_stats *total)
{
	memset(total, 0, sizeof *total);
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&slots[i].lock);
		sum_stats(total, &slots[i].snapshot);
		pthread_mutex_unlock(&slots[i].lock);
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void progress_line(const struct hl_capture_stats *cs, double elapsed, FILE *out)
{
	double done = cs->bytes_total > 0 ? (double)cs->bytes_read / (double)cs->bytes_total : 0;
	double rate = elapsed > 0 ? (double)cs->bytes_read / elapsed : 0;
	double eta = rate > 0 ? (double)(cs->bytes_total - cs->bytes_read) / rate : 0;
	fprintf(out, "\rreplay: %.1f/%.1f MB (%3.0f%%), %.1f MB/s, ETA %.0f s   ",
	        (double)cs->bytes_read / 1e6, (double)cs->bytes_total / 1e6, done * 100, rate / 1e6,
	        eta);
	fflush(out);
}

static void stop_workers(struct worker_slot *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (slots[i].ring != NULL)
			hl_ring_close(slots[i].ring);
	}
	for (unsigned i = 0; i < n; i++) {
		if (slots[i].started)
			pthread_join(slots[i].thread, NULL);
		slots[i].started = false;
	}
}

static void free_slots(struct worker_slot *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		hl_worker_destroy(&slots[i].worker);
		hl_ring_destroy(&slots[i].ring);
		pthread_mutex_destroy(&slots[i].lock);
	}
	free(slots);
}

/* Reader: commit worker w's pending batch to its ring. */
static void flush_batch(struct worker_slot *slot)
{
	if (slot->n_pending == 0)
		return;
	size_t len = sizeof(struct batch_rec) + slot->n_pending * sizeof(struct frame_ref);
	uint8_t *p = hl_ring_reserve(slot->ring, len, true);
	if (p != NULL) {
		struct batch_rec b = {REC_BATCH, slot->n_pending, slot->pending_end};
		memcpy(p, &b, sizeof b);
		memcpy(p + sizeof b, slot->pending, slot->n_pending * sizeof(struct frame_ref));
		hl_ring_commit(slot->ring);
		slot->committed = slot->pending_end;
	}
	slot->n_pending = 0;
}

static void flush_batches(struct reader *r)
{
	for (unsigned i = 0; i < r->n; i++)
		flush_batch(&r->slots[i]);
}

/* Hand a frame to worker w: a reference when it is held in the capture's
 * block pool, else a copy. */
static void push_frame(struct worker_slot *slot, const struct hl_frame *f, uint64_t held)
{
	if (held != 0) {
		struct frame_ref ref = {f->ts, f->data, f->caplen, f->wirelen, f->linktype, 0};
		slot->pending[slot->n_pending++] = ref;
		slot->pending_end = held;
		if (slot->n_pending == HL_ENGINE_BATCH)
			flush_batch(slot);
		return;
	}
	flush_batch(slot); /* keep the worker's frames in order */
	uint8_t *p = hl_ring_reserve(slot->ring, sizeof(struct frame_rec) + f->caplen, true);
	if (p != NULL) {
		struct frame_rec h = {REC_FRAME, f->linktype, f->caplen, f->wirelen, f->ts};
		memcpy(p, &h, sizeof h);
		memcpy(p + sizeof h, f->data, f->caplen);
		hl_ring_commit(slot->ring);
	}
}

/* No worker still uses a frame at or before upto. A worker's frames not
 * yet done all lie after its done mark, so one whose mark is behind upto
 * may still hold such a frame unless it has done all it was given. */
static bool released(struct reader *r, uint64_t upto)
{
	for (unsigned i = 0; i < r->n; i++) {
		uint64_t done = atomic_load(&r->slots[i].done);
		if (done < upto && done < r->slots[i].committed)
			return false;
	}
	return true;
}

/* The capture's wait_release: the pending batches go out first, or the
 * workers could never finish what holds the block. */
static int wait_release(void *ctx, uint64_t upto)
{
	struct reader *r = ctx;
	flush_batches(r);
	for (unsigned spins = 0; !released(r, upto); spins++) {
		if (spins < HL_ENGINE_WAIT_SPINS) {
			sched_yield();
			continue;
		}
		struct release_wait *rw = &r->rw;
		pthread_mutex_lock(&rw->lock);
		atomic_store(&rw->waiting, 1);
		if (!released(r, upto)) {
			/* the timeout only bounds a missed wake-up (none should be) */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 10 * 1000 * 1000;
			if (until.tv_nsec >= 1000 * 1000 * 1000) {
				until.tv_sec++;
				until.tv_nsec -= 1000 * 1000 * 1000;
			}
			pthread_cond_timedwait(&rw->cond, &rw->lock, &until);
		}
		atomic_store(&rw->waiting, 0);
		pthread_mutex_unlock(&rw->lock);
	}
	return 0;
}

static int start_worker_threads(const struct hl_engine_config *cfg, struct worker_slot *slots,
                                FILE *log);

/* Workers are started with every signal blocked, so SIGINT/SIGTERM/SIGHUP
 * land in the reader thread: that interrupts its blocking capture read
 * (live capture in immediate mode waits without a timeout). */
static int start_workers(const struct hl_engine_config *cfg, struct worker_slot *slots, FILE *log)
{
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	int rc = start_worker_threads(cfg, slots, log);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return rc;
}

/* Files mostly travel as batches of references (32 bytes a frame), and
 * every page of a ring costs a fault the first time round: a small ring
 * will do, as long as a copied frame of the largest size fits (ring.h). */
static size_t ring_bytes(const struct hl_engine_config *cfg)
{
	size_t small = 2u << 20;
	if (cfg->capture.iface != NULL || cfg->ring_bytes <= small)
		return cfg->ring_bytes;
	return small;
}

static int start_worker_threads(const struct hl_engine_config *cfg, struct worker_slot *slots,
                                FILE *log)
{
	for (unsigned i = 0; i < cfg->workers; i++) {
		slots[i].worker = hl_worker_new(&cfg->worker, i);
		slots[i].ring = hl_ring_new(ring_bytes(cfg));
		if (slots[i].worker == NULL || slots[i].ring == NULL) {
			fprintf(log, "hotline-sensor: cannot set up worker %u: out of memory\n", i);
			return HL_ENOMEM;
		}
		publish(&slots[i]);
		int rc = pthread_create(&slots[i].thread, NULL, worker_main, &slots[i]);
		if (rc != 0) {
			fprintf(log, "hotline-sensor: cannot start worker %u: %s\n", i,
			        strerror(rc));
			return HL_ENOMEM;
		}
		slots[i].started = true;
	}
	return 0;
}

/* Reader loop: returns when the input ends or *stop is set. */
static void read_frames(const struct hl_engine_config *cfg, hl_capture_t *cap, struct reader *r,
                        struct hl_engine_result *res, FILE *log)
{
	struct worker_slot *slots = r->slots;
	uint32_t seed = (uint32_t)getpid();
	double start = now_s(CLOCK_MONOTONIC), last_stats = start, last_progress = start;
	char err[512];
	unsigned since_check = 0;
	for (;;) {
		if (cfg->stop != NULL && atomic_load(cfg->stop))
			break;
		struct hl_frame f;
		int rc = hl_capture_next(cap, &f, err, sizeof err);
		/* Checked after the read: a SIGHUP that interrupted it ran its
		 * handler before the read returned, so every record this frame
		 * causes already goes to the reopened file. */
		if (cfg->reopen != NULL && atomic_load(cfg->reopen)) {
			atomic_store((atomic_bool *)cfg->reopen, false);
			for (size_t i = 0; i < cfg->n_outputs; i++)
				hl_output_request_reopen(cfg->outputs[i]);
		}
		if (rc == 1) {
			unsigned w = hl_shard_of(f.linktype, f.data, f.caplen, seed, cfg->workers);
			push_frame(&slots[w], &f, hl_capture_held(cap));
			if (++since_check < 1024)
				continue;
		} else if (rc == 0) {
			break;
		} else if (rc != HL_EAGAIN) {
			/* a read cut short by SIGINT/SIGTERM is the stop, not bad input */
			if (cfg->stop != NULL && atomic_load(cfg->stop))
				break;
			fprintf(log, "hotline-sensor: %s\n", err);
			res->input_errors++;
			if (hl_capture_is_live(cap))
				break;
		}
		since_check = 0;
		double t = now_s(CLOCK_MONOTONIC);
		if (cfg->progress && t - last_progress >= 0.5) {
			struct hl_capture_stats cs;
			hl_capture_stats(cap, &cs);
			progress_line(&cs, t - start, log);
			last_progress = t;
		}
		if (cfg->stats_interval_s > 0 && t - last_stats >= cfg->stats_interval_s) {
			hl_capture_stats(cap, &res->capture);
			collect(slots, cfg->workers, &res->total);
			res->seconds = t - start;
			res->cpu_seconds = cpu_seconds();
			if (cfg->progress)
				fputc('\n', log);
			struct hl_sharer_link_stats ls;
			if (cfg->sharer_link != NULL)
				hl_sharer_link_stats(cfg->sharer_link, &ls);
			hl_sensor_print_stats(res, cfg->sharer_link != NULL ? &ls : NULL,
			                      cfg->stats_json, false, log);
			last_stats = t;
		}
	}
	flush_batches(r);
	if (cfg->progress) {
		struct hl_capture_stats cs;
		hl_capture_stats(cap, &cs);
		progress_line(&cs, now_s(CLOCK_MONOTONIC) - start, log);
		fputc('\n', log);
	}
}

int hl_engine_run(const struct hl_engine_config *cfg, struct hl_engine_result *res, FILE *log)
{
	memset(res, 0, sizeof *res);
	if (cfg->workers == 0)
		return HL_EINVAL;
	/* aligned: the slots' reader and worker parts sit on cache lines of
	 * their own */
	struct worker_slot *slots =
	        aligned_alloc(_Alignof(struct worker_slot), cfg->workers * sizeof *slots);
	if (slots == NULL)
		return HL_ENOMEM;
	memset(slots, 0, cfg->workers * sizeof *slots);
	struct reader r = {.slots = slots, .n = cfg->workers};
	atomic_init(&r.rw.waiting, 0);
	pthread_mutex_init(&r.rw.lock, NULL);
	pthread_cond_init(&r.rw.cond, NULL);
	for (unsigned i = 0; i < cfg->workers; i++) {
		pthread_mutex_init(&slots[i].lock, NULL);
		atomic_init(&slots[i].done, 0);
		slots[i].rw = &r.rw;
	}

	char err[512];
	struct hl_capture_config ccfg = cfg->capture;
	ccfg.wait_release = wait_release;
	ccfg.wait_ctx = &r;
	hl_capture_t *cap = hl_capture_open(&ccfg, err, sizeof err);
	int rc = 0;
	if (cap == NULL) {
		fprintf(log, "hotline-sensor: %s\n", err);
		rc = HL_EIO;
	} else if (cfg->after_open != NULL &&
	           cfg->after_open(cfg->after_open_ctx, err, sizeof err) != 0) {
		fprintf(log, "hotline-sensor: %s\n", err);
		rc = HL_EPERM;
	}
	if (rc != 0) {
		hl_capture_close(&cap);
		free_slots(slots, cfg->workers);
		pthread_mutex_destroy(&r.rw.lock);
		pthread_cond_destroy(&r.rw.cond);
		return rc;
	}

	double start = now_s(CLOCK_MONOTONIC);
	rc = start_workers(cfg, slots, log);
	if (rc == 0)
		read_frames(cfg, cap, &r, res, log);
	stop_workers(slots, cfg->workers);

	hl_capture_stats(cap, &res->capture);
	collect(slots, cfg->workers, &res->total);
	res->seconds = now_s(CLOCK_MONOTONIC) - start;
	res->cpu_seconds = cpu_seconds();
	free_slots(slots, cfg->workers);
	/* after the workers: their frames pointed into the capture's blocks */
	hl_capture_close(&cap);
	pthread_mutex_destroy(&r.rw.lock);
	pthread_cond_destroy(&r.rw.cond);
	return rc;
}
