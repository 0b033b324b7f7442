/* Handlers of the fraud-case endpoints: cases, timeline, evidence, actions
 * (cases.c), the secure-account playbook (cases_secure.c), disputes
 * (disputes.c), reports and labels (reports.c), the audit log
 * (cases_audit.c). */
#ifndef AG_API_CASES_H
#define AG_API_CASES_H

#include "api/api.h"

void ag_api_cases_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_update(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_status(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_notes(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_timeline(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_evidence_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_evidence_add(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_evidence_upload(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_evidence_content(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_actions_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_actions_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_actions_confirm(struct ag_app *app, struct ag_http_req *req);
void ag_api_account_secure(struct ag_app *app, struct ag_http_req *req);
void ag_api_cases_disputes_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_disputes_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_disputes_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_disputes_status(struct ag_app *app, struct ag_http_req *req);
void ag_api_labels_export(struct ag_app *app, struct ag_http_req *req);
void ag_api_reports_cases(struct ag_app *app, struct ag_http_req *req);
void ag_api_audit_list(struct ag_app *app, struct ag_http_req *req);

/* Shared by the case handlers (cases.c). */
struct ag_cases *ag_api_cases_module(struct ag_app *app, struct ag_http_req *req);
/* "<actor> via <principal>" when the body names an analyst, else the principal. */
void ag_api_cases_actor(struct ag_http_req *req, const json_t *body, char *out, size_t n);
/* Respond with <out> (status <ok>) or the error. */
void ag_api_cases_reply(struct ag_http_req *req, int rc, json_t *out, const struct ag_err *err,
                        int ok);

#endif
