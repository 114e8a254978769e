/* \summary: refcounted matcher generations behind one slot (matcher_slot.h)
 *
 * Why a mutex and not liburcu: the only step that needs mutual exclusion is
 * "read the current pointer and take a reference" against "swap the pointer
 * and drop the slot's reference", so that no reader increments a count
 * that already reached zero. That happens once per generation per worker,
 * and the critical section is a load, an increment and a store: no
 * allocation, no I/O, no compile, no free. liburcu would make it lock-free
 * but adds a dependency, needs every worker registered, and frees the old
 * set only after a grace period that an idle worker (blocked on an empty
 * ring) can hold up indefinitely unless it reports quiescent states. With
 * references, the old matcher goes exactly when its last user lets go, and
 * the per-packet check stays one atomic load of the generation number.
 *
 * Lifetimes: each generation holds a reference to the slot (so its release
 * can count itself freed), and the owner holds one more; the slot's memory
 * goes with the last of them.
 */
#include "matcher_slot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "hotline/err.h"

struct hl_matcher_gen {
	atomic_uint_fast64_t refs;
	uint64_t number;
	hl_matcher_t *matcher;
	struct hl_matcher_slot *slot;
};

struct hl_matcher_slot {
	pthread_mutex_t lock;
	struct hl_matcher_gen *current; /* under lock */
	atomic_uint_fast64_t generation;
	atomic_uint_fast64_t published;
	atomic_uint_fast64_t freed;
	atomic_uint_fast64_t refs; /* owner + one per live generation */
};

static void slot_unref(struct hl_matcher_slot *slot)
{
	/* acq_rel: the last owner sees every other thread's writes to the slot
	 * (a standalone fence would do too, but ThreadSanitizer cannot see
	 * fences) */
	if (atomic_fetch_sub_explicit(&slot->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_destroy(&slot->lock);
	free(slot);
}

static struct hl_matcher_gen *gen_new(struct hl_matcher_slot *slot, hl_matcher_t *m)
{
	struct hl_matcher_gen *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	atomic_init(&g->refs, 1); /* the slot's */
	g->matcher = m;
	g->slot = slot;
	atomic_fetch_add_explicit(&slot->refs, 1, memory_order_relaxed);
	return g;
}

hl_matcher_slot_t *hl_matcher_slot_new(hl_matcher_t **initial_p)
{
	if (initial_p == NULL || *initial_p == NULL)
		return NULL;
	struct hl_matcher_slot *slot = calloc(1, sizeof *slot);
	if (slot == NULL)
		return NULL;
	if (pthread_mutex_init(&slot->lock, NULL) != 0) {
		free(slot);
		return NULL;
	}
	atomic_init(&slot->refs, 1);
	struct hl_matcher_gen *g = gen_new(slot, *initial_p);
	if (g == NULL) {
		pthread_mutex_destroy(&slot->lock);
		free(slot);
		return NULL;
	}
	g->number = 1;
	slot->current = g;
	atomic_init(&slot->generation, 1);
	atomic_init(&slot->published, 1);
	atomic_init(&slot->freed, 0);
	*initial_p = NULL;
	return slot;
}

void hl_matcher_gen_release(hl_matcher_gen_t **g_p)
{
	if (g_p == NULL || *g_p == NULL)
		return;
	struct hl_matcher_gen *g = *g_p;
	*g_p = NULL;
	/* acq_rel: whoever destroys the matcher sees every other holder's
	 * reads of it completed (the shared_ptr pattern) */
	if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
		return;
	struct hl_matcher_slot *slot = g->slot;
	hl_matcher_destroy(&g->matcher);
	free(g);
	atomic_fetch_add_explicit(&slot->freed, 1, memory_order_relaxed);
	slot_unref(slot);
}

void hl_matcher_slot_destroy(hl_matcher_slot_t **slot_p)
{
	if (slot_p == NULL || *slot_p == NULL)
		return;
	struct hl_matcher_slot *slot = *slot_p;
	*slot_p = NULL;
	pthread_mutex_lock(&slot->lock);
	struct hl_matcher_gen *g = slot->current;
	slot->current = NULL;
	pthread_mutex_unlock(&slot->lock);
	hl_matcher_gen_release(&g);
	slot_unref(slot);
}

uint64_t hl_matcher_slot_generation(const hl_matcher_slot_t *slot)
{
	return atomic_load_explicit(&slot->generation, memory_order_acquire);
}

hl_matcher_gen_t *hl_matcher_slot_acquire(hl_matcher_slot_t *slot)
{
	pthread_mutex_lock(&slot->lock);
	struct hl_matcher_gen *g = slot->current;
	/* relaxed is enough: the slot's own reference keeps the count above
	 * zero while we hold the lock, and the lock orders the pointer read */
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&slot->lock);
	return g;
}

const hl_matcher_t *hl_matcher_gen_matcher(const hl_matcher_gen_t *g)
{
	return g->matcher;
}

uint64_t hl_matcher_gen_number(const hl_matcher_gen_t *g)
{
	return g->number;
}

int hl_matcher_slot_publish(hl_matcher_slot_t *slot, hl_matcher_t **m_p, uint64_t *number)
{
	if (slot == NULL || m_p == NULL || *m_p == NULL)
		return HL_EINVAL;
	struct hl_matcher_gen *g = gen_new(slot, *m_p);
	if (g == NULL)
		return HL_ENOMEM;
	*m_p = NULL;
	pthread_mutex_lock(&slot->lock);
	struct hl_matcher_gen *old = slot->current;
	g->number = old->number + 1;
	slot->current = g;
	/* stored after the pointer: a worker that sees the new number and
	 * acquires gets this generation or a newer one */
	atomic_store_explicit(&slot->generation, g->number, memory_order_release);
	atomic_fetch_add_explicit(&slot->published, 1, memory_order_relaxed);
	pthread_mutex_unlock(&slot->lock);
	if (number != NULL)
		*number = g->number;
	hl_matcher_gen_release(&old);
	return 0;
}

void hl_matcher_slot_stats(const hl_matcher_slot_t *slot, struct hl_matcher_slot_stats *st)
{
	st->generation = atomic_load_explicit(&slot->generation, memory_order_acquire);
	st->published = atomic_load_explicit(&slot->published, memory_order_relaxed);
	st->freed = atomic_load_explicit(&slot->freed, memory_order_relaxed);
}
