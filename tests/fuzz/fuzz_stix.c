/* \summary: libFuzzer target for the STIX 2.1 reader (hl_parse_stix)
 *
 * Besides not crashing, whatever was accepted must survive the STIX writer
 * exactly: written with hl_write_stix() and read back, the set hash is the
 * same. A difference aborts, so the fuzzer reports it like a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/export.h"
#include "hotline/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_parse_opts opts;
	hl_parse_opts_init(&opts);
	opts.default_source = "fuzz";
	struct hl_diag diag = {0};
	hl_iset_t *set = hl_iset_new();
	if (set == NULL)
		return 0;
	if (hl_parse_stix("fuzz", (const char *)data, size, &opts, set, &diag) == 0)
		check_round_trip(set);
	hl_iset_destroy(&set);
	return 0;
}
