/* \summary: unit tests for the IPv4 decoder: lengths, IHL, version, options, truncation */
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

/* Raw IPv4 + UDP "data"; returns the length. */
static void udp_packet(struct pkt *p)
{
	pkt_init(p);
	pkt_ipv4(p, 17, A4, B4, 0xbeef, 0);
	pkt_udp(p, 10000, 20000);
	putstr(p, "data");
	pkt_fix(p);
}

static void ipv4_fields(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	udp_packet(&p);
	p.b[8] = 3; /* TTL */
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.family, 4);
	assert_int_equal(pk.ttl, 3);
	assert_int_equal(pk.proto, 17);
	assert_int_equal(pk.ip_id, 0xbeef);
	assert_memory_equal(pk.src, A4, 4);
	assert_memory_equal(pk.dst, B4, 4);
	assert_ptr_equal(pk.l3, p.b);
	assert_int_equal(pk.l3_len, 32);
	assert_ptr_equal(pk.l4, p.b + 20);
	assert_memory_equal(pk.payload, "data", 4);
	assert_int_equal(pk.payload_len, 4);
}

static void ipv4_bad_checksum_still_decoded(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	udp_packet(&p);
	p.b[10] ^= 0xff; /* offloaded checksums are often wrong on capture */
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.dport, 20000);
}

static void ipv4_options_skipped(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv4(&p, 6, A4, B4, 1, 0);
	p.b[0] = 0x47;  /* IHL 7: 8 bytes of options */
	put8(&p, 0x94); /* router alert */
	put8(&p, 4);
	put16(&p, 0);
	put32(&p, 0x01010100); /* NOPs, EOL */
	pkt_tcp(&p, 22, 60000, 1, 2, 0x10);
	putstr(&p, "ssh");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_ptr_equal(pk.l4, p.b + 28);
	assert_int_equal(pk.sport, 22);
	assert_int_equal(pk.dport, 60000);
	assert_memory_equal(pk.payload, "ssh", 3);

	/* Options cut by the snap length. */
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 24, p.n, 0, &pk), HL_DECODE_IPV4_TRUNCATED);
	assert_int_equal(pk.family, 4);
	assert_int_equal(d->stats.n.ipv4_truncated, 1);
	assert_false(hl_decode_reason_is_malformed(HL_DECODE_IPV4_TRUNCATED));
}

static void ipv4_too_short_vs_truncated(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	udp_packet(&p);
	struct hl_packet pk;
	/* 19 bytes on the wire: malformed. 19 captured of 32: the snap length. */
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 19, 19, 0, &pk), HL_DECODE_IPV4_TOO_SHORT);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 19, p.n, 0, &pk), HL_DECODE_IPV4_TRUNCATED);
	assert_int_equal(d->stats.n.ipv4_too_short, 1);
	assert_int_equal(d->stats.n.ipv4_truncated, 1);
}

static void ipv4_bad_version(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_eth(&p, 0x0800);
	pkt_ipv4(&p, 17, A4, B4, 0, 0);
	pkt_udp(&p, 1, 2);
	pkt_fix(&p);
	p.b[14] = 0x55;
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_IPV4_BAD_VERSION);
	assert_int_equal(pk.family, 0);
	assert_int_equal(d->stats.n.ipv4_bad_version, 1);
}

static void ipv4_hlen_too_small(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	struct hl_packet pk;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		udp_packet(&p);
		p.b[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk),
		                 HL_DECODE_IPV4_HLEN_TOO_SMALL);
	}
	assert_int_equal(d->stats.n.ipv4_hlen_too_small, 5);
}

static void ipv4_total_length_checks(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	struct hl_packet pk;
	udp_packet(&p);
	set16(&p, 2, 19); /* below the 20-byte header */
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV4_LEN_TOO_SMALL);
	udp_packet(&p);
	p.b[0] = 0x4f; /* 60-byte header in a 32-byte datagram */
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV4_LEN_TOO_SMALL);
	udp_packet(&p);
	set16(&p, 2, 33); /* one byte more than the frame holds */
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_IPV4_LEN_BEYOND_FRAME);
	assert_int_equal(d->stats.n.ipv4_len_too_small, 2);
	assert_int_equal(d->stats.n.ipv4_len_beyond_frame, 1);
	/* The same total length is fine when the frame was longer on the wire
	 * and only the capture stopped: the datagram is delivered as captured. */
	udp_packet(&p);
	set16(&p, 2, 40);
	set16(&p, 24, 20); /* UDP length to match */
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, p.n, 40, 0, &pk), HL_DECODE_OK);
	assert_int_equal(pk.l3_len, 32);
	assert_int_equal(pk.payload_len, 4);
	assert_int_equal(pk.payload_wire_len, 12);
	assert_int_equal(pk.flags, HL_PKT_TRUNCATED);
}

static void ipv4_unknown_proto_whole_l4_is_payload(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv4(&p, 47, A4, B4, 0, 0); /* GRE */
	put32(&p, 0x00000800);
	putstr(&p, "inner");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.proto, 47);
	assert_ptr_equal(pk.l4, p.b + 20);
	assert_ptr_equal(pk.payload, p.b + 20);
	assert_int_equal(pk.payload_len, 9);
	assert_int_equal(pk.sport, 0);
}

static void ipv4_icmp_echo(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv4(&p, 1, A4, B4, 0, 0);
	put8(&p, 8);
	put8(&p, 0);
	put16(&p, 0);
	put16(&p, 0x4242);
	put16(&p, 7);
	putstr(&p, "ping");
	pkt_fix(&p);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.icmp_type, 8);
	assert_int_equal(pk.icmp_code, 0);
	assert_int_equal(pk.icmp_id, 0x4242);
	assert_int_equal(pk.icmp_seq, 7);
	assert_memory_equal(pk.payload, "ping", 4);

	/* Destination unreachable: no id/seq. */
	p.b[20] = 3;
	p.b[21] = 1;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.icmp_type, 3);
	assert_int_equal(pk.icmp_code, 1);
	assert_int_equal(pk.icmp_id, 0);

	/* 7 bytes of ICMP on the wire; then 8 on the wire but 6 captured. */
	set16(&p, 2, 27);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 27, 27, 0, &pk), HL_DECODE_ICMP_TOO_SHORT);
	pkt_fix(&p);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 26, p.n, 0, &pk), HL_DECODE_ICMP_TRUNCATED);
	assert_int_equal(d->stats.n.icmp_too_short, 1);
	assert_int_equal(d->stats.n.icmp_truncated, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(ipv4_fields, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_bad_checksum_still_decoded, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_options_skipped, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_too_short_vs_truncated, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_bad_version, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_hlen_too_small, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_total_length_checks, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv4_unknown_proto_whole_l4_is_payload, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(ipv4_icmp_echo, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
