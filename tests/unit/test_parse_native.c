/* \summary: unit tests for the native JSON lines reader and the dispatcher */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/parse.h"

#define FIXTURES HOTLINE_SOURCE_DIR "/tests/fixtures/rules/"

struct record {
	enum hl_diag_level level;
	char file[128];
	unsigned long line;
	char msg[512];
};

struct capture {
	struct record r[64];
	size_t n;
};

static void capture_emit(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                         const char *msg)
{
	struct capture *c = ctx;
	if (c->n == sizeof c->r / sizeof c->r[0])
		return;
	struct record *r = &c->r[c->n++];
	r->level = level;
	r->line = line;
	snprintf(r->file, sizeof r->file, "%s", file);
	snprintf(r->msg, sizeof r->msg, "%s", msg);
}

struct fixture {
	struct capture cap;
	struct hl_diag diag;
	struct hl_parse_opts opts;
	hl_iset_t *set;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->diag.emit = capture_emit;
	f->diag.ctx = &f->cap;
	hl_parse_opts_init(&f->opts);
	f->set = hl_iset_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hl_iset_destroy(&f->set);
	free(f);
	return 0;
}

static int parse(struct fixture *f, const char *text, size_t len)
{
	return hl_parse_native("t.jsonl", text, len, &f->opts, f->set, &f->diag);
}

static void expect(const struct fixture *f, size_t i, enum hl_diag_level level, unsigned long line,
                   const char *substr)
{
	if (i >= f->cap.n)
		print_error("diagnostic %zu missing (have %zu)\n", i, f->cap.n);
	assert_true(i < f->cap.n);
	const struct record *r = &f->cap.r[i];
	if (r->line != line || r->level != level || strstr(r->msg, substr) == NULL)
		print_error("diagnostic %zu: %s:%lu: %s: %s; wanted line %lu \"%s\"\n", i, r->file,
		            r->line, hl_diag_level_name(r->level), r->msg, line, substr);
	assert_int_equal(r->level, level);
	assert_int_equal(r->line, line);
	assert_non_null(strstr(r->msg, substr));
}

static void good_records(void **state)
{
	struct fixture *f = *state;
	f->opts.default_source = "local";
	assert_int_equal(hl_parse_file(FIXTURES "native_good.jsonl", &f->opts, f->set, &f->diag),
	                 0);
	assert_int_equal(f->diag.errors, 0);
	assert_int_equal(f->diag.warnings, 0);
	assert_int_equal(hl_iset_count(f->set), 7); /* evil.example merged */

	const struct hl_indicator *ip = hl_iset_find(f->set, HL_IND_IP, "198.51.100.7");
	assert_non_null(ip);
	assert_int_equal(ip->tlp, HL_TLP_GREEN);
	assert_int_equal(ip->confidence, 80);
	assert_int_equal(ip->severity, HL_SEV_HIGH);
	assert_int_equal(ip->valid_from, INT64_C(1704067200000000));
	assert_int_equal(ip->valid_until, INT64_C(1735689600000000));
	assert_string_equal(ip->description, "C2 server");
	assert_int_equal(ip->sources.n, 1);
	assert_string_equal(ip->sources.v[0], "alpha");
	assert_true(hl_strv_contains(&ip->tags, "botnet"));

	const struct hl_indicator *net = hl_iset_find(f->set, HL_IND_IP, "203.0.113.0/24");
	assert_int_equal(net->sources.n, 2);
	assert_int_equal(net->tlp, HL_TLP_AMBER);

	const struct hl_indicator *dom = hl_iset_find(f->set, HL_IND_DOMAIN, "evil.example");
	assert_non_null(dom);
	assert_string_equal(dom->id, "indicator--6f7e8b40-2b7b-4ff3-9c1e-2f1b1d0c9a11");
	assert_int_equal(dom->confidence, 95);
	assert_true(hl_strv_contains(&dom->tags, "phishing"));
	assert_true(hl_strv_contains(&dom->sources, "local"));

	const struct hl_indicator *url =
	        hl_iset_find(f->set, HL_IND_URL, "phish.example/login.php?acct=1");
	assert_non_null(url);
	assert_int_equal(url->tlp, HL_TLP_AMBER_STRICT);
	const struct hl_indicator *content =
	        hl_iset_find(f->set, HL_IND_CONTENT, "GET /evil|0d 0a|");
	assert_non_null(content);
	assert_true(content->nocase);
	assert_non_null(hl_iset_find(f->set, HL_IND_URI, "/wp-admin/shell.php"));
	assert_non_null(hl_iset_find(f->set, HL_IND_REGEX, "bot[0-9]{3}\\.exe"));
}

