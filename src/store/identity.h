/* Identity records: what src/identity's primitives produce, persisted.
 * Per account: the password hash and the account's identity flags, TOTP
 * enrollments (secrets only sealed), backup codes (hashes), verified
 * contacts, one-time codes (hash + state), challenges, devices, sessions
 * (token hashes), throttle states, wallet passcodes and recoveries.
 *
 * Every secret is stored as a hash or sealed; nothing here ever holds a
 * plaintext password, code, token or TOTP seed. Conditional updates
 * ("... WHERE version = ?", "... WHERE last_used_step = ?", "... WHERE
 * used_ms = 0") make single-use and attempt counting hold under parallel
 * requests: the functions that apply them return AG_ECONFLICT when the row
 * changed underneath (the caller reloads and decides again).
 *
 * Times are ms since the epoch. Strings are copied into the fixed buffers
 * (truncated to their size). Included by store/store.h. */
#ifndef AG_STORE_IDENTITY_H
#define AG_STORE_IDENTITY_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_store;
struct ag_store_tx;

#define AG_STORE_ID_MAX 129   /* account, device, session ids and NUL */
#define AG_STORE_HASH_STR 128 /* Argon2id strings */

/* ---- per-account credentials and flags ---- */

struct ag_ident_account_rec {
    char account_id[AG_STORE_ID_MAX];
    char password_hash[AG_STORE_HASH_STR]; /* "" = no password held */
    int64_t password_set_at;
    bool reset_required;   /* password verify answers "reset_required" */
    bool mfa_reverify;     /* the next login must pass 2-step verification */
    int64_t updated_at;
};
/* AG_ENOTFOUND when the account has no identity record. */
int ag_store_ident_account_get(struct ag_store *s, const char *account_id,
                               struct ag_ident_account_rec *out, struct ag_err *err);
int ag_store_ident_account_get_tx(struct ag_store_tx *tx, const char *account_id,
                                  struct ag_ident_account_rec *out, struct ag_err *err);
/* Store a new password hash (clears reset_required). */
int ag_store_ident_password_set(struct ag_store_tx *tx, const char *account_id, const char *hash,
                                int64_t now, struct ag_err *err);
/* Replace <old_hash> by <new_hash> only if it is still stored (transparent
 * rehash); AG_ECONFLICT if the password changed meanwhile. */
int ag_store_ident_password_rehash(struct ag_store_tx *tx, const char *account_id,
                                   const char *old_hash, const char *new_hash,
                                   struct ag_err *err);
/* Set the flags: each of <reset_required>, <mfa_reverify> is 1, 0, or -1
 * to leave it as it is. Creates the record when missing. */
int ag_store_ident_flags_set(struct ag_store_tx *tx, const char *account_id, int reset_required,
                             int mfa_reverify, int64_t now, struct ag_err *err);

/* ---- TOTP enrollments ---- */

struct ag_ident_totp_rec {
    char id[48];
    char account_id[AG_STORE_ID_MAX];
    uint8_t sealed[128]; /* ag_identity_secret_seal blob */
    size_t sealed_len;
    int alg, digits, period;
    bool confirmed;
    int64_t last_used_step; /* -1: none */
    int64_t created_at, confirmed_at;
};
int ag_store_ident_totp_put(struct ag_store_tx *tx, const struct ag_ident_totp_rec *t,
                            struct ag_err *err);
int ag_store_ident_totp_get(struct ag_store *s, const char *id, struct ag_ident_totp_rec *out,
                            struct ag_err *err);
/* The account's confirmed enrollment (the newest); AG_ENOTFOUND if none. */
int ag_store_ident_totp_active(struct ag_store *s, const char *account_id,
                               struct ag_ident_totp_rec *out, struct ag_err *err);
/* Replay guard: set last_used_step = <next> where it is still <last>; on
 * confirmation also marks it confirmed and drops the account's other
 * enrollments. AG_ECONFLICT when another verification won. */
int ag_store_ident_totp_step(struct ag_store_tx *tx, const char *id, int64_t last, int64_t next,
                             bool confirm, int64_t now, struct ag_err *err);
