/* \summary: the sharer's durable store (SQLite, WAL): the source of truth
 *
 * Sightings, indicators and set versions, an outbox and an inbox for
 * at-least-once delivery, and a hash-chained audit log. Messages are kept as
 * opaque JSON text plus the few fields the store indexes, so the store does
 * not depend on the wire format. Schema and rules: docs/store.md.
 *
 * Threads: one handle per thread. A handle (one SQLite connection, opened
 * without SQLite's mutex) must never be used by two threads; the daemon's
 * store thread owns the read-write handle, and another thread (the control
 * socket) may open its own, e.g. with HL_STORE_READONLY.
 *
 * Errors: every function returns 0 or a negative HL_E* code. The SQLite
 * message behind an error is kept in the handle (hl_store_errmsg) and passed
 * to the log callback when one is set. Codes: HL_EIO (disk), HL_EFORMAT
 * (corrupt database), HL_EAGAIN (busy/locked beyond busy_timeout), HL_EEXISTS
 * (a unique key), HL_EINVAL (a constraint, a bad argument), HL_ENOMEM,
 * HL_EPERM (read-only), HL_ELIMIT (too big), HL_ENOTFOUND, HL_ESTATE.
 *
 * Times are Unix microseconds, always passed in by the caller (no clock is
 * read here, so tests inject time).
 */
#ifndef HOTLINE_SHARER_STORE_H
#define HOTLINE_SHARER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct hl_store hl_store_t;

/* The schema version this code writes (PRAGMA user_version). */
#define HL_STORE_SCHEMA_VERSION 4
/* PRAGMA application_id of a Hotline store ("HLST"). */
#define HL_STORE_APPLICATION_ID 0x484c5354
/* Longest id (sighting id, message id, peer name) the store accepts. */
#define HL_STORE_ID_MAX 256
/* A SHA-256 as lower-case hex, with NUL. */
#define HL_STORE_HASH_HEX 65

enum hl_store_flags {
	HL_STORE_READONLY = 1 << 0, /* no writes, no migration; the schema must be current */
	/* WAL checkpoints on a thread of their own instead of inside the
	 * commit that crosses the threshold (the daemon's store). */
	HL_STORE_CHECKPOINT_THREAD = 1 << 1,
};

typedef void (*hl_store_log_fn)(void *ud, int err, const char *msg);

/* ---- open, close, transactions (store.c) ------------------------------ */

/* Open or create the store at path (":memory:" for a throw-away one, which
 * cannot use WAL), apply pending migrations, and set the durability pragmas.
 * On failure NULL, with "PATH: what is wrong" in err (errlen may be 0). */
hl_store_t *hl_store_open(const char *path, char *err, size_t errlen);
hl_store_t *hl_store_open_flags(const char *path, unsigned flags, char *err, size_t errlen);
/* Close (a checkpoint runs; an open transaction is rolled back). NULL ok. */
void hl_store_close(hl_store_t **store_p);

/* Checkpoints run by the HL_STORE_CHECKPOINT_THREAD thread, and those that
 * failed (other than busy); 0 and 0 without the thread. */
void hl_store_checkpoint_stats(hl_store_t *s, unsigned long *runs, unsigned long *failures);

/* Log callback for every error (NULL to stop logging). */
void hl_store_set_log(hl_store_t *s, hl_store_log_fn fn, void *ud);
/* The message of the last error on this handle ("" if none). */
const char *hl_store_errmsg(const hl_store_t *s);
/* PRAGMA user_version of the open database. */
int hl_store_schema_version(hl_store_t *s, int *version);

/* One write transaction (BEGIN IMMEDIATE: the write lock is taken now, so a
 * commit never fails on a lock upgrade). Every store call between begin and
 * commit joins it; outside one, each call is its own transaction. begin
 * inside a transaction and commit outside one are HL_ESTATE. rollback
 * outside a transaction is 0 (SQLite may already have rolled back after an
 * I/O error). A failed commit leaves the transaction open: retry or roll
 * back. */
int hl_store_begin(hl_store_t *s);
int hl_store_commit(hl_store_t *s);
int hl_store_rollback(hl_store_t *s);
bool hl_store_in_transaction(hl_store_t *s);

/* The ordered migration steps (step i takes user_version i to i+1), for
 * tests and docs. */
const char *const *hl_store_migrations(size_t *count);

/* ---- outbox: at-least-once sending (store_outbox.c) -------------------- */

/* Priorities: lower goes first. Hotline escalations jump every queue. */
enum {
	HL_PRIO_HOTLINE = 0,
	HL_PRIO_REQUEST = 10,
	HL_PRIO_INDICATOR = 20,
	HL_PRIO_SIGHTING = 30,
};

