/* Core records: API keys, accounts and their state log, events with their
 * decisions, risk profiles. Written once against the SQL layer (db.h). */
#include "store/store_impl.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

/* ---- API keys ---- */

#define APIKEY_COLS "id, name, hash, scopes, created_at, revoked_at"
static struct ag_db_sql q_apikey_put = {
    .sql = "INSERT INTO api_keys(" APIKEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
static struct ag_db_sql q_apikey_revoke = {
    .sql = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0"};
static struct ag_db_sql q_apikey_get = {.sql = "SELECT " APIKEY_COLS " FROM api_keys WHERE id = ?1"};
static struct ag_db_sql q_apikey_list = {.sql = "SELECT " APIKEY_COLS
                                         " FROM api_keys ORDER BY created_at, id"};

static void read_apikey(struct ag_db_stmt *st, void *out)
{
    struct ag_apikey_rec *k = out;
    memset(k, 0, sizeof *k);
    ag_db_col_copy(st, 0, k->id, sizeof k->id);
    ag_db_col_copy(st, 1, k->name, sizeof k->name);
    if (ag_db_col_bytes(st, 2) == 32)
        memcpy(k->hash, ag_db_col_blob(st, 2), 32);
    ag_db_col_copy(st, 3, k->scopes, sizeof k->scopes);
    k->created_at = ag_db_col_int64(st, 4);
    k->revoked_at = ag_db_col_int64(st, 5);
}

int ag_store_apikey_put(struct ag_store_tx *tx, const struct ag_apikey_rec *k, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_apikey_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, k->id);
    ag_db_bind_text(st, 2, k->name);
    ag_db_bind_blob(st, 3, k->hash, 32);
    ag_db_bind_text(st, 4, k->scopes);
    ag_db_bind_int64(st, 5, k->created_at);
    ag_db_bind_int64(st, 6, k->revoked_at);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "conflict", "id", "API key %s exists", k->id);
    return rc;
}

static int apikey_get(struct ag_db *db, const char *id, struct ag_apikey_rec *out,
                      struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_apikey_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return ag_db_one(st, read_apikey, out, "not_found", "id", "API key", id, err);
}

int ag_store_apikey_revoke(struct ag_store_tx *tx, const char *id, int64_t at, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_apikey_revoke, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_int64(st, 2, at);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 0) {
        struct ag_apikey_rec k;
        return apikey_get(tx->db, id, &k, err); /* AG_ENOTFOUND, or 0: already revoked */
    }
    return 0;
}

int ag_store_apikey_get(struct ag_store *s, const char *id, struct ag_apikey_rec *out,
                        struct ag_err *err)
{
    AG_STORE_READ(s, apikey_get(db, id, out, err));
}

AG_DB_EACH_RECORD(apikey, struct ag_apikey_rec, read_apikey)

static int apikey_list(struct ag_db *db, int (*cb)(void *, const struct ag_apikey_rec *),
                       void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_apikey_list, err);
    if (!st)
        return AG_EIO;
    struct each_apikey e = {cb, arg};
    return ag_db_each(st, each_apikey_row, &e, err);
}

int ag_store_apikey_list(struct ag_store *s, int (*cb)(void *, const struct ag_apikey_rec *),
                         void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, apikey_list(db, cb, arg, err));
}

/* ---- accounts ---- */

#define ACCOUNT_COLS                                                                             \
    "id, role, state, frozen_reason, frozen_by, frozen_until, locale, created_at, updated_at"
static struct ag_db_sql q_account_put = {
    .sql = "INSERT INTO accounts(" ACCOUNT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(id) DO UPDATE SET role = excluded.role, state = excluded.state, "
    "frozen_reason = excluded.frozen_reason, frozen_by = excluded.frozen_by, "
    "frozen_until = excluded.frozen_until, locale = excluded.locale, "
    "updated_at = excluded.updated_at"};
