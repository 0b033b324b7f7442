/* Unit tests for the login model (src/risk/loginmodel.c): Freeman's
 * likelihood ratio on a small fixture against hand-computed values,
 * smoothing edge cases (empty history, all unseen, a single login),
 * hierarchical fallbacks, the risk mapping, and profile serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "risk/loginmodel.h"
#include "risk/profile.h"

#include <math.h>
#include <string.h>

#include <stdio.h>

static void near(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps * (1 + fabs(want)))) {
        print_error("%s:%d: got %.12g, want %.12g\n", file, line, got, want);
        fail();
    }
}
#define assert_double_equal(a, b, eps) near((a), (b), (eps), __FILE__, __LINE__)

#define CC(a, b) (((uint32_t)(a) << 8) | (uint32_t)(b))
#define T0 1767225600000LL

static const int chain[] = {AG_PF_IP, AG_PF_ASN, AG_PF_COUNTRY};

static struct ag_profile_values vals(uint32_t ip, uint32_t asn, uint32_t cc)
{
    struct ag_profile_values v = {0};
    v.v[AG_PF_IP] = ip;
    v.v[AG_PF_ASN] = asn;
    v.v[AG_PF_COUNTRY] = cc;
    v.present = 1u << AG_PF_IP | 1u << AG_PF_ASN | 1u << AG_PF_COUNTRY;
    return v;
}

/* The fixture: account A logged in three times from Norway, AS 100, two
 * addresses (1 twice, 2 once). Nobody else has logged in. */
static struct ag_profile_store *fixture(void)
{
    struct ag_profile_store *ps;
    assert_int_equal(ag_profile_store_open(16, &ps, NULL), 0);
    struct ag_profile_values v1 = vals(1, 100, CC('N', 'O')), v2 = vals(2, 100, CC('N', 'O'));
    assert_int_equal(ag_profile_learn(ps, 0xA, &v1, T0, "NO"), 0);
    assert_int_equal(ag_profile_learn(ps, 0xA, &v1, T0 + 1000, "NO"), 0);
    assert_int_equal(ag_profile_learn(ps, 0xA, &v2, T0 + 2000, "NO"), 0);
    return ps;
}

static double chain_of(struct ag_profile_store *ps, uint64_t acct, struct ag_profile_values v)
{
    struct ag_profile_view view;
    ag_profile_lookup(ps, acct, &v, &view);
    return ag_login_model_chain(ps, &view, &v, chain, 3);
}

/* Global smoothed probabilities of the fixture: p(x) = (C + 1) / (N + V),
 * N = 3, V = 1e6 (IP), 3e4 (ASN), 250 (country). */
#define P_IP(c) (((c) + 1.0) / (3 + 1e6))
#define P_ASN(c) (((c) + 1.0) / (3 + 3e4))
#define P_CC(c) (((c) + 1.0) / (3 + 250.0))

static void hand_computed_seen(void **state)
{
    struct ag_profile_store *ps = fixture();
    /* A from address 1, AS 100, NO: every level seen.
     * country: m=3 d=1 l=3/4, ml=1     p^cc  = .75 + .25 P_CC(3)
     * ASN:     m=3 d=1 l=3/4, ml=1     p^asn = .75 + .25 p^cc (P_ASN(3)/P_CC(3))
     * IP:      m=3 d=2 l=3/5, ml=2/3   p^ip  = .6*2/3 + .4 p^asn (P_IP(2)/P_ASN(3)) */
    double pcc = 0.75 + 0.25 * P_CC(3);
    double pasn = 0.75 + 0.25 * pcc * (P_ASN(3) / P_CC(3));
    double pip = 0.6 * 2.0 / 3.0 + 0.4 * pasn * (P_IP(2) / P_ASN(3));
    double want = log(P_IP(2) / pip);
    assert_double_equal(chain_of(ps, 0xA, vals(1, 100, CC('N', 'O'))), want, 1e-12);
    assert_true(want < -10); /* a familiar login is strongly "legit" */
    ag_profile_store_close(ps);
}

