/* \summary: unit tests for the file side of capture (live needs privileges) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <cmocka.h>

#include "capture.h"
#include "hotline/err.h"

#define PCAPS HOTLINE_SOURCE_DIR "/tests/fixtures/pcaps/"

static int count_frames(hl_capture_t *cap, int64_t *first_ts, char *err, size_t errlen,
                        int *last_rc)
{
	struct hl_frame f;
	int n = 0, rc;
	while ((rc = hl_capture_next(cap, &f, err, errlen)) == 1) {
		if (n == 0 && first_ts != NULL)
			*first_ts = f.ts;
		assert_true(f.caplen <= f.wirelen);
		n++;
	}
	*last_rc = rc;
	return n;
}

static void reads_pcap_and_pcapng_in_order(void **state)
{
	(void)state;
	const char *files[] = {PCAPS "dns_udp_query.pcap", PCAPS "dns_udp_query.pcapng"};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = files;
	cfg.n_files = 2;
	char err[256] = "";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	int64_t first = 0;
	int rc;
	int n = count_frames(cap, &first, err, sizeof err, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 4); /* query + response, twice */
	assert_true(first == 1462960800000000LL);
	struct hl_capture_stats st;
	hl_capture_stats(cap, &st);
	assert_int_equal(st.packets, 4);
	assert_int_equal(st.bytes_read, st.bytes_total);
	hl_capture_close(&cap);
	assert_null(cap);
}

static void truncated_file_names_file_and_packet_and_goes_on(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "%s/hl-trunc-%ld.pcap", HOTLINE_BINARY_DIR, (long)getpid());
	FILE *in = fopen(PCAPS "dns_udp_query.pcap", "rb");
	FILE *out = fopen(path, "wb");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, in);
	fclose(in);
	/* global header (24) + first record complete, second cut in half */
	size_t first_len = 16 + (size_t)(uint8_t)buf[24 + 8] + ((size_t)(uint8_t)buf[24 + 9] << 8);
	size_t keep = 24 + first_len + 20;
	assert_true(keep < n);
	fwrite(buf, 1, keep, out);
	fclose(out);

	const char *files[] = {path, PCAPS "dns_udp_query.pcap"};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = files;
	cfg.n_files = 2;
	char err[256] = "";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	int rc;
	assert_int_equal(count_frames(cap, NULL, err, sizeof err, &rc), 1);
	assert_int_equal(rc, HL_EFORMAT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": packet 2: "));
	assert_int_equal(count_frames(cap, NULL, err, sizeof err, &rc), 2);
	assert_int_equal(rc, 0);
	struct hl_capture_stats st;
	hl_capture_stats(cap, &st);
	assert_int_equal(st.file_errors, 1);
	hl_capture_close(&cap);
	unlink(path);
}

static void missing_file_and_bad_filter_are_errors(void **state)
{
	(void)state;
	const char *missing[] = {"/nonexistent/x.pcap"};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = missing;
	cfg.n_files = 1;
	char err[256] = "";
	assert_null(hl_capture_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/x.pcap: cannot read"));

	const char *files[] = {PCAPS "dns_udp_query.pcap"};
	cfg.files = files;
	cfg.bpf = "port and and";
	assert_null(hl_capture_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "bad BPF filter"));

	cfg.bpf = "udp and dst port 53";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	int rc;
	assert_int_equal(count_frames(cap, NULL, err, sizeof err, &rc), 1);
	hl_capture_close(&cap);

	hl_capture_config_init(&cfg);
	assert_null(hl_capture_open(&cfg, err, sizeof err));
}

/* ---- the block reader against libpcap ---- */

struct copy {
	int64_t ts;
	uint32_t caplen, wirelen;
	int linktype;
	uint8_t *data;
	uint64_t held;
};

struct run {
	struct copy *f;
	size_t n, cap;
	int rc;        /* what ended the file: 0 or an error */
	char err[512]; /* the message, "FILE: packet N: why" */
};

static void add_copy(struct run *r, int64_t ts, uint32_t caplen, uint32_t wirelen, int link,
                     const uint8_t *data, uint64_t held)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->f = realloc(r->f, r->cap * sizeof *r->f);
		assert_non_null(r->f);
	}
	struct copy *c = &r->f[r->n++];
	c->ts = ts;
	c->caplen = caplen;
	c->wirelen = wirelen;
	c->linktype = link;
	c->held = held;
	c->data = malloc(caplen + 1);
	assert_non_null(c->data);
	memcpy(c->data, data, caplen);
}

static void free_run(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].data);
	free(r->f);
	memset(r, 0, sizeof *r);
}

