/* \summary: exchange, inbound: decode, check the sender, store once, then ACK (exchange.h) */
#include "exchange_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

#define DEFAULT_VERSION "hotline/0.1"
#define ORIGIN_MAX (HL_WIRE_NAME_MAX + 8)

void hl_exchange_opts_init(struct hl_exchange_opts *o)
{
	memset(o, 0, sizeof *o);
	o->retry_base_us = 5 * 1000000LL;
	o->retry_max_us = 300 * 1000000LL;
	o->heartbeat_us = 10 * 1000000LL;
	o->window = 512;
	o->pump_batch = 256;
	o->inbox_keep_us = 30LL * 24 * 3600 * 1000000;
}

hl_exchange_t *hl_exchange_new(const struct hl_exchange_opts *o, int *err)
{
	*err = HL_EINVAL;
	if (o == NULL || o->store == NULL || o->name == NULL || !hl_wire_name_valid(o->name))
		return NULL;
	hl_exchange_t *x = calloc(1, sizeof *x);
	if (x == NULL) {
		*err = HL_ENOMEM;
		return NULL;
	}
	x->o = *o;
	snprintf(x->name, sizeof x->name, "%s", o->name);
	snprintf(x->version, sizeof x->version, "%s", o->version ? o->version : DEFAULT_VERSION);
	x->o.name = x->name;
	x->o.version = x->version;
	if (x->o.retry_base_us <= 0)
		x->o.retry_base_us = 5 * 1000000LL;
	if (x->o.retry_max_us < x->o.retry_base_us)
		x->o.retry_max_us = x->o.retry_base_us;
	if (x->o.heartbeat_us <= 0)
		x->o.heartbeat_us = 10 * 1000000LL;
	if (x->o.window == 0)
		x->o.window = 512;
	if (x->o.pump_batch == 0)
		x->o.pump_batch = 256;
	if (x->o.inbox_keep_us <= 0)
		x->o.inbox_keep_us = 30LL * 24 * 3600 * 1000000;
	*err = 0;
	return x;
}

void hl_exchange_destroy(hl_exchange_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_x_ind_free(*p);
	hl_wire_texts_free(&(*p)->texts);
	free((*p)->peers);
	free((*p)->sensors);
	free(*p);
	*p = NULL;
}

struct xpeer *hl_x_peer(hl_exchange_t *x, const char *name)
{
	for (size_t i = 0; i < x->n_peers; i++)
		if (strcmp(x->peers[i].name, name) == 0)
			return &x->peers[i];
	return NULL;
}

static bool is_sensor(const hl_exchange_t *x, const char *name)
{
	for (size_t i = 0; i < x->n_sensors; i++)
		if (strcmp(x->sensors[i], name) == 0)
			return true;
	return false;
}

int hl_exchange_add_peer(hl_exchange_t *x, const char *name, hl_tp_sock_t *dealer)
{
	if (x == NULL || name == NULL || !hl_wire_name_valid(name) || strcmp(name, x->name) == 0)
		return HL_EINVAL;
	if (hl_x_peer(x, name) != NULL || is_sensor(x, name))
		return HL_EEXISTS;
	struct xpeer *np = realloc(x->peers, (x->n_peers + 1) * sizeof *np);
	if (np == NULL)
		return HL_ENOMEM;
	x->peers = np;
	struct xpeer *p = &np[x->n_peers++];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->dealer = dealer;
	p->seq = x->o.seq_start;
	return 0;
}

void hl_exchange_set_listener(hl_exchange_t *x, hl_tp_sock_t *listener)
{
	x->listener = listener;
}

int hl_exchange_add_sensor(hl_exchange_t *x, const char *name)
{
	if (x == NULL || name == NULL || !hl_wire_name_valid(name) || strcmp(name, x->name) == 0)
		return HL_EINVAL;
	if (hl_x_peer(x, name) != NULL || is_sensor(x, name))
		return HL_EEXISTS;
	char(*ns)[HL_WIRE_NAME_MAX + 1] = realloc(x->sensors, (x->n_sensors + 1) * sizeof *ns);
	if (ns == NULL)
		return HL_ENOMEM;
	x->sensors = ns;
	snprintf(ns[x->n_sensors++], sizeof ns[0], "%s", name);
	return 0;
}

