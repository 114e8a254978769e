/* \summary: unit tests for the indicator model (normalise, merge, names) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/indicator.h"

struct norm_case {
	enum hl_ind_type type;
	const char *in;
	const char *out;    /* NULL: must be rejected */
	const char *reason; /* substring of why when rejected (may be NULL) */
};

static const struct norm_case norm_cases[] = {
        /* ip */
        {HL_IND_IP, "1.2.3.4", "1.2.3.4", NULL},
        {HL_IND_IP, "1.2.3.4/32", "1.2.3.4", NULL},
        {HL_IND_IP, "10.0.0.0/8", "10.0.0.0/8", NULL},
        {HL_IND_IP, "0.0.0.0/0", "0.0.0.0/0", NULL},
        {HL_IND_IP, "2001:DB8::1", "2001:db8::1", NULL},
        {HL_IND_IP, "2001:db8:0::1/128", "2001:db8::1", NULL},
        {HL_IND_IP, "2001:db8::/32", "2001:db8::/32", NULL},
        {HL_IND_IP, "::ffff:1.2.3.4", "1.2.3.4", NULL},
        {HL_IND_IP, "::ffff:10.0.0.0/104", "10.0.0.0/8", NULL},
        {HL_IND_IP, "10.0.0.1/8", NULL, "host bits"},
        {HL_IND_IP, "1.2.3.4/33", NULL, "over 32"},
        {HL_IND_IP, "1.2.3", NULL, "not an IPv4"},
        {HL_IND_IP, "example.com", NULL, NULL},
        {HL_IND_IP, " 1.2.3.4", NULL, NULL},
        {HL_IND_IP, "", NULL, "empty"},
        /* domain */
        {HL_IND_DOMAIN, "Example.COM", "example.com", NULL},
        {HL_IND_DOMAIN, "example.com.", "example.com", NULL},
        {HL_IND_DOMAIN, "*.evil.example", "evil.example", NULL},
        {HL_IND_DOMAIN, "xn--bcher-kva.example", "xn--bcher-kva.example", NULL},
        {HL_IND_DOMAIN, "_dmarc.a-b.example", "_dmarc.a-b.example", NULL},
        {HL_IND_DOMAIN, "localhost", "localhost", NULL},
        {HL_IND_DOMAIN, "a..b", NULL, "empty label"},
        {HL_IND_DOMAIN, ".a.b", NULL, "empty label"},
        {HL_IND_DOMAIN, "example.com..", NULL, "empty label"},
        {HL_IND_DOMAIN, ".", NULL, "empty domain"},
        {HL_IND_DOMAIN, "*.", NULL, "empty domain"},
        {HL_IND_DOMAIN, "a.*.b", NULL, "invalid character"},
        {HL_IND_DOMAIN, "1.2.3.4", NULL, "IP address"},
        {HL_IND_DOMAIN, "1.2.3", NULL, "numeric"},
        {HL_IND_DOMAIN, "::1", NULL, "':'"},
        {HL_IND_DOMAIN, "example.com/x", NULL, "'/'"},
        {HL_IND_DOMAIN, "exa mple.com", NULL, "space"},
        {HL_IND_DOMAIN, "example.com:80", NULL, "':'"},
        {HL_IND_DOMAIN, "ex\xc3\xa4mple.com", NULL, "non-printable"},
        {HL_IND_DOMAIN, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
         NULL, "longer than 63"},
        /* url */
        {HL_IND_URL, "http://Example.COM/Path?q=1#frag", "example.com/Path?q=1", NULL},
        {HL_IND_URL, "HTTPS://example.com", "example.com/", NULL},
        {HL_IND_URL, "example.com", "example.com/", NULL},
        {HL_IND_URL, "example.com?x=1", "example.com/?x=1", NULL},
        {HL_IND_URL, "http://example.com:80/a", "example.com/a", NULL},
        {HL_IND_URL, "https://example.com:443/a", "example.com/a", NULL},
        {HL_IND_URL, "http://example.com:443/a", "example.com/a", NULL},
        {HL_IND_URL, "https://example.com:80/a", "example.com/a", NULL},
        {HL_IND_URL, "http://example.com:8080/a", "example.com:8080/a", NULL},
        {HL_IND_URL, "example.com:80/a", "example.com/a", NULL},
        {HL_IND_URL, "http://example.com./a", "example.com/a", NULL},
        {HL_IND_URL, "http://user:pw@Evil.example/x", "evil.example/x", NULL},
        {HL_IND_URL, "http://1.2.3.4/x", "1.2.3.4/x", NULL},
        {HL_IND_URL, "http://[2001:DB8::1]:8080/x", "[2001:db8::1]:8080/x", NULL},
        {HL_IND_URL, "http://[::ffff:1.2.3.4]/x", "1.2.3.4/x", NULL},
        {HL_IND_URL, "http://example.com/a%20b", "example.com/a%20b", NULL},
        {HL_IND_URL, "http://example.com#x", "example.com/", NULL},
        {HL_IND_URL, "example.com/r?u=http://x.example/", "example.com/r?u=http://x.example/",
         NULL},
        {HL_IND_URL, "ftp://example.com/", NULL, "unsupported URL scheme"},
        {HL_IND_URL, "http:///path", NULL, "no host"},
        {HL_IND_URL, "http://example.com/a b", NULL, "space"},
        {HL_IND_URL, "http://example.com:0/", NULL, "port"},
        {HL_IND_URL, "http://example.com:99999/", NULL, "port"},
        {HL_IND_URL, "http://example.com:/", NULL, "port"},
        {HL_IND_URL, "http://2001:db8::1/", NULL, "brackets"},
        {HL_IND_URL, "http://[2001:db8::1/", NULL, "unterminated"},
        {HL_IND_URL, "http://a..b/", NULL, "empty label"},
        /* uri */
        {HL_IND_URI, "/admin.php?x=1#top", "/admin.php?x=1", NULL},
        {HL_IND_URI, "/", "/", NULL},
        {HL_IND_URI, "admin.php", NULL, "start with '/'"},
        {HL_IND_URI, "/a b", NULL, "space"},
        {HL_IND_URI, "/a\tb", NULL, "non-printable"},
        /* content */
        {HL_IND_CONTENT, "GET|0D0A|", "GET|0d 0a|", NULL},
        {HL_IND_CONTENT, "GET |0d 0a|", "GET |0d 0a|", NULL},
        {HL_IND_CONTENT, "|0D 0A|", "|0d 0a|", NULL},
        {HL_IND_CONTENT, "|0d0a|", "|0d 0a|", NULL},
        {HL_IND_CONTENT, "|41 42|c", "ABc", NULL},
        {HL_IND_CONTENT, "a|7c|b", "a|7c|b", NULL},
        {HL_IND_CONTENT, "|00|x|ff fe|", "|00|x|ff fe|", NULL},
        {HL_IND_CONTENT, "a\\b", "a\\b", NULL},
        {HL_IND_CONTENT, "|41", NULL, "unterminated"},
        {HL_IND_CONTENT, "|414|", NULL, "odd number"},
        {HL_IND_CONTENT, "|4 1|", NULL, "odd number"},
        {HL_IND_CONTENT, "||", NULL, "empty |...|"},
        {HL_IND_CONTENT, "|zz|", NULL, "non-hex"},
        {HL_IND_CONTENT, "", NULL, "empty content"},
        {HL_IND_CONTENT, "a\tb", NULL, "non-printable"},
        /* regex */
        {HL_IND_REGEX, "evil[0-9]+\\.exe", "evil[0-9]+\\.exe", NULL},
        {HL_IND_REGEX, "", NULL, "empty"},
        {HL_IND_REGEX, "a(b", NULL, "regex:"},
        {HL_IND_REGEX, "a*", NULL, "empty buffer"},
};

