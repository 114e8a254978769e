/* \summary: unit tests for RFC 3339 parsing and formatting */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/timefmt.h"

static void parses_known_instants(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t us;
	} cases[] = {
	        {"1970-01-01T00:00:00Z", 0},
	        {"2016-05-11T10:00:00Z", INT64_C(1462960800000000)},
	        {"2016-05-11t10:00:00z", INT64_C(1462960800000000)},
	        {"2016-05-11 10:00:00Z", INT64_C(1462960800000000)},
	        {"2016-05-11", INT64_C(1462924800000000)},
	        {"2016-05-11T10:00:00.123Z", INT64_C(1462960800123000)},
	        {"2016-05-11T10:00:00.123456789Z", INT64_C(1462960800123456)},
	        {"2016-05-11T12:00:00+02:00", INT64_C(1462960800000000)},
	        {"2016-05-11T05:30:00-04:30", INT64_C(1462960800000000)},
	        {"2000-02-29T00:00:00Z", INT64_C(951782400000000)},
	        {"1969-12-31T23:59:59Z", INT64_C(-1000000)},
	        {"2016-12-31T23:59:60Z", INT64_C(1483228800000000)},
	        {"9999-12-31T23:59:59Z", INT64_C(253402300799000000)},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t us = 42;
		if (hl_time_parse(cases[i].in, &us) != 0)
			print_error("rejected %s\n", cases[i].in);
		assert_int_equal(hl_time_parse(cases[i].in, &us), 0);
		assert_int_equal(us, cases[i].us);
	}
}

static void rejects_bad_input(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "2016",
	        "2016-5-11",
	        "2016-13-01",
	        "2016-00-10",
	        "2016-02-30",
	        "2015-02-29",
	        "1900-02-29",
	        "2016-04-31",
	        "2016-05-00",
	        "2016-05-11T24:00:00Z",
	        "2016-05-11T10:60:00Z",
	        "2016-05-11T10:00:61Z",
	        "2016-05-11T10:00:00",
	        "2016-05-11T10:00Z",
	        "2016-05-11T",
	        "2016-05-11T10:00:00.Z",
	        "2016-05-11T10:00:00.1234567890Z",
	        "2016-05-11T10:00:00+0200",
	        "2016-05-11T10:00:00+24:00",
	        "2016-05-11T10:00:00+02:60",
	        "2016-05-11T10:00:00Zjunk",
	        "2016-05-11junk",
	        " 2016-05-11",
	        "2016-05-11T10:00:00UTC",
	        "yesterday",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t us = 42;
		if (hl_time_parse(bad[i], &us) != HL_EINVAL)
			print_error("accepted \"%s\"\n", bad[i]);
		assert_int_equal(hl_time_parse(bad[i], &us), HL_EINVAL);
		assert_int_equal(us, 42);
	}
	int64_t us;
	assert_int_equal(hl_time_parse(NULL, &us), HL_EINVAL);
}

static void formats_and_round_trips(void **state)
{
	(void)state;
	char buf[HL_TIME_ISO_MAX];
	assert_int_equal(hl_time_format(INT64_C(1462960800123456), buf, sizeof buf), 0);
	assert_string_equal(buf, "2016-05-11T10:00:00.123456Z");
	assert_int_equal(hl_time_format(0, buf, sizeof buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	assert_int_equal(hl_time_format(-1, buf, sizeof buf), 0);
	assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");

	/* Deterministic walk over four centuries in odd steps. */
	int64_t step = INT64_C(86400000000) * 37 + INT64_C(3723000001);
	for (int64_t us = -INT64_C(12219292800000000); us < INT64_C(253402300799000000);
	     us += step) {
		int64_t back;
		assert_int_equal(hl_time_format(us, buf, sizeof buf), 0);
		assert_int_equal(hl_time_parse(buf, &back), 0);
		assert_int_equal(back, us);
	}

	assert_int_equal(hl_time_format(INT64_C(253402300800000000), buf, sizeof buf), HL_ERANGE);
	assert_int_equal(hl_time_format(INT64_MIN, buf, sizeof buf), HL_ERANGE);
	char small[10];
	assert_int_equal(hl_time_format(0, small, sizeof small), HL_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(parses_known_instants),
	        cmocka_unit_test(rejects_bad_input),
	        cmocka_unit_test(formats_and_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
