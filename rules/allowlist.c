/* \summary: allowlists: exact strings, domain suffixes, CIDRs (see allowlist.h)
 *
 * Entries keep their insertion order (for serialising) in a vector whose
 * values live in a chunked string arena, so a returned value pointer stays
 * valid for the allowlist's lifetime. Lookups go through three tables whose
 * values are entry indexes: exact strings and suffixes in name tables, CIDRs
 * in a prefix set. Values are canonicalised by hl_indicator_normalise so an
 * entry compares equal to indicators and observations in canonical form.
 * File formats: docs/formats.md (Allowlists).
 */
#include "hotline/allowlist.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"
#include "name_table.h"
#include "prefix_set.h"

#define LINE_MAX_BYTES (64u * 1024u)
#define ARENA_BLOCK (64u * 1024u)
#define FILE_MAX_BYTES ((size_t)1 << 30)
#define WHY_MAX 256

struct al_entry {
	enum hl_allow_kind kind;
	const char *value; /* in the arena */
};

struct al_block {
	struct al_block *next;
	size_t used, cap;
	char data[];
};

struct hl_allowlist {
	struct al_entry *entries;
	size_t n, cap;
	struct al_block *blocks; /* newest first */
	hl_name_table_t *exact;
	hl_name_table_t *suffix;
	hl_prefix_set_t *cidr;
};

hl_allowlist_t *hl_allowlist_new(void)
{
	hl_allowlist_t *al = calloc(1, sizeof *al);
	if (al == NULL)
		return NULL;
	al->exact = hl_name_table_new();
	al->suffix = hl_name_table_new();
	al->cidr = hl_prefix_set_new();
	if (al->exact == NULL || al->suffix == NULL || al->cidr == NULL)
		hl_allowlist_destroy(&al);
	return al;
}

void hl_allowlist_destroy(hl_allowlist_t **al_p)
{
	if (al_p == NULL || *al_p == NULL)
		return;
	hl_allowlist_t *al = *al_p;
	while (al->blocks != NULL) {
		struct al_block *next = al->blocks->next;
		free(al->blocks);
		al->blocks = next;
	}
	free(al->entries);
	hl_name_table_destroy(&al->exact);
	hl_name_table_destroy(&al->suffix);
	hl_prefix_set_destroy(&al->cidr);
	free(al);
	*al_p = NULL;
}

static int fail(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return HL_EINVAL;
}

/* Copy s into the arena; the copy never moves. */
static const char *arena_strdup(hl_allowlist_t *al, const char *s, size_t len)
{
	struct al_block *b = al->blocks;
	if (b == NULL || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		b = malloc(sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = al->blocks;
		al->blocks = b;
	}
	char *out = b->data + b->used;
	memcpy(out, s, len);
	out[len] = '\0';
	b->used += len + 1;
	return out;
}

/* Canonical form of value as an indicator of type; *out is malloc'd. */
static int canon_as(enum hl_ind_type type, const char *value, char **out, char *why, size_t whylen)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = type;
	ind.value = strdup(value);
	ind.id = strdup("allowlist"); /* spares deriving an id nobody reads */
	if (ind.value == NULL || ind.id == NULL) {
		hl_indicator_clear(&ind);
		return HL_ENOMEM;
	}
	int rc = hl_indicator_normalise(&ind, why, whylen);
	if (rc == 0) {
		*out = ind.value;
		ind.value = NULL;
	}
	hl_indicator_clear(&ind);
	return rc;
}

/* An exact entry: a name, URL, URI or address in its canonical form, or
 * any other printable string as given (MISP "string" lists hold such). */
static int canon_exact(const char *value, char **out, char *why, size_t whylen)
{
	size_t n = strlen(value);
	if (n == 0)
		return fail(why, whylen, "empty value");
	if (n > HL_INDICATOR_VALUE_MAX)
		return fail(why, whylen, "value longer than 4096 bytes");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c == 0x7f)
			return fail(why, whylen, "control character in value");
	}
	enum hl_ind_type type;
	if (hl_ind_type_infer(value, &type) == 0)
		return canon_as(type, value, out, why, whylen);
	*out = strdup(value);
	return *out == NULL ? HL_ENOMEM : 0;
}

