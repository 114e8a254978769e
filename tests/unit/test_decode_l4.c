/* \summary: unit tests for TCP and UDP headers, lengths and snap-length truncation */
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

/* Ethernet + IPv4 + TCP with the given data offset (words), 4 option bytes
 * per word beyond 5, and a payload. TCP starts at 34. */
static void tcp_packet(struct pkt *p, unsigned doff, const char *payload)
{
	pkt_init(p);
	pkt_eth(p, 0x0800);
	pkt_ipv4(p, 6, A4, B4, 0, 0);
	pkt_tcp(p, 40000, 80, 1000, 2000, 0x18);
	p->b[34 + 12] = (uint8_t)(doff << 4);
	for (unsigned i = 5; i < doff; i++)
		put32(p, 0x01010101); /* NOPs */
	putstr(p, payload);
	pkt_fix(p);
}

static void tcp_options_and_payload(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	tcp_packet(&p, 8, "GET / HTTP/1.1\r\n");
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_OK);
	assert_ptr_equal(pk.l4, p.b + 34);
	assert_ptr_equal(pk.payload, p.b + 34 + 32);
	assert_int_equal(pk.payload_len, 16);
	assert_int_equal(pk.payload_wire_len, 16);
	assert_memory_equal(pk.payload, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(pk.tcp_seq, 1000);
	assert_int_equal(pk.tcp_ack, 2000);
}

static void tcp_data_offset_invalid(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	struct hl_packet pk;
	for (unsigned doff = 0; doff < 5; doff++) {
		tcp_packet(&p, 5, "x");
		p.b[34 + 12] = (uint8_t)(doff << 4);
		assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk),
		                 HL_DECODE_TCP_HLEN_INVALID);
	}
	/* 15 words = 60 bytes in a 21-byte segment. */
	tcp_packet(&p, 5, "x");
	p.b[34 + 12] = 0xf0;
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_TCP_HLEN_INVALID);
	assert_int_equal(d->stats.n.tcp_hlen_invalid, 6);
	/* The L3 part is still there for a caller who wants it. */
	assert_int_equal(pk.family, 4);
	assert_memory_equal(pk.src, A4, 4);
	assert_int_equal(pk.sport, 0);
}

static void tcp_too_short_and_truncated(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	struct hl_packet pk;
	tcp_packet(&p, 5, "");
	/* IPv4 total length leaves 19 bytes for TCP. */
	set16(&p, 16, 20 + 19);
	assert_int_equal(pkt_decode(d, HL_LINK_ETHERNET, &p, &pk), HL_DECODE_TCP_TOO_SHORT);
	/* Header complete on the wire, cut by the capture at 10 bytes. */
	tcp_packet(&p, 5, "payload");
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, 44, p.n, 0, &pk),
	                 HL_DECODE_TCP_TRUNCATED);
	assert_int_equal(pk.family, 4);
	/* Options cut by the capture. */
	tcp_packet(&p, 10, "");
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, 34 + 30, p.n, 0, &pk),
	                 HL_DECODE_TCP_TRUNCATED);
	assert_int_equal(d->stats.n.tcp_too_short, 1);
	assert_int_equal(d->stats.n.tcp_truncated, 2);
	assert_int_equal(hl_decode_reason_kind(HL_DECODE_TCP_TRUNCATED), HL_DECODE_KIND_TRUNCATED);
}

static void tcp_payload_truncated_by_snaplen(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	tcp_packet(&p, 5, "0123456789abcdef");
	struct hl_packet pk;
	/* Snap length 64: 10 of the 16 payload bytes captured. */
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, 64, p.n, 5, &pk), HL_DECODE_OK);
	assert_int_equal(pk.caplen, 64);
	assert_int_equal(pk.wirelen, 70);
	assert_int_equal(pk.l3_len, 50);
	assert_int_equal(pk.payload_len, 10);
	assert_int_equal(pk.payload_wire_len, 16);
	assert_memory_equal(pk.payload, "0123456789", 10);
	assert_int_equal(pk.flags, HL_PKT_TRUNCATED);
	assert_int_equal(d->stats.n.payload_truncated, 1);
	assert_int_equal(d->stats.n.ok, 1);
	/* Header exactly captured, no payload bytes. */
	assert_int_equal(hl_decode(d, HL_LINK_ETHERNET, p.b, 54, p.n, 5, &pk), HL_DECODE_OK);
	assert_int_equal(pk.payload_len, 0);
	assert_int_equal(pk.payload_wire_len, 16);
	assert_int_equal(pk.flags, HL_PKT_TRUNCATED);
}

