/* The identity endpoints (passwords, 2-step verification, contacts and
 * one-time codes, challenges, devices and sessions, recovery, wallet
 * passcode) and their pipeline hooks. Internal to src/api: the handlers in
 * mfa.c, sessions.c, challenges.c and recovery.c share the helpers here;
 * identity_hooks.c holds the "identity" and "challenge" hooks and the
 * service they share with the handlers. */
#ifndef AG_API_IDENTITY_H
#define AG_API_IDENTITY_H

#include "api/api.h"
#include "identity/service.h"

/* The pipeline hooks (rows in hooks.c). "identity" sets the identity facts
 * (device.trusted, account.mfa_enabled), records devices on successful
 * logins, signs out other sessions on password.changed, asks for 2-step
 * re-verification when required, and challenges a recovery from a new
 * country on a new device harder. "challenge" (the last row) turns a
 * challenge decision into a challenge record. */
int ag_api_identity_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                              struct ag_store *store, void **state, struct ag_err *err);
void ag_api_identity_hook_fini(void *state);
int ag_api_identity_hook_enrich(void *state, struct ag_pipeline_event *pe);
int ag_api_identity_hook_act(void *state, struct ag_pipeline_event *pe);
int ag_api_challenge_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                               struct ag_store *store, void **state, struct ag_err *err);
int ag_api_challenge_hook_act(void *state, struct ag_pipeline_event *pe);
/* The public view of a challenge: {"id", "methods", "expires_at"}. */
json_t *ag_api_challenge_json(const struct ag_ident_challenge_rec *c);

/* The identity service of the running pipeline (its hook state). */
struct ag_identity *ag_api_identity(struct ag_app *app);

/* The request's optional "context" (ip, user_agent, device_id, session_id),
 * validated like an event's. */
struct ag_api_idctx {
    json_t *context; /* a copy for the events run on the caller's behalf; may be NULL */
    char ip[46];
    char device_id[AG_ID_MAX + 1];
    char session_id[AG_ID_MAX + 1];
    char user_agent[256];
};
/* Read body.context into <c>; on bad input responds 400 and returns -1. */
int ag_api_idctx_read(struct ag_http_req *req, const json_t *body, struct ag_api_idctx *c);
void ag_api_idctx_free(struct ag_api_idctx *c);

/* Run an event of <type> for <account_id> with <c>'s context and
 * <properties> (stolen; may be NULL) through the pipeline and wait for it.
 * Returns the response's "decision" object (new reference) or NULL when the
 * pipeline refused the event (then *status and the error are in <err>). */
json_t *ag_api_identity_event(struct ag_app *app, const char *type, const char *account_id,
                              const struct ag_api_idctx *c, json_t *properties,
                              struct ag_err *err);
/* The decision's action ("allow", ...; "" if none). */
const char *ag_api_decision_action(const json_t *decision);

/* Respond to a failed secret check: 429 with Retry-After for AG_ERATE, the
 * error otherwise. */
void ag_api_identity_fail(struct ag_http_req *req, int rc, const struct ag_err *err,
                          int64_t retry_after_ms);

/* Answer a secret check: an error for throttling, locks and missing
 * secrets; otherwise 200 {"result": "ok"|"wrong"|"reused"|"used"|
 * "expired"|"exhausted", "decision": ...} after running <ok_type> or
 * <fail_type> (may be NULL) through the pipeline. <extra> (stolen, may be
 * NULL) is the object the result is added to. */
void ag_api_identity_outcome(struct ag_app *app, struct ag_http_req *req, const char *account_id,
                             const struct ag_api_idctx *c, int rc, const struct ag_err *err,
                             int64_t retry_after_ms, const char *ok_type, const char *fail_type,
                             json_t *extra);
/* Run the credential-change event <type> before applying the change: on a
 * deny (a frozen account, a rule) responds 403 ("account_frozen" or
 * "denied", with the decision) and returns NULL; otherwise returns the
 * decision. */
json_t *ag_api_identity_change(struct ag_app *app, struct ag_http_req *req, const char *type,
                               const char *account_id, const struct ag_api_idctx *c,
                               json_t *properties);
/* The {id} path parameter as an account id, or NULL after a 400. */
const char *ag_api_account_param(struct ag_http_req *req);

/* The common start of an identity handler: the service, the {id}
 * account, the body (required if <need_body>) and its context. Returns NULL
 * after responding; otherwise release with ag_api_idcall_end. */
struct ag_api_idcall {
    struct ag_identity *id;
    const char *account;
    json_t *body;
    struct ag_api_idctx ctx;
};
struct ag_api_idcall *ag_api_idcall_begin(struct ag_app *app, struct ag_http_req *req,
                                          struct ag_api_idcall *c, bool need_body);
void ag_api_idcall_end(struct ag_api_idcall *c);
/* A required string member of at most <max> bytes, or NULL after a 400. */
const char *ag_api_need_str(struct ag_http_req *req, json_t *body, const char *key, size_t max);

/* Handlers. */
void ag_api_password_set(struct ag_app *app, struct ag_http_req *req);
void ag_api_password_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_mfa_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_totp_enroll(struct ag_app *app, struct ag_http_req *req);
void ag_api_totp_qr_png(struct ag_app *app, struct ag_http_req *req);
void ag_api_totp_confirm(struct ag_app *app, struct ag_http_req *req);
void ag_api_totp_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_totp_delete(struct ag_app *app, struct ag_http_req *req);
void ag_api_backup_codes_new(struct ag_app *app, struct ag_http_req *req);
void ag_api_backup_codes_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_mfa_contact_put(struct ag_app *app, struct ag_http_req *req);
void ag_api_otp_send(struct ag_app *app, struct ag_http_req *req);
void ag_api_otp_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_challenge_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_challenge_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_challenge_send(struct ag_app *app, struct ag_http_req *req);
void ag_api_challenge_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_devices_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_device_delete(struct ag_app *app, struct ag_http_req *req);
void ag_api_sessions_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_sessions_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_sessions_revoke_all(struct ag_app *app, struct ag_http_req *req);
void ag_api_session_delete(struct ag_app *app, struct ag_http_req *req);
void ag_api_sessions_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_recovery_start(struct ag_app *app, struct ag_http_req *req);
void ag_api_recovery_complete(struct ag_app *app, struct ag_http_req *req);
void ag_api_passcode_put(struct ag_app *app, struct ag_http_req *req);
void ag_api_passcode_verify(struct ag_app *app, struct ag_http_req *req);
void ag_api_passcode_unlock(struct ag_app *app, struct ag_http_req *req);

#endif
