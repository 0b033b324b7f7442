/* Fuzz target: event JSON validation, as POST /v1/events does it — the body
 * parsed under the API's limits (ag_json_parse), then the validate stage
 * (ag_pipeline_validate). Any input must end in a value or a clean error. */
#include "core/event.h"
#include "core/json.h"
#include "pipeline/pipeline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A fixed "now" (2026-11-21T10:00:00Z), so runs are reproducible. */
#define NOW_MS INT64_C(1795255200000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ag_err err;
    ag_err_clear(&err);
    json_t *v = ag_json_parse((const char *)data, size, AG_JSON_MAX_DEPTH, &err);
    if (!v) {
        /* Errors must carry a code and a readable, terminated message. */
        if (err.code >= 0 || strnlen(err.msg, sizeof err.msg) == sizeof err.msg)
            abort();
        return 0;
    }
    if (ag_json_depth(v) > AG_JSON_MAX_DEPTH)
        abort(); /* the parser let through what it promised to reject */
    struct ag_event ev;
    ag_err_clear(&err);
    int rc = ag_pipeline_validate(v, NOW_MS, &ev, &err);
    if (rc == 0) {
        /* What validation accepted must be what the fixed buffers can hold. */
        if (!ev.type || strnlen(ev.id, sizeof ev.id) == sizeof ev.id ||
            strnlen(ev.account_id, sizeof ev.account_id) == sizeof ev.account_id ||
            ev.id[0] == '\0' || ev.account_id[0] == '\0')
            abort();
        char *s = ag_json_dump(v);
        free(s);
    } else {
        if (rc >= 0 || err.slug[0] == '\0')
            abort();
        json_t *e = ag_json_error(&err);
        char *s = e ? ag_json_dump(e) : NULL;
        free(s);
        json_decref(e);
    }
    json_decref(v);
    return 0;
}
