/* \summary: evidence: a sighting's flow packets as a pcap named by its SHA-256
 *
 * Three objects, by who uses them:
 *  - hl_evidence_store_t, one per sensor, shared by every worker: owns the
 *    directory, names files, keeps the disk cap (oldest file first). Its
 *    accounting is under a mutex; files are written and hashed outside it.
 *  - hl_evidence_worker_t, one per worker thread, used by that thread only:
 *    the memory cap over its flows' packet rings, and its counters.
 *  - hl_evidence_flow_t, one per flow, created lazily by the worker (only
 *    when evidence is on) and destroyed when the flow ends; used by the
 *    thread of its worker only.
 *
 * Per flow: every packet goes to hl_evidence_add_packet() BEFORE it is
 * matched; a sighting in that packet then calls hl_evidence_trigger(). So
 * the file holds up to N packets before the triggering one, the triggering
 * one, and up to M after it. Until the trigger the last N+1 packets are
 * kept in a ring (bounded in count and in bytes); after it, packets are
 * appended until M were added or the flow ends (hl_evidence_finish()). Then
 * the pcap is written, hashed, renamed to "<sha256>.pcap" and the cap
 * applied, all inside the call that completed it, which returns 1: the
 * worker holds the sighting back until then, and puts the result in it
 * (hl_evidence_to_sighting()). Several sightings of one flow share one file.
 *
 * Failures (directory missing or unwritable, disk full, short write, rename)
 * give an error result (the sighting goes out without evidence), are
 * counted and logged once per kind, and leave no temporary file behind.
 * Operations: docs/operations.md, "Evidence pcaps".
 */
#ifndef HOTLINE_SENSOR_EVIDENCE_H
#define HOTLINE_SENSOR_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "sighting.h"

typedef struct hl_evidence_store hl_evidence_store_t;
typedef struct hl_evidence_worker hl_evidence_worker_t;
typedef struct hl_evidence_flow hl_evidence_flow_t;

/* Largest number of bytes kept of one packet (libpcap's MAXIMUM_SNAPLEN);
 * the pcap header's snaplen. */
#define HL_EVIDENCE_SNAPLEN 262144u
/* Upper bound of packets_before and packets_after. */
#define HL_EVIDENCE_MAX_PACKETS 65536u

struct hl_evidence_config {
	const char *dir;         /* must exist; not created */
	uint64_t max_bytes;      /* disk cap over all files (default 1 GiB) */
	uint32_t packets_before; /* N: kept before the trigger (default 16) */
	uint32_t packets_after;  /* M: added after it (default 16) */
	uint32_t ring_bytes;     /* per flow, captured bytes kept before (64 KiB) */
	uint64_t worker_memory;  /* per worker, all its flows' packets (32 MiB) */
	FILE *log;               /* failures, one line per kind; NULL: silent */
};

void hl_evidence_config_init(struct hl_evidence_config *cfg);

/* What the flow's evidence came to. */
struct hl_evidence_result {
	int rc;           /* 0: written; else a negative HL_E* code */
	char sha256[65];  /* lower-case hex of the file's bytes ("" on error) */
	const char *path; /* "<dir>/<sha256>.pcap", owned by the flow state */
	uint32_t packets; /* packets in the file */
};

struct hl_evidence_store_stats {
	uint64_t files_written; /* new files renamed into place */
	uint64_t files_deduped; /* identical content already on disk */
	uint64_t files_on_disk; /* accounted now */
	uint64_t bytes_on_disk;
	uint64_t files_evicted; /* deleted for the disk cap */
	uint64_t bytes_evicted;
	uint64_t files_too_big; /* one file over the whole cap: deleted */
	uint64_t stale_temps;   /* temporary files of an earlier run, removed at open */
	uint64_t create_errors; /* temporary file not created (missing dir, permissions) */
	uint64_t write_errors;  /* write, short write, disk full, close */
	uint64_t rename_errors;
	uint64_t evict_errors; /* unlink of an evicted file failed */
	uint64_t scan_errors;  /* directory not readable at open */
};

struct hl_evidence_worker_stats {
	uint64_t triggered;      /* flows whose evidence was triggered */
	uint64_t written;        /* completed with a file (new or deduplicated) */
	uint64_t failed;         /* completed with an error result */
	uint64_t empty;          /* completed with no packet kept: no file */
	uint64_t abandoned;      /* destroyed while collecting, without finish */
	uint64_t flows_refused;  /* memory cap: flow kept no pre-match packets */
	uint64_t cut_short;      /* memory cap while collecting: written early */
	uint64_t linktype_drops; /* packets of another link type than the first */
	uint64_t truncated;      /* packets kept cut to ring_bytes or the snaplen */
	uint64_t memory_used;    /* bytes held now (packets and their headers) */
	uint64_t memory_peak;
};

/* Validates cfg (HL_EINVAL, HL_ERANGE), scans cfg->dir for earlier
 * "<sha256>.pcap" files (oldest mtime first) and applies the cap, and removes
 * temporary files an earlier run left. A directory that cannot be scanned
 * is counted and logged, not fatal: writes then fail and are counted too.
 * NULL with *err set on failure. */
hl_evidence_store_t *hl_evidence_store_open(const struct hl_evidence_config *cfg, int *err);
/* After every worker using it was destroyed. */
void hl_evidence_store_close(hl_evidence_store_t **store_p);
void hl_evidence_store_stats(hl_evidence_store_t *store, struct hl_evidence_store_stats *st);

hl_evidence_worker_t *hl_evidence_worker_new(hl_evidence_store_t *store);
/* After every flow state of the worker was destroyed. */
void hl_evidence_worker_destroy(hl_evidence_worker_t **w_p);
void hl_evidence_worker_stats(const hl_evidence_worker_t *w, struct hl_evidence_worker_stats *st);

/* NULL on out of memory (the flow then has no evidence). */
hl_evidence_flow_t *hl_evidence_flow_new(hl_evidence_worker_t *w);
/* Frees the packets held; a triggered, unfinished flow is dropped (counted
 * as abandoned, nothing written): call hl_evidence_finish() first. */
void hl_evidence_flow_destroy(hl_evidence_flow_t **f_p);

/* Every packet of the flow, before it is matched. 1: this packet completed
 * the evidence (the M-th after the trigger, or the memory cap was reached
 * while collecting), the result is ready; else 0. The frame is copied. */
int hl_evidence_add_packet(hl_evidence_flow_t *f, const struct hl_frame *frame);
/* A sighting in the flow. 1: the result is ready (written earlier, or now
 * when M is 0); 0: collecting, a later add_packet() or finish() returns 1.
 * Further triggers while collecting change nothing. */
int hl_evidence_trigger(hl_evidence_flow_t *f);
/* The flow ended. 1: this call completed the evidence (it was collecting);
 * 0: nothing pending (never triggered, or complete already). */
int hl_evidence_finish(hl_evidence_flow_t *f);
/* The result once complete, else NULL. Valid until the flow is destroyed. */
const struct hl_evidence_result *hl_evidence_result(const hl_evidence_flow_t *f);

/* The sighting's "evidence" from a result (present only when written);
 * path is borrowed from the result. r may be NULL (absent). */
void hl_evidence_to_sighting(const struct hl_evidence_result *r, struct hl_sighting_evidence *e);

#endif
