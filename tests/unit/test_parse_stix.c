/* \summary: unit tests for the STIX 2.1 reader (rules/parse_stix.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "hotline/err.h"
#include "hotline/parse.h"
#include "hotline/timefmt.h"

#define FIXTURES HOTLINE_SOURCE_DIR "/tests/fixtures/rules/stix/"

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

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Parse a fixture into a fresh set; diagnostics land in *seen. */
static hl_iset_t *parse_fixture(const char *name, const struct hl_parse_opts *opts, int want_rc,
                                struct seen *seen, struct hl_diag *diag)
{
	char path[512];
	snprintf(path, sizeof path, FIXTURES "%s", name);
	size_t len;
	char *data = slurp(path, &len);
	*diag = (struct hl_diag){.emit = capture, .ctx = seen};
	memset(seen, 0, sizeof *seen);
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	assert_int_equal(hl_parse_stix(name, data, len, opts, set, diag), want_rc);
	free(data);
	return set;
}

static hl_iset_t *parse_text(const char *text, int want_rc, struct seen *seen, struct hl_diag *diag)
{
	*diag = (struct hl_diag){.emit = capture, .ctx = seen};
	memset(seen, 0, sizeof *seen);
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	/* exact-size heap copy, no NUL: the reader must not need one */
	size_t len = strlen(text);
	char *copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	assert_int_equal(hl_parse_stix("t.json", copy, len, NULL, set, diag), want_rc);
	free(copy);
	return set;
}

static void expect(const struct seen *s, size_t i, enum hl_diag_level level, unsigned long line,
                   const char *msg)
{
	assert_true(i < s->n);
	if (s->d[i].level != level || s->d[i].line != line || strstr(s->d[i].msg, msg) == NULL)
		fail_msg("diag %zu: got %s:%lu \"%s\", want %s:%lu \"%s\"", i,
		         hl_diag_level_name(s->d[i].level), s->d[i].line, s->d[i].msg,
		         hl_diag_level_name(level), line, msg);
}

static int64_t t(const char *iso)
{
	int64_t us;
	assert_int_equal(hl_time_parse(iso, &us), 0);
	return us;
}

