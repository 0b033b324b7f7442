/* Fuzz target: plain-text intel feeds (src/intel/feed.h) — netsets, domain
 * and hosts-file lists, URL lists. The first byte picks the format and mode
 * (its low two bits: netset, domains, urls; bit 2: strict), the rest is the
 * fetched text. What parses must validate, and parsing is deterministic: the
 * same text gives the same indicators with the same ids. An input starting
 * with '{' is read as a feed config instead, and written back. */
#include "intel/feed.h"
#include "intel/indicator.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS INT64_C(1795255200000)

static void config(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)data, size, 0, &je);
    if (!o)
        return;
    struct ag_intel_feed_config c;
    struct ag_err err;
    ag_err_clear(&err);
    if (ag_intel_feed_config_from_json(o, &c, &err) == 0) {
        json_t *back = ag_intel_feed_config_to_json(&c);
        if (!back)
            abort();
        struct ag_intel_feed_config again;
        if (ag_intel_feed_config_from_json(back, &again, &err)) {
            fprintf(stderr, "feed config does not read back: %s: %s\n", err.field, err.msg);
            abort();
        }
        json_decref(back);
    } else if (err.code >= 0) {
        abort();
    }
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == '{') {
        config(data, size);
        return 0;
    }
    struct ag_intel_feed_config c;
    ag_intel_feed_config_init(&c);
    snprintf(c.name, sizeof c.name, "fuzz");
    snprintf(c.url, sizeof c.url, "file:///dev/null");
    c.format = (enum ag_intel_feed_format)((data[0] & 3) % 3);
    c.strict = data[0] & 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    struct ag_intel_import a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    struct ag_err err;
    ag_err_clear(&err);
    int rc = ag_intel_feed_parse(&c, text, len, NOW_MS, &a, &err);
    if (rc) {
        if (a.list.len || rc >= 0)
            abort();
        ag_intel_import_free(&a);
        return 0;
    }
    for (size_t i = 0; i < a.list.len; i++)
        if (ag_intel_indicator_validate(&a.list.items[i], &err)) {
            fprintf(stderr, "feed entry %zu does not validate: %s: %s\n", i, err.field, err.msg);
            abort();
        }
    if (ag_intel_feed_parse(&c, text, len, NOW_MS, &b, &err) || b.list.len != a.list.len)
        abort();
    for (size_t i = 0; i < a.list.len; i++)
        if (strcmp(a.list.items[i].id, b.list.items[i].id) != 0)
            abort();
    ag_intel_import_free(&a);
    ag_intel_import_free(&b);
    return 0;
}
