/* \summary: the reload thread: triggers, coalescing, load, publish (reload.h)
 *
 * The thread sleeps in poll() on an eventfd (requests, pushes, stop) and,
 * with --watch, an inotify descriptor. The watch debounce is a poll()
 * timeout: the first event arms a deadline, later ones push it back up to
 * a cap. Triggers are recorded before the eventfd is written, so one that
 * lands while a load runs is found by the next loop turn: any number of
 * them become one load after the current one.
 *
 * What a signal handler may touch (hl_reload_request, hl_reload_stop) is
 * lock-free atomics and write(2); everything else is under r->lock.
 */
#include "reload.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "hotline/err.h"

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "signal handlers need lock-free atomics");

#define WHY_REQUEST 1u
#define WHY_WATCH 2u
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR)

struct watch {
	int wd;
	char *dir;
	char *name;
};

struct hl_reload {
	/* configuration (owned copies) */
	char **paths;
	size_t n_paths;
	char **allowlists;
	char *default_source;
	struct hl_setload_opts load;
	bool live;
	unsigned debounce_ms, max_diag_lines;
	FILE *log;
	const char *prefix;
	hl_reload_load_fn load_fn;
	void *load_ctx;
	hl_matcher_slot_t *slot;

	int efd, ino;
	struct watch *watches;
	size_t n_watches;
	pthread_t thread;
	bool started;

	/* signal-safe triggers */
	atomic_bool stop;
	atomic_ulong seq;      /* stamps, to tell which trigger came last */
	atomic_ulong files_at; /* stamp of the pending files reload; 0 none */
	atomic_uint files_why; /* WHY_* bits of the pending files reload */
	atomic_ulong requests;
	atomic_ulong watch_events;

	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	char *push_path; /* pending push, or NULL */
	unsigned long push_at;
	struct hl_reload_stats st; /* counters written by the thread */
};

