/* \summary: unit tests for the indicator set, native lines and the set hash */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/indicator.h"
#include "hotline/iset.h"

static void make(struct hl_indicator *ind, enum hl_ind_type type, const char *value)
{
	hl_indicator_init(ind);
	ind->type = type;
	ind->value = strdup(value);
	assert_int_equal(hl_indicator_normalise(ind, NULL, 0), 0);
}

static void add(hl_iset_t *set, enum hl_ind_type type, const char *value, int want)
{
	struct hl_indicator ind;
	make(&ind, type, value);
	assert_int_equal(hl_iset_add(set, &ind, NULL), want);
	assert_null(ind.value); /* ownership moved whatever the outcome */
}

static void dedup_and_find(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	struct hl_indicator ind;
	bool merged = true;

	make(&ind, HL_IND_DOMAIN, "Example.com");
	ind.confidence = 10;
	hl_strv_push(&ind.sources, "alpha");
	assert_int_equal(hl_iset_add(set, &ind, &merged), 0);
	assert_false(merged);

	make(&ind, HL_IND_DOMAIN, "example.com.");
	ind.confidence = 90;
	hl_strv_push(&ind.sources, "bravo");
	assert_int_equal(hl_iset_add(set, &ind, &merged), 0);
	assert_true(merged);

	add(set, HL_IND_URL, "example.com", 0);
	assert_int_equal(hl_iset_count(set), 2);

	const struct hl_indicator *got = hl_iset_find(set, HL_IND_DOMAIN, "example.com");
	assert_non_null(got);
	assert_int_equal(got->confidence, 90);
	assert_int_equal(got->sources.n, 2);
	assert_ptr_equal(hl_iset_find_id(set, got->id), got);
	assert_null(hl_iset_find(set, HL_IND_IP, "example.com"));
	assert_null(hl_iset_find_id(set, "nope"));
	assert_ptr_equal(hl_iset_at(set, 0), got);
	assert_null(hl_iset_at(set, 2));

	/* A given id already used by another value is refused. */
	make(&ind, HL_IND_IP, "1.2.3.4");
	free(ind.id);
	ind.id = strdup(got->id);
	assert_int_equal(hl_iset_add(set, &ind, &merged), HL_EEXISTS);
	assert_null(ind.id);
	assert_int_equal(hl_iset_count(set), 2);

	/* Not normalised: no id. */
	hl_indicator_init(&ind);
	ind.value = strdup("1.2.3.4");
	assert_int_equal(hl_iset_add(set, &ind, NULL), HL_EINVAL);
	assert_null(ind.value);

	hl_iset_set_version(set, 7);
	assert_int_equal(hl_iset_version(set), 7);
	hl_iset_destroy(&set);
	assert_null(set);
	hl_iset_destroy(&set);
}

