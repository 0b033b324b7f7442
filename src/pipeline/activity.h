/* Account activity: the small per-account memory behind the rules' account.*,
 * order.* and seller/order velocity fields — when the last risky, challenged
 * or new-device login was, the last recovery and credential change, order
 * counts and amounts, recent order/listing/price-change times, shipping
 * addresses seen. Bounded: a fixed core per account plus, only for accounts
 * that order or sell, a fixed commerce part. Persisted as a blob with the
 * account and rebuilt at start. */
#ifndef AG_PIPELINE_ACTIVITY_H
#define AG_PIPELINE_ACTIVITY_H

#include "core/decision.h"
#include "core/event.h"
#include "rules/rules.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_ACTIVITY_RING 16
#define AG_ACTIVITY_SHIP 8
#define AG_ACTIVITY_BLOB_MAX 640
#define AG_ACTIVITY_PASS_WINDOW_MS (60 * 60 * 1000)

struct ag_activity_commerce {
    uint32_t orders, orders_since_recovery;
    char currency[4];       /* the account's first order currency */
    uint32_t orders_in_currency;
    double amount_sum;      /* of orders in <currency> */
    int64_t amount_max;
    uint64_t ship[AG_ACTIVITY_SHIP]; /* hashes of shipping addresses, newest first */
    uint32_t order_s[AG_ACTIVITY_RING], listing_s[AG_ACTIVITY_RING], price_s[AG_ACTIVITY_RING];
    uint8_t order_i, listing_i, price_i;
};

/* Recent failed logins of an account: when, and from which address. One
 * node keeps them in memory only (windows of an hour at most need not
 * survive a restart); several nodes share them in the blob. */
#define AG_ACTIVITY_FAILS 16
struct ag_activity_fails {
    uint32_t at_s[AG_ACTIVITY_FAILS];
    uint64_t ip[AG_ACTIVITY_FAILS]; /* address hash, 0 = none */
    uint8_t next;
};

struct ag_activity {
    int64_t first_seen_ms;
    int64_t risky_login_ms, challenged_login_ms, new_device_login_ms;
    int64_t recovery_ms, credential_change_ms;
    uint32_t successful_logins;
    float last_login_risk;
    bool last_login_new_device;
    bool recovered;
    int64_t payout_hold_until_ms; /* a new payout account is on hold until then */
    /* The last successful login was challenged and is not learned yet: its
     * context joins the profile when the second factor passes
     * (mfa.succeeded within AG_ACTIVITY_PASS_WINDOW_MS of it). */
    bool login_held;
    struct ag_activity_commerce *commerce; /* NULL until the first order or listing */
    struct ag_activity_fails *fails;       /* NULL until the first failed login */
};

/* What the pipeline knows about the event beyond the event itself. */
struct ag_activity_input {
    bool new_device;         /* the device id is new to the account */
    double risk;             /* the model's risk */
    double review_threshold; /* risk at or above which a login counts as risky */
};

/* Fill the rules fields that come from <a> and <ev> (facts indexed by
 * rules/fields.h ids; untouched fields stay as they were). <a> may be NULL
 * for an account never seen. */
void ag_activity_facts(const struct ag_activity *a, const struct ag_event *ev,
                       const struct ag_activity_input *in, struct ag_rules_value *facts);

/* Record <ev> with its decision <d>. Returns AG_ENOMEM if the commerce part
 * could not be allocated (the rest is recorded). */
int ag_activity_update(struct ag_activity *a, const struct ag_event *ev,
                       const struct ag_decision *d, const struct ag_activity_input *in);

/* Does <ev> (an mfa.succeeded) pass the challenge of a held login? */
bool ag_activity_passes_held_login(const struct ag_activity *a, const struct ag_event *ev);

/* Serialize into <buf>, with the recent failed logins if <fails>; returns
 * the length (<= AG_ACTIVITY_BLOB_MAX), 0 if <cap> is too small. */
size_t ag_activity_blob(const struct ag_activity *a, bool fails, uint8_t *buf, size_t cap);
/* Load from a blob; AG_EINVAL if malformed, AG_ENOMEM. <a> is reset first. */
int ag_activity_load(struct ag_activity *a, const uint8_t *blob, size_t len);
void ag_activity_free(struct ag_activity *a);

#endif
