/* \summary: unit tests for the IPv6 decoder and its extension header walk */
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

static void ipv6_udp_fields(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x86dd);
	pkt_ipv6(&p, 17, A6, B6);
	pkt_udp(&p, 546, 547);
	putstr(&p, "dhcp6");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 6);
	assert_int_equal(pk.ttl, 57);
	assert_int_equal(pk.proto, 17);
	assert_memory_equal(pk.src, A6, 16);
	assert_memory_equal(pk.dst, B6, 16);
	assert_ptr_equal(pk.l3, p.b + 14);
	assert_int_equal(pk.l3_len, 40 + 8 + 5);
	assert_ptr_equal(pk.l4, p.b + 54);
	assert_int_equal(pk.sport, 546);
	assert_int_equal(pk.dport, 547);
	assert_memory_equal(pk.payload, "dhcp6", 5);
	assert_int_equal(pk.ip_id, 0);
}

static void ipv6_two_ext_then_tcp(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 0, A6, B6); /* hop-by-hop */
	pkt_ext(&p, 60, 0);      /* 8 bytes, next: destination options */
	pkt_ext(&p, 6, 1);       /* 16 bytes, next: TCP */
	pkt_tcp(&p, 1111, 2222, 100, 200, 0x02);
	putstr(&p, "syn");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.proto, 6);
	assert_ptr_equal(pk.l4, p.b + 40 + 8 + 16);
	assert_int_equal(pk.sport, 1111);
	assert_int_equal(pk.dport, 2222);
	assert_int_equal(pk.tcp_seq, 100);
	assert_int_equal(pk.tcp_flags, 0x02);
	assert_memory_equal(pk.payload, "syn", 3);
}

static void ipv6_routing_and_ah(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 43, A6, B6);
	pkt_ext(&p, 51, 0); /* routing, 8 bytes, next: AH */
	put8(&p, 17);       /* AH: next UDP, payload len 4 -> (4 + 2) * 4 = 24 bytes */
	put8(&p, 4);
	for (int i = 0; i < 22; i++)
		put8(&p, 0);
	pkt_udp(&p, 500, 4500);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.proto, 17);
	assert_ptr_equal(pk.l4, p.b + 40 + 8 + 24);
	assert_int_equal(pk.dport, 4500);
}

static void ipv6_ext_too_many(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 60, A6, B6);
	for (int i = 0; i < 8; i++)
		pkt_ext(&p, 60, 0);
	pkt_ext(&p, 17, 0); /* the ninth */
	pkt_udp(&p, 1, 2);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV6_EXT_TOO_MANY);
	assert_int_equal(d->stats.n.ipv6_ext_too_many, 1);
	assert_int_equal(pk.family, 6);
	/* Eight are fine. */
	pkt_init(&p);
	pkt_ipv6(&p, 60, A6, B6);
	for (int i = 0; i < 7; i++)
		pkt_ext(&p, 60, 0);
	pkt_ext(&p, 17, 0);
	pkt_udp(&p, 1, 2);
	pkt_fix(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
}

static void ipv6_ext_invalid_and_truncated(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 60, A6, B6);
	pkt_ext(&p, 59, 2); /* says 24 bytes */
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	/* The payload length says only 16 of the 24 are there. */
	set16(&p, 4, 16);
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV6_EXT_INVALID);
	/* One byte of an extension header inside the payload length. */
	set16(&p, 4, 1);
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV6_EXT_INVALID);
	/* Whole on the wire, cut by the capture. */
	set16(&p, 4, 24);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 50, p.n, 0, &pk), HL_DECODE_IPV6_TRUNCATED);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 41, p.n, 0, &pk), HL_DECODE_IPV6_TRUNCATED);
	assert_int_equal(d->stats.n.ipv6_ext_invalid, 2);
	assert_int_equal(d->stats.n.ipv6_truncated, 2);
}

static void ipv6_hbh_not_first(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 60, A6, B6);
	pkt_ext(&p, 0, 0);
	pkt_ext(&p, 59, 0);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV6_HBH_NOT_FIRST);
	assert_true(hl_decode_reason_is_malformed(HL_DECODE_IPV6_HBH_NOT_FIRST));
}

static void ipv6_header_checks(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 17, A6, B6);
	pkt_udp(&p, 1, 2);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(hl_decode(d, HL_LINK_IPV6, p.b, 39, 39, 0, &pk), HL_DECODE_IPV6_TOO_SHORT);
	assert_int_equal(hl_decode(d, HL_LINK_IPV6, p.b, 39, p.n, 0, &pk),
	                 HL_DECODE_IPV6_TRUNCATED);
	set16(&p, 4, 9);
	assert_int_equal(pkt_decode(d, HL_LINK_IPV6, &p, &pk), HL_DECODE_IPV6_LEN_BEYOND_FRAME);
	set16(&p, 4, 8);
	p.b[0] = 0x40;
	assert_int_equal(pkt_decode(d, HL_LINK_IPV6, &p, &pk), HL_DECODE_IPV6_BAD_VERSION);
	p.b[0] = 0x60;
	set16(&p, 4, 0);
	p.b[6] = 0; /* jumbogram */
	assert_int_equal(pkt_decode(d, HL_LINK_IPV6, &p, &pk), HL_DECODE_IPV6_JUMBO);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_IPV6_JUMBO), HL_DECODE_KIND_SKIP);
	assert_int_equal(d->stats.n.ipv6_too_short, 1);
	assert_int_equal(d->stats.n.ipv6_truncated, 1);
	assert_int_equal(d->stats.n.ipv6_len_beyond_frame, 1);
	assert_int_equal(d->stats.n.ipv6_bad_version, 1);
	assert_int_equal(d->stats.n.ipv6_jumbo, 1);
}

static void ipv6_atomic_fragment_and_no_next(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 44, A6, B6);
	put8(&p, 17); /* fragment header: offset 0, M clear */
	put8(&p, 0);
	put16(&p, 0);
	put32(&p, 0xcafe);
	pkt_udp(&p, 7, 9);
	putstr(&p, "atomic");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.proto, 17);
	assert_int_equal(pk.dport, 9);
	assert_memory_equal(pk.payload, "atomic", 6);
	assert_int_equal(pk.flags, 0);
	assert_int_equal(d->stats.n.fragment_held, 0);

	pkt_init(&p);
	pkt_ipv6(&p, 59, A6, B6);
	pkt_fix(&p);
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.proto, 59);
	assert_int_equal(pk.payload_len, 0);
}

static void ipv6_icmpv6(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 58, A6, B6);
	put8(&p, 129); /* echo reply */
	put8(&p, 0);
	put16(&p, 0);
	put16(&p, 0x0102);
	put16(&p, 0x0304);
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.icmp_type, 129);
	assert_int_equal(pk.icmp_id, 0x0102);
	assert_int_equal(pk.icmp_seq, 0x0304);
	assert_int_equal(pk.payload_len, 0);
	/* Neighbour solicitation: type only. */
	p.b[40] = 135;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.icmp_type, 135);
	assert_int_equal(pk.icmp_id, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(ipv6_udp_fields, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_two_ext_then_tcp, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_routing_and_ah, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_ext_too_many, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_ext_invalid_and_truncated, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_hbh_not_first, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_header_checks, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_atomic_fragment_and_no_next, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_icmpv6, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
