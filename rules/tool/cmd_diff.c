/* \summary: hotline-rules diff: indicators added, removed and changed between two sets */
#include "tool.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/timefmt.h"

enum field {
	F_TYPE,
	F_VALUE,
	F_TLP,
	F_CONFIDENCE,
	F_SEVERITY,
	F_VALIDITY,
	F_NOCASE,
	F_SOURCES,
	F_TAGS,
	F_DESCRIPTION,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
        "type",     "value",  "tlp",     "confidence", "severity",
        "validity", "nocase", "sources", "tags",       "description",
};

#define TEXT_MAX 16384

struct diff {
	const struct tool_opts *o;
	json_t *added, *removed, *changed; /* --json only */
	size_t n_added, n_removed, n_changed, n_same;
};

static const char *nz(const char *s)
{
	return s != NULL ? s : "";
}

static int by_id(const void *pa, const void *pb)
{
	const struct hl_indicator *a = *(const struct hl_indicator *const *)pa;
	const struct hl_indicator *b = *(const struct hl_indicator *const *)pb;
	int c = strcmp(nz(a->id), nz(b->id));
	if (c == 0)
		c = (int)a->type - (int)b->type;
	return c != 0 ? c : strcmp(nz(a->value), nz(b->value));
}

static const struct hl_indicator **sorted(const struct tool_set *s, size_t *n)
{
	*n = tool_set_count(s);
	const struct hl_indicator **v = calloc(*n > 0 ? *n : 1, sizeof *v);
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		v[i] = tool_set_at(s, i);
	qsort(v, *n, sizeof *v, by_id);
	return v;
}

static void time_text(int64_t us, char *buf, size_t len)
{
	if (us == 0 || hl_time_format(us, buf, len) != 0)
		snprintf(buf, len, "-");
}

static const char *field_text(const struct hl_indicator *ind, enum field f, char *buf, size_t len)
{
	char from[HL_TIME_ISO_MAX], until[HL_TIME_ISO_MAX];
	switch (f) {
	case F_TYPE:
		return hl_ind_type_name(ind->type);
	case F_VALUE:
		return nz(ind->value);
	case F_TLP:
		return hl_tlp_name(ind->tlp);
	case F_CONFIDENCE:
		if (ind->confidence == HL_CONFIDENCE_UNSET)
			return "-";
		snprintf(buf, len, "%d", ind->confidence);
		return buf;
	case F_SEVERITY:
		return hl_severity_name(ind->severity);
	case F_VALIDITY:
		time_text(ind->valid_from, from, sizeof from);
		time_text(ind->valid_until, until, sizeof until);
		snprintf(buf, len, "%s..%s", from, until);
		return buf;
	case F_NOCASE:
		return ind->nocase ? "true" : "false";
	case F_SOURCES:
		return tool_join(&ind->sources, buf, len);
	case F_TAGS:
		return tool_join(&ind->tags, buf, len);
	case F_DESCRIPTION:
		return ind->description != NULL ? ind->description : "-";
	case F_COUNT:
		break;
	}
	return "?";
}

static bool same_strv(const struct hl_strv *a, const struct hl_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!hl_strv_contains(b, a->v[i]))
			return false;
	return true;
}

static json_t *ind_json(const struct hl_indicator *ind)
{
	return json_pack("{s:s, s:s, s:s}", "id", nz(ind->id), "type", hl_ind_type_name(ind->type),
	                 "value", nz(ind->value));
}

static void one_side(struct diff *d, const struct hl_indicator *ind, bool added)
{
	if (added)
		d->n_added++;
	else
		d->n_removed++;
	if (d->o->quiet)
		return;
	if (d->o->json)
		json_array_append_new(added ? d->added : d->removed, ind_json(ind));
	else
		printf("%c %s %s %s\n", added ? '+' : '-', nz(ind->id), hl_ind_type_name(ind->type),
		       nz(ind->value));
}

