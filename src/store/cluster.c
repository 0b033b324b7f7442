/* Velocity counters shared by several nodes (store/cluster.h). Each node
 * adds to its own rows, inside the event's transaction (an event rolled
 * back counts nothing); readers sum over every node's rows in the window. */
#include "store/store_impl.h"

#include <stdio.h>
#include <string.h>

static struct ag_db_sql q_add = {
    .sql = "INSERT INTO vel_counters(kind, key, bucket, node, n, bits) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
           "ON CONFLICT(kind, key, bucket, node) DO UPDATE SET n = vel_counters.n + excluded.n, "
           "bits = vel_counters.bits | excluded.bits"};
/* PostgreSQL: every row of an event in one statement (one round trip). */
static struct ag_db_sql q_add_many = {
    .sql = "SELECT 1", /* not used on SQLite */
    .pg_sql = "INSERT INTO vel_counters(kind, key, bucket, node, n, bits) "
              "SELECT k, ky, ?3, ?4, c, b FROM unnest(CAST(?1 AS INTEGER[]), CAST(?2 AS BIGINT[]), "
              "CAST(?5 AS BIGINT[]), CAST(?6 AS BIGINT[])) AS t(k, ky, c, b) "
              "ON CONFLICT(kind, key, bucket, node) DO UPDATE SET n = vel_counters.n + excluded.n, "
              "bits = vel_counters.bits | excluded.bits"};
static struct ag_db_sql q_read = {
    .sql = "SELECT kind, key, n, bits FROM vel_counters WHERE bucket > ?1 AND (kind, key) IN "
           "((?2, ?3), (?4, ?5), (?6, ?7), (?8, ?9), (?10, ?11), (?12, ?13), (?14, ?15), (?16, ?17))"};
static struct ag_db_sql q_expire = {.sql = "DELETE FROM vel_counters WHERE bucket < ?1"};

static int add_one(struct ag_store_tx *tx, int64_t node, const struct ag_store_vel_row *r,
                   struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_add, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, r->kind);
    ag_db_bind_int64(st, 2, r->key);
    ag_db_bind_int64(st, 3, r->bucket);
    ag_db_bind_int64(st, 4, node);
    ag_db_bind_int64(st, 5, r->n);
    ag_db_bind_int64(st, 6, (int64_t)r->bits);
    return ag_db_run(st, err);
}

int ag_store_velocity_add(struct ag_store_tx *tx, int64_t node, const struct ag_store_vel_row *rows,
                          int nrows, struct ag_err *err)
{
    if (nrows <= 0)
        return 0;
    if (nrows > 16)
        return ag_err_set(err, AG_EINVAL, NULL, "", "too many velocity rows");
    bool same_bucket = true;
    for (int i = 1; i < nrows; i++)
        same_bucket &= rows[i].bucket == rows[0].bucket;
    if (nrows == 1 || !same_bucket || strcmp(ag_store_backend(tx->s), "postgres") != 0) {
        for (int i = 0; i < nrows; i++) {
            int rc = add_one(tx, node, &rows[i], err);
            if (rc)
                return rc;
        }
        return 0;
    }
    char kinds[16 * 12 + 4], keys[16 * 22 + 4], ns[16 * 22 + 4], bits[16 * 22 + 4];
    size_t a = 0, b = 0, c = 0, d = 0;
    for (int i = 0; i < nrows; i++) {
        const char *sep = i ? "," : "{";
        a += (size_t)snprintf(kinds + a, sizeof kinds - a, "%s%d", sep, rows[i].kind);
        b += (size_t)snprintf(keys + b, sizeof keys - b, "%s%lld", sep, (long long)rows[i].key);
        c += (size_t)snprintf(ns + c, sizeof ns - c, "%s%lld", sep, (long long)rows[i].n);
        d += (size_t)snprintf(bits + d, sizeof bits - d, "%s%lld", sep, (long long)rows[i].bits);
    }
    snprintf(kinds + a, sizeof kinds - a, "}");
    snprintf(keys + b, sizeof keys - b, "}");
    snprintf(ns + c, sizeof ns - c, "}");
    snprintf(bits + d, sizeof bits - d, "}");
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_add_many, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, kinds);
    ag_db_bind_text(st, 2, keys);
    ag_db_bind_int64(st, 3, rows[0].bucket);
    ag_db_bind_int64(st, 4, node);
    ag_db_bind_text(st, 5, ns);
    ag_db_bind_text(st, 6, bits);
    return ag_db_run(st, err);
}

static int velocity_read(struct ag_db *db, int64_t min_bucket, struct ag_store_vel_row *q, int n,
                         struct ag_err *err)
{
    if (n > AG_STORE_VEL_READ_MAX)
        return ag_err_set(err, AG_EINVAL, NULL, "", "too many velocity keys");
    struct ag_db_stmt *st = ag_db_stmt(db, &q_read, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, min_bucket);
    for (int i = 0; i < AG_STORE_VEL_READ_MAX; i++) {
        ag_db_bind_int64(st, 2 + 2 * i, i < n ? q[i].kind : -1); /* -1: no such kind */
        ag_db_bind_int64(st, 3 + 2 * i, i < n ? q[i].key : 0);
    }
    for (int i = 0; i < n; i++) {
        q[i].n = 0;
        q[i].bits = 0;
    }
    int rc;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        int kind = (int)ag_db_col_int64(st, 0);
        int64_t key = ag_db_col_int64(st, 1);
        for (int i = 0; i < n; i++)
            if (q[i].kind == kind && q[i].key == key) {
                q[i].n += ag_db_col_int64(st, 2);
                q[i].bits |= (uint64_t)ag_db_col_int64(st, 3);
            }
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_velocity_read(struct ag_store *s, int64_t min_bucket, struct ag_store_vel_row *q,
                           int n, struct ag_err *err)
{
    AG_STORE_READ(s, velocity_read(db, min_bucket, q, n, err));
}

int ag_store_velocity_expire(struct ag_store_tx *tx, int64_t before_bucket, int64_t *deleted,
                             struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_expire, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, before_bucket);
    int rc = ag_db_run(st, err);
    if (deleted)
        *deleted = rc ? 0 : ag_db_changes(tx->db);
    return rc;
}
