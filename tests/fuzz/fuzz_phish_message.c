/* Fuzz target: the phishing analyzer's input surface — MIME parsing, header
 * and link extraction, HTML, URLs and domains (src/phish). The first byte
 * picks the kind: 'S' analyzes an SMS ("sender\ntext"), anything else
 * analyzes the whole input as a raw RFC 5322 email. The result is rendered
 * as JSON, as POST /v1/messages would return it. One analyzer is built on
 * the first call and reused, as the server does. */
#include "phish/phish.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ag_phish_analyzer *analyzer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct ag_phish_options opt;
    struct ag_err err;
    memset(&opt, 0, sizeof opt);
    if (ag_phish_analyzer_new(&opt, &analyzer, &err)) {
        fprintf(stderr, "fuzz_phish_message: analyzer: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void check(int rc, struct ag_phish_result *r, const struct ag_err *err)
{
    if (rc) {
        if (r || rc >= 0)
            abort();
        return;
    }
    if (!r || !(r->score >= 0 && r->score <= 1))
        abort();
    for (size_t i = 0; i < r->nreasons; i++)
        if (!r->reasons[i].code || !r->reasons[i].evidence)
            abort();
    for (size_t i = 0; i < r->nindicators; i++)
        if (!r->indicators[i].value)
            abort();
    json_t *j = ag_phish_result_json(r);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    free(s);
    json_decref(j);
    ag_phish_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ag_phish_result *r = NULL;
    struct ag_err err;
    ag_err_clear(&err);
    if (size > 0 && data[0] == 'S') {
        /* "S" sender "\n" text, both NUL-terminated copies. */
        char *buf = malloc(size + 1);
        if (!buf)
            return 0;
        memcpy(buf, data + 1, size - 1);
        buf[size - 1] = '\0';
        char *nl = memchr(buf, '\n', size - 1);
        const char *sender = "", *text = buf;
        if (nl) {
            *nl = '\0';
            sender = buf;
            text = nl + 1;
        }
        int rc = ag_phish_analyze_sms(analyzer, sender, text, &r, &err);
        check(rc, r, &err);
        free(buf);
        return 0;
    }
    int rc = ag_phish_analyze_email(analyzer, (const char *)data, size, &r, &err);
    check(rc, r, &err);
    return 0;
}
