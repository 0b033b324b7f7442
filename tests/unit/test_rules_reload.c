/* Unit tests for the rules holder: reloads swap the whole set atomically, a
 * failed reload keeps the old set and returns the error, and evaluator
 * threads running through a storm of reloads always see one complete set
 * and never a freed one (run under ASan in the sanitized build; bounded to
 * about a second). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NA 10 /* rules in set A: all deny */
#define NB 7  /* rules in set B: all challenge */

static char text_a[4096], text_b[4096];
static const char text_bad[] = "rule ok \"fine\" when t.flag then deny\n"
                               "rule broken \"bad\" when t.flag then deny score 2\n";

static void make_texts(void)
{
    int n = 0;
    for (int i = 0; i < NA; i++)
        n += snprintf(text_a + n, sizeof text_a - (size_t)n,
                      "rule a%d \"set A rule %d\" when t.flag and t.n >= %d then deny score 0.9\n", i, i, i);
    n = 0;
    for (int i = 0; i < NB; i++)
        n += snprintf(text_b + n, sizeof text_b - (size_t)n,
                      "rule b%d \"set B rule %d\" when t.flag and lower(t.s) == \"login.failed\" "
                      "then challenge methods [totp]\n",
                      i, i);
}

static void reload_basics(void **state)
{
    make_texts();
    struct ag_rules_holder *h = ag_rules_holder_new(NULL);
    assert_non_null(h);
    assert_null(ag_rules_holder_get(h));
    struct ag_err err;
    struct ag_rules_pos pos;
    assert_int_equal(ag_rules_holder_reload_text(h, &test_schema, "a", text_a, strlen(text_a), &pos, &err), 0);
    uint64_t gen = ag_rules_holder_generation(h);
    struct ag_rules *a = ag_rules_holder_get(h);
    assert_int_equal(ag_rules_count(a), NA);

    /* a failed reload keeps the old set, returns the error and its place */
    assert_int_equal(ag_rules_holder_reload_text(h, &test_schema, "bad", text_bad, strlen(text_bad),
                                                 &pos, &err),
                     AG_EINVAL);
    assert_int_equal(pos.line, 2);
    assert_int_equal(pos.col, 47);
    assert_string_equal(err.msg, "bad:2:47: score must be between 0 and 1");
    assert_int_equal(ag_rules_holder_generation(h), gen);
    struct ag_rules *still = ag_rules_holder_get(h);
    assert_ptr_equal(still, a);
    ag_rules_release(still);
    assert_int_equal(ag_rules_holder_reload_file(h, &test_schema, "/nonexistent.rules", &pos, &err),
                     AG_EIO);
    assert_int_equal(ag_rules_holder_generation(h), gen);

    /* a good reload from a file swaps; the old set lives on while held */
    char path[1024];
    test_path("tests/data/rules/every_construct.rules", path, sizeof path);
    assert_int_equal(ag_rules_holder_reload_file(h, &test_schema, path, &pos, &err), 0);
    assert_int_equal(ag_rules_holder_generation(h), gen + 1);
    struct ag_rules *now = ag_rules_holder_get(h);
    assert_ptr_not_equal(now, a);
    assert_string_equal(ag_rules_source(now), "every_construct.rules");
    assert_int_equal(ag_rules_count(a), NA); /* still valid: we hold it */
    ag_rules_release(a);
    ag_rules_release(now);

    /* a reader follows the generation */
    struct ag_rules_reader rd = {0};
    const struct ag_rules *r1 = ag_rules_reader_get(&rd, h);
    assert_ptr_equal(ag_rules_reader_get(&rd, h), r1);
    ag_rules_holder_swap(h, NULL);
    assert_null(ag_rules_reader_get(&rd, h));
    ag_rules_reader_close(&rd);
    ag_rules_holder_free(h);
}

