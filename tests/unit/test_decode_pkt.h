/* \summary: packet builder for the decode tests: headers as bytes, lengths fixed at the end
 *
 * Tests append headers in wire order, call pkt_fix() to fill the IPv4 total
 * length and checksum, the IPv6 payload length and the UDP length from what
 * follows them, and then corrupt single bytes on purpose.
 */
#ifndef HOTLINE_TEST_DECODE_PKT_H
#define HOTLINE_TEST_DECODE_PKT_H

#include <stdint.h>
#include <string.h>

#include "hotline/err.h"
#include "packet.h"

#define PKT_MAX 4096

struct pkt {
	uint8_t b[PKT_MAX];
	uint32_t n;
	uint32_t ip4, ip6, udp; /* offset + 1 of the header to fix; 0 none */
};

static const uint8_t A4[4] = {192, 0, 2, 1};
static const uint8_t B4[4] = {198, 51, 100, 7};
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

static inline void put8(struct pkt *p, unsigned v)
{
	if (p->n < PKT_MAX)
		p->b[p->n++] = (uint8_t)v;
}

static inline void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static inline void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static inline void putn(struct pkt *p, const void *d, size_t n)
{
	const uint8_t *s = d;
	for (size_t i = 0; i < n; i++)
		put8(p, s[i]);
}

static inline void putstr(struct pkt *p, const char *s)
{
	putn(p, s, strlen(s));
}

static inline void set16(struct pkt *p, uint32_t off, unsigned v)
{
	p->b[off] = (uint8_t)(v >> 8);
	p->b[off + 1] = (uint8_t)v;
}

static inline uint32_t pkt_eth(struct pkt *p, unsigned type)
{
	uint32_t off = p->n;
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
	putn(p, macs, sizeof(macs));
	put16(p, type);
	return off;
}

static inline void pkt_vlan(struct pkt *p, unsigned vid, unsigned next_type)
{
	put16(p, 0x2000 | vid); /* priority 1 */
	put16(p, next_type);
}

static inline uint32_t pkt_ipv4(struct pkt *p, unsigned proto, const uint8_t *src,
                                const uint8_t *dst, unsigned id, unsigned frag)
{
	uint32_t off = p->n;
	put8(p, 0x45);
	put8(p, 0);
	put16(p, 0); /* total length: pkt_fix */
	put16(p, id);
	put16(p, frag);
	put8(p, 64);
	put8(p, proto);
	put16(p, 0);
	putn(p, src, 4);
	putn(p, dst, 4);
	p->ip4 = off + 1;
	return off;
}

static inline uint32_t pkt_ipv6(struct pkt *p, unsigned nh, const uint8_t *src, const uint8_t *dst)
{
	uint32_t off = p->n;
	put32(p, 0x60000000u);
	put16(p, 0); /* payload length: pkt_fix */
	put8(p, nh);
	put8(p, 57);
	putn(p, src, 16);
	putn(p, dst, 16);
	p->ip6 = off + 1;
	return off;
}

/* An options-style extension header (hop-by-hop, destination options,
 * routing) of (len8 + 1) * 8 bytes, padded with zeros (Pad1/PadN-valid). */
static inline void pkt_ext(struct pkt *p, unsigned nh, unsigned len8)
{
	put8(p, nh);
	put8(p, len8);
	for (unsigned i = 2; i < (len8 + 1) * 8; i++)
		put8(p, 0);
}

static inline uint32_t pkt_tcp(struct pkt *p, unsigned sport, unsigned dport, uint32_t seq,
                               uint32_t ack, unsigned flags)
{
	uint32_t off = p->n;
	put16(p, sport);
	put16(p, dport);
	put32(p, seq);
	put32(p, ack);
	put8(p, 5 << 4);
	put8(p, flags);
	put16(p, 65535);
	put16(p, 0);
	put16(p, 0);
	return off;
}

static inline uint32_t pkt_udp(struct pkt *p, unsigned sport, unsigned dport)
{
	uint32_t off = p->n;
	put16(p, sport);
	put16(p, dport);
	put16(p, 0); /* length: pkt_fix */
	put16(p, 0);
	p->udp = off + 1;
	return off;
}

static inline uint16_t pkt_csum(const uint8_t *h, uint32_t len)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Lengths from the current end of the packet. */
static inline void pkt_fix(struct pkt *p)
{
	if (p->udp)
		set16(p, p->udp - 1 + 4, p->n - (p->udp - 1));
	if (p->ip6)
		set16(p, p->ip6 - 1 + 4, p->n - (p->ip6 - 1) - 40);
	if (p->ip4) {
		uint32_t o = p->ip4 - 1, hl = (uint32_t)(p->b[o] & 0x0f) * 4;
		set16(p, o + 2, p->n - o);
		set16(p, o + 10, 0);
		set16(p, o + 10, pkt_csum(p->b + o, hl));
	}
}

static inline int pkt_decode(struct hl_decoder *d, int linktype, const struct pkt *p,
                             struct hl_packet *out)
{
	return hl_decode(d, linktype, p->b, p->n, p->n, 1700000000000000LL, out);
}

#endif
