/* \summary: hotline-sensor: options, set loading, signals; wiring only
 *
 * Usage: hotline-sensor (-i IFACE | -r FILE...) -R SET... [options]
 * See docs/hotline-sensor.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine.h"
#include "expect.h"
#include "hotline/err.h"
#include "hotline/setload.h"
#include "output.h"

#define MAX_LIST 256
#define EXIT_MISMATCH 1
#define EXIT_USAGE 2

/* The only mutable globals: what a signal handler may touch. */
static atomic_bool g_stop;
static atomic_bool g_reopen;

struct options {
	struct hl_engine_config engine;
	const char *files[MAX_LIST];
	size_t n_files;
	const char *rules[MAX_LIST];
	size_t n_rules;
	const char *allowlists[MAX_LIST];
	size_t n_allowlists;
	const char *outputs[MAX_LIST];
	size_t n_outputs;
	enum hl_format format;
	const char *expect;
	bool deterministic;
	bool quiet;
	char sensor_name[256];
	struct hl_evidence_config evidence;
	const char *geoip, *asn, *home_net;
};

static void usage(FILE *out)
{
	fputs("usage: hotline-sensor (-i IFACE | -r FILE...) -R SET... [options]\n"
	      "\n"
	      "input:\n"
	      "  -i, --interface IFACE    capture live from IFACE\n"
	      "  -r, --read FILE          read a pcap or pcapng file (repeatable, in order)\n"
	      "      --bpf EXPR           capture filter\n"
	      "      --snaplen N          live: bytes per packet (65535)\n"
	      "      --no-promisc         live: no promiscuous mode\n"
	      "      --buffer-size MIB    live: kernel buffer size\n"
	      "      --immediate          live: no batching delay\n"
	      "indicators:\n"
	      "  -R, --rules FILE         indicator file (any format) or one compiled .hlx "
	      "(repeatable)\n"
	      "      --format FMT         format of the indicator files (auto)\n"
	      "      --allowlist FILE     never report what this allowlist names (repeatable)\n"
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
	      "stats:\n"
	      "      --stats-interval S   print stats every S seconds (0: only at exit)\n"
	      "      --stats-json         stats as JSON lines\n"
	      "  -q, --quiet              no stats at exit\n"
	      "  -h, --help, --version\n"
	      "\n"
	      "exit status: 0 done; 1 --expect found differences or an input file was corrupt;\n"
	      "2 usage or start-up error. SIGINT/SIGTERM flush and exit, SIGHUP reopens outputs.\n",
	      out);
}

static void on_stop(int sig)
{
	(void)sig;
	atomic_store(&g_stop, true);
}

static void on_hup(int sig)
{
	(void)sig;
	atomic_store(&g_reopen, true);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* SIGHUP only raises a flag: restart the read it lands in, or a
	 * replay from a pipe would see a short read and end. SIGINT/SIGTERM
	 * are meant to cut reads short. */
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
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
        {"format", required_argument, NULL, OPT_FORMAT},
        {"allowlist", required_argument, NULL, OPT_ALLOWLIST},
        {"sensor-name", required_argument, NULL, OPT_SENSOR_NAME},
        {"sighting-updates", no_argument, NULL, OPT_UPDATES},
        {"no-sighting-updates", no_argument, NULL, OPT_NO_UPDATES},
        {"deterministic", no_argument, NULL, OPT_DETERMINISTIC},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"stream-depth", required_argument, NULL, OPT_STREAM_DEPTH},
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
        {NULL, 0, NULL, 0},
};

static int bad_value(const char *opt, const char *value)
{
	fprintf(stderr, "hotline-sensor: bad value for %s: \"%s\"\n", opt, value);
	return EXIT_USAGE;
}

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	struct hl_engine_config *e = &o->engine;
	uint64_t v;
	int c;
	while ((c = getopt_long(argc, argv, "i:r:R:o:w:qh", long_options, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 'i':
			e->capture.iface = optarg;
			break;
		case 'r':
			ok = push(o->files, &o->n_files, optarg);
			break;
		case 'R':
			ok = push(o->rules, &o->n_rules, optarg);
			break;
		case 'o':
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
			usage(stdout);
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
			e->capture.immediate = true;
			break;
		case OPT_FORMAT:
			if (hl_format_parse(optarg, &o->format) != 0)
				return bad_value("--format", optarg);
			break;
		case OPT_ALLOWLIST:
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
			usage(stderr);
			return EXIT_USAGE;
		}
		if (!ok) {
			fprintf(stderr, "hotline-sensor: more than %d values for one option\n",
			        MAX_LIST);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hotline-sensor: unexpected argument \"%s\"\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((e->capture.iface == NULL) == (o->n_files == 0)) {
		fprintf(stderr, "hotline-sensor: give either -i IFACE or -r FILE\n");
		return EXIT_USAGE;
	}
	if (o->n_rules == 0) {
		fprintf(stderr, "hotline-sensor: no indicators: give -R FILE\n");
		return EXIT_USAGE;
	}
	return -1;
}

static int default_workers(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 1 ? (int)cores - 1 : 1;
}

static hl_matcher_t *load_set(const struct options *o, bool live)
{
	struct hl_setload_opts so;
	hl_setload_opts_init(&so);
	so.format = o->format;
	so.allowlists = o->allowlists;
	so.n_allowlists = o->n_allowlists;
	/* Live, what has expired is dead weight. A replay judges each packet by
	 * its own time, so an old capture meets the indicators valid back then. */
	if (live) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		so.now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	}
	struct hl_diag diag = {.emit = hl_diag_emit_stream, .ctx = stderr};
	struct hl_compile_stats st;
	hl_matcher_t *m = NULL;
	int rc = hl_set_load(o->rules, o->n_rules, &so, &m, &st, &diag);
	if (rc != 0) {
		fprintf(stderr, "hotline-sensor: cannot load indicators: %s\n", hl_strerror(rc));
		return NULL;
	}
	if (!o->quiet)
		fprintf(stderr,
		        "hotline-sensor: %zu indicators (%zu expired left out, %lu bad records "
		        "skipped)\n",
		        st.compiled, st.expired, diag.errors);
	return m;
}