/* One pending message; strings are borrowed for the callback only. */
struct hl_outbox_msg {
	const char *msg_id;
	const char *peer;
	const char *type;
	int priority;
	const char *envelope; /* may be NULL */
	const char *body;
	int64_t created_at;
	int64_t attempts;
	int64_t next_attempt_at;
};

/* Return 0 to continue, > 0 to stop (the call returns 0), < 0 to stop and
 * make the call return that error. */
typedef int (*hl_outbox_fn)(void *ud, const struct hl_outbox_msg *m);

/* Queue a message for peer, due at once. msg_id is unique over the outbox
 * (HL_EEXISTS otherwise). envelope may be NULL. */
int hl_store_outbox_enqueue(hl_store_t *s, const char *peer, const char *type, int priority,
                            const char *msg_id, const char *envelope_json, const char *body_json,
                            int64_t now);
/* Up to limit (0 = no limit) un-acked messages for peer with
 * next_attempt_at <= now, in (priority, created_at, enqueue order) order.
 * The callback may call mark_sent and ack, not next_due. *count (may be NULL)
 * gets the number passed to fn. */
int hl_store_outbox_next_due(hl_store_t *s, const char *peer, int64_t now, size_t limit,
                             hl_outbox_fn fn, void *ud, size_t *count);
/* A send attempt was made at now: attempts + 1, next try at next_attempt_at
 * (the caller picks the backoff). HL_ENOTFOUND for an unknown id. */
int hl_store_outbox_mark_sent(hl_store_t *s, const char *msg_id, int64_t now,
                              int64_t next_attempt_at);
/* The peer acknowledged msg_id. Idempotent (a second ack keeps the first
 * time, returns 0); HL_ENOTFOUND when peer has no such message. */
int hl_store_outbox_ack(hl_store_t *s, const char *peer, const char *msg_id, int64_t now);
/* Make every un-acked message for peer due at now (after a reconnect). */
int hl_store_outbox_reschedule(hl_store_t *s, const char *peer, int64_t now, size_t *count);
/* Un-acked messages for peer (NULL: all peers). */
int hl_store_outbox_depth(hl_store_t *s, const char *peer, size_t *depth);
/* Earliest next_attempt_at among un-acked messages for peer; HL_ENOTFOUND
 * when none is pending (the exchange loop's next wake-up). */
int hl_store_outbox_next_wakeup(hl_store_t *s, const char *peer, int64_t *at);
/* Delete acked messages whose acked_at < before. */
int hl_store_outbox_purge(hl_store_t *s, int64_t before, size_t *purged);

/* ---- inbox: dedup at the receiver (store_inbox.c) ---------------------- */

/* Record that msg_id from peer, first sent at sent_at (the envelope's
 * sent_at, which a resend repeats), arrived. *is_new tells whether it is
 * the first delivery: store the effect only then, in the same transaction,
 * commit, and ACK in both cases. The key is (peer, sent_at, msg_id): with
 * random message ids, sent_at is what keeps inserts at the end of the
 * index (docs/store.md). */
int hl_store_inbox_record(hl_store_t *s, const char *peer, const char *msg_id, int64_t sent_at,
                          const char *type, int64_t now, bool *is_new);
/* The same with sent_at 0, for senders without a send time. A message must
 * always be recorded the same way (with or without its sent_at). */
int hl_store_inbox_record_once(hl_store_t *s, const char *peer, const char *msg_id,
                               const char *type, int64_t now, bool *is_new);
/* Was msg_id (sent at sent_at, 0 for record_once) from peer recorded? */
int hl_store_inbox_seen(hl_store_t *s, const char *peer, const char *msg_id, int64_t sent_at,
                        bool *seen);
/* Forget inbox rows received before `before` (a re-delivery of a forgotten
 * id would then be applied again: keep them longer than any sender retries). */
int hl_store_inbox_purge(hl_store_t *s, int64_t before, size_t *purged);

/* ---- audit log, append-only and hash-chained (store_audit.c) ----------- */

enum hl_audit_dir {
	HL_AUDIT_SENT,
	HL_AUDIT_RECEIVED,
	HL_AUDIT_LOCAL,
};

struct hl_audit_entry {
	int64_t at;
	enum hl_audit_dir direction;
	const char *peer;   /* NULL for local */
	const char *msg_id; /* may be NULL */
	const char *type;
	const void *body; /* hashed into body_sha256; may be NULL with body_len 0 */
	size_t body_len;
};

/* Append one row (joins the caller's transaction). *seq (may be NULL) gets
 * its sequence number. */
int hl_store_audit_append(hl_store_t *s, const struct hl_audit_entry *e, int64_t *seq);

