/* \summary: the compiled, immutable indicator matcher
 *
 * Built from an hl_iset_t (hl_matcher_compile) or loaded from a serialised
 * .hlx file (hl_matcher_load). Read-only after construction: any number of
 * threads may match concurrently, each with its own hl_scratch_t.
 *
 * How each kind is matched (docs/design-decisions.md says why):
 *  - ip: IPv4/IPv6 prefix trie; every covering prefix is reported, longest
 *    first; O(prefix length).
 *  - domain: hash table of names; an observed name is looked up whole and
 *    at each label boundary ("a.b.c" -> "a.b.c", "b.c", "c"), so subdomains
 *    match and substrings never do.
 *  - url, uri: hash table, exact; an observation's query string is dropped
 *    for indicators without '?'.
 *  - content, regex: Hyperscan, one block-mode database (datagrams) and one
 *    streaming database (TCP directions, see hl_stream_*).
 * Every reported indicator is valid at the observation's timestamp and the
 * observation is not allowlisted.
 */
#ifndef HOTLINE_MATCHER_H
#define HOTLINE_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/allowlist.h"
#include "hotline/diag.h"
#include "hotline/indicator.h"
#include "hotline/iset.h"

typedef struct hl_matcher hl_matcher_t;
typedef struct hl_scratch hl_scratch_t;

/* Where an observation came from; names are the "match.field" strings of
 * sightings. */
enum hl_field {
	HL_FIELD_DNS_QUERY,   /* "dns.query"   vs domain */
	HL_FIELD_HTTP_HOST,   /* "http.host"   vs domain */
	HL_FIELD_TLS_SNI,     /* "tls.sni"     vs domain */
	HL_FIELD_HTTP_URL,    /* "http.url"    vs url    */
	HL_FIELD_HTTP_URI,    /* "http.uri"    vs uri    */
	HL_FIELD_SRC_IP,      /* "src_ip"      vs ip     */
	HL_FIELD_DST_IP,      /* "dst_ip"      vs ip     */
	HL_FIELD_TCP_PAYLOAD, /* "tcp.payload" vs content, regex */
	HL_FIELD_UDP_PAYLOAD, /* "udp.payload" vs content, regex */
	HL_FIELD_COUNT
};

const char *hl_field_name(enum hl_field field);
int hl_field_parse(const char *s, enum hl_field *out);

struct hl_compile_opts {
	int64_t now; /* µs; indicators expired before now are left out; 0 = keep */
	const hl_allowlist_t *allowlist; /* copied into the matcher; may be NULL */
};

struct hl_compile_stats {
	size_t total;                      /* indicators in the input set */
	size_t compiled;                   /* indicators in the matcher */
	size_t by_type[HL_IND_TYPE_COUNT]; /* compiled, by type */
	size_t expired;                    /* left out: valid_until < now */
	size_t allowlisted;                /* compiled but swallowed whole */
	size_t rejected;                   /* left out: pattern would not compile */
};

int hl_matcher_compile(const hl_iset_t *set, const struct hl_compile_opts *opts, hl_matcher_t **out,
                       struct hl_compile_stats *stats, struct hl_diag *diag);
void hl_matcher_destroy(hl_matcher_t **m_p);

/* Serialised form (.hlx, docs/formats.md (.hlx)): header, indicators,
 * allowlist, Hyperscan databases. Loading validates every length and
 * checksum; a corrupt or foreign file is HL_EFORMAT with a reason through
 * diag. Save writes PATH.tmp and renames it over PATH. */
int hl_matcher_save(const hl_matcher_t *m, const char *path);
int hl_matcher_load(const char *path, hl_matcher_t **out, struct hl_diag *diag);
int hl_matcher_load_buffer(const void *data, size_t len, const char *name, hl_matcher_t **out,
                           struct hl_diag *diag);
/* True when the file starts with the .hlx magic. */
bool hl_matcher_is_serialised(const char *path);

size_t hl_matcher_count(const hl_matcher_t *m);
/* Indicator idx (NULL when idx >= count), valid while m lives. The matcher
 * keeps its indicators compact (docs/design-decisions.md) and makes this
 * copy on the first call for idx; paths that look at many indicators or
 * must not grow memory use hl_matcher_view instead. Thread-safe. */
const struct hl_indicator *hl_matcher_indicator(const hl_matcher_t *m, uint32_t idx);

/* Room for an id hl_matcher_view or hl_matcher_id derives ("hl--" + 32 hex
 * digits + NUL). */
