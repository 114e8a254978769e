/* \summary: hotline-sensor: options, set loading, signals; wiring only
 *
 * Usage: hotline-sensor [--config FILE] (-i IFACE | -r FILE...) -R SET... [options]
 * See docs/hotline-sensor.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "expect.h"
#include "hotline/err.h"
#include "hotline/setload.h"
#include "output.h"
#include "privdrop.h"
#include "reload.h"
#include "sensor_link_out.h"
#include "sensor_opts.h"
#include "stats_print.h"

#define MAX_LIST HL_SENSOR_MAX_LIST
#define EXIT_MISMATCH 1
#define EXIT_USAGE HL_SENSOR_EXIT_USAGE
#define EXIT_UNACKED 3
#define FLUSH_TIMEOUT_MS 5000

/* The only mutable globals: what a signal handler may touch. */
static atomic_bool g_stop;
static atomic_int g_signals; /* SIGINT/SIGTERM seen: the second cuts the sharer flush short */
static atomic_bool g_reopen;
static hl_reload_t *_Atomic g_reload;

static void on_stop(int sig)
{
	(void)sig;
	atomic_store(&g_stop, true);
	atomic_fetch_add(&g_signals, 1);
}

static void request_reload(void)
{
	hl_reload_t *r = atomic_load(&g_reload);
	if (r != NULL)
		hl_reload_request(r);
}

/* SIGHUP: reopen outputs (log rotation) and reload the indicators. */
static void on_hup(int sig)
{
	(void)sig;
	atomic_store(&g_reopen, true);
	request_reload();
}

