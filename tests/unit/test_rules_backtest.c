/* Unit tests for src/rules backtest: per-rule fired / changed / decisive
 * counts, action transitions and example ids over a small JSONL fixture of
 * stored events (tests/data/rules/backtest_events.jsonl), fed through the
 * iterator the way the pipeline feeds stored events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/backtest.h"
#include "rules_fixture.h"

enum { A = AG_ACTION_ALLOW, R = AG_ACTION_REVIEW, C = AG_ACTION_CHALLENGE, D = AG_ACTION_DENY };

/* An iterator over the JSONL fixture. */
struct it {
    FILE *f;
    json_t *line;
    struct ag_rules_value v[TF_NVALUES];
    const char *scratch[16];
    bool use_get;
    int fail_at; /* return an error at this line (1-based), 0 never */
    int n;
};

static void get(void *ctx, int id, struct ag_rules_value *out)
{
    struct it *it = ctx;
    if (id < TF_NVALUES)
        *out = it->v[id];
}

static int next(void *p, struct ag_rules_bt_item *item, struct ag_err *err)
{
    struct it *it = p;
    json_decref(it->line);
    it->line = NULL;
    char buf[4096];
    if (!fgets(buf, sizeof buf, it->f))
        return 0;
    if (++it->n == it->fail_at)
        return ag_err_set(err, AG_EIO, "store_io", "", "read failed at %d", it->n);
    json_error_t je;
    it->line = json_loads(buf, 0, &je);
    if (!it->line)
        return ag_err_set(err, AG_EINVAL, "invalid_json", "", "%s", je.text);
    int rc = ag_rules_values_from_json(&test_schema, json_object_get(it->line, "fields"), it->v,
                                       TF_NVALUES, it->scratch, 16, err);
    if (rc < 0)
        return rc;
    item->event_id = json_string_value(json_object_get(it->line, "id"));
    item->recorded = ag_action_parse(json_string_value(json_object_get(it->line, "recorded")));
    item->base = ag_action_parse(json_string_value(json_object_get(it->line, "base")));
    if (it->use_get) {
        item->get = get;
        item->ctx = it;
    } else {
        item->values = it->v;
        item->nvalues = TF_NVALUES;
    }
    return 1;
}

