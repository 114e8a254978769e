/* \summary: evidence pcaps named by SHA-256 (see evidence.h) */
#define _GNU_SOURCE /* fopencookie, mkostemp, GNU strerror_r */
#include "evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotline/err.h"

#define TEMP_PREFIX ".hl-evidence-"
#define NAME_LEN (64 + sizeof ".pcap" - 1)

enum fail_kind { FAIL_CREATE, FAIL_WRITE, FAIL_RENAME, FAIL_EVICT, FAIL_SCAN, FAIL_TOOBIG, FAIL_N };

static const char *const fail_what[FAIL_N] = {
        "cannot create a temporary file", "cannot write", "cannot rename to",
        "cannot delete (disk cap)",       "cannot scan",  "file larger than the whole cap",
};

/* One file on disk, in the order it was written (or its mtime at open). */
struct ev_file {
	unsigned char sha[32];
	uint64_t size;
};

struct hl_evidence_store {
	struct hl_evidence_config cfg;
	char *dir;
	pthread_mutex_t lock;  /* everything below */
	struct ev_file *files; /* files[head .. head+n), oldest first */
	size_t head, n, cap;
	uint64_t total;
	bool logged[FAIL_N];
	struct hl_evidence_store_stats st;
};

/* ---- store: accounting (caller holds the lock) ---- */

static int files_push(hl_evidence_store_t *s, const unsigned char sha[32], uint64_t size)
{
	if (s->head + s->n == s->cap) {
		if (s->head > 0) {
			memmove(s->files, s->files + s->head, s->n * sizeof *s->files);
			s->head = 0;
		} else {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct ev_file *grown = realloc(s->files, cap * sizeof *grown);
			if (grown == NULL)
				return HL_ENOMEM;
			s->files = grown;
			s->cap = cap;
		}
	}
	struct ev_file *e = &s->files[s->head + s->n++];
	memcpy(e->sha, sha, 32);
	e->size = size;
	s->total += size;
	return 0;
}

/* Index (from head) of the file, searching newest first; -1 if absent. */
static ptrdiff_t files_find(const hl_evidence_store_t *s, const unsigned char sha[32])
{
	for (size_t i = s->n; i-- > 0;)
		if (memcmp(s->files[s->head + i].sha, sha, 32) == 0)
			return (ptrdiff_t)i;
	return -1;
}

static void files_remove(hl_evidence_store_t *s, size_t i)
{
	struct ev_file *base = s->files + s->head;
	s->total -= base[i].size;
	memmove(base + i, base + i + 1, (s->n - i - 1) * sizeof *base);
	s->n--;
}

static void fail_locked(hl_evidence_store_t *s, enum fail_kind kind, const char *path, int e)
{
	uint64_t *counter[FAIL_N] = {&s->st.create_errors, &s->st.write_errors,
	                             &s->st.rename_errors, &s->st.evict_errors,
	                             &s->st.scan_errors,   &s->st.files_too_big};
	(*counter[kind])++;
	if (s->logged[kind] || s->cfg.log == NULL)
		return;
	s->logged[kind] = true;
	char buf[128];
	const char *msg = e != 0 ? strerror_r(e, buf, sizeof buf) : "over --evidence-max-bytes";
	fprintf(s->cfg.log, "evidence: %s %s: %s (further such failures are counted, not logged)\n",
	        fail_what[kind], path, msg);
	fflush(s->cfg.log);
}

static void fail(hl_evidence_store_t *s, enum fail_kind kind, const char *path, int e)
{
	pthread_mutex_lock(&s->lock);
	fail_locked(s, kind, path, e);
	pthread_mutex_unlock(&s->lock);
}

/* "<dir>/<hex>.pcap" into buf of PATH_MAX. */
static int final_path(const hl_evidence_store_t *s, const unsigned char sha[32], char *buf,
                      size_t len)
{
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, sha, 32);
	int n = snprintf(buf, len, "%s/%s.pcap", s->dir, hex);
	return n > 0 && (size_t)n < len ? 0 : HL_ERANGE;
}

/* Delete the oldest files until the total fits the cap; the newest file
 * (the one just written) is never evicted here. */
