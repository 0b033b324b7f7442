/* Notification records (store/notify.h): the outbox with leased claims,
 * webhook subscriptions, account contacts and "this wasn't me" reports.
 * Written once against the SQL layer (db.h). */
#include "store/store_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- outbox ---- */

#define OUTBOX_COLS                                                                              \
    "seq, id, idem_key, channel, kind, account_id, destination, locale, template_id, params, "   \
    "event_id, sensitive, state, attempts, event_at, created_at, next_at, claimed_until, "       \
    "delivered_at, updated_at, claim, last_error"

static struct ag_db_sql q_put = {
    .sql = "INSERT INTO notify_outbox(id, idem_key, channel, kind, account_id, destination, "
           "locale, template_id, params, event_id, sensitive, state, attempts, event_at, "
           "created_at, next_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
           "?11, 'pending', 0, ?12, ?13, ?14, ?13) ON CONFLICT(idem_key) DO NOTHING"};
/* Due first by time; the lease column lets an expired claim be taken over. */
/* PostgreSQL, several nodes: lock the rows picked, skipping those another
 * node's claim holds, so workers never queue behind each other. */
static struct ag_db_sql q_due = {
    .sql = "SELECT id FROM notify_outbox WHERE (state = 'pending' AND next_at <= ?1) "
           "OR (state = 'sending' AND claimed_until <= ?1) ORDER BY next_at, seq LIMIT ?2",
    .pg_sql = "SELECT id FROM notify_outbox WHERE (state = 'pending' AND next_at <= ?1) "
              "OR (state = 'sending' AND claimed_until <= ?1) ORDER BY next_at, seq LIMIT ?2 "
              "FOR UPDATE SKIP LOCKED"};
static struct ag_db_sql q_claim = {
    .sql = "UPDATE notify_outbox SET state = 'sending', claimed_until = ?3, claim = ?4, "
           "attempts = attempts + 1, updated_at = ?2 WHERE id = ?1 AND "
           "((state = 'pending' AND next_at <= ?2) OR (state = 'sending' AND claimed_until <= ?2))"};
static struct ag_db_sql q_get = {.sql = "SELECT " OUTBOX_COLS " FROM notify_outbox WHERE id = ?1"};
static struct ag_db_sql q_finish = {
    .sql = "UPDATE notify_outbox SET state = ?3, next_at = ?4, last_error = ?5, updated_at = ?6, "
           "delivered_at = CASE WHEN ?3 = 'delivered' THEN ?6 ELSE delivered_at END, "
           "claimed_until = 0, claim = '', params = CASE WHEN ?7 = 1 THEN NULL ELSE params END "
           "WHERE id = ?1 AND claim = ?2 AND state = 'sending'"};
static struct ag_db_sql q_retry = {
    .sql = "UPDATE notify_outbox SET state = 'pending', next_at = ?2, attempts = 0, "
           "claimed_until = 0, claim = '', updated_at = ?2 WHERE id = ?1 AND "
           "(state IN ('dead', 'pending') OR (state = 'sending' AND claimed_until <= ?2))"};
static struct ag_db_sql q_list = {
    .sql = "SELECT " OUTBOX_COLS " FROM notify_outbox WHERE seq > ?1 "
           "AND (?2 = '' OR state = ?2) AND (?3 = '' OR account_id = ?3) "
           "AND (?4 = '' OR kind = ?4) ORDER BY seq LIMIT ?5"};
static struct ag_db_sql q_next_due = {
    .sql = "SELECT MIN(t) FROM (SELECT MIN(next_at) AS t FROM notify_outbox WHERE state = "
           "'pending' UNION ALL SELECT MIN(claimed_until) AS t FROM notify_outbox WHERE state = "
           "'sending') AS due"};
static struct ag_db_sql q_count = {.sql = "SELECT COUNT(*) FROM notify_outbox WHERE state = ?1"};
static struct ag_db_sql q_purge = {
    .sql = "DELETE FROM notify_outbox WHERE seq IN (SELECT seq FROM notify_outbox WHERE "
           "state = 'delivered' AND delivered_at < ?1 ORDER BY seq LIMIT ?2)"};

void ag_notify_rec_free(struct ag_notify_rec *r)
{
    free(r->params);
    r->params = NULL;
}

