/* The event type table. Adding a type here is all it takes for the API to
 * accept it; its flags decide how freezes, rules and alerts treat it. */
#include "core/event_types.h"
#include "core/util.h"

#include <string.h>

#define L AG_EVT_LOGIN
#define M AG_EVT_MONEY
#define C AG_EVT_CREDENTIAL
#define A AG_EVT_ACCOUNT_CHANGE
#define AMT AG_EVT_AMOUNT

const struct ag_event_type ag_event_types[] = {
    {"account.created", 0, "a new account was registered"},
    {"login.attempted", L, "a login started (before the outcome is known)"},
    {"login.succeeded", L | AG_EVT_LOGIN_OK, "the password (and any second factor) was accepted"},
    {"login.failed", L | AG_EVT_LOGIN_FAIL, "a login was refused (wrong password, unknown user)"},
    {"logout", 0, "the user signed out"},
    {"password.reset_requested", AG_EVT_RECOVERY, "a password reset was asked for"},
    {"password.reset_completed", AG_EVT_RECOVERY | A, "a password was set through recovery"},
    {"password.changed", C | A, "the password was changed while signed in"},
    {"email.changed", C | A, "the account's email address was changed"},
    {"phone.changed", C | A, "the account's phone number was changed"},
    {"mfa.enabled", C | A, "2-step verification was turned on or a factor added"},
    {"mfa.disabled", C | A, "2-step verification was turned off or a factor removed"},
    {"mfa.failed", AG_EVT_MFA_FAIL, "a second-factor or one-time code was wrong"},
    {"mfa.succeeded", 0, "a second-factor or one-time code was accepted"},
    {"payment_method.added", M | A, "a card or other payment method was added"},
    {"payment_method.removed", A, "a payment method was removed"},
    {"payout_account.changed", M | A, "a seller's payout bank account was changed"},
    {"shipping_address.added", A, "a new shipping address was added"},
    {"profile.updated", 0, "non-sensitive profile details changed"},
    {"order.placed", M | AMT, "an order was placed"},
    {"subscription.activated", M | A | AMT, "a paid subscription was started"},
    {"wallet.transfer", M | AMT, "money was sent from the account's wallet"},
    {"payout.requested", M | AMT, "a seller asked for a payout"},
    {"listing.created", AG_EVT_SELLER, "a seller created a listing"},
    {"listing.price_changed", AG_EVT_SELLER, "a seller changed a listing's price"},
    {"message.reported", AG_EVT_REPORT, "the customer reported a suspicious email or SMS"},
};
const int ag_event_types_count = (int)AG_ARRAY_LEN(ag_event_types);

const struct ag_event_type *ag_event_type_find(const char *name)
{
    for (int i = 0; i < ag_event_types_count; i++)
        if (strcmp(ag_event_types[i].name, name) == 0)
            return &ag_event_types[i];
    return NULL;
}

int ag_event_type_index(const struct ag_event_type *t) { return (int)(t - ag_event_types); }
