/* \summary: RFC 3339 timestamps <-> Unix microseconds
 *
 * Civil-date arithmetic is done here (Howard Hinnant's days_from_civil) so
 * that neither the TZ environment nor timegm() availability matters.
 */
#include "hotline/timefmt.h"

#include <stdbool.h>
#include <stdio.h>

#include "hotline/err.h"

#define US_PER_SEC INT64_C(1000000)

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Exactly n decimal digits at *s; advances *s. */
static bool digits(const char **s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*s)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*s += n;
	*out = v;
	return true;
}

int hl_time_parse(const char *s, int64_t *out_us)
{
	unsigned year, mon, day, hour = 0, min = 0, sec = 0;
	if (s == NULL || !digits(&s, 4, &year) || *s++ != '-' || !digits(&s, 2, &mon) ||
	    *s++ != '-' || !digits(&s, 2, &day))
		return HL_EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
		return HL_EINVAL;
	int64_t frac_us = 0, offset_s = 0;
	if (*s != '\0') {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return HL_EINVAL;
		s++;
		if (!digits(&s, 2, &hour) || *s++ != ':' || !digits(&s, 2, &min) || *s++ != ':' ||
		    !digits(&s, 2, &sec))
			return HL_EINVAL;
		/* 60 is a leap second; it rolls into the next minute. */
		if (hour > 23 || min > 59 || sec > 60)
			return HL_EINVAL;
		if (*s == '.') {
			s++;
			int n = 0;
			int64_t scale = 100000;
			for (; *s >= '0' && *s <= '9'; s++, n++) {
				if (n < 6) {
					frac_us += (*s - '0') * scale;
					scale /= 10;
				}
			}
			if (n == 0 || n > 9)
				return HL_EINVAL;
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1;
			unsigned oh, om;
			if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om) || oh > 23 ||
			    om > 59)
				return HL_EINVAL;
			offset_s = sign * (int64_t)(oh * 3600 + om * 60);
		} else {
			return HL_EINVAL;
		}
		if (*s != '\0')
			return HL_EINVAL;
	}
	int64_t days = days_from_civil(year, mon, day);
	int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - offset_s;
	*out_us = secs * US_PER_SEC + frac_us;
	return 0;
}

int hl_time_format(int64_t us, char *buf, size_t buflen)
{
	/* Floor division so that times before 1970 format correctly. */
	int64_t secs = us / US_PER_SEC, frac = us % US_PER_SEC;
	if (frac < 0) {
		frac += US_PER_SEC;
		secs--;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return HL_ERANGE;
	int w = snprintf(buf, buflen, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)y, m, d,
	                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
	return (w < 0 || (size_t)w >= buflen) ? HL_ERANGE : 0;
}
