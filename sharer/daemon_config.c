/* \summary: a daemon from a sharer config file (config.h -> struct hl_daemon_opts) */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hotline/err.h"
#include "keys.h"

struct keybuf {
	char z85[HL_KEY_Z85_LEN + 1];
};

static void first_diag(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                       const char *msg)
{
	char *out = ctx;
	if (level != HL_DIAG_ERROR || out[0] != '\0')
		return;
	if (line > 0)
		snprintf(out, 512, "%s:%lu: %s", file ? file : "", line, msg);
	else
		snprintf(out, 512, "%s: %s", file ? file : "", msg);
}

/* The key inline, or read from its file. */
static int public_key(const char *inline_key, const char *file, struct keybuf *kb, char *msg)
{
	if (inline_key != NULL) {
		snprintf(kb->z85, sizeof kb->z85, "%s", inline_key);
		return 0;
	}
	if (file == NULL)
		return HL_ENOTFOUND;
	struct hl_diag diag = {.emit = first_diag, .ctx = msg};
	return hl_key_read_public(file, kb->z85, &diag);
}

hl_daemon_t *hl_daemon_from_config(const char *path, hl_daemon_log_fn log, void *log_ctx,
                                   struct hl_daemon_config_info *info, char *err, size_t errlen)
{
	char msg[512] = "";
	struct hl_diag diag = {.emit = first_diag, .ctx = msg};
	struct hl_sharer_config cfg;
	int rc = hl_sharer_config_load(path, &cfg, &diag);
	if (rc != 0) {
		snprintf(err, errlen, "%s", msg[0] ? msg : hl_strerror(rc));
		return NULL;
	}
	if (info != NULL) {
		info->log_level = cfg.log_level;
		snprintf(info->name, sizeof info->name, "%s", cfg.name);
	}
	hl_daemon_t *d = NULL;
	struct hl_daemon_peer *peers = calloc(cfg.n_peers + 1, sizeof *peers);
	struct hl_daemon_sensor *sensors = calloc(cfg.n_sensors + 1, sizeof *sensors);
	struct keybuf *keys = calloc(cfg.n_peers + cfg.n_sensors + 1, sizeof *keys);
	if (peers == NULL || sensors == NULL || keys == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	int64_t heartbeat = 0;
	for (size_t i = 0; i < cfg.n_peers; i++) {
		const struct hl_sharer_peer *p = &cfg.peers[i];
		if (public_key(p->public_key, p->public_key_file, &keys[i], msg) != 0) {
			snprintf(err, errlen, "peer %s: %s", p->name,
			         msg[0] ? msg : "no public key");
			goto out;
		}
		peers[i] = (struct hl_daemon_peer){p->name, p->endpoint, keys[i].z85};
		if (heartbeat == 0 || p->heartbeat < heartbeat)
			heartbeat = p->heartbeat;
	}
	for (size_t i = 0; i < cfg.n_sensors; i++) {
		const struct hl_sharer_sensor *s = &cfg.sensors[i];
		struct keybuf *kb = &keys[cfg.n_peers + i];
		rc = public_key(s->public_key, s->public_key_file, kb, msg);
		if (rc != 0 && rc != HL_ENOTFOUND) {
			snprintf(err, errlen, "sensor %s: %s", s->name, msg);
			goto out;
		}
		sensors[i] = (struct hl_daemon_sensor){s->name, rc == 0 ? kb->z85 : NULL};
	}
	struct hl_daemon_opts o = {
	        .name = cfg.name,
	        .listen = cfg.listen,
	        .sensor_listen = cfg.sensor_listen,
	        .control_path = cfg.control,
	        .store_path = cfg.store,
	        .secret_key_file = cfg.keys.secret_key_file,
	        .peers = peers,
	        .n_peers = cfg.n_peers,
	        .sensors = sensors,
	        .n_sensors = cfg.n_sensors,
	        .max_message = cfg.limits.max_message,
	        .outbox_batch = (size_t)cfg.limits.outbox_batch,
	        .resend_min_us = cfg.limits.resend_min,
	        .resend_max_us = cfg.limits.resend_max,
	        .heartbeat_us = heartbeat,
	        .log = log,
	        .log_ctx = log_ctx,
	};
	d = hl_daemon_new(&o, err, errlen);
out:
	free(peers);
	free(sensors);
	free(keys);
	hl_sharer_config_free(&cfg);
	return d;
}