static void bad_lines_reported_and_skipped(void **state)
{
	struct fixture *f = *state;
	const char *text =
	        "{\"type\":\"domain\",\"value\":\"ok.example\"}\n"                        /* 1 */
	        "not json\n"                                                              /* 2 */
	        "[1,2]\n"                                                                 /* 3 */
	        "{\"type\":\"domain\"}\n"                                                 /* 4 */
	        "{\"value\":\"x.example\"}\n"                                             /* 5 */
	        "{\"type\":\"hash\",\"value\":\"x\"}\n"                                   /* 6 */
	        "{\"type\":\"domain\",\"value\":\"a..b\"}\n"                              /* 7 */
	        "{\"type\":\"domain\",\"value\":\"c.example\",\"confidence\":\"high\"}\n" /* 8 */
	        "{\"type\":\"domain\",\"value\":\"d.example\",\"tags\":\"x\"}\n"          /* 9 */
	        "{\"type\":\"domain\",\"value\":\"e.example\",\"valid_from\":\"yesterday\"}\n" /* 10
	                                                                                        */
	        "{\"type\":\"domain\",\"value\":\"f.example\",\"nocase\":1}\n"       /* 11 */
	        "{\"type\":\"domain\",\"value\":\"g.example\",\"colour\":\"red\"}\n" /* 12 */
	        "{\"type\":\"ip\",\"value\":\"1.2.3.4\",\"id\":\"X\"}\n"             /* 13 */
	        "{\"type\":\"ip\",\"value\":\"5.6.7.8\",\"id\":\"X\"}\n"             /* 14 */
	        "{\"type\":\"domain\",\"value\":\"h.example\",\"type\":\"ip\"}\n"    /* 15 */
	        "{\"type\":\"domain\",\"value\":\"i.example\"} trailing\n"           /* 16 */
	        "  # comment\n"                                                      /* 17 */
	        "\n"                                                                 /* 18 */
	        "{\"type\":\"domain\",\"value\":\"j.example\",\"tlp\":\"purple\"}\n" /* 19 */
	        "{\"type\":\"domain\",\"value\":\"k.example\",\"source\":[1]}\n"     /* 20 */
	        "{\"type\":\"domain\",\"value\":\"l.example\",\"valid_from\":"
	        "\"2020-01-02T00:00:00Z\",\"valid_until\":\"2020-01-01T00:00:00Z\"}\n"  /* 21 */
	        "{\"type\":\"domain\",\"value\":\"ok.example\",\"confidence\":50}\n"    /* 22 */
	        "{\"type\":\"domain\",\"value\":\"m.example\",\"confidence\":101}\n"    /* 23 */
	        "{\"type\":\"domain\",\"value\":42}\n"                                  /* 24 */
	        "{\"type\":\"domain\",\"value\":\"n.example\",\"description\":null}\n"; /* 25 */
	assert_int_equal(parse(f, text, strlen(text)), 0);
	size_t i = 0;
	expect(f, i++, HL_DIAG_ERROR, 2, "invalid JSON");
	expect(f, i++, HL_DIAG_ERROR, 3, "not a JSON object");
	expect(f, i++, HL_DIAG_ERROR, 4, "missing \"value\"");
	expect(f, i++, HL_DIAG_ERROR, 5, "missing \"type\"");
	expect(f, i++, HL_DIAG_ERROR, 6, "unknown type \"hash\"");
	expect(f, i++, HL_DIAG_ERROR, 7, "empty label");
	expect(f, i++, HL_DIAG_ERROR, 8, "confidence");
	expect(f, i++, HL_DIAG_ERROR, 9, "\"tags\" must be an array");
	expect(f, i++, HL_DIAG_ERROR, 10, "RFC 3339");
	expect(f, i++, HL_DIAG_ERROR, 11, "nocase");
	expect(f, i++, HL_DIAG_WARNING, 12, "unknown key \"colour\"");
	expect(f, i++, HL_DIAG_ERROR, 14, "id X already used by another value");
	expect(f, i++, HL_DIAG_ERROR, 15, "invalid JSON");
	expect(f, i++, HL_DIAG_ERROR, 16, "invalid JSON");
	expect(f, i++, HL_DIAG_ERROR, 19, "unknown tlp \"purple\"");
	expect(f, i++, HL_DIAG_ERROR, 20, "\"source\"[0] must be a string");
	expect(f, i++, HL_DIAG_ERROR, 21, "valid_until");
	expect(f, i++, HL_DIAG_ERROR, 23, "confidence");
	expect(f, i++, HL_DIAG_ERROR, 24, "\"value\" must be a string");
	assert_int_equal(f->cap.n, i);
	assert_string_equal(f->cap.r[0].file, "t.jsonl");
	assert_int_equal(f->diag.errors, i - 1);
	assert_int_equal(f->diag.warnings, 1);
	/* ok.example (merged with line 22), g.example, 1.2.3.4, n.example. */
	assert_int_equal(hl_iset_count(f->set), 4);
	assert_int_equal(hl_iset_find(f->set, HL_IND_DOMAIN, "ok.example")->confidence, 50);
	assert_null(hl_iset_find(f->set, HL_IND_IP, "5.6.7.8"));
}

