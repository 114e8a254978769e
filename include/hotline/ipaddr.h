/* \summary: IPv4/IPv6 address and CIDR parsing and formatting */
#ifndef HOTLINE_IPADDR_H
#define HOTLINE_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HL_IP_STR_MAX 64 /* "ffff:...:ffff/128" with NUL fits */

struct hl_cidr {
	int family;       /* 4 or 6 */
	uint8_t addr[16]; /* network order; host bits beyond plen are zero */
	unsigned plen;    /* 0..32 or 0..128 */
};

/* Parse "1.2.3.4", "1.2.3.0/24", "2001:db8::/32", "::ffff:1.2.3.4".
 * A bare address gets the full prefix length. Host bits set beyond the
 * prefix are an error (HL_EINVAL, "host bits set"), as a typo is likelier
 * than intent. IPv4-mapped IPv6 addresses are turned into IPv4. */
int hl_cidr_parse(const char *s, struct hl_cidr *out, char *why, size_t whylen);
/* Canonical text: "1.2.3.4/32" style always with the length. */
int hl_cidr_format(const struct hl_cidr *c, char *buf, size_t buflen);
/* Address only (no length), as inet_ntop. family 4 or 6. */
int hl_addr_format(int family, const uint8_t *addr, char *buf, size_t buflen);
/* True when addr (family, 4 or 16 bytes) lies inside c. */
bool hl_cidr_contains(const struct hl_cidr *c, int family, const uint8_t *addr);

#endif
