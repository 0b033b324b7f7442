/* "This wasn't me" link tokens: they verify, carry the account and event,
 * expire, and cannot be forged (altered payload, altered MAC, another key,
 * truncation, junk). Single use is tested over the API
 * (tests/api/test_notify_wasnt_me.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "notify/link.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static uint8_t key[32], other[32];
static const int64_t now = 1795000000000LL;

static void test_roundtrip(void **state)
{
    (void)state;
    char tok[AG_NOTIFY_LINK_TOKEN_MAX], id[AG_NOTIFY_LINK_ID_LEN], id2[AG_NOTIFY_LINK_ID_LEN];
    assert_int_equal(ag_notify_link_make(key, "u_123", "ev-9", now + 3600000, tok, NULL), 0);
    assert_true(strlen(tok) < 256);
    assert_null(strpbrk(tok, "/+=?#%"));
    struct ag_notify_link l;
    assert_int_equal(ag_notify_link_verify(key, tok, now, &l, id, NULL), 0);
    assert_string_equal(l.account_id, "u_123");
    assert_string_equal(l.event_id, "ev-9");
    assert_int_equal(l.expires_at_ms, now + 3600000);
    assert_int_equal(strlen(id), 32);
    /* two links for the same event are told apart only by expiry; the id
     * is stable for one token */
    assert_int_equal(ag_notify_link_verify(key, tok, now, &l, id2, NULL), 0);
    assert_string_equal(id, id2);
}

static void test_expiry(void **state)
{
    (void)state;
    char tok[AG_NOTIFY_LINK_TOKEN_MAX];
    struct ag_notify_link l;
    struct ag_err err;
    assert_int_equal(ag_notify_link_make(key, "u_1", "e", now + 1000, tok, NULL), 0);
    assert_int_equal(ag_notify_link_verify(key, tok, now + 999, &l, NULL, NULL), 0);
    assert_int_equal(ag_notify_link_verify(key, tok, now + 1000, &l, NULL, &err), AG_ESTATE);
    assert_string_equal(err.slug, "link_expired");
    assert_string_equal(l.account_id, "u_1");
}

static void test_forgeries(void **state)
{
    (void)state;
    char tok[AG_NOTIFY_LINK_TOKEN_MAX], bad[AG_NOTIFY_LINK_TOKEN_MAX];
    struct ag_notify_link l;
    struct ag_err err;
    assert_int_equal(ag_notify_link_make(key, "u_victim", "ev1", now + 86400000, tok, NULL), 0);
    /* another key */
    assert_int_equal(ag_notify_link_verify(other, tok, now, &l, NULL, &err), AG_EFORBIDDEN);
    assert_string_equal(err.slug, "link_invalid");
    /* every single-character change anywhere */
    static const char alphabet[] = "AQgw09-_";
    for (size_t i = 0; i < strlen(tok); i++) {
        if (tok[i] == '.')
            continue;
        for (size_t a = 0; a < sizeof alphabet - 1; a++) {
            if (alphabet[a] == tok[i])
                continue;
            strcpy(bad, tok);
            bad[i] = alphabet[a];
            int rc = ag_notify_link_verify(key, bad, now, &l, NULL, NULL);
            if (rc == 0 && strcmp(bad, tok))
                fail_msg("altered token verified at %zu", i);
        }
    }
    /* a token made by an attacker for another account with a guessed MAC */
    char mine[AG_NOTIFY_LINK_TOKEN_MAX];
    assert_int_equal(ag_notify_link_make(other, "u_victim", "ev1", now + 86400000, mine, NULL), 0);
    assert_int_equal(ag_notify_link_verify(key, mine, now, &l, NULL, NULL), AG_EFORBIDDEN);
    /* splice: payload of one token, MAC of another */
    char t2[AG_NOTIFY_LINK_TOKEN_MAX];
    assert_int_equal(ag_notify_link_make(key, "u_attacker", "ev1", now + 86400000, t2, NULL), 0);
    snprintf(bad, sizeof bad, "%.*s%s", (int)(strchr(t2, '.') - t2), t2, strchr(tok, '.'));
    assert_int_equal(ag_notify_link_verify(key, bad, now, &l, NULL, NULL), AG_EFORBIDDEN);
    /* truncations and junk */
    for (size_t n = 0; n < strlen(tok); n++) {
        snprintf(bad, sizeof bad, "%.*s", (int)n, tok);
        assert_int_equal(ag_notify_link_verify(key, bad, now, &l, NULL, NULL), AG_EFORBIDDEN);
    }
    const char *junk[] = {"", ".", "..", "abc", "abc.def", "====.====", "a.b.c"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(ag_notify_link_verify(key, junk[i], now, &l, NULL, NULL), AG_EFORBIDDEN);
    assert_int_equal(ag_notify_link_verify(key, NULL, now, &l, NULL, NULL), AG_EFORBIDDEN);
}

static void test_long_ids(void **state)
{
    (void)state;
    char acct[129], ev[129], tok[AG_NOTIFY_LINK_TOKEN_MAX];
    memset(acct, 'a', 100);
    acct[100] = '\0';
    memset(ev, 'e', 128);
    ev[128] = '\0';
    struct ag_notify_link l;
    assert_int_equal(ag_notify_link_make(key, acct, ev, now + 1000, tok, NULL), 0);
    assert_true(strlen(tok) < 256);
    assert_int_equal(ag_notify_link_verify(key, tok, now, &l, NULL, NULL), 0);
    assert_string_equal(l.account_id, acct);
    assert_int_equal(l.event_id[0], '#'); /* the event id, hashed */
    memset(acct, 'a', 128);
    acct[128] = '\0';
    assert_int_equal(ag_notify_link_make(key, acct, "e", now + 1000, tok, NULL), 0);
    assert_true(strlen(tok) < 256);
    acct[0] = '\0';
    assert_int_equal(ag_notify_link_make(key, acct, "e", now + 1000, tok, NULL), AG_EINVAL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_forgeries),
        cmocka_unit_test(test_long_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
