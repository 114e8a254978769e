/* \summary: fuzz the TCP reorder + Hyperscan stream scan path, one or two directions
 *
 * The segments of the input go through sensor/tcp_reorder.c, and the bytes
 * it delivers through the streaming matcher the way the worker does it
 * (sensor/worker_app.c, scan_stream): a stream per direction opened on the
 * first bytes, restarted at a gap, cut at the stream depth, and closed with
 * its end-of-data matches when the flow ends. fuzz_tcp_reorder.c checks the
 * reordering alone with payloads that are a function of the sequence
 * number; here the payloads come from the input, so the fuzzer can place
 * (and split) the patterns of a small fixed indicator set.
 *
 * Input: byte 0 mode (bit 0: small reorder limits shared by both
 * directions; bit 1: two directions; bit 2: a SYN first in each; bit 3: a
 * stream depth of 4 * byte 5 + 1), bytes 1-4 the initial sequence number
 * (big endian), byte 5 the depth, then records: a control byte (bit 7:
 * the second direction; bit 6: the low 3 bits are FIN/SYN/RST, else a plain
 * ACK; bit 5: the offset is shifted 14 bits up), a 2-byte sequence offset,
 * a length and a captured-length cut, followed by the captured bytes taken
 * from the input.
 *
 * Checked, besides no crash and no leak (sanitizers): chunks come in stream
 * order without overlap; a direction's offset is exactly its delivered
 * bytes plus its skipped gap bytes, call by call; delivered bytes are never
 * more than those received; scanned plus depth-skipped bytes equal those
 * delivered; held bytes stay within the limits and are all freed; every
 * match ends inside the bytes its stream was given, on the very bytes of
 * its pattern (no match spans a gap), at most once per stream; and every
 * occurrence of a pattern within one stream is reported (split or not).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hotline/indicator.h"
#include "hotline/iset.h"
#include "hotline/matcher.h"
#include "tcp_reorder.h"

#define HDR 6
#define REC 5
#define NPAT 5

enum pat { P_EVIL, P_BEEF, P_SPLIT, P_REGEX, P_END };

static const struct {
	enum hl_ind_type type;
	const char *value;
	bool nocase;
} specs[NPAT] = {
        [P_EVIL] = {HL_IND_CONTENT, "EVIL", false},
        [P_BEEF] = {HL_IND_CONTENT, "|de ad be ef|", false},
        [P_SPLIT] = {HL_IND_CONTENT, "split-me", true},
        [P_REGEX] = {HL_IND_REGEX, "x[0-9]{3}y", false},
        [P_END] = {HL_IND_REGEX, "zz$", false},
};
static const uint8_t beef[4] = {0xde, 0xad, 0xbe, 0xef};

/* Built once: the matcher is read-only and outlives every input. */
struct fixture {
	hl_matcher_t *m;
	hl_scratch_t *s;
	int pat_of[NPAT]; /* matcher index -> enum pat */
};

static struct fixture *fixture(void)
{
	static struct fixture fx;
	static bool ready;
	if (ready)
		return &fx;
	hl_iset_t *set = hl_iset_new();
	if (set == NULL)
		abort();
	for (int i = 0; i < NPAT; i++) {
		struct hl_indicator ind;
		hl_indicator_init(&ind);
		ind.type = specs[i].type;
		ind.value = strdup(specs[i].value);
		ind.nocase = specs[i].nocase;
		char why[128];
		if (ind.value == NULL || hl_indicator_normalise(&ind, why, sizeof why) != 0 ||
		    hl_iset_add(set, &ind, NULL) != 0)
			abort();
	}
	struct hl_compile_stats st;
	if (hl_matcher_compile(set, NULL, &fx.m, &st, NULL) != 0 || st.compiled != NPAT)
		abort();
	hl_iset_destroy(&set);
	if (hl_matcher_count(fx.m) != NPAT || (fx.s = hl_scratch_new(fx.m)) == NULL)
		abort();
	for (uint32_t i = 0; i < NPAT; i++) {
		const struct hl_indicator *ind = hl_matcher_indicator(fx.m, i);
		int p = ind->type == HL_IND_REGEX ? (strstr(ind->value, "zz") ? P_END : P_REGEX)
		        : strstr(ind->value, "EVIL") != NULL  ? P_EVIL
		        : strstr(ind->value, "split") != NULL ? P_SPLIT
		                                              : P_BEEF;
		fx.pat_of[i] = p;
	}
	ready = true;
	return &fx;
}