/* libpcap's own reading, the way capture.c did before blocks */
static void read_libpcap(const char *path, struct run *r)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p =
	        pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, perr);
	assert_non_null(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1)
		add_copy(r, (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec, h->caplen, h->len,
		         pcap_datalink(p), d, 0);
	r->rc = rc == PCAP_ERROR ? HL_EFORMAT : 0;
	if (rc == PCAP_ERROR)
		snprintf(r->err, sizeof r->err, "%s: packet %zu: %s", path, r->n + 1,
		         pcap_geterr(p));
	pcap_close(p);
}

static void read_capture(const char *path, size_t block_bytes, unsigned blocks, struct run *r)
{
	const char *files[] = {path};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = files;
	cfg.n_files = 1;
	cfg.block_bytes = block_bytes;
	cfg.blocks = blocks;
	char err[512] = "";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	struct hl_frame f;
	int rc;
	while ((rc = hl_capture_next(cap, &f, r->err, sizeof r->err)) == 1)
		add_copy(r, f.ts, f.caplen, f.wirelen, f.linktype, f.data, hl_capture_held(cap));
	r->rc = rc;
	if (rc == 0)
		r->err[0] = '\0';
	hl_capture_close(&cap);
}

static void same_runs(const struct run *want, const struct run *got, const char *what)
{
	if (want->n != got->n || want->rc != got->rc || strcmp(want->err, got->err) != 0)
		fail_msg("%s: libpcap %zu frames, rc %d, \"%s\"; blocks %zu frames, rc %d, \"%s\"",
		         what, want->n, want->rc, want->err, got->n, got->rc, got->err);
	for (size_t i = 0; i < want->n; i++) {
		const struct copy *a = &want->f[i], *b = &got->f[i];
		if (a->ts != b->ts || a->caplen != b->caplen || a->wirelen != b->wirelen ||
		    a->linktype != b->linktype || memcmp(a->data, b->data, a->caplen) != 0)
			fail_msg("%s: frame %zu differs", what, i + 1);
	}
}

static bool is_pcap_name(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".pcap") == 0;
}

static void every_fixture_reads_as_libpcap_reads_it(void **state)
{
	(void)state;
	DIR *d = opendir(PCAPS);
	assert_non_null(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)) != NULL) {
		if (!is_pcap_name(e->d_name))
			continue;
		char path[512];
		snprintf(path, sizeof path, PCAPS "%s", e->d_name);
		struct run want = {0};
		read_libpcap(path, &want);
		/* default blocks, and blocks so small every record crosses one */
		static const size_t sizes[] = {0, 1, 100, 4096};
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			struct run got = {0};
			read_capture(path, sizes[k], 2, &got);
			same_runs(&want, &got, path);
			for (size_t i = 0; i < got.n; i++)
				assert_true(got.f[i].held != 0); /* the block reader read it */
			free_run(&got);
		}
		free_run(&want);
		files++;
	}
	closedir(d);
	assert_true(files >= 20);
}

static uint8_t *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static void every_cut_and_damage_errs_as_libpcap_does(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = slurp_file(PCAPS "http_url_query.pcap", &len);
	char path[256];
	snprintf(path, sizeof path, "%s/hl-cut-%ld.pcap", HOTLINE_BINARY_DIR, (long)getpid());
	int errors = 0;
	write_file(path, b, len);
	for (size_t cut = len; cut >= 24; cut--) { /* shorten one file in place */
		assert_int_equal(truncate(path, (off_t)cut), 0);
		struct run want = {0}, got = {0};
		read_libpcap(path, &want);
		read_capture(path, cut % 3 == 0 ? 0 : 50 + cut % 200, 2, &got);
		same_runs(&want, &got, "cut");
		errors += want.rc != 0;
		free_run(&want);
		free_run(&got);
	}
	assert_true(errors > 0);
	/* a record length past any snapshot, and one past this file's */
	static const uint32_t bad[] = {0x7fffffffu, 262145u, 70000u};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t *c = malloc(len);
		assert_non_null(c);
		memcpy(c, b, len);
		memcpy(c + 24 + 8, &bad[i], 4); /* first record's caplen (LE file) */
		write_file(path, c, len);
		struct run want = {0}, got = {0};
		read_libpcap(path, &want);
		read_capture(path, 0, 2, &got);
		same_runs(&want, &got, "bad caplen");
		assert_int_equal(got.rc, HL_EFORMAT);
		free_run(&want);
		free_run(&got);
		free(c);
	}
	unlink(path);
	free(b);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The fixture rewritten big-endian with nanosecond time stamps. */
