/* The "cases" pipeline hook: module state (init/fini) and the act stage,
 * which opens or joins a case in the event's own transaction when
 *  - the decision is deny or review with risk >= cases_auto_risk,
 *  - an account-change monitoring rule fired (reason "rule:<id>", mapped
 *    to a case type by the table below), or
 *  - the event is a phishing report (message.reported).
 * The triggering event is linked as evidence. */
#include "cases/internal.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Rule ids (rules/default.rules) whose firing opens a case, by prefix; the
 * first match wins. */
static const struct {
    const char *prefix;
    const char *type;
} rule_map[] = {
    {"ato_payout", "seller_payout_fraud"},
    {"ato_money_out", "unauthorized_transaction"},
    {"ato_subscription", "unauthorized_transaction"},
    {"ato_", "account_compromise"},
    {"order_new_address_after_risky_login", "unauthorized_transaction"},
    {"order_gift_cards_risky", "unauthorized_transaction"},
};

static const char *rule_type(const char *id)
{
    for (size_t i = 0; i < sizeof rule_map / sizeof rule_map[0]; i++)
        if (!strncmp(id, rule_map[i].prefix, strlen(rule_map[i].prefix)))
            return rule_map[i].type;
    return NULL;
}

/* The case type for a risky decision on an event of <type>. */
static const char *type_for_event(const struct ag_event *ev)
{
    uint32_t f = ev->type->flags;
    if (!strcmp(ev->type->name, "payout.requested") ||
        !strcmp(ev->type->name, "payout_account.changed"))
        return "seller_payout_fraud";
    if (f & AG_EVT_MONEY)
        return "unauthorized_transaction";
    return "account_compromise";
}

struct open_job {
    char account_id[129];
    char event_id[129];
    char type[32];
    char source[32];
    char title[200];
    char evidence_kind[16];
    double risk;
    int64_t amount;
    char currency[4];
};

static int open_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct open_job *j = arg;
    char case_id[40];
    bool created;
    return ag_cases_open_or_join(tx, j->account_id, j->type, j->source, "system:pipeline",
                                 j->title, j->risk, j->amount, j->currency[0] ? j->currency : NULL,
                                 j->evidence_kind, j->event_id, case_id, &created, err);
}

int ag_cases_hook_act(void *state, struct ag_pipeline_event *pe)
{
    struct ag_cases *m = state;
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    struct ag_decision *d = ag_pipeline_event_decision(pe);
    const char *type = NULL, *source = "detection", *kind = "event";
    char title[200] = "";
    if (ev->type->flags & AG_EVT_REPORT) {
        type = "suspicious_message";
        source = "phishing";
        kind = "message";
        snprintf(title, sizeof title, "Reported message");
    }
    for (int i = 0; !type && i < d->nrules; i++) {
        if ((type = rule_type(d->rules[i])))
            snprintf(title, sizeof title, "Rule %s fired on %s", d->rules[i], ev->type->name);
    }
    for (int i = 0; !type && i < d->nreasons; i++) {
        const char *code = d->reasons[i].code;
        if (!strncmp(code, "rule:", 5) && (type = rule_type(code + 5)))
            snprintf(title, sizeof title, "Rule %s fired on %s", code + 5, ev->type->name);
    }
    if (!type && (d->action == AG_ACTION_DENY || d->action == AG_ACTION_REVIEW) &&
        d->risk >= m->auto_risk) {
        type = type_for_event(ev);
        snprintf(title, sizeof title, "%s: %s at risk %.2f", ev->type->name,
                 ag_action_name(d->action), d->risk);
    }
    if (!type)
        return 0;
    struct open_job *j = calloc(1, sizeof *j);
    if (!j)
        return AG_ENOMEM;
    snprintf(j->account_id, sizeof j->account_id, "%s", ev->account_id);
    snprintf(j->event_id, sizeof j->event_id, "%s", ev->id);
    snprintf(j->type, sizeof j->type, "%s", type);
    snprintf(j->source, sizeof j->source, "%s", source);
    snprintf(j->title, sizeof j->title, "%s", title);
    snprintf(j->evidence_kind, sizeof j->evidence_kind, "%s", kind);
    j->risk = d->risk;
    /* The event's money is counted when it is linked as evidence. */
    return ag_pipeline_event_write(pe, open_run, j, free);
}

int ag_cases_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                       struct ag_store *store, void **state, struct ag_err *err)
{
    struct ag_cases *m = calloc(1, sizeof *m);
    if (!m)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    m->p = p;
    m->store = store;
    m->cfg = cfg;
    m->auto_risk = cfg ? cfg->cases_auto_risk : 0.8;
    m->upload_max = cfg && cfg->cases_upload_max_bytes > 0 ? cfg->cases_upload_max_bytes : 1048576;
    m->retry_interval_ms = cfg ? cfg->cases_retry_interval_s * 1000 : 0;
    snprintf(m->fail_steps, sizeof m->fail_steps, ",%s,",
             cfg && cfg->cases_fail_steps ? cfg->cases_fail_steps : "");
    snprintf(m->evidence_dir, sizeof m->evidence_dir, "%s/evidence",
             cfg && cfg->data_dir ? cfg->data_dir : ".");
    pthread_mutex_init(&m->playbook_lock, NULL);
    pthread_mutex_init(&m->retry_lock, NULL);
    pthread_cond_init(&m->retry_cond, NULL);
    pthread_mutex_init(&m->magic_lock, NULL);
    *state = m;
    mkdir(m->evidence_dir, 0700); /* may exist; a failure shows on the first upload */
    m->magic = magic_open(MAGIC_MIME_TYPE);
    if (!m->magic || magic_load(m->magic, NULL)) {
        ag_err_set(err, AG_EIO, "magic_unavailable", "",
                   "cannot load the libmagic database: %s",
                   m->magic ? magic_error(m->magic) : "out of memory");
        ag_cases_hook_fini(m);
        *state = NULL;
        return AG_EIO;
    }
    int rc = cases_retry_start(m, err);
    if (rc) {
        ag_cases_hook_fini(m);
        *state = NULL;
    }
    return rc;
}

void ag_cases_hook_fini(void *state)
{
    struct ag_cases *m = state;
    if (!m)
        return;
    cases_retry_stop(m);
    if (m->magic)
        magic_close(m->magic);
    pthread_mutex_destroy(&m->playbook_lock);
    pthread_mutex_destroy(&m->retry_lock);
    pthread_cond_destroy(&m->retry_cond);
    pthread_mutex_destroy(&m->magic_lock);
    free(m);
}
