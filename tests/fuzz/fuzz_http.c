/* \summary: libFuzzer target: HTTP extraction over a client stream split at
 * a data-derived point, then byte-chunked */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "extract_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const struct hl_observation *obs)
{
	(void)ctx;
	if (obs->len == 0 || obs->value[obs->len] != '\0')
		abort();
	switch (obs->field) {
	case HL_FIELD_HTTP_HOST:
		for (size_t i = 0; i < obs->len; i++) {
			if (obs->value[i] >= 'A' && obs->value[i] <= 'Z')
				abort();
		}
		break;
	case HL_FIELD_HTTP_URI:
		if (obs->value[0] != '/')
			abort();
		break;
	case HL_FIELD_HTTP_URL:
		if (obs->value[0] == '/')
			abort();
		break;
	default:
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_http_stats st = {0};
	struct hl_http_state h;
	hl_http_init(&h);
	size_t cut = size >= 2 ? ((size_t)data[0] << 8 | data[1]) % (size + 1) : 0;
	hl_http_feed(&h, data, cut, check, NULL, &st);
	hl_http_feed(&h, data + cut, size - cut, check, NULL, &st);
	hl_http_finish(&h, &st);

	size_t step = size > 0 ? (size_t)(data[size - 1] & 15) + 1 : 1;
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		hl_http_feed(&h, data + off, n, check, NULL, &st);
	}
	hl_http_finish(&h, &st);
	return 0;
}
