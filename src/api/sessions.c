/* Devices and sessions: /v1/accounts/{id}/devices*, /sessions*, and
 * POST /v1/sessions/verify. Tokens are shown once at creation and stored
 * only as keyed hashes; forgetting a device revokes its sessions. */
#include "api/identity.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "identity/accounts.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void time_json(json_t *o, const char *key, int64_t ms)
{
    char t[40];
    ag_time_format_ms(ms, t, sizeof t);
    json_object_set_new(o, key, ms ? json_string(t) : json_null());
}

static int device_add(void *arg, const struct ag_ident_device_rec *d)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "device_id", d->device_id, "ip", d->ip,
                          "country", d->country, "user_agent", d->user_agent, "trusted", d->trusted);
    time_json(o, "first_seen", d->first_seen);
    time_json(o, "last_seen", d->last_seen);
    time_json(o, "trusted_at", d->trusted_at);
    json_array_append_new(arg, o);
    return 0;
}

void ag_api_devices_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    json_t *items = json_array();
    struct ag_err err;
    if (ag_store_ident_device_list(app->store, c.account, device_add, items, &err)) {
        json_decref(items);
        ag_http_respond_error(req, 0, &err);
    } else {
        ag_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
    }
    ag_api_idcall_end(&c);
}

struct device_job {
    const char *account_id, *device_id;
    int64_t now;
    int revoked;
};

static int device_forget_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct device_job *j = arg;
    int rc = ag_store_ident_device_delete(tx, j->account_id, j->device_id, err);
    return rc ? rc
              : ag_store_ident_session_revoke(tx, j->account_id, NULL, j->device_id,
                                              "device_forgotten", j->now, &j->revoked, err);
}

void ag_api_device_delete(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    struct device_job j = {c.account, req->params[1], ag_time_now_ms(), 0};
    struct ag_err err;
    if (ag_store_exec(app->store, device_forget_run, &j, &err))
        ag_http_respond_error(req, 0, &err);
    else
        ag_http_respond_json(req, 200,
                             json_pack("{s:b, s:i}", "forgotten", 1, "revoked_sessions", j.revoked));
    ag_api_idcall_end(&c);
}

static json_t *session_json(const struct ag_ident_session_rec *r, int64_t now)
{
    const char *state = r->revoked_at ? "revoked" : now >= r->expires_at ? "expired" : "live";
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "session_id", r->id,
                          "account_id", r->account_id, "device_id", r->device_id, "ip", r->ip,
                          "user_agent", r->user_agent, "mfa", r->mfa, "state", state);
    time_json(o, "created_at", r->created_at);
    time_json(o, "expires_at", r->expires_at);
    time_json(o, "revoked_at", r->revoked_at);
    if (r->revoked_at)
        json_object_set_new(o, "revoke_reason", json_string(r->revoke_reason));
    return o;
}

