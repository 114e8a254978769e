/* \summary: --expect: compare produced sightings with an expected file
 *
 * CI replay mode. Both sides are JSON lines; each record is compared in its
 * canonical form (keys sorted), so key order and spacing never matter, and
 * the comparison is of multisets (order of records does not matter either,
 * whatever --workers was).
 */
#ifndef HOTLINE_SENSOR_EXPECT_H
#define HOTLINE_SENSOR_EXPECT_H

#include <stddef.h>
#include <stdio.h>

/* Returns 0 when equal, 1 when they differ (a readable diff went to
 * report: "- " expected but missing, "+ " produced but unexpected), or a
 * negative HL_E* code when the expected file cannot be read or has a line
 * that is not JSON (named as FILE:LINE on report). */
int hl_expect_compare(const char *expected_path, const char *const *lines, size_t n_lines,
                      FILE *report);

#endif
