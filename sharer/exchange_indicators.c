/* \summary: exchange, indicators: the local set pushed to sensors; peers' sets stored
 *
 * To sensors: when the local set's version changes (hotline-ctl indicators
 * add/retract bump it in the store), and when a sensor says hello, that
 * sensor is sent the whole active set: an "indicators" message with
 * full:true, set_version and set_hash, followed by full:false parts when the
 * set is larger than one message may be (HL_WIRE_INDICATORS_MAX indicators
 * or the message size cap), every part naming the final set_hash. A sensor
 * ACKs each part; a push not ACKed completely is sent again, whole, with
 * the exchange's backoff. A hello naming the set_hash we would send gets
 * nothing. Sensors are addressed by the route their hello came on.
 *
 * From peers: an "indicators" or "indicator_retract" message is read
 * through the native reader (every indicator, before anything is stored: a
 * bad one refuses the whole message, NACK "field"), then, once per message
 * id (inbox), stored in peer_indicators under the peer's name with the
 * audit row, and ACKed. A full set first retracts what the peer had.
 * Whether a peer's indicators reach our sensors is the agreement's policy
 * (not decided here): they are stored only.
 */
#include "exchange_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/iset.h"
#include "hotline/parse.h"

/* How often the store's latest set version is looked at without a poke. */
#define CHECK_EVERY_US (5 * 1000000LL)
/* Room left in a message for the envelope and the body's own keys. */
#define MSG_SLACK (HL_WIRE_ENV_MAX + 512)

struct xsensor {
	char name[HL_WIRE_NAME_MAX + 1];
	hl_tp_sock_t *sock;
	uint8_t route[HL_TP_ROUTE_MAX];
	size_t route_len;
	char holds[HL_WIRE_HASH_HEX + 1]; /* set_hash from its hello; "" */
	bool due;                         /* push at the next pump */
	uint64_t version;                 /* of the push in flight or done; 0 none */
	char (*pending)[HL_WIRE_ID_LEN + 1];
	size_t n_pending;
	bool retry; /* a part was not sent or was NACKed "internal" */
	unsigned attempts;
	int64_t retry_at;
};

struct hl_x_ind {
	struct xsensor *s;
	size_t n;
	uint64_t version;
	char hash[HL_WIRE_HASH_HEX + 1];
	bool check;
	int64_t last_check;
	struct hl_exchange_ind_counters c;
};

static struct hl_x_ind *state(hl_exchange_t *x)
{
	if (x->ind == NULL) {
		x->ind = calloc(1, sizeof *x->ind);
		if (x->ind != NULL)
			x->ind->check = true;
	}
	return x->ind;
}

void hl_x_ind_free(hl_exchange_t *x)
{
	if (x->ind == NULL)
		return;
	for (size_t i = 0; i < x->ind->n; i++)
		free(x->ind->s[i].pending);
	free(x->ind->s);
	free(x->ind);
	x->ind = NULL;
}

void hl_exchange_indicators_changed(hl_exchange_t *x)
{
	struct hl_x_ind *st = state(x);
	if (st != NULL)
		st->check = true;
}

void hl_exchange_ind_counters(hl_exchange_t *x, struct hl_exchange_ind_counters *c)
{
	struct hl_x_ind *st = state(x);
	if (st != NULL)
		*c = st->c;
	else
		memset(c, 0, sizeof *c);
}

/* ---- sensors ------------------------------------------------------------ */

static struct xsensor *sensor(struct hl_x_ind *st, const char *name, bool add)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->s[i].name, name) == 0)
			return &st->s[i];
	if (!add)
		return NULL;
	struct xsensor *ns = realloc(st->s, (st->n + 1) * sizeof *ns);
	if (ns == NULL)
		return NULL;
	st->s = ns;
	struct xsensor *s = &ns[st->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	return s;
}

