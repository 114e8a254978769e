/* \summary: unit tests for evidence pcaps: bounds, naming, dedup, disk and memory caps, failures */
#define _GNU_SOURCE /* open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "evidence.h"
#include "hotline/err.h"

#define T0 1700000000123456LL /* first packet, Unix µs */
#define MAXPKT 2048

static char root[256];

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "%s/evidence-tests-%ld", HOTLINE_BINARY_DIR, (long)getpid());
	rm_rf(root);
	return mkdir(root, 0755);
}

static int group_teardown(void **state)
{
	(void)state;
	rm_rf(root);
	return 0;
}

/* A fresh empty directory root/name, path into buf. */
static const char *fresh_dir(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", root, name);
	rm_rf(buf);
	assert_int_equal(mkdir(buf, 0755), 0);
	return buf;
}

static uint8_t pkt_bytes[MAXPKT];

/* Packet i: len bytes, first byte i, the rest a pattern of i and the
 * salt; ts T0 + i ms + 7 µs. */
static struct hl_frame frame_of(uint32_t i, uint32_t len, uint8_t salt, int linktype)
{
	assert_true(len <= MAXPKT);
	for (uint32_t k = 0; k < len; k++)
		pkt_bytes[k] = (uint8_t)(i * 7 + k * 13 + salt);
	if (len > 0)
		pkt_bytes[0] = (uint8_t)i;
	struct hl_frame f = {
	        .ts = T0 + (int64_t)i * 1000 + 7,
	        .caplen = len,
	        .wirelen = len + 4,
	        .linktype = linktype,
	        .data = pkt_bytes,
	};
	return f;
}

static int add(hl_evidence_flow_t *f, uint32_t i, uint32_t len, uint8_t salt)
{
	struct hl_frame fr = frame_of(i, len, salt, DLT_EN10MB);
	return hl_evidence_add_packet(f, &fr);
}

static size_t count_names(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), sl = strlen(suffix);
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    (len >= sl && strcmp(de->d_name + len - sl, suffix) == 0) &&
		    strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static size_t count_temps(const char *dir)
{
	return count_names(dir, ".hl-evidence-", "");
}

static size_t count_pcaps(const char *dir)
{
	return count_names(dir, "", ".pcap");
}

static void sha_of_file(const char *path, char hex[65])
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		crypto_hash_sha256_update(&st, buf, n);
	fclose(fp);
	unsigned char sha[32];
	crypto_hash_sha256_final(&st, sha);
	sodium_bin2hex(hex, 65, sha, 32);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The file holds exactly packets ids[0..n) of length len (salt), in order,
 * with their timestamps and lengths; its name is its SHA-256. */
static void expect_file(const struct hl_evidence_result *r, const char *dir, const uint32_t *ids,
                        size_t n, uint32_t len, uint8_t salt)
{
	assert_non_null(r);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->packets, n);
	char want[1024], hex[65];
	sha_of_file(r->path, hex);
	assert_string_equal(hex, r->sha256);
	snprintf(want, sizeof want, "%s/%s.pcap", dir, hex);
	assert_string_equal(r->path, want);

	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(r->path, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t got = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		assert_true(got < n);
		struct hl_frame f = frame_of(ids[got], len, salt, DLT_EN10MB);
		int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		assert_true(ts == f.ts);
		assert_int_equal(h->caplen, f.caplen);
		assert_int_equal(h->len, f.wirelen);
		assert_memory_equal(data, f.data, f.caplen);
		got++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	assert_int_equal(got, n);
	pcap_close(p);
}

static hl_evidence_store_t *open_store(const char *dir, struct hl_evidence_config *cfg)
{
	cfg->dir = dir;
	int err = 0;
	hl_evidence_store_t *s = hl_evidence_store_open(cfg, &err);
	assert_non_null(s);
	return s;
}

static void seq(uint32_t *ids, uint32_t from, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		ids[i] = from + i;
}

/* ---- bounds ---- */

