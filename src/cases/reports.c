/* Reports over cases (opened, resolved, time to first action and to
 * resolution, money reversed — by type and period) and the export of
 * labels (confirmed outcomes) for training and evaluating the risk model. */
#include "cases/internal.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The start of the period holding <ms>, as "2026-11-21" (day), the Monday
 * "2026-11-16" (week) or "2026-11" (month). */
static void bucket(const char *period, int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (!strcmp(period, "month")) {
        strftime(out, n, "%Y-%m", &tm);
        return;
    }
    if (!strcmp(period, "week")) {
        int back = (tm.tm_wday + 6) % 7; /* days since Monday */
        t -= (time_t)back * 86400;
        gmtime_r(&t, &tm);
    }
    strftime(out, n, "%Y-%m-%d", &tm);
}

struct report {
    const char *period;
    int64_t from, to;
    json_t *rows;  /* "period|type" -> row */
    json_t *types; /* case id -> type */
};

static json_t *row_for(struct report *r, int64_t at, const char *type)
{
    char b[16], key[64];
    bucket(r->period, at, b, sizeof b);
    snprintf(key, sizeof key, "%s|%s", b, type);
    json_t *row = json_object_get(r->rows, key);
    if (!row) {
        row = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:i, s:I, s:{}}", "period", b,
                        "type", type, "opened", 0, "resolved", 0, "resolved_fraud", 0,
                        "resolved_not_fraud", 0, "first_actions", 0, "first_action_ms_sum",
                        (json_int_t)0, "resolutions", 0, "resolution_ms_sum", (json_int_t)0,
                        "money_reversed");
        json_object_set_new(r->rows, key, row);
    }
    return row;
}

static void bump(json_t *row, const char *k, int64_t by)
{
    json_object_set_new(row, k, json_integer(json_integer_value(json_object_get(row, k)) + by));
}

static bool in_range(const struct report *r, int64_t at)
{
    return at && at >= r->from && (r->to <= 0 || at < r->to);
}

static int case_cb(void *arg, const struct ag_case_rec *c)
{
    struct report *r = arg;
    json_object_set_new(r->types, c->id, json_string(c->type));
    if (in_range(r, c->created_at)) {
        json_t *row = row_for(r, c->created_at, c->type);
        bump(row, "opened", 1);
        if (c->first_action_at) {
            bump(row, "first_actions", 1);
            bump(row, "first_action_ms_sum", c->first_action_at - c->created_at);
        }
    }
    if (in_range(r, c->resolved_at)) {
        json_t *row = row_for(r, c->resolved_at, c->type);
        bump(row, "resolved", 1);
        bump(row, !strcmp(c->status, "resolved_not_fraud") || !strcmp(c->outcome, "not_fraud")
                      ? "resolved_not_fraud"
                      : "resolved_fraud",
             1);
        bump(row, "resolutions", 1);
        bump(row, "resolution_ms_sum", c->resolved_at - c->created_at);
    }
    return 0;
}