static void good_bundle(void **state)
{
	(void)state;
	struct hl_parse_opts opts;
	hl_parse_opts_init(&opts);
	opts.default_source = "feed-x";
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture("good.json", &opts, 0, &seen, &diag);
	assert_int_equal(seen.n, 0);
	assert_int_equal(diag.errors + diag.skipped + diag.warnings, 0);
	assert_int_equal(hl_iset_count(set), 5);

	const struct hl_indicator *ip = hl_iset_find(set, HL_IND_IP, "198.51.100.1");
	assert_non_null(ip);
	assert_string_equal(ip->id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
	assert_string_equal(ip->description, "Command and control server");
	assert_int_equal(ip->valid_from, t("2024-03-01T10:00:00Z"));
	assert_int_equal(ip->valid_until, t("2024-06-01T00:00:00.5Z"));
	assert_int_equal(ip->confidence, 85);
	assert_int_equal(ip->tlp, HL_TLP_GREEN);
	assert_int_equal(ip->tags.n, 2);
	assert_true(hl_strv_contains(&ip->tags, "c2"));
	assert_true(hl_strv_contains(&ip->tags, "botnet"));
	assert_int_equal(ip->sources.n, 1);
	assert_string_equal(ip->sources.v[0], "CERT Alpha"); /* identity resolved */

	/* One pattern, three values: derived ids, the STIX id kept as a tag. */
	static const struct {
		enum hl_ind_type type;
		const char *value;
	} multi[] = {{HL_IND_DOMAIN, "evil.example"},
	             {HL_IND_URL, "x.example/a?b=1"},
	             {HL_IND_IP, "2001:db8::/32"}};
	for (size_t i = 0; i < 3; i++) {
		const struct hl_indicator *ind = hl_iset_find(set, multi[i].type, multi[i].value);
		assert_non_null(ind);
		assert_int_equal(strncmp(ind->id, "hl--", 4), 0);
		assert_true(hl_strv_contains(
		        &ind->tags, "stix-id:indicator--1f3c1b9e-0c6c-4f8a-9a59-3ab0d6c3e0a1"));
		assert_string_equal(ind->description, "Phishing infrastructure"); /* from name */
		assert_int_equal(ind->tlp, HL_TLP_RED); /* marking defined in the bundle */
		assert_string_equal(ind->sources.v[0], "feed-x");
		assert_int_equal(ind->confidence, HL_CONFIDENCE_UNSET);
		assert_int_equal(ind->valid_until, 0);
	}
	const struct hl_indicator *url =
	        hl_iset_find(set, HL_IND_URL, "login.example.net/it's\\here"); /* \' and \\ */
	assert_non_null(url);
	assert_string_equal(url->sources.v[0], "identity--not-in-this-bundle");
	assert_int_equal(url->tlp, HL_TLP_AMBER); /* default */
	assert_null(url->description);
	hl_iset_destroy(&set);
}

static void every_skip_has_a_reason(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture("skips.json", NULL, 0, &seen, &diag);
	assert_int_equal(hl_iset_count(set), 0);
	assert_int_equal(diag.errors, 0);
	assert_int_equal(diag.skipped, 15);
	assert_int_equal(seen.n, 15);
	const char *only = "only = comparisons joined by OR are supported";
	expect(&seen, 0, HL_DIAG_SKIP, 2, "pattern uses AND; only = comparisons joined by OR");
	expect(&seen, 1, HL_DIAG_SKIP, 3, "pattern uses operator MATCHES");
	expect(&seen, 2, HL_DIAG_SKIP, 4, "pattern uses operator !=");
	expect(&seen, 3, HL_DIAG_SKIP, 5, "pattern uses object path file:hashes.'SHA-256'; only");
	expect(&seen, 4, HL_DIAG_SKIP, 6, "pattern uses WITHIN");
	expect(&seen, 5, HL_DIAG_SKIP, 7, "pattern uses FOLLOWEDBY");
	expect(&seen, 6, HL_DIAG_SKIP, 8, "pattern_type sigma is not supported");
	expect(&seen, 7, HL_DIAG_SKIP, 9,
	       "indicator--00000000-0000-4000-8000-000000000008: revoked");
	expect(&seen, 8, HL_DIAG_SKIP, 10, "snort rule is not one content match");
	expect(&seen, 9, HL_DIAG_SKIP, 11, "pcre flags 's' are not supported");
	expect(&seen, 10, HL_DIAG_SKIP, 12, "pattern uses EXISTS");
	expect(&seen, 11, HL_DIAG_SKIP, 13, "compares with a value that is not a string");
	expect(&seen, 12, HL_DIAG_SKIP, 14, "pattern uses REPEATS");
	expect(&seen, 13, HL_DIAG_SKIP, 15, "pattern uses operator IN");
	expect(&seen, 14, HL_DIAG_SKIP, 16, "pattern uses START");
	assert_non_null(strstr(seen.d[0].msg, only));
	assert_string_equal(seen.d[0].msg, "indicator--00000000-0000-4000-8000-000000000001: "
	                                   "pattern uses AND; only = comparisons joined by OR "
	                                   "are supported");
	hl_iset_destroy(&set);
}

static void bad_objects_name_their_line(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture("bad.json", NULL, 0, &seen, &diag);
	assert_int_equal(seen.n, 14);
	assert_int_equal(diag.errors, 14);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "objects[0] is not a JSON object");
	expect(&seen, 1, HL_DIAG_ERROR, 3, "objects[1] has no \"type\" string");
	expect(&seen, 2, HL_DIAG_ERROR, 4,
	       "indicator--10000000-0000-4000-8000-000000000002: invalid stix pattern: missing "
	       "']'");
	expect(&seen, 3, HL_DIAG_ERROR, 5,
	       "indicator--10000000-0000-4000-8000-000000000003: ip '300.1.1.1': ");
	expect(&seen, 4, HL_DIAG_ERROR, 6, "confidence is not an integer in 0..100");
	expect(&seen, 5, HL_DIAG_ERROR, 7, "valid_from is not an RFC 3339 timestamp");
	expect(&seen, 6, HL_DIAG_ERROR, 8, "no pattern string");
	expect(&seen, 7, HL_DIAG_ERROR, 9, "domain 'not ok.example': ");
	expect(&seen, 8, HL_DIAG_ERROR, 11, "objects[8] is not a JSON object");
	expect(&seen, 9, HL_DIAG_ERROR, 12, "invalid hotline pattern: hotline pattern is not uri:");
	expect(&seen, 10, HL_DIAG_ERROR, 13,
	       "invalid stix pattern: invalid escape in string at "
	       "offset 31");
	expect(&seen, 11, HL_DIAG_ERROR, 15, "valid_until is not after valid_from");
	expect(&seen, 12, HL_DIAG_ERROR, 16, "invalid stix pattern: expected '['");
	expect(&seen, 13, HL_DIAG_ERROR, 17,
	       "id indicator--10000000-0000-4000-8000-000000000012 already names an indicator");
	/* the good ones survive */
	assert_int_equal(hl_iset_count(set), 2);
	assert_non_null(hl_iset_find(set, HL_IND_DOMAIN, "ok.example"));
	assert_non_null(hl_iset_find(set, HL_IND_DOMAIN, "n.example"));
	hl_iset_destroy(&set);
}

