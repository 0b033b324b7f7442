/* Hot state shared by several nodes (store/cluster.h).
 *
 * Velocity counters: each node adds to its own rows, inside the event's
 * transaction (an event rolled back counts nothing); readers sum over every
 * node's rows in the window.
 *
 * Learned state: an account's profile and activity blobs with versions,
 * read with the account's row (a blob only when it is newer than the
 * reader's), and locked, read and written back in the writer's
 * transaction. */
#include "store/store_impl.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
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

/* ---- learned state: profile and activity blobs with versions ---- */

/* The account's columns first, in ag_store_account_read's order. */
static struct ag_db_sql q_learned_get = {
    .sql = "SELECT a.id, a.role, a.state, a.frozen_reason, a.frozen_by, a.frozen_until, a.locale, "
           "a.created_at, a.updated_at, a.activity_version, "
           "CASE WHEN a.activity_version > ?2 THEN a.activity END, COALESCE(p.version, 0), "
           "CASE WHEN p.version > ?3 THEN p.blob END "
           "FROM accounts a LEFT JOIN risk_profiles p ON p.account_id = a.id WHERE a.id = ?1"};
/* PostgreSQL, read committed: after waiting for the lock, the locked row is
 * read as committed (a.*), the joined one as of the statement's start (p.*):
 * a.profile_version tells whether p is still current. */
static struct ag_db_sql q_learned_lock = {
    .sql = "SELECT a.activity_version, a.activity, COALESCE(p.version, 0), p.blob, "
           "a.profile_version FROM accounts a LEFT JOIN risk_profiles p ON p.account_id = a.id "
           "WHERE a.id = ?1",
    .pg_sql = "SELECT a.activity_version, a.activity, COALESCE(p.version, 0), p.blob, "
              "a.profile_version FROM accounts a LEFT JOIN risk_profiles p "
              "ON p.account_id = a.id WHERE a.id = ?1 FOR NO KEY UPDATE OF a"};
/* The profile again, once the lock is held (a new statement: a new snapshot). */
static struct ag_db_sql q_learned_profile_get = {
    .sql = "SELECT version, blob FROM risk_profiles WHERE account_id = ?1"};
static struct ag_db_sql q_learned_profile = {
    .sql = "INSERT INTO risk_profiles(account_id, blob, updated_at, version) "
           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(account_id) DO UPDATE SET blob = excluded.blob, "
           "updated_at = excluded.updated_at, version = excluded.version"};
static struct ag_db_sql q_learned_activity = {
    .sql = "UPDATE accounts SET activity = ?2, activity_version = ?3 WHERE id = ?1"};
static struct ag_db_sql q_learned_activity_profile = {
    .sql = "UPDATE accounts SET activity = ?2, activity_version = ?3, profile_version = ?4 "
           "WHERE id = ?1"};
/* PostgreSQL: the profile and the account's row in one statement (one
 * round trip). */
static struct ag_db_sql q_learned_both = {
    .sql = "SELECT 1", /* not used on SQLite */
    .pg_sql = "WITH p AS (INSERT INTO risk_profiles(account_id, blob, updated_at, version) "
              "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(account_id) DO UPDATE SET blob = excluded.blob, "
              "updated_at = excluded.updated_at, version = excluded.version) "
              "UPDATE accounts SET activity = ?5, activity_version = ?6, profile_version = ?4 "
              "WHERE id = ?1"};

/* Copy blob column <col> into <buf> (<cap> bytes); *len = 0 for NULL. */
static int blob_copy(struct ag_db_stmt *st, int col, uint8_t *buf, size_t cap, size_t *len,
                     const char *what, struct ag_err *err)
{
    *len = 0;
    if (ag_db_col_null(st, col))
        return 0;
    size_t n = ag_db_col_bytes(st, col);
    if (n > cap)
        return ag_err_set(err, AG_ELIMIT, "store_error", "",
                          "stored %s blob of %zu bytes is larger than %zu", what, n, cap);
    if (n)
        memcpy(buf, ag_db_col_blob(st, col), n);
    *len = n;
    return 0;
}

