/* \summary: application-layer dispatch: DNS, HTTP, TLS and payload scans
 *
 * UDP: a datagram to or from port 53 is parsed as DNS; every datagram is
 * scanned in block mode when the set has payload indicators.
 * TCP: each direction's ordered bytes (tcp_reorder) go to the payload
 * stream scan; the initiator's direction also goes to one extractor,
 * chosen by its first bytes: a TLS handshake record, DNS when either port
 * is 53, else HTTP (which gives up quickly on anything else). Extractor
 * state is allocated on first use from a per-worker budget and freed as
 * soon as the extractor has nothing more to find.
 */
#include "worker_int.h"

#include <stdlib.h>
#include <string.h>

#include "extract_dns.h"
#include "extract_http.h"
#include "extract_tls.h"

#define DNS_PORT 53

struct app_ctx {
	hl_worker_t *w;
	struct hl_flow *flow;
	int dir;
	int64_t ts;
};

static int on_observation(void *ctx, const struct hl_observation *obs)
{
	struct app_ctx *ac = ctx;
	hl_worker_match_observation(ac->w, ac->flow, obs->field, obs->value, obs->len, ac->ts);
	return 0;
}

void hl_worker_udp(hl_worker_t *w, struct hl_flow *flow, const struct hl_packet *p)
{
	if (p->payload_len == 0)
		return;
	if (p->sport == DNS_PORT || p->dport == DNS_PORT) {
		struct app_ctx ac = {w, flow, 0, p->ts};
		hl_dns_parse(p->payload, p->payload_len, on_observation, &ac, &w->st.dns);
	}
	if (w->has_payload_rules) {
		struct match_ctx mc = {.w = w, .flow = flow, .ts = p->ts, .has_offset = true};
		if (hl_match_field(w->matcher, w->scratch, HL_FIELD_UDP_PAYLOAD, p->payload,
		                   p->payload_len, p->ts, hl_worker_on_match, &mc) < 0)
			w->st.match_errors++;
	}
}

static void release_app(hl_worker_t *w, struct flow_state *fs, int dir)
{
	free(fs->app_state[dir]);
	w->app_memory -= fs->app_bytes[dir];
	fs->app_state[dir] = NULL;
	fs->app_bytes[dir] = 0;
}

static void *claim_app(hl_worker_t *w, struct flow_state *fs, int dir, size_t bytes)
{
	if (w->app_memory + bytes > w->cfg.app_memory_max) {
		w->st.app_memory_refused++;
		return NULL;
	}
	void *state = malloc(bytes);
	if (state == NULL) {
		w->st.app_memory_refused++;
		return NULL;
	}
	fs->app_state[dir] = state;
	fs->app_bytes[dir] = bytes;
	w->app_memory += bytes;
	return state;
}

static int on_hello(void *ctx, const struct hl_tls_hello *hello)
{
	struct app_ctx *ac = ctx;
	struct flow_state *fs = ac->flow->user;
	if (fs->tls == NULL) {
		struct flow_tls *t = calloc(1, sizeof *t);
		if (t != NULL) {
			t->sni = strdup(hello->sni);
			t->ja3 = strdup(hello->ja3.str);
			memcpy(t->ja3_hash, hello->ja3.md5, sizeof t->ja3_hash);
			t->ja3_hash[sizeof t->ja3_hash - 1] = '\0';
			snprintf(t->ja4, sizeof t->ja4, "%s", hello->ja4);
			fs->tls = t;
		}
	}
	/* The name is matched here rather than as it is read, so that the
	 * first sighting record already carries the fingerprints. */
	if (hello->sni_len > 0)
		hl_worker_match_observation(ac->w, ac->flow, HL_FIELD_TLS_SNI, hello->sni,
		                            hello->sni_len, ac->ts);
	return 1; /* one hello per direction is all TLS shows in clear */
}

static enum app_proto pick_app(const struct hl_flow *flow, const uint8_t *bytes, size_t len)
{
	if (flow->tuple.port_a == DNS_PORT || flow->tuple.port_b == DNS_PORT)
		return APP_DNS;
	if (len > 0 && bytes[0] == 0x16)
		return APP_TLS;
	return APP_HTTP;
}

static size_t app_size(enum app_proto app)
{
	switch (app) {
	case APP_HTTP:
		return sizeof(struct hl_http_state);
	case APP_TLS:
		return sizeof(struct hl_tls_state);
	case APP_DNS:
		return sizeof(struct hl_dns_tcp);
	default:
		return 0;
	}
}

static void app_init(enum app_proto app, void *state)
{
	if (app == APP_HTTP)
		hl_http_init(state);
	else if (app == APP_TLS)
		hl_tls_init(state);
	else if (app == APP_DNS)
		hl_dns_tcp_init(state);
}

