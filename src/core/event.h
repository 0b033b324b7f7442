/* A validated event as the pipeline sees it (after the validate stage).
 * String fields are copied into fixed buffers sized by the API's limits;
 * <raw> is the request's JSON object, borrowed for the event's lifetime. */
#ifndef AG_CORE_EVENT_H
#define AG_CORE_EVENT_H

#include "core/event_types.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define AG_ID_MAX 128   /* event, account, device and session ids */
#define AG_UA_MAX 1024  /* user agent */

struct ag_event {
    char id[AG_ID_MAX + 1];       /* the client's idempotency key */
    const struct ag_event_type *type;
    int64_t occurred_at_ms;
    int64_t received_at_ms;
    char account_id[AG_ID_MAX + 1];
    char role[16];                /* "customer", "seller", "agent" */
    char ip[46];                  /* empty if not given */
    bool ip_v6;
    char user_agent[AG_UA_MAX + 1];
    char device_id[AG_ID_MAX + 1];
    char session_id[AG_ID_MAX + 1];
    bool has_amount;
    int64_t amount_minor;         /* properties.amount, minor units */
    char currency[4];             /* ISO 4217 */
    json_t *properties;           /* borrowed; an object (maybe empty) */
    json_t *raw;                  /* borrowed; the whole event object */
};

#endif
