/* \summary: unit tests for matcher generations: lifetimes and a race stress
 *
 * hl_matcher_destroy cannot be hooked, so "freed exactly when the last
 * holder releases" is read from the slot's freed counter, and the ASan
 * build checks that nothing leaks and nothing is used after it is freed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/parse.h"
#include "matcher_slot.h"

/* ---- matchers whose content says which generation they were built as ---- */

#define PAYLOAD_EVERY 50 /* every 50th set has a content indicator (Hyperscan) */

static size_t expected_count(uint64_t tag)
{
	return 1 + tag % 4 + (tag % PAYLOAD_EVERY == 0 ? 1 : 0);
}

static int append(char *buf, size_t size, size_t *len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/* Built off the test's main thread too, so no cmocka asserts: NULL on error. */
static hl_matcher_t *make_matcher(uint64_t tag)
{
	char buf[1024];
	size_t len = 0;
	int rc =
	        append(buf, sizeof buf, &len, "{\"type\":\"domain\",\"value\":\"g%llu.example\"}\n",
	               (unsigned long long)tag);
	for (uint64_t i = 0; rc == 0 && i < tag % 4; i++)
		rc = append(buf, sizeof buf, &len,
		            "{\"type\":\"domain\",\"value\":\"x%llu.g%llu.test\"}\n",
		            (unsigned long long)i, (unsigned long long)tag);
	if (rc == 0 && tag % PAYLOAD_EVERY == 0)
		rc = append(buf, sizeof buf, &len,
		            "{\"type\":\"content\",\"value\":\"payload-%llu!\"}\n",
		            (unsigned long long)tag);
	if (rc != 0)
		return NULL;
	hl_iset_t *set = hl_iset_new();
	struct hl_parse_opts popts;
	hl_parse_opts_init(&popts);
	popts.format = HL_FMT_NATIVE;
	struct hl_diag diag = {0};
	hl_matcher_t *m = NULL;
	if (set != NULL && hl_parse_buffer("gen", buf, len, &popts, set, &diag) == 0 &&
	    diag.errors == 0) {
		struct hl_compile_opts copts = {0};
		if (hl_matcher_compile(set, &copts, &m, NULL, &diag) != 0)
			m = NULL;
	}
	hl_iset_destroy(&set);
	return m;
}

static int count_match(void *ctx, const struct hl_match *match)
{
	(void)match;
	(*(int *)ctx)++;
	return 0;
}

/* 0 when m is the set built for tag: right count, its own domain matches,
 * a neighbour's does not, and its payload (if any) is found. */
static int check_matcher(const hl_matcher_t *m, hl_scratch_t *s, uint64_t tag)
{
	if (hl_matcher_count(m) != expected_count(tag))
		return -1;
	char name[64];
	int n = snprintf(name, sizeof name, "www.g%llu.example", (unsigned long long)tag);
	int hits = 0;
	if (hl_match_field(m, s, HL_FIELD_DNS_QUERY, name, (size_t)n, 0, count_match, &hits) != 1 ||
	    hits != 1)
		return -2;
	n = snprintf(name, sizeof name, "g%llu.example", (unsigned long long)tag + 1);
	if (hl_match_field(m, s, HL_FIELD_DNS_QUERY, name, (size_t)n, 0, count_match, &hits) != 0)
		return -3;
	if (tag % PAYLOAD_EVERY == 0) {
		n = snprintf(name, sizeof name, "GET payload-%llu! HTTP", (unsigned long long)tag);
		hits = 0;
		if (hl_match_field(m, s, HL_FIELD_TCP_PAYLOAD, name, (size_t)n, 0, count_match,
		                   &hits) != 1)
			return -4;
	}
	return 0;
}

/* ---- basics ---- */

static void new_requires_a_matcher(void **state)
{
	(void)state;
	assert_null(hl_matcher_slot_new(NULL));
	hl_matcher_t *none = NULL;
	assert_null(hl_matcher_slot_new(&none));
	hl_matcher_slot_destroy(NULL);
	hl_matcher_slot_t *slot = NULL;
	hl_matcher_slot_destroy(&slot);
	hl_matcher_gen_release(NULL);
	hl_matcher_gen_t *g = NULL;
	hl_matcher_gen_release(&g);
}

static void acquire_publish_release(void **state)
{
	(void)state;
	hl_matcher_t *m = make_matcher(1);
	assert_non_null(m);
	hl_matcher_slot_t *slot = hl_matcher_slot_new(&m);
	assert_non_null(slot);
	assert_null(m); /* ownership moved */
	assert_int_equal(hl_matcher_slot_generation(slot), 1);

	hl_scratch_t *s = hl_scratch_new(NULL);
	assert_non_null(s);
	hl_matcher_gen_t *g1 = hl_matcher_slot_acquire(slot);
	assert_int_equal(hl_matcher_gen_number(g1), 1);
	assert_int_equal(check_matcher(hl_matcher_gen_matcher(g1), s, 1), 0);

	m = make_matcher(2);
	uint64_t number = 0;
	assert_int_equal(hl_matcher_slot_publish(slot, &m, &number), 0);
	assert_null(m);
	assert_int_equal(number, 2);
	assert_int_equal(hl_matcher_slot_generation(slot), 2);

	/* the holder of generation 1 keeps matching on it */
	assert_int_equal(check_matcher(hl_matcher_gen_matcher(g1), s, 1), 0);
	struct hl_matcher_slot_stats st;
	hl_matcher_slot_stats(slot, &st);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.published, 2);
	assert_int_equal(st.freed, 0);

	hl_matcher_gen_t *g2 = hl_matcher_slot_acquire(slot);
	assert_int_equal(hl_matcher_gen_number(g2), 2);
	assert_int_equal(check_matcher(hl_matcher_gen_matcher(g2), s, 2), 0);
	hl_matcher_gen_release(&g1);
	assert_null(g1);
	hl_matcher_slot_stats(slot, &st);
	assert_int_equal(st.freed, 1);

	/* bad publishes leave the slot alone */
	hl_matcher_t *none = NULL;
	assert_int_equal(hl_matcher_slot_publish(slot, &none, &number), HL_EINVAL);
	assert_int_equal(hl_matcher_slot_publish(slot, NULL, NULL), HL_EINVAL);
	assert_int_equal(hl_matcher_slot_generation(slot), 2);

	/* a generation outlives the slot it came from */
	hl_matcher_slot_destroy(&slot);
	assert_null(slot);
	assert_int_equal(check_matcher(hl_matcher_gen_matcher(g2), s, 2), 0);
	hl_matcher_gen_release(&g2);
	hl_scratch_destroy(&s);
}