/* Delete one enrollment (AG_ENOTFOUND if not the account's). */
int ag_store_ident_totp_delete(struct ag_store_tx *tx, const char *account_id, const char *id,
                               struct ag_err *err);

/* ---- backup codes ---- */

struct ag_identity_backup_code;
/* Replace the account's set with <n> new codes. */
int ag_store_ident_backup_replace(struct ag_store_tx *tx, const char *account_id,
                                  const struct ag_identity_backup_code *codes, size_t n,
                                  int64_t now, struct ag_err *err);
/* Load up to <cap> codes into <out> (index = position); sets *n. */
int ag_store_ident_backup_load(struct ag_store *s, const char *account_id,
                               struct ag_identity_backup_code *out, size_t cap, size_t *n,
                               struct ag_err *err);
/* Mark code <idx> used where it is unused; AG_ECONFLICT if it already was. */
int ag_store_ident_backup_use(struct ag_store_tx *tx, const char *account_id, size_t idx,
                              int64_t now, struct ag_err *err);

/* ---- verified contacts (where one-time codes may go) ---- */

struct ag_ident_contact_rec {
    char account_id[AG_STORE_ID_MAX];
    char channel[8];  /* "sms" or "email" */
    char address[321];
    int64_t verified_at; /* 0 = not verified yet */
    int64_t created_at;
};
/* Insert or replace the account's contact of that channel. */
int ag_store_ident_contact_put(struct ag_store_tx *tx, const struct ag_ident_contact_rec *c,
                               struct ag_err *err);
/* Mark verified if the address is still <address>; AG_ECONFLICT if not. */
int ag_store_ident_contact_verify(struct ag_store_tx *tx, const char *account_id,
                                  const char *channel, const char *address, int64_t now,
                                  struct ag_err *err);
int ag_store_ident_contact_get(struct ag_store *s, const char *account_id, const char *channel,
                               struct ag_ident_contact_rec *out, struct ag_err *err);
int ag_store_ident_contact_get_tx(struct ag_store_tx *tx, const char *account_id,
                                  const char *channel, struct ag_ident_contact_rec *out,
                                  struct ag_err *err);

/* ---- one-time codes (SMS, email) ---- */

struct ag_identity_otp;
struct ag_ident_otp_rec {
    char id[48];
    char account_id[AG_STORE_ID_MAX];
    char purpose[16];  /* "challenge", "recovery", "contact", "verify" */
    char ref_id[48];   /* the challenge / recovery it belongs to, or "" */
    char channel[8];
    char destination[321];
};
int ag_store_ident_otp_put(struct ag_store_tx *tx, const struct ag_ident_otp_rec *r,
                           const struct ag_identity_otp *state, struct ag_err *err);
int ag_store_ident_otp_get(struct ag_store *s, const char *id, struct ag_ident_otp_rec *out,
                           struct ag_identity_otp *state, struct ag_err *err);
/* Apply <next> where the stored version is still <cur_version>;
 * AG_ECONFLICT otherwise. */
int ag_store_ident_otp_update(struct ag_store_tx *tx, const char *id, uint32_t cur_version,
                              const struct ag_identity_otp *next, struct ag_err *err);
/* The newest code of <purpose> for <ref_id> on <channel>; AG_ENOTFOUND. */
int ag_store_ident_otp_latest(struct ag_store *s, const char *purpose, const char *ref_id,
                              const char *channel, struct ag_ident_otp_rec *out,
                              struct ag_identity_otp *state, struct ag_err *err);
/* Codes sent since <since>: to the account (any destination) and to
 * <destination> (any account), for the send limits. */
int ag_store_ident_otp_count(struct ag_store *s, const char *account_id, const char *destination,
                             int64_t since, int *by_account, int *by_destination,
                             struct ag_err *err);

/* ---- challenges ---- */