static void normalise_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
		const struct norm_case *c = &norm_cases[i];
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		ind.type = c->type;
		ind.value = strdup(c->in);
		char why[256] = "untouched";
		int rc = hl_indicator_normalise(&ind, why, sizeof why);
		if (c->out != NULL) {
			if (rc != 0)
				print_error("case %zu \"%s\": unexpected error: %s\n", i, c->in,
				            why);
			assert_int_equal(rc, 0);
			if (strcmp(ind.value, c->out) != 0)
				print_error("case %zu \"%s\": got \"%s\"\n", i, c->in, ind.value);
			assert_string_equal(ind.value, c->out);
			assert_non_null(ind.id);
			/* The canonical form is a fixed point. */
			char *id = strdup(ind.id);
			assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), 0);
			assert_string_equal(ind.value, c->out);
			assert_string_equal(ind.id, id);
			free(id);
		} else {
			if (rc == 0)
				print_error("case %zu \"%s\": accepted as \"%s\"\n", i, c->in,
				            ind.value);
			assert_int_equal(rc, HL_EINVAL);
			assert_true(why[0] != '\0' && strcmp(why, "untouched") != 0);
			assert_null(strchr(why, '\n'));
			if (c->reason != NULL && strstr(why, c->reason) == NULL)
				print_error("case %zu \"%s\": reason \"%s\" lacks \"%s\"\n", i,
				            c->in, why, c->reason);
			if (c->reason != NULL)
				assert_non_null(strstr(why, c->reason));
		}
		hl_indicator_clear(&ind);
	}
}

