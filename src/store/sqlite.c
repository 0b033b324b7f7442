/* The SQLite backend: WAL mode, synchronous=FULL (a commit is on disk when it
 * returns), prepared statements cached per connection, migrations from
 * migrations_sqlite.c. One writer connection (the store's writer thread) and
 * a pool of readers; WAL lets readers run while the writer commits. */
#include "store/migrations.h"
#include "store/store_impl.h"
#include "core/timeutil.h"
#include "core/util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_APIKEY_PUT,
    ST_APIKEY_REVOKE,
    ST_APIKEY_GET,
    ST_APIKEY_LIST,
    ST_ACCOUNT_PUT,
    ST_ACCOUNT_GET,
    ST_ACCOUNT_SCAN,
    ST_ACCOUNT_LOG_PUT,
    ST_ACCOUNT_LOG_LIST,
    ST_EVENT_PUT,
    ST_EVENT_GET,
    ST_EVENT_LIST_ACCOUNT,
    ST_EVENT_SCAN,
    ST_EVENT_COUNT,
    ST_PROFILE_PUT,
    ST_PROFILE_SCAN,
    ST__COUNT
};

#define EVENT_COLS                                                                               \
    "seq, id, account_id, type, occurred_at, received_at, request_hash, event_json, action, "    \
    "risk, response_json"

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",
    [ST_APIKEY_PUT] = "INSERT INTO api_keys(id, name, hash, scopes, created_at, revoked_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_APIKEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0",
    [ST_APIKEY_GET] = "SELECT id, name, hash, scopes, created_at, revoked_at FROM api_keys "
                      "WHERE id = ?1",
    [ST_APIKEY_LIST] = "SELECT id, name, hash, scopes, created_at, revoked_at FROM api_keys "
                       "ORDER BY created_at, id",
    [ST_ACCOUNT_PUT] =
        "INSERT INTO accounts(id, role, state, frozen_reason, frozen_by, frozen_until, locale, "
        "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT(id) DO UPDATE SET role = ?2, state = ?3, frozen_reason = ?4, "
        "frozen_by = ?5, frozen_until = ?6, locale = ?7, updated_at = ?9",
    [ST_ACCOUNT_GET] = "SELECT id, role, state, frozen_reason, frozen_by, frozen_until, locale, "
                       "created_at, updated_at FROM accounts WHERE id = ?1",
    [ST_ACCOUNT_SCAN] = "SELECT id, role, state, frozen_reason, frozen_by, frozen_until, locale, "
                        "created_at, updated_at FROM accounts",
    [ST_ACCOUNT_LOG_PUT] = "INSERT INTO account_log(account_id, action, reason, actor, until, at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_ACCOUNT_LOG_LIST] = "SELECT seq, account_id, action, reason, actor, until, at "
                            "FROM account_log WHERE account_id = ?1 ORDER BY seq",
    [ST_EVENT_PUT] = "INSERT INTO events(id, account_id, type, occurred_at, received_at, "
                     "request_hash, event_json, action, risk, response_json) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_EVENT_GET] = "SELECT " EVENT_COLS " FROM events WHERE id = ?1",
    [ST_EVENT_LIST_ACCOUNT] = "SELECT " EVENT_COLS " FROM events WHERE account_id = ?1 "
                              "AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    [ST_EVENT_SCAN] = "SELECT " EVENT_COLS " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_EVENT_COUNT] = "SELECT count(*) FROM events",
    [ST_PROFILE_PUT] = "INSERT INTO risk_profiles(account_id, blob, updated_at) "
                       "VALUES (?1, ?2, ?3) ON CONFLICT(account_id) DO UPDATE SET "
                       "blob = ?2, updated_at = ?3",
    [ST_PROFILE_SCAN] = "SELECT account_id, blob FROM risk_profiles",
};

struct ag_store_conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
};

static int db_err(struct ag_store_conn *c, struct ag_err *err, const char *what)
{
    return ag_err_set(err, AG_EIO, "store_error", "", "%s: %s", what, sqlite3_errmsg(c->db));
}

