/* \summary: the real hotline-sensor pushing its sightings through alpha to bravo
 *
 * Two real hotline-sharer daemons (alpha, bravo; CURVE between them) and
 * the real hotline-sensor replaying the bundled fixture pcaps with
 * --sharer. What the sensor wrote to its -o file must arrive at bravo
 * exactly once ("hotline-ctl sightings list --json" on bravo), and the
 * sensor's final stats (--stats-json) must say every record was ACKed.
 * Cases: ipc replay of every fixture; CURVE tcp with a listed and an
 * unlisted sensor key; a sharer that starts after the sensor (FIFO input);
 * kill -9 of the sensor while records flow, then a restart; --stats-interval
 * blocks with the link's counters. Every wait is a poll with a deadline.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sharer_harness.h"

#define PCAPS HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/"
#define EXPECTED HOTLINE_SOURCE_DIR "/tests/fixtures/expected/"
#define SET PCAPS "indicators.jsonl"
#define PCAP_HEADER 24

struct world {
	struct h_env e;
	struct h_party a, b;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	assert_non_null(w);
	h_env_init(&w->e);
	h_party_setup(&w->e, &w->a, "alpha");
	h_party_setup(&w->e, &w->b, "bravo");
	char pub[64];
	h_keygen(&w->e, "edge1", pub);    /* listed at alpha */
	h_keygen(&w->e, "intruder", pub); /* not listed anywhere */
	const struct h_party *to_b[] = {&w->b}, *to_a[] = {&w->a};
	h_write_config(&w->e, &w->a, to_b, 1,
	               "sensors:\n  edge1:\n    public_key_file: edge1.pub\n"
	               "limits:\n  resend_min: 1s\n  resend_max: 4s\n");
	h_write_config(&w->e, &w->b, to_a, 1, "limits:\n  resend_min: 1s\n  resend_max: 4s\n");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	if (w->a.pid != 0)
		h_kill9(&w->a);
	if (w->b.pid != 0)
		h_kill9(&w->b);
	h_env_cleanup(&w->e);
	free(w);
	return 0;
}

/* ---- records ------------------------------------------------------------ */

/* Every JSON line of text, parsed, appended to arr. */
static void add_lines(json_t *arr, const char *text)
{
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len > 0) {
			json_error_t je;
			json_t *v = json_loadb(p, len, 0, &je);
			if (v == NULL)
				fail_msg("not a JSON line: %.*s (%s)", (int)len, p, je.text);
			json_array_append_new(arr, v);
		}
		p += len + (nl != NULL);
	}
}

static json_t *read_lines(const char *path)
{
	json_t *arr = json_array();
	char *text = h_read_file(path);
	add_lines(arr, text);
	free(text);
	return arr;
}

static bool contains(const json_t *arr, const json_t *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) if (json_equal(x, v)) return true;
	return false;
}

/* The distinct records of arr appended to set. */
static void add_distinct(json_t *set, const json_t *arr)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) if (!contains(set, x)) json_array_append(set, x);
}

/* `hotline-ctl sightings list --json` on p: the records, in arrival order.
 * ids gets the store ids (may be NULL). */
static json_t *stored_records(const struct world *w, const struct h_party *p, const char *origin,
                              json_t **ids)
{
	char *argv[] = {(char *)HOTLINE_CTL_BIN,
	                "--socket",
	                (char *)p->control,
	                "sightings",
	                "list",
	                "--json",
	                NULL};
	char *out = NULL, *err = NULL;
	int rc = h_run(&w->e, argv, &out, &err);
	if (rc != 0)
		fail_msg("hotline-ctl sightings list on %s: exit %d: %s", p->name, rc, err);
	json_t *rows = json_array();
	add_lines(rows, out);
	free(out);
	free(err);
	json_t *recs = json_array();
	if (ids != NULL)
		*ids = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		const char *o = json_string_value(json_object_get(row, "origin"));
		assert_non_null(o);
		assert_string_equal(o, origin);
		json_array_append(recs, json_object_get(row, "record"));
		if (ids != NULL)
			json_array_append(*ids, json_object_get(row, "id"));
	}
	json_decref(rows);
	return recs;
}

/* have holds each record of want exactly once, and nothing else. */
static void expect_exactly(const char *who, const json_t *have, const json_t *want)
{
	size_t i;
	json_t *x;
	json_array_foreach(want, i, x)
	{
		size_t n = 0, j;
		json_t *y;
		json_array_foreach(have, j, y) n += json_equal(x, y);
		if (n != 1) {
			char *s = json_dumps(x, JSON_COMPACT);
			fail_msg("%s holds %zu copies of %s", who, n, s);
		}
	}
	if (json_array_size(have) != json_array_size(want))
		fail_msg("%s holds %zu records, want %zu", who, json_array_size(have),
		         json_array_size(want));
}

