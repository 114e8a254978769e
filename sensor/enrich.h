/* \summary: GeoIP and ASN enrichment of a sighting's remote endpoint
 *
 * One hl_enrich_t holds up to two MaxMind DB files, opened once and
 * memory-mapped: a City or Country database (--geoip) and an ASN database
 * (--asn). It is read-only after hl_enrich_open(), so every worker thread
 * shares it without a lock (libmaxminddb(3), THREAD SAFETY: lookups on an
 * opened MMDB_s are thread-safe given a thread-safe malloc).
 *
 * Each worker owns an hl_enrich_cache_t: a direct-mapped table keyed by
 * address, holding finished results, and the worker's counters. Not shared.
 *
 * Which endpoint is enriched (hl_enrich_remote): the one outside
 * --home-net; when both or neither are inside (or no --home-net is set),
 * the responder (the flow's dst), since a sighting is usually about the
 * server a local client reached. docs/operations.md, "GeoIP and ASN enrichment".
 */
#ifndef HOTLINE_SENSOR_ENRICH_H
#define HOTLINE_SENSOR_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "home_net.h"
#include "sighting.h"

typedef struct hl_enrich hl_enrich_t;
typedef struct hl_enrich_cache hl_enrich_cache_t;

#define HL_ENRICH_CACHE_DEFAULT 4096 /* slots, ~1.1 MB per worker */
#define HL_ENRICH_CACHE_MAX (1u << 20)

/* Per worker (per cache); sum them across workers for a report. */
struct hl_enrich_stats {
	uint64_t lookups;    /* hl_enrich_lookup() calls */
	uint64_t cache_hits; /* of those, answered from the cache */
	uint64_t not_found;  /* database queries (one per open database per cache
	                        miss) that found no entry for the address */
	uint64_t errors;     /* database queries or value decodes that failed */
};

/* Open either database or both (a NULL path: that kind is not looked up;
 * both NULL is an error). A missing, unreadable or corrupt file is an error
 * naming the option, the file and libmaxminddb's reason; NULL then, with
 * err set. */
hl_enrich_t *hl_enrich_open(const char *geoip_path, const char *asn_path, char *err, size_t errlen);
void hl_enrich_close(hl_enrich_t **e_p);
bool hl_enrich_has_geo(const hl_enrich_t *e);
bool hl_enrich_has_asn(const hl_enrich_t *e);
/* One line for the startup log: each database's type, build date, IP
 * version. 0 or HL_ERANGE when buf is too small (then truncated). */
int hl_enrich_describe(const hl_enrich_t *e, char *buf, size_t buflen);

/* slots is rounded up to a power of two; 0 means HL_ENRICH_CACHE_DEFAULT;
 * more than HL_ENRICH_CACHE_MAX is capped. NULL when out of memory. */
hl_enrich_cache_t *hl_enrich_cache_new(size_t slots);
void hl_enrich_cache_destroy(hl_enrich_cache_t **cache_p);
/* Forget every result (counters kept). Done by itself when the cache meets a
 * different hl_enrich_t than the one that filled it. */
void hl_enrich_cache_clear(hl_enrich_cache_t *cache);
size_t hl_enrich_cache_slots(const hl_enrich_cache_t *cache);
void hl_enrich_cache_stats(const hl_enrich_cache_t *cache, struct hl_enrich_stats *st);

/* Look addr up (family 4 or 6; 4 or 16 bytes, network order). An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as the IPv4
 * address. geo and asn (either may be NULL) are always written: present
 * only when the database has an entry with something usable for the
 * address; each string field "" and has_location false when unknown.
 * cache may be NULL (no caching, nothing counted).
 * 0 when the lookup ran (found or not); HL_EINVAL for a bad family or
 * NULL e/addr; HL_EFORMAT when a database failed (counted; whatever the
 * other database gave is still filled in, and the result is not cached). */
int hl_enrich_lookup(const hl_enrich_t *e, hl_enrich_cache_t *cache, int family,
                     const uint8_t *addr, struct hl_sighting_geo *geo, struct hl_sighting_asn *asn);

/* The remote endpoint of a flow: f->src or f->dst (a pointer into f).
 * home may be NULL (no --home-net: always the responder, dst). */
const uint8_t *hl_enrich_remote(const struct hl_sighting_flow *f, const hl_home_net_t *home);

/* hl_enrich_lookup() of s->flow's remote endpoint into s->geo and s->asn. */
int hl_enrich_sighting(const hl_enrich_t *e, hl_enrich_cache_t *cache, const hl_home_net_t *home,
                       struct hl_sighting *s);

#endif
