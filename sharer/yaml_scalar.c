/* \summary: config scalars: integers, booleans, durations, sizes
 *
 * Strict on purpose: YAML 1.1's "yes"/"no"/"on"/"off" booleans, octal
 * "010" and sexagesimal "1:30" are refused with a hint rather than guessed,
 * and a duration always names its unit (is "30" seconds or milliseconds?).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hotline/err.h"
#include "yaml_reader.h"

static int why_set(char *why, size_t whylen, int rc, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return rc;
}

/* Digits only, no sign; 0 or HL_ERANGE on overflow, HL_EINVAL if none. */
static int digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return HL_EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return HL_ERANGE;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int hl_yaml_parse_int(const char *s, int64_t *out, char *why, size_t whylen)
{
	bool neg = false;
	const char *p = s;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && p[1] != '\0')
		return why_set(why, whylen, HL_EINVAL,
		               "expected a decimal integer (no leading zeros, no 0x/0o)");
	uint64_t v;
	int rc = digits(&p, &v);
	if (rc == HL_ERANGE)
		return why_set(why, whylen, HL_ERANGE, "integer too large");
	if (rc != 0 || *p != '\0')
		return why_set(why, whylen, HL_EINVAL, "expected an integer");
	if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
		return why_set(why, whylen, HL_ERANGE, "integer too large");
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int hl_yaml_parse_bool(const char *s, bool *out, char *why, size_t whylen)
{
	if (strcasecmp(s, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(s, "false") == 0) {
		*out = false;
		return 0;
	}
	static const char *const yaml11[] = {"yes", "no", "on", "off", "y", "n"};
	for (size_t i = 0; i < sizeof yaml11 / sizeof yaml11[0]; i++) {
		if (strcasecmp(s, yaml11[i]) == 0)
			return why_set(
			        why, whylen, HL_EINVAL,
			        "expected true or false (YAML 1.1 spellings like yes/no/on/off "
			        "are not accepted)");
	}
	return why_set(why, whylen, HL_EINVAL, "expected true or false");
}

struct unit {
	const char *name;
	uint64_t factor;
};

/* Longest names first, so "ms" is not read as "m". */
static const struct unit duration_units[] = {
        {"us", 1},
        {"ms", 1000},
        {"s", 1000000},
        {"m", 60 * 1000000ULL},
        {"h", 3600 * 1000000ULL},
        {"d", 86400 * 1000000ULL},
};

static const struct unit *match_unit(const char **p, const struct unit *units, size_t n)
{
	const struct unit *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(units[i].name);
		if (len > best_len && strncmp(*p, units[i].name, len) == 0) {
			best = &units[i];
			best_len = len;
		}
	}
	if (best != NULL)
		*p += best_len;
	return best;
}

int hl_yaml_parse_duration(const char *s, int64_t *us, char *why, size_t whylen)
{
	static const char syntax[] = "expected a duration: a number and a unit (us, ms, s, m, h, "
	                             "d), e.g. 250ms, 30s, 1h30m";
	if (strcmp(s, "0") == 0) {
		*us = 0;
		return 0;
	}
	const char *p = s;
	uint64_t total = 0;
	if (*p == '\0')
		return why_set(why, whylen, HL_EINVAL, syntax);
	while (*p != '\0') {
		uint64_t v;
		int rc = digits(&p, &v);
		if (rc == HL_ERANGE)
			return why_set(why, whylen, HL_ERANGE, "duration too long");
		if (rc != 0)
			return why_set(why, whylen, HL_EINVAL, syntax);
		const struct unit *u = match_unit(&p, duration_units,
		                                  sizeof duration_units / sizeof duration_units[0]);
		if (u == NULL)
			return why_set(why, whylen, HL_EINVAL, syntax);
		if (v > (uint64_t)INT64_MAX / u->factor ||
		    total > (uint64_t)INT64_MAX - v * u->factor)
			return why_set(why, whylen, HL_ERANGE, "duration too long");
		total += v * u->factor;
	}
	*us = (int64_t)total;
	return 0;
}

int hl_yaml_format_duration(int64_t us, char *buf, size_t buflen)
{
	if (us < 0 || buflen == 0)
		return HL_EINVAL;
	if (us == 0)
		return snprintf(buf, buflen, "0") < (int)buflen ? 0 : HL_ERANGE;
	size_t len = 0;
	uint64_t rest = (uint64_t)us;
	for (size_t i = sizeof duration_units / sizeof duration_units[0]; i-- > 0;) {
		uint64_t n = rest / duration_units[i].factor;
		if (n == 0)
			continue;
		rest -= n * duration_units[i].factor;
		int w = snprintf(buf + len, buflen - len, "%llu%s", (unsigned long long)n,
		                 duration_units[i].name);
		if (w < 0 || (size_t)w >= buflen - len)
			return HL_ERANGE;
		len += (size_t)w;
	}
	return 0;
}

static const struct unit size_units[] = {
        {"B", 1},
        {"kB", 1000},
        {"KiB", 1024},
        {"MB", 1000 * 1000},
        {"MiB", 1024 * 1024},
        {"GB", 1000ULL * 1000 * 1000},
        {"GiB", 1024ULL * 1024 * 1024},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
        {"TiB", 1024ULL * 1024 * 1024 * 1024},
};

int hl_yaml_parse_size(const char *s, uint64_t *bytes, char *why, size_t whylen)
{
	static const char syntax[] = "expected a size: a number and an optional unit (B, kB, KiB, "
	                             "MB, MiB, GB, GiB, TB, TiB), e.g. 64MiB";
	const char *p = s;
	uint64_t v;
	int rc = digits(&p, &v);
	if (rc == HL_ERANGE)
		return why_set(why, whylen, HL_ERANGE, "size too large");
	if (rc != 0)
		return why_set(why, whylen, HL_EINVAL, syntax);
	uint64_t factor = 1;
	if (*p != '\0') {
		const struct unit *u =
		        match_unit(&p, size_units, sizeof size_units / sizeof size_units[0]);
		if (u == NULL || *p != '\0')
			return why_set(why, whylen, HL_EINVAL, syntax);
		factor = u->factor;
	}
	if (v > UINT64_MAX / factor)
		return why_set(why, whylen, HL_ERANGE, "size too large");
	*bytes = v * factor;
	return 0;
}
