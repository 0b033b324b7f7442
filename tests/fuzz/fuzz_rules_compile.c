/* Fuzz target: the rules language. Compiles the input as a rules file
 * against the default field schema (rules/fields.h), as a reload of
 * rules_file does; what compiles is then evaluated (all fields missing, and
 * with values of every type picked from the input's hash), folded into a
 * decision and described as JSON, so the compiled form is exercised too. */
#include "core/decision.h"
#include "rules/fields.h"
#include "rules/rules.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const labels[] = {"botnet", "tor-exit", "", "login.failed"};
static const char *const strs[] = {"", "login.failed", "EUR", "customer", "order.placed",
                                   "x\xc3\xa9"};
static const double nums[] = {0, 1, -1, 0.5, 20, 1e300, -1e300, INFINITY, NAN, 9007199254740993.0};

static void fill(struct ag_rules_value *v, uint64_t h)
{
    for (int i = 0; i < AG_RF_COUNT; i++) {
        const struct ag_rules_field *f = &ag_rules_default_fields[i];
        uint64_t r = (h >> (i % 61)) ^ (uint64_t)i * 0x9e3779b97f4a7c15u;
        memset(&v[f->id], 0, sizeof v[f->id]);
        if (r % 5 == 0)
            continue; /* missing */
        switch (f->type) {
        case AG_RULES_BOOL: v[f->id] = ag_rules_bool(r & 2); break;
        case AG_RULES_NUMBER: v[f->id] = ag_rules_num(nums[(r >> 3) % 10]); break;
        case AG_RULES_STRING: v[f->id] = ag_rules_str(strs[(r >> 3) % 6]); break;
        case AG_RULES_STRLIST: v[f->id] = ag_rules_list(labels, (r >> 3) % 5); break;
        default: break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ag_rules *set = NULL;
    struct ag_rules_pos pos = {0, 0};
    struct ag_err err;
    ag_err_clear(&err);
    int rc = ag_rules_compile(&ag_rules_default_schema, "fuzz.rules", (const char *)data, size,
                              &set, &pos, &err);
    if (rc) {
        if (set || rc >= 0 || err.slug[0] == '\0' || pos.line < 0 || pos.col < 0)
            abort();
        return 0;
    }
    if (!set)
        abort();
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211u;

    static struct ag_rules_value values[AG_RF_COUNT];
    const struct ag_rules_rule *fired[64];
    memset(values, 0, sizeof(struct ag_rules_value) * AG_RF_COUNT);
    int n = ag_rules_eval_values(set, values, AG_RF_COUNT, fired, 64);
    if (n < 0 || n > ag_rules_count(set))
        abort();
    fill(values, h);
    n = ag_rules_eval_values(set, values, AG_RF_COUNT, fired, 64);
    if (n < 0 || n > ag_rules_count(set))
        abort();
    struct ag_decision d;
    memset(&d, 0, sizeof d);
    ag_rules_decision_apply(fired, n < 64 ? n : 64, &d);

    for (int i = 0; i < ag_rules_count(set); i++) {
        const struct ag_rules_rule *r = ag_rules_rule_at(set, i);
        if (!r || ag_rules_find(set, r->id) == NULL)
            abort();
        if (r->has_score && !(r->score >= 0 && r->score <= 1))
            abort();
    }
    json_t *j = ag_rules_describe_json(set);
    json_decref(j);
    ag_rules_release(set);
    return 0;
}
