/* Schema track "core": API keys, accounts and their state log, events with
 * their decisions, risk profiles, velocity counters shared by several nodes,
 * versions of the learned state (profiles, activity) several nodes merge.
 * Times are ms since the epoch. */
#include "store/schema.h"
#include "core/util.h"

const struct ag_migration ag_schema_core[] = {
    {1, "foundation",
     /* SQLite */
     "CREATE TABLE api_keys ("
     "  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL, scopes TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE accounts ("
     "  id TEXT PRIMARY KEY, role TEXT NOT NULL DEFAULT 'customer',"
     "  state TEXT NOT NULL DEFAULT 'active', frozen_reason TEXT NOT NULL DEFAULT '',"
     "  frozen_by TEXT NOT NULL DEFAULT '', frozen_until INTEGER NOT NULL DEFAULT 0,"
     "  locale TEXT NOT NULL DEFAULT 'en', created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE account_log ("
     "  seq INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL, action TEXT NOT NULL,"
     "  reason TEXT NOT NULL, actor TEXT NOT NULL, until INTEGER NOT NULL, at INTEGER NOT NULL);"
     "CREATE INDEX account_log_account ON account_log(account_id, seq);"
     "CREATE TABLE events ("
     "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
     "  account_id TEXT NOT NULL, type TEXT NOT NULL, occurred_at INTEGER NOT NULL,"
     "  received_at INTEGER NOT NULL, request_hash BLOB NOT NULL, event_json TEXT NOT NULL,"
     "  action TEXT NOT NULL, risk REAL NOT NULL, response_json TEXT NOT NULL);"
     "CREATE INDEX events_account ON events(account_id, seq);"
     "CREATE TABLE risk_profiles ("
     "  account_id TEXT PRIMARY KEY, blob BLOB NOT NULL, updated_at INTEGER NOT NULL);",
     /* PostgreSQL */
     "CREATE TABLE api_keys ("
     "  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BYTEA NOT NULL, scopes TEXT NOT NULL,"
     "  created_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL DEFAULT 0);"
     "CREATE TABLE accounts ("
     "  id TEXT PRIMARY KEY, role TEXT NOT NULL DEFAULT 'customer',"
     "  state TEXT NOT NULL DEFAULT 'active', frozen_reason TEXT NOT NULL DEFAULT '',"
     "  frozen_by TEXT NOT NULL DEFAULT '', frozen_until BIGINT NOT NULL DEFAULT 0,"
     "  locale TEXT NOT NULL DEFAULT 'en', created_at BIGINT NOT NULL,"
     "  updated_at BIGINT NOT NULL);"
     "CREATE TABLE account_log ("
     "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id TEXT NOT NULL,"
     "  action TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, until BIGINT NOT NULL,"
     "  at BIGINT NOT NULL);"
     "CREATE INDEX account_log_account ON account_log(account_id, seq);"
     "CREATE TABLE events ("
     "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
     "  account_id TEXT NOT NULL, type TEXT NOT NULL, occurred_at BIGINT NOT NULL,"
     "  received_at BIGINT NOT NULL, request_hash BYTEA NOT NULL, event_json TEXT NOT NULL,"
     "  action TEXT NOT NULL, risk DOUBLE PRECISION NOT NULL, response_json TEXT NOT NULL);"
     "CREATE INDEX events_account ON events(account_id, seq);"
     "CREATE TABLE risk_profiles ("
     "  account_id TEXT PRIMARY KEY, blob BYTEA NOT NULL, updated_at BIGINT NOT NULL);"},
    {2, "decision facts and account activity",
     "ALTER TABLE events ADD COLUMN facts BLOB;"
     "ALTER TABLE accounts ADD COLUMN activity BLOB;",
     "ALTER TABLE events ADD COLUMN facts BYTEA;"
     "ALTER TABLE accounts ADD COLUMN activity BYTEA;"},
    /* Velocity counted by every node on one PostgreSQL (store/cluster.h):
     * one row per counter, key, time bucket and node, so a node's writer
     * only ever updates its own rows (no lock waits between nodes). */
    {3, "shared velocity counters",
     "CREATE TABLE vel_counters ("
     "  kind INTEGER NOT NULL, key INTEGER NOT NULL, bucket INTEGER NOT NULL,"
     "  node INTEGER NOT NULL, n INTEGER NOT NULL DEFAULT 0, bits INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (kind, key, bucket, node)) WITHOUT ROWID;"
     "CREATE INDEX vel_counters_bucket ON vel_counters(bucket);",
     "CREATE TABLE vel_counters ("
     "  kind INTEGER NOT NULL, key BIGINT NOT NULL, bucket BIGINT NOT NULL,"
     "  node BIGINT NOT NULL, n BIGINT NOT NULL DEFAULT 0, bits BIGINT NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (kind, key, bucket, node)) WITH (fillfactor = 70);"
     "CREATE INDEX vel_counters_bucket ON vel_counters(bucket);"},
    /* Several nodes learn the same account (pipeline/cluster.c): each write
     * of a profile or an activity blob bumps its version under the account's
     * row lock, so a node reloads a blob only when another node changed it,
     * and a writer knows whether it merges onto what it scored against. The
     * profile's version is also kept on the account's row: the row lock
     * reads that row as committed after the wait, the joined profile row as
     * of before it (PostgreSQL, read committed), so the two tell a profile
     * read too early from a current one. */
    {4, "versions of learned state",
     "ALTER TABLE risk_profiles ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE accounts ADD COLUMN activity_version INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE accounts ADD COLUMN profile_version INTEGER NOT NULL DEFAULT 0;",
     "ALTER TABLE risk_profiles ADD COLUMN version BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE accounts ADD COLUMN activity_version BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE accounts ADD COLUMN profile_version BIGINT NOT NULL DEFAULT 0;"},
    /* Rules published through the API, each a new version: several nodes
     * poll the newest and load it (pipeline/cluster.c), a node starting
     * takes it over its file. One node (SQLite) leaves it empty: its rules
     * file is where published rules live. */
    {5, "published rules",
     "CREATE TABLE rules_published ("
     "  version INTEGER PRIMARY KEY, text TEXT NOT NULL, published_at INTEGER NOT NULL,"
     "  actor TEXT NOT NULL);",
     "CREATE TABLE rules_published ("
     "  version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, text TEXT NOT NULL,"
     "  published_at BIGINT NOT NULL, actor TEXT NOT NULL);"},
};
const int ag_schema_core_count = (int)AG_ARRAY_LEN(ag_schema_core);