struct ag_ident_challenge_rec {
    char id[48];
    char account_id[AG_STORE_ID_MAX];
    char event_id[AG_STORE_ID_MAX]; /* the event whose decision asked for it */
    char reason[32];                /* "decision", "step_up", "recovery" */
    unsigned methods;               /* AG_IDENT_METHOD_* bits */
    char device_id[AG_STORE_ID_MAX];
    char ip[46];
    char user_agent[256];
    char state[12];                 /* "pending", "passed", "failed" */
    int attempts;
    char passed_method[16];
    int64_t created_at, expires_at, passed_at;
};
enum {
    AG_IDENT_METHOD_TOTP = 1u << 0,
    AG_IDENT_METHOD_SMS = 1u << 1,
    AG_IDENT_METHOD_EMAIL = 1u << 2,
    AG_IDENT_METHOD_BACKUP = 1u << 3,
};
int ag_store_ident_challenge_put(struct ag_store_tx *tx, const struct ag_ident_challenge_rec *c,
                                 struct ag_err *err);
int ag_store_ident_challenge_get(struct ag_store *s, const char *id,
                                 struct ag_ident_challenge_rec *out, struct ag_err *err);
/* Record an attempt on a pending challenge: <passed> moves it to "passed"
 * with <method>; a failure counts an attempt and fails it at <max_attempts>.
 * AG_ESTATE when it is no longer pending. Fills <out> with the result. */
int ag_store_ident_challenge_attempt(struct ag_store_tx *tx, const char *id, bool passed,
                                     const char *method, int max_attempts, int64_t now,
                                     struct ag_ident_challenge_rec *out, struct ag_err *err);

/* ---- devices ---- */

struct ag_ident_device_rec {
    char account_id[AG_STORE_ID_MAX];
    char device_id[AG_STORE_ID_MAX];
    int64_t first_seen, last_seen;
    char ip[46];
    char country[3];
    char user_agent[256];
    bool trusted;
    int64_t trusted_at;
};
/* Upsert a sighting: first_seen kept, the rest updated (trust unchanged). */
int ag_store_ident_device_seen(struct ag_store_tx *tx, const struct ag_ident_device_rec *d,
                               struct ag_err *err);
/* Trust or distrust one device (created if unknown). */
int ag_store_ident_device_trust(struct ag_store_tx *tx, const char *account_id,
                                const char *device_id, bool trusted, int64_t now,
                                struct ag_err *err);
/* Whether a sighting must be written: not when the same device was written
 * with the same ip, country and user agent less than a minute before (as the
 * store's upsert would leave the row alone anyway). Always true on
 * PostgreSQL. <stamp> is passed on to ..._seen_written once the write has
 * committed, which remembers it (unless the account was written since). */
bool ag_store_ident_device_seen_due(struct ag_store *s, const struct ag_ident_device_rec *d,
                                    uint64_t *stamp);
void ag_store_ident_device_seen_written(struct ag_store *s, const struct ag_ident_device_rec *d,
                                        uint64_t stamp);
/* Whether the device is trusted, without the rest of its record: answered
 * from memory while nothing was written about the account (store_impl.h).
 * AG_ENOTFOUND (and *trusted false) for a device never seen. */
int ag_store_ident_device_trusted(struct ag_store *s, const char *account_id,
                                  const char *device_id, bool *trusted, struct ag_err *err);
int ag_store_ident_device_get(struct ag_store *s, const char *account_id, const char *device_id,
                              struct ag_ident_device_rec *out, struct ag_err *err);
int ag_store_ident_device_list(struct ag_store *s, const char *account_id,
                               int (*cb)(void *arg, const struct ag_ident_device_rec *d),
                               void *arg, struct ag_err *err);
int ag_store_ident_device_list_tx(struct ag_store_tx *tx, const char *account_id,
                                  int (*cb)(void *arg, const struct ag_ident_device_rec *d),
                                  void *arg, struct ag_err *err);
/* Delete one device (AG_ENOTFOUND if unknown). */
int ag_store_ident_device_delete(struct ag_store_tx *tx, const char *account_id,
                                 const char *device_id, struct ag_err *err);
/* Clear trust on every device (*n: how many were trusted). */
int ag_store_ident_device_distrust_all(struct ag_store_tx *tx, const char *account_id, int *n,
                                       struct ag_err *err);