static void hand_computed_fallback(void **state)
{
    struct ag_profile_store *ps = fixture();
    /* a new address in the usual ASN and country: the unseen IP backs off to
     * the ASN level, and the global conditional cancels:
     *   ratio = P(asn) / ((1 - l_ip) p^asn) */
    double pcc = 0.75 + 0.25 * P_CC(3);
    double pasn = 0.75 + 0.25 * pcc * (P_ASN(3) / P_CC(3));
    double want = log(P_ASN(3) / (0.4 * pasn));
    assert_double_equal(chain_of(ps, 0xA, vals(3, 100, CC('N', 'O'))), want, 1e-9);
    /* new ASN in the usual country: backs off to the country */
    double want2 = log(P_CC(3) / (0.4 * 0.25 * pcc));
    assert_double_equal(chain_of(ps, 0xA, vals(3, 200, CC('N', 'O'))), want2, 1e-9);
    assert_true(want2 > want); /* a coarser match is more surprising */
    ag_profile_store_close(ps);
}

static void smoothing_all_unseen(void **state)
{
    struct ag_profile_store *ps = fixture();
    /* nothing matches at any level: ratio = 1/((1-l_ip)(1-l_asn)(1-l_cc)) =
     * 1/(0.4 * 0.25 * 0.25) = 40, whatever the global frequencies */
    assert_double_equal(chain_of(ps, 0xA, vals(9, 200, CC('B', 'R'))), log(40.0), 1e-9);
    ag_profile_store_close(ps);
}

static void smoothing_empty_history(void **state)
{
    struct ag_profile_store *ps = fixture();
    /* an account with no history: l = 0 at every level, p^(x|u) = p(x) */
    assert_double_equal(chain_of(ps, 0xB, vals(1, 100, CC('N', 'O'))), 0.0, 1e-12);
    assert_double_equal(chain_of(ps, 0xB, vals(9, 200, CC('B', 'R'))), 0.0, 1e-12);
    /* and an empty store */
    struct ag_profile_store *empty;
    assert_int_equal(ag_profile_store_open(1, &empty, NULL), 0);
    assert_double_equal(chain_of(empty, 0xB, vals(1, 2, 3)), 0.0, 1e-12);
    ag_profile_store_close(empty);
    ag_profile_store_close(ps);
}

static void smoothing_single_login(void **state)
{
    struct ag_profile_store *ps;
    assert_int_equal(ag_profile_store_open(16, &ps, NULL), 0);
    struct ag_profile_values v = vals(5, 300, CC('S', 'E'));
    assert_int_equal(ag_profile_learn(ps, 0xC, &v, T0, "SE"), 0);
    /* after one login, l = 1/2 everywhere: all unseen -> ratio 8 */
    assert_double_equal(chain_of(ps, 0xC, vals(6, 301, CC('N', 'O'))), log(8.0), 1e-9);
    /* the same login again: N = 1, all counts 1 */
    double pcc = 0.5 + 0.5 * (2.0 / 251);
    double pasn = 0.5 + 0.5 * pcc * ((2.0 / 30001) / (2.0 / 251));
    double pip = 0.5 + 0.5 * pasn * ((2.0 / 1000001) / (2.0 / 30001));
    assert_double_equal(chain_of(ps, 0xC, v), log((2.0 / 1000001) / pip), 1e-9);
    ag_profile_store_close(ps);
}

static void missing_levels_skipped(void **state)
{
    struct ag_profile_store *ps = fixture();
    /* an address without ASN or country (not in the database): only the IP
     * level, which backs off to the population */
    struct ag_profile_values v = vals(9, 0, 0);
    v.present = 1u << AG_PF_IP;
    assert_double_equal(chain_of(ps, 0xA, v), log(1 / 0.4), 1e-9);
    v.present = 0;
    assert_double_equal(chain_of(ps, 0xA, v), 0.0, 1e-12);
    ag_profile_store_close(ps);
}

