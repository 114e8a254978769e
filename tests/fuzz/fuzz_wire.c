/* \summary: libFuzzer target for hl_wire_decode
 *
 * Input: two bytes choose where the rest splits into the envelope and the
 * body frame (so the fuzzer learns both); what decodes must encode again
 * and decode to the same envelope and body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	const uint8_t *env = data + 2;
	const uint8_t *body = env + split;
	size_t body_len = size - 2 - split;

	struct hl_wire_envelope e;
	json_t *b = NULL;
	struct hl_wire_error err;
	int rc = hl_wire_decode(env, split, body, body_len, 0, &e, &b, &err);
	if (rc != 0) {
		if (b != NULL || err.code == HL_WIRE_OK || err.msg[0] == '\0')
			abort();
		return 0;
	}
	char *es = NULL, *bs = NULL;
	size_t el, bl;
	if (hl_wire_encode(&e, b, &es, &el, &bs, &bl) != 0)
		abort();
	struct hl_wire_envelope e2;
	json_t *b2 = NULL;
	if (hl_wire_decode(es, el, bs, bl, SIZE_MAX, &e2, &b2, &err) != 0)
		abort();
	if (e2.type != e.type || strcmp(e2.id, e.id) != 0 || strcmp(e2.from, e.from) != 0 ||
	    strcmp(e2.to, e.to) != 0 || e2.seq != e.seq || e2.sent_at != e.sent_at ||
	    !json_equal(b, b2))
		abort();
	json_decref(b);
	json_decref(b2);
	free(es);
	free(bs);
	return 0;
}