static int canon_entry(enum hl_allow_kind kind, const char *value, char **out, char *why,
                       size_t whylen)
{
	switch (kind) {
	case HL_ALLOW_EXACT:
		return canon_exact(value, out, why, whylen);
	case HL_ALLOW_SUFFIX:
		/* ".example.com" and "*.example.com" both mean the suffix. */
		if (value[0] == '.')
			value++;
		return canon_as(HL_IND_DOMAIN, value, out, why, whylen);
	case HL_ALLOW_CIDR:
		return canon_as(HL_IND_IP, value, out, why, whylen);
	}
	return fail(why, whylen, "unknown allowlist entry kind");
}

static int push_entry(hl_allowlist_t *al, enum hl_allow_kind kind, const char *value, size_t len,
                      uint32_t *index)
{
	if (al->n >= UINT32_MAX)
		return HL_ELIMIT;
	if (al->n == al->cap) {
		size_t cap = al->cap < 16 ? 16 : al->cap * 2;
		struct al_entry *e = realloc(al->entries, cap * sizeof *e);
		if (e == NULL)
			return HL_ENOMEM;
		al->entries = e;
		al->cap = cap;
	}
	const char *copy = arena_strdup(al, value, len);
	if (copy == NULL)
		return HL_ENOMEM;
	al->entries[al->n].kind = kind;
	al->entries[al->n].value = copy;
	*index = (uint32_t)al->n;
	return 0;
}

/* A repeated entry (same kind, same canonical value) is accepted and not
 * stored twice, so re-reading a list never changes it. */
static int add_canonical(hl_allowlist_t *al, enum hl_allow_kind kind, const char *value)
{
	size_t len = strlen(value);
	struct hl_cidr c;
	hl_name_table_t *t = kind == HL_ALLOW_EXACT ? al->exact : al->suffix;
	if (kind == HL_ALLOW_CIDR) {
		if (hl_cidr_parse(value, &c, NULL, 0) != 0)
			return HL_EINVAL; /* canonical text always parses */
		if (hl_prefix_set_has(al->cidr, c.family, c.addr, c.plen))
			return 0;
	} else if (hl_name_table_get(t, value, len, NULL) > 0) {
		return 0;
	}
	uint32_t index;
	int rc = push_entry(al, kind, value, len, &index);
	if (rc != 0)
		return rc;
	if (kind == HL_ALLOW_CIDR)
		rc = hl_prefix_set_add(al->cidr, c.family, c.addr, c.plen, index);
	else
		rc = hl_name_table_add(t, value, len, index);
	if (rc != 0)
		return rc; /* not counted: the slot is reused, its copy idles */
	al->n++;
	return 0;
}

int hl_allowlist_add(hl_allowlist_t *al, enum hl_allow_kind kind, const char *value, char *why,
                     size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (al == NULL || value == NULL)
		return fail(why, whylen, "no allowlist or value");
	char *canon = NULL;
	int rc = canon_entry(kind, value, &canon, why, whylen);
	if (rc != 0)
		return rc;
	rc = add_canonical(al, kind, canon);
	free(canon);
	if (rc != 0 && rc != HL_EINVAL)
		fail(why, whylen, hl_strerror(rc));
	return rc;
}

size_t hl_allowlist_count(const hl_allowlist_t *al)
{
	return al == NULL ? 0 : al->n;
}

int hl_allowlist_entry(const hl_allowlist_t *al, size_t i, enum hl_allow_kind *kind,
                       const char **value)
{
	if (al == NULL || i >= al->n)
		return HL_ERANGE;
	if (kind != NULL)
		*kind = al->entries[i].kind;
	if (value != NULL)
		*value = al->entries[i].value;
	return 0;
}

static int stop_at_first(void *ctx, uint32_t value)
{
	(void)ctx;
	(void)value;
	return 1;
}

static bool under_suffix(const hl_allowlist_t *al, const char *name, size_t len)
{
	return hl_name_table_suffix_walk(al->suffix, name, len, stop_at_first, NULL) > 0;
}

