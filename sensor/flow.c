/* \summary: per-worker flow table (layout and policy in flow.h)
 *
 * Pool entries are referenced by index + 1 so that 0 means none, in the
 * index slots, the class lists and the free list alike. Pool entries are
 * handed out from a free list first and then in order from the never-used
 * tail, so the pool's pages are only touched as flows appear.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "flow.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

#define TCPF_FIN 0x01u
#define TCPF_SYN 0x02u
#define TCPF_RST 0x04u
#define TCPF_ACK 0x10u

#define MIN_FLOWS 16u
#define ALIGN 16u
#define POOL_ALIGN 64u
#define INITIAL_SLOTS 1024u

struct slot {
	uint32_t hash;
	uint32_t idx; /* pool index + 1; 0: empty */
};

struct hl_flow_table {
	struct hl_flow_config cfg;
	hl_flow_end_fn on_end;
	void *ctx;
	uint8_t *pool;
	size_t stride; /* bytes per pool entry: flow, then user area */
	size_t user_off;
	uint32_t cap;
	uint32_t unused; /* entries [unused, cap) never handed out */
	uint32_t free_head;
	struct slot *slots;
	uint64_t max_slots; /* what cap flows need at load 1/2 */
	uint32_t mask;      /* slots - 1 */
	unsigned shift;     /* 32 - log2(slots) */
	uint32_t head[HL_FLOW_T_COUNT], tail[HL_FLOW_T_COUNT];
	/* last_seen of each class's head: the expiry check runs per packet
	 * and would otherwise load five flows that have left the cache. */
	int64_t head_seen[HL_FLOW_T_COUNT];
	struct hl_flow_stats st;
};

static void set_index_size(struct hl_flow_table *t, uint64_t nslots)
{
	t->mask = (uint32_t)(nslots - 1);
	t->shift = 32;
	for (uint64_t n = nslots; n > 1; n >>= 1)
		t->shift--;
}

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

static size_t entry_stride(uint32_t user_size)
{
	return round_up(sizeof(struct hl_flow), ALIGN) + round_up(user_size, ALIGN);
}

/* Index slots for cap flows: a power of two, load at most 1/2. */
static uint64_t slots_for(uint64_t cap)
{
	uint64_t n = 32;
	while (n < 2 * cap)
		n <<= 1;
	return n;
}

static uint64_t mem_for(uint64_t cap, size_t stride)
{
	return sizeof(struct hl_flow_table) + round_up(cap * stride, POOL_ALIGN) +
	       slots_for(cap) * sizeof(struct slot);
}

size_t hl_flow_bytes_per_flow(uint32_t user_size)
{
	return entry_stride(user_size) + 2 * sizeof(struct slot);
}

static void apply_defaults(struct hl_flow_config *c)
{
	static const int64_t def[HL_FLOW_T_COUNT] = {
	        HL_FLOW_DEFAULT_TIMEOUT_TCP_US, HL_FLOW_DEFAULT_TIMEOUT_TCP_CLOSED_US,
	        HL_FLOW_DEFAULT_TIMEOUT_UDP_US, HL_FLOW_DEFAULT_TIMEOUT_ICMP_US,
	        HL_FLOW_DEFAULT_TIMEOUT_OTHER_US};
	if (c->max_flows == 0)
		c->max_flows = HL_FLOW_DEFAULT_MAX_FLOWS;
	if (c->lru_step_us == 0)
		c->lru_step_us = HL_FLOW_DEFAULT_LRU_STEP_US;
	for (int i = 0; i < HL_FLOW_T_COUNT; i++) {
		if (c->timeout_us[i] == 0)
			c->timeout_us[i] = def[i];
	}
}

/* The capacity cfg allows, 0 if none. */
static uint32_t capacity(const struct hl_flow_config *c)
{
	uint64_t cap = c->max_flows;
	size_t stride = entry_stride(c->user_size);
	if (c->max_mem == 0)
		return (uint32_t)cap;
	uint64_t fit = c->max_mem / (stride + 2 * sizeof(struct slot));
	if (fit < cap)
		cap = fit;
	/* The power-of-two index can overshoot; shrink until it fits. */
	while (cap >= MIN_FLOWS && mem_for(cap, stride) > c->max_mem)
		cap -= cap / 16 + 1;
	return cap >= MIN_FLOWS ? (uint32_t)cap : 0;
}

