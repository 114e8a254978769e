/* \summary: unit tests for sighting JSON records, outputs and --expect */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "expect.h"
#include "hotline/err.h"
#include "output.h"
#include "sighting.h"

static struct hl_indicator make_indicator(void)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = "evil.example";
	ind.id = "fx-domain-evil";
	static char *sources[] = {"bravo"};
	ind.sources.v = sources;
	ind.sources.n = 1;
	return ind;
}

static struct hl_sighting make_sighting(const struct hl_indicator *ind)
{
	struct hl_sighting s = {0};
	s.first_seen = 1462960800123456;
	s.last_seen = 1462960801000000;
	s.count = 2;
	s.indicator = ind;
	s.field = HL_FIELD_DNS_QUERY;
	s.value = "www.evil.example";
	s.value_len = strlen(s.value);
	s.flow.family = 4;
	s.flow.proto = 17;
	memcpy(s.flow.src, (uint8_t[]){192, 0, 2, 10}, 4);
	memcpy(s.flow.dst, (uint8_t[]){198, 51, 100, 53}, 4);
	s.flow.sport = 40000;
	s.flow.dport = 53;
	return s;
}

static void record_has_the_documented_shape(void **state)
{
	(void)state;
	struct hl_indicator ind = make_indicator();
	struct hl_sighting s = make_sighting(&ind);
	s.flow.vlan[0] = 100;
	s.flow.vlan_count = 1;
	char *line = hl_sighting_to_json(&s, "s1");
	assert_non_null(line);
	assert_string_equal(
	        line,
	        "{\"count\":2,\"final\":false,\"first_seen\":\"2016-05-11T10:00:00.123456Z\","
	        "\"flow\":{\"dst_ip\":\"198.51.100.53\",\"dst_port\":53,\"proto\":\"udp\","
	        "\"src_ip\":\"192.0.2.10\",\"src_port\":40000,\"vlan\":[100]},"
	        "\"indicator\":{\"id\":\"fx-domain-evil\",\"source\":\"bravo\",\"tlp\":\"amber\","
	        "\"type\":\"domain\",\"value\":\"evil.example\"},"
	        "\"last_seen\":\"2016-05-11T10:00:01.000000Z\","
	        "\"match\":{\"field\":\"dns.query\",\"value\":\"www.evil.example\"},"
	        "\"sensor\":\"s1\"}");
	free(line);
}

static void hostile_observed_values_are_escaped_not_dropped(void **state)
{
	(void)state;
	struct hl_indicator ind = make_indicator();
	struct hl_sighting s = make_sighting(&ind);
	static const char hostile[] = "a\"b\\c\n\x01\xff\xfe.evil.example";
	s.value = hostile;
	s.value_len = sizeof hostile - 1;
	char *line = hl_sighting_to_json(&s, NULL);
	assert_non_null(line);
	assert_non_null(
	        strstr(line, "\"value\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xef\xbf\xbd.evil"));
	assert_null(strstr(line, "\"sensor\""));
	free(line);
}

static void payload_match_reports_indicator_value_and_offset(void **state)
{
	(void)state;
	struct hl_indicator ind = make_indicator();
	ind.type = HL_IND_CONTENT;
	ind.value = "|de ad be ef|";
	struct hl_sighting s = make_sighting(&ind);
	s.field = HL_FIELD_TCP_PAYLOAD;
	s.value = NULL;
	s.has_offset = true;
	s.offset = 1462;
	s.flow.family = 6;
	s.flow.proto = 6;
	memset(s.flow.src, 0, 16);
	s.flow.src[0] = 0x20;
	s.flow.src[1] = 0x01;
	s.flow.src[15] = 1;
	char *line = hl_sighting_to_json(&s, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"match\":{\"field\":\"tcp.payload\",\"offset\":1462,"
	                             "\"value\":\"|de ad be ef|\"}"));
	assert_non_null(strstr(line, "\"proto\":\"tcp\",\"src_ip\":\"2001::1\""));
	free(line);
}

static void enrichment_and_evidence_appear_only_when_present(void **state)
{
	(void)state;
	struct hl_indicator ind = make_indicator();
	struct hl_sighting s = make_sighting(&ind);
	char *line = hl_sighting_to_json(&s, NULL);
	assert_null(strstr(line, "geo"));
	assert_null(strstr(line, "asn"));
	assert_null(strstr(line, "evidence"));
	free(line);
	s.geo.present = true;
	memcpy(s.geo.country, "NL", 3);
	s.geo.has_location = true;
	s.geo.lat = 52.5;
	s.geo.lon = 4.25;
	s.asn.present = true;
	s.asn.number = 64500;
	snprintf(s.asn.org, sizeof s.asn.org, "Example \"Net\"");
	s.evidence.present = true;
	memset(s.evidence.sha256, 'a', 64);
	s.evidence.path = "/var/lib/hotline/evidence/aaa.pcap";
	s.evidence.packets = 7;
	line = hl_sighting_to_json(&s, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "{\"asn\":{\"number\":64500,\"org\":\"Example \\\"Net\\\"\"},"
	                             "\"count\":2,\"evidence\":{\"packets\":7,"
	                             "\"path\":\"/var/lib/hotline/evidence/aaa.pcap\","
	                             "\"sha256\":\"aaaa"));
	assert_non_null(strstr(line, "\"geo\":{\"country\":\"NL\",\"lat\":52.5,\"lon\":4.25},"
	                             "\"indicator\":"));
	free(line);
}

