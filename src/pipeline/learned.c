/* Write-behind of what the pipeline learns per account (one node).
 *
 * Every event changes its account's risk profile and activity, and the
 * pipeline keeps both in memory: the store is where they are found again
 * after a restart. Writing them in each event's transaction cost two
 * upserts on random pages per event — a third of the writer's work under
 * load. Instead an account's latest blobs wait here and are written at most
 * once per learned_flush_ms, by small flush jobs (FLUSH_MAX accounts each,
 * so a flush never stalls the writer for long), and all of them when the
 * pipeline closes. A crash loses at most the last learned_flush_ms of
 * learning (the events themselves are durable before they are answered).
 *
 * Everything here except the flusher thread runs on the store's writer
 * thread (persist jobs, flush jobs and their done callbacks), so the map and
 * the queue need no lock; the flusher only submits jobs. A flush job only
 * reads the queue and records what it wrote, since a job may run twice
 * (store.h); entries leave the queue in its done callback, once committed,
 * unless they were noted again meanwhile. Several nodes (cluster.c) merge
 * under the row lock with every event and do not come here. */
#include "pipeline/internal.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_MAX 256
/* Beyond this many accounts waiting, new ones are written with their event
 * (an entry is about 400 bytes with typical blobs: 40 MB at most). */
#define MAX_ENTRIES 100000

struct wb_entry {
    struct wb_entry *prev, *next; /* queue, oldest first */
    uint64_t version;             /* bumped by every note */
    int64_t since_ms;             /* first noted since last written */
    size_t plen, alen;
    uint8_t *blobs; /* the profile's plen bytes, then the activity's alen */
    char account_id[];
};

struct ag_learned_wb {
    struct ag_pipeline *p;
    int flush_ms;
    struct ag_strmap map; /* account id -> entry */
    struct wb_entry *head, *tail;
    _Atomic size_t n;
    _Atomic bool flushing; /* a flush job is queued or running */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop, started;
};

static void unlink_entry(struct ag_learned_wb *wb, struct wb_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        wb->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        wb->tail = e->prev;
    e->prev = e->next = NULL;
}

/* Queue <e> at the tail, due <since_ms> + flush_ms. */
static void append_entry(struct ag_learned_wb *wb, struct wb_entry *e, int64_t since_ms)
{
    e->since_ms = since_ms;
    e->next = NULL;
    e->prev = wb->tail;
    if (wb->tail)
        wb->tail->next = e;
    else
        wb->head = e;
    wb->tail = e;
}

int ag_pipeline_wb_note(struct ag_pipeline *p, const char *account_id, const uint8_t *profile,
                        size_t plen, const uint8_t *activity, size_t alen, int64_t now_ms)
{
    struct ag_learned_wb *wb = p->wb;
    if (!wb || plen > AG_PROFILE_BLOB_MAX || alen > AG_ACTIVITY_BLOB_MAX ||
        strlen(account_id) > AG_ID_MAX)
        return AG_ELIMIT;
    struct wb_entry *e = ag_strmap_get(&wb->map, account_id);
    /* a profile or activity not learned by this event keeps its last value */
    size_t np = plen ? plen : e ? e->plen : 0, na = alen ? alen : e ? e->alen : 0;
    uint8_t *blobs = malloc(np + na ? np + na : 1);
    if (!blobs)
        return AG_ELIMIT;
    if (np)
        memcpy(blobs, plen ? profile : e->blobs, np);
    if (na)
        memcpy(blobs + np, alen ? activity : e->blobs + e->plen, na);
    if (!e) {
        size_t idlen = strlen(account_id);
        if (atomic_load(&wb->n) >= MAX_ENTRIES || !(e = calloc(1, sizeof *e + idlen + 1))) {
            free(blobs);
            return AG_ELIMIT;
        }
        memcpy(e->account_id, account_id, idlen + 1);
        if (ag_strmap_put(&wb->map, account_id, e, NULL)) {
            free(blobs);
            free(e);
            return AG_ELIMIT;
        }
        append_entry(wb, e, now_ms);
        atomic_fetch_add(&wb->n, 1);
    }
    free(e->blobs);
    e->blobs = blobs;
    e->plen = np;
    e->alen = na;
    e->version++;
    return 0;
}

struct taken {
    struct wb_entry *e;
    uint64_t version;
};

struct flush_job {
    struct ag_learned_wb *wb;
    int64_t cutoff_ms; /* entries first noted at or before it; INT64_MAX: all */
    size_t max;
    size_t n, cap;
    struct taken *taken;
};

static int flush_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct flush_job *j = arg;
    j->n = 0; /* a run after a rollback starts afresh */
    for (struct wb_entry *e = j->wb->head; e && j->n < j->max && e->since_ms <= j->cutoff_ms;
         e = e->next) {
        if (j->n == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 64;
            struct taken *t = realloc(j->taken, cap * sizeof *t);
            if (!t)
                return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            j->taken = t;
            j->cap = cap;
        }
        int rc;
        if ((e->plen && (rc = ag_store_profile_put(tx, e->account_id, e->blobs, e->plen, err))) ||
            (e->alen &&
             (rc = ag_store_activity_put(tx, e->account_id, e->blobs + e->plen, e->alen, err))))
            return rc;
        j->taken[j->n++] = (struct taken){e, e->version};
    }
    return 0;
}

