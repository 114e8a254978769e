/* \summary: sharer transport: libzmq sockets, CURVE, ZAP admission, monitor events
 *
 * Moves multipart messages between authenticated peers and says who sent
 * them; it knows nothing of envelopes or bodies. docs/transport.md explains
 * the choices; in short:
 *
 * - A transport owns one libzmq context and one ZAP handler (zap.h). All
 *   its sockets belong to the thread that uses them (libzmq sockets are not
 *   thread-safe); only hl_transport_set_allowlist() may be called from any
 *   thread.
 * - hl_tp_listen(): a ROUTER, CURVE server with our secret key, ZAP domain
 *   HL_ZAP_DOMAIN. Each received message carries the peer name our ZAP
 *   handler derived from the client's key (User-Id), and nothing else
 *   decides who sent it: not the routing id, not message content. The
 *   routing id is only an address for replies, chosen by the peer; with
 *   ZMQ_ROUTER_HANDOVER the newest connection using one wins it. Send
 *   anything confidential over a DEALER (pinned key), not by route.
 * - hl_tp_connect(): a DEALER per peer, CURVE client pinned to the peer's
 *   server public key (only the holder of that key can complete the
 *   handshake, so replies on it are from that peer), routing id = our name,
 *   reconnecting with exponential backoff (also after a refused handshake,
 *   where libzmq 4.3.4 alone gives up), heartbeats for dead-peer detection,
 *   bounded queues, ZMQ_IMMEDIATE: while no connection is up a send fails
 *   with HL_EAGAIN instead of queueing. A message sent just as a
 *   connection breaks can still be lost; the outbox's acknowledgements,
 *   not the transport, make delivery reliable.
 * - hl_tp_listen_local(): an ipc:// PULL or ROUTER for local sensors and
 *   hotline-ctl, no CURVE: access is the socket file's mode (0660 by
 *   default) and its directory's. A path held by a live listener is
 *   refused; the socket file is removed on close.
 * - Every socket has a monitor; events update the socket's state and
 *   counters whenever the socket is polled (hl_tp_recv, hl_tp_pump,
 *   hl_tp_wait_event). The owning thread must keep polling: the event
 *   queue is unbounded (libzmq would otherwise block its I/O thread).
 *
 * libzmq 4.3.4 aborts the process (zeromq/libzmq#4364, "Assertion
 * failed: !_io_error") when a connection that stopped reading at a full
 * receive queue is reset and a heartbeat falls due before the queue
 * drains. So CURVE sockets have unbounded receive queues (rcvhwm 0; the
 * exchange's window and backoff bound what a partner can queue up), and
 * local listeners keep a bounded queue (local_rcvhwm: a sensor link
 * resends its whole window on a timer and relies on that backpressure) but
 * send no heartbeats (a local peer's death is seen by the kernel at once).
 *
 * Oversize: ZMQ_MAXMSGSIZE (max_msg_size) makes libzmq drop the whole
 * connection when a peer sends a bigger frame; the peer reconnects and
 * nothing tells it why. The wire layer's own cap must therefore be smaller,
 * so an oversized message is received and NACKed instead.
 */
#ifndef HOTLINE_SHARER_TRANSPORT_H
#define HOTLINE_SHARER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "zap.h"

#define HL_TP_ROUTE_MAX 255
#define HL_TP_ENDPOINT_MAX 256

struct hl_transport_opts {
	const char *name;              /* our peer name: the DEALER routing id */
	const struct hl_keypair *keys; /* ours; NULL allows only local listeners */
	int reconnect_ivl_ms;          /* first retry after a lost connection; 100 */
	int reconnect_ivl_max_ms;      /* backoff doubles up to this; 30000 */
	int heartbeat_ivl_ms;          /* send a PING this often; 5000 */
	int heartbeat_timeout_ms;      /* no traffic this long after a PING: dead; 15000 */
	int heartbeat_ttl_ms;          /* tells the peer to give up on us after; 15000 */
	int handshake_ivl_ms;          /* a handshake must finish within; 10000 */
	int sndhwm;                    /* messages queued per connection; 1000 */
	int rcvhwm;                    /* CURVE sockets; 0: unbounded (libzmq#4364) */
	int local_rcvhwm;              /* local listeners; 1000 */
	int64_t max_msg_size;          /* per frame, ZMQ_MAXMSGSIZE; 16 MiB */
	int max_frames;                /* per message beyond the route; 16 */
	int linger_ms;                 /* unsent messages kept at close; 0 */
	hl_log_fn log;                 /* NULL: stderr. Thread-safe (ZAP logs too) */
	void *log_ctx;
};

