/* \summary: exchange, outbound: outbox pump with backoff, hello, heartbeats, ACK/NACK in
 *
 * A message keeps its outbox id on every attempt, so the receiver's inbox
 * makes a resend harmless. Attempt k (0-based) is retried after
 * retry_base * 2^k, capped at retry_max; a connection coming up makes every
 * pending message due at once. At most `window` messages per peer are in
 * flight (sent, not yet ACKed), so a burst does not outrun the receiver and
 * turn into resends; the window reopens when ACKs come, or when none came
 * for retry_base (the peer lost them: the backoff then decides).
 */
#include "exchange_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

/* How soon to look again at a peer whose queue (SNDHWM) was full. */
#define BLOCKED_RETRY_US 10000

static int64_t backoff(const hl_exchange_t *x, int64_t attempts)
{
	int64_t d = x->o.retry_base_us;
	for (int64_t i = 0; i < attempts && d < x->o.retry_max_us; i++)
		d *= 2;
	return d < x->o.retry_max_us ? d : x->o.retry_max_us;
}

static void done_inflight(struct xpeer *p, int64_t now)
{
	if (p->inflight > 0)
		p->inflight--;
	p->last_ack = now;
}

int hl_x_on_ack(hl_exchange_t *x, struct xpeer *p, const json_t *body, int64_t now)
{
	const json_t *ids = json_object_get(body, "ids");
	for (size_t i = 0; i < json_array_size(ids); i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		x->c.acks_received++;
		if (strcmp(id, p->hello_id) == 0)
			continue;
		int rc = hl_store_outbox_ack(x->o.store, p->name, id, now);
		if (rc == HL_ENOTFOUND) {
			x->c.acks_unknown++;
			continue;
		}
		if (rc != 0)
			return rc;
		p->acked++;
		done_inflight(p, now);
	}
	return 0;
}

int hl_x_on_nack(hl_exchange_t *x, struct xpeer *p, const json_t *body, int64_t now)
{
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *code_s = json_string_value(json_object_get(body, "reason_code"));
	const char *reason = json_string_value(json_object_get(body, "reason"));
	enum hl_wire_err code = hl_wire_err_parse(code_s ? code_s : "");
	x->c.nacks_received++;
	if (code == HL_WIRE_E_INTERNAL) {
		XLOG(x, HL_LOG_WARNING, "exchange: %s could not take %s now (%s); will resend",
		     p->name, id, reason ? reason : "");
		return 0;
	}
	int rc = hl_store_outbox_ack(x->o.store, p->name, id, now);
	if (rc == HL_ENOTFOUND)
		return 0; /* not ours (e.g. a NACK of a reply): logged by nobody */
	if (rc != 0)
		return rc;
	x->c.undeliverable++;
	p->nacked++;
	done_inflight(p, now);
	XLOG(x, HL_LOG_ERROR, "exchange: %s refused message %s: %s: %s; not resent", p->name, id,
	     code_s ? code_s : "?", reason ? reason : "");
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	struct hl_audit_entry a = {.at = now,
	                           .direction = HL_AUDIT_RECEIVED,
	                           .peer = p->name,
	                           .msg_id = id,
	                           .type = "nack",
	                           .body = text,
	                           .body_len = text ? strlen(text) : 0};
	rc = hl_store_audit_append(x->o.store, &a, NULL);
	free(text);
	return rc;
}

enum hl_tp_state hl_x_peer_state(const hl_exchange_t *x, const struct xpeer *p)
{
	if (p->dealer != NULL)
		return hl_tp_state(p->dealer);
	return x->listener != NULL && p->route_ok ? HL_TP_UP : HL_TP_DOWN;
}

void hl_x_learn_route(hl_exchange_t *x, struct xpeer *p, const struct hl_tp_msg *m)
{
	if (m->route_mismatch) {
		/* Someone else uses a routing id: if it is a peer's name, that
		 * route may now lead to the wrong party (ROUTER_HANDOVER). */
		for (size_t i = 0; i < x->n_peers; i++) {
			struct xpeer *q = &x->peers[i];
			if (q->route_ok && q->route_len == m->route_len &&
			    memcmp(q->route, m->route, m->route_len) == 0) {
				q->route_ok = false;
				XLOG(x, HL_LOG_WARNING,
				     "exchange: %s uses %s's routing id; not sending to %s until "
				     "it speaks again",
				     m->peer, q->name, q->name);
			}
		}
		return;
	}
	if (p == NULL || p->dealer != NULL || m->route_len > sizeof p->route)
		return;
	memcpy(p->route, m->route, m->route_len);
	p->route_len = m->route_len;
	p->route_ok = true;
}

