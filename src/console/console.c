/* Console users, sign-in, sessions and CSRF tokens (console.h). */
#include "console/console.h"
#include "audit/audit.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "identity/seal.h"
#include "identity/throttle.h"
#include "identity/token.h"
#include "identity/totp.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ag_console {
    struct ag_console_options o;
    char issuer[64];
    uint8_t session_key[32]; /* session token hashes */
    uint8_t csrf_key[32];    /* CSRF tokens from session tokens */
    uint8_t totp_key[32];    /* sealing TOTP secrets at rest */
    pthread_mutex_t lock;
    char dummy_hash[AG_IDENTITY_PWHASH_STR_MAX]; /* for unknown names: same cost */
};

/* Sign-in failures of one user: free allowance, then exponential delays.
 * Never a hard lock (an attacker must not lock an analyst out): the delay
 * caps at 15 minutes and a success clears it. */
static const struct ag_identity_throttle_policy signin_policy = {
    .name = "console_signin",
    .free_failures = 5,
    .base_delay_ms = 1000,
    .max_delay_ms = 15 * 60 * 1000,
    .decay_ms = 24 * 3600 * 1000,
    .lock_after = 0,
    .reset_on_success = true,
    .exempt_trusted = false,
};

int ag_console_open(const uint8_t master[32], const struct ag_console_options *o,
                    struct ag_console **out, struct ag_err *err)
{
    if (o->idle_timeout_s < 1 || o->session_max_s < 1 ||
        !ag_identity_pwhash_params_valid(&o->pwhash))
        return ag_err_set(err, AG_EINVAL, "invalid_setting", "console",
                          "console timeouts must be positive and the password cost valid");
    struct ag_console *c = calloc(1, sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    c->o = *o;
    snprintf(c->issuer, sizeof c->issuer, "%s", o->issuer && *o->issuer ? o->issuer : "accountguard");
    /* the issuer may not hold ':' (otpauth label syntax) */
    for (char *p = c->issuer; *p; p++)
        if (*p == ':')
            *p = ' ';
    c->o.issuer = c->issuer;
    ag_secret_derive(master, "console-session", c->session_key);
    ag_secret_derive(master, "console-csrf", c->csrf_key);
    ag_secret_derive(master, "console-totp", c->totp_key);
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

void ag_console_close(struct ag_console *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    sodium_memzero(c, sizeof *c);
    free(c);
}

const struct ag_console_options *ag_console_options(const struct ag_console *c)
{
    return &c->o;
}

bool ag_console_role_valid(const char *role)
{
    return role && (!strcmp(role, "analyst") || !strcmp(role, "admin"));
}

static bool name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > AG_CONSOLE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!(islower(ch) || isdigit(ch) || ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static void random_id(const char *prefix, char *out, size_t cap)
{
    uint8_t b[8];
    char hex[17];
    randombytes_buf(b, sizeof b);
    ag_hex(b, sizeof b, hex);
    snprintf(out, cap, "%s%s", prefix, hex);
}

static void csrf_of(const struct ag_console *c, const char *token, char out[AG_CONSOLE_CSRF_LEN + 1])
{
    uint8_t mac[32];
    crypto_generichash(mac, sizeof mac, (const unsigned char *)token, strlen(token), c->csrf_key,
                       sizeof c->csrf_key);
    ag_hex(mac, sizeof mac, out);
}

/* ---- users ---- */

struct user_job {
    struct ag_console_user_rec *u;
    const char *actor;
    bool disable;
    const char *name;
};

static int create_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct user_job *j = arg;
    int rc = ag_store_console_user_put(tx, j->u, err);
    if (rc)
        return rc;
    json_t *d = json_pack("{s:s}", "role", j->u->role);
    char target[100];
    snprintf(target, sizeof target, "console_user:%s", j->u->name);
    rc = ag_audit_append(tx, j->actor, "console.user_create", target, d, err);
    json_decref(d);
    return rc;
}

int ag_console_user_create(struct ag_console *c, struct ag_store *store, const char *name,
                           const char *role, const char *password, const char *actor,
                           char *uri, char *secret_b32, struct ag_err *err)
{
    if (!name_valid(name))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "name",
                          "a name is 1 to 48 of a-z, 0-9, '.', '_' and '-'");
    if (!ag_console_role_valid(role))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "role", "role is analyst or admin");
    struct ag_identity_password_policy pol = AG_IDENTITY_PASSWORD_POLICY_DEFAULT;
    pol.min_length = 10;
    const char *words[] = {name, "accountguard", "console", NULL};
    int rc = ag_identity_password_check(&pol, password ? password : "", words, NULL, err);
    if (rc)
        return rc;
    struct ag_console_user_rec *u = calloc(1, sizeof *u);
    if (!u)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    uint8_t secret[AG_IDENTITY_TOTP_SECRET_BYTES];
    random_id("cu_", u->id, sizeof u->id);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->role, sizeof u->role, "%s", role);
    u->totp_last_step = -1;
    u->created_at = ag_time_now_ms();
    struct ag_identity_totp_params tp = AG_IDENTITY_TOTP_DEFAULT;
    if ((rc = ag_identity_password_hash(&c->o.pwhash, password, u->password_hash, err)) ||
        (rc = ag_identity_totp_secret_new(secret) ? ag_err_set(err, AG_EINTERNAL, NULL, "",
                                                               "no randomness") : 0) ||
        (rc = ag_identity_secret_seal(c->totp_key, secret, sizeof secret, u->totp_sealed,
                                      sizeof u->totp_sealed, &u->totp_sealed_len, err)) ||
        (rc = ag_identity_totp_uri(&tp, c->issuer, name, secret, sizeof secret, uri,
                                   AG_IDENTITY_TOTP_URI_MAX, err)))
        goto out;
    if (secret_b32)
        ag_identity_base32_encode(secret, sizeof secret, false, secret_b32, 64);
    struct user_job j = {.u = u, .actor = actor};
    rc = ag_store_exec(store, create_job, &j, err);