static struct ag_db_sql q_account_create = {
    .sql = "INSERT INTO accounts(" ACCOUNT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"};
static struct ag_db_sql q_account_get = {.sql = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1"};
static struct ag_db_sql q_account_scan = {.sql = "SELECT " ACCOUNT_COLS " FROM accounts"};
static struct ag_db_sql q_account_log_put = {
    .sql = "INSERT INTO account_log(account_id, action, reason, actor, until, at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
static struct ag_db_sql q_account_log_list = {
    .sql = "SELECT seq, account_id, action, reason, actor, until, at FROM account_log "
    "WHERE account_id = ?1 ORDER BY seq"};

void ag_store_account_read(struct ag_db_stmt *st, void *out)
{
    struct ag_account_rec *a = out;
    memset(a, 0, sizeof *a);
    ag_db_col_copy(st, 0, a->id, sizeof a->id);
    ag_db_col_copy(st, 1, a->role, sizeof a->role);
    ag_db_col_copy(st, 2, a->state, sizeof a->state);
    ag_db_col_copy(st, 3, a->frozen_reason, sizeof a->frozen_reason);
    ag_db_col_copy(st, 4, a->frozen_by, sizeof a->frozen_by);
    a->frozen_until = ag_db_col_int64(st, 5);
    ag_db_col_copy(st, 6, a->locale, sizeof a->locale);
    a->created_at = ag_db_col_int64(st, 7);
    a->updated_at = ag_db_col_int64(st, 8);
}

int ag_store_account_put(struct ag_store_tx *tx, const struct ag_account_rec *a, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_account_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, a->id);
    ag_db_bind_text(st, 2, a->role[0] ? a->role : "customer");
    ag_db_bind_text(st, 3, a->state[0] ? a->state : "active");
    ag_db_bind_text(st, 4, a->frozen_reason);
    ag_db_bind_text(st, 5, a->frozen_by);
    ag_db_bind_int64(st, 6, a->frozen_until);
    ag_db_bind_text(st, 7, a->locale[0] ? a->locale : "en");
    ag_db_bind_int64(st, 8, a->created_at);
    ag_db_bind_int64(st, 9, a->updated_at);
    return ag_db_run(st, err);
}

int ag_store_account_create(struct ag_store_tx *tx, const struct ag_account_rec *a,
                           struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_account_create, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, a->id);
    ag_db_bind_text(st, 2, a->role[0] ? a->role : "customer");
    ag_db_bind_text(st, 3, a->state[0] ? a->state : "active");
    ag_db_bind_text(st, 4, a->frozen_reason);
    ag_db_bind_text(st, 5, a->frozen_by);
    ag_db_bind_int64(st, 6, a->frozen_until);
    ag_db_bind_text(st, 7, a->locale[0] ? a->locale : "en");
    ag_db_bind_int64(st, 8, a->created_at);
    ag_db_bind_int64(st, 9, a->updated_at);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "account_exists", "account", "account %s exists",
                          a->id);
    return rc;
}

static int account_get(struct ag_db *db, const char *id, struct ag_account_rec *out,
                       struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_account_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return ag_db_one(st, ag_store_account_read, out, "account_not_found", "account", "account", id,
                     err);
}

int ag_store_account_get_tx(struct ag_store_tx *tx, const char *id, struct ag_account_rec *out,
                            struct ag_err *err)
{
    return account_get(tx->db, id, out, err);
}

int ag_store_account_get(struct ag_store *s, const char *id, struct ag_account_rec *out,
                         struct ag_err *err)
{
    AG_STORE_READ(s, account_get(db, id, out, err));
}

AG_DB_EACH_RECORD(account, struct ag_account_rec, ag_store_account_read)

static int account_scan(struct ag_db *db, int (*cb)(void *, const struct ag_account_rec *),
                        void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_account_scan, err);
    if (!st)
        return AG_EIO;
    struct each_account e = {cb, arg};
    return ag_db_each(st, each_account_row, &e, err);
}

