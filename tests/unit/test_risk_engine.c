/* Unit tests for the risk engine facade (src/risk/risk.c) and the RBA CSV
 * reader (src/risk/rba_csv.c): first and familiar logins, unfamiliar
 * features with readable reasons ("NO -> BR"), credential stuffing from one
 * address, impossible travel, profile blobs through the engine, a login
 * applied to a stored profile (nodes merging), concurrent assess/learn, and
 * the CSV fixture with its malformed rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/event_types.h"
#include "risk/rba_csv.h"
#include "risk/risk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IPDB "/var/lib/location/database.db"
#define UAP "/usr/share/uap-core/regexes.yaml"
#define T0 1767225600000LL
#define CHROME_WIN                                                                            \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "      \
    "Chrome/118.0.0.0 Safari/537.36"
#define IPHONE                                                                                \
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "   \
    "like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"

static struct ag_risk_engine *open_engine(enum ag_login_model_kind k)
{
    struct ag_risk_options o = {.ipdb_file = IPDB, .uap_regexes = UAP, .model = k};
    struct ag_risk_engine *e;
    struct ag_err err;
    if (ag_risk_engine_open(&o, &e, &err)) {
        print_error("%s\n", err.msg);
        fail();
    }
    return e;
}

static void mkev(struct ag_event *ev, const char *type, const char *acct, const char *ip,
                 const char *ua, const char *dev, int64_t t)
{
    memset(ev, 0, sizeof *ev);
    ev->type = ag_event_type_find(type);
    assert_non_null(ev->type);
    snprintf(ev->account_id, sizeof ev->account_id, "%s", acct);
    snprintf(ev->ip, sizeof ev->ip, "%s", ip);
    snprintf(ev->user_agent, sizeof ev->user_agent, "%s", ua);
    snprintf(ev->device_id, sizeof ev->device_id, "%s", dev);
    ev->occurred_at_ms = t;
}

static const char *reason(const struct ag_decision *d, const char *code)
{
    for (int i = 0; i < d->nreasons; i++)
        if (!strcmp(d->reasons[i].code, code))
            return d->reasons[i].detail;
    return NULL;
}

static struct ag_event ev;

static void familiar_and_unfamiliar(void **state)
{
    struct ag_risk_engine *e = open_engine(AG_MODEL_EXTENDED);
    struct ag_risk_assessment a;
    /* some population, so that p(x) means something */
    for (int u = 0; u < 50; u++) {
        char id[16], ip[32];
        snprintf(id, sizeof id, "pop%d", u);
        snprintf(ip, sizeof ip, "81.167.%d.%d", u, u + 1);
        mkev(&ev, "login.succeeded", id, ip, u % 2 ? CHROME_WIN : IPHONE, id, T0 + u * 1000);
        ag_risk_assess(e, &ev, NULL, &a);
        ag_risk_learn(e, &ev, &a);
    }
    mkev(&ev, "login.succeeded", "alice", "81.167.10.20", CHROME_WIN, "dev-a", T0 + 100000);
    ag_risk_assess(e, &ev, NULL, &a);
    assert_true(a.signals & AG_RISK_FIRST_LOGIN);
    assert_string_equal(a.country, "NO");
    assert_int_equal(a.asn, 29695);
    assert_string_equal(a.as_name, "Altibox AS");
    assert_string_equal(a.browser, "Chrome");
    assert_string_equal(a.os, "Windows");
    assert_int_equal(a.device_type, AG_DEVICE_DESKTOP);
    assert_string_equal(a.ip_prefix, "81.167.10.0/24");
    for (int i = 0; i < 10; i++) {
        ev.occurred_at_ms = T0 + 100000 + (int64_t)i * 86400000;
        ag_risk_assess(e, &ev, NULL, &a);
        ag_risk_learn(e, &ev, &a);
    }
    /* the same context again: familiar, low risk */
    ev.occurred_at_ms = T0 + 11 * 86400000LL;
    ag_risk_assess(e, &ev, NULL, &a);
    assert_int_equal(a.unfamiliar, 0);
    assert_int_equal(a.history_logins, 10);
    assert_true(a.risk < 0.01);
    double familiar = a.risk;
    /* assess does not learn */
    ag_risk_assess(e, &ev, NULL, &a);
    assert_int_equal(a.history_logins, 10);
    /* from Brazil (Claro), an iPhone, another device, the next day */
    mkev(&ev, "login.succeeded", "alice", "177.10.10.10", IPHONE, "dev-b",
         T0 + 12 * 86400000LL);
    ag_risk_assess(e, &ev, NULL, &a);
    assert_string_equal(a.country, "BR");
    assert_true(a.unfamiliar & AG_RISK_NEW_COUNTRY);
    assert_true(a.unfamiliar & AG_RISK_NEW_ASN);
    assert_true(a.unfamiliar & AG_RISK_NEW_DEVICE);
    assert_true(a.unfamiliar & AG_RISK_NEW_DEVICE_TYPE);
    assert_true(a.unfamiliar & AG_RISK_NEW_OS);
    assert_true(a.risk > 0.9 && a.risk > familiar);
    assert_true(a.travel_km > 9000);
    struct ag_decision d = {0};
    ag_risk_reasons(&a, &d);
    assert_string_equal(reason(&d, "new_country"), "NO -> BR");
    assert_non_null(strstr(reason(&d, "new_asn"), "AS29695 Altibox AS -> AS"));
    assert_non_null(reason(&d, "new_device"));
    assert_null(reason(&d, "impossible_travel")); /* a day is long enough */
    /* ... and the same one hour after the last login: impossible travel */
    ev.occurred_at_ms = T0 + 9 * 86400000LL + 100000 + 3600000;
    ag_risk_assess(e, &ev, NULL, &a);
    assert_true(a.signals & AG_RISK_IMPOSSIBLE_TRAVEL);
    assert_true(a.travel_kmh > 5000);
    memset(&d, 0, sizeof d);
    ag_risk_reasons(&a, &d);
    assert_string_equal(d.reasons[0].code, "impossible_travel");
    /* the plain model ranks it high too, without the extensions' terms */
    ag_risk_engine_close(e);
}

