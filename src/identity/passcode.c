/* Wallet passcode: validation, hashing and throttled verification (see
 * passcode.h). */
#include "identity/passcode.h"

#include <sodium.h>
#include <string.h>

static const struct ag_identity_throttle_policy *policy_of(const struct ag_identity_passcode_ctx *c)
{
    return c->throttle ? c->throttle : &ag_identity_throttle_policies[AG_IDENTITY_SCOPE_PASSCODE];
}

/* Every digit at distance <step> (1, -1 or 0) from the one before it. */
static bool is_run(const char *s, size_t n, int step)
{
    for (size_t i = 1; i < n; i++)
        if (s[i] - s[i - 1] != step)
            return false;
    return true;
}

static bool is_weak(const char *s, size_t n)
{
    if (is_run(s, n, 0) || is_run(s, n, 1) || is_run(s, n, -1))
        return true;
    /* A block of 2..n/2 digits repeated: 121212, 123123, 12341234. */
    for (size_t b = 2; b <= n / 2; b++) {
        if (n % b)
            continue;
        bool rep = true;
        for (size_t i = b; i < n && rep; i++)
            rep = s[i] == s[i - b];
        if (rep)
            return true;
    }
    /* A run and its mirror: 123321, 987789. */
    if (n % 2 == 0) {
        size_t h = n / 2;
        bool mirror = true;
        for (size_t i = 0; i < h && mirror; i++)
            mirror = s[i] == s[n - 1 - i];
        if (mirror && (is_run(s, h, 1) || is_run(s, h, -1)))
            return true;
    }
    return false;
}

int ag_identity_passcode_validate(const char *passcode, struct ag_err *err)
{
    size_t n = passcode ? strlen(passcode) : 0;
    if (n < AG_IDENTITY_PASSCODE_MIN_DIGITS || n > AG_IDENTITY_PASSCODE_MAX_DIGITS ||
        strspn(passcode, "0123456789") != n)
        return ag_err_set(err, AG_EINVAL, "passcode_format", "passcode",
                          "the passcode must be %d to %d digits", AG_IDENTITY_PASSCODE_MIN_DIGITS,
                          AG_IDENTITY_PASSCODE_MAX_DIGITS);
    if (is_weak(passcode, n))
        return ag_err_set(err, AG_EINVAL, "passcode_weak", "passcode",
                          "avoid repeated digits, runs like 123456 and repeated blocks");
    return 0;
}

int ag_identity_passcode_set(const struct ag_identity_passcode_ctx *ctx, const char *passcode,
                             char out[AG_IDENTITY_PWHASH_STR_MAX], struct ag_err *err)
{
    int rc = ag_identity_passcode_validate(passcode, err);
    if (rc < 0)
        return rc;
    return ag_identity_password_hash(&ctx->hash, passcode, out, err);
}

int ag_identity_passcode_verify(const struct ag_identity_passcode_ctx *ctx,
                                struct ag_identity_throttle *state, const char *stored,
                                const char *passcode, int64_t now_ms,
                                char new_hash[AG_IDENTITY_PWHASH_STR_MAX], bool *rehashed,
                                int64_t *retry_after_ms, struct ag_err *err)
{
    const struct ag_identity_throttle_policy *tp = policy_of(ctx);
    int64_t wait = 0;
    *rehashed = false;
    enum ag_identity_throttle_verdict v = ag_identity_throttle_check(tp, state, false, now_ms, &wait);
    if (retry_after_ms)
        *retry_after_ms = wait;
    if (v == AG_IDENTITY_THROTTLE_STEP_UP)
        return ag_err_set(err, AG_EFORBIDDEN, "passcode_locked", "passcode",
                          "too many wrong passcodes; verify with 2-step verification to unlock");
    if (v == AG_IDENTITY_THROTTLE_DELAY)
        return ag_err_set(err, AG_ERATE, "passcode_throttled", "passcode",
                          "too many wrong passcodes; try again in %lld s",
                          (long long)((wait + 999) / 1000));
    int rc = ag_identity_password_verify_upgrade(&ctx->hash, stored, passcode, new_hash, rehashed,
                                                 err);
    if (rc == AG_EAUTH) {
        ag_identity_throttle_fail(tp, state, now_ms);
        return ag_err_set(err, AG_EAUTH, "passcode_invalid", "passcode", "wrong passcode");
    }
    if (rc < 0)
        return rc;
    ag_identity_throttle_succeed(tp, state);
    return 0;
}

int ag_identity_passcode_change(const struct ag_identity_passcode_ctx *ctx,
                                struct ag_identity_throttle *state, const char *stored,
                                const char *old_passcode, const char *new_passcode,
                                int64_t now_ms, char out[AG_IDENTITY_PWHASH_STR_MAX],
                                int64_t *retry_after_ms, struct ag_err *err)
{
    char scratch[AG_IDENTITY_PWHASH_STR_MAX];
    bool rehashed;
    int rc = ag_identity_passcode_verify(ctx, state, stored, old_passcode, now_ms, scratch,
                                         &rehashed, retry_after_ms, err);
    sodium_memzero(scratch, sizeof scratch);
    if (rc < 0)
        return rc;
    if (new_passcode && strcmp(old_passcode, new_passcode) == 0)
        return ag_err_set(err, AG_EINVAL, "passcode_unchanged", "new_passcode",
                          "the new passcode is the same as the old one");
    return ag_identity_passcode_set(ctx, new_passcode, out, err);
}