/* Delete every untrusted device (*n: how many). */
int ag_store_ident_device_delete_untrusted(struct ag_store_tx *tx, const char *account_id,
                                           int *n, struct ag_err *err);

/* ---- sessions ---- */

struct ag_ident_session_rec {
    char id[48];
    char account_id[AG_STORE_ID_MAX];
    uint8_t token_hash[32];
    char device_id[AG_STORE_ID_MAX];
    char ip[46];
    char user_agent[256];
    bool mfa; /* created after 2-step verification */
    int64_t created_at, expires_at, revoked_at, last_seen;
    char revoke_reason[32];
};
int ag_store_ident_session_put(struct ag_store_tx *tx, const struct ag_ident_session_rec *r,
                               struct ag_err *err);
/* By token hash; AG_ENOTFOUND if none. */
int ag_store_ident_session_by_hash(struct ag_store *s, const uint8_t hash[32],
                                   struct ag_ident_session_rec *out, struct ag_err *err);
int ag_store_ident_session_list(struct ag_store *s, const char *account_id, bool live_only,
                                int64_t now, int (*cb)(void *arg, const struct ag_ident_session_rec *r),
                                void *arg, struct ag_err *err);
/* Revoke live sessions of the account: all but <keep_id> (may be NULL), or
 * only those of <device_id> when it is not NULL. *n: how many. */
int ag_store_ident_session_revoke(struct ag_store_tx *tx, const char *account_id,
                                  const char *keep_id, const char *device_id, const char *reason,
                                  int64_t now, int *n, struct ag_err *err);
/* Revoke one session of the account (AG_ENOTFOUND if unknown). */
int ag_store_ident_session_revoke_one(struct ag_store_tx *tx, const char *account_id,
                                      const char *session_id, const char *reason, int64_t now,
                                      struct ag_err *err);

/* ---- throttle states ---- */

struct ag_identity_throttle;
/* Missing state reads as zero (no failures, version 0). */
int ag_store_ident_throttle_get_tx(struct ag_store_tx *tx, const char *scope, const char *key,
                                   struct ag_identity_throttle *out, struct ag_err *err);
int ag_store_ident_throttle_get(struct ag_store *s, const char *scope, const char *key,
                                struct ag_identity_throttle *out, struct ag_err *err);
/* Write <next> where the stored version is still <cur_version> (0: not
 * stored yet); AG_ECONFLICT otherwise. */
int ag_store_ident_throttle_put(struct ag_store_tx *tx, const char *scope, const char *key,
                                uint32_t cur_version, const struct ag_identity_throttle *next,
                                struct ag_err *err);

/* ---- wallet passcodes ---- */

/* AG_ENOTFOUND when none is set. */
int ag_store_ident_passcode_get(struct ag_store *s, const char *account_id,
                                char hash[AG_STORE_HASH_STR], struct ag_err *err);
int ag_store_ident_passcode_set(struct ag_store_tx *tx, const char *account_id,
                                const char *hash, int64_t now, struct ag_err *err);

/* ---- recoveries ---- */

struct ag_ident_recovery_rec {
    char id[48];
    char account_id[AG_STORE_ID_MAX];
    char channel[8];
    char otp_id[48];
    char challenge_id[48]; /* "" unless the recovery needs a second factor */
    char event_id[AG_STORE_ID_MAX];
    char device_id[AG_STORE_ID_MAX];
    char ip[46];
    char state[12];        /* "pending", "completed", "failed" */
    bool strong;           /* new country on a new device, or a risky decision */
    int64_t created_at, expires_at, completed_at;
};
int ag_store_ident_recovery_put(struct ag_store_tx *tx, const struct ag_ident_recovery_rec *r,
                                struct ag_err *err);
int ag_store_ident_recovery_get(struct ag_store *s, const char *id,
                                struct ag_ident_recovery_rec *out, struct ag_err *err);
/* Move a pending recovery to <state>; AG_ESTATE if it is not pending. */
int ag_store_ident_recovery_finish(struct ag_store_tx *tx, const char *id, const char *state,
                                   int64_t now, struct ag_err *err);

#endif
