/* Decision helpers: action names, reasons, escalation. */
#include "core/decision.h"

#include <stdio.h>
#include <string.h>

static const char *const action_names[] = {"allow", "review", "challenge", "deny"};

const char *ag_action_name(enum ag_action a)
{
    return (unsigned)a < 4 ? action_names[a] : "allow";
}

int ag_action_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, action_names[i]) == 0)
            return i;
    return -1;
}

void ag_decision_reason(struct ag_decision *d, const char *code, const char *fmt, ...)
{
    for (int i = 0; i < d->nreasons; i++)
        if (strcmp(d->reasons[i].code, code) == 0)
            return;
    if (d->nreasons >= AG_DECISION_MAX_REASONS)
        return;
    struct ag_reason *r = &d->reasons[d->nreasons++];
    snprintf(r->code, sizeof r->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

void ag_decision_escalate(struct ag_decision *d, enum ag_action a)
{
    if (a > d->action)
        d->action = a;
}

void ag_decision_rule(struct ag_decision *d, const char *id)
{
    for (int i = 0; i < d->nrules; i++)
        if (strcmp(d->rules[i], id) == 0)
            return;
    if (d->nrules < AG_DECISION_MAX_RULES)
        snprintf(d->rules[d->nrules++], sizeof d->rules[0], "%s", id);
}
