/* JSON views of the rules: a compiled set described for the API and the
 * console, and field values read from a JSON object keyed by field name (for
 * "try this rule on this event" and for backtests over stored feature
 * snapshots). */
#include "rules/internal.h"

#include <math.h>
#include <string.h>

json_t *ag_rules_describe_json(const struct ag_rules *set)
{
    json_t *rules = json_array();
    json_t *o = json_object();
    if (!rules || !o)
        goto fail;
    for (int i = 0; i < set->nrules; i++) {
        const struct ag_rules_rule *r = &set->rules[i].pub;
        json_t *m = json_array();
        if (!m)
            goto fail;
        for (uint32_t b = 1; b && b <= AG_CHALLENGE_BACKUP; b <<= 1)
            if (r->methods & b)
                json_array_append_new(m, json_string(ag_rules_method_name(b)));
        json_t *jr = json_pack("{s:s, s:s, s:s, s:o, s:o, s:i}", "id", r->id, "description",
                               r->description, "action", ag_action_name(r->action), "score",
                               r->has_score ? json_real(r->score) : json_null(), "methods", m,
                               "line", r->line);
        if (!jr || json_array_append_new(rules, jr) < 0)
            goto fail;
    }
    if (json_object_set_new(o, "version", json_string(set->version)) < 0 ||
        json_object_set_new(o, "source", json_string(set->source)) < 0 ||
        json_object_set_new(o, "rules", rules) < 0) {
        rules = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(rules);
    json_decref(o);
    return NULL;
}

int ag_rules_values_from_json(const struct ag_rules_schema *schema, const json_t *obj,
                              struct ag_rules_value *values, int nvalues, const char **scratch,
                              int nscratch, struct ag_err *err)
{
    for (int i = 0; i < nvalues; i++)
        values[i] = (struct ag_rules_value){.type = AG_RULES_MISSING};
    if (!json_is_object(obj))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "", "field values must be an object");
    int used = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        const struct ag_rules_field *f = NULL;
        for (int i = 0; i < schema->nfields; i++)
            if (strcmp(schema->fields[i].name, key) == 0)
                f = &schema->fields[i];
        if (!f)
            return ag_err_set(err, AG_EINVAL, "rules_unknown_field", key, "unknown field '%s'", key);
        if (json_is_null(v))
            continue;
        if (f->id >= nvalues)
            return ag_err_set(err, AG_EINVAL, "invalid_field", key,
                              "field '%s' has id %d, past the %d values given", key, f->id, nvalues);
        struct ag_rules_value *out = &values[f->id];
        bool ok = true;
        switch (f->type) {
        case AG_RULES_BOOL:
            ok = json_is_boolean(v);
            if (ok)
                *out = ag_rules_bool(json_is_true(v));
            break;
        case AG_RULES_NUMBER:
            ok = json_is_number(v) && isfinite(json_number_value(v));
            if (ok)
                *out = ag_rules_num(json_number_value(v));
            break;
        case AG_RULES_STRING:
            ok = json_is_string(v);
            if (ok)
                *out = ag_rules_strn(json_string_value(v), json_string_length(v));
            break;
        case AG_RULES_STRLIST: {
            ok = json_is_array(v);
            if (!ok)
                break;
            size_t n = json_array_size(v);
            if (n > (size_t)(nscratch - used))
                return ag_err_set(err, AG_EINVAL, "invalid_field", key,
                                  "too many list items in '%s'", key);
            for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(v, i));
                if (!s)
                    return ag_err_set(err, AG_EINVAL, "invalid_field", key,
                                      "'%s' must be a list of strings", key);
                scratch[used + (int)i] = s;
            }
            *out = ag_rules_list(n ? scratch + used : NULL, n);
            used += (int)n;
            break;
        }
        default:
            ok = false;
        }
        if (!ok)
            return ag_err_set(err, AG_EINVAL, "invalid_field", key, "'%s' must be a %s", key,
                              ag_rules_type_name(f->type));
    }
    return 0;
}