struct learned_row {
    struct ag_account_rec *acct; /* NULL: the lock read, without the account's columns */
    struct ag_store_learned *out;
    int64_t account_profile_ver; /* the lock read's a.profile_version */
    int rc;
    struct ag_err *err;
};

/* The account's columns (if wanted), then: activity version, activity,
 * profile version, profile, and for the lock read a.profile_version. */
static void read_learned(struct ag_db_stmt *st, void *arg)
{
    struct learned_row *r = arg;
    struct ag_store_learned *out = r->out;
    int col = 0;
    if (r->acct) {
        ag_store_account_read(st, r->acct);
        col = 9;
    } else {
        r->account_profile_ver = ag_db_col_int64(st, 4);
    }
    out->activity_ver = ag_db_col_int64(st, col);
    out->profile_ver = ag_db_col_int64(st, col + 2);
    if (!(r->rc = blob_copy(st, col + 1, out->activity, out->activity_cap, &out->activity_len,
                            "activity", r->err)))
        r->rc = blob_copy(st, col + 3, out->profile, out->profile_cap, &out->profile_len,
                          "profile", r->err);
}

static void read_profile(struct ag_db_stmt *st, void *arg)
{
    struct learned_row *r = arg;
    r->out->profile_ver = ag_db_col_int64(st, 0);
    r->rc = blob_copy(st, 1, r->out->profile, r->out->profile_cap, &r->out->profile_len,
                      "profile", r->err);
}

static int learned_get(struct ag_db *db, const char *id, int64_t have_profile,
                       int64_t have_activity, struct ag_account_rec *acct,
                       struct ag_store_learned *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_learned_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_int64(st, 2, have_activity);
    ag_db_bind_int64(st, 3, have_profile);
    struct learned_row r = {.acct = acct, .out = out, .err = err};
    int rc = ag_db_one(st, read_learned, &r, "account_not_found", "account", "account", id, err);
    return rc ? rc : r.rc;
}

int ag_store_learned_get(struct ag_store *s, const char *id, int64_t have_profile,
                         int64_t have_activity, struct ag_account_rec *acct,
                         struct ag_store_learned *out, struct ag_err *err)
{
    AG_STORE_READ(s, learned_get(db, id, have_profile, have_activity, acct, out, err));
}

int ag_store_learned_lock(struct ag_store_tx *tx, const char *id, struct ag_store_learned *out,
                          struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_learned_lock, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    struct learned_row r = {.out = out, .err = err};
    int rc = ag_db_one(st, read_learned, &r, "account_not_found", "account", "account", id, err);
    if (rc || r.rc || r.account_profile_ver == out->profile_ver)
        return rc ? rc : r.rc;
    /* Another node stored the profile while this one waited for the lock. */
    if (!(st = ag_db_stmt(tx->db, &q_learned_profile_get, err)))
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    out->profile_ver = 0;
    out->profile_len = 0;
    rc = ag_db_one(st, read_profile, &r, "not_found", "account", "risk profile", id, err);
    if (rc == AG_ENOTFOUND)
        return 0;
    return rc ? rc : r.rc;
}

