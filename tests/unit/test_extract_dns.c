/* \summary: unit tests for DNS query name extraction (UDP and TCP) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "extract_dns.h"

/* ---- message builder ---- */

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct msg *m, uint8_t v)
{
	assert_true(m->n < sizeof m->b);
	m->b[m->n++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void put_bytes(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof m->b);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Dotted text to labels, without the root byte. */
static void put_labels(struct msg *m, const char *dotted)
{
	while (*dotted != '\0') {
		const char *dot = strchr(dotted, '.');
		size_t l = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);
		put8(m, (uint8_t)l);
		put_bytes(m, dotted, l);
		dotted += l;
		if (*dotted == '.')
			dotted++;
	}
}

static void put_name(struct msg *m, const char *dotted)
{
	put_labels(m, dotted);
	put8(m, 0);
}

static void put_ptr(struct msg *m, uint16_t off)
{
	put16(m, (uint16_t)(0xc000 | off));
}

static void put_qtail(struct msg *m)
{
	put16(m, 1); /* A */
	put16(m, 1); /* IN */
}

static void header(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

static void query(struct msg *m, const char *name)
{
	header(m, 0x0100, 1, 0);
	put_name(m, name);
	put_qtail(m);
}

/* ---- observation collector ---- */

struct seen {
	int n;
	enum hl_field field[32];
	char value[32][300];
	int stop_after; /* return 1 once n reaches this; 0 = never */
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

/* ---- UDP ---- */

static void simple_query(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	query(&m, "www.example.com");
	assert_int_equal(hl_dns_parse(m.b, m.n, collect, &s, &st), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.field[0], HL_FIELD_DNS_QUERY);
	assert_string_equal(s.value[0], "www.example.com");
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.queries, 1);
	assert_int_equal(st.names, 1);
	assert_int_equal(st.truncated, 0);
}

static void mixed_case_and_dots(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	/* mixed case; a high byte is kept as is; the root name is not reported */
	header(&m, 0x0100, 3, 0);
	put_name(&m, "WwW.ExAmPlE.CoM");
	put_qtail(&m);
	put8(&m, 3);
	put_bytes(&m, "A\x80Z", 3);
	put_name(&m, "Org");
	put_qtail(&m);
	put8(&m, 0);
	put_qtail(&m);
	assert_int_equal(hl_dns_parse(m.b, m.n, collect, &s, &st), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.value[0], "www.example.com");
	assert_string_equal(s.value[1], "a\x80z.org");
	assert_int_equal(st.names, 2);

	/* a '.' inside a label would read as a different name: refused */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 1, 0);
	put8(&m, 7);
	put_bytes(&m, "evil.co", 7);
	put_name(&m, "uk");
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_CHAR], 1);

	/* so is a NUL */
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 1, 0);
	put8(&m, 3);
	put_bytes(&m, "a\0b", 3);
	put8(&m, 0);
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_CHAR], 1);

	/* a ':' is an ordinary byte, not a port: the name stays whole */
	memset(&st, 0, sizeof st);
	query(&m, "x:Evil.example");
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.value[0], "x:evil.example");
}

static void pointer_backwards_ok(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	header(&m, 0x0100, 3, 0);
	put_name(&m, "example.com"); /* at 12 */
	put_qtail(&m);
	put_labels(&m, "www"); /* www + -> example.com */
	put_ptr(&m, 12);
	put_qtail(&m);
	put_labels(&m, "mail"); /* mail + -> com (inside the first name) */
	put_ptr(&m, 12 + 8);
	put_qtail(&m);
	assert_int_equal(hl_dns_parse(m.b, m.n, collect, &s, &st), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.value[0], "example.com");
	assert_string_equal(s.value[1], "www.example.com");
	assert_string_equal(s.value[2], "mail.com");
	assert_int_equal(st.truncated, 0);
	for (int i = 0; i < HL_DNS_MALFORMED_COUNT; i++)
		assert_int_equal(st.malformed[i], 0);
}

static void pointer_forward_refused(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	header(&m, 0x0100, 2, 0);
	put_ptr(&m, 18); /* forward, to the second question */
	put_qtail(&m);
	put_name(&m, "example.com"); /* at 18 */
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_POINTER], 1);

	/* into the header */
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 1, 0);
	put_ptr(&m, 4);
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_POINTER], 1);
}