static void expect_unique_ids(const json_t *ids)
{
	for (size_t i = 0; i < json_array_size(ids); i++)
		for (size_t j = i + 1; j < json_array_size(ids); j++)
			assert_false(json_equal(json_array_get(ids, i), json_array_get(ids, j)));
}

/* ---- the sensor --------------------------------------------------------- */

struct sensor {
	char out[512], err[512], log[512];
	pid_t pid;
};

/* Start hotline-sensor: -r input, records to DIR/TAG.jsonl, stats JSON in
 * DIR/TAG.err, then the extra arguments (NULL-terminated). */
static void sensor_start(const struct world *w, struct sensor *s, const char *tag,
                         const char *input, ...)
{
	char f[128];
	snprintf(f, sizeof f, "%s.jsonl", tag);
	h_path(&w->e, f, s->out, sizeof s->out);
	snprintf(f, sizeof f, "%s.err", tag);
	h_path(&w->e, f, s->err, sizeof s->err);
	snprintf(f, sizeof f, "%s.stdout", tag);
	h_path(&w->e, f, s->log, sizeof s->log);
	char *argv[64] = {(char *)HOTLINE_SENSOR_BIN,
	                  "-r",
	                  (char *)input,
	                  "-R",
	                  (char *)SET,
	                  "-w",
	                  "1",
	                  "-o",
	                  s->out,
	                  "--stats-json"};
	size_t n = 10;
	va_list ap;
	va_start(ap, input);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 63;)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	s->pid = h_spawn(argv, s->log, s->err);
}

/* Wait for the sensor's exit; its code. */
static int sensor_wait(struct sensor *s)
{
	int rc = h_wait(s->pid);
	s->pid = 0;
	return rc;
}

/* The "sharer" object of the sensor's final JSON stats line. */
static json_t *sensor_link_stats(const struct sensor *s)
{
	char *text = h_read_file(s->err);
	const char *p = NULL;
	for (const char *q = text; (q = strstr(q, "{\"event\":\"stats\"")) != NULL; q++)
		p = q;
	if (p == NULL)
		fail_msg("%s: no stats line: %s", s->err, text);
	json_t *st = json_loadb(p, strcspn(p, "\n"), 0, NULL);
	assert_non_null(st);
	assert_true(json_is_true(json_object_get(st, "final")));
	json_t *link = json_incref(json_object_get(st, "sharer"));
	if (link == NULL)
		fail_msg("%s: the stats have no \"sharer\": %s", s->err, text);
	json_decref(st);
	free(text);
	return link;
}

static long long geti(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("no integer %s", key);
	return json_integer_value(v);
}

/* Every record acknowledged: acked == queued == lines, nothing else. */
static void expect_all_acked(const struct sensor *s, size_t lines)
{
	json_t *l = sensor_link_stats(s);
	assert_int_equal(geti(l, "queued"), lines);
	assert_int_equal(geti(l, "acked"), lines);
	assert_int_equal(geti(l, "pending") + geti(l, "dropped") + geti(l, "refused") +
	                         geti(l, "invalid"),
	                 0);
	json_decref(l);
}