int hl_x_ind_sensor_hello(hl_exchange_t *x, hl_tp_sock_t *sock, const struct hl_tp_msg *m,
                          const char *name, const json_t *body)
{
	struct hl_x_ind *st = state(x);
	struct xsensor *s = st != NULL ? sensor(st, name, true) : NULL;
	if (s == NULL)
		return HL_ENOMEM;
	if (m->route_len == 0 || m->route_len > sizeof s->route)
		return 0; /* nothing to address it by */
	s->sock = sock;
	memcpy(s->route, m->route, m->route_len);
	s->route_len = m->route_len;
	const char *h = json_string_value(json_object_get(body, "set_hash"));
	snprintf(s->holds, sizeof s->holds, "%s", h != NULL ? h : "");
	/* A new connection: what was in flight may be lost. */
	s->due = true;
	s->n_pending = 0;
	s->retry = false;
	s->attempts = 0;
	st->c.sensor_hellos++;
	return 0;
}

static bool forget_id(struct xsensor *s, const char *id)
{
	for (size_t i = 0; id != NULL && i < s->n_pending; i++) {
		if (strcmp(s->pending[i], id) == 0) {
			memmove(&s->pending[i], &s->pending[i + 1],
			        (s->n_pending - i - 1) * sizeof s->pending[0]);
			s->n_pending--;
			return true;
		}
	}
	return false;
}

void hl_x_ind_sensor_reply(hl_exchange_t *x, const char *name, enum hl_wire_type type,
                           const json_t *body)
{
	struct hl_x_ind *st = state(x);
	struct xsensor *s = st != NULL ? sensor(st, name, false) : NULL;
	if (s == NULL)
		return;
	if (type == HL_WIRE_T_ACK) {
		const json_t *ids = json_object_get(body, "ids");
		for (size_t i = 0; i < json_array_size(ids); i++)
			if (forget_id(s, json_string_value(json_array_get(ids, i))))
				st->c.push_acked++;
		return;
	}
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *code = json_string_value(json_object_get(body, "reason_code"));
	const char *why = json_string_value(json_object_get(body, "reason"));
	if (!forget_id(s, id))
		return;
	st->c.push_nacked++;
	XLOG(x, HL_LOG_WARNING, "exchange: sensor %s refused indicator set %llu: %s: %s", s->name,
	     (unsigned long long)s->version, code ? code : "?", why ? why : "");
	if (hl_wire_err_parse(code ? code : "") != HL_WIRE_E_INTERNAL) {
		s->n_pending = 0; /* final: this version is not sent to it again */
		s->holds[0] = '\0';
	} else
		s->retry = true; /* sent again, whole, after the backoff */
}

/* Send one encoded part to s; its id joins s->pending. */
static int send_part(hl_exchange_t *x, struct xsensor *s, json_t *body, int64_t now)
{
	char(*np)[HL_WIRE_ID_LEN + 1] = realloc(s->pending, (s->n_pending + 1) * sizeof *np);
	if (np == NULL)
		return HL_ENOMEM;
	s->pending = np;
	char id[HL_WIRE_ID_LEN + 1];
	hl_wire_new_id(id);
	char *env = NULL, *b = NULL;
	size_t el = 0, bl = 0;
	int rc = hl_x_encode(x, HL_WIRE_T_INDICATORS, s->name, id, x->sensor_seq++, body, now, &env,
	                     &el, &b, &bl);
	if (rc == 0) {
		struct hl_frame f[2] = {{env, el}, {b, bl}};
		rc = hl_tp_send_route(s->sock, s->route, s->route_len, f, 2);
	}
	if (rc == 0)
		memcpy(np[s->n_pending++], id, sizeof id);
	free(env);
	free(b);
	return rc;
}

/* The whole set to s, in as many parts as it needs. */
static int push_set(hl_exchange_t *x, struct xsensor *s, const hl_iset_t *set, uint64_t version,
                    const char *hash, int64_t now)
{
	size_t cap = x->o.max_msg_bytes != 0 ? x->o.max_msg_bytes : HL_WIRE_MAX_DEFAULT;
	size_t budget = cap > 2 * MSG_SLACK ? cap - MSG_SLACK : MSG_SLACK;
	size_t n = hl_iset_count(set), i = 0, parts = 0;
	s->n_pending = 0;
	s->retry = false;
	int rc = 0;
	do {
		json_t *body = hl_wire_body_indicators(version, hash, parts == 0);
		if (body == NULL)
			return HL_ENOMEM;
		size_t used = 0, k = 0;
		while (i < n && rc == 0) {
			const struct hl_indicator *ind = hl_iset_at(set, i);
			char *line = hl_indicator_to_native(ind);
			size_t len = line != NULL ? strlen(line) + 1 : 0;
			free(line);
			if (len == 0) {
				rc = HL_ENOMEM;
				break;
			}
			if (k > 0 && (k >= HL_WIRE_INDICATORS_MAX || used + len > budget))
				break;
			rc = hl_wire_indicators_add(body, ind);
			used += len;
			k++;
			i++;
		}
		if (rc == 0)
			rc = send_part(x, s, body, now);
		json_decref(body);
		parts++;
	} while (rc == 0 && i < n);
	if (rc == 0) {
		x->ind->c.pushes++;
		x->ind->c.push_parts += parts;
		XLOG(x, HL_LOG_INFO,
		     "exchange: indicator set %llu (%zu, %s) to sensor %s in %zu part(s)",
		     (unsigned long long)version, n, hash, s->name, parts);
	}
	return rc;
}

