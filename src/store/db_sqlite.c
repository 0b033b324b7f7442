/* The SQLite backend of the SQL layer: WAL mode and synchronous=FULL (a
 * commit is on disk when it returns), prepared statements cached per
 * connection by slot, uniqueness violations reported as AG_ECONFLICT. */
#include "store/db.h"
#include "core/util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ag_db_stmt {
    struct ag_db *db; /* first: the generic layer reads it */
    sqlite3_stmt *st;
};

/* Transaction-control statements the writer runs for every job and batch,
 * kept prepared instead of parsed on each exec. */
static const char *const control_sql[] = {"BEGIN IMMEDIATE", "COMMIT",      "ROLLBACK",
                                          "SAVEPOINT job",   "RELEASE job", "ROLLBACK TO job"};
#define NCONTROL ((int)(sizeof control_sql / sizeof control_sql[0]))

struct ag_db {
    struct ag_db_base base;
    sqlite3 *h;
    struct ag_db_stmt **cache; /* indexed by slot; each allocated once, so a statement
                                 * stays put while others are prepared */
    int ncache;
    sqlite3_stmt *control[NCONTROL];
};

static int fail(struct ag_db *db, struct ag_err *err, const char *what)
{
    return ag_err_set(err, AG_EIO, "store_error", "", "%s: %s", what, sqlite3_errmsg(db->h));
}

static void sq_disconnect(struct ag_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->ncache; i++)
        if (db->cache[i]) {
            sqlite3_finalize(db->cache[i]->st);
            free(db->cache[i]);
        }
    for (int i = 0; i < NCONTROL; i++)
        sqlite3_finalize(db->control[i]);
    free(db->cache);
    sqlite3_close(db->h);
    free(db);
}

static int sq_connect(const char *url, bool writer, struct ag_db **out, struct ag_err *err)
{
    struct ag_db *db = calloc(1, sizeof *db);
    if (!db)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    db->base.ops = &ag_db_sqlite_ops;
    bool uri = !strncmp(url, "file:", 5);
    bool mem = !strcmp(url, ":memory:") || (uri && strstr(url, "mode=memory"));
    int flags = SQLITE_OPEN_READWRITE | (writer ? SQLITE_OPEN_CREATE : 0) |
                (uri ? SQLITE_OPEN_URI : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(url, &db->h, flags, NULL) != SQLITE_OK) {
        int rc = ag_err_set(err, AG_EIO, "store_error", "store", "cannot open %s: %s", url,
                            db->h ? sqlite3_errmsg(db->h) : "out of memory");
        sq_disconnect(db);
        return rc;
    }
    sqlite3_busy_timeout(db->h, 10000);
    const char *pragmas = mem ? (writer ? "PRAGMA foreign_keys=ON;"
                                        : "PRAGMA foreign_keys=ON; PRAGMA read_uncommitted=1;")
                              : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=1000;";
    /* wal_autocheckpoint: a checkpoint runs in the commit that crosses it,
     * and the requests waiting on that commit wait for it too. 1,000 pages
     * (SQLite's default) keeps each one short: under the events benchmark,
     * p99 10-13 ms against 13-18 ms at 4,000 and 2,000 pages, at the same
     * throughput (docs/PERFORMANCE.md); 300 cut throughput by a quarter. A
     * checkpointer thread of its own was tried and made p99 worse (46-75 ms):
     * on two cores it competes with the writer for CPU and the disk. A 64 MiB
     * page cache for the writer (SQLite's default is 2 MiB) was tried too: no
     * measurable gain under the benchmark, and the server's memory grew with
     * the store as the cache filled (the soak's RSS bound, docs/PERFORMANCE.md). */
    char *msg = NULL;
    if (sqlite3_exec(db->h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = ag_err_set(err, AG_EIO, "store_error", "store", "cannot set up %s: %s", url,
                            msg ? msg : "?");
        sqlite3_free(msg);
        sq_disconnect(db);
        return rc;
    }
    *out = db;
    return 0;
}

static struct ag_db_stmt *sq_stmt(struct ag_db *db, struct ag_db_sql *q, int slot,
                                  struct ag_err *err)
{
    if (slot >= db->ncache) {
        int n = ag_db_slots_used() + 32;
        struct ag_db_stmt **c = realloc(db->cache, (size_t)n * sizeof *c);
        if (!c) {
            ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            return NULL;
        }
        memset(c + db->ncache, 0, (size_t)(n - db->ncache) * sizeof *c);
        db->cache = c;
        db->ncache = n;
    }
    if (!db->cache[slot] && !(db->cache[slot] = calloc(1, sizeof *db->cache[slot]))) {
        ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        return NULL;
    }
    struct ag_db_stmt *s = db->cache[slot];
    if (!s->st) {
        s->db = db;
        if (sqlite3_prepare_v3(db->h, q->sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL) !=
            SQLITE_OK) {
            fail(db, err, "prepare");
            s->st = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(s->st);
        sqlite3_clear_bindings(s->st);
    }
    return s;
}

static void sq_bind_text(struct ag_db_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st->st, i, v ? v : "", -1, SQLITE_STATIC);
}
static void sq_bind_int64(struct ag_db_stmt *st, int i, int64_t v) { sqlite3_bind_int64(st->st, i, v); }
static void sq_bind_double(struct ag_db_stmt *st, int i, double v) { sqlite3_bind_double(st->st, i, v); }
static void sq_bind_blob(struct ag_db_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(st->st, i, p ? p : "", (int)n, SQLITE_STATIC);
}
static void sq_bind_null(struct ag_db_stmt *st, int i) { sqlite3_bind_null(st->st, i); }

static int sq_step(struct ag_db_stmt *st, struct ag_err *err)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return AG_DB_ROW;
    if (rc == SQLITE_DONE)
        return AG_DB_DONE;
    if (rc == SQLITE_CONSTRAINT) {
        int ext = sqlite3_extended_errcode(st->db->h);
        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
            ag_err_set(err, AG_ECONFLICT, "conflict", "", "already exists");
            return AG_ECONFLICT;
        }
    }
    return fail(st->db, err, "step");
}

