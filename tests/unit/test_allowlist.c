/* \summary: unit tests for allowlists (rules/allowlist.c) */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "hotline/allowlist.h"
#include "hotline/err.h"

/* ---- helpers ---------------------------------------------------------- */

struct capture {
	char text[16384];
	size_t len;
};

/* Records "LINE level: msg\n" so tests can compare whole transcripts. */
static void capture_emit(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                         const char *msg)
{
	struct capture *c = ctx;
	assert_string_equal(file, "t.allow");
	int w = snprintf(c->text + c->len, sizeof c->text - c->len, "%lu %s: %s\n", line,
	                 hl_diag_level_name(level), msg);
	assert_true(w > 0 && (size_t)w < sizeof c->text - c->len);
	c->len += (size_t)w;
}

static int parse(hl_allowlist_t *al, const char *text, struct hl_diag *d, struct capture *c)
{
	memset(d, 0, sizeof *d);
	memset(c, 0, sizeof *c);
	d->emit = capture_emit;
	d->ctx = c;
	return hl_allowlist_parse_buffer(al, "t.allow", text, strlen(text), d);
}

static void expect_entry(const hl_allowlist_t *al, size_t i, enum hl_allow_kind kind,
                         const char *value)
{
	enum hl_allow_kind k;
	const char *v;
	assert_int_equal(hl_allowlist_entry(al, i, &k, &v), 0);
	assert_int_equal(k, kind);
	assert_string_equal(v, value);
}

static void expect_add(hl_allowlist_t *al, enum hl_allow_kind kind, const char *value,
                       const char *canonical)
{
	char why[256] = "untouched";
	size_t before = hl_allowlist_count(al);
	assert_int_equal(hl_allowlist_add(al, kind, value, why, sizeof why), 0);
	assert_string_equal(why, "");
	assert_int_equal(hl_allowlist_count(al), before + 1);
	expect_entry(al, before, kind, canonical);
}

static void expect_reject(hl_allowlist_t *al, enum hl_allow_kind kind, const char *value,
                          const char *reason)
{
	char why[256] = "";
	size_t before = hl_allowlist_count(al);
	assert_int_equal(hl_allowlist_add(al, kind, value, why, sizeof why), HL_EINVAL);
	if (strstr(why, reason) == NULL)
		fail_msg("reason for \"%s\" was \"%s\", wanted \"%s\"", value, why, reason);
	assert_int_equal(hl_allowlist_count(al), before);
}

static bool has_name(const hl_allowlist_t *al, const char *s)
{
	return hl_allowlist_has_name(al, s, strlen(s));
}

static bool has_string(const hl_allowlist_t *al, const char *s)
{
	return hl_allowlist_has_string(al, s, strlen(s));
}

static bool has_addr(const hl_allowlist_t *al, const char *s)
{
	uint8_t a[16];
	if (inet_pton(AF_INET, s, a) == 1)
		return hl_allowlist_has_addr(al, 4, a);
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	return hl_allowlist_has_addr(al, 6, a);
}

static bool covers(const hl_allowlist_t *al, enum hl_ind_type type, const char *value)
{
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = type;
	ind.value = (char *)value;
	bool r = hl_allowlist_covers(al, &ind);
	ind.value = NULL;
	hl_indicator_clear(&ind);
	return r;
}

/* ---- the API ---------------------------------------------------------- */

