/* The identity service: the primitives of src/identity (passwords, TOTP,
 * backup codes, one-time codes, tokens, throttles, passcodes) wired to the
 * store. Each function loads what it needs, calls the pure primitive, and
 * persists the result with the conditional updates that make single use and
 * attempt counting hold under parallel requests. No HTTP, no pipeline: the
 * API layer (src/api/identity*.c) runs the events and answers.
 *
 * Attempts (every check of a secret) go through one gate:
 *   1. begin: in one store job, load the throttle states of the attempt's
 *      scopes (authenticator = account + factor, device, ip, prefix), decide,
 *      and if allowed count a failure on the per-account scope *before* the
 *      secret is checked. So parallel guesses serialize on the writer and
 *      cannot slip past a limit, and the 100-failure cap holds exactly.
 *   2. the secret is checked (outside the writer: Argon2id is slow);
 *   3. end: success resets the per-account scope (and lifts a lock that this
 *      very attempt's pre-count set); failure counts on device, ip, prefix.
 *
 * Every function returns 0 or a negative AG_E* code with <err> (stable slug
 * for the API). Secrets passed in are never copied into errors. */
#ifndef AG_IDENTITY_SERVICE_H
#define AG_IDENTITY_SERVICE_H

#include "core/err.h"
#include "identity/backup.h"
#include "identity/keys.h"
#include "identity/otp.h"
#include "identity/password.h"
#include "identity/throttle.h"
#include "identity/token.h"
#include "identity/totp.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* A message carrying a one-time code, handed to the delivery callback inside
 * the store transaction that records the code (so it is durable exactly
 * when the code is). WARNING: <subject>/<body> hold the code. */
struct ag_identity_delivery {
    const char *account_id;
    const char *channel;     /* "sms" or "email" */
    const char *destination; /* the verified address */
    const char *kind;        /* "otp.sms", "otp.email" */
    const char *lang;
    const char *subject;     /* email only */
    const char *body;
    const char *idempotency_key;
};
typedef int (*ag_identity_deliver_fn)(struct ag_store_tx *tx, const struct ag_identity_delivery *d,
                                      struct ag_err *err);

struct ag_identity {
    struct ag_store *store;
    uint8_t key_token[32], key_backup[32], key_otp[32], key_seal[32];
    struct ag_identity_pwhash_params pwhash;   /* passwords (config) */
    struct ag_identity_pwhash_params passcode; /* wallet passcodes (config) */
    struct ag_identity_password_policy policy;
    char issuer[65];           /* otpauth issuer and the platform name in texts */
    int64_t challenge_ttl_ms;  /* default 10 minutes */
    int64_t session_ttl_ms;    /* default 30 days */
    int otp_sends_per_window;  /* per account and per destination, default 5 */
    int64_t otp_send_window_ms; /* default 15 minutes */
    ag_identity_deliver_fn deliver; /* NULL: codes are stored but not sent */
};

/* Derive the subkeys from the 32-byte server secret and set the defaults.
 * <store> is borrowed. */
int ag_identity_init(struct ag_identity *id, struct ag_store *store, const uint8_t master[32],
                     struct ag_err *err);
/* Wipe the keys. */
void ag_identity_fini(struct ag_identity *id);

/* ---- the attempt gate ---- */

struct ag_identity_attempt {
    const char *account_id;
    const char *factor;    /* "password", "totp", "backup_code", "otp", "passcode" */
    const char *device_id; /* may be NULL/"" */
    const char *ip;        /* may be NULL/"" */
    /* filled by begin */
    bool trusted;          /* the device is one of the account's trusted ones */
    bool locked_now;       /* this attempt's pre-count set the lock */
};
/* 0: go ahead and check the secret. AG_ERATE ("too_many_attempts",
 * *retry_after_ms set): refuse now. AG_EFORBIDDEN ("step_up_required"): the
 * authenticator is locked until 2-step verification (or recovery). */
int ag_identity_attempt_begin(struct ag_identity *id, struct ag_identity_attempt *a, int64_t now,
                              int64_t *retry_after_ms, struct ag_err *err);
int ag_identity_attempt_end(struct ag_identity *id, const struct ag_identity_attempt *a,
                            bool success, int64_t now, struct ag_err *err);
/* The owner passed 2-step verification or recovery: lift the locks and
 * counts of the account's authenticators (every factor and the passcode). */
int ag_identity_unlock(struct ag_identity *id, const char *account_id, struct ag_err *err);

/* ---- passwords ---- */

/* Check strength (<user_words> as in ag_identity_password_check, may be
 * NULL), hash and store. Fills <strength> when not NULL. */
int ag_identity_password_set(struct ag_identity *id, const char *account_id, const char *password,
                             const char *const *user_words,
                             struct ag_identity_password_strength *strength, int64_t now,
                             struct ag_err *err);

enum ag_identity_pw_result {
    AG_IDENTITY_PW_OK = 0,
    AG_IDENTITY_PW_WRONG,
    AG_IDENTITY_PW_RESET_REQUIRED, /* right, but a reset is required */
};
/* Verify <password> through the attempt gate <a> (factor "password").
 * Returns 0 with *result, and *rehashed when the stored hash was upgraded;
 * the gate's errors; AG_ENOTFOUND ("no_password") when none is held. */
