/* Unit tests for src/rules: every kind of compile error names its exact
 * line and column, its slug, and what was expected; a file with any error
 * yields no set at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/fields.h"
#include "rules_fixture.h"

struct bad {
    const char *text;
    int line, col;
    const char *slug;
    const char *msg; /* a substring of the message */
};

/* "rule a \"d\" when " is 16 characters: a condition starts at column 17. */
#define R "rule a \"d\" when "

static const struct bad cases[] = {
    /* lexical */
    {"rule a \"d", 1, 8, "rules_syntax", "unterminated string"},
    {"rule a \"d\nwhen t.flag then deny", 1, 8, "rules_syntax", "unterminated string"},
    {"rule a \"bad \\q\" when t.flag then deny", 1, 13, "rules_syntax", "unknown escape"},
    {"rule a \"x\x01\" when t.flag then deny", 1, 10, "rules_syntax", "control character"},
    {"rule a \"x\xff\" when t.flag then deny", 1, 10, "rules_syntax", "invalid UTF-8"},
    {R "t.n == 1.2.3 then deny", 1, 27, "rules_syntax", "unexpected '.' after number 1.2"},
    {R "t.n == 30m then deny", 1, 26, "rules_syntax", "unexpected 'm' after number 30"},
    {R "t.n == 1e999 then deny", 1, 24, "rules_syntax", "out of range"},
    {R "t.flag && t.flag then deny", 1, 24, "rules_syntax", "write 'and'"},
    {R "t.flag || t.flag then deny", 1, 24, "rules_syntax", "write 'or'"},
    {R "!t.flag then deny", 1, 17, "rules_syntax", "write 'not'"},
    {R "t.s == 'x' then deny", 1, 24, "rules_syntax", "double quotes"},
    {R "t.flag @ then deny", 1, 24, "rules_syntax", "unexpected character '@'"},
    {R "t.flag \xc3\xa4 then deny", 1, 24, "rules_syntax", "unexpected byte 0xc3"},
    {R "t. then deny", 1, 19, "rules_syntax", "expected a name after '.'"},
    /* syntax */
    {"rul a \"d\" when t.flag then deny", 1, 1, "rules_syntax",
     "expected 'rule' or 'let', found 'rul'"},
    {"rule \"d\" when t.flag then deny", 1, 6, "rules_syntax",
     "expected a rule id after 'rule', found string \"d\""},
    {"rule when \"d\" when t.flag then deny", 1, 6, "rules_syntax", "expected a rule id"},
    {"rule a when t.flag then deny", 1, 8, "rules_syntax",
     "expected a description in double quotes after the rule id, found 'when'"},
    {"rule a \"d\" t.flag then deny", 1, 12, "rules_syntax",
     "expected 'when' after the description, found 't.flag'"},
    {R "t.flag deny", 1, 24, "rules_syntax",
     "expected 'then' or an operator after the condition, found 'deny'"},
    {R "t.flag then block", 1, 29, "rules_syntax",
     "expected an action (allow, review, challenge or deny) after 'then', found 'block'"},
    {R "t.flag then", 1, 28, "rules_syntax", "expected an action"},
    {R "t.flag then deny score", 1, 39, "rules_syntax",
     "expected a number between 0 and 1 after 'score', found end of file"},
    {R "t.flag then deny score 1.5", 1, 40, "rules_syntax", "score must be between 0 and 1"},
    {R "t.flag then deny score 0.5 score 0.6", 1, 44, "rules_duplicate", "'score' given twice"},
    {R "t.flag then deny methods [totp]", 1, 34, "rules_syntax",
     "'methods' is only for 'challenge' rules"},
    {R "t.flag then challenge methods [totp, fax]", 1, 54, "rules_syntax",
     "expected a challenge method (totp, sms, email or backup), found 'fax'"},
    {R "t.flag then challenge methods [totp] methods [sms]", 1, 54, "rules_duplicate",
     "'methods' given twice"},
    {R "t.flag then challenge methods totp", 1, 47, "rules_syntax", "expected '[' after 'methods'"},
    {R "t.flag then deny because", 1, 34, "rules_syntax",
     "expected 'score', 'methods' or the next 'rule', found 'because'"},
    {R "t.n = 5 then deny", 1, 21, "rules_syntax", "expected '==' to compare, found '='"},
    {R "1 < t.n < 30 then deny", 1, 25, "rules_syntax", "comparisons cannot be chained"},
    {R "t.n == 1 in [1] then deny", 1, 26, "rules_syntax", "comparisons cannot be chained"},
    {R "t.flag and then deny", 1, 28, "rules_syntax",
     "expected a value (a field, number, string, true, false or '('), found 'then'"},
    {R "t.flag and ) then deny", 1, 28, "rules_syntax", "expected a value"},
    {R "(t.flag then deny", 1, 25, "rules_syntax", "expected ')', found 'then'"},
    {R "t.n in [] then deny", 1, 25, "rules_syntax", "empty list"},
    {R "t.n in [1 2] then deny", 1, 27, "rules_syntax", "expected ',' or ']' in the list"},
    {R "t.n in [1, t.n] then deny", 1, 28, "rules_syntax", "expected a number in the list"},
    {R "t.s in 5 then deny", 1, 24, "rules_syntax",
     "expected '[' or a string-list field after 'in', found number 5"},
    {R "t.flag not t.flag2 then deny", 1, 28, "rules_syntax", "expected 'in' after 'not'"},
    {R "lower(t.s, t.s) == \"x\" then deny", 1, 26, "rules_syntax", "lower() takes 1 argument"},
    {R "starts_with(t.s) then deny", 1, 32, "rules_syntax",
     "expected ',' between the two arguments, found ')'"},
    {R "exists(5) then deny", 1, 24, "rules_syntax",
     "expected a field name in exists(...), found number 5"},
    {"let = 5", 1, 5, "rules_syntax", "expected a name after 'let'"},
    {"let x 5", 1, 7, "rules_syntax", "expected '=' after the name, found number 5"},
    {"let a.b = 5", 1, 5, "rules_syntax", "cannot contain '.'"},
    /* unknown names */
    {R "t.flg then deny", 1, 17, "rules_unknown_field",
     "unknown field 't.flg' (did you mean 't.flag'?)"},
    {R "foo.bar then deny", 1, 17, "rules_unknown_field", "unknown field 'foo.bar'"},
    {R "t.flag and\n  exists(ip.hosting) then deny", 2, 10, "rules_unknown_field",
     "unknown field 'ip.hosting'"},
    {R "lowercase(t.s) == \"x\" then deny", 1, 17, "rules_unknown_function",
     "unknown function 'lowercase'"},
    {R "t.flag(1) then deny", 1, 17, "rules_unknown_function", "unknown function 't.flag'"},
    /* types */
    {R "t.s == 5 then deny", 1, 21, "rules_type",
     "cannot compare 't.s' (a string) with a number"},
    {R "t.flag != 1 then deny", 1, 24, "rules_type",
     "cannot compare 't.flag' (true/false) with a number"},
    {R "t.s > \"a\" then deny", 1, 21, "rules_type", "'>' needs numbers, found 't.s' (a string)"},
    {R "t.flag <= t.flag then deny", 1, 24, "rules_type", "'<=' needs numbers"},
    {R "t.list == \"x\" then deny", 1, 24, "rules_type",
     "cannot compare 't.list' (a string list) with a string"},
    {R "t.list != t.list then deny", 1, 24, "rules_type", "a string list cannot be compared"},
    {R "t.n and t.flag then deny", 1, 17, "rules_type",
     "'and' needs true/false, found 't.n' (a number)"},
    {R "t.flag or t.s then deny", 1, 27, "rules_type",
     "'or' needs true/false, found 't.s' (a string)"},
    {R "not t.n then deny", 1, 21, "rules_type", "'not' needs true/false, found 't.n' (a number)"},
    {R "t.s + 1 > 2 then deny", 1, 17, "rules_type", "'+' needs a number, found 't.s' (a string)"},
    {R "2 * t.flag > 2 then deny", 1, 21, "rules_type", "'*' needs a number"},
    {R "-t.s == \"x\" then deny", 1, 18, "rules_type", "'-' needs a number"},
    {R "t.n then deny", 1, 17, "rules_type",
     "a condition must be true or false, found 't.n' (a number)"},
    {R "t.n + 1 then deny", 1, 17, "rules_type", "a condition must be true or false, found a number"},
    {R "t.n in [\"a\"] then deny", 1, 25, "rules_type",
     "list item is a string but the value before 'in' is 't.n' (a number)"},
    {R "t.s in [1] then deny", 1, 25, "rules_type", "list item is a number"},
    {R "t.flag in [1] then deny", 1, 24, "rules_type",
     "'in [...]' needs a string or a number on its left"},
    {R "t.n in t.list then deny", 1, 17, "rules_type", "'in' a string list needs a string"},
    {R "\"x\" in t.s then deny", 1, 24, "rules_type",
     "'in' needs a [...] list or a string-list field, found 't.s' (a string)"},
    {R "starts_with(t.n, \"x\") then deny", 1, 29, "rules_type",
     "argument 1 of starts_with() cannot be 't.n' (a number)"},
    {R "contains(t.s, 5) then deny", 1, 31, "rules_type", "argument 2 of contains() cannot be"},
    {R "default(t.n, \"x\") == 1 then deny", 1, 17, "rules_type",
     "default() needs two values of one type"},
    {R "len(t.n) > 1 then deny", 1, 21, "rules_type", "argument 1 of len() cannot be"},
    {R "default(t.list, t.list) then deny", 1, 25, "rules_type", "argument 1 of default()"},
    {R "lower(t.n) == \"x\" then deny", 1, 23, "rules_type", "argument 1 of lower()"},
    /* duplicates */
    {"rule a \"d\" when t.flag then deny\nrule a \"e\" when t.flag then deny", 2, 6,
     "rules_duplicate", "rule 'a' is already defined on line 1"},
    {"let x = 1\nlet x = 2", 2, 5, "rules_duplicate", "'x' is already defined"},
    {"let lower = 1", 1, 5, "rules_duplicate", "'lower' is a function name"},
    {"let x = t.flag and y\nlet y = true", 1, 20, "rules_unknown_field", "unknown field 'y'"},
    /* limits */
    {R "t.flag then deny\nrule "
       "a234567890123456789012345678901234567890123456789012345678901234 \"d\" when t.flag then deny",
     2, 6, "rules_limit", "rule id longer than 63 characters"},
};

