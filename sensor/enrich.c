/* \summary: GeoIP/ASN lookups through libmaxminddb, with a per-worker cache
 *
 * Values come from files the operator downloaded: a missing key, a value of
 * the wrong type or an implausible one (a 3-letter country, latitude 200)
 * leaves that field absent rather than guessing. A failing database query
 * is counted and returned, never fatal.
 */
#include "enrich.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <maxminddb.h>

#include "hotline/err.h"

struct hl_enrich {
	bool has_geo, has_asn;
	MMDB_s geo;
	MMDB_s asn;
};

/* What a cache filled by one hl_enrich_t must match to stay valid. The
 * pointer alone could be reused by a later open; the build epochs and node
 * counts tell databases apart too. */
struct enrich_stamp {
	const hl_enrich_t *e;
	uint64_t epoch[2];
	uint32_t nodes[2];
};

struct cache_slot {
	bool used;
	uint8_t family;
	uint8_t addr[16];
	struct hl_sighting_geo geo;
	struct hl_sighting_asn asn;
};

struct hl_enrich_cache {
	size_t mask;
	struct enrich_stamp stamp;
	struct hl_enrich_stats st;
	struct cache_slot *slots;
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* --- opening ------------------------------------------------------------ */

static int open_db(MMDB_s *db, const char *opt, const char *path, char *err, size_t errlen)
{
	int st = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (st == MMDB_SUCCESS)
		return 0;
	int saved = errno;
	if (err != NULL && errlen > 0) {
		if (st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR)
			snprintf(err, errlen, "%s %s: %s (%s)", opt, path, MMDB_strerror(st),
			         strerror(saved));
		else
			snprintf(err, errlen, "%s %s: %s", opt, path, MMDB_strerror(st));
	}
	/* MMDB_open frees what it allocated when it fails. */
	return st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR ? HL_EIO : HL_EFORMAT;
}

hl_enrich_t *hl_enrich_open(const char *geoip_path, const char *asn_path, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (geoip_path == NULL && asn_path == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "enrichment: neither --geoip nor --asn given");
		return NULL;
	}
	hl_enrich_t *e = calloc(1, sizeof *e);
	if (e == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "enrichment: %s", hl_strerror(HL_ENOMEM));
		return NULL;
	}
	if (geoip_path != NULL) {
		if (open_db(&e->geo, "--geoip", geoip_path, err, errlen) != 0)
			goto fail;
		e->has_geo = true;
	}
	if (asn_path != NULL) {
		if (open_db(&e->asn, "--asn", asn_path, err, errlen) != 0)
			goto fail;
		e->has_asn = true;
	}
	return e;
fail:
	hl_enrich_close(&e);
	return NULL;
}

void hl_enrich_close(hl_enrich_t **e_p)
{
	if (e_p == NULL || *e_p == NULL)
		return;
	hl_enrich_t *e = *e_p;
	if (e->has_geo)
		MMDB_close(&e->geo);
	if (e->has_asn)
		MMDB_close(&e->asn);
	free(e);
	*e_p = NULL;
}

bool hl_enrich_has_geo(const hl_enrich_t *e)
{
	return e != NULL && e->has_geo;
}

bool hl_enrich_has_asn(const hl_enrich_t *e)
{
	return e != NULL && e->has_asn;
}

static int describe_db(const MMDB_s *db, const char *opt, char *buf, size_t buflen)
{
	char date[16] = "?";
	time_t t = (time_t)db->metadata.build_epoch;
	struct tm tm;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
	const char *type = db->metadata.database_type;
	int w = snprintf(buf, buflen, "%s %s (%s, built %s, IPv%u)", opt, db->filename,
	                 type != NULL ? type : "?", date, (unsigned)db->metadata.ip_version);
	return (w < 0 || (size_t)w >= buflen) ? HL_ERANGE : w;
}

