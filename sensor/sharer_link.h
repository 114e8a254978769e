/* \summary: the sensor's link to its local sharer: sightings out, ACKs back
 *
 * hotline-sensor --sharer ENDPOINT hands each sighting record (its JSON
 * line) to hl_sharer_link_send_own() (hl_sharer_link_send() for records
 * from elsewhere, checked first), which copies it into a bounded in-memory
 * queue and returns at once: it never waits for the network and may be
 * called from any thread. A background thread owns a ZeroMQ DEALER to the
 * sharer and sends the queued records in wire "sightings" messages
 * (include/hotline/wire.h; up to 1000 records each, as many as are waiting
 * when the thread sends: one when they trickle in, more in a burst), each
 * with its own message id, keeping a message until the sharer ACKs that
 * id. A message is resent, same id and bytes, when the
 * connection drops and comes back, or when no ACK came within resend_ms;
 * the sharer's inbox makes a resend harmless. When the sharer is away
 * longer than the queue holds, the oldest records are dropped (counted).
 *
 * Endpoints: "ipc:///PATH" (plaintext; the socket file's mode is the
 * access control) or "tcp://HOST:PORT" with CURVE: the sharer's public key
 * and this sensor's secret key, whose public half the sharer lists under
 * the sensor's name.
 *
 * Links with libzmq and the wire code (hotline_sharer's wire.c).
 */
#ifndef HOTLINE_SENSOR_SHARER_LINK_H
#define HOTLINE_SENSOR_SHARER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hl_sharer_link hl_sharer_link_t;

/* level: 0 error, 1 warning, 2 info, 3 debug. Called from the link's thread. */
typedef void (*hl_sharer_link_log_fn)(void *ctx, int level, const char *msg);

struct hl_iset;
/* A whole indicator set pushed by the sharer (sharer_link_push.h), on the
 * link's thread: set is valid during the call only. Return 0 when it was
 * taken (the sharer is ACKed), a negative code otherwise (NACKed
 * "internal": the sharer sends it again later). */
typedef int (*hl_sharer_link_indicators_fn)(void *ctx, uint64_t set_version, const char *set_hash,
                                            const struct hl_iset *set);

struct hl_sharer_link_opts {
	const char *endpoint;        /* ipc:///PATH or tcp://HOST:PORT */
	const char *name;            /* this sensor: the envelope's "from" */
	const char *to;              /* the sharer's name ("sharer" if NULL) */
	const char *server_key;      /* tcp: the sharer's public key (Z85) ... */
	const char *server_key_file; /* ... or a file holding it */
	const char *secret_key_file; /* tcp: this sensor's secret key (mode 0600) */
	size_t queue_max;            /* un-ACKed records kept; 0: 10000 */
	size_t window;               /* records sent and not yet ACKed at once; 0: 4096 */
	int resend_ms;               /* resend an un-ACKed record after; 0: 5000 */
	size_t batch_bytes;          /* records' bytes per message; 0: 256 KiB. Keep it
	                              * under half the sharer's limits.max_message */
	hl_sharer_link_log_fn log;   /* NULL: stderr */
	void *log_ctx;
	/* Indicator sets from the sharer; NULL: none are asked for (no hello). */
	hl_sharer_link_indicators_fn on_indicators;
	void *on_indicators_ctx;
};

struct hl_sharer_link_stats {
	unsigned long queued;  /* accepted by hl_sharer_link_send */
	unsigned long pending; /* in the queue now (un-ACKed) */
	unsigned long sent;    /* first sends */
	unsigned long resent;  /* later sends of the same record */
	unsigned long acked;   /* ACKed by the sharer: it has them durably */
	unsigned long refused; /* NACKed by the sharer (not resent) */
	unsigned long dropped; /* pushed out of a full queue before any ACK */
	unsigned long invalid; /* lines that are not a valid sighting record */
	unsigned long disconnects;
	unsigned long messages_acked; /* "sightings" messages ACKed (each carries 1..1000) */
};

/* Check the options, read the keys and start the thread (it connects in
 * the background). NULL with "what: why" in err. */
hl_sharer_link_t *hl_sharer_link_new(const struct hl_sharer_link_opts *o, char *err, size_t errlen);
/* Queue one record (len bytes, no newline needed). Thread-safe, never
 * blocks on the network. 0, HL_EINVAL (not a sighting record the wire
 * accepts; counted as invalid), HL_ENOMEM, HL_ESTATE (link stopping). */
int hl_sharer_link_send(hl_sharer_link_t *l, const char *line, size_t len);
/* The same for a record this sensor's own writer made (sighting_json.c:
 * jansson output that fits the wire's sighting schema, which
 * integration.sensor_sharer checks for every fixture): only its framing is
 * checked (one object, '{' to '}', no newline or NUL inside), not parsed
 * again. A record the sharer still refuses is NACKed with the reason and
 * counted as refused, with the batch it came in. */
int hl_sharer_link_send_own(hl_sharer_link_t *l, const char *line, size_t len);
/* Wait until every queued record is ACKed (or refused or dropped), at most
 * timeout_ms. 0 or HL_EAGAIN. */
int hl_sharer_link_flush(hl_sharer_link_t *l, int timeout_ms);
void hl_sharer_link_stats(hl_sharer_link_t *l, struct hl_sharer_link_stats *st);

struct hl_sharer_link_push_stats {
	unsigned long hellos;  /* sent */
	unsigned long parts;   /* indicator messages taken (ACKed) */
	unsigned long sets;    /* whole sets handed to on_indicators and accepted */
	unsigned long refused; /* messages NACKed: unreadable, unexpected, callback failed */
	uint64_t set_version;  /* of the last set accepted; 0 none */
	char set_hash[65];     /* its hash; "" */
};
void hl_sharer_link_push_stats(hl_sharer_link_t *l, struct hl_sharer_link_push_stats *st);
/* Stop the thread and free everything; records not yet ACKed are lost
 * (logged with their count). Accepts NULL; sets *p = NULL. */
void hl_sharer_link_destroy(hl_sharer_link_t **p);

#endif
