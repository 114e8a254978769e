/* \summary: unit tests for the SPSC record ring */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "ring.h"

#define RECORDS 200000u

static size_t record_len(uint32_t i)
{
	return 1 + (i * 2654435761u) % 1500; /* 1..1500, deterministic */
}

static void *producer(void *arg)
{
	hl_ring_t *ring = arg;
	for (uint32_t i = 0; i < RECORDS; i++) {
		size_t len = record_len(i);
		uint8_t *p = hl_ring_reserve(ring, len, true);
		if (p == NULL)
			return (void *)1;
		for (size_t k = 0; k < len; k++)
			p[k] = (uint8_t)(i + k);
		hl_ring_commit(ring);
	}
	hl_ring_close(ring);
	return NULL;
}

static void records_cross_threads_in_order_and_intact(void **state)
{
	(void)state;
	hl_ring_t *ring = hl_ring_new(64 * 1024);
	assert_non_null(ring);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer, ring), 0);
	uint32_t seen = 0;
	size_t len;
	const uint8_t *p;
	while ((p = hl_ring_peek(ring, &len, true)) != NULL) {
		assert_int_equal(len, record_len(seen));
		for (size_t k = 0; k < len; k++)
			assert_int_equal(p[k], (uint8_t)(seen + k));
		hl_ring_release(ring);
		seen++;
	}
	void *rc;
	pthread_join(t, &rc);
	assert_null(rc);
	assert_int_equal(seen, RECORDS);
	hl_ring_destroy(&ring);
	assert_null(ring);
}

static void full_ring_refuses_without_wait(void **state)
{
	(void)state;
	hl_ring_t *ring = hl_ring_new(1);
	size_t cap = hl_ring_capacity(ring);
	size_t pushed = 0;
	while (hl_ring_reserve(ring, 1000, false) != NULL) {
		hl_ring_commit(ring);
		pushed++;
	}
	assert_int_equal(pushed, cap / 1008);
	assert_int_equal(hl_ring_full_events(ring), 1);
	size_t len;
	assert_non_null(hl_ring_peek(ring, &len, false));
	assert_int_equal(len, 1000);
	hl_ring_release(ring);
	assert_non_null(hl_ring_reserve(ring, 1000, false));
	hl_ring_commit(ring);
	/* oversize records are refused outright */
	assert_null(hl_ring_reserve(ring, cap, false));
	hl_ring_destroy(&ring);
}

static void empty_ring_returns_null_and_close_drains(void **state)
{
	(void)state;
	hl_ring_t *ring = hl_ring_new(1);
	size_t len;
	assert_null(hl_ring_peek(ring, &len, false));
	memcpy(hl_ring_reserve(ring, 3, false), "abc", 3);
	hl_ring_commit(ring);
	hl_ring_close(ring);
	const char *p = hl_ring_peek(ring, &len, true);
	assert_non_null(p);
	assert_memory_equal(p, "abc", 3);
	hl_ring_release(ring);
	assert_null(hl_ring_peek(ring, &len, true));
	hl_ring_destroy(&ring);
	hl_ring_destroy(&ring); /* NULL accepted */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(records_cross_threads_in_order_and_intact),
	        cmocka_unit_test(full_ring_refuses_without_wait),
	        cmocka_unit_test(empty_ring_returns_null_and_close_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
