/* \summary: indicator sets pushed by the sharer to the sensor's link, and into a reload
 *
 * The receive side of docs/exchange.md "Indicators to sensors", used by
 * sharer_link.c on its thread: the link says hello on every new connection
 * (with the set_hash it holds), the sharer answers with the whole set as
 * "indicators" messages (full:true, then full:false parts), and when the
 * parts add up to set_hash the set is handed to the link's on_indicators
 * callback, off the packet path. Each part is ACKed once it is taken (the
 * last one only after the callback accepted the set); a part that does not
 * read is NACKed "field" and the set being assembled is dropped (the
 * sharer sends it again, whole); a callback that fails is NACKed
 * "internal" (the sharer retries after its backoff).
 *
 * hl_push_reload_*: the callback a sensor uses to feed its reload thread:
 * the set is written to a file in the native format and hl_reload_push()ed.
 */
#ifndef HOTLINE_SENSOR_SHARER_LINK_PUSH_H
#define HOTLINE_SENSOR_SHARER_LINK_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/iset.h"
#include "sharer_link.h"

/* ---- used by sharer_link.c (its thread only) ---- */

struct hl_link_push;

/* NULL on out of memory. Keeps o's names, callback and log. */
struct hl_link_push *hl_link_push_new(const struct hl_sharer_link_opts *o);
void hl_link_push_destroy(struct hl_link_push **p);
/* A connection came up: say hello (now, or at the next tick if the socket
 * would block). Nothing when no on_indicators callback is set. */
void hl_link_push_connected(struct hl_link_push *p, void *zsock);
/* Retry a hello that could not be sent. */
void hl_link_push_tick(struct hl_link_push *p, void *zsock);
/* One message from the sharer: true when it was an indicator message and
 * was handled here (answered on zsock), false to leave it to the link. */
bool hl_link_push_take(struct hl_link_push *p, void *zsock, const void *env, size_t env_len,
                       const void *body, size_t body_len);
/* Any thread. */
void hl_link_push_stats(struct hl_link_push *p, struct hl_sharer_link_push_stats *st);

/* ---- feeding a reload thread ---- */

struct hl_reload;
typedef struct hl_push_reload hl_push_reload_t;

/* Write each pushed set to path (replaced atomically: PATH.tmp, then
 * rename) and ask r to load it. r must outlive the adapter. NULL on a bad
 * argument or out of memory. */
hl_push_reload_t *hl_push_reload_new(struct hl_reload *r, const char *path);
void hl_push_reload_destroy(hl_push_reload_t **p);
/* The on_indicators callback; ctx is the hl_push_reload_t. */
int hl_push_reload_cb(void *ctx, uint64_t set_version, const char *set_hash, const hl_iset_t *set);

#endif
