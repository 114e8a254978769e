/* \summary: fuzz TCP per-direction ordering with segment lists from the input
 *
 * Input: byte 0 mode (bit 0: segment bytes are a function of their sequence
 * number, so every delivered byte can be checked; bit 1: small limits;
 * bit 2: a SYN first; bit 3: the callback stops after a few chunks), bytes
 * 1-4 the initial sequence number (big endian), then 5-byte records:
 * sequence offset (2 bytes), length, flags, captured-length cut. A flags
 * byte of 0xe0 and above carries FIN/SYN/RST in its low 3 bits and with
 * 0x08 shifts the offset 14 bits up (window edge, wraparound); below, the
 * segment is a plain ACK. In bit-0-clear mode the segment bytes come from
 * the input itself.
 *
 * Checked: no crash, no leak (sanitizers), chunks in order and never
 * overlapping, offsets that are sequence space since the start, never
 * more bytes out than in, the counters agree with the
 * callback, in bit-0 mode every byte is the one sent at its sequence number
 * and no overlap differs, and closing frees every held byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_reorder.h"

#define REC 5

struct check {
	const struct hl_tcp_dir *d;
	bool consistent;
	uint64_t next_off; /* nothing below this may come again */
	uint64_t total;
	unsigned chunks, stop_after;
	uint32_t base; /* sequence number of stream offset 0 */
};

static uint8_t byte_at(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

static int check_chunk(void *ctx, const uint8_t *b, size_t len, uint64_t off)
{
	struct check *c = ctx;
	if (len == 0 || off < c->next_off)
		abort();
	/* emit() moved the direction past the chunk before calling. */
	if (c->d->offset != off + len)
		abort();
	/* Offsets are sequence space since the start, gaps included. */
	uint32_t base = c->d->next_seq - (uint32_t)c->d->offset;
	if (c->chunks > 0 && base != c->base)
		abort();
	c->base = base;
	if (c->consistent) {
		uint32_t seq = c->d->next_seq - (uint32_t)len;
		for (size_t i = 0; i < len; i++) {
			if (b[i] != byte_at(seq + (uint32_t)i))
				abort();
		}
	}
	c->next_off = off + len;
	c->total += len;
	c->chunks++;
	return c->stop_after != 0 && c->chunks >= c->stop_after ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	uint8_t mode = data[0];
	uint32_t isn = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 |
	               data[4];
	struct hl_tcp_reorder r;
	struct hl_tcp_reorder_config cfg = {0, 0};
	if (mode & 2) {
		cfg.max_held_dir = 600;
		cfg.max_held_total = 900;
	}
	if (hl_tcp_reorder_init(&r, &cfg) != 0)
		abort();
	struct hl_tcp_dir d = {0};
	struct check c = {&d, (mode & 1) != 0, 0, 0, 0, (mode & 8) ? 5u : 0u, 0};
	uint8_t buf[255];

	if (mode & 4) {
		struct hl_tcp_segment syn = {isn, 0x02, NULL, 0, 0};
		hl_tcp_reorder_segment(&r, &d, &syn, check_chunk, &c);
	}
	size_t pos = 5;
	while (size - pos >= REC) {
		const uint8_t *rec = data + pos;
		pos += REC;
		uint32_t off = (uint32_t)rec[0] << 8 | rec[1];
		uint32_t len = rec[2];
		uint8_t fb = rec[3];
		uint8_t flags = 0x10;
		if (fb >= 0xe0) {
			flags = fb & 0x07;
			if (fb & 0x08)
				off <<= 14;
		}
		uint32_t seq = isn + 1 + off;
		uint32_t cut = rec[4] < len ? rec[4] : 0;
		uint32_t caplen = len - cut;
		if (c.consistent) {
			for (uint32_t i = 0; i < caplen; i++)
				buf[i] = byte_at(seq + i);
		} else {
			for (uint32_t i = 0; i < caplen; i++)
				buf[i] = data[(pos + i) % size];
		}
		struct hl_tcp_segment seg = {seq, flags, caplen > 0 ? buf : NULL, caplen, len};
		if (flags & 0x02) /* a SYN's data starts one later */
			seg.seq = seq - 1;
		hl_tcp_reorder_segment(&r, &d, &seg, check_chunk, &c);
		if (d.held > r.cfg.max_held_dir || r.st.held_bytes > r.cfg.max_held_total)
			abort();
	}
	if (c.stop_after == 0 || c.chunks < c.stop_after)
		hl_tcp_reorder_close(&r, &d, check_chunk, &c);
	else
		hl_tcp_reorder_close(&r, &d, NULL, NULL);
	if (c.total > r.st.bytes_in || c.total != r.st.bytes_out)
		abort();
	if (c.consistent && r.st.overlap_diff != 0)
		abort();
	if (r.st.held_bytes != 0 || d.held != 0 || d.head != NULL)
		abort();
	return 0;
}
