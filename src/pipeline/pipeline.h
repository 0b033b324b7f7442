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

struct ag_pipeline_hook;

struct ag_pipeline_options {
    const struct ag_config *cfg;
    struct ag_store *store;
    /* Subsystems plugged into the enrich and act stages, in order; the
     * table ends with a row whose name is NULL. May be NULL. */
    const struct ag_pipeline_hook *hooks;
    /* Decide without storing (a replay into a throwaway store): the event
     * row, the profile and the activity are not written, only kept in
     * memory for the run; a hook's queued writes still go to the store.
     * Idempotency then holds for ids in flight only. Without hooks either,
     * the reply carries the action and risk but no body, and the reasons'
     * details are not written out (nobody would read them). */
    bool ephemeral;
};

int ag_pipeline_open(const struct ag_pipeline_options *o, struct ag_pipeline **out,
                     struct ag_err *err);
void ag_pipeline_close(struct ag_pipeline *p);

/* Run <event> (a JSON object, borrowed until <done> is called) through the
 * pipeline. <request_id> is for logs (may be NULL). */
void ag_pipeline_submit(struct ag_pipeline *p, json_t *event, const char *request_id,
                        ag_pipeline_done_fn done, void *arg);

/* The same, with fields given alongside the event (a replay's country, ASN
 * and parsed user agent) that win over enrichment. <given> is borrowed until
 * <done>. */
struct ag_risk_given;
void ag_pipeline_submit_given(struct ag_pipeline *p, json_t *event, const struct ag_risk_given *given,
                              const char *request_id, ag_pipeline_done_fn done, void *arg);

/* The same for an event already read into <ev> (a replay's CSV row: no
 * JSON on the way; its properties and raw must be NULL). The validate stage
 * checks the fields as it checks a JSON event's; the event is stored as the
 * JSON object they make. <ev> is copied; <given> is borrowed until <done>. */
void ag_pipeline_submit_event(struct ag_pipeline *p, const struct ag_event *ev,
                              const struct ag_risk_given *given, ag_pipeline_done_fn done,
                              void *arg);

/* Replace the rule set: compile <text> (or, when NULL, re-read the rules file
 * — or the built-in default rules if none is configured) and swap it in for
 * every event from now on. On an error the running rules stay and <pos> says
 * where. */
struct ag_rules_pos;
int ag_pipeline_rules_reload(struct ag_pipeline *p, const char *text, size_t len,
                             struct ag_rules_pos *pos, struct ag_err *err);
struct ag_rules;
/* Publish <set>, compiled from <text>, as the rules for every event from
 * now on (the reference to <set> is taken, also on failure): with several
 * nodes <text> is also stored as the newest published version, which every
 * node loads within a second (a node starting takes it over its rules
 * file). Saving it to this node's rules file is the caller's. */
int ag_pipeline_rules_publish(struct ag_pipeline *p, struct ag_rules *set, const char *text,
                              size_t len, const char *actor, struct ag_err *err);
/* Are published rules shared by several nodes through the store (then the
 * store, not this node's rules file, is where they live)? */
bool ag_pipeline_rules_shared(struct ag_pipeline *p);
/* The current rules' source text (malloc'd copy) and where publishing saves
 * it (rules_file, else <data_dir>/rules.rules). */
int ag_pipeline_rules_text(struct ag_pipeline *p, char **text, size_t *len);
const char *ag_pipeline_rules_path(struct ag_pipeline *p);
/* A reference to the current rule set (release with ag_rules_release). */
struct ag_rules;
struct ag_rules *ag_pipeline_rules(struct ag_pipeline *p);

/* Wait until background preparation (the IP network index) is done, so
 * what follows runs at full speed; a batch job calls it before starting.
 * Returns false if there is nothing to wait for or it failed. */
bool ag_pipeline_wait_ready(struct ag_pipeline *p);

/* Submit and wait for the reply (for the CLI and tests). */
void ag_pipeline_run(struct ag_pipeline *p, json_t *event, struct ag_pipeline_reply *reply);

/* Validate an event object into <out> (the validate stage alone). <out>
 * borrows strings' storage only in the fixed buffers; properties and raw
 * point into <event>. */
int ag_pipeline_validate(const json_t *event, int64_t now_ms, struct ag_event *out,
                         struct ag_err *err);
/* The same checks on an event given as fields (ag_pipeline_submit_event):
 * copies <in> to <out> with received_at set, or fails naming the field. */
