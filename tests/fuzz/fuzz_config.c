/* \summary: libFuzzer target for the YAML config reader (sharer, sensor and
 * agreement schemas)
 *
 * Whatever the input, loading must end in 0 or an error code with nothing
 * left allocated (ASan's leak check), and a failure must have said why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hotline/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                 const char *msg)
{
	(void)ctx;
	(void)level;
	(void)file;
	(void)line;
	if (msg == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct hl_diag diag = {.emit = drop};

	struct hl_sharer_config sharer;
	int rc = hl_sharer_config_parse("fuzz.yaml", text, size, "/base", &sharer, &diag);
	if (rc == 0) {
		/* What loaded is whole: required keys are there. */
		if (sharer.name == NULL || sharer.store == NULL ||
		    sharer.keys.secret_key_file == NULL)
			abort();
		for (size_t i = 0; i < sharer.n_peers; i++) {
			if (sharer.peers[i].max_message == 0 || sharer.peers[i].dead_after == 0)
				abort();
		}
		hl_sharer_config_free(&sharer);
	} else if (rc == HL_EINVAL && diag.errors == 0) {
		abort();
	}

	struct hl_sensor_config sensor;
	if (hl_sensor_config_parse("fuzz.yaml", text, size, NULL, &sensor, &diag) == 0)
		hl_sensor_config_free(&sensor);

	struct hl_agreement agr;
	if (hl_agreement_parse("fuzz.yaml", text, size, NULL, &agr, &diag) == 0) {
		if (agr.n_home_nets != agr.home_networks.n)
			abort();
		hl_agreement_free(&agr);
	}
	return 0;
}
