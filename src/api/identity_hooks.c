/* The identity subsystem in the pipeline: its state (the identity service
 * with keys derived from the server secret), the "identity" and
 * "challenge" hooks, the bridge from one-time codes and owner alerts to the
 * notification outbox, and the helpers the identity handlers share. */
#include "api/identity.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "identity/accounts.h"
#include "notify/notify.h"
#include "rules/fields.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct idhook {
    struct ag_identity id;
};

struct ag_identity *ag_api_identity(struct ag_app *app)
{
    struct idhook *h = ag_pipeline_hook_state(app->pipeline, "identity");
    return h ? &h->id : NULL;
}

/* ---- delivery through the outbox ---- */

static int deliver_notify(struct ag_store_tx *tx, const struct ag_identity_delivery *d,
                          struct ag_err *err)
{
    json_t *params = json_pack("{s:s, s:s}", "subject", d->subject ? d->subject : "", "text",
                               d->body);
    char *pj = params ? ag_json_dump(params) : NULL;
    json_decref(params); /* jansson frees its strings without wiping: the code lives briefly */
    if (!pj)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    struct ag_notify_msg m = {.channel = !strcmp(d->channel, "sms") ? AG_NOTIFY_SMS : AG_NOTIFY_EMAIL,
                              .kind = d->kind,
                              .account_id = d->account_id,
                              .destination = d->destination,
                              .locale = d->lang,
                              .params_json = pj,
                              .idempotency_key = d->idempotency_key,
                              .sensitive = true};
    int rc = ag_notify_enqueue(tx, &m, err);
    sodium_memzero(pj, strlen(pj));
    free(pj);
    return rc < 0 ? rc : 0;
}

/* ---- the hook's state ---- */

int ag_api_identity_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                              struct ag_store *store, void **state, struct ag_err *err)
{
    uint8_t master[AG_SECRET_LEN];
    int rc = ag_secret_load(cfg->secret_key_file, true, master, err);
    if (rc)
        return rc;
    struct idhook *h = calloc(1, sizeof *h);
    if (!h) {
        sodium_memzero(master, sizeof master);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    rc = ag_identity_init(&h->id, store, master, err);
    sodium_memzero(master, sizeof master);
    if (rc) {
        free(h);
        return rc;
    }
    h->id.pwhash.opslimit = (uint64_t)cfg->password_hash_ops;
    h->id.pwhash.memlimit = (size_t)cfg->password_hash_mem_kib * 1024;
    h->id.passcode.opslimit = (uint64_t)cfg->passcode_hash_ops;
    h->id.passcode.memlimit = (size_t)cfg->passcode_hash_mem_kib * 1024;
    if (!ag_identity_pwhash_params_valid(&h->id.pwhash) ||
        !ag_identity_pwhash_params_valid(&h->id.passcode)) {
        ag_identity_fini(&h->id);
        free(h);
        return ag_err_set(err, AG_EINVAL, "invalid_config", "password_hash_ops",
                          "Argon2id cost out of range (passes >= 1, memory 8 KiB .. 4 GiB)");
    }
    if (cfg->platform_name && *cfg->platform_name)
        snprintf(h->id.issuer, sizeof h->id.issuer, "%s", cfg->platform_name);
    h->id.deliver = deliver_notify;
    *state = h;
    return 0;
}

void ag_api_identity_hook_fini(void *state)
{
    struct idhook *h = state;
    if (!h)
        return;
    ag_identity_fini(&h->id);
    free(h);
}

/* ---- enrich: the identity facts ---- */

static bool sensitive(const struct ag_event *ev)
{
    return ev->type->flags & (AG_EVT_LOGIN | AG_EVT_MONEY | AG_EVT_CREDENTIAL | AG_EVT_RECOVERY |
                              AG_EVT_ACCOUNT_CHANGE);
}

int ag_api_identity_hook_enrich(void *state, struct ag_pipeline_event *pe)
{
    struct idhook *h = state;
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    if (!sensitive(ev))
        return 0;
    struct ag_rules_value v;
    /* Each fact here costs store reads: compute only what a rule reads. */
    struct ag_pipeline *pl = ag_pipeline_event_pipeline(pe);
    if (ev->device_id[0] && ag_pipeline_rules_use(pl, AG_RF_DEVICE_TRUSTED)) {
        bool trusted = false;
        ag_store_ident_device_trusted(h->id.store, ev->account_id, ev->device_id, &trusted, NULL);
        v = ag_rules_bool(trusted);
        ag_pipeline_event_fact(pe, AG_RF_DEVICE_TRUSTED, &v);
    }
    if (ag_pipeline_rules_use(pl, AG_RF_ACCOUNT_MFA_ENABLED)) {
        v = ag_rules_bool(ag_identity_methods(&h->id, ev->account_id) != 0);
        ag_pipeline_event_fact(pe, AG_RF_ACCOUNT_MFA_ENABLED, &v);
    }
    return 0;
}

/* ---- act ---- */

struct dev_write {
    struct ag_ident_device_rec d;
    struct ag_store *store;
    uint64_t stamp;
};

static void dev_seen_after(void *arg, int rc)
{
    struct dev_write *w = arg;
    if (rc == 0)
        ag_store_ident_device_seen_written(w->store, &w->d, w->stamp);
}

static int dev_seen_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_device_seen(tx, &((struct dev_write *)arg)->d, err);
}

