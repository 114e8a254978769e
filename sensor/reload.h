/* \summary: reload the indicator set off the packet path (SIGHUP, --watch, push)
 *
 * An hl_reload_t owns one background thread. When asked (hl_reload_request,
 * a change to a watched file, or hl_reload_push), that thread loads a new
 * set with hl_set_load() from the configured files and options, exactly as
 * the sensor does at start-up, and publishes it into the matcher slot. A
 * load that fails (a file that cannot be read, a set that does not
 * compile) is logged with its FILE:LINE diagnostics and counted, and the
 * current generation stays: a failed reload never disturbs matching. Bad
 * records are skipped and logged, as at start-up, without failing the
 * load. Workers are never blocked: they pick the new generation up from
 * the slot (matcher_slot.h). Operator view: docs/operations.md, "Reloading indicators".
 *
 * Coalescing: while a load runs, any number of triggers add up to one more
 * load after it. A request for the configured files and a pushed set that
 * are both pending do not both load: the later trigger wins (each load
 * replaces the whole set, so loading the earlier one would be wasted), and
 * the log says which one was superseded.
 *
 * --watch watches the directories of the indicator and allowlist files
 * (inotify), not the files, so an editor or a feed job that writes a new
 * file and renames it over the old one is seen; events for other names in
 * those directories are ignored. A burst of events (a write in chunks,
 * several files replaced together) becomes one load once no event has
 * come for debounce_ms (at most 10 x debounce_ms after the first).
 */
#ifndef HOTLINE_SENSOR_RELOAD_H
#define HOTLINE_SENSOR_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hotline/setload.h"
#include "matcher_slot.h"

/* hl_set_load's signature; replaceable for tests (or a future loader). */
typedef int (*hl_reload_load_fn)(void *ctx, const char *const *paths, size_t n_paths,
                                 const struct hl_setload_opts *opts, hl_matcher_t **out,
                                 struct hl_compile_stats *stats, struct hl_diag *diag);

struct hl_reload_config {
	const char *const *paths; /* the -R files (copied) */
	size_t n_paths;
	struct hl_setload_opts load; /* as for the start-up load (copied, with
	                                its allowlist paths and source) */
	bool live;                   /* set load.now to the wall clock at each load */
	bool watch;                  /* --watch */
	unsigned debounce_ms;        /* quiet time before a watched change loads (200) */
	unsigned max_diag_lines;     /* per load; the rest are counted (50) */
	FILE *log;                   /* NULL: stderr */
	const char *log_prefix;      /* "hotline-sensor: " */
	hl_reload_load_fn load_fn;   /* NULL: hl_set_load */
	void *load_ctx;
};

void hl_reload_config_init(struct hl_reload_config *cfg);

typedef struct hl_reload hl_reload_t;

/* Start the thread (with every signal blocked, so handlers run elsewhere).
 * slot must outlive the reload. NULL, with the reason on the log, when a
 * watched directory cannot be watched or on out of memory. */
hl_reload_t *hl_reload_new(const struct hl_reload_config *cfg, hl_matcher_slot_t *slot);
/* Stop and join the thread, then free. Waits for a load in progress to end
 * (a compile cannot be interrupted); its result is discarded, not
 * published. NULL accepted; *r_p becomes NULL. */
void hl_reload_destroy(hl_reload_t **r_p);

/* Ask for a reload of the configured files. Async-signal-safe (atomics and
 * one write(2) to an eventfd; errno is preserved): call it from a SIGHUP
 * handler. r NULL: nothing happens. */
void hl_reload_request(hl_reload_t *r);
/* Ask the thread to end without waiting (async-signal-safe); a load in
 * progress is discarded when it returns. hl_reload_destroy still joins. */
void hl_reload_stop(hl_reload_t *r);
/* Load the set in path (written completely by the caller before the call,
 * e.g. a set the sharer received) instead of the configured files, once,
 * with the same options. Later requests and watched changes load the
 * configured files again. 0, HL_EINVAL or HL_ENOMEM. Not signal-safe. */
int hl_reload_push(hl_reload_t *r, const char *path);

struct hl_reload_stats {
	uint64_t requests;         /* hl_reload_request calls */
	uint64_t pushes;           /* hl_reload_push calls */
	uint64_t watch_events;     /* inotify events on a watched name */
	uint64_t loads;            /* loads started */
	uint64_t ok;               /* published */
	uint64_t failed;           /* the old generation kept */
	uint64_t discarded;        /* finished after a stop: not published */
	uint64_t superseded;       /* pending triggers dropped for a later one */
	uint64_t last_duration_us; /* of the last load, ok or not */
	uint64_t last_bad_records; /* records skipped in the last load */
	uint64_t generation;       /* the slot's current generation */
	size_t indicators;         /* in the current generation */
	char last_error[512];      /* why the last failed load failed; "" if none */
};

void hl_reload_stats(hl_reload_t *r, struct hl_reload_stats *st);

/* Wait until at least `done` loads have ended (ok + failed + discarded),
 * at most timeout_ms (< 0: no limit). 0, or HL_EAGAIN on timeout. For
 * tests and for callers that want a reload's outcome. */
int hl_reload_wait(hl_reload_t *r, uint64_t done, int timeout_ms);

#endif
