/* \summary: --expect comparison of sighting records (see expect.h) */
#include "expect.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

struct canon_list {
	char **v;
	size_t n, cap;
};

static int canon_push(struct canon_list *l, const char *text, size_t len, char **err_out)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, len, 0, &jerr);
	if (j == NULL) {
		*err_out = strdup(jerr.text);
		return HL_EPARSE;
	}
	char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(j);
	if (canon == NULL)
		return HL_ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **grown = realloc(l->v, cap * sizeof *grown);
		if (grown == NULL) {
			free(canon);
			return HL_ENOMEM;
		}
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n++] = canon;
	return 0;
}

static void canon_free(struct canon_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_expected(const char *path, struct canon_list *out, FILE *report)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(report, "%s: cannot open: %s\n", path, strerror(errno));
		return HL_EIO;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long lineno = 0;
	int rc = 0;
	while (rc == 0 && (got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t len = (size_t)got;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		size_t start = 0;
		while (start < len && (line[start] == ' ' || line[start] == '\t'))
			start++;
		if (start == len || line[start] == '#')
			continue;
		char *why = NULL;
		rc = canon_push(out, line + start, len - start, &why);
		if (rc == HL_EPARSE)
			fprintf(report, "%s:%lu: not a JSON record: %s\n", path, lineno,
			        why != NULL ? why : "?");
		free(why);
	}
	if (rc == 0 && ferror(f))
		rc = HL_EIO;
	free(line);
	fclose(f);
	return rc;
}

int hl_expect_compare(const char *expected_path, const char *const *lines, size_t n_lines,
                      FILE *report)
{
	struct canon_list want = {0}, got = {0};
	int rc = read_expected(expected_path, &want, report);
	for (size_t i = 0; rc == 0 && i < n_lines; i++) {
		char *why = NULL;
		rc = canon_push(&got, lines[i], strlen(lines[i]), &why);
		free(why);
	}
	if (rc != 0)
		goto out;
	if (want.n > 1)
		qsort(want.v, want.n, sizeof *want.v, by_text);
	if (got.n > 1)
		qsort(got.v, got.n, sizeof *got.v, by_text);

	size_t i = 0, j = 0, missing = 0, unexpected = 0;
	while (i < want.n || j < got.n) {
		int cmp = i == want.n ? 1 : j == got.n ? -1 : strcmp(want.v[i], got.v[j]);
		if (cmp == 0) {
			i++;
			j++;
		} else if (cmp < 0) {
			fprintf(report, "- %s\n", want.v[i++]);
			missing++;
		} else {
			fprintf(report, "+ %s\n", got.v[j++]);
			unexpected++;
		}
	}
	if (missing == 0 && unexpected == 0) {
		fprintf(report, "expect: %zu records match %s\n", got.n, expected_path);
		rc = 0;
	} else {
		fprintf(report,
		        "expect: %zu expected record(s) missing (-), %zu unexpected (+), "
		        "%zu matched, against %s\n",
		        missing, unexpected, want.n - missing, expected_path);
		rc = 1;
	}
out:
	canon_free(&want);
	canon_free(&got);
	return rc;
}
