/* /v1/cases: create, search, read and change fraud cases; their timeline
 * (with a customer-safe view), evidence (links, notes, uploaded files) and
 * resolution actions (with the platform's confirmations). The work is done
 * by src/cases (service.h); this file parses requests and shapes answers. */
#include "api/cases.h"
#include "cases/service.h"
#include "core/json.h"
#include "core/timeutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ag_cases *ag_api_cases_module(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_cases_of(app->pipeline);
    if (!m)
        ag_api_error(req, AG_EUNAVAIL, "cases_unavailable", "",
                     "the cases module is not loaded in this server");
    return m;
}

void ag_api_cases_actor(struct ag_http_req *req, const json_t *body, char *out, size_t n)
{
    const char *who = json_string_value(json_object_get(body, "actor"));
    if (who && *who && strlen(who) <= 64 && !strchr(who, ' '))
        snprintf(out, n, "%s via %s", who, req->principal);
    else
        snprintf(out, n, "%s", req->principal[0] ? req->principal : "anonymous");
}

void ag_api_cases_reply(struct ag_http_req *req, int rc, json_t *out, const struct ag_err *err,
                        int ok)
{
    if (rc) {
        int status = 0;
        if (!strcmp(err->slug, "unsupported_content_type") ||
            !strcmp(err->slug, "content_type_mismatch"))
            status = 415;
        ag_http_respond_error(req, status, err);
        return;
    }
    ag_http_respond_json(req, ok, out);
}

/* A body-taking call: parse, name the actor, run, answer. */
typedef int (*body_fn)(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                       const json_t *body, json_t **out, struct ag_err *err);

static void with_body(struct ag_app *app, struct ag_http_req *req, body_fn fn, int ok)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    char actor[160];
    ag_api_cases_actor(req, body, actor, sizeof actor);
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = fn(m, req, actor, body, &out, &err);
    json_decref(body);
    ag_api_cases_reply(req, rc, out, &err, ok);
}

static int do_create(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                     const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_create(m, actor, body, out, err);
}
void ag_api_cases_create(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_create, 201);
}

static int do_update(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                     const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_update(m, req->params[0], actor, body, out, err);
}
void ag_api_cases_update(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_update, 200);
}

static int do_status(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                     const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_set_status(m, req->params[0], actor, body, out, err);
}
void ag_api_cases_status(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_status, 200);
}

static int do_note(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                   const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_add_note(m, req->params[0], actor, body, out, err);
}
void ag_api_cases_notes(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_note, 201);
}

static int do_link(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                   const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_evidence_link(m, req->params[0], actor, body, out, err);
}
void ag_api_cases_evidence_add(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_link, 201);
}

static int do_action(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                     const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_action_create(m, req->params[0], actor, body, out, err);
}
void ag_api_cases_actions_create(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_action, 201);
}

static int do_confirm(struct ag_cases *m, struct ag_http_req *req, const char *actor,
                      const json_t *body, json_t **out, struct ag_err *err)
{
    return ag_cases_action_confirm(m, req->params[0], req->params[1], actor, body, out, err);
}
void ag_api_cases_actions_confirm(struct ag_app *app, struct ag_http_req *req)
{
    with_body(app, req, do_confirm, 200);
}

void ag_api_cases_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_get(m, req->params[0], &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

static bool query_time(struct ag_http_req *req, const char *name, int64_t *out)
{
    const char *v = ag_http_query(req, name);
    *out = 0;
    if (!v)
        return true;
    if (ag_time_parse(v, out)) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", name,
                     "%s must be an RFC 3339 timestamp", name);
        return false;
    }
    return true;
}

