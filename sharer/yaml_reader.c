/* \summary: walk a YAML node tree against a schema into a C struct
 *
 * One pass over each mapping: every key is looked up in the schema (an
 * unknown key is an error naming it, with a near miss suggested), given
 * twice is an error, converted by its kind and stored at its offset. Then
 * missing required keys are reported and the schema's cross-key check runs.
 * Errors never stop the walk (up to HL_YAML_MAX_ERRORS), so one run shows
 * every mistake in a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotline/err.h"
#include "yaml_int.h"

#define AT(obj, off) ((char *)(obj) + (off))

static void walk_map(struct hl_yctx *ctx, const struct hl_yschema *schema,
                     const struct hl_ynode *map, void *obj);

/* ---- paths and reports ------------------------------------------------- */

static size_t path_push(struct hl_yctx *ctx, const char *key)
{
	size_t old = ctx->path_len;
	size_t room = sizeof ctx->path - ctx->path_len;
	int n = snprintf(ctx->path + ctx->path_len, room, "%s%s", old > 0 ? "." : "", key);
	ctx->path_len =
	        n < 0 || (size_t)n >= room ? sizeof ctx->path - 1 : ctx->path_len + (size_t)n;
	return old;
}

static size_t path_index(struct hl_yctx *ctx, size_t i)
{
	size_t old = ctx->path_len;
	size_t room = sizeof ctx->path - ctx->path_len;
	int n = snprintf(ctx->path + ctx->path_len, room, "[%zu]", i);
	ctx->path_len =
	        n < 0 || (size_t)n >= room ? sizeof ctx->path - 1 : ctx->path_len + (size_t)n;
	return old;
}

static void path_pop(struct hl_yctx *ctx, size_t old)
{
	ctx->path_len = old;
	ctx->path[old] = '\0';
}

static void vreport(struct hl_yctx *ctx, const struct hl_ynode *node, const char *key,
                    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void vreport(struct hl_yctx *ctx, const struct hl_ynode *node, const char *key,
                    const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t old = key != NULL ? path_push(ctx, key) : ctx->path_len;
	unsigned long line = node != NULL ? node->line : 0, col = node != NULL ? node->col : 0;
	if (ctx->path_len > 0)
		hl_yaml_report(ctx, line, col, "key '%s': %s", ctx->path, msg);
	else
		hl_yaml_report(ctx, line, col, "%s", msg);
	path_pop(ctx, old);
}

void hl_yaml_error(struct hl_yctx *ctx, const struct hl_ynode *node, const char *key,
                   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ctx, node, key, fmt, ap);
	va_end(ap);
}

static void report(struct hl_yctx *ctx, const struct hl_ynode *node, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void report(struct hl_yctx *ctx, const struct hl_ynode *node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ctx, node, NULL, fmt, ap);
	va_end(ap);
}

