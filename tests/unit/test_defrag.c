/* \summary: unit tests for IPv4/IPv6 fragment reassembly: order, overlap, limits, timeout */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "test_decode_pkt.h"

#define T0 1700000000000000LL
#define SEC 1000000LL

struct fixture {
	struct hl_decoder d;
	uint8_t dgram[64]; /* fragmentable part: UDP header + 40 bytes */
};

static int setup_with(void **state, const struct hl_decoder_config *cfg)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	if (hl_decoder_init(&f.d, cfg) != 0)
		return -1;
	/* UDP 5000 -> 6000, length 48, then "ABCDEFGH..." */
	const uint8_t udp[8] = {0x13, 0x88, 0x17, 0x70, 0, 48, 0, 0};
	memcpy(f.dgram, udp, 8);
	for (int i = 0; i < 40; i++)
		f.dgram[8 + i] = (uint8_t)('A' + i % 26);
	*state = &f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

static int setup_small(void **state)
{
	struct hl_decoder_config cfg = {
	        .defrag = {.max_reassemblies = 256, .max_frags = 4, .hash_seed = 7}};
	return setup_with(state, &cfg);
}

static int setup_tight_mem(void **state)
{
	/* Room for about three small reassemblies. */
	struct hl_decoder_config cfg = {.defrag = {.max_mem = 3 * (64 * 8 + 2048 + 60)}};
	return setup_with(state, &cfg);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hl_decoder_destroy(&f->d);
	return 0;
}

/* Raw IPv4 fragment of data[off, off + len) of datagram id. */
static int frag4(struct hl_decoder *d, unsigned id, const uint8_t *data, unsigned off, unsigned len,
                 bool more, int64_t ts, struct hl_packet *pk)
{
	struct pkt p;
	pkt_init(&p);
	pkt_ipv4(&p, 17, A4, B4, id, (more ? 0x2000u : 0) | off / 8);
	putn(&p, data + off, len);
	pkt_fix(&p);
	return hl_decode(d, HL_LINK_RAW, p.b, p.n, p.n, ts, pk);
}

static void assert_reassembled_udp(const struct fixture *f, const struct hl_packet *pk)
{
	assert_int_equal(pk->flags, HL_PKT_REASSEMBLED);
	assert_int_equal(pk->family, 4);
	assert_int_equal(pk->proto, 17);
	assert_int_equal(pk->sport, 5000);
	assert_int_equal(pk->dport, 6000);
	assert_int_equal(pk->payload_len, 40);
	assert_memory_equal(pk->payload, f->dgram + 8, 40);
	/* The datagram as a receiver would see it, checksum and all. */
	assert_int_equal(pk->l3_len, 68);
	assert_int_equal(pk->l3[2] << 8 | pk->l3[3], 68);
	assert_int_equal(pk->l3[6] & 0x3f, 0);
	assert_int_equal(pk->l3[7], 0);
	assert_int_equal(pkt_csum(pk->l3, 20), 0);
}

