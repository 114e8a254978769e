/* \summary: single-producer single-consumer ring of variable-size records
 *
 * The reader thread copies each captured frame into the ring of the worker
 * that owns its flow; the worker decodes it from there. Lock-free on the
 * fast path (C11 acquire/release on head and tail); a side that finds the
 * ring full or empty spins briefly, then parks on a condition variable that
 * the other side signals only when someone is parked.
 */
#ifndef HOTLINE_SENSOR_RING_H
#define HOTLINE_SENSOR_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hl_ring hl_ring_t;

/* capacity: bytes, rounded up to a power of two (at least 64 KiB). */
hl_ring_t *hl_ring_new(size_t capacity);
void hl_ring_destroy(hl_ring_t **ring_p);

/* Producer: space for a record of len bytes (len <= capacity / 4), or NULL
 * when the ring is full (or, with wait, after the consumer closed it).
 * The record is published by hl_ring_commit(). */
void *hl_ring_reserve(hl_ring_t *ring, size_t len, bool wait);
void hl_ring_commit(hl_ring_t *ring);
/* Producer: no more records; the consumer drains then sees the end. */
void hl_ring_close(hl_ring_t *ring);

/* Consumer: the next record and its length, or NULL when empty (without
 * wait) or when closed and drained (with wait). */
const void *hl_ring_peek(hl_ring_t *ring, size_t *len, bool wait);
/* Consumer: done with the record returned by hl_ring_peek(). */
void hl_ring_release(hl_ring_t *ring);

size_t hl_ring_capacity(const hl_ring_t *ring);
/* Times the producer found the ring full (it then waited or dropped). */
uint64_t hl_ring_full_events(const hl_ring_t *ring);

#endif
