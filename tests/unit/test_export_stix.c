/* \summary: unit tests for the STIX 2.1 writer (rules/export_stix.c) and round trips */
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
#include "hotline/export.h"
#include "hotline/parse.h"
#include "hotline/timefmt.h"

#define NOW 1709287200000000LL /* 2024-03-01T10:00:00Z */

static void add(hl_iset_t *set, struct hl_indicator *ind)
{
	char why[256];
	if (hl_indicator_normalise(ind, why, sizeof why) != 0)
		fail_msg("normalise %s: %s", ind->value, why);
	assert_int_equal(hl_iset_add(set, ind, NULL), 0);
}

static struct hl_indicator make(enum hl_ind_type type, const char *value, enum hl_tlp tlp)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = type;
	ind.value = strdup(value);
	ind.tlp = tlp;
	return ind;
}

/* One of every type, and every field the writer must carry. */
static hl_iset_t *every_type(void)
{
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	struct hl_indicator ind = make(HL_IND_IP, "198.51.100.1", HL_TLP_GREEN);
	ind.description = strdup("C2 \"server\"");
	ind.confidence = 85;
	ind.severity = HL_SEV_HIGH;
	assert_int_equal(hl_time_parse("2024-03-01T10:00:00.123456Z", &ind.valid_from), 0);
	assert_int_equal(hl_time_parse("2024-06-01T00:00:00Z", &ind.valid_until), 0);
	hl_strv_push(&ind.tags, "c2");
	hl_strv_push(&ind.tags, "botnet");
	hl_strv_push(&ind.sources, "CERT Alpha");
	add(set, &ind);

	ind = make(HL_IND_IP, "2001:db8::/32", HL_TLP_CLEAR);
	ind.confidence = 0;
	add(set, &ind);

	ind = make(HL_IND_DOMAIN, "evil.example", HL_TLP_AMBER_STRICT);
	hl_strv_push(&ind.sources, "CERT Alpha");
	hl_strv_push(&ind.sources, "CERT Bravo");
	add(set, &ind);

	ind = make(HL_IND_URL, "x.example/it's\\here?q=1", HL_TLP_RED);
	ind.id = strdup("indicator--0b0e3b44-6d0c-4a43-9c59-7c3a3e0f1a2b");
	hl_strv_push(&ind.sources, "CERT Bravo");
	add(set, &ind);

	ind = make(HL_IND_URI, "/login.php?u='admin'", HL_TLP_AMBER);
	ind.severity = HL_SEV_CRITICAL;
	add(set, &ind);

	ind = make(HL_IND_CONTENT, "a\";b\\c|0d 0a|", HL_TLP_AMBER);
	ind.nocase = true;
	add(set, &ind);

	ind = make(HL_IND_CONTENT, "GET /x", HL_TLP_AMBER);
	ind.id = strdup("local:content-1");
	add(set, &ind);

	ind = make(HL_IND_REGEX, "ev/il[0-9]+", HL_TLP_GREEN);
	ind.nocase = true;
	add(set, &ind);

	ind = make(HL_IND_REGEX, "^user=[a-z]{3,}", HL_TLP_GREEN);
	add(set, &ind);
	return set;
}

static char *write_stix(const hl_iset_t *set, int64_t now, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	assert_non_null(f);
	assert_int_equal(hl_write_stix(f, set, now), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void hash_of(const hl_iset_t *set, char hex[HL_SHA256_HEX_LEN])
{
	uint8_t h[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(set, h), 0);
	hl_hex(h, sizeof h, hex);
}

static void round_trip_is_exact(void **state)
{
	(void)state;
	hl_iset_t *set = every_type();
	size_t len;
	char *text = write_stix(set, NOW, &len);

	struct hl_diag diag = {0};
	hl_iset_t *back = hl_iset_new();
	assert_int_equal(hl_parse_stix("out.json", text, len, NULL, back, &diag), 0);
	assert_int_equal(diag.errors + diag.skipped + diag.warnings + diag.notes, 0);
	assert_int_equal(hl_iset_count(back), hl_iset_count(set));
	char a[HL_SHA256_HEX_LEN], b[HL_SHA256_HEX_LEN];
	hash_of(set, a);
	hash_of(back, b);
	assert_string_equal(a, b);

	/* and once more: the second write of the read-back set is identical */
	size_t len2;
	char *text2 = write_stix(back, NOW, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	free(text2);
	free(text);
	hl_iset_destroy(&back);
	hl_iset_destroy(&set);
}

static json_t *find_object(json_t *bundle, const char *type, const char *key, const char *want)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(bundle, "objects"), i, o)
	{
		const char *v = json_string_value(json_object_get(o, key));
		if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 && v != NULL &&
		    strcmp(v, want) == 0)
			return o;
	}
	return NULL;
}

