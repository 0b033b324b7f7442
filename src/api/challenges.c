/* Challenges: created by a `challenge` decision (the "challenge" hook) or
 * on demand for a step-up (POST /v1/accounts/{id}/challenges), completed
 * with POST /v1/challenges/{id}/verify. Passing one trusts the device,
 * lifts authenticator locks and the 2-step re-verification requirement,
 * and runs mfa.succeeded for the profile; a wrong code runs mfa.failed
 * (counted in velocity) and five of them fail the challenge. */
#include "api/identity.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHALLENGE_MAX_ATTEMPTS 5

static int put_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_challenge_put(tx, arg, err);
}

void ag_api_challenge_create(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    struct ag_ident_challenge_rec ch = {0};
    ch.methods = ag_identity_methods(c.id, c.account);
    if (!ch.methods) {
        ag_api_error(req, AG_ESTATE, "no_second_factor", "",
                     "the account has no 2-step method (TOTP, verified phone or email, backup codes)");
        ag_api_idcall_end(&c);
        return;
    }
    ag_id_random(ch.id, sizeof ch.id, "chl_", 20);
    snprintf(ch.account_id, sizeof ch.account_id, "%s", c.account);
    snprintf(ch.reason, sizeof ch.reason, "step_up");
    snprintf(ch.device_id, sizeof ch.device_id, "%s", c.ctx.device_id);
    snprintf(ch.ip, sizeof ch.ip, "%s", c.ctx.ip);
    snprintf(ch.user_agent, sizeof ch.user_agent, "%.255s", c.ctx.user_agent);
    snprintf(ch.state, sizeof ch.state, "pending");
    ch.created_at = ag_time_now_ms();
    ch.expires_at = ch.created_at + c.id->challenge_ttl_ms;
    struct ag_err err;
    if (ag_store_exec(app->store, put_run, &ch, &err))
        ag_http_respond_error(req, 0, &err);
    else
        ag_http_respond_json(req, 201, ag_api_challenge_json(&ch));
    ag_api_idcall_end(&c);
}

static json_t *full_json(const struct ag_ident_challenge_rec *ch, int64_t now)
{
    json_t *o = ag_api_challenge_json(ch);
    const char *state = !strcmp(ch->state, "pending") && now >= ch->expires_at ? "expired" : ch->state;
    json_object_set_new(o, "account_id", json_string(ch->account_id));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "reason", json_string(ch->reason));
    json_object_set_new(o, "attempts", json_integer(ch->attempts));
    if (ch->passed_at)
        json_object_set_new(o, "passed_method", json_string(ch->passed_method));
    return o;
}

/* Load challenge {id} (params[0]); NULL after responding. */
static bool load(struct ag_app *app, struct ag_http_req *req, struct ag_ident_challenge_rec *ch)
{
    struct ag_err err;
    if (ag_store_ident_challenge_get(app->store, req->params[0], ch, &err)) {
        ag_http_respond_error(req, 0, &err);
        return false;
    }
    return true;
}

void ag_api_challenge_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_ident_challenge_rec ch;
    if (load(app, req, &ch))
        ag_http_respond_json(req, 200, full_json(&ch, ag_time_now_ms()));
}

/* Is <ch> open for <method>? Responds and returns false if not. */
static bool open_for(struct ag_http_req *req, const struct ag_ident_challenge_rec *ch,
                     const char *method, int64_t now)
{
    unsigned bit = ag_identity_method_parse(method);
    if (strcmp(ch->state, "pending") || now >= ch->expires_at) {
        ag_api_error(req, AG_ESTATE, "challenge_closed", "", "the challenge is %s",
                     strcmp(ch->state, "pending") ? ch->state : "expired");
        return false;
    }
    if (!bit || !(ch->methods & bit)) {
        ag_api_error(req, AG_EINVAL, "method_not_offered", "method",
                     "the challenge does not offer %s", method);
        return false;
    }
    return true;
}

void ag_api_challenge_send(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_identity *id = ag_api_identity(app);
    struct ag_ident_challenge_rec ch;
    if (!id) {
        ag_api_error(req, AG_EUNAVAIL, "identity_unavailable", "", "identity is not configured");
        return;
    }
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    const char *method = ag_api_need_str(req, body, "method", 16), *lang = NULL;
    ag_json_str(body, "lang", "lang", 16, false, &lang, NULL);
    int64_t now = ag_time_now_ms();
    if (method && load(app, req, &ch) && open_for(req, &ch, method, now)) {
        if (strcmp(method, "sms") && strcmp(method, "email")) {
            ag_api_error(req, AG_EINVAL, "method_not_sent", "method",
                         "only sms and email codes are sent");
        } else {
            struct ag_identity_otp_sent s;
            struct ag_err err;
            int rc = ag_identity_otp_send(id, ch.account_id, method, "challenge", ch.id,
                                          lang ? lang : "en", now, &s, &err);
            if (rc) {
                ag_api_identity_fail(req, rc, &err, 60000);
            } else {
                ag_notify_wake();
                char exp[40];
                ag_time_format_ms(s.expires_ms, exp, sizeof exp);
                ag_http_respond_json(req, 201,
                                     json_pack("{s:s, s:s, s:s}", "otp_id", s.id, "destination",
                                               s.destination_hint, "expires_at", exp));
            }
        }
    }
    json_decref(body);
}

