/* Training and evaluation on the labelled corpora (see train.h). The model
 * is a logistic regression over the binary signals, fitted by cyclic
 * coordinate Newton steps with an L2 penalty and every signal weight kept
 * >= 0 (each signal is evidence for phishing; a corpus quirk must not turn
 * one into evidence against). Thresholds come from 5-fold out-of-fold
 * scores on the train part, never from the test part. */
#include "phish/train.h"
#include "phish/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CV_FOLDS 5
#define EMAIL_MAX_FPR 0.005 /* phishing threshold: out-of-fold FPR at most 0.5% */
#define SUSP_MAX_FPR 0.02   /* suspicious threshold: out-of-fold FPR at most 2% */

struct sample {
    char *key;
    char *path; /* email: full path */
    char *text; /* SMS text */
    int y;      /* 1 phish/spam, 0 ham */
    bool test;
    int fold;
    double x[AG_PHISH_NSIG];
};

struct set {
    struct sample *s;
    size_t n, cap;
};

static uint64_t fnv1a(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

bool ag_phish_split_is_test(const char *key)
{
    return fnv1a("split-v1:", key) % 100 < AG_PHISH_TEST_PCT;
}

static int push(struct set *st, struct sample s)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 1024;
        struct sample *n = realloc(st->s, cap * sizeof *n);
        if (!n)
            return -1;
        st->s = n;
        st->cap = cap;
    }
    s.test = ag_phish_split_is_test(s.key);
    s.fold = (int)(fnv1a("fold-v1:", s.key) % CV_FOLDS);
    st->s[st->n++] = s;
    return 0;
}

static void set_free(struct set *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->s[i].key);
        free(st->s[i].path);
        free(st->s[i].text);
    }
    free(st->s);
    memset(st, 0, sizeof *st);
}

static int slurp(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct ag_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ag_buf_append(&b, chunk, n)) {
            fclose(f);
            ag_buf_free(&b);
            return -1;
        }
    fclose(f);
    if (!b.data && ag_buf_append(&b, "", 0))
        return -1;
    *out = b.data;
    *len = b.len;
    return 0;
}

static int load_email(const char *corpora, struct set *st, struct ag_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/labels_email.tsv", corpora);
    FILE *f = fopen(path, "r");
    if (!f)
        return ag_err_set(err, AG_EIO, "no_corpus", "", "cannot open %s: %s", path,
                          strerror(errno));
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        struct sample s = {0};
        s.y = !strcmp(tab + 1, "phish");
        s.key = strdup(line);
        size_t plen = strlen(corpora) + strlen(line) + 2;
        s.path = malloc(plen);
        if (s.path)
            snprintf(s.path, plen, "%s/%s", corpora, line);
        if (!s.key || !s.path || push(st, s)) {
            fclose(f);
            return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
        }
    }
    fclose(f);
    return 0;
}

static int load_sms(const char *corpora, struct set *st, struct ag_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sms/sms_spam_collection.tsv", corpora);
    FILE *f = fopen(path, "r");
    if (!f)
        return ag_err_set(err, AG_EIO, "no_corpus", "", "cannot open %s: %s", path,
                          strerror(errno));
    char line[8192];
    size_t lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab || !tab[1])
            continue;
        *tab = '\0';
        struct sample s = {0};
        s.y = !strcmp(line, "spam");
        char key[64];
        snprintf(key, sizeof key, "sms:%zu", lineno);
        s.key = strdup(key);
        s.text = strdup(tab + 1);
        if (!s.key || !s.text || push(st, s)) {
            fclose(f);
            return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
        }
    }
    fclose(f);
    return 0;
}

