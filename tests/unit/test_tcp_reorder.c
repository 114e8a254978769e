/* \summary: unit tests for TCP per-direction ordering (tcp_reorder.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "flow.h"
#include "tcp_reorder.h"

#define FIN 0x01u
#define SYN 0x02u
#define RST 0x04u
#define ACK 0x10u

struct chunk {
	uint64_t off;
	size_t len;
	size_t at; /* where in sink.buf */
};

struct sink {
	uint8_t buf[8192];
	size_t n;
	struct chunk ch[512];
	size_t nch;
	int stop_at; /* return this from the chunk numbered stop_after */
	size_t stop_after;
};

static int collect(void *ctx, const uint8_t *b, size_t len, uint64_t off)
{
	struct sink *s = ctx;
	assert_true(len > 0);
	assert_true(s->n + len <= sizeof(s->buf));
	assert_true(s->nch < sizeof(s->ch) / sizeof(s->ch[0]));
	s->ch[s->nch].off = off;
	s->ch[s->nch].len = len;
	s->ch[s->nch].at = s->n;
	memcpy(s->buf + s->n, b, len);
	s->n += len;
	s->nch++;
	if (s->stop_at != 0 && s->nch == s->stop_after)
		return s->stop_at;
	return 0;
}

struct fix {
	struct hl_tcp_reorder r;
	struct hl_tcp_dir d;
	struct sink s;
};

static int setup_cfg(void **state, uint32_t max_dir, uint64_t max_total)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct hl_tcp_reorder_config cfg = {max_dir, max_total};
	assert_int_equal(hl_tcp_reorder_init(&f->r, &cfg), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_cfg(state, 0, 0);
}

/* 2 segments of 100 bytes never fit together. */
static int setup_small(void **state)
{
	return setup_cfg(state, 200, 0);
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hl_tcp_reorder_close(&f->r, &f->d, NULL, NULL);
	assert_int_equal(f->r.st.held_bytes, 0);
	free(f);
	return 0;
}

static int feed_wire(struct fix *f, uint32_t seq, uint8_t flags, const void *data, uint32_t len,
                     uint32_t wire)
{
	struct hl_tcp_segment seg = {seq, flags, data, len, wire};
	return hl_tcp_reorder_segment(&f->r, &f->d, &seg, collect, &f->s);
}

static int feed(struct fix *f, uint32_t seq, uint8_t flags, const char *data)
{
	uint32_t len = data != NULL ? (uint32_t)strlen(data) : 0;
	return feed_wire(f, seq, flags, data, len, len);
}

/* The chunks delivered, exactly: offsets and bytes. */
static void expect(const struct sink *s, size_t n, const uint64_t *offs, const char *const *strs)
{
	assert_int_equal(s->nch, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s->ch[i].off, offs[i]);
		assert_int_equal(s->ch[i].len, strlen(strs[i]));
		assert_memory_equal(s->buf + s->ch[i].at, strs[i], s->ch[i].len);
	}
}

static void in_order(void **state)
{
	struct fix *f = *state;
	assert_int_equal(feed(f, 1000, SYN, NULL), 0);
	assert_int_equal(f->d.state, HL_TCP_DIR_OPEN);
	assert_int_equal(feed(f, 1001, ACK, "hello"), 0);
	assert_int_equal(feed(f, 1006, ACK, " world"), 0);
	assert_int_equal(feed(f, 1012, ACK, NULL), 0); /* bare ACK */
	expect(&f->s, 2, (uint64_t[]){0, 5}, (const char *[]){"hello", " world"});
	assert_int_equal(f->r.st.bytes_out, 11);
	assert_int_equal(f->r.st.bytes_in, 11);
	assert_int_equal(f->r.st.segments, 4);
	assert_int_equal(f->r.st.midstream, 0);
	assert_int_equal(f->r.st.held_peak, 0); /* straight from the caller's buffer */
}

static void out_of_order(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed(f, 1, ACK, "AAA");
	feed(f, 7, ACK, "CCC");
	assert_int_equal(f->s.nch, 1);
	assert_int_equal(f->r.st.held_bytes, 3 + HL_TCP_REORDER_SEG_OVERHEAD);
	assert_int_equal(f->d.held, 3 + HL_TCP_REORDER_SEG_OVERHEAD);
	feed(f, 4, ACK, "BBB");
	expect(&f->s, 3, (uint64_t[]){0, 3, 6}, (const char *[]){"AAA", "BBB", "CCC"});
	assert_int_equal(f->r.st.out_of_order, 1);
	assert_int_equal(f->r.st.held_bytes, 0);
	assert_int_equal(f->d.held, 0);
	assert_int_equal(f->r.st.gaps, 0);
}

