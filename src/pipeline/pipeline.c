/* The pipeline's stages and their order, idempotency (in-flight ids and the
 * stored answers), the account hot state, and the persist stage's write job.
 *
 * Threading: submit runs validate..act on the caller's thread (an HTTP
 * worker); persist hands one job to the store's writer; the reply is sent
 * from the writer thread's completion callback once the commit is durable. */
#include "pipeline/internal.h"
#include "audit/audit.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strmap.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "rules/fields.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

_Atomic uint64_t ag_pipeline_decisions[4];

/* ---- known event ids (bloom filter, 2^26 bits, 4 probes) ---- */

#define KNOWN_BITS (1u << 26)

static void known_probes(const char *id, uint32_t out[4])
{
    uint64_t h = ag_hash_str(id), h2 = (h >> 33) | 1;
    for (int i = 0; i < 4; i++)
        out[i] = (uint32_t)((h + (uint64_t)i * h2) & (KNOWN_BITS - 1));
}

static void known_add(struct ag_pipeline *p, const char *id)
{
    if (!p->known_ids)
        return;
    uint32_t b[4];
    known_probes(id, b);
    for (int i = 0; i < 4; i++)
        atomic_fetch_or_explicit(&p->known_ids[b[i] / 64], 1ull << (b[i] % 64),
                                 memory_order_relaxed);
}

/* False: <id> was never stored. True: it may have been (ask the store). */
static bool known_maybe(struct ag_pipeline *p, const char *id)
{
    if (!p->known_ids)
        return true;
    uint32_t b[4];
    known_probes(id, b);
    for (int i = 0; i < 4; i++)
        if (!(atomic_load_explicit(&p->known_ids[b[i] / 64], memory_order_relaxed) &
              (1ull << (b[i] % 64))))
            return false;
    return true;
}

static int known_load(void *arg, const char *id)
{
    known_add(arg, id);
    return 0;
}

/* ---- replies ---- */

static void reply_error(struct ag_pipeline_reply *r, const struct ag_err *err, int status)
{
    json_t *j = ag_json_error(err);
    r->body = ag_json_dump(j);
    r->len = r->body ? strlen(r->body) : 0;
    r->status = status ? status : ag_err_http_status(err->code);
    json_decref(j);
}

static void reply_copy(struct ag_pipeline_reply *r, int status, const char *body, size_t len)
{
    r->body = malloc(len + 1);
    if (r->body) {
        memcpy(r->body, body, len);
        r->body[len] = '\0';
    }
    r->len = r->body ? len : 0;
    r->status = r->body ? status : 503;
}

/* ---- in-flight ids ---- */

/* Claim <c>'s id. Returns 1 if claimed; 0 if another request has it (then
 * <c> is queued as a waiter and will be answered with its reply). */
static int inflight_claim(struct ag_pipeline *p, struct ctx *c)
{
    pthread_mutex_lock(&p->inflight_lock);
    struct inflight *f = ag_strmap_get(&p->inflight, c->ev.id);
    if (f) {
        struct waiter *w = malloc(sizeof *w);
        if (w) {
            w->done = c->done;
            w->arg = c->done_arg;
            memcpy(w->hash, c->hash, 32);
            w->next = f->waiters;
            f->waiters = w;
        }
        pthread_mutex_unlock(&p->inflight_lock);
        if (!w) {
            struct ag_pipeline_reply r = {0};
            struct ag_err err;
            ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
            reply_error(&r, &err, 503);
            c->done(c->done_arg, &r);
        }
        return 0;
    }
    f = calloc(1, sizeof *f);
    if (f) {
        memcpy(f->hash, c->hash, 32);
        if (ag_strmap_put(&p->inflight, c->ev.id, f, NULL)) {
            free(f);
            f = NULL;
        }
    }
    pthread_mutex_unlock(&p->inflight_lock);
    return f ? 1 : -1;
}

