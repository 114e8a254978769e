/* \summary: TCP header (RFC 9293): ports, sequence numbers, flags, window, payload
 *
 * The segment length comes from the IP layer (wire). A data offset below 5
 * words or past the segment is malformed; one that the capture cut short
 * is truncation. Options are skipped, not parsed.
 */
#include "packet.h"

#define TCP_MIN_HDR 20

int hl_decode_tcp(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	uint16_t sport, dport, win;
	uint32_t seq, ack;
	uint8_t offx, flags;

	if (wire < TCP_MIN_HDR)
		return HL_DECODE_TCP_TOO_SHORT;
	struct cursor h = c;
	if (!cur_be16(&h, &sport) || !cur_be16(&h, &dport) || !cur_be32(&h, &seq) ||
	    !cur_be32(&h, &ack) || !cur_u8(&h, &offx) || !cur_u8(&h, &flags) || !cur_be16(&h, &win))
		return HL_DECODE_TCP_TRUNCATED;
	uint32_t hlen = (uint32_t)(offx >> 4) * 4;
	if (hlen < TCP_MIN_HDR || hlen > wire)
		return HL_DECODE_TCP_HLEN_INVALID;
	if (!cur_skip(&c, hlen))
		return HL_DECODE_TCP_TRUNCATED;
	p->sport = sport;
	p->dport = dport;
	p->tcp_seq = seq;
	p->tcp_ack = ack;
	p->tcp_flags = flags;
	p->tcp_window = win;
	hl_decode_set_payload(d, p, c, wire - hlen);
	return HL_DECODE_OK;
}
