/* \summary: unit tests for the matcher: the semantics table of matcher.h */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/matcher.h"

/* ---- helpers ---- */

struct spec {
	enum hl_ind_type type;
	const char *value;
	int64_t from, until;
	bool nocase;
	const char *id; /* NULL: derived; set: bypasses normalise (bad input) */
};

static hl_iset_t *make_set(const struct spec *specs, size_t n)
{
	hl_iset_t *set = hl_iset_new();
	assert_non_null(set);
	for (size_t i = 0; i < n; i++) {
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		ind.type = specs[i].type;
		ind.value = strdup(specs[i].value);
		ind.valid_from = specs[i].from;
		ind.valid_until = specs[i].until;
		ind.nocase = specs[i].nocase;
		char why[256] = "";
		if (specs[i].id != NULL) {
			ind.id = strdup(specs[i].id);
		} else if (hl_indicator_normalise(&ind, why, sizeof why) != 0) {
			fail_msg("normalise %s: %s", specs[i].value, why);
		}
		assert_int_equal(hl_iset_add(set, &ind, NULL), 0);
	}
	return set;
}

struct hits {
	size_t n;
	uint32_t idx[64];
	uint64_t off[64];
	enum hl_field field[64];
	size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, const struct hl_match *m)
{
	struct hits *h = ctx;
	if (h->n < 64) {
		h->idx[h->n] = m->indicator;
		h->off[h->n] = m->offset;
		h->field[h->n] = m->field;
	}
	h->n++;
	return h->stop_after != 0 && h->n >= h->stop_after;
}

/* Index of the indicator with this type and canonical value, or -1. */
static int idx_of(const hl_matcher_t *m, enum hl_ind_type type, const char *value)
{
	for (uint32_t i = 0; i < hl_matcher_count(m); i++) {
		const struct hl_indicator *ind = hl_matcher_indicator(m, i);
		if (ind->type == type && strcmp(ind->value, value) == 0)
			return (int)i;
	}
	return -1;
}

static hl_matcher_t *compile(const struct spec *specs, size_t n, const hl_allowlist_t *al,
                             int64_t now, struct hl_compile_stats *st, struct hl_diag *diag)
{
	hl_iset_t *set = make_set(specs, n);
	struct hl_compile_opts opts = {.now = now, .allowlist = al};
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_matcher_compile(set, &opts, &m, st, diag), 0);
	assert_non_null(m);
	hl_iset_destroy(&set);
	return m;
}

static struct hits match_str(const hl_matcher_t *m, hl_scratch_t *s, enum hl_field f,
                             const char *obs, int64_t ts)
{
	struct hits h = {0};
	int rc = hl_match_field(m, s, f, obs, strlen(obs), ts, collect, &h);
	assert_int_equal(rc, (int)h.n);
	return h;
}

/* Observation o (any name field) reports exactly indicator idx, or nothing
 * when idx < 0. */
static void expect_name(const hl_matcher_t *m, const char *obs, int idx)
{
	static const enum hl_field fields[] = {HL_FIELD_DNS_QUERY, HL_FIELD_HTTP_HOST,
	                                       HL_FIELD_TLS_SNI};
	for (size_t i = 0; i < 3; i++) {
		struct hits h = match_str(m, NULL, fields[i], obs, 1);
		if (idx < 0) {
			if (h.n != 0)
				fail_msg("%s: expected no match, got %zu", obs, h.n);
		} else {
			if (h.n != 1)
				fail_msg("%s: expected one match, got %zu", obs, h.n);
			assert_int_equal(h.idx[0], idx);
			assert_int_equal(h.field[0], fields[i]);
		}
	}
}