/* Release <id> and answer everyone who waited on it with <r>'s content. */
static void inflight_release(struct ag_pipeline *p, const char *id, const struct ag_pipeline_reply *r)
{
    pthread_mutex_lock(&p->inflight_lock);
    struct inflight *f = ag_strmap_del(&p->inflight, id);
    pthread_mutex_unlock(&p->inflight_lock);
    if (!f)
        return;
    for (struct waiter *w = f->waiters, *next; w; w = next) {
        next = w->next;
        struct ag_pipeline_reply wr = {0};
        if (memcmp(w->hash, f->hash, 32) != 0) {
            struct ag_err err;
            ag_err_set(&err, AG_ECONFLICT, "idempotency_conflict", "id",
                       "event id %s was already used with a different body", id);
            reply_error(&wr, &err, 409);
        } else {
            reply_copy(&wr, r->status, r->body ? r->body : "", r->len);
            wr.action = r->action;
            wr.risk = r->risk;
        }
        w->done(w->arg, &wr);
        free(w);
    }
    free(f);
}

#define CTX_POOL_MAX 1024

static void ctx_free(struct ctx *c)
{
    /* An event that never reached the store still tells its after-hooks. */
    if (!c->afters_done)
        for (int i = 0; i < c->nafters; i++)
            c->afters[i].fn(c->afters[i].arg, AG_EUNAVAIL);
    for (int i = 0; i < c->nwrites; i++)
        if (c->writes[i].cleanup)
            c->writes[i].cleanup(c->writes[i].arg);
    free(c->writes);
    free(c->afters);
    json_decref(c->decision_extra);
    for (struct arena_block *b = c->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(c->canonical);
    free(c->response);
    free(c->facts_blob);
    json_decref(c->own_json);
    struct ag_pipeline *p = c->p;
    pthread_mutex_lock(&p->pool_lock);
    if (p->npool < CTX_POOL_MAX) {
        c->pool_next = p->pool;
        p->pool = c;
        p->npool++;
        c = NULL;
    }
    pthread_mutex_unlock(&p->pool_lock);
    free(c);
}

/* A zeroed context, from the pool when one is there. */
static struct ctx *ctx_new(struct ag_pipeline *p)
{
    pthread_mutex_lock(&p->pool_lock);
    struct ctx *c = p->pool;
    if (c) {
        p->pool = c->pool_next;
        p->npool--;
    }
    pthread_mutex_unlock(&p->pool_lock);
    if (c)
        memset(c, 0, offsetof(struct ctx, profile_blob));
    else
        c = ag_calloc(1, sizeof *c);
    return c;
}

/* Answer the submitter and any waiters, then free <c>. */
static void finish(struct ctx *c, struct ag_pipeline_reply *r, bool claimed)
{
    if (claimed)
        inflight_release(c->p, c->ev.id, r);
    /* The context goes back to the pool before the submitter hears: once
     * the last answer is out, the pipeline may be closed at once. */
    ag_pipeline_done_fn done = c->done;
    void *arg = c->done_arg;
    ctx_free(c);
    done(arg, r);
}

static void finish_error(struct ctx *c, const struct ag_err *err, int status, bool claimed)
{
    struct ag_pipeline_reply r = {0};
    reply_error(&r, err, status);
    finish(c, &r, claimed);
}

/* ---- accounts (hot state) ---- */

void ag_pipeline_account_state_fill(struct ag_pipeline *p, const char *id, int64_t now,
                                    struct ag_account_state *out)
{
    if (p->cluster && ag_pipeline_cluster_account(p, id, now, out) == 0)
        return; /* several nodes: the store's state, not this node's copy */
    pthread_mutex_lock(&p->acct_lock);
    ag_pipeline_acct_state_locked(ag_strmap_get(&p->accounts, id), now, out);
    pthread_mutex_unlock(&p->acct_lock);
}

void ag_pipeline_acct_state_locked(const struct acct *a, int64_t now, struct ag_account_state *out)
{
    memset(out, 0, sizeof *out);
    if (a) {
        out->known = true;
        out->frozen = a->frozen && (a->frozen_until == 0 || now < a->frozen_until);
        out->frozen_until = a->frozen_until;
        memcpy(out->role, a->role, sizeof out->role);
    }
}

void ag_pipeline_account_state(struct ag_pipeline *p, const char *account_id, int64_t now_ms,
                               struct ag_account_state *out)
{
    ag_pipeline_account_state_fill(p, account_id, now_ms, out);
}

bool ag_pipeline_login_held(struct ag_pipeline *p, const char *account_id)
{
    pthread_mutex_lock(&p->acct_lock);
    const struct acct *a = ag_strmap_get(&p->accounts, account_id);
    bool held = a && a->activity.login_held;
    pthread_mutex_unlock(&p->acct_lock);
    return held;
}

struct acct *ag_pipeline_acct_locked(struct ag_pipeline *p, const char *id)
{
    struct acct *a = ag_strmap_get(&p->accounts, id);
    if (!a && (a = calloc(1, sizeof *a)) && ag_strmap_put(&p->accounts, id, a, NULL)) {
        free(a);
        a = NULL;
    }
    return a;
}

static void account_remember(struct ag_pipeline *p, const char *id, bool frozen, int64_t until,
                             const char *role)
{
    pthread_mutex_lock(&p->acct_lock);
    struct acct *a = ag_pipeline_acct_locked(p, id);
    if (a) {
        a->frozen = frozen;
        a->frozen_until = until;
        snprintf(a->role, sizeof a->role, "%s", role);
    }
    pthread_mutex_unlock(&p->acct_lock);
}

static int load_account(void *arg, const struct ag_account_rec *a)
{
    account_remember(arg, a->id, !strcmp(a->state, "frozen"), a->frozen_until, a->role);
    return 0;
}

/* ---- stages ---- */

/* Write the decision as JSON into <b> (hot path: no intermediate tree). */
static int decision_write(struct ag_buf *b, const struct ag_decision *d, json_t *extra)
{
    static const char *const methods[] = {"totp", "sms", "email", "backup_code"};
    int rc = ag_jw_raw(b, "{\"action\":") || ag_jw_str(b, ag_action_name(d->action)) ||
             ag_buf_printf(b, ",\"risk\":%.4f,\"reasons\":[", d->risk);
    for (int i = 0; i < d->nreasons; i++)
        rc |= ag_jw_raw(b, i ? ",{\"code\":" : "{\"code\":") || ag_jw_str(b, d->reasons[i].code) ||
              ag_jw_raw(b, ",\"detail\":") || ag_jw_str(b, d->reasons[i].detail) || ag_jw_raw(b, "}");
    rc |= ag_jw_raw(b, "],\"rules\":[");
    for (int i = 0; i < d->nrules; i++)
        rc |= ag_jw_raw(b, i ? "," : "") || ag_jw_str(b, d->rules[i]);
    rc |= ag_jw_raw(b, "]");
    if (extra) {
        const char *k;
        json_t *v;
        json_object_foreach(extra, k, v) {
            char *dump = ag_json_dump(v);
            if (!dump)
                return -1;
            rc |= ag_jw_raw(b, ",") || ag_jw_str(b, k) || ag_jw_raw(b, ":") || ag_jw_raw(b, dump);
            free(dump);
        }
    }
    if (d->action == AG_ACTION_CHALLENGE && !json_object_get(extra, "challenge")) {
        rc |= ag_jw_raw(b, ",\"challenge\":{\"methods\":[");
        int n = 0;
        for (int i = 0; i < 4; i++)
            if (d->challenge_methods & (1u << i))
                rc |= ag_jw_raw(b, n++ ? "," : "") || ag_jw_str(b, methods[i]);
        rc |= ag_jw_raw(b, "]}");
    }
    return rc || ag_jw_raw(b, "}");
}

/* Build the response now, so the reply after the commit is a copy. */
static int build_response(struct ctx *c)
{
    struct ag_buf b = {0};
    int rc = ag_jw_raw(&b, "{\"event_id\":") || ag_jw_str(&b, c->ev.id) ||
             ag_jw_raw(&b, ",\"decision\":") || decision_write(&b, &c->decision, c->decision_extra) ||
             ag_jw_raw(&b, ",\"account\":{\"id\":") || ag_jw_str(&b, c->ev.account_id) ||
             ag_jw_raw(&b, c->acct.frozen ? ",\"state\":\"frozen\"}}" : ",\"state\":\"active\"}}");
    if (rc) {
        ag_buf_free(&b);
        return AG_ENOMEM;
    }
    c->response = b.data;
    c->response_len = b.len;
    return 0;
}

/* ---- persist ---- */

static int persist_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct ctx *c = arg;
    int rc;
    if (!c->acct.known) {
        struct ag_account_rec a;
        rc = ag_store_account_get_tx(tx, c->ev.account_id, &a, NULL);
        if (rc == AG_ENOTFOUND) {
            memset(&a, 0, sizeof a);
            snprintf(a.id, sizeof a.id, "%s", c->ev.account_id);
            snprintf(a.role, sizeof a.role, "%s", c->ev.role);
            snprintf(a.state, sizeof a.state, "active");
            const char *loc = json_string_value(
                json_object_get(json_object_get(c->ev.raw, "account"), "locale"));
            snprintf(a.locale, sizeof a.locale, "%s", loc ? loc : "en");
            a.created_at = a.updated_at = c->ev.received_at_ms;
            /* AG_ECONFLICT: another node created it meanwhile; keep theirs */
            if ((rc = ag_store_account_create(tx, &a, err)) && rc != AG_ECONFLICT)
                return rc;
        } else if (rc) {
            return ag_err_set(err, AG_EIO, "store_error", "", "account lookup failed");
        }
    }
    if (c->p->ephemeral)
        goto writes;
    if ((rc = ag_store_event_put(tx, &c->rec, err)))
        return rc;
    if (c->p->cluster) {
        /* several nodes: merged into what is stored, under the row lock */
        if ((rc = ag_pipeline_cluster_persist(tx, c, err)) ||
            (rc = ag_pipeline_cluster_learn(tx, c, err)))
            return rc;
    } else if ((c->profile_len || c->activity_len) &&
               ag_pipeline_wb_note(c->p, c->ev.account_id, c->profile_blob, c->profile_len,
                                   c->activity_blob, c->activity_len, c->ev.received_at_ms) == 0) {
        /* written behind (learned.c) */
    } else {
        if (c->profile_len &&
            (rc = ag_store_profile_put(tx, c->ev.account_id, c->profile_blob, c->profile_len, err)))
            return rc;
        if (c->activity_len && (rc = ag_store_activity_put(tx, c->ev.account_id, c->activity_blob,
                                                           c->activity_len, err)))
            return rc;
    }
writes:
    for (int i = 0; i < c->nwrites; i++)
        if ((rc = c->writes[i].fn(tx, c->writes[i].arg, err)))
            return rc;
    return 0;
}

