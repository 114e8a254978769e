/* \summary: building the immutable matcher from an indicator set
 *
 * Compile keeps the indicators that can still match (not expired at
 * opts->now, pattern compiles), copies them in canonical order so that an
 * index means the same indicator in every matcher built from the same set,
 * and indexes them: ip into a prefix trie, domain/url/uri into hash tables,
 * content/regex into Hyperscan (matcher_hs.c). Matching is in
 * matcher_match.c, the .hlx form in matcher_io.c.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"
#include "bigalloc.h"
#include "matcher_int.h"

#define DIAG_FILE "matcher"

int hl_matcher_ind_cmp(const struct hl_indicator *a, const struct hl_indicator *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->value, b->value);
}

static int ind_ptr_cmp(const void *a, const void *b)
{
	return hl_matcher_ind_cmp(*(const struct hl_indicator *const *)a,
	                          *(const struct hl_indicator *const *)b);
}

hl_matcher_t *hl_matcher_alloc(void)
{
	hl_matcher_t *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	atomic_init(&m->cache, NULL);
	m->allow = hl_allowlist_new();
	m->ips = hl_prefix_set_new();
	if (m->allow == NULL || m->ips == NULL)
		hl_matcher_destroy(&m);
	return m;
}

void hl_matcher_hs_free(hl_matcher_t *m)
{
	if (m->block_mem == NULL)
		hs_free_database(m->block_db);
	if (m->stream_mem == NULL)
		hs_free_database(m->stream_db);
	free(m->block_mem);
	free(m->stream_mem);
	m->block_db = m->stream_db = NULL;
	m->block_mem = m->stream_mem = NULL;
}

void hl_matcher_destroy(hl_matcher_t **m_p)
{
	if (m_p == NULL || *m_p == NULL)
		return;
	hl_matcher_t *m = *m_p;
	hl_matcher_store_free(m);
	hl_allowlist_destroy(&m->allow);
	hl_prefix_set_destroy(&m->ips);
	hl_vtable_destroy(&m->domains);
	hl_vtable_destroy(&m->urls);
	hl_vtable_destroy(&m->uris);
	hl_matcher_hs_free(m);
	free(m);
	*m_p = NULL;
}

/* Size the tables once for what is about to go in: growing them a step at
 * a time rehashes and copies, and leaves their memory to be faulted in a
 * page at a time. */
static int make_tables(hl_matcher_t *m)
{
	size_t v6 = 0;
	memset(m->by_type, 0, sizeof m->by_type);
	for (size_t i = 0; i < m->n; i++) {
		unsigned type = hl_m_meta(m, i)->type;
		if (type >= HL_IND_TYPE_COUNT)
			return HL_EINVAL;
		m->by_type[type]++;
		if (type == HL_IND_IP)
			v6 += strchr(hl_m_value(m, i), ':') != NULL;
	}
	int rc = hl_prefix_set_reserve(m->ips, m->by_type[HL_IND_IP] - v6, v6);
	if (rc != 0)
		return rc;
	struct hl_vtable_keys keys = {m->strings, &m->recs[0].value,
	                              sizeof(struct hl_irec) / sizeof(uint32_t)};
	hl_vtable_destroy(&m->domains);
	hl_vtable_destroy(&m->urls);
	hl_vtable_destroy(&m->uris);
	m->domains = hl_vtable_new(m->by_type[HL_IND_DOMAIN], &keys);
	m->urls = hl_vtable_new(m->by_type[HL_IND_URL], &keys);
	m->uris = hl_vtable_new(m->by_type[HL_IND_URI], &keys);
	return m->domains != NULL && m->urls != NULL && m->uris != NULL ? 0 : HL_ENOMEM;
}

