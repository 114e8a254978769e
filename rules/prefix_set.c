/* \summary: IPv4/IPv6 prefix set: a path-compressed binary trie (see prefix_set.h)
 *
 * Why path-compressed binary (Patricia-style) rather than a plain binary or
 * multibit trie: a plain binary trie spends one node per bit below the
 * point where paths diverge, so 1M random /32s cost ~12 private nodes each
 * (~150 bytes per prefix). A multibit trie (stride 8) makes lookups shorter
 * but wastes 256-entry arrays on sparse levels and needs prefix expansion.
 * Path compression keeps exactly one node per stored prefix plus at most one
 * branch node per pair of siblings, so nodes <= 2n - 1 whatever the data,
 * and a lookup visits only the nodes on its path: never more than the
 * distinct prefix lengths above it (<= 33 or 129).
 *
 * Each node stores its full (masked) key right after its links, in one
 * growable array per family with a stride of 16 + 4 or 16 + 16 bytes
 * (IPv4 20 bytes a node, IPv6 32): one cache line per visited node, links
 * are indices, the array is cheap to build and relocatable. As in a
 * crit-bit tree, walks test only the bit a node branches on and compare a
 * key only at nodes carrying values (lookup) or once per insert: a branch
 * node whose key does not match leads only to nodes that will not match
 * either, so skipping its comparison changes nothing but the cost.
 *
 * Values: the first sits in the node; once a prefix has two or more, the
 * node holds the tail of a circular singly linked list in a shared overflow
 * array, giving O(1) append while keeping insertion order. Values are kept
 * as added (duplicates included): callers dedup their inputs.
 */
#include "prefix_set.h"

#include <stdlib.h>
#include <string.h>

#include "bigalloc.h"
#include "hotline/err.h"

#define NIL UINT32_MAX
#define MAX_NODES (UINT32_MAX - 1u)

enum {
	NODE_HAS_VALUE = 1, /* value is meaningful */
	NODE_MULTI = 2,     /* value is the tail index into the overflow list */
};

struct ps_node {
	uint32_t child[2];
	uint32_t value;
	uint8_t plen;
	uint8_t flags;
};

struct ps_overflow {
	uint32_t value;
	uint32_t next;
};

/* A node is struct ps_node followed by width key bytes (host bits zero). */
struct ps_trie {
	uint8_t *nodes;
	size_t stride;
	uint32_t n, cap;
	uint32_t root;
	unsigned width;   /* 4 or 16 */
	unsigned maxbits; /* 32 or 128 */
	size_t prefixes;  /* nodes carrying values */
};

struct hl_prefix_set {
	struct ps_trie t4, t6;
	struct ps_overflow *ovf;
	uint32_t novf, ovfcap;
};

static void trie_init(struct ps_trie *t, unsigned width)
{
	memset(t, 0, sizeof *t);
	t->root = NIL;
	t->width = width;
	t->maxbits = width * 8;
	t->stride = sizeof(struct ps_node) + width;
}

static inline struct ps_node *node_at(const struct ps_trie *t, uint32_t i)
{
	return (struct ps_node *)(void *)(t->nodes + (size_t)i * t->stride);
}

static inline const uint8_t *key_at(const struct ps_trie *t, uint32_t i)
{
	return t->nodes + (size_t)i * t->stride + sizeof(struct ps_node);
}

hl_prefix_set_t *hl_prefix_set_new(void)
{
	hl_prefix_set_t *set = calloc(1, sizeof *set);
	if (set == NULL)
		return NULL;
	trie_init(&set->t4, 4);
	trie_init(&set->t6, 16);
	return set;
}

void hl_prefix_set_destroy(hl_prefix_set_t **set_p)
{
	if (set_p == NULL || *set_p == NULL)
		return;
	hl_prefix_set_t *set = *set_p;
	free(set->t4.nodes);
	free(set->t6.nodes);
	free(set->ovf);
	free(set);
	*set_p = NULL;
}

/* Grow by 1.5x: doubling would leave up to half of a 1M-prefix array idle. */
static uint32_t grown_cap(uint32_t cap, uint32_t limit)
{
	uint64_t next = cap < 16 ? 16 : (uint64_t)cap + cap / 2;
	return next > limit ? limit : (uint32_t)next;
}

