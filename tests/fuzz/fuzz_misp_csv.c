/* \summary: libFuzzer target for the MISP CSV reader (hl_parse_misp_csv)
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

#include "fuzz/stix_round_trip.h"

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
	if (hl_parse_misp_csv("fuzz", (const char *)data, size, &opts, set, &diag) == 0)
		check_round_trip(set);
	hl_iset_destroy(&set);
	return 0;
}