int hl_matcher_index(hl_matcher_t *m)
{
	int rc = make_tables(m);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < m->n; i++) {
		const char *value = hl_m_value(m, i);
		hl_vtable_t *t = NULL;
		switch (hl_m_meta(m, i)->type) {
		case HL_IND_IP: {
			struct hl_cidr c;
			if (hl_cidr_parse(value, &c, NULL, 0) != 0)
				return HL_EINVAL;
			rc = hl_prefix_set_add(m->ips, c.family, c.addr, c.plen, (uint32_t)i);
			break;
		}
		case HL_IND_DOMAIN:
			t = m->domains;
			break;
		case HL_IND_URL:
			t = m->urls;
			break;
		case HL_IND_URI:
			t = m->uris;
			break;
		default:
			break;
		}
		if (t != NULL)
			rc = hl_vtable_add(t, (uint32_t)i, strlen(value));
		if (rc != 0)
			return rc;
	}
	return 0;
}

int hl_matcher_copy_allowlist(hl_matcher_t *m, const hl_allowlist_t *al)
{
	hl_allowlist_t *copy = hl_allowlist_new();
	if (copy == NULL)
		return HL_ENOMEM;
	size_t n = al != NULL ? hl_allowlist_count(al) : 0;
	for (size_t i = 0; i < n; i++) {
		enum hl_allow_kind kind;
		const char *value = NULL;
		char why[128];
		int rc = hl_allowlist_entry(al, i, &kind, &value);
		if (rc == 0)
			rc = hl_allowlist_add(copy, kind, value, why, sizeof why);
		if (rc != 0) {
			hl_allowlist_destroy(&copy);
			return rc;
		}
	}
	hl_allowlist_destroy(&m->allow);
	m->allow = copy;
	m->allow_count = hl_allowlist_count(copy);
	return 0;
}

/* The canonical hash of exactly the compiled indicators (kept[0..n)).
 * When nothing was left out that is the set's own hash; otherwise a
 * throwaway set of copies is hashed, so the canonical form stays the
 * model's business. */
static int compute_hash(hl_matcher_t *m, const hl_iset_t *set, const struct hl_indicator **kept,
                        size_t n)
{
	if (n == hl_iset_count(set))
		return hl_iset_hash(set, m->hash);
	hl_iset_t *tmp = hl_iset_new();
	if (tmp == NULL)
		return HL_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct hl_indicator copy;
		hl_indicator_init(&copy);
		rc = hl_indicator_copy(&copy, kept[i]);
		if (rc == 0)
			rc = hl_iset_add(tmp, &copy, NULL);
		hl_indicator_clear(&copy);
	}
	if (rc == 0)
		rc = hl_iset_hash(tmp, m->hash);
	hl_iset_destroy(&tmp);
	return rc;
}

static const char *ind_label(const struct hl_indicator *ind)
{
	return ind->id != NULL ? ind->id : ind->value;
}

/* Which of the set's indicators go in: canonical order, expired ones out. */
static const struct hl_indicator **select_live(const hl_iset_t *set, int64_t now, size_t *n_out,
                                               struct hl_compile_stats *st, struct hl_diag *diag)
{
	size_t total = hl_iset_count(set);
	const struct hl_indicator **live = malloc((total > 0 ? total : 1) * sizeof *live);
	if (live == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < total; i++) {
		const struct hl_indicator *ind = hl_iset_at(set, i);
		if (now != 0 && ind->valid_until != 0 && ind->valid_until < now) {
			st->expired++;
			hl_diag_report(diag, HL_DIAG_SKIP, DIAG_FILE, 0,
			               "indicator %s (%s %s): expired", ind_label(ind),
			               hl_ind_type_name(ind->type), ind->value);
			continue;
		}
		if (ind->type == HL_IND_IP) {
			/* Normalised values always parse; a set built by hand
			 * might not, and must not sink the rest. */
			struct hl_cidr c;
			char why[128] = "";
			if (hl_cidr_parse(ind->value, &c, why, sizeof why) != 0) {
				st->rejected++;
				hl_diag_report(diag, HL_DIAG_ERROR, DIAG_FILE, 0,
				               "indicator %s (ip %s): %s; left out", ind_label(ind),
				               ind->value, why);
				continue;
			}
		}
		live[n++] = ind;
	}
	qsort(live, n, sizeof *live, ind_ptr_cmp);
	*n_out = n;
	return live;
}

/* Drop the payload indicators Hyperscan rejected: live[] is compacted in
 * place to the kept ones, in order; returns how many. */