static int open_outputs(struct options *o, hl_output_t **outs)
{
	if (o->n_outputs == 0 && o->expect == NULL)
		o->outputs[o->n_outputs++] = "-";
	for (size_t i = 0; i < o->n_outputs; i++) {
		int err = 0;
		outs[i] = hl_output_open(o->outputs[i], o->deterministic,
		                         o->expect != NULL && i == 0, &err);
		if (outs[i] == NULL) {
			fprintf(stderr, "hotline-sensor: cannot open output %s: %s\n",
			        o->outputs[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct options o;
	hl_engine_config_init(&o.engine);
	hl_evidence_config_init(&o.evidence);
	o.evidence.log = stderr;
	o.engine.workers = (unsigned)default_workers();
	if (gethostname(o.sensor_name, sizeof o.sensor_name - 1) != 0)
		snprintf(o.sensor_name, sizeof o.sensor_name, "sensor");
	int status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;

	o.engine.capture.files = o.files;
	o.engine.capture.n_files = o.n_files;
	hl_matcher_t *matcher = load_set(&o, o.engine.capture.iface != NULL);
	if (matcher == NULL)
		return EXIT_USAGE;

	/* --expect without -o still needs a sink that keeps the lines */
	static hl_output_t *outs[MAX_LIST + 1];
	size_t n_outs = o.n_outputs;
	hl_output_t *expect_sink = NULL;
	status = EXIT_USAGE;
	if (open_outputs(&o, outs) != 0)
		goto out;
	n_outs = o.n_outputs;
	if (o.expect != NULL && n_outs == 0) {
		int err = 0;
		expect_sink = hl_output_open("/dev/null", false, true, &err);
		if (expect_sink == NULL)
			goto out;
		outs[n_outs++] = expect_sink;
	}

	hl_evidence_store_t *evidence = NULL;
	hl_enrich_t *enrich = NULL;
	hl_home_net_t *home = NULL;
	char err[512];
	if (o.home_net != NULL && (home = hl_home_net_parse(o.home_net, err, sizeof err)) == NULL) {
		fprintf(stderr, "hotline-sensor: %s\n", err);
		goto out;
	}
	if ((o.geoip != NULL || o.asn != NULL) &&
	    (enrich = hl_enrich_open(o.geoip, o.asn, err, sizeof err)) == NULL) {
		fprintf(stderr, "hotline-sensor: %s\n", err);
		goto out;
	}
	if (o.evidence.dir != NULL) {
		int code = 0;
		evidence = hl_evidence_store_open(&o.evidence, &code);
		if (evidence == NULL) {
			fprintf(stderr, "hotline-sensor: evidence directory %s: %s\n",
			        o.evidence.dir, hl_strerror(code));
			goto out;
		}
	}
	install_signals();
	o.engine.worker.evidence = evidence;
	o.engine.worker.enrich = enrich;
	o.engine.worker.home_net = home;
	o.engine.worker.matcher = matcher;
	o.engine.worker.outputs = outs;
	o.engine.worker.n_outputs = n_outs;
	o.engine.worker.sensor_name = o.sensor_name;
	o.engine.outputs = outs;
	o.engine.n_outputs = n_outs;
	o.engine.stop = &g_stop;
	o.engine.reopen = &g_reopen;
	o.engine.progress = o.engine.capture.iface == NULL && !o.quiet && isatty(STDERR_FILENO);

	struct hl_engine_result res;
	if (hl_engine_run(&o.engine, &res, stderr) != 0)
		goto out;
	status = res.input_errors > 0 ? EXIT_MISMATCH : 0;
	for (size_t i = 0; i < n_outs; i++) {
		if (hl_output_finish(outs[i]) != 0)
			fprintf(stderr, "hotline-sensor: writing %s failed\n",
			        i < o.n_outputs ? o.outputs[i] : "records");
	}
	if (!o.quiet)
		hl_engine_print_stats(&res, o.engine.stats_json, true, stderr);
	if (o.expect != NULL) {
		const char *const *lines;
		size_t n = hl_output_lines(outs[0], &lines);
		int rc = hl_expect_compare(o.expect, lines, n, stderr);
		if (rc != 0)
			status = rc > 0 ? EXIT_MISMATCH : EXIT_USAGE;
	}
out:
	for (size_t i = 0; i < n_outs; i++)
		hl_output_close(&outs[i]);
	hl_evidence_store_close(&evidence);
	hl_enrich_close(&enrich);
	hl_home_net_destroy(&home);
	hl_matcher_destroy(&matcher);
	return status;
}