static void crlf_and_no_final_newline(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(hl_parse_file(FIXTURES "native_crlf.jsonl", &f->opts, f->set, &f->diag),
	                 0);
	assert_int_equal(f->diag.errors, 0);
	assert_int_equal(hl_iset_count(f->set), 3);
	assert_non_null(hl_iset_find(f->set, HL_IND_URI, "/no-newline"));
	assert_non_null(hl_iset_find(f->set, HL_IND_DOMAIN, "crlf.example"));
}

static void empty_and_blank_input(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "", 0), 0);
	assert_int_equal(parse(f, NULL, 0), 0);
	const char *blank = "\n\n   \n# only a comment\r\n\t\n";
	assert_int_equal(parse(f, blank, strlen(blank)), 0);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(hl_iset_count(f->set), 0);
	assert_int_equal(parse(f, NULL, 1), HL_EINVAL);
}

static void nul_bytes_and_unterminated_buffer(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "{\"type\":\"domain\",\"value\":\"a\0b.example\"}\n"
	                           "{\"type\":\"domain\",\"value\":\"after.example\"}\n"
	                           "{\"type\":\"domain\",\"value\":\"cut.example\"}";
	/* Not NUL-terminated: the reader must stop at len, mid-object. */
	size_t len = sizeof text - 1 - 5;
	char *copy = malloc(len);
	memcpy(copy, text, len);
	assert_int_equal(parse(f, copy, len), 0);
	free(copy);
	expect(f, 0, HL_DIAG_ERROR, 1, "NUL byte");
	expect(f, 1, HL_DIAG_ERROR, 3, "invalid JSON");
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(hl_iset_count(f->set), 1);
	/* An escaped NUL is refused by JSON parsing itself. */
	const char *esc = "{\"type\":\"domain\",\"value\":\"a\\u0000b\"}";
	assert_int_equal(parse(f, esc, strlen(esc)), 0);
	expect(f, 2, HL_DIAG_ERROR, 1, "invalid JSON");
}

static void hostile_long_lines(void **state)
{
	struct fixture *f = *state;
	size_t big = HL_PARSE_MAX_LINE + 10;
	const char *tail = "\n{\"type\":\"ip\",\"value\":\"9.9.9.9\"}\n";
	char *text = malloc(big + strlen(tail) + 70000);
	memset(text, 'x', big);
	size_t n = big;
	memcpy(text + n, tail, strlen(tail));
	n += strlen(tail);
	/* Deep nesting under the line limit: an error, not a stack overflow. */
	memset(text + n, '[', 60000);
	n += 60000;
	text[n++] = '\n';
	assert_int_equal(parse(f, text, n), 0);
	free(text);
	expect(f, 0, HL_DIAG_ERROR, 1, "longer than");
	expect(f, 1, HL_DIAG_ERROR, 3, "invalid JSON");
	assert_int_equal(hl_iset_count(f->set), 1);
}

