/* \summary: libpcap sources, live and files (see capture.h) */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotline/err.h"
#include "packet.h"
#include "pcapfile.h"

/* A block is parsed right after the kernel copied it in, so it should still
 * be in the core's cache: 256 KiB read 20-25% faster than 1 MiB here. */
#define HL_CAPTURE_BLOCK_BYTES (256u << 10)
#define HL_CAPTURE_BLOCKS 16u

/* A block of a file read by us. Records never straddle two blocks: the
 * unread rest of one is copied to the start of the next. */
struct block {
	uint8_t *buf;
	size_t cap, len;
	uint64_t start;    /* position of buf[0] */
	uint64_t last_end; /* position after the last frame handed out of it */
};

/* A classic pcap file read in blocks (pcapfile.h). */
struct fast_file {
	int fd;
	struct hl_pcapfile_info info;
	struct bpf_program prog;
	bool has_prog;
	bool eof;
	uint64_t base;     /* position of the file's byte 0 */
	uint64_t file_pos; /* bytes read from fd so far */
	unsigned cur;      /* block being parsed */
	size_t off;        /* next record in it */
};

struct hl_capture {
	struct hl_capture_config cfg;
	pcap_t *pcap;
	size_t next_file; /* index of the file after the open one */
	const char *source;
	uint64_t packet_no;  /* in the current source, 1-based once read */
	uint64_t done_bytes; /* sizes of the files finished */
	int fd;              /* live: pollable descriptor, or -1 */
	bool fast;           /* the open file is read by us (ff) */
	struct fast_file ff;
	struct block *blocks; /* allocated with the first such file */
	unsigned n_blocks;
	uint64_t next_base; /* position where the next file starts */
	uint64_t held;      /* hl_capture_held() */
	struct hl_capture_stats stats;
};

void hl_capture_config_init(struct hl_capture_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->snaplen = 65535;
	cfg->promisc = true;
	cfg->read_timeout_ms = 100;
}

static int apply_filter(pcap_t *p, const char *bpf, const char *source, char *err, size_t errlen)
{
	if (bpf == NULL || *bpf == '\0')
		return 0;
	struct bpf_program prog;
	if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: bad BPF filter \"%s\": %s", source, bpf, pcap_geterr(p));
		return HL_EINVAL;
	}
	int rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot set filter: %s", source, pcap_geterr(p));
		return HL_EINVAL;
	}
	return 0;
}

/* Link types for which libpcap hands records on as they are in the file
 * (it byte-swaps CAN headers inside Linux cooked captures of the other
 * byte order, and fixes up USB ones). */
static bool fast_linktype(int dlt, bool swapped)
{
	switch (dlt) {
	case HL_LINK_NULL:
	case HL_LINK_ETHERNET:
	case HL_LINK_RAW:
	case HL_LINK_LOOP:
	case HL_LINK_IPV4:
	case HL_LINK_IPV6:
		return true;
	case HL_LINK_SLL:
	case HL_LINK_SLL2:
		return !swapped;
	default:
		return false;
	}
}

static bool alloc_blocks(hl_capture_t *cap)
{
	if (cap->blocks != NULL)
		return true;
	unsigned n = cap->cfg.blocks >= 2 ? cap->cfg.blocks : HL_CAPTURE_BLOCKS;
	cap->blocks = calloc(n, sizeof *cap->blocks);
	if (cap->blocks == NULL)
		return false;
	cap->n_blocks = n;
	return true;
}

/* Read the open file ourselves when it is a classic pcap file we can: the
 * libpcap handle stays open for its link type and the filter program. */
static void try_fast(hl_capture_t *cap, const char *path)
{
	/* only a regular file (not standard input, a pipe or a FIFO, which
	 * a second open could block on), and the one libpcap has open */
	struct stat pst, st;
	FILE *pf = pcap_file(cap->pcap);
	if (strcmp(path, "-") == 0 || pf == NULL || fstat(fileno(pf), &pst) != 0 ||
	    !S_ISREG(pst.st_mode))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	uint8_t hdr[HL_PCAPFILE_HEADER];
	struct fast_file *ff = &cap->ff;
	unsigned cur = ff->cur; /* go on round the pool where the last file stopped */
	memset(ff, 0, sizeof *ff);
	if (fstat(fd, &st) != 0 || st.st_dev != pst.st_dev || st.st_ino != pst.st_ino ||
	    pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
	    hl_pcapfile_header(hdr, sizeof hdr, &ff->info) != 0 ||
	    !fast_linktype(pcap_datalink(cap->pcap), ff->info.swapped) ||
	    lseek(fd, HL_PCAPFILE_HEADER, SEEK_SET) != (off_t)HL_PCAPFILE_HEADER ||
	    !alloc_blocks(cap)) {
		close(fd);
		return;
	}
	if (cap->cfg.bpf != NULL && *cap->cfg.bpf != '\0') {
		if (pcap_compile(cap->pcap, &ff->prog, cap->cfg.bpf, 1, PCAP_NETMASK_UNKNOWN) !=
		    0) {
			close(fd);
			return;
		}
		ff->has_prog = true;
	}
	/* the same snapshot length libpcap would cut records to */
	ff->info.snapshot = (uint32_t)pcap_snapshot(cap->pcap);
	ff->fd = fd;
	ff->base = cap->next_base;
	ff->file_pos = HL_PCAPFILE_HEADER;
	/* nothing left in the current block: the first read fills the next */
	ff->cur = cur;
	ff->off = cap->blocks[cur].len;
	cap->fast = true;
}

