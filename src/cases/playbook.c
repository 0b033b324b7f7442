/* The secure-account playbook (cases.h: ag_cases_secure_account). A run
 * belongs to one account and one case; its steps are a table. Each step
 * runs in its own store job together with its record (playbook_steps), its
 * timeline entry and its audit entry; a step that fails is recorded as
 * failed in a second job and retried by the next call or by the background
 * retry, never skipped. Runs are serialized per process (one lock). */
#include "cases/internal.h"
#include "core/event_types.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "identity/accounts.h"
#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOKBACK_MS (30LL * 24 * 3600 * 1000) /* how far back a first suspicious event is sought */
#define ACTIVITY_MAX 500

struct run_ctx {
    struct ag_cases *m;
    struct ag_playbook_run_rec run;
    const char *actor;
};

/* A step that runs inside a store transaction fills <detail>. */
typedef int (*step_tx_fn)(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                          struct ag_err *err);
/* A step that runs its own store work (freeze: the pipeline's hot state). */
typedef int (*step_own_fn)(struct run_ctx *r, json_t *detail, struct ag_err *err);

static int step_revoke_sessions(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                                struct ag_err *err)
{
    int n = 0;
    int rc = ag_identity_sessions_revoke_all(tx, r->run.account_id, NULL, ag_time_now_ms(), &n,
                                             err);
    json_object_set_new(detail, "sessions_revoked", json_integer(n));
    return rc;
}

static int step_password_reset(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                               struct ag_err *err)
{
    return ag_identity_require_password_reset(tx, r->run.account_id, ag_time_now_ms(), err);
}

static int step_mfa_reverify(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                             struct ag_err *err)
{
    return ag_identity_require_mfa_reverify(tx, r->run.account_id, ag_time_now_ms(), err);
}

static int step_forget_devices(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                               struct ag_err *err)
{
    int n = 0;
    int rc = ag_identity_devices_forget_untrusted(tx, r->run.account_id, ag_time_now_ms(), &n,
                                                  err);
    json_object_set_new(detail, "devices_forgotten", json_integer(n));
    return rc;
}

static int step_freeze(struct run_ctx *r, json_t *detail, struct ag_err *err)
{
    struct ag_account_state st;
    ag_pipeline_account_state(r->m->p, r->run.account_id, ag_time_now_ms(), &st);
    if (st.frozen) {
        json_object_set_new(detail, "already_frozen", json_true());
        return 0;
    }
    char reason[128];
    snprintf(reason, sizeof reason, "secure-account playbook (case %s)", r->run.case_id);
    return ag_pipeline_account_freeze(r->m->p, r->run.account_id, true, reason, r->actor, 0,
                                      NULL, err);
}

/* The account's activity since the first suspicious event, as evidence. */
struct activity {
    char id[129], type[64];
    char kind[32];
    int64_t occurred_at, amount;
    char currency[4];
    char action[16];
    double risk;
};

struct collect {
    struct activity *items;
    int n, cap;
};

static const char *activity_kind(const struct ag_event_row *r)
{
    const struct ag_event_type *t = ag_event_type_find(r->type);
    if (!strcmp(r->type, "order.placed"))
        return "order";
    if (!strcmp(r->type, "wallet.transfer") || !strcmp(r->type, "payout.requested"))
        return "transfer";
    if (!strcmp(r->type, "subscription.activated"))
        return "subscription";
    if (t && (t->flags & (AG_EVT_ACCOUNT_CHANGE | AG_EVT_CREDENTIAL)))
        return "account_change";
    if (strcmp(r->action, "allow"))
        return "event"; /* a flagged login or other suspicious event */
    return NULL;
}

