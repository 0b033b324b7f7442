/* /v1/events: submit one or a batch of events to the pipeline and answer
 * once they are durable; read stored events back; an account's events with
 * cursor pagination. */
#include "api/api.h"
#include "core/json.h"
#include "core/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 1000

/* One parked HTTP request waiting for the pipeline. The lock orders the
 * pipeline's answer against the handler deciding whether to park. */
struct call {
    pthread_mutex_t lock;
    struct ag_http_req *req;
    json_t *body;
    bool parked, answered;
    /* batch */
    int n, pending;
    json_t *results;
};

static void call_free(void *p)
{
    struct call *c = p;
    json_decref(c->body);
    json_decref(c->results);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct call *call_new(struct ag_http_req *req, json_t *body)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->req = req;
    c->body = body;
    req->app_state = c;
    req->app_cleanup = call_free;
    return c;
}

/* After submitting: park the request unless the answer is already there. */
static void park_unless_answered(struct call *c)
{
    pthread_mutex_lock(&c->lock);
    if (!c->answered) {
        c->parked = true;
        ag_http_suspend(c->req);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Mark <c> answered and unlock it; wake the request if it was parked. The
 * resume comes after the unlock: once resumed, the request (and <c> with
 * it) may be freed by the HTTP thread at any moment. */
static void answer_and_unlock(struct call *c)
{
    c->answered = true;
    bool parked = c->parked;
    struct ag_http_req *req = c->req;
    pthread_mutex_unlock(&c->lock);
    if (parked)
        ag_http_resume(req);
}

static void one_done(void *arg, struct ag_pipeline_reply *r)
{
    struct call *c = arg;
    pthread_mutex_lock(&c->lock);
    c->req->content_type = "application/json";
    ag_http_respond_owned(c->req, r->status, r->body, r->len);
    answer_and_unlock(c);
}

void ag_api_events_post(struct ag_app *app, struct ag_http_req *req)
{
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct call *c = call_new(req, body);
    if (!c) {
        json_decref(body);
        ag_api_error(req, AG_ENOMEM, NULL, "", "out of memory");
        return;
    }
    ag_pipeline_submit(app->pipeline, body, req->request_id, one_done, c);
    park_unless_answered(c);
}

/* Batch: each item's answer goes into results[i]; the last one answers. */
struct item {
    struct call *c;
    size_t index;
};

static void item_done(void *arg, struct ag_pipeline_reply *r)
{
    struct item *it = arg;
    struct call *c = it->c;
    json_t *v = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    free(r->body);
    json_t *entry = json_pack("{s:i, s:o}", "status", r->status, r->status == 200 ? "result" : "error",
                              v ? (r->status == 200 ? v : json_incref(json_object_get(v, "error")))
                                : json_null());
    if (v && r->status != 200)
        json_decref(v);
    pthread_mutex_lock(&c->lock);
    json_array_set_new(c->results, it->index, entry);
    free(it);
    if (--c->pending == 0) {
        json_t *o = json_pack("{s:O}", "results", c->results);
        ag_http_respond_json(c->req, 200, o);
        answer_and_unlock(c);
        return;
    }
    pthread_mutex_unlock(&c->lock);
}

void ag_api_events_batch(struct ag_app *app, struct ag_http_req *req)
{
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    json_t *events = json_object_get(body, "events");
    if (!json_is_array(events)) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "missing_field", "events",
                     "the body must be {\"events\": [ ... ]}");
        return;
    }
    size_t n = json_array_size(events);
    if (n == 0 || n > BATCH_MAX) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_field", "events",
                     "a batch holds 1 to %d events", BATCH_MAX);
        return;
    }
    struct call *c = call_new(req, body);
    if (!c || !(c->results = json_array())) {
        if (!c)
            json_decref(body);
        ag_api_error(req, AG_ENOMEM, NULL, "", "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(c->results, json_null());
    c->pending = (int)n;
    for (size_t i = 0; i < n; i++) {
        struct item *it = malloc(sizeof *it);
        if (!it) {
            struct ag_pipeline_reply r = {.status = 503};
            struct item tmp = {c, i};
            struct item *heap = malloc(sizeof *heap);
            /* Out of memory: answer this item as unavailable. */
            if (heap) {
                *heap = tmp;
                item_done(heap, &r);
            }
            continue;
        }
        it->c = c;
        it->index = i;
        ag_pipeline_submit(app->pipeline, json_array_get(events, i), req->request_id, item_done,
                           it);
    }
    park_unless_answered(c);
}

static json_t *row_json(const struct ag_event_row *r)
{
    char occ[40], rec[40];
    ag_time_format_ms(r->occurred_at, occ, sizeof occ);
    ag_time_format_ms(r->received_at, rec, sizeof rec);
    json_t *ev = json_loads(r->event_json, 0, NULL);
    json_t *resp = json_loads(r->response_json, 0, NULL);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", r->id, "account_id",
                          r->account_id, "type", r->type, "occurred_at", occ, "received_at", rec,
                          "event", ev ? ev : json_null(), "decision",
                          resp && json_object_get(resp, "decision")
                              ? json_incref(json_object_get(resp, "decision"))
                              : json_null());
    json_decref(resp);
    return o;
}

void ag_api_events_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_event_row r;
    struct ag_err err;
    int rc = ag_store_event_get(app->store, req->params[0], &r, &err);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, row_json(&r));
    ag_event_row_free(&r);
}

struct page {
    json_t *items;
    int limit, n;
    int64_t cursor_seq; /* seq of the page's last item */
};

static int page_add(void *arg, const struct ag_event_row *r)
{
    struct page *p = arg;
    if (p->n++ == p->limit)
        return 1; /* one past the page: a next page exists */
    json_array_append_new(p->items, row_json(r));
    p->cursor_seq = r->seq;
    return 0;
}

void ag_api_account_events(struct ag_app *app, struct ag_http_req *req)
{
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 50, 500, &limit, &cursor))
        return;
    struct page p = {.items = json_array(), .limit = limit};
    struct ag_err err;
    /* Ask for one more than the page to know whether a next page exists. */
    int rc = ag_store_event_list_account(app->store, req->params[0], cursor, limit + 1, page_add,
                                         &p, &err);
    if (rc) {
        json_decref(p.items);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *next = json_null();
    if (p.n > limit) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)p.cursor_seq);
        next = json_string(buf);
    }
    ag_http_respond_json(req, 200,
                         json_pack("{s:o, s:o}", "items", p.items, "next_cursor", next));
}