static void old_set_freed_when_last_holder_releases(void **state)
{
	(void)state;
	hl_matcher_t *m = make_matcher(1);
	hl_matcher_slot_t *slot = hl_matcher_slot_new(&m);
	assert_non_null(slot);
	hl_matcher_gen_t *a = hl_matcher_slot_acquire(slot);
	hl_matcher_gen_t *b = hl_matcher_slot_acquire(slot);
	assert_ptr_equal(a, b);

	struct hl_matcher_slot_stats st;
	m = make_matcher(2);
	assert_int_equal(hl_matcher_slot_publish(slot, &m, NULL), 0);
	hl_matcher_slot_stats(slot, &st);
	assert_int_equal(st.freed, 0); /* generation 1: two holders */

	/* generation 2 had no holder but the slot: gone as soon as 3 is in */
	m = make_matcher(3);
	assert_int_equal(hl_matcher_slot_publish(slot, &m, NULL), 0);
	hl_matcher_slot_stats(slot, &st);
	assert_int_equal(st.published, 3);
	assert_int_equal(st.freed, 1);

	hl_matcher_gen_release(&a);
	hl_matcher_slot_stats(slot, &st);
	assert_int_equal(st.freed, 1); /* b still holds generation 1 */
	hl_scratch_t *s = hl_scratch_new(NULL);
	assert_int_equal(check_matcher(hl_matcher_gen_matcher(b), s, 1), 0);
	hl_matcher_gen_release(&b);
	hl_matcher_slot_stats(slot, &st);
	assert_int_equal(st.freed, 2);
	assert_int_equal(st.generation, 3);

	hl_matcher_slot_destroy(&slot);
	hl_scratch_destroy(&s);
}

/* ---- stress: 4 readers against 1,000 publishes ---- */

#define READERS 4
#define PUBLISHES 1000
#define STRESS_LIMIT_S 60 /* a stuck run fails instead of hanging */

struct stress {
	hl_matcher_slot_t *slot;
	atomic_bool done;
	pthread_barrier_t start; /* readers hold generation 1; the publisher may go */
	atomic_int failures;
	atomic_uint_fast64_t reads;
};

