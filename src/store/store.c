/* The generic half of the store: backend choice, the read-connection pool,
 * the group-commit writer thread, and dispatch of every operation to the
 * backend's table. */
#include "store/store_impl.h"
#include "store/schema.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
    ag_store_job_fn fn;
    void *arg;
    ag_store_done_fn done;
    void *done_arg;
    int rc;
    struct ag_err err;
    struct job *next;
};

struct ag_store {
    const struct ag_db_ops *ops;
    bool pg;
    struct ag_store_options opt;
    /* read pool */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    struct ag_db **pool;
    int npool, nfree;
    struct ag_db **free_conns;
    bool shared_writer; /* ":memory:": readers use the writer's connection */
    /* writer */
    struct ag_db *wconn;
    pthread_t writer;
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    struct job *q_head, *q_tail;
    int q_len;
    bool stopping, started;
    struct ag_ident_cache *icache; /* SQLite only */
};

struct ag_ident_cache *ag_store_ident_cache(struct ag_store *s) { return s->icache; }

struct ag_histogram ag_store_commit_latency = AG_HISTOGRAM_LATENCY;
_Atomic uint64_t ag_store_commit_batches;
_Atomic uint64_t ag_store_commit_jobs;

int ag_store_schema_version(void) { return ag_schema_latest(); }

static void *writer_main(void *p);

/* Apply pending migrations on <db> (outside a transaction). On PostgreSQL
 * several nodes may start at once: a session advisory lock lets one migrate
 * while the others wait, then find nothing left to do. */
static int schema_migrate(struct ag_store *s, struct ag_db *db, int *applied, struct ag_err *err)
{
    if (s->pg && ag_db_exec(db, "SELECT pg_advisory_lock(4207100001)", err))
        return AG_EIO;
    int rc = ag_schema_migrate(db, s->pg, applied, err);
    if (s->pg)
        ag_db_exec(db, "SELECT pg_advisory_unlock(4207100001)", NULL);
    return rc;
}

int ag_store_open(const char *url, const struct ag_store_options *o, struct ag_store **out,
                  struct ag_err *err)
{
    *out = NULL;
    bool pg = !strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13);
    const struct ag_db_ops *ops = pg ? &ag_db_pg_ops : &ag_db_sqlite_ops;
    struct ag_store *s = calloc(1, sizeof *s);
    if (!s)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    s->ops = ops;
    s->pg = pg;
    s->opt.read_pool = o && o->read_pool > 0 ? o->read_pool : 8;
    s->opt.batch_max = o && o->batch_max > 0 ? o->batch_max : 2000;
    s->opt.queue_max = o && o->queue_max > 0 ? o->queue_max : 100000;
    s->opt.no_migrate = o && o->no_migrate;
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_cond_init(&s->pool_cond, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_cond_init(&s->q_cond, NULL);
    /* ":memory:" is one in-memory database shared by the writer and the
     * readers (SQLite shared cache, readers reading uncommitted), so reads
     * need not wait for the writer's batches. */
    char memurl[96];
    if (!strcmp(url, ":memory:")) {
        char name[24];
        ag_id_random(name, sizeof name, "agmem", 16);
        snprintf(memurl, sizeof memurl, "file:%s?mode=memory&cache=shared", name);
        url = memurl;
    }
    int rc;
    if (!pg && !(s->icache = ag_ident_cache_new())) {
        rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        goto fail;
    }
    rc = ops->connect(url, true, &s->wconn, err);
    if (rc)
        goto fail;
    if (!s->opt.no_migrate) {
        int applied;
        if ((rc = schema_migrate(s, s->wconn, &applied, err)))
            goto fail;
    }
    s->shared_writer = false;
    int n = s->shared_writer ? 1 : s->opt.read_pool;
    s->pool = calloc((size_t)n, sizeof *s->pool);
    s->free_conns = calloc((size_t)n, sizeof *s->free_conns);
    if (!s->pool || !s->free_conns) {
        rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (s->shared_writer)
            s->pool[i] = s->wconn;
        else if ((rc = ops->connect(url, false, &s->pool[i], err)))
            goto fail;
        s->npool++;
        s->free_conns[s->nfree++] = s->pool[i];
    }
    if (pthread_create(&s->writer, NULL, writer_main, s)) {
        rc = ag_err_set(err, AG_EIO, NULL, "", "cannot start the store writer thread");
        goto fail;
    }
    s->started = true;
    *out = s;
    return 0;
fail:
    ag_store_close(s);
    return rc;
}

void ag_store_close(struct ag_store *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->q_lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->q_cond);
        pthread_mutex_unlock(&s->q_lock);
        pthread_join(s->writer, NULL);
    }
    for (int i = 0; i < s->npool; i++)
        if (s->pool[i] != s->wconn)
            s->ops->disconnect(s->pool[i]);
    if (s->wconn)
        s->ops->disconnect(s->wconn);
    free(s->pool);
    free(s->free_conns);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_cond_destroy(&s->pool_cond);
    pthread_mutex_destroy(&s->q_lock);
    pthread_cond_destroy(&s->q_cond);
    ag_ident_cache_free(s->icache);
    free(s);
}