struct hl_audit_summary {
	int64_t rows;
	int64_t last_seq;             /* 0 when empty */
	char head[HL_STORE_HASH_HEX]; /* row_hash of the last row, 64 zeros when empty */
	int64_t first_bad;            /* 0 when the chain is intact */
	char reason[160];             /* what is wrong with first_bad */
};

/* Called for the first broken row found. */
typedef void (*hl_audit_report_fn)(void *ud, int64_t seq, const char *reason);

/* Walk the chain from the first row: each row's seq follows the previous,
 * its prev_hash is the previous row_hash (64 zeros first) and its row_hash
 * recomputes. 0 when intact, HL_EFORMAT at the first broken row (reported
 * to fn, may be NULL), other codes for SQLite errors. sum may be NULL. */
int hl_store_audit_verify(hl_store_t *s, hl_audit_report_fn fn, void *ud,
                          struct hl_audit_summary *sum);
/* The canonical row hash (docs/store.md, "Audit chain"), for tools. The
 * hashes are 64 lower-case hex digits; HL_EINVAL if they are not. */
int hl_store_audit_row_hash(int64_t seq, int64_t at, const char *direction, const char *peer,
                            const char *msg_id, const char *type, const char *body_sha256,
                            const char *prev_hash, char out[HL_STORE_HASH_HEX]);
const char *hl_audit_dir_name(enum hl_audit_dir d);

/* ---- sightings (store_data.c) ------------------------------------------ */

/* A sighting is stored once per (first_seen, id): first_seen is part of the
 * record the id is derived from, so for derived ids this is dedup by id, and
 * the key grows with time, which keeps inserts at the end of the index (a
 * hash-ordered key alone costs a random B-tree page per insert). */
struct hl_store_sighting {
	const char *id;     /* NULL: SHA-256 of the canonical record */
	const char *origin; /* "local" or "peer:<name>" */
	int64_t received_at;
	int64_t first_seen;       /* 0: the record's "first_seen" (0 if it has none) */
	const char *indicator_id; /* NULL: the record's indicator.id (may stay NULL) */
	const char *record;       /* the sighting's JSON line */
};

typedef int (*hl_sighting_fn)(void *ud, const struct hl_store_sighting *sg);

/* Store a sighting once: a second add of the same (first_seen, id) stores
 * nothing and sets *added false. The record is parsed (jansson) only when
 * id, first_seen or indicator_id must be derived from it; HL_EPARSE if it
 * is not a JSON object then. */
int hl_store_sighting_add(hl_store_t *s, const struct hl_store_sighting *sg, bool *added);
/* The id a sighting record gets: SHA-256 hex of its canonical form (compact
 * JSON, keys sorted, UTF-8). */
int hl_store_sighting_derive_id(const char *record, char out[HL_STORE_HASH_HEX]);
/* For a caller that has parsed the record already (the sanitiser): fill
 * sg->id (pointing at id), sg->first_seen and sg->indicator_id (borrowed
 * from rec) as hl_store_sighting_add would derive them, so the add parses
 * nothing. HL_EPARSE if rec is not an object or first_seen is not a time. */
int hl_store_sighting_fields(const json_t *rec, struct hl_store_sighting *sg,
                             char id[HL_STORE_HASH_HEX]);

/* The same when the caller has the canonical text already (canon =
 * json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS), which it may then store
 * as the record): only the hash is computed, no second serialisation. */
int hl_store_sighting_fields_canon(const json_t *rec, const char *canon,
                                   struct hl_store_sighting *sg, char id[HL_STORE_HASH_HEX]);

enum hl_store_time {
	HL_STORE_BY_RECEIVED,   /* received_at */
	HL_STORE_BY_FIRST_SEEN, /* first_seen */
};
/* Sightings with time >= since in time order (ties: insertion order), at
 * most limit (0 = all). */
int hl_store_sightings_since(hl_store_t *s, enum hl_store_time by, int64_t since, size_t limit,
                             hl_sighting_fn fn, void *ud, size_t *count);
int hl_store_sighting_count(hl_store_t *s, size_t *count);

/* ---- indicators and set versions (store_indicators.c) ------------------ */

enum hl_ind_status {
	HL_IND_ACTIVE,
	HL_IND_QUARANTINED,
	HL_IND_RETRACTED,
};

struct hl_store_indicator {
	const char *id;
	const char *type;
	const char *value;
	const char *source; /* may be NULL */
	const char *tlp;
	const char *record; /* the canonical native JSON line */
	enum hl_ind_status status;
	uint64_t set_version; /* 0: in no set yet */
	int64_t updated_at;
};

