/* \summary: control requests on the local indicator set: list, add, retract
 *
 *   {"cmd":"indicators-list","status":"active"|"quarantined"|"retracted"|"all"}
 *   {"cmd":"indicators-add","indicators":[native indicator objects]}
 *   {"cmd":"indicators-retract","ids":["ID", ...]}
 *
 * hotline-ctl reads the analyst's file (any format) and sends canonical
 * native objects; they are read again here through the native reader,
 * because the control socket is a boundary like any other. A change is all
 * or nothing: every indicator is valid and every id known, or nothing is
 * stored. The rows and the next set version (with the new set hash) are one
 * store transaction, so a set version always names what was committed.
 * Spec: docs/hotline-ctl.md.
 */
#include "control_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/iset.h"
#include "hotline/parse.h"
#include "hotline/timefmt.h"

/* The latest set version and hash into reply (none yet: 0 and ""). */
static int add_version(hl_store_t *store, json_t *reply)
{
	struct hl_store_set_version v;
	int rc = hl_store_set_version_latest(store, &v);
	if (rc == HL_ENOTFOUND) {
		memset(&v, 0, sizeof v);
		rc = 0;
	}
	if (rc == 0) {
		json_object_set_new(reply, "set_version", json_integer((json_int_t)v.version));
		json_object_set_new(reply, "set_hash", json_string(v.hash));
	}
	return rc;
}

/* ---- list --------------------------------------------------------------- */

static int list_one(void *ud, const struct hl_store_indicator *ind)
{
	json_t *arr = ud;
	char at[HL_TIME_ISO_MAX];
	hl_time_format(ind->updated_at, at, sizeof at);
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

static json_t *cmd_list(hl_store_t *store, const json_t *req)
{
	const char *st = json_string_value(json_object_get(req, "status"));
	enum hl_ind_status one = HL_IND_ACTIVE;
	bool all = st != NULL && strcmp(st, "all") == 0;
	if (st != NULL && !all && hl_ind_status_parse(st, &one) != 0)
		return hl_control_error(
		        "status: \"%s\" is not active, quarantined, retracted or all", st);
	json_t *arr = json_array();
	json_t *rep = json_pack("{s:b}", "ok", 1);
	int rc = arr == NULL || rep == NULL ? HL_ENOMEM : 0;
	for (int i = HL_IND_ACTIVE; i <= HL_IND_RETRACTED && rc == 0; i++)
		if (all || (enum hl_ind_status)i == one)
			rc = hl_store_indicators_list(store, (enum hl_ind_status)i, list_one, arr,
			                              NULL);
	if (rc == 0)
		rc = add_version(store, rep);
	if (rc != 0) {
		json_decref(arr);
		json_decref(rep);
		return hl_control_error("store: %s",
		                        rc == HL_ENOMEM ? "out of memory" : hl_store_errmsg(store));
	}
	json_object_set_new(rep, "count", json_integer((json_int_t)json_array_size(arr)));
	json_object_set_new(rep, "indicators", arr);
	return rep;
}

/* ---- add ---------------------------------------------------------------- */

/* Keeps the first error's text (ctx: char[256]). */
static void first_error(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                        const char *msg)
{
	char *out = ctx;
	if (level == HL_DIAG_ERROR && out[0] == '\0')
		snprintf(out, 256, "%s[%lu]: %s", file, line > 0 ? line - 1 : 0, msg);
}

/* The request's objects through the native reader: one line each, so a
 * diagnostic's line is the array index + 1. */
static int read_request(const json_t *arr, hl_iset_t *set, char why[256])
{
	size_t cap = 4096, len = 0, i;
	char *buf = malloc(cap);
	const json_t *v;
	int rc = buf == NULL ? HL_ENOMEM : 0;
	json_array_foreach(arr, i, v)
	{
		if (rc != 0)
			break;
		char *line = json_is_object(v) ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)
		                               : strdup("[]");
		if (line == NULL) {
			rc = HL_ENOMEM;
			break;
		}
		size_t n = strlen(line);
		if (len + n + 2 > cap) {
			while (len + n + 2 > cap)
				cap *= 2;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(line);
				rc = HL_ENOMEM;
				break;
			}
			buf = nb;
		}
		memcpy(buf + len, line, n);
		len += n;
		buf[len++] = '\n';
		free(line);
	}
	struct hl_diag diag = {.emit = first_error, .ctx = why};
	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	if (rc == 0)
		rc = hl_parse_native("indicators", buf, len, &po, set, &diag);
	free(buf);
	if (rc == 0 && diag.errors > 0)
		rc = HL_EINVAL;
	return rc;
}

