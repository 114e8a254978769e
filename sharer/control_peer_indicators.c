/* \summary: control request: list what one peer's indicator set holds
 *
 *   {"cmd":"indicators-list","peer":"NAME","status":"active"|"retracted"|"all"}
 *
 * The rows of table peer_indicators for NAME (what its "indicators" and
 * "indicator_retract" messages said, docs/exchange.md), never mixed with
 * our own set. A peer is known when the daemon has it configured or the
 * store holds something from it (a peer since removed from the config);
 * any other name is an error that names it, so a typo is not mistaken for
 * an empty set. Spec: docs/hotline-ctl.md.
 */
#include "control_int.h"

#include <string.h>

#include "hotline/err.h"
#include "hotline/timefmt.h"
#include "hotline/wire.h"

static int list_one(void *ud, const struct hl_store_indicator *ind)
{
	json_t *arr = ud;
	char at[HL_TIME_ISO_MAX];
	if (hl_time_format(ind->updated_at, at, sizeof at) != 0)
		at[0] = '\0';
	json_t *rec = json_loads(ind->record, 0, NULL);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:o}", "id", ind->id, "type", ind->type,
	                      "value", ind->value, "tlp", ind->tlp, "status",
	                      hl_ind_status_name(ind->status), "set_version",
	                      (json_int_t)ind->set_version, "updated_at", at, "record",
	                      rec != NULL ? rec : json_string(ind->record));
	if (o == NULL || json_array_append_new(arr, o) != 0)
		return HL_ENOMEM;
	return 0;
}

static bool configured(const json_t *peers, const char *name)
{
	size_t i;
	const json_t *p;
	json_array_foreach(peers, i, p)
	{
		const char *n = json_string_value(json_object_get(p, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* "status": absent or null is active; a peer's rows are never quarantined. */
static json_t *parse_status(const json_t *v, bool *all, enum hl_ind_status *one)
{
	*all = false;
	*one = HL_IND_ACTIVE;
	if (v == NULL || json_is_null(v))
		return NULL;
	const char *st = json_string_value(v);
	if (st == NULL)
		return hl_control_error("status: not a string");
	if (strcmp(st, "all") == 0) {
		*all = true;
		return NULL;
	}
	if (hl_ind_status_parse(st, one) == 0 && *one != HL_IND_QUARANTINED)
		return NULL;
	return hl_control_error("status: \"%s\" is not active, retracted or all (a peer's set "
	                        "holds no quarantined indicators)",
	                        st);
}

json_t *hl_control_peer_indicators(hl_store_t *store, const json_t *req, const json_t *peers)
{
	const char *peer = json_string_value(json_object_get(req, "peer"));
	if (peer == NULL || !hl_wire_name_valid(peer))
		return hl_control_error("peer: not a party name ([A-Za-z0-9_.-], 1 to %d)",
		                        HL_WIRE_NAME_MAX);
	bool all;
	enum hl_ind_status one;
	json_t *bad = parse_status(json_object_get(req, "status"), &all, &one);
	if (bad != NULL)
		return bad;
	size_t active = 0, retracted = 0;
	int rc = hl_store_peer_indicator_count(store, peer, HL_IND_ACTIVE, &active);
	if (rc == 0)
		rc = hl_store_peer_indicator_count(store, peer, HL_IND_RETRACTED, &retracted);
	if (rc != 0)
		return hl_control_error("store: %s", hl_store_errmsg(store));
	bool conf = configured(peers, peer);
	if (!conf && active + retracted == 0)
		return hl_control_error(
		        "no peer \"%s\": not configured, and nothing stored from it", peer);
	json_t *arr = json_array();
	rc = arr == NULL ? HL_ENOMEM : 0;
	if (rc == 0 && (all || one == HL_IND_ACTIVE))
		rc = hl_store_peer_indicators_list(store, peer, HL_IND_ACTIVE, list_one, arr, NULL);
	if (rc == 0 && (all || one == HL_IND_RETRACTED))
		rc = hl_store_peer_indicators_list(store, peer, HL_IND_RETRACTED, list_one, arr,
		                                   NULL);
	if (rc != 0) {
		json_decref(arr);
		return hl_control_error("store: %s",
		                        rc == HL_ENOMEM ? "out of memory" : hl_store_errmsg(store));
	}
	json_t *rep = json_pack("{s:b,s:s,s:b,s:I,s:I,s:I}", "ok", 1, "peer", peer, "configured",
	                        conf, "active", (json_int_t)active, "retracted",
	                        (json_int_t)retracted, "count", (json_int_t)json_array_size(arr));
	if (rep == NULL)
		json_decref(arr);
	if (rep == NULL || json_object_set_new(rep, "indicators", arr) != 0) {
		json_decref(rep); /* set_new takes arr even when it fails */
		return hl_control_error("out of memory");
	}
	return rep;
}
