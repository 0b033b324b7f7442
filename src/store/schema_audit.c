/* Schema track "audit": the append-only, hash-chained audit log and the row
 * that records the chain's head (so a truncated tail is detected too). */
#include "store/schema.h"
#include "core/util.h"

const struct ag_migration ag_schema_audit[] = {
    {1, "audit log",
     /* SQLite */
     "CREATE TABLE audit_log ("
     "  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
     "  action TEXT NOT NULL, target TEXT NOT NULL, details TEXT NOT NULL,"
     "  prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
     "CREATE INDEX audit_log_target ON audit_log(target, seq);"
     "CREATE TABLE audit_head ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);",
     /* PostgreSQL */
     "CREATE TABLE audit_log ("
     "  seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,"
     "  action TEXT NOT NULL, target TEXT NOT NULL, details TEXT NOT NULL,"
     "  prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL);"
     "CREATE INDEX audit_log_target ON audit_log(target, seq);"
     "CREATE TABLE audit_head ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash BYTEA NOT NULL);"},
};
const int ag_schema_audit_count = (int)AG_ARRAY_LEN(ag_schema_audit);
