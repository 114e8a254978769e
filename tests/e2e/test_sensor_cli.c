/* \summary: hotline-sensor as a program: exit codes, determinism, signals
 *
 * Runs the real binary. Waits are polls with deadlines on the child's exit
 * or on the content of its output file, never fixed sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#define PCAPS HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/"
#define SET PCAPS "indicators.jsonl"
#define DEADLINE_MS 20000

extern char **environ;

struct run {
	int status; /* exit status, or -1 when killed/timed out */
	char out[512], err[512];
};

static char workdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(workdir, sizeof workdir, "%s/sensor-cli-XXXXXX", HOTLINE_BINARY_DIR);
	return mkdtemp(workdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	return system(cmd) == 0 ? 0 : -1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void tick(void)
{
	poll(NULL, 0, 5); /* the poll interval of a deadline loop */
}

static pid_t spawn_sensor(const char *const *args, const char *tag, struct run *r)
{
	snprintf(r->out, sizeof r->out, "%s/%s.out", workdir, tag);
	snprintf(r->err, sizeof r->err, "%s/%s.err", workdir, tag);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, r->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	const char *argv[64] = {HOTLINE_SENSOR_BIN};
	size_t n = 1;
	for (; args[n - 1] != NULL && n < 63; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid;
	int rc = posix_spawn(&pid, HOTLINE_SENSOR_BIN, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rc, 0);
	return pid;
}

static int wait_exit(pid_t pid)
{
	long deadline = now_ms() + DEADLINE_MS;
	int st;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("hotline-sensor did not exit within %d ms", DEADLINE_MS);
		}
		tick();
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void run_sensor(const char *const *args, const char *tag, struct run *r)
{
	r->status = wait_exit(spawn_sensor(args, tag, r));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return strdup("");
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void records_are_identical_for_any_worker_count(void **state)
{
	(void)state;
	const char *files[] = {"dns_udp_query.pcap", "http_url_query.pcap",
	                       "tls_split.pcap",     "vlan.pcap",
	                       "ipv6.pcap",          "payload_split.pcap",
	                       "ip_match.pcap",      "tcp_out_of_order.pcap"};
	char outputs[2][512];
	const char *workers[2] = {"1", "4"};
	for (int i = 0; i < 2; i++) {
		snprintf(outputs[i], sizeof outputs[i], "%s/det-%s.jsonl", workdir, workers[i]);
		const char *args[40] = {"-q", "--deterministic", "-w", workers[i], "-R", SET,
		                        "-o", outputs[i]};
		size_t n = 8;
		static char paths[8][256];
		for (size_t k = 0; k < 8; k++) {
			snprintf(paths[k], sizeof paths[k], PCAPS "%s", files[k]);
			args[n++] = "-r";
			args[n++] = paths[k];
		}
		args[n] = NULL;
		struct run r;
		run_sensor(args, workers[i], &r);
		assert_int_equal(r.status, 0);
	}
	char *a = slurp(outputs[0]), *b = slurp(outputs[1]);
	assert_true(strlen(a) > 1000);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void expect_mismatch_exits_1_with_a_diff(void **state)
{
	(void)state;
	const char *args[] = {"-q",
	                      "-r",
	                      PCAPS "dns_udp_query.pcap",
	                      "-R",
	                      SET,
	                      "--expect",
	                      HOTLINE_SOURCE_DIR "/tests/fixtures/expected/ip_match.jsonl",
	                      NULL};
	struct run r;
	run_sensor(args, "mismatch", &r);
	assert_int_equal(r.status, 1);
	char *err = slurp(r.err);
	assert_non_null(strstr(err, "\n- {"));
	assert_non_null(strstr(err, "\n+ {"));
	assert_non_null(strstr(err, "expected record(s) missing"));
	free(err);
}

static void stats_at_exit_as_text_and_json(void **state)
{
	(void)state;
	const char *text_args[] = {"-r", PCAPS "malformed.pcap", "-R", SET, "-o", "/dev/null",
	                           NULL};
	struct run r;
	run_sensor(text_args, "stats-text", &r);
	assert_int_equal(r.status, 0);
	char *err = slurp(r.err);
	assert_non_null(strstr(err, "stats (final): 5 packets"));
	assert_non_null(strstr(
	        err, "malformed 3 (ipv4_too_short 1, tcp_hlen_invalid 1, udp_len_invalid 1)"));
	assert_non_null(strstr(err, "dns queries 2 (malformed 1)"));
	free(err);
	const char *json_args[] = {"--stats-json", "-r", PCAPS "malformed.pcap", "-R", SET, "-o",
	                           "/dev/null",    NULL};
	run_sensor(json_args, "stats-json", &r);
	assert_int_equal(r.status, 0);
	err = slurp(r.err);
	assert_non_null(strstr(err, "{\"event\":\"stats\",\"final\":true,"));
	assert_non_null(strstr(err, "\"packets\":5,"));
	assert_non_null(strstr(err, "\"dns_malformed\":1,"));
	free(err);
}

static void usage_errors_exit_2_and_say_why(void **state)
{
	(void)state;
	struct {
		const char *args[8];
		const char *says;
	} cases[] = {
	        {{"-r", PCAPS "dns_udp_query.pcap", NULL}, "no indicators"},
	        {{"-R", SET, NULL}, "give either -i IFACE or -r FILE"},
	        {{"-r", PCAPS "dns_udp_query.pcap", "-R", SET, "-w", "0", NULL}, "--workers"},
	        {{"-r", "/nonexistent.pcap", "-R", SET, NULL}, "/nonexistent.pcap: cannot read"},
	        {{"-r", PCAPS "dns_udp_query.pcap", "-R", "/nonexistent.jsonl", NULL},
	         "/nonexistent.jsonl"},
	        {{"--no-such-option", NULL}, "usage:"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r;
		run_sensor(cases[i].args, "usage", &r);
		assert_int_equal(r.status, 2);
		char *err = slurp(r.err);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("case %zu: stderr lacks \"%s\": %s", i, cases[i].says, err);
		free(err);
	}
}

/* Copy a fixture with its last bytes cut off, mid-record. */
static void truncated_copy(const char *src, const char *dst, long cut)
{
	char *data = NULL;
	FILE *f = fopen(src, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)len);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	f = fopen(dst, "wb");
	fwrite(data, 1, (size_t)(len - cut), f);
	fclose(f);
	free(data);
}

static void corrupt_pcap_is_named_and_earlier_sightings_kept(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof path, "%s/cut.pcap", workdir);
	/* http_url_query: the last packets are the FIN exchange; cutting 30
	 * bytes leaves every request intact and a broken last record */
	truncated_copy(PCAPS "http_url_query.pcap", path, 30);
	const char *args[] = {"-q", "-r", path, "-R", SET, "--sensor-name", "fx", NULL};
	struct run r;
	run_sensor(args, "cut", &r);
	assert_int_equal(r.status, 1);
	char *err = slurp(r.err), *out = slurp(r.out);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": packet "));
	assert_int_equal(count_lines(out, "\"final\":false"), 2);
	assert_int_equal(count_lines(out, "\"final\":true"), 2);
	free(err);
	free(out);
}

/* Bytes of a fixture pcap: its 24-byte header and its records. */
static char *fixture_bytes(const char *name, size_t *len)
{
	char path[300];
	snprintf(path, sizeof path, PCAPS "%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[2][65536];
	static int which;
	char *b = buf[which++ % 2];
	*len = fread(b, 1, sizeof buf[0], f);
	fclose(f);
	return b;
}

static void wait_for_text(const char *path, const char *needle, int times)
{
	long deadline = now_ms() + DEADLINE_MS;
	for (;;) {
		char *text = slurp(path);
		int n = count_lines(text, needle);
		free(text);
		if (n >= times)
			return;
		if (now_ms() > deadline)
			fail_msg("%s: \"%s\" not seen %d times within %d ms", path, needle, times,
			         DEADLINE_MS);
		tick();
	}
}

static void sighup_reopens_and_sigterm_flushes(void **state)
{
	(void)state;
	char fifo[300], out[300], rotated[300];
	snprintf(fifo, sizeof fifo, "%s/live.fifo", workdir);
	snprintf(out, sizeof out, "%s/live.jsonl", workdir);
	snprintf(rotated, sizeof rotated, "%s/live.jsonl.1", workdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	const char *args[] = {"-q", "-r", fifo, "-R", SET, "-w", "1", "-o", out, NULL};
	struct run r;
	pid_t pid = spawn_sensor(args, "live", &r);
	int fd = open(fifo, O_WRONLY); /* blocks until the sensor opens it */
	assert_true(fd >= 0);

	size_t len;
	const char *dns = fixture_bytes("dns_udp_query.pcap", &len);
	assert_int_equal(write(fd, dns, len), (ssize_t)len);
	wait_for_text(out, "\"fx-domain-evil\"", 1);

	assert_int_equal(rename(out, rotated), 0);
	kill(pid, SIGHUP);
	const char *uri = fixture_bytes("http_uri.pcap", &len);
	assert_int_equal(write(fd, uri + 24, len - 24), (ssize_t)(len - 24));
	wait_for_text(out, "\"fx-uri-wpadmin\"", 1);

	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid), 0);
	close(fd);
	/* after SIGTERM, the end-of-flow records of the open flows were written */
	wait_for_text(out, "\"final\":true", 2);
	char *first = slurp(rotated);
	assert_null(strstr(first, "fx-uri-wpadmin"));
	free(first);
}

static int run_perl_builder(const char *dir)
{
	const char *argv[] = {"perl", HOTLINE_SOURCE_DIR "/tests/fixtures/mmdb/make_test_mmdb.pl",
	                      dir, NULL};
	pid_t pid;
	if (posix_spawnp(&pid, "perl", NULL, NULL, (char *const *)argv, environ) != 0)
		return -1;
	return wait_exit(pid);
}

static void evidence_and_enrichment_reach_the_records(void **state)
{
	(void)state;
	char mmdb[600], geo[700], asn[700], ev[600];
	snprintf(mmdb, sizeof mmdb, "%s/mmdb", workdir);
	snprintf(ev, sizeof ev, "%s/evidence", workdir);
	assert_int_equal(mkdir(mmdb, 0700), 0);
	assert_int_equal(mkdir(ev, 0700), 0);
	if (run_perl_builder(mmdb) != 0)
		skip(); /* perl or MaxMind::DB::Writer missing: scripts/bootstrap installs them */
	snprintf(geo, sizeof geo, "%s/city.mmdb", mmdb);
	snprintf(asn, sizeof asn, "%s/asn.mmdb", mmdb);
	const char *args[] = {"-q",
	                      "-r",
	                      PCAPS "ip_match.pcap",
	                      "-R",
	                      SET,
	                      "--geoip",
	                      geo,
	                      "--asn",
	                      asn,
	                      "--home-net",
	                      "192.0.2.0/24,2001:db8::/48",
	                      "--evidence-dir",
	                      ev,
	                      "--no-sighting-updates",
	                      NULL};
	struct run r;
	run_sensor(args, "enrich", &r);
	assert_int_equal(r.status, 0);
	char *out = slurp(r.out);
	/* the inbound flow from 198.51.100.130 is enriched on its source */
	assert_non_null(strstr(out, "\"src_ip\":\"198.51.100.130\""));
	assert_int_equal(count_lines(out, "\"geo\":{\"city\":\"Amsterdam\",\"country\":\"NL\""), 2);
	assert_int_equal(count_lines(out, "\"asn\":{\"number\":"), 3);
	assert_int_equal(count_lines(out, "\"evidence\":{\"packets\":"), 3);
	/* each named file exists under its hash */
	for (const char *p = out; (p = strstr(p, "\"path\":\"")) != NULL;) {
		p += 8;
		const char *end = strchr(p, '"');
		char path[1024];
		snprintf(path, sizeof path, "%.*s", (int)(end - p), p);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size > 24);
		p = end;
	}
	free(out);
}

