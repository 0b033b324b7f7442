/* Identity records (store/identity.h), written once against the SQL layer. */
#include "store/store_impl.h"
#include "identity/backup.h"
#include "identity/otp.h"
#include "identity/throttle.h"

#include <stdio.h>
#include <string.h>

#define PREP(db, q)                                                                              \
    struct ag_db_stmt *st = ag_db_stmt((db), &(q), err);                                         \
    if (!st)                                                                                     \
        return AG_EIO

static void copy_blob(struct ag_db_stmt *st, int i, void *dst, size_t n)
{
    size_t have = ag_db_col_bytes(st, i);
    memset(dst, 0, n);
    if (have)
        memcpy(dst, ag_db_col_blob(st, i), have < n ? have : n);
}

/* Step a single-row SELECT: 0 with the row read by <rd>, AG_ENOTFOUND with
 * <what> in the error, or the store error. */
static int one_row(struct ag_db_stmt *st, void (*rd)(struct ag_db_stmt *, void *), void *out,
                   const char *slug, const char *what, struct ag_err *err)
{
    return ag_db_one(st, rd, out, slug, "", "such", what, err); /* "no such <what>" */
}

/* Run an UPDATE that must change a row: AG_ECONFLICT (with <slug>) if none. */
static int run_changed(struct ag_db *db, struct ag_db_stmt *st, int code, const char *slug,
                       struct ag_err *err)
{
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(db) == 0)
        return ag_err_set(err, code, slug, "", "the record changed or does not exist");
    return 0;
}

/* ---- accounts ---- */

#define ACC_COLS "account_id, password_hash, password_set_at, reset_required, mfa_reverify, updated_at"
static struct ag_db_sql q_acc_get = {.sql = "SELECT " ACC_COLS " FROM ident_accounts WHERE account_id = ?1"};
static struct ag_db_sql q_pw_set = {
    .sql = "INSERT INTO ident_accounts(account_id, password_hash, password_set_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(account_id) DO UPDATE SET "
    "password_hash = excluded.password_hash, password_set_at = excluded.password_set_at, "
    "reset_required = 0, updated_at = excluded.updated_at"};
static struct ag_db_sql q_pw_rehash = {
    .sql = "UPDATE ident_accounts SET password_hash = ?3 WHERE account_id = ?1 AND password_hash = ?2"};
static struct ag_db_sql q_flags = {
    .sql = "INSERT INTO ident_accounts(account_id, reset_required, mfa_reverify, updated_at) "
    "VALUES (?1, MAX(CAST(?2 AS BIGINT), 0), MAX(CAST(?3 AS BIGINT), 0), CAST(?4 AS BIGINT)) "
    "ON CONFLICT(account_id) DO UPDATE SET "
    "reset_required = CASE WHEN CAST(?2 AS BIGINT) < 0 THEN ident_accounts.reset_required "
    "ELSE CAST(?2 AS BIGINT) END, "
    "mfa_reverify = CASE WHEN CAST(?3 AS BIGINT) < 0 THEN ident_accounts.mfa_reverify "
    "ELSE CAST(?3 AS BIGINT) END, updated_at = CAST(?4 AS BIGINT)",
    .pg_sql = "INSERT INTO ident_accounts(account_id, reset_required, mfa_reverify, updated_at) "
    "VALUES (?1, GREATEST(CAST(?2 AS BIGINT), 0), GREATEST(CAST(?3 AS BIGINT), 0), "
    "CAST(?4 AS BIGINT)) ON CONFLICT(account_id) DO UPDATE SET "
    "reset_required = CASE WHEN CAST(?2 AS BIGINT) < 0 THEN ident_accounts.reset_required "
    "ELSE CAST(?2 AS BIGINT) END, "
    "mfa_reverify = CASE WHEN CAST(?3 AS BIGINT) < 0 THEN ident_accounts.mfa_reverify "
    "ELSE CAST(?3 AS BIGINT) END, updated_at = CAST(?4 AS BIGINT)"};

static void read_acc(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_account_rec *a = p;
    memset(a, 0, sizeof *a);
    ag_db_col_copy(st, 0, a->account_id, sizeof a->account_id);
    ag_db_col_copy(st, 1, a->password_hash, sizeof a->password_hash);
    a->password_set_at = ag_db_col_int64(st, 2);
    a->reset_required = ag_db_col_int64(st, 3) != 0;
    a->mfa_reverify = ag_db_col_int64(st, 4) != 0;
    a->updated_at = ag_db_col_int64(st, 5);
}

static int acc_get(struct ag_db *db, const char *id, struct ag_ident_account_rec *out,
                   struct ag_err *err)
{
    PREP(db, q_acc_get);
    ag_db_bind_text(st, 1, id);
    return one_row(st, read_acc, out, "not_found", "identity record", err);
}

int ag_store_ident_account_get_uncached(struct ag_store *s, const char *account_id,
                                        struct ag_ident_account_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, acc_get(db, account_id, out, err));
}

int ag_store_ident_account_get(struct ag_store *s, const char *account_id,
                               struct ag_ident_account_rec *out, struct ag_err *err)
{
    struct ag_ident_cache *c = ag_store_ident_cache(s);
    if (c)
        return ag_ident_cache_account_get(s, c, account_id, out, err);
    return ag_store_ident_account_get_uncached(s, account_id, out, err);
}

int ag_store_ident_account_get_tx(struct ag_store_tx *tx, const char *account_id,
                                  struct ag_ident_account_rec *out, struct ag_err *err)
{
    return acc_get(tx->db, account_id, out, err);
}

int ag_store_ident_password_set(struct ag_store_tx *tx, const char *account_id, const char *hash,
                                int64_t now, struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    PREP(tx->db, q_pw_set);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, hash);
    ag_db_bind_int64(st, 3, now);
    return ag_db_run(st, err);
}

int ag_store_ident_password_rehash(struct ag_store_tx *tx, const char *account_id,
                                   const char *old_hash, const char *new_hash, struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    PREP(tx->db, q_pw_rehash);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, old_hash);
    ag_db_bind_text(st, 3, new_hash);
    return run_changed(tx->db, st, AG_ECONFLICT, "password_changed", err);
}

