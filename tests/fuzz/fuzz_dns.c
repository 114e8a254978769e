/* \summary: libFuzzer target: DNS extraction, as a datagram and as a TCP
 * stream split at a data-derived point and in small chunks */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "extract_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const struct hl_observation *obs)
{
	(void)ctx;
	if (obs->field != HL_FIELD_DNS_QUERY || obs->len == 0 || obs->len > HL_DNS_NAME_MAX ||
	    obs->value[obs->len] != '\0')
		abort();
	for (size_t i = 0; i < obs->len; i++) {
		if (obs->value[i] >= 'A' && obs->value[i] <= 'Z')
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_dns_stats st = {0};
	hl_dns_parse(data, size, check, NULL, &st);

	struct hl_dns_tcp t;
	hl_dns_tcp_init(&t);
	size_t cut = size >= 2 ? ((size_t)data[0] << 8 | data[1]) % (size + 1) : 0;
	hl_dns_tcp_feed(&t, data, cut, check, NULL, &st);
	hl_dns_tcp_feed(&t, data + cut, size - cut, check, NULL, &st);
	hl_dns_tcp_finish(&t, &st);

	size_t step = size > 0 ? (size_t)(data[size - 1] & 7) + 1 : 1;
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		hl_dns_tcp_feed(&t, data + off, n, check, NULL, &st);
	}
	hl_dns_tcp_finish(&t, &st);
	return 0;
}
