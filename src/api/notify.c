/* Notifications over the API and in the pipeline (api/notify.h):
 *   - the "notify" hook: owner alerts queued with the event, workers woken
 *     after the commit;
 *   - PUT/GET /v1/accounts/{id}/contact: where an account's alerts go;
 *   - GET /v1/notifications (?state=dead...), GET .../{id}, POST .../{id}/retry;
 *   - POST/GET /v1/webhooks, DELETE /v1/webhooks/{id};
 *   - GET/POST /v1/wasnt-me/{token}: the owner's "this wasn't me" link. */
#include "api/notify.h"
#include "cases/cases.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "identity/accounts.h"
#include "notify/alerts.h"
#include "notify/link.h"
#include "notify/notify.h"
#include "notify/template.h"
#include "notify/webhook.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct notify_hook {
    struct ag_notifier *notifier;
    const struct ag_config *cfg;
    struct ag_store *store;
    uint8_t link_key[32];    /* "this wasn't me" tokens */
    uint8_t webhook_key[32]; /* seals subscription secrets */
};

static struct notify_hook *hook_of(struct ag_app *app)
{
    return app->pipeline ? ag_pipeline_hook_state(app->pipeline, "notify") : NULL;
}

/* ---- the hook ---- */

int ag_api_notify_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                            struct ag_store *store, void **state, struct ag_err *err)
{
    struct notify_hook *h = calloc(1, sizeof *h);
    if (!h)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    h->cfg = cfg;
    h->store = store;
    uint8_t secret[AG_SECRET_LEN];
    struct ag_err e2;
    if (ag_secret_load(cfg->secret_key_file, true, secret, &e2)) {
        /* A command without a data directory (a replay into :memory:):
         * links made now will not verify elsewhere, which is all right. */
        ag_log(AG_LOG_WARN, "notify: no server secret; alert links use a temporary key", "error",
               e2.msg, NULL);
        randombytes_buf(secret, sizeof secret);
    }
    ag_secret_derive(secret, "wasnt-me-link", h->link_key);
    ag_notify_keys_derive(secret, h->webhook_key, NULL);
    int rc = ag_notify_start(cfg, store, secret, &h->notifier, err);
    sodium_memzero(secret, sizeof secret);
    if (rc) {
        free(h);
        return rc;
    }
    *state = h;
    return 0;
}

void ag_api_notify_hook_fini(void *state)
{
    struct notify_hook *h = state;
    if (!h)
        return;
    ag_notify_stop(h->notifier);
    sodium_memzero(h, sizeof *h);
    free(h);
}

/* <public_url>/v1/wasnt-me/<token> into <out>, or "" if no link fits. */
static void make_link(struct notify_hook *h, const char *account_id, const char *event_id,
                      char *out, size_t len, int64_t *expires)
{
    char token[AG_NOTIFY_LINK_TOKEN_MAX];
    *expires = ag_time_now_ms() + h->cfg->alert_link_ttl_s * 1000;
    out[0] = '\0';
    if (ag_notify_link_make(h->link_key, account_id, event_id, *expires, token, NULL))
        return;
    const char *base = h->cfg->public_url ? h->cfg->public_url : "";
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    snprintf(out, len, "%.*s/v1/wasnt-me/%s", (int)bl, base, token);
}

/* The write job of one alert: a message the outbox refuses (it should not
 * happen) is logged and skipped rather than failing the event with it. */
static int alert_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    const struct ag_notify_msg *m = arg;
    int rc = ag_notify_enqueue(tx, m, err);
    if (rc == AG_EINVAL) {
        ag_log(AG_LOG_WARN, "alert not queued", "kind", m->kind, "event_id", m->event_id,
               "error", err ? err->msg : "", NULL);
        return 0;
    }
    return rc < 0 ? rc : 0;
}

