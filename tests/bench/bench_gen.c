/* \summary: benchmark capture and indicator-set generator (deterministic)
 *
 * Writes a pcap (Ethernet) of mixed traffic and a native indicator set
 * (JSON lines) for the sensor benchmark (scripts/bench). Everything comes
 * from two xorshift64* streams seeded from --seed, with integer arithmetic
 * only, so the same arguments give the same bytes on any machine.
 *
 * Traffic: up to SLOTS concurrent conversations; each step picks one at
 * random and lets it send a short burst (longer for bulk transfers), so
 * flows interleave as on a real link. A conversation is one of
 *   - DNS over UDP only (A/AAAA query and answer, one or two lookups);
 *   - HTTP/1.1 over TCP port 80: handshake, 1-4 request/response pairs
 *     (GET, some POST uploads), text or binary bodies, FIN close (some RST);
 *   - TLS over TCP port 443: ClientHello with SNI (plus the usual
 *     extensions), ServerHello, certificate-sized records, application-data
 *     records of realistic sizes;
 * and TCP conversations are preceded by their DNS lookup 40% of the time.
 * Body sizes: 72% 0.2-4 KB, 22.5% 4-40 KB, 5% 40-400 KB, 0.5% 0.4-4 MB. About
 * one client in eight talks IPv6, one in sixteen sits behind an 802.1Q tag.
 * Receivers ACK every second segment; checksums are correct.
 *
 * Indicators (default 10,000 domains, 10,000 IPv4 addresses and CIDRs,
 * 1,000 URLs, 500 content literals) are disjoint from the background
 * traffic (other name shapes, other address ranges), except that the 10th,
 * 20th, ... 50th and then every HIT_EVERY-th conversation plant one of them: a domain in DNS and
 * TLS SNI, a domain in an HTTP Host, an indicator address as the server, a URL as an HTTP request,
 * or a content literal in a response body (across a segment boundary). The summary on stdout says
 * how many of each were planted.
 *
 * usage: bench_gen [--seed N] [--mb MIB] [--gap-us N] [--pcap FILE]
 *                  [--set FILE] [--domains N] [--ips N] [--urls N]
 *                  [--literals N]
 * Without --pcap only the set is written (e.g. --domains 1000000 --ips 0
 * --urls 0 --literals 0 for a domain-only set). A program, never a test.
 */
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_S 1709251200LL /* 2024-03-01T00:00:00Z */
#define SLOTS 256
#define MAX_MSGS 12
#define HDR_MAX 768
#define POOL_SIZE (1u << 20)
#define MAX_FRAME 1600
#define N_SITES 5000
#define N_CLIENTS 400
#define HIT_EVERY 149
#define HIT_PHASE 23
#define N_HIT_KINDS 5
#define N_HITS 4 /* distinct indicators planted per kind */
#define TLS_REC 16384
#define LIT_MAX 64

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rng_next(r) >> 16) % n) : 0;
}

static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static const char *const words[] = {
        "login", "update", "cdn",    "mail",  "secure", "api",   "static", "files",
        "track", "pay",    "auth",   "dl",    "img",    "news",  "shop",   "portal",
        "cloud", "media",  "video",  "store", "data",   "app",   "web",    "home",
        "blog",  "docs",   "search", "maps",  "assets", "music", "sport",  "game"};
#define N_WORDS (sizeof words / sizeof words[0])
static const char *const site_tlds[] = {"com", "net", "org", "io", "de"};
static const char *const bad_tlds[] = {"xyz", "top", "biz", "info", "club"};

/* ---- indicators ---- */

struct lit {
	uint8_t b[LIT_MAX];
	size_t n;
};

struct iset_gen {
	size_t n_dom, n_ip, n_url, n_lit;
	char hit_dom[N_HITS][128];
	uint8_t hit_ip[N_HITS][4];
	char hit_url_host[N_HITS][128], hit_url_path[N_HITS][128];
	struct lit hit_lit[N_HITS];
	size_t have_dom, have_ip, have_url, have_lit; /* hits available */
};

static void ind_domain(size_t i, struct rng *r, char *v, size_t n)
{
	snprintf(v, n, "%s-%zx-%06x.%s", words[rng_below(r, N_WORDS)], i,
	         (unsigned)rng_below(r, 1u << 24), bad_tlds[rng_below(r, 5)]);
}

/* Addresses 100.0.0.0-223.255.255.255 (background servers use 1-99). */
static uint32_t ind_addr(struct rng *r)
{
	uint32_t a;
	do
		a = (uint32_t)rng_range(r, 100, 223) << 24 | rng_below(r, 1u << 24);
	while ((a >> 24) == 127 || (a >> 24) == 169 || (a >> 24) == 172 || (a >> 24) == 192);
	return a;
}

static int put_ind(FILE *f, const char *type, const char *value)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "type", type, "value", value, "source", "bench");
	if (o == NULL)
		return -1;
	int rc = json_dumpf(o, f, JSON_COMPACT);
	json_decref(o);
	return rc == 0 && fputc('\n', f) != EOF ? 0 : -1;
}

