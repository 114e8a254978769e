/* \summary: exchange internals shared by exchange.c (in) and exchange_send.c (out) */
#ifndef HOTLINE_SHARER_EXCHANGE_INT_H
#define HOTLINE_SHARER_EXCHANGE_INT_H

#include "exchange.h"

struct xpeer {
	char name[HL_WIRE_NAME_MAX + 1];
	hl_tp_sock_t *dealer;
	/* No DEALER: its connection to our listener, learnt from a message it
	 * sent there under a routing id equal to its name. */
	uint8_t route[HL_TP_ROUTE_MAX];
	size_t route_len;
	bool route_ok;
	bool up;
	bool blocked; /* its queue was full at the last pump */
	int64_t up_since;
	uint64_t seq;
	int64_t last_sent, last_received, last_ack;
	size_t inflight;
	char version[HL_WIRE_LINE_MAX + 1];
	char hello_id[HL_WIRE_ID_LEN + 1]; /* our last hello: its ACK is no outbox ACK */
	unsigned long received, sent, resent, acked, nacked;
};

struct hl_x_ind;

struct hl_exchange {
	struct hl_exchange_opts o;
	char name[HL_WIRE_NAME_MAX + 1];
	char version[HL_WIRE_LINE_MAX + 1];
	hl_tp_sock_t *listener; /* for peers without a DEALER */
	struct xpeer *peers;
	size_t n_peers;
	char (*sensors)[HL_WIRE_NAME_MAX + 1];
	size_t n_sensors;
	uint64_t sensor_seq;
	int64_t last_housekeeping;
	/* The texts of the records of the message being handled
	 * (hl_wire_decode_texts); its buffers are reused from message to
	 * message. */
	struct hl_wire_texts texts;
	struct hl_exchange_counters c;
	struct hl_x_ind *ind; /* exchange_indicators.c; created on first use */
};

#define XLOG(x, level, ...) hl_logf((x)->o.log, (x)->o.log_ctx, level, __VA_ARGS__)

struct xpeer *hl_x_peer(hl_exchange_t *x, const char *name);
/* Whether p can be sent to now, and its transport state. */
enum hl_tp_state hl_x_peer_state(const hl_exchange_t *x, const struct xpeer *p);
/* Learn (or forget) a listener-only peer's route from message m. */
void hl_x_learn_route(hl_exchange_t *x, struct xpeer *p, const struct hl_tp_msg *m);
/* A new connection from p (its hello): what was in flight may be lost. */
int hl_x_reconnected(hl_exchange_t *x, struct xpeer *p, int64_t now);

/* Encode one message from us to `to` (a fresh id unless id is given; body
 * is borrowed). 0 with both strings malloc'd, or a negative code. */
int hl_x_encode(hl_exchange_t *x, enum hl_wire_type type, const char *to, const char *id,
                uint64_t seq, const json_t *body, int64_t now, char **env, size_t *env_len,
                char **bodys, size_t *body_len);

/* Apply an ACK or NACK body from peer p (inside the caller's transaction). */
int hl_x_on_ack(hl_exchange_t *x, struct xpeer *p, const json_t *body, int64_t now);
int hl_x_on_nack(hl_exchange_t *x, struct xpeer *p, const json_t *body, int64_t now);

/* ---- indicators (exchange_indicators.c) ---- */

/* A refusal of a peer's message before anything was stored: code != 0. */
struct hl_x_verdict {
	bool ok; /* ACK it */
	enum hl_wire_err code;
	char why[HL_WIRE_REASON_MAX];
};

void hl_x_ind_free(hl_exchange_t *x);
/* A sensor's hello on sock (m: its route): push the set to it. */
int hl_x_ind_sensor_hello(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *m,
                          const char *name, const json_t *body);
/* An ACK or NACK from a sensor (for our pushes). */
void hl_x_ind_sensor_reply(hl_exchange_t *x, const char *name, enum hl_wire_type type,
                           const json_t *body);
/* An indicators or indicator_retract message from a peer (inside the
 * caller's transaction): 0 with v->ok (ACK) or v->code (NACK), or a
 * negative store code. */
int hl_x_on_peer_indicators(hl_exchange_t *x, const char *peer, const struct hl_tp_msg *m,
                            const struct hl_wire_envelope *e, const json_t *body, int64_t now,
                            struct hl_x_verdict *v);

#endif