static void stuffing_from_one_address(void **state)
{
    struct ag_risk_engine *e = open_engine(AG_MODEL_EXTENDED);
    struct ag_risk_assessment a;
    /* an AWS address tries forty accounts in twenty minutes */
    for (int i = 0; i < 40; i++) {
        char id[16];
        snprintf(id, sizeof id, "victim%d", i);
        mkev(&ev, "login.failed", id, "52.95.110.1", CHROME_WIN, "", T0 + i * 30000);
        ag_risk_assess(e, &ev, NULL, &a);
        ag_risk_learn(e, &ev, &a);
    }
    mkev(&ev, "login.succeeded", "victim40", "52.95.110.1", CHROME_WIN, "", T0 + 40 * 30000);
    ag_risk_assess(e, &ev, NULL, &a);
    assert_true(a.accounts_per_ip >= 25);
    assert_int_equal(a.fail_ip, 40);
    assert_int_equal(a.attempts_ip, 40);
    assert_true(a.signals & AG_RISK_STUFFING_IP);
    assert_true(a.signals & AG_RISK_FAILURES_IP);
    assert_true(a.term[AG_LM_CONTEXT] > 5);
    assert_true(a.risk > 0.98); /* above the default deny threshold */
    struct ag_decision d = {0};
    ag_risk_reasons(&a, &d);
    assert_non_null(strstr(reason(&d, "credential_stuffing_ip"), "52.95.110.0/24"));
    /* an hour and more later the window has moved on */
    ev.occurred_at_ms = T0 + 40 * 30000 + 3 * 3600000LL;
    ag_risk_assess(e, &ev, NULL, &a);
    assert_int_equal(a.fail_ip, 0);
    assert_int_equal(a.accounts_per_ip, 0);
    /* failed one-time codes */
    for (int i = 0; i < 4; i++) {
        mkev(&ev, "mfa.failed", "bob", "81.167.0.1", CHROME_WIN, "d", T0 + i * 1000);
        ag_risk_assess(e, &ev, NULL, &a);
        ag_risk_learn(e, &ev, &a);
    }
    mkev(&ev, "login.succeeded", "bob", "81.167.0.1", CHROME_WIN, "d", T0 + 5000);
    ag_risk_assess(e, &ev, NULL, &a);
    assert_int_equal(a.mfa_fail_account, 4);
    assert_true(a.signals & AG_RISK_MFA_FAILURES);
    ag_risk_engine_close(e);
}

