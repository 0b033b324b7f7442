/* Account-level identity actions other subsystems call inside their own
 * store transaction: the "secure this account" steps of the playbook
 * (src/protect, src/cases) and of a password change. Each runs in <tx> (a
 * job on the store's writer, see store.h), so it commits together with the
 * caller's other writes or not at all. None of them sends anything: the
 * caller alerts the owner (src/notify) if it wants to.
 *
 * Returns 0 or a negative AG_E* code with <err>; counts go to the out
 * parameters (which may be NULL). */
#ifndef AG_IDENTITY_ACCOUNTS_H
#define AG_IDENTITY_ACCOUNTS_H

#include "core/err.h"
#include "store/store.h"

#include <stdint.h>

/* Sign the account out everywhere: revoke every live session except
 * <keep_session_id> (NULL or "": none kept). *revoked gets how many. A
 * revoked token fails POST /v1/sessions/verify at once. */
int ag_identity_sessions_revoke_all(struct ag_store_tx *tx, const char *account_id,
                                    const char *keep_session_id, int64_t now, int *revoked,
                                    struct ag_err *err);

/* Forget the devices that never passed 2-step verification: their records
 * are deleted and their sessions revoked. *forgotten gets how many devices. */
int ag_identity_devices_forget_untrusted(struct ag_store_tx *tx, const char *account_id,
                                         int64_t now, int *forgotten, struct ag_err *err);

/* Take trust away from every device of the account, so each must pass
 * 2-step verification again (a password change does this). *distrusted gets
 * how many were trusted. */
int ag_identity_devices_distrust_all(struct ag_store_tx *tx, const char *account_id,
                                     int64_t now, int *distrusted, struct ag_err *err);

/* Require a new password: until one is set (set-password endpoint or a
 * completed recovery), password verification answers "reset_required" even
 * for the right password. */
int ag_identity_require_password_reset(struct ag_store_tx *tx, const char *account_id,
                                       int64_t now, struct ag_err *err);

/* Require 2-step re-verification: every device loses trust and the next
 * login event of the account is challenged (reason "mfa_reverify_required")
 * until a challenge is passed. */
int ag_identity_require_mfa_reverify(struct ag_store_tx *tx, const char *account_id,
                                     int64_t now, struct ag_err *err);

/* A password was changed by anyone but recovery: revoke every session but
 * <keep_session_id> and take trust from every device. */
int ag_identity_password_changed(struct ag_store_tx *tx, const char *account_id,
                                 const char *keep_session_id, int64_t now, int *revoked,
                                 struct ag_err *err);

#endif