typedef int (*hl_indicator_fn)(void *ud, const struct hl_store_indicator *ind);

/* Insert, or replace the row with the same id. */
int hl_store_indicator_put(hl_store_t *s, const struct hl_store_indicator *ind);
/* The same from a normalised struct hl_indicator (record = its native line,
 * source = its first source). */
struct hl_indicator;
int hl_store_indicator_put_native(hl_store_t *s, const struct hl_indicator *ind,
                                  enum hl_ind_status status, uint64_t set_version, int64_t now);
/* Change the status of one indicator; HL_ENOTFOUND if unknown. */
int hl_store_indicator_set_status(hl_store_t *s, const char *id, enum hl_ind_status status,
                                  int64_t now);
int hl_store_indicator_get(hl_store_t *s, const char *id, hl_indicator_fn fn, void *ud);
/* Indicators with status, ordered by (type, value). */
int hl_store_indicators_list(hl_store_t *s, enum hl_ind_status status, hl_indicator_fn fn, void *ud,
                             size_t *count);
int hl_store_indicator_count(hl_store_t *s, enum hl_ind_status status, size_t *count);
const char *hl_ind_status_name(enum hl_ind_status st);
int hl_ind_status_parse(const char *name, enum hl_ind_status *st);

struct hl_store_set_version {
	uint64_t version;
	char hash[HL_STORE_HASH_HEX];
	int64_t created_at;
	size_t count;
};

/* Record set version v with its content hash (64 hex). Recording the same
 * version with the same hash again is 0; with another hash HL_EEXISTS. */
int hl_store_set_version_record(hl_store_t *s, uint64_t version, const char *hash_hex, size_t count,
                                int64_t now);
/* The highest recorded version; HL_ENOTFOUND when none. */
int hl_store_set_version_latest(hl_store_t *s, struct hl_store_set_version *out);

/* ---- the local set and the peers' sets (store_indicator_sets.c) -------- */

/* The local set: every active row of indicators, each record read back
 * through the native reader, in canonical order, and its set hash
 * (docs/formats.md, "Canonical form and set hash"). *out is a new set (the
 * caller destroys it); hash may be NULL. HL_EFORMAT when a stored record no
 * longer reads. */
struct hl_iset;
int hl_store_local_set(hl_store_t *s, struct hl_iset **out, char hash[HL_STORE_HASH_HEX]);
/* After a change of the local set, in the same transaction: record the
 * next version (latest + 1, or 1) with the active set's hash and count.
 * out (may be NULL) gets what was recorded. */
int hl_store_set_bump(hl_store_t *s, int64_t now, struct hl_store_set_version *out);

/* What a peer's set holds (table peer_indicators, keyed by (peer, id)):
 * kept apart from ours, so a peer's indicator never replaces ours. status
 * is HL_IND_ACTIVE or HL_IND_RETRACTED. */
int hl_store_peer_indicator_put(hl_store_t *s, const char *peer, const struct hl_indicator *ind,
                                enum hl_ind_status status, uint64_t set_version, int64_t now);
/* Mark one of peer's indicators retracted; *found (may be NULL) tells
 * whether peer had it. */
int hl_store_peer_indicator_retract(hl_store_t *s, const char *peer, const char *id,
                                    uint64_t set_version, int64_t now, bool *found);
/* Mark every active indicator of peer retracted (a full set replaces). */
int hl_store_peer_indicators_retract_all(hl_store_t *s, const char *peer, uint64_t set_version,
                                         int64_t now);
/* Rows of peer (NULL: every peer) with status. */
int hl_store_peer_indicator_count(hl_store_t *s, const char *peer, enum hl_ind_status status,
                                  size_t *count);
/* peer's row for id, as a struct hl_store_indicator (source = the peer). */
int hl_store_peer_indicator_get(hl_store_t *s, const char *peer, const char *id, hl_indicator_fn fn,
                                void *ud);

/* ---- one peer's set, listed (store_peer_indicators.c) ------------------ */

/* peer's rows with status (HL_IND_ACTIVE or HL_IND_RETRACTED), in
 * canonical order (type, value, then id), each as a struct
 * hl_store_indicator whose source is the peer and whose set_version is the
 * peer's, from the message that last changed the row. A peer with no rows
 * is 0 with *count 0 (hl_store_peer_indicator_count tells whether it has
 * any at all). fn returning non-zero stops the walk: a negative value is
 * returned, a positive one gives 0. *count (may be NULL): rows passed to
 * fn. HL_EINVAL for a bad peer, status or no fn. */
int hl_store_peer_indicators_list(hl_store_t *s, const char *peer, enum hl_ind_status status,
                                  hl_indicator_fn fn, void *ud, size_t *count);

#endif