int ag_store_ident_flags_set(struct ag_store_tx *tx, const char *account_id, int reset_required,
                             int mfa_reverify, int64_t now, struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    PREP(tx->db, q_flags);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_int64(st, 2, reset_required);
    ag_db_bind_int64(st, 3, mfa_reverify);
    ag_db_bind_int64(st, 4, now);
    return ag_db_run(st, err);
}

/* ---- TOTP ---- */

#define TOTP_COLS                                                                                \
    "id, account_id, sealed, alg, digits, period, confirmed, last_used_step, created_at, "       \
    "confirmed_at"
static struct ag_db_sql q_totp_put = {
    .sql = "INSERT INTO ident_totp(" TOTP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"};
static struct ag_db_sql q_totp_get = {.sql = "SELECT " TOTP_COLS " FROM ident_totp WHERE id = ?1"};
static struct ag_db_sql q_totp_active = {
    .sql = "SELECT " TOTP_COLS " FROM ident_totp WHERE account_id = ?1 AND confirmed = 1 "
    "ORDER BY confirmed_at DESC LIMIT 1"};
static struct ag_db_sql q_totp_step = {
    .sql = "UPDATE ident_totp SET last_used_step = ?3, "
    "confirmed = CASE WHEN ?4 = 1 THEN 1 ELSE confirmed END, "
    "confirmed_at = CASE WHEN ?4 = 1 THEN ?5 ELSE confirmed_at END "
    "WHERE id = ?1 AND last_used_step = ?2 AND (?4 = 1 OR confirmed = 1)"};
static struct ag_db_sql q_totp_drop_others = {
    .sql = "DELETE FROM ident_totp WHERE account_id = (SELECT account_id FROM ident_totp WHERE id = ?1) "
    "AND id <> ?1"};
static struct ag_db_sql q_totp_delete = {
    .sql = "DELETE FROM ident_totp WHERE account_id = ?1 AND id = ?2"};

static void read_totp(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_totp_rec *t = p;
    memset(t, 0, sizeof *t);
    ag_db_col_copy(st, 0, t->id, sizeof t->id);
    ag_db_col_copy(st, 1, t->account_id, sizeof t->account_id);
    t->sealed_len = ag_db_col_bytes(st, 2);
    if (t->sealed_len > sizeof t->sealed)
        t->sealed_len = sizeof t->sealed;
    copy_blob(st, 2, t->sealed, t->sealed_len);
    t->alg = (int)ag_db_col_int64(st, 3);
    t->digits = (int)ag_db_col_int64(st, 4);
    t->period = (int)ag_db_col_int64(st, 5);
    t->confirmed = ag_db_col_int64(st, 6) != 0;
    t->last_used_step = ag_db_col_int64(st, 7);
    t->created_at = ag_db_col_int64(st, 8);
    t->confirmed_at = ag_db_col_int64(st, 9);
}

int ag_store_ident_totp_put(struct ag_store_tx *tx, const struct ag_ident_totp_rec *t,
                            struct ag_err *err)
{
    PREP(tx->db, q_totp_put);
    ag_db_bind_text(st, 1, t->id);
    ag_db_bind_text(st, 2, t->account_id);
    ag_db_bind_blob(st, 3, t->sealed, t->sealed_len);
    ag_db_bind_int64(st, 4, t->alg);
    ag_db_bind_int64(st, 5, t->digits);
    ag_db_bind_int64(st, 6, t->period);
    ag_db_bind_int64(st, 7, t->confirmed);
    ag_db_bind_int64(st, 8, t->last_used_step);
    ag_db_bind_int64(st, 9, t->created_at);
    ag_db_bind_int64(st, 10, t->confirmed_at);
    return ag_db_run(st, err);
}

static int totp_get(struct ag_db *db, const char *id, struct ag_ident_totp_rec *out,
                    struct ag_err *err)
{
    PREP(db, q_totp_get);
    ag_db_bind_text(st, 1, id);
    return one_row(st, read_totp, out, "enrollment_not_found", "TOTP enrollment", err);
}

int ag_store_ident_totp_get(struct ag_store *s, const char *id, struct ag_ident_totp_rec *out,
                            struct ag_err *err)
{
    AG_STORE_READ(s, totp_get(db, id, out, err));
}

static int totp_active(struct ag_db *db, const char *account_id, struct ag_ident_totp_rec *out,
                       struct ag_err *err)
{
    PREP(db, q_totp_active);
    ag_db_bind_text(st, 1, account_id);
    return one_row(st, read_totp, out, "totp_not_enrolled", "TOTP enrollment", err);
}

int ag_store_ident_totp_active(struct ag_store *s, const char *account_id,
                               struct ag_ident_totp_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, totp_active(db, account_id, out, err));
}

int ag_store_ident_totp_step(struct ag_store_tx *tx, const char *id, int64_t last, int64_t next,
                             bool confirm, int64_t now, struct ag_err *err)
{
    int rc;
    {
        PREP(tx->db, q_totp_step);
        ag_db_bind_text(st, 1, id);
        ag_db_bind_int64(st, 2, last);
        ag_db_bind_int64(st, 3, next);
        ag_db_bind_int64(st, 4, confirm);
        ag_db_bind_int64(st, 5, now);
        if ((rc = run_changed(tx->db, st, AG_ECONFLICT, "code_reused", err)))
            return rc;
    }
    if (!confirm)
        return 0;
    PREP(tx->db, q_totp_drop_others);
    ag_db_bind_text(st, 1, id);
    return ag_db_run(st, err);
}

int ag_store_ident_totp_delete(struct ag_store_tx *tx, const char *account_id, const char *id,
                               struct ag_err *err)
{
    PREP(tx->db, q_totp_delete);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, id);
    return run_changed(tx->db, st, AG_ENOTFOUND, "enrollment_not_found", err);
}

/* ---- backup codes ---- */

static struct ag_db_sql q_backup_clear = {.sql = "DELETE FROM ident_backup_codes WHERE account_id = ?1"};
static struct ag_db_sql q_backup_put = {
    .sql = "INSERT INTO ident_backup_codes(account_id, idx, hash, used_ms, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)"};
static struct ag_db_sql q_backup_load = {
    .sql = "SELECT idx, hash, used_ms FROM ident_backup_codes WHERE account_id = ?1 ORDER BY idx"};
static struct ag_db_sql q_backup_use = {
    .sql = "UPDATE ident_backup_codes SET used_ms = ?3 WHERE account_id = ?1 AND idx = ?2 "
    "AND used_ms = 0"};

