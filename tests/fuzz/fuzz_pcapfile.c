/* \summary: libFuzzer target for the classic pcap parser (pcapfile.c)
 *
 * Input: a pcap file. Its header is parsed, then its records, twice: once
 * with the whole input at hand, once fed the way capture.c feeds it, in
 * pieces whose sizes come from the input's own bytes, asking for more on
 * HL_EAGAIN. Both ways must cut out the same records and end the same way.
 * Besides not crashing: a record lies inside what it was cut from, its
 * caplen is at most the snapshot length, and an error has a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) check_at((cond), __LINE__)

static void check_at(int ok, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_pcapfile: check failed at line %d\n", line);
		abort();
	}
}

#define MAX_RECS 4096

struct outcome {
	size_t n;
	int64_t ts[MAX_RECS];
	uint32_t caplen[MAX_RECS];
	size_t at[MAX_RECS]; /* offset of the record */
	int end;             /* 0 or HL_EFORMAT */
	char why[160];
};

static void whole(const struct hl_pcapfile_info *info, const uint8_t *p, size_t len,
                  struct outcome *o)
{
	size_t off = 0;
	for (;;) {
		struct hl_pcapfile_rec r;
		o->why[0] = '\0';
		int rc = hl_pcapfile_record(info, p + off, len - off, true, &r, o->why,
		                            sizeof o->why);
		check(rc != HL_EAGAIN); /* at the end of the file, never more */
		if (rc != 1) {
			check(rc == 0 || rc == HL_EFORMAT);
			check(rc == 0 ? off == len : o->why[0] != '\0');
			o->end = rc;
			return;
		}
		check(r.size >= HL_PCAPFILE_RECORD + r.caplen && r.size <= len - off);
		check(r.caplen <= info->snapshot);
		if (o->n < MAX_RECS) {
			o->ts[o->n] = r.ts;
			o->caplen[o->n] = r.caplen;
			o->at[o->n] = off;
		}
		o->n++;
		off += r.size;
	}
}

/* As capture.c reads: only a window [off, avail) is there; on HL_EAGAIN
 * the window grows by a step taken from the input. */
static void pieces(const struct hl_pcapfile_info *info, const uint8_t *p, size_t len,
                   struct outcome *o)
{
	size_t off = 0, avail = 0, k = 0;
	for (;;) {
		struct hl_pcapfile_rec r;
		o->why[0] = '\0';
		bool eof = avail == len;
		int rc = hl_pcapfile_record(info, p + off, avail - off, eof, &r, o->why,
		                            sizeof o->why);
		if (rc == HL_EAGAIN) {
			check(!eof);
			size_t step = 1 + (len > 0 ? p[k++ % len] : 0) * 7u;
			avail = step < len - avail ? avail + step : len;
			continue;
		}
		if (rc != 1) {
			o->end = rc;
			return;
		}
		check(r.size <= avail - off);
		if (o->n < MAX_RECS) {
			o->ts[o->n] = r.ts;
			o->caplen[o->n] = r.caplen;
			o->at[o->n] = off;
		}
		o->n++;
		off += r.size;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_pcapfile_info info;
	if (hl_pcapfile_header(data, size, &info) != 0)
		return 0; /* not ours: libpcap reads it */
	check(info.snapshot > 0 && info.snapshot <= HL_PCAPFILE_MAX_SNAP);
	const uint8_t *p = data + HL_PCAPFILE_HEADER;
	size_t len = size - HL_PCAPFILE_HEADER;
	static struct outcome a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	whole(&info, p, len, &a);
	pieces(&info, p, len, &b);
	check(a.n == b.n && a.end == b.end && strcmp(a.why, b.why) == 0);
	for (size_t i = 0; i < a.n && i < MAX_RECS; i++)
		check(a.ts[i] == b.ts[i] && a.caplen[i] == b.caplen[i] && a.at[i] == b.at[i]);
	return 0;
}