static int collect_cb(void *arg, const struct ag_event_row *r)
{
    struct collect *c = arg;
    const char *kind = activity_kind(r);
    if (!kind)
        return 0;
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 32;
        struct activity *n = realloc(c->items, (size_t)cap * sizeof *n);
        if (!n)
            return 1;
        c->items = n;
        c->cap = cap;
    }
    struct activity *a = &c->items[c->n++];
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", r->id);
    snprintf(a->type, sizeof a->type, "%s", r->type);
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    snprintf(a->action, sizeof a->action, "%s", r->action);
    a->occurred_at = r->occurred_at;
    a->risk = r->risk;
    json_t *ev = json_loads(r->event_json, 0, NULL);
    json_t *props = json_object_get(ev, "properties");
    if (json_is_integer(json_object_get(props, "amount"))) {
        a->amount = json_integer_value(json_object_get(props, "amount"));
        const char *cur = json_string_value(json_object_get(props, "currency"));
        snprintf(a->currency, sizeof a->currency, "%s", cur ? cur : "");
    }
    json_decref(ev);
    return 0;
}

static int step_collect(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                        struct ag_err *err)
{
    struct collect col = {0};
    int rc = ag_store_case_account_events_tx(tx, r->run.account_id, r->run.since_at, false,
                                             ACTIVITY_MAX, collect_cb, &col, err);
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!rc && !c)
        rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    if (!rc)
        rc = cases_load(tx, r->run.case_id, c, err);
    json_t *list = json_array();
    int counts[5] = {0};
    static const char *const names[] = {"orders", "transfers", "subscriptions",
                                        "account_changes", "flagged_events"};
    static const char *const kinds[] = {"order", "transfer", "subscription", "account_change",
                                        "event"};
    for (int i = 0; !rc && i < col.n; i++) {
        struct activity *a = &col.items[i];
        for (int k = 0; k < 5; k++)
            if (!strcmp(a->kind, kinds[k]))
                counts[k]++;
        json_t *summary = json_pack("{s:s, s:o, s:s, s:f}", "type", a->type, "occurred_at",
                                    cases_time(a->occurred_at), "action", a->action, "risk",
                                    a->risk);
        char *stext = json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS);
        struct ag_case_evidence_rec e = {.amount = a->amount, .data = stext};
        snprintf(e.kind, sizeof e.kind, "%s", a->kind);
        snprintf(e.ref, sizeof e.ref, "%s", a->id);
        snprintf(e.currency, sizeof e.currency, "%s", a->currency);
        snprintf(e.note, sizeof e.note, "since the first suspicious event");
        bool dup;
        rc = cases_evidence_add(tx, c, &e, r->actor, &dup, NULL, err);
        free(stext);
        json_object_set_new(summary, "event_id", json_string(a->id));
        json_object_set_new(summary, "kind", json_string(a->kind));
        if (a->amount)
            json_object_set_new(summary, "amount",
                                json_pack("{s:I, s:s}", "amount", (json_int_t)a->amount,
                                          "currency", a->currency));
        json_array_append_new(list, summary);
    }
    for (int k = 0; k < 5; k++)
        json_object_set_new(detail, names[k], json_integer(counts[k]));
    json_object_set_new(detail, "since", cases_time(r->run.since_at));
    json_object_set_new(detail, "items", list);
    free(col.items);
    free(c);
    return rc;
}

static int step_notify(struct run_ctx *r, struct ag_store_tx *tx, json_t *detail,
                       struct ag_err *err)
{
    char key[120];
    json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "subject", "We secured your account", "text",
                          "We noticed activity on your account that may not have been you. "
                          "We signed you out everywhere and paused payments. Please set a "
                          "new password and verify your sign-in to restore access.",
                          "case_id", r->run.case_id, "account_id", r->run.account_id);
    char *ptext = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    snprintf(key, sizeof key, "account.secured:%s", r->run.id);
    struct ag_notify_msg email = {.channel = AG_NOTIFY_EMAIL,
                                  .kind = "account.secured",
                                  .account_id = r->run.account_id,
                                  .params_json = ptext,
                                  .idempotency_key = key};
    int ne = ag_notify_enqueue(tx, &email, err);
    int nw = ne < 0 ? ne : 0;
    if (ne >= 0) {
        struct ag_notify_msg hook = email;
        hook.channel = AG_NOTIFY_WEBHOOK;
        nw = ag_notify_enqueue(tx, &hook, err);
    }
    free(ptext);
    if (ne < 0 || nw < 0)
        return ne < 0 ? ne : nw;
    /* Nowhere to send is recorded, not hidden. */
    json_object_set_new(detail, "emails_queued", json_integer(ne));
    json_object_set_new(detail, "webhooks_queued", json_integer(nw));
    return 0;
}

