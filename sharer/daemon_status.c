/* \summary: the daemon's answers to hotline-ctl status and peers (docs/hotline-ctl.md) */
#include "daemon_int.h"

#include <string.h>

#include "hotline/timefmt.h"

#define SET_U(o, k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))

static json_t *time_or_null(int64_t us)
{
	char buf[HL_TIME_ISO_MAX];
	if (us == 0 || hl_time_format(us, buf, sizeof buf) != 0)
		return json_null();
	return json_string(buf);
}

static json_t *exchange_json(const struct hl_exchange_counters *c)
{
	json_t *o = json_object();
	json_t *rej = json_object();
	for (int i = 1; i < HL_WIRE_E_COUNT; i++)
		SET_U(rej, hl_wire_err_name((enum hl_wire_err)i), c->rejected[i]);
	json_object_set_new(o, "rejected", rej);
	SET_U(o, "rejected_total", c->rejected_total);
	SET_U(o, "received", c->received);
	SET_U(o, "from_mismatch", c->from_mismatch);
	SET_U(o, "to_mismatch", c->to_mismatch);
	SET_U(o, "unknown_sender", c->unknown_sender);
	SET_U(o, "duplicates", c->duplicates);
	SET_U(o, "sightings_local", c->sightings_local);
	SET_U(o, "sightings_peer", c->sightings_peer);
	SET_U(o, "sightings_known", c->sightings_known);
	SET_U(o, "acks_sent", c->acks_sent);
	SET_U(o, "nacks_sent", c->nacks_sent);
	SET_U(o, "acks_received", c->acks_received);
	SET_U(o, "nacks_received", c->nacks_received);
	SET_U(o, "acks_unknown", c->acks_unknown);
	SET_U(o, "sent", c->sent);
	SET_U(o, "resent", c->resent);
	SET_U(o, "send_again", c->send_again);
	SET_U(o, "undeliverable", c->undeliverable);
	SET_U(o, "hellos_sent", c->hellos_sent);
	SET_U(o, "hellos_received", c->hellos_received);
	SET_U(o, "heartbeats_sent", c->heartbeats_sent);
	SET_U(o, "heartbeats_received", c->heartbeats_received);
	SET_U(o, "store_errors", c->store_errors);
	SET_U(o, "batches", c->batches);
	SET_U(o, "purged_outbox", c->purged_outbox);
	SET_U(o, "purged_inbox", c->purged_inbox);
	return o;
}

/* The indicator sets: ours pushed to sensors, the peers' received. */
static json_t *ind_push_json(const struct hl_exchange_ind_counters *c)
{
	json_t *o = json_object();
	SET_U(o, "sensor_hellos", c->sensor_hellos);
	SET_U(o, "pushes", c->pushes);
	SET_U(o, "push_parts", c->push_parts);
	SET_U(o, "push_resent", c->push_resent);
	SET_U(o, "push_failed", c->push_failed);
	SET_U(o, "push_acked", c->push_acked);
	SET_U(o, "push_nacked", c->push_nacked);
	SET_U(o, "peer_messages", c->peer_messages);
	SET_U(o, "peer_stored", c->peer_stored);
	SET_U(o, "peer_retracted", c->peer_retracted);
	SET_U(o, "peer_refused", c->peer_refused);
	return o;
}

