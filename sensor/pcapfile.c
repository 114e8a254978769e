/* \summary: classic pcap headers and records from memory (see pcapfile.h) */
#include "pcapfile.h"

#include <stdio.h>
#include <string.h>

#include "hotline/err.h"

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

static uint32_t swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)((v >> 8) | (v << 8));
}

static uint32_t get32(const uint8_t *p, bool swapped)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return swapped ? swap32(v) : v;
}

int hl_pcapfile_header(const uint8_t *p, size_t len, struct hl_pcapfile_info *info)
{
	if (len < HL_PCAPFILE_HEADER)
		return HL_EFORMAT;
	uint32_t magic;
	memcpy(&magic, p, sizeof magic);
	bool swapped = false;
	if (magic == swap32(MAGIC_USEC) || magic == swap32(MAGIC_NSEC)) {
		swapped = true;
		magic = swap32(magic);
	}
	if (magic != MAGIC_USEC && magic != MAGIC_NSEC)
		return HL_EFORMAT;
	uint16_t major, minor;
	memcpy(&major, p + 4, sizeof major);
	memcpy(&minor, p + 6, sizeof minor);
	if (swapped) {
		major = swap16(major);
		minor = swap16(minor);
	}
	/* older minor versions may have caplen and len swapped */
	if (major != 2 || minor != 4)
		return HL_EFORMAT;
	info->swapped = swapped;
	info->nsec = magic == MAGIC_NSEC;
	uint32_t snap = get32(p + 16, swapped);
	info->snapshot = snap == 0 || snap > HL_PCAPFILE_MAX_SNAP ? HL_PCAPFILE_MAX_SNAP : snap;
	info->linktype = get32(p + 20, swapped);
	return 0;
}

int hl_pcapfile_record(const struct hl_pcapfile_info *info, const uint8_t *p, size_t len, bool eof,
                       struct hl_pcapfile_rec *rec, char *why, size_t whylen)
{
	if (len < HL_PCAPFILE_RECORD) {
		if (!eof)
			return HL_EAGAIN;
		if (len == 0)
			return 0;
		snprintf(why, whylen,
		         "truncated dump file; tried to read %u header bytes, only got %zu",
		         HL_PCAPFILE_RECORD, len);
		return HL_EFORMAT;
	}
	/* the time stamp fields are signed 32-bit in the file format */
	int32_t sec = (int32_t)get32(p, info->swapped);
	int32_t frac = (int32_t)get32(p + 4, info->swapped);
	uint32_t caplen = get32(p + 8, info->swapped);
	uint32_t wirelen = get32(p + 12, info->swapped);
	uint32_t snap = info->snapshot;
	if (caplen > HL_PCAPFILE_MAX_SNAP) {
		snprintf(why, whylen, "invalid packet capture length %u, bigger than snaplen of %u",
		         caplen, snap);
		return HL_EFORMAT;
	}
	size_t avail = len - HL_PCAPFILE_RECORD;
	if (avail < caplen) {
		if (!eof)
			return HL_EAGAIN;
		/* libpcap reads the snapshot length first, then the rest */
		uint32_t tried = caplen > snap && avail < snap ? snap : caplen;
		snprintf(why, whylen,
		         "truncated dump file; tried to read %u captured bytes, only got %zu",
		         tried, avail);
		return HL_EFORMAT;
	}
	rec->ts = (int64_t)sec * 1000000 + (info->nsec ? frac / 1000 : frac);
	rec->caplen = caplen > snap ? snap : caplen;
	rec->wirelen = wirelen;
	rec->size = HL_PCAPFILE_RECORD + (size_t)caplen;
	return 1;
}