static void error_table(void **state)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad *b = &cases[i];
        struct ag_rules *set = (struct ag_rules *)1;
        struct ag_err err;
        struct ag_rules_pos pos;
        int rc = ag_rules_compile(&test_schema, "t.rules", b->text, strlen(b->text), &set, &pos, &err);
        /* The message starts with name:line:col. */
        char prefix[64];
        snprintf(prefix, sizeof prefix, "t.rules:%d:%d: ", b->line, b->col);
        if (rc != AG_EINVAL || set != NULL || pos.line != b->line || pos.col != b->col ||
            strcmp(err.slug, b->slug) != 0 || !strstr(err.msg, b->msg) ||
            strncmp(err.msg, prefix, strlen(prefix)) != 0) {
            print_error("case %zu: %s\n  got rc=%d %d:%d %s: %s\n  want %d:%d %s: ...%s...\n", i,
                        b->text, rc, pos.line, pos.col, err.slug, err.msg, b->line, b->col, b->slug,
                        b->msg);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Columns count characters, not bytes; a tab counts one. */
static void columns_count_characters(void **state)
{
    const char *text = "rule a \"ü\" when t.flag then deny\n"
                       "rule b \"é✓\" when\tt.flg then deny\n";
    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, strlen(text), &set, &pos, &err),
                     AG_EINVAL);
    assert_int_equal(pos.line, 2);
    assert_int_equal(pos.col, 18);
    assert_string_equal(err.msg, "rules:2:18: unknown field 't.flg' (did you mean 't.flag'?)");
}

