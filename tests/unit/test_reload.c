/* \summary: unit tests for the reload thread: triggers, failures, watch, coalescing
 *
 * No sleeps: outcomes are awaited with hl_reload_wait (a condition
 * variable with a deadline) and the test loader's eventfds (poll with a
 * deadline). Where a load has to be "in progress" at a given moment, a
 * gated loader holds it until the test opens the gate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "reload.h"

#define DEADLINE_MS 10000 /* generous: only a broken build waits this long */

/* ---- files ---- */

struct env {
	char dir[256];
	char a[300], b[300], p[300], tmp[300], other[300], hlx[300], logpath[300];
	FILE *log;
	hl_matcher_slot_t *slot;
};

static void path_in(const struct env *e, char *out, size_t size, const char *name)
{
	int n = snprintf(out, size, "%s/%s", e->dir, name);
	assert_true(n > 0 && (size_t)n < size);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* n native records: domains d0.TAG.example ... */
static void write_set(const char *path, unsigned n, const char *tag)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "{\"type\":\"domain\",\"value\":\"d%u.%s.example\"}\n", i, tag);
	assert_int_equal(fclose(f), 0);
}

static int env_setup(void **state)
{
	static unsigned counter;
	struct env *e = calloc(1, sizeof *e);
	assert_non_null(e);
	snprintf(e->dir, sizeof e->dir, "%s/reload-test-%ld-%u", HOTLINE_BINARY_DIR, (long)getpid(),
	         counter++);
	assert_int_equal(mkdir(e->dir, 0700), 0);
	path_in(e, e->a, sizeof e->a, "a.jsonl");
	path_in(e, e->b, sizeof e->b, "b.jsonl");
	path_in(e, e->p, sizeof e->p, "pushed.jsonl");
	path_in(e, e->tmp, sizeof e->tmp, "a.jsonl.tmp");
	path_in(e, e->other, sizeof e->other, "other.txt");
	path_in(e, e->hlx, sizeof e->hlx, "set.hlx");
	path_in(e, e->logpath, sizeof e->logpath, "log.txt");
	e->log = fopen(e->logpath, "w+");
	assert_non_null(e->log);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	hl_matcher_slot_destroy(&e->slot);
	if (e->log != NULL)
		fclose(e->log);
	const char *files[] = {e->a, e->b, e->p, e->tmp, e->other, e->hlx, e->logpath};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	rmdir(e->dir);
	free(e);
	return 0;
}

/* The slot's generation 1, loaded as the sensor does at start-up. */
static void start_slot(struct env *e, const char *const *paths, size_t n)
{
	struct hl_setload_opts so;
	hl_setload_opts_init(&so);
	hl_matcher_t *m = NULL;
	assert_int_equal(hl_set_load(paths, n, &so, &m, NULL, NULL), 0);
	e->slot = hl_matcher_slot_new(&m);
	assert_non_null(e->slot);
}

static void config_for(struct hl_reload_config *cfg, struct env *e, const char *const *paths,
                       size_t n)
{
	hl_reload_config_init(cfg);
	cfg->paths = paths;
	cfg->n_paths = n;
	cfg->log = e->log;
}

/* The log, read after the reload thread has ended. */
static char *read_log(struct env *e)
{
	assert_int_equal(fflush(e->log), 0);
	long len = ftell(e->log);
	assert_true(len >= 0);
	char *text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(e->log);
	assert_int_equal(fread(text, 1, (size_t)len, e->log), (size_t)len);
	return text;
}

static void assert_log_has(const char *log, const char *needle)
{
	if (strstr(log, needle) == NULL)
		fail_msg("log lacks \"%s\":\n%s", needle, log);
}

/* ---- a loader the test can hold ---- */

struct gate {
	int started; /* eventfd: +1 when a load starts */
	int open;    /* eventfd: loads wait until it is written (never read) */
	atomic_int issued;
	atomic_int n_starts;
	int issued_at_start[8];
};

static void gate_init(struct gate *g)
{
	memset(g, 0, sizeof *g);
	g->started = eventfd(0, EFD_CLOEXEC);
	g->open = eventfd(0, EFD_CLOEXEC);
	assert_true(g->started >= 0 && g->open >= 0);
	atomic_init(&g->issued, 0);
	atomic_init(&g->n_starts, 0);
}

static void gate_close(struct gate *g)
{
	close(g->started);
	close(g->open);
}

static void gate_open(struct gate *g)
{
	uint64_t one = 1;
	assert_int_equal(write(g->open, &one, sizeof one), sizeof one);
}