int ag_store_account_scan(struct ag_store *s, int (*cb)(void *, const struct ag_account_rec *),
                          void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, account_scan(db, cb, arg, err));
}

int ag_store_account_log_put(struct ag_store_tx *tx, const struct ag_account_log_rec *l,
                             struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_account_log_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, l->account_id);
    ag_db_bind_text(st, 2, l->action);
    ag_db_bind_text(st, 3, l->reason);
    ag_db_bind_text(st, 4, l->actor);
    ag_db_bind_int64(st, 5, l->until);
    ag_db_bind_int64(st, 6, l->at);
    return ag_db_run(st, err);
}

static int account_log_list(struct ag_db *db, const char *account_id,
                            int (*cb)(void *, const struct ag_account_log_rec *), void *arg,
                            struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_account_log_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    int rc;
    struct ag_account_log_rec l;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        memset(&l, 0, sizeof l);
        l.seq = ag_db_col_int64(st, 0);
        ag_db_col_copy(st, 1, l.account_id, sizeof l.account_id);
        ag_db_col_copy(st, 2, l.action, sizeof l.action);
        ag_db_col_copy(st, 3, l.reason, sizeof l.reason);
        ag_db_col_copy(st, 4, l.actor, sizeof l.actor);
        l.until = ag_db_col_int64(st, 5);
        l.at = ag_db_col_int64(st, 6);
        if (cb(arg, &l))
            break;
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_account_log_list(struct ag_store *s, const char *account_id,
                              int (*cb)(void *, const struct ag_account_log_rec *), void *arg,
                              struct ag_err *err)
{
    AG_STORE_READ(s, account_log_list(db, account_id, cb, arg, err));
}

/* ---- events ---- */

#define EVENT_COLS                                                                               \
    "seq, id, account_id, type, occurred_at, received_at, request_hash, event_json, action, "    \
    "risk, response_json, facts"
static struct ag_db_sql q_event_put = {
    /* SQLite: no RETURNING, which buffers its rows in a temporary b-tree
     * per statement (a fifth of the insert's cost); the seq is the rowid. */
    .sql = "INSERT INTO events(id, account_id, type, occurred_at, received_at, request_hash, "
    "event_json, action, risk, response_json, facts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    .pg_sql = "INSERT INTO events(id, account_id, type, occurred_at, received_at, request_hash, "
    "event_json, action, risk, response_json, facts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING seq"};
static struct ag_db_sql q_event_get = {.sql = "SELECT " EVENT_COLS " FROM events WHERE id = ?1"};
static struct ag_db_sql q_event_list_account = {
    .sql = "SELECT " EVENT_COLS " FROM events WHERE account_id = ?1 AND seq < ?2 "
    "ORDER BY seq DESC LIMIT ?3"};
static struct ag_db_sql q_event_scan = {.sql = "SELECT " EVENT_COLS
                                        " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"};
static struct ag_db_sql q_event_count = {.sql = "SELECT count(*) FROM events"};

static int read_event(struct ag_db_stmt *st, struct ag_event_row *r)
{
    memset(r, 0, sizeof *r);
    r->seq = ag_db_col_int64(st, 0);
    r->id = strdup(ag_db_col_text(st, 1));
    r->account_id = strdup(ag_db_col_text(st, 2));
    r->type = strdup(ag_db_col_text(st, 3));
    r->occurred_at = ag_db_col_int64(st, 4);
    r->received_at = ag_db_col_int64(st, 5);
    if (ag_db_col_bytes(st, 6) == 32)
        memcpy(r->request_hash, ag_db_col_blob(st, 6), 32);
    r->event_json = strdup(ag_db_col_text(st, 7));
    r->action = strdup(ag_db_col_text(st, 8));
    r->risk = ag_db_col_double(st, 9);
    r->response_json = strdup(ag_db_col_text(st, 10));
    r->facts_len = ag_db_col_bytes(st, 11);
    if (r->facts_len && (r->facts = malloc(r->facts_len)))
        memcpy(r->facts, ag_db_col_blob(st, 11), r->facts_len);
    if (!r->id || !r->account_id || !r->type || !r->event_json || !r->action ||
        !r->response_json || (r->facts_len && !r->facts)) {
        ag_event_row_free(r);
        return AG_ENOMEM;
    }
    return 0;
}

int ag_store_event_put(struct ag_store_tx *tx, struct ag_event_rec *e, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_event_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, e->id);
    ag_db_bind_text(st, 2, e->account_id);
    ag_db_bind_text(st, 3, e->type);
    ag_db_bind_int64(st, 4, e->occurred_at);
    ag_db_bind_int64(st, 5, e->received_at);
    ag_db_bind_blob(st, 6, e->request_hash, 32);
    ag_db_bind_text(st, 7, e->event_json);
    ag_db_bind_text(st, 8, e->action);
    ag_db_bind_double(st, 9, e->risk);
    ag_db_bind_text(st, 10, e->response_json);
    if (e->facts && e->facts_len)
        ag_db_bind_blob(st, 11, e->facts, e->facts_len);
    else
        ag_db_bind_null(st, 11);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        e->seq = ag_db_col_int64(st, 0);
    else if (rc == AG_DB_DONE)
        e->seq = ag_db_last_rowid(tx->db);
    ag_db_reset(st);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "duplicate_event", "id", "event %s exists", e->id);
    return rc < 0 ? rc : 0;
}