int hl_x_encode(hl_exchange_t *x, enum hl_wire_type type, const char *to, const char *id,
                uint64_t seq, const json_t *body, int64_t now, char **env, size_t *env_len,
                char **bodys, size_t *body_len)
{
	struct hl_wire_envelope e;
	int rc = hl_wire_envelope_init(&e, type, x->name, to, seq, now);
	if (rc != 0)
		return rc;
	if (id != NULL) {
		if (!hl_wire_id_valid(id))
			return HL_EINVAL;
		snprintf(e.id, sizeof e.id, "%s", id);
	}
	struct hl_wire_error we;
	rc = hl_wire_encode_checked(&e, body, env, env_len, bodys, body_len, &we);
	if (rc != 0)
		XLOG(x, HL_LOG_ERROR, "exchange: cannot encode %s to %s: %s",
		     hl_wire_type_name(type), to, we.msg);
	return rc;
}

/* ---- one batch ---------------------------------------------------------- */

/* What to answer one received message: a NACK, encoded at once, or an ACK
 * of ack_id, encoded when the batch's replies go out, together with the
 * other ACKs for the same connection (up to HL_WIRE_BATCH_MAX ids). */
struct reply {
	char *env, *body;
	size_t env_len, body_len;
	bool ack;
	char ack_id[HL_WIRE_ID_LEN + 1];
	char to[HL_WIRE_NAME_MAX + 1];
	struct xpeer *peer; /* whose seq the ACK takes; NULL: a sensor */
};

/* Who a message is from, once its envelope has been checked. */
struct sender {
	bool sensor;
	struct xpeer *peer;                  /* when a peer */
	char inbox_key[ORIGIN_MAX];          /* the inbox's "peer" column */
	char reply_to[HL_WIRE_NAME_MAX + 1]; /* envelope "to" of our replies */
};

