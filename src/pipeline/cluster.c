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
 *  - Learned state (risk profiles, account activity): refreshed on read and
 *    merged on write. Before an event is scored, the read of the account's
 *    state also brings the profile and activity blobs whose stored version
 *    is above the one in this node's memory, and loads them. In the event's
 *    transaction the writer locks the account's row, reads the stored blobs
 *    and writes them back with this event learned on top (version + 1), so
 *    two nodes learning one account at once both count. After the commit,
 *    memory takes the stored blob unless it already holds exactly that.
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
    _Atomic int64_t rules_version; /* the published rules this node runs (0: its file's) */
    char *rules_text;              /* their text (under lock) */
    size_t rules_len;
};

/* Remember <text> as the published rules this node runs (takes it). */
static void rules_keep(struct ag_cluster *cl, char *text, size_t len)
{
    pthread_mutex_lock(&cl->lock);
    free(cl->rules_text);
    cl->rules_text = text;
    cl->rules_len = len;
    pthread_mutex_unlock(&cl->lock);
}

void ag_pipeline_cluster_rules_own(struct ag_pipeline *p)
{
    if (p->cluster)
        rules_keep(p->cluster, NULL, 0);
}

int ag_pipeline_cluster_rules_text(struct ag_pipeline *p, char **text, size_t *len)
{
    struct ag_cluster *cl = p->cluster;
    if (!cl)
        return AG_ENOTFOUND;
    int rc = AG_ENOTFOUND;
    pthread_mutex_lock(&cl->lock);
    if (cl->rules_text) {
        rc = (*text = malloc(cl->rules_len + 1)) ? 0 : AG_ENOMEM;
        if (!rc) {
            memcpy(*text, cl->rules_text, cl->rules_len + 1);
            *len = cl->rules_len;
        }
    }
    pthread_mutex_unlock(&cl->lock);
    return rc;
}

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

/* The stored account <a> as of <now> into <out>, and into the hot record
 * <h> (may be NULL); call with acct_lock held. */
static void account_apply(struct acct *h, const struct ag_account_rec *a, int64_t now,
                          struct ag_account_state *out)
{
    bool frozen = !strcmp(a->state, "frozen");
    memset(out, 0, sizeof *out);
    out->known = true;
    out->frozen = frozen && (a->frozen_until == 0 || now < a->frozen_until);
    out->frozen_until = a->frozen_until;
    snprintf(out->role, sizeof out->role, "%s", a->role);
    if (h) {
        h->frozen = frozen;
        h->frozen_until = a->frozen_until;
        memcpy(h->role, out->role, sizeof h->role);
    }
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
    pthread_mutex_lock(&p->acct_lock);
    account_apply(ag_pipeline_acct_locked(p, id), &a, now, out);
    pthread_mutex_unlock(&p->acct_lock);
    return 0;
}

/* ---- learned state: refresh on read, merge on write ---- */

void ag_pipeline_cluster_refresh(struct ag_pipeline_event *c)
{
    struct ag_pipeline *p = c->p;
    struct ag_cluster *cl = p->cluster;
    const char *id = c->ev.account_id;
    int64_t now = c->ev.received_at_ms, have_profile = 0, have_activity = 0;
    pthread_mutex_lock(&p->acct_lock);
    struct acct *h = ag_strmap_get(&p->accounts, id);
    if (h) {
        have_profile = h->profile_ver;
        have_activity = h->activity_ver;
    }
    pthread_mutex_unlock(&p->acct_lock);
    /* the event's blob buffers are free until the writer fills them */
    struct ag_store_learned l = {.profile = c->profile_blob,
                                 .profile_cap = sizeof c->profile_blob,
                                 .activity = c->activity_blob,
                                 .activity_cap = sizeof c->activity_blob};
    struct ag_account_rec a;
    struct ag_err err;
    int rc = ag_store_learned_get(p->store, id, have_profile, have_activity, &a, &l, &err);
    if (rc && rc != AG_ENOTFOUND && atomic_fetch_add(&cl->read_errors, 1) % 1000 == 0)
        ag_log(AG_LOG_WARN, "account not read from the store; this node's view stands", "error",
               err.msg, NULL);
    pthread_mutex_lock(&p->acct_lock);
    if (rc) {
        /* no such account yet, or the store did not answer: memory's view */
        h = ag_strmap_get(&p->accounts, id);
        if (rc == AG_ENOTFOUND)
            memset(&c->acct, 0, sizeof c->acct);
        else
            ag_pipeline_acct_state_locked(h, now, &c->acct);
    } else if ((h = ag_pipeline_acct_locked(p, id))) {
        account_apply(h, &a, now, &c->acct);
        /* Only newer than memory: a read that raced a newer load (by another
         * request or the writer) must not take memory back. */
        if (l.activity_ver > h->activity_ver) {
            if (l.activity_len && ag_activity_load(&h->activity, l.activity, l.activity_len))
                ag_log(AG_LOG_WARN, "stored account activity not loaded", "account", id, NULL);
            h->activity_ver = l.activity_ver;
        }
        if (l.profile_ver > h->profile_ver) {
            if (l.profile_len &&
                ag_risk_profile_put(p->risk, id, l.profile, l.profile_len, &err))
                ag_log(AG_LOG_WARN, "stored risk profile not loaded", "account", id, "error",
                       err.msg, NULL);
            h->profile_ver = l.profile_ver;
        }
    } else {
        account_apply(NULL, &a, now, &c->acct);
    }
    c->profile_ver = h ? h->profile_ver : 0;
    c->activity_ver = h ? h->activity_ver : 0;
    pthread_mutex_unlock(&p->acct_lock);
}

