/* Schema track "console": the analyst console's users (Argon2id password
 * hash, sealed TOTP secret, replay step, sign-in throttle) and sessions
 * (looked up by the keyed hash of the cookie's token). Times are ms since
 * the epoch. */
#include "store/schema.h"
#include "core/util.h"

const struct ag_migration ag_schema_console[] = {
    {1, "console users and sessions",
     /* SQLite */
     "CREATE TABLE console_users ("
     "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
     "  password_hash TEXT NOT NULL, totp_sealed BLOB NOT NULL,"
     "  totp_last_step INTEGER NOT NULL DEFAULT -1, failures INTEGER NOT NULL DEFAULT 0,"
     "  last_failure_at INTEGER NOT NULL DEFAULT 0, last_login_at INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL, disabled_at INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE console_sessions ("
     "  token_hash BLOB PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0,"
     "  ip TEXT NOT NULL, user_agent TEXT NOT NULL);"
     "CREATE INDEX console_sessions_user ON console_sessions(user_id, revoked_at);",
     /* PostgreSQL */
     "CREATE TABLE console_users ("
     "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
     "  password_hash TEXT NOT NULL, totp_sealed BYTEA NOT NULL,"
     "  totp_last_step BIGINT NOT NULL DEFAULT -1, failures BIGINT NOT NULL DEFAULT 0,"
     "  last_failure_at BIGINT NOT NULL DEFAULT 0, last_login_at BIGINT NOT NULL DEFAULT 0,"
     "  created_at BIGINT NOT NULL, disabled_at BIGINT NOT NULL DEFAULT 0);"
     "CREATE TABLE console_sessions ("
     "  token_hash BYTEA PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,"
     "  created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL,"
     "  expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL DEFAULT 0,"
     "  ip TEXT NOT NULL, user_agent TEXT NOT NULL);"
     "CREATE INDEX console_sessions_user ON console_sessions(user_id, revoked_at);"},
};
const int ag_schema_console_count = (int)AG_ARRAY_LEN(ag_schema_console);
