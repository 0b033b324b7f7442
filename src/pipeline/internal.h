/* Internal to src/pipeline: the pipeline's state and the per-event context
 * shared by pipeline.c (submit, idempotency, persist, extension API) and
 * stages.c (enrich, features, score, decide, act). */
#ifndef AG_PIPELINE_INTERNAL_H
#define AG_PIPELINE_INTERNAL_H

#include "core/strmap.h"
#include "pipeline/activity.h"
#include "pipeline/pipeline.h"
#include "risk/ipintel.h"
#include "risk/risk.h"
#include "rules/fields.h"
#include "rules/rules.h"

#include <pthread.h>

#define AG_RISK_MAX_CODES 32


struct acct {
    bool frozen;
    int64_t frozen_until;
    char role[16];
    struct ag_activity activity;
    /* Several nodes (cluster.c): the stored versions of the account's risk
     * profile and activity that this node's memory holds (0: none known). */
    int64_t profile_ver, activity_ver;
};

struct waiter {
    ag_pipeline_done_fn done;
    void *arg;
    uint8_t hash[32];
    struct waiter *next;
};

struct inflight {
    uint8_t hash[32];
    struct waiter *waiters;
};

#define MAX_HOOKS 32

struct ag_pipeline {
    const struct ag_config *cfg;
    struct ag_store *store;
    const struct ag_pipeline_hook *hooks;
    int nhooks;
    void *hook_state[MAX_HOOKS];
    pthread_mutex_t acct_lock;
    struct ag_strmap accounts; /* id -> struct acct */
    pthread_mutex_t inflight_lock;
    struct ag_strmap inflight; /* event id -> struct inflight */
    struct ag_risk_engine *risk;     /* NULL: no model (decisions from state and rules) */
    struct ag_rules_holder *rules;   /* the current rule set, swapped on reload */
    char rules_path[1024];           /* "" = the built-in default rules */
    enum ag_action first_login_cap;  /* first_login_action */
    /* Bloom filter of stored event ids (one node on SQLite only): an id it
     * has never seen is new, so most events skip the store read that checks
     * idempotency. NULL: always read (several nodes share the store). */
    _Atomic uint64_t *known_ids;
    struct ag_cluster *cluster;      /* shared hot state (PostgreSQL); NULL: one node */
    bool ephemeral;                  /* ag_pipeline_options.ephemeral */
    bool lean; /* ephemeral without hooks: nobody reads the reasons' details or a reply body */
    /* Events' contexts kept for reuse (about 11 KB each: allocating and
     * freeing one per event churned the allocator). */
    pthread_mutex_t pool_lock;
    struct ag_pipeline_event *pool;
    int npool;
    struct ag_learned_wb *wb; /* learned.c; NULL: learned state written with each event */
};

/* learned.c: profiles and activity written behind (one node). */
int ag_pipeline_wb_open(struct ag_pipeline *p, int flush_ms, struct ag_err *err);
void ag_pipeline_wb_close(struct ag_pipeline *p);
/* On the writer thread: keep the account's latest blobs (a zero length
 * keeps the previous one) to be written within flush_ms. AG_ELIMIT: not
 * taken (none kept, or too many accounts waiting): write them now. */
int ag_pipeline_wb_note(struct ag_pipeline *p, const char *account_id, const uint8_t *profile,
                        size_t plen, const uint8_t *activity, size_t alen, int64_t now_ms);

struct queued_write {
    ag_store_job_fn fn;
    void *arg;
    void (*cleanup)(void *arg);
};

struct after {
    void (*fn)(void *arg, int rc);
    void *arg;
};

struct arena_block {
    struct arena_block *next;
    char data[];
};

/* Everything one event carries through the stages (struct
 * ag_pipeline_event is this, seen from the hooks). */
struct ag_pipeline_event {
    struct ag_pipeline *p;
    struct ag_pipeline_event *pool_next; /* in p->pool */
    json_t *json;
    json_t *own_json; /* an event given as fields: its JSON form, made here */
    struct ag_event ev;
    char request_id[48];
    char *canonical;
    uint8_t hash[32];
    struct ag_account_state acct;
    struct ag_decision decision;
    char *response;
    size_t response_len;
    struct ag_event_rec rec;
    struct ag_err err;
    ag_pipeline_done_fn done;
    void *done_arg;
    /* extension state */
    struct ag_rules_value facts[AG_RF_COUNT];
    struct arena_block *arena;
    struct queued_write *writes;
    int nwrites, capwrites;
    struct after *afters;
    int nafters, capafters;
    bool afters_done;
    json_t *decision_extra;
    /* risk, rules and activity */
    const struct ag_risk_given *given;
    struct ag_risk_assessment risk;
    bool risk_done;
    bool learn_profile;         /* the event's context joins the account's profile */
    bool learn_profile_stored;  /* the same, decided by the writer on the stored state */
    enum ag_action base_action; /* before the rules */
    struct ag_activity_input ain;
    size_t profile_len, activity_len;
    char *facts_blob;           /* snapshot for backtests (facts.h) */
    size_t facts_len;
    const char *risk_codes[AG_RISK_MAX_CODES];
    int64_t hold_until_ms;        /* a payout hold this event starts */
    int64_t hold_active_until_ms; /* the account's current payout hold */
    /* Several nodes (cluster.c): the versions of the profile and activity
     * the event was scored against, and those found under the row lock
     * when it was stored (its blobs above are then the merged ones). */
    int64_t profile_ver, activity_ver;
    int64_t stored_profile_ver, stored_activity_ver;
    /* Last, and not cleared when a context is reused (ctx_new): only their
     * first profile_len / activity_len bytes are ever read. */
    uint8_t profile_blob[AG_PROFILE_BLOB_MAX];
    uint8_t activity_blob[AG_ACTIVITY_BLOB_MAX];
};
#define ctx ag_pipeline_event


