/* \summary: symmetric address-pair sharding of frames to workers */
#include "shard.h"

#include <string.h>

#include "cursor.h"
#include "packet.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

/* Find the IP header: returns its cursor or an empty one. */
static struct cursor ip_header(int linktype, const uint8_t *data, uint32_t caplen)
{
	struct cursor c = cur_make(data, caplen);
	uint16_t type = 0;
	switch (linktype) {
	case HL_LINK_ETHERNET:
		if (!cur_skip(&c, 12) || !cur_be16(&c, &type))
			return cur_make(NULL, 0);
		for (int tags = 0; tags < 4 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		                                type == ETHERTYPE_QINQ_OLD);
		     tags++) {
			if (!cur_skip(&c, 2) || !cur_be16(&c, &type))
				return cur_make(NULL, 0);
		}
		break;
	case HL_LINK_SLL:
		if (!cur_skip(&c, 14) || !cur_be16(&c, &type))
			return cur_make(NULL, 0);
		break;
	case HL_LINK_SLL2:
		if (!cur_be16(&c, &type) || !cur_skip(&c, 18))
			return cur_make(NULL, 0);
		break;
	case HL_LINK_NULL:
	case HL_LINK_LOOP:
		if (!cur_skip(&c, 4))
			return cur_make(NULL, 0);
		return c;
	case HL_LINK_RAW:
	case HL_LINK_RAW_FILE:
	case HL_LINK_IPV4:
	case HL_LINK_IPV6:
		return c;
	default:
		return cur_make(NULL, 0);
	}
	if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
		return cur_make(NULL, 0);
	return c;
}

/* FNV-1a over bytes: cheap, and only needs to spread flows, not resist
 * attack (an attacker can at most load one worker). */
static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t hl_shard_hash(int linktype, const uint8_t *data, uint32_t caplen, uint32_t seed)
{
	struct cursor c = ip_header(linktype, data, caplen);
	uint8_t version;
	if (c.p == NULL || !cur_has(&c, 1))
		return 0;
	version = c.p[0] >> 4;
	const uint8_t *a, *b;
	size_t len;
	if (version == 4 && cur_has(&c, 20)) {
		a = c.p + 12;
		b = c.p + 16;
		len = 4;
	} else if (version == 6 && cur_has(&c, 40)) {
		a = c.p + 8;
		b = c.p + 24;
		len = 16;
	} else {
		return 0;
	}
	if (memcmp(a, b, len) > 0) {
		const uint8_t *t = a;
		a = b;
		b = t;
	}
	uint32_t h = fnv1a(2166136261u ^ seed, a, len);
	h = fnv1a(h, b, len);
	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h;
}

unsigned hl_shard_of(int linktype, const uint8_t *data, uint32_t caplen, uint32_t seed,
                     unsigned n_workers)
{
	if (n_workers <= 1)
		return 0;
	return (unsigned)(((uint64_t)hl_shard_hash(linktype, data, caplen, seed) * n_workers) >>
	                  32);
}
