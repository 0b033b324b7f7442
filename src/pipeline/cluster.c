/* Several nodes on one PostgreSQL (docs/SCALING.md): the hot state that must
 * be the same on every node, and how each node keeps to it.
 *
 *  - Velocity: each node still counts in memory (ag_risk_learn), and also
 *    adds the event's counters to its own rows of vel_counters inside the
 *    event's transaction (store/cluster.h), so an event rolled back or
 *    answered from another node's row counts nothing. The enrich stage reads
 *    the sum over every node's rows in the window (one query) and takes, per
 *    counter, the larger of that and this node's count (which also holds its
 *    events not committed yet).
 *  - Account state (frozen, role): read through to the store for every event,
 *    so a freeze committed by any node is seen by the next event on every
 *    node; the in-memory copy is refreshed from what was read.
 *  - Idempotency: the in-flight table stays per node; across nodes the
 *    UNIQUE(id) of events decides, and the loser answers with the winner's
 *    stored reply (pipeline.c, persist_done).
 *
 * On SQLite (one node) nothing here is switched on. */
#include "pipeline/internal.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Counter kinds as stored (never renumber: rows outlive a release). */
enum {
    K_FAIL_ACCOUNT = 0,
    K_MFA_FAIL_ACCOUNT = 1,
    K_FAIL_IP = 2,
    K_ATTEMPT_IP = 3, /* n: attempts; bits: accounts */
    K_FAIL_PREFIX = 4,
    K_FAIL_ASN = 5,
    K_DEVICE = 6,     /* bits: accounts */
};

struct ag_cluster {
    struct ag_pipeline *p;
    struct ag_velocity *vel; /* the windows' arithmetic */
    int64_t node;
    pthread_t expirer;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping, started;
    _Atomic uint64_t read_errors;
};

static void vel_source(void *arg, const struct ag_velocity_keys *k, int64_t now,
                       struct ag_velocity_counts *c)
{
    struct ag_cluster *cl = arg;
    struct ag_store_vel_row q[AG_STORE_VEL_READ_MAX];
    int n = 0;
    if (k->account) {
        q[n++] = (struct ag_store_vel_row){.kind = K_FAIL_ACCOUNT, .key = (int64_t)k->account};
        q[n++] = (struct ag_store_vel_row){.kind = K_MFA_FAIL_ACCOUNT, .key = (int64_t)k->account};
    }
    if (k->ip) {
        q[n++] = (struct ag_store_vel_row){.kind = K_FAIL_IP, .key = (int64_t)k->ip};
        q[n++] = (struct ag_store_vel_row){.kind = K_ATTEMPT_IP, .key = (int64_t)k->ip};
    }
    if (k->prefix)
        q[n++] = (struct ag_store_vel_row){.kind = K_FAIL_PREFIX, .key = (int64_t)k->prefix};
    if (k->asn)
        q[n++] = (struct ag_store_vel_row){.kind = K_FAIL_ASN, .key = (int64_t)k->asn};
    if (k->device)
        q[n++] = (struct ag_store_vel_row){.kind = K_DEVICE, .key = (int64_t)k->device};
    if (!n)
        return;
    int64_t min_bucket = ag_velocity_bucket(cl->vel, now) - ag_velocity_buckets(cl->vel);
    struct ag_err err;
    if (ag_store_velocity_read(cl->p->store, min_bucket, q, n, &err)) {
        /* this node's counts still stand; say so once in a while */
        if (atomic_fetch_add(&cl->read_errors, 1) % 1000 == 0)
            ag_log(AG_LOG_WARN, "shared velocity not read", "error", err.msg, NULL);
        return;
    }
#define RAISE(field, v)                                                                          \
    do {                                                                                         \
        uint32_t v_ = (uint32_t)(v);                                                             \
        if (v_ > c->field)                                                                       \
            c->field = v_;                                                                       \
    } while (0)
    for (int i = 0; i < n; i++) {
        switch (q[i].kind) {
        case K_FAIL_ACCOUNT: RAISE(fail_account, q[i].n); break;
        case K_MFA_FAIL_ACCOUNT: RAISE(mfa_fail_account, q[i].n); break;
        case K_FAIL_IP: RAISE(fail_ip, q[i].n); break;
        case K_ATTEMPT_IP:
            RAISE(attempts_ip, q[i].n);
            RAISE(accounts_per_ip, ag_velocity_distinct_estimate(q[i].bits));
            break;
        case K_FAIL_PREFIX: RAISE(fail_prefix, q[i].n); break;
        case K_FAIL_ASN: RAISE(fail_asn, q[i].n); break;
        case K_DEVICE: RAISE(accounts_per_device, ag_velocity_distinct_estimate(q[i].bits)); break;
        }
    }
#undef RAISE
}

