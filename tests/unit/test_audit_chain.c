/* The audit log's hash chain: appends inside jobs (a rolled-back job leaves
 * no entry), and verification that catches an altered, removed, reordered
 * or cut entry, edited straight in the SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64], path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/agauditXXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

struct two {
    int fail_second;
};

static int append_two(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct two *t = arg;
    json_t *d = json_pack("{s:i}", "n", 1);
    int rc = ag_audit_append(tx, "system:test", "test.one", "thing:1", d, err);
    json_decref(d);
    if (rc)
        return rc;
    if (t->fail_second)
        return ag_err_set(err, AG_EINVAL, "boom", "", "rolled back on purpose");
    return ag_audit_append(tx, "system:test", "test.two", "thing:2", NULL, err);
}

static void sql(const char *q)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, q, NULL, NULL, &msg);
    if (rc)
        fail_msg("%s: %s", q, msg);
    sqlite3_close(db);
}

static struct ag_audit_verify_result verify(void)
{
    struct ag_store *s;
    struct ag_err err;
    struct ag_store_options o = {.no_migrate = true, .read_pool = 1};
    if (ag_store_open(path, &o, &s, &err))
        fail_msg("open: %s", err.msg);
    struct ag_audit_verify_result r;
    assert_int_equal(ag_audit_verify(s, &r, &err), 0);
    ag_store_close(s);
    return r;
}

static void fill(int n)
{
    struct ag_store *s;
    struct ag_err err;
    if (ag_store_open(path, NULL, &s, &err))
        fail_msg("open: %s", err.msg);
    struct two ok = {0}, bad = {1};
    for (int i = 0; i < n; i++)
        assert_int_equal(ag_store_exec(s, append_two, &ok, &err), 0);
    assert_int_not_equal(ag_store_exec(s, append_two, &bad, &err), 0);
    assert_int_equal(ag_audit_record(s, "system:test", "test.last", "thing:3", NULL, &err), 0);
    /* Bad input is refused, not recorded. */
    json_t *arr = json_array();
    assert_int_equal(ag_audit_record(s, "", "x", "y", NULL, &err), AG_EINVAL);
    assert_int_equal(ag_audit_record(s, "a", "x", "y", arr, &err), AG_EINVAL);
    json_decref(arr);
    ag_store_close(s);
}

static void test_chain_holds(void **state)
{
    fill(3);
    struct ag_audit_verify_result r = verify();
    assert_true(r.ok);
    assert_int_equal(r.checked, 7); /* 3 x 2, the rolled-back job none, + 1 */
    assert_int_equal(r.head_seq, 7);
}

static void expect_broken(const char *q, int64_t seq)
{
    fill(3);
    sql(q);
    struct ag_audit_verify_result r = verify();
    assert_false(r.ok);
    assert_int_equal(r.bad_seq, seq);
    assert_true(strlen(r.problem) > 0);
    teardown(NULL);
    setup(NULL);
}

static void test_tampering_detected(void **state)
{
    expect_broken("UPDATE audit_log SET action = 'test.other' WHERE seq = 3", 3);
    expect_broken("UPDATE audit_log SET details = '{\"n\":2}' WHERE seq = 1", 1);
    expect_broken("DELETE FROM audit_log WHERE seq = 4", 4);
    expect_broken("UPDATE audit_log SET seq = seq + 100 WHERE seq = 2;"
                  "UPDATE audit_log SET seq = 2 WHERE seq = 3;"
                  "UPDATE audit_log SET seq = 3 WHERE seq = 102",
                  2);
    expect_broken("DELETE FROM audit_log WHERE seq = 7", 7);
    /* Rewriting an entry's hash too still breaks the next link. */
    expect_broken("UPDATE audit_log SET actor = 'x', hash = zeroblob(32) WHERE seq = 5", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering_detected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
