/* \summary: ZAP handler thread with a runtime-replaceable CURVE allowlist (see zap.h) */
#include "zap.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "hotline/err.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_PIPE "inproc://hl-zap-pipe"
/* RFC 27: 6 frames plus credentials (CURVE 1, PLAIN 2); more is malformed. */
#define ZAP_MAX_FRAMES 8
/* Distinct refused keys remembered for log throttling. */
#define REFUSAL_SLOTS 32
#define ADDR_MAX 64

struct allow_entry {
	uint8_t key[HL_KEY_BIN_LEN];
	char name[HL_PEER_NAME_MAX + 1];
};

struct refusal_slot {
	uint8_t key[HL_KEY_BIN_LEN];
	unsigned long count;
};

struct hl_zap {
	void *sock;        /* REP at ZAP_ENDPOINT: the thread's after start */
	void *pipe_main;   /* PAIR: the owner tells the thread to stop */
	void *pipe_thread; /* PAIR: the thread's end */
	pthread_t thread;
	bool started;
	hl_log_fn log;
	void *log_ctx;

	pthread_mutex_t lock; /* guards allow, n_allow and stats */
	struct allow_entry *allow;
	size_t n_allow;
	struct hl_zap_stats stats;

	/* The thread's alone: */
	struct refusal_slot slots[REFUSAL_SLOTS];
	size_t n_slots, next_slot;
};