static struct hits match_ip(const hl_matcher_t *m, const char *text, int64_t ts)
{
	uint8_t addr[16];
	int family = strchr(text, ':') != NULL ? 6 : 4;
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, text, addr), 1);
	struct hits h = {0};
	int rc = hl_match_addr(m, HL_FIELD_DST_IP, family, addr, ts, collect, &h);
	assert_int_equal(rc, (int)h.n);
	/* The same through hl_match_field. */
	struct hits h2 = {0};
	rc = hl_match_field(m, NULL, HL_FIELD_SRC_IP, addr, family == 4 ? 4 : 16, ts, collect, &h2);
	assert_int_equal(rc, (int)h.n);
	assert_int_equal(h2.n, h.n);
	for (size_t i = 0; i < h.n && i < 64; i++)
		assert_int_equal(h2.idx[i], h.idx[i]);
	return h;
}

/* ---- fields ---- */

static void field_names_round_trip(void **state)
{
	(void)state;
	for (int f = 0; f < HL_FIELD_COUNT; f++) {
		enum hl_field back;
		assert_int_equal(hl_field_parse(hl_field_name((enum hl_field)f), &back), 0);
		assert_int_equal(back, f);
	}
	assert_string_equal(hl_field_name(HL_FIELD_DNS_QUERY), "dns.query");
	assert_string_equal(hl_field_name(HL_FIELD_TCP_PAYLOAD), "tcp.payload");
	assert_string_equal(hl_field_name(HL_FIELD_SRC_IP), "src_ip");
	enum hl_field f;
	assert_int_equal(hl_field_parse("dns.Query", &f), HL_EINVAL);
	assert_int_equal(hl_field_parse("", &f), HL_EINVAL);
	assert_string_equal(hl_field_name(HL_FIELD_COUNT), "?");
}

/* ---- domains ---- */

static void domain_subdomain_yes_substring_no(void **state)
{
	(void)state;
	const struct spec specs[] = {{.type = HL_IND_DOMAIN, .value = "evil.example"}};
	hl_matcher_t *m = compile(specs, 1, NULL, 0, NULL, NULL);
	int e = idx_of(m, HL_IND_DOMAIN, "evil.example");
	assert_int_equal(e, 0);
	expect_name(m, "evil.example", e);
	expect_name(m, "www.evil.example", e);
	expect_name(m, "a.b.c.evil.example", e);
	expect_name(m, "notevil.example", -1);
	expect_name(m, "xevil.example", -1);
	expect_name(m, "evil.example.com", -1);
	expect_name(m, "evil.exampl", -1);
	expect_name(m, "example", -1);
	expect_name(m, "vil.example", -1);
	expect_name(m, "evil-example", -1);
	expect_name(m, "", -1);
	hl_matcher_destroy(&m);
	assert_null(m);
}

static void domain_trailing_dot_free_input(void **state)
{
	(void)state;
	const struct spec specs[] = {{.type = HL_IND_DOMAIN, .value = "Evil.Example."}};
	hl_matcher_t *m = compile(specs, 1, NULL, 0, NULL, NULL);
	assert_int_equal(idx_of(m, HL_IND_DOMAIN, "evil.example"), 0);
	/* The sensor normalises once; the matcher sees the result. */
	char obs[] = "WWW.EVIL.EXAMPLE.";
	size_t len = hl_name_normalise(obs, strlen(obs));
	assert_int_equal(len, strlen("www.evil.example"));
	struct hits h = {0};
	assert_int_equal(hl_match_field(m, NULL, HL_FIELD_DNS_QUERY, obs, len, 1, collect, &h), 1);
	hl_matcher_destroy(&m);
}

static void domain_several_on_one_name(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_DOMAIN, .value = "evil.example"},
	        {.type = HL_IND_DOMAIN, .value = "sub.evil.example"},
	        {.type = HL_IND_DOMAIN, .value = "other.example"},
	};
	hl_matcher_t *m = compile(specs, 3, NULL, 0, NULL, NULL);
	int parent = idx_of(m, HL_IND_DOMAIN, "evil.example");
	int child = idx_of(m, HL_IND_DOMAIN, "sub.evil.example");
	struct hits h = match_str(m, NULL, HL_FIELD_TLS_SNI, "a.sub.evil.example", 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.idx[0], child); /* most specific first */
	assert_int_equal(h.idx[1], parent);
	/* Stopping early is honoured. */
	struct hits stop = {.stop_after = 1};
	assert_int_equal(hl_match_field(m, NULL, HL_FIELD_TLS_SNI, "a.sub.evil.example", 18, 1,
	                                collect, &stop),
	                 1);
	assert_int_equal(stop.n, 1);
	hl_matcher_destroy(&m);
}

