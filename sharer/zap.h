/* \summary: ZAP handler: admits CURVE clients whose key is allowlisted
 *
 * libzmq asks the ZAP handler bound at inproc://zeromq.zap.01 of a context
 * (RFC 27) whether to accept each handshake on a socket that has a ZAP
 * domain. This handler runs in its own thread with its own REP socket and
 * admits a request only if
 *   - the domain is the one it was created for (HL_ZAP_DOMAIN),
 *   - the mechanism is CURVE (NULL and PLAIN are refused: a plaintext peer
 *     never gets through on a CURVE socket, even if libzmq asked), and
 *   - the client's public key is in the allowlist.
 * The reply's User-Id is the peer name the allowlist maps the key to; libzmq
 * attaches it to every message of that connection (zmq_msg_gets "User-Id").
 * The reply also carries the key itself as metadata "X-Hotline-Key" (Z85),
 * so a receiver can check that the key is still allowed (hl_zap_check) after
 * the allowlist changed under a live connection.
 *
 * Every refusal is counted and logged with the key's fingerprint and the
 * remote address; repeated refusals of one key (a misconfigured peer
 * reconnecting) are logged at the 1st, 2nd, 4th, 8th, ... time.
 *
 * The allowlist can be replaced at any time (under a mutex); the change
 * applies to every handshake after the call returns.
 */
#ifndef HOTLINE_SHARER_ZAP_H
#define HOTLINE_SHARER_ZAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "keys.h"

#define HL_ZAP_DOMAIN "hotline"
#define HL_ZAP_KEY_PROPERTY "X-Hotline-Key"
/* An allowlist is a handful of partner sharers; this is a sanity cap. */
#define HL_ZAP_MAX_PEERS 4096

enum hl_log_level { HL_LOG_ERROR, HL_LOG_WARNING, HL_LOG_INFO, HL_LOG_DEBUG };

/* Called with one line (no newline). Must be thread-safe: the ZAP thread
 * calls it too. NULL log functions mean "write to stderr". */
typedef void (*hl_log_fn)(void *ctx, enum hl_log_level level, const char *msg);

const char *hl_log_level_name(enum hl_log_level level);
/* Format one line and hand it to fn (stderr when fn is NULL). */
void hl_logf(hl_log_fn fn, void *ctx, enum hl_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* One allowlist entry: a peer's name (hl_peer_name_valid) and its public key.
 * Several keys may map to one name (key rotation); one key maps to one name. */
struct hl_peer_key {
	const char *name;
	const char *public_z85;
};

struct hl_zap_stats {
	unsigned long requests;
	unsigned long admitted;
	unsigned long refused; /* the sum of the four below */
	unsigned long refused_unknown_key;
	unsigned long refused_mechanism; /* NULL, PLAIN, GSSAPI */
	unsigned long refused_domain;
	unsigned long refused_malformed;
};

typedef struct hl_zap hl_zap_t;

/* Bind the handler in zmq_ctx and start its thread. The allowlist starts
 * empty (everything refused). NULL with *err set on failure (HL_EEXISTS if
 * the context already has a ZAP handler). */
hl_zap_t *hl_zap_new(void *zmq_ctx, hl_log_fn log, void *log_ctx, int *err);

/* Stop the thread and close its sockets. Accepts NULL; sets *p = NULL. */
void hl_zap_destroy(hl_zap_t **p);

/* Replace the allowlist. Validates every entry first; on error (bad name,
 * bad key, one key under two names, too many) the old list stays and the
 * error names the entry through diag. 0 or HL_EINVAL / HL_ELIMIT / HL_ENOMEM. */
int hl_zap_set_allowlist(hl_zap_t *z, const struct hl_peer_key *peers, size_t n,
                         struct hl_diag *diag);

/* Whether the allowlist currently maps key to name. */
bool hl_zap_check(hl_zap_t *z, const uint8_t key[HL_KEY_BIN_LEN], const char *name);

void hl_zap_stats(hl_zap_t *z, struct hl_zap_stats *st);

#endif
