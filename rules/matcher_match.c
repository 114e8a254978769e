/* \summary: matching observations against a compiled matcher (the hot path)
 *
 * Nothing here allocates except hl_scratch_* and hl_stream_open. Each
 * candidate found by a table or by Hyperscan passes two filters before the
 * caller hears of it: the indicator is valid at the packet's time, and the
 * observation is not allowlisted. The allowlist is consulted once per
 * observation and only after a first candidate, so the common no-match case
 * costs one table probe per label and nothing more.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "matcher_int.h"

/* One observation being reported. */
struct report {
	const hl_matcher_t *m;
	enum hl_field field;
	int64_t ts;
	hl_match_fn fn;
	void *ctx;
	int allowed; /* -1 unknown, 0 reportable, 1 allowlisted */
	bool no_query_only;
	bool stop;
	int count;
	/* what the allowlist is asked about */
	const char *obs;
	size_t len;
	size_t pre_query; /* url/uri: bytes before '?', or len */
	int family;
	const uint8_t *addr;
};

static bool allowlisted(const struct report *r)
{
	const hl_allowlist_t *al = r->m->allow;
	switch (r->field) {
	case HL_FIELD_DNS_QUERY:
	case HL_FIELD_HTTP_HOST:
	case HL_FIELD_TLS_SNI:
		return hl_allowlist_has_name(al, r->obs, r->len);
	case HL_FIELD_HTTP_URL:
	case HL_FIELD_HTTP_URI:
		/* Allowlisting a URL covers it with any query string, as
		 * hl_allowlist_covers assumes for url/uri indicators. */
		return hl_allowlist_has_string(al, r->obs, r->len) ||
		       (r->pre_query < r->len && hl_allowlist_has_string(al, r->obs, r->pre_query));
	case HL_FIELD_SRC_IP:
	case HL_FIELD_DST_IP:
		return hl_allowlist_has_addr(al, r->family, r->addr);
	default:
		return false; /* payload bytes are never allowlisted */
	}
}

/* Report indicator idx if it passes the filters; nonzero stops the walk. */
static int report_one(struct report *r, uint32_t idx, uint64_t offset)
{
	if (r->stop)
		return 1;
	if (idx >= r->m->n)
		return 0; /* cannot happen with a sound database; never index past */
	if (r->no_query_only && strchr(hl_m_value(r->m, idx), '?') != NULL)
		return 0;
	if (!hl_m_valid_at(hl_m_meta(r->m, idx), r->ts))
		return 0;
	if (r->allowed < 0)
		r->allowed = r->m->allow_count > 0 && allowlisted(r) ? 1 : 0;
	if (r->allowed) {
		r->stop = true;
		return 1;
	}
	struct hl_match match = {.indicator = idx, .field = r->field, .offset = offset};
	r->count++;
	if (r->fn != NULL && r->fn(r->ctx, &match) != 0) {
		r->stop = true;
		return 1;
	}
	return 0;
}

static int on_prefix(void *ctx, uint32_t value, unsigned plen)
{
	(void)plen;
	return report_one(ctx, value, 0);
}

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
	(void)from;
	(void)flags;
	return report_one(ctx, id, to);
}

static void lookup_exact(struct report *r, const hl_vtable_t *t, const char *key, size_t len)
{
	int64_t idx = hl_vtable_get(t, key, len);
	if (idx >= 0 && !r->stop)
		report_one(r, (uint32_t)idx, 0);
}

/* The name and each parent at a label boundary ("a.b.c", "b.c", "c"):
 * a domain indicator matches itself and its subdomains, never a mere
 * substring. An empty remainder (trailing dot) is not a name. */
static void suffix_walk(struct report *r, const hl_vtable_t *t, const char *name, size_t len)
{
	lookup_exact(r, t, name, len);
	for (size_t i = 0; i + 1 < len && !r->stop; i++)
		if (name[i] == '.')
			lookup_exact(r, t, name + i + 1, len - i - 1);
}

static void match_string(struct report *r, const hl_vtable_t *t)
{
	lookup_exact(r, t, r->obs, r->len);
	if (r->pre_query < r->len && !r->stop) {
		/* An indicator without '?' ignores the query string. */
		r->no_query_only = true;
		lookup_exact(r, t, r->obs, r->pre_query);
	}
}

static int hs_status(hs_error_t rc)
{
	switch (rc) {
	case HS_SUCCESS:
	case HS_SCAN_TERMINATED:
		return 0;
	case HS_NOMEM:
		return HL_ENOMEM;
	case HS_SCRATCH_IN_USE:
		return HL_ESTATE;
	default:
		return HL_EINVAL; /* scratch not made for this matcher, bad db */
	}
}

static void report_init(struct report *r, const hl_matcher_t *m, enum hl_field field, int64_t ts,
                        hl_match_fn fn, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->m = m;
	r->field = field;
	r->ts = ts;
	r->fn = fn;
	r->ctx = ctx;
	r->allowed = -1;
}

int hl_match_addr(const hl_matcher_t *m, enum hl_field field, int family, const uint8_t *addr,
                  int64_t ts, hl_match_fn fn, void *ctx)
{
	if (m == NULL || addr == NULL || (family != 4 && family != 6) ||
	    (field != HL_FIELD_SRC_IP && field != HL_FIELD_DST_IP))
		return HL_EINVAL;
	struct report r;
	report_init(&r, m, field, ts, fn, ctx);
	r.family = family;
	r.addr = addr;
	hl_prefix_set_lookup(m->ips, family, addr, on_prefix, &r);
	return r.count;
}

