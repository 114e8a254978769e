/* \summary: writing indicator sets (native JSON lines, STIX 2.1 bundle) */
#ifndef HOTLINE_EXPORT_H
#define HOTLINE_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "hotline/iset.h"

/* One compact JSON object per line, keys sorted: the canonical form. */
int hl_write_native(FILE *out, const hl_iset_t *set);
/* Serialise one indicator as its canonical native line (no newline) into a
 * malloc'd string. */
char *hl_indicator_to_native(const struct hl_indicator *ind);

/* A STIX 2.1 bundle of indicator objects (pattern_type "stix" for ip,
 * domain, url; content/regex/uri have no STIX cyber-observable pattern and
 * are written with pattern_type "snort"/"pcre"/"hotline" respectively, so
 * a round trip through hotline keeps them). TLP as marking-definition
 * references. now (µs) stamps "created"/"modified" when 0 = wall clock. */
int hl_write_stix(FILE *out, const hl_iset_t *set, int64_t now);

#endif
