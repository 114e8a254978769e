/* \summary: SHA-256 of bulk data through libcrypto (see sha256.h) */
#include "sha256.h"

#include <openssl/evp.h>
#include <sodium.h>

void hl_sha256(const void *data, size_t len, uint8_t out[HL_SHA256_BYTES])
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == HL_SHA256_BYTES)
		return;
	crypto_hash_sha256(out, data, len);
}
