/* Console sessions as principals in dispatch, roles as scopes, and the
 * audit record of every state-changing console request (api/console.h). */
#include "api/console.h"
#include "audit/audit.h"
#include "console/console.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What an analyst may change besides reading everything. Rules, API keys,
 * webhooks, notifications and raw event submission stay with admins. */
static const char *const analyst_writes[] = {"cases:write", "accounts:write", "messages:write",
                                             "intel:write"};

bool ag_api_console_role_allows(const char *role, const char *scope)
{
    if (!scope)
        return true;
    if (!strcmp(role, "admin"))
        return true;
    if (strcmp(role, "analyst") != 0)
        return false;
    size_t n = strlen(scope);
    if (n > 5 && !strcmp(scope + n - 5, ":read"))
        return true;
    for (size_t i = 0; i < sizeof analyst_writes / sizeof analyst_writes[0]; i++)
        if (!strcmp(scope, analyst_writes[i]))
            return true;
    return false;
}

static bool safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

enum ag_api_console_auth ag_api_console_authorize(struct ag_app *app, struct ag_http_req *req,
                                                  const struct ag_route *route)
{
    if (!app->console || !route->scope || ag_http_header(req, "Authorization"))
        return AG_API_CONSOLE_NONE;
    const char *cookie = ag_http_header(req, "Cookie");
    if (!cookie || !strstr(cookie, AG_CONSOLE_COOKIE "="))
        return AG_API_CONSOLE_NONE;
    struct ag_console_principal p;
    struct ag_err err;
    int rc = ag_console_session_check(app->console, app->store, cookie, &p, &err);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        if (rc == AG_EAUTH) {
            char clear[160];
            ag_console_cookie_format(app->console, NULL, clear, sizeof clear);
            ag_http_add_header(req, "Set-Cookie", clear);
        }
        return AG_API_CONSOLE_DENIED;
    }
    snprintf(req->principal, sizeof req->principal, "console:%s", p.name);
    if (!safe_method(req->method)) {
        /* A browser says where a request comes from; refuse other sites
         * outright, then require the session's token (synchronizer). */
        const char *site = ag_http_header(req, "Sec-Fetch-Site");
        if ((site && !strcmp(site, "cross-site")) ||
            !ag_console_csrf_ok(&p, ag_http_header(req, AG_CONSOLE_CSRF_HEADER))) {
            ag_api_error(req, AG_EFORBIDDEN, "csrf_failed", "",
                         "a console request that changes something needs the session's %s header",
                         AG_CONSOLE_CSRF_HEADER);
            return AG_API_CONSOLE_DENIED;
        }
    }
    if (!ag_api_rate_allow("key", req->principal, app->cfg->rate_per_key)) {
        ag_api_error(req, AG_ERATE, "rate_limited", "", "this console user is over the rate limit");
        ag_http_add_header(req, "Retry-After", "1");
        return AG_API_CONSOLE_DENIED;
    }
    if (!ag_api_console_role_allows(p.role, route->scope)) {
        ag_api_error(req, AG_EFORBIDDEN, "insufficient_scope", "",
                     "the %s role lacks the '%s' scope", p.role, route->scope);
        return AG_API_CONSOLE_DENIED;
    }
    return AG_API_CONSOLE_OK;
}

struct audit_arg {
    char actor[64];
    char target[257];
    json_t *details;
};

static int audit_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct audit_arg *a = arg;
    return ag_audit_append(tx, a->actor, "console.request", a->target, a->details, err);
}

static void audit_done(void *arg, int rc, const struct ag_err *err)
{
    struct audit_arg *a = arg;
    if (rc)
        ag_log(AG_LOG_ERROR, "console audit record lost", "actor", a->actor, "target", a->target,
               "error", err ? err->msg : "", NULL);
    json_decref(a->details);
    free(a);
}

void ag_api_console_audit(struct ag_app *app, struct ag_http_req *req)
{
    if (strncmp(req->principal, "console:", 8) != 0 || safe_method(req->method) ||
        req->route_index < 0 || req->route_index >= ag_routes_count)
        return;
    const struct ag_route *r = &ag_routes[req->route_index];
    if (!strncmp(r->pattern, "/console/", 9))
        return; /* sign-in and sign-out record themselves */
    struct audit_arg *a = calloc(1, sizeof *a);
    if (!a)
        return;
    snprintf(a->actor, sizeof a->actor, "%s", req->principal);
    snprintf(a->target, sizeof a->target, "%s", req->path);
    char route[200];
    snprintf(route, sizeof route, "%s %s", r->method, r->pattern);
    a->details = json_pack("{s:s, s:s, s:i, s:s}", "route", route, "method", req->method,
                           "status", req->status, "request_id", req->request_id);
    if (ag_store_submit(app->store, audit_job, a, audit_done, a)) {
        ag_log_req(AG_LOG_ERROR, req->request_id, "console audit record lost", "actor", a->actor,
                   "target", a->target, NULL);
        json_decref(a->details);
        free(a);
    }
}