out:
    if (rc) {
        sodium_memzero(uri, AG_IDENTITY_TOTP_URI_MAX);
        if (secret_b32)
            sodium_memzero(secret_b32, 64);
    }
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(u, sizeof *u);
    free(u);
    return rc;
}

static int disable_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct user_job *j = arg;
    struct ag_console_user_rec u;
    int64_t now = ag_time_now_ms();
    int rc = ag_store_console_user_get_tx(tx, j->name, &u, err);
    if (!rc)
        rc = ag_store_console_user_disable(tx, j->name, j->disable ? now : 0, err);
    if (!rc && j->disable)
        rc = ag_store_console_session_revoke_user(tx, u.id, now, err);
    if (rc)
        return rc;
    char target[100];
    snprintf(target, sizeof target, "console_user:%s", j->name);
    return ag_audit_append(tx, j->actor, j->disable ? "console.user_disable" : "console.user_enable",
                           target, NULL, err);
}

int ag_console_user_disable(struct ag_console *c, struct ag_store *store, const char *name,
                            bool disable, const char *actor, struct ag_err *err)
{
    (void)c;
    if (!name_valid(name))
        return ag_err_set(err, AG_ENOTFOUND, "no_such_user", "name", "no such console user");
    struct user_job j = {.actor = actor, .disable = disable, .name = name};
    return ag_store_exec(store, disable_job, &j, err);
}

/* ---- sign-in ---- */

struct login_job {
    const char *name, *ip;
    bool ok;
    const char *why; /* for the audit log on failure */
    int64_t old_step, new_step, now;
    struct ag_console_session_rec *sess;
    char role[16];
};

