/* \summary: hl_sha256 (libcrypto) gives SHA-256: FIPS 180-2 vectors and libsodium's digests */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sha256.h"

static void hex(const uint8_t d[HL_SHA256_BYTES], char out[2 * HL_SHA256_BYTES + 1])
{
	sodium_bin2hex(out, 2 * HL_SHA256_BYTES + 1, d, HL_SHA256_BYTES);
}

static void known_vectors(void **state)
{
	(void)state;
	uint8_t d[HL_SHA256_BYTES];
	char h[2 * HL_SHA256_BYTES + 1];
	hl_sha256("abc", 3, d);
	hex(d, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hl_sha256("", 0, d);
	hex(d, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hl_sha256(two, sizeof two - 1, d);
	hex(d, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Every length around the 64-byte block edges and a large body: the same
 * digests as libsodium's, which the stores written before used. */
static void same_as_libsodium(void **state)
{
	(void)state;
	size_t big = 300 * 1024;
	uint8_t *buf = malloc(big);
	assert_non_null(buf);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	uint8_t a[HL_SHA256_BYTES], b[crypto_hash_sha256_BYTES];
	for (size_t len = 0; len <= 200; len++) {
		hl_sha256(buf, len, a);
		crypto_hash_sha256(b, buf, len);
		assert_memory_equal(a, b, sizeof a);
	}
	hl_sha256(buf, big, a);
	crypto_hash_sha256(b, buf, big);
	assert_memory_equal(a, b, sizeof a);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(known_vectors),
	        cmocka_unit_test(same_as_libsodium),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