static const char *ep_tcp(const struct h_party *p, char *buf, size_t len)
{
	snprintf(buf, len, "tcp://127.0.0.1:%d", p->port);
	return buf;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fixture pcaps (and pcapngs), sorted; n gets their count. */
static char **fixtures(size_t *n)
{
	DIR *d = opendir(PCAPS);
	assert_non_null(d);
	char **names = NULL;
	*n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (!has_suffix(de->d_name, ".pcap") && !has_suffix(de->d_name, ".pcapng"))
			continue;
		names = realloc(names, (*n + 1) * sizeof *names);
		assert_non_null(names);
		names[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, *n, sizeof *names, cmp_str);
	return names;
}

/* Lines of tests/fixtures/expected/<name without .pcap>.jsonl. */
static size_t expected_count(const char *name)
{
	char path[1024];
	size_t len = strlen(name);
	if (has_suffix(name, ".pcap"))
		len -= 5;
	snprintf(path, sizeof path, EXPECTED "%.*s.jsonl", (int)len, name);
	json_t *arr = read_lines(path);
	size_t n = json_array_size(arr);
	json_decref(arr);
	return n;
}

static void wait_delivered(struct world *w, size_t n)
{
	h_wait_eq(&w->a, "sightings", (long long)n);
	h_wait_eq(&w->b, "sightings", (long long)n);
	h_wait_eq(&w->a, "outbox_depth", 0);
}

/* ---- 1. every fixture over ipc ------------------------------------------ */

static void test_replay_ipc(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->a);
	h_start(&w->b);
	size_t n;
	char **names = fixtures(&n);
	assert_true(n >= 20);
	json_t *all = json_array();
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct sensor s;
		char tag[64];
		snprintf(tag, sizeof tag, "replay-%zu", i);
		char pcap[1024];
		snprintf(pcap, sizeof pcap, PCAPS "%s", names[i]);
		sensor_start(w, &s, tag, pcap, "--sensor-name", "fx", "--sharer", w->a.sensor,
		             "--sharer-name", "alpha", NULL);
		int rc = sensor_wait(&s);
		if (rc != 0) {
			char *err = h_read_file(s.err);
			fail_msg("%s: exit %d: %s", names[i], rc, err);
		}
		json_t *lines = read_lines(s.out);
		size_t got = json_array_size(lines);
		assert_int_equal(got, expected_count(names[i]));
		expect_all_acked(&s, got);
		print_message("%-28s %zu record(s) delivered (acked)\n", names[i], got);
		total += got;
		add_distinct(all, lines);
		json_decref(lines);
		free(names[i]);
	}
	free(names);
	/* The same record from two captures (pcap and pcapng of one flow, one
	 * flow under four link types) is one sighting in the store. */
	wait_delivered(w, json_array_size(all));
	json_t *ids = NULL;
	json_t *at_b = stored_records(w, &w->b, "peer:alpha", &ids);
	expect_exactly("bravo", at_b, all);
	expect_unique_ids(ids);
	json_t *at_a = stored_records(w, &w->a, "local", NULL);
	expect_exactly("alpha", at_a, all);
	print_message("%zu records from %zu runs, %zu distinct, all at bravo once, in %.2f s\n",
	              total, n, json_array_size(all), (double)(mono_ms() - t0) / 1000);
	json_decref(at_a);
	json_decref(at_b);
	json_decref(ids);
	json_decref(all);
	h_stop(&w->a);
	h_stop(&w->b);
}

/* ---- 2. CURVE over tcp: a listed key, then an unlisted one ------------- */

static void test_tcp_curve(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->a);
	h_start(&w->b);
	char ep[64], pub[512], key[512], bad[512];
	char *err;
	ep_tcp(&w->a, ep, sizeof ep);
	h_path(&w->e, "alpha.pub", pub, sizeof pub);
	h_path(&w->e, "edge1.key", key, sizeof key);
	h_path(&w->e, "intruder.key", bad, sizeof bad);

	struct sensor s;
	sensor_start(w, &s, "tcp-ok", PCAPS "tls_sni.pcap", "--sensor-name", "edge1", "--sharer",
	             ep, "--sharer-name", "alpha", "--sharer-key", pub, "--key", key, NULL);
	assert_int_equal(sensor_wait(&s), 0);
	json_t *lines = read_lines(s.out);
	assert_int_equal(json_array_size(lines), 2);
	expect_all_acked(&s, 2);
	wait_delivered(w, 2);
	json_t *at_b = stored_records(w, &w->b, "peer:alpha", NULL);
	expect_exactly("bravo", at_b, lines);
	json_decref(at_b);

	/* The key inline instead of a file: the same. */
	char *k = h_read_file(pub);
	k[strcspn(k, "\n")] = '\0';
	sensor_start(w, &s, "tcp-inline", PCAPS "http_uri.pcap", "--sensor-name", "edge1",
	             "--sharer", ep, "--sharer-name", "alpha", "--sharer-key", k, "--key", key,
	             NULL);
	free(k);
	assert_int_equal(sensor_wait(&s), 0);
	expect_all_acked(&s, 2);
	wait_delivered(w, 4);

	/* A secret key others may read, or no key at all: a start-up error. */
	char loose[512];
	h_path(&w->e, "loose.key", loose, sizeof loose);
	char *secret = h_read_file(key);
	FILE *f = fopen(loose, "w");
	assert_non_null(f);
	fputs(secret, f);
	assert_int_equal(fclose(f), 0);
	free(secret);
	assert_int_equal(chmod(loose, 0644), 0);
	sensor_start(w, &s, "tcp-loose", PCAPS "tls_sni.pcap", "--sensor-name", "edge1", "--sharer",
	             ep, "--sharer-name", "alpha", "--sharer-key", pub, "--key", loose, NULL);
	assert_int_equal(sensor_wait(&s), 2);
	err = h_read_file(s.err);
	assert_non_null(strstr(err, "chmod 600"));
	free(err);
	sensor_start(w, &s, "tcp-nokey", PCAPS "tls_sni.pcap", "--sensor-name", "edge1", "--sharer",
	             ep, "--sharer-name", "alpha", "--sharer-key", pub, NULL);
	assert_int_equal(sensor_wait(&s), 2);
	err = h_read_file(s.err);
	assert_non_null(strstr(err, "secret key"));
	free(err);

	/* An unlisted key: the handshake is refused, the sensor gives up after
	 * its flush timeout, says so and exits 3. */
	int64_t t1 = mono_ms();
	sensor_start(w, &s, "tcp-refused", PCAPS "ip_match.pcap", "--sensor-name", "intruder",
	             "--sharer", ep, "--sharer-name", "alpha", "--sharer-key", pub, "--key", bad,
	             "--sharer-flush-timeout", "1", NULL);
	assert_int_equal(sensor_wait(&s), 3);
	int64_t took = mono_ms() - t1;
	json_t *l = sensor_link_stats(&s);
	assert_int_equal(geti(l, "queued"), 6);
	assert_int_equal(geti(l, "pending"), 6);
	assert_int_equal(geti(l, "acked"), 0);
	json_decref(l);
	err = h_read_file(s.err);
	assert_non_null(strstr(err, "6 of 6 record(s) not acknowledged"));
	assert_non_null(strstr(err, "never connected"));
	free(err);
	h_wait_ge(&w->a, "zap.refused_unknown_key", 1);
	assert_int_equal(h_status_int(&w->a, "sightings"), 4);
	assert_true(took < 20000); /* 1 s of flush, not a hang */
	print_message("tcp: 4 records via CURVE; unlisted key refused, sensor exited 3 after "
	              "%lld ms; case %.2f s\n",
	              (long long)took, (double)(mono_ms() - t0) / 1000);
	json_decref(lines);
	h_stop(&w->a);
	h_stop(&w->b);
}

