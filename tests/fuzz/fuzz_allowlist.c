/* \summary: libFuzzer target: allowlist parsing (line format and MISP JSON)
 *
 * Parses the input into a fresh allowlist with a count-only diag, runs a
 * few lookups of every kind (including the stored entries themselves, which
 * must be found), and frees everything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/allowlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hl_allowlist_t *al = hl_allowlist_new();
	if (al == NULL)
		return 0;
	struct hl_diag diag = {0};
	/* An exact-size heap copy so ASan sees any read past the end. */
	char *copy = malloc(size > 0 ? size : 1);
	if (copy == NULL) {
		hl_allowlist_destroy(&al);
		return 0;
	}
	if (size > 0)
		memcpy(copy, data, size);
	hl_allowlist_parse_buffer(al, "fuzz", copy, size, &diag);

	size_t n = hl_allowlist_count(al);
	for (size_t i = 0; i < n && i < 64; i++) {
		enum hl_allow_kind kind;
		const char *value;
		if (hl_allowlist_entry(al, i, &kind, &value) != 0)
			abort();
		size_t len = strlen(value);
		/* What was stored must be found again. */
		if (kind == HL_ALLOW_EXACT && !hl_allowlist_has_string(al, value, len))
			abort();
		if (kind == HL_ALLOW_SUFFIX && !hl_allowlist_has_name(al, value, len))
			abort();
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		ind.type = kind == HL_ALLOW_CIDR ? HL_IND_IP : HL_IND_DOMAIN;
		ind.value = (char *)value;
		bool covered = hl_allowlist_covers(al, &ind);
		if (kind != HL_ALLOW_EXACT && !covered)
			abort();
		ind.value = NULL;
		hl_indicator_clear(&ind);
	}
	/* Canonical values are a fixed point: re-adding gives the same entry
	 * (the matcher copies and reloads allowlists this way). */
	hl_allowlist_t *again = hl_allowlist_new();
	for (size_t i = 0; again != NULL && i < n && i < 64; i++) {
		enum hl_allow_kind kind, kind2;
		const char *value, *value2;
		char why[128];
		if (hl_allowlist_entry(al, i, &kind, &value) != 0 ||
		    hl_allowlist_add(again, kind, value, why, sizeof why) != 0 ||
		    hl_allowlist_entry(again, i, &kind2, &value2) != 0 || kind2 != kind ||
		    strcmp(value, value2) != 0)
			abort();
	}
	hl_allowlist_destroy(&again);
	static const uint8_t v4[4] = {10, 1, 2, 3};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	(void)hl_allowlist_has_addr(al, 4, v4);
	(void)hl_allowlist_has_addr(al, 6, v6);
	(void)hl_allowlist_has_name(al, copy, size);
	(void)hl_allowlist_has_string(al, copy, size);
	free(copy);
	hl_allowlist_destroy(&al);
	return 0;
}