static const struct step {
    const char *name;
    step_tx_fn in_tx;
    step_own_fn own;
    const char *done_text;
} steps[] = {
    {"revoke_sessions", step_revoke_sessions, NULL, "Signed out of every session"},
    {"require_password_reset", step_password_reset, NULL, "A new password is required"},
    {"require_mfa_reverify", step_mfa_reverify, NULL, "2-step verification is required again"},
    {"freeze_money", NULL, step_freeze, "Money movement frozen"},
    {"forget_untrusted_devices", step_forget_devices, NULL, "Unrecognized devices removed"},
    {"collect_activity", step_collect, NULL, "Activity since the first suspicious event collected"},
    {"notify", step_notify, NULL, "The owner and the platform were told"},
};
#define NSTEPS ((int)(sizeof steps / sizeof steps[0]))

static bool injected(const struct ag_cases *m, const char *step)
{
    char k[48];
    snprintf(k, sizeof k, ",%s,", step);
    return strstr(m->fail_steps, k) != NULL;
}

/* ---- jobs ---- */

struct start_job {
    struct run_ctx *r;
    const char *account_id, *source, *reason, *event_id;
    bool resume_only; /* background retry: continue the run, never start one */
    const char *run_id;
    bool created;
};

static int start_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct start_job *j = arg;
    struct run_ctx *r = j->r;
    int64_t now = ag_time_now_ms();
    int rc;
    if (j->run_id) {
        if ((rc = ag_store_playbook_run_get_tx(tx, j->run_id, &r->run, err)))
            return rc;
        struct ag_case_rec *c = malloc(sizeof *c);
        if (!c)
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        rc = cases_load(tx, r->run.case_id, c, err);
        bool active = !rc && cases_active(c->status);
        free(c);
        if (rc)
            return rc;
        if (!active)
            return ag_err_set(err, AG_ESTATE, "case_not_active", "",
                              "the run's case is no longer active");
        return cases_entry(tx, r->run.case_id, r->actor, "playbook", false, NULL, err,
                           "Secure-account playbook retried in the background");
    }
    rc = ag_store_playbook_run_active_tx(tx, j->account_id, &r->run, err);
    if (rc == 0)
        return cases_entry(tx, r->run.case_id, r->actor, "playbook", false, NULL, err,
                           "Secure-account playbook asked again (%s): continuing run %s",
                           j->source, r->run.id);
    if (rc != AG_ENOTFOUND)
        return rc;
    /* A new run: from the first suspicious event on (or the given event). */
    int64_t since = now - LOOKBACK_MS;
    if (j->event_id) {
        struct ag_event_row ev;
        if (ag_store_case_event_get_tx(tx, j->event_id, &ev, NULL) == 0) {
            if (!strcmp(ev.account_id, j->account_id))
                since = ev.occurred_at - LOOKBACK_MS;
            ag_event_row_free(&ev);
        }
    }
    int64_t first = 0;
    if ((rc = ag_store_case_first_flagged_tx(tx, j->account_id, since, &first, NULL)) == 0)
        since = first;
    else if (j->event_id) {
        struct ag_event_row ev;
        if (ag_store_case_event_get_tx(tx, j->event_id, &ev, NULL) == 0) {
            since = ev.occurred_at;
            ag_event_row_free(&ev);
        }
    }
    char case_id[40];
    char title[200];
    snprintf(title, sizeof title, "Account secured: %s", j->reason ? j->reason : j->source);
    if ((rc = ag_cases_open_or_join(tx, j->account_id, "account_compromise", "playbook",
                                    r->actor, title, 0.9, 0, NULL,
                                    j->event_id ? "event" : NULL, j->event_id, case_id,
                                    &j->created, err)))
        return rc;
    memset(&r->run, 0, sizeof r->run);
    ag_id_random(r->run.id, sizeof r->run.id, "pbr_", 20);
    snprintf(r->run.account_id, sizeof r->run.account_id, "%s", j->account_id);
    snprintf(r->run.case_id, sizeof r->run.case_id, "%s", case_id);
    snprintf(r->run.status, sizeof r->run.status, "incomplete");
    snprintf(r->run.actor, sizeof r->run.actor, "%s", r->actor);
    r->run.since_at = since;
    r->run.created_at = r->run.updated_at = now;
    if ((rc = ag_store_playbook_run_put(tx, &r->run, err)))
        return rc;
    json_t *d = json_pack("{s:s, s:s, s:s}", "run_id", r->run.id, "account_id", j->account_id,
                          "source", j->source);
    rc = cases_entry(tx, case_id, r->actor, "playbook", true, d, err,
                     "Securing the account (%s)", j->source);
    if (!rc)
        rc = cases_audit(tx, r->actor, "account.secure", case_id, d, err);
    json_decref(d);
    return rc;
}

