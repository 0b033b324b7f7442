/* /v1/accounts/{id}: state, freeze and unfreeze. */
#include "api/api.h"
#include "api/notify.h"
#include "core/json.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>

static json_t *account_json(const struct ag_account_rec *a, int64_t now)
{
    char created[40], updated[40];
    ag_time_format_ms(a->created_at, created, sizeof created);
    ag_time_format_ms(a->updated_at, updated, sizeof updated);
    bool frozen = !strcmp(a->state, "frozen") && (a->frozen_until == 0 || now < a->frozen_until);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", a->id, "role", a->role, "state",
                          frozen ? "frozen" : "active", "locale", a->locale, "created_at", created,
                          "updated_at", updated);
    if (frozen) {
        json_t *f = json_pack("{s:s, s:s}", "reason", a->frozen_reason, "by", a->frozen_by);
        if (a->frozen_until) {
            char until[40];
            ag_time_format_ms(a->frozen_until, until, sizeof until);
            json_object_set_new(f, "until", json_string(until));
        }
        json_object_set_new(o, "freeze", f);
    }
    return o;
}

static int log_add(void *arg, const struct ag_account_log_rec *l)
{
    char at[40];
    ag_time_format_ms(l->at, at, sizeof at);
    json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "action", l->action, "reason", l->reason,
                          "actor", l->actor, "at", at);
    if (l->until) {
        char until[40];
        ag_time_format_ms(l->until, until, sizeof until);
        json_object_set_new(e, "until", json_string(until));
    }
    json_array_append_new(arg, e);
    return 0;
}

void ag_api_account_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_account_rec a;
    struct ag_err err;
    if (ag_store_account_get(app->store, req->params[0], &a, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *o = account_json(&a, ag_time_now_ms());
    json_t *log = json_array();
    ag_store_account_log_list(app->store, a.id, log_add, log, NULL);
    json_object_set_new(o, "history", log);
    ag_http_respond_json(req, 200, o);
}

static void change(struct ag_app *app, struct ag_http_req *req, bool freeze)
{
    json_t *body = req->body.len ? ag_api_body_object(app, req) : json_object();
    if (!body)
        return;
    struct ag_err err;
    const char *reason = NULL, *actor = NULL, *until_s = NULL;
    int64_t until = 0;
    int rc;
    if (((rc = ag_json_str(body, "reason", "reason", 255, freeze, &reason, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "actor", "actor", 128, false, &actor, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "until", "until", 64, false, &until_s, &err)) &&
         rc != AG_ENOTFOUND)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return;
    }
    if (until_s && (ag_time_parse(until_s, &until) || until <= ag_time_now_ms())) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_timestamp", "until",
                     "until must be an RFC 3339 timestamp in the future");
        return;
    }
    struct ag_account_rec a;
    /* The recorded actor is who called; a free-text actor (an agent's name)
     * is kept beside it, never instead of it. */
    char who[300];
    if (actor)
        snprintf(who, sizeof who, "%s for %s", req->principal, actor);
    else
        snprintf(who, sizeof who, "%s", req->principal);
    rc = ag_pipeline_account_freeze(app->pipeline, req->params[0], freeze, reason ? reason : "",
                                    who, until, &a, &err);
    json_decref(body);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    if (freeze) /* tell the owner and the platform (src/api/notify.c) */
        ag_api_notify_account_frozen(app, a.id, a.frozen_reason, NULL, NULL);
    ag_http_respond_json(req, 200, account_json(&a, ag_time_now_ms()));
}

void ag_api_account_freeze(struct ag_app *app, struct ag_http_req *req) { change(app, req, true); }
void ag_api_account_unfreeze(struct ag_app *app, struct ag_http_req *req)
{
    change(app, req, false);
}