/* Writes the set (f may be NULL: only the planted values are made). */
static int gen_indicators(struct iset_gen *s, uint64_t seed, FILE *f)
{
	struct rng r = {.s = mix64(seed ^ 0x5e7) | 1};
	char v[512];
	for (size_t i = 0; i < s->n_dom; i++) {
		ind_domain(i, &r, v, sizeof s->hit_dom[0]);
		if (s->have_dom < N_HITS && i == s->have_dom * (s->n_dom / N_HITS))
			memcpy(s->hit_dom[s->have_dom++], v, sizeof s->hit_dom[0]);
		if (f && put_ind(f, "domain", v) != 0)
			return -1;
	}
	for (size_t i = 0; i < s->n_ip; i++) {
		uint32_t a = ind_addr(&r);
		bool cidr = i % 4 == 3;
		unsigned plen = 32;
		if (cidr) {
			static const unsigned plens[] = {16, 20, 24, 24, 24, 26, 28, 28};
			plen = plens[rng_below(&r, 8)];
			a &= ~(0xffffffffu >> plen);
			snprintf(v, sizeof v, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255,
			         (a >> 8) & 255, a & 255, plen);
		} else {
			snprintf(v, sizeof v, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
			         (a >> 8) & 255, a & 255);
		}
		size_t want = (s->have_ip * (s->n_ip / N_HITS)) & ~(size_t)3;
		if (s->have_ip < N_HITS && i == want) {
			uint8_t *h = s->hit_ip[s->have_ip++];
			h[0] = (uint8_t)(a >> 24), h[1] = (uint8_t)(a >> 16);
			h[2] = (uint8_t)(a >> 8), h[3] = (uint8_t)a;
		}
		if (f && put_ind(f, "ip", v) != 0)
			return -1;
	}
	for (size_t i = 0; i < s->n_url; i++) {
		char host[128], path[128];
		const char *w = words[rng_below(&r, N_WORDS)];
		snprintf(host, sizeof host, "u%s-%zx.%s", w, i, bad_tlds[rng_below(&r, 5)]);
		uint32_t x = rng_below(&r, 1u << 30);
		if (rng_below(&r, 4) == 0)
			snprintf(path, sizeof path, "/%s/%08x.php?id=%u", words[x % N_WORDS], x,
			         x >> 9);
		else
			snprintf(path, sizeof path, "/%s/%08x.bin", words[x % N_WORDS], x);
		snprintf(v, sizeof v, "%s%s", host, path);
		if (s->have_url < N_HITS && i == s->have_url * (s->n_url / N_HITS)) {
			memcpy(s->hit_url_host[s->have_url], host, sizeof host);
			memcpy(s->hit_url_path[s->have_url++], path, sizeof path);
		}
		if (f && put_ind(f, "url", v) != 0)
			return -1;
	}
	for (size_t i = 0; i < s->n_lit; i++) {
		const char *w = words[rng_below(&r, N_WORDS)];
		unsigned x = (unsigned)rng_below(&r, 1u << 30);
		bool crlf = rng_below(&r, 5) == 0;
		char text[LIT_MAX];
		int n = snprintf(text, sizeof text, "%c%s-%zx-%08x", w[0] - 'a' + 'A', w + 1, i, x);
		if (n < 0 || (size_t)n + 2 > LIT_MAX)
			return -1;
		snprintf(v, sizeof v, "%s%s", text, crlf ? "|0d 0a|" : "");
		if (s->have_lit < N_HITS && i == s->have_lit * (s->n_lit / N_HITS)) {
			struct lit *l = &s->hit_lit[s->have_lit++];
			memcpy(l->b, text, (size_t)n);
			l->n = (size_t)n;
			if (crlf) {
				l->b[l->n++] = '\r';
				l->b[l->n++] = '\n';
			}
		}
		if (f && put_ind(f, "content", v) != 0)
			return -1;
	}
	return 0;
}

/* ---- conversations ---- */

enum body { B_NONE, B_RANDOM, B_TEXT, B_TLS };

struct msg {
	uint8_t dir; /* 0 client to server */
	uint8_t body;
	uint16_t hdr_len;
	uint32_t body_len;
	uint32_t pool_off;
	uint32_t lit_off; /* in the body */
	const struct lit *lit;
	uint8_t hdr[HDR_MAX];
};

enum state {
	ST_DNS_Q,
	ST_DNS_R,
	ST_SYN,
	ST_SYNACK,
	ST_ACK,
	ST_DATA,
	ST_DACK,
	ST_FIN1,
	ST_FIN2,
	ST_FIN3,
	ST_RST,
	ST_DONE
};

enum kind { K_DNS, K_TLS, K_HTTP, K_COUNT };

struct flow {
	enum state st;
	enum kind kind;
	bool v6, bulk, end_rst;
	uint16_t vlan;
	uint8_t cmac[6];
	uint8_t caddr[16], saddr[16], raddr[16];
	uint16_t cport, sport, dns_port, dns_id, qtype;
	uint32_t seq[2], mss;
	uint16_t ipid[2];
	int dns_left;
	char qname[256];
	int n_msgs, cur, since_ack, ack_every;
	uint32_t off;
	struct msg msgs[MAX_MSGS];
};

struct gen {
	struct rng r;
	FILE *out;
	pcap_dumper_t *dump;
	uint64_t t_us, gap_us, target, bytes, packets, flows;
	uint64_t by_kind[K_COUNT], planted[N_HIT_KINDS], v6_packets, vlan_packets;
	const struct iset_gen *set;
	uint8_t *pool_rand, *pool_text;
	uint8_t pkt[MAX_FRAME];
	struct flow slots[SLOTS];
};

static const uint8_t router_mac[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0xfe};

/* ---- frames ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t l3_off(const struct flow *f)
{
	return 14 + (f->vlan ? 4 : 0);
}

static size_t l4_len(bool tcp, bool syn)
{
	return tcp ? (syn ? 24 : 20) : 8;
}

static uint8_t *payload_ptr(struct gen *g, const struct flow *f, bool tcp, bool syn)
{
	return g->pkt + l3_off(f) + (f->v6 ? 40 : 20) + l4_len(tcp, syn);
}

struct l4 {
	bool tcp, syn;
	int dir;             /* 0 from the client */
	const uint8_t *peer; /* the server address (saddr or raddr) */
	uint16_t cport, sport;
	uint8_t flags;
	uint32_t seq, ack;
};