static void v4_in_order(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	assert_int_equal(frag4(d, 1, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(pk.family, 4); /* L3 of the fragment itself */
	assert_int_equal(d->stats.frag_active, 1);
	assert_true(d->stats.frag_mem > 0);
	assert_int_equal(frag4(d, 1, f->dgram, 16, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 1, f->dgram, 32, 16, false, T0 + 5, &pk), HL_DECODE_OK);
	assert_reassembled_udp(f, &pk);
	assert_int_equal(pk.ts, T0 + 5);
	assert_int_equal(pk.ip_id, 1);
	assert_int_equal(d->stats.n.fragment_held, 2);
	assert_int_equal(d->stats.n.frag_reassembled, 1);
	assert_int_equal(d->stats.n.ok, 1);
	assert_int_equal(d->stats.frag_active, 0);
	assert_int_equal(d->stats.frag_mem, 0);
	assert_int_equal(d->stats.n.frag_overlap + d->stats.n.frag_duplicate, 0);
}

static void v4_reverse_order(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	assert_int_equal(frag4(d, 2, f->dgram, 32, 16, false, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 2, f->dgram, 16, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 2, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_OK);
	assert_reassembled_udp(f, &pk);
}

static void v4_duplicate(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	assert_int_equal(frag4(d, 3, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 3, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.n.frag_duplicate, 1);
	assert_int_equal(frag4(d, 3, f->dgram, 16, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 3, f->dgram, 32, 16, false, T0, &pk), HL_DECODE_OK);
	assert_reassembled_udp(f, &pk);
	assert_int_equal(d->stats.n.frag_duplicate, 1);
	assert_int_equal(d->stats.n.frag_overlap, 0);
}

static void v4_overlap_first_wins(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	uint8_t evil[64];
	memcpy(evil, f->dgram, sizeof(evil));
	memset(evil + 8, 'X', 16);
	assert_int_equal(frag4(d, 4, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	/* [8, 24): 8 bytes already held (kept), 8 new ones (stored). */
	assert_int_equal(frag4(d, 4, evil, 8, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.n.frag_overlap, 1);
	/* [16, 48): conflicts with the X at [16, 24), which stay. */
	assert_int_equal(frag4(d, 4, f->dgram, 16, 32, false, T0, &pk), HL_DECODE_OK);
	assert_int_equal(d->stats.n.frag_overlap, 2);
	assert_int_equal(pk.payload_len, 40);
	assert_memory_equal(pk.payload, f->dgram + 8, 8);
	assert_memory_equal(pk.payload + 8, "XXXXXXXX", 8);
	assert_memory_equal(pk.payload + 16, f->dgram + 24, 24);
}

static void v4_missing_last_times_out(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	assert_int_equal(frag4(d, 5, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 5, f->dgram, 16, 16, true, T0 + 10 * SEC, &pk),
	                 HL_DECODE_FRAGMENT_HELD);
	/* Unrelated packets move time on; the timeout runs from the first fragment. */
	struct pkt other;
	pkt_init(&other);
	pkt_ipv4(&other, 17, B4, A4, 9, 0);
	pkt_udp(&other, 1, 2);
	pkt_fix(&other);
	assert_int_equal(
	        hl_decode(d, HL_LINK_RAW, other.b, other.n, other.n, T0 + 30 * SEC - 1, &pk),
	        HL_DECODE_OK);
	assert_int_equal(d->stats.frag_active, 1);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, other.b, other.n, other.n, T0 + 30 * SEC, &pk),
	                 HL_DECODE_OK);
	assert_int_equal(d->stats.frag_active, 0);
	assert_int_equal(d->stats.frag_mem, 0);
	assert_int_equal(d->stats.n.frag_timeout, 1);
	/* The late last fragment starts over and is held, not delivered. */
	assert_int_equal(frag4(d, 5, f->dgram, 32, 16, false, T0 + 31 * SEC, &pk),
	                 HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.n.frag_reassembled, 0);
	/* Hostile timestamps (time running backwards, extremes) do not expire
	 * or overflow anything. */
	assert_int_equal(hl_decode(d, HL_LINK_RAW, other.b, other.n, other.n, INT64_MIN, &pk),
	                 HL_DECODE_OK);
	assert_int_equal(d->stats.frag_active, 1);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, other.b, other.n, other.n, INT64_MAX, &pk),
	                 HL_DECODE_OK);
	assert_int_equal(d->stats.frag_active, 0);
}

static void v4_flood_of_first_fragments(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	for (unsigned id = 0; id < 10000; id++)
		assert_int_equal(frag4(d, id, f->dgram, 0, 16, true, T0 + id, &pk),
		                 HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.frag_active, 256);
	assert_int_equal(d->stats.n.frag_evicted, 10000 - 256);
	assert_true(d->stats.frag_mem_peak <= (uint64_t)HL_DEFRAG_DEFAULT_MAX_MEM);
	/* The newest survive and still complete. */
	assert_int_equal(frag4(d, 9999, f->dgram, 16, 16, true, T0 + 10000, &pk),
	                 HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 9999, f->dgram, 32, 16, false, T0 + 10001, &pk), HL_DECODE_OK);
	assert_reassembled_udp(f, &pk);
	/* The oldest were evicted: its last fragment starts a new reassembly. */
	assert_int_equal(frag4(d, 0, f->dgram, 16, 32, false, T0 + 10002, &pk),
	                 HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.frag_active, 256);
}

static void v4_memory_bound(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	uint64_t bound = 3 * (64 * 8 + 2048 + 60);
	for (unsigned id = 0; id < 50; id++) {
		assert_int_equal(frag4(d, id, f->dgram, 0, 16, true, T0, &pk),
		                 HL_DECODE_FRAGMENT_HELD);
		assert_true(d->stats.frag_mem <= bound);
	}
	assert_true(d->stats.frag_mem_peak <= bound);
	assert_true(d->stats.frag_active >= 2 && d->stats.frag_active <= 3);
	assert_int_equal(d->stats.n.frag_evicted, 50 - d->stats.frag_active);
	assert_int_equal(frag4(d, 49, f->dgram, 16, 32, false, T0, &pk), HL_DECODE_OK);
	assert_reassembled_udp(f, &pk);
}

static void v4_too_many_fragments(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	/* max_frags is 4 here; duplicates count too. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(frag4(d, 6, f->dgram, 0, 8, true, T0, &pk),
		                 HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 6, f->dgram, 8, 8, true, T0, &pk), HL_DECODE_FRAG_LIMIT);
	assert_int_equal(d->stats.n.frag_limit, 1);
	assert_int_equal(d->stats.frag_active, 0);
	assert_int_equal(d->stats.frag_mem, 0);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_FRAG_LIMIT), HL_DECODE_KIND_LIMIT);
}

static void v4_invalid_fragments(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	uint8_t big[16] = {0};
	/* Ends past 65535 (ping of death). */
	struct pkt p;
	pkt_init(&p);
	pkt_ipv4(&p, 17, A4, B4, 7, 0x1fff);
	putn(&p, big, 16);
	pkt_fix(&p);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, p.n, p.n, T0, &pk), HL_DECODE_FRAG_TOO_BIG);
	/* More fragments follow, but this one's length is not a multiple of 8. */
	assert_int_equal(frag4(d, 8, f->dgram, 0, 10, true, T0, &pk), HL_DECODE_FRAG_INVALID);
	/* Empty. */
	assert_int_equal(frag4(d, 8, f->dgram, 8, 0, true, T0, &pk), HL_DECODE_FRAG_INVALID);
	/* A last fragment ending before data already held. */
	assert_int_equal(frag4(d, 9, f->dgram, 16, 32, true, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 9, f->dgram, 8, 8, false, T0, &pk), HL_DECODE_FRAG_INVALID);
	/* Past the last fragment's end, and a second, different last fragment. */
	assert_int_equal(frag4(d, 10, f->dgram, 16, 16, false, T0, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag4(d, 10, f->dgram, 32, 16, true, T0, &pk), HL_DECODE_FRAG_INVALID);
	assert_int_equal(frag4(d, 10, f->dgram, 32, 16, false, T0, &pk), HL_DECODE_FRAG_INVALID);
	/* The consistent rest still completes it: 32 bytes, too few for the
	 * UDP length of 48, which the reassembled datagram is then judged by. */
	assert_int_equal(frag4(d, 10, f->dgram, 0, 16, true, T0, &pk), HL_DECODE_UDP_LEN_INVALID);
	assert_int_equal(d->stats.n.frag_reassembled, 1);
	assert_int_equal(pk.flags, HL_PKT_REASSEMBLED);
	assert_int_equal(pk.l3_len, 20 + 32);
	assert_int_equal(d->stats.n.frag_too_big, 1);
	assert_int_equal(d->stats.n.frag_invalid, 5);
	assert_true(hl_decode_reason_is_malformed(HL_DECODE_FRAG_INVALID));
}

static void v4_truncated_fragment_not_kept(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv4(&p, 17, A4, B4, 11, 0x2000);
	putn(&p, f->dgram, 16);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, p.n - 1, p.n, T0, &pk),
	                 HL_DECODE_FRAG_TRUNCATED);
	assert_int_equal(d->stats.frag_active, 0);
	assert_int_equal(d->stats.n.frag_truncated, 1);
}

