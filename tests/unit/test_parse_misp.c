/* \summary: unit tests for the MISP readers (rules/parse_misp.c): CSV and event JSON */
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

#define FIXTURES HOTLINE_SOURCE_DIR "/tests/fixtures/rules/misp/"

typedef int (*reader_fn)(const char *, const char *, size_t, const struct hl_parse_opts *,
                         hl_iset_t *, struct hl_diag *);

struct seen {
	size_t n;
	struct {
		enum hl_diag_level level;
		unsigned long line;
		char msg[512];
	} d[64];
};

static void capture(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                    const char *msg)
{
	struct seen *s = ctx;
	assert_non_null(file);
	if (s->n < 64) {
		s->d[s->n].level = level;
		s->d[s->n].line = line;
		snprintf(s->d[s->n].msg, sizeof s->d[s->n].msg, "%s", msg);
	}
	s->n++;
}

/* Parse len bytes (an exact-size heap copy, no NUL) into a fresh set. */
static hl_iset_t *parse_bytes(reader_fn fn, const char *data, size_t len, int want_rc,
                              struct seen *seen, struct hl_diag *diag)
{
	*diag = (struct hl_diag){.emit = capture, .ctx = seen};
	memset(seen, 0, sizeof *seen);
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	char *copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	int rc = fn("t", copy, len, NULL, set, diag);
	free(copy);
	if (rc != want_rc)
		fail_msg("rc %d (%s), want %d; first diag: %s", rc, hl_err_name(rc), want_rc,
		         seen->n > 0 ? seen->d[0].msg : "none");
	return set;
}

static hl_iset_t *parse_text(reader_fn fn, const char *text, int want_rc, struct seen *seen,
                             struct hl_diag *diag)
{
	return parse_bytes(fn, text, strlen(text), want_rc, seen, diag);
}

