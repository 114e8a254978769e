/* \summary: sharer-to-sharer messages: envelope + body, encode and decode
 *
 * A message is two ZeroMQ frames, each one JSON object: the envelope
 * ({"v","id","type","from","to","sent_at","seq"}) and the body, whose keys
 * depend on the type. Every decoded message is checked against the schema
 * of its type (required keys, JSON types, ranges, length and item caps)
 * before anyone else sees it; a rejection carries a stable reason code (for
 * counters and NACKs) and a message naming the offending key, such as
 * "body.records[3].indicator.id: missing". Spec: docs/protocol.md.
 *
 * Decoding never reads past the given lengths and never trusts a length in
 * the data. Nothing here keeps state: no globals, no clock (callers pass
 * times in).
 */
#ifndef HOTLINE_WIRE_H
#define HOTLINE_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/indicator.h"

#define HL_WIRE_VERSION 1 /* the only envelope "v" this code speaks */

/* Limits (docs/protocol.md, "Limits"). Lengths are bytes of UTF-8. */
#define HL_WIRE_ID_LEN 32           /* message id: lower-case hex digits */
#define HL_WIRE_NAME_MAX 64         /* party name: [A-Za-z0-9_.-]{1,64} */
#define HL_WIRE_ENV_MAX 1024        /* envelope frame */
#define HL_WIRE_MAX_DEFAULT 1048576 /* whole message when the caller gives 0 */
#define HL_WIRE_DEPTH_MAX 16        /* nesting of objects/arrays in a body */
#define HL_WIRE_BATCH_MAX 1000      /* ids in ack/retract, records in sightings */
#define HL_WIRE_INDICATORS_MAX 10000
#define HL_WIRE_TOKEN_MAX 64 /* request_id, escalation_id: [A-Za-z0-9._:-] */
#define HL_WIRE_LINE_MAX 256 /* subject, summary, contact, by, version */
#define HL_WIRE_REASON_MAX 512
#define HL_WIRE_TEXT_MAX 16384 /* description, details, note */
#define HL_WIRE_HASH_HEX 64    /* SHA-256 as lower-case hex */

#define HL_WIRE_TYPE_MAP(XX)                       \
	XX(HELLO, "hello")                         \
	XX(HEARTBEAT, "heartbeat")                 \
	XX(ACK, "ack")                             \
	XX(NACK, "nack")                           \
	XX(SIGHTING, "sighting")                   \
	XX(SIGHTINGS, "sightings")                 \
	XX(INDICATORS, "indicators")               \
	XX(INDICATOR_RETRACT, "indicator_retract") \
	XX(REQUEST, "request")                     \
	XX(REQUEST_UPDATE, "request_update")       \
	XX(ESCALATION, "escalation")               \
	XX(ESCALATION_ACK, "escalation_ack")       \
	XX(STATS, "stats")

enum hl_wire_type {
#define HL_WIRE_TYPE_ENUM(name, str) HL_WIRE_T_##name,
	HL_WIRE_TYPE_MAP(HL_WIRE_TYPE_ENUM)
#undef HL_WIRE_TYPE_ENUM
	        HL_WIRE_T_COUNT
};

/* Reasons a message is refused: the decoder's, then those only a receiver's
 * later stages give. The name is stable: it is the NACK "reason_code" and
 * the suffix of the rejection counters. */
#define HL_WIRE_ERR_MAP(XX)                                                          \
	XX(JSON, "json", "not valid JSON (syntax, truncated, NUL)")                  \
	XX(DEPTH, "depth", "nested too deeply")                                      \
	XX(OVERSIZE, "oversize", "message too large")                                \
	XX(VERSION, "version", "unsupported protocol version")                       \
	XX(TYPE, "type", "unknown message type")                                     \
	XX(SCHEMA, "schema", "missing key, wrong JSON type or unknown envelope key") \
	XX(FIELD, "field", "value malformed, out of range, too long or too many")    \
	XX(POLICY, "policy", "refused by the receiver's policy")                     \
	XX(UNEXPECTED, "unexpected", "not expected from this sender now")            \
	XX(INTERNAL, "internal", "the receiver failed; send again later")            \
	XX(UNKNOWN, "unknown", "a reason code this side does not know")

enum hl_wire_err {
	HL_WIRE_OK = 0,
#define HL_WIRE_ERR_ENUM(name, str, msg) HL_WIRE_E_##name,
	HL_WIRE_ERR_MAP(HL_WIRE_ERR_ENUM)
#undef HL_WIRE_ERR_ENUM
	        HL_WIRE_E_COUNT
};