static sqlite3_stmt *stmt(struct ag_store_conn *c, enum stmt_id id)
{
    if (!c->st[id]) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
                               NULL) != SQLITE_OK)
            return NULL;
    } else {
        sqlite3_reset(c->st[id]);
        sqlite3_clear_bindings(c->st[id]);
    }
    return c->st[id];
}

/* Run a statement that returns no rows. */
static int exec_stmt(struct ag_store_conn *c, enum stmt_id id)
{
    sqlite3_stmt *s = stmt(c, id);
    if (!s)
        return AG_EIO;
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : AG_EIO;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

static void col_copy(sqlite3_stmt *s, int i, char *dst, size_t n)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    snprintf(dst, n, "%s", v ? (const char *)v : "");
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return strdup(v ? (const char *)v : "");
}

static void sq_disconnect(struct ag_store_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

static int sq_connect(const char *url, bool writer, struct ag_store_conn **out, struct ag_err *err)
{
    struct ag_store_conn *c = calloc(1, sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    bool mem = !strcmp(url, ":memory:");
    int flags = SQLITE_OPEN_READWRITE | (writer ? SQLITE_OPEN_CREATE : 0) |
                (mem ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX);
    if (sqlite3_open_v2(url, &c->db, flags, NULL) != SQLITE_OK) {
        int rc = ag_err_set(err, AG_EIO, "store_error", "store", "cannot open %s: %s", url,
                            c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sq_disconnect(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, 10000);
    const char *pragmas = mem ? "PRAGMA foreign_keys=ON;"
                              : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=4000;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = ag_err_set(err, AG_EIO, "store_error", "store", "cannot set up %s: %s", url,
                            msg ? msg : "?");
        sqlite3_free(msg);
        sq_disconnect(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int user_version(struct ag_store_conn *c)
{
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}

static int sq_migrate(struct ag_store_conn *c, int *from, int *to, struct ag_err *err)
{
    int v = user_version(c);
    if (v < 0)
        return db_err(c, err, "reading the schema version");
    *from = *to = v;
    int latest = ag_sqlite_migrations[ag_sqlite_migrations_count - 1].version;
    if (v > latest)
        return ag_err_set(err, AG_EINVAL, "schema_too_new", "store",
                          "the store's schema version %d is newer than this build's %d", v, latest);
    for (int i = 0; i < ag_sqlite_migrations_count; i++) {
        const struct ag_migration *m = &ag_sqlite_migrations[i];
        if (m->version <= v)
            continue;
        char *msg = NULL;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;", m->version);
        if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            int rc = ag_err_set(err, AG_EIO, "migration_failed", "store",
                                "migration %d (%s) failed: %s", m->version, m->name,
                                msg ? msg : sqlite3_errmsg(c->db));
            sqlite3_free(msg);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        *to = m->version;
    }
    return 0;
}

int ag_store_schema_version(void)
{
    return ag_sqlite_migrations[ag_sqlite_migrations_count - 1].version;
}

static int sq_check(struct ag_store_conn *c, struct ag_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(c->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
        return db_err(c, err, "integrity check");
    int rc = 0;
    if (sqlite3_step(s) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
        rc = ag_err_set(err, AG_EIO, "integrity_check_failed", "", "integrity check: %s",
                        sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                  : "no answer");
    sqlite3_finalize(s);
    return rc;
}

static int sq_begin(struct ag_store_conn *c, struct ag_err *err)
{
    return exec_stmt(c, ST_BEGIN) ? db_err(c, err, "begin") : 0;
}
static int sq_commit(struct ag_store_conn *c, struct ag_err *err)
{
#ifdef AG_FAULT_INJECTION
    if (getenv("AG_FAULT_COMMIT") && ag_fault_alloc_fire())
        return ag_err_set(err, AG_EIO, "store_error", "", "injected commit failure");
#endif
    return exec_stmt(c, ST_COMMIT) ? db_err(c, err, "commit") : 0;
}
static int sq_rollback(struct ag_store_conn *c) { return exec_stmt(c, ST_ROLLBACK); }
static int sq_savepoint(struct ag_store_conn *c) { return exec_stmt(c, ST_SAVEPOINT); }
static int sq_release(struct ag_store_conn *c) { return exec_stmt(c, ST_RELEASE); }
static int sq_rollback_to(struct ag_store_conn *c) { return exec_stmt(c, ST_ROLLBACK_TO); }

/* ---- API keys ---- */

static void read_apikey(sqlite3_stmt *s, struct ag_apikey_rec *k)
{
    memset(k, 0, sizeof *k);
    col_copy(s, 0, k->id, sizeof k->id);
    col_copy(s, 1, k->name, sizeof k->name);
    int n = sqlite3_column_bytes(s, 2);
    if (n == 32)
        memcpy(k->hash, sqlite3_column_blob(s, 2), 32);
    col_copy(s, 3, k->scopes, sizeof k->scopes);
    k->created_at = sqlite3_column_int64(s, 4);
    k->revoked_at = sqlite3_column_int64(s, 5);
}

static int sq_apikey_put(struct ag_store_conn *c, const struct ag_apikey_rec *k, struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_APIKEY_PUT);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, k->id);
    bind_text(s, 2, k->name);
    sqlite3_bind_blob(s, 3, k->hash, 32, SQLITE_STATIC);
    bind_text(s, 4, k->scopes);
    sqlite3_bind_int64(s, 5, k->created_at);
    sqlite3_bind_int64(s, 6, k->revoked_at);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        return ag_err_set(err, AG_ECONFLICT, "conflict", "id", "API key %s exists", k->id);
    return rc == SQLITE_DONE ? 0 : db_err(c, err, "apikey put");
}

static int sq_apikey_revoke(struct ag_store_conn *c, const char *id, int64_t at, struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_APIKEY_REVOKE);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return db_err(c, err, "apikey revoke");
    if (sqlite3_changes(c->db) == 0) {
        struct ag_apikey_rec k;
        sqlite3_stmt *g = stmt(c, ST_APIKEY_GET);
        bind_text(g, 1, id);
        int found = sqlite3_step(g) == SQLITE_ROW;
        if (found)
            read_apikey(g, &k);
        sqlite3_reset(g);
        if (!found)
            return ag_err_set(err, AG_ENOTFOUND, "not_found", "id", "no API key %s", id);
    }
    return 0;
}

static int sq_apikey_get(struct ag_store_conn *c, const char *id, struct ag_apikey_rec *out,
                         struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_APIKEY_GET);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_apikey(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "not_found", "id", "no API key %s", id);
    return rc == SQLITE_ROW ? 0 : db_err(c, err, "apikey get");
}

static int sq_apikey_list(struct ag_store_conn *c, int (*cb)(void *, const struct ag_apikey_rec *),
                          void *arg, struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_APIKEY_LIST);
    if (!s)
        return db_err(c, err, "prepare");
    int rc;
    struct ag_apikey_rec k;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_apikey(s, &k);
        if (cb(arg, &k))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ERROR ? db_err(c, err, "apikey list") : 0;
}

/* ---- accounts ---- */

static void read_account(sqlite3_stmt *s, struct ag_account_rec *a)
{
    memset(a, 0, sizeof *a);
    col_copy(s, 0, a->id, sizeof a->id);
    col_copy(s, 1, a->role, sizeof a->role);
    col_copy(s, 2, a->state, sizeof a->state);
    col_copy(s, 3, a->frozen_reason, sizeof a->frozen_reason);
    col_copy(s, 4, a->frozen_by, sizeof a->frozen_by);
    a->frozen_until = sqlite3_column_int64(s, 5);
    col_copy(s, 6, a->locale, sizeof a->locale);
    a->created_at = sqlite3_column_int64(s, 7);
    a->updated_at = sqlite3_column_int64(s, 8);
}

static int sq_account_put(struct ag_store_conn *c, const struct ag_account_rec *a,
                          struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_ACCOUNT_PUT);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, a->id);
    bind_text(s, 2, a->role[0] ? a->role : "customer");
    bind_text(s, 3, a->state[0] ? a->state : "active");
    bind_text(s, 4, a->frozen_reason);
    bind_text(s, 5, a->frozen_by);
    sqlite3_bind_int64(s, 6, a->frozen_until);
    bind_text(s, 7, a->locale[0] ? a->locale : "en");
    sqlite3_bind_int64(s, 8, a->created_at);
    sqlite3_bind_int64(s, 9, a->updated_at);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : db_err(c, err, "account put");
}

static int sq_account_get(struct ag_store_conn *c, const char *id, struct ag_account_rec *out,
                          struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_ACCOUNT_GET);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_account(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "account_not_found", "account", "no account %s", id);
    return rc == SQLITE_ROW ? 0 : db_err(c, err, "account get");
}

