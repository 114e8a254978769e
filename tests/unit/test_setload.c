/* \summary: unit tests for loading a matcher from files or a compiled set */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/setload.h"

#define FIXTURE HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/indicators.jsonl"

static void files_are_parsed_merged_and_compiled(void **state)
{
	(void)state;
	const char *paths[] = {FIXTURE, FIXTURE};
	struct hl_setload_opts opts;
	hl_setload_opts_init(&opts);
	struct hl_diag diag = {0};
	struct hl_compile_stats st;
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_set_load(paths, 2, &opts, &m, &st, &diag), 0);
	assert_non_null(m);
	assert_int_equal(diag.errors, 0);
	assert_int_equal(st.total, 13); /* the same file twice merges */
	assert_int_equal(hl_matcher_count(m), 13);
	hl_matcher_destroy(&m);

	/* judged as of 2020, the indicator that ended in 2015 is left out */
	opts.now = 1577836800LL * 1000000;
	assert_int_equal(hl_set_load(paths, 1, &opts, &m, &st, &diag), 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(hl_matcher_count(m), 12);
	hl_matcher_destroy(&m);
}

static void a_compiled_set_loads_alone(void **state)
{
	(void)state;
	char hlx[256];
	snprintf(hlx, sizeof hlx, "%s/hl-setload-%ld.hlx", HOTLINE_BINARY_DIR, (long)getpid());
	const char *paths[] = {FIXTURE};
	struct hl_setload_opts opts;
	hl_setload_opts_init(&opts);
	struct hl_diag diag = {0};
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_set_load(paths, 1, &opts, &m, NULL, &diag), 0);
	assert_int_equal(hl_matcher_save(m, hlx), 0);
	uint8_t want[HL_SHA256_LEN], got[HL_SHA256_LEN];
	hl_matcher_hash(m, want);
	hl_matcher_destroy(&m);

	const char *compiled[] = {hlx};
	struct hl_compile_stats st;
	assert_int_equal(hl_set_load(compiled, 1, &opts, &m, &st, &diag), 0);
	hl_matcher_hash(m, got);
	assert_memory_equal(want, got, sizeof want);
	assert_int_equal(st.compiled, 13);
	assert_int_equal(st.by_type[HL_IND_DOMAIN], 3);
	assert_int_equal(st.by_type[HL_IND_IP], 4);
	hl_matcher_destroy(&m);

	const char *mixed[] = {hlx, FIXTURE};
	assert_int_equal(hl_set_load(mixed, 2, &opts, &m, NULL, &diag), HL_EINVAL);
	assert_null(m);
	const char *allow[] = {FIXTURE};
	opts.allowlists = allow;
	opts.n_allowlists = 1;
	assert_int_equal(hl_set_load(compiled, 1, &opts, &m, NULL, &diag), HL_EINVAL);
	assert_int_equal(diag.errors, 2);
	unlink(hlx);
}

static void unreadable_file_fails_the_load(void **state)
{
	(void)state;
	const char *paths[] = {FIXTURE, "/nonexistent/set.jsonl"};
	struct hl_setload_opts opts;
	hl_setload_opts_init(&opts);
	struct hl_diag diag = {0};
	hl_matcher_t *m = NULL;
	assert_true(hl_set_load(paths, 2, &opts, &m, NULL, &diag) < 0);
	assert_null(m);
	assert_int_equal(diag.errors, 1);
	assert_int_equal(hl_set_load(paths, 0, &opts, &m, NULL, &diag), HL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(files_are_parsed_merged_and_compiled),
	        cmocka_unit_test(a_compiled_set_loads_alone),
	        cmocka_unit_test(unreadable_file_fails_the_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
