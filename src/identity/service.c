/* The identity service: primitives wired to the store (service.h). */
#include "identity/service.h"
#include "core/util.h"
#include "identity/passcode.h"
#include "identity/seal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define MIN_MS (60 * 1000LL)

int ag_identity_init(struct ag_identity *id, struct ag_store *store, const uint8_t master[32],
                     struct ag_err *err)
{
    memset(id, 0, sizeof *id);
    id->store = store;
    if (ag_identity_key_derive(master, AG_IDENTITY_KEY_TOKEN, id->key_token) ||
        ag_identity_key_derive(master, AG_IDENTITY_KEY_BACKUP, id->key_backup) ||
        ag_identity_key_derive(master, AG_IDENTITY_KEY_OTP, id->key_otp) ||
        ag_identity_key_derive(master, AG_IDENTITY_KEY_TOTP_SEAL, id->key_seal))
        return ag_err_set(err, AG_EINTERNAL, NULL, "", "identity key derivation failed");
    id->pwhash = AG_IDENTITY_PWHASH_DEFAULT;
    id->passcode = AG_IDENTITY_PASSCODE_PWHASH_DEFAULT;
    id->policy = AG_IDENTITY_PASSWORD_POLICY_DEFAULT;
    snprintf(id->issuer, sizeof id->issuer, "accountguard");
    id->challenge_ttl_ms = 10 * MIN_MS;
    id->session_ttl_ms = 30LL * 24 * 60 * MIN_MS;
    id->otp_sends_per_window = 5;
    id->otp_send_window_ms = 15 * MIN_MS;
    return 0;
}

void ag_identity_fini(struct ag_identity *id)
{
    sodium_memzero(id->key_token, sizeof id->key_token);
    sodium_memzero(id->key_backup, sizeof id->key_backup);
    sodium_memzero(id->key_otp, sizeof id->key_otp);
    sodium_memzero(id->key_seal, sizeof id->key_seal);
}

int ag_identity_exec(struct ag_identity *id, ag_store_job_fn fn, void *arg, struct ag_err *err)
{
    return ag_store_exec(id->store, fn, arg, err);
}

/* ---- the attempt gate ---- */

enum { SLOT_ACCOUNT, SLOT_DEVICE, SLOT_IP, SLOT_PREFIX, NSLOTS };

struct gate {
    const struct ag_identity_attempt *a;
    const char *scope[NSLOTS];
    char key[NSLOTS][AG_STORE_ID_MAX + 24];
    const struct ag_identity_throttle_policy *policy[NSLOTS];
    struct ag_identity_throttle state[NSLOTS];
    bool present[NSLOTS];
    int64_t now, retry_after;
    bool success;
    enum ag_identity_throttle_verdict verdict;
    bool locked_now;
};

static void gate_init(struct gate *g, const struct ag_identity_attempt *a, int64_t now)
{
    memset(g, 0, sizeof *g);
    g->a = a;
    g->now = now;
    bool passcode = !strcmp(a->factor, "passcode");
    enum ag_identity_throttle_scope acc =
        passcode ? AG_IDENTITY_SCOPE_PASSCODE : AG_IDENTITY_SCOPE_AUTHENTICATOR;
    g->policy[SLOT_ACCOUNT] = &ag_identity_throttle_policies[acc];
    g->scope[SLOT_ACCOUNT] = ag_identity_throttle_policies[acc].name;
    snprintf(g->key[SLOT_ACCOUNT], sizeof g->key[0], "%s:%s", a->account_id, a->factor);
    g->present[SLOT_ACCOUNT] = true;
    if (a->device_id && *a->device_id) {
        g->policy[SLOT_DEVICE] = &ag_identity_throttle_policies[AG_IDENTITY_SCOPE_DEVICE];
        snprintf(g->key[SLOT_DEVICE], sizeof g->key[0], "%s", a->device_id);
        g->present[SLOT_DEVICE] = true;
    }
    char ipk[AG_IDENTITY_THROTTLE_KEY_MAX], pfx[AG_IDENTITY_THROTTLE_KEY_MAX];
    if (a->ip && *a->ip && ag_identity_throttle_ip_keys(a->ip, ipk, pfx) == 0) {
        g->policy[SLOT_IP] = &ag_identity_throttle_policies[AG_IDENTITY_SCOPE_IP];
        g->policy[SLOT_PREFIX] = &ag_identity_throttle_policies[AG_IDENTITY_SCOPE_PREFIX];
        snprintf(g->key[SLOT_IP], sizeof g->key[0], "%s", ipk);
        snprintf(g->key[SLOT_PREFIX], sizeof g->key[0], "%s", pfx);
        g->present[SLOT_IP] = g->present[SLOT_PREFIX] = true;
    }
    for (int i = SLOT_DEVICE; i < NSLOTS; i++)
        if (g->present[i])
            g->scope[i] = g->policy[i]->name;
}

