/* \summary: TLS ClientHello SNI and JA3/JA4 from the client direction
 *
 * Record layer (RFC 8446 5.1) -> first handshake message, reassembled in
 * the state's buffer -> ClientHello fields (RFC 8446 4.1.2; extensions of
 * RFC 6066, 7301, 8422, 8446). What is reported: extract_tls.h.
 */
#include <string.h>

#include "cursor.h"
#include "extract_tls.h"
#include "hotline/err.h"

#define REC_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define HS_HEADER_LEN 4

#define EXT_SERVER_NAME 0
#define EXT_GROUPS 10
#define EXT_POINT_FORMATS 11
#define EXT_SIG_ALGS 13
#define EXT_ALPN 16
#define EXT_VERSIONS 43

enum { P_HDR, P_BODY, P_DONE, P_STOPPED };

static const char *const malformed_names[HL_TLS_MALFORMED_COUNT] = {
        [HL_TLS_BAD_RECORD] = "bad_record",
        [HL_TLS_BAD_HELLO] = "bad_hello",
        [HL_TLS_BAD_EXTENSION] = "bad_extension",
        [HL_TLS_BAD_SNI] = "bad_sni",
};

const char *hl_tls_malformed_name(enum hl_tls_malformed why)
{
	if ((unsigned)why >= HL_TLS_MALFORMED_COUNT)
		return "unknown";
	return malformed_names[why];
}

/* ---- ClientHello ---- */

/* A list with a length prefix of lenbytes (1 or 2) filling the extension
 * data exactly; unit 2 demands an even length. */
static bool list_span(struct cursor e, size_t lenbytes, size_t unit, struct hl_span *out)
{
	size_t n;
	if (lenbytes == 1) {
		uint8_t l8;
		if (!cur_u8(&e, &l8))
			return false;
		n = l8;
	} else {
		uint16_t l16;
		if (!cur_be16(&e, &l16))
			return false;
		n = l16;
	}
	if (n != e.left || n % unit != 0)
		return false;
	cur_bytes(&e, n, &out->p);
	out->len = n;
	return true;
}

static bool server_name(struct cursor e, struct hl_client_hello *ch)
{
	struct cursor list;
	uint16_t n;
	if (!cur_be16(&e, &n) || !cur_sub(&e, n, &list) || e.left != 0)
		return false;
	while (list.left > 0) {
		uint8_t type;
		uint16_t len;
		const uint8_t *name;
		if (!cur_u8(&list, &type) || !cur_be16(&list, &len) ||
		    !cur_bytes(&list, len, &name))
			return false;
		if (type == 0 && ch->sni.p == NULL) {
			ch->sni.p = name;
			ch->sni.len = len;
		}
	}
	return true;
}

static bool alpn(struct cursor e, struct hl_client_hello *ch)
{
	struct cursor list;
	uint16_t n;
	uint8_t plen;
	const uint8_t *proto;
	if (!cur_be16(&e, &n) || !cur_sub(&e, n, &list) || e.left != 0)
		return false;
	if (!cur_u8(&list, &plen) || !cur_bytes(&list, plen, &proto))
		return false;
	ch->alpn.p = proto;
	ch->alpn.len = plen;
	return true;
}

