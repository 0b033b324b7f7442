/* TAXII 2.1 resource builders, filtering and keyset pagination (taxii.h). */
#include "intel/taxii.h"

#include "core/timeutil.h"
#include "core/util.h"
#include "intel/stix.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ag_intel_taxii_time_format(int64_t ms, char *buf, size_t len)
{
    char t[40];
    ag_time_format_ms(ms, t, sizeof t);
    snprintf(buf, len, "%.23s000Z", t);
}

/* ---- media types ------------------------------------------------------------ */

/* Compare one media range ignoring spaces and case. */
static bool range_is(const char *s, size_t n, const char *want)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i]))
            continue;
        if (!want[w] || tolower((unsigned char)s[i]) != tolower((unsigned char)want[w]))
            return false;
        w++;
    }
    return want[w] == '\0';
}

bool ag_intel_taxii_accept_ok(const char *accept)
{
    if (!accept)
        return true;
    for (const char *p = accept;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (range_is(p, n, "application/taxii+json;version=2.1") ||
            range_is(p, n, "application/taxii+json"))
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

/* ---- simple resources ------------------------------------------------------- */

json_t *ag_intel_taxii_discovery(const struct ag_intel_taxii_server *s)
{
    json_t *roots = json_array();
    for (size_t i = 0; roots && i < s->n_api_roots; i++)
        json_array_append_new(roots, json_string(s->api_roots[i]));
    json_t *o = json_pack("{s:s, s:o}", "title", s->title ? s->title : "accountguard", "api_roots",
                          roots);
    if (!o)
        return NULL;
    if (s->description)
        json_object_set_new(o, "description", json_string(s->description));
    if (s->contact)
        json_object_set_new(o, "contact", json_string(s->contact));
    if (s->default_api_root)
        json_object_set_new(o, "default", json_string(s->default_api_root));
    return o;
}

json_t *ag_intel_taxii_api_root(const struct ag_intel_taxii_api_root *r)
{
    json_t *o = json_pack("{s:s, s:[s], s:I}", "title", r->title ? r->title : "accountguard",
                          "versions", AG_INTEL_TAXII_MEDIA_TYPE, "max_content_length",
                          (json_int_t)r->max_content_length);
    if (o && r->description)
        json_object_set_new(o, "description", json_string(r->description));
    return o;
}

json_t *ag_intel_taxii_collection(const struct ag_intel_taxii_collection *c)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:[s]}", "id", c->id, "title", c->title,
                          "can_read", c->can_read, "can_write", c->can_write, "media_types",
                          AG_INTEL_STIX_MEDIA_TYPE);
    if (!o)
        return NULL;
    if (c->description)
        json_object_set_new(o, "description", json_string(c->description));
    if (c->alias)
        json_object_set_new(o, "alias", json_string(c->alias));
    return o;
}

json_t *ag_intel_taxii_collections(const struct ag_intel_taxii_collection *cs, size_t n)
{
    json_t *o = json_object();
    if (!o || n == 0)
        return o; /* an empty collections resource has no "collections" member */
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, ag_intel_taxii_collection(&cs[i]));
    json_object_set_new(o, "collections", a);
    return o;
}

json_t *ag_intel_taxii_error(const char *title, const char *description, int http_status)
{
    char st[8];
    snprintf(st, sizeof st, "%d", http_status);
    json_t *o = json_pack("{s:s, s:s}", "title", title, "http_status", st);
    if (o && description)
        json_object_set_new(o, "description", json_string(description));
    return o;
}

json_t *ag_intel_taxii_status(const char *status_id, int64_t request_ms, size_t total_objects,
                              const struct ag_intel_import *imp)
{
    char ts[40];
    ag_intel_taxii_time_format(request_ms, ts, sizeof ts);
    json_t *succ = json_array(), *fail = json_array();
    for (size_t i = 0; succ && i < imp->list.len; i++) {
        /* status-details require the version: an indicator's is its modified time */
        char ver[40];
        ag_intel_stix_time_format(imp->list.items[i].modified_ms, ver, sizeof ver);
        json_array_append_new(succ, json_pack("{s:s, s:s}", "id", imp->list.items[i].id, "version",
                                              ver));
    }
    for (size_t i = 0; fail && i < imp->nnotes; i++)
        json_array_append_new(fail, json_pack("{s:s, s:s}", "id", imp->notes[i].where, "message",
                                              imp->notes[i].reason));
    size_t nfail = imp->nnotes, nsucc = total_objects > nfail ? total_objects - nfail : 0;
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:o, s:I}", "id", status_id, "status",
                     "complete", "request_timestamp", ts, "total_count",
                     (json_int_t)total_objects, "success_count", (json_int_t)nsucc, "successes",
                     succ, "failure_count", (json_int_t)nfail, "failures", fail, "pending_count",
                     (json_int_t)0);
}

/* ---- filters ------------------------------------------------------------------ */

