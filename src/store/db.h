/* Internal to src/store: the backend-neutral SQL layer every record file
 * (core.c, and one file per subsystem) is written against, so each store
 * operation is written once and runs on SQLite and PostgreSQL alike.
 *
 * SQL uses ?1, ?2, ... placeholders (the PostgreSQL backend rewrites them to
 * $1, $2, ...), RETURNING for generated keys, ON CONFLICT for upserts, and
 * integers for booleans and times. Where the dialects truly differ, a
 * statement carries a PostgreSQL variant. */
#ifndef AG_STORE_DB_H
#define AG_STORE_DB_H

#include "core/err.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_db;      /* one connection */
struct ag_db_stmt; /* a prepared statement, cached on its connection */

/* A statement, declared once as a static where it is used:
 *   static struct ag_db_sql q_get = {"SELECT ... WHERE id = ?1"};
 * <slot> is assigned on first use and indexes each connection's cache. */
struct ag_db_sql {
    const char *sql;
    const char *pg_sql; /* NULL: the same text */
    _Atomic int slot;   /* 0 = not yet assigned */
};

enum { AG_DB_DONE = 0, AG_DB_ROW = 1 };

/* Prepared (first time on this connection) and reset, bindings cleared.
 * NULL with <err> set if the SQL does not prepare. */
struct ag_db_stmt *ag_db_stmt(struct ag_db *db, struct ag_db_sql *q, struct ag_err *err);
void ag_db_bind_text(struct ag_db_stmt *st, int i, const char *v);
void ag_db_bind_int64(struct ag_db_stmt *st, int i, int64_t v);
void ag_db_bind_double(struct ag_db_stmt *st, int i, double v);
void ag_db_bind_blob(struct ag_db_stmt *st, int i, const void *p, size_t n);
void ag_db_bind_null(struct ag_db_stmt *st, int i);
/* Run or advance: AG_DB_ROW with a row to read, AG_DB_DONE when finished,
 * AG_ECONFLICT on a uniqueness violation, AG_EIO otherwise (with <err>). */
int ag_db_step(struct ag_db_stmt *st, struct ag_err *err);
const char *ag_db_col_text(struct ag_db_stmt *st, int i); /* never NULL ("" for NULL) */
int64_t ag_db_col_int64(struct ag_db_stmt *st, int i);
double ag_db_col_double(struct ag_db_stmt *st, int i);
const void *ag_db_col_blob(struct ag_db_stmt *st, int i);
size_t ag_db_col_bytes(struct ag_db_stmt *st, int i);
bool ag_db_col_null(struct ag_db_stmt *st, int i);
/* Release the statement's result (call when done reading). */
void ag_db_reset(struct ag_db_stmt *st);
/* Rows changed by the last INSERT/UPDATE/DELETE stepped on <db>. */
int64_t ag_db_changes(struct ag_db *db);
/* The rowid of the last row inserted on <db> (SQLite); 0 where the backend
 * has none (PostgreSQL: use RETURNING). */
int64_t ag_db_last_rowid(struct ag_db *db);
/* Run one or more statements with no parameters and no rows (DDL). */
int ag_db_exec(struct ag_db *db, const char *sql, struct ag_err *err);

/* Copy a text column into a fixed buffer (truncating). */
void ag_db_col_copy(struct ag_db_stmt *st, int i, char *dst, size_t n);
/* Run a statement expected to return no rows: 0, AG_ECONFLICT or AG_EIO. */
int ag_db_run(struct ag_db_stmt *st, struct ag_err *err);

/* Step a bound statement expected to return at most one row: on a row,
 * call <read>(st, out) and return 0; with no row return AG_ENOTFOUND with
 * <err> set to slug <slug>, field <field> and "no <what> <key>"; on an
 * error return it. The statement is reset either way. */
int ag_db_one(struct ag_db_stmt *st, void (*read)(struct ag_db_stmt *st, void *out), void *out,
              const char *slug, const char *field, const char *what, const char *key,
              struct ag_err *err);
/* Step a bound statement through its rows, calling <row>(st, arg) on each
 * until it returns non-zero. Returns 0 or the step's error; resets it. */
int ag_db_each(struct ag_db_stmt *st, int (*row)(struct ag_db_stmt *st, void *arg), void *arg,
               struct ag_err *err);

/* ---- backends ---- */

struct ag_db_ops {
    const char *name;
    const char *begin_sql; /* "BEGIN IMMEDIATE" / "BEGIN" */
    int (*connect)(const char *url, bool writer, struct ag_db **out, struct ag_err *err);
    void (*disconnect)(struct ag_db *db);
    /* the statement API above, dispatched through here */
    struct ag_db_stmt *(*stmt)(struct ag_db *db, struct ag_db_sql *q, int slot, struct ag_err *err);
    void (*bind_text)(struct ag_db_stmt *st, int i, const char *v);
    void (*bind_int64)(struct ag_db_stmt *st, int i, int64_t v);
    void (*bind_double)(struct ag_db_stmt *st, int i, double v);
    void (*bind_blob)(struct ag_db_stmt *st, int i, const void *p, size_t n);
    void (*bind_null)(struct ag_db_stmt *st, int i);
    int (*step)(struct ag_db_stmt *st, struct ag_err *err);
    const char *(*col_text)(struct ag_db_stmt *st, int i);
    int64_t (*col_int64)(struct ag_db_stmt *st, int i);
    double (*col_double)(struct ag_db_stmt *st, int i);
    const void *(*col_blob)(struct ag_db_stmt *st, int i);
    size_t (*col_bytes)(struct ag_db_stmt *st, int i);
    bool (*col_null)(struct ag_db_stmt *st, int i);
    void (*reset)(struct ag_db_stmt *st);
    int64_t (*changes)(struct ag_db *db);
    int64_t (*last_rowid)(struct ag_db *db);
    int (*exec)(struct ag_db *db, const char *sql, struct ag_err *err);
    int (*check)(struct ag_db *db, struct ag_err *err);
};

/* Every connection starts with this header, so the generic layer can
 * dispatch. */
struct ag_db_base {
    const struct ag_db_ops *ops;
    /* Set by a backend when a statement failed for a reason that goes away
     * on its own (PostgreSQL: deadlock, serialization failure); the writer
     * clears it, and reruns a job that failed with it set. */
    bool retryable;
};

extern const struct ag_db_ops ag_db_sqlite_ops;
extern const struct ag_db_ops ag_db_pg_ops;

/* The highest slot handed out so far (backends size their caches by it). */
int ag_db_slots_used(void);

#endif