int hl_tls_parse_client_hello(const uint8_t *body, size_t len, struct hl_client_hello *ch)
{
	memset(ch, 0, sizeof *ch);
	struct cursor c = cur_make(body, body != NULL ? len : 0);
	uint8_t sid, comp;
	uint16_t cs, exts;
	if (!cur_be16(&c, &ch->version) || !cur_skip(&c, 32) || !cur_u8(&c, &sid) || sid > 32 ||
	    !cur_skip(&c, sid) || !cur_be16(&c, &cs) || cs % 2 != 0 ||
	    !cur_bytes(&c, cs, &ch->ciphers.p) || !cur_u8(&c, &comp) || comp == 0 ||
	    !cur_skip(&c, comp))
		return HL_EPARSE;
	ch->ciphers.len = cs;
	if (c.left == 0)
		return 0; /* no extensions at all: allowed before TLS 1.3 */
	struct cursor block;
	if (!cur_be16(&c, &exts) || !cur_sub(&c, exts, &block))
		return HL_EPARSE;
	ch->extensions.p = block.p;
	ch->extensions.len = block.left;

	unsigned seen = 0; /* TLS forbids repeats; the first one counts */
	while (block.left > 0) {
		uint16_t type, elen;
		struct cursor e;
		if (!cur_be16(&block, &type) || !cur_be16(&block, &elen) ||
		    !cur_sub(&block, elen, &e))
			return HL_EPARSE;
		unsigned bit;
		switch (type) {
		case EXT_SERVER_NAME:
			bit = 1u << 0;
			break;
		case EXT_GROUPS:
			bit = 1u << 1;
			break;
		case EXT_POINT_FORMATS:
			bit = 1u << 2;
			break;
		case EXT_SIG_ALGS:
			bit = 1u << 3;
			break;
		case EXT_ALPN:
			bit = 1u << 4;
			break;
		case EXT_VERSIONS:
			bit = 1u << 5;
			break;
		default:
			continue;
		}
		if (seen & bit)
			continue;
		seen |= bit;
		bool ok = true;
		switch (type) {
		case EXT_SERVER_NAME:
			ch->has_sni = true;
			ok = server_name(e, ch);
			break;
		case EXT_GROUPS:
			ok = list_span(e, 2, 2, &ch->groups);
			break;
		case EXT_POINT_FORMATS:
			ok = list_span(e, 1, 1, &ch->point_formats);
			break;
		case EXT_SIG_ALGS:
			ok = list_span(e, 2, 2, &ch->sig_algs);
			break;
		case EXT_ALPN:
			ok = alpn(e, ch);
			break;
		default:
			ok = list_span(e, 1, 2, &ch->versions);
			break;
		}
		if (!ok)
			ch->bad_extensions++;
	}
	return 0;
}

/* ---- reporting ---- */

static int report(struct hl_tls_state *s, hl_observe_fn fn, hl_tls_hello_fn hello_fn, void *ctx,
                  struct hl_tls_stats *st)
{
	struct hl_client_hello ch;
	if (hl_tls_parse_client_hello(s->buf + HS_HEADER_LEN, s->need - HS_HEADER_LEN, &ch) != 0) {
		st->malformed[HL_TLS_BAD_HELLO]++;
		return 0;
	}
	st->hellos++;
	if (ch.bad_extensions > 0)
		st->malformed[HL_TLS_BAD_EXTENSION]++;

	struct hl_tls_hello h;
	h.version = ch.version;
	h.sni[0] = '\0';
	h.sni_len = 0;
	if (ch.sni.p != NULL) {
		if (ch.sni.len == 0 || ch.sni.len > HL_TLS_SNI_MAX ||
		    memchr(ch.sni.p, '\0', ch.sni.len) != NULL) {
			st->malformed[HL_TLS_BAD_SNI]++;
		} else {
			size_t n = ch.sni.len;
			memcpy(h.sni, ch.sni.p, n);
			hl_extract_lower(h.sni, n);
			if (h.sni[n - 1] == '.')
				n--;
			h.sni[n] = '\0';
			h.sni_len = n;
		}
	}
	if (h.sni_len > 0) {
		st->names++;
		int stop = hl_extract_emit(fn, ctx, HL_FIELD_TLS_SNI, h.sni, h.sni_len);
		if (stop != 0)
			return stop;
	}
	if (hello_fn == NULL)
		return 0;
	if (hl_ja3(&ch, &h.ja3) != 0)
		st->fingerprint_errors++;
	if (hl_ja4(&ch, h.ja4) != 0)
		h.ja4[0] = '\0';
	return hello_fn(ctx, &h);
}

/* ---- the feed loop ---- */

void hl_tls_init(struct hl_tls_state *s)
{
	s->phase = P_HDR;
	s->hdr_have = 0;
	s->rec_left = 0;
	s->have = 0;
	s->need = 0;
}