/* ---- FIFO input ---------------------------------------------------------- */

static char *fixture_bytes(const char *name, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof path, PCAPS "%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(*len > PCAP_HEADER);
	char *copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, buf, *len);
	return copy;
}

/* Feed a fixture into the FIFO: with its pcap header when first. */
static void feed(int fd, const char *name, bool first)
{
	size_t len;
	char *b = fixture_bytes(name, &len);
	size_t skip = first ? 0 : PCAP_HEADER;
	assert_int_equal(write(fd, b + skip, len - skip), (ssize_t)(len - skip));
	free(b);
}

static void make_fifo(const struct world *w, const char *name, char *path, size_t len)
{
	h_path(&w->e, name, path, len);
	assert_int_equal(mkfifo(path, 0600), 0);
}

/* Poll until path has at least n lines. */
static void wait_lines(const char *path, size_t n)
{
	int64_t deadline = mono_ms() + H_DEADLINE_MS;
	for (;;) {
		json_t *arr = read_lines(path);
		size_t got = json_array_size(arr);
		json_decref(arr);
		if (got >= n)
			return;
		if (mono_ms() > deadline)
			fail_msg("%s: %zu lines, waited for %zu", path, got, n);
		poll(NULL, 0, H_POLL_MS);
	}
}

/* ---- 3. the sharer starts after the sensor ------------------------------ */

static void test_sharer_starts_late(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->b);
	char fifo[512];
	make_fifo(w, "late.fifo", fifo, sizeof fifo);
	struct sensor s;
	sensor_start(w, &s, "late", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", NULL);
	/* Blocks until the sensor opens it. Not inherited by alpha, started
	 * later, or the sensor would never see the end of its input. */
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	feed(fd, "dns_udp_query.pcap", true);
	wait_lines(s.out, 1); /* a record exists, and alpha is not there */

	h_start(&w->a);
	h_wait_ge(&w->a, "sightings", 1); /* the buffered record arrived */
	feed(fd, "http_uri.pcap", false);
	feed(fd, "ip_match.pcap", false);
	assert_int_equal(close(fd), 0); /* end of input: the sensor flushes and exits */
	assert_int_equal(sensor_wait(&s), 0);
	json_t *lines = read_lines(s.out);
	assert_int_equal(json_array_size(lines), 10);
	expect_all_acked(&s, 10);
	wait_delivered(w, 10);
	json_t *at_b = stored_records(w, &w->b, "peer:alpha", NULL);
	expect_exactly("bravo", at_b, lines);
	print_message("sharer late: 10 records, the first buffered until alpha started; %.2f s\n",
	              (double)(mono_ms() - t0) / 1000);
	json_decref(at_b);
	json_decref(lines);
	h_stop(&w->a);
	h_stop(&w->b);
}

