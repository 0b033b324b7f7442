/* The identity service over a real store: the attempt gate (the 100-failure
 * cap, the trusted-device exemption, parallel guesses counted exactly),
 * one-time codes delivered in the transaction that stores them, TOTP replay
 * and the playbook actions of accounts.h. */
#include "identity/accounts.h"
#include "identity/service.h"
#include "store_url.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/agidsvcXXXXXX";
static struct ag_store *store;
static struct ag_identity id;
static char last_body[2048];
static int delivered;

static int capture(struct ag_store_tx *tx, const struct ag_identity_delivery *d, struct ag_err *err)
{
    snprintf(last_body, sizeof last_body, "%s", d->body);
    delivered++;
    return 0;
}

static int setup(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/id.db", dir);
    struct ag_err err;
    if (ag_store_open(ag_test_store_url(path), NULL, &store, &err))
        return -1;
    uint8_t master[32] = {1, 2, 3};
    if (ag_identity_init(&id, store, master, &err))
        return -1;
    id.pwhash = (struct ag_identity_pwhash_params){.opslimit = 1, .memlimit = 64 * 1024};
    id.passcode = id.pwhash;
    id.deliver = capture;
    return 0;
}

static int teardown(void **state)
{
    ag_identity_fini(&id);
    ag_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define HOUR (3600 * 1000LL)

static int trust_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_device_trust(tx, "u_cap", "d_owner", true, 1, err);
}

/* 100 consecutive failures lock the authenticator for everyone (STEP_UP),
 * the trusted device is never delayed before that, and unlock clears it. */
static void test_hundred_failure_cap(void **state)
{
    struct ag_err err;
    assert_int_equal(ag_identity_password_set(&id, "u_cap", "orchid-lantern-basalt-4", NULL, NULL, 1,
                                              &err), 0);
    int trc = ag_store_exec(store, trust_run, NULL, &err);
    if (trc)
        fprintf(stderr, "trust: %s\n", err.msg);
    assert_int_equal(trc, 0);
    int64_t now = 10 * HOUR;
    enum ag_identity_pw_result r;
    bool rehashed;
    int64_t retry;
    int failures = 0;
    for (int i = 0; i < 150; i++, now += HOUR) {
        struct ag_identity_attempt a = {.account_id = "u_cap", .factor = "password",
                                        .device_id = "d_evil", .ip = "198.51.100.7"};
        int rc = ag_identity_password_check_attempt(&id, &a, "wrong-guess", now, &r, &rehashed,
                                                    &retry, &err);
        if (rc == AG_EFORBIDDEN) {
            assert_string_equal(err.slug, "step_up_required");
            break;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(r, AG_IDENTITY_PW_WRONG);
        failures++;
        /* The owner's trusted device is not delayed meanwhile. */
        if (i == 50) {
            struct ag_identity_attempt o = {.account_id = "u_cap", .factor = "password",
                                            .device_id = "d_owner"};
            assert_int_equal(ag_identity_password_check_attempt(&id, &o, "wrong-too", now + 1, &r,
                                                                &rehashed, &retry, &err),
                             0);
            failures++;
        }
    }
    assert_int_equal(failures, AG_IDENTITY_THROTTLE_HARD_CAP);
    struct ag_identity_attempt o = {.account_id = "u_cap", .factor = "password", .device_id = "d_owner"};
    assert_int_equal(ag_identity_password_check_attempt(&id, &o, "orchid-lantern-basalt-4", now, &r,
                                                        &rehashed, &retry, &err),
                     AG_EFORBIDDEN);
    assert_int_equal(ag_identity_unlock(&id, "u_cap", &err), 0);
    assert_int_equal(ag_identity_password_check_attempt(&id, &o, "orchid-lantern-basalt-4", now, &r,
                                                        &rehashed, &retry, &err),
                     0);
    assert_int_equal(r, AG_IDENTITY_PW_OK);
}

struct racer {
    const char *otp_id;
    int rc;
};

static void *guess(void *arg)
{
    struct racer *g = arg;
    struct ag_identity_attempt a = {.account_id = "u_race", .factor = "otp"};
    struct ag_err err;
    int64_t retry;
    g->rc = ag_identity_otp_check(&id, &a, g->otp_id, "verify", NULL, "000000", 1000, NULL, &retry,
                                  &err);
    return NULL;
}

/* Parallel wrong guesses at one code each count: 5 tries, then exhausted. */
static void test_otp_parallel_guesses_all_count(void **state)
{
    struct ag_err err;
    assert_int_equal(ag_identity_contact_set(&id, "u_race", "email", "r@example.com", true, 1, &err), 0);
    struct ag_identity_otp_sent s;
    assert_int_equal(ag_identity_otp_send(&id, "u_race", "email", "verify", NULL, "en", 1000, &s, &err), 0);
    if (strstr(last_body, "000000"))
        skip(); /* one in a million: the real code */
    pthread_t t[8];
    struct racer g[8];
    for (int i = 0; i < 8; i++) {
        g[i] = (struct racer){s.id, 0};
        pthread_create(&t[i], NULL, guess, &g[i]);
    }
    int wrong = 0, exhausted = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        wrong += g[i].rc == AG_EAUTH;
        exhausted += g[i].rc == AG_ERATE;
    }
    assert_int_equal(wrong, 5);
    assert_int_equal(exhausted, 3);
}

