/* \summary: content and regex indicators -> Hyperscan block and stream databases
 *
 * Every payload indicator becomes one expression of a single multi-pattern
 * database (Hyperscan id = indicator index), compiled twice: block mode for
 * datagrams, streaming mode for TCP directions. Content bytes are escaped
 * as \xNN so no byte is ever read as regex syntax; regexes get DOTALL so
 * '.' crosses line ends in binary payloads. SINGLEMATCH: an indicator is
 * reported once per scan or stream, which is all a sighting needs and
 * keeps Hyperscan from tracking further matches.
 *
 * One bad regex must not sink the set: when the multi compile fails, the
 * culprits are found (Hyperscan's own index, hs_expression_info, or by
 * compiling the patterns one by one), dropped with a diag error, and the
 * rest compiled again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "matcher_int.h"

#define DIAG_FILE "matcher"

struct pattern {
	char *expr;
	unsigned flags;
	size_t src; /* index into the caller's inds */
};

/* The pattern text and flags for one payload indicator: 0, HL_ENOMEM, or
 * HL_EINVAL with a reason. */
static int make_pattern(const struct hl_indicator *ind, char **expr, unsigned *flags, char *why,
                        size_t whylen)
{
	static const char hex[] = "0123456789abcdef";
	*expr = NULL;
	*flags = HS_FLAG_SINGLEMATCH | (ind->nocase ? HS_FLAG_CASELESS : 0);
	if (ind->type == HL_IND_REGEX) {
		*flags |= HS_FLAG_DOTALL;
		*expr = strdup(ind->value);
		return *expr != NULL ? 0 : HL_ENOMEM;
	}
	if (ind->type != HL_IND_CONTENT) {
		snprintf(why, whylen, "not a payload indicator");
		return HL_EINVAL;
	}
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc = hl_content_decode(ind->value, &bytes, &len, why, whylen);
	if (rc != 0)
		return rc == HL_ENOMEM ? HL_ENOMEM : HL_EINVAL;
	if (len == 0) {
		free(bytes);
		snprintf(why, whylen, "content decodes to no bytes");
		return HL_EINVAL;
	}
	char *p = malloc(len * 4 + 1);
	if (p == NULL) {
		free(bytes);
		return HL_ENOMEM;
	}
	for (size_t i = 0; i < len; i++) {
		p[i * 4] = '\\';
		p[i * 4 + 1] = 'x';
		p[i * 4 + 2] = hex[bytes[i] >> 4];
		p[i * 4 + 3] = hex[bytes[i] & 0xf];
	}
	p[len * 4] = '\0';
	free(bytes);
	*expr = p;
	return 0;
}

static void reject(struct hl_diag *diag, const struct hl_indicator *ind, const char *why)
{
	hl_diag_report(diag, HL_DIAG_ERROR, DIAG_FILE, 0, "indicator %s (%s): %s; left out",
	               ind->id != NULL ? ind->id : "(no id)", hl_ind_type_name(ind->type), why);
}

static void free_patterns(struct pattern *pats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pats[i].expr);
	free(pats);
}

/* Drop pats[k] (rejecting its indicator) keeping the order of the rest. */
static void drop(struct pattern *pats, size_t *n, size_t k, bool *rejected,
                 const struct hl_indicator *const *inds, const char *why, struct hl_diag *diag)
{
	reject(diag, inds[pats[k].src], why);
	rejected[pats[k].src] = true;
	free(pats[k].expr);
	memmove(pats + k, pats + k + 1, (*n - k - 1) * sizeof *pats);
	(*n)--;
}

/* Find the patterns that make a failed multi compile fail and drop them.
 * Returns how many were dropped. */
static size_t find_culprits(struct pattern *pats, size_t *n, unsigned mode, int failed_index,
                            bool *rejected, const struct hl_indicator *const *inds,
                            const char *multi_msg, struct hl_diag *diag)
{
	size_t dropped = 0;
	if (failed_index >= 0 && (size_t)failed_index < *n) {
		char why[512];
		snprintf(why, sizeof why, "Hyperscan: %s", multi_msg);
		drop(pats, n, (size_t)failed_index, rejected, inds, why, diag);
		dropped++;
		/* Syntax errors are cheap to find all at once; anything
		 * hs_expression_info misses shows up in the next round. */
		for (size_t k = 0; k < *n;) {
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *err = NULL;
			if (hs_expression_info(pats[k].expr, pats[k].flags, &info, &err) !=
			    HS_SUCCESS) {
				snprintf(why, sizeof why, "Hyperscan: %s",
				         err != NULL ? err->message : "?");
				hs_free_compile_error(err);
				drop(pats, n, k, rejected, inds, why, diag);
				dropped++;
				continue;
			}
			free(info);
			k++;
		}
		return dropped;
	}
	/* Not attributed to one expression: compile each alone. */
	for (size_t k = 0; k < *n;) {
		hs_database_t *db = NULL;
		hs_compile_error_t *err = NULL;
		if (hs_compile(pats[k].expr, pats[k].flags, mode, NULL, &db, &err) != HS_SUCCESS) {
			char why[512];
			snprintf(why, sizeof why, "Hyperscan: %s",
			         err != NULL ? err->message : "?");
			hs_free_compile_error(err);
			drop(pats, n, k, rejected, inds, why, diag);
			dropped++;
			continue;
		}
		hs_free_database(db);
		k++;
	}
	return dropped;
}