static void reply_free(struct reply *r)
{
	free(r->env);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static uint64_t next_seq(hl_exchange_t *x, const struct sender *s)
{
	return s->peer != NULL ? s->peer->seq++ : x->sensor_seq++;
}

static void make_nack(hl_exchange_t *x, const struct sender *s, const char *to, const char *id,
                      enum hl_wire_err code, const char *reason, int64_t now, struct reply *r)
{
	if (!hl_wire_id_valid(id) || !hl_wire_name_valid(to))
		return; /* nothing a NACK could name */
	json_t *b = hl_wire_body_nack(id, code, reason,
	                              code == HL_WIRE_E_VERSION ? HL_WIRE_VERSION : 0);
	if (b == NULL)
		return;
	uint64_t seq = s != NULL ? next_seq(x, s) : x->sensor_seq++;
	hl_x_encode(x, HL_WIRE_T_NACK, to, NULL, seq, b, now, &r->env, &r->env_len, &r->body,
	            &r->body_len);
	json_decref(b);
}

static void make_ack(hl_exchange_t *x, const struct sender *s, const char *id, int64_t now,
                     struct reply *r)
{
	(void)x;
	(void)now;
	r->ack = true;
	snprintf(r->ack_id, sizeof r->ack_id, "%s", id);
	snprintf(r->to, sizeof r->to, "%s", s->reply_to);
	r->peer = s->peer;
}

static void refuse(hl_exchange_t *x, const struct hl_tp_msg *m, const struct sender *s,
                   const struct hl_wire_envelope *e, enum hl_wire_err code, const char *why,
                   int64_t now, struct reply *r)
{
	x->c.rejected[code]++;
	x->c.rejected_total++;
	XLOG(x, HL_LOG_WARNING, "exchange: refused message %s from %s (%s): %s: %s",
	     e->id[0] ? e->id : "(no id)", m->peer, m->address[0] ? m->address : "local",
	     hl_wire_err_name(code), why);
	const char *to = s != NULL ? s->reply_to : (e->from[0] ? e->from : m->peer);
	make_nack(x, s, to, e->id, code, why, now, r);
}

/* The new records of one sensor message, forwarded to every peer as
 * "sightings" batches: their JSON texts, comma-separated, as stored. */
struct fwd {
	char *buf;
	size_t len, cap, n;
};

/* A forwarded batch closes at this many bytes of records (or at
 * HL_WIRE_BATCH_MAX records), and at half our own max_message when that is
 * smaller: the peer is assumed to accept what we accept. */
#define FWD_BYTES (256 * 1024)

static size_t fwd_bytes(const hl_exchange_t *x)
{
	size_t max = x->o.max_msg_bytes ? x->o.max_msg_bytes : HL_WIRE_MAX_DEFAULT;
	return max / 2 < FWD_BYTES ? max / 2 : FWD_BYTES;
}

/* Queue the batch for every peer: envelope and body are encoded now and
 * kept, so every attempt sends the same bytes (same id, seq, sent_at). */
static int enqueue_all(hl_exchange_t *x, struct fwd *f, int64_t now)
{
	static const char pre[] = "{\"records\":[", post[] = "]}";
	if (f->n == 0)
		return 0;
	size_t bl = sizeof pre - 1 + f->len + sizeof post - 1;
	char *body = malloc(bl + 1);
	if (body == NULL)
		return HL_ENOMEM;
	memcpy(body, pre, sizeof pre - 1);
	memcpy(body + sizeof pre - 1, f->buf, f->len);
	memcpy(body + sizeof pre - 1 + f->len, post, sizeof post);
	int rc = 0;
	for (size_t i = 0; i < x->n_peers && rc == 0; i++) {
		struct xpeer *p = &x->peers[i];
		struct hl_wire_envelope e;
		struct hl_wire_error we;
		char *env = NULL;
		size_t el = 0;
		rc = hl_wire_envelope_init(&e, HL_WIRE_T_SIGHTINGS, x->name, p->name, p->seq, now);
		if (rc == 0)
			rc = hl_wire_encode_envelope(&e, &env, &el, &we);
		if (rc == 0)
			rc = hl_store_outbox_enqueue(x->o.store, p->name, "sightings",
			                             HL_PRIO_SIGHTING, e.id, env, body, now);
		if (rc == 0)
			p->seq++;
		free(env);
	}
	free(body);
	f->len = f->n = 0;
	return rc;
}

static int fwd_add(hl_exchange_t *x, struct fwd *f, const char *line, int64_t now)
{
	size_t len = strlen(line);
	if (f->n > 0 && (f->n >= HL_WIRE_BATCH_MAX || f->len + 1 + len > fwd_bytes(x))) {
		int rc = enqueue_all(x, f, now);
		if (rc != 0)
			return rc;
	}
	if (f->len + 1 + len > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		while (cap < f->len + 1 + len)
			cap *= 2;
		char *nb = realloc(f->buf, cap);
		if (nb == NULL)
			return HL_ENOMEM;
		f->buf = nb;
		f->cap = cap;
	}
	if (f->n > 0)
		f->buf[f->len++] = ',';
	memcpy(f->buf + f->len, line, len);
	f->len += len;
	f->n++;
	return 0;
}

/* Store one record from a sensor; a new one joins the batch for the peers. */
static int local_record(hl_exchange_t *x, json_t *rec, const char *line, struct fwd *f, int64_t now)
{
	/* line, the record's text, is stored, hashed into the id and forwarded. */
	struct hl_store_sighting sg = {.origin = "local", .received_at = now, .record = line};
	char sid[HL_STORE_HASH_HEX];
	bool added = false;
	int rc = hl_store_sighting_fields_canon(rec, line, &sg, sid);
	if (rc == 0)
		rc = hl_store_sighting_add(x->o.store, &sg, &added);
	if (rc == 0 && added) {
		x->c.sightings_local++;
		rc = fwd_add(x, f, line, now);
	} else if (rc == 0) {
		x->c.sightings_known++;
	}
	return rc;
}

static int peer_record(hl_exchange_t *x, const struct sender *s, json_t *rec, const char *line,
                       int64_t now)
{
	char origin[ORIGIN_MAX];
	snprintf(origin, sizeof origin, "peer:%s", s->peer->name);
	struct hl_store_sighting sg = {.origin = origin, .received_at = now, .record = line};
	char sid[HL_STORE_HASH_HEX];
	bool added = false;
	int rc = hl_store_sighting_fields_canon(rec, line, &sg, sid);
	if (rc == 0)
		rc = hl_store_sighting_add(x->o.store, &sg, &added);
	if (rc == 0 && added)
		x->c.sightings_peer++;
	else if (rc == 0)
		x->c.sightings_known++;
	return rc;
}

/* A sighting or a batch of them: once per message id. */
static int on_sightings(hl_exchange_t *x, const struct sender *s, const struct hl_tp_msg *m,
                        const struct hl_wire_envelope *e, json_t *body, int64_t now,
                        struct reply *r)
{
	bool is_new = false;
	/* A resend repeats the envelope, sent_at included. */
	int rc = hl_store_inbox_record(x->o.store, s->inbox_key, e->id, e->sent_at,
	                               hl_wire_type_name(e->type), now, &is_new);
	if (rc != 0)
		return rc;
	if (!is_new) {
		x->c.duplicates++;
		make_ack(x, s, e->id, now, r);
		return 0;
	}
	json_t *one = json_object_get(body, "record");
	json_t *many = json_object_get(body, "records");
	size_t n = one != NULL ? 1 : json_array_size(many);
	struct fwd f = {0};
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *rec = one != NULL ? one : json_array_get(many, i);
		const char *line = hl_wire_record_text(&x->texts, i);
		if (line == NULL)
			rc = HL_EINVAL; /* decode gives every record its text */
		else if (s->sensor)
			rc = local_record(x, rec, line, &f, now);
		else
			rc = peer_record(x, s, rec, line, now);
	}
	if (rc == 0)
		rc = enqueue_all(x, &f, now);
	free(f.buf);
	if (rc == 0) {
		/* One row per applied message, with the hash of its body as
		 * received: a sensor's is "local", a peer's "received". */
		const uint8_t *bd = m->frames[1].data;
		struct hl_audit_entry a = {.at = now,
		                           .direction =
		                                   s->sensor ? HL_AUDIT_LOCAL : HL_AUDIT_RECEIVED,
		                           .peer = s->sensor ? s->inbox_key : s->peer->name,
		                           .msg_id = e->id,
		                           .type = hl_wire_type_name(e->type),
		                           .body = bd,
		                           .body_len = m->frames[1].len};
		rc = hl_store_audit_append(x->o.store, &a, NULL);
	}
	if (rc == 0)
		make_ack(x, s, e->id, now, r);
	return rc;
}

