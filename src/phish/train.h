/* Training and evaluation of the phishing models on the labelled corpora
 * (../shared/corpora, see its README.md): a reproducible train/test split
 * by hash of each message's name, a non-negative logistic regression per
 * model (email, SMS) fitted on the train part, thresholds chosen on
 * out-of-fold scores, and the held-out metrics and throughput. Used by
 * `make train-phish`, `make bench-phish` and `accountguard train-phish`. */
#ifndef AG_PHISH_TRAIN_H
#define AG_PHISH_TRAIN_H

#include "core/err.h"
#include "phish/phish.h"

#include <stdbool.h>
#include <stdio.h>

/* Percentage of messages held out for testing. */
#define AG_PHISH_TEST_PCT 30

/* Is the message named <key> (an email's path relative to the corpora
 * folder, "email/phish/sample-4.eml"; an SMS's "sms:<line number>") in the
 * held-out test part? FNV-1a of "split-v1:" + key, modulo 100, below
 * AG_PHISH_TEST_PCT. */
bool ag_phish_split_is_test(const char *key);

struct ag_phish_train_opts {
    const char *corpora;   /* folder holding labels_email.tsv, email/, sms/ */
    const char *out_json;  /* weights file to write */
    const char *out_inc;   /* C string include to write beside it, or NULL */
    const char *version;   /* version string to record */
    double l2;             /* L2 penalty (0: default 1.0) */
    FILE *log;             /* progress and metrics, or NULL */
};

/* Fit both models and write the weights. Returns 0, or AG_EIO (corpus or
 * output unreadable/unwritable), AG_ENOMEM, with <err> filled. */
int ag_phish_train(const struct ag_phish_train_opts *o, struct ag_err *err);

struct ag_phish_metrics {
    size_t tp, fp, tn, fn;
    double precision, recall, f1, fpr;
};

struct ag_phish_eval {
    struct ag_phish_metrics email, email_susp, sms, sms_susp;
    size_t n_email, n_sms;
    double email_per_s, sms_per_s, mb_per_s;
};

/* Evaluate analyzer <a> on the held-out part of <corpora>. Positive means
 * verdict "phishing" (the *_susp metrics count "suspicious" too). Times
 * ag_phish_analyze_email on one thread for about <seconds> of its CPU time
 * (rates are per CPU-second of one core). When
 * <list_out> is set, writes "path<TAB>label<TAB>verdict<TAB>score" for
 * every held-out email (the peers comparison runs on the same files). */
int ag_phish_evaluate(const struct ag_phish_analyzer *a, const char *corpora, double seconds,
                      FILE *list_out, struct ag_phish_eval *ev, struct ag_err *err);

void ag_phish_metrics_finish(struct ag_phish_metrics *m);

#endif
