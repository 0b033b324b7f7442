/* Unit tests for src/rules: every construct of the language parses and
 * means what docs/RULES.md says, with the documented precedence and
 * missing-value semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_fixture.h"

static void rule_header_and_options(void **state)
{
    const char *text =
        "# a comment line\n"
        "rule first \"the first rule\" # trailing comment\n"
        "  when t.flag\n"
        "  then deny score 0.95\n"
        "\n"
        "rule second \"challenge with methods\" when t.flag then challenge methods [totp, sms]\n"
        "rule third \"options in any order\"\n"
        "  when t.flag then challenge score 0.5 methods [email, backup,]\n"
        "rule fourth \"escapes: \\\"q\\\" \\\\ \\t\" when t.flag then allow\n"
        "rule review.with.dots \"ids may have dots\" when t.flag then review score 1\n"
        "rule unicode \"Konto übernommen — ✓\" when t.flag then review score 0\n";
    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;
    int rc = ag_rules_compile(&test_schema, "x.rules", text, strlen(text), &set, &pos, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(ag_rules_count(set), 6);

    const struct ag_rules_rule *r = ag_rules_rule_at(set, 0);
    assert_string_equal(r->id, "first");
    assert_string_equal(r->description, "the first rule");
    assert_int_equal(r->action, AG_ACTION_DENY);
    assert_true(r->has_score);
    assert_true(r->score == 0.95);
    assert_int_equal(r->methods, 0);
    assert_int_equal(r->index, 0);
    assert_int_equal(r->line, 2);

    r = ag_rules_find(set, "second");
    assert_non_null(r);
    assert_int_equal(r->action, AG_ACTION_CHALLENGE);
    assert_false(r->has_score);
    assert_int_equal(r->methods, AG_CHALLENGE_TOTP | AG_CHALLENGE_SMS);
    assert_int_equal(r->line, 6);

    r = ag_rules_find(set, "third");
    assert_true(r->score == 0.5);
    assert_int_equal(r->methods, AG_CHALLENGE_EMAIL | AG_CHALLENGE_BACKUP);

    r = ag_rules_find(set, "fourth");
    assert_string_equal(r->description, "escapes: \"q\" \\ \t");
    assert_int_equal(r->action, AG_ACTION_ALLOW);

    r = ag_rules_find(set, "review.with.dots");
    assert_int_equal(r->action, AG_ACTION_REVIEW);
    assert_true(r->score == 1.0);
    assert_string_equal(ag_rules_find(set, "unicode")->description, "Konto übernommen — ✓");
    assert_null(ag_rules_find(set, "nope"));
    assert_null(ag_rules_rule_at(set, 6));
    assert_string_equal(ag_rules_source(set), "x.rules");
    assert_int_equal(strlen(ag_rules_version(set)), 16);
    ag_rules_release(set);
}

static void empty_file_is_an_empty_set(void **state)
{
    struct ag_rules *set;
    struct ag_err err;
    const char *text = "  # only comments\n\n# here\n";
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, strlen(text), &set, NULL, &err), 0);
    assert_int_equal(ag_rules_count(set), 0);
    assert_string_equal(ag_rules_source(set), "");
    assert_int_equal(ag_rules_eval_values(set, NULL, 0, NULL, 0), 0);
    ag_rules_release(set);
}

static void literals(void **state)
{
    assert_int_equal(test_cond("true"), 1);
    assert_int_equal(test_cond("false"), 0);
    assert_int_equal(test_cond("t.n == 20"), 1);
    assert_int_equal(test_cond("t.n == 20.0"), 1);
    assert_int_equal(test_cond("t.n == 2e1"), 1);
    assert_int_equal(test_cond("t.n == 200E-1"), 1);
    assert_int_equal(test_cond("t.m == 2.5"), 1);
    assert_int_equal(test_cond("1_000_000 == 1000000"), 1);
    assert_int_equal(test_cond("0.1 + 0.2 > 0.3"), 1); /* doubles, as documented */
    assert_int_equal(test_cond("t.s == \"Login.Failed\""), 1);
    assert_int_equal(test_cond("t.s == \"login.failed\""), 0);
    assert_int_equal(test_cond("t.empty == \"\""), 1);
    assert_int_equal(test_cond("\"a\\nb\" != \"a b\""), 1);
    assert_int_equal(test_cond("t.flag == true"), 1);
    assert_int_equal(test_cond("t.flag2 == false"), 1);
    assert_int_equal(test_cond("t.flag != t.flag2"), 1);
    assert_int_equal(test_cond("t.far == 7"), 1);
}

static void comparisons(void **state)
{
    assert_int_equal(test_cond("t.n > 19"), 1);
    assert_int_equal(test_cond("t.n > 20"), 0);
    assert_int_equal(test_cond("t.n >= 20"), 1);
    assert_int_equal(test_cond("t.n < 21"), 1);
    assert_int_equal(test_cond("t.n < 20"), 0);
    assert_int_equal(test_cond("t.n <= 20"), 1);
    assert_int_equal(test_cond("t.n != 20"), 0);
    assert_int_equal(test_cond("t.n != 21"), 1);
    assert_int_equal(test_cond("t.s != t.s2"), 1);
    assert_int_equal(test_cond("t.m < t.n"), 1);
}

