/* \summary: unit tests for HTTP/1.x Host and request target extraction */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "extract_http.h"

struct seen {
	int n;
	enum hl_field field[32];
	char value[32][600];
	int stop_after;
};

static int collect(void *ctx, const struct hl_observation *obs)
{
	struct seen *s = ctx;
	assert_true(obs->len > 0);
	assert_int_equal(obs->value[obs->len], '\0');
	assert_true(s->n < 32);
	assert_true(obs->len < sizeof s->value[0]);
	s->field[s->n] = obs->field;
	memcpy(s->value[s->n], obs->value, obs->len + 1);
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

static void expect(const struct seen *s, int i, enum hl_field field, const char *value)
{
	assert_true(i < s->n);
	assert_int_equal(s->field[i], field);
	assert_string_equal(s->value[i], value);
}

/* Feed text in one chunk into a fresh state. */
static int run(const char *text, struct seen *s, struct hl_http_stats *st)
{
	struct hl_http_state h;
	hl_http_init(&h);
	int rc = hl_http_feed(&h, (const uint8_t *)text, strlen(text), collect, s, st);
	hl_http_finish(&h, st);
	return rc;
}

static void get_with_host_port(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	run("GET /a/b?q=1 HTTP/1.1\r\nUser-Agent: t\r\nhOsT:   WWW.Example.COM:8080 \r\n"
	    "Accept: */*\r\n\r\n",
	    &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "www.example.com");
	expect(&s, 1, HL_FIELD_HTTP_URI, "/a/b?q=1");
	expect(&s, 2, HL_FIELD_HTTP_URL, "www.example.com:8080/a/b?q=1");
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.observations, 3);
	assert_int_equal(st.truncated, 0);

	/* the default port and a trailing dot are dropped from the url */
	memset(&s, 0, sizeof s);
	run("GET / HTTP/1.1\r\nHost: Example.com.:80\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "example.com");
	expect(&s, 2, HL_FIELD_HTTP_URL, "example.com/");

	/* IPv6 literal: brackets kept in the url only; bare LF line ends */
	memset(&s, 0, sizeof s);
	run("GET /v6 HTTP/1.1\nHost: [2001:DB8::1]:8080\n\n", &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "2001:db8::1");
	expect(&s, 2, HL_FIELD_HTTP_URL, "[2001:db8::1]:8080/v6");

	/* a port that is no port: kept out of the url, counted */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	run("GET /x HTTP/1.1\r\nHost: a.example:99999\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "a.example");
	expect(&s, 2, HL_FIELD_HTTP_URL, "a.example/x");
	assert_int_equal(st.malformed[HL_HTTP_BAD_PORT], 1);
}

static void absolute_form_target(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	run("GET http://user:pw@Proxy.Example:8080/p?q HTTP/1.1\r\nHost: other.example\r\n\r\n", &s,
	    &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "proxy.example");
	expect(&s, 1, HL_FIELD_HTTP_URI, "/p?q");
	expect(&s, 2, HL_FIELD_HTTP_URL, "proxy.example:8080/p?q");
	assert_int_equal(st.malformed[HL_HTTP_DUP_HOST], 0);

	/* https default port, empty path */
	memset(&s, 0, sizeof s);
	run("GET HTTPS://secure.example:443?x=1 HTTP/1.1\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "secure.example");
	expect(&s, 1, HL_FIELD_HTTP_URI, "/?x=1");
	expect(&s, 2, HL_FIELD_HTTP_URL, "secure.example/?x=1");

	memset(&s, 0, sizeof s);
	run("GET http://plain.example HTTP/1.0\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 1, HL_FIELD_HTTP_URI, "/");
	expect(&s, 2, HL_FIELD_HTTP_URL, "plain.example/");
}

static const char pipelined[] =
        "GET /one HTTP/1.1\r\nHost: a.example\r\n\r\n"
        "HEAD /two?x HTTP/1.1\r\nHost: B.example\r\nConnection: close\r\n\r\n";

static void pipelined_requests(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	run(pipelined, &s, &st);
	assert_int_equal(s.n, 6);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "a.example");
	expect(&s, 1, HL_FIELD_HTTP_URI, "/one");
	expect(&s, 2, HL_FIELD_HTTP_URL, "a.example/one");
	expect(&s, 3, HL_FIELD_HTTP_HOST, "b.example");
	expect(&s, 4, HL_FIELD_HTTP_URI, "/two?x");
	expect(&s, 5, HL_FIELD_HTTP_URL, "b.example/two?x");
	assert_int_equal(st.requests, 2);
}

static void split_at_every_byte(void **state)
{
	(void)state;
	const char *req =
	        "POST http://Split.Example:81/s?a=b HTTP/1.1\r\nHost: x\r\n"
	        "Content-Length: 4\r\n\r\nbodyGET /after HTTP/1.1\r\nHost: y.example\r\n\r\n";
	size_t n = strlen(req);
	struct hl_http_state h;
	for (size_t cut = 0; cut <= n; cut++) {
		struct seen s = {0};
		struct hl_http_stats st = {0};
		hl_http_init(&h);
		hl_http_feed(&h, (const uint8_t *)req, cut, collect, &s, &st);
		hl_http_feed(&h, (const uint8_t *)req + cut, n - cut, collect, &s, &st);
		hl_http_finish(&h, &st);
		assert_int_equal(s.n, 6);
		expect(&s, 0, HL_FIELD_HTTP_HOST, "split.example");
		expect(&s, 1, HL_FIELD_HTTP_URI, "/s?a=b");
		expect(&s, 2, HL_FIELD_HTTP_URL, "split.example:81/s?a=b");
		expect(&s, 5, HL_FIELD_HTTP_URL, "y.example/after");
		assert_int_equal(st.truncated, 0);
	}
	/* and one byte at a time */
	struct seen s = {0};
	struct hl_http_stats st = {0};
	hl_http_init(&h);
	for (size_t i = 0; i < n; i++)
		hl_http_feed(&h, (const uint8_t *)req + i, 1, collect, &s, &st);
	assert_int_equal(s.n, 6);
	expect(&s, 4, HL_FIELD_HTTP_URI, "/after");
}

static void header_section_over_cap(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	struct hl_http_state h;
	/* a 6000-byte Cookie line is skipped over, not fatal */
	char *cookie = malloc(6000);
	assert_non_null(cookie);
	memset(cookie, 'c', 6000);
	const char *head = "GET /c HTTP/1.1\r\nCookie: ";
	const char *tail = "\r\nHost: cookie.example\r\n\r\n";
	hl_http_init(&h);
	hl_http_feed(&h, (const uint8_t *)head, strlen(head), collect, &s, &st);
	hl_http_feed(&h, (const uint8_t *)cookie, 6000, collect, &s, &st);
	hl_http_feed(&h, (const uint8_t *)tail, strlen(tail), collect, &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 2, HL_FIELD_HTTP_URL, "cookie.example/c");
	assert_int_equal(st.overflowed, 0);
	free(cookie);

	/* over HL_HTTP_HEADERS_MAX: what was found is reported, the direction
	 * ends */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	hl_http_init(&h);
	const char *start = "GET /big HTTP/1.1\r\nHost: big.example\r\n";
	hl_http_feed(&h, (const uint8_t *)start, strlen(start), collect, &s, &st);
	const char *filler = "X-Filler: 0123456789012345678901234567890123456789\r\n";
	for (size_t total = 0; total <= HL_HTTP_HEADERS_MAX; total += strlen(filler))
		hl_http_feed(&h, (const uint8_t *)filler, strlen(filler), collect, &s, &st);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(s.n, 3);
	expect(&s, 2, HL_FIELD_HTTP_URL, "big.example/big");
	hl_http_feed(&h, (const uint8_t *)pipelined, strlen(pipelined), collect, &s, &st);
	assert_int_equal(s.n, 3);
	assert_int_equal(st.requests, 0);

	/* a request line over HL_HTTP_REQLINE_MAX: no uri, host still */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	char *line = malloc(HL_HTTP_REQLINE_MAX + 200);
	assert_non_null(line);
	memcpy(line, "GET /", 5);
	memset(line + 5, 'u', HL_HTTP_REQLINE_MAX + 200 - 5);
	const char *rest = " HTTP/1.1\r\nHost: long.example\r\n\r\nGET /ok HTTP/1.1\r\n\r\n";
	hl_http_init(&h);
	hl_http_feed(&h, (const uint8_t *)line, HL_HTTP_REQLINE_MAX + 200, collect, &s, &st);
	hl_http_feed(&h, (const uint8_t *)rest, strlen(rest), collect, &s, &st);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(s.n, 2);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "long.example");
	expect(&s, 1, HL_FIELD_HTTP_URI, "/ok");
	free(line);
}

static void content_length_body_skipped(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	run("POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 42\r\n\r\n"
	    "GET /fake HTTP/1.1\r\nHost: fake.example\r\n\r\n" /* exactly 42 bytes */
	    "GET /real HTTP/1.1\r\nHost: real.example\r\n\r\n",
	    &s, &st);
	assert_int_equal(s.n, 6);
	expect(&s, 1, HL_FIELD_HTTP_URI, "/form");
	expect(&s, 3, HL_FIELD_HTTP_HOST, "real.example");
	expect(&s, 4, HL_FIELD_HTTP_URI, "/real");
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.truncated, 0);
}

static void chunked_body_skipped(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	const char *req =
	        "POST /up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: gzip, Chunked\r\n"
	        "Content-Length: 3\r\n\r\n"
	        "1f;ext=1\r\nGET /fake HTTP/1.1\r\nHost: f\r\n\r\n\r\n"
	        "5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
	        "GET /next HTTP/1.1\r\nHost: b.example\r\n\r\n";
	run(req, &s, &st);
	assert_int_equal(s.n, 6);
	expect(&s, 1, HL_FIELD_HTTP_URI, "/up");
	expect(&s, 4, HL_FIELD_HTTP_URI, "/next");
	expect(&s, 5, HL_FIELD_HTTP_URL, "b.example/next");
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.malformed[HL_HTTP_BAD_CHUNK], 0);

	/* split at every byte, too */
	size_t n = strlen(req);
	for (size_t cut = 0; cut <= n; cut++) {
		struct hl_http_state h;
		memset(&s, 0, sizeof s);
		hl_http_init(&h);
		hl_http_feed(&h, (const uint8_t *)req, cut, collect, &s, &st);
		hl_http_feed(&h, (const uint8_t *)req + cut, n - cut, collect, &s, &st);
		assert_int_equal(s.n, 6);
		expect(&s, 4, HL_FIELD_HTTP_URI, "/next");
	}

	/* a bad chunk size ends the direction */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	run("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
	    "GET /next HTTP/1.1\r\n\r\n",
	    &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.malformed[HL_HTTP_BAD_CHUNK], 1);

	/* as does a missing CRLF after the chunk data */
	memset(&s, 0, sizeof s);
	run("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"
	    "GET /next HTTP/1.1\r\n\r\n",
	    &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.malformed[HL_HTTP_BAD_CHUNK], 2);
}

