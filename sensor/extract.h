/* \summary: what the application-layer extractors hand to the matcher
 *
 * The extractors (extract_dns.c, extract_http.c, extract_tls.c) read the
 * payload of one UDP datagram or the in-order bytes of one TCP direction and
 * report each name or URI they find as one observation, through a callback,
 * in wire order. Values are normalised once, here, never again downstream.
 *
 * Contract shared by every extractor:
 *  - obs->value is normalised (DNS, SNI: ASCII lower case, no trailing dot;
 *    HTTP host: hl_name_normalise, so also no port; see each header), is
 *    never empty, and is NUL-terminated (value[len] == '\0') although len is
 *    authoritative. It points into a buffer owned by the extractor state or
 *    its stack: valid only during the callback, copy what you keep.
 *  - A callback that returns nonzero stops the direction: feed returns that
 *    value unchanged, the rest of the chunk is ignored, and so is every later
 *    feed until the state is reset. (A one-shot parse just stops.)
 *  - Malformed, truncated or oversized input is never an error return: it is
 *    counted in the caller's stats struct and the rest is still processed
 *    where that is meaningful.
 *  - The state structs are fixed-size, caller-owned (embed them in the flow)
 *    and need no destroy; nothing is allocated per packet.
 */
#ifndef HOTLINE_SENSOR_EXTRACT_H
#define HOTLINE_SENSOR_EXTRACT_H

#include <stddef.h>

#include "hotline/matcher.h"

struct hl_observation {
	enum hl_field field; /* HL_FIELD_DNS_QUERY, _HTTP_HOST, _HTTP_URI, _HTTP_URL, _TLS_SNI */
	const char *value;   /* normalised, NUL-terminated, borrowed */
	size_t len;          /* bytes before the NUL, > 0 */
};

/* Return 0 to go on, nonzero to stop the direction (that value is returned
 * by the feed or parse call). */
typedef int (*hl_observe_fn)(void *ctx, const struct hl_observation *obs);

/* Lower-case ASCII in place. For names that carry no port (DNS, SNI), where
 * hl_name_normalise's port rule would cut "a:evil.example" down to "a". */
static inline void hl_extract_lower(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] + ('a' - 'A'));
	}
}

/* Report value[0..len) (already normalised, value[len] == '\0'); empty
 * values are dropped. Returns the callback's value, 0 without a callback. */
static inline int hl_extract_emit(hl_observe_fn fn, void *ctx, enum hl_field field,
                                  const char *value, size_t len)
{
	if (fn == NULL || len == 0)
		return 0;
	struct hl_observation obs = {field, value, len};
	return fn(ctx, &obs);
}

#endif
