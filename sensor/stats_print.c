/* \summary: the sensor's stats block, as text or as one JSON line */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "stats_print.h"

static uint64_t decode_kind_total(const struct hl_decode_stats *d, enum hl_decode_kind kind)
{
	uint64_t n = 0;
	for (int r = 1; r < HL_DECODE_REASON_COUNT; r++) {
		if (hl_decode_reason_kind(r) == kind)
			n += d->by_reason[r];
	}
	return n;
}

static uint64_t sum(const uint64_t *v, size_t n)
{
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += v[i];
	return t;
}

static void print_reasons(const struct hl_decode_stats *d, enum hl_decode_kind kind, FILE *out)
{
	const char *sep = " (";
	for (int r = 1; r < HL_DECODE_REASON_COUNT; r++) {
		if (hl_decode_reason_kind(r) == kind && d->by_reason[r] != 0) {
			fprintf(out, "%s%s %llu", sep, hl_decode_reason_name(r),
			        (unsigned long long)d->by_reason[r]);
			sep = ", ";
		}
	}
	if (strcmp(sep, ", ") == 0)
		fputc(')', out);
}

static json_t *reasons_json(const struct hl_decode_stats *d)
{
	json_t *o = json_object();
	for (int r = 1; r < HL_DECODE_REASON_COUNT; r++) {
		if (d->by_reason[r] != 0)
			json_object_set_new(o, hl_decode_reason_name(r),
			                    json_integer((json_int_t)d->by_reason[r]));
	}
	return o;
}

static uint64_t dns_malformed(const struct hl_worker_stats *t)
{
	return sum(t->dns.malformed, HL_DNS_MALFORMED_COUNT);
}

static uint64_t http_malformed(const struct hl_worker_stats *t)
{
	return sum(t->http.malformed, HL_HTTP_MALFORMED_COUNT);
}

static uint64_t tls_malformed(const struct hl_worker_stats *t)
{
	return sum(t->tls.malformed, HL_TLS_MALFORMED_COUNT);
}

static json_t *link_json(const struct hl_sharer_link_stats *l)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "queued",
	                 (json_int_t)l->queued, "sent", (json_int_t)l->sent, "acked",
	                 (json_int_t)l->acked, "resent", (json_int_t)l->resent, "pending",
	                 (json_int_t)l->pending, "dropped", (json_int_t)l->dropped, "refused",
	                 (json_int_t)l->refused, "invalid", (json_int_t)l->invalid, "disconnects",
	                 (json_int_t)l->disconnects, "messages_acked",
	                 (json_int_t)l->messages_acked);
}

/* What the configured bounds hold and what they refused: the numbers an
 * operator sizes memory with (docs/operations.md, "Bounds and defaults"). */
static void add_bounds_json(json_t *o, const struct hl_worker_stats *t)
{
	json_t *flows = json_object_get(o, "flows");
	if (flows != NULL) {
		json_object_set_new(flows, "capacity", json_integer((json_int_t)t->flow.capacity));
		json_object_set_new(flows, "active_max",
		                    json_integer((json_int_t)t->flow.active_max));
		json_object_set_new(flows, "flushed", json_integer((json_int_t)t->flow.flushed));
	}
	const struct hl_decode_counters *d = &t->decode.n;
	json_object_set_new(
	        o, "frag",
	        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "active",
	                  (json_int_t)t->decode.frag_active, "memory",
	                  (json_int_t)t->decode.frag_mem, "memory_peak",
	                  (json_int_t)t->decode.frag_mem_peak, "held", (json_int_t)d->fragment_held,
	                  "reassembled", (json_int_t)d->frag_reassembled, "evicted",
	                  (json_int_t)d->frag_evicted, "timeout", (json_int_t)d->frag_timeout,
	                  "limit", (json_int_t)d->frag_limit, "nomem", (json_int_t)d->frag_nomem,
	                  "too_big", (json_int_t)d->frag_too_big, "overlap",
	                  (json_int_t)d->frag_overlap));
	const struct hl_tcp_reorder_stats *r = &t->tcp;
	json_object_set_new(
	        o, "tcp",
	        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	                  "segments", (json_int_t)r->segments, "bytes_in", (json_int_t)r->bytes_in,
	                  "bytes_out", (json_int_t)r->bytes_out, "out_of_order",
	                  (json_int_t)r->out_of_order, "retransmits", (json_int_t)r->retransmits,
	                  "overlaps", (json_int_t)r->overlaps, "gaps", (json_int_t)r->gaps,
	                  "gap_bytes", (json_int_t)r->gap_bytes, "overflows",
	                  (json_int_t)r->overflows, "out_of_window", (json_int_t)r->out_of_window,
	                  "after_close", (json_int_t)r->after_close, "held",
	                  (json_int_t)r->held_bytes, "held_peak", (json_int_t)r->held_peak));
	json_object_set_new(o, "payload",
	                    json_pack("{s:I, s:I, s:I, s:I}", "depth_skipped",
	                              (json_int_t)t->depth_skipped, "app_memory",
	                              (json_int_t)t->app_memory, "app_memory_refused",
	                              (json_int_t)t->app_memory_refused, "match_errors",
	                              (json_int_t)t->match_errors));
	const struct hl_evidence_worker_stats *e = &t->evidence;
	json_object_set_new(
	        o, "evidence",
	        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "triggered",
	                  (json_int_t)e->triggered, "written", (json_int_t)e->written, "failed",
	                  (json_int_t)e->failed, "flows_refused", (json_int_t)e->flows_refused,
	                  "cut_short", (json_int_t)e->cut_short, "memory",
	                  (json_int_t)e->memory_used, "memory_peak", (json_int_t)e->memory_peak));
}