int ag_intel_taxii_filter_parse(const char *added_after, const char *limit, const char *next,
                                const char *match_id, const char *match_type,
                                const char *match_version, const char *match_spec_version,
                                struct ag_intel_taxii_filter *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    out->added_after_ms = -1;
    out->limit = AG_INTEL_TAXII_PAGE_MAX;
    if (added_after && ag_intel_stix_time_parse(added_after, &out->added_after_ms) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_parameter", "added_after",
                          "added_after must be a timestamp like 2026-01-01T00:00:00.000Z");
    if (limit) {
        char *end;
        long long l = strtoll(limit, &end, 10);
        if (!*limit || *end || l < 1)
            return ag_err_set(err, AG_EINVAL, "invalid_parameter", "limit",
                              "limit must be a positive integer");
        out->limit = l > AG_INTEL_TAXII_PAGE_MAX ? AG_INTEL_TAXII_PAGE_MAX : (size_t)l;
    }
    if (next) {
        if (strlen(next) >= sizeof out->next)
            return ag_err_set(err, AG_EINVAL, "invalid_parameter", "next",
                              "next is not a cursor this server issued");
        snprintf(out->next, sizeof out->next, "%s", next);
    }
    if (match_version && strcmp(match_version, "first") != 0 &&
        strcmp(match_version, "last") != 0 && strcmp(match_version, "all") != 0) {
        for (const char *p = match_version; *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            char t[48];
            int64_t ms;
            if (n >= sizeof t)
                n = sizeof t - 1;
            memcpy(t, p, n);
            t[n] = '\0';
            if (ag_intel_stix_time_parse(t, &ms) != 0)
                return ag_err_set(err, AG_EINVAL, "invalid_parameter", "match[version]",
                                  "match[version] must be first, last, all or timestamps");
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    out->match_id = match_id;
    out->match_type = match_type;
    out->match_version = match_version;
    out->match_spec_version = match_spec_version;
    return 0;
}

/* Is <word> one of the comma-separated items of <list>? */
static bool in_list(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list;;) {
        while (*p == ' ')
            p++;
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n == wl && strncasecmp(p, word, n) == 0)
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

static bool version_matches(const char *mv, int64_t modified_ms)
{
    if (!mv || strcmp(mv, "first") == 0 || strcmp(mv, "last") == 0 || strcmp(mv, "all") == 0)
        return true;
    for (const char *p = mv;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char t[48];
        int64_t ms;
        if (n < sizeof t) {
            memcpy(t, p, n);
            t[n] = '\0';
            if (ag_intel_stix_time_parse(t, &ms) == 0 && ms == modified_ms)
                return true;
        }
        if (!comma)
            return false;
        p = comma + 1;
    }
}

static int64_t added_of(const struct ag_intel_indicator *i)
{
    return i->added_ms ? i->added_ms : i->created_ms;
}

static int key_cmp(int64_t a_added, const char *a_id, int64_t b_added, const char *b_id)
{
    if (a_added != b_added)
        return a_added < b_added ? -1 : 1;
    return strcmp(a_id, b_id);
}

/* qsort_r comparator (glibc argument order): <base> is the indicator array. */
static int by_key(const void *a, const void *b, void *base)
{
    const struct ag_intel_indicator *inds = base;
    const struct ag_intel_indicator *x = &inds[*(const size_t *)a];
    const struct ag_intel_indicator *y = &inds[*(const size_t *)b];
    return key_cmp(added_of(x), x->id, added_of(y), y->id);
}

/* The cursor names the last object of the previous page: "<ms hex>.<id>". */
static void cursor_make(const struct ag_intel_indicator *i, char *buf, size_t len)
{
    const char *u = strstr(i->id, "--");
    snprintf(buf, len, "%" PRIx64 ".%s", (uint64_t)added_of(i), u ? u + 2 : i->id);
}

static int cursor_parse(const char *c, int64_t *added, char id[AG_INTEL_ID_LEN + 1])
{
    char *end;
    unsigned long long v = strtoull(c, &end, 16);
    if (end == c || *end != '.' || strlen(end + 1) != 36)
        return -1;
    snprintf(id, AG_INTEL_ID_LEN + 1, "indicator--%s", end + 1);
    if (!ag_intel_stix_id_valid(id, "indicator"))
        return -1;
    *added = (int64_t)v;
    return 0;
}

/* Select, sort and page. Fills idx[0..*count) and the page's paging fields. */
static int select_page(const struct ag_intel_indicator *inds, size_t n,
                       const struct ag_intel_taxii_filter *f, size_t **idx_out, size_t *count,
                       struct ag_intel_taxii_page *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    *idx_out = NULL;
    *count = 0;
    int64_t c_added = 0;
    char c_id[AG_INTEL_ID_LEN + 1] = "";
    bool has_cursor = f->next[0] != '\0';
    if (has_cursor && cursor_parse(f->next, &c_added, c_id) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_parameter", "next",
                          "next is not a cursor this server issued");
    bool type_ok = !f->match_type || in_list(f->match_type, "indicator");
    bool spec_ok = !f->match_spec_version || in_list(f->match_spec_version, "2.1");
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n && type_ok && spec_ok; i++) {
        const struct ag_intel_indicator *x = &inds[i];
        int64_t a = added_of(x);
        if (f->added_after_ms >= 0 && a <= f->added_after_ms)
            continue;
        if (f->match_id && !in_list(f->match_id, x->id))
            continue;
        if (!version_matches(f->match_version, x->modified_ms))
            continue;
        if (has_cursor && key_cmp(a, x->id, c_added, c_id) <= 0)
            continue;
        idx[m++] = i;
    }
    qsort_r(idx, m, sizeof *idx, by_key, (void *)inds);
    size_t limit = f->limit ? f->limit : AG_INTEL_TAXII_PAGE_MAX;
    if (limit > AG_INTEL_TAXII_PAGE_MAX)
        limit = AG_INTEL_TAXII_PAGE_MAX;
    size_t take = m < limit ? m : limit;
    out->count = take;
    out->more = m > take;
    if (take) {
        ag_intel_taxii_time_format(added_of(&inds[idx[0]]), out->date_added_first,
                                   sizeof out->date_added_first);
        ag_intel_taxii_time_format(added_of(&inds[idx[take - 1]]), out->date_added_last,
                                   sizeof out->date_added_last);
    }
    if (out->more)
        cursor_make(&inds[idx[take - 1]], out->next, sizeof out->next);
    *idx_out = idx;
    *count = take;
    return 0;
}

static json_t *page_body(const struct ag_intel_taxii_page *p, json_t *objects)
{
    json_t *o = json_pack("{s:b}", "more", p->more);
    if (!o) {
        json_decref(objects);
        return NULL;
    }
    if (p->more)
        json_object_set_new(o, "next", json_string(p->next));
    if (json_array_size(objects))
        json_object_set_new(o, "objects", objects);
    else
        json_decref(objects);
    return o;
}

int ag_intel_taxii_objects(const struct ag_intel_indicator *inds, size_t n,
                           const struct ag_intel_taxii_filter *f, const char *identity_id,
                           struct ag_intel_taxii_page *out, struct ag_err *err)
{
    size_t *idx, count;
    int rc = select_page(inds, n, f, &idx, &count, out, err);
    if (rc)
        return rc;
    json_t *objs = json_array();
    for (size_t i = 0; objs && i < count; i++) {
        json_t *o = ag_intel_stix_indicator(&inds[idx[i]], identity_id);
        if (!o || json_array_append_new(objs, o)) {
            json_decref(objs);
            objs = NULL;
        }
    }
    free(idx);
    if (!objs || !(out->body = page_body(out, objs)))
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    return 0;
}

int ag_intel_taxii_manifest(const struct ag_intel_indicator *inds, size_t n,
                            const struct ag_intel_taxii_filter *f, struct ag_intel_taxii_page *out,
                            struct ag_err *err)
{
    size_t *idx, count;
    int rc = select_page(inds, n, f, &idx, &count, out, err);
    if (rc)
        return rc;
    json_t *objs = json_array();
    for (size_t i = 0; objs && i < count; i++) {
        const struct ag_intel_indicator *x = &inds[idx[i]];
        char da[40], ver[40];
        ag_intel_taxii_time_format(added_of(x), da, sizeof da);
        ag_intel_stix_time_format(x->modified_ms, ver, sizeof ver);
        if (json_array_append_new(objs, json_pack("{s:s, s:s, s:s, s:s}", "id", x->id,
                                                  "date_added", da, "version", ver, "media_type",
                                                  AG_INTEL_STIX_MEDIA_TYPE))) {
            json_decref(objs);
            objs = NULL;
        }
    }
    free(idx);
    if (!objs || !(out->body = page_body(out, objs)))
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    return 0;
}

int ag_intel_taxii_versions(const struct ag_intel_indicator *inds, size_t n,
                            const char *object_id, const struct ag_intel_taxii_filter *f,
                            struct ag_intel_taxii_page *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct ag_intel_indicator *x = &inds[i];
        if (strcmp(x->id, object_id) != 0)
            continue;
        if (f && f->added_after_ms >= 0 && added_of(x) <= f->added_after_ms)
            break;
        char ver[40];
        ag_intel_stix_time_format(x->modified_ms, ver, sizeof ver);
        out->body = json_pack("{s:b, s:[s]}", "more", 0, "versions", ver);
        if (!out->body)
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        out->count = 1;
        ag_intel_taxii_time_format(added_of(x), out->date_added_first,
                                   sizeof out->date_added_first);
        memcpy(out->date_added_last, out->date_added_first, sizeof out->date_added_last);
        return 0;
    }
    return ag_err_set(err, AG_ENOTFOUND, "not_found", "object_id", "no object %.80s",
                      object_id);
}
