/* \summary: the indicator model shared by rules, sensor and sharer
 *
 * An indicator is one observable worth reporting (an address, a name, a URL,
 * payload bytes). Values are kept in a canonical form, produced once by
 * hl_indicator_normalise(), so that equality, dedup and hashing are plain
 * string comparisons. Semantics of each type: docs/formats.md.
 */
#ifndef HOTLINE_INDICATOR_H
#define HOTLINE_INDICATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hl_ind_type {
	HL_IND_IP,      /* IPv4/IPv6 address or CIDR; canonical "1.2.3.4", "10.0.0.0/8" */
	HL_IND_DOMAIN,  /* name and all subdomains; lower case, no trailing dot */
	HL_IND_URL,     /* "host/path[?query]", no scheme; host lower case */
	HL_IND_URI,     /* request target "/path[?query]" */
	HL_IND_CONTENT, /* payload bytes, Snort-style text with |hex| escapes */
	HL_IND_REGEX,   /* payload regular expression (Hyperscan subset) */
	HL_IND_TYPE_COUNT
};

enum hl_tlp {
	HL_TLP_CLEAR,
	HL_TLP_GREEN,
	HL_TLP_AMBER,
	HL_TLP_AMBER_STRICT,
	HL_TLP_RED,
	HL_TLP_COUNT
};

enum hl_severity {
	HL_SEV_UNKNOWN,
	HL_SEV_LOW,
	HL_SEV_MEDIUM,
	HL_SEV_HIGH,
	HL_SEV_CRITICAL,
	HL_SEV_COUNT
};

#define HL_CONFIDENCE_UNSET (-1)
#define HL_INDICATOR_VALUE_MAX 4096 /* bytes of canonical value */
#define HL_INDICATOR_ID_MAX 256

/* An owned vector of owned strings. */
struct hl_strv {
	char **v;
	size_t n;
};

/* Times are Unix microseconds; 0 means "no bound". */
struct hl_indicator {
	char *id; /* owned; NULL until given or derived */
	enum hl_ind_type type;
	char *value; /* owned, canonical after normalise */
	enum hl_tlp tlp;
	int confidence; /* 0..100 or HL_CONFIDENCE_UNSET */
	enum hl_severity severity;
	int64_t valid_from;
	int64_t valid_until;
	bool nocase;            /* content/regex: case-insensitive match */
	struct hl_strv sources; /* parties that supplied it, each kept */
	struct hl_strv tags;
	char *description; /* owned, may be NULL */
};

/* Defaults: tlp amber, confidence unset, severity unknown, no bounds. */
void hl_indicator_init(struct hl_indicator *ind);
/* Free owned members and re-init. Accepts an already cleared indicator. */
void hl_indicator_clear(struct hl_indicator *ind);
/* Deep copy; dst must be initialised or cleared. 0 or HL_ENOMEM. */
int hl_indicator_copy(struct hl_indicator *dst, const struct hl_indicator *src);

/* Validate ind->value for ind->type, rewrite it to the canonical form and
 * derive ind->id when it is NULL (hl_indicator_derive_id). On error returns
 * HL_EINVAL and writes a one-line reason (no file/line) into why. */
int hl_indicator_normalise(struct hl_indicator *ind, char *why, size_t whylen);

/* Stable id from type and canonical value: "hl--" + 32 hex digits of
 * SHA-256("TYPE:VALUE"). Writes at most outlen bytes including NUL. */
int hl_indicator_derive_id(enum hl_ind_type type, const char *value, char *out, size_t outlen);

/* Merge src into dst (same type and value): highest confidence, widest
 * validity, highest severity, lowest-sharing (strictest) TLP, union of
 * sources and tags; dst keeps its id and description unless it has none. */
int hl_indicator_merge(struct hl_indicator *dst, const struct hl_indicator *src);

/* True when ind is valid at time ts (microseconds). */
bool hl_indicator_valid_at(const struct hl_indicator *ind, int64_t ts);

int hl_strv_push(struct hl_strv *sv, const char *s); /* copies s; dedups */
bool hl_strv_contains(const struct hl_strv *sv, const char *s);
void hl_strv_clear(struct hl_strv *sv);

const char *hl_ind_type_name(enum hl_ind_type type); /* "ip", "domain", ... */
int hl_ind_type_parse(const char *s, enum hl_ind_type *out);
const char *hl_tlp_name(enum hl_tlp tlp);          /* "clear", ..., "amber+strict" */
int hl_tlp_parse(const char *s, enum hl_tlp *out); /* also "white", "TLP:AMBER" */
const char *hl_severity_name(enum hl_severity sev);
int hl_severity_parse(const char *s, enum hl_severity *out);

/* Normalise a host/DNS name in place: lower case ASCII, drop one trailing
 * dot, drop a ":port" suffix and IPv6 brackets. Returns the new length; a
 * NUL is written at the new end when the name got shorter. (rules/names.c) */
size_t hl_name_normalise(char *name, size_t len);

/* Decode Snort-style content text ("GET |0d 0a|") into bytes. *out is
 * malloc'd. HL_EINVAL with a reason on bad escapes. */
int hl_content_decode(const char *text, uint8_t **out, size_t *outlen, char *why, size_t whylen);

/* Guess the type of a bare value: IP/CIDR, URI ("/..."), URL (has "/"
 * after a host), domain. HL_EINVAL when it is none of them. */
int hl_ind_type_infer(const char *value, enum hl_ind_type *out);

#endif
