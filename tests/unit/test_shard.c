/* \summary: unit tests for frame sharding */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "packet.h"
#include "shard.h"

/* Ethernet + VLAN 100 + IPv4 header (no L4 needed). */
static size_t eth_vlan_ipv4(uint8_t *f, const uint8_t src[4], const uint8_t dst[4])
{
	memset(f, 0, 64);
	f[12] = 0x81;
	f[13] = 0x00;
	f[15] = 100;
	f[16] = 0x08;
	f[17] = 0x00;
	f[18] = 0x45;
	memcpy(f + 18 + 12, src, 4);
	memcpy(f + 18 + 16, dst, 4);
	return 18 + 20;
}

static void both_directions_and_fragments_share_a_worker(void **state)
{
	(void)state;
	uint8_t fwd[64], rev[64];
	const uint8_t a[4] = {192, 0, 2, 10}, b[4] = {198, 51, 100, 53};
	size_t n = eth_vlan_ipv4(fwd, a, b);
	eth_vlan_ipv4(rev, b, a);
	for (unsigned workers = 1; workers <= 8; workers++) {
		unsigned w = hl_shard_of(HL_LINK_ETHERNET, fwd, (uint32_t)n, 7, workers);
		assert_true(w < workers);
		assert_int_equal(w, hl_shard_of(HL_LINK_ETHERNET, rev, (uint32_t)n, 7, workers));
	}
	assert_int_equal(hl_shard_hash(HL_LINK_ETHERNET, fwd, (uint32_t)n, 1),
	                 hl_shard_hash(HL_LINK_ETHERNET, rev, (uint32_t)n, 1));
	/* the same IP packet seen raw hashes the same */
	assert_int_equal(hl_shard_hash(HL_LINK_RAW, fwd + 18, 20, 1),
	                 hl_shard_hash(HL_LINK_ETHERNET, fwd, (uint32_t)n, 1));
}

static void addresses_spread_over_workers(void **state)
{
	(void)state;
	unsigned hits[4] = {0};
	uint8_t f[64];
	for (unsigned i = 0; i < 4000; i++) {
		const uint8_t a[4] = {10, 0, (uint8_t)(i >> 8), (uint8_t)i};
		const uint8_t b[4] = {203, 0, 113, (uint8_t)(i % 7)};
		size_t n = eth_vlan_ipv4(f, a, b);
		hits[hl_shard_of(HL_LINK_ETHERNET, f, (uint32_t)n, 0, 4)]++;
	}
	for (unsigned w = 0; w < 4; w++)
		assert_true(hits[w] > 800 && hits[w] < 1200);
}

static void short_and_non_ip_frames_go_to_worker_zero(void **state)
{
	(void)state;
	uint8_t f[64] = {0};
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_int_equal(hl_shard_of(HL_LINK_ETHERNET, f, 60, 0, 4), 0);
	for (uint32_t len = 0; len < 38; len++) {
		const uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
		eth_vlan_ipv4(f, a, b);
		assert_int_equal(hl_shard_hash(HL_LINK_ETHERNET, f, len, 0), 0);
	}
	assert_int_equal(hl_shard_of(9999, f, 64, 0, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(both_directions_and_fragments_share_a_worker),
	        cmocka_unit_test(addresses_spread_over_workers),
	        cmocka_unit_test(short_and_non_ip_frames_go_to_worker_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
