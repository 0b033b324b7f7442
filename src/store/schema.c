/* The migration tracks and the runner. */
#include "store/schema.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

const struct ag_migration_track ag_migration_tracks[] = {
    {"core", ag_schema_core, &ag_schema_core_count},
    {"notify", ag_schema_notify, &ag_schema_notify_count},
    {"audit", ag_schema_audit, &ag_schema_audit_count},
    {"cases", ag_schema_cases, &ag_schema_cases_count},
    {"identity", ag_schema_identity, &ag_schema_identity_count},
    {"intel", ag_schema_intel, &ag_schema_intel_count},
    {"console", ag_schema_console, &ag_schema_console_count},
};
const int ag_migration_tracks_count = (int)AG_ARRAY_LEN(ag_migration_tracks);

static struct ag_db_sql q_version = {.sql = "SELECT version FROM ag_schema WHERE module = ?1"};
static struct ag_db_sql q_set = {
    .sql = "INSERT INTO ag_schema(module, version) VALUES (?1, ?2) "
    "ON CONFLICT(module) DO UPDATE SET version = excluded.version"};
static struct ag_db_sql q_sum = {.sql = "SELECT COALESCE(SUM(version), 0) FROM ag_schema"};

static int track_version(struct ag_db *db, const char *module, int *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_version, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, module);
    int rc = ag_db_step(st, err);
    *out = rc == AG_DB_ROW ? (int)ag_db_col_int64(st, 0) : 0;
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_schema_migrate(struct ag_db *db, bool pg, int *applied, struct ag_err *err)
{
    *applied = 0;
    int rc = ag_db_exec(db,
                        "CREATE TABLE IF NOT EXISTS ag_schema (module TEXT PRIMARY KEY, "
                        "version INTEGER NOT NULL)",
                        err);
    if (rc)
        return rc;
    for (int t = 0; t < ag_migration_tracks_count; t++) {
        const struct ag_migration_track *tr = &ag_migration_tracks[t];
        int have;
        if ((rc = track_version(db, tr->module, &have, err)))
            return rc;
        int latest = *tr->count ? tr->list[*tr->count - 1].version : 0;
        if (have > latest)
            return ag_err_set(err, AG_EINVAL, "schema_too_new", "store",
                              "the store's %s schema is at version %d, newer than this build's %d",
                              tr->module, have, latest);
        for (int i = 0; i < *tr->count; i++) {
            const struct ag_migration *m = &tr->list[i];
            if (m->version <= have)
                continue;
            struct ag_err e2;
            if ((rc = ag_db_exec(db, pg ? "BEGIN" : "BEGIN IMMEDIATE", &e2)))
                return ag_err_set(err, rc, "migration_failed", "store", "%s", e2.msg);
            struct ag_db_stmt *st;
            if ((rc = ag_db_exec(db, pg ? m->pg : m->sqlite, &e2)) == 0 &&
                (st = ag_db_stmt(db, &q_set, &e2)) != NULL) {
                ag_db_bind_text(st, 1, tr->module);
                ag_db_bind_int64(st, 2, m->version);
                rc = ag_db_run(st, &e2);
            } else if (!rc) {
                rc = AG_EIO;
            }
            if (!rc)
                rc = ag_db_exec(db, "COMMIT", &e2);
            if (rc) {
                ag_db_exec(db, "ROLLBACK", NULL);
                return ag_err_set(err, AG_EIO, "migration_failed", "store",
                                  "migration %s %d (%s) failed: %s", tr->module, m->version,
                                  m->name, e2.msg);
            }
            (*applied)++;
        }
    }
    return 0;
}

int ag_schema_latest(void)
{
    int sum = 0;
    for (int t = 0; t < ag_migration_tracks_count; t++) {
        const struct ag_migration_track *tr = &ag_migration_tracks[t];
        if (*tr->count)
            sum += tr->list[*tr->count - 1].version;
    }
    return sum;
}

int ag_schema_current(struct ag_db *db, struct ag_err *err)
{
    struct ag_err e2;
    if (ag_db_exec(db, "CREATE TABLE IF NOT EXISTS ag_schema (module TEXT PRIMARY KEY, "
                       "version INTEGER NOT NULL)",
                   &e2))
        return 0;
    struct ag_db_stmt *st = ag_db_stmt(db, &q_sum, err);
    if (!st)
        return AG_EIO;
    int v = ag_db_step(st, err) == AG_DB_ROW ? (int)ag_db_col_int64(st, 0) : 0;
    ag_db_reset(st);
    return v;
}