/* Find who m is from, and check that the envelope agrees. false: refused. */
static bool identify(hl_exchange_t *x, const struct hl_tp_msg *m, const struct hl_wire_envelope *e,
                     struct sender *s, int64_t now, struct reply *r)
{
	memset(s, 0, sizeof *s);
	if (m->auth == HL_TP_AUTH_LOCAL) {
		/* A local socket's access is its file mode; the sensor names itself. */
		s->sensor = true;
		snprintf(s->inbox_key, sizeof s->inbox_key, "sensor:%s", e->from);
		snprintf(s->reply_to, sizeof s->reply_to, "%s", e->from);
		return true;
	}
	if (is_sensor(x, m->peer)) {
		s->sensor = true;
		snprintf(s->inbox_key, sizeof s->inbox_key, "sensor:%s", m->peer);
	} else if ((s->peer = hl_x_peer(x, m->peer)) != NULL) {
		snprintf(s->inbox_key, sizeof s->inbox_key, "%s", m->peer);
	} else {
		x->c.unknown_sender++;
		XLOG(x, HL_LOG_WARNING, "exchange: message from %s, neither peer nor sensor",
		     m->peer);
		return false;
	}
	snprintf(s->reply_to, sizeof s->reply_to, "%s", m->peer);
	if (strcmp(e->from, m->peer) != 0) {
		x->c.from_mismatch++;
		char why[256];
		snprintf(why, sizeof why, "from \"%s\" is not the authenticated peer \"%s\"",
		         e->from, m->peer);
		refuse(x, m, s, e, HL_WIRE_E_UNEXPECTED, why, now, r);
		return false;
	}
	if (strcmp(e->to, x->name) != 0) {
		x->c.to_mismatch++;
		char why[256];
		snprintf(why, sizeof why, "to \"%s\" is not this sharer (\"%s\")", e->to, x->name);
		refuse(x, m, s, e, HL_WIRE_E_UNEXPECTED, why, now, r);
		return false;
	}
	if (s->peer != NULL) {
		s->peer->last_received = now;
		s->peer->received++;
	}
	return true;
}