/* ---- url and uri ---- */

static void url_query_rule_both_ways(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_URL, .value = "evil.example/path"},
	        {.type = HL_IND_URL, .value = "evil.example/dl?id=7"},
	};
	hl_matcher_t *m = compile(specs, 2, NULL, 0, NULL, NULL);
	int plain = idx_of(m, HL_IND_URL, "evil.example/path");
	int query = idx_of(m, HL_IND_URL, "evil.example/dl?id=7");
	assert_true(plain >= 0 && query >= 0);
	const struct {
		const char *obs;
		int idx;
	} cases[] = {
	        {"evil.example/path", plain},     {"evil.example/path?x=1", plain},
	        {"evil.example/path?", plain},    {"evil.example/path2", -1},
	        {"evil.example/pat", -1},         {"evil.example/path/", -1},
	        {"www.evil.example/path", -1},    {"evil.example/dl?id=7", query},
	        {"evil.example/dl", -1},          {"evil.example/dl?id=77", -1},
	        {"evil.example/dl?id=7&x=1", -1}, {"evil.example/dl?", -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hits h = match_str(m, NULL, HL_FIELD_HTTP_URL, cases[i].obs, 1);
		if (cases[i].idx < 0) {
			if (h.n != 0)
				fail_msg("%s matched", cases[i].obs);
		} else {
			if (h.n != 1)
				fail_msg("%s: %zu matches", cases[i].obs, h.n);
			assert_int_equal(h.idx[0], cases[i].idx);
		}
	}
	/* A url indicator is not looked up for uri observations. */
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "evil.example/path", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "evil.example", 1).n, 0);
	hl_matcher_destroy(&m);
}

static void uri_exact_and_query(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_URI, .value = "/bad.php"},
	        {.type = HL_IND_URI, .value = "/gate.php?cmd=run"},
	};
	hl_matcher_t *m = compile(specs, 2, NULL, 0, NULL, NULL);
	int bad = idx_of(m, HL_IND_URI, "/bad.php");
	int gate = idx_of(m, HL_IND_URI, "/gate.php?cmd=run");
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/bad.php", 1).idx[0], bad);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/bad.php?a=b", 1).idx[0], bad);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/bad.phpx", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/x/bad.php", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/gate.php?cmd=run", 1).idx[0],
	                 gate);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/gate.php", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URI, "/gate.php?cmd=runx", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URL, "/bad.php", 1).n, 0);
	hl_matcher_destroy(&m);
}

/* ---- addresses ---- */

