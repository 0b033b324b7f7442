/* MISP event import and export (see misp.h for the mapping). */
#include "intel/misp.h"

#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GUESS_IP AG_INTEL_TYPE_COUNT
#define FROM_TAG (AG_INTEL_TYPE_COUNT + 1)

static const struct {
    const char *misp;
    unsigned type;  /* enum ag_intel_type, GUESS_IP or FROM_TAG */
    int split;      /* value is "a|b": 1 keep a, 2 map both (domain|ip) */
} types[] = {
    {"ip-src", GUESS_IP, 0},
    {"ip-dst", GUESS_IP, 0},
    {"ip-src|port", GUESS_IP, 1},
    {"ip-dst|port", GUESS_IP, 1},
    {"domain", AG_INTEL_DOMAIN, 0},
    {"hostname", AG_INTEL_DOMAIN, 0},
    {"hostname|port", AG_INTEL_DOMAIN, 1},
    {"domain|ip", AG_INTEL_DOMAIN, 2},
    {"url", AG_INTEL_URL, 0},
    {"email", AG_INTEL_EMAIL, 0},
    {"email-src", AG_INTEL_EMAIL, 0},
    {"email-dst", AG_INTEL_EMAIL, 0},
    {"email-reply-to", AG_INTEL_EMAIL, 0},
    {"whois-registrant-email", AG_INTEL_EMAIL, 0},
    {"phone-number", AG_INTEL_PHONE, 0},
    {"whois-registrant-phone", AG_INTEL_PHONE, 0},
    {"iban", AG_INTEL_FINANCIAL, 0},
    {"bank-account-nr", AG_INTEL_FINANCIAL, 0},
    {"text", FROM_TAG, 0},
    {"other", FROM_TAG, 0},
};

/* What each of our types exports as: MISP type and category. */
static const struct {
    const char *type, *category;
} export_as[AG_INTEL_TYPE_COUNT] = {
    [AG_INTEL_IPV4] = {"ip-dst", "Network activity"},
    [AG_INTEL_IPV6] = {"ip-dst", "Network activity"},
    [AG_INTEL_DOMAIN] = {"domain", "Network activity"},
    [AG_INTEL_URL] = {"url", "Network activity"},
    [AG_INTEL_EMAIL] = {"email-src", "Payload delivery"},
    [AG_INTEL_PHONE] = {"phone-number", "Person"},
    [AG_INTEL_DEVICE] = {"text", "Other"},
    [AG_INTEL_FINANCIAL] = {"text", "Other"},
};

/* ---- export --------------------------------------------------------------- */

/* A tag {"name": prefix value suffix}. */
static json_t *tag(const char *prefix, const char *v, const char *suffix)
{
    char b[AG_INTEL_SOURCE_MAX + AG_INTEL_TAG_MAX + 64];
    snprintf(b, sizeof b, "%s%s%s", prefix, v, suffix);
    return json_pack("{s:s}", "name", b);
}

static void misp_time(int64_t ms, char *buf, size_t len)
{
    /* MISP's first_seen: microseconds and an explicit offset */
    char t[40];
    ag_time_format_ms(ms, t, sizeof t);
    snprintf(buf, len, "%.23s000+00:00", t); /* "YYYY-MM-DDTHH:MM:SS.mmm" */
}

static void uuid_of(const char *stix_id, char out[37])
{
    const char *u = strstr(stix_id, "--");
    snprintf(out, 37, "%.36s", u ? u + 2 : stix_id);
}