/* Queue one alert on <channel> in the event's transaction. */
static int queue(struct ag_pipeline_event *pe, enum ag_notify_channel channel, const char *kind,
                 const char *account_id, const char *event_id, int64_t event_at,
                 const char *params)
{
    char key[AG_NOTIFY_KEY_MAX + 1];
    snprintf(key, sizeof key, "alert:%.128s:%.60s", event_id, kind);
    struct ag_notify_msg m = {.channel = channel, .kind = kind, .account_id = account_id,
                              .template_id = kind, .params_json = params,
                              .idempotency_key = key, .event_id = event_id,
                              .event_at_ms = event_at};
    struct ag_notify_msg *copy = ag_notify_msg_dup(&m);
    if (!copy)
        return AG_ENOMEM;
    return ag_pipeline_event_write(pe, alert_job, copy, ag_notify_msg_free);
}

int ag_api_notify_hook_act(void *state, struct ag_pipeline_event *pe)
{
    struct notify_hook *h = state;
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    struct ag_decision *d = ag_pipeline_event_decision(pe);
    const char *codes[AG_DECISION_MAX_REASONS];
    for (int i = 0; i < d->nreasons; i++)
        codes[i] = d->reasons[i].code;
    struct ag_notify_alert alerts[AG_NOTIFY_ALERTS_MAX];
    int n = ag_notify_alerts_for_event(ev->type->name, ev->type->flags, (int)d->action, codes,
                                       d->nreasons, alerts);
    if (n == 0)
        return 0;
    char link[512], when[40], detail[200] = "";
    int64_t expires;
    make_link(h, ev->account_id, ev->id, link, sizeof link, &expires);
    ag_time_format(ev->occurred_at_ms, when, sizeof when);
    size_t dl = 0;
    json_t *reasons = json_array();
    for (int i = 0; i < d->nreasons; i++) {
        json_array_append_new(reasons, json_string(d->reasons[i].code));
        if (!strcmp(d->reasons[i].code, "account_state_only") || !d->reasons[i].detail[0] ||
            dl >= sizeof detail - 1)
            continue;
        dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "%s%s", dl ? "; " : "",
                               d->reasons[i].detail);
    }
    if (dl >= sizeof detail)
        dl = sizeof detail - 1;
    json_t *kinds = json_array();
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:b, s:O}", "event_type", ev->type->name,
                              "when", when, "action", ag_action_name(d->action), "detail",
                              detail, "held", alerts[i].held, "reasons", reasons);
        if (!p) {
            rc = AG_ENOMEM;
            break;
        }
        if (ev->ip[0])
            json_object_set_new(p, "ip", json_string(ev->ip));
        if (ev->user_agent[0]) {
            char ua[121];
            snprintf(ua, sizeof ua, "%.120s", ev->user_agent);
            json_t *s = json_string(ua); /* NULL if cut inside a UTF-8 sequence */
            json_object_set_new(p, "device", s ? s : json_string(""));
        }
        if (link[0]) {
            char exp[40];
            ag_time_format(expires, exp, sizeof exp);
            json_object_set_new(p, "link", json_string(link));
            json_object_set_new(p, "link_expires_at", json_string(exp));
        }
        char *params = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        if (!params) {
            rc = AG_ENOMEM;
            break;
        }
        int64_t at = ev->received_at_ms;
        rc = queue(pe, AG_NOTIFY_WEBHOOK, alerts[i].kind, ev->account_id, ev->id, at, params);
        if (!rc)
            rc = queue(pe, AG_NOTIFY_EMAIL, alerts[i].kind, ev->account_id, ev->id, at, params);
        if (!rc && alerts[i].urgent)
            rc = queue(pe, AG_NOTIFY_SMS, alerts[i].kind, ev->account_id, ev->id, at, params);
        free(params);
        json_array_append_new(kinds, json_string(alerts[i].kind));
    }
    json_decref(reasons);
    if (!rc)
        rc = ag_pipeline_event_after(pe, ag_notify_wake_after, NULL);
    if (rc) {
        json_decref(kinds);
        return rc;
    }
    ag_pipeline_event_decision_extra(pe, "alerts", kinds);
    return 0;
}

/* ---- freezes ---- */

