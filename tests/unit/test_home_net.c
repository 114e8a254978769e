/* \summary: unit tests for the --home-net list */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "home_net.h"

static const uint8_t v4_doc[4] = {192, 0, 2, 77};
static const uint8_t v4_other[4] = {198, 51, 100, 1};
static const uint8_t v6_doc[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_other[16] = {0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_mapped_doc[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 77};

static void parses_a_mixed_list(void **state)
{
	(void)state;
	char err[256] = "x";
	hl_home_net_t *h =
	        hl_home_net_parse(" 192.0.2.0/24 ,2001:db8::/32,\t10.1.2.3", err, sizeof err);
	assert_non_null(h);
	assert_string_equal(err, "");
	assert_int_equal(hl_home_net_count(h), 3);
	const struct hl_cidr *c = hl_home_net_get(h, 2);
	assert_non_null(c);
	assert_int_equal(c->family, 4);
	assert_int_equal(c->plen, 32);
	assert_memory_equal(c->addr, ((uint8_t[]){10, 1, 2, 3}), 4);
	assert_null(hl_home_net_get(h, 3));

	assert_true(hl_home_net_contains(h, 4, v4_doc));
	assert_false(hl_home_net_contains(h, 4, v4_other));
	assert_true(hl_home_net_contains(h, 6, v6_doc));
	assert_false(hl_home_net_contains(h, 6, v6_other));
	assert_true(hl_home_net_contains(h, 4, (uint8_t[]){10, 1, 2, 3}));
	assert_false(hl_home_net_contains(h, 4, (uint8_t[]){10, 1, 2, 4}));
	/* An IPv4-mapped IPv6 address is its IPv4 address. */
	assert_true(hl_home_net_contains(h, 6, v6_mapped_doc));
	/* A family that is neither is in nothing. */
	assert_false(hl_home_net_contains(h, 5, v4_doc));
	hl_home_net_destroy(&h);
	assert_null(h);
	hl_home_net_destroy(&h);
	hl_home_net_destroy(NULL);
}

static void null_list_contains_nothing(void **state)
{
	(void)state;
	assert_false(hl_home_net_contains(NULL, 4, v4_doc));
	assert_int_equal(hl_home_net_count(NULL), 0);
	assert_null(hl_home_net_get(NULL, 0));
}

static void zero_length_prefix_holds_the_family(void **state)
{
	(void)state;
	hl_home_net_t *h = hl_home_net_parse("0.0.0.0/0", NULL, 0);
	assert_non_null(h);
	assert_true(hl_home_net_contains(h, 4, v4_other));
	assert_true(hl_home_net_contains(h, 6, v6_mapped_doc));
	assert_false(hl_home_net_contains(h, 6, v6_doc));
	hl_home_net_destroy(&h);
}

static void mapped_ipv6_network_is_ipv4(void **state)
{
	(void)state;
	hl_home_net_t *h = hl_home_net_parse("::ffff:192.0.2.0/120", NULL, 0);
	assert_non_null(h);
	assert_int_equal(hl_home_net_get(h, 0)->family, 4);
	assert_int_equal(hl_home_net_get(h, 0)->plen, 24);
	assert_true(hl_home_net_contains(h, 4, v4_doc));
	assert_true(hl_home_net_contains(h, 6, v6_mapped_doc));
	hl_home_net_destroy(&h);
}

static void expect_error(const char *list, const char *want)
{
	char err[256] = "";
	hl_home_net_t *h = hl_home_net_parse(list, err, sizeof err);
	if (h != NULL || strcmp(err, want) != 0)
		print_error("list \"%s\": got \"%s\", want \"%s\"\n", list, err, want);
	assert_null(h);
	assert_string_equal(err, want);
}

static void bad_elements_are_named(void **state)
{
	(void)state;
	expect_error("192.0.2.0/24,10.0.0.0/33",
	             "--home-net element 2 \"10.0.0.0/33\": IPv4 prefix length over 32");
	expect_error("192.0.2.1/24", "--home-net element 1 \"192.0.2.1/24\": host bits set "
	                             "beyond the prefix length");
	expect_error("example.org", "--home-net element 1 \"example.org\": not an IPv4 or IPv6 "
	                            "address");
	expect_error("192.0.2.0/24,,10.0.0.0/8", "--home-net element 2 \"\": empty element");
	expect_error("192.0.2.0/24,", "--home-net element 2 \"\": empty element");
	expect_error("", "--home-net element 1 \"\": empty element");
	expect_error(" ", "--home-net element 1 \"\": empty element");
	expect_error("2001:db8::/129",
	             "--home-net element 1 \"2001:db8::/129\": IPv6 prefix length over 128");
	expect_error("10.0.0.0/x", "--home-net element 1 \"10.0.0.0/x\": bad prefix length");
	expect_error("10.0.0.0 /8", "--home-net element 1 \"10.0.0.0 /8\": not an IPv4 or IPv6 "
	                            "address");
}

static void long_element_is_cut_in_the_message(void **state)
{
	(void)state;
	char list[300];
	memset(list, 'a', sizeof list - 1);
	list[sizeof list - 1] = '\0';
	char err[256] = "";
	assert_null(hl_home_net_parse(list, err, sizeof err));
	char want[256];
	snprintf(want, sizeof want, "--home-net element 1 \"%.64s...\": %s", list,
	         "too long for an address/length");
	assert_string_equal(err, want);
	/* A small error buffer truncates, never overflows. */
	char small[8];
	assert_null(hl_home_net_parse(list, small, sizeof small));
	assert_string_equal(small, "--home-");
	assert_null(hl_home_net_parse(NULL, small, sizeof small));
}

static void too_many_elements(void **state)
{
	(void)state;
	size_t n = HL_HOME_NET_MAX + 1;
	char *list = malloc(n * 2);
	assert_non_null(list);
	for (size_t i = 0; i < n; i++) {
		list[2 * i] = '1';
		list[2 * i + 1] = ',';
	}
	list[2 * n - 1] = '\0';
	char err[128] = "";
	assert_null(hl_home_net_parse(list, err, sizeof err));
	assert_string_equal(err, "--home-net: 1025 elements, at most 1024");
	/* One fewer is fine as far as the count goes ("1" is not an address, though). */
	list[2 * (n - 1) - 1] = '\0';
	assert_null(hl_home_net_parse(list, err, sizeof err));
	assert_string_equal(err, "--home-net element 1 \"1\": not an IPv4 or IPv6 address");
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(parses_a_mixed_list),
	        cmocka_unit_test(null_list_contains_nothing),
	        cmocka_unit_test(zero_length_prefix_holds_the_family),
	        cmocka_unit_test(mapped_ipv6_network_is_ipv4),
	        cmocka_unit_test(bad_elements_are_named),
	        cmocka_unit_test(long_element_is_cut_in_the_message),
	        cmocka_unit_test(too_many_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
