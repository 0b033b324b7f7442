/* Routing, authentication and scope checks, per-route metrics, and the small
 * helpers every handler uses (body parsing, errors, pagination). */
#include "api/api.h"
#include "api/console.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status slots counted per route. */
static const int status_slots[] = {200, 201, 202, 204, 400, 401, 403, 404, 405,
                                   409, 413, 415, 422, 429, 500, 503};
#define NSLOTS ((int)(sizeof status_slots / sizeof status_slots[0]) + 1)
#define MAX_ROUTES 512

static _Atomic uint64_t route_status[MAX_ROUTES + 1][NSLOTS];
static struct ag_histogram route_latency[MAX_ROUTES + 1];
static _Atomic int latency_init;
static pthread_once_t latency_once = PTHREAD_ONCE_INIT;

static void latency_init_fn(void)
{
    for (int i = 0; i <= MAX_ROUTES; i++)
        route_latency[i] = (struct ag_histogram)AG_HISTOGRAM_LATENCY;
    atomic_store(&latency_init, 1);
}

static int slot_of(int status)
{
    for (int i = 0; i < NSLOTS - 1; i++)
        if (status_slots[i] == status)
            return i;
    return NSLOTS - 1;
}

/* Match <path> against <pattern>, capturing {x} segments into req->params. */
static bool match(const char *pattern, const char *path, struct ag_http_req *req)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            if (!se)
                se = s + strlen(s);
            size_t len = (size_t)(se - s);
            if (len == 0 || len >= sizeof req->params[0] || np >= AG_HTTP_MAX_PARAMS)
                return false;
            memcpy(req->params[np], s, len);
            req->params[np][len] = '\0';
            np++;
            p = pe + 1;
            s = se;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    req->nparams = np;
    return true;
}

void ag_api_error(struct ag_http_req *req, int code, const char *slug, const char *field,
                  const char *fmt, ...)
{
    struct ag_err err;
    va_list ap;
    va_start(ap, fmt);
    ag_err_setv(&err, code, slug, field, fmt, ap);
    va_end(ap);
    ag_http_respond_error(req, 0, &err);
}

void ag_api_dispatch(void *appp, struct ag_http_req *req)
{
    struct ag_app *app = appp;
    bool path_known = false;
    const struct ag_route *route = NULL;
    for (int i = 0; i < ag_routes_count; i++) {
        if (!match(ag_routes[i].pattern, req->path, req))
            continue;
        path_known = true;
        if (!strcmp(ag_routes[i].method, req->method) ||
            (!strcmp(req->method, "HEAD") && !strcmp(ag_routes[i].method, "GET"))) {
            route = &ag_routes[i];
            req->route_index = i;
            break;
        }
    }
    if (!route) {
        if (path_known) {
            ag_api_error(req, AG_EINVAL, "method_not_allowed", "", "%s is not allowed on %s",
                         req->method, req->path);
            req->status = 405;
        } else {
            ag_api_error(req, AG_ENOTFOUND, "no_such_route", "", "no endpoint %s %s",
                         req->method, req->path);
        }
        return;
    }
    if (req->client_ip[0] && !ag_api_rate_allow("ip", req->client_ip, app->cfg->rate_per_ip)) {
        ag_api_error(req, AG_ERATE, "rate_limited", "", "too many requests from %s",
                     req->client_ip);
        ag_http_add_header(req, "Retry-After", "1");
        return;
    }
    /* A console session (cookie, CSRF header) stands in for an API key with
     * the scopes of the user's role (api/console_auth.c). */
    enum ag_api_console_auth console = ag_api_console_authorize(app, req, route);
    if (console == AG_API_CONSOLE_DENIED)
        return;
    /* TAXII routes (api/taxii.c) check the same key and scope themselves,
     * so that their errors are TAXII error resources. */
    if (console == AG_API_CONSOLE_NONE && route->scope &&
        strncmp(route->pattern, "/taxii2/", 8) != 0) {
        struct ag_apikey_rec key;
        struct ag_err err;
        int rc = ag_api_key_verify(app->store, app->apikey_key,
                                   ag_http_header(req, "Authorization"), &key, &err);
        if (rc) {
            ag_http_respond_error(req, 0, &err);
            if (rc == AG_EAUTH)
                ag_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"accountguard\"");
            return;
        }
        snprintf(req->principal, sizeof req->principal, "apikey:%s", key.id);
        if (!ag_api_rate_allow("key", key.id, app->cfg->rate_per_key)) {
            ag_api_error(req, AG_ERATE, "rate_limited", "",
                         "this API key is over its rate limit");
            ag_http_add_header(req, "Retry-After", "1");
            return;
        }
        if (!ag_api_scope_allows(key.scopes, route->scope)) {
            ag_api_error(req, AG_EFORBIDDEN, "insufficient_scope", "",
                         "this API key lacks the '%s' scope", route->scope);
            return;
        }
    }
    route->fn(app, req);
}