/* Good rules before an error do not survive it: all or nothing. */
static void whole_file_or_nothing(void **state)
{
    const char *text = "rule a \"d\" when t.flag then deny\n"
                       "rule b \"d\" when t.flag then deny\n"
                       "rule c \"d\" when t.flag then denied\n";
    struct ag_rules *set = (struct ag_rules *)1;
    struct ag_err err;
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, strlen(text), &set, NULL, &err),
                     AG_EINVAL);
    assert_null(set);
}

static void depth_limits(void **state)
{
    char text[8192];
    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;

    /* 64 levels of parentheses are fine, 65 are not */
    for (int depth = 63; depth <= 65; depth++) {
        int n = snprintf(text, sizeof text, R);
        for (int i = 0; i < depth; i++)
            text[n++] = '(';
        n += snprintf(text + n, sizeof text - (size_t)n, "t.flag");
        for (int i = 0; i < depth; i++)
            text[n++] = ')';
        n += snprintf(text + n, sizeof text - (size_t)n, " then deny");
        int rc = ag_rules_compile(&test_schema, NULL, text, (size_t)n, &set, &pos, &err);
        if (depth < 64) {
            assert_int_equal(rc, 0);
            ag_rules_release(set);
        } else {
            assert_int_equal(rc, AG_EINVAL);
            assert_string_equal(err.slug, "rules_limit");
            assert_non_null(strstr(err.msg, "nested too deeply (limit 64)"));
            assert_int_equal(pos.line, 1);
        }
    }
    /* Deeply nested input never recurses deeply: 100000 '(' fails fast. */
    static char huge[100100];
    int n = snprintf(huge, sizeof huge, R);
    memset(huge + n, '(', 100000);
    assert_int_equal(ag_rules_compile(&test_schema, NULL, huge, (size_t)n + 100000, &set, &pos, &err),
                     AG_EINVAL);
    assert_string_equal(err.slug, "rules_limit");
    assert_int_equal(pos.col, 17 + 64);

    /* not not not ... and - - - ... */
    n = snprintf(text, sizeof text, R);
    for (int i = 0; i < 70; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "not ");
    n += snprintf(text + n, sizeof text - (size_t)n, "t.flag then deny");
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, (size_t)n, &set, &pos, &err),
                     AG_EINVAL);
    assert_string_equal(err.slug, "rules_limit");
    n = snprintf(text, sizeof text, R);
    for (int i = 0; i < 70; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "- ");
    n += snprintf(text + n, sizeof text - (size_t)n, "t.n > 0 then deny");
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, (size_t)n, &set, &pos, &err),
                     AG_EINVAL);
    assert_string_equal(err.slug, "rules_limit");

    /* A long arithmetic chain is a deep tree even without parentheses. */
    n = snprintf(text, sizeof text, R "t.n");
    for (int i = 0; i < 70; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " + t.n");
    n += snprintf(text + n, sizeof text - (size_t)n, " > 0 then deny");
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, (size_t)n, &set, &pos, &err),
                     AG_EINVAL);
    assert_string_equal(err.slug, "rules_limit");
    /* ... while a long chain of 'and' is one flat node. */
    n = snprintf(text, sizeof text, R "t.flag");
    for (int i = 0; i < 500; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " and t.flag");
    n += snprintf(text + n, sizeof text - (size_t)n, " then deny");
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, (size_t)n, &set, &pos, &err), 0);
    ag_rules_release(set);
}