static int gate_load(struct ag_store_tx *tx, struct gate *g, int i, struct ag_err *err)
{
    return ag_store_ident_throttle_get_tx(tx, g->scope[i], g->key[i], &g->state[i], err);
}

static int gate_save(struct ag_store_tx *tx, struct gate *g, int i, uint32_t old,
                     struct ag_err *err)
{
    if (g->state[i].version == old)
        return 0;
    return ag_store_ident_throttle_put(tx, g->scope[i], g->key[i], old, &g->state[i], err);
}

static int gate_begin_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct gate *g = arg;
    struct ag_identity_throttle_slot slots[NSLOTS];
    int rc;
    for (int i = 0; i < NSLOTS; i++) {
        slots[i].policy = g->policy[i];
        slots[i].state = g->present[i] ? &g->state[i] : NULL;
        if (g->present[i] && (rc = gate_load(tx, g, i, err)))
            return rc;
    }
    g->verdict = ag_identity_throttle_decide(slots, NSLOTS, g->a->trusted, g->now,
                                             &g->retry_after, NULL);
    if (g->verdict != AG_IDENTITY_THROTTLE_ALLOW)
        return 0;
    /* Count the attempt as failed before the secret is checked. */
    uint32_t old = g->state[SLOT_ACCOUNT].version;
    ag_identity_throttle_fail(g->policy[SLOT_ACCOUNT], &g->state[SLOT_ACCOUNT], g->now);
    g->locked_now = g->state[SLOT_ACCOUNT].locked;
    return gate_save(tx, g, SLOT_ACCOUNT, old, err);
}

static int gate_end_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct gate *g = arg;
    int rc;
    for (int i = 0; i < NSLOTS; i++) {
        if (!g->present[i] || (g->success && i != SLOT_ACCOUNT) || (!g->success && i == SLOT_ACCOUNT))
            continue;
        if ((rc = gate_load(tx, g, i, err)))
            return rc;
        uint32_t old = g->state[i].version;
        if (g->success) {
            ag_identity_throttle_succeed(g->policy[i], &g->state[i]);
            if (g->locked_now) /* the right secret, on the attempt that hit the cap */
                ag_identity_throttle_clear(&g->state[i]);
        } else {
            ag_identity_throttle_fail(g->policy[i], &g->state[i], g->now);
        }
        if ((rc = gate_save(tx, g, i, old, err)))
            return rc;
    }
    return 0;
}

/* Run a throttle job, again when another node changed a state meanwhile. */
static int gate_exec(struct ag_identity *id, ag_store_job_fn fn, struct gate *g,
                     struct ag_err *err)
{
    int rc = AG_ECONFLICT;
    for (int i = 0; i < 5 && rc == AG_ECONFLICT; i++)
        rc = ag_store_exec(id->store, fn, g, err);
    return rc;
}

int ag_identity_attempt_begin(struct ag_identity *id, struct ag_identity_attempt *a, int64_t now,
                              int64_t *retry_after_ms, struct ag_err *err)
{
    if (retry_after_ms)
        *retry_after_ms = 0;
    a->trusted = false;
    a->locked_now = false;
    if (a->device_id && *a->device_id) {
        ag_store_ident_device_trusted(id->store, a->account_id, a->device_id, &a->trusted, NULL);
    }
    struct gate g;
    gate_init(&g, a, now);
    int rc = gate_exec(id, gate_begin_job, &g, err);
    if (rc)
        return rc;
    a->locked_now = g.locked_now;
    if (g.verdict == AG_IDENTITY_THROTTLE_DELAY) {
        if (retry_after_ms)
            *retry_after_ms = g.retry_after;
        return ag_err_set(err, AG_ERATE, "too_many_attempts", "",
                          "too many failed attempts; retry in %lld s",
                          (long long)((g.retry_after + 999) / 1000));
    }
    if (g.verdict == AG_IDENTITY_THROTTLE_STEP_UP)
        return ag_err_set(err, AG_EFORBIDDEN, "step_up_required", "",
                          "this %s is locked after too many failures: pass 2-step verification "
                          "or recover the account",
                          a->factor);
    return 0;
}

int ag_identity_attempt_end(struct ag_identity *id, const struct ag_identity_attempt *a,
                            bool success, int64_t now, struct ag_err *err)
{
    struct gate g;
    gate_init(&g, a, now);
    g.success = success;
    g.locked_now = a->locked_now;
    return gate_exec(id, gate_end_job, &g, err);
}

struct unlock_job {
    const char *account_id;
};