static void persist_done(void *arg, int rc, const struct ag_err *err)
{
    struct ctx *c = arg;
    for (int i = 0; i < c->nafters; i++)
        c->afters[i].fn(c->afters[i].arg, rc);
    c->afters_done = true;
    if (c->p->cluster)
        ag_pipeline_cluster_learned(c, rc);
    struct ag_pipeline_reply r = {0};
    if (rc == AG_ECONFLICT) {
        /* Another node (or a restart race) stored this id first: answer
         * with what was stored. */
        struct ag_event_row row;
        struct ag_err e2;
        if (ag_store_event_get(c->p->store, c->ev.id, &row, &e2) == 0) {
            if (memcmp(row.request_hash, c->hash, 32) == 0)
                reply_copy(&r, 200, row.response_json, strlen(row.response_json));
            else {
                ag_err_set(&e2, AG_ECONFLICT, "idempotency_conflict", "id",
                           "event id %s was already used with a different body", c->ev.id);
                reply_error(&r, &e2, 409);
            }
            ag_event_row_free(&row);
        } else {
            reply_error(&r, err, 409);
        }
    } else if (rc) {
        ag_log_req(AG_LOG_ERROR, c->request_id, "event not stored", "event_id", c->ev.id,
                   "error", err ? err->msg : "?", NULL);
        struct ag_err e2;
        ag_err_set(&e2, AG_EUNAVAIL, "store_unavailable", "",
                   "the event could not be stored; retry with the same id");
        reply_error(&r, &e2, 503);
    } else {
        if (!c->p->ephemeral)
            known_add(c->p, c->ev.id);
        if (!c->acct.known)
            account_remember(c->p, c->ev.account_id, false, 0, c->ev.role);
        atomic_fetch_add(&ag_pipeline_decisions[c->decision.action], 1);
        r.body = c->response;
        r.len = c->response_len;
        r.status = 200;
        r.action = c->decision.action;
        r.risk = c->decision.risk;
        c->response = NULL;
    }
    finish(c, &r, true);
}

