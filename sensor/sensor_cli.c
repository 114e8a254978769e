/* \summary: hotline-sensor's command line: usage text and the option parser
 *
 * main.c loads --config FILE first (hl_sensor_config_path finds it), then
 * hl_sensor_parse_options lays the command line over it. Apart from main,
 * so that tests run the very parser main() runs.
 */
#include "sensor_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotline/err.h"

#define MAX_LIST HL_SENSOR_MAX_LIST
#define EXIT_USAGE HL_SENSOR_EXIT_USAGE

void hl_sensor_usage(FILE *out)
{
	fputs("usage: hotline-sensor [--config FILE] (-i IFACE | -r FILE...) -R SET... [options]\n"
	      "\n"
	      "      --config FILE        settings from FILE (configs/sensor.yaml); options given\n"
	      "                           here override it\n"
	      "input:\n"
	      "  -i, --interface IFACE    capture live from IFACE\n"
	      "  -r, --read FILE          read a pcap or pcapng file (repeatable, in order)\n"
	      "      --bpf EXPR           capture filter\n"
	      "      --snaplen N          live: bytes per packet (65535)\n"
	      "      --no-promisc         live: no promiscuous mode\n"
	      "      --buffer-size MIB    live: kernel buffer size\n"
	      "      --immediate          live: no batching delay (--no-immediate: with it)\n"
	      "      --user NAME          once the capture is open, run as NAME (from root)\n"
	      "indicators:\n"
	      "  -R, --rules FILE         indicator file (any format) or one compiled .hlx "
	      "(repeatable)\n"
	      "      --format FMT         format of the indicator files (auto)\n"
	      "      --allowlist FILE     never report what this allowlist names (repeatable)\n"
	      "      --watch              reload when an indicator file changes (also on SIGHUP,\n"
	      "                           SIGUSR2); the old set keeps running if the new one "
	      "fails\n"
	      "      --no-watch           do not, whatever the config file says\n"
	      "output:\n"
	      "  -o, --output FILE        append sightings as JSON lines; - for stdout "
	      "(repeatable;\n"
	      "                           default stdout)\n"
	      "      --sensor-name NAME   the \"sensor\" of each record (default: host name)\n"
	      "      --no-sighting-updates  only the first record of each (indicator, flow)\n"
	      "      --deterministic      write records sorted at exit (same bytes for any "
	      "--workers)\n"
	      "      --expect FILE        compare the sightings with FILE; exit 1 with a diff if "
	      "they differ\n"
	      "processing:\n"
	      "  -w, --workers N          worker threads (default: cores - 1, at least 1)\n"
	      "      --max-flows N        flows per worker (65536)\n"
	      "      --stream-depth BYTES payload scanned per TCP direction, 0 = all (1048576)\n"
	      "      --frag-max N         IP datagrams in reassembly per worker (4096)\n"
	      "      --frag-memory BYTES  bytes held for IP reassembly per worker (33554432)\n"
	      "      --frag-timeout S     a datagram's fragments wait at most S seconds (30)\n"
	      "      --reorder-memory BYTES  out-of-order TCP bytes held per worker (33554432)\n"
	      "      --reorder-dir-bytes BYTES  ... and per flow direction (65536)\n"
	      "enrichment:\n"
	      "      --geoip FILE         MaxMind City or Country database\n"
	      "      --asn FILE           MaxMind ASN database\n"
	      "      --home-net CIDR,...  your networks: the other endpoint is enriched\n"
	      "evidence:\n"
	      "      --evidence-dir DIR   write each sighting's flow packets as DIR/<sha256>.pcap\n"
	      "      --evidence-max-bytes N  disk cap, oldest files removed first (1 GiB)\n"
	      "      --evidence-packets-before N  packets kept before the match (16)\n"
	      "      --evidence-packets-after N   packets added after it (16)\n"
	      "      --evidence-memory N  bytes of kept packets per worker (32 MiB)\n"
	      "sharer (each record also goes to the local sharer):\n"
	      "      --sharer ENDPOINT    ipc:///PATH or tcp://HOST:PORT (CURVE)\n"
	      "      --sharer-name NAME   the sharer's party name (its config's 'name')\n"
	      "      --sharer-key KEY     tcp: the sharer's public key, Z85 or a file holding it\n"
	      "      --key FILE           tcp: this sensor's secret key (mode 0600); its public\n"
	      "                           half is listed at the sharer under --sensor-name\n"
	      "      --sharer-queue N     records kept while the sharer is away (10000)\n"
	      "      --sharer-flush-timeout S  at exit, wait S seconds for ACKs (5)\n"
	      "      --sharer-batch-bytes N  records' bytes per message (262144); under half\n"
	      "                           the sharer's limits.max_message\n"
	      "      --sharer-set FILE    take the indicator sets the sharer pushes: each is\n"
	      "                           written to FILE and replaces the running set\n"
	      "      --no-sharer          ignore the config file's sharer\n"
	      "stats:\n"
	      "      --stats-interval S   print stats every S seconds (0: only at exit)\n"
	      "      --stats-json         stats as JSON lines\n"
	      "  -q, --quiet              no stats at exit\n"
	      "  -h, --help, --version\n"
	      "\n"
	      "exit status: 0 done; 1 --expect found differences or an input file was corrupt;\n"
	      "2 usage, config or start-up error; 3 the sharer did not acknowledge every record.\n"
	      "SIGINT/SIGTERM flush and exit (a second one stops waiting for the sharer),\n"
	      "SIGHUP reopens outputs.\n",
	      out);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		return false;
	*out = v;
	return true;
}

