/* \summary: the matcher's insides, shared by its compile, match and .hlx files
 *
 * Internal to hotline_rules. A matcher holds its indicators in canonical
 * order (type, then value bytewise); an indicator's index in that order is
 * its id everywhere: prefix-set and value-table entries, Hyperscan pattern
 * ids, hl_match.indicator.
 *
 * The indicators live in one block, the store, laid out exactly as the
 * INDICATORS section of a .hlx file (docs/formats.md (.hlx)), so that a
 * load reads the section into the block and uses it where it lies:
 *
 *   head    struct hl_store_head (counts)
 *   recs    one 12-byte struct hl_irec per indicator: offsets of its value
 *           and id in strings, the index of its meta
 *   metas   struct hl_imeta, interned: everything but value and id (type,
 *           TLP, validity, sources, tags, description...). Indicators of
 *           one feed mostly share one.
 *   pool    uint32 words: string lists (sources, tags), interned, each a run
 *           [count, string offset...]
 *   strings NUL-terminated bytes: values, stored ids, interned sources,
 *           tags and descriptions
 *
 * An id of the derived form (hl_indicator_derive_id of type and value) is
 * not stored at all: HL_ID_DERIVED, recomputed when asked for. Views
 * (hl_matcher_view) hand out struct hl_indicator whose pointers point into
 * the store; hl_matcher_indicator keeps materialised copies made on first
 * use for callers that want a pointer with the matcher's lifetime.
 */
#ifndef HOTLINE_RULES_MATCHER_INT_H
#define HOTLINE_RULES_MATCHER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "hotline/matcher.h"
#include "prefix_set.h"
#include "vtable.h"

#define HL_NIL UINT32_MAX              /* no list, no description */
#define HL_ID_NONE UINT32_MAX          /* the indicator has no id */
#define HL_ID_DERIVED (UINT32_MAX - 1) /* id is hl_indicator_derive_id(type, value) */
#define HL_META_NOCASE 0x1u

struct hl_store_head {
	uint32_t n_recs, n_metas, n_pool, strings_len;
	uint32_t reserved[4]; /* zero */
};

struct hl_irec {
	uint32_t value; /* offset in strings */
	uint32_t meta;  /* index in metas */
	uint32_t id;    /* offset in strings, HL_ID_NONE or HL_ID_DERIVED */
};

struct hl_imeta {
	int64_t valid_from, valid_until;
	uint32_t sources, tags; /* pool offset of a run, or HL_NIL */
	uint32_t description;   /* offset in strings, or HL_NIL */
	int32_t confidence;
	uint8_t type, tlp, severity, flags;
	uint32_t reserved; /* zero */
};

_Static_assert(sizeof(struct hl_store_head) == 32, "store head layout");
_Static_assert(sizeof(struct hl_irec) == 12, "record layout");
_Static_assert(sizeof(struct hl_imeta) == 40, "meta layout");

/* Where each part of a store of these counts lies; false when they do
 * not fit a size_t or 32-bit offsets. */
struct hl_store_layout {
	size_t recs, metas, pool, strings, total;
};
bool hl_store_layout(size_t n_recs, size_t n_metas, size_t n_pool, size_t strings_len,
                     struct hl_store_layout *out);

struct hl_matcher {
	void *store; /* the block: head, recs, metas, pool, strings */
	size_t store_len;
	const struct hl_irec *recs;
	size_t n;
	const struct hl_imeta *metas;
	size_t n_metas;
	const uint32_t *pool;
	size_t n_pool;
	const char *strings;
	size_t strings_len;
	char **listv; /* n_pool: strings + pool[i], what list views point at */
	size_t by_type[HL_IND_TYPE_COUNT];
	uint64_t version;
	uint8_t hash[HL_SHA256_LEN];
	hl_allowlist_t *allow; /* own copy; never NULL once built */
	size_t allow_count;    /* 0: skip every allowlist lookup */
	hl_prefix_set_t *ips;
	hl_vtable_t *domains;
	hl_vtable_t *urls;
	hl_vtable_t *uris;
	hs_database_t *block_db;  /* NULL when there is no payload indicator */
	hs_database_t *stream_db; /* NULL likewise */
	/* The loader places the databases in blocks of its own
	 * (hs_deserialize_database_at); NULL: Hyperscan allocated them. */
	void *block_mem, *stream_mem;
	/* hl_matcher_indicator's copies: an array of n made on first use,
	 * each entry made on first use (compare-and-swap: the matcher is
	 * shared by threads). */
	_Atomic(struct hl_indicator *_Atomic *) cache;
};

struct hl_scratch {
	hs_scratch_t *hs; /* NULL until a matcher with payload patterns is seen */
};

static inline const struct hl_imeta *hl_m_meta(const hl_matcher_t *m, size_t idx)
{
	return &m->metas[m->recs[idx].meta];
}

static inline const char *hl_m_value(const hl_matcher_t *m, size_t idx)
{
	return m->strings + m->recs[idx].value;
}

static inline bool hl_m_valid_at(const struct hl_imeta *meta, int64_t ts)
{
	return (meta->valid_from == 0 || ts >= meta->valid_from) &&
	       (meta->valid_until == 0 || ts < meta->valid_until);
}

/* Canonical order of indicators: type, then value bytewise. */
int hl_matcher_ind_cmp(const struct hl_indicator *a, const struct hl_indicator *b);

/* An empty matcher; NULL on out of memory. */
hl_matcher_t *hl_matcher_alloc(void);

/* Build m's store from inds[0..n) (canonical order, distinct). HL_ENOMEM
 * or HL_ELIMIT. (matcher_store.c) */
int hl_matcher_store_build(hl_matcher_t *m, const struct hl_indicator *const *inds, size_t n);

/* Adopt block (len bytes, malloc'd, a store as read from a file) as m's
 * store after checking every count, offset, enum and string in it, and
 * the canonical order. On success m owns block; on failure the caller
 * still does, and the reason is returned. NULL: accepted.
 * (matcher_store.c) */
const char *hl_matcher_store_adopt(hl_matcher_t *m, void *block, size_t len);

/* Fill the view of indicator idx (idx < m->n): see hl_matcher_view. */
void hl_matcher_view_fill(const hl_matcher_t *m, size_t idx, struct hl_indicator *out,
                          char idbuf[HL_MATCHER_ID_BUF]);

/* Free the store, list views and copies of hl_matcher_indicator. */
void hl_matcher_store_free(hl_matcher_t *m);

/* Free m's Hyperscan databases, however they were made; both NULL after. */
void hl_matcher_hs_free(hl_matcher_t *m);

/* Index the store into the prefix set and value tables and fill by_type.
 * An ip value that does not parse is HL_EINVAL. */
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
