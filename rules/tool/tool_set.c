/* \summary: hotline-rules input loading: indicator files, allowlists, sets */
#include "tool.h"

#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

/* A library call that fails as a whole may or may not have said why
 * through diag; say it once. */
static void report_failure(struct hl_diag *diag, unsigned long errors_before, const char *path,
                           const char *what, int rc)
{
	if (diag->errors == errors_before)
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "%s: %s", what, hl_strerror(rc));
}

hl_allowlist_t *tool_load_allowlist(const struct tool_opts *opts, struct hl_diag *diag,
                                    bool *failed)
{
	*failed = false;
	if (opts->n_allowlists == 0)
		return NULL;
	hl_allowlist_t *al = hl_allowlist_new();
	if (al == NULL) {
		tool_err(opts, "out of memory");
		*failed = true;
		return NULL;
	}
	for (size_t i = 0; i < opts->n_allowlists; i++) {
		unsigned long before = diag->errors;
		int rc = hl_allowlist_parse_file(al, opts->allowlists[i], diag);
		if (rc < 0) {
			report_failure(diag, before, opts->allowlists[i], "cannot read allowlist",
			               rc);
			*failed = true;
		}
	}
	if (*failed)
		hl_allowlist_destroy(&al);
	return al;
}

/* stdin as one buffer, so that "-" works in a pipe. */
static int parse_stdin(const struct hl_parse_opts *po, hl_iset_t *out, struct hl_diag *diag)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		return HL_ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= (size_t)HL_PARSE_MAX_INPUT) {
				free(buf);
				return HL_ELIMIT;
			}
			char *bigger = realloc(buf, cap * 2);
			if (bigger == NULL) {
				free(buf);
				return HL_ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, stdin);
		len += n;
		if (n == 0)
			break;
	}
	int rc = ferror(stdin) ? HL_EIO : hl_parse_buffer("<stdin>", buf, len, po, out, diag);
	free(buf);
	return rc;
}

static int merge_into(hl_iset_t *total, const hl_iset_t *one)
{
	for (size_t i = 0; i < hl_iset_count(one); i++) {
		struct hl_indicator copy;
		hl_indicator_init(&copy);
		int rc = hl_indicator_copy(&copy, hl_iset_at(one, i));
		if (rc == 0)
			rc = hl_iset_add(total, &copy, NULL);
		else
			hl_indicator_clear(&copy);
		if (rc < 0)
			return rc;
	}
	if (hl_iset_version(one) > hl_iset_version(total))
		hl_iset_set_version(total, hl_iset_version(one));
	return 0;
}

static void warn_allowlisted(const hl_iset_t *one, const hl_allowlist_t *al, const char *path,
                             struct hl_diag *diag)
{
	for (size_t i = 0; i < hl_iset_count(one); i++) {
		const struct hl_indicator *ind = hl_iset_at(one, i);
		if (hl_allowlist_covers(al, ind))
			hl_diag_report(diag, HL_DIAG_WARNING, path, 0,
			               "%s %s %s is allowlisted whole and can never match", ind->id,
			               hl_ind_type_name(ind->type), ind->value);
	}
}

hl_iset_t *tool_read_files(const struct tool_opts *opts, char *const *files, size_t n,
                           const hl_allowlist_t *al, struct hl_diag *diag,
                           struct tool_read_stats *rs)
{
	memset(rs, 0, sizeof *rs);
	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	po.format = opts->format;
	po.default_source = opts->source;
	po.default_tlp = opts->tlp;
	po.now = opts->now;