static void tlp_both_versions(void **state)
{
	(void)state;
	struct hl_parse_opts opts;
	hl_parse_opts_init(&opts);
	opts.default_tlp = HL_TLP_GREEN;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_fixture("tlp.json", &opts, 0, &seen, &diag);
	assert_int_equal(seen.n, 0);
	static const struct {
		const char *domain;
		enum hl_tlp tlp;
	} want[] = {
	        {"v2-clear.example", HL_TLP_CLEAR},
	        {"v2-green.example", HL_TLP_GREEN},
	        {"v2-amber.example", HL_TLP_AMBER},
	        {"v2-amber-strict.example", HL_TLP_AMBER_STRICT},
	        {"v2-red.example", HL_TLP_RED},
	        {"v1-white.example", HL_TLP_CLEAR},
	        {"v1-green.example", HL_TLP_GREEN},
	        {"v1-amber.example", HL_TLP_AMBER},
	        {"v1-red.example", HL_TLP_RED},
	        /* an extension marking in the bundle, strictest of two wins */
	        {"ext-amber-strict.example", HL_TLP_AMBER_STRICT},
	        /* a statement marking is not a TLP: the default applies */
	        {"statement-only.example", HL_TLP_GREEN},
	        {"unmarked.example", HL_TLP_GREEN},
	};
	assert_int_equal(hl_iset_count(set), sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct hl_indicator *ind = hl_iset_find(set, HL_IND_DOMAIN, want[i].domain);
		assert_non_null(ind);
		if (ind->tlp != want[i].tlp)
			fail_msg("%s: tlp %s, want %s", want[i].domain, hl_tlp_name(ind->tlp),
			         hl_tlp_name(want[i].tlp));
	}
	hl_iset_destroy(&set);
}

static void single_indicator_object(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set = parse_text("\n\n  {\"type\": \"indicator\", \"id\": \"indicator--x\",\n"
	                            "   \"pattern\": \"[ipv4-addr:value = '1.2.3.4/8']\"}",
	                            0, &seen, &diag);
	assert_int_equal(hl_iset_count(set), 0);
	expect(&seen, 0, HL_DIAG_ERROR, 3, "indicator--x: ip '1.2.3.4/8': ");
	hl_iset_destroy(&set);

	set = parse_text("{\"type\": \"indicator\", \"id\": \"indicator--x\", \"x_hotline_id\": "
	                 "\"local-7\", \"x_hotline_severity\": \"high\", \"x_hotline_sources\": "
	                 "[\"a\", \"b\"], \"created_by_ref\": \"identity--c\", "
	                 "\"pattern\": \"[ipv4-addr:value == '1.2.3.4']\"}",
	                 0, &seen, &diag);
	assert_int_equal(seen.n, 0);
	const struct hl_indicator *ind = hl_iset_find(set, HL_IND_IP, "1.2.3.4");
	assert_non_null(ind);
	assert_string_equal(ind->id, "local-7"); /* x_hotline_id preferred */
	assert_int_equal(ind->severity, HL_SEV_HIGH);
	assert_int_equal(ind->sources.n, 2); /* x_hotline_sources preferred */
	assert_int_equal(ind->tlp, HL_TLP_AMBER);
	hl_iset_destroy(&set);
}

