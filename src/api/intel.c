/* /v1/intel: indicators (list with filters and cursor pages, create or
 * replace, read, patch, delete), STIX 2.1 and MISP export and import, and
 * the feeds fetched on a schedule. Every write commits in one job and
 * returns once the match set includes it (api/intel_live.c). */
#include "api/intel.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/feed.h"
#include "intel/misp.h"
#include "intel/stix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 1000

static struct ag_intel_svc *svc_or_503(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = ag_api_intel_svc(app);
    if (!svc)
        ag_api_error(req, AG_EUNAVAIL, "intel_unavailable", "", "threat intelligence is not enabled");
    return svc;
}

static const char *state_of(const struct ag_intel_indicator *ind, int64_t now)
{
    if (ind->valid_until_ms && ind->valid_until_ms <= now)
        return "expired";
    if (ind->valid_from_ms > now)
        return "pending";
    return "live";
}

static json_t *ind_json(const struct ag_intel_indicator *ind, int64_t now)
{
    json_t *o = ag_intel_indicator_to_json(ind);
    if (o)
        json_object_set_new(o, "state", json_string(state_of(ind, now)));
    return o;
}

/* ---- list ------------------------------------------------------------------ */

struct page {
    json_t *items;
    int limit, n;
    int64_t last_seq, now;
    bool oom;
};

static int page_cb(void *arg, const struct ag_intel_rec *r)
{
    struct page *p = arg;
    if (p->n++ == p->limit)
        return 1;
    struct ag_intel_indicator ind;
    if (ag_api_intel_from_rec(r, &ind)) {
        p->oom = true;
        return 1;
    }
    json_array_append_new(p->items, ind_json(&ind, p->now));
    ag_intel_indicator_free(&ind);
    p->last_seq = r->seq;
    return 0;
}

void ag_api_intel_list(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    int limit;
    int64_t cursor;
    if (ag_api_page_params(req, 100, 1000, &limit, &cursor))
        return;
    struct ag_store_intel_filter f = {.now = ag_time_now_ms(), .before_seq = cursor,
                                      .limit = limit + 1};
    const char *type = ag_http_query(req, "type"), *state = ag_http_query(req, "state");
    const char *value = ag_http_query(req, "value"), *tlp = ag_http_query(req, "tlp");
    enum ag_intel_type t;
    enum ag_intel_tlp tl;
    char norm[AG_INTEL_VALUE_MAX + 1];
    struct ag_err err;
    if (type) {
        if (ag_intel_type_parse(type, &t)) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "type",
                         "type must be ipv4, ipv6, domain, url, email, phone, device or financial");
            return;
        }
        f.type = ag_intel_type_name(t);
    }
    if (value) {
        /* Look the value up in its normal form, as stored. */
        int rc = type ? ag_intel_value_normalize(t, value, norm, sizeof norm, "value", &err)
                      : ag_intel_value_guess(value, &t, norm, sizeof norm, "value", &err);
        if (rc) {
            ag_http_respond_error(req, 400, &err);
            return;
        }
        f.value = norm;
        if (!type)
            f.type = ag_intel_type_name(t);
    }
    if (tlp) {
        if (ag_intel_tlp_parse(tlp, &tl)) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "tlp",
                         "tlp must be clear, green, amber, amber+strict or red");
            return;
        }
        f.tlp = ag_intel_tlp_name(tl);
    }
    f.source = ag_http_query(req, "source");
    f.tag = ag_http_query(req, "tag");
    if (f.tag && (strchr(f.tag, '"') || strchr(f.tag, '\\'))) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "tag", "tag holds no quotes");
        return;
    }
    if (state) {
        static const char *const names[] = {"all", "live", "expired", "pending"};
        size_t i = 0;
        while (i < AG_ARRAY_LEN(names) && strcmp(state, names[i]))
            i++;
        if (i == AG_ARRAY_LEN(names)) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "state",
                         "state must be all, live, expired or pending");
            return;
        }
        f.state = (enum ag_store_intel_state)i;
    }
    struct page p = {.items = json_array(), .limit = limit, .now = f.now};
    int rc = ag_store_intel_list(app->store, &f, page_cb, &p, &err);
    if (rc || p.oom || !p.items) {
        json_decref(p.items);
        if (!rc)
            ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
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

/* ---- create / read / patch / delete ---------------------------------------- */

/* Parse {"indicators": [...]} or one indicator into <list>. */
static int parse_indicators(const json_t *body, int64_t now, struct ag_intel_list *list,
                            bool *batch, struct ag_err *err)
{
    json_t *arr = json_object_get(body, "indicators");
    *batch = arr != NULL;
    if (!arr) {
        struct ag_intel_indicator ind;
        int rc = ag_intel_indicator_from_json(body, "api", now, &ind, err);
        if (!rc && ag_intel_list_push_move(list, &ind))
            rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        ag_intel_indicator_free(&ind);
        return rc;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > BATCH_MAX ||
        json_object_size(body) != 1)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "indicators",
                          "send {\"indicators\": [...]} with 1 to %d indicators", BATCH_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        struct ag_intel_indicator ind;
        struct ag_err e2;
        int rc = ag_intel_indicator_from_json(v, "api", now, &ind, &e2);
        if (!rc && ag_intel_list_push_move(list, &ind))
            rc = ag_err_set(&e2, AG_ENOMEM, NULL, "", "out of memory");
        ag_intel_indicator_free(&ind);
        if (rc) {
            char field[sizeof e2.field];
            snprintf(field, sizeof field, "indicators[%zu]%s%.60s", i, e2.field[0] ? "." : "",
                     e2.field);
            return ag_err_set(err, rc, e2.slug, field, "%s", e2.msg);
        }
    }
    return 0;
}