int hl_enrich_describe(const hl_enrich_t *e, char *buf, size_t buflen)
{
	if (e == NULL || buf == NULL || buflen == 0)
		return HL_EINVAL;
	buf[0] = '\0';
	size_t used = 0;
	if (e->has_geo) {
		int w = describe_db(&e->geo, "--geoip", buf, buflen);
		if (w < 0)
			return w;
		used = (size_t)w;
	}
	if (e->has_asn) {
		if (used > 0) {
			if (used + 2 >= buflen)
				return HL_ERANGE;
			buf[used++] = ',';
			buf[used++] = ' ';
			buf[used] = '\0';
		}
		int w = describe_db(&e->asn, "--asn", buf + used, buflen - used);
		if (w < 0)
			return w;
	}
	return 0;
}

/* --- reading values ----------------------------------------------------- */

/* A query status that means "this entry lacks the value" rather than "the
 * database is broken": a path through a non-map is odd data, not damage. */
static int value_status(int st, const MMDB_entry_data_s *d, bool *have)
{
	*have = false;
	if (st == MMDB_SUCCESS) {
		*have = d->has_data;
		return 0;
	}
	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	    st == MMDB_INVALID_LOOKUP_PATH_ERROR)
		return 0;
	return HL_EFORMAT;
}

/* Copy a database string, cut to fit without splitting a UTF-8 sequence
 * (at most 3 continuation bytes are stepped back over). */
static void copy_utf8(char *dst, size_t dstsize, const char *src, size_t len)
{
	size_t n = len;
	if (n >= dstsize) {
		n = dstsize - 1;
		for (int back = 0; back < 3 && n > 0 && ((uint8_t)src[n] & 0xc0) == 0x80; back++)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	/* An embedded NUL would end the C string early; that is all it does. */
}

static int get_string(MMDB_entry_s *entry, char *dst, size_t dstsize, const char *const *path)
{
	MMDB_entry_data_s d;
	bool have;
	int rc = value_status(MMDB_aget_value(entry, &d, path), &d, &have);
	if (rc == 0 && have && d.type == MMDB_DATA_TYPE_UTF8_STRING)
		copy_utf8(dst, dstsize, d.utf8_string, d.data_size);
	return rc;
}

static int get_double(MMDB_entry_s *entry, const char *const *path, double *out, bool *ok)
{
	MMDB_entry_data_s d;
	bool have;
	*ok = false;
	int rc = value_status(MMDB_aget_value(entry, &d, path), &d, &have);
	if (rc != 0 || !have)
		return rc;
	if (d.type == MMDB_DATA_TYPE_DOUBLE) {
		*out = d.double_value;
		*ok = true;
	} else if (d.type == MMDB_DATA_TYPE_FLOAT) {
		*out = d.float_value;
		*ok = true;
	}
	return 0;
}

static bool is_iso_country(const char *s)
{
	return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}

static int read_geo(MMDB_entry_s *entry, struct hl_sighting_geo *geo)
{
	static const char *const iso_path[] = {"country", "iso_code", NULL};
	static const char *const city_path[] = {"city", "names", "en", NULL};
	static const char *const lat_path[] = {"location", "latitude", NULL};
	static const char *const lon_path[] = {"location", "longitude", NULL};
	int rc = 0, r;
	char iso[8] = "";

	if ((r = get_string(entry, iso, sizeof iso, iso_path)) != 0)
		rc = r;
	if (is_iso_country(iso))
		memcpy(geo->country, iso, 3);
	if ((r = get_string(entry, geo->city, sizeof geo->city, city_path)) != 0)
		rc = r;

	double lat = 0, lon = 0;
	bool lat_ok, lon_ok;
	if ((r = get_double(entry, lat_path, &lat, &lat_ok)) != 0)
		rc = r;
	if ((r = get_double(entry, lon_path, &lon, &lon_ok)) != 0)
		rc = r;
	/* Range checks that NaN and infinities fail too. */
	if (lat_ok && lon_ok && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0) {
		geo->has_location = true;
		geo->lat = lat;
		geo->lon = lon;
	}
	geo->present = geo->country[0] != '\0' || geo->city[0] != '\0' || geo->has_location;
	return rc;
}

static int read_asn(MMDB_entry_s *entry, struct hl_sighting_asn *asn)
{
	static const char *const num_path[] = {"autonomous_system_number", NULL};
	static const char *const org_path[] = {"autonomous_system_organization", NULL};
	MMDB_entry_data_s d;
	bool have;
	int rc = value_status(MMDB_aget_value(entry, &d, num_path), &d, &have);
	if (rc != 0 || !have)
		return rc;
	uint64_t number;
	if (d.type == MMDB_DATA_TYPE_UINT32)
		number = d.uint32;
	else if (d.type == MMDB_DATA_TYPE_UINT16)
		number = d.uint16;
	else if (d.type == MMDB_DATA_TYPE_UINT64)
		number = d.uint64;
	else
		return 0;
	if (number > UINT32_MAX)
		return 0;
	asn->number = (uint32_t)number;
	asn->present = true;
	return get_string(entry, asn->org, sizeof asn->org, org_path);
}

/* Query one database. 0 with *found, or HL_EFORMAT. */
static int query(const MMDB_s *db_c, int family, const uint8_t *addr, MMDB_entry_s *entry,
                 bool *found)
{
	/* libmaxminddb takes a non-const MMDB_s but only reads it in a lookup. */
	MMDB_s *db = (MMDB_s *)db_c;
	*found = false;
	/* An IPv4-only database cannot hold an IPv6 address: not found. */
	if (family == 6 && db->metadata.ip_version == 4)
		return 0;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	if (family == 4) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, addr, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, addr, 16);
		sa = (const struct sockaddr *)&sin6;
	}
	int st = MMDB_SUCCESS;
	/* For AF_INET in an IPv6 database libmaxminddb starts at ::/96, where
	 * the IPv4 data lives (and where the writer's aliases point). */
	MMDB_lookup_result_s res = MMDB_lookup_sockaddr(db, sa, &st);
	if (st != MMDB_SUCCESS)
		return HL_EFORMAT;
	*found = res.found_entry;
	*entry = res.entry;
	return 0;
}