int ag_identity_password_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                       const char *password, int64_t now,
                                       enum ag_identity_pw_result *result, bool *rehashed,
                                       int64_t *retry_after_ms, struct ag_err *err);

/* ---- TOTP ---- */

struct ag_identity_totp_enrollment {
    char id[48];
    char uri[AG_IDENTITY_TOTP_URI_MAX]; /* WARNING: holds the secret */
    char secret_b32[64];                /* WARNING: the secret */
};
/* Start an enrollment for <label> (shown in the app; default the account
 * id). Stores the sealed secret, unconfirmed. The caller wipes <out>. */
int ag_identity_totp_enroll(struct ag_identity *id, const char *account_id, const char *label,
                            int64_t now, struct ag_identity_totp_enrollment *out,
                            struct ag_err *err);
/* The otpauth URI of an unconfirmed enrollment (for the QR image). */
int ag_identity_totp_uri_of(struct ag_identity *id, const char *account_id,
                            const char *enrollment_id, char uri[AG_IDENTITY_TOTP_URI_MAX],
                            struct ag_err *err);
/* Confirm with the first code (replaces any earlier confirmed enrollment). */
int ag_identity_totp_confirm(struct ag_identity *id, struct ag_identity_attempt *a,
                             const char *enrollment_id, const char *code, int64_t now,
                             int64_t *retry_after_ms, struct ag_err *err);
/* Verify a code of the account's confirmed enrollment, ±1 step, at most
 * once (AG_ESTATE "code_reused" for a replay or a lost race). */
int ag_identity_totp_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                   const char *code, int64_t now, int64_t *retry_after_ms,
                                   struct ag_err *err);

/* ---- backup codes ---- */

int ag_identity_backup_new(struct ag_identity *id, const char *account_id, int64_t now,
                           char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX],
                           struct ag_err *err);
/* *remaining gets the unused codes left after this one. */
int ag_identity_backup_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                     const char *code, int64_t now, int *remaining,
                                     int64_t *retry_after_ms, struct ag_err *err);

/* ---- contacts and one-time codes ---- */

/* Register the account's address for <channel> ("sms": E.164 "+..."
 * digits; "email": an address), verified at once if <verified>. */
int ag_identity_contact_set(struct ag_identity *id, const char *account_id, const char *channel,
                            const char *address, bool verified, int64_t now, struct ag_err *err);

struct ag_identity_otp_sent {
    char id[48];
    char destination_hint[40]; /* "+44******789", "a***@example.com" */
    int64_t expires_ms;
};
/* Issue a code for <purpose> (<ref_id> links a challenge or recovery) and
 * deliver it to the account's <channel> address (which must be verified,
 * unless <purpose> is "contact"). Limits: otp_sends_per_window per account
 * and per destination (AG_ERATE "too_many_codes"). */
int ag_identity_otp_send(struct ag_identity *id, const char *account_id, const char *channel,
                         const char *purpose, const char *ref_id, const char *lang, int64_t now,
                         struct ag_identity_otp_sent *out, struct ag_err *err);
/* Verify <code> for one-time code <otp_id> of a->account_id through the
 * attempt gate <a> (factor "otp") (and, when
 * <purpose> is not NULL, of that purpose and <ref_id>). At most 5 tries,
 * expiry, single use; on success a "contact" code marks its address
 * verified. Fills <rec> when not NULL. */
int ag_identity_otp_check(struct ag_identity *id, struct ag_identity_attempt *a,
                          const char *otp_id, const char *purpose, const char *ref_id,
                          const char *code, int64_t now, struct ag_ident_otp_rec *rec,
                          int64_t *retry_after_ms, struct ag_err *err);

/* The 2-step methods the account can use now: AG_IDENT_METHOD_* bits (TOTP
 * confirmed, verified phone / email, unused backup codes). */
unsigned ag_identity_methods(struct ag_identity *id, const char *account_id);
/* "totp", "sms", "email", "backup_code" <-> AG_IDENT_METHOD_*; 0 if unknown. */
unsigned ag_identity_method_parse(const char *name);
const char *ag_identity_method_name(unsigned bit);

/* ---- sessions ---- */

/* Create a session: writes the token (shown once) into <token>. */
int ag_identity_session_create(struct ag_identity *id, struct ag_ident_session_rec *rec,
                               int64_t ttl_ms, int64_t now, char token[AG_IDENTITY_TOKEN_MAX],
                               struct ag_err *err);
/* Look a token up: 0 and <out> when live; AG_EAUTH ("token_invalid",
 * "session_revoked", "session_expired") otherwise. */
int ag_identity_session_check(struct ag_identity *id, const char *token, int64_t now,
                              struct ag_ident_session_rec *out, struct ag_err *err);

/* ---- wallet passcode ---- */

int ag_identity_passcode_store(struct ag_identity *id, const char *account_id,
                               const char *passcode, int64_t now, struct ag_err *err);
/* Verify through the gate (factor "passcode", passcode policy: 3 free
 * tries, 30 s doubling, lock at 10). AG_EAUTH "passcode_invalid". */
int ag_identity_passcode_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                       const char *passcode, int64_t now,
                                       int64_t *retry_after_ms, struct ag_err *err);

/* Run <fn> as one store job and wait (a convenience for the API layer). */
int ag_identity_exec(struct ag_identity *id, ag_store_job_fn fn, void *arg, struct ag_err *err);

#endif