static int process(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *m, int64_t now,
                   struct reply *r)
{
	struct hl_wire_envelope e;
	struct hl_wire_error we;
	json_t *body = NULL;
	static const uint8_t empty[1];
	const void *env_p = m->nframes > 0 ? m->frames[0].data : empty;
	size_t env_len = m->nframes > 0 ? m->frames[0].len : 0;
	const void *body_p = m->nframes > 1 ? m->frames[1].data : empty;
	size_t body_len = m->nframes > 1 ? m->frames[1].len : 0;
	int rc = hl_wire_decode_texts(env_p, env_len, body_p, body_len, x->o.max_msg_bytes, &e,
	                              &body, &x->texts, &we);
	if (rc == HL_ENOMEM)
		return rc;
	if (rc != 0 && we.code == HL_WIRE_E_OVERSIZE && e.id[0] == '\0' &&
	    env_len <= HL_WIRE_ENV_MAX) {
		/* The body was never parsed; the envelope alone may still name
		 * the message, so that the NACK stops the sender's resends. */
		struct hl_wire_envelope e2;
		struct hl_wire_error we2;
		json_t *b2 = NULL;
		hl_wire_decode(env_p, env_len, "{}", 2, 0, &e2, &b2, &we2);
		json_decref(b2);
		memcpy(e.id, e2.id, sizeof e.id);
		memcpy(e.from, e2.from, sizeof e.from);
	}
	if (rc == 0 && m->nframes != 2) {
		json_decref(body);
		body = NULL;
		rc = HL_EINVAL;
		we.code = HL_WIRE_E_SCHEMA;
		snprintf(we.msg, sizeof we.msg, "%zu frames, expected 2 (envelope, body)",
		         m->nframes);
	}
	if (rc != 0) {
		struct sender s0, *sp = NULL;
		/* NACK only a peer we can name, under its authenticated name. */
		if (m->auth != HL_TP_AUTH_LOCAL &&
		    (hl_x_peer(x, m->peer) != NULL || is_sensor(x, m->peer))) {
			memset(&s0, 0, sizeof s0);
			s0.peer = hl_x_peer(x, m->peer);
			snprintf(s0.reply_to, sizeof s0.reply_to, "%s", m->peer);
			sp = &s0;
		}
		refuse(x, m, sp, &e, we.code, we.msg, now, r);
		return 0;
	}
	x->c.received++;
	struct sender s;
	if (!identify(x, m, &e, &s, now, r)) {
		json_decref(body);
		return 0;
	}
	if (sock == x->listener && s.peer != NULL)
		hl_x_learn_route(x, s.peer, m);
	switch (e.type) {
	case HL_WIRE_T_SIGHTING:
	case HL_WIRE_T_SIGHTINGS:
		rc = on_sightings(x, &s, m, &e, body, now, r);
		break;
	case HL_WIRE_T_ACK:
		if (s.peer != NULL)
			rc = hl_x_on_ack(x, s.peer, body, now);
		else
			hl_x_ind_sensor_reply(x, s.reply_to, e.type, body);
		break;
	case HL_WIRE_T_NACK:
		if (s.peer != NULL)
			rc = hl_x_on_nack(x, s.peer, body, now);
		else
			hl_x_ind_sensor_reply(x, s.reply_to, e.type, body);
		break;
	case HL_WIRE_T_HELLO:
		/* Acknowledged like any message; nothing to store. */
		x->c.hellos_received++;
		if (s.peer != NULL) {
			const char *v = json_string_value(json_object_get(body, "version"));
			snprintf(s.peer->version, sizeof s.peer->version, "%s", v ? v : "");
			XLOG(x, HL_LOG_INFO, "exchange: hello from %s (%s)", s.peer->name,
			     s.peer->version);
			rc = hl_x_reconnected(x, s.peer, now);
		} else {
			rc = hl_x_ind_sensor_hello(x, sock, m, s.reply_to, body);
		}
		make_ack(x, &s, e.id, now, r);
		break;
	case HL_WIRE_T_HEARTBEAT:
		x->c.heartbeats_received++;
		break;
	case HL_WIRE_T_INDICATORS:
	case HL_WIRE_T_INDICATOR_RETRACT:
		if (s.peer != NULL) {
			struct hl_x_verdict v;
			rc = hl_x_on_peer_indicators(x, s.peer->name, m, &e, body, now, &v);
			if (rc == 0 && v.ok)
				make_ack(x, &s, e.id, now, r);
			else if (rc == 0)
				refuse(x, m, &s, &e, v.code, v.why, now, r);
			break;
		}
		/* fall through */
	default:
		refuse(x, m, &s, &e, HL_WIRE_E_UNEXPECTED,
		       s.sensor ? "a sensor may send only sightings, hello and replies"
		                : "this sharer does not handle this type yet",
		       now, r);
		break;
	}
	json_decref(body);
	return rc;
}

