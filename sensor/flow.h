/* \summary: per-worker flow table: symmetric tuple, idle timeouts, memory cap
 *
 * One table per worker thread, no locks and no globals. A flow is found by
 * the symmetric tuple (family, proto, both VLAN ids, both addresses and
 * ports), so both directions of a conversation reach the same flow; the flow
 * keeps its tuple oriented from the initiator (the client) to the responder,
 * and every lookup says which way the packet went.
 *
 * Layout: flows live in a pool allocated once (capacity fixed at creation),
 * each followed by the caller's fixed-size user area; an open-addressing
 * index (linear probing, the hash cached in the slot, load <= 1/2, deletion
 * by backward shift, no tombstones) maps tuples to pool entries. Flows sit on
 * one list per timeout class in the order they were last touched, so the
 * head of each list is the next to time out and the oldest of the heads is
 * the one evicted when the pool is full.
 *
 * Time is the packets' own (Unix microseconds in struct hl_packet.ts, and
 * the now passed to hl_flow_table_expire): no wall clock, so a pcap replays
 * the same way at any speed.
 *
 * The end callback runs once per flow, whatever ends it (timeout, eviction,
 * TCP port reuse, flush), before the flow's memory is reused: the caller
 * emits its final records there and frees what its user area points to. It
 * may be called from inside hl_flow_lookup (the pool was full, or the found
 * flow had timed out), hl_flow_table_expire and hl_flow_table_flush, and
 * must not call back into the same table.
 *
 * Sizing and defaults: docs/operations.md, "Bounds and defaults" and "Flows and TCP ordering".
 */
#ifndef HOTLINE_SENSOR_FLOW_H
#define HOTLINE_SENSOR_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* ---- Tuple and hash (flow_hash.c). The reader thread shards packets with
 * the same hash the tables use, so both directions go to one worker. */

#define HL_FLOW_HASH_KEY_LEN 16

/* A packet's tuple as it travelled: a = sender, b = receiver. Zero padded,
 * so it can be compared and hashed as bytes. */
struct hl_flow_tuple {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IP protocol / IPv6 next header */
	uint16_t vlan[HL_PKT_MAX_VLANS];
	uint16_t port_a, port_b; /* TCP/UDP ports; ICMP echo: both the echo id; else 0 */
	uint8_t addr_a[16], addr_b[16];
};

/* Fill t from a decoded packet. Returns 0, or HL_EINVAL when there is
 * nothing to key on: no IP header, or TCP/UDP/ICMP whose L4 header was not
 * decoded. Other protocols are keyed on addresses with zero ports. */
int hl_flow_tuple_from_packet(const struct hl_packet *p, struct hl_flow_tuple *t);

/* Keyed SipHash-2-4 of the tuple with its endpoints put in a fixed order,
 * so both directions hash alike. Keyed because the tuples are chosen by
 * whoever sends the packets: an unkeyed hash lets them pile every flow into
 * one probe run. */
uint32_t hl_flow_hash(const struct hl_flow_tuple *t, const uint8_t key[HL_FLOW_HASH_KEY_LEN]);

/* Fill key with random bytes (getrandom). Returns 0 or HL_EIO. */
int hl_flow_hash_key_random(uint8_t key[HL_FLOW_HASH_KEY_LEN]);

/* Worker index in [0, n) for a hash: multiply-shift on the high bits, which
 * leaves the low bits free for the table's own spreading. n > 0. */
static inline uint32_t hl_flow_shard(uint32_t hash, uint32_t n)
{
	return (uint32_t)(((uint64_t)hash * n) >> 32);
}

/* ---- The table (flow.c). */

/* Timeout classes: each has its own idle timeout and its own list. */
enum hl_flow_tclass {
	HL_FLOW_T_TCP = 0,    /* TCP, not closed */
	HL_FLOW_T_TCP_CLOSED, /* TCP after an RST, or a FIN each way */
	HL_FLOW_T_UDP,
	HL_FLOW_T_ICMP, /* ICMP and ICMPv6 */
	HL_FLOW_T_OTHER,
	HL_FLOW_T_COUNT
};

