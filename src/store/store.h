/* The one storage interface. Every module reads and writes durable state
 * through these functions only; backends (sqlite.c, and PostgreSQL later)
 * implement them behind struct ag_store_ops (store_impl.h).
 *
 * Writes go through a single writer thread that runs queued jobs inside one
 * transaction and commits them together (group commit): a job's completion
 * callback runs only after the commit is durable, so a request is acknowledged
 * only when its writes are on disk, without one fsync per request. Each job
 * runs in its own savepoint: a failing job is rolled back alone.
 *
 * Reads use a pool of read connections and may run on any thread. */
#ifndef AG_STORE_STORE_H
#define AG_STORE_STORE_H

#include "core/err.h"
#include "core/metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_store;    /* opaque handle: backend, read pool, writer thread */
struct ag_store_tx; /* opaque: the writer's connection inside a transaction */

struct ag_store_options {
    int read_pool;        /* read connections (default 8) */
    int batch_max;        /* most jobs in one commit (default 2000) */
    int queue_max;        /* most queued jobs before AG_EUNAVAIL (default 100000) */
    bool no_migrate;      /* do not apply migrations at open */
};

/* Open the store at <url>: a file path or ":memory:" (SQLite), or
 * "postgres://..." (PostgreSQL). Applies pending migrations unless
 * <o>->no_migrate. Starts the writer thread. <o> may be NULL for defaults. */
int ag_store_open(const char *url, const struct ag_store_options *o, struct ag_store **out,
                  struct ag_err *err);
/* Drain the write queue, stop the writer, close every connection. */
void ag_store_close(struct ag_store *s);
/* Apply pending migrations; *from and *to get the schema versions. */
int ag_store_migrate(struct ag_store *s, int *from, int *to, struct ag_err *err);
/* The schema version this build knows. */
int ag_store_schema_version(void);
/* "sqlite" or "postgres". */
const char *ag_store_backend(const struct ag_store *s);
/* Check the database's integrity (SQLite: PRAGMA integrity_check). */
int ag_store_check(struct ag_store *s, struct ag_err *err);

/* ---- writes: group commit ---- */

/* A write job: runs on the writer thread inside the transaction. Return 0 to
 * keep its writes, or a negative code (with <err>) to roll back only this job.
 * A job may run more than once: a batch runs first without savepoints, and
 * when one of its jobs fails the batch is rolled back and run again with a
 * savepoint per job. So a job's effects outside the transaction must bear
 * repeating (or be made in <done>). */
typedef int (*ag_store_job_fn)(struct ag_store_tx *tx, void *arg, struct ag_err *err);
/* Called on the writer thread once the job's fate is durable: rc 0 if
 * committed, else the job's error or AG_EIO if the commit failed. Must not
 * block for long or submit jobs synchronously. */
typedef void (*ag_store_done_fn)(void *done_arg, int rc, const struct ag_err *err);

/* Queue <fn>(tx, arg). Returns 0 if queued (then <done> will be called exactly
 * once), or AG_EUNAVAIL if the queue is full or the store is closing (then
 * <done> is not called). */
int ag_store_submit(struct ag_store *s, ag_store_job_fn fn, void *arg, ag_store_done_fn done,
                    void *done_arg);
/* Queue <fn>(tx, arg) and wait until it is durable. Returns the job's rc. */
int ag_store_exec(struct ag_store *s, ag_store_job_fn fn, void *arg, struct ag_err *err);

/* Commit latency (seconds) of the writer, for /metrics. */
extern struct ag_histogram ag_store_commit_latency;
extern _Atomic uint64_t ag_store_commit_batches;
extern _Atomic uint64_t ag_store_commit_jobs;
/* The identity read cache's answers from memory and from the database
 * (both 0 on PostgreSQL, which does not cache). */
void ag_store_ident_cache_counts(struct ag_store *s, uint64_t *hits, uint64_t *misses);

/* ---- API keys ---- */

struct ag_apikey_rec {
    char id[40];       /* public part, "k_..." */
    char name[129];
    uint8_t hash[32];  /* keyed BLAKE2b of the secret part */
    char scopes[512];  /* space-separated */
    int64_t created_at;
    int64_t revoked_at; /* 0 = live */
};

int ag_store_apikey_put(struct ag_store_tx *tx, const struct ag_apikey_rec *k, struct ag_err *err);
/* AG_ENOTFOUND if no such key; revoking twice keeps the first time. */
int ag_store_apikey_revoke(struct ag_store_tx *tx, const char *id, int64_t at, struct ag_err *err);
int ag_store_apikey_get(struct ag_store *s, const char *id, struct ag_apikey_rec *out,
                        struct ag_err *err);
/* Calls <cb> for every key, oldest first; a non-zero return stops. */
int ag_store_apikey_list(struct ag_store *s, int (*cb)(void *arg, const struct ag_apikey_rec *k),
                         void *arg, struct ag_err *err);

/* ---- accounts ---- */

struct ag_account_rec {
    char id[129];
    char role[16];
    char state[16];        /* "active" or "frozen" */
    char frozen_reason[256];
    char frozen_by[129];
    int64_t frozen_until;  /* 0 = until unfrozen */
    char locale[16];
    int64_t created_at;
    int64_t updated_at;
};

