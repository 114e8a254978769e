/* \summary: libFuzzer target for indicator sets pushed to the sensor's link (sharer_link_push.c)
 *
 * Input: the first byte picks the message type (even: indicators, odd:
 * indicator_retract); the rest is the body frame, sent twice under a valid
 * envelope from the sharer to the sensor, so that a second part continues
 * the first. No socket: the replies fail to send, which the code must take.
 * Whatever is handed to the callback must be a set whose hash is the one
 * the message named.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/iset.h"
#include "hotline/wire.h"
#include "sharer_link_push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_set(void *ctx, uint64_t version, const char *hash, const struct hl_iset *set)
{
	(void)ctx;
	(void)version;
	uint8_t h[HL_SHA256_LEN];
	char hex[HL_SHA256_HEX_LEN];
	if (hl_iset_hash(set, h) != 0)
		abort();
	hl_hex(h, sizeof h, hex);
	if (strcmp(hex, hash) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct hl_sharer_link_opts o = {.name = "s1", .to = "sharer", .on_indicators = on_set};
	struct hl_link_push *p = hl_link_push_new(&o);
	if (p == NULL)
		return 0;
	struct hl_wire_envelope e;
	enum hl_wire_type t = data[0] % 2 ? HL_WIRE_T_INDICATOR_RETRACT : HL_WIRE_T_INDICATORS;
	char *env = NULL, *b = NULL;
	size_t el = 0, bl = 0;
	/* A valid envelope: encode one with a body the type accepts... */
	json_t *ok = t == HL_WIRE_T_INDICATORS
	                     ? hl_wire_body_indicators(1,
	                                               "0000000000000000000000000000000000000000000"
	                                               "000000000000000000000",
	                                               true)
	                     : NULL;
	const char *ids[1] = {"x"};
	if (ok == NULL)
		ok = hl_wire_body_indicator_retract(ids, 1);
	if (hl_wire_envelope_init(&e, t, "sharer", "s1", 1, 0) == 0 &&
	    hl_wire_encode(&e, ok, &env, &el, &b, &bl) == 0) {
		/* ... and the fuzzer's body with it. */
		for (int i = 0; i < 2; i++)
			hl_link_push_take(p, NULL, env, el, data + 1, size - 1);
	}
	json_decref(ok);
	free(env);
	free(b);
	hl_link_push_destroy(&p);
	return 0;
}