static int login_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct login_job *j = arg;
    struct ag_console_user_rec u;
    char actor[100], target[100];
    snprintf(actor, sizeof actor, "console:%s", j->name);
    snprintf(target, sizeof target, "console_user:%s", j->name);
    int rc = ag_store_console_user_get_tx(tx, j->name, &u, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    bool known = rc == 0;
    if (!j->ok) {
        if (known) {
            struct ag_identity_throttle t = {.failures = u.failures,
                                             .last_failure_ms = u.last_failure_at};
            ag_identity_throttle_fail(&signin_policy, &t, j->now);
            if ((rc = ag_store_console_user_signin(tx, u.id, -1, -1, t.failures,
                                                   t.last_failure_ms, 0, err)))
                return rc;
        }
        json_t *d = json_pack("{s:s, s:s}", "ip", j->ip, "why", known ? j->why : "unknown_user");
        rc = ag_audit_append(tx, actor, "console.signin_failed", target, d, err);
        json_decref(d);
        return rc;
    }
    if ((rc = ag_store_console_user_signin(tx, u.id, j->old_step, j->new_step, 0, 0, j->now, err)))
        return rc;
    if ((rc = ag_store_console_session_put(tx, j->sess, err)))
        return rc;
    json_t *d = json_pack("{s:s, s:s, s:s}", "ip", j->ip, "session", j->sess->id, "role", u.role);
    rc = ag_audit_append(tx, actor, "console.signin", target, d, err);
    json_decref(d);
    return rc;
}

static const char *dummy_hash(struct ag_console *c)
{
    pthread_mutex_lock(&c->lock);
    if (!c->dummy_hash[0]) {
        char pw[33];
        uint8_t b[16];
        randombytes_buf(b, sizeof b);
        ag_hex(b, sizeof b, pw);
        ag_identity_password_hash(&c->o.pwhash, pw, c->dummy_hash, NULL);
    }
    pthread_mutex_unlock(&c->lock);
    return c->dummy_hash;
}

static int signin_failed(struct ag_err *err)
{
    return ag_err_set(err, AG_EAUTH, "signin_failed", "",
                      "the name, password or code is not right");
}

