/* \summary: libFuzzer target for the native indicator reader (hl_parse_native) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_parse_opts opts;
	hl_parse_opts_init(&opts);
	opts.default_source = "fuzz";
	struct hl_diag diag = {0};
	hl_iset_t *set = hl_iset_new();
	if (set == NULL)
		return 0;
	hl_parse_native("fuzz", (const char *)data, size, &opts, set, &diag);
	/* Canonical values are fixed points of normalisation. */
	for (size_t i = 0; i < hl_iset_count(set); i++) {
		struct hl_indicator again;
		hl_indicator_init(&again);
		if (hl_indicator_copy(&again, hl_iset_at(set, i)) != 0)
			continue;
		if (hl_indicator_normalise(&again, NULL, 0) != 0 ||
		    strcmp(again.value, hl_iset_at(set, i)->value) != 0)
			abort();
		hl_indicator_clear(&again);
	}
	/* Whatever was accepted must serialise and hash. */
	uint8_t digest[HL_SHA256_LEN];
	hl_iset_hash(set, digest);
	hl_iset_destroy(&set);
	return 0;
}