static void pointer_loop_refused(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	/* a pointer to its own name */
	header(&m, 0x0100, 1, 0);
	put_labels(&m, "a");
	put_ptr(&m, 12);
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_POINTER], 1);

	/* two pointers to each other: the second hop goes forward */
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 2, 0);
	put_ptr(&m, 18); /* at 12: -> 18 (forward, refused first anyway) */
	put_qtail(&m);
	put_ptr(&m, 12); /* at 18: -> 12 */
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_POINTER], 1);

	/* a question at 19 pointing back to 12 whose name points to 19: the
	 * second hop is not before the first target */
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 2, 0);
	put_name(&m, "a"); /* 12..14 */
	put_qtail(&m);     /* 15..18 */
	size_t q2 = m.n;   /* 19 */
	put_ptr(&m, 15);   /* -> 15, whose bytes we make a pointer to 19 */
	put_qtail(&m);
	m.b[15] = 0xc0;
	m.b[16] = (uint8_t)q2;
	/* question 1's QTYPE/QCLASS are now 0xc013 0x0001: still 4 bytes */
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 1); /* "a" */
	assert_string_equal(s.value[0], "a");
	assert_int_equal(st.malformed[HL_DNS_BAD_POINTER], 1);
}

static void pointer_hops_bounded(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	/* Question k (k >= 2) is one pointer to the last 2 bytes of question
	 * k-1, whose QTYPE/QCLASS bytes are two pointers chaining back: 3 hops
	 * per question, each strictly before the previous target. */
	header(&m, 0x0100, 7, 0);
	put_name(&m, "a"); /* 12 */
	size_t prev_name = 12;
	put_ptr(&m, (uint16_t)prev_name); /* its QTYPE: -> name */
	put_ptr(&m, (uint16_t)(m.n - 2)); /* its QCLASS: -> QTYPE */
	for (int k = 2; k <= 7; k++) {
		size_t name = m.n;
		put_ptr(&m, (uint16_t)(name - 2));
		put_ptr(&m, (uint16_t)name);
		put_ptr(&m, (uint16_t)(m.n - 2));
		prev_name = name;
	}
	(void)prev_name;
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	/* questions 1..6 need 0, 3, 6, 9, 12, 15 hops; question 7 needs 18 */
	assert_int_equal(s.n, 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(s.value[i], "a");
	assert_int_equal(st.malformed[HL_DNS_BAD_HOPS], 1);
	assert_int_equal(st.malformed[HL_DNS_BAD_POINTER], 0);
}

static void label_too_long_refused(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	char label[65];
	memset(label, 'a', 64);
	label[64] = '\0';
	query(&m, label); /* length byte 64 = 0x40: not a length */
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_LABEL], 1);

	/* 63 is fine */
	memset(&st, 0, sizeof st);
	label[63] = '\0';
	query(&m, label);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.value[0]), 63);

	/* four 63-byte labels: 256 bytes on the wire, one too many */
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 1, 0);
	for (int i = 0; i < 4; i++)
		put_labels(&m, label);
	put8(&m, 0);
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.malformed[HL_DNS_BAD_NAME_LEN], 1);

	/* three 63s and a 61: 255 bytes, the longest name, 253 characters */
	memset(&st, 0, sizeof st);
	header(&m, 0x0100, 1, 0);
	for (int i = 0; i < 3; i++)
		put_labels(&m, label);
	label[61] = '\0';
	put_labels(&m, label);
	put8(&m, 0);
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 2);
	assert_int_equal(strlen(s.value[1]), HL_DNS_NAME_MAX);
	assert_int_equal(st.malformed[HL_DNS_BAD_NAME_LEN], 0);
}

static void response_not_emitted(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	header(&m, 0x8180, 1, 1);
	put_name(&m, "evil.example");
	put_qtail(&m);
	put_ptr(&m, 12); /* answer */
	put_qtail(&m);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 4);
	put_bytes(&m, "\x0a\0\0\x01", 4);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.queries, 0);

	/* an UPDATE (opcode 5) has a zone, not a question: not observed */
	header(&m, 5 << 11, 1, 0);
	put_name(&m, "zone.example");
	put_qtail(&m);
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.skipped, 2);
}