void hl_transport_opts_init(struct hl_transport_opts *o);

typedef struct hl_transport hl_transport_t;
typedef struct hl_tp_sock hl_tp_sock_t;

/* How the peer name of a received message was established. */
enum hl_tp_auth {
	HL_TP_AUTH_ZAP,        /* listener: User-Id from our ZAP handler (client key) */
	HL_TP_AUTH_SERVER_KEY, /* DEALER: the server holds the public key we pinned */
	HL_TP_AUTH_LOCAL,      /* local ipc listener: the socket file's permissions */
};

enum hl_tp_state {
	HL_TP_DOWN,      /* DEALER: no connection (yet, or lost; retrying) */
	HL_TP_CONNECTED, /* DEALER: TCP up, handshake in progress */
	HL_TP_UP,        /* DEALER: handshake succeeded, messages flow */
	HL_TP_REFUSED,   /* DEALER: the server refused our key; retrying */
	HL_TP_FAILED,    /* DEALER: handshake failed otherwise; retrying */
	HL_TP_LISTENING, /* listeners */
	HL_TP_CLOSED,    /* listener unbound */
};

const char *hl_tp_state_name(enum hl_tp_state st);

/* Per socket; "peer" below is the one peer of a DEALER. */
struct hl_tp_counters {
	unsigned long connects;    /* TCP connected (DEALER) or accepted (listener) */
	unsigned long disconnects; /* incl. connections dropped by a failed handshake */
	unsigned long handshakes_ok;
	unsigned long handshakes_failed_auth;     /* ZAP refused (listener) / us (DEALER) */
	unsigned long handshakes_failed_protocol; /* e.g. plaintext client, wrong server key */
	unsigned long handshakes_failed_other;
	unsigned long msgs_in, msgs_out;
	unsigned long long bytes_in, bytes_out; /* payload frames only */
	unsigned long redials;                  /* DEALER: connected again after a refusal */
	unsigned long send_again;               /* HL_EAGAIN: peer down or its queue full */
	unsigned long send_unroutable;          /* HL_ENOTFOUND: no such route (any more) */
	unsigned long dropped_unauthenticated;  /* listener: no valid User-Id */
	unsigned long dropped_revoked;          /* key no longer allowed under that name */
	unsigned long dropped_frames;           /* no payload frame, or more than max_frames */
	unsigned long dropped_oversize;         /* payload over max_msg_size in total */
	unsigned long route_mismatch;           /* routing id != User-Id (delivered, flagged) */
};

/* Per authenticated peer on a listener. */
struct hl_tp_peer_stats {
	unsigned long msgs_in, msgs_out;
	unsigned long long bytes_in, bytes_out;
	unsigned long route_mismatch;
};

struct hl_tp_frame {
	uint8_t *data;
	size_t len;
};

/* A received message; owns its frames (hl_tp_msg_clear). */
struct hl_tp_msg {
	char peer[HL_PEER_NAME_MAX + 1]; /* who sent it: the only identity to trust */
	enum hl_tp_auth auth;
	uint8_t route[HL_TP_ROUTE_MAX]; /* listener: the reply handle, never an identity */
	size_t route_len;
	bool route_mismatch;        /* the routing id the peer chose is not its name */
	char address[64];           /* Peer-Address, for logs; may be empty */
	struct hl_tp_frame *frames; /* payload frames, route excluded */
	size_t nframes;
};

void hl_tp_msg_clear(struct hl_tp_msg *m);

/* Frames to send (borrowed). */
struct hl_frame {
	const void *data;
	size_t len;
};

/* A monitor event as libzmq reports it (ZMQ_EVENT_*). */
struct hl_tp_event {
	unsigned event;
	uint32_t value; /* fd, errno, ZAP status or ZMQ_PROTOCOL_ERROR_* */
	char endpoint[HL_TP_ENDPOINT_MAX];
};

/* New context and ZAP handler (empty allowlist). NULL with *err on failure. */
hl_transport_t *hl_transport_new(const struct hl_transport_opts *o, int *err);
/* Closes any socket still open, the ZAP handler and the context.
 * Accepts NULL; sets *p = NULL. */
void hl_transport_destroy(hl_transport_t **p);
/* Replace the allowlist (see hl_zap_set_allowlist); any thread. New
 * handshakes use it at once; messages on live connections whose key is no
 * longer allowed under their name are dropped (dropped_revoked). */
