/* \summary: WAL checkpoints on a thread of their own, off the commit path
 *
 * SQLite's automatic checkpoint runs inside the commit that crosses its
 * threshold: that commit copies the WAL into the database and fsyncs it,
 * and every message waiting behind it waits too. After a burst of 100,000
 * sightings the paced latency's p99 was 352 ms instead of 35 ms
 * (docs/performance.md, "Sharer"). With HL_STORE_CHECKPOINT_THREAD the
 * writer's connection does no checkpoint of its own: its WAL hook (which
 * replaces the automatic one) wakes a thread that holds a second
 * connection and runs PASSIVE checkpoints, which never block the writer
 * and copy only what no reader still needs. The WAL then restarts from
 * its beginning at the writer's next transaction, and journal_size_limit
 * trims the file. Crash safety is SQLite's: a checkpoint cut short by a
 * kill is redone from the WAL at the next open.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "hotline/err.h"
#include "store.h"
#include "store_impl.h"

/* Wake the checkpointer once the WAL holds this much. */
#define CHECKPOINT_BYTES (16 * 1024 * 1024)
/* An incomplete checkpoint is tried again after this long. */
#define RETRY_MS 20

struct hls_checkpointer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool due, stop;
	int wake_pages; /* CHECKPOINT_BYTES in this database's pages */
	sqlite3 *db;
	unsigned long runs, failures; /* under mu */
};

static int on_wal_commit(void *ud, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	struct hls_checkpointer *c = ud;
	if (pages >= c->wake_pages) {
		pthread_mutex_lock(&c->mu);
		if (!c->due) {
			c->due = true;
			pthread_cond_signal(&c->wake);
		}
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

/* Wait until woken or until ms have passed (ms < 0: no limit). */
static void wait_wake(struct hls_checkpointer *c, int ms)
{
	if (ms < 0) {
		pthread_cond_wait(&c->wake, &c->mu);
		return;
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&c->wake, &c->mu, &until);
}

static void *run(void *arg)
{
	struct hls_checkpointer *c = arg;
	bool incomplete = false;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		/* A checkpoint that could not copy every frame (a reader still
		 * needed them, or the lock was busy) is tried again shortly. */
		if (!c->due && !c->stop)
			wait_wake(c, incomplete ? RETRY_MS : -1);
		if (c->stop)
			break;
		if (!c->due && !incomplete)
			continue;
		c->due = false;
		pthread_mutex_unlock(&c->mu);
		int log = 0, done = 0;
		int r = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
		                                  &done);
		incomplete = r == SQLITE_BUSY || (r == SQLITE_OK && done < log);
		pthread_mutex_lock(&c->mu);
		c->runs++;
		if (r != SQLITE_OK && r != SQLITE_BUSY)
			c->failures++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int hls_checkpointer_start(hl_store_t *s)
{
	struct hls_checkpointer *c = calloc(1, sizeof *c);
	if (c == NULL)
		return HL_ENOMEM;
	c->wake_pages = (int)(CHECKPOINT_BYTES / (s->page_size > 0 ? s->page_size : 4096));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->wake, NULL);
	int r = sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_busy_timeout(c->db, 1000);
	/* A connection that has not read the database yet does not know it is
	 * in WAL mode, and its checkpoints would do nothing. */
	if (r == SQLITE_OK)
		r = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (r != SQLITE_OK || pthread_create(&c->thread, NULL, run, c) != 0) {
		int rc = hls_fail(s, r != SQLITE_OK ? r : SQLITE_ERROR, "checkpoint thread");
		sqlite3_close(c->db);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return rc != 0 ? rc : HL_EIO;
	}
	s->checkpointer = c;
	sqlite3_wal_hook(s->db, on_wal_commit, c);
	return 0;
}

void hls_checkpointer_stop(hl_store_t *s)
{
	struct hls_checkpointer *c = s->checkpointer;
	if (c == NULL)
		return;
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
	free(c);
	s->checkpointer = NULL;
}

void hl_store_checkpoint_stats(hl_store_t *s, unsigned long *runs, unsigned long *failures)
{
	struct hls_checkpointer *c = s->checkpointer;
	*runs = *failures = 0;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	*runs = c->runs;
	*failures = c->failures;
	pthread_mutex_unlock(&c->mu);
}