static void keeps_n_before_trigger_and_m_after(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("bounds", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	assert_non_null(f);

	for (uint32_t i = 0; i < 40; i++) {
		int rc = add(f, i, 60 + i, 0);
		if (i == 20) {
			assert_int_equal(hl_evidence_trigger(f), 0);
			assert_int_equal(hl_evidence_trigger(f), 0); /* second sighting */
		}
		if (i == 25)
			assert_int_equal(hl_evidence_trigger(f), 0);
		assert_int_equal(rc, i == 36 ? 1 : 0);
		if (i < 36)
			assert_null(hl_evidence_result(f));
	}
	const struct hl_evidence_result *r = hl_evidence_result(f);
	/* 16 before + the trigger (20) + 16 after */
	uint32_t ids[33];
	seq(ids, 4, 33);
	assert_non_null(r);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->packets, 33);
	assert_string_equal(r->path + strlen(r->path) - 5, ".pcap");
	/* lengths differ per packet: check each against its own length */
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(r->path, err);
	assert_non_null(p);
	struct pcap_pkthdr *h;
	const u_char *data;
	for (uint32_t j = 0; j < 33; j++) {
		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		struct hl_frame fr = frame_of(ids[j], 60 + ids[j], 0, DLT_EN10MB);
		assert_true((int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec == fr.ts);
		assert_int_equal(h->caplen, fr.caplen);
		assert_int_equal(h->len, fr.wirelen);
		assert_memory_equal(data, fr.data, fr.caplen);
	}
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	char hex[65];
	sha_of_file(r->path, hex);
	assert_string_equal(hex, r->sha256);

	/* a later sighting of the flow shares the file */
	assert_int_equal(hl_evidence_trigger(f), 1);
	assert_ptr_equal(hl_evidence_result(f), r);
	assert_int_equal(hl_evidence_finish(f), 0);

	struct hl_sighting_evidence ev;
	hl_evidence_to_sighting(r, &ev);
	assert_true(ev.present);
	assert_string_equal(ev.sha256, r->sha256);
	assert_ptr_equal(ev.path, r->path);
	assert_int_equal(ev.packets, 33);

	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.triggered, 1);
	assert_int_equal(ws.written, 1);
	assert_int_equal(ws.memory_used, 0);
	assert_true(ws.memory_peak > 0);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_written, 1);
	assert_int_equal(ss.files_on_disk, 1);
	assert_int_equal(ss.bytes_on_disk, file_size(r->path));
	assert_int_equal(ss.bytes_on_disk, 24 + 33 * (16 + 60) + (4 + 36) * 33 / 2);
	assert_int_equal(count_temps(dir), 0);

	hl_evidence_flow_destroy(&f);
	assert_null(f);
	hl_evidence_worker_destroy(&w);
	assert_null(w);
	hl_evidence_store_close(&s);
	assert_null(s);
}