bool hl_allowlist_has_name(const hl_allowlist_t *al, const char *name, size_t len)
{
	if (al == NULL || (name == NULL && len > 0))
		return false;
	return hl_name_table_get(al->exact, name, len, NULL) > 0 || under_suffix(al, name, len);
}

bool hl_allowlist_has_string(const hl_allowlist_t *al, const char *s, size_t len)
{
	if (al == NULL || (s == NULL && len > 0))
		return false;
	return hl_name_table_get(al->exact, s, len, NULL) > 0;
}

bool hl_allowlist_has_addr(const hl_allowlist_t *al, int family, const uint8_t *addr)
{
	if (al == NULL || addr == NULL)
		return false;
	return hl_prefix_set_contains(al->cidr, family, addr);
}

/* Only entries that hide every observation an indicator can match count:
 * a domain indicator also matches subdomains, so an exact entry for the
 * same name does not cover it; a suffix entry at or above it does. An ip
 * indicator must lie inside one CIDR entry (several adjacent entries that
 * together span it are not noticed: a missed warning, never a false one). */
bool hl_allowlist_covers(const hl_allowlist_t *al, const struct hl_indicator *ind)
{
	if (al == NULL || ind == NULL || ind->value == NULL)
		return false;
	size_t len = strlen(ind->value);
	switch (ind->type) {
	case HL_IND_DOMAIN:
		return under_suffix(al, ind->value, len);
	case HL_IND_IP: {
		struct hl_cidr c;
		if (hl_cidr_parse(ind->value, &c, NULL, 0) != 0)
			return false;
		return hl_prefix_set_covers(al->cidr, c.family, c.addr, c.plen);
	}
	case HL_IND_URL:
	case HL_IND_URI: {
		/* The matcher also suppresses an observation whose part before
		 * '?' is an exact entry, so "host/p" covers "host/p?x=1". */
		const char *q = memchr(ind->value, '?', len);
		return hl_allowlist_has_string(al, ind->value, len) ||
		       (q != NULL &&
		        hl_allowlist_has_string(al, ind->value, (size_t)(q - ind->value)));
	}
	case HL_IND_CONTENT:
	case HL_IND_REGEX:
	case HL_IND_TYPE_COUNT:
		break;
	}
	return false;
}

/* ---- parsing ---------------------------------------------------------- */

