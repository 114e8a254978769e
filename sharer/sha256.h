/* \summary: SHA-256 of bulk data: sighting ids and audited message bodies
 *
 * libsodium's SHA-256 is portable C (about 0.4 GB/s here); libcrypto's
 * uses the CPU's SHA extensions (about 1.7 GB/s on a 100 KB body, 0.74 on
 * a 400-byte record, measured on this 2-core VM). A sharer hashes every
 * record two or three times (its id, the body it came in, the body it
 * leaves in), which was 15-18% of its CPU. Same algorithm, same digests:
 * small and incremental hashes (the audit row chain, key fingerprints)
 * stay with libsodium (docs/dependencies.md).
 */
#ifndef HOTLINE_SHARER_SHA256_H
#define HOTLINE_SHARER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HL_SHA256_BYTES 32

/* out = SHA-256(data[0..len)); falls back to libsodium should libcrypto
 * fail (no SHA-256 in its configured providers), so it always succeeds. */
void hl_sha256(const void *data, size_t len, uint8_t out[HL_SHA256_BYTES]);

#endif
