/* Unit tests for src/identity/throttle.c: backoff schedules, decay, the
 * trusted-device exemption, the NIST hard cap, combining scopes, IP keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "identity/throttle.h"

#include <string.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

static const struct ag_identity_throttle_policy *pol(enum ag_identity_throttle_scope s)
{
    return &ag_identity_throttle_policies[s];
}

static void schedules(void **state)
{
    /* Passcode: 3 free, then 30 s doubling, capped at one hour. */
    const struct ag_identity_throttle_policy *p = pol(AG_IDENTITY_SCOPE_PASSCODE);
    static const int64_t want[] = {0, 0, 0, 0, 30 * SEC, 60 * SEC, 120 * SEC, 240 * SEC,
                                   480 * SEC, 960 * SEC, 1920 * SEC, HOUR, HOUR};
    for (uint32_t f = 0; f < AG_ARRAY_LEN(want); f++)
        assert_int_equal(ag_identity_throttle_delay_ms(p, f), want[f]);
    /* Authenticator: 5 free, 1 s doubling, capped at 15 minutes, and no
     * overflow however many failures. */
    p = pol(AG_IDENTITY_SCOPE_AUTHENTICATOR);
    assert_int_equal(ag_identity_throttle_delay_ms(p, 5), 0);
    assert_int_equal(ag_identity_throttle_delay_ms(p, 6), 1 * SEC);
    assert_int_equal(ag_identity_throttle_delay_ms(p, 7), 2 * SEC);
    assert_int_equal(ag_identity_throttle_delay_ms(p, 15), 512 * SEC);
    assert_int_equal(ag_identity_throttle_delay_ms(p, 16), 15 * MIN);
    assert_int_equal(ag_identity_throttle_delay_ms(p, UINT32_MAX), 15 * MIN);
    /* Every policy: non-decreasing delays, locks within the NIST cap. */
    for (int s = 0; s < AG_IDENTITY_SCOPE_COUNT; s++) {
        p = pol((enum ag_identity_throttle_scope)s);
        assert_non_null(p->name);
        assert_true(p->lock_after <= AG_IDENTITY_THROTTLE_HARD_CAP);
        int64_t prev = 0;
        for (uint32_t f = 0; f < 200; f++) {
            int64_t d = ag_identity_throttle_delay_ms(p, f);
            assert_true(d >= prev && d <= p->max_delay_ms);
            prev = d;
        }
    }
    /* The authenticator scope locks at exactly the cap. */
    assert_int_equal(pol(AG_IDENTITY_SCOPE_AUTHENTICATOR)->lock_after,
                     AG_IDENTITY_THROTTLE_HARD_CAP);
}

static void check_and_fail(void **state)
{
    const struct ag_identity_throttle_policy *p = pol(AG_IDENTITY_SCOPE_AUTHENTICATOR);
    struct ag_identity_throttle s = {0};
    int64_t now = 1700000000000LL, wait;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ag_identity_throttle_check(p, &s, false, now, &wait),
                         AG_IDENTITY_THROTTLE_ALLOW);
        ag_identity_throttle_fail(p, &s, now);
    }
    assert_int_equal(ag_identity_throttle_check(p, &s, false, now, &wait),
                     AG_IDENTITY_THROTTLE_ALLOW);
    ag_identity_throttle_fail(p, &s, now); /* 6th: 1 s */
    assert_int_equal(ag_identity_throttle_check(p, &s, false, now + 999, &wait),
                     AG_IDENTITY_THROTTLE_DELAY);
    assert_int_equal(wait, 1);
    assert_int_equal(ag_identity_throttle_check(p, &s, false, now + 1000, &wait),
                     AG_IDENTITY_THROTTLE_ALLOW);
    assert_int_equal(wait, 0);
    /* Success clears the consecutive count here. */
    uint32_t v = s.version;
    ag_identity_throttle_succeed(p, &s);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.version, v + 1);
    ag_identity_throttle_succeed(p, &s); /* nothing to change */
    assert_int_equal(s.version, v + 1);
}

