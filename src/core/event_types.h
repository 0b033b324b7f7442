/* The event types accountguard understands, declared once (event_types.c).
 * Each type carries flags that the pipeline, the rules and the protections
 * read instead of comparing type names. */
#ifndef AG_CORE_EVENT_TYPES_H
#define AG_CORE_EVENT_TYPES_H

#include <stdint.h>

enum {
    AG_EVT_LOGIN = 1u << 0,          /* a login attempt of any outcome */
    AG_EVT_LOGIN_OK = 1u << 1,       /* a successful login: updates the profile */
    AG_EVT_LOGIN_FAIL = 1u << 2,     /* a failed login: counts in velocity */
    AG_EVT_MONEY = 1u << 3,          /* moves money or changes where it goes */
    AG_EVT_CREDENTIAL = 1u << 4,     /* changes how one signs in or is reached */
    AG_EVT_ACCOUNT_CHANGE = 1u << 5, /* a sensitive account change (alerts the owner) */
    AG_EVT_RECOVERY = 1u << 6,       /* account recovery: allowed while frozen */
    AG_EVT_SELLER = 1u << 7,         /* seller listing activity */
    AG_EVT_AMOUNT = 1u << 8,         /* carries properties.amount and .currency */
    AG_EVT_MFA_FAIL = 1u << 9,       /* a failed second-factor code */
    AG_EVT_REPORT = 1u << 10,        /* a report by the customer */
};

struct ag_event_type {
    const char *name;  /* "login.succeeded" */
    uint32_t flags;    /* AG_EVT_* */
    const char *help;  /* one line for docs and the API */
};

extern const struct ag_event_type ag_event_types[];
extern const int ag_event_types_count;

/* Look up a type by name; NULL if unknown. */
const struct ag_event_type *ag_event_type_find(const char *name);
/* Index of <t> in the table (stable within a build). */
int ag_event_type_index(const struct ag_event_type *t);

#endif
