/* \summary: IPv6 header and extension headers (RFC 8200), fragments reassembled
 *
 * Walks hop-by-hop (first only), routing, destination options, fragment and
 * AH (RFC 4302) headers, at most HL_IPV6_MAX_EXT of them, each checked
 * against the payload length before it is skipped. Other next headers (ESP,
 * No Next Header, unknown) end the walk and become p->proto. A fragment
 * header with offset 0 and M clear is an atomic fragment (RFC 6946) and is
 * decoded in place. Jumbograms (payload length 0, RFC 2675) are counted and
 * skipped.
 */
#include <string.h>

#include "defrag.h"
#include "packet.h"

#define IPV6_HDR_LEN 40
#define IPV6_NH_OFF 6 /* offset of the next-header byte in the fixed header */
#define HL_IPV6_MAX_EXT 8

enum {
	NH_HOPOPTS = 0,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_DSTOPTS = 60,
};

static int ipv6_fragment(struct hl_decoder *d, struct hl_packet *p, struct cursor payload,
                         uint32_t unfrag_len, uint32_t nh_off, uint8_t nh, uint16_t offmf,
                         uint32_t id)
{
	struct hl_frag fr = {
	        .family = 6,
	        .proto = nh,
	        .vlan_count = p->vlan_count,
	        .src = p->src,
	        .dst = p->dst,
	        .id = id,
	        .offset = offmf & 0xfff8u,
	        .more = (offmf & 1) != 0,
	        .data = payload.p,
	        .len = (uint32_t)payload.left,
	        .hdr = p->l3,
	        .hdr_len = unfrag_len,
	        .nh_off = nh_off,
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
	int rr = hl_decode_ipv6(d, p, cur_make(dg, dg_len), dg_len, true);
	p->ip_id = id;
	return rr;
}

int hl_decode_ipv6(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire,
                   bool reassembled)
{
	const uint8_t *l3 = c.p;
	size_t captured = c.left;
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t nh, hlim, src[16], dst[16];

	if (captured < IPV6_HDR_LEN)
		return wire < IPV6_HDR_LEN ? HL_DECODE_IPV6_TOO_SHORT : HL_DECODE_IPV6_TRUNCATED;
	if (!cur_be32(&c, &vtcfl) || !cur_be16(&c, &plen) || !cur_u8(&c, &nh) ||
	    !cur_u8(&c, &hlim) || !cur_copy(&c, src, 16) || !cur_copy(&c, dst, 16))
		return HL_DECODE_IPV6_TRUNCATED;
	if (vtcfl >> 28 != 6)
		return HL_DECODE_IPV6_BAD_VERSION;
	if (plen == 0 && nh == NH_HOPOPTS)
		return HL_DECODE_IPV6_JUMBO;
	uint32_t tot = IPV6_HDR_LEN + (uint32_t)plen;
	if (tot > wire)
		return HL_DECODE_IPV6_LEN_BEYOND_FRAME;

	p->family = 6;
	p->ttl = hlim;
	p->proto = nh;
	memcpy(p->src, src, 16);
	memcpy(p->dst, dst, 16);
	struct cursor ip = hl_cur_limit(cur_make(l3, captured), tot);
	p->l3 = ip.p;
	p->l3_len = (uint32_t)ip.left;
	if (!cur_skip(&ip, IPV6_HDR_LEN))
		return HL_DECODE_IPV6_TRUNCATED;

	uint32_t off = IPV6_HDR_LEN, nh_off = IPV6_NH_OFF;
	for (unsigned n_ext = 0;; n_ext++) {
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_FRAGMENT && nh != NH_AH &&
		    nh != NH_DSTOPTS)
			break;
		if (nh == NH_HOPOPTS && off != IPV6_HDR_LEN)
			return HL_DECODE_IPV6_HBH_NOT_FIRST;
		if (n_ext >= HL_IPV6_MAX_EXT)
			return HL_DECODE_IPV6_EXT_TOO_MANY;
		if (tot - off < 2)
			return HL_DECODE_IPV6_EXT_INVALID;
		struct cursor h = ip;
		uint8_t next, len8;
		if (!cur_u8(&h, &next) || !cur_u8(&h, &len8))
			return HL_DECODE_IPV6_TRUNCATED;
		uint32_t hlen;
		if (nh == NH_FRAGMENT)
			hlen = 8;
		else if (nh == NH_AH)
			hlen = ((uint32_t)len8 + 2) * 4;
		else
			hlen = ((uint32_t)len8 + 1) * 8;
		if (hlen > tot - off)
			return HL_DECODE_IPV6_EXT_INVALID;
		if (ip.left < hlen)
			return HL_DECODE_IPV6_TRUNCATED;
		if (nh == NH_FRAGMENT) {
			uint16_t offmf;
			uint32_t id;
			if (!cur_be16(&h, &offmf) || !cur_be32(&h, &id))
				return HL_DECODE_IPV6_TRUNCATED;
			if ((offmf & 0xfff9u) != 0) {
				if (reassembled)
					return HL_DECODE_FRAG_INVALID;
				struct cursor payload = ip;
				(void)cur_skip(&payload, hlen);
				if (payload.left < tot - off - hlen)
					return HL_DECODE_FRAG_TRUNCATED;
				p->proto = next;
				p->ip_id = id;
				return ipv6_fragment(d, p, payload, off, nh_off, next, offmf, id);
			}
		}
		if (!cur_skip(&ip, hlen))
			return HL_DECODE_IPV6_TRUNCATED;
		nh_off = off;
		nh = next;
		off += hlen;
	}
	p->proto = nh;
	return hl_decode_l4(d, p, ip, tot - off);
}
