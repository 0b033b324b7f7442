/* Store records of the analyst console (src/console/): console users with
 * their Argon2id password hash, sealed TOTP secret, TOTP replay step and
 * sign-in throttle; console sessions looked up by the keyed hash of their
 * token; and the read-only aggregates the console's overview shows
 * (decisions, cases, alerts), computed from the other subsystems' tables.
 * Included from store/store.h. */
#ifndef AG_STORE_CONSOLE_H
#define AG_STORE_CONSOLE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_store;
struct ag_store_tx;

/* ---- users ---- */

struct ag_console_user_rec {
    char id[40];             /* "cu_..." */
    char name[65];           /* unique, [a-z0-9._-] */
    char role[16];           /* "analyst" or "admin" */
    char password_hash[128]; /* Argon2id encoded string */
    uint8_t totp_sealed[128]; /* the TOTP secret, sealed (identity/seal.h) */
    size_t totp_sealed_len;
    int64_t totp_last_step;  /* last accepted TOTP step, -1 = none */
    uint32_t failures;       /* consecutive failed sign-ins (throttle) */
    int64_t last_failure_at;
    int64_t last_login_at;
    int64_t created_at;
    int64_t disabled_at;     /* 0 = active */
};

/* Insert a new user. AG_ECONFLICT ("user_exists") if the name is taken. */
int ag_store_console_user_put(struct ag_store_tx *tx, const struct ag_console_user_rec *u,
                              struct ag_err *err);
/* By name; AG_ENOTFOUND ("no_such_user"). */
int ag_store_console_user_get(struct ag_store *s, const char *name,
                              struct ag_console_user_rec *out, struct ag_err *err);
int ag_store_console_user_get_tx(struct ag_store_tx *tx, const char *name,
                                 struct ag_console_user_rec *out, struct ag_err *err);
/* Every user, oldest first; a non-zero return of <cb> stops. */
int ag_store_console_user_list(struct ag_store *s,
                               int (*cb)(void *arg, const struct ag_console_user_rec *u),
                               void *arg, struct ag_err *err);
/* Disable (at > 0) or enable (at = 0) a user. AG_ENOTFOUND if no such user. */
int ag_store_console_user_disable(struct ag_store_tx *tx, const char *name, int64_t at,
                                  struct ag_err *err);
/* Record a sign-in outcome: the throttle counters, and on success the
 * accepted TOTP step — only if the stored step is still <old_step>, so of
 * two sign-ins with one code exactly one wins (AG_ECONFLICT "code_reused"
 * for the other). <new_step> < 0 leaves the step alone. */
int ag_store_console_user_signin(struct ag_store_tx *tx, const char *id, int64_t old_step,
                                 int64_t new_step, uint32_t failures, int64_t last_failure_at,
                                 int64_t last_login_at, struct ag_err *err);

/* ---- sessions ---- */

struct ag_console_session_rec {
    uint8_t token_hash[32]; /* keyed BLAKE2b of the cookie's token */
    char id[40];            /* "cs_...", for listings and the audit log */
    char user_id[40];
    int64_t created_at;
    int64_t last_seen_at;   /* for the idle timeout (written at most every few s) */
    int64_t expires_at;     /* absolute end of the session */
    int64_t revoked_at;     /* 0 = live */
    char ip[46];
    char user_agent[256];
};

int ag_store_console_session_put(struct ag_store_tx *tx, const struct ag_console_session_rec *r,
                                 struct ag_err *err);
/* The session with <token_hash> and its user; AG_ENOTFOUND if none. */
int ag_store_console_session_get(struct ag_store *s, const uint8_t token_hash[32],
                                 struct ag_console_session_rec *out,
                                 struct ag_console_user_rec *user, struct ag_err *err);
/* Move last_seen_at forward to <at> (never back). */
int ag_store_console_session_touch(struct ag_store_tx *tx, const uint8_t token_hash[32],
                                   int64_t at, struct ag_err *err);
/* Revoke one session (by token hash), or every live session of a user. */
int ag_store_console_session_revoke(struct ag_store_tx *tx, const uint8_t token_hash[32],
                                    int64_t at, struct ag_err *err);
int ag_store_console_session_revoke_user(struct ag_store_tx *tx, const char *user_id, int64_t at,
                                         struct ag_err *err);

/* ---- overview aggregates ---- */

/* The newest decisions first, those received at or after <since_ms>, at
 * most <limit>: <cb> gets each one's time, action and stored response (the
 * decision with its reasons and rules; borrowed). A non-zero return stops. */
int ag_store_console_decisions_scan(struct ag_store *s, int64_t since_ms, int limit,
                                    int (*cb)(void *arg, int64_t received_at, const char *action,
                                              const char *response_json),
                                    void *arg, struct ag_err *err);

struct ag_console_case_counts {
    int64_t open;     /* not resolved or closed */
    int64_t overdue;  /* open and past a due time */
    int64_t unassigned; /* open with no assignee */
    int64_t opened;   /* created since <since> */
    int64_t resolved; /* resolved since <since> */
};
int ag_store_console_case_counts(struct ag_store *s, int64_t now, int64_t since,
                                 struct ag_console_case_counts *out, struct ag_err *err);

/* Alerts (the notification outbox) since <since_ms>: <cb> gets each state
 * and channel with its count, then (minute >= 0) delivered counts per
 * minute (minute = ms since the epoch / 60000). */
int ag_store_console_alert_counts(struct ag_store *s, int64_t since_ms,
                                  int (*cb)(void *arg, const char *state, const char *channel,
                                            int64_t minute, int64_t n),
                                  void *arg, struct ag_err *err);

#endif