static void read_rec(struct ag_db_stmt *st, void *out)
{
    struct ag_notify_rec *r = out;
    memset(r, 0, sizeof *r);
    r->seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, r->id, sizeof r->id);
    ag_db_col_copy(st, 2, r->idem_key, sizeof r->idem_key);
    ag_db_col_copy(st, 3, r->channel, sizeof r->channel);
    ag_db_col_copy(st, 4, r->kind, sizeof r->kind);
    ag_db_col_copy(st, 5, r->account_id, sizeof r->account_id);
    ag_db_col_copy(st, 6, r->destination, sizeof r->destination);
    ag_db_col_copy(st, 7, r->locale, sizeof r->locale);
    ag_db_col_copy(st, 8, r->template_id, sizeof r->template_id);
    if (!ag_db_col_null(st, 9))
        r->params = strdup(ag_db_col_text(st, 9));
    ag_db_col_copy(st, 10, r->event_id, sizeof r->event_id);
    r->sensitive = ag_db_col_int64(st, 11) != 0;
    ag_db_col_copy(st, 12, r->state, sizeof r->state);
    r->attempts = (int)ag_db_col_int64(st, 13);
    r->event_at = ag_db_col_int64(st, 14);
    r->created_at = ag_db_col_int64(st, 15);
    r->next_at = ag_db_col_int64(st, 16);
    r->claimed_until = ag_db_col_int64(st, 17);
    r->delivered_at = ag_db_col_int64(st, 18);
    r->updated_at = ag_db_col_int64(st, 19);
    ag_db_col_copy(st, 20, r->claim, sizeof r->claim);
    ag_db_col_copy(st, 21, r->last_error, sizeof r->last_error);
}

int ag_store_notify_put(struct ag_store_tx *tx, const struct ag_notify_rec *r, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, r->id);
    ag_db_bind_text(st, 2, r->idem_key);
    ag_db_bind_text(st, 3, r->channel);
    ag_db_bind_text(st, 4, r->kind);
    ag_db_bind_text(st, 5, r->account_id);
    ag_db_bind_text(st, 6, r->destination);
    ag_db_bind_text(st, 7, r->locale);
    ag_db_bind_text(st, 8, r->template_id);
    if (r->params)
        ag_db_bind_text(st, 9, r->params);
    else
        ag_db_bind_null(st, 9);
    ag_db_bind_text(st, 10, r->event_id);
    ag_db_bind_int64(st, 11, r->sensitive ? 1 : 0);
    ag_db_bind_int64(st, 12, r->event_at);
    ag_db_bind_int64(st, 13, r->created_at);
    ag_db_bind_int64(st, 14, r->next_at);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT) /* the message id itself collided: astronomically rare */
        return ag_err_set(err, AG_ECONFLICT, "conflict", "id", "message id %s exists", r->id);
    if (rc)
        return rc;
    return ag_db_changes(tx->db) > 0 ? 1 : 0;
}

int ag_store_notify_purge(struct ag_store_tx *tx, int64_t before, int limit, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_purge, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, before);
    ag_db_bind_int64(st, 2, limit);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    int64_t n = ag_db_changes(tx->db);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

static int get_rec(struct ag_db *db, const char *id, struct ag_notify_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return ag_db_one(st, read_rec, out, "not_found", "id", "notification", id, err);
}

int ag_store_notify_claim(struct ag_store_tx *tx, int64_t now, int64_t lease_until,
                          const char *claim, int max,
                          void (*cb)(void *arg, struct ag_notify_rec *r), void *arg,
                          struct ag_err *err)
{
    if (max <= 0)
        return 0;
    char(*ids)[40] = calloc((size_t)max, sizeof *ids);
    if (!ids)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int n = 0, rc;
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_due, err);
    if (!st) {
        free(ids);
        return AG_EIO;
    }
    ag_db_bind_int64(st, 1, now);
    ag_db_bind_int64(st, 2, max);
    while (n < max && (rc = ag_db_step(st, err)) == AG_DB_ROW)
        ag_db_col_copy(st, 0, ids[n++], sizeof ids[0]);
    ag_db_reset(st);
    int claimed = 0;
    for (int i = 0; i < n; i++) {
        /* The claim itself is the one conditional UPDATE: whoever changes
         * the row owns the delivery; a racing claimer changes nothing. */
        if (!(st = ag_db_stmt(tx->db, &q_claim, err))) {
            free(ids);
            return AG_EIO;
        }
        ag_db_bind_text(st, 1, ids[i]);
        ag_db_bind_int64(st, 2, now);
        ag_db_bind_int64(st, 3, lease_until);
        ag_db_bind_text(st, 4, claim);
        if ((rc = ag_db_run(st, err))) {
            free(ids);
            return rc;
        }
        if (ag_db_changes(tx->db) != 1)
            continue;
        struct ag_notify_rec r;
        if ((rc = get_rec(tx->db, ids[i], &r, err))) {
            free(ids);
            return rc;
        }
        claimed++;
        cb(arg, &r);
    }
    free(ids);
    return claimed;
}