bool hl_flow_config_valid(const struct hl_flow_config *cfg)
{
	struct hl_flow_config c = *cfg;
	apply_defaults(&c);
	if (c.max_flows < MIN_FLOWS || c.max_flows > HL_FLOW_MAX_FLOWS_LIMIT ||
	    c.user_size > HL_FLOW_MAX_USER_SIZE)
		return false;
	for (int i = 0; i < HL_FLOW_T_COUNT; i++) {
		if (c.timeout_us[i] < 0)
			return false;
	}
	if (c.lru_step_us < 0)
		return false;
	return capacity(&c) != 0;
}

struct hl_flow_table *hl_flow_table_new(const struct hl_flow_config *cfg, hl_flow_end_fn on_end,
                                        void *ctx)
{
	struct hl_flow_config c;
	if (cfg != NULL)
		c = *cfg;
	else
		memset(&c, 0, sizeof(c));
	if (!hl_flow_config_valid(&c))
		return NULL;
	apply_defaults(&c);
	static const uint8_t zero_key[HL_FLOW_HASH_KEY_LEN];
	if (memcmp(c.hash_key, zero_key, sizeof(zero_key)) == 0 &&
	    hl_flow_hash_key_random(c.hash_key) != 0)
		return NULL;

	struct hl_flow_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->cfg = c;
	t->on_end = on_end;
	t->ctx = ctx;
	t->cap = capacity(&c);
	t->stride = entry_stride(c.user_size);
	t->user_off = round_up(sizeof(struct hl_flow), ALIGN);
	/* The index starts small and doubles with the active flows: a sparse
	 * index sized for cap scatters a few thousand flows over a megabyte,
	 * and each lookup then misses the cache (worker profile,
	 * docs/performance.md). */
	t->max_slots = slots_for(t->cap);
	uint64_t nslots = t->max_slots < INITIAL_SLOTS ? t->max_slots : INITIAL_SLOTS;
	set_index_size(t, nslots);
	/* Lazily touched: aligned_alloc, not calloc; entries are cleared when
	 * handed out. */
	t->pool = aligned_alloc(POOL_ALIGN, round_up((size_t)t->cap * t->stride, POOL_ALIGN));
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (t->pool == NULL || t->slots == NULL) {
		hl_flow_table_destroy(&t);
		return NULL;
	}
	t->st.capacity = t->cap;
	t->st.memory = mem_for(t->cap, t->stride);
	return t;
}

void hl_flow_table_destroy(struct hl_flow_table **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	struct hl_flow_table *t = *tp;
	free(t->pool);
	free(t->slots);
	free(t);
	*tp = NULL;
}

static inline struct hl_flow *flow_at(const struct hl_flow_table *t, uint32_t idx)
{
	return (struct hl_flow *)(void *)(t->pool + (size_t)(idx - 1) * t->stride);
}

/* Fibonacci hashing: the top bits of hash * 2^32/phi. The shard took the
 * top bits of the hash itself; multiplying spreads every bit upwards, so
 * the flows of one shard still fill the whole index. */
static inline uint32_t home(const struct hl_flow_table *t, uint32_t hash)
{
	return (uint32_t)(hash * 0x9e3779b9u) >> t->shift;
}

static enum hl_flow_pclass pclass_of(const struct hl_flow_tuple *k)
{
	switch (k->proto) {
	case PROTO_TCP:
		return HL_FLOW_P_TCP;
	case PROTO_UDP:
		return HL_FLOW_P_UDP;
	case PROTO_ICMP:
		return k->family == 4 ? HL_FLOW_P_ICMP : HL_FLOW_P_OTHER;
	case PROTO_ICMPV6:
		return k->family == 6 ? HL_FLOW_P_ICMP : HL_FLOW_P_OTHER;
	default:
		return HL_FLOW_P_OTHER;
	}
}

static enum hl_flow_tclass tclass_of(const struct hl_flow *f)
{
	switch (pclass_of(&f->tuple)) {
	case HL_FLOW_P_TCP:
		if ((f->tcp_flags & HL_FLOW_TCP_RST) != 0 ||
		    (f->tcp_flags & (HL_FLOW_TCP_FIN0 | HL_FLOW_TCP_FIN1)) ==
		            (HL_FLOW_TCP_FIN0 | HL_FLOW_TCP_FIN1))
			return HL_FLOW_T_TCP_CLOSED;
		return HL_FLOW_T_TCP;
	case HL_FLOW_P_UDP:
		return HL_FLOW_T_UDP;
	case HL_FLOW_P_ICMP:
		return HL_FLOW_T_ICMP;
	default:
		return HL_FLOW_T_OTHER;
	}
}