static int peer_send(hl_exchange_t *x, struct xpeer *p, const struct hl_frame *f, size_t n)
{
	if (p->dealer != NULL)
		return hl_tp_send(p->dealer, f, n);
	if (x->listener == NULL || !p->route_ok)
		return HL_ENOTFOUND;
	int rc = hl_tp_send_route(x->listener, p->route, p->route_len, f, n);
	if (rc == HL_ENOTFOUND)
		p->route_ok = false; /* that connection is gone */
	return rc;
}

int hl_x_reconnected(hl_exchange_t *x, struct xpeer *p, int64_t now)
{
	p->inflight = 0;
	p->last_ack = now;
	return hl_store_outbox_reschedule(x->o.store, p->name, now, NULL);
}

/* Send a message that is not in the outbox (hello, heartbeat). */
static int send_direct(hl_exchange_t *x, struct xpeer *p, enum hl_wire_type type, json_t *body,
                       int64_t now)
{
	if (body == NULL)
		return HL_ENOMEM;
	char *env = NULL, *b = NULL;
	size_t el = 0, bl = 0;
	char id[HL_WIRE_ID_LEN + 1];
	hl_wire_new_id(id);
	int rc = hl_x_encode(x, type, p->name, id, p->seq++, body, now, &env, &el, &b, &bl);
	json_decref(body);
	if (rc == 0 && type == HL_WIRE_T_HELLO)
		memcpy(p->hello_id, id, sizeof id);
	if (rc == 0) {
		struct hl_frame f[2] = {{env, el}, {b, bl}};
		rc = peer_send(x, p, f, 2);
		if (rc == 0)
			p->last_sent = now;
	}
	free(env);
	free(b);
	return rc;
}

struct pump {
	hl_exchange_t *x;
	struct xpeer *p;
	int64_t now;
	bool blocked;
	int err;
};

/* Delivery ends here: recorded as acknowledged so that it is not retried. */
static int give_up(struct pump *pu, const struct hl_outbox_msg *m, const char *why)
{
	pu->x->c.undeliverable++;
	XLOG(pu->x, HL_LOG_ERROR, "exchange: message %s to %s cannot be sent (%s); dropped",
	     m->msg_id, m->peer, why);
	return hl_store_outbox_ack(pu->x->o.store, m->peer, m->msg_id, pu->now);
}

/* The frames of an outbox row: as queued, or (a row without a kept
 * envelope) encoded now under the row's id. */
static int frames_of(struct pump *pu, const struct hl_outbox_msg *m, char **env, size_t *el,
                     char **b, size_t *bl)
{
	*env = *b = NULL;
	if (m->envelope != NULL) {
		*env = strdup(m->envelope);
		*b = strdup(m->body);
		*el = strlen(m->envelope);
		*bl = strlen(m->body);
		return *env != NULL && *b != NULL ? 0 : HL_ENOMEM;
	}
	enum hl_wire_type type;
	json_t *body = json_loads(m->body, JSON_REJECT_DUPLICATES, NULL);
	int rc = HL_EINVAL;
	if (body != NULL && hl_wire_type_parse(m->type, &type) == 0)
		rc = hl_x_encode(pu->x, type, pu->p->name, m->msg_id, pu->p->seq++, body, pu->now,
		                 env, el, b, bl);
	json_decref(body);
	return rc;
}

static int pump_one(void *ud, const struct hl_outbox_msg *m)
{
	struct pump *pu = ud;
	hl_exchange_t *x = pu->x;
	struct xpeer *p = pu->p;
	if (p->inflight >= x->o.window)
		return 1;
	char *env = NULL, *b = NULL;
	size_t el = 0, bl = 0;
	int rc = frames_of(pu, m, &env, &el, &b, &bl);
	if (rc == HL_ENOMEM) {
		free(env);
		free(b);
		return rc;
	}
	if (rc != 0)
		return give_up(pu, m, "outbox row is not a valid message");
	struct hl_frame f[2] = {{env, el}, {b, bl}};
	rc = peer_send(x, p, f, 2);
	if (rc == HL_ELIMIT || rc == HL_EINVAL) {
		free(env);
		free(b);
		return give_up(pu, m, hl_strerror(rc));
	}
	if (rc != 0) {
		free(env);
		free(b);
		x->c.send_again++;
		pu->blocked = true;
		return 1;
	}
	p->last_sent = pu->now;
	p->inflight++;
	rc = hl_store_outbox_mark_sent(x->o.store, m->msg_id, pu->now,
	                               pu->now + backoff(x, m->attempts));
	if (rc == 0 && m->attempts == 0) {
		x->c.sent++;
		p->sent++;
		struct hl_audit_entry a = {.at = pu->now,
		                           .direction = HL_AUDIT_SENT,
		                           .peer = p->name,
		                           .msg_id = m->msg_id,
		                           .type = m->type,
		                           .body = b,
		                           .body_len = bl};
		rc = hl_store_audit_append(x->o.store, &a, NULL);
	} else if (rc == 0) {
		x->c.resent++;
		p->resent++;
	}
	free(env);
	free(b);
	return rc;
}

