/* \summary: hotline-rules convert: indicator files -> native JSON lines or STIX 2.1 */
#include "tool.h"

#include <stdio.h>

#include "hotline/err.h"
#include "hotline/export.h"

static int run_convert(const struct tool_opts *o)
{
	if (!o->has_to) {
		tool_err(o, "--to native|stix is required");
		return TOOL_EXIT_USAGE;
	}
	struct tool_diag td;
	tool_diag_init(&td, o);
	struct tool_read_stats rs;
	hl_iset_t *set = tool_read_files(o, o->args, o->nargs, NULL, &td.diag, &rs);
	if (set == NULL) {
		tool_err(o, "out of memory");
		return TOOL_EXIT_FAIL;
	}
	if (rs.unreadable > 0 || (td.diag.errors > 0 && !o->keep_going)) {
		tool_err(o, "%lu errors; nothing written%s", td.diag.errors,
		         rs.unreadable > 0 ? "" : " (--keep-going converts the valid records)");
		hl_iset_destroy(&set);
		return TOOL_EXIT_FAIL;
	}
	hl_iset_sort(set);
	int exit_code = TOOL_EXIT_FAIL;
	FILE *out = tool_open_output(o, o->output);
	if (out != NULL) {
		int rc = o->to == HL_FMT_STIX ? hl_write_stix(out, set, o->now)
		                              : hl_write_native(out, set);
		if (rc < 0)
			tool_err(o, "writing %s failed: %s", hl_format_name(o->to),
			         hl_strerror(rc));
		if (tool_close_output(o, out, o->output) == 0 && rc == 0)
			exit_code = td.diag.errors > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
	}
	hl_iset_destroy(&set);
	return exit_code;
}

const struct tool_cmd tool_cmd_convert = {
        .name = "convert",
        .summary = "merge indicator files and write them as native JSON lines or STIX 2.1",
        .usage = "--to native|stix [OPTIONS] FILE... [-o OUT]",
        .help = "  --to FMT               native (JSON lines) or stix (a STIX 2.1 bundle)\n"
                "  -o, --output FILE      write there instead of stdout\n" HELP_INPUT
                "  --now RFC3339          STIX created/modified stamp (default: the clock)\n"
                "  --keep-going           write the valid records despite errors\n"
                "  -q, --quiet            errors only on stderr\n",
        .exits = "0 written; 1 errors in the input or nothing written; 2 usage error",
        .opts = OPT_FORMAT | OPT_SOURCE | OPT_TLP | OPT_NOW | OPT_QUIET | OPT_OUTPUT | OPT_TO |
                OPT_KEEP_GOING,
        .min_args = 1,
        .run = run_convert,
};
