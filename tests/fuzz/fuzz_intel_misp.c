/* Fuzz target: MISP event JSON import (src/intel/misp.h) — events, lists of
 * events and restSearch responses. What imports must validate, build a
 * match set, and survive a round trip through a MISP event export. */
#include "intel/indicator.h"
#include "intel/match.h"
#include "intel/misp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS INT64_C(1795255200000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, NOW_MS);
    struct ag_intel_import imp;
    memset(&imp, 0, sizeof imp);
    struct ag_err err;
    ag_err_clear(&err);
    if (ag_intel_misp_import((const char *)data, size, &opts, &imp, &err)) {
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

    struct ag_intel_misp_event_opts eo = {
        .uuid = "5f1c8c6e-3b0a-4d6e-9a55-0c1f2f9e7a10",
        .info = "fuzz",
        .org_name = "accountguard",
        .date_ms = NOW_MS,
    };
    json_t *ev = ag_intel_misp_event_export(imp.list.items, imp.list.len, &eo, &err);
    if (ev) {
        char *text = json_dumps(ev, JSON_COMPACT);
        json_decref(ev);
        if (text) {
            struct ag_intel_import again;
            memset(&again, 0, sizeof again);
            if (ag_intel_misp_import(text, strlen(text), &opts, &again, &err)) {
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
    }
    ag_intel_import_free(&imp);
    return 0;
}
