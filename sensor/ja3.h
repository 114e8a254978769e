/* \summary: JA3 and JA4 TLS client fingerprints of a parsed ClientHello
 *
 * JA3 (github.com/salesforce/ja3): the decimal values of
 *   SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
 * each list '-'-joined in wire order, GREASE values (RFC 8701: 0x0a0a,
 * 0x1a1a, ... 0xfafa) left out, empty lists left empty ("769,4-5,,,"),
 * and the MD5 of that string in lower-case hex. SSLVersion is the
 * ClientHello's legacy_version, not the record's nor supported_versions.
 *
 * JA4 (github.com/FoxIO-LLC/ja4, technical_details/JA4.md), TCP only:
 *   t VV d|i CC EE AA _ sha256(sorted ciphers)[:12] _ sha256(sorted exts
 *   without SNI and ALPN "_" signature algorithms in order)[:12]
 * with VV the highest supported_versions value (else legacy_version),
 * counts capped at 99, AA the first and last characters of the first ALPN
 * value ("00" without; their hex digits when not alphanumeric), values as
 * 4-digit lower-case hex, ',' joined, GREASE left out everywhere, and
 * "000000000000" for an empty list (as the reference implementation does).
 */
#ifndef HOTLINE_SENSOR_JA3_H
#define HOTLINE_SENSOR_JA3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes borrowed from the message being parsed. */
struct hl_span {
	const uint8_t *p;
	size_t len;
};

/* What the fingerprints need from a ClientHello (extract_tls.c fills it
 * from the wire; hl_tls_parse_client_hello). Lists are the raw wire bytes:
 * big-endian u16 values, point formats u8 values. */
struct hl_client_hello {
	uint16_t version;             /* legacy_version */
	struct hl_span ciphers;       /* cipher_suites */
	struct hl_span extensions;    /* the block: (type u16, length u16, data)* */
	struct hl_span groups;        /* supported_groups (10) */
	struct hl_span point_formats; /* ec_point_formats (11) */
	struct hl_span sig_algs;      /* signature_algorithms (13) */
	struct hl_span versions;      /* supported_versions (43) */
	struct hl_span alpn;          /* first protocol of ALPN (16) */
	struct hl_span sni;           /* first host_name of server_name (0); p NULL if none */
	bool has_sni;                 /* server_name extension present */
	unsigned bad_extensions;      /* extensions whose inner lengths were wrong */
};

/* RFC 8701 GREASE value. */
bool hl_tls_is_grease(uint16_t v);

#define HL_JA3_STR_MAX 1024 /* bytes of the string kept, NUL included */
#define HL_JA3_MD5_HEX 32
#define HL_JA4_LEN 36

struct hl_ja3 {
	char str[HL_JA3_STR_MAX];     /* NUL-terminated; cut when truncated */
	size_t len;                   /* length of the whole string */
	bool truncated;               /* len >= HL_JA3_STR_MAX: str holds a prefix */
	char md5[HL_JA3_MD5_HEX + 1]; /* of the whole string; "" on error */
};

/* 0, or HL_ENOMEM / HL_ESTATE when libcrypto cannot give MD5 (md5 is then
 * empty, str still complete). */
int hl_ja3(const struct hl_client_hello *ch, struct hl_ja3 *out);

/* JA4 of a hello seen over TCP. 0, or HL_ELIMIT for more than 8192
 * ciphers or extensions (impossible within a 16 KiB hello). */
int hl_ja4(const struct hl_client_hello *ch, char out[HL_JA4_LEN + 1]);

#endif