static bool push(const char **list, size_t *n, const char *v)
{
	if (*n >= MAX_LIST)
		return false;
	list[(*n)++] = v;
	return true;
}

enum {
	OPT_BPF = 256,
	OPT_SNAPLEN,
	OPT_NO_PROMISC,
	OPT_BUFFER,
	OPT_IMMEDIATE,
	OPT_FORMAT,
	OPT_ALLOWLIST,
	OPT_SENSOR_NAME,
	OPT_UPDATES,
	OPT_NO_UPDATES,
	OPT_DETERMINISTIC,
	OPT_EXPECT,
	OPT_MAX_FLOWS,
	OPT_STREAM_DEPTH,
	OPT_FRAG_MAX,
	OPT_FRAG_MEMORY,
	OPT_FRAG_TIMEOUT,
	OPT_REORDER_MEMORY,
	OPT_REORDER_DIR,
	OPT_STATS_INTERVAL,
	OPT_STATS_JSON,
	OPT_VERSION,
	OPT_EVIDENCE_DIR,
	OPT_EVIDENCE_MAX,
	OPT_EVIDENCE_BEFORE,
	OPT_EVIDENCE_AFTER,
	OPT_EVIDENCE_MEMORY,
	OPT_GEOIP,
	OPT_ASN,
	OPT_HOME_NET,
	OPT_WATCH,
	OPT_USER,
	OPT_CONFIG,
	OPT_SHARER,
	OPT_SHARER_NAME,
	OPT_SHARER_KEY,
	OPT_KEY,
	OPT_SHARER_QUEUE,
	OPT_SHARER_FLUSH,
	OPT_NO_SHARER,
	OPT_SHARER_SET,
	OPT_SHARER_BATCH,
	OPT_NO_WATCH,
	OPT_NO_IMMEDIATE,
};