static hl_iset_t *parse_fixture(reader_fn fn, const char *name, int want_rc, struct seen *seen,
                                struct hl_diag *diag)
{
	char path[512];
	snprintf(path, sizeof path, FIXTURES "%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return parse_bytes(fn, buf, len, want_rc, seen, diag);
}

static void expect(const struct seen *s, size_t i, enum hl_diag_level level, unsigned long line,
                   const char *msg)
{
	if (i >= s->n)
		fail_msg("diag %zu missing (only %zu)", i, s->n);
	if (s->d[i].level != level || s->d[i].line != line || strstr(s->d[i].msg, msg) == NULL)
		fail_msg("diag %zu: got %s:%lu \"%s\", want %s:%lu \"%s\"", i,
		         hl_diag_level_name(s->d[i].level), s->d[i].line, s->d[i].msg,
		         hl_diag_level_name(level), line, msg);
}

static const struct hl_indicator *must_find(const hl_iset_t *set, enum hl_ind_type type,
                                            const char *value)
{
	const struct hl_indicator *ind = hl_iset_find(set, type, value);
	if (ind == NULL)
		fail_msg("no %s %s", hl_ind_type_name(type), value);
	return ind;
}

/* ---- CSV ---------------------------------------------------------------- */

static void csv_good(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture(hl_parse_misp_csv, "good.csv", 0, &seen, &diag);
	assert_int_equal(seen.n, 4);
	expect(&seen, 0, HL_DIAG_SKIP, 11, "to_ids is false");
	expect(&seen, 1, HL_DIAG_SKIP, 15, "to_ids is false");
	expect(&seen, 2, HL_DIAG_SKIP, 0,
	       "skipped 2 attributes of type md5: not a network indicator");
	expect(&seen, 3, HL_DIAG_SKIP, 0, "skipped 1 attribute of type sha256: not a network");
	assert_int_equal(diag.errors, 0);
	assert_int_equal(hl_iset_count(set), 9);

	const struct hl_indicator *ip = must_find(set, HL_IND_IP, "198.51.100.1");
	assert_string_equal(ip->id, "5f1a0c6e-0000-4000-8000-000000000001");
	assert_string_equal(ip->description, "C2 server");
	assert_int_equal(ip->tlp, HL_TLP_GREEN);
	assert_int_equal(ip->tags.n, 1);
	assert_string_equal(ip->tags.v[0], "kill-chain:c2");
	assert_int_equal(ip->sources.n, 0); /* no default source given */

	assert_int_equal(must_find(set, HL_IND_DOMAIN, "evil.example")->tlp, HL_TLP_AMBER);
	const struct hl_indicator *url = must_find(set, HL_IND_URL, "x.example/a");
	assert_string_equal(url->description, "multi-line\ncomment, with \"quotes\"");
	assert_int_equal(url->tlp, HL_TLP_AMBER_STRICT);

	/* domain|ip: two indicators, derived ids, the uuid as a tag */
	const struct hl_indicator *b = must_find(set, HL_IND_DOMAIN, "b.example");
	const struct hl_indicator *b_ip = must_find(set, HL_IND_IP, "192.0.2.5");
	assert_int_equal(strncmp(b->id, "hl--", 4), 0);
	assert_int_equal(strncmp(b_ip->id, "hl--", 4), 0);
	assert_true(hl_strv_contains(&b->tags, "misp-uuid:5f1a0c6e-0000-4000-8000-000000000005"));
	assert_int_equal(b->tlp, HL_TLP_RED);
	assert_int_equal(b_ip->tlp, HL_TLP_RED);

	assert_string_equal(must_find(set, HL_IND_IP, "192.0.2.7")->id,
	                    "5f1a0c6e-0000-4000-8000-000000000006"); /* ip|port */
	must_find(set, HL_IND_IP, "192.0.2.9");                      /* hostname holding an IP */
	must_find(set, HL_IND_URI, "/wp-login.php");
	assert_int_equal(must_find(set, HL_IND_URL, "d.example/gate.php")->tlp, HL_TLP_CLEAR);
	hl_iset_destroy(&set);
}

static void csv_bad_records_name_their_line(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture(hl_parse_misp_csv, "bad.csv", 0, &seen, &diag);
	assert_int_equal(seen.n, 7);
	assert_int_equal(diag.errors, 7);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "ip-dst attribute '300.1.1.1': ");
	expect(&seen, 1, HL_DIAG_ERROR, 3, "empty value");
	expect(&seen, 2, HL_DIAG_ERROR, 4, "unexpected character after a closing quote");
	expect(&seen, 3, HL_DIAG_ERROR, 5, "record has 3 fields; the header has 4");
	expect(&seen, 4, HL_DIAG_ERROR, 6, "to_ids is not 0, 1, true or false");
	expect(&seen, 5, HL_DIAG_ERROR, 7, "domain|ip attribute has no '|' in its value");
	expect(&seen, 6, HL_DIAG_ERROR, 9, "unterminated quoted field");
	assert_int_equal(hl_iset_count(set), 1);
	must_find(set, HL_IND_DOMAIN, "d.example");
	hl_iset_destroy(&set);
}

static void csv_crlf_and_quoting(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_text(hl_parse_misp_csv,
	                            "\r\n"
	                            " Value ,TYPE,Comment,Tags\r\n"
	                            "a.example,domain,\"one\r\ntwo\",\r\n"
	                            "\"b.example\",\"domain\",\"\",\"x, tlp:red ,y\"\r\n"
	                            "\r\n"
	                            "c.example,domain,\"\"\"q\"\"\",\r\n"
	                            "bad value,domain,,\r\n"
	                            "d.example,domain,,",
	                            0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 8, "domain attribute 'bad value': ");
	assert_int_equal(hl_iset_count(set), 4);
	assert_string_equal(must_find(set, HL_IND_DOMAIN, "a.example")->description, "one\r\ntwo");
	const struct hl_indicator *b = must_find(set, HL_IND_DOMAIN, "b.example");
	assert_null(b->description);
	assert_int_equal(b->tlp, HL_TLP_RED);
	assert_int_equal(b->tags.n, 2);
	assert_string_equal(must_find(set, HL_IND_DOMAIN, "c.example")->description, "\"q\"");
	must_find(set, HL_IND_DOMAIN, "d.example"); /* last record without a newline */
	hl_iset_destroy(&set);

	set = parse_text(hl_parse_misp_csv, "\xef\xbb\xbftype,value\ndomain,bom.example\n", 0,
	                 &seen, &diag);
	assert_int_equal(seen.n, 0);
	must_find(set, HL_IND_DOMAIN, "bom.example");
	hl_iset_destroy(&set);
}

