/* Which owner alerts an event calls for: a pure function of the event
 * type (and its flags), the decision's action and reason codes. The
 * pipeline hook (src/api/notify.c) turns each into messages on the
 * account's channels and a webhook event to the platform.
 *
 *   (a login with reason first_login, the account's first: nothing)
 *   login succeeded + reason new_device            -> alert.new_device_login
 *   login succeeded + an unusual-login reason, a
 *     rule:* reason, or action review/challenge/deny -> alert.unusual_login
 *   password/email/phone change, 2-step off/on, payment method added or
 *     removed, shipping address, payout account, subscription, any other
 *     AG_EVT_ACCOUNT_CHANGE type                    -> alert.<that change>
 *   password reset requested / completed           -> alert.recovery_*
 *   money movement denied                          -> alert.money_denied
 *
 * Freezes are not events: whoever freezes an account sends
 * alert.account_frozen (ag_api_notify_account_frozen in src/api/notify.h). */
#ifndef AG_NOTIFY_ALERTS_H
#define AG_NOTIFY_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

struct ag_notify_alert {
    const char *kind; /* a template id: "alert.password_changed" */
    bool urgent;      /* also by SMS when the account has a phone */
    bool held;        /* the decision held or blocked it (review, challenge, deny) */
};

#define AG_NOTIFY_ALERTS_MAX 4

/* Fill <out> (room for AG_NOTIFY_ALERTS_MAX) with the alerts for an event of
 * type <type> with <flags> (AG_EVT_*), decided <action> (enum ag_action)
 * with reason <codes>. Returns how many. */
int ag_notify_alerts_for_event(const char *type, uint32_t flags, int action,
                               const char *const *codes, int ncodes,
                               struct ag_notify_alert *out);

#endif
