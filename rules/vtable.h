/* \summary: exact lookup of indicator values by string, internal to hotline_rules
 *
 * The matcher's domain, url and uri index. The keys are not copied: a
 * slot holds an indicator index and 32 bits of its hash, and the key is
 * the indicator's value in the matcher's store. Values are distinct within
 * a type, so a key has one index.
 */
#ifndef HOTLINE_RULES_VTABLE_H
#define HOTLINE_RULES_VTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hl_vtable hl_vtable_t;

/* Where the keys are: key of index i is strings + offs[i * stride] (a
 * NUL-terminated string; offs points at the first record's value field). */
struct hl_vtable_keys {
	const char *strings;
	const uint32_t *offs;
	size_t stride; /* in uint32 words */
};

/* A table for up to n keys; NULL on out of memory. */
hl_vtable_t *hl_vtable_new(size_t n, const struct hl_vtable_keys *keys);
void hl_vtable_destroy(hl_vtable_t **t_p);

/* Add index idx, whose key is len bytes long. 0, HL_ELIMIT when more
 * keys than reserved are added, HL_EEXISTS when the key is there already. */
int hl_vtable_add(hl_vtable_t *t, uint32_t idx, size_t len);

/* The index stored under key, or -1. */
int64_t hl_vtable_get(const hl_vtable_t *t, const char *key, size_t len);

size_t hl_vtable_count(const hl_vtable_t *t);
size_t hl_vtable_memory(const hl_vtable_t *t);

#endif
