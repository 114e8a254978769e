/* \summary: starting lines of selected JSON values (see json_pos.h) */
#include "json_pos.h"

#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/parse.h"

struct path {
	char buf[HL_JSON_POS_MAX_PATH];
	const char *step[HL_JSON_POS_MAX_STEPS];
	size_t len[HL_JSON_POS_MAX_STEPS];
	size_t n;
};

struct scan {
	const char *p, *end;
	unsigned long line;
	const struct path *path;
	unsigned long *lines;
	size_t n, cap;
};

static int path_split(struct path *pa, const char *path)
{
	size_t len = strlen(path);
	pa->n = 0;
	if (len >= sizeof pa->buf)
		return HL_EINVAL;
	memcpy(pa->buf, path, len + 1);
	if (len == 0)
		return 0;
	char *s = pa->buf;
	for (;;) {
		if (pa->n == HL_JSON_POS_MAX_STEPS)
			return HL_EINVAL;
		char *dot = strchr(s, '.');
		if (dot != NULL)
			*dot = '\0';
		pa->step[pa->n] = s;
		pa->len[pa->n] = strlen(s);
		pa->n++;
		if (dot == NULL)
			return 0;
		s = dot + 1;
	}
}

static bool is_any(const struct path *pa, size_t i)
{
	return pa->len[i] == 1 && pa->step[i][0] == '*';
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '\n')
			s->line++;
		else if (c != ' ' && c != '\t' && c != '\r')
			return;
		s->p++;
	}
}

/* At an opening quote: move past the closing one. */
static int skip_string(struct scan *s)
{
	s->p++;
	while (s->p < s->end) {
		char c = *s->p++;
		if (c == '"')
			return 0;
		if (c == '\\') {
			if (s->p == s->end)
				break;
			s->p++;
		} else if (c == '\n') {
			s->line++; /* not JSON, but keep counting honestly */
		}
	}
	return HL_EPARSE;
}

/* Skip one value without looking inside: only strings and brackets matter,
 * so the depth is a counter, not a stack. */
static int skip_value(struct scan *s)
{
	skip_ws(s);
	if (s->p == s->end)
		return HL_EPARSE;
	char c = *s->p;
	if (c == '"')
		return skip_string(s);
	if (c == '{' || c == '[') {
		size_t depth = 0;
		while (s->p < s->end) {
			c = *s->p;
			if (c == '"') {
				if (skip_string(s) != 0)
					return HL_EPARSE;
				continue;
			}
			s->p++;
			if (c == '{' || c == '[') {
				depth++;
			} else if (c == '}' || c == ']') {
				if (--depth == 0)
					return 0;
			} else if (c == '\n') {
				s->line++;
			}
		}
		return HL_EPARSE;
	}
	const char *start = s->p;
	while (s->p < s->end && strchr(",]}: \t\r\n", *s->p) == NULL && *s->p != '\0')
		s->p++;
	return s->p > start ? 0 : HL_EPARSE;
}

static int record(struct scan *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 16 : s->cap * 2;
		unsigned long *grown = realloc(s->lines, cap * sizeof *grown);
		if (grown == NULL)
			return HL_ENOMEM;
		s->lines = grown;
		s->cap = cap;
	}
	s->lines[s->n++] = s->line;
	return 0;
}

/* Expect sep or close after a member/element. 1: close seen, 0: sep seen. */
static int after_item(struct scan *s, char close)
{
	skip_ws(s);
	if (s->p == s->end)
		return HL_EPARSE;
	char c = *s->p++;
	if (c == close)
		return 1;
	return c == ',' ? 0 : HL_EPARSE;
}

/* Recursion is bounded by the number of path steps: a value off the path
 * is skipped flat. */