static int sq_account_scan(struct ag_store_conn *c, int (*cb)(void *, const struct ag_account_rec *),
                           void *arg, struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_ACCOUNT_SCAN);
    if (!s)
        return db_err(c, err, "prepare");
    int rc;
    struct ag_account_rec a;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_account(s, &a);
        if (cb(arg, &a))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ERROR ? db_err(c, err, "account scan") : 0;
}

static int sq_account_log_put(struct ag_store_conn *c, const struct ag_account_log_rec *l,
                              struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_ACCOUNT_LOG_PUT);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, l->account_id);
    bind_text(s, 2, l->action);
    bind_text(s, 3, l->reason);
    bind_text(s, 4, l->actor);
    sqlite3_bind_int64(s, 5, l->until);
    sqlite3_bind_int64(s, 6, l->at);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : db_err(c, err, "account log put");
}

static int sq_account_log_list(struct ag_store_conn *c, const char *account_id,
                               int (*cb)(void *, const struct ag_account_log_rec *), void *arg,
                               struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_ACCOUNT_LOG_LIST);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, account_id);
    int rc;
    struct ag_account_log_rec l;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&l, 0, sizeof l);
        l.seq = sqlite3_column_int64(s, 0);
        col_copy(s, 1, l.account_id, sizeof l.account_id);
        col_copy(s, 2, l.action, sizeof l.action);
        col_copy(s, 3, l.reason, sizeof l.reason);
        col_copy(s, 4, l.actor, sizeof l.actor);
        l.until = sqlite3_column_int64(s, 5);
        l.at = sqlite3_column_int64(s, 6);
        if (cb(arg, &l))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ERROR ? db_err(c, err, "account log list") : 0;
}

