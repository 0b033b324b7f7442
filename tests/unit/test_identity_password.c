/* Unit tests for src/identity/password.c and passcode.c: Argon2id hashing,
 * verification, rehash detection, the strength policy (table in
 * tests/data/identity/password_cases.txt) and the wallet passcode with its
 * throttle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "identity/passcode.h"
#include "identity/password.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cheap cost so the suite stays fast under ASan; the code paths are the
 * same as with production parameters. */
static const struct ag_identity_pwhash_params cheap = {.opslimit = 1, .memlimit = 16 * 1024};
static const struct ag_identity_pwhash_params cheap2 = {.opslimit = 2, .memlimit = 16 * 1024};
static const struct ag_identity_pwhash_params cheap3 = {.opslimit = 1, .memlimit = 32 * 1024};

static void hash_and_verify(void **state)
{
    char h1[AG_IDENTITY_PWHASH_STR_MAX], h2[AG_IDENTITY_PWHASH_STR_MAX];
    assert_int_equal(ag_identity_password_hash(&cheap, "correct horse", h1, NULL), 0);
    assert_int_equal(strncmp(h1, "$argon2id$v=19$m=16,t=1,p=1$", 28), 0);
    assert_null(strstr(h1, "correct"));
    /* Random salt: same password, different hash. */
    assert_int_equal(ag_identity_password_hash(&cheap, "correct horse", h2, NULL), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(ag_identity_password_verify(h1, "correct horse", NULL), 0);
    assert_int_equal(ag_identity_password_verify(h2, "correct horse", NULL), 0);
    struct ag_err err;
    assert_int_equal(ag_identity_password_verify(h1, "correct horsf", &err), AG_EAUTH);
    assert_string_equal(err.slug, "password_invalid");
    assert_int_equal(ag_identity_password_verify(h1, "", &err), AG_EAUTH);
    assert_int_equal(ag_identity_password_verify(h1, NULL, &err), AG_EAUTH);
    /* Corrupt records are not "wrong password". */
    assert_int_equal(ag_identity_password_verify("$2y$10$abcdefghijk", "x", &err), AG_EINVAL);
    assert_string_equal(err.slug, "hash_malformed");
    assert_int_equal(ag_identity_password_verify("$argon2id$v=19$m=16,t=1,p=1$junk", "x", &err),
                     AG_EINVAL);
    assert_int_equal(ag_identity_password_verify(NULL, "x", &err), AG_EINVAL);
    /* Parameter bounds and length limit. */
    struct ag_identity_pwhash_params bad = {.opslimit = 0, .memlimit = 16 * 1024};
    assert_int_equal(ag_identity_password_hash(&bad, "x", h1, &err), AG_EINVAL);
    bad = (struct ag_identity_pwhash_params){.opslimit = 1, .memlimit = 1024};
    assert_int_equal(ag_identity_password_hash(&bad, "x", h1, &err), AG_EINVAL);
    char long_pw[AG_IDENTITY_PASSWORD_MAX_BYTES + 2];
    memset(long_pw, 'a', sizeof long_pw - 1);
    long_pw[sizeof long_pw - 1] = '\0';
    assert_int_equal(ag_identity_password_hash(&cheap, long_pw, h1, &err), AG_EINVAL);
    assert_true(ag_identity_pwhash_params_valid(&AG_IDENTITY_PWHASH_DEFAULT));
}

static void rehash_detection(void **state)
{
    char h[AG_IDENTITY_PWHASH_STR_MAX], nh[AG_IDENTITY_PWHASH_STR_MAX];
    assert_int_equal(ag_identity_password_hash(&cheap, "s3cret words here", h, NULL), 0);
    assert_int_equal(ag_identity_password_needs_rehash(h, &cheap), 0);
    assert_int_equal(ag_identity_password_needs_rehash(h, &cheap2), 1); /* more passes */
    assert_int_equal(ag_identity_password_needs_rehash(h, &cheap3), 1); /* more memory */
    assert_int_equal(ag_identity_password_needs_rehash("garbage", &cheap), AG_EINVAL);

    /* Argon2i records with the current cost still move to Argon2id. */
    char h_i[AG_IDENTITY_PWHASH_STR_MAX];
    assert_int_equal(crypto_pwhash_argon2i_str(h_i, "old", 3, 3, 16 * 1024), 0);
    struct ag_identity_pwhash_params i_params = {.opslimit = 3, .memlimit = 16 * 1024};
    assert_int_equal(ag_identity_password_needs_rehash(h_i, &i_params), 1);
    assert_int_equal(ag_identity_password_verify(h_i, "old", NULL), 0);

    /* verify_upgrade: no rehash when current; rehash after a match when the
     * parameters changed; never on a mismatch. */
    bool rehashed = true;
    assert_int_equal(ag_identity_password_verify_upgrade(&cheap, h, "s3cret words here", nh,
                                                         &rehashed, NULL), 0);
    assert_false(rehashed);
    assert_int_equal(ag_identity_password_verify_upgrade(&cheap2, h, "wrong", nh, &rehashed,
                                                         NULL), AG_EAUTH);
    assert_false(rehashed);
    assert_int_equal(ag_identity_password_verify_upgrade(&cheap2, h, "s3cret words here", nh,
                                                         &rehashed, NULL), 0);
    assert_true(rehashed);
    assert_int_equal(strncmp(nh, "$argon2id$v=19$m=16,t=2,p=1$", 28), 0);
    assert_int_equal(ag_identity_password_needs_rehash(nh, &cheap2), 0);
    assert_int_equal(ag_identity_password_verify(nh, "s3cret words here", NULL), 0);
}

static void strength_table(void **state)
{
    char path[1024];
    const char *dir = getenv("AG_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/data/identity/password_cases.txt",
             dir && *dir ? dir : AG_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    const char *words[] = {"alice.smith@example.com", "Example Market", NULL};
    struct ag_identity_password_policy pol = AG_IDENTITY_PASSWORD_POLICY_DEFAULT;
    char line[512];
    int n = 0, ok = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        const char *want = line, *pw = tab + 1;
        struct ag_identity_password_strength s;
        struct ag_err err = {0};
        int rc = ag_identity_password_check(&pol, pw, words, &s, &err);
        if (strcmp(s.code, want) != 0)
            print_error("password '%s': got %s (score %d, %.1f bits), want %s\n", pw, s.code,
                        s.score, s.entropy_bits, want);
        assert_string_equal(s.code, want);
        assert_string_equal(s.code, ag_identity_password_reason_code(s.reason));
        if (strcmp(want, "ok") == 0) {
            assert_int_equal(rc, 0);
            assert_true(s.score >= pol.min_score);
            ok++;
        } else {
            assert_int_equal(rc, AG_EINVAL);
            assert_string_equal(err.slug, want);
            assert_string_equal(err.field, "password");
            assert_true(s.warning[0] != '\0'); /* people are told why */
            if (strlen(pw) > 8) /* ("password" is a word the advice uses) */
                assert_null(strstr(err.msg, pw)); /* never echoed back */
        }
        n++;
    }
    fclose(f);
    assert_true(n >= 20);
    assert_true(ok >= 3);
}

static void strength_details(void **state)
{
    struct ag_identity_password_policy pol = AG_IDENTITY_PASSWORD_POLICY_DEFAULT;
    struct ag_identity_password_strength s;
    /* Length counts code points: 7 two-byte letters (14 bytes) are too
     * short, 8 are long enough to be judged on strength. */
    const char e7[] = "\xc3\xa9\xc3\xa8\xc3\xaa\xc3\xab\xc3\xa0\xc3\xa2\xc3\xa7";
    char e8[sizeof e7 + 2];
    snprintf(e8, sizeof e8, "%s\xc3\xb1", e7);
    assert_int_equal(ag_identity_password_check(&pol, e7, NULL, &s, NULL), AG_EINVAL);
    assert_int_equal(s.reason, AG_IDENTITY_PASSWORD_TOO_SHORT);
    ag_identity_password_check(&pol, e8, NULL, &s, NULL);
    assert_int_not_equal(s.reason, AG_IDENTITY_PASSWORD_TOO_SHORT);
    /* A stricter policy turns a fair password down as weak, with advice. */
    struct ag_identity_password_policy strict = {.min_length = 8, .max_length = 64, .min_score = 3};
    assert_int_equal(ag_identity_password_check(&strict, "blue house", NULL, &s, NULL), AG_EINVAL);
    assert_int_equal(s.reason, AG_IDENTITY_PASSWORD_WEAK);
    assert_string_equal(s.code, "password_weak");
    assert_true(s.suggestion[0] != '\0');
    /* Too long. */
    char long_pw[80];
    memset(long_pw, 'q', 79);
    long_pw[79] = '\0';
    assert_int_equal(ag_identity_password_check(&strict, long_pw, NULL, &s, NULL), AG_EINVAL);
    assert_string_equal(s.code, "password_too_long");
    /* The same password is fine without the user's words, personal with them. */
    const char *words[] = {"zanzibar.quixote@example.org", NULL};
    assert_int_equal(ag_identity_password_check(&pol, "zanzibarquixote", NULL, &s, NULL), 0);
    assert_int_equal(ag_identity_password_check(&pol, "zanzibarquixote", words, &s, NULL),
                     AG_EINVAL);
    assert_string_equal(s.code, "password_personal");
    /* Scores rise with guessability. */
    struct ag_identity_password_strength a, b;
    ag_identity_password_check(&pol, "password", NULL, &a, NULL);
    ag_identity_password_check(&pol, "correct horse battery staple", NULL, &b, NULL);
    assert_int_equal(a.score, 0);
    assert_int_equal(b.score, 4);
    assert_true(b.entropy_bits > a.entropy_bits);
}

/* --- wallet passcode ----------------------------------------------------- */

static void passcode_validation(void **state)
{
    const char *weak[] = {"000000", "123456", "987654", "121212", "123123", "12341234",
                          "123321", "1111111", "456789012"};
    const char *bad_format[] = {"12345", "1234567890123", "12a456", "", "12 3456"};
    const char *good[] = {"402917", "7203518", "931746", "58302716"};
    struct ag_err err;
    for (size_t i = 0; i < AG_ARRAY_LEN(weak); i++) {
        int rc = ag_identity_passcode_validate(weak[i], &err);
        if (i == AG_ARRAY_LEN(weak) - 1) { /* 456789012 is a run only up to 9 */
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, AG_EINVAL);
        assert_string_equal(err.slug, "passcode_weak");
    }
    for (size_t i = 0; i < AG_ARRAY_LEN(bad_format); i++) {
        assert_int_equal(ag_identity_passcode_validate(bad_format[i], &err), AG_EINVAL);
        assert_string_equal(err.slug, "passcode_format");
    }
    assert_int_equal(ag_identity_passcode_validate(NULL, &err), AG_EINVAL);
    for (size_t i = 0; i < AG_ARRAY_LEN(good); i++)
        assert_int_equal(ag_identity_passcode_validate(good[i], &err), 0);
}

static void passcode_lockout_and_unlock(void **state)
{
    struct ag_identity_passcode_ctx ctx = {.hash = cheap};
    const struct ag_identity_throttle_policy *tp =
        &ag_identity_throttle_policies[AG_IDENTITY_SCOPE_PASSCODE];
    char stored[AG_IDENTITY_PWHASH_STR_MAX], nh[AG_IDENTITY_PWHASH_STR_MAX];
    assert_int_equal(ag_identity_passcode_set(&ctx, "402917", stored, NULL), 0);
    struct ag_identity_throttle st = {0};
    int64_t now = 1700000000000LL, wait;
    bool rehashed;
    struct ag_err err;

    assert_int_equal(ag_identity_passcode_verify(&ctx, &st, stored, "402917", now, nh, &rehashed,
                                                 &wait, &err), 0);
    assert_false(rehashed);
    /* Wrong guesses: the free ones, then each must wait out its delay; a
     * retry inside the delay is refused and not counted. */
    uint32_t fails = 0;
    while (!st.locked) {
        int rc = ag_identity_passcode_verify(&ctx, &st, stored, "111222", now, nh, &rehashed,
                                             &wait, &err);
        assert_int_equal(rc, AG_EAUTH);
        assert_string_equal(err.slug, "passcode_invalid");
        fails++;
        assert_int_equal(st.failures, fails);
        int64_t d = ag_identity_throttle_delay_ms(tp, fails);
        if (d > 0 && !st.locked) {
            uint32_t v = st.version;
            assert_int_equal(ag_identity_passcode_verify(&ctx, &st, stored, "402917", now + d - 1,
                                                         nh, &rehashed, &wait, &err), AG_ERATE);
            assert_string_equal(err.slug, "passcode_throttled");
            assert_int_equal(wait, 1);
            assert_int_equal(st.version, v); /* refused attempts change nothing */
        }
        now += d;
    }
    assert_int_equal(fails, tp->lock_after);
    /* Locked: even the right passcode is refused, however long one waits. */
    now += 30LL * 24 * 3600 * 1000;
    assert_int_equal(ag_identity_passcode_verify(&ctx, &st, stored, "402917", now, nh, &rehashed,
                                                 &wait, &err), AG_EFORBIDDEN);
    assert_string_equal(err.slug, "passcode_locked");
    /* The owner passes 2-step verification; the caller clears the lock. */
    ag_identity_throttle_clear(&st);
    assert_int_equal(ag_identity_passcode_verify(&ctx, &st, stored, "402917", now, nh, &rehashed,
                                                 &wait, &err), 0);
    assert_int_equal(st.failures, 0);

    /* A success resets the count, so the owner's occasional typo never
     * accumulates. */
    assert_int_equal(ag_identity_passcode_verify(&ctx, &st, stored, "402918", now, nh, &rehashed,
                                                 &wait, &err), AG_EAUTH);
    assert_int_equal(ag_identity_passcode_verify(&ctx, &st, stored, "402917", now, nh, &rehashed,
                                                 &wait, &err), 0);
    assert_int_equal(st.failures, 0);

    /* Rehash when the passcode cost changes. */
    struct ag_identity_passcode_ctx ctx2 = {.hash = cheap2};
    assert_int_equal(ag_identity_passcode_verify(&ctx2, &st, stored, "402917", now, nh, &rehashed,
                                                 &wait, &err), 0);
    assert_true(rehashed);
    assert_int_equal(ag_identity_password_verify(nh, "402917", NULL), 0);
    /* A corrupt stored hash is an error, not a counted failure. */
    assert_int_equal(ag_identity_passcode_verify(&ctx, &st, "bogus", "402917", now, nh, &rehashed,
                                                 &wait, &err), AG_EINVAL);
    assert_int_equal(st.failures, 0);
}

static void passcode_change(void **state)
{
    struct ag_identity_passcode_ctx ctx = {.hash = cheap};
    char stored[AG_IDENTITY_PWHASH_STR_MAX], out[AG_IDENTITY_PWHASH_STR_MAX];
    assert_int_equal(ag_identity_passcode_set(&ctx, "402917", stored, NULL), 0);
    struct ag_identity_throttle st = {0};
    struct ag_err err;
    int64_t now = 1700000000000LL;
    assert_int_equal(ag_identity_passcode_change(&ctx, &st, stored, "999999", "731906", now, out,
                                                 NULL, &err), AG_EAUTH);
    assert_int_equal(st.failures, 1);
    assert_int_equal(ag_identity_passcode_change(&ctx, &st, stored, "402917", "402917", now, out,
                                                 NULL, &err), AG_EINVAL);
    assert_string_equal(err.slug, "passcode_unchanged");
    assert_int_equal(ag_identity_passcode_change(&ctx, &st, stored, "402917", "123456", now, out,
                                                 NULL, &err), AG_EINVAL);
    assert_string_equal(err.slug, "passcode_weak");
    assert_int_equal(ag_identity_passcode_change(&ctx, &st, stored, "402917", "731906", now, out,
                                                 NULL, &err), 0);
    assert_int_equal(ag_identity_password_verify(out, "731906", NULL), 0);
    assert_int_equal(ag_identity_password_verify(out, "402917", NULL), AG_EAUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_and_verify),
        cmocka_unit_test(rehash_detection),
        cmocka_unit_test(strength_table),
        cmocka_unit_test(strength_details),
        cmocka_unit_test(passcode_validation),
        cmocka_unit_test(passcode_lockout_and_unlock),
        cmocka_unit_test(passcode_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
