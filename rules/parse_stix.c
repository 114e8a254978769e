/* \summary: STIX 2.1 reader: indicator objects of a bundle -> hotline indicators
 *
 * Reads the subset of STIX patterning that names network observables
 * exactly: '=' comparisons on ipv4-addr:value, ipv6-addr:value,
 * domain-name:value and url:value, joined by OR inside one observation or
 * between observations. Anything richer (AND, FOLLOWEDBY, other operators,
 * other object paths, qualifiers) cannot be turned into a list of values
 * without changing its meaning, so the indicator is skipped with the reason.
 * The three non-STIX pattern types hl_write_stix() emits (snort content,
 * pcre, hotline uri) are read back so a round trip is exact.
 * Mapping and rules: docs/formats.md (STIX and MISP).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hotline/err.h"
#include "hotline/parse.h"
#include "hotline/timefmt.h"
#include "json_pos.h"

#define PAT_MAX_VALUES 1024
#define PAT_MAX_DEPTH 32
#define WHY_MAX 256

/* ---- TLP markings ------------------------------------------------------- */

/* Fixed ids: TLP 2.0 from the OASIS TLP 2.0 extension
 * (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d), TLP 1.0 from
 * STIX 2.1 section 7.2.1.4. A bundle may cite them without including them. */
static const struct {
	const char *id;
	enum hl_tlp tlp;
} std_tlp[] = {
        {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", HL_TLP_CLEAR},
        {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", HL_TLP_GREEN},
        {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", HL_TLP_AMBER},
        {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", HL_TLP_AMBER_STRICT},
        {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", HL_TLP_RED},
        {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", HL_TLP_CLEAR},
        {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", HL_TLP_GREEN},
        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", HL_TLP_AMBER},
        {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", HL_TLP_RED},
};

/* ---- pattern values ----------------------------------------------------- */

struct pval {
	enum hl_ind_type type;
	char *value;
	bool nocase;
};

enum { PAT_OK = 0, PAT_SKIP = 1, PAT_BAD = 2 };

struct pat {
	const char *start, *p, *end;
	int depth;
	char why[WHY_MAX];
	struct pval *v;
	size_t n, cap;
};

static void pvals_free(struct pval *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}

static int pat_stop(struct pat *pt, int kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int pat_stop(struct pat *pt, int kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pt->why, sizeof pt->why, fmt, ap);
	va_end(ap);
	return kind;
}

static int pat_push(struct pat *pt, enum hl_ind_type type, char *value, bool nocase)
{
	if (pt->n == PAT_MAX_VALUES) {
		free(value);
		return pat_stop(pt, PAT_BAD, "more than %d comparisons", PAT_MAX_VALUES);
	}
	if (pt->n == pt->cap) {
		size_t cap = pt->cap == 0 ? 4 : pt->cap * 2;
		struct pval *grown = realloc(pt->v, cap * sizeof *grown);
		if (grown == NULL) {
			free(value);
			return HL_ENOMEM;
		}
		pt->v = grown;
		pt->cap = cap;
	}
	pt->v[pt->n++] = (struct pval){.type = type, .value = value, .nocase = nocase};
	return PAT_OK;
}

static void pat_ws(struct pat *pt)
{
	while (pt->p < pt->end && strchr(" \t\r\n", *pt->p) != NULL && *pt->p != '\0')
		pt->p++;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A keyword (letters and '_'); its length, 0 when none starts here. */
static size_t pat_word(const struct pat *pt)
{
	size_t n = 0;
	while (pt->p + n < pt->end && (is_alpha(pt->p[n]) || pt->p[n] == '_'))
		n++;
	return n;
}

static bool word_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* A single-quoted literal with \' and \\ escapes, as in STIX patterning.
 * At the opening quote; *out is malloc'd. */
static int pat_string(struct pat *pt, char **out)
{
	char *buf = malloc((size_t)(pt->end - pt->p) + 1);
	if (buf == NULL)
		return HL_ENOMEM;
	size_t o = 0;
	pt->p++;
	while (pt->p < pt->end) {
		char c = *pt->p++;
		if (c == '\'') {
			buf[o] = '\0';
			*out = buf;
			return PAT_OK;
		}
		if (c == '\\') {
			if (pt->p == pt->end || (*pt->p != '\'' && *pt->p != '\\')) {
				free(buf);
				return pat_stop(pt, PAT_BAD,
				                "invalid escape in string at offset %zu",
				                (size_t)(pt->p - 1 - pt->start));
			}
			c = *pt->p++;
		}
		buf[o++] = c;
	}
	free(buf);
	return pat_stop(pt, PAT_BAD, "unterminated string");
}

static const struct {
	const char *path;
	enum hl_ind_type type;
} stix_paths[] = {
        {"ipv4-addr:value", HL_IND_IP},
        {"ipv6-addr:value", HL_IND_IP},
        {"domain-name:value", HL_IND_DOMAIN},
        {"url:value", HL_IND_URL},
};

/* An object path: letters, digits, "-_:.", quoted steps, list indexes. */
static size_t pat_path(const struct pat *pt)
{
	const char *q = pt->p;
	while (q < pt->end) {
		char c = *q;
		if (is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == ':' || c == '.') {
			q++;
		} else if (c == '\'') {
			q++;
			while (q < pt->end && *q != '\'')
				q += (*q == '\\' && q + 1 < pt->end) ? 2 : 1;
			if (q < pt->end)
				q++;
		} else if (c == '[' && q + 2 < pt->end && (q[1] == '*' || is_digit(q[1]))) {
			const char *r = q + 1;
			while (r < pt->end && (*r == '*' || is_digit(*r)))
				r++;
			if (r == pt->end || *r != ']')
				break;
			q = r + 1;
		} else {
			break;
		}
	}
	return (size_t)(q - pt->p);
}

static int cmp_expr(struct pat *pt);
static int obs_expr(struct pat *pt);

/* comparison: object-path '=' 'string' (or a parenthesised cmp_expr) */
static int cmp_term(struct pat *pt)
{
	pat_ws(pt);
	if (pt->p < pt->end && *pt->p == '(') {
		if (++pt->depth > PAT_MAX_DEPTH)
			return pat_stop(pt, PAT_BAD, "parentheses nest deeper than %d",
			                PAT_MAX_DEPTH);
		pt->p++;
		int rc = cmp_expr(pt);
		if (rc != PAT_OK)
			return rc;
		pat_ws(pt);
		if (pt->p == pt->end || *pt->p != ')')
			return pat_stop(pt, PAT_BAD, "missing ')'");
		pt->p++;
		pt->depth--;
		return PAT_OK;
	}
	size_t w = pat_word(pt);
	if (word_is(pt->p, w, "NOT") || word_is(pt->p, w, "EXISTS"))
		return pat_stop(pt, PAT_SKIP,
		                "pattern uses %s; only = comparisons joined by OR are "
		                "supported",
		                word_is(pt->p, w, "NOT") ? "NOT" : "EXISTS");
	size_t plen = pat_path(pt);
	const char *path = pt->p;
	if (plen == 0 || memchr(path, ':', plen) == NULL)
		return pat_stop(pt, PAT_BAD, "expected an object path at offset %zu",
		                (size_t)(path - pt->start));
	int type = -1;
	for (size_t i = 0; i < sizeof stix_paths / sizeof stix_paths[0]; i++) {
		if (strlen(stix_paths[i].path) == plen &&
		    memcmp(stix_paths[i].path, path, plen) == 0)
			type = (int)stix_paths[i].type;
	}
	if (type < 0)
		return pat_stop(pt, PAT_SKIP,
		                "pattern uses object path %.*s; only ipv4-addr:value, "
		                "ipv6-addr:value, domain-name:value and url:value are supported",
		                (int)(plen > 80 ? 80 : plen), path);
	pt->p += plen;
	pat_ws(pt);
	if (pt->p == pt->end)
		return pat_stop(pt, PAT_BAD, "missing comparison operator");
	if (*pt->p == '=') {
		pt->p++;
		if (pt->p < pt->end && *pt->p == '=')
			pt->p++;
	} else if (strchr("!<>", *pt->p) != NULL && *pt->p != '\0') {
		size_t n = pt->p + 1 < pt->end && pt->p[1] == '=' ? 2 : 1;
		return pat_stop(pt, PAT_SKIP,
		                "pattern uses operator %.*s; only = comparisons joined by OR are "
		                "supported",
		                (int)n, pt->p);
	} else {
		w = pat_word(pt);
		if (w == 0)
			return pat_stop(pt, PAT_BAD, "expected a comparison operator");
		return pat_stop(pt, PAT_SKIP,
		                "pattern uses operator %.*s; only = comparisons joined by OR are "
		                "supported",
		                (int)(w > 20 ? 20 : w), pt->p);
	}
	pat_ws(pt);
	if (pt->p == pt->end)
		return pat_stop(pt, PAT_BAD, "missing value after '='");
	char v0 = *pt->p;
	if (v0 != '\'' && (is_alpha(v0) || is_digit(v0) || v0 == '-' || v0 == '('))
		return pat_stop(pt, PAT_SKIP, "pattern compares with a value that is not a string");
	if (v0 != '\'')
		return pat_stop(pt, PAT_BAD, "expected a value after '='");
	char *value = NULL;
	int rc = pat_string(pt, &value);
	if (rc != PAT_OK)
		return rc;
	return pat_push(pt, (enum hl_ind_type)type, value, false);
}

/* Read "OR" between terms; 1 when one was read, 0 at close, else a stop. */
static int pat_or(struct pat *pt, char close)
{
	pat_ws(pt);
	if (pt->p == pt->end || *pt->p == close || *pt->p == ')')
		return 0;
	size_t w = pat_word(pt);
	if (word_is(pt->p, w, "OR")) {
		pt->p += w;
		return 1;
	}
	static const char *const unsupported[] = {"AND",     "FOLLOWEDBY", "WITHIN",
	                                          "REPEATS", "START",      "STOP"};
	for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
		if (word_is(pt->p, w, unsupported[i]))
			return -pat_stop(pt, PAT_SKIP,
			                 "pattern uses %s; only = comparisons joined by OR are "
			                 "supported",
			                 unsupported[i]);
	}
	if (w > 0)
		return -pat_stop(pt, PAT_BAD, "unexpected word '%.*s'", (int)(w > 20 ? 20 : w),
		                 pt->p);
	return -pat_stop(pt, PAT_BAD, "unexpected character '%c'", *pt->p);
}

static int cmp_expr(struct pat *pt)
{
	for (;;) {
		int rc = cmp_term(pt);
		if (rc != PAT_OK)
			return rc;
		rc = pat_or(pt, ']');
		if (rc <= 0)
			return -rc;
	}
}

/* observation: '[' cmp_expr ']' or a parenthesised obs_expr */
static int obs_term(struct pat *pt)
{
	pat_ws(pt);
	if (pt->p == pt->end)
		return pat_stop(pt, PAT_BAD, "expected '['");
	char open = *pt->p;
	if (open != '[' && open != '(')
		return pat_stop(pt, PAT_BAD, "expected '[' where '%c' is", open);
	if (++pt->depth > PAT_MAX_DEPTH)
		return pat_stop(pt, PAT_BAD, "brackets nest deeper than %d", PAT_MAX_DEPTH);
	pt->p++;
	int rc = open == '[' ? cmp_expr(pt) : obs_expr(pt);
	if (rc != PAT_OK)
		return rc;
	pat_ws(pt);
	char close = open == '[' ? ']' : ')';
	if (pt->p == pt->end || *pt->p != close)
		return pat_stop(pt, PAT_BAD, "missing '%c'", close);
	pt->p++;
	pt->depth--;
	return PAT_OK;
}

static int obs_expr(struct pat *pt)
{
	for (;;) {
		int rc = obs_term(pt);
		if (rc != PAT_OK)
			return rc;
		rc = pat_or(pt, ')');
		if (rc <= 0)
			return -rc;
	}
}

/* Parse a STIX pattern into pt->v. PAT_OK, PAT_SKIP or PAT_BAD with the
 * reason in pt->why, or HL_ENOMEM. */
static int stix_pattern(struct pat *pt, const char *s, size_t len)
{
	pt->start = pt->p = s;
	pt->end = s + len;
	int rc = obs_expr(pt);
	if (rc != PAT_OK)
		return rc;
	pat_ws(pt);
	if (pt->p != pt->end)
		return pat_stop(pt, PAT_BAD, "unexpected '%c' after the pattern", *pt->p);
	return PAT_OK;
}

/* ---- the non-STIX pattern types hl_write_stix() emits --------------------- */

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && strchr(" \t\r\n", **s) != NULL && **s != '\0') {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && strchr(" \t\r\n", (*s)[*n - 1]) != NULL && (*s)[*n - 1] != '\0')
		(*n)--;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* content:"TEXT"; [nocase;] with TEXT free of '"', ';' and '\' (written as
 * |22|, |3b|, |5c|), which is how Snort itself requires them. */
static int snort_pattern(struct pat *pt, const char *s, size_t n)
{
	trim(&s, &n);
	bool nocase = false;
	if (ends_with(s, n, "nocase;")) {
		n -= strlen("nocase;");
		trim(&s, &n);
		nocase = true;
	}
	static const char head[] = "content:\"";
	size_t h = sizeof head - 1;
	bool ok = n > h + 2 && memcmp(s, head, h) == 0 && ends_with(s, n, "\";");
	for (size_t i = h; ok && i < n - 2; i++)
		ok = s[i] != '"' && s[i] != ';' && s[i] != '\\';
	if (!ok)
		return pat_stop(pt, PAT_SKIP,
		                "snort rule is not one content match (content:\"...\"; and an "
		                "optional nocase;)");
	char *value = strndup(s + h, n - h - 2);
	if (value == NULL)
		return HL_ENOMEM;
	return pat_push(pt, HL_IND_CONTENT, value, nocase);
}

/* /REGEX/ or /REGEX/i */
static int pcre_pattern(struct pat *pt, const char *s, size_t n)
{
	trim(&s, &n);
	size_t k = n; /* one past the final '/' */
	while (k > 0 && s[k - 1] != '/')
		k--;
	if (n == 0 || s[0] != '/' || k <= 1)
		return pat_stop(pt, PAT_BAD, "pcre pattern is not /REGEX/flags");
	size_t flags = n - k;
	if (!(flags == 0 || (flags == 1 && s[k] == 'i')))
		return pat_stop(pt, PAT_SKIP, "pcre flags '%.*s' are not supported (only i)",
		                (int)(flags > 10 ? 10 : flags), s + k);
	char *value = strndup(s + 1, k - 2);
	if (value == NULL)
		return HL_ENOMEM;
	return pat_push(pt, HL_IND_REGEX, value, flags == 1);
}

/* uri:'VALUE' */
static int hotline_pattern(struct pat *pt, const char *s, size_t n)
{
	trim(&s, &n);
	if (n < 5 || memcmp(s, "uri:'", 5) != 0)
		return pat_stop(pt, PAT_BAD, "hotline pattern is not uri:'...'");
	pt->start = s;
	pt->p = s + 4;
	pt->end = s + n;
	char *value = NULL;
	int rc = pat_string(pt, &value);
	if (rc != PAT_OK)
		return rc;
	if (pt->p != pt->end) {
		free(value);
		return pat_stop(pt, PAT_BAD, "junk after uri:'...'");
	}
	return pat_push(pt, HL_IND_URI, value, false);
}

/* ---- bundle ------------------------------------------------------------- */

struct stix {
	const char *name;
	const struct hl_parse_opts *opts;
	hl_iset_t *out;
	struct hl_diag *diag;
	json_t *identities; /* id -> name */
	json_t *markings;   /* id -> TLP (integer), from the bundle */
};

/* Metadata shared by every value of one indicator object. */
struct meta {
	const char *stix_id;
	const char *id; /* for a single value */
	const char *description;
	int64_t valid_from, valid_until;
	int confidence;
	enum hl_severity severity;
	enum hl_tlp tlp;
	const json_t *labels;
	const json_t *sources; /* array of strings, or NULL */
	const char *source;    /* when sources is NULL; may be NULL */
};

/* A value fit for a diagnostic line: control bytes become '?', long values
 * are cut. */
static const char *excerpt(const char *s, char *buf, size_t buflen)
{
	size_t n = strlen(s), o = 0;
	for (size_t i = 0; i < n && o + 4 < buflen; i++)
		buf[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (o < n)
		o += (size_t)snprintf(buf + o, buflen - o, "...");
	buf[o < buflen ? o : buflen - 1] = '\0';
	return buf;
}

static const char *str_member(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int marking_tlp(const json_t *md, enum hl_tlp *out)
{
	const char *dt = str_member(md, "definition_type");
	if (dt != NULL && strcasecmp(dt, "tlp") == 0) {
		const char *t = str_member(json_object_get(md, "definition"), "tlp");
		if (t != NULL && hl_tlp_parse(t, out) == 0)
			return 0;
	}
	const char *key;
	json_t *ext;
	json_object_foreach(json_object_get(md, "extensions"), key, ext)
	{
		const char *t = str_member(ext, "tlp_2_0");
		if (t != NULL && hl_tlp_parse(t, out) == 0)
			return 0;
	}
	return HL_ENOTFOUND;
}

/* Identities and marking definitions may come after the indicators that
 * cite them, so they are collected first. */
static int collect_refs(struct stix *sx, const json_t *objects)
{
	size_t i;
	json_t *obj;
	json_array_foreach(objects, i, obj)
	{
		const char *type = str_member(obj, "type");
		const char *id = str_member(obj, "id");
		if (type == NULL || id == NULL)
			continue;
		int rc = 0;
		enum hl_tlp tlp;
		if (strcmp(type, "identity") == 0 && str_member(obj, "name") != NULL)
			rc = json_object_set(sx->identities, id, json_object_get(obj, "name"));
		else if (strcmp(type, "marking-definition") == 0 && marking_tlp(obj, &tlp) == 0)
			rc = json_object_set_new(sx->markings, id, json_integer(tlp));
		if (rc != 0)
			return HL_ENOMEM;
	}
	return 0;
}

static int lookup_tlp(const struct stix *sx, const char *ref, enum hl_tlp *out)
{
	for (size_t i = 0; i < sizeof std_tlp / sizeof std_tlp[0]; i++) {
		if (strcmp(std_tlp[i].id, ref) == 0) {
			*out = std_tlp[i].tlp;
			return 0;
		}
	}
	json_t *v = json_object_get(sx->markings, ref);
	if (v == NULL)
		return HL_ENOTFOUND;
	*out = (enum hl_tlp)json_integer_value(v);
	return 0;
}

static bool strings_array(const json_t *a)
{
	size_t i;
	json_t *v;
	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return false;
	}
	return true;
}

static int get_time(const json_t *obj, const char *key, int64_t *out, char *why, size_t whylen)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || hl_time_parse(json_string_value(v), out) != 0) {
		snprintf(why, whylen, "%s is not an RFC 3339 timestamp", key);
		return HL_EINVAL;
	}
	return 0;
}

/* Fill m from the object's common properties; HL_EINVAL with why. */
static int read_meta(const struct stix *sx, const json_t *obj, struct meta *m, char *why,
                     size_t whylen)
{
	memset(m, 0, sizeof *m);
	m->stix_id = str_member(obj, "id");
	m->id = str_member(obj, "x_hotline_id");
	if (m->id == NULL)
		m->id = m->stix_id;
	m->description = str_member(obj, "description");
	if (m->description == NULL)
		m->description = str_member(obj, "name");
	int rc = get_time(obj, "valid_from", &m->valid_from, why, whylen);
	if (rc == 0)
		rc = get_time(obj, "valid_until", &m->valid_until, why, whylen);
	if (rc != 0)
		return rc;
	json_t *conf = json_object_get(obj, "confidence");
	m->confidence = HL_CONFIDENCE_UNSET;
	if (conf != NULL) {
		if (!json_is_integer(conf) || json_integer_value(conf) < 0 ||
		    json_integer_value(conf) > 100) {
			snprintf(why, whylen, "confidence is not an integer in 0..100");
			return HL_EINVAL;
		}
		m->confidence = (int)json_integer_value(conf);
	}
	m->severity = HL_SEV_UNKNOWN;
	json_t *sev = json_object_get(obj, "x_hotline_severity");
	if (sev != NULL && hl_severity_parse(json_string_value(sev), &m->severity) != 0) {
		snprintf(why, whylen, "x_hotline_severity is not a severity name");
		return HL_EINVAL;
	}
	m->labels = json_object_get(obj, "labels");
	if (m->labels != NULL && !strings_array(m->labels)) {
		snprintf(why, whylen, "labels is not a list of strings");
		return HL_EINVAL;
	}
	m->sources = json_object_get(obj, "x_hotline_sources");
	if (m->sources != NULL && !strings_array(m->sources)) {
		snprintf(why, whylen, "x_hotline_sources is not a list of strings");
		return HL_EINVAL;
	}
	const char *by = str_member(obj, "created_by_ref");
	if (by != NULL) {
		const char *name = json_string_value(json_object_get(sx->identities, by));
		m->source = name != NULL ? name : by;
	} else {
		m->source = sx->opts->default_source;
	}
	json_t *refs = json_object_get(obj, "object_marking_refs");
	if (refs != NULL && !strings_array(refs)) {
		snprintf(why, whylen, "object_marking_refs is not a list of strings");
		return HL_EINVAL;
	}
	bool have_tlp = false;
	size_t i;
	json_t *ref;
	json_array_foreach(refs, i, ref)
	{
		enum hl_tlp t;
		if (lookup_tlp(sx, json_string_value(ref), &t) == 0 && (!have_tlp || t > m->tlp)) {
			m->tlp = t; /* several TLP markings: the strictest wins */
			have_tlp = true;
		}
	}
	if (!have_tlp)
		m->tlp = sx->opts->default_tlp;
	return 0;
}

static int push_strings(struct hl_strv *sv, const json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (hl_strv_push(sv, json_string_value(v)) != 0)
			return HL_ENOMEM;
	}
	return 0;
}

static int dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? HL_ENOMEM : 0;
}

/* One value with the object's metadata: build, normalise, add. */
static int add_value(const struct stix *sx, unsigned long line, const struct meta *m,
                     const struct pval *pv, bool single)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = pv->type;
	ind.nocase = pv->nocase;
	ind.tlp = m->tlp;
	ind.confidence = m->confidence;
	ind.severity = m->severity;
	ind.valid_from = m->valid_from;
	ind.valid_until = m->valid_until;
	int rc = dup_opt(&ind.value, pv->value);
	if (rc == 0)
		rc = dup_opt(&ind.id, single ? m->id : NULL);
	if (rc == 0)
		rc = dup_opt(&ind.description, m->description);
	if (rc == 0 && m->labels != NULL)
		rc = push_strings(&ind.tags, m->labels);
	if (rc == 0 && !single && m->stix_id != NULL) {
		char tag[HL_INDICATOR_ID_MAX + 16];
		snprintf(tag, sizeof tag, "stix-id:%s", m->stix_id);
		rc = hl_strv_push(&ind.tags, tag);
	}
	if (rc == 0 && m->sources != NULL)
		rc = push_strings(&ind.sources, m->sources);
	else if (rc == 0 && m->source != NULL)
		rc = hl_strv_push(&ind.sources, m->source);
	if (rc != 0) {
		hl_indicator_clear(&ind);
		return HL_ENOMEM;
	}
	char why[WHY_MAX];
	rc = hl_indicator_normalise(&ind, why, sizeof why);
	if (rc == HL_ENOMEM) {
		hl_indicator_clear(&ind);
		return rc;
	}
	if (rc != 0) {
		char shown[120];
		hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line, "%s: %s '%s': %s",
		               m->stix_id != NULL ? m->stix_id : "indicator",
		               hl_ind_type_name(pv->type), excerpt(pv->value, shown, sizeof shown),
		               why);
		hl_indicator_clear(&ind);
		return 0;
	}
	char id[HL_INDICATOR_ID_MAX];
	snprintf(id, sizeof id, "%s", ind.id);
	rc = hl_iset_add(sx->out, &ind, NULL);
	hl_indicator_clear(&ind);
	if (rc == HL_EEXISTS)
		hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line,
		               "id %s already names an indicator with another value", id);
	return rc == HL_ENOMEM ? rc : 0;
}

