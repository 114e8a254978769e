/* \summary: one sighting per (indicator, flow): first record, then the update */
#include "worker_int.h"

#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"

static void fill_flow(struct hl_sighting_flow *out, const struct hl_flow *flow)
{
	memset(out, 0, sizeof *out);
	out->family = flow->tuple.family;
	out->proto = flow->tuple.proto;
	memcpy(out->src, flow->tuple.addr_a, 16);
	memcpy(out->dst, flow->tuple.addr_b, 16);
	out->sport = flow->tuple.port_a;
	out->dport = flow->tuple.port_b;
	/* ICMP flows are keyed on the echo id in both "ports"; a record shows none. */
	if (out->proto != 6 && out->proto != 17 && out->proto != 132)
		out->sport = out->dport = 0;
	for (unsigned i = 0; i < HL_PKT_MAX_VLANS && flow->tuple.vlan[i] != 0; i++)
		out->vlan[out->vlan_count++] = flow->tuple.vlan[i];
}

static void emit(hl_worker_t *w, const struct hl_flow *flow, const struct flow_sighting *fsg,
                 bool final)
{
	const struct flow_state *fs = flow->user;
	struct hl_sighting s;
	memset(&s, 0, sizeof s);
	s.first_seen = fsg->first_seen;
	s.last_seen = fsg->last_seen;
	s.count = fsg->count;
	s.final = final;
	s.indicator = &fsg->ind;
	s.field = fsg->field;
	s.value = fsg->value;
	s.value_len = fsg->value_len;
	s.has_offset = fsg->has_offset;
	s.offset = fsg->offset;
	fill_flow(&s.flow, flow);
	if (fs->tls != NULL) {
		s.tls.present = true;
		s.tls.sni = fs->tls->sni;
		s.tls.ja3 = fs->tls->ja3;
		memcpy(s.tls.ja3_hash, fs->tls->ja3_hash, sizeof s.tls.ja3_hash);
		memcpy(s.tls.ja4, fs->tls->ja4, sizeof s.tls.ja4);
	}
	/* per record, not per packet; the worker's cache absorbs repeats */
	if (w->cfg.enrich != NULL)
		hl_enrich_sighting(w->cfg.enrich, w->enrich_cache, w->cfg.home_net, &s);
	if (fs->evidence != NULL)
		hl_evidence_to_sighting(hl_evidence_result(fs->evidence), &s.evidence);
	char *line = hl_sighting_to_json(&s, w->cfg.sensor_name);
	if (line == NULL) {
		w->st.output_errors++;
		return;
	}
	size_t len = strlen(line);
	for (size_t i = 0; i < w->cfg.n_outputs; i++) {
		if (hl_output_write(w->cfg.outputs[i], line, len) != 0)
			w->st.output_errors++;
	}
	free(line);
	if (final)
		w->st.updates++;
	else
		w->st.sightings++;
}

/* The same indicator across generations is the same id. */
static struct flow_sighting *find(struct flow_state *fs, uint64_t generation, uint32_t index,
                                  const char *id)
{
	for (uint32_t i = 0; i < fs->n_sightings; i++) {
		struct flow_sighting *fsg = &fs->sightings[i];
		if (fsg->generation == generation ? fsg->index == index
		                                  : strcmp(fsg->ind.id, id) == 0)
			return fsg;
	}
	return NULL;
}

static struct flow_sighting *add(struct flow_state *fs)
{
	if (fs->n_sightings == fs->cap_sightings) {
		uint32_t cap = fs->cap_sightings ? fs->cap_sightings * 2 : 2;
		struct flow_sighting *grown = realloc(fs->sightings, cap * sizeof *grown);
		if (grown == NULL)
			return NULL;
		fs->sightings = grown;
		fs->cap_sightings = cap;
	}
	struct flow_sighting *fsg = &fs->sightings[fs->n_sightings++];
	memset(fsg, 0, sizeof *fsg);
	hl_indicator_init(&fsg->ind);
	return fsg;
}

