/* \summary: the matcher's compact indicator store: built, checked, viewed (see matcher_int.h)
 *
 * Building interns what indicators share: the strings of sources, tags and
 * descriptions, the lists they form, and whole metas (every field but
 * value and id). The interning tables are temporary and hashed with a
 * random SipHash key (feeds choose these strings). Ids of the derived
 * form are recognised and dropped: they come back from type and value.
 *
 * A store read from a file is checked whole before it is used: every
 * count against the block's length, every offset, enum, string length and
 * list, and the canonical order, so the match path can trust it.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bigalloc.h"
#include "hotline/err.h"
#include "matcher_int.h"

#define STR_MAX 65536 /* source, tag, description: as the .hlx format allows */
#define OFF_MAX (UINT32_MAX - 2)

bool hl_store_layout(size_t n_recs, size_t n_metas, size_t n_pool, size_t strings_len,
                     struct hl_store_layout *out)
{
	if (n_recs > UINT32_MAX || n_metas > UINT32_MAX || n_pool > UINT32_MAX ||
	    strings_len > OFF_MAX)
		return false;
	size_t at = sizeof(struct hl_store_head);
	out->recs = at;
	at += n_recs * sizeof(struct hl_irec);
	at = (at + 7) & ~(size_t)7;
	out->metas = at;
	at += n_metas * sizeof(struct hl_imeta);
	out->pool = at;
	at += n_pool * sizeof(uint32_t);
	out->strings = at;
	at += strings_len;
	out->total = at;
	return true;
}

/* ---- interning (build only) ---- */

struct itab {
	struct {
		uint32_t ref1; /* ref + 1; 0: empty */
		uint32_t h;
	} * slots;
	size_t mask, count;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

static uint32_t itab_hash(const struct itab *t, const void *p, size_t len)
{
	static const unsigned char empty[1];
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, len > 0 ? p : empty, len, t->key);
	uint32_t h;
	memcpy(&h, out, sizeof h);
	return h;
}

static int itab_init(struct itab *t)
{
	memset(t, 0, sizeof *t);
	crypto_shorthash_keygen(t->key);
	t->mask = 63;
	t->slots = calloc(t->mask + 1, sizeof *t->slots);
	return t->slots != NULL ? 0 : HL_ENOMEM;
}

