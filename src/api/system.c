/* System endpoints: health, Prometheus metrics, the event type table, and
 * API key administration. */
#include "api/api.h"
#include "audit/audit.h"
#include "notify/notify.h"
#include "core/event_types.h"
#include "core/json.h"
#include "core/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_api_metrics_render_routes(struct ag_buf *out);

void ag_api_healthz(struct ag_app *app, struct ag_http_req *req)
{
    int64_t n = ag_store_event_count(app->store);
    if (n < 0) {
        ag_api_error(req, AG_EUNAVAIL, "store_unavailable", "", "the store does not answer");
        return;
    }
    ag_http_respond_json(req, 200,
                         json_pack("{s:s, s:s, s:s, s:I}", "status", "ok", "version", AG_VERSION,
                                   "store", ag_store_backend(app->store), "uptime_s",
                                   (json_int_t)((ag_time_now_ms() - app->started_at) / 1000)));
}

void ag_api_metrics(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_buf b = {0};
    ag_api_metrics_render_routes(&b);
    static const char *const actions[] = {"allow", "review", "challenge", "deny"};
    ag_buf_printf(&b, "# HELP ag_decisions_total Decisions by action.\n"
                      "# TYPE ag_decisions_total counter\n");
    for (int i = 0; i < 4; i++)
        ag_buf_printf(&b, "ag_decisions_total{action=\"%s\"} %llu\n", actions[i],
                      (unsigned long long)atomic_load(&ag_pipeline_decisions[i]));
    ag_buf_printf(&b, "# HELP ag_store_commit_duration_seconds Group commit latency.\n"
                      "# TYPE ag_store_commit_duration_seconds histogram\n");
    ag_metrics_render_histogram(&b, "ag_store_commit_duration_seconds", &ag_store_commit_latency,
                                "");
    ag_buf_printf(&b,
                  "# HELP ag_store_commit_batches_total Commits made by the store writer.\n"
                  "# TYPE ag_store_commit_batches_total counter\n"
                  "ag_store_commit_batches_total %llu\n"
                  "# HELP ag_store_commit_jobs_total Write jobs committed or rolled back.\n"
                  "# TYPE ag_store_commit_jobs_total counter\n"
                  "ag_store_commit_jobs_total %llu\n",
                  (unsigned long long)atomic_load(&ag_store_commit_batches),
                  (unsigned long long)atomic_load(&ag_store_commit_jobs));
    uint64_t hits, misses;
    ag_store_ident_cache_counts(app->store, &hits, &misses);
    ag_buf_printf(&b,
                  "# HELP ag_store_ident_cache_reads_total Identity reads on the event path "
                  "(device trust, account flags) by where they were answered.\n"
                  "# TYPE ag_store_ident_cache_reads_total counter\n"
                  "ag_store_ident_cache_reads_total{from=\"memory\"} %llu\n"
                  "ag_store_ident_cache_reads_total{from=\"store\"} %llu\n",
                  (unsigned long long)hits, (unsigned long long)misses);
    ag_notify_metrics_render(&b);
    if (!b.data) {
        ag_api_error(req, AG_ENOMEM, NULL, "", "out of memory");
        return;
    }
    req->content_type = "text/plain; version=0.0.4; charset=utf-8";
    ag_http_respond_owned(req, 200, b.data, b.len);
}

