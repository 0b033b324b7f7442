/* Fraud-case records (store/cases.h), written once against the SQL layer
 * (db.h) for SQLite and PostgreSQL. */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cases ---- */

#define CASE_COLS                                                                                \
    "seq, id, account_id, type, status, priority, risk, amount, currency, source, title, "      \
    "description, assignee, tags, outcome, created_by, created_at, updated_at, "                 \
    "first_action_at, resolved_at, closed_at, first_action_due_at, resolution_due_at"
static struct ag_db_sql q_case_put = {
    .sql = "INSERT INTO cases(id, account_id, type, status, priority, risk, amount, currency, "
    "source, title, description, assignee, tags, outcome, created_by, created_at, updated_at, "
    "first_action_at, resolved_at, closed_at, first_action_due_at, resolution_due_at) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
    "?20, ?21, ?22) RETURNING seq"};
static struct ag_db_sql q_case_update = {
    .sql = "UPDATE cases SET account_id = ?2, type = ?3, status = ?4, priority = ?5, risk = ?6, "
    "amount = ?7, currency = ?8, source = ?9, title = ?10, description = ?11, assignee = ?12, "
    "tags = ?13, outcome = ?14, created_by = ?15, created_at = ?16, updated_at = ?17, "
    "first_action_at = ?18, resolved_at = ?19, closed_at = ?20, first_action_due_at = ?21, "
    "resolution_due_at = ?22 WHERE id = ?1"};
static struct ag_db_sql q_case_get = {.sql = "SELECT " CASE_COLS " FROM cases WHERE id = ?1"};
static struct ag_db_sql q_case_active = {
    .sql = "SELECT " CASE_COLS " FROM cases WHERE account_id = ?1 "
    "AND status IN ('open', 'investigating', 'waiting_on_customer') "
    "AND (?2 = '' OR ?2 LIKE '% ' || type || ' %') ORDER BY seq DESC LIMIT 1"};
static struct ag_db_sql q_case_list = {
    .sql = "SELECT " CASE_COLS " FROM cases WHERE seq < ?1 "
    "AND (?2 = '' OR status = ?2) AND (?3 = '' OR type = ?3) AND (?4 = '' OR priority = ?4) "
    "AND (?5 = '' OR assignee = ?5) AND (?6 = '' OR account_id = ?6) "
    "AND (?7 = '' OR tags LIKE '% ' || ?7 || ' %') AND (?8 = '' OR source = ?8) "
    "AND (?9 = '' OR lower(id || ' ' || account_id || ' ' || title || ' ' || description) "
    "     LIKE '%' || lower(?9) || '%') "
    "AND (?10 = 0 OR (status NOT IN ('resolved_fraud', 'resolved_not_fraud', 'closed') AND "
    "     (resolution_due_at < ?11 OR (first_action_at = 0 AND first_action_due_at < ?11)))) "
    "AND created_at >= ?12 AND created_at < ?13 ORDER BY seq DESC LIMIT ?14"};
static struct ag_db_sql q_case_scan = {
    .sql = "SELECT " CASE_COLS " FROM cases WHERE created_at >= ?1 AND created_at < ?2 "
    "ORDER BY seq"};

static void read_case(struct ag_db_stmt *st, void *out)
{
    struct ag_case_rec *c = out;
    memset(c, 0, sizeof *c);
    c->seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, c->id, sizeof c->id);
    ag_db_col_copy(st, 2, c->account_id, sizeof c->account_id);
    ag_db_col_copy(st, 3, c->type, sizeof c->type);
    ag_db_col_copy(st, 4, c->status, sizeof c->status);
    ag_db_col_copy(st, 5, c->priority, sizeof c->priority);
    c->risk = ag_db_col_double(st, 6);
    c->amount = ag_db_col_int64(st, 7);
    ag_db_col_copy(st, 8, c->currency, sizeof c->currency);
    ag_db_col_copy(st, 9, c->source, sizeof c->source);
    ag_db_col_copy(st, 10, c->title, sizeof c->title);
    ag_db_col_copy(st, 11, c->description, sizeof c->description);
    ag_db_col_copy(st, 12, c->assignee, sizeof c->assignee);
    ag_db_col_copy(st, 13, c->tags, sizeof c->tags);
    ag_db_col_copy(st, 14, c->outcome, sizeof c->outcome);
    ag_db_col_copy(st, 15, c->created_by, sizeof c->created_by);
    c->created_at = ag_db_col_int64(st, 16);
    c->updated_at = ag_db_col_int64(st, 17);
    c->first_action_at = ag_db_col_int64(st, 18);
    c->resolved_at = ag_db_col_int64(st, 19);
    c->closed_at = ag_db_col_int64(st, 20);
    c->first_action_due_at = ag_db_col_int64(st, 21);
    c->resolution_due_at = ag_db_col_int64(st, 22);
}

