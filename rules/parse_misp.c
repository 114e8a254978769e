/* \summary: MISP readers: feed CSV export and event JSON -> hotline indicators
 *
 * Both readers share one attribute mapping: network attribute types (ip-src,
 * ip-dst, domain, hostname, url, uri and their "|port" and "domain|ip"
 * composites) become indicators; every other type (hashes, file names,
 * e-mail addresses...) is counted and reported once per type per file, so a
 * feed of a million hashes gives one line, not a million. TLP comes from
 * "tlp:" tags, the strictest one winning. Mapping tables:
 * docs/formats.md (STIX and MISP).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"
#include "hotline/parse.h"
#include "json_pos.h"

#define WHY_MAX 256
#define CSV_MAX_FIELDS 256

/* ---- the shared attribute mapping --------------------------------------- */

enum kind {
	K_OTHER,     /* not a network indicator */
	K_IP,        /* an address or CIDR */
	K_NAME,      /* a domain, or an address written where a name goes */
	K_URL,       /* a URL */
	K_URI,       /* a request target, or a URL when it has a host */
	K_IP_PORT,   /* "ADDR|PORT": the address */
	K_NAME_PORT, /* "NAME|PORT": the name */
	K_DOMAIN_IP, /* "NAME|ADDR": both */
};

static const struct {
	const char *type;
	enum kind kind;
} misp_types[] = {
        {"ip-src", K_IP},
        {"ip-dst", K_IP},
        {"ip-src|port", K_IP_PORT},
        {"ip-dst|port", K_IP_PORT},
        {"domain", K_NAME},
        {"hostname", K_NAME},
        {"hostname|port", K_NAME_PORT},
        {"domain|ip", K_DOMAIN_IP},
        {"url", K_URL},
        {"uri", K_URI},
};

static enum kind kind_of(const char *type)
{
	for (size_t i = 0; i < sizeof misp_types / sizeof misp_types[0]; i++) {
		if (strcasecmp(misp_types[i].type, type) == 0)
			return misp_types[i].kind;
	}
	return K_OTHER;
}

struct misp {
	const char *name;
	const struct hl_parse_opts *opts;
	hl_iset_t *out;
	struct hl_diag *diag;
	json_t *skipped;         /* attribute type -> count, first-seen order */
	unsigned long not_ids;   /* to_ids false (event JSON) */
	unsigned long n_deleted; /* deleted (event JSON) */
};

