/* \summary: the indicator model: lifecycle, names, canonical values, merge
 *
 * Every value is brought to one canonical text per type here, once, so that
 * dedup, hashing and matching elsewhere are plain byte comparisons. The
 * rules per type are documented in docs/formats.md; the unit tests in
 * tests/unit/test_indicator.c are the executable version of that table.
 */
#include "hotline/indicator.h"

#include <hs.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hotline/err.h"
#include "hotline/ipaddr.h"

static const char *const type_names[HL_IND_TYPE_COUNT] = {
        "ip", "domain", "url", "uri", "content", "regex",
};
static const char *const tlp_names[HL_TLP_COUNT] = {
        "clear", "green", "amber", "amber+strict", "red",
};
static const char *const severity_names[HL_SEV_COUNT] = {
        "unknown", "low", "medium", "high", "critical",
};

static int fail(char *why, size_t whylen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	if (why != NULL && whylen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return HL_EINVAL;
}

/* ---- lifecycle ---------------------------------------------------------- */

void hl_indicator_init(struct hl_indicator *ind)
{
	memset(ind, 0, sizeof *ind);
	ind->type = HL_IND_IP;
	ind->tlp = HL_TLP_AMBER;
	ind->confidence = HL_CONFIDENCE_UNSET;
	ind->severity = HL_SEV_UNKNOWN;
}

void hl_indicator_clear(struct hl_indicator *ind)
{
	if (ind == NULL)
		return;
	free(ind->id);
	free(ind->value);
	free(ind->description);
	hl_strv_clear(&ind->sources);
	hl_strv_clear(&ind->tags);
	hl_indicator_init(ind);
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? HL_ENOMEM : 0;
}

int hl_indicator_copy(struct hl_indicator *dst, const struct hl_indicator *src)
{
	hl_indicator_clear(dst);
	dst->type = src->type;
	dst->tlp = src->tlp;
	dst->confidence = src->confidence;
	dst->severity = src->severity;
	dst->valid_from = src->valid_from;
	dst->valid_until = src->valid_until;
	dst->nocase = src->nocase;
	int rc = dup_opt(&dst->id, src->id);
	if (rc == 0)
		rc = dup_opt(&dst->value, src->value);
	if (rc == 0)
		rc = dup_opt(&dst->description, src->description);
	for (size_t i = 0; rc == 0 && i < src->sources.n; i++)
		rc = hl_strv_push(&dst->sources, src->sources.v[i]);
	for (size_t i = 0; rc == 0 && i < src->tags.n; i++)
		rc = hl_strv_push(&dst->tags, src->tags.v[i]);
	if (rc != 0)
		hl_indicator_clear(dst);
	return rc;
}

/* ---- string vectors ----------------------------------------------------- */

bool hl_strv_contains(const struct hl_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) == 0)
			return true;
	}
	return false;
}

int hl_strv_push(struct hl_strv *sv, const char *s)
{
	if (s == NULL)
		return HL_EINVAL;
	if (hl_strv_contains(sv, s))
		return 0;
	char *copy = strdup(s);
	if (copy == NULL)
		return HL_ENOMEM;
	char **grown = realloc(sv->v, (sv->n + 1) * sizeof *grown);
	if (grown == NULL) {
		free(copy);
		return HL_ENOMEM;
	}
	grown[sv->n++] = copy;
	sv->v = grown;
	return 0;
}

