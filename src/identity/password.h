/* Passwords: Argon2id hashing (libsodium crypto_pwhash) with parameters from
 * configuration, verification with transparent rehash when the parameters
 * change, and a strength policy (minimum length, known-common passwords,
 * zxcvbn score) with stable reason codes and human-readable feedback.
 *
 * Strength is estimated with zxcvbn-c (Debian libzxcvbn-dev): its
 * dictionaries (leaked-password frequency lists, English words, names) are
 * compiled in, it is a pure function (thread-safe, no file to go missing)
 * and it grades guessability rather than only pass/fail; docs/IDENTITY.md
 * explains the choice over cracklib. */
#ifndef AG_IDENTITY_PASSWORD_H
#define AG_IDENTITY_PASSWORD_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Argon2id cost. The defaults are libsodium's "interactive" level (2 passes,
 * 64 MiB), which the caller normally overrides from configuration. */
struct ag_identity_pwhash_params {
    uint64_t opslimit; /* passes, >= 1 */
    size_t memlimit;   /* bytes, 8 KiB .. 4 GiB */
};
#define AG_IDENTITY_PWHASH_DEFAULT                                                              \
    ((struct ag_identity_pwhash_params){.opslimit = 2, .memlimit = 64u * 1024 * 1024})
/* Room for an encoded hash string ("$argon2id$v=19$m=...$salt$hash") and NUL. */
#define AG_IDENTITY_PWHASH_STR_MAX 128
/* Longest secret hashed at all (bytes); longer input is refused, not cut. */
#define AG_IDENTITY_PASSWORD_MAX_BYTES 1024

/* Are <p> within the bounds libsodium accepts (and 4 GiB of memory)? */
bool ag_identity_pwhash_params_valid(const struct ag_identity_pwhash_params *p);

/* Hash <password> with a fresh random salt into <out> (NUL-terminated
 * "$argon2id$..." string). Returns 0; AG_EINVAL for invalid parameters or a
 * password longer than AG_IDENTITY_PASSWORD_MAX_BYTES; AG_ENOMEM when the
 * memory limit cannot be allocated. Blocks for the configured cost. */
int ag_identity_password_hash(const struct ag_identity_pwhash_params *p, const char *password,
                              char out[AG_IDENTITY_PWHASH_STR_MAX], struct ag_err *err);

/* Check <password> against the encoded hash <stored> (Argon2id or, for old
 * records, Argon2i) in constant time. Returns 0 on a match, AG_EAUTH
 * ("password_invalid") on a mismatch, AG_EINVAL ("hash_malformed") when
 * <stored> is not a libsodium hash string. */
int ag_identity_password_verify(const char *stored, const char *password, struct ag_err *err);

/* Does <stored> need rehashing under <p>? Returns 1 if its algorithm is not
 * Argon2id or its cost differs from <p>, 0 if it matches, AG_EINVAL if it is
 * not a valid hash string. */
int ag_identity_password_needs_rehash(const char *stored, const struct ag_identity_pwhash_params *p);

/* Verify, then rehash if needed: on a match with outdated parameters writes
 * a new hash under <p> to <new_hash> and sets *rehashed (the caller stores
 * it); otherwise *rehashed is false. Returns like ag_identity_password_verify
 * (the rehash only happens after a successful match). */
int ag_identity_password_verify_upgrade(const struct ag_identity_pwhash_params *p,
                                        const char *stored, const char *password,
                                        char new_hash[AG_IDENTITY_PWHASH_STR_MAX],
                                        bool *rehashed, struct ag_err *err);

/* What a new password must satisfy. Lengths count Unicode code points
 * (NIST SP 800-63B: at least 8; allow at least 64). */
struct ag_identity_password_policy {
    unsigned min_length;
    unsigned max_length;
    int min_score; /* 0..4, see below */
};
#define AG_IDENTITY_PASSWORD_POLICY_DEFAULT                                                     \
    ((struct ag_identity_password_policy){.min_length = 8, .max_length = 256, .min_score = 2})

/* Stable reasons a password is refused; also used as the error slug. */
enum ag_identity_password_reason {
    AG_IDENTITY_PASSWORD_OK = 0,
    AG_IDENTITY_PASSWORD_TOO_SHORT,     /* "password_too_short" */
    AG_IDENTITY_PASSWORD_TOO_LONG,      /* "password_too_long" */
    AG_IDENTITY_PASSWORD_COMMON,        /* "password_common": among the first
                                         * 10^5 guesses (leaked lists, words,
                                         * keyboard rows, repeats, sequences) */
    AG_IDENTITY_PASSWORD_PERSONAL,      /* "password_personal": built on the
                                         * account's own name/email */
    AG_IDENTITY_PASSWORD_WEAK,          /* "password_weak": score < min_score */
};

/* The estimate for one password. score is zxcvbn's 0..4 scale on the
 * estimated number of guesses: 0 < 10^3, 1 < 10^6, 2 < 10^8, 3 < 10^10,
 * 4 beyond. warning and suggestion are English text for people (the
 * caller may localize by <reason> instead). */
struct ag_identity_password_strength {
    int score;
    double entropy_bits;
    double guesses_log10;
    enum ag_identity_password_reason reason;
    const char *code; /* "ok" or the slug of <reason>; static */
    char warning[160];
    char suggestion[200];
};

/* Stable code of <r> ("ok", "password_too_short", ...). */
const char *ag_identity_password_reason_code(enum ag_identity_password_reason r);

/* Judge <password> against <policy>. <user_words> is a NULL-terminated list
 * of the account's own words (name, email local part, username, platform
 * name) that make a password weak, or NULL. Fills <out> (always, when
 * non-NULL) and returns 0 if the password is acceptable, AG_EINVAL with
 * err->slug = the reason code and err->field = "password" if not. The
 * password is never copied into <out> or <err>. */
int ag_identity_password_check(const struct ag_identity_password_policy *policy,
                               const char *password, const char *const *user_words,
                               struct ag_identity_password_strength *out, struct ag_err *err);

#endif