static void enforce_cap(hl_evidence_store_t *s, size_t keep_newest)
{
	char path[PATH_MAX];
	while (s->total > s->cfg.max_bytes && s->n > keep_newest) {
		struct ev_file old = s->files[s->head];
		s->head++;
		s->n--;
		s->total -= old.size;
		if (final_path(s, old.sha, path, sizeof path) != 0)
			continue;
		if (unlink(path) != 0 && errno != ENOENT) {
			/* forgotten anyway: retrying it forever would stop the cap */
			fail_locked(s, FAIL_EVICT, path, errno);
			continue;
		}
		s->st.files_evicted++;
		s->st.bytes_evicted += old.size;
	}
	if (s->n == 0)
		s->head = 0;
}

/* ---- store: open, scan, close ---- */

void hl_evidence_config_init(struct hl_evidence_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_bytes = 1ull << 30;
	cfg->packets_before = 16;
	cfg->packets_after = 16;
	cfg->ring_bytes = 64u * 1024;
	cfg->worker_memory = 32ull << 20;
}

struct scanned {
	struct ev_file f;
	struct timespec mtime;
};

static int scanned_cmp(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return memcmp(x->f.sha, y->f.sha, 32);
}

/* Only names this module makes count: other files are left alone. */
static bool parse_name(const char *name, unsigned char sha[32])
{
	if (strlen(name) != NAME_LEN || strcmp(name + 64, ".pcap") != 0)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	size_t got = 0;
	return sodium_hex2bin(sha, 32, name, 64, NULL, &got, NULL) == 0 && got == 32;
}

static int scan_dir(hl_evidence_store_t *s)
{
	DIR *d = opendir(s->dir);
	if (d == NULL) {
		fail_locked(s, FAIL_SCAN, s->dir, errno);
		return 0;
	}
	struct scanned *found = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, TEMP_PREFIX, sizeof TEMP_PREFIX - 1) == 0) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				s->st.stale_temps++;
			continue;
		}
		struct scanned sc;
		struct stat st;
		if (!parse_name(de->d_name, sc.f.sha) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		sc.f.size = (uint64_t)st.st_size;
		sc.mtime = st.st_mtim;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct scanned *grown = realloc(found, ncap * sizeof *grown);
			if (grown == NULL) {
				rc = HL_ENOMEM;
				break;
			}
			found = grown;
			cap = ncap;
		}
		found[n++] = sc;
	}
	closedir(d);
	if (rc == 0 && n > 0) {
		qsort(found, n, sizeof *found, scanned_cmp);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = files_push(s, found[i].f.sha, found[i].f.size);
	}
	free(found);
	return rc;
}

hl_evidence_store_t *hl_evidence_store_open(const struct hl_evidence_config *cfg, int *err)
{
	if (cfg == NULL || cfg->dir == NULL || cfg->dir[0] == '\0' ||
	    strlen(cfg->dir) + 1 + NAME_LEN + 1 > PATH_MAX) {
		*err = HL_EINVAL;
		return NULL;
	}
	if (cfg->max_bytes == 0 || cfg->packets_before > HL_EVIDENCE_MAX_PACKETS ||
	    cfg->packets_after > HL_EVIDENCE_MAX_PACKETS) {
		*err = HL_ERANGE;
		return NULL;
	}
	hl_evidence_store_t *s = calloc(1, sizeof *s);
	if (sodium_init() < 0 || s == NULL || (s->dir = strdup(cfg->dir)) == NULL) {
		free(s);
		*err = HL_ENOMEM;
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.dir = s->dir;
	pthread_mutex_init(&s->lock, NULL);
	int rc = scan_dir(s);
	if (rc != 0) {
		*err = rc;
		hl_evidence_store_close(&s);
		return NULL;
	}
	enforce_cap(s, 0);
	return s;
}

void hl_evidence_store_close(hl_evidence_store_t **store_p)
{
	hl_evidence_store_t *s = *store_p;
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->files);
	free(s->dir);
	free(s);
	*store_p = NULL;
}

void hl_evidence_store_stats(hl_evidence_store_t *s, struct hl_evidence_store_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	st->files_on_disk = s->n;
	st->bytes_on_disk = s->total;
	pthread_mutex_unlock(&s->lock);
}

/* ---- store: writing one file ---- */

struct ev_pkt {
	struct ev_pkt *next;
	int64_t ts;
	uint32_t caplen, wirelen, room; /* room: bytes allocated for data */
	uint8_t data[];
};

/* A stdio stream that hashes every byte it hands to the file, so the name
 * is the hash of exactly what was written, and that keeps the first error
 * (pcap_dump() returns none). */
