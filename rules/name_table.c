/* \summary: string -> uint32 values, open addressing (see name_table.h)
 *
 * Layout: a power-of-two array of 16-byte slots (key offset, key length,
 * 32 cached hash bits, one value), linear probing, load factor <= 0.7. Keys
 * are copied once into a byte arena; the cached hash bits reject almost
 * every non-matching slot without touching the arena. A key with two or
 * more values keeps them contiguous in a shared pool (run = count,
 * capacity, values...), so hl_name_table_get can hand out one pointer.
 *
 * Hash: SipHash-2-4 (libsodium crypto_shorthash) with a random key per
 * table. Keys come from indicator feeds, some supplied by peers; with a
 * public hash an adversary could pick names that all probe one cluster and
 * turn a 1M-key build quadratic. Measured ~12 ns for a 20-byte key (a
 * wyhash-style multiply-mix took ~1 ns), well inside the lookup budget, and
 * results never depend on the key: only slot positions do.
 */
#include "name_table.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bigalloc.h"
#include "hotline/err.h"

#define NIL UINT32_MAX
#define LEN_MULTI 0x80000000u /* slot value is a pool run, not a value */
#define LEN_MASK 0x7fffffffu
#define MAX_SLOTS (1u << 31)

struct nt_slot {
	uint32_t off; /* NIL: empty */
	uint32_t len; /* key length | LEN_MULTI */
	uint32_t hash;
	uint32_t value; /* the value, or the start of its pool run */
};

struct hl_name_table {
	struct nt_slot *slots;
	uint32_t mask; /* capacity - 1 */
	size_t count;
	char *arena;
	size_t used, arenacap;
	uint32_t *pool; /* runs: [count, capacity, values...]; a
	                 * relocated run leaves its old words idle */
	size_t npool, poolcap;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

static uint32_t nt_hash(const hl_name_table_t *t, const char *key, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	/* libsodium wants a pointer even for zero bytes. */
	static const unsigned char empty[1];
	crypto_shorthash(out, len > 0 ? (const unsigned char *)key : empty, len, t->key);
	uint32_t h;
	memcpy(&h, out + 4, sizeof h);
	return h;
}

static int slots_alloc(hl_name_table_t *t, size_t cap)
{
	struct nt_slot *slots = hl_big_alloc(cap * sizeof *slots);
	if (slots == NULL)
		return HL_ENOMEM;
	for (size_t i = 0; i < cap; i++)
		slots[i].off = NIL;
	t->slots = slots;
	t->mask = (uint32_t)(cap - 1);
	return 0;
}

hl_name_table_t *hl_name_table_new(void)
{
	if (sodium_init() < 0)
		return NULL;
	hl_name_table_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	crypto_shorthash_keygen(t->key);
	if (slots_alloc(t, 16) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void hl_name_table_destroy(hl_name_table_t **t_p)
{
	if (t_p == NULL || *t_p == NULL)
		return;
	hl_name_table_t *t = *t_p;
	free(t->slots);
	free(t->arena);
	free(t->pool);
	free(t);
	*t_p = NULL;
}

static inline bool slot_is(const hl_name_table_t *t, const struct nt_slot *s, uint32_t hash,
                           const char *key, size_t len)
{
	return s->hash == hash && (s->len & LEN_MASK) == len &&
	       (len == 0 || memcmp(t->arena + s->off, key, len) == 0);
}

/* The slot holding key, or the empty slot where it would go. */
static struct nt_slot *probe(const hl_name_table_t *t, uint32_t hash, const char *key, size_t len)
{
	for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		struct nt_slot *s = &t->slots[i];
		if (s->off == NIL || slot_is(t, s, hash, key, len))
			return s;
	}
}

/* Rehash into cap slots (a power of two above the count). */
static int resize_slots(hl_name_table_t *t, size_t cap)
{
	size_t oldcap = (size_t)t->mask + 1;
	struct nt_slot *old = t->slots;
	if (slots_alloc(t, cap) != 0) {
		t->slots = old;
		return HL_ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].off == NIL)
			continue;
		uint32_t j = old[i].hash & t->mask;
		while (t->slots[j].off != NIL)
			j = (j + 1) & t->mask;
		t->slots[j] = old[i];
	}
	free(old);
	return 0;
}

