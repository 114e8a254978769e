/* \summary: unit tests for the file side of capture (live needs privileges) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture.h"
#include "hotline/err.h"

#define PCAPS HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/"

static int count_frames(hl_capture_t *cap, int64_t *first_ts, char *err, size_t errlen,
                        int *last_rc)
{
	struct hl_frame f;
	int n = 0, rc;
	while ((rc = hl_capture_next(cap, &f, err, errlen)) == 1) {
		if (n == 0 && first_ts != NULL)
			*first_ts = f.ts;
		assert_true(f.caplen <= f.wirelen);
		n++;
	}
	*last_rc = rc;
	return n;
}

static void reads_pcap_and_pcapng_in_order(void **state)
{
	(void)state;
	const char *files[] = {PCAPS "dns_udp_query.pcap", PCAPS "dns_udp_query.pcapng"};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = files;
	cfg.n_files = 2;
	char err[256] = "";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	int64_t first = 0;
	int rc;
	int n = count_frames(cap, &first, err, sizeof err, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 4); /* query + response, twice */
	assert_true(first == 1462960800000000LL);
	struct hl_capture_stats st;
	hl_capture_stats(cap, &st);
	assert_int_equal(st.packets, 4);
	assert_int_equal(st.bytes_read, st.bytes_total);
	hl_capture_close(&cap);
	assert_null(cap);
}

static void truncated_file_names_file_and_packet_and_goes_on(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "%s/hl-trunc-%ld.pcap", HOTLINE_BINARY_DIR, (long)getpid());
	FILE *in = fopen(PCAPS "dns_udp_query.pcap", "rb");
	FILE *out = fopen(path, "wb");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, in);
	fclose(in);
	/* global header (24) + first record complete, second cut in half */
	size_t first_len = 16 + (size_t)(uint8_t)buf[24 + 8] + ((size_t)(uint8_t)buf[24 + 9] << 8);
	size_t keep = 24 + first_len + 20;
	assert_true(keep < n);
	fwrite(buf, 1, keep, out);
	fclose(out);

	const char *files[] = {path, PCAPS "dns_udp_query.pcap"};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = files;
	cfg.n_files = 2;
	char err[256] = "";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	int rc;
	assert_int_equal(count_frames(cap, NULL, err, sizeof err, &rc), 1);
	assert_int_equal(rc, HL_EFORMAT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": packet 2: "));
	assert_int_equal(count_frames(cap, NULL, err, sizeof err, &rc), 2);
	assert_int_equal(rc, 0);
	struct hl_capture_stats st;
	hl_capture_stats(cap, &st);
	assert_int_equal(st.file_errors, 1);
	hl_capture_close(&cap);
	unlink(path);
}

static void missing_file_and_bad_filter_are_errors(void **state)
{
	(void)state;
	const char *missing[] = {"/nonexistent/x.pcap"};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = missing;
	cfg.n_files = 1;
	char err[256] = "";
	assert_null(hl_capture_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/x.pcap: cannot read"));

	const char *files[] = {PCAPS "dns_udp_query.pcap"};
	cfg.files = files;
	cfg.bpf = "port and and";
	assert_null(hl_capture_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "bad BPF filter"));

	cfg.bpf = "udp and dst port 53";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	int rc;
	assert_int_equal(count_frames(cap, NULL, err, sizeof err, &rc), 1);
	hl_capture_close(&cap);

	hl_capture_config_init(&cfg);
	assert_null(hl_capture_open(&cfg, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(reads_pcap_and_pcapng_in_order),
	        cmocka_unit_test(truncated_file_names_file_and_packet_and_goes_on),
	        cmocka_unit_test(missing_file_and_bad_filter_are_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