static void normalise_length_limits(void **state)
{
	(void)state;
	char why[256];
	struct hl_indicator ind;
	/* 254 characters: one too many for a domain. */
	char name[300];
	memset(name, 'a', sizeof name);
	for (size_t i = 60; i < 254; i += 61)
		name[i] = '.';
	name[254] = '\0';
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup(name);
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "253"));
	hl_indicator_clear(&ind);
	name[253] = '\0';
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup(name);
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), 0);
	hl_indicator_clear(&ind);

	/* A URI of exactly the limit passes, one byte more fails. */
	char *uri = malloc(HL_INDICATOR_VALUE_MAX + 2);
	memset(uri, 'x', HL_INDICATOR_VALUE_MAX + 1);
	uri[0] = '/';
	uri[HL_INDICATOR_VALUE_MAX] = '\0';
	hl_indicator_init(&ind);
	ind.type = HL_IND_URI;
	ind.value = strdup(uri);
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), 0);
	hl_indicator_clear(&ind);
	uri[HL_INDICATOR_VALUE_MAX] = 'x';
	uri[HL_INDICATOR_VALUE_MAX + 1] = '\0';
	hl_indicator_init(&ind);
	ind.type = HL_IND_URI;
	ind.value = uri;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "longer than"));
	hl_indicator_clear(&ind);

	/* Content that grows on re-encoding past the limit is refused. */
	char *content = malloc(2 * 2000 + 3);
	content[0] = '|';
	for (size_t i = 0; i < 2000; i++)
		memcpy(content + 1 + 2 * i, "00", 2);
	memcpy(content + 4001, "|", 2);
	hl_indicator_init(&ind);
	ind.type = HL_IND_CONTENT;
	ind.value = content;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	hl_indicator_clear(&ind);
}

static void normalise_metadata(void **state)
{
	(void)state;
	char why[256];
	struct hl_indicator ind;

	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup("example.com");
	ind.confidence = 101;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "confidence"));
	ind.confidence = 100;
	ind.valid_from = 2000;
	ind.valid_until = 2000;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "valid_until"));
	ind.valid_until = 2001;
	ind.id = strdup("has space");
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "id"));
	free(ind.id);
	ind.id = strdup("");
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	free(ind.id);
	ind.id = strdup("indicator--1234");
	ind.nocase = true;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), 0);
	assert_string_equal(ind.id, "indicator--1234");
	assert_false(ind.nocase); /* meaningless for names, so dropped */
	assert_int_equal(hl_strv_push(&ind.tags, ""), 0);
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "empty tag"));
	hl_indicator_clear(&ind);

	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup("example.com");
	ind.description = strdup("bad \xff utf8");
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "UTF-8"));
	hl_indicator_clear(&ind);

	hl_indicator_init(&ind);
	ind.type = HL_IND_CONTENT;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), HL_EINVAL);
	assert_non_null(strstr(why, "missing value"));
	hl_indicator_clear(&ind);

	/* nocase stays for payload types and changes what Hyperscan accepts. */
	hl_indicator_init(&ind);
	ind.type = HL_IND_REGEX;
	ind.value = strdup("abc");
	ind.nocase = true;
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), 0);
	assert_true(ind.nocase);
	hl_indicator_clear(&ind);
}

static void defaults_and_copy(void **state)
{
	(void)state;
	struct hl_indicator a, b;
	hl_indicator_init(&a);
	assert_int_equal(a.tlp, HL_TLP_AMBER);
	assert_int_equal(a.confidence, HL_CONFIDENCE_UNSET);
	assert_int_equal(a.severity, HL_SEV_UNKNOWN);
	assert_int_equal(a.valid_from, 0);
	assert_int_equal(a.valid_until, 0);
	assert_false(a.nocase);
	assert_null(a.id);
	assert_null(a.value);
	assert_null(a.description);
	assert_int_equal(a.sources.n, 0);

	a.type = HL_IND_URL;
	a.value = strdup("example.com/");
	a.description = strdup("d");
	a.confidence = 40;
	assert_int_equal(hl_strv_push(&a.sources, "alpha"), 0);
	assert_int_equal(hl_strv_push(&a.sources, "alpha"), 0);
	assert_int_equal(a.sources.n, 1);
	assert_int_equal(hl_strv_push(&a.tags, "t1"), 0);
	hl_indicator_init(&b);
	assert_int_equal(hl_indicator_copy(&b, &a), 0);
	assert_string_equal(b.value, "example.com/");
	assert_ptr_not_equal(b.value, a.value);
	assert_string_equal(b.description, "d");
	assert_null(b.id);
	assert_int_equal(b.confidence, 40);
	assert_true(hl_strv_contains(&b.sources, "alpha"));
	assert_true(hl_strv_contains(&b.tags, "t1"));
	hl_indicator_clear(&a);
	hl_indicator_clear(&a); /* clearing twice is fine */
	hl_indicator_clear(&b);
}