struct step_job {
    struct run_ctx *r;
    const struct step *s;
    bool skip;       /* already done */
    int attempts;    /* before this one */
    json_t *detail;  /* filled by the step */
    const char *error; /* when recording a failure */
    bool record_only;  /* own-work steps: just record success */
};

static int read_step(struct ag_store_tx *tx, struct step_job *j, struct ag_err *err)
{
    struct ag_playbook_step_rec st;
    int rc = ag_store_playbook_step_get_tx(tx, j->r->run.id, j->s->name, &st, err);
    if (rc == AG_ENOTFOUND) {
        j->attempts = 0;
        return 0;
    }
    if (rc)
        return rc;
    j->attempts = st.attempts;
    j->skip = !strcmp(st.status, "done");
    return 0;
}

static int record_step(struct ag_store_tx *tx, struct step_job *j, bool ok, struct ag_err *err)
{
    struct run_ctx *r = j->r;
    char *detail = json_dumps(j->detail, JSON_COMPACT | JSON_SORT_KEYS);
    struct ag_playbook_step_rec st = {.attempts = j->attempts + 1,
                                      .detail = detail,
                                      .updated_at = ag_time_now_ms()};
    snprintf(st.run_id, sizeof st.run_id, "%s", r->run.id);
    snprintf(st.step, sizeof st.step, "%s", j->s->name);
    snprintf(st.status, sizeof st.status, "%s", ok ? "done" : "failed");
    snprintf(st.error, sizeof st.error, "%s", ok ? "" : j->error);
    int rc = ag_store_playbook_step_put(tx, &st, err);
    free(detail);
    json_t *d = json_pack("{s:s, s:s, s:s, s:i}", "run_id", r->run.id, "step", j->s->name,
                          "status", ok ? "done" : "failed", "attempt", j->attempts + 1);
    if (!ok)
        json_object_set_new(d, "error", json_string(j->error));
    if (!rc) {
        if (ok)
            rc = cases_entry(tx, r->run.case_id, r->actor, "playbook", true, d, err, "%s",
                             j->s->done_text);
        else
            rc = cases_entry(tx, r->run.case_id, r->actor, "playbook", false, d, err,
                             "Step %s failed (attempt %d, will be retried): %s", j->s->name,
                             j->attempts + 1, j->error);
    }
    if (!rc)
        rc = cases_audit(tx, r->actor, ok ? "playbook.step_done" : "playbook.step_failed",
                         r->run.case_id, d, err);
    json_decref(d);
    return rc;
}

static int step_check(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return read_step(tx, arg, err);
}

static int step_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct step_job *j = arg;
    int rc = read_step(tx, j, err);
    if (rc || j->skip)
        return rc;
    if (!j->record_only) {
        if (injected(j->r->m, j->s->name))
            return ag_err_set(err, AG_EUNAVAIL, "injected_failure", "",
                              "failed on purpose (cases_fail_steps)");
        if ((rc = j->s->in_tx(j->r, tx, j->detail, err)))
            return rc;
    }
    return record_step(tx, j, true, err);
}

static int step_fail(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct step_job *j = arg;
    int rc = read_step(tx, j, err);
    if (rc || j->skip)
        return rc;
    return record_step(tx, j, false, err);
}

