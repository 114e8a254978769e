/* \summary: writing an indicator set as a STIX 2.1 bundle
 *
 * Deterministic: object ids are derived from content (the bundle's from the
 * set hash, an indicator's from its hotline id, an identity's from its
 * name), indicators come in canonical (type, value) order and keys are
 * sorted, so the same set and clock give the same bytes. ip, domain and url
 * become STIX patterns; uri, content and regex, which STIX patterning
 * cannot express, use pattern types "hotline", "snort" and "pcre" in the
 * exact forms hl_parse_stix() reads back. Fields STIX has no place for ride
 * in x_hotline_* custom properties. Mapping: docs/formats.md (STIX and MISP).
 *
 * The bundle is streamed one object at a time (each dumped by jansson and
 * indented into place) so a large set is never held twice in memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/timefmt.h"

#define TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define DUMP_FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS)

/* The OASIS TLP 2.0 marking definitions, by enum hl_tlp. */
static const struct {
	const char *id;
	const char *name;
	const char *level;
} tlp2[HL_TLP_COUNT] = {
        [HL_TLP_CLEAR] = {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR",
                          "clear"},
        [HL_TLP_GREEN] = {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN",
                          "green"},
        [HL_TLP_AMBER] = {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER",
                          "amber"},
        [HL_TLP_AMBER_STRICT] = {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                                 "TLP:AMBER+STRICT", "amber+strict"},
        [HL_TLP_RED] = {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED",
                        "red"},
};

/* "PREFIX--" + a UUID laid out from SHA-256("hotline:KIND:" + data): the
 * first 16 bytes, version nibble 5 and RFC 4122 variant bits. */
static void derived_id(const char *prefix, const char *kind, const void *data, size_t len,
                       char *out, size_t outlen)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)"hotline:", 8);
	crypto_hash_sha256_update(&st, (const unsigned char *)kind, strlen(kind));
	crypto_hash_sha256_update(&st, (const unsigned char *)":", 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, h);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x50);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	char hex[33];
	hl_hex(h, 16, hex);
	snprintf(out, outlen, "%s--%.8s-%.4s-%.4s-%.4s-%.12s", prefix, hex, hex + 8, hex + 12,
	         hex + 16, hex + 20);
}

