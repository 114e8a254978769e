/* \summary: the --home-net list: parse and membership
 *
 * A flat array searched linearly: it is consulted once per sighting, not
 * per packet, and holds a handful of networks in practice.
 */
#include "home_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

struct hl_home_net {
	size_t n;
	struct hl_cidr nets[];
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_err(char *err, size_t errlen, size_t pos, const char *elem, size_t elen,
                    const char *why)
{
	if (err == NULL || errlen == 0)
		return;
	int show = elen > 64 ? 64 : (int)elen; /* a runaway element stays readable */
	snprintf(err, errlen, "--home-net element %zu \"%.*s%s\": %s", pos, show, elem,
	         elen > 64 ? "..." : "", why);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

hl_home_net_t *hl_home_net_parse(const char *list, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (list == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "--home-net: no list given");
		return NULL;
	}
	size_t n = 1;
	for (const char *p = list; *p != '\0'; p++)
		n += *p == ',';
	if (n > HL_HOME_NET_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "--home-net: %zu elements, at most %d", n,
			         HL_HOME_NET_MAX);
		return NULL;
	}
	hl_home_net_t *home = calloc(1, sizeof *home + n * sizeof home->nets[0]);
	if (home == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "--home-net: %s", hl_strerror(HL_ENOMEM));
		return NULL;
	}
	const char *p = list;
	for (size_t pos = 1; pos <= n; pos++) {
		const char *end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		const char *b = p, *e = end;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		char buf[HL_IP_STR_MAX + 8];
		char why[128] = "";
		size_t len = (size_t)(e - b);
		if (len == 0) {
			set_err(err, errlen, pos, b, len, "empty element");
			goto fail;
		}
		if (len >= sizeof buf) {
			set_err(err, errlen, pos, b, len, "too long for an address/length");
			goto fail;
		}
		memcpy(buf, b, len);
		buf[len] = '\0';
		if (hl_cidr_parse(buf, &home->nets[home->n], why, sizeof why) != 0) {
			set_err(err, errlen, pos, b, len, why[0] != '\0' ? why : "not a CIDR");
			goto fail;
		}
		home->n++;
		p = *end == ',' ? end + 1 : end;
	}
	return home;
fail:
	free(home);
	return NULL;
}

void hl_home_net_destroy(hl_home_net_t **home_p)
{
	if (home_p == NULL)
		return;
	free(*home_p);
	*home_p = NULL;
}

bool hl_home_net_contains(const hl_home_net_t *home, int family, const uint8_t *addr)
{
	if (home == NULL || addr == NULL)
		return false;
	if (family != 4 && family != 6)
		return false;
	/* Both forms of a mapped address count: its IPv4 one for the usual
	 * IPv4 networks, its IPv6 one for an odd ::ffff:0:0/95 style entry. */
	bool mapped = family == 6 && memcmp(addr, v4_mapped, sizeof v4_mapped) == 0;
	for (size_t i = 0; i < home->n; i++) {
		if (hl_cidr_contains(&home->nets[i], family, addr))
			return true;
		if (mapped && hl_cidr_contains(&home->nets[i], 4, addr + 12))
			return true;
	}
	return false;
}

size_t hl_home_net_count(const hl_home_net_t *home)
{
	return home == NULL ? 0 : home->n;
}

const struct hl_cidr *hl_home_net_get(const hl_home_net_t *home, size_t i)
{
	if (home == NULL || i >= home->n)
		return NULL;
	return &home->nets[i];
}
