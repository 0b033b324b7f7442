/* Versioned schema migrations, one list per backend with the same version
 * numbers: migration N of SQLite and of PostgreSQL create the same tables.
 * Add a migration by appending to both lists; never edit a released one. */
#ifndef AG_STORE_MIGRATIONS_H
#define AG_STORE_MIGRATIONS_H

struct ag_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct ag_migration ag_sqlite_migrations[];
extern const int ag_sqlite_migrations_count;

#endif
