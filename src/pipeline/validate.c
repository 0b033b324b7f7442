/* The validate stage: an event's JSON object into struct ag_event, with a
 * precise error (code, message, field path) for anything off. Limits here
 * are the API's documented ones (docs/openapi.yaml). */
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_PROPERTY_STRING 8192
#define MAX_PROPERTIES_KEYS 256
#define MAX_FUTURE_MS (24LL * 3600 * 1000)

static const char *const top_keys[] = {"id", "type", "occurred_at", "account", "context",
                                       "properties"};
static const char *const account_keys[] = {"id", "role", "locale"};
static const char *const context_keys[] = {"ip", "user_agent", "device_id", "session_id"};
static const char *const roles[] = {"customer", "seller", "agent", "admin"};

static int only_keys(const json_t *obj, const char *const *keys, size_t n, const char *prefix,
                     struct ag_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t i = 0;
        while (i < n && strcmp(keys[i], k) != 0)
            i++;
        if (i == n) {
            char path[96];
            snprintf(path, sizeof path, "%s%.64s", prefix, k);
            return ag_err_set(err, AG_EINVAL, "unknown_field", path, "unknown field %s", path);
        }
    }
    return 0;
}

/* Identifiers: printable ASCII without spaces or quotes, so they are safe in
 * URLs, logs and CSV exports. */
static int check_id(const char *s, const char *path, struct ag_err *err)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' || c == '?' || c == '#' ||
            c == '%')
            return ag_err_set(err, AG_EINVAL, "invalid_field", path,
                              "%s may hold only printable ASCII without spaces, quotes, "
                              "'/', '?', '#' or '%%'",
                              path);
    }
    return 0;
}

