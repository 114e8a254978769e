/* \summary: the sharer's exchange protocol: sightings in, outbox out, ACK/NACK
 *
 * The protocol layer between the transport (who sent what, authenticated)
 * and the store (what is durable). It owns no socket and reads no clock:
 * the daemon hands it received messages and the current time, and it sends
 * through the sockets it was given. docs/exchange.md describes the rules;
 * in short:
 *
 * - A sighting from a local sensor is stored, and one outbox message per
 *   peer is queued, in the transaction that records the sensor's message id
 *   in the inbox; only after the commit is the sensor ACKed. A resend of an
 *   id already recorded is only ACKed again.
 * - A message from a peer is decoded (hl_wire_decode); a refusal is NACKed
 *   with its reason code (when the envelope has an id), counted and logged.
 *   Its "from" must be the name the transport authenticated, its "to" ours.
 *   The inbox row, the stored sightings and an audit row are one
 *   transaction; the ACK follows the commit. A duplicate id is only ACKed.
 * - The outbox is pumped per peer whose connection is up: due messages are
 *   sent (same id on every attempt), marked sent with exponential backoff,
 *   and acknowledged by the peer's ACK. A NACK with reason "internal" is
 *   retried; any other NACK ends the message's delivery (counted, logged).
 * - On a connection coming up: a hello, and every pending message becomes
 *   due at once. Idle connections carry a heartbeat.
 *
 * Batching: hl_exchange_handle() takes a batch of received messages and
 * processes them in one store transaction (one fsync), then sends every
 * reply. If the batch's transaction fails it is retried one message per
 * transaction, so one bad message cannot block the others.
 *
 * Thread: one; the store handle and sockets belong to the caller's thread.
 */
#ifndef HOTLINE_SHARER_EXCHANGE_H
#define HOTLINE_SHARER_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/wire.h"
#include "store.h"
#include "transport.h"

typedef struct hl_exchange hl_exchange_t;

struct hl_exchange_opts {
	const char *name;      /* ours: envelope "from", checked "to" */
	const char *version;   /* in our hello; "hotline/0.1" if NULL */
	hl_store_t *store;     /* borrowed, read-write */
	size_t max_msg_bytes;  /* wire cap on env + body; 0: HL_WIRE_MAX_DEFAULT */
	int64_t retry_base_us; /* first resend after; 5 s */
	int64_t retry_max_us;  /* backoff doubles up to; 300 s */
	int64_t heartbeat_us;  /* heartbeat when nothing was sent this long; 10 s */
	size_t window;         /* sent and not yet ACKed per peer; 512 */
	size_t pump_batch;     /* messages sent per peer per pump; 256 */
	int64_t inbox_keep_us; /* inbox ids are kept this long; 30 days */
	uint64_t seq_start;    /* first envelope seq per peer: pass the time in µs, so that
	                        * seq keeps growing across restarts */
	hl_log_fn log;         /* NULL: stderr */
	void *log_ctx;
};

void hl_exchange_opts_init(struct hl_exchange_opts *o);

/* NULL with *err set (HL_EINVAL for a bad name or no store, HL_ENOMEM). */
hl_exchange_t *hl_exchange_new(const struct hl_exchange_opts *o, int *err);
void hl_exchange_destroy(hl_exchange_t **p);

/* A peer sharer: messages we queue for it leave through dealer (borrowed),
 * or, when dealer is NULL (the peer connects to us), through the listener
 * set below, over the peer's own connection once it has sent on it (its
 * hello). Messages authenticated as name are peer messages. 0, HL_EINVAL,
 * HL_EEXISTS, HL_ENOMEM. */
int hl_exchange_add_peer(hl_exchange_t *x, const char *name, hl_tp_sock_t *dealer);
/* The peer listener (borrowed), for peers without a DEALER. */
void hl_exchange_set_listener(hl_exchange_t *x, hl_tp_sock_t *listener);
/* A sensor that connects over CURVE under this authenticated name (local
 * ipc sensors need no entry). */