int64_t hl_flow_timeout(const struct hl_flow_table *tbl, const struct hl_flow *flow)
{
	return tbl->cfg.timeout_us[flow->tclass];
}

/* Idle for longer than its timeout at now. Unsigned difference: hostile
 * timestamps must not overflow. */
static bool idle_since(const struct hl_flow_table *t, int64_t seen, int tclass, int64_t now)
{
	return now > seen && (uint64_t)now - (uint64_t)seen > (uint64_t)t->cfg.timeout_us[tclass];
}

static bool is_idle(const struct hl_flow_table *t, const struct hl_flow *f, int64_t now)
{
	return idle_since(t, f->last_seen, f->tclass, now);
}

/* ---- Class lists: least recently touched at the head. */

static void list_unlink(struct hl_flow_table *t, struct hl_flow *f)
{
	if (f->prev != 0) {
		flow_at(t, f->prev)->next = f->next;
	} else {
		t->head[f->tclass] = f->next;
		if (f->next != 0)
			t->head_seen[f->tclass] = flow_at(t, f->next)->last_seen;
	}
	if (f->next != 0)
		flow_at(t, f->next)->prev = f->prev;
	else
		t->tail[f->tclass] = f->prev;
	f->prev = f->next = 0;
}

static void list_append(struct hl_flow_table *t, struct hl_flow *f, uint32_t idx)
{
	f->prev = t->tail[f->tclass];
	f->next = 0;
	if (f->prev != 0) {
		flow_at(t, f->prev)->next = idx;
	} else {
		t->head[f->tclass] = idx;
		t->head_seen[f->tclass] = f->last_seen;
	}
	t->tail[f->tclass] = idx;
}

static uint32_t index_of(const struct hl_flow_table *t, const struct hl_flow *f)
{
	return (uint32_t)(((const uint8_t *)f - t->pool) / t->stride) + 1;
}

/* ---- Index. */

static void index_insert(struct hl_flow_table *t, uint32_t hash, uint32_t idx)
{
	uint32_t i = home(t, hash);
	while (t->slots[i].idx != 0)
		i = (i + 1) & t->mask;
	t->slots[i].hash = hash;
	t->slots[i].idx = idx;
}

/* Backward-shift deletion (Knuth 6.4 algorithm R): later members of the
 * probe run move up into the hole unless their home lies after it. */
