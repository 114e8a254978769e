/* \summary: wire body constructors, each checked against its own schema
 *
 * A constructor that returned a body the decoder would refuse would only
 * move the error to the other side; so every one ends by checking.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/timefmt.h"
#include "hotline/wire.h"

/* Return body if it passes the check for type, else free it and NULL. */
static json_t *checked(enum hl_wire_type type, json_t *body)
{
	if (body == NULL)
		return NULL;
	if (hl_wire_check_body(type, body, NULL) != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* json_string(NULL) is NULL, which makes json_object_set_new fail: a
 * missing required argument turns into a NULL result on its own. */
static int set_str(json_t *o, const char *key, const char *s)
{
	return json_object_set_new(o, key, json_string(s));
}

static json_t *string_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *hl_wire_body_hello(const char *name, const char *version, const char *set_hash)
{
	json_t *b = json_object();
	if (b == NULL)
		return NULL;
	int rc = set_str(b, "name", name);
	rc |= set_str(b, "version", version);
	if (set_hash != NULL)
		rc |= set_str(b, "set_hash", set_hash);
	if (rc != 0) {
		json_decref(b);
		return NULL;
	}
	return checked(HL_WIRE_T_HELLO, b);
}

json_t *hl_wire_body_heartbeat(void)
{
	return json_object();
}

json_t *hl_wire_body_ack(const char *const *ids, size_t n)
{
	json_t *a = string_array(ids, n);
	if (a == NULL)
		return NULL;
	return checked(HL_WIRE_T_ACK, json_pack("{s:o}", "ids", a));
}

json_t *hl_wire_body_nack(const char *id, enum hl_wire_err code, const char *reason,
                          int supported_v)
{
	if (code <= HL_WIRE_OK || code >= HL_WIRE_E_COUNT)
		return NULL;
	json_t *b = json_object();
	if (b == NULL)
		return NULL;
	int rc = set_str(b, "id", id);
	rc |= set_str(b, "reason_code", hl_wire_err_name(code));
	rc |= set_str(b, "reason", reason != NULL ? reason : "");
	if (supported_v > 0)
		rc |= json_object_set_new(b, "supported_v", json_integer(supported_v));
	if (rc != 0) {
		json_decref(b);
		return NULL;
	}
	return checked(HL_WIRE_T_NACK, b);
}

json_t *hl_wire_body_sighting(json_t *record)
{
	if (record == NULL)
		return NULL;
	return checked(HL_WIRE_T_SIGHTING, json_pack("{s:O}", "record", record));
}

json_t *hl_wire_body_sighting_line(const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (rec == NULL)
		return NULL;
	json_t *b = hl_wire_body_sighting(rec);
	json_decref(rec);
	return b;
}

json_t *hl_wire_body_sightings(void)
{
	return json_pack("{s:[]}", "records");
}

int hl_wire_sightings_add(json_t *body, json_t *record)
{
	json_t *records = json_object_get(body, "records");
	if (!json_is_array(records) || record == NULL)
		return HL_EINVAL;
	if (json_array_size(records) >= HL_WIRE_BATCH_MAX)
		return HL_ELIMIT;
	/* Check the record alone by wrapping it as a single sighting. */
	json_t *one = hl_wire_body_sighting(record);
	if (one == NULL)
		return HL_EINVAL;
	json_decref(one);
	return json_array_append(records, record) == 0 ? 0 : HL_ENOMEM;
}

json_t *hl_wire_body_indicators(uint64_t set_version, const char *set_hash, bool full)
{
	if (set_version > (uint64_t)INT64_MAX || set_hash == NULL)
		return NULL;
	return checked(HL_WIRE_T_INDICATORS,
	               json_pack("{s:I, s:s, s:b, s:[]}", "set_version", (json_int_t)set_version,
	                         "set_hash", set_hash, "full", full, "indicators"));
}

int hl_wire_indicators_add(json_t *body, const struct hl_indicator *ind)
{
	json_t *list = json_object_get(body, "indicators");
	if (!json_is_array(list) || ind == NULL || ind->id == NULL || ind->value == NULL)
		return HL_EINVAL;
	if (json_array_size(list) >= HL_WIRE_INDICATORS_MAX)
		return HL_ELIMIT;
	char *line = hl_indicator_to_native(ind);
	if (line == NULL)
		return HL_ENOMEM;
	json_t *obj = json_loads(line, 0, NULL);
	free(line);
	if (obj == NULL)
		return HL_ENOMEM;
	/* The same check the receiver makes, on a one-item copy. */
	json_t *probe =
	        json_pack("{s:I, s:s, s:b, s:[O]}", "set_version", (json_int_t)0, "set_hash",
	                  "0000000000000000000000000000000000000000000000000000000000000000",
	                  "full", 0, "indicators", obj);
	int rc = probe == NULL
	                 ? HL_ENOMEM
	                 : (hl_wire_check_body(HL_WIRE_T_INDICATORS, probe, NULL) == 0 ? 0
	                                                                               : HL_EINVAL);
	json_decref(probe);
	if (rc == 0)
		rc = json_array_append(list, obj) == 0 ? 0 : HL_ENOMEM;
	json_decref(obj);
	return rc;
}

json_t *hl_wire_body_indicator_retract(const char *const *ids, size_t n)
{
	json_t *a = string_array(ids, n);
	if (a == NULL)
		return NULL;
	return checked(HL_WIRE_T_INDICATOR_RETRACT, json_pack("{s:o}", "ids", a));
}

json_t *hl_wire_body_request(const struct hl_wire_request *r)
{
	char when[HL_TIME_ISO_MAX];
	if (r == NULL || hl_time_format(r->respond_by, when, sizeof when) != 0 ||
	    (unsigned)r->priority >= HL_WIRE_PRIO_COUNT)
		return NULL;
	json_t *b = json_object();
	if (b == NULL)
		return NULL;
	int rc = set_str(b, "request_id", r->request_id);
	rc |= set_str(b, "priority", hl_wire_priority_name(r->priority));
	rc |= set_str(b, "subject", r->subject);
	rc |= set_str(b, "description", r->description);
	rc |= set_str(b, "respond_by", when);
	if (r->indicators != NULL)
		rc |= json_object_set(b, "indicators", r->indicators);
	if (rc != 0) {
		json_decref(b);
		return NULL;
	}
	return checked(HL_WIRE_T_REQUEST, b);
}

json_t *hl_wire_body_request_update(const char *request_id, enum hl_wire_status status,
                                    const char *note)
{
	if ((unsigned)status >= HL_WIRE_STATUS_COUNT)
		return NULL;
	json_t *b = json_object();
	if (b == NULL)
		return NULL;
	int rc = set_str(b, "request_id", request_id);
	rc |= set_str(b, "status", hl_wire_status_name(status));
	if (note != NULL)
		rc |= set_str(b, "note", note);
	if (rc != 0) {
		json_decref(b);
		return NULL;
	}
	return checked(HL_WIRE_T_REQUEST_UPDATE, b);
}

json_t *hl_wire_body_escalation(const char *escalation_id, enum hl_severity severity,
                                const char *summary, const char *details, const char *contact)
{
	if (severity <= HL_SEV_UNKNOWN || severity >= HL_SEV_COUNT)
		return NULL;
	json_t *b = json_object();
	if (b == NULL)
		return NULL;
	int rc = set_str(b, "escalation_id", escalation_id);
	rc |= set_str(b, "severity", hl_severity_name(severity));
	rc |= set_str(b, "summary", summary);
	rc |= set_str(b, "details", details != NULL ? details : "");
	if (contact != NULL)
		rc |= set_str(b, "contact", contact);
	if (rc != 0) {
		json_decref(b);
		return NULL;
	}
	return checked(HL_WIRE_T_ESCALATION, b);
}

json_t *hl_wire_body_escalation_ack(const char *escalation_id, const char *by)
{
	json_t *b = json_object();
	if (b == NULL)
		return NULL;
	int rc = set_str(b, "escalation_id", escalation_id);
	rc |= set_str(b, "by", by);
	if (rc != 0) {
		json_decref(b);
		return NULL;
	}
	return checked(HL_WIRE_T_ESCALATION_ACK, b);
}

json_t *hl_wire_body_stats(void)
{
	return json_object();
}
