/* Unit tests for src/identity/otp.c: issue, expiry, tries, single use, the
 * compare-and-set state transition under two racing threads, and the
 * localized message texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "identity/otp.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t key[32];
#define NOW 1700000000000LL
#define MIN_MS 60000LL

static void issue_shape(void **state)
{
    for (unsigned d = 6; d <= 8; d++) {
        char code[AG_IDENTITY_OTP_TEXT_MAX];
        struct ag_identity_otp o;
        assert_int_equal(ag_identity_otp_issue(key, d, 0, NOW, code, &o, NULL), 0);
        assert_int_equal(strlen(code), d);
        assert_int_equal(strspn(code, "0123456789"), d);
        assert_int_equal(o.expires_ms - o.created_ms, AG_IDENTITY_OTP_TTL_DEFAULT_MS);
        assert_int_equal(o.max_tries, 5);
        assert_int_equal(o.tries, 0);
        assert_false(o.used);
        assert_null(memmem(&o, sizeof o, code, d)); /* the code is not in the state */
    }
    struct ag_err err;
    char code[AG_IDENTITY_OTP_TEXT_MAX];
    struct ag_identity_otp o;
    assert_int_equal(ag_identity_otp_issue(key, 5, 0, NOW, code, &o, &err), AG_EINVAL);
    assert_int_equal(ag_identity_otp_issue(key, 9, 0, NOW, code, &o, &err), AG_EINVAL);
    assert_int_equal(ag_identity_otp_issue(key, 6, -1, NOW, code, &o, &err), AG_EINVAL);
    /* Same code twice: different hashes (per-code salt). */
    struct ag_identity_otp a, b;
    char ca[9], cb[9];
    ag_identity_otp_issue(key, 6, 0, NOW, ca, &a, NULL);
    ag_identity_otp_issue(key, 6, 0, NOW, cb, &b, NULL);
    assert_memory_not_equal(a.hash, b.hash, 32);

    /* Uniform digits: over 20000 codes every digit value at every position
     * appears close to 10% of the time (a loose bound, so no flakiness). */
    unsigned counts[6][10] = {{0}};
    for (int i = 0; i < 20000; i++) {
        ag_identity_otp_issue(key, 6, 0, NOW, code, &o, NULL);
        for (int p = 0; p < 6; p++)
            counts[p][code[p] - '0']++;
    }
    for (int p = 0; p < 6; p++)
        for (int v = 0; v < 10; v++)
            assert_true(counts[p][v] > 1700 && counts[p][v] < 2300);
}

static void verify_outcomes(void **state)
{
    char code[AG_IDENTITY_OTP_TEXT_MAX], wrong[16];
    struct ag_identity_otp o, next;
    enum ag_identity_otp_result r;
    struct ag_err err;
    assert_int_equal(ag_identity_otp_issue(key, 6, 0, NOW, code, &o, NULL), 0);
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 1) % 1000000);

    /* Wrong: counts a try, new version. */
    assert_int_equal(ag_identity_otp_verify(key, &o, wrong, NOW + 1, &next, &r, &err), AG_EAUTH);
    assert_int_equal(r, AG_IDENTITY_OTP_WRONG);
    assert_string_equal(err.slug, "code_invalid");
    assert_int_equal(next.tries, 1);
    assert_int_equal(next.version, o.version + 1);
    o = next;
    /* Malformed input counts too (it is a guess). */
    assert_int_equal(ag_identity_otp_verify(key, &o, "12ab56", NOW + 1, &next, &r, &err), AG_EAUTH);
    assert_int_equal(next.tries, 2);
    assert_int_equal(ag_identity_otp_verify(key, &o, NULL, NOW + 1, &next, &r, &err), AG_EAUTH);
    /* Right (with a space as people type it): used. */
    char spaced[16];
    snprintf(spaced, sizeof spaced, "%.3s %s", code, code + 3);
    assert_int_equal(ag_identity_otp_verify(key, &o, spaced, NOW + 2, &next, &r, &err), 0);
    assert_int_equal(r, AG_IDENTITY_OTP_OK);
    assert_true(next.used);
    o = next;
    /* Used: refused, and nothing to write. */
    assert_int_equal(ag_identity_otp_verify(key, &o, code, NOW + 3, &next, &r, &err), AG_ESTATE);
    assert_int_equal(r, AG_IDENTITY_OTP_USED);
    assert_string_equal(err.slug, "code_used");
    assert_int_equal(next.version, o.version);
}

