/* \summary: DNS query names from UDP datagrams and TCP streams (RFC 1035)
 *
 * Only the question section of standard queries (QR=0, opcode QUERY) is
 * observed, as HL_FIELD_DNS_QUERY: names in responses (their echoed question
 * included), answers, authority and additional records are never reported,
 * so an answer can never be matched as if it were a query.
 *
 * Names are refused (counted as malformed, the rest of the message skipped)
 * when a label is longer than 63 bytes, the name longer than 255 bytes on
 * the wire, a compression pointer does not move strictly backwards (before
 * the start of the name, then before the previous pointer's target; so no
 * loop is possible) or points into the header, more than
 * HL_DNS_MAX_HOPS pointers are followed, or a label contains a NUL or a '.'
 * (both would make the dotted form ambiguous). Other bytes, printable or
 * not, are kept as they are; only ASCII A-Z is lower-cased. The root name is
 * not reported. hl_name_normalise is not used: a DNS name carries no port,
 * and its ':' rule would shorten "x:evil.example" to "x".
 */
#ifndef HOTLINE_SENSOR_EXTRACT_DNS_H
#define HOTLINE_SENSOR_EXTRACT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "extract.h"

#define HL_DNS_MAX_QUESTIONS 16 /* QDCOUNT above this: malformed */
#define HL_DNS_MAX_HOPS 16      /* compression pointers followed per name */
#define HL_DNS_NAME_MAX 253     /* dotted name length (255 on the wire) */
/* TCP: bytes of each message kept for parsing. Header plus one maximal
 * question is 271 bytes; questions beyond the first HL_DNS_TCP_KEEP bytes of
 * a message are counted as overflowed and the rest of the message skipped. */
#define HL_DNS_TCP_KEEP 512

enum hl_dns_malformed {
	HL_DNS_BAD_QDCOUNT,  /* QDCOUNT > HL_DNS_MAX_QUESTIONS */
	HL_DNS_BAD_LABEL,    /* label length > 63 (label types 0x40, 0x80) */
	HL_DNS_BAD_NAME_LEN, /* name longer than 255 bytes on the wire */
	HL_DNS_BAD_POINTER,  /* pointer not strictly backwards, or into the header */
	HL_DNS_BAD_HOPS,     /* more than HL_DNS_MAX_HOPS pointers in one name */
	HL_DNS_BAD_CHAR,     /* NUL or '.' inside a label */
	HL_DNS_BAD_LENGTH,   /* TCP length prefix of zero */
	HL_DNS_MALFORMED_COUNT
};

/* Counters, owned by the caller and only ever incremented. */
struct hl_dns_stats {
	uint64_t messages; /* messages with a complete header */
	uint64_t queries;  /* of which standard queries (QR=0, opcode QUERY) */
	uint64_t skipped;  /* of which responses or other opcodes: not observed */
	uint64_t names;    /* names reported */
	uint64_t malformed[HL_DNS_MALFORMED_COUNT];
	uint64_t truncated;  /* message ended inside its header or question section */
	uint64_t overflowed; /* TCP: questions beyond HL_DNS_TCP_KEEP bytes */
};

/* "bad_qdcount", ...: stable names for stats output. */
const char *hl_dns_malformed_name(enum hl_dns_malformed why);

/* One message (a UDP payload). Returns 0, or the callback's nonzero value
 * when it stopped. fn may be NULL (count only); st may be NULL. */
int hl_dns_parse(const uint8_t *msg, size_t len, hl_observe_fn fn, void *ctx,
                 struct hl_dns_stats *st);

/* One TCP direction: messages each preceded by a 2-byte length (RFC 1035
 * 4.2.2), several per stream, split anywhere across chunks. 518 bytes. */
struct hl_dns_tcp {
	uint8_t phase;
	uint8_t len_hi; /* first byte of a split length prefix */
	uint16_t need;  /* bytes of the current message still to come */
	uint16_t kept;  /* bytes of it held in buf */
	uint8_t buf[HL_DNS_TCP_KEEP];
};

void hl_dns_tcp_init(struct hl_dns_tcp *s);
/* Same as init: forget any partial message (flow reuse). */
void hl_dns_tcp_reset(struct hl_dns_tcp *s);
/* Feed the next in-order bytes. Returns 0 or the callback's nonzero value
 * (the direction is then stopped until reset). */
int hl_dns_tcp_feed(struct hl_dns_tcp *s, const uint8_t *data, size_t len, hl_observe_fn fn,
                    void *ctx, struct hl_dns_stats *st);
/* The direction ended: a partial message counts as truncated; then reset. */
void hl_dns_tcp_finish(struct hl_dns_tcp *s, struct hl_dns_stats *st);

#endif
