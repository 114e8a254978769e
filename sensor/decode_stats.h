/* \summary: decode outcome reasons and their counters
 *
 * One X-macro lists every reason a packet is not delivered (or an event worth
 * counting while it is), and generates the enum, the names, the kinds and the
 * counters struct, so a new reason is one line here (libuv's UV_ERRNO_MAP,
 * Suricata's decode events).
 *
 * Kinds:
 *   MALFORMED  the packet breaks its protocol (bad length, bad version, ...)
 *   TRUNCATED  the capture (snap length) cut what was needed; not the sender's fault
 *   SKIP       nothing wrong, nothing to deliver (ARP, unsupported link, fragment held)
 *   LIMIT      a configured bound refused the packet
 *   EVENT      counted alongside another outcome; never returned by hl_decode()
 */
#ifndef HOTLINE_SENSOR_DECODE_STATS_H
#define HOTLINE_SENSOR_DECODE_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* XX(ENUM_SUFFIX, counter_name, KIND, "description") */
#define HL_DECODE_REASONS(XX)                                                                      \
	XX(UNSUPPORTED_LINKTYPE, unsupported_linktype, SKIP, "link type not decoded")              \
	XX(NOT_IP, not_ip, SKIP, "not IPv4 or IPv6 (ARP, LLC, other ethertype or family)")         \
	XX(ETH_TOO_SHORT, eth_too_short, MALFORMED, "Ethernet header cut short")                   \
	XX(VLAN_TOO_SHORT, vlan_too_short, MALFORMED, "VLAN tag cut short")                        \
	XX(VLAN_TOO_DEEP, vlan_too_deep, MALFORMED, "more than two VLAN tags")                     \
	XX(SLL_TOO_SHORT, sll_too_short, MALFORMED, "Linux cooked (SLL) header cut short")         \
	XX(SLL2_TOO_SHORT, sll2_too_short, MALFORMED, "Linux cooked v2 (SLL2) header cut short")   \
	XX(NULL_TOO_SHORT, null_too_short, MALFORMED, "loopback family header cut short")          \
	XX(RAW_BAD_VERSION, raw_bad_version, MALFORMED, "raw IP packet empty or not version 4/6")  \
	XX(IPV4_TOO_SHORT, ipv4_too_short, MALFORMED, "fewer than 20 bytes for the IPv4 header")   \
	XX(IPV4_TRUNCATED, ipv4_truncated, TRUNCATED, "IPv4 header cut by the snap length")        \
	XX(IPV4_BAD_VERSION, ipv4_bad_version, MALFORMED, "IPv4 version field is not 4")           \
	XX(IPV4_HLEN_TOO_SMALL, ipv4_hlen_too_small, MALFORMED, "IPv4 IHL below 5")                \
	XX(IPV4_LEN_TOO_SMALL, ipv4_len_too_small, MALFORMED,                                      \
	   "IPv4 total length below the header length")                                            \
	XX(IPV4_LEN_BEYOND_FRAME, ipv4_len_beyond_frame, MALFORMED,                                \
	   "IPv4 total length beyond the frame's wire length")                                     \
	XX(IPV6_TOO_SHORT, ipv6_too_short, MALFORMED, "fewer than 40 bytes for the IPv6 header")   \
	XX(IPV6_TRUNCATED, ipv6_truncated, TRUNCATED,                                              \
	   "IPv6 header or extension header cut by the snap length")                               \
	XX(IPV6_BAD_VERSION, ipv6_bad_version, MALFORMED, "IPv6 version field is not 6")           \
	XX(IPV6_LEN_BEYOND_FRAME, ipv6_len_beyond_frame, MALFORMED,                                \
	   "IPv6 payload length beyond the frame's wire length")                                   \
	XX(IPV6_JUMBO, ipv6_jumbo, SKIP, "IPv6 jumbogram (payload length 0), not decoded")         \
	XX(IPV6_EXT_TOO_MANY, ipv6_ext_too_many, MALFORMED, "too many IPv6 extension headers")     \
	XX(IPV6_EXT_INVALID, ipv6_ext_invalid, MALFORMED,                                          \
	   "IPv6 extension header runs past the payload length")                                   \
	XX(IPV6_HBH_NOT_FIRST, ipv6_hbh_not_first, MALFORMED,                                      \
	   "IPv6 hop-by-hop options not right after the header")                                   \
	XX(FRAGMENT_HELD, fragment_held, SKIP, "fragment stored, datagram not complete yet")       \
	XX(FRAG_INVALID, frag_invalid, MALFORMED,                                                  \
	   "fragment empty, unaligned, past the last fragment, or nested")                         \
	XX(FRAG_TOO_BIG, frag_too_big, MALFORMED, "fragment ends beyond the 65535-byte limit")     \
	XX(FRAG_TRUNCATED, frag_truncated, TRUNCATED, "fragment cut by the snap length, not kept") \
	XX(FRAG_LIMIT, frag_limit, LIMIT,                                                          \
	   "too many fragments for one datagram, reassembly dropped")                              \
	XX(FRAG_NOMEM, frag_nomem, LIMIT, "reassembly memory bound or allocation failure")         \
	XX(TCP_TOO_SHORT, tcp_too_short, MALFORMED, "fewer than 20 bytes for the TCP header")      \
	XX(TCP_TRUNCATED, tcp_truncated, TRUNCATED, "TCP header cut by the snap length")           \
	XX(TCP_HLEN_INVALID, tcp_hlen_invalid, MALFORMED,                                          \
	   "TCP data offset below 5 or beyond the segment")                                        \
	XX(UDP_TOO_SHORT, udp_too_short, MALFORMED, "fewer than 8 bytes for the UDP header")       \
	XX(UDP_TRUNCATED, udp_truncated, TRUNCATED, "UDP header cut by the snap length")           \
	XX(UDP_LEN_INVALID, udp_len_invalid, MALFORMED,                                            \
	   "UDP length below 8 or beyond the IP payload")                                          \
	XX(ICMP_TOO_SHORT, icmp_too_short, MALFORMED, "fewer than 8 bytes for the ICMP header")    \
	XX(ICMP_TRUNCATED, icmp_truncated, TRUNCATED, "ICMP header cut by the snap length")        \
	XX(PAYLOAD_TRUNCATED, payload_truncated, EVENT,                                            \
	   "payload cut by the snap length, delivered as captured")                                \
	XX(FRAG_REASSEMBLED, frag_reassembled, EVENT, "datagram reassembled and delivered")        \
	XX(FRAG_OVERLAP, frag_overlap, EVENT, "fragment overlapped received data; first kept")     \
	XX(FRAG_DUPLICATE, frag_duplicate, EVENT, "fragment repeated bytes already received")      \
	XX(FRAG_TIMEOUT, frag_timeout, EVENT, "reassembly expired incomplete")                     \
	XX(FRAG_EVICTED, frag_evicted, EVENT, "reassembly dropped to make room for a new one")