static void csv_whole_file_failures(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_text(hl_parse_misp_csv, "", HL_EPARSE, &seen, &diag);
	expect(&seen, 0, HL_DIAG_ERROR, 0, "no header line");
	hl_iset_destroy(&set);

	set = parse_text(hl_parse_misp_csv, "\n\nuuid,category,value\nx,y,z\n", HL_EPARSE, &seen,
	                 &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 3, "header has no \"type\" and \"value\" columns");
	hl_iset_destroy(&set);

	set = parse_text(hl_parse_misp_csv, "type,\"value\n", HL_EPARSE, &seen, &diag);
	expect(&seen, 0, HL_DIAG_ERROR, 1, "unterminated quoted field");
	hl_iset_destroy(&set);
}

static void csv_hostile_records(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	/* a NUL inside a record */
	static const char nul[] = "type,value\ndomain,a\0b.example\ndomain,c.example\n";
	hl_iset_t *set = parse_bytes(hl_parse_misp_csv, nul, sizeof nul - 1, 0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "NUL byte in record");
	assert_int_equal(hl_iset_count(set), 1);
	hl_iset_destroy(&set);

	/* a record longer than HL_PARSE_MAX_LINE, then a good one */
	size_t big = HL_PARSE_MAX_LINE + 100;
	char *text = malloc(big + 64);
	assert_non_null(text);
	size_t o = (size_t)snprintf(text, big + 64, "type,value\ndomain,");
	memset(text + o, 'a', big);
	o += big;
	o += (size_t)snprintf(text + o, big + 64 - o, "\ndomain,z.example\n");
	set = parse_bytes(hl_parse_misp_csv, text, o, 0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "record longer than 65536 bytes");
	must_find(set, HL_IND_DOMAIN, "z.example");
	hl_iset_destroy(&set);

	/* too many fields */
	o = (size_t)snprintf(text, big + 64, "type,value\n");
	for (int i = 0; i < 300; i++)
		text[o++] = ',';
	o += (size_t)snprintf(text + o, big + 64 - o, "\ndomain,y.example\n");
	set = parse_bytes(hl_parse_misp_csv, text, o, 0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "more than 256 fields");
	must_find(set, HL_IND_DOMAIN, "y.example");
	hl_iset_destroy(&set);
	free(text);
}

/* ---- event JSON --------------------------------------------------------- */