static void bind_case(struct ag_db_stmt *st, const struct ag_case_rec *c)
{
    ag_db_bind_text(st, 1, c->id);
    ag_db_bind_text(st, 2, c->account_id);
    ag_db_bind_text(st, 3, c->type);
    ag_db_bind_text(st, 4, c->status);
    ag_db_bind_text(st, 5, c->priority);
    ag_db_bind_double(st, 6, c->risk);
    ag_db_bind_int64(st, 7, c->amount);
    ag_db_bind_text(st, 8, c->currency);
    ag_db_bind_text(st, 9, c->source);
    ag_db_bind_text(st, 10, c->title);
    ag_db_bind_text(st, 11, c->description);
    ag_db_bind_text(st, 12, c->assignee);
    ag_db_bind_text(st, 13, c->tags);
    ag_db_bind_text(st, 14, c->outcome);
    ag_db_bind_text(st, 15, c->created_by);
    ag_db_bind_int64(st, 16, c->created_at);
    ag_db_bind_int64(st, 17, c->updated_at);
    ag_db_bind_int64(st, 18, c->first_action_at);
    ag_db_bind_int64(st, 19, c->resolved_at);
    ag_db_bind_int64(st, 20, c->closed_at);
    ag_db_bind_int64(st, 21, c->first_action_due_at);
    ag_db_bind_int64(st, 22, c->resolution_due_at);
}

int ag_store_case_put(struct ag_store_tx *tx, struct ag_case_rec *c, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_case_put, err);
    if (!st)
        return AG_EIO;
    bind_case(st, c);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        c->seq = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "conflict", "id", "case %s exists", c->id);
    return rc < 0 ? rc : 0;
}

int ag_store_case_update(struct ag_store_tx *tx, const struct ag_case_rec *c, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_case_update, err);
    if (!st)
        return AG_EIO;
    bind_case(st, c);
    int rc = ag_db_run(st, err);
    if (!rc && ag_db_changes(tx->db) == 0)
        return ag_err_set(err, AG_ENOTFOUND, "case_not_found", "id", "no case %s", c->id);
    return rc;
}

static int case_one(struct ag_db_stmt *st, struct ag_case_rec *out, const char *what,
                    struct ag_err *err)
{
    return ag_db_one(st, read_case, out, "case_not_found", "id", "case", what, err);
}

static int case_get(struct ag_db *db, const char *id, struct ag_case_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_case_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return case_one(st, out, id, err);
}

int ag_store_case_get_tx(struct ag_store_tx *tx, const char *id, struct ag_case_rec *out,
                         struct ag_err *err)
{
    return case_get(tx->db, id, out, err);
}

int ag_store_case_get(struct ag_store *s, const char *id, struct ag_case_rec *out,
                      struct ag_err *err)
{
    AG_STORE_READ(s, case_get(db, id, out, err));
}

int ag_store_case_find_active_tx(struct ag_store_tx *tx, const char *account_id,
                                 const char *types, struct ag_case_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_case_active, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, types ? types : "");
    return case_one(st, out, "active for this account", err);
}

struct each_case {
    int (*cb)(void *, const struct ag_case_rec *);
    void *arg;
    struct ag_case_rec *c; /* on the heap: a case record is large */
};

static int each_case_row(struct ag_db_stmt *st, void *p)
{
    struct each_case *e = p;
    read_case(st, e->c);
    return e->cb(e->arg, e->c);
}

static int each_case(struct ag_db_stmt *st, int (*cb)(void *, const struct ag_case_rec *),
                     void *arg, struct ag_err *err)
{
    struct each_case e = {cb, arg, malloc(sizeof *e.c)};
    if (!e.c) {
        ag_db_reset(st);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    int rc = ag_db_each(st, each_case_row, &e, err);
    free(e.c);
    return rc;
}

static const char *nz(const char *s) { return s ? s : ""; }

static int case_list(struct ag_db *db, const struct ag_case_filter *f, int64_t before_seq,
                     int limit, int (*cb)(void *, const struct ag_case_rec *), void *arg,
                     struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_case_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, before_seq > 0 ? before_seq : INT64_MAX);
    ag_db_bind_text(st, 2, nz(f->status));
    ag_db_bind_text(st, 3, nz(f->type));
    ag_db_bind_text(st, 4, nz(f->priority));
    ag_db_bind_text(st, 5, nz(f->assignee));
    ag_db_bind_text(st, 6, nz(f->account_id));
    ag_db_bind_text(st, 7, nz(f->tag));
    ag_db_bind_text(st, 8, nz(f->source));
    ag_db_bind_text(st, 9, nz(f->q));
    ag_db_bind_int64(st, 10, f->overdue_only);
    ag_db_bind_int64(st, 11, f->now);
    ag_db_bind_int64(st, 12, f->created_from);
    ag_db_bind_int64(st, 13, f->created_to > 0 ? f->created_to : INT64_MAX);
    ag_db_bind_int64(st, 14, limit);
    return each_case(st, cb, arg, err);
}

int ag_store_case_list(struct ag_store *s, const struct ag_case_filter *f, int64_t before_seq,
                       int limit, int (*cb)(void *, const struct ag_case_rec *), void *arg,
                       struct ag_err *err)
{
    AG_STORE_READ(s, case_list(db, f, before_seq, limit, cb, arg, err));
}

