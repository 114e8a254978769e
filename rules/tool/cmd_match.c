/* \summary: hotline-rules match: look one observation up in a set, as the sensor would */
#include "tool.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"

struct hits {
	uint32_t *idx;
	size_t n, cap;
	int oom;
};

static int on_match(void *ctx, const struct hl_match *match)
{
	struct hits *h = ctx;
	for (size_t i = 0; i < h->n; i++)
		if (h->idx[i] == match->indicator)
			return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		uint32_t *more = realloc(h->idx, cap * sizeof *more);
		if (more == NULL) {
			h->oom = 1;
			return 1;
		}
		h->idx = more;
		h->cap = cap;
	}
	h->idx[h->n++] = match->indicator;
	return 0;
}

/* "http://Host:80/p?q" -> "host/p?q": the form the sensor builds from a
 * request's Host and target. */
static size_t normalise_url(char *v, size_t len)
{
	const char *schemes[] = {"http://", "https://"};
	for (size_t i = 0; i < 2; i++) {
		size_t sl = strlen(schemes[i]);
		if (len >= sl && strncasecmp(v, schemes[i], sl) == 0) {
			memmove(v, v + sl, len - sl + 1);
			len -= sl;
			break;
		}
	}
	char *slash = memchr(v, '/', len);
	size_t host = slash != NULL ? (size_t)(slash - v) : len;
	char saved = v[host];
	size_t nh = hl_name_normalise(v, host);
	v[host] = saved;
	if (nh < host) {
		memmove(v + nh, v + host, len - host + 1);
		len -= host - nh;
	}
	return len;
}

static int lookup(const struct tool_opts *o, const hl_matcher_t *m, enum hl_field field,
                  struct hits *h)
{
	if (field == HL_FIELD_SRC_IP || field == HL_FIELD_DST_IP) {
		struct hl_cidr c;
		char why[128] = "";
		if (hl_cidr_parse(o->value, &c, why, sizeof why) != 0 ||
		    c.plen != (c.family == 4 ? 32u : 128u)) {
			tool_err(o, "--value '%s' is not an address%s%s", o->value,
			         why[0] ? ": " : "", why);
			return HL_EINVAL;
		}
		return hl_match_addr(m, field, c.family, c.addr, o->time, on_match, h);
	}
	size_t len = strlen(o->value);
	char *v = malloc(len + 1);
	if (v == NULL)
		return HL_ENOMEM;
	memcpy(v, o->value, len + 1);
	if (field == HL_FIELD_DNS_QUERY || field == HL_FIELD_HTTP_HOST || field == HL_FIELD_TLS_SNI)
		len = hl_name_normalise(v, len);
	else if (field == HL_FIELD_HTTP_URL)
		len = normalise_url(v, len);
	int rc = HL_ENOMEM;
	hl_scratch_t *s = hl_scratch_new(m);
	if (s != NULL)
		rc = hl_match_field(m, s, field, v, len, o->time, on_match, h);
	hl_scratch_destroy(&s);
	free(v);
	return rc;
}

static void print_hits(const struct tool_opts *o, const hl_matcher_t *m, const struct hits *h)
{
	char src[4096];
	json_t *arr = o->json ? json_array() : NULL;
	for (size_t i = 0; i < h->n; i++) {
		const struct hl_indicator *ind = hl_matcher_indicator(m, h->idx[i]);
		if (ind == NULL)
			continue;
		tool_join(&ind->sources, src, sizeof src);
		if (arr != NULL)
			json_array_append_new(
			        arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", ind->id, "type",
			                       hl_ind_type_name(ind->type), "value", ind->value,
			                       "tlp", hl_tlp_name(ind->tlp), "source", src));
		else
			printf("%s\t%s\t%s\t%s\t%s\n", ind->id, hl_ind_type_name(ind->type),
			       ind->value, hl_tlp_name(ind->tlp), src);
	}
	if (arr != NULL) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(arr);
	}
}

static int run_match(const struct tool_opts *o)
{
	enum hl_field field;
	if (o->field == NULL || o->value == NULL) {
		tool_err(o, "--field and --value are required");
		return TOOL_EXIT_USAGE;
	}
	if (hl_field_parse(o->field, &field) != 0) {
		tool_err(o,
		         "unknown field '%s' (dns.query http.host tls.sni http.url http.uri "
		         "src_ip dst_ip tcp.payload udp.payload)",
		         o->field);
		return TOOL_EXIT_USAGE;
	}
	struct tool_diag td;
	tool_diag_init(&td, o);
	struct tool_set s;
	int rc = TOOL_EXIT_USAGE; /* trouble, as grep(1) */
	if (tool_set_load(&s, o, o->args, o->nargs, true, &td.diag) != 0 || td.diag.errors > 0) {
		tool_err(o, "the set did not load cleanly");
	} else {
		struct hits h = {0};
		int n = lookup(o, s.m, field, &h);
		if (n < 0 || h.oom) {
			if (n != HL_EINVAL)
				tool_err(o, "match failed: %s", hl_strerror(h.oom ? HL_ENOMEM : n));
		} else {
			if (!o->quiet)
				print_hits(o, s.m, &h);
			rc = h.n > 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
		}
		free(h.idx);
	}
	tool_set_clear(&s);
	return rc;
}

const struct tool_cmd tool_cmd_match = {
        .name = "match",
        .summary = "look one observation up in a set and print the matching indicators",
        .usage = "[OPTIONS] SET.hlx | FILE... --field FIELD --value VALUE",
        .help = "  --field FIELD          dns.query http.host tls.sni http.url http.uri src_ip\n"
                "                         dst_ip tcp.payload udp.payload\n"
                "  --value VALUE          the observation (payload fields: its bytes)\n"
                "  --time RFC3339         when it was observed (default: --now)\n" HELP_NOW
                        HELP_INPUT "  --allowlist FILE       compile indicator files with it\n"
                "  --json                 a JSON array instead of lines\n"
                "  -q, --quiet            no output; the exit status tells\n",
        .exits = "0 something matched; 1 nothing matched; 2 usage error or trouble",
        .opts = OPT_FORMAT | OPT_SOURCE | OPT_TLP | OPT_ALLOWLIST | OPT_NOW | OPT_TIME | OPT_FIELD |
                OPT_VALUE | OPT_JSON | OPT_QUIET,
        .min_args = 1,
        .run = run_match,
};
