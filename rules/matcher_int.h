/* \summary: the matcher's insides, shared by its compile, match and .hlx files
 *
 * Internal to hotline_rules. A matcher owns copies of its indicators in
 * canonical order (type, then value bytewise); an indicator's index in that
 * array is its id everywhere: prefix-set and name-table values, Hyperscan
 * pattern ids, hl_match.indicator.
 *
 * The copies live in one block (the store): the indicator array, then every
 * sources/tags array, then every string, NUL-terminated. One allocation
 * instead of five or more per indicator is what makes a load cheap (and a
 * destroy one free()); the indicators are never modified or freed one by
 * one, so hl_indicator_clear must never be called on them.
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
	struct hl_indicator *inds; /* n indicators, canonical order, in store */
	size_t n;
	void *store; /* inds, their list arrays, their strings */
	size_t store_len;
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
	/* The loader places the databases in blocks of its own
	 * (hs_deserialize_database_at); NULL: Hyperscan allocated them. */
	void *block_mem, *stream_mem;
	size_t ind_bytes; /* heap held by the store */
};

/* Where the next list array and string go while a store is filled. */
struct hl_store {
	char **ptrs, **ptrs_end;
	char *bytes, *bytes_end;
};

struct hl_scratch {
	hs_scratch_t *hs; /* NULL until a matcher with payload patterns is seen */
};

/* Canonical order of indicators: type, then value bytewise. */
int hl_matcher_ind_cmp(const struct hl_indicator *a, const struct hl_indicator *b);

/* An empty matcher with empty tables; NULL on out of memory. */
hl_matcher_t *hl_matcher_alloc(void);

/* Give m (which has none yet) a store for n indicators, ptrs list slots
 * and bytes string bytes (NULs included); st points at the free room. The
 * indicators are not initialised: the caller sets each whole before
 * counting it in m->n. Sets m->inds, m->store, m->ind_bytes. HL_ENOMEM or
 * HL_ELIMIT. */
int hl_matcher_store_alloc(hl_matcher_t *m, size_t n, size_t ptrs, size_t bytes,
                           struct hl_store *st);

/* Copy len bytes and a NUL into the store; NULL when they do not fit. */
char *hl_store_str(struct hl_store *st, const void *s, size_t len);

/* n list slots from the store (NULL for n == 0 or when they do not fit:
 * check n before treating NULL as failure). */
char **hl_store_ptrs(struct hl_store *st, size_t n);

/* Free m's Hyperscan databases, however they were made; both NULL after. */
void hl_matcher_hs_free(hl_matcher_t *m);

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