static int case_scan(struct ag_db *db, int64_t from, int64_t to,
                     int (*cb)(void *, const struct ag_case_rec *), void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_case_scan, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, from);
    ag_db_bind_int64(st, 2, to > 0 ? to : INT64_MAX);
    return each_case(st, cb, arg, err);
}

int ag_store_case_scan(struct ag_store *s, int64_t from, int64_t to,
                       int (*cb)(void *, const struct ag_case_rec *), void *arg,
                       struct ag_err *err)
{
    AG_STORE_READ(s, case_scan(db, from, to, cb, arg, err));
}

/* ---- timeline ---- */

static struct ag_db_sql q_entry_put = {
    .sql = "INSERT INTO case_timeline(case_id, at, actor, kind, customer_visible, text, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};
static struct ag_db_sql q_entry_list = {
    .sql = "SELECT seq, case_id, at, actor, kind, customer_visible, text, data FROM case_timeline "
    "WHERE case_id = ?1 AND seq > ?2 AND (?3 = 0 OR customer_visible = 1) ORDER BY seq LIMIT ?4"};

int ag_store_case_entry_put(struct ag_store_tx *tx, const struct ag_case_entry_rec *e,
                            struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_entry_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, e->case_id);
    ag_db_bind_int64(st, 2, e->at);
    ag_db_bind_text(st, 3, e->actor);
    ag_db_bind_text(st, 4, e->kind);
    ag_db_bind_int64(st, 5, e->customer_visible);
    ag_db_bind_text(st, 6, nz(e->text));
    ag_db_bind_text(st, 7, e->data ? e->data : "{}");
    return ag_db_run(st, err);
}

struct each_entry {
    int (*cb)(void *, const struct ag_case_entry_rec *);
    void *arg;
};

static int each_entry_row(struct ag_db_stmt *st, void *p)
{
    struct each_entry *x = p;
    struct ag_case_entry_rec e;
    memset(&e, 0, sizeof e);
    e.seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, e.case_id, sizeof e.case_id);
    e.at = ag_db_col_int64(st, 2);
    ag_db_col_copy(st, 3, e.actor, sizeof e.actor);
    ag_db_col_copy(st, 4, e.kind, sizeof e.kind);
    e.customer_visible = ag_db_col_int64(st, 5) != 0;
    e.text = ag_db_col_text(st, 6);
    e.data = ag_db_col_text(st, 7);
    return x->cb(x->arg, &e);
}

static int entry_list(struct ag_db *db, const char *case_id, bool customer_only,
                      int64_t after_seq, int limit,
                      int (*cb)(void *, const struct ag_case_entry_rec *), void *arg,
                      struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_entry_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, case_id);
    ag_db_bind_int64(st, 2, after_seq);
    ag_db_bind_int64(st, 3, customer_only);
    ag_db_bind_int64(st, 4, limit);
    struct each_entry e = {cb, arg};
    return ag_db_each(st, each_entry_row, &e, err);
}

int ag_store_case_entry_list(struct ag_store *s, const char *case_id, bool customer_only,
                             int64_t after_seq, int limit,
                             int (*cb)(void *, const struct ag_case_entry_rec *), void *arg,
                             struct ag_err *err)
{
    AG_STORE_READ(s, entry_list(db, case_id, customer_only, after_seq, limit, cb, arg, err));
}

/* ---- evidence ---- */

#define EVIDENCE_COLS                                                                            \
    "seq, case_id, kind, ref, note, content_type, size, filename, amount, currency, added_by, "  \
    "added_at, data"
static struct ag_db_sql q_evidence_put = {
    .sql = "INSERT INTO case_evidence(case_id, kind, ref, note, content_type, size, filename, "
    "amount, currency, added_by, added_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12) RETURNING seq"};
static struct ag_db_sql q_evidence_list = {
    .sql = "SELECT " EVIDENCE_COLS " FROM case_evidence WHERE case_id = ?1 ORDER BY seq"};
static struct ag_db_sql q_evidence_get = {
    .sql = "SELECT " EVIDENCE_COLS " FROM case_evidence WHERE case_id = ?1 AND seq = ?2"};

static void read_evidence(struct ag_db_stmt *st, void *out)
{
    struct ag_case_evidence_rec *e = out;
    memset(e, 0, sizeof *e);
    e->seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, e->case_id, sizeof e->case_id);
    ag_db_col_copy(st, 2, e->kind, sizeof e->kind);
    ag_db_col_copy(st, 3, e->ref, sizeof e->ref);
    ag_db_col_copy(st, 4, e->note, sizeof e->note);
    ag_db_col_copy(st, 5, e->content_type, sizeof e->content_type);
    e->size = ag_db_col_int64(st, 6);
    ag_db_col_copy(st, 7, e->filename, sizeof e->filename);
    e->amount = ag_db_col_int64(st, 8);
    ag_db_col_copy(st, 9, e->currency, sizeof e->currency);
    ag_db_col_copy(st, 10, e->added_by, sizeof e->added_by);
    e->added_at = ag_db_col_int64(st, 11);
    e->data = ag_db_col_text(st, 12);
}