/* ---- 4. kill -9 of the sensor while records flow, then a restart -------- */

static const char *const ether_fixtures[] = {
        "dns_decoys.pcap",     "dns_tcp.pcap",   "dns_udp_query.pcap",  "http_host_port.pcap",
        "http_split.pcap",     "http_uri.pcap",  "http_url_query.pcap", "ip_match.pcap",
        "ipv4_fragments.pcap", "ipv6.pcap",      "payload_split.pcap",  "tcp_out_of_order.pcap",
        "tls_sni.pcap",        "tls_split.pcap", "vlan.pcap",
};
#define N_ETHER (sizeof ether_fixtures / sizeof ether_fixtures[0])

static void test_kill9_sensor(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->a);
	h_start(&w->b);
	char fifo[512];
	make_fifo(w, "kill1.fifo", fifo, sizeof fifo);
	struct sensor s;
	sensor_start(w, &s, "kill1", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", NULL);
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (size_t i = 0; i < N_ETHER / 2; i++)
		feed(fd, ether_fixtures[i], i == 0);
	h_wait_ge(&w->a, "sightings", 1);
	json_t *so_far = read_lines(s.out);
	size_t n_so_far = json_array_size(so_far);
	json_decref(so_far);
	/* The sensor dies just after it wrote (and queued) the next record:
	 * what the link had not sent or alpha not ACKed is lost with it. */
	for (size_t i = N_ETHER / 2; i < N_ETHER; i++)
		feed(fd, ether_fixtures[i], false);
	wait_lines(s.out, n_so_far + 1);
	assert_int_equal(kill(s.pid, SIGKILL), 0);
	assert_int_equal(sensor_wait(&s), 128 + SIGKILL);
	close(fd);
	json_t *before = stored_records(w, &w->a, "local", NULL);
	json_t *written = read_lines(s.out);
	/* What alpha took (ACKed or about to be) came from this sensor. */
	size_t i;
	json_t *x;
	json_array_foreach(before, i, x) assert_true(contains(written, x));

	/* The restarted sensor replays everything. */
	make_fifo(w, "kill2.fifo", fifo, sizeof fifo);
	sensor_start(w, &s, "kill2", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", NULL);
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (size_t j = 0; j < N_ETHER; j++)
		feed(fd, ether_fixtures[j], j == 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(sensor_wait(&s), 0);
	json_t *again = read_lines(s.out);
	expect_all_acked(&s, json_array_size(again));

	/* alpha holds what it took before the kill and everything of the
	 * restarted run (identical records are one sighting), nothing the
	 * sensors did not write; bravo holds the same, each once. */
	h_wait_eq(&w->a, "outbox_depth", 0);
	json_t *at_a = stored_records(w, &w->a, "local", NULL);
	json_array_foreach(before, i, x) assert_true(contains(at_a, x));
	json_array_foreach(again, i, x) assert_true(contains(at_a, x));
	json_array_foreach(at_a, i, x) assert_true(contains(written, x) || contains(again, x));
	h_wait_eq(&w->b, "sightings", (long long)json_array_size(at_a));
	json_t *ids = NULL;
	json_t *at_b = stored_records(w, &w->b, "peer:alpha", &ids);
	expect_exactly("bravo", at_b, at_a);
	expect_unique_ids(ids);
	print_message("kill -9: alpha had %zu of %zu written records at the kill; after the "
	              "restart (%zu records) bravo holds %zu, each once; %.2f s\n",
	              json_array_size(before), json_array_size(written), json_array_size(again),
	              json_array_size(at_b), (double)(mono_ms() - t0) / 1000);
	json_decref(ids);
	json_decref(at_b);
	json_decref(at_a);
	json_decref(again);
	json_decref(written);
	json_decref(before);
	h_stop(&w->a);
	h_stop(&w->b);
}

/* ---- SIGTERM: the final records are flushed; a second one cuts the wait */

static void test_sigterm_flush(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->a);
	h_start(&w->b);
	char fifo[512];
	make_fifo(w, "term.fifo", fifo, sizeof fifo);
	struct sensor s;
	sensor_start(w, &s, "term", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", NULL);
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	feed(fd, "ip_match.pcap", true);
	wait_lines(s.out, 3);
	/* Live-ish input still open: SIGTERM ends the flows (3 final records)
	 * and every record is ACKed before the exit. */
	assert_int_equal(kill(s.pid, SIGTERM), 0);
	assert_int_equal(sensor_wait(&s), 0);
	close(fd);
	json_t *lines = read_lines(s.out);
	assert_int_equal(json_array_size(lines), 6);
	expect_all_acked(&s, 6);
	wait_delivered(w, 6);
	json_decref(lines);

	/* No sharer and a long flush timeout: the second SIGTERM ends the wait. */
	h_stop(&w->a);
	make_fifo(w, "term2.fifo", fifo, sizeof fifo);
	sensor_start(w, &s, "term2", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", "--sharer-flush-timeout", "600", NULL);
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	feed(fd, "tls_sni.pcap", true);
	wait_lines(s.out, 1);
	int64_t t1 = mono_ms();
	assert_int_equal(kill(s.pid, SIGTERM), 0);
	wait_lines(s.out, 2); /* the final record: the flush has begun */
	assert_int_equal(kill(s.pid, SIGTERM), 0);
	assert_int_equal(sensor_wait(&s), 3);
	close(fd);
	int64_t took = mono_ms() - t1;
	assert_true(took < 30000);
	char *err = h_read_file(s.err);
	assert_non_null(strstr(err, "2 of 2 record(s) not acknowledged"));
	assert_non_null(strstr(err, "interrupted"));
	free(err);
	print_message("SIGTERM: 6 records flushed and ACKed; a second SIGTERM ended a 600 s flush "
	              "after %lld ms; case %.2f s\n",
	              (long long)took, (double)(mono_ms() - t0) / 1000);
	h_stop(&w->b);
}

/* ---- 5. --config FILE: the file's sharer (name and all), the command line over it ---- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Run hotline-sensor with argv (after the program); its exit code, stderr. */
static int run_sensor(const struct world *w, const char *const *args, char **err)
{
	char *argv[32] = {(char *)HOTLINE_SENSOR_BIN};
	size_t n = 1;
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	return h_run(&w->e, argv, NULL, err);
}

static void test_config_file(void **state)
{
	struct world *w = *state;
	h_start(&w->a);
	h_start(&w->b);
	char cfg[512], text[2048], out[512], other[512];
	h_path(&w->e, "sensor.yaml", cfg, sizeof cfg);
	h_path(&w->e, "cfg.jsonl", out, sizeof out);
	h_path(&w->e, "other.jsonl", other, sizeof other);
	snprintf(text, sizeof text,
	         "version: 1\n"
	         "read: %stls_sni.pcap\n"
	         "rules:\n  - %s\n"
	         "outputs: [cfg.jsonl]\n"
	         "sensor_name: edge1\n"
	         "workers: 1\n"
	         "stats_json: true\n"
	         "sharer:\n  endpoint: %s\n  name: alpha\n  flush_timeout: 10s\n",
	         PCAPS, SET, w->a.sensor);
	write_text(cfg, text);
	char *err = NULL;
	/* the sharer's name from the file: no --sharer-name */
	const char *run1[] = {"--config", cfg, NULL};
	int rc = run_sensor(w, run1, &err);
	if (rc != 0)
		fail_msg("--config: exit %d: %s", rc, err);
	free(err);
	json_t *lines = read_lines(out); /* relative to the file's directory */
	assert_int_equal(json_array_size(lines), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "sensor")),
	                    "edge1");
	wait_delivered(w, 2);

	/* The command line wins: another input, output and name; no sharer. */
	const char *run2[] = {"--config",
	                      cfg,
	                      "-r",
	                      PCAPS "http_uri.pcap",
	                      "-o",
	                      other,
	                      "--sensor-name",
	                      "other",
	                      "--no-sharer",
	                      "-q",
	                      NULL};
	assert_int_equal(run_sensor(w, run2, NULL), 0);
	json_t *more = read_lines(other);
	assert_int_equal(json_array_size(more), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(more, 0), "sensor")),
	                    "other");
	json_t *first = read_lines(out);
	assert_int_equal(json_array_size(first), 2); /* the file's output untouched */
	assert_int_equal(h_status_int(&w->a, "sightings"), 2);

	/* A bad value: the file, the line and the key; exit 2. */
	snprintf(text, sizeof text, "version: 1\nread: x.pcap\nrules: [%s]\nsnaplen: 10\n", SET);
	write_text(cfg, text);
	const char *run3[] = {"--config", cfg, NULL};
	assert_int_equal(run_sensor(w, run3, &err), 2);
	assert_non_null(strstr(err, "sensor.yaml:4:"));
	assert_non_null(strstr(err, "snaplen"));
	free(err);
	/* A sharer key out of its range, and an unknown one. */
	snprintf(text, sizeof text,
	         "version: 1\nsharer:\n  endpoint: %s\n  queue: 0\n  flush_timout: 1s\n",
	         w->a.sensor);
	write_text(cfg, text);
	assert_int_equal(run_sensor(w, run3, &err), 2);
	assert_non_null(strstr(err, "sensor.yaml:4: error: column 10: key 'sharer.queue': 0 is out "
	                            "of range (1..10000000)"));
	assert_non_null(strstr(err, "sensor.yaml:5: error: column 3: key 'sharer.flush_timout': "
	                            "unknown key (did you mean 'flush_timeout'?)"));
	free(err);
	/* --sharer without the sharer's name: a usage error, at once. */
	const char *run4[] = {
	        "-r", PCAPS "tls_sni.pcap", "-R", SET, "--sharer", w->a.sensor, "-o", other, NULL};
	assert_int_equal(run_sensor(w, run4, &err), 2);
	assert_non_null(strstr(err, "--sharer-name"));
	free(err);
	json_decref(first);
	json_decref(more);
	json_decref(lines);
	h_stop(&w->a);
	h_stop(&w->b);
}