static void derive_id_is_stable(void **state)
{
	(void)state;
	char id[64];
	assert_int_equal(hl_indicator_derive_id(HL_IND_DOMAIN, "example.com", id, sizeof id), 0);
	/* sha256("domain:example.com"), first 16 bytes. */
	assert_string_equal(id, "hl--ed152b32b035d8e873341938ca5f75d2");
	char small[36];
	assert_int_equal(hl_indicator_derive_id(HL_IND_DOMAIN, "x", small, sizeof small),
	                 HL_ERANGE);

	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup("EXAMPLE.com.");
	assert_int_equal(hl_indicator_normalise(&ind, NULL, 0), 0);
	assert_string_equal(ind.id, id);
	hl_indicator_clear(&ind);
}

static void merge_rules(void **state)
{
	(void)state;
	struct hl_indicator a, b;
	hl_indicator_init(&a);
	hl_indicator_init(&b);
	a.type = b.type = HL_IND_DOMAIN;
	a.value = strdup("example.com");
	b.value = strdup("example.com");
	a.id = strdup("first");
	b.id = strdup("second");
	a.confidence = 20;
	b.confidence = 70;
	a.valid_from = 1000;
	b.valid_from = 500;
	a.valid_until = 5000;
	b.valid_until = 9000;
	a.severity = HL_SEV_HIGH;
	b.severity = HL_SEV_LOW;
	a.tlp = HL_TLP_GREEN;
	b.tlp = HL_TLP_AMBER_STRICT;
	b.description = strdup("from b");
	b.nocase = true;
	hl_strv_push(&a.sources, "alpha");
	hl_strv_push(&b.sources, "bravo");
	hl_strv_push(&b.sources, "alpha");
	hl_strv_push(&a.tags, "c2");
	hl_strv_push(&b.tags, "phishing");

	assert_int_equal(hl_indicator_merge(&a, &b), 0);
	assert_string_equal(a.id, "first");
	assert_int_equal(a.confidence, 70);
	assert_int_equal(a.valid_from, 500);
	assert_int_equal(a.valid_until, 9000);
	assert_int_equal(a.severity, HL_SEV_HIGH);
	assert_int_equal(a.tlp, HL_TLP_AMBER_STRICT);
	assert_string_equal(a.description, "from b");
	assert_true(a.nocase);
	assert_int_equal(a.sources.n, 2);
	assert_true(hl_strv_contains(&a.sources, "bravo"));
	assert_int_equal(a.tags.n, 2);

	/* Unbounded (0) wins over any bound; a description already set stays. */
	free(b.description);
	b.description = strdup("other");
	b.valid_from = 0;
	b.valid_until = 0;
	b.confidence = HL_CONFIDENCE_UNSET;
	assert_int_equal(hl_indicator_merge(&a, &b), 0);
	assert_int_equal(a.valid_from, 0);
	assert_int_equal(a.valid_until, 0);
	assert_int_equal(a.confidence, 70);
	assert_string_equal(a.description, "from b");
	/* ... and a bound never narrows an unbounded side. */
	b.valid_from = 100;
	b.valid_until = 200;
	assert_int_equal(hl_indicator_merge(&a, &b), 0);
	assert_int_equal(a.valid_from, 0);
	assert_int_equal(a.valid_until, 0);
	hl_indicator_clear(&a);
	hl_indicator_clear(&b);
}

static void validity_window(void **state)
{
	(void)state;
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	assert_true(hl_indicator_valid_at(&ind, 0));
	assert_true(hl_indicator_valid_at(&ind, INT64_MAX));
	ind.valid_from = 100;
	ind.valid_until = 200;
	assert_false(hl_indicator_valid_at(&ind, 99));
	assert_true(hl_indicator_valid_at(&ind, 100));
	assert_true(hl_indicator_valid_at(&ind, 199));
	assert_false(hl_indicator_valid_at(&ind, 200));
}