int ag_api_notify_account_frozen(struct ag_app *app, const char *account_id, const char *reason,
                                 const char *cause_id, struct ag_err *err)
{
    struct notify_hook *h = hook_of(app);
    char link[512] = "", when[40], key[AG_NOTIFY_KEY_MAX + 1], rnd[32];
    int64_t expires = 0, now = ag_time_now_ms();
    if (!cause_id) {
        ag_id_random(rnd, sizeof rnd, "f_", 20);
        cause_id = rnd;
    }
    if (h)
        make_link(h, account_id, cause_id, link, sizeof link, &expires);
    ag_time_format(now, when, sizeof when);
    json_t *p = json_pack("{s:s, s:s, s:s}", "when", when, "detail", reason ? reason : "",
                          "reason", reason ? reason : "");
    if (!p)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    if (link[0]) {
        char exp[40];
        ag_time_format(expires, exp, sizeof exp);
        json_object_set_new(p, "link", json_string(link));
        json_object_set_new(p, "link_expires_at", json_string(exp));
    }
    char *params = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!params)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    snprintf(key, sizeof key, "frozen:%.128s:%.60s", account_id, cause_id);
    int total = 0, rc = 0;
    static const enum ag_notify_channel chans[] = {AG_NOTIFY_WEBHOOK, AG_NOTIFY_EMAIL,
                                                   AG_NOTIFY_SMS};
    for (size_t i = 0; i < AG_ARRAY_LEN(chans); i++) {
        struct ag_notify_msg m = {.channel = chans[i], .kind = "alert.account_frozen",
                                  .account_id = account_id,
                                  .template_id = "alert.account_frozen", .params_json = params,
                                  .idempotency_key = key, .event_at_ms = now};
        rc = ag_notify_send(app->store, &m, err);
        if (rc < 0)
            break;
        total += rc;
    }
    free(params);
    return rc < 0 ? rc : total;
}

/* ---- contacts ---- */

static bool locale_valid(const char *s)
{
    size_t n = strlen(s), i = 0;
    if (n < 2 || n > 15)
        return false;
    while (i < n && isalpha((unsigned char)s[i]))
        i++;
    if (i < 2 || i > 3)
        return false;
    if (i == n)
        return true;
    if (s[i] != '-' && s[i] != '_')
        return false;
    for (i++; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

static json_t *contact_json(const struct ag_notify_contact_rec *c)
{
    char upd[40];
    ag_time_format_ms(c->updated_at, upd, sizeof upd);
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:s}", "account_id", c->account_id, "email",
                     c->email[0] ? c->email : NULL, "phone", c->phone[0] ? c->phone : NULL,
                     "locale", c->locale[0] ? c->locale : NULL, "updated_at", upd);
}

static int contact_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_notify_contact_put(tx, arg, err);
}

void ag_api_contact_put(struct ag_app *app, struct ag_http_req *req)
{
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct ag_err err;
    const char *email = NULL, *phone = NULL, *locale = NULL;
    int rc;
    if (((rc = ag_json_str(body, "email", "email", 320, false, &email, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "phone", "phone", 32, false, &phone, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "locale", "locale", 15, false, &locale, &err)) &&
         rc != AG_ENOTFOUND)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return;
    }
    const char *bad = NULL, *msg = NULL;
    if (email && *email && !ag_notify_email_valid(email))
        bad = "email", msg = "email must be an email address";
    else if (phone && *phone && !ag_notify_phone_valid(phone))
        bad = "phone", msg = "phone must be in E.164 form: + and 6 to 15 digits";
    else if (locale && *locale && !locale_valid(locale))
        bad = "locale", msg = "locale must be a language tag such as en, pt-BR";
    if (bad) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_field", bad, "%s", msg);
        return;
    }
    struct ag_notify_contact_rec c = {.updated_at = ag_time_now_ms()};
    snprintf(c.account_id, sizeof c.account_id, "%.128s", req->params[0]);
    snprintf(c.email, sizeof c.email, "%s", email ? email : "");
    snprintf(c.phone, sizeof c.phone, "%s", phone ? phone : "");
    snprintf(c.locale, sizeof c.locale, "%s", locale ? locale : "");
    json_decref(body);
    if (strlen(req->params[0]) > AG_ID_MAX) {
        ag_api_error(req, AG_EINVAL, "invalid_field", "id", "account id is at most %d bytes",
                     AG_ID_MAX);
        return;
    }
    if (ag_store_exec(app->store, contact_run, &c, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, contact_json(&c));
}