/* Headers around the payload already at payload_ptr(), then dump. */
static void put_frame(struct gen *g, struct flow *f, const struct l4 *h, size_t plen)
{
	uint8_t *p = g->pkt;
	const uint8_t *src = h->dir ? h->peer : f->caddr, *dst = h->dir ? f->caddr : h->peer;
	memcpy(p, h->dir ? f->cmac : router_mac, 6);
	memcpy(p + 6, h->dir ? router_mac : f->cmac, 6);
	size_t o = 12;
	if (f->vlan) {
		be16(p + o, 0x8100);
		be16(p + o + 2, f->vlan);
		o += 4;
	}
	be16(p + o, f->v6 ? 0x86dd : 0x0800);
	o += 2;
	size_t l4len = l4_len(h->tcp, h->syn) + plen, ipl = f->v6 ? 40 : 20;
	uint8_t *ip = p + o, *l4 = ip + ipl;
	uint8_t proto = h->tcp ? 6 : 17;
	uint32_t sum = 0;
	if (f->v6) {
		be32(ip, 0x60000000u | ((uint32_t)(h->cport ^ h->sport) & 0xfffff));
		be16(ip + 4, (uint32_t)l4len);
		ip[6] = proto;
		ip[7] = h->dir ? 55 : 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		sum = csum_add(sum, ip + 8, 32);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		be16(ip + 2, (uint32_t)(20 + l4len));
		be16(ip + 4, f->ipid[h->dir]++);
		be16(ip + 6, 0x4000);
		ip[8] = h->dir ? 55 : 64;
		ip[9] = proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		sum = csum_add(sum, ip + 12, 8);
	}
	sum += proto + (uint32_t)l4len;
	be16(l4, h->dir ? h->sport : h->cport);
	be16(l4 + 2, h->dir ? h->cport : h->sport);
	if (h->tcp) {
		be32(l4 + 4, h->seq);
		be32(l4 + 8, h->ack);
		l4[12] = (uint8_t)((h->syn ? 6 : 5) << 4);
		l4[13] = h->flags;
		be16(l4 + 14, 64240);
		l4[16] = l4[17] = l4[18] = l4[19] = 0;
		if (h->syn) {
			l4[20] = 2;
			l4[21] = 4;
			be16(l4 + 22, f->mss);
		}
		be16(l4 + 16, csum_fold(csum_add(sum, l4, l4len)));
	} else {
		be16(l4 + 4, (uint32_t)l4len);
		l4[6] = l4[7] = 0;
		uint16_t c = csum_fold(csum_add(sum, l4, l4len));
		be16(l4 + 6, c ? c : 0xffff);
	}
	size_t len = o + ipl + l4len;
	struct pcap_pkthdr ph;
	uint64_t t = g->t_us;
	ph.ts.tv_sec = (time_t)(T0_S + (int64_t)(t / 1000000));
	ph.ts.tv_usec = (suseconds_t)(t % 1000000);
	ph.caplen = ph.len = (bpf_u_int32)len;
	pcap_dump((u_char *)g->dump, &ph, p);
	g->bytes += sizeof(uint32_t) * 4 + len;
	g->packets++;
	g->v6_packets += f->v6;
	g->vlan_packets += f->vlan != 0;
	/* gaps uniform in [gap/4, 7gap/4]: mean gap, never zero */
	g->t_us += g->gap_us / 4 + rng_below(&g->r, (uint32_t)(g->gap_us * 3 / 2 + 1));
}

/* ---- payloads ---- */

static void pool_copy(const uint8_t *pool, uint32_t off, uint8_t *dst, uint32_t n)
{
	while (n) {
		off %= POOL_SIZE;
		uint32_t k = POOL_SIZE - off < n ? POOL_SIZE - off : n;
		memcpy(dst, pool + off, k);
		dst += k, off += k, n -= k;
	}
}

/* Bytes [off, off+n) of a message: header, then body (TLS bodies framed
 * as application-data records), with the planted literal laid over. */
static void fill_msg(const struct gen *g, const struct msg *m, uint32_t off, uint8_t *dst,
                     uint32_t n)
{
	uint32_t end = off + n;
	while (off < end && off < m->hdr_len)
		*dst++ = m->hdr[off++];
	if (off == end)
		return;
	uint32_t b = off - m->hdr_len, bend = end - m->hdr_len;
	if (m->body == B_TLS) {
		while (b < bend) {
			uint32_t rec = b / (TLS_REC + 5), q = b % (TLS_REC + 5);
			uint32_t left = m->body_len - rec * (TLS_REC + 5) - 5;
			uint32_t clen = left < TLS_REC ? left : TLS_REC;
			if (q < 5) {
				uint8_t h[5] = {23, 3, 3, (uint8_t)(clen >> 8), (uint8_t)clen};
				*dst++ = h[q];
				b++;
				continue;
			}
			uint32_t k = clen + 5 - q < bend - b ? clen + 5 - q : bend - b;
			pool_copy(g->pool_rand, m->pool_off + b, dst, k);
			dst += k, b += k;
		}
		return;
	}
	uint32_t b0 = b;
	pool_copy(m->body == B_TEXT ? g->pool_text : g->pool_rand, m->pool_off + b, dst, bend - b);
	if (m->lit != NULL) {
		uint32_t lo = m->lit_off, hi = m->lit_off + (uint32_t)m->lit->n;
		for (uint32_t i = lo > b0 ? lo : b0; i < hi && i < bend; i++)
			dst[i - b0] = m->lit->b[i - lo];
	}
}

