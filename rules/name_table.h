/* \summary: string -> uint32 values hash table, internal to hotline_rules
 *
 * Open addressing, keys copied into one arena; several values per key.
 * Used for domain (whole-name and label-suffix lookups), url and uri
 * indicators, and for allowlist entries.
 */
#ifndef HOTLINE_RULES_NAME_TABLE_H
#define HOTLINE_RULES_NAME_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hl_name_table hl_name_table_t;

hl_name_table_t *hl_name_table_new(void);
void hl_name_table_destroy(hl_name_table_t **t_p);

/* Make room for keys more distinct keys of bytes bytes in all, so that
 * adding them neither rehashes nor moves the key arena. A hint: over- or
 * under-estimates only cost memory or time. 0, HL_ENOMEM or HL_ELIMIT. */
int hl_name_table_reserve(hl_name_table_t *t, size_t keys, size_t bytes);

/* Add value under key (bytes, need not be NUL-terminated). */
int hl_name_table_add(hl_name_table_t *t, const char *key, size_t len, uint32_t value);

/* Values stored under key: returns their count and points *values at them
 * (valid until the next add). 0 when absent. */
size_t hl_name_table_get(const hl_name_table_t *t, const char *key, size_t len,
                         const uint32_t **values);

/* Call for the name and each of its parent names at label boundaries
 * ("a.b.c", "b.c", "c"): the domain-suffix walk. Returns total values. */
typedef int (*hl_name_fn)(void *ctx, uint32_t value);
size_t hl_name_table_suffix_walk(const hl_name_table_t *t, const char *name, size_t len,
                                 hl_name_fn fn, void *ctx);

size_t hl_name_table_count(const hl_name_table_t *t); /* distinct keys */
size_t hl_name_table_memory(const hl_name_table_t *t);

#endif