/* ---- events ---- */

static int read_event(sqlite3_stmt *s, struct ag_event_row *r)
{
    memset(r, 0, sizeof *r);
    r->seq = sqlite3_column_int64(s, 0);
    r->id = col_dup(s, 1);
    r->account_id = col_dup(s, 2);
    r->type = col_dup(s, 3);
    r->occurred_at = sqlite3_column_int64(s, 4);
    r->received_at = sqlite3_column_int64(s, 5);
    if (sqlite3_column_bytes(s, 6) == 32)
        memcpy(r->request_hash, sqlite3_column_blob(s, 6), 32);
    r->event_json = col_dup(s, 7);
    r->action = col_dup(s, 8);
    r->risk = sqlite3_column_double(s, 9);
    r->response_json = col_dup(s, 10);
    if (!r->id || !r->account_id || !r->type || !r->event_json || !r->action ||
        !r->response_json) {
        ag_event_row_free(r);
        return AG_ENOMEM;
    }
    return 0;
}

static int sq_event_put(struct ag_store_conn *c, struct ag_event_rec *e, struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_EVENT_PUT);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, e->id);
    bind_text(s, 2, e->account_id);
    bind_text(s, 3, e->type);
    sqlite3_bind_int64(s, 4, e->occurred_at);
    sqlite3_bind_int64(s, 5, e->received_at);
    sqlite3_bind_blob(s, 6, e->request_hash, 32, SQLITE_STATIC);
    bind_text(s, 7, e->event_json);
    bind_text(s, 8, e->action);
    sqlite3_bind_double(s, 9, e->risk);
    bind_text(s, 10, e->response_json);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        return ag_err_set(err, AG_ECONFLICT, "duplicate_event", "id", "event %s exists", e->id);
    if (rc != SQLITE_DONE)
        return db_err(c, err, "event put");
    e->seq = sqlite3_last_insert_rowid(c->db);
    return 0;
}