int ag_store_ident_backup_replace(struct ag_store_tx *tx, const char *account_id,
                                  const struct ag_identity_backup_code *codes, size_t n,
                                  int64_t now, struct ag_err *err)
{
    int rc;
    {
        PREP(tx->db, q_backup_clear);
        ag_db_bind_text(st, 1, account_id);
        if ((rc = ag_db_run(st, err)))
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        PREP(tx->db, q_backup_put);
        ag_db_bind_text(st, 1, account_id);
        ag_db_bind_int64(st, 2, (int64_t)i);
        ag_db_bind_blob(st, 3, codes[i].hash, sizeof codes[i].hash);
        ag_db_bind_int64(st, 4, codes[i].used_ms);
        ag_db_bind_int64(st, 5, now);
        if ((rc = ag_db_run(st, err)))
            return rc;
    }
    return 0;
}

static int backup_load(struct ag_db *db, const char *account_id,
                       struct ag_identity_backup_code *out, size_t cap, size_t *n,
                       struct ag_err *err)
{
    PREP(db, q_backup_load);
    ag_db_bind_text(st, 1, account_id);
    int rc;
    *n = 0;
    while ((rc = ag_db_step(st, err)) == AG_DB_ROW) {
        int64_t idx = ag_db_col_int64(st, 0);
        if (idx < 0 || (size_t)idx >= cap)
            continue;
        copy_blob(st, 1, out[idx].hash, sizeof out[idx].hash);
        out[idx].used_ms = ag_db_col_int64(st, 2);
        if ((size_t)idx + 1 > *n)
            *n = (size_t)idx + 1;
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_ident_backup_load(struct ag_store *s, const char *account_id,
                               struct ag_identity_backup_code *out, size_t cap, size_t *n,
                               struct ag_err *err)
{
    AG_STORE_READ(s, backup_load(db, account_id, out, cap, n, err));
}

int ag_store_ident_backup_use(struct ag_store_tx *tx, const char *account_id, size_t idx,
                              int64_t now, struct ag_err *err)
{
    PREP(tx->db, q_backup_use);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_int64(st, 2, (int64_t)idx);
    ag_db_bind_int64(st, 3, now);
    return run_changed(tx->db, st, AG_ECONFLICT, "code_used", err);
}

/* ---- contacts ---- */

static struct ag_db_sql q_contact_put = {
    .sql = "INSERT INTO ident_contacts(account_id, channel, address, verified_at, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(account_id, channel) DO UPDATE SET "
    "address = excluded.address, verified_at = excluded.verified_at, "
    "created_at = excluded.created_at"};
static struct ag_db_sql q_contact_verify = {
    .sql = "UPDATE ident_contacts SET verified_at = ?4 WHERE account_id = ?1 AND channel = ?2 "
    "AND address = ?3"};
static struct ag_db_sql q_contact_get = {
    .sql = "SELECT account_id, channel, address, verified_at, created_at FROM ident_contacts "
    "WHERE account_id = ?1 AND channel = ?2"};

static void read_contact(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_contact_rec *c = p;
    memset(c, 0, sizeof *c);
    ag_db_col_copy(st, 0, c->account_id, sizeof c->account_id);
    ag_db_col_copy(st, 1, c->channel, sizeof c->channel);
    ag_db_col_copy(st, 2, c->address, sizeof c->address);
    c->verified_at = ag_db_col_int64(st, 3);
    c->created_at = ag_db_col_int64(st, 4);
}

int ag_store_ident_contact_put(struct ag_store_tx *tx, const struct ag_ident_contact_rec *c,
                               struct ag_err *err)
{
    PREP(tx->db, q_contact_put);
    ag_db_bind_text(st, 1, c->account_id);
    ag_db_bind_text(st, 2, c->channel);
    ag_db_bind_text(st, 3, c->address);
    ag_db_bind_int64(st, 4, c->verified_at);
    ag_db_bind_int64(st, 5, c->created_at);
    return ag_db_run(st, err);
}

int ag_store_ident_contact_verify(struct ag_store_tx *tx, const char *account_id,
                                  const char *channel, const char *address, int64_t now,
                                  struct ag_err *err)
{
    PREP(tx->db, q_contact_verify);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, channel);
    ag_db_bind_text(st, 3, address);
    ag_db_bind_int64(st, 4, now);
    return run_changed(tx->db, st, AG_ECONFLICT, "contact_changed", err);
}

static int contact_get(struct ag_db *db, const char *account_id, const char *channel,
                       struct ag_ident_contact_rec *out, struct ag_err *err)
{
    PREP(db, q_contact_get);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, channel);
    return one_row(st, read_contact, out, "contact_not_found", "contact", err);
}

int ag_store_ident_contact_get(struct ag_store *s, const char *account_id, const char *channel,
                               struct ag_ident_contact_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, contact_get(db, account_id, channel, out, err));
}

int ag_store_ident_contact_get_tx(struct ag_store_tx *tx, const char *account_id,
                                  const char *channel, struct ag_ident_contact_rec *out,
                                  struct ag_err *err)
{
    return contact_get(tx->db, account_id, channel, out, err);
}

/* ---- one-time codes ---- */

#define OTP_COLS                                                                                 \
    "id, account_id, purpose, ref_id, channel, destination, hash, salt, created_ms, expires_ms, " \
    "tries, max_tries, version, digits, used"
static struct ag_db_sql q_otp_put = {
    .sql = "INSERT INTO ident_otp(" OTP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15)"};
static struct ag_db_sql q_otp_get = {.sql = "SELECT " OTP_COLS " FROM ident_otp WHERE id = ?1"};
static struct ag_db_sql q_otp_update = {
    .sql = "UPDATE ident_otp SET tries = ?3, version = ?4, used = ?5 WHERE id = ?1 AND version = ?2"};
static struct ag_db_sql q_otp_count_acc = {
    .sql = "SELECT COUNT(*) FROM ident_otp WHERE account_id = ?1 AND created_ms >= ?2"};
static struct ag_db_sql q_otp_count_dest = {
    .sql = "SELECT COUNT(*) FROM ident_otp WHERE destination = ?1 AND created_ms >= ?2"};

struct otp_out {
    struct ag_ident_otp_rec *r;
    struct ag_identity_otp *s;
};

