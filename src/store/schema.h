/* Internal to src/store: versioned schema migrations, one track per
 * subsystem so subsystems evolve their tables independently. The store
 * records each track's version in the table ag_schema(module, version).
 * A migration carries its DDL for SQLite and for PostgreSQL; both must
 * create the same tables. Add a migration by appending to the track's list;
 * never edit one that has shipped. Add a track with one row in schema.c. */
#ifndef AG_STORE_SCHEMA_H
#define AG_STORE_SCHEMA_H

#include "store/db.h"

struct ag_migration {
    int version; /* 1, 2, 3 ... within its track */
    const char *name;
    const char *sqlite;
    const char *pg;
};

struct ag_migration_track {
    const char *module;
    const struct ag_migration *list;
    const int *count;
};

extern const struct ag_migration_track ag_migration_tracks[];
extern const int ag_migration_tracks_count;

/* Apply every pending migration of every track on <db> (the writer's
 * connection, outside any transaction), each in its own transaction.
 * *applied gets how many ran. */
int ag_schema_migrate(struct ag_db *db, bool pg, int *applied, struct ag_err *err);
/* Sum of every track's latest version (a single number for "is this store
 * up to date"). */
int ag_schema_latest(void);
/* Sum of the versions recorded in <db>. */
int ag_schema_current(struct ag_db *db, struct ag_err *err);

/* Tracks (one file each: schema_<module>.c). */
extern const struct ag_migration ag_schema_core[];
extern const int ag_schema_core_count;
extern const struct ag_migration ag_schema_notify[];
extern const int ag_schema_notify_count;
extern const struct ag_migration ag_schema_audit[];
extern const int ag_schema_audit_count;
extern const struct ag_migration ag_schema_cases[];
extern const int ag_schema_cases_count;
extern const struct ag_migration ag_schema_identity[];
extern const int ag_schema_identity_count;
extern const struct ag_migration ag_schema_intel[];
extern const int ag_schema_intel_count;
extern const struct ag_migration ag_schema_console[];
extern const int ag_schema_console_count;

#endif