static void blobs_and_memory(void **state)
{
    struct ag_risk_engine *e = open_engine(AG_MODEL_FREEMAN), *f = open_engine(AG_MODEL_FREEMAN);
    struct ag_risk_assessment a, b;
    for (int i = 0; i < 5; i++) {
        mkev(&ev, "login.succeeded", "carol", "2a02:2e0::1", IPHONE, "c1", T0 + i * 1000);
        ag_risk_assess(e, &ev, NULL, &a);
        ag_risk_learn(e, &ev, &a);
    }
    assert_true(a.ip_v6);
    assert_string_equal(a.country, "DE");
    assert_string_equal(a.ip_prefix, "2a02:2e0::/48");
    uint8_t blob[AG_PROFILE_BLOB_MAX];
    int n = ag_risk_profile_get(e, "carol", blob, sizeof blob);
    assert_true(n > 0);
    assert_int_equal(ag_risk_profile_get(e, "nobody", blob, sizeof blob), AG_ENOTFOUND);
    struct ag_err err;
    assert_int_equal(ag_risk_profile_put(f, "carol", blob, (size_t)n, &err), 0);
    assert_int_equal(ag_risk_profile_put(f, "dave", blob, (size_t)n, &err), AG_EINVAL);
    ag_risk_assess(e, &ev, NULL, &a);
    ag_risk_assess(f, &ev, NULL, &b);
    assert_true(a.log_lr == b.log_lr);
    assert_int_equal(b.history_logins, 5);
    struct ag_risk_mem m;
    ag_risk_mem(f, &m);
    assert_int_equal(m.accounts, 1);
    assert_true(m.profile_bytes > 0 && m.global_bytes > 0 && m.velocity_bytes > 0);
    ag_risk_engine_close(e);
    ag_risk_engine_close(f);
}

/* Two nodes learn one account at once (pipeline/cluster.c): each applies
 * its login to the blob as stored, so the result counts both nodes' logins
 * and a third node that loads it finds both contexts familiar. */
static void profile_apply_merges_nodes(void **state)
{
    struct ag_risk_engine *a = open_engine(AG_MODEL_EXTENDED), *b = open_engine(AG_MODEL_EXTENDED),
                          *c = open_engine(AG_MODEL_EXTENDED);
    struct ag_risk_assessment ra, rb, rc;
    uint8_t stored[AG_PROFILE_BLOB_MAX], next[AG_PROFILE_BLOB_MAX], mem[AG_PROFILE_BLOB_MAX];
    size_t len = 0;
    struct ag_err err;
    /* node A alone: applying to the stored blob is what learning in memory
     * gives, byte for byte */
    for (int i = 0; i < 3; i++) {
        mkev(&ev, "login.succeeded", "erin", "81.167.10.20", CHROME_WIN, "dev-home",
             T0 + i * 60000);
        ag_risk_assess(a, &ev, NULL, &ra);
        ag_risk_learn(a, &ev, &ra);
        int n = ag_risk_profile_apply(&ra, stored, len, next, sizeof next, &err);
        assert_true(n > 0);
        memcpy(stored, next, (size_t)n);
        len = (size_t)n;
    }
    assert_int_equal(ag_risk_profile_get(a, "erin", mem, sizeof mem), (int)len);
    assert_memory_equal(mem, stored, len);
    /* node B never saw erin: it scores a phone login against nothing, and
     * its writer merges it onto what A stored */
    mkev(&ev, "login.succeeded", "erin", "177.10.10.10", IPHONE, "dev-phone", T0 + 200000);
    ag_risk_assess(b, &ev, NULL, &rb);
    assert_true(rb.signals & AG_RISK_FIRST_LOGIN);
    int n = ag_risk_profile_apply(&rb, stored, len, next, sizeof next, &err);
    assert_true(n > (int)len);
    /* node C loads the merged profile: four logins, both contexts familiar */
    assert_int_equal(ag_risk_profile_put(c, "erin", next, (size_t)n, &err), 0);
    ag_risk_assess(c, &ev, NULL, &rc);
    assert_int_equal(rc.history_logins, 4);
    assert_int_equal(rc.unfamiliar & (AG_RISK_NEW_DEVICE | AG_RISK_NEW_COUNTRY | AG_RISK_NEW_IP), 0);
    mkev(&ev, "login.succeeded", "erin", "81.167.10.20", CHROME_WIN, "dev-home", T0 + 300000);
    ag_risk_assess(c, &ev, NULL, &rc);
    assert_int_equal(rc.unfamiliar, 0);
    assert_int_equal(rc.last_login_ms, (T0 + 200000) / 1000 * 1000);
    /* a malformed blob, another account's blob, too small a buffer */
    mkev(&ev, "login.succeeded", "erin", "81.167.10.20", CHROME_WIN, "dev-home", T0 + 500000);
    ag_risk_assess(c, &ev, NULL, &rc);
    assert_int_equal(ag_risk_profile_apply(&rc, next, (size_t)n - 1, mem, sizeof mem, &err),
                     AG_EINVAL);
    assert_int_equal(ag_risk_profile_apply(&rc, next, (size_t)n, mem, 16, &err), AG_ELIMIT);
    mkev(&ev, "login.succeeded", "frank", "81.167.10.20", CHROME_WIN, "dev-home", T0 + 500000);
    ag_risk_assess(c, &ev, NULL, &rc);
    assert_int_equal(ag_risk_profile_apply(&rc, next, (size_t)n, mem, sizeof mem, &err),
                     AG_EINVAL);
    ag_risk_engine_close(a);
    ag_risk_engine_close(b);
    ag_risk_engine_close(c);
}