void hl_strv_clear(struct hl_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* ---- names -------------------------------------------------------------- */

const char *hl_ind_type_name(enum hl_ind_type type)
{
	return (unsigned)type < HL_IND_TYPE_COUNT ? type_names[type] : "?";
}

int hl_ind_type_parse(const char *s, enum hl_ind_type *out)
{
	for (int i = 0; s != NULL && i < HL_IND_TYPE_COUNT; i++) {
		if (strcasecmp(s, type_names[i]) == 0) {
			*out = (enum hl_ind_type)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

const char *hl_tlp_name(enum hl_tlp tlp)
{
	return (unsigned)tlp < HL_TLP_COUNT ? tlp_names[tlp] : "?";
}

int hl_tlp_parse(const char *s, enum hl_tlp *out)
{
	if (s == NULL)
		return HL_EINVAL;
	if (strncasecmp(s, "tlp:", 4) == 0)
		s += 4;
	if (strcasecmp(s, "white") == 0) {
		*out = HL_TLP_CLEAR;
		return 0;
	}
	for (int i = 0; i < HL_TLP_COUNT; i++) {
		if (strcasecmp(s, tlp_names[i]) == 0) {
			*out = (enum hl_tlp)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

const char *hl_severity_name(enum hl_severity sev)
{
	return (unsigned)sev < HL_SEV_COUNT ? severity_names[sev] : "?";
}

int hl_severity_parse(const char *s, enum hl_severity *out)
{
	for (int i = 0; s != NULL && i < HL_SEV_COUNT; i++) {
		if (strcasecmp(s, severity_names[i]) == 0) {
			*out = (enum hl_severity)i;
			return 0;
		}
	}
	return HL_EINVAL;
}

/* ---- canonical values --------------------------------------------------- */

static bool printable_nospace(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Bytes after a host (path, query) must be visible ASCII: a space or a
 * control byte cannot occur in a request target on the wire. */
static int check_target_bytes(const char *s, size_t n, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		if (!printable_nospace((unsigned char)s[i]))
			return fail(why, whylen,
			            "space or non-printable byte 0x%02x in path or query",
			            (unsigned char)s[i]);
	}
	return 0;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return n > 0;
}

/* Canonicalise a DNS name in place (NUL-terminated, mutable). */
static int domain_canon(char *s, bool allow_wildcard, char *why, size_t whylen)
{
	size_t len = strlen(s);
	if (allow_wildcard && len >= 2 && s[0] == '*' && s[1] == '.') {
		memmove(s, s + 2, len - 1);
		len -= 2;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] + ('a' - 'A'));
	}
	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0)
		return fail(why, whylen, "empty domain name");
	if (len > 253)
		return fail(why, whylen, "domain name longer than 253 characters");
	size_t label_start = 0, last_label = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == len || c == '.') {
			size_t label = i - label_start;
			if (label == 0)
				return fail(why, whylen, "empty label in domain name");
			if (label > 63)
				return fail(why, whylen, "domain label longer than 63 characters");
			last_label = label_start;
			label_start = i + 1;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
			continue;
		if (c == '/' || c == ':')
			return fail(why, whylen, "'%c' in domain name (a URL or address?)", c);
		if (c <= 0x20 || c >= 0x7f)
			return fail(why, whylen,
			            "space or non-printable byte 0x%02x in domain name", c);
		return fail(why, whylen, "invalid character '%c' in domain name", c);
	}
	struct hl_cidr cidr;
	if (hl_cidr_parse(s, &cidr, NULL, 0) == 0)
		return fail(why, whylen, "an IP address, not a domain name");
	/* No top-level domain is numeric; "1.2.3" is a mistyped address. */
	if (all_digits(s + last_label, len - last_label))
		return fail(why, whylen, "numeric last label (an address, not a domain name)");
	return 0;
}

static int ip_canon(const char *value, char **out, char *why, size_t whylen)
{
	struct hl_cidr c;
	char reason[128];
	if (hl_cidr_parse(value, &c, reason, sizeof reason) != 0)
		return fail(why, whylen, "%s", reason);
	char buf[HL_IP_STR_MAX];
	unsigned full = c.family == 4 ? 32 : 128;
	int rc = c.plen == full ? hl_addr_format(c.family, c.addr, buf, sizeof buf)
	                        : hl_cidr_format(&c, buf, sizeof buf);
	if (rc != 0)
		return fail(why, whylen, "cannot format address");
	*out = strdup(buf);
	return *out == NULL ? HL_ENOMEM : 0;
}

/* Length of a "scheme://" prefix's scheme, or 0 when s has none. */
static size_t scheme_len(const char *s)
{
	const char *sep = strstr(s, "://");
	if (sep == NULL || sep == s)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (const char *p = s; p < sep; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return 0;
	}
	return (size_t)(sep - s);
}

/* Host part of a URL into host (HL_IP_STR_MAX + 256 bytes), canonical. */
static int url_host(const char *h, size_t n, char *host, size_t hostlen, const char **port_out,
                    char *why, size_t whylen)
{
	*port_out = NULL;
	if (n > 0 && h[0] == '[') {
		const char *close = memchr(h, ']', n);
		if (close == NULL)
			return fail(why, whylen, "unterminated '[' in URL host");
		size_t inner = (size_t)(close - h) - 1;
		char lit[HL_IP_STR_MAX];
		if (inner == 0 || inner >= sizeof lit || memchr(h + 1, '/', inner) != NULL)
			return fail(why, whylen, "bad IPv6 literal in URL host");
		memcpy(lit, h + 1, inner);
		lit[inner] = '\0';
		struct hl_cidr c;
		if (strchr(lit, ':') == NULL || hl_cidr_parse(lit, &c, NULL, 0) != 0)
			return fail(why, whylen, "bad IPv6 literal in URL host");
		char addr[HL_IP_STR_MAX];
		if (hl_addr_format(c.family, c.addr, addr, sizeof addr) != 0)
			return fail(why, whylen, "bad IPv6 literal in URL host");
		int w = snprintf(host, hostlen, c.family == 6 ? "[%s]" : "%s", addr);
		if (w < 0 || (size_t)w >= hostlen)
			return fail(why, whylen, "URL host too long");
		const char *rest = close + 1;
		size_t restn = n - (size_t)(rest - h);
		if (restn > 0 && rest[0] != ':')
			return fail(why, whylen, "junk after IPv6 literal in URL host");
		if (restn > 0)
			*port_out = rest;
		return 0;
	}
	const char *colon = memchr(h, ':', n);
	size_t hn = colon != NULL ? (size_t)(colon - h) : n;
	if (colon != NULL && memchr(colon + 1, ':', n - hn - 1) != NULL)
		return fail(why, whylen, "IPv6 address in a URL needs brackets");
	if (hn == 0)
		return fail(why, whylen, "URL has no host");
	if (hn >= hostlen)
		return fail(why, whylen, "URL host too long");
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port_out = colon;
	struct hl_cidr c;
	if (hl_cidr_parse(host, &c, NULL, 0) == 0)
		return hl_addr_format(c.family, c.addr, host, hostlen) == 0 ? 0 : HL_EINVAL;
	char reason[128];
	if (domain_canon(host, false, reason, sizeof reason) != 0)
		return fail(why, whylen, "URL host: %s", reason);
	return 0;
}

static int url_canon(const char *value, char **out, char *why, size_t whylen)
{
	const char *p = value;
	size_t sl = scheme_len(p);
	if (sl > 0) {
		if (!(sl == 4 && strncasecmp(p, "http", 4) == 0) &&
		    !(sl == 5 && strncasecmp(p, "https", 5) == 0))
			return fail(why, whylen, "unsupported URL scheme \"%.*s\"",
			            (int)(sl > 32 ? 32 : sl), p);
		p += sl + 3;
	}
	size_t auth = strcspn(p, "/?#");
	const char *h = p;
	size_t hn = auth;
	/* "user:pw@host": the host is what a request carries; drop the rest. */
	for (size_t i = auth; i > 0; i--) {
		if (p[i - 1] == '@') {
			h = p + i;
			hn = auth - i;
			break;
		}
	}
	char host[HL_IP_STR_MAX + 256];
	const char *port = NULL;
	int rc = url_host(h, hn, host, sizeof host, &port, why, whylen);
	if (rc != 0)
		return rc;
	char portbuf[8] = "";
	if (port != NULL) {
		size_t pn = (size_t)(h + hn - port) - 1;
		if (pn == 0 || pn > 5 || !all_digits(port + 1, pn))
			return fail(why, whylen, "bad port in URL");
		unsigned long num = strtoul(port + 1, NULL, 10);
		if (num == 0 || num > 65535)
			return fail(why, whylen, "URL port out of range");
		/* The canonical form has no scheme, so both default ports go
		 * whatever the scheme was: re-normalising must not change it. */
		if (num != 80 && num != 443)
			snprintf(portbuf, sizeof portbuf, ":%lu", num);
	}
	const char *target = p + auth;
	size_t tn = strcspn(target, "#");
	rc = check_target_bytes(target, tn, why, whylen);
	if (rc != 0)
		return rc;
	const char *slash = (tn == 0 || target[0] == '?') ? "/" : "";
	size_t total = strlen(host) + strlen(portbuf) + strlen(slash) + tn + 1;
	char *buf = malloc(total);
	if (buf == NULL)
		return HL_ENOMEM;
	snprintf(buf, total, "%s%s%s%.*s", host, portbuf, slash, (int)tn, target);
	*out = buf;
	return 0;
}

static int uri_canon(const char *value, char **out, char *why, size_t whylen)
{
	if (value[0] != '/')
		return fail(why, whylen, "URI must start with '/'");
	size_t n = strcspn(value, "#");
	int rc = check_target_bytes(value, n, why, whylen);
	if (rc != 0)
		return rc;
	*out = strndup(value, n);
	return *out == NULL ? HL_ENOMEM : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hl_content_decode(const char *text, uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
	*out = NULL;
	*outlen = 0;
	size_t n = strlen(text);
	uint8_t *buf = malloc(n > 0 ? n : 1); /* decoding never grows */
	if (buf == NULL)
		return HL_ENOMEM;
	size_t o = 0, opened = 0, digits = 0;
	bool inhex = false;
	int hi = -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!inhex) {
			if (c == '|') {
				inhex = true;
				opened = i;
				digits = 0;
			} else if (c < 0x20 || c > 0x7e) {
				rc = fail(why, whylen,
				          "non-printable byte at offset %zu (write |%02x|)", i, c);
			} else {
				buf[o++] = c;
			}
			continue;
		}
		if (c == '|') {
			if (hi >= 0)
				rc = fail(why, whylen,
				          "odd number of hex digits in |...| at offset %zu",
				          opened);
			else if (digits == 0)
				rc = fail(why, whylen, "empty |...| block at offset %zu", opened);
			inhex = false;
		} else if (c == ' ') {
			if (hi >= 0)
				rc = fail(why, whylen,
				          "odd number of hex digits in |...| at offset %zu",
				          opened);
		} else if (hexval((char)c) >= 0) {
			digits++;
			if (hi < 0) {
				hi = hexval((char)c);
			} else {
				buf[o++] = (uint8_t)(hi << 4 | hexval((char)c));
				hi = -1;
			}
		} else {
			rc = fail(why, whylen, "non-hex character at offset %zu inside |...|", i);
		}
	}
	if (rc == 0 && inhex)
		rc = fail(why, whylen, "unterminated |...| opened at offset %zu", opened);
	if (rc == 0 && o == 0)
		rc = fail(why, whylen, "empty content");
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = o;
	return 0;
}

static bool content_literal(uint8_t b)
{
	return b >= 0x20 && b <= 0x7e && b != '|';
}

static int content_canon(const char *value, char **out, char *why, size_t whylen)
{
	uint8_t *bytes;
	size_t n;
	int rc = hl_content_decode(value, &bytes, &n, why, whylen);
	if (rc != 0)
		return rc;
	/* Worst case one "|xx|" per byte, plus the NUL. */
	char *buf = malloc(4 * n + 1);
	if (buf == NULL) {
		free(bytes);
		return HL_ENOMEM;
	}
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (content_literal(bytes[i])) {
			buf[o++] = (char)bytes[i++];
			continue;
		}
		buf[o++] = '|';
		for (bool first = true; i < n && !content_literal(bytes[i]); i++, first = false) {
			if (!first)
				buf[o++] = ' ';
			buf[o++] = hex[bytes[i] >> 4];
			buf[o++] = hex[bytes[i] & 15];
		}
		buf[o++] = '|';
	}
	buf[o] = '\0';
	free(bytes);
	*out = buf;
	return 0;
}

static int regex_canon(const char *value, bool nocase, char **out, char *why, size_t whylen)
{
	if (value[0] == '\0')
		return fail(why, whylen, "empty regular expression");
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *err = NULL;
	unsigned flags = HS_FLAG_DOTALL | (nocase ? HS_FLAG_CASELESS : 0);
	if (hs_expression_info(value, flags, &info, &err) != HS_SUCCESS) {
		int rc = fail(why, whylen, "regex: %s",
		              err != NULL && err->message != NULL ? err->message : "rejected");
		hs_free_compile_error(err);
		return rc;
	}
	bool empty = info->min_width == 0;
	free(info); /* Hyperscan's default misc allocator is malloc */
	if (empty)
		return fail(why, whylen, "regex can match an empty buffer");
	*out = strdup(value);
	return *out == NULL ? HL_ENOMEM : 0;
}

static int canon_value(const struct hl_indicator *ind, char **out, char *why, size_t whylen)
{
	const char *v = ind->value;
	switch (ind->type) {
	case HL_IND_IP:
		return ip_canon(v, out, why, whylen);
	case HL_IND_DOMAIN: {
		if (strlen(v) > 256)
			return fail(why, whylen, "domain name longer than 253 characters");
		char *copy = strdup(v);
		if (copy == NULL)
			return HL_ENOMEM;
		int rc = domain_canon(copy, true, why, whylen);
		if (rc != 0) {
			free(copy);
			return rc;
		}
		*out = copy;
		return 0;
	}
	case HL_IND_URL:
		return url_canon(v, out, why, whylen);
	case HL_IND_URI:
		return uri_canon(v, out, why, whylen);
	case HL_IND_CONTENT:
		return content_canon(v, out, why, whylen);
	case HL_IND_REGEX:
		return regex_canon(v, ind->nocase, out, why, whylen);
	case HL_IND_TYPE_COUNT:
		break;
	}
	return fail(why, whylen, "unknown indicator type %d", (int)ind->type);
}

/* ---- metadata checks ---------------------------------------------------- */

/* Strict UTF-8 (no overlongs, no surrogates), as JSON output requires. */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		unsigned char c = *p;
		size_t extra;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += extra + 1;
	}
	return true;
}

