/* Backtest: run a compiled rule set over stored events and report, per rule,
 * how often it fires and which decisions it would change. The pipeline or
 * the API feeds the events through an iterator; nothing here touches the
 * store.
 *
 * The new action of an event is the strongest of its <base> action (what the
 * rest of the decision gave: model thresholds, velocity, protections) and
 * the actions of the rules that fire. A decision changes when the new action
 * differs from the <recorded> one. */
#ifndef AG_RULES_BACKTEST_H
#define AG_RULES_BACKTEST_H

#include "rules/rules.h"

#define AG_RULES_BT_ID_MAX 128 /* bytes of an example event id kept */

/* One stored event as the iterator yields it. Give either <values> (indexed
 * by field id) or <get>/<ctx>. Everything is borrowed until the next call. */
struct ag_rules_bt_item {
    const char *event_id;
    enum ag_action recorded; /* the action decided when the event happened */
    enum ag_action base;     /* the action without rules; ALLOW if the rules decide alone */
    const struct ag_rules_value *values;
    int nvalues;
    ag_rules_get_fn get;
    void *ctx;
};

/* Fill <item> with the next event and return 1; return 0 at the end, or a
 * negative AG_E* code (with <err> set) to stop the backtest with an error. */
typedef int (*ag_rules_bt_next_fn)(void *it, struct ag_rules_bt_item *item, struct ag_err *err);

struct ag_rules_bt_rule {
    const struct ag_rules_rule *rule; /* in the report's set */
    uint64_t fired;    /* events the rule fired on */
    uint64_t changed;  /* of those, events whose decision changes */
    uint64_t decisive; /* of those, events whose new action is this rule's action */
    uint64_t transitions[4][4]; /* [recorded][new] over the events it fired on */
    int nexamples;              /* example ids of changed events it fired on */
    char (*examples)[AG_RULES_BT_ID_MAX];
};

struct ag_rules_bt_report {
    struct ag_rules *set; /* a reference, released with the report */
    uint64_t events;
    uint64_t changed;
    uint64_t transitions[4][4]; /* [recorded][new] over all events */
    int max_examples;
    int nexamples; /* examples of changed events, whatever fired */
    char (*examples)[AG_RULES_BT_ID_MAX];
    int nrules;
    struct ag_rules_bt_rule *rules; /* in file order */
};

/* Run <set> over every event <next> yields from <it>, keeping up to
 * <max_examples> (0..1000) example event ids per rule and overall. On success
 * *out is a report (free with ag_rules_bt_report_free) and returns 0;
 * returns the iterator's error, AG_EINVAL for a bad argument or AG_ENOMEM,
 * with *out NULL. */
int ag_rules_backtest(struct ag_rules *set, ag_rules_bt_next_fn next, void *it, int max_examples,
                      struct ag_rules_bt_report **out, struct ag_err *err);

void ag_rules_bt_report_free(struct ag_rules_bt_report *r);

/* The report as JSON for the API:
 * {"version","events","changed","transitions":{"allow->deny":n,...},
 *  "examples":[...],"rules":[{"id","action","fired","changed","decisive",
 *  "transitions":{...},"examples":[...]}]}. Transitions with a zero count
 * are left out. NULL on ENOMEM. */
json_t *ag_rules_bt_report_json(const struct ag_rules_bt_report *r);

#endif