int ag_store_case_evidence_put(struct ag_store_tx *tx, struct ag_case_evidence_rec *e,
                               struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_evidence_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, e->case_id);
    ag_db_bind_text(st, 2, e->kind);
    ag_db_bind_text(st, 3, e->ref);
    ag_db_bind_text(st, 4, e->note);
    ag_db_bind_text(st, 5, e->content_type);
    ag_db_bind_int64(st, 6, e->size);
    ag_db_bind_text(st, 7, e->filename);
    ag_db_bind_int64(st, 8, e->amount);
    ag_db_bind_text(st, 9, e->currency);
    ag_db_bind_text(st, 10, e->added_by);
    ag_db_bind_int64(st, 11, e->added_at);
    ag_db_bind_text(st, 12, e->data ? e->data : "{}");
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        e->seq = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "evidence_exists", "ref",
                          "the case already links %s %s", e->kind, e->ref);
    return rc < 0 ? rc : 0;
}

struct each_evidence {
    int (*cb)(void *, const struct ag_case_evidence_rec *);
    void *arg;
    struct ag_case_evidence_rec *e; /* on the heap: an evidence record is large */
};

static int each_evidence_row(struct ag_db_stmt *st, void *p)
{
    struct each_evidence *x = p;
    read_evidence(st, x->e);
    return x->cb(x->arg, x->e);
}

static int evidence_list(struct ag_db *db, const char *case_id,
                         int (*cb)(void *, const struct ag_case_evidence_rec *), void *arg,
                         struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_evidence_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, case_id);
    struct each_evidence x = {cb, arg, malloc(sizeof *x.e)};
    if (!x.e) {
        ag_db_reset(st);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    int rc = ag_db_each(st, each_evidence_row, &x, err);
    free(x.e);
    return rc;
}

int ag_store_case_evidence_list(struct ag_store *s, const char *case_id,
                                int (*cb)(void *, const struct ag_case_evidence_rec *), void *arg,
                                struct ag_err *err)
{
    AG_STORE_READ(s, evidence_list(db, case_id, cb, arg, err));
}

int ag_store_case_evidence_list_tx(struct ag_store_tx *tx, const char *case_id,
                                   int (*cb)(void *, const struct ag_case_evidence_rec *),
                                   void *arg, struct ag_err *err)
{
    return evidence_list(tx->db, case_id, cb, arg, err);
}

static int evidence_get(struct ag_db *db, const char *case_id, int64_t seq,
                        struct ag_case_evidence_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_evidence_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, case_id);
    ag_db_bind_int64(st, 2, seq);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW) {
        read_evidence(st, out);
        out->data = NULL; /* the row's text dies with the reset */
    }
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "evidence_not_found", "id",
                          "no evidence %lld on case %s", (long long)seq, case_id);
    return rc == AG_DB_ROW ? 0 : rc;
}

int ag_store_case_evidence_get(struct ag_store *s, const char *case_id, int64_t seq,
                               struct ag_case_evidence_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, evidence_get(db, case_id, seq, out, err));
}

/* ---- actions ---- */

#define ACTION_COLS                                                                              \
    "seq, id, case_id, kind, target_type, target_id, amount, currency, status, note, result, "   \
    "requested_by, created_at, updated_at, resolved_at"
static struct ag_db_sql q_action_put = {
    .sql = "INSERT INTO case_actions(id, case_id, kind, target_type, target_id, amount, currency, "
    "status, note, result, requested_by, created_at, updated_at, resolved_at) VALUES (?1, ?2, "
    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING seq"};
static struct ag_db_sql q_action_update = {
    .sql = "UPDATE case_actions SET status = ?2, result = ?3, updated_at = ?4, resolved_at = ?5 "
    "WHERE id = ?1"};
static struct ag_db_sql q_action_get = {.sql = "SELECT " ACTION_COLS
                                        " FROM case_actions WHERE id = ?1"};
static struct ag_db_sql q_action_list = {
    .sql = "SELECT " ACTION_COLS " FROM case_actions WHERE (?1 = '' OR case_id = ?1) ORDER BY seq"};

static void read_action(struct ag_db_stmt *st, void *out)
{
    struct ag_case_action_rec *a = out;
    memset(a, 0, sizeof *a);
    a->seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, a->id, sizeof a->id);
    ag_db_col_copy(st, 2, a->case_id, sizeof a->case_id);
    ag_db_col_copy(st, 3, a->kind, sizeof a->kind);
    ag_db_col_copy(st, 4, a->target_type, sizeof a->target_type);
    ag_db_col_copy(st, 5, a->target_id, sizeof a->target_id);
    a->amount = ag_db_col_int64(st, 6);
    ag_db_col_copy(st, 7, a->currency, sizeof a->currency);
    ag_db_col_copy(st, 8, a->status, sizeof a->status);
    ag_db_col_copy(st, 9, a->note, sizeof a->note);
    ag_db_col_copy(st, 10, a->result, sizeof a->result);
    ag_db_col_copy(st, 11, a->requested_by, sizeof a->requested_by);
    a->created_at = ag_db_col_int64(st, 12);
    a->updated_at = ag_db_col_int64(st, 13);
    a->resolved_at = ag_db_col_int64(st, 14);
}