void ag_api_intel_create(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    int64_t now = ag_time_now_ms();
    struct ag_intel_list list = {0};
    struct ag_err err;
    bool batch;
    size_t created = 0, updated = 0;
    int rc = parse_indicators(body, now, &list, &batch, &err);
    json_decref(body);
    if (!rc)
        rc = ag_api_intel_store_list(svc, list.items, list.len, &created, &updated, &err);
    if (rc) {
        ag_intel_list_free(&list);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *out;
    if (!batch) {
        struct ag_intel_indicator got;
        if (ag_api_intel_get(svc, list.items[0].id, &got, &err)) {
            ag_intel_list_free(&list);
            ag_http_respond_error(req, 0, &err);
            return;
        }
        out = ind_json(&got, now);
        ag_intel_indicator_free(&got);
    } else {
        json_t *ids = json_array();
        for (size_t i = 0; ids && i < list.len; i++)
            json_array_append_new(ids, json_string(list.items[i].id));
        out = json_pack("{s:I, s:I, s:o}", "created", (json_int_t)created, "updated",
                        (json_int_t)updated, "ids", ids ? ids : json_array());
    }
    ag_intel_list_free(&list);
    ag_http_respond_json(req, created ? 201 : 200, out);
}

void ag_api_intel_get_one(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    struct ag_intel_indicator ind;
    struct ag_err err;
    if (ag_api_intel_get(svc, req->params[0], &ind, &err)) {
        ag_intel_indicator_free(&ind);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, ind_json(&ind, ag_time_now_ms()));
    ag_intel_indicator_free(&ind);
}

void ag_api_intel_patch(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    json_t *patch = ag_api_body_object(app, req);
    if (!patch)
        return;
    static const char *const fixed[] = {"id", "created", "modified", "added"};
    for (size_t i = 0; i < AG_ARRAY_LEN(fixed); i++)
        if (json_object_get(patch, fixed[i])) {
            json_decref(patch);
            ag_api_error(req, AG_EINVAL, "read_only_field", fixed[i], "%s cannot be changed",
                         fixed[i]);
            return;
        }
    struct ag_intel_indicator cur, next;
    struct ag_err err;
    int64_t now = ag_time_now_ms();
    int rc = ag_api_intel_get(svc, req->params[0], &cur, &err);
    json_t *merged = rc ? NULL : ag_intel_indicator_to_json(&cur);
    ag_intel_indicator_free(&cur);
    if (rc || !merged) {
        json_decref(patch);
        if (!rc)
            ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_object_del(merged, "modified");
    json_object_del(merged, "added");
    json_object_update(merged, patch);
    json_decref(patch);
    rc = ag_intel_indicator_from_json(merged, "api", now, &next, &err);
    json_decref(merged);
    if (!rc)
        rc = ag_api_intel_store_list(svc, &next, 1, NULL, NULL, &err);
    ag_intel_indicator_free(&next);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_api_intel_get_one(app, req);
}

void ag_api_intel_delete_one(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    struct ag_err err;
    if (ag_api_intel_delete(svc, req->params[0], &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_bytes(req, 204, "application/json", "", 0);
}

/* ---- export ----------------------------------------------------------------- */

struct collect {
    struct ag_intel_list list;
    int64_t now;
    bool live_only, oom;
    const char *type, *source;
};

static int collect_cb(void *arg, const struct ag_intel_rec *r)
{
    struct collect *c = arg;
    if (c->live_only && r->valid_until && r->valid_until <= c->now)
        return 0;
    if ((c->type && strcmp(c->type, r->type)) || (c->source && strcmp(c->source, r->source)))
        return 0;
    struct ag_intel_indicator ind;
    if (ag_api_intel_from_rec(r, &ind) || ag_intel_list_push_move(&c->list, &ind)) {
        ag_intel_indicator_free(&ind);
        c->oom = true;
        return 1;
    }
    return 0;
}

/* The indicators an export selects (?state=live|all, ?type, ?source), in the
 * order they were added. Responds and returns -1 on error. */
static int export_select(struct ag_app *app, struct ag_http_req *req, struct collect *c)
{
    memset(c, 0, sizeof *c);
    c->now = ag_time_now_ms();
    const char *state = ag_http_query(req, "state");
    c->live_only = !state || strcmp(state, "all") != 0;
    if (state && strcmp(state, "all") && strcmp(state, "live")) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "state", "state must be live or all");
        return -1;
    }
    const char *type = ag_http_query(req, "type");
    enum ag_intel_type t;
    if (type && ag_intel_type_parse(type, &t)) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "type", "unknown indicator type");
        return -1;
    }
    c->type = type ? ag_intel_type_name(t) : NULL;
    c->source = ag_http_query(req, "source");
    struct ag_err err;
    int rc = ag_store_intel_scan_added(app->store, -1, "", -1, false, 0, collect_cb, c, &err);
    if (!rc && c->oom)
        rc = ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
    if (rc) {
        ag_intel_list_free(&c->list);
        ag_http_respond_error(req, 0, &err);
        return -1;
    }
    return 0;
}