static const struct {
    const char *name;
    int (*fn)(struct ctx *c);
} stages[] = {
    {"enrich", ag_pipeline_stage_enrich},   {"features", ag_pipeline_stage_features},
    {"score", ag_pipeline_stage_score},     {"decide", ag_pipeline_stage_decide},
    {"act", ag_pipeline_stage_act},
};

void ag_pipeline_submit(struct ag_pipeline *p, json_t *event, const char *request_id,
                        ag_pipeline_done_fn done, void *arg)
{
    ag_pipeline_submit_given(p, event, NULL, request_id, done, arg);
}

/* A context for one event, or NULL when <done> was answered (no memory). */
static struct ctx *ctx_begin(struct ag_pipeline *p, const struct ag_risk_given *given,
                             const char *request_id, ag_pipeline_done_fn done, void *arg)
{
    struct ctx *c = ctx_new(p);
    if (!c) {
        struct ag_pipeline_reply r = {0};
        struct ag_err err;
        ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
        reply_error(&r, &err, 503);
        done(arg, &r);
        return NULL;
    }
    c->p = p;
    c->given = given;
    c->done = done;
    c->done_arg = arg;
    snprintf(c->request_id, sizeof c->request_id, "%s", request_id ? request_id : "");
    return c;
}

/* The event's canonical form (stored, and hashed to tell a retry from a
 * different event with the same id). Returns 0, or answers and frees <c>. */
