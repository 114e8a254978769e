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
	              "user: nobody\n"
	              "watch: true\n"
	              "frag_max: 100\n"
	              "frag_memory: 1MiB\n"
	              "frag_timeout: 1500ms\n"
	              "reorder_memory: 2MiB\n"
	              "reorder_dir_bytes: 8KiB\n"
	              "sharer:\n"
	              "  endpoint: tcp://127.0.0.1:7702\n"
	              "  server_key_file: alpha.pub\n"
	              "  secret_key_file: /k/edge1.key\n"
	              "  name: alpha\n"
	              "  queue: 42\n"
	              "  flush_timeout: 2500us\n"
	              "  batch_bytes: 64KiB\n"
	              "  set: pushed.jsonl\n",
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
	assert_string_equal(o.user, "nobody");
	assert_true(o.watch);
	assert_int_equal(o.engine.worker.decoder.defrag.max_reassemblies, 100);
	assert_int_equal(o.engine.worker.decoder.defrag.max_mem, 1 << 20);
	assert_int_equal(o.engine.worker.decoder.defrag.timeout_us, 1500000);
	assert_int_equal(o.engine.worker.reorder.max_held_total, 2 << 20);
	assert_int_equal(o.engine.worker.reorder.max_held_dir, 8192);
	assert_string_equal(o.sharer.name, "alpha");
	assert_int_equal(o.sharer.queue, 42);
	assert_int_equal(o.sharer.flush_timeout_ms, 3); /* 2.5 ms, rounded */
	assert_int_equal(o.sharer.batch_bytes, 65536);
	snprintf(want, sizeof want, "%s/pushed.jsonl", dir);
	assert_string_equal(o.sharer.set_path, want);
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
	/* the keys the file leaves out keep what the options held */
	struct hl_engine_config e;
	hl_engine_config_init(&e);
	const struct hl_defrag_config *df = &o.engine.worker.decoder.defrag;
	assert_int_equal(df->max_reassemblies, e.worker.decoder.defrag.max_reassemblies);
	assert_int_equal(df->max_mem, e.worker.decoder.defrag.max_mem);
	assert_int_equal(df->timeout_us, e.worker.decoder.defrag.timeout_us);
	assert_int_equal(o.engine.worker.reorder.max_held_total, e.worker.reorder.max_held_total);
	assert_int_equal(o.engine.worker.reorder.max_held_dir, e.worker.reorder.max_held_dir);
	assert_null(o.user);
	assert_false(o.watch);
	assert_null(o.sharer.name);
	assert_int_equal(o.sharer.queue, 0);
	assert_int_equal(o.sharer.flush_timeout_ms, 0); /* as load() left it */
	assert_null(o.sharer.set_path);
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

/* hl_sensor_parse_options() over o, as main() runs it after the file: -1 to go on,
 * or an exit status. */
static int parse_args(struct hl_sensor_opts *o, const char *const *args)
{
	char *argv[64] = {(char *)"hotline-sensor"};
	int argc = 1;
	for (; args[argc - 1] != NULL && argc < 63; argc++)
		argv[argc] = (char *)args[argc - 1];
	argv[argc] = NULL;
	optind = 0; /* glibc: getopt starts afresh */
	return hl_sensor_parse_options(argc, argv, o);
}

static const char deployment_yaml[] = "read: x.pcap\n"
                                      "rules: r.jsonl\n"
                                      "user: nobody\n"
                                      "watch: false\n"
                                      "frag_max: 100\n"
                                      "frag_memory: 1MiB\n"
                                      "frag_timeout: 1500ms\n"
                                      "reorder_memory: 2MiB\n"
                                      "reorder_dir_bytes: 8KiB\n"
                                      "sharer:\n"
                                      "  endpoint: ipc:///run/a.sock\n"
                                      "  name: alpha\n"
                                      "  queue: 42\n"
                                      "  flush_timeout: 2s\n"
                                      "  batch_bytes: 128KiB\n"
                                      "  set: pushed.jsonl\n";

/* Without options on the command line the file's values stand; the
 * file's sharer.name is enough for its endpoint. */
static void file_values_survive_parsing(void **state)
{
	(void)state;
	struct hl_sensor_opts o;
	struct hl_sensor_config cfg;
	char log[1024] = "";
	assert_int_equal(load(deployment_yaml, &o, &cfg, log, sizeof log), 0);
	const char *none[] = {NULL};
	assert_int_equal(parse_args(&o, none), -1);
	assert_string_equal(o.user, "nobody");
	assert_false(o.watch);
	assert_int_equal(o.engine.worker.decoder.defrag.max_reassemblies, 100);
	assert_int_equal(o.engine.worker.decoder.defrag.max_mem, 1 << 20);
	assert_int_equal(o.engine.worker.decoder.defrag.timeout_us, 1500000);
	assert_int_equal(o.engine.worker.reorder.max_held_total, 2 << 20);
	assert_int_equal(o.engine.worker.reorder.max_held_dir, 8192);
	assert_string_equal(o.sharer.endpoint, "ipc:///run/a.sock");
	assert_string_equal(o.sharer.name, "alpha");
	assert_int_equal(o.sharer.queue, 42);
	assert_int_equal(o.sharer.flush_timeout_ms, 2000);
	assert_int_equal(o.sharer.batch_bytes, 131072);
	char want[256];
	snprintf(want, sizeof want, "%s/pushed.jsonl", dir);
	assert_string_equal(o.sharer.set_path, want);
	hl_sensor_config_free(&cfg);

	/* watch: true stands as well; --no-watch and --no-immediate turn the
	 * file's true off. */
	assert_int_equal(load("read: x.pcap\nrules: r.jsonl\nwatch: true\nimmediate: true\n", &o,
	                      &cfg, log, sizeof log),
	                 0);
	assert_int_equal(parse_args(&o, none), -1);
	assert_true(o.watch);
	assert_true(o.engine.capture.immediate);
	const char *off[] = {"--no-watch", "--no-immediate", NULL};
	assert_int_equal(parse_args(&o, off), -1);
	assert_false(o.watch);
	assert_false(o.engine.capture.immediate);
	hl_sensor_config_free(&cfg);
}