static int grow_slots(hl_name_table_t *t)
{
	size_t oldcap = (size_t)t->mask + 1;
	if (oldcap >= MAX_SLOTS)
		return HL_ELIMIT;
	return resize_slots(t, oldcap * 2);
}

static int arena_reserve(hl_name_table_t *t, size_t len)
{
	if (len > UINT32_MAX - 1 - t->used)
		return HL_ELIMIT;
	if (t->used + len <= t->arenacap)
		return 0;
	size_t cap = t->arenacap < 256 ? 256 : t->arenacap + t->arenacap / 2;
	if (cap < t->used + len)
		cap = t->used + len;
	if (cap > UINT32_MAX - 1)
		cap = UINT32_MAX - 1;
	char *arena = realloc(t->arena, cap);
	if (arena == NULL)
		return HL_ENOMEM;
	t->arena = arena;
	t->arenacap = cap;
	return 0;
}

int hl_name_table_reserve(hl_name_table_t *t, size_t keys, size_t bytes)
{
	if (t == NULL)
		return HL_EINVAL;
	if (keys > MAX_SLOTS || bytes > UINT32_MAX - 1 - t->used)
		return HL_ELIMIT;
	/* The capacity add would reach, with load <= 0.7. */
	size_t want = t->count + keys, cap = (size_t)t->mask + 1;
	while (want * 10 > cap * 7 && cap < MAX_SLOTS)
		cap *= 2;
	if (cap > (size_t)t->mask + 1) {
		int rc = resize_slots(t, cap);
		if (rc != 0)
			return rc;
	}
	if (t->used + bytes > t->arenacap) {
		size_t old = t->arenacap;
		char *arena = realloc(t->arena, t->used + bytes);
		if (arena == NULL)
			return HL_ENOMEM;
		t->arena = arena;
		t->arenacap = t->used + bytes;
		hl_big_prefault(arena + old, t->arenacap - old);
	}
	return 0;
}

static int pool_reserve(hl_name_table_t *t, size_t words)
{
	if (words > UINT32_MAX - t->npool)
		return HL_ELIMIT;
	if (t->npool + words <= t->poolcap)
		return 0;
	size_t cap = t->poolcap < 64 ? 64 : t->poolcap * 2;
	while (cap < t->npool + words)
		cap *= 2;
	uint32_t *pool = realloc(t->pool, cap * sizeof *pool);
	if (pool == NULL)
		return HL_ENOMEM;
	t->pool = pool;
	t->poolcap = cap;
	return 0;
}

/* Append value to slot s (which already has at least one). */
static int add_value(hl_name_table_t *t, struct nt_slot *s, uint32_t value)
{
	int rc;
	if (!(s->len & LEN_MULTI)) {
		if ((rc = pool_reserve(t, 2 + 4)) != 0)
			return rc;
		uint32_t run = (uint32_t)t->npool;
		t->pool[run] = 1;
		t->pool[run + 1] = 4;
		t->pool[run + 2] = s->value;
		t->npool += 2 + 4;
		s->value = run;
		s->len |= LEN_MULTI;
	}
	uint32_t run = s->value, n = t->pool[run], cap = t->pool[run + 1];
	if (n == cap) {
		if (cap > (UINT32_MAX - 2) / 2)
			return HL_ELIMIT;
		if (run + 2 + (size_t)cap == t->npool) {
			/* Last run in the pool: extend it in place. */
			if ((rc = pool_reserve(t, cap)) != 0)
				return rc;
			t->npool += cap;
		} else {
			if ((rc = pool_reserve(t, 2 + (size_t)cap * 2)) != 0)
				return rc;
			uint32_t fresh = (uint32_t)t->npool;
			memcpy(t->pool + fresh + 2, t->pool + run + 2, (size_t)n * sizeof *t->pool);
			t->pool[fresh] = n;
			t->npool += 2 + (size_t)cap * 2;
			run = fresh;
			s->value = run;
		}
		t->pool[run + 1] = cap * 2;
	}
	t->pool[run + 2 + n] = value;
	t->pool[run] = n + 1;
	return 0;
}

