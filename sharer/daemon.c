/* \summary: the sharer daemon: set-up, the zmq_poll loop, shutdown (daemon.h) */
#include "daemon_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "hotline/err.h"

/* Messages taken from one socket before they are handled as one batch. */
#define RECV_BATCH 256
/* The loop looks at the clock at least this often (ms). */
#define POLL_MAX_MS 1000

int64_t hl_daemon_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void tp_log(void *ctx, enum hl_log_level level, const char *msg)
{
	hl_daemon_t *d = ctx;
	if (d->log != NULL)
		d->log(d->log_ctx, (int)level, msg);
	else
		fprintf(stderr, "%s: %s\n", hl_log_level_name(level), msg);
}

void hl_daemon_logf(hl_daemon_t *d, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	tp_log(d, (enum hl_log_level)level, buf);
}

static void store_log(void *ud, int err, const char *msg)
{
	hl_daemon_logf(ud, HL_LOG_ERROR, "store: %s: %s", hl_err_name(err), msg);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int add_sock(hl_daemon_t *d, hl_tp_sock_t *s)
{
	if (d->n_socks >= HL_DAEMON_MAX_SOCKS)
		return HL_ELIMIT;
	d->socks[d->n_socks++] = s;
	return 0;
}

/* Keeps the first diagnostic's text (ctx: char[256]). */
static void first_diag(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                       const char *msg)
{
	char *out = ctx;
	(void)level;
	(void)line;
	if (out[0] == '\0')
		snprintf(out, 256, "%s: %s", file ? file : "", msg);
}

/* Allowlist: every peer and every CURVE sensor, by name. */
static int set_allowlist(hl_daemon_t *d, const struct hl_daemon_opts *o, char *err, size_t errlen)
{
	size_t n = o->n_peers + o->n_sensors;
	struct hl_peer_key *keys = calloc(n + 1, sizeof *keys);
	if (keys == NULL)
		return fail(err, errlen, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < o->n_peers; i++)
		keys[k++] = (struct hl_peer_key){o->peers[i].name, o->peers[i].public_z85};
	for (size_t i = 0; i < o->n_sensors; i++)
		if (o->sensors[i].public_z85 != NULL)
			keys[k++] =
			        (struct hl_peer_key){o->sensors[i].name, o->sensors[i].public_z85};
	char msg[256] = "";
	struct hl_diag diag = {.emit = first_diag, .ctx = msg};
	int rc = hl_transport_set_allowlist(d->t, keys, k, &diag);
	free(keys);
	if (rc != 0)
		return fail(err, errlen, "allowlist: %s", msg[0] ? msg : hl_strerror(rc));
	return 0;
}

static int open_sockets(hl_daemon_t *d, const struct hl_daemon_opts *o, char *err, size_t errlen)
{
	int rc = 0;
	if (o->listen != NULL) {
		d->listener = hl_tp_listen(d->t, o->listen, &rc);
		if (d->listener == NULL)
			return fail(err, errlen, "listen %s: %s", o->listen, hl_strerror(rc));
		add_sock(d, d->listener);
	}
	if (o->sensor_listen != NULL) {
		if (strncmp(o->sensor_listen, "ipc://", 6) == 0)
			d->sensor_sock = hl_tp_listen_local(d->t, o->sensor_listen,
			                                    HL_TP_LOCAL_ROUTER, "local", 0660, &rc);
		else
			d->sensor_sock = hl_tp_listen(d->t, o->sensor_listen, &rc);
		if (d->sensor_sock == NULL)
			return fail(err, errlen, "sensor listen %s: %s", o->sensor_listen,
			            hl_strerror(rc));
		add_sock(d, d->sensor_sock);
	}
	hl_exchange_set_listener(d->x, d->listener);
	for (size_t i = 0; i < o->n_peers; i++) {
		const struct hl_daemon_peer *p = &o->peers[i];
		hl_tp_sock_t *s = NULL;
		if (p->endpoint != NULL) {
			s = hl_tp_connect(d->t, p->name, p->endpoint, p->public_z85, &rc);
			if (s == NULL)
				return fail(err, errlen, "peer %s at %s: %s", p->name, p->endpoint,
				            hl_strerror(rc));
			if (add_sock(d, s) != 0)
				return fail(err, errlen, "too many peers");
		}
		if ((rc = hl_exchange_add_peer(d->x, p->name, s)) != 0)
			return fail(err, errlen, "peer %s: %s", p->name, hl_strerror(rc));
	}
	for (size_t i = 0; i < o->n_sensors; i++)
		if ((rc = hl_exchange_add_sensor(d->x, o->sensors[i].name)) != 0)
			return fail(err, errlen, "sensor %s: %s", o->sensors[i].name,
			            hl_strerror(rc));
	return 0;
}

hl_daemon_t *hl_daemon_new(const struct hl_daemon_opts *o, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	hl_daemon_t *d = calloc(1, sizeof *d);
	if (d == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	d->log = o->log;
	d->log_ctx = o->log_ctx;
	d->name = dup_or_null(o->name);
	d->control_path = dup_or_null(o->control_path);
	d->started_at = hl_daemon_now_us();
	if (d->name == NULL || !hl_peer_name_valid(d->name)) {
		fail(err, errlen, "name: not a valid party name");
		goto bad;
	}
	char kmsg[256] = "";
	struct hl_diag diag = {.emit = first_diag, .ctx = kmsg};
	struct hl_keypair kp;
	if (o->secret_key_file == NULL || hl_keypair_read(o->secret_key_file, &kp, &diag) != 0) {
		fail(err, errlen, "secret key: %s",
		     kmsg[0] ? kmsg : "keys.secret_key_file not set");
		goto bad;
	}
	d->store = hl_store_open_flags(o->store_path, HL_STORE_CHECKPOINT_THREAD, err, errlen);
	if (d->store == NULL)
		goto bad;
	hl_store_set_log(d->store, store_log, d);

	struct hl_transport_opts to;
	hl_transport_opts_init(&to);
	to.name = d->name;
	to.keys = &kp;
	to.log = tp_log;
	to.log_ctx = d;
	int rc = 0;
	d->t = hl_transport_new(&to, &rc);
	sodium_memzero(&kp, sizeof kp);
	if (d->t == NULL) {
		fail(err, errlen, "transport: %s", hl_strerror(rc));
		goto bad;
	}
	struct hl_exchange_opts xo;
	hl_exchange_opts_init(&xo);
	xo.name = d->name;
	xo.store = d->store;
	xo.max_msg_bytes = (size_t)o->max_message;
	xo.seq_start = (uint64_t)d->started_at;
	if (o->resend_min_us > 0)
		xo.retry_base_us = o->resend_min_us;
	if (o->resend_max_us > 0)
		xo.retry_max_us = o->resend_max_us;
	if (o->heartbeat_us > 0)
		xo.heartbeat_us = o->heartbeat_us;
	if (o->outbox_batch > 0)
		xo.pump_batch = o->outbox_batch;
	xo.log = tp_log;
	xo.log_ctx = d;
	d->x = hl_exchange_new(&xo, &rc);
	if (d->x == NULL) {
		fail(err, errlen, "exchange: %s", hl_strerror(rc));
		goto bad;
	}
	if (set_allowlist(d, o, err, errlen) != 0 || open_sockets(d, o, err, errlen) != 0)
		goto bad;
	if (d->control_path != NULL) {
		d->control =
		        hl_control_open(d->control_path, 0660, d->store, hl_daemon_info, d, &rc);
		if (d->control == NULL) {
			fail(err, errlen, "control socket %s: %s", d->control_path,
			     hl_strerror(rc));
			goto bad;
		}
	}
	hl_daemon_logf(d, HL_LOG_INFO, "%s: listening on %s, sensors on %s, control on %s", d->name,
	               d->listener ? hl_tp_endpoint(d->listener) : "-",
	               d->sensor_sock ? hl_tp_endpoint(d->sensor_sock) : "-",
	               d->control_path ? d->control_path : "-");
	return d;
bad:
	hl_daemon_destroy(&d);
	return NULL;
}

const char *hl_daemon_listen_endpoint(const hl_daemon_t *d)
{
	return d->listener != NULL ? hl_tp_endpoint(d->listener) : "";
}

const char *hl_daemon_name(const hl_daemon_t *d)
{
	return d->name;
}

void hl_daemon_destroy(hl_daemon_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	hl_daemon_t *d = *p;
	hl_control_close(&d->control);
	for (size_t i = 0; i < d->n_socks; i++)
		hl_tp_close(&d->socks[i]);
	hl_exchange_destroy(&d->x);
	hl_transport_destroy(&d->t);
	hl_store_close(&d->store);
	free(d->name);
	free(d->control_path);
	free(d);
	*p = NULL;
}

/* Take what is waiting on s (at most RECV_BATCH) and handle it as a batch. */
static int drain(hl_daemon_t *d, hl_tp_sock_t *s)
{
	size_t n = 0;
	int rc = 0;
	while (n < RECV_BATCH) {
		rc = hl_tp_recv(s, &d->msgs[n], 0);
		if (rc != 0)
			break;
		n++;
	}
	int hrc = hl_exchange_handle(d->x, s, d->msgs, n, hl_daemon_now_us());
	for (size_t i = 0; i < n; i++)
		hl_tp_msg_clear(&d->msgs[i]);
	if (rc == HL_EIO)
		return rc;
	(void)hrc; /* counted and logged; the senders resend */
	return 0;
}

static int poll_timeout_ms(hl_daemon_t *d, int64_t now)
{
	int64_t at = hl_exchange_next_wakeup(d->x, now);
	int64_t ms = (at - now + 999) / 1000;
	if (ms < 0)
		ms = 0;
	return ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms;
}

int hl_daemon_run(hl_daemon_t *d, const volatile sig_atomic_t *stop)
{
	zmq_pollitem_t items[2 * HL_DAEMON_MAX_SOCKS + 1];
	int rc = 0;
	while (!*stop) {
		int64_t now = hl_daemon_now_us();
		hl_exchange_pump(d->x, now);
		hl_exchange_indicators_pump(d->x, now);
		int timeout = poll_timeout_ms(d, hl_daemon_now_us());
		size_t n = 0;
		for (size_t i = 0; i < d->n_socks; i++) {
			items[n++] = (zmq_pollitem_t){.socket = hl_tp_zsocket(d->socks[i]),
			                              .events = ZMQ_POLLIN};
			items[n++] = (zmq_pollitem_t){.socket = hl_tp_zmonitor(d->socks[i]),
			                              .events = ZMQ_POLLIN};
		}
		if (d->control != NULL)
			items[n++] = (zmq_pollitem_t){.socket = hl_control_zsocket(d->control),
			                              .events = ZMQ_POLLIN};
		int k = zmq_poll(items, (int)n, timeout);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			hl_daemon_logf(d, HL_LOG_ERROR, "zmq_poll: %s", zmq_strerror(errno));
			rc = HL_EIO;
			break;
		}
		for (size_t i = 0; i < d->n_socks && k > 0; i++) {
			if (items[2 * i + 1].revents & ZMQ_POLLIN)
				hl_tp_pump(d->socks[i], 0);
			if ((items[2 * i].revents & ZMQ_POLLIN) && drain(d, d->socks[i]) != 0) {
				rc = HL_EIO;
				break;
			}
		}
		if (rc != 0)
			break;
		if (d->control != NULL && (items[n - 1].revents & ZMQ_POLLIN))
			while (hl_control_serve(d->control) == 0)
				hl_exchange_indicators_changed(d->x);
	}
	hl_daemon_logf(d, HL_LOG_INFO, "%s: stopping", d->name);
	return rc;
}
