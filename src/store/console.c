/* Console records (store/console.h), written once against the SQL layer. */
#include "store/store_impl.h"

#include <stdio.h>
#include <string.h>

#define PREP(db, q)                                                                              \
    struct ag_db_stmt *st = ag_db_stmt((db), &(q), err);                                         \
    if (!st)                                                                                     \
        return AG_EIO

/* ---- users ---- */

#define USER_COLS                                                                                \
    "id, name, role, password_hash, totp_sealed, totp_last_step, failures, last_failure_at, "    \
    "last_login_at, created_at, disabled_at"
static struct ag_db_sql q_user_put = {
    .sql = "INSERT INTO console_users(" USER_COLS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, 0, ?7, 0)"};
static struct ag_db_sql q_user_get = {.sql = "SELECT " USER_COLS
                                      " FROM console_users WHERE name = ?1"};
static struct ag_db_sql q_user_list = {.sql = "SELECT " USER_COLS
                                       " FROM console_users ORDER BY created_at, name"};
static struct ag_db_sql q_user_disable = {
    .sql = "UPDATE console_users SET disabled_at = ?2 WHERE name = ?1"};
static struct ag_db_sql q_user_signin = {
    .sql = "UPDATE console_users SET failures = ?4, last_failure_at = ?5, "
    "last_login_at = CASE WHEN ?6 > 0 THEN ?6 ELSE last_login_at END, "
    "totp_last_step = CASE WHEN ?3 >= 0 THEN ?3 ELSE totp_last_step END "
    "WHERE id = ?1 AND (?3 < 0 OR totp_last_step = ?2)"};

static void read_user(struct ag_db_stmt *st, int c, struct ag_console_user_rec *u)
{
    memset(u, 0, sizeof *u);
    ag_db_col_copy(st, c + 0, u->id, sizeof u->id);
    ag_db_col_copy(st, c + 1, u->name, sizeof u->name);
    ag_db_col_copy(st, c + 2, u->role, sizeof u->role);
    ag_db_col_copy(st, c + 3, u->password_hash, sizeof u->password_hash);
    size_t n = ag_db_col_bytes(st, c + 4);
    if (n <= sizeof u->totp_sealed) {
        if (n)
            memcpy(u->totp_sealed, ag_db_col_blob(st, c + 4), n);
        u->totp_sealed_len = n;
    }
    u->totp_last_step = ag_db_col_int64(st, c + 5);
    u->failures = (uint32_t)ag_db_col_int64(st, c + 6);
    u->last_failure_at = ag_db_col_int64(st, c + 7);
    u->last_login_at = ag_db_col_int64(st, c + 8);
    u->created_at = ag_db_col_int64(st, c + 9);
    u->disabled_at = ag_db_col_int64(st, c + 10);
}

int ag_store_console_user_put(struct ag_store_tx *tx, const struct ag_console_user_rec *u,
                              struct ag_err *err)
{
    PREP(tx->db, q_user_put);
    ag_db_bind_text(st, 1, u->id);
    ag_db_bind_text(st, 2, u->name);
    ag_db_bind_text(st, 3, u->role);
    ag_db_bind_text(st, 4, u->password_hash);
    ag_db_bind_blob(st, 5, u->totp_sealed, u->totp_sealed_len);
    ag_db_bind_int64(st, 6, u->totp_last_step);
    ag_db_bind_int64(st, 7, u->created_at);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "user_exists", "name",
                          "a console user named '%s' exists", u->name);
    return rc;
}

static int user_get(struct ag_db *db, const char *name, struct ag_console_user_rec *out,
                    struct ag_err *err)
{
    PREP(db, q_user_get);
    ag_db_bind_text(st, 1, name);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        read_user(st, 0, out);
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "no_such_user", "name", "no console user '%s'",
                          name);
    return rc == AG_DB_ROW ? 0 : rc;
}

int ag_store_console_user_get(struct ag_store *s, const char *name,
                              struct ag_console_user_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, user_get(db, name, out, err));
}

int ag_store_console_user_get_tx(struct ag_store_tx *tx, const char *name,
                                 struct ag_console_user_rec *out, struct ag_err *err)
{
    return user_get(tx->db, name, out, err);
}

struct each_user {
    int (*cb)(void *, const struct ag_console_user_rec *);
    void *arg;
};

static int each_user_row(struct ag_db_stmt *st, void *p)
{
    struct each_user *e = p;
    struct ag_console_user_rec u;
    read_user(st, 0, &u);
    return e->cb(e->arg, &u);
}

static int user_list(struct ag_db *db, int (*cb)(void *, const struct ag_console_user_rec *),
                     void *arg, struct ag_err *err)
{
    PREP(db, q_user_list);
    struct each_user e = {cb, arg};
    return ag_db_each(st, each_user_row, &e, err);
}

int ag_store_console_user_list(struct ag_store *s,
                               int (*cb)(void *arg, const struct ag_console_user_rec *u),
                               void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, user_list(db, cb, arg, err));
}

