/* \summary: unit tests for the compact matcher store: views, ids, interning, value table */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/matcher.h"
#include "vtable.h"

static void add(hl_iset_t *set, enum hl_ind_type type, const char *value, const char *id,
                const char *source, int confidence)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = type;
	ind.value = strdup(value);
	if (id != NULL)
		ind.id = strdup(id);
	if (source != NULL)
		hl_strv_push(&ind.sources, source);
	ind.confidence = confidence;
	char why[256];
	if (hl_indicator_normalise(&ind, why, sizeof why) != 0)
		fail_msg("%s: %s", value, why);
	assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
}

static hl_matcher_t *compile(hl_iset_t *set)
{
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_matcher_compile(set, NULL, &m, NULL, NULL), 0);
	return m;
}

static void views_and_ids(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	add(set, HL_IND_DOMAIN, "derived.example", NULL, "alpha", 50);
	add(set, HL_IND_DOMAIN, "given.example", "indicator--1234", "alpha", 50);
	/* An hl-- id that is not the derived one is kept as given. */
	add(set, HL_IND_DOMAIN, "forged.example", "hl--00000000000000000000000000000000", NULL,
	    HL_CONFIDENCE_UNSET);
	add(set, HL_IND_IP, "192.0.2.1", NULL, "bravo", 90);
	hl_matcher_t *m = compile(set);
	hl_iset_destroy(&set);
	assert_int_equal(hl_matcher_count(m), 4);

	/* Canonical order: ip first, then domains bytewise. */
	assert_int_equal(hl_matcher_type(m, 0), HL_IND_IP);
	assert_int_equal(hl_matcher_type(m, 1), HL_IND_DOMAIN);
	assert_int_equal(hl_matcher_type(m, 4), HL_IND_TYPE_COUNT);

	struct hl_indicator v;
	char idbuf[HL_MATCHER_ID_BUF], want[HL_MATCHER_ID_BUF];
	assert_int_equal(hl_matcher_view(m, 1, &v, idbuf), 0);
	assert_string_equal(v.value, "derived.example");
	assert_int_equal(
	        hl_indicator_derive_id(HL_IND_DOMAIN, "derived.example", want, sizeof want), 0);
	assert_string_equal(v.id, want);
	assert_ptr_equal(v.id, idbuf); /* computed, not stored */
	assert_int_equal(v.sources.n, 1);
	assert_string_equal(v.sources.v[0], "alpha");
	assert_int_equal(v.tags.n, 0);
	assert_null(v.description);
	assert_int_equal(v.confidence, 50);

	assert_int_equal(hl_matcher_view(m, 2, &v, idbuf), 0);
	assert_string_equal(v.value, "forged.example");
	assert_string_equal(v.id, "hl--00000000000000000000000000000000");
	assert_ptr_not_equal(v.id, idbuf);
	assert_int_equal(v.sources.n, 0);
	assert_int_equal(v.confidence, HL_CONFIDENCE_UNSET);

	assert_string_equal(hl_matcher_id(m, 3, idbuf), "indicator--1234");
	assert_int_equal(hl_matcher_view(m, 0, &v, idbuf), 0);
	assert_string_equal(v.value, "192.0.2.1");
	assert_string_equal(v.sources.v[0], "bravo");

	assert_int_equal(hl_matcher_view(m, 4, &v, idbuf), HL_ENOTFOUND);
	assert_null(hl_matcher_id(m, 4, idbuf));
	assert_int_equal(hl_matcher_view(NULL, 0, &v, idbuf), HL_EINVAL);

	/* The pointer API gives the same thing, the same pointer each time. */
	const struct hl_indicator *p = hl_matcher_indicator(m, 1);
	assert_non_null(p);
	assert_string_equal(p->id, want);
	assert_ptr_equal(hl_matcher_indicator(m, 1), p);
	/* An owned copy of a view outlives nothing it points at. */
	struct hl_indicator copy;
	hl_indicator_init(&copy);
	assert_int_equal(hl_matcher_view(m, 3, &v, idbuf), 0);
	assert_int_equal(hl_indicator_copy(&copy, &v), 0);
	hl_matcher_destroy(&m);
	assert_string_equal(copy.value, "given.example");
	assert_string_equal(copy.id, "indicator--1234");
	hl_indicator_clear(&copy);
}

