/* \summary: IPv4 header (RFC 791): lengths checked, options skipped, fragments reassembled
 *
 * The header checksum is not verified: with checksum offloading, packets
 * captured on the sending host routinely carry a wrong one. Three lengths
 * are checked apart (Suricata's habit): the header minimum, the IHL against
 * the total length, and the total length against the frame on the wire.
 * Bytes past the total length (Ethernet padding) are never payload.
 */
#include <string.h>

#include "defrag.h"
#include "packet.h"

#define IPV4_MIN_HDR 20
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

static int ipv4_fragment(struct hl_decoder *d, struct hl_packet *p, struct cursor payload,
                         uint32_t hlen, uint16_t frag)
{
	struct hl_frag fr = {
	        .family = 4,
	        .proto = p->proto,
	        .vlan_count = p->vlan_count,
	        .src = p->src,
	        .dst = p->dst,
	        .id = p->ip_id,
	        .offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8,
	        .more = (frag & IPV4_MF) != 0,
	        .data = payload.p,
	        .len = (uint32_t)payload.left,
	        .hdr = p->l3,
	        .hdr_len = hlen,
	        .ts = p->ts,
	};
	memcpy(fr.vlan, p->vlan, sizeof(fr.vlan));
	if (d->defrag == NULL)
		return HL_DECODE_FRAG_NOMEM;
	const uint8_t *dg;
	uint32_t dg_len;
	int r = hl_defrag_add(d->defrag, &d->stats, &fr, &dg, &dg_len);
	if (r != HL_DECODE_OK)
		return r;
	p->flags |= HL_PKT_REASSEMBLED;
	return hl_decode_ipv4(d, p, cur_make(dg, dg_len), dg_len, true);
}

int hl_decode_ipv4(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire,
                   bool reassembled)
{
	const uint8_t *l3 = c.p;
	size_t captured = c.left;
	uint8_t vihl, tos, ttl, proto;
	uint16_t tot, id, frag, csum;

	if (captured < IPV4_MIN_HDR)
		return wire < IPV4_MIN_HDR ? HL_DECODE_IPV4_TOO_SHORT : HL_DECODE_IPV4_TRUNCATED;
	if (!cur_u8(&c, &vihl) || !cur_u8(&c, &tos) || !cur_be16(&c, &tot) || !cur_be16(&c, &id) ||
	    !cur_be16(&c, &frag) || !cur_u8(&c, &ttl) || !cur_u8(&c, &proto) ||
	    !cur_be16(&c, &csum))
		return HL_DECODE_IPV4_TRUNCATED;
	(void)tos;
	(void)csum;
	if (vihl >> 4 != 4)
		return HL_DECODE_IPV4_BAD_VERSION;
	uint32_t hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < IPV4_MIN_HDR)
		return HL_DECODE_IPV4_HLEN_TOO_SMALL;
	if (tot < hlen)
		return HL_DECODE_IPV4_LEN_TOO_SMALL;
	if (tot > wire)
		return HL_DECODE_IPV4_LEN_BEYOND_FRAME;

	uint8_t src[4], dst[4];
	if (!cur_copy(&c, src, 4) || !cur_copy(&c, dst, 4))
		return HL_DECODE_IPV4_TRUNCATED;
	p->family = 4;
	p->ttl = ttl;
	p->proto = proto;
	p->ip_id = id;
	memset(p->src, 0, sizeof(p->src));
	memset(p->dst, 0, sizeof(p->dst));
	memcpy(p->src, src, 4);
	memcpy(p->dst, dst, 4);

	/* Everything from here on stays inside the total length. */
	struct cursor ip = hl_cur_limit(cur_make(l3, captured), tot);
	p->l3 = ip.p;
	p->l3_len = (uint32_t)ip.left;
	if (!cur_skip(&ip, hlen))
		return HL_DECODE_IPV4_TRUNCATED;

	if ((frag & (IPV4_MF | IPV4_OFFSET_MASK)) != 0) {
		if (reassembled)
			return HL_DECODE_FRAG_INVALID;
		if (ip.left < (size_t)(tot - hlen))
			return HL_DECODE_FRAG_TRUNCATED;
		return ipv4_fragment(d, p, ip, hlen, frag);
	}
	return hl_decode_l4(d, p, ip, tot - hlen);
}
