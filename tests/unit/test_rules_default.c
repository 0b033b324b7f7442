/* Unit tests for the shipped rules: rules/default.rules compiles against the
 * default field schema (src/rules/fields.h), docs/RULES.md documents every
 * field of that schema, and each threat the default rules cover fires the
 * expected rules on a realistic event while a benign event fires none. The
 * account-change sequences of issue 5 are table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/event_types.h"
#include "rules/fields.h"
#include "rules_fixture.h"

static struct ag_rules *dflt;

static int setup(void **state)
{
    char path[1024];
    struct ag_err err;
    struct ag_rules_pos pos;
    test_path("rules/default.rules", path, sizeof path);
    if (ag_rules_compile_file(&ag_rules_default_schema, path, &dflt, &pos, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    ag_rules_release(dflt);
    return 0;
}

static const char *const no_labels[] = {"none"};
static const char *const botnet[] = {"scanner", "botnet"};

/* A benign login of a long-standing customer on a known device: every field
 * present, nothing unusual. */
static void benign(struct ag_rules_value *v, const char *type)
{
    for (int i = 0; i < AG_RF_COUNT; i++)
        v[i] = (struct ag_rules_value){.type = AG_RULES_MISSING};
    const struct ag_event_type *t = ag_event_type_find(type);
    assert_non_null(t);
    v[AG_RF_EVENT_TYPE] = ag_rules_str(t->name);
    v[AG_RF_EVENT_LOGIN] = ag_rules_bool(t->flags & AG_EVT_LOGIN);
    v[AG_RF_EVENT_MONEY] = ag_rules_bool(t->flags & AG_EVT_MONEY);
    v[AG_RF_EVENT_CREDENTIAL] = ag_rules_bool(t->flags & AG_EVT_CREDENTIAL);
    v[AG_RF_EVENT_ACCOUNT_CHANGE] = ag_rules_bool(t->flags & AG_EVT_ACCOUNT_CHANGE);
    v[AG_RF_EVENT_SELLER] = ag_rules_bool(t->flags & AG_EVT_SELLER);
    if (t->flags & AG_EVT_AMOUNT) {
        v[AG_RF_EVENT_AMOUNT] = ag_rules_num(4500);
        v[AG_RF_EVENT_CURRENCY] = ag_rules_str("EUR");
    }
    v[AG_RF_ACCOUNT_ROLE] = ag_rules_str("customer");
    v[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num(400);
    v[AG_RF_ACCOUNT_MFA_ENABLED] = ag_rules_bool(true);
    v[AG_RF_ACCOUNT_LOGINS] = ag_rules_num(200);
    v[AG_RF_ACCOUNT_LAST_LOGIN_NEW_DEVICE] = ag_rules_bool(false);
    v[AG_RF_ACCOUNT_LAST_LOGIN_RISK] = ag_rules_num(0.05);
    v[AG_RF_ACCOUNT_MIN_SINCE_CREDENTIAL_CHANGE] = ag_rules_num(90 * 24 * 60);
    v[AG_RF_ACCOUNT_ORDERS] = ag_rules_num(12);
    v[AG_RF_ACCOUNT_ORDER_AMOUNT_AVG] = ag_rules_num(5000);
    v[AG_RF_ACCOUNT_ORDER_AMOUNT_MAX] = ag_rules_num(12000);
    v[AG_RF_SESSION_MFA_VERIFIED] = ag_rules_bool(false);
    v[AG_RF_DEVICE_ID] = ag_rules_str("d_home");
    v[AG_RF_DEVICE_NEW] = ag_rules_bool(false);
    v[AG_RF_DEVICE_TRUSTED] = ag_rules_bool(true);
    v[AG_RF_IP_ADDRESS] = ag_rules_str("203.0.113.7");
    v[AG_RF_IP_V6] = ag_rules_bool(false);
    v[AG_RF_IP_COUNTRY] = ag_rules_str("NO");
    v[AG_RF_IP_ASN] = ag_rules_num(2119);
    v[AG_RF_IP_AS_NAME] = ag_rules_str("Telenor Norge AS");
    v[AG_RF_IP_ANONYMOUS_PROXY] = ag_rules_bool(false);
    v[AG_RF_IP_HOSTING] = ag_rules_bool(false);
    v[AG_RF_IP_SATELLITE] = ag_rules_bool(false);
    v[AG_RF_IP_DROP] = ag_rules_bool(false);
    v[AG_RF_UA_BROWSER] = ag_rules_str("Firefox");
    v[AG_RF_UA_OS] = ag_rules_str("Windows");
    v[AG_RF_UA_DEVICE_TYPE] = ag_rules_str("desktop");
    v[AG_RF_UA_BOT] = ag_rules_bool(false);
    v[AG_RF_PROFILE_NEW_IP] = ag_rules_bool(false);
    v[AG_RF_PROFILE_NEW_ASN] = ag_rules_bool(false);
    v[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(false);
    v[AG_RF_PROFILE_NEW_BROWSER] = ag_rules_bool(false);
    v[AG_RF_RISK_SCORE] = ag_rules_num(0.05);
    v[AG_RF_RISK_REASONS] = ag_rules_list(NULL, 0);
    v[AG_RF_VEL_FAILED_ACCOUNT_10M] = ag_rules_num(0);
    v[AG_RF_VEL_FAILED_ACCOUNT_1H] = ag_rules_num(1);
    v[AG_RF_VEL_FAILED_IP_1H] = ag_rules_num(1);
    v[AG_RF_VEL_FAILED_PREFIX_1H] = ag_rules_num(2);
    v[AG_RF_VEL_FAILED_ASN_1H] = ag_rules_num(40);
    v[AG_RF_VEL_ACCOUNTS_PER_IP_1H] = ag_rules_num(1);
    v[AG_RF_VEL_ACCOUNTS_PER_DEVICE_1H] = ag_rules_num(1);
    v[AG_RF_VEL_IPS_PER_ACCOUNT_1H] = ag_rules_num(1);
    v[AG_RF_VEL_FAILED_MFA_1H] = ag_rules_num(0);
    v[AG_RF_VEL_ORDERS_1H] = ag_rules_num(1);
    v[AG_RF_VEL_ORDERS_24H] = ag_rules_num(1);
    v[AG_RF_VEL_LISTINGS_1H] = ag_rules_num(0);
    v[AG_RF_VEL_PRICE_CHANGES_1H] = ag_rules_num(0);
    v[AG_RF_TRAVEL_DISTANCE_KM] = ag_rules_num(3);
    v[AG_RF_TRAVEL_SPEED_KMH] = ag_rules_num(10);
    v[AG_RF_ORDER_NEW_SHIPPING_ADDRESS] = ag_rules_bool(false);
    v[AG_RF_ORDER_GIFT_CARD] = ag_rules_bool(false);
    v[AG_RF_ORDER_DIGITAL_GOODS] = ag_rules_bool(false);
    v[AG_RF_INTEL_MATCH] = ag_rules_bool(false);
    v[AG_RF_INTEL_LABELS] = ag_rules_list(no_labels, 0);
}

/* Evaluate and render the fired ids as "a,b,c"; return the strongest action. */
static enum ag_action run(const struct ag_rules_value *v, char *ids, size_t n)
{
    const struct ag_rules_rule *fired[64];
    int k = ag_rules_eval_values(dflt, v, AG_RF_COUNT, fired, 64);
    struct ag_decision d = {.action = AG_ACTION_ALLOW};
    ag_rules_decision_apply(fired, k, &d);
    ids[0] = '\0';
    for (int i = 0; i < k; i++) {
        strncat(ids, fired[i]->id, n - strlen(ids) - 2);
        if (i + 1 < k)
            strcat(ids, ",");
    }
    return d.action;
}

static void expect(const struct ag_rules_value *v, const char *want_ids, enum ag_action want)
{
    char ids[2048];
    enum ag_action got = run(v, ids, sizeof ids);
    if (strcmp(ids, want_ids) != 0 || got != want)
        fail_msg("fired [%s] -> %s, want [%s] -> %s", ids, ag_action_name(got), want_ids,
                 ag_action_name(want));
}

static void default_rules_compile(void **state)
{
    assert_true(ag_rules_count(dflt) >= 30);
    /* every rule has a description and ids are unique (the compiler checks) */
    for (int i = 0; i < ag_rules_count(dflt); i++)
        assert_true(strlen(ag_rules_rule_at(dflt, i)->description) > 10);
    /* frozen accounts are enforced in code, never by a rule */
    assert_null(ag_rules_find(dflt, "frozen"));
}

static void schema_is_documented(void **state)
{
    char *doc = test_read("docs/RULES.md", NULL);
    assert_non_null(doc);
    for (int i = 0; i < AG_RF_COUNT; i++) {
        const struct ag_rules_field *f = &ag_rules_default_fields[i];
        assert_int_equal(f->id, i);
        assert_non_null(f->help);
        char row[160];
        snprintf(row, sizeof row, "| `%s` | %s |", f->name, ag_rules_type_name(f->type));
        if (!strstr(doc, row))
            fail_msg("docs/RULES.md has no row starting '%s'", row);
    }
    free(doc);
}

/* The example at the top of docs/RULES.md compiles against the default schema. */
static void doc_example_compiles(void **state)
{
    char *doc = test_read("docs/RULES.md", NULL);
    assert_non_null(doc);
    char *start = strstr(doc, "```\n# Credential stuffing");
    assert_non_null(start);
    start += 4;
    char *end = strstr(start, "```");
    assert_non_null(end);
    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;
    if (ag_rules_compile(&ag_rules_default_schema, "RULES.md", start, (size_t)(end - start), &set,
                         &pos, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ag_rules_count(set), 3);
    ag_rules_release(set);
    free(doc);
}

static void benign_events_fire_nothing(void **state)
{
    static struct ag_rules_value v[AG_RF_COUNT];
    for (int i = 0; i < ag_event_types_count; i++) {
        benign(v, ag_event_types[i].name);
        char ids[2048];
        assert_int_equal(run(v, ids, sizeof ids), AG_ACTION_ALLOW);
        if (ids[0])
            fail_msg("%s fired %s", ag_event_types[i].name, ids);
    }
    /* and with nothing but the event type known, nothing fires either */
    for (int i = 0; i < ag_event_types_count; i++) {
        for (int k = 0; k < AG_RF_COUNT; k++)
            v[k] = (struct ag_rules_value){.type = AG_RULES_MISSING};
        v[AG_RF_EVENT_TYPE] = ag_rules_str(ag_event_types[i].name);
        expect(v, "", AG_ACTION_ALLOW);
    }
}

static void login_threats(void **state)
{
    static struct ag_rules_value v[AG_RF_COUNT];

    benign(v, "login.failed"); /* credential stuffing from a hosting network */
    v[AG_RF_IP_HOSTING] = ag_rules_bool(true);
    v[AG_RF_VEL_ACCOUNTS_PER_IP_1H] = ag_rules_num(25);
    v[AG_RF_VEL_FAILED_IP_1H] = ag_rules_num(30);
    expect(v, "stuffing_ip,stuffing_from_hosting", AG_ACTION_DENY);

    benign(v, "login.failed"); /* many accounts from one device */
    v[AG_RF_VEL_ACCOUNTS_PER_DEVICE_1H] = ag_rules_num(12);
    expect(v, "stuffing_device", AG_ACTION_DENY);

    benign(v, "login.failed"); /* brute force on one account */
    v[AG_RF_VEL_FAILED_ACCOUNT_10M] = ag_rules_num(10);
    expect(v, "brute_force_account", AG_ACTION_CHALLENGE);
    v[AG_RF_VEL_FAILED_ACCOUNT_1H] = ag_rules_num(40);
    v[AG_RF_VEL_IPS_PER_ACCOUNT_1H] = ag_rules_num(9);
    expect(v, "brute_force_account,brute_force_distributed", AG_ACTION_CHALLENGE);

    benign(v, "mfa.failed"); /* guessing one-time codes */
    v[AG_RF_VEL_FAILED_MFA_1H] = ag_rules_num(6);
    expect(v, "mfa_guessing", AG_ACTION_CHALLENGE);

    benign(v, "login.succeeded"); /* high model risk */
    v[AG_RF_RISK_SCORE] = ag_rules_num(0.93);
    expect(v, "model_risk_high", AG_ACTION_CHALLENGE);
    v[AG_RF_RISK_SCORE] = ag_rules_num(0.99);
    v[AG_RF_IP_ANONYMOUS_PROXY] = ag_rules_bool(true);
    v[AG_RF_DEVICE_TRUSTED] = ag_rules_bool(false);
    expect(v, "model_risk_critical,model_risk_high,login_anonymous_proxy", AG_ACTION_DENY);

    benign(v, "login.succeeded"); /* elevated risk from a new country */
    v[AG_RF_RISK_SCORE] = ag_rules_num(0.75);
    v[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(true);
    expect(v, "model_risk_elevated_new_country", AG_ACTION_CHALLENGE);

    benign(v, "login.succeeded"); /* anonymous proxy; a trusted device is not challenged */
    v[AG_RF_IP_ANONYMOUS_PROXY] = ag_rules_bool(true);
    expect(v, "", AG_ACTION_ALLOW);
    v[AG_RF_DEVICE_TRUSTED] = ag_rules_bool(false);
    expect(v, "login_anonymous_proxy", AG_ACTION_CHALLENGE);

    benign(v, "login.succeeded"); /* hosting network on a new device */
    v[AG_RF_IP_HOSTING] = ag_rules_bool(true);
    v[AG_RF_DEVICE_NEW] = ag_rules_bool(true);
    expect(v, "login_hosting_new_device", AG_ACTION_CHALLENGE);

    benign(v, "login.succeeded"); /* impossible travel */
    v[AG_RF_TRAVEL_DISTANCE_KM] = ag_rules_num(8000);
    v[AG_RF_TRAVEL_SPEED_KMH] = ag_rules_num(4000);
    /* between the account's own networks (a carrier's address placed far
     * away, a VPN the user often has on): not on its own */
    v[AG_RF_PROFILE_NEW_ASN] = ag_rules_bool(false);
    v[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(false);
    expect(v, "", AG_ACTION_ALLOW);
    v[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(true);
    expect(v, "impossible_travel", AG_ACTION_CHALLENGE);
    v[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(false);
    v[AG_RF_PROFILE_NEW_ASN] = ag_rules_bool(true);
    expect(v, "impossible_travel", AG_ACTION_CHALLENGE);
    v[AG_RF_DEVICE_NEW] = ag_rules_bool(true);
    expect(v, "impossible_travel,impossible_travel_new_device", AG_ACTION_CHALLENGE);
    v[AG_RF_TRAVEL_SPEED_KMH] = ag_rules_num(800); /* a flight */
    expect(v, "", AG_ACTION_ALLOW);

    benign(v, "login.succeeded"); /* automation and bad networks */
    v[AG_RF_UA_BOT] = ag_rules_bool(true);
    expect(v, "automation_login", AG_ACTION_CHALLENGE);
    benign(v, "order.placed");
    v[AG_RF_IP_DROP] = ag_rules_bool(true);
    expect(v, "drop_network", AG_ACTION_DENY);
}

/* Issue 5: each sensitive change inside the window after each kind of risky
 * login escalates; the same change outside the window, or with no risky
 * login on record, does not. */
static void account_change_sequences(void **state)
{
    static const struct {
        const char *type;
        const char *ids;
        enum ag_action action;
    } changes[] = {
        {"password.changed", "ato_password_change", AG_ACTION_REVIEW},
        {"email.changed", "ato_contact_change", AG_ACTION_DENY},
        {"phone.changed", "ato_contact_change", AG_ACTION_DENY},
        {"mfa.disabled", "ato_mfa_disabled", AG_ACTION_DENY},
        {"payment_method.added", "ato_payment_method", AG_ACTION_REVIEW},
        {"shipping_address.added", "ato_shipping_address", AG_ACTION_REVIEW},
        {"payout_account.changed", "ato_payout_account", AG_ACTION_DENY},
        {"subscription.activated", "ato_subscription", AG_ACTION_REVIEW},
        {"wallet.transfer", "ato_money_out", AG_ACTION_DENY},
        {"payout.requested", "ato_money_out", AG_ACTION_DENY},
    };
    static const int after[] = {AG_RF_ACCOUNT_MIN_SINCE_RISKY_LOGIN,
                                AG_RF_ACCOUNT_MIN_SINCE_CHALLENGED_LOGIN,
                                AG_RF_ACCOUNT_MIN_SINCE_NEW_DEVICE_LOGIN};
    static struct ag_rules_value v[AG_RF_COUNT];
    for (size_t c = 0; c < sizeof changes / sizeof changes[0]; c++) {
        for (size_t a = 0; a < sizeof after / sizeof after[0]; a++) {
            benign(v, changes[c].type);
            v[after[a]] = ag_rules_num(25); /* 25 minutes after the risky login */
            expect(v, changes[c].ids, changes[c].action);
            v[after[a]] = ag_rules_num(180); /* three hours later */
            expect(v, "", AG_ACTION_ALLOW);
        }
        benign(v, changes[c].type); /* no risky login on record */
        expect(v, "", AG_ACTION_ALLOW);
    }

    /* the second factor softens contact changes; payout changes need a trusted device too */
    benign(v, "email.changed");
    v[AG_RF_ACCOUNT_MIN_SINCE_NEW_DEVICE_LOGIN] = ag_rules_num(5);
    v[AG_RF_SESSION_MFA_VERIFIED] = ag_rules_bool(true);
    expect(v, "ato_contact_change_verified", AG_ACTION_REVIEW);
    v[AG_RF_SESSION_MFA_VERIFIED] = (struct ag_rules_value){.type = AG_RULES_MISSING};
    expect(v, "ato_contact_change", AG_ACTION_DENY); /* unknown counts as not verified */
    benign(v, "payout_account.changed");
    v[AG_RF_ACCOUNT_MIN_SINCE_RISKY_LOGIN] = ag_rules_num(5);
    v[AG_RF_SESSION_MFA_VERIFIED] = ag_rules_bool(true);
    expect(v, "", AG_ACTION_ALLOW); /* verified on a trusted device */
    v[AG_RF_DEVICE_TRUSTED] = ag_rules_bool(false);
    expect(v, "ato_payout_account", AG_ACTION_DENY);

    /* payout change within a day of a recovery */
    benign(v, "payout_account.changed");
    v[AG_RF_ACCOUNT_MIN_SINCE_RECOVERY] = ag_rules_num(600);
    expect(v, "ato_payout_after_recovery", AG_ACTION_REVIEW);

    /* a chain of credential changes */
    benign(v, "phone.changed");
    v[AG_RF_ACCOUNT_MIN_SINCE_RISKY_LOGIN] = ag_rules_num(20);
    v[AG_RF_ACCOUNT_MIN_SINCE_CREDENTIAL_CHANGE] = ag_rules_num(3);
    expect(v, "ato_contact_change,ato_credential_chain", AG_ACTION_DENY);

    /* seller bursts after a risky login */
    const char *seller[] = {"listing.created", "listing.price_changed"};
    for (int i = 0; i < 2; i++) {
        benign(v, seller[i]);
        v[AG_RF_ACCOUNT_ROLE] = ag_rules_str("seller");
        v[AG_RF_VEL_PRICE_CHANGES_1H] = ag_rules_num(i ? 14 : 0);
        v[AG_RF_VEL_LISTINGS_1H] = ag_rules_num(i ? 0 : 12);
        expect(v, "", AG_ACTION_ALLOW); /* a busy seller on a normal day */
        v[AG_RF_ACCOUNT_MIN_SINCE_CHALLENGED_LOGIN] = ag_rules_num(40);
        expect(v, "ato_seller_burst", AG_ACTION_REVIEW);
    }
}

static void order_screening(void **state)
{
    static struct ag_rules_value v[AG_RF_COUNT];

    benign(v, "order.placed"); /* far above the account's own history */
    v[AG_RF_EVENT_AMOUNT] = ag_rules_num(90000);
    expect(v, "order_amount_spike", AG_ACTION_REVIEW);
    v[AG_RF_EVENT_AMOUNT] = ag_rules_num(30000); /* above avg x5 but not max x3 */
    expect(v, "", AG_ACTION_ALLOW);

    benign(v, "order.placed"); /* large first order on a brand-new account */
    v[AG_RF_ACCOUNT_ORDERS] = ag_rules_num(0);
    v[AG_RF_ACCOUNT_ORDER_AMOUNT_AVG] = (struct ag_rules_value){.type = AG_RULES_MISSING};
    v[AG_RF_ACCOUNT_ORDER_AMOUNT_MAX] = (struct ag_rules_value){.type = AG_RULES_MISSING};
    v[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num(0.2);
    v[AG_RF_EVENT_AMOUNT] = ag_rules_num(60000);
    expect(v, "order_first_big_young_account", AG_ACTION_REVIEW);

    benign(v, "order.placed"); /* new address soon after a risky login */
    v[AG_RF_ORDER_NEW_SHIPPING_ADDRESS] = ag_rules_bool(true);
    expect(v, "", AG_ACTION_ALLOW);
    v[AG_RF_ACCOUNT_MIN_SINCE_RISKY_LOGIN] = ag_rules_num(10);
    expect(v, "order_new_address_after_risky_login", AG_ACTION_CHALLENGE);

    benign(v, "order.placed"); /* gift cards */
    v[AG_RF_ORDER_GIFT_CARD] = ag_rules_bool(true);
    expect(v, "", AG_ACTION_ALLOW);
    v[AG_RF_IP_HOSTING] = ag_rules_bool(true);
    expect(v, "money_from_anonymous_network,order_gift_cards_risky", AG_ACTION_REVIEW);
    benign(v, "order.placed");
    v[AG_RF_ORDER_DIGITAL_GOODS] = ag_rules_bool(true);
    v[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num(0.5);
    expect(v, "order_gift_cards_new_account", AG_ACTION_REVIEW);

    benign(v, "order.placed"); /* order velocity */
    v[AG_RF_VEL_ORDERS_1H] = ag_rules_num(6);
    expect(v, "order_velocity", AG_ACTION_REVIEW);

    benign(v, "order.placed"); /* first order after a recovery */
    v[AG_RF_ACCOUNT_MIN_SINCE_RECOVERY] = ag_rules_num(3 * 24 * 60);
    v[AG_RF_ACCOUNT_ORDERS_SINCE_RECOVERY] = ag_rules_num(0);
    expect(v, "order_first_after_recovery", AG_ACTION_REVIEW);
    v[AG_RF_ACCOUNT_ORDERS_SINCE_RECOVERY] = ag_rules_num(1);
    expect(v, "", AG_ACTION_ALLOW);
    v[AG_RF_ACCOUNT_MIN_SINCE_RECOVERY] = ag_rules_num(8 * 24 * 60);
    v[AG_RF_ACCOUNT_ORDERS_SINCE_RECOVERY] = ag_rules_num(0);
    expect(v, "", AG_ACTION_ALLOW);
}

static void threat_intel(void **state)
{
    static struct ag_rules_value v[AG_RF_COUNT];
    benign(v, "login.succeeded");
    v[AG_RF_INTEL_MATCH] = ag_rules_bool(true);
    v[AG_RF_INTEL_CONFIDENCE] = ag_rules_num(50);
    expect(v, "intel_match_login", AG_ACTION_CHALLENGE);
    v[AG_RF_INTEL_CONFIDENCE] = ag_rules_num(85);
    expect(v, "intel_high_confidence,intel_match_login", AG_ACTION_DENY);
    v[AG_RF_INTEL_CONFIDENCE] = ag_rules_num(50);
    v[AG_RF_INTEL_LABELS] = ag_rules_list(botnet, 2);
    expect(v, "intel_botnet,intel_match_login", AG_ACTION_DENY);
    benign(v, "payment_method.added");
    v[AG_RF_INTEL_MATCH] = ag_rules_bool(true);
    expect(v, "intel_match_money", AG_ACTION_REVIEW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_rules_compile),   cmocka_unit_test(schema_is_documented),
        cmocka_unit_test(doc_example_compiles),
        cmocka_unit_test(benign_events_fire_nothing), cmocka_unit_test(login_threats),
        cmocka_unit_test(account_change_sequences), cmocka_unit_test(order_screening),
        cmocka_unit_test(threat_intel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
