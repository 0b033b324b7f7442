/* Unit tests for src/phish: the JSON rendering of a result, loading weights
 * files (good and bad), the `analyze` command's tsv and json output, and
 * concurrent analyses with one analyzer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "phish/cli.h"
#include "phish/phish.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ag_phish_analyzer *an;

static char *data_path(const char *name)
{
    static char path[4][1024];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 1024, "%s/tests/data/phish/%s", AG_SOURCE_DIR, name);
    return p;
}

static void json_shape(void **state)
{
    const char *msg = "From: \"PayPal\" <service@paypa1.com>\r\nSubject: Account limited\r\n"
                      "Content-Type: text/plain\r\n\r\nYour account has been suspended, call "
                      "+1 (555) 010-9999 or visit https://bit.ly/x1\r\n";
    struct ag_phish_result *r;
    assert_int_equal(ag_phish_analyze_email(an, msg, strlen(msg), &r, NULL), 0);
    json_t *j = ag_phish_result_json(r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "email");
    const char *verdict = json_string_value(json_object_get(j, "verdict"));
    assert_true(!strcmp(verdict, "phishing") || !strcmp(verdict, "suspicious") ||
                !strcmp(verdict, "legit"));
    double score = json_real_value(json_object_get(j, "score"));
    assert_true(score >= 0 && score <= 1);
    assert_string_equal(json_string_value(json_object_get(j, "model_version")),
                        ag_phish_analyzer_model_version(an));
    assert_string_equal(json_string_value(json_object_get(j, "subject")), "Account limited");
    assert_string_equal(json_string_value(json_object_get(j, "from")), "service@paypa1.com");
    json_t *reasons = json_object_get(j, "reasons");
    assert_true(json_is_array(reasons) && json_array_size(reasons) > 0);
    json_t *first = json_array_get(reasons, 0);
    const char *keys[] = {"code", "title", "source", "evidence"};
    for (size_t i = 0; i < 4; i++)
        assert_true(json_is_string(json_object_get(first, keys[i])));
    assert_true(json_is_number(json_object_get(first, "weight")));
    /* Strongest first. */
    for (size_t i = 1; i < json_array_size(reasons); i++)
        assert_true(json_number_value(json_object_get(json_array_get(reasons, i - 1), "weight")) >=
                    json_number_value(json_object_get(json_array_get(reasons, i), "weight")));
    json_t *ind = json_object_get(j, "indicators");
    const char *groups[] = {"urls", "domains", "phones", "emails", "ips"};
    for (size_t i = 0; i < 5; i++)
        assert_true(json_is_array(json_object_get(ind, groups[i])));
    json_t *url = json_array_get(json_object_get(ind, "urls"), 0);
    assert_string_equal(json_string_value(json_object_get(url, "value")), "https://bit.ly/x1");
    assert_string_equal(json_string_value(json_object_get(url, "context")), "body");
    json_t *phone = json_array_get(json_object_get(ind, "phones"), 0);
    assert_string_equal(json_string_value(json_object_get(phone, "value")), "+15550109999");
    json_decref(j);
    ag_phish_result_free(r);

    assert_int_equal(ag_phish_analyze_sms(an, "12345", "hello there", &r, NULL), 0);
    j = ag_phish_result_json(r);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "sms");
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "legit");
    assert_null(json_object_get(j, "subject"));
    assert_string_equal(json_string_value(json_object_get(j, "from")), "12345");
    json_decref(j);
    ag_phish_result_free(r);
}

static char *write_tmp(const char *content)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ag_phish_w_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

static void weights_loading(void **state)
{
    /* The shipped file loads and equals the compiled-in copy. */
    struct ag_phish_options opt = {.weights_file = data_path("../../../src/phish/phish_weights.json")};
    struct ag_phish_analyzer *a;
    struct ag_err err;
    assert_int_equal(ag_phish_analyzer_new(&opt, &a, &err), 0);
    assert_string_equal(ag_phish_analyzer_model_version(a), ag_phish_analyzer_model_version(an));
    ag_phish_analyzer_free(a);

    /* A small file: one weight decides. */
    char *p = write_tmp("{\"version\":\"t1\",\"email\":{\"bias\":-2,\"threshold_phishing\":0.9,"
                        "\"threshold_suspicious\":0.5,\"weights\":{\"link_shortener\":5}},"
                        "\"sms\":{\"bias\":-2,\"threshold_phishing\":0.9,"
                        "\"threshold_suspicious\":0.5,\"weights\":{}}}");
    opt.weights_file = p;
    assert_int_equal(ag_phish_analyzer_new(&opt, &a, &err), 0);
    assert_string_equal(ag_phish_analyzer_model_version(a), "t1");
    const char *msg = "From: a@b.example\r\nSubject: x\r\n\r\nsee https://bit.ly/abc\r\n";
    struct ag_phish_result *r;
    assert_int_equal(ag_phish_analyze_email(a, msg, strlen(msg), &r, NULL), 0);
    assert_float_equal(r->score, 1 / (1 + exp(-3.0)), 1e-9);
    assert_int_equal(r->verdict, AG_PHISH_PHISHING);
    assert_string_equal(r->reasons[0].code, "link_shortener");
    assert_float_equal(r->reasons[0].weight, 5.0, 1e-9);
    ag_phish_result_free(r);
    ag_phish_analyzer_free(a);
    unlink(p);

    const char *bad[] = {
        "not json",
        "{\"email\":{},\"sms\":{}}",
        "{\"version\":\"x\",\"email\":{\"bias\":0,\"threshold_phishing\":0.9,"
        "\"threshold_suspicious\":0.5,\"weights\":{\"no_such_signal\":1}},\"sms\":{\"bias\":0,"
        "\"threshold_phishing\":0.9,\"threshold_suspicious\":0.5,\"weights\":{}}}",
        "{\"version\":\"x\",\"email\":{\"bias\":0,\"threshold_phishing\":0.4,"
        "\"threshold_suspicious\":0.5,\"weights\":{}},\"sms\":{\"bias\":0,"
        "\"threshold_phishing\":0.9,\"threshold_suspicious\":0.5,\"weights\":{}}}",
    };
    for (size_t i = 0; i < 4; i++) {
        p = write_tmp(bad[i]);
        opt.weights_file = p;
        assert_int_equal(ag_phish_analyzer_new(&opt, &a, &err), AG_EINVAL);
        assert_string_equal(err.slug, "invalid_weights");
        unlink(p);
    }
    opt.weights_file = "/nonexistent/w.json";
    assert_int_equal(ag_phish_analyzer_new(&opt, &a, &err), AG_EINVAL);
}