static void empty_and_null(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	assert_non_null(al);
	assert_int_equal(hl_allowlist_count(al), 0);
	assert_false(has_name(al, "example.com"));
	assert_false(has_name(al, ""));
	assert_false(has_string(al, "/"));
	assert_false(has_addr(al, "0.0.0.0"));
	assert_false(covers(al, HL_IND_DOMAIN, "example.com"));
	assert_int_equal(hl_allowlist_entry(al, 0, NULL, NULL), HL_ERANGE);

	assert_int_equal(hl_allowlist_count(NULL), 0);
	assert_false(hl_allowlist_has_name(NULL, "a", 1));
	assert_false(hl_allowlist_has_name(al, NULL, 1));
	assert_false(hl_allowlist_has_string(NULL, "a", 1));
	assert_false(hl_allowlist_has_addr(NULL, 4, (const uint8_t *)"abcd"));
	assert_false(hl_allowlist_has_addr(al, 4, NULL));
	assert_false(hl_allowlist_covers(NULL, NULL));
	assert_false(hl_allowlist_covers(al, NULL));
	assert_int_equal(hl_allowlist_add(NULL, HL_ALLOW_EXACT, "x", NULL, 0), HL_EINVAL);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, NULL, NULL, 0), HL_EINVAL);
	assert_int_equal(hl_allowlist_add(al, (enum hl_allow_kind)9, "x", NULL, 0), HL_EINVAL);
	assert_int_equal(hl_allowlist_parse_buffer(NULL, "x", "", 0, NULL), HL_EINVAL);
	assert_int_equal(hl_allowlist_parse_buffer(al, "x", NULL, 1, NULL), HL_EINVAL);
	assert_int_equal(hl_allowlist_parse_buffer(al, "x", NULL, 0, NULL), 0);
	assert_int_equal(hl_allowlist_parse_file(al, NULL, NULL), HL_EINVAL);
	hl_allowlist_destroy(&al);
	assert_null(al);
	hl_allowlist_destroy(&al);
	hl_allowlist_destroy(NULL);
}

static void values_are_canonicalised(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	expect_add(al, HL_ALLOW_EXACT, "Example.COM.", "example.com");
	expect_add(al, HL_ALLOW_EXACT, "HTTP://WWW.Example.com:80/A?b=C#frag",
	           "www.example.com/A?b=C");
	expect_add(al, HL_ALLOW_EXACT, "Example.net/Path", "example.net/Path");
	expect_add(al, HL_ALLOW_EXACT, "/Login?X=1", "/Login?X=1");
	expect_add(al, HL_ALLOW_EXACT, "d41d8cd98f00b204e9800998ecf8427e",
	           "d41d8cd98f00b204e9800998ecf8427e");
	expect_add(al, HL_ALLOW_EXACT, "free text, kept as given", "free text, kept as given");
	expect_add(al, HL_ALLOW_SUFFIX, "*.Example.ORG", "example.org");
	expect_add(al, HL_ALLOW_SUFFIX, ".example.net.", "example.net");
	expect_add(al, HL_ALLOW_SUFFIX, "under_score.example", "under_score.example");
	expect_add(al, HL_ALLOW_CIDR, "10.0.0.0/8", "10.0.0.0/8");
	expect_add(al, HL_ALLOW_CIDR, "192.0.2.1/32", "192.0.2.1");
	expect_add(al, HL_ALLOW_CIDR, "2001:DB8::/32", "2001:db8::/32");
	expect_add(al, HL_ALLOW_CIDR, "::ffff:198.51.100.7", "198.51.100.7");
	expect_add(al, HL_ALLOW_CIDR, "0.0.0.0/0", "0.0.0.0/0");
	assert_int_equal(hl_allowlist_count(al), 14);
	hl_allowlist_destroy(&al);
}

static void bad_values_are_rejected_with_a_reason(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	expect_reject(al, HL_ALLOW_EXACT, "", "empty");
	expect_reject(al, HL_ALLOW_EXACT, "tab\there", "control character");
	expect_reject(al, HL_ALLOW_EXACT, "del\x7f", "control character");
	char *big = malloc(HL_INDICATOR_VALUE_MAX + 2);
	memset(big, 'a', HL_INDICATOR_VALUE_MAX + 1);
	big[HL_INDICATOR_VALUE_MAX + 1] = '\0';
	expect_reject(al, HL_ALLOW_EXACT, big, "longer");
	free(big);
	expect_reject(al, HL_ALLOW_SUFFIX, "", "empty");
	expect_reject(al, HL_ALLOW_SUFFIX, ".", "empty");
	expect_reject(al, HL_ALLOW_SUFFIX, "192.0.2.1", "IP address");
	expect_reject(al, HL_ALLOW_SUFFIX, "a..example", "empty label");
	expect_reject(al, HL_ALLOW_SUFFIX, "bad!name.example", "invalid character");
	expect_reject(al, HL_ALLOW_SUFFIX, "example.com/path", "'/'");
	expect_reject(al, HL_ALLOW_CIDR, "10.0.0.1/8", "host bits");
	expect_reject(al, HL_ALLOW_CIDR, "10.0.0.0/33", "over 32");
	expect_reject(al, HL_ALLOW_CIDR, "example.com", "not an IPv4 or IPv6");
	expect_reject(al, HL_ALLOW_CIDR, "", "empty");
	assert_int_equal(hl_allowlist_count(al), 0);
	/* why may be NULL or short. */
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "x", NULL, 0), HL_EINVAL);
	char tiny[4];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "x", tiny, sizeof tiny), HL_EINVAL);
	assert_int_equal(strlen(tiny), 3);
	hl_allowlist_destroy(&al);
}

