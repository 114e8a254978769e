/* \summary: indicator file reading: options, format detection, dispatch
 *
 * Files are read whole (bounded by HL_PARSE_MAX_INPUT) and handed to one
 * per-format reader; readers never touch the file system themselves, so the
 * fuzz targets exercise exactly the code that reads real files.
 */
#define _GNU_SOURCE /* memmem */
#include "hotline/parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hotline/err.h"

static const char *const format_names[HL_FMT_COUNT] = {
        "auto", "native", "list", "stix", "misp-csv", "misp-json",
};

/* Detection looks at most this far: a STIX bundle or MISP event names its
 * kind near the top, and a huge file must not be scanned twice. */
#define DETECT_WINDOW (64 * 1024)

void hl_parse_opts_init(struct hl_parse_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->format = HL_FMT_AUTO;
	opts->default_tlp = HL_TLP_AMBER;
}

const char *hl_format_name(enum hl_format fmt)
{
	return (unsigned)fmt < HL_FMT_COUNT ? format_names[fmt] : "?";
}

int hl_format_parse(const char *s, enum hl_format *out)
{
	for (int i = 0; s != NULL && i < HL_FMT_COUNT; i++) {
		if (strcasecmp(s, format_names[i]) == 0) {
			*out = (enum hl_format)i;
			return 0;
		}
	}
	if (s != NULL && (strcasecmp(s, "jsonl") == 0 || strcasecmp(s, "json") == 0)) {
		*out = HL_FMT_NATIVE;
		return 0;
	}
	return HL_EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Position just after "key" followed by optional space and ':', or NULL. */
static const char *find_key(const char *p, size_t n, const char *key)
{
	char quoted[32];
	int w = snprintf(quoted, sizeof quoted, "\"%s\"", key);
	if (w < 0 || (size_t)w >= sizeof quoted)
		return NULL;
	const char *end = p + n;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), quoted, (size_t)w);
		if (hit == NULL)
			return NULL;
		const char *q = hit + w;
		while (q < end && is_space(*q))
			q++;
		if (q < end && *q == ':')
			return q + 1;
		p = hit + 1;
	}
	return NULL;
}

static bool has_key_value(const char *p, size_t n, const char *key, const char *value)
{
	const char *end = p + n;
	while (p < end) {
		const char *q = find_key(p, (size_t)(end - p), key);
		if (q == NULL)
			return false;
		while (q < end && is_space(*q))
			q++;
		size_t vn = strlen(value);
		if ((size_t)(end - q) >= vn + 2 && q[0] == '"' && memcmp(q + 1, value, vn) == 0 &&
		    q[vn + 1] == '"')
			return true;
		p = q;
	}
	return false;
}

/* Like has_key_value, for a value that starts with prefix. */
static bool has_key_value_prefix(const char *p, size_t n, const char *key, const char *prefix)
{
	const char *end = p + n;
	size_t pn = strlen(prefix);
	while (p < end) {
		const char *q = find_key(p, (size_t)(end - p), key);
		if (q == NULL)
			return false;
		while (q < end && is_space(*q))
			q++;
		if ((size_t)(end - q) >= pn + 1 && q[0] == '"' && memcmp(q + 1, prefix, pn) == 0)
			return true;
		p = q;
	}
	return false;
}

/* A native file's first line is a whole object with a "value". */
static bool first_line_is_native(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t line = nl != NULL ? (size_t)(nl - p) : n;
	if (line > HL_PARSE_MAX_LINE)
		return false;
	json_t *j = json_loadb(p, line, 0, NULL);
	bool native = json_is_object(j) && json_object_get(j, "value") != NULL;
	json_decref(j);
	return native;
}

/* A CSV header naming MISP's columns: "uuid,event_id,..." or one with
 * both "type" and "value" columns. */
static bool misp_csv_header(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t line = nl != NULL ? (size_t)(nl - p) : n;
	bool uuid = false, event_id = false, type = false, value = false;
	size_t start = 0;
	for (size_t i = 0; i <= line; i++) {
		if (i < line && p[i] != ',')
			continue;
		size_t a = start, b = i;
		while (a < b && (is_space(p[a]) || p[a] == '"'))
			a++;
		while (b > a && (is_space(p[b - 1]) || p[b - 1] == '"'))
			b--;
		size_t fn = b - a;
		if (fn == 4 && strncasecmp(p + a, "uuid", 4) == 0)
			uuid = true;
		else if (fn == 8 && strncasecmp(p + a, "event_id", 8) == 0)
			event_id = true;
		else if (fn == 4 && strncasecmp(p + a, "type", 4) == 0)
			type = true;
		else if (fn == 5 && strncasecmp(p + a, "value", 5) == 0)
			value = true;
		start = i + 1;
	}
	return (uuid && event_id) || (type && value);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = name != NULL ? strlen(name) : 0, sn = strlen(suffix);
	return n >= sn && strcasecmp(name + n - sn, suffix) == 0;
}

