/* \summary: the sharer's local control socket (hotline-ctl) and its client
 *
 * A ZeroMQ REP socket on ipc://PATH, the file chmod'ed to 0660 after the
 * bind: who may talk to the sharer is decided by the file's group and its
 * directory, as for the local sensor socket. One request, one reply, both a
 * JSON object:
 *   {"cmd":"status"}                          the daemon's counters
 *   {"cmd":"peers"}                           per-peer state
 *   {"cmd":"sightings","since":T,"limit":N,"by":"received"|"first_seen"}
 *   {"cmd":"audit-verify"}
 *   {"cmd":"indicators-list"|"indicators-add"|"indicators-retract", ...}
 * Every reply has "ok" (bool); a failed one has "error" (text). T is an
 * RFC 3339 string or Unix µs. Spec: docs/hotline-ctl.md.
 *
 * The socket has its own libzmq context and is served from the daemon's
 * loop (hl_control_serve when its socket is readable), so the store handle
 * is the loop's own.
 */
#ifndef HOTLINE_SHARER_CONTROL_H
#define HOTLINE_SHARER_CONTROL_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

/* Largest request accepted (an indicators-add carries a whole file). */
#define HL_CONTROL_REQUEST_MAX (64 * 1024 * 1024)
/* Most sightings in one reply (a larger limit is clamped; "more" says so). */
#define HL_CONTROL_SIGHTINGS_MAX 100000

typedef struct hl_control hl_control_t;

/* Answers the commands the control module does not know itself (status,
 * peers): a new reply object, or NULL for "unknown command". */
typedef json_t *(*hl_control_info_fn)(void *ud, const char *cmd, const json_t *req);

/* Bind a REP socket at ipc://path (mode 0 means 0660). store is borrowed
 * (sightings, audit-verify). NULL with *err (HL_EINVAL, HL_EIO, HL_ENOMEM,
 * HL_EEXISTS: something already accepts connections there, e.g. a running
 * sharer; a stale file left by a killed one is replaced). */
hl_control_t *hl_control_open(const char *path, unsigned mode, hl_store_t *store,
                              hl_control_info_fn info, void *ud, int *err);
/* For zmq_poll (ZMQ_POLLIN). */
void *hl_control_zsocket(hl_control_t *c);
/* Answer one waiting request without blocking. 0, HL_EAGAIN (none waiting),
 * HL_EIO. */
int hl_control_serve(hl_control_t *c);
/* Closes the socket, its context, and removes the socket file. NULL ok. */
void hl_control_close(hl_control_t **p);

/* Client: send req to the sharer at path and wait up to timeout_ms for the
 * reply (a new reference in *reply). 0, HL_EAGAIN (no answer in time),
 * HL_EIO, HL_EPARSE (the reply is not a JSON object). */
int hl_control_call(const char *path, const json_t *req, int timeout_ms, json_t **reply);

#endif