void hl_reload_config_init(struct hl_reload_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	hl_setload_opts_init(&cfg->load);
	cfg->debounce_ms = 200;
	cfg->max_diag_lines = 50;
	cfg->log_prefix = "hotline-sensor: ";
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void wake(struct hl_reload *r)
{
	uint64_t one = 1;
	/* EAGAIN only when the counter is near 2^64: the thread is awake then */
	ssize_t n = write(r->efd, &one, sizeof one);
	(void)n;
}

void hl_reload_request(hl_reload_t *r)
{
	if (r == NULL)
		return;
	int saved = errno;
	atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
	atomic_fetch_or(&r->files_why, WHY_REQUEST);
	atomic_store(&r->files_at, atomic_fetch_add(&r->seq, 1) + 1);
	wake(r);
	errno = saved;
}

void hl_reload_stop(hl_reload_t *r)
{
	if (r == NULL)
		return;
	int saved = errno;
	atomic_store(&r->stop, true);
	wake(r);
	errno = saved;
}

int hl_reload_push(hl_reload_t *r, const char *path)
{
	if (r == NULL || path == NULL || path[0] == '\0')
		return HL_EINVAL;
	char *copy = strdup(path);
	if (copy == NULL)
		return HL_ENOMEM;
	pthread_mutex_lock(&r->lock);
	if (r->push_path != NULL) { /* an older push not started yet: the newer wins */
		free(r->push_path);
		r->st.superseded++;
	}
	r->push_path = copy;
	r->push_at = atomic_fetch_add(&r->seq, 1) + 1;
	r->st.pushes++;
	pthread_mutex_unlock(&r->lock);
	wake(r);
	return 0;
}

/* ---- one load ---- */

struct load_diag {
	struct hl_reload *r;
	unsigned long shown, hidden;
	char last_error[400];
};

static void emit_diag(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                      const char *msg)
{
	struct load_diag *d = ctx;
	char where[300];
	if (line > 0)
		snprintf(where, sizeof where, "%s:%lu", file, line);
	else
		snprintf(where, sizeof where, "%s", file);
	if (level == HL_DIAG_ERROR)
		snprintf(d->last_error, sizeof d->last_error, "%s: %s", where, msg);
	if (d->shown >= d->r->max_diag_lines) {
		d->hidden++;
		return;
	}
	d->shown++;
	fprintf(d->r->log, "%sreload: %s: %s: %s\n", d->r->prefix, where, hl_diag_level_name(level),
	        msg);
}

static size_t current_count(struct hl_reload *r, uint64_t *generation)
{
	hl_matcher_gen_t *g = hl_matcher_slot_acquire(r->slot);
	size_t n = hl_matcher_count(hl_matcher_gen_matcher(g));
	*generation = hl_matcher_gen_number(g);
	hl_matcher_gen_release(&g);
	return n;
}

static void load(struct hl_reload *r, const char *const *paths, size_t n_paths, const char *why)
{
	struct hl_setload_opts so = r->load;
	if (r->live) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		so.now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	struct load_diag ld = {.r = r};
	struct hl_diag diag = {.emit = emit_diag, .ctx = &ld};
	struct hl_compile_stats cs;
	memset(&cs, 0, sizeof cs);
	hl_matcher_t *m = NULL;
	pthread_mutex_lock(&r->lock);
	r->st.loads++;
	pthread_mutex_unlock(&r->lock);

	int64_t t0 = mono_us();
	int rc = r->load_fn(r->load_ctx, paths, n_paths, &so, &m, &cs, &diag);
	uint64_t took = (uint64_t)(mono_us() - t0);
	if (ld.hidden > 0)
		fprintf(r->log, "%sreload: %lu more diagnostics not shown\n", r->prefix, ld.hidden);

	bool discard = atomic_load(&r->stop);
	uint64_t generation = 0;
	size_t count = 0;
	uint8_t hash[HL_SHA256_LEN];
	if (rc == 0 && !discard) {
		count = hl_matcher_count(m);
		hl_matcher_hash(m, hash);
		rc = hl_matcher_slot_publish(r->slot, &m, &generation);
		if (rc != 0)
			snprintf(ld.last_error, sizeof ld.last_error, "cannot publish the new set");
	}
	hl_matcher_destroy(&m); /* still ours only when not published */

	char error[sizeof r->st.last_error] = "";
	if (discard) {
		fprintf(r->log, "%sreload (%s): stopping; the outcome of this load is discarded\n",
		        r->prefix, why);
	} else if (rc == 0) {
		char hex[HL_SHA256_HEX_LEN];
		hl_hex(hash, sizeof hash, hex);
		char extra[96] = "";
		size_t n = 0;
		if (diag.errors > 0)
			n = (size_t)snprintf(extra, sizeof extra, "; %lu bad records skipped",
			                     diag.errors);
		if (cs.expired > 0 && n < sizeof extra)
			snprintf(extra + n, sizeof extra - n, "; %zu expired left out", cs.expired);
		fprintf(r->log,
		        "%sreloaded: %zu indicators, generation %" PRIu64 ", hash %s, in %.1f ms "
		        "(%s%s)\n",
		        r->prefix, count, generation, hex, (double)took / 1000.0, why, extra);
	} else {
		if (ld.last_error[0] != '\0')
			snprintf(error, sizeof error, "%s: %s", hl_strerror(rc), ld.last_error);
		else
			snprintf(error, sizeof error, "%s", hl_strerror(rc));
		uint64_t kept;
		size_t n = current_count(r, &kept);
		fprintf(r->log,
		        "%sreload failed (%s): %s; keeping generation %" PRIu64
		        " (%zu indicators)\n",
		        r->prefix, why, error, kept, n);
	}

	pthread_mutex_lock(&r->lock);
	r->st.last_duration_us = took;
	r->st.last_bad_records = diag.errors;
	if (discard) {
		r->st.discarded++;
	} else if (rc == 0) {
		r->st.ok++;
	} else {
		r->st.failed++;
		snprintf(r->st.last_error, sizeof r->st.last_error, "%s", error);
	}
	pthread_cond_broadcast(&r->done_cond);
	pthread_mutex_unlock(&r->lock);
}

static const char *why_name(unsigned why)
{
	switch (why) {
	case WHY_WATCH:
		return "watched file changed";
	case WHY_REQUEST | WHY_WATCH:
		return "request, watched file changed";
	default:
		return "request";
	}
}

/* Run what is pending: the configured files, or a pushed set, whichever
 * was asked for last. */
static void run_pending(struct hl_reload *r)
{
	unsigned long files_at = atomic_exchange(&r->files_at, 0);
	unsigned why = atomic_exchange(&r->files_why, 0);
	pthread_mutex_lock(&r->lock);
	char *push = r->push_path;
	unsigned long push_at = r->push_at;
	r->push_path = NULL;
	if (push != NULL && files_at != 0)
		r->st.superseded++;
	pthread_mutex_unlock(&r->lock);

	if (push != NULL && files_at != 0) {
		if (push_at > files_at) {
			fprintf(r->log, "%sreload (%s) superseded by the pushed set %s\n",
			        r->prefix, why_name(why), push);
			files_at = 0;
		} else {
			fprintf(r->log, "%spushed set %s superseded by a later reload (%s)\n",
			        r->prefix, push, why_name(why));
			free(push);
			push = NULL;
		}
	}
	if (atomic_load(&r->stop)) {
		free(push);
		return;
	}
	if (push != NULL) {
		char why_push[64 + 256];
		snprintf(why_push, sizeof why_push, "pushed %s", push);
		const char *paths[] = {push};
		load(r, paths, 1, why_push);
		free(push);
	} else if (files_at != 0) {
		load(r, (const char *const *)r->paths, r->n_paths, why_name(why));
	}
}

/* ---- --watch ---- */

/* True when an event names a watched file (or the queue overflowed, so
 * events may have been lost). */
static bool watch_read(struct hl_reload *r)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	for (;;) {
		ssize_t n = read(r->ino, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EAGAIN: drained */
		size_t off = 0, len = (size_t)n;
		while (len - off >= sizeof(struct inotify_event)) {
			const struct inotify_event *ev = (const void *)(buf + off);
			if (ev->len > len - off - sizeof *ev)
				break;
			off += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				hit = true;
				continue;
			}
			bool gone = ev->mask & IN_IGNORED;
			for (size_t i = 0; i < r->n_watches; i++) {
				struct watch *w = &r->watches[i];
				if (w->wd != ev->wd)
					continue;
				if (gone) {
					/* the directory went away (removed, unmounted) */
					fprintf(r->log, "%sreload: %s is no longer watched\n",
					        r->prefix, w->dir);
					for (size_t j = i; j < r->n_watches; j++)
						if (r->watches[j].wd == ev->wd)
							r->watches[j].wd = -1;
					break;
				}
				if (ev->len > 0 && strnlen(ev->name, ev->len) < ev->len &&
				    strcmp(ev->name, w->name) == 0) {
					atomic_fetch_add(&r->watch_events, 1);
					hit = true;
				}
			}
		}
	}
	return hit;
}

