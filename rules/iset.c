/* \summary: indicator set: dedup by (type, value), index by id, canonical hash
 *
 * Items live in one array in insertion order; two open-addressing tables of
 * item indices (by value, by id) make add and find O(1), so a million
 * indicators load in well under a second.
 */
#include "hotline/iset.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/export.h"

/* The full hash sits beside the index, so that a probe only touches the
 * (cache-cold) item when the hashes agree. */
struct slot {
	uint32_t hash; /* also the probe start: nslots stays below 2^32 */
	uint32_t k;    /* item index + 1; 0 = empty */
};

struct hl_iset {
	struct hl_indicator *items;
	size_t n, cap;
	struct slot *by_value;
	struct slot *by_id;
	size_t nslots; /* power of two, at least twice n */
	uint64_t version;
};

/* FNV-1a with a final avalanche, so that similar values spread. */
static uint32_t hash_str(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (uint32_t)(h >> 32);
}

static uint32_t value_hash(enum hl_ind_type type, const char *value)
{
	return hash_str(UINT64_C(0xcbf29ce484222325) ^ (uint64_t)type, value);
}

static uint32_t id_hash(const char *id)
{
	return hash_str(UINT64_C(0xcbf29ce484222325), id);
}

/* Slot holding (type, value), or the empty slot where it would go. */
static size_t probe_value(const hl_iset_t *set, uint32_t h, enum hl_ind_type type,
                          const char *value)
{
	size_t mask = set->nslots - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const struct slot *sl = &set->by_value[i];
		if (sl->k == 0)
			return i;
		const struct hl_indicator *it = &set->items[sl->k - 1];
		if (sl->hash == h && it->type == type && strcmp(it->value, value) == 0)
			return i;
	}
}

static size_t probe_id(const hl_iset_t *set, uint32_t h, const char *id)
{
	size_t mask = set->nslots - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const struct slot *sl = &set->by_id[i];
		if (sl->k == 0 || (sl->hash == h && strcmp(set->items[sl->k - 1].id, id) == 0))
			return i;
	}
}

/* Entries are unique, so re-placing one needs no comparison. */
static void place(struct slot *tab, size_t mask, struct slot e)
{
	size_t i = (size_t)e.hash & mask;
	while (tab[i].k != 0)
		i = (i + 1) & mask;
	tab[i] = e;
}

static void reindex(hl_iset_t *set)
{
	memset(set->by_value, 0, set->nslots * sizeof *set->by_value);
	memset(set->by_id, 0, set->nslots * sizeof *set->by_id);
	for (size_t k = 0; k < set->n; k++) {
		const struct hl_indicator *it = &set->items[k];
		uint32_t hv = value_hash(it->type, it->value), hi = id_hash(it->id);
		set->by_value[probe_value(set, hv, it->type, it->value)] =
		        (struct slot){hv, (uint32_t)(k + 1)};
		size_t s = probe_id(set, hi, it->id);
		if (set->by_id[s].k == 0)
			set->by_id[s] = (struct slot){hi, (uint32_t)(k + 1)};
	}
}

static int grow_tables(hl_iset_t *set, size_t nslots)
{
	struct slot *bv = calloc(nslots, sizeof *bv);
	struct slot *bi = calloc(nslots, sizeof *bi);
	if (bv == NULL || bi == NULL) {
		free(bv);
		free(bi);
		return HL_ENOMEM;
	}
	for (size_t i = 0; i < set->nslots; i++) {
		if (set->by_value[i].k != 0)
			place(bv, nslots - 1, set->by_value[i]);
		if (set->by_id[i].k != 0)
			place(bi, nslots - 1, set->by_id[i]);
	}
	free(set->by_value);
	free(set->by_id);
	set->by_value = bv;
	set->by_id = bi;
	set->nslots = nslots;
	return 0;
}

hl_iset_t *hl_iset_new(void)
{
	hl_iset_t *set = calloc(1, sizeof *set);
	if (set == NULL)
		return NULL;
	set->nslots = 64;
	set->by_value = calloc(set->nslots, sizeof *set->by_value);
	set->by_id = calloc(set->nslots, sizeof *set->by_id);
	if (set->by_value == NULL || set->by_id == NULL) {
		free(set->by_value);
		free(set->by_id);
		free(set);
		return NULL;
	}
	return set;
}

void hl_iset_destroy(hl_iset_t **set_p)
{
	if (set_p == NULL || *set_p == NULL)
		return;
	hl_iset_t *set = *set_p;
	for (size_t i = 0; i < set->n; i++)
		hl_indicator_clear(&set->items[i]);
	free(set->items);
	free(set->by_value);
	free(set->by_id);
	free(set);
	*set_p = NULL;
}