/* Raw IPv4 + UDP; UDP starts at 20. */
static void udp_packet(struct pkt *p, const char *payload)
{
	pkt_init(p);
	pkt_ipv4(p, 17, A4, B4, 0, 0);
	pkt_udp(p, 53, 33333);
	putstr(p, payload);
	pkt_fix(p);
}

static void udp_fields(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	udp_packet(&p, "answer");
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.sport, 53);
	assert_int_equal(pk.dport, 33333);
	assert_ptr_equal(pk.payload, p.b + 28);
	assert_int_equal(pk.payload_len, 6);
	assert_int_equal(pk.tcp_flags, 0);
}

static void udp_length_invalid(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	struct hl_packet pk;
	for (unsigned ulen = 0; ulen < 8; ulen++) {
		udp_packet(&p, "abc");
		set16(&p, 24, ulen);
		assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_UDP_LEN_INVALID);
	}
	udp_packet(&p, "abc");
	set16(&p, 24, 12); /* 11 available */
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_UDP_LEN_INVALID);
	assert_int_equal(d->stats.n.udp_len_invalid, 9);
}

static void udp_length_shorter_trims(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	udp_packet(&p, "abcdef");
	set16(&p, 24, 10);
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.payload_len, 2);
	assert_int_equal(pk.payload_wire_len, 2);
	assert_memory_equal(pk.payload, "ab", 2);
	assert_int_equal(pk.flags, 0);
}

static void udp_too_short_and_truncated(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	struct hl_packet pk;
	udp_packet(&p, "");
	set16(&p, 2, 27);
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 27, 27, 0, &pk), HL_DECODE_UDP_TOO_SHORT);
	udp_packet(&p, "abcdef");
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 25, p.n, 0, &pk), HL_DECODE_UDP_TRUNCATED);
	/* Payload cut: delivered as captured. */
	assert_int_equal(hl_decode(d, HL_LINK_RAW, p.b, 30, p.n, 0, &pk), HL_DECODE_OK);
	assert_int_equal(pk.payload_len, 2);
	assert_int_equal(pk.payload_wire_len, 6);
	assert_int_equal(pk.flags, HL_PKT_TRUNCATED);
	assert_int_equal(d->stats.n.udp_too_short, 1);
	assert_int_equal(d->stats.n.udp_truncated, 1);
}

static void ipv6_udp_len_checked_against_payload_length(void **state)
{
	struct hl_decoder *d = *state;
	struct pkt p;
	pkt_init(&p);
	pkt_ipv6(&p, 17, A6, B6);
	pkt_udp(&p, 1, 2);
	putstr(&p, "zz");
	pkt_fix(&p);
	put16(&p, 0); /* trailing bytes beyond the payload length */
	struct hl_packet pk;
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_OK);
	assert_int_equal(pk.payload_len, 2);
	set16(&p, 44, 12);
	assert_int_equal(pkt_decode(d, HL_LINK_RAW, &p, &pk), HL_DECODE_UDP_LEN_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(tcp_options_and_payload, setup, teardown),
	        cmocka_unit_test_setup_teardown(tcp_data_offset_invalid, setup, teardown),
	        cmocka_unit_test_setup_teardown(tcp_too_short_and_truncated, setup, teardown),
	        cmocka_unit_test_setup_teardown(tcp_payload_truncated_by_snaplen, setup, teardown),
	        cmocka_unit_test_setup_teardown(udp_fields, setup, teardown),
	        cmocka_unit_test_setup_teardown(udp_length_invalid, setup, teardown),
	        cmocka_unit_test_setup_teardown(udp_length_shorter_trims, setup, teardown),
	        cmocka_unit_test_setup_teardown(udp_too_short_and_truncated, setup, teardown),
	        cmocka_unit_test_setup_teardown(ipv6_udp_len_checked_against_payload_length, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