static int watch_add(struct hl_reload *r, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	if (name[0] == '\0') {
		fprintf(r->log, "%scannot watch %s: not a file name\n", r->prefix, path);
		return HL_EINVAL;
	}
	char *dir = slash == NULL   ? strdup(".")
	            : slash == path ? strdup("/")
	                            : strndup(path, (size_t)(slash - path));
	char *base = strdup(name);
	struct watch *grown = realloc(r->watches, (r->n_watches + 1) * sizeof *grown);
	if (dir == NULL || base == NULL || grown == NULL) {
		free(dir);
		free(base);
		if (grown != NULL)
			r->watches = grown;
		return HL_ENOMEM;
	}
	r->watches = grown;
	/* the same directory twice gives the same descriptor: one watch */
	int wd = inotify_add_watch(r->ino, dir, WATCH_MASK);
	if (wd < 0) {
		fprintf(r->log, "%scannot watch directory %s: %s\n", r->prefix, dir,
		        strerror(errno));
		free(dir);
		free(base);
		return HL_EIO;
	}
	r->watches[r->n_watches++] = (struct watch){.wd = wd, .dir = dir, .name = base};
	return 0;
}

/* ---- the thread ---- */

static void *reload_main(void *arg)
{
	struct hl_reload *r = arg;
	struct pollfd fds[2] = {{.fd = r->efd, .events = POLLIN}, {.fd = r->ino, .events = POLLIN}};
	nfds_t nfds = r->ino >= 0 ? 2 : 1;
	int64_t first = -1, due = -1; /* µs: debounce window of watched changes */
	int64_t debounce = (int64_t)r->debounce_ms * 1000;
	while (!atomic_load(&r->stop)) {
		int timeout = -1;
		if (due >= 0) {
			int64_t left = due - mono_us();
			timeout = left > 0 ? (int)((left + 999) / 1000) : 0;
		}
		if (poll(fds, nfds, timeout) < 0 && errno != EINTR) {
			fprintf(r->log, "%sreload: poll: %s; reloading stops\n", r->prefix,
			        strerror(errno));
			break;
		}
		if (fds[0].revents & POLLIN) {
			uint64_t v;
			ssize_t n = read(r->efd, &v, sizeof v);
			(void)n;
		}
		if (nfds > 1 && (fds[1].revents & POLLIN) && watch_read(r)) {
			int64_t now = mono_us();
			if (first < 0)
				first = now;
			due = now + debounce;
			if (due > first + 10 * debounce)
				due = first + 10 * debounce;
		}
		if (due >= 0 && mono_us() >= due) {
			first = due = -1;
			atomic_fetch_or(&r->files_why, WHY_WATCH);
			atomic_store(&r->files_at, atomic_fetch_add(&r->seq, 1) + 1);
		}
		run_pending(r);
	}
	return NULL;
}

/* ---- life cycle ---- */

