/* \summary: control socket: REP on ipc://PATH (0660), JSON requests and replies (control.h) */
#include "control_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "hotline/err.h"
#include "hotline/timefmt.h"

#define PATH_MAX_LEN 107 /* sun_path */

struct hl_control {
	void *ctx;
	void *sock;
	char path[PATH_MAX_LEN + 1];
	hl_store_t *store;
	hl_control_info_fn info;
	void *ud;
};

static int endpoint_of(const char *path, char *out, size_t outlen)
{
	if (path == NULL || path[0] == '\0' || strlen(path) > PATH_MAX_LEN)
		return HL_EINVAL;
	int n = snprintf(out, outlen, "ipc://%s", path);
	return n > 0 && (size_t)n < outlen ? 0 : HL_EINVAL;
}

/* Whether something accepts connections at path (another sharer's live
 * control socket, which a bind would silently take over). */
static bool path_is_live(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path)
		return false;
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return live;
}

hl_control_t *hl_control_open(const char *path, unsigned mode, hl_store_t *store,
                              hl_control_info_fn info, void *ud, int *err)
{
	char ep[PATH_MAX_LEN + 16];
	*err = endpoint_of(path, ep, sizeof ep);
	if (*err != 0)
		return NULL;
	if (path_is_live(path)) {
		*err = HL_EEXISTS;
		return NULL;
	}
	hl_control_t *c = calloc(1, sizeof *c);
	if (c == NULL) {
		*err = HL_ENOMEM;
		return NULL;
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	c->store = store;
	c->info = info;
	c->ud = ud;
	*err = HL_EIO;
	c->ctx = zmq_ctx_new();
	if (c->ctx == NULL)
		goto fail;
	c->sock = zmq_socket(c->ctx, ZMQ_REP);
	if (c->sock == NULL)
		goto fail;
	int64_t maxsz = HL_CONTROL_REQUEST_MAX;
	int linger = 0;
	zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxsz, sizeof maxsz);
	zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(c->sock, ep) != 0)
		goto fail;
	/* The socket exists now with the umask's mode; narrow it before anyone
	 * could have a reason to connect (the parent directory is the gate). */
	if (chmod(path, mode != 0 ? mode : 0660) != 0)
		goto fail;
	*err = 0;
	return c;
fail:
	hl_control_close(&c);
	return NULL;
}

void *hl_control_zsocket(hl_control_t *c)
{
	return c->sock;
}

void hl_control_close(hl_control_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_control_t *c = *p;
	if (c->sock != NULL) {
		zmq_close(c->sock);
		unlink(c->path);
	}
	if (c->ctx != NULL)
		zmq_ctx_term(c->ctx);
	free(c);
	*p = NULL;
}

json_t *hl_control_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

/* "since": RFC 3339 text or Unix µs; absent: 0. */
static int parse_since(const json_t *v, int64_t *out)
{
	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return hl_time_parse(json_string_value(v), out);
	return HL_EINVAL;
}

struct list_ctx {
	json_t *arr;
	int err;
};

static int add_sighting(void *ud, const struct hl_store_sighting *sg)
{
	struct list_ctx *lc = ud;
	char rec_at[HL_TIME_ISO_MAX], first[HL_TIME_ISO_MAX];
	hl_time_format(sg->received_at, rec_at, sizeof rec_at);
	hl_time_format(sg->first_seen, first, sizeof first);
	json_t *rec = json_loads(sg->record, 0, NULL);
	json_t *o =
	        json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o}", "id", sg->id, "origin", sg->origin,
	                  "received_at", rec_at, "first_seen", first, "indicator_id",
	                  sg->indicator_id, "record", rec != NULL ? rec : json_string(sg->record));
	if (o == NULL || json_array_append_new(lc->arr, o) != 0) {
		lc->err = HL_ENOMEM;
		return HL_ENOMEM;
	}
	return 0;
}

static json_t *cmd_sightings(hl_control_t *c, const json_t *req)
{
	int64_t since;
	if (parse_since(json_object_get(req, "since"), &since) != 0)
		return hl_control_error("since: not an RFC 3339 time or µs integer");
	const json_t *lim = json_object_get(req, "limit");
	json_int_t limit = lim != NULL ? json_integer_value(lim) : 1000;
	if (lim != NULL && (!json_is_integer(lim) || limit < 0))
		return hl_control_error("limit: not a non-negative integer");
	if (limit == 0 || limit > HL_CONTROL_SIGHTINGS_MAX)
		limit = HL_CONTROL_SIGHTINGS_MAX;
	enum hl_store_time by = HL_STORE_BY_RECEIVED;
	const char *bys = json_string_value(json_object_get(req, "by"));
	if (bys != NULL && strcmp(bys, "first_seen") == 0)
		by = HL_STORE_BY_FIRST_SEEN;
	else if (bys != NULL && strcmp(bys, "received") != 0)
		return hl_control_error("by: \"%s\" is neither received nor first_seen", bys);
	struct list_ctx lc = {.arr = json_array()};
	size_t total = 0, n = 0;
	/* One more than asked, to say whether there is more. */
	int rc = lc.arr == NULL ? HL_ENOMEM : hl_store_sighting_count(c->store, &total);
	if (rc == 0)
		rc = hl_store_sightings_since(c->store, by, since, (size_t)limit + 1, add_sighting,
		                              &lc, &n);
	if (rc != 0) {
		json_decref(lc.arr);
		return hl_control_error("store: %s", hl_store_errmsg(c->store));
	}
	bool more = json_array_size(lc.arr) > (size_t)limit;
	if (more)
		json_array_remove(lc.arr, json_array_size(lc.arr) - 1);
	return json_pack("{s:b,s:I,s:I,s:b,s:o}", "ok", 1, "count",
	                 (json_int_t)json_array_size(lc.arr), "total", (json_int_t)total, "more",
	                 more, "sightings", lc.arr);
}