static void names_round_trip(void **state)
{
	(void)state;
	enum hl_ind_type t;
	for (int i = 0; i < HL_IND_TYPE_COUNT; i++) {
		assert_int_equal(hl_ind_type_parse(hl_ind_type_name((enum hl_ind_type)i), &t), 0);
		assert_int_equal(t, i);
	}
	assert_string_equal(hl_ind_type_name(HL_IND_CONTENT), "content");
	assert_int_equal(hl_ind_type_parse("hash", &t), HL_EINVAL);

	static const struct {
		const char *in;
		enum hl_tlp out;
	} tlps[] = {
	        {"clear", HL_TLP_CLEAR},     {"WHITE", HL_TLP_CLEAR},
	        {"tlp:white", HL_TLP_CLEAR}, {"green", HL_TLP_GREEN},
	        {"TLP:AMBER", HL_TLP_AMBER}, {"amber+strict", HL_TLP_AMBER_STRICT},
	        {"Tlp:Red", HL_TLP_RED},
	};
	for (size_t i = 0; i < sizeof tlps / sizeof tlps[0]; i++) {
		enum hl_tlp tlp;
		assert_int_equal(hl_tlp_parse(tlps[i].in, &tlp), 0);
		assert_int_equal(tlp, tlps[i].out);
	}
	enum hl_tlp tlp;
	assert_int_equal(hl_tlp_parse("amber strict", &tlp), HL_EINVAL);
	assert_int_equal(hl_tlp_parse("tlp:", &tlp), HL_EINVAL);
	assert_string_equal(hl_tlp_name(HL_TLP_AMBER_STRICT), "amber+strict");
	assert_string_equal(hl_tlp_name(HL_TLP_CLEAR), "clear");

	enum hl_severity sev;
	assert_int_equal(hl_severity_parse("Critical", &sev), 0);
	assert_int_equal(sev, HL_SEV_CRITICAL);
	assert_int_equal(hl_severity_parse("severe", &sev), HL_EINVAL);
	assert_string_equal(hl_severity_name(HL_SEV_MEDIUM), "medium");
	assert_string_equal(hl_severity_name(HL_SEV_UNKNOWN), "unknown");
}

static void infer_types(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		enum hl_ind_type out;
	} cases[] = {
	        {"1.2.3.4", 0, HL_IND_IP},
	        {"10.0.0.0/8", 0, HL_IND_IP},
	        {"2001:db8::/32", 0, HL_IND_IP},
	        {"/admin.php", 0, HL_IND_URI},
	        {"http://example.com", 0, HL_IND_URL},
	        {"example.com/path", 0, HL_IND_URL},
	        {"1.2.3.4/path", 0, HL_IND_URL},
	        {"example.com", 0, HL_IND_DOMAIN},
	        {"*.Example.com.", 0, HL_IND_DOMAIN},
	        {"", HL_EINVAL, 0},
	        {"not a value", HL_EINVAL, 0},
	        {"10.0.0.1/8", HL_EINVAL, 0},
	        {"ftp://example.com/", HL_EINVAL, 0},
	        {"|0d0a|", HL_EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum hl_ind_type t = HL_IND_TYPE_COUNT;
		int rc = hl_ind_type_infer(cases[i].in, &t);
		if (rc != cases[i].rc)
			print_error("infer \"%s\": rc %d\n", cases[i].in, rc);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_int_equal(t, cases[i].out);
	}
}

static void content_decode_bytes(void **state)
{
	(void)state;
	uint8_t *bytes;
	size_t n;
	char why[128];
	assert_int_equal(hl_content_decode("A|00 ff|B", &bytes, &n, why, sizeof why), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(bytes,
	                    "A\x00\xff"
	                    "B",
	                    4);
	free(bytes);
	assert_int_equal(hl_content_decode("|", &bytes, &n, why, sizeof why), HL_EINVAL);
	assert_null(bytes);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(normalise_table),     cmocka_unit_test(normalise_length_limits),
	        cmocka_unit_test(normalise_metadata),  cmocka_unit_test(defaults_and_copy),
	        cmocka_unit_test(derive_id_is_stable), cmocka_unit_test(merge_rules),
	        cmocka_unit_test(validity_window),     cmocka_unit_test(names_round_trip),
	        cmocka_unit_test(infer_types),         cmocka_unit_test(content_decode_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
