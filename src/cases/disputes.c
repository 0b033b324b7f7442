/* Disputes: a customer disputes a charge; the dispute belongs to a case and
 * follows its own states, each with a deadline. */
#include "cases/internal.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

/* Each state and how long it may last before its deadline. */
static const struct {
    const char *status;
    int64_t due_ms; /* 0 = final */
} states[] = {
    {"opened", 7 * DAY_MS},         {"evidence_requested", 10 * DAY_MS},
    {"under_review", 30 * DAY_MS},  {"won", 0},
    {"lost", 0},                    {"withdrawn", 0},
};

static const struct {
    const char *from, *to;
} moves[] = {
    {"opened", "evidence_requested"},      {"opened", "under_review"},
    {"opened", "withdrawn"},               {"evidence_requested", "under_review"},
    {"evidence_requested", "withdrawn"},   {"evidence_requested", "lost"},
    {"under_review", "won"},               {"under_review", "lost"},
    {"under_review", "evidence_requested"}, {"under_review", "withdrawn"},
};

bool ag_cases_dispute_transition_allowed(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (!strcmp(moves[i].from, from) && !strcmp(moves[i].to, to))
            return true;
    return false;
}

static int state_index(const char *s)
{
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (!strcmp(states[i].status, s))
            return (int)i;
    return -1;
}

static json_t *dispute_json(const struct ag_dispute_rec *d, int64_t now)
{
    int k = state_index(d->status);
    bool final = k >= 0 && states[k].due_ms == 0;
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:s}, s:s, s:s, s:o, s:b, s:b, s:s, s:o, "
                     "s:o, s:o}",
                     "id", d->id, "case_id", d->case_id, "account_id", d->account_id,
                     "transaction_id", d->transaction_id, "amount", "amount",
                     (json_int_t)d->amount, "currency", d->currency, "reason", d->reason,
                     "status", d->status, "due_at", cases_time(d->due_at), "final", final,
                     "overdue", !final && d->due_at && now > d->due_at, "created_by",
                     d->created_by, "created_at", cases_time(d->created_at), "updated_at",
                     cases_time(d->updated_at), "closed_at", cases_time(d->closed_at));
}

static int create_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const json_t *b = op->body;
    const char *txid = NULL, *currency = NULL, *reason = NULL, *due_s = NULL;
    int64_t amount = 0, due = 0;
    int rc;
    if ((rc = ag_json_str(b, "transaction_id", "transaction_id", 128, true, &txid, err)) ||
        (rc = ag_json_int(b, "amount", "amount", 1, INT64_MAX / 4, true, &amount, err)) ||
        (rc = ag_json_str(b, "currency", "currency", 3, true, &currency, err)))
        return rc;
    if ((rc = ag_json_str(b, "reason", "reason", 1000, false, &reason, err)) && rc != AG_ENOTFOUND)
        return rc;
    if ((rc = ag_json_str(b, "due_at", "due_at", 64, false, &due_s, err)) && rc != AG_ENOTFOUND)
        return rc;
    if (!*txid)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "transaction_id",
                          "transaction_id is empty");
    if (strlen(currency) != 3)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "currency",
                          "currency must be a 3-letter ISO 4217 code");
    int64_t now = ag_time_now_ms();
    if (due_s && (ag_time_parse(due_s, &due) || due <= now))
        return ag_err_set(err, AG_EINVAL, "invalid_timestamp", "due_at",
                          "due_at must be an RFC 3339 timestamp in the future");
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    if ((rc = cases_load(tx, op->id, c, err))) {
        free(c);
        return rc;
    }
    struct ag_dispute_rec d = {.amount = amount, .created_at = now, .updated_at = now};
    ag_id_random(d.id, sizeof d.id, "dsp_", 20);
    snprintf(d.case_id, sizeof d.case_id, "%s", c->id);
    snprintf(d.account_id, sizeof d.account_id, "%s", c->account_id);
    snprintf(d.transaction_id, sizeof d.transaction_id, "%s", txid);
    snprintf(d.currency, sizeof d.currency, "%s", currency);
    snprintf(d.reason, sizeof d.reason, "%s", reason ? reason : "");
    snprintf(d.status, sizeof d.status, "opened");
    snprintf(d.created_by, sizeof d.created_by, "%s", op->actor);
    d.due_at = due ? due : now + states[0].due_ms;
    json_t *j = NULL;
    if (!(rc = ag_store_dispute_put(tx, &d, err))) {
        j = dispute_json(&d, now);
        rc = cases_entry(tx, c->id, op->actor, "dispute", true, j, err,
                         "Dispute opened on transaction %s", txid);
    }
    if (!rc)
        rc = cases_audit(tx, op->actor, "dispute.open", c->id, j, err);
    if (!rc)
        rc = cases_save(tx, c, true, now, err);
    if (!rc)
        op->out = j;
    else
        json_decref(j);
    free(c);
    return rc;
}

