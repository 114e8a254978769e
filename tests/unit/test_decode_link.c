/* \summary: unit tests for Linux SLL/SLL2, BSD loopback and raw IP link types */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "test_decode_pkt.h"

static int setup(void **state)
{
	static struct hl_decoder d;
	if (hl_decoder_init(&d, NULL) != 0)
		return -1;
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	hl_decoder_destroy(*state);
	return 0;
}

static void sll_header(struct pkt *p, unsigned hatype, unsigned proto)
{
	put16(p, 0);      /* packet type: to us */
	put16(p, hatype); /* ARPHRD_ETHER = 1 */
	put16(p, 6);
	static const uint8_t addr[8] = {0x02, 0, 0, 0, 0, 0x09, 0, 0};
	putn(p, addr, 8);
	put16(p, proto);
}

static void sll2_header(struct pkt *p, unsigned hatype, unsigned proto)
{
	put16(p, proto);
	put16(p, 0);
	put32(p, 3); /* interface index */
	put16(p, hatype);
	put8(p, 4); /* outgoing */
	put8(p, 6);
	static const uint8_t addr[8] = {0x02, 0, 0, 0, 0, 0x09, 0, 0};
	putn(p, addr, 8);
}

static void udp_v4(struct pkt *p)
{
	pkt_ipv4(p, 17, A4, B4, 9, 0);
	pkt_udp(p, 1234, 53);
	putstr(p, "q");
	pkt_fix(p);
}

static void tcp_v6(struct pkt *p)
{
	pkt_ipv6(p, 6, A6, B6);
	pkt_tcp(p, 80, 50000, 7, 8, 0x12);
	putstr(p, "v6");
	pkt_fix(p);
}

static void sll_ipv4(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	sll_header(&p, 1, 0x0800);
	udp_v4(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_SLL, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 4);
	assert_ptr_equal(pk.l3, p.b + 16);
	assert_int_equal(pk.sport, 1234);
	assert_int_equal(pk.dport, 53);
	assert_int_equal(pk.payload_len, 1);
	assert_int_equal(pk.linktype, HL_LINK_SLL);
}

static void sll_vlan_and_not_ip(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	sll_header(&p, 1, 0x8100);
	pkt_vlan(&p, 55, 0x86dd);
	tcp_v6(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_SLL, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.vlan_count, 1);
	assert_int_equal(pk.vlan[0], 55);
	assert_int_equal(pk.family, 6);

	pkt_init(&p);
	sll_header(&p, 1, 0x0004); /* ETH_P_802_2: LLC */
	put32(&p, 0);
	assert_int_equal(pkt_decode(d, HL_LINK_SLL, &p, &pk), HL_DECODE_NOT_IP);
	pkt_init(&p);
	sll_header(&p, 824, 0x0800); /* netlink: protocol is not an ethertype */
	udp_v4(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_SLL, &p, &pk), HL_DECODE_NOT_IP);
	assert_int_equal(d->stats.n.not_ip, 2);
}

static void sll_too_short(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	sll_header(&p, 1, 0x0800);
	struct hl_packet pk;
	assert_int_equal(hl_decode(d, HL_LINK_SLL, p.b, 15, 15, 0, &pk), HL_DECODE_SLL_TOO_SHORT);
	assert_int_equal(pkt_decode(d, HL_LINK_SLL, &p, &pk), HL_DECODE_IPV4_TOO_SHORT);
	assert_int_equal(d->stats.n.sll_too_short, 1);
}

static void sll2_ipv6(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	sll2_header(&p, 1, 0x86dd);
	tcp_v6(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_SLL2, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 6);
	assert_memory_equal(pk.src, A6, 16);
	assert_memory_equal(pk.dst, B6, 16);
	assert_ptr_equal(pk.l3, p.b + 20);
	assert_int_equal(pk.sport, 80);
	assert_int_equal(pk.tcp_flags, 0x12);
	assert_memory_equal(pk.payload, "v6", 2);

	assert_int_equal(hl_decode(d, HL_LINK_SLL2, p.b, 19, 19, 0, &pk), HL_DECODE_SLL2_TOO_SHORT);
	assert_int_equal(d->stats.n.sll2_too_short, 1);
}

