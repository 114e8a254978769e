/* \summary: classic pcap (not pcapng) headers and records parsed from memory
 *
 * The fast way for capture.c to read files: the file is read in large
 * blocks and the records are cut out of them here, with every length
 * checked, instead of libpcap's read of each record through stdio. The
 * frames handed on point into those blocks, so nothing is copied. Only the
 * common case is taken (version 2.4, micro- or nanosecond magic, either
 * byte order); anything else is read by libpcap. Where a record is bad,
 * the message is the one libpcap gives for it, so errors read the same on
 * both ways.
 */
#ifndef HOTLINE_SENSOR_PCAPFILE_H
#define HOTLINE_SENSOR_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HL_PCAPFILE_HEADER 24u       /* file header bytes */
#define HL_PCAPFILE_RECORD 16u       /* record header bytes */
#define HL_PCAPFILE_MAX_SNAP 262144u /* libpcap's MAXIMUM_SNAPLEN */

struct hl_pcapfile_info {
	bool swapped;      /* written in the other byte order */
	bool nsec;         /* nanosecond time stamps */
	uint32_t snapshot; /* frames longer than this are cut to it */
	uint32_t linktype; /* LINKTYPE_* as written (FCS bits included) */
};

/* The file header in p[0..len): 0 and info filled, or HL_EFORMAT when
 * it is not a version 2.4 classic pcap header (too short included). */
int hl_pcapfile_header(const uint8_t *p, size_t len, struct hl_pcapfile_info *info);

struct hl_pcapfile_rec {
	int64_t ts; /* Unix microseconds (nanoseconds divided, as libpcap does) */
	uint32_t caplen, wirelen;
	size_t size; /* bytes the record takes in the file, header included */
	             /* the frame is p + HL_PCAPFILE_RECORD, caplen bytes */
};

/* The record at p[0..len), where eof says whether the file ends at
 * p + len. 1: a record; 0: end of file (len == 0 and eof); HL_EAGAIN:
 * the record goes on past len and more of the file is needed;
 * HL_EFORMAT: corrupt or cut short, why says how. */
int hl_pcapfile_record(const struct hl_pcapfile_info *info, const uint8_t *p, size_t len, bool eof,
                       struct hl_pcapfile_rec *rec, char *why, size_t whylen);

#endif