static void whole_file_failures(void **state)
{
	(void)state;
	struct seen seen;
	struct hl_diag diag;
	hl_iset_t *set =
	        parse_text("{\"type\": \"bundle\",\n \"objects\": [}", HL_EPARSE, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "not valid JSON: ");
	hl_iset_destroy(&set);

	set = parse_text("\n[1, 2]", HL_EPARSE, &seen, &diag);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "not a STIX 2.1 bundle or indicator object");
	assert_int_equal(diag.errors, 1);
	hl_iset_destroy(&set);

	set = parse_text("{\"type\": \"bundle\", \"objects\": {}}", HL_EPARSE, &seen, &diag);
	expect(&seen, 0, HL_DIAG_ERROR, 1, "bundle \"objects\" is not an array");
	hl_iset_destroy(&set);

	set = parse_text("{\"type\": \"report\"}", HL_EPARSE, &seen, &diag);
	assert_int_equal(seen.n, 1);
	hl_iset_destroy(&set);

	set = parse_text("", HL_EPARSE, &seen, &diag);
	assert_int_equal(seen.n, 1);
	hl_iset_destroy(&set);

	/* a byte order mark is skipped, and lines still count from it */
	set = parse_text(
	        "\xef\xbb\xbf{\"type\": \"bundle\", \"objects\": [\n"
	        "{\"type\": \"indicator\", \"pattern\": \"[ipv4-addr:value = '1.2.3.4/8']\"}]}",
	        0, &seen, &diag);
	assert_int_equal(seen.n, 1);
	expect(&seen, 0, HL_DIAG_ERROR, 2, "indicator: ip '1.2.3.4/8': ");
	hl_iset_destroy(&set);

	/* an empty bundle is fine */
	set = parse_text("{\"type\": \"bundle\", \"id\": \"bundle--1\"}", 0, &seen, &diag);
	assert_int_equal(seen.n, 0);
	hl_iset_destroy(&set);
}

/* Patterns the grammar must reject or accept, checked through tiny
 * bundles so each reason and each accepted form is pinned. */
