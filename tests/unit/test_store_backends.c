/* Store tests, run against each backend: SQLite (unit/test_store_backends)
 * and PostgreSQL (pg/test_store_backends, with AG_TEST_PG_URL set by
 * tests/pg/pgctl.py): migrations, every core record kind, blobs and numbers
 * that must round-trip exactly, conflicts a job handles and carries on from,
 * group commit under concurrency, per-job rollback, persistence on reopen,
 * shared velocity, and an account's learned state locked and read as
 * committed by a writer that waited for another node's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "core/timeutil.h"
#include "store_url.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/agstoreXXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static struct ag_store *open_store(void)
{
    struct ag_store *s;
    struct ag_err err;
    int rc = ag_store_open(ag_test_store_url(path), NULL, &s, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    return s;
}

struct evjob {
    struct ag_event_rec rec;
    char id[32];
};

static int put_event(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct evjob *j = arg;
    return ag_store_event_put(tx, &j->rec, err);
}

static void fill_event(struct evjob *j, const char *id, const char *account)
{
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", id);
    j->rec.id = j->id;
    j->rec.account_id = account;
    j->rec.type = "login.succeeded";
    j->rec.occurred_at = 1000;
    j->rec.received_at = 2000;
    j->rec.event_json = "{}";
    j->rec.action = "allow";
    j->rec.risk = 0.25;
    j->rec.response_json = "{\"ok\":true}";
}

static void migrations_and_version(void **state)
{
    struct ag_store *s = open_store();
    int from, to;
    struct ag_err err;
    assert_int_equal(ag_store_migrate(s, &from, &to, &err), 0);
    assert_int_equal(from, ag_store_schema_version());
    assert_int_equal(to, ag_store_schema_version());
    assert_string_equal(ag_store_backend(s), ag_test_store_backend());
    assert_int_equal(ag_store_check(s, &err), 0);
    ag_store_close(s);
}

static int put_key(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_apikey_put(tx, arg, err);
}
static int revoke_key(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_apikey_revoke(tx, arg, 777, err);
}
static int count_keys(void *arg, const struct ag_apikey_rec *k)
{
    (*(int *)arg)++;
    return 0;
}

static void apikeys(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    struct ag_apikey_rec k = {.created_at = 5};
    snprintf(k.id, sizeof k.id, "k_test1");
    snprintf(k.name, sizeof k.name, "ci");
    snprintf(k.scopes, sizeof k.scopes, "events:write admin");
    memset(k.hash, 0xab, 32);
    assert_int_equal(ag_store_exec(s, put_key, &k, &err), 0);
    assert_int_equal(ag_store_exec(s, put_key, &k, &err), AG_ECONFLICT);
    struct ag_apikey_rec got;
    assert_int_equal(ag_store_apikey_get(s, "k_test1", &got, &err), 0);
    assert_string_equal(got.scopes, "events:write admin");
    assert_memory_equal(got.hash, k.hash, 32);
    assert_int_equal(got.revoked_at, 0);
    assert_int_equal(ag_store_exec(s, revoke_key, "k_test1", &err), 0);
    assert_int_equal(ag_store_exec(s, revoke_key, "k_nope", &err), AG_ENOTFOUND);
    assert_int_equal(ag_store_apikey_get(s, "k_test1", &got, &err), 0);
    assert_int_equal(got.revoked_at, 777);
    assert_int_equal(ag_store_apikey_get(s, "k_nope", &got, &err), AG_ENOTFOUND);
    int n = 0;
    assert_int_equal(ag_store_apikey_list(s, count_keys, &n, &err), 0);
    assert_int_equal(n, 1);
    ag_store_close(s);
}

static void events_and_idempotency(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    struct evjob j;
    fill_event(&j, "ev1", "acct1");
    assert_int_equal(ag_store_exec(s, put_event, &j, &err), 0);
    assert_true(j.rec.seq > 0);
    fill_event(&j, "ev1", "acct1");
    assert_int_equal(ag_store_exec(s, put_event, &j, &err), AG_ECONFLICT);
    assert_string_equal(err.slug, "duplicate_event");
    struct ag_event_row r;
    assert_int_equal(ag_store_event_get(s, "ev1", &r, &err), 0);
    assert_string_equal(r.account_id, "acct1");
    assert_string_equal(r.response_json, "{\"ok\":true}");
    assert_true(r.risk == 0.25);
    ag_event_row_free(&r);
    assert_int_equal(ag_store_event_get(s, "nope", &r, &err), AG_ENOTFOUND);
    ag_store_close(s);
}

struct collect {
    int n;
    int64_t seqs[100];
};
static int collect_cb(void *arg, const struct ag_event_row *r)
{
    struct collect *c = arg;
    c->seqs[c->n++] = r->seq;
    return 0;
}

static void pagination(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    for (int i = 0; i < 25; i++) {
        struct evjob j;
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        fill_event(&j, id, i % 2 ? "odd" : "even");
        assert_int_equal(ag_store_exec(s, put_event, &j, &err), 0);
    }
    struct collect c = {0};
    assert_int_equal(ag_store_event_list_account(s, "even", 0, 5, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 5);
    for (int i = 1; i < c.n; i++)
        assert_true(c.seqs[i] < c.seqs[i - 1]);
    int64_t cursor = c.seqs[4];
    int total = 5;
    for (;;) {
        struct collect d = {0};
        assert_int_equal(ag_store_event_list_account(s, "even", cursor, 5, collect_cb, &d, &err), 0);
        total += d.n;
        if (d.n < 5)
            break;
        cursor = d.seqs[4];
    }
    assert_int_equal(total, 13);
    struct collect e = {0};
    assert_int_equal(ag_store_event_scan(s, 0, 100, collect_cb, &e, &err), 0);
    assert_int_equal(e.n, 25);
    assert_int_equal(ag_store_event_count(s), 25);
    ag_store_close(s);
}

/* A job that writes then fails must leave nothing behind, and must not take
 * its batch neighbours down with it. */