static void size_limits(void **state)
{
    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;
    /* a string literal over AG_RULES_MAX_STRING */
    size_t len = AG_RULES_MAX_STRING + 100;
    char *text = malloc(len + 100);
    int n = snprintf(text, len + 100, "rule a \"");
    memset(text + n, 'x', AG_RULES_MAX_STRING + 1);
    n += AG_RULES_MAX_STRING + 1;
    n += snprintf(text + n, 100, "\" when t.flag then deny");
    assert_int_equal(ag_rules_compile(&test_schema, NULL, text, (size_t)n, &set, &pos, &err),
                     AG_EINVAL);
    assert_string_equal(err.slug, "rules_limit");
    assert_int_equal(pos.line, 1);
    assert_int_equal(pos.col, 8);
    free(text);
    /* a text over AG_RULES_MAX_TEXT is refused before parsing */
    assert_int_equal(ag_rules_compile(&test_schema, "big", "", AG_RULES_MAX_TEXT + 1, &set, &pos,
                                      &err),
                     AG_ELIMIT);
    assert_int_equal(pos.line, 0);
    assert_null(set);
}

static void schema_errors(void **state)
{
    struct ag_rules *set;
    struct ag_err err;
    const struct ag_rules_field dup_name[] = {{"a", AG_RULES_BOOL, 0, NULL},
                                              {"a", AG_RULES_BOOL, 1, NULL}};
    const struct ag_rules_field dup_id[] = {{"a", AG_RULES_BOOL, 0, NULL},
                                            {"b", AG_RULES_NUMBER, 0, NULL}};
    const struct ag_rules_field bad_id[] = {{"a", AG_RULES_BOOL, -1, NULL}};
    const struct ag_rules_field bad_type[] = {{"a", AG_RULES_MISSING, 0, NULL}};
    const struct ag_rules_field bad_name[] = {{"a b", AG_RULES_BOOL, 0, NULL}};
    const struct ag_rules_schema schemas[] = {
        {dup_name, 2}, {dup_id, 2}, {bad_id, 1}, {bad_type, 1}, {bad_name, 1}};
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
        assert_int_equal(ag_rules_compile(&schemas[i], NULL, "", 0, &set, NULL, &err), AG_EINVAL);
        assert_string_equal(err.slug, "rules_schema");
    }
    assert_int_equal(ag_rules_compile(NULL, NULL, "", 0, &set, NULL, &err), AG_EINVAL);
}