struct reader {
	struct stress *s;
	pthread_t thread;
	uint64_t switches;
	uint64_t last_seen;
	int error;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One reader does what a worker does (hold a generation, check the number
 * per "packet", switch when it changed) and, on every iteration, what the
 * brief's loop does: acquire, use, release. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct stress *st = r->s;
	hl_scratch_t *scratch = hl_scratch_new(NULL);
	hl_matcher_gen_t *held = hl_matcher_slot_acquire(st->slot);
	uint64_t held_number = hl_matcher_gen_number(held);
	if (scratch == NULL || hl_scratch_grow(scratch, hl_matcher_gen_matcher(held)) != 0)
		r->error = -10;
	pthread_barrier_wait(&st->start);
	double deadline = now_s() + STRESS_LIMIT_S;
	bool last = false;
	while (r->error == 0) {
		/* one more full pass after "done", so the last generation is seen */
		last = atomic_load(&st->done);
		if (hl_matcher_slot_generation(st->slot) != held_number) {
			hl_matcher_gen_t *g = hl_matcher_slot_acquire(st->slot);
			if (hl_scratch_grow(scratch, hl_matcher_gen_matcher(g)) != 0)
				r->error = -11;
			hl_matcher_gen_release(&held);
			held = g;
			held_number = hl_matcher_gen_number(g);
			r->switches++;
		}
		if (r->error == 0)
			r->error =
			        check_matcher(hl_matcher_gen_matcher(held), scratch, held_number);

		hl_matcher_gen_t *g = hl_matcher_slot_acquire(st->slot);
		uint64_t number = hl_matcher_gen_number(g);
		if (number < held_number)
			r->error = -12; /* generations never go back */
		if (r->error == 0 && hl_scratch_grow(scratch, hl_matcher_gen_matcher(g)) != 0)
			r->error = -13;
		if (r->error == 0)
			r->error = check_matcher(hl_matcher_gen_matcher(g), scratch, number);
		hl_matcher_gen_release(&g);
		atomic_fetch_add(&st->reads, 1);
		if (last || now_s() > deadline)
			break;
	}
	r->last_seen = held_number;
	hl_matcher_gen_release(&held);
	hl_scratch_destroy(&scratch);
	if (r->error != 0)
		atomic_fetch_add(&st->failures, 1);
	return NULL;
}

static void readers_never_see_a_freed_set(void **state)
{
	(void)state;
	struct stress st = {0};
	hl_matcher_t *m = make_matcher(1);
	st.slot = hl_matcher_slot_new(&m);
	assert_non_null(st.slot);
	atomic_init(&st.done, false);
	assert_int_equal(pthread_barrier_init(&st.start, NULL, READERS + 1), 0);
	atomic_init(&st.failures, 0);
	atomic_init(&st.reads, 0);

	struct reader readers[READERS];
	memset(readers, 0, sizeof readers);
	for (int i = 0; i < READERS; i++) {
		readers[i].s = &st;
		assert_int_equal(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]),
		                 0);
	}
	/* every reader holds generation 1 before the first publish: each one
	 * then has to switch at least once */
	pthread_barrier_wait(&st.start);
	double start = now_s();

	int publish_errors = 0;
	for (uint64_t tag = 2; tag <= PUBLISHES + 1; tag++) {
		hl_matcher_t *next = make_matcher(tag);
		uint64_t number = 0;
		if (next == NULL || hl_matcher_slot_publish(st.slot, &next, &number) != 0 ||
		    number != tag)
			publish_errors++;
		hl_matcher_destroy(&next);
	}
	atomic_store(&st.done, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(readers[i].thread, NULL);
	double took = now_s() - start;
	print_message("stress: %d publishes, %llu reads by %d readers in %.2f s\n", PUBLISHES,
	              (unsigned long long)atomic_load(&st.reads), READERS, took);

	assert_int_equal(publish_errors, 0);
	assert_int_equal(atomic_load(&st.failures), 0);
	assert_true(took < STRESS_LIMIT_S);
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(readers[i].error, 0);
		assert_int_equal(readers[i].last_seen, PUBLISHES + 1);
		assert_true(readers[i].switches >= 1);
	}
	struct hl_matcher_slot_stats ss;
	hl_matcher_slot_stats(st.slot, &ss);
	assert_int_equal(ss.generation, PUBLISHES + 1);
	assert_int_equal(ss.published, PUBLISHES + 1);
	assert_int_equal(ss.freed, PUBLISHES); /* every reader let go: only the current lives */
	hl_matcher_slot_destroy(&st.slot);
	pthread_barrier_destroy(&st.start);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(new_requires_a_matcher),
	        cmocka_unit_test(acquire_publish_release),
	        cmocka_unit_test(old_set_freed_when_last_holder_releases),
	        cmocka_unit_test(readers_never_see_a_freed_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