/* Protocol buckets for the counters. */
enum hl_flow_pclass {
	HL_FLOW_P_TCP = 0,
	HL_FLOW_P_UDP,
	HL_FLOW_P_ICMP,
	HL_FLOW_P_OTHER,
	HL_FLOW_P_COUNT
};

/* Why a flow ended (the end callback's reason). */
enum hl_flow_end_reason {
	HL_FLOW_END_TIMEOUT = 0, /* idle longer than its class's timeout */
	HL_FLOW_END_EVICTED,     /* the pool was full and this was the oldest */
	HL_FLOW_END_REUSED,      /* closed TCP flow, and a new SYN on the same tuple */
	HL_FLOW_END_FLUSH,       /* hl_flow_table_flush (shutdown) */
};

#define HL_FLOW_DEFAULT_MAX_FLOWS 65536u
#define HL_FLOW_MAX_FLOWS_LIMIT (1u << 24)
#define HL_FLOW_MAX_USER_SIZE (1u << 20)
#define HL_FLOW_DEFAULT_TIMEOUT_TCP_US (600 * (int64_t)1000000)
#define HL_FLOW_DEFAULT_TIMEOUT_TCP_CLOSED_US (10 * (int64_t)1000000)
#define HL_FLOW_DEFAULT_TIMEOUT_UDP_US (60 * (int64_t)1000000)
#define HL_FLOW_DEFAULT_TIMEOUT_ICMP_US (30 * (int64_t)1000000)
#define HL_FLOW_DEFAULT_TIMEOUT_OTHER_US (60 * (int64_t)1000000)
#define HL_FLOW_DEFAULT_LRU_STEP_US ((int64_t)1000000)

/* Zero fields take the defaults. */
struct hl_flow_config {
	uint32_t max_flows; /* pool capacity (default 65536) */
	/* Memory cap in bytes for pool and index together (0: none). When set,
	 * the capacity is the smaller of max_flows and what fits; a cap too
	 * small for 16 flows is refused. */
	uint64_t max_mem;
	uint32_t user_size;                     /* caller bytes per flow, zeroed at creation */
	int64_t timeout_us[HL_FLOW_T_COUNT];    /* idle timeouts by class */
	uint8_t hash_key[HL_FLOW_HASH_KEY_LEN]; /* all zero: random */
	/* A flow moves to the back of its list at most once per this much
	 * packet time (default 1 s), which spares the two cache misses of
	 * relinking on most packets; timeouts and eviction order are then
	 * exact to within it. 1: every packet that advances time (strict LRU). */
	int64_t lru_step_us;
};

/* hl_flow.tcp_flags: TCP state as seen, per direction where it says so. */
#define HL_FLOW_TCP_SYN 0x01u    /* a SYN from the initiator */
#define HL_FLOW_TCP_SYNACK 0x02u /* a SYN-ACK from the responder */
#define HL_FLOW_TCP_FIN0 0x04u   /* FIN initiator -> responder */
#define HL_FLOW_TCP_FIN1 0x08u   /* FIN responder -> initiator */
#define HL_FLOW_TCP_RST 0x10u    /* RST either way */

/* A flow. The caller reads these fields and owns the user area; the table
 * owns the rest (read only, and only during lookup's result or the end
 * callback). Direction 0 is initiator -> responder. */
struct hl_flow {
	struct hl_flow_tuple tuple; /* oriented: a = initiator (client), b = responder */
	uint32_t hash;              /* hl_flow_hash(tuple) with the table's key */
	uint32_t prev, next;        /* class list, pool index + 1; free list */
	uint8_t tclass;             /* enum hl_flow_tclass */
	uint8_t tcp_flags;          /* HL_FLOW_TCP_* */
	uint8_t vlan_count;         /* tags on the flow's first packet (ids 0 key as absent) */
	uint8_t reserved;
	int64_t first_seen, last_seen; /* packet time, Unix us */
	int64_t moved;                 /* packet time of the last move in its list */
	uint64_t pkts[2];              /* by direction */
	uint64_t bytes[2];             /* frame bytes on the wire (hl_packet.wirelen) */
	void *user;                    /* user_size bytes (NULL when user_size is 0) */
};