void ag_api_complete(void *appp, struct ag_http_req *req)
{
    int r = req->route_index >= 0 && req->route_index < MAX_ROUTES ? req->route_index : MAX_ROUTES;
    pthread_once(&latency_once, latency_init_fn);
    if (req->status)
        atomic_fetch_add_explicit(&route_status[r][slot_of(req->status)], 1,
                                  memory_order_relaxed);
    ag_histogram_observe_ns(&route_latency[r], ag_time_mono_ns() - req->t0_ns);
    ag_api_console_audit(appp, req);
    if (req->status >= 400) {
        char status[16];
        snprintf(status, sizeof status, "%d", req->status);
        ag_log_req(req->status >= 500 ? AG_LOG_WARN : AG_LOG_INFO, req->request_id, "request",
                   "method", req->method, "path", req->path, "status", status, "principal",
                   req->principal[0] ? req->principal : NULL, NULL);
    }
}

/* Rendered by ag_api_metrics (system.c). */
void ag_api_metrics_render_routes(struct ag_buf *out);
void ag_api_metrics_render_routes(struct ag_buf *out)
{
    ag_buf_printf(out, "# HELP ag_http_requests_total HTTP requests by route and status.\n"
                       "# TYPE ag_http_requests_total counter\n");
    for (int r = 0; r <= ag_routes_count && r <= MAX_ROUTES; r++) {
        int idx = r < ag_routes_count ? r : MAX_ROUTES;
        char label[160];
        if (r < ag_routes_count)
            snprintf(label, sizeof label, "%s %s", ag_routes[r].method, ag_routes[r].pattern);
        else
            snprintf(label, sizeof label, "unmatched");
        for (int s = 0; s < NSLOTS; s++) {
            uint64_t v = atomic_load(&route_status[idx][s]);
            if (!v)
                continue;
            char st[16];
            if (s < NSLOTS - 1)
                snprintf(st, sizeof st, "%d", status_slots[s]);
            else
                snprintf(st, sizeof st, "other");
            ag_buf_printf(out, "ag_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          label, st, (unsigned long long)v);
        }
    }
    if (!atomic_load(&latency_init))
        return;
    ag_buf_printf(out, "# HELP ag_http_request_duration_seconds HTTP request latency by route.\n"
                       "# TYPE ag_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ag_routes_count && r < MAX_ROUTES; r++) {
        if (!atomic_load(&route_latency[r].count))
            continue;
        char label[200];
        snprintf(label, sizeof label, "route=\"%s %s\"", ag_routes[r].method,
                 ag_routes[r].pattern);
        ag_metrics_render_histogram(out, "ag_http_request_duration_seconds", &route_latency[r],
                                    label);
    }
}

json_t *ag_api_body_object(struct ag_app *app, struct ag_http_req *req)
{
    const char *ct = ag_http_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        ag_api_error(req, AG_EINVAL, "unsupported_media_type", "",
                     "send the body as application/json");
        req->status = 415;
        return NULL;
    }
    struct ag_err err;
    json_t *v = ag_json_parse(req->body.data ? req->body.data : "", req->body.len,
                              (int)app->cfg->max_json_depth, &err);
    if (!v) {
        ag_http_respond_error(req, 0, &err); /* 400, or 503 when out of memory */
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        ag_api_error(req, AG_EINVAL, "invalid_json", "", "the body must be a JSON object");
        return NULL;
    }
    return v;
}

int ag_api_page_params(struct ag_http_req *req, int def, int max, int *limit, int64_t *cursor)
{
    const char *l = ag_http_query(req, "limit"), *c = ag_http_query(req, "cursor");
    *limit = def;
    *cursor = 0;
    char *end;
    if (l) {
        long v = strtol(l, &end, 10);
        if (!*l || *end || v < 1 || v > max) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "limit",
                         "limit must be an integer from 1 to %d", max);
            return -1;
        }
        *limit = (int)v;
    }
    if (c) {
        long long v = strtoll(c, &end, 10);
        if (!*c || *end || v < 1) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "cursor",
                         "cursor must be a value returned as next_cursor");
            return -1;
        }
        *cursor = v;
    }
    return 0;
}
