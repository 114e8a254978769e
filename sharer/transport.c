/* \summary: sharer transport on libzmq: CURVE sockets, ZAP identity, monitor state (see
 * transport.h) */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "hotline/err.h"

/* hl_tp_recv's "skip this one" result, never returned to callers. */
#define DROPPED 1
#define CLOSE_WAIT_MS 2000
#define MAX_FRAMES_CAP 1024
/* libzmq rounds the TTL to deciseconds in a 16-bit field. */
#define HEARTBEAT_TTL_MAX 6553599

#define MONITOR_EVENTS                                                                          \
	(ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED | \
	 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |                      \
	 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

enum sock_kind { KIND_LISTEN, KIND_PEER, KIND_LOCAL };

struct peer_entry {
	char name[HL_PEER_NAME_MAX + 1];
	struct hl_tp_peer_stats st;
};

struct hl_tp_sock {
	hl_transport_t *t;
	hl_tp_sock_t *next;
	enum sock_kind kind;
	int type;
	void *sock;
	void *mon;
	char endpoint[HL_TP_ENDPOINT_MAX];
	char peer[HL_PEER_NAME_MAX + 1]; /* DEALER: its peer; local: the label */
	char server_fpr[HL_KEY_FPR_LEN + 1];
	enum hl_tp_state state;
	int64_t redial_at; /* DEALER: when to connect again after a refusal; 0 none */
	int redial_ivl;
	struct hl_tp_counters c;
	struct peer_entry *peers;
	size_t n_peers, cap_peers;
};

struct hl_transport {
	void *ctx;
	hl_zap_t *zap;
	struct hl_transport_opts o;
	char name[HL_PEER_NAME_MAX + 1];
	bool have_keys;
	uint8_t pub[HL_KEY_BIN_LEN];
	uint8_t sec[HL_KEY_BIN_LEN];
	char fpr[HL_KEY_FPR_LEN + 1];
	unsigned long next_monitor;
	hl_tp_sock_t *socks;
};

#define LOG(s, level, ...) hl_logf((s)->t->o.log, (s)->t->o.log_ctx, level, __VA_ARGS__)

static bool is_pow2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_in(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Milliseconds left before deadline (-1: none, wait for ever). */
static long remaining(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t r = deadline - now_ms();
	return r > 0 ? (long)r : 0;
}

const char *hl_tp_state_name(enum hl_tp_state st)
{
	switch (st) {
	case HL_TP_DOWN:
		return "down";
	case HL_TP_CONNECTED:
		return "handshaking";
	case HL_TP_UP:
		return "up";
	case HL_TP_REFUSED:
		return "refused";
	case HL_TP_FAILED:
		return "failed";
	case HL_TP_LISTENING:
		return "listening";
	case HL_TP_CLOSED:
		return "closed";
	}
	return "?";
}

void hl_transport_opts_init(struct hl_transport_opts *o)
{
	memset(o, 0, sizeof *o);
	o->reconnect_ivl_ms = 100;
	o->reconnect_ivl_max_ms = 30000;
	o->heartbeat_ivl_ms = 5000;
	o->heartbeat_timeout_ms = 15000;
	o->heartbeat_ttl_ms = 15000;
	o->handshake_ivl_ms = 10000;
	o->sndhwm = 1000;
	/* Unbounded, not 1000: libzmq 4.3.4 aborts when a connection whose
	 * input stopped at a full receive queue is reset and a heartbeat is
	 * then due (zeromq/libzmq#4364; docs/transport.md, "Queues and
	 * sizes"). The exchange's window and backoff bound it instead. */
	o->rcvhwm = 0;
	o->local_rcvhwm = 1000;
	o->max_msg_size = 16 * 1024 * 1024;
	o->max_frames = 16;
	o->linger_ms = 0;
}

static bool opts_valid(const struct hl_transport_opts *o)
{
	return hl_peer_name_valid(o->name) && o->reconnect_ivl_ms >= 0 &&
	       o->reconnect_ivl_max_ms >= 0 && o->heartbeat_ivl_ms >= 0 &&
	       o->heartbeat_timeout_ms >= 0 && o->heartbeat_ttl_ms >= 0 &&
	       o->heartbeat_ttl_ms <= HEARTBEAT_TTL_MAX && o->handshake_ivl_ms >= 0 &&
	       o->sndhwm >= 0 && o->rcvhwm >= 0 && o->local_rcvhwm >= 0 && o->max_msg_size > 0 &&
	       o->max_frames >= 1 && o->max_frames <= MAX_FRAMES_CAP && o->linger_ms >= -1;
}

hl_transport_t *hl_transport_new(const struct hl_transport_opts *o, int *err)
{
	int rc = HL_EINVAL;
	hl_transport_t *t = NULL;
	if (o == NULL || !opts_valid(o))
		goto fail;
	rc = HL_ENOMEM;
	t = calloc(1, sizeof *t);
	if (t == NULL)
		goto fail;
	t->o = *o;
	snprintf(t->name, sizeof t->name, "%s", o->name);
	t->o.name = t->name;
	t->o.keys = NULL;
	if (o->keys != NULL) {
		char derived[HL_KEY_Z85_LEN + 1];
		rc = HL_EINVAL;
		if (hl_key_decode(o->keys->public_z85, t->pub) != 0 ||
		    hl_key_decode(o->keys->secret_z85, t->sec) != 0 ||
		    zmq_curve_public(derived, o->keys->secret_z85) != 0 ||
		    strcmp(derived, o->keys->public_z85) != 0)
			goto fail;
		hl_key_fingerprint(t->pub, t->fpr);
		t->have_keys = true;
	}
	rc = HL_EIO;
	t->ctx = zmq_ctx_new();
	if (t->ctx == NULL)
		goto fail;
	t->zap = hl_zap_new(t->ctx, o->log, o->log_ctx, &rc);
	if (t->zap == NULL)
		goto fail;
	return t;
fail:
	if (err != NULL)
		*err = rc;
	hl_transport_destroy(&t);
	return NULL;
}

void hl_transport_destroy(hl_transport_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_transport_t *t = *p;
	while (t->socks != NULL) {
		hl_tp_sock_t *s = t->socks;
		hl_tp_close(&s);
	}
	hl_zap_destroy(&t->zap);
	if (t->ctx != NULL)
		zmq_ctx_term(t->ctx);
	sodium_memzero(t->sec, sizeof t->sec);
	free(t);
	*p = NULL;
}

int hl_transport_set_allowlist(hl_transport_t *t, const struct hl_peer_key *peers, size_t n,
                               struct hl_diag *diag)
{
	if (t == NULL)
		return HL_EINVAL;
	return hl_zap_set_allowlist(t->zap, peers, n, diag);
}

void hl_transport_zap_stats(hl_transport_t *t, struct hl_zap_stats *st)
{
	if (t != NULL)
		hl_zap_stats(t->zap, st);
}

/* --- sockets ----------------------------------------------------------- */

static int set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof v);
}