/* One direction: its reorder state and its payload stream, as the worker
 * keeps them, plus what the checks need. */
struct dir {
	struct hl_tcp_dir tcp;
	hl_stream_t *stream;
	uint64_t stream_next;
	uint64_t scanned, depth_skipped, delivered, gap_bytes;
	uint64_t next_off; /* no chunk may start below it */
	uint8_t *buf;      /* the current stream's bytes */
	size_t len, cap;
	bool reported[NPAT];
	bool closing; /* end-of-data matches allowed */
};

struct run {
	struct fixture *fx;
	struct hl_tcp_reorder r;
	struct dir d[2];
	uint64_t depth;
	int cur; /* direction being fed */
};

static size_t pat_len(int p)
{
	switch (p) {
	case P_EVIL:
	case P_BEEF:
		return 4;
	case P_SPLIT:
		return 8;
	case P_REGEX:
		return 5;
	default:
		return 2;
	}
}

static bool pat_at(int p, const uint8_t *b)
{
	switch (p) {
	case P_EVIL:
		return memcmp(b, "EVIL", 4) == 0;
	case P_BEEF:
		return memcmp(b, beef, 4) == 0;
	case P_SPLIT:
		return strncasecmp((const char *)b, "split-me", 8) == 0;
	case P_REGEX:
		for (int i = 1; i < 4; i++) {
			if (b[i] < '0' || b[i] > '9')
				return false;
		}
		return b[0] == 'x' && b[4] == 'y';
	default:
		return b[0] == 'z' && b[1] == 'z';
	}
}

/* Where '$' matches: the end of the data, or before a final newline
 * (PCRE semantics, which Hyperscan follows). */
static size_t end_of_data(const struct dir *d)
{
	return d->len > 0 && d->buf[d->len - 1] == '\n' ? d->len - 1 : d->len;
}

static int on_match(void *ctx, const struct hl_match *m)
{
	struct run *run = ctx;
	struct dir *d = &run->d[run->cur];
	if (m->field != HL_FIELD_TCP_PAYLOAD || m->indicator >= NPAT)
		abort();
	int p = run->fx->pat_of[m->indicator];
	size_t n = pat_len(p);
	/* inside this stream's bytes, on the pattern, once */
	if (m->offset > d->len || m->offset < n || d->reported[p])
		abort();
	if (!pat_at(p, d->buf + m->offset - n))
		abort();
	if (p == P_END && (!d->closing || m->offset != end_of_data(d)))
		abort();
	d->reported[p] = true;
	return 0;
}

/* Every occurrence in the stream was reported (end-of-data ones only when
 * the stream was closed with a callback). */
static void end_stream(struct run *run, struct dir *d, bool with_matches)
{
	if (d->stream == NULL)
		return;
	d->closing = with_matches;
	if (hl_stream_close(&d->stream, run->fx->s, 1, with_matches ? on_match : NULL, run) < 0)
		abort();
	d->closing = false;
	for (int p = 0; p < NPAT; p++) {
		size_t n = pat_len(p);
		bool found = false;
		if (p == P_END)
			found = with_matches && end_of_data(d) >= n &&
			        pat_at(p, d->buf + end_of_data(d) - n);
		else
			for (size_t i = 0; !found && i + n <= d->len; i++)
				found = pat_at(p, d->buf + i);
		if (found && !d->reported[p])
			abort();
	}
	d->len = 0;
	memset(d->reported, 0, sizeof d->reported);
}

