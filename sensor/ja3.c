/* \summary: JA3 and JA4 TLS client fingerprints of a parsed ClientHello
 *
 * Definitions: ja3.h. MD5 comes from libcrypto's EVP interface (libsodium
 * has none; docs/dependencies.md), SHA-256 from libsodium. The JA3 string
 * is digested as it is written, so its MD5 is right even when the kept
 * copy is cut at HL_JA3_STR_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "cursor.h"
#include "hotline/err.h"
#include "ja3.h"

#define JA4_MAX_VALUES 8192
#define JA4_HASH_HEX 12

static const char hexdigits[] = "0123456789abcdef";

bool hl_tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- JA3 ---- */

struct sink {
	struct hl_ja3 *out;
	EVP_MD_CTX *md; /* NULL when MD5 is unavailable */
};

static void put(struct sink *k, const char *s, size_t n)
{
	if (k->md != NULL && EVP_DigestUpdate(k->md, s, n) != 1) {
		EVP_MD_CTX_free(k->md);
		k->md = NULL;
	}
	struct hl_ja3 *o = k->out;
	if (o->len < HL_JA3_STR_MAX - 1) {
		size_t room = HL_JA3_STR_MAX - 1 - o->len;
		size_t m = n < room ? n : room;
		memcpy(o->str + o->len, s, m);
		o->str[o->len + m] = '\0';
		if (m < n)
			o->truncated = true;
	} else if (n > 0) {
		o->truncated = true;
	}
	o->len += n;
}

static void put_dec(struct sink *k, unsigned v)
{
	char d[8];
	size_t n = 0;
	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(k, d + sizeof d - n, n);
}

/* u16 (wide) or u8 values, '-' joined, GREASE left out. */
static void put_list(struct sink *k, struct hl_span sp, bool wide)
{
	struct cursor c = cur_make(sp.p, sp.p != NULL ? sp.len : 0);
	bool first = true;
	for (;;) {
		unsigned v;
		if (wide) {
			uint16_t w;
			if (!cur_be16(&c, &w))
				break;
			if (hl_tls_is_grease(w))
				continue;
			v = w;
		} else {
			uint8_t b;
			if (!cur_u8(&c, &b))
				break;
			v = b;
		}
		if (!first)
			put(k, "-", 1);
		put_dec(k, v);
		first = false;
	}
}

static void put_ext_types(struct sink *k, struct hl_span sp)
{
	struct cursor c = cur_make(sp.p, sp.p != NULL ? sp.len : 0);
	bool first = true;
	uint16_t type, len;
	while (cur_be16(&c, &type) && cur_be16(&c, &len) && cur_skip(&c, len)) {
		if (hl_tls_is_grease(type))
			continue;
		if (!first)
			put(k, "-", 1);
		put_dec(k, type);
		first = false;
	}
}

int hl_ja3(const struct hl_client_hello *ch, struct hl_ja3 *out)
{
	int rc = 0;
	memset(out, 0, sizeof *out);
	struct sink k = {out, EVP_MD_CTX_new()};
	if (k.md == NULL) {
		rc = HL_ENOMEM;
	} else if (EVP_DigestInit_ex(k.md, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(k.md);
		k.md = NULL;
		rc = HL_ESTATE;
	}
	put_dec(&k, ch->version);
	put(&k, ",", 1);
	put_list(&k, ch->ciphers, true);
	put(&k, ",", 1);
	put_ext_types(&k, ch->extensions);
	put(&k, ",", 1);
	put_list(&k, ch->groups, true);
	put(&k, ",", 1);
	put_list(&k, ch->point_formats, false);

	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (k.md == NULL || EVP_DigestFinal_ex(k.md, digest, &dlen) != 1 || dlen != 16) {
		out->md5[0] = '\0';
		if (rc == 0)
			rc = HL_ESTATE;
	} else {
		for (unsigned i = 0; i < 16; i++) {
			out->md5[2 * i] = hexdigits[digest[i] >> 4];
			out->md5[2 * i + 1] = hexdigits[digest[i] & 0xf];
		}
		out->md5[HL_JA3_MD5_HEX] = '\0';
	}
	EVP_MD_CTX_free(k.md);
	return rc;
}

/* ---- JA4 ---- */

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

static void hash_hex4(crypto_hash_sha256_state *h, uint16_t v, bool comma)
{
	char t[5] = {',', hexdigits[v >> 12], hexdigits[(v >> 8) & 0xf], hexdigits[(v >> 4) & 0xf],
	             hexdigits[v & 0xf]};
	if (comma)
		crypto_hash_sha256_update(h, (const unsigned char *)t, 5);
	else
		crypto_hash_sha256_update(h, (const unsigned char *)t + 1, 4);
}

static void hash_done(crypto_hash_sha256_state *h, char *out)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(h, d);
	for (int i = 0; i < JA4_HASH_HEX / 2; i++) {
		out[2 * i] = hexdigits[d[i] >> 4];
		out[2 * i + 1] = hexdigits[d[i] & 0xf];
	}
}