enum hl_format hl_format_detect(const char *data, size_t len, const char *name)
{
	const char *p = data, *end = data + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	/* Comment lines may head both native files and lists. */
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if (p == end || *p != '#')
			break;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl != NULL ? nl + 1 : end;
	}
	if (p == end) {
		if (has_suffix(name, ".jsonl") || has_suffix(name, ".ndjson") ||
		    has_suffix(name, ".json"))
			return HL_FMT_NATIVE;
		return HL_FMT_LIST;
	}
	size_t window = (size_t)(end - p) < DETECT_WINDOW ? (size_t)(end - p) : DETECT_WINDOW;
	if (*p == '{') {
		if (has_suffix(name, ".jsonl") || has_suffix(name, ".ndjson") ||
		    first_line_is_native(p, window))
			return HL_FMT_NATIVE;
		/* sorted keys put "type" last in a bundle, so its id (first)
		 * identifies a large one */
		if (has_key_value(p, window, "type", "bundle") ||
		    has_key_value_prefix(p, window, "id", "bundle--"))
			return HL_FMT_STIX;
		if (find_key(p, window, "Event") != NULL ||
		    find_key(p, window, "Attribute") != NULL)
			return HL_FMT_MISP_JSON;
		return HL_FMT_NATIVE;
	}
	if (*p == '[' &&
	    (find_key(p, window, "Event") != NULL || find_key(p, window, "Attribute") != NULL))
		return HL_FMT_MISP_JSON;
	if (misp_csv_header(p, window))
		return HL_FMT_MISP_CSV;
	return HL_FMT_LIST;
}

int hl_parse_buffer(const char *name, const char *data, size_t len,
                    const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	struct hl_parse_opts defaults;
	if (opts == NULL) {
		hl_parse_opts_init(&defaults);
		opts = &defaults;
	}
	if (data == NULL && len > 0)
		return HL_EINVAL;
	if (data == NULL)
		data = "";
	if (len > (size_t)HL_PARSE_MAX_INPUT) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "input larger than %ld bytes",
		               HL_PARSE_MAX_INPUT);
		return HL_ELIMIT;
	}
	enum hl_format fmt = opts->format;
	if (fmt == HL_FMT_AUTO)
		fmt = hl_format_detect(data, len, name);
	switch (fmt) {
	case HL_FMT_NATIVE:
		return hl_parse_native(name, data, len, opts, out, diag);
	case HL_FMT_LIST:
		return hl_parse_list(name, data, len, opts, out, diag);
	case HL_FMT_STIX:
		return hl_parse_stix(name, data, len, opts, out, diag);
	case HL_FMT_MISP_CSV:
		return hl_parse_misp_csv(name, data, len, opts, out, diag);
	case HL_FMT_MISP_JSON:
		return hl_parse_misp_json(name, data, len, opts, out, diag);
	case HL_FMT_AUTO:
	case HL_FMT_COUNT:
		break;
	}
	hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "unknown input format %d", (int)fmt);
	return HL_EINVAL;
}

/* Read a whole stream (regular file or pipe) up to HL_PARSE_MAX_INPUT. */
static int slurp(FILE *f, const char *path, char **data, size_t *len, struct hl_diag *diag)
{
	struct stat st;
	size_t cap = 64 * 1024;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		if (st.st_size > HL_PARSE_MAX_INPUT) {
			hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "file larger than %ld bytes",
			               HL_PARSE_MAX_INPUT);
			return HL_ELIMIT;
		}
		cap = (size_t)st.st_size + 1;
	}
	char *buf = malloc(cap);
	if (buf == NULL)
		return HL_ENOMEM;
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			/* One byte past the limit is enough to know it is too big. */
			size_t limit = (size_t)HL_PARSE_MAX_INPUT + 1;
			if (cap >= limit)
				break;
			size_t next = cap * 2 < limit ? cap * 2 : limit;
			char *grown = realloc(buf, next);
			if (grown == NULL) {
				free(buf);
				return HL_ENOMEM;
			}
			buf = grown;
			cap = next;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "read error: %s", strerror(errno));
		free(buf);
		return HL_EIO;
	}
	if (n > (size_t)HL_PARSE_MAX_INPUT) {
		free(buf);
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "file larger than %ld bytes",
		               HL_PARSE_MAX_INPUT);
		return HL_ELIMIT;
	}
	*data = buf;
	*len = n;
	return 0;
}

int hl_parse_file(const char *path, const struct hl_parse_opts *opts, hl_iset_t *out,
                  struct hl_diag *diag)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return HL_EIO;
	}
	char *data = NULL;
	size_t len = 0;
	int rc = slurp(f, path, &data, &len, diag);
	fclose(f);
	if (rc != 0)
		return rc;
	rc = hl_parse_buffer(path, data, len, opts, out, diag);
	free(data);
	return rc;
}