struct shared {
    struct ag_rules_holder *h;
    atomic_bool stop;
    atomic_long evals, mixed, reloads, failed_ok, sets_seen_a, sets_seen_b;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Check one evaluation: all rules of exactly one set fired, nothing mixed. */
static void check(struct shared *s, const struct ag_rules *set, const struct ag_rules_value *v)
{
    const struct ag_rules_rule *fired[32];
    int n = ag_rules_eval_values(set, v, TF_NVALUES, fired, 32);
    bool ok = false;
    if (n == NA && ag_rules_count(set) == NA) {
        ok = true;
        for (int i = 0; i < n; i++)
            ok = ok && fired[i]->id[0] == 'a' && fired[i]->action == AG_ACTION_DENY;
        atomic_fetch_add(&s->sets_seen_a, 1);
    } else if (n == NB && ag_rules_count(set) == NB) {
        ok = true;
        for (int i = 0; i < n; i++)
            ok = ok && fired[i]->id[0] == 'b' && fired[i]->methods == AG_CHALLENGE_TOTP;
        atomic_fetch_add(&s->sets_seen_b, 1);
    }
    if (!ok)
        atomic_fetch_add(&s->mixed, 1);
    atomic_fetch_add(&s->evals, 1);
}

static void *evaluator(void *p)
{
    struct shared *s = p;
    struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    struct ag_rules_reader rd = {0};
    long i = 0;
    while (!atomic_load(&s->stop)) {
        if (i++ % 2) {
            /* a per-thread reader, as the pipeline's workers use */
            const struct ag_rules *set = ag_rules_reader_get(&rd, s->h);
            check(s, set, v);
        } else {
            /* a one-off reference, as the API uses */
            struct ag_rules *set = ag_rules_holder_get(s->h);
            check(s, set, v);
            ag_rules_release(set);
        }
    }
    ag_rules_reader_close(&rd);
    return NULL;
}

static void *reloader(void *p)
{
    struct shared *s = p;
    struct ag_err err;
    struct ag_rules_pos pos;
    for (long i = 0; !atomic_load(&s->stop); i++) {
        if (i % 3 == 2) {
            uint64_t gen = ag_rules_holder_generation(s->h);
            int rc = ag_rules_holder_reload_text(s->h, &test_schema, "bad", text_bad,
                                                 strlen(text_bad), &pos, &err);
            if (rc == AG_EINVAL && ag_rules_holder_generation(s->h) == gen)
                atomic_fetch_add(&s->failed_ok, 1);
        } else {
            const char *t = i % 2 ? text_b : text_a;
            if (ag_rules_holder_reload_text(s->h, &test_schema, "x", t, strlen(t), &pos, &err) == 0)
                atomic_fetch_add(&s->reloads, 1);
        }
    }
    return NULL;
}

static void reload_under_load(void **state)
{
    make_texts();
    struct ag_err err;
    struct ag_rules *a;
    assert_int_equal(ag_rules_compile(&test_schema, "a", text_a, strlen(text_a), &a, NULL, &err), 0);
    static struct shared s;
    s.h = ag_rules_holder_new(a);
    enum { NEVAL = 3 };
    pthread_t ev[NEVAL], rl;
    for (int i = 0; i < NEVAL; i++)
        assert_int_equal(pthread_create(&ev[i], NULL, evaluator, &s), 0);
    assert_int_equal(pthread_create(&rl, NULL, reloader, &s), 0);
    double until = now_s() + 1.0;
    while (now_s() < until) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&s.stop, true);
    for (int i = 0; i < NEVAL; i++)
        pthread_join(ev[i], NULL);
    pthread_join(rl, NULL);
    ag_rules_holder_free(s.h);
    print_message("# %ld evaluations, %ld reloads, %ld refused reloads, sets seen A %ld B %ld\n",
                  atomic_load(&s.evals), atomic_load(&s.reloads), atomic_load(&s.failed_ok),
                  atomic_load(&s.sets_seen_a), atomic_load(&s.sets_seen_b));
    assert_int_equal(atomic_load(&s.mixed), 0);
    assert_true(atomic_load(&s.evals) > 1000);
    assert_true(atomic_load(&s.reloads) > 20);
    assert_true(atomic_load(&s.failed_ok) > 10);
    assert_true(atomic_load(&s.sets_seen_a) > 0);
    assert_true(atomic_load(&s.sets_seen_b) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reload_basics),
        cmocka_unit_test(reload_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
