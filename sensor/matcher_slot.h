/* \summary: the sensor's current matcher, as refcounted generations
 *
 * A slot holds the current generation: one immutable hl_matcher_t and its
 * number (1 for the set loaded at start-up, +1 per publish). Workers check
 * hl_matcher_slot_generation() (one atomic load) per batch or packet and,
 * only when it changed, acquire the new generation and release the old one.
 * hl_matcher_slot_publish() installs a new generation and drops the slot's
 * own reference to the old one; a generation's matcher is destroyed when
 * its last reference goes, by whichever thread lets go of it. So a worker
 * that is still matching a packet on the old set finishes it on the old
 * set, and the old set is freed only after every worker has moved on
 * (Suricata's detect-engine reload, with references instead of a wait).
 *
 * A worker, per packet (or batch):
 *
 *     if (hl_matcher_slot_generation(slot) != w->gen_number) {
 *             hl_matcher_gen_t *g = hl_matcher_slot_acquire(slot);
 *             hl_scratch_grow(w->scratch, hl_matcher_gen_matcher(g));
 *             ... close streams opened on the old matcher, reopen on g's ...
 *             hl_matcher_gen_release(&w->gen);
 *             w->gen = g;
 *             w->gen_number = hl_matcher_gen_number(g);
 *     }
 *
 * (a scratch must be grown for a matcher before it is used with it; if
 * that fails, release g and stay on the old generation. A stream must be
 * closed before the matcher it was opened on is released.)
 *
 * Threads: any thread may call any function at any time, except that
 * hl_matcher_slot_destroy() must not race with acquire/publish on the same
 * slot. Generations stay valid after the slot is destroyed until released.
 */
#ifndef HOTLINE_SENSOR_MATCHER_SLOT_H
#define HOTLINE_SENSOR_MATCHER_SLOT_H

#include <stdint.h>

#include "hotline/matcher.h"

typedef struct hl_matcher_slot hl_matcher_slot_t;
typedef struct hl_matcher_gen hl_matcher_gen_t;

/* A slot whose generation 1 is *initial_p (ownership moves in: *initial_p
 * becomes NULL). NULL when *initial_p is NULL or on out of memory (then
 * *initial_p is left to the caller). */
hl_matcher_slot_t *hl_matcher_slot_new(hl_matcher_t **initial_p);
/* Drop the owner's reference to the slot and to its current generation.
 * Generations still held stay usable; the memory goes with the last one. */
void hl_matcher_slot_destroy(hl_matcher_slot_t **slot_p);

/* Number of the current generation: one atomic load (acquire order), the
 * per-packet check. A value newer than the generation a worker holds means
 * "acquire again". */
uint64_t hl_matcher_slot_generation(const hl_matcher_slot_t *slot);

/* A reference to the current generation; never NULL. Takes a mutex held
 * only for a pointer read and an increment (never during a compile or a
 * free), and is meant to be called once per generation per worker. */
hl_matcher_gen_t *hl_matcher_slot_acquire(hl_matcher_slot_t *slot);
/* Give a reference back; the last one destroys the matcher. NULL and *g_p
 * NULL are accepted; *g_p becomes NULL. */
void hl_matcher_gen_release(hl_matcher_gen_t **g_p);

const hl_matcher_t *hl_matcher_gen_matcher(const hl_matcher_gen_t *g);
uint64_t hl_matcher_gen_number(const hl_matcher_gen_t *g);

/* Install *m_p as the next generation (ownership moves in: *m_p becomes
 * NULL) and store its number in *number (may be NULL). The swap is a
 * pointer store under the mutex; the old generation is released after it,
 * outside the mutex. HL_EINVAL (no matcher) or HL_ENOMEM leave *m_p with
 * the caller and the slot unchanged. */
int hl_matcher_slot_publish(hl_matcher_slot_t *slot, hl_matcher_t **m_p, uint64_t *number);

struct hl_matcher_slot_stats {
	uint64_t generation; /* current */
	uint64_t published;  /* generations installed, the first included */
	uint64_t freed;      /* generations whose matcher was destroyed */
	                     /* published - freed = generations alive: the current one plus old ones
	                      * a worker has not released yet (a stuck worker shows here) */
};

void hl_matcher_slot_stats(const hl_matcher_slot_t *slot, struct hl_matcher_slot_stats *st);

#endif