static void expiry_and_tries(void **state)
{
    char code[AG_IDENTITY_OTP_TEXT_MAX], wrong[16];
    struct ag_identity_otp o, next;
    enum ag_identity_otp_result r;
    struct ag_err err;
    assert_int_equal(ag_identity_otp_issue(key, 8, 10 * MIN_MS, NOW, code, &o, NULL), 0);
    /* The last millisecond is fine, the expiry instant is not. */
    assert_int_equal(ag_identity_otp_verify(key, &o, code, NOW + 10 * MIN_MS - 1, &next, &r, NULL),
                     0);
    assert_int_equal(ag_identity_otp_verify(key, &o, code, NOW + 10 * MIN_MS, &next, &r, &err),
                     AG_ESTATE);
    assert_int_equal(r, AG_IDENTITY_OTP_EXPIRED);
    assert_string_equal(err.slug, "code_expired");
    assert_int_equal(next.version, o.version);

    /* Five wrong tries, then even the right code is refused. */
    snprintf(wrong, sizeof wrong, "%08d", (atoi(code) + 7) % 100000000);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ag_identity_otp_verify(key, &o, wrong, NOW, &next, &r, NULL), AG_EAUTH);
        o = next;
    }
    assert_int_equal(o.tries, 5);
    assert_int_equal(ag_identity_otp_verify(key, &o, code, NOW, &next, &r, &err), AG_ERATE);
    assert_int_equal(r, AG_IDENTITY_OTP_EXHAUSTED);
    assert_string_equal(err.slug, "code_exhausted");
    assert_false(next.used);
    /* Distinct stable codes for every outcome. */
    const char *seen[5];
    for (int i = 0; i < 5; i++) {
        seen[i] = ag_identity_otp_result_code((enum ag_identity_otp_result)i);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
}

/* --- two threads, one code, the store's compare-and-set ------------------ */

/* A stand-in for the store: one row and a conditional update. */
static struct {
    pthread_mutex_t mu;
    struct ag_identity_otp row;
} store = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void store_load(struct ag_identity_otp *out)
{
    pthread_mutex_lock(&store.mu);
    *out = store.row;
    pthread_mutex_unlock(&store.mu);
}

/* UPDATE otp SET ... WHERE id = ? AND version = <expected> */
static bool store_cas(uint32_t expected, const struct ag_identity_otp *next)
{
    pthread_mutex_lock(&store.mu);
    bool ok = store.row.version == expected;
    if (ok)
        store.row = *next;
    pthread_mutex_unlock(&store.mu);
    return ok;
}

struct racer {
    const char *code;
    pthread_barrier_t *start;
    int result; /* 0 or the negative error of the final attempt */
    int retries;
};

static void *race(void *arg)
{
    struct racer *rc = arg;
    struct ag_identity_otp cur, next;
    enum ag_identity_otp_result r;
    store_load(&cur); /* both read the same state... */
    pthread_barrier_wait(rc->start);
    for (;;) {
        rc->result = ag_identity_otp_verify(key, &cur, rc->code, NOW, &next, &r, NULL);
        if (next.version == cur.version || store_cas(cur.version, &next))
            break;
        rc->retries++; /* lost the race: reload and decide again */
        store_load(&cur);
    }
    return NULL;
}

static void racing_verifications(void **state)
{
    for (int round = 0; round < 200; round++) {
        char code[AG_IDENTITY_OTP_TEXT_MAX];
        assert_int_equal(ag_identity_otp_issue(key, 6, 0, NOW - 1, code, &store.row, NULL), 0);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        struct racer a = {.code = code, .start = &start}, b = {.code = code, .start = &start};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&start);
        /* Exactly one success; the other sees the code used. */
        assert_int_equal((a.result == 0) + (b.result == 0), 1);
        assert_int_equal(a.result + b.result, AG_ESTATE);
        assert_int_equal(a.retries + b.retries, 1);
        assert_true(store.row.used);
    }
    /* Without the conditional update (blind writes) both would have
     * succeeded: the state both threads read accepts the code twice. */
    char code[AG_IDENTITY_OTP_TEXT_MAX];
    struct ag_identity_otp o, n1, n2;
    enum ag_identity_otp_result r;
    ag_identity_otp_issue(key, 6, 0, NOW - 1, code, &o, NULL);
    assert_int_equal(ag_identity_otp_verify(key, &o, code, NOW, &n1, &r, NULL), 0);
    assert_int_equal(ag_identity_otp_verify(key, &o, code, NOW, &n2, &r, NULL), 0);
    assert_int_equal(n1.version, n2.version); /* so the CAS admits only one */

    /* Racing wrong guesses all count: 2 threads x 3 guesses = 6 > 5 tries. */
    ag_identity_otp_issue(key, 6, 0, NOW - 1, code, &store.row, NULL);
    char wrong[16];
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 1) % 1000000);
    for (int i = 0; i < 3; i++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        struct racer a = {.code = wrong, .start = &start}, b = {.code = wrong, .start = &start};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&start);
    }
    assert_int_equal(store.row.tries, 5);
    struct ag_identity_otp next;
    assert_int_equal(ag_identity_otp_verify(key, &store.row, code, NOW, &next, &r, NULL),
                     AG_ERATE);
}

/* --- messages ------------------------------------------------------------ */