/* A million-indicator feed shares its metadata: the store interns it. */
static void shared_metadata_is_stored_once(void **state)
{
	(void)state;
	enum { N = 5000 };
	hl_iset_t *set = hl_iset_new();
	char v[64];
	size_t value_bytes = 0;
	for (int i = 0; i < N; i++) {
		snprintf(v, sizeof v, "host-%d.bad.example", i);
		value_bytes += strlen(v) + 1;
		add(set, HL_IND_DOMAIN, v, NULL, i % 2 ? "alpha" : "bravo", 80);
	}
	hl_matcher_t *m = compile(set);
	hl_iset_destroy(&set);
	/* Per indicator: a 12-byte record, its value, and 8-byte table slots
	 * at load <= 0.7; everything else is shared. */
	size_t mem = hl_matcher_memory(m);
	size_t per = (mem - value_bytes) / N;
	print_message("%zu bytes per indicator besides its value\n", per);
	assert_true(per <= 12 + 12 + 4);

	/* In the file: two metas (the two sources), two lists. */
	char path[512];
	snprintf(path, sizeof path, "%s/test_matcher_store.%ld.hlx", HOTLINE_BINARY_DIR,
	         (long)getpid());
	assert_int_equal(hl_matcher_save(m, path), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t head[88 + 16];
	assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
	fclose(f);
	uint32_t counts[4];
	memcpy(counts, head + 88, sizeof counts);
	assert_int_equal(counts[0], N);
	assert_int_equal(counts[1], 2); /* metas */
	assert_int_equal(counts[2], 4); /* pool: [1, alpha] [1, bravo] */
	hl_matcher_t *back = NULL;
	assert_int_equal(hl_matcher_load(path, &back, NULL), 0);
	unlink(path);
	assert_int_equal(hl_matcher_memory(back), mem);
	assert_int_equal(hl_match_field(back, NULL, HL_FIELD_DNS_QUERY, "x.host-4999.bad.example",
	                                23, 0, NULL, NULL),
	                 1);
	assert_int_equal(hl_match_field(back, NULL, HL_FIELD_DNS_QUERY, "host-5000.bad.example", 21,
	                                0, NULL, NULL),
	                 0);
	hl_matcher_destroy(&back);
	hl_matcher_destroy(&m);
}

struct race {
	const hl_matcher_t *m;
	const struct hl_indicator *got[64];
};

static void *grab_all(void *arg)
{
	struct race *r = arg;
	for (uint32_t i = 0; i < 64; i++)
		r->got[i] = hl_matcher_indicator(r->m, i);
	return NULL;
}

/* hl_matcher_indicator makes its copies on first use; threads sharing a
 * matcher all get the same one. */
static void indicator_copies_shared_by_threads(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	char v[64];
	for (int i = 0; i < 64; i++) {
		snprintf(v, sizeof v, "h%02d.example", i);
		add(set, HL_IND_DOMAIN, v, NULL, NULL, 10);
	}
	hl_matcher_t *m = compile(set);
	hl_iset_destroy(&set);
	struct race r[4];
	pthread_t t[4];
	for (int k = 0; k < 4; k++) {
		r[k].m = m;
		assert_int_equal(pthread_create(&t[k], NULL, grab_all, &r[k]), 0);
	}
	for (int k = 0; k < 4; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
	for (uint32_t i = 0; i < 64; i++) {
		snprintf(v, sizeof v, "h%02u.example", i);
		assert_string_equal(r[0].got[i]->value, v);
		for (int k = 1; k < 4; k++)
			assert_ptr_equal(r[k].got[i], r[0].got[i]);
	}
	assert_null(hl_matcher_indicator(m, 64));
	hl_matcher_destroy(&m);
}

static void value_table(void **state)
{
	(void)state;
	/* Keys as a store holds them: offsets of NUL-terminated strings. */
	static const char strings[] = "evil.example\0a.b\0\0x";
	uint32_t offs[] = {0, 13, 17};
	struct hl_vtable_keys keys = {strings, offs, 1};
	hl_vtable_t *t = hl_vtable_new(2, &keys);
	assert_non_null(t);
	assert_int_equal(hl_vtable_get(t, "evil.example", 12), -1); /* empty */
	assert_int_equal(hl_vtable_add(t, 0, 12), 0);
	assert_int_equal(hl_vtable_add(t, 0, 12), HL_EEXISTS);
	assert_int_equal(hl_vtable_add(t, 1, 3), 0);
	assert_int_equal(hl_vtable_add(t, 2, 0), HL_ELIMIT); /* only 2 reserved */
	assert_int_equal(hl_vtable_count(t), 2);
	assert_int_equal(hl_vtable_get(t, "evil.example", 12), 0);
	assert_int_equal(hl_vtable_get(t, "a.b", 3), 1);
	assert_int_equal(hl_vtable_get(t, "evil.exampl", 11), -1);
	assert_int_equal(hl_vtable_get(t, "evil.example.", 13), -1);
	/* An observation with a NUL where the key ends must not match, nor
	 * read past the key. */
	assert_int_equal(hl_vtable_get(t, "a.b\0c", 5), -1);
	assert_int_equal(hl_vtable_get(t, "a.b\0", 4), -1);
	assert_int_equal(hl_vtable_get(t, NULL, 0), -1);
	assert_true(hl_vtable_memory(t) >= 4 * 8);
	hl_vtable_destroy(&t);
	assert_null(t);
	hl_vtable_destroy(NULL);

	/* Many keys: every one found, load within bounds. */
	enum { N = 20000 };
	char *buf = malloc((size_t)N * 16);
	uint32_t *o = malloc(N * sizeof *o);
	size_t at = 0;
	for (uint32_t i = 0; i < N; i++) {
		o[i] = (uint32_t)at;
		at += (size_t)snprintf(buf + at, 16, "k%u", i) + 1;
	}
	struct hl_vtable_keys k2 = {buf, o, 1};
	t = hl_vtable_new(N, &k2);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(hl_vtable_add(t, i, strlen(buf + o[i])), 0);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(hl_vtable_get(t, buf + o[i], strlen(buf + o[i])), i);
	assert_int_equal(hl_vtable_get(t, "k20000", 6), -1);
	assert_true(hl_vtable_memory(t) < (size_t)N * 8 * 10 / 7 + 256);
	hl_vtable_destroy(&t);
	free(buf);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(views_and_ids),
	        cmocka_unit_test(shared_metadata_is_stored_once),
	        cmocka_unit_test(indicator_copies_shared_by_threads),
	        cmocka_unit_test(value_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