static void read_otp(struct ag_db_stmt *st, void *p)
{
    struct otp_out *o = p;
    memset(o->r, 0, sizeof *o->r);
    memset(o->s, 0, sizeof *o->s);
    ag_db_col_copy(st, 0, o->r->id, sizeof o->r->id);
    ag_db_col_copy(st, 1, o->r->account_id, sizeof o->r->account_id);
    ag_db_col_copy(st, 2, o->r->purpose, sizeof o->r->purpose);
    ag_db_col_copy(st, 3, o->r->ref_id, sizeof o->r->ref_id);
    ag_db_col_copy(st, 4, o->r->channel, sizeof o->r->channel);
    ag_db_col_copy(st, 5, o->r->destination, sizeof o->r->destination);
    copy_blob(st, 6, o->s->hash, sizeof o->s->hash);
    copy_blob(st, 7, o->s->salt, sizeof o->s->salt);
    o->s->created_ms = ag_db_col_int64(st, 8);
    o->s->expires_ms = ag_db_col_int64(st, 9);
    o->s->tries = (uint32_t)ag_db_col_int64(st, 10);
    o->s->max_tries = (uint32_t)ag_db_col_int64(st, 11);
    o->s->version = (uint32_t)ag_db_col_int64(st, 12);
    o->s->digits = (uint8_t)ag_db_col_int64(st, 13);
    o->s->used = ag_db_col_int64(st, 14) != 0;
}

int ag_store_ident_otp_put(struct ag_store_tx *tx, const struct ag_ident_otp_rec *r,
                           const struct ag_identity_otp *s, struct ag_err *err)
{
    PREP(tx->db, q_otp_put);
    ag_db_bind_text(st, 1, r->id);
    ag_db_bind_text(st, 2, r->account_id);
    ag_db_bind_text(st, 3, r->purpose);
    ag_db_bind_text(st, 4, r->ref_id);
    ag_db_bind_text(st, 5, r->channel);
    ag_db_bind_text(st, 6, r->destination);
    ag_db_bind_blob(st, 7, s->hash, sizeof s->hash);
    ag_db_bind_blob(st, 8, s->salt, sizeof s->salt);
    ag_db_bind_int64(st, 9, s->created_ms);
    ag_db_bind_int64(st, 10, s->expires_ms);
    ag_db_bind_int64(st, 11, s->tries);
    ag_db_bind_int64(st, 12, s->max_tries);
    ag_db_bind_int64(st, 13, s->version);
    ag_db_bind_int64(st, 14, s->digits);
    ag_db_bind_int64(st, 15, s->used);
    return ag_db_run(st, err);
}

static int otp_get(struct ag_db *db, const char *id, struct otp_out *o, struct ag_err *err)
{
    PREP(db, q_otp_get);
    ag_db_bind_text(st, 1, id);
    return one_row(st, read_otp, o, "code_not_found", "one-time code", err);
}

int ag_store_ident_otp_get(struct ag_store *s, const char *id, struct ag_ident_otp_rec *out,
                           struct ag_identity_otp *state, struct ag_err *err)
{
    struct otp_out o = {out, state};
    AG_STORE_READ(s, otp_get(db, id, &o, err));
}

int ag_store_ident_otp_update(struct ag_store_tx *tx, const char *id, uint32_t cur_version,
                              const struct ag_identity_otp *next, struct ag_err *err)
{
    PREP(tx->db, q_otp_update);
    ag_db_bind_text(st, 1, id);
    ag_db_bind_int64(st, 2, cur_version);
    ag_db_bind_int64(st, 3, next->tries);
    ag_db_bind_int64(st, 4, next->version);
    ag_db_bind_int64(st, 5, next->used);
    return run_changed(tx->db, st, AG_ECONFLICT, "code_changed", err);
}

static struct ag_db_sql q_otp_latest = {
    .sql = "SELECT " OTP_COLS " FROM ident_otp WHERE purpose = ?1 AND ref_id = ?2 AND channel = ?3 "
    "ORDER BY created_ms DESC, id LIMIT 1"};

static int otp_latest(struct ag_db *db, const char *purpose, const char *ref_id,
                      const char *channel, struct otp_out *o, struct ag_err *err)
{
    PREP(db, q_otp_latest);
    ag_db_bind_text(st, 1, purpose);
    ag_db_bind_text(st, 2, ref_id);
    ag_db_bind_text(st, 3, channel);
    return one_row(st, read_otp, o, "code_not_found", "one-time code (send one first)", err);
}

int ag_store_ident_otp_latest(struct ag_store *s, const char *purpose, const char *ref_id,
                              const char *channel, struct ag_ident_otp_rec *out,
                              struct ag_identity_otp *state, struct ag_err *err)
{
    struct otp_out o = {out, state};
    AG_STORE_READ(s, otp_latest(db, purpose, ref_id, channel, &o, err));
}