struct sink {
	int fd;
	bool closed;
	int err;
	uint64_t bytes;
	crypto_hash_sha256_state sha;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *k = cookie;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(k->fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (k->err == 0)
				k->err = w < 0 ? errno : ENOSPC;
			return -1;
		}
		crypto_hash_sha256_update(&k->sha, (const unsigned char *)buf + done, (size_t)w);
		done += (size_t)w;
		k->bytes += (uint64_t)w;
	}
	return (ssize_t)len;
}

static int sink_close(void *cookie)
{
	struct sink *k = cookie;
	k->closed = true;
	if (close(k->fd) != 0 && k->err == 0)
		k->err = errno;
	return k->err == 0 ? 0 : -1;
}

static int dump_packets(struct sink *k, int linktype, const struct ev_pkt *p)
{
	cookie_io_functions_t io = {.write = sink_write, .close = sink_close};
	FILE *fp = fopencookie(k, "w", io);
	if (fp == NULL) {
		close(k->fd);
		return HL_ENOMEM;
	}
	setvbuf(fp, NULL, _IOFBF, 64 * 1024);
	/* libpcap writes the header: it maps the DLT to the file's LINKTYPE */
	pcap_t *dead = pcap_open_dead(linktype, (int)HL_EVIDENCE_SNAPLEN);
	pcap_dumper_t *d = dead != NULL ? pcap_dump_fopen(dead, fp) : NULL;
	if (d == NULL) {
		if (!k->closed)
			fclose(fp);
		if (dead != NULL)
			pcap_close(dead);
		if (k->err == 0)
			k->err = EINVAL; /* a link type pcap files cannot carry */
		return dead == NULL ? HL_ENOMEM : HL_EIO;
	}
	for (; p != NULL; p = p->next) {
		struct pcap_pkthdr h;
		int64_t sec = p->ts / 1000000, usec = p->ts % 1000000;
		if (usec < 0) {
			sec--;
			usec += 1000000;
		}
		h.ts.tv_sec = (time_t)sec;
		h.ts.tv_usec = (suseconds_t)usec;
		h.caplen = p->caplen;
		h.len = p->wirelen;
		pcap_dump((u_char *)d, &h, p->data);
	}
	pcap_dump_close(d); /* flushes through sink_write and closes the fd */
	pcap_close(dead);
	return k->err == 0 ? 0 : HL_EIO;
}

static int errno_code(int e)
{
	return e == EACCES || e == EPERM || e == EROFS ? HL_EPERM : HL_EIO;
}

/* Under the lock: the temporary file becomes "<sha>.pcap" (or is dropped
 * when that exists: same bytes), then the cap. */
static int publish(hl_evidence_store_t *s, const char *tmp, const unsigned char sha[32],
                   uint64_t size, char *path, size_t pathlen)
{
	int rc = final_path(s, sha, path, pathlen);
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		unlink(tmp);
		/* referenced again: make it the newest, here and for a restart */
		utimensat(AT_FDCWD, path, NULL, 0);
		ptrdiff_t i = files_find(s, sha);
		if (i >= 0)
			files_remove(s, (size_t)i);
		s->st.files_deduped++;
	} else if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		fail_locked(s, FAIL_RENAME, path, e);
		return errno_code(e);
	} else {
		s->st.files_written++;
	}
	if (size > s->cfg.max_bytes) {
		unlink(path);
		fail_locked(s, FAIL_TOOBIG, path, 0);
		return HL_ELIMIT;
	}
	rc = files_push(s, sha, size);
	if (rc != 0) {
		unlink(path); /* unaccounted files would escape the cap */
		return rc;
	}
	enforce_cap(s, 1);
	return 0;
}

static int store_write(hl_evidence_store_t *s, int linktype, const struct ev_pkt *pkts,
                       struct hl_evidence_result *r, char **path_out)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s/" TEMP_PREFIX "XXXXXX", s->dir);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return HL_ERANGE;
	struct sink k = {.fd = mkostemp(tmp, O_CLOEXEC)};
	if (k.fd < 0) {
		int e = errno;
		fail(s, FAIL_CREATE, tmp, e);
		return errno_code(e);
	}
	(void)fchmod(k.fd, 0640);
	crypto_hash_sha256_init(&k.sha);
	int rc = dump_packets(&k, linktype, pkts);
	if (rc != 0) {
		unlink(tmp);
		if (rc == HL_EIO)
			fail(s, FAIL_WRITE, tmp, k.err);
		return rc;
	}
	unsigned char sha[32];
	crypto_hash_sha256_final(&k.sha, sha);
	char path[PATH_MAX];
	pthread_mutex_lock(&s->lock);
	rc = publish(s, tmp, sha, k.bytes, path, sizeof path);
	pthread_mutex_unlock(&s->lock);
	if (rc != 0)
		return rc;
	if ((*path_out = strdup(path)) == NULL)
		return HL_ENOMEM;
	sodium_bin2hex(r->sha256, sizeof r->sha256, sha, 32);
	r->path = *path_out;
	return 0;
}

