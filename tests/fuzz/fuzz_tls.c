/* \summary: libFuzzer target: TLS ClientHello extraction over a client
 * stream split at a data-derived point, then byte-chunked, plus the bare
 * ClientHello parser and fingerprints on the raw input */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const struct hl_observation *obs)
{
	(void)ctx;
	if (obs->field != HL_FIELD_TLS_SNI || obs->len == 0 || obs->len > HL_TLS_SNI_MAX ||
	    obs->value[obs->len] != '\0')
		abort();
	return 0;
}

static int check_hello(void *ctx, const struct hl_tls_hello *h)
{
	(void)ctx;
	if (h->sni[h->sni_len] != '\0' || strlen(h->ja3.str) >= HL_JA3_STR_MAX ||
	    (h->ja3.md5[0] != '\0' && strlen(h->ja3.md5) != HL_JA3_MD5_HEX) ||
	    strlen(h->ja4) != HL_JA4_LEN)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_tls_state t;
	struct hl_tls_stats st = {0};
	hl_tls_init(&t);
	size_t cut = size >= 2 ? ((size_t)data[0] << 8 | data[1]) % (size + 1) : 0;
	hl_tls_feed(&t, data, cut, check, check_hello, NULL, &st);
	hl_tls_feed(&t, data + cut, size - cut, check, check_hello, NULL, &st);
	hl_tls_finish(&t, &st);

	size_t step = size > 0 ? (size_t)(data[size - 1] & 31) + 1 : 1;
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		hl_tls_feed(&t, data + off, n, check, check_hello, NULL, &st);
	}
	hl_tls_finish(&t, &st);

	/* the input as a bare ClientHello body after a record and handshake header */
	struct hl_client_hello ch;
	if (size > 9 && hl_tls_parse_client_hello(data + 9, size - 9, &ch) == 0) {
		struct hl_ja3 j;
		char ja4[HL_JA4_LEN + 1];
		hl_ja3(&ch, &j);
		if (hl_ja4(&ch, ja4) != 0 || strlen(ja4) != HL_JA4_LEN)
			abort();
	}
	return 0;
}
