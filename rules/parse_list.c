/* \summary: plain list reader: "TYPE<TAB>VALUE" or bare values, '#' comments
 *
 * The format for hand-kept and feed-exported lists (one address or name per
 * line). Format: docs/formats.md ("Lists").
 */
#include "hotline/parse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

#define WHY_MAX 256

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A value quoted in a message: bounded, control bytes masked. */
static void shown(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0' && o + 4 < outlen; i++) {
		if (i == 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		out[o++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

/* Split text (NUL-terminated, mutable) into type and value. */
static int split(char *text, struct hl_indicator *ind, char *why, size_t whylen)
{
	size_t word = strcspn(text, " \t");
	char show[80];
	if (text[word] != '\0') {
		char sep = text[word];
		text[word] = '\0';
		if (hl_ind_type_parse(text, &ind->type) == 0) {
			char *value = text + word + 1;
			while (blank(*value))
				value++;
			if (*value == '\0') {
				snprintf(why, whylen, "missing value after type \"%s\"", text);
				return HL_EINVAL;
			}
			ind->value = strdup(value);
			return ind->value == NULL ? HL_ENOMEM : 0;
		}
		if (sep == '\t') {
			shown(text, show, sizeof show);
			snprintf(why, whylen, "unknown type \"%s\" before TAB", show);
			return HL_EINVAL;
		}
		text[word] = sep;
	}
	enum hl_ind_type bare;
	if (hl_ind_type_parse(text, &bare) == 0) {
		/* "domain" alone is a valid name, but surely a value went missing. */
		snprintf(why, whylen, "missing value after type \"%s\"", text);
		return HL_EINVAL;
	}
	if (hl_ind_type_infer(text, &ind->type) != 0) {
		shown(text, show, sizeof show);
		snprintf(why, whylen, "cannot tell the type of \"%s\" (write TYPE<TAB>VALUE)",
		         show);
		return HL_EINVAL;
	}
	ind->value = strdup(text);
	return ind->value == NULL ? HL_ENOMEM : 0;
}

/* One non-blank, non-comment line, already trimmed. 0 or HL_ENOMEM. */
static int one_line(const char *name, unsigned long lineno, const char *line, size_t n,
                    const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	if (memchr(line, '\0', n) != NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno, "NUL byte in line");
		return 0;
	}
	char *text = strndup(line, n);
	if (text == NULL)
		return HL_ENOMEM;
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.tlp = opts->default_tlp;
	char why[WHY_MAX] = "";
	int rc = split(text, &ind, why, sizeof why);
	free(text);
	if (rc == 0 && opts->default_source != NULL)
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
	/* Derived ids cannot collide for different values (short of SHA-256),
	 * but report it the same way as the native reader would. */
	char id[HL_INDICATOR_ID_MAX];
	snprintf(id, sizeof id, "%s", ind.id);
	rc = hl_iset_add(out, &ind, NULL);
	if (rc == HL_EEXISTS) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, lineno,
		               "id %s already used by another value", id);
		return 0;
	}
	return rc;
}

int hl_parse_list(const char *name, const char *data, size_t len, const struct hl_parse_opts *opts,
                  hl_iset_t *out, struct hl_diag *diag)
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
		if (n > HL_PARSE_MAX_LINE) {
			hl_diag_report(diag, HL_DIAG_ERROR, name, lineno,
			               "line longer than %d bytes", HL_PARSE_MAX_LINE);
			continue;
		}
		while (n > 0 && (blank(line[n - 1]) || line[n - 1] == '\r'))
			n--;
		while (n > 0 && blank(line[0])) {
			line++;
			n--;
		}
		if (n == 0 || line[0] == '#')
			continue;
		/* "value  # why it is listed": '#' after white space starts a
		 * comment, while "http://host/#x" keeps its '#'. */
		for (size_t i = 1; i < n; i++) {
			if (line[i] == '#' && blank(line[i - 1])) {
				n = i;
				break;
			}
		}
		while (n > 0 && blank(line[n - 1]))
			n--;
		int rc = one_line(name, lineno, line, n, opts, out, diag);
		if (rc != 0)
			return rc;
	}
	return 0;
}
