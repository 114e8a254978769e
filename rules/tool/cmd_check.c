/* \summary: hotline-rules check: parse indicator files and report problems */
#include "tool.h"

static int run_check(const struct tool_opts *o)
{
	struct tool_diag td;
	tool_diag_init(&td, o);
	bool failed = false;
	hl_allowlist_t *al = tool_load_allowlist(o, &td.diag, &failed);
	struct tool_read_stats rs;
	hl_iset_t *set = tool_read_files(o, o->args, o->nargs, al, &td.diag, &rs);
	hl_allowlist_destroy(&al);
	if (set == NULL) {
		tool_err(o, "out of memory");
		return TOOL_EXIT_FAIL;
	}
	size_t expired = 0;
	for (size_t i = 0; i < hl_iset_count(set); i++)
		if (tool_expired(hl_iset_at(set, i), o->now))
			expired++;
	uint8_t hash[HL_SHA256_LEN];
	char hex[HL_SHA256_HEX_LEN] = "";
	if (hl_iset_hash(set, hash) == 0)
		hl_hex(hash, sizeof hash, hex);
	if (!o->quiet) {
		printf("%zu indicators (%zu after merge) from %zu files: %lu errors, %lu warnings, "
		       "%lu skipped, %zu expired\n",
		       rs.records, hl_iset_count(set), rs.files, td.diag.errors, td.diag.warnings,
		       td.diag.skipped, expired);
		printf("sha256 %s\n", hex);
	}
	hl_iset_destroy(&set);
	return td.diag.errors > 0 || failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

const struct tool_cmd tool_cmd_check = {
        .name = "check",
        .summary = "parse indicator files and report errors, warnings and skipped records",
        .usage = "[OPTIONS] FILE...",
        .help = HELP_INPUT
        "  --allowlist FILE       warn for indicators it swallows whole (repeatable)\n" HELP_NOW
        "  -q, --quiet            errors only; no summary\n",
        .exits = "0 no errors; 1 errors in the input; 2 usage error",
        .opts = OPT_FORMAT | OPT_SOURCE | OPT_TLP | OPT_ALLOWLIST | OPT_NOW | OPT_QUIET,
        .min_args = 1,
        .run = run_check,
};
