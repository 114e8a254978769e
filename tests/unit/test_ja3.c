/* \summary: unit tests for the JA3 and JA4 fingerprints
 *
 * Expected values were derived apart from this code: the JA3 README's own
 * examples, the JA4 spec's own example, and for the others the strings
 * written out by hand and hashed with md5sum / sha256sum.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "extract_tls.h"
#include "ja3.h"

static size_t put16s(uint8_t *out, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (uint8_t)(v[i] >> 8);
		out[2 * i + 1] = (uint8_t)v[i];
	}
	return 2 * n;
}

/* An extension block of empty extensions of the given types. */
static size_t ext_block(uint8_t *out, const uint16_t *types, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[4 * i] = (uint8_t)(types[i] >> 8);
		out[4 * i + 1] = (uint8_t)types[i];
		out[4 * i + 2] = 0;
		out[4 * i + 3] = 0;
	}
	return 4 * n;
}

static void grease_values(void **state)
{
	(void)state;
	assert_true(hl_tls_is_grease(0x0a0a));
	assert_true(hl_tls_is_grease(0x5a5a));
	assert_true(hl_tls_is_grease(0xfafa));
	assert_false(hl_tls_is_grease(0x0a1a));
	assert_false(hl_tls_is_grease(0x1a0a));
	assert_false(hl_tls_is_grease(0x0000));
	assert_false(hl_tls_is_grease(0x1301));
}

/* The two examples of github.com/salesforce/ja3's README. */
static void ja3_readme_examples(void **state)
{
	(void)state;
	static const uint16_t ciphers[] = {47,    53,    5,  10, 49161, 49162,
	                                   49171, 49172, 50, 56, 19,    4};
	static const uint16_t exts[] = {0, 10, 11};
	static const uint16_t curves[] = {23, 24, 25};
	static const uint8_t formats[] = {0};
	uint8_t cb[64], eb[64], gb[16];
	struct hl_client_hello ch = {.version = 769};
	ch.ciphers = (struct hl_span){cb, put16s(cb, ciphers, 12)};
	ch.extensions = (struct hl_span){eb, ext_block(eb, exts, 3)};
	ch.groups = (struct hl_span){gb, put16s(gb, curves, 3)};
	ch.point_formats = (struct hl_span){formats, 1};
	struct hl_ja3 j;
	assert_int_equal(hl_ja3(&ch, &j), 0);
	assert_string_equal(j.str,
	                    "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
	assert_int_equal(j.len, strlen(j.str));
	assert_false(j.truncated);
	assert_string_equal(j.md5, "ada70206e40642a3e4461f35503241d5");

	static const uint16_t ciphers2[] = {4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99};
	struct hl_client_hello ch2 = {.version = 769};
	ch2.ciphers = (struct hl_span){cb, put16s(cb, ciphers2, 11)};
	assert_int_equal(hl_ja3(&ch2, &j), 0);
	assert_string_equal(j.str, "769,4-5-10-9-100-98-3-6-19-18-99,,,");
	assert_string_equal(j.md5, "de350869b8c85de67a350c8d186f11e6");
}

/* A string longer than HL_JA3_STR_MAX: a prefix kept, the MD5 of all. */
static void ja3_long_string(void **state)
{
	(void)state;
	uint16_t v[300];
	uint8_t cb[600];
	for (int i = 0; i < 300; i++)
		v[i] = 0x1301;
	struct hl_client_hello ch = {.version = 0x0303};
	ch.ciphers = (struct hl_span){cb, put16s(cb, v, 300)};
	struct hl_ja3 j;
	assert_int_equal(hl_ja3(&ch, &j), 0);
	assert_true(j.truncated);
	assert_int_equal(j.len, 4 + 300 * 5 - 1 + 3);
	assert_int_equal(strlen(j.str), HL_JA3_STR_MAX - 1);
	assert_memory_equal(j.str, "771,4865-4865-", 14);
	/* python3: hashlib.md5(("771," + "-".join(["4865"] * 300) + ",,,").encode()) */
	assert_string_equal(j.md5, "78bbb2c343f1e9886d12f86efb2e0501");
}

/* The example of github.com/FoxIO-LLC/ja4 technical_details/JA4.md. */
static void ja4_spec_example(void **state)
{
	(void)state;
	static const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
	                                   0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
	                                   0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t exts[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
	                                0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
	                                0xff01, 0x000b, 0x000a, 0x0015};
	static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503,
	                                0x0805, 0x0501, 0x0806, 0x0601};
	static const uint16_t vers[] = {0x0304, 0x0303};
	uint8_t cb[64], eb[128], sb[32], vb[8];
	struct hl_client_hello ch = {.version = 0x0303, .has_sni = true};
	ch.ciphers = (struct hl_span){cb, put16s(cb, ciphers, 15)};
	ch.extensions = (struct hl_span){eb, ext_block(eb, exts, 16)};
	ch.sig_algs = (struct hl_span){sb, put16s(sb, sigs, 8)};
	ch.versions = (struct hl_span){vb, put16s(vb, vers, 2)};
	ch.alpn = (struct hl_span){(const uint8_t *)"h2", 2};
	char ja4[HL_JA4_LEN + 1];
	assert_int_equal(hl_ja4(&ch, ja4), 0);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");

	/* without signature algorithms, no '_' before them (spec: 6d807ffa2a79) */
	ch.sig_algs = (struct hl_span){NULL, 0};
	assert_int_equal(hl_ja4(&ch, ja4), 0);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");

	/* ALPN: non-alphanumeric ends give hex digits; one byte is both ends */
	ch.alpn = (struct hl_span){(const uint8_t *)"\xab\x30\xcd", 3};
	assert_int_equal(hl_ja4(&ch, ja4), 0);
	assert_memory_equal(ja4, "t13d1516ad_", 11);
	ch.alpn = (struct hl_span){(const uint8_t *)"x", 1};
	assert_int_equal(hl_ja4(&ch, ja4), 0);
	assert_memory_equal(ja4, "t13d1516xx_", 11);
}