/* Body sizes: mostly small, a heavy tail of bulk transfers. */
static uint32_t body_size(struct rng *r, bool *bulk)
{
	uint32_t u = rng_below(r, 1000);
	if (u < 720)
		return rng_range(r, 200, 4000);
	if (u < 945)
		return rng_range(r, 4000, 40000);
	*bulk = true;
	if (u < 995)
		return rng_range(r, 40000, 400000);
	return rng_range(r, 400000, 4000000);
}

static void site_name(uint32_t site, char *out, size_t n)
{
	static const char *const pre[] = {"", "www.", "cdn.", "api.", "img."};
	snprintf(out, n, "%s%s%u.%s", pre[site % 5], words[(site / 5) % N_WORDS], site,
	         site_tlds[(site / 7) % 5]);
}

static void site_addr(uint32_t site, bool v6, uint8_t *a)
{
	uint64_t h = mix64(site);
	memset(a, 0, 16);
	if (v6) {
		a[0] = 0x2a, a[1] = 0x00, a[2] = (uint8_t)(h >> 8), a[3] = (uint8_t)(h >> 16);
		be32(a + 12, (uint32_t)(h >> 24));
		a[15] |= 1;
		return;
	}
	uint32_t o = 1 + (uint32_t)(h % 99);
	a[0] = (uint8_t)(o == 10 ? 11 : o);
	a[1] = (uint8_t)(h >> 8), a[2] = (uint8_t)(h >> 16), a[3] = (uint8_t)((h >> 24) | 1);
}

struct buf {
	uint8_t *p;
	size_t n, cap;
	bool overflow;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void put8(struct buf *b, uint32_t v)
{
	uint8_t x = (uint8_t)v;
	put(b, &x, 1);
}

static void put16(struct buf *b, uint32_t v)
{
	uint8_t x[2];
	be16(x, v);
	put(b, x, 2);
}

static void put_rand(struct buf *b, struct rng *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(b, (uint32_t)rng_next(r) >> 8);
}

static size_t client_hello(uint8_t *out, size_t cap, const char *sni, struct rng *r)
{
	static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x03, 0x13, 0x02, 0xc0, 0x2b,
	                                 0xc0, 0x2f, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x2c,
	                                 0xc0, 0x30, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c,
	                                 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35};
	static const uint8_t ext_fixed[] = {
	        0x00, 0x17, 0x00, 0x00,       /* extended_master_secret */
	        0xff, 0x01, 0x00, 0x01, 0x00, /* renegotiation_info */
	        0x00, 0x0a, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00,
	        0x18, 0x00, 0x19, 0x01, 0x00,       /* supported_groups */
	        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, /* ec_point_formats */
	        0x00, 0x23, 0x00, 0x00,             /* session_ticket */
	        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h',  '2',  0x08, 'h',
	        't',  't',  'p',  '/',  '1',  '.',  '1',              /* ALPN */
	        0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, /* status_request */
	        0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03, 0x05, 0x03, 0x06,
	        0x03, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, /* sig_algs */
	        0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, /* supported_versions */
	        0x00, 0x2d, 0x00, 0x02, 0x01, 0x01 /* psk_key_exchange_modes */};
	size_t sn = strlen(sni);
	size_t ext_len = 4 + 5 + sn + sizeof ext_fixed + 4 + 38;
	size_t hello_len = 2 + 32 + 1 + 32 + 2 + sizeof suites + 2 + 2 + ext_len;
	struct buf b = {.p = out, .cap = cap};
	put8(&b, 22), put16(&b, 0x0301), put16(&b, (uint32_t)(hello_len + 4));
	put8(&b, 1), put8(&b, 0), put16(&b, (uint32_t)hello_len);
	put16(&b, 0x0303);
	put_rand(&b, r, 32);
	put8(&b, 32);
	put_rand(&b, r, 32);
	put16(&b, sizeof suites);
	put(&b, suites, sizeof suites);
	put8(&b, 1), put8(&b, 0);
	put16(&b, (uint32_t)ext_len);
	put16(&b, 0), put16(&b, (uint32_t)(sn + 5)), put16(&b, (uint32_t)(sn + 3));
	put8(&b, 0), put16(&b, (uint32_t)sn), put(&b, sni, sn);
	put(&b, ext_fixed, sizeof ext_fixed);
	put16(&b, 0x33), put16(&b, 38), put16(&b, 36), put16(&b, 0x1d), put16(&b, 32);
	put_rand(&b, r, 32);
	return b.overflow ? 0 : b.n;
}

static size_t server_hello(uint8_t *out, size_t cap, struct rng *r)
{
	struct buf b = {.p = out, .cap = cap};
	size_t ext = 6 + 40, hello = 2 + 32 + 1 + 32 + 2 + 1 + 2 + ext;
	put8(&b, 22), put16(&b, 0x0303), put16(&b, (uint32_t)(hello + 4));
	put8(&b, 2), put8(&b, 0), put16(&b, (uint32_t)hello);
	put16(&b, 0x0303);
	put_rand(&b, r, 32);
	put8(&b, 32);
	put_rand(&b, r, 32);
	put16(&b, 0x1301), put8(&b, 0), put16(&b, (uint32_t)ext);
	put16(&b, 0x2b), put16(&b, 2), put16(&b, 0x0304);
	put16(&b, 0x33), put16(&b, 36), put16(&b, 0x1d), put16(&b, 32);
	put_rand(&b, r, 32);
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	put(&b, ccs, sizeof ccs);
	return b.overflow ? 0 : b.n;
}

