/* Fuzz target: STIX 2.1 import (src/intel/stix.h) — bundles, TAXII
 * envelopes and single objects, with their patterns. An input starting with
 * '[' is also mapped as a bare pattern. What imports must validate, build a
 * match set, and survive a round trip: exported as a bundle and imported
 * again, it gives the same number of indicators. */
#include "intel/indicator.h"
#include "intel/match.h"
#include "intel/stix.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS INT64_C(1795255200000)

static void pattern(const uint8_t *data, size_t size)
{
    char *p = malloc(size + 1);
    if (!p)
        return;
    memcpy(p, data, size);
    p[size] = '\0';
    struct ag_intel_stix_term *terms = NULL;
    size_t n = 0;
    struct ag_err err;
    ag_err_clear(&err);
    if (ag_intel_stix_pattern_map(p, &terms, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++)
            if (terms[i].supported ? !terms[i].value : !terms[i].reason[0])
                abort();
        ag_intel_stix_terms_free(terms, n);
    }
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == '[')
        pattern(data, size);

    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, NOW_MS);
    struct ag_intel_import imp;
    memset(&imp, 0, sizeof imp);
    struct ag_err err;
    ag_err_clear(&err);
    if (ag_intel_stix_import((const char *)data, size, &opts, &imp, &err)) {
        if (imp.list.len || err.code >= 0)
            abort();
        ag_intel_import_free(&imp);
        return 0;
    }
    for (size_t i = 0; i < imp.list.len; i++)
        if (ag_intel_indicator_validate(&imp.list.items[i], &err)) {
            fprintf(stderr, "imported indicator %zu does not validate: %s: %s\n", i, err.field,
                    err.msg);
            abort();
        }
    struct ag_intel_matchset *ms = NULL;
    if (ag_intel_matchset_build(imp.list.items, imp.list.len, NOW_MS, &ms, &err) == 0)
        ag_intel_matchset_unref(ms);

    /* Round trip. */
    struct ag_intel_stix_producer prod = {
        .identity_id = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        .name = "accountguard fuzz",
        .created_ms = NOW_MS,
    };
    json_t *bundle = ag_intel_stix_bundle_export(imp.list.items, imp.list.len, &prod, &err);
    if (bundle) {
        char *text = json_dumps(bundle, JSON_COMPACT);
        json_decref(bundle);
        if (text) {
            struct ag_intel_import again;
            memset(&again, 0, sizeof again);
            if (ag_intel_stix_import(text, strlen(text), &opts, &again, &err)) {
                fprintf(stderr, "re-import of the export failed: %s: %s\n", err.field, err.msg);
                abort();
            }
            if (again.list.len != imp.list.len) {
                fprintf(stderr, "round trip: %zu indicators became %zu\n", imp.list.len,
                        again.list.len);
                abort();
            }
            ag_intel_import_free(&again);
            free(text);
        }
    } else if (err.code != AG_ENOMEM && err.code != AG_EINVAL) {
        abort();
    }
    ag_intel_import_free(&imp);
    return 0;
}