/* ---- worker and flows ---- */

struct hl_evidence_worker {
	hl_evidence_store_t *store;
	uint32_t before, after, ring_bytes;
	uint64_t memory;
	struct hl_evidence_worker_stats st;
};

enum flow_state { COLLECT_BEFORE, COLLECT_AFTER, DONE };

struct hl_evidence_flow {
	hl_evidence_worker_t *w;
	struct ev_pkt *head, *tail; /* oldest first */
	uint32_t count;             /* packets held */
	uint32_t after;             /* packets added since the trigger */
	uint64_t ring_bytes;        /* captured bytes held before the trigger */
	int linktype;               /* of the first packet kept; -1 before */
	uint8_t state;
	bool refused;
	char *path;
	struct hl_evidence_result result;
};

hl_evidence_worker_t *hl_evidence_worker_new(hl_evidence_store_t *store)
{
	if (store == NULL)
		return NULL;
	hl_evidence_worker_t *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->store = store;
	w->before = store->cfg.packets_before;
	w->after = store->cfg.packets_after;
	w->ring_bytes = store->cfg.ring_bytes;
	w->memory = store->cfg.worker_memory;
	return w;
}

void hl_evidence_worker_destroy(hl_evidence_worker_t **w_p)
{
	free(*w_p);
	*w_p = NULL;
}

void hl_evidence_worker_stats(const hl_evidence_worker_t *w, struct hl_evidence_worker_stats *st)
{
	*st = w->st;
}

static uint64_t pkt_cost(uint32_t room)
{
	return sizeof(struct ev_pkt) + room;
}

static void pkt_free(hl_evidence_worker_t *w, struct ev_pkt *p)
{
	w->st.memory_used -= pkt_cost(p->room);
	free(p);
}

static struct ev_pkt *pop_oldest(hl_evidence_flow_t *f)
{
	struct ev_pkt *p = f->head;
	f->head = p->next;
	if (f->head == NULL)
		f->tail = NULL;
	f->count--;
	if (f->state == COLLECT_BEFORE)
		f->ring_bytes -= p->caplen;
	return p;
}

static void drop_all(hl_evidence_flow_t *f)
{
	while (f->head != NULL)
		pkt_free(f->w, pop_oldest(f));
	f->ring_bytes = 0;
}

/* A copy of the frame's first len bytes, charged to the worker; reuses
 * spare when it is big enough. NULL over the memory cap. */
static struct ev_pkt *pkt_copy(hl_evidence_worker_t *w, struct ev_pkt *spare,
                               const struct hl_frame *fr, uint32_t len)
{
	struct ev_pkt *p = spare;
	if (p == NULL || p->room < len) {
		if (spare != NULL)
			pkt_free(w, spare);
		p = NULL;
		if (w->st.memory_used + pkt_cost(len) > w->memory ||
		    (p = malloc(sizeof *p + len)) == NULL)
			return NULL;
		p->room = len;
		w->st.memory_used += pkt_cost(len);
		if (w->st.memory_used > w->st.memory_peak)
			w->st.memory_peak = w->st.memory_used;
	}
	p->next = NULL;
	p->ts = fr->ts;
	p->caplen = len;
	p->wirelen = fr->wirelen > len ? fr->wirelen : len;
	if (len > 0)
		memcpy(p->data, fr->data, len);
	return p;
}

static void append(hl_evidence_flow_t *f, struct ev_pkt *p)
{
	if (f->tail != NULL)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
	f->count++;
}

hl_evidence_flow_t *hl_evidence_flow_new(hl_evidence_worker_t *w)
{
	if (w == NULL)
		return NULL;
	hl_evidence_flow_t *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	f->w = w;
	f->linktype = -1;
	f->state = COLLECT_BEFORE;
	return f;
}

void hl_evidence_flow_destroy(hl_evidence_flow_t **f_p)
{
	hl_evidence_flow_t *f = *f_p;
	if (f == NULL)
		return;
	if (f->state == COLLECT_AFTER)
		f->w->st.abandoned++;
	drop_all(f);
	free(f->path);
	free(f);
	*f_p = NULL;
}