static void respond_doc(struct ag_http_req *req, int status, const char *ctype, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) {
        ag_api_error(req, AG_ENOMEM, NULL, "", "out of memory");
        return;
    }
    req->content_type = ctype;
    ag_http_respond_owned(req, status, s, strlen(s));
    req->content_type = ctype;
}

void ag_api_intel_export_stix(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    struct collect c;
    if (!svc || export_select(app, req, &c))
        return;
    struct ag_intel_stix_producer p;
    ag_api_intel_producer(svc, &p);
    struct ag_err err;
    json_t *bundle = ag_intel_stix_bundle_export(c.list.items, c.list.len, &p, &err);
    ag_intel_list_free(&c.list);
    if (!bundle) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    respond_doc(req, 200, AG_INTEL_STIX_MEDIA_TYPE, bundle);
}

void ag_api_intel_export_misp(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    struct collect c;
    if (!svc || export_select(app, req, &c))
        return;
    struct ag_intel_stix_producer p;
    ag_api_intel_producer(svc, &p);
    struct ag_intel_misp_event_opts o = {.info = "accountguard indicators", .org_name = p.name,
                                         .date_ms = c.now};
    /* A stable event uuid per installation: the identity's UUID. */
    o.uuid = strstr(p.identity_id, "--") ? strstr(p.identity_id, "--") + 2 : NULL;
    struct ag_err err;
    json_t *ev = ag_intel_misp_event_export(c.list.items, c.list.len, &o, &err);
    ag_intel_list_free(&c.list);
    if (!ev) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    respond_doc(req, 200, "application/json", ev);
}

/* ---- import ------------------------------------------------------------------ */

/* The import defaults from the query: ?source, ?confidence, ?tlp, ?ttl_s.
 * Responds and returns -1 when one is malformed. */
