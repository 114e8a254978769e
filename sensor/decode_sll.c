/* \summary: Linux cooked captures: SLL (16-byte header) and SLL2 (20 bytes)
 *
 * tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and LINKTYPE_LINUX_SLL2.html.
 * The protocol field is an ethertype, except for small values (the kernel's
 * ETH_P_802_3, ETH_P_802_2, CAN, ...) and netlink captures, none of which
 * carry IP. Untagged VLAN headers may still follow, so the ethertype goes
 * through the same dispatch as Ethernet's.
 */
#include "packet.h"

#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define ARPHRD_NETLINK 824
#define MAX_8023_LENGTH 1500

static int sll_protocol(struct hl_decoder *d, struct hl_packet *p, uint16_t hatype, uint16_t proto,
                        struct cursor c, uint32_t wire)
{
	if (hatype == ARPHRD_NETLINK || proto <= MAX_8023_LENGTH)
		return HL_DECODE_NOT_IP;
	return hl_decode_ethertype(d, p, proto, c, wire);
}

int hl_decode_sll(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	uint16_t pkttype, hatype, halen, proto;
	if (!cur_be16(&c, &pkttype) || !cur_be16(&c, &hatype) || !cur_be16(&c, &halen) ||
	    !cur_skip(&c, 8) || !cur_be16(&c, &proto))
		return HL_DECODE_SLL_TOO_SHORT;
	(void)pkttype;
	(void)halen;
	return sll_protocol(d, p, hatype, proto, c, wire - SLL_HDR_LEN);
}

int hl_decode_sll2(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	uint16_t proto, hatype;
	/* protocol, reserved, interface index, ARPHRD type, packet type,
	 * address length, address (8) */
	if (!cur_be16(&c, &proto) || !cur_skip(&c, 2 + 4) || !cur_be16(&c, &hatype) ||
	    !cur_skip(&c, 1 + 1 + 8))
		return HL_DECODE_SLL2_TOO_SHORT;
	return sll_protocol(d, p, hatype, proto, c, wire - SLL2_HDR_LEN);
}