static const struct ps_trie *trie_for(const hl_prefix_set_t *set, int family)
{
	return family == 4 ? &set->t4 : family == 6 ? &set->t6 : NULL;
}

static inline unsigned key_bit(const uint8_t *key, unsigned bit)
{
	return (key[bit / 8] >> (7 - bit % 8)) & 1u;
}

/* Length of the common prefix of a and b, at most limit bits. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned limit)
{
	unsigned bit = 0;
	for (unsigned i = 0; bit < limit; i++, bit += 8) {
		unsigned x = a[i] ^ b[i];
		if (x != 0) {
			bit += (unsigned)__builtin_clz(x) - (unsigned)(8 * (sizeof(unsigned) - 1));
			break;
		}
	}
	return bit < limit ? bit : limit;
}

/* Does key (plen bits) cover addr? */
static inline bool key_covers(const uint8_t *key, unsigned plen, const uint8_t *addr)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(key, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned mask = (0xffu << (8 - rest)) & 0xffu;
	return ((key[full] ^ addr[full]) & mask) == 0;
}

static int trie_node_new(struct ps_trie *t, const uint8_t *addr, unsigned plen, uint32_t *out)
{
	if (t->n == t->cap) {
		if (t->cap == MAX_NODES)
			return HL_ELIMIT;
		uint32_t cap = grown_cap(t->cap, MAX_NODES);
		uint8_t *nodes = realloc(t->nodes, (size_t)cap * t->stride);
		if (nodes == NULL)
			return HL_ENOMEM;
		t->nodes = nodes;
		t->cap = cap;
	}
	uint32_t i = t->n++;
	struct ps_node *nd = node_at(t, i);
	nd->child[0] = nd->child[1] = NIL;
	nd->value = 0;
	nd->plen = (uint8_t)plen;
	nd->flags = 0;
	uint8_t *key = (uint8_t *)nd + sizeof *nd;
	memset(key, 0, t->width);
	unsigned full = plen / 8, rest = plen % 8;
	memcpy(key, addr, full);
	if (rest != 0)
		key[full] = (uint8_t)(addr[full] & (0xffu << (8 - rest)));
	*out = i;
	return 0;
}

static void link_node(struct ps_trie *t, uint32_t parent, unsigned dir, uint32_t idx)
{
	if (parent == NIL)
		t->root = idx;
	else
		node_at(t, parent)->child[dir] = idx;
}

/* Find or create the node for addr/plen; *out is its index. */
static int trie_insert(struct ps_trie *t, const uint8_t *addr, unsigned plen, uint32_t *out)
{
	int rc;
	if (t->root == NIL) {
		if ((rc = trie_node_new(t, addr, plen, out)) != 0)
			return rc;
		t->root = *out;
		return 0;
	}
	/* First walk: follow addr's bits as far as they go and compare with
	 * the key found there. Every node on the path is an ancestor of that
	 * node, so `diff` (first differing bit) holds for all of them. */
	uint32_t cur = t->root;
	for (;;) {
		const struct ps_node *nd = node_at(t, cur);
		if (nd->plen >= plen)
			break;
		uint32_t next = nd->child[key_bit(addr, nd->plen)];
		if (next == NIL)
			break;
		cur = next;
	}
	unsigned stop_plen = node_at(t, cur)->plen;
	unsigned diff = common_bits(addr, key_at(t, cur), plen < stop_plen ? plen : stop_plen);

	/* Second walk: the same path, to where the new prefix belongs. */
	uint32_t parent = NIL;
	unsigned dir = 0;
	cur = t->root;
	while (cur != NIL) {
		const struct ps_node *nd = node_at(t, cur);
		unsigned common = diff < nd->plen ? diff : nd->plen;
		if (common == nd->plen) {
			if (nd->plen == plen) {
				*out = cur;
				return 0;
			}
			/* nd covers the new prefix: descend. */
			parent = cur;
			dir = key_bit(addr, nd->plen);
			cur = nd->child[dir];
			continue;
		}
		/* The new prefix and nd part ways at bit `common` (< nd->plen). */
		uint32_t old = cur, fresh;
		unsigned old_dir = key_bit(key_at(t, old), common);
		if (common == plen) {
			/* The new prefix is an ancestor of nd: insert it above. */
			if ((rc = trie_node_new(t, addr, plen, &fresh)) != 0)
				return rc;
			node_at(t, fresh)->child[old_dir] = old;
			link_node(t, parent, dir, fresh);
			*out = fresh;
			return 0;
		}
		uint32_t branch;
		if ((rc = trie_node_new(t, addr, common, &branch)) != 0)
			return rc;
		if ((rc = trie_node_new(t, addr, plen, &fresh)) != 0) {
			t->n--; /* branch not linked yet: drop it */
			return rc;
		}
		node_at(t, branch)->child[old_dir] = old;
		node_at(t, branch)->child[!old_dir] = fresh;
		link_node(t, parent, dir, branch);
		*out = fresh;
		return 0;
	}
	if ((rc = trie_node_new(t, addr, plen, out)) != 0)
		return rc;
	link_node(t, parent, dir, *out);
	return 0;
}