const struct hl_ynode *hl_ynode_get(const struct hl_ynode *map, const char *key)
{
	if (map == NULL || map->kind != HL_YN_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (strcmp(map->kids[i]->text, key) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

static const char *node_kind(const struct hl_ynode *n)
{
	switch (n->kind) {
	case HL_YN_MAP:
		return "a mapping";
	case HL_YN_SEQ:
		return "a list";
	case HL_YN_SCALAR:
		return n->plain ? "a plain scalar" : "a quoted string";
	}
	return "?";
}

/* ---- scalars ------------------------------------------------------------- */

static const char *scalar(struct hl_yctx *ctx, const struct hl_ynode *n, const char *want)
{
	if (n->kind != HL_YN_SCALAR) {
		report(ctx, n, "expected %s, got %s", want, node_kind(n));
		return NULL;
	}
	if (strlen(n->text) != n->len) {
		report(ctx, n, "contains a NUL character");
		return NULL;
	}
	return n->text;
}

/* Strings: length cap, emptiness, the field's check. Returns the text. */
static const char *string_value(struct hl_yctx *ctx, const struct hl_yfield *f,
                                const struct hl_ynode *n)
{
	const char *s = scalar(ctx, n, "a string");
	if (s == NULL)
		return NULL;
	size_t max = f->max_len ? f->max_len : HL_YAML_STR_MAX;
	if (n->len > max) {
		report(ctx, n, "too long (%zu bytes, at most %zu)", n->len, max);
		return NULL;
	}
	if (n->len == 0 && !(f->flags & HL_YF_EMPTY_OK)) {
		report(ctx, n, "empty string");
		return NULL;
	}
	char why[256] = "";
	if (f->check != NULL && f->check(s, why, sizeof why) != 0) {
		report(ctx, n, "%s", why[0] ? why : "invalid value");
		return NULL;
	}
	return s;
}

/* A relative path is taken from the directory of the config file, so a
 * config and the files it names can move together. */
static char *path_value(struct hl_yctx *ctx, const char *s)
{
	/* "-" is stdout for outputs, never a file name. */
	if (s[0] == '/' || strcmp(s, "-") == 0 || ctx->base_dir == NULL || ctx->base_dir[0] == '\0')
		return strdup(s);
	size_t len = strlen(ctx->base_dir) + 1 + strlen(s) + 1;
	char *p = malloc(len);
	if (p != NULL)
		snprintf(p, len, "%s/%s", ctx->base_dir, s);
	return p;
}

static void set_string(struct hl_yctx *ctx, char **dst, char *value)
{
	if (value == NULL) {
		ctx->nomem = true;
		return;
	}
	free(*dst);
	*dst = value;
}

static void read_list(struct hl_yctx *ctx, const struct hl_yfield *f, const struct hl_ynode *n,
                      struct hl_strv *sv)
{
	hl_strv_clear(sv);
	size_t max = f->max > 0 ? (size_t)f->max : HL_YAML_LIST_MAX;
	const struct hl_ynode *const *items = (const struct hl_ynode *const *)&n;
	size_t count = 1;
	if (n->kind == HL_YN_SEQ) {
		items = (const struct hl_ynode *const *)n->kids;
		count = n->n;
	}
	if (count > max) {
		report(ctx, n, "too many items (%zu, at most %zu)", count, max);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		size_t old = n->kind == HL_YN_SEQ ? path_index(ctx, i) : ctx->path_len;
		const char *s = string_value(ctx, f, items[i]);
		if (s != NULL) {
			char *v = f->kind == HL_YK_PATHLIST ? path_value(ctx, s) : strdup(s);
			if (v == NULL) {
				ctx->nomem = true;
			} else if (hl_strv_contains(sv, v)) {
				report(ctx, items[i], "\"%.80s\" is listed twice", s);
			} else if (hl_strv_push(sv, v) != 0) {
				ctx->nomem = true;
			}
			free(v);
		}
		path_pop(ctx, old);
	}
}

static void read_named_map(struct hl_yctx *ctx, const struct hl_yfield *f, const struct hl_ynode *n,
                           void *obj)
{
	const struct hl_yschema *sub = f->sub;
	void **arr = (void **)AT(obj, f->offset);
	size_t *count = (size_t *)AT(obj, f->count_offset);
	if (n->kind != HL_YN_MAP) {
		report(ctx, n, "expected a mapping of names, got %s", node_kind(n));
		return;
	}
	size_t max = f->max > 0 ? (size_t)f->max : HL_YAML_LIST_MAX;
	if (n->n / 2 > max) {
		report(ctx, n, "too many entries (%zu, at most %zu)", n->n / 2, max);
		return;
	}
	char *elems = calloc(n->n / 2 + 1, sub->size);
	if (elems == NULL) {
		ctx->nomem = true;
		return;
	}
	size_t used = 0;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct hl_ynode *key = n->kids[i], *val = n->kids[i + 1];
		size_t old = path_push(ctx, key->text);
		char why[256] = "";
		bool dup = false;
		for (size_t j = 0; j < used && !dup; j++)
			dup = strcmp(*(char **)(elems + j * sub->size + sub->name_offset),
			             key->text) == 0;
		if (key->len == 0 || strlen(key->text) != key->len) {
			report(ctx, key, "not a valid name");
		} else if (dup) {
			report(ctx, key, "given twice");
		} else if (sub->name_check != NULL && sub->name_check(key->text, why, sizeof why)) {
			report(ctx, key, "%s", why[0] ? why : "not a valid name");
		} else if (val->kind != HL_YN_MAP && !hl_ynode_is_null(val)) {
			report(ctx, val, "expected a mapping, got %s", node_kind(val));
		} else {
			void *e = elems + used * sub->size;
			if (sub->init != NULL)
				sub->init(e);
			char *name = strdup(key->text);
			if (name == NULL) {
				ctx->nomem = true;
			} else {
				*(char **)AT(e, sub->name_offset) = name;
				used++;
				walk_map(ctx, sub, val->kind == HL_YN_MAP ? val : NULL, e);
			}
		}
		path_pop(ctx, old);
	}
	*arr = elems;
	*count = used;
}

static void read_value(struct hl_yctx *ctx, const struct hl_yfield *f, const struct hl_ynode *n,
                       void *obj)
{
	void *dst = AT(obj, f->offset);
	char why[256] = "";
	const char *s;
	switch (f->kind) {
	case HL_YK_STR:
	case HL_YK_PATH:
		if ((s = string_value(ctx, f, n)) != NULL)
			set_string(ctx, (char **)dst,
			           f->kind == HL_YK_PATH ? path_value(ctx, s) : strdup(s));
		return;
	case HL_YK_INT: {
		int64_t v;
		if ((s = scalar(ctx, n, "an integer")) == NULL)
			return;
		if (!n->plain)
			report(ctx, n, "expected an integer, got a quoted string");
		else if (hl_yaml_parse_int(s, &v, why, sizeof why) != 0)
			report(ctx, n, "%s", why);
		else if (v < f->min || v > f->max)
			report(ctx, n, "%lld is out of range (%lld..%lld)", (long long)v,
			       (long long)f->min, (long long)f->max);
		else
			*(int64_t *)dst = v;
		return;
	}
	case HL_YK_BOOL:
		if ((s = scalar(ctx, n, "true or false")) == NULL)
			return;
		if (!n->plain)
			report(ctx, n, "expected true or false, got a quoted string");
		else if (hl_yaml_parse_bool(s, (bool *)dst, why, sizeof why) != 0)
			report(ctx, n, "%s", why);
		return;
	case HL_YK_DURATION: {
		int64_t v;
		char lo[32], hi[32];
		if ((s = scalar(ctx, n, "a duration")) == NULL)
			return;
		if (hl_yaml_parse_duration(s, &v, why, sizeof why) != 0) {
			report(ctx, n, "%s", why);
		} else if (v < f->min || v > f->max) {
			hl_yaml_format_duration(f->min, lo, sizeof lo);
			hl_yaml_format_duration(f->max, hi, sizeof hi);
			report(ctx, n, "%s is out of range (%s..%s)", s, lo, hi);
		} else {
			*(int64_t *)dst = v;
		}
		return;
	}
	case HL_YK_SIZE: {
		uint64_t v;
		if ((s = scalar(ctx, n, "a size")) == NULL)
			return;
		if (hl_yaml_parse_size(s, &v, why, sizeof why) != 0)
			report(ctx, n, "%s", why);
		else if (v < (uint64_t)f->min || v > (uint64_t)f->max)
			report(ctx, n, "%s is out of range (%lld..%lld bytes)", s,
			       (long long)f->min, (long long)f->max);
		else
			*(uint64_t *)dst = v;
		return;
	}
	case HL_YK_ENUM: {
		if ((s = scalar(ctx, n, "a name")) == NULL)
			return;
		for (int i = 0; f->choices[i] != NULL; i++) {
			if (strcmp(s, f->choices[i]) == 0) {
				*(int *)dst = i;
				return;
			}
		}
		char list[256];
		size_t len = 0;
		for (int i = 0; f->choices[i] != NULL && len < sizeof list; i++) {
			int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
			                 f->choices[i]);
			len += w > 0 ? (size_t)w : 0;
		}
		report(ctx, n, "\"%.60s\" is not one of: %s", s, list);
		return;
	}
	case HL_YK_STRLIST:
	case HL_YK_PATHLIST:
		if (n->kind == HL_YN_MAP)
			report(ctx, n, "expected a list of strings, got a mapping");
		else
			read_list(ctx, f, n, (struct hl_strv *)dst);
		return;
	case HL_YK_MAP:
		if (n->kind != HL_YN_MAP)
			report(ctx, n, "expected a mapping, got %s", node_kind(n));
		else
			walk_map(ctx, f->sub, n, dst);
		return;
	case HL_YK_NAMED_MAP:
		read_named_map(ctx, f, n, obj);
		return;
	case HL_YK_CUSTOM:
		if ((s = string_value(ctx, f, n)) != NULL && f->set(dst, s, why, sizeof why) != 0)
			report(ctx, n, "%s", why[0] ? why : "invalid value");
		return;
	}
}

/* ---- mappings -------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t row[41];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_key(struct hl_yctx *ctx, const struct hl_yschema *schema,
                        const struct hl_ynode *key)
{
	const char *near = NULL;
	size_t best = 3;
	for (size_t i = 0; i < schema->nfields; i++) {
		size_t d = edit_distance(key->text, schema->fields[i].key);
		if (d < best) {
			best = d;
			near = schema->fields[i].key;
		}
	}
	if (near != NULL)
		report(ctx, key, "unknown key (did you mean '%s'?)", near);
	else
		report(ctx, key, "unknown key");
}

static void walk_map(struct hl_yctx *ctx, const struct hl_yschema *schema,
                     const struct hl_ynode *map, void *obj)
{
	uint64_t seen = 0;
	unsigned errors_before = ctx->errors;
	for (size_t i = 0; map != NULL && i + 1 < map->n; i += 2) {
		const struct hl_ynode *key = map->kids[i], *val = map->kids[i + 1];
		size_t old = path_push(ctx, key->text);
		size_t f = 0;
		while (f < schema->nfields && strcmp(schema->fields[f].key, key->text) != 0)
			f++;
		if (f == schema->nfields) {
			unknown_key(ctx, schema, key);
		} else if (seen & (1ULL << f)) {
			report(ctx, key, "given twice");
		} else {
			seen |= 1ULL << f;
			if (hl_ynode_is_null(val))
				seen &= ~(1ULL << f); /* null: as if not given */
			else
				read_value(ctx, &schema->fields[f], val, obj);
		}
		path_pop(ctx, old);
	}
	for (size_t f = 0; f < schema->nfields; f++) {
		if ((schema->fields[f].flags & HL_YF_REQUIRED) && !(seen & (1ULL << f)))
			hl_yaml_error(ctx, map, schema->fields[f].key, "missing");
	}
	/* Cross-key checks only on keys that are each valid: a bad key
	 * should give one error, not a cascade. */
	if (schema->check != NULL && ctx->errors == errors_before)
		schema->check(obj, ctx, map);
}