/* Wait until a load has started; fails the test after DEADLINE_MS. */
static void gate_wait_started(struct gate *g)
{
	struct pollfd p = {.fd = g->started, .events = POLLIN};
	assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
	uint64_t v;
	assert_int_equal(read(g->started, &v, sizeof v), sizeof v);
}

static int gated_load(void *ctx, const char *const *paths, size_t n_paths,
                      const struct hl_setload_opts *opts, hl_matcher_t **out,
                      struct hl_compile_stats *stats, struct hl_diag *diag)
{
	struct gate *g = ctx;
	int i = atomic_fetch_add(&g->n_starts, 1);
	if (i < 8)
		g->issued_at_start[i] = atomic_load(&g->issued);
	uint64_t one = 1;
	if (write(g->started, &one, sizeof one) != sizeof one)
		return HL_EIO;
	struct pollfd p = {.fd = g->open, .events = POLLIN};
	if (poll(&p, 1, DEADLINE_MS) != 1)
		return HL_EAGAIN; /* the test failed to open the gate */
	return hl_set_load(paths, n_paths, opts, out, stats, diag);
}

/* ---- tests ---- */

static void config_is_checked(void **state)
{
	struct env *e = *state;
	write_set(e->a, 2, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 0);
	assert_null(hl_reload_new(&cfg, e->slot));
	config_for(&cfg, e, paths, 1);
	assert_null(hl_reload_new(&cfg, NULL));

	char missing[400];
	snprintf(missing, sizeof missing, "%s/no-such-dir/set.jsonl", e->dir);
	const char *bad[] = {missing};
	config_for(&cfg, e, bad, 1);
	cfg.watch = true;
	assert_null(hl_reload_new(&cfg, e->slot));
	hl_reload_destroy(NULL);
	hl_reload_request(NULL);
	hl_reload_stop(NULL);
	hl_reload_t *none = NULL;
	hl_reload_destroy(&none);

	char *log = read_log(e);
	assert_log_has(log, "no indicator files to reload");
	assert_log_has(log, "cannot watch directory");
	assert_log_has(log, "no-such-dir");
	free(log);
}

static void request_loads_a_new_generation(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);

	write_set(e->a, 5, "two");
	hl_reload_request(r);
	assert_int_equal(hl_reload_wait(r, 1, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.loads, 1);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.indicators, 5);
	assert_string_equal(st.last_error, "");
	assert_int_equal(hl_matcher_slot_generation(e->slot), 2);

	hl_matcher_gen_t *g = hl_matcher_slot_acquire(e->slot);
	uint8_t hash[HL_SHA256_LEN];
	char hex[HL_SHA256_HEX_LEN];
	hl_matcher_hash(hl_matcher_gen_matcher(g), hash);
	hl_hex(hash, sizeof hash, hex);
	hl_matcher_gen_release(&g);

	/* nothing pending: a wait for a second load times out */
	assert_int_equal(hl_reload_wait(r, 2, 0), HL_EAGAIN);
	hl_reload_destroy(&r);
	assert_null(r);

	char *log = read_log(e);
	char want[200];
	snprintf(want, sizeof want,
	         "hotline-sensor: reloaded: 5 indicators, generation 2, hash %s, in ", hex);
	assert_log_has(log, want);
	assert_log_has(log, " ms (request)\n");
	free(log);
}