static int count1(struct ag_db *db, struct ag_db_sql *q, const char *key, int64_t since, int *out,
                  struct ag_err *err)
{
    PREP(db, *q);
    ag_db_bind_text(st, 1, key);
    ag_db_bind_int64(st, 2, since);
    int rc = ag_db_step(st, err);
    *out = rc == AG_DB_ROW ? (int)ag_db_col_int64(st, 0) : 0;
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int otp_count(struct ag_db *db, const char *account_id, const char *destination,
                     int64_t since, int *by_account, int *by_destination, struct ag_err *err)
{
    int rc = count1(db, &q_otp_count_acc, account_id, since, by_account, err);
    return rc ? rc : count1(db, &q_otp_count_dest, destination, since, by_destination, err);
}

int ag_store_ident_otp_count(struct ag_store *s, const char *account_id, const char *destination,
                             int64_t since, int *by_account, int *by_destination,
                             struct ag_err *err)
{
    AG_STORE_READ(s, otp_count(db, account_id, destination, since, by_account, by_destination, err));
}

/* ---- challenges ---- */

#define CH_COLS                                                                                  \
    "id, account_id, event_id, reason, methods, device_id, ip, user_agent, state, attempts, "    \
    "passed_method, created_at, expires_at, passed_at"
static struct ag_db_sql q_ch_put = {
    .sql = "INSERT INTO ident_challenges(" CH_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14)"};
static struct ag_db_sql q_ch_get = {.sql = "SELECT " CH_COLS " FROM ident_challenges WHERE id = ?1"};
static struct ag_db_sql q_ch_pass = {
    .sql = "UPDATE ident_challenges SET state = 'passed', passed_method = ?2, passed_at = ?3 "
    "WHERE id = ?1 AND state = 'pending' AND expires_at > ?3"};
static struct ag_db_sql q_ch_fail = {
    .sql = "UPDATE ident_challenges SET attempts = attempts + 1, "
    "state = CASE WHEN attempts + 1 >= ?2 THEN 'failed' ELSE state END "
    "WHERE id = ?1 AND state = 'pending' AND expires_at > ?3"};

static void read_ch(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_challenge_rec *c = p;
    memset(c, 0, sizeof *c);
    ag_db_col_copy(st, 0, c->id, sizeof c->id);
    ag_db_col_copy(st, 1, c->account_id, sizeof c->account_id);
    ag_db_col_copy(st, 2, c->event_id, sizeof c->event_id);
    ag_db_col_copy(st, 3, c->reason, sizeof c->reason);
    c->methods = (unsigned)ag_db_col_int64(st, 4);
    ag_db_col_copy(st, 5, c->device_id, sizeof c->device_id);
    ag_db_col_copy(st, 6, c->ip, sizeof c->ip);
    ag_db_col_copy(st, 7, c->user_agent, sizeof c->user_agent);
    ag_db_col_copy(st, 8, c->state, sizeof c->state);
    c->attempts = (int)ag_db_col_int64(st, 9);
    ag_db_col_copy(st, 10, c->passed_method, sizeof c->passed_method);
    c->created_at = ag_db_col_int64(st, 11);
    c->expires_at = ag_db_col_int64(st, 12);
    c->passed_at = ag_db_col_int64(st, 13);
}

int ag_store_ident_challenge_put(struct ag_store_tx *tx, const struct ag_ident_challenge_rec *c,
                                 struct ag_err *err)
{
    PREP(tx->db, q_ch_put);
    ag_db_bind_text(st, 1, c->id);
    ag_db_bind_text(st, 2, c->account_id);
    ag_db_bind_text(st, 3, c->event_id);
    ag_db_bind_text(st, 4, c->reason);
    ag_db_bind_int64(st, 5, c->methods);
    ag_db_bind_text(st, 6, c->device_id);
    ag_db_bind_text(st, 7, c->ip);
    ag_db_bind_text(st, 8, c->user_agent);
    ag_db_bind_text(st, 9, c->state[0] ? c->state : "pending");
    ag_db_bind_int64(st, 10, c->attempts);
    ag_db_bind_text(st, 11, c->passed_method);
    ag_db_bind_int64(st, 12, c->created_at);
    ag_db_bind_int64(st, 13, c->expires_at);
    ag_db_bind_int64(st, 14, c->passed_at);
    return ag_db_run(st, err);
}

static int ch_get(struct ag_db *db, const char *id, struct ag_ident_challenge_rec *out,
                  struct ag_err *err)
{
    PREP(db, q_ch_get);
    ag_db_bind_text(st, 1, id);
    return one_row(st, read_ch, out, "challenge_not_found", "challenge", err);
}

int ag_store_ident_challenge_get(struct ag_store *s, const char *id,
                                 struct ag_ident_challenge_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, ch_get(db, id, out, err));
}

int ag_store_ident_challenge_attempt(struct ag_store_tx *tx, const char *id, bool passed,
                                     const char *method, int max_attempts, int64_t now,
                                     struct ag_ident_challenge_rec *out, struct ag_err *err)
{
    int rc;
    {
        struct ag_db_sql *q = passed ? &q_ch_pass : &q_ch_fail;
        PREP(tx->db, *q);
        ag_db_bind_text(st, 1, id);
        if (passed)
            ag_db_bind_text(st, 2, method);
        else
            ag_db_bind_int64(st, 2, max_attempts);
        ag_db_bind_int64(st, 3, now);
        rc = run_changed(tx->db, st, AG_ESTATE, "challenge_closed", err);
    }
    int rc2 = ch_get(tx->db, id, out, err);
    return rc ? rc : rc2;
}

/* ---- devices ---- */

#define DEV_COLS "account_id, device_id, first_seen, last_seen, ip, country, user_agent, trusted, trusted_at"
static struct ag_db_sql q_dev_seen = {
    .sql = "INSERT INTO ident_devices(" DEV_COLS ") VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, 0, 0) "
    "ON CONFLICT(account_id, device_id) DO UPDATE SET last_seen = excluded.last_seen, "
    "ip = CASE WHEN excluded.ip = '' THEN ident_devices.ip ELSE excluded.ip END, "
    "country = CASE WHEN excluded.country = '' THEN ident_devices.country ELSE excluded.country END, "
    "user_agent = CASE WHEN excluded.user_agent = '' THEN ident_devices.user_agent "
    "ELSE excluded.user_agent END "
    /* most logins come from a device as it was: leave its row (and page) alone */
    "WHERE excluded.last_seen >= ident_devices.last_seen + 60000 "
    "OR (excluded.ip <> '' AND excluded.ip <> ident_devices.ip) "
    "OR (excluded.country <> '' AND excluded.country <> ident_devices.country) "
    "OR (excluded.user_agent <> '' AND excluded.user_agent <> ident_devices.user_agent)"};
static struct ag_db_sql q_dev_trust = {
    .sql = "INSERT INTO ident_devices(" DEV_COLS ") VALUES (?1, ?2, CAST(?4 AS BIGINT), "
    "CAST(?4 AS BIGINT), '', '', '', CAST(?3 AS BIGINT), "
    "CASE WHEN CAST(?3 AS BIGINT) = 1 THEN CAST(?4 AS BIGINT) ELSE 0 END) "
    "ON CONFLICT(account_id, device_id) DO UPDATE SET trusted = CAST(?3 AS BIGINT), "
    "trusted_at = CASE WHEN CAST(?3 AS BIGINT) = 1 THEN CAST(?4 AS BIGINT) ELSE 0 END"};
static struct ag_db_sql q_dev_get = {
    .sql = "SELECT " DEV_COLS " FROM ident_devices WHERE account_id = ?1 AND device_id = ?2"};
static struct ag_db_sql q_dev_list = {
    .sql = "SELECT " DEV_COLS " FROM ident_devices WHERE account_id = ?1 ORDER BY last_seen DESC, device_id"};
static struct ag_db_sql q_dev_delete = {
    .sql = "DELETE FROM ident_devices WHERE account_id = ?1 AND device_id = ?2"};
