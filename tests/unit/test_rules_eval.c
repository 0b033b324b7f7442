/* Unit tests for src/rules: evaluation through the callback and the value
 * array, fired rules in file order, defensive reading of bad values, folding
 * into a decision, and the JSON helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_fixture.h"

#include "core/util.h"

#include <math.h>

static const char *const three_rules =
    "rule r_deny \"deny it\" when t.n >= 20 then deny score 0.9\n"
    "rule r_none \"never\" when t.flag2 then deny\n"
    "rule r_chal \"challenge it\" when t.flag then challenge methods [totp, sms] score 0.7\n"
    "rule r_chal2 \"challenge more\" when lower(t.s) == \"login.failed\" then challenge methods [sms, email]\n"
    "rule r_rev \"review it\" when \"botnet\" in t.list then review\n";

static struct ag_rules *compile(const char *text)
{
    struct ag_rules *set;
    struct ag_err err;
    if (ag_rules_compile(&test_schema, NULL, text, strlen(text), &set, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    return set;
}

struct getter_ctx {
    struct ag_rules_value *v;
    int calls;
};

static void get(void *ctx, int id, struct ag_rules_value *out)
{
    struct getter_ctx *g = ctx;
    g->calls++;
    assert_int_equal(out->type, AG_RULES_MISSING); /* zeroed before the call */
    if (id < TF_NVALUES)
        *out = g->v[id];
}

static void fired_in_file_order(void **state)
{
    struct ag_rules *set = compile(three_rules);
    static struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    const struct ag_rules_rule *fired[8];
    int n = ag_rules_eval_values(set, v, TF_NVALUES, fired, 8);
    assert_int_equal(n, 4);
    assert_string_equal(fired[0]->id, "r_deny");
    assert_string_equal(fired[1]->id, "r_chal");
    assert_string_equal(fired[2]->id, "r_chal2");
    assert_string_equal(fired[3]->id, "r_rev");

    /* the callback gives the same answer */
    struct getter_ctx g = {v, 0};
    const struct ag_rules_rule *fired2[8];
    assert_int_equal(ag_rules_eval(set, get, &g, fired2, 8), 4);
    assert_memory_equal(fired, fired2, 4 * sizeof fired[0]);
    assert_true(g.calls >= 5);

    /* only max_fired are stored, all are counted */
    const struct ag_rules_rule *one[1];
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, one, 1), 4);
    assert_ptr_equal(one[0], fired[0]);
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, NULL, 0), 4);

    /* fewer values than ids: the rest read as missing */
    assert_int_equal(ag_rules_eval_values(set, v, TF_N, fired, 8), 1);
    assert_string_equal(fired[0]->id, "r_chal");
    ag_rules_release(set);
}

static void bad_values_read_as_missing(void **state)
{
    static struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    struct ag_rules *set = compile("rule a \"d\" when exists(t.n) then deny\n"
                                   "rule b \"d\" when t.n >= 0 or t.n < 0 then deny\n"
                                   "rule c \"d\" when exists(t.s) then deny\n"
                                   "rule d \"d\" when exists(t.flag) then deny\n");
    const struct ag_rules_rule *fired[8];
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, fired, 8), 4);
    v[TF_N] = ag_rules_num(NAN);             /* NaN */
    v[TF_S] = ag_rules_num(3);               /* wrong type */
    v[TF_FLAG] = ag_rules_strn(NULL, 3);     /* a NULL string */
    v[TF_FLAG].type = AG_RULES_STRING;
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, fired, 8), 0);
    v[TF_N] = ag_rules_num(INFINITY); /* infinities are numbers */
    v[TF_S] = ag_rules_strn(NULL, 0); /* an empty string may be NULL */
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, fired, 8), 3);
    ag_rules_release(set);
}