static void null_families(void **state)
{
	struct hl_decoder *d = *state;
	struct hl_packet pk;
	/* DLT_NULL in little-endian (x86 writer), then big-endian (writer of the
	 * other order), AF_INET and the AF_INET6 values of several OSes. */
	static const uint32_t v6_families[] = {10, 24, 28, 30};
	struct pkt p;
	pkt_init(&p);
	put32(&p, 0x02000000u); /* 2, little-endian */
	udp_v4(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_NULL, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 4);
	assert_ptr_equal(pk.l3, p.b + 4);
	pkt_init(&p);
	put32(&p, 2); /* big-endian writer */
	udp_v4(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_NULL, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 4);
	for (size_t i = 0; i < sizeof(v6_families) / sizeof(v6_families[0]); i++) {
		pkt_init(&p);
		uint32_t f = v6_families[i];
		put8(&p, f); /* little-endian */
		put8(&p, 0);
		put16(&p, 0);
		tcp_v6(&p);
		assert_int_equal(pkt_decode(d, HL_LINK_NULL, &p, &pk), HL_DECODE_OK);
		assert_int_equal(pk.family, 6);
	}
	pkt_init(&p);
	put32(&p, 0x07000000u); /* AF_7: not IP */
	udp_v4(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_NULL, &p, &pk), HL_DECODE_NOT_IP);
	assert_int_equal(hl_decode(d, HL_LINK_NULL, p.b, 3, 3, 0, &pk), HL_DECODE_NULL_TOO_SHORT);
	assert_int_equal(d->stats.n.null_too_short, 1);
}

static void loop_network_order(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	put32(&p, 24); /* OpenBSD AF_INET6, network order */
	tcp_v6(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_LOOP, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 6);
	assert_int_equal(pk.linktype, HL_LINK_LOOP);
	assert_int_equal(pk.dport, 50000);
}

static void raw_ip(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p4, p6;
	pkt_init(&p4);
	udp_v4(&p4);
	pkt_init(&p6);
	tcp_v6(&p6);
	struct hl_packet pk;
	const int raw_types[] = {HL_LINK_RAW, HL_LINK_RAW_FILE};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(pkt_decode(d, raw_types[i], &p4, &pk), HL_DECODE_OK);
		assert_int_equal(pk.family, 4);
		assert_ptr_equal(pk.l3, p4.b);
		assert_int_equal(pk.dport, 53);
		assert_int_equal(pkt_decode(d, raw_types[i], &p6, &pk), HL_DECODE_OK);
		assert_int_equal(pk.family, 6);
		assert_int_equal(pk.dport, 50000);
	}
	assert_int_equal(pkt_decode(d, HL_LINK_IPV4, &p4, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 4);
	assert_int_equal(pkt_decode(d, HL_LINK_IPV6, &p6, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 6);
	/* The version-specific link types check the version themselves. */
	assert_int_equal(pkt_decode(d, HL_LINK_IPV4, &p6, &pk), HL_DECODE_IPV4_BAD_VERSION);
	assert_int_equal(pkt_decode(d, HL_LINK_IPV6, &p4, &pk), HL_DECODE_IPV6_TOO_SHORT);
	assert_int_equal(d->stats.n.ok, 6);
}

static void raw_bad_version(void **state)
{
	struct hl_decoder *d = *state;
	uint8_t b[40] = {0x55};
	struct hl_packet pk;
	assert_int_equal(hl_decode(d, HL_LINK_RAW, b, sizeof(b), sizeof(b), 0, &pk),
	                 HL_DECODE_RAW_BAD_VERSION);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, b, 0, 0, 0, &pk), HL_DECODE_RAW_BAD_VERSION);
	assert_int_equal(d->stats.n.raw_bad_version, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(sll_ipv4, setup, teardown),
	        cmocka_unit_test_setup_teardown(sll_vlan_and_not_ip, setup, teardown),
	        cmocka_unit_test_setup_teardown(sll_too_short, setup, teardown),
	        cmocka_unit_test_setup_teardown(sll2_ipv6, setup, teardown),
	        cmocka_unit_test_setup_teardown(null_families, setup, teardown),
	        cmocka_unit_test_setup_teardown(loop_network_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(raw_ip, setup, teardown),
	        cmocka_unit_test_setup_teardown(raw_bad_version, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