static void cidr_edges(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_IP, .value = "0.0.0.0/0"},
	        {.type = HL_IND_IP, .value = "10.0.0.0/8"},
	        {.type = HL_IND_IP, .value = "192.0.2.1"},
	        {.type = HL_IND_IP, .value = "10.1.2.3"},
	        {.type = HL_IND_IP, .value = "2001:db8::/32"},
	        {.type = HL_IND_IP, .value = "2001:db8::1"},
	        {.type = HL_IND_IP, .value = "198.51.100.0/24"},
	};
	hl_matcher_t *m = compile(specs, 7, NULL, 0, NULL, NULL);
	int all = idx_of(m, HL_IND_IP, "0.0.0.0/0");
	int ten = idx_of(m, HL_IND_IP, "10.0.0.0/8");
	int host = idx_of(m, HL_IND_IP, "192.0.2.1");
	int ten_host = idx_of(m, HL_IND_IP, "10.1.2.3");
	int v6net = idx_of(m, HL_IND_IP, "2001:db8::/32");
	int v6host = idx_of(m, HL_IND_IP, "2001:db8::1");
	int net24 = idx_of(m, HL_IND_IP, "198.51.100.0/24");
	assert_true(all >= 0 && ten >= 0 && host >= 0 && ten_host >= 0 && v6net >= 0 &&
	            v6host >= 0 && net24 >= 0);

	struct hits h = match_ip(m, "10.1.2.3", 1);
	assert_int_equal(h.n, 3); /* longest prefix first */
	assert_int_equal(h.idx[0], ten_host);
	assert_int_equal(h.idx[1], ten);
	assert_int_equal(h.idx[2], all);

	h = match_ip(m, "10.0.0.0", 1);
	assert_int_equal(h.n, 2);
	h = match_ip(m, "10.255.255.255", 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.idx[0], ten);
	h = match_ip(m, "11.0.0.0", 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.idx[0], all);
	h = match_ip(m, "9.255.255.255", 1);
	assert_int_equal(h.n, 1);
	h = match_ip(m, "192.0.2.1", 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.idx[0], host);
	h = match_ip(m, "192.0.2.2", 1);
	assert_int_equal(h.n, 1);
	h = match_ip(m, "198.51.100.255", 1);
	assert_int_equal(h.idx[0], net24);
	h = match_ip(m, "198.51.101.0", 1);
	assert_int_equal(h.n, 1);

	/* v6 never hits a v4 prefix, /0 included. */
	h = match_ip(m, "2001:db8::1", 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.idx[0], v6host);
	assert_int_equal(h.idx[1], v6net);
	h = match_ip(m, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.idx[0], v6net);
	h = match_ip(m, "2001:db8::2", 1);
	assert_int_equal(h.n, 1);
	h = match_ip(m, "2001:db9::", 1);
	assert_int_equal(h.n, 0);
	h = match_ip(m, "2001:db7:ffff::", 1);
	assert_int_equal(h.n, 0);

	uint8_t addr[16] = {0};
	assert_int_equal(hl_match_addr(m, HL_FIELD_DNS_QUERY, 4, addr, 1, collect, &h), HL_EINVAL);
	assert_int_equal(hl_match_addr(m, HL_FIELD_SRC_IP, 5, addr, 1, collect, &h), HL_EINVAL);
	assert_int_equal(hl_match_field(m, NULL, HL_FIELD_SRC_IP, addr, 5, 1, collect, &h),
	                 HL_EINVAL);
	hl_matcher_destroy(&m);
}

/* ---- validity and expiry ---- */

static void validity_windows_use_packet_time(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_DOMAIN, .value = "window.example", .from = 1000, .until = 2000},
	        {.type = HL_IND_DOMAIN, .value = "open.example"},
	        {.type = HL_IND_IP, .value = "203.0.113.0/24", .from = 1000, .until = 2000},
	};
	hl_matcher_t *m = compile(specs, 3, NULL, 0, NULL, NULL);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "window.example", 999).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "window.example", 1000).n, 1);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "a.window.example", 1500).n, 1);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "window.example", 2000).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "window.example", 9999).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "open.example", -5).n, 1);
	assert_int_equal(match_ip(m, "203.0.113.7", 500).n, 0);
	assert_int_equal(match_ip(m, "203.0.113.7", 1500).n, 1);
	assert_int_equal(match_ip(m, "203.0.113.7", 2500).n, 0);
	hl_matcher_destroy(&m);
}

