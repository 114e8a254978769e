/* \summary: a sighting (indicator seen in a flow) and its JSON record
 *
 * One record per (indicator, flow): the first when the indicator first
 * matches ("final": false), and with --sighting-updates a second when the
 * flow ends, carrying the final count and last_seen ("final": true).
 * Schema: docs/formats.md, "Sighting records".
 */
#ifndef HOTLINE_SENSOR_SIGHTING_H
#define HOTLINE_SENSOR_SIGHTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/indicator.h"
#include "hotline/matcher.h"

/* The flow as its initiator (client) sees it. */
struct hl_flow_tuple {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IP protocol number */
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport, dport;
	uint16_t vlan[2];
	uint8_t vlan_count;
};

struct hl_sighting {
	int64_t first_seen; /* packet time, Unix µs */
	int64_t last_seen;
	uint64_t count;                       /* matching observations in the flow so far */
	bool final;                           /* the end-of-flow update */
	const struct hl_indicator *indicator; /* borrowed for the call */
	enum hl_field field;
	const char *value; /* observed value (borrowed); NULL for payload */
	size_t value_len;
	bool has_offset; /* payload: stream/datagram end offset of the match */
	uint64_t offset;
	struct hl_flow_tuple flow;
};

/* The record as one line of compact JSON (no newline), malloc'd; NULL on
 * out of memory. sensor may be NULL (key omitted). Observed values are
 * attacker-controlled: jansson escapes them, and bytes that are not UTF-8
 * are replaced (\ufffd) rather than dropping the record. */
char *hl_sighting_to_json(const struct hl_sighting *s, const char *sensor);

const char *hl_ip_proto_name(uint8_t proto); /* "tcp", "udp", "icmp", ... or NULL */

#endif