int ag_store_notify_finish(struct ag_store_tx *tx, const char *id, const char *claim,
                           const char *state, int64_t next_at, const char *last_error,
                           int64_t at, bool erase_params, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_finish, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_text(st, 2, claim);
    ag_db_bind_text(st, 3, state);
    ag_db_bind_int64(st, 4, next_at);
    ag_db_bind_text(st, 5, last_error ? last_error : "");
    ag_db_bind_int64(st, 6, at);
    ag_db_bind_int64(st, 7, erase_params ? 1 : 0);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 0)
        return ag_err_set(err, AG_ESTATE, "claim_lost", "id",
                          "notification %s was claimed by another worker", id);
    return 0;
}

int ag_store_notify_retry(struct ag_store_tx *tx, const char *id, int64_t now, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_retry, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_int64(st, 2, now);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 1)
        return 0;
    struct ag_notify_rec r;
    if ((rc = get_rec(tx->db, id, &r, err)))
        return rc;
    ag_notify_rec_free(&r);
    return ag_err_set(err, AG_ESTATE, "invalid_state", "id",
                      "notification %s is %s: only dead or pending messages can be retried", id,
                      r.state);
}

int ag_store_notify_get(struct ag_store *s, const char *id, struct ag_notify_rec *out,
                        struct ag_err *err)
{
    AG_STORE_READ(s, get_rec(db, id, out, err));
}

struct each_rec {
    int (*cb)(void *, const struct ag_notify_rec *);
    void *arg;
};

static int each_rec_row(struct ag_db_stmt *st, void *p)
{
    struct each_rec *e = p;
    struct ag_notify_rec r;
    read_rec(st, &r);
    int stop = e->cb(e->arg, &r);
    ag_notify_rec_free(&r);
    return stop;
}

static int list_recs(struct ag_db *db, const char *state, const char *account_id, const char *kind,
                     int64_t after_seq, int limit,
                     int (*cb)(void *arg, const struct ag_notify_rec *r), void *arg,
                     struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, after_seq);
    ag_db_bind_text(st, 2, state ? state : "");
    ag_db_bind_text(st, 3, account_id ? account_id : "");
    ag_db_bind_text(st, 4, kind ? kind : "");
    ag_db_bind_int64(st, 5, limit);
    struct each_rec e = {cb, arg};
    return ag_db_each(st, each_rec_row, &e, err);
}

int ag_store_notify_list(struct ag_store *s, const char *state, const char *account_id,
                         const char *kind, int64_t after_seq, int limit,
                         int (*cb)(void *arg, const struct ag_notify_rec *r), void *arg,
                         struct ag_err *err)
{
    AG_STORE_READ(s, list_recs(db, state, account_id, kind, after_seq, limit, cb, arg, err));
}

static int next_due(struct ag_db *db, int64_t *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_next_due, err);
    if (!st)
        return AG_EIO;
    int rc = ag_db_step(st, err);
    *out = INT64_MAX;
    if (rc == AG_DB_ROW && !ag_db_col_null(st, 0))
        *out = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_notify_next_due(struct ag_store *s, int64_t *out, struct ag_err *err)
{
    AG_STORE_READ(s, next_due(db, out, err));
}

static int count_state(struct ag_db *db, const char *state)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_count, NULL);
    if (!st)
        return -1;
    ag_db_bind_text(st, 1, state);
    int64_t n = ag_db_step(st, NULL) == AG_DB_ROW ? ag_db_col_int64(st, 0) : -1;
    ag_db_reset(st);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int64_t ag_store_notify_count(struct ag_store *s, const char *state)
{
    struct ag_db *db = ag_store_read_acquire(s);
    int64_t n = count_state(db, state);
    ag_store_read_release(s, db);
    return n;
}

/* ---- webhook subscriptions ---- */

#define WEBHOOK_COLS "id, url, kinds, description, secret, created_at, deleted_at"
static struct ag_db_sql q_wh_put = {
    .sql = "INSERT INTO notify_webhooks(" WEBHOOK_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};
static struct ag_db_sql q_wh_delete = {
    .sql = "UPDATE notify_webhooks SET deleted_at = ?2 WHERE id = ?1 AND deleted_at = 0"};