static struct ag_risk_engine *shared;

static void *worker(void *arg)
{
    long id = (long)arg;
    struct ag_event w;
    struct ag_risk_assessment a;
    for (int i = 0; i < 3000; i++) {
        memset(&w, 0, sizeof w);
        w.type = ag_event_type_find(i % 5 ? "login.succeeded" : "login.failed");
        snprintf(w.account_id, sizeof w.account_id, "t%ld-%d", id, i % 100);
        snprintf(w.ip, sizeof w.ip, "81.167.%ld.%d", id, i % 200 + 1);
        snprintf(w.user_agent, sizeof w.user_agent, "%s", i % 2 ? CHROME_WIN : IPHONE);
        snprintf(w.device_id, sizeof w.device_id, "d%d", i % 7);
        w.occurred_at_ms = T0 + i * 1000;
        if (ag_risk_assess(shared, &w, NULL, &a) || a.risk < 0 || a.risk > 1)
            return (void *)1;
        ag_risk_learn(shared, &w, &a);
    }
    return NULL;
}

static void concurrent(void **state)
{
    shared = open_engine(AG_MODEL_EXTENDED);
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    struct ag_risk_mem m;
    ag_risk_mem(shared, &m);
    assert_int_equal(m.accounts, 320); /* accounts whose logins all failed have none */
    ag_risk_engine_close(shared);
}