static void failed_reload_keeps_the_generation(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	write_set(e->b, 2, "bee");
	const char *paths[] = {e->a, e->b};
	start_slot(e, paths, 2);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 2);
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);

	/* a line that is not JSON in one file, and the other cannot be read */
	write_text(e->a, "{\"type\":\"domain\",\"value\":\"kept.example\"}\nthis is not json\n");
	assert_int_equal(unlink(e->b), 0);
	hl_reload_request(r);
	assert_int_equal(hl_reload_wait(r, 1, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.ok, 0);
	assert_int_equal(st.generation, 1);
	assert_int_equal(st.indicators, 5);
	assert_non_null(strstr(st.last_error, e->b));
	assert_non_null(strstr(st.last_error, "cannot open"));
	assert_int_equal(hl_matcher_slot_generation(e->slot), 1);

	/* with the file back, the bad line alone is skipped, as at start-up */
	write_set(e->b, 2, "bee");
	hl_reload_request(r);
	assert_int_equal(hl_reload_wait(r, 2, DEADLINE_MS), 0);
	hl_reload_stats(r, &st);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.indicators, 3);
	assert_int_equal(st.last_bad_records, 1);
	assert_non_null(strstr(st.last_error, e->b)); /* the last failure's reason stays */

	/* a corrupt compiled set: refused whole, generation 2 stays */
	hl_matcher_gen_t *g = hl_matcher_slot_acquire(e->slot);
	assert_int_equal(hl_matcher_save(hl_matcher_gen_matcher(g), e->hlx), 0);
	hl_matcher_gen_release(&g);
	struct stat sb;
	assert_int_equal(stat(e->hlx, &sb), 0);
	assert_int_equal(truncate(e->hlx, sb.st_size / 2), 0);
	assert_int_equal(hl_reload_push(r, e->hlx), 0);
	assert_int_equal(hl_reload_wait(r, 3, DEADLINE_MS), 0);
	hl_reload_stats(r, &st);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.generation, 2);
	assert_non_null(strstr(st.last_error, e->hlx));
	hl_reload_destroy(&r);

	char *log = read_log(e);
	char want[400];
	snprintf(want, sizeof want, "hotline-sensor: reload: %s:2: error: ", e->a);
	assert_log_has(log, want);
	snprintf(want, sizeof want, "hotline-sensor: reload: %s: error: cannot open", e->b);
	assert_log_has(log, want);
	assert_log_has(log, "hotline-sensor: reload failed (request): input/output error: ");
	assert_log_has(log, "; keeping generation 1 (5 indicators)");
	assert_log_has(log, "reloaded: 3 indicators, generation 2");
	assert_log_has(log, "(request; 1 bad records skipped)\n");
	assert_log_has(log, "; keeping generation 2 (3 indicators)");
	free(log);
}

static void watch_sees_a_rename_over_the_file(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	cfg.watch = true;
	cfg.debounce_ms = 20;
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);

	/* other names in the directory are not counted; the rename is */
	write_text(e->other, "unrelated\n");
	write_set(e->tmp, 4, "renamed");
	assert_int_equal(rename(e->tmp, e->a), 0);
	assert_int_equal(hl_reload_wait(r, 1, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.indicators, 4);
	assert_int_equal(st.watch_events, 1);
	assert_int_equal(st.requests, 0);

	/* written in place: seen when the writer closes it */
	write_set(e->a, 6, "inplace");
	assert_int_equal(hl_reload_wait(r, 2, DEADLINE_MS), 0);
	hl_reload_stats(r, &st);
	assert_int_equal(st.generation, 3);
	assert_int_equal(st.indicators, 6);
	assert_int_equal(st.watch_events, 2);
	hl_reload_destroy(&r);

	char *log = read_log(e);
	assert_log_has(log, "reloaded: 4 indicators, generation 2");
	assert_log_has(log, "(watched file changed)\n");
	free(log);
}

static void watch_debounces_a_burst(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	cfg.watch = true;
	cfg.debounce_ms = 300;
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);

	/* 20 writes well inside one debounce window (each is a few µs) */
	enum { WRITES = 20 };
	for (unsigned i = 1; i <= WRITES; i++)
		write_set(e->a, i, "burst");
	/* wait for the load that saw the last write (normally the first) */
	struct hl_reload_stats st;
	for (uint64_t done = 1;; done++) {
		assert_int_equal(hl_reload_wait(r, done, DEADLINE_MS), 0);
		hl_reload_stats(r, &st);
		if (st.indicators == WRITES)
			break;
		assert_true(done < WRITES);
	}
	assert_true(st.watch_events >= 1 && st.watch_events <= WRITES);
	assert_true(st.loads < WRITES);
	assert_int_equal(st.generation, 1 + st.ok);
	hl_reload_destroy(&r);
}

static void requests_during_a_load_are_coalesced(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct gate gate;
	gate_init(&gate);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	cfg.load_fn = gated_load;
	cfg.load_ctx = &gate;
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);

	enum { REQUESTS = 100 };
	atomic_store(&gate.issued, 1);
	hl_reload_request(r);
	gate_wait_started(&gate); /* load 1 runs (held) */
	write_set(e->a, 9, "last");
	for (int i = 2; i <= REQUESTS; i++) {
		atomic_store(&gate.issued, i);
		hl_reload_request(r);
	}
	gate_open(&gate);
	assert_int_equal(hl_reload_wait(r, 2, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.requests, REQUESTS);
	assert_int_equal(st.loads, 2); /* 99 requests in one more load */
	assert_int_equal(st.ok, 2);
	assert_int_equal(st.generation, 3);
	assert_int_equal(st.indicators, 9);
	assert_int_equal(atomic_load(&gate.n_starts), 2);
	assert_int_equal(gate.issued_at_start[0], 1);
	assert_int_equal(gate.issued_at_start[1], REQUESTS); /* after the last request */
	hl_reload_destroy(&r);
	gate_close(&gate);
}