static void expired_left_out_and_hash_covers_compiled_only(void **state)
{
	(void)state;
	const struct spec all[] = {
	        {.type = HL_IND_DOMAIN, .value = "old.example", .from = 100, .until = 200},
	        {.type = HL_IND_DOMAIN, .value = "new.example", .from = 100, .until = 5000},
	        {.type = HL_IND_URI, .value = "/x"},
	};
	const struct spec kept[] = {
	        {.type = HL_IND_DOMAIN, .value = "new.example", .from = 100, .until = 5000},
	        {.type = HL_IND_URI, .value = "/x"},
	};
	struct hl_compile_stats st;
	struct hl_diag diag = {0};
	hl_matcher_t *m = compile(all, 3, NULL, 1000, &st, &diag);
	assert_int_equal(st.total, 3);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.compiled, 2);
	assert_int_equal(st.by_type[HL_IND_DOMAIN], 1);
	assert_int_equal(st.by_type[HL_IND_URI], 1);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(diag.skipped, 1);
	assert_int_equal(hl_matcher_count(m), 2);
	assert_int_equal(idx_of(m, HL_IND_DOMAIN, "old.example"), -1);
	/* canonical order: type, then value */
	assert_int_equal(hl_matcher_indicator(m, 0)->type, HL_IND_DOMAIN);
	assert_int_equal(hl_matcher_indicator(m, 1)->type, HL_IND_URI);
	assert_null(hl_matcher_indicator(m, 2));

	hl_iset_t *kept_set = make_set(kept, 2);
	uint8_t want[HL_SHA256_LEN], got[HL_SHA256_LEN];
	assert_int_equal(hl_iset_hash(kept_set, want), 0);
	hl_matcher_hash(m, got);
	assert_memory_equal(want, got, HL_SHA256_LEN);

	/* now = 0 keeps everything; then the hash is the set's. */
	hl_matcher_t *m2 = compile(all, 3, NULL, 0, &st, NULL);
	assert_int_equal(st.expired, 0);
	assert_int_equal(st.compiled, 3);
	hl_iset_t *all_set = make_set(all, 3);
	assert_int_equal(hl_iset_hash(all_set, want), 0);
	hl_matcher_hash(m2, got);
	assert_memory_equal(want, got, HL_SHA256_LEN);

	assert_int_equal(hl_matcher_version(m2), 0);
	hl_matcher_set_version(m2, 42);
	assert_int_equal(hl_matcher_version(m2), 42);
	assert_true(hl_matcher_memory(m2) > hl_matcher_memory(m) / 2);
	hl_iset_destroy(&kept_set);
	hl_iset_destroy(&all_set);
	hl_matcher_destroy(&m);
	hl_matcher_destroy(&m2);
}

/* ---- allowlist ---- */

static void allowlist_suppresses(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	char why[128];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, "safe.cdn.example", why, sizeof why),
	                 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "10.1.0.0/16", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "evil.example/ok", why, sizeof why),
	                 0);
	const struct spec specs[] = {
	        {.type = HL_IND_DOMAIN, .value = "cdn.example"},
	        {.type = HL_IND_DOMAIN, .value = "x.safe.cdn.example"}, /* swallowed whole */
	        {.type = HL_IND_IP, .value = "10.0.0.0/8"},
	        {.type = HL_IND_URL, .value = "evil.example/ok"}, /* swallowed whole */
	        {.type = HL_IND_URL, .value = "evil.example/bad"},
	};
	struct hl_compile_stats st;
	struct hl_diag diag = {0};
	hl_matcher_t *m = compile(specs, 5, al, 0, &st, &diag);
	hl_allowlist_destroy(&al); /* the matcher keeps its own copy */
	assert_int_equal(st.compiled, 5);
	assert_int_equal(st.allowlisted, 2);
	assert_int_equal(diag.warnings, 2);
	assert_int_equal(hl_allowlist_count(hl_matcher_allowlist(m)), 3);

	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "evil.cdn.example", 1).n, 1);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "safe.cdn.example", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "a.x.safe.cdn.example", 1).n, 0);
	assert_int_equal(match_ip(m, "10.1.2.3", 1).n, 0);
	assert_int_equal(match_ip(m, "10.2.0.1", 1).n, 1);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URL, "evil.example/ok", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URL, "evil.example/ok?q=1", 1).n, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_HTTP_URL, "evil.example/bad?q=1", 1).n, 1);
	hl_matcher_destroy(&m);
}

/* ---- payload ---- */

