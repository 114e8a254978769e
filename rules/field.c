/* \summary: observation field names ("dns.query", "tcp.payload", ...) */
#include <string.h>

#include "hotline/err.h"
#include "hotline/matcher.h"

/* The names are the "match.field" strings of sightings: a wire format, so
 * they never change once released. */
static const char *const field_names[HL_FIELD_COUNT] = {
        [HL_FIELD_DNS_QUERY] = "dns.query",     [HL_FIELD_HTTP_HOST] = "http.host",
        [HL_FIELD_TLS_SNI] = "tls.sni",         [HL_FIELD_HTTP_URL] = "http.url",
        [HL_FIELD_HTTP_URI] = "http.uri",       [HL_FIELD_SRC_IP] = "src_ip",
        [HL_FIELD_DST_IP] = "dst_ip",           [HL_FIELD_TCP_PAYLOAD] = "tcp.payload",
        [HL_FIELD_UDP_PAYLOAD] = "udp.payload",
};

const char *hl_field_name(enum hl_field field)
{
	if ((unsigned)field >= HL_FIELD_COUNT)
		return "?";
	return field_names[field];
}

int hl_field_parse(const char *s, enum hl_field *out)
{
	if (s == NULL || out == NULL)
		return HL_EINVAL;
	for (unsigned i = 0; i < HL_FIELD_COUNT; i++) {
		if (strcmp(s, field_names[i]) == 0) {
			*out = (enum hl_field)i;
			return 0;
		}
	}
	return HL_EINVAL;
}
