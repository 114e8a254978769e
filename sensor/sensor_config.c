/* \summary: hotline-sensor --config FILE: the loaded file as the defaults of the options
 *
 * The file is read and checked (types, ranges, key and line in every
 * error) by sharer/config_sensor.c; here its values only change units
 * where an option counts differently (buffer_size bytes -> --buffer-size
 * MiB, stats_interval µs -> seconds, home_net list -> the comma list,
 * sharer.flush_timeout µs -> ms). A key the file leaves out keeps the
 * option's default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hotline/err.h"
#include "sensor_opts.h"

static int copy_list(const struct hl_strv *v, const char **list, size_t *n, const char *key,
                     FILE *log)
{
	if (v->n > HL_SENSOR_MAX_LIST) {
		fprintf(log, "hotline-sensor: %s: more than %d items\n", key, HL_SENSOR_MAX_LIST);
		return HL_ELIMIT;
	}
	for (size_t i = 0; i < v->n; i++)
		list[i] = v->v[i];
	*n = v->n;
	return 0;
}

static char *join(const struct hl_strv *v)
{
	size_t len = 1;
	for (size_t i = 0; i < v->n; i++)
		len += strlen(v->v[i]) + 1;
	char *s = malloc(len);
	if (s == NULL)
		return NULL;
	size_t at = 0;
	for (size_t i = 0; i < v->n; i++) {
		size_t l = strlen(v->v[i]);
		if (i > 0)
			s[at++] = ',';
		memcpy(s + at, v->v[i], l);
		at += l;
	}
	s[at] = '\0';
	return s;
}

static void copy_capture(const struct hl_sensor_config *c, struct hl_capture_config *cap)
{
	cap->iface = c->interface;
	cap->bpf = c->bpf;
	cap->snaplen = (int)c->snaplen;
	cap->promisc = c->promisc;
	/* The option counts MiB; round a partial MiB up rather than lose it. */
	cap->buffer_mb = (int)((c->buffer_size + (1u << 20) - 1) >> 20);
	cap->immediate = c->immediate;
}

static void copy_evidence(const struct hl_sensor_config *c, struct hl_evidence_config *ev)
{
	ev->dir = c->evidence_dir;
	ev->max_bytes = c->evidence_max_bytes;
	ev->packets_before = (uint32_t)c->evidence_packets_before;
	ev->packets_after = (uint32_t)c->evidence_packets_after;
	ev->worker_memory = c->evidence_memory;
}

/* Only what the file gives: the engine's defaults are the defaults. */
static void copy_reassembly(const struct hl_sensor_config *c, struct hl_worker_config *w)
{
	if (c->frag_max > 0)
		w->decoder.defrag.max_reassemblies = (uint32_t)c->frag_max;
	if (c->frag_memory > 0)
		w->decoder.defrag.max_mem = c->frag_memory;
	if (c->frag_timeout > 0)
		w->decoder.defrag.timeout_us = c->frag_timeout;
	if (c->reorder_memory > 0)
		w->reorder.max_held_total = c->reorder_memory;
	if (c->reorder_dir_bytes > 0)
		w->reorder.max_held_dir = (uint32_t)c->reorder_dir_bytes;
}

static void copy_sharer(const struct hl_sensor_config *c, struct hl_sensor_sharer_opts *so)
{
	so->endpoint = c->sharer.endpoint;
	so->server_key = c->sharer.server_key;
	so->server_key_file = c->sharer.server_key_file;
	so->secret_key_file = c->sharer.secret_key_file;
	if (c->sharer.name != NULL)
		so->name = c->sharer.name;
	if (c->sharer.queue > 0)
		so->queue = (size_t)c->sharer.queue;
	if (c->sharer.batch_bytes > 0)
		so->batch_bytes = (size_t)c->sharer.batch_bytes;
	if (c->sharer.flush_timeout >= 0) /* at most 1 h: fits an int of ms */
		so->flush_timeout_ms = (int)((c->sharer.flush_timeout + 500) / 1000);
	if (c->sharer.set != NULL)
		so->set_path = c->sharer.set;
}

int hl_sensor_opts_load(struct hl_sensor_opts *o, const char *path, struct hl_sensor_config *cfg,
                        FILE *log)
{
	struct hl_diag diag = {.emit = hl_diag_emit_stream, .ctx = log};
	int rc = hl_sensor_config_load(path, cfg, &diag);
	if (rc != 0) {
		if (diag.errors == 0) /* unreadable or too big: nothing printed yet */
			fprintf(log, "hotline-sensor: %s: %s\n", path, hl_strerror(rc));
		return rc;
	}
	struct hl_engine_config *e = &o->engine;
	copy_capture(cfg, &e->capture);
	if ((rc = copy_list(&cfg->read, o->files, &o->n_files, "read", log)) != 0 ||
	    (rc = copy_list(&cfg->rules, o->rules, &o->n_rules, "rules", log)) != 0 ||
	    (rc = copy_list(&cfg->allowlist, o->allowlists, &o->n_allowlists, "allowlist", log)) !=
	            0 ||
	    (rc = copy_list(&cfg->outputs, o->outputs, &o->n_outputs, "outputs", log)) != 0)
		goto bad;
	o->format = cfg->format;
	if (cfg->home_net.n > 0) {
		if ((o->home_net_owned = join(&cfg->home_net)) == NULL) {
			rc = HL_ENOMEM;
			goto bad;
		}
		o->home_net = o->home_net_owned;
	}
	if (cfg->sensor_name != NULL)
		snprintf(o->sensor_name, sizeof o->sensor_name, "%s", cfg->sensor_name);
	e->worker.sighting_updates = cfg->sighting_updates;
	o->geoip = cfg->geoip;
	o->asn = cfg->asn;
	copy_evidence(cfg, &o->evidence);
	if (cfg->workers > 0) /* 0 keeps the default: cores - 1 */
		e->workers = (unsigned)cfg->workers;
	e->worker.flow.max_flows = (uint32_t)cfg->max_flows;
	e->worker.stream_depth = cfg->stream_depth;
	e->stats_interval_s = (double)cfg->stats_interval / 1e6;
	e->stats_json = cfg->stats_json;
	o->quiet = cfg->quiet;
	copy_reassembly(cfg, &e->worker);
	if (cfg->user != NULL)
		o->user = cfg->user;
	o->watch = cfg->watch;
	copy_sharer(cfg, &o->sharer);
	return 0;
bad:
	hl_sensor_config_free(cfg);
	return rc;
}