int ag_cases_dispute_create(struct ag_cases *m, const char *case_id, const char *actor,
                            const json_t *body, json_t **out, struct ag_err *err)
{
    struct cases_op op = {.id = case_id, .actor = actor, .body = body};
    return cases_run(m, create_job, &op, out, err);
}

static int status_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const char *to = NULL, *note = NULL;
    int rc = ag_json_str(op->body, "status", "status", 31, true, &to, err);
    if (rc)
        return rc;
    if ((rc = ag_json_str(op->body, "note", "note", 1000, false, &note, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    int k = state_index(to);
    if (k < 0)
        return ag_err_set(err, AG_EINVAL, "invalid_status", "status",
                          "status must be opened, evidence_requested, under_review, won, lost "
                          "or withdrawn");
    struct ag_dispute_rec d;
    if ((rc = ag_store_dispute_get_tx(tx, op->id, &d, err)))
        return rc;
    if (!ag_cases_dispute_transition_allowed(d.status, to))
        return ag_err_set(err, AG_ESTATE, "invalid_transition", "status",
                          "a dispute cannot go from %s to %s", d.status, to);
    int64_t now = ag_time_now_ms();
    char from[32];
    snprintf(from, sizeof from, "%s", d.status);
    snprintf(d.status, sizeof d.status, "%s", to);
    d.updated_at = now;
    d.due_at = states[k].due_ms ? now + states[k].due_ms : 0;
    if (!states[k].due_ms)
        d.closed_at = now;
    if ((rc = ag_store_dispute_update(tx, &d, err)))
        return rc;
    json_t *j = dispute_json(&d, now);
    json_t *det = json_pack("{s:s, s:s, s:s}", "dispute_id", d.id, "from", from, "to", to);
    rc = cases_entry(tx, d.case_id, op->actor, "dispute", true, det, err,
                     "Dispute on transaction %s: %s", d.transaction_id, to);
    if (!rc && note)
        rc = cases_entry(tx, d.case_id, op->actor, "note", false, NULL, err, "%s", note);
    if (!rc)
        rc = cases_audit(tx, op->actor, "dispute.status", d.case_id, det, err);
    json_decref(det);
    if (!rc)
        op->out = j;
    else
        json_decref(j);
    return rc;
}

int ag_cases_dispute_set_status(struct ag_cases *m, const char *id, const char *actor,
                                const json_t *body, json_t **out, struct ag_err *err)
{
    struct cases_op op = {.id = id, .actor = actor, .body = body};
    return cases_run(m, status_job, &op, out, err);
}

int ag_cases_dispute_get(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err)
{
    struct ag_dispute_rec d;
    int rc = ag_store_dispute_get(m->store, id, &d, err);
    if (!rc)
        *out = dispute_json(&d, ag_time_now_ms());
    return rc;
}

struct dpage {
    json_t *items;
    int limit, n;
    int64_t last, now;
};

static int dpage_add(void *arg, const struct ag_dispute_rec *d)
{
    struct dpage *p = arg;
    if (p->n++ == p->limit)
        return 1;
    json_array_append_new(p->items, dispute_json(d, p->now));
    p->last = d->seq;
    return 0;
}

int ag_cases_disputes(struct ag_cases *m, const char *case_id, const char *status,
                      int64_t cursor, int limit, json_t **out, struct ag_err *err)
{
    struct dpage p = {.items = json_array(), .limit = limit, .now = ag_time_now_ms()};
    int rc = ag_store_dispute_list(m->store, case_id, status, cursor, limit + 1, dpage_add, &p,
                                   err);
    if (rc) {
        json_decref(p.items);
        return rc;
    }
    json_t *next = json_null();
    if (p.n > limit) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)p.last);
        next = json_string(buf);
    }
    *out = json_pack("{s:o, s:o}", "items", p.items, "next_cursor", next);
    return 0;
}