static void defaults_apply(void **state)
{
	struct fixture *f = *state;
	f->opts.default_source = "feed-a";
	f->opts.default_tlp = HL_TLP_RED;
	const char *text =
	        "{\"type\":\"ip\",\"value\":\"1.1.1.1\"}\n"
	        "{\"type\":\"ip\",\"value\":\"2.2.2.2\",\"source\":\"own\",\"tlp\":\"clear\"}\n"
	        "{\"type\":\"ip\",\"value\":\"3.3.3.3\",\"source\":null,\"tlp\":null}\n";
	assert_int_equal(parse(f, text, strlen(text)), 0);
	assert_int_equal(f->diag.errors, 0);
	const struct hl_indicator *a = hl_iset_find(f->set, HL_IND_IP, "1.1.1.1");
	assert_int_equal(a->tlp, HL_TLP_RED);
	assert_string_equal(a->sources.v[0], "feed-a");
	const struct hl_indicator *b = hl_iset_find(f->set, HL_IND_IP, "2.2.2.2");
	assert_int_equal(b->tlp, HL_TLP_CLEAR);
	assert_int_equal(b->sources.n, 1);
	assert_string_equal(b->sources.v[0], "own");
	const struct hl_indicator *c = hl_iset_find(f->set, HL_IND_IP, "3.3.3.3");
	assert_int_equal(c->tlp, HL_TLP_RED);
	assert_string_equal(c->sources.v[0], "feed-a");
}

