/* The notification endpoints and the "notify" pipeline hook: owner alerts
 * for every event that calls for one (notify/alerts.h), the accounts'
 * contact details, the outbox (list, retry dead letters), webhook
 * subscriptions, and the "this wasn't me" link. See docs/NOTIFICATIONS.md. */
#ifndef AG_API_NOTIFY_H
#define AG_API_NOTIFY_H

#include "api/api.h"

/* The "notify" hook (a row in hooks.c; put it last, so it sees the final
 * decision). init() starts the delivery workers, fini() stops them, act()
 * queues the alerts an event calls for in the event's own transaction and
 * wakes the workers once it commits. */
int ag_api_notify_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                            struct ag_store *store, void **state, struct ag_err *err);
void ag_api_notify_hook_fini(void *state);
int ag_api_notify_hook_act(void *state, struct ag_pipeline_event *pe);

/* Tell the owner (their channels) and the platform (webhook
 * "alert.account_frozen") that <account_id> was frozen for <reason>. Call
 * after the freeze is durable; <cause_id> makes it idempotent (an event id,
 * a case id, a link id; NULL: one alert per call). Returns what
 * ag_notify_send returns (messages stored, or a negative code). */
int ag_api_notify_account_frozen(struct ag_app *app, const char *account_id, const char *reason,
                                 const char *cause_id, struct ag_err *err);

/* What "this wasn't me" does to secure the account. The default runs the
 * secure-account playbook of src/cases (ag_cases_secure_account) when the
 * "cases" hook is loaded, and falls back to freezing the account and
 * signing it out everywhere (then alerting alert.account_frozen) when it is
 * not or when the playbook fails. Returns 0 and a short description of what
 * was done in <outcome> ("playbook:<case id>", "frozen"), or a negative code.
 * Replace it to change what the link does. */
typedef int (*ag_api_secure_account_fn)(struct ag_app *app, const char *account_id,
                                        const char *event_id, const char *reason,
                                        char *outcome, size_t outcome_len, struct ag_err *err);
extern ag_api_secure_account_fn ag_api_wasnt_me_secure;

/* Handlers. */
void ag_api_contact_put(struct ag_app *app, struct ag_http_req *req);
void ag_api_contact_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_notifications_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_notifications_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_notifications_retry(struct ag_app *app, struct ag_http_req *req);
void ag_api_webhooks_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_webhooks_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_webhooks_delete(struct ag_app *app, struct ag_http_req *req);
void ag_api_wasnt_me_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_wasnt_me_post(struct ag_app *app, struct ag_http_req *req);

#endif
