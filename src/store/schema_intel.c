/* Schema track "intel": threat-intelligence indicators (with the time this
 * server added them, TAXII's date_added), the feeds fetched on a schedule,
 * and a small key/value table for the installation's STIX identity and the
 * change generation other nodes poll to know when to rebuild their match
 * sets. Times are ms since the epoch; valid_until 0 means "no expiry". */
#include "store/schema.h"
#include "core/util.h"

const struct ag_migration ag_schema_intel[] = {
    {1, "indicators and feeds",
     /* SQLite */
     "CREATE TABLE intel_indicators ("
     "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
     "  value TEXT NOT NULL, source TEXT NOT NULL, confidence INTEGER NOT NULL,"
     "  tlp TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]', description TEXT,"
     "  external_ref TEXT, informational INTEGER NOT NULL DEFAULT 0,"
     "  valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL DEFAULT 0,"
     "  created INTEGER NOT NULL, modified INTEGER NOT NULL, added INTEGER NOT NULL);"
     "CREATE INDEX intel_indicators_added ON intel_indicators(added, id);"
     "CREATE INDEX intel_indicators_value ON intel_indicators(type, value);"
     "CREATE INDEX intel_indicators_source ON intel_indicators(source, seq);"
     "CREATE TABLE intel_feeds ("
     "  name TEXT PRIMARY KEY, config TEXT NOT NULL, created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL, next_fetch_at INTEGER NOT NULL DEFAULT 0,"
     "  last_fetch_at INTEGER NOT NULL DEFAULT 0, last_status TEXT NOT NULL DEFAULT 'never',"
     "  last_error TEXT NOT NULL DEFAULT '', last_count INTEGER NOT NULL DEFAULT 0,"
     "  last_bytes INTEGER NOT NULL DEFAULT 0, last_notes TEXT NOT NULL DEFAULT '[]');"
     "CREATE TABLE intel_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
     "INSERT INTO intel_meta(k, v) VALUES ('generation', '0');",
     /* PostgreSQL */
     "CREATE TABLE intel_indicators ("
     "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
     "  type TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL,"
     "  confidence INTEGER NOT NULL, tlp TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]',"
     "  description TEXT, external_ref TEXT, informational BIGINT NOT NULL DEFAULT 0,"
     "  valid_from BIGINT NOT NULL, valid_until BIGINT NOT NULL DEFAULT 0,"
     "  created BIGINT NOT NULL, modified BIGINT NOT NULL, added BIGINT NOT NULL);"
     "CREATE INDEX intel_indicators_added ON intel_indicators(added, id);"
     "CREATE INDEX intel_indicators_value ON intel_indicators(type, value);"
     "CREATE INDEX intel_indicators_source ON intel_indicators(source, seq);"
     "CREATE TABLE intel_feeds ("
     "  name TEXT PRIMARY KEY, config TEXT NOT NULL, created_at BIGINT NOT NULL,"
     "  updated_at BIGINT NOT NULL, next_fetch_at BIGINT NOT NULL DEFAULT 0,"
     "  last_fetch_at BIGINT NOT NULL DEFAULT 0, last_status TEXT NOT NULL DEFAULT 'never',"
     "  last_error TEXT NOT NULL DEFAULT '', last_count BIGINT NOT NULL DEFAULT 0,"
     "  last_bytes BIGINT NOT NULL DEFAULT 0, last_notes TEXT NOT NULL DEFAULT '[]');"
     "CREATE TABLE intel_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
     "INSERT INTO intel_meta(k, v) VALUES ('generation', '0');"},
};
const int ag_schema_intel_count = (int)AG_ARRAY_LEN(ag_schema_intel);
