/* \summary: shared by the indicator-reader fuzz targets: a set that was
 * accepted must survive the STIX writer exactly (written with
 * hl_write_stix() and read back, the hash is the same); a difference aborts,
 * so the fuzzer reports it like a crash.
 */
#ifndef HOTLINE_FUZZ_STIX_ROUND_TRIP_H
#define HOTLINE_FUZZ_STIX_ROUND_TRIP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/export.h"
#include "hotline/parse.h"

static void check_round_trip(const hl_iset_t *set)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return;
	int rc = hl_write_stix(f, set, 1700000000000000LL);
	if (fclose(f) != 0 || rc != 0) {
		free(text);
		return;
	}
	struct hl_diag diag = {0};
	hl_iset_t *back = hl_iset_new();
	uint8_t a[HL_SHA256_LEN], b[HL_SHA256_LEN];
	if (back != NULL && hl_parse_stix("round-trip", text, len, NULL, back, &diag) == 0 &&
	    hl_iset_hash(set, a) == 0 && hl_iset_hash(back, b) == 0 &&
	    (memcmp(a, b, sizeof a) != 0 || diag.errors + diag.skipped > 0))
		abort();
	hl_iset_destroy(&back);
	free(text);
}

#endif