static struct ag_rules *load(void)
{
    char path[1024];
    struct ag_rules *set;
    struct ag_err err;
    if (ag_rules_compile_file(&test_schema, test_path("tests/data/rules/backtest.rules", path, sizeof path),
                              &set, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    return set;
}

static struct ag_rules_bt_report *run(struct ag_rules *set, bool use_get, int max_examples)
{
    char path[1024];
    struct it it = {.use_get = use_get};
    it.f = fopen(test_path("tests/data/rules/backtest_events.jsonl", path, sizeof path), "r");
    assert_non_null(it.f);
    struct ag_rules_bt_report *r;
    struct ag_err err;
    int rc = ag_rules_backtest(set, next, &it, max_examples, &r, &err);
    if (rc)
        fail_msg("%s", err.msg);
    json_decref(it.line);
    fclose(it.f);
    return r;
}

static void check_report(const struct ag_rules_bt_report *r, int max_examples)
{
    assert_int_equal(r->events, 7);
    assert_int_equal(r->changed, 5);
    assert_int_equal(r->transitions[A][D], 1);
    assert_int_equal(r->transitions[D][D], 1);
    assert_int_equal(r->transitions[A][R], 1);
    assert_int_equal(r->transitions[R][A], 1);
    assert_int_equal(r->transitions[A][C], 1);
    assert_int_equal(r->transitions[A][A], 1);
    assert_int_equal(r->transitions[C][D], 1);
    assert_int_equal(r->nexamples, max_examples < 5 ? max_examples : 5);
    if (max_examples >= 2) {
        assert_string_equal(r->examples[0], "e1");
        assert_string_equal(r->examples[1], "e3");
    }
    assert_int_equal(r->nrules, 3);

    const struct ag_rules_bt_rule *b = &r->rules[0];
    assert_string_equal(b->rule->id, "deny_big");
    assert_int_equal(b->fired, 3);
    assert_int_equal(b->changed, 2);
    assert_int_equal(b->decisive, 2);
    assert_int_equal(b->transitions[A][D], 1);
    assert_int_equal(b->transitions[D][D], 1);
    assert_int_equal(b->transitions[C][D], 1);
    assert_int_equal(b->nexamples, max_examples < 2 ? max_examples : 2);
    if (max_examples >= 2) {
        assert_string_equal(b->examples[0], "e1");
        assert_string_equal(b->examples[1], "e7");
    }

    b = &r->rules[1];
    assert_string_equal(b->rule->id, "review_s");
    assert_int_equal(b->fired, 3);
    assert_int_equal(b->changed, 2);
    assert_int_equal(b->decisive, 1);
    assert_int_equal(b->transitions[A][R], 1);

    b = &r->rules[2];
    assert_string_equal(b->rule->id, "monitor");
    assert_int_equal(b->fired, 3);
    assert_int_equal(b->changed, 2);
    assert_int_equal(b->decisive, 0); /* an allow rule never decides */
    assert_int_equal(b->transitions[A][C], 1);
    assert_int_equal(b->transitions[A][A], 1);
    assert_int_equal(b->transitions[C][D], 1);
}

static void counts_from_values(void **state)
{
    struct ag_rules *set = load();
    struct ag_rules_bt_report *r = run(set, false, 10);
    ag_rules_release(set); /* the report holds its own reference */
    check_report(r, 10);
    ag_rules_bt_report_free(r);
}

static void counts_from_callback_and_few_examples(void **state)
{
    struct ag_rules *set = load();
    for (int max = 0; max <= 2; max++) {
        struct ag_rules_bt_report *r = run(set, true, max);
        check_report(r, max);
        ag_rules_bt_report_free(r);
    }
    ag_rules_release(set);
}

static void report_json(void **state)
{
    struct ag_rules *set = load();
    struct ag_rules_bt_report *r = run(set, false, 1);
    json_t *j = ag_rules_bt_report_json(r);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "changed")), 5);
    json_t *t = json_object_get(j, "transitions");
    assert_int_equal(json_integer_value(json_object_get(t, "review->allow")), 1);
    assert_null(json_object_get(t, "deny->allow"));
    json_t *r0 = json_array_get(json_object_get(j, "rules"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "id")), "deny_big");
    assert_int_equal(json_integer_value(json_object_get(r0, "decisive")), 2);
    assert_int_equal(json_array_size(json_object_get(r0, "examples")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "version")), ag_rules_version(set));
    json_decref(j);
    ag_rules_bt_report_free(r);
    ag_rules_release(set);
}

static void iterator_errors_stop_it(void **state)
{
    struct ag_rules *set = load();
    char path[1024];
    struct it it = {.fail_at = 4};
    it.f = fopen(test_path("tests/data/rules/backtest_events.jsonl", path, sizeof path), "r");
    struct ag_rules_bt_report *r = (void *)1;
    struct ag_err err;
    assert_int_equal(ag_rules_backtest(set, next, &it, 5, &r, &err), AG_EIO);
    assert_null(r);
    assert_string_equal(err.slug, "store_io");
    json_decref(it.line);
    fclose(it.f);
    assert_int_equal(ag_rules_backtest(set, next, &it, -1, &r, &err), AG_EINVAL);
    assert_int_equal(ag_rules_backtest(set, next, &it, 1001, &r, &err), AG_EINVAL);
    ag_rules_release(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_from_values),
        cmocka_unit_test(counts_from_callback_and_few_examples),
        cmocka_unit_test(report_json),
        cmocka_unit_test(iterator_errors_stop_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