static void ja4_empty_and_versions(void **state)
{
	(void)state;
	struct hl_client_hello ch = {.version = 0x0301};
	char ja4[HL_JA4_LEN + 1];
	assert_int_equal(hl_ja4(&ch, ja4), 0);
	assert_string_equal(ja4, "t10i000000_000000000000_000000000000");
	ch.version = 0x0300;
	hl_ja4(&ch, ja4);
	assert_memory_equal(ja4, "ts3i", 4);
	ch.version = 0x7f00;
	hl_ja4(&ch, ja4);
	assert_memory_equal(ja4, "t00i", 4);
	/* supported_versions wins over legacy_version; GREASE never counts */
	static const uint16_t vers[] = {0x7a7a, 0x0303, 0x0302};
	uint8_t vb[8];
	ch.versions = (struct hl_span){vb, put16s(vb, vers, 3)};
	hl_ja4(&ch, ja4);
	assert_memory_equal(ja4, "t12i", 4);
	/* more than 99 ciphers show as 99 */
	uint16_t many[150];
	uint8_t cb[300];
	for (int i = 0; i < 150; i++)
		many[i] = (uint16_t)(0x0100 + i);
	ch.ciphers = (struct hl_span){cb, put16s(cb, many, 150)};
	hl_ja4(&ch, ja4);
	assert_memory_equal(ja4, "t12i9900", 8);
}

/* A real ClientHello (the example of the ja3-rustls crate's docs); its
 * JA3 string is the one those docs print. */
static const char real_hello_hex[] =
        "16030100f5010000f10303ad8e0c8dfe3adbc045e51aee4cb9480c02d5da4a240f95e8282a1f51be34901a"
        "20681af80b44c4b359adb3f9543a966e07e6ba6bed551472a62cd4b107cbd40e830014130213011303c02c"
        "c02bcca9c030c02fcca800ff01000094002b00050403040303000b00020100000a00080006001d00170018"
        "000d00140012050304030807080608050804060105010401001700000005000501000000000000001800"
        "160000137777772e706574616c7365617263682e636f6d00120000003300260024001d0020086fffef5fa7"
        "f04fb7d788615bc425820eba366ddb5f75c7d8336a0a05722d38002d0002010100230000";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char ch = hex[2 * i + (size_t)k];
			v = v << 4 | (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
	return n;
}

static void real_client_hello(void **state)
{
	(void)state;
	uint8_t rec[512];
	size_t n = unhex(real_hello_hex, rec, sizeof rec);
	struct hl_client_hello ch;
	assert_int_equal(hl_tls_parse_client_hello(rec + 9, n - 9, &ch), 0);
	assert_int_equal(ch.bad_extensions, 0);
	assert_true(ch.has_sni);
	assert_int_equal(ch.sni.len, 19);
	assert_memory_equal(ch.sni.p, "www.petalsearch.com", 19);
	struct hl_ja3 j;
	assert_int_equal(hl_ja3(&ch, &j), 0);
	assert_string_equal(j.str, "771,4866-4865-4867-49196-49195-52393-49200-49199-52392-255,"
	                           "43-11-10-13-23-5-0-18-51-45-35,29-23-24,0");
	assert_string_equal(j.md5, "a94fc11547bcef10847672ff518b3fb9");
	char ja4[HL_JA4_LEN + 1];
	assert_int_equal(hl_ja4(&ch, ja4), 0);
	assert_string_equal(ja4, "t13d101100_61a7ad8aa9b6_dc02626b439c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(grease_values),          cmocka_unit_test(ja3_readme_examples),
	        cmocka_unit_test(ja3_long_string),        cmocka_unit_test(ja4_spec_example),
	        cmocka_unit_test(ja4_empty_and_versions), cmocka_unit_test(real_client_hello),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