struct pwc_write {
    char account_id[AG_ID_MAX + 1];
    char keep[AG_ID_MAX + 1];
    int64_t now;
};

static int pw_changed_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct pwc_write *w = arg;
    return ag_identity_password_changed(tx, w->account_id, w->keep, w->now, NULL, err);
}

static void fact_str(const struct ag_pipeline_event *pe, int field, char *out, size_t n)
{
    struct ag_rules_value v = {0};
    ag_pipeline_event_get_fact(pe, field, &v);
    out[0] = '\0';
    if (v.type == AG_RULES_STRING && v.str.ptr)
        snprintf(out, n, "%.*s", (int)v.str.len, v.str.ptr);
}

struct seen_country {
    const char *country;
    bool seen, any; /* this country; any country at all */
};

static int country_seen(void *arg, const struct ag_ident_device_rec *d)
{
    struct seen_country *s = arg;
    if (d->country[0])
        s->any = true;
    if (!strcmp(d->country, s->country))
        s->seen = true;
    return s->seen;
}

/* A recovery from a device the account never used, in a country it was
 * never used from, is challenged (harder: see recovery.c). */
static void recovery_risk(struct idhook *h, struct ag_pipeline_event *pe)
{
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    struct ag_ident_device_rec d;
    bool new_device = !ev->device_id[0] ||
                      ag_store_ident_device_get(h->id.store, ev->account_id, ev->device_id, &d,
                                                NULL) != 0;
    char country[8];
    fact_str(pe, AG_RF_IP_COUNTRY, country, sizeof country);
    if (!new_device || !country[0])
        return;
    struct seen_country s = {country, false, false};
    ag_store_ident_device_list(h->id.store, ev->account_id, country_seen, &s, NULL);
    if (s.seen || !s.any) /* no location history: nothing to compare with */
        return;
    struct ag_decision *dec = ag_pipeline_event_decision(pe);
    ag_decision_escalate(dec, AG_ACTION_CHALLENGE);
    ag_decision_reason(dec, "recovery_new_device_new_country",
                       "password reset from a new device in %s, a country the account never used",
                       country);
}