static int canonicalize(struct ctx *c)
{
    struct ag_buf canon = {0};
    if (ag_json_canonical(c->json, &canon))
        ag_buf_free(&canon);
    c->canonical = canon.data;
    if (!c->canonical) {
        ag_err_set(&c->err, AG_ENOMEM, NULL, "", "out of memory");
        finish_error(c, &c->err, 503, false);
        return -1;
    }
    crypto_generichash(c->hash, 32, (const unsigned char *)c->canonical, canon.len, NULL, 0);
    return 0;
}

static void run_stages(struct ctx *c);

void ag_pipeline_submit_given(struct ag_pipeline *p, json_t *event, const struct ag_risk_given *given,
                              const char *request_id, ag_pipeline_done_fn done, void *arg)
{
    struct ctx *c = ctx_begin(p, given, request_id, done, arg);
    if (!c)
        return;
    c->json = event;
    /* validate */
    if (ag_pipeline_validate(event, ag_time_now_ms(), &c->ev, &c->err)) {
        finish_error(c, &c->err, 400, false);
        return;
    }
    if (canonicalize(c) == 0)
        run_stages(c);
}

/* The JSON object an event given as fields stands for. */
static json_t *fields_json(const struct ag_event *ev, bool role_given)
{
    char ts[40];
    ag_time_format_ms(ev->occurred_at_ms, ts, sizeof ts);
    json_t *ctx = json_object(), *acct = json_pack("{s:s}", "id", ev->account_id);
    if (!ctx || !acct) {
        json_decref(ctx);
        json_decref(acct);
        return NULL;
    }
    if (role_given)
        json_object_set_new(acct, "role", json_string(ev->role));
    if (ev->ip[0])
        json_object_set_new(ctx, "ip", json_string(ev->ip));
    if (ev->user_agent[0])
        json_object_set_new(ctx, "user_agent", json_string(ev->user_agent));
    if (ev->device_id[0])
        json_object_set_new(ctx, "device_id", json_string(ev->device_id));
    if (ev->session_id[0])
        json_object_set_new(ctx, "session_id", json_string(ev->session_id));
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", ev->id, "type", ev->type->name,
                     "occurred_at", ts, "account", acct, "context", ctx);
}

void ag_pipeline_submit_event(struct ag_pipeline *p, const struct ag_event *ev,
                              const struct ag_risk_given *given, ag_pipeline_done_fn done,
                              void *arg)
{
    struct ctx *c = ctx_begin(p, given, NULL, done, arg);
    if (!c)
        return;
    if (ag_pipeline_validate_fields(ev, ag_time_now_ms(), &c->ev, &c->err)) {
        finish_error(c, &c->err, 400, false);
        return;
    }
    /* Lean (a throwaway replay): nothing stores or hashes the JSON form. */
    if (!p->lean) {
        if (!(c->own_json = fields_json(&c->ev, ev->role[0] != 0))) {
            ag_err_set(&c->err, AG_ENOMEM, NULL, "", "out of memory");
            finish_error(c, &c->err, 503, false);
            return;
        }
        c->json = c->ev.raw = c->own_json;
        if (canonicalize(c))
            return;
    }
    run_stages(c);
}

