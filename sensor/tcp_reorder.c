/* \summary: TCP per-direction byte-stream ordering (policy in tcp_reorder.h)
 *
 * Held segments form a sorted singly linked list with a tail pointer: a
 * hole usually fills from the front while later segments append at the
 * back, so both ends are O(1); a segment landing in the middle walks the
 * list, which the byte limits keep short (64 KiB / 48 bytes of overhead
 * bounds it at ~1,300 one-byte segments).
 *
 * Invariant: every held segment starts at or after next_seq, the list is
 * sorted and no two held segments overlap. Delivery never moves next_seq
 * past the start of a held segment without delivering it, so positions
 * relative to next_seq (rel) order the list at all times.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "tcp_reorder.h"

#define TCPF_FIN 0x01u
#define TCPF_SYN 0x02u
#define TCPF_RST 0x04u

#define WINDOW (1u << 30) /* the largest scaled TCP window */

struct hl_tcp_seg {
	struct hl_tcp_seg *next;
	uint32_t seq;
	uint32_t len;  /* > 0 */
	uint32_t skip; /* known-missing bytes right after (snap length cut) */
	uint8_t data[];
};

/* Carried through one feed: callback and the stop value. */
struct feed {
	struct hl_tcp_reorder *r;
	struct hl_tcp_dir *d;
	hl_tcp_deliver_fn fn;
	void *ctx;
	int rc;
};

int hl_tcp_reorder_init(struct hl_tcp_reorder *r, const struct hl_tcp_reorder_config *cfg)
{
	memset(r, 0, sizeof(*r));
	if (cfg != NULL)
		r->cfg = *cfg;
	if (r->cfg.max_held_dir == 0)
		r->cfg.max_held_dir = HL_TCP_REORDER_DEFAULT_MAX_DIR;
	if (r->cfg.max_held_total == 0)
		r->cfg.max_held_total = HL_TCP_REORDER_DEFAULT_MAX_TOTAL;
	if (r->cfg.max_held_dir <= HL_TCP_REORDER_SEG_OVERHEAD ||
	    r->cfg.max_held_total <= HL_TCP_REORDER_SEG_OVERHEAD)
		return HL_EINVAL;
	return 0;
}

/* Position of seq relative to the next expected byte; serial arithmetic. */
static inline uint32_t rel(const struct hl_tcp_dir *d, uint32_t seq)
{
	return seq - d->next_seq;
}

static inline bool is_old(uint32_t r)
{
	return (int32_t)r < 0;
}

static void seg_free(struct hl_tcp_reorder *r, struct hl_tcp_dir *d, struct hl_tcp_seg *s)
{
	uint32_t cost = s->len + HL_TCP_REORDER_SEG_OVERHEAD;
	d->held -= cost;
	r->st.held_bytes -= cost;
	free(s);
}

static void free_held(struct hl_tcp_reorder *r, struct hl_tcp_dir *d)
{
	struct hl_tcp_seg *s = d->head;
	while (s != NULL) {
		struct hl_tcp_seg *n = s->next;
		seg_free(r, d, s);
		s = n;
	}
	d->head = d->tail = NULL;
}

static void end_dir(struct feed *f)
{
	free_held(f->r, f->d);
	f->d->state = HL_TCP_DIR_CLOSED;
}

/* Deliver n bytes at next_seq. Returns false once the callback stopped. */
static bool emit(struct feed *f, const uint8_t *p, uint32_t n)
{
	struct hl_tcp_dir *d = f->d;
	if (n == 0)
		return true;
	uint64_t off = d->offset;
	d->next_seq += n;
	d->offset += n;
	f->r->st.bytes_out += n;
	if (f->fn == NULL)
		return true;
	int rc = f->fn(f->ctx, p, n, off);
	if (rc != 0) {
		f->rc = rc;
		end_dir(f);
		return false;
	}
	return true;
}

/* Move next_seq forward to seq, counting the hole. */
static void skip_to(struct feed *f, uint32_t seq)
{
	uint32_t n = rel(f->d, seq);
	if (n == 0 || is_old(n))
		return;
	f->d->next_seq = seq;
	f->d->offset += n;
	f->r->st.gaps++;
	f->r->st.gap_bytes += n;
}

/* Skip up to n known-missing bytes, but never past held data. */
static void skip_missing(struct feed *f, uint32_t n)
{
	if (n == 0)
		return;
	const struct hl_tcp_seg *h = f->d->head;
	if (h != NULL && rel(f->d, h->seq) < n)
		n = rel(f->d, h->seq);
	skip_to(f, f->d->next_seq + n);
}

/* Deliver the held segments that start at next_seq. */
static bool drain(struct feed *f)
{
	struct hl_tcp_dir *d = f->d;
	while (d->head != NULL && d->head->seq == d->next_seq) {
		struct hl_tcp_seg *s = d->head;
		d->head = s->next;
		if (d->head == NULL)
			d->tail = NULL;
		bool go = emit(f, s->data, s->len);
		uint32_t skip = s->skip;
		seg_free(f->r, d, s);
		if (!go)
			return false;
		skip_missing(f, skip);
	}
	return true;
}