int ag_api_identity_hook_act(void *state, struct ag_pipeline_event *pe)
{
    struct idhook *h = state;
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    struct ag_decision *d = ag_pipeline_event_decision(pe);
    const char *type = ev->type->name;
    int64_t now = ev->received_at_ms;

    if ((ev->type->flags & AG_EVT_LOGIN_OK) && d->action != AG_ACTION_DENY) {
        struct ag_ident_account_rec acc;
        if (ag_store_ident_account_get(h->id.store, ev->account_id, &acc, NULL) == 0 &&
            acc.mfa_reverify) {
            ag_decision_escalate(d, AG_ACTION_CHALLENGE);
            ag_decision_reason(d, "mfa_reverify_required",
                               "the account must pass 2-step verification again");
        }
        if (ev->device_id[0]) {
            /* built here, allocated only if it is to be written (most logins:
             * not, the device was written less than a minute ago as it is) */
            struct dev_write seen = {.store = h->id.store};
            snprintf(seen.d.account_id, sizeof seen.d.account_id, "%s", ev->account_id);
            snprintf(seen.d.device_id, sizeof seen.d.device_id, "%s", ev->device_id);
            snprintf(seen.d.ip, sizeof seen.d.ip, "%s", ev->ip);
            snprintf(seen.d.user_agent, sizeof seen.d.user_agent, "%.255s", ev->user_agent);
            fact_str(pe, AG_RF_IP_COUNTRY, seen.d.country, sizeof seen.d.country);
            seen.d.first_seen = seen.d.last_seen = now;
            if (ag_store_ident_device_seen_due(seen.store, &seen.d, &seen.stamp)) {
                struct dev_write *w = malloc(sizeof *w);
                if (!w)
                    return AG_ENOMEM;
                *w = seen;
                if (ag_pipeline_event_write(pe, dev_seen_job, w, free) ||
                    ag_pipeline_event_after(pe, dev_seen_after, w))
                    return AG_ENOMEM;
            }
        }
    }
    if ((!strcmp(type, "password.changed") || !strcmp(type, "password.reset_completed")) &&
        d->action != AG_ACTION_DENY) {
        struct pwc_write *w = calloc(1, sizeof *w);
        if (!w)
            return AG_ENOMEM;
        snprintf(w->account_id, sizeof w->account_id, "%s", ev->account_id);
        snprintf(w->keep, sizeof w->keep, "%s", ev->session_id);
        w->now = now;
        if (ag_pipeline_event_write(pe, pw_changed_job, w, free))
            return AG_ENOMEM;
    }
    if (!strcmp(type, "password.reset_requested"))
        recovery_risk(h, pe);
    return 0;
}

/* ---- the challenge hook ---- */

static int challenge_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_challenge_put(tx, arg, err);
}

json_t *ag_api_challenge_json(const struct ag_ident_challenge_rec *c)
{
    json_t *methods = json_array();
    for (unsigned bit = 1; bit <= AG_IDENT_METHOD_BACKUP; bit <<= 1)
        if (c->methods & bit)
            json_array_append_new(methods, json_string(ag_identity_method_name(bit)));
    char exp[40];
    ag_time_format_ms(c->expires_at, exp, sizeof exp);
    return json_pack("{s:s, s:o, s:s}", "id", c->id, "methods", methods, "expires_at", exp);
}

int ag_api_challenge_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                               struct ag_store *store, void **state, struct ag_err *err)
{
    /* Shares the identity hook's service (its row comes first). */
    *state = ag_pipeline_hook_state(p, "identity");
    if (!*state)
        return ag_err_set(err, AG_EINTERNAL, NULL, "",
                          "the challenge hook needs the identity hook before it");
    return 0;
}

int ag_api_challenge_hook_act(void *state, struct ag_pipeline_event *pe)
{
    struct idhook *h = state;
    struct ag_decision *d = ag_pipeline_event_decision(pe);
    if (d->action != AG_ACTION_CHALLENGE)
        return 0;
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    struct ag_ident_challenge_rec *c = calloc(1, sizeof *c);
    if (!c)
        return AG_ENOMEM;
    unsigned have = ag_identity_methods(&h->id, ev->account_id);
    unsigned offered = have & (d->challenge_methods | AG_IDENT_METHOD_BACKUP);
    c->methods = offered ? offered : have;
    /* Nothing to verify with here: the platform has to (a link to the
     * account's address, a call) and say so with an mfa.succeeded, which
     * also lets the pipeline learn the held login (docs/RISK.md). */
    if (!have)
        ag_decision_reason(d, "no_second_factor",
                           "the account has no second factor enrolled: verify the user another "
                           "way and send mfa.succeeded from this context when they pass");
    ag_id_random(c->id, sizeof c->id, "chl_", 20);
    snprintf(c->account_id, sizeof c->account_id, "%s", ev->account_id);
    snprintf(c->event_id, sizeof c->event_id, "%s", ev->id);
    snprintf(c->reason, sizeof c->reason, "decision");
    snprintf(c->device_id, sizeof c->device_id, "%s", ev->device_id);
    snprintf(c->ip, sizeof c->ip, "%s", ev->ip);
    snprintf(c->user_agent, sizeof c->user_agent, "%.255s", ev->user_agent);
    snprintf(c->state, sizeof c->state, "pending");
    c->created_at = ev->received_at_ms;
    c->expires_at = c->created_at + h->id.challenge_ttl_ms;
    json_t *j = ag_api_challenge_json(c);
    if (ag_pipeline_event_write(pe, challenge_job, c, free)) {
        json_decref(j);
        return AG_ENOMEM;
    }
    ag_pipeline_event_decision_extra(pe, "challenge", j);
    return 0;
}