static void the_later_of_push_and_request_wins(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	write_set(e->p, 7, "pushed");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct gate gate;
	gate_init(&gate);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	cfg.load_fn = gated_load;
	cfg.load_ctx = &gate;
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);
	assert_int_equal(hl_reload_push(r, NULL), HL_EINVAL);
	assert_int_equal(hl_reload_push(r, ""), HL_EINVAL);

	hl_reload_request(r);
	gate_wait_started(&gate);
	hl_reload_request(r);                         /* superseded by ... */
	assert_int_equal(hl_reload_push(r, e->p), 0); /* ... this later push */
	gate_open(&gate);
	assert_int_equal(hl_reload_wait(r, 2, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.loads, 2);
	assert_int_equal(st.superseded, 1);
	assert_int_equal(st.pushes, 1);
	assert_int_equal(st.generation, 3);
	assert_int_equal(st.indicators, 7);

	/* a push is loaded once: the next request reads the configured file */
	hl_reload_request(r);
	assert_int_equal(hl_reload_wait(r, 3, DEADLINE_MS), 0);
	hl_reload_stats(r, &st);
	assert_int_equal(st.generation, 4);
	assert_int_equal(st.indicators, 3);
	hl_reload_destroy(&r);
	gate_close(&gate);

	char *log = read_log(e);
	char want[400];
	snprintf(want, sizeof want, "reload (request) superseded by the pushed set %s", e->p);
	assert_log_has(log, want);
	snprintf(want, sizeof want, "reloaded: 7 indicators, generation 3");
	assert_log_has(log, want);
	snprintf(want, sizeof want, "(pushed %s)\n", e->p);
	assert_log_has(log, want);
	free(log);
}

static void stop_while_loading_discards_the_load(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct gate gate;
	gate_init(&gate);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	cfg.load_fn = gated_load;
	cfg.load_ctx = &gate;
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);

	write_set(e->a, 4, "two");
	hl_reload_request(r);
	gate_wait_started(&gate);
	hl_reload_stop(r);
	hl_reload_request(r); /* after the stop: never loaded */
	gate_open(&gate);
	assert_int_equal(hl_reload_wait(r, 1, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(r, &st);
	assert_int_equal(st.discarded, 1);
	assert_int_equal(st.ok, 0);
	assert_int_equal(st.generation, 1);
	hl_reload_destroy(&r);
	assert_int_equal(atomic_load(&gate.n_starts), 1);
	assert_int_equal(hl_matcher_slot_generation(e->slot), 1);
	gate_close(&gate);
}

static void destroy_during_a_real_load(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	hl_reload_t *r = hl_reload_new(&cfg, e->slot);
	assert_non_null(r);
	write_set(e->a, 20000, "big");
	hl_reload_request(r);
	hl_reload_destroy(&r); /* joins; ASan checks that nothing leaks */
	uint64_t gen = hl_matcher_slot_generation(e->slot);
	assert_true(gen == 1 || gen == 2);
}

/* What the sensor does: SIGHUP's handler calls hl_reload_request. */
static hl_reload_t *hup_target;

static void on_hup(int sig)
{
	(void)sig;
	hl_reload_request(hup_target);
}

static void request_from_a_signal_handler(void **state)
{
	struct env *e = *state;
	write_set(e->a, 3, "one");
	const char *paths[] = {e->a};
	start_slot(e, paths, 1);
	struct hl_reload_config cfg;
	config_for(&cfg, e, paths, 1);
	hup_target = hl_reload_new(&cfg, e->slot);
	assert_non_null(hup_target);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGHUP, &sa, &old), 0);

	write_set(e->a, 2, "hup");
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(hl_reload_wait(hup_target, 1, DEADLINE_MS), 0);
	struct hl_reload_stats st;
	hl_reload_stats(hup_target, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.indicators, 2);
	assert_int_equal(sigaction(SIGHUP, &old, NULL), 0);
	hl_reload_destroy(&hup_target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(config_is_checked, env_setup, env_teardown),
	        cmocka_unit_test_setup_teardown(request_loads_a_new_generation, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(failed_reload_keeps_the_generation, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(watch_sees_a_rename_over_the_file, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(watch_debounces_a_burst, env_setup, env_teardown),
	        cmocka_unit_test_setup_teardown(requests_during_a_load_are_coalesced, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(the_later_of_push_and_request_wins, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(stop_while_loading_discards_the_load, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(destroy_during_a_real_load, env_setup,
	                                        env_teardown),
	        cmocka_unit_test_setup_teardown(request_from_a_signal_handler, env_setup,
	                                        env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