static const char *ja4_version(const struct hl_client_hello *ch)
{
	unsigned best = 0;
	struct cursor c = cur_make(ch->versions.p, ch->versions.p != NULL ? ch->versions.len : 0);
	uint16_t v;
	while (cur_be16(&c, &v)) {
		if (!hl_tls_is_grease(v) && v > best)
			best = v;
	}
	if (best == 0)
		best = ch->version;
	switch (best) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0200:
		return "s2";
	case 0x0100:
		return "s1";
	default:
		return "00";
	}
}

static bool is_alnum(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static void put_count(char *out, size_t n)
{
	if (n > 99)
		n = 99;
	out[0] = (char)('0' + n / 10);
	out[1] = (char)('0' + n % 10);
}

int hl_ja4(const struct hl_client_hello *ch, char out[HL_JA4_LEN + 1])
{
	uint16_t vals[JA4_MAX_VALUES];
	size_t n = 0, ncipher, next = 0;
	crypto_hash_sha256_state h;

	memcpy(out, "t00i0000", 8);
	memcpy(out + 1, ja4_version(ch), 2);
	out[3] = ch->has_sni ? 'd' : 'i';

	/* ciphers: counted and hashed sorted */
	struct cursor c = cur_make(ch->ciphers.p, ch->ciphers.p != NULL ? ch->ciphers.len : 0);
	uint16_t v, len;
	while (cur_be16(&c, &v)) {
		if (hl_tls_is_grease(v))
			continue;
		if (n == JA4_MAX_VALUES)
			return HL_ELIMIT;
		vals[n++] = v;
	}
	ncipher = n;
	put_count(out + 4, ncipher);
	qsort(vals, n, sizeof vals[0], cmp_u16);
	out[10] = '_';
	if (n == 0) {
		memset(out + 11, '0', JA4_HASH_HEX);
	} else {
		crypto_hash_sha256_init(&h);
		for (size_t i = 0; i < n; i++)
			hash_hex4(&h, vals[i], i > 0);
		hash_done(&h, out + 11);
	}

	/* extensions: all counted, hashed sorted without SNI and ALPN */
	n = 0;
	c = cur_make(ch->extensions.p, ch->extensions.p != NULL ? ch->extensions.len : 0);
	while (cur_be16(&c, &v) && cur_be16(&c, &len) && cur_skip(&c, len)) {
		if (hl_tls_is_grease(v))
			continue;
		next++;
		if (v == 0x0000 || v == 0x0010)
			continue;
		if (n == JA4_MAX_VALUES)
			return HL_ELIMIT;
		vals[n++] = v;
	}
	put_count(out + 6, next);
	qsort(vals, n, sizeof vals[0], cmp_u16);
	out[23] = '_';
	if (n == 0) {
		memset(out + 24, '0', JA4_HASH_HEX);
	} else {
		crypto_hash_sha256_init(&h);
		for (size_t i = 0; i < n; i++)
			hash_hex4(&h, vals[i], i > 0);
		bool first = true;
		c = cur_make(ch->sig_algs.p, ch->sig_algs.p != NULL ? ch->sig_algs.len : 0);
		while (cur_be16(&c, &v)) {
			if (hl_tls_is_grease(v))
				continue;
			if (first)
				crypto_hash_sha256_update(&h, (const unsigned char *)"_", 1);
			hash_hex4(&h, v, !first);
			first = false;
		}
		hash_done(&h, out + 24);
	}

	/* first ALPN value: its first and last characters */
	const struct hl_span *a = &ch->alpn;
	if (a->p != NULL && a->len > 0) {
		uint8_t f = a->p[0], l = a->p[a->len - 1];
		if (is_alnum(f) && is_alnum(l)) {
			out[8] = (char)f;
			out[9] = (char)l;
		} else {
			out[8] = hexdigits[f >> 4];
			out[9] = hexdigits[l & 0xf];
		}
	} else {
		out[8] = '0';
		out[9] = '0';
	}
	out[HL_JA4_LEN] = '\0';
	return 0;
}
