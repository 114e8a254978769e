/* \summary: HTTP/1.x request Host and target from the client direction
 *
 * For each request of a TCP client->server direction (pipelined requests,
 * split at any byte) the extractor reports, once its header section is
 * complete and in this order:
 *  - HL_FIELD_HTTP_HOST: the host, through hl_name_normalise (lower case,
 *    no trailing dot, no port, no IPv6 brackets);
 *  - HL_FIELD_HTTP_URI: the request target as sent ("/path?q"); for an
 *    absolute-form target ("http://host:8080/p?q", proxies) the path and
 *    query only ("/p?q", "/" when empty);
 *  - HL_FIELD_HTTP_URL: host + uri ("evil.example/p?q"); host lower case,
 *    a non-default port kept ("evil.example:8080/p"), :80 dropped (:443 for
 *    an https absolute-form target), as the indicator canonical form does.
 * The host comes from an absolute-form target, else from the first Host
 * header; without one (HTTP/1.0) only the uri is reported. CONNECT reports
 * the host of its authority and ends the direction (a tunnel follows);
 * "OPTIONS *" reports the host only.
 *
 * Framing follows RFC 9112 6: a body is skipped by Content-Length or by
 * chunked transfer coding (chunk sizes parsed, trailers skipped); without
 * either a request has no body. When the framing cannot be known
 * (conflicting Content-Length, a coding other than chunked last) the
 * request is still reported and the direction ends.
 *
 * Bounds: the request line may be HL_HTTP_REQLINE_MAX bytes (beyond: the
 * uri is dropped, the host still reported, counted as overflowed); header
 * lines are read one at a time, so a long Cookie costs nothing, but a Host,
 * Content-Length or Transfer-Encoding line must fit what remains of
 * HL_HTTP_BUF; a header section longer than HL_HTTP_HEADERS_MAX ends the
 * direction (overflowed, what was found reported). Bytes that are not an
 * HTTP/1.x request line (checked on the first 17 bytes: method token and
 * SP, then the version) end the direction after that bounded look
 * (not_http): the rest of the stream is not scanned.
 */
#ifndef HOTLINE_SENSOR_EXTRACT_HTTP_H
#define HOTLINE_SENSOR_EXTRACT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "extract.h"

#define HL_HTTP_BUF 4096     /* request target + the current header line */
#define HL_HTTP_HOST_MAX 260 /* Host value kept, with port, plus NUL */
#define HL_HTTP_LINE_MIN 512 /* line room left after the longest target */
#define HL_HTTP_REQLINE_MAX (HL_HTTP_BUF - HL_HTTP_HOST_MAX - HL_HTTP_LINE_MIN)
#define HL_HTTP_HEADERS_MAX 65536 /* request line + header section (or trailers) */
#define HL_HTTP_METHOD_MAX 16

enum hl_http_malformed {
	HL_HTTP_BAD_HOST,     /* Host with bytes no host has, too long, or overlong line */
	HL_HTTP_DUP_HOST,     /* a second Host header (the first one is used) */
	HL_HTTP_BAD_LENGTH,   /* Content-Length not a number, or two different ones */
	HL_HTTP_BAD_ENCODING, /* Transfer-Encoding whose last coding is not chunked */
	HL_HTTP_BAD_CHUNK,    /* chunk-size line or chunk end not as RFC 9112 7.1 */
	HL_HTTP_BAD_PORT,     /* port not 1..65535: left out of http.url */
	HL_HTTP_MALFORMED_COUNT
};

/* Counters, owned by the caller and only ever incremented. */
struct hl_http_stats {
	uint64_t requests;     /* request header sections parsed */
	uint64_t observations; /* values reported */
	uint64_t not_http;     /* directions given up: not an HTTP/1.x request */
	uint64_t malformed[HL_HTTP_MALFORMED_COUNT];
	uint64_t truncated;  /* the direction ended inside a request (finish) */
	uint64_t overflowed; /* request line or header section over its bound */
};

const char *hl_http_malformed_name(enum hl_http_malformed why);

/* One client->server direction: 4392 bytes (x86-64). */
struct hl_http_state {
	uint8_t phase;
	uint8_t blank_lines; /* empty lines before a request line */
	uint16_t flags;
	uint16_t target_len; /* request target kept at buf + HL_HTTP_HOST_MAX */
	uint16_t line_len;   /* current line, kept after the target */
	uint16_t host_len;   /* raw Host value (authority) in host */
	uint32_t head_bytes; /* bytes of this request's head (or trailers) */
	uint64_t body_left;  /* Content-Length or chunk bytes still to skip */
	uint64_t content_length;
	char host[HL_HTTP_HOST_MAX];
	char buf[HL_HTTP_BUF];
};

void hl_http_init(struct hl_http_state *s);
void hl_http_reset(struct hl_http_state *s);
/* Feed the next in-order bytes of the client direction. Returns 0 or the
 * callback's nonzero value (the direction is then stopped until reset).
 * fn may be NULL; st may be NULL. */
int hl_http_feed(struct hl_http_state *s, const uint8_t *data, size_t len, hl_observe_fn fn,
                 void *ctx, struct hl_http_stats *st);
/* The direction ended: inside a request counts as truncated; then reset. */
void hl_http_finish(struct hl_http_state *s, struct hl_http_stats *st);

#endif
