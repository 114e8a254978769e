/* \summary: packet sources: a live interface or pcap/pcapng files, one path
 *
 * The same loop serves live capture and file replay, so a CI replay runs
 * the production path. Files are read in the order given; a truncated or
 * corrupt file ends that file with an error naming it and the packet
 * number, after every packet before it was delivered, and reading goes on
 * with the next file.
 *
 * Classic pcap files (the common case) are not read through libpcap but in
 * large blocks (pcapfile.h), and their frames point into a small pool of
 * those blocks: a caller that hands frames to other threads without copying
 * them says so with wait_release (engine.c); without it, a frame is valid
 * until the next hl_capture_next(), as libpcap's are. pcapng files and live
 * capture go through libpcap.
 */
#ifndef HOTLINE_SENSOR_CAPTURE_H
#define HOTLINE_SENSOR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hl_capture hl_capture_t;

struct hl_capture_config {
	const char *iface;        /* live interface, or NULL for files */
	const char *const *files; /* pcap or pcapng, read in order */
	size_t n_files;
	const char *bpf;     /* capture filter, may be NULL */
	int snaplen;         /* live: bytes per packet (default 65535) */
	bool promisc;        /* live: promiscuous mode (default on) */
	int buffer_mb;       /* live: kernel buffer in MiB (0: libpcap default) */
	bool immediate;      /* live: deliver packets without batching delay */
	int read_timeout_ms; /* live: wake-up interval when idle (default 100) */
	size_t block_bytes;  /* files: bytes per read (default 256 KiB) */
	unsigned blocks;     /* files: blocks in the pool (default 16, at least 2) */
	/* Files: before a block is reused, block until every frame with
	 * pos <= upto (hl_capture_held()) is no longer used; nonzero gives up
	 * (hl_capture_next() then returns HL_EAGAIN). NULL: frames are done
	 * with when hl_capture_next() is called again. */
	int (*wait_release)(void *ctx, uint64_t upto);
	void *wait_ctx;
};

void hl_capture_config_init(struct hl_capture_config *cfg);

/* A borrowed frame: valid until the next hl_capture_next(), or, when held
 * (hl_capture_held()), until wait_release is called with upto >= its pos. */
struct hl_frame {
	int64_t ts; /* Unix microseconds */
	uint32_t caplen, wirelen;
	int linktype; /* DLT_* of the current source */
	const uint8_t *data;
};

struct hl_capture_stats {
	uint64_t packets, bytes;  /* delivered */
	uint64_t kernel_drops;    /* live: ps_drop */
	uint64_t interface_drops; /* live: ps_ifdrop */
	uint64_t file_errors;     /* files ended early by corruption */
	uint64_t bytes_read;      /* files: bytes of the files done + the current position */
	uint64_t bytes_total;     /* files: their summed sizes */
};

/* NULL with a message in err on failure (no such interface, permissions,
 * bad filter, unreadable first file...). */
hl_capture_t *hl_capture_open(const struct hl_capture_config *cfg, char *err, size_t errlen);
void hl_capture_close(hl_capture_t **cap_p);

/* 1: a frame; 0: end of all input; HL_EAGAIN: live, nothing this interval
 * (or the loop was broken); HL_EIO/HL_EFORMAT: the current file ended with
 * an error (message in err, e.g. "x.pcap: packet 42: truncated dump
 * file..."); call again to go on with the next file. */
int hl_capture_next(hl_capture_t *cap, struct hl_frame *frame, char *err, size_t errlen);
/* The frame hl_capture_next() returned last lives in the block pool: its
 * position (the end of its record, growing over all files; never 0), or 0
 * when it is in libpcap's buffer. */
uint64_t hl_capture_held(const hl_capture_t *cap);
/* Async-signal-safe: make a blocked hl_capture_next() return. */
void hl_capture_break(hl_capture_t *cap);
bool hl_capture_is_live(const hl_capture_t *cap);
void hl_capture_stats(hl_capture_t *cap, struct hl_capture_stats *st);
/* File being read, or the interface name. */
const char *hl_capture_source(const hl_capture_t *cap);

#endif