/* The store's latest version; on a change every sensor is due. */
static int check_version(hl_exchange_t *x, struct hl_x_ind *st, int64_t now)
{
	st->check = false;
	st->last_check = now;
	struct hl_store_set_version v;
	int rc = hl_store_set_version_latest(x->o.store, &v);
	if (rc == HL_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.version == st->version && strcmp(v.hash, st->hash) == 0)
		return 0;
	st->version = v.version;
	snprintf(st->hash, sizeof st->hash, "%s", v.hash);
	for (size_t i = 0; i < st->n; i++) {
		st->s[i].due = true;
		st->s[i].attempts = 0;
	}
	return 0;
}

static int64_t backoff(const hl_exchange_t *x, unsigned attempts)
{
	int64_t d = x->o.retry_base_us;
	for (unsigned i = 0; i < attempts && d < x->o.retry_max_us; i++)
		d *= 2;
	return d < x->o.retry_max_us ? d : x->o.retry_max_us;
}

int hl_exchange_indicators_pump(hl_exchange_t *x, int64_t now)
{
	struct hl_x_ind *st = state(x);
	if (st == NULL)
		return HL_ENOMEM;
	int rc = 0;
	if (st->check || now - st->last_check >= CHECK_EVERY_US)
		rc = check_version(x, st, now);
	if (rc != 0 || st->version == 0)
		return rc;
	hl_iset_t *set = NULL;
	char hash[HL_STORE_HASH_HEX] = "";
	for (size_t i = 0; i < st->n && rc == 0; i++) {
		struct xsensor *s = &st->s[i];
		bool resend = !s->due && (s->n_pending > 0 || s->retry) && now >= s->retry_at;
		if ((!s->due && !resend) || s->sock == NULL)
			continue;
		if (s->due && strcmp(s->holds, st->hash) == 0) {
			s->due = false; /* it has this set already */
			s->version = st->version;
			continue;
		}
		if (set == NULL && (rc = hl_store_local_set(x->o.store, &set, hash)) != 0)
			break;
		if (strcmp(hash, st->hash) != 0)
			XLOG(x, HL_LOG_WARNING,
			     "exchange: set version %llu was recorded with hash %s, the set hashes "
			     "%s",
			     (unsigned long long)st->version, st->hash, hash);
		s->version = st->version;
		s->due = false;
		int r = push_set(x, s, set, st->version, hash, now);
		/* What it will hold: a later version with this same content
		 * (a retraction undone) needs no push. */
		snprintf(s->holds, sizeof s->holds, "%s", hash);
		if (r != 0) {
			st->c.push_failed++;
			XLOG(x, HL_LOG_DEBUG, "exchange: indicator set to sensor %s not sent: %s",
			     s->name, hl_strerror(r));
			if (r == HL_ENOMEM)
				rc = r;
			s->retry = true;
			if (r == HL_ENOTFOUND)
				s->sock = NULL; /* gone: its next hello brings a route */
		}
		if (resend)
			st->c.push_resent++;
		s->retry_at = now + backoff(x, s->attempts++);
	}
	hl_iset_destroy(&set);
	return rc;
}

/* ---- peers -------------------------------------------------------------- */

struct verdict_diag {
	char *why;
	size_t whylen;
};

