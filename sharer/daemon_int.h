/* \summary: daemon internals shared by daemon.c (loop) and daemon_status.c (control replies) */
#ifndef HOTLINE_SHARER_DAEMON_INT_H
#define HOTLINE_SHARER_DAEMON_INT_H

#include <jansson.h>
#include <sodium.h>

#include "control.h"
#include "daemon.h"
#include "exchange.h"
#include "keys.h"
#include "store.h"
#include "transport.h"

/* The listener, the sensor listener and one DEALER per peer. */
#define HL_DAEMON_MAX_SOCKS 64

struct hl_daemon {
	char *name;
	char *control_path;
	int64_t started_at;
	hl_daemon_log_fn log;
	void *log_ctx;
	hl_store_t *store;
	hl_transport_t *t;
	hl_exchange_t *x;
	hl_control_t *control;
	hl_tp_sock_t *listener;    /* peers (CURVE) */
	hl_tp_sock_t *sensor_sock; /* local sensors */
	hl_tp_sock_t *socks[HL_DAEMON_MAX_SOCKS];
	size_t n_socks;
	struct hl_tp_msg msgs[256];
};

int64_t hl_daemon_now_us(void);
void hl_daemon_logf(hl_daemon_t *d, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The control socket's status and peers commands. */
json_t *hl_daemon_info(void *ud, const char *cmd, const json_t *req);

#endif