void ag_api_sessions_create(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    int64_t ttl_s = 0;
    bool mfa = false;
    struct ag_err err;
    int rc;
    if (((rc = ag_json_int(c.body, "ttl_s", "ttl_s", 60, 366LL * 86400, false, &ttl_s, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_bool(c.body, "mfa", "mfa", false, &mfa, &err)) && rc != AG_ENOTFOUND)) {
        ag_http_respond_error(req, 400, &err);
        ag_api_idcall_end(&c);
        return;
    }
    struct ag_ident_session_rec r = {0};
    snprintf(r.account_id, sizeof r.account_id, "%s", c.account);
    snprintf(r.device_id, sizeof r.device_id, "%s", c.ctx.device_id);
    snprintf(r.ip, sizeof r.ip, "%s", c.ctx.ip);
    snprintf(r.user_agent, sizeof r.user_agent, "%.255s", c.ctx.user_agent);
    r.mfa = mfa;
    char token[AG_IDENTITY_TOKEN_MAX];
    int64_t now = ag_time_now_ms();
    if ((rc = ag_identity_session_create(c.id, &r, ttl_s * 1000, now, token, &err))) {
        ag_http_respond_error(req, 0, &err);
        ag_api_idcall_end(&c);
        return;
    }
    json_t *o = session_json(&r, now);
    json_object_set_new(o, "token", json_string(token));
    sodium_memzero(token, sizeof token);
    ag_http_add_header(req, "Cache-Control", "no-store");
    ag_http_respond_json(req, 201, o);
    ag_api_idcall_end(&c);
}

struct list_arg {
    json_t *items;
    int64_t now;
};

static int session_add(void *arg, const struct ag_ident_session_rec *r)
{
    struct list_arg *l = arg;
    json_array_append_new(l->items, session_json(r, l->now));
    return 0;
}

void ag_api_sessions_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    const char *all = ag_http_query(req, "all");
    struct list_arg l = {json_array(), ag_time_now_ms()};
    struct ag_err err;
    if (ag_store_ident_session_list(app->store, c.account, !(all && !strcmp(all, "true")), l.now,
                                    session_add, &l, &err)) {
        json_decref(l.items);
        ag_http_respond_error(req, 0, &err);
    } else {
        ag_http_respond_json(req, 200, json_pack("{s:o}", "items", l.items));
    }
    ag_api_idcall_end(&c);
}

struct revoke_job {
    const char *account_id, *keep, *session_id;
    int64_t now;
    int revoked;
};

static int revoke_all_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct revoke_job *j = arg;
    return ag_identity_sessions_revoke_all(tx, j->account_id, j->keep, j->now, &j->revoked, err);
}

void ag_api_sessions_revoke_all(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    const char *keep = NULL;
    struct ag_err err;
    int rc = ag_json_str(c.body, "keep_session_id", "keep_session_id", AG_ID_MAX, false, &keep, &err);
    if (rc && rc != AG_ENOTFOUND) {
        ag_http_respond_error(req, 400, &err);
        ag_api_idcall_end(&c);
        return;
    }
    struct revoke_job j = {c.account, keep, NULL, ag_time_now_ms(), 0};
    if (ag_store_exec(app->store, revoke_all_run, &j, &err))
        ag_http_respond_error(req, 0, &err);
    else
        ag_http_respond_json(req, 200, json_pack("{s:i}", "revoked", j.revoked));
    ag_api_idcall_end(&c);
}

static int revoke_one_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct revoke_job *j = arg;
    return ag_store_ident_session_revoke_one(tx, j->account_id, j->session_id, "revoked", j->now,
                                             err);
}

void ag_api_session_delete(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_api_idcall c;
    if (!ag_api_idcall_begin(app, req, &c, false))
        return;
    struct revoke_job j = {c.account, NULL, req->params[1], ag_time_now_ms(), 0};
    struct ag_err err;
    if (ag_store_exec(app->store, revoke_one_run, &j, &err))
        ag_http_respond_error(req, 0, &err);
    else
        ag_http_respond_json(req, 200, json_pack("{s:b}", "revoked", 1));
    ag_api_idcall_end(&c);
}

void ag_api_sessions_verify(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_identity *id = ag_api_identity(app);
    if (!id) {
        ag_api_error(req, AG_EUNAVAIL, "identity_unavailable", "", "identity is not configured");
        return;
    }
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    const char *token = ag_api_need_str(req, body, "token", 256);
    if (token) {
        struct ag_ident_session_rec r;
        struct ag_err err;
        int64_t now = ag_time_now_ms();
        if (ag_identity_session_check(id, token, now, &r, &err) == 0) {
            json_t *o = session_json(&r, now);
            json_object_set_new(o, "valid", json_true());
            ag_http_respond_json(req, 200, o);
        } else {
            ag_http_respond_json(req, 200, json_pack("{s:b, s:s}", "valid", 0, "reason", err.slug));
        }
    }
    json_decref(body);
}
