/* \summary: YAML reader internals: the node tree and the walk context */
#ifndef HOTLINE_SHARER_YAML_INT_H
#define HOTLINE_SHARER_YAML_INT_H

#include "yaml_reader.h"

enum hl_ynode_kind { HL_YN_SCALAR, HL_YN_MAP, HL_YN_SEQ };

struct hl_ynode {
	enum hl_ynode_kind kind;
	unsigned long line, col; /* 1-based, of the node's start */
	char *text;              /* scalar, NUL-terminated (len bytes) */
	size_t len;
	bool plain; /* an unquoted scalar (may be null, a number, a bool) */
	/* MAP: kids[2i] is a key (always a scalar), kids[2i+1] its value.
	 * SEQ: the items. */
	struct hl_ynode **kids;
	size_t n, cap;
};

struct hl_yctx {
	const char *file;
	const char *base_dir;
	struct hl_diag *diag;
	char path[256]; /* key path of the mapping being walked */
	size_t path_len;
	unsigned errors;
	bool nomem;
};

/* Parse data into a tree (NULL root for an empty stream). Reports syntax
 * errors, aliases, anchors, tags, several documents, depth and node count
 * through ctx. 0 or HL_EINVAL / HL_ENOMEM. */
int hl_ytree_build(struct hl_yctx *ctx, const char *data, size_t len, struct hl_ynode **root);
void hl_ytree_free(struct hl_ynode *node);

/* A plain "", "~" or "null" scalar: YAML's null, taken as "not given". */
bool hl_ynode_is_null(const struct hl_ynode *n);

/* Report at a raw position (line/col 1-based; line 0: whole file). */
void hl_yaml_report(struct hl_yctx *ctx, unsigned long line, unsigned long col, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

#endif