static void v4_tiny_first_fragment_tcp(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct pkt seg;
	pkt_init(&seg);
	pkt_tcp(&seg, 31337, 22, 77, 88, 0x02);
	putstr(&seg, "hidden-in-second");
	struct hl_packet pk;
	struct pkt p;
	/* 8 bytes: ports and sequence number only, no flags or data offset. */
	pkt_init(&p);
	pkt_ipv4(&p, 6, A4, B4, 12, 0x2000);
	putn(&p, seg.b, 8);
	pkt_fix(&p);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, p.n, p.n, T0, &pk),
	                 HL_DECODE_FRAGMENT_HELD);
	pkt_init(&p);
	pkt_ipv4(&p, 6, A4, B4, 12, 1);
	putn(&p, seg.b + 8, seg.n - 8);
	pkt_fix(&p);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, p.n, p.n, T0, &pk), HL_DECODE_OK);
	assert_int_equal(pk.sport, 31337);
	assert_int_equal(pk.dport, 22);
	assert_int_equal(pk.tcp_flags, 0x02);
	assert_int_equal(pk.tcp_ack, 88);
	assert_int_equal(pk.payload_len, 16);
	assert_memory_equal(pk.payload, "hidden-in-second", 16);
}

static void v4_vlan_and_proto_separate_datagrams(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	struct hl_packet pk;
	struct pkt p;
	for (unsigned vid = 1; vid <= 2; vid++) {
		pkt_init(&p);
		pkt_eth(&p, 0x8100);
		pkt_vlan(&p, vid, 0x0800);
		pkt_ipv4(&p, 17, A4, B4, 13, vid == 1 ? 0x2000 : 2);
		putn(&p, f->dgram + (vid == 1 ? 0 : 16), vid == 1 ? 16 : 32);
		pkt_fix(&p);
		assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_FRAGMENT_HELD);
	}
	assert_int_equal(d->stats.frag_active, 2);
	/* Same VLAN, other protocol: a third datagram. */
	pkt_init(&p);
	pkt_eth(&p, 0x8100);
	pkt_vlan(&p, 1, 0x0800);
	pkt_ipv4(&p, 6, A4, B4, 13, 2);
	putn(&p, f->dgram + 16, 32);
	pkt_fix(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.frag_active, 3);
	/* Matching VLAN and protocol completes, VLAN kept on the packet. */
	p.b[14 + 4 + 9] = 17;
	pkt_fix(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.vlan_count, 1);
	assert_int_equal(pk.vlan[0], 1);
	assert_int_equal(pk.dport, 6000);
}

