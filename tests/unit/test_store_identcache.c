/* The identity read cache (store/identcache.c) and the device sightings it
 * sits beside: every answer equals what the database holds once a write has
 * committed, including under readers racing the writes; cached answers are
 * counted; a repeated sighting of an unchanged device within a minute
 * leaves its row alone. Runs on SQLite (cached) and, as pg/, on PostgreSQL
 * (not cached: the same answers, no memory hits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "store/identity.h"
#include "store_url.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/agicacheXXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static struct ag_store *open_store(void)
{
    struct ag_store *s;
    struct ag_err err;
    if (ag_store_open(ag_test_store_url(path), NULL, &s, &err))
        fail_msg("open: %s", err.msg);
    return s;
}

struct devjob {
    struct ag_ident_device_rec d;
    int op; /* 0 seen, 1 trust, 2 untrust, 3 distrust all, 4 delete */
    int64_t now;
};

static int dev_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct devjob *j = arg;
    int n;
    switch (j->op) {
    case 0:
        return ag_store_ident_device_seen(tx, &j->d, err);
    case 1:
    case 2:
        return ag_store_ident_device_trust(tx, j->d.account_id, j->d.device_id, j->op == 1,
                                           j->now, err);
    case 3:
        return ag_store_ident_device_distrust_all(tx, j->d.account_id, &n, err);
    default:
        return ag_store_ident_device_delete(tx, j->d.account_id, j->d.device_id, err);
    }
}

static void dev_op(struct ag_store *s, const char *acct, const char *dev, int op, int64_t now,
                   const char *ip)
{
    struct devjob j = {.op = op, .now = now};
    snprintf(j.d.account_id, sizeof j.d.account_id, "%s", acct);
    snprintf(j.d.device_id, sizeof j.d.device_id, "%s", dev);
    snprintf(j.d.ip, sizeof j.d.ip, "%s", ip ? ip : "192.0.2.1");
    snprintf(j.d.user_agent, sizeof j.d.user_agent, "ua");
    j.d.first_seen = j.d.last_seen = now;
    struct ag_err err;
    if (ag_store_exec(s, dev_job, &j, &err))
        fail_msg("device op %d: %s", op, err.msg);
}

static bool trusted(struct ag_store *s, const char *acct, const char *dev, int *rc_out)
{
    bool t = true;
    struct ag_err err;
    int rc = ag_store_ident_device_trusted(s, acct, dev, &t, &err);
    if (rc && rc != AG_ENOTFOUND)
        fail_msg("trusted: %s", err.msg);
    if (rc_out)
        *rc_out = rc;
    return t;
}

static void device_trust_follows_every_write(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    int rc;
    assert_false(trusted(s, "a1", "d1", &rc));
    assert_int_equal(rc, AG_ENOTFOUND);
    dev_op(s, "a1", "d1", 0, 1000, NULL);
    /* a sighting adds an untrusted device: the cached "not trusted" holds */
    assert_false(trusted(s, "a1", "d1", NULL));
    uint64_t h0, m0, h1, m1;
    ag_store_ident_cache_counts(s, &h0, &m0);
    assert_false(trusted(s, "a1", "d1", NULL));
    ag_store_ident_cache_counts(s, &h1, &m1);
    if (!ag_test_pg()) {
        assert_int_equal(h1, h0 + 1); /* from memory */
        assert_int_equal(m1, m0);
    } else {
        assert_int_equal(h1 + m1, 0);
    }
    dev_op(s, "a1", "d1", 1, 2000, NULL);
    assert_true(trusted(s, "a1", "d1", NULL));
    assert_true(trusted(s, "a1", "d1", NULL));
    dev_op(s, "a1", "d2", 1, 2000, NULL);
    assert_true(trusted(s, "a1", "d2", NULL));
    dev_op(s, "a1", "d1", 3, 3000, NULL); /* sign out everywhere */
    assert_false(trusted(s, "a1", "d1", NULL));
    assert_false(trusted(s, "a1", "d2", NULL));
    dev_op(s, "a1", "d2", 1, 4000, NULL);
    assert_true(trusted(s, "a1", "d2", NULL));
    dev_op(s, "a1", "d2", 4, 5000, NULL); /* removed */
    assert_false(trusted(s, "a1", "d2", &rc));
    assert_int_equal(rc, AG_ENOTFOUND);
    /* other accounts' entries are not confused with this one's */
    dev_op(s, "a2", "d1", 1, 6000, NULL);
    assert_true(trusted(s, "a2", "d1", NULL));
    assert_false(trusted(s, "a1", "d1", NULL));
    ag_store_close(s);
}

struct flagjob {
    const char *acct;
    int reverify;
    const char *hash;
};

static int flag_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct flagjob *j = arg;
    if (j->hash)
        return ag_store_ident_password_set(tx, j->acct, j->hash, 1000, err);
    return ag_store_ident_flags_set(tx, j->acct, -1, j->reverify, 1000, err);
}

static void account_record_follows_every_write(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    struct ag_ident_account_rec r;
    struct ag_err err;
    assert_int_equal(ag_store_ident_account_get(s, "a1", &r, &err), AG_ENOTFOUND);
    assert_int_equal(ag_store_ident_account_get(s, "a1", &r, &err), AG_ENOTFOUND);
    struct flagjob j = {"a1", 1, NULL};
    assert_int_equal(ag_store_exec(s, flag_job, &j, &err), 0);
    assert_int_equal(ag_store_ident_account_get(s, "a1", &r, &err), 0);
    assert_true(r.mfa_reverify);
    assert_string_equal(r.account_id, "a1");
    j.reverify = 0;
    assert_int_equal(ag_store_exec(s, flag_job, &j, &err), 0);
    assert_int_equal(ag_store_ident_account_get(s, "a1", &r, &err), 0);
    assert_false(r.mfa_reverify);
    j.hash = "$argon2id$fake";
    assert_int_equal(ag_store_exec(s, flag_job, &j, &err), 0);
    assert_int_equal(ag_store_ident_account_get(s, "a1", &r, &err), 0);
    assert_string_equal(r.password_hash, "$argon2id$fake");
    ag_store_close(s);
}

