/* Wallet passcode: a short numeric secret (6..12 digits) that guards money
 * movement inside an already signed-in session. It reuses the password
 * hashing (Argon2id, with its own cost parameters) and the throttle's
 * passcode policy: 3 free tries, then exponential delays, and after 10
 * consecutive failures a lock that only the owner's 2-step verification
 * clears (ag_identity_throttle_clear). Because a 6-digit passcode has only
 * 10^6 values, the attempt limit, not the hash cost, is what protects it
 * online; the hash keeps it from being read off a stolen database cheaply.
 *
 * The caller loads the stored hash and the throttle state, calls one of
 * these, then stores the returned hash and state (conditional on the state's
 * version, see throttle.h). */
#ifndef AG_IDENTITY_PASSCODE_H
#define AG_IDENTITY_PASSCODE_H

#include "core/err.h"
#include "identity/password.h"
#include "identity/throttle.h"

#include <stdbool.h>
#include <stdint.h>

#define AG_IDENTITY_PASSCODE_MIN_DIGITS 6
#define AG_IDENTITY_PASSCODE_MAX_DIGITS 12

struct ag_identity_passcode_ctx {
    struct ag_identity_pwhash_params hash;             /* its own Argon2id cost */
    const struct ag_identity_throttle_policy *throttle; /* NULL: the default passcode policy */
};
#define AG_IDENTITY_PASSCODE_PWHASH_DEFAULT                                                     \
    ((struct ag_identity_pwhash_params){.opslimit = 3, .memlimit = 64u * 1024 * 1024})

/* Is <passcode> acceptable as a new passcode? Returns 0, or AG_EINVAL with
 * slug "passcode_format" (not 6..12 digits) or "passcode_weak" (one repeated
 * digit, a run like 123456 or 987654, a repeated block like 121212 or
 * 123123, or a mirrored run like 123321). */
int ag_identity_passcode_validate(const char *passcode, struct ag_err *err);

/* Validate and hash a new passcode into <out>. Returns 0 or as
 * ag_identity_passcode_validate / ag_identity_password_hash. */
int ag_identity_passcode_set(const struct ag_identity_passcode_ctx *ctx, const char *passcode,
                             char out[AG_IDENTITY_PWHASH_STR_MAX], struct ag_err *err);

/* Check <passcode> against <stored> under the throttle <state> at <now_ms>.
 * Returns 0 on a match (state updated; if the hash cost changed, <new_hash>
 * holds a fresh hash and *rehashed is set); AG_EAUTH ("passcode_invalid") on
 * a mismatch (failure counted; state->locked tells whether this one locked
 * it); AG_ERATE ("passcode_throttled", *retry_after_ms set) or AG_EFORBIDDEN
 * ("passcode_locked") when the attempt is refused without checking it (state
 * unchanged); AG_EINVAL ("hash_malformed") for a corrupt stored hash (not
 * counted). <retry_after_ms> may be NULL. */
int ag_identity_passcode_verify(const struct ag_identity_passcode_ctx *ctx,
                                struct ag_identity_throttle *state, const char *stored,
                                const char *passcode, int64_t now_ms,
                                char new_hash[AG_IDENTITY_PWHASH_STR_MAX], bool *rehashed,
                                int64_t *retry_after_ms, struct ag_err *err);

/* Change the passcode: <old_passcode> is verified exactly as by
 * ag_identity_passcode_verify (same throttle), then <new_passcode> is
 * validated and hashed into <out>. Returns 0, the verify errors, AG_EINVAL
 * "passcode_unchanged" when both are equal, or the validate errors. */
int ag_identity_passcode_change(const struct ag_identity_passcode_ctx *ctx,
                                struct ag_identity_throttle *state, const char *stored,
                                const char *old_passcode, const char *new_passcode,
                                int64_t now_ms, char out[AG_IDENTITY_PWHASH_STR_MAX],
                                int64_t *retry_after_ms, struct ag_err *err);

#endif