static bool same_route(const struct hl_tp_msg *a, const struct hl_tp_msg *b)
{
	return a->route_len == b->route_len && memcmp(a->route, b->route, a->route_len) == 0 &&
	       strcmp(a->peer, b->peer) == 0;
}

/* One ACK for r[i] and every later pending ACK on the same connection. */
static void encode_acks(hl_exchange_t *x, const struct hl_tp_msg *msgs, struct reply *r, size_t i,
                        size_t n, int64_t now, size_t *count)
{
	const char *ids[HL_WIRE_BATCH_MAX];
	size_t k = 0;
	for (size_t j = i; j < n && k < HL_WIRE_BATCH_MAX; j++) {
		if (!r[j].ack || r[j].env != NULL || !same_route(&msgs[i], &msgs[j]) ||
		    strcmp(r[i].to, r[j].to) != 0)
			continue;
		ids[k++] = r[j].ack_id;
		if (j != i)
			r[j].ack = false; /* carried by r[i] */
	}
	*count = k;
	json_t *b = hl_wire_body_ack(ids, k);
	if (b == NULL)
		return;
	uint64_t seq = r[i].peer != NULL ? r[i].peer->seq++ : x->sensor_seq++;
	hl_x_encode(x, HL_WIRE_T_ACK, r[i].to, NULL, seq, b, now, &r[i].env, &r[i].env_len,
	            &r[i].body, &r[i].body_len);
	json_decref(b);
}

static void send_replies(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *msgs,
                         struct reply *r, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		size_t ids = 0;
		if (r[i].ack)
			encode_acks(x, msgs, r, i, n, now, &ids);
		if (r[i].env == NULL)
			continue;
		struct hl_frame f[2] = {{r[i].env, r[i].env_len}, {r[i].body, r[i].body_len}};
		int rc = hl_tp_reply(sock, &msgs[i], f, 2);
		if (rc == 0) {
			if (r[i].ack)
				x->c.acks_sent += ids;
			else
				x->c.nacks_sent++;
		} else {
			/* The sender resends and gets the ACK then. */
			XLOG(x, HL_LOG_DEBUG, "exchange: reply to %s not sent: %s", msgs[i].peer,
			     hl_strerror(rc));
		}
		reply_free(&r[i]);
	}
}

/* A message the store would not take even alone: "internal" (resend later)
 * when the cause may pass, else "field" (it would fail again). */