static int reserve_one(hl_iset_t *set)
{
	if (set->n >= UINT32_MAX / 4)
		return HL_ELIMIT;
	if (set->n == set->cap) {
		size_t cap = set->cap == 0 ? 64 : set->cap * 2;
		struct hl_indicator *grown = realloc(set->items, cap * sizeof *grown);
		if (grown == NULL)
			return HL_ENOMEM;
		set->items = grown;
		set->cap = cap;
	}
	if ((set->n + 1) * 2 > set->nslots)
		return grow_tables(set, set->nslots * 2);
	return 0;
}

int hl_iset_add(hl_iset_t *set, struct hl_indicator *ind, bool *merged)
{
	if (merged != NULL)
		*merged = false;
	/* A normalised indicator always has an id and a bounded value; this
	 * catches a forgotten hl_indicator_normalise() cheaply. */
	if (set == NULL || ind->value == NULL || ind->id == NULL ||
	    (unsigned)ind->type >= HL_IND_TYPE_COUNT ||
	    strlen(ind->value) > HL_INDICATOR_VALUE_MAX) {
		hl_indicator_clear(ind);
		return HL_EINVAL;
	}
	/* Room first, so that the empty slots found below stay valid. */
	int rc = reserve_one(set);
	if (rc != 0) {
		hl_indicator_clear(ind);
		return rc;
	}
	uint32_t hv = value_hash(ind->type, ind->value);
	size_t vslot = probe_value(set, hv, ind->type, ind->value);
	if (set->by_value[vslot].k != 0) {
		rc = hl_indicator_merge(&set->items[set->by_value[vslot].k - 1], ind);
		hl_indicator_clear(ind);
		if (merged != NULL)
			*merged = rc == 0;
		return rc;
	}
	uint32_t hi = id_hash(ind->id);
	size_t islot = probe_id(set, hi, ind->id);
	if (set->by_id[islot].k != 0) {
		hl_indicator_clear(ind);
		return HL_EEXISTS;
	}
	size_t k = set->n++;
	set->items[k] = *ind;
	hl_indicator_init(ind);
	set->by_value[vslot] = (struct slot){hv, (uint32_t)(k + 1)};
	set->by_id[islot] = (struct slot){hi, (uint32_t)(k + 1)};
	return 0;
}

size_t hl_iset_count(const hl_iset_t *set)
{
	return set != NULL ? set->n : 0;
}

const struct hl_indicator *hl_iset_at(const hl_iset_t *set, size_t i)
{
	return set != NULL && i < set->n ? &set->items[i] : NULL;
}

const struct hl_indicator *hl_iset_find(const hl_iset_t *set, enum hl_ind_type type,
                                        const char *value)
{
	if (set == NULL || value == NULL)
		return NULL;
	size_t k = set->by_value[probe_value(set, value_hash(type, value), type, value)].k;
	return k != 0 ? &set->items[k - 1] : NULL;
}

const struct hl_indicator *hl_iset_find_id(const hl_iset_t *set, const char *id)
{
	if (set == NULL || id == NULL)
		return NULL;
	size_t k = set->by_id[probe_id(set, id_hash(id), id)].k;
	return k != 0 ? &set->items[k - 1] : NULL;
}

static int cmp_canonical(const struct hl_indicator *a, const struct hl_indicator *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->value, b->value);
}

static int cmp_items(const void *a, const void *b)
{
	return cmp_canonical(a, b);
}

static int cmp_ptrs(const void *a, const void *b)
{
	return cmp_canonical(*(const struct hl_indicator *const *)a,
	                     *(const struct hl_indicator *const *)b);
}

void hl_iset_sort(hl_iset_t *set)
{
	if (set == NULL || set->n < 2)
		return;
	qsort(set->items, set->n, sizeof *set->items, cmp_items);
	reindex(set);
}

/* Pointers to the items in canonical order, without touching the set. */
static const struct hl_indicator **sorted_view(const hl_iset_t *set)
{
	const struct hl_indicator **v = malloc((set->n > 0 ? set->n : 1) * sizeof *v);
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		v[i] = &set->items[i];
	qsort(v, set->n, sizeof *v, cmp_ptrs);
	return v;
}

int hl_iset_hash(const hl_iset_t *set, uint8_t out[HL_SHA256_LEN])
{
	if (set == NULL)
		return HL_EINVAL;
	const struct hl_indicator **v = sorted_view(set);
	if (v == NULL)
		return HL_ENOMEM;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	int rc = 0;
	for (size_t i = 0; i < set->n; i++) {
		char *line = hl_indicator_to_native(v[i]);
		if (line == NULL) {
			rc = HL_ENOMEM;
			break;
		}
		crypto_hash_sha256_update(&st, (const unsigned char *)line, strlen(line));
		crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
		free(line);
	}
	free(v);
	if (rc == 0)
		crypto_hash_sha256_final(&st, out);
	return rc;
}

void hl_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

void hl_iset_set_version(hl_iset_t *set, uint64_t version)
{
	if (set != NULL)
		set->version = version;
}

uint64_t hl_iset_version(const hl_iset_t *set)
{
	return set != NULL ? set->version : 0;
}