static void index_remove(struct hl_flow_table *t, uint32_t hash, uint32_t idx)
{
	uint32_t i = home(t, hash);
	while (t->slots[i].idx != idx)
		i = (i + 1) & t->mask;
	for (;;) {
		t->slots[i].idx = 0;
		uint32_t j = i;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->slots[j].idx == 0)
				return;
			uint32_t k = home(t, t->slots[j].hash);
			bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
			if (!stays)
				break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

/* ---- Ending and making flows. */

static void end_flow(struct hl_flow_table *t, struct hl_flow *f, enum hl_flow_end_reason why)
{
	if (t->on_end != NULL)
		t->on_end(t->ctx, f, why);
	uint32_t idx = index_of(t, f);
	index_remove(t, f->hash, idx);
	list_unlink(t, f);
	f->next = t->free_head;
	t->free_head = idx;
	t->st.active--;
}

/* The least recently touched flow over all classes, optionally only among
 * those idle at now; NULL if none. */
static struct hl_flow *oldest(const struct hl_flow_table *t, bool idle_only, int64_t now)
{
	int best = -1;
	for (int c = 0; c < HL_FLOW_T_COUNT; c++) {
		if (t->head[c] == 0)
			continue;
		if (idle_only && !idle_since(t, t->head_seen[c], c, now))
			continue;
		if (best < 0 || t->head_seen[c] < t->head_seen[best])
			best = c;
	}
	return best < 0 ? NULL : flow_at(t, t->head[best]);
}

/* Double the index, rehashing from the stored hashes; false if out of
 * memory (the old index is kept). */
static bool index_grow(struct hl_flow_table *t)
{
	uint64_t old_n = (uint64_t)t->mask + 1;
	if (old_n >= t->max_slots)
		return false;
	struct slot *old = t->slots;
	struct slot *fresh = calloc(2 * old_n, sizeof(*fresh));
	if (fresh == NULL)
		return false;
	t->slots = fresh;
	set_index_size(t, 2 * old_n);
	for (uint64_t i = 0; i < old_n; i++) {
		if (old[i].idx != 0)
			index_insert(t, old[i].hash, old[i].idx);
	}
	free(old);
	return true;
}

static struct hl_flow *flow_alloc(struct hl_flow_table *t)
{
	uint32_t idx;
	/* Keep the index at most half full: grow it, or if that fails make
	 * room as a full table does. */
	if ((uint64_t)(t->st.active + 1) * 2 > (uint64_t)t->mask + 1 && !index_grow(t) &&
	    t->st.active > 0) {
		end_flow(t, oldest(t, false, 0), HL_FLOW_END_EVICTED);
		t->st.evicted++;
	}
	if (t->free_head != 0) {
		idx = t->free_head;
		t->free_head = flow_at(t, idx)->next;
	} else if (t->unused < t->cap) {
		idx = ++t->unused;
	} else {
		struct hl_flow *victim = oldest(t, false, 0);
		end_flow(t, victim, HL_FLOW_END_EVICTED);
		t->st.evicted++;
		idx = t->free_head;
		t->free_head = flow_at(t, idx)->next;
	}
	struct hl_flow *f = flow_at(t, idx);
	memset(f, 0, sizeof(*f));
	if (t->cfg.user_size > 0) {
		f->user = (uint8_t *)f + t->user_off;
		memset(f->user, 0, t->cfg.user_size);
	}
	return f;
}

/* The receiver initiated: the first packet seen answers a SYN or an echo
 * request that was not captured. */
static bool receiver_initiated(const struct hl_packet *p, const struct hl_flow_tuple *k)
{
	if (k->proto == PROTO_TCP)
		return (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK);
	if (k->family == 4 && k->proto == PROTO_ICMP)
		return p->icmp_type == 0;
	if (k->family == 6 && k->proto == PROTO_ICMPV6)
		return p->icmp_type == 129;
	return false;
}

static struct hl_flow *flow_create(struct hl_flow_table *t, const struct hl_packet *p,
                                   const struct hl_flow_tuple *k, uint32_t hash, int *dir)
{
	struct hl_flow *f = flow_alloc(t);
	uint32_t idx = index_of(t, f);
	f->tuple = *k;
	*dir = 0;
	if (receiver_initiated(p, k)) {
		memcpy(f->tuple.addr_a, k->addr_b, sizeof(k->addr_b));
		memcpy(f->tuple.addr_b, k->addr_a, sizeof(k->addr_a));
		f->tuple.port_a = k->port_b;
		f->tuple.port_b = k->port_a;
		*dir = 1;
	}
	f->hash = hash;
	f->vlan_count = p->vlan_count < HL_PKT_MAX_VLANS ? p->vlan_count : HL_PKT_MAX_VLANS;
	f->first_seen = f->last_seen = f->moved = p->ts;
	f->tclass = (uint8_t)tclass_of(f);
	index_insert(t, hash, idx);
	list_append(t, f, idx);
	t->st.created[pclass_of(k)]++;
	if (++t->st.active > t->st.active_max)
		t->st.active_max = t->st.active;
	return f;
}

/* 0: same orientation as the flow, 1: reversed, -1: another flow. */
static int match_dir(const struct hl_flow_tuple *f, const struct hl_flow_tuple *k)
{
	if (f->family != k->family || f->proto != k->proto || f->vlan[0] != k->vlan[0] ||
	    f->vlan[1] != k->vlan[1])
		return -1;
	if (f->port_a == k->port_a && f->port_b == k->port_b &&
	    memcmp(f->addr_a, k->addr_a, sizeof(f->addr_a)) == 0 &&
	    memcmp(f->addr_b, k->addr_b, sizeof(f->addr_b)) == 0)
		return 0;
	if (f->port_a == k->port_b && f->port_b == k->port_a &&
	    memcmp(f->addr_a, k->addr_b, sizeof(f->addr_a)) == 0 &&
	    memcmp(f->addr_b, k->addr_a, sizeof(f->addr_b)) == 0)
		return 1;
	return -1;
}

static struct hl_flow *find(const struct hl_flow_table *t, const struct hl_flow_tuple *k,
                            uint32_t hash, int *dir)
{
	for (uint32_t i = home(t, hash); t->slots[i].idx != 0; i = (i + 1) & t->mask) {
		if (t->slots[i].hash != hash)
			continue;
		struct hl_flow *f = flow_at(t, t->slots[i].idx);
		int d = match_dir(&f->tuple, k);
		if (d >= 0) {
			*dir = d;
			return f;
		}
	}
	return NULL;
}

static void account(struct hl_flow_table *t, struct hl_flow *f, const struct hl_packet *p, int dir)
{
	f->pkts[dir]++;
	f->bytes[dir] += p->wirelen;
	if (p->ts > f->last_seen)
		f->last_seen = p->ts;
	if (f->tuple.proto == PROTO_TCP) {
		uint8_t fl = p->tcp_flags;
		if ((fl & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && dir == 0)
			f->tcp_flags |= HL_FLOW_TCP_SYN;
		if ((fl & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) && dir == 1)
			f->tcp_flags |= HL_FLOW_TCP_SYNACK;
		if ((fl & TCPF_FIN) != 0)
			f->tcp_flags |= dir == 0 ? HL_FLOW_TCP_FIN0 : HL_FLOW_TCP_FIN1;
		if ((fl & TCPF_RST) != 0)
			f->tcp_flags |= HL_FLOW_TCP_RST;
	}
	/* Most recently touched goes last, in its (possibly new) class; within
	 * a class, only once per lru_step (relinking touches two more flows). */
	enum hl_flow_tclass c = tclass_of(f);
	uint32_t idx = index_of(t, f);
	bool due = (uint64_t)f->last_seen - (uint64_t)f->moved >= (uint64_t)t->cfg.lru_step_us;
	if (c != f->tclass || (due && t->tail[c] != idx)) {
		list_unlink(t, f);
		f->tclass = (uint8_t)c;
		list_append(t, f, idx);
		f->moved = f->last_seen;
	} else if (due) {
		f->moved = f->last_seen;
	}
	if (t->head[f->tclass] == idx)
		t->head_seen[f->tclass] = f->last_seen;
	t->st.packets++;
}

struct hl_flow *hl_flow_lookup(struct hl_flow_table *tbl, const struct hl_packet *p, int *dir,
                               bool *created)
{
	struct hl_flow_tuple k;
	if (created != NULL)
		*created = false;
	*dir = 0;
	if (hl_flow_tuple_from_packet(p, &k) != 0) {
		tbl->st.no_key++;
		return NULL;
	}
	uint32_t hash = hl_flow_hash(&k, tbl->cfg.hash_key);
	struct hl_flow *f = find(tbl, &k, hash, dir);
	if (f != NULL && is_idle(tbl, f, p->ts)) {
		tbl->st.expired[pclass_of(&f->tuple)]++;
		end_flow(tbl, f, HL_FLOW_END_TIMEOUT);
		f = NULL;
	} else if (f != NULL && f->tclass == HL_FLOW_T_TCP_CLOSED &&
	           (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		tbl->st.reused++;
		end_flow(tbl, f, HL_FLOW_END_REUSED);
		f = NULL;
	}
	if (f == NULL) {
		f = flow_create(tbl, p, &k, hash, dir);
		if (created != NULL)
			*created = true;
	}
	account(tbl, f, p, *dir);
	return f;
}

size_t hl_flow_table_expire(struct hl_flow_table *tbl, int64_t now, size_t max)
{
	size_t n = 0;
	while (n < max) {
		struct hl_flow *f = oldest(tbl, true, now);
		if (f == NULL)
			break;
		tbl->st.expired[pclass_of(&f->tuple)]++;
		end_flow(tbl, f, HL_FLOW_END_TIMEOUT);
		n++;
	}
	return n;
}

void hl_flow_table_flush(struct hl_flow_table *tbl)
{
	struct hl_flow *f;
	while ((f = oldest(tbl, false, 0)) != NULL) {
		tbl->st.flushed++;
		end_flow(tbl, f, HL_FLOW_END_FLUSH);
	}
}

void hl_flow_table_stats(const struct hl_flow_table *tbl, struct hl_flow_stats *out)
{
	*out = tbl->st;
}

void hl_flow_table_foreach(struct hl_flow_table *tbl, hl_flow_visit_fn fn, void *ctx)
{
	for (int c = 0; c < HL_FLOW_T_COUNT; c++) {
		for (uint32_t idx = tbl->head[c]; idx != 0;) {
			struct hl_flow *f = flow_at(tbl, idx);
			idx = f->next; /* read first: fn must not end flows, but may look */
			fn(ctx, f);
		}
	}
}
