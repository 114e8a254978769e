/* \summary: hotline-sharer: `run --config FILE`, `keygen NAME`; wiring and signals only
 *
 * See docs/hotline-sharer.md.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "keys.h"

#ifndef HOTLINE_SHARER_VERSION
#define HOTLINE_SHARER_VERSION "0.1.0"
#endif

#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* The only mutable global: what the signal handler may touch. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *out)
{
	fputs("usage: hotline-sharer run --config FILE [-v] [-q]\n"
	      "       hotline-sharer keygen [-d DIR] NAME\n"
	      "       hotline-sharer --help | --version\n"
	      "\n"
	      "run     start the sharer described by FILE (YAML, docs/configuration.md)\n"
	      "        -c, --config FILE   the sharer config\n"
	      "        -v, --verbose       log debug lines too\n"
	      "        -q, --quiet         log warnings and errors only\n"
	      "keygen  write DIR/NAME.key (secret, 0600) and DIR/NAME.pub (public)\n"
	      "\n"
	      "Logs go to stderr. SIGTERM or SIGINT stops the sharer cleanly; nothing\n"
	      "acknowledged is lost on any stop (docs/hotline-sharer.md).\n",
	      out);
}

struct logger {
	struct hl_daemon_config_info info; /* name and the file's level */
	int verbosity;                     /* -1 quiet, 0 the file's level, 1 debug */
};

static void log_line(void *ctx, int level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	const struct logger *lg = ctx;
	int max = lg->verbosity > 0 ? 3 : lg->verbosity < 0 ? 1 : lg->info.log_level;
	if (level > max)
		return;
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line: stdio locks the stream, so threads do not
	 * interleave within a line. */
	fprintf(stderr, "%s.%03ldZ hotline-sharer[%s] %s: %s\n", when, ts.tv_nsec / 1000000,
	        lg->info.name[0] ? lg->info.name : "-",
	        level >= 0 && level <= 3 ? names[level] : "?", msg);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int verbosity = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'v':
			verbosity = 1;
			break;
		case 'q':
			verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (config == NULL || optind != argc) {
		fputs("hotline-sharer run: --config FILE is required (and nothing else)\n", stderr);
		return EXIT_USAGE;
	}

	/* Threads started below (libzmq's, the ZAP handler) inherit a mask
	 * that blocks the stop signals, so they reach the loop's thread and
	 * interrupt its zmq_poll. */
	sigset_t stopset, old;
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_sigmask(SIG_BLOCK, &stopset, &old);

	struct logger lg = {.info = {.log_level = 2}, .verbosity = verbosity};
	char err[512];
	hl_daemon_t *d = hl_daemon_from_config(config, log_line, &lg, &lg.info, err, sizeof err);
	if (d == NULL) {
		fprintf(stderr, "hotline-sharer: %s\n", err);
		return EXIT_FAIL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	int rc = hl_daemon_run(d, &g_stop);
	hl_daemon_destroy(&d);
	return rc == 0 ? 0 : EXIT_FAIL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		puts("hotline-sharer " HOTLINE_SHARER_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "keygen") == 0)
		return hl_keygen_main(argc - 1, argv + 1);
	fprintf(stderr, "hotline-sharer: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
