/* \summary: unit tests for TLS ClientHello reassembly, SNI and fingerprints
 *
 * The ClientHello is built here field by field. Its JA3 string was written
 * out by hand from the fields below and hashed with md5sum; its JA4 from
 * the hand-sorted lists hashed with sha256sum.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "extract_tls.h"

#define HELLO_JA3 "771,4865-4866-49195,0-10-11-13-16-43-23,29-23,0"
#define HELLO_JA3_MD5 "070795e2cfa412dddb1538630769185f"
#define HELLO_JA4 "t13d0307h2_5559582ccdc4_38dbf9c86be1"
#define NOSNI_JA3_MD5 "35475f26dc480a7c60618f6e99c989a9"
#define NOSNI_JA4 "t13i0306h2_5559582ccdc4_38dbf9c86be1"

struct buf {
	uint8_t b[20000];
	size_t n;
};

static void put8(struct buf *m, unsigned v)
{
	assert_true(m->n < sizeof m->b);
	m->b[m->n++] = (uint8_t)v;
}

static void put16(struct buf *m, unsigned v)
{
	put8(m, (v >> 8) & 0xff);
	put8(m, v & 0xff);
}

static void put_bytes(struct buf *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof m->b);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void patch16(struct buf *m, size_t at, size_t v)
{
	m->b[at] = (uint8_t)(v >> 8);
	m->b[at + 1] = (uint8_t)v;
}

/* The ClientHello body; sni NULL leaves the extension out. */
static void hello_body(struct buf *m, const char *sni, size_t sni_len)
{
	m->n = 0;
	put16(m, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(m, 0x11); /* random */
	put8(m, 32);
	for (int i = 0; i < 32; i++)
		put8(m, 0x22); /* session id */
	put16(m, 8);
	put16(m, 0x0a0a); /* GREASE */
	put16(m, 0x1301);
	put16(m, 0x1302);
	put16(m, 0xc02b);
	put8(m, 1);
	put8(m, 0);
	size_t exts = m->n;
	put16(m, 0);
	put16(m, 0x1a1a); /* GREASE extension, empty */
	put16(m, 0);
	if (sni != NULL) {
		put16(m, 0);
		put16(m, sni_len + 5);
		put16(m, sni_len + 3);
		put8(m, 0);
		put16(m, sni_len);
		put_bytes(m, sni, sni_len);
	}
	put16(m, 10); /* supported_groups */
	put16(m, 8);
	put16(m, 6);
	put16(m, 0x2a2a);
	put16(m, 0x001d);
	put16(m, 0x0017);
	put16(m, 11); /* ec_point_formats */
	put16(m, 2);
	put8(m, 1);
	put8(m, 0);
	put16(m, 13); /* signature_algorithms */
	put16(m, 6);
	put16(m, 4);
	put16(m, 0x0403);
	put16(m, 0x0804);
	put16(m, 16); /* ALPN: h2, http/1.1 */
	put16(m, 14);
	put16(m, 12);
	put8(m, 2);
	put_bytes(m, "h2", 2);
	put8(m, 8);
	put_bytes(m, "http/1.1", 8);
	put16(m, 43); /* supported_versions */
	put16(m, 7);
	put8(m, 6);
	put16(m, 0x3a3a);
	put16(m, 0x0304);
	put16(m, 0x0303);
	put16(m, 23); /* extended_master_secret */
	put16(m, 0);
	put16(m, 0x4a4a); /* GREASE extension with a byte */
	put16(m, 1);
	put8(m, 0);
	patch16(m, exts, m->n - exts - 2);
}

/* Handshake header + body, cut into records of at most rec bytes. */
static void records(struct buf *out, const struct buf *body, size_t rec)
{
	struct buf hs = {.n = 0};
	put8(&hs, 1);
	put8(&hs, (body->n >> 16) & 0xff);
	put16(&hs, body->n & 0xffff);
	put_bytes(&hs, body->b, body->n);
	out->n = 0;
	for (size_t off = 0; off < hs.n; off += rec) {
		size_t n = hs.n - off < rec ? hs.n - off : rec;
		put8(out, 22);
		put16(out, 0x0301);
		put16(out, n);
		put_bytes(out, hs.b + off, n);
	}
}

struct seen {
	int n, hellos;
	char sni[300];
	struct hl_tls_hello last;
	int stop_obs;
};

static int on_obs(void *ctx, const struct hl_observation *obs)
{
	struct seen *s = ctx;
	assert_int_equal(obs->field, HL_FIELD_TLS_SNI);
	assert_true(obs->len > 0 && obs->len < sizeof s->sni);
	assert_int_equal(obs->value[obs->len], '\0');
	memcpy(s->sni, obs->value, obs->len + 1);
	s->n++;
	return s->stop_obs;
}

static int on_hello(void *ctx, const struct hl_tls_hello *h)
{
	struct seen *s = ctx;
	s->hellos++;
	s->last = *h;
	return 0;
}

static int feed_all(const struct buf *stream, size_t cut, struct seen *s, struct hl_tls_stats *st)
{
	struct hl_tls_state *t = test_malloc(sizeof *t);
	hl_tls_init(t);
	int rc = hl_tls_feed(t, stream->b, cut, on_obs, on_hello, s, st);
	if (rc == 0)
		rc = hl_tls_feed(t, stream->b + cut, stream->n - cut, on_obs, on_hello, s, st);
	hl_tls_finish(t, st);
	test_free(t);
	return rc;
}

static void sni_and_fingerprints(void **state)
{
	(void)state;
	struct buf body, stream;
	struct seen s = {0};
	struct hl_tls_stats st = {0};
	const char *name = "Www.Example.COM.";
	hello_body(&body, name, strlen(name));
	records(&stream, &body, 16384);
	assert_int_equal(feed_all(&stream, stream.n, &s, &st), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.sni, "www.example.com");
	assert_int_equal(s.hellos, 1);
	assert_string_equal(s.last.sni, "www.example.com");
	assert_int_equal(s.last.sni_len, 15);
	assert_int_equal(s.last.version, 0x0303);
	assert_string_equal(s.last.ja3.str, HELLO_JA3);
	assert_string_equal(s.last.ja3.md5, HELLO_JA3_MD5);
	assert_string_equal(s.last.ja4, HELLO_JA4);
	assert_int_equal(st.hellos, 1);
	assert_int_equal(st.names, 1);
	assert_int_equal(st.truncated, 0);
	for (int i = 0; i < HL_TLS_MALFORMED_COUNT; i++)
		assert_int_equal(st.malformed[i], 0);

	/* bytes after the hello (the rest of the handshake) are not looked at */
	struct buf more = stream;
	put_bytes(&more, "\x17\x03\x03\x00\x01\xff", 6);
	memset(&s, 0, sizeof s);
	assert_int_equal(feed_all(&more, more.n, &s, &st), 0);
	assert_int_equal(s.hellos, 1);
}

static void split_records_and_chunks(void **state)
{
	(void)state;
	struct buf body, stream;
	struct hl_tls_stats st = {0};
	hello_body(&body, "split.example", 13);
	/* three records; the 4-byte handshake header split over two of them */
	size_t sizes[] = {2, 90, 16384};
	for (size_t r = 0; r < 3; r++) {
		records(&stream, &body, sizes[r]);
		for (size_t cut = 0; cut <= stream.n; cut++) {
			struct seen s = {0};
			assert_int_equal(feed_all(&stream, cut, &s, &st), 0);
			assert_int_equal(s.n, 1);
			assert_string_equal(s.sni, "split.example");
			assert_int_equal(s.hellos, 1);
			assert_string_equal(s.last.ja4, HELLO_JA4);
		}
	}
	/* and a byte at a time */
	records(&stream, &body, 100);
	struct seen s = {0};
	struct hl_tls_state *t = test_malloc(sizeof *t);
	hl_tls_init(t);
	for (size_t i = 0; i < stream.n; i++)
		assert_int_equal(hl_tls_feed(t, stream.b + i, 1, on_obs, on_hello, &s, &st), 0);
	test_free(t);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last.ja3.md5, HELLO_JA3_MD5);
	assert_int_equal(st.truncated, 0);
}