static int check_strv(const struct hl_strv *sv, const char *what, char *why, size_t whylen)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (sv->v[i][0] == '\0')
			return fail(why, whylen, "empty %s", what);
		if (!valid_utf8(sv->v[i]))
			return fail(why, whylen, "%s is not valid UTF-8", what);
	}
	return 0;
}

static int check_id(const char *id, char *why, size_t whylen)
{
	size_t n = strlen(id);
	if (n == 0 || n >= HL_INDICATOR_ID_MAX)
		return fail(why, whylen, "id must be 1..%d characters", HL_INDICATOR_ID_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		if (!printable_nospace((unsigned char)id[i]))
			return fail(why, whylen, "id contains a space or non-printable byte");
	}
	return 0;
}

static int check_meta(const struct hl_indicator *ind, char *why, size_t whylen)
{
	if (ind->confidence != HL_CONFIDENCE_UNSET &&
	    (ind->confidence < 0 || ind->confidence > 100))
		return fail(why, whylen, "confidence %d not in 0..100", ind->confidence);
	if ((unsigned)ind->tlp >= HL_TLP_COUNT)
		return fail(why, whylen, "bad TLP");
	if ((unsigned)ind->severity >= HL_SEV_COUNT)
		return fail(why, whylen, "bad severity");
	if (ind->valid_from != 0 && ind->valid_until != 0 && ind->valid_until <= ind->valid_from)
		return fail(why, whylen, "valid_until is not after valid_from");
	if (ind->id != NULL && check_id(ind->id, why, whylen) != 0)
		return HL_EINVAL;
	if (ind->description != NULL && !valid_utf8(ind->description))
		return fail(why, whylen, "description is not valid UTF-8");
	int rc = check_strv(&ind->sources, "source", why, whylen);
	if (rc == 0)
		rc = check_strv(&ind->tags, "tag", why, whylen);
	return rc;
}

