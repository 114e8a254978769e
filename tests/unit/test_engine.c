/* \summary: unit tests for the engine: frames handed to workers by reference
 * from the capture's block pool come out the same for any block size and
 * any number of workers, and the same as copied frames (pcapng) between */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "hotline/setload.h"
#include "output.h"

#define FIXTURES HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/"

struct outcome {
	uint64_t packets, decoded, sightings, input_errors, file_errors;
	char *lines; /* every record, sorted, one per line */
};

static hl_matcher_t *load(const char *path)
{
	struct hl_setload_opts so;
	hl_setload_opts_init(&so);
	struct hl_diag diag = {0};
	hl_matcher_t *m = NULL;
	const char *paths[] = {path};
	assert_int_equal(hl_set_load(paths, 1, &so, &m, NULL, &diag), 0);
	return m;
}

static void run(const char *const *files, size_t n_files, unsigned workers, size_t block_bytes,
                unsigned blocks, const hl_matcher_t *m, struct outcome *o)
{
	int err = 0;
	hl_output_t *out = hl_output_open("/dev/null", true, true, &err);
	assert_non_null(out);
	struct hl_engine_config ec;
	hl_engine_config_init(&ec);
	ec.capture.files = files;
	ec.capture.n_files = n_files;
	ec.capture.block_bytes = block_bytes;
	ec.capture.blocks = blocks;
	ec.worker.matcher = m;
	ec.worker.outputs = &out;
	ec.worker.n_outputs = 1;
	ec.worker.sensor_name = "engine";
	ec.workers = workers;
	ec.outputs = &out;
	ec.n_outputs = 1;
	FILE *log = fopen("/dev/null", "w");
	assert_non_null(log);
	struct hl_engine_result res;
	assert_int_equal(hl_engine_run(&ec, &res, log), 0);
	fclose(log);
	assert_int_equal(hl_output_finish(out), 0);
	const char *const *lines;
	size_t n = hl_output_lines(out, &lines), len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	o->lines = malloc(len);
	assert_non_null(o->lines);
	o->lines[0] = '\0';
	for (size_t i = 0, at = 0; i < n; i++) {
		size_t l = strlen(lines[i]);
		memcpy(o->lines + at, lines[i], l);
		o->lines[at + l] = '\n';
		at += l + 1;
		o->lines[at] = '\0';
	}
	o->packets = res.total.packets;
	o->decoded = res.total.decoded;
	o->sightings = res.total.sightings;
	o->input_errors = res.input_errors;
	o->file_errors = res.capture.file_errors;
	hl_output_close(&out);
}

static void same_for_any_blocks_and_workers(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob(FIXTURES "*.pcap", 0, NULL, &g), 0);
	/* every classic file, with a pcapng (copied frames) in the middle */
	const char **files = calloc(g.gl_pathc + 1, sizeof *files);
	assert_non_null(files);
	size_t n = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		files[n++] = g.gl_pathv[i];
		if (i == g.gl_pathc / 2)
			files[n++] = FIXTURES "dns_udp_query.pcapng";
	}
	hl_matcher_t *m = load(FIXTURES "indicators.jsonl");
	struct outcome want;
	run(files, n, 1, 0, 0, m, &want);
	assert_true(want.packets > 150);
	assert_true(want.sightings > 10);
	assert_int_equal(want.input_errors, 0);

	static const struct {
		unsigned workers;
		size_t block_bytes;
		unsigned blocks;
	} cases[] = {{1, 100, 2}, {3, 100, 2}, {2, 0, 0}, {3, 3000, 3}, {2, 1, 5}};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct outcome got;
		run(files, n, cases[c].workers, cases[c].block_bytes, cases[c].blocks, m, &got);
		if (got.packets != want.packets || got.decoded != want.decoded ||
		    got.sightings != want.sightings || got.input_errors != want.input_errors ||
		    strcmp(got.lines, want.lines) != 0)
			fail_msg(
			        "case %zu: packets %llu/%llu decoded %llu/%llu sightings %llu/%llu "
			        "errors %llu/%llu, records %s",
			        c, (unsigned long long)got.packets,
			        (unsigned long long)want.packets, (unsigned long long)got.decoded,
			        (unsigned long long)want.decoded, (unsigned long long)got.sightings,
			        (unsigned long long)want.sightings,
			        (unsigned long long)got.input_errors,
			        (unsigned long long)want.input_errors,
			        strcmp(got.lines, want.lines) == 0 ? "same" : "differ");
		free(got.lines);
	}
	free(want.lines);
	hl_matcher_destroy(&m);
	free(files);
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(same_for_any_blocks_and_workers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