/* A DNS query for NAME to 127.0.0.1:53 (nothing needs to listen: the
 * packet crosses lo either way). */
static void send_dns_query(const char *name, uint16_t id)
{
	uint8_t msg[300] = {(uint8_t)(id >> 8), (uint8_t)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t n = 12;
	for (const char *label = name; *label != '\0';) {
		const char *dot = strchr(label, '.');
		size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);
		msg[n++] = (uint8_t)len;
		memcpy(msg + n, label, len);
		n += len;
		label += len + (dot != NULL);
	}
	msg[n++] = 0;
	msg[n++] = 0;
	msg[n++] = 1; /* A */
	msg[n++] = 0;
	msg[n++] = 1; /* IN */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(fd, msg, n, 0, (struct sockaddr *)&to, sizeof to);
	close(fd);
}

static void live_capture_on_loopback(void **state)
{
	(void)state;
	char out[600];
	snprintf(out, sizeof out, "%s/live-lo.jsonl", workdir);
	/* as root, also check that --user drops privileges after the open */
	struct passwd *nobody = getpwnam("nobody");
	bool drop = geteuid() == 0 && nobody != NULL;
	const char *args[] = {"-q",
	                      "-i",
	                      "lo",
	                      "--bpf",
	                      "udp and dst port 53",
	                      "--immediate",
	                      "-R",
	                      SET,
	                      "-o",
	                      out,
	                      "--sensor-name",
	                      "lo",
	                      drop ? "--user" : NULL,
	                      "nobody",
	                      NULL};
	struct run r;
	pid_t pid = spawn_sensor(args, "live-lo", &r);
	/* The capture starts some time after the spawn: query until the
	 * sighting shows, bounded in count and time. */
	long deadline = now_ms() + DEADLINE_MS;
	bool seen = false;
	for (uint16_t i = 0; i < 400 && !seen && now_ms() < deadline; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char *err = slurp(r.err);
			bool denied = strstr(err, "cannot capture") != NULL;
			free(err);
			if (denied)
				skip(); /* no CAP_NET_RAW here: docs/hotline-sensor.md */
			fail_msg("hotline-sensor exited early");
		}
		send_dns_query("live.evil.example", i);
		for (int k = 0; k < 10 && !seen; k++) {
			char *text = slurp(out);
			seen = strstr(text, "\"value\":\"live.evil.example\"") != NULL;
			free(text);
			tick();
		}
	}
	if (drop && seen) {
		char path[64], status[4096];
		snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		size_t n = fread(status, 1, sizeof status - 1, f);
		fclose(f);
		status[n] = '\0';
		char want[64];
		snprintf(want, sizeof want, "\nUid:\t%u\t%u\t%u\t%u\n", (unsigned)nobody->pw_uid,
		         (unsigned)nobody->pw_uid, (unsigned)nobody->pw_uid,
		         (unsigned)nobody->pw_uid);
		assert_non_null(strstr(status, want));
		/* no capability left, and none to be regained */
		assert_non_null(strstr(status, "\nCapPrm:\t0000000000000000\n"));
		assert_non_null(strstr(status, "\nCapEff:\t0000000000000000\n"));
		assert_non_null(strstr(status, "\nNoNewPrivs:\t1\n"));
	}
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid), 0);
	assert_true(seen);
	char *text = slurp(out);
	assert_non_null(strstr(text, "\"dst_ip\":\"127.0.0.1\",\"dst_port\":53"));
	assert_non_null(strstr(text, "\"final\":true"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(records_are_identical_for_any_worker_count),
	        cmocka_unit_test(expect_mismatch_exits_1_with_a_diff),
	        cmocka_unit_test(stats_at_exit_as_text_and_json),
	        cmocka_unit_test(usage_errors_exit_2_and_say_why),
	        cmocka_unit_test(corrupt_pcap_is_named_and_earlier_sightings_kept),
	        cmocka_unit_test(sighup_reopens_and_sigterm_flushes),
	        cmocka_unit_test(evidence_and_enrichment_reach_the_records),
	        cmocka_unit_test(live_capture_on_loopback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