int hl_indicator_normalise(struct hl_indicator *ind, char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((unsigned)ind->type >= HL_IND_TYPE_COUNT)
		return fail(why, whylen, "unknown indicator type %d", (int)ind->type);
	if (ind->value == NULL)
		return fail(why, whylen, "missing value");
	int rc = check_meta(ind, why, whylen);
	if (rc != 0)
		return rc;
	char *canon = NULL;
	rc = canon_value(ind, &canon, why, whylen);
	if (rc != 0)
		return rc;
	if (strlen(canon) > HL_INDICATOR_VALUE_MAX) {
		free(canon);
		return fail(why, whylen, "value longer than %d bytes", HL_INDICATOR_VALUE_MAX);
	}
	if (ind->type == HL_IND_REGEX && !valid_utf8(canon)) {
		free(canon);
		return fail(why, whylen, "regex is not valid UTF-8");
	}
	char *id = NULL;
	if (ind->id == NULL) {
		char buf[64];
		rc = hl_indicator_derive_id(ind->type, canon, buf, sizeof buf);
		if (rc == 0 && (id = strdup(buf)) == NULL)
			rc = HL_ENOMEM;
		if (rc != 0) {
			free(canon);
			return rc;
		}
	}
	free(ind->value);
	ind->value = canon;
	if (id != NULL)
		ind->id = id;
	/* Case folding only means something for payload matches; a flag on a
	 * name would make two equal indicators hash differently. */
	if (ind->type != HL_IND_CONTENT && ind->type != HL_IND_REGEX)
		ind->nocase = false;
	return 0;
}