int ag_console_login(struct ag_console *c, struct ag_store *store, const char *name,
                     const char *password, const char *code, const char *ip, const char *ua,
                     char *token, struct ag_console_principal *out, int64_t *retry_after_ms,
                     struct ag_err *err)
{
    *retry_after_ms = 0;
    if (!name_valid(name) || !password || !code ||
        strlen(password) > AG_IDENTITY_PASSWORD_MAX_BYTES || strlen(code) > 16)
        return signin_failed(err);
    int64_t now = ag_time_now_ms();
    struct ag_console_user_rec u;
    struct ag_err e2;
    int rc = ag_store_console_user_get(store, name, &u, &e2);
    if (rc && rc != AG_ENOTFOUND) {
        if (err)
            *err = e2;
        return rc;
    }
    bool known = rc == 0;
    struct ag_identity_throttle t = {.failures = known ? u.failures : 0,
                                     .last_failure_ms = known ? u.last_failure_at : 0};
    if (known && ag_identity_throttle_check(&signin_policy, &t, false, now, retry_after_ms) !=
                     AG_IDENTITY_THROTTLE_ALLOW)
        return ag_err_set(err, AG_ERATE, "signin_throttled", "",
                          "too many failed sign-ins; try again in %lld s",
                          (long long)((*retry_after_ms + 999) / 1000));
    struct login_job j = {.name = name, .ip = ip ? ip : "", .now = now, .why = "password"};
    /* The password is checked for unknown and disabled users too, so the
     * answer takes as long whoever is asked about. */
    bool ok = ag_identity_password_verify(known ? u.password_hash : dummy_hash(c), password,
                                          NULL) == 0 &&
              known;
    if (ok && u.disabled_at) {
        ok = false;
        j.why = "disabled";
    }
    if (ok) {
        uint8_t secret[AG_IDENTITY_SEAL_MAX];
        size_t slen = 0;
        struct ag_identity_totp_params tp = AG_IDENTITY_TOTP_DEFAULT;
        int64_t step;
        struct ag_err te;
        j.why = "code";
        ok = ag_identity_secret_open(c->totp_key, u.totp_sealed, u.totp_sealed_len, secret,
                                     sizeof secret, &slen, NULL) == 0;
        if (ok) {
            int vrc = ag_identity_totp_verify(&tp, secret, slen, code, now / 1000,
                                              AG_IDENTITY_TOTP_WINDOW, u.totp_last_step, &step,
                                              &te);
            ok = vrc == 0;
            if (vrc == AG_ESTATE)
                j.why = "code_reused";
        }
        sodium_memzero(secret, sizeof secret);
        j.old_step = u.totp_last_step;
        j.new_step = ok ? step : -1;
    }
    j.ok = ok;
    struct ag_console_session_rec sess = {0};
    if (ok) {
        if ((rc = ag_identity_token_new(AG_CONSOLE_TOKEN_PREFIX, token, AG_IDENTITY_TOKEN_MAX, err)))
            return rc;
        ag_identity_token_hash(c->session_key, token, sess.token_hash);
        random_id("cs_", sess.id, sizeof sess.id);
        snprintf(sess.user_id, sizeof sess.user_id, "%s", u.id);
        sess.created_at = now;
        sess.last_seen_at = now;
        sess.expires_at = now + c->o.session_max_s * 1000;
        snprintf(sess.ip, sizeof sess.ip, "%s", ip ? ip : "");
        snprintf(sess.user_agent, sizeof sess.user_agent, "%s", ua ? ua : "");
        j.sess = &sess;
    }
    rc = ag_store_exec(store, login_job, &j, err);
    if (rc) {
        if (ok)
            sodium_memzero(token, AG_IDENTITY_TOKEN_MAX);
        return rc;
    }
    if (!ok)
        return signin_failed(err);
    memset(out, 0, sizeof *out);
    snprintf(out->user_id, sizeof out->user_id, "%s", u.id);
    snprintf(out->name, sizeof out->name, "%.48s", u.name);
    snprintf(out->role, sizeof out->role, "%s", u.role);
    snprintf(out->session_id, sizeof out->session_id, "%s", sess.id);
    memcpy(out->token_hash, sess.token_hash, sizeof out->token_hash);
    csrf_of(c, token, out->csrf);
    out->expires_at = sess.expires_at;
    out->idle_ends_at = now + c->o.idle_timeout_s * 1000;
    return 0;
}

/* ---- sessions ---- */

struct touch_arg {
    uint8_t hash[32];
    int64_t at;
};

static int touch_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct touch_arg *t = arg;
    return ag_store_console_session_touch(tx, t->hash, t->at, err);
}

static void touch_done(void *arg, int rc, const struct ag_err *err)
{
    (void)rc;
    (void)err;
    free(arg);
}