static void run_step(struct run_ctx *r, const struct step *s)
{
    struct step_job j = {.r = r, .s = s, .detail = json_object()};
    struct ag_err err = {0};
    int rc;
    if (s->own) {
        if ((rc = ag_store_exec(r->m->store, step_check, &j, &err)) == 0 && !j.skip) {
            if (injected(r->m, s->name))
                rc = ag_err_set(&err, AG_EUNAVAIL, "injected_failure", "",
                                "failed on purpose (cases_fail_steps)");
            else
                rc = s->own(r, j.detail, &err);
            if (!rc) {
                j.record_only = true;
                rc = ag_store_exec(r->m->store, step_run, &j, &err);
            }
        }
    } else {
        rc = ag_store_exec(r->m->store, step_run, &j, &err);
    }
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", err.msg[0] ? err.msg : "failed");
        json_decref(j.detail);
        j.detail = json_object();
        j.error = msg;
        j.skip = false;
        struct ag_err e2;
        if (ag_store_exec(r->m->store, step_fail, &j, &e2))
            ag_log(AG_LOG_ERROR, "playbook step failure not recorded", "step", s->name,
                   "account_id", r->run.account_id, "error", e2.msg, NULL);
    }
    json_decref(j.detail);
}

struct finish_job {
    struct run_ctx *r;
    json_t *steps, *activity;
    bool complete;
    /* the run's status before the job first ran: a second run after a
     * rollback (store.h) must not take its own first run's for it */
    bool was_read, was_complete;
};

static int finish_cb(void *arg, const struct ag_playbook_step_rec *s)
{
    struct finish_job *f = arg;
    json_t *detail = s->detail && *s->detail ? json_loads(s->detail, 0, NULL) : NULL;
    if (!strcmp(s->step, "collect_activity") && detail) {
        json_decref(f->activity);
        f->activity = json_incref(detail);
    }
    json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:o}", "step", s->step, "status", s->status,
                          "attempts", s->attempts, "detail",
                          detail ? detail : json_object(), "updated_at",
                          cases_time(s->updated_at));
    if (s->error[0])
        json_object_set_new(o, "error", json_string(s->error));
    json_object_set_new(f->steps, s->step, o);
    return 0;
}

static int finish_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct finish_job *f = arg;
    struct run_ctx *r = f->r;
    if (!f->was_read) {
        f->was_complete = !strcmp(r->run.status, "complete");
        f->was_read = true;
    }
    json_decref(f->activity);
    f->activity = NULL;
    json_t *by_name = json_object();
    json_decref(f->steps);
    f->steps = by_name;
    int rc = ag_store_playbook_step_list_tx(tx, r->run.id, finish_cb, f, err);
    if (rc)
        return rc;
    /* In table order; a step with no record yet is shown as failed. */
    json_t *list = json_array();
    f->complete = true;
    for (int i = 0; i < NSTEPS; i++) {
        json_t *o = json_object_get(by_name, steps[i].name);
        if (!o)
            o = json_pack("{s:s, s:s, s:i, s:s}", "step", steps[i].name, "status", "failed",
                          "attempts", 0, "error", "not run");
        else
            json_incref(o);
        if (strcmp(json_string_value(json_object_get(o, "status")), "done"))
            f->complete = false;
        json_array_append_new(list, o);
    }
    f->steps = list;
    json_decref(by_name);
    snprintf(r->run.status, sizeof r->run.status, "%s", f->complete ? "complete" : "incomplete");
    r->run.updated_at = ag_time_now_ms();
    if ((rc = ag_store_playbook_run_put(tx, &r->run, err)))
        return rc;
    if (f->complete && !f->was_complete)
        rc = cases_entry(tx, r->run.case_id, r->actor, "playbook", true, NULL, err,
                         "The account is secured: every step done");
    return rc;
}

