/* \summary: libFuzzer target for hl_decode (link layers, IP, L4, reassembly)
 *
 * Input: the first byte picks the link type (low 4 bits, modulo the table
 * below). With bit 7 clear, the rest is one packet, and bits 4-6 times 97
 * are added to its wire length so snap-length truncation is reached. With
 * bit 7 set, the rest is a sequence of packets, each [len hi][len lo]
 * [seconds since the previous one][bytes], fed to one decoder with small
 * reassembly limits, so fragments meet, overlap, evict and time out.
 * A decoder is made and freed per input, so runs are deterministic.
 *
 * Besides not crashing, every delivered packet must point inside what it
 * came from, and its counters must add up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_table[] = {
        HL_LINK_ETHERNET, HL_LINK_SLL,  HL_LINK_SLL2,     HL_LINK_NULL, HL_LINK_LOOP, HL_LINK_RAW,
        HL_LINK_IPV4,     HL_LINK_IPV6, HL_LINK_RAW_FILE, 105, /* 802.11: unsupported */
};
#define LINK_COUNT (sizeof(link_table) / sizeof(link_table[0]))

/* abort() with the failed condition's line, for the crash report. */
#define check(cond) check_at((cond), __LINE__)
static void check_at(bool ok, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_decode: invariant at line %d broken\n", line);
		abort();
	}
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void decode_one(struct hl_decoder *d, int linktype, const uint8_t *pkt, uint32_t caplen,
                       uint32_t wirelen, int64_t ts)
{
	struct hl_packet p;
	int r = hl_decode(d, linktype, pkt, caplen, wirelen, ts, &p);
	check(r >= 0 && r < HL_DECODE_REASON_COUNT);
	check(hl_decode_reason_kind(r) != HL_DECODE_KIND_EVENT);
	if (p.family != 0) {
		check(p.family == 4 || p.family == 6);
		if (!(p.flags & HL_PKT_REASSEMBLED))
			check(inside(p.l3, p.l3_len, pkt, caplen));
	}
	if (r != HL_DECODE_OK)
		return;
	check(p.family == 4 || p.family == 6);
	check(p.payload_len <= p.payload_wire_len);
	check(((p.flags & HL_PKT_TRUNCATED) != 0) == (p.payload_len < p.payload_wire_len));
	check(inside(p.payload, p.payload_len, p.l3, p.l3_len));
	if (p.l4 != NULL)
		check(p.l4 >= p.l3 && p.l4 <= p.payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int linktype = link_table[(data[0] & 0x0f) % LINK_COUNT];
	struct hl_decoder_config cfg = {
	        .defrag = {.max_reassemblies = 8,
	                   .max_frags = 8,
	                   .max_mem = 64 * 1024,
	                   .timeout_us = 30 * (int64_t)1000000,
	                   .hash_seed = 1},
	};
	struct hl_decoder d;
	if (hl_decoder_init(&d, &cfg) != 0)
		abort();
	int64_t ts = 1700000000 * (int64_t)1000000;
	if (!(data[0] & 0x80)) {
		uint32_t caplen = (uint32_t)(size - 1);
		decode_one(&d, linktype, data + 1, caplen, caplen + ((data[0] >> 4) & 7) * 97u, ts);
	} else {
		size_t off = 1;
		while (size - off >= 3) {
			size_t len = (size_t)data[off] << 8 | data[off + 1];
			ts += data[off + 2] * (int64_t)1000000;
			off += 3;
			if (len > size - off)
				len = size - off;
			decode_one(&d, linktype, data + off, (uint32_t)len, (uint32_t)len, ts);
			off += len;
		}
	}
	uint64_t sum = 0;
	for (int i = 0; i < HL_DECODE_REASON_COUNT; i++)
		if (hl_decode_reason_kind(i) != HL_DECODE_KIND_EVENT)
			sum += d.stats.by_reason[i];
	check(sum == d.stats.packets);
	check(d.stats.frag_mem <= cfg.defrag.max_mem && d.stats.frag_active <= 8);
	hl_decoder_destroy(&d);
	return 0;
}
