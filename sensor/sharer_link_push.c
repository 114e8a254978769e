/* \summary: the sensor's link, receive side of indicator pushes: assemble, hand over, ACK
 *
 * Runs on the link's thread (sharer_link.c calls in). A pushed set is built
 * in `pending` part by part, each part read through the native reader
 * exactly as a file would be; when the hash of what was assembled equals
 * the message's set_hash, the set is complete. `current` is the last set
 * the callback accepted: a delta (full:false without a set in progress) or
 * a retraction applies to a copy of it, and its hash goes into the hello.
 */
#define _GNU_SOURCE
#include "sharer_link_push.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/parse.h"
#include "hotline/wire.h"
#include "reload.h"

/* Parts may be larger than the wire's default cap: the sharer's own. */
#define PUSH_MAX_BYTES (64u * 1024 * 1024)

struct hl_link_push {
	char name[HL_WIRE_NAME_MAX + 1];
	char to[HL_WIRE_NAME_MAX + 1];
	hl_sharer_link_indicators_fn cb;
	void *cb_ctx;
	hl_sharer_link_log_fn log;
	void *log_ctx;
	uint64_t seq;
	bool hello_due;
	hl_iset_t *current; /* accepted; NULL before the first */
	hl_iset_t *pending; /* being assembled */
	uint64_t pending_version;
	char pending_hash[HL_WIRE_HASH_HEX + 1];
	pthread_mutex_t mu; /* st, for readers on other threads */
	struct hl_sharer_link_push_stats st;
};