/* Readers hammer the device while the writer flips its trust; after each
 * flip has committed, a read must see it. A cache that forgot the bump
 * after commit would keep a reader's pre-commit answer alive. */
struct racer {
    struct ag_store *s;
    atomic_bool stop;
    atomic_long reads;
};

static void *race_reader(void *p)
{
    struct racer *r = p;
    while (!atomic_load(&r->stop)) {
        trusted(r->s, "race", "dev", NULL);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void racing_readers_never_keep_a_stale_answer(void **state)
{
    (void)state;
    struct racer r = {.s = open_store()};
    dev_op(r.s, "race", "dev", 0, 1, NULL);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, race_reader, &r);
    for (int i = 0; i < 300; i++) {
        bool want = i % 2 == 0;
        dev_op(r.s, "race", "dev", want ? 1 : 2, 10 + i, NULL);
        if (trusted(r.s, "race", "dev", NULL) != want)
            fail_msg("flip %d: read the value from before the commit", i);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_true(atomic_load(&r.reads) > 0);
    ag_store_close(r.s);
}

static void last_seen(struct ag_store *s, const char *acct, const char *dev, int64_t *seen,
                      char *ip, size_t n)
{
    struct ag_ident_device_rec d;
    struct ag_err err;
    if (ag_store_ident_device_get(s, acct, dev, &d, &err))
        fail_msg("device get: %s", err.msg);
    *seen = d.last_seen;
    snprintf(ip, n, "%s", d.ip);
}

static void unchanged_sightings_within_a_minute_are_not_written(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    int64_t seen;
    char ip[64];
    dev_op(s, "a1", "d1", 0, 100000, "192.0.2.1");
    dev_op(s, "a1", "d1", 0, 130000, "192.0.2.1"); /* 30 s later, as it was */
    last_seen(s, "a1", "d1", &seen, ip, sizeof ip);
    assert_int_equal(seen, 100000);
    dev_op(s, "a1", "d1", 0, 140000, "192.0.2.9"); /* a new address: written at once */
    last_seen(s, "a1", "d1", &seen, ip, sizeof ip);
    assert_int_equal(seen, 140000);
    assert_string_equal(ip, "192.0.2.9");
    dev_op(s, "a1", "d1", 0, 200000, "192.0.2.9"); /* a minute on */
    last_seen(s, "a1", "d1", &seen, ip, sizeof ip);
    assert_int_equal(seen, 200000);
    ag_store_close(s);
}

static struct ag_ident_device_rec sighting(const char *ip, int64_t at)
{
    struct ag_ident_device_rec d = {0};
    snprintf(d.account_id, sizeof d.account_id, "a1");
    snprintf(d.device_id, sizeof d.device_id, "d1");
    snprintf(d.ip, sizeof d.ip, "%s", ip);
    snprintf(d.user_agent, sizeof d.user_agent, "ua");
    d.first_seen = d.last_seen = at;
    return d;
}

/* The event path asks before queueing a sighting: a device written less
 * than a minute ago, as it is, needs no write; a change, a minute, or any
 * write about the account (a removed device must come back at once) does. */
static void sightings_due_only_when_something_changed(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    uint64_t stamp;
    struct ag_ident_device_rec d = sighting("192.0.2.1", 100000);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    dev_op(s, "a1", "d1", 0, 100000, "192.0.2.1");
    ag_store_ident_device_seen_written(s, &d, stamp);
    d = sighting("192.0.2.1", 130000);
    bool pg = ag_test_pg(); /* PostgreSQL: always due (other nodes write too) */
    assert_int_equal(ag_store_ident_device_seen_due(s, &d, &stamp), pg);
    d = sighting("192.0.2.7", 130000);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    d = sighting("192.0.2.1", 160001);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    /* written again; then the device is removed: the next sighting is due */
    d = sighting("192.0.2.1", 170000);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    dev_op(s, "a1", "d1", 0, 170000, "192.0.2.1");
    ag_store_ident_device_seen_written(s, &d, stamp);
    d = sighting("192.0.2.1", 171000);
    assert_int_equal(ag_store_ident_device_seen_due(s, &d, &stamp), pg);
    dev_op(s, "a1", "d1", 4, 172000, NULL);
    d = sighting("192.0.2.1", 173000);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    /* a removal racing the write: the stamp taken before it is refused */
    d = sighting("192.0.2.1", 174000);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    dev_op(s, "a1", "d1", 0, 174000, "192.0.2.1");
    dev_op(s, "a1", "d1", 4, 174500, NULL);
    ag_store_ident_device_seen_written(s, &d, stamp);
    d = sighting("192.0.2.1", 175000);
    assert_true(ag_store_ident_device_seen_due(s, &d, &stamp));
    ag_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(device_trust_follows_every_write, setup, teardown),
        cmocka_unit_test_setup_teardown(account_record_follows_every_write, setup, teardown),
        cmocka_unit_test_setup_teardown(racing_readers_never_keep_a_stale_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unchanged_sightings_within_a_minute_are_not_written,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(sightings_due_only_when_something_changed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