json_t *ag_intel_misp_event_export(const struct ag_intel_indicator *inds, size_t n,
                                   const struct ag_intel_misp_event_opts *o, struct ag_err *err)
{
    char uuid[37], secs[24], date[40];
    if (o && o->uuid) {
        snprintf(uuid, sizeof uuid, "%.36s", o->uuid);
    } else {
        char id[AG_INTEL_ID_LEN + 1];
        ag_intel_id_new(id);
        uuid_of(id, uuid);
    }
    int64_t when = o ? o->date_ms : 0;
    snprintf(secs, sizeof secs, "%lld", (long long)(when / 1000));
    ag_time_format(when, date, sizeof date);
    date[10] = '\0';
    json_t *attrs = json_array();
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:{s:s}}", "uuid", uuid,
                           "info", o && o->info ? o->info : "accountguard indicators", "date", date,
                           "timestamp", secs, "published", 0, "analysis", "2", "threat_level_id",
                           "2", "distribution", "0", "Orgc", "name",
                           o && o->org_name ? o->org_name : "accountguard");
    if (!ev || !attrs)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const struct ag_intel_indicator *ind = &inds[i];
        if ((unsigned)ind->type >= AG_INTEL_TYPE_COUNT || !ind->value) {
            json_decref(attrs);
            json_decref(ev);
            ag_err_set(err, AG_EINVAL, "invalid_field", "type", "indicator %s has no value",
                       ind->id);
            return NULL;
        }
        char au[37], s2[24], fs[64], vu[40], conf[8];
        uuid_of(ind->id, au);
        snprintf(s2, sizeof s2, "%lld", (long long)(ind->modified_ms / 1000));
        misp_time(ind->valid_from_ms, fs, sizeof fs);
        snprintf(conf, sizeof conf, "%d", ind->confidence);
        json_t *tags = json_array();
        if (!tags)
            goto oom;
        int bad = json_array_append_new(tags, tag("tlp:", ag_intel_tlp_name(ind->tlp), ""));
        bad |= json_array_append_new(tags, tag("accountguard:confidence=\"", conf, "\""));
        if (ind->source)
            bad |= json_array_append_new(tags, tag("accountguard:source=\"", ind->source, "\""));
        if (ind->valid_until_ms) {
            ag_time_format_ms(ind->valid_until_ms, vu, sizeof vu);
            bad |= json_array_append_new(tags, tag("accountguard:valid-until=\"", vu, "\""));
        }
        if (ind->type == AG_INTEL_DEVICE || ind->type == AG_INTEL_FINANCIAL)
            bad |= json_array_append_new(
                tags, tag("accountguard:type=\"", ag_intel_type_name(ind->type), "\""));
        for (size_t t = 0; t < ind->ntags; t++)
            bad |= json_array_append_new(tags, tag("", ind->tags[t], ""));
        json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:o}", "uuid", au, "type",
                              export_as[ind->type].type, "category",
                              export_as[ind->type].category, "value", ind->value, "to_ids",
                              !ind->informational, "timestamp", s2, "first_seen", fs,
                              "distribution", "5", "Tag", tags);
        if (!a || bad)
            goto oom;
        if (ind->description)
            bad |= json_object_set_new(a, "comment", json_string(ind->description));
        if (bad || json_array_append_new(attrs, a))
            goto oom;
    }
    json_object_set_new(ev, "Attribute", attrs);
    attrs = NULL;
    json_t *root = json_pack("{s:o}", "Event", ev);
    if (!root)
        goto oom;
    return root;
oom:
    json_decref(attrs);
    json_decref(ev);
    ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory exporting MISP");
    return NULL;
}

/* ---- import: structure ------------------------------------------------------ */