/* worker_app.c's scan_stream, with the checks around it. */
static int on_bytes(void *ctx, const uint8_t *bytes, size_t len, uint64_t off)
{
	struct run *run = ctx;
	struct dir *d = &run->d[run->cur];
	if (len == 0 || off < d->next_off || d->tcp.offset != off + len)
		abort();
	d->next_off = off + len;
	d->delivered += len;
	if (run->depth != 0) {
		if (d->scanned >= run->depth) {
			d->depth_skipped += len;
			return 0;
		}
		if (d->scanned + len > run->depth) {
			d->depth_skipped += d->scanned + len - run->depth;
			len = (size_t)(run->depth - d->scanned);
		}
	}
	if (d->stream != NULL && off != d->stream_next)
		end_stream(run, d, false);
	if (d->stream == NULL &&
	    (d->stream = hl_stream_open(run->fx->m, HL_FIELD_TCP_PAYLOAD)) == NULL)
		abort();
	if (d->len + len > d->cap) {
		size_t ncap = d->cap ? d->cap : 256;
		while (ncap < d->len + len)
			ncap *= 2;
		uint8_t *nb = realloc(d->buf, ncap);
		if (nb == NULL)
			abort();
		d->buf = nb;
		d->cap = ncap;
	}
	memcpy(d->buf + d->len, bytes, len);
	d->len += len;
	if (hl_stream_scan(d->stream, run->fx->s, bytes, len, 1, on_match, run) < 0)
		abort();
	d->stream_next = off + len;
	d->scanned += len;
	return 0;
}

/* One reorder call into direction i, with the byte accounting around it. */
static void feed(struct run *run, int i, const struct hl_tcp_segment *seg)
{
	struct dir *d = &run->d[i];
	uint64_t off0 = d->tcp.offset, out0 = run->r.st.bytes_out, gap0 = run->r.st.gap_bytes;
	uint64_t dl0 = d->delivered;
	run->cur = i;
	if (seg != NULL)
		hl_tcp_reorder_segment(&run->r, &d->tcp, seg, on_bytes, run);
	else
		hl_tcp_reorder_close(&run->r, &d->tcp, on_bytes, run);
	uint64_t out = run->r.st.bytes_out - out0, gap = run->r.st.gap_bytes - gap0;
	if (out != d->delivered - dl0 || d->tcp.offset - off0 != out + gap)
		abort();
	d->gap_bytes += gap;
	if (d->tcp.held > run->r.cfg.max_held_dir ||
	    run->r.st.held_bytes > run->r.cfg.max_held_total)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HDR)
		return 0;
	static struct run run;
	memset(&run, 0, sizeof run);
	run.fx = fixture();
	uint8_t mode = data[0];
	uint32_t isn = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 |
	               data[4];
	struct hl_tcp_reorder_config cfg = {0, 0};
	if (mode & 1) {
		cfg.max_held_dir = 600;
		cfg.max_held_total = 900;
	}
	if (hl_tcp_reorder_init(&run.r, &cfg) != 0)
		abort();
	run.depth = (mode & 8) ? 4u * data[5] + 1 : 0;
	int ndirs = (mode & 2) ? 2 : 1;
	uint32_t base[2] = {isn, isn ^ 0x5a5a5a5au};
	if (mode & 4) {
		for (int i = 0; i < ndirs; i++) {
			struct hl_tcp_segment syn = {base[i], 0x02, NULL, 0, 0};
			feed(&run, i, &syn);
		}
	}
	size_t pos = HDR;
	while (size - pos >= REC) {
		const uint8_t *rec = data + pos;
		pos += REC;
		int i = (rec[0] & 0x80) && ndirs == 2 ? 1 : 0;
		uint8_t flags = (rec[0] & 0x40) ? rec[0] & 0x07 : 0x10;
		uint32_t off = (uint32_t)rec[1] << 8 | rec[2];
		if (rec[0] & 0x20)
			off <<= 14;
		uint32_t len = rec[3];
		uint32_t cut = rec[4] < len ? rec[4] : 0;
		uint32_t caplen = len - cut;
		if (caplen > size - pos)
			caplen = (uint32_t)(size - pos);
		struct hl_tcp_segment seg = {base[i] + 1 + off, flags, data + pos, caplen, len};
		if (caplen == 0)
			seg.data = NULL;
		if (flags & 0x02) /* a SYN's data starts one later */
			seg.seq--;
		pos += caplen;
		feed(&run, i, &seg);
	}
	uint64_t delivered = 0;
	for (int i = 0; i < 2; i++) {
		struct dir *d = &run.d[i];
		feed(&run, i, NULL);
		run.cur = i;
		end_stream(&run, d, true);
		if (d->scanned + d->depth_skipped != d->delivered ||
		    d->tcp.offset != d->delivered + d->gap_bytes)
			abort();
		delivered += d->delivered;
		free(d->buf);
	}
	if (delivered != run.r.st.bytes_out || delivered > run.r.st.bytes_in ||
	    run.r.st.held_bytes != 0)
		abort();
	return 0;
}