static struct ag_db_sql q_dev_distrust = {
    .sql = "UPDATE ident_devices SET trusted = 0, trusted_at = 0 WHERE account_id = ?1 AND trusted = 1"};
static struct ag_db_sql q_dev_delete_untrusted = {
    .sql = "DELETE FROM ident_devices WHERE account_id = ?1 AND trusted = 0"};

static void read_dev(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_device_rec *d = p;
    memset(d, 0, sizeof *d);
    ag_db_col_copy(st, 0, d->account_id, sizeof d->account_id);
    ag_db_col_copy(st, 1, d->device_id, sizeof d->device_id);
    d->first_seen = ag_db_col_int64(st, 2);
    d->last_seen = ag_db_col_int64(st, 3);
    ag_db_col_copy(st, 4, d->ip, sizeof d->ip);
    ag_db_col_copy(st, 5, d->country, sizeof d->country);
    ag_db_col_copy(st, 6, d->user_agent, sizeof d->user_agent);
    d->trusted = ag_db_col_int64(st, 7) != 0;
    d->trusted_at = ag_db_col_int64(st, 8);
}

int ag_store_ident_device_seen(struct ag_store_tx *tx, const struct ag_ident_device_rec *d,
                               struct ag_err *err)
{
    PREP(tx->db, q_dev_seen);
    ag_db_bind_text(st, 1, d->account_id);
    ag_db_bind_text(st, 2, d->device_id);
    ag_db_bind_int64(st, 3, d->last_seen);
    ag_db_bind_text(st, 4, d->ip);
    ag_db_bind_text(st, 5, d->country);
    ag_db_bind_text(st, 6, d->user_agent);
    return ag_db_run(st, err);
}

int ag_store_ident_device_trust(struct ag_store_tx *tx, const char *account_id,
                                const char *device_id, bool trusted, int64_t now,
                                struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    PREP(tx->db, q_dev_trust);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, device_id);
    ag_db_bind_int64(st, 3, trusted);
    ag_db_bind_int64(st, 4, now);
    return ag_db_run(st, err);
}

static int dev_get(struct ag_db *db, const char *account_id, const char *device_id,
                   struct ag_ident_device_rec *out, struct ag_err *err)
{
    PREP(db, q_dev_get);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, device_id);
    return one_row(st, read_dev, out, "device_not_found", "device", err);
}

int ag_store_ident_device_get(struct ag_store *s, const char *account_id, const char *device_id,
                              struct ag_ident_device_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, dev_get(db, account_id, device_id, out, err));
}

int ag_store_ident_device_trusted(struct ag_store *s, const char *account_id,
                                  const char *device_id, bool *trusted, struct ag_err *err)
{
    struct ag_ident_cache *c = ag_store_ident_cache(s);
    if (c)
        return ag_ident_cache_device_trusted(s, c, account_id, device_id, trusted, err);
    struct ag_ident_device_rec d;
    int rc = ag_store_ident_device_get(s, account_id, device_id, &d, err);
    *trusted = !rc && d.trusted;
    return rc;
}

AG_DB_EACH_RECORD(dev, struct ag_ident_device_rec, read_dev)

static int dev_list(struct ag_db *db, const char *account_id,
                    int (*cb)(void *, const struct ag_ident_device_rec *), void *arg,
                    struct ag_err *err)
{
    PREP(db, q_dev_list);
    ag_db_bind_text(st, 1, account_id);
    struct each_dev e = {cb, arg};
    return ag_db_each(st, each_dev_row, &e, err);
}

int ag_store_ident_device_list(struct ag_store *s, const char *account_id,
                               int (*cb)(void *, const struct ag_ident_device_rec *), void *arg,
                               struct ag_err *err)
{
    AG_STORE_READ(s, dev_list(db, account_id, cb, arg, err));
}

int ag_store_ident_device_list_tx(struct ag_store_tx *tx, const char *account_id,
                                  int (*cb)(void *, const struct ag_ident_device_rec *),
                                  void *arg, struct ag_err *err)
{
    return dev_list(tx->db, account_id, cb, arg, err);
}

int ag_store_ident_device_delete(struct ag_store_tx *tx, const char *account_id,
                                 const char *device_id, struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    PREP(tx->db, q_dev_delete);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, device_id);
    return run_changed(tx->db, st, AG_ENOTFOUND, "device_not_found", err);
}

static int run_count(struct ag_db *db, struct ag_db_sql *q, const char *account_id, int *n,
                     struct ag_err *err)
{
    PREP(db, *q);
    ag_db_bind_text(st, 1, account_id);
    int rc = ag_db_run(st, err);
    if (n)
        *n = rc ? 0 : (int)ag_db_changes(db);
    return rc;
}

int ag_store_ident_device_distrust_all(struct ag_store_tx *tx, const char *account_id, int *n,
                                       struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    return run_count(tx->db, &q_dev_distrust, account_id, n, err);
}

int ag_store_ident_device_delete_untrusted(struct ag_store_tx *tx, const char *account_id,
                                           int *n, struct ag_err *err)
{
    ag_store_ident_cache_touch(tx, account_id);
    return run_count(tx->db, &q_dev_delete_untrusted, account_id, n, err);
}

/* ---- sessions ---- */

#define SES_COLS                                                                                 \
    "id, account_id, token_hash, device_id, ip, user_agent, mfa, created_at, expires_at, "      \
    "revoked_at, last_seen, revoke_reason"
static struct ag_db_sql q_ses_put = {
    .sql = "INSERT INTO ident_sessions(" SES_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12)"};
static struct ag_db_sql q_ses_by_hash = {
    .sql = "SELECT " SES_COLS " FROM ident_sessions WHERE token_hash = ?1"};
static struct ag_db_sql q_ses_list = {
    .sql = "SELECT " SES_COLS " FROM ident_sessions WHERE account_id = ?1 AND "
    "(?2 = 0 OR (revoked_at = 0 AND expires_at > ?3)) ORDER BY created_at DESC, id LIMIT 1000"};
static struct ag_db_sql q_ses_revoke = {
    .sql = "UPDATE ident_sessions SET revoked_at = ?5, revoke_reason = ?4 WHERE account_id = ?1 "
    "AND revoked_at = 0 AND expires_at > ?5 AND (?2 = '' OR id <> ?2) "
    "AND (?3 = '' OR device_id = ?3)"};