static void no_sni(void **state)
{
	(void)state;
	struct buf body, stream;
	struct seen s = {0};
	struct hl_tls_stats st = {0};
	hello_body(&body, NULL, 0);
	records(&stream, &body, 16384);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.hellos, 1);
	assert_string_equal(s.last.sni, "");
	assert_int_equal(s.last.sni_len, 0);
	assert_string_equal(s.last.ja3.md5, NOSNI_JA3_MD5);
	assert_string_equal(s.last.ja4, NOSNI_JA4);
	assert_int_equal(st.names, 0);
}

static void hostile_lengths(void **state)
{
	(void)state;
	struct buf body, stream;
	struct seen s = {0};
	struct hl_tls_stats st = {0};

	/* a handshake length over HL_TLS_HELLO_MAX */
	stream.n = 0;
	put_bytes(&stream, "\x16\x03\x01\x00\x04\x01\x00\x40\x00", 9);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.overflowed, 1);
	/* exactly the maximum is fine so far (then truncated) */
	stream.n = 0;
	put_bytes(&stream, "\x16\x03\x01\x00\x04\x01\x00\x3f\xfc", 9);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(st.truncated, 1);

	/* record lengths 0 and over 2^14 */
	memset(&st, 0, sizeof st);
	stream.n = 0;
	put_bytes(&stream, "\x16\x03\x01\x00\x00", 5);
	feed_all(&stream, stream.n, &s, &st);
	stream.n = 0;
	put_bytes(&stream, "\x16\x03\x01\x40\x01", 5);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_RECORD], 2);

	/* an alert record in the middle of the hello */
	hello_body(&body, "a.example", 9);
	records(&stream, &body, 50);
	stream.b[55] = 21;
	memset(&st, 0, sizeof st);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_RECORD], 1);
	assert_int_equal(s.hellos, 0);

	/* cipher_suites length overrunning the hello */
	hello_body(&body, "a.example", 9);
	patch16(&body, 2 + 32 + 1 + 32, 0x2000);
	records(&stream, &body, 16384);
	memset(&st, 0, sizeof st);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_HELLO], 1);
	assert_int_equal(s.n + s.hellos, 0);

	/* an odd cipher_suites length */
	hello_body(&body, "a.example", 9);
	patch16(&body, 2 + 32 + 1 + 32, 7);
	records(&stream, &body, 16384);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_HELLO], 2);

	/* a session id over 32 bytes */
	hello_body(&body, "a.example", 9);
	body.b[2 + 32] = 33;
	records(&stream, &body, 16384);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_HELLO], 3);

	/* the extensions block length overrunning the hello */
	hello_body(&body, "a.example", 9);
	patch16(&body, 2 + 32 + 1 + 32 + 2 + 8 + 2, 0xfff0);
	records(&stream, &body, 16384);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_HELLO], 4);
	assert_int_equal(s.n + s.hellos, 0);

	/* a host_name length overrunning its extension: no SNI, but the hello
	 * is still fingerprinted */
	hello_body(&body, "a.example", 9);
	size_t name_len_at = 2 + 32 + 1 + 32 + 2 + 8 + 2 + 2 + 4 + 4 + 2 + 1;
	assert_int_equal(body.b[name_len_at + 1], 9);
	patch16(&body, name_len_at, 200);
	records(&stream, &body, 16384);
	memset(&st, 0, sizeof st);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.malformed[HL_TLS_BAD_EXTENSION], 1);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.hellos, 1);
	assert_string_equal(s.last.sni, "");
	assert_string_equal(s.last.ja3.str, HELLO_JA3);

	/* a NUL in the name, an empty name, a 256-byte name: refused */
	char big[256];
	memset(big, 'a', sizeof big);
	const struct {
		const char *name;
		size_t len;
	} bad[] = {{"evil\0.example", 13}, {"", 0}, {big, 256}};
	for (size_t i = 0; i < 3; i++) {
		memset(&s, 0, sizeof s);
		memset(&st, 0, sizeof st);
		hello_body(&body, bad[i].name, bad[i].len);
		records(&stream, &body, 16384);
		feed_all(&stream, stream.n, &s, &st);
		assert_int_equal(st.malformed[HL_TLS_BAD_SNI], 1);
		assert_int_equal(s.n, 0);
		assert_int_equal(s.hellos, 1);
	}
	/* 255 bytes is the longest name */
	memset(&s, 0, sizeof s);
	hello_body(&body, big, 255);
	records(&stream, &body, 16384);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.sni), 255);
}

