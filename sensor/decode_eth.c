/* \summary: Ethernet II, 802.1Q and 802.1ad tags, ethertype dispatch
 *
 * IEEE 802.3 / 802.1Q-2018. Up to HL_PKT_MAX_VLANS tags are decoded and
 * kept (outer first); a deeper stack is counted, not guessed at. A length
 * field (<= 1500) instead of an ethertype is 802.3/LLC: not IP.
 */
#include "packet.h"

#define ETH_HDR_LEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad QinQ, still seen */

int hl_decode_ethertype(struct hl_decoder *d, struct hl_packet *p, uint16_t type, struct cursor c,
                        uint32_t wire)
{
	while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ_OLD) {
		uint16_t tci;
		if (p->vlan_count >= HL_PKT_MAX_VLANS)
			return HL_DECODE_VLAN_TOO_DEEP;
		if (!cur_be16(&c, &tci) || !cur_be16(&c, &type))
			return HL_DECODE_VLAN_TOO_SHORT;
		p->vlan[p->vlan_count++] = tci & 0x0fff;
		wire -= 4;
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return hl_decode_ipv4(d, p, c, wire, false);
	case ETHERTYPE_IPV6:
		return hl_decode_ipv6(d, p, c, wire, false);
	default:
		return HL_DECODE_NOT_IP;
	}
}

int hl_decode_eth(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	uint16_t type;
	if (!cur_skip(&c, 12) || !cur_be16(&c, &type))
		return HL_DECODE_ETH_TOO_SHORT;
	return hl_decode_ethertype(d, p, type, c, wire - ETH_HDR_LEN);
}