static void follow_state(hl_exchange_t *x, struct xpeer *p, int64_t now)
{
	enum hl_tp_state st = hl_x_peer_state(x, p);
	bool up = st == HL_TP_UP;
	if (up == p->up)
		return;
	p->up = up;
	p->inflight = 0;
	p->blocked = false;
	if (!up) {
		XLOG(x, HL_LOG_INFO, "exchange: %s is down (%s)", p->name, hl_tp_state_name(st));
		return;
	}
	p->up_since = now;
	p->last_ack = now;
	size_t n = 0;
	int rc = hl_store_outbox_reschedule(x->o.store, p->name, now, NULL);
	if (rc == 0)
		rc = hl_store_outbox_depth(x->o.store, p->name, &n);
	if (rc != 0)
		x->c.store_errors++;
	XLOG(x, HL_LOG_INFO, "exchange: %s is up; %zu message(s) pending", p->name, n);
	if (send_direct(x, p, HL_WIRE_T_HELLO, hl_wire_body_hello(x->name, x->version, NULL),
	                now) == 0)
		x->c.hellos_sent++;
}

static int pump_peer(hl_exchange_t *x, struct xpeer *p, int64_t now)
{
	follow_state(x, p, now);
	if (!p->up)
		return 0;
	p->blocked = false;
	if (p->inflight >= x->o.window && now - p->last_ack >= x->o.retry_base_us)
		p->inflight = 0; /* ACKs lost: let the backoff pace the resends */
	struct pump pu = {.x = x, .p = p, .now = now};
	int rc = hl_store_begin(x->o.store);
	if (rc == 0)
		rc = hl_store_outbox_next_due(x->o.store, p->name, now, x->o.pump_batch, pump_one,
		                              &pu, NULL);
	if (rc == 0)
		rc = hl_store_commit(x->o.store);
	if (rc != 0) {
		hl_store_rollback(x->o.store);
		x->c.store_errors++;
		XLOG(x, HL_LOG_ERROR, "exchange: outbox for %s: %s: %s", p->name, hl_strerror(rc),
		     hl_store_errmsg(x->o.store));
		return rc;
	}
	if (now - p->last_sent >= x->o.heartbeat_us &&
	    send_direct(x, p, HL_WIRE_T_HEARTBEAT, hl_wire_body_heartbeat(), now) == 0)
		x->c.heartbeats_sent++;
	return 0;
}

#define HOUSEKEEPING_US (60 * 1000000LL)

/* Acked outbox rows are only history (the audit log keeps what was sent);
 * a small outbox keeps its index in the page cache. Inbox ids must outlive
 * any resend of their message. */
static int housekeeping(hl_exchange_t *x, int64_t now)
{
	if (now - x->last_housekeeping < HOUSEKEEPING_US)
		return 0;
	x->last_housekeeping = now;
	size_t po = 0, pi = 0;
	int rc = hl_store_outbox_purge(x->o.store, now - HOUSEKEEPING_US, &po);
	if (rc == 0)
		rc = hl_store_inbox_purge(x->o.store, now - x->o.inbox_keep_us, &pi);
	x->c.purged_outbox += po;
	x->c.purged_inbox += pi;
	if (rc != 0)
		x->c.store_errors++;
	return rc;
}

int hl_exchange_pump(hl_exchange_t *x, int64_t now)
{
	int first = housekeeping(x, now);
	for (size_t i = 0; i < x->n_peers; i++) {
		if (x->peers[i].dealer == NULL && x->listener == NULL)
			continue;
		int rc = pump_peer(x, &x->peers[i], now);
		if (rc != 0 && first == 0)
			first = rc;
	}
	return first;
}

int64_t hl_exchange_next_wakeup(hl_exchange_t *x, int64_t now)
{
	int64_t at = now + x->o.heartbeat_us;
	for (size_t i = 0; i < x->n_peers; i++) {
		struct xpeer *p = &x->peers[i];
		if (p->dealer == NULL && x->listener == NULL)
			continue;
		if (hl_x_peer_state(x, p) == HL_TP_UP) {
			if (!p->up)
				return now; /* came up: hello and reschedule */
		} else {
			if (p->up)
				return now;
			continue;
		}
		int64_t t = p->last_sent + x->o.heartbeat_us;
		if (t < at)
			at = t;
		if (p->blocked) {
			t = now + BLOCKED_RETRY_US;
		} else if (p->inflight >= x->o.window) {
			t = p->last_ack + x->o.retry_base_us;
		} else if (hl_store_outbox_next_wakeup(x->o.store, p->name, &t) != 0) {
			continue;
		}
		if (t < at)
			at = t;
	}
	return at < now ? now : at;
}