static void repeated_entries_are_stored_once(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	char why[128];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, "example.com", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, "EXAMPLE.com.", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "example.com", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "10.0.0.0/8", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "10.0.0.0/8", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "10.0.0.0/9", why, sizeof why), 0);
	assert_int_equal(
	        hl_allowlist_add(al, HL_ALLOW_CIDR, "::ffff:10.0.0.0/104", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_count(al), 4);
	expect_entry(al, 0, HL_ALLOW_SUFFIX, "example.com");
	expect_entry(al, 1, HL_ALLOW_EXACT, "example.com");
	expect_entry(al, 2, HL_ALLOW_CIDR, "10.0.0.0/8");
	expect_entry(al, 3, HL_ALLOW_CIDR, "10.0.0.0/9");
	assert_int_equal(hl_allowlist_entry(al, 4, NULL, NULL), HL_ERANGE);
	hl_allowlist_destroy(&al);
}

static void entry_values_stay_valid(void **state)
{
	(void)state;
	/* Pointers handed out early survive thousands of later adds. */
	hl_allowlist_t *al = hl_allowlist_new();
	char why[128], value[64];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "/first", why, sizeof why), 0);
	const char *first;
	assert_int_equal(hl_allowlist_entry(al, 0, NULL, &first), 0);
	for (int i = 0; i < 20000; i++) {
		snprintf(value, sizeof value, "host%d.example", i);
		assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, value, why, sizeof why), 0);
	}
	assert_string_equal(first, "/first");
	assert_int_equal(hl_allowlist_count(al), 20001);
	expect_entry(al, 20000, HL_ALLOW_SUFFIX, "host19999.example");
	assert_true(has_name(al, "www.host12345.example"));
	assert_false(has_name(al, "host20000.example"));
	hl_allowlist_destroy(&al);
}

static void lookups(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	char why[128];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, "evil.example", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "exact.example", why, sizeof why), 0);
	assert_int_equal(
	        hl_allowlist_add(al, HL_ALLOW_EXACT, "cdn.example/lib.js", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "192.0.2.0/24", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "2001:db8::/32", why, sizeof why), 0);

	assert_true(has_name(al, "evil.example"));
	assert_true(has_name(al, "x.evil.example"));
	assert_true(has_name(al, "a.b.c.evil.example"));
	assert_false(has_name(al, "notevil.example"));
	assert_false(has_name(al, "evil.example.com"));
	assert_false(has_name(al, "example"));
	assert_true(has_name(al, "exact.example"));
	assert_false(has_name(al, "www.exact.example"));
	/* A length bounds the name; no terminator needed. */
	assert_true(hl_allowlist_has_name(al, "evil.examplexxx", 12));
	assert_false(hl_allowlist_has_name(al, "evil.examplexxx", 11));

	assert_true(has_string(al, "exact.example"));
	assert_true(has_string(al, "cdn.example/lib.js"));
	assert_false(has_string(al, "cdn.example/lib.jsx"));
	assert_false(has_string(al, "evil.example")); /* a suffix is no string */

	assert_true(has_addr(al, "192.0.2.0"));
	assert_true(has_addr(al, "192.0.2.255"));
	assert_false(has_addr(al, "192.0.3.0"));
	assert_true(has_addr(al, "2001:db8:ffff::1"));
	assert_false(has_addr(al, "2001:db9::"));
	uint8_t a[16] = {192, 0, 2, 1};
	assert_false(hl_allowlist_has_addr(al, 6, a)); /* v4 bytes read as v6 */
	assert_false(hl_allowlist_has_addr(al, 5, a));
	hl_allowlist_destroy(&al);
}

