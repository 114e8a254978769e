/* \summary: unit tests for HL_E* codes and hl_strerror */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"

static void codes_are_negative_and_distinct(void **state)
{
	(void)state;
	assert_true(HL_ENOMEM < 0);
	assert_true(HL_ESTATE < 0);
	assert_int_not_equal(HL_ENOMEM, HL_EINVAL);
}

static void every_code_has_a_message_and_name(void **state)
{
	(void)state;
	assert_string_equal(hl_strerror(HL_OK), "success");
	assert_string_equal(hl_strerror(HL_EINVAL), "invalid argument or input");
	assert_string_equal(hl_err_name(HL_EFORMAT), "HL_EFORMAT");
	assert_string_equal(hl_strerror(12345), "unknown error");
	assert_string_equal(hl_err_name(-1), "HL_EUNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(codes_are_negative_and_distinct),
	        cmocka_unit_test(every_code_has_a_message_and_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