static void decay_and_no_reset(void **state)
{
    /* IP scope: a success does not clear it (an attacker could log into an
     * account of their own to reset it), but failures fade after an hour. */
    const struct ag_identity_throttle_policy *p = pol(AG_IDENTITY_SCOPE_IP);
    struct ag_identity_throttle s = {0};
    int64_t now = 1700000000000LL, wait;
    for (int i = 0; i < 25; i++)
        ag_identity_throttle_fail(p, &s, now);
    assert_int_equal(s.failures, 25);
    ag_identity_throttle_succeed(p, &s);
    assert_int_equal(s.failures, 25);
    assert_int_equal(ag_identity_throttle_check(p, &s, false, now + 1, &wait),
                     AG_IDENTITY_THROTTLE_DELAY);
    assert_int_equal(wait, 16 * SEC - 1); /* 25 failures, 20 free: 1 s * 2^4 */
    /* After the delay, allowed again; one more failure counts on top. */
    assert_int_equal(ag_identity_throttle_check(p, &s, false, now + 16 * SEC, &wait),
                     AG_IDENTITY_THROTTLE_ALLOW);
    ag_identity_throttle_fail(p, &s, now + 16 * SEC);
    assert_int_equal(s.failures, 26);
    /* An hour after the last failure the count starts over. */
    int64_t later = now + 16 * SEC + HOUR;
    assert_int_equal(ag_identity_throttle_check(p, &s, false, later, &wait),
                     AG_IDENTITY_THROTTLE_ALLOW);
    ag_identity_throttle_fail(p, &s, later);
    assert_int_equal(s.failures, 1);
    /* The authenticator count does not decay: consecutive failures only. */
    const struct ag_identity_throttle_policy *a = pol(AG_IDENTITY_SCOPE_AUTHENTICATOR);
    struct ag_identity_throttle t = {0};
    ag_identity_throttle_fail(a, &t, now);
    ag_identity_throttle_fail(a, &t, now + 400LL * 24 * HOUR);
    assert_int_equal(t.failures, 2);
}

/* An attacker hammers the account from untrusted devices and many IPs: the
 * owner on a trusted device is never delayed and, at the NIST cap, is asked
 * for 2-step verification rather than locked out. */
static void owner_not_locked_out(void **state)
{
    const struct ag_identity_throttle_policy *a = pol(AG_IDENTITY_SCOPE_AUTHENTICATOR);
    struct ag_identity_throttle acct = {0};
    int64_t now = 1700000000000LL, wait;
    uint32_t attempts = 0;
    while (!acct.locked) {
        /* The attacker is delayed on the account counter... */
        enum ag_identity_throttle_verdict v = ag_identity_throttle_check(a, &acct, false, now, &wait);
        if (v == AG_IDENTITY_THROTTLE_DELAY) {
            assert_true(wait > 0 && wait <= a->max_delay_ms);
            /* ...while the owner's trusted device is not. */
            assert_int_equal(ag_identity_throttle_check(a, &acct, true, now, NULL),
                             AG_IDENTITY_THROTTLE_ALLOW);
            now += wait;
            continue;
        }
        assert_int_equal(v, AG_IDENTITY_THROTTLE_ALLOW);
        ag_identity_throttle_fail(a, &acct, now);
        attempts++;
        assert_true(attempts <= AG_IDENTITY_THROTTLE_HARD_CAP);
    }
    /* Exactly 100 consecutive failures were possible (NIST SP 800-63B). */
    assert_int_equal(attempts, AG_IDENTITY_THROTTLE_HARD_CAP);
    /* Now everybody, trusted or not, gets a step-up, never a plain refusal,
     * and waiting does not unlock it. */
    assert_int_equal(ag_identity_throttle_check(a, &acct, true, now, &wait),
                     AG_IDENTITY_THROTTLE_STEP_UP);
    assert_int_equal(ag_identity_throttle_check(a, &acct, false, now + 365LL * 24 * HOUR, &wait),
                     AG_IDENTITY_THROTTLE_STEP_UP);
    /* A success does not lift the lock (the lock demands 2-step)... */
    ag_identity_throttle_succeed(a, &acct);
    assert_true(acct.locked);
    /* ...the owner's 2-step does. */
    ag_identity_throttle_clear(&acct);
    assert_int_equal(ag_identity_throttle_check(a, &acct, false, now, &wait),
                     AG_IDENTITY_THROTTLE_ALLOW);
}

