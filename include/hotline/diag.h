/* \summary: diagnostics sink for parsers and compilers
 *
 * Parsers never print; they report "FILE:LINE: message" through a struct
 * hl_diag that the caller owns. Counters let a caller decide an exit code
 * (hotline-rules check exits 1 when errors > 0).
 */
#ifndef HOTLINE_DIAG_H
#define HOTLINE_DIAG_H

#include <stdio.h>

enum hl_diag_level {
	HL_DIAG_ERROR,   /* input rejected (a line, an object, a file) */
	HL_DIAG_WARNING, /* accepted, but probably not what was meant */
	HL_DIAG_SKIP,    /* valid input deliberately not used, with the reason */
	HL_DIAG_NOTE,    /* informational */
};

typedef void (*hl_diag_emit_fn)(void *ctx, enum hl_diag_level level, const char *file,
                                unsigned long line, const char *msg);

struct hl_diag {
	hl_diag_emit_fn emit; /* NULL: count only */
	void *ctx;
	unsigned long errors;
	unsigned long warnings;
	unsigned long skipped;
	unsigned long notes;
};

/* Count, format and emit one diagnostic. line 0 means "whole file".
 * diag may be NULL (then nothing happens). */
void hl_diag_report(struct hl_diag *diag, enum hl_diag_level level, const char *file,
                    unsigned long line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* An emit function writing "FILE:LINE: level: msg\n" to the FILE * in ctx. */
void hl_diag_emit_stream(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                         const char *msg);

const char *hl_diag_level_name(enum hl_diag_level level);

#endif
