/* \summary: RFC 3339 timestamps <-> Unix microseconds */
#ifndef HOTLINE_TIMEFMT_H
#define HOTLINE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define HL_TIME_ISO_MAX 40

/* Parse "2016-05-11T10:00:00Z", with optional fraction (up to 9 digits,
 * kept to microseconds) and "Z" or "+hh:mm" offset; a date alone
 * ("2016-05-11") is midnight UTC. 0 or HL_EINVAL. */
int hl_time_parse(const char *s, int64_t *out_us);

/* Format as "2016-05-11T10:00:00.123456Z" (always 6 fraction digits). */
int hl_time_format(int64_t us, char *buf, size_t buflen);

#endif
