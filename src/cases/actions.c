/* Resolution actions on a case. Marking unauthorized, refunds and
 * compensation are recorded; a reversal or an order cancellation is a
 * command to the platform — a signed webhook (notify: Standard Webhooks,
 * idempotency key "case-command:<action id>") — that stays "pending" until the
 * platform confirms it or reports its failure through
 * POST /v1/cases/{id}/actions/{action_id}/confirm. Restoring the account
 * lifts the freeze once new credentials were verified. */
#include "cases/internal.h"
#include "core/event_types.h"
#include "core/timeutil.h"
#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_kinds[] = {"mark_unauthorized", "reverse",
                                           "cancel_order",      "refund",
                                           "compensation",      "restore_account",
                                           NULL};
static const char *const target_types[] = {"order",   "transaction", "transfer", "subscription",
                                           "payout",  NULL};

static json_t *action_json(const struct ag_case_action_rec *a)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", a->id,
                          "case_id", a->case_id, "kind", a->kind, "status", a->status, "note",
                          a->note, "result", a->result, "requested_by", a->requested_by,
                          "created_at", cases_time(a->created_at), "updated_at",
                          cases_time(a->updated_at), "resolved_at", cases_time(a->resolved_at));
    if (a->target_id[0])
        json_object_set_new(o, "target",
                            json_pack("{s:s, s:s}", "type", a->target_type, "id", a->target_id));
    if (a->amount)
        json_object_set_new(o, "amount",
                            json_pack("{s:I, s:s}", "amount", (json_int_t)a->amount, "currency",
                                      a->currency));
    if (!strcmp(a->kind, "reverse") || !strcmp(a->kind, "cancel_order")) {
        char key[80];
        snprintf(key, sizeof key, "case-command:%s", a->id);
        json_object_set_new(o, "command",
                            json_pack("{s:s, s:s}", "webhook_kind",
                                      !strcmp(a->kind, "reverse") ? "reversal.command"
                                                                  : "order_cancel.command",
                                      "idempotency_key", key));
    }
    return o;
}

/* The command to the platform, queued in <tx>. Returns how many webhooks
 * were queued (0: no subscription for the kind) or a negative code. */
static int send_command(struct ag_store_tx *tx, struct ag_cases *m,
                        const struct ag_case_rec *c, const struct ag_case_action_rec *a,
                        struct ag_err *err)
{
    char key[80], url[600];
    snprintf(key, sizeof key, "case-command:%s", a->id);
    const char *base = m->cfg && m->cfg->public_url ? m->cfg->public_url : "";
    snprintf(url, sizeof url, "%s/v1/cases/%s/actions/%s/confirm", base, c->id, a->id);
    json_t *params = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:I, s:s, s:s, s:s}", "command",
        !strcmp(a->kind, "reverse") ? "reverse" : "cancel_order", "action_id", a->id, "case_id",
        c->id, "account_id", c->account_id, "target", "type", a->target_type, "id", a->target_id,
        "amount", (json_int_t)a->amount, "currency", a->currency, "idempotency_key", key,
        "confirm_url", url);
    char *ptext = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    if (!ptext)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    struct ag_notify_msg msg = {.channel = AG_NOTIFY_WEBHOOK,
                                .kind = !strcmp(a->kind, "reverse") ? "reversal.command"
                                                                    : "order_cancel.command",
                                .account_id = c->account_id,
                                .params_json = ptext,
                                .idempotency_key = key};
    int n = ag_notify_enqueue(tx, &msg, err);
    free(ptext);
    return n;
}

static const char *evidence_kind_of(const char *target_type)
{
    return !strcmp(target_type, "payout") ? "transaction" : target_type;
}

struct create_extra {
    bool restore_checked; /* the credentials check and the unfreeze ran */
};

