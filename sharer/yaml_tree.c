/* \summary: libyaml events -> a small node tree, with hostile-input limits
 *
 * Why not yaml_parser_load(): its document graph resolves aliases to shared
 * nodes, and walking a graph of nested aliases expands it exponentially (the
 * "billion laughs"); it also has no depth or node limit. Here aliases,
 * anchors and tags are refused outright, so every node has one position in
 * the file and one meaning, and nesting and node count are capped while the
 * events arrive, before any memory is spent on them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "hotline/err.h"
#include "yaml_int.h"

void hl_yaml_report(struct hl_yctx *ctx, unsigned long line, unsigned long col, const char *fmt,
                    ...)
{
	ctx->errors++;
	if (ctx->errors > HL_YAML_MAX_ERRORS)
		return;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ctx->errors == HL_YAML_MAX_ERRORS)
		hl_diag_report(ctx->diag, HL_DIAG_ERROR, ctx->file, line,
		               "column %lu: %s (too many errors; giving up)", col, msg);
	else if (line == 0)
		hl_diag_report(ctx->diag, HL_DIAG_ERROR, ctx->file, 0, "%s", msg);
	else
		hl_diag_report(ctx->diag, HL_DIAG_ERROR, ctx->file, line, "column %lu: %s", col,
		               msg);
}

bool hl_ynode_is_null(const struct hl_ynode *n)
{
	return n->kind == HL_YN_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
	        strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

void hl_ytree_free(struct hl_ynode *node)
{
	if (node == NULL)
		return;
	for (size_t i = 0; i < node->n; i++)
		hl_ytree_free(node->kids[i]);
	free(node->kids);
	free(node->text);
	free(node);
}

static int add_kid(struct hl_ynode *parent, struct hl_ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct hl_ynode **k = realloc(parent->kids, cap * sizeof *k);
		if (k == NULL)
			return HL_ENOMEM;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

struct builder {
	struct hl_yctx *ctx;
	struct hl_ynode *root;
	struct hl_ynode *stack[HL_YAML_MAX_DEPTH + 1];
	size_t depth;
	size_t nodes;
	size_t docs;
};

/* Refuse what would give a node more than one meaning or position. */
static int refuse_extras(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                         const yaml_char_t *tag)
{
	unsigned long line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
	if (anchor != NULL) {
		hl_yaml_report(b->ctx, line, col,
		               "anchors (&%.40s) are not supported: write each value out", anchor);
		return HL_EINVAL;
	}
	if (tag != NULL) {
		hl_yaml_report(b->ctx, line, col, "tags (%.60s) are not supported", tag);
		return HL_EINVAL;
	}
	return 0;
}

static int new_node(struct builder *b, const yaml_event_t *ev, enum hl_ynode_kind kind,
                    struct hl_ynode **out)
{
	unsigned long line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
	if (++b->nodes > HL_YAML_MAX_NODES) {
		hl_yaml_report(b->ctx, line, col, "more than %d values in one file",
		               HL_YAML_MAX_NODES);
		return HL_EINVAL;
	}
	struct hl_ynode *parent = b->depth > 0 ? b->stack[b->depth - 1] : NULL;
	if (parent == NULL && b->root != NULL) {
		hl_yaml_report(b->ctx, line, col, "only one YAML document per file");
		return HL_EINVAL;
	}
	if (parent != NULL && parent->kind == HL_YN_MAP && parent->n % 2 == 0 &&
	    kind != HL_YN_SCALAR) {
		hl_yaml_report(b->ctx, line, col, "a key must be a plain string");
		return HL_EINVAL;
	}
	struct hl_ynode *n = calloc(1, sizeof *n);
	if (n == NULL)
		return HL_ENOMEM;
	n->kind = kind;
	n->line = line;
	n->col = col;
	if (parent == NULL) {
		b->root = n;
	} else if (add_kid(parent, n) != 0) {
		free(n);
		return HL_ENOMEM;
	}
	*out = n;
	return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	int rc = refuse_extras(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
	struct hl_ynode *n;
	if (rc == 0)
		rc = new_node(b, ev, HL_YN_SCALAR, &n);
	if (rc != 0)
		return rc;
	n->len = ev->data.scalar.length;
	n->text = malloc(n->len + 1);
	if (n->text == NULL)
		return HL_ENOMEM;
	memcpy(n->text, ev->data.scalar.value, n->len);
	n->text[n->len] = '\0';
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return 0;
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum hl_ynode_kind kind,
                    const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (b->depth >= HL_YAML_MAX_DEPTH) {
		hl_yaml_report(b->ctx, ev->start_mark.line + 1, ev->start_mark.column + 1,
		               "nested deeper than %d levels", HL_YAML_MAX_DEPTH);
		return HL_EINVAL;
	}
	int rc = refuse_extras(b, ev, anchor, tag);
	struct hl_ynode *n;
	if (rc == 0)
		rc = new_node(b, ev, kind, &n);
	if (rc != 0)
		return rc;
	b->stack[b->depth++] = n;
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev, bool *done)
{
	unsigned long line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1) {
			hl_yaml_report(b->ctx, line, col, "only one YAML document per file");
			return HL_EINVAL;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		hl_yaml_report(b->ctx, line, col,
		               "aliases (*%.40s) are not supported: write each value out",
		               ev->data.alias.anchor);
		return HL_EINVAL;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, HL_YN_MAP, ev->data.mapping_start.anchor,
		                ev->data.mapping_start.tag);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, HL_YN_SEQ, ev->data.sequence_start.anchor,
		                ev->data.sequence_start.tag);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

int hl_ytree_build(struct hl_yctx *ctx, const char *data, size_t len, struct hl_ynode **root)
{
	*root = NULL;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return HL_ENOMEM;
	/* UTF-8 always: no BOM sniffing into UTF-16. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	struct builder b = {.ctx = ctx};
	int rc = 0;
	bool done = false;
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				rc = HL_ENOMEM;
				break;
			}
			const yaml_mark_t *m = &parser.problem_mark;
			if (parser.context != NULL)
				hl_yaml_report(ctx, m->line + 1, m->column + 1,
				               "YAML syntax: %s %s",
				               parser.problem != NULL ? parser.problem : "error",
				               parser.context);
			else
				hl_yaml_report(ctx, m->line + 1, m->column + 1, "YAML syntax: %s",
				               parser.problem != NULL ? parser.problem : "error");
			rc = HL_EINVAL;
			break;
		}
		rc = on_event(&b, &ev, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc != 0) {
		hl_ytree_free(b.root);
		return rc;
	}
	*root = b.root;
	return 0;
}
