/* Account recovery (a password reset through a verified phone or email,
 * itself risk-scored; the owner is alerted on every channel by the notify
 * hook, which sees the password.reset_requested / _completed events run
 * here) and the wallet passcode
 * (set, change, verify with backoff and a lock the owner clears with 2-step
 * verification). */
#include "api/identity.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "identity/passcode.h"
#include "notify/notify.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int recovery_put_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_recovery_put(tx, arg, err);
}

void ag_api_recovery_start(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *channel = ag_api_need_str(req, c.body, "channel", 8), *lang = NULL;
    if (!channel) {
        ag_api_idcall_end(&c);
        return;
    }
    ag_json_str(c.body, "lang", "lang", 16, false, &lang, NULL);
    struct ag_ident_contact_rec ct;
    if (ag_store_ident_contact_get(app->store, c.account, channel, &ct, NULL) || !ct.verified_at) {
        ag_api_error(req, AG_ESTATE, "no_verified_contact", "channel",
                     "recovery needs a verified %s address on the account", channel);
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_err err;
    json_t *d = ag_api_identity_event(app, "password.reset_requested", c.account, &c.ctx,
                                      json_pack("{s:s}", "channel", channel), &err);
    if (!d) {
        ag_http_respond_error(req, err.code == AG_EINVAL ? 400 : 503, &err);
        ag_api_idcall_end(&c);
        return;
    }
    const char *action = ag_api_decision_action(d);
    if (!strcmp(action, "deny")) {
        ag_err_set(&err, AG_EFORBIDDEN, "denied", "", "the recovery was denied by its risk decision");
        json_t *e = ag_json_error(&err);
        json_object_set_new(e, "decision", d);
        ag_http_respond_json(req, 403, e);
        ag_api_idcall_end(&c);
        return;
    }
    int64_t now = ag_time_now_ms();
    struct ag_ident_recovery_rec r = {0};
    ag_id_random(r.id, sizeof r.id, "rec_", 20);
    snprintf(r.account_id, sizeof r.account_id, "%s", c.account);
    snprintf(r.channel, sizeof r.channel, "%s", channel);
    snprintf(r.device_id, sizeof r.device_id, "%s", c.ctx.device_id);
    snprintf(r.ip, sizeof r.ip, "%s", c.ctx.ip);
    snprintf(r.state, sizeof r.state, "pending");
    /* Harder: a new device in a country the account never used (the
     * identity hook's reason). Other risk only shows in the decision. */
    json_t *reason;
    size_t ri;
    json_array_foreach(json_object_get(d, "reasons"), ri, reason) {
        const char *code = json_string_value(json_object_get(reason, "code"));
        if (code && !strcmp(code, "recovery_new_device_new_country"))
            r.strong = true;
    }
    r.created_at = now;
    r.expires_at = now + 30 * 60 * 1000LL;
    json_t *chj = json_object_get(d, "challenge");
    const char *chid = json_string_value(json_object_get(chj, "id"));
    if (r.strong) {
        /* A second factor other than the code's channel must pass the
         * challenge; without one the recovery waits for a person. */
        struct ag_ident_challenge_rec ch;
        unsigned other = 0;
        if (chid && ag_store_ident_challenge_get(app->store, chid, &ch, NULL) == 0)
            other = ch.methods & ~ag_identity_method_parse(channel);
        if (!other) {
            ag_err_set(&err, AG_EFORBIDDEN, "recovery_needs_review", "",
                       "this recovery is risky and the account has no second factor besides "
                       "%s: it must be reviewed by a person",
                       channel);
            json_t *e = ag_json_error(&err);
            json_object_set_new(e, "decision", d);
            ag_http_respond_json(req, 403, e);
            ag_api_idcall_end(&c);
            return;
        }
        snprintf(r.challenge_id, sizeof r.challenge_id, "%s", chid);
    }
    struct ag_identity_otp_sent s;
    int rc = ag_identity_otp_send(c.id, c.account, channel, "recovery", r.id, lang ? lang : "en",
                                  now, &s, &err);
    if (!rc) {
        snprintf(r.otp_id, sizeof r.otp_id, "%s", s.id);
        rc = ag_store_exec(app->store, recovery_put_run, &r, &err);
    }
    if (rc) {
        json_decref(d);
        ag_api_identity_fail(req, rc, &err, 60000);
        ag_api_idcall_end(&c);
        return;
    }
    ag_notify_wake();
    char exp[40];
    ag_time_format_ms(r.expires_at, exp, sizeof exp);
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "recovery_id", r.id, "destination",
                          s.destination_hint, "expires_at", exp, "strong", r.strong, "decision", d);
    if (r.strong)
        json_object_set(o, "challenge", chj);
    ag_http_respond_json(req, 201, o);
    ag_api_idcall_end(&c);
}

static int recovery_finish_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    const char *id = arg;
    return ag_store_ident_recovery_finish(tx, id, "completed", ag_time_now_ms(), err);
}

