/* libFuzzer target for the phishing analyzer's MIME/HTML/link path: the
 * input is a raw email (and, split at the first NUL, also an SMS text), fed
 * through ag_phish_analyze_email / _sms and the JSON rendering. Built by
 * tests/fuzz_phish.cmake with clang -fsanitize=fuzzer,address,undefined
 * (tests/fuzz/fuzz_phish.sh). Seeds: tests/data/phish/. */
#include "phish/phish.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct ag_phish_analyzer *an;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!an && ag_phish_analyzer_new(NULL, &an, NULL))
        abort();
    struct ag_phish_result *r;
    if (!ag_phish_analyze_email(an, (const char *)data, size, &r, NULL)) {
        json_t *j = ag_phish_result_json(r);
        free(json_dumps(j, 0));
        json_decref(j);
        ag_phish_result_free(r);
    }
    if (size && size < 4096) {
        char *text = malloc(size + 1);
        if (!text)
            return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (!ag_phish_analyze_sms(an, "+15550100", text, &r, NULL))
            ag_phish_result_free(r);
        free(text);
    }
    return 0;
}