const char *ag_store_backend(const struct ag_store *s) { return s->ops->name; }

/* ---- read pool ---- */

static struct ag_db *conn_get(struct ag_store *s)
{
    pthread_mutex_lock(&s->pool_lock);
    while (s->nfree == 0)
        pthread_cond_wait(&s->pool_cond, &s->pool_lock);
    struct ag_db *c = s->free_conns[--s->nfree];
    if (!s->shared_writer)
        pthread_mutex_unlock(&s->pool_lock);
    /* In shared-writer mode the pool lock stays held: the one connection is
     * used by readers one at a time (the writer takes q_lock + this lock). */
    return c;
}

static void conn_put(struct ag_store *s, struct ag_db *c)
{
    if (!s->shared_writer)
        pthread_mutex_lock(&s->pool_lock);
    s->free_conns[s->nfree++] = c;
    pthread_cond_signal(&s->pool_cond);
    pthread_mutex_unlock(&s->pool_lock);
}

struct ag_db *ag_store_read_acquire(struct ag_store *s) { return conn_get(s); }
void ag_store_read_release(struct ag_store *s, struct ag_db *db) { conn_put(s, db); }

/* Migrations run on the writer's connection, as a job, so they never race
 * the writer thread. */
struct migrate_job {
    int from, to, applied;
};

static int migrate_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct migrate_job *m = arg;
    /* Leave the batch's transaction: each migration has its own. */
    struct ag_err e2;
    if (ag_db_exec(tx->db, "RELEASE job", &e2) || ag_db_exec(tx->db, "COMMIT", &e2))
        return ag_err_set(err, AG_EIO, "store_error", "", "%s", e2.msg);
    m->from = ag_schema_current(tx->db, err);
    int rc = schema_migrate(tx->s, tx->db, &m->applied, err);
    m->to = ag_schema_current(tx->db, NULL);
    struct ag_err e3;
    ag_db_exec(tx->db, tx->s->ops->begin_sql, &e3);
    ag_db_exec(tx->db, "SAVEPOINT job", &e3);
    return rc;
}

int ag_store_migrate(struct ag_store *s, int *from, int *to, struct ag_err *err)
{
    struct migrate_job m = {0};
    int rc = ag_store_exec(s, migrate_run, &m, err);
    *from = m.from;
    *to = m.to;
    return rc;
}

int ag_store_check(struct ag_store *s, struct ag_err *err)
{
    struct ag_db *c = conn_get(s);
    int rc = s->ops->check(c, err);
    conn_put(s, c);
    return rc;
}

/* ---- writer ---- */

int ag_store_submit(struct ag_store *s, ag_store_job_fn fn, void *arg, ag_store_done_fn done,
                    void *done_arg)
{
    struct job *j = ag_malloc(sizeof *j);
    if (!j)
        return AG_EUNAVAIL;
    memset(j, 0, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->done = done;
    j->done_arg = done_arg;
    pthread_mutex_lock(&s->q_lock);
    if (s->stopping || s->q_len >= s->opt.queue_max) {
        pthread_mutex_unlock(&s->q_lock);
        free(j);
        return AG_EUNAVAIL;
    }
    if (s->q_tail)
        s->q_tail->next = j;
    else
        s->q_head = j;
    s->q_tail = j;
    s->q_len++;
    pthread_cond_signal(&s->q_cond);
    pthread_mutex_unlock(&s->q_lock);
    return 0;
}

struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int rc;
    struct ag_err err;
};