int ag_store_case_action_put(struct ag_store_tx *tx, struct ag_case_action_rec *a,
                             struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_action_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, a->id);
    ag_db_bind_text(st, 2, a->case_id);
    ag_db_bind_text(st, 3, a->kind);
    ag_db_bind_text(st, 4, a->target_type);
    ag_db_bind_text(st, 5, a->target_id);
    ag_db_bind_int64(st, 6, a->amount);
    ag_db_bind_text(st, 7, a->currency);
    ag_db_bind_text(st, 8, a->status);
    ag_db_bind_text(st, 9, a->note);
    ag_db_bind_text(st, 10, a->result);
    ag_db_bind_text(st, 11, a->requested_by);
    ag_db_bind_int64(st, 12, a->created_at);
    ag_db_bind_int64(st, 13, a->updated_at);
    ag_db_bind_int64(st, 14, a->resolved_at);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        a->seq = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_case_action_update(struct ag_store_tx *tx, const struct ag_case_action_rec *a,
                                struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_action_update, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, a->id);
    ag_db_bind_text(st, 2, a->status);
    ag_db_bind_text(st, 3, a->result);
    ag_db_bind_int64(st, 4, a->updated_at);
    ag_db_bind_int64(st, 5, a->resolved_at);
    return ag_db_run(st, err);
}

int ag_store_case_action_get_tx(struct ag_store_tx *tx, const char *id,
                                struct ag_case_action_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_action_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return ag_db_one(st, read_action, out, "action_not_found", "action_id", "action", id, err);
}

AG_DB_EACH_RECORD(action, struct ag_case_action_rec, read_action)

static int action_list(struct ag_db *db, const char *case_id,
                       int (*cb)(void *, const struct ag_case_action_rec *), void *arg,
                       struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_action_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, nz(case_id));
    struct each_action e = {cb, arg};
    return ag_db_each(st, each_action_row, &e, err);
}

int ag_store_case_action_list(struct ag_store *s, const char *case_id,
                              int (*cb)(void *, const struct ag_case_action_rec *), void *arg,
                              struct ag_err *err)
{
    AG_STORE_READ(s, action_list(db, case_id, cb, arg, err));
}

/* ---- playbook ---- */

#define RUN_COLS "id, account_id, case_id, status, actor, since_at, created_at, updated_at"
static struct ag_db_sql q_run_put = {
    .sql = "INSERT INTO playbook_runs(" RUN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(id) DO UPDATE SET case_id = excluded.case_id, status = excluded.status, "
    "since_at = excluded.since_at, updated_at = excluded.updated_at"};
static struct ag_db_sql q_run_get = {.sql = "SELECT " RUN_COLS " FROM playbook_runs WHERE id = ?1"};
static struct ag_db_sql q_run_active = {
    .sql = "SELECT r.id, r.account_id, r.case_id, r.status, r.actor, r.since_at, r.created_at, "
    "r.updated_at FROM playbook_runs r JOIN cases c ON c.id = r.case_id "
    "WHERE r.account_id = ?1 AND c.status IN ('open', 'investigating', 'waiting_on_customer') "
    "ORDER BY r.created_at DESC LIMIT 1"};
static struct ag_db_sql q_run_incomplete = {
    .sql = "SELECT " RUN_COLS " FROM playbook_runs WHERE status = 'incomplete' "
    "AND updated_at < ?1 ORDER BY updated_at LIMIT ?2"};

static void read_run(struct ag_db_stmt *st, void *out)
{
    struct ag_playbook_run_rec *r = out;
    memset(r, 0, sizeof *r);
    ag_db_col_copy(st, 0, r->id, sizeof r->id);
    ag_db_col_copy(st, 1, r->account_id, sizeof r->account_id);
    ag_db_col_copy(st, 2, r->case_id, sizeof r->case_id);
    ag_db_col_copy(st, 3, r->status, sizeof r->status);
    ag_db_col_copy(st, 4, r->actor, sizeof r->actor);
    r->since_at = ag_db_col_int64(st, 5);
    r->created_at = ag_db_col_int64(st, 6);
    r->updated_at = ag_db_col_int64(st, 7);
}

int ag_store_playbook_run_put(struct ag_store_tx *tx, const struct ag_playbook_run_rec *r,
                              struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_run_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, r->id);
    ag_db_bind_text(st, 2, r->account_id);
    ag_db_bind_text(st, 3, r->case_id);
    ag_db_bind_text(st, 4, r->status);
    ag_db_bind_text(st, 5, r->actor);
    ag_db_bind_int64(st, 6, r->since_at);
    ag_db_bind_int64(st, 7, r->created_at);
    ag_db_bind_int64(st, 8, r->updated_at);
    return ag_db_run(st, err);
}