static void ring_is_bounded_in_bytes(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("ringbytes", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.ring_bytes = 300;
	cfg.packets_after = 2;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(add(f, i, 100, 1), 0);
	assert_int_equal(hl_evidence_trigger(f), 0);
	assert_int_equal(add(f, 10, 100, 1), 0);
	assert_int_equal(add(f, 11, 100, 1), 1);
	uint32_t ids[] = {7, 8, 9, 10, 11}; /* 300 bytes before, then 2 after */
	expect_file(hl_evidence_result(f), dir, ids, 5, 100, 1);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void packet_over_ring_bytes_is_kept_truncated(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("trunc", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.ring_bytes = 50;
	cfg.packets_after = 0;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	assert_int_equal(add(f, 3, 100, 0), 0);
	assert_int_equal(hl_evidence_trigger(f), 1); /* M = 0: written at once */
	const struct hl_evidence_result *r = hl_evidence_result(f);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->packets, 1);
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(r->path, err);
	assert_non_null(p);
	struct pcap_pkthdr *h;
	const u_char *data;
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	struct hl_frame fr = frame_of(3, 100, 0, DLT_EN10MB);
	assert_int_equal(h->caplen, 50);
	assert_int_equal(h->len, fr.wirelen);
	assert_memory_equal(data, fr.data, 50);
	pcap_close(p);
	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.truncated, 1);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void flow_end_before_m_writes_what_it_has(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("early", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(add(f, i, 80, 2), 0);
	assert_int_equal(hl_evidence_trigger(f), 0);
	assert_int_equal(add(f, 6, 80, 2), 0);
	assert_int_equal(add(f, 7, 80, 2), 0);
	assert_null(hl_evidence_result(f));
	assert_int_equal(hl_evidence_finish(f), 1);
	uint32_t ids[8];
	seq(ids, 0, 8);
	expect_file(hl_evidence_result(f), dir, ids, 8, 80, 2);
	assert_int_equal(hl_evidence_finish(f), 0);
	assert_int_equal(hl_evidence_trigger(f), 1);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void trigger_with_no_packets_before(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("nopre", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 3;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);

	/* a trigger before any packet: the file is the M packets after */
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	assert_int_equal(hl_evidence_trigger(f), 0);
	assert_int_equal(add(f, 0, 70, 3), 0);
	assert_int_equal(add(f, 1, 70, 3), 0);
	assert_int_equal(add(f, 2, 70, 3), 1);
	uint32_t ids[] = {0, 1, 2};
	expect_file(hl_evidence_result(f), dir, ids, 3, 70, 3);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);

	/* N = 0: the triggering packet and the M after */
	fresh_dir("nopre0", dir, sizeof dir);
	cfg.packets_before = 0;
	cfg.packets_after = 2;
	s = open_store(dir, &cfg);
	w = hl_evidence_worker_new(s);
	f = hl_evidence_flow_new(w);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(add(f, i, 70, 4), 0);
	assert_int_equal(hl_evidence_trigger(f), 0);
	assert_int_equal(add(f, 5, 70, 4), 0);
	assert_int_equal(add(f, 6, 70, 4), 1);
	uint32_t ids0[] = {4, 5, 6};
	expect_file(hl_evidence_result(f), dir, ids0, 3, 70, 4);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void no_packets_at_all_gives_no_file(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("empty", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	assert_int_equal(hl_evidence_trigger(f), 0);
	assert_int_equal(hl_evidence_finish(f), 1);
	const struct hl_evidence_result *r = hl_evidence_result(f);
	assert_int_equal(r->rc, HL_ENOTFOUND);
	struct hl_sighting_evidence ev;
	hl_evidence_to_sighting(r, &ev);
	assert_false(ev.present);
	hl_evidence_to_sighting(NULL, &ev);
	assert_false(ev.present);
	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.empty, 1);
	assert_int_equal(count_pcaps(dir), 0);
	hl_evidence_flow_destroy(&f);

	/* a flow that ends without a sighting writes nothing, keeps nothing */
	f = hl_evidence_flow_new(w);
	assert_int_equal(add(f, 0, 90, 0), 0);
	assert_int_equal(hl_evidence_finish(f), 0);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.memory_used, 0);
	assert_int_equal(add(f, 1, 90, 0), 0);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.memory_used, 0);
	hl_evidence_flow_destroy(&f);

	/* destroyed while collecting: abandoned, nothing written */
	f = hl_evidence_flow_new(w);
	assert_int_equal(add(f, 0, 90, 0), 0);
	assert_int_equal(hl_evidence_trigger(f), 0);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.abandoned, 1);
	assert_int_equal(ws.memory_used, 0);
	assert_int_equal(count_pcaps(dir), 0);
	assert_int_equal(count_temps(dir), 0);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

/* ---- naming and dedup ---- */

/* One flow of one packet (id, len, salt), M = 0; returns its result copy. */
static struct hl_evidence_result one_file(hl_evidence_worker_t *w, uint32_t id, uint32_t len,
                                          uint8_t salt, char *path, size_t pathlen)
{
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	assert_int_equal(add(f, id, len, salt), 0);
	assert_int_equal(hl_evidence_trigger(f), 1);
	struct hl_evidence_result r = *hl_evidence_result(f);
	snprintf(path, pathlen, "%s", r.path);
	r.path = path;
	hl_evidence_flow_destroy(&f);
	return r;
}

static void identical_evidence_is_one_file(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("dedup", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 2;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *a = hl_evidence_flow_new(w), *b = hl_evidence_flow_new(w);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(add(a, i, 64, 9), i == 4 ? 1 : 0);
		assert_int_equal(add(b, i, 64, 9), i == 4 ? 1 : 0);
		if (i == 2) {
			hl_evidence_trigger(a);
			hl_evidence_trigger(b);
		}
	}
	const struct hl_evidence_result *ra = hl_evidence_result(a), *rb = hl_evidence_result(b);
	assert_int_equal(ra->rc, 0);
	assert_int_equal(rb->rc, 0);
	assert_string_equal(ra->sha256, rb->sha256);
	assert_string_equal(ra->path, rb->path);
	uint32_t ids[] = {0, 1, 2, 3, 4};
	expect_file(rb, dir, ids, 5, 64, 9);
	assert_int_equal(count_pcaps(dir), 1);
	assert_int_equal(count_temps(dir), 0);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_written, 1);
	assert_int_equal(ss.files_deduped, 1);
	assert_int_equal(ss.files_on_disk, 1);
	assert_int_equal(ss.bytes_on_disk, 24 + 5 * (16 + 64));
	hl_evidence_flow_destroy(&a);
	hl_evidence_flow_destroy(&b);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

/* ---- disk cap ---- */

#define ONE_FILE (24 + 16 + 100) /* one packet of 100 bytes */

static void disk_cap_evicts_oldest_first(void **state)
{
	(void)state;
	char dir[512], p[4][1024];
	fresh_dir("cap", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.max_bytes = 2 * ONE_FILE + 20;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	for (uint32_t i = 0; i < 4; i++) {
		struct hl_evidence_result r = one_file(w, i, 100, 0, p[i], sizeof p[i]);
		assert_int_equal(r.rc, 0);
		assert_int_equal(file_size(p[i]), ONE_FILE);
	}
	assert_false(exists(p[0]));
	assert_false(exists(p[1]));
	assert_true(exists(p[2]));
	assert_true(exists(p[3]));
	assert_int_equal(count_pcaps(dir), 2);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_written, 4);
	assert_int_equal(ss.files_evicted, 2);
	assert_int_equal(ss.bytes_evicted, 2 * ONE_FILE);
	assert_int_equal(ss.files_on_disk, 2);
	assert_int_equal(ss.bytes_on_disk, 2 * ONE_FILE);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void dedup_makes_a_file_the_newest(void **state)
{
	(void)state;
	char dir[512], p[4][1024], again[1024];
	fresh_dir("capdedup", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.max_bytes = 3 * ONE_FILE;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(one_file(w, i, 100, 0, p[i], sizeof p[i]).rc, 0);
	/* the oldest, written again: now the newest */
	assert_int_equal(one_file(w, 0, 100, 0, again, sizeof again).rc, 0);
	assert_string_equal(again, p[0]);
	assert_int_equal(one_file(w, 3, 100, 0, p[3], sizeof p[3]).rc, 0);
	assert_true(exists(p[0]));
	assert_false(exists(p[1]));
	assert_true(exists(p[2]));
	assert_true(exists(p[3]));
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_deduped, 1);
	assert_int_equal(ss.files_evicted, 1);
	assert_int_equal(ss.files_on_disk, 3);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void file_over_whole_cap_is_refused(void **state)
{
	(void)state;
	char dir[512], p[1024];
	fresh_dir("toobig", dir, sizeof dir);
	char *log = NULL;
	size_t loglen = 0;
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.max_bytes = ONE_FILE - 1;
	cfg.log = open_memstream(&log, &loglen);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	assert_int_equal(one_file(w, 0, 100, 0, p, sizeof p).rc, HL_ELIMIT);
	assert_int_equal(one_file(w, 1, 100, 0, p, sizeof p).rc, HL_ELIMIT);
	assert_int_equal(count_pcaps(dir), 0);
	assert_int_equal(count_temps(dir), 0);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_too_big, 2);
	assert_int_equal(ss.files_on_disk, 0);
	assert_int_equal(ss.bytes_on_disk, 0);
	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.failed, 2);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
	fclose(cfg.log);
	assert_non_null(strstr(log, "larger than the whole cap"));
	assert_ptr_equal(strchr(log, '\n'), log + loglen - 1); /* once */
	free(log);
}

static void make_file(const char *dir, char c, size_t size, time_t mtime, char *path, size_t len)
{
	char name[70];
	memset(name, c, 64);
	snprintf(name + 64, sizeof name - 64, ".pcap");
	snprintf(path, len, "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	for (size_t i = 0; i < size; i++)
		fputc(c, fp);
	fclose(fp);
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void open_accounts_existing_files_by_mtime(void **state)
{
	(void)state;
	char dir[512], a[1024], b[1024], c[1024], d[1024], other[1024], stale[1024], p[1024];
	fresh_dir("scan", dir, sizeof dir);
	make_file(dir, 'a', 100, 1000, a, sizeof a);
	make_file(dir, 'b', 100, 4000, b, sizeof b);
	make_file(dir, 'c', 100, 2000, c, sizeof c);
	make_file(dir, 'd', 100, 3000, d, sizeof d);
	snprintf(other, sizeof other, "%s/other.pcap", dir);
	FILE *fp = fopen(other, "wb");
	assert_non_null(fp);
	fputs("not ours", fp);
	fclose(fp);
	snprintf(stale, sizeof stale, "%s/.hl-evidence-Ab12Cd", dir);
	fp = fopen(stale, "wb");
	assert_non_null(fp);
	fclose(fp);

	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.max_bytes = 250;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	/* oldest first: a (1000), c (2000) go */
	assert_false(exists(a));
	assert_false(exists(c));
	assert_true(exists(b));
	assert_true(exists(d));
	assert_true(exists(other));
	assert_false(exists(stale));
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_on_disk, 2);
	assert_int_equal(ss.bytes_on_disk, 200);
	assert_int_equal(ss.files_evicted, 2);
	assert_int_equal(ss.stale_temps, 1);

	/* a new file (140): d (3000) is now the oldest */
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	assert_int_equal(one_file(w, 0, 100, 0, p, sizeof p).rc, 0);
	assert_true(exists(p));
	assert_true(exists(b));
	assert_false(exists(d));
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.bytes_on_disk, 100 + ONE_FILE);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

/* ---- failures ---- */

static void missing_directory_is_counted_and_logged_once(void **state)
{
	(void)state;
	char dir[512], p[1024], file[512];
	snprintf(dir, sizeof dir, "%s/no-such-dir", root);
	char *log = NULL;
	size_t loglen = 0;
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.log = open_memstream(&log, &loglen);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	assert_int_equal(one_file(w, 0, 100, 0, p, sizeof p).rc, HL_EIO);
	assert_int_equal(one_file(w, 1, 100, 0, p, sizeof p).rc, HL_EIO);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.scan_errors, 1);
	assert_int_equal(ss.create_errors, 2);
	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.failed, 2);
	assert_int_equal(ws.written, 0);
	assert_int_equal(ws.memory_used, 0);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
	fclose(cfg.log);
	/* one line for the scan, one for the first create */
	assert_non_null(strstr(log, "cannot scan"));
	char *create = strstr(log, "cannot create a temporary file");
	assert_non_null(create);
	assert_non_null(strstr(create, dir));
	assert_non_null(strstr(create, "No such file or directory"));
	assert_null(strstr(create + 1, "cannot create"));
	size_t lines = 0;
	for (size_t i = 0; i < loglen; i++)
		lines += log[i] == '\n';
	assert_int_equal(lines, 2);
	free(log);

	/* a path that is a regular file */
	snprintf(file, sizeof file, "%s/plain-file", root);
	FILE *fp = fopen(file, "wb");
	assert_non_null(fp);
	fclose(fp);
	cfg.log = NULL;
	s = open_store(file, &cfg);
	w = hl_evidence_worker_new(s);
	assert_int_equal(one_file(w, 0, 100, 0, p, sizeof p).rc, HL_EIO);
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.create_errors, 1);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
	unlink(file);
}

