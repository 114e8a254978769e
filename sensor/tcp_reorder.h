/* \summary: TCP per-direction byte-stream ordering, bounded
 *
 * One struct hl_tcp_dir per flow direction (fixed-size, caller-owned: it
 * lives in the flow's user area, and a zeroed one is a fresh direction) and
 * one struct hl_tcp_reorder per worker holding the limits, the memory held
 * by all its directions, and the counters. Segments go in in capture order;
 * the direction's bytes come out in sequence order through a callback, each
 * chunk with its stream offset: bytes since the direction's start (the byte
 * after the SYN, or the first data byte seen when the handshake was missed,
 * "midstream pickup").
 *
 * Policy (cf. Suricata's stream engine, much reduced):
 *  - In-order bytes are delivered straight from the caller's (borrowed)
 *    buffer; only out-of-order bytes are copied, and held until the hole
 *    before them fills.
 *  - First seen wins: bytes already delivered or held are never replaced.
 *    A retransmission of delivered bytes is dropped (counted); a segment
 *    overlapping held bytes adds only its new parts, and an overlap whose
 *    bytes differ from the held ones is counted (the evasion signal).
 *  - Held memory is bounded per direction and per worker. When a segment
 *    does not fit, the hole before the earliest byte known (held or this
 *    segment) is skipped: counted as a gap, and delivery resumes there.
 *    Bytes that arrive for a skipped range later are old and dropped.
 *  - A gap shows in the offsets: a chunk whose offset is past the previous
 *    chunk's end follows a hole (the matcher should not join across it).
 *  - Sequence numbers are 32-bit serial numbers (RFC 1982): wraparound is
 *    invisible in offsets, which are 64-bit. Segments more than 2^30 bytes
 *    ahead of the next expected byte are out of window and dropped.
 *  - A segment whose capture was cut by the snap length carries fewer bytes
 *    than its headers say; the missing tail is skipped as a gap once the
 *    bytes before it are delivered.
 *  - FIN ends the direction once every byte before it is delivered; bytes
 *    past the FIN are dropped. An in-window RST delivers what is held
 *    (skipping holes) and ends the direction at once; an old or
 *    out-of-window RST is ignored (counted), as a receiver would. The RST
 *    ends only its own direction: the caller decides about the other one
 *    (hl_tcp_reorder_close).
 *
 * Every held byte is freed by hl_tcp_reorder_close, which the flow's end
 * callback must call for both directions.
 */
#ifndef HOTLINE_SENSOR_TCP_REORDER_H
#define HOTLINE_SENSOR_TCP_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

#define HL_TCP_REORDER_DEFAULT_MAX_DIR (64u * 1024u)
#define HL_TCP_REORDER_DEFAULT_MAX_TOTAL ((uint64_t)32 * 1024 * 1024)
/* What one held segment costs beyond its bytes (header and allocator),
 * charged against both limits so that many tiny segments are bounded too. */
#define HL_TCP_REORDER_SEG_OVERHEAD 48u
/* Largest segment accepted, bytes (IPv4/IPv6 cannot carry more; anything
 * above is a caller error or a jumbogram, and is dropped as out of window). */
#define HL_TCP_REORDER_MAX_SEG (1u << 24)

/* Zero fields take the defaults. */
struct hl_tcp_reorder_config {
	uint32_t max_held_dir;   /* held bytes (with overhead) per direction */
	uint64_t max_held_total; /* held bytes (with overhead) over all directions */
};