static void nack_failed(hl_exchange_t *x, const struct hl_tp_msg *m, int err, int64_t now,
                        struct reply *r)
{
	struct hl_wire_envelope e;
	struct hl_wire_error we;
	json_t *body = NULL;
	if (m->nframes != 2 ||
	    hl_wire_decode(m->frames[0].data, m->frames[0].len, m->frames[1].data, m->frames[1].len,
	                   x->o.max_msg_bytes, &e, &body, &we) != 0)
		return;
	json_decref(body);
	bool transient = err == HL_EIO || err == HL_EAGAIN || err == HL_ENOMEM;
	char why[HL_WIRE_REASON_MAX];
	snprintf(why, sizeof why, "not stored: %s", hl_strerror(err));
	struct sender s0 = {.peer = hl_x_peer(x, m->peer)};
	const char *to = m->auth == HL_TP_AUTH_LOCAL ? e.from : m->peer;
	snprintf(s0.reply_to, sizeof s0.reply_to, "%s", to);
	make_nack(x, &s0, to, e.id, transient ? HL_WIRE_E_INTERNAL : HL_WIRE_E_FIELD, why, now, r);
}

static int run_batch(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *msgs, size_t n,
                     int64_t now, struct reply *r)
{
	int rc = hl_store_begin(x->o.store);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = process(x, sock, &msgs[i], now, &r[i]);
	if (rc == 0)
		rc = hl_store_commit(x->o.store);
	if (rc != 0) {
		hl_store_rollback(x->o.store);
		for (size_t i = 0; i < n; i++)
			reply_free(&r[i]);
	}
	return rc;
}

int hl_exchange_handle(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *msgs, size_t n,
                       int64_t now)
{
	if (x == NULL || sock == NULL || (msgs == NULL && n > 0))
		return HL_EINVAL;
	if (n == 0)
		return 0;
	struct reply *r = calloc(n, sizeof *r);
	if (r == NULL)
		return HL_ENOMEM;
	x->c.batches++;
	struct hl_exchange_counters saved = x->c;
	int rc = run_batch(x, sock, msgs, n, now, r);
	if (rc != 0 && n > 1) {
		/* Counters of a rolled-back batch would count twice. */
		x->c = saved;
		x->c.store_errors++;
		XLOG(x, HL_LOG_WARNING, "exchange: batch of %zu failed (%s: %s); one by one", n,
		     hl_strerror(rc), hl_store_errmsg(x->o.store));
		int first = 0;
		for (size_t i = 0; i < n; i++) {
			int r1 = run_batch(x, sock, &msgs[i], 1, now, &r[i]);
			if (r1 != 0) {
				x->c.store_errors++;
				nack_failed(x, &msgs[i], r1, now, &r[i]);
				if (first == 0)
					first = r1;
			}
		}
		rc = first;
	} else if (rc != 0) {
		x->c.store_errors++;
		XLOG(x, HL_LOG_ERROR, "exchange: message from %s not stored (%s: %s)", msgs[0].peer,
		     hl_strerror(rc), hl_store_errmsg(x->o.store));
	}
	send_replies(x, sock, msgs, r, n, now);
	free(r);
	return rc;
}

void hl_exchange_counters(const hl_exchange_t *x, struct hl_exchange_counters *c)
{
	*c = x->c;
}

size_t hl_exchange_peer_count(const hl_exchange_t *x)
{
	return x->n_peers;
}

int hl_exchange_peer_info(const hl_exchange_t *x, size_t i, struct hl_exchange_peer_info *pi)
{
	if (i >= x->n_peers)
		return HL_ENOTFOUND;
	const struct xpeer *p = &x->peers[i];
	memset(pi, 0, sizeof *pi);
	pi->name = p->name;
	pi->state = hl_x_peer_state(x, p);
	pi->up_since = p->up ? p->up_since : 0;
	pi->last_received = p->last_received;
	pi->last_sent = p->last_sent;
	snprintf(pi->version, sizeof pi->version, "%s", p->version);
	pi->received = p->received;
	pi->sent = p->sent;
	pi->resent = p->resent;
	pi->acked = p->acked;
	pi->nacked = p->nacked;
	pi->inflight = p->inflight;
	return 0;
}