static int write_then_fail(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct evjob *j = arg;
    int rc = ag_store_event_put(tx, &j->rec, err);
    if (rc)
        return rc;
    return ag_err_set(err, AG_EINVAL, "nope", "", "fails after writing");
}

struct done_count {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, ok;
};
static void count_done(void *arg, int rc, const struct ag_err *err)
{
    struct done_count *d = arg;
    pthread_mutex_lock(&d->lock);
    d->done++;
    if (!rc)
        d->ok++;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void job_rollback_isolated(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    static struct evjob jobs[50];
    struct done_count d = {.done = 0};
    pthread_mutex_init(&d.lock, NULL);
    pthread_cond_init(&d.cond, NULL);
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        fill_event(&jobs[i], id, "acct");
        assert_int_equal(ag_store_submit(s, i % 5 == 0 ? write_then_fail : put_event, &jobs[i],
                                         count_done, &d),
                         0);
    }
    pthread_mutex_lock(&d.lock);
    while (d.done < 50)
        pthread_cond_wait(&d.cond, &d.lock);
    pthread_mutex_unlock(&d.lock);
    assert_int_equal(d.ok, 40);
    assert_int_equal(ag_store_event_count(s), 40);
    struct ag_event_row r;
    assert_int_equal(ag_store_event_get(s, "r0", &r, &err), AG_ENOTFOUND);
    assert_int_equal(ag_store_event_get(s, "r1", &r, &err), 0);
    ag_event_row_free(&r);
    ag_store_close(s);
}

