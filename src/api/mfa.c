/* Passwords accountguard holds, 2-step factors (TOTP, backup codes), the
 * account's verified contacts and one-time codes by SMS and email:
 * /v1/accounts/{id}/password*, /mfa*, /mfa/contacts/{channel}, /otp*.
 *
 * Secrets in requests (passwords, codes) are checked and dropped; they are
 * never put into events, logs or errors. Credential changes first run their
 * event through the pipeline (a frozen account is denied there). */
#include "api/identity.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "identity/qr.h"
#include "notify/notify.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_MAX 64

static void time_json(json_t *o, const char *key, int64_t ms)
{
    char t[40];
    ag_time_format_ms(ms, t, sizeof t);
    json_object_set_new(o, key, json_string(t));
}

static struct ag_identity_attempt attempt_of(const struct ag_api_idcall *c, const char *factor)
{
    return (struct ag_identity_attempt){.account_id = c->account,
                                        .factor = factor,
                                        .device_id = c->ctx.device_id,
                                        .ip = c->ctx.ip};
}

/* ---- passwords ---- */

void ag_api_password_set(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *pw = ag_api_need_str(req, c.body, "password", AG_IDENTITY_PASSWORD_MAX_BYTES);
    if (!pw) {
        ag_api_idcall_end(&c);
        return;
    }
    const char *words[17] = {c.account};
    size_t nw = 1;
    json_t *w;
    size_t i;
    json_array_foreach(json_object_get(c.body, "user_words"), i, w)
        if (json_is_string(w) && nw < 16)
            words[nw++] = json_string_value(w);
    struct ag_identity_password_strength s;
    struct ag_err err;
    int rc = ag_identity_password_check(&c.id->policy, pw, words, &s, &err);
    if (rc) {
        json_t *e = ag_json_error(&err);
        json_object_set_new(e, "strength",
                            json_pack("{s:i, s:s, s:s}", "score", s.score, "warning", s.warning,
                                      "suggestion", s.suggestion));
        ag_http_respond_json(req, 422, e);
        ag_api_idcall_end(&c);
        return;
    }
    json_t *d = ag_api_identity_change(app, req, "password.changed", c.account, &c.ctx,
                                       json_pack("{s:s}", "via", "set_password"));
    if (!d) {
        ag_api_idcall_end(&c);
        return;
    }
    rc = ag_identity_password_set(c.id, c.account, pw, words, &s, ag_time_now_ms(), &err);
    if (rc) {
        json_decref(d);
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    ag_http_respond_json(req, 200,
                         json_pack("{s:b, s:i, s:o}", "set", 1, "score", s.score, "decision", d));
    ag_api_idcall_end(&c);
}

void ag_api_password_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *pw = ag_api_need_str(req, c.body, "password", AG_IDENTITY_PASSWORD_MAX_BYTES);
    if (!pw) {
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_attempt a = attempt_of(&c, "password");
    enum ag_identity_pw_result result;
    bool rehashed = false;
    int64_t retry = 0;
    struct ag_err err = {0};
    int rc = ag_identity_password_check_attempt(c.id, &a, pw, ag_time_now_ms(), &result,
                                                &rehashed, &retry, &err);
    if (rc) {
        ag_api_identity_fail(req, rc, &err, retry);
        ag_api_idcall_end(&c);
        return;
    }
    if (result == AG_IDENTITY_PW_RESET_REQUIRED) {
        ag_http_respond_json(req, 200, json_pack("{s:s}", "result", "reset_required"));
        ag_api_idcall_end(&c);
        return;
    }
    if (result == AG_IDENTITY_PW_WRONG)
        ag_err_set(&err, AG_EAUTH, "password_invalid", "password", "wrong password");
    ag_api_identity_outcome(app, req, c.account, &c.ctx, result == AG_IDENTITY_PW_OK ? 0 : AG_EAUTH,
                            &err, 0, "login.succeeded", "login.failed",
                            json_pack("{s:b, s:b}", "rehashed", rehashed, "trusted_device",
                                      a.trusted));
    ag_api_idcall_end(&c);
}

/* ---- the account's factors ---- */

void ag_api_mfa_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    unsigned m = ag_identity_methods(c.id, c.account);
    json_t *methods = json_array();
    for (unsigned bit = 1; bit <= AG_IDENT_METHOD_BACKUP; bit <<= 1)
        if (m & bit)
            json_array_append_new(methods, json_string(ag_identity_method_name(bit)));
    json_t *o = json_pack("{s:s, s:o, s:b}", "account_id", c.account, "methods", methods,
                          "enabled", m != 0);
    struct ag_identity_backup_code codes[AG_IDENTITY_BACKUP_COUNT];
    size_t n = 0;
    ag_store_ident_backup_load(app->store, c.account, codes, AG_IDENTITY_BACKUP_COUNT, &n, NULL);
    json_object_set_new(o, "backup_codes_remaining",
                        json_integer((json_int_t)ag_identity_backup_remaining(codes, n)));
    struct ag_ident_totp_rec t;
    if (ag_store_ident_totp_active(app->store, c.account, &t, NULL) == 0) {
        json_t *tj = json_pack("{s:s}", "enrollment_id", t.id);
        time_json(tj, "confirmed_at", t.confirmed_at);
        json_object_set_new(o, "totp", tj);
    }
    json_t *contacts = json_object();
    static const char *const chans[] = {"sms", "email"};
    for (int i = 0; i < 2; i++) {
        struct ag_ident_contact_rec ct;
        if (ag_store_ident_contact_get(app->store, c.account, chans[i], &ct, NULL) == 0)
            json_object_set_new(contacts, chans[i],
                                json_pack("{s:s, s:b}", "address", ct.address, "verified",
                                          ct.verified_at != 0));
    }
    json_object_set_new(o, "contacts", contacts);
    ag_http_respond_json(req, 200, o);
    ag_api_idcall_end(&c);
}