/* A code is delivered in the transaction that stores it, works once, and
 * a "contact" code verifies its address. */
static void test_otp_delivered_single_use(void **state)
{
    struct ag_err err;
    assert_int_equal(ag_identity_contact_set(&id, "u_otp", "sms", "+447700900321", false, 1, &err), 0);
    assert_int_equal(ag_identity_methods(&id, "u_otp") & AG_IDENT_METHOD_SMS, 0);
    struct ag_identity_otp_sent s;
    assert_int_equal(ag_identity_otp_send(&id, "u_otp", "sms", "verify", NULL, "en", 1000, &s, &err),
                     AG_ESTATE); /* not verified yet */
    int before = delivered;
    assert_int_equal(ag_identity_otp_send(&id, "u_otp", "sms", "contact", NULL, "de", 1000, &s, &err), 0);
    assert_int_equal(delivered, before + 1);
    assert_non_null(strstr(s.destination_hint, "321"));
    assert_null(strstr(s.destination_hint, "7700900"));
    char code[8] = {0};
    for (const char *p = last_body; *p; p++)
        if (strspn(p, "0123456789") == 6) {
            memcpy(code, p, 6);
            break;
        }
    assert_int_equal(strlen(code), 6);
    struct ag_identity_attempt a = {.account_id = "u_otp", .factor = "otp"};
    int64_t retry;
    assert_int_equal(ag_identity_otp_check(&id, &a, s.id, NULL, NULL, code, 2000, NULL, &retry, &err), 0);
    assert_int_equal(ag_identity_otp_check(&id, &a, s.id, NULL, NULL, code, 2000, NULL, &retry, &err),
                     AG_ESTATE);
    assert_string_equal(err.slug, "code_used");
    assert_true(ag_identity_methods(&id, "u_otp") & AG_IDENT_METHOD_SMS);
}

static int playbook_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    int *n = arg;
    int rc = ag_identity_sessions_revoke_all(tx, "u_pb", "ses_keep", 5000, &n[0], err);
    if (!rc)
        rc = ag_identity_devices_forget_untrusted(tx, "u_pb", 5000, &n[1], err);
    if (!rc)
        rc = ag_identity_require_password_reset(tx, "u_pb", 5000, err);
    return rc;
}

static int seed_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct ag_ident_device_rec d = {.account_id = "u_pb", .device_id = "d_unknown", .last_seen = 1};
    int rc = ag_store_ident_device_seen(tx, &d, err);
    return rc ? rc : ag_store_ident_device_trust(tx, "u_pb", "d_known", true, 1, err);
}

/* The playbook actions: sign out everywhere but one session, forget
 * untrusted devices, require a new password. */
static void test_playbook_actions(void **state)
{
    struct ag_err err;
    assert_int_equal(ag_store_exec(store, seed_run, NULL, &err), 0);
    char tok[3][AG_IDENTITY_TOKEN_MAX];
    struct ag_ident_session_rec r[3] = {{.account_id = "u_pb"}, {.account_id = "u_pb"},
                                        {.account_id = "u_pb"}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ag_identity_session_create(&id, &r[i], 0, 1000, tok[i], &err), 0);
    struct ag_ident_session_rec chk;
    assert_int_equal(ag_identity_session_check(&id, tok[0], 2000, &chk, &err), 0);
    int n[2] = {0, 0};
    int prc = ag_store_exec(store, playbook_run, n, &err);
    if (prc)
        fprintf(stderr, "playbook: %s\n", err.msg);
    assert_int_equal(prc, 0);
    assert_int_equal(n[0], 3); /* "ses_keep" is not one of them */
    assert_int_equal(n[1], 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ag_identity_session_check(&id, tok[i], 6000, &chk, &err), AG_EAUTH);
        assert_string_equal(err.slug, "session_revoked");
    }
    struct ag_ident_device_rec d;
    assert_int_equal(ag_store_ident_device_get(store, "u_pb", "d_unknown", &d, NULL), AG_ENOTFOUND);
    assert_int_equal(ag_store_ident_device_get(store, "u_pb", "d_known", &d, NULL), 0);
    assert_int_equal(ag_identity_password_set(&id, "u_pb", "plinth-ember-marlin-62", NULL, NULL, 1,
                                              &err), 0);
    /* setting a password clears the requirement; require it again */
    int dummy[2];
    assert_int_equal(ag_store_exec(store, playbook_run, dummy, &err), 0);
    struct ag_identity_attempt a = {.account_id = "u_pb", .factor = "password"};
    enum ag_identity_pw_result res;
    bool rehashed;
    int64_t retry;
    assert_int_equal(ag_identity_password_check_attempt(&id, &a, "plinth-ember-marlin-62", 7000, &res,
                                                        &rehashed, &retry, &err),
                     0);
    assert_int_equal(res, AG_IDENTITY_PW_RESET_REQUIRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hundred_failure_cap),
        cmocka_unit_test(test_otp_parallel_guesses_all_count),
        cmocka_unit_test(test_otp_delivered_single_use),
        cmocka_unit_test(test_playbook_actions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
