/* \summary: TLS ClientHello SNI and JA3/JA4 from the client direction
 *
 * The first handshake message of a client->server TCP direction is
 * reassembled from its records (several records, any chunking) up to
 * HL_TLS_HELLO_MAX bytes, then parsed (RFC 8446 4.1.2, RFC 6066 3):
 *  - the server_name extension's first host_name, ASCII lower-cased with
 *    one trailing dot dropped, is reported as HL_FIELD_TLS_SNI through the
 *    observation callback (an SNI carries no port: hl_name_normalise's
 *    ':' rule is not applied); a host_name that is empty, longer than 255
 *    bytes or holds a NUL is refused (bad_sni);
 *  - then the whole result (SNI, JA3 string and MD5, JA4) goes to the
 *    hello callback. JA3/JA4 are not match fields.
 * After the ClientHello the direction is done: the rest is encrypted or of
 * no interest and is not looked at. A direction that does not start with
 * a handshake record (not_tls), whose first handshake message is not a
 * ClientHello (not_client_hello, e.g. the server side), or that starts
 * with an SSLv2-compatible hello (sslv2: counted, ignored) is given up on
 * at once.
 */
#ifndef HOTLINE_SENSOR_EXTRACT_TLS_H
#define HOTLINE_SENSOR_EXTRACT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "ja3.h"

#define HL_TLS_HELLO_MAX 16384  /* handshake message kept, header included */
#define HL_TLS_RECORD_MAX 16384 /* plaintext record length (2^14) */
#define HL_TLS_SNI_MAX 255

enum hl_tls_malformed {
	HL_TLS_BAD_RECORD,    /* length 0 or > 2^14, or another type inside the hello */
	HL_TLS_BAD_HELLO,     /* ClientHello fields overrun its length */
	HL_TLS_BAD_EXTENSION, /* an extension's inner lengths are wrong (hello still used) */
	HL_TLS_BAD_SNI,       /* host_name empty, over 255 bytes, or with a NUL */
	HL_TLS_MALFORMED_COUNT
};

/* Counters, owned by the caller and only ever incremented. */
struct hl_tls_stats {
	uint64_t hellos;           /* ClientHellos parsed */
	uint64_t names;            /* SNI values reported */
	uint64_t not_tls;          /* directions not starting with a TLS handshake record */
	uint64_t not_client_hello; /* first handshake message not a ClientHello */
	uint64_t sslv2;            /* SSLv2-compatible ClientHellos: ignored */
	uint64_t malformed[HL_TLS_MALFORMED_COUNT];
	uint64_t truncated;          /* the direction ended inside the hello (finish) */
	uint64_t overflowed;         /* ClientHello larger than HL_TLS_HELLO_MAX */
	uint64_t fingerprint_errors; /* MD5 unavailable from libcrypto */
};

const char *hl_tls_malformed_name(enum hl_tls_malformed why);

/* What the hello callback gets; valid during the call only. */
struct hl_tls_hello {
	uint16_t version;             /* legacy_version */
	char sni[HL_TLS_SNI_MAX + 1]; /* normalised, NUL-terminated; "" without one */
	size_t sni_len;
	struct hl_ja3 ja3; /* string and MD5 */
	char ja4[HL_JA4_LEN + 1];
};

/* Return nonzero to stop (feed returns that value). */
typedef int (*hl_tls_hello_fn)(void *ctx, const struct hl_tls_hello *hello);

/* One client->server direction: 16404 bytes, almost all of it the
 * reassembly buffer for hellos split across records or segments (common:
 * post-quantum key shares make hellos of ~1.8 KiB, over one MSS). */
struct hl_tls_state {
	uint8_t phase;
	uint8_t hdr_have; /* bytes of the current record header */
	uint8_t hdr[5];
	uint16_t rec_left; /* bytes of the current record still to come */
	uint32_t have;     /* handshake bytes in buf */
	uint32_t need;     /* 4 + handshake length, once the header is in */
	uint8_t buf[HL_TLS_HELLO_MAX];
};

void hl_tls_init(struct hl_tls_state *s);
void hl_tls_reset(struct hl_tls_state *s);
/* Feed the next in-order bytes of the client direction. Returns 0 or a
 * callback's nonzero value (the direction is then stopped until reset).
 * Either callback may be NULL; one ctx serves both; st may be NULL. */
int hl_tls_feed(struct hl_tls_state *s, const uint8_t *data, size_t len, hl_observe_fn fn,
                hl_tls_hello_fn hello_fn, void *ctx, struct hl_tls_stats *st);
/* The direction ended: inside the hello counts as truncated; then reset. */
void hl_tls_finish(struct hl_tls_state *s, struct hl_tls_stats *st);

/* Parse a ClientHello body (after the 4-byte handshake header) into ch,
 * whose spans point into body. 0, or HL_EPARSE when the fixed fields or
 * the extension block overrun len; inner extension errors are only counted
 * in ch->bad_extensions. */
int hl_tls_parse_client_hello(const uint8_t *body, size_t len, struct hl_client_hello *ch);

#endif