static int create_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const json_t *b = op->body;
    const char *kind = NULL, *ttype = NULL, *tid = NULL, *currency = NULL, *note = NULL;
    int64_t amount = 0;
    int rc;
    if ((rc = ag_json_str(b, "kind", "kind", 31, true, &kind, err)))
        return rc;
    if (!cases_in(kind, action_kinds))
        return ag_err_set(err, AG_EINVAL, "invalid_action_kind", "kind",
                          "kind must be mark_unauthorized, reverse, cancel_order, refund, "
                          "compensation or restore_account");
    bool needs_target = strcmp(kind, "restore_account") && strcmp(kind, "compensation");
    bool needs_amount = !strcmp(kind, "reverse") || !strcmp(kind, "refund") ||
                        !strcmp(kind, "compensation");
    json_t *target = json_object_get(b, "target");
    if (needs_target && !json_is_object(target))
        return ag_err_set(err, AG_EINVAL, "missing_field", "target",
                          "a %s needs target {\"type\", \"id\"}", kind);
    if (json_is_object(target)) {
        if ((rc = ag_json_str(target, "type", "target.type", 31, true, &ttype, err)) ||
            (rc = ag_json_str(target, "id", "target.id", 128, true, &tid, err)))
            return rc;
        if (!cases_in(ttype, target_types))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "target.type",
                              "target.type must be order, transaction, transfer, subscription "
                              "or payout");
        if (!*tid)
            return ag_err_set(err, AG_EINVAL, "invalid_field", "target.id", "target.id is empty");
        if (!strcmp(kind, "cancel_order") && strcmp(ttype, "order"))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "target.type",
                              "cancel_order needs an order");
    }
    if ((rc = ag_json_int(b, "amount", "amount", 1, INT64_MAX / 4, needs_amount, &amount, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    if ((rc = ag_json_str(b, "currency", "currency", 3, amount > 0, &currency, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    if (currency && strlen(currency) != 3)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "currency",
                          "currency must be a 3-letter ISO 4217 code");
    if ((rc = ag_json_str(b, "note", "note", 1000, false, &note, err)) && rc != AG_ENOTFOUND)
        return rc;

    struct ag_case_rec *c = malloc(sizeof *c);
    struct ag_case_action_rec *a = calloc(1, sizeof *a);
    if (!c || !a) {
        rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        goto out;
    }
    if ((rc = cases_load(tx, op->id, c, err)))
        goto out;
    if (!strcmp(c->status, "closed")) {
        rc = ag_err_set(err, AG_ESTATE, "case_closed", "",
                        "case %s is closed: reopen it to act on it", c->id);
        goto out;
    }
    int64_t now = ag_time_now_ms();
    ag_id_random(a->id, sizeof a->id, "act_", 20);
    snprintf(a->case_id, sizeof a->case_id, "%s", c->id);
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    snprintf(a->target_type, sizeof a->target_type, "%s", ttype ? ttype : "");
    snprintf(a->target_id, sizeof a->target_id, "%s", tid ? tid : "");
    a->amount = amount;
    snprintf(a->currency, sizeof a->currency, "%s", currency ? currency : "");
    snprintf(a->note, sizeof a->note, "%s", note ? note : "");
    snprintf(a->requested_by, sizeof a->requested_by, "%s", op->actor);
    a->created_at = a->updated_at = now;
    bool command = !strcmp(kind, "reverse") || !strcmp(kind, "cancel_order");
    snprintf(a->status, sizeof a->status, "%s", command ? "pending" : "recorded");
    if ((rc = ag_store_case_action_put(tx, a, err)))
        goto out;
    if (command) {
        int n = send_command(tx, op->m, c, a, err);
        if (n < 0) {
            rc = n;
            goto out;
        }
        if (n == 0) {
            /* Nobody to tell: the command fails visibly instead of waiting forever. */
            snprintf(a->status, sizeof a->status, "failed");
            snprintf(a->result, sizeof a->result,
                     "no webhook subscription for %s: the platform was not told",
                     !strcmp(kind, "reverse") ? "reversal.command" : "order_cancel.command");
            a->resolved_at = now;
            if ((rc = ag_store_case_action_update(tx, a, err)))
                goto out;
        }
    }
    if (ttype && (!strcmp(kind, "mark_unauthorized") || command)) {
        struct ag_case_evidence_rec e = {0};
        snprintf(e.kind, sizeof e.kind, "%s", evidence_kind_of(ttype));
        snprintf(e.ref, sizeof e.ref, "%s", tid);
        snprintf(e.note, sizeof e.note, "%s", !strcmp(kind, "mark_unauthorized")
                                                 ? "marked unauthorized"
                                                 : "subject of a resolution action");
        e.amount = !strcmp(kind, "mark_unauthorized") ? amount : 0;
        snprintf(e.currency, sizeof e.currency, "%s", currency ? currency : "");
        bool dup;
        if ((rc = cases_evidence_add(tx, c, &e, op->actor, &dup, NULL, err)))
            goto out;
    }
    json_t *d = action_json(a);
    char what[200];
    if (tid)
        snprintf(what, sizeof what, "%s on %s %s", kind, ttype, tid);
    else
        snprintf(what, sizeof what, "%s", kind);
    /* Reversals, refunds and restores are news for the customer. */
    bool customer = strcmp(kind, "mark_unauthorized") != 0;
    rc = cases_entry(tx, c->id, op->actor, "action", customer, d, err, "Action %s (%s)", what,
                     a->status);
    if (!rc)
        rc = cases_audit(tx, op->actor, "case.action", c->id, d, err);
    if (!rc)
        rc = cases_save(tx, c, true, now, err);
    if (!rc)
        op->out = d;
    else
        json_decref(d);
out:
    free(c);
    free(a);
    return rc;
}

/* Restoring: the owner must have set a new password and passed 2-step
 * verification since the case opened (events from the platform), unless
 * the analyst forces it. */
struct creds_scan {
    bool password, mfa;
};

static int creds_cb(void *arg, const struct ag_event_row *r)
{
    struct creds_scan *s = arg;
    if (!strcmp(r->type, "password.reset_completed") || !strcmp(r->type, "password.changed"))
        s->password = true;
    if (!strcmp(r->type, "mfa.succeeded") || !strcmp(r->type, "mfa.enabled"))
        s->mfa = true;
    return 0;
}

struct creds_job {
    const char *case_id;
    struct ag_case_rec c;
    struct creds_scan s;
};

static int creds_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct creds_job *j = arg;
    j->s = (struct creds_scan){0}; /* a run after a rollback starts afresh (store.h) */
    int rc = cases_load(tx, j->case_id, &j->c, err);
    if (rc)
        return rc;
    return ag_store_case_account_events_tx(tx, j->c.account_id, j->c.created_at, true, 10000,
                                           creds_cb, &j->s, err);
}

int ag_cases_action_create(struct ag_cases *m, const char *id, const char *actor,
                           const json_t *body, json_t **out, struct ag_err *err)
{
    const char *kind = json_string_value(json_object_get(body, "kind"));
    if (kind && !strcmp(kind, "restore_account")) {
        json_t *force = json_object_get(body, "force");
        if (force && !json_is_boolean(force))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "force", "force must be a boolean");
        struct creds_job *j = calloc(1, sizeof *j);
        if (!j)
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        j->case_id = id;
        int rc = ag_store_exec(m->store, creds_run, j, err);
        if (!rc && !json_is_true(force) && !(j->s.password && j->s.mfa))
            rc = ag_err_set(err, AG_ESTATE, "credentials_not_renewed", "",
                            "the owner has not %s since the case opened; restore with "
                            "\"force\": true to override",
                            !j->s.password ? "set a new password" : "passed 2-step verification");
        char account[129];
        snprintf(account, sizeof account, "%s", j->c.account_id);
        free(j);
        if (rc)
            return rc;
        if ((rc = ag_pipeline_account_freeze(m->p, account, false, "restored after a fraud case",
                                             actor, 0, NULL, err)))
            return rc;
    }
    struct cases_op op = {.id = id, .actor = actor, .body = body};
    return cases_run(m, create_job, &op, out, err);
}

static int confirm_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const char *result = NULL, *detail = NULL;
    int rc = ag_json_str(op->body, "result", "result", 16, true, &result, err);
    if (rc)
        return rc;
    if (strcmp(result, "confirmed") && strcmp(result, "failed"))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "result",
                          "result must be confirmed or failed");
    if ((rc = ag_json_str(op->body, "detail", "detail", 1000, false, &detail, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    struct ag_case_action_rec a;
    if ((rc = ag_store_case_action_get_tx(tx, op->id2, &a, err)))
        return rc;
    if (strcmp(a.case_id, op->id))
        return ag_err_set(err, AG_ENOTFOUND, "action_not_found", "action_id",
                          "case %s has no action %s", op->id, op->id2);
    if (strcmp(a.status, "pending")) {
        if (!strcmp(a.status, result)) { /* the platform retried: same answer */
            op->out = action_json(&a);
            return 0;
        }
        return ag_err_set(err, AG_ESTATE, "action_not_pending", "",
                          "action %s is %s, not pending", a.id, a.status);
    }
    int64_t now = ag_time_now_ms();
    snprintf(a.status, sizeof a.status, "%s", result);
    snprintf(a.result, sizeof a.result, "%s", detail ? detail : "");
    a.updated_at = a.resolved_at = now;
    if ((rc = ag_store_case_action_update(tx, &a, err)))
        return rc;
    json_t *d = action_json(&a);
    rc = cases_entry(tx, a.case_id, op->actor, "action", true, d, err, "Action %s on %s %s %s",
                     a.kind, a.target_type, a.target_id, result);
    if (!rc)
        rc = cases_audit(tx, op->actor, "case.action_confirm", a.case_id, d, err);
    if (!rc)
        op->out = d;
    else
        json_decref(d);
    return rc;
}

int ag_cases_action_confirm(struct ag_cases *m, const char *id, const char *action_id,
                            const char *actor, const json_t *body, json_t **out,
                            struct ag_err *err)
{
    struct cases_op op = {.id = id, .id2 = action_id, .actor = actor, .body = body};
    return cases_run(m, confirm_job, &op, out, err);
}

static int list_add(void *arg, const struct ag_case_action_rec *a)
{
    json_array_append_new(arg, action_json(a));
    return 0;
}

int ag_cases_actions(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err)
{
    int rc = cases_exists(m, id, err);
    if (rc)
        return rc;
    json_t *items = json_array();
    if ((rc = ag_store_case_action_list(m->store, id, list_add, items, err))) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:s, s:o}", "case_id", id, "items", items);
    return 0;
}