struct hl_tcp_reorder_stats {
	uint64_t segments;       /* segments fed */
	uint64_t bytes_in;       /* captured payload bytes fed */
	uint64_t bytes_out;      /* bytes delivered */
	uint64_t midstream;      /* directions picked up without a SYN */
	uint64_t out_of_order;   /* segments (or parts) held for later */
	uint64_t retransmits;    /* data segments wholly before the next expected byte */
	uint64_t overlaps;       /* segments partly overlapping delivered or held bytes */
	uint64_t overlap_diff;   /* overlaps whose bytes differ from the held ones */
	uint64_t gaps;           /* holes skipped */
	uint64_t gap_bytes;      /* bytes of sequence space skipped */
	uint64_t overflows;      /* a limit forced a hole to be skipped */
	uint64_t out_of_window;  /* segments too far ahead (or too large) */
	uint64_t after_close;    /* data segments after the direction ended, or past its FIN */
	uint64_t rst_ignored;    /* RSTs out of window */
	uint64_t alloc_failures; /* treated as an overflow */
	uint64_t held_bytes;     /* gauge: charged now, with overhead */
	uint64_t held_peak;
};

struct hl_tcp_reorder {
	struct hl_tcp_reorder_config cfg;
	struct hl_tcp_reorder_stats st;
};

struct hl_tcp_seg;

enum hl_tcp_dir_state {
	HL_TCP_DIR_NONE = 0, /* nothing seen (a zeroed struct) */
	HL_TCP_DIR_OPEN,
	HL_TCP_DIR_CLOSED, /* FIN reached, RST, callback stop, or closed by the caller */
};

struct hl_tcp_dir {
	uint32_t next_seq; /* next byte expected */
	uint32_t fin_seq;  /* sequence number of the FIN, when fin */
	uint64_t offset;   /* stream offset of next_seq */
	uint8_t state;     /* enum hl_tcp_dir_state */
	bool fin;
	uint32_t held;                  /* bytes charged for this direction */
	struct hl_tcp_seg *head, *tail; /* held, sorted, not overlapping */
};

/* Called with bytes in stream order; the bytes are valid only during the
 * call. Return 0 to go on, nonzero to end the direction (the call feeding
 * it returns that value, held bytes are freed, later segments are ignored). */
typedef int (*hl_tcp_deliver_fn)(void *ctx, const uint8_t *bytes, size_t len,
                                 uint64_t stream_offset);

/* One segment of one direction. */
struct hl_tcp_segment {
	uint32_t seq;        /* sequence number of the segment (of the SYN, if SYN) */
	uint8_t flags;       /* TCP flags byte: FIN 0x01, SYN 0x02, RST 0x04 used */
	const uint8_t *data; /* borrowed */
	uint32_t len;        /* captured payload bytes */
	uint32_t wire_len;   /* payload bytes per the headers; below len taken as len */
};

/* cfg may be NULL for the defaults. Returns 0, or HL_EINVAL when a limit
 * cannot hold even a one-byte segment. Nothing is allocated: there is no
 * destroy, but every direction must be closed before r goes away. */
int hl_tcp_reorder_init(struct hl_tcp_reorder *r, const struct hl_tcp_reorder_config *cfg);

/* Feed one segment into direction d. Returns 0, or the callback's nonzero
 * value. Never fails otherwise: limits and allocation failures skip holes
 * and are counted. */
int hl_tcp_reorder_segment(struct hl_tcp_reorder *r, struct hl_tcp_dir *d,
                           const struct hl_tcp_segment *seg, hl_tcp_deliver_fn fn, void *ctx);

/* The segment of a decoded TCP packet (seq, flags, payload). */
static inline struct hl_tcp_segment hl_tcp_segment_of(const struct hl_packet *p)
{
	struct hl_tcp_segment s = {p->tcp_seq, p->tcp_flags, p->payload, p->payload_len,
	                           p->payload_wire_len};
	return s;
}

/* End direction d: when fn is not NULL and d is open, deliver what is held
 * (holes skipped and counted); then free every held byte. Returns 0 or the
 * callback's nonzero value. Safe on a zeroed or closed direction. */
int hl_tcp_reorder_close(struct hl_tcp_reorder *r, struct hl_tcp_dir *d, hl_tcp_deliver_fn fn,
                         void *ctx);

#endif