struct existing {
	bool found;
	bool same; /* active with the same record */
	const char *want;
};

static int compare_row(void *ud, const struct hl_store_indicator *ind)
{
	struct existing *e = ud;
	e->found = true;
	e->same = ind->status == HL_IND_ACTIVE && strcmp(ind->record, e->want) == 0;
	return 0;
}

/* Next version a change will get (the bump records the same). */
static int next_version(hl_store_t *store, uint64_t *v)
{
	struct hl_store_set_version sv;
	int rc = hl_store_set_version_latest(store, &sv);
	*v = rc == 0 ? sv.version + 1 : 1;
	return rc == HL_ENOTFOUND ? 0 : rc;
}

static json_t *changed_reply(hl_store_t *store, int rc, const char *what, size_t a, size_t b,
                             size_t c)
{
	json_t *rep = rc == 0 ? json_pack("{s:b}", "ok", 1) : NULL;
	if (rc == 0 && rep != NULL)
		rc = add_version(store, rep);
	size_t count = 0;
	if (rc == 0 && rep != NULL)
		rc = hl_store_indicator_count(store, HL_IND_ACTIVE, &count);
	if (rc != 0 || rep == NULL) {
		json_decref(rep);
		return hl_control_error("store: %s",
		                        rc == 0 ? "out of memory" : hl_store_errmsg(store));
	}
	if (strcmp(what, "add") == 0) {
		json_object_set_new(rep, "added", json_integer((json_int_t)a));
		json_object_set_new(rep, "updated", json_integer((json_int_t)b));
	} else {
		json_object_set_new(rep, "retracted", json_integer((json_int_t)a));
	}
	json_object_set_new(rep, "unchanged", json_integer((json_int_t)c));
	json_object_set_new(rep, "count", json_integer((json_int_t)count));
	return rep;
}

/* Commit when rc is 0 (bumping the version when anything changed, with a
 * local audit row naming the request and the new version), else roll back. */
static int finish(hl_store_t *store, int rc, size_t changed, const char *cmd, const json_t *req,
                  int64_t now)
{
	struct hl_store_set_version v;
	if (rc == 0 && changed > 0)
		rc = hl_store_set_bump(store, now, &v);
	if (rc == 0 && changed > 0) {
		json_t *what = json_deep_copy(req);
		char *text = NULL;
		if (what != NULL) {
			json_object_set_new(what, "set_version",
			                    json_integer((json_int_t)v.version));
			json_object_set_new(what, "set_hash", json_string(v.hash));
			text = json_dumps(what, JSON_COMPACT | JSON_SORT_KEYS);
		}
		json_decref(what);
		struct hl_audit_entry a = {.at = now,
		                           .direction = HL_AUDIT_LOCAL,
		                           .type = cmd,
		                           .body = text,
		                           .body_len = text != NULL ? strlen(text) : 0};
		rc = text != NULL ? hl_store_audit_append(store, &a, NULL) : HL_ENOMEM;
		free(text);
	}
	if (rc == 0)
		rc = hl_store_commit(store);
	if (rc != 0)
		hl_store_rollback(store);
	return rc;
}