static void pattern_grammar(void **state)
{
	(void)state;
	static const struct {
		const char *pattern;
		const char *ptype;
		enum hl_diag_level level; /* HL_DIAG_NOTE: accepted */
		const char *msg;          /* accepted: canonical value */
	} cases[] = {
	        {"[domain-name:value = 'a.example']", "stix", HL_DIAG_NOTE, "a.example"},
	        {"  ( ( [ domain-name:value='a.example' ] ) )  ", "stix", HL_DIAG_NOTE,
	         "a.example"},
	        {"[(domain-name:value = 'a.example' or url:value = 'a.example/x')]", "stix",
	         HL_DIAG_NOTE, "a.example"},
	        {"[domain-name:value = 'a.example'", "stix", HL_DIAG_ERROR, "missing ']'"},
	        {"[domain-name:value = 'a.example]", "stix", HL_DIAG_ERROR, "unterminated string"},
	        {"domain-name:value = 'a.example'", "stix", HL_DIAG_ERROR, "expected '['"},
	        {"[domain-name:value = 'a.example'] junk", "stix", HL_DIAG_ERROR,
	         "unexpected word 'junk'"},
	        {"[domain-name:value = 'a.example'] ]", "stix", HL_DIAG_ERROR,
	         "unexpected character ']'"},
	        {"[= 'a.example']", "stix", HL_DIAG_ERROR, "expected an object path at offset 1"},
	        {"[domain-name:value 'a.example']", "stix", HL_DIAG_ERROR,
	         "expected a comparison operator"},
	        {"[domain-name:value]", "stix", HL_DIAG_ERROR, "expected a comparison operator"},
	        {"[domain-name:value =]", "stix", HL_DIAG_ERROR, "expected a value after '='"},
	        {"[domain-name:value = h'00ff']", "stix", HL_DIAG_SKIP, "not a string"},
	        {"[domain-name:value =", "stix", HL_DIAG_ERROR, "missing value after '='"},
	        {"[email-addr:value = 'a@b.example']", "stix", HL_DIAG_SKIP, "email-addr:value"},
	        {"[network-traffic:dst_ref[*].value = '1.2.3.4']", "stix", HL_DIAG_SKIP,
	         "network-traffic:dst_ref[*].value"},
	        {"[domain-name:value NOT = 'a.example']", "stix", HL_DIAG_SKIP, "operator NOT"},
	        {"[domain-name:value LIKE 'a%']", "stix", HL_DIAG_SKIP, "operator LIKE"},
	        {"[domain-name:value > 'a']", "stix", HL_DIAG_SKIP, "operator >"},
	        {"[domain-name:value <= 'a']", "stix", HL_DIAG_SKIP, "operator <="},
	        {"[NOT domain-name:value = 'a']", "stix", HL_DIAG_SKIP, "uses NOT"},
	        {"[domain-name:value = 'a.example'] and [url:value = 'b.example/']", "stix",
	         HL_DIAG_SKIP, "uses AND"},
	        {"((((((((((((((((((((((((((((((((([domain-name:value = 'a.example'])))))))))))))))"
	         "))))))))))))))))))",
	         "stix", HL_DIAG_ERROR, "nest deeper than 32"},
	        {"", "stix", HL_DIAG_ERROR, "expected '['"},
	        {"content:\"GET /|0d 0a|\";", "snort", HL_DIAG_NOTE, "GET /|0d 0a|"},
	        {"content:\"GET\"; nocase;", "snort", HL_DIAG_NOTE, "GET"},
	        {"content:\"\";", "snort", HL_DIAG_SKIP, "not one content match"},
	        {"content:\"a\"b\";", "snort", HL_DIAG_SKIP, "not one content match"},
	        {"content:\"|zz|\";", "snort", HL_DIAG_ERROR, "content '|zz|': "},
	        {"/ev[i]l/", "pcre", HL_DIAG_NOTE, "ev[i]l"},
	        {"/a/b/i", "pcre", HL_DIAG_NOTE, "a/b"},
	        {"evil", "pcre", HL_DIAG_ERROR, "not /REGEX/flags"},
	        {"/", "pcre", HL_DIAG_ERROR, "not /REGEX/flags"},
	        {"/a/ms", "pcre", HL_DIAG_SKIP, "flags 'ms'"},
	        {"uri:'/a?b=\\'c\\''", "hotline", HL_DIAG_NOTE, "/a?b='c'"},
	        {"uri:'/a' x", "hotline", HL_DIAG_ERROR, "junk after uri:'...'"},
	        {"uri:'a'", "hotline", HL_DIAG_ERROR, "uri 'a': "},
	        {"rule x {}", "yara", HL_DIAG_SKIP, "pattern_type yara is not supported"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *o =
		        json_pack("{s:s, s:s, s:s, s:s}", "type", "indicator", "id", "indicator--p",
		                  "pattern", cases[i].pattern, "pattern_type", cases[i].ptype);
		assert_non_null(o);
		char *text = json_dumps(o, 0);
		json_decref(o);
		struct seen seen;
		struct hl_diag diag;
		hl_iset_t *set = parse_text(text, 0, &seen, &diag);
		if (cases[i].level == HL_DIAG_NOTE) {
			if (seen.n != 0)
				fail_msg("case %zu: unexpected \"%s\"", i, seen.d[0].msg);
			assert_true(hl_iset_count(set) >= 1);
			assert_string_equal(hl_iset_at(set, 0)->value, cases[i].msg);
		} else {
			if (seen.n != 1)
				fail_msg("case %zu: %zu diagnostics", i, seen.n);
			expect(&seen, 0, cases[i].level, 1, cases[i].msg);
			assert_int_equal(hl_iset_count(set), 0);
		}
		hl_iset_destroy(&set);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(good_bundle),
	        cmocka_unit_test(every_skip_has_a_reason),
	        cmocka_unit_test(bad_objects_name_their_line),
	        cmocka_unit_test(tlp_both_versions),
	        cmocka_unit_test(single_indicator_object),
	        cmocka_unit_test(whole_file_failures),
	        cmocka_unit_test(pattern_grammar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