void hl_tls_reset(struct hl_tls_state *s)
{
	hl_tls_init(s);
}

/* A complete record header: start its body, or give up. */
static void record_header(struct hl_tls_state *s, struct hl_tls_stats *st)
{
	const uint8_t *h = s->hdr;
	bool first = s->have == 0;
	s->hdr_have = 0;
	s->phase = P_DONE;
	if (first && (h[0] & 0x80) && h[2] == HS_CLIENT_HELLO) {
		st->sslv2++; /* 2-byte SSLv2 header, then CLIENT-HELLO */
		return;
	}
	if (h[0] != REC_HANDSHAKE || h[1] != 3) {
		if (first)
			st->not_tls++;
		else
			st->malformed[HL_TLS_BAD_RECORD]++;
		return;
	}
	uint16_t len = (uint16_t)(h[3] << 8 | h[4]);
	if (len == 0 || len > HL_TLS_RECORD_MAX) {
		st->malformed[HL_TLS_BAD_RECORD]++;
		return;
	}
	s->rec_left = len;
	s->phase = P_BODY;
}

/* Record bytes into the handshake buffer. Returns false when the direction
 * is to be given up. */
static bool take_body(struct hl_tls_state *s, struct cursor *c, struct hl_tls_stats *st)
{
	size_t n = c->left < s->rec_left ? c->left : s->rec_left;
	size_t want = s->need != 0 ? s->need - s->have : HS_HEADER_LEN - s->have;
	size_t k = n < want ? n : want;
	cur_copy(c, s->buf + s->have, k);
	s->have += (uint32_t)k;
	s->rec_left = (uint16_t)(s->rec_left - k);
	if (s->need == 0 && s->have == HS_HEADER_LEN) {
		if (s->buf[0] != HS_CLIENT_HELLO) {
			st->not_client_hello++;
			return false;
		}
		uint32_t hlen = (uint32_t)s->buf[1] << 16 | (uint32_t)s->buf[2] << 8 | s->buf[3];
		if (hlen > HL_TLS_HELLO_MAX - HS_HEADER_LEN) {
			st->overflowed++;
			return false;
		}
		s->need = HS_HEADER_LEN + hlen;
	}
	if (s->rec_left == 0 && !(s->need != 0 && s->have == s->need))
		s->phase = P_HDR;
	return true;
}

int hl_tls_feed(struct hl_tls_state *s, const uint8_t *data, size_t len, hl_observe_fn fn,
                hl_tls_hello_fn hello_fn, void *ctx, struct hl_tls_stats *st)
{
	struct hl_tls_stats scratch;
	if (st == NULL) {
		memset(&scratch, 0, sizeof scratch);
		st = &scratch;
	}
	if (data == NULL)
		len = 0;
	struct cursor c = cur_make(data, len);
	int stop = 0;
	while (c.left > 0 && (s->phase == P_HDR || s->phase == P_BODY)) {
		if (s->phase == P_HDR) {
			size_t k = 5u - s->hdr_have;
			if (k > c.left)
				k = c.left;
			cur_copy(&c, s->hdr + s->hdr_have, k);
			s->hdr_have = (uint8_t)(s->hdr_have + k);
			if (s->hdr_have == 5)
				record_header(s, st);
			continue;
		}
		if (!take_body(s, &c, st)) {
			s->phase = P_DONE;
			break;
		}
		if (s->need != 0 && s->have == s->need) {
			s->phase = P_DONE;
			stop = report(s, fn, hello_fn, ctx, st);
			if (stop != 0)
				s->phase = P_STOPPED;
		}
	}
	return stop;
}

void hl_tls_finish(struct hl_tls_state *s, struct hl_tls_stats *st)
{
	bool inside = s->phase == P_BODY || (s->phase == P_HDR && (s->hdr_have > 0 || s->have > 0));
	if (st != NULL && inside)
		st->truncated++;
	hl_tls_reset(s);
}
