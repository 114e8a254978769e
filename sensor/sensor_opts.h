/* \summary: hotline-sensor's settings: --config FILE first, the command line over it
 *
 * main.c fills struct hl_sensor_opts from the defaults, then from the
 * config file (sensor_config.c, through sharer/config.h's loader), then
 * from the command line. Strings point into argv or into the loaded
 * struct hl_sensor_config, which lives until exit.
 */
#ifndef HOTLINE_SENSOR_SENSOR_OPTS_H
#define HOTLINE_SENSOR_SENSOR_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "evidence.h"
#include "hotline/parse.h"

#define HL_SENSOR_MAX_LIST 256
#define HL_SENSOR_EXIT_USAGE 2 /* usage, config or start-up error */

/* --sharer and friends (sensor_link_out.h). */
struct hl_sensor_sharer_opts {
	const char *endpoint;        /* NULL: no link */
	const char *name;            /* the sharer's party name: the envelope's "to" */
	const char *server_key;      /* Z85, or ... */
	const char *server_key_file; /* ... a file holding it (tcp) */
	const char *secret_key_file; /* this sensor's secret key (tcp) */
	size_t queue;                /* un-ACKed records kept (0: the link's 10000) */
	size_t batch_bytes;          /* records' bytes per message (0: the link's 256 KiB) */
	int flush_timeout_ms;        /* at exit, wait this long for ACKs */
	const char *set_path;        /* --sharer-set: take pushed sets, keep the last here */
};

struct hl_sensor_opts {
	struct hl_engine_config engine;
	const char *files[HL_SENSOR_MAX_LIST];
	size_t n_files;
	const char *rules[HL_SENSOR_MAX_LIST];
	size_t n_rules;
	const char *allowlists[HL_SENSOR_MAX_LIST];
	size_t n_allowlists;
	const char *outputs[HL_SENSOR_MAX_LIST];
	size_t n_outputs;
	enum hl_format format;
	const char *expect;
	bool deterministic;
	bool quiet;
	bool watch;
	const char *user;
	char sensor_name[256];
	struct hl_evidence_config evidence;
	const char *geoip, *asn, *home_net;
	char *home_net_owned; /* the file's home_net list joined; freed at exit */
	struct hl_sensor_sharer_opts sharer;
};

struct hl_sensor_config;

/* Load path through hl_sensor_config_load() into cfg (errors, with file,
 * line and key, go to log) and copy what it sets into o. 0, or a negative
 * HL_E* code after the errors were printed. On success the caller frees
 * cfg with hl_sensor_config_free() after the last use of o. */
int hl_sensor_opts_load(struct hl_sensor_opts *o, const char *path, struct hl_sensor_config *cfg,
                        FILE *log);

/* sensor_cli.c: the command line. */
void hl_sensor_usage(FILE *out);
/* The FILE of --config FILE or --config=FILE (the last one), or NULL: read
 * before the other options so that they override it. */
const char *hl_sensor_config_path(int argc, char **argv);
/* Lay the command line over o (defaults and the config file already in
 * it). -1 to go on, else the exit status (0 after --help or --version,
 * HL_SENSOR_EXIT_USAGE with the reason on stderr). */
int hl_sensor_parse_options(int argc, char **argv, struct hl_sensor_opts *o);

#endif