static void covers_only_what_can_never_be_reported(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	char why[128];
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_SUFFIX, "corp.example", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "www.other.example", why, sizeof why),
	                 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "other.example/ok", why, sizeof why),
	                 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "/health", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "10.0.0.0/8", why, sizeof why), 0);
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_CIDR, "2001:db8::/32", why, sizeof why), 0);

	assert_true(covers(al, HL_IND_DOMAIN, "corp.example"));
	assert_true(covers(al, HL_IND_DOMAIN, "mail.corp.example"));
	assert_false(covers(al, HL_IND_DOMAIN, "example"));
	assert_false(covers(al, HL_IND_DOMAIN, "notcorp.example"));
	/* An exact entry hides the name, not its subdomains. */
	assert_false(covers(al, HL_IND_DOMAIN, "www.other.example"));

	assert_true(covers(al, HL_IND_IP, "10.1.2.3"));
	assert_true(covers(al, HL_IND_IP, "10.1.0.0/16"));
	assert_true(covers(al, HL_IND_IP, "10.0.0.0/8"));
	assert_false(covers(al, HL_IND_IP, "10.0.0.0/7"));
	assert_false(covers(al, HL_IND_IP, "11.0.0.1"));
	assert_true(covers(al, HL_IND_IP, "2001:db8::1"));
	assert_true(covers(al, HL_IND_IP, "2001:db8:1::/48"));
	assert_false(covers(al, HL_IND_IP, "2001:db8::/31"));
	assert_false(covers(al, HL_IND_IP, "not an address"));

	assert_true(covers(al, HL_IND_URL, "other.example/ok"));
	assert_false(covers(al, HL_IND_URL, "other.example/ok2"));
	assert_false(covers(al, HL_IND_URL, "www.corp.example/x")); /* exact only */
	/* The matcher drops the query before asking, so an entry without
	 * '?' covers every query-string variant; one with '?' only itself. */
	assert_true(covers(al, HL_IND_URL, "other.example/ok?a=1"));
	assert_false(covers(al, HL_IND_URL, "other.example/ok2?a=1"));
	assert_int_equal(hl_allowlist_add(al, HL_ALLOW_EXACT, "/q?x=1", why, sizeof why), 0);
	assert_true(covers(al, HL_IND_URI, "/q?x=1"));
	assert_false(covers(al, HL_IND_URI, "/q?x=2"));
	assert_false(covers(al, HL_IND_URI, "/q"));
	assert_true(covers(al, HL_IND_URI, "/health?"));
	assert_true(covers(al, HL_IND_URI, "/health"));
	assert_false(covers(al, HL_IND_URI, "/health/x"));
	assert_false(covers(al, HL_IND_CONTENT, "/health"));
	assert_false(covers(al, HL_IND_REGEX, "/health"));
	assert_false(covers(al, HL_IND_TYPE_COUNT, "/health"));
	assert_false(covers(al, HL_IND_DOMAIN, NULL));
	hl_allowlist_destroy(&al);
}

/* ---- the line format ---------------------------------------------------- */

static void line_format_good_input(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	struct hl_diag d;
	struct capture c;
	const char *text = "\xef\xbb\xbf# allowlist for tests\n"
	                   "\n"
	                   "   \t  \n"
	                   "exact www.Example.com\n"
	                   "suffix corp.example # internal\r\n"
	                   "CIDR 10.0.0.0/8\t# RFC 1918\n"
	                   "  cidr   2001:db8::/32  \n"
	                   "192.0.2.7\n"
	                   "198.51.100.0/24\n"
	                   "Partner.Example.\n"
	                   ".dotted.example\n"
	                   "*.wild.example\n"
	                   "cdn.example/lib.js?v=1\n"
	                   "/healthz\n"
	                   "exact /page#anchor\n"
	                   "exact two words\n"
	                   "last.example";
	assert_int_equal(parse(al, text, &d, &c), 0);
	assert_string_equal(c.text, "");
	assert_int_equal(d.errors, 0);
	assert_int_equal(hl_allowlist_count(al), 14);
	expect_entry(al, 0, HL_ALLOW_EXACT, "www.example.com");
	expect_entry(al, 1, HL_ALLOW_SUFFIX, "corp.example");
	expect_entry(al, 2, HL_ALLOW_CIDR, "10.0.0.0/8");
	expect_entry(al, 3, HL_ALLOW_CIDR, "2001:db8::/32");
	expect_entry(al, 4, HL_ALLOW_CIDR, "192.0.2.7");
	expect_entry(al, 5, HL_ALLOW_CIDR, "198.51.100.0/24");
	expect_entry(al, 6, HL_ALLOW_SUFFIX, "partner.example");
	expect_entry(al, 7, HL_ALLOW_SUFFIX, "dotted.example");
	expect_entry(al, 8, HL_ALLOW_SUFFIX, "wild.example");
	expect_entry(al, 9, HL_ALLOW_EXACT, "cdn.example/lib.js?v=1");
	expect_entry(al, 10, HL_ALLOW_EXACT, "/healthz");
	expect_entry(al, 11, HL_ALLOW_EXACT, "/page"); /* a fragment is never sent */
	expect_entry(al, 12, HL_ALLOW_EXACT, "two words");
	expect_entry(al, 13, HL_ALLOW_SUFFIX, "last.example");
	hl_allowlist_destroy(&al);
}

