/* \summary: IPv4/IPv6 address and CIDR parsing (see include/hotline/ipaddr.h) */
#include "hotline/ipaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int fail(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return HL_EINVAL;
}

int hl_cidr_parse(const char *s, struct hl_cidr *out, char *why, size_t whylen)
{
	char text[HL_IP_STR_MAX];
	size_t n = strlen(s);
	if (n == 0)
		return fail(why, whylen, "empty address");
	if (n >= sizeof text)
		return fail(why, whylen, "address too long");
	memcpy(text, s, n + 1);

	char *slash = strchr(text, '/');
	long plen = -1;
	if (slash != NULL) {
		*slash = '\0';
		const char *digits = slash + 1;
		if (*digits == '\0' || strlen(digits) > 3)
			return fail(why, whylen, "bad prefix length");
		plen = 0;
		for (const char *d = digits; *d != '\0'; d++) {
			if (*d < '0' || *d > '9')
				return fail(why, whylen, "bad prefix length");
			plen = plen * 10 + (*d - '0');
		}
	}

	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = 4;
		if (plen > 32)
			return fail(why, whylen, "IPv4 prefix length over 32");
		out->plen = plen < 0 ? 32 : (unsigned)plen;
	} else if (strchr(text, ':') != NULL && inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = 6;
		if (plen > 128)
			return fail(why, whylen, "IPv6 prefix length over 128");
		out->plen = plen < 0 ? 128 : (unsigned)plen;
		if (memcmp(out->addr, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0 &&
		    out->plen >= 96) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = 4;
			out->plen -= 96;
		}
	} else {
		return fail(why, whylen, "not an IPv4 or IPv6 address");
	}

	unsigned bytes = out->family == 4 ? 4 : 16;
	for (unsigned bit = out->plen; bit < bytes * 8; bit++) {
		if (out->addr[bit / 8] & (0x80u >> (bit % 8)))
			return fail(why, whylen, "host bits set beyond the prefix length");
	}
	return 0;
}

int hl_addr_format(int family, const uint8_t *addr, char *buf, size_t buflen)
{
	int af = family == 4 ? AF_INET : AF_INET6;
	if ((family != 4 && family != 6) || inet_ntop(af, addr, buf, (socklen_t)buflen) == NULL)
		return HL_EINVAL;
	return 0;
}

int hl_cidr_format(const struct hl_cidr *c, char *buf, size_t buflen)
{
	char addr[HL_IP_STR_MAX];
	int rc = hl_addr_format(c->family, c->addr, addr, sizeof addr);
	if (rc != 0)
		return rc;
	int w = snprintf(buf, buflen, "%s/%u", addr, c->plen);
	return (w < 0 || (size_t)w >= buflen) ? HL_ERANGE : 0;
}

bool hl_cidr_contains(const struct hl_cidr *c, int family, const uint8_t *addr)
{
	if (c->family != family)
		return false;
	unsigned full = c->plen / 8, rest = c->plen % 8;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (c->addr[full] & mask) == (addr[full] & mask);
}