static bool uuid_shape(const char *u)
{
    if (strlen(u) != 36)
        return false;
    for (int i = 0; i < 36; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
            return false;
    return true;
}

static bool is_secs(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 12)
        return false;
    for (const char *p = json_string_value(v); *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

static int64_t secs_of(const json_t *v)
{
    return json_is_integer(v) ? json_integer_value(v) : strtoll(json_string_value(v), NULL, 10);
}

static int check_tags(const json_t *tags, const char *path, struct ag_err *err)
{
    if (!tags)
        return 0;
    if (!json_is_array(tags))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be an array", path);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        if (!json_is_object(t) || !json_is_string(json_object_get(t, "name")))
            return ag_err_set(err, AG_EINVAL, "invalid_field", path,
                              "%s[%zu] must be an object with a name", path, i);
    }
    return 0;
}

static int check_attribute(const json_t *a, const char *path, struct ag_err *err)
{
    char f[160];
    if (!json_is_object(a))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be an object", path);
    static const char *const req[] = {"type", "value"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(f, sizeof f, "%s.%s", path, req[i]);
        json_t *v = json_object_get(a, req[i]);
        if (!json_is_string(v) || json_string_length(v) == 0)
            return ag_err_set(err, AG_EINVAL, v ? "invalid_field" : "missing_field", f,
                              "%s must be a non-empty string", f);
    }
    json_t *v = json_object_get(a, "uuid");
    snprintf(f, sizeof f, "%s.uuid", path);
    if (v && !(json_is_string(v) && uuid_shape(json_string_value(v))))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be a UUID", f);
    v = json_object_get(a, "to_ids");
    snprintf(f, sizeof f, "%s.to_ids", path);
    if (v && !json_is_boolean(v) && !is_secs(v))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be true or false", f);
    v = json_object_get(a, "timestamp");
    snprintf(f, sizeof f, "%s.timestamp", path);
    if (v && !is_secs(v))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f,
                          "%s must be seconds since the epoch", f);
    v = json_object_get(a, "first_seen");
    snprintf(f, sizeof f, "%s.first_seen", path);
    int64_t ms;
    if (v && !json_is_null(v) && !(json_is_string(v) && ag_time_parse(json_string_value(v), &ms) == 0))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be an ISO 8601 time", f);
    snprintf(f, sizeof f, "%s.Tag", path);
    return check_tags(json_object_get(a, "Tag"), f, err);
}

static int check_event(const json_t *ev, const char *path, struct ag_err *err)
{
    char f[160];
    if (!json_is_object(ev))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be an object", path);
    json_t *u = json_object_get(ev, "uuid");
    snprintf(f, sizeof f, "%s.uuid", path);
    if (u && !(json_is_string(u) && uuid_shape(json_string_value(u))))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be a UUID", f);
    json_t *ts = json_object_get(ev, "timestamp");
    snprintf(f, sizeof f, "%s.timestamp", path);
    if (ts && !is_secs(ts))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f,
                          "%s must be seconds since the epoch", f);
    snprintf(f, sizeof f, "%s.Tag", path);
    int rc = check_tags(json_object_get(ev, "Tag"), f, err);
    if (rc)
        return rc;
    json_t *attrs = json_object_get(ev, "Attribute");
    snprintf(f, sizeof f, "%s.Attribute", path);
    if (attrs && !json_is_array(attrs))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be an array", f);
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a) {
        snprintf(f, sizeof f, "%s.Attribute[%zu]", path, i);
        if ((rc = check_attribute(a, f, err)))
            return rc;
    }
    json_t *objs = json_object_get(ev, "Object");
    snprintf(f, sizeof f, "%s.Object", path);
    if (objs && !json_is_array(objs))
        return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be an array", f);
    json_t *o;
    json_array_foreach(objs, i, o) {
        json_t *oa = json_object_get(o, "Attribute");
        snprintf(f, sizeof f, "%s.Object[%zu].Attribute", path, i);
        if (oa && !json_is_array(oa))
            return ag_err_set(err, AG_EINVAL, "invalid_field", f, "%s must be an array", f);
        size_t j;
        json_array_foreach(oa, j, a) {
            snprintf(f, sizeof f, "%s.Object[%zu].Attribute[%zu]", path, i, j);
            if ((rc = check_attribute(a, f, err)))
                return rc;
        }
    }
    return 0;
}

/* ---- import: mapping ---------------------------------------------------------- */

struct ev_ctx {
    const char *uuid;
    const char *org;
    const json_t *tags;
    int64_t created_ms;
};

/* Machine tag value: accountguard:key="value" -> value into <out>. */
static bool machine_tag(const char *name, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    if (strncmp(name, "accountguard:", 13) != 0 || strncmp(name + 13, key, kl) != 0 ||
        name[13 + kl] != '=')
        return false;
    const char *v = name + 14 + kl;
    size_t vl = strlen(v);
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        v++;
        vl -= 2;
    }
    if (vl >= len)
        vl = len - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
    return true;
}