struct thr {
    struct ag_store *s;
    int base;
};
static void *writer_thread(void *p)
{
    struct thr *t = p;
    for (int i = 0; i < 200; i++) {
        struct evjob j;
        char id[32];
        snprintf(id, sizeof id, "t%d-%d", t->base, i);
        fill_event(&j, id, "many");
        struct ag_err err;
        if (ag_store_exec(t->s, put_event, &j, &err))
            return (void *)1;
    }
    return NULL;
}

static void group_commit_concurrent(void **state)
{
    struct ag_store *s = open_store();
    uint64_t batches0 = ag_store_commit_batches, jobs0 = ag_store_commit_jobs;
    pthread_t th[16];
    struct thr t[16];
    for (int i = 0; i < 16; i++) {
        t[i] = (struct thr){s, i};
        pthread_create(&th[i], NULL, writer_thread, &t[i]);
    }
    for (int i = 0; i < 16; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    assert_int_equal(ag_store_event_count(s), 3200);
    uint64_t batches = ag_store_commit_batches - batches0, jobs = ag_store_commit_jobs - jobs0;
    assert_int_equal(jobs, 3200);
    /* With 16 concurrent writers, commits must be shared. */
    assert_true(batches < jobs);
    ag_store_close(s);
    /* Everything acknowledged survives a reopen. */
    s = open_store();
    assert_int_equal(ag_store_event_count(s), 3200);
    struct ag_err err;
    assert_int_equal(ag_store_check(s, &err), 0);
    ag_store_close(s);
}

static int put_account(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_account_put(tx, arg, err);
}

static void accounts(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    struct ag_account_rec a = {.created_at = 1, .updated_at = 1};
    snprintf(a.id, sizeof a.id, "u1");
    assert_int_equal(ag_store_exec(s, put_account, &a, &err), 0);
    struct ag_account_rec got;
    assert_int_equal(ag_store_account_get(s, "u1", &got, &err), 0);
    assert_string_equal(got.state, "active");
    assert_string_equal(got.role, "customer");
    snprintf(a.state, sizeof a.state, "frozen");
    snprintf(a.frozen_reason, sizeof a.frozen_reason, "ato");
    a.updated_at = 9;
    assert_int_equal(ag_store_exec(s, put_account, &a, &err), 0);
    assert_int_equal(ag_store_account_get(s, "u1", &got, &err), 0);
    assert_string_equal(got.state, "frozen");
    assert_int_equal(got.created_at, 1);
    assert_int_equal(got.updated_at, 9);
    assert_int_equal(ag_store_account_get(s, "u2", &got, &err), AG_ENOTFOUND);
    ag_store_close(s);
}

static void memory_store(void **state)
{
    struct ag_store *s;
    struct ag_err err;
    assert_int_equal(ag_store_open(":memory:", NULL, &s, &err), 0);
    struct evjob j;
    fill_event(&j, "m1", "a");
    assert_int_equal(ag_store_exec(s, put_event, &j, &err), 0);
    assert_int_equal(ag_store_event_count(s), 1);
    ag_store_close(s);
}

/* An unreachable PostgreSQL is an error that names the problem, and never
 * echoes the URL's password. */
static void postgres_unreachable_fails_cleanly(void **state)
{
    struct ag_store *s = NULL;
    struct ag_err err;
    assert_int_equal(ag_store_open("postgres://ag:s3cretpw@127.0.0.1:1/x?connect_timeout=2", NULL,
                                   &s, &err),
                     AG_EIO);
    assert_null(s);
    assert_non_null(strstr(err.msg, "PostgreSQL"));
    assert_null(strstr(err.msg, "s3cretpw"));
}

/* Blobs with every byte value (and an empty one), doubles and 64-bit
 * integers come back exactly. */
struct blobjob {
    struct evjob ev;
    uint8_t facts[256];
};
static int put_blobs(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct blobjob *b = arg;
    int rc = ag_store_event_put(tx, &b->ev.rec, err);
    if (!rc)
        rc = ag_store_profile_put(tx, "acct-b", b->facts, sizeof b->facts, err);
    struct ag_account_rec a = {.created_at = 1, .updated_at = 1};
    snprintf(a.id, sizeof a.id, "acct-b");
    if (!rc)
        rc = ag_store_account_put(tx, &a, err);
    if (!rc)
        rc = ag_store_activity_put(tx, "acct-b", "", 0, err);
    return rc;
}
struct blobseen {
    int n;
    size_t len;
    uint8_t data[256];
};
static int see_blob(void *arg, const char *account_id, const void *blob, size_t len)
{
    struct blobseen *b = arg;
    b->n++;
    b->len = len;
    if (len && len <= sizeof b->data)
        memcpy(b->data, blob, len);
    return 0;
}

static void blobs_and_numbers(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    static struct blobjob b;
    fill_event(&b.ev, "blob1", "acct-b");
    for (int i = 0; i < 256; i++)
        b.facts[i] = (uint8_t)(255 - i);
    b.ev.rec.facts = b.facts;
    b.ev.rec.facts_len = sizeof b.facts;
    b.ev.rec.risk = 0.1 + 0.2; /* not representable in few digits */
    b.ev.rec.occurred_at = INT64_C(4611686018427387904) + 7;
    b.ev.rec.received_at = -12345;
    for (int i = 0; i < 32; i++)
        b.ev.rec.request_hash[i] = (uint8_t)(i * 37);
    b.ev.rec.event_json = "{\"name\":\"Ærøskøbing \u2603 'quoted' \\\\ ?1\"}";
    assert_int_equal(ag_store_exec(s, put_blobs, &b, &err), 0);
    struct ag_event_row r;
    assert_int_equal(ag_store_event_get(s, "blob1", &r, &err), 0);
    assert_int_equal(r.facts_len, 256);
    assert_memory_equal(r.facts, b.facts, 256);
    assert_true(r.risk == 0.1 + 0.2);
    assert_true(r.occurred_at == INT64_C(4611686018427387904) + 7);
    assert_true(r.received_at == -12345);
    assert_memory_equal(r.request_hash, b.ev.rec.request_hash, 32);
    assert_string_equal(r.event_json, b.ev.rec.event_json);
    ag_event_row_free(&r);
    /* an event without facts reads back as no facts */
    struct evjob j;
    fill_event(&j, "blob2", "acct-b");
    assert_int_equal(ag_store_exec(s, put_event, &j, &err), 0);
    assert_int_equal(ag_store_event_get(s, "blob2", &r, &err), 0);
    assert_null(r.facts);
    assert_int_equal(r.facts_len, 0);
    ag_event_row_free(&r);
    struct blobseen seen = {0};
    assert_int_equal(ag_store_profile_scan(s, see_blob, &seen, &err), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.len, 256);
    assert_memory_equal(seen.data, b.facts, 256);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(ag_store_activity_scan(s, see_blob, &seen, &err), 0);
    assert_int_equal(seen.n, 1); /* an empty blob is a blob, not NULL */
    assert_int_equal(seen.len, 0);
    ag_store_close(s);
}

/* A job may meet a uniqueness conflict, handle it and go on writing in the
 * same transaction (SQLite allows it; on PostgreSQL a failed statement would
 * abort the transaction, which the backend must avoid). */
static int conflict_then_continue(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct evjob a, b;
    fill_event(&a, "cc1", "acct-c");
    int rc = ag_store_event_put(tx, &a.rec, err);
    if (rc)
        return rc;
    fill_event(&a, "cc1", "acct-c");
    if (ag_store_event_put(tx, &a.rec, err) != AG_ECONFLICT)
        return ag_err_set(err, AG_EINTERNAL, "no_conflict", "", "the duplicate was accepted");
    fill_event(&b, "cc2", "acct-c");
    if ((rc = ag_store_event_put(tx, &b.rec, err)))
        return rc;
    struct ag_apikey_rec k = {.created_at = 1};
    snprintf(k.id, sizeof k.id, "k_cc");
    if ((rc = ag_store_apikey_put(tx, &k, err)))
        return rc;
    if (ag_store_apikey_put(tx, &k, err) != AG_ECONFLICT)
        return ag_err_set(err, AG_EINTERNAL, "no_conflict", "", "the duplicate key was accepted");
    return ag_store_apikey_revoke(tx, "k_cc", 5, err);
}

static void conflicts_inside_a_job(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    assert_int_equal(ag_store_exec(s, conflict_then_continue, NULL, &err), 0);
    assert_int_equal(ag_store_event_count(s), 2);
    struct ag_apikey_rec k;
    assert_int_equal(ag_store_apikey_get(s, "k_cc", &k, &err), 0);
    assert_int_equal(k.revoked_at, 5);
    /* and the next job in a new batch still works */
    struct evjob j;
    fill_event(&j, "cc3", "acct-c");
    assert_int_equal(ag_store_exec(s, put_event, &j, &err), 0);
    assert_int_equal(ag_store_event_count(s), 3);
    ag_store_close(s);
}

static int put_log(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct ag_account_log_rec l = {.until = 0, .at = *(int64_t *)arg};
    snprintf(l.account_id, sizeof l.account_id, "u-log");
    snprintf(l.action, sizeof l.action, "freeze");
    snprintf(l.reason, sizeof l.reason, "it's \"odd\"");
    snprintf(l.actor, sizeof l.actor, "analyst");
    return ag_store_account_log_put(tx, &l, err);
}
static int count_log(void *arg, const struct ag_account_log_rec *l)
{
    int64_t *last = arg;
    assert_true(l->at > *last);
    assert_true(l->seq > 0);
    assert_string_equal(l->reason, "it's \"odd\"");
    *last = l->at;
    return 0;
}

static void account_log(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    for (int64_t at = 1; at <= 3; at++)
        assert_int_equal(ag_store_exec(s, put_log, &at, &err), 0);
    int64_t last = 0;
    assert_int_equal(ag_store_account_log_list(s, "u-log", count_log, &last, &err), 0);
    assert_int_equal(last, 3);
    ag_store_close(s);
}

/* Shared velocity counters: rows of several nodes sum, bits OR, buckets
 * outside the window are left out and expire. */
struct veljob {
    int64_t node;
    struct ag_store_vel_row rows[4];
    int n;
};
static int vel_add(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct veljob *j = arg;
    return ag_store_velocity_add(tx, j->node, j->rows, j->n, err);
}
static int vel_expire(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_velocity_expire(tx, 10, arg, err);
}

static void shared_velocity(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    const int64_t big = (int64_t)UINT64_C(0xfedcba9876543210); /* a hash above INT64_MAX */
    struct veljob a = {.node = 1, .n = 3};
    a.rows[0] = (struct ag_store_vel_row){.kind = 0, .key = big, .bucket = 12, .n = 1};
    a.rows[1] = (struct ag_store_vel_row){.kind = 3, .key = 77, .bucket = 12, .n = 1, .bits = 1};
    a.rows[2] = (struct ag_store_vel_row){.kind = 3, .key = 78, .bucket = 12, .n = 2,
                                          .bits = UINT64_C(1) << 63};
    assert_int_equal(ag_store_exec(s, vel_add, &a, &err), 0);
    assert_int_equal(ag_store_exec(s, vel_add, &a, &err), 0); /* same node: adds up */
    struct veljob b = {.node = 2, .n = 2};
    b.rows[0] = (struct ag_store_vel_row){.kind = 0, .key = big, .bucket = 13, .n = 5};
    b.rows[1] = (struct ag_store_vel_row){.kind = 3, .key = 77, .bucket = 12, .n = 1, .bits = 4};
    assert_int_equal(ag_store_exec(s, vel_add, &b, &err), 0);
    struct veljob old = {.node = 2, .n = 1};
    old.rows[0] = (struct ag_store_vel_row){.kind = 0, .key = big, .bucket = 3, .n = 100};
    assert_int_equal(ag_store_exec(s, vel_add, &old, &err), 0);
    struct ag_store_vel_row q[4] = {{.kind = 0, .key = big}, {.kind = 3, .key = 77},
                                    {.kind = 3, .key = 78}, {.kind = 1, .key = big}};
    assert_int_equal(ag_store_velocity_read(s, 5, q, 4, &err), 0);
    assert_int_equal(q[0].n, 7); /* 1 + 1 + 5; bucket 3 is out of the window */
    assert_int_equal(q[1].n, 3);
    assert_true(q[1].bits == 5);
    assert_int_equal(q[2].n, 4);
    assert_true(q[2].bits == UINT64_C(1) << 63);
    assert_int_equal(q[3].n, 0);
    assert_int_equal(ag_store_velocity_read(s, 0, q, 1, &err), 0);
    assert_int_equal(q[0].n, 107);
    int64_t deleted = 0;
    assert_int_equal(ag_store_exec(s, vel_expire, &deleted, &err), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(ag_store_velocity_read(s, 0, q, 1, &err), 0);
    assert_int_equal(q[0].n, 7);
    ag_store_close(s);
}

/* Creating an account that exists changes nothing (two nodes may both see
 * a new account): the first writer's row, and a freeze, stay. */
static int create_account(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_account_create(tx, arg, err);
}

static void account_create_once(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    struct ag_account_rec a = {.created_at = 1, .updated_at = 1};
    snprintf(a.id, sizeof a.id, "u-new");
    snprintf(a.role, sizeof a.role, "seller");
    assert_int_equal(ag_store_exec(s, create_account, &a, &err), 0);
    snprintf(a.state, sizeof a.state, "frozen");
    assert_int_equal(ag_store_exec(s, put_account, &a, &err), 0);
    struct ag_account_rec b = {.created_at = 2, .updated_at = 2};
    snprintf(b.id, sizeof b.id, "u-new");
    assert_int_equal(ag_store_exec(s, create_account, &b, &err), AG_ECONFLICT);
    struct ag_account_rec got;
    assert_int_equal(ag_store_account_get(s, "u-new", &got, &err), 0);
    assert_string_equal(got.state, "frozen");
    assert_string_equal(got.role, "seller");
    assert_int_equal(got.created_at, 1);
    ag_store_close(s);
}

/* An account's learned state (profile and activity blobs with versions):
 * read with the account, a blob only when newer than the reader's; locked
 * and read in the writer's transaction, and written back. */
struct learnjob {
    const char *id;
    struct ag_store_learned put, got;
    uint8_t pbuf[64], abuf[64];
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    bool *locked;   /* set once the row is locked and written (then sleep) */
};
static int learn_lock_put(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct learnjob *j = arg;
    j->got = (struct ag_store_learned){.profile = j->pbuf, .profile_cap = sizeof j->pbuf,
                                       .activity = j->abuf, .activity_cap = sizeof j->abuf};
    int rc = ag_store_learned_lock(tx, j->id, &j->got, err);
    if (!rc && j->put.activity_len)
        rc = ag_store_learned_put(tx, j->id, &j->put, err);
    if (!rc && j->locked) {
        pthread_mutex_lock(j->lock);
        *j->locked = true;
        pthread_cond_signal(j->cond);
        pthread_mutex_unlock(j->lock);
        usleep(400 * 1000); /* hold the lock while the other store waits for it */
    }
    return rc;
}

static int learn_put_no_activity(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct ag_store_learned l = {.profile = (uint8_t *)"P", .profile_len = 1, .profile_ver = 9};
    return ag_store_learned_put(tx, "u-l", &l, err);
}

static struct ag_store_learned learned_bufs(uint8_t *p, uint8_t *a, size_t cap)
{
    return (struct ag_store_learned){.profile = p, .profile_cap = cap, .activity = a,
                                     .activity_cap = cap};
}

struct learn_other {
    struct ag_store *s;
    struct learnjob *j;
    int rc;
};
static void *learn_other_run(void *arg)
{
    struct learn_other *o = arg;
    struct ag_err err;
    o->rc = ag_store_exec(o->s, learn_lock_put, o->j, &err);
    return NULL;
}

static void learned_state(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    uint8_t p[64], a[64];
    struct ag_store_learned l = learned_bufs(p, a, sizeof p);
    struct ag_account_rec acct;
    assert_int_equal(ag_store_learned_get(s, "u-l", 0, 0, &acct, &l, &err), AG_ENOTFOUND);
    struct learnjob j = {.id = "u-l"};
    assert_int_equal(ag_store_exec(s, learn_lock_put, &j, &err), AG_ENOTFOUND);
    struct ag_account_rec rec = {.created_at = 1, .updated_at = 1};
    snprintf(rec.id, sizeof rec.id, "u-l");
    snprintf(rec.role, sizeof rec.role, "seller");
    assert_int_equal(ag_store_exec(s, put_account, &rec, &err), 0);
    assert_int_equal(ag_store_learned_get(s, "u-l", 0, 0, &acct, &l, &err), 0);
    assert_string_equal(acct.id, "u-l");
    assert_string_equal(acct.role, "seller");
    assert_true(l.profile_ver == 0 && l.activity_ver == 0);
    assert_true(l.profile_len == 0 && l.activity_len == 0);
    /* the activity alone, version 1 */
    j.put = (struct ag_store_learned){.activity = (uint8_t *)"A1", .activity_len = 2,
                                      .activity_ver = 1};
    assert_int_equal(ag_store_exec(s, learn_lock_put, &j, &err), 0);
    assert_true(j.got.activity_ver == 0 && j.got.activity_len == 0);
    assert_int_equal(ag_store_learned_get(s, "u-l", 0, 0, &acct, &l, &err), 0);
    assert_true(l.activity_ver == 1 && l.activity_len == 2 && l.profile_len == 0);
    assert_memory_equal(l.activity, "A1", 2);
    /* both, the profile's first version; the lock read sees what was stored */
    j.put = (struct ag_store_learned){.profile = (uint8_t *)"P-1", .profile_len = 3,
                                      .profile_ver = 1, .activity = (uint8_t *)"A-2",
                                      .activity_len = 3, .activity_ver = 2};
    assert_int_equal(ag_store_exec(s, learn_lock_put, &j, &err), 0);
    assert_true(j.got.activity_ver == 1 && j.got.activity_len == 2);
    assert_true(j.got.profile_ver == 0 && j.got.profile_len == 0);
    j.put.activity_len = 0; /* lock and read only */
    assert_int_equal(ag_store_exec(s, learn_lock_put, &j, &err), 0);
    assert_true(j.got.profile_ver == 1 && j.got.profile_len == 3);
    assert_memory_equal(j.got.profile, "P-1", 3);
    /* a blob is sent only when newer than the reader's */
    l = learned_bufs(p, a, sizeof p);
    assert_int_equal(ag_store_learned_get(s, "u-l", 0, 2, &acct, &l, &err), 0);
    assert_true(l.profile_ver == 1 && l.profile_len == 3 && l.activity_ver == 2 &&
                l.activity_len == 0);
    assert_int_equal(ag_store_learned_get(s, "u-l", 1, 1, &acct, &l, &err), 0);
    assert_true(l.profile_len == 0 && l.activity_len == 3);
    assert_memory_equal(l.activity, "A-2", 3);
    assert_int_equal(ag_store_learned_get(s, "u-l", 1, 2, &acct, &l, &err), 0);
    assert_true(l.profile_len == 0 && l.activity_len == 0);
    /* a blob larger than the buffer; no activity to write */
    l = learned_bufs(p, a, 2);
    assert_int_equal(ag_store_learned_get(s, "u-l", 0, 0, &acct, &l, &err), AG_ELIMIT);
    assert_int_equal(ag_store_exec(s, learn_put_no_activity, NULL, &err), AG_EINVAL);
    /* the start-up scan still finds the profile */
    struct blobseen seen = {0};
    assert_int_equal(ag_store_profile_scan(s, see_blob, &seen, &err), 0);
    assert_true(seen.n == 1 && seen.len == 3);
    /* Another store (another node) writes the profile while holding the
     * row lock; this one waits for the lock and must then read the profile
     * as committed, not as it was when its statement started. */
    struct ag_store *other = open_store();
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    bool locked = false;
    struct learnjob first = {.id = "u-l", .lock = &lock, .cond = &cond, .locked = &locked};
    first.put = (struct ag_store_learned){.profile = (uint8_t *)"P-2", .profile_len = 3,
                                          .profile_ver = 2, .activity = (uint8_t *)"A-3",
                                          .activity_len = 3, .activity_ver = 3};
    struct learn_other o = {.s = other, .j = &first};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, learn_other_run, &o), 0);
    pthread_mutex_lock(&lock);
    while (!locked)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    struct learnjob second = {.id = "u-l"};
    assert_int_equal(ag_store_exec(s, learn_lock_put, &second, &err), 0);
    pthread_join(t, NULL);
    assert_int_equal(o.rc, 0);
    assert_true(second.got.activity_ver == 3 && second.got.profile_ver == 2);
    assert_true(second.got.profile_len == 3);
    assert_memory_equal(second.got.profile, "P-2", 3);
    assert_memory_equal(second.got.activity, "A-3", 3);
    ag_store_close(other);
    ag_store_close(s);
}

