/* \summary: unit tests for the JSON element line scanner (rules/json_pos.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "hotline/err.h"
#include "json_pos.h"

static void expect_lines(const char *doc, const char *path, const unsigned long *want, size_t n)
{
	struct hl_json_pos pos;
	json_error_t err;
	json_t *root = json_loadb(doc, strlen(doc), 0, &err);
	assert_non_null(root);
	assert_int_equal(hl_json_pos_match(&pos, doc, strlen(doc), root, path), 0);
	assert_true(pos.valid);
	assert_int_equal(pos.n, n);
	assert_int_equal(hl_json_path_count(root, path), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(hl_json_pos_line(&pos, i), want[i]);
	assert_int_equal(hl_json_pos_line(&pos, n), 0);
	hl_json_pos_clear(&pos);
	assert_false(pos.valid);
	assert_int_equal(hl_json_pos_line(&pos, 0), 0);
	json_decref(root);
}

static void bundle_objects(void **state)
{
	(void)state;
	const char *doc = "{\n"
	                  "  \"type\": \"bundle\",\n"
	                  "  \"note\": {\"objects\": [1, 2, 3]},\n"
	                  "  \"objects\": [\n"
	                  "    {\"a\": \"x]\\\"\\n{\"},\n"
	                  "    [\n"
	                  "      1, {\"objects\": []}\n"
	                  "    ],\n"
	                  "\n"
	                  "    \"str\", 12.5e3, true, null\n"
	                  "    ,\n"
	                  "    {\n"
	                  "    }\n"
	                  "  ]\n"
	                  "}\n";
	const unsigned long want[] = {5, 6, 10, 10, 10, 10, 12};
	expect_lines(doc, "objects.*", want, 7);
	const unsigned long root[] = {1};
	expect_lines(doc, "", root, 1);
	const unsigned long notes[] = {3, 3, 3};
	expect_lines(doc, "note.objects.*", notes, 3);
	expect_lines(doc, "missing.*", NULL, 0);
	expect_lines(doc, "type.*", NULL, 0); /* '*' on a string selects nothing */
}

static void nested_misp_paths(void **state)
{
	(void)state;
	const char *doc = "{\"response\": [\n"
	                  " {\"Event\": {\"Attribute\": [\n"
	                  "   {\"type\": \"ip-dst\"},\n"
	                  "   {\"type\": \"domain\"}],\n"
	                  "   \"Object\": [{\"Attribute\": [{\"x\": 1}]}, 5, {\"Attribute\": 7},\n"
	                  "     {\"Attribute\": [\n"
	                  "       {}, {}]}]}},\n"
	                  " {\"Event\": {\"Attribute\": [\n"
	                  "   {\"type\": \"url\"}]}},\n"
	                  " \"junk\"\n"
	                  "]}";
	const unsigned long attrs[] = {3, 4, 9};
	expect_lines(doc, "response.*.Event.Attribute.*", attrs, 3);
	const unsigned long oattrs[] = {5, 7, 7};
	expect_lines(doc, "response.*.Event.Object.*.Attribute.*", oattrs, 3);
	const unsigned long events[] = {2, 8};
	expect_lines(doc, "response.*.Event", events, 2);
	const unsigned long wrappers[] = {2, 8, 10};
	expect_lines(doc, "response.*", wrappers, 3);
}

static void crlf_and_escapes(void **state)
{
	(void)state;
	/* "\\" before a closing quote, an escaped quote, braces inside strings
	 * and CRLF line ends must not confuse the counter. */
	const char *doc = "{\"objects\":\r\n[\"a\\\\\",\r\n\"\\\"}]{[\",\r\n{\"k\":\"\\u005d\"}]}";
	const unsigned long want[] = {2, 3, 4};
	expect_lines(doc, "objects.*", want, 3);
}

/* Two members on the path in one object: a decoder keeps one of them,
 * which the scanner must not guess. */
