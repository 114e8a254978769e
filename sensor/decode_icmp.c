/* \summary: ICMP (RFC 792) and ICMPv6 (RFC 4443) type and code
 *
 * Every message of either has at least 8 bytes: type, code, checksum and
 * four type-specific bytes, which for echo request/reply are id and
 * sequence. The payload is what follows them (for errors, the offending
 * packet's headers; not decoded here).
 */
#include "packet.h"

#define ICMP_HDR_LEN 8

static bool is_echo(int family, uint8_t type)
{
	if (family == 4)
		return type == 0 || type == 8;
	return type == 128 || type == 129;
}

int hl_decode_icmp(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	uint8_t type, code;
	uint16_t csum, id, seq;

	if (wire < ICMP_HDR_LEN)
		return HL_DECODE_ICMP_TOO_SHORT;
	if (!cur_u8(&c, &type) || !cur_u8(&c, &code) || !cur_be16(&c, &csum) ||
	    !cur_be16(&c, &id) || !cur_be16(&c, &seq))
		return HL_DECODE_ICMP_TRUNCATED;
	(void)csum;
	p->icmp_type = type;
	p->icmp_code = code;
	if (is_echo(p->family, type)) {
		p->icmp_id = id;
		p->icmp_seq = seq;
	}
	hl_decode_set_payload(d, p, c, wire - ICMP_HDR_LEN);
	return HL_DECODE_OK;
}