static int unlock_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct unlock_job *j = arg;
    static const char *const factors[] = {"password", "totp", "backup_code", "otp", "passcode"};
    for (size_t i = 0; i < AG_ARRAY_LEN(factors); i++) {
        bool pc = !strcmp(factors[i], "passcode");
        const char *scope =
            ag_identity_throttle_policies[pc ? AG_IDENTITY_SCOPE_PASSCODE
                                             : AG_IDENTITY_SCOPE_AUTHENTICATOR].name;
        char key[AG_STORE_ID_MAX + 24];
        snprintf(key, sizeof key, "%s:%s", j->account_id, factors[i]);
        struct ag_identity_throttle t;
        int rc = ag_store_ident_throttle_get_tx(tx, scope, key, &t, err);
        if (rc)
            return rc;
        if (t.version == 0 || (!t.failures && !t.locked))
            continue;
        uint32_t old = t.version;
        ag_identity_throttle_clear(&t);
        if ((rc = ag_store_ident_throttle_put(tx, scope, key, old, &t, err)))
            return rc;
    }
    return 0;
}

int ag_identity_unlock(struct ag_identity *id, const char *account_id, struct ag_err *err)
{
    struct unlock_job j = {account_id};
    return ag_store_exec(id->store, unlock_run, &j, err);
}

/* ---- passwords ---- */

struct pw_job {
    const char *account_id, *hash, *old_hash;
    int64_t now;
};

static int pw_set_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct pw_job *j = arg;
    return ag_store_ident_password_set(tx, j->account_id, j->hash, j->now, err);
}

static int pw_rehash_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct pw_job *j = arg;
    return ag_store_ident_password_rehash(tx, j->account_id, j->old_hash, j->hash, err);
}

int ag_identity_password_set(struct ag_identity *id, const char *account_id, const char *password,
                             const char *const *user_words,
                             struct ag_identity_password_strength *strength, int64_t now,
                             struct ag_err *err)
{
    int rc = ag_identity_password_check(&id->policy, password, user_words, strength, err);
    if (rc)
        return rc;
    char hash[AG_IDENTITY_PWHASH_STR_MAX];
    if ((rc = ag_identity_password_hash(&id->pwhash, password, hash, err)))
        return rc;
    struct pw_job j = {.account_id = account_id, .hash = hash, .now = now};
    return ag_store_exec(id->store, pw_set_run, &j, err);
}

int ag_identity_password_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                       const char *password, int64_t now,
                                       enum ag_identity_pw_result *result, bool *rehashed,
                                       int64_t *retry_after_ms, struct ag_err *err)
{
    *rehashed = false;
    *result = AG_IDENTITY_PW_WRONG;
    struct ag_ident_account_rec acc;
    int rc = ag_store_ident_account_get(id->store, a->account_id, &acc, err);
    if (rc == AG_ENOTFOUND || (rc == 0 && !acc.password_hash[0]))
        return ag_err_set(err, AG_ENOTFOUND, "no_password", "",
                          "accountguard holds no password for this account");
    if (rc)
        return rc;
    if ((rc = ag_identity_attempt_begin(id, a, now, retry_after_ms, err)))
        return rc;
    char fresh[AG_IDENTITY_PWHASH_STR_MAX];
    struct ag_err verr;
    rc = ag_identity_password_verify_upgrade(&id->pwhash, acc.password_hash, password, fresh,
                                             rehashed, &verr);
    bool ok = rc == 0;
    if (rc && rc != AG_EAUTH) {
        ag_identity_attempt_end(id, a, false, now, NULL);
        if (err)
            *err = verr;
        return rc;
    }
    if (ok && *rehashed) {
        struct pw_job j = {.account_id = a->account_id, .hash = fresh,
                           .old_hash = acc.password_hash, .now = now};
        if (ag_store_exec(id->store, pw_rehash_run, &j, NULL))
            *rehashed = false; /* changed meanwhile: the new password stands */
    }
    if ((rc = ag_identity_attempt_end(id, a, ok, now, err)))
        return rc;
    *result = !ok ? AG_IDENTITY_PW_WRONG
                  : acc.reset_required ? AG_IDENTITY_PW_RESET_REQUIRED : AG_IDENTITY_PW_OK;
    return 0;
}

/* ---- TOTP ---- */

struct totp_job {
    struct ag_ident_totp_rec rec;
    const char *account_id;
    int64_t last, next, now;
    bool confirm;
};

static int totp_put_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct totp_job *j = arg;
    return ag_store_ident_totp_put(tx, &j->rec, err);
}

static int totp_step_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct totp_job *j = arg;
    return ag_store_ident_totp_step(tx, j->rec.id, j->last, j->next, j->confirm, j->now, err);
}