/* A TLS body length whose last record is not empty. */
static uint32_t tls_len(uint32_t n)
{
	n = n < 6 ? 6 : n;
	uint32_t q = n % (TLS_REC + 5);
	return q >= 1 && q <= 5 ? n + 6 : n;
}

static struct msg *add_msg(struct flow *f, int dir, enum body body, uint32_t body_len,
                           struct rng *r)
{
	if (f->n_msgs >= MAX_MSGS)
		return NULL;
	struct msg *m = &f->msgs[f->n_msgs++];
	m->dir = (uint8_t)dir;
	m->body = (uint8_t)body;
	m->hdr_len = 0;
	m->body_len = body == B_TLS ? tls_len(body_len) : body_len;
	m->pool_off = rng_below(r, POOL_SIZE);
	m->lit = NULL;
	m->lit_off = 0;
	return m;
}

static void set_hdr(struct msg *m, int n)
{
	m->hdr_len = n > 0 && n < HDR_MAX ? (uint16_t)n : 0;
}

static const char *const exts[] = {"html", "js", "css", "png", "jpg", "bin", "json", "php"};

static void http_pair(struct gen *g, struct flow *f, const char *host, const char *path,
                      const struct lit *lit)
{
	struct rng *r = &g->r;
	char pbuf[160];
	uint32_t e = rng_below(r, 8);
	if (path == NULL) {
		snprintf(pbuf, sizeof pbuf, "/%s/%s%u.%s", words[rng_below(r, N_WORDS)],
		         words[rng_below(r, N_WORDS)], rng_below(r, 100000), exts[e]);
		path = pbuf;
	}
	bool post = rng_below(r, 20) == 0 && lit == NULL;
	uint32_t up = post ? body_size(r, &f->bulk) : 0;
	struct msg *q = add_msg(f, 0, post ? B_RANDOM : B_NONE, up, r);
	if (q == NULL)
		return;
	char extra[96] = "";
	if (post)
		snprintf(extra, sizeof extra,
		         "Content-Type: application/octet-stream\r\nContent-Length: %u\r\n", up);
	set_hdr(q, snprintf((char *)q->hdr, HDR_MAX,
	                    "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux "
	                    "x86_64; rv:115.0) Gecko/20100101 Firefox/115.0\r\nAccept: "
	                    "*/*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, "
	                    "deflate\r\nConnection: keep-alive\r\n%s\r\n",
	                    post ? "POST" : "GET", path, host, extra));
	bool text = e < 3 || e >= 6;
	uint32_t n = body_size(r, &f->bulk);
	if (lit != NULL && n < 20000)
		n = 20000;
	struct msg *s = add_msg(f, 1, text && lit == NULL ? B_TEXT : B_RANDOM, n, r);
	if (s == NULL)
		return;
	static const char *const types[] = {"text/html; charset=utf-8",
	                                    "application/javascript",
	                                    "text/css",
	                                    "image/png",
	                                    "image/jpeg",
	                                    "application/octet-stream",
	                                    "application/json",
	                                    "text/html"};
	set_hdr(s, snprintf((char *)s->hdr, HDR_MAX,
	                    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 01 Mar 2024 "
	                    "00:00:00 GMT\r\nContent-Type: %s\r\nContent-Length: %u\r\nConnection: "
	                    "keep-alive\r\nCache-Control: max-age=3600\r\n\r\n",
	                    types[e], n));
	if (lit != NULL) {
		/* across the boundary between the second and third segment */
		s->lit = lit;
		s->lit_off = 2 * f->mss - s->hdr_len - (uint32_t)lit->n / 2;
	}
}

static void tls_conv(struct gen *g, struct flow *f, const char *sni)
{
	struct rng *r = &g->r;
	struct msg *m = add_msg(f, 0, B_NONE, 0, r);
	set_hdr(m, (int)client_hello(m->hdr, HDR_MAX, sni, r));
	m = add_msg(f, 1, B_TLS, rng_range(r, 2500, 4500), r);
	set_hdr(m, (int)server_hello(m->hdr, HDR_MAX, r));
	m = add_msg(f, 0, B_TLS, 53, r);
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	memcpy(m->hdr, ccs, sizeof ccs);
	m->hdr_len = sizeof ccs;
	add_msg(f, 1, B_TLS, rng_range(r, 200, 600), r); /* session tickets */
	uint32_t pairs = rng_below(r, 10) < 7 ? 1 : rng_range(r, 2, 4);
	for (uint32_t i = 0; i < pairs; i++) {
		add_msg(f, 0, B_TLS, rng_range(r, 150, 1200), r);
		add_msg(f, 1, B_TLS, body_size(r, &f->bulk), r);
	}
}