static void retransmission(void **state)
{
	struct fix *f = *state;
	feed(f, 100, SYN, NULL);
	feed(f, 101, ACK, "first");
	feed(f, 106, ACK, "second");
	feed(f, 101, ACK, "FIRST"); /* old, even with other bytes */
	feed(f, 100, SYN, NULL);    /* SYN retransmitted */
	feed(f, 112, ACK, "third");
	expect(&f->s, 3, (uint64_t[]){0, 5, 11}, (const char *[]){"first", "second", "third"});
	assert_int_equal(f->r.st.retransmits, 1);
	assert_int_equal(f->r.st.overlaps, 0);
}

static void partial_overlap(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed(f, 1, ACK, "ABCDEF");
	feed(f, 4, ACK, "defGHI"); /* first 3 already delivered: first seen wins */
	expect(&f->s, 2, (uint64_t[]){0, 6}, (const char *[]){"ABCDEF", "GHI"});
	assert_int_equal(f->r.st.overlaps, 1);

	/* Held bytes win over a later in-order segment covering them. */
	feed(f, 13, ACK, "MNO"); /* offset 12; 10..12 missing */
	feed(f, 10, ACK, "jklmno");
	expect(&f->s, 4, (uint64_t[]){0, 6, 9, 12},
	       (const char *[]){"ABCDEF", "GHI", "jkl", "MNO"});
	assert_int_equal(f->r.st.overlaps, 2);
	assert_int_equal(f->r.st.overlap_diff, 1);

	/* Held vs held: only the new parts are stored. */
	feed(f, 20, ACK, "tuv");    /* offset 19 */
	feed(f, 18, ACK, "rsTUVw"); /* same bytes? no: TUV differs */
	feed(f, 23, ACK, "wxyz");   /* w same as held w */
	assert_int_equal(f->s.nch, 4);
	assert_int_equal(f->r.st.overlap_diff, 2);
	feed(f, 16, ACK, "pq");
	expect(&f->s, 9, (uint64_t[]){0, 6, 9, 12, 15, 17, 19, 22, 23},
	       (const char *[]){"ABCDEF", "GHI", "jkl", "MNO", "pq", "rs", "tuv", "w", "xyz"});
	assert_int_equal(f->r.st.overlaps, 4);
	assert_int_equal(f->r.st.overlap_diff, 2);
	assert_int_equal(f->r.st.held_bytes, 0);
}

static void wraparound(void **state)
{
	struct fix *f = *state;
	feed(f, 0xfffffff0u, SYN, NULL);
	feed(f, 0xfffffff1u, ACK, "0123456789"); /* up to 0xfffffffb */
	feed(f, 0x00000005u, ACK, "KLMNOPQRST"); /* past 2^32: held */
	feed(f, 0xfffffffbu, ACK, "abcdefghij"); /* crosses 2^32 */
	feed(f, 0xfffffff1u, ACK, "0123456789"); /* old across the wrap */
	feed(f, 0x0000000fu, ACK, "uvw");
	expect(&f->s, 4, (uint64_t[]){0, 10, 20, 30},
	       (const char *[]){"0123456789", "abcdefghij", "KLMNOPQRST", "uvw"});
	assert_int_equal(f->d.next_seq, 0x12u);
	assert_int_equal(f->d.offset, 33);
	assert_int_equal(f->r.st.retransmits, 1);
}

static void gap_beyond_bound(void **state)
{
	struct fix *f = *state;
	char a[11], b[101], c[101], lost[101];
	memset(a, 'a', 10);
	memset(b, 'b', 100);
	memset(c, 'c', 100);
	memset(lost, 'x', 100);
	a[10] = b[100] = c[100] = lost[100] = '\0';

	feed(f, 0, SYN, NULL);
	feed(f, 1, ACK, a);   /* offsets 0..9 */
	feed(f, 111, ACK, b); /* 11..110 missing; held: 148 of 200 */
	assert_int_equal(f->s.nch, 1);
	feed(f, 211, ACK, c); /* 296 > 200: skip the hole, deliver b, then c */
	expect(&f->s, 3, (uint64_t[]){0, 110, 210}, (const char *[]){a, b, c});
	assert_int_equal(f->r.st.overflows, 1);
	assert_int_equal(f->r.st.gaps, 1);
	assert_int_equal(f->r.st.gap_bytes, 100);
	assert_int_equal(f->r.st.held_peak, 100 + HL_TCP_REORDER_SEG_OVERHEAD);
	feed(f, 11, ACK, lost); /* the hole's bytes, too late */
	feed(f, 311, ACK, "go on");
	assert_int_equal(f->s.nch, 4);
	assert_int_equal(f->s.ch[3].off, 310);
	assert_int_equal(f->r.st.retransmits, 1);
	assert_int_equal(f->r.st.held_bytes, 0);
}