int ag_store_console_user_disable(struct ag_store_tx *tx, const char *name, int64_t at,
                                  struct ag_err *err)
{
    PREP(tx->db, q_user_disable);
    ag_db_bind_text(st, 1, name);
    ag_db_bind_int64(st, 2, at);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 0)
        return ag_err_set(err, AG_ENOTFOUND, "no_such_user", "name", "no console user '%s'",
                          name);
    return 0;
}

int ag_store_console_user_signin(struct ag_store_tx *tx, const char *id, int64_t old_step,
                                 int64_t new_step, uint32_t failures, int64_t last_failure_at,
                                 int64_t last_login_at, struct ag_err *err)
{
    PREP(tx->db, q_user_signin);
    ag_db_bind_text(st, 1, id);
    ag_db_bind_int64(st, 2, old_step);
    ag_db_bind_int64(st, 3, new_step);
    ag_db_bind_int64(st, 4, failures);
    ag_db_bind_int64(st, 5, last_failure_at);
    ag_db_bind_int64(st, 6, last_login_at);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 0)
        return ag_err_set(err, AG_ECONFLICT, "code_reused", "code",
                          "this code was already used; wait for the next one");
    return 0;
}

/* ---- sessions ---- */

#define SESS_COLS                                                                                \
    "s.token_hash, s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, "  \
    "s.ip, s.user_agent"
static struct ag_db_sql q_sess_put = {
    .sql = "INSERT INTO console_sessions(token_hash, id, user_id, created_at, last_seen_at, "
    "expires_at, revoked_at, ip, user_agent) VALUES (?1, ?2, ?3, ?4, ?4, ?5, 0, ?6, ?7)"};
static struct ag_db_sql q_sess_get = {
    .sql = "SELECT " SESS_COLS ", u.id, u.name, u.role, u.password_hash, u.totp_sealed, "
    "u.totp_last_step, u.failures, u.last_failure_at, u.last_login_at, u.created_at, "
    "u.disabled_at FROM console_sessions s JOIN console_users u ON u.id = s.user_id "
    "WHERE s.token_hash = ?1"};
static struct ag_db_sql q_sess_touch = {
    .sql = "UPDATE console_sessions SET last_seen_at = ?2 WHERE token_hash = ?1 "
    "AND last_seen_at < ?2"};
static struct ag_db_sql q_sess_revoke = {
    .sql = "UPDATE console_sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at = 0"};
static struct ag_db_sql q_sess_revoke_user = {
    .sql = "UPDATE console_sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at = 0"};

int ag_store_console_session_put(struct ag_store_tx *tx, const struct ag_console_session_rec *r,
                                 struct ag_err *err)
{
    PREP(tx->db, q_sess_put);
    ag_db_bind_blob(st, 1, r->token_hash, sizeof r->token_hash);
    ag_db_bind_text(st, 2, r->id);
    ag_db_bind_text(st, 3, r->user_id);
    ag_db_bind_int64(st, 4, r->created_at);
    ag_db_bind_int64(st, 5, r->expires_at);
    ag_db_bind_text(st, 6, r->ip);
    ag_db_bind_text(st, 7, r->user_agent);
    return ag_db_run(st, err);
}

static int sess_get(struct ag_db *db, const uint8_t hash[32], struct ag_console_session_rec *out,
                    struct ag_console_user_rec *user, struct ag_err *err)
{
    PREP(db, q_sess_get);
    ag_db_bind_blob(st, 1, hash, 32);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW) {
        memset(out, 0, sizeof *out);
        if (ag_db_col_bytes(st, 0) == 32)
            memcpy(out->token_hash, ag_db_col_blob(st, 0), 32);
        ag_db_col_copy(st, 1, out->id, sizeof out->id);
        ag_db_col_copy(st, 2, out->user_id, sizeof out->user_id);
        out->created_at = ag_db_col_int64(st, 3);
        out->last_seen_at = ag_db_col_int64(st, 4);
        out->expires_at = ag_db_col_int64(st, 5);
        out->revoked_at = ag_db_col_int64(st, 6);
        ag_db_col_copy(st, 7, out->ip, sizeof out->ip);
        ag_db_col_copy(st, 8, out->user_agent, sizeof out->user_agent);
        read_user(st, 9, user);
    }
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "no_such_session", "", "no such console session");
    return rc == AG_DB_ROW ? 0 : rc;
}

int ag_store_console_session_get(struct ag_store *s, const uint8_t token_hash[32],
                                 struct ag_console_session_rec *out,
                                 struct ag_console_user_rec *user, struct ag_err *err)
{
    AG_STORE_READ(s, sess_get(db, token_hash, out, user, err));
}

int ag_store_console_session_touch(struct ag_store_tx *tx, const uint8_t token_hash[32],
                                   int64_t at, struct ag_err *err)
{
    PREP(tx->db, q_sess_touch);
    ag_db_bind_blob(st, 1, token_hash, 32);
    ag_db_bind_int64(st, 2, at);
    return ag_db_run(st, err);
}