int ag_console_session_check(struct ag_console *c, struct ag_store *store,
                             const char *cookie_header, struct ag_console_principal *out,
                             struct ag_err *err)
{
    char token[AG_IDENTITY_TOKEN_MAX];
    if (ag_console_cookie_get(cookie_header, AG_CONSOLE_COOKIE, token, sizeof token))
        return ag_err_set(err, AG_EAUTH, "no_session", "", "sign in to the console first");
    if (strncmp(token, AG_CONSOLE_TOKEN_PREFIX, strlen(AG_CONSOLE_TOKEN_PREFIX)) != 0) {
        sodium_memzero(token, sizeof token);
        return ag_err_set(err, AG_EAUTH, "session_invalid", "", "the console session is not valid");
    }
    struct ag_console_session_rec s;
    struct ag_console_user_rec u;
    uint8_t hash[32];
    ag_identity_token_hash(c->session_key, token, hash);
    struct ag_err e2;
    int rc = ag_store_console_session_get(store, hash, &s, &u, &e2);
    if (rc == AG_ENOTFOUND || (!rc && (s.revoked_at || u.disabled_at))) {
        sodium_memzero(token, sizeof token);
        return ag_err_set(err, AG_EAUTH, "session_invalid", "",
                          "the console session is not valid; sign in again");
    }
    if (rc) {
        sodium_memzero(token, sizeof token);
        if (err)
            *err = e2;
        return rc;
    }
    int64_t now = ag_time_now_ms(), idle_ms = c->o.idle_timeout_s * 1000;
    if (now >= s.expires_at || now - s.last_seen_at >= idle_ms) {
        sodium_memzero(token, sizeof token);
        return ag_err_set(err, AG_EAUTH, "session_expired", "",
                          "the console session has expired; sign in again");
    }
    memset(out, 0, sizeof *out);
    snprintf(out->user_id, sizeof out->user_id, "%s", u.id);
    snprintf(out->name, sizeof out->name, "%.48s", u.name);
    snprintf(out->role, sizeof out->role, "%s", u.role);
    snprintf(out->session_id, sizeof out->session_id, "%s", s.id);
    memcpy(out->token_hash, hash, sizeof hash);
    csrf_of(c, token, out->csrf);
    sodium_memzero(token, sizeof token);
    out->expires_at = s.expires_at;
    out->idle_ends_at = now + idle_ms < s.expires_at ? now + idle_ms : s.expires_at;
    /* Move the idle clock on, but write it at most every tenth of the
     * timeout (between 0.2 and 30 s): a busy analyst costs few writes, and
     * the timeout is off by at most that much. */
    int64_t every = idle_ms / 10;
    every = every < 200 ? 200 : every > 30000 ? 30000 : every;
    if (now - s.last_seen_at >= every) {
        struct touch_arg *t = malloc(sizeof *t);
        if (t) {
            memcpy(t->hash, hash, sizeof hash);
            t->at = now;
            if (ag_store_submit(store, touch_job, t, touch_done, t))
                free(t);
        }
    }
    return 0;
}

bool ag_console_csrf_ok(const struct ag_console_principal *p, const char *presented)
{
    if (!presented || strlen(presented) != AG_CONSOLE_CSRF_LEN)
        return false;
    return sodium_memcmp(presented, p->csrf, AG_CONSOLE_CSRF_LEN) == 0;
}

struct logout_job {
    const struct ag_console_principal *p;
};

static int logout_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct logout_job *j = arg;
    int rc = ag_store_console_session_revoke(tx, j->p->token_hash, ag_time_now_ms(), err);
    if (rc)
        return rc;
    char actor[100], target[100];
    snprintf(actor, sizeof actor, "console:%s", j->p->name);
    snprintf(target, sizeof target, "console_user:%s", j->p->name);
    json_t *d = json_pack("{s:s}", "session", j->p->session_id);
    rc = ag_audit_append(tx, actor, "console.signout", target, d, err);
    json_decref(d);
    return rc;
}

int ag_console_logout(struct ag_console *c, struct ag_store *store,
                      const struct ag_console_principal *p, struct ag_err *err)
{
    (void)c;
    struct logout_job j = {p};
    return ag_store_exec(store, logout_job, &j, err);
}

/* ---- cookies ---- */

void ag_console_cookie_format(const struct ag_console *c, const char *token, char *out, size_t cap)
{
    /* A session cookie (no Max-Age: gone when the browser closes); the
     * server enforces the idle timeout and the lifetime. Path=/ because the
     * console calls the /v1 API with it. */
    snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", AG_CONSOLE_COOKIE,
             token ? token : "", c->o.cookie_secure ? "; Secure" : "",
             token ? "" : "; Max-Age=0");
}

int ag_console_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    if (!header)
        return AG_ENOTFOUND;
    size_t nlen = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';' || *p == '\t')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen == 0 || vlen >= cap)
                return AG_ENOTFOUND;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return AG_ENOTFOUND;
}
