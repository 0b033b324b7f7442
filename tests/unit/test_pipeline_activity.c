/* Unit tests for the account activity (src/pipeline/activity.c) as several
 * nodes share it: the blob carries the recent failed logins only when asked
 * to (one node keeps them in memory), a full activity fits the blob, and an
 * event learned on top of the blob another node stored counts with what
 * that node learned (pipeline/cluster.c merges this way under the account's
 * row lock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/event_types.h"
#include "pipeline/activity.h"
#include "rules/fields.h"

#include <stdio.h>
#include <string.h>

#define T0 1767225600000LL

static struct ag_event ev;
static const struct ag_decision allow = {.action = AG_ACTION_ALLOW};
static const struct ag_activity_input in = {.review_threshold = 0.5};

static void mkev(const char *type, const char *ip, int64_t t)
{
    memset(&ev, 0, sizeof ev);
    ev.type = ag_event_type_find(type);
    assert_non_null(ev.type);
    snprintf(ev.account_id, sizeof ev.account_id, "u_act");
    snprintf(ev.role, sizeof ev.role, "customer");
    snprintf(ev.ip, sizeof ev.ip, "%s", ip);
    ev.occurred_at_ms = t;
}

/* The rules' failed logins in 10 minutes and failing addresses in the hour
 * that <a> gives a failed login from <ip> at <t> (itself included). */
static void failing(const struct ag_activity *a, const char *ip, int64_t t, double *f10,
                    double *ips)
{
    struct ag_rules_value facts[AG_RF_COUNT];
    memset(facts, 0, sizeof facts);
    mkev("login.failed", ip, t);
    ag_activity_facts(a, &ev, &in, facts);
    *f10 = facts[AG_RF_VEL_FAILED_ACCOUNT_10M].num;
    *ips = facts[AG_RF_VEL_IPS_PER_ACCOUNT_1H].num;
}

static void fail_at(struct ag_activity *a, const char *ip, int64_t t)
{
    mkev("login.failed", ip, t);
    assert_int_equal(ag_activity_update(a, &ev, &allow, &in), 0);
}

static void failed_logins_in_the_blob_only_when_shared(void **state)
{
    struct ag_activity a = {0}, b = {0};
    fail_at(&a, "198.51.100.1", T0);
    fail_at(&a, "198.51.100.2", T0 + 1000);
    fail_at(&a, "198.51.100.3", T0 + 2000);
    double f10, ips;
    failing(&a, "198.51.100.4", T0 + 3000, &f10, &ips);
    assert_true(f10 == 4 && ips == 4);
    uint8_t blob[AG_ACTIVITY_BLOB_MAX];
    /* one node: as before, memory only */
    size_t n = ag_activity_blob(&a, false, blob, sizeof blob);
    assert_true(n > 0);
    assert_int_equal(ag_activity_load(&b, blob, n), 0);
    assert_null(b.fails);
    failing(&b, "198.51.100.4", T0 + 3000, &f10, &ips);
    assert_true(f10 == 1 && ips == 1);
    /* several nodes: shared */
    size_t m = ag_activity_blob(&a, true, blob, sizeof blob);
    assert_true(m > n);
    assert_int_equal(ag_activity_load(&b, blob, m), 0);
    failing(&b, "198.51.100.4", T0 + 3000, &f10, &ips);
    assert_true(f10 == 4 && ips == 4);
    /* a truncated blob is refused */
    assert_int_equal(ag_activity_load(&b, blob, m - 1), AG_EINVAL);
    ag_activity_free(&a);
    ag_activity_free(&b);
}

static void full_activity_fits(void **state)
{
    struct ag_activity a = {0}, b = {0};
    json_t *props = json_pack("{s:s}", "shipping_address", "1 Main St");
    for (int i = 0; i < 40; i++) {
        mkev(i % 2 ? "order.placed" : "login.failed", "198.51.100.9", T0 + i * 1000);
        ev.properties = props;
        ev.has_amount = true;
        ev.amount_minor = 1000 + i;
        memcpy(ev.currency, "EUR", 4);
        assert_int_equal(ag_activity_update(&a, &ev, &allow, &in), 0);
    }
    json_decref(props);
    a.payout_hold_until_ms = T0 + 86400000;
    assert_non_null(a.commerce);
    assert_non_null(a.fails);
    uint8_t blob[AG_ACTIVITY_BLOB_MAX];
    size_t n = ag_activity_blob(&a, true, blob, sizeof blob);
    assert_true(n > 0 && n <= AG_ACTIVITY_BLOB_MAX);
    assert_int_equal(ag_activity_load(&b, blob, n), 0);
    assert_true(b.payout_hold_until_ms == a.payout_hold_until_ms);
    assert_int_equal(b.commerce->orders, 20);
    assert_memory_equal(b.fails, a.fails, sizeof *a.fails);
    ag_activity_free(&a);
    ag_activity_free(&b);
}