static void plog(struct hl_link_push *p, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void plog(struct hl_link_push *p, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (p->log != NULL)
		p->log(p->log_ctx, level, buf);
	else
		fprintf(stderr, "sharer link: %s\n", buf);
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct hl_link_push *hl_link_push_new(const struct hl_sharer_link_opts *o)
{
	struct hl_link_push *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	snprintf(p->name, sizeof p->name, "%s", o->name);
	snprintf(p->to, sizeof p->to, "%s", o->to != NULL ? o->to : "sharer");
	p->cb = o->on_indicators;
	p->cb_ctx = o->on_indicators_ctx;
	p->log = o->log;
	p->log_ctx = o->log_ctx;
	/* Its own seq stream, well above the link's (which starts at 0). */
	p->seq = (uint64_t)wall_us();
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

void hl_link_push_destroy(struct hl_link_push **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	struct hl_link_push *p = *pp;
	hl_iset_destroy(&p->current);
	hl_iset_destroy(&p->pending);
	pthread_mutex_destroy(&p->mu);
	free(p);
	*pp = NULL;
}

void hl_link_push_stats(struct hl_link_push *p, struct hl_sharer_link_push_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	pthread_mutex_unlock(&p->mu);
}

/* Encode and send one message to the sharer without blocking. */
static int send_msg(struct hl_link_push *p, void *zsock, enum hl_wire_type type, json_t *body)
{
	if (body == NULL)
		return HL_ENOMEM;
	struct hl_wire_envelope e;
	char *env = NULL, *b = NULL;
	size_t el = 0, bl = 0;
	int rc = hl_wire_envelope_init(&e, type, p->name, p->to, p->seq++, wall_us());
	if (rc == 0)
		rc = hl_wire_encode(&e, body, &env, &el, &b, &bl);
	json_decref(body);
	if (rc == 0 && zmq_send(zsock, env, el, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = HL_EAGAIN;
	else if (rc == 0 && zmq_send(zsock, b, bl, ZMQ_DONTWAIT) < 0)
		rc = HL_EIO;
	free(env);
	free(b);
	return rc;
}

static void hello(struct hl_link_push *p, void *zsock)
{
	char hash[HL_SHA256_HEX_LEN] = "";
	uint8_t h[HL_SHA256_LEN];
	if (p->current != NULL && hl_iset_hash(p->current, h) == 0)
		hl_hex(h, sizeof h, hash);
	int rc = send_msg(p, zsock, HL_WIRE_T_HELLO,
	                  hl_wire_body_hello(p->name, "hotline-sensor", hash[0] ? hash : NULL));
	p->hello_due = rc != 0;
	if (rc == 0) {
		pthread_mutex_lock(&p->mu);
		p->st.hellos++;
		pthread_mutex_unlock(&p->mu);
	}
}

void hl_link_push_connected(struct hl_link_push *p, void *zsock)
{
	if (p == NULL || p->cb == NULL)
		return;
	hello(p, zsock);
}

void hl_link_push_tick(struct hl_link_push *p, void *zsock)
{
	if (p != NULL && p->cb != NULL && p->hello_due)
		hello(p, zsock);
}

static void reply_ack(struct hl_link_push *p, void *zsock, const char *id)
{
	const char *ids[1] = {id};
	send_msg(p, zsock, HL_WIRE_T_ACK, hl_wire_body_ack(ids, 1));
}

static void reply_nack(struct hl_link_push *p, void *zsock, const char *id, enum hl_wire_err code,
                       const char *why)
{
	pthread_mutex_lock(&p->mu);
	p->st.refused++;
	pthread_mutex_unlock(&p->mu);
	plog(p, 1, "refused indicator message %s: %s: %s", id, hl_wire_err_name(code), why);
	if (hl_wire_id_valid(id))
		send_msg(p, zsock, HL_WIRE_T_NACK, hl_wire_body_nack(id, code, why, 0));
}

/* ---- sets ------------------------------------------------------------- */

static hl_iset_t *copy_set(const hl_iset_t *from, const json_t *drop_ids)
{
	hl_iset_t *set = hl_iset_new();
	for (size_t i = 0; set != NULL && from != NULL && i < hl_iset_count(from); i++) {
		const struct hl_indicator *ind = hl_iset_at(from, i);
		bool drop = false;
		for (size_t k = 0; k < json_array_size(drop_ids) && !drop; k++)
			drop = strcmp(ind->id, json_string_value(json_array_get(drop_ids, k))) == 0;
		if (drop)
			continue;
		struct hl_indicator c;
		hl_indicator_init(&c);
		if (hl_indicator_copy(&c, ind) != 0 || hl_iset_add(set, &c, NULL) != 0) {
			hl_indicator_clear(&c);
			hl_iset_destroy(&set);
		}
	}
	return set;
}

struct why {
	char text[HL_WIRE_REASON_MAX];
};

static void first_error(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                        const char *msg)
{
	struct why *w = ctx;
	(void)file;
	if (level == HL_DIAG_ERROR && w->text[0] == '\0')
		snprintf(w->text, sizeof w->text, "body.indicators[%lu]: %s",
		         line > 0 ? line - 1 : 0, msg);
}

/* Read the message's indicators into set. 0, HL_EINVAL (why set), HL_ENOMEM. */
static int read_part(const json_t *arr, hl_iset_t *set, struct why *w)
{
	size_t len = 0;
	char *buf = NULL;
	int rc = hl_wire_json_lines(arr, &buf, &len);
	struct hl_diag diag = {.emit = first_error, .ctx = w};
	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	size_t before = hl_iset_count(set);
	if (rc == 0)
		rc = hl_parse_native("body", buf != NULL ? buf : "", len, &po, set, &diag);
	free(buf);
	if (rc == 0 && diag.errors > 0)
		rc = HL_EINVAL;
	else if (rc == 0 && hl_iset_count(set) - before != json_array_size(arr)) {
		snprintf(w->text, sizeof w->text, "body.indicators: an indicator sent twice");
		rc = HL_EINVAL;
	}
	return rc;
}

static bool hash_is(const hl_iset_t *set, const char *want)
{
	uint8_t h[HL_SHA256_LEN];
	char hex[HL_SHA256_HEX_LEN];
	if (want == NULL || hl_iset_hash(set, h) != 0)
		return false;
	hl_hex(h, sizeof h, hex);
	return strcmp(hex, want) == 0;
}

/* pending is complete: hand it over. 0, or the callback's error. */
static int deliver(struct hl_link_push *p)
{
	hl_iset_sort(p->pending);
	int rc = p->cb(p->cb_ctx, p->pending_version, p->pending_hash, p->pending);
	if (rc == 0) {
		hl_iset_destroy(&p->current);
		p->current = p->pending;
		p->pending = NULL;
		pthread_mutex_lock(&p->mu);
		p->st.sets++;
		p->st.set_version = p->pending_version;
		snprintf(p->st.set_hash, sizeof p->st.set_hash, "%s", p->pending_hash);
		pthread_mutex_unlock(&p->mu);
		plog(p, 2, "indicator set %llu (%zu indicators) from the sharer taken",
		     (unsigned long long)p->pending_version, hl_iset_count(p->current));
	} else {
		hl_iset_destroy(&p->pending);
	}
	return rc;
}

static void on_indicators(struct hl_link_push *p, void *zsock, const struct hl_wire_envelope *e,
                          const json_t *body)
{
	json_int_t v = json_integer_value(json_object_get(body, "set_version"));
	const char *hash = json_string_value(json_object_get(body, "set_hash"));
	bool full = json_is_true(json_object_get(body, "full"));
	bool continues = !full && p->pending != NULL && p->pending_version == (uint64_t)v &&
	                 strcmp(p->pending_hash, hash) == 0;
	if (!continues) {
		hl_iset_destroy(&p->pending);
		/* full: a new set; a delta: on top of the one we have. */
		p->pending = full ? hl_iset_new() : copy_set(p->current, NULL);
		p->pending_version = (uint64_t)v;
		snprintf(p->pending_hash, sizeof p->pending_hash, "%s", hash);
	}
	struct why w = {""};
	int rc = p->pending != NULL ? read_part(json_object_get(body, "indicators"), p->pending, &w)
	                            : HL_ENOMEM;
	if (rc != 0) {
		hl_iset_destroy(&p->pending);
		reply_nack(p, zsock, e->id, rc == HL_ENOMEM ? HL_WIRE_E_INTERNAL : HL_WIRE_E_FIELD,
		           rc == HL_ENOMEM ? "out of memory" : w.text);
		return;
	}
	if (hash_is(p->pending, hash) && (rc = deliver(p)) != 0) {
		char why[64];
		snprintf(why, sizeof why, "the set was not taken: %s", hl_strerror(rc));
		reply_nack(p, zsock, e->id, HL_WIRE_E_INTERNAL, why);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->st.parts++;
	pthread_mutex_unlock(&p->mu);
	reply_ack(p, zsock, e->id);
}

static void on_retract(struct hl_link_push *p, void *zsock, const struct hl_wire_envelope *e,
                       const json_t *body)
{
	const json_t *v = json_object_get(body, "set_version");
	const char *hash = json_string_value(json_object_get(body, "set_hash"));
	hl_iset_destroy(&p->pending);
	p->pending = copy_set(p->current, json_object_get(body, "ids"));
	if (p->pending == NULL) {
		reply_nack(p, zsock, e->id, HL_WIRE_E_INTERNAL, "out of memory");
		return;
	}
	uint8_t h[HL_SHA256_LEN];
	hl_iset_hash(p->pending, h);
	hl_hex(h, sizeof h, p->pending_hash);
	if (hash != NULL && strcmp(hash, p->pending_hash) != 0) {
		hl_iset_destroy(&p->pending);
		reply_nack(p, zsock, e->id, HL_WIRE_E_FIELD,
		           "body.set_hash: not the hash of our set after the retraction");
		return;
	}
	p->pending_version = v != NULL ? (uint64_t)json_integer_value(v) : p->st.set_version + 1;
	int rc = deliver(p);
	if (rc != 0) {
		reply_nack(p, zsock, e->id, HL_WIRE_E_INTERNAL, "the set was not taken");
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->st.parts++;
	pthread_mutex_unlock(&p->mu);
	reply_ack(p, zsock, e->id);
}

bool hl_link_push_take(struct hl_link_push *p, void *zsock, const void *env, size_t env_len,
                       const void *body, size_t body_len)
{
	/* Cheap test first: ACKs and NACKs are the link's, and most traffic. */
	if (p == NULL || memmem(env, env_len, "\"indicator", 10) == NULL)
		return false;
	struct hl_wire_envelope e;
	struct hl_wire_error we;
	json_t *b = NULL;
	int rc = hl_wire_decode(env, env_len, body, body_len, PUSH_MAX_BYTES, &e, &b, &we);
	if (rc != 0) {
		if (e.type != HL_WIRE_T_INDICATORS && e.type != HL_WIRE_T_INDICATOR_RETRACT)
			return false; /* the link logs what it cannot read */
		reply_nack(p, zsock, e.id, we.code, we.msg);
		return true;
	}
	if (e.type != HL_WIRE_T_INDICATORS && e.type != HL_WIRE_T_INDICATOR_RETRACT) {
		json_decref(b);
		return false;
	}
	if (p->cb == NULL)
		reply_nack(p, zsock, e.id, HL_WIRE_E_UNEXPECTED,
		           "this sensor takes no pushed sets");
	else if (strcmp(e.from, p->to) != 0 || strcmp(e.to, p->name) != 0)
		reply_nack(p, zsock, e.id, HL_WIRE_E_UNEXPECTED, "not from our sharer to us");
	else if (e.type == HL_WIRE_T_INDICATORS)
		on_indicators(p, zsock, &e, b);
	else
		on_retract(p, zsock, &e, b);
	json_decref(b);
	return true;
}

/* ---- into a reload ---------------------------------------------------- */

struct hl_push_reload {
	hl_reload_t *r;
	char *path;
	char *tmp;
};

hl_push_reload_t *hl_push_reload_new(struct hl_reload *r, const char *path)
{
	if (r == NULL || path == NULL || path[0] == '\0')
		return NULL;
	hl_push_reload_t *pr = calloc(1, sizeof *pr);
	if (pr == NULL)
		return NULL;
	pr->r = r;
	pr->path = strdup(path);
	if (pr->path != NULL && asprintf(&pr->tmp, "%s.tmp", path) < 0)
		pr->tmp = NULL;
	if (pr->path == NULL || pr->tmp == NULL)
		hl_push_reload_destroy(&pr);
	return pr;
}

void hl_push_reload_destroy(hl_push_reload_t **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free((*pp)->path);
	free((*pp)->tmp);
	free(*pp);
	*pp = NULL;
}

int hl_push_reload_cb(void *ctx, uint64_t set_version, const char *set_hash, const hl_iset_t *set)
{
	hl_push_reload_t *pr = ctx;
	(void)set_version;
	(void)set_hash;
	FILE *f = fopen(pr->tmp, "we");
	if (f == NULL)
		return HL_EIO;
	int rc = hl_write_native(f, set);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = rc != 0 ? rc : HL_EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = HL_EIO;
	if (rc == 0 && rename(pr->tmp, pr->path) != 0)
		rc = HL_EIO;
	if (rc != 0) {
		unlink(pr->tmp);
		return rc;
	}
	return hl_reload_push(pr->r, pr->path);
}