static void sort_is_canonical(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	add(set, HL_IND_URL, "b.example/", 0);
	add(set, HL_IND_DOMAIN, "b.example", 0);
	add(set, HL_IND_IP, "9.9.9.9", 0);
	add(set, HL_IND_DOMAIN, "a.example", 0);
	add(set, HL_IND_IP, "10.0.0.0/8", 0);
	hl_iset_sort(set);
	static const char *const want[] = {"10.0.0.0/8", "9.9.9.9", "a.example", "b.example",
	                                   "b.example/"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(hl_iset_at(set, i)->value, want[i]);
	/* Indexes follow the move. */
	const struct hl_indicator *a = hl_iset_find(set, HL_IND_DOMAIN, "a.example");
	assert_ptr_equal(a, hl_iset_at(set, 2));
	assert_ptr_equal(hl_iset_find_id(set, a->id), a);
	hl_iset_destroy(&set);
}

static void native_line_is_canonical(void **state)
{
	(void)state;
	struct hl_indicator ind;
	make(&ind, HL_IND_DOMAIN, "example.com");
	char *line = hl_indicator_to_native(&ind);
	assert_string_equal(line, "{\"id\":\"hl--ed152b32b035d8e873341938ca5f75d2\",\"tlp\":"
	                          "\"amber\",\"type\":\"domain\",\"value\":\"example.com\"}");
	free(line);

	ind.confidence = 80;
	ind.severity = HL_SEV_HIGH;
	ind.valid_from = INT64_C(1462960800000000);
	ind.valid_until = INT64_C(1462960800000001);
	ind.tlp = HL_TLP_CLEAR;
	hl_strv_push(&ind.sources, "bravo");
	hl_strv_push(&ind.sources, "alpha");
	hl_strv_push(&ind.tags, "z");
	hl_strv_push(&ind.tags, "a");
	ind.description = strdup("say \"hi\"");
	line = hl_indicator_to_native(&ind);
	assert_string_equal(
	        line, "{\"confidence\":80,\"description\":\"say \\\"hi\\\"\","
	              "\"id\":\"hl--ed152b32b035d8e873341938ca5f75d2\",\"severity\":\"high\","
	              "\"source\":[\"alpha\",\"bravo\"],\"tags\":[\"a\",\"z\"],\"tlp\":\"clear\","
	              "\"type\":\"domain\",\"valid_from\":\"2016-05-11T10:00:00.000000Z\","
	              "\"valid_until\":\"2016-05-11T10:00:00.000001Z\",\"value\":\"example.com\"}");
	free(line);
	hl_indicator_clear(&ind);

	make(&ind, HL_IND_CONTENT, "GET|0D0A|");
	ind.nocase = true;
	line = hl_indicator_to_native(&ind);
	assert_non_null(strstr(line, "\"nocase\":true"));
	assert_non_null(strstr(line, "\"value\":\"GET|0d 0a|\""));
	free(line);
	hl_indicator_clear(&ind);
	assert_null(hl_indicator_to_native(&ind));
}

static void fill(hl_iset_t *set, const size_t *order, size_t n)
{
	static const char *const values[] = {"1.2.3.4",    "example.com", "evil.example/x?y",
	                                     "/admin.php", "GET|0d 0a|",  "ab+c"};
	for (size_t i = 0; i < n; i++) {
		size_t k = order[i];
		struct hl_indicator ind;
		make(&ind, (enum hl_ind_type)k, values[k]);
		hl_strv_push(&ind.sources, k % 2 ? "alpha" : "bravo");
		assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
	}
}

static void hash_ignores_order_sees_fields(void **state)
{
	(void)state;
	static const size_t fwd[] = {0, 1, 2, 3, 4, 5}, rev[] = {5, 3, 1, 4, 2, 0};
	hl_iset_t *a = hl_iset_new(), *b = hl_iset_new();
	fill(a, fwd, 6);
	fill(b, rev, 6);
	uint8_t ha[HL_SHA256_LEN], hb[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(a, ha), 0);
	assert_int_equal(hl_iset_hash(b, hb), 0);
	assert_memory_equal(ha, hb, sizeof ha);
	/* The hash did not reorder b. */
	assert_string_equal(hl_iset_at(b, 0)->value, "ab+c");

	/* Changing any one field changes the hash. */
	for (int field = 0; field < 9; field++) {
		hl_iset_t *c = hl_iset_new();
		fill(c, fwd, 5);
		struct hl_indicator ind;
		make(&ind, HL_IND_REGEX, "ab+c");
		hl_strv_push(&ind.sources, "alpha");
		switch (field) {
		case 0:
			ind.confidence = 50;
			break;
		case 1:
			ind.tlp = HL_TLP_RED;
			break;
		case 2:
			ind.severity = HL_SEV_LOW;
			break;
		case 3:
			ind.valid_from = 1;
			break;
		case 4:
			ind.valid_until = 1;
			break;
		case 5:
			ind.nocase = true;
			break;
		case 6:
			hl_strv_push(&ind.tags, "t");
			break;
		case 7:
			ind.description = strdup("d");
			break;
		case 8:
			hl_strv_push(&ind.sources, "charlie");
			break;
		}
		assert_int_equal(hl_iset_add(c, &ind, NULL), 0);
		uint8_t hc[HL_SHA256_LEN];
		assert_int_equal(hl_iset_hash(c, hc), 0);
		assert_memory_not_equal(ha, hc, sizeof ha);
		hl_iset_destroy(&c);
	}

	char hex[HL_SHA256_HEX_LEN];
	hl_hex((const uint8_t *)"\x00\xab\xff", 3, hex);
	assert_string_equal(hex, "00abff");
	hl_iset_t *empty = hl_iset_new();
	assert_int_equal(hl_iset_hash(empty, ha), 0);
	hl_hex(ha, sizeof ha, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hl_iset_destroy(&empty);
	hl_iset_destroy(&a);
	hl_iset_destroy(&b);
}

static void write_native_sorted(void **state)
{
	(void)state;
	static const size_t rev[] = {5, 3, 1, 4, 2, 0};
	hl_iset_t *set = hl_iset_new();
	fill(set, rev, 6);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(hl_write_native(f, set), 0);
	fclose(f);
	/* Six lines in type order, and their digest is the set hash. */
	const char *ip = strstr(buf, "\"type\":\"ip\"");
	const char *re = strstr(buf, "\"type\":\"regex\"");
	assert_true(ip != NULL && re != NULL && ip < re);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 6);
	free(buf);
	hl_iset_destroy(&set);
}

/* A million distinct addresses: adds must stay O(1) each. */
static void million_adds(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char value[32], id[32];
	for (uint32_t i = 0; i < 1000000; i++) {
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		snprintf(value, sizeof value, "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		snprintf(id, sizeof id, "id-%u", i);
		ind.value = strdup(value);
		ind.id = strdup(id);
		assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("1M adds: %.3f s\n", secs);
	assert_int_equal(hl_iset_count(set), 1000000);
	assert_null(hl_iset_find(set, HL_IND_IP, "10.15.66.64"));
	const struct hl_indicator *got = hl_iset_find(set, HL_IND_IP, "10.15.66.63");
	assert_non_null(got);
	assert_string_equal(got->id, "id-999999");
	assert_ptr_equal(hl_iset_find_id(set, "id-999999"), got);
	hl_iset_sort(set);
	assert_string_equal(hl_iset_at(set, 0)->value, "10.0.0.0");
	hl_iset_destroy(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(dedup_and_find),
	        cmocka_unit_test(sort_is_canonical),
	        cmocka_unit_test(native_line_is_canonical),
	        cmocka_unit_test(hash_ignores_order_sees_fields),
	        cmocka_unit_test(write_native_sorted),
	        cmocka_unit_test(million_adds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