static void complete(hl_evidence_flow_t *f)
{
	hl_evidence_worker_t *w = f->w;
	struct hl_evidence_result *r = &f->result;
	memset(r, 0, sizeof *r);
	r->path = "";
	if (f->count == 0) {
		r->rc = HL_ENOTFOUND;
		w->st.empty++;
	} else {
		r->rc = store_write(w->store, f->linktype, f->head, r, &f->path);
		if (r->rc == 0) {
			r->packets = f->count;
			w->st.written++;
		} else {
			r->sha256[0] = '\0';
			r->path = "";
			w->st.failed++;
		}
	}
	drop_all(f);
	f->state = DONE;
}

/* Before the trigger: keep the last N+1 packets within ring_bytes. */
static void keep_before(hl_evidence_flow_t *f, const struct hl_frame *fr)
{
	hl_evidence_worker_t *w = f->w;
	if (f->refused || w->ring_bytes == 0)
		return;
	uint32_t len = fr->caplen;
	if (len > w->ring_bytes)
		len = w->ring_bytes;
	if (len > HL_EVIDENCE_SNAPLEN)
		len = HL_EVIDENCE_SNAPLEN;
	struct ev_pkt *spare = NULL;
	while (f->head != NULL && (f->count > w->before || f->ring_bytes + len > w->ring_bytes)) {
		if (spare != NULL)
			pkt_free(w, spare);
		spare = pop_oldest(f);
	}
	struct ev_pkt *p = pkt_copy(w, spare, fr, len);
	if (p == NULL) {
		drop_all(f);
		f->refused = true;
		w->st.flows_refused++;
		return;
	}
	if (len < fr->caplen)
		w->st.truncated++;
	if (f->linktype < 0)
		f->linktype = fr->linktype;
	append(f, p);
	f->ring_bytes += len;
}

int hl_evidence_add_packet(hl_evidence_flow_t *f, const struct hl_frame *fr)
{
	if (f == NULL || fr == NULL || f->state == DONE || (fr->caplen > 0 && fr->data == NULL))
		return 0;
	if (f->linktype >= 0 && fr->linktype != f->linktype) {
		f->w->st.linktype_drops++;
		return 0;
	}
	if (f->state == COLLECT_BEFORE) {
		keep_before(f, fr);
		return 0;
	}
	uint32_t len = fr->caplen < HL_EVIDENCE_SNAPLEN ? fr->caplen : HL_EVIDENCE_SNAPLEN;
	struct ev_pkt *p = pkt_copy(f->w, NULL, fr, len);
	if (p == NULL) {
		f->w->st.cut_short++;
		complete(f);
		return 1;
	}
	if (len < fr->caplen)
		f->w->st.truncated++;
	if (f->linktype < 0)
		f->linktype = fr->linktype;
	append(f, p);
	if (++f->after >= f->w->after) {
		complete(f);
		return 1;
	}
	return 0;
}

int hl_evidence_trigger(hl_evidence_flow_t *f)
{
	if (f == NULL)
		return 0;
	if (f->state == DONE)
		return 1;
	if (f->state == COLLECT_AFTER)
		return 0;
	f->state = COLLECT_AFTER;
	f->ring_bytes = 0;
	f->w->st.triggered++;
	if (f->w->after == 0) {
		complete(f);
		return 1;
	}
	return 0;
}

int hl_evidence_finish(hl_evidence_flow_t *f)
{
	if (f == NULL)
		return 0;
	if (f->state == COLLECT_AFTER) {
		complete(f);
		return 1;
	}
	if (f->state == COLLECT_BEFORE) {
		/* no sighting: nothing to write, and later packets are ignored */
		drop_all(f);
		f->result.rc = HL_ENOTFOUND;
		f->result.path = "";
		f->state = DONE;
	}
	return 0;
}

const struct hl_evidence_result *hl_evidence_result(const hl_evidence_flow_t *f)
{
	return f != NULL && f->state == DONE ? &f->result : NULL;
}

void hl_evidence_to_sighting(const struct hl_evidence_result *r, struct hl_sighting_evidence *e)
{
	memset(e, 0, sizeof *e);
	if (r == NULL || r->rc != 0)
		return;
	e->present = true;
	memcpy(e->sha256, r->sha256, sizeof e->sha256);
	e->path = r->path;
	e->packets = r->packets;
}