/* SIGUSR2: reload the indicators only. */
static void on_usr2(int sig)
{
	(void)sig;
	request_reload();
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
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int default_workers(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 1 ? (int)cores - 1 : 1;
}

static void setload_opts(const struct hl_sensor_opts *o, struct hl_setload_opts *so)
{
	hl_setload_opts_init(so);
	so->format = o->format;
	so->allowlists = o->allowlists;
	so->n_allowlists = o->n_allowlists;
}

static hl_matcher_t *load_set(const struct hl_sensor_opts *o, bool live)
{
	struct hl_setload_opts so;
	setload_opts(o, &so);
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

static int drop_after_open(void *ctx, char *err, size_t errlen)
{
	return hl_drop_privileges(ctx, err, errlen);
}

static int open_outputs(struct hl_sensor_opts *o, hl_output_t **outs)
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

/* After the run: flush the link, 0 or EXIT_UNACKED. */
static int finish_link(struct hl_sensor_link *sl, const struct hl_sensor_opts *o,
                       struct hl_sharer_link_stats *st)
{
	if (sl->link == NULL)
		return 0;
	return hl_sensor_link_finish(sl, o->sharer.flush_timeout_ms, &g_signals, st) ? 0
	                                                                             : EXIT_UNACKED;
}

static void print_reloads(hl_reload_t *reload)
{
	struct hl_reload_stats rs;
	hl_reload_stats(reload, &rs);
	if (rs.loads > 0) /* only when a reload was asked for */
		fprintf(stderr,
		        "  reloads: %llu ok, %llu failed; generation %llu (%zu "
		        "indicators)\n",
		        (unsigned long long)rs.ok, (unsigned long long)rs.failed,
		        (unsigned long long)rs.generation, rs.indicators);
}

int main(int argc, char **argv)
{
	static struct hl_sensor_opts o;
	static struct hl_sensor_config cfg;
	/* files, the --expect sink, the sharer */
	static hl_output_t *outs[MAX_LIST + 2];
	hl_evidence_store_t *evidence = NULL;
	hl_matcher_t *matcher = NULL;
	hl_matcher_slot_t *slot = NULL;
	hl_reload_t *reload = NULL;
	hl_enrich_t *enrich = NULL;
	hl_home_net_t *home = NULL;
	struct hl_sensor_link sl;
	memset(&sl, 0, sizeof sl);
	size_t n_outs = 0;
	char err[512];

	hl_engine_config_init(&o.engine);
	hl_evidence_config_init(&o.evidence);
	o.evidence.log = stderr;
	o.engine.workers = (unsigned)default_workers();
	o.sharer.flush_timeout_ms = FLUSH_TIMEOUT_MS;
	if (gethostname(o.sensor_name, sizeof o.sensor_name - 1) != 0)
		snprintf(o.sensor_name, sizeof o.sensor_name, "sensor");
	const char *config = hl_sensor_config_path(argc, argv);
	bool have_cfg = false;
	if (config != NULL) {
		if (hl_sensor_opts_load(&o, config, &cfg, stderr) != 0)
			return EXIT_USAGE;
		have_cfg = true;
	}
	int status = hl_sensor_parse_options(argc, argv, &o);
	if (status >= 0)
		goto out;

	o.engine.capture.files = o.files;
	o.engine.capture.n_files = o.n_files;
	status = EXIT_USAGE;
	matcher = load_set(&o, o.engine.capture.iface != NULL);
	if (matcher == NULL)
		goto out;

	if (open_outputs(&o, outs) != 0) {
		n_outs = o.n_outputs;
		goto out;
	}
	n_outs = o.n_outputs;
	/* --expect without -o still needs a sink that keeps the lines */
	if (o.expect != NULL && n_outs == 0) {
		int code = 0;
		if ((outs[n_outs] = hl_output_open("/dev/null", false, true, &code)) == NULL)
			goto out;
		n_outs++;
	}
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
	slot = hl_matcher_slot_new(&matcher);
	if (slot == NULL)
		goto out;
	struct hl_reload_config rc_cfg;
	hl_reload_config_init(&rc_cfg);
	rc_cfg.paths = o.rules;
	rc_cfg.n_paths = o.n_rules;
	setload_opts(&o, &rc_cfg.load);
	rc_cfg.live = o.engine.capture.iface != NULL;
	rc_cfg.watch = o.watch;
	rc_cfg.log = stderr;
	rc_cfg.log_prefix = "hotline-sensor: ";
	reload = hl_reload_new(&rc_cfg, slot);
	if (reload == NULL)
		goto out;
	atomic_store(&g_reload, reload);
	if (o.sharer.endpoint != NULL) {
		if (hl_sensor_link_start(&sl, &o.sharer, o.sensor_name, reload, stderr) != 0)
			goto out;
		outs[n_outs++] = sl.out; /* closed by hl_sensor_link_close() */
		/* its counters in the periodic stats blocks too */
		o.engine.sharer_link = sl.link;
	}
	install_signals();
	o.engine.worker.evidence = evidence;
	o.engine.worker.enrich = enrich;
	o.engine.worker.home_net = home;
	o.engine.worker.slot = slot;
	o.engine.worker.outputs = outs;
	o.engine.worker.n_outputs = n_outs;
	o.engine.worker.sensor_name = o.sensor_name;
	o.engine.outputs = outs;
	o.engine.n_outputs = n_outs;
	if (o.user != NULL) {
		o.engine.after_open = drop_after_open;
		o.engine.after_open_ctx = (void *)o.user;
	}
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
	struct hl_sharer_link_stats ls;
	int link_status = finish_link(&sl, &o, &ls);
	if (!o.quiet) {
		hl_sensor_print_stats(&res, sl.link != NULL ? &ls : NULL, o.engine.stats_json, true,
		                      stderr);
		print_reloads(reload);
	}
	if (o.expect != NULL) {
		const char *const *lines;
		size_t n = hl_output_lines(outs[0], &lines);
		int rc = hl_expect_compare(o.expect, lines, n, stderr);
		if (rc != 0)
			status = rc > 0 ? EXIT_MISMATCH : EXIT_USAGE;
	}
	if (status == 0)
		status = link_status;
out:
	for (size_t i = 0; i < n_outs; i++)
		if (outs[i] != sl.out)
			hl_output_close(&outs[i]);
	hl_sensor_link_close(&sl);
	atomic_store(&g_reload, NULL);
	hl_reload_destroy(&reload);
	hl_matcher_slot_destroy(&slot);
	hl_evidence_store_close(&evidence);
	hl_enrich_close(&enrich);
	hl_home_net_destroy(&home);
	hl_matcher_destroy(&matcher);
	free(o.home_net_owned);
	if (have_cfg)
		hl_sensor_config_free(&cfg);
	return status;
}