/* stages.c */
int ag_pipeline_stage_enrich(struct ag_pipeline_event *c);
int ag_pipeline_stage_features(struct ag_pipeline_event *c);
int ag_pipeline_stage_score(struct ag_pipeline_event *c);
int ag_pipeline_stage_decide(struct ag_pipeline_event *c);
int ag_pipeline_stage_act(struct ag_pipeline_event *c);
/* After the decision, before persist: learn the event into the profile,
 * velocity and activity; fill the blobs to persist (one node). */
void ag_pipeline_learn(struct ag_pipeline_event *c);
/* Does <c>'s context join the account's profile? A successful login neither
 * challenged nor denied does, and an event passing a held login's second
 * factor (<passed>); never one without context or denied. */
bool ag_pipeline_learns_profile(const struct ag_pipeline_event *c, bool passed);
/* Record the event <c> into the activity <a>: ag_activity_update and the
 * payout hold it starts. */
int ag_pipeline_activity_learn(struct ag_activity *a, const struct ag_pipeline_event *c);
/* Open/close the risk engine and the rules (from cfg). */
int ag_pipeline_models_open(struct ag_pipeline *p, struct ag_err *err);
void ag_pipeline_models_close(struct ag_pipeline *p);
void ag_pipeline_account_state_fill(struct ag_pipeline *p, const char *id, int64_t now,
                                    struct ag_account_state *out);
/* <a>'s state as of <now> (NULL: an account never seen); call with
 * acct_lock held. */
void ag_pipeline_acct_state_locked(const struct acct *a, int64_t now, struct ag_account_state *out);
/* The hot account record (created if missing); call with acct_lock held. */
struct acct *ag_pipeline_acct_locked(struct ag_pipeline *p, const char *id);

/* cluster.c: hot state shared by several nodes on one PostgreSQL. open is a
 * no-op on SQLite. account reads the account's state through to the store
 * (0, or an error: then the in-memory state stands); persist adds the
 * event's velocity counters in its transaction.
 *
 * The account's learned state (risk profile, activity): refresh, before the
 * event is scored, reads the account's state and whichever of its blobs
 * another node changed in one query, loads them into memory and fills
 * c->acct; learn, in the event's transaction, locks the account's row and
 * writes the stored blobs with this event merged in (next versions); learned,
 * after the commit (rc 0), brings memory up to what was stored, or after a
 * failure (memory learned an event that was not stored) has the next read
 * reload what is. */
/* Several nodes: store <text> (compiled already) as the newest published
 * rules, which every node loads within a second; 0 on one node. */
int ag_pipeline_cluster_rules_publish(struct ag_pipeline *p, const char *text, size_t len,
                                      const char *actor, int64_t *version, struct ag_err *err);
/* This node now runs published <version> (<text>), swapped in by the caller. */
void ag_pipeline_cluster_rules_running(struct ag_pipeline *p, const char *text, size_t len,
                                       int64_t version);
/* The text of the published rules this node runs (malloc'd); AG_ENOTFOUND
 * on one node or when it runs its own file's. */
int ag_pipeline_cluster_rules_text(struct ag_pipeline *p, char **text, size_t *len);
/* This node reloaded its own rules file (SIGHUP): it runs that text now,
 * until the next publication. */
void ag_pipeline_cluster_rules_own(struct ag_pipeline *p);
int ag_pipeline_cluster_open(struct ag_pipeline *p, struct ag_err *err);
void ag_pipeline_cluster_close(struct ag_pipeline *p);
int ag_pipeline_cluster_account(struct ag_pipeline *p, const char *id, int64_t now,
                                struct ag_account_state *out);
int ag_pipeline_cluster_persist(struct ag_store_tx *tx, struct ag_pipeline_event *c,
                                struct ag_err *err);
void ag_pipeline_cluster_refresh(struct ag_pipeline_event *c);
int ag_pipeline_cluster_learn(struct ag_store_tx *tx, struct ag_pipeline_event *c,
                              struct ag_err *err);
void ag_pipeline_cluster_learned(struct ag_pipeline_event *c, int rc);

#endif