static void new_flow(struct gen *g, struct flow *f)
{
	struct rng *r = &g->r;
	const struct iset_gen *s = g->set;
	uint64_t idx = g->flows++;
	/* one of each kind early (so that a small capture has them all), then
	 * one conversation in HIT_EVERY */
	int hit = -1;
	uint32_t hj = 0;
	if (idx > 0 && idx <= 10 * N_HIT_KINDS && idx % 10 == 0) {
		hit = (int)(idx / 10 - 1);
	} else if (idx % HIT_EVERY == HIT_PHASE) {
		hit = (int)((idx / HIT_EVERY) % N_HIT_KINDS);
		hj = (uint32_t)(idx / HIT_EVERY / N_HIT_KINDS);
	}
	const size_t avail[N_HIT_KINDS] = {s->have_dom, s->have_dom, s->have_ip, s->have_url,
	                                   s->have_lit};
	if (hit >= 0 && avail[hit] == 0)
		hit = -1;
	if (hit >= 0)
		hj %= (uint32_t)avail[hit];

	f->n_msgs = f->cur = f->since_ack = 0;
	f->off = 0;
	f->bulk = false;
	f->end_rst = rng_below(r, 100) < 3;
	f->ack_every = rng_below(r, 5) < 3 ? 1 : 2; /* quick ACKs or delayed ACKs */
	uint32_t ci = rng_below(r, N_CLIENTS);
	f->v6 = ci % 8 == 1 && hit != 2;
	f->vlan = ci % 16 == 5 ? (uint16_t)(100 + ci % 3) : 0;
	uint8_t cmac[6] = {0x00, 0x00, 0x5e, 0x00, (uint8_t)(ci >> 8), (uint8_t)ci};
	memcpy(f->cmac, cmac, 6);
	memset(f->caddr, 0, 16);
	memset(f->raddr, 0, 16);
	if (f->v6) {
		uint8_t c[16] = {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
		be16(c + 14, ci + 16);
		memcpy(f->caddr, c, 16);
		f->raddr[0] = 0xfd, f->raddr[3] = 1, f->raddr[15] = 0x53;
	} else {
		f->caddr[0] = 10, f->caddr[1] = 1, f->caddr[2] = (uint8_t)(ci / 200);
		f->caddr[3] = (uint8_t)(ci % 200 + 20);
		f->raddr[0] = 10, f->raddr[1] = 1, f->raddr[3] = 53;
	}
	uint32_t u = rng_below(r, 100);
	f->kind = u < 40 ? K_DNS : u < 68 ? K_TLS : K_HTTP;
	if (hit == 0)
		f->kind = K_TLS;
	else if (hit == 1 || hit == 3 || hit == 4)
		f->kind = K_HTTP;
	else if (hit == 2 && f->kind == K_DNS)
		f->kind = K_HTTP;
	g->by_kind[f->kind]++;
	if (hit >= 0)
		g->planted[hit]++;

	uint32_t x = rng_below(r, 1u << 16);
	uint32_t site = (uint32_t)(((uint64_t)x * x * x >> 32) * N_SITES >> 16);
	if (hit == 0)
		snprintf(f->qname, sizeof f->qname, "www.%s", s->hit_dom[hj]);
	else if (hit == 1)
		snprintf(f->qname, sizeof f->qname, "%s", s->hit_dom[hj]);
	else if (hit == 3)
		snprintf(f->qname, sizeof f->qname, "%s", s->hit_url_host[hj]);
	else
		site_name(site, f->qname, sizeof f->qname);
	site_addr(site, f->v6, f->saddr);
	if (hit == 2)
		memcpy(f->saddr, s->hit_ip[hj], 4);

	f->dns_left = f->kind == K_DNS                   ? (int)rng_range(r, 1, 4)
	              : hit == 0 || rng_below(r, 10) < 5 ? 1
	                                                 : 0;
	f->dns_port = (uint16_t)rng_range(r, 1024, 65535);
	f->dns_id = (uint16_t)rng_next(r);
	f->qtype = f->v6 ? 28 : 1;
	f->cport = (uint16_t)rng_range(r, 32768, 60999);
	f->sport = f->kind == K_TLS ? 443 : rng_below(r, 20) == 0 && hit < 0 ? 8080 : 80;
	f->mss = rng_below(r, 10) == 0 ? 1380 : f->v6 ? 1440 : 1460;
	f->seq[0] = (uint32_t)rng_next(r);
	f->seq[1] = (uint32_t)rng_next(r);
	f->ipid[0] = (uint16_t)rng_next(r);
	f->ipid[1] = (uint16_t)rng_next(r);

	if (f->kind == K_TLS) {
		tls_conv(g, f, f->qname);
	} else if (f->kind == K_HTTP) {
		uint32_t pairs = rng_below(r, 10) < 7 ? 1 : rng_range(r, 2, 4);
		char host[300];
		if (f->sport == 80)
			snprintf(host, sizeof host, "%s", f->qname);
		else
			snprintf(host, sizeof host, "%s:%u", f->qname, f->sport);
		for (uint32_t i = 0; i < pairs; i++) {
			const char *path = hit == 3 && i == 0 ? s->hit_url_path[hj] : NULL;
			const struct lit *lit = hit == 4 && i == 0 ? &s->hit_lit[hj] : NULL;
			http_pair(g, f, host, path, lit);
		}
	}
	f->st = f->dns_left > 0 ? ST_DNS_Q : ST_SYN;
}

static size_t dns_name(uint8_t *p, size_t cap, const char *name)
{
	size_t o = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		if (n == 0 || n > 63 || o + n + 2 > cap)
			return 0;
		p[o++] = (uint8_t)n;
		memcpy(p + o, name, n);
		o += n;
		name += n + (dot != NULL);
	}
	p[o++] = 0;
	return o;
}