static char **strv_copy(const char *const *v, size_t n)
{
	char **out = calloc(n > 0 ? n : 1, sizeof *out);
	for (size_t i = 0; out != NULL && i < n; i++) {
		out[i] = strdup(v[i]);
		if (out[i] == NULL) {
			while (i-- > 0)
				free(out[i]);
			free(out);
			out = NULL;
		}
	}
	return out;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static void reload_free(struct hl_reload *r)
{
	if (r->ino >= 0)
		close(r->ino);
	if (r->efd >= 0)
		close(r->efd);
	for (size_t i = 0; i < r->n_watches; i++) {
		free(r->watches[i].dir);
		free(r->watches[i].name);
	}
	free(r->watches);
	strv_free(r->paths, r->n_paths);
	strv_free(r->allowlists, r->load.n_allowlists);
	free(r->default_source);
	free(r->push_path);
	pthread_cond_destroy(&r->done_cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static int default_load(void *ctx, const char *const *paths, size_t n_paths,
                        const struct hl_setload_opts *opts, hl_matcher_t **out,
                        struct hl_compile_stats *stats, struct hl_diag *diag)
{
	(void)ctx;
	return hl_set_load(paths, n_paths, opts, out, stats, diag);
}

static int setup(struct hl_reload *r, const struct hl_reload_config *cfg)
{
	r->paths = strv_copy(cfg->paths, cfg->n_paths);
	r->allowlists = strv_copy(cfg->load.allowlists, cfg->load.n_allowlists);
	if (cfg->load.default_source != NULL)
		r->default_source = strdup(cfg->load.default_source);
	if (r->paths == NULL || r->allowlists == NULL ||
	    (cfg->load.default_source != NULL && r->default_source == NULL))
		return HL_ENOMEM;
	r->n_paths = cfg->n_paths;
	r->load = cfg->load;
	r->load.allowlists = (const char *const *)r->allowlists;
	r->load.default_source = r->default_source;

	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		fprintf(r->log, "%sreload: eventfd: %s\n", r->prefix, strerror(errno));
		return HL_EIO;
	}
	if (!cfg->watch)
		return 0;
	r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ino < 0) {
		fprintf(r->log, "%s--watch: inotify: %s\n", r->prefix, strerror(errno));
		return HL_EIO;
	}
	for (size_t i = 0; i < r->n_paths; i++) {
		int rc = watch_add(r, r->paths[i]);
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < r->load.n_allowlists; i++) {
		int rc = watch_add(r, r->allowlists[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

hl_reload_t *hl_reload_new(const struct hl_reload_config *cfg, hl_matcher_slot_t *slot)
{
	FILE *log = cfg->log != NULL ? cfg->log : stderr;
	const char *prefix = cfg->log_prefix != NULL ? cfg->log_prefix : "";
	if (slot == NULL || cfg->n_paths == 0 || cfg->paths == NULL) {
		fprintf(log, "%sreload: no indicator files to reload\n", prefix);
		return NULL;
	}
	struct hl_reload *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->efd = r->ino = -1;
	r->log = log;
	r->prefix = prefix;
	r->slot = slot;
	r->live = cfg->live;
	r->debounce_ms = cfg->debounce_ms;
	r->max_diag_lines = cfg->max_diag_lines;
	r->load_fn = cfg->load_fn != NULL ? cfg->load_fn : default_load;
	r->load_ctx = cfg->load_ctx;
	atomic_init(&r->stop, false);
	atomic_init(&r->seq, 0);
	atomic_init(&r->files_at, 0);
	atomic_init(&r->files_why, 0);
	atomic_init(&r->requests, 0);
	atomic_init(&r->watch_events, 0);

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int prc = pthread_cond_init(&r->done_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (prc != 0 || pthread_mutex_init(&r->lock, NULL) != 0) {
		if (prc == 0)
			pthread_cond_destroy(&r->done_cond);
		free(r);
		return NULL;
	}
	if (setup(r, cfg) != 0) {
		reload_free(r);
		return NULL;
	}

	/* the thread inherits a full mask: SIGHUP and friends go elsewhere */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&r->thread, NULL, reload_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(log, "%sreload: cannot start thread: %s\n", prefix, strerror(rc));
		reload_free(r);
		return NULL;
	}
	r->started = true;
	return r;
}

void hl_reload_destroy(hl_reload_t **r_p)
{
	if (r_p == NULL || *r_p == NULL)
		return;
	struct hl_reload *r = *r_p;
	*r_p = NULL;
	hl_reload_stop(r);
	if (r->started)
		pthread_join(r->thread, NULL);
	reload_free(r);
}

void hl_reload_stats(hl_reload_t *r, struct hl_reload_stats *st)
{
	pthread_mutex_lock(&r->lock);
	*st = r->st;
	pthread_mutex_unlock(&r->lock);
	st->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
	st->watch_events = atomic_load(&r->watch_events);
	st->indicators = current_count(r, &st->generation);
}

int hl_reload_wait(hl_reload_t *r, uint64_t done, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (timeout_ms >= 0) {
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (r->st.ok + r->st.failed + r->st.discarded < done) {
		int w = timeout_ms >= 0 ? pthread_cond_timedwait(&r->done_cond, &r->lock, &until)
		                        : pthread_cond_wait(&r->done_cond, &r->lock);
		if (w == ETIMEDOUT) {
			rc = HL_EAGAIN;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
