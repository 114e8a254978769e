/* \summary: unit tests for Ethernet, VLAN tags, dispatch and reason names */
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

static void eth_ipv4_tcp_fields(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, 6, A4, B4, 0x1234, 0x4000);
	pkt_tcp(&p, 49152, 443, 0x01020304u, 0xa0b0c0d0u, 0x18);
	putstr(&p, "hello");
	pkt_fix(&p);

	struct hl_packet pk;
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, p.n, p.n, 42, &pk), HL_DECODE_OK);
	assert_int_equal(pk.ts, 42);
	assert_int_equal(pk.caplen, 14 + 20 + 20 + 5);
	assert_int_equal(pk.wirelen, 59);
	assert_int_equal(pk.linktype, HL_LINK_ETHERNET);
	assert_int_equal(pk.vlan_count, 0);
	assert_int_equal(pk.family, 4);
	assert_memory_equal(pk.src, A4, 4);
	assert_memory_equal(pk.dst, B4, 4);
	static const uint8_t zero[12];
	assert_memory_equal(pk.src + 4, zero, 12);
	assert_int_equal(pk.proto, 6);
	assert_int_equal(pk.ttl, 64);
	assert_int_equal(pk.ip_id, 0x1234);
	assert_ptr_equal(pk.l3, p.b + 14);
	assert_int_equal(pk.l3_len, 45);
	assert_ptr_equal(pk.l4, p.b + 34);
	assert_int_equal(pk.sport, 49152);
	assert_int_equal(pk.dport, 443);
	assert_int_equal(pk.tcp_seq, 0x01020304u);
	assert_int_equal(pk.tcp_ack, 0xa0b0c0d0u);
	assert_int_equal(pk.tcp_flags, 0x18);
	assert_int_equal(pk.tcp_window, 65535);
	assert_int_equal(pk.payload_len, 5);
	assert_int_equal(pk.payload_wire_len, 5);
	assert_memory_equal(pk.payload, "hello", 5);
	assert_int_equal(pk.flags, 0);
	assert_int_equal(d->stats.packets, 1);
	assert_int_equal(d->stats.n.ok, 1);
	assert_int_equal(d->stats.by_reason[HL_DECODE_OK], 1);
}

static void eth_padding_not_payload(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, 17, A4, B4, 1, 0);
	pkt_udp(&p, 5353, 53);
	putstr(&p, "x");
	pkt_fix(&p);
	while (p.n < 60)
		put8(&p, 0xee); /* minimum frame padding */

	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.caplen, 60);
	assert_int_equal(pk.l3_len, 29);
	assert_int_equal(pk.sport, 5353);
	assert_int_equal(pk.dport, 53);
	assert_int_equal(pk.payload_len, 1);
	assert_int_equal(pk.payload_wire_len, 1);
	assert_int_equal(pk.payload[0], 'x');
	assert_int_equal(pk.flags & HL_PKT_TRUNCATED, 0);
}

static void eth_too_short(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	struct hl_packet pk;
	for (uint32_t len = 0; len < 14; len++)
		assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, len, len, 0, &pk),
		                 HL_DECODE_ETH_TOO_SHORT);
	assert_int_equal(d->stats.n.eth_too_short, 14);
	assert_int_equal(pk.family, 0);
	assert_true(hl_decode_reason_is_malformed(HL_DECODE_ETH_TOO_SHORT));
	/* A bare header with an IPv4 ethertype and nothing after it. */
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_IPV4_TOO_SHORT);
}

static void eth_not_ip_is_not_malformed(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x0806); /* ARP */
	for (int i = 0; i < 28; i++)
		put8(&p, 0);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_NOT_IP);
	assert_false(hl_decode_reason_is_malformed(HL_DECODE_NOT_IP));
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_NOT_IP), HL_DECODE_KIND_SKIP);

	pkt_init(&p);
	pkt_eth(&p, 46); /* 802.3 length field, LLC follows */
	for (int i = 0; i < 46; i++)
		put8(&p, 0x42);
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_NOT_IP);
	assert_int_equal(d->stats.n.not_ip, 2);
}

static void vlan_single(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x8100);
	pkt_vlan(&p, 100, 0x0800);
	pkt_ipv4(&p, 17, A4, B4, 7, 0);
	pkt_udp(&p, 1000, 2000);
	putstr(&p, "abc");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.vlan_count, 1);
	assert_int_equal(pk.vlan[0], 100);
	assert_int_equal(pk.vlan[1], 0);
	assert_ptr_equal(pk.l3, p.b + 18);
	assert_int_equal(pk.sport, 1000);
	assert_int_equal(pk.payload_len, 3);
}