static void print_json(const struct hl_engine_result *r, const struct hl_sharer_link_stats *link,
                       bool final, FILE *out)
{
	const struct hl_worker_stats *t = &r->total;
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	json_t *o = json_pack(
	        "{s:s, s:b, s:f, s:f, s:I, s:I, s:f, s:f, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, "
	        "s:o}, "
	        "s:{s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I}, s:I}",
	        "event", "stats", "final", final, "seconds", r->seconds, "cpu_seconds",
	        r->cpu_seconds, "packets", (json_int_t)r->capture.packets, "bytes",
	        (json_int_t)r->capture.bytes, "pps", (double)r->capture.packets / secs, "gbps",
	        (double)r->capture.bytes * 8 / secs / 1e9, "drops", "kernel",
	        (json_int_t)r->capture.kernel_drops, "interface",
	        (json_int_t)r->capture.interface_drops, "internal",
	        (json_int_t)t->app_memory_refused, "decode", "malformed",
	        (json_int_t)decode_kind_total(&t->decode, HL_DECODE_KIND_MALFORMED), "truncated",
	        (json_int_t)decode_kind_total(&t->decode, HL_DECODE_KIND_TRUNCATED), "skipped",
	        (json_int_t)decode_kind_total(&t->decode, HL_DECODE_KIND_SKIP), "reasons",
	        reasons_json(&t->decode), "flows", "created",
	        (json_int_t)sum(t->flow.created, HL_FLOW_P_COUNT), "active",
	        (json_int_t)t->flow.active, "expired",
	        (json_int_t)sum(t->flow.expired, HL_FLOW_P_COUNT), "evicted",
	        (json_int_t)t->flow.evicted, "memory", (json_int_t)t->flow.memory, "extract",
	        "dns_queries", (json_int_t)t->dns.queries, "dns_malformed",
	        (json_int_t)dns_malformed(t), "http_requests", (json_int_t)t->http.requests,
	        "http_malformed", (json_int_t)http_malformed(t), "tls_hellos",
	        (json_int_t)t->tls.hellos, "tls_malformed", (json_int_t)tls_malformed(t),
	        "sightings", "first", (json_int_t)t->sightings, "updates", (json_int_t)t->updates,
	        "input_errors", (json_int_t)r->input_errors);
	if (o == NULL)
		return;
	add_bounds_json(o, t);
	if (link != NULL)
		json_object_set_new(o, "sharer", link_json(link));
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line != NULL)
		fprintf(out, "%s\n", line);
	free(line);
	json_decref(o);
}

void hl_engine_print_stats(const struct hl_engine_result *r, bool json, bool final, FILE *out)
{
	hl_sensor_print_stats(r, NULL, json, final, out);
}

