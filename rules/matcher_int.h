/* \summary: the matcher's insides, shared by its compile, match and .hlx files
 *
 * Internal to hotline_rules. A matcher owns deep copies of its indicators
 * in canonical order (type, then value bytewise); an indicator's index in
 * that array is its id everywhere: prefix-set and name-table values,
 * Hyperscan pattern ids, hl_match.indicator.
 */
#ifndef HOTLINE_RULES_MATCHER_INT_H
#define HOTLINE_RULES_MATCHER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "hotline/matcher.h"
#include "name_table.h"
#include "prefix_set.h"

struct hl_matcher {
	struct hl_indicator *inds; /* n owned indicators, canonical order */
	size_t n;
	size_t by_type[HL_IND_TYPE_COUNT];
	uint64_t version;
	uint8_t hash[HL_SHA256_LEN];
	hl_allowlist_t *allow; /* own copy; never NULL once built */
	size_t allow_count;    /* 0: skip every allowlist lookup */
	hl_prefix_set_t *ips;
	hl_name_table_t *domains;
	hl_name_table_t *urls;
	hl_name_table_t *uris;
	hs_database_t *block_db;  /* NULL when there is no payload indicator */
	hs_database_t *stream_db; /* NULL likewise */
	size_t ind_bytes;         /* heap held by inds */
};

struct hl_scratch {
	hs_scratch_t *hs; /* NULL until a matcher with payload patterns is seen */
};

/* Canonical order of indicators: type, then value bytewise. */
int hl_matcher_ind_cmp(const struct hl_indicator *a, const struct hl_indicator *b);

/* An empty matcher with empty tables; NULL on out of memory. */
hl_matcher_t *hl_matcher_alloc(void);

/* Index m->inds into the prefix set and name tables and fill by_type and
 * ind_bytes. An ip value that does not parse is HL_EINVAL. */
int hl_matcher_index(hl_matcher_t *m);

/* Replace m's allowlist by a copy of al (NULL: empty). */
int hl_matcher_copy_allowlist(hl_matcher_t *m, const hl_allowlist_t *al);

/* Compile the content/regex indicators inds[0..n) into a block and a
 * streaming database. A pattern that will not compile is left out with a
 * diag error and rejected[i] set. Pattern ids: with renumber, the kept
 * patterns get base, base+1, ... in order (their indexes once the rejected
 * ones are dropped); without, pattern i keeps id base+i. Both databases
 * are NULL when no pattern is kept. 0, HL_ENOMEM, or HL_ECOMPILE when the
 * patterns fail together although each compiles alone. */
int hl_matcher_hs_build(const struct hl_indicator *const *inds, size_t n, uint32_t base,
                        bool renumber, bool *rejected, hs_database_t **block,
                        hs_database_t **stream, struct hl_diag *diag);

/* Bytes held by the Hyperscan databases. */
size_t hl_matcher_hs_memory(const hl_matcher_t *m);

#endif