static void decide_combines_scopes(void **state)
{
    struct ag_identity_throttle acct = {0}, dev = {0}, ip = {0}, prefix = {0};
    struct ag_identity_throttle_slot slots[] = {
        {pol(AG_IDENTITY_SCOPE_AUTHENTICATOR), &acct},
        {pol(AG_IDENTITY_SCOPE_DEVICE), &dev},
        {pol(AG_IDENTITY_SCOPE_IP), &ip},
        {pol(AG_IDENTITY_SCOPE_PREFIX), &prefix},
        {pol(AG_IDENTITY_SCOPE_PASSCODE), NULL}, /* not part of a login */
    };
    const size_t n = AG_ARRAY_LEN(slots);
    int64_t now = 1700000000000LL, wait;
    size_t who;
    assert_int_equal(ag_identity_throttle_decide(slots, n, false, now, &wait, &who),
                     AG_IDENTITY_THROTTLE_ALLOW);
    assert_int_equal(who, n);

    /* 21 failures from one IP (shared by the owner's household, say): the IP
     * is delayed for unknown devices, not for the owner's trusted one. */
    for (int i = 0; i < 21; i++)
        ag_identity_throttle_fail(pol(AG_IDENTITY_SCOPE_IP), &ip, now);
    assert_int_equal(ag_identity_throttle_decide(slots, n, false, now, &wait, &who),
                     AG_IDENTITY_THROTTLE_DELAY);
    assert_int_equal(who, 2);
    assert_int_equal(wait, 1 * SEC);
    assert_int_equal(ag_identity_throttle_decide(slots, n, true, now, &wait, &who),
                     AG_IDENTITY_THROTTLE_ALLOW);

    /* A device's own failures slow that device even when trusted (a stolen
     * trusted phone does not get free guesses); the longest wait wins. */
    for (int i = 0; i < 8; i++)
        ag_identity_throttle_fail(pol(AG_IDENTITY_SCOPE_DEVICE), &dev, now);
    assert_int_equal(ag_identity_throttle_decide(slots, n, true, now, &wait, &who),
                     AG_IDENTITY_THROTTLE_DELAY);
    assert_int_equal(who, 1);
    assert_int_equal(wait, 4 * SEC);
    assert_int_equal(ag_identity_throttle_decide(slots, n, false, now, &wait, &who),
                     AG_IDENTITY_THROTTLE_DELAY);
    assert_int_equal(wait, 4 * SEC);

    /* A locked scope outranks every delay. */
    acct.locked = true;
    assert_int_equal(ag_identity_throttle_decide(slots, n, true, now, &wait, &who),
                     AG_IDENTITY_THROTTLE_STEP_UP);
    assert_int_equal(who, 0);
    assert_int_equal(wait, 0);

    /* record(): a failure counts in every scope; a success resets only the
     * per-account ones. */
    acct = (struct ag_identity_throttle){0};
    ag_identity_throttle_record(slots, n, false, now);
    assert_int_equal(acct.failures, 1);
    assert_int_equal(dev.failures, 9);
    assert_int_equal(ip.failures, 22);
    assert_int_equal(prefix.failures, 1);
    ag_identity_throttle_record(slots, n, true, now);
    assert_int_equal(acct.failures, 0);
    assert_int_equal(dev.failures, 9);
    assert_int_equal(ip.failures, 22);
}

static void ip_keys(void **state)
{
    static const struct {
        const char *ip, *key, *prefix;
    } v[] = {
        {"203.0.113.7", "203.0.113.7", "203.0.113.0/24"},
        {"::ffff:198.51.100.9", "198.51.100.9", "198.51.100.0/24"},
        {"2001:db8:1234:5678:9abc::1", "2001:db8:1234:5678::/64", "2001:db8:1234::/48"},
        {"2001:DB8:1234:5678:0:0:0:2", "2001:db8:1234:5678::/64", "2001:db8:1234::/48"},
    };
    char k[AG_IDENTITY_THROTTLE_KEY_MAX], p[AG_IDENTITY_THROTTLE_KEY_MAX];
    for (size_t i = 0; i < AG_ARRAY_LEN(v); i++) {
        assert_int_equal(ag_identity_throttle_ip_keys(v[i].ip, k, p), 0);
        assert_string_equal(k, v[i].key);
        assert_string_equal(p, v[i].prefix);
    }
    assert_int_equal(ag_identity_throttle_ip_keys("300.1.1.1", k, p), AG_EINVAL);
    assert_int_equal(ag_identity_throttle_ip_keys("", k, p), AG_EINVAL);
    assert_int_equal(ag_identity_throttle_ip_keys(NULL, k, p), AG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedules),
        cmocka_unit_test(check_and_fail),
        cmocka_unit_test(decay_and_no_reset),
        cmocka_unit_test(owner_not_locked_out),
        cmocka_unit_test(decide_combines_scopes),
        cmocka_unit_test(ip_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
