/* \summary: unit tests for the string -> values hash table (rules/name_table.c) */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "name_table.h"

#define MAX_SEEN 64

struct seen {
	size_t n;
	uint32_t v[MAX_SEEN];
	size_t stop_after; /* 0: never */
};

static int record(void *ctx, uint32_t value)
{
	struct seen *s = ctx;
	if (s->n < MAX_SEEN)
		s->v[s->n] = value;
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

static void add(hl_name_table_t *t, const char *key, uint32_t value)
{
	assert_int_equal(hl_name_table_add(t, key, strlen(key), value), 0);
}

static size_t get(const hl_name_table_t *t, const char *key, const uint32_t **v)
{
	return hl_name_table_get(t, key, strlen(key), v);
}

static size_t walk(const hl_name_table_t *t, const char *name, struct seen *s)
{
	memset(s, 0, sizeof *s);
	return hl_name_table_suffix_walk(t, name, strlen(name), record, s);
}

static void empty_table(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	assert_non_null(t);
	const uint32_t *v = (const uint32_t *)1;
	assert_int_equal(get(t, "x", &v), 0);
	assert_null(v);
	assert_int_equal(hl_name_table_get(t, NULL, 0, NULL), 0);
	struct seen s;
	assert_int_equal(walk(t, "a.b.c", &s), 0);
	assert_int_equal(hl_name_table_count(t), 0);
	assert_true(hl_name_table_memory(t) > 0);
	hl_name_table_destroy(&t);
	assert_null(t);
	hl_name_table_destroy(&t);
	hl_name_table_destroy(NULL);
}

static void bad_arguments(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	assert_int_equal(hl_name_table_add(NULL, "a", 1, 0), HL_EINVAL);
	assert_int_equal(hl_name_table_add(t, NULL, 3, 0), HL_EINVAL);
	assert_int_equal(hl_name_table_get(NULL, "a", 1, NULL), 0);
	assert_int_equal(hl_name_table_get(t, NULL, 3, NULL), 0);
	assert_int_equal(hl_name_table_suffix_walk(t, "a", 1, NULL, NULL), 0);
	assert_int_equal(hl_name_table_suffix_walk(NULL, "a", 1, record, NULL), 0);
	assert_int_equal(hl_name_table_count(NULL), 0);
	assert_int_equal(hl_name_table_memory(NULL), 0);
	hl_name_table_destroy(&t);
}

static void keys_need_no_terminator(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	const char buf[] = "example.comEXTRA";
	assert_int_equal(hl_name_table_add(t, buf, 11, 5), 0);
	const uint32_t *v;
	assert_int_equal(get(t, "example.com", &v), 1);
	assert_int_equal(v[0], 5);
	assert_int_equal(get(t, "example.comEXTRA", &v), 0);
	assert_int_equal(hl_name_table_get(t, buf, 10, &v), 0);
	hl_name_table_destroy(&t);
}

static void empty_and_binary_keys(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	assert_int_equal(hl_name_table_add(t, NULL, 0, 1), 0);
	assert_int_equal(hl_name_table_add(t, "", 0, 2), 0);
	const char bin1[] = {'a', 0, 'b'};
	const char bin2[] = {'a', 0, 'c'};
	const char bin3[] = {(char)0xff, (char)0x80, 0, 0};
	assert_int_equal(hl_name_table_add(t, bin1, 3, 3), 0);
	assert_int_equal(hl_name_table_add(t, bin2, 3, 4), 0);
	assert_int_equal(hl_name_table_add(t, bin3, 4, 5), 0);
	assert_int_equal(hl_name_table_count(t), 4);

	const uint32_t *v;
	assert_int_equal(hl_name_table_get(t, "zzz", 0, &v), 2);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 2);
	assert_int_equal(hl_name_table_get(t, bin1, 3, &v), 1);
	assert_int_equal(v[0], 3);
	assert_int_equal(hl_name_table_get(t, bin2, 3, &v), 1);
	assert_int_equal(v[0], 4);
	assert_int_equal(hl_name_table_get(t, bin1, 1, &v), 0); /* "a" */
	assert_int_equal(hl_name_table_get(t, bin3, 4, &v), 1);
	assert_int_equal(v[0], 5);
	assert_int_equal(hl_name_table_get(t, bin3, 3, &v), 0);

	/* The walk of a name never looks up the empty key, even with a
	 * trailing dot; only an empty name itself finds it. */
	struct seen s;
	assert_int_equal(walk(t, "a.", &s), 0);
	assert_int_equal(walk(t, "", &s), 2);
	hl_name_table_destroy(&t);
}