/* ---- TOTP ---- */

void ag_api_totp_enroll(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    struct ag_err err;
    int rc;
    struct ag_account_state st;
    ag_pipeline_account_state(app->pipeline, c.account, ag_time_now_ms(), &st);
    if (st.frozen) {
        ag_api_error(req, AG_EFORBIDDEN, "account_frozen", "",
                     "the account is frozen: credential changes are refused");
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_totp_enrollment e;
    if ((rc = ag_identity_totp_enroll(c.id, c.account, NULL, ag_time_now_ms(), &e, &err))) {
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    char *svg = NULL;
    size_t svg_len = 0;
    if ((rc = ag_identity_qr_svg(e.uri, 4, &svg, &svg_len, &err))) {
        sodium_memzero(&e, sizeof e);
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    char png[256];
    snprintf(png, sizeof png, "/v1/accounts/%s/mfa/totp/%s/qr.png", c.account, e.id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "enrollment_id", e.id, "otpauth_uri", e.uri,
                          "secret", e.secret_b32, "qr_svg", svg, "qr_png_url", png);
    sodium_memzero(&e, sizeof e);
    sodium_memzero(svg, svg_len);
    free(svg);
    ag_http_add_header(req, "Cache-Control", "no-store");
    ag_http_respond_json(req, 201, o);
    ag_api_idcall_end(&c);
}

void ag_api_totp_qr_png(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    char uri[AG_IDENTITY_TOTP_URI_MAX];
    struct ag_err err;
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = ag_identity_totp_uri_of(c.id, c.account, req->params[1], uri, &err);
    if (!rc)
        rc = ag_identity_qr_png(uri, 6, &png, &len, &err);
    sodium_memzero(uri, sizeof uri);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
    } else {
        ag_http_add_header(req, "Cache-Control", "no-store");
        ag_http_respond_bytes(req, 200, "image/png", png, len);
        sodium_memzero(png, len);
    }
    free(png);
    ag_api_idcall_end(&c);
}

void ag_api_totp_confirm(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *code = ag_api_need_str(req, c.body, "code", CODE_MAX);
    json_t *d = code ? ag_api_identity_change(app, req, "mfa.enabled", c.account, &c.ctx,
                                              json_pack("{s:s}", "factor", "totp"))
                     : NULL;
    if (!d) {
        ag_api_idcall_end(&c);
        return;
    }
    json_decref(d);
    struct ag_identity_attempt a = attempt_of(&c, "totp");
    int64_t retry = 0;
    struct ag_err err = {0};
    int rc = ag_identity_totp_confirm(c.id, &a, req->params[1], code, ag_time_now_ms(), &retry,
                                      &err);
    if (rc == 0)
        ag_http_respond_json(req, 200, json_pack("{s:s, s:b}", "result", "ok", "confirmed", 1));
    else
        ag_api_identity_outcome(app, req, c.account, &c.ctx, rc, &err, retry, NULL, "mfa.failed",
                                json_pack("{s:b}", "confirmed", 0));
    ag_api_idcall_end(&c);
}

void ag_api_totp_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *code = ag_api_need_str(req, c.body, "code", CODE_MAX);
    if (!code) {
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_attempt a = attempt_of(&c, "totp");
    int64_t retry = 0;
    struct ag_err err = {0};
    int rc = ag_identity_totp_check_attempt(c.id, &a, code, ag_time_now_ms(), &retry, &err);
    ag_api_identity_outcome(app, req, c.account, &c.ctx, rc, &err, retry, "mfa.succeeded",
                            "mfa.failed", NULL);
    ag_api_idcall_end(&c);
}

static int totp_delete_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    const char **ids = arg;
    return ag_store_ident_totp_delete(tx, ids[0], ids[1], err);
}

void ag_api_totp_delete(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    struct ag_ident_totp_rec t;
    struct ag_err err;
    int rc = ag_store_ident_totp_get(app->store, req->params[1], &t, &err);
    if (rc || strcmp(t.account_id, c.account) != 0) {
        ag_api_error(req, AG_ENOTFOUND, "enrollment_not_found", "", "no such TOTP enrollment");
        ag_api_idcall_end(&c);
        return;
    }
    json_t *d = t.confirmed ? ag_api_identity_change(app, req, "mfa.disabled", c.account, &c.ctx,
                                                     json_pack("{s:s}", "factor", "totp"))
                            : json_object();
    if (!d) {
        ag_api_idcall_end(&c);
        return;
    }
    const char *ids[2] = {c.account, req->params[1]};
    rc = ag_store_exec(app->store, totp_delete_run, ids, &err);
    if (rc) {
        json_decref(d);
        ag_http_respond_error(req, 0, &err);
    } else {
        ag_http_respond_json(req, 200, json_pack("{s:b, s:o}", "deleted", 1, "decision", d));
    }
    ag_api_idcall_end(&c);
}

/* ---- backup codes ---- */

void ag_api_backup_codes_new(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    json_t *d = ag_api_identity_change(app, req, "mfa.enabled", c.account, &c.ctx,
                                       json_pack("{s:s}", "factor", "backup_codes"));
    if (!d) {
        ag_api_idcall_end(&c);
        return;
    }
    json_decref(d);
    char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX];
    struct ag_err err;
    int rc = ag_identity_backup_new(c.id, c.account, ag_time_now_ms(), codes, &err);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < AG_IDENTITY_BACKUP_COUNT; i++)
        json_array_append_new(list, json_string(codes[i]));
    sodium_memzero(codes, sizeof codes);
    ag_http_add_header(req, "Cache-Control", "no-store");
    ag_http_respond_json(req, 201, json_pack("{s:o}", "codes", list));
    ag_api_idcall_end(&c);
}

