/* \summary: hotline-rules common options, diagnostics and output helpers */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/timefmt.h"

enum {
	LONG_FORMAT = 256,
	LONG_SOURCE,
	LONG_ALLOWLIST,
	LONG_NOW,
	LONG_SET_VERSION,
	LONG_KEEP_GOING,
	LONG_JSON,
	LONG_TO,
	LONG_FIELD,
	LONG_VALUE,
	LONG_TIME,
	LONG_TLP,
};

static const struct option long_options[] = {
        {"format", required_argument, NULL, LONG_FORMAT},
        {"source", required_argument, NULL, LONG_SOURCE},
        {"allowlist", required_argument, NULL, LONG_ALLOWLIST},
        {"now", required_argument, NULL, LONG_NOW},
        {"quiet", no_argument, NULL, 'q'},
        {"output", required_argument, NULL, 'o'},
        {"set-version", required_argument, NULL, LONG_SET_VERSION},
        {"keep-going", no_argument, NULL, LONG_KEEP_GOING},
        {"json", no_argument, NULL, LONG_JSON},
        {"to", required_argument, NULL, LONG_TO},
        {"field", required_argument, NULL, LONG_FIELD},
        {"value", required_argument, NULL, LONG_VALUE},
        {"time", required_argument, NULL, LONG_TIME},
        {"tlp", required_argument, NULL, LONG_TLP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* Which OPT_* flag an option code needs; 0 for options every command has. */
static unsigned option_flag(int code)
{
	switch (code) {
	case LONG_FORMAT:
		return OPT_FORMAT;
	case LONG_SOURCE:
		return OPT_SOURCE;
	case LONG_ALLOWLIST:
		return OPT_ALLOWLIST;
	case LONG_NOW:
		return OPT_NOW;
	case 'q':
		return OPT_QUIET;
	case 'o':
		return OPT_OUTPUT;
	case LONG_SET_VERSION:
		return OPT_SET_VERSION;
	case LONG_KEEP_GOING:
		return OPT_KEEP_GOING;
	case LONG_JSON:
		return OPT_JSON;
	case LONG_TO:
		return OPT_TO;
	case LONG_FIELD:
		return OPT_FIELD;
	case LONG_VALUE:
		return OPT_VALUE;
	case LONG_TIME:
		return OPT_TIME;
	case LONG_TLP:
		return OPT_TLP;
	}
	return 0;
}

static const char *option_name(int code)
{
	for (const struct option *o = long_options; o->name != NULL; o++)
		if (o->val == code)
			return o->name;
	return "?";
}

void tool_err(const struct tool_opts *opts, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hotline-rules %s: ", opts->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void tool_print_usage(FILE *out, const struct tool_cmd *cmd)
{
	fprintf(out, "usage: hotline-rules %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->help != NULL && cmd->help[0] != '\0')
		fprintf(out, "\noptions:\n%s", cmd->help);
	fprintf(out, "  -h, --help             this text\n");
	if (cmd->exits != NULL)
		fprintf(out, "\nexit status: %s\n", cmd->exits);
}

static int usage_error(const struct tool_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int usage_error(const struct tool_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hotline-rules %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'hotline-rules %s --help'.\n", cmd->name);
	return TOOL_EXIT_USAGE;
}

static int parse_time_arg(const char *s, int64_t *out)
{
	return hl_time_parse(s, out) == 0 ? 0 : -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* Apply one option; returns -1 when fine, else an exit code. */
static int apply_option(const struct tool_cmd *cmd, struct tool_opts *opts, int code,
                        const char *arg, bool *has_time)
{
	switch (code) {
	case LONG_FORMAT:
		if (hl_format_parse(arg, &opts->format) != 0)
			return usage_error(cmd, "unknown format '%s'", arg);
		break;
	case LONG_SOURCE:
		opts->source = arg;
		break;
	case LONG_TLP:
		if (hl_tlp_parse(arg, &opts->tlp) != 0)
			return usage_error(cmd, "unknown TLP '%s'", arg);
		break;
	case LONG_ALLOWLIST:
		if (opts->n_allowlists == TOOL_MAX_ALLOWLISTS)
			return usage_error(cmd, "too many --allowlist (max %d)",
			                   TOOL_MAX_ALLOWLISTS);
		opts->allowlists[opts->n_allowlists++] = arg;
		break;
	case LONG_NOW:
		if (parse_time_arg(arg, &opts->now) != 0)
			return usage_error(cmd, "--now '%s' is not an RFC 3339 time", arg);
		break;
	case LONG_TIME:
		if (parse_time_arg(arg, &opts->time) != 0)
			return usage_error(cmd, "--time '%s' is not an RFC 3339 time", arg);
		*has_time = true;
		break;
	case 'q':
		opts->quiet = true;
		break;
	case 'o':
		opts->output = arg;
		break;
	case LONG_SET_VERSION:
		if (parse_u64(arg, &opts->set_version) != 0)
			return usage_error(cmd, "--set-version '%s' is not a number", arg);
		opts->has_set_version = true;
		break;
	case LONG_KEEP_GOING:
		opts->keep_going = true;
		break;
	case LONG_JSON:
		opts->json = true;
		break;
	case LONG_TO:
		if (hl_format_parse(arg, &opts->to) != 0 ||
		    (opts->to != HL_FMT_NATIVE && opts->to != HL_FMT_STIX))
			return usage_error(cmd, "--to '%s': expected native or stix", arg);
		opts->has_to = true;
		break;
	case LONG_FIELD:
		opts->field = arg;
		break;
	case LONG_VALUE:
		opts->value = arg;
		break;
	}
	return -1;
}

int tool_parse_args(const struct tool_cmd *cmd, int argc, char **argv, struct tool_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->cmd = cmd->name;
	opts->format = HL_FMT_AUTO;
	opts->tlp = HL_TLP_AMBER;
	opts->now = tool_wall_clock_us();
	bool has_time = false;

	opterr = 0;
	optind = 1;
	for (;;) {
		int code = getopt_long(argc, argv, ":qo:h", long_options, NULL);
		if (code == -1)
			break;
		if (code == 'h') {
			tool_print_usage(stdout, cmd);
			return TOOL_EXIT_OK;
		}
		if (code == '?' || code == ':') {
			const char *what = argv[optind - 1];
			if (code == ':')
				return usage_error(cmd, "option '%s' needs an argument", what);
			return usage_error(cmd, "unknown option '%s'", what);
		}
		unsigned flag = option_flag(code);
		if (flag != 0 && (cmd->opts & flag) == 0)
			return usage_error(cmd, "option '--%s' does not apply here",
			                   option_name(code));
		int rc = apply_option(cmd, opts, code, optarg, &has_time);
		if (rc >= 0)
			return rc;
	}
	if (!has_time)
		opts->time = opts->now;
	opts->args = argv + optind;
	opts->nargs = (size_t)(argc - optind);
	if (opts->nargs < cmd->min_args)
		return usage_error(cmd, "missing operand");
	if (cmd->max_args != 0 && opts->nargs > cmd->max_args)
		return usage_error(cmd, "extra operand '%s'", opts->args[cmd->max_args]);
	return -1;
}

static void tool_emit(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                      const char *msg)
{
	const struct tool_diag *td = ctx;
	if (td->quiet && level != HL_DIAG_ERROR)
		return;
	hl_diag_emit_stream(stderr, level, file, line, msg);
}

void tool_diag_init(struct tool_diag *td, const struct tool_opts *opts)
{
	memset(td, 0, sizeof *td);
	td->quiet = opts->quiet;
	td->diag.emit = tool_emit;
	td->diag.ctx = td;
}

int64_t tool_wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double tool_seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

const char *tool_join(const struct hl_strv *sv, char *buf, size_t buflen)
{
	size_t used = 0;
	if (buflen == 0)
		return "";
	buf[0] = '\0';
	if (sv->n == 0) {
		snprintf(buf, buflen, "-");
		return buf;
	}
	for (size_t i = 0; i < sv->n && used < buflen; i++) {
		int n = snprintf(buf + used, buflen - used, "%s%s", i > 0 ? "," : "", sv->v[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

bool tool_expired(const struct hl_indicator *ind, int64_t now)
{
	return ind->valid_until != 0 && ind->valid_until < now;
}

FILE *tool_open_output(const struct tool_opts *opts, const char *path)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return stdout;
	FILE *f = fopen(path, "w");
	if (f == NULL)
		tool_err(opts, "%s: %s", path, strerror(errno));
	return f;
}

int tool_close_output(const struct tool_opts *opts, FILE *f, const char *path)
{
	if (f == stdout)
		return fflush(f) != 0 || ferror(f) ? (tool_err(opts, "writing stdout failed"), 1)
		                                   : 0;
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		tool_err(opts, "%s: write failed", path);
		return 1;
	}
	return 0;
}
