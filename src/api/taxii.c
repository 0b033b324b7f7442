/* The TAXII 2.1 server: discovery at /taxii2/, one API root
 * (/taxii2/accountguard/) with two collections of the store's indicators:
 *   indicators  every indicator, readable (intel:read) and writable
 *               (intel:write: POST objects imports STIX indicators)
 *   shareable   the TLP:CLEAR and TLP:GREEN ones, read-only, for peers
 * Responses and error bodies are application/taxii+json;version=2.1; a
 * request whose Accept does not allow it gets 406, a POST whose
 * Content-Type is not it gets 415. Paging, added_after and the match[]
 * filters are intel/taxii.c's; this file reads the rows a page needs from
 * the store (in (date added, id) order, from the cursor's position) and
 * sends the X-TAXII-Date-Added-First/Last headers.
 *
 * Authentication is the API's (Authorization: Bearer <API key>, scopes
 * intel:read / intel:write), done here rather than in the generic dispatch
 * so that a TAXII client gets TAXII error bodies for 401 and 403 too. */
#include "api/intel.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/stix.h"
#include "intel/taxii.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROOT_PATH "/taxii2/accountguard/"

static const struct collection {
    struct ag_intel_taxii_collection c;
    bool shareable_only;
} collections[] = {
    {{"2f6b6c1e-3f1a-4e5b-9a8c-6d0e4b7a1c21", "Indicators",
      "Every threat indicator accountguard holds (IPs, networks, domains, URLs, email addresses, "
      "phone numbers, device ids, account fingerprints). Writable: POST STIX indicators to add.",
      "indicators", true, true},
     false},
    {{"8c3d5e7f-1a2b-4c6d-8e0f-2a4b6c8d0e13", "Shareable indicators",
      "The TLP:CLEAR and TLP:GREEN indicators, for peers.", "shareable", true, false},
     true},
};

/* ---- responses -------------------------------------------------------------- */

static void respond_taxii(struct ag_http_req *req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!s) {
        static const char oom[] = "{\"title\":\"Out of memory\",\"http_status\":\"503\"}";
        s = strdup(oom);
        status = 503;
    }
    ag_http_respond_owned(req, status, s, s ? strlen(s) : 0);
    req->content_type = AG_INTEL_TAXII_MEDIA_TYPE;
}

static void taxii_error(struct ag_http_req *req, int status, const char *title, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
static void taxii_error(struct ag_http_req *req, int status, const char *title, const char *fmt,
                        ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    respond_taxii(req, status, ag_intel_taxii_error(title, desc, status));
}

static void taxii_error_from(struct ag_http_req *req, const struct ag_err *err)
{
    int status = ag_err_http_status(err->code);
    const char *title = status == 404   ? "Not found"
                        : status == 400 ? "Bad request"
                        : status == 413 ? "Too large"
                        : status >= 500 ? "Server error"
                                        : "Request failed";
    if (err->field[0])
        taxii_error(req, status, title, "%s: %s", err->field, err->msg);
    else
        taxii_error(req, status, title, "%s", err->msg);
}

/* Authenticate, check the route's scope (routes.c) and the Accept header.
 * Responds and returns false when the request may not go on. */
static bool gate(struct ag_app *app, struct ag_http_req *req)
{
    const char *scope = req->route_index >= 0 && req->route_index < ag_routes_count
                            ? ag_routes[req->route_index].scope
                            : "admin";
    struct ag_apikey_rec key;
    struct ag_err err;
    int rc = ag_api_key_verify(app->store, app->apikey_key, ag_http_header(req, "Authorization"),
                               &key, &err);
    if (rc) {
        int status = ag_err_http_status(rc);
        taxii_error(req, status, status == 401 ? "Unauthorized" : "Authentication failed", "%s",
                    err.msg);
        if (status == 401)
            ag_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"accountguard\"");
        return false;
    }
    snprintf(req->principal, sizeof req->principal, "apikey:%s", key.id);
    if (!ag_api_rate_allow("key", key.id, app->cfg->rate_per_key)) {
        taxii_error(req, 429, "Too many requests", "this API key is over its rate limit");
        ag_http_add_header(req, "Retry-After", "1");
        return false;
    }
    if (!ag_api_scope_allows(key.scopes, scope)) {
        taxii_error(req, 403, "Forbidden", "this API key lacks the '%s' scope", scope);
        return false;
    }
    if (!ag_intel_taxii_accept_ok(ag_http_header(req, "Accept"))) {
        taxii_error(req, 406, "Not acceptable",
                    "this server answers with " AG_INTEL_TAXII_MEDIA_TYPE);
        return false;
    }
    return true;
}

