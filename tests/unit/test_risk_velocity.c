/* Unit tests for src/risk/velocity.c: window edges (an event exactly one
 * window old has expired), expiry, bounded tables, distinct counting, and
 * impossible travel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "risk/geo.h"
#include "risk/velocity.h"

#include <math.h>

static struct ag_velocity *open_v(int64_t window, int buckets, size_t cap)
{
    struct ag_velocity_options o = {.window_ms = window, .buckets = buckets, .capacity = cap};
    struct ag_velocity *v;
    assert_int_equal(ag_velocity_open(&o, &v, NULL), 0);
    return v;
}

static void window_edges(void **state)
{
    /* one minute in six buckets of ten seconds */
    struct ag_velocity *v = open_v(60000, 6, 1024);
    ag_velocity_add(v, AG_VEL_FAIL_ACCOUNT, 42, 100000);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 42, 100000), 1);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 42, 159999), 1);
    /* exactly one window later: expired */
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 42, 160000), 0);
    /* bucket granularity: an event late in its bucket expires with the bucket */
    ag_velocity_add(v, AG_VEL_FAIL_ACCOUNT, 43, 109999);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 43, 159999), 1);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 43, 160000), 0);
    /* other keys and kinds are separate */
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 42, 100000), 0);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 44, 100000), 0);
    ag_velocity_close(v);
}

static void sliding_expiry(void **state)
{
    struct ag_velocity *v = open_v(60000, 6, 1024);
    for (int i = 0; i < 12; i++) /* one event every 10 s for two minutes */
        ag_velocity_add(v, AG_VEL_FAIL_IP, 7, 1000000 + i * 10000);
    /* at the last event's time the window holds the last six */
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 7, 1000000 + 110000), 6);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 7, 1000000 + 140000), 3);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 7, 1000000 + 170000), 0);
    /* an old event (outside the window) is ignored; a late one inside counts */
    ag_velocity_add(v, AG_VEL_FAIL_IP, 7, 1000000);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 7, 1000000 + 110000), 6);
    ag_velocity_add(v, AG_VEL_FAIL_IP, 7, 1000000 + 95000);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 7, 1000000 + 110000), 7);
    /* a long gap clears the ring */
    ag_velocity_add(v, AG_VEL_FAIL_IP, 7, 5000000);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_IP, 7, 5000000), 1);
    ag_velocity_close(v);
}

static void bounded_table(void **state)
{
    /* capacity 8: one set of eight ways; a ninth key replaces the key
     * updated longest ago */
    struct ag_velocity *v = open_v(3600000, 12, 8);
    for (uint64_t k = 1; k <= 8; k++)
        ag_velocity_add(v, AG_VEL_FAIL_ASN, k, (int64_t)k * 300000); /* a bucket apart */
    int64_t now = 9 * 300000;
    ag_velocity_add(v, AG_VEL_FAIL_ASN, 9, now);
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ASN, 1, now), 0);
    for (uint64_t k = 2; k <= 9; k++)
        assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ASN, k, now), 1);
    size_t bytes = ag_velocity_bytes(v);
    for (uint64_t k = 10; k < 10000; k++)
        ag_velocity_add(v, AG_VEL_FAIL_ASN, k, now);
    assert_int_equal(ag_velocity_bytes(v), bytes);
    ag_velocity_close(v);
}

static void distinct_accounts(void **state)
{
    struct ag_velocity *v = open_v(3600000, 12, 1024);
    for (uint64_t a = 1; a <= 5; a++) {
        ag_velocity_add_distinct(v, AG_VEL_ACCOUNTS_PER_IP, 99, a * 7919, 1000);
        ag_velocity_add_distinct(v, AG_VEL_ACCOUNTS_PER_IP, 99, a * 7919, 2000); /* again */
    }
    uint32_t d = ag_velocity_distinct(v, AG_VEL_ACCOUNTS_PER_IP, 99, 3000);
    assert_true(d >= 4 && d <= 6);
    assert_int_equal(ag_velocity_distinct(v, AG_VEL_ACCOUNTS_PER_IP, 98, 3000), 0);
    ag_velocity_add_distinct(v, AG_VEL_ACCOUNTS_PER_DEVICE, 5, 1, 1000);
    assert_int_equal(ag_velocity_distinct(v, AG_VEL_ACCOUNTS_PER_DEVICE, 5, 1000), 1);
    assert_int_equal(ag_velocity_distinct(v, AG_VEL_ACCOUNTS_PER_DEVICE, 5, 1000 + 3600000), 0);
    for (uint64_t a = 0; a < 200; a++)
        ag_velocity_add_distinct(v, AG_VEL_ACCOUNTS_PER_IP, 77, a * 104729 + 1, 5000);
    d = ag_velocity_distinct(v, AG_VEL_ACCOUNTS_PER_IP, 77, 5000);
    assert_true(d >= 100); /* linear counting: large, saturating */
    ag_velocity_close(v);
}