/* Node A stores two failures; node B, which saw none, learns a third on top
 * of A's blob (as its writer does); node A then reloads B's blob and sees
 * all three, and the hold B started. */
static void learned_on_top_of_the_other_node(void **state)
{
    struct ag_activity node_a = {0}, merged = {0}, reloaded = {0};
    uint8_t stored[AG_ACTIVITY_BLOB_MAX], next[AG_ACTIVITY_BLOB_MAX];
    fail_at(&node_a, "198.51.100.1", T0);
    fail_at(&node_a, "198.51.100.2", T0 + 1000);
    size_t n = ag_activity_blob(&node_a, true, stored, sizeof stored);
    assert_int_equal(ag_activity_load(&merged, stored, n), 0);
    fail_at(&merged, "198.51.100.3", T0 + 2000);
    merged.payout_hold_until_ms = T0 + 3600000;
    size_t m = ag_activity_blob(&merged, true, next, sizeof next);
    assert_int_equal(ag_activity_load(&reloaded, next, m), 0);
    double f10, ips;
    failing(&reloaded, "198.51.100.4", T0 + 3000, &f10, &ips);
    assert_true(f10 == 4 && ips == 4);
    assert_true(reloaded.payout_hold_until_ms == T0 + 3600000);
    /* ten minutes later the failures have left the 10-minute window */
    failing(&reloaded, "198.51.100.4", T0 + 700000, &f10, &ips);
    assert_true(f10 == 1 && ips == 4);
    ag_activity_free(&node_a);
    ag_activity_free(&merged);
    ag_activity_free(&reloaded);
}

/* A challenged login is held until its second factor passes: an
 * mfa.succeeded within the hour releases it (the pipeline then learns its
 * context), a later one or another kind of event does not; the hold
 * survives the blob (a restart, another node). */
static void held_login_until_its_second_factor(void **state)
{
    static const struct ag_decision challenge = {.action = AG_ACTION_CHALLENGE};
    struct ag_activity a = {0}, b = {0};
    mkev("login.succeeded", "203.0.113.9", T0);
    assert_int_equal(ag_activity_update(&a, &ev, &challenge, &in), 0);
    assert_true(a.login_held);
    uint8_t blob[AG_ACTIVITY_BLOB_MAX];
    size_t n = ag_activity_blob(&a, false, blob, sizeof blob);
    assert_int_equal(ag_activity_load(&b, blob, n), 0);
    assert_true(b.login_held);
    mkev("password.changed", "203.0.113.9", T0 + 1000);
    assert_false(ag_activity_passes_held_login(&b, &ev));
    mkev("mfa.succeeded", "203.0.113.9", T0 + AG_ACTIVITY_PASS_WINDOW_MS + 1);
    assert_false(ag_activity_passes_held_login(&b, &ev)); /* too late */
    mkev("mfa.succeeded", "203.0.113.9", T0 - 1);
    assert_false(ag_activity_passes_held_login(&b, &ev)); /* before the login */
    mkev("mfa.succeeded", "203.0.113.9", T0 + 30000);
    assert_true(ag_activity_passes_held_login(&b, &ev));
    assert_int_equal(ag_activity_update(&b, &ev, &allow, &in), 0);
    assert_false(b.login_held); /* passed once */
    assert_false(ag_activity_passes_held_login(&b, &ev));
    /* a login that is allowed holds nothing */
    mkev("login.succeeded", "203.0.113.9", T0 + 60000);
    assert_int_equal(ag_activity_update(&a, &ev, &allow, &in), 0);
    assert_false(a.login_held);
    ag_activity_free(&a);
    ag_activity_free(&b);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_logins_in_the_blob_only_when_shared),
        cmocka_unit_test(full_activity_fits),
        cmocka_unit_test(learned_on_top_of_the_other_node),
        cmocka_unit_test(held_login_until_its_second_factor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