static void duplicate_keys_keep_every_value_in_order(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	add(t, "dup.example", 10);
	add(t, "dup.example", 10); /* kept: values are a multiset */
	add(t, "dup.example", 11);
	assert_int_equal(hl_name_table_count(t), 1);
	const uint32_t *v;
	assert_int_equal(get(t, "dup.example", &v), 3);
	assert_int_equal(v[0], 10);
	assert_int_equal(v[1], 10);
	assert_int_equal(v[2], 11);

	/* Interleave growth of two multi-value keys so runs relocate. */
	for (uint32_t i = 0; i < 1000; i++) {
		add(t, "one", i);
		add(t, "two", 5000 + i);
		if (i % 100 == 0)
			add(t, "three", i);
	}
	assert_int_equal(hl_name_table_count(t), 4);
	assert_int_equal(get(t, "one", &v), 1000);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	assert_int_equal(get(t, "two", &v), 1000);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], 5000 + i);
	assert_int_equal(get(t, "three", &v), 10);
	assert_int_equal(v[9], 900);
	assert_int_equal(get(t, "dup.example", &v), 3);
	assert_int_equal(v[2], 11);
	hl_name_table_destroy(&t);
}

static void many_keys_survive_growth(void **state)
{
	(void)state;
	enum { N = 100000 };
	hl_name_table_t *t = hl_name_table_new();
	char key[64];
	for (uint32_t i = 0; i < N; i++) {
		int n = snprintf(key, sizeof key, "k%u.example", i);
		assert_int_equal(hl_name_table_add(t, key, (size_t)n, i), 0);
	}
	assert_int_equal(hl_name_table_count(t), N);
	const uint32_t *v;
	for (uint32_t i = 0; i < N; i++) {
		int n = snprintf(key, sizeof key, "k%u.example", i);
		assert_int_equal(hl_name_table_get(t, key, (size_t)n, &v), 1);
		assert_int_equal(v[0], i);
		n = snprintf(key, sizeof key, "k%u.exampl", i);
		assert_int_equal(hl_name_table_get(t, key, (size_t)n, &v), 0);
	}
	/* Far below the 100-bytes-a-key budget even with growth slack. */
	assert_true(hl_name_table_memory(t) / N < 64);
	hl_name_table_destroy(&t);
}

/* A reservation is exact: adding what was reserved neither rehashes nor
 * moves the arena (the memory figure does not change), keys already in
 * survive the rehash a reservation makes, and more than reserved still
 * goes in. */
static void reserve_sizes_the_table_once(void **state)
{
	(void)state;
	enum { N = 50000 };
	hl_name_table_t *t = hl_name_table_new();
	assert_int_equal(hl_name_table_reserve(NULL, 1, 1), HL_EINVAL);
	assert_int_equal(hl_name_table_reserve(t, 0, 0), 0);
	add(t, "before.example", 7);
	size_t m0 = hl_name_table_memory(t);
	/* 10 bytes a key ("k%09u"); 50001 keys at load <= 0.7: 131072 slots. */
	assert_int_equal(hl_name_table_reserve(t, N, (size_t)N * 10), 0);
	size_t m1 = hl_name_table_memory(t);
	assert_int_equal(m1 - m0, (131072 - 16) * 16 + (size_t)N * 10 + 14 - 256);
	char key[32];
	for (uint32_t i = 0; i < N; i++) {
		int n = snprintf(key, sizeof key, "k%09u", i);
		assert_int_equal(n, 10);
		assert_int_equal(hl_name_table_add(t, key, (size_t)n, i), 0);
	}
	assert_int_equal(hl_name_table_memory(t), m1);
	const uint32_t *v;
	assert_int_equal(get(t, "before.example", &v), 1);
	assert_int_equal(v[0], 7);
	for (uint32_t i = 0; i < N; i += 997) {
		int n = snprintf(key, sizeof key, "k%09u", i);
		assert_int_equal(hl_name_table_get(t, key, (size_t)n, &v), 1);
		assert_int_equal(v[0], i);
	}
	add(t, "after.example", 9);
	assert_int_equal(get(t, "after.example", &v), 1);
	assert_int_equal(v[0], 9);
	assert_int_equal(hl_name_table_count(t), N + 2);
	hl_name_table_destroy(&t);
}

static void suffix_walk_stops_at_label_boundaries(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	add(t, "evil.example", 1);
	add(t, "example", 2);
	add(t, "x.evil.example", 3);
	struct seen s;

	assert_int_equal(walk(t, "evil.example", &s), 2);
	assert_int_equal(s.v[0], 1);
	assert_int_equal(s.v[1], 2);

	/* A substring is not a parent: only "example" matches. */
	assert_int_equal(walk(t, "notevil.example", &s), 1);
	assert_int_equal(s.v[0], 2);

	/* Whole name first, then parents, nearest first. */
	assert_int_equal(walk(t, "a.x.evil.example", &s), 3);
	assert_int_equal(s.v[0], 3);
	assert_int_equal(s.v[1], 1);
	assert_int_equal(s.v[2], 2);

	/* evil.example as a label sequence inside another name is no match. */
	assert_int_equal(walk(t, "evil.example.com", &s), 0);
	assert_int_equal(walk(t, "evilexample", &s), 0);
	assert_int_equal(walk(t, "example.", &s), 0); /* caller strips the dot */
	assert_int_equal(walk(t, "xample", &s), 0);

	/* Stop on request; the count includes the stopping call. */
	memset(&s, 0, sizeof s);
	s.stop_after = 2;
	assert_int_equal(hl_name_table_suffix_walk(t, "a.x.evil.example", 16, record, &s), 2);
	assert_int_equal(s.n, 2);

	/* A length shorter than the buffer bounds the walk. */
	const char *buf = "evil.example.com";
	memset(&s, 0, sizeof s);
	assert_int_equal(hl_name_table_suffix_walk(t, buf, 12, record, &s), 2);
	assert_int_equal(s.v[0], 1);
	hl_name_table_destroy(&t);
}