int ag_pipeline_cluster_learn(struct ag_store_tx *tx, struct ag_pipeline_event *c,
                              struct ag_err *err)
{
    const char *id = c->ev.account_id;
    uint8_t profile[AG_PROFILE_BLOB_MAX], activity[AG_ACTIVITY_BLOB_MAX];
    struct ag_store_learned l = {.profile = profile,
                                 .profile_cap = sizeof profile,
                                 .activity = activity,
                                 .activity_cap = sizeof activity};
    /* The row lock orders every node's writes of this account: what is read
     * here is what the next version is made from. (Run again from here if
     * the job is retried: nothing below depends on a previous run.) */
    int rc = ag_store_learned_lock(tx, id, &l, err);
    if (rc)
        return rc;
    c->stored_profile_ver = l.profile_ver;
    c->stored_activity_ver = l.activity_ver;
    struct ag_activity act = {0};
    if (l.activity_len && (rc = ag_activity_load(&act, activity, l.activity_len))) {
        if (rc == AG_ENOMEM) {
            ag_activity_free(&act);
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        }
        ag_log(AG_LOG_WARN, "stored account activity not loaded", "account", id, NULL);
    }
    /* Whether the event teaches the profile is decided again on what is
     * stored: the held login an mfa.succeeded passes may have been
     * challenged on another node, committed after this node last read. */
    struct ag_err e2;
    int n = 0;
    c->learn_profile_stored =
        c->risk_done && ag_pipeline_learns_profile(c, ag_activity_passes_held_login(&act, &c->ev));
    if (c->learn_profile_stored) {
        n = ag_risk_profile_apply(&c->risk, profile, l.profile_len, c->profile_blob,
                                  sizeof c->profile_blob, &e2);
        if (n == AG_EINVAL) { /* as at start: an unreadable profile is started afresh */
            ag_log(AG_LOG_WARN, "stored risk profile not loaded", "account", id, "error", e2.msg,
                   NULL);
            n = ag_risk_profile_apply(&c->risk, NULL, 0, c->profile_blob, sizeof c->profile_blob,
                                      &e2);
        }
        if (n < 0) {
            ag_activity_free(&act);
            return ag_err_set(err, n, "store_error", "", "risk profile: %s", e2.msg);
        }
    }
    c->profile_len = (size_t)n;
    rc = ag_pipeline_activity_learn(&act, c);
    c->activity_len =
        rc ? 0 : ag_activity_blob(&act, true, c->activity_blob, sizeof c->activity_blob);
    ag_activity_free(&act);
    if (rc)
        return ag_err_set(err, rc, NULL, "", "out of memory");
    struct ag_store_learned w = {.profile = c->profile_blob,
                                 .profile_len = c->profile_len,
                                 .profile_ver = l.profile_ver + 1,
                                 .activity = c->activity_blob,
                                 .activity_len = c->activity_len,
                                 .activity_ver = l.activity_ver + 1};
    return ag_store_learned_put(tx, id, &w, err);
}