static int scan_value(struct scan *s, size_t step)
{
	skip_ws(s);
	if (s->p == s->end)
		return HL_EPARSE;
	if (step == s->path->n) {
		int rc = record(s);
		return rc != 0 ? rc : skip_value(s);
	}
	if (is_any(s->path, step)) {
		if (*s->p != '[')
			return skip_value(s);
		s->p++;
		skip_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		for (;;) {
			int rc = scan_value(s, step + 1);
			if (rc == 0)
				rc = after_item(s, ']');
			if (rc != 0)
				return rc < 0 ? rc : 0;
		}
	}
	if (*s->p != '{')
		return skip_value(s);
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	bool matched = false;
	for (;;) {
		skip_ws(s);
		if (s->p == s->end || *s->p != '"')
			return HL_EPARSE;
		const char *key = s->p + 1;
		if (skip_string(s) != 0)
			return HL_EPARSE;
		size_t keylen = (size_t)(s->p - 1 - key);
		skip_ws(s);
		if (s->p == s->end || *s->p != ':')
			return HL_EPARSE;
		s->p++;
		int rc;
		if (keylen == s->path->len[step] && memcmp(key, s->path->step[step], keylen) == 0) {
			if (matched)
				return HL_EFORMAT;
			matched = true;
			rc = scan_value(s, step + 1);
		} else {
			rc = skip_value(s);
		}
		if (rc == 0)
			rc = after_item(s, '}');
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
}

static void pos_reset(struct hl_json_pos *pos)
{
	pos->lines = NULL;
	pos->n = 0;
	pos->valid = false;
}

int hl_json_pos_scan(struct hl_json_pos *pos, const char *data, size_t len, const char *path)
{
	pos_reset(pos);
	struct path pa;
	if (data == NULL || path == NULL || path_split(&pa, path) != 0)
		return HL_EINVAL;
	struct scan s = {.p = data, .end = data + len, .line = 1, .path = &pa};
	int rc = scan_value(&s, 0);
	if (rc != 0) {
		free(s.lines);
		return rc;
	}
	pos->lines = s.lines;
	pos->n = s.n;
	pos->valid = true;
	return 0;
}

static size_t count_at(const json_t *v, const struct path *pa, size_t step)
{
	if (step == pa->n)
		return 1;
	if (is_any(pa, step)) {
		if (!json_is_array(v))
			return 0;
		size_t total = 0;
		for (size_t i = 0; i < json_array_size(v); i++)
			total += count_at(json_array_get(v, i), pa, step + 1);
		return total;
	}
	if (!json_is_object(v))
		return 0;
	const json_t *member = json_object_getn(v, pa->step[step], pa->len[step]);
	return member != NULL ? count_at(member, pa, step + 1) : 0;
}

size_t hl_json_path_count(const json_t *root, const char *path)
{
	struct path pa;
	if (root == NULL || path == NULL || path_split(&pa, path) != 0)
		return 0;
	return count_at(root, &pa, 0);
}

int hl_json_pos_match(struct hl_json_pos *pos, const char *data, size_t len, const json_t *root,
                      const char *path)
{
	int rc = hl_json_pos_scan(pos, data, len, path);
	if (rc == 0 && pos->n != hl_json_path_count(root, path)) {
		hl_json_pos_clear(pos);
		return HL_EFORMAT;
	}
	return rc;
}

unsigned long hl_json_pos_line(const struct hl_json_pos *pos, size_t i)
{
	if (pos == NULL || !pos->valid || i >= pos->n)
		return 0;
	return pos->lines[i];
}

void hl_json_pos_clear(struct hl_json_pos *pos)
{
	if (pos == NULL)
		return;
	free(pos->lines);
	pos_reset(pos);
}

json_t *hl_json_load_document(const char *name, const char **data_p, size_t *len_p,
                              struct hl_diag *diag, int *rc)
{
	const char *data = *data_p;
	size_t len = *len_p;
	if (len > (size_t)HL_PARSE_MAX_INPUT) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "input larger than %ld bytes",
		               HL_PARSE_MAX_INPUT);
		*rc = HL_ELIMIT;
		return NULL;
	}
	if (data == NULL)
		data = "";
	/* a UTF-8 byte order mark, as some exporters write, is not content */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	*data_p = data;
	*len_p = len;
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (root == NULL) {
		hl_diag_report(diag, HL_DIAG_ERROR, name,
		               jerr.line > 0 ? (unsigned long)jerr.line : 0, "not valid JSON: %s",
		               jerr.text);
		*rc = HL_EPARSE;
		return NULL;
	}
	*rc = 0;
	return root;
}