static int import_opts(struct ag_http_req *req, struct ag_intel_import_opts *o)
{
    ag_intel_import_opts_init(o, ag_time_now_ms());
    const char *s = ag_http_query(req, "source"), *c = ag_http_query(req, "confidence");
    const char *t = ag_http_query(req, "tlp"), *ttl = ag_http_query(req, "ttl_s");
    char *end;
    if (s) {
        if (!*s || strlen(s) > AG_INTEL_SOURCE_MAX) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "source", "source must be 1 to %d bytes",
                         AG_INTEL_SOURCE_MAX);
            return -1;
        }
        o->source = s;
    }
    if (c) {
        long v = strtol(c, &end, 10);
        if (!*c || *end || v < 0 || v > 100) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "confidence",
                         "confidence must be an integer from 0 to 100");
            return -1;
        }
        o->confidence = (int)v;
    }
    if (t && ag_intel_tlp_parse(t, &o->tlp)) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", "tlp",
                     "tlp must be clear, green, amber, amber+strict or red");
        return -1;
    }
    if (ttl) {
        long long v = strtoll(ttl, &end, 10);
        if (!*ttl || *end || v < 0 || v > 10LL * 365 * 86400) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "ttl_s",
                         "ttl_s must be a number of seconds (0: no expiry)");
            return -1;
        }
        o->ttl_ms = v * 1000;
    }
    return 0;
}

/* The request body as JSON text under the configured limits (any JSON media
 * type). Responds and returns -1 when it is not acceptable. */
static int json_text_body(struct ag_app *app, struct ag_http_req *req)
{
    const char *ct = ag_http_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) && strncasecmp(ct, "application/stix+json", 21) &&
        strncasecmp(ct, "application/taxii+json", 22)) {
        ag_api_error(req, AG_EINVAL, "unsupported_media_type", "",
                     "send the body as application/json or application/stix+json");
        req->status = 415;
        return -1;
    }
    struct ag_err err;
    json_t *v = ag_json_parse(req->body.data ? req->body.data : "", req->body.len,
                              (int)app->cfg->max_json_depth, &err);
    if (!v) {
        ag_http_respond_error(req, 400, &err);
        return -1;
    }
    json_decref(v);
    return 0;
}

static json_t *import_report(const struct ag_intel_import *imp, size_t created, size_t updated)
{
    json_t *notes = json_array();
    for (size_t i = 0; notes && i < imp->nnotes; i++)
        json_array_append_new(notes, json_pack("{s:s, s:s}", "where", imp->notes[i].where,
                                               "reason", imp->notes[i].reason));
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "seen", (json_int_t)imp->seen, "imported",
                     (json_int_t)imp->list.len, "created", (json_int_t)created, "updated",
                     (json_int_t)updated, "unsupported", notes ? notes : json_array());
}

static void do_import(struct ag_app *app, struct ag_http_req *req, bool stix)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    struct ag_intel_import_opts o;
    if (!svc || import_opts(req, &o) || json_text_body(app, req))
        return;
    struct ag_intel_import imp = {0};
    struct ag_err err;
    const char *buf = req->body.data ? req->body.data : "";
    int rc = stix ? ag_intel_stix_import(buf, req->body.len, &o, &imp, &err)
                  : ag_intel_misp_import(buf, req->body.len, &o, &imp, &err);
    size_t created = 0, updated = 0;
    if (!rc && imp.list.len)
        rc = ag_api_intel_store_list(svc, imp.list.items, imp.list.len, &created, &updated, &err);
    if (rc) {
        ag_intel_import_free(&imp);
        if (rc == AG_EINVAL && strcmp(err.slug, "invalid_json") != 0)
            snprintf(err.slug, sizeof err.slug, "%s", stix ? "invalid_stix" : "invalid_misp");
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *out = import_report(&imp, created, updated);
    ag_intel_import_free(&imp);
    ag_http_respond_json(req, 200, out);
}

void ag_api_intel_import_stix(struct ag_app *app, struct ag_http_req *req) { do_import(app, req, true); }

void ag_api_intel_import_misp(struct ag_app *app, struct ag_http_req *req) { do_import(app, req, false); }

/* ---- feeds --------------------------------------------------------------------- */

