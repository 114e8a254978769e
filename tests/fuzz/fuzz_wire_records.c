/* \summary: libFuzzer target: a sightings body read record by record must agree with the whole-body
 * parse
 *
 * Input: the body frame of a "sightings" message. The verdict and the
 * body must be what parsing the body whole (duplicate keys refused) gives;
 * each record's text must parse to that record and be either bytes of the
 * body or the record written out canonically.
 */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/wire.h"

#define ENV                                                                                        \
	"{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"sightings\","             \
	"\"from\":\"alpha\",\"to\":\"bravo\",\"sent_at\":\"2024-06-01T10:00:00.000000Z\",\"seq\":" \
	"7}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_wire_envelope e;
	struct hl_wire_error err;
	struct hl_wire_texts c = {0};
	json_t *b = NULL;
	int rc = hl_wire_decode_texts(ENV, strlen(ENV), data, size, 0, &e, &b, &c, &err);

	json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	                         NULL);
	struct hl_wire_error rerr;
	int ref_rc = ref == NULL ? HL_EINVAL : hl_wire_check_body(HL_WIRE_T_SIGHTINGS, ref, &rerr);
	if ((rc == 0) != (ref_rc == 0))
		abort();
	if (rc == 0) {
		json_t *recs = json_object_get(ref, "records");
		if (!json_equal(b, ref) || c.n != json_array_size(recs))
			abort();
		for (size_t i = 0; i < c.n; i++) {
			const char *text = hl_wire_record_text(&c, i);
			json_t *again = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
			char *canon =
			        json_dumps(json_array_get(recs, i), JSON_COMPACT | JSON_SORT_KEYS);
			if (!json_equal(again, json_array_get(recs, i)) || canon == NULL ||
			    (strcmp(text, canon) != 0 &&
			     memmem(data, size, text, strlen(text)) == NULL))
				abort();
			json_decref(again);
			free(canon);
		}
	}
	json_decref(ref);
	json_decref(b);
	hl_wire_texts_free(&c);
	return 0;
}