static char *run_cli(int argc, char **argv, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    FILE *err = fopen("/dev/null", "w");
    *rc = ag_phish_cli_analyze(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return buf;
}

static void cli_tsv_and_json(void **state)
{
    char *spoof = data_path("spoof_paypal.eml"), *legit = data_path("legit_amazon.eml"),
         *sms = data_path("sms_spam.txt");
    char *argv[] = {"--format", "tsv", spoof, legit, sms, NULL};
    int rc;
    char *out = run_cli(5, argv, &rc);
    assert_int_equal(rc, 0);
    /* One line per file: path, verdict, score with four decimals. */
    char *save, *line = strtok_r(out, "\n", &save);
    const char *want[][2] = {{spoof, "phishing"}, {legit, "legit"}, {sms, "phishing"}};
    for (int i = 0; i < 3; i++) {
        assert_non_null(line);
        char path[1024], verdict[32];
        double score;
        assert_int_equal(sscanf(line, "%1023[^\t]\t%31[^\t]\t%lf", path, verdict, &score), 3);
        assert_string_equal(path, want[i][0]);
        assert_string_equal(verdict, want[i][1]);
        assert_true(score >= 0 && score <= 1);
        assert_non_null(strrchr(line, '.'));
        assert_int_equal(strlen(strrchr(line, '.') + 1), 4);
        line = strtok_r(NULL, "\n", &save);
    }
    assert_null(line);
    free(out);

    char *argv2[] = {"--format=json", "--brand", "acmebank.example", legit, NULL};
    out = run_cli(4, argv2, &rc);
    assert_int_equal(rc, 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "path")), legit);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "legit");
    json_decref(j);
    free(out);

    char *argv3[] = {"--format", "xml", legit, NULL};
    free(run_cli(3, argv3, &rc));
    assert_int_equal(rc, 2);
    char *argv4[] = {"/nonexistent.eml", NULL};
    free(run_cli(1, argv4, &rc));
    assert_int_equal(rc, 1);
    char *argv5[] = {"--bogus", legit, NULL};
    free(run_cli(2, argv5, &rc));
    assert_int_equal(rc, 2);
}

static void sms_file_format(void **state)
{
    char buf[] = "From: +1 555 0100\r\nYour code is 1234\n\n";
    const char *sender, *text;
    assert_int_equal(ag_phish_sms_file_parse(buf, &sender, &text), 0);
    assert_string_equal(sender, "+1 555 0100");
    assert_string_equal(text, "Your code is 1234");
    char buf2[] = "no sender line";
    assert_int_equal(ag_phish_sms_file_parse(buf2, &sender, &text), 0);
    assert_null(sender);
    assert_string_equal(text, "no sender line");
    char buf3[] = "From: x\n";
    assert_int_equal(ag_phish_sms_file_parse(buf3, &sender, &text), -1);
}

static void *worker(void *arg)
{
    const char *msg = arg;
    for (int i = 0; i < 50; i++) {
        struct ag_phish_result *r;
        if (ag_phish_analyze_email(an, msg, strlen(msg), &r, NULL))
            return (void *)1;
        int ok = r->verdict == AG_PHISH_PHISHING;
        ag_phish_result_free(r);
        if (!ok)
            return (void *)1;
    }
    return NULL;
}

static void concurrent(void **state)
{
    const char *msg =
        "From: \"PayPal\" <service@paypa1.com>\r\nReply-To: x@gmail.com\r\nSubject: Suspended\r\n"
        "Authentication-Results: mx; spf=fail smtp.mailfrom=paypa1.com; dmarc=fail\r\n"
        "Content-Type: text/html\r\n\r\n<p>Dear customer, your account has been suspended. "
        "Verify your account within 24 hours: <a href='http://paypal.com.x.top/login'>"
        "https://www.paypal.com</a></p>\r\n";
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)msg), 0);
    for (int i = 0; i < 4; i++) {
        void *res;
        pthread_join(t[i], &res);
        assert_null(res);
    }
}

static int setup(void **state)
{
    struct ag_err err;
    return ag_phish_analyzer_new(NULL, &an, &err);
}

static int teardown(void **state)
{
    ag_phish_analyzer_free(an);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_shape),       cmocka_unit_test(weights_loading),
        cmocka_unit_test(cli_tsv_and_json), cmocka_unit_test(sms_file_format),
        cmocka_unit_test(concurrent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