/* 0 when writing into dir fails as a counted permission error, cleanly. */
static int write_denied(const char *dir)
{
	char p[1024];
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.dir = dir;
	int err = 0, bad = 0;
	hl_evidence_store_t *s = hl_evidence_store_open(&cfg, &err);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	if (w == NULL)
		return 1;
	bad |= one_file(w, 0, 100, 0, p, sizeof p).rc != HL_EPERM;
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	bad |= ss.create_errors != 1 || ss.files_on_disk != 0;
	bad |= count_temps(dir) != 0 || count_pcaps(dir) != 0;
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
	return bad;
}

static void unwritable_directory_is_a_permission_error(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("readonly", dir, sizeof dir);
	assert_int_equal(chmod(dir, 0555), 0);
	if (geteuid() != 0) {
		assert_int_equal(write_denied(dir), 0);
	} else {
		/* root writes anyway: try as nobody in a child */
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(77);
			_exit(write_denied(dir));
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 77)
			skip();
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	chmod(dir, 0755);
}

static void rename_failure_leaves_no_temp(void **state)
{
	(void)state;
	char dir1[512], dir2[512], p[1024], blocker[1024];
	fresh_dir("rename1", dir1, sizeof dir1);
	fresh_dir("rename2", dir2, sizeof dir2);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	hl_evidence_store_t *s1 = open_store(dir1, &cfg);
	hl_evidence_worker_t *w1 = hl_evidence_worker_new(s1);
	struct hl_evidence_result r = one_file(w1, 5, 100, 0, p, sizeof p);
	assert_int_equal(r.rc, 0);
	/* in dir2 the name is taken by a directory */
	snprintf(blocker, sizeof blocker, "%s/%s.pcap", dir2, r.sha256);
	assert_int_equal(mkdir(blocker, 0755), 0);
	char *log = NULL;
	size_t loglen = 0;
	cfg.log = open_memstream(&log, &loglen);
	hl_evidence_store_t *s2 = open_store(dir2, &cfg);
	hl_evidence_worker_t *w2 = hl_evidence_worker_new(s2);
	assert_int_equal(one_file(w2, 5, 100, 0, p, sizeof p).rc, HL_EIO);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s2, &ss);
	assert_int_equal(ss.rename_errors, 1);
	assert_int_equal(ss.files_on_disk, 0);
	assert_int_equal(count_temps(dir2), 0);
	hl_evidence_worker_destroy(&w2);
	hl_evidence_store_close(&s2);
	fclose(cfg.log);
	assert_non_null(strstr(log, "cannot rename to"));
	assert_non_null(strstr(log, blocker));
	free(log);
	hl_evidence_worker_destroy(&w1);
	hl_evidence_store_close(&s1);
}