static void decision_apply(void **state)
{
    struct ag_rules *set = compile(three_rules);
    static struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    const struct ag_rules_rule *fired[8];
    int n = ag_rules_eval_values(set, v, TF_NVALUES, fired, 8);

    /* deny wins; every rule recorded with a reason; risk is the top score */
    struct ag_decision d = {.action = AG_ACTION_ALLOW, .risk = 0.2};
    ag_rules_decision_apply(fired, n, &d);
    assert_int_equal(d.action, AG_ACTION_DENY);
    assert_true(d.risk == 0.9);
    assert_int_equal(d.nrules, 4);
    assert_string_equal(d.rules[0], "r_deny");
    assert_int_equal(d.nreasons, 4);
    assert_string_equal(d.reasons[0].code, "rule:r_deny");
    assert_string_equal(d.reasons[0].detail, "deny it");
    assert_int_equal(d.challenge_methods, 0);

    /* without the deny rule: a challenge whose methods are the intersection */
    struct ag_decision d2 = {.action = AG_ACTION_ALLOW};
    ag_rules_decision_apply(fired + 1, n - 1, &d2);
    assert_int_equal(d2.action, AG_ACTION_CHALLENGE);
    assert_true(d2.risk == 0.7);
    assert_int_equal(d2.challenge_methods, AG_CHALLENGE_SMS);

    /* methods that share nothing: the later rule is skipped */
    struct ag_rules *set2 = compile(
        "rule a \"d\" when true then challenge methods [totp]\n"
        "rule b \"d\" when true then challenge methods [sms]\n"
        "rule c \"d\" when true then challenge\n");
    n = ag_rules_eval_values(set2, v, TF_NVALUES, fired, 8);
    assert_int_equal(n, 3);
    struct ag_decision d3 = {.action = AG_ACTION_REVIEW};
    ag_rules_decision_apply(fired, n, &d3);
    assert_int_equal(d3.challenge_methods, AG_CHALLENGE_TOTP);
    ag_rules_release(set2);

    /* an allow rule is a monitor: recorded, but no reason, risk or action */
    struct ag_rules *set3 = compile("rule watch \"d\" when true then allow score 0.99\n");
    n = ag_rules_eval_values(set3, v, TF_NVALUES, fired, 8);
    struct ag_decision d4 = {.action = AG_ACTION_ALLOW, .risk = 0.1};
    ag_rules_decision_apply(fired, n, &d4);
    assert_int_equal(d4.action, AG_ACTION_ALLOW);
    assert_true(d4.risk == 0.1);
    assert_int_equal(d4.nrules, 1);
    assert_string_equal(d4.rules[0], "watch");
    assert_int_equal(d4.nreasons, 0);
    ag_rules_release(set3);
    ag_rules_release(set);
}

static void uses_field(void **state)
{
    struct ag_rules *set = compile("let x = t.far > 1\nrule a \"d\" when exists(t.s) and x then deny\n");
    assert_true(ag_rules_uses_field(set, TF_S));
    assert_true(ag_rules_uses_field(set, TF_FAR));
    assert_false(ag_rules_uses_field(set, TF_N));
    assert_false(ag_rules_uses_field(set, -1));
    assert_false(ag_rules_uses_field(set, 5000));
    ag_rules_release(set);
}

static void refcount(void **state)
{
    struct ag_rules *set = compile(three_rules);
    assert_ptr_equal(ag_rules_acquire(set), set);
    ag_rules_release(set);
    assert_int_equal(ag_rules_count(set), 5); /* still alive */
    ag_rules_release(set);
    ag_rules_release(NULL);
    assert_null(ag_rules_acquire(NULL));
}

static void describe_json(void **state)
{
    struct ag_rules *set = compile(three_rules);
    json_t *j = ag_rules_describe_json(set);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "version")), ag_rules_version(set));
    json_t *rules = json_object_get(j, "rules");
    assert_int_equal(json_array_size(rules), 5);
    json_t *r = json_array_get(rules, 2);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "r_chal");
    assert_string_equal(json_string_value(json_object_get(r, "action")), "challenge");
    assert_true(json_real_value(json_object_get(r, "score")) == 0.7);
    json_t *m = json_object_get(r, "methods");
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(json_string_value(json_array_get(m, 0)), "totp");
    assert_string_equal(json_string_value(json_array_get(m, 1)), "sms");
    assert_int_equal(json_integer_value(json_object_get(r, "line")), 3);
    assert_true(json_is_null(json_object_get(json_array_get(rules, 1), "score")));
    json_decref(j);
    ag_rules_release(set);
}

