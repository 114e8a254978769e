/* \summary: load a matcher from indicator files or a compiled .hlx set
 *
 * What the sensor (and hotline-rules) do with "-R FILE...": one .hlx file
 * is loaded as it is; otherwise every file is read in its format, merged
 * into one set and compiled. Bad records are reported through the diag and
 * skipped, as Suricata does with bad rules, so one broken line in a large
 * feed does not leave a sensor blind; a file that cannot be read at all, or
 * a set that does not compile, fails the load.
 */
#ifndef HOTLINE_SETLOAD_H
#define HOTLINE_SETLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "hotline/diag.h"
#include "hotline/matcher.h"
#include "hotline/parse.h"

struct hl_setload_opts {
	enum hl_format format;      /* for every indicator file (HL_FMT_AUTO) */
	const char *default_source; /* may be NULL */
	enum hl_tlp default_tlp;
	const char *const *allowlists; /* allowlist files, compiled into the set */
	size_t n_allowlists;
	int64_t now; /* µs: leave out indicators expired before it; 0 keeps all */
};

void hl_setload_opts_init(struct hl_setload_opts *opts);

/* 0 and *out, or a negative HL_E* code with the reasons on diag. stats may
 * be NULL (a loaded .hlx reports its counts only). */
int hl_set_load(const char *const *paths, size_t n_paths, const struct hl_setload_opts *opts,
                hl_matcher_t **out, struct hl_compile_stats *stats, struct hl_diag *diag);

#endif