const char *hl_log_level_name(enum hl_log_level level)
{
	switch (level) {
	case HL_LOG_ERROR:
		return "error";
	case HL_LOG_WARNING:
		return "warning";
	case HL_LOG_INFO:
		return "info";
	case HL_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void hl_logf(hl_log_fn fn, void *ctx, enum hl_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (fn != NULL)
		fn(ctx, level, msg);
	else
		fprintf(stderr, "hotline-sharer: %s: %s\n", hl_log_level_name(level), msg);
}

static bool is_pow2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* How many times this key was refused, this time included. */
static unsigned long count_refusal(hl_zap_t *z, const uint8_t key[HL_KEY_BIN_LEN])
{
	for (size_t i = 0; i < z->n_slots; i++)
		if (memcmp(z->slots[i].key, key, HL_KEY_BIN_LEN) == 0)
			return ++z->slots[i].count;
	struct refusal_slot *s;
	if (z->n_slots < REFUSAL_SLOTS) {
		s = &z->slots[z->n_slots++];
	} else {
		s = &z->slots[z->next_slot];
		z->next_slot = (z->next_slot + 1) % REFUSAL_SLOTS;
	}
	memcpy(s->key, key, HL_KEY_BIN_LEN);
	s->count = 1;
	return 1;
}

/* The remote address as text fit for a log line. */
static void frame_text(zmq_msg_t *m, char *out, size_t size)
{
	const unsigned char *p = zmq_msg_data(m);
	size_t len = zmq_msg_size(m), i = 0;
	for (; i < len && i + 1 < size; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, size, "unknown");
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
	size_t len = strlen(s);
	return zmq_msg_size(m) == len && memcmp(zmq_msg_data(m), s, len) == 0;
}

static void send_reply(hl_zap_t *z, zmq_msg_t *request_id, const char *code, const char *text,
                       const char *user, const uint8_t *key)
{
	uint8_t meta[1 + sizeof HL_ZAP_KEY_PROPERTY + 4 + HL_KEY_Z85_LEN + 1];
	size_t meta_len = 0;
	if (key != NULL) {
		/* ZMTP metadata: name-len(1) name value-len(4, big endian) value */
		size_t name_len = strlen(HL_ZAP_KEY_PROPERTY);
		meta[meta_len++] = (uint8_t)name_len;
		memcpy(meta + meta_len, HL_ZAP_KEY_PROPERTY, name_len);
		meta_len += name_len;
		meta[meta_len++] = 0;
		meta[meta_len++] = 0;
		meta[meta_len++] = 0;
		meta[meta_len++] = HL_KEY_Z85_LEN;
		char z85[HL_KEY_Z85_LEN + 1];
		zmq_z85_encode(z85, key, HL_KEY_BIN_LEN);
		memcpy(meta + meta_len, z85, HL_KEY_Z85_LEN);
		meta_len += HL_KEY_Z85_LEN;
	}
	const void *rid = request_id != NULL ? zmq_msg_data(request_id) : "";
	size_t rid_len = request_id != NULL ? zmq_msg_size(request_id) : 0;
	/* inproc to libzmq itself: these only fail when the context is ending. */
	zmq_send(z->sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(z->sock, rid, rid_len, ZMQ_SNDMORE);
	zmq_send(z->sock, code, strlen(code), ZMQ_SNDMORE);
	zmq_send(z->sock, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(z->sock, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(z->sock, meta, meta_len, 0);
}

/* Judge one request of n frames; count it and say why if refused. */
static void judge(hl_zap_t *z, zmq_msg_t *f, size_t n, bool overflow)
{
	char addr[ADDR_MAX];
	if (n >= 4)
		frame_text(&f[3], addr, sizeof addr);
	else
		snprintf(addr, sizeof addr, "unknown");

	if (overflow || n < 6 || !frame_is(&f[0], "1.0")) {
		pthread_mutex_lock(&z->lock);
		z->stats.requests++;
		z->stats.refused++;
		unsigned long times = ++z->stats.refused_malformed;
		pthread_mutex_unlock(&z->lock);
		if (is_pow2(times))
			hl_logf(z->log, z->log_ctx, HL_LOG_ERROR,
			        "zap: refused a malformed ZAP request (%zu frames) from %s", n,
			        addr);
		send_reply(z, n >= 2 ? &f[1] : NULL, "500", "malformed request", "", NULL);
		return;
	}
	if (!frame_is(&f[2], HL_ZAP_DOMAIN) || !frame_is(&f[5], "CURVE") || n != 7 ||
	    zmq_msg_size(&f[6]) != HL_KEY_BIN_LEN) {
		bool domain = !frame_is(&f[2], HL_ZAP_DOMAIN);
		bool mech = !domain && !frame_is(&f[5], "CURVE");
		unsigned long times;
		pthread_mutex_lock(&z->lock);
		z->stats.requests++;
		z->stats.refused++;
		if (domain)
			times = ++z->stats.refused_domain;
		else if (mech)
			times = ++z->stats.refused_mechanism;
		else
			times = ++z->stats.refused_malformed;
		pthread_mutex_unlock(&z->lock);
		char mech_name[16], dom[ADDR_MAX];
		frame_text(&f[5], mech_name, sizeof mech_name);
		frame_text(&f[2], dom, sizeof dom);
		if (is_pow2(times))
			hl_logf(z->log, z->log_ctx, HL_LOG_WARNING,
			        "zap: refused %s client from %s: %s%s (refusal #%lu for this "
			        "reason)",
			        mech_name, addr,
			        domain ? "unknown ZAP domain "
			        : mech ? "only CURVE is admitted"
			               : "malformed CURVE credentials",
			        domain ? dom : "", times);
		send_reply(z, &f[1], "400", domain ? "unknown domain" : "CURVE only", "", NULL);
		return;
	}

	const uint8_t *key = zmq_msg_data(&f[6]);
	char name[HL_PEER_NAME_MAX + 1] = "";
	pthread_mutex_lock(&z->lock);
	z->stats.requests++;
	for (size_t i = 0; i < z->n_allow; i++) {
		if (memcmp(z->allow[i].key, key, HL_KEY_BIN_LEN) == 0) {
			memcpy(name, z->allow[i].name, sizeof name);
			break;
		}
	}
	if (name[0] != '\0') {
		z->stats.admitted++;
	} else {
		z->stats.refused++;
		z->stats.refused_unknown_key++;
	}
	pthread_mutex_unlock(&z->lock);

	char fpr[HL_KEY_FPR_LEN + 1];
	hl_key_fingerprint(key, fpr);
	if (name[0] != '\0') {
		hl_logf(z->log, z->log_ctx, HL_LOG_INFO, "zap: admitted %s (key %s) from %s", name,
		        fpr, addr);
		send_reply(z, &f[1], "200", "OK", name, key);
		return;
	}
	unsigned long times = count_refusal(z, key);
	if (is_pow2(times))
		hl_logf(z->log, z->log_ctx, HL_LOG_WARNING,
		        "zap: refused CURVE key %s from %s: not in the allowlist (refusal #%lu of "
		        "this key)",
		        fpr, addr, times);
	send_reply(z, &f[1], "400", "key not allowed", "", NULL);
}

static void handle_request(hl_zap_t *z)
{
	zmq_msg_t f[ZAP_MAX_FRAMES];
	size_t n = 0;
	bool overflow = false;
	int more = 1;
	while (more) {
		zmq_msg_t extra;
		zmq_msg_t *m = n < ZAP_MAX_FRAMES ? &f[n] : &extra;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, z->sock, 0) < 0) {
			zmq_msg_close(m);
			break;
		}
		more = zmq_msg_more(m);
		if (m == &extra) {
			overflow = true;
			zmq_msg_close(m);
		} else {
			n++;
		}
	}
	if (!more)
		judge(z, f, n, overflow);
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

static void *zap_thread(void *arg)
{
	hl_zap_t *z = arg;
	for (;;) {
		zmq_pollitem_t items[2] = {
		        {z->sock, 0, ZMQ_POLLIN, 0},
		        {z->pipe_thread, 0, ZMQ_POLLIN, 0},
		};
		if (zmq_poll(items, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (items[1].revents & ZMQ_POLLIN)
			break;
		if (items[0].revents & ZMQ_POLLIN)
			handle_request(z);
	}
	return NULL;
}

static void *pair_socket(void *ctx)
{
	void *s = zmq_socket(ctx, ZMQ_PAIR);
	int zero = 0;
	if (s != NULL)
		zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	return s;
}

hl_zap_t *hl_zap_new(void *zmq_ctx, hl_log_fn log, void *log_ctx, int *err)
{
	int rc = HL_ENOMEM;
	hl_zap_t *z = calloc(1, sizeof *z);
	if (z == NULL)
		goto fail;
	z->log = log;
	z->log_ctx = log_ctx;
	if (pthread_mutex_init(&z->lock, NULL) != 0) {
		free(z);
		z = NULL;
		goto fail;
	}
	rc = HL_EIO;
	z->sock = zmq_socket(zmq_ctx, ZMQ_REP);
	z->pipe_main = pair_socket(zmq_ctx);
	z->pipe_thread = pair_socket(zmq_ctx);
	if (z->sock == NULL || z->pipe_main == NULL || z->pipe_thread == NULL)
		goto fail;
	int zero = 0;
	zmq_setsockopt(z->sock, ZMQ_LINGER, &zero, sizeof zero);
	if (zmq_bind(z->sock, ZAP_ENDPOINT) != 0) {
		rc = errno == EADDRINUSE ? HL_EEXISTS : HL_EIO;
		goto fail;
	}
	if (zmq_bind(z->pipe_thread, ZAP_PIPE) != 0 || zmq_connect(z->pipe_main, ZAP_PIPE) != 0)
		goto fail;
	/* pthread_create is the full barrier libzmq asks for when a socket
	 * moves to another thread. */
	if (pthread_create(&z->thread, NULL, zap_thread, z) != 0)
		goto fail;
	z->started = true;
	return z;
fail:
	if (err != NULL)
		*err = rc;
	hl_zap_destroy(&z);
	return NULL;
}

void hl_zap_destroy(hl_zap_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_zap_t *z = *p;
	if (z->started) {
		zmq_send(z->pipe_main, "", 0, 0);
		pthread_join(z->thread, NULL);
	}
	if (z->sock != NULL)
		zmq_close(z->sock);
	if (z->pipe_main != NULL)
		zmq_close(z->pipe_main);
	if (z->pipe_thread != NULL)
		zmq_close(z->pipe_thread);
	free(z->allow);
	pthread_mutex_destroy(&z->lock);
	free(z);
	*p = NULL;
}

int hl_zap_set_allowlist(hl_zap_t *z, const struct hl_peer_key *peers, size_t n,
                         struct hl_diag *diag)
{
	if (z == NULL || (peers == NULL && n > 0))
		return HL_EINVAL;
	if (n > HL_ZAP_MAX_PEERS) {
		hl_diag_report(diag, HL_DIAG_ERROR, "allowlist", 0, "%zu peers; at most %d", n,
		               HL_ZAP_MAX_PEERS);
		return HL_ELIMIT;
	}
	struct allow_entry *list = n > 0 ? calloc(n, sizeof *list) : NULL;
	if (n > 0 && list == NULL)
		return HL_ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = peers[i].name;
		struct allow_entry e;
		if (!hl_peer_name_valid(name)) {
			hl_diag_report(diag, HL_DIAG_ERROR, "allowlist", (unsigned long)i + 1,
			               "invalid peer name");
			free(list);
			return HL_EINVAL;
		}
		if (hl_key_decode(peers[i].public_z85, e.key) != 0) {
			hl_diag_report(diag, HL_DIAG_ERROR, "allowlist", (unsigned long)i + 1,
			               "peer %s: public key is not a 40-character Z85 key", name);
			free(list);
			return HL_EINVAL;
		}
		snprintf(e.name, sizeof e.name, "%s", name);
		bool dup = false;
		for (size_t j = 0; j < used && !dup; j++) {
			if (memcmp(list[j].key, e.key, HL_KEY_BIN_LEN) != 0)
				continue;
			if (strcmp(list[j].name, e.name) != 0) {
				char fpr[HL_KEY_FPR_LEN + 1];
				hl_key_fingerprint(e.key, fpr);
				hl_diag_report(diag, HL_DIAG_ERROR, "allowlist",
				               (unsigned long)i + 1,
				               "key %s is listed for both %s and %s", fpr,
				               list[j].name, e.name);
				free(list);
				return HL_EINVAL;
			}
			dup = true;
		}
		if (!dup)
			list[used++] = e;
	}
	pthread_mutex_lock(&z->lock);
	struct allow_entry *old = z->allow;
	z->allow = list;
	z->n_allow = used;
	pthread_mutex_unlock(&z->lock);
	free(old);
	return 0;
}

bool hl_zap_check(hl_zap_t *z, const uint8_t key[HL_KEY_BIN_LEN], const char *name)
{
	if (z == NULL || key == NULL || name == NULL)
		return false;
	bool ok = false;
	pthread_mutex_lock(&z->lock);
	for (size_t i = 0; i < z->n_allow && !ok; i++)
		ok = memcmp(z->allow[i].key, key, HL_KEY_BIN_LEN) == 0 &&
		     strcmp(z->allow[i].name, name) == 0;
	pthread_mutex_unlock(&z->lock);
	return ok;
}

void hl_zap_stats(hl_zap_t *z, struct hl_zap_stats *st)
{
	if (z == NULL || st == NULL)
		return;
	pthread_mutex_lock(&z->lock);
	*st = z->stats;
	pthread_mutex_unlock(&z->lock);
}