static void framing_unknown_ends_direction(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	run("POST /a HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
	    "GET /b HTTP/1.1\r\n\r\n",
	    &s, &st);
	assert_int_equal(s.n, 3);
	assert_int_equal(st.malformed[HL_HTTP_BAD_LENGTH], 1);

	memset(&s, 0, sizeof s);
	run("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
	    &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.malformed[HL_HTTP_BAD_ENCODING], 1);

	memset(&s, 0, sizeof s);
	run("POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.malformed[HL_HTTP_BAD_LENGTH], 2);
}

static void host_rules(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	/* HTTP/1.0 without Host: the uri alone */
	run("GET /old HTTP/1.0\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 1);
	expect(&s, 0, HL_FIELD_HTTP_URI, "/old");

	/* a second Host is counted, the first one used */
	memset(&s, 0, sizeof s);
	run("GET / HTTP/1.1\r\nHost: first.example\r\nHost: second.example\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 3);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "first.example");
	assert_int_equal(st.malformed[HL_HTTP_DUP_HOST], 1);

	/* a Host no host has: uri only */
	memset(&s, 0, sizeof s);
	run("GET /p HTTP/1.1\r\nHost: evil.example/x\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 1);
	expect(&s, 0, HL_FIELD_HTTP_URI, "/p");
	assert_int_equal(st.malformed[HL_HTTP_BAD_HOST], 1);

	/* CONNECT: the host, then a tunnel that is not looked at */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	run("CONNECT Evil.Example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	    &s, &st);
	assert_int_equal(s.n, 1);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "evil.example");
	assert_int_equal(st.not_http, 0);

	/* OPTIONS *: the host only */
	memset(&s, 0, sizeof s);
	run("OPTIONS * HTTP/1.1\r\nHost: opt.example\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 1);
	expect(&s, 0, HL_FIELD_HTTP_HOST, "opt.example");
}

static void not_http_stops_early(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	struct hl_http_state h;
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00};
	hl_http_init(&h);
	hl_http_feed(&h, tls, sizeof tls, collect, &s, &st);
	assert_int_equal(st.not_http, 1);
	/* later bytes, even a valid request, are not looked at */
	hl_http_feed(&h, (const uint8_t *)pipelined, strlen(pipelined), collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.not_http, 1);
	hl_http_finish(&h, &st);
	assert_int_equal(st.truncated, 0);

	const char *texts[] = {
	        "SSH-2.0-OpenSSH_9.6p1 Ubuntu\r\n",     /* no SP within the method bound */
	        "HTTP/1.1 200 OK\r\n\r\n",              /* a response: '/' is no tchar */
	        "GET /x\r\n\r\n",                       /* HTTP/0.9 */
	        "GET /x HTTP/2.0\r\n\r\n",              /* not 1.x */
	        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",     /* h2 prior knowledge */
	        "GET /a\x01z HTTP/1.1\r\n\r\n",         /* control byte in the target */
	        "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", /* nine empty lines */
	        "hello world, this is not http at all\r\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		memset(&st, 0, sizeof st);
		run(texts[i], &s, &st);
		assert_int_equal(s.n, 0);
		assert_int_equal(st.not_http, 1);
	}

	/* binary garbage is refused within the first bytes, before any LF */
	memset(&st, 0, sizeof st);
	hl_http_init(&h);
	hl_http_feed(&h, (const uint8_t *)"GETX", 4, collect, &s, &st);
	assert_int_equal(st.not_http, 0);
	hl_http_feed(&h, (const uint8_t *)"\x00\xff", 2, collect, &s, &st);
	assert_int_equal(st.not_http, 1);

	/* a few empty lines before a request are fine */
	memset(&st, 0, sizeof st);
	run("\r\n\r\nGET /late HTTP/1.1\r\n\r\n", &s, &st);
	assert_int_equal(s.n, 1);
	expect(&s, 0, HL_FIELD_HTTP_URI, "/late");
}

static void truncated_and_stop(void **state)
{
	(void)state;
	struct seen s = {0};
	struct hl_http_stats st = {0};
	run("GET /t HTTP/1.1\r\nHost: t.example\r\n", &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.truncated, 1);
	run("POST /t HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", &s, &st);
	assert_int_equal(st.truncated, 2);
	run("GE", &s, &st);
	assert_int_equal(st.truncated, 3);

	/* a callback's nonzero return stops the direction */
	memset(&s, 0, sizeof s);
	s.stop_after = 2;
	struct hl_http_state h;
	hl_http_init(&h);
	assert_int_equal(
	        hl_http_feed(&h, (const uint8_t *)pipelined, strlen(pipelined), collect, &s, &st),
	        1);
	assert_int_equal(s.n, 2);
	assert_int_equal(
	        hl_http_feed(&h, (const uint8_t *)pipelined, strlen(pipelined), collect, &s, &st),
	        0);
	assert_int_equal(s.n, 2);
	hl_http_reset(&h);
	s.stop_after = 0;
	hl_http_feed(&h, (const uint8_t *)pipelined, strlen(pipelined), collect, &s, &st);
	assert_int_equal(s.n, 8);
	/* no callback, no stats: still safe */
	hl_http_reset(&h);
	assert_int_equal(
	        hl_http_feed(&h, (const uint8_t *)pipelined, strlen(pipelined), NULL, NULL, NULL),
	        0);
	assert_string_equal(hl_http_malformed_name(HL_HTTP_BAD_CHUNK), "bad_chunk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(get_with_host_port),
	        cmocka_unit_test(absolute_form_target),
	        cmocka_unit_test(pipelined_requests),
	        cmocka_unit_test(split_at_every_byte),
	        cmocka_unit_test(header_section_over_cap),
	        cmocka_unit_test(content_length_body_skipped),
	        cmocka_unit_test(chunked_body_skipped),
	        cmocka_unit_test(framing_unknown_ends_direction),
	        cmocka_unit_test(host_rules),
	        cmocka_unit_test(not_http_stops_early),
	        cmocka_unit_test(truncated_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