/* --- the cache ---------------------------------------------------------- */

hl_enrich_cache_t *hl_enrich_cache_new(size_t slots)
{
	if (slots == 0)
		slots = HL_ENRICH_CACHE_DEFAULT;
	if (slots > HL_ENRICH_CACHE_MAX)
		slots = HL_ENRICH_CACHE_MAX;
	size_t n = 1;
	while (n < slots)
		n <<= 1;
	hl_enrich_cache_t *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->slots = calloc(n, sizeof c->slots[0]);
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	return c;
}

void hl_enrich_cache_destroy(hl_enrich_cache_t **cache_p)
{
	if (cache_p == NULL || *cache_p == NULL)
		return;
	free((*cache_p)->slots);
	free(*cache_p);
	*cache_p = NULL;
}

void hl_enrich_cache_clear(hl_enrich_cache_t *cache)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i <= cache->mask; i++)
		cache->slots[i].used = false;
	memset(&cache->stamp, 0, sizeof cache->stamp);
}

size_t hl_enrich_cache_slots(const hl_enrich_cache_t *cache)
{
	return cache == NULL ? 0 : cache->mask + 1;
}

void hl_enrich_cache_stats(const hl_enrich_cache_t *cache, struct hl_enrich_stats *st)
{
	if (cache == NULL)
		memset(st, 0, sizeof *st);
	else
		*st = cache->st;
}

static struct enrich_stamp stamp_of(const hl_enrich_t *e)
{
	struct enrich_stamp s;
	memset(&s, 0, sizeof s);
	s.e = e;
	if (e->has_geo) {
		s.epoch[0] = e->geo.metadata.build_epoch;
		s.nodes[0] = e->geo.metadata.node_count;
	}
	if (e->has_asn) {
		s.epoch[1] = e->asn.metadata.build_epoch;
		s.nodes[1] = e->asn.metadata.node_count;
	}
	return s;
}

static bool same_stamp(const struct enrich_stamp *a, const struct enrich_stamp *b)
{
	return a->e == b->e && a->epoch[0] == b->epoch[0] && a->epoch[1] == b->epoch[1] &&
	       a->nodes[0] == b->nodes[0] && a->nodes[1] == b->nodes[1];
}