static void batched(void **state)
{
    struct ag_velocity *v = open_v(3600000, 12, 4096);
    struct ag_velocity_keys k = {.account = 11, .ip = 22, .prefix = 33, .asn = 44, .device = 55};
    ag_velocity_prefetch(v, &k);
    for (int i = 0; i < 3; i++)
        ag_velocity_record(v, &k, AG_VEL_REC_ATTEMPT | AG_VEL_REC_FAIL, 1000 + i);
    ag_velocity_record(v, &k, AG_VEL_REC_ATTEMPT, 2000);
    ag_velocity_record(v, &k, AG_VEL_REC_MFA_FAIL, 2000);
    struct ag_velocity_keys k2 = k;
    k2.account = 12;
    ag_velocity_record(v, &k2, AG_VEL_REC_ATTEMPT, 2500);
    struct ag_velocity_counts c;
    ag_velocity_snapshot(v, &k, 3000, &c);
    assert_int_equal(c.fail_account, 3);
    assert_int_equal(c.mfa_fail_account, 1);
    assert_int_equal(c.fail_ip, 3);
    assert_int_equal(c.attempts_ip, 5);
    assert_int_equal(c.accounts_per_ip, 2);
    assert_int_equal(c.fail_prefix, 3);
    assert_int_equal(c.fail_asn, 3);
    assert_int_equal(c.accounts_per_device, 2);
    /* the per-kind calls read the same counters */
    assert_int_equal(ag_velocity_count(v, AG_VEL_FAIL_ACCOUNT, 11, 3000), 3);
    assert_int_equal(ag_velocity_count(v, AG_VEL_MFA_FAIL_ACCOUNT, 11, 3000), 1);
    assert_int_equal(ag_velocity_count(v, AG_VEL_LOGIN_IP, 22, 3000), 5);
    assert_int_equal(ag_velocity_distinct(v, AG_VEL_ACCOUNTS_PER_DEVICE, 55, 3000), 2);
    /* a zero key is skipped */
    struct ag_velocity_keys none = {0};
    ag_velocity_record(v, &none, AG_VEL_REC_ATTEMPT | AG_VEL_REC_FAIL, 3000);
    ag_velocity_snapshot(v, &none, 3000, &c);
    assert_int_equal(c.fail_account + c.fail_ip + c.accounts_per_ip, 0);
    /* and all of it expires together */
    ag_velocity_snapshot(v, &k, 1000 + 3600000, &c);
    assert_int_equal(c.fail_account + c.attempts_ip + c.accounts_per_ip + c.fail_asn, 0);
    ag_velocity_close(v);
}

static void impossible_travel(void **state)
{
    double km, kmh;
    /* Oslo -> Brasilia in one hour */
    assert_int_equal(ag_velocity_travel("NO", 0, "BR", 3600000, &km, &kmh), 0);
    assert_true(km > 9000 && km < 11000);
    assert_true(fabs(kmh - km) < 1e-6);
    /* Oslo -> Stockholm in ten hours: a train ride */
    assert_int_equal(ag_velocity_travel("no", 0, "SE", 36000000, &km, &kmh), 0);
    assert_true(km > 350 && km < 450 && kmh < 50);
    /* no time at all counts as one minute */
    assert_int_equal(ag_velocity_travel("NO", 5, "SE", 5, &km, &kmh), 0);
    assert_true(fabs(kmh - km * 60) < 1e-6);
    assert_int_equal(ag_velocity_travel("NO", 0, "ZZ", 1, &km, &kmh), AG_ENOTFOUND);
    assert_true(km == 0 && kmh == 0);
    assert_non_null(ag_geo_country_find("us"));
    assert_null(ag_geo_country_find("USA"));
    assert_true(ag_geo_countries_count > 240);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_edges),     cmocka_unit_test(sliding_expiry),
        cmocka_unit_test(bounded_table),    cmocka_unit_test(distinct_accounts),
        cmocka_unit_test(batched),          cmocka_unit_test(impossible_travel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