static const struct collection *find_collection(struct ag_http_req *req)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(collections); i++)
        if (!strcmp(req->params[0], collections[i].c.id) ||
            !strcmp(req->params[0], collections[i].c.alias))
            return &collections[i];
    taxii_error(req, 404, "Not found", "no collection %.64s", req->params[0]);
    return NULL;
}

/* ---- discovery, API root, collections ---------------------------------------- */

static void base_url(struct ag_app *app, struct ag_http_req *req, char *buf, size_t len)
{
    const char *pub = app->cfg->public_url;
    const char *host = ag_http_header(req, "Host");
    if (pub && *pub)
        snprintf(buf, len, "%s", pub);
    else
        snprintf(buf, len, "http://%s", host && *host ? host : app->cfg->listen);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '/')
        buf[n - 1] = '\0';
}

void ag_api_taxii_discovery(struct ag_app *app, struct ag_http_req *req)
{
    if (!gate(app, req))
        return;
    char base[512], root[600];
    base_url(app, req, base, sizeof base);
    snprintf(root, sizeof root, "%s" ROOT_PATH, base);
    const char *roots[] = {root};
    struct ag_intel_taxii_server s = {
        .title = "accountguard TAXII server",
        .description = "Threat indicators from accountguard (account protection and fraud).",
        .default_api_root = root,
        .api_roots = roots,
        .n_api_roots = 1,
    };
    respond_taxii(req, 200, ag_intel_taxii_discovery(&s));
}

void ag_api_taxii_api_root(struct ag_app *app, struct ag_http_req *req)
{
    if (!gate(app, req))
        return;
    struct ag_intel_taxii_api_root r = {
        .title = "accountguard",
        .description = "Indicators of account takeover and fraud: networks, domains, URLs, "
                       "email addresses, phone numbers, devices and account fingerprints.",
        .max_content_length = app->cfg->max_body_bytes,
    };
    respond_taxii(req, 200, ag_intel_taxii_api_root(&r));
}

void ag_api_taxii_collections(struct ag_app *app, struct ag_http_req *req)
{
    if (!gate(app, req))
        return;
    struct ag_intel_taxii_collection cs[AG_ARRAY_LEN(collections)];
    for (size_t i = 0; i < AG_ARRAY_LEN(collections); i++)
        cs[i] = collections[i].c;
    respond_taxii(req, 200, ag_intel_taxii_collections(cs, AG_ARRAY_LEN(cs)));
}

void ag_api_taxii_collection(struct ag_app *app, struct ag_http_req *req)
{
    const struct collection *c;
    if (!gate(app, req) || !(c = find_collection(req)))
        return;
    respond_taxii(req, 200, ag_intel_taxii_collection(&c->c));
}

/* ---- objects and manifest ------------------------------------------------------ */

struct rows {
    struct ag_intel_list list;
    bool oom;
};

static int rows_cb(void *arg, const struct ag_intel_rec *r)
{
    struct rows *rs = arg;
    struct ag_intel_indicator ind;
    if (ag_api_intel_from_rec(r, &ind) || ag_intel_list_push_move(&rs->list, &ind)) {
        ag_intel_indicator_free(&ind);
        rs->oom = true;
        return 1;
    }
    return 0;
}