static int zmq_err(void)
{
	switch (errno) {
	case EADDRINUSE:
		return HL_EEXISTS;
	case EINVAL:
	case EPROTONOSUPPORT:
	case ENOCOMPATPROTO:
	case ENODEV:
	case EADDRNOTAVAIL:
		return HL_EINVAL;
	case EACCES:
	case EPERM:
		return HL_EPERM;
	case ENOMEM:
		return HL_ENOMEM;
	default:
		return HL_EIO;
	}
}

static hl_tp_sock_t *sock_new(hl_transport_t *t, enum sock_kind kind, int type, int *rc)
{
	hl_tp_sock_t *s = calloc(1, sizeof *s);
	if (s == NULL) {
		*rc = HL_ENOMEM;
		return NULL;
	}
	s->t = t;
	s->kind = kind;
	s->type = type;
	s->state = kind == KIND_PEER ? HL_TP_DOWN : HL_TP_CLOSED;
	s->sock = zmq_socket(t->ctx, type);
	if (s->sock == NULL) {
		free(s);
		*rc = HL_EIO;
		return NULL;
	}
	s->next = t->socks;
	t->socks = s;
	const struct hl_transport_opts *o = &t->o;
	int64_t max = o->max_msg_size;
	if (set_int(s->sock, ZMQ_LINGER, o->linger_ms) != 0 ||
	    set_int(s->sock, ZMQ_SNDHWM, o->sndhwm) != 0 ||
	    set_int(s->sock, ZMQ_RCVHWM, o->rcvhwm) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
	    set_int(s->sock, ZMQ_HEARTBEAT_IVL, o->heartbeat_ivl_ms) != 0 ||
	    set_int(s->sock, ZMQ_HEARTBEAT_TIMEOUT, o->heartbeat_timeout_ms) != 0 ||
	    set_int(s->sock, ZMQ_HEARTBEAT_TTL, o->heartbeat_ttl_ms) != 0 ||
	    set_int(s->sock, ZMQ_HANDSHAKE_IVL, o->handshake_ivl_ms) != 0 ||
	    (type == ZMQ_ROUTER && set_int(s->sock, ZMQ_ROUTER_MANDATORY, 1) != 0)) {
		*rc = HL_EIO;
		hl_tp_close(&s);
		return NULL;
	}
	/* The monitor is attached before any bind or connect, so that no
	 * event of this socket's life is missed. libzmq 4.3.4 sends monitor
	 * events with a blocking send from its I/O thread: a full event queue
	 * would stall every socket of the context. RCVHWM 0 on our end makes
	 * the inproc queue unbounded (events are a few bytes, and the owner
	 * drains them whenever it polls); hl_tp_close stops the monitor before
	 * closing our end, so the sender never waits for a reader that left. */
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://hl-monitor-%lu", ++t->next_monitor);
	unsigned events = MONITOR_EVENTS;
	if (kind == KIND_PEER)
		events &= ~(unsigned)ZMQ_EVENT_CLOSED; /* one per failed connect attempt */
	if (zmq_socket_monitor(s->sock, ep, (int)events) != 0 ||
	    (s->mon = zmq_socket(t->ctx, ZMQ_PAIR)) == NULL ||
	    set_int(s->mon, ZMQ_LINGER, 0) != 0 || set_int(s->mon, ZMQ_RCVHWM, 0) != 0 ||
	    zmq_connect(s->mon, ep) != 0) {
		*rc = HL_EIO;
		hl_tp_close(&s);
		return NULL;
	}
	return s;
}