static int copy_id(const json_t *obj, const char *key, const char *path, bool required,
                   char *dst, size_t dstlen, struct ag_err *err)
{
    const char *s;
    int rc = ag_json_str(obj, key, path, dstlen - 1, required, &s, err);
    if (rc == AG_ENOTFOUND) {
        dst[0] = '\0';
        return 0;
    }
    if (rc)
        return rc;
    if (!*s)
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must not be empty", path);
    if ((rc = check_id(s, path, err)))
        return rc;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

/* Every string inside properties is bounded, and so is the key count. */
static int check_properties(const json_t *v, const char *path, struct ag_err *err)
{
    if (json_is_string(v)) {
        if (json_string_length(v) > MAX_PROPERTY_STRING)
            return ag_err_set(err, AG_EINVAL, "field_too_long", path,
                              "%s is longer than %d bytes", path, MAX_PROPERTY_STRING);
        return 0;
    }
    if (json_is_object(v)) {
        if (json_object_size(v) > MAX_PROPERTIES_KEYS)
            return ag_err_set(err, AG_EINVAL, "too_many_fields", path, "%s has more than %d keys",
                              path, MAX_PROPERTIES_KEYS);
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            char sub[96];
            snprintf(sub, sizeof sub, "%s.%.48s", path, k);
            int rc = check_properties(c, sub, err);
            if (rc)
                return rc;
        }
    } else if (json_is_array(v)) {
        if (json_array_size(v) > MAX_PROPERTIES_KEYS)
            return ag_err_set(err, AG_EINVAL, "too_many_fields", path,
                              "%s has more than %d items", path, MAX_PROPERTIES_KEYS);
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            char sub[96];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            int rc = check_properties(c, sub, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int ag_pipeline_validate(const json_t *event, int64_t now_ms, struct ag_event *out,
                         struct ag_err *err)
{
    int rc;
    const char *s;
    memset(out, 0, sizeof *out);
    if (!json_is_object(event))
        return ag_err_set(err, AG_EINVAL, "invalid_event", "", "an event must be a JSON object");
    if ((rc = only_keys(event, top_keys, AG_ARRAY_LEN(top_keys), "", err)))
        return rc;
    out->raw = (json_t *)event;
    if ((rc = copy_id(event, "id", "id", true, out->id, sizeof out->id, err)))
        return rc;
    if ((rc = ag_json_str(event, "type", "type", 64, true, &s, err)))
        return rc;
    if (!(out->type = ag_event_type_find(s)))
        return ag_err_set(err, AG_EINVAL, "unknown_event_type", "type",
                          "unknown event type '%.64s' (see GET /v1/event-types)", s);
    if ((rc = ag_json_str(event, "occurred_at", "occurred_at", 64, true, &s, err)))
        return rc;
    if (ag_time_parse(s, &out->occurred_at_ms))
        return ag_err_set(err, AG_EINVAL, "invalid_timestamp", "occurred_at",
                          "occurred_at must be an RFC 3339 timestamp such as "
                          "2026-11-21T10:00:00Z");
    if (now_ms && out->occurred_at_ms > now_ms + MAX_FUTURE_MS)
        return ag_err_set(err, AG_EINVAL, "invalid_timestamp", "occurred_at",
                          "occurred_at is more than 24 hours in the future");
    out->received_at_ms = now_ms;

    json_t *acct = json_object_get(event, "account");
    if (!acct)
        return ag_err_set(err, AG_EINVAL, "missing_field", "account", "account is required");
    if (!json_is_object(acct))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account", "account must be an object");
    if ((rc = only_keys(acct, account_keys, AG_ARRAY_LEN(account_keys), "account.", err)))
        return rc;
    if ((rc = copy_id(acct, "id", "account.id", true, out->account_id, sizeof out->account_id,
                      err)))
        return rc;
    rc = ag_json_str(acct, "role", "account.role", 15, false, &s, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (rc == 0) {
        size_t i = 0;
        while (i < AG_ARRAY_LEN(roles) && strcmp(roles[i], s) != 0)
            i++;
        if (i == AG_ARRAY_LEN(roles))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "account.role",
                              "account.role must be customer, seller, agent or admin");
        snprintf(out->role, sizeof out->role, "%s", s);
    } else {
        snprintf(out->role, sizeof out->role, "customer");
    }
    rc = ag_json_str(acct, "locale", "account.locale", 15, false, &s, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;

    json_t *ctx = json_object_get(event, "context");
    if (ctx && !json_is_null(ctx)) {
        if (!json_is_object(ctx))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "context",
                              "context must be an object");
        if ((rc = only_keys(ctx, context_keys, AG_ARRAY_LEN(context_keys), "context.", err)))
            return rc;
        rc = ag_json_str(ctx, "ip", "context.ip", 45, false, &s, err);
        if (rc && rc != AG_ENOTFOUND)
            return rc;
        if (rc == 0) {
            if (!ag_ip_valid(s, &out->ip_v6))
                return ag_err_set(err, AG_EINVAL, "invalid_ip", "context.ip",
                                  "context.ip is not an IPv4 or IPv6 address");
            snprintf(out->ip, sizeof out->ip, "%s", s);
        }
        rc = ag_json_str(ctx, "user_agent", "context.user_agent", AG_UA_MAX, false, &s, err);
        if (rc && rc != AG_ENOTFOUND)
            return rc;
        if (rc == 0)
            snprintf(out->user_agent, sizeof out->user_agent, "%s", s);
        if ((rc = copy_id(ctx, "device_id", "context.device_id", false, out->device_id,
                          sizeof out->device_id, err)) ||
            (rc = copy_id(ctx, "session_id", "context.session_id", false, out->session_id,
                          sizeof out->session_id, err)))
            return rc;
    }

    json_t *props = json_object_get(event, "properties");
    if (props && !json_is_null(props)) {
        if (!json_is_object(props))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "properties",
                              "properties must be an object");
        if ((rc = check_properties(props, "properties", err)))
            return rc;
        out->properties = props;
    }
    int64_t amount;
    rc = ag_json_int(props, "amount", "properties.amount", 0, INT64_MAX / 4, false, &amount, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (rc == 0) {
        out->has_amount = true;
        out->amount_minor = amount;
        if ((rc = ag_json_str(props, "currency", "properties.currency", 3, true, &s, err)))
            return rc;
        if (strlen(s) != 3 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
            !isupper((unsigned char)s[2]))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "properties.currency",
                              "properties.currency must be an ISO 4217 code such as EUR");
        memcpy(out->currency, s, 4);
    } else if (out->type->flags & AG_EVT_AMOUNT) {
        return ag_err_set(err, AG_EINVAL, "missing_field", "properties.amount",
                          "%s events need properties.amount (integer, minor units) and "
                          "properties.currency",
                          out->type->name);
    }
    return 0;
}

int ag_pipeline_validate_fields(const struct ag_event *in, int64_t now_ms, struct ag_event *out,
                                struct ag_err *err)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (!in->type)
        return ag_err_set(err, AG_EINVAL, "unknown_event_type", "type", "the event has no type");
    if (in->properties || in->raw)
        return ag_err_set(err, AG_EINVAL, "invalid_event", "",
                          "an event given as fields carries no JSON");
    if (!in->id[0])
        return ag_err_set(err, AG_EINVAL, "missing_field", "id", "id is required");
    if (!in->account_id[0])
        return ag_err_set(err, AG_EINVAL, "missing_field", "account", "account is required");
    if ((rc = check_id(in->id, "id", err)) ||
        (rc = check_id(in->account_id, "account.id", err)) ||
        (rc = check_id(in->device_id, "context.device_id", err)) ||
        (rc = check_id(in->session_id, "context.session_id", err)))
        return rc;
    if (now_ms && in->occurred_at_ms > now_ms + MAX_FUTURE_MS)
        return ag_err_set(err, AG_EINVAL, "invalid_timestamp", "occurred_at",
                          "occurred_at is more than 24 hours in the future");
    size_t r = 0;
    while (in->role[0] && r < AG_ARRAY_LEN(roles) && strcmp(roles[r], in->role) != 0)
        r++;
    if (r == AG_ARRAY_LEN(roles))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account.role",
                          "account.role must be customer, seller, agent or admin");
    if (in->type->flags & AG_EVT_AMOUNT)
        return ag_err_set(err, AG_EINVAL, "missing_field", "properties.amount",
                          "%s events need properties.amount and properties.currency (JSON)",
                          in->type->name);
    /* the user agent is the one free-text field: valid UTF-8, as a JSON
     * event's */
    if (!ag_utf8_valid(in->user_agent, strlen(in->user_agent)))
        return ag_err_set(err, AG_EINVAL, "invalid_utf8", "context.user_agent",
                          "context.user_agent is not valid UTF-8");
    *out = *in;
    if (out->ip[0] && !ag_ip_valid(out->ip, &out->ip_v6))
        return ag_err_set(err, AG_EINVAL, "invalid_ip", "context.ip",
                          "context.ip is not an IPv4 or IPv6 address");
    if (!out->role[0])
        snprintf(out->role, sizeof out->role, "customer");
    out->received_at_ms = now_ms;
    out->has_amount = false;
    return 0;
}