/* In-order data (seq == next_seq): deliver it, except where held bytes were
 * there first, then the held run that follows. */
static bool deliver_in_order(struct feed *f, const uint8_t *data, uint32_t len, uint32_t skip)
{
	struct hl_tcp_dir *d = f->d;
	uint32_t end = d->next_seq + len; /* of the new data */
	bool diff = false, overlap = false;
	while (rel(d, end) > 0 && !is_old(rel(d, end))) {
		uint32_t pos = len - rel(d, end); /* bytes of data already passed */
		struct hl_tcp_seg *h = d->head;
		if (h != NULL && h->seq == d->next_seq) {
			uint32_t n = h->len < len - pos ? h->len : len - pos;
			overlap = true;
			diff = diff || memcmp(h->data, data + pos, n) != 0;
			d->head = h->next;
			if (d->head == NULL)
				d->tail = NULL;
			uint32_t hskip = h->skip;
			bool go = emit(f, h->data, h->len);
			seg_free(f->r, d, h);
			if (!go)
				return false;
			/* The held segment's missing tail counts only where the new
			 * data does not reach. */
			if (rel(d, end) == 0 || is_old(rel(d, end)))
				skip_missing(f, hskip);
			continue;
		}
		uint32_t n = len - pos;
		if (h != NULL && rel(d, h->seq) < n)
			n = rel(d, h->seq);
		if (!emit(f, data + pos, n))
			return false;
	}
	if (overlap) {
		f->r->st.overlaps++;
		if (diff)
			f->r->st.overlap_diff++;
	}
	/* The new segment's missing tail, as far as it reaches past what was
	 * delivered. */
	uint32_t tail_end = end + skip;
	if (rel(d, tail_end) > 0 && !is_old(rel(d, tail_end)))
		skip_missing(f, rel(d, tail_end));
	return drain(f);
}

static bool fits(const struct hl_tcp_reorder *r, const struct hl_tcp_dir *d, uint32_t cost)
{
	return (uint64_t)d->held + cost <= r->cfg.max_held_dir &&
	       r->st.held_bytes + cost <= r->cfg.max_held_total;
}

/* Hold the parts of out-of-order data [seq, seq+len) not already held.
 * Returns the number of bytes of data dealt with: len when all is held,
 * less when a limit or allocation stopped it (the rest is not held). */
static uint32_t hold(struct feed *f, uint32_t seq, const uint8_t *data, uint32_t len, uint32_t skip)
{
	struct hl_tcp_reorder *r = f->r;
	struct hl_tcp_dir *d = f->d;
	uint32_t s = rel(d, seq), e = s + len, pos = s;
	struct hl_tcp_seg *prev = NULL, *cur = d->head, *last = NULL;
	bool overlap = false, diff = false;

	/* Appending after the tail is the common case: jump there. */
	if (d->tail != NULL && rel(d, d->tail->seq) + d->tail->len <= s) {
		prev = d->tail;
		cur = NULL;
	}
	while (pos < e) {
		while (cur != NULL && rel(d, cur->seq) + cur->len <= pos) {
			prev = cur;
			cur = cur->next;
		}
		uint32_t cs = cur != NULL ? rel(d, cur->seq) : e;
		if (cur != NULL && cs <= pos) {
			uint32_t ce = cs + cur->len, oe = ce < e ? ce : e;
			overlap = true;
			diff = diff ||
			       memcmp(cur->data + (pos - cs), data + (pos - s), oe - pos) != 0;
			pos = oe;
			last = NULL;
			continue;
		}
		uint32_t pe = cs < e ? cs : e, n = pe - pos;
		uint32_t cost = n + HL_TCP_REORDER_SEG_OVERHEAD;
		struct hl_tcp_seg *piece = NULL;
		if (fits(r, d, cost)) {
			piece = malloc(sizeof(*piece) + n);
			if (piece == NULL)
				r->st.alloc_failures++;
		}
		if (piece == NULL)
			break;
		piece->seq = d->next_seq + pos;
		piece->len = n;
		piece->skip = 0;
		memcpy(piece->data, data + (pos - s), n);
		piece->next = cur;
		if (prev != NULL)
			prev->next = piece;
		else
			d->head = piece;
		if (cur == NULL)
			d->tail = piece;
		d->held += cost;
		r->st.held_bytes += cost;
		if (r->st.held_bytes > r->st.held_peak)
			r->st.held_peak = r->st.held_bytes;
		prev = piece;
		last = piece;
		pos = pe;
	}
	if (overlap) {
		r->st.overlaps++;
		if (diff)
			r->st.overlap_diff++;
	}
	if (pos > s)
		r->st.out_of_order++;
	/* The missing tail belongs to the piece that ends the data, if that
	 * piece is new; drain() skips it, never past held data. */
	if (pos == e && last != NULL)
		last->skip = skip;
	return pos - s;
}