/* Each new key's option, given as well, wins over the file. */
static void command_line_overrides_each_key(void **state)
{
	(void)state;
	struct hl_sensor_opts o;
	struct hl_sensor_config cfg;
	char log[1024] = "";
	assert_int_equal(load(deployment_yaml, &o, &cfg, log, sizeof log), 0);
	const char *args[] = {"--user",
	                      "root",
	                      "--watch",
	                      "--frag-max",
	                      "32",
	                      "--frag-memory",
	                      "131072",
	                      "--frag-timeout",
	                      "2",
	                      "--reorder-memory",
	                      "262144",
	                      "--reorder-dir-bytes",
	                      "16384",
	                      "--sharer",
	                      "ipc:///run/b.sock",
	                      "--sharer-name",
	                      "bravo",
	                      "--sharer-queue",
	                      "7",
	                      "--sharer-flush-timeout",
	                      "0.25",
	                      "--sharer-set",
	                      "/other/set.jsonl",
	                      "--sharer-batch-bytes",
	                      "32768",
	                      NULL};
	assert_int_equal(parse_args(&o, args), -1);
	assert_string_equal(o.user, "root");
	assert_true(o.watch);
	assert_int_equal(o.engine.worker.decoder.defrag.max_reassemblies, 32);
	assert_int_equal(o.engine.worker.decoder.defrag.max_mem, 131072);
	assert_int_equal(o.engine.worker.decoder.defrag.timeout_us, 2000000);
	assert_int_equal(o.engine.worker.reorder.max_held_total, 262144);
	assert_int_equal(o.engine.worker.reorder.max_held_dir, 16384);
	assert_string_equal(o.sharer.endpoint, "ipc:///run/b.sock");
	assert_string_equal(o.sharer.name, "bravo");
	assert_int_equal(o.sharer.queue, 7);
	assert_int_equal(o.sharer.flush_timeout_ms, 250);
	assert_string_equal(o.sharer.set_path, "/other/set.jsonl");
	assert_int_equal(o.sharer.batch_bytes, 32768);
	hl_sensor_config_free(&cfg);

	/* --sharer-flush-timeout 0 over the file's 2s: 0 is a value */
	assert_int_equal(load(deployment_yaml, &o, &cfg, log, sizeof log), 0);
	const char *zero[] = {"--sharer-flush-timeout", "0", NULL};
	assert_int_equal(parse_args(&o, zero), -1);
	assert_int_equal(o.sharer.flush_timeout_ms, 0);
	/* --no-sharer drops the file's endpoint; its other settings are moot */
	const char *no_sharer[] = {"--no-sharer", NULL};
	assert_int_equal(parse_args(&o, no_sharer), -1);
	assert_null(o.sharer.endpoint);
	hl_sensor_config_free(&cfg);
	assert_string_equal(log, "");
}

/* An endpoint from the file without sharer.name or --sharer-name: the
 * usage error names both ways to give it. */
static void sharer_endpoint_needs_a_name(void **state)
{
	(void)state;
	struct hl_sensor_opts o;
	struct hl_sensor_config cfg;
	char log[1024] = "";
	assert_int_equal(load("read: x.pcap\nrules: r.jsonl\nsharer:\n  endpoint: ipc:///a\n", &o,
	                      &cfg, log, sizeof log),
	                 0);
	const char *none[] = {NULL};
	assert_int_equal(parse_args(&o, none), HL_SENSOR_EXIT_USAGE);
	const char *named[] = {"--sharer-name", "alpha", NULL};
	assert_int_equal(parse_args(&o, named), -1);
	assert_string_equal(o.sharer.name, "alpha");
	/* --sharer-batch-bytes: the range of the sharer's limits.max_message. */
	const char *small[] = {"--sharer-name", "alpha", "--sharer-batch-bytes", "4095", NULL};
	assert_int_equal(parse_args(&o, small), HL_SENSOR_EXIT_USAGE);
	const char *big[] = {"--sharer-name", "alpha", "--sharer-batch-bytes", "67108865", NULL};
	assert_int_equal(parse_args(&o, big), HL_SENSOR_EXIT_USAGE);
	const char *edge[] = {"--sharer-name", "alpha", "--sharer-batch-bytes", "67108864", NULL};
	assert_int_equal(parse_args(&o, edge), -1);
	assert_int_equal(o.sharer.batch_bytes, 67108864);
	hl_sensor_config_free(&cfg);
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
	        cmocka_unit_test(file_values_survive_parsing),
	        cmocka_unit_test(command_line_overrides_each_key),
	        cmocka_unit_test(sharer_endpoint_needs_a_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
