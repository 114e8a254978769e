/* \summary: hotline-rules compile: indicator files -> compiled set (.hlx) */
#include "tool.h"

#include <string.h>

#include "hotline/err.h"

static void print_report(const struct tool_opts *o, const hl_matcher_t *m,
                         const struct hl_compile_stats *cs, double seconds)
{
	uint8_t hash[HL_SHA256_LEN];
	char hex[HL_SHA256_HEX_LEN];
	hl_matcher_hash(m, hash);
	hl_hex(hash, sizeof hash, hex);
	printf("output:       %s\n", o->output);
	printf("indicators:   %zu in, %zu compiled\n", cs->total, cs->compiled);
	printf("by type:     ");
	for (int t = 0; t < HL_IND_TYPE_COUNT; t++)
		printf(" %s %zu%s", hl_ind_type_name((enum hl_ind_type)t), cs->by_type[t],
		       t + 1 < HL_IND_TYPE_COUNT ? "," : "\n");
	printf("expired:      %zu\n", cs->expired);
	printf("allowlisted:  %zu\n", cs->allowlisted);
	printf("rejected:     %zu\n", cs->rejected);
	printf("compile time: %.3f s\n", seconds);
	printf("memory:       %zu bytes\n", hl_matcher_memory(m));
	printf("version:      %llu\n", (unsigned long long)hl_matcher_version(m));
	printf("sha256:       %s\n", hex);
}

static int compile_and_save(const struct tool_opts *o, const hl_iset_t *set,
                            const hl_allowlist_t *al, struct hl_diag *diag)
{
	struct hl_compile_opts co = {.now = o->now, .allowlist = al};
	struct hl_compile_stats cs;
	memset(&cs, 0, sizeof cs);
	hl_matcher_t *m = NULL;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	unsigned long before = diag->errors;
	int rc = hl_matcher_compile(set, &co, &m, &cs, diag);
	double seconds = tool_seconds_since(&start);
	if (rc < 0) {
		if (diag->errors == before)
			tool_err(o, "compile failed: %s", hl_strerror(rc));
		return TOOL_EXIT_FAIL;
	}
	if (cs.rejected > 0 && !o->keep_going) {
		tool_err(o,
		         "%zu indicators rejected; nothing written (--keep-going writes the rest)",
		         cs.rejected);
		hl_matcher_destroy(&m);
		return TOOL_EXIT_FAIL;
	}
	if (o->has_set_version)
		hl_matcher_set_version(m, o->set_version);
	rc = hl_matcher_save(m, o->output);
	if (rc < 0) {
		tool_err(o, "%s: cannot save: %s", o->output, hl_strerror(rc));
		hl_matcher_destroy(&m);
		return TOOL_EXIT_FAIL;
	}
	if (!o->quiet)
		print_report(o, m, &cs, seconds);
	hl_matcher_destroy(&m);
	return TOOL_EXIT_OK;
}

static int run_compile(const struct tool_opts *o)
{
	if (o->output == NULL || strcmp(o->output, "-") == 0) {
		tool_err(o, "-o FILE is required (the .hlx to write)");
		return TOOL_EXIT_USAGE;
	}
	struct tool_diag td;
	tool_diag_init(&td, o);
	bool failed = false;
	hl_allowlist_t *al = tool_load_allowlist(o, &td.diag, &failed);
	if (failed)
		return TOOL_EXIT_FAIL;
	struct tool_read_stats rs;
	hl_iset_t *set = tool_read_files(o, o->args, o->nargs, NULL, &td.diag, &rs);
	int rc = TOOL_EXIT_FAIL;
	if (set == NULL) {
		tool_err(o, "out of memory");
	} else if (rs.unreadable > 0 || (td.diag.errors > 0 && !o->keep_going)) {
		tool_err(o, "%lu errors; nothing written%s", td.diag.errors,
		         rs.unreadable > 0 ? "" : " (--keep-going compiles the valid records)");
	} else {
		rc = compile_and_save(o, set, al, &td.diag);
		/* Like make -k: the output is written, the status still tells. */
		if (rc == TOOL_EXIT_OK && td.diag.errors > 0)
			rc = TOOL_EXIT_FAIL;
	}
	hl_iset_destroy(&set);
	hl_allowlist_destroy(&al);
	return rc;
}

const struct tool_cmd tool_cmd_compile = {
        .name = "compile",
        .summary = "compile indicator files into a matcher set (.hlx)",
        .usage = "[OPTIONS] -o OUT.hlx FILE...",
        .help = "  -o, --output FILE      the .hlx to write (required)\n" HELP_INPUT
                "  --allowlist FILE       values never reported (repeatable)\n"
                "  --now RFC3339          leave out indicators expired by then (default: the "
                "clock)\n"
                "  --set-version N        stamp the set with version N\n"
                "  --keep-going           compile the valid records despite errors\n"
                "  -q, --quiet            no report\n",
        .exits = "0 written; 1 errors in the input or nothing written; 2 usage error",
        .opts = OPT_FORMAT | OPT_SOURCE | OPT_TLP | OPT_ALLOWLIST | OPT_NOW | OPT_QUIET |
                OPT_OUTPUT | OPT_SET_VERSION | OPT_KEEP_GOING,
        .min_args = 1,
        .run = run_compile,
};