static int action_cb(void *arg, const struct ag_case_action_rec *a)
{
    struct report *r = arg;
    if (strcmp(a->kind, "reverse") || strcmp(a->status, "confirmed") ||
        !in_range(r, a->resolved_at))
        return 0;
    const char *type = json_string_value(json_object_get(r->types, a->case_id));
    json_t *row = row_for(r, a->resolved_at, type ? type : "unknown");
    json_t *money = json_object_get(row, "money_reversed");
    json_object_set_new(money, a->currency,
                        json_integer(json_integer_value(json_object_get(money, a->currency)) +
                                     a->amount));
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ag_cases_report(struct ag_cases *m, const char *period, int64_t from, int64_t to,
                    json_t **json, struct ag_buf *csv, struct ag_err *err)
{
    if (strcmp(period, "day") && strcmp(period, "week") && strcmp(period, "month"))
        return ag_err_set(err, AG_EINVAL, "invalid_parameter", "period",
                          "period must be day, week or month");
    struct report r = {.period = period, .from = from, .to = to, .rows = json_object(),
                       .types = json_object()};
    int rc = ag_store_case_scan(m->store, 0, to, case_cb, &r, err);
    if (!rc)
        rc = ag_store_case_action_list(m->store, NULL, action_cb, &r, err);
    if (rc) {
        json_decref(r.rows);
        json_decref(r.types);
        return rc;
    }
    /* Sorted by period, then type; averages in seconds. */
    size_t n = json_object_size(r.rows), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(r.rows, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, by_key);
    json_t *items = json_array();
    if (csv)
        ag_buf_printf(csv, "period,type,opened,resolved,resolved_fraud,resolved_not_fraud,"
                           "avg_time_to_first_action_s,avg_time_to_resolution_s,"
                           "money_reversed\n");
    for (i = 0; i < n; i++) {
        json_t *row = json_object_get(r.rows, keys[i]);
        int64_t fa = json_integer_value(json_object_get(row, "first_actions"));
        int64_t res = json_integer_value(json_object_get(row, "resolutions"));
        double fa_s = fa ? json_integer_value(json_object_get(row, "first_action_ms_sum")) /
                               1000.0 / (double)fa
                         : 0;
        double res_s = res ? json_integer_value(json_object_get(row, "resolution_ms_sum")) /
                                 1000.0 / (double)res
                           : 0;
        json_t *out = json_pack(
            "{s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:O}", "period",
            json_object_get(row, "period"), "type", json_object_get(row, "type"), "opened",
            json_object_get(row, "opened"), "resolved", json_object_get(row, "resolved"),
            "resolved_fraud", json_object_get(row, "resolved_fraud"), "resolved_not_fraud",
            json_object_get(row, "resolved_not_fraud"), "avg_time_to_first_action_s",
            fa ? json_real(fa_s) : json_null(), "avg_time_to_resolution_s",
            res ? json_real(res_s) : json_null(), "money_reversed",
            json_object_get(row, "money_reversed"));
        json_array_append_new(items, out);
        if (csv) {
            ag_buf_printf(csv, "%s,%s,%lld,%lld,%lld,%lld,", json_string_value(json_object_get(row, "period")),
                          json_string_value(json_object_get(row, "type")),
                          (long long)json_integer_value(json_object_get(row, "opened")),
                          (long long)json_integer_value(json_object_get(row, "resolved")),
                          (long long)json_integer_value(json_object_get(row, "resolved_fraud")),
                          (long long)json_integer_value(json_object_get(row, "resolved_not_fraud")));
            if (fa)
                ag_buf_printf(csv, "%.1f", fa_s);
            ag_buf_printf(csv, ",");
            if (res)
                ag_buf_printf(csv, "%.1f", res_s);
            ag_buf_printf(csv, ",");
            const char *cur;
            json_t *amt;
            int first = 1;
            json_object_foreach(json_object_get(row, "money_reversed"), cur, amt) {
                ag_buf_printf(csv, "%s%s=%lld", first ? "" : ";", cur,
                              (long long)json_integer_value(amt));
                first = 0;
            }
            ag_buf_printf(csv, "\n");
        }
    }
    free(keys);
    json_decref(r.rows);
    json_decref(r.types);
    if (json)
        *json = json_pack("{s:s, s:o, s:o, s:o}", "period", period, "from", cases_time(from),
                          "to", cases_time(to), "items", items);
    else
        json_decref(items);
    return 0;
}

/* ---- labels ---- */

struct lab {
    struct ag_buf *out;
    bool csv;
    int64_t last;
    int n;
};

static int label_cb(void *arg, const struct ag_label_rec *l)
{
    struct lab *x = arg;
    x->last = l->seq;
    x->n++;
    char occ[40], at[40];
    ag_time_format_ms(l->occurred_at, occ, sizeof occ);
    ag_time_format_ms(l->labelled_at, at, sizeof at);
    if (x->csv) {
        /* Ids come from clients: quote every text field (RFC 4180). */
        const char *f[] = {l->event_id, l->account_id, l->case_id, l->label, l->event_type};
        for (int i = 0; i < 5; i++) {
            ag_buf_append(x->out, "\"", 1);
            for (const char *p = f[i]; *p; p++) {
                ag_buf_append(x->out, p, 1);
                if (*p == '"')
                    ag_buf_append(x->out, "\"", 1);
            }
            ag_buf_append(x->out, "\",", 2);
        }
        ag_buf_printf(x->out, "%s,%s\n", occ, at);
    } else {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "event_id", l->event_id,
                              "account_id", l->account_id, "case_id", l->case_id, "label",
                              l->label, "event_type", l->event_type, "occurred_at", occ,
                              "labelled_at", at);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (s) {
            ag_buf_printf(x->out, "%s\n", s);
            free(s);
        }
    }
    return 0;
}

int ag_cases_labels_export(struct ag_cases *m, bool csv, struct ag_buf *out, struct ag_err *err)
{
    struct lab x = {.out = out, .csv = csv};
    if (csv)
        ag_buf_printf(out, "event_id,account_id,case_id,label,event_type,occurred_at,"
                           "labelled_at\n");
    for (;;) {
        int before = x.n;
        int rc = ag_store_label_scan(m->store, x.last, 1000, label_cb, &x, err);
        if (rc)
            return rc;
        if (x.n - before < 1000)
            return 0;
    }
}
