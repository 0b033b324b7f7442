/* One-time codes sent by SMS or email: 6..8 uniformly random digits
 * (randombytes_uniform, no modulo bias), stored only as a keyed, salted hash
 * (BLAKE2b under the AG_IDENTITY_KEY_OTP subkey), valid for a limited time
 * (default 10 minutes) and for at most 5 wrong tries, usable once.
 *
 * The state is a plain struct the store persists. Verification is a pure
 * function from the current state to the next one; the store applies the
 * next state with a conditional update (... WHERE id = ? AND version =
 * <current version>) and, when that updates no row, reloads and verifies
 * again. So of two parallel verifications of one code exactly one succeeds
 * and the other then sees "code_used"; parallel wrong guesses each count.
 *
 * Also here: the localized message texts (SMS and email) that carry a code
 * and tell the owner the platform will never ask for it by phone or chat. */
#ifndef AG_IDENTITY_OTP_H
#define AG_IDENTITY_OTP_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_IDENTITY_OTP_TTL_DEFAULT_MS (10 * 60 * 1000)
#define AG_IDENTITY_OTP_TTL_MAX_MS (24 * 60 * 60 * 1000)
#define AG_IDENTITY_OTP_MAX_TRIES 5
#define AG_IDENTITY_OTP_MIN_DIGITS 6
#define AG_IDENTITY_OTP_MAX_DIGITS 8
#define AG_IDENTITY_OTP_TEXT_MAX 9 /* 8 digits and NUL */

/* What the store keeps for one issued code. */
struct ag_identity_otp {
    uint8_t hash[32];   /* keyed BLAKE2b of salt and code */
    uint8_t salt[16];   /* random per code: equal codes hash differently */
    int64_t created_ms;
    int64_t expires_ms;
    uint32_t tries;     /* wrong codes entered so far */
    uint32_t max_tries; /* AG_IDENTITY_OTP_MAX_TRIES */
    uint32_t version;   /* bumped on every change, for compare-and-set */
    uint8_t digits;
    bool used;
};

enum ag_identity_otp_result {
    AG_IDENTITY_OTP_OK = 0,
    AG_IDENTITY_OTP_WRONG,     /* "code_invalid"  (AG_EAUTH) */
    AG_IDENTITY_OTP_EXPIRED,   /* "code_expired"  (AG_ESTATE) */
    AG_IDENTITY_OTP_EXHAUSTED, /* "code_exhausted" (AG_ERATE): too many tries */
    AG_IDENTITY_OTP_USED,      /* "code_used"     (AG_ESTATE) */
};

/* Stable code of a result: "ok", "code_invalid", ... */
const char *ag_identity_otp_result_code(enum ag_identity_otp_result r);

/* Issue a code of <digits> (6..8) digits valid for <ttl_ms> (0: the default
 * 10 minutes; at most a day) from <now_ms>. Writes the code for the message
 * to <code> (the caller wipes it with sodium_memzero once queued) and the
 * state to persist to <out>. Returns 0 or AG_EINVAL. */
int ag_identity_otp_issue(const uint8_t key[32], unsigned digits, int64_t ttl_ms, int64_t now_ms,
                          char code[AG_IDENTITY_OTP_TEXT_MAX], struct ag_identity_otp *out,
                          struct ag_err *err);

/* Verify <code> (spaces ignored) against <cur> at <now_ms>. Writes the state
 * to persist to <next> (a copy of <cur> when nothing changes: next->version
 * == cur->version means there is nothing to write) and the outcome to
 * *result. Checked in this order: used, expired, exhausted, then the code (a
 * wrong one counts a try). Returns 0 for AG_IDENTITY_OTP_OK, otherwise the
 * negative code noted at the result with err->slug set to its stable code;
 * AG_EINVAL for a NULL argument. */
int ag_identity_otp_verify(const uint8_t key[32], const struct ag_identity_otp *cur,
                           const char *code, int64_t now_ms, struct ag_identity_otp *next,
                           enum ag_identity_otp_result *result, struct ag_err *err);

enum ag_identity_otp_channel { AG_IDENTITY_OTP_SMS, AG_IDENTITY_OTP_EMAIL };

struct ag_identity_otp_message {
    char lang[8];      /* the language used ("en" when <lang> is unknown) */
    char subject[160]; /* email only; empty for SMS */
    char body[1536];
};

/* Languages with texts, as a NULL-terminated list ("en", "es", ...). */
extern const char *const ag_identity_otp_languages[];

/* Build the message carrying <code> for <channel> in <lang> (a BCP 47 tag;
 * "pt-BR" uses "pt"; unknown: English), naming <platform> and the validity
 * <ttl_ms> in minutes. For SMS, <domain> (may be NULL) adds the WebOTP
 * origin line "@domain #code" so browsers fill the code only on that site.
 * Every text says the platform will never ask for the code by phone or chat.
 * Returns 0, or AG_EINVAL for a platform name or domain with control
 * characters or over 64 bytes, or a code that is not 6..8 digits. */
int ag_identity_otp_message(const char *lang, enum ag_identity_otp_channel channel,
                            const char *platform, const char *code, int64_t ttl_ms,
                            const char *domain, struct ag_identity_otp_message *out,
                            struct ag_err *err);

#endif