static struct ag_db_sql q_ses_revoke_one = {
    .sql = "UPDATE ident_sessions SET revoked_at = CASE WHEN revoked_at = 0 THEN ?4 ELSE revoked_at END, "
    "revoke_reason = CASE WHEN revoked_at = 0 THEN ?3 ELSE revoke_reason END "
    "WHERE account_id = ?1 AND id = ?2"};

static void read_ses(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_session_rec *r = p;
    memset(r, 0, sizeof *r);
    ag_db_col_copy(st, 0, r->id, sizeof r->id);
    ag_db_col_copy(st, 1, r->account_id, sizeof r->account_id);
    copy_blob(st, 2, r->token_hash, sizeof r->token_hash);
    ag_db_col_copy(st, 3, r->device_id, sizeof r->device_id);
    ag_db_col_copy(st, 4, r->ip, sizeof r->ip);
    ag_db_col_copy(st, 5, r->user_agent, sizeof r->user_agent);
    r->mfa = ag_db_col_int64(st, 6) != 0;
    r->created_at = ag_db_col_int64(st, 7);
    r->expires_at = ag_db_col_int64(st, 8);
    r->revoked_at = ag_db_col_int64(st, 9);
    r->last_seen = ag_db_col_int64(st, 10);
    ag_db_col_copy(st, 11, r->revoke_reason, sizeof r->revoke_reason);
}

int ag_store_ident_session_put(struct ag_store_tx *tx, const struct ag_ident_session_rec *r,
                               struct ag_err *err)
{
    PREP(tx->db, q_ses_put);
    ag_db_bind_text(st, 1, r->id);
    ag_db_bind_text(st, 2, r->account_id);
    ag_db_bind_blob(st, 3, r->token_hash, sizeof r->token_hash);
    ag_db_bind_text(st, 4, r->device_id);
    ag_db_bind_text(st, 5, r->ip);
    ag_db_bind_text(st, 6, r->user_agent);
    ag_db_bind_int64(st, 7, r->mfa);
    ag_db_bind_int64(st, 8, r->created_at);
    ag_db_bind_int64(st, 9, r->expires_at);
    ag_db_bind_int64(st, 10, r->revoked_at);
    ag_db_bind_int64(st, 11, r->last_seen);
    ag_db_bind_text(st, 12, r->revoke_reason);
    return ag_db_run(st, err);
}

static int ses_by_hash(struct ag_db *db, const uint8_t hash[32], struct ag_ident_session_rec *out,
                       struct ag_err *err)
{
    PREP(db, q_ses_by_hash);
    ag_db_bind_blob(st, 1, hash, 32);
    return one_row(st, read_ses, out, "session_not_found", "session", err);
}

int ag_store_ident_session_by_hash(struct ag_store *s, const uint8_t hash[32],
                                   struct ag_ident_session_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, ses_by_hash(db, hash, out, err));
}

AG_DB_EACH_RECORD(ses, struct ag_ident_session_rec, read_ses)

static int ses_list(struct ag_db *db, const char *account_id, bool live_only, int64_t now,
                    int (*cb)(void *, const struct ag_ident_session_rec *), void *arg,
                    struct ag_err *err)
{
    PREP(db, q_ses_list);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_int64(st, 2, live_only);
    ag_db_bind_int64(st, 3, now);
    struct each_ses e = {cb, arg};
    return ag_db_each(st, each_ses_row, &e, err);
}

int ag_store_ident_session_list(struct ag_store *s, const char *account_id, bool live_only,
                                int64_t now, int (*cb)(void *, const struct ag_ident_session_rec *),
                                void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, ses_list(db, account_id, live_only, now, cb, arg, err));
}

int ag_store_ident_session_revoke(struct ag_store_tx *tx, const char *account_id,
                                  const char *keep_id, const char *device_id, const char *reason,
                                  int64_t now, int *n, struct ag_err *err)
{
    PREP(tx->db, q_ses_revoke);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, keep_id ? keep_id : "");
    ag_db_bind_text(st, 3, device_id ? device_id : "");
    ag_db_bind_text(st, 4, reason ? reason : "");
    ag_db_bind_int64(st, 5, now);
    int rc = ag_db_run(st, err);
    if (n)
        *n = rc ? 0 : (int)ag_db_changes(tx->db);
    return rc;
}

int ag_store_ident_session_revoke_one(struct ag_store_tx *tx, const char *account_id,
                                      const char *session_id, const char *reason, int64_t now,
                                      struct ag_err *err)
{
    PREP(tx->db, q_ses_revoke_one);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, session_id);
    ag_db_bind_text(st, 3, reason ? reason : "");
    ag_db_bind_int64(st, 4, now);
    return run_changed(tx->db, st, AG_ENOTFOUND, "session_not_found", err);
}

/* ---- throttles ---- */

static struct ag_db_sql q_thr_get = {
    .sql = "SELECT failures, last_failure_ms, locked, version FROM ident_throttles "
    "WHERE scope = ?1 AND key = ?2"};
static struct ag_db_sql q_thr_insert = {
    .sql = "INSERT INTO ident_throttles(scope, key, failures, last_failure_ms, locked, version) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(scope, key) DO NOTHING"};
static struct ag_db_sql q_thr_update = {
    .sql = "UPDATE ident_throttles SET failures = ?3, last_failure_ms = ?4, locked = ?5, "
    "version = ?6 WHERE scope = ?1 AND key = ?2 AND version = ?7"};

static void read_thr(struct ag_db_stmt *st, void *p)
{
    struct ag_identity_throttle *t = p;
    t->failures = (uint32_t)ag_db_col_int64(st, 0);
    t->last_failure_ms = ag_db_col_int64(st, 1);
    t->locked = ag_db_col_int64(st, 2) != 0;
    t->version = (uint32_t)ag_db_col_int64(st, 3);
}

static int thr_get(struct ag_db *db, const char *scope, const char *key,
                   struct ag_identity_throttle *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    PREP(db, q_thr_get);
    ag_db_bind_text(st, 1, scope);
    ag_db_bind_text(st, 2, key);
    int rc = one_row(st, read_thr, out, "not_found", "throttle", NULL);
    return rc == AG_ENOTFOUND ? 0 : rc;
}

int ag_store_ident_throttle_get_tx(struct ag_store_tx *tx, const char *scope, const char *key,
                                   struct ag_identity_throttle *out, struct ag_err *err)
{
    return thr_get(tx->db, scope, key, out, err);
}