static void boolean_logic(void **state)
{
    assert_int_equal(test_cond("t.flag and t.flag"), 1);
    assert_int_equal(test_cond("t.flag and t.flag2"), 0);
    assert_int_equal(test_cond("t.flag2 or t.flag"), 1);
    assert_int_equal(test_cond("t.flag2 or t.flag2 or t.flag2"), 0);
    assert_int_equal(test_cond("not t.flag2"), 1);
    assert_int_equal(test_cond("not not t.flag"), 1);
    assert_int_equal(test_cond("t.flag and t.flag and t.flag and not t.flag2"), 1);
}

static void precedence(void **state)
{
    /* and binds tighter than or */
    assert_int_equal(test_cond("true or false and false"), 1);
    assert_int_equal(test_cond("(true or false) and false"), 0);
    assert_int_equal(test_cond("false and false or true"), 1);
    assert_int_equal(test_cond("false and (false or true)"), 0);
    /* not binds tighter than and/or, looser than comparisons */
    assert_int_equal(test_cond("not false and false"), 0);
    assert_int_equal(test_cond("not (false and false)"), 1);
    assert_int_equal(test_cond("not t.n > 30"), 1);
    assert_int_equal(test_cond("not t.n == 20 or t.flag"), 1);
    assert_int_equal(test_cond("not t.n == 20 and t.flag"), 0);
    /* arithmetic: * / over + -, left to right, unary minus tightest */
    assert_int_equal(test_cond("1 + 2 * 3 == 7"), 1);
    assert_int_equal(test_cond("(1 + 2) * 3 == 9"), 1);
    assert_int_equal(test_cond("10 - 4 - 3 == 3"), 1);
    assert_int_equal(test_cond("8 / 4 / 2 == 1"), 1);
    assert_int_equal(test_cond("-2 * 3 == -6"), 1);
    assert_int_equal(test_cond("- -2 == 2"), 1);
    assert_int_equal(test_cond("2 - -2 == 4"), 1);
    assert_int_equal(test_cond("t.n - t.m * 2 == 15"), 1);
    assert_int_equal(test_cond("t.n / 4 + 1 == 6"), 1);
    assert_int_equal(test_cond("-t.n == -20"), 1);
    /* comparisons over arithmetic, in over arithmetic */
    assert_int_equal(test_cond("t.n + 1 > 20 and t.n * 2 in [40]"), 1);
    assert_int_equal(test_cond("((((t.flag))))"), 1);
}

static void lists(void **state)
{
    assert_int_equal(test_cond("t.s2 in [\"x\", \"login\"]"), 1);
    assert_int_equal(test_cond("t.s2 in [\"x\", \"y\",]"), 0);
    assert_int_equal(test_cond("t.s2 not in [\"x\", \"y\"]"), 1);
    assert_int_equal(test_cond("t.s2 not in [\"login\"]"), 0);
    assert_int_equal(test_cond("t.n in [1, 20, 300]"), 1);
    assert_int_equal(test_cond("t.n in [1, 2]"), 0);
    assert_int_equal(test_cond("-t.n in [-20, 5]"), 1);
    assert_int_equal(test_cond("t.m in [2.5]"), 1);
    assert_int_equal(test_cond("\"botnet\" in t.list"), 1);
    assert_int_equal(test_cond("\"tor\" in t.list"), 0);
    assert_int_equal(test_cond("\"tor\" not in t.list"), 1);
    assert_int_equal(test_cond("lower(\"BOTNET\") in t.list"), 1);
    assert_int_equal(test_cond("lower(t.s) in [\"login.failed\"]"), 1);
    assert_int_equal(test_cond("t.s in [\"login.failed\"]"), 0);
}