static void other_byte_order_and_nanoseconds(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = slurp_file(PCAPS "tls_split.pcap", &len);
	be32(b, 0xa1b23c4du);
	uint8_t t = b[4]; /* version 2.4, 16-bit fields */
	b[4] = b[5];
	b[5] = t;
	t = b[6];
	b[6] = b[7];
	b[7] = t;
	for (size_t o = 8; o < 24; o += 4)
		be32(b + o, le32(b + o));
	size_t o = 24;
	while (o + 16 <= len) {
		uint32_t caplen = le32(b + o + 8);
		be32(b + o, le32(b + o));
		be32(b + o + 4, le32(b + o + 4) * 1000 + 999);
		be32(b + o + 8, caplen);
		be32(b + o + 12, le32(b + o + 12));
		o += 16 + caplen;
	}
	char path[256];
	snprintf(path, sizeof path, "%s/hl-be-%ld.pcap", HOTLINE_BINARY_DIR, (long)getpid());
	write_file(path, b, len);
	struct run want = {0}, got = {0}, plain = {0};
	read_libpcap(path, &want);
	read_capture(path, 0, 0, &got);
	read_capture(PCAPS "tls_split.pcap", 0, 0, &plain);
	same_runs(&want, &got, "big-endian nsec");
	same_runs(&plain, &got, "big-endian nsec against the original");
	assert_true(got.n > 5 && got.f[0].held != 0);
	free_run(&want);
	free_run(&got);
	free_run(&plain);
	unlink(path);
	free(b);
}

/* wait_release: a block is reused only after the caller said so, and the
 * frames not yet released stay intact meanwhile. */
struct holder {
	uint64_t released;
	int calls;
	int refuse; /* refuse this many calls first */
};

static int hold_wait(void *ctx, uint64_t upto)
{
	struct holder *h = ctx;
	h->calls++;
	if (h->refuse > 0) {
		h->refuse--;
		return -1;
	}
	assert_true(upto > h->released || h->released == 0);
	h->released = upto;
	return 0;
}

static void held_frames_stay_until_released(void **state)
{
	(void)state;
	const char *files[] = {PCAPS "tcp_out_of_order.pcap", PCAPS "dns_udp_query.pcapng",
	                       PCAPS "http_split.pcap"};
	struct run want = {0};
	for (size_t i = 0; i < 3; i++)
		read_libpcap(files[i], &want);

	struct holder h = {0, 0, 3};
	struct hl_capture_config cfg;
	hl_capture_config_init(&cfg);
	cfg.files = files;
	cfg.n_files = 3;
	cfg.block_bytes = 300;
	cfg.blocks = 3;
	cfg.wait_release = hold_wait;
	cfg.wait_ctx = &h;
	char err[256] = "";
	hl_capture_t *cap = hl_capture_open(&cfg, err, sizeof err);
	assert_non_null(cap);
	struct run got = {0};
	const uint8_t **ptr = calloc(want.n, sizeof *ptr);
	assert_non_null(ptr);
	struct hl_frame f;
	int rc, again = 0;
	uint64_t last_pos = 0;
	while ((rc = hl_capture_next(cap, &f, err, sizeof err)) != 0) {
		if (rc == HL_EAGAIN) { /* the caller gave up waiting: try again */
			again++;
			continue;
		}
		assert_int_equal(rc, 1);
		uint64_t pos = hl_capture_held(cap);
		assert_true(got.n < want.n);
		if (pos != 0) {
			assert_true(pos > last_pos);
			last_pos = pos;
		}
		ptr[got.n] = f.data;
		add_copy(&got, f.ts, f.caplen, f.wirelen, f.linktype, f.data, pos);
		/* every held frame not released yet is still there */
		for (size_t i = 0; i < got.n; i++) {
			const struct copy *c = &got.f[i];
			if (c->held > h.released)
				assert_memory_equal(ptr[i], c->data, c->caplen);
		}
	}
	assert_int_equal(again, 3);
	assert_true(h.calls > 10);
	got.rc = 0;
	same_runs(&want, &got, "held");
	free(ptr);
	free_run(&want);
	free_run(&got);
	hl_capture_close(&cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(reads_pcap_and_pcapng_in_order),
	        cmocka_unit_test(truncated_file_names_file_and_packet_and_goes_on),
	        cmocka_unit_test(missing_file_and_bad_filter_are_errors),
	        cmocka_unit_test(every_fixture_reads_as_libpcap_reads_it),
	        cmocka_unit_test(every_cut_and_damage_errs_as_libpcap_does),
	        cmocka_unit_test(other_byte_order_and_nanoseconds),
	        cmocka_unit_test(held_frames_stay_until_released),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
