/* \summary: the --home-net list: which addresses are ours
 *
 * "192.0.2.0/24,2001:db8::/32": CIDRs (or bare addresses) separated by
 * commas, blanks around an element ignored. Used to decide which endpoint
 * of a flow is remote (enrich.h). Immutable once parsed, so worker threads
 * share one list without locking.
 */
#ifndef HOTLINE_SENSOR_HOME_NET_H
#define HOTLINE_SENSOR_HOME_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/ipaddr.h"

#define HL_HOME_NET_MAX 1024 /* elements; more is a typo or a job for a file */

typedef struct hl_home_net hl_home_net_t;

/* Parse the list. NULL on failure with err naming the bad element and its
 * position ("--home-net element 2 \"10.0.0.0/33\": IPv4 prefix length over
 * 32"); an empty list or an empty element is an error too. */
hl_home_net_t *hl_home_net_parse(const char *list, char *err, size_t errlen);
void hl_home_net_destroy(hl_home_net_t **home_p);

/* True when addr (family 4 or 6; 4 or 16 bytes) lies in one of the
 * networks. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is taken as the
 * IPv4 address, as hl_cidr_parse() does for the list itself. NULL home
 * contains nothing. */
bool hl_home_net_contains(const hl_home_net_t *home, int family, const uint8_t *addr);

size_t hl_home_net_count(const hl_home_net_t *home);
/* The i-th network as parsed (canonical, host bits zero); NULL past the end. */
const struct hl_cidr *hl_home_net_get(const hl_home_net_t *home, size_t i);

#endif
