/* \summary: matcher from indicator files or one .hlx (see setload.h) */
#include "hotline/setload.h"

#include <string.h>

#include "hotline/allowlist.h"
#include "hotline/err.h"
#include "hotline/iset.h"

void hl_setload_opts_init(struct hl_setload_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->format = HL_FMT_AUTO;
	opts->default_tlp = HL_TLP_AMBER;
}

static int load_compiled(const char *path, const struct hl_setload_opts *opts, hl_matcher_t **out,
                         struct hl_compile_stats *stats, struct hl_diag *diag)
{
	if (opts->n_allowlists > 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0,
		               "a compiled set carries the allowlist it was compiled with; "
		               "recompile it with the allowlist instead");
		return HL_EINVAL;
	}
	int rc = hl_matcher_load(path, out, diag);
	if (rc == 0 && stats != NULL) {
		memset(stats, 0, sizeof *stats);
		stats->total = stats->compiled = hl_matcher_count(*out);
		for (size_t i = 0; i < stats->compiled; i++)
			stats->by_type[hl_matcher_type(*out, (uint32_t)i)]++;
	}
	return rc;
}

int hl_set_load(const char *const *paths, size_t n_paths, const struct hl_setload_opts *opts,
                hl_matcher_t **out, struct hl_compile_stats *stats, struct hl_diag *diag)
{
	*out = NULL;
	if (n_paths == 0)
		return HL_EINVAL;
	for (size_t i = 0; i < n_paths; i++) {
		if (!hl_matcher_is_serialised(paths[i]))
			continue;
		if (n_paths > 1) {
			hl_diag_report(diag, HL_DIAG_ERROR, paths[i], 0,
			               "a compiled set cannot be combined with other files");
			return HL_EINVAL;
		}
		return load_compiled(paths[i], opts, out, stats, diag);
	}

	hl_iset_t *set = hl_iset_new();
	hl_allowlist_t *allow = opts->n_allowlists > 0 ? hl_allowlist_new() : NULL;
	int rc = set == NULL || (opts->n_allowlists > 0 && allow == NULL) ? HL_ENOMEM : 0;
	struct hl_parse_opts popts;
	hl_parse_opts_init(&popts);
	popts.format = opts->format;
	popts.default_source = opts->default_source;
	popts.default_tlp = opts->default_tlp;
	for (size_t i = 0; rc == 0 && i < n_paths; i++)
		rc = hl_parse_file(paths[i], &popts, set, diag);
	for (size_t i = 0; rc == 0 && i < opts->n_allowlists; i++)
		rc = hl_allowlist_parse_file(allow, opts->allowlists[i], diag);
	if (rc == 0) {
		struct hl_compile_opts copts = {.now = opts->now, .allowlist = allow};
		rc = hl_matcher_compile(set, &copts, out, stats, diag);
	}
	hl_allowlist_destroy(&allow);
	hl_iset_destroy(&set);
	return rc;
}
