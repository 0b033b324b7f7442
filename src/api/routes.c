/* The route table: every endpoint, its required scope and handler, declared
 * once. The router, the auth checks, /metrics labels, the OpenAPI test and
 * the attack tests all iterate this table. */
#include "api/api.h"
#include "api/notify.h"
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
    {"PUT", "/v1/accounts/{id}/contact", "accounts:write", ag_api_contact_put,
     "where the account's alerts go: email, phone, locale"},
    {"GET", "/v1/accounts/{id}/contact", "accounts:read", ag_api_contact_get,
     "the account's alert contact"},
    {"GET", "/v1/notifications", "notifications:read", ag_api_notifications_list,
     "the outbox (?state=dead for dead letters), paginated"},
    {"GET", "/v1/notifications/{id}", "notifications:read", ag_api_notifications_get,
     "one notification and its delivery state"},
    {"POST", "/v1/notifications/{id}/retry", "notifications:write", ag_api_notifications_retry,
     "re-drive a dead (or waiting) notification now"},
    {"GET", "/v1/webhooks", "notifications:read", ag_api_webhooks_list,
     "webhook subscriptions (never their secrets)"},
    {"POST", "/v1/webhooks", "webhooks:write", ag_api_webhooks_create,
     "subscribe a URL to event kinds; the signing secret is shown once"},
    {"DELETE", "/v1/webhooks/{id}", "webhooks:write", ag_api_webhooks_delete,
     "delete a webhook subscription"},
    {"GET", "/v1/wasnt-me/{token}", NULL, ag_api_wasnt_me_get,
     "the owner's \"this wasn't me\" page (from an alert)"},
    {"POST", "/v1/wasnt-me/{token}", NULL, ag_api_wasnt_me_post,
     "the owner secures the account from an alert's link"},
};
const int ag_routes_count = (int)AG_ARRAY_LEN(ag_routes);