static void csv_fixture(void **state)
{
    const char *src = getenv("AG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/risk/rba_small.csv", src ? src : AG_SOURCE_DIR);
    struct ag_rba_reader *r;
    struct ag_err err;
    assert_int_equal(ag_rba_open(path, &r, &err), 0);
    assert_false(ag_rba_has_label(r));
    static struct ag_rba_row row;
    /* rows 0-3 are good */
    assert_int_equal(ag_rba_next(r, &row, &err), 1);
    assert_int_equal(row.line, 2);
    assert_string_equal(row.index, "0");
    assert_string_equal(row.ev.account_id, "-4324475583306591935");
    assert_string_equal(row.ev.type->name, "login.failed");
    assert_int_equal(row.ev.occurred_at_ms, 1580733810772LL);
    assert_string_equal(row.country, "NO");
    assert_int_equal(row.asn, 29695);
    assert_non_null(strstr(row.ev.user_agent, "(KHTML, like Gecko)")); /* commas in quotes */
    assert_string_equal(row.browser, "Mobile Safari 13.0.4");
    assert_string_equal(row.given.device_type, "mobile");
    assert_int_equal(row.rtt_ms, -1);
    assert_int_equal(ag_rba_next(r, &row, &err), 1);
    assert_string_equal(row.ev.type->name, "login.succeeded");
    assert_int_equal(ag_rba_next(r, &row, &err), 1);
    assert_int_equal(row.ev.occurred_at_ms, 1580733835000LL);
    assert_int_equal(row.rtt_ms, 123);
    assert_non_null(strstr(row.ev.user_agent, "Safari/537.36 \"quoted\""));
    assert_int_equal(ag_rba_next(r, &row, &err), 1);
    assert_true(row.ev.ip_v6);
    assert_true(row.attack_ip && row.takeover);
    assert_string_equal(row.country, "");
    assert_int_equal(row.asn, 0);
    /* the malformed ones name their line, and reading goes on */
    static const struct {
        int line;
        const char *what;
    } bad[] = {{6, "Login Timestamp"}, {7, "Login Successful"}, {8, "fields"},
               {9, "ASN"},             {10, "IP Address"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ag_rba_next(r, &row, &err), AG_EINVAL);
        char want[32];
        snprintf(want, sizeof want, "line %d: ", bad[i].line);
        if (strncmp(err.msg, want, strlen(want)) || !strstr(err.msg, bad[i].what)) {
            print_error("got \"%s\", want \"%s...%s\"\n", err.msg, want, bad[i].what);
            fail();
        }
    }
    /* "1221.0" is a number; a row without the trailing extra column is fine */
    assert_int_equal(ag_rba_next(r, &row, &err), 1);
    assert_int_equal(row.line, 11);
    assert_int_equal(row.asn, 1221);
    /* the blank line is skipped; the last row never closes its quote */
    assert_int_equal(ag_rba_next(r, &row, &err), AG_EINVAL);
    assert_non_null(strstr(err.msg, "line 13: unterminated"));
    assert_int_equal(ag_rba_next(r, &row, &err), 0);
    ag_rba_close(r);

    /* the good rows through the engine with their given fields */
    assert_int_equal(ag_rba_open(path, &r, &err), 0);
    struct ag_risk_engine *e = open_engine(AG_MODEL_FREEMAN);
    int scored = 0, k;
    while ((k = ag_rba_next(r, &row, &err)) != 0) {
        if (k < 0)
            continue;
        struct ag_risk_assessment a;
        ag_risk_assess(e, &row.ev, &row.given, &a);
        if (row.index[0] == '0') {
            assert_string_equal(a.country, "NO"); /* given, for a private address */
            assert_int_equal(a.asn, 29695);
            assert_string_equal(a.browser, "Mobile Safari");
            assert_string_equal(a.browser_version, "13.0.4");
            assert_string_equal(a.os, "iOS");
            assert_int_equal(a.device_type, AG_DEVICE_MOBILE);
        }
        ag_risk_learn(e, &row.ev, &a);
        scored++;
    }
    assert_int_equal(scored, 5);
    ag_rba_close(r);
    ag_risk_engine_close(e);
    assert_int_equal(ag_rba_open("/nonexistent.csv", &r, &err), AG_EIO);
}

static void csv_header_errors(void **state)
{
    char path[] = "/tmp/test_risk_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("index,Login Timestamp,User ID,Country\n0,2020-01-01 00:00:00,u,NO\n", f);
    fclose(f);
    struct ag_rba_reader *r;
    struct ag_err err;
    assert_int_equal(ag_rba_open(path, &r, &err), AG_EINVAL);
    assert_non_null(strstr(err.msg, "line 1: no \"IP Address\" column"));
    f = fopen(path, "w");
    fclose(f);
    assert_int_equal(ag_rba_open(path, &r, &err), AG_EINVAL);
    unlink(path);
    int64_t ms;
    assert_int_equal(ag_rba_parse_time("2024-02-29T23:59:59Z", &ms), 0);
    assert_int_equal(ag_rba_parse_time("2023-02-29 00:00:00", &ms), AG_EINVAL);
    assert_int_equal(ag_rba_parse_time("2020-02-03 12:43:30.7", &ms), 0);
    assert_int_equal(ms % 1000, 700);
    assert_int_equal(ag_rba_parse_time("2020-02-03 12:43", &ms), AG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(familiar_and_unfamiliar),
        cmocka_unit_test(stuffing_from_one_address),
        cmocka_unit_test(blobs_and_memory),
        cmocka_unit_test(profile_apply_merges_nodes),
        cmocka_unit_test(concurrent),
        cmocka_unit_test(csv_fixture),
        cmocka_unit_test(csv_header_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