/* Idempotency, the stages, and the persist job. */
static void run_stages(struct ctx *c)
{
    struct ag_pipeline *p = c->p;
    /* idempotency: one request per id at a time, then the stored answer */
    int claimed = inflight_claim(p, c);
    if (claimed == 0) {
        ctx_free(c);
        return;
    }
    if (claimed < 0) {
        ag_err_set(&c->err, AG_ENOMEM, NULL, "", "out of memory");
        finish_error(c, &c->err, 503, false);
        return;
    }
    struct ag_event_row row;
    int rc = !p->ephemeral && known_maybe(p, c->ev.id)
                 ? ag_store_event_get(p->store, c->ev.id, &row, &c->err)
                 : AG_ENOTFOUND;
    if (rc == 0) {
        struct ag_pipeline_reply r = {0};
        if (memcmp(row.request_hash, c->hash, 32) == 0) {
            reply_copy(&r, 200, row.response_json, strlen(row.response_json));
            r.action = (enum ag_action)(ag_action_parse(row.action) < 0 ? 0 : ag_action_parse(row.action));
            r.risk = row.risk;
        } else {
            ag_err_set(&c->err, AG_ECONFLICT, "idempotency_conflict", "id",
                       "event id %s was already used with a different body", c->ev.id);
            reply_error(&r, &c->err, 409);
        }
        ag_event_row_free(&row);
        finish(c, &r, true);
        return;
    }
    if (rc != AG_ENOTFOUND) {
        finish_error(c, &c->err, 503, true);
        return;
    }

    for (size_t i = 0; i < AG_ARRAY_LEN(stages); i++) {
        if ((rc = stages[i].fn(c))) {
            if (!c->err.code)
                ag_err_set(&c->err, rc, NULL, "", "stage %s failed", stages[i].name);
            finish_error(c, &c->err, 0, true);
            return;
        }
    }
    ag_pipeline_learn(c);
    if (!p->lean && build_response(c)) {
        ag_err_set(&c->err, AG_ENOMEM, NULL, "", "out of memory");
        finish_error(c, &c->err, 503, true);
        return;
    }
    c->rec = (struct ag_event_rec){
        .id = c->ev.id,
        .account_id = c->ev.account_id,
        .type = c->ev.type->name,
        .occurred_at = c->ev.occurred_at_ms,
        .received_at = c->ev.received_at_ms,
        .event_json = c->canonical,
        .action = ag_action_name(c->decision.action),
        .risk = c->decision.risk,
        .response_json = c->response,
        .facts = c->facts_blob,
        .facts_len = c->facts_len,
    };
    memcpy(c->rec.request_hash, c->hash, 32);
    if (p->ephemeral && !c->nwrites) {
        persist_done(c, 0, NULL);
        return;
    }
    if (ag_store_submit(p->store, persist_job, c, persist_done, c)) {
        ag_err_set(&c->err, AG_EUNAVAIL, "store_unavailable", "",
                   "the store is overloaded or shutting down; retry with the same id");
        finish_error(c, &c->err, 503, true);
    }
}

struct run_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    struct ag_pipeline_reply *out;
};

static void run_done(void *arg, struct ag_pipeline_reply *r)
{
    struct run_wait *w = arg;
    pthread_mutex_lock(&w->lock);
    *w->out = *r;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void ag_pipeline_run(struct ag_pipeline *p, json_t *event, struct ag_pipeline_reply *reply)
{
    struct run_wait w = {.done = false, .out = reply};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    ag_pipeline_submit(p, event, NULL, run_done, &w);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
}

/* ---- freeze ---- */

struct freeze_job {
    const char *account_id, *reason, *actor;
    bool freeze;
    int64_t until, now;
    struct ag_account_rec rec;
};

static int freeze_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct freeze_job *j = arg;
    int rc = ag_store_account_get_tx(tx, j->account_id, &j->rec, err);
    if (rc == AG_ENOTFOUND) {
        memset(&j->rec, 0, sizeof j->rec);
        snprintf(j->rec.id, sizeof j->rec.id, "%s", j->account_id);
        snprintf(j->rec.role, sizeof j->rec.role, "customer");
        snprintf(j->rec.locale, sizeof j->rec.locale, "en");
        j->rec.created_at = j->now;
    } else if (rc) {
        return rc;
    }
    snprintf(j->rec.state, sizeof j->rec.state, "%s", j->freeze ? "frozen" : "active");
    snprintf(j->rec.frozen_reason, sizeof j->rec.frozen_reason, "%s", j->freeze ? j->reason : "");
    snprintf(j->rec.frozen_by, sizeof j->rec.frozen_by, "%s", j->freeze ? j->actor : "");
    j->rec.frozen_until = j->freeze ? j->until : 0;
    j->rec.updated_at = j->now;
    if ((rc = ag_store_account_put(tx, &j->rec, err)))
        return rc;
    struct ag_account_log_rec l = {.until = j->until, .at = j->now};
    snprintf(l.account_id, sizeof l.account_id, "%s", j->account_id);
    snprintf(l.action, sizeof l.action, "%s", j->freeze ? "freeze" : "unfreeze");
    snprintf(l.reason, sizeof l.reason, "%s", j->reason);
    snprintf(l.actor, sizeof l.actor, "%s", j->actor);
    if ((rc = ag_store_account_log_put(tx, &l, err)))
        return rc;
    char target[160];
    snprintf(target, sizeof target, "account:%s", j->account_id);
    json_t *details = json_pack("{s:s}", "reason", j->reason);
    if (details && j->until)
        json_object_set_new(details, "until_ms", json_integer(j->until));
    rc = ag_audit_append(tx, j->actor[0] ? j->actor : "system", j->freeze ? "account.freeze"
                                                                         : "account.unfreeze",
                         target, details, err);
    json_decref(details);
    return rc;
}