static json_t *sock_json(hl_tp_sock_t *s)
{
	if (s == NULL)
		return json_null();
	struct hl_tp_counters c;
	hl_tp_counters(s, &c);
	json_t *o = json_object();
	json_object_set_new(o, "endpoint", json_string(hl_tp_endpoint(s)));
	json_object_set_new(o, "state", json_string(hl_tp_state_name(hl_tp_state(s))));
	SET_U(o, "connects", c.connects);
	SET_U(o, "disconnects", c.disconnects);
	SET_U(o, "handshakes_ok", c.handshakes_ok);
	SET_U(o, "handshakes_failed_auth", c.handshakes_failed_auth);
	SET_U(o, "handshakes_failed_protocol", c.handshakes_failed_protocol);
	SET_U(o, "handshakes_failed_other", c.handshakes_failed_other);
	SET_U(o, "msgs_in", c.msgs_in);
	SET_U(o, "msgs_out", c.msgs_out);
	SET_U(o, "dropped_unauthenticated", c.dropped_unauthenticated);
	SET_U(o, "dropped_revoked", c.dropped_revoked);
	SET_U(o, "dropped_frames", c.dropped_frames);
	SET_U(o, "dropped_oversize", c.dropped_oversize);
	SET_U(o, "route_mismatch", c.route_mismatch);
	return o;
}

static json_t *zap_json(hl_transport_t *t)
{
	struct hl_zap_stats z;
	hl_transport_zap_stats(t, &z);
	json_t *o = json_object();
	SET_U(o, "requests", z.requests);
	SET_U(o, "admitted", z.admitted);
	SET_U(o, "refused", z.refused);
	SET_U(o, "refused_unknown_key", z.refused_unknown_key);
	SET_U(o, "refused_mechanism", z.refused_mechanism);
	SET_U(o, "refused_domain", z.refused_domain);
	SET_U(o, "refused_malformed", z.refused_malformed);
	return o;
}

static json_t *status(hl_daemon_t *d)
{
	struct hl_exchange_counters c;
	hl_exchange_counters(d->x, &c);
	struct hl_exchange_ind_counters ic;
	hl_exchange_ind_counters(d->x, &ic);
	size_t sightings = 0, depth = 0;
	hl_store_sighting_count(d->store, &sightings);
	hl_store_outbox_depth(d->store, NULL, &depth);
	int64_t now = hl_daemon_now_us();
	json_t *o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "started_at", time_or_null(d->started_at));
	SET_U(o, "uptime_s", (now - d->started_at) / 1000000);
	SET_U(o, "sightings", sightings);
	SET_U(o, "outbox_depth", depth);
	json_object_set_new(o, "exchange", exchange_json(&c));
	json_object_set_new(o, "indicator_push", ind_push_json(&ic));
	json_object_set_new(o, "listener", sock_json(d->listener));
	json_object_set_new(o, "sensor_listener", sock_json(d->sensor_sock));
	json_object_set_new(o, "zap", zap_json(d->t));
	return o;
}

static json_t *peers(hl_daemon_t *d)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < hl_exchange_peer_count(d->x); i++) {
		struct hl_exchange_peer_info pi;
		if (hl_exchange_peer_info(d->x, i, &pi) != 0)
			continue;
		size_t depth = 0;
		hl_store_outbox_depth(d->store, pi.name, &depth);
		json_t *p = json_object();
		json_object_set_new(p, "name", json_string(pi.name));
		json_object_set_new(p, "state", json_string(hl_tp_state_name(pi.state)));
		json_object_set_new(p, "up_since", time_or_null(pi.up_since));
		json_object_set_new(p, "last_received", time_or_null(pi.last_received));
		json_object_set_new(p, "last_sent", time_or_null(pi.last_sent));
		json_object_set_new(p, "version", json_string(pi.version));
		SET_U(p, "outbox_depth", depth);
		SET_U(p, "inflight", pi.inflight);
		SET_U(p, "received", pi.received);
		SET_U(p, "sent", pi.sent);
		SET_U(p, "resent", pi.resent);
		SET_U(p, "acked", pi.acked);
		SET_U(p, "nacked", pi.nacked);
		json_array_append_new(arr, p);
	}
	return json_pack("{s:b,s:o}", "ok", 1, "peers", arr);
}

json_t *hl_daemon_info(void *ud, const char *cmd, const json_t *req)
{
	(void)req;
	hl_daemon_t *d = ud;
	if (strcmp(cmd, "status") == 0)
		return status(d);
	if (strcmp(cmd, "peers") == 0)
		return peers(d);
	return NULL;
}