static void close_fast(hl_capture_t *cap)
{
	if (!cap->fast)
		return;
	struct fast_file *ff = &cap->ff;
	close(ff->fd);
	if (ff->has_prog)
		pcap_freecode(&ff->prog);
	cap->next_base = ff->base + ff->file_pos;
	cap->fast = false;
}

static int open_next_file(hl_capture_t *cap, char *err, size_t errlen)
{
	close_fast(cap);
	if (cap->pcap != NULL) {
		pcap_close(cap->pcap);
		cap->pcap = NULL;
	}
	if (cap->next_file >= cap->cfg.n_files)
		return 0;
	const char *path = cap->cfg.files[cap->next_file++];
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	cap->source = path;
	cap->packet_no = 0;
	cap->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO,
	                                                    pcap_err);
	if (cap->pcap == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, pcap_err);
		cap->stats.file_errors++;
		return HL_EIO;
	}
	int rc = apply_filter(cap->pcap, cap->cfg.bpf, path, err, errlen);
	if (rc != 0)
		return rc;
	try_fast(cap, path);
	return 1;
}

static int open_live(hl_capture_t *cap, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	const struct hl_capture_config *cfg = &cap->cfg;
	pcap_t *p = pcap_create(cfg->iface, pcap_err);
	if (p == NULL) {
		snprintf(err, errlen, "%s: %s", cfg->iface, pcap_err);
		return HL_EIO;
	}
	pcap_set_snaplen(p, cfg->snaplen > 0 ? cfg->snaplen : 65535);
	pcap_set_promisc(p, cfg->promisc ? 1 : 0);
	pcap_set_timeout(p, cfg->read_timeout_ms > 0 ? cfg->read_timeout_ms : 100);
	if (cfg->buffer_mb > 0)
		pcap_set_buffer_size(p, cfg->buffer_mb * 1024 * 1024);
	if (cfg->immediate)
		pcap_set_immediate_mode(p, 1);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
	int rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot capture: %s%s", cfg->iface,
		         rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc),
		         rc == PCAP_ERROR_PERM_DENIED ? " (run as root or setcap "
		                                        "cap_net_raw,cap_net_admin=eip)"
		                                      : "");
		pcap_close(p);
		return rc == PCAP_ERROR_PERM_DENIED ? HL_EPERM : HL_EIO;
	}
	/* Non-blocking, with our own poll in hl_capture_next(): libpcap's
	 * blocking read on Linux (TPACKET_V3, or immediate mode) can wait
	 * forever on an idle link, and a stop request must be seen. */
	if (pcap_setnonblock(p, 1, pcap_err) != 0) {
		snprintf(err, errlen, "%s: cannot set non-blocking: %s", cfg->iface, pcap_err);
		pcap_close(p);
		return HL_EIO;
	}
	cap->pcap = p;
	cap->source = cfg->iface;
	cap->fd = pcap_get_selectable_fd(p);
	return apply_filter(p, cfg->bpf, cfg->iface, err, errlen);
}