static void write_then_read_is_identity(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(hl_parse_file(FIXTURES "native_good.jsonl", &f->opts, f->set, &f->diag),
	                 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_int_equal(hl_write_native(mem, f->set), 0);
	fclose(mem);
	hl_iset_t *again = hl_iset_new();
	assert_int_equal(hl_parse_native("mem", buf, len, &f->opts, again, &f->diag), 0);
	assert_int_equal(f->diag.errors, 0);
	uint8_t h1[HL_SHA256_LEN], h2[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(f->set, h1), 0);
	assert_int_equal(hl_iset_hash(again, h2), 0);
	assert_memory_equal(h1, h2, sizeof h1);
	/* Writing the re-read set gives the same bytes. */
	char *buf2 = NULL;
	size_t len2 = 0;
	mem = open_memstream(&buf2, &len2);
	assert_int_equal(hl_write_native(mem, again), 0);
	fclose(mem);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
	hl_iset_destroy(&again);
}

static void detect_formats(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *name;
		enum hl_format want;
	} cases[] = {
	        {"{\"type\":\"ip\",\"value\":\"1.2.3.4\"}\n", "x", HL_FMT_NATIVE},
	        {"\xef\xbb\xbf  \n{\"value\":\"x\",\"type\":\"domain\"}", "x", HL_FMT_NATIVE},
	        {"{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--1\"}", "x", HL_FMT_STIX},
	        {"{\"id\":\"bundle--1\",\"objects\":[],\"type\" : \"bundle\"}", "x", HL_FMT_STIX},
	        {"{\"Event\": {\"info\": \"x\"}}", "x", HL_FMT_MISP_JSON},
	        {"{\n\"Attribute\": []}", "x", HL_FMT_MISP_JSON},
	        {"[{\"Event\": {}}]", "x", HL_FMT_MISP_JSON},
	        {"{\"something\": 1}", "x", HL_FMT_NATIVE},
	        {"# header\n\n{\"type\":\"ip\",\"value\":\"1.2.3.4\"}", "x", HL_FMT_NATIVE},
	        {"uuid,event_id,category,type,value,comment\n", "x", HL_FMT_MISP_CSV},
	        {"\"type\",\"value\"\nip-dst,1.2.3.4\n", "x", HL_FMT_MISP_CSV},
	        {"1.2.3.4\nexample.com\n", "x", HL_FMT_LIST},
	        {"# comment, with comma\n1.2.3.4\n", "x", HL_FMT_LIST},
	        {"", "x.jsonl", HL_FMT_NATIVE},
	        {"  \n", "x.txt", HL_FMT_LIST},
	        {"{\n\"type\":\"bundle\"}", "a.ndjson", HL_FMT_NATIVE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum hl_format got =
		        hl_format_detect(cases[i].text, strlen(cases[i].text), cases[i].name);
		if (got != cases[i].want)
			print_error("case %zu: got %s\n", i, hl_format_name(got));
		assert_int_equal(got, cases[i].want);
	}
	/* a sorted-key bundle larger than the detection window: "type" comes
	 * last, the id first */
	size_t big = 100 * 1024;
	char *bundle = malloc(big + 1);
	assert_non_null(bundle);
	memset(bundle, ' ', big);
	static const char head[] = "{\"id\": \"bundle--5\", \"objects\": [";
	static const char tail[] = "], \"type\": \"bundle\"}";
	memcpy(bundle, head, sizeof head - 1);
	memcpy(bundle + big - (sizeof tail - 1), tail, sizeof tail - 1);
	bundle[big] = '\0';
	assert_int_equal(hl_format_detect(bundle, big, "export.json"), HL_FMT_STIX);
	free(bundle);

	enum hl_format fmt;
	for (int i = 0; i < HL_FMT_COUNT; i++) {
		assert_int_equal(hl_format_parse(hl_format_name((enum hl_format)i), &fmt), 0);
		assert_int_equal(fmt, i);
	}
	assert_string_equal(hl_format_name(HL_FMT_MISP_CSV), "misp-csv");
	assert_int_equal(hl_format_parse("yaml", &fmt), HL_EINVAL);
}

static void dispatch_and_file_errors(void **state)
{
	struct fixture *f = *state;
	/* Auto-detection picks the list reader for a list. */
	assert_int_equal(hl_parse_file(FIXTURES "list_good.txt", NULL, f->set, &f->diag), 0);
	assert_int_equal(f->diag.errors, 0);
	assert_true(hl_iset_count(f->set) > 5);

	assert_int_equal(hl_parse_file(FIXTURES "does-not-exist", &f->opts, f->set, &f->diag),
	                 HL_EIO);
	size_t last = f->cap.n - 1;
	assert_string_equal(f->cap.r[last].file, FIXTURES "does-not-exist");
	assert_int_equal(f->cap.r[last].line, 0);
	assert_non_null(strstr(f->cap.r[last].msg, "No such file"));

	/* A directory opens but cannot be read. */
	assert_int_equal(hl_parse_file(HOTLINE_SOURCE_DIR, &f->opts, f->set, &f->diag), HL_EIO);
	last = f->cap.n - 1;
	assert_string_equal(f->cap.r[last].file, HOTLINE_SOURCE_DIR);
	assert_non_null(strstr(f->cap.r[last].msg, "directory"));

	/* A sparse file one byte over the limit is refused before reading. */
	char path[] = "/tmp/hotline-test-bigXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, HL_PARSE_MAX_INPUT + 1), 0);
	close(fd);
	assert_int_equal(hl_parse_file(path, &f->opts, f->set, &f->diag), HL_ELIMIT);
	unlink(path);
	last = f->cap.n - 1;
	assert_non_null(strstr(f->cap.r[last].msg, "larger than"));

	/* An explicit format overrides detection. */
	f->opts.format = HL_FMT_LIST;
	const char *text = "{\"type\":\"ip\",\"value\":\"1.2.3.4\"}";
	unsigned long before = f->diag.errors;
	assert_int_equal(hl_parse_buffer("x", text, strlen(text), &f->opts, f->set, &f->diag), 0);
	assert_int_equal(f->diag.errors, before + 1);
	f->opts.format = (enum hl_format)99;
	assert_int_equal(hl_parse_buffer("x", text, strlen(text), &f->opts, f->set, &f->diag),
	                 HL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(good_records, setup, teardown),
	        cmocka_unit_test_setup_teardown(bad_lines_reported_and_skipped, setup, teardown),
	        cmocka_unit_test_setup_teardown(crlf_and_no_final_newline, setup, teardown),
	        cmocka_unit_test_setup_teardown(empty_and_blank_input, setup, teardown),
	        cmocka_unit_test_setup_teardown(nul_bytes_and_unterminated_buffer, setup, teardown),
	        cmocka_unit_test_setup_teardown(hostile_long_lines, setup, teardown),
	        cmocka_unit_test_setup_teardown(defaults_apply, setup, teardown),
	        cmocka_unit_test_setup_teardown(write_then_read_is_identity, setup, teardown),
	        cmocka_unit_test_setup_teardown(detect_formats, setup, teardown),
	        cmocka_unit_test_setup_teardown(dispatch_and_file_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