/* Room for more prefixes: each insert adds at most two nodes (the prefix
 * and a branch), so 2 * more nodes always suffice. */
static int trie_reserve(struct ps_trie *t, size_t more)
{
	if (more == 0)
		return 0;
	if (more > MAX_NODES / 2 || t->n > MAX_NODES - 2 * more)
		return HL_ELIMIT;
	uint32_t want = t->n + (uint32_t)(2 * more);
	if (want <= t->cap)
		return 0;
	uint8_t *nodes = realloc(t->nodes, (size_t)want * t->stride);
	if (nodes == NULL)
		return HL_ENOMEM;
	hl_big_prefault(nodes + (size_t)t->cap * t->stride, (size_t)(want - t->cap) * t->stride);
	t->nodes = nodes;
	t->cap = want;
	return 0;
}

int hl_prefix_set_reserve(hl_prefix_set_t *set, size_t v4, size_t v6)
{
	if (set == NULL)
		return HL_EINVAL;
	int rc = trie_reserve(&set->t4, v4);
	return rc != 0 ? rc : trie_reserve(&set->t6, v6);
}

static int overflow_new(hl_prefix_set_t *set, uint32_t value, uint32_t *out)
{
	if (set->novf == set->ovfcap) {
		if (set->ovfcap == MAX_NODES)
			return HL_ELIMIT;
		uint32_t cap = grown_cap(set->ovfcap, MAX_NODES);
		struct ps_overflow *ovf = realloc(set->ovf, (size_t)cap * sizeof *ovf);
		if (ovf == NULL)
			return HL_ENOMEM;
		set->ovf = ovf;
		set->ovfcap = cap;
	}
	uint32_t i = set->novf++;
	set->ovf[i].value = value;
	set->ovf[i].next = i;
	*out = i;
	return 0;
}

static int node_add_value(hl_prefix_set_t *set, struct ps_trie *t, uint32_t idx, uint32_t value)
{
	struct ps_node *nd = node_at(t, idx);
	if (!(nd->flags & NODE_HAS_VALUE)) {
		nd->value = value;
		nd->flags = NODE_HAS_VALUE;
		t->prefixes++;
		return 0;
	}
	int rc;
	uint32_t tail, fresh;
	if (!(nd->flags & NODE_MULTI)) {
		if ((rc = overflow_new(set, nd->value, &tail)) != 0)
			return rc;
		nd->value = tail;
		nd->flags |= NODE_MULTI;
	}
	tail = nd->value;
	if ((rc = overflow_new(set, value, &fresh)) != 0)
		return rc;
	set->ovf[fresh].next = set->ovf[tail].next;
	set->ovf[tail].next = fresh;
	nd->value = fresh;
	return 0;
}

int hl_prefix_set_add(hl_prefix_set_t *set, int family, const uint8_t *addr, unsigned plen,
                      uint32_t value)
{
	if (set == NULL || addr == NULL)
		return HL_EINVAL;
	struct ps_trie *t = (struct ps_trie *)trie_for(set, family);
	if (t == NULL || plen > t->maxbits)
		return HL_EINVAL;
	uint32_t idx;
	int rc = trie_insert(t, addr, plen, &idx);
	if (rc != 0)
		return rc;
	return node_add_value(set, t, idx, value);
}