static void content_hex_and_nocase(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_CONTENT, .value = "ab|00 01 ff|cd"},
	        {.type = HL_IND_CONTENT, .value = "Hello", .nocase = true},
	        {.type = HL_IND_CONTENT, .value = "World"},
	};
	hl_matcher_t *m = compile(specs, 3, NULL, 0, NULL, NULL);
	hl_scratch_t *s = hl_scratch_new(m);
	assert_non_null(s);
	int bin = idx_of(m, HL_IND_CONTENT, "ab|00 01 ff|cd");
	assert_true(bin >= 0);
	const uint8_t pkt[] = {'x', 'a', 'b', 0, 1, 0xff, 'c', 'd', 'y'};
	struct hits h = {0};
	assert_int_equal(
	        hl_match_field(m, s, HL_FIELD_UDP_PAYLOAD, pkt, sizeof pkt, 1, collect, &h), 1);
	assert_int_equal(h.idx[0], bin);
	assert_int_equal(h.off[0], 8);
	assert_int_equal(h.field[0], HL_FIELD_UDP_PAYLOAD);
	const uint8_t near[] = {'a', 'b', 0, 1, 0xfe, 'c', 'd'};
	h = (struct hits){0};
	assert_int_equal(
	        hl_match_field(m, s, HL_FIELD_UDP_PAYLOAD, near, sizeof near, 1, collect, &h), 0);

	h = match_str(m, s, HL_FIELD_TCP_PAYLOAD, "say hELLo world", 1);
	assert_int_equal(h.n, 1); /* nocase Hello yes, case-sensitive World no */
	assert_string_equal(hl_matcher_indicator(m, h.idx[0])->value, "Hello");
	assert_int_equal(h.off[0], 9);
	h = match_str(m, s, HL_FIELD_TCP_PAYLOAD, "World and HELLO, World", 1);
	assert_int_equal(h.n, 2); /* each indicator once per scan */
	/* Payload without a scratch is refused, not crashed on. */
	assert_int_equal(hl_match_field(m, NULL, HL_FIELD_TCP_PAYLOAD, "World", 5, 1, collect, &h),
	                 HL_EINVAL);
	hl_scratch_destroy(&s);
	assert_null(s);
	hl_matcher_destroy(&m);
}

static void regex_and_bad_regex_rejected(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_REGEX, .value = "ab[0-9]+cd"},
	        {.type = HL_IND_REGEX, .value = "(unclosed", .id = "bad-regex-1"},
	        {.type = HL_IND_REGEX, .value = "x.y", .nocase = true},
	        {.type = HL_IND_CONTENT, .value = "plain"},
	        {.type = HL_IND_CONTENT, .value = "|zz|", .id = "bad-content-1"},
	        {.type = HL_IND_DOMAIN, .value = "evil.example"},
	};
	struct hl_compile_stats st;
	struct hl_diag diag = {0};
	char log[4096] = "";
	FILE *f = fmemopen(log, sizeof log, "w");
	diag.emit = hl_diag_emit_stream;
	diag.ctx = f;
	hl_matcher_t *m = compile(specs, 6, NULL, 0, &st, &diag);
	fclose(f);
	assert_int_equal(st.total, 6);
	assert_int_equal(st.rejected, 2);
	assert_int_equal(st.compiled, 4);
	assert_int_equal(st.by_type[HL_IND_REGEX], 2);
	assert_int_equal(st.by_type[HL_IND_CONTENT], 1);
	assert_int_equal(diag.errors, 2);
	assert_non_null(strstr(log, "bad-regex-1"));
	assert_non_null(strstr(log, "bad-content-1"));
	assert_non_null(strstr(log, "Hyperscan"));
	assert_int_equal(idx_of(m, HL_IND_REGEX, "(unclosed"), -1);

	hl_scratch_t *s = hl_scratch_new(m);
	int re = idx_of(m, HL_IND_REGEX, "ab[0-9]+cd");
	int dot = idx_of(m, HL_IND_REGEX, "x.y");
	int plain = idx_of(m, HL_IND_CONTENT, "plain");
	struct hits h = match_str(m, s, HL_FIELD_TCP_PAYLOAD, "--ab123cd--", 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.idx[0], re);
	assert_int_equal(h.off[0], 9);
	assert_int_equal(match_str(m, s, HL_FIELD_TCP_PAYLOAD, "abcd", 1).n, 0);
	/* DOTALL: '.' crosses a newline; nocase applies. */
	h = match_str(m, s, HL_FIELD_TCP_PAYLOAD, "X\nY", 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.idx[0], dot);
	/* Every id Hyperscan reports is the indicator's index. */
	h = match_str(m, s, HL_FIELD_UDP_PAYLOAD, "plain ab1cd", 1);
	assert_int_equal(h.n, 2);
	assert_true((h.idx[0] == (uint32_t)plain && h.idx[1] == (uint32_t)re) ||
	            (h.idx[1] == (uint32_t)plain && h.idx[0] == (uint32_t)re));
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&m);
}