static int run_one(struct ag_db_stmt *st, struct ag_playbook_run_rec *out, struct ag_err *err)
{
    return ag_db_one(st, read_run, out, "not_found", "", "playbook", "run", err);
}

int ag_store_playbook_run_get_tx(struct ag_store_tx *tx, const char *id,
                                 struct ag_playbook_run_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_run_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return run_one(st, out, err);
}

int ag_store_playbook_run_active_tx(struct ag_store_tx *tx, const char *account_id,
                                    struct ag_playbook_run_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_run_active, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    return run_one(st, out, err);
}

AG_DB_EACH_RECORD(run, struct ag_playbook_run_rec, read_run)

static int run_incomplete(struct ag_db *db, int64_t before, int limit,
                          int (*cb)(void *, const struct ag_playbook_run_rec *), void *arg,
                          struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_run_incomplete, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, before);
    ag_db_bind_int64(st, 2, limit);
    struct each_run e = {cb, arg};
    return ag_db_each(st, each_run_row, &e, err);
}

int ag_store_playbook_run_incomplete(struct ag_store *s, int64_t before, int limit,
                                     int (*cb)(void *, const struct ag_playbook_run_rec *),
                                     void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, run_incomplete(db, before, limit, cb, arg, err));
}

#define STEP_COLS "run_id, step, status, attempts, error, detail, updated_at"
static struct ag_db_sql q_step_put = {
    .sql = "INSERT INTO playbook_steps(" STEP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT(run_id, step) DO UPDATE SET status = excluded.status, "
    "attempts = excluded.attempts, error = excluded.error, detail = excluded.detail, "
    "updated_at = excluded.updated_at"};
static struct ag_db_sql q_step_get = {
    .sql = "SELECT " STEP_COLS " FROM playbook_steps WHERE run_id = ?1 AND step = ?2"};
static struct ag_db_sql q_step_list = {.sql = "SELECT " STEP_COLS
                                       " FROM playbook_steps WHERE run_id = ?1"};

static void read_step(struct ag_db_stmt *st, void *out)
{
    struct ag_playbook_step_rec *s = out;
    memset(s, 0, sizeof *s);
    ag_db_col_copy(st, 0, s->run_id, sizeof s->run_id);
    ag_db_col_copy(st, 1, s->step, sizeof s->step);
    ag_db_col_copy(st, 2, s->status, sizeof s->status);
    s->attempts = (int)ag_db_col_int64(st, 3);
    ag_db_col_copy(st, 4, s->error, sizeof s->error);
    s->detail = ag_db_col_text(st, 5);
    s->updated_at = ag_db_col_int64(st, 6);
}

int ag_store_playbook_step_put(struct ag_store_tx *tx, const struct ag_playbook_step_rec *s,
                               struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_step_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, s->run_id);
    ag_db_bind_text(st, 2, s->step);
    ag_db_bind_text(st, 3, s->status);
    ag_db_bind_int64(st, 4, s->attempts);
    ag_db_bind_text(st, 5, s->error);
    ag_db_bind_text(st, 6, s->detail ? s->detail : "{}");
    ag_db_bind_int64(st, 7, s->updated_at);
    return ag_db_run(st, err);
}

int ag_store_playbook_step_get_tx(struct ag_store_tx *tx, const char *run_id, const char *step,
                                  struct ag_playbook_step_rec *out, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_step_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, run_id);
    ag_db_bind_text(st, 2, step);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW) {
        read_step(st, out);
        out->detail = NULL; /* dies with the reset */
    }
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "not_found", "", "no step %s", step);
    return rc == AG_DB_ROW ? 0 : rc;
}

AG_DB_EACH_RECORD(step, struct ag_playbook_step_rec, read_step)

int ag_store_playbook_step_list_tx(struct ag_store_tx *tx, const char *run_id,
                                   int (*cb)(void *, const struct ag_playbook_step_rec *),
                                   void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_step_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, run_id);
    struct each_step e = {cb, arg};
    return ag_db_each(st, each_step_row, &e, err);
}

/* ---- disputes ---- */

#define DISPUTE_COLS                                                                             \
    "seq, id, case_id, account_id, transaction_id, amount, currency, reason, status, due_at, "   \
    "created_by, created_at, updated_at, closed_at"
static struct ag_db_sql q_dispute_put = {
    .sql = "INSERT INTO disputes(id, case_id, account_id, transaction_id, amount, currency, "
    "reason, status, due_at, created_by, created_at, updated_at, closed_at) VALUES (?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING seq"};
static struct ag_db_sql q_dispute_update = {
    .sql = "UPDATE disputes SET status = ?2, due_at = ?3, updated_at = ?4, closed_at = ?5 "
    "WHERE id = ?1"};
static struct ag_db_sql q_dispute_get = {.sql = "SELECT " DISPUTE_COLS
                                         " FROM disputes WHERE id = ?1"};