/* One attribute, borrowed strings. */
struct attr {
	const char *type, *value;
	const char *uuid;    /* NULL or "" when absent */
	const char *comment; /* NULL or "" when absent */
	const char *source;  /* NULL when none */
	enum hl_tlp tlp;
	const struct hl_strv *tags;
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

static int count_skipped(struct misp *m, const char *type)
{
	json_t *n = json_object_get(m->skipped, type);
	if (n != NULL)
		return json_integer_set(n, json_integer_value(n) + 1) == 0 ? 0 : HL_ENOMEM;
	/* a type that is not UTF-8 cannot be a key: count it under "?" */
	if (json_object_set_new(m->skipped, type, json_integer(1)) != 0 &&
	    json_object_set_new(m->skipped, "?", json_integer(1)) != 0)
		return HL_ENOMEM;
	return 0;
}

static void report_summaries(struct misp *m)
{
	const char *type;
	json_t *n;
	json_object_foreach(m->skipped, type, n)
	{
		json_int_t c = json_integer_value(n);
		hl_diag_report(m->diag, HL_DIAG_SKIP, m->name, 0,
		               "skipped %" JSON_INTEGER_FORMAT " attribute%s of type %s: not a "
		               "network indicator",
		               c, c == 1 ? "" : "s", type);
	}
	if (m->not_ids > 0)
		hl_diag_report(m->diag, HL_DIAG_SKIP, m->name, 0,
		               "skipped %lu attribute%s with to_ids false", m->not_ids,
		               m->not_ids == 1 ? "" : "s");
	if (m->n_deleted > 0)
		hl_diag_report(m->diag, HL_DIAG_SKIP, m->name, 0, "skipped %lu deleted attribute%s",
		               m->n_deleted, m->n_deleted == 1 ? "" : "s");
}

/* Fold one tag name: a "tlp:" tag sets the TLP (strictest wins), any
 * other becomes an indicator tag. */
static int absorb_tag(const char *tag, enum hl_tlp *tlp, bool *have_tlp, struct hl_strv *tags)
{
	enum hl_tlp t;
	if (strncasecmp(tag, "tlp:", 4) == 0 && hl_tlp_parse(tag, &t) == 0) {
		if (!*have_tlp || t > *tlp)
			*tlp = t;
		*have_tlp = true;
		return 0;
	}
	return tag[0] == '\0' || hl_strv_push(tags, tag) == 0 ? 0 : HL_ENOMEM;
}

static enum hl_ind_type name_type(const char *value)
{
	struct hl_cidr c;
	return hl_cidr_parse(value, &c, NULL, 0) == 0 ? HL_IND_IP : HL_IND_DOMAIN;
}

static int add_one(struct misp *m, unsigned long line, const struct attr *a, enum hl_ind_type type,
                   const char *value, bool single)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = type;
	ind.tlp = a->tlp;
	int rc = (ind.value = strdup(value)) == NULL ? HL_ENOMEM : 0;
	bool has_uuid = a->uuid != NULL && a->uuid[0] != '\0';
	if (rc == 0 && single && has_uuid && (ind.id = strdup(a->uuid)) == NULL)
		rc = HL_ENOMEM;
	if (rc == 0 && !single && has_uuid) {
		/* two indicators from one attribute: the uuid can name neither */
		char tag[HL_INDICATOR_ID_MAX + 16];
		snprintf(tag, sizeof tag, "misp-uuid:%s", a->uuid);
		rc = hl_strv_push(&ind.tags, tag);
	}
	if (rc == 0 && a->comment != NULL && a->comment[0] != '\0' &&
	    (ind.description = strdup(a->comment)) == NULL)
		rc = HL_ENOMEM;
	for (size_t i = 0; rc == 0 && a->tags != NULL && i < a->tags->n; i++)
		rc = hl_strv_push(&ind.tags, a->tags->v[i]);
	if (rc == 0 && a->source != NULL)
		rc = hl_strv_push(&ind.sources, a->source);
	char why[WHY_MAX];
	if (rc == 0)
		rc = hl_indicator_normalise(&ind, why, sizeof why);
	if (rc != 0 && rc != HL_ENOMEM) {
		char shown[120];
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line, "%s attribute '%s': %s",
		               a->type, excerpt(value, shown, sizeof shown), why);
		rc = 0;
	} else if (rc == 0) {
		char id[HL_INDICATOR_ID_MAX];
		snprintf(id, sizeof id, "%s", ind.id);
		rc = hl_iset_add(m->out, &ind, NULL);
		if (rc == HL_EEXISTS)
			hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
			               "id %s already names an indicator with another value", id);
		rc = rc == HL_ENOMEM ? rc : 0;
	}
	hl_indicator_clear(&ind);
	return rc;
}