void ag_pipeline_cluster_learned(struct ag_pipeline_event *c, int rc)
{
    struct ag_pipeline *p = c->p;
    const char *id = c->ev.account_id;
    int64_t profile_ver = c->stored_profile_ver + 1, activity_ver = c->stored_activity_ver + 1;
    pthread_mutex_lock(&p->acct_lock);
    struct acct *h = ag_pipeline_acct_locked(p, id);
    if (rc) {
        /* Memory learned the event, the store did not (another node stored
         * its id first, or the commit failed): below any stored version, so
         * the account's next read reloads what is stored. */
        if (h)
            h->profile_ver = h->activity_ver = -1;
        pthread_mutex_unlock(&p->acct_lock);
        return;
    }
    /* Memory already holds exactly what was stored when nothing else was
     * stored since the event was scored (stored == scored version) and
     * memory was not reloaded since (it learned the event after scoring).
     * Otherwise it takes the stored blob; an older version than memory's
     * (a read already loaded a newer one) is left alone. */
    if (h && c->learn_profile_stored != c->learn_profile) {
        /* memory decided otherwise than the writer did on what was stored
         * (a held login passed on another node): reload at the next read */
        h->profile_ver = -1;
    } else if (h && c->profile_len && profile_ver > h->profile_ver) {
        struct ag_err err;
        bool holds = c->stored_profile_ver == c->profile_ver && h->profile_ver == c->profile_ver;
        if (!holds && ag_risk_profile_put(p->risk, id, c->profile_blob, c->profile_len, &err))
            ag_log(AG_LOG_WARN, "stored risk profile not loaded", "account", id, "error", err.msg,
                   NULL);
        h->profile_ver = profile_ver;
    }
    if (h && c->activity_len && activity_ver > h->activity_ver) {
        bool holds =
            c->stored_activity_ver == c->activity_ver && h->activity_ver == c->activity_ver;
        if (!holds && ag_activity_load(&h->activity, c->activity_blob, c->activity_len))
            ag_log(AG_LOG_WARN, "stored account activity not loaded", "account", id, NULL);
        h->activity_ver = activity_ver;
    }
    pthread_mutex_unlock(&p->acct_lock);
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

/* Load the newest published rules if this node does not run them yet. */
static void rules_poll(struct ag_cluster *cl)
{
    struct ag_pipeline *p = cl->p;
    struct ag_err err;
    int64_t v = 0;
    if (ag_store_rules_version(p->store, &v, &err) || v <= atomic_load(&cl->rules_version))
        return;
    char *text = NULL;
    size_t len = 0;
    if (ag_store_rules_latest(p->store, &v, &text, &len, &err)) {
        ag_log(AG_LOG_WARN, "published rules not read", "error", err.msg, NULL);
        return;
    }
    struct ag_rules_pos pos = {0};
    char ver[24];
    snprintf(ver, sizeof ver, "%lld", (long long)v);
    if (ag_pipeline_rules_reload(p, text, len, &pos, &err)) {
        ag_log(AG_LOG_ERROR, "published rules refused; the running rules stay", "version", ver,
               "error", err.msg, NULL);
        free(text);
    } else {
        ag_log(AG_LOG_INFO, "published rules loaded", "version", ver, NULL);
        rules_keep(cl, text, len);
    }
    atomic_store(&cl->rules_version, v); /* refused or not: do not retry this version */
}

/* Once a second: the published rules; once a minute: counters older than
 * the window go. */
static void *expirer_main(void *arg)
{
    struct ag_cluster *cl = arg;
    pthread_mutex_lock(&cl->lock);
    for (unsigned tick = 1; !cl->stopping; tick++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&cl->cond, &cl->lock, &ts);
        if (cl->stopping)
            break;
        pthread_mutex_unlock(&cl->lock);
        rules_poll(cl);
        if (tick % 60 == 0) {
            struct expire_job j = {.before = ag_velocity_bucket(cl->vel, ag_time_now_ms()) -
                                             ag_velocity_buckets(cl->vel)};
            struct ag_err err;
            if (ag_store_exec(cl->p->store, expire_run, &j, &err) && err.code != AG_EUNAVAIL)
                ag_log(AG_LOG_WARN, "shared velocity expiry failed", "error", err.msg, NULL);
        }
        pthread_mutex_lock(&cl->lock);
    }
    pthread_mutex_unlock(&cl->lock);
    return NULL;
}

struct publish_job {
    const char *text, *actor;
    size_t len;
    int64_t version;
};

static int publish_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct publish_job *j = arg;
    return ag_store_rules_publish(tx, j->text, j->len, ag_time_now_ms(), j->actor, &j->version,
                                  err);
}

int ag_pipeline_cluster_rules_publish(struct ag_pipeline *p, const char *text, size_t len,
                                      const char *actor, int64_t *version, struct ag_err *err)
{
    *version = 0;
    if (!p->cluster)
        return 0;
    struct publish_job j = {.text = text, .actor = actor, .len = len};
    int rc = ag_store_exec(p->store, publish_run, &j, err);
    if (!rc)
        *version = j.version;
    return rc;
}

void ag_pipeline_cluster_rules_running(struct ag_pipeline *p, const char *text, size_t len,
                                       int64_t version)
{
    struct ag_cluster *cl = p->cluster;
    if (!cl || !version)
        return;
    atomic_store(&cl->rules_version, version);
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    rules_keep(cl, copy, copy ? len : 0);
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
    rules_poll(cl); /* the cluster's published rules win over this node's file */
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
    free(cl->rules_text);
    free(cl);
    p->cluster = NULL;
}
