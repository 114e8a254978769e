/* \summary: SPSC record ring (see ring.h)
 *
 * Layout: each record is an 8-byte header (its length) followed by its
 * bytes, padded to 8. A record never wraps: when it does not fit before the
 * end, a header with HL_RING_WRAP marks the rest as skipped. head and tail
 * are free-running byte counters; head - tail is the bytes in use.
 */
#include "ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HL_RING_WRAP UINT64_MAX
#define HL_RING_SPINS 16

struct hl_ring {
	uint8_t *buf;
	size_t size, mask;

	_Alignas(64) atomic_size_t head; /* written by the producer */
	size_t reserved_at;              /* producer: offset of the pending record */
	size_t reserved_len;
	uint64_t full_events;

	_Alignas(64) atomic_size_t tail; /* written by the consumer */
	size_t peeked_len;

	_Alignas(64) atomic_bool closed;
	atomic_int parked; /* bit 1: producer parked, bit 2: consumer parked */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

hl_ring_t *hl_ring_new(size_t capacity)
{
	size_t size = 64 * 1024;
	while (size < capacity && size < ((size_t)1 << 40))
		size <<= 1;
	hl_ring_t *ring = calloc(1, sizeof *ring);
	if (ring == NULL)
		return NULL;
	ring->buf = aligned_alloc(64, size);
	if (ring->buf == NULL) {
		free(ring);
		return NULL;
	}
	ring->size = size;
	ring->mask = size - 1;
	atomic_init(&ring->head, 0);
	atomic_init(&ring->tail, 0);
	atomic_init(&ring->closed, false);
	atomic_init(&ring->parked, 0);
	pthread_mutex_init(&ring->lock, NULL);
	pthread_cond_init(&ring->cond, NULL);
	return ring;
}

void hl_ring_destroy(hl_ring_t **ring_p)
{
	hl_ring_t *ring = *ring_p;
	if (ring == NULL)
		return;
	pthread_mutex_destroy(&ring->lock);
	pthread_cond_destroy(&ring->cond);
	free(ring->buf);
	free(ring);
	*ring_p = NULL;
}

/* Park until woken or 1 ms passes: the timeout bounds the cost of a
 * wake-up lost between the check and the wait, which keeps the fast path
 * free of locks. */
static void park(hl_ring_t *ring, int who)
{
	pthread_mutex_lock(&ring->lock);
	atomic_fetch_or(&ring->parked, who);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 1000 * 1000;
	if (until.tv_nsec >= 1000 * 1000 * 1000) {
		until.tv_sec++;
		until.tv_nsec -= 1000 * 1000 * 1000;
	}
	pthread_cond_timedwait(&ring->cond, &ring->lock, &until);
	atomic_fetch_and(&ring->parked, ~who);
	pthread_mutex_unlock(&ring->lock);
}

static void wake(hl_ring_t *ring, int who)
{
	if ((atomic_load(&ring->parked) & who) == 0)
		return;
	pthread_mutex_lock(&ring->lock);
	pthread_cond_broadcast(&ring->cond);
	pthread_mutex_unlock(&ring->lock);
}

static void backoff(hl_ring_t *ring, unsigned *spins, int who)
{
	if (++*spins < HL_RING_SPINS)
		sched_yield();
	else
		park(ring, who);
}

void *hl_ring_reserve(hl_ring_t *ring, size_t len, bool wait)
{
	size_t need = 8 + pad8(len);
	if (need > ring->size / 4)
		return NULL;
	unsigned spins = 0;
	for (;;) {
		size_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
		size_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
		size_t off = head & ring->mask;
		size_t to_end = ring->size - off;
		size_t want = need <= to_end ? need : to_end + need;
		if (ring->size - (head - tail) >= want) {
			if (need > to_end) { /* skip the tail end of the buffer */
				uint64_t wrap = HL_RING_WRAP;
				memcpy(ring->buf + off, &wrap, sizeof wrap);
				head += to_end;
				off = 0;
			}
			ring->reserved_at = head;
			ring->reserved_len = len;
			return ring->buf + off + 8;
		}
		if (spins == 0)
			ring->full_events++;
		if (!wait || atomic_load(&ring->closed))
			return NULL;
		backoff(ring, &spins, 1);
	}
}

void hl_ring_commit(hl_ring_t *ring)
{
	uint64_t len = ring->reserved_len;
	memcpy(ring->buf + (ring->reserved_at & ring->mask), &len, sizeof len);
	atomic_store_explicit(&ring->head, ring->reserved_at + 8 + pad8(ring->reserved_len),
	                      memory_order_release);
	wake(ring, 2);
}

void hl_ring_close(hl_ring_t *ring)
{
	atomic_store(&ring->closed, true);
	wake(ring, 1 | 2);
}

const void *hl_ring_peek(hl_ring_t *ring, size_t *len, bool wait)
{
	unsigned spins = 0;
	for (;;) {
		size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
		if (head != tail) {
			size_t off = tail & ring->mask;
			uint64_t rec;
			memcpy(&rec, ring->buf + off, sizeof rec);
			if (rec == HL_RING_WRAP) {
				atomic_store_explicit(&ring->tail, tail + (ring->size - off),
				                      memory_order_release);
				continue;
			}
			ring->peeked_len = (size_t)rec;
			*len = (size_t)rec;
			return ring->buf + off + 8;
		}
		if (!wait || atomic_load(&ring->closed)) {
			/* closed: re-check once, the last commit may race the close */
			if (atomic_load_explicit(&ring->head, memory_order_acquire) != tail)
				continue;
			return NULL;
		}
		backoff(ring, &spins, 2);
	}
}

void hl_ring_release(hl_ring_t *ring)
{
	size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
	atomic_store_explicit(&ring->tail, tail + 8 + pad8(ring->peeked_len), memory_order_release);
	wake(ring, 1);
}

size_t hl_ring_capacity(const hl_ring_t *ring)
{
	return ring->size;
}

uint64_t hl_ring_full_events(const hl_ring_t *ring)
{
	return ring->full_events;
}
