/* The analyst console's security core: console users (Argon2id passwords and
 * the project's own TOTP, src/identity), sign-in with a throttle and a TOTP
 * replay guard, sessions carried by a secure HttpOnly SameSite=Strict cookie
 * with an idle timeout and an absolute lifetime, and the CSRF token bound to
 * each session (synchronizer token: derived from the session token with a
 * keyed hash, sent back by the page in the X-CSRF-Token header on every
 * state-changing request). The HTTP side (routes, dispatch, audit) is in
 * src/api/console*.c; the built web assets are in assets.h. See
 * docs/CONSOLE.md. */
#ifndef AG_CONSOLE_CONSOLE_H
#define AG_CONSOLE_CONSOLE_H

#include "core/err.h"
#include "identity/password.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

#define AG_CONSOLE_COOKIE "ag_console"
#define AG_CONSOLE_CSRF_HEADER "X-CSRF-Token"
#define AG_CONSOLE_TOKEN_PREFIX "agc_"
#define AG_CONSOLE_CSRF_LEN 64 /* hex characters */
#define AG_CONSOLE_NAME_MAX 48

struct ag_console; /* opaque: keys and settings */

struct ag_console_options {
    int64_t idle_timeout_s; /* a session unused this long ends */
    int64_t session_max_s;  /* a session ends this long after sign-in, used or not */
    bool cookie_secure;     /* mark the cookie Secure (off only behind plain HTTP in labs) */
    struct ag_identity_pwhash_params pwhash;
    const char *issuer;     /* the TOTP issuer shown by authenticator apps */
};

/* Derive the console's keys from the 32-byte server secret <master> (which
 * the caller keeps and wipes). Returns 0 with *out (free with
 * ag_console_close), AG_EINVAL for bad options or AG_ENOMEM. */
int ag_console_open(const uint8_t master[32], const struct ag_console_options *o,
                    struct ag_console **out, struct ag_err *err);
/* Wipe the keys and free; NULL is fine. */
void ag_console_close(struct ag_console *c);
const struct ag_console_options *ag_console_options(const struct ag_console *c);

/* ---- users ---- */

/* Is <role> one of "analyst", "admin"? */
bool ag_console_role_valid(const char *role);

/* Create user <name> with <role> and <password> (strength-checked, at least
 * 10 characters), with a fresh TOTP secret. Writes the otpauth:// URI for
 * the user's authenticator app into <uri> (AG_IDENTITY_TOTP_URI_MAX bytes)
 * and, if <secret_b32> is not NULL, the base32 secret (64 bytes). WARNING:
 * both contain the secret: show once, never log. Returns 0; AG_EINVAL for a
 * bad name, role or weak password (err->field says which); AG_ECONFLICT if
 * the name is taken; a store error. Blocks for the Argon2id cost. */
int ag_console_user_create(struct ag_console *c, struct ag_store *store, const char *name,
                           const char *role, const char *password, const char *actor,
                           char *uri, char *secret_b32, struct ag_err *err);
/* Disable (or, with <disable> false, enable) a user; disabling ends its
 * sessions at once. AG_ENOTFOUND if no such user. */
int ag_console_user_disable(struct ag_console *c, struct ag_store *store, const char *name,
                            bool disable, const char *actor, struct ag_err *err);

/* ---- sign-in and sessions ---- */

struct ag_console_principal {
    char user_id[40];
    char name[AG_CONSOLE_NAME_MAX + 1];
    char role[16];
    char session_id[40];
    uint8_t token_hash[32];
    char csrf[AG_CONSOLE_CSRF_LEN + 1];
    int64_t expires_at;   /* absolute end (ms) */
    int64_t idle_ends_at; /* when it ends if unused from now (ms) */
};

/* Check <password> and the TOTP <code> of user <name> and open a session.
 * On success writes the cookie's token into <token> (AG_IDENTITY_TOKEN_MAX
 * bytes; WARNING: a bearer secret) and fills <out>; the sign-in is in the
 * audit log. Every refusal of a name, password or code is the same
 * AG_EAUTH "signin_failed" (counted against the user); AG_ERATE
 * "signin_throttled" with *retry_after_ms after repeated failures;
 * AG_ECONFLICT "code_reused" if the code was just used. <ip> and <ua> are
 * recorded with the session. Blocks for the Argon2id cost. */
int ag_console_login(struct ag_console *c, struct ag_store *store, const char *name,
                     const char *password, const char *code, const char *ip, const char *ua,
                     char *token, struct ag_console_principal *out, int64_t *retry_after_ms,
                     struct ag_err *err);

/* The session whose token is in the Cookie header <cookie_header> (may be
 * NULL). Returns 0 with <out> filled and the session's idle clock moved on
 * (written to the store at most every few seconds, asynchronously);
 * AG_EAUTH "no_session" without a cookie, "session_invalid" for an unknown
 * or revoked token or a disabled user, "session_expired" past the idle
 * timeout or the lifetime; a store error. */
int ag_console_session_check(struct ag_console *c, struct ag_store *store,
                             const char *cookie_header, struct ag_console_principal *out,
                             struct ag_err *err);
/* Does the request's X-CSRF-Token value <presented> (may be NULL) match the
 * session's? Constant time. */
bool ag_console_csrf_ok(const struct ag_console_principal *p, const char *presented);
/* End the session of <p> (idempotent); the sign-out is in the audit log. */
int ag_console_logout(struct ag_console *c, struct ag_store *store,
                      const struct ag_console_principal *p, struct ag_err *err);

/* The Set-Cookie value that carries <token> (NULL: one that clears the
 * cookie) into <out>/<cap>. */
void ag_console_cookie_format(const struct ag_console *c, const char *token, char *out,
                              size_t cap);
/* Copy the value of cookie <name> from a Cookie header into <out>/<cap>.
 * Returns 0, or AG_ENOTFOUND when absent, empty or longer than <cap> - 1. */
int ag_console_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