static void line_format_errors_name_their_line(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	struct hl_diag d;
	struct capture c;
	const char *text = "exact\n"                   /* 1 */
	                   "domain evil.example\n"     /* 2 */
	                   "10.0.0.1/8\n"              /* 3 */
	                   "1.2.3\n"                   /* 4 */
	                   "suffix 192.0.2.1\n"        /* 5 */
	                   "cidr example.com\n"        /* 6 */
	                   "com\n"                     /* 7: accepted, warned */
	                   "good.example\n"            /* 8 */
	                   "suffix bad..example # x\n" /* 9 */
	                   "exact ctl\x01here\n"       /* 10 */
	                   "fe80::zz\n"                /* 11 */
	                   "suffix\tcom.\n";           /* 12: repeat of 7, warned */
	assert_int_equal(parse(al, text, &d, &c), 0);
	assert_string_equal(
	        c.text, "1 error: missing value after \"exact\"\n"
	                "2 error: unknown entry kind \"domain\" (expected exact, suffix or cidr)\n"
	                "3 error: \"10.0.0.1/8\": host bits set beyond the prefix length\n"
	                "4 error: \"1.2.3\": not an IPv4 or IPv6 address\n"
	                "5 error: \"192.0.2.1\": an IP address, not a domain name\n"
	                "6 error: \"example.com\": not an IPv4 or IPv6 address\n"
	                "7 warning: suffix \"com\" allowlists a whole top-level domain\n"
	                "9 error: \"bad..example\": empty label in domain name\n"
	                "10 error: \"ctl?here\": control character in value\n"
	                "11 error: \"fe80::zz\": not an IPv4 or IPv6 address\n"
	                "12 warning: suffix \"com.\" allowlists a whole top-level domain\n");
	assert_int_equal(d.errors, 9);
	assert_int_equal(d.warnings, 2);
	assert_int_equal(hl_allowlist_count(al), 2);
	expect_entry(al, 0, HL_ALLOW_SUFFIX, "com");
	expect_entry(al, 1, HL_ALLOW_SUFFIX, "good.example");
	hl_allowlist_destroy(&al);
}

