/* \summary: hotline-sensor --config: the loaded file as the options (sensor/sensor_config.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "hotline/err.h"
#include "sensor_opts.h"

static char dir[] = "/tmp/hl-sensor-opts-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int load(const char *text, struct hl_sensor_opts *o, struct hl_sensor_config *cfg, char *log,
                size_t loglen)
{
	char path[128];
	snprintf(path, sizeof path, "%s/sensor.yaml", dir);
	write_file(path, text);
	memset(o, 0, sizeof *o);
	hl_engine_config_init(&o->engine);
	hl_evidence_config_init(&o->evidence);
	o->engine.workers = 7;
	snprintf(o->sensor_name, sizeof o->sensor_name, "host");
	FILE *f = fmemopen(log, loglen, "w");
	assert_non_null(f);
	int rc = hl_sensor_opts_load(o, path, cfg, f);
	fclose(f);
	unlink(path);
	return rc;
}

static void every_key_reaches_its_option(void **state)
{
	(void)state;
	struct hl_sensor_opts o;
	struct hl_sensor_config cfg;
	char log[1024] = "";
	int rc = load("version: 1\n"
	              "interface: eth1\n"
	              "bpf: \"not port 22\"\n"
	              "snaplen: 1500\n"
	              "promisc: false\n"
	              "buffer_size: 1500KiB\n"
	              "immediate: true\n"
	              "rules: [a.jsonl, /abs/b.jsonl]\n"
	              "format: stix\n"
	              "allowlist: allow.txt\n"
	              "home_net: [10.0.0.0/8, 2001:db8::/32]\n"
	              "outputs: [\"-\", out.jsonl]\n"
	              "sensor_name: edge1\n"
	              "sighting_updates: false\n"
	              "evidence_dir: ev\n"
	              "evidence_max_bytes: 1MiB\n"
	              "evidence_packets_before: 3\n"
	              "evidence_packets_after: 4\n"
	              "evidence_memory: 2MiB\n"
	              "workers: 2\n"
	              "max_flows: 1000\n"
	              "stream_depth: 0\n"
	              "stats_interval: 1m30s\n"
	              "stats_json: true\n"
	              "quiet: true\n"
	              "sharer:\n"
	              "  endpoint: tcp://127.0.0.1:7702\n"
	              "  server_key_file: alpha.pub\n"
	              "  secret_key_file: /k/edge1.key\n",
	              &o, &cfg, log, sizeof log);
	assert_int_equal(rc, 0);
	assert_string_equal(o.engine.capture.iface, "eth1");
	assert_int_equal(o.n_files, 0);
	assert_string_equal(o.engine.capture.bpf, "not port 22");
	assert_int_equal(o.engine.capture.snaplen, 1500);
	assert_false(o.engine.capture.promisc);
	assert_int_equal(o.engine.capture.buffer_mb, 2); /* 1500 KiB: rounded up */
	assert_true(o.engine.capture.immediate);
	assert_int_equal(o.n_rules, 2);
	char want[256];
	snprintf(want, sizeof want, "%s/a.jsonl", dir); /* relative to the file */
	assert_string_equal(o.rules[0], want);
	assert_string_equal(o.rules[1], "/abs/b.jsonl");
	assert_int_equal(o.format, HL_FMT_STIX);
	assert_int_equal(o.n_allowlists, 1);
	assert_string_equal(o.home_net, "10.0.0.0/8,2001:db8::/32");
	assert_int_equal(o.n_outputs, 2);
	assert_string_equal(o.outputs[0], "-");
	assert_string_equal(o.sensor_name, "edge1");
	assert_false(o.engine.worker.sighting_updates);
	snprintf(want, sizeof want, "%s/ev", dir);
	assert_string_equal(o.evidence.dir, want);
	assert_int_equal(o.evidence.max_bytes, 1 << 20);
	assert_int_equal(o.evidence.packets_before, 3);
	assert_int_equal(o.evidence.packets_after, 4);
	assert_int_equal(o.evidence.worker_memory, 2 << 20);
	assert_int_equal(o.engine.workers, 2);
	assert_int_equal(o.engine.worker.flow.max_flows, 1000);
	assert_int_equal(o.engine.worker.stream_depth, 0);
	assert_true(o.engine.stats_interval_s == 90.0);
	assert_true(o.engine.stats_json);
	assert_true(o.quiet);
	assert_string_equal(o.sharer.endpoint, "tcp://127.0.0.1:7702");
	assert_null(o.sharer.server_key);
	snprintf(want, sizeof want, "%s/alpha.pub", dir);
	assert_string_equal(o.sharer.server_key_file, want);
	assert_string_equal(o.sharer.secret_key_file, "/k/edge1.key");
	assert_string_equal(log, "");
	free(o.home_net_owned);
	hl_sensor_config_free(&cfg);
}

static void defaults_stay(void **state)
{
	(void)state;
	struct hl_sensor_opts o;
	struct hl_sensor_config cfg;
	char log[1024] = "";
	assert_int_equal(load("read: x.pcap\nrules: r.jsonl\n", &o, &cfg, log, sizeof log), 0);
	assert_null(o.engine.capture.iface);
	assert_int_equal(o.n_files, 1);
	assert_int_equal(o.engine.workers, 7); /* workers: 0 keeps cores - 1 */
	assert_string_equal(o.sensor_name, "host");
	assert_null(o.home_net);
	assert_null(o.sharer.endpoint);
	assert_int_equal(o.engine.capture.buffer_mb, 0);
	assert_true(o.engine.capture.promisc);
	assert_true(o.engine.worker.sighting_updates);
	hl_sensor_config_free(&cfg);
}

static void errors_name_file_line_and_key(void **state)
{
	(void)state;
	struct hl_sensor_opts o;
	struct hl_sensor_config cfg;
	char log[1024] = "";
	assert_int_equal(load("version: 1\nsnaplen: 10\nsharer:\n  endpont: ipc:///x\n", &o, &cfg,
	                      log, sizeof log),
	                 HL_EINVAL);
	assert_non_null(strstr(log, "sensor.yaml:2: error: column 10: key 'snaplen'"));
	assert_non_null(strstr(log, "sensor.yaml:4:"));
	assert_non_null(strstr(log, "'sharer.endpont'"));
	/* a missing file: one line, no crash */
	memset(log, 0, sizeof log);
	FILE *f = fmemopen(log, sizeof log, "w");
	assert_non_null(f);
	assert_int_not_equal(hl_sensor_opts_load(&o, "/nonexistent/sensor.yaml", &cfg, f), 0);
	fclose(f);
	assert_non_null(strstr(log, "/nonexistent/sensor.yaml"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(every_key_reaches_its_option),
	        cmocka_unit_test(defaults_stay),
	        cmocka_unit_test(errors_name_file_line_and_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