static void file_errors(void **state)
{
    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;
    assert_int_equal(ag_rules_compile_file(&test_schema, "/nonexistent/x.rules", &set, &pos, &err),
                     AG_EIO);
    assert_string_equal(err.slug, "rules_io");
    assert_null(set);
    char path[1024];
    test_path("tests/data/rules/bad_type.rules", path, sizeof path);
    assert_int_equal(ag_rules_compile_file(&test_schema, path, &set, &pos, &err), AG_EINVAL);
    assert_int_equal(pos.line, 10);
    assert_int_equal(pos.col, 12);
    assert_string_equal(err.slug, "rules_type");
    assert_string_equal(err.msg, "bad_type.rules:10:12: cannot compare 't.n' (a number) with a string");
}

/* Mutants of the shipped rules (spans deleted, tokens inserted, bytes
 * replaced) either compile or fail with AG_EINVAL and a position inside the
 * text; none crashes, hangs or leaks (the sanitized build checks). A fixed
 * seed keeps it reproducible. */
static void mutants_fail_cleanly(void **state)
{
    size_t len = 0;
    char *orig = test_read("rules/default.rules", &len);
    assert_non_null(orig);
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += orig[i] == '\n';
    static const char *const toks[] = {"(", ")", " and ", " or ", " not ", "\"", " == ", "[", "]",
                                       "-", "1e999", "\xff", "#", "\n", " rule ", " let x = ",
                                       ",", "exists(", "lower(", " in ", "\\", "0.5", "then"};
    char *buf = malloc(len + 256);
    static struct ag_rules_value v[AG_RF_COUNT];
    uint64_t seed = 12345;
    int compiled = 0;
    for (int iter = 0; iter < 1000; iter++) {
        memcpy(buf, orig, len);
        size_t n = len;
        int ops = 1 + (int)(seed % 3);
        for (int k = 0; k < ops; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (size_t)(seed >> 33) % (n ? n : 1);
            switch ((seed >> 20) % 3) {
            case 0: { /* delete a span */
                size_t del = 1 + (seed >> 40) % 20;
                if (at + del > n)
                    del = n - at;
                memmove(buf + at, buf + at + del, n - at - del);
                n -= del;
                break;
            }
            case 1: { /* insert a token */
                const char *t = toks[(seed >> 40) % (sizeof toks / sizeof toks[0])];
                size_t tl = strlen(t);
                if (n + tl > len + 200)
                    break;
                memmove(buf + at + tl, buf + at, n - at);
                memcpy(buf + at, t, tl);
                n += tl;
                break;
            }
            default: /* replace a byte */
                if (n)
                    buf[at] = (char)(seed >> 48);
            }
        }
        struct ag_rules *set;
        struct ag_err err;
        struct ag_rules_pos pos;
        int rc = ag_rules_compile(&ag_rules_default_schema, "m", buf, n, &set, &pos, &err);
        if (rc == 0) {
            compiled++;
            const struct ag_rules_rule *fired[8];
            int k = ag_rules_eval_values(set, v, AG_RF_COUNT, fired, 8);
            assert_true(k >= 0 && k <= ag_rules_count(set));
            ag_rules_release(set);
            continue;
        }
        if (rc != AG_EINVAL || set != NULL || pos.line < 1 || pos.line > lines + 8 ||
            pos.col < 1 || strncmp(err.msg, "m:", 2) != 0)
            fail_msg("mutant %d: rc=%d %d:%d %s", iter, rc, pos.line, pos.col, err.msg);
    }
    print_message("# %d of 1000 mutants still compiled\n", compiled);
    free(buf);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_table),     cmocka_unit_test(columns_count_characters),
        cmocka_unit_test(whole_file_or_nothing), cmocka_unit_test(depth_limits),
        cmocka_unit_test(size_limits),     cmocka_unit_test(schema_errors),
        cmocka_unit_test(file_errors),     cmocka_unit_test(mutants_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
