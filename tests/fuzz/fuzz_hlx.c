/* \summary: fuzz target: hl_matcher_load_buffer on arbitrary .hlx bytes
 *
 * The input is loaded twice: as given (the header and checksum checks),
 * and resealed - its length field and trailing BLAKE2b-256 recomputed - so
 * that mutations reach the section and record parsers behind the checksum
 * instead of all dying at it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hotline/matcher.h"

#define HLX_HEADER_LEN 72
#define HLX_TRAILER_LEN 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_load(const uint8_t *data, size_t size)
{
	hl_matcher_t *m = NULL;
	struct hl_diag diag = {0};
	if (hl_matcher_load_buffer(data, size, "fuzz.hlx", &m, &diag) != 0)
		return;
	/* Whatever loads must be safe to match with. */
	hl_scratch_t *s = hl_scratch_new(m);
	static const char payload[] = "GET / HTTP/1.1\r\nHost: www.evil.example\r\n\r\n";
	static const uint8_t addr[16] = {10, 1, 2, 3};
	hl_match_field(m, s, HL_FIELD_DNS_QUERY, "www.evil.example", 16, 1, NULL, NULL);
	hl_match_field(m, s, HL_FIELD_HTTP_URL, "evil.example/a?b", 16, 1, NULL, NULL);
	hl_match_field(m, s, HL_FIELD_TCP_PAYLOAD, payload, sizeof payload - 1, 1, NULL, NULL);
	hl_match_addr(m, HL_FIELD_DST_IP, 4, addr, 1, NULL, NULL);
	hl_match_addr(m, HL_FIELD_DST_IP, 6, addr, 1, NULL, NULL);
	hl_scratch_destroy(&s);
	hl_matcher_destroy(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copies, so any over-read lands outside the allocation. */
	uint8_t *copy = calloc(1, size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	try_load(copy, size);
	if (size >= HLX_HEADER_LEN + HLX_TRAILER_LEN) {
		for (size_t i = 0; i < 8; i++)
			copy[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
		crypto_generichash(copy + size - HLX_TRAILER_LEN, HLX_TRAILER_LEN, copy,
		                   size - HLX_TRAILER_LEN, NULL, 0);
		try_load(copy, size);
	}
	free(copy);
	return 0;
}