/* ---- helpers for the handlers ---- */

int ag_api_idctx_read(struct ag_http_req *req, const json_t *body, struct ag_api_idctx *c)
{
    memset(c, 0, sizeof *c);
    json_t *ctx = json_object_get(body, "context");
    if (!ctx)
        return 0;
    /* Validate exactly as the pipeline will, on a stand-in event. */
    json_t *probe = json_pack("{s:s, s:s, s:s, s:{s:s}, s:O}", "id", "probe", "type", "logout",
                              "occurred_at", "2020-01-01T00:00:00Z", "account", "id", "probe",
                              "context", ctx);
    struct ag_event ev;
    struct ag_err err;
    int rc = probe ? ag_pipeline_validate(probe, ag_time_now_ms(), &ev, &err)
                   : ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
    if (rc) {
        json_decref(probe);
        ag_http_respond_error(req, 400, &err);
        return -1;
    }
    snprintf(c->ip, sizeof c->ip, "%s", ev.ip);
    snprintf(c->device_id, sizeof c->device_id, "%s", ev.device_id);
    snprintf(c->session_id, sizeof c->session_id, "%s", ev.session_id);
    snprintf(c->user_agent, sizeof c->user_agent, "%.255s", ev.user_agent);
    c->context = json_deep_copy(ctx);
    json_decref(probe);
    return 0;
}

void ag_api_idctx_free(struct ag_api_idctx *c)
{
    json_decref(c->context);
    c->context = NULL;
}

json_t *ag_api_identity_event(struct ag_app *app, const char *type, const char *account_id,
                              const struct ag_api_idctx *c, json_t *properties,
                              struct ag_err *err)
{
    char id[40], at[40];
    ag_id_random(id, sizeof id, "agid_", 24);
    int64_t now = ag_time_now_ms();
    ag_time_format_ms(now, at, sizeof at);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", id, "type", type, "occurred_at", at,
                           "account", "id", account_id);
    if (!ev) {
        json_decref(properties);
        ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        return NULL;
    }
    if (c && c->context)
        json_object_set(ev, "context", c->context);
    json_t *props = properties ? properties : json_object();
    json_object_set_new(props, "source", json_string("accountguard"));
    json_object_set_new(ev, "properties", props);
    struct ag_pipeline_reply r = {0};
    ag_pipeline_run(app->pipeline, ev, &r);
    json_decref(ev);
    json_t *body = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    free(r.body);
    json_t *decision = NULL;
    if (r.status == 200 && body)
        decision = json_incref(json_object_get(body, "decision"));
    if (!decision) {
        json_t *e = json_object_get(body, "error");
        ag_err_set(err, r.status == 400 ? AG_EINVAL : AG_EUNAVAIL,
                   json_string_value(json_object_get(e, "code")), "",
                   "the %s event was not accepted: %s", type,
                   json_string_value(json_object_get(e, "message"))
                       ? json_string_value(json_object_get(e, "message"))
                       : "store unavailable");
    }
    json_decref(body);
    return decision;
}

const char *ag_api_decision_action(const json_t *decision)
{
    const char *a = json_string_value(json_object_get(decision, "action"));
    return a ? a : "";
}

void ag_api_identity_fail(struct ag_http_req *req, int rc, const struct ag_err *err,
                          int64_t retry_after_ms)
{
    ag_http_respond_error(req, 0, err);
    if (rc == AG_ERATE) {
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)(retry_after_ms > 0 ? (retry_after_ms + 999) / 1000 : 1));
        ag_http_add_header(req, "Retry-After", s);
    }
}

/* ---- the outcome of a secret check ---- */

