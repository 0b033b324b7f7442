/* Backtest of a rule set over stored events (see backtest.h): counts per
 * rule and overall, with example event ids. Evaluation allocates nothing;
 * the report is allocated once up front. */
#include "rules/backtest.h"

#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRED_MAX 256 /* rules stored per event; more fire only in odd sets */

static void add_example(char (*ex)[AG_RULES_BT_ID_MAX], int *n, int max, const char *id)
{
    if (*n >= max)
        return;
    snprintf(ex[*n], AG_RULES_BT_ID_MAX, "%s", id ? id : "");
    (*n)++;
}

static bool action_ok(int a) { return a >= AG_ACTION_ALLOW && a <= AG_ACTION_DENY; }

void ag_rules_bt_report_free(struct ag_rules_bt_report *r)
{
    if (!r)
        return;
    if (r->rules)
        for (int i = 0; i < r->nrules; i++)
            free(r->rules[i].examples);
    free(r->rules);
    free(r->examples);
    ag_rules_release(r->set);
    free(r);
}

static struct ag_rules_bt_report *report_new(struct ag_rules *set, int max_examples)
{
    struct ag_rules_bt_report *r = ag_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->set = ag_rules_acquire(set);
    r->max_examples = max_examples;
    r->nrules = ag_rules_count(set);
    r->rules = ag_calloc((size_t)r->nrules + 1, sizeof *r->rules);
    r->examples = ag_calloc((size_t)max_examples + 1, AG_RULES_BT_ID_MAX);
    if (!r->rules || !r->examples)
        goto fail;
    for (int i = 0; i < r->nrules; i++) {
        r->rules[i].rule = ag_rules_rule_at(set, i);
        r->rules[i].examples = ag_calloc((size_t)max_examples + 1, AG_RULES_BT_ID_MAX);
        if (!r->rules[i].examples)
            goto fail;
    }
    return r;
fail:
    ag_rules_bt_report_free(r);
    return NULL;
}

int ag_rules_backtest(struct ag_rules *set, ag_rules_bt_next_fn next, void *it, int max_examples,
                      struct ag_rules_bt_report **out, struct ag_err *err)
{
    *out = NULL;
    if (!set || !next || max_examples < 0 || max_examples > 1000)
        return ag_err_set(err, AG_EINVAL, "invalid_argument", "", "bad backtest arguments");
    struct ag_rules_bt_report *r = report_new(set, max_examples);
    if (!r)
        return ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory for the backtest");
    const struct ag_rules_rule *fired[FIRED_MAX];
    int rc;
    for (;;) {
        struct ag_rules_bt_item item = {0};
        rc = next(it, &item, err);
        if (rc <= 0)
            break;
        if (!action_ok((int)item.recorded) || !action_ok((int)item.base) ||
            (!item.values && !item.get)) {
            rc = ag_err_set(err, AG_EINVAL, "invalid_argument", "",
                            "backtest event '%s' has no values or a bad action",
                            item.event_id ? item.event_id : "");
            break;
        }
        int n = item.values
                    ? ag_rules_eval_values(set, item.values, item.nvalues, fired, FIRED_MAX)
                    : ag_rules_eval(set, item.get, item.ctx, fired, FIRED_MAX);
        if (n > FIRED_MAX)
            n = FIRED_MAX;
        enum ag_action now = item.base;
        for (int i = 0; i < n; i++)
            if (fired[i]->action > now)
                now = fired[i]->action;
        bool changed = now != item.recorded;
        r->events++;
        r->transitions[item.recorded][now]++;
        if (changed) {
            r->changed++;
            add_example(r->examples, &r->nexamples, max_examples, item.event_id);
        }
        for (int i = 0; i < n; i++) {
            struct ag_rules_bt_rule *br = &r->rules[fired[i]->index];
            br->fired++;
            br->transitions[item.recorded][now]++;
            if (changed) {
                br->changed++;
                if (fired[i]->action == now)
                    br->decisive++;
                add_example(br->examples, &br->nexamples, max_examples, item.event_id);
            }
        }
    }
    if (rc < 0) {
        ag_rules_bt_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static json_t *transitions_json(const uint64_t t[4][4])
{
    json_t *o = json_object();
    for (int a = 0; o && a < 4; a++)
        for (int b = 0; b < 4; b++) {
            if (!t[a][b])
                continue;
            char k[32];
            snprintf(k, sizeof k, "%s->%s", ag_action_name((enum ag_action)a),
                     ag_action_name((enum ag_action)b));
            if (json_object_set_new(o, k, json_integer((json_int_t)t[a][b])) < 0) {
                json_decref(o);
                return NULL;
            }
        }
    return o;
}

static json_t *examples_json(char (*ex)[AG_RULES_BT_ID_MAX], int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(ex[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *ag_rules_bt_report_json(const struct ag_rules_bt_report *r)
{
    json_t *rules = json_array();
    if (!rules)
        return NULL;
    for (int i = 0; i < r->nrules; i++) {
        const struct ag_rules_bt_rule *br = &r->rules[i];
        json_t *jr = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o*, s:o*}", "id", br->rule->id,
                               "action", ag_action_name(br->rule->action), "fired",
                               (json_int_t)br->fired, "changed", (json_int_t)br->changed,
                               "decisive", (json_int_t)br->decisive, "transitions",
                               transitions_json(br->transitions), "examples",
                               examples_json(br->examples, br->nexamples));
        if (!jr || json_array_append_new(rules, jr) < 0) {
            json_decref(rules);
            return NULL;
        }
    }
    return json_pack("{s:s, s:I, s:I, s:o*, s:o*, s:o}", "version", ag_rules_version(r->set),
                     "events", (json_int_t)r->events, "changed", (json_int_t)r->changed,
                     "transitions", transitions_json(r->transitions), "examples",
                     examples_json(r->examples, r->nexamples), "rules", rules);
}