static void stream_split_across_three_scans(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_CONTENT, .value = "malicious-payload"},
	        {.type = HL_IND_REGEX, .value = "end-of-stream$"},
	};
	hl_matcher_t *m = compile(specs, 2, NULL, 0, NULL, NULL);
	hl_scratch_t *s = hl_scratch_new(m);
	int content = idx_of(m, HL_IND_CONTENT, "malicious-payload");
	int tail = idx_of(m, HL_IND_REGEX, "end-of-stream$");
	hl_stream_t *st = hl_stream_open(m, HL_FIELD_TCP_PAYLOAD);
	assert_non_null(st);
	struct hits h = {0};
	assert_int_equal(hl_stream_scan(st, s, "xxmal", 5, 1, collect, &h), 0);
	assert_int_equal(hl_stream_scan(st, s, "icious-pay", 10, 2, collect, &h), 0);
	assert_int_equal(hl_stream_scan(st, s, "loadyy malicious-payload", 24, 3, collect, &h), 1);
	assert_int_equal(h.n, 1); /* found once, not again in the same stream */
	assert_int_equal(h.idx[0], content);
	assert_int_equal(h.off[0], 19);
	assert_int_equal(h.field[0], HL_FIELD_TCP_PAYLOAD);
	assert_int_equal(hl_stream_scan(st, s, " end-of-stream", 14, 4, collect, &h), 0);
	/* '$' is only known at the end of the stream. */
	assert_int_equal(hl_stream_close(&st, s, 5, collect, &h), 1);
	assert_null(st);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.idx[1], tail);
	assert_int_equal(h.off[1], 5 + 10 + 24 + 14);

	/* A block scan of the same bytes finds it too. */
	h = match_str(m, s, HL_FIELD_UDP_PAYLOAD, "xxmalicious-payload", 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.off[0], 19);

	/* Close without a callback just frees. */
	st = hl_stream_open(m, HL_FIELD_TCP_PAYLOAD);
	assert_int_equal(hl_stream_scan(st, s, "end-of-stream", 13, 1, collect, &h), 0);
	assert_int_equal(hl_stream_close(&st, NULL, 1, NULL, NULL), 0);
	assert_int_equal(hl_stream_close(&st, NULL, 1, NULL, NULL), 0);
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&m);
}

static void stream_honours_validity(void **state)
{
	(void)state;
	const struct spec specs[] = {
	        {.type = HL_IND_CONTENT, .value = "secret", .from = 1000, .until = 2000}};
	hl_matcher_t *m = compile(specs, 1, NULL, 0, NULL, NULL);
	hl_scratch_t *s = hl_scratch_new(m);
	hl_stream_t *st = hl_stream_open(m, HL_FIELD_TCP_PAYLOAD);
	struct hits h = {0};
	assert_int_equal(hl_stream_scan(st, s, "sec", 3, 1500, collect, &h), 0);
	assert_int_equal(hl_stream_scan(st, s, "ret", 3, 1600, collect, &h), 1);
	hl_stream_close(&st, s, 1700, NULL, NULL);
	h = (struct hits){0};
	assert_int_equal(hl_match_field(m, s, HL_FIELD_UDP_PAYLOAD, "secret", 6, 2500, collect, &h),
	                 0);
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&m);
}