void ag_api_contact_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_notify_contact_rec c;
    struct ag_err err;
    if (ag_store_notify_contact_get(app->store, req->params[0], &c, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, contact_json(&c));
}

/* ---- the outbox ---- */

static json_t *notification_json(const struct ag_notify_rec *r)
{
    char created[40], updated[40];
    ag_time_format_ms(r->created_at, created, sizeof created);
    ag_time_format_ms(r->updated_at, updated, sizeof updated);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id", r->id,
                          "channel", r->channel, "kind", r->kind, "account_id", r->account_id,
                          "destination", r->destination, "locale", r->locale, "template_id",
                          r->template_id, "state", r->state, "attempts", r->attempts,
                          "created_at", created, "updated_at", updated);
    if (!o)
        return json_object();
    if (r->event_id[0])
        json_object_set_new(o, "event_id", json_string(r->event_id));
    if (r->last_error[0])
        json_object_set_new(o, "last_error", json_string(r->last_error));
    char t[40];
    if (!strcmp(r->state, "pending")) {
        ag_time_format_ms(r->next_at, t, sizeof t);
        json_object_set_new(o, "next_attempt_at", json_string(t));
    }
    if (r->delivered_at) {
        ag_time_format_ms(r->delivered_at, t, sizeof t);
        json_object_set_new(o, "delivered_at", json_string(t));
    }
    if (r->sensitive) {
        json_object_set_new(o, "params", json_null()); /* never shown */
    } else {
        json_t *p = r->params ? json_loads(r->params, 0, NULL) : NULL;
        json_object_set_new(o, "params", p ? p : json_null());
    }
    return o;
}

struct page {
    json_t *items;
    int n, limit;
    int64_t last_seq;
};

static int page_add(void *arg, const struct ag_notify_rec *r)
{
    struct page *p = arg;
    if (p->n++ >= p->limit)
        return 1;
    p->last_seq = r->seq;
    json_array_append_new(p->items, notification_json(r));
    return 0;
}

void ag_api_notifications_list(struct ag_app *app, struct ag_http_req *req)
{
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 50, 500, &limit, &cursor))
        return;
    const char *state = ag_http_query(req, "state"), *account = ag_http_query(req, "account_id"),
               *kind = ag_http_query(req, "kind");
    static const char *const states[] = {"pending", "sending", "delivered", "dead"};
    bool ok = !state;
    for (size_t i = 0; state && i < AG_ARRAY_LEN(states); i++)
        ok |= !strcmp(state, states[i]);
    if (!ok) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "state",
                     "state must be pending, sending, delivered or dead");
        return;
    }
    struct page p = {.items = json_array(), .limit = limit};
    struct ag_err err;
    if (ag_store_notify_list(app->store, state, account, kind, cursor, limit + 1, page_add, &p,
                             &err)) {
        json_decref(p.items);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *next = json_null();
    if (p.n > limit) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)p.last_seq);
        next = json_string(buf);
    }
    ag_http_respond_json(req, 200, json_pack("{s:o, s:o}", "items", p.items, "next_cursor", next));
}

void ag_api_notifications_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_notify_rec r;
    struct ag_err err;
    if (ag_store_notify_get(app->store, req->params[0], &r, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *o = notification_json(&r);
    ag_notify_rec_free(&r);
    ag_http_respond_json(req, 200, o);
}

struct retry_job {
    const char *id;
    int64_t now;
};

static int retry_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct retry_job *j = arg;
    return ag_store_notify_retry(tx, j->id, j->now, err);
}