int ag_identity_totp_enroll(struct ag_identity *id, const char *account_id, const char *label,
                            int64_t now, struct ag_identity_totp_enrollment *out,
                            struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    uint8_t secret[AG_IDENTITY_TOTP_SECRET_BYTES];
    struct ag_identity_totp_params p = AG_IDENTITY_TOTP_DEFAULT;
    struct totp_job j = {.now = now};
    int rc = ag_identity_totp_secret_new(secret);
    if (rc)
        return ag_err_set(err, rc, NULL, "", "no randomness");
    if ((rc = ag_identity_totp_uri(&p, id->issuer, label && *label ? label : account_id, secret,
                                   sizeof secret, out->uri, sizeof out->uri, err)) ||
        (rc = ag_identity_base32_encode(secret, sizeof secret, false, out->secret_b32,
                                        sizeof out->secret_b32)) ||
        (rc = ag_identity_secret_seal(id->key_seal, secret, sizeof secret, j.rec.sealed,
                                      sizeof j.rec.sealed, &j.rec.sealed_len, err))) {
        sodium_memzero(secret, sizeof secret);
        sodium_memzero(out, sizeof *out);
        return rc == AG_ELIMIT || rc == AG_EINVAL ? ag_err_set(err, rc, "invalid_field", "label",
                                                               "the label cannot be used in an otpauth URI")
                                                  : rc;
    }
    sodium_memzero(secret, sizeof secret);
    ag_id_random(j.rec.id, sizeof j.rec.id, "totp_", 20);
    snprintf(j.rec.account_id, sizeof j.rec.account_id, "%s", account_id);
    j.rec.alg = (int)p.alg;
    j.rec.digits = (int)p.digits;
    j.rec.period = (int)p.period;
    j.rec.last_used_step = -1;
    j.rec.created_at = now;
    if ((rc = ag_store_exec(id->store, totp_put_run, &j, err))) {
        sodium_memzero(out, sizeof *out);
        return rc;
    }
    snprintf(out->id, sizeof out->id, "%s", j.rec.id);
    return 0;
}

/* Open the sealed secret of <t> into <key>. */
static int totp_open(struct ag_identity *id, const struct ag_ident_totp_rec *t, uint8_t *key,
                     size_t cap, size_t *len, struct ag_identity_totp_params *p,
                     struct ag_err *err)
{
    p->alg = (enum ag_identity_otp_alg)t->alg;
    p->digits = (unsigned)t->digits;
    p->period = (unsigned)t->period;
    return ag_identity_secret_open(id->key_seal, t->sealed, t->sealed_len, key, cap, len, err);
}

static int totp_load(struct ag_identity *id, const char *account_id, const char *enrollment_id,
                     struct ag_ident_totp_rec *t, struct ag_err *err)
{
    int rc = ag_store_ident_totp_get(id->store, enrollment_id, t, err);
    if (rc == 0 && strcmp(t->account_id, account_id) != 0)
        rc = ag_err_set(err, AG_ENOTFOUND, "enrollment_not_found", "", "no such TOTP enrollment");
    return rc;
}

int ag_identity_totp_uri_of(struct ag_identity *id, const char *account_id,
                            const char *enrollment_id, char uri[AG_IDENTITY_TOTP_URI_MAX],
                            struct ag_err *err)
{
    struct ag_ident_totp_rec t;
    int rc = totp_load(id, account_id, enrollment_id, &t, err);
    if (rc)
        return rc;
    if (t.confirmed)
        return ag_err_set(err, AG_ESTATE, "enrollment_confirmed", "",
                          "the QR code is shown only until the enrollment is confirmed");
    uint8_t key[64];
    size_t len;
    struct ag_identity_totp_params p;
    if ((rc = totp_open(id, &t, key, sizeof key, &len, &p, err)))
        return rc;
    rc = ag_identity_totp_uri(&p, id->issuer, account_id, key, len, uri, AG_IDENTITY_TOTP_URI_MAX,
                              err);
    sodium_memzero(key, sizeof key);
    return rc;
}

/* Check <code> against enrollment <t> and record the step (CAS). */
static int totp_use(struct ag_identity *id, const struct ag_ident_totp_rec *t, const char *code,
                    bool confirm, int64_t now, struct ag_err *err)
{
    uint8_t key[64];
    size_t len;
    struct ag_identity_totp_params p;
    int rc = totp_open(id, t, key, sizeof key, &len, &p, err);
    if (rc)
        return rc;
    int64_t matched;
    rc = ag_identity_totp_verify(&p, key, len, code, now / 1000, AG_IDENTITY_TOTP_WINDOW,
                                 t->last_used_step, &matched, err);
    sodium_memzero(key, sizeof key);
    if (rc)
        return rc == AG_EINVAL ? ag_err_set(err, AG_EAUTH, "code_invalid", "code",
                                            "the code is not valid")
                               : rc;
    struct totp_job j = {.rec = *t, .last = t->last_used_step, .now = now, .confirm = confirm};
    if (ag_identity_totp_step_accept(t->last_used_step, matched, &j.next))
        return ag_err_set(err, AG_ESTATE, "code_reused", "code", "this code was already used");
    rc = ag_store_exec(id->store, totp_step_run, &j, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ESTATE, "code_reused", "code", "this code was already used");
    return rc;
}