static const char *sq_col_text(struct ag_db_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st->st, i);
    return v ? (const char *)v : "";
}
static int64_t sq_col_int64(struct ag_db_stmt *st, int i) { return sqlite3_column_int64(st->st, i); }
static double sq_col_double(struct ag_db_stmt *st, int i) { return sqlite3_column_double(st->st, i); }
static const void *sq_col_blob(struct ag_db_stmt *st, int i) { return sqlite3_column_blob(st->st, i); }
static size_t sq_col_bytes(struct ag_db_stmt *st, int i)
{
    return (size_t)sqlite3_column_bytes(st->st, i);
}
static bool sq_col_null(struct ag_db_stmt *st, int i)
{
    return sqlite3_column_type(st->st, i) == SQLITE_NULL;
}
static void sq_reset(struct ag_db_stmt *st) { sqlite3_reset(st->st); }
static int64_t sq_changes(struct ag_db *db) { return sqlite3_changes64(db->h); }
static int64_t sq_last_rowid(struct ag_db *db) { return sqlite3_last_insert_rowid(db->h); }

static int sq_exec(struct ag_db *db, const char *sql, struct ag_err *err)
{
    for (int i = 0; i < NCONTROL; i++) {
        if (strcmp(sql, control_sql[i]) != 0)
            continue;
        if (!db->control[i] &&
            sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &db->control[i], NULL) !=
                SQLITE_OK)
            break; /* fall back to sqlite3_exec, which reports the error */
        int rc = sqlite3_step(db->control[i]);
        sqlite3_reset(db->control[i]);
        if (rc == SQLITE_DONE)
            return 0;
        return fail(db, err, sql);
    }
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = ag_err_set(err, AG_EIO, "store_error", "", "%s", msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int sq_check(struct ag_db *db, struct ag_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
        return fail(db, err, "integrity check");
    int rc = 0;
    const unsigned char *v = NULL;
    if (sqlite3_step(s) != SQLITE_ROW || !(v = sqlite3_column_text(s, 0)) ||
        strcmp((const char *)v, "ok") != 0)
        rc = ag_err_set(err, AG_EIO, "integrity_check_failed", "", "integrity check: %s",
                        v ? (const char *)v : "no answer");
    sqlite3_finalize(s);
    return rc;
}

const struct ag_db_ops ag_db_sqlite_ops = {
    .name = "sqlite",
    .begin_sql = "BEGIN IMMEDIATE",
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .stmt = sq_stmt,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_text = sq_col_text,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_blob = sq_col_blob,
    .col_bytes = sq_col_bytes,
    .col_null = sq_col_null,
    .reset = sq_reset,
    .changes = sq_changes,
    .last_rowid = sq_last_rowid,
    .exec = sq_exec,
    .check = sq_check,
};