int ag_store_console_session_revoke(struct ag_store_tx *tx, const uint8_t token_hash[32],
                                    int64_t at, struct ag_err *err)
{
    PREP(tx->db, q_sess_revoke);
    ag_db_bind_blob(st, 1, token_hash, 32);
    ag_db_bind_int64(st, 2, at);
    return ag_db_run(st, err);
}

int ag_store_console_session_revoke_user(struct ag_store_tx *tx, const char *user_id, int64_t at,
                                         struct ag_err *err)
{
    PREP(tx->db, q_sess_revoke_user);
    ag_db_bind_text(st, 1, user_id);
    ag_db_bind_int64(st, 2, at);
    return ag_db_run(st, err);
}

/* ---- overview aggregates ---- */

static struct ag_db_sql q_decisions = {
    .sql = "SELECT received_at, action, response_json FROM events ORDER BY seq DESC LIMIT ?1"};
static struct ag_db_sql q_cases = {
    .sql = "SELECT "
    "COALESCE(SUM(CASE WHEN status NOT IN ('resolved_fraud', 'resolved_not_fraud', 'closed') "
    "  THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN status NOT IN ('resolved_fraud', 'resolved_not_fraud', 'closed') AND "
    "  (resolution_due_at < ?1 OR (first_action_at = 0 AND first_action_due_at < ?1)) "
    "  THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN status NOT IN ('resolved_fraud', 'resolved_not_fraud', 'closed') AND "
    "  assignee = '' THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN created_at >= ?2 THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN resolved_at >= ?2 AND resolved_at > 0 THEN 1 ELSE 0 END), 0) "
    "FROM cases"};
static struct ag_db_sql q_alert_states = {
    .sql = "SELECT state, channel, COUNT(*) FROM notify_outbox WHERE created_at >= ?1 "
    "GROUP BY state, channel ORDER BY state, channel"};
static struct ag_db_sql q_alert_minutes = {
    .sql = "SELECT delivered_at / 60000, COUNT(*) FROM notify_outbox WHERE state = 'delivered' "
    "AND delivered_at >= ?1 GROUP BY delivered_at / 60000 ORDER BY 1"};

static int decisions_scan(struct ag_db *db, int64_t since, int limit,
                          int (*cb)(void *, int64_t, const char *, const char *), void *arg,
                          struct ag_err *err)
{
    PREP(db, q_decisions);
    ag_db_bind_int64(st, 1, limit);
    int rc;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        int64_t at = ag_db_col_int64(st, 0);
        /* seq order is arrival order, so the first older row ends the window
         * (give or take clock steps, which only cut it short) */
        if (at < since)
            break;
        if (cb(arg, at, ag_db_col_text(st, 1), ag_db_col_text(st, 2)))
            break;
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_console_decisions_scan(struct ag_store *s, int64_t since_ms, int limit,
                                    int (*cb)(void *arg, int64_t received_at, const char *action,
                                              const char *response_json),
                                    void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, decisions_scan(db, since_ms, limit, cb, arg, err));
}

static int case_counts(struct ag_db *db, int64_t now, int64_t since,
                       struct ag_console_case_counts *out, struct ag_err *err)
{
    PREP(db, q_cases);
    ag_db_bind_int64(st, 1, now);
    ag_db_bind_int64(st, 2, since);
    memset(out, 0, sizeof *out);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW) {
        out->open = ag_db_col_int64(st, 0);
        out->overdue = ag_db_col_int64(st, 1);
        out->unassigned = ag_db_col_int64(st, 2);
        out->opened = ag_db_col_int64(st, 3);
        out->resolved = ag_db_col_int64(st, 4);
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_console_case_counts(struct ag_store *s, int64_t now, int64_t since,
                                 struct ag_console_case_counts *out, struct ag_err *err)
{
    AG_STORE_READ(s, case_counts(db, now, since, out, err));
}

static int alert_counts(struct ag_db *db, int64_t since,
                        int (*cb)(void *, const char *, const char *, int64_t, int64_t),
                        void *arg, struct ag_err *err)
{
    int rc;
    {
        PREP(db, q_alert_states);
        ag_db_bind_int64(st, 1, since);
        while ((rc = ag_db_step(st, err)) == AG_DB_ROW)
            if (cb(arg, ag_db_col_text(st, 0), ag_db_col_text(st, 1), -1,
                   ag_db_col_int64(st, 2)))
                break;
        ag_db_reset(st);
        if (rc < 0)
            return rc;
    }
    PREP(db, q_alert_minutes);
    ag_db_bind_int64(st, 1, since);
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW)
        if (cb(arg, "delivered", "", ag_db_col_int64(st, 0), ag_db_col_int64(st, 1)))
            break;
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_console_alert_counts(struct ag_store *s, int64_t since_ms,
                                  int (*cb)(void *arg, const char *state, const char *channel,
                                            int64_t minute, int64_t n),
                                  void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, alert_counts(db, since_ms, cb, arg, err));
}
