/* Fraud cases: the fraud department's side of accountguard. A case is about
 * one account; it is opened by a customer report (through the platform), by
 * an agent, or automatically (risk decisions above a threshold, account-change
 * monitoring rules, phishing reports, the secure-account playbook). It moves
 * through a status workflow, gathers evidence, keeps an immutable timeline,
 * and is resolved with actions (reversals tracked to confirmation, refunds,
 * account restore) whose confirmed outcomes become labels for the risk model.
 * Every analyst and system action is also written to the audit log
 * (audit/audit.h). See docs/CASES.md.
 *
 * The module's state lives in the pipeline hook "cases" (src/api/hooks.c):
 * code that holds the pipeline reaches it through these functions. */
#ifndef AG_CASES_CASES_H
#define AG_CASES_CASES_H

#include "core/config.h"
#include "core/err.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- the pipeline hook (one row in src/api/hooks.c) ----
 * act(): opens or joins a case, in the event's own transaction, when the
 * decision is deny/review with risk >= cases_auto_risk, when an
 * account-change monitoring rule fired (reason "rule:<id>", see the map in
 * src/cases/detect.c), and for every message.reported event. */
int ag_cases_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                       struct ag_store *store, void **state, struct ag_err *err);
void ag_cases_hook_fini(void *state);
int ag_cases_hook_act(void *state, struct ag_pipeline_event *pe);

/* ---- the secure-account playbook ----
 * One idempotent call, also behind the customer's "this wasn't me" link:
 * open (or join) a case, revoke every session, require a password reset,
 * require 2-step re-verification, freeze money movement, forget devices that
 * never passed 2-step verification, list the orders, transfers,
 * subscriptions and account changes since the first suspicious event and
 * attach them as evidence, tell the owner and the platform. Each step's
 * outcome is recorded (playbook_steps, the case timeline, the audit log). A
 * step done is never done twice; a failed step is retried by the next call
 * and by the background retry (cases_retry_interval_s), and shown as failed
 * until it succeeds — never skipped. */
struct ag_cases_secure_opts {
    const char *actor;    /* who asks: "apikey:k_..", "customer:link", ... (required) */
    const char *source;   /* "api", "customer_link", "agent", "detection" (NULL: "api") */
    const char *reason;   /* free text for the case and timeline (may be NULL) */
    const char *event_id; /* the event that raised it, if any: the first suspicious
                             event is searched from it (may be NULL) */
};

/* Run (or continue) the playbook for <account_id> using the pipeline <p>
 * (which must have the "cases" hook). Returns 0 when the run was recorded —
 * even if some steps failed: then (*report)["complete"] is false and the
 * failed steps say why — or a negative AG_E* code with <err> (AG_EINVAL for
 * a bad account id, AG_EUNAVAIL when the module is not loaded, AG_EIO).
 * <report> (may be NULL) receives a new JSON object owned by the caller:
 * {"account_id", "case_id", "run_id", "complete", "created": bool,
 *  "steps": [{"step", "status": "done"|"failed", "attempts", "detail",
 *             "error", "updated_at"}], "activity": {...}}. */
int ag_cases_secure_account(struct ag_pipeline *p, const char *account_id,
                            const struct ag_cases_secure_opts *o, json_t **report,
                            struct ag_err *err);

/* ---- cases from other subsystems ----
 * Open a case for <account_id> of <type> (see ag_cases_types), or join the
 * account's active case of that type, inside the caller's transaction <tx>.
 * <evidence_kind>/<evidence_ref> (may be NULL) are linked to it. The case id
 * goes to <case_id> (>= 40 bytes); *created tells whether it is new. */
int ag_cases_open_or_join(struct ag_store_tx *tx, const char *account_id, const char *type,
                          const char *source, const char *actor, const char *title,
                          double risk, int64_t amount_minor, const char *currency,
                          const char *evidence_kind, const char *evidence_ref, char *case_id,
                          bool *created, struct ag_err *err);

/* The case types and statuses (NULL-terminated). */
extern const char *const ag_cases_types[];
extern const char *const ag_cases_statuses[];

/* Is the status change <from> -> <to> allowed by the workflow? */
bool ag_cases_transition_allowed(const char *from, const char *to);

/* Priority ("low", "medium", "high", "critical") from the risk in [0,1] and
 * the money at stake (minor units). */
const char *ag_cases_priority(double risk, int64_t amount_minor);

/* SLA for a priority: time to first action and to resolution, in ms. */
void ag_cases_sla(const char *priority, int64_t *first_action_ms, int64_t *resolution_ms);

#endif
