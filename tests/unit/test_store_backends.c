/* Store tests against the SQLite backend: migrations, every record kind,
 * group commit under concurrency, per-job rollback, persistence on reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "core/timeutil.h"

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
    int rc = ag_store_open(path, NULL, &s, &err);
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
    assert_string_equal(ag_store_backend(s), "sqlite");
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

static void postgres_url_refused_clearly(void **state)
{
    struct ag_store *s;
    struct ag_err err;
    assert_int_equal(ag_store_open("postgres://x/y", NULL, &s, &err), AG_EINVAL);
    assert_string_equal(err.slug, "unsupported_store");
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
        cmocka_unit_test(postgres_url_refused_clearly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