int ag_pipeline_validate_fields(const struct ag_event *in, int64_t now_ms, struct ag_event *out,
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

/* Does this node hold the account's last successful login for its second
 * factor (challenged, not passed yet)? From memory, which learned the event
 * on the submitting thread: a replay asks right after submitting. */
bool ag_pipeline_login_held(struct ag_pipeline *p, const char *account_id);

/* Freeze or unfreeze an account (created if unknown), durably, recorded in
 * the account log with <actor> and <reason>. <until> 0 = until unfrozen.
 * Returns the account after the change in <out>. */
int ag_pipeline_account_freeze(struct ag_pipeline *p, const char *account_id, bool freeze,
                               const char *reason, const char *actor, int64_t until,
                               struct ag_account_rec *out, struct ag_err *err);

/* ---- extension points ----
 * A subsystem plugs into the pipeline with one row in a hook table (the
 * application's is src/api/hooks.c). At open, init() builds its state; per
 * event, enrich() runs in the enrich stage (add facts for the rules, reasons)
 * and act() in the act stage (after the decision: queue writes that commit
 * with the event, add to the response). Both run on the submitting thread
 * and must not block on I/O. */
struct ag_pipeline_event; /* one event in flight: opaque */

struct ag_pipeline_hook {
    const char *name;
    int (*init)(struct ag_pipeline *p, const struct ag_config *cfg, struct ag_store *store,
                void **state, struct ag_err *err);
    void (*fini)(void *state);
    int (*enrich)(void *state, struct ag_pipeline_event *pe);
    int (*act)(void *state, struct ag_pipeline_event *pe);
};

/* The state a hook's init() returned, by hook name (NULL if none). */
void *ag_pipeline_hook_state(struct ag_pipeline *p, const char *name);
struct ag_store *ag_pipeline_store(struct ag_pipeline *p);
const struct ag_config *ag_pipeline_config(struct ag_pipeline *p);

const struct ag_event *ag_pipeline_event_event(const struct ag_pipeline_event *pe);
struct ag_decision *ag_pipeline_event_decision(struct ag_pipeline_event *pe);
const struct ag_account_state *ag_pipeline_event_account(const struct ag_pipeline_event *pe);
/* The pipeline the event runs in. */
struct ag_pipeline *ag_pipeline_event_pipeline(const struct ag_pipeline_event *pe);
/* Does any current rule read rules field <field_id>? Lets an enrich hook
 * skip a fact that costs a store read when no rule needs it. */
bool ag_pipeline_rules_use(struct ag_pipeline *p, int field_id);
/* The request id for logs ("" for replays). */
const char *ag_pipeline_event_request_id(const struct ag_pipeline_event *pe);

/* Set the value of rules field <field_id> (rules/fields.h) for this event.
 * Strings must live as long as the event: copy them with
 * ag_pipeline_event_strdup. */
struct ag_rules_value;
void ag_pipeline_event_fact(struct ag_pipeline_event *pe, int field_id,
                            const struct ag_rules_value *v);
/* Read a fact set earlier (type AG_RULES_MISSING if unset). */
void ag_pipeline_event_get_fact(const struct ag_pipeline_event *pe, int field_id,
                                struct ag_rules_value *out);
/* A copy of <s> freed with the event. NULL on ENOMEM. */
char *ag_pipeline_event_strdup(struct ag_pipeline_event *pe, const char *s);

/* Queue a write that commits in the same transaction as the event: <fn>
 * runs on the store's writer after the event row is inserted; if it fails,
 * the whole event is rolled back and answered 503. <cleanup> (may be NULL)
 * frees <arg> when the event is done, committed or not. */
int ag_pipeline_event_write(struct ag_pipeline_event *pe, ag_store_job_fn fn, void *arg,
                            void (*cleanup)(void *arg));
/* Run <fn>(arg, rc) once the event's fate is durable (rc 0: committed), on
 * the store's writer thread: wake a worker, update hot state. Must be quick. */
int ag_pipeline_event_after(struct ag_pipeline_event *pe, void (*fn)(void *arg, int rc),
                            void *arg);
/* Add "key": value (stolen) to the response's decision object, e.g.
 * "challenge": {"id": ..., "methods": [...], "expires_at": ...}. */
void ag_pipeline_event_decision_extra(struct ag_pipeline_event *pe, const char *key,
                                      json_t *value);

/* Decisions by action since start, for /metrics. */
extern _Atomic uint64_t ag_pipeline_decisions[4];

#endif