#define HL_MATCHER_ID_BUF 40
/* Indicator idx as a view, without allocating: out's pointers point into
 * m (valid while m lives), its id into idbuf when it is of the derived
 * form. Read only: never hl_indicator_clear a view (hl_indicator_copy
 * makes an owned copy). 0, or HL_ENOTFOUND when idx >= count. */
int hl_matcher_view(const hl_matcher_t *m, uint32_t idx, struct hl_indicator *out,
                    char idbuf[HL_MATCHER_ID_BUF]);
/* The id of indicator idx (in m or in idbuf), NULL when it has none or
 * idx >= count. */
const char *hl_matcher_id(const hl_matcher_t *m, uint32_t idx, char idbuf[HL_MATCHER_ID_BUF]);
/* The type of indicator idx; HL_IND_TYPE_COUNT when idx >= count. */
enum hl_ind_type hl_matcher_type(const hl_matcher_t *m, uint32_t idx);
uint64_t hl_matcher_version(const hl_matcher_t *m);
void hl_matcher_set_version(hl_matcher_t *m, uint64_t version);
/* True when the matcher holds content/regex indicators, i.e. payload scans
 * and streams can find something (a sensor may skip them otherwise). */
bool hl_matcher_has_payload(const hl_matcher_t *m);
/* SHA-256 of the canonical form of the compiled indicators (hl_iset_hash). */
void hl_matcher_hash(const hl_matcher_t *m, uint8_t out[HL_SHA256_LEN]);
/* Bytes held by the matcher (indicators, tables, Hyperscan databases). */
size_t hl_matcher_memory(const hl_matcher_t *m);
/* The matcher's own copy (empty when compiled without one); never NULL. */
const hl_allowlist_t *hl_matcher_allowlist(const hl_matcher_t *m);

/* Per-thread scratch; valid for any matcher it was created or grown for. */
hl_scratch_t *hl_scratch_new(const hl_matcher_t *m);
/* Make s usable with m too (after a set swap). 0 or HL_ENOMEM. */
int hl_scratch_grow(hl_scratch_t *s, const hl_matcher_t *m);
void hl_scratch_destroy(hl_scratch_t **s_p);

struct hl_match {
	uint32_t indicator; /* index for hl_matcher_indicator() */
	enum hl_field field;
	uint64_t offset; /* payload: end offset of the match; else 0 */
};

/* Called once per matching indicator; return nonzero to stop early. */
typedef int (*hl_match_fn)(void *ctx, const struct hl_match *match);

/* Match a normalised observation (names already through
 * hl_name_normalise; payload as raw bytes; src_ip/dst_ip as 4 or 16
 * address bytes in network order) at time ts (µs). Returns the
 * number of matches reported (>= 0) or a negative HL_E* code. */
int hl_match_field(const hl_matcher_t *m, hl_scratch_t *s, enum hl_field field, const void *data,
                   size_t len, int64_t ts, hl_match_fn fn, void *ctx);
/* field is HL_FIELD_SRC_IP or HL_FIELD_DST_IP; family 4 or 6. */
int hl_match_addr(const hl_matcher_t *m, enum hl_field field, int family, const uint8_t *addr,
                  int64_t ts, hl_match_fn fn, void *ctx);

/* Streaming payload match for one TCP direction: the pattern may be split
 * over any number of scans and is still found, once per stream, with
 * hl_match.offset its end offset counted from the stream's first byte.
 * hl_stream_open allocates the Hyperscan stream state (call it at flow
 * set-up, not per packet); the matcher must outlive its streams. A matcher
 * without payload indicators gives streams that never match. field is what
 * matches report (HL_FIELD_TCP_PAYLOAD normally). NULL on out of memory. */
typedef struct hl_stream hl_stream_t;
hl_stream_t *hl_stream_open(const hl_matcher_t *m, enum hl_field field);
/* Scan the next bytes at time ts (µs). Returns matches reported (>= 0) or
 * a negative HL_E* code. When fn asks to stop, the stream reports nothing
 * more. */
int hl_stream_scan(hl_stream_t *st, hl_scratch_t *s, const void *data, size_t len, int64_t ts,
                   hl_match_fn fn, void *ctx);
/* End the stream, reporting matches that needed the end of data (a
 * pattern ending in '$'); fn may be NULL to drop them. Frees *st_p and
 * sets it NULL (NULL accepted). Returns matches reported or HL_E*. */
int hl_stream_close(hl_stream_t **st_p, hl_scratch_t *s, int64_t ts, hl_match_fn fn, void *ctx);

#endif
