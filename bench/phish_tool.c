/* ag_phish_tool: the phishing analyzer's trainer and benchmark, linked
 * against ag_phish alone (see bench/phish.cmake).
 *   ag_phish_tool train CORPORA WEIGHTS.json WEIGHTS.inc VERSION
 *   ag_phish_tool eval CORPORA [SECONDS] [LIST.tsv] [WEIGHTS.json]
 *   ag_phish_tool json FILE...          (debug: the JSON of each email)
 * `make train-phish` and `make bench-phish` call it. */
#include "phish/phish.h"
#include "phish/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_metrics(const char *name, const struct ag_phish_metrics *m)
{
    printf("  %-22s precision %.4f  recall %.4f  F1 %.4f  FPR %.4f%%  (tp %zu fp %zu tn %zu fn "
           "%zu)\n",
           name, m->precision, m->recall, m->f1, m->fpr * 100, m->tp, m->fp, m->tn, m->fn);
}

static int cmd_eval(int argc, char **argv)
{
    const char *corpora = argv[0];
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    FILE *list = NULL;
    if (argc > 2 && strcmp(argv[2], "-") && !(list = fopen(argv[2], "w"))) {
        fprintf(stderr, "cannot write %s\n", argv[2]);
        return 1;
    }
    struct ag_phish_options opt = {0};
    if (argc > 3)
        opt.weights_file = argv[3];
    struct ag_err err = {0};
    struct ag_phish_analyzer *a;
    if (ag_phish_analyzer_new(&opt, &a, &err)) {
        fprintf(stderr, "ag_phish_tool: %s\n", err.msg);
        return 1;
    }
    struct ag_phish_eval ev;
    int rc = ag_phish_evaluate(a, corpora, seconds, list, &ev, &err);
    if (list)
        fclose(list);
    if (rc) {
        fprintf(stderr, "ag_phish_tool: %s\n", err.msg);
        ag_phish_analyzer_free(a);
        return 1;
    }
    printf("accountguard phishing analyzer, model %s, held-out part (%d%% by name hash)\n",
           ag_phish_analyzer_model_version(a), AG_PHISH_TEST_PCT);
    printf("email (phish vs ham), %zu messages:\n", ev.n_email);
    print_metrics("verdict phishing", &ev.email);
    print_metrics("phishing|suspicious", &ev.email_susp);
    printf("sms (spam vs ham), %zu messages:\n", ev.n_sms);
    print_metrics("verdict phishing", &ev.sms);
    print_metrics("phishing|suspicious", &ev.sms_susp);
    if (seconds > 0)
        printf("speed, one thread: %.0f emails/s (%.1f MB/s), %.0f SMS/s per CPU-second\n",
               ev.email_per_s,
               ev.mb_per_s, ev.sms_per_s);
    ag_phish_analyzer_free(a);
    return 0;
}

static int cmd_json(int argc, char **argv)
{
    struct ag_err err = {0};
    struct ag_phish_analyzer *a;
    if (ag_phish_analyzer_new(NULL, &a, &err)) {
        fprintf(stderr, "ag_phish_tool: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f)
            continue;
        static char buf[8 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        struct ag_phish_result *r;
        if (ag_phish_analyze_email(a, buf, n, &r, &err)) {
            fprintf(stderr, "%s: %s\n", argv[i], err.msg);
            continue;
        }
        if (getenv("AG_PHISH_TSV")) {
            printf("%s\t%s\t%.4f\t", argv[i], ag_phish_verdict_name(r->verdict), r->score);
            for (size_t k = 0; k < r->nreasons; k++)
                printf("%s%s", k ? "," : "", r->reasons[k].code);
            printf("\n");
            ag_phish_result_free(r);
            continue;
        }
        json_t *j = ag_phish_result_json(r);
        char *s = json_dumps(j, JSON_INDENT(2));
        printf("%s: %s\n", argv[i], s ? s : "null");
        free(s);
        json_decref(j);
        ag_phish_result_free(r);
    }
    ag_phish_analyzer_free(a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "train")) {
        struct ag_phish_train_opts o = {.corpora = argv[2], .out_json = argv[3],
                                        .out_inc = argv[4], .version = argv[5], .log = stdout};
        struct ag_err err = {0};
        if (ag_phish_train(&o, &err)) {
            fprintf(stderr, "ag_phish_tool train: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "eval"))
        return cmd_eval(argc - 2, argv + 2);
    if (argc >= 3 && !strcmp(argv[1], "json"))
        return cmd_json(argc - 2, argv + 2);
    fprintf(stderr, "usage: ag_phish_tool train CORPORA OUT.json OUT.inc VERSION\n"
                    "       ag_phish_tool eval CORPORA [SECONDS] [LIST.tsv|-] [WEIGHTS.json]\n"
                    "       ag_phish_tool json FILE...\n");
    return 2;
}
