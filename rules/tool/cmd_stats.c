/* \summary: hotline-rules stats: what a set holds, by type, TLP, source... */
#include "tool.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/timefmt.h"

struct source_count {
	const char *name; /* borrowed from the set */
	size_t n;
};

struct stats {
	size_t total;
	size_t by_type[HL_IND_TYPE_COUNT];
	size_t by_tlp[HL_TLP_COUNT];
	size_t by_sev[HL_SEV_COUNT];
	struct source_count *sources;
	size_t n_sources;
	size_t bounded, expired, not_yet, allowlisted;
};

static int count_source(struct stats *st, const char *name)
{
	for (size_t i = 0; i < st->n_sources; i++)
		if (strcmp(st->sources[i].name, name) == 0) {
			st->sources[i].n++;
			return 0;
		}
	struct source_count *more = realloc(st->sources, (st->n_sources + 1) * sizeof *more);
	if (more == NULL)
		return -1;
	st->sources = more;
	st->sources[st->n_sources++] = (struct source_count){.name = name, .n = 1};
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct source_count *)a)->name,
	              ((const struct source_count *)b)->name);
}

static int gather(struct stats *st, const struct tool_set *s, int64_t now)
{
	const hl_allowlist_t *al = hl_matcher_allowlist(s->m);
	st->total = tool_set_count(s);
	for (size_t i = 0; i < st->total; i++) {
		const struct hl_indicator *ind = tool_set_at(s, i);
		/* The library validates these; a bad one is counted, not trusted. */
		if ((unsigned)ind->type < HL_IND_TYPE_COUNT)
			st->by_type[ind->type]++;
		if ((unsigned)ind->tlp < HL_TLP_COUNT)
			st->by_tlp[ind->tlp]++;
		if ((unsigned)ind->severity < HL_SEV_COUNT)
			st->by_sev[ind->severity]++;
		for (size_t j = 0; j < ind->sources.n; j++)
			if (count_source(st, ind->sources.v[j]) != 0)
				return -1;
		if (ind->sources.n == 0 && count_source(st, "(none)") != 0)
			return -1;
		st->bounded += ind->valid_from != 0 || ind->valid_until != 0;
		st->expired += tool_expired(ind, now);
		st->not_yet += ind->valid_from != 0 && ind->valid_from > now;
		st->allowlisted += al != NULL && hl_allowlist_covers(al, ind);
	}
	if (st->n_sources > 1)
		qsort(st->sources, st->n_sources, sizeof *st->sources, by_name);
	return 0;
}

static json_t *counts_json(const size_t *counts, int n, const char *(*name)(int), bool all)
{
	json_t *o = json_object();
	for (int i = 0; i < n; i++)
		if (all || counts[i] > 0)
			json_object_set_new(o, name(i), json_integer((json_int_t)counts[i]));
	return o;
}

static const char *type_name(int i)
{
	return hl_ind_type_name((enum hl_ind_type)i);
}
static const char *tlp_name(int i)
{
	return hl_tlp_name((enum hl_tlp)i);
}
static const char *sev_name(int i)
{
	return hl_severity_name((enum hl_severity)i);
}

static void print_counts(const char *label, const size_t *counts, int n, const char *(*name)(int),
                         bool all)
{
	printf("%-13s", label);
	const char *sep = "";
	for (int i = 0; i < n; i++)
		if (all || counts[i] > 0) {
			printf("%s %s %zu", sep, name(i), counts[i]);
			sep = ",";
		}
	printf("\n");
}