/* ---- entry points ---------------------------------------------------- */

int hl_yaml_load_buffer(const char *name, const char *data, size_t len, const char *base_dir,
                        const struct hl_yschema *schema, void *obj, struct hl_diag *diag)
{
	struct hl_yctx ctx = {.file = name, .base_dir = base_dir, .diag = diag};
	if (schema->init != NULL)
		schema->init(obj);
	if (len > HL_YAML_MAX_FILE) {
		hl_yaml_report(&ctx, 0, 0, "larger than %d bytes", HL_YAML_MAX_FILE);
		hl_yaml_free(schema, obj);
		return HL_ELIMIT;
	}
	struct hl_ynode *root = NULL;
	int rc = hl_ytree_build(&ctx, data, len, &root);
	if (rc == 0) {
		if (root != NULL && root->kind != HL_YN_MAP && !hl_ynode_is_null(root))
			report(&ctx, root, "expected a mapping of keys at the top, got %s",
			       node_kind(root));
		else
			walk_map(&ctx, schema,
			         root != NULL && root->kind == HL_YN_MAP ? root : NULL, obj);
	}
	hl_ytree_free(root);
	if (rc == 0 && ctx.nomem)
		rc = HL_ENOMEM;
	if (rc == 0 && ctx.errors > 0)
		rc = HL_EINVAL;
	if (rc != 0)
		hl_yaml_free(schema, obj);
	return rc;
}