int ag_identity_totp_confirm(struct ag_identity *id, struct ag_identity_attempt *a,
                             const char *enrollment_id, const char *code, int64_t now,
                             int64_t *retry_after_ms, struct ag_err *err)
{
    struct ag_ident_totp_rec t;
    int rc = totp_load(id, a->account_id, enrollment_id, &t, err);
    if (rc)
        return rc;
    if (t.confirmed)
        return ag_err_set(err, AG_ESTATE, "enrollment_confirmed", "",
                          "this enrollment is already confirmed");
    if ((rc = ag_identity_attempt_begin(id, a, now, retry_after_ms, err)))
        return rc;
    rc = totp_use(id, &t, code, true, now, err);
    int rc2 = ag_identity_attempt_end(id, a, rc == 0, now, NULL);
    return rc ? rc : rc2;
}

int ag_identity_totp_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                   const char *code, int64_t now, int64_t *retry_after_ms,
                                   struct ag_err *err)
{
    struct ag_ident_totp_rec t;
    int rc = ag_store_ident_totp_active(id->store, a->account_id, &t, err);
    if (rc)
        return rc;
    if ((rc = ag_identity_attempt_begin(id, a, now, retry_after_ms, err)))
        return rc;
    rc = totp_use(id, &t, code, false, now, err);
    int rc2 = ag_identity_attempt_end(id, a, rc == 0, now, NULL);
    return rc ? rc : rc2;
}

/* ---- backup codes ---- */

struct backup_job {
    const char *account_id;
    struct ag_identity_backup_code *codes;
    size_t n, idx;
    int64_t now;
};

static int backup_replace_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct backup_job *j = arg;
    return ag_store_ident_backup_replace(tx, j->account_id, j->codes, j->n, j->now, err);
}

static int backup_use_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct backup_job *j = arg;
    return ag_store_ident_backup_use(tx, j->account_id, j->idx, j->now, err);
}

int ag_identity_backup_new(struct ag_identity *id, const char *account_id, int64_t now,
                           char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX],
                           struct ag_err *err)
{
    struct ag_identity_backup_code stored[AG_IDENTITY_BACKUP_COUNT];
    int rc = ag_identity_backup_generate(id->key_backup, codes, stored);
    if (rc)
        return ag_err_set(err, rc, NULL, "", "no randomness");
    struct backup_job j = {account_id, stored, AG_IDENTITY_BACKUP_COUNT, 0, now};
    rc = ag_store_exec(id->store, backup_replace_run, &j, err);
    if (rc)
        sodium_memzero(codes, sizeof(char[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX]));
    return rc;
}

int ag_identity_backup_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                     const char *code, int64_t now, int *remaining,
                                     int64_t *retry_after_ms, struct ag_err *err)
{
    struct ag_identity_backup_code stored[AG_IDENTITY_BACKUP_COUNT];
    size_t n = 0;
    int rc = ag_store_ident_backup_load(id->store, a->account_id, stored, AG_IDENTITY_BACKUP_COUNT,
                                        &n, err);
    if (rc)
        return rc;
    if (ag_identity_backup_remaining(stored, n) == 0)
        return ag_err_set(err, AG_ENOTFOUND, "no_backup_codes", "",
                          "the account has no unused backup codes");
    if ((rc = ag_identity_attempt_begin(id, a, now, retry_after_ms, err)))
        return rc;
    size_t idx;
    rc = ag_identity_backup_verify(id->key_backup, code, stored, n, &idx, err);
    if (rc == 0) {
        struct backup_job j = {a->account_id, NULL, 0, idx, now};
        rc = ag_store_exec(id->store, backup_use_run, &j, err);
        if (rc == AG_ECONFLICT)
            rc = ag_err_set(err, AG_ESTATE, "code_used", "code", "this backup code was already used");
        else if (rc == 0)
            ag_identity_backup_mark_used(stored, n, idx, now);
    }
    int rc2 = ag_identity_attempt_end(id, a, rc == 0, now, NULL);
    if (remaining)
        *remaining = (int)ag_identity_backup_remaining(stored, n);
    return rc ? rc : rc2;
}

/* ---- contacts and one-time codes ---- */

struct contact_job {
    struct ag_ident_contact_rec c;
};

static int contact_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct contact_job *j = arg;
    return ag_store_ident_contact_put(tx, &j->c, err);
}

static bool address_valid(const char *channel, const char *a)
{
    size_t n = strlen(a);
    if (!strcmp(channel, "sms")) {
        if (n < 8 || n > 16 || a[0] != '+')
            return false;
        for (size_t i = 1; i < n; i++)
            if (a[i] < '0' || a[i] > '9')
                return false;
        return true;
    }
    const char *at = strchr(a, '@');
    if (n < 3 || n > 320 || !at || at == a || !at[1] || strchr(at + 1, '@'))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f)
            return false;
    return true;
}