static void dns_packet(struct gen *g, struct flow *f, bool response)
{
	uint8_t *p = payload_ptr(g, f, false, false);
	be16(p, f->dns_id);
	be16(p + 2, response ? 0x8180 : 0x0100);
	be16(p + 4, 1);
	be16(p + 6, response ? 1 : 0);
	be16(p + 8, 0);
	be16(p + 10, 0);
	size_t o = 12 + dns_name(p + 12, 260, f->qname);
	be16(p + o, f->qtype);
	be16(p + o + 2, 1);
	o += 4;
	if (response) {
		bool six = f->qtype == 28;
		be16(p + o, 0xc00c);
		be16(p + o + 2, f->qtype);
		be16(p + o + 4, 1);
		be32(p + o + 6, 300);
		be16(p + o + 10, six ? 16 : 4);
		uint8_t a[16];
		const uint8_t *ans = f->saddr;
		if (six != f->v6) { /* the other family's record: made up, stable */
			site_addr(f->dns_id, six, a);
			ans = a;
		}
		memcpy(p + o + 12, ans, six ? 16 : 4);
		o += 12 + (six ? 16 : 4);
	}
	struct l4 h = {
	        .tcp = false, .dir = response, .peer = f->raddr, .cport = f->dns_port, .sport = 53};
	put_frame(g, f, &h, o);
}

