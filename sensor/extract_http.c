/* \summary: HTTP/1.x request Host and target from the client direction
 *
 * What is reported and the bounds: extract_http.h. RFC 9112 (message
 * syntax and framing), RFC 9110 7.2 (Host), RFC 3986 3.2 (authority).
 *
 * The state buffer is laid out as
 *   buf[0 .. HOST_MAX)            room to write "host[:port]" for http.url
 *   buf[HOST_MAX .. +target_len]  the request target, NUL-terminated
 *   buf[after the target ..)      the line being read
 * so http.uri and http.url are reported from one buffer without copying
 * the target. Lines are consumed one at a time through the cursor; only
 * the request line and the few headers that matter are looked at.
 */
#include <stdbool.h>
#include <string.h>

#include "cursor.h"
#include "extract_http.h"
#include "hotline/indicator.h"

#define ROOM HL_HTTP_HOST_MAX
#define BLANK_LINES_MAX 8
#define CHUNK_HEX_MAX 15 /* < 2^60: no overflow in body_left */
#define CL_DIGITS_MAX 18

enum {
	P_REQLINE,
	P_HEADERS,
	P_BODY,
	P_CHUNK_SIZE,
	P_CHUNK_DATA,
	P_CHUNK_END,
	P_TRAILERS,
	P_DONE,   /* gave up, or a tunnel: ignore the rest */
	P_STOPPED /* the callback asked to stop */
};

enum {
	F_LINE_OVER = 1u << 0, /* the current line did not fit: its tail is dropped */
	F_NOURI = 1u << 1,     /* no usable target (overflow, '*', CONNECT) */
	F_ABS = 1u << 2,       /* host from an absolute-form target: Host ignored */
	F_HTTPS = 1u << 3,     /* default port 443 */
	F_HOST_SEEN = 1u << 4, /* a Host header was read */
	F_CONNECT = 1u << 5,
	F_CL = 1u << 6,       /* Content-Length seen */
	F_TE = 1u << 7,       /* Transfer-Encoding seen */
	F_CHUNKED = 1u << 8,  /* ... and its last coding is chunked */
	F_BAD_FRAME = 1u << 9 /* body length unknowable */
};

static const char *const malformed_names[HL_HTTP_MALFORMED_COUNT] = {
        [HL_HTTP_BAD_HOST] = "bad_host",     [HL_HTTP_DUP_HOST] = "dup_host",
        [HL_HTTP_BAD_LENGTH] = "bad_length", [HL_HTTP_BAD_ENCODING] = "bad_encoding",
        [HL_HTTP_BAD_CHUNK] = "bad_chunk",   [HL_HTTP_BAD_PORT] = "bad_port",
};

const char *hl_http_malformed_name(enum hl_http_malformed why)
{
	if ((unsigned)why >= HL_HTTP_MALFORMED_COUNT)
		return "unknown";
	return malformed_names[why];
}

/* ---- character classes ---- */

