/* The case workflow, dispute states, priority and SLA tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cases/service.h"

#include <string.h>

static void test_transitions(void **state)
{
    static const struct {
        const char *from, *to;
        bool ok;
    } cases[] = {
        {"open", "investigating", true},
        {"open", "closed", false},
        {"open", "open", false},
        {"investigating", "waiting_on_customer", true},
        {"investigating", "open", false},
        {"waiting_on_customer", "investigating", true},
        {"waiting_on_customer", "resolved_fraud", true},
        {"resolved_fraud", "closed", true},
        {"resolved_fraud", "investigating", false},
        {"resolved_not_fraud", "open", true},
        {"closed", "open", true},
        {"closed", "resolved_fraud", false},
        {"closed", "investigating", false},
        {"nonsense", "open", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ag_cases_transition_allowed(cases[i].from, cases[i].to), cases[i].ok);
    /* Every status can be left, and every non-initial one reached. */
    for (int i = 0; ag_cases_statuses[i]; i++) {
        bool out = false, in = false;
        for (int j = 0; ag_cases_statuses[j]; j++) {
            out |= ag_cases_transition_allowed(ag_cases_statuses[i], ag_cases_statuses[j]);
            in |= ag_cases_transition_allowed(ag_cases_statuses[j], ag_cases_statuses[i]);
        }
        assert_true(out);
        assert_true(in);
    }
}

static void test_dispute_states(void **state)
{
    assert_true(ag_cases_dispute_transition_allowed("opened", "under_review"));
    assert_true(ag_cases_dispute_transition_allowed("under_review", "won"));
    assert_false(ag_cases_dispute_transition_allowed("won", "lost"));
    assert_false(ag_cases_dispute_transition_allowed("opened", "won"));
    assert_false(ag_cases_dispute_transition_allowed("withdrawn", "opened"));
}

static void test_priority_and_sla(void **state)
{
    assert_string_equal(ag_cases_priority(0.0, 0), "low");
    assert_string_equal(ag_cases_priority(0.5, 0), "medium");
    assert_string_equal(ag_cases_priority(0.0, 10000), "medium");
    assert_string_equal(ag_cases_priority(0.49, 9999), "low");
    assert_string_equal(ag_cases_priority(0.8, 0), "high");
    assert_string_equal(ag_cases_priority(0.1, 100000), "high");
    assert_string_equal(ag_cases_priority(0.95, 0), "critical");
    assert_string_equal(ag_cases_priority(0.0, 500000), "critical");
    int64_t fa_c, res_c, fa_l, res_l;
    ag_cases_sla("critical", &fa_c, &res_c);
    ag_cases_sla("low", &fa_l, &res_l);
    assert_true(fa_c < res_c && fa_l < res_l);
    assert_true(fa_c < fa_l && res_c < res_l);
    ag_cases_sla("bogus", &fa_c, &res_c); /* unknown: the lowest priority's */
    assert_int_equal(fa_c, fa_l);
}

static void test_names(void **state)
{
    assert_true(ag_cases_name_in("billing_error", ag_cases_types));
    assert_true(ag_cases_name_in("seller_payout_fraud", ag_cases_types));
    assert_false(ag_cases_name_in("Billing_error", ag_cases_types));
    assert_false(ag_cases_name_in(NULL, ag_cases_types));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_dispute_states),
        cmocka_unit_test(test_priority_and_sla),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
