/* \summary: large one-shot blocks whose pages are mapped in at once, internal to hotline_rules
 *
 * Loading a compiled matcher writes tens of MB into fresh memory. Taken a
 * page fault at a time that cost more CPU than the load's own work (15k
 * faults, ~0.15 s of system time for 100k indicators on a KVM guest), so
 * the big blocks of a load ask the kernel to map them in one call, with
 * huge pages where it allows. Blocks stay plain malloc memory: free() them.
 */
#ifndef HOTLINE_RULES_BIGALLOC_H
#define HOTLINE_RULES_BIGALLOC_H

#include <stddef.h>

/* malloc(len), and for a block of 256 KiB or more its pages mapped now.
 * NULL on out of memory (len 0 allocates 1 byte). */
void *hl_big_alloc(size_t len);

/* Map in the whole pages of [p, p + len) now when len is 256 KiB or
 * more; a hint only: nothing fails when the kernel declines. */
void hl_big_prefault(void *p, size_t len);

#endif