static void suffix_walk_odd_names(void **state)
{
	(void)state;
	hl_name_table_t *t = hl_name_table_new();
	add(t, "b", 1);
	add(t, "a..b", 2);
	struct seen s;
	assert_int_equal(walk(t, "a..b", &s), 2); /* "a..b", ".b", "b" */
	assert_int_equal(s.v[0], 2);
	assert_int_equal(s.v[1], 1);
	assert_int_equal(walk(t, ".b", &s), 1);
	assert_int_equal(walk(t, "...", &s), 0);
	assert_int_equal(walk(t, ".", &s), 0);
	assert_int_equal(walk(t, "b.", &s), 0);
	hl_name_table_destroy(&t);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

struct pair {
	char key[16];
	size_t len;
	uint32_t value;
};

/* Short keys over a tiny alphabet with dots: many repeats, many parents. */
static size_t random_key(uint64_t *s, char *out)
{
	size_t len = (size_t)(rnd(s) % 8);
	for (size_t i = 0; i < len; i++)
		out[i] = "ab.c"[rnd(s) % 4];
	return len;
}

struct naive_ctx {
	uint32_t *v;
	size_t n;
};

static int naive_record(void *ctx, uint32_t value)
{
	struct naive_ctx *c = ctx;
	c->v[c->n++] = value;
	return 0;
}

static size_t naive_get(const struct pair *all, size_t n, const char *key, size_t len,
                        struct naive_ctx *out)
{
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		if (all[i].len == len && memcmp(all[i].key, key, len) == 0) {
			out->v[out->n++] = all[i].value;
			found++;
		}
	}
	return found;
}

static void random_keys_match_a_naive_array(void **state)
{
	(void)state;
	enum { NKEYS = 3000, NLOOKUP = 20000 };
	uint64_t seed = 12345;
	struct pair *all = calloc(NKEYS, sizeof *all);
	uint32_t *want = calloc(NKEYS * 8, sizeof *want);
	uint32_t *got = calloc(NKEYS * 8, sizeof *got);
	assert_non_null(all);
	assert_non_null(want);
	assert_non_null(got);
	hl_name_table_t *t = hl_name_table_new();
	for (uint32_t i = 0; i < NKEYS; i++) {
		all[i].len = random_key(&seed, all[i].key);
		all[i].value = i;
		assert_int_equal(hl_name_table_add(t, all[i].key, all[i].len, i), 0);
	}
	size_t distinct = 0;
	for (uint32_t i = 0; i < NKEYS; i++) {
		bool first = true;
		for (uint32_t j = 0; j < i && first; j++)
			first = !(all[j].len == all[i].len &&
			          memcmp(all[j].key, all[i].key, all[i].len) == 0);
		distinct += first;
	}
	assert_int_equal(hl_name_table_count(t), distinct);

	for (int q = 0; q < NLOOKUP; q++) {
		char key[16];
		size_t len = random_key(&seed, key);
		struct naive_ctx w = {want, 0};
		naive_get(all, NKEYS, key, len, &w);
		const uint32_t *v;
		size_t n = hl_name_table_get(t, key, len, &v);
		assert_int_equal(n, w.n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(v[i], want[i]);

		/* The walk: the name, then after each dot with a non-empty rest. */
		w.n = 0;
		naive_get(all, NKEYS, key, len, &w);
		for (size_t i = 0; i + 1 < len; i++) {
			if (key[i] == '.')
				naive_get(all, NKEYS, key + i + 1, len - i - 1, &w);
		}
		struct naive_ctx g = {got, 0};
		size_t calls = hl_name_table_suffix_walk(t, key, len, naive_record, &g);
		assert_int_equal(calls, w.n);
		assert_int_equal(g.n, w.n);
		assert_memory_equal(got, want, w.n * sizeof *want);
	}
	hl_name_table_destroy(&t);
	free(got);
	free(want);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(empty_table),
	        cmocka_unit_test(bad_arguments),
	        cmocka_unit_test(keys_need_no_terminator),
	        cmocka_unit_test(empty_and_binary_keys),
	        cmocka_unit_test(duplicate_keys_keep_every_value_in_order),
	        cmocka_unit_test(many_keys_survive_growth),
	        cmocka_unit_test(reserve_sizes_the_table_once),
	        cmocka_unit_test(suffix_walk_stops_at_label_boundaries),
	        cmocka_unit_test(suffix_walk_odd_names),
	        cmocka_unit_test(random_keys_match_a_naive_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