static void line_format_hostile_input(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	struct hl_diag d;
	memset(&d, 0, sizeof d);

	/* Not NUL-terminated: only len bytes are read. */
	const char text[] = "a.example\nb.example";
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", text, 10, &d), 0);
	assert_int_equal(hl_allowlist_count(al), 1);
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", text, 13, &d), 0);
	assert_int_equal(hl_allowlist_count(al), 2);
	expect_entry(al, 1, HL_ALLOW_SUFFIX, "b.e");
	assert_int_equal(d.errors, 0);

	/* A NUL byte spoils its line only. */
	const char nul[] = "x.example\0y\nz.example\n";
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", nul, sizeof nul - 1, &d), 0);
	assert_int_equal(d.errors, 1);
	assert_int_equal(hl_allowlist_count(al), 3);
	expect_entry(al, 2, HL_ALLOW_SUFFIX, "z.example");

	/* A line of exactly 64 KiB is read; one byte more is an error. */
	size_t big = 64 * 1024;
	char *buf = malloc(2 * big + 64);
	memset(buf, 'a', 2 * big + 64);
	memcpy(buf, "exact /", 7);
	buf[big] = '\n';
	memcpy(buf + big + 1, "exact /", 7);
	buf[2 * big + 2] = '\n';
	memcpy(buf + 2 * big + 3, "ok.example\n", 11);
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", buf, 2 * big + 14, &d), 0);
	/* Line 1 (64 KiB) is read but its value is over 4096 bytes. */
	assert_int_equal(d.errors, 2);
	expect_entry(al, hl_allowlist_count(al) - 1, HL_ALLOW_SUFFIX, "ok.example");

	/* Line 1 too long (error), line 2 fine. */
	memset(buf, 'a', 2 * big + 64);
	buf[big + 1] = '\n';
	memcpy(buf + big + 2, "cidr 192.0.2.0/24", 17);
	struct capture c;
	memset(&c, 0, sizeof c);
	memset(&d, 0, sizeof d);
	d.emit = capture_emit;
	d.ctx = &c;
	assert_int_equal(hl_allowlist_parse_buffer(al, "t.allow", buf, big + 19, &d), 0);
	assert_string_equal(c.text, "1 error: line longer than 65536 bytes\n");
	assert_true(has_addr(al, "192.0.2.9"));
	free(buf);

	/* CRs and newlines are blank lines; high bytes are a string like any
	 * other (an exact entry compares bytes). */
	memset(&d, 0, sizeof d);
	size_t before = hl_allowlist_count(al);
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", "\r\r\r", 3, &d), 0);
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", "\n\n\n", 3, &d), 0);
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", "\xff\xfe\x80", 3, &d), 0);
	assert_int_equal(hl_allowlist_parse_buffer(al, "t", "#", 1, &d), 0);
	assert_int_equal(hl_allowlist_count(al), before + 1);
	expect_entry(al, before, HL_ALLOW_EXACT, "\xff\xfe\x80");
	assert_int_equal(d.errors, 0);
	hl_allowlist_destroy(&al);
}

/* ---- MISP warninglists -------------------------------------------------- */

static void misp_lists_by_type(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	struct hl_diag d;
	struct capture c;
	assert_int_equal(
	        parse(al,
	              "  \n{\"name\": \"Hosts\", \"type\": \"hostname\", \"version\": 3,"
	              " \"list\": [\"Example.COM\", \" .cdn.example \", \"*.wild.example\","
	              " \"192.0.2.1\", 7, \"\", \"com\"]}",
	              &d, &c),
	        0);
	assert_string_equal(c.text, "0 error: list[3] \"192.0.2.1\": an IP address, not a domain "
	                            "name\n"
	                            "0 error: list[4]: not a string\n"
	                            "0 error: list[5] is empty\n"
	                            "0 warning: list[6] suffix \"com\" allowlists a whole "
	                            "top-level domain\n");
	assert_int_equal(hl_allowlist_count(al), 4);
	expect_entry(al, 0, HL_ALLOW_SUFFIX, "example.com");
	expect_entry(al, 1, HL_ALLOW_SUFFIX, "cdn.example");
	expect_entry(al, 2, HL_ALLOW_SUFFIX, "wild.example");

	assert_int_equal(parse(al,
	                       "{\"name\": \"Nets\", \"type\": \"cidr\", \"list\": [\"10.0.0.0/8\","
	                       " \"2001:db8::/32\", \"192.0.2.1\", \"10.0.0.1/8\"]}",
	                       &d, &c),
	                 0);
	assert_int_equal(d.errors, 1);
	assert_true(has_addr(al, "10.9.9.9"));
	assert_true(has_addr(al, "2001:db8::5"));
	assert_true(has_addr(al, "192.0.2.1"));

	/* A list without a type is a string list, as in MISP. */
	assert_int_equal(parse(al,
	                       "{\"list\": [\"d41d8cd98f00b204e9800998ecf8427e\", "
	                       "\"Host.Example/Path\"]}",
	                       &d, &c),
	                 0);
	assert_int_equal(d.errors, 0);
	assert_true(has_string(al, "d41d8cd98f00b204e9800998ecf8427e"));
	assert_true(has_string(al, "host.example/Path"));
	assert_int_equal(hl_allowlist_count(al), 9);
	hl_allowlist_destroy(&al);
}