static struct ag_db_sql q_wh_get = {.sql = "SELECT " WEBHOOK_COLS
                                    " FROM notify_webhooks WHERE id = ?1"};
static struct ag_db_sql q_wh_list = {.sql = "SELECT " WEBHOOK_COLS " FROM notify_webhooks WHERE "
                                     "deleted_at = 0 ORDER BY created_at, id"};

static void read_wh(struct ag_db_stmt *st, void *out)
{
    struct ag_notify_webhook_rec *w = out;
    memset(w, 0, sizeof *w);
    ag_db_col_copy(st, 0, w->id, sizeof w->id);
    ag_db_col_copy(st, 1, w->url, sizeof w->url);
    ag_db_col_copy(st, 2, w->kinds, sizeof w->kinds);
    ag_db_col_copy(st, 3, w->description, sizeof w->description);
    size_t n = ag_db_col_bytes(st, 4);
    if (n <= sizeof w->secret) {
        memcpy(w->secret, ag_db_col_blob(st, 4), n);
        w->secret_len = n;
    }
    w->created_at = ag_db_col_int64(st, 5);
    w->deleted_at = ag_db_col_int64(st, 6);
}

int ag_store_notify_webhook_put(struct ag_store_tx *tx, const struct ag_notify_webhook_rec *w,
                                struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_wh_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, w->id);
    ag_db_bind_text(st, 2, w->url);
    ag_db_bind_text(st, 3, w->kinds);
    ag_db_bind_text(st, 4, w->description);
    ag_db_bind_blob(st, 5, w->secret, w->secret_len);
    ag_db_bind_int64(st, 6, w->created_at);
    ag_db_bind_int64(st, 7, w->deleted_at);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "conflict", "id", "subscription %s exists", w->id);
    return rc;
}

int ag_store_notify_webhook_delete(struct ag_store_tx *tx, const char *id, int64_t at,
                                   struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_wh_delete, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    ag_db_bind_int64(st, 2, at);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 0)
        return ag_err_set(err, AG_ENOTFOUND, "not_found", "id", "no webhook subscription %s", id);
    return 0;
}

static int wh_get(struct ag_db *db, const char *id, struct ag_notify_webhook_rec *out,
                  struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_wh_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return ag_db_one(st, read_wh, out, "not_found", "id", "webhook subscription", id, err);
}

int ag_store_notify_webhook_get(struct ag_store *s, const char *id,
                                struct ag_notify_webhook_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, wh_get(db, id, out, err));
}

static int wh_list(struct ag_db *db, int (*cb)(void *, const struct ag_notify_webhook_rec *),
                   void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_wh_list, err);
    if (!st)
        return AG_EIO;
    /* Read them all first: <cb> may run statements on the same connection. */
    struct ag_notify_webhook_rec *all = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            struct ag_notify_webhook_rec *p = realloc(all, cap * sizeof *all);
            if (!p) {
                ag_db_reset(st);
                free(all);
                return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            }
            all = p;
        }
        read_wh(st, &all[n++]);
    }
    ag_db_reset(st);
    if (rc >= 0) {
        rc = 0;
        for (size_t i = 0; i < n; i++)
            if ((rc = cb(arg, &all[i])))
                break;
        rc = rc < 0 ? rc : 0;
    }
    free(all);
    return rc;
}

int ag_store_notify_webhook_list(struct ag_store *s,
                                 int (*cb)(void *arg, const struct ag_notify_webhook_rec *w),
                                 void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, wh_list(db, cb, arg, err));
}

int ag_store_notify_webhook_list_tx(struct ag_store_tx *tx,
                                    int (*cb)(void *arg, const struct ag_notify_webhook_rec *w),
                                    void *arg, struct ag_err *err)
{
    return wh_list(tx->db, cb, arg, err);
}

/* ---- contacts ---- */

static struct ag_db_sql q_contact_put = {
    .sql = "INSERT INTO notify_contacts(account_id, email, phone, locale, updated_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(account_id) DO UPDATE SET "
           "email = excluded.email, phone = excluded.phone, locale = excluded.locale, "
           "updated_at = excluded.updated_at"};
static struct ag_db_sql q_contact_get = {
    .sql = "SELECT account_id, email, phone, locale, updated_at FROM notify_contacts "
           "WHERE account_id = ?1"};