/* Published rules: versions in order, the newest read back whole. */
struct rulesjob {
    const char *text;
    int64_t version;
};

static int rules_add(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct rulesjob *j = arg;
    return ag_store_rules_publish(tx, j->text, strlen(j->text), 1000, "key_x", &j->version, err);
}

static void published_rules(void **state)
{
    struct ag_store *s = open_store();
    struct ag_err err;
    int64_t v = -1;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(ag_store_rules_version(s, &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ag_store_rules_latest(s, &v, &text, &len, &err), AG_ENOTFOUND);
    struct rulesjob a = {.text = "rule a \"first\"\n  when true\n  then review\n"},
                    b = {.text = "# second\n"};
    assert_int_equal(ag_store_exec(s, rules_add, &a, &err), 0);
    assert_int_equal(ag_store_exec(s, rules_add, &b, &err), 0);
    assert_true(a.version > 0 && b.version > a.version);
    assert_int_equal(ag_store_rules_version(s, &v, &err), 0);
    assert_int_equal(v, b.version);
    assert_int_equal(ag_store_rules_latest(s, &v, &text, &len, &err), 0);
    assert_int_equal(v, b.version);
    assert_int_equal(len, strlen(b.text));
    assert_string_equal(text, b.text);
    free(text);
    ag_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrations_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(apikeys, setup, teardown),
        cmocka_unit_test_setup_teardown(events_and_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(job_rollback_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(group_commit_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(accounts, setup, teardown),
        cmocka_unit_test(memory_store),
        cmocka_unit_test(postgres_unreachable_fails_cleanly),
        cmocka_unit_test_setup_teardown(blobs_and_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicts_inside_a_job, setup, teardown),
        cmocka_unit_test_setup_teardown(account_log, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_velocity, setup, teardown),
        cmocka_unit_test_setup_teardown(account_create_once, setup, teardown),
        cmocka_unit_test_setup_teardown(learned_state, setup, teardown),
        cmocka_unit_test_setup_teardown(published_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
