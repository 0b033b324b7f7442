/* The decision the pipeline returns for an event: an action, a risk in
 * [0,1], human-readable reasons, the rules that fired, and for a challenge
 * the methods that may satisfy it. Shared by risk/, protect/, pipeline/. */
#ifndef AG_CORE_DECISION_H
#define AG_CORE_DECISION_H

#include <stdarg.h>
#include <stdint.h>

/* Ordered weakest to strongest: a stronger action always wins. */
enum ag_action { AG_ACTION_ALLOW = 0, AG_ACTION_REVIEW, AG_ACTION_CHALLENGE, AG_ACTION_DENY };

enum {
    AG_CHALLENGE_TOTP = 1u << 0,
    AG_CHALLENGE_SMS = 1u << 1,
    AG_CHALLENGE_EMAIL = 1u << 2,
    AG_CHALLENGE_BACKUP = 1u << 3,
};

#define AG_DECISION_MAX_REASONS 16
#define AG_DECISION_MAX_RULES 16

struct ag_reason {
    char code[40];    /* stable: "new_device", "account_frozen", ... */
    char detail[200]; /* for people: "NO -> BR" */
};

struct ag_decision {
    enum ag_action action;
    double risk;
    int nreasons;
    struct ag_reason reasons[AG_DECISION_MAX_REASONS];
    int nrules;
    char rules[AG_DECISION_MAX_RULES][64]; /* ids of the rules that fired */
    uint32_t challenge_methods;            /* AG_CHALLENGE_* when action is challenge */
};

const char *ag_action_name(enum ag_action a);
/* Parse "allow", "review", "challenge", "deny"; returns -1 if unknown. */
int ag_action_parse(const char *s);

/* Add a reason (ignored past AG_DECISION_MAX_REASONS; a code already present
 * is not added twice). */
void ag_decision_reason(struct ag_decision *d, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raise the action to <a> if stronger than the current one. */
void ag_decision_escalate(struct ag_decision *d, enum ag_action a);
/* Record that rule <id> fired. */
void ag_decision_rule(struct ag_decision *d, const char *id);

#endif