/* IPv6: header, hop-by-hop (unfragmentable), fragment header, then the
 * fragmentable part: destination options (8) + UDP (8) + 40 bytes. */
static int frag6(struct hl_decoder *d, uint32_t id, const uint8_t *data, unsigned off, unsigned len,
                 bool more, struct hl_packet *pk)
{
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 0, A6, B6);
	pkt_ext(&p, 44, 0);
	put8(&p, 60);
	put8(&p, 0);
	put16(&p, off | (more ? 1u : 0));
	put32(&p, id);
	putn(&p, data + off, len);
	pkt_fix(&p);
	return hl_decode(d, HL_LINK_RAW, p.b, p.n, p.n, T0, pk);
}

static void v6_fragmentable(uint8_t *out, const struct fixture *f)
{
	const uint8_t dst_opts[8] = {17, 0, 1, 4, 0, 0, 0, 0}; /* PadN */
	memcpy(out, dst_opts, 8);
	memcpy(out + 8, f->dgram, 48);
}

static void assert_reassembled_v6(const struct fixture *f, const struct hl_packet *pk)
{
	assert_int_equal(pk->flags, HL_PKT_REASSEMBLED);
	assert_int_equal(pk->family, 6);
	assert_int_equal(pk->proto, 17);
	assert_int_equal(pk->ip_id, 0xabcdef01u);
	assert_memory_equal(pk->src, A6, 16);
	assert_int_equal(pk->sport, 5000);
	assert_int_equal(pk->dport, 6000);
	assert_int_equal(pk->payload_len, 40);
	assert_memory_equal(pk->payload, f->dgram + 8, 40);
	/* Header + hop-by-hop + the 56 fragmentable bytes; fragment header gone,
	 * the hop-by-hop header now names destination options. */
	assert_int_equal(pk->l3_len, 40 + 8 + 56);
	assert_int_equal(pk->l3[4] << 8 | pk->l3[5], 8 + 56);
	assert_int_equal(pk->l3[6], 0);
	assert_int_equal(pk->l3[40], 60);
	assert_int_equal(pk->l3[48], 17);
}

