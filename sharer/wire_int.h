/* \summary: wire internals shared by wire.c, wire_body.c, wire_build.c */
#ifndef HOTLINE_SHARER_WIRE_INT_H
#define HOTLINE_SHARER_WIRE_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "hotline/wire.h"

/* The key path of the value being checked: "body.records[3].indicator.id".
 * Pushing returns the old length, to pop back to. Too long a path is cut
 * and ends in "..." (the message stays bounded; the error stays right). */
struct hl_wpath {
	char buf[160];
	size_t len;
};

void hl_wpath_init(struct hl_wpath *p, const char *root);
size_t hl_wpath_key(struct hl_wpath *p, const char *key);
size_t hl_wpath_index(struct hl_wpath *p, size_t i);
void hl_wpath_pop(struct hl_wpath *p, size_t len);

/* Set err to code and "PATH: message"; returns HL_EINVAL. err may be NULL. */
int hl_wire_fail(struct hl_wire_error *err, enum hl_wire_err code, const struct hl_wpath *p,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Checks used by the envelope and the bodies. */
bool hl_wire_visible_ascii(const char *s, size_t len); /* 0x21..0x7e */
bool hl_wire_token_valid(const char *s);               /* [A-Za-z0-9._:-]{1,64} */
bool hl_wire_hash_valid(const char *s);                /* 64 lower-case hex */
/* RFC 3339 date-time ("T" required), at most 40 bytes. */
int hl_wire_time_parse(const char *s, int64_t *us);

/* Parse one frame (duplicate keys and \u0000 refused); an error names
 * what ("env", "body") and jansson's line and column. */
int hl_wire_load_frame(const char *what, const void *data, size_t len, json_t **out,
                       struct hl_wire_error *err);
/* A sighting(s) body, with each record's text appended to t in record
 * order (wire_records.c). 0, HL_EINVAL (err says why), HL_ENOMEM. */
int hl_wire_load_records(const char *body, size_t len, json_t **out, struct hl_wire_texts *t,
                         struct hl_wire_error *err);

/* Nesting depth of v (a scalar is 1), stopping once past limit. */
size_t hl_wire_depth(const json_t *v, size_t limit);

#endif