/* ---- 6. a set the sharer pushes replaces the running one ---------------- */

/* Poll until the file at path contains text. */
static void wait_text(const char *path, const char *text)
{
	int64_t deadline = mono_ms() + H_DEADLINE_MS;
	for (;;) {
		char *have = h_read_file(path);
		bool found = strstr(have, text) != NULL;
		free(have);
		if (found)
			return;
		if (mono_ms() > deadline)
			fail_msg("%s: \"%s\" not seen", path, text);
		poll(NULL, 0, H_POLL_MS);
	}
}

static void test_pushed_set_replaces_the_running_one(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->a);
	char fifo[512], set_path[512], pushed[512];
	make_fifo(w, "push.fifo", fifo, sizeof fifo);
	h_path(&w->e, "pushed.jsonl", set_path, sizeof set_path);
	h_path(&w->e, "sensor-set.jsonl", pushed, sizeof pushed);
	/* evil.example under another id than the fixture set's fx-domain-evil */
	write_text(set_path, "{\"id\":\"pushed-evil\",\"type\":\"domain\",\"value\":"
	                     "\"evil.example\",\"source\":\"alpha\",\"tlp\":\"green\"}\n");
	struct sensor s;
	sensor_start(w, &s, "push", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", "--sharer-set", pushed, NULL);
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	feed(fd, "dns_udp_query.pcap", true);
	wait_lines(s.out, 1);
	json_t *first = read_lines(s.out);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(json_array_get(first, 0), "indicator"), "id")),
	                    "fx-domain-evil");
	json_decref(first);

	char *argv[] = {(char *)HOTLINE_CTL_BIN,
	                "--socket",
	                w->a.control,
	                "indicators",
	                "add",
	                set_path,
	                NULL};
	char *out = NULL, *err = NULL;
	int rc = h_run(&w->e, argv, &out, &err);
	if (rc != 0)
		fail_msg("hotline-ctl indicators add: exit %d: %s", rc, err);
	free(out);
	free(err);
	/* the sensor took the pushed set: its reload thread says so */
	wait_text(s.err, "reloaded: 1 indicators");
	wait_text(pushed, "pushed-evil");

	/* the same query in a new flow now matches the pushed indicator only */
	feed(fd, "dns_decoys.pcap", false);
	assert_int_equal(close(fd), 0);
	assert_int_equal(sensor_wait(&s), 0);
	json_t *lines = read_lines(s.out);
	size_t pushed_hits = 0, old_hits = 0;
	for (size_t i = 1; i < json_array_size(lines); i++) {
		const char *id = json_string_value(json_object_get(
		        json_object_get(json_array_get(lines, i), "indicator"), "id"));
		if (strcmp(id, "pushed-evil") == 0)
			pushed_hits++;
		else if (strcmp(id, "fx-domain-evil") == 0)
			old_hits++;
	}
	assert_true(pushed_hits >= 1);
	/* only the first flow's end-of-flow record may still name the old id */
	assert_true(old_hits <= 1);
	print_message("pushed set: taken by the running sensor, %zu record(s) of the pushed "
	              "indicator; %.2f s\n",
	              pushed_hits, (double)(mono_ms() - t0) / 1000);
	json_decref(lines);
	h_stop(&w->a);
}