static void vlan_double_qinq(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 10, 0x8100);
	pkt_vlan(&p, 4094, 0x86dd);
	pkt_ipv6(&p, 17, A6, B6);
	pkt_udp(&p, 53, 40000);
	putstr(&p, "dns");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.vlan_count, 2);
	assert_int_equal(pk.vlan[0], 10);
	assert_int_equal(pk.vlan[1], 4094);
	assert_int_equal(pk.family, 6);
	assert_ptr_equal(pk.l3, p.b + 22);
	assert_int_equal(pk.dport, 40000);
	assert_memory_equal(pk.payload, "dns", 3);
}

static void vlan_too_deep_and_short(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x88a8);
	pkt_vlan(&p, 1, 0x8100);
	pkt_vlan(&p, 2, 0x8100);
	pkt_vlan(&p, 3, 0x0800);
	pkt_ipv4(&p, 17, A4, B4, 0, 0);
	pkt_udp(&p, 1, 2);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_VLAN_TOO_DEEP);
	assert_int_equal(d->stats.n.vlan_too_deep, 1);

	pkt_init(&p);
	pkt_eth(&p, 0x8100);
	put16(&p, 5); /* TCI only, no inner ethertype */
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_VLAN_TOO_SHORT);
	assert_int_equal(d->stats.n.vlan_too_short, 1);
}

static void unsupported_linktype(void **state)
{
	struct hl_decoder *d = *state;
	uint8_t b[40] = {0x45};
	struct hl_packet pk;
	assert_int_equal(hl_decode(d, 105 /* 802.11 */, b, sizeof(b), sizeof(b), 0, &pk),
	                 HL_DECODE_UNSUPPORTED_LINKTYPE);
	assert_int_equal(d->stats.n.unsupported_linktype, 1);
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, NULL, 0, 0, 0, &pk),
	                 HL_DECODE_ETH_TOO_SHORT);
}

static void wirelen_below_caplen_is_caplen(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, 17, A4, B4, 0, 0);
	pkt_udp(&p, 1, 2);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, p.n, 3, 0, &pk), HL_DECODE_OK);
	assert_int_equal(pk.wirelen, p.n);
}

static void reason_names_and_kinds(void **state)
{
	(void)state;
	assert_string_equal(hl_decode_reason_name(HL_DECODE_OK), "ok");
	assert_string_equal(hl_decode_reason_name(HL_DECODE_TCP_HLEN_INVALID), "tcp_hlen_invalid");
	assert_string_equal(hl_decode_reason_name(HL_DECODE_FRAG_EVICTED), "frag_evicted");
	assert_null(hl_decode_reason_name(HL_DECODE_REASON_COUNT));
	assert_null(hl_decode_reason_name(-1));
	assert_non_null(hl_decode_reason_desc(HL_DECODE_IPV6_EXT_TOO_MANY));
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_OK), HL_DECODE_KIND_OK);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_FRAGMENT_HELD), HL_DECODE_KIND_SKIP);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_TCP_TRUNCATED), HL_DECODE_KIND_TRUNCATED);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_FRAG_LIMIT), HL_DECODE_KIND_LIMIT);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_FRAG_OVERLAP), HL_DECODE_KIND_EVENT);
	assert_true(hl_decode_reason_is_malformed(HL_DECODE_UDP_LEN_INVALID));
	assert_false(hl_decode_reason_is_malformed(HL_DECODE_UDP_TRUNCATED));
	/* Every reason has a distinct name. */
	for (int i = 0; i < HL_DECODE_REASON_COUNT; i++)
		for (int j = i + 1; j < HL_DECODE_REASON_COUNT; j++)
			assert_string_not_equal(hl_decode_reason_name(i), hl_decode_reason_name(j));
}

static void init_rejects_bad_config(void **state)
{
	(void)state;
	struct hl_decoder d;
	struct hl_decoder_config cfg = {.defrag = {.max_frags = 100000}};
	assert_int_equal(hl_decoder_init(&d, &cfg), HL_EINVAL);
	hl_decoder_destroy(&d);
	assert_int_equal(hl_decoder_init(NULL, NULL), HL_EINVAL);
	hl_decoder_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(eth_ipv4_tcp_fields, setup, teardown),
	        cmocka_unit_test_setup_teardown(eth_padding_not_payload, setup, teardown),
	        cmocka_unit_test_setup_teardown(eth_too_short, setup, teardown),
	        cmocka_unit_test_setup_teardown(eth_not_ip_is_not_malformed, setup, teardown),
	        cmocka_unit_test_setup_teardown(vlan_single, setup, teardown),
	        cmocka_unit_test_setup_teardown(vlan_double_qinq, setup, teardown),
	        cmocka_unit_test_setup_teardown(vlan_too_deep_and_short, setup, teardown),
	        cmocka_unit_test_setup_teardown(unsupported_linktype, setup, teardown),
	        cmocka_unit_test_setup_teardown(wirelen_below_caplen_is_caplen, setup, teardown),
	        cmocka_unit_test(reason_names_and_kinds),
	        cmocka_unit_test(init_rejects_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