int ag_identity_contact_set(struct ag_identity *id, const char *account_id, const char *channel,
                            const char *address, bool verified, int64_t now, struct ag_err *err)
{
    if (strcmp(channel, "sms") && strcmp(channel, "email"))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "channel",
                          "channel must be \"sms\" or \"email\"");
    if (!address_valid(channel, address))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "address",
                          !strcmp(channel, "sms") ? "a phone number in E.164 form (+ and 7..15 digits)"
                                                  : "an email address");
    struct contact_job j = {0};
    snprintf(j.c.account_id, sizeof j.c.account_id, "%s", account_id);
    snprintf(j.c.channel, sizeof j.c.channel, "%s", channel);
    snprintf(j.c.address, sizeof j.c.address, "%s", address);
    j.c.verified_at = verified ? now : 0;
    j.c.created_at = now;
    return ag_store_exec(id->store, contact_run, &j, err);
}

static void hint_of(const char *channel, const char *a, char *out, size_t n)
{
    size_t len = strlen(a);
    if (!strcmp(channel, "sms")) {
        if (len <= 6) {
            snprintf(out, n, "***");
            return;
        }
        snprintf(out, n, "%.3s******%s", a, a + len - 3);
        return;
    }
    const char *at = strchr(a, '@');
    snprintf(out, n, "%c***%s", a[0], at ? at : "");
}

struct otp_job {
    struct ag_identity *id;
    struct ag_ident_otp_rec rec;
    struct ag_identity_otp state, next;
    const char *lang;
    struct ag_identity_otp_message msg;
    bool mark_contact;
    int64_t now;
};

static int otp_send_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct otp_job *j = arg;
    int rc = ag_store_ident_otp_put(tx, &j->rec, &j->state, err);
    if (rc || !j->id->deliver)
        return rc;
    char key[80];
    snprintf(key, sizeof key, "otp:%s", j->rec.id);
    char kind[16];
    snprintf(kind, sizeof kind, "otp.%s", j->rec.channel);
    struct ag_identity_delivery d = {.account_id = j->rec.account_id,
                                     .channel = j->rec.channel,
                                     .destination = j->rec.destination,
                                     .kind = kind,
                                     .lang = j->msg.lang,
                                     .subject = j->msg.subject,
                                     .body = j->msg.body,
                                     .idempotency_key = key};
    return j->id->deliver(tx, &d, err);
}

int ag_identity_otp_send(struct ag_identity *id, const char *account_id, const char *channel,
                         const char *purpose, const char *ref_id, const char *lang, int64_t now,
                         struct ag_identity_otp_sent *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    bool sms = !strcmp(channel, "sms");
    if (!sms && strcmp(channel, "email"))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "channel",
                          "channel must be \"sms\" or \"email\"");
    struct ag_ident_contact_rec c;
    int rc = ag_store_ident_contact_get(id->store, account_id, channel, &c, NULL);
    if (rc == AG_ENOTFOUND || (rc == 0 && !c.verified_at && strcmp(purpose, "contact") != 0))
        return ag_err_set(err, AG_ESTATE, "no_verified_contact", "channel",
                          "the account has no verified %s address", sms ? "phone" : "email");
    if (rc)
        return ag_err_set(err, rc, NULL, "", "store error");
    int by_acc = 0, by_dest = 0;
    if ((rc = ag_store_ident_otp_count(id->store, account_id, c.address,
                                       now - id->otp_send_window_ms, &by_acc, &by_dest, err)))
        return rc;
    if (by_acc >= id->otp_sends_per_window || by_dest >= id->otp_sends_per_window)
        return ag_err_set(err, AG_ERATE, "too_many_codes", "",
                          "too many codes were sent to this %s; wait a few minutes",
                          by_acc >= id->otp_sends_per_window ? "account" : "address");
    struct otp_job *j = ag_calloc(1, sizeof *j);
    if (!j)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    j->id = id;
    char code[AG_IDENTITY_OTP_TEXT_MAX];
    if ((rc = ag_identity_otp_issue(id->key_otp, 6, 0, now, code, &j->state, err)) == 0)
        rc = ag_identity_otp_message(lang, sms ? AG_IDENTITY_OTP_SMS : AG_IDENTITY_OTP_EMAIL,
                                     id->issuer, code, j->state.expires_ms - now, NULL, &j->msg,
                                     err);
    sodium_memzero(code, sizeof code);
    if (!rc) {
        ag_id_random(j->rec.id, sizeof j->rec.id, "otp_", 20);
        snprintf(j->rec.account_id, sizeof j->rec.account_id, "%s", account_id);
        snprintf(j->rec.purpose, sizeof j->rec.purpose, "%s", purpose);
        snprintf(j->rec.ref_id, sizeof j->rec.ref_id, "%s", ref_id ? ref_id : "");
        snprintf(j->rec.channel, sizeof j->rec.channel, "%s", channel);
        snprintf(j->rec.destination, sizeof j->rec.destination, "%s", c.address);
        rc = ag_store_exec(id->store, otp_send_run, j, err);
    }
    if (!rc) {
        snprintf(out->id, sizeof out->id, "%s", j->rec.id);
        hint_of(channel, c.address, out->destination_hint, sizeof out->destination_hint);
        out->expires_ms = j->state.expires_ms;
    }
    sodium_memzero(j, sizeof *j);
    free(j);
    return rc;
}