int hl_yaml_load_file(const char *path, const struct hl_yschema *schema, void *obj,
                      struct hl_diag *diag)
{
	struct hl_yctx ctx = {.file = path, .diag = diag};
	if (schema->init != NULL)
		schema->init(obj);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hl_yaml_report(&ctx, 0, 0, "cannot open: %s", strerror(errno));
		hl_yaml_free(schema, obj);
		return HL_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		hl_yaml_report(&ctx, 0, 0, "not a regular file");
		close(fd);
		hl_yaml_free(schema, obj);
		return HL_EIO;
	}
	/* Read one byte past the cap, so a file that grew since fstat is
	 * still caught. */
	char *buf = malloc(HL_YAML_MAX_FILE + 1);
	if (buf == NULL) {
		close(fd);
		hl_yaml_free(schema, obj);
		return HL_ENOMEM;
	}
	size_t len = 0;
	int rc = 0;
	while (len <= HL_YAML_MAX_FILE) {
		ssize_t n = read(fd, buf + len, HL_YAML_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hl_yaml_report(&ctx, 0, 0, "read error: %s", strerror(errno));
			rc = HL_EIO;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc != 0) {
		free(buf);
		hl_yaml_free(schema, obj);
		return rc;
	}
	char *dir = strdup(path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	rc = hl_yaml_load_buffer(path, buf, len, slash != NULL ? dir : NULL, schema, obj, diag);
	free(dir);
	free(buf);
	return rc;
}

void hl_yaml_free(const struct hl_yschema *schema, void *obj)
{
	if (obj == NULL)
		return;
	if (schema->release != NULL)
		schema->release(obj);
	for (size_t i = 0; i < schema->nfields; i++) {
		const struct hl_yfield *f = &schema->fields[i];
		void *p = AT(obj, f->offset);
		switch (f->kind) {
		case HL_YK_STR:
		case HL_YK_PATH:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case HL_YK_STRLIST:
		case HL_YK_PATHLIST:
			hl_strv_clear((struct hl_strv *)p);
			break;
		case HL_YK_MAP:
			hl_yaml_free(f->sub, p);
			break;
		case HL_YK_NAMED_MAP: {
			char *arr = *(char **)p;
			size_t *count = (size_t *)AT(obj, f->count_offset);
			for (size_t j = 0; arr != NULL && j < *count; j++) {
				char *e = arr + j * f->sub->size;
				free(*(char **)(e + f->sub->name_offset));
				hl_yaml_free(f->sub, e);
			}
			free(arr);
			*(char **)p = NULL;
			*count = 0;
			break;
		}
		default:
			break;
		}
	}
}
