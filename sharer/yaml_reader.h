/* \summary: a small schema-driven YAML reader on libyaml
 *
 * A schema is a table of keys, each with a kind (string, path, integer with
 * range, bool, duration, size, enum, list of strings, nested map, map of
 * named entries, custom scalar), flags and the offset of its member in the
 * target struct. Loading builds a small tree from libyaml events (refusing
 * aliases, anchors, tags, several documents, files over 1 MiB and nesting
 * deeper than 32), then walks it against the schema. Every problem is
 * reported through the caller's hl_diag as
 *
 *     FILE:LINE: error: column COL: key 'peers.bravo.endpoint': expected a string
 *
 * and loading goes on, so one run lists every mistake. Unknown keys are
 * errors (with a "did you mean" for a near miss). Spec: docs/configuration.md.
 *
 * Depends on libyaml and hotline_rules only (not on the rest of the sharer),
 * so a program that is not the sharer can link it for its own config.
 */
#ifndef HOTLINE_SHARER_YAML_READER_H
#define HOTLINE_SHARER_YAML_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/diag.h"
#include "hotline/indicator.h"

#define HL_YAML_MAX_FILE (1024 * 1024) /* bytes */
#define HL_YAML_MAX_DEPTH 32           /* nested mappings/sequences */
#define HL_YAML_MAX_NODES 100000       /* scalars + collections in one file */
#define HL_YAML_MAX_ERRORS 50          /* reported before giving up */
#define HL_YAML_STR_MAX 4096           /* default string cap, bytes */
#define HL_YAML_LIST_MAX 256           /* default list/map item cap */

enum hl_ykind {
	HL_YK_STR,       /* char * (owned) */
	HL_YK_PATH,      /* char * (owned), relative to the file's directory */
	HL_YK_INT,       /* int64_t, min..max */
	HL_YK_BOOL,      /* bool: true or false */
	HL_YK_DURATION,  /* int64_t µs: "250ms", "30s", "5m", "1h30m", "2d", "0" */
	HL_YK_SIZE,      /* uint64_t bytes: "512", "64KiB", "64MiB", "1GiB", "10MB" */
	HL_YK_ENUM,      /* int: index into choices */
	HL_YK_STRLIST,   /* struct hl_strv: a list, or one scalar as a one-item list */
	HL_YK_PATHLIST,  /* struct hl_strv of paths */
	HL_YK_MAP,       /* a struct embedded at offset, keys from sub */
	HL_YK_NAMED_MAP, /* name -> struct: an array at offset, a size_t count */
	HL_YK_CUSTOM,    /* a scalar handed to set() */
};

#define HL_YF_REQUIRED 1u /* absent (or null) is an error */
#define HL_YF_EMPTY_OK 2u /* "" is a valid string */

/* A check on one string value: 0, or nonzero with a reason in why. */
typedef int (*hl_ycheck_fn)(const char *value, char *why, size_t whylen);
/* Store a scalar into *field: 0, or nonzero with a reason in why. */
typedef int (*hl_yset_fn)(void *field, const char *value, char *why, size_t whylen);

struct hl_yschema;
struct hl_yctx;
struct hl_ynode;

struct hl_yfield {
	const char *key;
	enum hl_ykind kind;
	unsigned flags;
	size_t offset;
	int64_t min, max; /* INT, DURATION, SIZE range; lists, maps: max items (0: default) */
	size_t max_len;   /* strings and list items: bytes (0: HL_YAML_STR_MAX) */
	const char *const *choices;   /* ENUM, NULL-terminated */
	hl_ycheck_fn check;           /* STR, PATH, lists: per value */
	hl_yset_fn set;               /* CUSTOM */
	const struct hl_yschema *sub; /* MAP, NAMED_MAP */
	size_t count_offset;          /* NAMED_MAP: the size_t count */
};

struct hl_yschema {
	const struct hl_yfield *fields;
	size_t nfields;          /* at most 64 */
	size_t size;             /* NAMED_MAP entries: sizeof the struct */
	size_t name_offset;      /* NAMED_MAP entries: char * name (owned) */
	hl_ycheck_fn name_check; /* NAMED_MAP entries: on the name; may be NULL */
	void (*init)(void *obj); /* defaults (the root and each named entry); may be NULL */
	/* Cross-key checks after the keys were read; report with hl_yaml_error.
	 * node is the mapping. May be NULL. */
	void (*check)(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node);
	void (*release)(void *obj); /* frees what check() allocated; may be NULL */
};

/* Read path (at most HL_YAML_MAX_FILE bytes) into obj: init, then every
 * key. 0; HL_EINVAL when anything was reported (obj is then freed);
 * HL_EIO, HL_ELIMIT (too big), HL_ENOMEM. diag may be NULL. */
int hl_yaml_load_file(const char *path, const struct hl_yschema *schema, void *obj,
                      struct hl_diag *diag);
/* The same from memory; name is used in messages, relative paths are
 * resolved against base_dir (NULL: left as they are). */
int hl_yaml_load_buffer(const char *name, const char *data, size_t len, const char *base_dir,
                        const struct hl_yschema *schema, void *obj, struct hl_diag *diag);
/* Free what loading allocated and zero obj. Safe on a zeroed obj. */
void hl_yaml_free(const struct hl_yschema *schema, void *obj);

/* For check(): report at node (or the mapping, when node is NULL) about key
 * (relative to the mapping being checked; NULL: the mapping itself). */
void hl_yaml_error(struct hl_yctx *ctx, const struct hl_ynode *node, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The value node of key in a mapping node, or NULL. */
const struct hl_ynode *hl_ynode_get(const struct hl_ynode *map, const char *key);

/* Scalar syntax, shared with the tests (yaml_scalar.c). 0 or HL_EINVAL /
 * HL_ERANGE, with a reason in why. */
int hl_yaml_parse_int(const char *s, int64_t *out, char *why, size_t whylen);
int hl_yaml_parse_bool(const char *s, bool *out, char *why, size_t whylen);
int hl_yaml_parse_duration(const char *s, int64_t *us, char *why, size_t whylen);
int hl_yaml_parse_size(const char *s, uint64_t *bytes, char *why, size_t whylen);
/* Format µs back as the shortest exact duration ("90s" -> "1m30s"). */
int hl_yaml_format_duration(int64_t us, char *buf, size_t buflen);

#endif
