/* The generic half of the SQL layer: statement slots and dispatch. */
#include "store/db.h"

#include <stdio.h>

static _Atomic int next_slot = 1;

int ag_db_slots_used(void) { return atomic_load(&next_slot); }

#define OPS(db) (((struct ag_db_base *)(db))->ops)
/* A statement's first member is its connection. */
struct ag_db_stmt_base {
    struct ag_db *db;
};
#define SOPS(st) OPS(((struct ag_db_stmt_base *)(st))->db)

struct ag_db_stmt *ag_db_stmt(struct ag_db *db, struct ag_db_sql *q, struct ag_err *err)
{
    int slot = atomic_load(&q->slot);
    if (!slot) {
        int fresh = atomic_fetch_add(&next_slot, 1);
        int expected = 0;
        if (!atomic_compare_exchange_strong(&q->slot, &expected, fresh))
            slot = expected; /* another thread assigned it first */
        else
            slot = fresh;
    }
    return OPS(db)->stmt(db, q, slot, err);
}

void ag_db_bind_text(struct ag_db_stmt *st, int i, const char *v) { SOPS(st)->bind_text(st, i, v); }
void ag_db_bind_int64(struct ag_db_stmt *st, int i, int64_t v) { SOPS(st)->bind_int64(st, i, v); }
void ag_db_bind_double(struct ag_db_stmt *st, int i, double v) { SOPS(st)->bind_double(st, i, v); }
void ag_db_bind_blob(struct ag_db_stmt *st, int i, const void *p, size_t n)
{
    SOPS(st)->bind_blob(st, i, p, n);
}
void ag_db_bind_null(struct ag_db_stmt *st, int i) { SOPS(st)->bind_null(st, i); }
int ag_db_step(struct ag_db_stmt *st, struct ag_err *err) { return SOPS(st)->step(st, err); }
const char *ag_db_col_text(struct ag_db_stmt *st, int i) { return SOPS(st)->col_text(st, i); }
int64_t ag_db_col_int64(struct ag_db_stmt *st, int i) { return SOPS(st)->col_int64(st, i); }
double ag_db_col_double(struct ag_db_stmt *st, int i) { return SOPS(st)->col_double(st, i); }
const void *ag_db_col_blob(struct ag_db_stmt *st, int i) { return SOPS(st)->col_blob(st, i); }
size_t ag_db_col_bytes(struct ag_db_stmt *st, int i) { return SOPS(st)->col_bytes(st, i); }
bool ag_db_col_null(struct ag_db_stmt *st, int i) { return SOPS(st)->col_null(st, i); }
void ag_db_reset(struct ag_db_stmt *st) { SOPS(st)->reset(st); }
int64_t ag_db_changes(struct ag_db *db) { return OPS(db)->changes(db); }
int64_t ag_db_last_rowid(struct ag_db *db) { return OPS(db)->last_rowid(db); }
int ag_db_exec(struct ag_db *db, const char *sql, struct ag_err *err)
{
    return OPS(db)->exec(db, sql, err);
}

void ag_db_col_copy(struct ag_db_stmt *st, int i, char *dst, size_t n)
{
    snprintf(dst, n, "%s", ag_db_col_text(st, i));
}

int ag_db_run(struct ag_db_stmt *st, struct ag_err *err)
{
    int rc = ag_db_step(st, err);
    ag_db_reset(st);
    if (rc == AG_DB_DONE || rc == AG_DB_ROW)
        return 0;
    return rc;
}

int ag_db_one(struct ag_db_stmt *st, void (*read)(struct ag_db_stmt *, void *), void *out,
              const char *slug, const char *field, const char *what, const char *key,
              struct ag_err *err)
{
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        read(st, out);
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, slug, field, "no %s %s", what, key);
    return rc == AG_DB_ROW ? 0 : rc;
}

int ag_db_each(struct ag_db_stmt *st, int (*row)(struct ag_db_stmt *, void *), void *arg,
               struct ag_err *err)
{
    int rc;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW)
        if (row(st, arg))
            break;
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}