static void compare(struct diff *d, const struct hl_indicator *a, const struct hl_indicator *b)
{
	char *ta = malloc(TEXT_MAX), *tb = malloc(TEXT_MAX);
	json_t *changes = d->o->json && !d->o->quiet ? json_object() : NULL;
	bool any = false;
	for (int f = 0; f < F_COUNT && ta != NULL && tb != NULL; f++) {
		const char *old = field_text(a, (enum field)f, ta, TEXT_MAX);
		const char *new = field_text(b, (enum field)f, tb, TEXT_MAX);
		/* Sources and tags are sets: order is not a change. */
		bool same = f == F_SOURCES ? same_strv(&a->sources, &b->sources)
		            : f == F_TAGS  ? same_strv(&a->tags, &b->tags)
		                           : strcmp(old, new) == 0;
		if (same)
			continue;
		any = true;
		if (changes != NULL)
			json_object_set_new(changes, field_names[f],
			                    json_pack("{s:s, s:s}", "old", old, "new", new));
		else if (!d->o->quiet)
			printf("~ %s %s: %s -> %s\n", nz(a->id), field_names[f], old, new);
	}
	if (any) {
		d->n_changed++;
		if (changes != NULL) {
			json_t *c = ind_json(b);
			json_object_set_new(c, "changes", changes);
			json_array_append_new(d->changed, c);
			changes = NULL;
		}
	} else {
		d->n_same++;
	}
	json_decref(changes);
	free(ta);
	free(tb);
}

static void walk(struct diff *d, const struct hl_indicator **a, size_t na,
                 const struct hl_indicator **b, size_t nb)
{
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(nz(a[i]->id), nz(b[j]->id));
		if (c < 0)
			one_side(d, a[i++], false);
		else if (c > 0)
			one_side(d, b[j++], true);
		else
			compare(d, a[i++], b[j++]);
	}
}

static void summary(const struct diff *d)
{
	if (d->o->quiet)
		return;
	if (!d->o->json) {
		printf("%zu added, %zu removed, %zu changed, %zu unchanged\n", d->n_added,
		       d->n_removed, d->n_changed, d->n_same);
		return;
	}
	json_t *root =
	        json_pack("{s:O, s:O, s:O, s:{s:I, s:I, s:I, s:I}}", "added", d->added, "removed",
	                  d->removed, "changed", d->changed, "summary", "added",
	                  (json_int_t)d->n_added, "removed", (json_int_t)d->n_removed, "changed",
	                  (json_int_t)d->n_changed, "unchanged", (json_int_t)d->n_same);
	if (root != NULL) {
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	}
	json_decref(root);
}

static int run_diff(const struct tool_opts *o)
{
	struct tool_diag td;
	tool_diag_init(&td, o);
	struct tool_set old, new;
	int bad = tool_set_load(&old, o, &o->args[0], 1, false, &td.diag);
	bad |= tool_set_load(&new, o, &o->args[1], 1, false, &td.diag);
	int rc = TOOL_EXIT_USAGE; /* trouble, as diff(1) */
	size_t na = 0, nb = 0;
	const struct hl_indicator **a = NULL, **b = NULL;
	if (bad || td.diag.errors > 0) {
		tool_err(o, "cannot compare: the sets did not load cleanly");
	} else if ((a = sorted(&old, &na)) == NULL || (b = sorted(&new, &nb)) == NULL) {
		tool_err(o, "out of memory");
	} else {
		struct diff d = {.o = o};
		d.added = json_array();
		d.removed = json_array();
		d.changed = json_array();
		walk(&d, a, na, b, nb);
		summary(&d);
		json_decref(d.added);
		json_decref(d.removed);
		json_decref(d.changed);
		rc = d.n_added + d.n_removed + d.n_changed > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
	}
	free(a);
	free(b);
	tool_set_clear(&old);
	tool_set_clear(&new);
	return rc;
}

const struct tool_cmd tool_cmd_diff = {
        .name = "diff",
        .summary = "list indicators added, removed and changed from OLD to NEW",
        .usage = "[OPTIONS] OLD NEW",
        .help = "  OLD, NEW               each one .hlx or one indicator file\n" HELP_INPUT
                "  --json                 one JSON object instead of lines\n"
                "  -q, --quiet            no output; the exit status tells\n",
        .exits = "0 the sets are the same; 1 they differ; 2 usage error or trouble",
        .opts = OPT_FORMAT | OPT_SOURCE | OPT_TLP | OPT_JSON | OPT_QUIET,
        .min_args = 2,
        .max_args = 2,
        .run = run_diff,
};