static bool is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_alpha(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* RFC 3986 reg-name / IP-literal bytes plus ':' for the port; bytes >= 0x80
 * pass (raw UTF-8 names exist in the wild). */
static bool is_host_char(unsigned char ch)
{
	if (ch >= 0x80 || is_alpha(ch) || is_digit(ch))
		return true;
	return ch != '\0' && strchr("-._~!$&'()*+,;=:[]%", ch) != NULL;
}

static bool is_ows(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool eq_nocase(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);
	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch + ('a' - 'A'));
		if (ch != (unsigned char)lit[i])
			return false;
	}
	return true;
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && is_ows((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* ---- state ---- */

static void new_request(struct hl_http_state *s)
{
	s->phase = P_REQLINE;
	s->flags = 0;
	s->target_len = 0;
	s->line_len = 0;
	s->host_len = 0;
	s->head_bytes = 0;
	s->body_left = 0;
	s->content_length = 0;
}

void hl_http_init(struct hl_http_state *s)
{
	new_request(s);
	s->blank_lines = 0;
	s->host[0] = '\0';
	s->buf[ROOM] = '\0';
}

void hl_http_reset(struct hl_http_state *s)
{
	hl_http_init(s);
}

static size_t line_base(const struct hl_http_state *s)
{
	if (s->phase == P_HEADERS)
		return ROOM + (size_t)s->target_len + 1;
	return ROOM;
}

static size_t line_cap(const struct hl_http_state *s)
{
	if (s->phase == P_REQLINE)
		return HL_HTTP_REQLINE_MAX;
	if (s->phase == P_HEADERS)
		return HL_HTTP_BUF - line_base(s);
	return HL_HTTP_LINE_MIN;
}

/* Take bytes up to and including the next LF; keep what fits. True when
 * the line is complete: it is then buf[line_base .. + line_len), without
 * its LF or CR. */
static bool take_line(struct hl_http_state *s, struct cursor *c, size_t *consumed)
{
	const uint8_t *lf = memchr(c->p, '\n', c->left);
	size_t n = lf != NULL ? (size_t)(lf - c->p) + 1 : c->left;
	const uint8_t *p = NULL;
	cur_bytes(c, n, &p);
	*consumed = n;
	size_t body = lf != NULL ? n - 1 : n;
	size_t base = line_base(s), cap = line_cap(s);
	size_t room = cap - s->line_len;
	size_t k = body < room ? body : room;
	memcpy(s->buf + base + s->line_len, p, k);
	s->line_len = (uint16_t)(s->line_len + k);
	if (k < body)
		s->flags |= F_LINE_OVER;
	if (lf == NULL)
		return false;
	if (!(s->flags & F_LINE_OVER) && s->line_len > 0 && s->buf[base + s->line_len - 1] == '\r')
		s->line_len--;
	return true;
}

static void end_line(struct hl_http_state *s)
{
	s->line_len = 0;
	s->flags &= (uint16_t)~F_LINE_OVER;
}

/* ---- the host and the url's host part ---- */

/* Keep an authority ("host[:port]") as the request's host; userinfo was
 * removed by the caller. Returns false when it is no host. */
static bool set_host(struct hl_http_state *s, const char *v, size_t n, struct hl_http_stats *st)
{
	if (n == 0)
		return true; /* empty Host: allowed, nothing to report */
	if (n >= HL_HTTP_HOST_MAX) {
		st->malformed[HL_HTTP_BAD_HOST]++;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_host_char((unsigned char)v[i])) {
			st->malformed[HL_HTTP_BAD_HOST]++;
			return false;
		}
	}
	memcpy(s->host, v, n);
	s->host[n] = '\0';
	s->host_len = (uint16_t)n;
	return true;
}

/* "host[:port]" for http.url: lower case, one trailing dot dropped, the
 * port kept only when valid and not the scheme's default. */
static size_t url_host(const struct hl_http_state *s, char *out, struct hl_http_stats *st)
{
	const char *h = s->host;
	size_t n = s->host_len, hl = n;
	const char *port = NULL;
	size_t plen = 0;
	if (n > 0 && h[0] == '[') {
		const char *close = memchr(h, ']', n);
		if (close != NULL) {
			hl = (size_t)(close - h) + 1;
			if (hl < n && h[hl] == ':') {
				port = h + hl + 1;
				plen = n - hl - 1;
			}
		}
	} else {
		const char *colon = memchr(h, ':', n);
		if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - h) - 1) == NULL) {
			hl = (size_t)(colon - h);
			port = colon + 1;
			plen = n - hl - 1;
		}
	}
	memcpy(out, h, hl);
	hl_extract_lower(out, hl);
	if (hl > 0 && out[hl - 1] == '.' && out[0] != '[')
		hl--;
	if (port == NULL || plen == 0)
		return hl;
	unsigned long v = 0;
	bool ok = plen <= 5;
	for (size_t i = 0; ok && i < plen; i++) {
		ok = is_digit((unsigned char)port[i]);
		v = v * 10 + (unsigned long)(port[i] - '0');
	}
	if (!ok || v == 0 || v > 65535) {
		st->malformed[HL_HTTP_BAD_PORT]++;
		return hl;
	}
	if (v == ((s->flags & F_HTTPS) ? 443ul : 80ul))
		return hl;
	char digits[6];
	size_t nd = 0;
	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	out[hl++] = ':';
	while (nd > 0)
		out[hl++] = digits[--nd];
	return hl;
}

static int emit_request(struct hl_http_state *s, hl_observe_fn fn, void *ctx,
                        struct hl_http_stats *st)
{
	char host[HL_HTTP_HOST_MAX];
	size_t hn = 0;
	int stop;
	if (s->host_len > 0) {
		memcpy(host, s->host, s->host_len);
		hn = hl_name_normalise(host, s->host_len);
		host[hn] = '\0';
		if (hn > 0) {
			st->observations++;
			if ((stop = hl_extract_emit(fn, ctx, HL_FIELD_HTTP_HOST, host, hn)) != 0)
				return stop;
		}
	}
	if ((s->flags & F_NOURI) || s->target_len == 0)
		return 0;
	char *uri = s->buf + ROOM;
	uri[s->target_len] = '\0';
	st->observations++;
	if ((stop = hl_extract_emit(fn, ctx, HL_FIELD_HTTP_URI, uri, s->target_len)) != 0)
		return stop;
	if (hn == 0)
		return 0;
	char part[HL_HTTP_HOST_MAX];
	size_t pn = url_host(s, part, st); /* pn <= host_len < ROOM */
	if (pn == 0)
		return 0;
	memcpy(uri - pn, part, pn);
	st->observations++;
	return hl_extract_emit(fn, ctx, HL_FIELD_HTTP_URL, uri - pn, pn + s->target_len);
}