static void freeman_score_and_signals(void **state)
{
    struct ag_profile_store *ps = fixture();
    struct ag_login_model_options o = {.kind = AG_MODEL_FREEMAN, .center = 0, .scale = 1};
    struct ag_profile_values v = vals(9, 200, CC('B', 'R'));
    struct ag_profile_view view;
    ag_profile_lookup(ps, 0xA, &v, &view);
    struct ag_login_score s;
    ag_login_model_score(&o, ps, &view, &v, NULL, &s);
    /* user term: p(u|attack)/p(u|legit) = (1/A) / ((n+1)/(N+A)) = (3+1)/(1*4) */
    assert_double_equal(s.term[AG_LM_USER], 0.0, 1e-12);
    assert_double_equal(s.term[AG_LM_IP], log(40.0), 1e-9);
    assert_double_equal(s.term[AG_LM_UA], 0.0, 1e-12);
    assert_double_equal(s.log_lr, log(40.0), 1e-9);
    assert_double_equal(s.risk, 40.0 / 41.0, 1e-9); /* LR / (1 + LR) */
    assert_true(s.signals & AG_RISK_NEW_IP);
    assert_true(s.signals & AG_RISK_NEW_ASN);
    assert_true(s.signals & AG_RISK_NEW_COUNTRY);
    assert_false(s.signals & AG_RISK_FIRST_LOGIN);
    /* an unknown account: first_login, no new_* */
    ag_profile_lookup(ps, 0xB, &v, &view);
    ag_login_model_score(&o, ps, &view, &v, NULL, &s);
    assert_true(s.signals & AG_RISK_FIRST_LOGIN);
    assert_false(s.signals & AG_RISK_NEW_IP);
    /* user term for an account with no logins: (N + A) / A = 4 */
    assert_double_equal(s.term[AG_LM_USER], log(4.0), 1e-12);
    ag_profile_store_close(ps);
}

static void extended_context(void **state)
{
    struct ag_profile_store *ps = fixture();
    struct ag_login_model_options o = {.kind = AG_MODEL_EXTENDED};
    struct ag_profile_values v = vals(1, 100, CC('N', 'O'));
    struct ag_profile_view view;
    ag_profile_lookup(ps, 0xA, &v, &view);
    struct ag_login_context quiet = {.hour_slot = -1}, loud = quiet;
    loud.accounts_per_ip = 40;
    loud.fail_ip = 60;
    loud.travel_km = 9000;
    loud.travel_kmh = 9000;
    struct ag_login_score a, b;
    ag_login_model_score(&o, ps, &view, &v, &quiet, &a);
    ag_login_model_score(&o, ps, &view, &v, &loud, &b);
    assert_double_equal(a.term[AG_LM_CONTEXT], 0.0, 1e-12);
    assert_double_equal(b.term[AG_LM_CONTEXT], 1.5 * log(20.0) + 0.7 * log(20.0), 1e-9);
    assert_double_equal(b.term[AG_LM_TRAVEL], 0.0, 1e-12); /* a signal, not a term */
    assert_true(b.signals & AG_RISK_STUFFING_IP);
    assert_true(b.signals & AG_RISK_FAILURES_IP);
    assert_true(b.signals & AG_RISK_IMPOSSIBLE_TRAVEL);
    assert_true(b.log_lr > a.log_lr);
    ag_profile_store_close(ps);
}

static void risk_mapping(void **state)
{
    /* center 0, scale 1: the posterior for even prior odds, LR / (1 + LR) */
    struct ag_login_model_options o = {.center = 0, .scale = 1};
    assert_double_equal(ag_login_model_risk(&o, 0), 0.5, 1e-12);
    assert_double_equal(ag_login_model_risk(&o, log(4.0)), 0.8, 1e-12);
    assert_double_equal(ag_login_model_risk(&o, 1000), 1.0, 1e-12);
    assert_double_equal(ag_login_model_risk(&o, -1000), 0.0, 1e-12);
    double prev = -1;
    for (double x = -30; x <= 30; x += 0.5) {
        double r = ag_login_model_risk(&o, x);
        assert_true(r >= 0 && r <= 1 && r >= prev);
        prev = r;
    }
    struct ag_login_model_options o2 = {.center = 2, .scale = 2};
    assert_double_equal(ag_login_model_risk(&o2, 2), 0.5, 1e-12);
    /* the calibrated defaults */
    struct ag_login_model_options f = {.kind = AG_MODEL_FREEMAN}, x = {.kind = AG_MODEL_EXTENDED};
    assert_double_equal(ag_login_model_risk(&f, AG_LM_FREEMAN_CENTER), 0.5, 1e-12);
    assert_double_equal(ag_login_model_risk(&x, AG_LM_EXTENDED_CENTER), 0.5, 1e-12);
    assert_double_equal(ag_login_model_risk(&x, AG_LM_EXTENDED_CENTER + AG_LM_EXTENDED_SCALE),
                        1 / (1 + exp(-1.0)), 1e-12);
}