static int otp_update_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct otp_job *j = arg;
    int rc = ag_store_ident_otp_update(tx, j->rec.id, j->state.version, &j->next, err);
    if (rc || !j->mark_contact)
        return rc;
    rc = ag_store_ident_contact_verify(tx, j->rec.account_id, j->rec.channel, j->rec.destination,
                                       j->now, err);
    return rc == AG_ECONFLICT ? 0 : rc; /* the address changed since: nothing to verify */
}

int ag_identity_otp_check(struct ag_identity *id, struct ag_identity_attempt *a,
                          const char *otp_id, const char *purpose, const char *ref_id,
                          const char *code, int64_t now, struct ag_ident_otp_rec *rec,
                          int64_t *retry_after_ms, struct ag_err *err)
{
    struct otp_job j = {.id = id, .now = now};
    int rc = ag_store_ident_otp_get(id->store, otp_id, &j.rec, &j.state, err);
    if (rc == 0 && (strcmp(j.rec.account_id, a->account_id) != 0 ||
                    (purpose && strcmp(j.rec.purpose, purpose) != 0) ||
                    (ref_id && strcmp(j.rec.ref_id, ref_id) != 0)))
        rc = ag_err_set(err, AG_ENOTFOUND, "code_not_found", "", "no such one-time code");
    if (rc)
        return rc;
    if ((rc = ag_identity_attempt_begin(id, a, now, retry_after_ms, err)))
        return rc;
    enum ag_identity_otp_result result = AG_IDENTITY_OTP_WRONG;
    for (int tries = 0; tries < 8; tries++) {
        rc = ag_identity_otp_verify(id->key_otp, &j.state, code, now, &j.next, &result, err);
        if (j.next.version == j.state.version)
            break; /* nothing to write (used, expired, exhausted) */
        j.mark_contact = result == AG_IDENTITY_OTP_OK && !strcmp(j.rec.purpose, "contact");
        struct ag_err e2;
        int wrc = ag_store_exec(id->store, otp_update_run, &j, &e2);
        if (wrc == 0)
            break;
        if (wrc != AG_ECONFLICT) {
            rc = wrc;
            if (err)
                *err = e2;
            break;
        }
        /* Someone else changed it: reload and verify again. */
        if ((wrc = ag_store_ident_otp_get(id->store, otp_id, &j.rec, &j.state, err))) {
            rc = wrc;
            break;
        }
    }
    int rc2 = ag_identity_attempt_end(id, a, rc == 0, now, NULL);
    if (rec)
        *rec = j.rec;
    return rc ? rc : rc2;
}

unsigned ag_identity_methods(struct ag_identity *id, const char *account_id)
{
    unsigned m = 0;
    struct ag_ident_totp_rec t;
    if (ag_store_ident_totp_active(id->store, account_id, &t, NULL) == 0)
        m |= AG_IDENT_METHOD_TOTP;
    struct ag_ident_contact_rec c;
    if (ag_store_ident_contact_get(id->store, account_id, "sms", &c, NULL) == 0 && c.verified_at)
        m |= AG_IDENT_METHOD_SMS;
    if (ag_store_ident_contact_get(id->store, account_id, "email", &c, NULL) == 0 && c.verified_at)
        m |= AG_IDENT_METHOD_EMAIL;
    struct ag_identity_backup_code codes[AG_IDENTITY_BACKUP_COUNT];
    size_t n = 0;
    if (ag_store_ident_backup_load(id->store, account_id, codes, AG_IDENTITY_BACKUP_COUNT, &n,
                                   NULL) == 0 &&
        ag_identity_backup_remaining(codes, n) > 0)
        m |= AG_IDENT_METHOD_BACKUP;
    return m;
}

static const struct {
    unsigned bit;
    const char *name;
} method_names[] = {
    {AG_IDENT_METHOD_TOTP, "totp"},
    {AG_IDENT_METHOD_SMS, "sms"},
    {AG_IDENT_METHOD_EMAIL, "email"},
    {AG_IDENT_METHOD_BACKUP, "backup_code"},
};

