/* GET /v1/stats/overview: the figures of the console's overview, computed
 * from the store: decisions per minute by action, the top reasons and rules
 * behind them, open, overdue and unassigned cases, and alerts by state with
 * deliveries per minute, over the last ?minutes= (default 60, 5..1440). */
#include "api/console.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MINUTES 1440
#define MAX_DECISIONS 20000 /* newest decisions read; beyond, "sampled" says so */

static const char *const actions[] = {"allow", "review", "challenge", "deny"};
#define NACTIONS 4

struct scan {
    int64_t first_minute;
    int minutes;
    int64_t (*per_minute)[NACTIONS];
    int64_t total[NACTIONS];
    int64_t n;
    json_t *reasons; /* code -> count */
    json_t *rules;   /* rule id -> count */
};

static void bump(json_t *counts, const char *key)
{
    if (!key || !*key)
        return;
    json_t *v = json_object_get(counts, key);
    json_object_set_new(counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int on_decision(void *arg, int64_t at, const char *action, const char *response)
{
    struct scan *s = arg;
    s->n++;
    int a = 0;
    while (a < NACTIONS && strcmp(actions[a], action) != 0)
        a++;
    if (a == NACTIONS)
        return 0;
    s->total[a]++;
    int64_t m = at / 60000 - s->first_minute;
    if (m >= 0 && m < s->minutes)
        s->per_minute[m][a]++;
    json_t *r = json_loads(response, 0, NULL);
    json_t *d = json_object_get(r, "decision");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(d, "reasons"), i, v)
        bump(s->reasons, json_is_string(v) ? json_string_value(v)
                                           : json_string_value(json_object_get(v, "code")));
    json_array_foreach(json_object_get(d, "rules"), i, v) {
        const char *id = json_is_string(v) ? json_string_value(v) : NULL;
        if (!id)
            id = json_string_value(json_object_get(v, "id"));
        if (!id)
            id = json_string_value(json_object_get(v, "name"));
        bump(s->rules, id);
    }
    json_decref(r);
    return 0;
}

/* {"a": 3, "b": 5} -> [{"<key>": "b", "count": 5}, {"<key>": "a", "count": 3}], top <n> */
static int by_count_desc(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    json_int_t ca = json_integer_value(json_object_get(a, "count"));
    json_int_t cb = json_integer_value(json_object_get(b, "count"));
    return ca < cb ? 1 : ca > cb ? -1 : 0;
}

static json_t *top(json_t *counts, const char *keyname, size_t n)
{
    size_t k = json_object_size(counts), i = 0;
    json_t **items = calloc(k ? k : 1, sizeof *items);
    const char *key;
    json_t *v;
    json_object_foreach(counts, key, v)
        items[i++] = json_pack("{s:s, s:I}", keyname, key, "count",
                               (json_int_t)json_integer_value(v));
    qsort(items, k, sizeof *items, by_count_desc);
    json_t *out = json_array();
    for (i = 0; i < k; i++) {
        if (i < n)
            json_array_append(out, items[i]);
        json_decref(items[i]);
    }
    free(items);
    return out;
}

struct alerts {
    json_t *by_state, *by_channel, *per_minute;
};

static int on_alert(void *arg, const char *state, const char *channel, int64_t minute, int64_t n)
{
    struct alerts *a = arg;
    if (minute < 0) {
        json_t *v = json_object_get(a->by_state, state);
        json_object_set_new(a->by_state, state, json_integer((v ? json_integer_value(v) : 0) + n));
        v = json_object_get(a->by_channel, channel);
        json_object_set_new(a->by_channel, channel,
                            json_integer((v ? json_integer_value(v) : 0) + n));
        return 0;
    }
    char at[40];
    ag_time_format_ms(minute * 60000, at, sizeof at);
    json_array_append_new(a->per_minute, json_pack("{s:s, s:I}", "minute", at, (json_int_t)n));
    return 0;
}

void ag_api_stats_overview(struct ag_app *app, struct ag_http_req *req)
{
    int minutes = 60;
    const char *m = ag_http_query(req, "minutes");
    if (m) {
        char *end;
        long v = strtol(m, &end, 10);
        if (!*m || *end || v < 5 || v > MAX_MINUTES) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "minutes",
                         "minutes must be an integer from 5 to %d", MAX_MINUTES);
            return;
        }
        minutes = (int)v;
    }
    int64_t now = ag_time_now_ms();
    int64_t last_minute = now / 60000;
    struct scan s = {.first_minute = last_minute - minutes + 1,
                     .minutes = minutes,
                     .reasons = json_object(),
                     .rules = json_object()};
    s.per_minute = calloc((size_t)minutes, sizeof *s.per_minute);
    int64_t since = s.first_minute * 60000;
    struct ag_err err;
    struct ag_console_case_counts cc;
    struct alerts al = {json_object(), json_object(), json_array()};
    int rc = s.per_minute ? 0 : ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
    if (!rc)
        rc = ag_store_console_decisions_scan(app->store, since, MAX_DECISIONS, on_decision, &s,
                                             &err);
    if (!rc)
        rc = ag_store_console_case_counts(app->store, now, since, &cc, &err);
    if (!rc)
        rc = ag_store_console_alert_counts(app->store, since, on_alert, &al, &err);
    if (rc) {
        free(s.per_minute);
        json_decref(s.reasons);
        json_decref(s.rules);
        json_decref(al.by_state);
        json_decref(al.by_channel);
        json_decref(al.per_minute);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *per_minute = json_array(), *by_action = json_object();
    for (int i = 0; i < minutes; i++) {
        char at[40];
        ag_time_format_ms((s.first_minute + i) * 60000, at, sizeof at);
        json_t *row = json_pack("{s:s}", "minute", at);
        for (int a = 0; a < NACTIONS; a++)
            json_object_set_new(row, actions[a], json_integer(s.per_minute[i][a]));
        json_array_append_new(per_minute, row);
    }
    int64_t total = 0;
    for (int a = 0; a < NACTIONS; a++) {
        json_object_set_new(by_action, actions[a], json_integer(s.total[a]));
        total += s.total[a];
    }
    char nows[40];
    ag_time_format_ms(now, nows, sizeof nows);
    json_t *out = json_pack(
        "{s:s, s:i, s:{s:I, s:o, s:o, s:b}, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I}, "
        "s:{s:o, s:o, s:o}}",
        "now", nows, "window_minutes", minutes, "decisions", "total", (json_int_t)total,
        "by_action", by_action, "per_minute", per_minute, "sampled", s.n >= MAX_DECISIONS,
        "top_reasons", top(s.reasons, "code", 10), "top_rules", top(s.rules, "rule", 10), "cases",
        "open", (json_int_t)cc.open, "overdue", (json_int_t)cc.overdue, "unassigned",
        (json_int_t)cc.unassigned, "opened", (json_int_t)cc.opened, "resolved",
        (json_int_t)cc.resolved, "alerts", "by_state", al.by_state, "by_channel", al.by_channel,
        "delivered_per_minute", al.per_minute);
    free(s.per_minute);
    json_decref(s.reasons);
    json_decref(s.rules);
    ag_http_respond_json(req, 200, out);
}
