/* \summary: which worker a captured frame belongs to
 *
 * The reader thread reads only as far as the IP addresses and hashes the
 * unordered address pair. Both directions of a flow, and every fragment of
 * a datagram (whose later fragments carry no ports), land on the same
 * worker, which then decodes, reassembles and tracks the flow alone.
 */
#ifndef HOTLINE_SENSOR_SHARD_H
#define HOTLINE_SENSOR_SHARD_H

#include <stdint.h>

/* Worker index in [0, n_workers); frames without an IP header go to 0. */
unsigned hl_shard_of(int linktype, const uint8_t *data, uint32_t caplen, uint32_t seed,
                     unsigned n_workers);

/* The symmetric hash itself (exposed for tests). */
uint32_t hl_shard_hash(int linktype, const uint8_t *data, uint32_t caplen, uint32_t seed);

#endif