/* ---- 7. --stats-interval: periodic blocks carry the link's counters ---- */

/* Frames the sensor skips (an Ethernet type it does not decode), at the
 * capture's last timestamp so that no flow expires: they only make the
 * reader look at the clock (every 1024 frames) and print a periodic block. */
static void feed_filler(int fd, uint32_t ts_sec, uint32_t ts_usec, unsigned n)
{
	enum { FRAME = 14, REC = 16 + FRAME };
	static unsigned char buf[1100 * REC];
	assert_true(n <= 1100);
	for (unsigned i = 0; i < n; i++) {
		unsigned char *r = buf + (size_t)i * REC;
		uint32_t hdr[4] = {ts_sec, ts_usec, FRAME, FRAME}; /* the fixtures' byte order */
		memcpy(r, hdr, sizeof hdr);
		memset(r + 16, 0x02, 12);
		r[28] = 0x88; /* IEEE local experimental */
		r[29] = 0xb5;
	}
	assert_int_equal(write(fd, buf, (size_t)n * REC), (ssize_t)n * REC);
}

/* The "sharer" object of each periodic (not final) stats line in path,
 * appended to arr; the number of periodic lines, with or without one. */
static size_t periodic_link_stats(const char *path, json_t *arr)
{
	char *text = h_read_file(path);
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, "{\"event\":\"stats\"")) != NULL; p++) {
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			break; /* still being written */
		json_t *st = json_loadb(p, (size_t)(nl - p), 0, NULL);
		assert_non_null(st);
		if (json_is_false(json_object_get(st, "final"))) {
			n++;
			json_t *link = json_object_get(st, "sharer");
			if (link != NULL)
				json_array_append(arr, link);
		}
		json_decref(st);
	}
	free(text);
	return n;
}