/* ---- request line ---- */

/* The bounded look: could these first bytes start a request line? */
static bool plausible_start(const char *l, size_t n, bool complete)
{
	size_t i = 0;
	while (i < n && i <= HL_HTTP_METHOD_MAX && is_tchar((unsigned char)l[i]))
		i++;
	if (i > HL_HTTP_METHOD_MAX)
		return false;
	if (i == n)
		return !complete;
	if (l[i] != ' ' || i == 0)
		return false;
	if (i + 1 == n)
		return !complete;
	unsigned char ch = (unsigned char)l[i + 1];
	return ch == '/' || ch == '*' || is_alpha(ch) || is_digit(ch) || ch == '[';
}

/* Absolute-form "scheme://authority[/path][?query]": host from the
 * authority (userinfo dropped), target rewritten to "/path?query". */
static void absolute_form(struct hl_http_state *s, const char *t, size_t tn, size_t schemelen,
                          struct hl_http_stats *st)
{
	if (eq_nocase(t, schemelen, "https"))
		s->flags |= F_HTTPS;
	const char *a = t + schemelen + 3;
	size_t an = 0, rest = tn - schemelen - 3;
	while (an < rest && a[an] != '/' && a[an] != '?' && a[an] != '#')
		an++;
	const char *path = a + an;
	size_t pn = rest - an;
	const char *at = NULL;
	for (size_t i = 0; i < an; i++) {
		if (a[i] == '@')
			at = a + i;
	}
	if (at != NULL) {
		an -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	s->flags |= F_ABS;
	set_host(s, a, an, st);
	/* path lies at least "x://" past buf + ROOM: moving it left is safe */
	char *dst = s->buf + ROOM;
	size_t out = 0;
	if (pn == 0 || path[0] != '/')
		dst[out++] = '/';
	memmove(dst + out, path, pn);
	s->target_len = (uint16_t)(out + pn);
}

static size_t scheme_len(const char *t, size_t n)
{
	if (n == 0 || !is_alpha((unsigned char)t[0]))
		return 0;
	size_t i = 1;
	while (i < n && (is_alpha((unsigned char)t[i]) || is_digit((unsigned char)t[i]) ||
	                 t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (n - i >= 3 && memcmp(t + i, "://", 3) == 0)
		return i;
	return 0;
}

/* A complete request line at buf + ROOM. False: not HTTP/1.x. */
static bool request_line(struct hl_http_state *s, struct hl_http_stats *st)
{
	char *l = s->buf + ROOM;
	size_t n = s->line_len;
	const char *sp1 = memchr(l, ' ', n);
	if (sp1 == NULL)
		return false;
	size_t mlen = (size_t)(sp1 - l);
	bool connect = mlen == 7 && memcmp(l, "CONNECT", 7) == 0;
	if (s->flags & F_LINE_OVER) {
		/* a long target: nothing usable but the headers */
		st->overflowed++;
		s->flags |= F_NOURI;
		return true;
	}
	const char *sp2 = l + n;
	while (sp2 > sp1 && sp2[-1] != ' ')
		sp2--;
	const char *ver = sp2;
	size_t vn = (size_t)(l + n - ver);
	if (sp2 == sp1 + 1 || vn != 8 || memcmp(ver, "HTTP/1.", 7) != 0 ||
	    !is_digit((unsigned char)ver[7]))
		return false;
	const char *t = sp1 + 1;
	size_t tn = (size_t)(sp2 - 1 - t);
	while (tn > 0 && t[0] == ' ') {
		t++;
		tn--;
	}
	while (tn > 0 && t[tn - 1] == ' ')
		tn--;
	if (tn == 0)
		return false;
	for (size_t i = 0; i < tn; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	size_t sl;
	if (connect) {
		s->flags |= F_CONNECT | F_NOURI | F_ABS;
		set_host(s, t, tn, st);
	} else if (t[0] == '/') {
		memmove(l, t, tn);
		s->target_len = (uint16_t)tn;
	} else if ((sl = scheme_len(t, tn)) > 0) {
		absolute_form(s, t, tn, sl, st);
	} else {
		s->flags |= F_NOURI; /* "*" or nothing we can use */
	}
	l[s->target_len] = '\0';
	return true;
}

/* ---- header lines ---- */

static void header_line(struct hl_http_state *s, struct hl_http_stats *st)
{
	const char *l = s->buf + line_base(s);
	size_t n = s->line_len;
	if (n == 0 || is_ows((unsigned char)l[0]))
		return; /* obs-fold continuation: ignored */
	const char *colon = memchr(l, ':', n);
	if (colon == NULL)
		return;
	size_t nn = (size_t)(colon - l);
	const char *v = colon + 1;
	size_t vn = n - nn - 1;
	trim(&v, &vn);
	bool over = (s->flags & F_LINE_OVER) != 0;

	if (eq_nocase(l, nn, "host")) {
		if (s->flags & F_ABS)
			return;
		if (s->flags & F_HOST_SEEN) {
			st->malformed[HL_HTTP_DUP_HOST]++;
			return;
		}
		s->flags |= F_HOST_SEEN;
		if (over)
			st->malformed[HL_HTTP_BAD_HOST]++;
		else
			set_host(s, v, vn, st);
	} else if (eq_nocase(l, nn, "content-length")) {
		uint64_t cl = 0;
		bool ok = !over && vn > 0 && vn <= CL_DIGITS_MAX;
		for (size_t i = 0; ok && i < vn; i++) {
			ok = is_digit((unsigned char)v[i]);
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		if (ok && (s->flags & F_CL) && cl != s->content_length)
			ok = false;
		if (!ok) {
			st->malformed[HL_HTTP_BAD_LENGTH]++;
			s->flags |= F_BAD_FRAME;
			return;
		}
		s->flags |= F_CL;
		s->content_length = cl;
	} else if (eq_nocase(l, nn, "transfer-encoding")) {
		s->flags |= F_TE;
		if (over) {
			s->flags &= (uint16_t)~F_CHUNKED;
			return;
		}
		/* the last coding decides (RFC 9112 6.3) */
		const char *last = v;
		size_t ln = vn;
		const char *comma = memchr(v, ',', vn);
		while (comma != NULL) {
			ln -= (size_t)(comma + 1 - last);
			last = comma + 1;
			comma = memchr(last, ',', ln);
		}
		trim(&last, &ln);
		if (eq_nocase(last, ln, "chunked"))
			s->flags |= F_CHUNKED;
		else
			s->flags &= (uint16_t)~F_CHUNKED;
	}
}

/* The blank line after the headers: report, then find the body. */
static int end_of_head(struct hl_http_state *s, hl_observe_fn fn, void *ctx,
                       struct hl_http_stats *st)
{
	st->requests++;
	int stop = emit_request(s, fn, ctx, st);
	uint16_t f = s->flags;
	if (f & F_CONNECT) {
		s->phase = P_DONE;
	} else if (f & F_TE) {
		if (f & F_CHUNKED) {
			s->phase = P_CHUNK_SIZE;
		} else {
			st->malformed[HL_HTTP_BAD_ENCODING]++;
			s->phase = P_DONE;
		}
	} else if (f & F_BAD_FRAME) {
		s->phase = P_DONE;
	} else if ((f & F_CL) && s->content_length > 0) {
		s->phase = P_BODY;
		s->body_left = s->content_length;
	} else {
		new_request(s);
	}
	s->line_len = 0;
	s->flags &= (uint16_t)~F_LINE_OVER;
	s->head_bytes = 0;
	return stop;
}

/* ---- chunked body ---- */

static bool chunk_size(const char *l, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	for (; i < n; i++) {
		unsigned char ch = (unsigned char)l[i];
		unsigned d;
		if (is_digit(ch))
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			break;
		if (i >= CHUNK_HEX_MAX)
			return false;
		v = v << 4 | d;
	}
	if (i == 0)
		return false;
	while (i < n && is_ows((unsigned char)l[i]))
		i++;
	if (i < n && l[i] != ';')
		return false;
	*out = v;
	return true;
}

/* ---- the feed loop ---- */

/* Request line and header phases. */
static int step_head(struct hl_http_state *s, struct cursor *c, hl_observe_fn fn, void *ctx,
                     struct hl_http_stats *st)
{
	size_t consumed;
	bool complete = take_line(s, c, &consumed);
	s->head_bytes +=
	        (uint32_t)(consumed < HL_HTTP_HEADERS_MAX ? consumed : HL_HTTP_HEADERS_MAX);
	if (s->phase == P_REQLINE) {
		const char *l = s->buf + ROOM;
		if (complete && s->line_len == 0 && !(s->flags & F_LINE_OVER)) {
			/* empty lines before a request are tolerated (RFC 9112 2.2) */
			end_line(s);
			s->head_bytes = 0;
			if (++s->blank_lines > BLANK_LINES_MAX) {
				st->not_http++;
				s->phase = P_DONE;
			}
			return 0;
		}
		if (!plausible_start(l, s->line_len, complete)) {
			st->not_http++;
			s->phase = P_DONE;
			return 0;
		}
		if (s->head_bytes > HL_HTTP_HEADERS_MAX) {
			st->overflowed++;
			s->phase = P_DONE;
			return 0;
		}
		if (!complete)
			return 0;
		s->blank_lines = 0;
		if (!request_line(s, st)) {
			st->not_http++;
			s->phase = P_DONE;
			return 0;
		}
		end_line(s);
		s->phase = P_HEADERS;
		return 0;
	}
	if (s->head_bytes > HL_HTTP_HEADERS_MAX) {
		/* report what the head gave so far, then give up */
		st->overflowed++;
		int stop = emit_request(s, fn, ctx, st);
		s->phase = P_DONE;
		return stop;
	}
	if (!complete)
		return 0;
	if (s->line_len == 0 && !(s->flags & F_LINE_OVER))
		return end_of_head(s, fn, ctx, st);
	header_line(s, st);
	end_line(s);
	return 0;
}

static void step_chunk_line(struct hl_http_state *s, struct cursor *c, struct hl_http_stats *st)
{
	size_t consumed;
	bool complete = take_line(s, c, &consumed);
	if (s->phase == P_TRAILERS) {
		s->head_bytes +=
		        (uint32_t)(consumed < HL_HTTP_HEADERS_MAX ? consumed : HL_HTTP_HEADERS_MAX);
		if (s->head_bytes > HL_HTTP_HEADERS_MAX) {
			st->overflowed++;
			s->phase = P_DONE;
			return;
		}
	}
	if (!complete)
		return;
	const char *l = s->buf + ROOM;
	bool over = (s->flags & F_LINE_OVER) != 0;
	size_t n = s->line_len;
	end_line(s);
	switch (s->phase) {
	case P_CHUNK_SIZE: {
		uint64_t size;
		if (over || !chunk_size(l, n, &size)) {
			st->malformed[HL_HTTP_BAD_CHUNK]++;
			s->phase = P_DONE;
		} else if (size == 0) {
			s->phase = P_TRAILERS;
			s->head_bytes = 0;
		} else {
			s->body_left = size;
			s->phase = P_CHUNK_DATA;
		}
		break;
	}
	case P_CHUNK_END:
		if (over || n != 0) {
			st->malformed[HL_HTTP_BAD_CHUNK]++;
			s->phase = P_DONE;
		} else {
			s->phase = P_CHUNK_SIZE;
		}
		break;
	default: /* P_TRAILERS: skipped up to the blank line */
		if (!over && n == 0)
			new_request(s);
		break;
	}
}

int hl_http_feed(struct hl_http_state *s, const uint8_t *data, size_t len, hl_observe_fn fn,
                 void *ctx, struct hl_http_stats *st)
{
	struct hl_http_stats scratch;
	if (st == NULL) {
		memset(&scratch, 0, sizeof scratch);
		st = &scratch;
	}
	if (data == NULL)
		len = 0;
	struct cursor c = cur_make(data, len);
	int stop = 0;
	while (c.left > 0 && stop == 0 && s->phase != P_DONE && s->phase != P_STOPPED) {
		switch (s->phase) {
		case P_REQLINE:
		case P_HEADERS:
			stop = step_head(s, &c, fn, ctx, st);
			break;
		case P_BODY:
		case P_CHUNK_DATA: {
			size_t n = c.left < s->body_left ? c.left : (size_t)s->body_left;
			cur_skip(&c, n);
			s->body_left -= n;
			if (s->body_left == 0) {
				if (s->phase == P_BODY)
					new_request(s);
				else
					s->phase = P_CHUNK_END;
			}
			break;
		}
		default:
			step_chunk_line(s, &c, st);
			break;
		}
	}
	if (stop != 0)
		s->phase = P_STOPPED;
	return stop;
}

void hl_http_finish(struct hl_http_state *s, struct hl_http_stats *st)
{
	bool inside = s->phase == P_HEADERS || s->phase == P_BODY || s->phase == P_CHUNK_SIZE ||
	              s->phase == P_CHUNK_DATA || s->phase == P_CHUNK_END ||
	              s->phase == P_TRAILERS || (s->phase == P_REQLINE && s->line_len > 0);
	if (st != NULL && inside)
		st->truncated++;
	hl_http_reset(s);
}