static const char *member(json_t *o, const char *key)
{
	assert_non_null(o);
	const char *s = json_string_value(json_object_get(o, key));
	if (s == NULL)
		fail_msg("no string %s", key);
	return s;
}

static void uuid_shape(const char *id, const char *prefix)
{
	size_t p = strlen(prefix);
	assert_int_equal(strncmp(id, prefix, p), 0);
	assert_int_equal(strlen(id), p + 36);
	assert_int_equal(id[p + 14], '5');           /* version */
	assert_non_null(strchr("89ab", id[p + 19])); /* variant */
	assert_true(id[p + 8] == '-' && id[p + 13] == '-' && id[p + 23] == '-');
}

static void layout_and_fields(void **state)
{
	(void)state;
	hl_iset_t *set = every_type();
	size_t len;
	char *text = write_stix(set, NOW, &len);

	/* keys sorted, two-space indent: jansson's own rendering of the tree */
	json_error_t err;
	json_t *bundle = json_loadb(text, len, 0, &err);
	assert_non_null(bundle);
	char *again = json_dumps(bundle, JSON_INDENT(2) | JSON_SORT_KEYS);
	assert_non_null(again);
	assert_int_equal(strlen(again) + 1, len);
	assert_memory_equal(again, text, len - 1);
	assert_int_equal(text[len - 1], '\n');
	free(again);

	assert_string_equal(member(bundle, "type"), "bundle");
	uint8_t h[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(set, h), 0);
	uuid_shape(member(bundle, "id"), "bundle--");
	/* markings first (only the levels used), identities, then indicators */
	json_t *objects = json_object_get(bundle, "objects");
	assert_int_equal(json_array_size(objects), 5 + 2 + 9);
	static const char *const order[] = {"marking-definition",
	                                    "marking-definition",
	                                    "marking-definition",
	                                    "marking-definition",
	                                    "marking-definition",
	                                    "identity",
	                                    "identity"};
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(member(json_array_get(objects, i), "type"), order[i]);
	json_t *md = find_object(bundle, "marking-definition", "name", "TLP:AMBER+STRICT");
	assert_string_equal(member(md, "id"),
	                    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
	json_t *ext = json_object_get(json_object_get(md, "extensions"),
	                              "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d");
	assert_string_equal(member(ext, "tlp_2_0"), "amber+strict");
	json_t *alpha = find_object(bundle, "identity", "name", "CERT Alpha");
	uuid_shape(member(alpha, "id"), "identity--");

	json_t *ip =
	        find_object(bundle, "indicator", "pattern", "[ipv4-addr:value = '198.51.100.1']");
	assert_string_equal(member(ip, "pattern_type"), "stix");
	assert_string_equal(member(ip, "pattern_version"), "2.1");
	assert_string_equal(member(ip, "spec_version"), "2.1");
	assert_string_equal(member(ip, "created"), "2024-03-01T10:00:00.000000Z");
	assert_string_equal(member(ip, "valid_from"), "2024-03-01T10:00:00.123456Z");
	assert_string_equal(member(ip, "valid_until"), "2024-06-01T00:00:00.000000Z");
	assert_string_equal(member(ip, "description"), "C2 \"server\"");
	assert_string_equal(member(ip, "x_hotline_severity"), "high");
	assert_string_equal(member(ip, "created_by_ref"), member(alpha, "id"));
	assert_null(json_object_get(ip, "x_hotline_sources")); /* one source: the identity */
	assert_int_equal(json_integer_value(json_object_get(ip, "confidence")), 85);
	assert_string_equal(json_string_value(json_array_get(json_object_get(ip, "labels"), 1)),
	                    "botnet");
	assert_string_equal(
	        json_string_value(json_array_get(json_object_get(ip, "object_marking_refs"), 0)),
	        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
	const struct hl_indicator *hip = hl_iset_find(set, HL_IND_IP, "198.51.100.1");
	assert_string_equal(member(ip, "x_hotline_id"), hip->id);
	uuid_shape(member(ip, "id"), "indicator--");

	json_t *v6 =
	        find_object(bundle, "indicator", "pattern", "[ipv6-addr:value = '2001:db8::/32']");
	assert_string_equal(member(v6, "valid_from"), "1970-01-01T00:00:00.000000Z");
	assert_int_equal(json_integer_value(json_object_get(v6, "confidence")), 0);
	assert_null(json_object_get(v6, "created_by_ref"));
	assert_null(json_object_get(v6, "labels"));

	json_t *dom =
	        find_object(bundle, "indicator", "pattern", "[domain-name:value = 'evil.example']");
	assert_int_equal(json_array_size(json_object_get(dom, "x_hotline_sources")), 2);

	json_t *url = find_object(bundle, "indicator", "pattern",
	                          "[url:value = 'x.example/it\\'s\\\\here?q=1']");
	assert_string_equal(member(url, "id"), "indicator--0b0e3b44-6d0c-4a43-9c59-7c3a3e0f1a2b");
	assert_null(json_object_get(url, "x_hotline_id")); /* already a STIX id */

	json_t *uri = find_object(bundle, "indicator", "pattern", "uri:'/login.php?u=\\'admin\\''");
	assert_string_equal(member(uri, "pattern_type"), "hotline");
	assert_null(json_object_get(uri, "pattern_version"));

	json_t *c1 = find_object(bundle, "indicator", "pattern",
	                         "content:\"a|22||3b|b|5c|c|0d 0a|\"; nocase;");
	assert_string_equal(member(c1, "pattern_type"), "snort");
	json_t *c2 = find_object(bundle, "indicator", "pattern", "content:\"GET /x\";");
	assert_string_equal(member(c2, "x_hotline_id"), "local:content-1");
	json_t *r1 = find_object(bundle, "indicator", "pattern", "/ev/il[0-9]+/i");
	assert_string_equal(member(r1, "pattern_type"), "pcre");
	assert_non_null(find_object(bundle, "indicator", "pattern", "/^user=[a-z]{3,}/"));

	/* the same set and clock give the same bytes; ids do not follow the clock */
	size_t len2;
	char *text2 = write_stix(set, NOW, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	free(text2);
	text2 = write_stix(set, NOW + 1000000, &len2);
	json_t *later = json_loadb(text2, len2, 0, &err);
	assert_string_equal(member(later, "id"), member(bundle, "id"));
	json_decref(later);
	free(text2);

	json_decref(bundle);
	free(text);
	hl_iset_destroy(&set);
}

static void empty_set(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	size_t len;
	char *text = write_stix(set, NOW, &len);
	json_error_t err;
	json_t *bundle = json_loadb(text, len, 0, &err);
	assert_non_null(bundle);
	assert_null(json_object_get(bundle, "objects")); /* STIX: absent, never empty */
	struct hl_diag diag = {0};
	hl_iset_t *back = hl_iset_new();
	assert_int_equal(hl_parse_stix("empty.json", text, len, NULL, back, &diag), 0);
	assert_int_equal(hl_iset_count(back), 0);
	assert_int_equal(diag.errors, 0);
	json_decref(bundle);
	free(text);
	hl_iset_destroy(&back);
	hl_iset_destroy(&set);
}

static void write_errors(void **state)
{
	(void)state;
	hl_iset_t *set = every_type();
	assert_int_equal(hl_write_stix(NULL, set, NOW), HL_EINVAL);
	assert_int_equal(hl_write_stix(stdout, NULL, NOW), HL_EINVAL);
	/* a stream that cannot be written */
	FILE *ro = fopen("/dev/null", "r");
	assert_non_null(ro);
	assert_int_equal(hl_write_stix(ro, set, NOW), HL_EIO);
	fclose(ro);
	hl_iset_destroy(&set);
}

/* A STIX bundle from the reader's fixtures, written back and read again,
 * keeps its set hash. */
static void third_party_bundle_survives(void **state)
{
	(void)state;
	FILE *f = fopen(HOTLINE_SOURCE_DIR "/tests/fixtures/rules/stix/good.json", "rb");
	assert_non_null(f);
	char buf[16384];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	struct hl_parse_opts opts;
	hl_parse_opts_init(&opts);
	hl_iset_t *set = hl_iset_new();
	struct hl_diag diag = {0};
	assert_int_equal(hl_parse_stix("good.json", buf, n, &opts, set, &diag), 0);
	assert_int_equal(diag.errors, 0);
	size_t len;
	char *text = write_stix(set, NOW, &len);
	hl_iset_t *back = hl_iset_new();
	assert_int_equal(hl_parse_stix("again.json", text, len, &opts, back, &diag), 0);
	assert_int_equal(diag.errors + diag.skipped, 0);
	char a[HL_SHA256_HEX_LEN], b[HL_SHA256_HEX_LEN];
	hash_of(set, a);
	hash_of(back, b);
	assert_string_equal(a, b);
	free(text);
	hl_iset_destroy(&back);
	hl_iset_destroy(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(round_trip_is_exact),
	        cmocka_unit_test(layout_and_fields),
	        cmocka_unit_test(empty_set),
	        cmocka_unit_test(write_errors),
	        cmocka_unit_test(third_party_bundle_survives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
