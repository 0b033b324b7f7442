/* GET /v1/audit: the hash-chained audit log, oldest first, filtered by
 * target or actor, with each entry's hash so a reader can check the chain. */
#include "api/cases.h"
#include "audit/audit.h"
#include "core/timeutil.h"

#include <stdio.h>

struct page {
    json_t *items;
    int limit, n;
    int64_t last;
};

static int add(void *arg, const struct ag_audit_rec *r)
{
    struct page *p = arg;
    if (p->n++ == p->limit)
        return 1;
    p->last = r->seq;
    char at[40], hash[65], prev[65];
    ag_time_format_ms(r->at, at, sizeof at);
    ag_hex(r->hash, 32, hash);
    ag_hex(r->prev_hash, 32, prev);
    json_t *d = json_loads(r->details, 0, NULL);
    json_array_append_new(p->items,
                          json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "seq",
                                    (json_int_t)r->seq, "at", at, "actor", r->actor, "action",
                                    r->action, "target", r->target, "details",
                                    d ? d : json_object(), "prev_hash", prev, "hash", hash));
    return 0;
}

void ag_api_audit_list(struct ag_app *app, struct ag_http_req *req)
{
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 100, 1000, &limit, &cursor))
        return;
    struct page p = {.items = json_array(), .limit = limit};
    struct ag_err err = {0};
    int rc = ag_store_audit_scan(app->store, cursor, limit + 1, ag_http_query(req, "target"),
                                 ag_http_query(req, "actor"), add, &p, &err);
    if (rc) {
        json_decref(p.items);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *next = json_null();
    if (p.n > limit) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)p.last);
        next = json_string(buf);
    }
    ag_http_respond_json(req, 200, json_pack("{s:o, s:o}", "items", p.items, "next_cursor", next));
}