/* Map one attribute of a network type to one or two indicators. */
static int add_attr(struct misp *m, unsigned long line, const struct attr *a, enum kind kind)
{
	const char *v = a->value;
	const char *bar = strchr(v, '|');
	bool composite = kind == K_IP_PORT || kind == K_NAME_PORT || kind == K_DOMAIN_IP;
	if (composite && bar == NULL) {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
		               "%s attribute has no '|' in its value", a->type);
		return 0;
	}
	if (!composite) {
		enum hl_ind_type t = kind == K_IP    ? HL_IND_IP
		                     : kind == K_URL ? HL_IND_URL
		                     : kind == K_URI ? (v[0] == '/' ? HL_IND_URI : HL_IND_URL)
		                                     : name_type(v);
		return add_one(m, line, a, t, v, true);
	}
	char *left = strndup(v, (size_t)(bar - v));
	if (left == NULL)
		return HL_ENOMEM;
	int rc;
	if (kind == K_DOMAIN_IP) {
		rc = add_one(m, line, a, name_type(left), left, false);
		if (rc == 0)
			rc = add_one(m, line, a, HL_IND_IP, bar + 1, false);
	} else {
		rc = add_one(m, line, a, kind == K_IP_PORT ? HL_IND_IP : name_type(left), left,
		             true);
	}
	free(left);
	return rc;
}

static void misp_init(struct misp *m, const char *name, const struct hl_parse_opts *opts,
                      hl_iset_t *out, struct hl_diag *diag)
{
	*m = (struct misp){.name = name, .opts = opts, .out = out, .diag = diag};
	m->skipped = json_object();
}

/* ---- event JSON --------------------------------------------------------- */

/* MISP writes booleans as true/false, 0/1 or "0"/"1". 1, 0, or -1 when the
 * value is none of these; absent is dflt. */
static int flag(const json_t *v, int dflt)
{
	if (v == NULL)
		return dflt;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	const char *s = json_string_value(v);
	if (s == NULL)
		return -1;
	if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0)
		return 1;
	if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

/* Fold the names of a MISP "Tag" list. */
static int absorb_tag_list(const json_t *list, enum hl_tlp *tlp, bool *have_tlp,
                           struct hl_strv *tags)
{
	size_t i;
	json_t *t;
	json_array_foreach(list, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		if (name != NULL && absorb_tag(name, tlp, have_tlp, tags) != 0)
			return HL_ENOMEM;
	}
	return 0;
}

/* What an event lends its attributes. */
struct event {
	const char *source;
	enum hl_tlp tlp;
	bool have_tlp;
	struct hl_strv tags;
};

static int json_attr(struct misp *m, const json_t *ja, unsigned long line, const struct event *ev)
{
	if (!json_is_object(ja)) {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
		               "attribute is not a JSON object");
		return 0;
	}
	struct attr a = {.source = ev->source};
	a.type = json_string_value(json_object_get(ja, "type"));
	a.value = json_string_value(json_object_get(ja, "value"));
	if (a.type == NULL || a.value == NULL) {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
		               "attribute has no \"%s\" string", a.type == NULL ? "type" : "value");
		return 0;
	}
	int to_ids = flag(json_object_get(ja, "to_ids"), 1);
	int deleted = flag(json_object_get(ja, "deleted"), 0);
	if (to_ids < 0 || deleted < 0) {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line, "%s is not a boolean",
		               to_ids < 0 ? "to_ids" : "deleted");
		return 0;
	}
	enum kind kind = kind_of(a.type);
	if (deleted) {
		m->n_deleted++;
		return 0;
	}
	if (kind == K_OTHER)
		return count_skipped(m, a.type);
	if (!to_ids) {
		m->not_ids++;
		return 0;
	}
	a.uuid = json_string_value(json_object_get(ja, "uuid"));
	a.comment = json_string_value(json_object_get(ja, "comment"));
	struct hl_strv tags = {0};
	bool have_tlp = false;
	a.tlp = m->opts->default_tlp;
	int rc = absorb_tag_list(json_object_get(ja, "Tag"), &a.tlp, &have_tlp, &tags);
	if (!have_tlp)
		a.tlp = ev->have_tlp ? ev->tlp : m->opts->default_tlp;
	for (size_t i = 0; rc == 0 && i < ev->tags.n; i++)
		rc = hl_strv_push(&tags, ev->tags.v[i]);
	a.tags = &tags;
	if (rc == 0)
		rc = add_attr(m, line, &a, kind);
	hl_strv_clear(&tags);
	return rc;
}

