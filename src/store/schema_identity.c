/* Schema track "identity": credentials, TOTP enrollments (sealed secrets),
 * backup codes, verified contacts, one-time codes, challenges, devices,
 * sessions, throttle states, wallet passcodes and recoveries. Secrets are
 * only ever hashes or sealed blobs. Times are ms since the epoch. */
#include "store/schema.h"
#include "core/util.h"

#define IDENT_TABLES(BLOB, INT)                                                                  \
    "CREATE TABLE ident_accounts ("                                                              \
    "  account_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL DEFAULT '',"                     \
    "  password_set_at " INT " NOT NULL DEFAULT 0, reset_required " INT " NOT NULL DEFAULT 0,"  \
    "  mfa_reverify " INT " NOT NULL DEFAULT 0, updated_at " INT " NOT NULL);"                  \
    "CREATE TABLE ident_totp ("                                                                  \
    "  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, sealed " BLOB " NOT NULL,"                \
    "  alg " INT " NOT NULL, digits " INT " NOT NULL, period " INT " NOT NULL,"                 \
    "  confirmed " INT " NOT NULL DEFAULT 0, last_used_step " INT " NOT NULL DEFAULT -1,"       \
    "  created_at " INT " NOT NULL, confirmed_at " INT " NOT NULL DEFAULT 0);"                  \
    "CREATE INDEX ident_totp_account ON ident_totp(account_id);"                                 \
    "CREATE TABLE ident_backup_codes ("                                                          \
    "  account_id TEXT NOT NULL, idx " INT " NOT NULL, hash " BLOB " NOT NULL,"                 \
    "  used_ms " INT " NOT NULL DEFAULT 0, created_at " INT " NOT NULL,"                        \
    "  PRIMARY KEY (account_id, idx));"                                                          \
    "CREATE TABLE ident_contacts ("                                                              \
    "  account_id TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL,"                 \
    "  verified_at " INT " NOT NULL DEFAULT 0, created_at " INT " NOT NULL,"                    \
    "  PRIMARY KEY (account_id, channel));"                                                      \
    "CREATE TABLE ident_otp ("                                                                   \
    "  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, purpose TEXT NOT NULL,"                   \
    "  ref_id TEXT NOT NULL, channel TEXT NOT NULL, destination TEXT NOT NULL,"                 \
    "  hash " BLOB " NOT NULL, salt " BLOB " NOT NULL, created_ms " INT " NOT NULL,"            \
    "  expires_ms " INT " NOT NULL, tries " INT " NOT NULL, max_tries " INT " NOT NULL,"        \
    "  version " INT " NOT NULL, digits " INT " NOT NULL, used " INT " NOT NULL);"              \
    "CREATE INDEX ident_otp_account ON ident_otp(account_id, created_ms);"                       \
    "CREATE INDEX ident_otp_destination ON ident_otp(destination, created_ms);"                  \
    "CREATE TABLE ident_challenges ("                                                            \
    "  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, event_id TEXT NOT NULL,"                  \
    "  reason TEXT NOT NULL, methods " INT " NOT NULL, device_id TEXT NOT NULL,"                \
    "  ip TEXT NOT NULL, user_agent TEXT NOT NULL, state TEXT NOT NULL,"                        \
    "  attempts " INT " NOT NULL DEFAULT 0, passed_method TEXT NOT NULL DEFAULT '',"            \
    "  created_at " INT " NOT NULL, expires_at " INT " NOT NULL,"                               \
    "  passed_at " INT " NOT NULL DEFAULT 0);"                                                  \
    "CREATE INDEX ident_challenges_account ON ident_challenges(account_id, created_at);"         \
    "CREATE TABLE ident_devices ("                                                               \
    "  account_id TEXT NOT NULL, device_id TEXT NOT NULL, first_seen " INT " NOT NULL,"         \
    "  last_seen " INT " NOT NULL, ip TEXT NOT NULL, country TEXT NOT NULL,"                    \
    "  user_agent TEXT NOT NULL, trusted " INT " NOT NULL DEFAULT 0,"                           \
    "  trusted_at " INT " NOT NULL DEFAULT 0, PRIMARY KEY (account_id, device_id));"            \
    "CREATE TABLE ident_sessions ("                                                              \
    "  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, token_hash " BLOB " NOT NULL UNIQUE,"     \
    "  device_id TEXT NOT NULL, ip TEXT NOT NULL, user_agent TEXT NOT NULL,"                    \
    "  mfa " INT " NOT NULL, created_at " INT " NOT NULL, expires_at " INT " NOT NULL,"        \
    "  revoked_at " INT " NOT NULL DEFAULT 0, revoke_reason TEXT NOT NULL DEFAULT '',"          \
    "  last_seen " INT " NOT NULL);"                                                            \
    "CREATE INDEX ident_sessions_account ON ident_sessions(account_id, created_at);"             \
    "CREATE TABLE ident_throttles ("                                                             \
    "  scope TEXT NOT NULL, key TEXT NOT NULL, failures " INT " NOT NULL,"                      \
    "  last_failure_ms " INT " NOT NULL, locked " INT " NOT NULL, version " INT " NOT NULL,"    \
    "  PRIMARY KEY (scope, key));"                                                               \
    "CREATE TABLE ident_passcodes ("                                                             \
    "  account_id TEXT PRIMARY KEY, hash TEXT NOT NULL, updated_at " INT " NOT NULL);"          \
    "CREATE TABLE ident_recoveries ("                                                            \
    "  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, channel TEXT NOT NULL,"                   \
    "  otp_id TEXT NOT NULL, challenge_id TEXT NOT NULL, event_id TEXT NOT NULL,"               \
    "  device_id TEXT NOT NULL, ip TEXT NOT NULL, state TEXT NOT NULL,"                         \
    "  strong " INT " NOT NULL, created_at " INT " NOT NULL, expires_at " INT " NOT NULL,"     \
    "  completed_at " INT " NOT NULL DEFAULT 0);"                                               \
    "CREATE INDEX ident_recoveries_account ON ident_recoveries(account_id, created_at);"

const struct ag_migration ag_schema_identity[] = {
    {1, "identity", IDENT_TABLES("BLOB", "INTEGER"), IDENT_TABLES("BYTEA", "BIGINT")},
};
const int ag_schema_identity_count = (int)AG_ARRAY_LEN(ag_schema_identity);