static int itab_grow(struct itab *t)
{
	size_t cap = (t->mask + 1) * 2;
	__typeof__(t->slots) slots = calloc(cap, sizeof *slots);
	if (slots == NULL)
		return HL_ENOMEM;
	for (size_t i = 0; i <= t->mask; i++) {
		if (t->slots[i].ref1 == 0)
			continue;
		size_t j = t->slots[i].h & (cap - 1);
		while (slots[j].ref1 != 0)
			j = (j + 1) & (cap - 1);
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

/* What is being interned and where the interned copies are. */
struct builder {
	char *str;
	size_t str_len, str_cap;
	uint32_t *pool;
	size_t n_pool, pool_cap;
	struct hl_imeta *metas;
	size_t n_metas, metas_cap;
	struct itab strs, lists, mts;
};

typedef bool (*eq_fn)(const struct builder *b, uint32_t ref, const void *key, size_t len);

/* The slot of key (its ref in *ref) or of where it goes (*ref = HL_NIL). */
static size_t itab_find(const struct itab *t, const struct builder *b, uint32_t h, eq_fn eq,
                        const void *key, size_t len, uint32_t *ref)
{
	size_t i = h & t->mask;
	for (;; i = (i + 1) & t->mask) {
		if (t->slots[i].ref1 == 0) {
			*ref = HL_NIL;
			return i;
		}
		if (t->slots[i].h == h && eq(b, t->slots[i].ref1 - 1, key, len)) {
			*ref = t->slots[i].ref1 - 1;
			return i;
		}
	}
}

static int grow_array(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap > 0 ? *cap : 64;
	while (c < need)
		c *= 2;
	if (c > SIZE_MAX / size)
		return HL_ELIMIT;
	void *q = realloc(*p, c * size);
	if (q == NULL)
		return HL_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Append s (len bytes and a NUL) to the strings; its offset in *off. */
static int str_append(struct builder *b, const char *s, size_t len, uint32_t *off)
{
	if (len > OFF_MAX - b->str_len - 1)
		return HL_ELIMIT;
	int rc = grow_array((void **)&b->str, &b->str_cap, b->str_len + len + 1, 1);
	if (rc != 0)
		return rc;
	memcpy(b->str + b->str_len, s, len);
	b->str[b->str_len + len] = '\0';
	*off = (uint32_t)b->str_len;
	b->str_len += len + 1;
	return 0;
}

static bool str_eq(const struct builder *b, uint32_t ref, const void *key, size_t len)
{
	const char *s = b->str + ref;
	return memcmp(s, key, len) == 0 && s[len] == '\0';
}

static int intern_str(struct builder *b, const char *s, uint32_t *off)
{
	size_t len = strlen(s);
	uint32_t h = itab_hash(&b->strs, s, len), ref;
	size_t slot = itab_find(&b->strs, b, h, str_eq, s, len, &ref);
	if (ref != HL_NIL) {
		*off = ref;
		return 0;
	}
	int rc = str_append(b, s, len, off);
	if (rc != 0)
		return rc;
	b->strs.slots[slot].ref1 = *off + 1;
	b->strs.slots[slot].h = h;
	if (++b->strs.count * 10 > (b->strs.mask + 1) * 7)
		return itab_grow(&b->strs);
	return 0;
}

static bool list_eq(const struct builder *b, uint32_t ref, const void *key, size_t len)
{
	return b->pool[ref] * sizeof(uint32_t) == len && memcmp(b->pool + ref + 1, key, len) == 0;
}

/* Intern the list sv: its pool offset (HL_NIL for an empty one) in *off. */
static int intern_list(struct builder *b, const struct hl_strv *sv, uint32_t *off)
{
	*off = HL_NIL;
	if (sv->n == 0)
		return 0;
	if (sv->n > OFF_MAX - b->n_pool - 1)
		return HL_ELIMIT;
	/* The run goes at the end of the pool; kept only if it is new. */
	int rc =
	        grow_array((void **)&b->pool, &b->pool_cap, b->n_pool + 1 + sv->n, sizeof *b->pool);
	uint32_t *run = b->pool + b->n_pool;
	for (size_t i = 0; rc == 0 && i < sv->n; i++)
		rc = intern_str(b, sv->v[i], &run[1 + i]);
	if (rc != 0)
		return rc;
	run = b->pool + b->n_pool; /* intern_str does not move the pool */
	run[0] = (uint32_t)sv->n;
	size_t len = sv->n * sizeof(uint32_t);
	uint32_t h = itab_hash(&b->lists, run + 1, len), ref;
	size_t slot = itab_find(&b->lists, b, h, list_eq, run + 1, len, &ref);
	if (ref != HL_NIL) {
		*off = ref;
		return 0;
	}
	*off = (uint32_t)b->n_pool;
	b->n_pool += 1 + sv->n;
	b->lists.slots[slot].ref1 = *off + 1;
	b->lists.slots[slot].h = h;
	if (++b->lists.count * 10 > (b->lists.mask + 1) * 7)
		return itab_grow(&b->lists);
	return 0;
}

static bool meta_eq(const struct builder *b, uint32_t ref, const void *key, size_t len)
{
	return memcmp(&b->metas[ref], key, len) == 0;
}

static int intern_meta(struct builder *b, const struct hl_imeta *mt, uint32_t *idx)
{
	uint32_t h = itab_hash(&b->mts, mt, sizeof *mt), ref;
	size_t slot = itab_find(&b->mts, b, h, meta_eq, mt, sizeof *mt, &ref);
	if (ref != HL_NIL) {
		*idx = ref;
		return 0;
	}
	if (b->n_metas >= OFF_MAX)
		return HL_ELIMIT;
	int rc = grow_array((void **)&b->metas, &b->metas_cap, b->n_metas + 1, sizeof *b->metas);
	if (rc != 0)
		return rc;
	b->metas[b->n_metas] = *mt;
	*idx = (uint32_t)b->n_metas++;
	b->mts.slots[slot].ref1 = *idx + 1;
	b->mts.slots[slot].h = h;
	if (++b->mts.count * 10 > (b->mts.mask + 1) * 7)
		return itab_grow(&b->mts);
	return 0;
}

/* True when id is what hl_indicator_derive_id gives for ind. */
static bool id_is_derived(const struct hl_indicator *ind)
{
	if (ind->id == NULL || strlen(ind->id) != 36 || memcmp(ind->id, "hl--", 4) != 0)
		return false;
	char want[HL_MATCHER_ID_BUF];
	return hl_indicator_derive_id(ind->type, ind->value, want, sizeof want) == 0 &&
	       strcmp(want, ind->id) == 0;
}

static int add_one(struct builder *b, const struct hl_indicator *ind, struct hl_irec *rec)
{
	struct hl_imeta mt;
	memset(&mt, 0, sizeof mt);
	mt.valid_from = ind->valid_from;
	mt.valid_until = ind->valid_until;
	mt.confidence = ind->confidence;
	mt.type = (uint8_t)ind->type;
	mt.tlp = (uint8_t)ind->tlp;
	mt.severity = (uint8_t)ind->severity;
	mt.flags = ind->nocase ? HL_META_NOCASE : 0;
	mt.description = HL_NIL;
	int rc = str_append(b, ind->value, strlen(ind->value), &rec->value);
	if (rc == 0 && ind->description != NULL)
		rc = intern_str(b, ind->description, &mt.description);
	if (rc == 0)
		rc = intern_list(b, &ind->sources, &mt.sources);
	if (rc == 0)
		rc = intern_list(b, &ind->tags, &mt.tags);
	if (rc == 0)
		rc = intern_meta(b, &mt, &rec->meta);
	if (rc != 0)
		return rc;
	rec->id = HL_ID_NONE;
	if (id_is_derived(ind))
		rec->id = HL_ID_DERIVED;
	else if (ind->id != NULL)
		rc = str_append(b, ind->id, strlen(ind->id), &rec->id);
	return rc;
}

static void builder_free(struct builder *b)
{
	free(b->str);
	free(b->pool);
	free(b->metas);
	free(b->strs.slots);
	free(b->lists.slots);
	free(b->mts.slots);
}

/* Point m's views at the store in m->store and make the list views. */
static int attach(hl_matcher_t *m, const struct hl_store_layout *lo)
{
	const uint8_t *base = m->store;
	const struct hl_store_head *hd = m->store;
	m->recs = (const struct hl_irec *)(const void *)(base + lo->recs);
	m->n = hd->n_recs;
	m->metas = (const struct hl_imeta *)(const void *)(base + lo->metas);
	m->n_metas = hd->n_metas;
	m->pool = (const uint32_t *)(const void *)(base + lo->pool);
	m->n_pool = hd->n_pool;
	m->strings = (const char *)base + lo->strings;
	m->strings_len = hd->strings_len;
	m->listv = malloc((m->n_pool > 0 ? m->n_pool : 1) * sizeof *m->listv);
	if (m->listv == NULL)
		return HL_ENOMEM;
	for (size_t i = 0; i < m->n_pool; i++)
		m->listv[i] = m->pool[i] < m->strings_len ? (char *)m->strings + m->pool[i] : NULL;
	return 0;
}

int hl_matcher_store_build(hl_matcher_t *m, const struct hl_indicator *const *inds, size_t n)
{
	if (n > UINT32_MAX - 1)
		return HL_ELIMIT;
	if (sodium_init() < 0)
		return HL_ENOMEM;
	struct builder b;
	memset(&b, 0, sizeof b);
	struct hl_irec *recs = malloc((n > 0 ? n : 1) * sizeof *recs);
	int rc = recs != NULL ? 0 : HL_ENOMEM;
	if (rc == 0)
		rc = itab_init(&b.strs);
	if (rc == 0)
		rc = itab_init(&b.lists);
	if (rc == 0)
		rc = itab_init(&b.mts);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = add_one(&b, inds[i], &recs[i]);
	struct hl_store_layout lo;
	if (rc == 0 && !hl_store_layout(n, b.n_metas, b.n_pool, b.str_len, &lo))
		rc = HL_ELIMIT;
	uint8_t *block = rc == 0 ? hl_big_alloc(lo.total) : NULL;
	if (rc == 0 && block == NULL)
		rc = HL_ENOMEM;
	if (rc == 0) {
		memset(block, 0, lo.metas); /* head and the padding after recs */
		struct hl_store_head hd = {(uint32_t)n,
		                           (uint32_t)b.n_metas,
		                           (uint32_t)b.n_pool,
		                           (uint32_t)b.str_len,
		                           {0}};
		memcpy(block, &hd, sizeof hd);
		if (n > 0)
			memcpy(block + lo.recs, recs, n * sizeof *recs);
		if (b.n_metas > 0)
			memcpy(block + lo.metas, b.metas, b.n_metas * sizeof *b.metas);
		if (b.n_pool > 0)
			memcpy(block + lo.pool, b.pool, b.n_pool * sizeof *b.pool);
		if (b.str_len > 0)
			memcpy(block + lo.strings, b.str, b.str_len);
		m->store = block;
		m->store_len = lo.total;
		rc = attach(m, &lo);
	}
	free(recs);
	builder_free(&b);
	return rc;
}

/* ---- checking a store from a file ---- */

/* Length of the string at off, when it is 1..max bytes; else 0. */
static size_t str_ok(const hl_matcher_t *m, uint32_t off, size_t max)
{
	if (off >= m->strings_len)
		return 0;
	size_t room = m->strings_len - off;
	size_t len = strnlen(m->strings + off, room < max + 1 ? room : max + 1);
	return len >= 1 && len <= max && len < room ? len : 0;
}

static const char *list_ok(const hl_matcher_t *m, uint32_t off)
{
	if (off == HL_NIL)
		return NULL;
	if (off >= m->n_pool || m->pool[off] == 0 || m->pool[off] > m->n_pool - off - 1)
		return "string list out of range";
	for (uint32_t i = 0; i < m->pool[off]; i++)
		if (str_ok(m, m->pool[off + 1 + i], STR_MAX) == 0)
			return "bad string in a list";
	return NULL;
}

static const char *check_metas(const hl_matcher_t *m)
{
	for (size_t i = 0; i < m->n_metas; i++) {
		const struct hl_imeta *mt = &m->metas[i];
		if (mt->type >= HL_IND_TYPE_COUNT)
			return "unknown indicator type";
		if (mt->tlp >= HL_TLP_COUNT)
			return "unknown TLP";
		if (mt->severity >= HL_SEV_COUNT)
			return "unknown severity";
		if ((mt->flags & ~HL_META_NOCASE) != 0 || mt->reserved != 0)
			return "unknown indicator flags";
		if (mt->confidence != HL_CONFIDENCE_UNSET &&
		    (mt->confidence < 0 || mt->confidence > 100))
			return "confidence out of range";
		if (mt->description != HL_NIL && str_ok(m, mt->description, STR_MAX) == 0)
			return "bad description";
		const char *err = list_ok(m, mt->sources);
		if (err == NULL)
			err = list_ok(m, mt->tags);
		if (err != NULL)
			return err;
	}
	return NULL;
}

static const char *check_recs(const hl_matcher_t *m)
{
	unsigned prev_type = 0;
	const char *prev = NULL;
	for (size_t i = 0; i < m->n; i++) {
		const struct hl_irec *r = &m->recs[i];
		if (r->meta >= m->n_metas)
			return "indicator meta out of range";
		if (str_ok(m, r->value, HL_INDICATOR_VALUE_MAX) == 0)
			return "bad indicator value";
		if (r->id != HL_ID_NONE && r->id != HL_ID_DERIVED &&
		    str_ok(m, r->id, HL_INDICATOR_ID_MAX) == 0)
			return "bad indicator id";
		unsigned type = m->metas[r->meta].type;
		const char *value = m->strings + r->value;
		if (prev != NULL &&
		    (type < prev_type || (type == prev_type && strcmp(prev, value) >= 0)))
			return "indicators out of canonical order or repeated";
		prev_type = type;
		prev = value;
	}
	return NULL;
}

const char *hl_matcher_store_adopt(hl_matcher_t *m, void *block, size_t len)
{
	struct hl_store_head hd;
	struct hl_store_layout lo;
	if (len < sizeof hd)
		return "indicator section too short";
	memcpy(&hd, block, sizeof hd);
	for (size_t i = 0; i < 4; i++)
		if (hd.reserved[i] != 0)
			return "unknown indicator section fields";
	if (!hl_store_layout(hd.n_recs, hd.n_metas, hd.n_pool, hd.strings_len, &lo) ||
	    lo.total != len)
		return "indicator section counts do not match its length";
	if (hd.n_recs > 0 && hd.n_metas == 0)
		return "indicators without metas";
	if (hd.strings_len > 0 && ((const char *)block)[lo.strings + hd.strings_len - 1] != '\0')
		return "strings not terminated";
	m->store = block;
	m->store_len = len;
	if (attach(m, &lo) != 0) {
		m->store = NULL;
		return "out of memory";
	}
	const char *err = check_metas(m);
	if (err == NULL)
		err = check_recs(m);
	if (err != NULL) {
		free(m->listv);
		m->listv = NULL;
		m->store = NULL;
		m->n = 0;
	}
	return err;
}

/* ---- views ---- */

static void list_view(const hl_matcher_t *m, uint32_t off, struct hl_strv *out)
{
	if (off == HL_NIL) {
		out->v = NULL;
		out->n = 0;
		return;
	}
	out->v = m->listv + off + 1;
	out->n = m->pool[off];
}

static const char *id_of(const hl_matcher_t *m, size_t idx, char idbuf[HL_MATCHER_ID_BUF])
{
	uint32_t id = m->recs[idx].id;
	if (id == HL_ID_NONE)
		return NULL;
	if (id != HL_ID_DERIVED)
		return m->strings + id;
	if (hl_indicator_derive_id((enum hl_ind_type)hl_m_meta(m, idx)->type, hl_m_value(m, idx),
	                           idbuf, HL_MATCHER_ID_BUF) != 0)
		return NULL; /* cannot happen: type checked, buffer large enough */
	return idbuf;
}

void hl_matcher_view_fill(const hl_matcher_t *m, size_t idx, struct hl_indicator *out,
                          char idbuf[HL_MATCHER_ID_BUF])
{
	const struct hl_imeta *mt = hl_m_meta(m, idx);
	memset(out, 0, sizeof *out);
	out->type = (enum hl_ind_type)mt->type;
	out->value = (char *)hl_m_value(m, idx);
	out->id = (char *)id_of(m, idx, idbuf);
	out->tlp = (enum hl_tlp)mt->tlp;
	out->confidence = mt->confidence;
	out->severity = (enum hl_severity)mt->severity;
	out->valid_from = mt->valid_from;
	out->valid_until = mt->valid_until;
	out->nocase = (mt->flags & HL_META_NOCASE) != 0;
	list_view(m, mt->sources, &out->sources);
	list_view(m, mt->tags, &out->tags);
	out->description = mt->description != HL_NIL ? (char *)m->strings + mt->description : NULL;
}

int hl_matcher_view(const hl_matcher_t *m, uint32_t idx, struct hl_indicator *out,
                    char idbuf[HL_MATCHER_ID_BUF])
{
	if (m == NULL || out == NULL || idbuf == NULL)
		return HL_EINVAL;
	if (idx >= m->n)
		return HL_ENOTFOUND;
	hl_matcher_view_fill(m, idx, out, idbuf);
	return 0;
}

const char *hl_matcher_id(const hl_matcher_t *m, uint32_t idx, char idbuf[HL_MATCHER_ID_BUF])
{
	if (m == NULL || idbuf == NULL || idx >= m->n)
		return NULL;
	return id_of(m, idx, idbuf);
}

enum hl_ind_type hl_matcher_type(const hl_matcher_t *m, uint32_t idx)
{
	if (m == NULL || idx >= m->n)
		return HL_IND_TYPE_COUNT;
	return (enum hl_ind_type)hl_m_meta(m, idx)->type;
}

const struct hl_indicator *hl_matcher_indicator(const hl_matcher_t *m, uint32_t idx)
{
	if (m == NULL || idx >= m->n)
		return NULL;
	/* Logically const: the copies only cache what the store holds. */
	hl_matcher_t *mm = (hl_matcher_t *)m;
	struct hl_indicator *_Atomic *arr = atomic_load_explicit(&mm->cache, memory_order_acquire);
	if (arr == NULL) {
		struct hl_indicator *_Atomic *fresh = calloc(m->n, sizeof *fresh);
		if (fresh == NULL)
			return NULL;
		struct hl_indicator *_Atomic *none = NULL;
		if (atomic_compare_exchange_strong_explicit(
		            &mm->cache, &none, fresh, memory_order_acq_rel, memory_order_acquire)) {
			arr = fresh;
		} else {
			free(fresh);
			arr = none;
		}
	}
	struct hl_indicator *ind = atomic_load_explicit(&arr[idx], memory_order_acquire);
	if (ind != NULL)
		return ind;
	ind = malloc(sizeof *ind + HL_MATCHER_ID_BUF);
	if (ind == NULL)
		return NULL;
	hl_matcher_view_fill(m, idx, ind, (char *)(ind + 1));
	struct hl_indicator *none = NULL;
	if (!atomic_compare_exchange_strong_explicit(&arr[idx], &none, ind, memory_order_acq_rel,
	                                             memory_order_acquire)) {
		free(ind);
		ind = none;
	}
	return ind;
}

void hl_matcher_store_free(hl_matcher_t *m)
{
	struct hl_indicator *_Atomic *arr = atomic_load(&m->cache);
	if (arr != NULL) {
		for (size_t i = 0; i < m->n; i++)
			free(atomic_load(&arr[i]));
		free(arr);
		atomic_store(&m->cache, NULL);
	}
	free(m->listv);
	free(m->store);
	m->listv = NULL;
	m->store = NULL;
	m->n = 0;
}