void ag_api_cases_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 50, 500, &limit, &cursor))
        return;
    struct ag_case_filter f = {
        .status = ag_http_query(req, "status"),
        .type = ag_http_query(req, "type"),
        .priority = ag_http_query(req, "priority"),
        .assignee = ag_http_query(req, "assignee"),
        .account_id = ag_http_query(req, "account_id"),
        .tag = ag_http_query(req, "tag"),
        .source = ag_http_query(req, "source"),
        .q = ag_http_query(req, "q"),
    };
    const char *ov = ag_http_query(req, "overdue");
    if (ov && strcmp(ov, "true") && strcmp(ov, "false")) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "overdue", "overdue must be true or false");
        return;
    }
    f.overdue_only = ov && !strcmp(ov, "true");
    if (f.status && !ag_cases_name_in(f.status, ag_cases_statuses)) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "status", "unknown status %s", f.status);
        return;
    }
    if (f.type && !ag_cases_name_in(f.type, ag_cases_types)) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "type", "unknown case type %s", f.type);
        return;
    }
    if (f.q && strlen(f.q) > 200) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "q", "q is at most 200 bytes");
        return;
    }
    if (!query_time(req, "created_from", &f.created_from) ||
        !query_time(req, "created_to", &f.created_to))
        return;
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_list(m, &f, cursor, limit, &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

void ag_api_cases_timeline(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 100, 1000, &limit, &cursor))
        return;
    const char *view = ag_http_query(req, "view");
    if (view && strcmp(view, "customer") && strcmp(view, "internal")) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "view",
                     "view must be internal or customer");
        return;
    }
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_timeline(m, req->params[0], view && !strcmp(view, "customer"), cursor,
                               limit, &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

void ag_api_cases_evidence_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_evidence_list(m, req->params[0], &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

/* The body is the file itself; ?filename= and ?note= describe it. */
void ag_api_cases_evidence_upload(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    char actor[160];
    ag_api_cases_actor(req, NULL, actor, sizeof actor);
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_evidence_upload(m, req->params[0], actor, ag_http_query(req, "filename"),
                                      ag_http_header(req, "Content-Type"),
                                      ag_http_query(req, "note"), req->body.data, req->body.len,
                                      &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 201);
}

void ag_api_cases_evidence_content(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    char *end;
    long long seq = strtoll(req->params[1], &end, 10);
    if (*end || seq < 1) {
        ag_api_error(req, AG_ENOTFOUND, "evidence_not_found", "id", "no evidence %s",
                     req->params[1]);
        return;
    }
    char path[512], type[128];
    struct ag_err err = {0};
    if (ag_cases_evidence_file(m, req->params[0], seq, path, type, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || st.st_size > 64 * 1024 * 1024) {
        if (fd >= 0)
            close(fd);
        ag_api_error(req, AG_EIO, "storage_error", "", "the evidence file cannot be read");
        return;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
    close(fd);
    if (got != st.st_size) {
        free(buf);
        ag_api_error(req, AG_EIO, "storage_error", "", "the evidence file cannot be read");
        return;
    }
    /* Never rendered by a browser as the type it might claim to be. */
    ag_http_add_header(req, "X-Content-Type-Options", "nosniff");
    ag_http_add_header(req, "Content-Disposition", "attachment");
    ag_http_respond_bytes(req, 200, type, buf, (size_t)got);
    free(buf);
}

void ag_api_cases_actions_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_actions(m, req->params[0], &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

/* POST /v1/accounts/{id}/secure: the secure-account playbook. */
void ag_api_account_secure(struct ag_app *app, struct ag_http_req *req)
{
    json_t *body = req->body.len ? ag_api_body_object(app, req) : json_object();
    if (!body)
        return;
    struct ag_err err = {0};
    const char *reason = NULL, *event_id = NULL, *source = NULL;
    int rc;
    if (((rc = ag_json_str(body, "reason", "reason", 255, false, &reason, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "event_id", "event_id", 128, false, &event_id, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "source", "source", 32, false, &source, &err)) &&
         rc != AG_ENOTFOUND)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return;
    }
    if (source && strcmp(source, "api") && strcmp(source, "customer_link") &&
        strcmp(source, "agent") && strcmp(source, "detection")) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_field", "source",
                     "source must be api, customer_link, agent or detection");
        return;
    }
    char actor[160];
    ag_api_cases_actor(req, body, actor, sizeof actor);
    struct ag_cases_secure_opts o = {.actor = actor,
                                     .source = source ? source : "api",
                                     .reason = reason,
                                     .event_id = event_id};
    json_t *report = NULL;
    rc = ag_cases_secure_account(app->pipeline, req->params[0], &o, &report, &err);
    json_decref(body);
    ag_api_cases_reply(req, rc, report, &err, 200);
}
