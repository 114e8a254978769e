/* \summary: native indicator reader: JSON lines, one indicator per line
 *
 * Format and schema: docs/formats.md ("Native JSON lines"). Each line is
 * parsed on its own, so one bad line costs that line only; every rejection
 * says FILE:LINE and why.
 */
#include "hotline/parse.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/timefmt.h"

#define WHY_MAX 256

/* A key or value quoted in a message: bounded and without control bytes,
 * since input is untrusted and messages end up on terminals. */
static void shown_n(const char *s, size_t max, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0' && o + 4 < outlen; i++) {
		if (i == max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		out[o++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

static void shown(const char *s, char *out, size_t outlen)
{
	shown_n(s, 64, out, outlen);
}

static int want_string(json_t *v, const char *key, const char **out, char *why, size_t whylen)
{
	if (!json_is_string(v)) {
		snprintf(why, whylen, "\"%s\" must be a string", key);
		return HL_EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int string_array(json_t *v, const char *key, bool allow_string, struct hl_strv *sv,
                        char *why, size_t whylen)
{
	if (allow_string && json_is_string(v))
		return hl_strv_push(sv, json_string_value(v));
	if (!json_is_array(v)) {
		snprintf(why, whylen, "\"%s\" must be %s", key,
		         allow_string ? "a string or an array of strings" : "an array of strings");
		return HL_EINVAL;
	}
	size_t i;
	json_t *el;
	json_array_foreach(v, i, el)
	{
		if (!json_is_string(el)) {
			snprintf(why, whylen, "\"%s\"[%zu] must be a string", key, i);
			return HL_EINVAL;
		}
		int rc = hl_strv_push(sv, json_string_value(el));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int want_time(json_t *v, const char *key, int64_t *out, char *why, size_t whylen)
{
	const char *s;
	int rc = want_string(v, key, &s, why, whylen);
	if (rc != 0)
		return rc;
	if (hl_time_parse(s, out) != 0) {
		char show[80];
		shown(s, show, sizeof show);
		snprintf(why, whylen, "\"%s\": \"%s\" is not an RFC 3339 time", key, show);
		return HL_EINVAL;
	}
	return 0;
}

static int named(json_t *v, const char *key, int (*parse)(const char *, void *), void *out,
                 char *why, size_t whylen)
{
	const char *s;
	int rc = want_string(v, key, &s, why, whylen);
	if (rc != 0)
		return rc;
	if (parse(s, out) != 0) {
		char show[80];
		shown(s, show, sizeof show);
		snprintf(why, whylen, "unknown %s \"%s\"", key, show);
		return HL_EINVAL;
	}
	return 0;
}

/* Adapters so that one helper checks every enum-valued key. */
static int parse_type(const char *s, void *out)
{
	return hl_ind_type_parse(s, out);
}

static int parse_tlp(const char *s, void *out)
{
	return hl_tlp_parse(s, out);
}

static int parse_severity(const char *s, void *out)
{
	return hl_severity_parse(s, out);
}

static int dup_into(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
	return *dst == NULL ? HL_ENOMEM : 0;
}

static bool optional_key(const char *key)
{
	static const char *const keys[] = {
	        "id",         "source",      "tlp",  "confidence",  "severity",
	        "valid_from", "valid_until", "tags", "description", "nocase",
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(key, keys[i]) == 0)
			return true;
	}
	return false;
}

/* One key of a record into ind. 1 = unknown key (a warning), 0 = taken,
 * HL_EINVAL with why, HL_ENOMEM. */
static int take_key(struct hl_indicator *ind, const char *key, json_t *v, bool *have_type,
                    char *why, size_t whylen)
{
	const char *s;
	int rc;
	/* Exporters often spell an absent optional key as null. */
	if (json_is_null(v) && optional_key(key))
		return 0;
	if (strcmp(key, "type") == 0) {
		*have_type = true;
		return named(v, key, parse_type, &ind->type, why, whylen);
	}
	if (strcmp(key, "value") == 0 || strcmp(key, "id") == 0 ||
	    strcmp(key, "description") == 0) {
		rc = want_string(v, key, &s, why, whylen);
		if (rc != 0)
			return rc;
		char **dst = key[0] == 'v'   ? &ind->value
		             : key[0] == 'i' ? &ind->id
		                             : &ind->description;
		return dup_into(dst, s);
	}
	if (strcmp(key, "source") == 0)
		return string_array(v, key, true, &ind->sources, why, whylen);
	if (strcmp(key, "tags") == 0)
		return string_array(v, key, false, &ind->tags, why, whylen);
	if (strcmp(key, "tlp") == 0)
		return named(v, key, parse_tlp, &ind->tlp, why, whylen);
	if (strcmp(key, "severity") == 0)
		return named(v, key, parse_severity, &ind->severity, why, whylen);
	if (strcmp(key, "valid_from") == 0)
		return want_time(v, key, &ind->valid_from, why, whylen);
	if (strcmp(key, "valid_until") == 0)
		return want_time(v, key, &ind->valid_until, why, whylen);
	if (strcmp(key, "confidence") == 0) {
		json_int_t c = json_is_integer(v) ? json_integer_value(v) : -1;
		if (!json_is_integer(v) || c < 0 || c > 100) {
			snprintf(why, whylen, "\"confidence\" must be an integer 0..100");
			return HL_EINVAL;
		}
		ind->confidence = (int)c;
		return 0;
	}
	if (strcmp(key, "nocase") == 0) {
		if (!json_is_boolean(v)) {
			snprintf(why, whylen, "\"nocase\" must be true or false");
			return HL_EINVAL;
		}
		ind->nocase = json_is_true(v);
		return 0;
	}
	return 1;
}

/* One non-blank, non-comment line. Returns HL_ENOMEM or 0 (errors are
 * reported and counted, the line skipped). */
static int one_line(const char *name, unsigned long lineno, const char *line, size_t n,
                    const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	if (memchr(line, '\0', n) != NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno, "NUL byte in line");
		return 0;
	}
	json_error_t jerr;
	json_t *obj = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		char text[200];
		shown_n(jerr.text, 160, text, sizeof text);
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno, "invalid JSON: %s (column %d)",
		               text, jerr.column);
		return 0;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno, "not a JSON object");
		return 0;
	}
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.tlp = opts->default_tlp;
	char why[WHY_MAX] = "";
	bool have_type = false;
	int rc = 0;
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		rc = take_key(&ind, key, v, &have_type, why, sizeof why);
		if (rc == 1) {
			char show[80];
			shown(key, show, sizeof show);
			hl_diag_report(diag, HL_DIAG_WARNING, name, lineno,
			               "unknown key \"%s\" ignored", show);
			rc = 0;
		}
		if (rc != 0)
			break;
	}
	json_decref(obj);
	if (rc == 0 && (!have_type || ind.value == NULL)) {
		snprintf(why, sizeof why, "missing \"%s\"", have_type ? "value" : "type");
		rc = HL_EINVAL;
	}
	if (rc == 0 && ind.sources.n == 0 && opts->default_source != NULL)
		rc = hl_strv_push(&ind.sources, opts->default_source);
	if (rc == 0)
		rc = hl_indicator_normalise(&ind, why, sizeof why);
	if (rc == HL_ENOMEM) {
		hl_indicator_clear(&ind);
		return rc;
	}
	if (rc != 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno, "%s", why);
		hl_indicator_clear(&ind);
		return 0;
	}
	char id[HL_INDICATOR_ID_MAX];
	snprintf(id, sizeof id, "%s", ind.id);
	rc = hl_iset_add(out, &ind, NULL);
	if (rc == HL_EEXISTS) {
		char show[80];
		shown(id, show, sizeof show);
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno,
		               "id %s already used by another value", show);
		return 0;
	}
	return rc;
}

int hl_parse_native(const char *name, const char *data, size_t len,
                    const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	struct hl_parse_opts defaults;
	if (opts == NULL) {
		hl_parse_opts_init(&defaults);
		opts = &defaults;
	}
	if (out == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	size_t pos = 0;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	for (unsigned long lineno = 1; pos < len; lineno++) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > HL_PARSE_MAX_LINE) {
			hl_diag_report(diag, HL_DIAG_ERROR, name, lineno,
			               "line longer than %d bytes", HL_PARSE_MAX_LINE);
			continue;
		}
		size_t lead = 0;
		while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
			lead++;
		if (lead == n || line[lead] == '#')
			continue;
		int rc = one_line(name, lineno, line, n, opts, out, diag);
		if (rc != 0)
			return rc;
	}
	return 0;
}