void ag_api_event_types(struct ag_app *app, struct ag_http_req *req)
{
    static const struct {
        uint32_t flag;
        const char *name;
    } flags[] = {
        {AG_EVT_LOGIN, "login"},           {AG_EVT_LOGIN_OK, "login_success"},
        {AG_EVT_LOGIN_FAIL, "login_failure"}, {AG_EVT_MONEY, "money_movement"},
        {AG_EVT_CREDENTIAL, "credential_change"}, {AG_EVT_ACCOUNT_CHANGE, "account_change"},
        {AG_EVT_RECOVERY, "recovery"},     {AG_EVT_SELLER, "seller"},
        {AG_EVT_AMOUNT, "amount_required"}, {AG_EVT_MFA_FAIL, "mfa_failure"},
        {AG_EVT_REPORT, "report"},
    };
    json_t *items = json_array();
    for (int i = 0; i < ag_event_types_count; i++) {
        json_t *f = json_array();
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
            if (ag_event_types[i].flags & flags[k].flag)
                json_array_append_new(f, json_string(flags[k].name));
        json_array_append_new(items, json_pack("{s:s, s:s, s:o}", "type", ag_event_types[i].name,
                                               "description", ag_event_types[i].help, "flags", f));
    }
    ag_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

static json_t *key_json(const struct ag_apikey_rec *k)
{
    char created[40];
    ag_time_format_ms(k->created_at, created, sizeof created);
    json_t *scopes = json_array();
    char buf[sizeof k->scopes];
    memcpy(buf, k->scopes, sizeof buf);
    for (char *save, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(scopes, json_string(t));
    json_t *o = json_pack("{s:s, s:s, s:o, s:s}", "id", k->id, "name", k->name, "scopes", scopes,
                          "created_at", created);
    if (k->revoked_at) {
        char rev[40];
        ag_time_format_ms(k->revoked_at, rev, sizeof rev);
        json_object_set_new(o, "revoked_at", json_string(rev));
    }
    return o;
}

static int key_add(void *arg, const struct ag_apikey_rec *k)
{
    json_array_append_new(arg, key_json(k));
    return 0;
}

void ag_api_apikeys_list(struct ag_app *app, struct ag_http_req *req)
{
    json_t *items = json_array();
    struct ag_err err;
    if (ag_store_apikey_list(app->store, key_add, items, &err)) {
        json_decref(items);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

void ag_api_apikeys_create(struct ag_app *app, struct ag_http_req *req)
{
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct ag_err err;
    const char *name;
    json_t *scopes = json_object_get(body, "scopes");
    if (ag_json_str(body, "name", "name", 128, true, &name, &err)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return;
    }
    char joined[512] = "";
    size_t used = 0;
    size_t i;
    json_t *s;
    if (!json_is_array(scopes) || json_array_size(scopes) == 0) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_field", "scopes",
                     "scopes must be a non-empty array of scope names");
        return;
    }
    json_array_foreach(scopes, i, s) {
        const char *v = json_string_value(s);
        if (!v || used + strlen(v) + 2 > sizeof joined) {
            json_decref(body);
            ag_api_error(req, AG_EINVAL, "invalid_field", "scopes", "scopes must be strings");
            return;
        }
        used += (size_t)snprintf(joined + used, sizeof joined - used, "%s%s", used ? " " : "", v);
    }
    char token[128];
    struct ag_apikey_rec k;
    int rc = ag_api_key_create(app->store, app->apikey_key, name, joined, token, sizeof token, &k,
                               &err);
    json_decref(body);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *o = key_json(&k);
    char target[64];
    snprintf(target, sizeof target, "apikey:%s", k.id);
    json_t *details = json_pack("{s:s, s:s}", "name", k.name, "scopes", k.scopes);
    ag_audit_record(app->store, req->principal, "apikey.create", target, details, NULL);
    json_decref(details);
    json_object_set_new(o, "key", json_string(token));
    sodium_memzero(token, sizeof token);
    ag_http_respond_json(req, 201, o);
}

void ag_api_apikeys_revoke(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_err err;
    if (ag_api_key_revoke(app->store, req->params[0], &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    char target[300];
    snprintf(target, sizeof target, "apikey:%s", req->params[0]);
    ag_audit_record(app->store, req->principal, "apikey.revoke", target, NULL, NULL);
    struct ag_apikey_rec k;
    if (ag_store_apikey_get(app->store, req->params[0], &k, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, key_json(&k));
}