static void qdcount_bounded(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	header(&m, 0x0100, HL_DNS_MAX_QUESTIONS + 1, 0);
	for (int i = 0; i <= HL_DNS_MAX_QUESTIONS; i++) {
		put_name(&m, "a.example");
		put_qtail(&m);
	}
	hl_dns_parse(m.b, m.n, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.malformed[HL_DNS_BAD_QDCOUNT], 1);
}

static void truncated_message(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	query(&m, "www.example.com");
	/* every cut inside the name: nothing reported, one truncation each */
	for (size_t cut = 0; cut < 12 + 17; cut++)
		hl_dns_parse(m.b, cut, collect, &s, &st);
	assert_int_equal(s.n, 0);
	assert_int_equal(st.truncated, 12 + 17);
	assert_int_equal(st.messages, 17);
	/* a whole name but no QTYPE/QCLASS: the name is reported */
	memset(&st, 0, sizeof st);
	hl_dns_parse(m.b, m.n - 1, collect, &s, &st);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.truncated, 1);
	/* NULL and empty input */
	memset(&st, 0, sizeof st);
	assert_int_equal(hl_dns_parse(NULL, 0, collect, &s, &st), 0);
	assert_int_equal(st.truncated, 1);
	assert_int_equal(hl_dns_parse(m.b, m.n, NULL, NULL, NULL), 0);
}

/* ---- TCP ---- */

static void frame(struct msg *stream, const struct msg *m)
{
	put16(stream, (uint16_t)m->n);
	put_bytes(stream, m->b, m->n);
}

static void tcp_two_in_one_chunk(void **state)
{
	(void)state;
	struct msg a, b, stream = {.n = 0};
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	struct hl_dns_tcp t;
	query(&a, "one.example");
	query(&b, "two.example");
	frame(&stream, &a);
	frame(&stream, &b);
	hl_dns_tcp_init(&t);
	assert_int_equal(hl_dns_tcp_feed(&t, stream.b, stream.n, collect, &s, &st), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.value[0], "one.example");
	assert_string_equal(s.value[1], "two.example");
	hl_dns_tcp_finish(&t, &st);
	assert_int_equal(st.truncated, 0);
	assert_int_equal(st.messages, 2);
}

static void tcp_split_byte_by_byte(void **state)
{
	(void)state;
	struct msg a, b, stream = {.n = 0};
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	struct hl_dns_tcp t;
	query(&a, "One.Example");
	header(&b, 0x0100, 2, 0);
	put_name(&b, "two.example");
	put_qtail(&b);
	put_labels(&b, "www");
	put_ptr(&b, 16); /* -> example */
	put_qtail(&b);
	frame(&stream, &a);
	frame(&stream, &b);
	hl_dns_tcp_init(&t);
	for (size_t i = 0; i < stream.n; i++)
		assert_int_equal(hl_dns_tcp_feed(&t, stream.b + i, 1, collect, &s, &st), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.value[0], "one.example");
	assert_string_equal(s.value[1], "two.example");
	assert_string_equal(s.value[2], "www.example");

	/* and at every split point of the two-message stream */
	for (size_t cut = 0; cut <= stream.n; cut++) {
		memset(&s, 0, sizeof s);
		hl_dns_tcp_reset(&t);
		hl_dns_tcp_feed(&t, stream.b, cut, collect, &s, &st);
		hl_dns_tcp_feed(&t, stream.b + cut, stream.n - cut, collect, &s, &st);
		assert_int_equal(s.n, 3);
		assert_string_equal(s.value[2], "www.example");
	}
}

static void tcp_truncated_and_zero_length(void **state)
{
	(void)state;
	struct msg a, stream = {.n = 0};
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	struct hl_dns_tcp t;
	query(&a, "late.example");
	put16(&stream, 0); /* empty message: counted, skipped */
	frame(&stream, &a);
	hl_dns_tcp_init(&t);
	hl_dns_tcp_feed(&t, stream.b, stream.n - 3, collect, &s, &st);
	assert_int_equal(st.malformed[HL_DNS_BAD_LENGTH], 1);
	assert_int_equal(s.n, 0); /* message incomplete: not parsed yet */
	hl_dns_tcp_finish(&t, &st);
	assert_int_equal(st.truncated, 1);
	assert_int_equal(s.n, 0);
	/* finish reset the state: a fresh stream parses */
	hl_dns_tcp_feed(&t, stream.b, stream.n, collect, &s, &st);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.value[0], "late.example");
}