static void short_write_is_counted_and_cleaned_up(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("short", dir, sizeof dir);
	char *log = NULL;
	size_t loglen = 0;
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.log = open_memstream(&log, &loglen);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(add(f, i, 100, 0), 0);

	/* files may grow to 200 bytes: the 604-byte pcap fails part-way */
	struct rlimit old, small;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 200;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = hl_evidence_trigger(f);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);

	assert_int_equal(rc, 1);
	assert_int_equal(hl_evidence_result(f)->rc, HL_EIO);
	assert_string_equal(hl_evidence_result(f)->sha256, "");
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.write_errors, 1);
	assert_int_equal(ss.files_on_disk, 0);
	assert_int_equal(count_temps(dir), 0);
	assert_int_equal(count_pcaps(dir), 0);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
	fclose(cfg.log);
	assert_non_null(strstr(log, "cannot write"));
	assert_non_null(strstr(log, "File too large"));
	free(log);
}

/* ---- memory cap and link types ---- */

static uint64_t cost_of_100(void)
{
	char dir[512];
	fresh_dir("probe", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	add(f, 0, 100, 0);
	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
	assert_true(ws.memory_used > 100 && ws.memory_used < 200);
	return ws.memory_used;
}

static void memory_cap_refuses_flows_and_cuts_short(void **state)
{
	(void)state;
	uint64_t cost = cost_of_100();
	char dir[512];
	fresh_dir("memory", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_before = 2;
	cfg.packets_after = 2;
	cfg.worker_memory = 3 * cost;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	struct hl_evidence_worker_stats ws;

	/* a: its ring (3 packets) takes all the memory, and keeps it */
	hl_evidence_flow_t *a = hl_evidence_flow_new(w), *b = hl_evidence_flow_new(w);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(add(a, i, 100, 5), 0);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.memory_used, 3 * cost);
	/* b gets no ring space: refused once, keeps nothing before */
	assert_int_equal(add(b, 0, 100, 6), 0);
	assert_int_equal(add(b, 1, 100, 6), 0);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.flows_refused, 1);
	assert_int_equal(ws.memory_used, 3 * cost);

	/* a triggers with memory full: written early with its 3 packets */
	assert_int_equal(hl_evidence_trigger(a), 0);
	assert_int_equal(add(a, 5, 100, 5), 1);
	uint32_t ida[] = {2, 3, 4};
	expect_file(hl_evidence_result(a), dir, ida, 3, 100, 5);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.cut_short, 1);
	assert_int_equal(ws.memory_used, 0);

	/* memory is free again, but b stays without packets before the trigger */
	assert_int_equal(add(b, 2, 100, 6), 0);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.memory_used, 0);
	assert_int_equal(hl_evidence_trigger(b), 0);
	assert_int_equal(add(b, 3, 100, 6), 0);
	assert_int_equal(add(b, 4, 100, 6), 1);
	uint32_t idb[] = {3, 4};
	expect_file(hl_evidence_result(b), dir, idb, 2, 100, 6);
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.flows_refused, 1);
	assert_int_equal(ws.memory_used, 0);
	assert_int_equal(ws.memory_peak, 3 * cost);

	hl_evidence_flow_destroy(&a);
	hl_evidence_flow_destroy(&b);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void other_link_type_is_dropped_and_counted(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("linktype", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 2;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	assert_int_equal(add(f, 0, 60, 7), 0);
	struct hl_frame raw = frame_of(1, 60, 7, DLT_RAW);
	assert_int_equal(hl_evidence_add_packet(f, &raw), 0);
	assert_int_equal(add(f, 2, 60, 7), 0);
	assert_int_equal(hl_evidence_trigger(f), 0);
	raw = frame_of(3, 60, 7, DLT_LINUX_SLL);
	assert_int_equal(hl_evidence_add_packet(f, &raw), 0); /* not one of the M */
	assert_int_equal(add(f, 4, 60, 7), 0);
	assert_int_equal(add(f, 5, 60, 7), 1);
	uint32_t ids[] = {0, 2, 4, 5};
	expect_file(hl_evidence_result(f), dir, ids, 4, 60, 7);
	struct hl_evidence_worker_stats ws;
	hl_evidence_worker_stats(w, &ws);
	assert_int_equal(ws.linktype_drops, 2);
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

static void file_carries_the_linktype_not_the_dlt(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("dltraw", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	hl_evidence_worker_t *w = hl_evidence_worker_new(s);
	hl_evidence_flow_t *f = hl_evidence_flow_new(w);
	struct hl_frame fr = frame_of(0, 40, 0, DLT_RAW);
	assert_int_equal(hl_evidence_add_packet(f, &fr), 0);
	assert_int_equal(hl_evidence_trigger(f), 1);
	const struct hl_evidence_result *r = hl_evidence_result(f);
	assert_int_equal(r->rc, 0);
	FILE *fp = fopen(r->path, "rb");
	assert_non_null(fp);
	uint8_t hdr[24];
	assert_int_equal(fread(hdr, 1, sizeof hdr, fp), sizeof hdr);
	fclose(fp);
	uint32_t magic, linktype, snaplen;
	memcpy(&magic, hdr, 4);
	memcpy(&snaplen, hdr + 16, 4);
	memcpy(&linktype, hdr + 20, 4);
	assert_int_equal(magic, 0xa1b2c3d4u); /* microseconds, host order */
	assert_int_equal(snaplen, HL_EVIDENCE_SNAPLEN);
	assert_int_equal(linktype, 101); /* LINKTYPE_RAW, whatever DLT_RAW is here */
	hl_evidence_flow_destroy(&f);
	hl_evidence_worker_destroy(&w);
	hl_evidence_store_close(&s);
}

/* ---- config and threads ---- */

static void bad_config_is_refused(void **state)
{
	(void)state;
	struct hl_evidence_config cfg;
	int err = 0;
	hl_evidence_config_init(&cfg);
	assert_int_equal(cfg.max_bytes, 1ull << 30);
	assert_int_equal(cfg.packets_before, 16);
	assert_int_equal(cfg.packets_after, 16);
	assert_int_equal(cfg.ring_bytes, 65536);
	assert_int_equal(cfg.worker_memory, 32ull << 20);
	assert_null(hl_evidence_store_open(&cfg, &err)); /* no dir */
	assert_int_equal(err, HL_EINVAL);
	cfg.dir = "";
	assert_null(hl_evidence_store_open(&cfg, &err));
	assert_int_equal(err, HL_EINVAL);
	cfg.dir = root;
	cfg.max_bytes = 0;
	assert_null(hl_evidence_store_open(&cfg, &err));
	assert_int_equal(err, HL_ERANGE);
	cfg.max_bytes = 1000;
	cfg.packets_before = HL_EVIDENCE_MAX_PACKETS + 1;
	assert_null(hl_evidence_store_open(&cfg, &err));
	assert_int_equal(err, HL_ERANGE);
	assert_null(hl_evidence_worker_new(NULL));
	assert_null(hl_evidence_flow_new(NULL));
	assert_int_equal(hl_evidence_add_packet(NULL, NULL), 0);
	assert_int_equal(hl_evidence_trigger(NULL), 0);
	assert_int_equal(hl_evidence_finish(NULL), 0);
	assert_null(hl_evidence_result(NULL));
	hl_evidence_store_t *s = NULL;
	hl_evidence_store_close(&s);
	hl_evidence_worker_t *w = NULL;
	hl_evidence_worker_destroy(&w);
	hl_evidence_flow_t *f = NULL;
	hl_evidence_flow_destroy(&f);
}

#define PER_THREAD 20

struct job {
	hl_evidence_store_t *store;
	uint8_t salt;
	int ok;
};

static void *writer(void *arg)
{
	struct job *j = arg;
	hl_evidence_worker_t *w = hl_evidence_worker_new(j->store);
	uint8_t data[100];
	for (uint32_t i = 0; i < PER_THREAD && w != NULL; i++) {
		hl_evidence_flow_t *f = hl_evidence_flow_new(w);
		memset(data, 0, sizeof data);
		data[0] = j->salt;
		data[1] = (uint8_t)i;
		struct hl_frame fr = {.ts = T0,
		                      .caplen = 100,
		                      .wirelen = 100,
		                      .linktype = DLT_EN10MB,
		                      .data = data};
		hl_evidence_add_packet(f, &fr);
		if (hl_evidence_trigger(f) == 1 && hl_evidence_result(f)->rc == 0)
			j->ok++;
		hl_evidence_flow_destroy(&f);
	}
	hl_evidence_worker_destroy(&w);
	return NULL;
}

static void workers_share_one_disk_cap(void **state)
{
	(void)state;
	char dir[512];
	fresh_dir("threads", dir, sizeof dir);
	struct hl_evidence_config cfg;
	hl_evidence_config_init(&cfg);
	cfg.packets_after = 0;
	cfg.max_bytes = 10 * ONE_FILE;
	hl_evidence_store_t *s = open_store(dir, &cfg);
	struct job jobs[2] = {{s, 1, 0}, {s, 2, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &jobs[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(jobs[0].ok, PER_THREAD);
	assert_int_equal(jobs[1].ok, PER_THREAD);
	struct hl_evidence_store_stats ss;
	hl_evidence_store_stats(s, &ss);
	assert_int_equal(ss.files_written, 2 * PER_THREAD);
	assert_int_equal(ss.files_on_disk, 10);
	assert_int_equal(ss.bytes_on_disk, 10 * ONE_FILE);
	assert_int_equal(ss.files_evicted, 2 * PER_THREAD - 10);
	assert_int_equal(count_pcaps(dir), 10);
	assert_int_equal(count_temps(dir), 0);
	hl_evidence_store_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(keeps_n_before_trigger_and_m_after),
	        cmocka_unit_test(ring_is_bounded_in_bytes),
	        cmocka_unit_test(packet_over_ring_bytes_is_kept_truncated),
	        cmocka_unit_test(flow_end_before_m_writes_what_it_has),
	        cmocka_unit_test(trigger_with_no_packets_before),
	        cmocka_unit_test(no_packets_at_all_gives_no_file),
	        cmocka_unit_test(identical_evidence_is_one_file),
	        cmocka_unit_test(disk_cap_evicts_oldest_first),
	        cmocka_unit_test(dedup_makes_a_file_the_newest),
	        cmocka_unit_test(file_over_whole_cap_is_refused),
	        cmocka_unit_test(open_accounts_existing_files_by_mtime),
	        cmocka_unit_test(missing_directory_is_counted_and_logged_once),
	        cmocka_unit_test(unwritable_directory_is_a_permission_error),
	        cmocka_unit_test(rename_failure_leaves_no_temp),
	        cmocka_unit_test(short_write_is_counted_and_cleaned_up),
	        cmocka_unit_test(memory_cap_refuses_flows_and_cuts_short),
	        cmocka_unit_test(other_link_type_is_dropped_and_counted),
	        cmocka_unit_test(file_carries_the_linktype_not_the_dlt),
	        cmocka_unit_test(bad_config_is_refused),
	        cmocka_unit_test(workers_share_one_disk_cap),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