static int featurize(const struct ag_phish_analyzer *a, struct set *st, bool sms,
                     struct ag_err *err)
{
    for (size_t i = 0; i < st->n; i++) {
        struct sample *s = &st->s[i];
        int rc;
        if (sms) {
            rc = ag_phish_features_sms(a, NULL, s->text, s->x, err);
        } else {
            char *raw;
            size_t len;
            if (slurp(s->path, &raw, &len))
                return ag_err_set(err, AG_EIO, "no_corpus", "", "cannot read %s", s->path);
            rc = ag_phish_features_email(a, raw, len, s->x, err);
            free(raw);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static bool in_scope(int sig, bool sms)
{
    char sc = ag_phish_sigs[sig].scope;
    return sc == 'B' || sc == (sms ? 'S' : 'E');
}

/* Fit on samples with use(s) true. */
static void fit(const struct set *st, bool (*use)(const struct sample *, int), int arg, bool sms,
                double l2, struct ag_phish_model *m)
{
    size_t n = st->n;
    double *z = calloc(n, sizeof *z);
    if (!z)
        return;
    memset(m, 0, sizeof *m);
    size_t pos = 0, cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (use(&st->s[i], arg)) {
            cnt++;
            pos += (size_t)st->s[i].y;
        }
    m->bias = log((pos + 0.5) / (cnt - pos + 0.5));
    for (size_t i = 0; i < n; i++)
        z[i] = m->bias;
    for (int sweep = 0; sweep < 400; sweep++) {
        double maxstep = 0;
        for (int j = -1; j < AG_PHISH_NSIG; j++) {
            if (j >= 0 && !in_scope(j, sms))
                continue;
            double g = 0, h = 0;
            for (size_t i = 0; i < n; i++) {
                const struct sample *s = &st->s[i];
                if (!use(s, arg))
                    continue;
                double xv = j < 0 ? 1.0 : s->x[j];
                if (xv == 0)
                    continue;
                double p = 1.0 / (1.0 + exp(-z[i]));
                g += (p - s->y) * xv;
                h += p * (1 - p) * xv * xv;
            }
            double old = j < 0 ? m->bias : m->w[j];
            double nw;
            if (j < 0) {
                nw = old - g / (h + 1e-9);
            } else {
                g += l2 * old;
                h += l2;
                nw = old - g / h;
                if (nw < 0)
                    nw = 0;
            }
            double d = nw - old;
            if (d == 0)
                continue;
            if (fabs(d) > maxstep)
                maxstep = fabs(d);
            if (j < 0)
                m->bias = nw;
            else
                m->w[j] = nw;
            for (size_t i = 0; i < n; i++) {
                double xv = j < 0 ? 1.0 : st->s[i].x[j];
                if (xv != 0)
                    z[i] += d * xv;
            }
        }
        if (maxstep < 1e-7)
            break;
    }
    free(z);
}

static double predict(const struct ag_phish_model *m, const double *x)
{
    double z = m->bias;
    for (int j = 0; j < AG_PHISH_NSIG; j++)
        z += m->w[j] * x[j];
    return 1.0 / (1.0 + exp(-z));
}

static bool use_train(const struct sample *s, int arg)
{
    (void)arg;
    return !s->test;
}

static bool use_train_not_fold(const struct sample *s, int fold)
{
    return !s->test && s->fold != fold;
}

struct scored {
    double p;
    int y;
};

static int cmp_scored(const void *x, const void *y)
{
    const struct scored *a = x, *b = y;
    return a->p < b->p ? 1 : a->p > b->p ? -1 : 0;
}

/* Thresholds from out-of-fold scores: the phishing threshold maximizes F1
 * with FPR <= max_fpr; the suspicious one is the lowest with FPR <=
 * SUSP_MAX_FPR (never above the phishing one). */
static void choose_thresholds(struct scored *sc, size_t n, double max_fpr, double *t_phish,
                              double *t_susp, FILE *log, const char *name)
{
    qsort(sc, n, sizeof *sc, cmp_scored);
    size_t P = 0, N = 0;
    for (size_t i = 0; i < n; i++)
        if (sc[i].y)
            P++;
        else
            N++;
    size_t tp = 0, fp = 0;
    double best_f1 = -1;
    *t_phish = 0.99;
    *t_susp = 0.99;
    for (size_t i = 0; i < n; i++) {
        sc[i].y ? tp++ : fp++;
        if (i + 1 < n && sc[i + 1].p == sc[i].p)
            continue;
        double fpr = N ? (double)fp / N : 0;
        double prec = (double)tp / (tp + fp), rec = P ? (double)tp / P : 0;
        double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        /* Midway to the next score, so that ties fall on one side. */
        double t = i + 1 < n ? (sc[i].p + sc[i + 1].p) / 2 : sc[i].p;
        if (fpr <= max_fpr && f1 > best_f1) {
            best_f1 = f1;
            *t_phish = t;
        }
        if (fpr <= SUSP_MAX_FPR)
            *t_susp = t;
    }
    if (*t_susp > *t_phish)
        *t_susp = *t_phish;
    if (*t_phish < 0.5) /* never call a message phishing below even odds */
        *t_phish = 0.5;
    if (*t_susp > *t_phish)
        *t_susp = *t_phish;
    if (log)
        fprintf(log, "%s: out-of-fold best F1 %.4f at FPR <= %.3f%%: threshold_phishing %.4f, "
                     "threshold_suspicious %.4f\n",
                name, best_f1, max_fpr * 100, *t_phish, *t_susp);
}

static int train_model(const struct set *st, bool sms, double l2, struct ag_phish_model *m,
                       FILE *log)
{
    size_t ntrain = 0;
    for (size_t i = 0; i < st->n; i++)
        ntrain += !st->s[i].test;
    struct scored *sc = malloc((ntrain ? ntrain : 1) * sizeof *sc);
    if (!sc)
        return -1;
    size_t k = 0;
    for (int f = 0; f < CV_FOLDS; f++) {
        struct ag_phish_model fm;
        fit(st, use_train_not_fold, f, sms, l2, &fm);
        for (size_t i = 0; i < st->n; i++) {
            const struct sample *s = &st->s[i];
            if (!s->test && s->fold == f)
                sc[k++] = (struct scored){predict(&fm, s->x), s->y};
        }
    }
    double tp, ts;
    choose_thresholds(sc, k, sms ? 0.005 : EMAIL_MAX_FPR, &tp, &ts, log, sms ? "sms" : "email");
    free(sc);
    fit(st, use_train, 0, sms, l2, m);
    m->t_phish = tp;
    m->t_susp = ts;
    return 0;
}

static void counts(const struct set *st, size_t *trp, size_t *trn, size_t *tep, size_t *ten)
{
    *trp = *trn = *tep = *ten = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct sample *s = &st->s[i];
        if (s->test)
            s->y ? (*tep)++ : (*ten)++;
        else
            s->y ? (*trp)++ : (*trn)++;
    }
}

static json_t *model_json(const struct ag_phish_model *m, bool sms)
{
    json_t *w = json_object();
    for (int j = 0; j < AG_PHISH_NSIG; j++)
        if (in_scope(j, sms))
            json_object_set_new(w, ag_phish_sigs[j].code,
                                json_real(round(m->w[j] * 10000) / 10000));
    return json_pack("{s:f, s:f, s:f, s:o}", "bias", round(m->bias * 10000) / 10000,
                     "threshold_phishing", round(m->t_phish * 10000) / 10000,
                     "threshold_suspicious", round(m->t_susp * 10000) / 10000, "weights", w);
}

static int write_inc(const char *json_path, const char *inc_path)
{
    char *buf;
    size_t len;
    if (slurp(json_path, &buf, &len))
        return -1;
    FILE *f = fopen(inc_path, "w");
    if (!f) {
        free(buf);
        return -1;
    }
    fprintf(f, "/* Generated by `make train-phish` from phish_weights.json: do not edit. */\n\"");
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fprintf(f, "\\n\"\n%s", i + 1 < len ? "\"" : "");
        else
            fputc(ch, f);
    }
    if (len && buf[len - 1] != '\n')
        fputc('"', f);
    fputc('\n', f);
    free(buf);
    return fclose(f);
}

int ag_phish_train(const struct ag_phish_train_opts *o, struct ag_err *err)
{
    struct ag_phish_analyzer *a = NULL;
    struct set em = {0}, sm = {0};
    int rc = ag_phish_analyzer_new(NULL, &a, err);
    if (rc)
        return rc;
    double l2 = o->l2 > 0 ? o->l2 : 1.0;
    if ((rc = load_email(o->corpora, &em, err)) || (rc = load_sms(o->corpora, &sm, err)))
        goto out;
    if (o->log)
        fprintf(o->log, "train-phish: %zu emails, %zu SMS; extracting signals\n", em.n, sm.n);
    if ((rc = featurize(a, &em, false, err)) || (rc = featurize(a, &sm, true, err)))
        goto out;
    struct ag_phish_model me, ms;
    if (train_model(&em, false, l2, &me, o->log) || train_model(&sm, true, l2, &ms, o->log)) {
        rc = ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
        goto out;
    }
    size_t a1, a2, a3, a4, b1, b2, b3, b4;
    counts(&em, &a1, &a2, &a3, &a4);
    counts(&sm, &b1, &b2, &b3, &b4);
    json_t *root = json_pack(
        "{s:s, s:{s:s, s:s, s:s, s:f, s:{s:i, s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i}}, s:o, s:o}",
        "version", o->version ? o->version : "phish-dev", "trained", "corpora",
        "../shared/corpora (labels_email.tsv, sms/sms_spam_collection.tsv)", "split",
        "test if FNV-1a-64(\"split-v1:\" + key) % 100 < 30; key = email path relative to the "
        "corpora folder, or \"sms:<line number>\"; the rest trains",
        "model",
        "logistic regression, binary signals, signal weights >= 0, coordinate Newton; "
        "thresholds from 5-fold out-of-fold scores (phishing: best F1 at FPR <= 0.5%; "
        " suspicious: FPR <= 2%)",
        "l2", l2, "email", "train_phish", (json_int_t)a1, "train_ham", (json_int_t)a2,
        "test_phish", (json_int_t)a3, "test_ham", (json_int_t)a4, "sms", "train_spam",
        (json_int_t)b1, "train_ham", (json_int_t)b2, "test_spam", (json_int_t)b3, "test_ham",
        (json_int_t)b4, "email", model_json(&me, false), "sms", model_json(&ms, true));
    if (!root || json_dump_file(root, o->out_json, JSON_INDENT(2) | JSON_REAL_PRECISION(6))) {
        json_decref(root);
        rc = ag_err_set(err, AG_EIO, "write_failed", "", "cannot write %s", o->out_json);
        goto out;
    }
    json_decref(root);
    {
        FILE *f = fopen(o->out_json, "a");
        if (f) {
            fputc('\n', f);
            fclose(f);
        }
    }
    if (o->out_inc && write_inc(o->out_json, o->out_inc)) {
        rc = ag_err_set(err, AG_EIO, "write_failed", "", "cannot write %s", o->out_inc);
        goto out;
    }
    if (o->log) {
        fprintf(o->log, "train-phish: wrote %s\n", o->out_json);
        fprintf(o->log, "email weights (non-zero):\n");
        for (int j = 0; j < AG_PHISH_NSIG; j++)
            if (me.w[j] > 0)
                fprintf(o->log, "  %-30s %7.3f\n", ag_phish_sigs[j].code, me.w[j]);
        fprintf(o->log, "sms weights (non-zero):\n");
        for (int j = 0; j < AG_PHISH_NSIG; j++)
            if (ms.w[j] > 0)
                fprintf(o->log, "  %-30s %7.3f\n", ag_phish_sigs[j].code, ms.w[j]);
    }
out:
    set_free(&em);
    set_free(&sm);
    ag_phish_analyzer_free(a);
    return rc;
}

void ag_phish_metrics_finish(struct ag_phish_metrics *m)
{
    m->precision = m->tp + m->fp ? (double)m->tp / (double)(m->tp + m->fp) : 0;
    m->recall = m->tp + m->fn ? (double)m->tp / (double)(m->tp + m->fn) : 0;
    m->f1 = m->precision + m->recall > 0
                ? 2 * m->precision * m->recall / (m->precision + m->recall)
                : 0;
    m->fpr = m->fp + m->tn ? (double)m->fp / (double)(m->fp + m->tn) : 0;
}

static void tally(struct ag_phish_metrics *m, int y, bool pred)
{
    if (y)
        pred ? m->tp++ : m->fn++;
    else
        pred ? m->fp++ : m->tn++;
}

/* CPU time of this thread: the speed of one core, whatever else the
 * machine runs meanwhile. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ag_phish_evaluate(const struct ag_phish_analyzer *a, const char *corpora, double seconds,
                      FILE *list_out, struct ag_phish_eval *ev, struct ag_err *err)
{
    memset(ev, 0, sizeof *ev);
    struct set em = {0}, sm = {0};
    char **raws = NULL;
    size_t *lens = NULL;
    int rc;
    if ((rc = load_email(corpora, &em, err)) || (rc = load_sms(corpora, &sm, err)))
        goto out;
    raws = calloc(em.n ? em.n : 1, sizeof *raws);
    lens = calloc(em.n ? em.n : 1, sizeof *lens);
    if (!raws || !lens) {
        rc = ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
        goto out;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < em.n; i++) {
        struct sample *s = &em.s[i];
        if (!s->test)
            continue;
        if (slurp(s->path, &raws[i], &lens[i])) {
            rc = ag_err_set(err, AG_EIO, "no_corpus", "", "cannot read %s", s->path);
            goto out;
        }
        bytes += lens[i];
        struct ag_phish_result *r;
        if ((rc = ag_phish_analyze_email(a, raws[i], lens[i], &r, err)))
            goto out;
        ev->n_email++;
        tally(&ev->email, s->y, r->verdict == AG_PHISH_PHISHING);
        tally(&ev->email_susp, s->y, r->verdict != AG_PHISH_LEGIT);
        if (list_out)
            fprintf(list_out, "%s\t%s\t%s\t%.4f\n", s->path, s->y ? "phish" : "ham",
                    ag_phish_verdict_name(r->verdict), r->score);
        ag_phish_result_free(r);
    }
    for (size_t i = 0; i < sm.n; i++) {
        struct sample *s = &sm.s[i];
        if (!s->test)
            continue;
        struct ag_phish_result *r;
        if ((rc = ag_phish_analyze_sms(a, NULL, s->text, &r, err)))
            goto out;
        ev->n_sms++;
        tally(&ev->sms, s->y, r->verdict == AG_PHISH_PHISHING);
        tally(&ev->sms_susp, s->y, r->verdict != AG_PHISH_LEGIT);
        ag_phish_result_free(r);
    }
    ag_phish_metrics_finish(&ev->email);
    ag_phish_metrics_finish(&ev->email_susp);
    ag_phish_metrics_finish(&ev->sms);
    ag_phish_metrics_finish(&ev->sms_susp);
    /* Throughput: whole passes over the held-out emails, one thread. */
    if (seconds > 0 && ev->n_email) {
        size_t done = 0, done_bytes = 0;
        double t0 = now_s(), t;
        do {
            for (size_t i = 0; i < em.n; i++) {
                if (!raws[i])
                    continue;
                struct ag_phish_result *r;
                if (!ag_phish_analyze_email(a, raws[i], lens[i], &r, NULL))
                    ag_phish_result_free(r);
                done++;
                done_bytes += lens[i];
            }
        } while ((t = now_s() - t0) < seconds);
        ev->email_per_s = (double)done / t;
        ev->mb_per_s = (double)done_bytes / t / 1e6;
        done = 0;
        t0 = now_s();
        do {
            for (size_t i = 0; i < sm.n; i++) {
                if (!sm.s[i].test)
                    continue;
                struct ag_phish_result *r;
                if (!ag_phish_analyze_sms(a, NULL, sm.s[i].text, &r, NULL))
                    ag_phish_result_free(r);
                done++;
            }
        } while ((t = now_s() - t0) < seconds / 2);
        ev->sms_per_s = (double)done / t;
    }
    (void)bytes;
out:
    if (raws)
        for (size_t i = 0; i < em.n; i++)
            free(raws[i]);
    free(raws);
    free(lens);
    set_free(&em);
    set_free(&sm);
    return rc;
}