static int map_one(const json_t *a, const struct ev_ctx *ev, enum ag_intel_type type,
                   const char *raw, int part, const struct ag_intel_import_opts *opts,
                   struct ag_intel_import *imp, const char *where)
{
    struct ag_intel_indicator ind;
    ag_intel_indicator_init(&ind);
    char source[AG_INTEL_SOURCE_MAX + 1];
    if (ev->org)
        snprintf(source, sizeof source, "misp:%s", ev->org);
    else
        snprintf(source, sizeof source, "%s", opts->source ? opts->source : "misp");
    ind.confidence = opts->confidence;
    ind.tlp = opts->tlp;
    int attr_tlp = -1, ev_tlp = -1;
    int64_t until = 0;
    bool has_until = false;
    /* tags: the attribute's, then the event's */
    const json_t *lists[2] = {json_object_get(a, "Tag"), ev->tags};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *t;
        json_array_foreach(lists[l], i, t) {
            const char *name = json_string_value(json_object_get(t, "name"));
            char v[AG_INTEL_TAG_MAX + 1];
            enum ag_intel_tlp tl;
            if (strncasecmp(name, "tlp:", 4) == 0 && ag_intel_tlp_parse(name, &tl) == 0) {
                int *slot = l == 0 ? &attr_tlp : &ev_tlp;
                if ((int)tl > *slot)
                    *slot = (int)tl;
            } else if (machine_tag(name, "confidence", v, sizeof v)) {
                char *end;
                long c = strtol(v, &end, 10);
                if (*end == '\0' && c >= 0 && c <= 100)
                    ind.confidence = (int)c;
            } else if (machine_tag(name, "valid-until", v, sizeof v)) {
                has_until = ag_time_parse(v, &until) == 0;
            } else if (machine_tag(name, "source", v, sizeof v)) {
                if (l == 0 && *v)
                    snprintf(source, sizeof source, "%s", v);
            } else if (machine_tag(name, "type", v, sizeof v)) {
                /* consumed by the caller */
            } else if (l == 0 && *name && strlen(name) <= AG_INTEL_TAG_MAX) {
                if (ag_intel_indicator_add_tag(&ind, name) == AG_ENOMEM)
                    goto oom;
            }
        }
    }
    if (attr_tlp >= 0)
        ind.tlp = (enum ag_intel_tlp)attr_tlp;
    else if (ev_tlp >= 0)
        ind.tlp = (enum ag_intel_tlp)ev_tlp;
    json_t *ti = json_object_get(a, "to_ids");
    ind.informational = ti ? !(json_is_true(ti) || (is_secs(ti) && secs_of(ti) != 0)) : false;
    json_t *ts = json_object_get(a, "timestamp");
    ind.created_ms = ind.modified_ms = ts ? secs_of(ts) * 1000 : ev->created_ms;
    if (ind.created_ms == 0)
        ind.created_ms = ind.modified_ms = opts->now_ms;
    json_t *fs = json_object_get(a, "first_seen");
    if (!json_is_string(fs) || ag_time_parse(json_string_value(fs), &ind.valid_from_ms) != 0)
        ind.valid_from_ms = ind.created_ms;
    ind.valid_until_ms = has_until ? until : opts->ttl_ms ? ind.valid_from_ms + opts->ttl_ms : 0;

    struct ag_err e = {0};
    int rc;
    if (type == AG_INTEL_FINANCIAL && strlen(raw) != 64) {
        char fp[65];
        rc = ag_intel_financial_fingerprint(raw, NULL, 0, fp, &e);
        if (rc == 0)
            rc = ag_intel_indicator_set_value(&ind, type, fp, &e);
    } else {
        rc = ag_intel_indicator_set_value(&ind, type, raw, &e);
    }
    if (rc == AG_EINVAL && (type == AG_INTEL_IPV4 || type == AG_INTEL_IPV6)) {
        rc = ag_err_set(&e, AG_EINVAL, "invalid_field", "value", "not an IP address");
    }
    if (rc) {
        ag_intel_indicator_free(&ind);
        if (rc == AG_ENOMEM)
            return rc;
        return ag_intel_import_note(imp, where, "invalid %s value '%.60s': %s",
                                    ag_intel_type_name(type), raw, e.msg);
    }
    const char *au = json_string_value(json_object_get(a, "uuid"));
    char id[AG_INTEL_ID_LEN + 1];
    if (au && part == 0) {
        snprintf(id, sizeof id, "indicator--%s", au);
        for (char *c = id; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    if (!au || part != 0 || !ag_intel_stix_id_valid(id, "indicator")) {
        char name[AG_INTEL_VALUE_MAX + 64];
        snprintf(name, sizeof name, "%s %s %s", au ? au : "", ag_intel_type_name(ind.type),
                 ind.value);
        ag_intel_id_derive(ev->uuid ? ev->uuid : "misp", name, ind.id);
    } else {
        memcpy(ind.id, id, sizeof id);
    }
    char xref[AG_INTEL_REF_MAX];
    snprintf(xref, sizeof xref, "misp:%s/%s", ev->uuid ? ev->uuid : "-", au ? au : "-");
    const char *comment = json_string_value(json_object_get(a, "comment"));
    if (ag_intel_indicator_set_str(&ind.source, source) ||
        ag_intel_indicator_set_str(&ind.external_ref, xref) ||
        (comment && *comment && ag_intel_indicator_set_str(&ind.description, comment)))
        goto oom;
    if (ag_intel_indicator_validate(&ind, &e) != 0) {
        ag_intel_indicator_free(&ind);
        return ag_intel_import_note(imp, where, "%s: %s", e.field, e.msg);
    }
    rc = ag_intel_list_push_move(&imp->list, &ind);
    ag_intel_indicator_free(&ind);
    return rc;
oom:
    ag_intel_indicator_free(&ind);
    return AG_ENOMEM;
}

static int map_attribute(const json_t *a, const struct ev_ctx *ev,
                         const struct ag_intel_import_opts *opts, struct ag_intel_import *imp,
                         const char *path)
{
    imp->seen++;
    const char *mt = json_string_value(json_object_get(a, "type"));
    const char *value = json_string_value(json_object_get(a, "value"));
    const char *au = json_string_value(json_object_get(a, "uuid"));
    char where[AG_INTEL_REF_MAX];
    snprintf(where, sizeof where, "%s%s%s", path, au ? " " : "", au ? au : "");
    if (json_is_true(json_object_get(a, "deleted")))
        return ag_intel_import_note(imp, where, "deleted attribute");
    for (size_t i = 0; i < AG_ARRAY_LEN(types); i++) {
        if (strcmp(types[i].misp, mt) != 0)
            continue;
        unsigned t = types[i].type;
        if (t == FROM_TAG) {
            t = AG_INTEL_TYPE_COUNT;
            size_t k;
            json_t *tg;
            json_array_foreach(json_object_get(a, "Tag"), k, tg) {
                char v[32];
                enum ag_intel_type tt;
                if (machine_tag(json_string_value(json_object_get(tg, "name")), "type", v,
                                sizeof v) &&
                    ag_intel_type_parse(v, &tt) == 0)
                    t = tt;
            }
            if (t == AG_INTEL_TYPE_COUNT)
                return ag_intel_import_note(imp, where,
                                            "attribute type %s without an accountguard:type tag "
                                            "is not imported",
                                            mt);
        }
        char first[AG_INTEL_VALUE_MAX + 1];
        const char *bar = strchr(value, '|');
        if (types[i].split && !bar)
            return ag_intel_import_note(imp, where, "%s value '%.60s' lacks '|'", mt, value);
        snprintf(first, sizeof first, "%.*s", (int)(bar && types[i].split ? bar - value
                                                                           : (long)strlen(value)),
                 value);
        int rc = map_one(a, ev,
                         t == GUESS_IP ? (strchr(first, ':') ? AG_INTEL_IPV6 : AG_INTEL_IPV4)
                                       : (enum ag_intel_type)t,
                         first, 0, opts, imp, where);
        if (rc == 0 && types[i].split == 2)
            rc = map_one(a, ev, strchr(bar + 1, ':') ? AG_INTEL_IPV6 : AG_INTEL_IPV4, bar + 1, 1,
                         opts, imp, where);
        return rc;
    }
    return ag_intel_import_note(imp, where, "MISP attribute type %.40s is not supported", mt);
}

static int map_event(const json_t *evj, const char *path, const struct ag_intel_import_opts *opts,
                     struct ag_intel_import *imp)
{
    struct ev_ctx ev = {
        .uuid = json_string_value(json_object_get(evj, "uuid")),
        .org = json_string_value(json_object_get(json_object_get(evj, "Orgc"), "name")),
        .tags = json_object_get(evj, "Tag"),
    };
    json_t *ts = json_object_get(evj, "timestamp");
    ev.created_ms = ts ? secs_of(ts) * 1000 : 0;
    char p[160];
    size_t i;
    json_t *a;
    int rc = 0;
    json_array_foreach(json_object_get(evj, "Attribute"), i, a) {
        snprintf(p, sizeof p, "%s.Attribute[%zu]", path, i);
        if ((rc = map_attribute(a, &ev, opts, imp, p)))
            return rc;
    }
    json_t *o;
    json_array_foreach(json_object_get(evj, "Object"), i, o) {
        size_t j;
        json_array_foreach(json_object_get(o, "Attribute"), j, a) {
            snprintf(p, sizeof p, "%s.Object[%zu].Attribute[%zu]", path, i, j);
            if ((rc = map_attribute(a, &ev, opts, imp, p)))
                return rc;
        }
    }
    return 0;
}

/* Collect the events of any accepted form as (event object, path) pairs. */
static int collect(json_t *root, json_t *events, struct ag_err *err)
{
    json_t *list = NULL;
    const char *base = "";
    if (json_is_object(root) && json_object_get(root, "Event")) {
        return json_array_append_new(events, json_pack("[O,s]", json_object_get(root, "Event"),
                                                       "Event"));
    }
    if (json_is_object(root) && json_object_get(root, "response")) {
        json_t *r = json_object_get(root, "response");
        if (json_is_object(r) && json_object_get(r, "Attribute"))
            return json_array_append_new(events, json_pack("[O,s]", r, "response"));
        list = r;
        base = "response";
    } else if (json_is_array(root)) {
        list = root;
    } else if (json_is_object(root) && json_object_get(root, "Attribute")) {
        return json_array_append_new(events, json_pack("[O,s]", root, ""));
    }
    if (!json_is_array(list))
        return ag_err_set(err, AG_EINVAL, "not_misp", "",
                          "not MISP JSON: expected {\"Event\": ...}, a list of events or "
                          "{\"response\": ...}");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        char p[64];
        snprintf(p, sizeof p, "%s[%zu]", base, i);
        json_t *ev = json_object_get(e, "Event");
        if (!json_is_object(ev))
            return ag_err_set(err, AG_EINVAL, "invalid_field", p,
                              "%s must be an object with an Event", p);
        char q[80];
        snprintf(q, sizeof q, "%s.Event", p);
        if (json_array_append_new(events, json_pack("[O,s]", ev, q)))
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    return 0;
}

int ag_intel_misp_import(const char *buf, size_t len, const struct ag_intel_import_opts *opts,
                         struct ag_intel_import *out, struct ag_err *err)
{
    json_t *root = ag_json_parse(buf, len, 64, err);
    if (!root)
        return AG_EINVAL;
    json_t *events = json_array();
    struct ag_intel_import tmp = {0};
    int rc = events ? collect(root, events, err)
                    : ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    size_t i;
    json_t *pair;
    if (rc == 0) {
        json_array_foreach(events, i, pair) {
            const char *path = json_string_value(json_array_get(pair, 1));
            if ((rc = check_event(json_array_get(pair, 0), path[0] ? path : "Event", err)))
                break;
        }
    }
    if (rc == 0) {
        json_array_foreach(events, i, pair) {
            const char *path = json_string_value(json_array_get(pair, 1));
            if (map_event(json_array_get(pair, 0), path, opts, &tmp)) {
                rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory importing MISP");
                break;
            }
        }
    }
    json_decref(events);
    json_decref(root);
    if (rc) {
        ag_intel_import_free(&tmp);
        return rc;
    }
    *out = tmp;
    return 0;
}