int ag_store_ident_throttle_get(struct ag_store *s, const char *scope, const char *key,
                                struct ag_identity_throttle *out, struct ag_err *err)
{
    AG_STORE_READ(s, thr_get(db, scope, key, out, err));
}

int ag_store_ident_throttle_put(struct ag_store_tx *tx, const char *scope, const char *key,
                                uint32_t cur_version, const struct ag_identity_throttle *next,
                                struct ag_err *err)
{
    struct ag_db_sql *q = cur_version == 0 ? &q_thr_insert : &q_thr_update;
    PREP(tx->db, *q);
    ag_db_bind_text(st, 1, scope);
    ag_db_bind_text(st, 2, key);
    ag_db_bind_int64(st, 3, next->failures);
    ag_db_bind_int64(st, 4, next->last_failure_ms);
    ag_db_bind_int64(st, 5, next->locked);
    ag_db_bind_int64(st, 6, next->version);
    if (cur_version)
        ag_db_bind_int64(st, 7, cur_version);
    return run_changed(tx->db, st, AG_ECONFLICT, "throttle_changed", err);
}

/* ---- passcodes ---- */

static struct ag_db_sql q_pc_get = {.sql = "SELECT hash FROM ident_passcodes WHERE account_id = ?1"};
static struct ag_db_sql q_pc_set = {
    .sql = "INSERT INTO ident_passcodes(account_id, hash, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(account_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at"};

static void read_pc(struct ag_db_stmt *st, void *p) { ag_db_col_copy(st, 0, p, AG_STORE_HASH_STR); }

static int pc_get(struct ag_db *db, const char *account_id, char *hash, struct ag_err *err)
{
    PREP(db, q_pc_get);
    ag_db_bind_text(st, 1, account_id);
    return one_row(st, read_pc, hash, "passcode_not_set", "wallet passcode", err);
}

int ag_store_ident_passcode_get(struct ag_store *s, const char *account_id,
                                char hash[AG_STORE_HASH_STR], struct ag_err *err)
{
    AG_STORE_READ(s, pc_get(db, account_id, hash, err));
}

int ag_store_ident_passcode_set(struct ag_store_tx *tx, const char *account_id, const char *hash,
                                int64_t now, struct ag_err *err)
{
    PREP(tx->db, q_pc_set);
    ag_db_bind_text(st, 1, account_id);
    ag_db_bind_text(st, 2, hash);
    ag_db_bind_int64(st, 3, now);
    return ag_db_run(st, err);
}

/* ---- recoveries ---- */

#define REC_COLS                                                                                 \
    "id, account_id, channel, otp_id, challenge_id, event_id, device_id, ip, state, strong, "   \
    "created_at, expires_at, completed_at"
static struct ag_db_sql q_rec_put = {
    .sql = "INSERT INTO ident_recoveries(" REC_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, ?11, ?12, ?13)"};
static struct ag_db_sql q_rec_get = {.sql = "SELECT " REC_COLS " FROM ident_recoveries WHERE id = ?1"};
static struct ag_db_sql q_rec_finish = {
    .sql = "UPDATE ident_recoveries SET state = ?2, completed_at = ?3 WHERE id = ?1 "
    "AND state = 'pending'"};

static void read_rec(struct ag_db_stmt *st, void *p)
{
    struct ag_ident_recovery_rec *r = p;
    memset(r, 0, sizeof *r);
    ag_db_col_copy(st, 0, r->id, sizeof r->id);
    ag_db_col_copy(st, 1, r->account_id, sizeof r->account_id);
    ag_db_col_copy(st, 2, r->channel, sizeof r->channel);
    ag_db_col_copy(st, 3, r->otp_id, sizeof r->otp_id);
    ag_db_col_copy(st, 4, r->challenge_id, sizeof r->challenge_id);
    ag_db_col_copy(st, 5, r->event_id, sizeof r->event_id);
    ag_db_col_copy(st, 6, r->device_id, sizeof r->device_id);
    ag_db_col_copy(st, 7, r->ip, sizeof r->ip);
    ag_db_col_copy(st, 8, r->state, sizeof r->state);
    r->strong = ag_db_col_int64(st, 9) != 0;
    r->created_at = ag_db_col_int64(st, 10);
    r->expires_at = ag_db_col_int64(st, 11);
    r->completed_at = ag_db_col_int64(st, 12);
}

int ag_store_ident_recovery_put(struct ag_store_tx *tx, const struct ag_ident_recovery_rec *r,
                                struct ag_err *err)
{
    PREP(tx->db, q_rec_put);
    ag_db_bind_text(st, 1, r->id);
    ag_db_bind_text(st, 2, r->account_id);
    ag_db_bind_text(st, 3, r->channel);
    ag_db_bind_text(st, 4, r->otp_id);
    ag_db_bind_text(st, 5, r->challenge_id);
    ag_db_bind_text(st, 6, r->event_id);
    ag_db_bind_text(st, 7, r->device_id);
    ag_db_bind_text(st, 8, r->ip);
    ag_db_bind_text(st, 9, r->state[0] ? r->state : "pending");
    ag_db_bind_int64(st, 10, r->strong);
    ag_db_bind_int64(st, 11, r->created_at);
    ag_db_bind_int64(st, 12, r->expires_at);
    ag_db_bind_int64(st, 13, r->completed_at);
    return ag_db_run(st, err);
}

static int rec_get(struct ag_db *db, const char *id, struct ag_ident_recovery_rec *out,
                   struct ag_err *err)
{
    PREP(db, q_rec_get);
    ag_db_bind_text(st, 1, id);
    return one_row(st, read_rec, out, "recovery_not_found", "recovery", err);
}

int ag_store_ident_recovery_get(struct ag_store *s, const char *id,
                                struct ag_ident_recovery_rec *out, struct ag_err *err)
{
    AG_STORE_READ(s, rec_get(db, id, out, err));
}

int ag_store_ident_recovery_finish(struct ag_store_tx *tx, const char *id, const char *state,
                                   int64_t now, struct ag_err *err)
{
    PREP(tx->db, q_rec_finish);
    ag_db_bind_text(st, 1, id);
    ag_db_bind_text(st, 2, state);
    ag_db_bind_int64(st, 3, now);
    return run_changed(tx->db, st, AG_ESTATE, "recovery_closed", err);
}