/* FNV-1a over the key: cheap, and the addresses seen are not chosen to
 * collide in a table this small to any effect worse than a miss. */
static size_t slot_of(const hl_enrich_cache_t *c, int family, const uint8_t *addr16)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = (h ^ (uint8_t)family) * 0x100000001b3ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ addr16[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32)) & c->mask;
}

/* --- lookups ------------------------------------------------------------ */

int hl_enrich_lookup(const hl_enrich_t *e, hl_enrich_cache_t *cache, int family,
                     const uint8_t *addr, struct hl_sighting_geo *geo, struct hl_sighting_asn *asn)
{
	struct hl_sighting_geo g;
	struct hl_sighting_asn a;
	memset(&g, 0, sizeof g);
	memset(&a, 0, sizeof a);
	if (geo != NULL)
		*geo = g;
	if (asn != NULL)
		*asn = a;
	if (e == NULL || addr == NULL || (family != 4 && family != 6))
		return HL_EINVAL;

	/* The key is the address as looked up: a mapped IPv6 address becomes
	 * its IPv4 address, so both spellings share one result. */
	uint8_t key[16] = {0};
	if (family == 6 && memcmp(addr, v4_mapped, sizeof v4_mapped) == 0) {
		family = 4;
		memcpy(key, addr + 12, 4);
	} else {
		memcpy(key, addr, family == 4 ? 4 : 16);
	}

	struct cache_slot *slot = NULL;
	if (cache != NULL) {
		cache->st.lookups++;
		struct enrich_stamp now = stamp_of(e);
		if (!same_stamp(&cache->stamp, &now)) {
			hl_enrich_cache_clear(cache);
			cache->stamp = now;
		}
		slot = &cache->slots[slot_of(cache, family, key)];
		if (slot->used && slot->family == family && memcmp(slot->addr, key, 16) == 0) {
			cache->st.cache_hits++;
			if (geo != NULL)
				*geo = slot->geo;
			if (asn != NULL)
				*asn = slot->asn;
			return 0;
		}
	}

	/* Both databases are read even when the caller wants one result, so
	 * that a cached slot is complete for any later caller. */
	int rc = 0;
	unsigned long not_found = 0, errors = 0;
	const MMDB_s *dbs[2] = {e->has_geo ? &e->geo : NULL, e->has_asn ? &e->asn : NULL};
	for (int i = 0; i < 2; i++) {
		if (dbs[i] == NULL)
			continue;
		MMDB_entry_s entry;
		bool found;
		int r = query(dbs[i], family, key, &entry, &found);
		if (r == 0 && found)
			r = i == 0 ? read_geo(&entry, &g) : read_asn(&entry, &a);
		else if (r == 0)
			not_found++;
		if (r != 0) {
			errors++;
			rc = r;
		}
	}
	if (cache != NULL) {
		cache->st.not_found += not_found;
		cache->st.errors += errors;
		if (rc == 0) {
			slot->used = true;
			slot->family = (uint8_t)family;
			memcpy(slot->addr, key, 16);
			slot->geo = g;
			slot->asn = a;
		}
	}
	if (geo != NULL)
		*geo = g;
	if (asn != NULL)
		*asn = a;
	return rc;
}

const uint8_t *hl_enrich_remote(const struct hl_sighting_flow *f, const hl_home_net_t *home)
{
	bool src_home = hl_home_net_contains(home, f->family, f->src);
	bool dst_home = hl_home_net_contains(home, f->family, f->dst);
	if (src_home != dst_home)
		return src_home ? f->dst : f->src;
	return f->dst;
}

int hl_enrich_sighting(const hl_enrich_t *e, hl_enrich_cache_t *cache, const hl_home_net_t *home,
                       struct hl_sighting *s)
{
	if (s == NULL)
		return HL_EINVAL;
	return hl_enrich_lookup(e, cache, s->flow.family, hl_enrich_remote(&s->flow, home), &s->geo,
	                        &s->asn);
}
