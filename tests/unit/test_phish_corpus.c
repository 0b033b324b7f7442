/* Unit test for src/phish on a few real messages of the shared corpora
 * (../shared/corpora beside the source tree, read at test time, never
 * copied): held-out phishing gets "phishing", held-out legitimate mail
 * (brand notifications, a mailing-list post) gets "legit". Skips when the
 * corpora are absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "phish/phish.h"
#include "phish/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *path;
    enum ag_phish_verdict want;
} cases[] = {
    {"email/phish/sample-640.eml", AG_PHISH_PHISHING},
    {"email/phish/sample-1984.eml", AG_PHISH_PHISHING},
    {"email/phish/sample-2534.eml", AG_PHISH_PHISHING},
    {"email/ham-modern/mail_and_packages/amazon_exception.eml", AG_PHISH_LEGIT},
    {"email/ham-modern/mail_and_packages/amazon_uk_delivered.eml", AG_PHISH_LEGIT},
    {"email/ham-modern/mail_and_packages/gls_delivering.eml", AG_PHISH_LEGIT},
    {"email/ham/easy-ham-1__00009.371eca25b0169ce5cb4f71d3e07b9e2d.eml", AG_PHISH_LEGIT},
};

static void real_messages(void **state)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/../shared/corpora", AG_SOURCE_DIR);
    if (access(dir, R_OK)) {
        printf("test_phish_corpus: %s absent, skipping\n", dir);
        skip();
    }
    struct ag_phish_analyzer *an;
    struct ag_err err;
    assert_int_equal(ag_phish_analyzer_new(NULL, &an, &err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].path);
        /* Only held-out messages: the model never saw them. */
        assert_true(ag_phish_split_is_test(cases[i].path));
        FILE *f = fopen(path, "rb");
        if (!f)
            fail_msg("cannot read %s", path);
        char *buf = malloc(AG_PHISH_MAX_EMAIL);
        assert_non_null(buf);
        size_t n = fread(buf, 1, AG_PHISH_MAX_EMAIL, f);
        fclose(f);
        struct ag_phish_result *r;
        assert_int_equal(ag_phish_analyze_email(an, buf, n, &r, &err), 0);
        if (r->verdict != cases[i].want)
            fail_msg("%s: %s (%.3f), want %s", cases[i].path, ag_phish_verdict_name(r->verdict),
                     r->score, ag_phish_verdict_name(cases[i].want));
        ag_phish_result_free(r);
        free(buf);
    }
    ag_phish_analyzer_free(an);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(real_messages)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