int hl_exchange_add_sensor(hl_exchange_t *x, const char *name);

/* Process n messages received on sock (a listener, a local listener or a
 * peer's DEALER), then send the replies through sock. The messages stay
 * the caller's. 0, or a negative code when the store failed (the messages
 * were then NACKed "internal" or left unanswered, and will be resent). */
int hl_exchange_handle(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *msgs, size_t n,
                       int64_t now);

/* Follow connection states (hello and reschedule on up), send due outbox
 * messages and heartbeats; once a minute, purge outbox rows acknowledged
 * over a minute ago and inbox ids older than inbox_keep (docs/store.md).
 * 0 or a negative store code. */
int hl_exchange_pump(hl_exchange_t *x, int64_t now);

/* When hl_exchange_pump() has something to do next (absolute µs; now when
 * it has work at once). */
int64_t hl_exchange_next_wakeup(hl_exchange_t *x, int64_t now);

struct hl_exchange_counters {
	unsigned long received;                  /* messages that decoded */
	unsigned long rejected[HL_WIRE_E_COUNT]; /* refused, by reason code */
	unsigned long rejected_total;            /* sum of rejected[] */
	unsigned long from_mismatch;             /* "from" is not the authenticated peer */
	unsigned long to_mismatch;               /* "to" is not us */
	unsigned long unknown_sender;            /* authenticated, but neither peer nor sensor */
	unsigned long duplicates;                /* message id already in the inbox: re-ACKed */
	unsigned long sightings_local;           /* stored from sensors */
	unsigned long sightings_peer;            /* stored from peers */
	unsigned long sightings_known;           /* a sighting id already stored */
	unsigned long acks_sent, nacks_sent;     /* replies */
	unsigned long acks_received, nacks_received;
	unsigned long acks_unknown;             /* ACK of an id not in our outbox */
	unsigned long sent, resent, send_again; /* outbox sends; HL_EAGAIN */
	unsigned long undeliverable;            /* given up on: NACKed or not encodable */
	unsigned long hellos_sent, hellos_received;
	unsigned long heartbeats_sent, heartbeats_received;
	unsigned long store_errors;
	unsigned long batches;
	unsigned long purged_outbox, purged_inbox;
};

void hl_exchange_counters(const hl_exchange_t *x, struct hl_exchange_counters *c);

struct hl_exchange_peer_info {
	const char *name;
	enum hl_tp_state state; /* no DEALER: HL_TP_UP while its connection to us is known */
	int64_t up_since;       /* 0 when not up */
	int64_t last_received;  /* 0: nothing yet */
	int64_t last_sent;
	char version[HL_WIRE_LINE_MAX + 1]; /* from its hello; "" */
	unsigned long received, sent, resent, acked, nacked;
	size_t inflight;
};

/* Indicator sets (exchange_indicators.c): the local set to sensors. */
struct hl_exchange_ind_counters {
	unsigned long sensor_hellos;
	unsigned long pushes, push_parts, push_resent, push_failed; /* to sensors */
	unsigned long push_acked, push_nacked;                      /* parts */
	unsigned long peer_messages;                                /* stored from peers */
	unsigned long peer_stored, peer_retracted;                  /* indicators */
	unsigned long peer_refused;                                 /* NACKed, nothing stored */
};
void hl_exchange_ind_counters(hl_exchange_t *x, struct hl_exchange_ind_counters *c);
/* The local set may have changed (a control request): look at once. */
void hl_exchange_indicators_changed(hl_exchange_t *x);
/* Push the local set to sensors that need it (new version, new hello,
 * un-ACKed parts after the backoff). Call after hl_exchange_pump. */
int hl_exchange_indicators_pump(hl_exchange_t *x, int64_t now);

size_t hl_exchange_peer_count(const hl_exchange_t *x);
/* Peer i (0..count-1); strings valid until the next call on x. */
int hl_exchange_peer_info(const hl_exchange_t *x, size_t i, struct hl_exchange_peer_info *pi);

#endif
