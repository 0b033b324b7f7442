/* Internal to src/cases: the module state and the helpers every file uses
 * (timeline entries, audit entries, case JSON, running a job). */
#ifndef AG_CASES_INTERNAL_H
#define AG_CASES_INTERNAL_H

#include "audit/audit.h"
#include "cases/service.h"
#include "core/json.h"

#include <magic.h>
#include <pthread.h>
#include <stdbool.h>

struct ag_cases {
    struct ag_pipeline *p;
    struct ag_store *store;
    const struct ag_config *cfg;
    double auto_risk;
    int64_t upload_max;
    char evidence_dir[400];
    char fail_steps[256]; /* ",a,b," */
    /* the playbook: one run at a time; the background retry thread */
    pthread_mutex_t playbook_lock;
    pthread_mutex_t retry_lock;
    pthread_cond_t retry_cond;
    pthread_t retry_thread;
    bool retry_started, stopping;
    int64_t retry_interval_ms;
    /* libmagic handles are not thread-safe: one, behind a lock */
    pthread_mutex_t magic_lock;
    magic_t magic;
};

/* A store job with the usual inputs and a JSON answer. */
struct cases_op {
    struct ag_cases *m;
    const char *id, *id2, *actor;
    const json_t *body;
    json_t *out;
    const void *extra;
};
typedef int (*cases_op_fn)(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err);
/* Run <fn> as one store job and wait; on success *out gets op->out. */
int cases_run(struct ag_cases *m, cases_op_fn fn, struct cases_op *op, json_t **out,
              struct ag_err *err);

/* Append a timeline entry to case <case_id>. <data> (borrowed, may be NULL)
 * is a JSON object. */
int cases_entry(struct ag_store_tx *tx, const char *case_id, const char *actor, const char *kind,
                bool customer_visible, const json_t *data, struct ag_err *err,
                const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* ag_audit_append with target "case:<id>" (or <target> as given). */
int cases_audit(struct ag_store_tx *tx, const char *actor, const char *action,
                const char *target, const json_t *details, struct ag_err *err);

/* Load case <id> in <tx> (AG_ENOTFOUND "case_not_found"). */
int cases_load(struct ag_store_tx *tx, const char *id, struct ag_case_rec *c, struct ag_err *err);
/* 0 if case <id> exists, else AG_ENOTFOUND (case_not_found) or the error. */
int cases_exists(struct ag_cases *m, const char *id, struct ag_err *err);
/* Record that someone acted on the case (first action time, updated_at)
 * and write it back. */
int cases_save(struct ag_store_tx *tx, struct ag_case_rec *c, bool is_action, int64_t now,
               struct ag_err *err);
/* Recompute priority and due times from risk and amount (never lowers a
 * priority an analyst set higher when <keep_higher>). */
void cases_reprioritize(struct ag_case_rec *c, bool keep_higher);
bool cases_active(const char *status);

json_t *cases_case_json(const struct ag_case_rec *c, int64_t now);
json_t *cases_time(int64_t ms); /* RFC 3339 string, or null for 0 */

/* Link evidence inside <tx>, ignoring a duplicate link (returns 0, *dup set).
 * Adds a timeline entry and, for money, raises the case's amount. For a
 * linked event without e->data, a summary is made: with <summary> non-NULL
 * it is left in e->data and *summary (the caller frees it), else freed. */
int cases_evidence_add(struct ag_store_tx *tx, struct ag_case_rec *c,
                       struct ag_case_evidence_rec *e, const char *actor, bool *dup,
                       char **summary, struct ag_err *err);

/* Labels from a resolution (resolved_fraud / resolved_not_fraud). */
int cases_label(struct ag_store_tx *tx, const struct ag_case_rec *c, int64_t now,
                struct ag_err *err);

/* Is a name in a list of allowed names? */
bool cases_in(const char *s, const char *const *list);

/* Playbook: start the background retry thread; stop it. */
int cases_retry_start(struct ag_cases *m, struct ag_err *err);
void cases_retry_stop(struct ag_cases *m);

#endif
