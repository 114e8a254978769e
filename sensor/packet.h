/* \summary: decoded packet and the decoder (link, IP, L4, reassembly)
 *
 * hl_decode() turns (link type, captured bytes, wire length, timestamp) into
 * a struct hl_packet on the caller's stack. Its pointers borrow the capture
 * buffer, or the decoder's reassembly buffer, and are valid only until the
 * next hl_decode() call on the same decoder (and while the capture buffer
 * lives). Nothing is allocated per packet except for IP fragments.
 *
 * One decoder per thread: it holds the fragment table and the counters, and
 * is not locked.
 */
#ifndef HOTLINE_SENSOR_PACKET_H
#define HOTLINE_SENSOR_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "decode_stats.h"

/* Link types: libpcap's DLT_ values on Linux (pcap_datalink()), plus the
 * LINKTYPE_ value of raw IP as written in pcap files. */
enum hl_linktype {
	HL_LINK_NULL = 0,       /* BSD loopback, 4-byte family in the writer's byte order */
	HL_LINK_ETHERNET = 1,   /* Ethernet II, 802.1Q / 802.1ad tags */
	HL_LINK_RAW = 12,       /* raw IPv4 or IPv6 (DLT_RAW) */
	HL_LINK_RAW_FILE = 101, /* LINKTYPE_RAW in pcap files */
	HL_LINK_LOOP = 108,     /* OpenBSD loopback, family in network order */
	HL_LINK_SLL = 113,      /* Linux cooked capture */
	HL_LINK_IPV4 = 228,     /* raw IPv4 only */
	HL_LINK_IPV6 = 229,     /* raw IPv6 only */
	HL_LINK_SLL2 = 276,     /* Linux cooked capture v2 */
};

/* hl_packet.flags */
#define HL_PKT_REASSEMBLED 0x1u /* l3/payload point into the reassembly buffer */
#define HL_PKT_TRUNCATED 0x2u   /* payload cut by the snap length: payload_len < payload_wire_len */

#define HL_PKT_MAX_VLANS 2

struct hl_packet {
	/* ts, caplen, wirelen and the VLAN ids are the passed frame's; for a
	 * reassembled datagram, those of the fragment that completed it. */
	int64_t ts;       /* Unix microseconds, as passed in */
	uint32_t caplen;  /* captured bytes of the frame */
	uint32_t wirelen; /* frame length on the wire (never below caplen) */
	int linktype;     /* as passed in */
	uint32_t flags;   /* HL_PKT_* */

	uint16_t vlan[HL_PKT_MAX_VLANS]; /* VLAN ids, outer first */
	uint8_t vlan_count;