static int sq_event_get(struct ag_store_conn *c, const char *id, struct ag_event_row *out,
                        struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_EVENT_GET);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, id);
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW)
        r = read_event(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "event_not_found", "id", "no event %s", id);
    if (r)
        return ag_err_set(err, r, NULL, "", "out of memory");
    return rc == SQLITE_ROW ? 0 : db_err(c, err, "event get");
}

static int each_event(struct ag_store_conn *c, sqlite3_stmt *s,
                      int (*cb)(void *, const struct ag_event_row *), void *arg,
                      struct ag_err *err)
{
    int rc;
    struct ag_event_row r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (read_event(s, &r)) {
            sqlite3_reset(s);
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        }
        int stop = cb(arg, &r);
        ag_event_row_free(&r);
        if (stop)
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ERROR ? db_err(c, err, "event list") : 0;
}

static int sq_event_list_account(struct ag_store_conn *c, const char *account_id,
                                 int64_t before_seq, int limit,
                                 int (*cb)(void *, const struct ag_event_row *), void *arg,
                                 struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_EVENT_LIST_ACCOUNT);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, account_id);
    sqlite3_bind_int64(s, 2, before_seq > 0 ? before_seq : INT64_MAX);
    sqlite3_bind_int(s, 3, limit);
    return each_event(c, s, cb, arg, err);
}

static int sq_event_scan(struct ag_store_conn *c, int64_t after_seq, int limit,
                         int (*cb)(void *, const struct ag_event_row *), void *arg,
                         struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_EVENT_SCAN);
    if (!s)
        return db_err(c, err, "prepare");
    sqlite3_bind_int64(s, 1, after_seq);
    sqlite3_bind_int(s, 2, limit);
    return each_event(c, s, cb, arg, err);
}

static int64_t sq_event_count(struct ag_store_conn *c)
{
    sqlite3_stmt *s = stmt(c, ST_EVENT_COUNT);
    int64_t n = -1;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    if (s)
        sqlite3_reset(s);
    return n;
}

/* ---- risk profiles ---- */

static int sq_profile_put(struct ag_store_conn *c, const char *account_id, const void *blob,
                          size_t len, struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_PROFILE_PUT);
    if (!s)
        return db_err(c, err, "prepare");
    bind_text(s, 1, account_id);
    sqlite3_bind_blob(s, 2, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, ag_time_now_ms());
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : db_err(c, err, "profile put");
}

static int sq_profile_scan(struct ag_store_conn *c,
                           int (*cb)(void *, const char *, const void *, size_t), void *arg,
                           struct ag_err *err)
{
    sqlite3_stmt *s = stmt(c, ST_PROFILE_SCAN);
    if (!s)
        return db_err(c, err, "prepare");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cb(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_blob(s, 1),
               (size_t)sqlite3_column_bytes(s, 1)))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ERROR ? db_err(c, err, "profile scan") : 0;
}

const struct ag_store_ops ag_store_sqlite_ops = {
    .name = "sqlite",
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .migrate = sq_migrate,
    .check = sq_check,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .apikey_put = sq_apikey_put,
    .apikey_revoke = sq_apikey_revoke,
    .apikey_get = sq_apikey_get,
    .apikey_list = sq_apikey_list,
    .account_put = sq_account_put,
    .account_get = sq_account_get,
    .account_scan = sq_account_scan,
    .account_log_put = sq_account_log_put,
    .account_log_list = sq_account_log_list,
    .event_put = sq_event_put,
    .event_get = sq_event_get,
    .event_list_account = sq_event_list_account,
    .event_scan = sq_event_scan,
    .event_count = sq_event_count,
    .profile_put = sq_profile_put,
    .profile_scan = sq_profile_scan,
};