struct hl_wire_error {
	enum hl_wire_err code;
	char msg[256]; /* "env.v: version 2 not supported (this side speaks 1)" */
	/* On success too: body keys this version does not know, ignored for
	 * forward compatibility (the first one is named in ignored_key). */
	unsigned ignored_keys;
	char ignored_key[96];
};

struct hl_wire_envelope {
	enum hl_wire_type type;
	char id[HL_WIRE_ID_LEN + 1];
	char from[HL_WIRE_NAME_MAX + 1];
	char to[HL_WIRE_NAME_MAX + 1];
	int64_t sent_at; /* Unix µs */
	uint64_t seq;    /* per (from, to) pair, 0..2^63-1 */
	int64_t v;       /* as received; HL_WIRE_VERSION when encoding */
};

/* Fill env for a new message: a fresh random id, v = HL_WIRE_VERSION.
 * 0 or HL_EINVAL (bad type or party name, seq > 2^63-1). */
int hl_wire_envelope_init(struct hl_wire_envelope *env, enum hl_wire_type type, const char *from,
                          const char *to, uint64_t seq, int64_t now_us);

/* 32 lower-case hex digits from libsodium's randombytes_buf, NUL-terminated. */
void hl_wire_new_id(char out[HL_WIRE_ID_LEN + 1]);

/* Both frames as compact JSON (malloc'd, free()): the envelope with its
 * keys in spec order, the body with sorted keys. The body is checked
 * against its type's schema first, so this side never sends what the other
 * must refuse. 0, HL_EINVAL (bad envelope or body; err, may be NULL, says
 * why), HL_ENOMEM. On failure both outputs are NULL. */
int hl_wire_encode_checked(const struct hl_wire_envelope *env, const json_t *body, char **env_out,
                           size_t *env_len, char **body_out, size_t *body_len,
                           struct hl_wire_error *err);
int hl_wire_encode(const struct hl_wire_envelope *env, const json_t *body, char **env_out,
                   size_t *env_len, char **body_out, size_t *body_len);

/* The envelope frame alone, as hl_wire_encode writes it (checked the same
 * way), for a sender that builds the body's bytes itself (a batch of
 * records it holds as JSON text already). 0, HL_EINVAL, HL_ENOMEM. */
int hl_wire_encode_envelope(const struct hl_wire_envelope *env, char **env_out, size_t *env_len,
                            struct hl_wire_error *err);

/* Decode and validate one message. max_bytes caps env_len + body_len
 * (0: HL_WIRE_MAX_DEFAULT); the envelope alone is capped at
 * HL_WIRE_ENV_MAX. On success 0, *out filled and *body_out a new
 * reference (json_decref it). On rejection HL_EINVAL (HL_ENOMEM when out of
 * memory), err->code and err->msg say why, *body_out is NULL, and out->id
 * is the message's id when the envelope carried a valid one ("" else), so a
 * NACK can name it; out->from likewise. err must not be NULL. */
int hl_wire_decode(const void *env, size_t env_len, const void *body, size_t body_len,
                   size_t max_bytes, struct hl_wire_envelope *out, json_t **body_out,
                   struct hl_wire_error *err);

/* The text of each record of a decoded sighting(s) body, in order: what
 * the sharer stores, hashes into the sighting's id and forwards. In a body
 * laid out as {"records":[R1,R2,...]} with nothing between the records,
 * each record's text is the bytes it was sent as (hotline-sensor and every
 * Hotline sharer send records in canonical form: compact, keys sorted);
 * in any other body it is the record written out in canonical form.
 * Zero-initialise; reused across decodes; hl_wire_texts_free at the end. */
struct hl_wire_texts {
	char *buf; /* the texts, each NUL-terminated */
	size_t len, cap;
	size_t *off; /* off[i]: start of record i's text in buf */
	size_t n, n_cap;
};
void hl_wire_texts_reset(struct hl_wire_texts *t);
void hl_wire_texts_free(struct hl_wire_texts *t);
/* Record i's text, valid until the next decode or reset; NULL past the end. */
const char *hl_wire_record_text(const struct hl_wire_texts *t, size_t i);

/* hl_wire_decode that also gives, for a "sighting" or "sightings" body,
 * each record's text in *texts (n == 0 for other types and on failure);
 * each record is parsed once (docs/protocol.md, "Record texts"). */
int hl_wire_decode_texts(const void *env, size_t env_len, const void *body, size_t body_len,
                         size_t max_bytes, struct hl_wire_envelope *out, json_t **body_out,
                         struct hl_wire_texts *texts, struct hl_wire_error *err);

/* Check a body against the schema of type (what decode does after parsing).
 * 0 or HL_EINVAL with err filled. */
int hl_wire_check_body(enum hl_wire_type type, const json_t *body, struct hl_wire_error *err);

