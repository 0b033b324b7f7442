/* The operations behind the cases API (src/api/cases.c, disputes.c,
 * reports.c): each takes the caller's identity and a validated-here JSON
 * body, runs as one store job (the change, its timeline entries and its
 * audit entries commit together), and answers with a new JSON object owned
 * by the caller. Errors carry a stable slug and the offending field. */
#ifndef AG_CASES_SERVICE_H
#define AG_CASES_SERVICE_H

#include "cases/cases.h"
#include "core/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ag_cases; /* the module's state (the "cases" pipeline hook) */

/* Is <s> one of the names in the NULL-terminated <list>? */
bool ag_cases_name_in(const char *s, const char *const *list);

/* The module of pipeline <p>; NULL when the hook is not loaded. */
struct ag_cases *ag_cases_of(struct ag_pipeline *p);

int ag_cases_create(struct ag_cases *m, const char *actor, const json_t *body, json_t **out,
                    struct ag_err *err);
int ag_cases_get(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err);
/* Query parameters are passed as <f>; *out = {"items": [...], "next_cursor"}. */
int ag_cases_list(struct ag_cases *m, const struct ag_case_filter *f, int64_t cursor, int limit,
                  json_t **out, struct ag_err *err);
/* Change assignee, priority, tags (add_tags/remove_tags), title, description. */
int ag_cases_update(struct ag_cases *m, const char *id, const char *actor, const json_t *body,
                    json_t **out, struct ag_err *err);
/* {"status", "note", "outcome"}: AG_ESTATE "invalid_transition" if refused. */
int ag_cases_set_status(struct ag_cases *m, const char *id, const char *actor,
                        const json_t *body, json_t **out, struct ag_err *err);
/* {"text", "visibility": "internal"|"customer"}: a note, or a message to the
 * customer (also sent to the owner through notify). */
int ag_cases_add_note(struct ag_cases *m, const char *id, const char *actor, const json_t *body,
                      json_t **out, struct ag_err *err);
int ag_cases_timeline(struct ag_cases *m, const char *id, bool customer_view, int64_t cursor,
                      int limit, json_t **out, struct ag_err *err);

/* Evidence: a link {"kind", "ref", "note", "amount", "currency"}; a file
 * (bytes sniffed with libmagic, stored by SHA-256 under data_dir/evidence). */
int ag_cases_evidence_link(struct ag_cases *m, const char *id, const char *actor,
                           const json_t *body, json_t **out, struct ag_err *err);
int ag_cases_evidence_upload(struct ag_cases *m, const char *id, const char *actor,
                             const char *filename, const char *declared_type, const char *note,
                             const void *data, size_t len, json_t **out, struct ag_err *err);
int ag_cases_evidence_list(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err);
/* The stored file of evidence <seq>: its path (>= 512 bytes) and type (>= 128). */
int ag_cases_evidence_file(struct ag_cases *m, const char *id, int64_t seq, char *path,
                           char *content_type, struct ag_err *err);

/* Resolution actions: {"kind", "target": {"type", "id"}, "amount", "currency",
 * "note", "force"}; reverse and cancel_order send a signed command to the
 * platform and stay "pending" until confirmed. */
int ag_cases_action_create(struct ag_cases *m, const char *id, const char *actor,
                           const json_t *body, json_t **out, struct ag_err *err);
/* {"result": "confirmed"|"failed", "detail"}. */
int ag_cases_action_confirm(struct ag_cases *m, const char *id, const char *action_id,
                            const char *actor, const json_t *body, json_t **out,
                            struct ag_err *err);
int ag_cases_actions(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err);

/* Disputes. */
int ag_cases_dispute_create(struct ag_cases *m, const char *case_id, const char *actor,
                            const json_t *body, json_t **out, struct ag_err *err);
int ag_cases_dispute_set_status(struct ag_cases *m, const char *id, const char *actor,
                                const json_t *body, json_t **out, struct ag_err *err);
int ag_cases_dispute_get(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err);
int ag_cases_disputes(struct ag_cases *m, const char *case_id, const char *status,
                      int64_t cursor, int limit, json_t **out, struct ag_err *err);
bool ag_cases_dispute_transition_allowed(const char *from, const char *to);

/* Labels as JSON lines or CSV into <out>. */
int ag_cases_labels_export(struct ag_cases *m, bool csv, struct ag_buf *out, struct ag_err *err);

/* Report over cases created in [from, to) grouped by type and period
 * ("day", "week", "month"): JSON object, or CSV rows into <csv>. */
int ag_cases_report(struct ag_cases *m, const char *period, int64_t from, int64_t to,
                    json_t **json, struct ag_buf *csv, struct ag_err *err);

#endif
