/* \summary: IPv4/IPv6 fragment reassembly (policy and bounds in defrag.h)
 *
 * A fixed pool of entries, allocated once, found through a seeded hash
 * (chains of entry indexes) and kept on an age list ordered by creation,
 * so the oldest is at hand for eviction and timeout. Per datagram, one
 * range array (max_frags) and a payload buffer grown on demand are the only
 * allocations; the finished datagram is built in one buffer owned by the
 * table. Indexes are stored +1 so that 0 means none.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "defrag.h"

#define MAX_PAYLOAD 65535u /* IPv4 total length and IPv6 payload length are 16 bits */
#define IPV6_HDR_LEN 40u
#define MAX_DGRAM (MAX_PAYLOAD + IPV6_HDR_LEN)
#define MIN_BUF 2048u
#define MAX_REASSEMBLIES_LIMIT (1u << 20)
#define MAX_FRAGS_LIMIT 8192u /* 65535 / 8: the most a datagram can be cut into */

struct frag_key {
	uint8_t family;
	uint8_t proto;
	uint8_t vlan_count;
	uint8_t pad;
	uint16_t vlan[HL_PKT_MAX_VLANS];
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

struct range {
	uint32_t start, end; /* [start, end) of the fragmentable payload */
};

struct frag_entry {
	struct frag_key key;
	uint32_t hnext;        /* hash chain, or free list */
	uint32_t older, newer; /* age list */
	int64_t first_ts;
	uint32_t nfrags; /* fragments seen, duplicates included */
	uint32_t nranges;
	uint32_t total; /* payload length, once the last fragment is in */
	bool has_last;
	bool in_use;
	uint8_t nh;      /* IPv6: next header after the fragment header */
	uint32_t nh_off; /* IPv6: where that byte goes in hdr */
	uint8_t *hdr;    /* offset-0 fragment's header; NULL until it arrives */
	uint32_t hdr_len;
	struct range *ranges; /* max_frags */
	uint8_t *buf;         /* payload; holes hold garbage */
	uint32_t cap;
	uint64_t mem; /* bytes charged to the table */
};

struct hl_defrag {
	struct hl_defrag_config cfg;
	struct frag_entry *entries;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t free_head;
	uint32_t oldest, newest;
	uint64_t mem;
	uint8_t *out; /* MAX_DGRAM bytes: the last finished datagram */
};

static void apply_defaults(struct hl_defrag_config *c)
{
	if (c->max_reassemblies == 0)
		c->max_reassemblies = HL_DEFRAG_DEFAULT_MAX_REASSEMBLIES;
	if (c->max_frags == 0)
		c->max_frags = HL_DEFRAG_DEFAULT_MAX_FRAGS;
	if (c->timeout_us == 0)
		c->timeout_us = HL_DEFRAG_DEFAULT_TIMEOUT_US;
	if (c->max_mem == 0)
		c->max_mem = HL_DEFRAG_DEFAULT_MAX_MEM;
}

bool hl_defrag_config_valid(const struct hl_defrag_config *cfg)
{
	struct hl_defrag_config c = *cfg;
	apply_defaults(&c);
	return c.max_reassemblies <= MAX_REASSEMBLIES_LIMIT && c.max_frags <= MAX_FRAGS_LIMIT &&
	       c.timeout_us > 0;
}

struct hl_defrag *hl_defrag_new(const struct hl_defrag_config *cfg)
{
	if (cfg == NULL || !hl_defrag_config_valid(cfg))
		return NULL;
	struct hl_defrag *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->cfg = *cfg;
	apply_defaults(&f->cfg);
	if (f->cfg.hash_seed == 0 && getrandom(&f->cfg.hash_seed, sizeof(f->cfg.hash_seed), 0) !=
	                                     (ssize_t)sizeof(f->cfg.hash_seed))
		f->cfg.hash_seed = (uint32_t)(uintptr_t)f; /* weak, but only a fallback */
	uint32_t nb = 1;
	while (nb < f->cfg.max_reassemblies)
		nb <<= 1;
	f->mask = nb - 1;
	f->entries = calloc(f->cfg.max_reassemblies, sizeof(*f->entries));
	f->buckets = calloc(nb, sizeof(*f->buckets));
	f->out = malloc(MAX_DGRAM);
	if (f->entries == NULL || f->buckets == NULL || f->out == NULL) {
		hl_defrag_destroy(&f);
		return NULL;
	}
	for (uint32_t i = f->cfg.max_reassemblies; i > 0; i--) {
		f->entries[i - 1].hnext = f->free_head;
		f->free_head = i;
	}
	return f;
}

void hl_defrag_destroy(struct hl_defrag **fp)
{
	if (fp == NULL || *fp == NULL)
		return;
	struct hl_defrag *f = *fp;
	if (f->entries != NULL) {
		for (uint32_t i = 0; i < f->cfg.max_reassemblies; i++) {
			free(f->entries[i].hdr);
			free(f->entries[i].ranges);
			free(f->entries[i].buf);
		}
	}
	free(f->entries);
	free(f->buckets);
	free(f->out);
	free(f);
	*fp = NULL;
}

static uint32_t key_hash(const struct frag_key *k, uint32_t seed)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u ^ seed;
	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static void update_gauges(struct hl_defrag *f, struct hl_decode_stats *st)
{
	st->frag_mem = f->mem;
	if (f->mem > st->frag_mem_peak)
		st->frag_mem_peak = f->mem;
}

/* Unlink and free entry idx (1-based); the caller counts why. */
static void drop(struct hl_defrag *f, struct hl_decode_stats *st, uint32_t idx)
{
	struct frag_entry *e = &f->entries[idx - 1];
	uint32_t *link = &f->buckets[key_hash(&e->key, f->cfg.hash_seed) & f->mask];
	while (*link != 0 && *link != idx)
		link = &f->entries[*link - 1].hnext;
	if (*link == idx)
		*link = e->hnext;
	if (e->older != 0)
		f->entries[e->older - 1].newer = e->newer;
	else
		f->oldest = e->newer;
	if (e->newer != 0)
		f->entries[e->newer - 1].older = e->older;
	else
		f->newest = e->older;
	free(e->hdr);
	free(e->ranges);
	free(e->buf);
	f->mem -= e->mem;
	memset(e, 0, sizeof(*e));
	e->hnext = f->free_head;
	f->free_head = idx;
	st->frag_active--;
	update_gauges(f, st);
}

void hl_defrag_expire(struct hl_defrag *f, struct hl_decode_stats *st, int64_t now)
{
	/* Unsigned difference: hostile timestamps must not overflow. */
	while (f->oldest != 0) {
		const struct frag_entry *e = &f->entries[f->oldest - 1];
		if (now <= e->first_ts ||
		    (uint64_t)now - (uint64_t)e->first_ts < (uint64_t)f->cfg.timeout_us)
			break;
		drop(f, st, f->oldest);
		st->n.frag_timeout++;
	}
}

/* Make room for need more bytes, evicting the oldest reassemblies other
 * than keep. False when even that is not enough. */
static bool reserve(struct hl_defrag *f, struct hl_decode_stats *st, uint32_t keep, uint64_t need)
{
	while (f->mem + need > f->cfg.max_mem) {
		uint32_t victim = f->oldest;
		if (keep != 0 && victim == keep)
			victim = f->entries[keep - 1].newer;
		if (victim == 0)
			return false;
		drop(f, st, victim);
		st->n.frag_evicted++;
	}
	return true;
}

static void charge(struct hl_defrag *f, struct hl_decode_stats *st, struct frag_entry *e,
                   int64_t delta)
{
	e->mem = (uint64_t)((int64_t)e->mem + delta);
	f->mem = (uint64_t)((int64_t)f->mem + delta);
	update_gauges(f, st);
}

static uint32_t lookup(const struct hl_defrag *f, const struct frag_key *k, uint32_t h)
{
	for (uint32_t i = f->buckets[h & f->mask]; i != 0; i = f->entries[i - 1].hnext)
		if (memcmp(&f->entries[i - 1].key, k, sizeof(*k)) == 0)
			return i;
	return 0;
}

static uint32_t create(struct hl_defrag *f, struct hl_decode_stats *st, const struct frag_key *k,
                       uint32_t h, int64_t ts)
{
	if (f->free_head == 0) {
		drop(f, st, f->oldest);
		st->n.frag_evicted++;
	}
	uint64_t rsize = (uint64_t)f->cfg.max_frags * sizeof(struct range);
	if (!reserve(f, st, 0, rsize))
		return 0;
	uint32_t idx = f->free_head;
	struct frag_entry *e = &f->entries[idx - 1];
	e->ranges = malloc(rsize);
	if (e->ranges == NULL)
		return 0;
	f->free_head = e->hnext;
	e->key = *k;
	e->in_use = true;
	e->first_ts = ts;
	e->hnext = f->buckets[h & f->mask];
	f->buckets[h & f->mask] = idx;
	e->older = f->newest;
	e->newer = 0;
	if (f->newest != 0)
		f->entries[f->newest - 1].newer = idx;
	else
		f->oldest = idx;
	f->newest = idx;
	st->frag_active++;
	charge(f, st, e, (int64_t)rsize);
	return idx;
}

static bool grow(struct hl_defrag *f, struct hl_decode_stats *st, uint32_t idx, uint32_t need)
{
	struct frag_entry *e = &f->entries[idx - 1];
	if (need <= e->cap)
		return true;
	uint32_t ncap = need;
	if (e->has_last) {
		ncap = e->total; /* checked >= need by the caller */
	} else {
		/* Doubling keeps copies amortised; the last fragment fixes the size. */
		uint32_t dbl = e->cap * 2 > MIN_BUF ? e->cap * 2 : MIN_BUF;
		if (dbl > ncap)
			ncap = dbl > MAX_PAYLOAD ? MAX_PAYLOAD : dbl;
	}
	if (!reserve(f, st, idx, ncap - e->cap))
		return false;
	uint8_t *nb = realloc(e->buf, ncap);
	if (nb == NULL)
		return false;
	charge(f, st, e, (int64_t)ncap - (int64_t)e->cap);
	e->buf = nb;
	e->cap = ncap;
	return true;
}

/* Store [s, end) of data first-wins and merge it into the sorted ranges.
 * Returns the event to count (0 for none). */
static int insert(struct frag_entry *e, uint32_t s, uint32_t end, const uint8_t *data)
{
	uint32_t pos = s, covered = 0, i;
	bool conflict = false;
	for (i = 0; i < e->nranges; i++) {
		const struct range *r = &e->ranges[i];
		if (r->end <= s)
			continue;
		if (r->start >= end)
			break;
		uint32_t os = r->start > s ? r->start : s;
		uint32_t oe = r->end < end ? r->end : end;
		if (memcmp(e->buf + os, data + (os - s), oe - os) != 0)
			conflict = true;
		covered += oe - os;
		if (r->start > pos)
			memcpy(e->buf + pos, data + (pos - s), r->start - pos);
		if (r->end > pos)
			pos = r->end;
	}
	if (pos < end)
		memcpy(e->buf + pos, data + (pos - s), end - pos);

	/* Ranges touching or overlapping [s, end) are lo..hi-1; merge them. */
	uint32_t lo = 0;
	while (lo < e->nranges && e->ranges[lo].end < s)
		lo++;
	uint32_t hi = lo;
	while (hi < e->nranges && e->ranges[hi].start <= end)
		hi++;
	if (lo == hi) {
		memmove(&e->ranges[lo + 1], &e->ranges[lo],
		        (e->nranges - lo) * sizeof(struct range));
		e->ranges[lo].start = s;
		e->ranges[lo].end = end;
		e->nranges++;
	} else {
		uint32_t ms = e->ranges[lo].start < s ? e->ranges[lo].start : s;
		uint32_t me = e->ranges[hi - 1].end > end ? e->ranges[hi - 1].end : end;
		e->ranges[lo].start = ms;
		e->ranges[lo].end = me;
		memmove(&e->ranges[lo + 1], &e->ranges[hi],
		        (e->nranges - hi) * sizeof(struct range));
		e->nranges -= hi - lo - 1;
	}
	if (covered == 0)
		return 0;
	if (covered == end - s && !conflict)
		return HL_DECODE_FRAG_DUPLICATE;
	return HL_DECODE_FRAG_OVERLAP;
}

static uint16_t ipv4_checksum(const uint8_t *h, uint32_t len)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Build the datagram in f->out: header (lengths fixed, fragmentation
 * gone) then payload. */
static int assemble(struct hl_defrag *f, const struct frag_entry *e, uint32_t *len)
{
	uint32_t dlen = e->hdr_len + e->total;
	if (e->key.family == 4 ? dlen > MAX_PAYLOAD : dlen - IPV6_HDR_LEN > MAX_PAYLOAD)
		return HL_DECODE_FRAG_TOO_BIG;
	memcpy(f->out, e->hdr, e->hdr_len);
	memcpy(f->out + e->hdr_len, e->buf, e->total);
	if (e->key.family == 4) {
		put_be16(f->out + 2, dlen);
		f->out[6] &= 0x40; /* keep DF; MF and offset cleared */
		f->out[7] = 0;
		put_be16(f->out + 10, 0);
		put_be16(f->out + 10, ipv4_checksum(f->out, e->hdr_len));
	} else {
		put_be16(f->out + 4, dlen - IPV6_HDR_LEN);
		f->out[e->nh_off] = e->nh;
	}
	*len = dlen;
	return HL_DECODE_OK;
}

int hl_defrag_add(struct hl_defrag *f, struct hl_decode_stats *st, const struct hl_frag *fr,
                  const uint8_t **dgram, uint32_t *dgram_len)
{
	*dgram = NULL;
	*dgram_len = 0;
	if (fr->len == 0 || (fr->more && (fr->len & 7) != 0))
		return HL_DECODE_FRAG_INVALID;
	if (fr->family == 6 && (fr->hdr_len < IPV6_HDR_LEN || fr->nh_off >= fr->hdr_len))
		return HL_DECODE_FRAG_INVALID;
	uint32_t unfrag_extra = fr->family == 4 ? fr->hdr_len : fr->hdr_len - IPV6_HDR_LEN;
	uint64_t end = (uint64_t)fr->offset + fr->len;
	if (end + unfrag_extra > MAX_PAYLOAD)
		return HL_DECODE_FRAG_TOO_BIG;

	struct frag_key k;
	memset(&k, 0, sizeof(k));
	k.family = fr->family;
	k.proto = fr->family == 4 ? fr->proto : 0; /* RFC 8200: IPv6 keys on addresses and id */
	k.vlan_count = fr->vlan_count;
	memcpy(k.vlan, fr->vlan, sizeof(k.vlan));
	k.id = fr->id;
	size_t alen = fr->family == 4 ? 4 : 16;
	memcpy(k.src, fr->src, alen);
	memcpy(k.dst, fr->dst, alen);
	uint32_t h = key_hash(&k, f->cfg.hash_seed);

	uint32_t idx = lookup(f, &k, h);
	if (idx == 0 && (idx = create(f, st, &k, h, fr->ts)) == 0)
		return HL_DECODE_FRAG_NOMEM;
	struct frag_entry *e = &f->entries[idx - 1];
	if (++e->nfrags > f->cfg.max_frags) {
		drop(f, st, idx);
		return HL_DECODE_FRAG_LIMIT;
	}
	uint32_t s = fr->offset, en = (uint32_t)end;
	if (!fr->more) {
		if (e->has_last && en != e->total)
			return HL_DECODE_FRAG_INVALID;
		if (e->nranges > 0 && e->ranges[e->nranges - 1].end > en)
			return HL_DECODE_FRAG_INVALID;
	} else if (e->has_last && en > e->total) {
		return HL_DECODE_FRAG_INVALID;
	}

	if (s == 0 && e->hdr == NULL) {
		if (!reserve(f, st, idx, fr->hdr_len) || (e->hdr = malloc(fr->hdr_len)) == NULL) {
			drop(f, st, idx);
			return HL_DECODE_FRAG_NOMEM;
		}
		memcpy(e->hdr, fr->hdr, fr->hdr_len);
		e->hdr_len = fr->hdr_len;
		e->nh = fr->proto;
		e->nh_off = fr->nh_off;
		charge(f, st, e, (int64_t)fr->hdr_len);
	}
	if (!fr->more) {
		e->has_last = true;
		e->total = en;
	}
	if (!grow(f, st, idx, en)) {
		drop(f, st, idx);
		return HL_DECODE_FRAG_NOMEM;
	}
	int ev = insert(e, s, en, fr->data);
	if (ev != 0)
		st->by_reason[ev]++;

	if (!e->has_last || e->nranges != 1 || e->ranges[0].start != 0 ||
	    e->ranges[0].end != e->total || e->hdr == NULL)
		return HL_DECODE_FRAGMENT_HELD;
	uint32_t dlen;
	int r = assemble(f, e, &dlen);
	drop(f, st, idx);
	if (r != HL_DECODE_OK)
		return r;
	st->n.frag_reassembled++;
	*dgram = f->out;
	*dgram_len = dlen;
	return HL_DECODE_OK;
}
