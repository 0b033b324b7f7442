/* Account-level identity actions in the caller's transaction (accounts.h). */
#include "identity/accounts.h"

int ag_identity_sessions_revoke_all(struct ag_store_tx *tx, const char *account_id,
                                    const char *keep_session_id, int64_t now, int *revoked,
                                    struct ag_err *err)
{
    int n = 0;
    int rc = ag_store_ident_session_revoke(tx, account_id,
                                           keep_session_id && *keep_session_id ? keep_session_id
                                                                               : NULL,
                                           NULL, "revoke_all", now, &n, err);
    if (revoked)
        *revoked = n;
    return rc;
}

struct forget {
    struct ag_store_tx *tx;
    const char *account_id;
    int64_t now;
    int rc;
    struct ag_err *err;
};

static int revoke_untrusted(void *arg, const struct ag_ident_device_rec *d)
{
    struct forget *f = arg;
    if (d->trusted)
        return 0;
    int n;
    f->rc = ag_store_ident_session_revoke(f->tx, f->account_id, NULL, d->device_id,
                                          "device_forgotten", f->now, &n, f->err);
    return f->rc;
}

int ag_identity_devices_forget_untrusted(struct ag_store_tx *tx, const char *account_id,
                                         int64_t now, int *forgotten, struct ag_err *err)
{
    struct forget f = {tx, account_id, now, 0, err};
    int rc = ag_store_ident_device_list_tx(tx, account_id, revoke_untrusted, &f, err);
    if (rc || (rc = f.rc))
        return rc;
    int n = 0;
    rc = ag_store_ident_device_delete_untrusted(tx, account_id, &n, err);
    if (forgotten)
        *forgotten = n;
    return rc;
}

int ag_identity_devices_distrust_all(struct ag_store_tx *tx, const char *account_id,
                                     int64_t now, int *distrusted, struct ag_err *err)
{
    int n = 0;
    int rc = ag_store_ident_device_distrust_all(tx, account_id, &n, err);
    if (distrusted)
        *distrusted = n;
    return rc;
}

int ag_identity_require_password_reset(struct ag_store_tx *tx, const char *account_id,
                                       int64_t now, struct ag_err *err)
{
    return ag_store_ident_flags_set(tx, account_id, 1, -1, now, err);
}

int ag_identity_require_mfa_reverify(struct ag_store_tx *tx, const char *account_id,
                                     int64_t now, struct ag_err *err)
{
    int rc = ag_store_ident_flags_set(tx, account_id, -1, 1, now, err);
    return rc ? rc : ag_identity_devices_distrust_all(tx, account_id, now, NULL, err);
}

int ag_identity_password_changed(struct ag_store_tx *tx, const char *account_id,
                                 const char *keep_session_id, int64_t now, int *revoked,
                                 struct ag_err *err)
{
    int rc = ag_identity_sessions_revoke_all(tx, account_id, keep_session_id, now, revoked, err);
    return rc ? rc : ag_identity_devices_distrust_all(tx, account_id, now, NULL, err);
}