static void functions(void **state)
{
    assert_int_equal(test_cond("starts_with(t.s, \"Login.\")"), 1);
    assert_int_equal(test_cond("starts_with(t.s, \"login.\")"), 0);
    assert_int_equal(test_cond("starts_with(lower(t.s), \"login.\")"), 1);
    assert_int_equal(test_cond("ends_with(t.s, \"Failed\")"), 1);
    assert_int_equal(test_cond("ends_with(t.s, \"Login.Failed!\")"), 0);
    assert_int_equal(test_cond("ends_with(t.s, \"\")"), 1);
    assert_int_equal(test_cond("contains(t.s, \"n.F\")"), 1);
    assert_int_equal(test_cond("contains(t.s, \"N.F\")"), 0);
    assert_int_equal(test_cond("contains(lower(t.s), \"n.f\")"), 1);
    assert_int_equal(test_cond("contains(t.s, lower(\"N.F\"))"), 0);
    assert_int_equal(test_cond("contains(lower(t.s), lower(\"N.F\"))"), 1);
    assert_int_equal(test_cond("contains(t.list, \"botnet\")"), 1);
    assert_int_equal(test_cond("contains(t.list, \"bot\")"), 0);
    assert_int_equal(test_cond("lower(t.s) == \"login.failed\""), 1);
    assert_int_equal(test_cond("lower(t.s) == lower(\"LOGIN.FAILED\")"), 1);
    assert_int_equal(test_cond("lower(\"ÄB\") == \"Äb\""), 1); /* ASCII only */
    assert_int_equal(test_cond("len(t.s) == 12"), 1);
    assert_int_equal(test_cond("len(\"ü✓\") == 2"), 1); /* characters, not bytes */
    assert_int_equal(test_cond("len(t.list) == 2"), 1);
    assert_int_equal(test_cond("len(t.empty) == 0"), 1);
    assert_int_equal(test_cond("exists(t.n)"), 1);
    assert_int_equal(test_cond("exists(gone.n)"), 0);
    assert_int_equal(test_cond("exists(t.list) and exists(t.flag2) and exists(t.empty)"), 1);
    assert_int_equal(test_cond("not exists(gone.l)"), 1);
    assert_int_equal(test_cond("default(gone.n, 5) == 5"), 1);
    assert_int_equal(test_cond("default(t.n, 5) == 20"), 1);
    assert_int_equal(test_cond("default(gone.b, true)"), 1);
    assert_int_equal(test_cond("default(t.flag2, true)"), 0);
    assert_int_equal(test_cond("default(gone.s, \"x\") == \"x\""), 1);
    assert_int_equal(test_cond("default(gone.n > 3, false) == false"), 1);
    assert_int_equal(test_cond("min(t.n, t.m) == 2.5 and max(t.n, t.m) == 20"), 1);
    assert_int_equal(test_cond("abs(-3) == 3 and abs(t.m - t.n) == 17.5"), 1);
}

static void let_definitions(void **state)
{
    const char *text =
        "let big = t.n * 2\n"
        "let risky = t.flag and big >= 40\n"
        "let name = lower(t.s)\n"
        "rule a \"uses lets\" when risky and name == \"login.failed\" then deny\n"
        "rule b \"uses lets again\" when not risky then review\n";
    struct ag_rules *set;
    struct ag_err err;
    int rc = ag_rules_compile(&test_schema, NULL, text, strlen(text), &set, NULL, &err);
    if (rc)
        fail_msg("%s", err.msg);
    struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    const struct ag_rules_rule *fired[4];
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, fired, 4), 1);
    assert_string_equal(fired[0]->id, "a");
    v[TF_N] = ag_rules_num(1);
    assert_int_equal(ag_rules_eval_values(set, v, TF_NVALUES, fired, 4), 1);
    assert_string_equal(fired[0]->id, "b");
    ag_rules_release(set);
}

/* Missing values: unknown, not false (docs/RULES.md, "Missing values"). */
static void missing_values(void **state)
{
    assert_int_equal(test_cond("gone.n > 5"), 0);
    assert_int_equal(test_cond("gone.n <= 5"), 0);
    assert_int_equal(test_cond("gone.n != 5"), 0);
    assert_int_equal(test_cond("not (gone.n == 5)"), 0);
    assert_int_equal(test_cond("gone.b"), 0);
    assert_int_equal(test_cond("not gone.b"), 0);
    assert_int_equal(test_cond("gone.b == false"), 0);
    assert_int_equal(test_cond("gone.s == \"x\" or t.flag"), 1);  /* unknown or true */
    assert_int_equal(test_cond("gone.s == \"x\" or t.flag2"), 0); /* unknown or false */
    assert_int_equal(test_cond("not (gone.s == \"x\" or t.flag2)"), 0);
    assert_int_equal(test_cond("not (gone.s == \"x\" and t.flag2)"), 1); /* unknown and false */
    assert_int_equal(test_cond("gone.n + 1 > 0"), 0);
    assert_int_equal(test_cond("t.n / 0 > 0"), 0); /* division by zero is missing */
    assert_int_equal(test_cond("not (t.n / 0 > 0)"), 0);
    assert_int_equal(test_cond("default(t.n / 0, -1) == -1"), 1);
    assert_int_equal(test_cond("gone.s in [\"x\"]"), 0);
    assert_int_equal(test_cond("gone.s not in [\"x\"]"), 0);
    assert_int_equal(test_cond("\"x\" in gone.l"), 0);
    assert_int_equal(test_cond("starts_with(gone.s, \"\")"), 0);
    assert_int_equal(test_cond("len(gone.l) >= 0"), 0);
    assert_int_equal(test_cond("min(gone.n, 1) < 5"), 0);
    assert_int_equal(test_cond("not exists(gone.n) or gone.n > 5"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_header_and_options),
        cmocka_unit_test(empty_file_is_an_empty_set),
        cmocka_unit_test(literals),
        cmocka_unit_test(comparisons),
        cmocka_unit_test(boolean_logic),
        cmocka_unit_test(precedence),
        cmocka_unit_test(lists),
        cmocka_unit_test(functions),
        cmocka_unit_test(let_definitions),
        cmocka_unit_test(missing_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
