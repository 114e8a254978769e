/* \summary: hotline-rules shared pieces: options, diagnostics, set loading
 *
 * main.c only dispatches; each subcommand lives in cmd_<name>.c and reads
 * its options from one struct tool_opts filled by tool_parse_args(), so
 * that every subcommand spells a common option the same way.
 */
#ifndef HOTLINE_RULES_TOOL_H
#define HOTLINE_RULES_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "hotline/allowlist.h"
#include "hotline/diag.h"
#include "hotline/iset.h"
#include "hotline/matcher.h"
#include "hotline/parse.h"

/* Exit codes (docs/hotline-rules.md). */
enum {
	TOOL_EXIT_OK = 0,
	TOOL_EXIT_FAIL = 1,  /* invalid input, check errors, no match, sets differ */
	TOOL_EXIT_USAGE = 2, /* bad command line; for diff and match also trouble */
};

/* Options a subcommand accepts (struct tool_cmd.opts). */
enum {
	OPT_FORMAT = 1u << 0,
	OPT_SOURCE = 1u << 1,
	OPT_ALLOWLIST = 1u << 2,
	OPT_NOW = 1u << 3,
	OPT_QUIET = 1u << 4,
	OPT_OUTPUT = 1u << 5,
	OPT_SET_VERSION = 1u << 6,
	OPT_KEEP_GOING = 1u << 7,
	OPT_JSON = 1u << 8,
	OPT_TO = 1u << 9,
	OPT_FIELD = 1u << 10,
	OPT_VALUE = 1u << 11,
	OPT_TIME = 1u << 12,
	OPT_TLP = 1u << 13,
};

#define TOOL_MAX_ALLOWLISTS 64

/* Help lines of the common options, so every subcommand words them alike. */
#define HELP_FORMAT \
	"  --format FMT           input format: auto native list stix misp-csv misp-json\n"
#define HELP_SOURCE "  --source NAME          source for records that name none\n"
#define HELP_TLP "  --tlp TLP              TLP for records that carry none (default amber)\n"
#define HELP_NOW "  --now RFC3339          judge expiry as of this time (default: the clock)\n"
#define HELP_INPUT HELP_FORMAT HELP_SOURCE HELP_TLP

struct tool_opts {
	const char *cmd; /* subcommand name, for messages */
	enum hl_format format;
	const char *source;
	enum hl_tlp tlp;
	const char *allowlists[TOOL_MAX_ALLOWLISTS];
	size_t n_allowlists;
	int64_t now; /* µs; wall clock unless --now */
	bool quiet;
	bool json;
	bool keep_going;
	const char *output;
	uint64_t set_version;
	bool has_set_version;
	enum hl_format to;
	bool has_to;
	const char *field;
	const char *value;
	int64_t time; /* µs; --time, else now */
	char **args;  /* operands */
	size_t nargs;
};

struct tool_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* text after "usage: hotline-rules NAME " */
	const char *help;  /* option lines */
	const char *exits; /* exit status line */
	unsigned opts;     /* OPT_* accepted */
	size_t min_args;
	size_t max_args; /* 0: unlimited */
	int (*run)(const struct tool_opts *opts);
};

extern const struct tool_cmd tool_cmd_check, tool_cmd_compile, tool_cmd_stats, tool_cmd_convert,
        tool_cmd_diff, tool_cmd_match;

/* Parse argv (argv[0] is the subcommand name). Returns -1 when the
 * options are fine, else the exit code to leave with (0 after --help). */
int tool_parse_args(const struct tool_cmd *cmd, int argc, char **argv, struct tool_opts *opts);
void tool_print_usage(FILE *out, const struct tool_cmd *cmd);

/* Diagnostics: "FILE:LINE: level: message" on stderr; -q keeps errors only. */
struct tool_diag {
	struct hl_diag diag;
	bool quiet;
};
void tool_diag_init(struct tool_diag *td, const struct tool_opts *opts);

/* One line "hotline-rules CMD: message" on stderr. */
void tool_err(const struct tool_opts *opts, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

int64_t tool_wall_clock_us(void);
double tool_seconds_since(const struct timespec *start);

/* The allowlist from every --allowlist (NULL with none given, or on a file
 * that cannot be read: then *failed is set). Bad lines count as errors. */
hl_allowlist_t *tool_load_allowlist(const struct tool_opts *opts, struct hl_diag *diag,
                                    bool *failed);

/* Counts from reading indicator files. */
struct tool_read_stats {
	size_t files;
	size_t records; /* sum over files of indicators each held */
	size_t unreadable;
};

/* Parse every file, merging into one new set. Per file, al (may be NULL)
 * is asked whether it swallows an indicator whole, which is a warning.
 * NULL only on out of memory; unreadable files count in rs and diag. */
hl_iset_t *tool_read_files(const struct tool_opts *opts, char *const *files, size_t n,
                           const hl_allowlist_t *al, struct hl_diag *diag,
                           struct tool_read_stats *rs);

/* A set operand: one .hlx file, or indicator files parsed and compiled. */
struct tool_set {
	hl_iset_t *iset; /* indicator files; NULL for .hlx */
	hl_matcher_t *m; /* loaded, or compiled when asked for */
	bool hlx;
	const char *name;
};

/* Load a set. need_matcher: compile parsed files (keeping expired ones,
 * with the --allowlist entries). 0, or nonzero when the set is unusable
 * (already reported); record-level errors are left in diag. */
int tool_set_load(struct tool_set *s, const struct tool_opts *opts, char *const *files, size_t n,
                  bool need_matcher, struct hl_diag *diag);
size_t tool_set_count(const struct tool_set *s);
const struct hl_indicator *tool_set_at(const struct tool_set *s, size_t i);
void tool_set_hash_hex(const struct tool_set *s, char out[HL_SHA256_HEX_LEN]);
uint64_t tool_set_version(const struct tool_set *s);
void tool_set_clear(struct tool_set *s);

/* "a,b,c" or "-" when empty, into buf. */
const char *tool_join(const struct hl_strv *sv, char *buf, size_t buflen);
/* Expired as of now: it has an upper bound and the bound has passed. */
bool tool_expired(const struct hl_indicator *ind, int64_t now);

/* Open -o for writing ("-" or NULL is stdout); tool_close_output reports
 * write errors and returns nonzero on one. */
FILE *tool_open_output(const struct tool_opts *opts, const char *path);
int tool_close_output(const struct tool_opts *opts, FILE *f, const char *path);

#endif