static void v6_in_order_and_reverse(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	uint8_t data[56];
	v6_fragmentable(data, f);
	struct hl_packet pk;
	assert_int_equal(frag6(d, 0xabcdef01u, data, 0, 24, true, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(pk.family, 6);
	assert_int_equal(pk.proto, 60);
	assert_int_equal(frag6(d, 0xabcdef01u, data, 24, 32, false, &pk), HL_DECODE_OK);
	assert_reassembled_v6(f, &pk);

	assert_int_equal(frag6(d, 0xabcdef01u, data, 24, 32, false, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag6(d, 0xabcdef01u, data, 8, 16, true, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag6(d, 0xabcdef01u, data, 0, 8, true, &pk), HL_DECODE_OK);
	assert_reassembled_v6(f, &pk);
	assert_int_equal(d->stats.n.frag_reassembled, 2);
	assert_int_equal(d->stats.frag_active, 0);
}

static void v6_overlap_and_timeout(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	uint8_t data[56], evil[56];
	v6_fragmentable(data, f);
	memcpy(evil, data, sizeof(evil));
	evil[20] = '!';
	struct hl_packet pk;
	assert_int_equal(frag6(d, 1, data, 0, 24, true, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag6(d, 1, evil, 16, 16, true, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(d->stats.n.frag_overlap, 1);
	/* No last fragment: it goes on a later packet's clock. */
	struct pkt other;
	pkt_init(&other);
	pkt_ipv6(&other, 59, B6, A6);
	pkt_fix(&other);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, other.b, other.n, other.n, T0 + 31 * SEC, &pk),
	                 HL_DECODE_OK);
	assert_int_equal(d->stats.n.frag_timeout, 1);
	assert_int_equal(d->stats.frag_active, 0);
}

static void v6_nested_fragment_rejected(void **state)
{
	struct fixture *f = *state;
	struct hl_decoder *d = &f->d;
	/* An atomic fragment header (offset 0, M clear) is decoded in place; a
	 * real fragment header after it is then reassembled as usual. */
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 44, A6, B6);
	put8(&p, 44);
	put8(&p, 0);
	put16(&p, 0);
	put32(&p, 5);
	put8(&p, 17);
	put8(&p, 0);
	put16(&p, 1); /* offset 0, M set */
	put32(&p, 9);
	putn(&p, f->dgram, 8);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(pk.proto, 17);
	assert_int_equal(pk.ip_id, 9);

	/* A reassembled datagram whose fragmentable part holds another real
	 * fragment header: nested fragmentation is refused, not recursed into.
	 * Destination options (next: fragment), fragment header, UDP. */
	const uint8_t whole[24] = {44, 0, 1, 4, 0,    0,    0,    0,    17, 0, 0, 1,
	                           0,  0, 0, 9, 0x13, 0x88, 0x17, 0x70, 0,  8, 0, 0};
	assert_int_equal(frag6(d, 77, whole, 0, 16, true, &pk), HL_DECODE_FRAGMENT_HELD);
	assert_int_equal(frag6(d, 77, whole, 16, 8, false, &pk), HL_DECODE_FRAG_INVALID);
	assert_int_equal(pk.flags, HL_PKT_REASSEMBLED);
	assert_int_equal(d->stats.n.frag_reassembled, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(v4_in_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_reverse_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_duplicate, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_overlap_first_wins, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_missing_last_times_out, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_flood_of_first_fragments, setup_small, teardown),
	        cmocka_unit_test_setup_teardown(v4_memory_bound, setup_tight_mem, teardown),
	        cmocka_unit_test_setup_teardown(v4_too_many_fragments, setup_small, teardown),
	        cmocka_unit_test_setup_teardown(v4_invalid_fragments, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_truncated_fragment_not_kept, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_tiny_first_fragment_tcp, setup, teardown),
	        cmocka_unit_test_setup_teardown(v4_vlan_and_proto_separate_datagrams, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(v6_in_order_and_reverse, setup, teardown),
	        cmocka_unit_test_setup_teardown(v6_overlap_and_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(v6_nested_fragment_rejected, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
