/* \summary: sighting sinks: JSON lines to a file or stdout
 *
 * Thread-safe: workers write whole lines under the output's lock (sightings
 * are rare next to packets). A file is opened for append and reopened when
 * hl_output_request_reopen() was called (from a SIGHUP handler: it only
 * sets a flag), so log rotation needs no restart. In deterministic mode
 * lines are kept and written sorted at close, so that the output of a
 * replay does not depend on worker scheduling.
 */
#ifndef HOTLINE_SENSOR_OUTPUT_H
#define HOTLINE_SENSOR_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct hl_output hl_output_t;

struct hl_output_stats {
	unsigned long lines;
	unsigned long write_errors;
	unsigned long reopens;
};

/* path "-" is stdout. keep_lines: also keep every line in memory (for
 * --expect and deterministic mode). NULL with *err set on failure. */
hl_output_t *hl_output_open(const char *path, bool deterministic, bool keep_lines, int *err);
/* A sink that hands each line to fn instead of a file (the sharer link):
 * fn is called under the output's lock, with the line without its newline,
 * and must not block for long. Its nonzero return counts as a write error.
 * Reopen requests are ignored; never deterministic. */
typedef int (*hl_output_fn)(void *ctx, const char *line, size_t len);
hl_output_t *hl_output_open_fn(hl_output_fn fn, void *ctx, int *err);
/* Write one line (without its newline). 0 or a negative HL_E* code. */
int hl_output_write(hl_output_t *out, const char *line, size_t len);
/* Async-signal-safe: the next write reopens the file. */
void hl_output_request_reopen(hl_output_t *out);
/* Lines kept (keep_lines or deterministic), in write order or, after
 * hl_output_finish(), sorted when deterministic. */
size_t hl_output_lines(const hl_output_t *out, const char *const **lines);
/* Flush; in deterministic mode sort and write the kept lines. */
int hl_output_finish(hl_output_t *out);
void hl_output_stats(hl_output_t *out, struct hl_output_stats *st);
void hl_output_close(hl_output_t **out_p);

#endif
