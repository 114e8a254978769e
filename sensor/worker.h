/* \summary: a worker: decode, flows, extraction, matching, sightings
 *
 * One per thread. A worker owns its decoder (and fragment table), its flow
 * table, its Hyperscan scratch and its counters; it shares only the
 * read-only matcher and the thread-safe outputs. Frames reach it already
 * sharded by address pair, so it sees every packet of its flows.
 */
#ifndef HOTLINE_SENSOR_WORKER_H
#define HOTLINE_SENSOR_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "decode_stats.h"
#include "enrich.h"
#include "evidence.h"
#include "home_net.h"
#include "matcher_slot.h"
#include "extract_dns.h"
#include "extract_http.h"
#include "extract_tls.h"
#include "flow.h"
#include "hotline/matcher.h"
#include "output.h"
#include "packet.h"
#include "tcp_reorder.h"

typedef struct hl_worker hl_worker_t;

struct hl_worker_config {
	/* The indicator set: a slot whose generations hot reload replaces, or
	 * (tests, tools) one fixed matcher when slot is NULL. */
	hl_matcher_slot_t *slot;
	const hl_matcher_t *matcher;
	hl_output_t *const *outputs;
	size_t n_outputs;
	const char *sensor_name;
	bool sighting_updates; /* also emit the end-of-flow record */
	struct hl_decoder_config decoder;
	struct hl_flow_config flow;
	struct hl_tcp_reorder_config reorder; /* zero fields: the defaults */
	size_t app_memory_max;                /* bytes of extractor state per worker */
	uint64_t stream_depth;                /* payload bytes scanned per TCP direction; 0 = all */
	hl_evidence_store_t *evidence;        /* --evidence-dir; NULL: no evidence */
	const hl_enrich_t *enrich;            /* --geoip/--asn; NULL: no enrichment */
	const hl_home_net_t *home_net;        /* --home-net; may be NULL */
};

void hl_worker_config_init(struct hl_worker_config *cfg);

struct hl_worker_stats {
	uint64_t packets, bytes;
	uint64_t decoded;   /* frames that reached a flow */
	uint64_t sightings; /* first records */
	uint64_t updates;   /* end-of-flow records */
	uint64_t output_errors;
	uint64_t app_memory_refused; /* directions not inspected: extractor budget */
	uint64_t app_memory;         /* gauge: extractor state held now */
	uint64_t depth_skipped;      /* payload bytes past --stream-depth, not scanned */
	uint64_t match_errors;       /* matcher calls that failed */
	uint64_t generation;         /* matcher generation in use */
	uint64_t switches;           /* generations taken up (hot reloads seen) */
	struct hl_decode_stats decode;
	struct hl_flow_stats flow;
	struct hl_tcp_reorder_stats tcp;
	struct hl_evidence_worker_stats evidence;
	struct hl_enrich_stats enrich;
	struct hl_dns_stats dns;
	struct hl_http_stats http;
	struct hl_tls_stats tls;
	int64_t last_ts; /* newest packet time seen */
};

hl_worker_t *hl_worker_new(const struct hl_worker_config *cfg, unsigned index);
void hl_worker_destroy(hl_worker_t **w_p);

/* Handle one captured frame. */
void hl_worker_process(hl_worker_t *w, const struct hl_frame *frame);
/* End every flow (shutdown): final sightings are written. */
void hl_worker_flush(hl_worker_t *w);
/* Copy the counters (call from the worker's own thread, or after it ended). */
void hl_worker_stats(const hl_worker_t *w, struct hl_worker_stats *st);

#endif
