/* \summary: the sensor's stats block with the sharer link's counters (stats_print.c)
 *
 * hl_engine_print_stats() (engine.h) prints the packet path's stats; every
 * block of hotline-sensor, periodic (--stats-interval) and final, adds the
 * link's counters when --sharer is given: text as one more "  sharer:"
 * line, JSON as a "sharer" object.
 */
#ifndef HOTLINE_SENSOR_STATS_PRINT_H
#define HOTLINE_SENSOR_STATS_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"
#include "sharer_link.h"

/* link NULL: no sharer (the same output as hl_engine_print_stats). */
void hl_sensor_print_stats(const struct hl_engine_result *r,
                           const struct hl_sharer_link_stats *link, bool json, bool final,
                           FILE *out);

#endif