void ag_api_notifications_retry(struct ag_app *app, struct ag_http_req *req)
{
    struct retry_job j = {.id = req->params[0], .now = ag_time_now_ms()};
    struct ag_err err;
    if (ag_store_exec(app->store, retry_run, &j, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_notify_wake();
    ag_log_req(AG_LOG_INFO, req->request_id, "notification re-driven", "id", j.id, "by",
               req->principal, NULL);
    struct ag_notify_rec r;
    if (ag_store_notify_get(app->store, j.id, &r, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *o = notification_json(&r);
    ag_notify_rec_free(&r);
    ag_http_respond_json(req, 202, o);
}

/* ---- webhook subscriptions ---- */

static json_t *webhook_json(const struct ag_notify_webhook_rec *w)
{
    char created[40];
    ag_time_format_ms(w->created_at, created, sizeof created);
    json_t *kinds = json_array();
    char buf[sizeof w->kinds];
    memcpy(buf, w->kinds, sizeof buf);
    for (char *save, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(kinds, json_string(t));
    return json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", w->id, "url", w->url, "kinds", kinds,
                     "description", w->description, "created_at", created);
}

static int webhook_add(void *arg, const struct ag_notify_webhook_rec *w)
{
    json_array_append_new(arg, webhook_json(w));
    return 0;
}

void ag_api_webhooks_list(struct ag_app *app, struct ag_http_req *req)
{
    json_t *items = json_array();
    struct ag_err err;
    if (ag_store_notify_webhook_list(app->store, webhook_add, items, &err)) {
        json_decref(items);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

static bool url_valid(const char *u)
{
    if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
        return false;
    const char *host = u + (u[4] == 's' ? 8 : 7);
    if (!*host || *host == '/')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool kind_pattern_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > AG_NOTIFY_KIND_MAX)
        return false;
    if (!strcmp(k, "*"))
        return true;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (c == '*' && !(i == n - 1 && i > 0 && k[i - 1] == '.'))
            return false;
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_' || c == '.' ||
              c == '-' || c == '*'))
            return false;
    }
    return true;
}

static int webhook_put_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_notify_webhook_put(tx, arg, err);
}

void ag_api_webhooks_create(struct ag_app *app, struct ag_http_req *req)
{
    struct notify_hook *h = hook_of(app);
    if (!h) {
        ag_api_error(req, AG_EUNAVAIL, "unavailable", "", "notifications are not running");
        return;
    }
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct ag_err err;
    const char *url = NULL, *desc = NULL;
    int rc;
    if ((rc = ag_json_str(body, "url", "url", 1024, true, &url, &err)) ||
        ((rc = ag_json_str(body, "description", "description", 256, false, &desc, &err)) &&
         rc != AG_ENOTFOUND)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return;
    }
    if (!url_valid(url)) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_field", "url",
                     "url must be an http:// or https:// URL");
        return;
    }
    struct ag_notify_webhook_rec w = {.created_at = ag_time_now_ms()};
    json_t *kinds = json_object_get(body, "kinds");
    size_t used = 0, i;
    json_t *k;
    if (!json_is_array(kinds) || json_array_size(kinds) == 0 || json_array_size(kinds) > 32) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_field", "kinds",
                     "kinds must be an array of 1 to 32 kinds: \"alert.*\", "
                     "\"alert.password_changed\", \"*\"");
        return;
    }
    json_array_foreach(kinds, i, k) {
        const char *v = json_string_value(k);
        if (!v || !kind_pattern_valid(v) || used + strlen(v) + 2 > sizeof w.kinds) {
            json_decref(body);
            ag_api_error(req, AG_EINVAL, "invalid_field", "kinds",
                         "each kind is a dotted name of lower-case letters, digits and _, "
                         "optionally ending in .*, or *");
            return;
        }
        used += (size_t)snprintf(w.kinds + used, sizeof w.kinds - used, "%s%s", used ? " " : "",
                                 v);
    }
    ag_id_random(w.id, sizeof w.id, "wh_", 20);
    snprintf(w.url, sizeof w.url, "%s", url);
    snprintf(w.description, sizeof w.description, "%s", desc ? desc : "");
    json_decref(body);
    uint8_t key[AG_NOTIFY_WEBHOOK_KEY_LEN];
    char secret[AG_NOTIFY_WEBHOOK_SECRET_TEXT];
    ag_notify_webhook_secret_new(key, secret, sizeof secret);
    rc = ag_notify_seal(h->webhook_key, key, sizeof key, w.secret, &w.secret_len);
    sodium_memzero(key, sizeof key);
    if (!rc)
        rc = ag_store_exec(app->store, webhook_put_run, &w, &err);
    else
        ag_err_set(&err, AG_EINTERNAL, NULL, "", "cannot seal the secret");
    if (rc) {
        sodium_memzero(secret, sizeof secret);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *o = webhook_json(&w);
    json_object_set_new(o, "secret", json_string(secret)); /* shown once */
    sodium_memzero(secret, sizeof secret);
    ag_http_respond_json(req, 201, o);
}

