/* Disputes: POST /v1/cases/{id}/disputes opens one on a case; /v1/disputes
 * lists, reads and moves them through their states. */
#include "api/cases.h"
#include "cases/service.h"

#include <string.h>

void ag_api_cases_disputes_create(struct ag_app *app, struct ag_http_req *req)
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
    int rc = ag_cases_dispute_create(m, req->params[0], actor, body, &out, &err);
    json_decref(body);
    ag_api_cases_reply(req, rc, out, &err, 201);
}

void ag_api_disputes_status(struct ag_app *app, struct ag_http_req *req)
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
    int rc = ag_cases_dispute_set_status(m, req->params[0], actor, body, &out, &err);
    json_decref(body);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

void ag_api_disputes_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_dispute_get(m, req->params[0], &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}

void ag_api_disputes_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 50, 500, &limit, &cursor))
        return;
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_disputes(m, ag_http_query(req, "case_id"), ag_http_query(req, "status"),
                               cursor, limit, &out, &err);
    ag_api_cases_reply(req, rc, out, &err, 200);
}