	hl_iset_t *total = hl_iset_new();
	if (total == NULL)
		return NULL;
	for (size_t f = 0; f < n; f++) {
		const char *path = files[f];
		bool is_stdin = strcmp(path, "-") == 0;
		rs->files++;
		if (!is_stdin && hl_matcher_is_serialised(path)) {
			hl_diag_report(diag, HL_DIAG_ERROR, path, 0,
			               "a compiled set (.hlx) cannot be read as indicators here");
			rs->unreadable++;
			continue;
		}
		hl_iset_t *one = hl_iset_new();
		if (one == NULL) {
			hl_iset_destroy(&total);
			return NULL;
		}
		unsigned long before = diag->errors;
		int rc = is_stdin ? parse_stdin(&po, one, diag)
		                  : hl_parse_file(path, &po, one, diag);
		if (rc < 0) {
			report_failure(diag, before, is_stdin ? "<stdin>" : path, "cannot read",
			               rc);
			rs->unreadable++;
		}
		rs->records += hl_iset_count(one);
		if (al != NULL)
			warn_allowlisted(one, al, is_stdin ? "<stdin>" : path, diag);
		if (hl_iset_count(total) == 0 && hl_iset_version(total) == 0) {
			/* The first set read is the total as it stands: taken
			 * whole, not copied (a copy held a large set twice). */
			hl_iset_destroy(&total);
			total = one;
			one = NULL;
			rc = 0;
		} else {
			rc = merge_into(total, one);
		}
		hl_iset_destroy(&one);
		if (rc < 0) {
			hl_iset_destroy(&total);
			return NULL;
		}
	}
	return total;
}

static int load_hlx(struct tool_set *s, const struct tool_opts *opts, const char *path,
                    struct hl_diag *diag)
{
	unsigned long before = diag->errors;
	int rc = hl_matcher_load(path, &s->m, diag);
	if (rc < 0) {
		report_failure(diag, before, path, "cannot load compiled set", rc);
		return 1;
	}
	s->hlx = true;
	if (opts->n_allowlists > 0)
		hl_diag_report(diag, HL_DIAG_NOTE, path, 0,
		               "--allowlist ignored: a compiled set carries its own");
	return 0;
}

int tool_set_load(struct tool_set *s, const struct tool_opts *opts, char *const *files, size_t n,
                  bool need_matcher, struct hl_diag *diag)
{
	memset(s, 0, sizeof *s);
	s->name = n > 0 ? files[0] : "";
	for (size_t i = 0; i < n; i++) {
		if (strcmp(files[i], "-") != 0 && hl_matcher_is_serialised(files[i])) {
			if (n != 1) {
				tool_err(opts, "%s: a compiled set (.hlx) must be given alone",
				         files[i]);
				return 1;
			}
			return load_hlx(s, opts, files[0], diag);
		}
	}
	bool failed = false;
	hl_allowlist_t *al = tool_load_allowlist(opts, diag, &failed);
	if (failed)
		return 1;
	struct tool_read_stats rs;
	s->iset = tool_read_files(opts, files, n, NULL, diag, &rs);
	if (s->iset == NULL || rs.unreadable > 0) {
		if (s->iset == NULL)
			tool_err(opts, "out of memory");
		hl_allowlist_destroy(&al);
		return 1;
	}
	int rc = 0;
	if (need_matcher) {
		/* Keep expired indicators: a set is judged at the time asked
		 * (match --time, stats --now), not at load time. */
		struct hl_compile_opts co = {.now = 0, .allowlist = al};
		struct hl_compile_stats cs;
		unsigned long before = diag->errors;
		rc = hl_matcher_compile(s->iset, &co, &s->m, &cs, diag);
		if (rc < 0) {
			report_failure(diag, before, s->name, "compile failed", rc);
			rc = 1;
		}
	}
	hl_allowlist_destroy(&al);
	return rc;
}

size_t tool_set_count(const struct tool_set *s)
{
	return s->iset != NULL ? hl_iset_count(s->iset) : hl_matcher_count(s->m);
}

const struct hl_indicator *tool_set_at(const struct tool_set *s, size_t i)
{
	return s->iset != NULL ? hl_iset_at(s->iset, i) : hl_matcher_indicator(s->m, (uint32_t)i);
}

void tool_set_hash_hex(const struct tool_set *s, char out[HL_SHA256_HEX_LEN])
{
	uint8_t h[HL_SHA256_LEN];
	if (s->iset != NULL) {
		if (hl_iset_hash(s->iset, h) != 0)
			memset(h, 0, sizeof h);
	} else {
		hl_matcher_hash(s->m, h);
	}
	hl_hex(h, sizeof h, out);
}

uint64_t tool_set_version(const struct tool_set *s)
{
	return s->iset != NULL ? hl_iset_version(s->iset) : hl_matcher_version(s->m);
}

void tool_set_clear(struct tool_set *s)
{
	hl_iset_destroy(&s->iset);
	hl_matcher_destroy(&s->m);
}
