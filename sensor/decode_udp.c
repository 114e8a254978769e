/* \summary: UDP header (RFC 768): ports, length, payload
 *
 * The UDP length must cover its own header and fit in the IP payload; when
 * it is shorter than the IP payload, the rest is ignored (as tcpdump does).
 * The checksum is not verified (offloading).
 */
#include "packet.h"

#define UDP_HDR_LEN 8

int hl_decode_udp(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	uint16_t sport, dport, ulen, csum;

	if (wire < UDP_HDR_LEN)
		return HL_DECODE_UDP_TOO_SHORT;
	if (!cur_be16(&c, &sport) || !cur_be16(&c, &dport) || !cur_be16(&c, &ulen) ||
	    !cur_be16(&c, &csum))
		return HL_DECODE_UDP_TRUNCATED;
	(void)csum;
	if (ulen < UDP_HDR_LEN || ulen > wire)
		return HL_DECODE_UDP_LEN_INVALID;
	p->sport = sport;
	p->dport = dport;
	uint32_t plen = (uint32_t)ulen - UDP_HDR_LEN;
	hl_decode_set_payload(d, p, hl_cur_limit(c, plen), plen);
	return HL_DECODE_OK;
}
