/* \summary: sensor -> sharer link: bounded queue, DEALER thread, resend until ACKed
 *
 * Records travel in "sightings" batches. hl_sharer_link_send appends the
 * record's bytes to the open (last, not yet sent) message of the queue, or
 * opens a new one when that holds BATCH_RECORDS records or BATCH_BYTES
 * bytes. The thread seals a message when it first sends it: it gets its
 * id, envelope and body then, and every resend repeats those bytes. So a
 * slow trickle goes one record per message, at once, and a burst (or a
 * sharer that is slow to ACK) fills messages up: the batch size follows
 * the load, with no timer.
 *
 * The queue is a ring of messages in send order. cursor splits it:
 * entries before it were sent in the current connection (or are done),
 * entries from it on wait for their (re)send. A disconnect and a new
 * connection's handshake move cursor back to the head, so everything
 * un-ACKed goes again on the new connection; every
 * resend_ms/4 the sent part is scanned for entries un-ACKed for resend_ms.
 * ACKs normally name the oldest entries, so lookups start at the head.
 *
 * A message ACKed (or refused) out of order is done at once: its records
 * stop counting then (l->records: stats pending and the queue_max bound),
 * though its entry stays in the ring until the entries before it are done
 * too. So l->records counts the records of the entries not done, each
 * holding at least one; the ring (queue_max entries) may still be full of
 * done ones, and a message about to open first compacts them away.
 */
#define _GNU_SOURCE
#include "sharer_link.h"
#include "sharer_link_push.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "hotline/err.h"
#include "hotline/wire.h"

#define Z85_KEY_LEN 40
#define RECV_BATCH 256
#define SEND_BATCH 256
#define BLOCKED_RETRY_MS 50
/* A batch: at most this many records (the wire allows HL_WIRE_BATCH_MAX) ... */
#define BATCH_RECORDS 1000
/* ... and (by default) this many bytes of records: half a sharer's default
 * max_message (1 MiB), ~650 typical records. Against 64 KiB and 256
 * records, a 100,000-sighting burst went from about 40,000 to 45,000/s
 * (bench_sharer): a sharer's cost per message (inbox and audit rows, a
 * commit) is shared by more records. */
#define BATCH_BYTES (256 * 1024)
/* Messages in flight at once. While they are, new records gather in the
 * open message: batches grow with the load and the sharer's commit time
 * (each message costs the sharer an inbox row and an audit row). */
#define MSG_WINDOW 16

/* One message: open (records being added to buf) until sealed. */
struct entry {
	char id[HL_WIRE_ID_LEN + 1];
	char *env, *body; /* when sealed */
	size_t env_len, body_len;
	char *buf; /* open: the records' JSON texts, comma-separated ... */
	size_t buf_len, buf_cap;
	size_t first;    /* ... from this offset (older ones were dropped) */
	uint32_t *lens;  /* open: each added record's length */
	size_t nadded;   /* records added (the open message's size limit) */
	size_t ndrop;    /* of those, dropped from the front */
	size_t nrec;     /* records it carries: nadded - ndrop */
	int64_t sent_at; /* ms, monotonic; 0: not sent on this connection */
	bool sealed;
	bool ever_sent;
	bool done;
};

