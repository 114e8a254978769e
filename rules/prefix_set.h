/* \summary: IPv4/IPv6 prefix set (binary trie), internal to hotline_rules
 *
 * Maps prefixes to uint32 values (indicator indexes); several values may sit
 * on one prefix. Lookups walk at most prefix-length nodes.
 */
#ifndef HOTLINE_RULES_PREFIX_SET_H
#define HOTLINE_RULES_PREFIX_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hl_prefix_set hl_prefix_set_t;

hl_prefix_set_t *hl_prefix_set_new(void);
void hl_prefix_set_destroy(hl_prefix_set_t **set_p);

/* family 4 or 6; addr 4 or 16 bytes network order; bits past plen ignored. */
int hl_prefix_set_add(hl_prefix_set_t *set, int family, const uint8_t *addr, unsigned plen,
                      uint32_t value);

/* Make room for v4 more IPv4 and v6 more IPv6 prefixes, so that adding
 * them does not grow the node arrays. A hint, like
 * hl_name_table_reserve. 0, HL_ENOMEM or HL_ELIMIT. */
int hl_prefix_set_reserve(hl_prefix_set_t *set, size_t v4, size_t v6);

/* Return nonzero to stop the walk. */
typedef int (*hl_prefix_fn)(void *ctx, uint32_t value, unsigned plen);

/* Call fn for every value on a prefix covering addr, longest prefix first.
 * Returns the number of calls made. */
size_t hl_prefix_set_lookup(const hl_prefix_set_t *set, int family, const uint8_t *addr,
                            hl_prefix_fn fn, void *ctx);
/* Any prefix covers addr? */
bool hl_prefix_set_contains(const hl_prefix_set_t *set, int family, const uint8_t *addr);
/* Any stored prefix of length <= plen covers the whole of addr/plen? */
bool hl_prefix_set_covers(const hl_prefix_set_t *set, int family, const uint8_t *addr,
                          unsigned plen);
/* Is exactly addr/plen stored (with at least one value)? */
bool hl_prefix_set_has(const hl_prefix_set_t *set, int family, const uint8_t *addr, unsigned plen);
/* Distinct prefixes carrying at least one value. */
size_t hl_prefix_set_count(const hl_prefix_set_t *set);
/* Bytes allocated (arrays at capacity, plus the handle). */
size_t hl_prefix_set_memory(const hl_prefix_set_t *set);

#endif