/* The cursor (intel/taxii.c) names the last object of the previous page as
 * "<date added, ms, hex>.<uuid>": read its position so the store returns
 * only what follows. A cursor that does not read is left to the builder,
 * which rejects it. */
static void cursor_position(const char *next, int64_t *added, char *id, size_t len)
{
    *added = -1;
    id[0] = '\0';
    char *end;
    unsigned long long v = strtoull(next, &end, 16);
    if (!*next || end == next || *end != '.' || strlen(end + 1) != 36)
        return;
    *added = (int64_t)v;
    snprintf(id, len, "indicator--%s", end + 1);
}

static int read_filter(struct ag_http_req *req, struct ag_intel_taxii_filter *f)
{
    struct ag_err err;
    if (ag_intel_taxii_filter_parse(ag_http_query(req, "added_after"), ag_http_query(req, "limit"),
                                    ag_http_query(req, "next"), ag_http_query(req, "match[id]"),
                                    ag_http_query(req, "match[type]"),
                                    ag_http_query(req, "match[version]"),
                                    ag_http_query(req, "match[spec_version]"), f, &err)) {
        taxii_error_from(req, &err);
        return -1;
    }
    return 0;
}

/* Load the rows a page under <f> can hold. Without id or version filters
 * the store returns at most limit + 1 rows from the cursor on (one more
 * than the page tells whether there is a next); with them, every row from
 * the cursor on, and the builder selects. */
static int load_rows(struct ag_app *app, struct ag_http_req *req, const struct collection *c,
                     const struct ag_intel_taxii_filter *f, struct rows *rs)
{
    memset(rs, 0, sizeof *rs);
    int64_t after = -1;
    char after_id[AG_INTEL_ID_LEN + 1] = "";
    if (f->next[0])
        cursor_position(f->next, &after, after_id, sizeof after_id);
    bool filtered = f->match_id || (f->match_version && strcmp(f->match_version, "first") &&
                                    strcmp(f->match_version, "last") &&
                                    strcmp(f->match_version, "all"));
    int limit = filtered ? 0 : (int)f->limit + 1;
    struct ag_err err;
    int rc = ag_store_intel_scan_added(app->store, after, after_id, f->added_after_ms,
                                       c->shareable_only, limit, rows_cb, rs, &err);
    if (!rc && rs->oom)
        rc = ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
    if (rc) {
        ag_intel_list_free(&rs->list);
        taxii_error_from(req, &err);
        return -1;
    }
    return 0;
}

static void page_headers(struct ag_http_req *req, const struct ag_intel_taxii_page *p)
{
    if (p->date_added_first[0])
        ag_http_add_header(req, "X-TAXII-Date-Added-First", p->date_added_first);
    if (p->date_added_last[0])
        ag_http_add_header(req, "X-TAXII-Date-Added-Last", p->date_added_last);
}

static void objects_or_manifest(struct ag_app *app, struct ag_http_req *req, bool manifest)
{
    const struct collection *c;
    struct ag_intel_taxii_filter f;
    struct rows rs;
    if (!gate(app, req) || !(c = find_collection(req)) || read_filter(req, &f) ||
        load_rows(app, req, c, &f, &rs))
        return;
    struct ag_intel_svc *svc = ag_api_intel_svc(app);
    struct ag_intel_taxii_page page;
    struct ag_err err;
    int rc = manifest ? ag_intel_taxii_manifest(rs.list.items, rs.list.len, &f, &page, &err)
                      : ag_intel_taxii_objects(rs.list.items, rs.list.len, &f,
                                               svc ? ag_api_intel_identity(svc) : NULL, &page,
                                               &err);
    ag_intel_list_free(&rs.list);
    if (rc) {
        taxii_error_from(req, &err);
        return;
    }
    page_headers(req, &page);
    respond_taxii(req, 200, page.body);
}