int hl_worker_on_match(void *ctx, const struct hl_match *m)
{
	struct match_ctx *mc = ctx;
	struct flow_state *fs = mc->flow->user;
	hl_worker_t *w = mc->w;
	/* A view into the matcher, no allocation; the record keeps a copy. */
	struct hl_indicator view;
	char idbuf[HL_MATCHER_ID_BUF];
	if (hl_matcher_view(w->matcher, m->indicator, &view, idbuf) != 0) {
		w->st.output_errors++;
		return 0;
	}
	const struct hl_indicator *ind = &view;
	struct flow_sighting *fsg = find(fs, w->generation, m->indicator, ind->id);
	if (fsg != NULL) {
		fsg->count++;
		if (mc->ts > fsg->last_seen)
			fsg->last_seen = mc->ts;
		return 0;
	}
	fsg = add(fs);
	if (fsg == NULL || hl_indicator_copy(&fsg->ind, ind) != 0) {
		if (fsg != NULL)
			fs->n_sightings--;
		w->st.output_errors++;
		return 0;
	}
	fsg->generation = w->generation;
	fsg->index = m->indicator;
	fsg->field = m->field;
	fsg->first_seen = fsg->last_seen = mc->ts;
	fsg->count = 1;
	if (mc->value != NULL) {
		fsg->value = malloc(mc->value_len + 1);
		if (fsg->value != NULL) {
			memcpy(fsg->value, mc->value, mc->value_len);
			fsg->value[mc->value_len] = '\0';
			fsg->value_len = mc->value_len;
		}
	}
	if (mc->has_offset) {
		fsg->has_offset = true;
		fsg->offset = mc->offset_base + m->offset;
	}
	/* With evidence on, the first record waits for the pcap it names. */
	if (fs->evidence != NULL && hl_evidence_trigger(fs->evidence) == 0)
		fsg->pending = true;
	else
		emit(w, mc->flow, fsg, false);
	return 0;
}

void hl_worker_evidence_ready(hl_worker_t *w, struct hl_flow *flow)
{
	struct flow_state *fs = flow->user;
	for (uint32_t i = 0; i < fs->n_sightings; i++) {
		if (fs->sightings[i].pending) {
			fs->sightings[i].pending = false;
			emit(w, flow, &fs->sightings[i], false);
		}
	}
}

void hl_worker_match_addresses(hl_worker_t *w, struct hl_flow *flow, int64_t ts)
{
	const struct hl_flow_tuple *t = &flow->tuple;
	char text[HL_IP_STR_MAX];
	struct match_ctx mc = {.w = w, .flow = flow, .ts = ts, .value = text};
	const uint8_t *addr[2] = {t->addr_a, t->addr_b};
	const enum hl_field field[2] = {HL_FIELD_SRC_IP, HL_FIELD_DST_IP};
	for (int i = 0; i < 2; i++) {
		if (hl_addr_format(t->family, addr[i], text, sizeof text) != 0)
			continue;
		mc.value_len = strlen(text);
		if (hl_match_addr(w->matcher, field[i], t->family, addr[i], ts, hl_worker_on_match,
		                  &mc) < 0)
			w->st.match_errors++;
	}
}

void hl_worker_match_observation(hl_worker_t *w, struct hl_flow *flow, enum hl_field field,
                                 const char *value, size_t len, int64_t ts)
{
	struct match_ctx mc = {.w = w, .flow = flow, .ts = ts, .value = value, .value_len = len};
	if (hl_match_field(w->matcher, w->scratch, field, value, len, ts, hl_worker_on_match, &mc) <
	    0)
		w->st.match_errors++;
}

void hl_worker_final_sightings(hl_worker_t *w, struct hl_flow *flow)
{
	struct flow_state *fs = flow->user;
	/* evidence that never completed: the held records go out without it */
	hl_worker_evidence_ready(w, flow);
	if (!w->cfg.sighting_updates)
		return;
	for (uint32_t i = 0; i < fs->n_sightings; i++) {
		struct flow_sighting *fsg = &fs->sightings[i];
		if (fsg->field == HL_FIELD_SRC_IP || fsg->field == HL_FIELD_DST_IP) {
			/* an address matches every packet of its flow */
			fsg->count = flow->pkts[0] + flow->pkts[1];
			fsg->last_seen = flow->last_seen;
		}
		emit(w, flow, fsg, true);
	}
}

void hl_worker_free_sightings(struct flow_state *fs)
{
	for (uint32_t i = 0; i < fs->n_sightings; i++) {
		free(fs->sightings[i].value);
		hl_indicator_clear(&fs->sightings[i].ind);
	}
	free(fs->sightings);
	fs->sightings = NULL;
	fs->n_sightings = fs->cap_sightings = 0;
	if (fs->tls != NULL) {
		free(fs->tls->sni);
		free(fs->tls->ja3);
		free(fs->tls);
		fs->tls = NULL;
	}
}