static void test_periodic_stats(void **state)
{
	struct world *w = *state;
	int64_t t0 = mono_ms();
	h_start(&w->a);
	char fifo[512];
	make_fifo(w, "periodic.fifo", fifo, sizeof fifo);
	struct sensor s;
	sensor_start(w, &s, "periodic", fifo, "--sensor-name", "edge1", "--sharer", w->a.sensor,
	             "--sharer-name", "alpha", "--stats-interval", "1", NULL);
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	feed(fd, "dns_udp_query.pcap", true); /* one record now, its update at the end */
	wait_lines(s.out, 1);
	h_wait_ge(&w->a, "sightings", 1);
	/* Filler until a periodic block shows the record ACKed (alpha has
	 * it; its ACK may still be on the way to the sensor). */
	int64_t deadline = mono_ms() + H_DEADLINE_MS;
	json_t *link = NULL;
	size_t blocks = 0, with_link = 0;
	while (link == NULL) {
		if (mono_ms() > deadline)
			fail_msg("%zu periodic block(s), %zu with \"sharer\", none with the record "
			         "ACKed",
			         blocks, with_link);
		feed_filler(fd, 1462960800, 1000, 1100);
		poll(NULL, 0, H_POLL_MS);
		json_t *arr = json_array();
		blocks = periodic_link_stats(s.err, arr);
		with_link = json_array_size(arr);
		/* every periodic block carries the counters, each a snapshot */
		assert_int_equal(with_link, blocks);
		for (size_t i = 0; i < with_link; i++) {
			const json_t *l = json_array_get(arr, i);
			assert_int_equal(geti(l, "queued"), geti(l, "acked") + geti(l, "pending") +
			                                            geti(l, "dropped") +
			                                            geti(l, "refused"));
			if (link == NULL && geti(l, "acked") == 1)
				link = json_incref((json_t *)l);
		}
		json_decref(arr);
	}
	assert_int_equal(geti(link, "queued"), 1);
	assert_int_equal(geti(link, "sent"), 1);
	assert_int_equal(geti(link, "messages_acked"), 1);
	assert_int_equal(geti(link, "pending"), 0);
	assert_int_equal(geti(link, "dropped") + geti(link, "refused") + geti(link, "invalid"), 0);
	assert_int_equal(geti(link, "disconnects"), 0);
	(void)geti(link, "resent"); /* not pinned: a sharer slower than resend_ms makes one */
	json_decref(link);
	assert_int_equal(close(fd), 0);
	assert_int_equal(sensor_wait(&s), 0);
	expect_all_acked(&s, 2); /* the final block: the end-of-flow update too */
	print_message("periodic stats: %zu block(s) until the record showed ACKed, each with "
	              "the link's counters; %.2f s\n",
	              blocks, (double)(mono_ms() - t0) / 1000);
	h_stop(&w->a);
}

int main(void)
{
	/* A sensor killed mid-write must not take the test with it. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_replay_ipc, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tcp_curve, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sharer_starts_late, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kill9_sensor, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sigterm_flush, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pushed_set_replaces_the_running_one, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_periodic_stats, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
