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
struct hl_sighting_flow {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IP protocol number */
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport, dport;
	uint16_t vlan[2];
	uint8_t vlan_count;
};

/* Enrichment of the remote endpoint (enrich.h); absent unless present. */
struct hl_sighting_geo {
	bool present;
	char country[3]; /* ISO 3166-1 alpha-2, "" when unknown */
	char city[96];   /* "" when unknown */
	bool has_location;
	double lat, lon;
};

struct hl_sighting_asn {
	bool present;
	uint32_t number;
	char org[128];
};

/* The flow's packets written as a pcap (evidence.h). */
struct hl_sighting_evidence {
	bool present;
	char sha256[65];  /* hex, names the file */
	const char *path; /* borrowed for the call */
	uint32_t packets;
};

/* The flow's TLS ClientHello fingerprints, when one was seen. */
struct hl_sighting_tls {
	bool present;
	const char *sni; /* borrowed; "" without SNI */
	const char *ja3; /* borrowed: the JA3 string */
	char ja3_hash[33];
	char ja4[40];
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
	struct hl_sighting_flow flow;
	struct hl_sighting_tls tls;
	struct hl_sighting_geo geo;
	struct hl_sighting_asn asn;
	struct hl_sighting_evidence evidence;
};

/* The record as one line of compact JSON (no newline), malloc'd; NULL on
 * out of memory. sensor may be NULL (key omitted). Observed values are
 * attacker-controlled: jansson escapes them, and bytes that are not UTF-8
 * are replaced (\ufffd) rather than dropping the record. */
char *hl_sighting_to_json(const struct hl_sighting *s, const char *sensor);

const char *hl_ip_proto_name(uint8_t proto); /* "tcp", "udp", "icmp", ... or NULL */

#endif