static struct ag_db_sql q_dispute_list = {
    .sql = "SELECT " DISPUTE_COLS " FROM disputes WHERE seq < ?1 AND (?2 = '' OR case_id = ?2) "
    "AND (?3 = '' OR status = ?3) ORDER BY seq DESC LIMIT ?4"};

static void read_dispute(struct ag_db_stmt *st, void *out)
{
    struct ag_dispute_rec *d = out;
    memset(d, 0, sizeof *d);
    d->seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, d->id, sizeof d->id);
    ag_db_col_copy(st, 2, d->case_id, sizeof d->case_id);
    ag_db_col_copy(st, 3, d->account_id, sizeof d->account_id);
    ag_db_col_copy(st, 4, d->transaction_id, sizeof d->transaction_id);
    d->amount = ag_db_col_int64(st, 5);
    ag_db_col_copy(st, 6, d->currency, sizeof d->currency);
    ag_db_col_copy(st, 7, d->reason, sizeof d->reason);
    ag_db_col_copy(st, 8, d->status, sizeof d->status);
    d->due_at = ag_db_col_int64(st, 9);
    ag_db_col_copy(st, 10, d->created_by, sizeof d->created_by);
    d->created_at = ag_db_col_int64(st, 11);
    d->updated_at = ag_db_col_int64(st, 12);
    d->closed_at = ag_db_col_int64(st, 13);
}

int ag_store_dispute_put(struct ag_store_tx *tx, struct ag_dispute_rec *d, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_dispute_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, d->id);
    ag_db_bind_text(st, 2, d->case_id);
    ag_db_bind_text(st, 3, d->account_id);
    ag_db_bind_text(st, 4, d->transaction_id);
    ag_db_bind_int64(st, 5, d->amount);
    ag_db_bind_text(st, 6, d->currency);
    ag_db_bind_text(st, 7, d->reason);
    ag_db_bind_text(st, 8, d->status);
    ag_db_bind_int64(st, 9, d->due_at);
    ag_db_bind_text(st, 10, d->created_by);
    ag_db_bind_int64(st, 11, d->created_at);
    ag_db_bind_int64(st, 12, d->updated_at);
    ag_db_bind_int64(st, 13, d->closed_at);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        d->seq = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_dispute_update(struct ag_store_tx *tx, const struct ag_dispute_rec *d,
                            struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_dispute_update, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, d->id);
    ag_db_bind_text(st, 2, d->status);
    ag_db_bind_int64(st, 3, d->due_at);
    ag_db_bind_int64(st, 4, d->updated_at);
    ag_db_bind_int64(st, 5, d->closed_at);
    return ag_db_run(st, err);
}

static int dispute_get(struct ag_db *db, const char *id, struct ag_dispute_rec *out,
                       struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_dispute_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    return ag_db_one(st, read_dispute, out, "dispute_not_found", "id", "dispute", id, err);
}

int ag_store_dispute_get_tx(struct ag_store_tx *tx, const char *id, struct ag_dispute_rec *out,
                            struct ag_err *err)
{
    return dispute_get(tx->db, id, out, err);
}

int ag_store_dispute_get(struct ag_store *s, const char *id, struct ag_dispute_rec *out,
                         struct ag_err *err)
{
    AG_STORE_READ(s, dispute_get(db, id, out, err));
}

AG_DB_EACH_RECORD(dispute, struct ag_dispute_rec, read_dispute)

static int dispute_list(struct ag_db *db, const char *case_id, const char *status,
                        int64_t before_seq, int limit,
                        int (*cb)(void *, const struct ag_dispute_rec *), void *arg,
                        struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_dispute_list, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, before_seq > 0 ? before_seq : INT64_MAX);
    ag_db_bind_text(st, 2, nz(case_id));
    ag_db_bind_text(st, 3, nz(status));
    ag_db_bind_int64(st, 4, limit);
    struct each_dispute e = {cb, arg};
    return ag_db_each(st, each_dispute_row, &e, err);
}

int ag_store_dispute_list(struct ag_store *s, const char *case_id, const char *status,
                          int64_t before_seq, int limit,
                          int (*cb)(void *, const struct ag_dispute_rec *), void *arg,
                          struct ag_err *err)
{
    AG_STORE_READ(s, dispute_list(db, case_id, status, before_seq, limit, cb, arg, err));
}

/* ---- labels ---- */

static struct ag_db_sql q_label_put = {
    .sql = "INSERT INTO case_labels(event_id, account_id, case_id, label, event_type, "
    "occurred_at, labelled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT(event_id) DO UPDATE SET account_id = excluded.account_id, "
    "case_id = excluded.case_id, label = excluded.label, event_type = excluded.event_type, "
    "occurred_at = excluded.occurred_at, labelled_at = excluded.labelled_at"};
static struct ag_db_sql q_label_delete_case = {.sql = "DELETE FROM case_labels WHERE case_id = ?1"};
static struct ag_db_sql q_label_scan = {
    .sql = "SELECT seq, event_id, account_id, case_id, label, event_type, occurred_at, "
    "labelled_at FROM case_labels WHERE seq > ?1 ORDER BY seq LIMIT ?2"};