/* Positions of everything one document shape selects. */
struct jpos {
	struct hl_json_pos event, attr, object, oattr;
	size_t ie, ia, io, ioa; /* running indexes into each */
};

static int json_attr_list(struct misp *m, const json_t *list, struct hl_json_pos *pos, size_t *i,
                          const struct event *ev)
{
	size_t k;
	json_t *ja;
	int rc = 0;
	json_array_foreach(list, k, ja)
	{
		unsigned long line = hl_json_pos_line(pos, (*i)++);
		if (rc == 0)
			rc = json_attr(m, ja, line, ev);
	}
	return rc;
}

static int json_event(struct misp *m, const json_t *je, struct jpos *jp)
{
	unsigned long line = hl_json_pos_line(&jp->event, jp->ie++);
	if (!json_is_object(je)) {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line, "Event is not a JSON object");
		return 0;
	}
	struct event ev = {.tlp = m->opts->default_tlp};
	ev.source = json_string_value(json_object_get(json_object_get(je, "Orgc"), "name"));
	if (ev.source == NULL)
		ev.source = m->opts->default_source;
	int rc = absorb_tag_list(json_object_get(je, "Tag"), &ev.tlp, &ev.have_tlp, &ev.tags);
	json_t *attrs = json_object_get(je, "Attribute");
	if (attrs != NULL && !json_is_array(attrs))
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
		               "Event.Attribute is not a list");
	else if (rc == 0)
		rc = json_attr_list(m, attrs, &jp->attr, &jp->ia, &ev);
	json_t *objects = json_object_get(je, "Object");
	if (objects != NULL && !json_is_array(objects))
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line, "Event.Object is not a list");
	size_t k;
	json_t *obj;
	json_array_foreach(objects, k, obj)
	{
		unsigned long oline = hl_json_pos_line(&jp->object, jp->io++);
		json_t *oattrs = json_object_get(obj, "Attribute");
		if (!json_is_object(obj) || (oattrs != NULL && !json_is_array(oattrs))) {
			hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, oline, "%s",
			               json_is_object(obj) ? "Object.Attribute is not a list"
			                                   : "Object is not a JSON object");
			continue;
		}
		if (rc == 0)
			rc = json_attr_list(m, oattrs, &jp->oattr, &jp->ioa, &ev);
	}
	hl_strv_clear(&ev.tags);
	return rc;
}

static void jpos_init(struct jpos *jp, const char *data, size_t len, const json_t *root,
                      const char *prefix)
{
	static const char *const suffix[] = {"", ".Attribute.*", ".Object.*",
	                                     ".Object.*.Attribute.*"};
	struct hl_json_pos *dst[] = {&jp->event, &jp->attr, &jp->object, &jp->oattr};
	memset(jp, 0, sizeof *jp);
	for (size_t i = 0; i < 4; i++) {
		char path[HL_JSON_POS_MAX_PATH];
		snprintf(path, sizeof path, "%s%s", prefix, suffix[i]);
		hl_json_pos_match(dst[i], data, len, root, path);
	}
}

static void jpos_clear(struct jpos *jp)
{
	hl_json_pos_clear(&jp->event);
	hl_json_pos_clear(&jp->attr);
	hl_json_pos_clear(&jp->object);
	hl_json_pos_clear(&jp->oattr);
}

