/* \summary: hotline-sensor --sharer: every sighting record also to the local sharer
 *
 * Wraps the sensor's sharer link (sharer_link.h) as one more output: the
 * workers write each record's JSON line to all outputs, and this one hands
 * it to hl_sharer_link_send(), which queues it and returns at once. At the
 * end of the run the queue is flushed for a bounded time and whatever the
 * sharer did not acknowledge is reported.
 */
#ifndef HOTLINE_SENSOR_SENSOR_LINK_OUT_H
#define HOTLINE_SENSOR_SENSOR_LINK_OUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "output.h"
#include "sensor_opts.h"
#include "reload.h"
#include "sharer_link.h"
#include "sharer_link_push.h"

struct hl_sensor_link {
	hl_sharer_link_t *link;
	hl_output_t *out;       /* give it to the engine with the other outputs */
	hl_push_reload_t *push; /* --sharer-set: pushed sets into the reload thread */
	char endpoint[256];
	FILE *log;
};

/* Start the link (it connects in the background; a sharer that is not up
 * yet is no error). sensor_name is the envelope's "from" (and, over tcp,
 * must be the name the sharer lists this sensor's key under). With
 * so->set_path, indicator sets the sharer pushes are written there and
 * handed to reload (which must outlive the link). 0, or HL_EINVAL /
 * HL_ENOMEM after a message on log. */
int hl_sensor_link_start(struct hl_sensor_link *sl, const struct hl_sensor_sharer_opts *so,
                         const char *sensor_name, hl_reload_t *reload, FILE *log);
/* Wait at most timeout_ms for the sharer to acknowledge everything queued,
 * giving up early when *signals reaches 2 (a second SIGINT/SIGTERM). Fills
 * st; prints what is left un-acknowledged. true when every record queued
 * was acknowledged and none was dropped, refused or invalid. */
bool hl_sensor_link_finish(struct hl_sensor_link *sl, int timeout_ms, const atomic_int *signals,
                           struct hl_sharer_link_stats *st);
/* Stop the link thread and free the output. Accepts a zeroed sl. */
void hl_sensor_link_close(struct hl_sensor_link *sl);

#endif