static int read_pattern(struct pat *pt, const char *ptype, const char *s, size_t n)
{
	if (ptype == NULL || strcmp(ptype, "stix") == 0)
		return stix_pattern(pt, s, n);
	if (strcmp(ptype, "snort") == 0)
		return snort_pattern(pt, s, n);
	if (strcmp(ptype, "pcre") == 0)
		return pcre_pattern(pt, s, n);
	if (strcmp(ptype, "hotline") == 0)
		return hotline_pattern(pt, s, n);
	return pat_stop(pt, PAT_SKIP, "pattern_type %.40s is not supported", ptype);
}

static int read_indicator(const struct stix *sx, const json_t *obj, unsigned long line)
{
	const char *sid = str_member(obj, "id");
	const char *label = sid != NULL ? sid : "indicator";
	if (json_is_true(json_object_get(obj, "revoked"))) {
		hl_diag_report(sx->diag, HL_DIAG_SKIP, sx->name, line, "%s: revoked", label);
		return 0;
	}
	json_t *pattern = json_object_get(obj, "pattern");
	json_t *ptype = json_object_get(obj, "pattern_type");
	if (!json_is_string(pattern) || (ptype != NULL && !json_is_string(ptype))) {
		hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line, "%s: %s", label,
		               json_is_string(pattern) ? "pattern_type is not a string"
		                                       : "no pattern string");
		return 0;
	}
	/* STIX 2.0 indicators have no pattern_type: their patterns are STIX. */
	const char *pt_name = json_string_value(ptype);
	struct pat pt = {0};
	int rc =
	        read_pattern(&pt, pt_name, json_string_value(pattern), json_string_length(pattern));
	if (rc == PAT_OK) {
		struct meta m;
		char why[WHY_MAX];
		if (read_meta(sx, obj, &m, why, sizeof why) != 0) {
			hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line, "%s: %s", label,
			               why);
		} else {
			for (size_t i = 0; i < pt.n && rc == 0; i++)
				rc = add_value(sx, line, &m, &pt.v[i], pt.n == 1);
		}
	} else if (rc == PAT_SKIP) {
		hl_diag_report(sx->diag, HL_DIAG_SKIP, sx->name, line, "%s: %s", label, pt.why);
		rc = 0;
	} else if (rc == PAT_BAD) {
		hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line,
		               "%s: invalid %s pattern: %s", label,
		               pt_name != NULL ? pt_name : "stix", pt.why);
		rc = 0;
	}
	pvals_free(pt.v, pt.n);
	return rc;
}