/* A list of {"Event": {...}} wrappers at path list_path. */
static int json_event_list(struct misp *m, const json_t *list, const char *data, size_t len,
                           const json_t *root, const char *list_path)
{
	char prefix[HL_JSON_POS_MAX_PATH];
	snprintf(prefix, sizeof prefix, "%s%s*.Event", list_path, list_path[0] != '\0' ? "." : "");
	struct jpos jp;
	jpos_init(&jp, data, len, root, prefix);
	struct hl_json_pos wrap;
	snprintf(prefix, sizeof prefix, "%s%s*", list_path, list_path[0] != '\0' ? "." : "");
	hl_json_pos_match(&wrap, data, len, root, prefix);
	size_t i;
	json_t *w;
	int rc = 0;
	json_array_foreach(list, i, w)
	{
		json_t *je = json_object_get(w, "Event");
		if (je == NULL)
			hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, hl_json_pos_line(&wrap, i),
			               "element %zu is not a MISP event ({\"Event\": {...}})", i);
		else if (rc == 0)
			rc = json_event(m, je, &jp);
	}
	hl_json_pos_clear(&wrap);
	jpos_clear(&jp);
	return rc;
}

/* A bare attribute list (restSearch on attributes): no event around it. */
static int json_bare_attrs(struct misp *m, const json_t *list, const char *data, size_t len,
                           const json_t *root, const char *path)
{
	struct hl_json_pos pos;
	hl_json_pos_match(&pos, data, len, root, path);
	struct event ev = {.source = m->opts->default_source, .tlp = m->opts->default_tlp};
	size_t i = 0;
	int rc = json_attr_list(m, list, &pos, &i, &ev);
	hl_json_pos_clear(&pos);
	return rc;
}

static int json_dispatch(struct misp *m, const json_t *root, const char *data, size_t len)
{
	json_t *resp = json_object_get(root, "response");
	if (json_is_object(root) && json_object_get(root, "Event") != NULL) {
		struct jpos jp;
		jpos_init(&jp, data, len, root, "Event");
		int rc = json_event(m, json_object_get(root, "Event"), &jp);
		jpos_clear(&jp);
		return rc;
	}
	if (json_is_array(root))
		return json_event_list(m, root, data, len, root, "");
	if (json_is_array(resp))
		return json_event_list(m, resp, data, len, root, "response");
	if (json_is_array(json_object_get(resp, "Attribute")))
		return json_bare_attrs(m, json_object_get(resp, "Attribute"), data, len, root,
		                       "response.Attribute.*");
	if (json_is_array(json_object_get(root, "Attribute")))
		return json_bare_attrs(m, json_object_get(root, "Attribute"), data, len, root,
		                       "Attribute.*");
	return 1;
}

static const struct hl_parse_opts *opts_or_default(const struct hl_parse_opts *opts,
                                                   struct hl_parse_opts *defaults)
{
	if (opts != NULL)
		return opts;
	hl_parse_opts_init(defaults);
	return defaults;
}

int hl_parse_misp_json(const char *name, const char *data, size_t len,
                       const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	struct hl_parse_opts defaults;
	opts = opts_or_default(opts, &defaults);
	if (name == NULL)
		name = "<misp>";
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
	struct misp m;
	misp_init(&m, name, opts, out, diag);
	int rc = m.skipped != NULL ? json_dispatch(&m, root, data, len) : HL_ENOMEM;
	if (rc == 1) {
		struct hl_json_pos pos;
		hl_json_pos_scan(&pos, data, len, "");
		hl_diag_report(diag, HL_DIAG_ERROR, name, hl_json_pos_line(&pos, 0),
		               "not a MISP event: expected {\"Event\": ...}, a list of them, "
		               "{\"response\": [...]} or an \"Attribute\" list");
		hl_json_pos_clear(&pos);
		rc = HL_EPARSE;
	} else if (rc == 0) {
		report_summaries(&m);
	}
	json_decref(m.skipped);
	json_decref(root);
	return rc;
}

/* ---- CSV ---------------------------------------------------------------- */

/* RFC 4180 records; fields are copied NUL-terminated into buf. */
struct csv {
	const char *p, *end;
	unsigned long line; /* physical line of c->p */
	char *buf;
	size_t blen, bytes;
	size_t off[CSV_MAX_FIELDS];
	size_t nf;
	bool blank;
	const char *err;
};