static void duplicate_member_is_ambiguous(void **state)
{
	(void)state;
	const char *doc = "{\"objects\": [1],\n\"objects\": [2, 3]}";
	struct hl_json_pos pos;
	assert_int_equal(hl_json_pos_scan(&pos, doc, strlen(doc), "objects.*"), HL_EFORMAT);
	assert_false(pos.valid);
	assert_int_equal(hl_json_pos_line(&pos, 0), 0);
	hl_json_pos_clear(&pos);
	/* a duplicate off the path does not matter */
	const char *ok = "{\"x\": 1, \"x\": 2, \"objects\": [\n1]}";
	assert_int_equal(hl_json_pos_scan(&pos, ok, strlen(ok), "objects.*"), 0);
	assert_int_equal(hl_json_pos_line(&pos, 0), 2);
	hl_json_pos_clear(&pos);
}

/* An escaped member name decodes to "objects" for jansson but not for the
 * scanner: the counts disagree and the lines fall back to 0. */
static void count_mismatch_falls_back(void **state)
{
	(void)state;
	const char *doc = "{\"object\\u0073\": [\n1,\n2]}";
	json_error_t err;
	json_t *root = json_loadb(doc, strlen(doc), 0, &err);
	assert_non_null(root);
	assert_int_equal(hl_json_path_count(root, "objects.*"), 2);
	struct hl_json_pos pos;
	assert_int_equal(hl_json_pos_match(&pos, doc, strlen(doc), root, "objects.*"), HL_EFORMAT);
	assert_false(pos.valid);
	assert_int_equal(hl_json_pos_line(&pos, 1), 0);
	hl_json_pos_clear(&pos);
	json_decref(root);
}

static void hostile_text_is_bounded(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "{",
	        "{\"objects\": [1, 2",
	        "{\"objects\": [\"abc",
	        "{\"objects\": [\"abc\\",
	        "{\"objects\" [1]}",
	        "{\"objects\": [1 2]}",
	        "{\"objects\": [{\"a\": [}",
	        "{objects: [1]}",
	        "{\"objects\": [:]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct hl_json_pos pos;
		/* copy into an exact-size heap buffer so ASan sees any overread */
		size_t n = strlen(bad[i]);
		char *buf = malloc(n > 0 ? n : 1);
		assert_non_null(buf);
		memcpy(buf, bad[i], n);
		assert_int_equal(hl_json_pos_scan(&pos, buf, n, "objects.*"), HL_EPARSE);
		assert_false(pos.valid);
		hl_json_pos_clear(&pos);
		free(buf);
	}
	/* deep nesting off the path is skipped without recursion */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 32);
	assert_non_null(deep);
	size_t cap = 2 * depth + 32;
	size_t o = (size_t)snprintf(deep, cap, "{\"x\": ");
	memset(deep + o, '[', depth);
	memset(deep + o + depth, ']', depth);
	o += 2 * depth;
	o += (size_t)snprintf(deep + o, cap - o, ", \"objects\": [0]}");
	struct hl_json_pos pos;
	assert_int_equal(hl_json_pos_scan(&pos, deep, o, "objects.*"), 0);
	assert_int_equal(pos.n, 1);
	hl_json_pos_clear(&pos);
	free(deep);
}

static void bad_paths(void **state)
{
	(void)state;
	struct hl_json_pos pos;
	char path[HL_JSON_POS_MAX_PATH + 8];
	memset(path, 'a', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	assert_int_equal(hl_json_pos_scan(&pos, "{}", 2, path), HL_EINVAL);
	assert_int_equal(hl_json_pos_scan(&pos, "{}", 2, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"),
	                 HL_EINVAL);
	assert_int_equal(hl_json_path_count(NULL, "a"), 0);
	hl_json_pos_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(bundle_objects),
	        cmocka_unit_test(nested_misp_paths),
	        cmocka_unit_test(crlf_and_escapes),
	        cmocka_unit_test(duplicate_member_is_ambiguous),
	        cmocka_unit_test(count_mismatch_falls_back),
	        cmocka_unit_test(hostile_text_is_bounded),
	        cmocka_unit_test(bad_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
