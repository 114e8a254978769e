/* \summary: a worker: decode, flow lookup, dispatch; flow end bookkeeping */
#include "worker_int.h"

#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

/* Expire a few idle flows per packet: spreads the work, keeps memory flat. */
#define HL_WORKER_EXPIRE_PER_PACKET 4

void hl_worker_config_init(struct hl_worker_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->sighting_updates = true;
	cfg->app_memory_max = 64u << 20;
	cfg->stream_depth = 1u << 20;
}

static void on_flow_end(void *ctx, struct hl_flow *flow, enum hl_flow_end_reason why)
{
	(void)why;
	hl_worker_t *w = ctx;
	struct flow_state *fs = flow->user;
	hl_worker_end_apps(w, flow);
	if (fs->evidence != NULL && hl_evidence_finish(fs->evidence) == 1)
		hl_worker_evidence_ready(w, flow);
	hl_worker_final_sightings(w, flow);
	hl_worker_free_sightings(fs);
	hl_evidence_flow_destroy(&fs->evidence);
}

hl_worker_t *hl_worker_new(const struct hl_worker_config *cfg, unsigned index)
{
	hl_worker_t *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->cfg = *cfg;
	w->index = index;
	struct hl_flow_config fcfg = cfg->flow;
	fcfg.user_size = sizeof(struct flow_state);
	if (hl_decoder_init(&w->decoder, &cfg->decoder) != 0)
		goto fail;
	w->flows = hl_flow_table_new(&fcfg, on_flow_end, w);
	if (w->flows == NULL || hl_tcp_reorder_init(&w->reorder, &cfg->reorder) != 0)
		goto fail;
	if (cfg->slot != NULL) {
		w->gen = hl_matcher_slot_acquire(cfg->slot);
		if (w->gen == NULL)
			goto fail;
		w->matcher = hl_matcher_gen_matcher(w->gen);
		w->generation = hl_matcher_gen_number(w->gen);
	} else {
		w->matcher = cfg->matcher;
	}
	w->scratch = hl_scratch_new(w->matcher);
	if (w->scratch == NULL)
		goto fail;
	if (cfg->enrich != NULL) {
		w->enrich_cache = hl_enrich_cache_new(4096);
		if (w->enrich_cache == NULL)
			goto fail;
	}
	if (cfg->evidence != NULL) {
		w->evidence = hl_evidence_worker_new(cfg->evidence);
		if (w->evidence == NULL)
			goto fail;
	}
	w->has_payload_rules = hl_matcher_has_payload(w->matcher);
	return w;
fail:
	hl_worker_destroy(&w);
	return NULL;
}

void hl_worker_destroy(hl_worker_t **w_p)
{
	hl_worker_t *w = *w_p;
	if (w == NULL)
		return;
	if (w->flows != NULL)
		hl_flow_table_flush(w->flows); /* frees per-flow state; no output after flush */
	hl_flow_table_destroy(&w->flows);
	hl_evidence_worker_destroy(&w->evidence);
	hl_enrich_cache_destroy(&w->enrich_cache);
	hl_decoder_destroy(&w->decoder);
	hl_scratch_destroy(&w->scratch);
	hl_matcher_gen_release(&w->gen);
	free(w);
	*w_p = NULL;
}

/* Streams were opened on the old databases: close them (matches that
 * needed the end of data are dropped, as at a gap); the next bytes of each
 * direction open a stream on the new set. */
static void close_streams(void *ctx, struct hl_flow *flow)
{
	hl_worker_t *w = ctx;
	struct flow_state *fs = flow->user;
	for (int dir = 0; dir < 2; dir++) {
		if (fs->stream[dir] != NULL)
			hl_stream_close(&fs->stream[dir], w->scratch, flow->last_seen, NULL, NULL);
	}
}

/* Take up the slot's newest generation, between two packets. */
static void switch_generation(hl_worker_t *w)
{
	hl_matcher_gen_t *next = hl_matcher_slot_acquire(w->cfg.slot);
	if (next == NULL)
		return;
	const hl_matcher_t *m = hl_matcher_gen_matcher(next);
	if (hl_scratch_grow(w->scratch, m) != 0) {
		hl_matcher_gen_release(&next); /* keep the old set; try again later */
		w->st.match_errors++;
		return;
	}
	hl_flow_table_foreach(w->flows, close_streams, w);
	hl_matcher_gen_release(&w->gen);
	w->gen = next;
	w->matcher = m;
	w->generation = hl_matcher_gen_number(next);
	w->has_payload_rules = hl_matcher_has_payload(m);
	w->st.switches++;
}

void hl_worker_process(hl_worker_t *w, const struct hl_frame *frame)
{
	if (w->cfg.slot != NULL && hl_matcher_slot_generation(w->cfg.slot) != w->generation)
		switch_generation(w);
	w->st.packets++;
	w->st.bytes += frame->wirelen;
	if (frame->ts > w->st.last_ts)
		w->st.last_ts = frame->ts;
	struct hl_packet pkt;
	int rc = hl_decode(&w->decoder, frame->linktype, frame->data, frame->caplen, frame->wirelen,
	                   frame->ts, &pkt);
	hl_flow_table_expire(w->flows, frame->ts, HL_WORKER_EXPIRE_PER_PACKET);
	if (rc != HL_DECODE_OK)
		return;
	int dir = 0;
	bool created = false;
	struct hl_flow *flow = hl_flow_lookup(w->flows, &pkt, &dir, &created);
	if (flow == NULL)
		return;
	w->st.decoded++;
	struct flow_state *fs = flow->user;
	if (w->evidence != NULL) {
		/* before matching, so the packet that matches is in the file */
		if (fs->evidence == NULL && created)
			fs->evidence = hl_evidence_flow_new(w->evidence);
		if (fs->evidence != NULL && hl_evidence_add_packet(fs->evidence, frame) == 1)
			hl_worker_evidence_ready(w, flow);
	}
	if (created)
		hl_worker_match_addresses(w, flow, pkt.ts);
	if (pkt.proto == 6)
		hl_worker_tcp(w, flow, dir, &pkt);
	else if (pkt.proto == 17)
		hl_worker_udp(w, flow, &pkt);
}

void hl_worker_flush(hl_worker_t *w)
{
	hl_flow_table_flush(w->flows);
}

void hl_worker_stats(const hl_worker_t *w, struct hl_worker_stats *st)
{
	*st = w->st;
	st->decode = w->decoder.stats;
	hl_flow_table_stats(w->flows, &st->flow);
	st->tcp = w->reorder.st;
	st->app_memory = w->app_memory;
	st->generation = w->generation;
	if (w->evidence != NULL)
		hl_evidence_worker_stats(w->evidence, &st->evidence);
	if (w->enrich_cache != NULL)
		hl_enrich_cache_stats(w->enrich_cache, &st->enrich);
}