struct wh_delete_job {
    const char *id;
    int64_t at;
};

static int webhook_delete_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct wh_delete_job *j = arg;
    return ag_store_notify_webhook_delete(tx, j->id, j->at, err);
}

void ag_api_webhooks_delete(struct ag_app *app, struct ag_http_req *req)
{
    struct wh_delete_job j = {.id = req->params[0], .at = ag_time_now_ms()};
    struct ag_err err;
    if (ag_store_exec(app->store, webhook_delete_run, &j, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_bytes(req, 204, "application/json", "", 0);
}

/* ---- "this wasn't me" ---- */

/* The fallback: freeze the account and sign it out everywhere. */
struct revoke_job {
    const char *account_id;
    int revoked;
};

static int revoke_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct revoke_job *j = arg;
    return ag_identity_sessions_revoke_all(tx, j->account_id, NULL, ag_time_now_ms(), &j->revoked,
                                           err);
}

static int secure_freeze(struct ag_app *app, const char *account_id, const char *event_id,
                         const char *reason, char *outcome, size_t outcome_len,
                         struct ag_err *err)
{
    int rc = ag_pipeline_account_freeze(app->pipeline, account_id, true, reason,
                                        "customer:wasnt-me-link", 0, NULL, err);
    if (rc)
        return rc;
    struct revoke_job j = {.account_id = account_id};
    struct ag_err e2;
    if (ag_store_exec(app->store, revoke_run, &j, &e2))
        ag_log(AG_LOG_WARN, "wasnt-me: sessions not revoked", "account_id", account_id, "error",
               e2.msg, NULL);
    snprintf(outcome, outcome_len, "frozen");
    ag_api_notify_account_frozen(app, account_id, reason, event_id, NULL);
    return 0;
}

/* The playbook when src/cases is there; the freeze otherwise. */
static int secure_account(struct ag_app *app, const char *account_id, const char *event_id,
                          const char *reason, char *outcome, size_t outcome_len,
                          struct ag_err *err)
{
    if (ag_pipeline_hook_state(app->pipeline, "cases")) {
        struct ag_cases_secure_opts o = {.actor = "customer:wasnt-me-link",
                                         .source = "customer_link", .reason = reason,
                                         .event_id = event_id[0] ? event_id : NULL};
        json_t *report = NULL;
        int rc = ag_cases_secure_account(app->pipeline, account_id, &o, &report, err);
        if (rc == 0) {
            const char *case_id = json_string_value(json_object_get(report, "case_id"));
            snprintf(outcome, outcome_len, "playbook%s%s", case_id ? ":" : "",
                     case_id ? case_id : "");
            json_decref(report);
            return 0;
        }
        json_decref(report);
        ag_log(AG_LOG_WARN, "wasnt-me: playbook failed, freezing instead", "account_id",
               account_id, "error", err ? err->msg : "", NULL);
    }
    return secure_freeze(app, account_id, event_id, reason, outcome, outcome_len, err);
}

ag_api_secure_account_fn ag_api_wasnt_me_secure = secure_account;

/* The language of the pages: the account's (its contact, else the account
 * record) when the link names one, else the browser's Accept-Language. */
static void page_locale(struct ag_app *app, struct ag_http_req *req, const char *account_id,
                        char *out, size_t len)
{
    out[0] = '\0';
    struct ag_notify_contact_rec c;
    struct ag_account_rec a;
    if (account_id && *account_id) {
        if (ag_store_notify_contact_get(app->store, account_id, &c, NULL) == 0 && c.locale[0])
            snprintf(out, len, "%s", c.locale);
        else if (ag_store_account_get(app->store, account_id, &a, NULL) == 0 && a.locale[0])
            snprintf(out, len, "%s", a.locale);
    }
    const char *al = ag_http_header(req, "Accept-Language");
    if (!out[0] && al)
        snprintf(out, len, "%.15s", al); /* the first tag decides */
}

static void page(struct ag_http_req *req, int status, const char *locale,
                 enum ag_notify_page_text title, enum ag_notify_page_text text,
                 const char *form_action)
{
    const char *lang;
    const char *t = ag_notify_page_text(locale, title, &lang);
    struct ag_buf b = {0};
    ag_buf_printf(&b,
                  "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<meta name=\"robots\" content=\"noindex\"><title>%s</title>"
                  "<style>body{font-family:sans-serif;max-width:34em;margin:3em auto;"
                  "padding:0 1em}button{font-size:1.1em;padding:.6em 1.2em}</style>"
                  "</head><body>\n<h1>%s</h1>\n<p>%s</p>\n",
                  lang, t, t, ag_notify_page_text(locale, text, NULL));
    if (form_action)
        ag_buf_printf(&b,
                      "<form method=\"post\" action=\"%s\"><button type=\"submit\">%s"
                      "</button></form>\n<p>%s</p>\n",
                      form_action, ag_notify_page_text(locale, AG_NOTIFY_PAGE_BUTTON, NULL),
                      ag_notify_page_text(locale, AG_NOTIFY_PAGE_WAS_ME, NULL));
    ag_buf_printf(&b, "</body></html>\n");
    if (!b.data) {
        ag_api_error(req, AG_ENOMEM, NULL, "", "out of memory");
        return;
    }
    ag_http_add_header(req, "Cache-Control", "no-store");
    ag_http_add_header(req, "Referrer-Policy", "no-referrer");
    ag_http_add_header(req, "Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    ag_http_add_header(req, "Content-Language", lang);
    ag_http_respond_bytes(req, status, "text/html; charset=utf-8", b.data, b.len);
    ag_buf_free(&b);
}

static bool wants_json(struct ag_http_req *req)
{
    const char *a = ag_http_header(req, "Accept");
    return a && strstr(a, "application/json") && !strstr(a, "text/html");
}

static void link_error(struct ag_app *app, struct ag_http_req *req, const char *account_id,
                       const struct ag_err *err)
{
    bool expired = err->code == AG_ESTATE && !strcmp(err->slug, "link_expired");
    if (wants_json(req)) {
        ag_http_respond_error(req, expired ? 410 : 0, err);
        return;
    }
    int status = err->code == AG_EFORBIDDEN ? 403
                 : expired                   ? 410
                 : err->code == AG_ECONFLICT ? 409
                                             : ag_err_http_status(err->code);
    char locale[16];
    page_locale(app, req, status == 403 ? NULL : account_id, locale, sizeof locale);
    enum ag_notify_page_text title = status == 410   ? AG_NOTIFY_PAGE_EXPIRED_TITLE
                                     : status == 409 ? AG_NOTIFY_PAGE_USED_TITLE
                                                     : AG_NOTIFY_PAGE_INVALID_TITLE;
    page(req, status, locale, title,
         status == 409 ? AG_NOTIFY_PAGE_USED_TEXT : AG_NOTIFY_PAGE_HELP_TEXT, NULL);
}

static int verify(struct ag_app *app, struct ag_http_req *req, struct ag_notify_link *l,
                  char id[AG_NOTIFY_LINK_ID_LEN])
{
    struct notify_hook *h = hook_of(app);
    struct ag_err err;
    if (!h) {
        ag_err_set(&err, AG_EUNAVAIL, "unavailable", "", "notifications are not running");
        link_error(app, req, NULL, &err);
        return -1;
    }
    if (ag_notify_link_verify(h->link_key, req->params[0], ag_time_now_ms(), l, id, &err)) {
        link_error(app, req, l->account_id, &err);
        return -1;
    }
    return 0;
}

void ag_api_wasnt_me_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_notify_link l;
    char id[AG_NOTIFY_LINK_ID_LEN];
    if (verify(app, req, &l, id))
        return;
    struct ag_notify_report_rec used;
    if (ag_store_notify_report_get(app->store, id, &used, NULL) == 0) {
        struct ag_err err;
        ag_err_set(&err, AG_ECONFLICT, "link_used", "token", "this link was already used");
        link_error(app, req, l.account_id, &err);
        return;
    }
    /* A GET changes nothing: mail scanners open links. The button posts. */
    char action[320], locale[16];
    snprintf(action, sizeof action, "/v1/wasnt-me/%s", req->params[0]);
    page_locale(app, req, l.account_id, locale, sizeof locale);
    page(req, 200, locale, AG_NOTIFY_PAGE_CONFIRM_TITLE, AG_NOTIFY_PAGE_CONFIRM_TEXT, action);
}

struct report_job {
    struct ag_notify_report_rec r;
    bool remove;
};

static int report_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct report_job *j = arg;
    if (j->remove)
        return ag_store_notify_report_delete(tx, j->r.token_id, err);
    return ag_store_notify_report_put(tx, &j->r, err);
}