struct hl_sharer_link {
	struct hl_sharer_link_opts o;
	char name[HL_WIRE_NAME_MAX + 1];
	char to[HL_WIRE_NAME_MAX + 1];
	void *ctx, *sock, *mon;
	int wake_fd;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu;
	pthread_cond_t changed;
	bool stopping;
	bool reconnecting; /* a connection dropped; the next handshake resends */
	struct entry *ring;
	size_t cap, head, count, cursor;
	size_t records;       /* in the messages not done (un-ACKed): the queue bound */
	size_t inflight;      /* records sent on this connection and not ACKed */
	size_t inflight_msgs; /* the messages carrying them */
	uint64_t seq;
	int64_t last_scan;
	int64_t last_ack;       /* when the sharer last ACKed anything */
	unsigned stall_resends; /* resends since that ACK: the backoff's exponent */
	struct hl_sharer_link_stats st;
	struct hl_link_push *push; /* indicator sets from the sharer (sharer_link_push.c) */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(hl_sharer_link_t *l, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void logf_(hl_sharer_link_t *l, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (l->o.log != NULL)
		l->o.log(l->o.log_ctx, level, buf);
	else
		fprintf(stderr, "sharer link: %s\n", buf);
}

static struct entry *at(hl_sharer_link_t *l, size_t i)
{
	return &l->ring[(l->head + i) % l->cap];
}

static void entry_free(struct entry *e)
{
	free(e->env);
	free(e->body);
	free(e->buf);
	free(e->lens);
	memset(e, 0, sizeof *e);
}

static void less_inflight(hl_sharer_link_t *l, const struct entry *e)
{
	l->inflight = l->inflight > e->nrec ? l->inflight - e->nrec : 0;
	l->inflight_msgs -= l->inflight_msgs > 0;
}

/* Remove the head entry (done or dropped). A done entry's records were
 * counted out when it was finished. */
static void pop_head(hl_sharer_link_t *l)
{
	struct entry *e = at(l, 0);
	if (!e->done) {
		if (e->sent_at != 0)
			less_inflight(l, e);
		l->records -= e->nrec;
	}
	entry_free(e);
	l->head = (l->head + 1) % l->cap;
	l->count--;
	if (l->cursor > 0)
		l->cursor--;
}

/* The queue is full: the oldest un-ACKed record goes, sent or not (the
 * sharer has been away for a whole queue's worth). A sealed message goes whole: its
 * bytes are fixed. */
static void drop_oldest(hl_sharer_link_t *l)
{
	struct entry *e = at(l, 0);
	if (e->done) { /* the sharer has it: nothing is lost */
		pop_head(l);
		return;
	}
	if (e->sealed || e->nrec <= 1) {
		l->st.dropped += e->nrec;
		pop_head(l);
		return;
	}
	e->first += e->lens[e->ndrop++] + 1;
	e->nrec--;
	l->records--;
	l->st.dropped++;
}

static void pop_done(hl_sharer_link_t *l)
{
	while (l->count > 0 && at(l, 0)->done)
		pop_head(l);
}

/* Free the done entries behind the head, keeping the others in order:
 * afterwards count <= records, so a ring of queue_max entries has room
 * for one more message whenever records < queue_max. */
static void compact(hl_sharer_link_t *l)
{
	size_t kept = 0, cursor = l->cursor;
	for (size_t i = 0; i < l->count; i++) {
		struct entry *e = at(l, i);
		if (e->done) {
			entry_free(e);
			if (i < l->cursor)
				cursor--;
			continue;
		}
		if (kept != i) {
			*at(l, kept) = *e;
			memset(e, 0, sizeof *e);
		}
		kept++;
	}
	l->count = kept;
	l->cursor = cursor;
}

/* ---- keys ------------------------------------------------------------- */

static int read_key_file(const char *path, bool secret, char out[Z85_KEY_LEN + 1], char *err,
                         size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return HL_EIO;
	}
	struct stat sb;
	if (secret && fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0) {
		close(fd);
		snprintf(err, errlen, "%s: group or others may read this secret key (chmod 600)",
		         path);
		return HL_EPERM;
	}
	char buf[Z85_KEY_LEN + 3];
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	uint8_t bin[32];
	if (n != Z85_KEY_LEN) {
		snprintf(err, errlen, "%s: not one Z85 key", path);
		return HL_EPARSE;
	}
	memcpy(out, buf, Z85_KEY_LEN);
	out[Z85_KEY_LEN] = '\0';
	if (zmq_z85_decode(bin, out) == NULL) {
		snprintf(err, errlen, "%s: not one Z85 key", path);
		return HL_EPARSE;
	}
	return 0;
}

static int setup_curve(hl_sharer_link_t *l, const struct hl_sharer_link_opts *o, char *err,
                       size_t errlen)
{
	char server[Z85_KEY_LEN + 1], secret[Z85_KEY_LEN + 1], public[Z85_KEY_LEN + 1];
	uint8_t bin[32];
	if (o->server_key != NULL) {
		if (strlen(o->server_key) != Z85_KEY_LEN ||
		    zmq_z85_decode(bin, o->server_key) == NULL) {
			snprintf(err, errlen, "sharer key: not one Z85 key");
			return HL_EPARSE;
		}
		memcpy(server, o->server_key, sizeof server);
	} else if (o->server_key_file != NULL) {
		int rc = read_key_file(o->server_key_file, false, server, err, errlen);
		if (rc != 0)
			return rc;
	} else {
		snprintf(err, errlen, "%s: tcp needs the sharer's public key", o->endpoint);
		return HL_EINVAL;
	}
	if (o->secret_key_file == NULL) {
		snprintf(err, errlen, "%s: tcp needs this sensor's secret key", o->endpoint);
		return HL_EINVAL;
	}
	int rc = read_key_file(o->secret_key_file, true, secret, err, errlen);
	if (rc != 0)
		return rc;
	if (zmq_curve_public(public, secret) != 0) {
		snprintf(err, errlen, "%s: cannot derive the public key", o->secret_key_file);
		return HL_EPARSE;
	}
	if (zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, server, Z85_KEY_LEN) != 0 ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, public, Z85_KEY_LEN) != 0 ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, secret, Z85_KEY_LEN) != 0) {
		snprintf(err, errlen, "CURVE: %s", zmq_strerror(errno));
		return HL_EIO;
	}
	memset(secret, 0, sizeof secret);
	return 0;
}