static json_t *feed_json(const struct ag_intel_feed_rec *r)
{
    json_t *cfg = json_loads(r->config, 0, NULL);
    struct ag_intel_feed_config c;
    json_t *o = cfg && ag_intel_feed_config_from_json(cfg, &c, NULL) == 0
                    ? ag_intel_feed_config_to_json(&c)
                    : json_object();
    json_decref(cfg);
    if (!o)
        return NULL;
    char t[40];
    json_t *st = json_object();
    json_object_set_new(st, "state", json_string(r->last_status));
    if (r->last_fetch_at) {
        ag_time_format_ms(r->last_fetch_at, t, sizeof t);
        json_object_set_new(st, "last_fetch_at", json_string(t));
    } else {
        json_object_set_new(st, "last_fetch_at", json_null());
    }
    ag_time_format_ms(r->next_fetch_at, t, sizeof t);
    json_object_set_new(st, "next_fetch_at", json_string(t));
    json_object_set_new(st, "error", r->last_error && *r->last_error ? json_string(r->last_error)
                                                                      : json_null());
    json_object_set_new(st, "indicators", json_integer(r->last_count));
    json_object_set_new(st, "bytes", json_integer(r->last_bytes));
    json_t *notes = json_loads(r->last_notes ? r->last_notes : "[]", 0, NULL);
    json_object_set_new(st, "notes", notes ? notes : json_array());
    json_object_set_new(o, "id", json_string(r->name));
    json_object_set_new(o, "fetch", st);
    return o;
}

static int feed_one_cb(void *arg, const struct ag_intel_feed_rec *r)
{
    *(json_t **)arg = feed_json(r);
    return 0;
}

static int feed_list_cb(void *arg, const struct ag_intel_feed_rec *r)
{
    json_t *o = feed_json(r);
    if (o)
        json_array_append_new(arg, o);
    return 0;
}

static void respond_feed(struct ag_app *app, struct ag_http_req *req, const char *name, int status)
{
    json_t *o = NULL;
    struct ag_err err;
    if (ag_store_intel_feed_get(app->store, name, feed_one_cb, &o, &err)) {
        json_decref(o);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, status, o);
}

void ag_api_intel_feeds_list(struct ag_app *app, struct ag_http_req *req)
{
    json_t *items = json_array();
    struct ag_err err;
    if (!items || ag_store_intel_feed_list(app->store, feed_list_cb, items, &err)) {
        json_decref(items);
        if (!items)
            ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, json_pack("{s:o}", "items", items));
}

struct feed_job {
    const char *name, *config;
    int64_t now;
};

static int feed_create_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct feed_job *j = arg;
    return ag_store_intel_feed_create(tx, j->name, j->config, j->now, err);
}

static int feed_delete_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct feed_job *j = arg;
    return ag_store_intel_feed_delete(tx, j->name, err);
}

void ag_api_intel_feeds_create(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct ag_intel_feed_config c;
    struct ag_err err;
    int rc = ag_intel_feed_config_from_json(body, &c, &err);
    json_decref(body);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *norm = ag_intel_feed_config_to_json(&c);
    if (norm) {
        json_object_del(norm, "source");
        json_object_del(norm, "description");
    }
    char *text = norm ? json_dumps(norm, JSON_COMPACT) : NULL;
    json_decref(norm);
    if (!text) {
        ag_api_error(req, AG_ENOMEM, NULL, "", "out of memory");
        return;
    }
    struct feed_job j = {c.name, text, ag_time_now_ms()};
    rc = ag_store_exec(app->store, feed_create_job, &j, &err);
    free(text);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_api_intel_feeds_kick(svc);
    respond_feed(app, req, c.name, 201);
}

void ag_api_intel_feeds_get(struct ag_app *app, struct ag_http_req *req)
{
    respond_feed(app, req, req->params[0], 200);
}

void ag_api_intel_feeds_delete(struct ag_app *app, struct ag_http_req *req)
{
    struct feed_job j = {req->params[0], NULL, 0};
    struct ag_err err;
    if (ag_store_exec(app->store, feed_delete_job, &j, &err)) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_bytes(req, 204, "application/json", "", 0);
}

void ag_api_intel_feeds_refresh(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_intel_svc *svc = svc_or_503(app, req);
    if (!svc)
        return;
    struct ag_err err;
    int rc = ag_api_intel_feed_fetch(svc, req->params[0], &err);
    if (rc == AG_ENOTFOUND || rc == AG_ENOMEM || rc == AG_EINTERNAL) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    /* A failed fetch is the feed's state, not the request's: the answer is
     * the feed with fetch.state "error" and the reason. */
    respond_feed(app, req, req->params[0], 200);
}
