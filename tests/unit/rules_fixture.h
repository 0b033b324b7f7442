/* A small schema and helpers shared by the rules unit tests. Field ids are
 * sparse on purpose (t.far is 1000) to test that ids, not positions, index
 * the values. */
#ifndef AG_TEST_RULES_FIXTURE_H
#define AG_TEST_RULES_FIXTURE_H

#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    TF_FLAG, TF_FLAG2, TF_N, TF_M, TF_S, TF_S2, TF_LIST, TF_EMPTY_S,
    TF_GONE_B, TF_GONE_N, TF_GONE_S, TF_GONE_L,
    TF_FAR = 1000,
    TF_NVALUES = 1001,
};

static const struct ag_rules_field test_fields[] __attribute__((unused)) = {
    {"t.flag", AG_RULES_BOOL, TF_FLAG, "true"},
    {"t.flag2", AG_RULES_BOOL, TF_FLAG2, "false"},
    {"t.n", AG_RULES_NUMBER, TF_N, "20"},
    {"t.m", AG_RULES_NUMBER, TF_M, "2.5"},
    {"t.s", AG_RULES_STRING, TF_S, "\"Login.Failed\""},
    {"t.s2", AG_RULES_STRING, TF_S2, "\"login\""},
    {"t.list", AG_RULES_STRLIST, TF_LIST, "[\"botnet\", \"tor-exit\"]"},
    {"t.empty", AG_RULES_STRING, TF_EMPTY_S, "\"\""},
    {"gone.b", AG_RULES_BOOL, TF_GONE_B, "missing"},
    {"gone.n", AG_RULES_NUMBER, TF_GONE_N, "missing"},
    {"gone.s", AG_RULES_STRING, TF_GONE_S, "missing"},
    {"gone.l", AG_RULES_STRLIST, TF_GONE_L, "missing"},
    {"t.far", AG_RULES_NUMBER, TF_FAR, "7"},
};
static const struct ag_rules_schema test_schema __attribute__((unused)) = {test_fields,
                                                   (int)(sizeof test_fields / sizeof test_fields[0])};

static const char *const test_list[] __attribute__((unused)) = {"botnet", "tor-exit"};

static inline void test_values(struct ag_rules_value *v)
{
    for (int i = 0; i < TF_NVALUES; i++)
        v[i] = (struct ag_rules_value){.type = AG_RULES_MISSING};
    v[TF_FLAG] = ag_rules_bool(true);
    v[TF_FLAG2] = ag_rules_bool(false);
    v[TF_N] = ag_rules_num(20);
    v[TF_M] = ag_rules_num(2.5);
    v[TF_S] = ag_rules_str("Login.Failed");
    v[TF_S2] = ag_rules_str("login");
    v[TF_LIST] = ag_rules_list(test_list, 2);
    v[TF_EMPTY_S] = ag_rules_str("");
    v[TF_FAR] = ag_rules_num(7);
}

/* Compile "rule r ... when <cond> then deny" against the test schema and
 * evaluate it on test_values: 1 fired, 0 did not, -1 did not compile. */
static inline int test_cond(const char *cond)
{
    char text[4096];
    snprintf(text, sizeof text, "rule r \"test\" when %s then deny\n", cond);
    struct ag_rules *set;
    struct ag_err err;
    if (ag_rules_compile(&test_schema, "t.rules", text, strlen(text), &set, NULL, &err) < 0) {
        fprintf(stderr, "# %s\n", err.msg);
        return -1;
    }
    static struct ag_rules_value v[TF_NVALUES];
    test_values(v);
    const struct ag_rules_rule *fired[4];
    int n = ag_rules_eval_values(set, v, TF_NVALUES, fired, 4);
    ag_rules_release(set);
    return n;
}

/* Read a file under the source tree into a NUL-terminated buffer (free it). */
static inline char *test_read(const char *rel, size_t *len)
{
    const char *root = getenv("AG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root ? root : AG_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return b;
}

static inline const char *test_path(const char *rel, char *buf, size_t n)
{
    const char *root = getenv("AG_SOURCE_DIR");
    snprintf(buf, n, "%s/%s", root ? root : AG_SOURCE_DIR, rel);
    return buf;
}

#endif
