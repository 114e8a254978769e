/* \summary: a mutable indicator collection with dedup and canonical hash
 *
 * Parsers add into an hl_iset_t; duplicates (same type and canonical value)
 * merge by hl_indicator_merge(). The canonical form, used for the content
 * hash two parties compare, is every indicator as compact JSON with sorted
 * keys (the native format), sorted by (type, value), one per line.
 */
#ifndef HOTLINE_ISET_H
#define HOTLINE_ISET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/indicator.h"

typedef struct hl_iset hl_iset_t;

#define HL_SHA256_LEN 32
#define HL_SHA256_HEX_LEN 65 /* with NUL */

hl_iset_t *hl_iset_new(void);
void hl_iset_destroy(hl_iset_t **set_p);

/* Add a normalised indicator. Ownership of ind's members moves into the set
 * whatever the outcome (ind is cleared). *merged (may be NULL) tells whether
 * it merged into an existing one. 0, HL_ENOMEM, or HL_EINVAL when the value
 * is not canonical (hl_indicator_normalise was not called). */
int hl_iset_add(hl_iset_t *set, struct hl_indicator *ind, bool *merged);

size_t hl_iset_count(const hl_iset_t *set);
/* i-th indicator in insertion order (canonical order after hl_iset_sort). */
const struct hl_indicator *hl_iset_at(const hl_iset_t *set, size_t i);
const struct hl_indicator *hl_iset_find(const hl_iset_t *set, enum hl_ind_type type,
                                        const char *value);
const struct hl_indicator *hl_iset_find_id(const hl_iset_t *set, const char *id);

/* Sort into canonical order (type, then value bytewise). */
void hl_iset_sort(hl_iset_t *set);
/* SHA-256 over the canonical form (does not reorder the set). */
int hl_iset_hash(const hl_iset_t *set, uint8_t out[HL_SHA256_LEN]);
void hl_hex(const uint8_t *bytes, size_t len, char *out); /* out: 2*len+1 */

/* The producer-assigned version of the set (0 = unversioned). */
void hl_iset_set_version(hl_iset_t *set, uint64_t version);
uint64_t hl_iset_version(const hl_iset_t *set);

#endif