void ag_api_backup_codes_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *code = ag_api_need_str(req, c.body, "code", CODE_MAX);
    if (!code) {
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_attempt a = attempt_of(&c, "backup_code");
    int64_t retry = 0;
    int remaining = 0;
    struct ag_err err = {0};
    int rc = ag_identity_backup_check_attempt(c.id, &a, code, ag_time_now_ms(), &remaining, &retry,
                                              &err);
    ag_api_identity_outcome(app, req, c.account, &c.ctx, rc, &err, retry, "mfa.succeeded",
                            "mfa.failed", json_pack("{s:i}", "remaining", remaining));
    ag_api_idcall_end(&c);
}

/* ---- contacts and one-time codes ---- */

static json_t *sent_json(const struct ag_identity_otp_sent *s)
{
    json_t *o = json_pack("{s:s, s:s}", "otp_id", s->id, "destination", s->destination_hint);
    time_json(o, "expires_at", s->expires_ms);
    return o;
}

void ag_api_mfa_contact_put(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *channel = req->params[1];
    const char *address = ag_api_need_str(req, c.body, "address", 320);
    bool verified = false;
    const char *lang = NULL;
    struct ag_err err;
    int rc;
    if (!address || ((rc = ag_json_bool(c.body, "verified", "verified", false, &verified, &err)) &&
                     rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(c.body, "lang", "lang", 16, false, &lang, &err)) &&
         rc != AG_ENOTFOUND)) {
        if (address)
            ag_http_respond_error(req, 400, &err);
        ag_api_idcall_end(&c);
        return;
    }
    if (strcmp(channel, "sms") && strcmp(channel, "email")) {
        ag_api_error(req, AG_ENOTFOUND, "no_such_channel", "channel",
                     "contacts are \"sms\" or \"email\"");
        ag_api_idcall_end(&c);
        return;
    }
    json_t *d = ag_api_identity_change(app, req, strcmp(channel, "sms") ? "email.changed" : "phone.changed",
                                       c.account, &c.ctx, NULL);
    if (!d) {
        ag_api_idcall_end(&c);
        return;
    }
    int64_t now = ag_time_now_ms();
    if ((rc = ag_identity_contact_set(c.id, c.account, channel, address, verified, now, &err))) {
        json_decref(d);
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    json_t *o = json_pack("{s:s, s:b, s:o}", "channel", channel, "verified", verified, "decision", d);
    if (!verified) {
        struct ag_identity_otp_sent s;
        rc = ag_identity_otp_send(c.id, c.account, channel, "contact", NULL, lang ? lang : "en", now,
                                  &s, &err);
        if (rc) {
            json_decref(o);
            ag_api_identity_fail(req, rc, &err, 60000);
            ag_api_idcall_end(&c);
            return;
        }
        ag_notify_wake();
        json_object_set_new(o, "verification", sent_json(&s));
    }
    ag_http_respond_json(req, 200, o);
    ag_api_idcall_end(&c);
}