/* ---- the thread ------------------------------------------------------- */

/* Give an open message its id, envelope and body (under mu): from here on
 * its bytes never change, so every resend is the same message. */
static int seal(hl_sharer_link_t *l, struct entry *e)
{
	static const char pre[] = "{\"records\":[", post[] = "]}";
	struct hl_wire_envelope env;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	size_t rl = e->buf_len - e->first;
	size_t len = sizeof pre - 1 + rl + sizeof post - 1;
	char *body = malloc(len + 1);
	if (body == NULL)
		return HL_ENOMEM;
	memcpy(body, pre, sizeof pre - 1);
	memcpy(body + sizeof pre - 1, e->buf + e->first, rl);
	memcpy(body + sizeof pre - 1 + rl, post, sizeof post);
	int rc = hl_wire_envelope_init(&env, HL_WIRE_T_SIGHTINGS, l->name, l->to, l->seq, now);
	if (rc == 0)
		rc = hl_wire_encode_envelope(&env, &e->env, &e->env_len, NULL);
	if (rc != 0) {
		free(body);
		return rc;
	}
	l->seq++;
	memcpy(e->id, env.id, sizeof e->id);
	e->body = body;
	e->body_len = len;
	free(e->buf);
	free(e->lens);
	e->buf = NULL;
	e->lens = NULL;
	e->buf_len = e->buf_cap = e->first = 0;
	e->sealed = true;
	return 0;
}