static void report_bad(void *ud, int64_t seq, const char *reason)
{
	(void)ud;
	(void)seq;
	(void)reason;
}

static json_t *cmd_audit_verify(hl_control_t *c)
{
	struct hl_audit_summary sum;
	memset(&sum, 0, sizeof sum);
	int rc = hl_store_audit_verify(c->store, report_bad, NULL, &sum);
	if (rc != 0 && rc != HL_EFORMAT)
		return hl_control_error("store: %s", hl_store_errmsg(c->store));
	return json_pack("{s:b,s:b,s:I,s:I,s:s,s:I,s:s}", "ok", 1, "intact", rc == 0, "rows",
	                 (json_int_t)sum.rows, "last_seq", (json_int_t)sum.last_seq, "head",
	                 sum.head, "first_bad", (json_int_t)sum.first_bad, "reason", sum.reason);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Which peers are configured is the daemon's to say (its "peers"). */
static json_t *cmd_peer_indicators(hl_control_t *c, const json_t *req)
{
	json_t *peers = c->info != NULL ? c->info(c->ud, "peers", req) : NULL;
	json_t *rep = hl_control_peer_indicators(c->store, req, json_object_get(peers, "peers"));
	json_decref(peers);
	return rep;
}

static json_t *dispatch(hl_control_t *c, const char *data, size_t len)
{
	json_error_t je;
	json_t *req = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (req == NULL || !json_is_object(req)) {
		json_decref(req);
		return hl_control_error("request is not a JSON object");
	}
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *rep = NULL;
	if (cmd == NULL)
		rep = hl_control_error("request has no \"cmd\"");
	else if (strcmp(cmd, "sightings") == 0)
		rep = cmd_sightings(c, req);
	else if (strcmp(cmd, "audit-verify") == 0)
		rep = cmd_audit_verify(c);
	else if (strcmp(cmd, "indicators-list") == 0 && json_object_get(req, "peer") != NULL)
		rep = cmd_peer_indicators(c, req);
	else if (strncmp(cmd, "indicators-", 11) == 0)
		rep = hl_control_indicators(c->store, cmd, req, now_us());
	else if (c->info != NULL)
		rep = c->info(c->ud, cmd, req);
	if (rep != NULL && cmd != NULL && strcmp(cmd, "status") == 0 &&
	    json_is_true(json_object_get(rep, "ok")))
		hl_control_indicators_status(c->store, rep);
	if (rep == NULL && cmd != NULL)
		rep = hl_control_error("unknown command \"%s\"", cmd);
	json_decref(req);
	return rep;
}

int hl_control_serve(hl_control_t *c)
{
	zmq_msg_t in;
	zmq_msg_init(&in);
	if (zmq_msg_recv(&in, c->sock, ZMQ_DONTWAIT) < 0) {
		int e = errno;
		zmq_msg_close(&in);
		return e == EAGAIN || e == EINTR ? HL_EAGAIN : HL_EIO;
	}
	/* REP: a multipart request is answered once, from its first frame. */
	while (zmq_msg_more(&in)) {
		zmq_msg_t extra;
		zmq_msg_init(&extra);
		zmq_msg_recv(&extra, c->sock, 0);
		zmq_msg_close(&extra);
	}
	json_t *rep = dispatch(c, zmq_msg_data(&in), zmq_msg_size(&in));
	zmq_msg_close(&in);
	char *text = rep != NULL ? json_dumps(rep, JSON_COMPACT) : NULL;
	json_decref(rep);
	const char *out = text != NULL ? text : "{\"ok\":false,\"error\":\"out of memory\"}";
	int rc = zmq_send(c->sock, out, strlen(out), 0) < 0 ? HL_EIO : 0;
	free(text);
	return rc;
}

int hl_control_call(const char *path, const json_t *req, int timeout_ms, json_t **reply)
{
	*reply = NULL;
	char ep[PATH_MAX_LEN + 16];
	if (endpoint_of(path, ep, sizeof ep) != 0 || req == NULL)
		return HL_EINVAL;
	char *text = json_dumps(req, JSON_COMPACT);
	if (text == NULL)
		return HL_ENOMEM;
	int rc = HL_EIO;
	void *ctx = zmq_ctx_new();
	void *s = ctx != NULL ? zmq_socket(ctx, ZMQ_REQ) : NULL;
	int linger = 0;
	if (s == NULL)
		goto out;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(s, ep) != 0 || zmq_send(s, text, strlen(text), 0) < 0)
		goto out;
	zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
	int n;
	do
		n = zmq_poll(&it, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		rc = n == 0 ? HL_EAGAIN : HL_EIO;
		goto out;
	}
	zmq_msg_t m;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, s, 0) >= 0) {
		*reply = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, NULL);
		rc = json_is_object(*reply) ? 0 : HL_EPARSE;
		if (rc != 0) {
			json_decref(*reply);
			*reply = NULL;
		}
	}
	zmq_msg_close(&m);
out:
	free(text);
	if (s != NULL)
		zmq_close(s);
	if (ctx != NULL)
		zmq_ctx_term(ctx);
	return rc;
}