void ag_api_otp_send(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *channel = ag_api_need_str(req, c.body, "channel", 8), *lang = NULL;
    struct ag_err err;
    int rc;
    if (!channel ||
        ((rc = ag_json_str(c.body, "lang", "lang", 16, false, &lang, &err)) && rc != AG_ENOTFOUND)) {
        if (channel)
            ag_http_respond_error(req, 400, &err);
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_otp_sent s;
    rc = ag_identity_otp_send(c.id, c.account, channel, "verify", NULL, lang ? lang : "en",
                              ag_time_now_ms(), &s, &err);
    if (rc) {
        ag_api_identity_fail(req, rc, &err, 60000);
    } else {
        ag_notify_wake();
        ag_http_respond_json(req, 201, sent_json(&s));
    }
    ag_api_idcall_end(&c);
}

void ag_api_otp_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, true))
        return;
    const char *code = ag_api_need_str(req, c.body, "code", CODE_MAX);
    if (!code) {
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_identity_attempt a = attempt_of(&c, "otp");
    struct ag_ident_otp_rec rec = {0};
    int64_t retry = 0;
    struct ag_err err = {0};
    /* Codes of challenges and recoveries are checked there, not here. */
    struct ag_identity_otp st;
    int rc = ag_store_ident_otp_get(app->store, req->params[1], &rec, &st, &err);
    if (rc == 0 && strcmp(rec.purpose, "verify") && strcmp(rec.purpose, "contact"))
        rc = ag_err_set(&err, AG_ENOTFOUND, "code_not_found", "", "no such one-time code");
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    char purpose[16];
    snprintf(purpose, sizeof purpose, "%s", rec.purpose);
    rc = ag_identity_otp_check(c.id, &a, req->params[1], purpose, NULL, code, ag_time_now_ms(),
                               &rec, &retry, &err);
    bool contact = !strcmp(rec.purpose, "contact");
    ag_api_identity_outcome(app, req, c.account, &c.ctx, rc, &err, retry,
                            contact ? NULL : "mfa.succeeded", "mfa.failed",
                            contact && rc == 0 ? json_pack("{s:s}", "verified_contact", rec.channel)
                                               : NULL);
    ag_api_idcall_end(&c);
}