/* Calls fn for each value of one node in insertion order; *stop set when
 * fn asks to stop. Returns the calls made. */
static size_t node_report(const hl_prefix_set_t *set, const struct ps_node *nd, hl_prefix_fn fn,
                          void *ctx, bool *stop)
{
	if (!(nd->flags & NODE_MULTI)) {
		*stop = fn(ctx, nd->value, nd->plen) != 0;
		return 1;
	}
	size_t calls = 0;
	uint32_t tail = nd->value, i = set->ovf[tail].next;
	for (;;) {
		calls++;
		if (fn(ctx, set->ovf[i].value, nd->plen) != 0) {
			*stop = true;
			break;
		}
		if (i == tail)
			break;
		i = set->ovf[i].next;
	}
	return calls;
}

size_t hl_prefix_set_lookup(const hl_prefix_set_t *set, int family, const uint8_t *addr,
                            hl_prefix_fn fn, void *ctx)
{
	if (set == NULL || addr == NULL || fn == NULL)
		return 0;
	const struct ps_trie *t = trie_for(set, family);
	if (t == NULL)
		return 0;
	/* Collect matching nodes root-down, report them bottom-up. */
	uint32_t hits[129];
	unsigned nhits = 0;
	uint32_t cur = t->root;
	while (cur != NIL) {
		const struct ps_node *nd = node_at(t, cur);
		if (nd->flags & NODE_HAS_VALUE) {
			if (!key_covers(key_at(t, cur), nd->plen, addr))
				break;
			hits[nhits++] = cur;
		}
		if (nd->plen >= t->maxbits)
			break;
		cur = nd->child[key_bit(addr, nd->plen)];
	}
	size_t calls = 0;
	bool stop = false;
	while (nhits > 0 && !stop)
		calls += node_report(set, node_at(t, hits[--nhits]), fn, ctx, &stop);
	return calls;
}

bool hl_prefix_set_contains(const hl_prefix_set_t *set, int family, const uint8_t *addr)
{
	return hl_prefix_set_covers(set, family, addr, family == 6 ? 128 : 32);
}

bool hl_prefix_set_covers(const hl_prefix_set_t *set, int family, const uint8_t *addr,
                          unsigned plen)
{
	if (set == NULL || addr == NULL)
		return false;
	const struct ps_trie *t = trie_for(set, family);
	if (t == NULL || plen > t->maxbits)
		return false;
	uint32_t cur = t->root;
	while (cur != NIL) {
		const struct ps_node *nd = node_at(t, cur);
		if (nd->plen > plen)
			return false;
		if (nd->flags & NODE_HAS_VALUE)
			return key_covers(key_at(t, cur), nd->plen, addr);
		if (nd->plen >= t->maxbits)
			return false;
		cur = nd->child[key_bit(addr, nd->plen)];
	}
	return false;
}

bool hl_prefix_set_has(const hl_prefix_set_t *set, int family, const uint8_t *addr, unsigned plen)
{
	if (set == NULL || addr == NULL)
		return false;
	const struct ps_trie *t = trie_for(set, family);
	if (t == NULL || plen > t->maxbits)
		return false;
	uint32_t cur = t->root;
	while (cur != NIL) {
		const struct ps_node *nd = node_at(t, cur);
		if (nd->plen >= plen)
			return nd->plen == plen && (nd->flags & NODE_HAS_VALUE) &&
			       key_covers(key_at(t, cur), plen, addr);
		cur = nd->child[key_bit(addr, nd->plen)];
	}
	return false;
}

size_t hl_prefix_set_count(const hl_prefix_set_t *set)
{
	return set == NULL ? 0 : set->t4.prefixes + set->t6.prefixes;
}

size_t hl_prefix_set_memory(const hl_prefix_set_t *set)
{
	if (set == NULL)
		return 0;
	size_t bytes = sizeof *set;
	bytes += (size_t)set->t4.cap * set->t4.stride;
	bytes += (size_t)set->t6.cap * set->t6.stride;
	bytes += (size_t)set->ovfcap * sizeof(struct ps_overflow);
	return bytes;
}
