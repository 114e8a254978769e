/* \summary: control internals: the request handlers in other files (control.c dispatches) */
#ifndef HOTLINE_SHARER_CONTROL_INT_H
#define HOTLINE_SHARER_CONTROL_INT_H

#include <jansson.h>
#include <stdint.h>

#include "control.h"
#include "store.h"

/* {"ok":false,"error":MSG}: the answer to a request that failed. */
json_t *hl_control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* indicators-list, indicators-add, indicators-retract (control_indicators.c):
 * a new reply, or NULL when cmd is none of them. now: Unix µs. */
json_t *hl_control_indicators(hl_store_t *store, const char *cmd, const json_t *req, int64_t now);

/* indicators-list with "peer" (control_peer_indicators.c): that peer's
 * set as we hold it. peers: the daemon's "peers" array (objects with
 * "name"), borrowed, NULL when there is none; a name neither there nor in
 * the store is refused. */
json_t *hl_control_peer_indicators(hl_store_t *store, const json_t *req, const json_t *peers);

/* Adds "indicators": {set_version, set_hash, active, retracted, peer_active}
 * to a status reply (control_indicators.c). */
void hl_control_indicators_status(hl_store_t *store, json_t *reply);

#endif