void ag_api_recovery_complete(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *code = ag_api_need_str(req, c.body, "code", 64);
    const char *pw = code ? ag_api_need_str(req, c.body, "new_password", AG_IDENTITY_PASSWORD_MAX_BYTES)
                          : NULL;
    if (!pw) {
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_ident_recovery_rec r;
    struct ag_err err = {0};
    int64_t now = ag_time_now_ms();
    if (ag_store_ident_recovery_get(app->store, req->params[1], &r, &err) ||
        strcmp(r.account_id, c.account) != 0) {
        ag_api_error(req, AG_ENOTFOUND, "recovery_not_found", "", "no such recovery");
        ag_api_idcall_end(&c);
        return;
    }
    if (strcmp(r.state, "pending") || now >= r.expires_at) {
        ag_api_error(req, AG_ESTATE, "recovery_closed", "", "the recovery is %s",
                     strcmp(r.state, "pending") ? r.state : "expired");
        ag_api_idcall_end(&c);
        return;
    }
    if (r.challenge_id[0]) {
        struct ag_ident_challenge_rec ch;
        if (ag_store_ident_challenge_get(app->store, r.challenge_id, &ch, NULL) ||
            strcmp(ch.state, "passed") || !strcmp(ch.passed_method, r.channel)) {
            ag_api_error(req, AG_EFORBIDDEN, "challenge_required", "challenge_id",
                         "pass challenge %s with a method other than %s first", r.challenge_id,
                         r.channel);
            ag_api_idcall_end(&c);
            return;
        }
    }
    const char *words[2] = {c.account, NULL};
    struct ag_identity_password_strength s;
    if (ag_identity_password_check(&c.id->policy, pw, words, &s, &err)) {
        ag_http_respond_error(req, 422, &err);
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_attempt a = {.account_id = c.account, .factor = "otp",
                                    .device_id = c.ctx.device_id, .ip = c.ctx.ip};
    int64_t retry = 0;
    int rc = ag_identity_otp_check(c.id, &a, r.otp_id, "recovery", r.id, code, now, NULL, &retry,
                                   &err);
    if (rc) {
        ag_api_identity_outcome(app, req, c.account, &c.ctx, rc, &err, retry, NULL, "mfa.failed",
                                NULL);
        ag_api_idcall_end(&c);
        return;
    }
    if ((rc = ag_identity_password_set(c.id, c.account, pw, words, &s, now, &err)) ||
        (rc = ag_store_exec(app->store, recovery_finish_run, r.id, &err))) {
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    ag_identity_unlock(c.id, c.account, NULL);
    json_t *d = ag_api_identity_event(app, "password.reset_completed", c.account, &c.ctx,
                                      json_pack("{s:s}", "channel", r.channel), &err);
    json_t *o = json_pack("{s:s}", "result", "ok");
    if (d)
        json_object_set_new(o, "decision", d);
    ag_http_respond_json(req, 200, o);
    ag_api_idcall_end(&c);
}

/* ---- wallet passcode ---- */

void ag_api_passcode_put(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *pc = ag_api_need_str(req, c.body, "passcode", 32), *cur = NULL;
    if (!pc) {
        ag_api_idcall_end(&c);
        return;
    }
    ag_json_str(c.body, "current_passcode", "current_passcode", 32, false, &cur, NULL);
    int64_t now = ag_time_now_ms();
    struct ag_account_state st;
    ag_pipeline_account_state(app->pipeline, c.account, now, &st);
    struct ag_err err = {0};
    if (st.frozen) {
        ag_api_error(req, AG_EFORBIDDEN, "account_frozen", "",
                     "the account is frozen: credential changes are refused");
        ag_api_idcall_end(&c);
        return;
    }
    if (ag_identity_passcode_validate(pc, &err)) {
        ag_http_respond_error(req, 422, &err);
        ag_api_idcall_end(&c);
        return;
    }
    char stored[AG_STORE_HASH_STR];
    bool exists = ag_store_ident_passcode_get(app->store, c.account, stored, NULL) == 0;
    sodium_memzero(stored, sizeof stored);
    if (exists) {
        if (!cur) {
            ag_api_error(req, AG_EINVAL, "missing_field", "current_passcode",
                         "changing the passcode needs the current one");
            ag_api_idcall_end(&c);
            return;
        }
        struct ag_identity_attempt a = {.account_id = c.account, .factor = "passcode",
                                        .device_id = c.ctx.device_id, .ip = c.ctx.ip};
        int64_t retry = 0;
        int rc = ag_identity_passcode_check_attempt(c.id, &a, cur, now, &retry, &err);
        if (rc) {
            ag_api_identity_fail(req, rc, &err, retry);
            ag_api_idcall_end(&c);
            return;
        }
    }
    if (ag_identity_passcode_store(c.id, c.account, pc, now, &err))
        ag_http_respond_error(req, 0, &err);
    else
        ag_http_respond_json(req, 200, json_pack("{s:b, s:b}", "set", 1, "changed", exists));
    ag_api_idcall_end(&c);
}

void ag_api_passcode_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *pc = ag_api_need_str(req, c.body, "passcode", 32);
    if (pc) {
        struct ag_identity_attempt a = {.account_id = c.account, .factor = "passcode",
                                        .device_id = c.ctx.device_id, .ip = c.ctx.ip};
        int64_t retry = 0;
        struct ag_err err = {0};
        int rc = ag_identity_passcode_check_attempt(c.id, &a, pc, ag_time_now_ms(), &retry, &err);
        ag_api_identity_outcome(app, req, c.account, &c.ctx, rc, &err, retry, NULL, "mfa.failed",
                                NULL);
    }
    ag_api_idcall_end(&c);
}

void ag_api_passcode_unlock(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *chid = ag_api_need_str(req, c.body, "challenge_id", 64);
    if (chid) {
        struct ag_ident_challenge_rec ch;
        struct ag_err err;
        int64_t now = ag_time_now_ms();
        if (ag_store_ident_challenge_get(app->store, chid, &ch, NULL) ||
            strcmp(ch.account_id, c.account) || strcmp(ch.state, "passed") ||
            now - ch.passed_at > c.id->challenge_ttl_ms)
            ag_api_error(req, AG_EFORBIDDEN, "challenge_required", "challenge_id",
                         "unlocking needs a challenge of this account passed in the last minutes");
        else if (ag_identity_unlock(c.id, c.account, &err))
            ag_http_respond_error(req, 0, &err);
        else
            ag_http_respond_json(req, 200, json_pack("{s:b}", "unlocked", 1));
    }
    ag_api_idcall_end(&c);
}