static json_t *cmd_add(hl_store_t *store, const json_t *req, int64_t now)
{
	const json_t *arr = json_object_get(req, "indicators");
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return hl_control_error("indicators: not a non-empty array");
	hl_iset_t *set = hl_iset_new();
	char why[256] = "";
	int rc = set == NULL ? HL_ENOMEM : read_request(arr, set, why);
	if (rc != 0) {
		hl_iset_destroy(&set);
		return rc == HL_ENOMEM ? hl_control_error("out of memory")
		                       : hl_control_error("%s; nothing stored",
		                                          why[0] ? why : "not readable");
	}
	uint64_t version = 0;
	size_t added = 0, updated = 0, same = 0;
	rc = hl_store_begin(store);
	if (rc == 0)
		rc = next_version(store, &version);
	for (size_t i = 0; i < hl_iset_count(set) && rc == 0; i++) {
		const struct hl_indicator *ind = hl_iset_at(set, i);
		char *line = hl_indicator_to_native(ind);
		if (line == NULL) {
			rc = HL_ENOMEM;
			break;
		}
		struct existing e = {.want = line};
		rc = hl_store_indicator_get(store, ind->id, compare_row, &e);
		if (rc == HL_ENOTFOUND)
			rc = 0;
		if (rc == 0 && e.same)
			same++;
		else if (rc == 0)
			rc = hl_store_indicator_put_native(store, ind, HL_IND_ACTIVE, version, now);
		if (rc == 0 && !e.same)
			*(e.found ? &updated : &added) += 1;
		free(line);
	}
	hl_iset_destroy(&set);
	rc = finish(store, rc, added + updated, "indicators-add", req, now);
	return changed_reply(store, rc, "add", added, updated, same);
}

/* ---- retract ------------------------------------------------------------ */

struct status_of {
	bool found;
	enum hl_ind_status st;
};

static int get_status(void *ud, const struct hl_store_indicator *ind)
{
	struct status_of *so = ud;
	so->found = true;
	so->st = ind->status;
	return 0;
}

static json_t *cmd_retract(hl_store_t *store, const json_t *req, int64_t now)
{
	const json_t *ids = json_object_get(req, "ids");
	if (!json_is_array(ids) || json_array_size(ids) == 0)
		return hl_control_error("ids: not a non-empty array");
	size_t i;
	const json_t *v;
	json_array_foreach(ids, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > HL_STORE_ID_MAX)
			return hl_control_error("ids[%zu]: not an indicator id", i);
	}
	size_t done = 0, same = 0;
	char missing[300] = "";
	int rc = hl_store_begin(store);
	json_array_foreach(ids, i, v)
	{
		if (rc != 0)
			break;
		const char *id = json_string_value(v);
		struct status_of so = {0};
		rc = hl_store_indicator_get(store, id, get_status, &so);
		if (rc == HL_ENOTFOUND) {
			snprintf(missing, sizeof missing, "%s", id);
			break;
		}
		if (rc == 0 && so.st == HL_IND_RETRACTED) {
			same++;
			continue;
		}
		if (rc == 0)
			rc = hl_store_indicator_set_status(store, id, HL_IND_RETRACTED, now);
		if (rc == 0)
			done++;
	}
	rc = finish(store, rc, done, "indicators-retract", req, now);
	if (missing[0] != '\0')
		return hl_control_error("no indicator \"%s\"; nothing retracted", missing);
	return changed_reply(store, rc, "retract", done, 0, same);
}

void hl_control_indicators_status(hl_store_t *store, json_t *reply)
{
	size_t active = 0, retracted = 0, peer = 0;
	json_t *o = json_object();
	if (o == NULL || add_version(store, o) != 0 ||
	    hl_store_indicator_count(store, HL_IND_ACTIVE, &active) != 0 ||
	    hl_store_indicator_count(store, HL_IND_RETRACTED, &retracted) != 0 ||
	    hl_store_peer_indicator_count(store, NULL, HL_IND_ACTIVE, &peer) != 0) {
		json_decref(o);
		return; /* the status answers without it */
	}
	json_object_set_new(o, "active", json_integer((json_int_t)active));
	json_object_set_new(o, "retracted", json_integer((json_int_t)retracted));
	json_object_set_new(o, "peer_active", json_integer((json_int_t)peer));
	json_object_set_new(reply, "indicators", o);
}

json_t *hl_control_indicators(hl_store_t *store, const char *cmd, const json_t *req, int64_t now)
{
	if (strcmp(cmd, "indicators-list") == 0)
		return cmd_list(store, req);
	if (strcmp(cmd, "indicators-add") == 0)
		return cmd_add(store, req, now);
	if (strcmp(cmd, "indicators-retract") == 0)
		return cmd_retract(store, req, now);
	return NULL;
}
