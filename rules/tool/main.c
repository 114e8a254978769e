/* \summary: hotline-rules: check, compile, inspect, convert, diff and query
 * indicator sets (manual: docs/hotline-rules.md)
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

#ifndef HOTLINE_VERSION
#define HOTLINE_VERSION "0"
#endif

static const struct tool_cmd *const commands[] = {
        &tool_cmd_check,   &tool_cmd_compile, &tool_cmd_stats,
        &tool_cmd_convert, &tool_cmd_diff,    &tool_cmd_match,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fprintf(out, "usage: hotline-rules [--help | --version] SUBCOMMAND [OPTIONS] ARGS...\n\n"
	             "Check, compile and inspect Hotline indicator sets.\n\nsubcommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\n'hotline-rules SUBCOMMAND --help' describes each one.\n"
	             "Exit status: 0 ok; 1 invalid input, check errors, no match, sets differ;\n"
	             "2 usage error (and trouble, for diff and match).\n");
}

static const struct tool_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("hotline-rules %s\n", HOTLINE_VERSION);
		return TOOL_EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		const struct tool_cmd *cmd = argc > 2 ? find_command(argv[2]) : NULL;
		if (cmd != NULL)
			tool_print_usage(stdout, cmd);
		else
			usage(argc > 2 ? stderr : stdout);
		return argc > 2 && cmd == NULL ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
	}
	const struct tool_cmd *cmd = find_command(name);
	if (cmd == NULL) {
		fprintf(stderr,
		        "hotline-rules: unknown subcommand '%s'\nTry 'hotline-rules --help'.\n",
		        name);
		return TOOL_EXIT_USAGE;
	}
	struct tool_opts opts;
	int rc = tool_parse_args(cmd, argc - 1, argv + 1, &opts);
	if (rc >= 0)
		return rc;
	return cmd->run(&opts);
}
