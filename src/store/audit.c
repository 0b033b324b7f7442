/* Audit log records: rows and the head row, written once against the SQL
 * layer (db.h). The hash chain itself is computed by src/audit/. */
#include "store/store_impl.h"

#include <string.h>

#define AUDIT_COLS "seq, at, actor, action, target, details, prev_hash, hash"
static struct ag_db_sql q_head = {.sql = "SELECT seq, hash FROM audit_head WHERE id = 1"};
static struct ag_db_sql q_put = {
    .sql = "INSERT INTO audit_log(" AUDIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
static struct ag_db_sql q_head_set = {
    .sql = "INSERT INTO audit_head(id, seq, hash) VALUES (1, ?1, ?2) "
    "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"};
static struct ag_db_sql q_scan = {
    .sql = "SELECT " AUDIT_COLS " FROM audit_log WHERE seq > ?1 "
    "AND (?3 = '' OR target = ?3) AND (?4 = '' OR actor = ?4) ORDER BY seq LIMIT ?2"};

static int head_get(struct ag_db *db, int64_t *seq, uint8_t hash[32], struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_head, err);
    if (!st)
        return AG_EIO;
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW) {
        *seq = ag_db_col_int64(st, 0);
        memset(hash, 0, 32);
        if (ag_db_col_bytes(st, 1) == 32)
            memcpy(hash, ag_db_col_blob(st, 1), 32);
    }
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "not_found", "", "the audit log is empty");
    return rc == AG_DB_ROW ? 0 : rc;
}

int ag_store_audit_head_tx(struct ag_store_tx *tx, int64_t *seq, uint8_t hash[32],
                           struct ag_err *err)
{
    return head_get(tx->db, seq, hash, err);
}

int ag_store_audit_head(struct ag_store *s, int64_t *seq, uint8_t hash[32], struct ag_err *err)
{
    AG_STORE_READ(s, head_get(db, seq, hash, err));
}

int ag_store_audit_put(struct ag_store_tx *tx, const struct ag_audit_rec *r, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, r->seq);
    ag_db_bind_int64(st, 2, r->at);
    ag_db_bind_text(st, 3, r->actor);
    ag_db_bind_text(st, 4, r->action);
    ag_db_bind_text(st, 5, r->target);
    ag_db_bind_text(st, 6, r->details ? r->details : "{}");
    ag_db_bind_blob(st, 7, r->prev_hash, 32);
    ag_db_bind_blob(st, 8, r->hash, 32);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "audit_conflict", "",
                          "audit entry %lld exists", (long long)r->seq);
    if (rc)
        return rc;
    if (!(st = ag_db_stmt(tx->db, &q_head_set, err)))
        return AG_EIO;
    ag_db_bind_int64(st, 1, r->seq);
    ag_db_bind_blob(st, 2, r->hash, 32);
    return ag_db_run(st, err);
}

struct each_audit {
    int (*cb)(void *, const struct ag_audit_rec *);
    void *arg;
};

static int each_audit_row(struct ag_db_stmt *st, void *p)
{
    struct each_audit *e = p;
    struct ag_audit_rec r;
    memset(&r, 0, sizeof r);
    r.seq = ag_db_col_int64(st, 0);
    r.at = ag_db_col_int64(st, 1);
    ag_db_col_copy(st, 2, r.actor, sizeof r.actor);
    ag_db_col_copy(st, 3, r.action, sizeof r.action);
    ag_db_col_copy(st, 4, r.target, sizeof r.target);
    r.details = ag_db_col_text(st, 5);
    /* A blob of the wrong size (tampering) reads as zeros: verify reports it. */
    if (ag_db_col_bytes(st, 6) == 32)
        memcpy(r.prev_hash, ag_db_col_blob(st, 6), 32);
    if (ag_db_col_bytes(st, 7) == 32)
        memcpy(r.hash, ag_db_col_blob(st, 7), 32);
    return e->cb(e->arg, &r);
}

static int scan(struct ag_db *db, int64_t after_seq, int limit, const char *target,
                const char *actor, int (*cb)(void *, const struct ag_audit_rec *), void *arg,
                struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_scan, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, after_seq);
    ag_db_bind_int64(st, 2, limit);
    ag_db_bind_text(st, 3, target ? target : "");
    ag_db_bind_text(st, 4, actor ? actor : "");
    struct each_audit e = {cb, arg};
    return ag_db_each(st, each_audit_row, &e, err);
}

int ag_store_audit_scan(struct ag_store *s, int64_t after_seq, int limit, const char *target,
                        const char *actor, int (*cb)(void *, const struct ag_audit_rec *),
                        void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, scan(db, after_seq, limit, target, actor, cb, arg, err));
}
