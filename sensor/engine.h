/* \summary: the sensor's threads: one reader, N workers, rings between
 *
 * The reader (the calling thread) pulls frames from the capture, picks the
 * worker by address pair (shard.h) and puts the frame into that worker's
 * ring; each worker thread drains its ring. Frames of classic pcap files
 * travel as references into the capture's block pool, 64 to a ring record,
 * and a block is refilled only once every worker is past it; other frames
 * (pcapng, live) are copied. For files the reader waits when a ring is
 * full, so a replay never loses a packet; live, it waits too and the
 * kernel buffer absorbs the burst (its drops are reported).
 */
#ifndef HOTLINE_SENSOR_ENGINE_H
#define HOTLINE_SENSOR_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "sharer_link.h"
#include "worker.h"

struct hl_engine_config {
	struct hl_capture_config capture;
	struct hl_worker_config worker;
	unsigned workers;          /* >= 1 */
	size_t ring_bytes;         /* per worker (default 8 MiB; files: at most 2 MiB) */
	double stats_interval_s;   /* 0: only at exit */
	bool stats_json;           /* stats lines as JSON on stderr */
	bool progress;             /* file replay progress line on stderr */
	const atomic_bool *stop;   /* set from a signal handler: stop reading */
	const atomic_bool *reopen; /* set on SIGHUP: outputs reopen */
	hl_output_t *const *outputs;
	size_t n_outputs;
	/* --sharer: its counters join every periodic stats block, as they do
	 * the final one (stats_print.h); borrowed, NULL: none. */
	hl_sharer_link_t *sharer_link;
	/* Called once the capture is open, before any packet is read (drops
	 * privileges with --user). Nonzero aborts the run; NULL: nothing. */
	int (*after_open)(void *ctx, char *err, size_t errlen);
	void *after_open_ctx;
};

void hl_engine_config_init(struct hl_engine_config *cfg);

struct hl_engine_result {
	struct hl_capture_stats capture;
	struct hl_worker_stats total; /* summed over workers */
	uint64_t input_errors;        /* files that ended early, or a capture failure */
	double seconds;               /* wall time */
	double cpu_seconds;
};

/* Run to the end of the input (or until *stop). Errors opening the capture
 * or starting workers return a negative HL_E* with the message on log;
 * input errors during the run are logged and counted, not fatal. */
int hl_engine_run(const struct hl_engine_config *cfg, struct hl_engine_result *res, FILE *log);

/* Print the stats block (text or one JSON line) for res to out. */
void hl_engine_print_stats(const struct hl_engine_result *res, bool json, bool final, FILE *out);

#endif