/* "indicator--" followed by a lower-case 8-4-4-4-12 UUID. */
static bool is_stix_indicator_id(const char *id)
{
	static const char prefix[] = "indicator--";
	size_t p = sizeof prefix - 1;
	if (id == NULL || strncmp(id, prefix, p) != 0 || strlen(id) != p + 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = id[p + i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* Builds objects; the first failed allocation or bad string sticks. */
struct build {
	bool failed;
};

static void put(struct build *b, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || obj == NULL || json_object_set_new(obj, key, v) != 0)
		b->failed = true;
}

static json_t *str(const char *s)
{
	return s != NULL ? json_string(s) : NULL;
}

static json_t *strv_array(const struct hl_strv *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < sv->n; i++) {
		if (json_array_append_new(a, json_string(sv->v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* s with every byte in special escaped: "\\c" when hexesc is false, else
 * "|xx|". malloc'd, NULL when out of memory. */
static char *escaped(const char *s, const char *special, bool hexesc)
{
	size_t n = strlen(s);
	char *buf = malloc(4 * n + 1);
	if (buf == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (strchr(special, s[i]) == NULL) {
			buf[o++] = s[i];
		} else if (hexesc) {
			o += (size_t)snprintf(buf + o, 5, "|%02x|", (unsigned char)s[i]);
		} else {
			buf[o++] = '\\';
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* pattern and pattern_type for one indicator; the pattern is malloc'd. */
static char *make_pattern(const struct hl_indicator *ind, const char **ptype)
{
	const char *v = ind->value;
	const char *pre, *post = "']";
	char *esc;
	*ptype = "stix";
	switch (ind->type) {
	case HL_IND_IP:
		pre = strchr(v, ':') != NULL ? "[ipv6-addr:value = '" : "[ipv4-addr:value = '";
		esc = escaped(v, "'\\", false);
		break;
	case HL_IND_DOMAIN:
		pre = "[domain-name:value = '";
		esc = escaped(v, "'\\", false);
		break;
	case HL_IND_URL:
		pre = "[url:value = '";
		esc = escaped(v, "'\\", false);
		break;
	case HL_IND_URI:
		*ptype = "hotline";
		pre = "uri:'";
		post = "'";
		esc = escaped(v, "'\\", false);
		break;
	case HL_IND_CONTENT:
		*ptype = "snort";
		pre = "content:\"";
		post = ind->nocase ? "\"; nocase;" : "\";";
		esc = escaped(v, "\";\\", true);
		break;
	case HL_IND_REGEX:
		*ptype = "pcre";
		pre = "/";
		post = ind->nocase ? "/i" : "/";
		esc = strdup(v);
		break;
	default:
		return NULL;
	}
	if (esc == NULL)
		return NULL;
	size_t len = strlen(pre) + strlen(esc) + strlen(post) + 1;
	char *pattern = malloc(len);
	if (pattern != NULL)
		snprintf(pattern, len, "%s%s%s", pre, esc, post);
	free(esc);
	return pattern;
}

static json_t *time_string(int64_t us)
{
	char buf[HL_TIME_ISO_MAX];
	return hl_time_format(us, buf, sizeof buf) == 0 ? json_string(buf) : NULL;
}

static json_t *marking_object(enum hl_tlp tlp)
{
	struct build b = {false};
	json_t *o = json_object();
	json_t *ext = json_object();
	json_t *exts = json_object();
	put(&b, ext, "extension_type", json_string("property-extension"));
	put(&b, ext, "tlp_2_0", json_string(tlp2[tlp].level));
	put(&b, exts, TLP2_EXTENSION, ext);
	put(&b, o, "type", json_string("marking-definition"));
	put(&b, o, "spec_version", json_string("2.1"));
	put(&b, o, "id", json_string(tlp2[tlp].id));
	put(&b, o, "created", json_string("2022-10-01T00:00:00.000Z"));
	put(&b, o, "name", json_string(tlp2[tlp].name));
	put(&b, o, "extensions", exts);
	if (b.failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *identity_object(const char *name, const char *created)
{
	struct build b = {false};
	json_t *o = json_object();
	char id[64];
	derived_id("identity", "identity", name, strlen(name), id, sizeof id);
	put(&b, o, "type", json_string("identity"));
	put(&b, o, "spec_version", json_string("2.1"));
	put(&b, o, "id", json_string(id));
	put(&b, o, "created", json_string(created));
	put(&b, o, "modified", json_string(created));
	put(&b, o, "name", str(name));
	put(&b, o, "identity_class", json_string("organization"));
	if (b.failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *indicator_object(const struct hl_indicator *ind, const char *created)
{
	struct build b = {false};
	json_t *o = json_object();
	char id[64];
	if (is_stix_indicator_id(ind->id)) {
		snprintf(id, sizeof id, "%s", ind->id);
	} else if (ind->id != NULL) {
		derived_id("indicator", "indicator", ind->id, strlen(ind->id), id, sizeof id);
		put(&b, o, "x_hotline_id", json_string(ind->id));
	} else {
		char hid[64];
		if (hl_indicator_derive_id(ind->type, ind->value, hid, sizeof hid) != 0)
			b.failed = true;
		derived_id("indicator", "indicator", hid, strlen(hid), id, sizeof id);
	}
	const char *ptype;
	char *pattern = make_pattern(ind, &ptype);
	put(&b, o, "type", json_string("indicator"));
	put(&b, o, "spec_version", json_string("2.1"));
	put(&b, o, "id", json_string(id));
	put(&b, o, "created", json_string(created));
	put(&b, o, "modified", json_string(created));
	put(&b, o, "pattern", str(pattern));
	put(&b, o, "pattern_type", json_string(ptype));
	if (strcmp(ptype, "stix") == 0)
		put(&b, o, "pattern_version", json_string("2.1"));
	free(pattern);
	/* STIX requires valid_from; the epoch says "no lower bound" exactly,
	 * and reads back as hotline's 0. */
	put(&b, o, "valid_from", time_string(ind->valid_from));
	if (ind->valid_until != 0)
		put(&b, o, "valid_until", time_string(ind->valid_until));
	if (ind->confidence != HL_CONFIDENCE_UNSET)
		put(&b, o, "confidence", json_integer(ind->confidence));
	if (ind->severity != HL_SEV_UNKNOWN)
		put(&b, o, "x_hotline_severity", json_string(hl_severity_name(ind->severity)));
	if (ind->description != NULL)
		put(&b, o, "description", json_string(ind->description));
	if (ind->tags.n > 0)
		put(&b, o, "labels", strv_array(&ind->tags));
	if (ind->sources.n > 0) {
		char ref[64];
		derived_id("identity", "identity", ind->sources.v[0], strlen(ind->sources.v[0]),
		           ref, sizeof ref);
		put(&b, o, "created_by_ref", json_string(ref));
	}
	/* created_by_ref names one party; a merged indicator may have several. */
	if (ind->sources.n > 1)
		put(&b, o, "x_hotline_sources", strv_array(&ind->sources));
	json_t *marks = json_array();
	if (marks == NULL || (unsigned)ind->tlp >= HL_TLP_COUNT ||
	    json_array_append_new(marks, json_string(tlp2[ind->tlp].id)) != 0)
		b.failed = true;
	put(&b, o, "object_marking_refs", marks);
	if (b.failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Write obj as one element of the top-level "objects" array: jansson's
 * output for it, every line indented by the 4 spaces of that depth. */
static int emit(FILE *out, json_t *obj, bool first)
{
	if (obj == NULL)
		return HL_EINVAL;
	char *text = json_dumps(obj, DUMP_FLAGS);
	json_decref(obj);
	if (text == NULL)
		return HL_ENOMEM;
	int rc = fputs(first ? "\n    " : ",\n    ", out) < 0 ? HL_EIO : 0;
	for (const char *p = text; rc == 0 && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		if (fwrite(p, 1, n, out) != n || (nl != NULL && fputs("    ", out) < 0))
			rc = HL_EIO;
		p += n;
	}
	free(text);
	return rc;
}

static int cmp_ind(const void *a, const void *b)
{
	const struct hl_indicator *x = *(const struct hl_indicator *const *)a;
	const struct hl_indicator *y = *(const struct hl_indicator *const *)b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return strcmp(x->value, y->value);
}

static int64_t wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* TLP levels used, and the identities to write: each indicator's first
 * source, once, in order of first use (jansson keeps insertion order). */
static int collect(const struct hl_indicator **v, size_t n, bool used_tlp[HL_TLP_COUNT],
                   json_t *names)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)v[i]->tlp < HL_TLP_COUNT)
			used_tlp[v[i]->tlp] = true;
		const char *s = v[i]->sources.n > 0 ? v[i]->sources.v[0] : NULL;
		if (s != NULL && json_object_get(names, s) == NULL &&
		    json_object_set_new(names, s, json_true()) != 0)
			return HL_EINVAL;
	}
	return 0;
}

static int write_objects(FILE *out, const struct hl_indicator **v, size_t n, int64_t now)
{
	char created[HL_TIME_ISO_MAX];
	if (hl_time_format(now, created, sizeof created) != 0)
		return HL_EINVAL;
	bool used[HL_TLP_COUNT] = {false};
	json_t *names = json_object();
	int rc = names != NULL ? collect(v, n, used, names) : HL_ENOMEM;
	bool first = true;
	for (int t = 0; rc == 0 && t < HL_TLP_COUNT; t++) {
		if (used[t]) {
			rc = emit(out, marking_object((enum hl_tlp)t), first);
			first = false;
		}
	}
	const char *name;
	json_t *unused;
	json_object_foreach(names, name, unused)
	{
		if (rc == 0)
			rc = emit(out, identity_object(name, created), first);
		first = false;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = emit(out, indicator_object(v[i], created), first);
		first = false;
	}
	json_decref(names);
	return rc;
}

int hl_write_stix(FILE *out, const hl_iset_t *set, int64_t now)
{
	if (out == NULL || set == NULL)
		return HL_EINVAL;
	if (now == 0)
		now = wall_clock_us();
	uint8_t hash[HL_SHA256_LEN];
	int rc = hl_iset_hash(set, hash);
	if (rc != 0)
		return rc;
	char bundle_id[64];
	derived_id("bundle", "bundle", hash, sizeof hash, bundle_id, sizeof bundle_id);

	size_t n = hl_iset_count(set);
	const struct hl_indicator **v = malloc((n > 0 ? n : 1) * sizeof *v);
	if (v == NULL)
		return HL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = hl_iset_at(set, i);
	qsort(v, n, sizeof *v, cmp_ind);

	/* Keys in sorted order, as jansson would write the whole tree. STIX
	 * wants "objects" absent rather than empty. */
	if (fprintf(out, "{\n  \"id\": \"%s\",\n", bundle_id) < 0)
		rc = HL_EIO;
	if (rc == 0 && n > 0) {
		rc = fputs("  \"objects\": [", out) < 0 ? HL_EIO : 0;
		if (rc == 0)
			rc = write_objects(out, v, n, now);
		if (rc == 0 && fputs("\n  ],\n", out) < 0)
			rc = HL_EIO;
	}
	if (rc == 0 && fputs("  \"type\": \"bundle\"\n}\n", out) < 0)
		rc = HL_EIO;
	if (rc == 0 && fflush(out) != 0)
		rc = HL_EIO;
	free(v);
	return rc;
}
