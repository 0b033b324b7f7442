/* The route table: every endpoint, its required scope and handler, declared
 * once. The router, the auth checks, /metrics labels, the OpenAPI test and
 * the attack tests all iterate this table. */
#include "api/api.h"
#include "core/util.h"

const struct ag_route ag_routes[] = {
    {"GET", "/healthz", NULL, ag_api_healthz, "liveness and store check"},
    {"GET", "/metrics", "metrics:read", ag_api_metrics, "Prometheus metrics"},
    {"GET", "/v1/event-types", "events:read", ag_api_event_types, "the event type table"},
    {"POST", "/v1/events", "events:write", ag_api_events_post, "submit one event, get a decision"},
    {"POST", "/v1/events/batch", "events:write", ag_api_events_batch, "submit up to 1,000 events"},
    {"GET", "/v1/events/{id}", "events:read", ag_api_events_get, "one stored event and decision"},
    {"GET", "/v1/accounts/{id}", "accounts:read", ag_api_account_get, "an account's state"},
    {"GET", "/v1/accounts/{id}/events", "events:read", ag_api_account_events,
     "an account's events, newest first, paginated"},
    {"POST", "/v1/accounts/{id}/freeze", "accounts:write", ag_api_account_freeze,
     "freeze money movement and credential changes"},
    {"POST", "/v1/accounts/{id}/unfreeze", "accounts:write", ag_api_account_unfreeze,
     "lift a freeze"},
    {"GET", "/v1/apikeys", "admin", ag_api_apikeys_list, "list API keys (never their secrets)"},
    {"POST", "/v1/apikeys", "admin", ag_api_apikeys_create, "create an API key"},
    {"POST", "/v1/apikeys/{id}/revoke", "admin", ag_api_apikeys_revoke, "revoke an API key"},
};
const int ag_routes_count = (int)AG_ARRAY_LEN(ag_routes);