int hl_indicator_derive_id(enum hl_ind_type type, const char *value, char *out, size_t outlen)
{
	if ((unsigned)type >= HL_IND_TYPE_COUNT || value == NULL)
		return HL_EINVAL;
	if (outlen < 4 + 32 + 1)
		return HL_ERANGE;
	crypto_hash_sha256_state st;
	uint8_t digest[crypto_hash_sha256_BYTES];
	const char *name = hl_ind_type_name(type);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&st, (const unsigned char *)":", 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)value, strlen(value));
	crypto_hash_sha256_final(&st, digest);
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "hl--", 4);
	for (size_t i = 0; i < 16; i++) {
		out[4 + 2 * i] = hex[digest[i] >> 4];
		out[5 + 2 * i] = hex[digest[i] & 15];
	}
	out[36] = '\0';
	return 0;
}

/* ---- merge, validity, inference ----------------------------------------- */

int hl_indicator_merge(struct hl_indicator *dst, const struct hl_indicator *src)
{
	for (size_t i = 0; i < src->sources.n; i++) {
		if (hl_strv_push(&dst->sources, src->sources.v[i]) != 0)
			return HL_ENOMEM;
	}
	for (size_t i = 0; i < src->tags.n; i++) {
		if (hl_strv_push(&dst->tags, src->tags.v[i]) != 0)
			return HL_ENOMEM;
	}
	if (dst->description == NULL && src->description != NULL) {
		dst->description = strdup(src->description);
		if (dst->description == NULL)
			return HL_ENOMEM;
	}
	if (dst->id == NULL && src->id != NULL) {
		dst->id = strdup(src->id);
		if (dst->id == NULL)
			return HL_ENOMEM;
	}
	if (src->confidence > dst->confidence)
		dst->confidence = src->confidence;
	/* 0 is "unbounded", so it wins over any bound on either side. */
	if (dst->valid_from != 0 && (src->valid_from == 0 || src->valid_from < dst->valid_from))
		dst->valid_from = src->valid_from;
	if (dst->valid_until != 0 && (src->valid_until == 0 || src->valid_until > dst->valid_until))
		dst->valid_until = src->valid_until;
	if (src->severity > dst->severity)
		dst->severity = src->severity;
	if (src->tlp > dst->tlp)
		dst->tlp = src->tlp;
	dst->nocase = dst->nocase || src->nocase;
	return 0;
}