static int read_objects(struct stix *sx, const json_t *objects, const struct hl_json_pos *pos)
{
	int rc = collect_refs(sx, objects);
	size_t i;
	json_t *obj;
	json_array_foreach(objects, i, obj)
	{
		if (rc != 0)
			break;
		unsigned long line = hl_json_pos_line(pos, i);
		if (!json_is_object(obj)) {
			hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line,
			               "objects[%zu] is not a JSON object", i);
			continue;
		}
		const char *type = str_member(obj, "type");
		if (type == NULL)
			hl_diag_report(sx->diag, HL_DIAG_ERROR, sx->name, line,
			               "objects[%zu] has no \"type\" string", i);
		else if (strcmp(type, "indicator") == 0)
			rc = read_indicator(sx, obj, line);
		/* other object types are context, not indicators */
	}
	return rc;
}

int hl_parse_stix(const char *name, const char *data, size_t len, const struct hl_parse_opts *opts,
                  hl_iset_t *out, struct hl_diag *diag)
{
	struct hl_parse_opts defaults;
	if (opts == NULL) {
		hl_parse_opts_init(&defaults);
		opts = &defaults;
	}
	if (name == NULL)
		name = "<stix>";
	if (out == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	if (len > (size_t)HL_PARSE_MAX_INPUT) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "input larger than %ld bytes",
		               HL_PARSE_MAX_INPUT);
		return HL_ELIMIT;
	}
	if (data == NULL)
		data = "";
	/* a UTF-8 byte order mark, as some exporters write, is not content */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (root == NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, name,
		               jerr.line > 0 ? (unsigned long)jerr.line : 0, "not valid JSON: %s",
		               jerr.text);
		return HL_EPARSE;
	}
	const char *type = str_member(root, "type");
	json_t *objects = json_object_get(root, "objects");
	bool bundle = type != NULL && strcmp(type, "bundle") == 0;
	if (!(bundle && (objects == NULL || json_is_array(objects))) &&
	    !(type != NULL && strcmp(type, "indicator") == 0)) {
		struct hl_json_pos pos;
		hl_json_pos_scan(&pos, data, len, "");
		hl_diag_report(diag, HL_DIAG_ERROR, name, hl_json_pos_line(&pos, 0), "%s",
		               bundle ? "bundle \"objects\" is not an array"
		                      : "not a STIX 2.1 bundle or indicator object");
		hl_json_pos_clear(&pos);
		json_decref(root);
		return HL_EPARSE;
	}
	struct stix sx = {.name = name, .opts = opts, .out = out, .diag = diag};
	sx.identities = json_object();
	sx.markings = json_object();
	int rc = HL_ENOMEM;
	if (sx.identities != NULL && sx.markings != NULL) {
		struct hl_json_pos pos;
		if (bundle) {
			hl_json_pos_match(&pos, data, len, root, "objects.*");
			rc = objects != NULL ? read_objects(&sx, objects, &pos) : 0;
		} else {
			hl_json_pos_match(&pos, data, len, root, "");
			rc = read_indicator(&sx, root, hl_json_pos_line(&pos, 0));
		}
		hl_json_pos_clear(&pos);
	}
	json_decref(sx.identities);
	json_decref(sx.markings);
	json_decref(root);
	return rc;
}