static void messages_all_languages(void **state)
{
    /* The phrase that says "will never ask" in each language. */
    static const struct {
        const char *lang, *never;
    } never[] = {
        {"en", "will never ask you for this code"},
        {"es", "nunca te pedirá este código"},
        {"de", "niemals"},
        {"fr", "ne vous demandera jamais ce code"},
        {"pt", "nunca vai pedir este código"},
        {"it", "non ti chiederà mai questo codice"},
        {"nl", "vraagt nooit"},
    };
    size_t nlang = 0;
    while (ag_identity_otp_languages[nlang])
        nlang++;
    assert_true(nlang >= 6);
    assert_int_equal(nlang, AG_ARRAY_LEN(never));
    for (size_t i = 0; i < AG_ARRAY_LEN(never); i++) {
        struct ag_identity_otp_message m;
        assert_int_equal(ag_identity_otp_message(never[i].lang, AG_IDENTITY_OTP_SMS, "Example Market",
                                                 "482913", 10 * MIN_MS, NULL, &m, NULL), 0);
        assert_string_equal(m.lang, never[i].lang);
        assert_non_null(strstr(m.body, "482913"));
        assert_non_null(strstr(m.body, "Example Market"));
        assert_non_null(strstr(m.body, "10"));
        assert_non_null(strstr(m.body, never[i].never));
        assert_string_equal(m.subject, "");
        assert_null(strchr(m.body, '{')); /* every placeholder filled */
        assert_true(strlen(m.body) < 320); /* short enough for an SMS */

        assert_int_equal(ag_identity_otp_message(never[i].lang, AG_IDENTITY_OTP_EMAIL,
                                                 "Example Market", "482913", 5 * MIN_MS, NULL, &m,
                                                 NULL), 0);
        assert_non_null(strstr(m.subject, "Example Market"));
        assert_null(strstr(m.subject, "482913")); /* not in previews of the subject */
        assert_non_null(strstr(m.body, "482913"));
        assert_non_null(strstr(m.body, " 5 "));
        assert_non_null(strstr(m.body, never[i].never));
        assert_null(strchr(m.body, '{'));
        assert_null(strchr(m.subject, '{'));
    }
}

static void messages_edges(void **state)
{
    struct ag_identity_otp_message m;
    struct ag_err err;
    /* Region subtags and unknown languages. */
    assert_int_equal(ag_identity_otp_message("pt-BR", AG_IDENTITY_OTP_SMS, "Shop", "123456", 0,
                                             NULL, &m, NULL), 0);
    assert_string_equal(m.lang, "pt");
    assert_int_equal(ag_identity_otp_message("DE_at", AG_IDENTITY_OTP_SMS, "Shop", "123456", 0,
                                             NULL, &m, NULL), 0);
    assert_string_equal(m.lang, "de");
    assert_int_equal(ag_identity_otp_message("tlh", AG_IDENTITY_OTP_SMS, "Shop", "123456", 0,
                                             NULL, &m, NULL), 0);
    assert_string_equal(m.lang, "en");
    assert_int_equal(ag_identity_otp_message(NULL, AG_IDENTITY_OTP_SMS, "Shop", "123456", 0, NULL,
                                             &m, NULL), 0);
    assert_string_equal(m.lang, "en");
    assert_non_null(strstr(m.body, "10 min")); /* the default validity */
    /* WebOTP origin line. */
    assert_int_equal(ag_identity_otp_message("en", AG_IDENTITY_OTP_SMS, "Shop", "123456", 0,
                                             "shop.example", &m, NULL), 0);
    const char *last = strrchr(m.body, '\n');
    assert_non_null(last);
    assert_string_equal(last + 1, "@shop.example #123456");
    /* A platform name cannot inject lines or placeholders' worth of junk. */
    assert_int_equal(ag_identity_otp_message("en", AG_IDENTITY_OTP_SMS, "Shop\nCall +1 555", "123456",
                                             0, NULL, &m, &err), AG_EINVAL);
    assert_string_equal(err.field, "platform");
    assert_int_equal(ag_identity_otp_message("en", AG_IDENTITY_OTP_SMS, "Shop", "123456", 0,
                                             "evil.example #999999", &m, &err), AG_EINVAL);
    assert_int_equal(ag_identity_otp_message("en", AG_IDENTITY_OTP_SMS, "Shop", "12345", 0, NULL,
                                             &m, &err), AG_EINVAL);
    /* A platform name containing a placeholder is printed as is. */
    assert_int_equal(ag_identity_otp_message("en", AG_IDENTITY_OTP_SMS, "{code}", "654321", 0,
                                             NULL, &m, NULL), 0);
    assert_non_null(strstr(m.body, "is your {code} verification code"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(key, sizeof key);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issue_shape),
        cmocka_unit_test(verify_outcomes),
        cmocka_unit_test(expiry_and_tries),
        cmocka_unit_test(racing_verifications),
        cmocka_unit_test(messages_all_languages),
        cmocka_unit_test(messages_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