static int event_get(struct ag_db *db, const char *id, struct ag_event_row *out,
                     struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_event_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    int rc = ag_db_step(st, err), r = 0;
    if (rc == AG_DB_ROW)
        r = read_event(st, out);
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "event_not_found", "id", "no event %s", id);
    if (r)
        return ag_err_set(err, r, NULL, "", "out of memory");
    return rc == AG_DB_ROW ? 0 : rc;
}

int ag_store_event_get(struct ag_store *s, const char *id, struct ag_event_row *out,
                       struct ag_err *err)
{
    AG_STORE_READ(s, event_get(db, id, out, err));
}

static int each_event(struct ag_db_stmt *st, int (*cb)(void *, const struct ag_event_row *),
                      void *arg, struct ag_err *err)
{
    int rc;
    struct ag_event_row r;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        if (read_event(st, &r)) {
            ag_db_reset(st);
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        }
        int stop = cb(arg, &r);
        ag_event_row_free(&r);
        if (stop)
            break;
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int event_list_account(struct ag_db *db, const char *account_id, int64_t before_seq,
                              int limit, int (*cb)(void *, const struct ag_event_row *),
                              void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_event_list_account, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_int64(st, 2, before_seq > 0 ? before_seq : INT64_MAX);
    ag_db_bind_int64(st, 3, limit);
    return each_event(st, cb, arg, err);
}

int ag_store_event_list_account(struct ag_store *s, const char *account_id, int64_t before_seq,
                                int limit, int (*cb)(void *, const struct ag_event_row *),
                                void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, event_list_account(db, account_id, before_seq, limit, cb, arg, err));
}

static int event_scan(struct ag_db *db, int64_t after_seq, int limit,
                      int (*cb)(void *, const struct ag_event_row *), void *arg,
                      struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_event_scan, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, after_seq);
    ag_db_bind_int64(st, 2, limit);
    return each_event(st, cb, arg, err);
}

int ag_store_event_scan(struct ag_store *s, int64_t after_seq, int limit,
                        int (*cb)(void *, const struct ag_event_row *), void *arg,
                        struct ag_err *err)
{
    AG_STORE_READ(s, event_scan(db, after_seq, limit, cb, arg, err));
}