void ag_api_taxii_objects_get(struct ag_app *app, struct ag_http_req *req)
{
    objects_or_manifest(app, req, false);
}

void ag_api_taxii_manifest(struct ag_app *app, struct ag_http_req *req)
{
    objects_or_manifest(app, req, true);
}

/* One object of the collection, as a one-element list (or none). */
static int load_one(struct ag_app *app, struct ag_http_req *req, const struct collection *c,
                    struct rows *rs)
{
    memset(rs, 0, sizeof *rs);
    struct ag_err err;
    const char *id = req->params[1];
    if (!ag_intel_stix_id_valid(id, "indicator"))
        return 0; /* not one of ours: an empty list, hence 404 */
    int rc = ag_store_intel_get(app->store, id, rows_cb, rs, &err);
    if (rc == AG_ENOTFOUND)
        return 0;
    if (!rc && rs->oom)
        rc = ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
    if (rc) {
        taxii_error_from(req, &err);
        return -1;
    }
    if (rs->list.len && c->shareable_only && rs->list.items[0].tlp != AG_INTEL_TLP_CLEAR &&
        rs->list.items[0].tlp != AG_INTEL_TLP_GREEN)
        ag_intel_list_free(&rs->list);
    return 0;
}

void ag_api_taxii_object_get(struct ag_app *app, struct ag_http_req *req)
{
    const struct collection *c;
    struct ag_intel_taxii_filter f;
    struct rows rs;
    if (!gate(app, req) || !(c = find_collection(req)) || read_filter(req, &f) ||
        load_one(app, req, c, &rs))
        return;
    f.match_id = req->params[1];
    struct ag_intel_svc *svc = ag_api_intel_svc(app);
    struct ag_intel_taxii_page page;
    struct ag_err err;
    int rc = ag_intel_taxii_objects(rs.list.items, rs.list.len, &f,
                                    svc ? ag_api_intel_identity(svc) : NULL, &page, &err);
    ag_intel_list_free(&rs.list);
    if (rc) {
        taxii_error_from(req, &err);
        return;
    }
    if (!page.count) {
        json_decref(page.body);
        taxii_error(req, 404, "Not found", "no object %.80s in this collection", req->params[1]);
        return;
    }
    page_headers(req, &page);
    respond_taxii(req, 200, page.body);
}

void ag_api_taxii_object_versions(struct ag_app *app, struct ag_http_req *req)
{
    const struct collection *c;
    struct ag_intel_taxii_filter f;
    struct rows rs;
    if (!gate(app, req) || !(c = find_collection(req)) || read_filter(req, &f) ||
        load_one(app, req, c, &rs))
        return;
    struct ag_intel_taxii_page page;
    struct ag_err err;
    int rc = ag_intel_taxii_versions(rs.list.items, rs.list.len, req->params[1], &f, &page, &err);
    ag_intel_list_free(&rs.list);
    if (rc) {
        taxii_error_from(req, &err);
        return;
    }
    page_headers(req, &page);
    respond_taxii(req, 200, page.body);
}

/* ---- adding objects and the status resources ---------------------------------- */

/* Adds finish before the answer, so a status is complete when created; the
 * last few are kept in memory for GET .../status/{id}/. */
#define STATUS_KEEP 64
static struct {
    pthread_mutex_t mu;
    char ids[STATUS_KEEP][40];
    char *bodies[STATUS_KEEP];
    unsigned next;
} statuses = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void status_keep(const char *id, const json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    if (!s)
        return;
    pthread_mutex_lock(&statuses.mu);
    unsigned i = statuses.next++ % STATUS_KEEP;
    free(statuses.bodies[i]);
    statuses.bodies[i] = s;
    snprintf(statuses.ids[i], sizeof statuses.ids[i], "%s", id);
    pthread_mutex_unlock(&statuses.mu);
}

