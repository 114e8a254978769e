/* \summary: indicator values -> index, open addressing over the store's keys (see vtable.h)
 *
 * 8-byte slots (index + 1, 32 hash bits), linear probing, load factor
 * <= 0.7 with the capacity sized to the count rather than to a power of
 * two (the position is the hash scaled onto the capacity): at a million
 * domains that is 11 bytes a key instead of the 16-byte slots at up to
 * twice the room and a copy of every key that a general string table
 * needs. The cached hash bits reject almost every other key without
 * touching the store.
 *
 * Hash: SipHash-2-4 (libsodium crypto_shorthash) with a random key per
 * table, for the reason name_table.c gives: keys come from feeds, some
 * supplied by peers, and a public hash would let them pick keys that all
 * probe one cluster.
 */
#include "vtable.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bigalloc.h"
#include "hotline/err.h"

struct vt_slot {
	uint32_t idx1; /* index + 1; 0: empty */
	uint32_t tag;
};

struct hl_vtable {
	struct vt_slot *slots;
	size_t cap, count, max;
	struct hl_vtable_keys keys;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

static uint64_t vt_hash(const hl_vtable_t *t, const char *key, size_t len)
{
	static const unsigned char empty[1];
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, len > 0 ? (const unsigned char *)key : empty, len, t->key);
	uint64_t h;
	memcpy(&h, out, sizeof h);
	return h;
}

static inline size_t vt_home(const hl_vtable_t *t, uint64_t h)
{
	return (size_t)(((h & 0xffffffffu) * (uint64_t)t->cap) >> 32);
}

hl_vtable_t *hl_vtable_new(size_t n, const struct hl_vtable_keys *keys)
{
	if (sodium_init() < 0 || keys == NULL || n > UINT32_MAX - 1)
		return NULL;
	hl_vtable_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	crypto_shorthash_keygen(t->key);
	t->keys = *keys;
	t->max = n;
	t->cap = n + n * 3 / 7 + 1; /* load <= 0.7 */
	if (t->cap < 4)
		t->cap = 4;
	if (t->cap > UINT32_MAX) {
		free(t);
		return NULL;
	}
	t->slots = hl_big_alloc(t->cap * sizeof *t->slots);
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	memset(t->slots, 0, t->cap * sizeof *t->slots);
	return t;
}

void hl_vtable_destroy(hl_vtable_t **t_p)
{
	if (t_p == NULL || *t_p == NULL)
		return;
	free((*t_p)->slots);
	free(*t_p);
	*t_p = NULL;
}

static inline const char *vt_key(const hl_vtable_t *t, uint32_t idx)
{
	return t->keys.strings + t->keys.offs[(size_t)idx * t->keys.stride];
}

/* The key's slot or the empty one where it would go. */
static inline const struct vt_slot *vt_probe(const hl_vtable_t *t, uint64_t h, const char *key,
                                             size_t len)
{
	uint32_t tag = (uint32_t)(h >> 32);
	size_t i = vt_home(t, h);
	for (;;) {
		const struct vt_slot *s = &t->slots[i];
		if (s->idx1 == 0)
			return s;
		if (s->tag == tag) {
			const char *k = vt_key(t, s->idx1 - 1);
			/* strnlen first: never read past the stored key's
			 * NUL, whatever bytes the observation holds. */
			if (strnlen(k, len + 1) == len && memcmp(k, key, len) == 0)
				return s;
		}
		if (++i == t->cap)
			i = 0;
	}
}

int hl_vtable_add(hl_vtable_t *t, uint32_t idx, size_t len)
{
	if (t == NULL || idx == UINT32_MAX)
		return HL_EINVAL;
	if (t->count >= t->max)
		return HL_ELIMIT;
	const char *key = vt_key(t, idx);
	uint64_t h = vt_hash(t, key, len);
	struct vt_slot *s = (struct vt_slot *)vt_probe(t, h, key, len);
	if (s->idx1 != 0)
		return HL_EEXISTS;
	s->idx1 = idx + 1;
	s->tag = (uint32_t)(h >> 32);
	t->count++;
	return 0;
}

int64_t hl_vtable_get(const hl_vtable_t *t, const char *key, size_t len)
{
	if (t == NULL || t->count == 0 || (key == NULL && len > 0))
		return -1;
	const struct vt_slot *s = vt_probe(t, vt_hash(t, key, len), key, len);
	return s->idx1 != 0 ? (int64_t)s->idx1 - 1 : -1;
}

size_t hl_vtable_count(const hl_vtable_t *t)
{
	return t != NULL ? t->count : 0;
}

size_t hl_vtable_memory(const hl_vtable_t *t)
{
	return t != NULL ? sizeof *t + t->cap * sizeof *t->slots : 0;
}
