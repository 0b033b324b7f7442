/* The weights file: two logistic-regression models (email and SMS) over the
 * signal table, with their verdict thresholds and a version. The shipped
 * file, src/phish/phish_weights.json, is also compiled in (phish_weights.inc,
 * written by `make train-phish` beside it). Format in docs/PHISHING.md. */
#include "phish/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

const char ag_phish_weights_builtin[] =
#include "phish/phish_weights.inc"
    ;

static int parse_model(const json_t *root, const char *name, struct ag_phish_model *m,
                       struct ag_err *err)
{
    const json_t *o = json_object_get(root, name);
    if (!json_is_object(o))
        return ag_err_set(err, AG_EINVAL, "invalid_weights", name, "weights: no \"%s\" model",
                          name);
    const json_t *bias = json_object_get(o, "bias");
    const json_t *tp = json_object_get(o, "threshold_phishing");
    const json_t *ts = json_object_get(o, "threshold_suspicious");
    const json_t *w = json_object_get(o, "weights");
    if (!json_is_number(bias) || !json_is_number(tp) || !json_is_number(ts) || !json_is_object(w))
        return ag_err_set(err, AG_EINVAL, "invalid_weights", name,
                          "weights: \"%s\" needs bias, threshold_phishing, "
                          "threshold_suspicious and weights",
                          name);
    memset(m, 0, sizeof *m);
    m->bias = json_number_value(bias);
    m->t_phish = json_number_value(tp);
    m->t_susp = json_number_value(ts);
    if (m->t_susp < 0 || m->t_susp > m->t_phish || m->t_phish > 1)
        return ag_err_set(err, AG_EINVAL, "invalid_weights", name,
                          "weights: \"%s\" thresholds must satisfy 0 <= suspicious <= "
                          "phishing <= 1",
                          name);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)w, key, v)
    {
        int id = ag_phish_sig_find(key);
        if (id < 0)
            return ag_err_set(err, AG_EINVAL, "invalid_weights", name,
                              "weights: unknown signal \"%s\" in \"%s\"", key, name);
        if (!json_is_number(v))
            return ag_err_set(err, AG_EINVAL, "invalid_weights", name,
                              "weights: \"%s\" is not a number", key);
        m->w[id] = json_number_value(v);
    }
    return 0;
}

int ag_phish_weights_parse(struct ag_phish_analyzer *a, const char *json, size_t len,
                           struct ag_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return ag_err_set(err, AG_EINVAL, "invalid_weights", "", "weights: line %d: %s",
                          je.line, je.text);
    int rc = 0;
    const json_t *ver = json_object_get(root, "version");
    if (!json_is_string(ver) || !*json_string_value(ver) ||
        strlen(json_string_value(ver)) >= sizeof a->model_version) {
        rc = ag_err_set(err, AG_EINVAL, "invalid_weights", "version",
                        "weights: \"version\" must be a short string");
        goto out;
    }
    snprintf(a->model_version, sizeof a->model_version, "%s", json_string_value(ver));
    if ((rc = parse_model(root, "email", &a->email, err)) ||
        (rc = parse_model(root, "sms", &a->sms, err)))
        goto out;
out:
    json_decref(root);
    return rc;
}