static void truncated_hello(void **state)
{
	(void)state;
	struct buf body, stream;
	struct hl_tls_stats st = {0};
	hello_body(&body, "t.example", 9);
	records(&stream, &body, 100);
	/* every cut short of the end: nothing reported, truncated counted */
	for (size_t cut = 1; cut < stream.n; cut++) {
		struct seen s = {0};
		struct hl_tls_state *t = test_malloc(sizeof *t);
		hl_tls_init(t);
		hl_tls_feed(t, stream.b, cut, on_obs, on_hello, &s, &st);
		hl_tls_finish(t, &st);
		test_free(t);
		assert_int_equal(s.n + s.hellos, 0);
	}
	assert_int_equal(st.truncated, stream.n - 1);
	assert_int_equal(st.hellos, 0);
}

static void not_a_client_hello(void **state)
{
	(void)state;
	struct buf stream;
	struct seen s = {0};
	struct hl_tls_stats st = {0};
	stream.n = 0;
	put_bytes(&stream, "GET / HTTP/1.1\r\n\r\n", 18);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.not_tls, 1);
	/* a ServerHello: the server's direction */
	stream.n = 0;
	put_bytes(&stream, "\x16\x03\x03\x00\x06\x02\x00\x00\x02\x03\x03", 11);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.not_client_hello, 1);
	/* an SSLv2-compatible ClientHello */
	stream.n = 0;
	put_bytes(&stream, "\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10", 11);
	feed_all(&stream, stream.n, &s, &st);
	assert_int_equal(st.sslv2, 1);
	assert_int_equal(s.n + s.hellos, 0);
	assert_int_equal(st.truncated, 0);
	assert_string_equal(hl_tls_malformed_name(HL_TLS_BAD_SNI), "bad_sni");
}

static void stop_and_null_callbacks(void **state)
{
	(void)state;
	struct buf body, stream;
	struct seen s = {.stop_obs = 7};
	struct hl_tls_stats st = {0};
	hello_body(&body, "stop.example", 12);
	records(&stream, &body, 16384);
	assert_int_equal(feed_all(&stream, stream.n, &s, &st), 7);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.hellos, 0);

	struct hl_tls_state *t = test_malloc(sizeof *t);
	hl_tls_init(t);
	assert_int_equal(hl_tls_feed(t, stream.b, stream.n, NULL, NULL, NULL, NULL), 0);
	hl_tls_reset(t);
	s.stop_obs = 0;
	assert_int_equal(hl_tls_feed(t, stream.b, stream.n, NULL, on_hello, &s, &st), 0);
	assert_int_equal(s.hellos, 1);
	assert_string_equal(s.last.sni, "stop.example");
	test_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(sni_and_fingerprints),
	        cmocka_unit_test(split_records_and_chunks),
	        cmocka_unit_test(no_sni),
	        cmocka_unit_test(hostile_lengths),
	        cmocka_unit_test(truncated_hello),
	        cmocka_unit_test(not_a_client_hello),
	        cmocka_unit_test(stop_and_null_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