hl_capture_t *hl_capture_open(const struct hl_capture_config *cfg, char *err, size_t errlen)
{
	if ((cfg->iface == NULL) == (cfg->n_files == 0)) {
		snprintf(err, errlen, "give either an interface or at least one file");
		return NULL;
	}
	hl_capture_t *cap = calloc(1, sizeof *cap);
	if (cap == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cap->cfg = *cfg;
	cap->fd = -1;
	int rc;
	if (cfg->iface != NULL) {
		rc = open_live(cap, err, errlen);
	} else {
		for (size_t i = 0; i < cfg->n_files; i++) {
			struct stat st;
			if (stat(cfg->files[i], &st) == 0)
				cap->stats.bytes_total += (uint64_t)st.st_size;
		}
		rc = open_next_file(cap, err, errlen);
	}
	if (rc < 0) {
		hl_capture_close(&cap);
		return NULL;
	}
	return cap;
}

void hl_capture_close(hl_capture_t **cap_p)
{
	hl_capture_t *cap = *cap_p;
	if (cap == NULL)
		return;
	close_fast(cap);
	if (cap->pcap != NULL)
		pcap_close(cap->pcap);
	for (unsigned i = 0; i < cap->n_blocks; i++)
		free(cap->blocks[i].buf);
	free(cap->blocks);
	free(cap);
	*cap_p = NULL;
}

static void file_position(hl_capture_t *cap)
{
	if (cap->fast) {
		cap->stats.bytes_read = cap->done_bytes + cap->ff.file_pos;
		return;
	}
	FILE *f = cap->pcap != NULL ? pcap_file(cap->pcap) : NULL;
	long pos = f != NULL ? ftell(f) : -1;
	cap->stats.bytes_read = cap->done_bytes + (pos > 0 ? (uint64_t)pos : 0);
}

/* The record at the parse point runs past the current block: move its
 * start to the next block (once that one is released) and read on.
 * 0, HL_EAGAIN (wait_release gave up) or HL_EIO with err. */
static int refill(hl_capture_t *cap, char *err, size_t errlen)
{
	struct fast_file *ff = &cap->ff;
	struct block *b = &cap->blocks[ff->cur];
	unsigned ni = (ff->cur + 1) % cap->n_blocks;
	struct block *nb = &cap->blocks[ni];
	size_t rem = b->len - ff->off;
	if (nb->last_end != 0 && cap->cfg.wait_release != NULL &&
	    cap->cfg.wait_release(cap->cfg.wait_ctx, nb->last_end) != 0)
		return HL_EAGAIN;
	nb->last_end = 0;
	/* room for at least the whole record (the parser has checked its
	 * length against the maximum, or it would not ask for more) */
	size_t need = HL_PCAPFILE_RECORD;
	if (rem >= HL_PCAPFILE_RECORD) {
		uint32_t caplen;
		memcpy(&caplen, b->buf + ff->off + 8, sizeof caplen);
		if (ff->info.swapped)
			caplen = __builtin_bswap32(caplen);
		need += caplen <= HL_PCAPFILE_MAX_SNAP ? caplen : HL_PCAPFILE_MAX_SNAP;
	}
	size_t want = cap->cfg.block_bytes > 0 ? cap->cfg.block_bytes : HL_CAPTURE_BLOCK_BYTES;
	if (want < need)
		want = need;
	if (nb->cap < want) {
		uint8_t *buf = realloc(nb->buf, want);
		if (buf == NULL) {
			snprintf(err, errlen, "%s: out of memory", cap->source);
			return HL_EIO;
		}
		nb->buf = buf;
		nb->cap = want;
	}
	if (rem > 0)
		memcpy(nb->buf, b->buf + ff->off, rem);
	nb->len = rem;
	nb->start = ff->base + ff->file_pos - rem;
	while (nb->len < nb->cap && !ff->eof) {
		ssize_t n = read(ff->fd, nb->buf + nb->len, nb->cap - nb->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: packet %llu: error reading dump file: %s",
			         cap->source, (unsigned long long)cap->packet_no + 1,
			         strerror(errno));
			return HL_EIO;
		}
		if (n == 0)
			ff->eof = true;
		nb->len += (size_t)n;
		ff->file_pos += (uint64_t)n;
	}
	ff->cur = ni;
	ff->off = 0;
	return 0;
}

/* The next frame of a classic pcap file: 1, 0 at its end, HL_EAGAIN,
 * HL_EFORMAT/HL_EIO with err. */
static int next_fast(hl_capture_t *cap, struct hl_frame *frame, char *err, size_t errlen)
{
	struct fast_file *ff = &cap->ff;
	for (;;) {
		struct block *b = &cap->blocks[ff->cur];
		struct hl_pcapfile_rec rec;
		char why[160];
		const uint8_t *p = b->buf != NULL ? b->buf + ff->off : NULL;
		int rc = hl_pcapfile_record(&ff->info, p, b->len - ff->off, ff->eof, &rec, why,
		                            sizeof why);
		if (rc == HL_EAGAIN) {
			rc = refill(cap, err, errlen);
			if (rc != 0)
				return rc;
			continue;
		}
		if (rc == HL_EFORMAT) {
			snprintf(err, errlen, "%s: packet %llu: %s", cap->source,
			         (unsigned long long)cap->packet_no + 1, why);
			return HL_EFORMAT;
		}
		if (rc == 0)
			return 0;
		const uint8_t *data = p + HL_PCAPFILE_RECORD;
		ff->off += rec.size;
		if (ff->has_prog) {
			struct pcap_pkthdr h = {.caplen = rec.caplen, .len = rec.wirelen};
			if (pcap_offline_filter(&ff->prog, &h, data) == 0)
				continue;
		}
		cap->packet_no++;
		frame->ts = rec.ts;
		frame->caplen = rec.caplen;
		frame->wirelen = rec.wirelen;
		frame->linktype = pcap_datalink(cap->pcap);
		frame->data = data;
		cap->held = b->start + ff->off;
		b->last_end = cap->held;
		cap->stats.packets++;
		cap->stats.bytes += rec.wirelen;
		return 1;
	}
}