static const struct option long_options[] = {
        {"interface", required_argument, NULL, 'i'},
        {"read", required_argument, NULL, 'r'},
        {"rules", required_argument, NULL, 'R'},
        {"output", required_argument, NULL, 'o'},
        {"workers", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"bpf", required_argument, NULL, OPT_BPF},
        {"snaplen", required_argument, NULL, OPT_SNAPLEN},
        {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
        {"buffer-size", required_argument, NULL, OPT_BUFFER},
        {"immediate", no_argument, NULL, OPT_IMMEDIATE},
        {"no-immediate", no_argument, NULL, OPT_NO_IMMEDIATE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"allowlist", required_argument, NULL, OPT_ALLOWLIST},
        {"sensor-name", required_argument, NULL, OPT_SENSOR_NAME},
        {"sighting-updates", no_argument, NULL, OPT_UPDATES},
        {"no-sighting-updates", no_argument, NULL, OPT_NO_UPDATES},
        {"deterministic", no_argument, NULL, OPT_DETERMINISTIC},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"stream-depth", required_argument, NULL, OPT_STREAM_DEPTH},
        {"frag-max", required_argument, NULL, OPT_FRAG_MAX},
        {"frag-memory", required_argument, NULL, OPT_FRAG_MEMORY},
        {"frag-timeout", required_argument, NULL, OPT_FRAG_TIMEOUT},
        {"reorder-memory", required_argument, NULL, OPT_REORDER_MEMORY},
        {"reorder-dir-bytes", required_argument, NULL, OPT_REORDER_DIR},
        {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"stats-json", no_argument, NULL, OPT_STATS_JSON},
        {"version", no_argument, NULL, OPT_VERSION},
        {"evidence-dir", required_argument, NULL, OPT_EVIDENCE_DIR},
        {"evidence-max-bytes", required_argument, NULL, OPT_EVIDENCE_MAX},
        {"evidence-packets-before", required_argument, NULL, OPT_EVIDENCE_BEFORE},
        {"evidence-packets-after", required_argument, NULL, OPT_EVIDENCE_AFTER},
        {"evidence-memory", required_argument, NULL, OPT_EVIDENCE_MEMORY},
        {"geoip", required_argument, NULL, OPT_GEOIP},
        {"asn", required_argument, NULL, OPT_ASN},
        {"home-net", required_argument, NULL, OPT_HOME_NET},
        {"watch", no_argument, NULL, OPT_WATCH},
        {"no-watch", no_argument, NULL, OPT_NO_WATCH},
        {"user", required_argument, NULL, OPT_USER},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"sharer", required_argument, NULL, OPT_SHARER},
        {"sharer-name", required_argument, NULL, OPT_SHARER_NAME},
        {"sharer-key", required_argument, NULL, OPT_SHARER_KEY},
        {"key", required_argument, NULL, OPT_KEY},
        {"sharer-queue", required_argument, NULL, OPT_SHARER_QUEUE},
        {"sharer-flush-timeout", required_argument, NULL, OPT_SHARER_FLUSH},
        {"no-sharer", no_argument, NULL, OPT_NO_SHARER},
        {"sharer-set", required_argument, NULL, OPT_SHARER_SET},
        {"sharer-batch-bytes", required_argument, NULL, OPT_SHARER_BATCH},
        {NULL, 0, NULL, 0},
};

static int bad_value(const char *opt, const char *value)
{
	fprintf(stderr, "hotline-sensor: bad value for %s: \"%s\"\n", opt, value);
	return EXIT_USAGE;
}

/* A list given on the command line replaces the config file's. */
struct cli_seen {
	bool input, rules, outputs, allowlists, no_sharer;
};

static void replace_list_once(bool *seen, size_t *n)
{
	if (!*seen)
		*n = 0;
	*seen = true;
}

/* --sharer-key: a file when one exists by that name, else the key itself
 * (the link checks that it is 40 Z85 characters). */
static void set_sharer_key(struct hl_sensor_sharer_opts *so, const char *arg)
{
	so->server_key = so->server_key_file = NULL;
	if (strlen(arg) == 40 && access(arg, F_OK) != 0)
		so->server_key = arg;
	else
		so->server_key_file = arg;
}

static bool parse_seconds(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= max))
		return false;
	*out = v;
	return true;
}

/* The path of --config FILE or --config=FILE, read before the other
 * options so that they override it. */
const char *hl_sensor_config_path(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	return path;
}

