/* \summary: unit tests for CIDR parsing, formatting and containment */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"

static void parses_and_formats(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int family;
		unsigned plen;
		const char *out; /* hl_cidr_format */
	} cases[] = {
	        {"1.2.3.4", 4, 32, "1.2.3.4/32"},
	        {"1.2.3.4/32", 4, 32, "1.2.3.4/32"},
	        {"0.0.0.0/0", 4, 0, "0.0.0.0/0"},
	        {"10.0.0.0/8", 4, 8, "10.0.0.0/8"},
	        {"255.255.255.255", 4, 32, "255.255.255.255/32"},
	        {"::/0", 6, 0, "::/0"},
	        {"::1", 6, 128, "::1/128"},
	        {"2001:DB8::/32", 6, 32, "2001:db8::/32"},
	        {"2001:db8:0:0:0:0:0:1/128", 6, 128, "2001:db8::1/128"},
	        {"::ffff:1.2.3.4", 4, 32, "1.2.3.4/32"},
	        {"::ffff:10.0.0.0/104", 4, 8, "10.0.0.0/8"},
	        {"::ffff:0:0/96", 4, 0, "0.0.0.0/0"},
	        {"::fffe:0:0/95", 6, 95, "::fffe:0:0/95"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl_cidr c;
		char why[128] = "", buf[HL_IP_STR_MAX];
		int rc = hl_cidr_parse(cases[i].in, &c, why, sizeof why);
		if (rc != 0)
			print_error("%s: %s\n", cases[i].in, why);
		assert_int_equal(rc, 0);
		assert_int_equal(c.family, cases[i].family);
		assert_int_equal(c.plen, cases[i].plen);
		assert_int_equal(hl_cidr_format(&c, buf, sizeof buf), 0);
		assert_string_equal(buf, cases[i].out);
	}
}

static void rejects_garbage(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *reason;
	} cases[] = {
	        {"", "empty"},
	        {"1.2.3.4/33", "over 32"},
	        {"::/129", "over 128"},
	        {"10.0.0.1/8", "host bits"},
	        {"2001:db8::1/32", "host bits"},
	        {"::ffff:0:1/95", "host bits"},
	        {"1.2.3.4/", "prefix length"},
	        {"1.2.3.4/-1", "prefix length"},
	        {"1.2.3.4/0008", "prefix length"},
	        {"1.2.3.4/8x", "prefix length"},
	        {"1.2.3", "not an IPv4"},
	        {"256.1.1.1", "not an IPv4"},
	        {"01.2.3.4", "not an IPv4"},
	        {" 1.2.3.4", "not an IPv4"},
	        {"1.2.3.4 ", "not an IPv4"},
	        {"example.com", "not an IPv4"},
	        {"::1::2", "not an IPv4"},
	        {"[::1]", "not an IPv4"},
	        {"fe80::1%eth0", "not an IPv4"},
	        {"1111111111111111111111111111111111111111111111111111111111111111111", "too long"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl_cidr c;
		char why[128] = "";
		int rc = hl_cidr_parse(cases[i].in, &c, why, sizeof why);
		if (rc != HL_EINVAL || strstr(why, cases[i].reason) == NULL)
			print_error("\"%s\": rc %d why \"%s\"\n", cases[i].in, rc, why);
		assert_int_equal(rc, HL_EINVAL);
		assert_non_null(strstr(why, cases[i].reason));
	}
	struct hl_cidr c;
	assert_int_equal(hl_cidr_parse("nope", &c, NULL, 0), HL_EINVAL);
}

static void contains_on_prefix_edges(void **state)
{
	(void)state;
	struct hl_cidr net, all, host, v6;
	assert_int_equal(hl_cidr_parse("10.1.0.0/17", &net, NULL, 0), 0);
	assert_int_equal(hl_cidr_parse("0.0.0.0/0", &all, NULL, 0), 0);
	assert_int_equal(hl_cidr_parse("10.1.2.3", &host, NULL, 0), 0);
	assert_int_equal(hl_cidr_parse("2001:db8::/33", &v6, NULL, 0), 0);
	const uint8_t in[4] = {10, 1, 127, 255}, out[4] = {10, 1, 128, 0};
	const uint8_t exact[4] = {10, 1, 2, 3};
	assert_true(hl_cidr_contains(&net, 4, in));
	assert_false(hl_cidr_contains(&net, 4, out));
	assert_true(hl_cidr_contains(&all, 4, out));
	assert_true(hl_cidr_contains(&host, 4, exact));
	assert_false(hl_cidr_contains(&host, 4, in));
	uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x7f, 0xff};
	assert_true(hl_cidr_contains(&v6, 6, a6));
	a6[4] = 0x80;
	assert_false(hl_cidr_contains(&v6, 6, a6));
	assert_false(hl_cidr_contains(&v6, 4, in)); /* family mismatch */
	assert_false(hl_cidr_contains(&all, 6, a6));
}

static void address_format(void **state)
{
	(void)state;
	char buf[HL_IP_STR_MAX];
	const uint8_t v4[4] = {192, 0, 2, 1};
	assert_int_equal(hl_addr_format(4, v4, buf, sizeof buf), 0);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(hl_addr_format(5, v4, buf, sizeof buf), HL_EINVAL);
	struct hl_cidr c;
	assert_int_equal(hl_cidr_parse("2001:db8::/32", &c, NULL, 0), 0);
	char tiny[8];
	assert_int_equal(hl_cidr_format(&c, tiny, sizeof tiny), HL_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(parses_and_formats),
	        cmocka_unit_test(rejects_garbage),
	        cmocka_unit_test(contains_on_prefix_edges),
	        cmocka_unit_test(address_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