static void last_endpoint(hl_tp_sock_t *s, const char *fallback)
{
	size_t len = sizeof s->endpoint;
	if (zmq_getsockopt(s->sock, ZMQ_LAST_ENDPOINT, s->endpoint, &len) != 0 ||
	    s->endpoint[0] == '\0')
		snprintf(s->endpoint, sizeof s->endpoint, "%s", fallback);
}

static bool endpoint_ok(const char *ep, bool ipc_only)
{
	if (ep == NULL || strlen(ep) >= HL_TP_ENDPOINT_MAX)
		return false;
	if (strncmp(ep, "ipc://", 6) == 0)
		return ep[6] != '\0' && ep[6] != '@';
	return !ipc_only && strncmp(ep, "tcp://", 6) == 0 && ep[6] != '\0';
}

hl_tp_sock_t *hl_tp_listen(hl_transport_t *t, const char *endpoint, int *err)
{
	int rc = HL_EINVAL;
	hl_tp_sock_t *s = NULL;
	if (t == NULL || !t->have_keys || !endpoint_ok(endpoint, false))
		goto fail;
	s = sock_new(t, KIND_LISTEN, ZMQ_ROUTER, &rc);
	if (s == NULL)
		goto fail;
	/* A peer that reconnects before we noticed its old connection die
	 * (NAT timeout, suspend) comes back under the same routing id. Without
	 * handover libzmq 4.3.4 parks the new connection as anonymous and its
	 * messages never surface; with it the newest connection wins. */
	if (set_int(s->sock, ZMQ_CURVE_SERVER, 1) != 0 ||
	    set_int(s->sock, ZMQ_ROUTER_HANDOVER, 1) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_CURVE_SECRETKEY, t->sec, HL_KEY_BIN_LEN) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_ZAP_DOMAIN, HL_ZAP_DOMAIN, strlen(HL_ZAP_DOMAIN)) != 0) {
		rc = HL_EIO;
		goto fail;
	}
	if (zmq_bind(s->sock, endpoint) != 0) {
		rc = zmq_err();
		LOG(s, HL_LOG_ERROR, "transport: cannot listen on %s: %s", endpoint,
		    zmq_strerror(errno));
		goto fail;
	}
	last_endpoint(s, endpoint);
	s->state = HL_TP_LISTENING;
	LOG(s, HL_LOG_INFO, "transport: listening on %s (CURVE, our key %s)", s->endpoint, t->fpr);
	return s;
fail:
	hl_tp_close(&s);
	if (err != NULL)
		*err = rc;
	return NULL;
}

hl_tp_sock_t *hl_tp_connect(hl_transport_t *t, const char *peer, const char *endpoint,
                            const char *server_public_z85, int *err)
{
	int rc = HL_EINVAL;
	hl_tp_sock_t *s = NULL;
	uint8_t server[HL_KEY_BIN_LEN];
	if (t == NULL || !t->have_keys || !hl_peer_name_valid(peer) ||
	    !endpoint_ok(endpoint, false) || hl_key_decode(server_public_z85, server) != 0)
		goto fail;
	s = sock_new(t, KIND_PEER, ZMQ_DEALER, &rc);
	if (s == NULL)
		goto fail;
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	hl_key_fingerprint(server, s->server_fpr);
	if (zmq_setsockopt(s->sock, ZMQ_CURVE_SERVERKEY, server, sizeof server) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_CURVE_PUBLICKEY, t->pub, HL_KEY_BIN_LEN) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_CURVE_SECRETKEY, t->sec, HL_KEY_BIN_LEN) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_ROUTING_ID, t->name, strlen(t->name)) != 0 ||
	    set_int(s->sock, ZMQ_RECONNECT_IVL, t->o.reconnect_ivl_ms) != 0 ||
	    set_int(s->sock, ZMQ_RECONNECT_IVL_MAX, t->o.reconnect_ivl_max_ms) != 0 ||
	    set_int(s->sock, ZMQ_IMMEDIATE, 1) != 0) {
		rc = HL_EIO;
		goto fail;
	}
	if (zmq_connect(s->sock, endpoint) != 0) {
		rc = zmq_err();
		goto fail;
	}
	snprintf(s->endpoint, sizeof s->endpoint, "%s", endpoint);
	LOG(s, HL_LOG_INFO, "transport: connecting to %s at %s (server key %s, our key %s)", peer,
	    endpoint, s->server_fpr, t->fpr);
	return s;
fail:
	hl_tp_close(&s);
	if (err != NULL)
		*err = rc;
	return NULL;
}

/* Whether a listener accepts connections on the Unix socket at path.
 * libzmq 4.3.4 unlinks whatever is at the path before binding, so without
 * this check a second sharer would silently take the path over from a
 * running one. */