/* On the writer thread, after the flush's commit (or its failure). */
static void flush_settle(struct flush_job *j, int rc)
{
    struct ag_learned_wb *wb = j->wb;
    if (rc) {
        ag_log(AG_LOG_WARN, "learned state not flushed; will retry", NULL);
        return;
    }
    int64_t now = ag_time_now_ms();
    for (size_t i = 0; i < j->n; i++) {
        struct wb_entry *e = j->taken[i].e;
        unlink_entry(wb, e);
        if (e->version != j->taken[i].version) {
            append_entry(wb, e, now); /* noted again after the write: due from now */
            continue;
        }
        ag_strmap_del(&wb->map, e->account_id);
        free(e->blobs);
        free(e);
        atomic_fetch_sub(&wb->n, 1);
    }
}

static void flush_done(void *arg, int rc, const struct ag_err *err)
{
    (void)err;
    struct flush_job *j = arg;
    flush_settle(j, rc);
    atomic_store(&j->wb->flushing, false);
    free(j->taken);
    free(j);
}

static void *flusher_main(void *arg)
{
    struct ag_learned_wb *wb = arg;
    pthread_mutex_lock(&wb->lock);
    while (!wb->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long step_ms = wb->flush_ms / 4 > 10 ? wb->flush_ms / 4 : 10;
        ts.tv_nsec += (step_ms % 1000) * 1000000L;
        ts.tv_sec += step_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&wb->cond, &wb->lock, &ts);
        if (wb->stop || !atomic_load(&wb->n) || atomic_exchange(&wb->flushing, true))
            continue;
        struct flush_job *j = calloc(1, sizeof *j);
        if (!j) {
            atomic_store(&wb->flushing, false);
            continue;
        }
        *j = (struct flush_job){.wb = wb, .cutoff_ms = ag_time_now_ms() - wb->flush_ms,
                                .max = FLUSH_MAX};
        if (ag_store_submit(wb->p->store, flush_run, j, flush_done, j)) {
            free(j);
            atomic_store(&wb->flushing, false);
        }
    }
    pthread_mutex_unlock(&wb->lock);
    return NULL;
}

int ag_pipeline_wb_open(struct ag_pipeline *p, int flush_ms, struct ag_err *err)
{
    if (flush_ms <= 0 || p->ephemeral || p->cluster ||
        strcmp(ag_store_backend(p->store), "sqlite") != 0)
        return 0; /* written with every event (several nodes: merged, cluster.c) */
    struct ag_learned_wb *wb = calloc(1, sizeof *wb);
    if (!wb)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    wb->p = p;
    wb->flush_ms = flush_ms;
    pthread_mutex_init(&wb->lock, NULL);
    pthread_cond_init(&wb->cond, NULL);
    if (pthread_create(&wb->thread, NULL, flusher_main, wb)) {
        pthread_mutex_destroy(&wb->lock);
        pthread_cond_destroy(&wb->cond);
        free(wb);
        return ag_err_set(err, AG_EIO, NULL, "", "cannot start the learned-state flusher");
    }
    wb->started = true;
    p->wb = wb;
    return 0;
}

static int free_entry(void *arg, const char *key, void *value)
{
    (void)arg;
    (void)key;
    struct wb_entry *e = value;
    free(e->blobs);
    free(e);
    return 0;
}

void ag_pipeline_wb_close(struct ag_pipeline *p)
{
    struct ag_learned_wb *wb = p->wb;
    if (!wb)
        return;
    pthread_mutex_lock(&wb->lock);
    wb->stop = true;
    pthread_cond_signal(&wb->cond);
    pthread_mutex_unlock(&wb->lock);
    if (wb->started)
        pthread_join(wb->thread, NULL);
    /* A flush job still queued runs (and settles) before ours: one writer,
     * in order. No event is under way any more, so nothing else touches the
     * queue while this thread settles. */
    while (atomic_load(&wb->n)) {
        struct flush_job j = {.wb = wb, .cutoff_ms = INT64_MAX, .max = 4096};
        struct ag_err err;
        int rc = ag_store_exec(p->store, flush_run, &j, &err);
        flush_settle(&j, rc);
        free(j.taken);
        if (rc) {
            ag_log(AG_LOG_ERROR, "learned state not written at close", "error", err.msg, NULL);
            break;
        }
    }
    ag_strmap_each(&wb->map, free_entry, NULL);
    ag_strmap_free(&wb->map);
    pthread_mutex_destroy(&wb->lock);
    pthread_cond_destroy(&wb->cond);
    free(wb);
    p->wb = NULL;
}
