/* The case workflow as tables: types, statuses and the allowed status
 * changes; priority from risk and money at stake; SLA per priority. */
#include "cases/cases.h"
#include "core/util.h"

#include <string.h>

const char *const ag_cases_types[] = {
    "unauthorized_transaction", "account_compromise", "suspicious_message",
    "seller_payout_fraud",      "billing_error",      NULL,
};

const char *const ag_cases_statuses[] = {
    "open",           "investigating",      "waiting_on_customer",
    "resolved_fraud", "resolved_not_fraud", "closed",
    NULL,
};

/* from -> to. Reopening (back to "open") is allowed from a resolution or
 * from closed; closing needs a resolution first. */
static const struct {
    const char *from, *to;
} transitions[] = {
    {"open", "investigating"},
    {"open", "waiting_on_customer"},
    {"open", "resolved_fraud"},
    {"open", "resolved_not_fraud"},
    {"investigating", "waiting_on_customer"},
    {"investigating", "resolved_fraud"},
    {"investigating", "resolved_not_fraud"},
    {"waiting_on_customer", "investigating"},
    {"waiting_on_customer", "resolved_fraud"},
    {"waiting_on_customer", "resolved_not_fraud"},
    {"resolved_fraud", "closed"},
    {"resolved_not_fraud", "closed"},
    {"resolved_fraud", "open"},
    {"resolved_not_fraud", "open"},
    {"closed", "open"},
};

bool ag_cases_transition_allowed(const char *from, const char *to)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(transitions); i++)
        if (!strcmp(transitions[i].from, from) && !strcmp(transitions[i].to, to))
            return true;
    return false;
}

/* The first row whose risk or money threshold is met gives the priority.
 * Money is in minor units: 100000 is 1,000.00 of a two-decimal currency. */
static const struct {
    const char *priority;
    double risk;
    int64_t amount;
    int64_t first_action_ms, resolution_ms;
} priorities[] = {
    {"critical", 0.95, 500000, 1 * 3600000LL, 8 * 3600000LL},
    {"high", 0.8, 100000, 4 * 3600000LL, 24 * 3600000LL},
    {"medium", 0.5, 10000, 24 * 3600000LL, 72 * 3600000LL},
    {"low", 0.0, 0, 72 * 3600000LL, 168 * 3600000LL},
};

const char *ag_cases_priority(double risk, int64_t amount_minor)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(priorities) - 1; i++)
        if (risk >= priorities[i].risk || amount_minor >= priorities[i].amount)
            return priorities[i].priority;
    return "low";
}

void ag_cases_sla(const char *priority, int64_t *first_action_ms, int64_t *resolution_ms)
{
    size_t n = AG_ARRAY_LEN(priorities);
    size_t k = n - 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(priorities[i].priority, priority))
            k = i;
    *first_action_ms = priorities[k].first_action_ms;
    *resolution_ms = priorities[k].resolution_ms;
}