/* Insert or update every column of the account. */
int ag_store_account_put(struct ag_store_tx *tx, const struct ag_account_rec *a, struct ag_err *err);
/* Insert the account unless it exists (AG_ECONFLICT then, nothing changed):
 * a new account seen by two nodes at once is created once, and neither
 * overwrites what the other (or a freeze) wrote. */
int ag_store_account_create(struct ag_store_tx *tx, const struct ag_account_rec *a,
                            struct ag_err *err);
/* Read through the writer's transaction (sees its uncommitted writes). */
int ag_store_account_get_tx(struct ag_store_tx *tx, const char *id, struct ag_account_rec *out,
                            struct ag_err *err);
int ag_store_account_get(struct ag_store *s, const char *id, struct ag_account_rec *out,
                         struct ag_err *err);
/* Every account, for rebuilding hot state at start. */
int ag_store_account_scan(struct ag_store *s, int (*cb)(void *arg, const struct ag_account_rec *a),
                          void *arg, struct ag_err *err);

/* The account's state changes (freeze, unfreeze), append-only. */
struct ag_account_log_rec {
    int64_t seq;
    char account_id[129];
    char action[32];
    char reason[256];
    char actor[129];
    int64_t until;
    int64_t at;
};
int ag_store_account_log_put(struct ag_store_tx *tx, const struct ag_account_log_rec *l,
                             struct ag_err *err);
int ag_store_account_log_list(struct ag_store *s, const char *account_id,
                              int (*cb)(void *arg, const struct ag_account_log_rec *l), void *arg,
                              struct ag_err *err);

/* ---- events and decisions ---- */

struct ag_event_rec {
    int64_t seq;              /* assigned by the store, increasing */
    const char *id;           /* client idempotency key */
    const char *account_id;
    const char *type;
    int64_t occurred_at;
    int64_t received_at;
    uint8_t request_hash[32]; /* of the canonical request, to detect a reused id */
    const char *event_json;   /* the event as received (canonical JSON) */
    const char *action;
    double risk;
    const char *response_json; /* the exact response, replayed on retries */
    const void *facts;         /* the rules' inputs, for backtests (pipeline/facts.h; may be NULL) */
    size_t facts_len;
};

/* Insert an event with its decision. AG_ECONFLICT if the id exists. */
int ag_store_event_put(struct ag_store_tx *tx, struct ag_event_rec *e, struct ag_err *err);

/* A stored event as read back; strings owned by the row. */
struct ag_event_row {
    int64_t seq;
    char *id, *account_id, *type, *event_json, *action, *response_json;
    void *facts; /* may be NULL */
    size_t facts_len;
    int64_t occurred_at, received_at;
    uint8_t request_hash[32];
    double risk;
};
void ag_event_row_free(struct ag_event_row *r);

int ag_store_event_get(struct ag_store *s, const char *id, struct ag_event_row *out,
                       struct ag_err *err);
/* Events of one account, newest first, with seq < <before_seq> (0 = from the
 * newest), at most <limit>. <cb> gets rows it must not keep. */
int ag_store_event_list_account(struct ag_store *s, const char *account_id, int64_t before_seq,
                                int limit, int (*cb)(void *arg, const struct ag_event_row *r),
                                void *arg, struct ag_err *err);
/* Events in seq order with seq > <after_seq>, at most <limit> (backtests,
 * replays, rebuilding state). */
int ag_store_event_scan(struct ag_store *s, int64_t after_seq, int limit,
                        int (*cb)(void *arg, const struct ag_event_row *r), void *arg,
                        struct ag_err *err);
int64_t ag_store_event_count(struct ag_store *s);
/* Every stored event id (for the pipeline's filter of known ids). */
int ag_store_event_ids_scan(struct ag_store *s, int (*cb)(void *arg, const char *id), void *arg,
                            struct ag_err *err);

/* ---- account activity (blob owned by pipeline/activity.c) ---- */

/* Set the activity blob of an existing account. */
int ag_store_activity_put(struct ag_store_tx *tx, const char *account_id, const void *blob,
                          size_t len, struct ag_err *err);
/* Every account that has an activity blob. */
int ag_store_activity_scan(struct ag_store *s,
                           int (*cb)(void *arg, const char *account_id, const void *blob, size_t len),
                           void *arg, struct ag_err *err);

/* ---- risk profiles (blobs owned by risk/) ---- */

int ag_store_profile_put(struct ag_store_tx *tx, const char *account_id, const void *blob,
                         size_t len, struct ag_err *err);
int ag_store_profile_scan(struct ag_store *s,
                          int (*cb)(void *arg, const char *account_id, const void *blob, size_t len),
                          void *arg, struct ag_err *err);

/* ---- subsystem records ----
 * Each subsystem's record types and functions are declared in its own
 * header under src/store/ and implemented in src/store/<name>.c against the
 * SQL layer (db.h), with its tables in a migration track (schema.c). They
 * are part of this interface: include store/store.h, not them. */

#include "store/audit.h"
#include "store/cases.h"

#include "store/cluster.h"
#include "store/identity.h"
#include "store/notify.h"
#include "store/intel.h"
#include "store/console.h"

#endif