static const struct {
    const char *slug, *result;
} outcomes[] = {
    {"code_invalid", "wrong"},       {"password_invalid", "wrong"}, {"passcode_invalid", "wrong"},
    {"code_reused", "reused"},       {"code_used", "used"},         {"code_expired", "expired"},
    {"code_exhausted", "exhausted"},
};

void ag_api_identity_outcome(struct ag_app *app, struct ag_http_req *req, const char *account_id,
                             const struct ag_api_idctx *c, int rc, const struct ag_err *err,
                             int64_t retry_after_ms, const char *ok_type, const char *fail_type,
                             json_t *extra)
{
    const char *result = rc == 0 ? "ok" : NULL;
    for (size_t i = 0; !result && i < AG_ARRAY_LEN(outcomes); i++)
        if (!strcmp(err->slug, outcomes[i].slug))
            result = outcomes[i].result;
    if (!result) { /* not a verdict on the secret: throttled, locked, nothing to check */
        json_decref(extra);
        ag_api_identity_fail(req, rc, err, retry_after_ms);
        return;
    }
    struct ag_err e2;
    const char *type = rc == 0 ? ok_type : fail_type;
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "result", json_string(result));
    if (type) {
        json_t *props = json_pack("{s:s}", "result", result);
        json_t *d = ag_api_identity_event(app, type, account_id, c, props, &e2);
        if (d)
            json_object_set_new(o, "decision", d);
    }
    ag_http_respond_json(req, 200, o);
}

json_t *ag_api_identity_change(struct ag_app *app, struct ag_http_req *req, const char *type,
                               const char *account_id, const struct ag_api_idctx *c,
                               json_t *properties)
{
    struct ag_err err;
    json_t *d = ag_api_identity_event(app, type, account_id, c, properties, &err);
    if (!d) {
        ag_http_respond_error(req, err.code == AG_EINVAL ? 400 : 503, &err);
        return NULL;
    }
    if (strcmp(ag_api_decision_action(d), "deny") != 0)
        return d;
    bool frozen = false;
    json_t *r;
    size_t i;
    json_array_foreach(json_object_get(d, "reasons"), i, r)
        if (!strcmp(json_string_value(json_object_get(r, "code")) ?: "", "account_frozen"))
            frozen = true;
    ag_err_set(&err, AG_EFORBIDDEN, frozen ? "account_frozen" : "denied", "",
               frozen ? "the account is frozen: credential changes are refused"
                      : "the change was denied by the account's risk decision");
    json_t *body = ag_json_error(&err);
    json_object_set_new(body, "decision", d);
    ag_http_respond_json(req, 403, body);
    return NULL;
}

const char *ag_api_account_param(struct ag_http_req *req)
{
    if (strlen(req->params[0]) > AG_ID_MAX) {
        ag_api_error(req, AG_EINVAL, "invalid_field", "account", "account ids are at most %d bytes",
                     AG_ID_MAX);
        return NULL;
    }
    return req->params[0];
}

struct ag_api_idcall *ag_api_idcall_begin(struct ag_app *app, struct ag_http_req *req,
                                          struct ag_api_idcall *c, bool need_body)
{
    memset(c, 0, sizeof *c);
    if (!(c->id = ag_api_identity(app))) {
        ag_api_error(req, AG_EUNAVAIL, "identity_unavailable", "", "identity is not configured");
        return NULL;
    }
    if (!(c->account = ag_api_account_param(req)))
        return NULL;
    if (!need_body && !req->body.len) {
        c->body = json_object();
        return c;
    }
    if (!(c->body = ag_api_body_object(app, req)))
        return NULL;
    if (ag_api_idctx_read(req, c->body, &c->ctx)) {
        json_decref(c->body);
        return NULL;
    }
    return c;
}

void ag_api_idcall_end(struct ag_api_idcall *c)
{
    ag_api_idctx_free(&c->ctx);
    json_decref(c->body);
    c->body = NULL;
}

const char *ag_api_need_str(struct ag_http_req *req, json_t *body, const char *key, size_t max)
{
    const char *v = NULL;
    struct ag_err err;
    if (ag_json_str(body, key, key, max, true, &v, &err)) {
        ag_http_respond_error(req, 400, &err);
        return NULL;
    }
    return v;
}
