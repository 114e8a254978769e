/* \summary: the sharer daemon: sockets, store and exchange on one event loop
 *
 * One thread runs everything that touches the store and the sockets: a
 * zmq_poll over the peer listener, one DEALER per peer, the local sensor
 * listener, every socket's monitor and the control socket, with a timeout
 * from the exchange's next due resend or heartbeat. Received messages are
 * handled in batches (one store transaction each, then the ACKs).
 *
 * This header includes neither transport.h nor config.h, so that a file may
 * use it with either (daemon_config.c builds the options from a config).
 */
#ifndef HOTLINE_SHARER_DAEMON_H
#define HOTLINE_SHARER_DAEMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hl_daemon hl_daemon_t;

/* level: 0 error, 1 warning, 2 info, 3 debug (enum hl_log_level). Called
 * from more than one thread (the ZAP handler logs too). */
typedef void (*hl_daemon_log_fn)(void *ctx, int level, const char *msg);

struct hl_daemon_peer {
	const char *name;
	const char *endpoint;   /* tcp://HOST:PORT to connect to; NULL: it only connects to us */
	const char *public_z85; /* its CURVE public key */
};

struct hl_daemon_sensor {
	const char *name;
	const char *public_z85; /* NULL: accepted over the local ipc listener only */
};

struct hl_daemon_opts {
	const char *name;
	const char *listen;          /* tcp:// or ipc:// for peers (CURVE); NULL: none */
	const char *sensor_listen;   /* ipc:///PATH (plaintext, 0660) or tcp:// (CURVE); NULL */
	const char *control_path;    /* unix socket path for hotline-ctl; NULL: none */
	const char *store_path;      /* SQLite file */
	const char *secret_key_file; /* our CURVE secret key */
	const struct hl_daemon_peer *peers;
	size_t n_peers;
	const struct hl_daemon_sensor *sensors;
	size_t n_sensors;
	uint64_t max_message;  /* bytes per message; 0: the wire default */
	size_t outbox_batch;   /* per peer per round; 0: 256 */
	int64_t resend_min_us; /* 0: 5 s */
	int64_t resend_max_us; /* 0: 300 s */
	int64_t heartbeat_us;  /* 0: 10 s */
	hl_daemon_log_fn log;  /* NULL: stderr */
	void *log_ctx;
};

/* Open the store, read the key, bind and connect. NULL with "what: why" in
 * err on failure. */
hl_daemon_t *hl_daemon_new(const struct hl_daemon_opts *o, char *err, size_t errlen);
/* Run until *stop becomes non-zero. 0, or a negative code when the loop
 * could not go on. */
int hl_daemon_run(hl_daemon_t *d, const volatile sig_atomic_t *stop);
/* The peer listener's endpoint as bound (ephemeral port resolved); "". */
const char *hl_daemon_listen_endpoint(const hl_daemon_t *d);
/* Our party name. */
const char *hl_daemon_name(const hl_daemon_t *d);
void hl_daemon_destroy(hl_daemon_t **p);

/* What a caller learns from the config before the daemon starts (the
 * daemon may log while it starts). */
struct hl_daemon_config_info {
	int log_level; /* the file's log_level (0 error .. 3 debug) */
	char name[65]; /* the party name */
};

/* Load a sharer config (config.h) and build a daemon from it. info (may be
 * NULL) is filled as soon as the file is read, before the daemon starts:
 * log and info may be the same context. */
hl_daemon_t *hl_daemon_from_config(const char *path, hl_daemon_log_fn log, void *log_ctx,
                                   struct hl_daemon_config_info *info, char *err, size_t errlen);

#endif