enum hl_decode_reason {
	HL_DECODE_OK = 0,
#define HL_DECODE_REASON_ENUM(u, l, k, d) HL_DECODE_##u,
	HL_DECODE_REASONS(HL_DECODE_REASON_ENUM)
#undef HL_DECODE_REASON_ENUM
	        HL_DECODE_REASON_COUNT
};

enum hl_decode_kind {
	HL_DECODE_KIND_OK = 0,
	HL_DECODE_KIND_MALFORMED,
	HL_DECODE_KIND_TRUNCATED,
	HL_DECODE_KIND_SKIP,
	HL_DECODE_KIND_LIMIT,
	HL_DECODE_KIND_EVENT,
};

/* One counter per reason; "ok" counts delivered packets. */
struct hl_decode_counters {
	uint64_t ok;
#define HL_DECODE_REASON_FIELD(u, l, k, d) uint64_t l;
	HL_DECODE_REASONS(HL_DECODE_REASON_FIELD)
#undef HL_DECODE_REASON_FIELD
};

struct hl_decode_stats {
	uint64_t packets; /* hl_decode() calls */
	/* The same counters by name (stats.n.tcp_too_short) or by reason code
	 * (stats.by_reason[HL_DECODE_TCP_TOO_SHORT]). */
	union {
		struct hl_decode_counters n;
		uint64_t by_reason[HL_DECODE_REASON_COUNT];
	};
	/* Reassembly gauges: live reassemblies and the bytes they hold (the
	 * configured bound applies to frag_mem). */
	uint64_t frag_active;
	uint64_t frag_mem;
	uint64_t frag_mem_peak;
};

_Static_assert(sizeof(struct hl_decode_counters) == sizeof(uint64_t) * HL_DECODE_REASON_COUNT,
               "counters struct must line up with the reason enum");

/* "tcp_too_short" for a reason code (0 gives "ok"); NULL when out of range. */
const char *hl_decode_reason_name(int reason);
/* One-line description; NULL when out of range. */
const char *hl_decode_reason_desc(int reason);
enum hl_decode_kind hl_decode_reason_kind(int reason);
/* True for the kinds that say the packet itself is broken. */
bool hl_decode_reason_is_malformed(int reason);

#endif
