/* \summary: allowlists: values never reported even when an indicator covers them
 *
 * Like MISP warninglists. Three kinds of entry: exact string (compared with
 * a normalised name, URL or URI), domain suffix (the name and all its
 * subdomains), CIDR. File format (docs/formats.md): one entry per line,
 * "exact VALUE", "suffix DOMAIN", "cidr CIDR", or a bare value whose kind
 * is inferred (address/CIDR -> cidr, name -> suffix, other -> exact);
 * '#' comments. A MISP warninglist JSON ({"type": "hostname"|"cidr"|
 * "string", "list": [...]}) is accepted too.
 */
#ifndef HOTLINE_ALLOWLIST_H
#define HOTLINE_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/diag.h"
#include "hotline/indicator.h"

typedef struct hl_allowlist hl_allowlist_t;

enum hl_allow_kind {
	HL_ALLOW_EXACT,
	HL_ALLOW_SUFFIX,
	HL_ALLOW_CIDR,
};

hl_allowlist_t *hl_allowlist_new(void);
void hl_allowlist_destroy(hl_allowlist_t **al_p);

/* Add one entry (value is normalised here). HL_EINVAL with reason. */
int hl_allowlist_add(hl_allowlist_t *al, enum hl_allow_kind kind, const char *value, char *why,
                     size_t whylen);
/* Read entries; bad lines reported through diag and skipped. */
int hl_allowlist_parse_buffer(hl_allowlist_t *al, const char *name, const char *data, size_t len,
                              struct hl_diag *diag);
int hl_allowlist_parse_file(hl_allowlist_t *al, const char *path, struct hl_diag *diag);

size_t hl_allowlist_count(const hl_allowlist_t *al);
/* i-th entry, for serialising: kind and canonical value. */
int hl_allowlist_entry(const hl_allowlist_t *al, size_t i, enum hl_allow_kind *kind,
                       const char **value);

/* Lookups on normalised observations. */
bool hl_allowlist_has_name(const hl_allowlist_t *al, const char *name, size_t len);
bool hl_allowlist_has_string(const hl_allowlist_t *al, const char *s, size_t len);
/* family is 4 or 6; addr is 4 or 16 bytes in network order. */
bool hl_allowlist_has_addr(const hl_allowlist_t *al, int family, const uint8_t *addr);

/* True when every value ind can match is allowlisted (the indicator can
 * never produce a sighting): a domain under a suffix entry, an ip/CIDR
 * inside a CIDR entry, an exact url/uri. */
bool hl_allowlist_covers(const hl_allowlist_t *al, const struct hl_indicator *ind);

#endif