static int execute(struct ag_cases *m, struct start_job *sj, json_t **report, struct ag_err *err)
{
    struct run_ctx r = {.m = m, .actor = sj->r->actor};
    sj->r = &r;
    pthread_mutex_lock(&m->playbook_lock);
    int rc = ag_store_exec(m->store, start_run, sj, err);
    if (rc) {
        pthread_mutex_unlock(&m->playbook_lock);
        return rc;
    }
    for (int i = 0; i < NSTEPS; i++)
        run_step(&r, &steps[i]);
    struct finish_job f = {.r = &r};
    rc = ag_store_exec(m->store, finish_run, &f, err);
    pthread_mutex_unlock(&m->playbook_lock);
    ag_notify_wake();
    if (!rc && report) {
        *report = json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o}", "account_id",
                            r.run.account_id, "case_id", r.run.case_id, "run_id", r.run.id,
                            "complete", f.complete, "created", sj->created, "since",
                            cases_time(r.run.since_at), "steps", f.steps, "activity",
                            f.activity ? f.activity : json_object());
        f.steps = f.activity = NULL;
    }
    json_decref(f.steps);
    json_decref(f.activity);
    return rc;
}

int ag_cases_secure_account(struct ag_pipeline *p, const char *account_id,
                            const struct ag_cases_secure_opts *o, json_t **report,
                            struct ag_err *err)
{
    struct ag_cases *m = ag_cases_of(p);
    if (report)
        *report = NULL;
    if (!m)
        return ag_err_set(err, AG_EUNAVAIL, "cases_unavailable", "",
                          "the cases module is not loaded");
    if (!account_id || !*account_id || strlen(account_id) > 128)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account_id",
                          "account id must be 1 to 128 bytes");
    if (!o || !o->actor || !*o->actor)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "actor", "an actor is required");
    struct run_ctx proto = {.actor = o->actor};
    struct start_job sj = {.r = &proto,
                           .account_id = account_id,
                           .source = o->source ? o->source : "api",
                           .reason = o->reason,
                           .event_id = o->event_id};
    return execute(m, &sj, report, err);
}

/* ---- background retry ---- */

struct pending {
    char ids[32][40];
    int n;
};

static int pending_cb(void *arg, const struct ag_playbook_run_rec *r)
{
    struct pending *p = arg;
    snprintf(p->ids[p->n++], 40, "%s", r->id);
    return p->n == 32;
}

static void *retry_main(void *arg)
{
    struct ag_cases *m = arg;
    pthread_mutex_lock(&m->retry_lock);
    while (!m->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (m->retry_interval_ms % 1000) * 1000000LL;
        ts.tv_sec += m->retry_interval_ms / 1000 + ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&m->retry_cond, &m->retry_lock, &ts);
        if (m->stopping)
            break;
        pthread_mutex_unlock(&m->retry_lock);
        struct pending p = {.n = 0};
        struct ag_err err;
        if (ag_store_playbook_run_incomplete(m->store, ag_time_now_ms() - m->retry_interval_ms,
                                             32, pending_cb, &p, &err) == 0) {
            for (int i = 0; i < p.n; i++) {
                struct run_ctx proto = {.actor = "system:playbook-retry"};
                struct start_job sj = {.r = &proto, .source = "retry", .run_id = p.ids[i]};
                if (execute(m, &sj, NULL, &err) && err.code != AG_ESTATE)
                    ag_log(AG_LOG_WARN, "playbook retry failed", "run_id", p.ids[i], "error",
                           err.msg, NULL);
            }
        }
        pthread_mutex_lock(&m->retry_lock);
    }
    pthread_mutex_unlock(&m->retry_lock);
    return NULL;
}

int cases_retry_start(struct ag_cases *m, struct ag_err *err)
{
    if (m->retry_interval_ms <= 0)
        return 0;
    if (pthread_create(&m->retry_thread, NULL, retry_main, m))
        return ag_err_set(err, AG_EIO, NULL, "", "cannot start the playbook retry thread");
    m->retry_started = true;
    return 0;
}

void cases_retry_stop(struct ag_cases *m)
{
    if (!m->retry_started)
        return;
    pthread_mutex_lock(&m->retry_lock);
    m->stopping = true;
    pthread_cond_signal(&m->retry_cond);
    pthread_mutex_unlock(&m->retry_lock);
    pthread_join(m->retry_thread, NULL);
    m->retry_started = false;
}
