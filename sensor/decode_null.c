/* \summary: BSD loopback (DLT_NULL, DLT_LOOP) and raw IP (DLT_RAW, DLT_IPV4/6)
 *
 * DLT_NULL's 4-byte address family is in the capturing host's byte order,
 * DLT_LOOP's in network order; a value with its upper half set is taken as
 * the other byte order (tcpdump does the same). AF_INET is 2 everywhere;
 * AF_INET6 differs by OS: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD,
 * 30 macOS (tcpdump.org/linktypes/LINKTYPE_NULL.html).
 */
#include "packet.h"

#define NULL_HDR_LEN 4

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

int hl_decode_null(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire,
                   bool network_order)
{
	uint32_t family;
	if (!(network_order ? cur_be32(&c, &family) : cur_le32(&c, &family)))
		return HL_DECODE_NULL_TOO_SHORT;
	if (family & 0xffff0000u)
		family = bswap32(family);
	wire -= NULL_HDR_LEN;
	switch (family) {
	case 2:
		return hl_decode_ipv4(d, p, c, wire, false);
	case 10:
	case 24:
	case 28:
	case 30:
		return hl_decode_ipv6(d, p, c, wire, false);
	default:
		return HL_DECODE_NOT_IP;
	}
}

int hl_decode_raw(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	struct cursor peek = c;
	uint8_t v;
	if (!cur_u8(&peek, &v))
		return HL_DECODE_RAW_BAD_VERSION;
	switch (v >> 4) {
	case 4:
		return hl_decode_ipv4(d, p, c, wire, false);
	case 6:
		return hl_decode_ipv6(d, p, c, wire, false);
	default:
		return HL_DECODE_RAW_BAD_VERSION;
	}
}