int ag_store_learned_put(struct ag_store_tx *tx, const char *id, const struct ag_store_learned *l,
                         struct ag_err *err)
{
    struct ag_db_stmt *st;
    if (!l->activity_len)
        return ag_err_set(err, AG_EINVAL, NULL, "", "no activity blob to store");
    if (!l->profile_len) {
        if (!(st = ag_db_stmt(tx->db, &q_learned_activity, err)))
            return AG_EIO;
        ag_db_bind_text(st, 1, id);
        ag_db_bind_blob(st, 2, l->activity, l->activity_len);
        ag_db_bind_int64(st, 3, l->activity_ver);
        return ag_db_run(st, err);
    }
    if (!strcmp(ag_store_backend(tx->s), "postgres")) {
        if (!(st = ag_db_stmt(tx->db, &q_learned_both, err)))
            return AG_EIO;
        ag_db_bind_text(st, 1, id);
        ag_db_bind_blob(st, 2, l->profile, l->profile_len);
        ag_db_bind_int64(st, 3, ag_time_now_ms());
        ag_db_bind_int64(st, 4, l->profile_ver);
        ag_db_bind_blob(st, 5, l->activity, l->activity_len);
        ag_db_bind_int64(st, 6, l->activity_ver);
        return ag_db_run(st, err);
    }
    if (!(st = ag_db_stmt(tx->db, &q_learned_profile, err)))
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_blob(st, 2, l->profile, l->profile_len);
    ag_db_bind_int64(st, 3, ag_time_now_ms());
    ag_db_bind_int64(st, 4, l->profile_ver);
    int rc = ag_db_run(st, err);
    if (rc || !(st = ag_db_stmt(tx->db, &q_learned_activity_profile, err)))
        return rc ? rc : AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_blob(st, 2, l->activity, l->activity_len);
    ag_db_bind_int64(st, 3, l->activity_ver);
    ag_db_bind_int64(st, 4, l->profile_ver);
    return ag_db_run(st, err);
}

/* ---- published rules ---- */

static struct ag_db_sql q_rules_add = {
    .sql = "INSERT INTO rules_published (text, published_at, actor) VALUES (?1, ?2, ?3) "
           "RETURNING version"};
static struct ag_db_sql q_rules_version = {
    .sql = "SELECT COALESCE(max(version), 0) FROM rules_published"};
static struct ag_db_sql q_rules_latest = {
    .sql = "SELECT version, text FROM rules_published ORDER BY version DESC LIMIT 1"};

int ag_store_rules_publish(struct ag_store_tx *tx, const char *text, size_t len, int64_t at,
                           const char *actor, int64_t *version, struct ag_err *err)
{
    if (strlen(text) != len)
        return ag_err_set(err, AG_EINVAL, "invalid_rules", "text", "rules text holds a NUL byte");
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_rules_add, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, text);
    ag_db_bind_int64(st, 2, at);
    ag_db_bind_text(st, 3, actor ? actor : "");
    int rc = ag_db_step(st, err);
    *version = rc == AG_DB_ROW ? ag_db_col_int64(st, 0) : 0;
    ag_db_reset(st);
    return rc == AG_DB_ROW ? 0 : rc < 0 ? rc : AG_EIO;
}

struct rules_row {
    int64_t *version;
    char **text;
    size_t *len;
    int rc;
};

static void read_rules(struct ag_db_stmt *st, void *arg)
{
    struct rules_row *r = arg;
    *r->version = ag_db_col_int64(st, 0);
    if (!r->text)
        return;
    const char *t = ag_db_col_text(st, 1);
    *r->len = t ? strlen(t) : 0;
    if (!(*r->text = malloc(*r->len + 1))) {
        r->rc = AG_ENOMEM;
        return;
    }
    memcpy(*r->text, t ? t : "", *r->len + 1);
}

static int rules_latest(struct ag_db *db, int64_t *version, char **text, size_t *len,
                        struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_rules_latest, err);
    if (!st)
        return AG_EIO;
    struct rules_row r = {version, text, len, 0};
    int rc = ag_db_one(st, read_rules, &r, "not_found", "rules", "published rules", "", err);
    if (!rc && r.rc)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    return rc;
}

int ag_store_rules_latest(struct ag_store *s, int64_t *version, char **text, size_t *len,
                          struct ag_err *err)
{
    AG_STORE_READ(s, rules_latest(db, version, text, len, err));
}

static void read_version(struct ag_db_stmt *st, void *arg) { *(int64_t *)arg = ag_db_col_int64(st, 0); }

static int rules_version(struct ag_db *db, int64_t *version, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_rules_version, err);
    if (!st)
        return AG_EIO;
    return ag_db_one(st, read_version, version, "not_found", "rules", "published rules", "", err);
}

int ag_store_rules_version(struct ag_store *s, int64_t *version, struct ag_err *err)
{
    AG_STORE_READ(s, rules_version(db, version, err));
}