int ag_store_label_put(struct ag_store_tx *tx, const struct ag_label_rec *l, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_label_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, l->event_id);
    ag_db_bind_text(st, 2, l->account_id);
    ag_db_bind_text(st, 3, l->case_id);
    ag_db_bind_text(st, 4, l->label);
    ag_db_bind_text(st, 5, l->event_type);
    ag_db_bind_int64(st, 6, l->occurred_at);
    ag_db_bind_int64(st, 7, l->labelled_at);
    return ag_db_run(st, err);
}

int ag_store_label_delete_case(struct ag_store_tx *tx, const char *case_id, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_label_delete_case, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, case_id);
    return ag_db_run(st, err);
}

struct each_label {
    int (*cb)(void *, const struct ag_label_rec *);
    void *arg;
};

static int each_label_row(struct ag_db_stmt *st, void *p)
{
    struct each_label *e = p;
    struct ag_label_rec l;
    memset(&l, 0, sizeof l);
    l.seq = ag_db_col_int64(st, 0);
    ag_db_col_copy(st, 1, l.event_id, sizeof l.event_id);
    ag_db_col_copy(st, 2, l.account_id, sizeof l.account_id);
    ag_db_col_copy(st, 3, l.case_id, sizeof l.case_id);
    ag_db_col_copy(st, 4, l.label, sizeof l.label);
    ag_db_col_copy(st, 5, l.event_type, sizeof l.event_type);
    l.occurred_at = ag_db_col_int64(st, 6);
    l.labelled_at = ag_db_col_int64(st, 7);
    return e->cb(e->arg, &l);
}

static int label_scan(struct ag_db *db, int64_t after_seq, int limit,
                      int (*cb)(void *, const struct ag_label_rec *), void *arg,
                      struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_label_scan, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, after_seq);
    ag_db_bind_int64(st, 2, limit);
    struct each_label e = {cb, arg};
    return ag_db_each(st, each_label_row, &e, err);
}

int ag_store_label_scan(struct ag_store *s, int64_t after_seq, int limit,
                        int (*cb)(void *, const struct ag_label_rec *), void *arg,
                        struct ag_err *err)
{
    AG_STORE_READ(s, label_scan(db, after_seq, limit, cb, arg, err));
}

/* ---- events ---- */

#define EV_COLS                                                                                  \
    "seq, id, account_id, type, occurred_at, received_at, request_hash, event_json, action, "    \
    "risk, response_json"
static struct ag_db_sql q_acct_events = {
    .sql = "SELECT " EV_COLS " FROM events WHERE account_id = ?1 AND occurred_at >= ?2 "
    "ORDER BY occurred_at, seq LIMIT ?3"};
static struct ag_db_sql q_acct_events_received = {
    .sql = "SELECT " EV_COLS " FROM events WHERE account_id = ?1 AND received_at >= ?2 "
    "ORDER BY seq LIMIT ?3"};
static struct ag_db_sql q_first_flagged = {
    .sql = "SELECT min(occurred_at) FROM events WHERE account_id = ?1 AND occurred_at >= ?2 "
    "AND action IN ('review', 'challenge', 'deny')"};
static struct ag_db_sql q_event_get = {.sql = "SELECT " EV_COLS " FROM events WHERE id = ?1"};

static int read_ev(struct ag_db_stmt *st, struct ag_event_row *r)
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
    if (!r->id || !r->account_id || !r->type || !r->event_json || !r->action ||
        !r->response_json) {
        ag_event_row_free(r);
        return AG_ENOMEM;
    }
    return 0;
}

int ag_store_case_account_events_tx(struct ag_store_tx *tx, const char *account_id, int64_t from,
                                    bool by_received, int limit,
                                    int (*cb)(void *, const struct ag_event_row *), void *arg,
                                    struct ag_err *err)
{
    struct ag_db_stmt *st =
        ag_db_stmt(tx->db, by_received ? &q_acct_events_received : &q_acct_events, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_int64(st, 2, from);
    ag_db_bind_int64(st, 3, limit);
    int rc;
    struct ag_event_row r;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        if (read_ev(st, &r)) {
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

int ag_store_case_first_flagged_tx(struct ag_store_tx *tx, const char *account_id, int64_t from,
                                   int64_t *at, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_first_flagged, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_int64(st, 2, from);
    int rc = ag_db_step(st, err);
    bool none = rc != AG_DB_ROW || ag_db_col_null(st, 0);
    if (!none)
        *at = ag_db_col_int64(st, 0);
    ag_db_reset(st);
    if (rc < 0)
        return rc;
    if (none)
        return ag_err_set(err, AG_ENOTFOUND, "not_found", "", "no flagged event");
    return 0;
}

int ag_store_case_event_get_tx(struct ag_store_tx *tx, const char *id, struct ag_event_row *out,
                               struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_event_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    int rc = ag_db_step(st, err), r = 0;
    if (rc == AG_DB_ROW)
        r = read_ev(st, out);
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "event_not_found", "ref", "no event %s", id);
    if (r)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    return rc == AG_DB_ROW ? 0 : rc;
}