static void print_table(const struct tool_set *s, const struct stats *st, const char *hex,
                        const char *now)
{
	printf("set:          %s (%s)\n", s->name, s->hlx ? "compiled" : "indicator files");
	printf("version:      %llu\n", (unsigned long long)tool_set_version(s));
	printf("sha256:       %s\n", hex);
	printf("indicators:   %zu\n", st->total);
	print_counts("by type:", st->by_type, HL_IND_TYPE_COUNT, type_name, true);
	print_counts("by tlp:", st->by_tlp, HL_TLP_COUNT, tlp_name, false);
	print_counts("by severity:", st->by_sev, HL_SEV_COUNT, sev_name, false);
	printf("by source:   ");
	for (size_t i = 0; i < st->n_sources; i++)
		printf("%s %s %zu", i > 0 ? "," : "", st->sources[i].name, st->sources[i].n);
	printf("\n");
	printf("validity:     %zu bounded, %zu expired, %zu not yet valid (as of %s)\n",
	       st->bounded, st->expired, st->not_yet, now);
	printf("allowlisted:  %zu\n", st->allowlisted);
	printf("memory:       %zu bytes\n", hl_matcher_memory(s->m));
}

static int print_json(const struct tool_set *s, const struct stats *st, const char *hex,
                      const char *now)
{
	json_t *src = json_object();
	for (size_t i = 0; i < st->n_sources; i++)
		json_object_set_new(src, st->sources[i].name,
		                    json_integer((json_int_t)st->sources[i].n));
	json_t *root = json_pack(
	        "{s:s, s:s, s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:s}, s:I, s:I}",
	        "set", s->name, "kind", s->hlx ? "compiled" : "indicators", "version",
	        (json_int_t)tool_set_version(s), "sha256", hex, "indicators", (json_int_t)st->total,
	        "by_type", counts_json(st->by_type, HL_IND_TYPE_COUNT, type_name, true), "by_tlp",
	        counts_json(st->by_tlp, HL_TLP_COUNT, tlp_name, false), "by_severity",
	        counts_json(st->by_sev, HL_SEV_COUNT, sev_name, false), "by_source", src,
	        "validity", "bounded", (json_int_t)st->bounded, "expired", (json_int_t)st->expired,
	        "not_yet_valid", (json_int_t)st->not_yet, "as_of", now, "allowlisted",
	        (json_int_t)st->allowlisted, "memory_bytes", (json_int_t)hl_matcher_memory(s->m));
	if (root == NULL)
		return -1;
	int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(root);
	return rc;
}

static int run_stats(const struct tool_opts *o)
{
	struct tool_diag td;
	tool_diag_init(&td, o);
	struct tool_set s;
	if (tool_set_load(&s, o, o->args, o->nargs, true, &td.diag) != 0) {
		tool_set_clear(&s);
		return TOOL_EXIT_FAIL;
	}
	struct stats st;
	memset(&st, 0, sizeof st);
	char hex[HL_SHA256_HEX_LEN], now[HL_TIME_ISO_MAX];
	int rc = gather(&st, &s, o->now);
	tool_set_hash_hex(&s, hex);
	if (hl_time_format(o->now, now, sizeof now) != 0)
		snprintf(now, sizeof now, "?");
	if (rc == 0 && o->json)
		rc = print_json(&s, &st, hex, now);
	else if (rc == 0)
		print_table(&s, &st, hex, now);
	if (rc != 0)
		tool_err(o, "out of memory");
	free(st.sources);
	tool_set_clear(&s);
	return rc != 0 || td.diag.errors > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

const struct tool_cmd tool_cmd_stats = {
        .name = "stats",
        .summary = "counts by type, TLP, severity and source; validity, memory, hash",
        .usage = "[OPTIONS] SET.hlx | FILE...",
        .help = HELP_INPUT
        "  --allowlist FILE       compile indicator files with it (repeatable)\n" HELP_NOW
        "  --json                 one JSON object instead of the table\n",
        .exits = "0 ok; 1 the set cannot be loaded or has errors; 2 usage error",
        .opts = OPT_FORMAT | OPT_SOURCE | OPT_TLP | OPT_ALLOWLIST | OPT_NOW | OPT_JSON,
        .min_args = 1,
        .run = run_stats,
};