void hl_sensor_print_stats(const struct hl_engine_result *r,
                           const struct hl_sharer_link_stats *link, bool json, bool final,
                           FILE *out)
{
	if (json) {
		print_json(r, link, final, out);
		return;
	}
	const struct hl_worker_stats *t = &r->total;
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	fprintf(out,
	        "stats%s: %llu packets, %.1f MB in %.2f s (%.0f pps, %.3f Gbit/s, %.2f CPU s); "
	        "drops: kernel %llu, interface %llu, inspection budget %llu\n",
	        final ? " (final)" : "", (unsigned long long)r->capture.packets,
	        (double)r->capture.bytes / 1e6, r->seconds, (double)r->capture.packets / secs,
	        (double)r->capture.bytes * 8 / secs / 1e9, r->cpu_seconds,
	        (unsigned long long)r->capture.kernel_drops,
	        (unsigned long long)r->capture.interface_drops,
	        (unsigned long long)t->app_memory_refused);
	fprintf(out, "  decode: malformed %llu",
	        (unsigned long long)decode_kind_total(&t->decode, HL_DECODE_KIND_MALFORMED));
	print_reasons(&t->decode, HL_DECODE_KIND_MALFORMED, out);
	fprintf(out, ", truncated %llu",
	        (unsigned long long)decode_kind_total(&t->decode, HL_DECODE_KIND_TRUNCATED));
	print_reasons(&t->decode, HL_DECODE_KIND_TRUNCATED, out);
	fprintf(out, ", skipped %llu",
	        (unsigned long long)decode_kind_total(&t->decode, HL_DECODE_KIND_SKIP));
	print_reasons(&t->decode, HL_DECODE_KIND_SKIP, out);
	if (decode_kind_total(&t->decode, HL_DECODE_KIND_EVENT) > 0) {
		fprintf(out, ", events");
		print_reasons(&t->decode, HL_DECODE_KIND_EVENT, out);
	}
	fputc('\n', out);
	fprintf(out,
	        "  flows: created %llu, active %llu, expired %llu, evicted %llu (%.1f MB table)\n",
	        (unsigned long long)sum(t->flow.created, HL_FLOW_P_COUNT),
	        (unsigned long long)t->flow.active,
	        (unsigned long long)sum(t->flow.expired, HL_FLOW_P_COUNT),
	        (unsigned long long)t->flow.evicted, (double)t->flow.memory / 1e6);
	fprintf(out,
	        "  tcp: %llu segments, %llu out of order, %llu retransmits, %llu gaps, "
	        "%llu overflows (held peak %.1f MB); payload past stream depth %llu bytes\n",
	        (unsigned long long)t->tcp.segments, (unsigned long long)t->tcp.out_of_order,
	        (unsigned long long)t->tcp.retransmits, (unsigned long long)t->tcp.gaps,
	        (unsigned long long)t->tcp.overflows, (double)t->tcp.held_peak / 1e6,
	        (unsigned long long)t->depth_skipped);
	if (t->decode.n.fragment_held > 0)
		fprintf(out,
		        "  fragments: %llu held, %llu reassembled, %llu evicted, %llu timed out; "
		        "%llu reassemblies open (%.1f MB, peak %.1f MB)\n",
		        (unsigned long long)t->decode.n.fragment_held,
		        (unsigned long long)t->decode.n.frag_reassembled,
		        (unsigned long long)t->decode.n.frag_evicted,
		        (unsigned long long)t->decode.n.frag_timeout,
		        (unsigned long long)t->decode.frag_active, (double)t->decode.frag_mem / 1e6,
		        (double)t->decode.frag_mem_peak / 1e6);
	fprintf(out,
	        "  extract: dns queries %llu (malformed %llu), http requests %llu (malformed "
	        "%llu), "
	        "tls hellos %llu (malformed %llu)\n",
	        (unsigned long long)t->dns.queries, (unsigned long long)dns_malformed(t),
	        (unsigned long long)t->http.requests, (unsigned long long)http_malformed(t),
	        (unsigned long long)t->tls.hellos, (unsigned long long)tls_malformed(t));
	fprintf(out, "  sightings: %llu (+%llu end-of-flow updates), output errors %llu%s\n",
	        (unsigned long long)t->sightings, (unsigned long long)t->updates,
	        (unsigned long long)t->output_errors, r->input_errors ? ", INPUT ERRORS" : "");
	if (link != NULL)
		fprintf(out,
		        "  sharer: queued %lu, sent %lu, acked %lu, resent %lu, pending %lu; "
		        "dropped "
		        "%lu, refused %lu, invalid %lu; disconnects %lu\n",
		        link->queued, link->sent, link->acked, link->resent, link->pending,
		        link->dropped, link->refused, link->invalid, link->disconnects);
}
