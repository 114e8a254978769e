/* \summary: IPv4 and IPv6 fragment reassembly, bounded and driven by packet time
 *
 * Datagrams are keyed by (family, src, dst, id, VLAN ids, and for IPv4 the
 * protocol; RFC 791 section 3.2, RFC 8200 section 4.5). Each keeps the
 * received byte ranges (merged, sorted), so holes are whatever lies between.
 *
 * Overlap policy: the first arrival wins. Bytes already received are never
 * overwritten; only the new parts of a later fragment are stored. An overlap
 * is counted as FRAG_DUPLICATE when the fragment only repeats received bytes
 * exactly, else as FRAG_OVERLAP (a conflicting or partial overlap, the
 * evasion signal). Receivers differ here (Linux now drops the whole datagram
 * on overlap); first-wins keeps what the likelier target saw first, and the
 * counter says it happened.
 *
 * Bounds: concurrent reassemblies (the oldest is evicted for a new one),
 * fragments per datagram (duplicates count; beyond it the datagram is
 * dropped), payload 65535 bytes, bytes held (oldest evicted to make room),
 * and a timeout since the first fragment, checked against the timestamp of
 * each decoded packet (no wall clock). Jumbograms are not reassembled.
 */
#ifndef HOTLINE_SENSOR_DEFRAG_H
#define HOTLINE_SENSOR_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"

/* One fragment as the IP decoders see it. data/len must be the whole
 * fragment payload (the caller refuses snap-length-cut fragments). */
struct hl_frag {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IPv4 protocol (keyed); IPv6 fragment header's next header */
	uint8_t vlan_count;
	uint16_t vlan[HL_PKT_MAX_VLANS];
	const uint8_t *src, *dst; /* 4 or 16 bytes */
	uint32_t id;
	uint32_t offset; /* bytes */
	bool more;       /* more fragments follow */
	const uint8_t *data;
	uint32_t len;
	/* IPv4 header, or the IPv6 header plus the extension headers before the
	 * fragment header; kept from the offset-0 fragment to rebuild the
	 * datagram. */
	const uint8_t *hdr;
	uint32_t hdr_len;
	uint32_t
	        nh_off; /* IPv6: offset in hdr of the next-header byte naming the fragment header */
	int64_t ts;
};

/* Zero fields take the defaults; false for values out of range. */
bool hl_defrag_config_valid(const struct hl_defrag_config *cfg);
/* NULL on an invalid config or out of memory. */
struct hl_defrag *hl_defrag_new(const struct hl_defrag_config *cfg);
void hl_defrag_destroy(struct hl_defrag **f);

/* Drop reassemblies older than the timeout at time now (counted as
 * FRAG_TIMEOUT). O(1) when none is due. */
void hl_defrag_expire(struct hl_defrag *f, struct hl_decode_stats *st, int64_t now);

/* Store a fragment. Returns HL_DECODE_FRAGMENT_HELD, a reason refusing it
 * (FRAG_INVALID, FRAG_TOO_BIG, FRAG_LIMIT, FRAG_NOMEM), or HL_DECODE_OK with
 * *dgram and *dgram_len set to the complete datagram (header with lengths and
 * next header patched, fragment header gone), valid until the next call. */
int hl_defrag_add(struct hl_defrag *f, struct hl_decode_stats *st, const struct hl_frag *fr,
                  const uint8_t **dgram, uint32_t *dgram_len);

#endif
