/* \summary: unit tests for hl_name_normalise */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/indicator.h"

static void normalises_names(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	        {"Example.COM", "example.com"},
	        {"example.com.", "example.com"},
	        {"example.com:8080", "example.com"},
	        {"EXAMPLE.com.:80", "example.com"},
	        {"[2001:DB8::1]", "2001:db8::1"},
	        {"[::1]:8443", "::1"},
	        {"2001:db8::1", "2001:db8::1"},
	        {"1.2.3.4:80", "1.2.3.4"},
	        {"a", "a"},
	        {".", ""},
	        {"", ""},
	        {":80", ""},
	        {"[", "["},
	        {"ÄB.example", "Äb.example"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[64];
		size_t n = strlen(cases[i].in);
		memcpy(buf, cases[i].in, n + 1);
		size_t got = hl_name_normalise(buf, n);
		if (got != strlen(cases[i].out) || memcmp(buf, cases[i].out, got) != 0)
			print_error("\"%s\" -> \"%.*s\"\n", cases[i].in, (int)got, buf);
		assert_int_equal(got, strlen(cases[i].out));
		assert_memory_equal(buf, cases[i].out, got);
		assert_int_equal(buf[got], '\0');
	}
}

/* Names from packets are not terminated: nothing past len is touched. */
static void stays_inside_the_buffer(void **state)
{
	(void)state;
	char buf[16] = "Host.EXAMPLEzzz";
	assert_int_equal(hl_name_normalise(buf, 12), 12);
	assert_memory_equal(buf, "host.examplezzz", 16);
	char dot[8] = "a.b.XXX";
	assert_int_equal(hl_name_normalise(dot, 4), 3);
	assert_memory_equal(dot, "a.b\0XXX", 8);
	assert_int_equal(hl_name_normalise(dot, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(normalises_names),
	        cmocka_unit_test(stays_inside_the_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