void ag_api_wasnt_me_post(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_notify_link l;
    char id[AG_NOTIFY_LINK_ID_LEN];
    if (verify(app, req, &l, id))
        return;
    struct report_job j = {0};
    snprintf(j.r.token_id, sizeof j.r.token_id, "%s", id);
    snprintf(j.r.account_id, sizeof j.r.account_id, "%s", l.account_id);
    snprintf(j.r.event_id, sizeof j.r.event_id, "%s", l.event_id);
    snprintf(j.r.kind, sizeof j.r.kind, "wasnt_me");
    snprintf(j.r.client_ip, sizeof j.r.client_ip, "%s", req->client_ip);
    snprintf(j.r.outcome, sizeof j.r.outcome, "secured");
    j.r.at = ag_time_now_ms();
    struct ag_err err;
    /* Record the use first: of two clicks, one secures, the other is told
     * the link was used. */
    if (ag_store_exec(app->store, report_run, &j, &err)) {
        link_error(app, req, l.account_id, &err);
        return;
    }
    char reason[300], outcome[64] = "";
    snprintf(reason, sizeof reason, "owner reported \"this wasn't me\"%s%s",
             l.event_id[0] ? " for event " : "", l.event_id);
    int rc = ag_api_wasnt_me_secure(app, l.account_id, l.event_id, reason, outcome,
                                    sizeof outcome, &err);
    if (rc) {
        j.remove = true; /* let the owner try the link again */
        struct ag_err e2;
        ag_store_exec(app->store, report_run, &j, &e2);
        ag_log_req(AG_LOG_ERROR, req->request_id, "wasnt-me: securing the account failed",
                   "account_id", l.account_id, "error", err.msg, NULL);
        ag_api_error(req, AG_EUNAVAIL, "unavailable", "",
                     "the account could not be secured right now; open the link again");
        return;
    }
    ag_log_req(AG_LOG_WARN, req->request_id, "owner reported: this wasn't me", "account_id",
               l.account_id, "event_id", l.event_id, "outcome", outcome, NULL);
    if (wants_json(req)) {
        ag_http_respond_json(req, 200,
                             json_pack("{s:s, s:s, s:b, s:s}", "account_id", l.account_id,
                                       "event_id", l.event_id, "secured", 1, "outcome", outcome));
        return;
    }
    char locale[16];
    page_locale(app, req, l.account_id, locale, sizeof locale);
    page(req, 200, locale, AG_NOTIFY_PAGE_SECURED_TITLE, AG_NOTIFY_PAGE_SECURED_TEXT, NULL);
}
