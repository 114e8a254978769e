/* \summary: libpcap sources, live and files (see capture.h) */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hotline/err.h"

struct hl_capture {
	struct hl_capture_config cfg;
	pcap_t *pcap;
	size_t next_file; /* index of the file after the open one */
	const char *source;
	uint64_t packet_no;  /* in the current source, 1-based once read */
	uint64_t done_bytes; /* sizes of the files finished */
	int fd;              /* live: pollable descriptor, or -1 */
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

static int open_next_file(hl_capture_t *cap, char *err, size_t errlen)
{
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
	return rc != 0 ? rc : 1;
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
	if (cap->pcap != NULL)
		pcap_close(cap->pcap);
	free(cap);
	*cap_p = NULL;
}

static void file_position(hl_capture_t *cap)
{
	FILE *f = cap->pcap != NULL ? pcap_file(cap->pcap) : NULL;
	long pos = f != NULL ? ftell(f) : -1;
	cap->stats.bytes_read = cap->done_bytes + (pos > 0 ? (uint64_t)pos : 0);
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