bool hl_indicator_valid_at(const struct hl_indicator *ind, int64_t ts)
{
	if (ind->valid_from != 0 && ts < ind->valid_from)
		return false;
	if (ind->valid_until != 0 && ts >= ind->valid_until)
		return false;
	return true;
}

int hl_ind_type_infer(const char *value, enum hl_ind_type *out)
{
	if (value == NULL || value[0] == '\0' || strlen(value) > 2 * HL_INDICATOR_VALUE_MAX)
		return HL_EINVAL;
	struct hl_cidr c;
	if (hl_cidr_parse(value, &c, NULL, 0) == 0) {
		*out = HL_IND_IP;
		return 0;
	}
	if (value[0] == '/') {
		*out = HL_IND_URI;
		return 0;
	}
	/* "10.0.0.1/8" is a mistyped network, not a URL with path "/8". */
	const char *slash = strrchr(value, '/');
	if (slash != NULL && all_digits(slash + 1, strlen(slash + 1)) &&
	    (size_t)(slash - value) < HL_IP_STR_MAX) {
		char addr[HL_IP_STR_MAX];
		memcpy(addr, value, (size_t)(slash - value));
		addr[slash - value] = '\0';
		if (hl_cidr_parse(addr, &c, NULL, 0) == 0)
			return HL_EINVAL;
	}
	char *canon = NULL;
	if (scheme_len(value) > 0 || strchr(value, '/') != NULL) {
		if (url_canon(value, &canon, NULL, 0) != 0)
			return HL_EINVAL;
		free(canon);
		*out = HL_IND_URL;
		return 0;
	}
	canon = strdup(value);
	if (canon == NULL)
		return HL_ENOMEM;
	int rc = domain_canon(canon, true, NULL, 0);
	free(canon);
	if (rc != 0)
		return HL_EINVAL;
	*out = HL_IND_DOMAIN;
	return 0;
}