struct al_parse {
	hl_allowlist_t *al;
	const char *name;
	struct hl_diag *diag;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim s[0..*len) in place; returns the new start. */
static char *trim(char *s, size_t *len)
{
	size_t n = *len;
	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	s[n] = '\0';
	*len = n;
	return s;
}

/* "com", ".com", "*.com", "com." */
static bool single_label(const char *v)
{
	if (v[0] == '*')
		v++;
	if (v[0] == '.')
		v++;
	size_t n = strlen(v);
	if (n > 0 && v[n - 1] == '.')
		n--;
	return memchr(v, '.', n) == NULL;
}

/* Up to size - 4 bytes of s for a message, control bytes as '?', "..."
 * when cut: hostile input must not drive the terminal reading diagnostics. */
static void printable_copy(char *out, size_t size, const char *s)
{
	size_t n = 0, max = size - 4;
	for (; s[n] != '\0' && n < max; n++)
		out[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
	if (s[n] != '\0') {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* Add one value, reporting a rejection as "FILE:LINE: why" (or "list[i]"
 * for JSON). Only running out of memory stops the caller. */
static int add_reported(struct al_parse *p, unsigned long line, const char *where,
                        enum hl_allow_kind kind, const char *value)
{
	char why[WHY_MAX];
	int rc = hl_allowlist_add(p->al, kind, value, why, sizeof why);
	if (rc == HL_ENOMEM)
		return rc;
	if (rc != 0) {
		char shown[84];
		printable_copy(shown, sizeof shown, value);
		hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, line, "%s\"%s\": %s", where, shown,
		               why);
		return 0;
	}
	if (kind == HL_ALLOW_SUFFIX && single_label(value))
		hl_diag_report(p->diag, HL_DIAG_WARNING, p->name, line,
		               "%ssuffix \"%.80s\" allowlists a whole top-level domain", where,
		               value);
	return 0;
}

/* Could a bare value that is no valid address still be meant as one? Then
 * it is reported as a bad CIDR rather than quietly kept as a string. */
static bool looks_like_address(const char *v)
{
	size_t n = strlen(v);
	if (strspn(v, "0123456789./") == n)
		return strchr(v, '.') != NULL;
	if (strstr(v, "::") != NULL)
		return true;
	return strchr(v, ':') != NULL && strspn(v, "0123456789abcdefABCDEF:./") == n;
}

static enum hl_allow_kind infer_kind(const char *v)
{
	enum hl_ind_type type;
	if (hl_ind_type_infer(v, &type) == 0) {
		if (type == HL_IND_IP)
			return HL_ALLOW_CIDR;
		if (type == HL_IND_DOMAIN)
			return HL_ALLOW_SUFFIX;
		return HL_ALLOW_EXACT;
	}
	if (v[0] == '.' && hl_ind_type_infer(v + 1, &type) == 0 && type == HL_IND_DOMAIN)
		return HL_ALLOW_SUFFIX;
	return looks_like_address(v) ? HL_ALLOW_CIDR : HL_ALLOW_EXACT;
}

static const struct {
	const char *word;
	enum hl_allow_kind kind;
} keywords[] = {
        {"exact", HL_ALLOW_EXACT},
        {"suffix", HL_ALLOW_SUFFIX},
        {"cidr", HL_ALLOW_CIDR},
};

static int keyword(const char *s, size_t n, enum hl_allow_kind *kind)
{
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
		if (strlen(keywords[i].word) == n && strncasecmp(s, keywords[i].word, n) == 0) {
			*kind = keywords[i].kind;
			return 0;
		}
	}
	return HL_ENOTFOUND;
}

/* line is NUL-terminated, n bytes, no newline. */
static int parse_line(struct al_parse *p, unsigned long lineno, char *line, size_t n)
{
	line = trim(line, &n);
	if (n == 0 || line[0] == '#')
		return 0;
	/* A comment starts at a '#' after white space ("a.example # why"). */
	for (size_t i = 1; i < n; i++) {
		if (line[i] == '#' && is_space(line[i - 1])) {
			n = i;
			line = trim(line, &n);
			break;
		}
	}
	size_t word = 0;
	while (word < n && !is_space(line[word]))
		word++;
	enum hl_allow_kind kind;
	bool is_kw = keyword(line, word, &kind) == 0;
	if (word == n) {
		if (is_kw) {
			hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, lineno,
			               "missing value after \"%s\"", line);
			return 0;
		}
		return add_reported(p, lineno, "", infer_kind(line), line);
	}
	if (!is_kw) {
		char shown[36];
		line[word] = '\0';
		printable_copy(shown, sizeof shown, line);
		hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, lineno,
		               "unknown entry kind \"%s\" (expected exact, suffix or cidr)", shown);
		return 0;
	}
	size_t rest = n - word;
	char *value = trim(line + word, &rest);
	return add_reported(p, lineno, "", kind, value);
}

static int parse_lines(struct al_parse *p, const char *data, size_t len)
{
	char *buf = malloc(LINE_MAX_BYTES + 1);
	if (buf == NULL)
		return HL_ENOMEM;
	int rc = 0;
	unsigned long lineno = 0;
	size_t pos = 0;
	while (pos < len && rc == 0) {
		lineno++;
		const char *start = data + pos;
		const char *eol = memchr(start, '\n', len - pos);
		size_t n = eol != NULL ? (size_t)(eol - start) : len - pos;
		pos += n + (eol != NULL);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_BYTES) {
			hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, lineno,
			               "line longer than %u bytes", LINE_MAX_BYTES);
			continue;
		}
		if (memchr(start, '\0', n) != NULL) {
			hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, lineno, "NUL byte in line");
			continue;
		}
		memcpy(buf, start, n);
		buf[n] = '\0';
		rc = parse_line(p, lineno, buf, n);
	}
	free(buf);
	return rc;
}

/* A MISP warninglist: {"name": ..., "type": ..., "list": [...]}. Its
 * entries carry no line numbers, so errors name the list index. */