typedef void (*hl_flow_end_fn)(void *ctx, struct hl_flow *flow, enum hl_flow_end_reason why);

struct hl_flow_stats {
	uint64_t active;     /* flows in the table now */
	uint64_t active_max; /* high-water mark */
	uint64_t capacity;   /* pool size */
	uint64_t memory;     /* bytes allocated for pool and index */
	uint64_t packets;    /* lookups that found or made a flow */
	uint64_t no_key;     /* lookups refused: nothing to key on */
	uint64_t created[HL_FLOW_P_COUNT];
	uint64_t expired[HL_FLOW_P_COUNT]; /* idle timeouts (in expire or lookup) */
	uint64_t evicted;                  /* pool full: oldest flow ended */
	uint64_t reused;                   /* TCP port reuse after close */
	uint64_t flushed;
};

struct hl_flow_table;

/* Bytes of pool and index per flow for a given user area size (the cost
 * to plan memory with). */
size_t hl_flow_bytes_per_flow(uint32_t user_size);

/* Zero fields take the defaults; false for values out of range. */
bool hl_flow_config_valid(const struct hl_flow_config *cfg);

/* cfg may be NULL for the defaults; on_end may be NULL. NULL on an invalid
 * config or out of memory. */
struct hl_flow_table *hl_flow_table_new(const struct hl_flow_config *cfg, hl_flow_end_fn on_end,
                                        void *ctx);
/* Frees the table without calling the end callback (flush first to get
 * it). Accepts NULL; sets *tbl to NULL. */
void hl_flow_table_destroy(struct hl_flow_table **tbl);

/* Find or create the flow of a packet, and account the packet to it
 * (counters, last_seen, TCP flags, timeout class). *dir is set to 0 when the
 * packet went initiator -> responder, 1 otherwise; *created (may be NULL)
 * says a new flow was made (its user area zeroed).
 *
 * The initiator of a new flow is the packet's sender, except for a TCP
 * SYN-ACK or an ICMP echo reply, whose receiver initiated. A found flow that
 * idled past its timeout is ended (TIMEOUT) and made anew; so is a closed
 * TCP flow that sees a new SYN (REUSED). When the pool is full the oldest
 * flow is ended (EVICTED) to make room, so a lookup never fails for lack of
 * space. Returns NULL only when the packet has nothing to key on. */
struct hl_flow *hl_flow_lookup(struct hl_flow_table *tbl, const struct hl_packet *p, int *dir,
                               bool *created);

/* End up to max flows idle for longer than their timeout at time now,
 * oldest first. Returns how many ended. Cheap when none is due: a look at
 * the head of each class list. Call it per packet or per batch with a small
 * max to spread the work. */
size_t hl_flow_table_expire(struct hl_flow_table *tbl, int64_t now, size_t max);

/* End every flow (FLUSH), oldest first: at shutdown, or before dropping a
 * table. The table stays usable. */
void hl_flow_table_flush(struct hl_flow_table *tbl);

/* Call fn for every live flow (any order). fn may change the flow's user
 * area but must not call into the table. For work that touches every flow
 * at once, such as closing payload streams when the matcher changes. */
typedef void (*hl_flow_visit_fn)(void *ctx, struct hl_flow *flow);
void hl_flow_table_foreach(struct hl_flow_table *tbl, hl_flow_visit_fn fn, void *ctx);

/* A copy of the counters. */
void hl_flow_table_stats(const struct hl_flow_table *tbl, struct hl_flow_stats *out);

/* The timeout in force for a flow (by its class). */
int64_t hl_flow_timeout(const struct hl_flow_table *tbl, const struct hl_flow *flow);

#endif