static char *temp_path(const char *name)
{
	char *path = malloc(256);
	snprintf(path, 256, "%s/hl-test-%ld-%s", HOTLINE_BINARY_DIR, (long)getpid(), name);
	return path;
}

static void deterministic_output_is_sorted_at_finish(void **state)
{
	(void)state;
	char *path = temp_path("out.jsonl");
	unlink(path);
	int err = 0;
	hl_output_t *out = hl_output_open(path, true, false, &err);
	assert_non_null(out);
	assert_int_equal(hl_output_write(out, "{\"b\":2}", 7), 0);
	assert_int_equal(hl_output_write(out, "{\"a\":1}", 7), 0);
	assert_int_equal(hl_output_finish(out), 0);
	struct hl_output_stats st;
	hl_output_stats(out, &st);
	assert_int_equal(st.lines, 2);
	hl_output_close(&out);
	assert_null(out);
	FILE *f = fopen(path, "r");
	char buf[64] = {0};
	assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 16);
	fclose(f);
	assert_string_equal(buf, "{\"a\":1}\n{\"b\":2}\n");
	unlink(path);
	free(path);
}

static void reopen_follows_a_rotated_file(void **state)
{
	(void)state;
	char *path = temp_path("rot.jsonl");
	char *rotated = temp_path("rot.jsonl.1");
	unlink(path);
	int err = 0;
	hl_output_t *out = hl_output_open(path, false, false, &err);
	assert_non_null(out);
	assert_int_equal(hl_output_write(out, "one", 3), 0);
	assert_int_equal(rename(path, rotated), 0);
	hl_output_request_reopen(out);
	assert_int_equal(hl_output_write(out, "two", 3), 0);
	hl_output_close(&out);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[16] = {0};
	assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 4);
	fclose(f);
	assert_string_equal(buf, "two\n");
	unlink(path);
	unlink(rotated);
	free(path);
	free(rotated);
}

static void open_failure_is_reported(void **state)
{
	(void)state;
	int err = 0;
	assert_null(hl_output_open("/nonexistent-dir/x.jsonl", false, false, &err));
	assert_int_equal(err, HL_EIO);
}

static int run_expect(const char *expected, const char *const *lines, size_t n, char *report,
                      size_t report_len)
{
	char *path = temp_path("expected.jsonl");
	FILE *f = fopen(path, "w");
	fputs(expected, f);
	fclose(f);
	FILE *r = fmemopen(report, report_len, "w");
	int rc = hl_expect_compare(path, lines, n, r);
	fclose(r);
	unlink(path);
	free(path);
	return rc;
}

static void expect_ignores_key_and_record_order(void **state)
{
	(void)state;
	const char *lines[] = {"{\"a\":1,\"b\":{\"x\":1,\"y\":2}}", "{\"c\":3}"};
	char report[512] = {0};
	assert_int_equal(run_expect("# comment\n{\"c\": 3}\n\n{\"b\":{\"y\":2,\"x\":1},\"a\":1}\n",
	                            lines, 2, report, sizeof report),
	                 0);
	assert_non_null(strstr(report, "2 records match"));
}

static void expect_reports_missing_and_unexpected(void **state)
{
	(void)state;
	const char *lines[] = {"{\"a\":1}", "{\"a\":1}", "{\"z\":9}"};
	char report[1024] = {0};
	assert_int_equal(run_expect("{\"a\":1}\n{\"b\":2}\n", lines, 3, report, sizeof report), 1);
	assert_non_null(strstr(report, "- {\"b\":2}\n"));
	assert_non_null(strstr(report, "+ {\"a\":1}\n"));
	assert_non_null(strstr(report, "+ {\"z\":9}\n"));
	assert_non_null(strstr(report, "1 expected record(s) missing (-), 2 unexpected (+)"));
}

static void expect_names_a_bad_line(void **state)
{
	(void)state;
	char report[512] = {0};
	assert_int_equal(run_expect("{\"a\":1}\n{oops\n", NULL, 0, report, sizeof report),
	                 HL_EPARSE);
	assert_non_null(strstr(report, "expected.jsonl:2: not a JSON record"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(record_has_the_documented_shape),
	        cmocka_unit_test(hostile_observed_values_are_escaped_not_dropped),
	        cmocka_unit_test(payload_match_reports_indicator_value_and_offset),
	        cmocka_unit_test(enrichment_and_evidence_appear_only_when_present),
	        cmocka_unit_test(deterministic_output_is_sorted_at_finish),
	        cmocka_unit_test(reopen_follows_a_rotated_file),
	        cmocka_unit_test(open_failure_is_reported),
	        cmocka_unit_test(expect_ignores_key_and_record_order),
	        cmocka_unit_test(expect_reports_missing_and_unexpected),
	        cmocka_unit_test(expect_names_a_bad_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