static int parse_misp(struct al_parse *p, const char *data, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(data, len, 0, &err);
	if (root == NULL) {
		hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, (unsigned long)err.line, "JSON: %s",
		               err.text);
		return HL_EPARSE;
	}
	int rc = HL_EPARSE;
	const char *what = NULL;
	const char *title = json_string_value(json_object_get(root, "name"));
	json_t *jtype = json_object_get(root, "type");
	json_t *list = json_object_get(root, "list");
	/* MISP itself treats a list without a type as "string". */
	const char *type = jtype == NULL ? "string" : json_string_value(jtype);
	enum hl_allow_kind kind = HL_ALLOW_EXACT;
	if (!json_is_object(root))
		what = "not a MISP warninglist (expected a JSON object)";
	else if (type == NULL)
		what = "MISP warninglist \"type\" is not a string";
	else if (!json_is_array(list))
		what = "MISP warninglist has no \"list\" array";
	if (what != NULL) {
		hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, 0, "%s", what);
		goto out;
	}
	char shown[84], shown_type[36];
	printable_copy(shown, sizeof shown, title != NULL ? title : "(unnamed)");
	printable_copy(shown_type, sizeof shown_type, type);
	title = shown;
	if (strcmp(type, "hostname") == 0) {
		kind = HL_ALLOW_SUFFIX;
	} else if (strcmp(type, "cidr") == 0) {
		kind = HL_ALLOW_CIDR;
	} else if (strcmp(type, "string") == 0) {
		kind = HL_ALLOW_EXACT;
	} else if (strcmp(type, "substring") == 0 || strcmp(type, "regex") == 0) {
		hl_diag_report(p->diag, HL_DIAG_SKIP, p->name, 0,
		               "warninglist \"%s\": type \"%s\" is not supported (only whole "
		               "values are compared); %zu entries skipped",
		               title, shown_type, json_array_size(list));
		rc = 0;
		goto out;
	} else {
		hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, 0,
		               "warninglist \"%s\": unknown type \"%s\"", title, shown_type);
		goto out;
	}
	rc = 0;
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
	{
		const char *s = json_string_value(item);
		if (s == NULL) {
			hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, 0,
			               "list[%zu]: not a string", i);
			continue;
		}
		size_t n = json_string_length(item);
		char *copy = strndup(s, n);
		if (copy == NULL) {
			rc = HL_ENOMEM;
			break;
		}
		char where[40];
		snprintf(where, sizeof where, "list[%zu] ", i);
		char *v = trim(copy, &n);
		if (n == 0)
			hl_diag_report(p->diag, HL_DIAG_ERROR, p->name, 0, "%sis empty", where);
		else
			rc = add_reported(p, 0, where, kind, v);
		free(copy);
		if (rc != 0)
			break;
	}
out:
	json_decref(root);
	return rc;
}

int hl_allowlist_parse_buffer(hl_allowlist_t *al, const char *name, const char *data, size_t len,
                              struct hl_diag *diag)
{
	if (al == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	struct al_parse p = {al, name, diag};
	size_t skip = 0;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		skip = 3; /* UTF-8 byte order mark */
	size_t first = skip;
	while (first < len && (is_space(data[first]) || data[first] == '\n'))
		first++;
	if (first < len && data[first] == '{')
		return parse_misp(&p, data + skip, len - skip);
	return parse_lines(&p, data + skip, len - skip);
}

int hl_allowlist_parse_file(hl_allowlist_t *al, const char *path, struct hl_diag *diag)
{
	if (al == NULL || path == NULL)
		return HL_EINVAL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return HL_EIO;
	}
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	int rc = buf == NULL ? HL_ENOMEM : 0;
	while (rc == 0) {
		if (len == cap) {
			char *grown = cap >= FILE_MAX_BYTES ? NULL : realloc(buf, cap * 2);
			if (grown == NULL) {
				rc = cap >= FILE_MAX_BYTES ? HL_ELIMIT : HL_ENOMEM;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = HL_EIO;
	fclose(f);
	if (rc == 0)
		rc = hl_allowlist_parse_buffer(al, path, buf, len, diag);
	else
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot read: %s", hl_strerror(rc));
	free(buf);
	return rc;
}
