/* \summary: indicator file readers (native JSON lines, lists, STIX 2.1, MISP)
 *
 * Every reader validates each record, normalises it and adds it to an
 * hl_iset_t. A bad record is reported as "FILE:LINE: why" through the diag
 * and skipped; the rest of the file is still read. The return value is 0
 * when the input could be read at all (check diag->errors for bad records),
 * or a negative HL_E* code when the whole input is unusable (cannot open,
 * not JSON at all, out of memory). Formats: docs/formats.md.
 */
#ifndef HOTLINE_PARSE_H
#define HOTLINE_PARSE_H

#include <stddef.h>

#include "hotline/diag.h"
#include "hotline/indicator.h"
#include "hotline/iset.h"

enum hl_format {
	HL_FMT_AUTO,
	HL_FMT_NATIVE,    /* JSON lines, one indicator object per line */
	HL_FMT_LIST,      /* "TYPE<TAB>VALUE" or bare values, '#' comments */
	HL_FMT_STIX,      /* STIX 2.1 bundle */
	HL_FMT_MISP_CSV,  /* MISP feed CSV export */
	HL_FMT_MISP_JSON, /* MISP event JSON (or feed manifest-style event) */
	HL_FMT_COUNT
};

#define HL_PARSE_MAX_LINE (64 * 1024)            /* bytes per line/record */
#define HL_PARSE_MAX_INPUT (1024L * 1024 * 1024) /* bytes per file */

struct hl_parse_opts {
	enum hl_format format;      /* HL_FMT_AUTO: hl_format_detect() */
	const char *default_source; /* source when a record names none; may be NULL */
	enum hl_tlp default_tlp;    /* TLP when a record has none (default amber) */
	int64_t now;                /* µs; for STIX "created" etc.; 0 = wall clock */
};

void hl_parse_opts_init(struct hl_parse_opts *opts);

/* Guess from the first non-blank bytes and the name's extension:
 * '{' with "type":"bundle" -> STIX; '{' with "Event"/"Attribute" -> MISP
 * JSON; '{' otherwise -> native; a CSV header with "uuid,event_id" or
 * "value" and "type" columns -> MISP CSV; anything else -> list. */
enum hl_format hl_format_detect(const char *data, size_t len, const char *name);
const char *hl_format_name(enum hl_format fmt); /* "native", "list", ... */
int hl_format_parse(const char *s, enum hl_format *out);

int hl_parse_file(const char *path, const struct hl_parse_opts *opts, hl_iset_t *out,
                  struct hl_diag *diag);
int hl_parse_buffer(const char *name, const char *data, size_t len,
                    const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag);

/* Per-format readers (the dispatcher and the fuzz targets call these).
 * data need not be NUL-terminated. */
int hl_parse_native(const char *name, const char *data, size_t len,
                    const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag);
int hl_parse_list(const char *name, const char *data, size_t len, const struct hl_parse_opts *opts,
                  hl_iset_t *out, struct hl_diag *diag);
int hl_parse_stix(const char *name, const char *data, size_t len, const struct hl_parse_opts *opts,
                  hl_iset_t *out, struct hl_diag *diag);
int hl_parse_misp_csv(const char *name, const char *data, size_t len,
                      const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag);
int hl_parse_misp_json(const char *name, const char *data, size_t len,
                       const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag);

#endif