unsigned ag_identity_method_parse(const char *name)
{
    for (size_t i = 0; name && i < AG_ARRAY_LEN(method_names); i++)
        if (!strcmp(method_names[i].name, name))
            return method_names[i].bit;
    return 0;
}

const char *ag_identity_method_name(unsigned bit)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(method_names); i++)
        if (method_names[i].bit == bit)
            return method_names[i].name;
    return "";
}

/* ---- sessions ---- */

static int session_put_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_session_put(tx, arg, err);
}

int ag_identity_session_create(struct ag_identity *id, struct ag_ident_session_rec *rec,
                               int64_t ttl_ms, int64_t now, char token[AG_IDENTITY_TOKEN_MAX],
                               struct ag_err *err)
{
    int rc = ag_identity_token_new(AG_IDENTITY_SESSION_PREFIX, token, AG_IDENTITY_TOKEN_MAX, err);
    if (rc)
        return rc;
    ag_identity_token_hash(id->key_token, token, rec->token_hash);
    ag_id_random(rec->id, sizeof rec->id, "ses_", 20);
    rec->created_at = rec->last_seen = now;
    rec->expires_at = now + (ttl_ms > 0 ? ttl_ms : id->session_ttl_ms);
    rec->revoked_at = 0;
    if ((rc = ag_store_exec(id->store, session_put_run, rec, err)))
        sodium_memzero(token, AG_IDENTITY_TOKEN_MAX);
    return rc;
}

int ag_identity_session_check(struct ag_identity *id, const char *token, int64_t now,
                              struct ag_ident_session_rec *out, struct ag_err *err)
{
    if (!token || strlen(token) >= AG_IDENTITY_TOKEN_MAX)
        return ag_err_set(err, AG_EAUTH, "token_invalid", "token", "the token is not valid");
    uint8_t h[AG_IDENTITY_TOKEN_HASH_BYTES];
    ag_identity_token_hash(id->key_token, token, h);
    int rc = ag_store_ident_session_by_hash(id->store, h, out, NULL);
    if (rc == AG_ENOTFOUND)
        return ag_err_set(err, AG_EAUTH, "token_invalid", "token", "the token is not valid");
    if (rc)
        return ag_err_set(err, rc, NULL, "", "store error");
    if (out->revoked_at)
        return ag_err_set(err, AG_EAUTH, "session_revoked", "token", "the session was revoked");
    if (now >= out->expires_at)
        return ag_err_set(err, AG_EAUTH, "session_expired", "token", "the session expired");
    return 0;
}

/* ---- wallet passcode ---- */

struct pc_job {
    const char *account_id, *hash;
    int64_t now;
};

static int pc_set_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct pc_job *j = arg;
    return ag_store_ident_passcode_set(tx, j->account_id, j->hash, j->now, err);
}

int ag_identity_passcode_store(struct ag_identity *id, const char *account_id,
                               const char *passcode, int64_t now, struct ag_err *err)
{
    struct ag_identity_passcode_ctx pctx = {.hash = id->passcode};
    char hash[AG_IDENTITY_PWHASH_STR_MAX];
    int rc = ag_identity_passcode_set(&pctx, passcode, hash, err);
    if (rc)
        return rc;
    struct pc_job j = {account_id, hash, now};
    return ag_store_exec(id->store, pc_set_run, &j, err);
}

int ag_identity_passcode_check_attempt(struct ag_identity *id, struct ag_identity_attempt *a,
                                       const char *passcode, int64_t now,
                                       int64_t *retry_after_ms, struct ag_err *err)
{
    char stored[AG_STORE_HASH_STR];
    int rc = ag_store_ident_passcode_get(id->store, a->account_id, stored, err);
    if (rc)
        return rc;
    if ((rc = ag_identity_attempt_begin(id, a, now, retry_after_ms, err)))
        return rc == AG_EFORBIDDEN ? ag_err_set(err, AG_EFORBIDDEN, "passcode_locked", "",
                                                "the wallet passcode is locked: the owner "
                                                "clears it with 2-step verification")
                                   : rc;
    char fresh[AG_IDENTITY_PWHASH_STR_MAX];
    bool rehashed = false;
    rc = ag_identity_password_verify_upgrade(&id->passcode, stored, passcode, fresh, &rehashed,
                                             err);
    if (rc == AG_EAUTH)
        rc = ag_err_set(err, AG_EAUTH, "passcode_invalid", "passcode", "wrong passcode");
    if (rc == 0 && rehashed) {
        struct pc_job j = {a->account_id, fresh, now};
        ag_store_exec(id->store, pc_set_run, &j, NULL);
    }
    int rc2 = ag_identity_attempt_end(id, a, rc == 0, now, NULL);
    return rc ? rc : rc2;
}
