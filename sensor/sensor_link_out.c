/* \summary: hotline-sensor --sharer: the link as an output, flush and report at exit */
#include "sensor_link_out.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotline/err.h"
#include "hotline/wire.h"

#define FLUSH_SLICE_MS 100 /* how often a flush looks at the signal count */

static void link_log(void *ctx, int level, const char *msg)
{
	/* Warnings and errors only: refusals, lost records at close. */
	if (level <= 1)
		fprintf(ctx, "hotline-sensor: sharer link: %s\n", msg);
}

static int to_link(void *ctx, const char *line, size_t len)
{
	return hl_sharer_link_send_own(ctx, line, len);
}

int hl_sensor_link_start(struct hl_sensor_link *sl, const struct hl_sensor_sharer_opts *so,
                         const char *sensor_name, hl_reload_t *reload, FILE *log)
{
	memset(sl, 0, sizeof *sl);
	sl->log = log;
	snprintf(sl->endpoint, sizeof sl->endpoint, "%s", so->endpoint);
	if (so->name == NULL) {
		fprintf(log, "hotline-sensor: --sharer needs --sharer-name NAME (the sharer's "
		             "party name, the 'name' in its config)\n");
		return HL_EINVAL;
	}
	if (!hl_wire_name_valid(sensor_name)) {
		fprintf(log,
		        "hotline-sensor: sensor name \"%s\" cannot go on the wire (1..64 of A-Z "
		        "a-z 0-9 _ . -): give --sensor-name\n",
		        sensor_name);
		return HL_EINVAL;
	}
	if (!hl_wire_name_valid(so->name)) {
		fprintf(log, "hotline-sensor: bad value for --sharer-name: \"%s\"\n", so->name);
		return HL_EINVAL;
	}
	struct hl_sharer_link_opts lo = {.endpoint = so->endpoint,
	                                 .name = sensor_name,
	                                 .to = so->name,
	                                 .server_key = so->server_key,
	                                 .server_key_file = so->server_key_file,
	                                 .secret_key_file = so->secret_key_file,
	                                 .queue_max = so->queue,
	                                 .batch_bytes = so->batch_bytes,
	                                 .log = link_log,
	                                 .log_ctx = log};
	if (so->set_path != NULL && reload != NULL) {
		sl->push = hl_push_reload_new(reload, so->set_path);
		if (sl->push == NULL) {
			fprintf(log, "hotline-sensor: --sharer-set %s: out of memory\n",
			        so->set_path);
			return HL_ENOMEM;
		}
		lo.on_indicators = hl_push_reload_cb;
		lo.on_indicators_ctx = sl->push;
	}
	char err[512];
	sl->link = hl_sharer_link_new(&lo, err, sizeof err);
	if (sl->link == NULL) {
		hl_push_reload_destroy(&sl->push);
		fprintf(log, "hotline-sensor: --sharer: %s\n", err);
		return HL_EINVAL;
	}
	int code = 0;
	sl->out = hl_output_open_fn(to_link, sl->link, &code);
	if (sl->out == NULL) {
		hl_sharer_link_destroy(&sl->link);
		hl_push_reload_destroy(&sl->push);
		fprintf(log, "hotline-sensor: sharer %s: %s\n", so->endpoint, hl_strerror(code));
		return code;
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hl_sensor_link_finish(struct hl_sensor_link *sl, int timeout_ms, const atomic_int *signals,
                           struct hl_sharer_link_stats *st)
{
	int64_t start = mono_ms(), deadline = start + timeout_ms;
	bool interrupted = false;
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0 || hl_sharer_link_flush(sl->link, 0) == 0)
			break;
		if (signals != NULL && atomic_load(signals) >= 2) {
			interrupted = true;
			break;
		}
		if (hl_sharer_link_flush(sl->link,
		                         left < FLUSH_SLICE_MS ? (int)left : FLUSH_SLICE_MS) == 0)
			break;
	}
	hl_sharer_link_stats(sl->link, st);
	unsigned long lost = st->pending + st->dropped + st->refused + st->invalid;
	if (lost == 0)
		return true;
	fprintf(sl->log,
	        "hotline-sensor: sharer %s: %lu of %lu record(s) not acknowledged (%lu still "
	        "queued after %.1f s%s, %lu dropped from the full queue, %lu refused, %lu "
	        "invalid)\n",
	        sl->endpoint, lost, st->queued + st->invalid, st->pending,
	        (double)(mono_ms() - start) / 1000, interrupted ? ", interrupted" : "", st->dropped,
	        st->refused, st->invalid);
	if (st->pending > 0 && st->sent == 0 && st->resent == 0)
		fprintf(sl->log,
		        "hotline-sensor: sharer %s: never connected: is it running, is the "
		        "endpoint right, and (tcp) does it list this sensor's key under its "
		        "name?\n",
		        sl->endpoint);
	return false;
}

void hl_sensor_link_close(struct hl_sensor_link *sl)
{
	hl_output_close(&sl->out);
	hl_sharer_link_destroy(&sl->link); /* its thread is the one calling push */
	hl_push_reload_destroy(&sl->push);
}