int hl_match_field(const hl_matcher_t *m, hl_scratch_t *s, enum hl_field field, const void *data,
                   size_t len, int64_t ts, hl_match_fn fn, void *ctx)
{
	if (m == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	struct report r;
	report_init(&r, m, field, ts, fn, ctx);
	r.obs = data;
	r.len = len;
	r.pre_query = len;
	switch (field) {
	case HL_FIELD_DNS_QUERY:
	case HL_FIELD_HTTP_HOST:
	case HL_FIELD_TLS_SNI:
		if (len > 0)
			suffix_walk(&r, m->domains, data, len);
		return r.count;
	case HL_FIELD_HTTP_URL:
	case HL_FIELD_HTTP_URI: {
		const char *q = len > 0 ? memchr(data, '?', len) : NULL;
		if (q != NULL)
			r.pre_query = (size_t)(q - (const char *)data);
		match_string(&r, field == HL_FIELD_HTTP_URL ? m->urls : m->uris);
		return r.count;
	}
	case HL_FIELD_SRC_IP:
	case HL_FIELD_DST_IP:
		if (len != 4 && len != 16)
			return HL_EINVAL;
		return hl_match_addr(m, field, len == 4 ? 4 : 6, data, ts, fn, ctx);
	case HL_FIELD_TCP_PAYLOAD:
	case HL_FIELD_UDP_PAYLOAD: {
		if (m->block_db == NULL || len == 0)
			return 0;
		if (s == NULL || s->hs == NULL || len > UINT32_MAX)
			return HL_EINVAL;
		hs_error_t rc =
		        hs_scan(m->block_db, data, (unsigned)len, 0, s->hs, on_hs_match, &r);
		int err = hs_status(rc);
		return err != 0 ? err : r.count;
	}
	default:
		return HL_EINVAL;
	}
}

/* ---- scratch ---- */

static int grow(hl_scratch_t *s, const hl_matcher_t *m)
{
	/* hs_alloc_scratch on an existing scratch enlarges it to suit both
	 * databases as well as whatever it served before. */
	if (m->block_db != NULL && hs_alloc_scratch(m->block_db, &s->hs) != HS_SUCCESS)
		return HL_ENOMEM;
	if (m->stream_db != NULL && hs_alloc_scratch(m->stream_db, &s->hs) != HS_SUCCESS)
		return HL_ENOMEM;
	return 0;
}

hl_scratch_t *hl_scratch_new(const hl_matcher_t *m)
{
	hl_scratch_t *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	if (m != NULL && grow(s, m) != 0)
		hl_scratch_destroy(&s);
	return s;
}

int hl_scratch_grow(hl_scratch_t *s, const hl_matcher_t *m)
{
	if (s == NULL || m == NULL)
		return HL_EINVAL;
	return grow(s, m);
}

void hl_scratch_destroy(hl_scratch_t **s_p)
{
	if (s_p == NULL || *s_p == NULL)
		return;
	hs_free_scratch((*s_p)->hs);
	free(*s_p);
	*s_p = NULL;
}

/* ---- streams ---- */

struct hl_stream {
	const hl_matcher_t *m;
	hs_stream_t *hs; /* NULL: the matcher has no payload patterns */
	enum hl_field field;
	bool stopped;
};

hl_stream_t *hl_stream_open(const hl_matcher_t *m, enum hl_field field)
{
	if (m == NULL)
		return NULL;
	hl_stream_t *st = calloc(1, sizeof *st);
	if (st == NULL)
		return NULL;
	st->m = m;
	st->field = field;
	if (m->stream_db != NULL && hs_open_stream(m->stream_db, 0, &st->hs) != HS_SUCCESS) {
		free(st);
		return NULL;
	}
	return st;
}

int hl_stream_scan(hl_stream_t *st, hl_scratch_t *s, const void *data, size_t len, int64_t ts,
                   hl_match_fn fn, void *ctx)
{
	if (st == NULL || (data == NULL && len > 0))
		return HL_EINVAL;
	if (st->hs == NULL || st->stopped || len == 0)
		return 0;
	if (s == NULL || s->hs == NULL || len > UINT32_MAX)
		return HL_EINVAL;
	struct report r;
	report_init(&r, st->m, st->field, ts, fn, ctx);
	hs_error_t rc = hs_scan_stream(st->hs, data, (unsigned)len, 0, s->hs, on_hs_match, &r);
	if (rc == HS_SCAN_TERMINATED || r.stop)
		st->stopped = true;
	int err = hs_status(rc);
	return err != 0 ? err : r.count;
}

int hl_stream_close(hl_stream_t **st_p, hl_scratch_t *s, int64_t ts, hl_match_fn fn, void *ctx)
{
	if (st_p == NULL || *st_p == NULL)
		return 0;
	hl_stream_t *st = *st_p;
	int result = 0;
	if (st->hs != NULL) {
		struct report r;
		report_init(&r, st->m, st->field, ts, fn, ctx);
		/* No scratch: Hyperscan frees the stream without reporting. */
		bool report = fn != NULL && !st->stopped && s != NULL && s->hs != NULL;
		hs_error_t rc = hs_close_stream(st->hs, report ? s->hs : NULL,
		                                report ? on_hs_match : NULL, &r);
		int err = hs_status(rc);
		result = err != 0 ? err : r.count;
	}
	free(st);
	*st_p = NULL;
	return result;
}
