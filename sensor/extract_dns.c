/* \summary: DNS query names from UDP datagrams and TCP streams (RFC 1035)
 *
 * What is observed and what is refused: extract_dns.h. Every byte is read
 * through cursor.h; compression pointers re-seat a cursor at their target,
 * which must lie strictly before the previous one (tcpdump's fqdn_print
 * rule), so each name costs O(its wire length + hops).
 */
#include <stdbool.h>
#include <string.h>

#include "cursor.h"
#include "extract_dns.h"

#define DNS_HEADER_LEN 12
#define DNS_QR 0x8000u
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xfu)
#define DNS_OPCODE_QUERY 0u
#define DNS_WIRE_NAME_MAX 255

enum dns_rc {
	DNS_OK,
	DNS_TRUNC,    /* ran off the end of the bytes we have */
	DNS_MALFORMED /* why says which rule */
};

enum { TCP_LEN0, TCP_LEN1, TCP_BODY, TCP_SKIP, TCP_STOPPED };

static const char *const malformed_names[HL_DNS_MALFORMED_COUNT] = {
        [HL_DNS_BAD_QDCOUNT] = "bad_qdcount",   [HL_DNS_BAD_LABEL] = "bad_label",
        [HL_DNS_BAD_NAME_LEN] = "bad_name_len", [HL_DNS_BAD_POINTER] = "bad_pointer",
        [HL_DNS_BAD_HOPS] = "bad_hops",         [HL_DNS_BAD_CHAR] = "bad_char",
        [HL_DNS_BAD_LENGTH] = "bad_length",
};

const char *hl_dns_malformed_name(enum hl_dns_malformed why)
{
	if ((unsigned)why >= HL_DNS_MALFORMED_COUNT)
		return "unknown";
	return malformed_names[why];
}

/* Decode the name starting at *pos into out (dotted, not normalised) and
 * advance *pos past it in the message (past the first pointer, if any). */
static enum dns_rc read_name(const uint8_t *msg, size_t len, size_t *pos, char *out, size_t *outlen,
                             enum hl_dns_malformed *why)
{
	struct cursor c = cur_make(msg, len);
	if (!cur_skip(&c, *pos))
		return DNS_TRUNC;
	size_t limit = *pos; /* a pointer must land before this offset */
	size_t wire = 0, n = 0;
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;
		if (!cur_u8(&c, &l))
			return DNS_TRUNC;
		if ((l & 0xc0) == 0xc0) {
			uint8_t lo;
			if (!cur_u8(&c, &lo))
				return DNS_TRUNC;
			size_t target = (size_t)(l & 0x3f) << 8 | lo;
			if (!jumped) {
				*pos = len - c.left;
				jumped = true;
			}
			if (target >= limit || target < DNS_HEADER_LEN) {
				*why = HL_DNS_BAD_POINTER;
				return DNS_MALFORMED;
			}
			if (++hops > HL_DNS_MAX_HOPS) {
				*why = HL_DNS_BAD_HOPS;
				return DNS_MALFORMED;
			}
			limit = target;
			c = cur_make(msg, len);
			cur_skip(&c, target); /* target < limit <= len */
			continue;
		}
		if (l & 0xc0) {
			*why = HL_DNS_BAD_LABEL;
			return DNS_MALFORMED;
		}
		wire += (size_t)l + 1;
		if (wire > DNS_WIRE_NAME_MAX) {
			*why = HL_DNS_BAD_NAME_LEN;
			return DNS_MALFORMED;
		}
		if (l == 0)
			break;
		const uint8_t *label;
		if (!cur_bytes(&c, l, &label))
			return DNS_TRUNC;
		if (memchr(label, '\0', l) != NULL || memchr(label, '.', l) != NULL) {
			*why = HL_DNS_BAD_CHAR;
			return DNS_MALFORMED;
		}
		/* wire <= 255 keeps n + 1 + l <= 253 */
		if (n > 0)
			out[n++] = '.';
		memcpy(out + n, label, l);
		n += l;
	}
	if (!jumped)
		*pos = len - c.left;
	*outlen = n;
	return DNS_OK;
}

/* complete: msg holds the whole message. When it holds only the first
 * HL_DNS_TCP_KEEP bytes, running off the end is an overflow, not a
 * truncation. */
static int parse_message(const uint8_t *msg, size_t len, bool complete, hl_observe_fn fn, void *ctx,
                         struct hl_dns_stats *st)
{
	struct cursor c = cur_make(msg, len);
	uint16_t id, flags, qdcount;
	if (!cur_be16(&c, &id) || !cur_be16(&c, &flags) || !cur_be16(&c, &qdcount) ||
	    !cur_skip(&c, 6)) {
		if (complete)
			st->truncated++;
		else
			st->overflowed++;
		return 0;
	}
	st->messages++;
	if ((flags & DNS_QR) || DNS_OPCODE(flags) != DNS_OPCODE_QUERY) {
		st->skipped++;
		return 0;
	}
	st->queries++;
	if (qdcount > HL_DNS_MAX_QUESTIONS) {
		st->malformed[HL_DNS_BAD_QDCOUNT]++;
		return 0;
	}