int hl_transport_set_allowlist(hl_transport_t *t, const struct hl_peer_key *peers, size_t n,
                               struct hl_diag *diag);
void hl_transport_zap_stats(hl_transport_t *t, struct hl_zap_stats *st);

/* CURVE ROUTER bound to endpoint: "tcp://ADDR:PORT" ("tcp://127.0.0.1:*"
 * for an ephemeral port) or "ipc://PATH". */
hl_tp_sock_t *hl_tp_listen(hl_transport_t *t, const char *endpoint, int *err);
/* CURVE DEALER to peer at endpoint, whose server public key is
 * server_public_z85. Connects in the background; see hl_tp_state(). */
hl_tp_sock_t *hl_tp_connect(hl_transport_t *t, const char *peer, const char *endpoint,
                            const char *server_public_z85, int *err);

enum hl_tp_local_kind { HL_TP_LOCAL_PULL, HL_TP_LOCAL_ROUTER };
/* Plaintext listener on "ipc:///PATH" (not abstract "ipc://@"), chmod'ed to
 * mode (0 means 0660) after the bind. Messages are labelled peer = label.
 * HL_EEXISTS if a live listener holds the path (a stale file is replaced). */
hl_tp_sock_t *hl_tp_listen_local(hl_transport_t *t, const char *endpoint,
                                 enum hl_tp_local_kind kind, const char *label, unsigned mode,
                                 int *err);

/* A listener is unbound first and the call waits (at most 2 s) for libzmq
 * to report the listening socket closed, so the endpoint can be bound again
 * at once. Accepts NULL; sets *p = NULL. */
void hl_tp_close(hl_tp_sock_t **p);

/* The endpoint as bound or connected, wildcards resolved. */
const char *hl_tp_endpoint(const hl_tp_sock_t *s);
enum hl_tp_state hl_tp_state(const hl_tp_sock_t *s);
void hl_tp_counters(const hl_tp_sock_t *s, struct hl_tp_counters *c);
/* HL_ENOTFOUND if nothing was ever received from name on this listener. */
int hl_tp_peer_stats(const hl_tp_sock_t *s, const char *name, struct hl_tp_peer_stats *ps);

/* Send one multipart message without blocking. DEALER: to its peer.
 * 0, HL_EAGAIN (peer down or queue full: keep it and retry), HL_ELIMIT
 * (more than max_frames or max_msg_size: the peer would drop it),
 * HL_EINVAL, HL_EIO. */
int hl_tp_send(hl_tp_sock_t *s, const struct hl_frame *frames, size_t n);
/* Listener: to the connection with this routing id. HL_ENOTFOUND if gone. */
int hl_tp_send_route(hl_tp_sock_t *s, const void *route, size_t route_len,
                     const struct hl_frame *frames, size_t n);
/* Back to where m came from (listener: m's route; DEALER: its peer). */
int hl_tp_reply(hl_tp_sock_t *s, const struct hl_tp_msg *m, const struct hl_frame *frames,
                size_t n);
/* Receive one message, processing monitor events meanwhile. m must be
 * zero-initialised before its first use; its old frames are freed.
 * timeout_ms < 0 waits for ever, 0 does not wait. 0, HL_EAGAIN at the
 * deadline, HL_EIO. Messages that fail a check are counted, logged and
 * skipped. */
int hl_tp_recv(hl_tp_sock_t *s, struct hl_tp_msg *m, int timeout_ms);

/* Process monitor events, waiting up to timeout_ms for the first (less if
 * a re-dial falls due first). Returns how many were processed. */
int hl_tp_pump(hl_tp_sock_t *s, int timeout_ms);
/* Process monitor events until one in mask (ZMQ_EVENT_* bits) arrives:
 * 0 with *ev filled, or HL_EAGAIN at the deadline. */
int hl_tp_wait_event(hl_tp_sock_t *s, unsigned mask, int timeout_ms, struct hl_tp_event *ev);

/* For an application's own zmq_poll: the data socket and the monitor
 * socket (readable: call hl_tp_pump(s, 0)), and the longest such a poll may
 * wait before hl_tp_pump(s, 0) is due anyway (-1: no limit) because a
 * refused DEALER is to connect again (see docs/transport.md). */
int hl_tp_next_timeout(const hl_tp_sock_t *s);
void *hl_tp_zsocket(hl_tp_sock_t *s);
void *hl_tp_zmonitor(hl_tp_sock_t *s);

#endif