/* Feed the initiator's bytes to its extractor; release it when it is done. */
static void feed_app(struct app_ctx *ac, const uint8_t *bytes, size_t len)
{
	hl_worker_t *w = ac->w;
	struct flow_state *fs = ac->flow->user;
	int dir = ac->dir;
	if (fs->app[dir] == APP_UNKNOWN) {
		enum app_proto app = pick_app(ac->flow, bytes, len);
		void *state = claim_app(w, fs, dir, app_size(app));
		if (state == NULL) {
			fs->app[dir] = APP_NONE;
			return;
		}
		app_init(app, state);
		fs->app[dir] = (uint8_t)app;
	}
	int rc = 0;
	uint64_t gave_up_before, gave_up_after;
	switch (fs->app[dir]) {
	case APP_HTTP:
		gave_up_before = w->st.http.not_http + w->st.http.overflowed;
		rc = hl_http_feed(fs->app_state[dir], bytes, len, on_observation, ac, &w->st.http);
		gave_up_after = w->st.http.not_http + w->st.http.overflowed;
		break;
	case APP_TLS:
		gave_up_before = w->st.tls.not_tls + w->st.tls.not_client_hello + w->st.tls.sslv2 +
		                 w->st.tls.overflowed;
		rc = hl_tls_feed(fs->app_state[dir], bytes, len, NULL, on_hello, ac, &w->st.tls);
		gave_up_after = w->st.tls.not_tls + w->st.tls.not_client_hello + w->st.tls.sslv2 +
		                w->st.tls.overflowed;
		break;
	case APP_DNS:
		gave_up_before = gave_up_after = 0;
		rc = hl_dns_tcp_feed(fs->app_state[dir], bytes, len, on_observation, ac,
		                     &w->st.dns);
		break;
	default:
		return;
	}
	if (rc != 0 || gave_up_after != gave_up_before) {
		release_app(w, fs, dir);
		fs->app[dir] = APP_NONE;
	}
}

/* Payload scan of a direction's ordered bytes, up to the stream depth. A
 * gap (offset jump) restarts the Hyperscan stream so no match spans it. */
static void scan_stream(struct app_ctx *ac, const uint8_t *bytes, size_t len, uint64_t offset)
{
	hl_worker_t *w = ac->w;
	struct flow_state *fs = ac->flow->user;
	int dir = ac->dir;
	uint64_t depth = w->cfg.stream_depth;
	if (depth != 0) {
		if (fs->scanned[dir] >= depth) {
			w->st.depth_skipped += len;
			return;
		}
		if (fs->scanned[dir] + len > depth) {
			w->st.depth_skipped += fs->scanned[dir] + len - depth;
			len = (size_t)(depth - fs->scanned[dir]);
		}
	}
	if (fs->stream[dir] != NULL && offset != fs->stream_next[dir])
		hl_stream_close(&fs->stream[dir], w->scratch, ac->ts, NULL, NULL);
	if (fs->stream[dir] == NULL) {
		fs->stream[dir] = hl_stream_open(w->matcher, HL_FIELD_TCP_PAYLOAD);
		if (fs->stream[dir] == NULL) {
			w->st.match_errors++;
			return;
		}
		fs->stream_base[dir] = offset;
	}
	/* the matcher counts from the stream's opening; records count from
	 * the direction's first byte */
	struct match_ctx mc = {.w = w,
	                       .flow = ac->flow,
	                       .ts = ac->ts,
	                       .has_offset = true,
	                       .offset_base = fs->stream_base[dir]};
	if (hl_stream_scan(fs->stream[dir], w->scratch, bytes, len, ac->ts, hl_worker_on_match,
	                   &mc) < 0)
		w->st.match_errors++;
	fs->stream_next[dir] = offset + len;
	fs->scanned[dir] += len;
}

static int on_bytes(void *ctx, const uint8_t *bytes, size_t len, uint64_t offset)
{
	struct app_ctx *ac = ctx;
	struct flow_state *fs = ac->flow->user;
	if (ac->dir == 0 && fs->app[0] != APP_NONE)
		feed_app(ac, bytes, len);
	if (ac->w->has_payload_rules)
		scan_stream(ac, bytes, len, offset);
	return 0;
}

void hl_worker_tcp(hl_worker_t *w, struct hl_flow *flow, int dir, const struct hl_packet *p)
{
	struct flow_state *fs = flow->user;
	struct app_ctx ac = {w, flow, dir, p->ts};
	struct hl_tcp_segment seg = hl_tcp_segment_of(p);
	hl_tcp_reorder_segment(&w->reorder, &fs->tcp[dir], &seg, on_bytes, &ac);
}

void hl_worker_end_apps(hl_worker_t *w, struct hl_flow *flow)
{
	struct flow_state *fs = flow->user;
	for (int dir = 0; dir < 2; dir++) {
		struct app_ctx ac = {w, flow, dir, flow->last_seen};
		hl_tcp_reorder_close(&w->reorder, &fs->tcp[dir], on_bytes, &ac);
		if (fs->app_state[dir] != NULL) {
			if (fs->app[dir] == APP_HTTP)
				hl_http_finish(fs->app_state[dir], &w->st.http);
			else if (fs->app[dir] == APP_TLS)
				hl_tls_finish(fs->app_state[dir], &w->st.tls);
			else if (fs->app[dir] == APP_DNS)
				hl_dns_tcp_finish(fs->app_state[dir], &w->st.dns);
			release_app(w, fs, dir);
		}
		if (fs->stream[dir] != NULL) {
			struct match_ctx mc = {.w = w,
			                       .flow = flow,
			                       .ts = flow->last_seen,
			                       .has_offset = true,
			                       .offset_base = fs->stream_base[dir]};
			hl_stream_close(&fs->stream[dir], w->scratch, flow->last_seen,
			                hl_worker_on_match, &mc);
		}
	}
}