static void oversize_segment(void **state)
{
	struct fix *f = *state;
	char big[301];
	memset(big, 'B', 300);
	big[300] = '\0';
	feed(f, 0, SYN, NULL);
	feed(f, 51, ACK, "later"); /* offset 50, held */
	feed(f, 11, ACK, big);     /* offset 10, can never be held under 200 */
	/* The earliest known byte is big's: the hole 0..9 is skipped, big goes
	 * out from the caller's buffer, and the held bytes it covers win. */
	expect(&f->s, 3, (uint64_t[]){10, 50, 55},
	       (const char *[]){"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "later", big + 45});
	assert_int_equal(f->r.st.gaps, 1);
	assert_int_equal(f->r.st.gap_bytes, 10);
	assert_int_equal(f->r.st.overflows, 1);
	assert_int_equal(f->r.st.overlap_diff, 1);
}

static void midstream(void **state)
{
	struct fix *f = *state;
	feed(f, 5000, ACK, NULL); /* a bare ACK does not pick up */
	assert_int_equal(f->d.state, HL_TCP_DIR_NONE);
	feed(f, 5000, ACK | 0x08, "GET / HTTP/1.1\r\n");
	feed(f, 5016, ACK, "Host: x\r\n");
	feed(f, 4990, ACK, "0123456789"); /* before the pickup: old */
	expect(&f->s, 2, (uint64_t[]){0, 16},
	       (const char *[]){"GET / HTTP/1.1\r\n", "Host: x\r\n"});
	assert_int_equal(f->r.st.midstream, 1);
	assert_int_equal(f->r.st.retransmits, 1);
}

static void byte_by_byte(void **state)
{
	struct fix *f = *state;
	const char *msg = "Hello, segmented world";
	uint32_t n = (uint32_t)strlen(msg);
	feed(f, 7, SYN, NULL);
	/* First half in order, second half in reverse. */
	for (uint32_t i = 0; i < n / 2; i++)
		feed_wire(f, 8 + i, ACK, msg + i, 1, 1);
	for (uint32_t i = n; i-- > n / 2;)
		feed_wire(f, 8 + i, ACK, msg + i, 1, 1);
	assert_int_equal(f->s.n, n);
	assert_memory_equal(f->s.buf, msg, n);
	assert_int_equal(f->s.nch, n);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(f->s.ch[i].off, i);
		assert_int_equal(f->s.ch[i].len, 1);
	}
	assert_int_equal(f->r.st.held_peak, (n - n / 2 - 1) * (1 + HL_TCP_REORDER_SEG_OVERHEAD));
	assert_int_equal(f->r.st.held_bytes, 0);
}

static void fin_ends_direction(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed(f, 1, ACK, "abc");
	feed(f, 7, ACK | FIN, "ghi"); /* FIN at 10 */
	feed(f, 10, ACK, "past the FIN");
	assert_int_equal(f->d.state, HL_TCP_DIR_OPEN);
	feed(f, 4, ACK, "def");
	expect(&f->s, 3, (uint64_t[]){0, 3, 6}, (const char *[]){"abc", "def", "ghi"});
	assert_int_equal(f->d.state, HL_TCP_DIR_CLOSED);
	feed(f, 10, ACK, "more");
	assert_int_equal(f->s.nch, 3);
	assert_int_equal(f->r.st.after_close, 2);
}

static void rst_delivers_held(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed(f, 1, ACK, "abc");
	feed(f, 10, ACK, "xyz"); /* offset 9, held */
	feed(f, 2, RST, NULL);   /* old: ignored */
	assert_int_equal(f->r.st.rst_ignored, 1);
	assert_int_equal(f->d.state, HL_TCP_DIR_OPEN);
	feed(f, 4, RST | ACK, NULL);
	expect(&f->s, 2, (uint64_t[]){0, 9}, (const char *[]){"abc", "xyz"});
	assert_int_equal(f->d.state, HL_TCP_DIR_CLOSED);
	assert_int_equal(f->r.st.gaps, 1);
	assert_int_equal(f->r.st.gap_bytes, 6);
	assert_int_equal(f->r.st.held_bytes, 0);
}

static void snap_cut_tail(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed_wire(f, 1, ACK, "abcd", 4, 10);  /* 6 bytes not captured */
	feed_wire(f, 21, ACK, "uvwx", 4, 10); /* held, its tail cut too */
	feed(f, 11, ACK, "klmnopqrst");
	feed(f, 31, ACK, "end");
	expect(&f->s, 4, (uint64_t[]){0, 10, 20, 30},
	       (const char *[]){"abcd", "klmnopqrst", "uvwx", "end"});
	assert_int_equal(f->r.st.gaps, 2);
	assert_int_equal(f->r.st.gap_bytes, 12);
}

static void callback_stops(void **state)
{
	struct fix *f = *state;
	f->s.stop_at = 7;
	f->s.stop_after = 2;
	feed(f, 0, SYN, NULL);
	feed(f, 1, ACK, "one");
	feed(f, 20, ACK, "held");
	assert_int_equal(feed(f, 4, ACK, "two"), 7);
	assert_int_equal(f->d.state, HL_TCP_DIR_CLOSED);
	assert_int_equal(f->r.st.held_bytes, 0);
	assert_int_equal(feed(f, 7, ACK, "three"), 0);
	assert_int_equal(f->s.nch, 2);
}

static void close_delivers_and_frees(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed(f, 11, ACK, "ten");    /* offset 10 */
	feed(f, 31, ACK, "thirty"); /* offset 30 */
	assert_int_equal(f->d.held, 9 + 2 * HL_TCP_REORDER_SEG_OVERHEAD);
	assert_int_equal(hl_tcp_reorder_close(&f->r, &f->d, collect, &f->s), 0);
	expect(&f->s, 2, (uint64_t[]){10, 30}, (const char *[]){"ten", "thirty"});
	assert_int_equal(f->r.st.gaps, 2);
	assert_int_equal(f->r.st.gap_bytes, 10 + 17);
	assert_int_equal(f->r.st.held_bytes, 0);
	assert_int_equal(f->d.state, HL_TCP_DIR_CLOSED);
	/* Closing again, or a zeroed direction, is harmless. */
	assert_int_equal(hl_tcp_reorder_close(&f->r, &f->d, collect, &f->s), 0);
	struct hl_tcp_dir z = {0};
	assert_int_equal(hl_tcp_reorder_close(&f->r, &z, collect, &f->s), 0);
}

static void window_and_limits(void **state)
{
	struct fix *f = *state;
	feed(f, 0, SYN, NULL);
	feed(f, 1u + (1u << 30), ACK, "far"); /* out of window */
	assert_int_equal(f->r.st.out_of_window, 1);
	assert_int_equal(f->d.held, 0);
	struct hl_tcp_reorder r;
	struct hl_tcp_reorder_config bad = {HL_TCP_REORDER_SEG_OVERHEAD, 0};
	assert_int_equal(hl_tcp_reorder_init(&r, &bad), HL_EINVAL);
	assert_int_equal(hl_tcp_reorder_init(&r, NULL), 0);
	assert_int_equal(r.cfg.max_held_dir, HL_TCP_REORDER_DEFAULT_MAX_DIR);
	assert_int_equal(r.cfg.max_held_total, HL_TCP_REORDER_DEFAULT_MAX_TOTAL);
}

/* The worker-wide cap: a second direction cannot hold what the first has. */
static void global_cap(void **state)
{
	(void)state;
	struct hl_tcp_reorder r;
	struct hl_tcp_reorder_config cfg = {1000, 2 * (10 + HL_TCP_REORDER_SEG_OVERHEAD)};
	assert_int_equal(hl_tcp_reorder_init(&r, &cfg), 0);
	struct hl_tcp_dir d1 = {0}, d2 = {0};
	struct sink s1 = {0}, s2 = {0};
	struct hl_tcp_segment syn = {0, SYN, NULL, 0, 0};
	struct hl_tcp_segment a = {11, ACK, (const uint8_t *)"0123456789", 10, 10};
	struct hl_tcp_segment b = {31, ACK, (const uint8_t *)"abcdefghij", 10, 10};
	hl_tcp_reorder_segment(&r, &d1, &syn, collect, &s1);
	hl_tcp_reorder_segment(&r, &d2, &syn, collect, &s2);
	hl_tcp_reorder_segment(&r, &d1, &a, collect, &s1);
	hl_tcp_reorder_segment(&r, &d1, &b, collect, &s1);
	assert_int_equal(r.st.held_bytes, cfg.max_held_total);
	hl_tcp_reorder_segment(&r, &d2, &a, collect, &s2); /* no room: goes out */
	assert_int_equal(s1.nch, 0);
	assert_int_equal(s2.nch, 1);
	assert_int_equal(s2.ch[0].off, 10);
	assert_int_equal(r.st.overflows, 1);
	assert_int_equal(d2.held, 0);
	hl_tcp_reorder_close(&r, &d1, NULL, NULL);
	hl_tcp_reorder_close(&r, &d2, NULL, NULL);
	assert_int_equal(r.st.held_bytes, 0);
}

/* The flow end callback path frees what the directions hold. */
struct worker {
	struct hl_tcp_reorder r;
	size_t ended;
};

struct flow_user {
	struct hl_tcp_dir dir[2];
};

static void on_end(void *ctx, struct hl_flow *flow, enum hl_flow_end_reason why)
{
	struct worker *w = ctx;
	struct flow_user *u = flow->user;
	(void)why;
	hl_tcp_reorder_close(&w->r, &u->dir[0], NULL, NULL);
	hl_tcp_reorder_close(&w->r, &u->dir[1], NULL, NULL);
	w->ended++;
}

static void flow_end_frees_held(void **state)
{
	(void)state;
	struct worker w = {0};
	assert_int_equal(hl_tcp_reorder_init(&w.r, NULL), 0);
	struct hl_flow_config cfg = {.max_flows = 16, .user_size = sizeof(struct flow_user)};
	struct hl_flow_table *t = hl_flow_table_new(&cfg, on_end, &w);
	assert_non_null(t);
	static const uint8_t l4[20];
	for (int i = 0; i < 20; i++) { /* 20 flows in 16 slots: 4 evicted */
		struct hl_packet p = {0};
		p.ts = 1000000 + i;
		p.family = 4;
		p.proto = 6;
		p.src[0] = 10;
		p.src[3] = (uint8_t)i;
		p.dst[0] = 10;
		p.dst[3] = 200;
		p.sport = 40000;
		p.dport = 80;
		p.tcp_seq = 100;
		p.tcp_flags = ACK;
		p.l4 = l4;
		p.payload = (const uint8_t *)"data";
		p.payload_len = p.payload_wire_len = 4;
		int dir;
		struct hl_flow *fl = hl_flow_lookup(t, &p, &dir, NULL);
		assert_non_null(fl);
		struct flow_user *u = fl->user;
		struct hl_tcp_segment seg = hl_tcp_segment_of(&p);
		hl_tcp_reorder_segment(&w.r, &u->dir[dir], &seg, NULL, NULL);
		seg.seq = 200; /* hole at 104..199: held */
		hl_tcp_reorder_segment(&w.r, &u->dir[dir], &seg, NULL, NULL);
	}
	assert_int_equal(w.ended, 4);
	assert_int_equal(w.r.st.held_bytes, 16 * (4 + HL_TCP_REORDER_SEG_OVERHEAD));
	hl_flow_table_flush(t);
	assert_int_equal(w.ended, 20);
	assert_int_equal(w.r.st.held_bytes, 0);
	hl_flow_table_destroy(&t);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(in_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(out_of_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(retransmission, setup, teardown),
	        cmocka_unit_test_setup_teardown(partial_overlap, setup, teardown),
	        cmocka_unit_test_setup_teardown(wraparound, setup, teardown),
	        cmocka_unit_test_setup_teardown(gap_beyond_bound, setup_small, teardown),
	        cmocka_unit_test_setup_teardown(oversize_segment, setup_small, teardown),
	        cmocka_unit_test_setup_teardown(midstream, setup, teardown),
	        cmocka_unit_test_setup_teardown(byte_by_byte, setup, teardown),
	        cmocka_unit_test_setup_teardown(fin_ends_direction, setup, teardown),
	        cmocka_unit_test_setup_teardown(rst_delivers_held, setup, teardown),
	        cmocka_unit_test_setup_teardown(snap_cut_tail, setup, teardown),
	        cmocka_unit_test_setup_teardown(callback_stops, setup, teardown),
	        cmocka_unit_test_setup_teardown(close_delivers_and_frees, setup, teardown),
	        cmocka_unit_test_setup_teardown(window_and_limits, setup, teardown),
	        cmocka_unit_test(global_cap),
	        cmocka_unit_test(flow_end_frees_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