static void json_event_good(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture(hl_parse_misp_json, "event.json", 0, &seen, &diag);
	assert_int_equal(diag.errors, 0);
	assert_int_equal(seen.n, 5);
	expect(&seen, 0, HL_DIAG_SKIP, 0,
	       "skipped 3 attributes of type md5: not a network indicator");
	expect(&seen, 1, HL_DIAG_SKIP, 0, "skipped 1 attribute of type sha1: not a network");
	expect(&seen, 2, HL_DIAG_SKIP, 0, "skipped 1 attribute of type text: not a network");
	expect(&seen, 3, HL_DIAG_SKIP, 0, "skipped 2 attributes with to_ids false");
	expect(&seen, 4, HL_DIAG_SKIP, 0, "skipped 1 deleted attribute");
	assert_int_equal(hl_iset_count(set), 9);

	const char *galaxy = "misp-galaxy:threat-actor=\"Example Spider\"";
	const struct hl_indicator *ip = must_find(set, HL_IND_IP, "198.51.100.1");
	assert_string_equal(ip->id, "5f1a0c6e-3333-4000-8000-000000000001");
	assert_string_equal(ip->description, "C2");
	assert_int_equal(ip->tlp, HL_TLP_GREEN); /* from the event */
	assert_int_equal(ip->sources.n, 1);
	assert_string_equal(ip->sources.v[0], "CERT Bravo");
	assert_true(hl_strv_contains(&ip->tags, galaxy));

	const struct hl_indicator *evil = must_find(set, HL_IND_DOMAIN, "evil.example");
	assert_int_equal(evil->tlp, HL_TLP_RED); /* attribute tags, strictest */
	assert_true(hl_strv_contains(&evil->tags, "phishing"));
	assert_true(hl_strv_contains(&evil->tags, galaxy));
	assert_int_equal(evil->tags.n, 2);

	const struct hl_indicator *b = must_find(set, HL_IND_DOMAIN, "b.example");
	assert_true(hl_strv_contains(&b->tags, "misp-uuid:5f1a0c6e-3333-4000-8000-000000000009"));
	must_find(set, HL_IND_IP, "2001:db8::5");
	must_find(set, HL_IND_IP, "192.0.2.7");
	must_find(set, HL_IND_DOMAIN, "mail.evil.example");
	assert_int_equal(must_find(set, HL_IND_URI, "/gate.php?id=1")->tlp, HL_TLP_CLEAR);
	/* object attributes */
	assert_string_equal(must_find(set, HL_IND_URL, "x.example/login")->id,
	                    "5f1a0c6e-4444-4000-8000-000000000001");
	must_find(set, HL_IND_DOMAIN, "x.example");
	assert_null(hl_iset_find(set, HL_IND_DOMAIN, "benign.example"));
	assert_null(hl_iset_find(set, HL_IND_DOMAIN, "gone.example"));
	hl_iset_destroy(&set);
}

static void json_bad_attributes_name_their_line(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture(hl_parse_misp_json, "bad_event.json", 0, &seen, &diag);
	assert_int_equal(seen.n, 14);
	assert_int_equal(diag.errors, 14);
	expect(&seen, 0, HL_DIAG_ERROR, 5, "attribute is not a JSON object");
	expect(&seen, 1, HL_DIAG_ERROR, 6, "attribute has no \"value\" string");
	expect(&seen, 2, HL_DIAG_ERROR, 7, "attribute has no \"type\" string");
	expect(&seen, 3, HL_DIAG_ERROR, 8, "ip-dst attribute '198.51.100.300': ");
	expect(&seen, 4, HL_DIAG_ERROR, 9, "to_ids is not a boolean");
	expect(&seen, 5, HL_DIAG_ERROR, 10, "domain|ip attribute has no '|' in its value");
	expect(&seen, 6, HL_DIAG_ERROR, 11, "domain|ip attribute 'not-an-ip': ");
	expect(&seen, 7, HL_DIAG_ERROR, 13,
	       "id 5f1a0c6e-5555-4000-8000-000000000001 already names an indicator");
	expect(&seen, 8, HL_DIAG_ERROR, 16, "Object is not a JSON object");
	expect(&seen, 9, HL_DIAG_ERROR, 17, "Object.Attribute is not a list");
	expect(&seen, 10, HL_DIAG_ERROR, 19, "url attribute 'ftp://files.example/x': ");
	expect(&seen, 11, HL_DIAG_ERROR, 23, "element 1 is not a MISP event");
	expect(&seen, 12, HL_DIAG_ERROR, 24, "Event is not a JSON object");
	expect(&seen, 13, HL_DIAG_ERROR, 25, "Event.Attribute is not a list");
	assert_int_equal(hl_iset_count(set), 2);
	assert_string_equal(must_find(set, HL_IND_DOMAIN, "two.example")->sources.v[0],
	                    "CERT Alpha");
	must_find(set, HL_IND_DOMAIN, "fine.example");
	hl_iset_destroy(&set);
}