/* Data (after SYN handling) of an open direction. */
static bool feed_data(struct feed *f, uint32_t seq, const uint8_t *data, uint32_t len,
                      uint32_t skip)
{
	struct hl_tcp_reorder *r = f->r;
	struct hl_tcp_dir *d = f->d;

	/* Nothing past the FIN. */
	if (d->fin) {
		uint32_t room = d->fin_seq - seq;
		if (is_old(room) || room == 0) {
			if (len > 0)
				r->st.after_close++;
			return true;
		}
		if (len > room) {
			r->st.after_close++;
			len = room;
			skip = 0;
		} else if (skip > room - len) {
			skip = room - len;
		}
	}
	for (;;) {
		if (len == 0 && skip == 0)
			return true;
		uint32_t x = rel(d, seq);
		if (is_old(x)) {
			uint32_t old = d->next_seq - seq;
			if (old >= len) {
				if (len > 0)
					r->st.retransmits++;
				/* Part of the missing tail may still lie ahead. */
				uint32_t rest = old - len < skip ? skip - (old - len) : 0;
				skip_missing(f, rest);
				return drain(f);
			}
			r->st.overlaps++;
			data += old;
			len -= old;
			seq = d->next_seq;
			x = 0;
		}
		if (x >= WINDOW) {
			r->st.out_of_window++;
			return true;
		}
		if (x == 0)
			return deliver_in_order(f, data, len, skip);
		if (len == 0)
			return true; /* a bare missing range ahead: the hole says it */
		uint32_t done = hold(f, seq, data, len, skip);
		if (done == len)
			return true;
		/* A limit: skip the hole before the earliest byte known, held or
		 * the rest of this segment, deliver from there, and retry. */
		r->st.overflows++;
		seq += done;
		data += done;
		len -= done;
		const struct hl_tcp_seg *h = d->head;
		if (h != NULL && rel(d, h->seq) < rel(d, seq)) {
			skip_to(f, h->seq);
			if (!drain(f))
				return false;
		} else {
			skip_to(f, seq);
		}
	}
}

int hl_tcp_reorder_segment(struct hl_tcp_reorder *r, struct hl_tcp_dir *d,
                           const struct hl_tcp_segment *seg, hl_tcp_deliver_fn fn, void *ctx)
{
	struct feed f = {r, d, fn, ctx, 0};
	uint32_t len = seg->data != NULL ? seg->len : 0;
	uint32_t wire = seg->wire_len > len ? seg->wire_len : len;
	const uint8_t *data = seg->data;

	r->st.segments++;
	r->st.bytes_in += len;
	if (wire > HL_TCP_REORDER_MAX_SEG) {
		r->st.out_of_window++;
		return 0;
	}
	if (d->state == HL_TCP_DIR_CLOSED) {
		if (len > 0)
			r->st.after_close++;
		return 0;
	}
	bool syn = (seg->flags & TCPF_SYN) != 0;
	uint32_t seq = syn ? seg->seq + 1 : seg->seq; /* of the first data byte */

	if (d->state == HL_TCP_DIR_NONE) {
		if ((seg->flags & TCPF_RST) != 0 ||
		    (!syn && wire == 0 && (seg->flags & TCPF_FIN))) {
			d->state = HL_TCP_DIR_CLOSED;
			return 0;
		}
		if (!syn && wire == 0)
			return 0; /* a bare ACK says nothing about where data starts */
		if (!syn)
			r->st.midstream++;
		d->state = HL_TCP_DIR_OPEN;
		d->next_seq = seq;
		d->offset = 0;
	}
	if ((seg->flags & TCPF_RST) != 0) {
		uint32_t x = rel(d, seg->seq);
		if (is_old(x) || x >= WINDOW) {
			r->st.rst_ignored++;
			return 0;
		}
		return hl_tcp_reorder_close(r, d, fn, ctx);
	}
	if ((seg->flags & TCPF_FIN) != 0 && !d->fin) {
		uint32_t fs = seq + wire;
		uint32_t x = rel(d, fs);
		if (!is_old(x) && x < WINDOW) {
			d->fin = true;
			d->fin_seq = fs;
		}
	}
	feed_data(&f, seq, data, len, wire - len);
	if (f.rc != 0)
		return f.rc;
	/* Held bytes from before the FIN was known may have run past it. */
	if (d->fin && (d->next_seq == d->fin_seq || is_old(rel(d, d->fin_seq))))
		end_dir(&f);
	return 0;
}

int hl_tcp_reorder_close(struct hl_tcp_reorder *r, struct hl_tcp_dir *d, hl_tcp_deliver_fn fn,
                         void *ctx)
{
	struct feed f = {r, d, fn, ctx, 0};
	if (d->state == HL_TCP_DIR_OPEN && fn != NULL) {
		while (d->head != NULL) {
			skip_to(&f, d->head->seq);
			if (!drain(&f))
				return f.rc;
		}
	}
	end_dir(&f);
	return 0;
}