int ag_pipeline_account_freeze(struct ag_pipeline *p, const char *account_id, bool freeze,
                               const char *reason, const char *actor, int64_t until,
                               struct ag_account_rec *out, struct ag_err *err)
{
    struct freeze_job j = {.account_id = account_id,
                           .reason = reason ? reason : "",
                           .actor = actor ? actor : "",
                           .freeze = freeze,
                           .until = until,
                           .now = ag_time_now_ms()};
    int rc = ag_store_exec(p->store, freeze_run, &j, err);
    if (rc)
        return rc;
    account_remember(p, account_id, freeze, freeze ? until : 0, j.rec.role);
    if (out)
        *out = j.rec;
    return 0;
}

/* ---- lifecycle ---- */

int ag_pipeline_open(const struct ag_pipeline_options *o, struct ag_pipeline **out,
                     struct ag_err *err)
{
    struct ag_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    p->cfg = o->cfg;
    p->store = o->store;
    p->ephemeral = o->ephemeral;
    pthread_mutex_init(&p->acct_lock, NULL);
    pthread_mutex_init(&p->inflight_lock, NULL);
    pthread_mutex_init(&p->pool_lock, NULL);
    int rc = ag_store_account_scan(p->store, load_account, p, err);
    if (rc) {
        ag_pipeline_close(p);
        return rc;
    }
    if (!strcmp(ag_store_backend(p->store), "sqlite") && !p->ephemeral) {
        p->known_ids = calloc(KNOWN_BITS / 64, sizeof *p->known_ids);
        if (p->known_ids && (rc = ag_store_event_ids_scan(p->store, known_load, p, err))) {
            ag_pipeline_close(p);
            return rc;
        }
    }
        if ((rc = ag_pipeline_models_open(p, err)) || (rc = ag_pipeline_cluster_open(p, err))) {
        ag_pipeline_close(p);
        return rc;
    }
    p->hooks = o->hooks;
    for (int i = 0; o->hooks && o->hooks[i].name; i++) {
        if (i >= MAX_HOOKS) {
            ag_pipeline_close(p);
            return ag_err_set(err, AG_EINTERNAL, NULL, "", "more than %d pipeline hooks",
                              MAX_HOOKS);
        }
        if (o->hooks[i].init && (rc = o->hooks[i].init(p, p->cfg, p->store, &p->hook_state[i], err))) {
            ag_pipeline_close(p);
            return rc;
        }
        p->nhooks = i + 1;
    }
    p->lean = p->ephemeral && p->nhooks == 0;
    if ((rc = ag_pipeline_wb_open(p, (int)p->cfg->learned_flush_ms, err))) {
        ag_pipeline_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int free_value(void *arg, const char *key, void *value)
{
    free(value);
    return 0;
}

static int free_acct(void *arg, const char *key, void *value)
{
    struct acct *a = value;
    ag_activity_free(&a->activity);
    free(a);
    return 0;
}

void ag_pipeline_close(struct ag_pipeline *p)
{
    if (!p)
        return;
    ag_pipeline_wb_close(p);
    for (int i = p->nhooks - 1; i >= 0; i--)
        if (p->hooks[i].fini)
            p->hooks[i].fini(p->hook_state[i]);
    ag_pipeline_cluster_close(p);
    ag_pipeline_models_close(p);
    free((void *)p->known_ids);
    ag_strmap_each(&p->accounts, free_acct, NULL);
    ag_strmap_free(&p->accounts);
    ag_strmap_each(&p->inflight, free_value, NULL);
    ag_strmap_free(&p->inflight);
    pthread_mutex_destroy(&p->acct_lock);
    pthread_mutex_destroy(&p->inflight_lock);
    for (struct ctx *c = p->pool, *next; c; c = next) {
        next = c->pool_next;
        free(c);
    }
    pthread_mutex_destroy(&p->pool_lock);
    free(p);
}

/* ---- extension API ---- */

void *ag_pipeline_hook_state(struct ag_pipeline *p, const char *name)
{
    for (int i = 0; i < p->nhooks; i++)
        if (!strcmp(p->hooks[i].name, name))
            return p->hook_state[i];
    return NULL;
}

struct ag_store *ag_pipeline_store(struct ag_pipeline *p) { return p->store; }
const struct ag_config *ag_pipeline_config(struct ag_pipeline *p) { return p->cfg; }

const struct ag_event *ag_pipeline_event_event(const struct ag_pipeline_event *pe) { return &pe->ev; }
struct ag_decision *ag_pipeline_event_decision(struct ag_pipeline_event *pe) { return &pe->decision; }
const struct ag_account_state *ag_pipeline_event_account(const struct ag_pipeline_event *pe)
{
    return &pe->acct;
}
struct ag_pipeline *ag_pipeline_event_pipeline(const struct ag_pipeline_event *pe)
{
    return pe->p;
}

const char *ag_pipeline_event_request_id(const struct ag_pipeline_event *pe)
{
    return pe->request_id;
}

void ag_pipeline_event_fact(struct ag_pipeline_event *pe, int field_id,
                            const struct ag_rules_value *v)
{
    if (field_id >= 0 && field_id < AG_RF_COUNT)
        pe->facts[field_id] = *v;
}

void ag_pipeline_event_get_fact(const struct ag_pipeline_event *pe, int field_id,
                                struct ag_rules_value *out)
{
    if (field_id >= 0 && field_id < AG_RF_COUNT)
        *out = pe->facts[field_id];
    else
        memset(out, 0, sizeof *out);
}

char *ag_pipeline_event_strdup(struct ag_pipeline_event *pe, const char *s)
{
    size_t n = strlen(s) + 1;
    struct arena_block *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    memcpy(b->data, s, n);
    b->next = pe->arena;
    pe->arena = b;
    return b->data;
}

int ag_pipeline_event_write(struct ag_pipeline_event *pe, ag_store_job_fn fn, void *arg,
                            void (*cleanup)(void *arg))
{
    if (pe->nwrites == pe->capwrites) {
        int cap = pe->capwrites ? pe->capwrites * 2 : 4;
        struct queued_write *w = realloc(pe->writes, (size_t)cap * sizeof *w);
        if (!w) {
            if (cleanup)
                cleanup(arg);
            return AG_ENOMEM;
        }
        pe->writes = w;
        pe->capwrites = cap;
    }
    pe->writes[pe->nwrites++] = (struct queued_write){fn, arg, cleanup};
    return 0;
}

int ag_pipeline_event_after(struct ag_pipeline_event *pe, void (*fn)(void *arg, int rc), void *arg)
{
    if (pe->nafters == pe->capafters) {
        int cap = pe->capafters ? pe->capafters * 2 : 4;
        struct after *a = realloc(pe->afters, (size_t)cap * sizeof *a);
        if (!a)
            return AG_ENOMEM;
        pe->afters = a;
        pe->capafters = cap;
    }
    pe->afters[pe->nafters++] = (struct after){fn, arg};
    return 0;
}

void ag_pipeline_event_decision_extra(struct ag_pipeline_event *pe, const char *key, json_t *value)
{
    if (!pe->decision_extra && !(pe->decision_extra = json_object())) {
        json_decref(value);
        return;
    }
    json_object_set_new(pe->decision_extra, key, value);
}