static void values_from_json(void **state)
{
    struct ag_rules *set = compile(three_rules);
    json_error_t je;
    json_t *o = json_loads("{\"t.n\": 25, \"t.flag\": false, \"t.s\": \"LOGIN.failed\","
                           " \"t.list\": [\"x\", \"botnet\"], \"gone.n\": null}",
                           0, &je);
    static struct ag_rules_value v[TF_NVALUES];
    const char *scratch[4];
    struct ag_err err;
    assert_int_equal(ag_rules_values_from_json(&test_schema, o, v, TF_NVALUES, scratch, 4, &err), 0);
    assert_int_equal(v[TF_GONE_N].type, AG_RULES_MISSING);
    assert_int_equal(v[TF_M].type, AG_RULES_MISSING);
    const struct ag_rules_rule *fired[8];
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, fired, 8), 3);
    assert_string_equal(fired[0]->id, "r_deny");
    assert_string_equal(fired[1]->id, "r_chal2");
    assert_string_equal(fired[2]->id, "r_rev");
    /* not enough scratch for the list */
    assert_int_equal(ag_rules_values_from_json(&test_schema, o, v, TF_NVALUES, scratch, 1, &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "t.list");
    json_decref(o);

    const char *bad[] = {"{\"t.nope\": 1}", "{\"t.n\": \"1\"}", "{\"t.flag\": 1}",
                         "{\"t.list\": [1]}", "{\"t.s\": []}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = json_loads(bad[i], 0, &je);
        assert_non_null(o);
        assert_int_equal(ag_rules_values_from_json(&test_schema, o, v, TF_NVALUES, scratch, 4, &err),
                         AG_EINVAL);
        json_decref(o);
    }
    ag_rules_release(set);
}

static void compile_file_and_version(void **state)
{
    char path[1024];
    struct ag_rules *a, *b;
    struct ag_err err;
    test_path("tests/data/rules/every_construct.rules", path, sizeof path);
    int rc = ag_rules_compile_file(&test_schema, path, &a, NULL, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_string_equal(ag_rules_source(a), "every_construct.rules");
    size_t len = 0;
    char *text = test_read("tests/data/rules/every_construct.rules", &len);
    assert_non_null(text);
    assert_int_equal(ag_rules_compile(&test_schema, "x", text, len, &b, NULL, &err), 0);
    assert_string_equal(ag_rules_version(a), ag_rules_version(b)); /* same text, same version */
    static struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    const struct ag_rules_rule *fired[64];
    int n = ag_rules_eval_values(a, v, TF_NVALUES, fired, 64);
    /* every rule in that file whose id starts with "yes_" fires, no other */
    int yes = 0;
    for (int i = 0; i < ag_rules_count(a); i++)
        yes += strncmp(ag_rules_rule_at(a, i)->id, "yes_", 4) == 0;
    assert_int_equal(n, yes);
    for (int i = 0; i < n; i++)
        if (strncmp(fired[i]->id, "yes_", 4) != 0)
            fail_msg("rule %s fired", fired[i]->id);
    free(text);
    ag_rules_release(a);
    ag_rules_release(b);
}

/* In fault-injection builds (AG_FAULT), every allocation the compiler and
 * the backtest make through ag_malloc can fail: compile returns AG_ENOMEM
 * and leaks nothing (the sanitized build checks). */
static void allocation_failures(void **state)
{
#ifdef AG_FAULT_INJECTION
    for (long nth = 1; nth < 20; nth++) {
        ag_fault_alloc_after(nth);
        struct ag_rules *set;
        struct ag_err err;
        int rc = ag_rules_compile(&test_schema, "f", three_rules, strlen(three_rules), &set, NULL,
                                  &err);
        ag_fault_alloc_after(0);
        if (rc == 0)
            ag_rules_release(set);
        else
            assert_int_equal(rc, AG_ENOMEM);
    }
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fired_in_file_order), cmocka_unit_test(bad_values_read_as_missing),
        cmocka_unit_test(decision_apply),      cmocka_unit_test(uses_field),
        cmocka_unit_test(refcount),            cmocka_unit_test(describe_json),
        cmocka_unit_test(values_from_json),    cmocka_unit_test(compile_file_and_version),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