	/* L3: valid when family != 0 (even when hl_decode() returns a reason
	 * from a higher layer). */
	uint8_t family;  /* 4 or 6; 0 when no IP header was decoded */
	uint8_t proto;   /* IPv4 protocol, or IPv6 next header after the extension headers */
	uint8_t ttl;     /* TTL or hop limit */
	uint8_t src[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
	uint8_t dst[16];
	uint32_t ip_id; /* IPv4 id, or the IPv6 fragment id when reassembled; else 0 */
	/* The IP header onwards, up to the IP length and as far as captured;
	 * a reassembled datagram when HL_PKT_REASSEMBLED (its length fields and
	 * next header patched, fragment header removed). */
	const uint8_t *l3;
	uint32_t l3_len;

	/* L4: valid when hl_decode() returns HL_DECODE_OK. */
	uint16_t sport, dport;        /* TCP/UDP; 0 otherwise */
	uint8_t tcp_flags;            /* CWR ECE URG ACK PSH RST SYN FIN (byte 13) */
	uint16_t tcp_window;          /* unscaled */
	uint32_t tcp_seq, tcp_ack;    /* host order */
	uint8_t icmp_type, icmp_code; /* ICMP (IPv4) or ICMPv6 */
	uint16_t icmp_id, icmp_seq;   /* echo request/reply only; else 0 */
	const uint8_t *l4;            /* L4 header (any protocol); NULL if none */
	const uint8_t *payload;       /* after the L4 header; for an undecoded proto,
	                               * the whole L4 part */
	uint32_t payload_len;         /* captured payload bytes */
	uint32_t payload_wire_len;    /* payload length per the headers */
};

/* Fragment reassembly limits. Zero fields take the defaults. */
struct hl_defrag_config {
	uint32_t max_reassemblies; /* concurrent datagrams (default 4096); oldest evicted */
	uint32_t max_frags;        /* fragments per datagram (default 64), duplicates included */
	int64_t timeout_us;        /* since the first fragment, by packet time (default 30 s) */
	uint64_t max_mem;          /* bytes held for reassembly (default 32 MiB) */
	uint32_t hash_seed;        /* 0: chosen at random */
};

struct hl_decoder_config {
	struct hl_defrag_config defrag;
};

#define HL_DEFRAG_DEFAULT_MAX_REASSEMBLIES 4096u
#define HL_DEFRAG_DEFAULT_MAX_FRAGS 64u
#define HL_DEFRAG_DEFAULT_TIMEOUT_US (30 * (int64_t)1000000)
#define HL_DEFRAG_DEFAULT_MAX_MEM (32u * 1024u * 1024u)

struct hl_defrag;

/* Caller-owned (stack, or inside a worker struct); do not copy once
 * initialised. */
struct hl_decoder {
	struct hl_decode_stats stats;
	struct hl_defrag *defrag;
};

/* cfg may be NULL for the defaults. Returns 0, HL_EINVAL, or HL_ENOMEM. */
int hl_decoder_init(struct hl_decoder *d, const struct hl_decoder_config *cfg);
/* Frees the fragment table; safe on a zeroed or already destroyed decoder. */
void hl_decoder_destroy(struct hl_decoder *d);

/* Decode one captured frame. Returns HL_DECODE_OK when out holds a packet
 * with an IP header (and its L4 header, if TCP/UDP/ICMP), else a positive
 * enum hl_decode_reason; every outcome is counted in d->stats. On a reason
 * from L4 or reassembly, the L3 fields of out are still filled. Never reads
 * past caplen; wirelen below caplen is taken as caplen. ts (Unix
 * microseconds) also drives the reassembly timeout. */
int hl_decode(struct hl_decoder *d, int linktype, const uint8_t *data, uint32_t caplen,
              uint32_t wirelen, int64_t ts, struct hl_packet *out);

/* ---- Internal: one entry point per layer (decode_*.c), as Suricata's
 * decode.h. Each takes a cursor over the captured bytes of its layer and
 * the layer's length on the wire (wire >= c.left), and returns a reason. */
int hl_decode_ethertype(struct hl_decoder *d, struct hl_packet *p, uint16_t type, struct cursor c,
                        uint32_t wire);
int hl_decode_eth(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
int hl_decode_sll(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
int hl_decode_sll2(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
int hl_decode_null(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire,
                   bool network_order);
int hl_decode_raw(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
/* reassembled: c is a datagram from the fragment table; it is not
 * fragmented again. */
int hl_decode_ipv4(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire,
                   bool reassembled);
int hl_decode_ipv6(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire,
                   bool reassembled);
/* By p->proto and p->family. */
int hl_decode_l4(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
int hl_decode_tcp(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
int hl_decode_udp(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);
int hl_decode_icmp(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire);

/* A cursor over at most the first n bytes of c (a shorter capture stays
 * shorter): trims to an IP or UDP length without reading. */
static inline struct cursor hl_cur_limit(struct cursor c, size_t n)
{
	if (c.left > n)
		c.left = n;
	return c;
}

/* Count an EVENT-kind reason. */
static inline void hl_decode_event(struct hl_decoder *d, int reason)
{
	d->stats.by_reason[reason]++;
}

/* Payload bookkeeping shared by the L4 decoders: c.left captured bytes of
 * a payload that is wire bytes long. */
static inline void hl_decode_set_payload(struct hl_decoder *d, struct hl_packet *p, struct cursor c,
                                         uint32_t wire)
{
	p->payload = c.p;
	p->payload_len = (uint32_t)c.left;
	p->payload_wire_len = wire;
	if (c.left < wire) {
		p->flags |= HL_PKT_TRUNCATED;
		hl_decode_event(d, HL_DECODE_PAYLOAD_TRUNCATED);
	}
}

#endif