const char *hl_wire_type_name(enum hl_wire_type type); /* "hello", ...; "?" */
int hl_wire_type_parse(const char *s, enum hl_wire_type *out);
const char *hl_wire_err_name(enum hl_wire_err code); /* "json", ...; "ok" for 0 */
const char *hl_wire_err_text(enum hl_wire_err code);
/* A name back to its code; an unknown name gives HL_WIRE_E_UNKNOWN. */
enum hl_wire_err hl_wire_err_parse(const char *s);

/* Party names: [A-Za-z0-9_.-]{1,64}, not starting with '.' or '-' (the same
 * rule as the transport's peer names, which double as routing ids). */
bool hl_wire_name_valid(const char *s);
/* Message ids: exactly HL_WIRE_ID_LEN lower-case hex digits. */
bool hl_wire_id_valid(const char *s);

/* ---- enumerations used in bodies ------------------------------------- */

enum hl_wire_priority {
	HL_WIRE_PRIO_LOW,
	HL_WIRE_PRIO_NORMAL,
	HL_WIRE_PRIO_HIGH,
	HL_WIRE_PRIO_CRITICAL,
	HL_WIRE_PRIO_COUNT
};

enum hl_wire_status {
	HL_WIRE_STATUS_ACKNOWLEDGED,
	HL_WIRE_STATUS_IN_PROGRESS,
	HL_WIRE_STATUS_ANSWERED,
	HL_WIRE_STATUS_CLOSED,
	HL_WIRE_STATUS_REJECTED,
	HL_WIRE_STATUS_COUNT
};

const char *hl_wire_priority_name(enum hl_wire_priority p);
int hl_wire_priority_parse(const char *s, enum hl_wire_priority *out);
const char *hl_wire_status_name(enum hl_wire_status s);
int hl_wire_status_parse(const char *s, enum hl_wire_status *out);

/* ---- body constructors ------------------------------------------------
 * Each returns a new object that passes hl_wire_check_body for its type,
 * or NULL (bad argument or out of memory). Strings are copied. */

json_t *hl_wire_body_hello(const char *name, const char *version, const char *set_hash);
json_t *hl_wire_body_heartbeat(void);
json_t *hl_wire_body_ack(const char *const *ids, size_t n);
/* supported_v > 0 adds "supported_v" (for a VERSION nack). */
json_t *hl_wire_body_nack(const char *id, enum hl_wire_err code, const char *reason,
                          int supported_v);
/* record: one sighting record (the sensor's JSON object); a reference is
 * taken, not stolen. */
json_t *hl_wire_body_sighting(json_t *record);
/* The same from the sensor's JSON line (len bytes, no NUL needed). */
json_t *hl_wire_body_sighting_line(const char *line, size_t len);
/* An empty batch, then records appended one by one (0, HL_EINVAL for a
 * record that fails the check, HL_ELIMIT past HL_WIRE_BATCH_MAX). */
json_t *hl_wire_body_sightings(void);
int hl_wire_sightings_add(json_t *body, json_t *record);
/* set_hash: 64 hex digits (the hl_iset_hash of the sender's set). */
json_t *hl_wire_body_indicators(uint64_t set_version, const char *set_hash, bool full);
/* Appends the indicator's canonical native object. 0, HL_EINVAL,
 * HL_ELIMIT past HL_WIRE_INDICATORS_MAX, HL_ENOMEM. */
int hl_wire_indicators_add(json_t *body, const struct hl_indicator *ind);
json_t *hl_wire_body_indicator_retract(const char *const *ids, size_t n);

struct hl_wire_request {
	const char *request_id;
	enum hl_wire_priority priority;
	const char *subject;
	const char *description;
	int64_t respond_by; /* µs */
	json_t *indicators; /* array of native indicator objects, or NULL (borrowed) */
};
json_t *hl_wire_body_request(const struct hl_wire_request *r);
json_t *hl_wire_body_request_update(const char *request_id, enum hl_wire_status status,
                                    const char *note);
/* severity: low..critical (unknown is refused). contact may be NULL. */
json_t *hl_wire_body_escalation(const char *escalation_id, enum hl_severity severity,
                                const char *summary, const char *details, const char *contact);
json_t *hl_wire_body_escalation_ack(const char *escalation_id, const char *by);
/* An empty stats object; callers add small counters. */
json_t *hl_wire_body_stats(void);

/* The elements of arr as JSON lines (compact, sorted keys, each ended by
 * '\n'), for the native indicator reader: *out is malloc'ed (NULL and
 * *len 0 for an empty array). 0 or HL_ENOMEM. */
int hl_wire_json_lines(const json_t *arr, char **out, size_t *len);

#endif