static void finish_file(hl_capture_t *cap)
{
	struct stat st;
	if (cap->source != NULL && stat(cap->source, &st) == 0)
		cap->done_bytes += (uint64_t)st.st_size;
	cap->stats.bytes_read = cap->done_bytes;
}

int hl_capture_next(hl_capture_t *cap, struct hl_frame *frame, char *err, size_t errlen)
{
	for (;;) {
		if (cap->pcap == NULL) {
			if (cap->cfg.iface != NULL || cap->next_file >= cap->cfg.n_files)
				return 0;
			int rc = open_next_file(cap, err, errlen);
			if (rc <= 0)
				return rc < 0 ? rc : 0;
		}
		if (cap->fast) {
			int rc = next_fast(cap, frame, err, errlen);
			if (rc == 1 || rc == HL_EAGAIN)
				return rc;
			if (rc != 0)
				cap->stats.file_errors++;
			finish_file(cap);
			close_fast(cap);
			pcap_close(cap->pcap);
			cap->pcap = NULL;
			if (rc != 0)
				return rc;
			continue;
		}
		struct pcap_pkthdr *hdr;
		const u_char *data;
		int rc = pcap_next_ex(cap->pcap, &hdr, &data);
		if (rc == 1) {
			cap->packet_no++;
			frame->ts = (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
			frame->caplen = hdr->caplen;
			frame->wirelen = hdr->len;
			frame->linktype = pcap_datalink(cap->pcap);
			frame->data = data;
			cap->held = 0;
			cap->stats.packets++;
			cap->stats.bytes += hdr->len;
			if ((cap->packet_no & 1023) == 0 && cap->cfg.iface == NULL)
				file_position(cap);
			return 1;
		}
		if (rc == 0 || (rc == PCAP_ERROR_BREAK && cap->cfg.iface != NULL)) {
			/* nothing ready: wait up to the read timeout, then let the
			 * caller look at its flags (a signal cuts the wait short) */
			if (cap->fd >= 0) {
				struct pollfd pfd = {.fd = cap->fd, .events = POLLIN};
				poll(&pfd, 1,
				     cap->cfg.read_timeout_ms > 0 ? cap->cfg.read_timeout_ms : 100);
			}
			return HL_EAGAIN;
		}
		if (cap->cfg.iface != NULL) {
			snprintf(err, errlen, "%s: capture failed: %s", cap->source,
			         pcap_geterr(cap->pcap));
			return HL_EIO;
		}
		/* A file: PCAP_ERROR_BREAK (-2) is its end, PCAP_ERROR a bad
		 * record after cap->packet_no good ones. */
		int result = 0;
		if (rc == PCAP_ERROR) {
			snprintf(err, errlen, "%s: packet %llu: %s", cap->source,
			         (unsigned long long)cap->packet_no + 1, pcap_geterr(cap->pcap));
			cap->stats.file_errors++;
			result = HL_EFORMAT;
		}
		finish_file(cap);
		pcap_close(cap->pcap);
		cap->pcap = NULL;
		if (result != 0)
			return result;
	}
}

void hl_capture_break(hl_capture_t *cap)
{
	if (cap->pcap != NULL)
		pcap_breakloop(cap->pcap);
}

uint64_t hl_capture_held(const hl_capture_t *cap)
{
	return cap->held;
}

bool hl_capture_is_live(const hl_capture_t *cap)
{
	return cap->cfg.iface != NULL;
}

void hl_capture_stats(hl_capture_t *cap, struct hl_capture_stats *st)
{
	if (cap->cfg.iface != NULL && cap->pcap != NULL) {
		struct pcap_stat ps;
		if (pcap_stats(cap->pcap, &ps) == 0) {
			cap->stats.kernel_drops = ps.ps_drop;
			cap->stats.interface_drops = ps.ps_ifdrop;
		}
	} else if (cap->pcap != NULL) {
		file_position(cap);
	}
	*st = cap->stats;
}

const char *hl_capture_source(const hl_capture_t *cap)
{
	return cap->source;
}