static void tcp_packet(struct gen *g, struct flow *f, int dir, uint8_t flags, size_t plen)
{
	bool syn = flags & 0x02;
	struct l4 h = {.tcp = true,
	               .syn = syn,
	               .dir = dir,
	               .peer = f->saddr,
	               .cport = f->cport,
	               .sport = f->sport,
	               .flags = flags,
	               .seq = f->seq[dir],
	               .ack = flags & 0x10 ? f->seq[!dir] : 0};
	put_frame(g, f, &h, plen);
	f->seq[dir] += (uint32_t)plen + (syn || (flags & 0x01));
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

static void flow_step(struct gen *g, struct flow *f)
{
	switch (f->st) {
	case ST_DNS_Q:
		dns_packet(g, f, false);
		f->st = ST_DNS_R;
		break;
	case ST_DNS_R:
		dns_packet(g, f, true);
		if (--f->dns_left > 0) {
			f->dns_id++;
			f->qtype = f->qtype == 1 ? 28 : 1;
			f->st = ST_DNS_Q;
		} else {
			f->qtype = f->v6 ? 28 : 1;
			f->st = f->kind == K_DNS ? ST_DONE : ST_SYN;
		}
		break;
	case ST_SYN:
		tcp_packet(g, f, 0, F_SYN, 0);
		f->st = ST_SYNACK;
		break;
	case ST_SYNACK:
		tcp_packet(g, f, 1, F_SYN | F_ACK, 0);
		f->st = ST_ACK;
		break;
	case ST_ACK:
		tcp_packet(g, f, 0, F_ACK, 0);
		f->st = f->n_msgs ? ST_DATA : ST_FIN1;
		break;
	case ST_DATA: {
		const struct msg *m = &f->msgs[f->cur];
		uint32_t total = m->hdr_len + m->body_len, n = total - f->off;
		n = n > f->mss ? f->mss : n;
		bool last = f->off + n == total;
		fill_msg(g, m, f->off, payload_ptr(g, f, true, false), n);
		tcp_packet(g, f, m->dir, F_ACK | (last ? F_PSH : 0), n);
		f->off += n;
		f->since_ack++;
		if (last || f->since_ack == f->ack_every)
			f->st = ST_DACK;
		break;
	}
	case ST_DACK: {
		const struct msg *m = &f->msgs[f->cur];
		tcp_packet(g, f, !m->dir, F_ACK, 0);
		f->since_ack = 0;
		f->st = ST_DATA;
		if (f->off == m->hdr_len + m->body_len) {
			f->off = 0;
			if (++f->cur == f->n_msgs)
				f->st = f->end_rst ? ST_RST : ST_FIN1;
		}
		break;
	}
	case ST_FIN1:
		tcp_packet(g, f, 0, F_FIN | F_ACK, 0);
		f->st = ST_FIN2;
		break;
	case ST_FIN2:
		tcp_packet(g, f, 1, F_FIN | F_ACK, 0);
		f->st = ST_FIN3;
		break;
	case ST_FIN3:
		tcp_packet(g, f, 0, F_ACK, 0);
		f->st = ST_DONE;
		break;
	case ST_RST:
		tcp_packet(g, f, 1, F_RST | F_ACK, 0);
		f->st = ST_DONE;
		break;
	case ST_DONE:
		break;
	}
}

static void make_pools(struct gen *g, uint64_t seed)
{
	struct rng r = {.s = mix64(seed ^ 0x9001) | 1};
	for (uint32_t i = 0; i < POOL_SIZE; i += 8) {
		uint64_t v = rng_next(&r);
		memcpy(g->pool_rand + i, &v, 8);
	}
	static const char *const tags[] = {"<p>",      "</p>\n",      "<div class=\"item\">",
	                                   "</div>\n", "<a href=\"/", "\">",
	                                   "</a> ",    ", ",          ". "};
	uint32_t o = 0;
	while (o < POOL_SIZE) {
		const char *w = rng_below(&r, 5) == 0 ? tags[rng_below(&r, 9)]
		                                      : words[rng_below(&r, N_WORDS)];
		size_t n = strlen(w);
		for (size_t i = 0; i < n && o < POOL_SIZE; i++)
			g->pool_text[o++] = (uint8_t)w[i];
		if (o < POOL_SIZE)
			g->pool_text[o++] = ' ';
	}
}

static int gen_pcap(struct gen *g, const char *path, uint64_t seed)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	g->out = fopen(path, "wb");
	if (dead == NULL || g->out == NULL) {
		fprintf(stderr, "bench_gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	setvbuf(g->out, NULL, _IOFBF, 1 << 20);
	g->dump = pcap_dump_fopen(dead, g->out);
	if (g->dump == NULL) {
		fprintf(stderr, "bench_gen: %s: %s\n", path, pcap_geterr(dead));
		return -1;
	}
	g->bytes = 24;
	g->r.s = mix64(seed ^ 0x7aff1c) | 1;
	make_pools(g, seed);
	for (size_t i = 0; i < SLOTS; i++)
		new_flow(g, &g->slots[i]);
	while (g->bytes < g->target) {
		struct flow *f = &g->slots[rng_below(&g->r, SLOTS)];
		uint32_t burst = 1 + rng_below(&g->r, f->bulk ? 12 : 2);
		for (uint32_t i = 0; i < burst && g->bytes < g->target; i++) {
			if (f->st == ST_DONE)
				new_flow(g, f);
			flow_step(g, f);
		}
	}
	pcap_dump_flush(g->dump);
	int rc = ferror(g->out) ? -1 : 0;
	pcap_dump_close(g->dump); /* closes g->out */
	pcap_close(dead);
	if (rc != 0)
		fprintf(stderr, "bench_gen: writing %s failed\n", path);
	return rc;
}

static void print_summary(const struct gen *g, const struct iset_gen *s, uint64_t seed, bool pcap)
{
	json_t *o = json_object();
	json_object_set_new(o, "seed", json_integer((json_int_t)seed));
	json_object_set_new(o, "indicators",
	                    json_pack("{s:I,s:I,s:I,s:I}", "domain", (json_int_t)s->n_dom, "ip",
	                              (json_int_t)s->n_ip, "url", (json_int_t)s->n_url, "content",
	                              (json_int_t)s->n_lit));
	if (pcap) {
		json_object_set_new(o, "packets", json_integer((json_int_t)g->packets));
		json_object_set_new(o, "file_bytes", json_integer((json_int_t)g->bytes));
		json_object_set_new(
		        o, "avg_frame",
		        json_real(g->packets ? (double)(g->bytes - 24) / (double)g->packets - 16
		                             : 0));
		json_object_set_new(o, "duration_s", json_real((double)g->t_us / 1e6));
		json_object_set_new(o, "conversations",
		                    json_pack("{s:I,s:I,s:I}", "dns", (json_int_t)g->by_kind[K_DNS],
		                              "tls", (json_int_t)g->by_kind[K_TLS], "http",
		                              (json_int_t)g->by_kind[K_HTTP]));
		json_object_set_new(o, "ipv6_packets", json_integer((json_int_t)g->v6_packets));
		json_object_set_new(o, "vlan_packets", json_integer((json_int_t)g->vlan_packets));
		json_object_set_new(
		        o, "planted",
		        json_pack("{s:I,s:I,s:I,s:I,s:I}", "domain_dns_sni",
		                  (json_int_t)g->planted[0], "domain_http_host",
		                  (json_int_t)g->planted[1], "ip", (json_int_t)g->planted[2], "url",
		                  (json_int_t)g->planted[3], "content", (json_int_t)g->planted[4]));
	}
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_gen [--seed N] [--mb MIB] [--gap-us N] [--pcap FILE] "
	                "[--set FILE] [--domains N] [--ips N] [--urls N] [--literals N]\n");
	return 2;
}

static bool num_arg(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static struct gen g;
	struct iset_gen s = {.n_dom = 10000, .n_ip = 10000, .n_url = 1000, .n_lit = 500};
	const char *pcap_path = NULL, *set_path = NULL;
	double seed = 20240301, mb = 300, gap = 240;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double x;
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--pcap") == 0)
			pcap_path = v;
		else if (strcmp(a, "--set") == 0)
			set_path = v;
		else if (strcmp(a, "--seed") == 0 && num_arg(v, 1e15, &x))
			seed = x;
		else if (strcmp(a, "--mb") == 0 && num_arg(v, 1e6, &x))
			mb = x;
		else if (strcmp(a, "--gap-us") == 0 && num_arg(v, 1e6, &x) && x >= 1)
			gap = x;
		else if (strcmp(a, "--domains") == 0 && num_arg(v, 1e8, &x))
			s.n_dom = (size_t)x;
		else if (strcmp(a, "--ips") == 0 && num_arg(v, 1e8, &x))
			s.n_ip = (size_t)x;
		else if (strcmp(a, "--urls") == 0 && num_arg(v, 1e8, &x))
			s.n_url = (size_t)x;
		else if (strcmp(a, "--literals") == 0 && num_arg(v, 1e8, &x))
			s.n_lit = (size_t)x;
		else
			return usage();
	}
	if (pcap_path == NULL && set_path == NULL)
		return usage();
	FILE *sf = NULL;
	if (set_path != NULL && (sf = fopen(set_path, "w")) == NULL) {
		fprintf(stderr, "bench_gen: %s: %s\n", set_path, strerror(errno));
		return 1;
	}
	if (gen_indicators(&s, (uint64_t)seed, sf) != 0 || (sf && fclose(sf) != 0)) {
		fprintf(stderr, "bench_gen: writing %s failed\n", set_path);
		return 1;
	}
	int rc = 0;
	if (pcap_path != NULL) {
		g.set = &s;
		g.target = (uint64_t)(mb * 1048576.0);
		g.gap_us = (uint64_t)gap;
		g.pool_rand = malloc(POOL_SIZE);
		g.pool_text = malloc(POOL_SIZE);
		if (g.pool_rand == NULL || g.pool_text == NULL)
			return 1;
		rc = gen_pcap(&g, pcap_path, (uint64_t)seed);
		free(g.pool_rand);
		free(g.pool_text);
	}
	if (rc == 0)
		print_summary(&g, &s, (uint64_t)seed, pcap_path != NULL);
	return rc == 0 ? 0 : 1;
}