static bool unix_socket_live(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return false;
	memcpy(sa.sun_path, path, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (const struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return live;
}

hl_tp_sock_t *hl_tp_listen_local(hl_transport_t *t, const char *endpoint,
                                 enum hl_tp_local_kind kind, const char *label, unsigned mode,
                                 int *err)
{
	int rc = HL_EINVAL;
	hl_tp_sock_t *s = NULL;
	if (t == NULL || !endpoint_ok(endpoint, true) || !hl_peer_name_valid(label) ||
	    (kind != HL_TP_LOCAL_PULL && kind != HL_TP_LOCAL_ROUTER) || (mode & ~0777u) != 0)
		goto fail;
	s = sock_new(t, KIND_LOCAL, kind == HL_TP_LOCAL_PULL ? ZMQ_PULL : ZMQ_ROUTER, &rc);
	if (s == NULL)
		goto fail;
	snprintf(s->peer, sizeof s->peer, "%s", label);
	/* A sensor link resends its whole window on a timer: without a
	 * bounded queue a slow sharer would pile up copies. Bounded, the
	 * queue can stop libzmq's reading, so no heartbeats here: with them a
	 * peer dying meanwhile aborts the process (libzmq#4364), and a local
	 * peer's death is seen by the kernel at once anyway. */
	if (set_int(s->sock, ZMQ_RCVHWM, t->o.local_rcvhwm) != 0 ||
	    set_int(s->sock, ZMQ_HEARTBEAT_IVL, 0) != 0) {
		rc = HL_EIO;
		goto fail;
	}
	if (kind == HL_TP_LOCAL_ROUTER && set_int(s->sock, ZMQ_ROUTER_HANDOVER, 1) != 0) {
		rc = HL_EIO;
		goto fail;
	}
	if (strcmp(endpoint + 6, "*") != 0 && unix_socket_live(endpoint + 6)) {
		rc = HL_EEXISTS;
		LOG(s, HL_LOG_ERROR,
		    "transport: %s is in use by a running listener; refusing to take it over",
		    endpoint);
		goto fail;
	}
	if (zmq_bind(s->sock, endpoint) != 0) {
		rc = zmq_err();
		LOG(s, HL_LOG_ERROR, "transport: cannot listen on %s: %s", endpoint,
		    zmq_strerror(errno));
		goto fail;
	}
	last_endpoint(s, endpoint);
	s->state = HL_TP_LISTENING;
	/* libzmq creates the socket file with the process umask; narrow or
	 * widen it to exactly the mode asked for. Between bind and chmod the
	 * file has the umask's mode, so its directory must be the real gate
	 * (docs/transport.md). */
	const char *path = s->endpoint + 6;
	if (chmod(path, mode != 0 ? (mode_t)mode : 0660) != 0) {
		rc = errno == EPERM || errno == EACCES ? HL_EPERM : HL_EIO;
		LOG(s, HL_LOG_ERROR, "transport: cannot chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	LOG(s, HL_LOG_INFO, "transport: listening on %s for %s (local, mode %04o)", s->endpoint,
	    label, mode != 0 ? mode : 0660u);
	return s;
fail:
	hl_tp_close(&s);
	if (err != NULL)
		*err = rc;
	return NULL;
}

void hl_tp_close(hl_tp_sock_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_tp_sock_t *s = *p;
	for (hl_tp_sock_t **pp = &s->t->socks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->kind != KIND_PEER && s->state == HL_TP_LISTENING && s->mon != NULL &&
	    zmq_unbind(s->sock, s->endpoint) == 0) {
		/* zmq_close would release the port later, from an I/O thread;
		 * after CLOSED it is free, and a restart can bind it again. */
		struct hl_tp_event ev;
		if (hl_tp_wait_event(s, ZMQ_EVENT_CLOSED, CLOSE_WAIT_MS, &ev) != 0)
			LOG(s, HL_LOG_WARNING, "transport: %s not reported closed within %d ms",
			    s->endpoint, CLOSE_WAIT_MS);
		/* libzmq 4.3.4 leaves the socket file behind. */
		if (strncmp(s->endpoint, "ipc://", 6) == 0)
			unlink(s->endpoint + 6);
	}
	if (s->sock != NULL) {
		zmq_socket_monitor(s->sock, NULL, 0);
		zmq_close(s->sock);
	}
	if (s->mon != NULL)
		zmq_close(s->mon);
	free(s->peers);
	free(s);
	*p = NULL;
}

const char *hl_tp_endpoint(const hl_tp_sock_t *s)
{
	return s != NULL ? s->endpoint : "";
}

enum hl_tp_state hl_tp_state(const hl_tp_sock_t *s)
{
	return s != NULL ? s->state : HL_TP_CLOSED;
}

void hl_tp_counters(const hl_tp_sock_t *s, struct hl_tp_counters *c)
{
	if (s != NULL && c != NULL)
		*c = s->c;
}

void *hl_tp_zsocket(hl_tp_sock_t *s)
{
	return s != NULL ? s->sock : NULL;
}

void *hl_tp_zmonitor(hl_tp_sock_t *s)
{
	return s != NULL ? s->mon : NULL;
}

static struct peer_entry *peer_find(const hl_tp_sock_t *s, const char *name)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (strcmp(s->peers[i].name, name) == 0)
			return &s->peers[i];
	return NULL;
}

static struct peer_entry *peer_get(hl_tp_sock_t *s, const char *name)
{
	struct peer_entry *e = peer_find(s, name);
	if (e != NULL)
		return e;
	if (s->n_peers == s->cap_peers) {
		size_t cap = s->cap_peers ? s->cap_peers * 2 : 4;
		struct peer_entry *n = realloc(s->peers, cap * sizeof *n);
		if (n == NULL)
			return NULL;
		s->peers = n;
		s->cap_peers = cap;
	}
	e = &s->peers[s->n_peers++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	return e;
}

int hl_tp_peer_stats(const hl_tp_sock_t *s, const char *name, struct hl_tp_peer_stats *ps)
{
	if (s == NULL || name == NULL || ps == NULL)
		return HL_EINVAL;
	const struct peer_entry *e = peer_find(s, name);
	if (e == NULL)
		return HL_ENOTFOUND;
	*ps = e->st;
	return 0;
}

/* --- monitor events ---------------------------------------------------- */

static const char *protocol_error_text(uint32_t v, bool peer)
{
	switch (v) {
	case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
		return "security mechanism mismatch (a peer without CURVE?)";
	case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
		return peer ? "cryptographic error (is the server key we have for it current?)"
		            : "cryptographic error (a client with a wrong public key for us?)";
	case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
		return "key exchange failed";
	case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND:
	case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE:
		return "unexpected handshake command";
	default:
		break;
	}
	if ((v & 0xf0000000u) == ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED)
		return "ZAP handler error";
	if ((v & 0xf0000000u) == ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED)
		return "malformed handshake";
	return "protocol error";
}

/* libzmq 4.3.4 treats a refused or failed handshake as a protocol error
 * and gives up on the endpoint for good (only the draft API can say
 * otherwise). A partner that fixes its allowlist, or a corrected key, must
 * not need our restart: the transport connects again itself, with the same
 * exponential backoff libzmq uses for lost connections. */
static void schedule_redial(hl_tp_sock_t *s)
{
	const struct hl_transport_opts *o = &s->t->o;
	if (o->reconnect_ivl_ms <= 0)
		return;
	if (s->redial_ivl == 0)
		s->redial_ivl = o->reconnect_ivl_ms;
	else if (s->redial_ivl < o->reconnect_ivl_max_ms)
		s->redial_ivl = s->redial_ivl * 2 < o->reconnect_ivl_max_ms
		                        ? s->redial_ivl * 2
		                        : o->reconnect_ivl_max_ms;
	s->redial_at = now_ms() + s->redial_ivl;
}

static void maybe_redial(hl_tp_sock_t *s)
{
	if (s->redial_at == 0 || now_ms() < s->redial_at)
		return;
	s->redial_at = 0;
	/* With ZMQ_IMMEDIATE the endpoint has no pipe yet, so disconnecting
	 * the dead session only drops its bookkeeping. */
	zmq_disconnect(s->sock, s->endpoint);
	if (zmq_connect(s->sock, s->endpoint) != 0) {
		LOG(s, HL_LOG_ERROR, "transport: cannot connect again to %s at %s: %s", s->peer,
		    s->endpoint, zmq_strerror(errno));
		schedule_redial(s);
		return;
	}
	s->state = HL_TP_DOWN;
	s->c.redials++;
}

/* How long a poll for s may wait, given the caller's wait left (-1: none). */
static long poll_wait(const hl_tp_sock_t *s, long left)
{
	if (s->redial_at == 0)
		return left;
	int64_t until = s->redial_at - now_ms();
	if (until < 0)
		until = 0;
	return left < 0 || until < left ? (long)until : left;
}

int hl_tp_next_timeout(const hl_tp_sock_t *s)
{
	if (s == NULL || s->redial_at == 0)
		return -1;
	int64_t until = s->redial_at - now_ms();
	return until < 0 ? 0 : until > INT32_MAX ? INT32_MAX : (int)until;
}

static void apply_event(hl_tp_sock_t *s, const struct hl_tp_event *ev)
{
	bool peer = s->kind == KIND_PEER;
	switch (ev->event) {
	case ZMQ_EVENT_CONNECTED:
		s->c.connects++;
		if (peer)
			s->state = HL_TP_CONNECTED;
		break;
	case ZMQ_EVENT_ACCEPTED:
		s->c.connects++;
		break;
	case ZMQ_EVENT_DISCONNECTED:
		s->c.disconnects++;
		if (peer) {
			if (s->state == HL_TP_UP)
				LOG(s, HL_LOG_WARNING,
				    "transport: connection to %s at %s lost; reconnecting", s->peer,
				    s->endpoint);
			if (s->state == HL_TP_UP || s->state == HL_TP_CONNECTED)
				s->state = HL_TP_DOWN;
		}
		break;
	case ZMQ_EVENT_CLOSED:
		if (!peer)
			s->state = HL_TP_CLOSED;
		break;
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		s->c.handshakes_ok++;
		if (peer) {
			s->state = HL_TP_UP;
			s->redial_ivl = 0;
			LOG(s, HL_LOG_INFO, "transport: connected to %s at %s (server key %s)",
			    s->peer, s->endpoint, s->server_fpr);
		}
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		s->c.handshakes_failed_auth++;
		if (peer) {
			s->state = HL_TP_REFUSED;
			schedule_redial(s);
			if (is_pow2(s->c.handshakes_failed_auth))
				LOG(s, HL_LOG_WARNING,
				    "transport: %s at %s refused our key %s (ZAP status %u, "
				    "refusal "
				    "#%lu); they must allowlist our public key",
				    s->peer, s->endpoint, s->t->fpr, (unsigned)ev->value,
				    s->c.handshakes_failed_auth);
		}
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: {
		bool proto = ev->event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
		unsigned long n =
		        proto ? ++s->c.handshakes_failed_protocol : ++s->c.handshakes_failed_other;
		if (peer) {
			s->state = HL_TP_FAILED;
			if (proto)
				schedule_redial(s);
		}
		/* NO_DETAIL carries an errno: often the other side hung up
		 * first because it found the problem itself (a server cannot
		 * decrypt a HELLO made for another server key). */
		if (is_pow2(n))
			LOG(s, HL_LOG_WARNING,
			    "transport: handshake %s %s failed: %s%s (0x%08x, #%lu)",
			    peer ? "with" : "on", peer ? s->peer : s->endpoint,
			    proto ? protocol_error_text(ev->value, peer)
			          : zmq_strerror((int)ev->value),
			    !proto && peer ? "; the server hung up (is the server key we have "
			                     "for it current?)"
			                   : "",
			    (unsigned)ev->value, n);
		break;
	}
	default:
		break;
	}
}

/* 0 with *ev, DROPPED for a malformed event, HL_EAGAIN when none is queued. */
static int read_event(hl_tp_sock_t *s, struct hl_tp_event *ev)
{
	zmq_msg_t a, b;
	zmq_msg_init(&a);
	if (zmq_msg_recv(&a, s->mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&a);
		return HL_EAGAIN;
	}
	int rc = DROPPED;
	bool more = zmq_msg_more(&a);
	if (zmq_msg_size(&a) == 6) {
		uint16_t event;
		uint32_t value;
		memcpy(&event, zmq_msg_data(&a), sizeof event);
		memcpy(&value, (const uint8_t *)zmq_msg_data(&a) + 2, sizeof value);
		ev->event = event;
		ev->value = value;
		ev->endpoint[0] = '\0';
		rc = more ? 0 : DROPPED;
	}
	zmq_msg_close(&a);
	while (more) {
		zmq_msg_init(&b);
		if (zmq_msg_recv(&b, s->mon, 0) < 0) {
			zmq_msg_close(&b);
			return DROPPED;
		}
		more = zmq_msg_more(&b);
		if (rc == 0 && ev->endpoint[0] == '\0') {
			size_t len = zmq_msg_size(&b);
			if (len >= sizeof ev->endpoint)
				len = sizeof ev->endpoint - 1;
			memcpy(ev->endpoint, zmq_msg_data(&b), len);
			ev->endpoint[len] = '\0';
		}
		zmq_msg_close(&b);
	}
	return rc;
}

int hl_tp_wait_event(hl_tp_sock_t *s, unsigned mask, int timeout_ms, struct hl_tp_event *ev)
{
	if (s == NULL || ev == NULL)
		return HL_EINVAL;
	int64_t deadline = deadline_in(timeout_ms);
	for (;;) {
		struct hl_tp_event e;
		int rc;
		maybe_redial(s);
		while ((rc = read_event(s, &e)) != HL_EAGAIN) {
			if (rc != 0)
				continue;
			apply_event(s, &e);
			if (e.event & mask) {
				*ev = e;
				return 0;
			}
		}
		long left = remaining(deadline);
		if (left == 0)
			return HL_EAGAIN;
		zmq_pollitem_t item = {s->mon, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&item, 1, poll_wait(s, left)) < 0 && errno != EINTR)
			return HL_EIO;
	}
}

static int drain_events(hl_tp_sock_t *s)
{
	struct hl_tp_event e;
	int rc, n = 0;
	while ((rc = read_event(s, &e)) != HL_EAGAIN) {
		if (rc == 0) {
			apply_event(s, &e);
			n++;
		}
	}
	return n;
}

int hl_tp_pump(hl_tp_sock_t *s, int timeout_ms)
{
	if (s == NULL)
		return HL_EINVAL;
	maybe_redial(s);
	zmq_pollitem_t item = {s->mon, 0, ZMQ_POLLIN, 0};
	if (zmq_poll(&item, 1, poll_wait(s, timeout_ms < 0 ? -1 : timeout_ms)) < 0 &&
	    errno != EINTR)
		return HL_EIO;
	int n = drain_events(s);
	maybe_redial(s);
	return n;
}

/* --- messages ---------------------------------------------------------- */

void hl_tp_msg_clear(struct hl_tp_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nframes; i++)
		free(m->frames[i].data);
	free(m->frames);
	memset(m, 0, sizeof *m);
}

static int map_send_errno(hl_tp_sock_t *s)
{
	switch (errno) {
	case EAGAIN:
		s->c.send_again++;
		return HL_EAGAIN;
	case EHOSTUNREACH:
		s->c.send_unroutable++;
		return HL_ENOTFOUND;
	case ENOTSUP:
	case EFSM:
		return HL_EINVAL;
	case ETERM:
		return HL_ESTATE;
	default:
		return HL_EIO;
	}
}

static int send_frames(hl_tp_sock_t *s, const void *route, size_t route_len,
                       const struct hl_frame *frames, size_t n)
{
	if (frames == NULL || n == 0)
		return HL_EINVAL;
	if (n > (size_t)s->t->o.max_frames)
		return HL_ELIMIT;
	unsigned long long total = 0;
	for (size_t i = 0; i < n; i++) {
		if (frames[i].data == NULL && frames[i].len > 0)
			return HL_EINVAL;
		total += frames[i].len;
	}
	if (total > (unsigned long long)s->t->o.max_msg_size)
		return HL_ELIMIT;
	/* A multipart message is queued whole or not at all: only the first
	 * part can meet a full queue or an unknown route. */
	if (route != NULL && zmq_send(s->sock, route, route_len, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0)
		return map_send_errno(s);
	for (size_t i = 0; i < n; i++) {
		int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
		if (zmq_send(s->sock, frames[i].data, frames[i].len, flags) < 0)
			return map_send_errno(s);
	}
	s->c.msgs_out++;
	s->c.bytes_out += total;
	return 0;
}

static unsigned long long frames_total(const struct hl_frame *frames, size_t n)
{
	unsigned long long total = 0;
	for (size_t i = 0; i < n; i++)
		total += frames[i].len;
	return total;
}

static void count_peer_out(hl_tp_sock_t *s, const char *name, const struct hl_frame *frames,
                           size_t n)
{
	struct peer_entry *e = peer_find(s, name);
	if (e != NULL) {
		e->st.msgs_out++;
		e->st.bytes_out += frames_total(frames, n);
	}
}

int hl_tp_send(hl_tp_sock_t *s, const struct hl_frame *frames, size_t n)
{
	if (s == NULL || s->kind != KIND_PEER)
		return HL_EINVAL;
	return send_frames(s, NULL, 0, frames, n);
}

int hl_tp_send_route(hl_tp_sock_t *s, const void *route, size_t route_len,
                     const struct hl_frame *frames, size_t n)
{
	if (s == NULL || s->type != ZMQ_ROUTER || route == NULL || route_len == 0 ||
	    route_len > HL_TP_ROUTE_MAX)
		return HL_EINVAL;
	return send_frames(s, route, route_len, frames, n);
}

int hl_tp_reply(hl_tp_sock_t *s, const struct hl_tp_msg *m, const struct hl_frame *frames, size_t n)
{
	if (s == NULL || m == NULL)
		return HL_EINVAL;
	if (s->kind == KIND_PEER)
		return hl_tp_send(s, frames, n);
	int rc = hl_tp_send_route(s, m->route, m->route_len, frames, n);
	if (rc == 0)
		count_peer_out(s, m->peer, frames, n);
	return rc;
}

enum drop_reason { KEEP, DROP_UNAUTH, DROP_REVOKED, DROP_FRAMES, DROP_OVERSIZE };

/* Who sent the message whose first frame is f: for a listener, the User-Id
 * our ZAP handler set from the client's key, if that key still maps to it. */
static enum drop_reason identify(hl_tp_sock_t *s, zmq_msg_t *f, struct hl_tp_msg *m)
{
	if (s->kind == KIND_PEER) {
		m->auth = HL_TP_AUTH_SERVER_KEY;
		snprintf(m->peer, sizeof m->peer, "%s", s->peer);
		return KEEP;
	}
	if (s->kind == KIND_LOCAL) {
		m->auth = HL_TP_AUTH_LOCAL;
		snprintf(m->peer, sizeof m->peer, "%s", s->peer);
		return KEEP;
	}
	const char *user = zmq_msg_gets(f, "User-Id");
	const char *key = zmq_msg_gets(f, HL_ZAP_KEY_PROPERTY);
	uint8_t bin[HL_KEY_BIN_LEN];
	if (user == NULL || !hl_peer_name_valid(user))
		return DROP_UNAUTH;
	snprintf(m->peer, sizeof m->peer, "%s", user);
	m->auth = HL_TP_AUTH_ZAP;
	if (key == NULL || hl_key_decode(key, bin) != 0 || !hl_zap_check(s->t->zap, bin, user))
		return DROP_REVOKED;
	return KEEP;
}

static void log_drop(hl_tp_sock_t *s, enum drop_reason why, const struct hl_tp_msg *m,
                     size_t frames, unsigned long long bytes)
{
	const char *from = m->address[0] != '\0' ? m->address : "unknown address";
	const char *who = m->peer[0] != '\0' ? m->peer : "an unidentified peer";
	switch (why) {
	case DROP_UNAUTH:
		if (is_pow2(++s->c.dropped_unauthenticated))
			LOG(s, HL_LOG_ERROR,
			    "transport: dropped a message on %s from %s without an authenticated "
			    "User-Id (#%lu)",
			    s->endpoint, from, s->c.dropped_unauthenticated);
		break;
	case DROP_REVOKED:
		if (is_pow2(++s->c.dropped_revoked))
			LOG(s, HL_LOG_WARNING,
			    "transport: dropped a message from %s (%s): its key is no longer "
			    "allowed "
			    "for that name (#%lu)",
			    who, from, s->c.dropped_revoked);
		break;
	case DROP_FRAMES:
		if (is_pow2(++s->c.dropped_frames))
			LOG(s, HL_LOG_WARNING,
			    "transport: dropped a message from %s (%s): %zu payload frames, "
			    "allowed 1-%d (#%lu)",
			    who, from, frames, s->t->o.max_frames, s->c.dropped_frames);
		break;
	case DROP_OVERSIZE:
		if (is_pow2(++s->c.dropped_oversize))
			LOG(s, HL_LOG_WARNING,
			    "transport: dropped a message from %s (%s): over %lld bytes (%llu so "
			    "far) (#%lu)",
			    who, from, (long long)s->t->o.max_msg_size, bytes,
			    s->c.dropped_oversize);
		break;
	case KEEP:
		break;
	}
}

/* Keep frame f as payload frame m->nframes, or say why the message goes. */
static enum drop_reason take_frame(hl_tp_sock_t *s, zmq_msg_t *f, struct hl_tp_msg *m,
                                   unsigned long long *total)
{
	size_t len = zmq_msg_size(f);
	if (m->nframes >= (size_t)s->t->o.max_frames)
		return DROP_FRAMES;
	*total += len;
	if (*total > (unsigned long long)s->t->o.max_msg_size)
		return DROP_OVERSIZE;
	uint8_t *copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return DROP_OVERSIZE;
	memcpy(copy, zmq_msg_data(f), len);
	m->frames[m->nframes].data = copy;
	m->frames[m->nframes].len = len;
	m->nframes++;
	return KEEP;
}

/* Read one whole message. The sender is identified from the first frame it
 * sent: on a ROUTER that is the frame after the routing id, because
 * libzmq 4.3.4 leaves the metadata off the routing-id frame it makes up when
 * zmq_poll prefetched the message (seen in this test suite). Every frame of
 * one message comes from one connection, so they share one User-Id. */
static int read_message(hl_tp_sock_t *s, struct hl_tp_msg *m)
{
	zmq_msg_t f;
	zmq_msg_init(&f);
	if (zmq_msg_recv(&f, s->sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&f);
		return errno == EAGAIN ? DROPPED : HL_EIO;
	}
	m->frames = calloc((size_t)s->t->o.max_frames, sizeof *m->frames);
	enum drop_reason why = m->frames == NULL ? DROP_OVERSIZE : KEEP;
	bool route_frame = s->type == ZMQ_ROUTER;
	unsigned long long total = 0;
	size_t seen = 0;
	for (;;) {
		if (route_frame) {
			route_frame = false;
			m->route_len = zmq_msg_size(&f);
			if (m->route_len > HL_TP_ROUTE_MAX)
				m->route_len = HL_TP_ROUTE_MAX;
			memcpy(m->route, zmq_msg_data(&f), m->route_len);
		} else {
			if (seen++ == 0) {
				const char *addr = zmq_msg_gets(&f, "Peer-Address");
				if (addr != NULL)
					snprintf(m->address, sizeof m->address, "%s", addr);
				if (why == KEEP)
					why = identify(s, &f, m);
			}
			if (why == KEEP)
				why = take_frame(s, &f, m, &total);
		}
		/* The rest of a multipart message is already here (atomic). */
		if (!zmq_msg_more(&f))
			break;
		if (zmq_msg_recv(&f, s->sock, 0) < 0) {
			zmq_msg_close(&f);
			hl_tp_msg_clear(m);
			return HL_EIO;
		}
	}
	zmq_msg_close(&f);
	if (why == KEEP && seen == 0)
		why = DROP_FRAMES;
	if (why != KEEP) {
		log_drop(s, why, m, seen, total);
		hl_tp_msg_clear(m);
		return DROPPED;
	}
	s->c.msgs_in++;
	s->c.bytes_in += total;
	if (s->kind == KIND_LISTEN) {
		m->route_mismatch = m->route_len != strlen(m->peer) ||
		                    memcmp(m->route, m->peer, m->route_len) != 0;
		struct peer_entry *e = peer_get(s, m->peer);
		if (e != NULL) {
			e->st.msgs_in++;
			e->st.bytes_in += total;
			if (m->route_mismatch)
				e->st.route_mismatch++;
		}
		if (m->route_mismatch && is_pow2(++s->c.route_mismatch))
			LOG(s, HL_LOG_WARNING,
			    "transport: %s (%s) sent with a routing id that is not its name; "
			    "its key names it %s, and that is what counts (#%lu)",
			    m->peer, m->address[0] != '\0' ? m->address : "unknown address",
			    m->peer, s->c.route_mismatch);
	}
	return 0;
}

int hl_tp_recv(hl_tp_sock_t *s, struct hl_tp_msg *m, int timeout_ms)
{
	if (s == NULL || m == NULL)
		return HL_EINVAL;
	hl_tp_msg_clear(m);
	int64_t deadline = deadline_in(timeout_ms);
	for (;;) {
		maybe_redial(s);
		zmq_pollitem_t items[2] = {
		        {s->sock, 0, ZMQ_POLLIN, 0},
		        {s->mon, 0, ZMQ_POLLIN, 0},
		};
		int n = zmq_poll(items, 2, poll_wait(s, remaining(deadline)));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ETERM ? HL_ESTATE : HL_EIO;
		}
		if (items[1].revents & ZMQ_POLLIN)
			drain_events(s);
		if (items[0].revents & ZMQ_POLLIN) {
			int rc = read_message(s, m);
			if (rc != DROPPED)
				return rc;
			continue;
		}
		if (remaining(deadline) == 0)
			return HL_EAGAIN;
	}
}