static int event_count(struct ag_db *db, int64_t *n)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_event_count, NULL);
    *n = -1;
    if (!st)
        return AG_EIO;
    if (ag_db_step(st, NULL) == AG_DB_ROW)
        *n = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    return 0;
}

static struct ag_db_sql q_event_ids = {.sql = "SELECT id FROM events"};

struct each_id {
    int (*cb)(void *, const char *);
    void *arg;
};

static int each_id_row(struct ag_db_stmt *st, void *p)
{
    struct each_id *e = p;
    return e->cb(e->arg, ag_db_col_text(st, 0));
}

static int event_ids_scan(struct ag_db *db, int (*cb)(void *, const char *), void *arg,
                          struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_event_ids, err);
    if (!st)
        return AG_EIO;
    struct each_id e = {cb, arg};
    return ag_db_each(st, each_id_row, &e, err);
}

int ag_store_event_ids_scan(struct ag_store *s, int (*cb)(void *, const char *), void *arg,
                            struct ag_err *err)
{
    AG_STORE_READ(s, event_ids_scan(db, cb, arg, err));
}

int64_t ag_store_event_count(struct ag_store *s)
{
    int64_t n;
    struct ag_db *db = ag_store_read_acquire(s);
    event_count(db, &n);
    ag_store_read_release(s, db);
    return n;
}

/* Scans of (account id, blob) rows: account activity, risk profiles. */
struct each_blob {
    int (*cb)(void *, const char *, const void *, size_t);
    void *arg;
};

static int each_blob_row(struct ag_db_stmt *st, void *p)
{
    struct each_blob *e = p;
    return e->cb(e->arg, ag_db_col_text(st, 0), ag_db_col_blob(st, 1), ag_db_col_bytes(st, 1));
}

/* ---- account activity ---- */

static struct ag_db_sql q_activity_put = {.sql = "UPDATE accounts SET activity = ?2 WHERE id = ?1"};
static struct ag_db_sql q_activity_scan = {
    .sql = "SELECT id, activity FROM accounts WHERE activity IS NOT NULL"};

int ag_store_activity_put(struct ag_store_tx *tx, const char *account_id, const void *blob,
                          size_t len, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_activity_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_blob(st, 2, blob, len);
    return ag_db_run(st, err);
}

static int activity_scan(struct ag_db *db, int (*cb)(void *, const char *, const void *, size_t),
                         void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_activity_scan, err);
    if (!st)
        return AG_EIO;
    struct each_blob e = {cb, arg};
    return ag_db_each(st, each_blob_row, &e, err);
}

int ag_store_activity_scan(struct ag_store *s,
                           int (*cb)(void *, const char *, const void *, size_t), void *arg,
                           struct ag_err *err)
{
    AG_STORE_READ(s, activity_scan(db, cb, arg, err));
}

/* ---- risk profiles ---- */

static struct ag_db_sql q_profile_put = {
    .sql = "INSERT INTO risk_profiles(account_id, blob, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(account_id) DO UPDATE SET blob = excluded.blob, "
    "updated_at = excluded.updated_at"};
static struct ag_db_sql q_profile_scan = {.sql = "SELECT account_id, blob FROM risk_profiles"};

int ag_store_profile_put(struct ag_store_tx *tx, const char *account_id, const void *blob,
                         size_t len, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_profile_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_blob(st, 2, blob, len);
    ag_db_bind_int64(st, 3, ag_time_now_ms());
    return ag_db_run(st, err);
}

static int profile_scan(struct ag_db *db, int (*cb)(void *, const char *, const void *, size_t),
                        void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_profile_scan, err);
    if (!st)
        return AG_EIO;
    struct each_blob e = {cb, arg};
    return ag_db_each(st, each_blob_row, &e, err);
}

int ag_store_profile_scan(struct ag_store *s,
                          int (*cb)(void *, const char *, const void *, size_t), void *arg,
                          struct ag_err *err)
{
    AG_STORE_READ(s, profile_scan(db, cb, arg, err));
}