/* Send what is due (under mu). Returns true when the socket refused. */
static bool send_due(hl_sharer_link_t *l, int64_t now)
{
	/* Resend only when the sharer has gone quiet: while ACKs still come,
	 * an old un-ACKed message is a slow sharer (its inbox would only find
	 * duplicates), and resending the whole window on a timer turned a
	 * loaded sharer into a resend storm. Each further quiet period doubles
	 * the wait, up to 8 times resend_ms; an ACK resets it. */
	int64_t resend = (int64_t)l->o.resend_ms << (l->stall_resends < 3 ? l->stall_resends : 3);
	if (now - l->last_scan >= resend / 4) {
		l->last_scan = now;
		for (size_t i = 0; i < l->cursor && now - l->last_ack >= resend; i++) {
			struct entry *e = at(l, i);
			if (!e->done && e->sent_at != 0 && now - e->sent_at >= resend) {
				l->stall_resends++;
				/* Resend from here: move the cursor back. */
				for (size_t j = i; j < l->cursor; j++) {
					struct entry *f = at(l, j);
					if (f->sent_at != 0 && !f->done)
						less_inflight(l, f);
					f->sent_at = 0;
				}
				l->cursor = i;
				break;
			}
		}
	}
	size_t sent = 0;
	while (l->cursor < l->count && sent < SEND_BATCH && l->inflight < l->o.window &&
	       l->inflight_msgs < MSG_WINDOW) {
		struct entry *e = at(l, l->cursor);
		if (e->done || e->sent_at != 0) {
			l->cursor++;
			continue;
		}
		if (!e->sealed) {
			/* Sealed only when it can leave now: while the sharer is
			 * away (ZMQ_IMMEDIATE: no pipe, no POLLOUT), records keep
			 * gathering in the open message. */
			int ev = 0;
			size_t evl = sizeof ev;
			if (zmq_getsockopt(l->sock, ZMQ_EVENTS, &ev, &evl) != 0 ||
			    !(ev & ZMQ_POLLOUT) || seal(l, e) != 0)
				return true;
		}
		if (zmq_send(l->sock, e->env, e->env_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
			return true;
		/* libzmq takes the rest of a multipart message once it took the
		 * first frame; failing here means the pipe went away mid-message
		 * (libzmq drops the part): not sent, the reconnect resends it. */
		if (zmq_send(l->sock, e->body, e->body_len, ZMQ_DONTWAIT) < 0)
			return true;
		e->sent_at = now;
		if (e->ever_sent)
			l->st.resent += e->nrec;
		else
			l->st.sent += e->nrec;
		e->ever_sent = true;
		l->inflight += e->nrec;
		l->inflight_msgs++;
		l->cursor++;
		sent++;
	}
	return false;
}

static struct entry *find(hl_sharer_link_t *l, const char *id)
{
	if (id == NULL)
		return NULL;
	for (size_t i = 0; i < l->count; i++) {
		struct entry *e = at(l, i);
		if (e->sealed && !e->done && strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

/* The sharer answered for e: its records stop counting now, wherever it
 * is in the ring, and its bytes go (never sent again), so that done
 * entries waiting behind an un-ACKed head cost only their slot. */
static void finish(hl_sharer_link_t *l, struct entry *e)
{
	if (e->sent_at != 0)
		less_inflight(l, e);
	l->records -= e->nrec;
	e->done = true;
	free(e->env);
	free(e->body);
	e->env = e->body = NULL;
	e->env_len = e->body_len = 0;
}

/* One message from the sharer (under mu). */
static void on_reply(hl_sharer_link_t *l, zmq_msg_t *f, size_t nf)
{
	struct hl_wire_envelope env;
	struct hl_wire_error we;
	json_t *body = NULL;
	if (nf != 2 || hl_wire_decode(zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), zmq_msg_data(&f[1]),
	                              zmq_msg_size(&f[1]), 0, &env, &body, &we) != 0) {
		logf_(l, 1, "ignored a reply that does not decode");
		return;
	}
	if (env.type == HL_WIRE_T_ACK) {
		const json_t *ids = json_object_get(body, "ids");
		for (size_t i = 0; i < json_array_size(ids); i++) {
			struct entry *e = find(l, json_string_value(json_array_get(ids, i)));
			if (e != NULL) {
				finish(l, e);
				l->last_ack = now_ms();
				l->stall_resends = 0;
				l->st.acked += e->nrec;
				l->st.messages_acked++;
			}
		}
	} else if (env.type == HL_WIRE_T_NACK) {
		const char *id = json_string_value(json_object_get(body, "id"));
		const char *code = json_string_value(json_object_get(body, "reason_code"));
		const char *why = json_string_value(json_object_get(body, "reason"));
		struct entry *e = find(l, id);
		if (e != NULL && hl_wire_err_parse(code ? code : "") != HL_WIRE_E_INTERNAL) {
			finish(l, e);
			l->st.refused += e->nrec;
			logf_(l, 0, "sharer refused %zu sighting(s) in %s: %s: %s", e->nrec, id,
			      code ? code : "?", why ? why : "");
			if (hl_wire_err_parse(code ? code : "") == HL_WIRE_E_OVERSIZE)
				logf_(l, 0,
				      "batches of up to %zu bytes of records are too "
				      "large for this sharer: give --sharer-batch-bytes "
				      "(sharer.batch_bytes) under half its "
				      "limits.max_message",
				      l->o.batch_bytes);
		}
	}
	json_decref(body);
	pop_done(l);
}

static void on_monitor(hl_sharer_link_t *l)
{
	for (;;) {
		zmq_msg_t a, b;
		zmq_msg_init(&a);
		if (zmq_msg_recv(&a, l->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&a);
			return;
		}
		uint16_t ev = 0;
		if (zmq_msg_size(&a) >= 2)
			memcpy(&ev, zmq_msg_data(&a), 2);
		zmq_msg_init(&b);
		if (zmq_msg_more(&a))
			zmq_msg_recv(&b, l->mon, 0);
		zmq_msg_close(&a);
		zmq_msg_close(&b);
		pthread_mutex_lock(&l->mu);
		bool again = false;
		if (ev == ZMQ_EVENT_DISCONNECTED) {
			l->st.disconnects++;
			l->reconnecting = true;
			again = true;
		} else if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && l->reconnecting) {
			/* Sent between the drop and its event may be lost too
			 * (libzmq detaches the old pipe a little later). */
			l->reconnecting = false;
			again = true;
		}
		if (again) {
			/* Everything un-ACKed goes again on the new connection
			 * (the sharer's inbox makes the duplicates harmless). */
			for (size_t i = 0; i < l->cursor; i++)
				at(l, i)->sent_at = 0;
			l->cursor = 0;
			l->inflight = 0;
			l->inflight_msgs = 0;
		}
		pthread_mutex_unlock(&l->mu);
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			hl_link_push_connected(l->push, l->sock);
	}
}

static void on_socket(hl_sharer_link_t *l)
{
	for (int n = 0; n < RECV_BATCH; n++) {
		zmq_msg_t f[3];
		size_t nf = 0;
		zmq_msg_init(&f[0]);
		if (zmq_msg_recv(&f[0], l->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[0]);
			return;
		}
		nf = 1;
		bool more = zmq_msg_more(&f[0]);
		while (more) {
			zmq_msg_t extra;
			zmq_msg_t *m = nf < 3 ? &f[nf] : &extra;
			zmq_msg_init(m);
			zmq_msg_recv(m, l->sock, 0);
			more = zmq_msg_more(m);
			if (m == &extra)
				zmq_msg_close(&extra);
			else
				nf++;
		}
		if (nf == 2 &&
		    hl_link_push_take(l->push, l->sock, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]),
		                      zmq_msg_data(&f[1]), zmq_msg_size(&f[1]))) {
			for (size_t i = 0; i < nf; i++)
				zmq_msg_close(&f[i]);
			continue;
		}
		pthread_mutex_lock(&l->mu);
		on_reply(l, f, nf);
		pthread_cond_broadcast(&l->changed);
		pthread_mutex_unlock(&l->mu);
		for (size_t i = 0; i < nf; i++)
			zmq_msg_close(&f[i]);
	}
}

static void *run(void *arg)
{
	hl_sharer_link_t *l = arg;
	for (;;) {
		int64_t now = now_ms();
		pthread_mutex_lock(&l->mu);
		if (l->stopping) {
			pthread_mutex_unlock(&l->mu);
			break;
		}
		bool blocked = send_due(l, now);
		int timeout = l->o.resend_ms / 4;
		if (blocked && l->cursor < l->count)
			timeout = BLOCKED_RETRY_MS;
		pthread_mutex_unlock(&l->mu);
		zmq_pollitem_t it[3] = {
		        {.socket = l->sock, .events = ZMQ_POLLIN},
		        {.socket = l->mon, .events = ZMQ_POLLIN},
		        {.fd = l->wake_fd, .events = ZMQ_POLLIN},
		};
		if (zmq_poll(it, 3, timeout) < 0 && errno != EINTR)
			break;
		if (it[2].revents & ZMQ_POLLIN) {
			uint64_t v;
			if (read(l->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
				break;
		}
		if (it[1].revents & ZMQ_POLLIN)
			on_monitor(l);
		if (it[0].revents & ZMQ_POLLIN)
			on_socket(l);
		hl_link_push_tick(l->push, l->sock);
	}
	return NULL;
}

static void wake(hl_sharer_link_t *l)
{
	uint64_t one = 1;
	/* Fails only when the counter would overflow: it is set anyway. */
	if (write(l->wake_fd, &one, sizeof one) < 0)
		return;
}

/* ---- API -------------------------------------------------------------- */

hl_sharer_link_t *hl_sharer_link_new(const struct hl_sharer_link_opts *o, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (o == NULL || o->endpoint == NULL || o->name == NULL || !hl_wire_name_valid(o->name) ||
	    (o->to != NULL && !hl_wire_name_valid(o->to))) {
		snprintf(err, errlen, "sharer link: needs an endpoint and valid names");
		return NULL;
	}
	bool tcp = strncmp(o->endpoint, "tcp://", 6) == 0;
	if (!tcp && strncmp(o->endpoint, "ipc://", 6) != 0) {
		snprintf(err, errlen, "%s: not ipc:// or tcp://", o->endpoint);
		return NULL;
	}
	hl_sharer_link_t *l = calloc(1, sizeof *l);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->o = *o;
	l->wake_fd = -1;
	snprintf(l->name, sizeof l->name, "%s", o->name);
	snprintf(l->to, sizeof l->to, "%s", o->to != NULL ? o->to : "sharer");
	l->o.name = l->name;
	l->o.to = l->to;
	l->o.endpoint = NULL; /* borrowed strings are not kept */
	l->o.server_key = l->o.server_key_file = l->o.secret_key_file = NULL;
	if (l->o.queue_max == 0)
		l->o.queue_max = 10000;
	if (l->o.window == 0)
		l->o.window = 4096;
	if (l->o.resend_ms <= 0)
		l->o.resend_ms = 5000;
	if (l->o.batch_bytes == 0)
		l->o.batch_bytes = BATCH_BYTES;
	l->cap = l->o.queue_max;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->changed, NULL);
	l->ring = calloc(l->cap, sizeof *l->ring);
	l->push = hl_link_push_new(o);
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->ctx = zmq_ctx_new();
	l->sock = l->ctx != NULL ? zmq_socket(l->ctx, ZMQ_DEALER) : NULL;
	if (l->ring == NULL || l->push == NULL || l->wake_fd < 0 || l->sock == NULL) {
		snprintf(err, errlen, "sharer link: cannot set up (%s)", strerror(errno));
		goto bad;
	}
	int one = 1, linger = 0, ivl = 100, ivl_max = 2000, hb = 2000, hb_to = 6000;
	/* The sharer's listeners expect the routing id to be the name (they
	 * take over a route on reconnect; identity comes from the key). */
	zmq_setsockopt(l->sock, ZMQ_ROUTING_ID, l->name, strlen(l->name));
	zmq_setsockopt(l->sock, ZMQ_IMMEDIATE, &one, sizeof one);
	zmq_setsockopt(l->sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
	/* Heartbeats over tcp only: a local (ipc) peer's death is seen at once,
	 * and a PING landing on a stopped local pipe is the other path to
	 * libzmq#4364's abort (docs/transport.md). */
	if (tcp) {
		zmq_setsockopt(l->sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
		zmq_setsockopt(l->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_to, sizeof hb_to);
	}
	if (tcp && setup_curve(l, o, err, errlen) != 0)
		goto bad;
	char mon_ep[64];
	snprintf(mon_ep, sizeof mon_ep, "inproc://hl-sharer-link-%p", (void *)l);
	if (zmq_socket_monitor(l->sock, mon_ep,
	                       ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
	    (l->mon = zmq_socket(l->ctx, ZMQ_PAIR)) == NULL || zmq_connect(l->mon, mon_ep) != 0 ||
	    zmq_connect(l->sock, o->endpoint) != 0) {
		snprintf(err, errlen, "%s: %s", o->endpoint, zmq_strerror(errno));
		goto bad;
	}
	if (pthread_create(&l->thread, NULL, run, l) != 0) {
		snprintf(err, errlen, "sharer link: cannot start its thread");
		goto bad;
	}
	l->thread_started = true;
	return l;
bad:
	hl_sharer_link_destroy(&l);
	return NULL;
}

/* Append text (one record) to the open message, opening one if needed
 * (under mu). Returns whether the record opened a message. */
static int append(hl_sharer_link_t *l, const char *text, size_t len, bool *opened)
{
	struct entry *e = l->count > 0 ? at(l, l->count - 1) : NULL;
	*opened = false;
	if (e == NULL || e->sealed || e->nadded >= BATCH_RECORDS ||
	    (e->nrec > 0 && e->buf_len - e->first + 1 + len > l->o.batch_bytes)) {
		/* records < queue_max = cap here (enqueue dropped down to it), and
		 * once the done entries are gone each entry holds a record. */
		if (l->count == l->cap)
			compact(l);
		e = at(l, l->count);
		memset(e, 0, sizeof *e);
		l->count++;
		*opened = true;
	}
	if (e->lens == NULL && (e->lens = malloc(BATCH_RECORDS * sizeof *e->lens)) == NULL) {
		if (e->nrec == 0)
			l->count--;
		return HL_ENOMEM;
	}
	size_t need = e->buf_len + 1 + len;
	if (need > e->buf_cap) {
		size_t cap = e->buf_cap ? e->buf_cap : 1024;
		while (cap < need)
			cap *= 2;
		char *nb = realloc(e->buf, cap);
		if (nb == NULL) {
			if (e->nrec == 0)
				l->count--; /* the message just opened stays unused */
			return HL_ENOMEM;
		}
		e->buf = nb;
		e->buf_cap = cap;
	}
	if (e->nrec > 0)
		e->buf[e->buf_len++] = ',';
	memcpy(e->buf + e->buf_len, text, len);
	e->buf_len += len;
	e->lens[e->nadded++] = (uint32_t)len;
	e->nrec++;
	l->records++;
	return 0;
}

static void count_invalid(hl_sharer_link_t *l)
{
	pthread_mutex_lock(&l->mu);
	l->st.invalid++;
	pthread_mutex_unlock(&l->mu);
}

/* One JSON object's text, ends trimmed: what keeps a batch's array whole
 * whatever the record says. Not a parse: the caller vouches for the rest. */
static bool framed_as_object(const char *line, size_t *len)
{
	while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r' ||
	                    line[*len - 1] == ' ' || line[*len - 1] == '\t'))
		(*len)--;
	return *len >= 2 && line[0] == '{' && line[*len - 1] == '}' &&
	       memchr(line, '\n', *len) == NULL && memchr(line, '\0', *len) == NULL;
}

static int enqueue(hl_sharer_link_t *l, const char *line, size_t len)
{
	pthread_mutex_lock(&l->mu);
	if (l->stopping) {
		pthread_mutex_unlock(&l->mu);
		return HL_ESTATE;
	}
	while (l->records >= l->o.queue_max && l->count > 0)
		drop_oldest(l);
	bool opened = false;
	int rc = append(l, line, len, &opened);
	if (rc == 0)
		l->st.queued++;
	pthread_mutex_unlock(&l->mu);
	/* A record joining an open message was announced by its first. */
	if (rc == 0 && opened)
		wake(l);
	return rc;
}

int hl_sharer_link_send_own(hl_sharer_link_t *l, const char *line, size_t len)
{
	if (l == NULL || line == NULL)
		return HL_EINVAL;
	if (!framed_as_object(line, &len)) {
		count_invalid(l);
		return HL_EINVAL;
	}
	return enqueue(l, line, len);
}

int hl_sharer_link_send(hl_sharer_link_t *l, const char *line, size_t len)
{
	if (l == NULL || line == NULL)
		return HL_EINVAL;
	/* Checked here, so that a batch never carries a record the sharer
	 * would refuse; then queued as the sensor's own records are. */
	json_t *body = hl_wire_body_sighting_line(line, len);
	if (body == NULL) {
		count_invalid(l);
		return HL_EINVAL;
	}
	json_decref(body);
	return hl_sharer_link_send_own(l, line, len);
}

int hl_sharer_link_flush(hl_sharer_link_t *l, int timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	int rc = 0;
	pthread_mutex_lock(&l->mu);
	while (l->count > 0 && rc == 0)
		if (pthread_cond_timedwait(&l->changed, &l->mu, &dl) == ETIMEDOUT)
			rc = l->count > 0 ? HL_EAGAIN : 0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void hl_sharer_link_stats(hl_sharer_link_t *l, struct hl_sharer_link_stats *st)
{
	pthread_mutex_lock(&l->mu);
	*st = l->st;
	st->pending = l->records;
	pthread_mutex_unlock(&l->mu);
}

void hl_sharer_link_push_stats(hl_sharer_link_t *l, struct hl_sharer_link_push_stats *st)
{
	hl_link_push_stats(l->push, st);
}

void hl_sharer_link_destroy(hl_sharer_link_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_sharer_link_t *l = *p;
	if (l->thread_started) {
		pthread_mutex_lock(&l->mu);
		l->stopping = true;
		pthread_mutex_unlock(&l->mu);
		wake(l);
		pthread_join(l->thread, NULL);
	}
	if (l->records > 0)
		logf_(l, 1, "%zu sighting(s) not acknowledged by the sharer are lost", l->records);
	while (l->ring != NULL && l->count > 0)
		pop_head(l);
	if (l->mon != NULL)
		zmq_close(l->mon);
	if (l->sock != NULL) {
		zmq_socket_monitor(l->sock, NULL, 0);
		zmq_close(l->sock);
	}
	if (l->ctx != NULL)
		zmq_ctx_term(l->ctx);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	free(l->ring);
	hl_link_push_destroy(&l->push);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->changed);
	free(l);
	*p = NULL;
}