struct pass_job {
    const struct ag_ident_challenge_rec *ch;
    const char *method;
    bool passed;
    int64_t now;
    struct ag_ident_challenge_rec out;
};

static int attempt_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct pass_job *j = arg;
    int rc = ag_store_ident_challenge_attempt(tx, j->ch->id, j->passed, j->method,
                                              CHALLENGE_MAX_ATTEMPTS, j->now, &j->out, err);
    if (rc || !j->passed)
        return rc;
    if (j->ch->device_id[0] &&
        (rc = ag_store_ident_device_trust(tx, j->ch->account_id, j->ch->device_id, true, j->now,
                                          err)))
        return rc;
    return ag_store_ident_flags_set(tx, j->ch->account_id, -1, 0, j->now, err);
}

void ag_api_challenge_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_identity *id = ag_api_identity(app);
    if (!id) {
        ag_api_error(req, AG_EUNAVAIL, "identity_unavailable", "", "identity is not configured");
        return;
    }
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct ag_ident_challenge_rec ch;
    const char *method = ag_api_need_str(req, body, "method", 16);
    const char *code = method ? ag_api_need_str(req, body, "code", 64) : NULL;
    int64_t now = ag_time_now_ms();
    if (!code || !load(app, req, &ch) || !open_for(req, &ch, method, now)) {
        json_decref(body);
        return;
    }
    /* The attempt comes from the device and address that were challenged. */
    struct ag_api_idctx ctx = {0};
    snprintf(ctx.ip, sizeof ctx.ip, "%s", ch.ip);
    snprintf(ctx.device_id, sizeof ctx.device_id, "%s", ch.device_id);
    ctx.context = json_object();
    if (ch.ip[0])
        json_object_set_new(ctx.context, "ip", json_string(ch.ip));
    if (ch.device_id[0])
        json_object_set_new(ctx.context, "device_id", json_string(ch.device_id));
    if (ch.user_agent[0])
        json_object_set_new(ctx.context, "user_agent", json_string(ch.user_agent));
    unsigned bit = ag_identity_method_parse(method);
    struct ag_identity_attempt a = {.account_id = ch.account_id, .device_id = ch.device_id,
                                    .ip = ch.ip};
    int64_t retry = 0;
    struct ag_err err = {0};
    int rc;
    if (bit == AG_IDENT_METHOD_TOTP) {
        a.factor = "totp";
        rc = ag_identity_totp_check_attempt(id, &a, code, now, &retry, &err);
    } else if (bit == AG_IDENT_METHOD_BACKUP) {
        a.factor = "backup_code";
        rc = ag_identity_backup_check_attempt(id, &a, code, now, NULL, &retry, &err);
    } else {
        a.factor = "otp";
        struct ag_ident_otp_rec rec;
        struct ag_identity_otp st;
        rc = ag_store_ident_otp_latest(app->store, "challenge", ch.id, method, &rec, &st, &err);
        if (rc == 0)
            rc = ag_identity_otp_check(id, &a, rec.id, "challenge", ch.id, code, now, NULL, &retry,
                                       &err);
    }
    bool verdict = rc == 0 || err.code == AG_EAUTH || err.code == AG_ESTATE ||
                   !strcmp(err.slug, "code_exhausted");
    struct pass_job j = {.ch = &ch, .method = method, .passed = rc == 0, .now = now};
    if (verdict) {
        struct ag_err e2;
        int jrc = ag_store_exec(app->store, attempt_run, &j, &e2);
        if (jrc && rc == 0) { /* expired or failed meanwhile */
            ag_http_respond_error(req, 0, &e2);
            ag_api_idctx_free(&ctx);
            json_decref(body);
            return;
        }
        if (rc == 0)
            ag_identity_unlock(id, ch.account_id, NULL);
    }
    json_t *extra = verdict ? json_pack("{s:o}", "challenge", full_json(j.out.id[0] ? &j.out : &ch, now)) : NULL;
    ag_api_identity_outcome(app, req, ch.account_id, &ctx, rc, &err, retry, "mfa.succeeded",
                            "mfa.failed", extra);
    ag_api_idctx_free(&ctx);
    json_decref(body);
}
