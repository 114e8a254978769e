/* \summary: the store's schema as ordered migration steps (docs/store.md)
 *
 * Step i takes PRAGMA user_version from i to i+1 and runs in its own
 * transaction with that version bump, so a crash mid-migration leaves the
 * previous version intact. Never edit a released step: add one.
 */
#include "store_impl.h"

/* v1: the data and delivery tables. */
static const char MIGRATION_1[] =
        "PRAGMA application_id = 1212961620;\n" /* HL_STORE_APPLICATION_ID */
        "CREATE TABLE sightings (\n"
        "  seq INTEGER PRIMARY KEY,\n"
        "  id TEXT NOT NULL,\n"
        "  origin TEXT NOT NULL CHECK (origin = 'local' OR\n"
        "    (substr(origin, 1, 5) = 'peer:' AND length(origin) > 5)),\n"
        "  received_at INTEGER NOT NULL,\n"
        "  first_seen INTEGER NOT NULL,\n"
        "  indicator_id TEXT,\n"
        "  record TEXT NOT NULL,\n"
        "  UNIQUE (first_seen, id)\n"
        ") STRICT;\n"
        "CREATE INDEX sightings_received ON sightings(received_at);\n"
        "CREATE TABLE indicators (\n"
        "  id TEXT PRIMARY KEY NOT NULL,\n"
        "  type TEXT NOT NULL,\n"
        "  value TEXT NOT NULL,\n"
        "  source TEXT,\n"
        "  tlp TEXT NOT NULL,\n"
        "  record TEXT NOT NULL,\n"
        "  status TEXT NOT NULL CHECK (status IN ('active', 'quarantined', 'retracted')),\n"
        "  set_version INTEGER NOT NULL DEFAULT 0 CHECK (set_version >= 0),\n"
        "  updated_at INTEGER NOT NULL\n"
        ") STRICT;\n"
        "CREATE INDEX indicators_status ON indicators(status, type, value);\n"
        "CREATE TABLE set_versions (\n"
        "  version INTEGER PRIMARY KEY CHECK (version > 0),\n"
        "  hash TEXT NOT NULL CHECK (length(hash) = 64),\n"
        "  created_at INTEGER NOT NULL,\n"
        "  count INTEGER NOT NULL CHECK (count >= 0)\n"
        ") STRICT;\n"
        "CREATE TABLE outbox (\n"
        "  msg_id TEXT PRIMARY KEY NOT NULL,\n"
        "  peer TEXT NOT NULL,\n"
        "  type TEXT NOT NULL,\n"
        "  priority INTEGER NOT NULL,\n"
        "  envelope TEXT,\n"
        "  body TEXT NOT NULL,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  attempts INTEGER NOT NULL DEFAULT 0,\n"
        "  last_attempt_at INTEGER,\n"
        "  next_attempt_at INTEGER NOT NULL,\n"
        "  acked_at INTEGER\n"
        ") STRICT;\n"
        "CREATE INDEX outbox_pending ON outbox(peer, priority, created_at)\n"
        "  WHERE acked_at IS NULL;\n"
        "CREATE INDEX outbox_acked ON outbox(acked_at) WHERE acked_at IS NOT NULL;\n"
        "CREATE TABLE inbox (\n"
        "  peer TEXT NOT NULL,\n"
        "  sent_at INTEGER NOT NULL,\n"
        "  msg_id TEXT NOT NULL,\n"
        "  type TEXT NOT NULL,\n"
        "  received_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (peer, sent_at, msg_id)\n"
        ") STRICT, WITHOUT ROWID;\n"
        "CREATE INDEX inbox_received ON inbox(received_at);\n";

/* v2: the tamper-evident audit log. The triggers are defence in depth: the
 * chain, not the triggers, is what detects a change (anyone with the file
 * can drop a trigger). */
static const char MIGRATION_2[] =
        "CREATE TABLE audit (\n"
        "  seq INTEGER PRIMARY KEY CHECK (seq > 0),\n"
        "  at INTEGER NOT NULL,\n"
        "  direction TEXT NOT NULL CHECK (direction IN ('sent', 'received', 'local')),\n"
        "  peer TEXT,\n"
        "  msg_id TEXT,\n"
        "  type TEXT NOT NULL,\n"
        "  body_sha256 TEXT NOT NULL,\n"
        "  prev_hash TEXT NOT NULL,\n"
        "  row_hash TEXT NOT NULL\n"
        ") STRICT;\n"
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
        "  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;\n"
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
        "  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;\n";

/* v3: what each peer's indicator set holds, apart from our own set: a
 * peer's indicator must never replace ours of the same id, and whether it
 * joins our set is the agreement's decision (docs/exchange.md). */
static const char MIGRATION_3[] =
        "CREATE TABLE peer_indicators (\n"
        "  peer TEXT NOT NULL,\n"
        "  id TEXT NOT NULL,\n"
        "  type TEXT NOT NULL,\n"
        "  value TEXT NOT NULL,\n"
        "  tlp TEXT NOT NULL,\n"
        "  record TEXT NOT NULL,\n"
        "  status TEXT NOT NULL CHECK (status IN ('active', 'retracted')),\n"
        "  set_version INTEGER NOT NULL CHECK (set_version >= 0),\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (peer, id)\n"
        ") STRICT, WITHOUT ROWID;\n";
/* v4: an outbox message's envelope and body move to their own table,
 * written once at enqueue and deleted at the ACK. In the outbox row they
 * were rewritten whole (overflow pages and all) by every UPDATE of the
 * small columns: mark_sent, then ack; a batch of sightings is tens of
 * pages. */
static const char MIGRATION_4[] =
        "CREATE TABLE outbox_body (\n"
        "  msg_id TEXT PRIMARY KEY NOT NULL,\n"
        "  envelope TEXT,\n"
        "  body TEXT NOT NULL\n"
        ") STRICT;\n"
        "INSERT INTO outbox_body (msg_id, envelope, body)\n"
        "  SELECT msg_id, envelope, body FROM outbox WHERE acked_at IS NULL;\n"
        "ALTER TABLE outbox DROP COLUMN envelope;\n"
        "ALTER TABLE outbox DROP COLUMN body;\n";

static const char *const MIGRATIONS[] = {MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4};

_Static_assert(sizeof MIGRATIONS / sizeof MIGRATIONS[0] == HL_STORE_SCHEMA_VERSION,
               "one migration step per schema version");
_Static_assert(HL_STORE_APPLICATION_ID == 1212961620, "MIGRATION_1 spells the id in decimal");

const char *const *hl_store_migrations(size_t *count)
{
	if (count != NULL)
		*count = sizeof MIGRATIONS / sizeof MIGRATIONS[0];
	return MIGRATIONS;
}
