/* \summary: sighting records as JSON lines (jansson builds, escapes, caps) */
#include "sighting.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/ipaddr.h"
#include "hotline/timefmt.h"

const char *hl_ip_proto_name(uint8_t proto)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "ipv6-icmp";
	case 132:
		return "sctp";
	}
	return NULL;
}

/* Observed values come off the wire; anything that is not valid UTF-8 is
 * rewritten byte by byte so the record still carries what was seen. */
static json_t *text_value(const char *s, size_t len)
{
	json_t *v = json_stringn(s, len);
	if (v != NULL)
		return v;
	char *clean = malloc(len * 3 + 1);
	if (clean == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x80) {
			clean[o++] = (char)ch;
		} else { /* U+FFFD */
			clean[o++] = (char)0xef;
			clean[o++] = (char)0xbf;
			clean[o++] = (char)0xbd;
		}
	}
	v = json_stringn(clean, o);
	free(clean);
	return v;
}

static int set_time(json_t *obj, const char *key, int64_t us)
{
	char buf[HL_TIME_ISO_MAX];
	if (hl_time_format(us, buf, sizeof buf) != 0)
		return -1;
	return json_object_set_new(obj, key, json_string(buf));
}

static json_t *indicator_json(const struct hl_indicator *ind)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int rc = json_object_set_new(o, "id", json_string(ind->id));
	rc |= json_object_set_new(o, "type", json_string(hl_ind_type_name(ind->type)));
	rc |= json_object_set_new(o, "value", json_string(ind->value));
	rc |= json_object_set_new(
	        o, "source", ind->sources.n > 0 ? json_string(ind->sources.v[0]) : json_null());
	rc |= json_object_set_new(o, "tlp", json_string(hl_tlp_name(ind->tlp)));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *flow_json(const struct hl_sighting_flow *f)
{
	char src[HL_IP_STR_MAX], dst[HL_IP_STR_MAX];
	if (hl_addr_format(f->family, f->src, src, sizeof src) != 0 ||
	    hl_addr_format(f->family, f->dst, dst, sizeof dst) != 0)
		return NULL;
	json_t *o = json_object();
	json_t *vlan = json_array();
	if (o == NULL || vlan == NULL) {
		json_decref(o);
		json_decref(vlan);
		return NULL;
	}
	const char *proto = hl_ip_proto_name(f->proto);
	int rc = json_object_set_new(o, "proto",
	                             proto != NULL ? json_string(proto) : json_integer(f->proto));
	rc |= json_object_set_new(o, "src_ip", json_string(src));
	rc |= json_object_set_new(o, "src_port", json_integer(f->sport));
	rc |= json_object_set_new(o, "dst_ip", json_string(dst));
	rc |= json_object_set_new(o, "dst_port", json_integer(f->dport));
	for (unsigned i = 0; i < f->vlan_count && i < 2; i++)
		rc |= json_array_append_new(vlan, json_integer(f->vlan[i]));
	rc |= json_object_set_new(o, "vlan", vlan);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *tls_json(const struct hl_sighting_tls *t)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int rc = 0;
	if (t->sni != NULL && t->sni[0] != '\0')
		rc |= json_object_set_new(o, "sni", text_value(t->sni, strlen(t->sni)));
	if (t->ja3 != NULL)
		rc |= json_object_set_new(o, "ja3", text_value(t->ja3, strlen(t->ja3)));
	if (t->ja3_hash[0] != '\0')
		rc |= json_object_set_new(o, "ja3_hash", json_string(t->ja3_hash));
	if (t->ja4[0] != '\0')
		rc |= json_object_set_new(o, "ja4", text_value(t->ja4, strlen(t->ja4)));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *geo_json(const struct hl_sighting_geo *g)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int rc = 0;
	if (g->country[0] != '\0')
		rc |= json_object_set_new(o, "country", json_string(g->country));
	if (g->city[0] != '\0')
		rc |= json_object_set_new(o, "city", text_value(g->city, strlen(g->city)));
	if (g->has_location) {
		rc |= json_object_set_new(o, "lat", json_real(g->lat));
		rc |= json_object_set_new(o, "lon", json_real(g->lon));
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *asn_json(const struct hl_sighting_asn *a)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int rc = json_object_set_new(o, "number", json_integer(a->number));
	if (a->org[0] != '\0')
		rc |= json_object_set_new(o, "org", text_value(a->org, strlen(a->org)));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *evidence_json(const struct hl_sighting_evidence *e)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int rc = json_object_set_new(o, "sha256", json_string(e->sha256));
	rc |= json_object_set_new(o, "path", text_value(e->path, strlen(e->path)));
	rc |= json_object_set_new(o, "packets", json_integer(e->packets));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *hl_sighting_to_json(const struct hl_sighting *s, const char *sensor)
{
	json_t *rec = json_object();
	json_t *match = json_object();
	json_t *ind = indicator_json(s->indicator);
	json_t *flow = flow_json(&s->flow);
	char *line = NULL;
	if (rec == NULL || match == NULL || ind == NULL || flow == NULL)
		goto out;

	json_t *value = s->value != NULL ? text_value(s->value, s->value_len)
	                                 : json_string(s->indicator->value);
	int rc = json_object_set_new(match, "field", json_string(hl_field_name(s->field)));
	rc |= json_object_set_new(match, "value", value);
	if (s->has_offset)
		rc |= json_object_set_new(match, "offset", json_integer((json_int_t)s->offset));

	rc |= set_time(rec, "first_seen", s->first_seen);
	rc |= set_time(rec, "last_seen", s->last_seen);
	rc |= json_object_set_new(rec, "count", json_integer((json_int_t)s->count));
	rc |= json_object_set_new(rec, "final", json_boolean(s->final));
	if (sensor != NULL)
		rc |= json_object_set_new(rec, "sensor", json_string(sensor));
	rc |= json_object_set(rec, "indicator", ind);
	rc |= json_object_set(rec, "match", match);
	rc |= json_object_set(rec, "flow", flow);
	if (s->tls.present)
		rc |= json_object_set_new(rec, "tls", tls_json(&s->tls));
	if (s->geo.present)
		rc |= json_object_set_new(rec, "geo", geo_json(&s->geo));
	if (s->asn.present)
		rc |= json_object_set_new(rec, "asn", asn_json(&s->asn));
	if (s->evidence.present && s->evidence.path != NULL)
		rc |= json_object_set_new(rec, "evidence", evidence_json(&s->evidence));
	if (rc == 0)
		/* Canonical (compact, keys sorted): the very bytes a sharer hashes
		 * into the sighting's id, so it need not rewrite them. */
		line = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(rec);
	json_decref(match);
	json_decref(ind);
	json_decref(flow);
	return line;
}