/* Returns -1 to go on, or an exit status. */
int hl_sensor_parse_options(int argc, char **argv, struct hl_sensor_opts *o)
{
	struct hl_engine_config *e = &o->engine;
	struct cli_seen seen = {0};
	uint64_t v;
	double secs;
	int c;
	while ((c = getopt_long(argc, argv, "i:r:R:o:w:qh", long_options, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 'i':
			if (!seen.input)
				o->n_files = 0;
			seen.input = true;
			e->capture.iface = optarg;
			break;
		case 'r':
			if (!seen.input)
				e->capture.iface = NULL;
			replace_list_once(&seen.input, &o->n_files);
			ok = push(o->files, &o->n_files, optarg);
			break;
		case 'R':
			replace_list_once(&seen.rules, &o->n_rules);
			ok = push(o->rules, &o->n_rules, optarg);
			break;
		case 'o':
			replace_list_once(&seen.outputs, &o->n_outputs);
			ok = push(o->outputs, &o->n_outputs, optarg);
			break;
		case 'w':
			if (!parse_u64(optarg, 256, &v) || v == 0)
				return bad_value("--workers", optarg);
			e->workers = (unsigned)v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			hl_sensor_usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("hotline-sensor %s\n", HOTLINE_VERSION);
			return 0;
		case OPT_BPF:
			e->capture.bpf = optarg;
			break;
		case OPT_SNAPLEN:
			if (!parse_u64(optarg, 262144, &v) || v < 64)
				return bad_value("--snaplen", optarg);
			e->capture.snaplen = (int)v;
			break;
		case OPT_NO_PROMISC:
			e->capture.promisc = false;
			break;
		case OPT_BUFFER:
			if (!parse_u64(optarg, 4096, &v))
				return bad_value("--buffer-size", optarg);
			e->capture.buffer_mb = (int)v;
			break;
		case OPT_IMMEDIATE:
		case OPT_NO_IMMEDIATE:
			e->capture.immediate = c == OPT_IMMEDIATE;
			break;
		case OPT_FORMAT:
			if (hl_format_parse(optarg, &o->format) != 0)
				return bad_value("--format", optarg);
			break;
		case OPT_ALLOWLIST:
			replace_list_once(&seen.allowlists, &o->n_allowlists);
			ok = push(o->allowlists, &o->n_allowlists, optarg);
			break;
		case OPT_SENSOR_NAME:
			snprintf(o->sensor_name, sizeof o->sensor_name, "%s", optarg);
			break;
		case OPT_UPDATES:
			e->worker.sighting_updates = true;
			break;
		case OPT_NO_UPDATES:
			e->worker.sighting_updates = false;
			break;
		case OPT_DETERMINISTIC:
			o->deterministic = true;
			break;
		case OPT_EXPECT:
			o->expect = optarg;
			break;
		case OPT_MAX_FLOWS:
			if (!parse_u64(optarg, HL_FLOW_MAX_FLOWS_LIMIT, &v) || v < 16)
				return bad_value("--max-flows", optarg);
			e->worker.flow.max_flows = (uint32_t)v;
			break;
		case OPT_STREAM_DEPTH:
			if (!parse_u64(optarg, UINT64_MAX, &v))
				return bad_value("--stream-depth", optarg);
			e->worker.stream_depth = v;
			break;
		/* The bounds of docs/operations.md, "Bounds and defaults": each
		 * has a floor so that a typo cannot turn a cap into a refusal of
		 * all traffic. */
		case OPT_FRAG_MAX:
			if (!parse_u64(optarg, 1u << 24, &v) || v < 16)
				return bad_value("--frag-max", optarg);
			e->worker.decoder.defrag.max_reassemblies = (uint32_t)v;
			break;
		case OPT_FRAG_MEMORY:
			if (!parse_u64(optarg, (uint64_t)1 << 40, &v) || v < 65536)
				return bad_value("--frag-memory", optarg);
			e->worker.decoder.defrag.max_mem = v;
			break;
		case OPT_FRAG_TIMEOUT:
			if (!parse_seconds(optarg, 3600, &secs) || secs <= 0)
				return bad_value("--frag-timeout", optarg);
			e->worker.decoder.defrag.timeout_us = (int64_t)(secs * 1e6 + 0.5);
			break;
		case OPT_REORDER_MEMORY:
			if (!parse_u64(optarg, (uint64_t)1 << 40, &v) || v < 65536)
				return bad_value("--reorder-memory", optarg);
			e->worker.reorder.max_held_total = v;
			break;
		case OPT_REORDER_DIR:
			if (!parse_u64(optarg, UINT32_MAX, &v) || v < 4096)
				return bad_value("--reorder-dir-bytes", optarg);
			e->worker.reorder.max_held_dir = (uint32_t)v;
			break;
		case OPT_STATS_INTERVAL:
			if (!parse_u64(optarg, 86400, &v))
				return bad_value("--stats-interval", optarg);
			e->stats_interval_s = (double)v;
			break;
		case OPT_STATS_JSON:
			e->stats_json = true;
			break;
		case OPT_GEOIP:
			o->geoip = optarg;
			break;
		case OPT_ASN:
			o->asn = optarg;
			break;
		case OPT_HOME_NET:
			o->home_net = optarg;
			break;
		case OPT_WATCH:
		case OPT_NO_WATCH:
			o->watch = c == OPT_WATCH;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_CONFIG: /* read before the rest: hl_sensor_config_path() */
			break;
		case OPT_SHARER:
			o->sharer.endpoint = optarg;
			break;
		case OPT_SHARER_NAME:
			o->sharer.name = optarg;
			break;
		case OPT_SHARER_KEY:
			set_sharer_key(&o->sharer, optarg);
			break;
		case OPT_KEY:
			o->sharer.secret_key_file = optarg;
			break;
		case OPT_SHARER_QUEUE:
			if (!parse_u64(optarg, 10000000, &v) || v == 0)
				return bad_value("--sharer-queue", optarg);
			o->sharer.queue = (size_t)v;
			break;
		case OPT_SHARER_BATCH: /* the range of the sharer's limits.max_message */
			if (!parse_u64(optarg, (uint64_t)64 << 20, &v) || v < 4096)
				return bad_value("--sharer-batch-bytes", optarg);
			o->sharer.batch_bytes = (size_t)v;
			break;
		case OPT_SHARER_FLUSH:
			if (!parse_seconds(optarg, 3600, &secs))
				return bad_value("--sharer-flush-timeout", optarg);
			o->sharer.flush_timeout_ms = (int)(secs * 1000 + 0.5);
			break;
		case OPT_NO_SHARER:
			seen.no_sharer = true;
			break;
		case OPT_SHARER_SET:
			o->sharer.set_path = optarg;
			break;
		case OPT_EVIDENCE_DIR:
			o->evidence.dir = optarg;
			break;
		case OPT_EVIDENCE_MAX:
			if (!parse_u64(optarg, UINT64_MAX, &v) || v == 0)
				return bad_value("--evidence-max-bytes", optarg);
			o->evidence.max_bytes = v;
			break;
		case OPT_EVIDENCE_BEFORE:
			if (!parse_u64(optarg, HL_EVIDENCE_MAX_PACKETS, &v))
				return bad_value("--evidence-packets-before", optarg);
			o->evidence.packets_before = (uint32_t)v;
			break;
		case OPT_EVIDENCE_AFTER:
			if (!parse_u64(optarg, HL_EVIDENCE_MAX_PACKETS, &v))
				return bad_value("--evidence-packets-after", optarg);
			o->evidence.packets_after = (uint32_t)v;
			break;
		case OPT_EVIDENCE_MEMORY:
			if (!parse_u64(optarg, UINT64_MAX, &v) || v == 0)
				return bad_value("--evidence-memory", optarg);
			o->evidence.worker_memory = v;
			break;
		default:
			hl_sensor_usage(stderr);
			return EXIT_USAGE;
		}
		if (!ok) {
			fprintf(stderr, "hotline-sensor: more than %d values for one option\n",
			        MAX_LIST);
			return EXIT_USAGE;
		}
	}
	if (seen.no_sharer)
		o->sharer.endpoint = NULL;
	if (optind < argc) {
		fprintf(stderr, "hotline-sensor: unexpected argument \"%s\"\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((e->capture.iface == NULL) == (o->n_files == 0)) {
		fprintf(stderr, "hotline-sensor: give either -i IFACE or -r FILE (interface or "
		                "read in a --config file)\n");
		return EXIT_USAGE;
	}
	if (o->n_rules == 0) {
		fprintf(stderr,
		        "hotline-sensor: no indicators: give -R FILE (rules in a --config file)\n");
		return EXIT_USAGE;
	}
	if (o->sharer.endpoint != NULL && o->sharer.name == NULL) {
		fprintf(stderr, "hotline-sensor: --sharer needs --sharer-name NAME (sharer.name in "
		                "a --config file): the sharer's party name, the 'name' in its "
		                "config\n");
		return EXIT_USAGE;
	}
	return -1;
}