static size_t keep_compiled(const struct hl_indicator **live, size_t n, const bool *rejected,
                            size_t first_payload)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (i < first_payload || !rejected[i - first_payload])
			live[kept++] = live[i];
	return kept;
}

int hl_matcher_compile(const hl_iset_t *set, const struct hl_compile_opts *opts, hl_matcher_t **out,
                       struct hl_compile_stats *stats, struct hl_diag *diag)
{
	struct hl_compile_stats st;
	memset(&st, 0, sizeof st);
	if (out == NULL || set == NULL)
		return HL_EINVAL;
	*out = NULL;
	st.total = hl_iset_count(set);
	if (st.total > UINT32_MAX - 1)
		return HL_ELIMIT;

	size_t n = 0;
	const struct hl_indicator **live =
	        select_live(set, opts != NULL ? opts->now : 0, &n, &st, diag);
	if (live == NULL)
		return HL_ENOMEM;
	size_t first_payload = n;
	for (size_t i = 0; i < n; i++) {
		if (live[i]->type == HL_IND_CONTENT || live[i]->type == HL_IND_REGEX) {
			first_payload = i;
			break;
		}
	}
	size_t np = n - first_payload;
	bool *rejected = calloc(np > 0 ? np : 1, sizeof *rejected);
	hl_matcher_t *m = hl_matcher_alloc();
	int rc = rejected != NULL && m != NULL ? 0 : HL_ENOMEM;
	/* Content and regex sort last, so the kept patterns' final indexes
	 * are first_payload, first_payload + 1, ... (renumbered). */
	if (rc == 0)
		rc = hl_matcher_hs_build(live + first_payload, np, (uint32_t)first_payload, true,
		                         rejected, &m->block_db, &m->stream_db, diag);
	size_t kept = rc == 0 ? keep_compiled(live, n, rejected, first_payload) : 0;
	if (rc == 0)
		rc = hl_matcher_store_build(m, live, kept);
	if (rc == 0)
		rc = hl_matcher_index(m);
	if (rc == 0)
		rc = hl_matcher_copy_allowlist(m, opts != NULL ? opts->allowlist : NULL);
	if (rc == 0)
		rc = compute_hash(m, set, live, kept);
	for (size_t i = 0; rc == 0 && i < kept && m->allow_count > 0; i++) {
		const struct hl_indicator *ind = live[i];
		if (!hl_allowlist_covers(m->allow, ind))
			continue;
		st.allowlisted++;
		hl_diag_report(diag, HL_DIAG_WARNING, DIAG_FILE, 0,
		               "indicator %s (%s %s) is allowlisted whole and can never match",
		               ind_label(ind), hl_ind_type_name(ind->type), ind->value);
	}
	free(live);
	free(rejected);
	if (rc != 0) {
		hl_matcher_destroy(&m);
		return rc;
	}

	st.rejected += n - m->n;
	st.compiled = m->n;
	memcpy(st.by_type, m->by_type, sizeof st.by_type);
	if (stats != NULL)
		*stats = st;
	*out = m;
	return 0;
}

size_t hl_matcher_count(const hl_matcher_t *m)
{
	return m->n;
}

uint64_t hl_matcher_version(const hl_matcher_t *m)
{
	return m->version;
}

void hl_matcher_set_version(hl_matcher_t *m, uint64_t version)
{
	m->version = version;
}

bool hl_matcher_has_payload(const hl_matcher_t *m)
{
	return m->block_db != NULL;
}

void hl_matcher_hash(const hl_matcher_t *m, uint8_t out[HL_SHA256_LEN])
{
	memcpy(out, m->hash, HL_SHA256_LEN);
}

size_t hl_matcher_memory(const hl_matcher_t *m)
{
	return sizeof *m + m->store_len + m->n_pool * sizeof *m->listv +
	       hl_prefix_set_memory(m->ips) + hl_vtable_memory(m->domains) +
	       hl_vtable_memory(m->urls) + hl_vtable_memory(m->uris) + hl_matcher_hs_memory(m);
}

const hl_allowlist_t *hl_matcher_allowlist(const hl_matcher_t *m)
{
	return m->allow;
}
