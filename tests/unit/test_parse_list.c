/* \summary: unit tests for the plain list reader */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/parse.h"

#define FIXTURES HOTLINE_SOURCE_DIR "/tests/fixtures/rules/"

struct record {
	enum hl_diag_level level;
	unsigned long line;
	char msg[512];
};

struct fixture {
	struct record r[64];
	size_t n;
	struct hl_diag diag;
	struct hl_parse_opts opts;
	hl_iset_t *set;
};

static void capture_emit(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                         const char *msg)
{
	struct fixture *f = ctx;
	if (f->n == sizeof f->r / sizeof f->r[0])
		return;
	struct record *r = &f->r[f->n++];
	r->level = level;
	r->line = line;
	snprintf(r->msg, sizeof r->msg, "%s", msg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->diag.emit = capture_emit;
	f->diag.ctx = f;
	hl_parse_opts_init(&f->opts);
	f->opts.format = HL_FMT_LIST;
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
	return hl_parse_list("l.txt", text, len, &f->opts, f->set, &f->diag);
}

static void expect(const struct fixture *f, size_t i, unsigned long line, const char *substr)
{
	if (i >= f->n)
		print_error("diagnostic %zu missing (have %zu)\n", i, f->n);
	assert_true(i < f->n);
	const struct record *r = &f->r[i];
	if (r->line != line || strstr(r->msg, substr) == NULL)
		print_error("diagnostic %zu: line %lu: %s; wanted line %lu \"%s\"\n", i, r->line,
		            r->msg, line, substr);
	assert_int_equal(r->level, HL_DIAG_ERROR);
	assert_int_equal(r->line, line);
	assert_non_null(strstr(r->msg, substr));
}

static void good_list(void **state)
{
	struct fixture *f = *state;
	f->opts.default_source = "blocklist";
	f->opts.default_tlp = HL_TLP_GREEN;
	assert_int_equal(hl_parse_file(FIXTURES "list_good.txt", &f->opts, f->set, &f->diag), 0);
	assert_int_equal(f->diag.errors, 0);
	assert_int_equal(f->diag.warnings, 0);
	assert_int_equal(hl_iset_count(f->set), 9);
	static const struct {
		enum hl_ind_type type;
		const char *value;
	} want[] = {
	        {HL_IND_IP, "198.51.100.7"},
	        {HL_IND_IP, "203.0.113.0/24"},
	        {HL_IND_IP, "2001:db8::/32"},
	        {HL_IND_DOMAIN, "evil.example"},
	        {HL_IND_URL, "phish.example/login.php?acct=1"},
	        {HL_IND_URL, "phish.example/other"},
	        {HL_IND_URI, "/wp-admin/shell.php"},
	        {HL_IND_CONTENT, "GET /evil|0d 0a|"},
	        {HL_IND_REGEX, "bot[0-9]{3}\\.exe"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct hl_indicator *ind = hl_iset_find(f->set, want[i].type, want[i].value);
		if (ind == NULL)
			print_error("missing %s\n", want[i].value);
		assert_non_null(ind);
		assert_int_equal(ind->tlp, HL_TLP_GREEN);
		assert_string_equal(ind->sources.v[0], "blocklist");
	}
}

static void bad_lines(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(hl_parse_file(FIXTURES "list_bad.txt", &f->opts, f->set, &f->diag), 0);
	expect(f, 0, 2, "cannot tell the type of \"not a value\"");
	expect(f, 1, 3, "unknown type \"hash\"");
	expect(f, 2, 4, "cannot tell the type");
	expect(f, 3, 5, "missing value after type \"domain\"");
	expect(f, 4, 6, "cannot tell the type");
	assert_int_equal(f->n, 5);
	assert_int_equal(f->diag.errors, 5);
	assert_int_equal(hl_iset_count(f->set), 1);

	const char *text = "ip\t10.0.0.1/8\n"              /* 1 */
	                   "domain\ta..b\n"                /* 2 */
	                   "content\t|4|\n"                /* 3 */
	                   "regex\ta(\n"                   /* 4 */
	                   "uri  /spaces ok # comment\n"   /* 5: value "/spaces ok" */
	                   "url\thttp://x.example/#frag\n" /* 6: '#' without space kept */
	                   "domain x.example extra\n";     /* 7 */
	f->n = 0;
	assert_int_equal(parse(f, text, strlen(text)), 0);
	expect(f, 0, 1, "host bits");
	expect(f, 1, 2, "empty label");
	expect(f, 2, 3, "odd number");
	expect(f, 3, 4, "regex");
	expect(f, 4, 5, "space");
	expect(f, 5, 7, "space");
	assert_int_equal(f->n, 6);
	assert_non_null(hl_iset_find(f->set, HL_IND_URL, "x.example/"));
}

static void comments_blank_crlf(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(hl_parse_file(FIXTURES "list_crlf.txt", &f->opts, f->set, &f->diag), 0);
	assert_int_equal(f->diag.errors, 0);
	assert_int_equal(hl_iset_count(f->set), 3);
	assert_non_null(hl_iset_find(f->set, HL_IND_URL, "no-newline.example/x"));

	const char *text = "\n   \n# full comment\n\t# indented comment\n"
	                   "  one.example   # trailing\t\n"
	                   "two.example\t#tab then hash\n"
	                   "three.example#not-a-comment\n";
	assert_int_equal(parse(f, text, strlen(text)), 0);
	assert_non_null(hl_iset_find(f->set, HL_IND_DOMAIN, "one.example"));
	assert_non_null(hl_iset_find(f->set, HL_IND_DOMAIN, "two.example"));
	/* '#' without white space before it is part of the value: not a name. */
	assert_int_equal(f->diag.errors, 1);
	expect(f, 0, 7, "three.example#not-a-comment");

	assert_int_equal(parse(f, "", 0), 0);
	assert_int_equal(parse(f, NULL, 0), 0);
	assert_int_equal(parse(f, "#", 1), 0);
	assert_int_equal(f->diag.errors, 1);
}

static void nul_and_hostile_lines(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "a.example\0evil\nb.example\nc.exam";
	/* Unterminated buffer ending mid-name: the name is taken as cut. */
	size_t len = sizeof text - 1;
	char *copy = malloc(len);
	memcpy(copy, text, len);
	assert_int_equal(parse(f, copy, len), 0);
	free(copy);
	expect(f, 0, 1, "NUL byte");
	assert_int_equal(f->n, 1);
	assert_non_null(hl_iset_find(f->set, HL_IND_DOMAIN, "b.example"));
	assert_non_null(hl_iset_find(f->set, HL_IND_DOMAIN, "c.exam"));

	size_t big = HL_PARSE_MAX_LINE + 1;
	char *huge = malloc(big + 32);
	memset(huge, 'a', big);
	memcpy(huge + big, "\nd.example\n", 11);
	f->n = 0;
	assert_int_equal(parse(f, huge, big + 11), 0);
	expect(f, 0, 1, "longer than");
	/* A line at the limit is read (and rejected as a name: too long). */
	memset(huge, 'a', HL_PARSE_MAX_LINE);
	huge[HL_PARSE_MAX_LINE] = '\n';
	f->n = 0;
	assert_int_equal(parse(f, huge, HL_PARSE_MAX_LINE + 1), 0);
	expect(f, 0, 1, "cannot tell the type");
	assert_non_null(strstr(f->r[0].msg, "..."));
	free(huge);

	/* Control bytes are masked in messages. */
	f->n = 0;
	assert_int_equal(parse(f, "bad\x1b[31m value", strlen("bad\x1b[31m value")), 0);
	assert_null(strchr(f->r[0].msg, '\x1b'));
	assert_non_null(hl_iset_find(f->set, HL_IND_DOMAIN, "d.example"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(good_list, setup, teardown),
	        cmocka_unit_test_setup_teardown(bad_lines, setup, teardown),
	        cmocka_unit_test_setup_teardown(comments_blank_crlf, setup, teardown),
	        cmocka_unit_test_setup_teardown(nul_and_hostile_lines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