static void csv_put(struct csv *c, char ch)
{
	if (ch == '\0' && c->err == NULL)
		c->err = "NUL byte in record";
	if (c->bytes++ < HL_PARSE_MAX_LINE)
		c->buf[c->blen++] = ch;
}

static void csv_end_field(struct csv *c)
{
	c->buf[c->blen++] = '\0';
}

static bool csv_eol(const struct csv *c)
{
	return c->p == c->end || *c->p == '\n' ||
	       (*c->p == '\r' && (c->p + 1 == c->end || c->p[1] == '\n'));
}

/* One record. 1: read (c->err says whether it is bad), 0: end of input. */
static int csv_record(struct csv *c)
{
	c->blen = c->bytes = c->nf = 0;
	c->err = NULL;
	c->blank = true;
	if (c->p == c->end)
		return 0;
	for (;;) {
		if (c->nf == CSV_MAX_FIELDS) {
			c->err = "more than 256 fields";
			/* keep scanning to the record's end, storing nothing */
			c->nf--;
			c->blen = c->off[c->nf];
		}
		c->off[c->nf++] = c->blen;
		if (c->p < c->end && *c->p == '"') {
			c->blank = false;
			c->p++;
			for (;;) {
				if (c->p == c->end) {
					c->err = "unterminated quoted field";
					break;
				}
				char ch = *c->p++;
				if (ch == '"') {
					if (c->p == c->end || *c->p != '"')
						break;
					c->p++;
				} else if (ch == '\n') {
					c->line++;
				}
				csv_put(c, ch);
			}
			if (!csv_eol(c) && *c->p != ',' && c->err == NULL)
				c->err = "unexpected character after a closing quote";
		}
		while (!csv_eol(c) && *c->p != ',') {
			c->blank = false;
			csv_put(c, *c->p++);
		}
		csv_end_field(c);
		if (c->p < c->end && *c->p == ',') {
			c->blank = false;
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		break;
	}
	if (c->bytes > HL_PARSE_MAX_LINE && c->err == NULL)
		c->err = "record longer than 65536 bytes";
	return 1;
}

static const char *csv_field(const struct csv *c, int i)
{
	return i >= 0 && (size_t)i < c->nf ? c->buf + c->off[i] : NULL;
}

/* Trim ASCII blanks in place; returns the trimmed start. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

enum { COL_TYPE, COL_VALUE, COL_UUID, COL_COMMENT, COL_TO_IDS, COL_TAGS, COL_COUNT };

static int csv_header(struct csv *c, int col[COL_COUNT])
{
	static const char *const names[][2] = {
	        [COL_TYPE] = {"type", NULL},     [COL_VALUE] = {"value", NULL},
	        [COL_UUID] = {"uuid", NULL},     [COL_COMMENT] = {"comment", NULL},
	        [COL_TO_IDS] = {"to_ids", NULL}, [COL_TAGS] = {"attribute_tag", "tags"},
	};
	for (int k = 0; k < COL_COUNT; k++)
		col[k] = -1;
	for (size_t i = 0; i < c->nf; i++) {
		const char *h = trim(c->buf + c->off[i]);
		for (int k = 0; k < COL_COUNT; k++) {
			for (int j = 0; j < 2; j++) {
				if (col[k] < 0 && names[k][j] != NULL &&
				    strcasecmp(h, names[k][j]) == 0)
					col[k] = (int)i;
			}
		}
	}
	return col[COL_TYPE] >= 0 && col[COL_VALUE] >= 0 ? 0 : HL_EPARSE;
}

/* The comma-separated tag list of a CSV row. */
static int csv_tags(char *list, enum hl_tlp *tlp, bool *have_tlp, struct hl_strv *tags)
{
	char *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (absorb_tag(trim(t), tlp, have_tlp, tags) != 0)
			return HL_ENOMEM;
	}
	return 0;
}