int hl_name_table_add(hl_name_table_t *t, const char *key, size_t len, uint32_t value)
{
	if (t == NULL || (key == NULL && len > 0))
		return HL_EINVAL;
	if (len > LEN_MASK)
		return HL_ELIMIT;
	uint32_t hash = nt_hash(t, key, len);
	struct nt_slot *s = probe(t, hash, key, len);
	if (s->off != NIL)
		return add_value(t, s, value);

	int rc;
	/* Keep load <= 0.7 counting the key about to go in. */
	if ((t->count + 1) * 10 > ((size_t)t->mask + 1) * 7) {
		if ((rc = grow_slots(t)) != 0)
			return rc;
		s = probe(t, hash, key, len);
	}
	if ((rc = arena_reserve(t, len)) != 0)
		return rc;
	if (len > 0)
		memcpy(t->arena + t->used, key, len);
	s->off = (uint32_t)t->used;
	s->len = (uint32_t)len;
	s->hash = hash;
	s->value = value;
	t->used += len;
	t->count++;
	return 0;
}

static const struct nt_slot *find(const hl_name_table_t *t, const char *key, size_t len)
{
	if (t == NULL || (key == NULL && len > 0) || len > LEN_MASK || t->count == 0)
		return NULL;
	const struct nt_slot *s = probe(t, nt_hash(t, key, len), key, len);
	return s->off == NIL ? NULL : s;
}

static size_t slot_values(const hl_name_table_t *t, const struct nt_slot *s,
                          const uint32_t **values)
{
	if (!(s->len & LEN_MULTI)) {
		*values = &s->value;
		return 1;
	}
	*values = t->pool + s->value + 2;
	return t->pool[s->value];
}

size_t hl_name_table_get(const hl_name_table_t *t, const char *key, size_t len,
                         const uint32_t **values)
{
	const struct nt_slot *s = find(t, key, len);
	if (s == NULL) {
		if (values != NULL)
			*values = NULL;
		return 0;
	}
	const uint32_t *v;
	size_t n = slot_values(t, s, &v);
	if (values != NULL)
		*values = v;
	return n;
}

/* Calls fn for each value under key; *stop set when fn asks. */
static size_t report(const hl_name_table_t *t, const char *key, size_t len, hl_name_fn fn,
                     void *ctx, bool *stop)
{
	const struct nt_slot *s = find(t, key, len);
	if (s == NULL)
		return 0;
	const uint32_t *v;
	size_t n = slot_values(t, s, &v), calls = 0;
	for (size_t i = 0; i < n; i++) {
		calls++;
		if (fn(ctx, v[i]) != 0) {
			*stop = true;
			break;
		}
	}
	return calls;
}

size_t hl_name_table_suffix_walk(const hl_name_table_t *t, const char *name, size_t len,
                                 hl_name_fn fn, void *ctx)
{
	if (t == NULL || fn == NULL || (name == NULL && len > 0))
		return 0;
	bool stop = false;
	size_t calls = report(t, name, len, fn, ctx, &stop);
	/* Parents start after each dot; an empty remainder (trailing dot) is
	 * not a name and is never looked up. */
	for (size_t i = 0; i + 1 < len && !stop; i++) {
		if (name[i] == '.')
			calls += report(t, name + i + 1, len - i - 1, fn, ctx, &stop);
	}
	return calls;
}

size_t hl_name_table_count(const hl_name_table_t *t)
{
	return t == NULL ? 0 : t->count;
}

size_t hl_name_table_memory(const hl_name_table_t *t)
{
	if (t == NULL)
		return 0;
	return sizeof *t + ((size_t)t->mask + 1) * sizeof(struct nt_slot) + t->arenacap +
	       t->poolcap * sizeof(uint32_t);
}