static int compile_mode(struct pattern *pats, size_t *n, uint32_t base, bool renumber,
                        unsigned mode, bool *rejected, const struct hl_indicator *const *inds,
                        hs_database_t **out, struct hl_diag *diag)
{
	*out = NULL;
	for (;;) {
		if (*n == 0)
			return 0;
		const char **exprs = malloc(*n * sizeof *exprs);
		unsigned *flags = malloc(*n * sizeof *flags);
		unsigned *ids = malloc(*n * sizeof *ids);
		if (exprs == NULL || flags == NULL || ids == NULL) {
			free(exprs);
			free(flags);
			free(ids);
			return HL_ENOMEM;
		}
		for (size_t k = 0; k < *n; k++) {
			exprs[k] = pats[k].expr;
			flags[k] = pats[k].flags;
			ids[k] = base + (uint32_t)(renumber ? k : pats[k].src);
		}
		hs_compile_error_t *err = NULL;
		hs_error_t rc =
		        hs_compile_multi(exprs, flags, ids, (unsigned)*n, mode, NULL, out, &err);
		free(exprs);
		free(flags);
		free(ids);
		if (rc == HS_SUCCESS)
			return 0;
		char msg[400];
		snprintf(msg, sizeof msg, "%s", err != NULL ? err->message : "compile failed");
		int index = err != NULL ? err->expression : -1;
		hs_free_compile_error(err);
		*out = NULL;
		if (rc == HS_NOMEM)
			return HL_ENOMEM;
		if (find_culprits(pats, n, mode, index, rejected, inds, msg, diag) == 0) {
			hl_diag_report(diag, HL_DIAG_ERROR, DIAG_FILE, 0,
			               "payload patterns fail together (%s)", msg);
			return HL_ECOMPILE;
		}
	}
}

int hl_matcher_hs_build(const struct hl_indicator *const *inds, size_t n, uint32_t base,
                        bool renumber, bool *rejected, hs_database_t **block,
                        hs_database_t **stream, struct hl_diag *diag)
{
	*block = NULL;
	*stream = NULL;
	if (n == 0)
		return 0;
	struct pattern *pats = calloc(n, sizeof *pats);
	if (pats == NULL)
		return HL_ENOMEM;
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		char why[256] = "";
		char *expr = NULL;
		unsigned flags = 0;
		int rc = make_pattern(inds[i], &expr, &flags, why, sizeof why);
		if (rc == HL_ENOMEM) {
			free_patterns(pats, np);
			return HL_ENOMEM;
		}
		if (rc != 0) {
			reject(diag, inds[i], why);
			rejected[i] = true;
			continue;
		}
		pats[np].expr = expr;
		pats[np].flags = flags;
		pats[np].src = i;
		np++;
	}

	/* A pattern can fail in streaming mode only; then the block database
	 * is built again so both hold the same patterns with the same ids. */
	int rc = 0;
	for (;;) {
		rc = compile_mode(pats, &np, base, renumber, HS_MODE_BLOCK, rejected, inds, block,
		                  diag);
		if (rc != 0)
			break;
		size_t in_block = np;
		rc = compile_mode(pats, &np, base, renumber, HS_MODE_STREAM, rejected, inds, stream,
		                  diag);
		if (rc != 0 || np == in_block)
			break;
		hs_free_database(*block);
		hs_free_database(*stream);
		*block = NULL;
		*stream = NULL;
	}
	if (rc != 0) {
		hs_free_database(*block);
		hs_free_database(*stream);
		*block = NULL;
		*stream = NULL;
	}
	free_patterns(pats, np);
	return rc;
}

size_t hl_matcher_hs_memory(const hl_matcher_t *m)
{
	size_t total = 0, size = 0;
	if (m->block_db != NULL && hs_database_size(m->block_db, &size) == HS_SUCCESS)
		total += size;
	if (m->stream_db != NULL && hs_database_size(m->stream_db, &size) == HS_SUCCESS)
		total += size;
	return total;
}
