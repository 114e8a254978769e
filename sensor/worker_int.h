/* \summary: worker internals shared by worker.c, worker_app.c, worker_sighting.c */
#ifndef HOTLINE_SENSOR_WORKER_INT_H
#define HOTLINE_SENSOR_WORKER_INT_H

#include "extract.h"
#include "evidence.h"
#include "extract_tls.h"
#include "sighting.h"
#include "tcp_reorder.h"
#include "worker.h"

/* What a direction's bytes are taken to be. */
enum app_proto {
	APP_UNKNOWN = 0, /* nothing seen yet */
	APP_HTTP,
	APP_TLS,
	APP_DNS,
	APP_NONE, /* given up, or not inspected */
};

/* One (indicator, flow) pair seen so far. The indicator is copied: the
 * flow may outlive the matcher generation that found it (hot reload). */
struct flow_sighting {
	struct hl_indicator ind;
	uint64_t generation; /* matcher generation of index */
	uint32_t index;      /* indicator index in that generation */
	bool pending;        /* first record held back until the evidence exists */
	enum hl_field field;
	char *value; /* observed value (NULL for payload and address matches) */
	size_t value_len;
	int64_t first_seen, last_seen;
	uint64_t count;
	bool has_offset;
	uint64_t offset;
};

/* The TLS hello of the flow, kept for the sighting records. */
struct flow_tls {
	char *sni;
	char *ja3;
	char ja3_hash[33];
	char ja4[40];
};

/* Lives in the flow's user area (zeroed at flow creation). */
struct flow_state {
	struct hl_tcp_dir tcp[2];
	uint8_t app[2];     /* enum app_proto, per direction */
	void *app_state[2]; /* extractor state, allocated on first use */
	size_t app_bytes[2];
	hl_stream_t *stream[2];  /* payload streams, opened on first bytes */
	uint64_t stream_base[2]; /* direction offset where the stream opened */
	uint64_t stream_next[2]; /* offset expected next; a jump is a gap */
	uint64_t scanned[2];     /* bytes given to the payload matcher */
	struct flow_sighting *sightings;
	uint32_t n_sightings, cap_sightings;
	struct flow_tls *tls;
	hl_evidence_flow_t *evidence; /* packets kept for evidence (NULL: off) */
};

struct hl_worker {
	struct hl_worker_config cfg;
	unsigned index;
	struct hl_decoder decoder;
	struct hl_flow_table *flows;
	struct hl_tcp_reorder reorder;
	hl_scratch_t *scratch;
	uint64_t generation; /* of cfg.matcher (hot reload bumps it) */
	hl_evidence_worker_t *evidence;
	hl_enrich_cache_t *enrich_cache;
	bool has_payload_rules;
	size_t app_memory;
	struct hl_worker_stats st;
	/* The packet being handled, for callbacks. */
	const struct hl_packet *pkt;
	struct hl_flow *flow;
	int dir;
};

/* Per-callback context for matcher reports. */
struct match_ctx {
	hl_worker_t *w;
	struct hl_flow *flow;
	int64_t ts;
	const char *value; /* observed value, NULL for payload */
	size_t value_len;
	bool has_offset;
	uint64_t offset_base; /* added to the matcher's offset */
};

/* worker_sighting.c */
int hl_worker_on_match(void *ctx, const struct hl_match *m);
void hl_worker_match_addresses(hl_worker_t *w, struct hl_flow *flow, int64_t ts);
void hl_worker_match_observation(hl_worker_t *w, struct hl_flow *flow, enum hl_field field,
                                 const char *value, size_t len, int64_t ts);
void hl_worker_final_sightings(hl_worker_t *w, struct hl_flow *flow);
void hl_worker_free_sightings(struct flow_state *fs);
/* The flow's evidence is complete: write the records held back for it. */
void hl_worker_evidence_ready(hl_worker_t *w, struct hl_flow *flow);

/* worker_app.c */
void hl_worker_udp(hl_worker_t *w, struct hl_flow *flow, const struct hl_packet *p);
void hl_worker_tcp(hl_worker_t *w, struct hl_flow *flow, int dir, const struct hl_packet *p);
void hl_worker_end_apps(hl_worker_t *w, struct hl_flow *flow);

#endif