int ag_pipeline_cluster_persist(struct ag_store_tx *tx, struct ag_pipeline_event *c,
                                struct ag_err *err)
{
    struct ag_cluster *cl = c->p->cluster;
    if (!cl || !c->risk_done)
        return 0;
    unsigned what = ag_risk_learn_what(c->ev.type->flags);
    if (!what)
        return 0;
    const struct ag_risk_assessment *a = &c->risk;
    int64_t b = ag_velocity_bucket(cl->vel, a->at_ms); /* event time, as in memory */
    bool attempt = what & AG_VEL_REC_ATTEMPT, fail = what & AG_VEL_REC_FAIL,
         mfa = what & AG_VEL_REC_MFA_FAIL;
    uint64_t ip = a->ip_valid ? a->ip_key : 0, prefix = a->ip_valid ? a->prefix_key : 0;
    uint64_t device = a->has_device_id ? a->device_key : 0;
    uint64_t member = ag_velocity_member_bit(a->account_key);
    struct ag_store_vel_row r[8];
    int n = 0;
#define ROW(k, key_, n_, bits_)                                                                  \
    (r[n++] = (struct ag_store_vel_row){                                                         \
         .kind = (k), .key = (int64_t)(key_), .bucket = b, .n = (n_), .bits = (bits_)})
    if (a->account_key && fail)
        ROW(K_FAIL_ACCOUNT, a->account_key, 1, 0);
    if (a->account_key && mfa)
        ROW(K_MFA_FAIL_ACCOUNT, a->account_key, 1, 0);
    if (ip && fail)
        ROW(K_FAIL_IP, ip, 1, 0);
    if (ip && attempt)
        ROW(K_ATTEMPT_IP, ip, 1, member);
    if (prefix && fail)
        ROW(K_FAIL_PREFIX, prefix, 1, 0);
    if (a->asn_key && fail)
        ROW(K_FAIL_ASN, a->asn_key, 1, 0);
    if (device && attempt)
        ROW(K_DEVICE, device, 1, member);
#undef ROW
    return ag_store_velocity_add(tx, cl->node, r, n, err);
}

int ag_pipeline_cluster_account(struct ag_pipeline *p, const char *id, int64_t now,
                                struct ag_account_state *out)
{
    struct ag_account_rec a;
    struct ag_err err;
    int rc = ag_store_account_get(p->store, id, &a, &err);
    memset(out, 0, sizeof *out);
    if (rc == AG_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    bool frozen = !strcmp(a.state, "frozen");
    out->known = true;
    out->frozen = frozen && (a.frozen_until == 0 || now < a.frozen_until);
    out->frozen_until = a.frozen_until;
    snprintf(out->role, sizeof out->role, "%s", a.role);
    pthread_mutex_lock(&p->acct_lock);
    struct acct *h = ag_pipeline_acct_locked(p, id);
    if (h) {
        h->frozen = frozen;
        h->frozen_until = a.frozen_until;
        memcpy(h->role, out->role, sizeof h->role);
        out->login_held = h->activity.login_held;
    }
    pthread_mutex_unlock(&p->acct_lock);
    return 0;
}

/* ---- expiry: counters older than the window go, once a minute ---- */

struct expire_job {
    int64_t before, deleted;
};

static int expire_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct expire_job *j = arg;
    return ag_store_velocity_expire(tx, j->before, &j->deleted, err);
}

static void *expirer_main(void *arg)
{
    struct ag_cluster *cl = arg;
    pthread_mutex_lock(&cl->lock);
    while (!cl->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 60;
        pthread_cond_timedwait(&cl->cond, &cl->lock, &ts);
        if (cl->stopping)
            break;
        pthread_mutex_unlock(&cl->lock);
        struct expire_job j = {
            .before = ag_velocity_bucket(cl->vel, ag_time_now_ms()) - ag_velocity_buckets(cl->vel)};
        struct ag_err err;
        if (ag_store_exec(cl->p->store, expire_run, &j, &err) && err.code != AG_EUNAVAIL)
            ag_log(AG_LOG_WARN, "shared velocity expiry failed", "error", err.msg, NULL);
        pthread_mutex_lock(&cl->lock);
    }
    pthread_mutex_unlock(&cl->lock);
    return NULL;
}

int ag_pipeline_cluster_open(struct ag_pipeline *p, struct ag_err *err)
{
    if (strcmp(ag_store_backend(p->store), "postgres") != 0 || !p->risk)
        return 0;
    struct ag_cluster *cl = calloc(1, sizeof *cl);
    if (!cl)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    cl->p = p;
    cl->vel = ag_risk_velocity(p->risk);
    /* a random node id: rows of a node that went away expire with the window */
    randombytes_buf(&cl->node, sizeof cl->node);
    cl->node &= INT64_MAX;
    pthread_mutex_init(&cl->lock, NULL);
    pthread_cond_init(&cl->cond, NULL);
    if (pthread_create(&cl->expirer, NULL, expirer_main, cl)) {
        pthread_mutex_destroy(&cl->lock);
        pthread_cond_destroy(&cl->cond);
        free(cl);
        return ag_err_set(err, AG_EIO, NULL, "", "cannot start the velocity expiry thread");
    }
    cl->started = true;
    ag_risk_velocity_source(p->risk, vel_source, cl);
    p->cluster = cl;
    char node[24];
    snprintf(node, sizeof node, "%016llx", (unsigned long long)cl->node);
    ag_log(AG_LOG_INFO, "shared hot state on", "node", node, NULL);
    return 0;
}

void ag_pipeline_cluster_close(struct ag_pipeline *p)
{
    struct ag_cluster *cl = p->cluster;
    if (!cl)
        return;
    if (p->risk)
        ag_risk_velocity_source(p->risk, NULL, NULL);
    pthread_mutex_lock(&cl->lock);
    cl->stopping = true;
    pthread_cond_signal(&cl->cond);
    pthread_mutex_unlock(&cl->lock);
    if (cl->started)
        pthread_join(cl->expirer, NULL);
    pthread_mutex_destroy(&cl->lock);
    pthread_cond_destroy(&cl->cond);
    free(cl);
    p->cluster = NULL;
}
