/* One-time passwords from authenticator apps: HOTP (RFC 4226) and TOTP
 * (RFC 6238) with HMAC-SHA1/SHA256/SHA512, RFC 4648 base32, otpauth:// URIs
 * (the Google Authenticator key-URI format) and replay protection by time
 * step.
 *
 * HMAC-SHA256/512 come from libsodium; HMAC-SHA1, which libsodium does not
 * have, from Nettle (the small crypto library under GnuTLS; see
 * docs/IDENTITY.md for the choice). Everything here is pure computation: the
 * caller keeps the secret (sealed with ag_identity_secret_seal) and the last
 * accepted time step, and stores them. */
#ifndef AG_IDENTITY_TOTP_H
#define AG_IDENTITY_TOTP_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ag_identity_otp_alg {
    AG_IDENTITY_OTP_SHA1 = 0, /* what every authenticator app supports */
    AG_IDENTITY_OTP_SHA256,
    AG_IDENTITY_OTP_SHA512,
};

/* TOTP parameters. AG_IDENTITY_TOTP_DEFAULT is SHA1, 6 digits, 30 seconds:
 * the only combination all common apps honour. */
struct ag_identity_totp_params {
    enum ag_identity_otp_alg alg;
    unsigned digits; /* 6..8 */
    unsigned period; /* seconds per step, 1..300 */
};
#define AG_IDENTITY_TOTP_DEFAULT                                                                \
    ((struct ag_identity_totp_params){.alg = AG_IDENTITY_OTP_SHA1, .digits = 6, .period = 30})

#define AG_IDENTITY_TOTP_SECRET_BYTES 20 /* RFC 4226 recommends 160 bits */
#define AG_IDENTITY_OTP_KEY_MAX 128      /* longest HMAC key accepted */
#define AG_IDENTITY_OTP_CODE_MAX 9       /* 8 digits and NUL */
#define AG_IDENTITY_TOTP_WINDOW 1        /* steps accepted either side of now */
#define AG_IDENTITY_TOTP_WINDOW_MAX 10
#define AG_IDENTITY_TOTP_URI_MAX 1024
/* Characters of unpadded base32 for <n> bytes, and of padded base32. */
#define AG_IDENTITY_BASE32_LEN(n) (((size_t)(n) * 8 + 4) / 5)
#define AG_IDENTITY_BASE32_PADDED_LEN(n) ((((size_t)(n) + 4) / 5) * 8)

/* Name of <alg> as in otpauth URIs and oathtool ("SHA1", ...). */
const char *ag_identity_otp_alg_name(enum ag_identity_otp_alg alg);
/* Parse "SHA1"/"sha256"/...; returns 0 or AG_EINVAL. */
int ag_identity_otp_alg_parse(const char *name, enum ag_identity_otp_alg *out);

/* Fill <out> with AG_IDENTITY_TOTP_SECRET_BYTES random bytes (libsodium). The
 * caller wipes it with sodium_memzero once sealed. Returns 0, or
 * AG_EINTERNAL if libsodium cannot start (then <out> is untouched). */
int ag_identity_totp_secret_new(uint8_t out[AG_IDENTITY_TOTP_SECRET_BYTES]);

/* RFC 4648 base32 of <n> bytes into <out> (room for <cap> bytes including
 * the NUL), with '=' padding if <pad>. Returns 0, or AG_ELIMIT if <cap> is
 * too small. */
int ag_identity_base32_encode(const uint8_t *in, size_t n, bool pad, char *out, size_t cap);
/* Decode base32 <in> into <out> (room for <cap> bytes); sets *out_len.
 * Accepts lower case, ignores spaces and hyphens (as people type keys) and
 * trailing '=' padding. Returns 0; AG_EINVAL for a character outside the
 * alphabet, misplaced padding or a length no encoder produces (non-zero
 * leftover bits); AG_ELIMIT if <cap> is too small. */
int ag_identity_base32_decode(const char *in, uint8_t *out, size_t cap, size_t *out_len);

/* HOTP (RFC 4226) of <counter> under <key>/<keylen> with <alg>: <digits>
 * (6..8) decimal digits and a NUL into <out> (AG_IDENTITY_OTP_CODE_MAX).
 * Returns 0, or AG_EINVAL for bad digits or a key outside 1..128 bytes. */
int ag_identity_hotp(enum ag_identity_otp_alg alg, const uint8_t *key, size_t keylen,
                     uint64_t counter, unsigned digits, char out[AG_IDENTITY_OTP_CODE_MAX]);

/* The time step that <unix_s> falls in (floor(unix_s / period)), or -1 for
 * a time before the epoch or invalid parameters. */
int64_t ag_identity_totp_step(const struct ag_identity_totp_params *p, int64_t unix_s);

/* The TOTP code at <unix_s> (seconds since the epoch). Returns 0 or
 * AG_EINVAL (bad parameters, key, or a time before the epoch). */
int ag_identity_totp_code(const struct ag_identity_totp_params *p, const uint8_t *key,
                          size_t keylen, int64_t unix_s, char out[AG_IDENTITY_OTP_CODE_MAX]);

/* Check <code> (spaces ignored) against the steps within <window> of the step
 * of <unix_s>, skipping steps at or before <last_used_step> (-1: none used).
 * All candidate steps are computed and compared in constant time. On a match
 * sets *matched_step (the latest matching step) and returns 0: the caller
 * then records it with ag_identity_totp_step_accept. Returns AG_EAUTH
 * ("code_invalid") if nothing matches, AG_ESTATE ("code_reused") if the code
 * only matches an already used step, AG_EINVAL for malformed input. */
int ag_identity_totp_verify(const struct ag_identity_totp_params *p, const uint8_t *key,
                            size_t keylen, const char *code, int64_t unix_s, unsigned window,
                            int64_t last_used_step, int64_t *matched_step, struct ag_err *err);

/* Replay rule (RFC 6238 section 5.2): a step is accepted only if it is later
 * than the last accepted one. Returns 0 and sets *next_last_used_step to
 * <matched_step> if accepted; returns AG_ESTATE ("code_reused") and leaves it
 * at <last_used_step> otherwise. The store persists the new value with a
 * conditional update (... WHERE last_used_step = <last_used_step>), so of two
 * concurrent verifications of one code exactly one wins. */
int ag_identity_totp_step_accept(int64_t last_used_step, int64_t matched_step,
                                 int64_t *next_last_used_step);

/* Build "otpauth://totp/<Issuer>:<account>?secret=<base32, unpadded>
 * &issuer=<Issuer>&algorithm=SHA1&digits=6&period=30" into <out>/<cap>
 * (AG_IDENTITY_TOTP_URI_MAX is always enough). Issuer and account are
 * percent-encoded (RFC 3986 unreserved characters pass); neither may contain
 * ':' or control characters, and the issuer may be empty (then the label is
 * the account alone and the issuer parameter is left out). Returns 0,
 * AG_EINVAL ("invalid_field", field "issuer"/"account") or AG_ELIMIT. The URI
 * contains the secret: WARNING: never log it. */
int ag_identity_totp_uri(const struct ag_identity_totp_params *p, const char *issuer,
                         const char *account, const uint8_t *secret, size_t secret_len,
                         char *out, size_t cap, struct ag_err *err);

#endif