static bool media_type_is_taxii(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    static const char mt[] = "application/taxii+json";
    if (strncasecmp(ct, mt, sizeof mt - 1))
        return false;
    const char *p = ct + sizeof mt - 1;
    bool version_ok = true;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!strncasecmp(p, "version", 7)) {
            const char *v = p + 7;
            while (*v == ' ')
                v++;
            version_ok = *v == '=' && !strncmp(v + 1 + strspn(v + 1, " "), "2.1", 3);
        }
        p += strcspn(p, ";");
        if (*p == '\0')
            break;
    }
    return version_ok && (ct[sizeof mt - 1] == '\0' || ct[sizeof mt - 1] == ';' ||
                          ct[sizeof mt - 1] == ' ');
}

void ag_api_taxii_objects_post(struct ag_app *app, struct ag_http_req *req)
{
    const struct collection *c;
    if (!gate(app, req) || !(c = find_collection(req)))
        return;
    if (!c->c.can_write) {
        taxii_error(req, 403, "Forbidden", "the collection %s is read-only", c->c.alias);
        return;
    }
    if (!media_type_is_taxii(ag_http_header(req, "Content-Type"))) {
        taxii_error(req, 415, "Unsupported media type",
                    "send the envelope as " AG_INTEL_TAXII_MEDIA_TYPE);
        return;
    }
    struct ag_intel_svc *svc = ag_api_intel_svc(app);
    if (!svc) {
        taxii_error(req, 503, "Unavailable", "threat intelligence is not enabled");
        return;
    }
    struct ag_err err;
    json_t *env = ag_json_parse(req->body.data ? req->body.data : "", req->body.len,
                                (int)app->cfg->max_json_depth, &err);
    json_t *objects = json_object_get(env, "objects");
    if (!env || !json_is_object(env) || !json_is_array(objects)) {
        json_decref(env);
        if (env)
            ag_err_set(&err, AG_EINVAL, "invalid_envelope", "objects",
                       "the body must be an envelope {\"objects\": [...]}");
        taxii_error_from(req, &err);
        return;
    }
    int64_t now = ag_time_now_ms();
    struct ag_intel_import_opts o;
    ag_intel_import_opts_init(&o, now);
    o.source = NULL;
    struct ag_intel_import imp = {0};
    int rc = ag_intel_stix_objects_import(objects, "objects", &o, &imp, &err);
    size_t total = json_array_size(objects);
    json_decref(env);
    if (!rc && imp.list.len)
        rc = ag_api_intel_store_list(svc, imp.list.items, imp.list.len, NULL, NULL, &err);
    if (rc) {
        ag_intel_import_free(&imp);
        taxii_error_from(req, &err);
        return;
    }
    char uuid[AG_INTEL_ID_LEN + 1];
    ag_intel_id_new(uuid);
    const char *sid = uuid + strlen("indicator--");
    json_t *st = ag_intel_taxii_status(sid, now, total, &imp);
    ag_intel_import_free(&imp);
    if (st)
        status_keep(sid, st);
    respond_taxii(req, 202, st);
}

void ag_api_taxii_status(struct ag_app *app, struct ag_http_req *req)
{
    if (!gate(app, req))
        return;
    char *body = NULL;
    pthread_mutex_lock(&statuses.mu);
    for (unsigned i = 0; i < STATUS_KEEP && !body; i++)
        if (statuses.bodies[i] && !strcmp(statuses.ids[i], req->params[0]))
            body = strdup(statuses.bodies[i]);
    pthread_mutex_unlock(&statuses.mu);
    if (!body) {
        taxii_error(req, 404, "Not found", "no status %.64s (statuses are kept for the last %d "
                                           "requests)", req->params[0], STATUS_KEEP);
        return;
    }
    ag_http_respond_owned(req, 200, body, strlen(body));
    req->content_type = AG_INTEL_TAXII_MEDIA_TYPE;
}