static void tcp_long_message_overflows(void **state)
{
	(void)state;
	struct msg big, many, after, stream = {.n = 0};
	struct seen s = {0};
	struct hl_dns_stats st = {0};
	struct hl_dns_tcp t;
	/* one question then 700 bytes of additional data: name kept, rest skipped */
	header(&big, 0x0100, 1, 0);
	put_name(&big, "first.example");
	put_qtail(&big);
	for (int i = 0; i < 700; i++)
		put8(&big, 0xee);
	/* 16 questions of ~60 bytes: those past HL_DNS_TCP_KEEP overflow */
	header(&many, 0x0100, 16, 0);
	char name[64];
	for (int i = 0; i < 16; i++) {
		memset(name, 'a' + i, 50);
		name[50] = '\0';
		put_name(&many, name);
		put_qtail(&many);
	}
	query(&after, "after.example");
	frame(&stream, &big);
	frame(&stream, &many);
	frame(&stream, &after);
	hl_dns_tcp_init(&t);
	/* in 100-byte chunks, so the buffer path is taken */
	for (size_t off = 0; off < stream.n; off += 100) {
		size_t n = stream.n - off < 100 ? stream.n - off : 100;
		hl_dns_tcp_feed(&t, stream.b + off, n, collect, &s, &st);
	}
	/* 8 questions of 56 bytes end at 460; the 9th name ends at 512
	 * exactly (reported), its QTYPE overflows */
	assert_int_equal(s.n, 1 + 9 + 1);
	assert_string_equal(s.value[0], "first.example");
	assert_int_equal(s.value[9][0], 'a' + 8);
	assert_string_equal(s.value[10], "after.example");
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(st.truncated, 0);
	assert_int_equal(st.messages, 3);

	/* in one chunk: the same names, whatever the segmentation */
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	hl_dns_tcp_reset(&t);
	hl_dns_tcp_feed(&t, stream.b, stream.n, collect, &s, &st);
	assert_int_equal(s.n, 1 + 9 + 1);
	assert_int_equal(st.overflowed, 1);
}

static void tcp_stop_stops_direction(void **state)
{
	(void)state;
	struct msg a, b, stream = {.n = 0};
	struct seen s = {.stop_after = 1};
	struct hl_dns_stats st = {0};
	struct hl_dns_tcp t;
	query(&a, "one.example");
	query(&b, "two.example");
	frame(&stream, &a);
	frame(&stream, &b);
	hl_dns_tcp_init(&t);
	assert_int_equal(hl_dns_tcp_feed(&t, stream.b, stream.n, collect, &s, &st), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(hl_dns_tcp_feed(&t, stream.b, stream.n, collect, &s, &st), 0);
	assert_int_equal(s.n, 1);
	hl_dns_tcp_reset(&t);
	s.stop_after = 0;
	assert_int_equal(hl_dns_tcp_feed(&t, stream.b, stream.n, collect, &s, &st), 0);
	assert_int_equal(s.n, 3);
}

static void malformed_names_are_named(void **state)
{
	(void)state;
	assert_string_equal(hl_dns_malformed_name(HL_DNS_BAD_POINTER), "bad_pointer");
	assert_string_equal(hl_dns_malformed_name(HL_DNS_BAD_LENGTH), "bad_length");
	assert_string_equal(hl_dns_malformed_name(HL_DNS_MALFORMED_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(simple_query),
	        cmocka_unit_test(mixed_case_and_dots),
	        cmocka_unit_test(pointer_backwards_ok),
	        cmocka_unit_test(pointer_forward_refused),
	        cmocka_unit_test(pointer_loop_refused),
	        cmocka_unit_test(pointer_hops_bounded),
	        cmocka_unit_test(label_too_long_refused),
	        cmocka_unit_test(response_not_emitted),
	        cmocka_unit_test(qdcount_bounded),
	        cmocka_unit_test(truncated_message),
	        cmocka_unit_test(tcp_two_in_one_chunk),
	        cmocka_unit_test(tcp_split_byte_by_byte),
	        cmocka_unit_test(tcp_truncated_and_zero_length),
	        cmocka_unit_test(tcp_long_message_overflows),
	        cmocka_unit_test(tcp_stop_stops_direction),
	        cmocka_unit_test(malformed_names_are_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