static void scratch_grows_for_a_second_matcher(void **state)
{
	(void)state;
	const struct spec a[] = {{.type = HL_IND_CONTENT, .value = "alpha"}};
	const struct spec b[] = {{.type = HL_IND_REGEX, .value = "b[r]+avo[0-9]{2,}"},
	                         {.type = HL_IND_CONTENT, .value = "bravo"}};
	const struct spec none[] = {{.type = HL_IND_DOMAIN, .value = "quiet.example"}};
	hl_matcher_t *ma = compile(a, 1, NULL, 0, NULL, NULL);
	hl_matcher_t *mb = compile(b, 2, NULL, 0, NULL, NULL);
	hl_matcher_t *mn = compile(none, 1, NULL, 0, NULL, NULL);
	assert_true(hl_matcher_has_payload(ma));
	assert_false(hl_matcher_has_payload(mn));
	hl_scratch_t *s = hl_scratch_new(ma);
	assert_int_equal(hl_scratch_grow(s, mb), 0);
	assert_int_equal(hl_scratch_grow(s, mn), 0);
	assert_int_equal(match_str(ma, s, HL_FIELD_TCP_PAYLOAD, "alpha", 1).n, 1);
	assert_int_equal(match_str(mb, s, HL_FIELD_TCP_PAYLOAD, "brrravo12 bravo", 1).n, 2);
	/* A matcher without payload patterns needs no scratch. */
	assert_int_equal(match_str(mn, NULL, HL_FIELD_TCP_PAYLOAD, "alpha", 1).n, 0);
	hl_stream_t *st = hl_stream_open(mn, HL_FIELD_TCP_PAYLOAD);
	assert_non_null(st);
	assert_int_equal(hl_stream_scan(st, NULL, "x", 1, 1, collect, NULL), 0);
	hl_stream_close(&st, NULL, 1, NULL, NULL);
	hl_scratch_t *empty = hl_scratch_new(mn);
	assert_non_null(empty);
	hl_scratch_destroy(&empty);
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&ma);
	hl_matcher_destroy(&mb);
	hl_matcher_destroy(&mn);
}

static void empty_set_compiles(void **state)
{
	(void)state;
	hl_iset_t *set = hl_iset_new();
	hl_matcher_t *m = NULL;
	struct hl_compile_stats st;
	assert_int_equal(hl_matcher_compile(set, NULL, &m, &st, NULL), 0);
	assert_int_equal(hl_matcher_count(m), 0);
	assert_int_equal(st.compiled, 0);
	assert_int_equal(match_str(m, NULL, HL_FIELD_DNS_QUERY, "a.example", 1).n, 0);
	assert_int_equal(hl_match_field(m, NULL, HL_FIELD_COUNT, "x", 1, 1, collect, NULL),
	                 HL_EINVAL);
	hl_matcher_destroy(&m);
	hl_matcher_destroy(&m);
	hl_iset_destroy(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(field_names_round_trip),
	        cmocka_unit_test(domain_subdomain_yes_substring_no),
	        cmocka_unit_test(domain_trailing_dot_free_input),
	        cmocka_unit_test(domain_several_on_one_name),
	        cmocka_unit_test(url_query_rule_both_ways),
	        cmocka_unit_test(uri_exact_and_query),
	        cmocka_unit_test(cidr_edges),
	        cmocka_unit_test(validity_windows_use_packet_time),
	        cmocka_unit_test(expired_left_out_and_hash_covers_compiled_only),
	        cmocka_unit_test(allowlist_suppresses),
	        cmocka_unit_test(content_hex_and_nocase),
	        cmocka_unit_test(regex_and_bad_regex_rejected),
	        cmocka_unit_test(stream_split_across_three_scans),
	        cmocka_unit_test(stream_honours_validity),
	        cmocka_unit_test(scratch_grows_for_a_second_matcher),
	        cmocka_unit_test(empty_set_compiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