static void first_error(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                        const char *msg)
{
	struct verdict_diag *vd = ctx;
	(void)file;
	if (level == HL_DIAG_ERROR && vd->why[0] == '\0')
		snprintf(vd->why, vd->whylen, "body.indicators[%lu]: %s", line > 0 ? line - 1 : 0,
		         msg);
}

/* Every indicator of body read through the native reader into set. */
static int read_indicators(const json_t *arr, hl_iset_t *set, struct hl_x_verdict *v)
{
	size_t len = 0;
	char *buf = NULL;
	if (hl_wire_json_lines(arr, &buf, &len) != 0)
		return HL_ENOMEM;
	struct verdict_diag vd = {v->why, sizeof v->why};
	struct hl_diag diag = {.emit = first_error, .ctx = &vd};
	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	int rc = hl_parse_native("body", buf != NULL ? buf : "", len, &po, set, &diag);
	free(buf);
	if (rc == 0 && (diag.errors > 0 || hl_iset_count(set) != json_array_size(arr))) {
		if (v->why[0] == '\0')
			snprintf(v->why, sizeof v->why, "body.indicators: an indicator twice");
		v->code = HL_WIRE_E_FIELD;
	}
	return rc;
}

static int apply(hl_exchange_t *x, const char *peer, const struct hl_wire_envelope *e,
                 const json_t *body, const hl_iset_t *set, int64_t now)
{
	struct hl_x_ind *st = x->ind;
	json_int_t sv = json_integer_value(json_object_get(body, "set_version"));
	uint64_t version = sv > 0 ? (uint64_t)sv : 0;
	int rc = 0;
	if (e->type == HL_WIRE_T_INDICATOR_RETRACT) {
		const json_t *ids = json_object_get(body, "ids");
		for (size_t i = 0; i < json_array_size(ids) && rc == 0; i++) {
			bool found = false;
			rc = hl_store_peer_indicator_retract(
			        x->o.store, peer, json_string_value(json_array_get(ids, i)),
			        version, now, &found);
			if (rc == 0 && found)
				st->c.peer_retracted++;
		}
		return rc;
	}
	if (json_is_true(json_object_get(body, "full")))
		rc = hl_store_peer_indicators_retract_all(x->o.store, peer, version, now);
	for (size_t i = 0; i < hl_iset_count(set) && rc == 0; i++) {
		rc = hl_store_peer_indicator_put(x->o.store, peer, hl_iset_at(set, i),
		                                 HL_IND_ACTIVE, version, now);
		if (rc == 0)
			st->c.peer_stored++;
	}
	return rc;
}

int hl_x_on_peer_indicators(hl_exchange_t *x, const char *peer, const struct hl_tp_msg *m,
                            const struct hl_wire_envelope *e, const json_t *body, int64_t now,
                            struct hl_x_verdict *v)
{
	memset(v, 0, sizeof *v);
	struct hl_x_ind *st = state(x);
	hl_iset_t *set = hl_iset_new();
	if (st == NULL || set == NULL) {
		hl_iset_destroy(&set);
		return HL_ENOMEM;
	}
	int rc = 0;
	if (e->type == HL_WIRE_T_INDICATORS)
		rc = read_indicators(json_object_get(body, "indicators"), set, v);
	if (rc != 0 || v->code != 0) {
		if (v->code != 0)
			st->c.peer_refused++;
		hl_iset_destroy(&set);
		return rc;
	}
	bool is_new = false;
	rc = hl_store_inbox_record(x->o.store, peer, e->id, e->sent_at, hl_wire_type_name(e->type),
	                           now, &is_new);
	if (rc == 0 && !is_new) {
		x->c.duplicates++;
		v->ok = true;
		hl_iset_destroy(&set);
		return 0;
	}
	if (rc == 0)
		rc = apply(x, peer, e, body, set, now);
	hl_iset_destroy(&set);
	if (rc == 0) {
		struct hl_audit_entry a = {.at = now,
		                           .direction = HL_AUDIT_RECEIVED,
		                           .peer = peer,
		                           .msg_id = e->id,
		                           .type = hl_wire_type_name(e->type),
		                           .body = m->frames[1].data,
		                           .body_len = m->frames[1].len};
		rc = hl_store_audit_append(x->o.store, &a, NULL);
	}
	if (rc == 0) {
		st->c.peer_messages++;
		v->ok = true;
	}
	return rc;
}