int ag_store_notify_contact_put(struct ag_store_tx *tx, const struct ag_notify_contact_rec *c,
                                struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_contact_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, c->account_id);
    ag_db_bind_text(st, 2, c->email);
    ag_db_bind_text(st, 3, c->phone);
    ag_db_bind_text(st, 4, c->locale);
    ag_db_bind_int64(st, 5, c->updated_at);
    return ag_db_run(st, err);
}

static void read_contact(struct ag_db_stmt *st, void *p)
{
    struct ag_notify_contact_rec *out = p;
    memset(out, 0, sizeof *out);
    ag_db_col_copy(st, 0, out->account_id, sizeof out->account_id);
    ag_db_col_copy(st, 1, out->email, sizeof out->email);
    ag_db_col_copy(st, 2, out->phone, sizeof out->phone);
    ag_db_col_copy(st, 3, out->locale, sizeof out->locale);
    out->updated_at = ag_db_col_int64(st, 4);
}

static int contact_get(struct ag_db *db, const char *account_id, struct ag_notify_contact_rec *out,
                       struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_contact_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    return ag_db_one(st, read_contact, out, "not_found", "id", "contact for account", account_id,
                     err);
}

int ag_store_notify_contact_get(struct ag_store *s, const char *account_id,
                                struct ag_notify_contact_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, contact_get(db, account_id, out, err));
}

int ag_store_notify_contact_get_tx(struct ag_store_tx *tx, const char *account_id,
                                   struct ag_notify_contact_rec *out, struct ag_err *err)
{
    return contact_get(tx->db, account_id, out, err);
}

/* ---- reports ---- */

#define REPORT_COLS "token_id, account_id, event_id, kind, client_ip, outcome, at"
static struct ag_db_sql q_report_put = {
    .sql = "INSERT INTO notify_reports(" REPORT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};
static struct ag_db_sql q_report_delete = {.sql = "DELETE FROM notify_reports WHERE token_id = ?1"};
static struct ag_db_sql q_report_list = {
    .sql = "SELECT " REPORT_COLS " FROM notify_reports WHERE account_id = ?1 "
           "ORDER BY at DESC, token_id"};

int ag_store_notify_report_put(struct ag_store_tx *tx, const struct ag_notify_report_rec *r,
                               struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_report_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, r->token_id);
    ag_db_bind_text(st, 2, r->account_id);
    ag_db_bind_text(st, 3, r->event_id);
    ag_db_bind_text(st, 4, r->kind);
    ag_db_bind_text(st, 5, r->client_ip);
    ag_db_bind_text(st, 6, r->outcome);
    ag_db_bind_int64(st, 7, r->at);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "link_used", "token", "this link was already used");
    return rc;
}

int ag_store_notify_report_delete(struct ag_store_tx *tx, const char *token_id, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_report_delete, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, token_id);
    return ag_db_run(st, err);
}

static struct ag_db_sql q_report_get = {.sql = "SELECT " REPORT_COLS
                                        " FROM notify_reports WHERE token_id = ?1"};

static void read_report(struct ag_db_stmt *st, void *out)
{
    struct ag_notify_report_rec *r = out;
    memset(r, 0, sizeof *r);
    ag_db_col_copy(st, 0, r->token_id, sizeof r->token_id);
    ag_db_col_copy(st, 1, r->account_id, sizeof r->account_id);
    ag_db_col_copy(st, 2, r->event_id, sizeof r->event_id);
    ag_db_col_copy(st, 3, r->kind, sizeof r->kind);
    ag_db_col_copy(st, 4, r->client_ip, sizeof r->client_ip);
    ag_db_col_copy(st, 5, r->outcome, sizeof r->outcome);
    r->at = ag_db_col_int64(st, 6);
}

static int report_get(struct ag_db *db, const char *token_id, struct ag_notify_report_rec *out,
                      struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_report_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, token_id);
    return ag_db_one(st, read_report, out, "not_found", "token", "report", "for this link", err);
}

int ag_store_notify_report_get(struct ag_store *s, const char *token_id,
                               struct ag_notify_report_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, report_get(db, token_id, out, err));
}

AG_DB_EACH_RECORD(report, struct ag_notify_report_rec, read_report)

static int report_list(struct ag_db *db, const char *account_id,
                       int (*cb)(void *, const struct ag_notify_report_rec *), void *arg,
                       struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_report_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    struct each_report e = {cb, arg};
    return ag_db_each(st, each_report_row, &e, err);
}

int ag_store_notify_report_list(struct ag_store *s, const char *account_id,
                                int (*cb)(void *arg, const struct ag_notify_report_rec *r),
                                void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, report_list(db, account_id, cb, arg, err));
}