static void json_shapes(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	/* a list of events; positions run across events */
	hl_iset_t *set = parse_text(hl_parse_misp_json,
	                            "[\n"
	                            " {\"Event\": {\"Attribute\": [\n"
	                            "   {\"type\": \"domain\", \"value\": \"a.example\"}]}},\n"
	                            " {\"Event\": {\"Tag\": [{\"name\": \"tlp:white\"}],\n"
	                            "  \"Attribute\": [\n"
	                            "   {\"type\": \"domain\", \"value\": \"b..example\"},\n"
	                            "   {\"type\": \"domain\", \"value\": \"c.example\"}]}}\n"
	                            "]",
	                            0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 6, "domain attribute 'b..example': ");
	assert_int_equal(must_find(set, HL_IND_DOMAIN, "c.example")->tlp, HL_TLP_CLEAR);
	assert_int_equal(must_find(set, HL_IND_DOMAIN, "a.example")->tlp, HL_TLP_AMBER);
	hl_iset_destroy(&set);

	/* restSearch on attributes */
	set = parse_text(hl_parse_misp_json,
	                 "{\"response\": {\"Attribute\": [\n"
	                 "  {\"type\": \"ip-dst\", \"value\": \"192.0.2.1\"},\n"
	                 "  {\"type\": \"ip-dst\", \"value\": \"192.0.2\"}]}}",
	                 0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 3, "ip-dst attribute '192.0.2': ");
	must_find(set, HL_IND_IP, "192.0.2.1");
	hl_iset_destroy(&set);

	set = parse_text(hl_parse_misp_json,
	                 "\xef\xbb\xbf{\"Attribute\": [{\"type\": \"url\", \"value\": "
	                 "\"http://u.example/\"}]}",
	                 0, &seen, &diag);
	assert_int_equal(seen.n, 0);
	must_find(set, HL_IND_URL, "u.example/");
	hl_iset_destroy(&set);

	/* an escaped member name: jansson and the scanner disagree, so the
	 * line is 0 rather than a wrong one */
	set = parse_text(hl_parse_misp_json,
	                 "{\"Event\": {\"Attri\\u0062ute\": [\n"
	                 "  {\"type\": \"ip-dst\", \"value\": \"192.0.2\"}]}}",
	                 0, &seen, &diag);
	expect(&seen, 0, HL_DIAG_ERROR, 0, "ip-dst attribute '192.0.2': ");
	hl_iset_destroy(&set);
}

static void json_whole_file_failures(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_text(hl_parse_misp_json, "{\"Event\": {\n\"Attribute\": [}}",
	                            HL_EPARSE, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "not valid JSON: ");
	hl_iset_destroy(&set);

	set = parse_text(hl_parse_misp_json, "\n\n{\"type\": \"bundle\"}", HL_EPARSE, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 3, "not a MISP event");
	hl_iset_destroy(&set);

	set = parse_text(hl_parse_misp_json, "42", HL_EPARSE, &seen, &diag);
	assert_int_equal(seen.n, 1);
	hl_iset_destroy(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(csv_good),
	        cmocka_unit_test(csv_bad_records_name_their_line),
	        cmocka_unit_test(csv_crlf_and_quoting),
	        cmocka_unit_test(csv_whole_file_failures),
	        cmocka_unit_test(csv_hostile_records),
	        cmocka_unit_test(json_event_good),
	        cmocka_unit_test(json_bad_attributes_name_their_line),
	        cmocka_unit_test(json_shapes),
	        cmocka_unit_test(json_whole_file_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
