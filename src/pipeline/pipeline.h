/* The one pipeline. Every event — from the HTTP API, a replay or a test —
 * goes through ag_pipeline_submit, which runs the stages in order:
 *
 *   validate -> enrich -> features -> score -> decide -> act -> persist
 *
 * and answers once the event, its decision and the state it changed are
 * durable (group commit). Retries with the same event id get the stored
 * answer; a reused id with a different body gets 409. The pipeline owns the
 * hot state decisions need (account states, in-flight ids). */
#ifndef AG_PIPELINE_PIPELINE_H
#define AG_PIPELINE_PIPELINE_H

#include "core/config.h"
#include "core/decision.h"
#include "core/err.h"
#include "core/event.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ag_pipeline;

/* The answer to one event: an HTTP status and a JSON body (malloc'd, owned
 * by the receiver). */
struct ag_pipeline_reply {
    int status;
    char *body;
    size_t len;
    enum ag_action action; /* when status is 200 */
    double risk;
};

/* Called exactly once per submitted event, possibly on another thread
 * (the store's writer) and possibly before ag_pipeline_submit returns. */
typedef void (*ag_pipeline_done_fn)(void *arg, struct ag_pipeline_reply *reply);

struct ag_pipeline_options {
    const struct ag_config *cfg;
    struct ag_store *store;
};

int ag_pipeline_open(const struct ag_pipeline_options *o, struct ag_pipeline **out,
                     struct ag_err *err);
void ag_pipeline_close(struct ag_pipeline *p);

/* Run <event> (a JSON object, borrowed until <done> is called) through the
 * pipeline. <request_id> is for logs (may be NULL). */
void ag_pipeline_submit(struct ag_pipeline *p, json_t *event, const char *request_id,
                        ag_pipeline_done_fn done, void *arg);

/* Submit and wait for the reply (for the CLI and tests). */
void ag_pipeline_run(struct ag_pipeline *p, json_t *event, struct ag_pipeline_reply *reply);

/* Validate an event object into <out> (the validate stage alone). <out>
 * borrows strings' storage only in the fixed buffers; properties and raw
 * point into <event>. */
int ag_pipeline_validate(const json_t *event, int64_t now_ms, struct ag_event *out,
                         struct ag_err *err);

/* Account state, as the pipeline sees it (hot state). */
struct ag_account_state {
    bool known;
    bool frozen;
    int64_t frozen_until; /* 0 = until unfrozen */
    char role[16];
};
void ag_pipeline_account_state(struct ag_pipeline *p, const char *account_id, int64_t now_ms,
                               struct ag_account_state *out);

/* Freeze or unfreeze an account (created if unknown), durably, recorded in
 * the account log with <actor> and <reason>. <until> 0 = until unfrozen.
 * Returns the account after the change in <out>. */
int ag_pipeline_account_freeze(struct ag_pipeline *p, const char *account_id, bool freeze,
                               const char *reason, const char *actor, int64_t until,
                               struct ag_account_rec *out, struct ag_err *err);

/* Decisions by action since start, for /metrics. */
extern _Atomic uint64_t ag_pipeline_decisions[4];

#endif