static void sync_done(void *p, int rc, const struct ag_err *err)
{
    struct sync_wait *w = p;
    pthread_mutex_lock(&w->lock);
    w->rc = rc;
    if (err)
        w->err = *err;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int ag_store_exec(struct ag_store *s, ag_store_job_fn fn, void *arg, struct ag_err *err)
{
    struct sync_wait w = {.done = false};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    int rc = ag_store_submit(s, fn, arg, sync_done, &w);
    if (rc) {
        ag_err_set(err, rc, NULL, "", "the store is not accepting writes");
    } else {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        rc = w.rc;
        if (rc && err)
            *err = w.err;
    }
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return rc;
}

static void run_batch(struct ag_store *s, struct job *batch)
{
    struct ag_store_tx tx = {.s = s, .db = s->wconn};
    struct ag_err err;
    int64_t t0 = ag_time_mono_ns();
    if (s->shared_writer)
        pthread_mutex_lock(&s->pool_lock);
    int brc = s->ops->exec(s->wconn, s->ops->begin_sql, &err);
    int n = 0;
    /* A savepoint per job costs two statements (on PostgreSQL two round
     * trips) per job. Run the batch without them first; only if a job fails
     * (or leaves the transaction aborted) is it rolled back and run again
     * with one savepoint per job, so that the failing job fails alone. Jobs
     * are therefore written to be run again (store.h). */
    bool fast = false;
    if (!brc) {
        fast = true;
        for (struct job *j = batch; j && fast; j = j->next)
            fast = (j->rc = j->fn(&tx, j->arg, &j->err)) == 0;
        if (fast && ag_fault_rerun_fire())
            fast = false; /* AG_FAULT builds: as if a job had failed */
        if (fast && s->ops->exec(s->wconn, "SAVEPOINT job", NULL))
            fast = false; /* a job swallowed an error that aborted the transaction */
        if (!fast) {
            s->ops->exec(s->wconn, "ROLLBACK", NULL);
            for (struct job *j = batch; j; j = j->next) {
                j->rc = 0;
                memset(&j->err, 0, sizeof j->err);
            }
            brc = s->ops->exec(s->wconn, s->ops->begin_sql, &err);
        }
    }
    for (struct job *j = batch; j; j = j->next, n++) {
        if (fast)
            continue;
        if (brc) {
            j->rc = brc;
            j->err = err;
            continue;
        }
        if (s->ops->exec(s->wconn, "SAVEPOINT job", NULL)) {
            j->rc = ag_err_set(&j->err, AG_EIO, NULL, "", "store savepoint failed");
            continue;
        }
        /* A job that lost a deadlock or a serialization race (PostgreSQL,
         * several nodes) rolls back alone and runs again. */
        for (int attempt = 0;; attempt++) {
            ((struct ag_db_base *)s->wconn)->retryable = false;
            j->rc = j->fn(&tx, j->arg, &j->err);
            if (!j->rc && s->ops->exec(s->wconn, "RELEASE job", &j->err))
                j->rc = AG_EIO; /* the job swallowed an error that aborted the transaction */
            if (!j->rc)
                break;
            s->ops->exec(s->wconn, "ROLLBACK TO job", NULL);
            if (!((struct ag_db_base *)s->wconn)->retryable || attempt >= 4) {
                s->ops->exec(s->wconn, "RELEASE job", NULL);
                break;
            }
            ag_log(AG_LOG_WARN, "store job retried", "error", j->err.msg, NULL);
            memset(&j->err, 0, sizeof j->err);
        }
    }
    /* AG_FAULT builds: every k-th batch's commit fails (the batch rolls
     * back whole, as it would on a real I/O error). */
    if (!brc && ag_fault_commit_fire() && !s->ops->exec(s->wconn, "ROLLBACK", NULL)) {
        ag_err_set(&err, AG_EIO, "store_error", "", "injected commit failure");
        for (struct job *j = batch; j; j = j->next)
            if (!j->rc) {
                j->rc = AG_EIO;
                j->err = err;
            }
        brc = AG_EIO;
    }
    if (!brc && s->ops->exec(s->wconn, "COMMIT", &err)) {
        s->ops->exec(s->wconn, "ROLLBACK", NULL);
        ag_log(AG_LOG_ERROR, "store commit failed", "error", err.msg, NULL);
        for (struct job *j = batch; j; j = j->next) {
            if (!j->rc) {
                j->rc = AG_EIO;
                j->err = err;
            }
        }
    }
    if (s->shared_writer)
        pthread_mutex_unlock(&s->pool_lock);
    ag_store_ident_cache_settled(&tx);
    ag_histogram_observe_ns(&ag_store_commit_latency, ag_time_mono_ns() - t0);
    atomic_fetch_add(&ag_store_commit_batches, 1);
    atomic_fetch_add(&ag_store_commit_jobs, (uint64_t)n);
    for (struct job *j = batch, *next; j; j = next) {
        next = j->next;
        if (j->done)
            j->done(j->done_arg, j->rc, j->rc ? &j->err : NULL);
        free(j);
    }
}

static void *writer_main(void *p)
{
    struct ag_store *s = p;
    for (;;) {
        pthread_mutex_lock(&s->q_lock);
        while (!s->q_head && !s->stopping)
            pthread_cond_wait(&s->q_cond, &s->q_lock);
        if (!s->q_head && s->stopping) {
            pthread_mutex_unlock(&s->q_lock);
            break;
        }
        struct job *batch = s->q_head, *last = batch;
        int n = 1;
        while (last->next && n < s->opt.batch_max) {
            last = last->next;
            n++;
        }
        s->q_head = last->next;
        if (!s->q_head)
            s->q_tail = NULL;
        last->next = NULL;
        s->q_len -= n;
        pthread_mutex_unlock(&s->q_lock);
        run_batch(s, batch);
    }
    return NULL;
}

void ag_event_row_free(struct ag_event_row *r)
{
    free(r->id);
    free(r->account_id);
    free(r->type);
    free(r->event_json);
    free(r->action);
    free(r->response_json);
    free(r->facts);
    memset(r, 0, sizeof *r);
}