	size_t pos = DNS_HEADER_LEN;
	for (unsigned q = 0; q < qdcount; q++) {
		char name[DNS_WIRE_NAME_MAX + 1];
		size_t n = 0;
		enum hl_dns_malformed why = HL_DNS_BAD_LABEL;
		enum dns_rc rc = read_name(msg, len, &pos, name, &n, &why);
		if (rc == DNS_MALFORMED) {
			st->malformed[why]++;
			return 0;
		}
		if (rc == DNS_TRUNC) {
			if (complete)
				st->truncated++;
			else
				st->overflowed++;
			return 0;
		}
		name[n] = '\0';
		hl_extract_lower(name, n);
		if (n > 0) {
			st->names++;
			int stop = hl_extract_emit(fn, ctx, HL_FIELD_DNS_QUERY, name, n);
			if (stop != 0)
				return stop;
		}
		/* QTYPE and QCLASS */
		if (len - pos < 4) {
			if (complete)
				st->truncated++;
			else
				st->overflowed++;
			return 0;
		}
		pos += 4;
	}
	return 0;
}

int hl_dns_parse(const uint8_t *msg, size_t len, hl_observe_fn fn, void *ctx,
                 struct hl_dns_stats *st)
{
	struct hl_dns_stats scratch;
	if (st == NULL) {
		memset(&scratch, 0, sizeof scratch);
		st = &scratch;
	}
	if (msg == NULL)
		len = 0;
	return parse_message(msg, len, true, fn, ctx, st);
}

void hl_dns_tcp_init(struct hl_dns_tcp *s)
{
	s->phase = TCP_LEN0;
	s->len_hi = 0;
	s->need = 0;
	s->kept = 0;
}

void hl_dns_tcp_reset(struct hl_dns_tcp *s)
{
	hl_dns_tcp_init(s);
}

int hl_dns_tcp_feed(struct hl_dns_tcp *s, const uint8_t *data, size_t len, hl_observe_fn fn,
                    void *ctx, struct hl_dns_stats *st)
{
	struct hl_dns_stats scratch;
	if (st == NULL) {
		memset(&scratch, 0, sizeof scratch);
		st = &scratch;
	}
	if (data == NULL)
		len = 0;
	struct cursor c = cur_make(data, len);
	int stop = 0;

	while (c.left > 0 && s->phase != TCP_STOPPED && stop == 0) {
		switch (s->phase) {
		case TCP_LEN0:
			cur_u8(&c, &s->len_hi);
			s->phase = TCP_LEN1;
			break;
		case TCP_LEN1: {
			uint8_t lo;
			cur_u8(&c, &lo);
			s->need = (uint16_t)(s->len_hi << 8 | lo);
			s->kept = 0;
			if (s->need == 0) {
				st->malformed[HL_DNS_BAD_LENGTH]++;
				s->phase = TCP_LEN0;
			} else {
				s->phase = TCP_BODY;
			}
			break;
		}
		case TCP_BODY: {
			const uint8_t *p;
			size_t mlen = s->need;
			if (s->kept == 0 && cur_bytes(&c, mlen, &p)) {
				/* whole message in this chunk: parse it where it lies,
				 * seeing no more of it than the buffered path would */
				s->need = 0;
				s->phase = TCP_LEN0;
				if (mlen > HL_DNS_TCP_KEEP)
					stop = parse_message(p, HL_DNS_TCP_KEEP, false, fn, ctx,
					                     st);
				else
					stop = parse_message(p, mlen, true, fn, ctx, st);
				break;
			}
			size_t n = c.left;
			if (n > s->need)
				n = s->need;
			if (n > (size_t)(HL_DNS_TCP_KEEP - s->kept))
				n = HL_DNS_TCP_KEEP - s->kept;
			cur_copy(&c, s->buf + s->kept, n);
			s->kept = (uint16_t)(s->kept + n);
			s->need = (uint16_t)(s->need - n);
			if (s->need == 0) {
				s->phase = TCP_LEN0;
				stop = parse_message(s->buf, s->kept, true, fn, ctx, st);
			} else if (s->kept == HL_DNS_TCP_KEEP) {
				s->phase = TCP_SKIP;
				stop = parse_message(s->buf, s->kept, false, fn, ctx, st);
			}
			break;
		}
		case TCP_SKIP: {
			size_t n = c.left < s->need ? c.left : s->need;
			cur_skip(&c, n);
			s->need = (uint16_t)(s->need - n);
			if (s->need == 0)
				s->phase = TCP_LEN0;
			break;
		}
		default:
			break;
		}
	}
	if (stop != 0)
		s->phase = TCP_STOPPED;
	return stop;
}

void hl_dns_tcp_finish(struct hl_dns_tcp *s, struct hl_dns_stats *st)
{
	if (st != NULL && (s->phase == TCP_LEN1 || s->phase == TCP_BODY))
		st->truncated++;
	hl_dns_tcp_reset(s);
}