static void profile_roundtrip(void **state)
{
    struct ag_profile_store *a, *b;
    assert_int_equal(ag_profile_store_open(16, &a, NULL), 0);
    assert_int_equal(ag_profile_store_open(16, &b, NULL), 0);
    for (uint32_t i = 0; i < 30; i++) {
        struct ag_profile_values v = vals(1000 + i % 12, 100 + i % 3, CC('N', 'O'));
        v.v[AG_PF_DEVICE] = 7 + (i % 2);
        v.present |= 1u << AG_PF_DEVICE;
        assert_int_equal(ag_profile_learn(a, 0xA, &v, T0 + (int64_t)i * 86400000, "NO"), 0);
    }
    uint8_t blob[AG_PROFILE_BLOB_MAX], blob2[AG_PROFILE_BLOB_MAX];
    int n = ag_profile_blob_get(a, 0xA, blob, sizeof blob);
    assert_true(n > 0);
    assert_int_equal(ag_profile_blob_get(a, 0xB, blob, sizeof blob), AG_ENOTFOUND);
    assert_int_equal(ag_profile_blob_get(a, 0xA, blob2, 10), AG_ELIMIT);
    struct ag_err err;
    assert_int_equal(ag_profile_blob_put(b, 0xA, blob, (size_t)n, &err), 0);
    int n2 = ag_profile_blob_get(b, 0xA, blob2, sizeof blob2);
    assert_int_equal(n, n2);
    assert_memory_equal(blob, blob2, (size_t)n);
    /* the global tables were rebuilt from the blob's kept counts */
    assert_int_equal(ag_profile_global_total(b), 30);
    assert_int_equal(ag_profile_global_count(b, AG_PF_COUNTRY, CC('N', 'O')), 30);
    assert_int_equal(ag_profile_global_count(b, AG_PF_DEVICE, 7), 15);
    /* bounded history: 12 addresses seen, 8 kept, the most recent ones */
    struct ag_profile_values v = vals(1000 + 29 % 12, 0, 0);
    v.present = 1u << AG_PF_IP;
    struct ag_profile_view va, vb;
    ag_profile_lookup(a, 0xA, &v, &va);
    ag_profile_lookup(b, 0xA, &v, &vb);
    assert_int_equal(va.distinct[AG_PF_IP], 8);
    assert_true(va.count[AG_PF_IP] > 0);
    assert_memory_equal(&va, &vb, sizeof va);
    v.v[AG_PF_IP] = 1000 + 18 % 12; /* last seen on day 18, evicted since */
    ag_profile_lookup(a, 0xA, &v, &va);
    assert_int_equal(va.count[AG_PF_IP], 0);
    /* putting it again replaces, not adds */
    assert_int_equal(ag_profile_blob_put(b, 0xA, blob, (size_t)n, &err), 0);
    assert_int_equal(ag_profile_global_total(b), 30);
    assert_int_equal(ag_profile_accounts(b), 1);
    /* malformed blobs */
    assert_int_equal(ag_profile_blob_put(b, 0xA, blob, (size_t)n - 1, &err), AG_EINVAL);
    assert_int_equal(ag_profile_blob_put(b, 0xB, blob, (size_t)n, &err), AG_EINVAL);
    blob[0] = 'X';
    assert_int_equal(ag_profile_blob_put(b, 0xA, blob, (size_t)n, &err), AG_EINVAL);
    struct ag_profile_mem m;
    ag_profile_mem(a, &m);
    assert_int_equal(m.accounts, 1);
    assert_true(m.account_bytes > 0 && m.account_bytes < 700);
    ag_profile_store_close(a);
    ag_profile_store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_computed_seen),
        cmocka_unit_test(hand_computed_fallback),
        cmocka_unit_test(smoothing_all_unseen),
        cmocka_unit_test(smoothing_empty_history),
        cmocka_unit_test(smoothing_single_login),
        cmocka_unit_test(missing_levels_skipped),
        cmocka_unit_test(freeman_score_and_signals),
        cmocka_unit_test(extended_context),
        cmocka_unit_test(risk_mapping),
        cmocka_unit_test(profile_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