static int csv_row(struct misp *m, struct csv *c, const int col[COL_COUNT], size_t ncols,
                   unsigned long line)
{
	if (c->nf != ncols) {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
		               "record has %zu fields; the header has %zu", c->nf, ncols);
		return 0;
	}
	struct attr a = {.source = m->opts->default_source, .tlp = m->opts->default_tlp};
	a.type = trim(c->buf + c->off[col[COL_TYPE]]);
	a.value = trim(c->buf + c->off[col[COL_VALUE]]);
	a.uuid = csv_field(c, col[COL_UUID]);
	a.comment = csv_field(c, col[COL_COMMENT]);
	if (a.type[0] == '\0' || a.value[0] == '\0') {
		hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line, "empty %s",
		               a.type[0] == '\0' ? "type" : "value");
		return 0;
	}
	enum kind kind = kind_of(a.type);
	if (kind == K_OTHER)
		return count_skipped(m, a.type);
	const char *ids = csv_field(c, col[COL_TO_IDS]);
	if (ids != NULL) {
		char *t = trim(c->buf + c->off[col[COL_TO_IDS]]);
		if (strcmp(t, "0") == 0 || strcasecmp(t, "false") == 0) {
			hl_diag_report(m->diag, HL_DIAG_SKIP, m->name, line, "to_ids is false");
			return 0;
		}
		if (!(t[0] == '\0' || strcmp(t, "1") == 0 || strcasecmp(t, "true") == 0)) {
			hl_diag_report(m->diag, HL_DIAG_ERROR, m->name, line,
			               "to_ids is not 0, 1, true or false");
			return 0;
		}
	}
	if (a.uuid != NULL)
		a.uuid = trim(c->buf + c->off[col[COL_UUID]]);
	struct hl_strv tags = {0};
	bool have_tlp = false;
	int rc = 0;
	if (col[COL_TAGS] >= 0)
		rc = csv_tags(c->buf + c->off[col[COL_TAGS]], &a.tlp, &have_tlp, &tags);
	a.tags = &tags;
	if (rc == 0)
		rc = add_attr(m, line, &a, kind);
	hl_strv_clear(&tags);
	return rc;
}

int hl_parse_misp_csv(const char *name, const char *data, size_t len,
                      const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	struct hl_parse_opts defaults;
	opts = opts_or_default(opts, &defaults);
	if (name == NULL)
		name = "<misp-csv>";
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
	struct csv c = {.p = data, .end = data + len, .line = 1};
	/* worst case: every byte stored plus one NUL per field */
	c.buf = malloc(HL_PARSE_MAX_LINE + CSV_MAX_FIELDS + 1);
	struct misp m;
	misp_init(&m, name, opts, out, diag);
	if (c.buf == NULL || m.skipped == NULL) {
		free(c.buf);
		json_decref(m.skipped);
		return HL_ENOMEM;
	}
	int col[COL_COUNT];
	size_t ncols = 0;
	bool have_header = false;
	int rc = 0;
	for (;;) {
		unsigned long line = c.line;
		if (csv_record(&c) == 0)
			break;
		if (c.blank && c.err == NULL)
			continue;
		if (c.err != NULL) {
			hl_diag_report(diag, HL_DIAG_ERROR, name, line, "%s", c.err);
			if (!have_header) {
				rc = HL_EPARSE;
				break;
			}
			continue;
		}
		if (!have_header) {
			if (csv_header(&c, col) != 0) {
				hl_diag_report(diag, HL_DIAG_ERROR, name, line,
				               "header has no \"type\" and \"value\" columns");
				rc = HL_EPARSE;
				break;
			}
			ncols = c.nf;
			have_header = true;
			continue;
		}
		rc = csv_row(&m, &c, col, ncols, line);
		if (rc != 0)
			break;
	}
	if (rc == 0 && !have_header) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "no header line");
		rc = HL_EPARSE;
	}
	if (rc == 0)
		report_summaries(&m);
	free(c.buf);
	json_decref(m.skipped);
	return rc;
}
