/* The owner-alert decision table (alerts.h). */
#include "notify/alerts.h"
#include "core/decision.h"
#include "core/event_types.h"
#include "core/util.h"

#include <string.h>

/* Account changes with their own alert; other AG_EVT_ACCOUNT_CHANGE types
 * get alert.account_change. */
static const struct {
    const char *type, *kind;
    bool urgent;
} changes[] = {
    {"password.changed", "alert.password_changed", true},
    {"email.changed", "alert.email_changed", true},
    {"phone.changed", "alert.phone_changed", true},
    {"mfa.disabled", "alert.mfa_disabled", true},
    {"mfa.enabled", "alert.mfa_enabled", false},
    {"payment_method.added", "alert.payment_method_added", false},
    {"payment_method.removed", "alert.payment_method_removed", false},
    {"shipping_address.added", "alert.shipping_address_added", false},
    {"payout_account.changed", "alert.payout_account_changed", true},
    {"subscription.activated", "alert.subscription_activated", false},
    {"password.reset_requested", "alert.recovery_requested", true},
    {"password.reset_completed", "alert.recovery_completed", true},
};

/* Reasons that make a successful login worth telling the owner about
 * (risk/risk.c's codes). new_ip or new_user_agent alone are too common. */
static const char *const unusual[] = {
    "impossible_travel", "credential_stuffing_ip", "credential_stuffing_device",
    "failed_logins_account", "failed_mfa", "anonymous_proxy", "hosting_network",
    "bot_user_agent", "new_country", "new_asn", "new_network_type", "new_device_type",
};

static bool has(const char *const *codes, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (codes[i] && !strcmp(codes[i], code))
            return true;
    return false;
}

int ag_notify_alerts_for_event(const char *type, uint32_t flags, int action,
                               const char *const *codes, int ncodes,
                               struct ag_notify_alert *out)
{
    int n = 0;
    bool held = action >= AG_ACTION_REVIEW;
    if (flags & AG_EVT_LOGIN_OK) {
        /* The account's very first login: the risk model knows nothing yet
         * and challenges it; the owner has just signed up. */
        if (has(codes, ncodes, "first_login"))
            return 0;
        bool odd = held;
        for (int i = 0; i < ncodes && !odd; i++) {
            if (codes[i] && !strncmp(codes[i], "rule:", 5))
                odd = true;
            for (size_t k = 0; k < AG_ARRAY_LEN(unusual) && !odd; k++)
                odd = codes[i] && !strcmp(codes[i], unusual[k]);
        }
        if (has(codes, ncodes, "new_device"))
            out[n++] = (struct ag_notify_alert){"alert.new_device_login", true, held};
        else if (odd)
            out[n++] = (struct ag_notify_alert){"alert.unusual_login", true, held};
        return n;
    }
    for (size_t i = 0; i < AG_ARRAY_LEN(changes); i++)
        if (!strcmp(changes[i].type, type)) {
            out[n++] = (struct ag_notify_alert){changes[i].kind, changes[i].urgent, held};
            return n;
        }
    if (flags & AG_EVT_ACCOUNT_CHANGE) {
        out[n++] = (struct ag_notify_alert){"alert.account_change", false, held};
        return n;
    }
    if ((flags & AG_EVT_MONEY) && action == AG_ACTION_DENY)
        out[n++] = (struct ag_notify_alert){"alert.money_denied", true, true};
    return n;
}