static void misp_unsupported_and_broken(void **state)
{
	(void)state;
	hl_allowlist_t *al = hl_allowlist_new();
	struct hl_diag d;
	struct capture c;
	assert_int_equal(
	        parse(al, "{\"name\": \"Subs\", \"type\": \"substring\", \"list\": [\"a\", \"b\"]}",
	              &d, &c),
	        0);
	assert_string_equal(c.text, "0 skipped: warninglist \"Subs\": type \"substring\" is not "
	                            "supported (only whole values are compared); 2 entries "
	                            "skipped\n");
	assert_int_equal(d.skipped, 1);
	assert_int_equal(parse(al, "{\"type\": \"regex\", \"list\": [\"^a\"]}", &d, &c), 0);
	assert_int_equal(d.skipped, 1);
	assert_int_equal(hl_allowlist_count(al), 0);

	assert_int_equal(parse(al, "{\"type\": \"glob\", \"list\": []}", &d, &c), HL_EPARSE);
	assert_string_equal(c.text, "0 error: warninglist \"(unnamed)\": unknown type \"glob\"\n");
	assert_int_equal(parse(al, "{\"type\": 5, \"list\": []}", &d, &c), HL_EPARSE);
	assert_int_equal(d.errors, 1);
	assert_int_equal(parse(al, "{\"type\": \"cidr\"}", &d, &c), HL_EPARSE);
	assert_string_equal(c.text, "0 error: MISP warninglist has no \"list\" array\n");
	assert_int_equal(parse(al, "{\"type\": \"cidr\", \"list\": {}}", &d, &c), HL_EPARSE);
	assert_int_equal(
	        parse(al, "{\n\"type\": \"cidr\",\n\"list\": [\"10.0.0.0/8\",]\n}", &d, &c),
	        HL_EPARSE);
	assert_int_equal(d.errors, 1);
	assert_true(strncmp(c.text, "3 error: JSON: ", 15) == 0);
	assert_int_equal(parse(al, "{", &d, &c), HL_EPARSE);
	assert_int_equal(parse(al, "{\"list\": [\"a\\u0000b\"]}", &d, &c), HL_EPARSE);
	assert_int_equal(parse(al, "{} trailing", &d, &c), HL_EPARSE);
	assert_int_equal(hl_allowlist_count(al), 0);

	/* Not JSON at all: a '[' document is read as lines (one bad line). */
	assert_int_equal(parse(al, "[\"a.example\"]", &d, &c), 0);
	assert_int_equal(d.errors, 0);
	expect_entry(al, 0, HL_ALLOW_EXACT, "[\"a.example\"]");
	hl_allowlist_destroy(&al);
}

/* ---- files -------------------------------------------------------------- */

static void parse_file_reads_and_reports(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/test_allowlist.tmp", HOTLINE_BINARY_DIR);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	/* Bigger than one read chunk. */
	for (int i = 0; i < 10000; i++)
		fprintf(f, "host%05d.example\n", i);
	fputs("cidr 300.0.0.0/8\n", f);
	fclose(f);

	hl_allowlist_t *al = hl_allowlist_new();
	struct hl_diag d;
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_allowlist_parse_file(al, path, &d), 0);
	assert_int_equal(d.errors, 1);
	assert_int_equal(hl_allowlist_count(al), 10000);
	assert_true(has_name(al, "www.host09999.example"));
	remove(path);

	memset(&d, 0, sizeof d);
	assert_int_equal(hl_allowlist_parse_file(al, path, &d), HL_EIO);
	assert_int_equal(d.errors, 1);
	assert_int_equal(hl_allowlist_parse_file(al, HOTLINE_BINARY_DIR, &d), HL_EIO);
	hl_allowlist_destroy(&al);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(empty_and_null),
	        cmocka_unit_test(values_are_canonicalised),
	        cmocka_unit_test(bad_values_are_rejected_with_a_reason),
	        cmocka_unit_test(repeated_entries_are_stored_once),
	        cmocka_unit_test(entry_values_stay_valid),
	        cmocka_unit_test(lookups),
	        cmocka_unit_test(covers_only_what_can_never_be_reported),
	        cmocka_unit_test(line_format_good_input),
	        cmocka_unit_test(line_format_errors_name_their_line),
	        cmocka_unit_test(line_format_hostile_input),
	        cmocka_unit_test(misp_lists_by_type),
	        cmocka_unit_test(misp_unsupported_and_broken),
	        cmocka_unit_test(parse_file_reads_and_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
