/* `accountguard evaluate`: how well risk scores separate attacks from
 * legitimate logins. Reads a labelled CSV in the RBA schema (the "label"
 * column of `accountguard simulate`; without one, as in the real RBA dataset,
 * "Is Account Takeover" rows are the kind "takeover" and other "Is Attack IP"
 * rows the kind "attack_ip") and either a scores file
 * (index<TAB>risk<TAB>action, as `accountguard replay` writes) or scores the
 * CSV itself through the risk engine in time order (score, then learn).
 *
 * Prints ROC AUC and, at the thresholds where 1%, 2% and 5% of legitimate
 * successful logins would be challenged, the share of each attacker kind's
 * successful logins (the takeovers) and of all its attempts caught; writes
 * the ROC curves as an SVG. */
#include "cli/cli.h"
#include "risk/rba_csv.h"
#include "risk/risk.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXKINDS 8
#define MAXMODELS 2

struct erow {
    uint8_t kind; /* 0: legit */
    bool ok;
    bool warmup;  /* before --warmup-days: learned, not counted */
    double score[MAXMODELS];
};

struct eval {
    struct erow *v;
    size_t n, cap;
    char kinds[MAXKINDS][24];
    int nkinds;
    int nmodels;
    bool scored_here;
    enum ag_login_model_kind kinds_m[MAXMODELS];
    const char *model_names[MAXMODELS];
};

static int kind_of(struct eval *e, const char *label)
{
    for (int i = 0; i < e->nkinds; i++)
        if (!strcmp(e->kinds[i], label))
            return i;
    if (e->nkinds == MAXKINDS)
        return -1;
    snprintf(e->kinds[e->nkinds], sizeof e->kinds[0], "%s", label);
    return e->nkinds++;
}

static int dcmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

struct scored {
    double s;
    bool pos;
};

static int scmp(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;
    return x < y ? -1 : x > y;
}

/* AUC of positives (attack takeovers) vs legit successes, ties counted half;
 * also fills the ROC points (fpr, tpr) into <pts> (up to <maxpts>). */
static double auc_roc(const struct eval *e, int m, double *fx, double *fy, int maxpts, int *npts)
{
    struct scored *a = malloc(e->n * sizeof *a);
    size_t n = 0, npos = 0, nneg = 0;
    if (!a)
        return NAN;
    for (size_t i = 0; i < e->n; i++) {
        if (!e->v[i].ok || e->v[i].warmup)
            continue;
        a[n].s = e->v[i].score[m];
        a[n].pos = e->v[i].kind != 0;
        npos += a[n].pos;
        nneg += !a[n].pos;
        n++;
    }
    qsort(a, n, sizeof *a, scmp);
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && a[j].s == a[i].s)
            j++;
        double avg = (double)(i + 1 + j) / 2.0;
        for (size_t k = i; k < j; k++)
            if (a[k].pos)
                rank_sum += avg;
        i = j;
    }
    double auc = npos && nneg ? (rank_sum - (double)npos * (npos + 1) / 2.0) / ((double)npos * nneg)
                              : NAN;
    /* ROC from the highest score down: one point per distinct score, thinned
     * to <maxpts> (keeping the first and the last) */
    size_t ndistinct = 1;
    for (size_t i = 1; i < n; i++)
        ndistinct += a[i].s != a[i - 1].s;
    size_t step = ndistinct / (size_t)(maxpts - 2) + 1, k = 0;
    int np = 0;
    size_t tp = 0, fp = 0;
    fx[np] = 0, fy[np] = 0, np++;
    for (size_t i = n; i > 0;) {
        size_t j = i;
        while (j > 0 && a[j - 1].s == a[i - 1].s) {
            if (a[j - 1].pos)
                tp++;
            else
                fp++;
            j--;
        }
        i = j;
        if ((++k % step == 0 || i == 0) && np < maxpts) {
            fx[np] = nneg ? (double)fp / nneg : 0;
            fy[np] = npos ? (double)tp / npos : 0;
            np++;
        }
    }
    *npts = np;
    free(a);
    return auc;
}

static void write_svg(const char *path, const struct eval *e, double (*fx)[4096],
                      double (*fy)[4096], const int *np, const double *auc)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "accountguard evaluate: cannot write %s\n", path);
        return;
    }
    static const char *const colors[] = {"#d62728", "#1f77b4"};
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"460\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"900\" height=\"460\" fill=\"white\"/>\n");
    /* two panels: the whole curve, and false positives 0..10% */
    for (int panel = 0; panel < 2; panel++) {
        double x0 = 60 + panel * 440, y0 = 40, w = 360, h = 360, xmax = panel ? 0.1 : 1.0;
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                   "stroke=\"#444\"/>\n", x0, y0, w, h);
        fprintf(f, "<text x=\"%.0f\" y=\"25\">%s</text>\n", x0,
                panel ? "ROC, legitimate logins challenged 0-10%" : "ROC");
        for (int t = 0; t <= 4; t++) {
            double fxv = xmax * t / 4, fyv = (double)t / 4;
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%.*f%%</text>\n",
                    x0 + w * t / 4, y0 + h + 16, panel ? 1 : 0, fxv * 100);
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f%%</text>\n", x0 - 4,
                    y0 + h - h * t / 4 + 4, fyv * 100);
            fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#eee\"/>\n",
                    x0, y0 + h - h * t / 4, x0 + w, y0 + h - h * t / 4);
        }
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">legitimate logins "
                   "challenged</text>\n", x0 + w / 2, y0 + h + 34);
        if (!panel)
            fprintf(f, "<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" "
                       "text-anchor=\"middle\">takeovers caught</text>\n", y0 + h / 2, y0 + h / 2);
        for (int m = 0; m < e->nmodels; m++) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                    colors[m]);
            for (int i = 0; i < np[m]; i++) {
                double x = fx[m][i] > xmax ? xmax : fx[m][i];
                fprintf(f, "%.1f,%.1f ", x0 + w * x / xmax, y0 + h - h * fy[m][i]);
                if (fx[m][i] > xmax)
                    break;
            }
            fprintf(f, "\"/>\n");
            if (!panel)
                fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s (AUC %.4f)</text>\n",
                        x0 + 150, y0 + h - 20 - 16 * m, colors[m], e->model_names[m], auc[m]);
        }
    }
    fprintf(f, "</svg>\n");
    fclose(f);
}

static void report(struct eval *e, const char *svg)
{
    static double fx[MAXMODELS][4096], fy[MAXMODELS][4096];
    int np[MAXMODELS];
    double auc[MAXMODELS];
    size_t legit_ok = 0, kind_ok[MAXKINDS] = {0}, kind_all[MAXKINDS] = {0};
    size_t counted = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (e->v[i].warmup)
            continue;
        counted++;
        kind_all[e->v[i].kind]++;
        if (e->v[i].ok)
            kind_ok[e->v[i].kind]++;
    }
    legit_ok = kind_ok[0];
    printf("rows: %zu, counted after the warm-up: %zu; legitimate successful logins: %zu\n",
           e->n, counted, legit_ok);
    for (int k = 1; k < e->nkinds; k++)
        printf("  %-10s %zu attempts, %zu successful (takeovers)\n", e->kinds[k], kind_all[k],
               kind_ok[k]);
    double *ls = malloc((legit_ok + 1) * sizeof *ls);
    if (!ls)
        return;
    for (int m = 0; m < e->nmodels; m++) {
        auc[m] = auc_roc(e, m, fx[m], fy[m], 4096, &np[m]);
        size_t nl = 0;
        for (size_t i = 0; i < e->n; i++)
            if (e->v[i].kind == 0 && e->v[i].ok && !e->v[i].warmup)
                ls[nl++] = e->v[i].score[m];
        qsort(ls, nl, sizeof *ls, dcmp_desc);
        printf("\nmodel %s: ROC AUC %.4f (takeovers vs legitimate successful logins)\n",
               e->model_names[m], auc[m]);
        printf("  %-9s %-10s", "challenge", "threshold");
        for (int k = 1; k < e->nkinds; k++)
            printf(" %18s", e->kinds[k]);
        printf("\n  %-9s %-10s", "", "");
        for (int k = 1; k < e->nkinds; k++)
            printf(" %18s", "takeover/attempt");
        printf("\n");
        static const double shares[] = {0.01, 0.02, 0.05};
        /* and at the default risk thresholds (challenge, review, deny) */
        static const double risks[] = {0.7, 0.9, 0.98};
        for (int s = 0; s < 6; s++) {
            double thr;
            if (s < 3) {
                size_t kk = (size_t)floor(shares[s] * (double)nl);
                thr = nl ? ls[kk < nl ? kk : nl - 1] : 0;
            } else {
                double rr = risks[s - 3];
                /* scores are ln LR when we scored, risks when read from a file */
                double c, sc;
                struct ag_login_model_options mo = {.kind = e->kinds_m[m]};
                ag_login_model_mapping(&mo, &c, &sc);
                thr = e->scored_here ? c + sc * log(rr / (1 - rr)) - 1e-9 : rr - 1e-9;
                if (s == 3)
                    printf("  at the default risk thresholds (risk >= 0.7, 0.9, 0.98):\n");
            }
            size_t fp = 0;
            for (size_t i = 0; i < nl; i++)
                fp += ls[i] > thr;
            size_t c_ok[MAXKINDS] = {0}, c_all[MAXKINDS] = {0};
            for (size_t i = 0; i < e->n; i++) {
                if (!e->v[i].warmup && e->v[i].score[m] > thr) {
                    c_all[e->v[i].kind]++;
                    if (e->v[i].ok)
                        c_ok[e->v[i].kind]++;
                }
            }
            printf("  %5.2f%%   %-10.4g", nl ? 100.0 * fp / nl : 0, thr);
            for (int k = 1; k < e->nkinds; k++) {
                char b[40];
                if (!kind_all[k])
                    snprintf(b, sizeof b, "-");
                else if (!kind_ok[k])
                    snprintf(b, sizeof b, "- / %.1f%%", 100.0 * c_all[k] / kind_all[k]);
                else
                    snprintf(b, sizeof b, "%.1f%% / %.1f%%", 100.0 * c_ok[k] / kind_ok[k],
                             100.0 * c_all[k] / kind_all[k]);
                printf(" %18s", b);
            }
            printf("\n");
        }
    }
    free(ls);
    if (svg) {
        write_svg(svg, e, fx, fy, np, auc);
        printf("\nROC curves written to %s\n", svg);
    }
}

static int read_scores(struct eval *e, const char *path, char (*idx)[32])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "accountguard evaluate: cannot open %s\n", path);
        return -1;
    }
    /* rows are matched by index; replay writes them in the CSV's order */
    char line[256];
    size_t i = 0;
    long ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        while (i < e->n && strcmp(idx[i], line))
            i++;
        if (i == e->n) {
            fprintf(stderr, "accountguard evaluate: %s:%ld: index %s not in the CSV (or out of "
                            "order)\n", path, ln, line);
            fclose(f);
            return -1;
        }
        e->v[i++].score[0] = strtod(tab + 1, NULL);
    }
    fclose(f);
    return 0;
}

int ag_cmd_evaluate(int argc, char **argv)
{
    const char *csv = NULL, *scores = NULL, *svg = "roc.svg", *model = "both", *dump = NULL;
    double warmup_days = 7;
    bool learn_attacks = false;
    const char *ipdb = "/var/lib/location/database.db",
               *uap = "/usr/share/uap-core/regexes.yaml";
    bool enrich = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("accountguard evaluate: ROC AUC and attacks caught at 1/2/5%% challenged\n\n"
                   "Usage:\n  accountguard evaluate LABELLED.csv [--scores FILE] "
                   "[--model freeman|extended|both]\n"
                   "      [--enrich] [--svg FILE] [--dump FILE] [--warmup-days D] "
                   "[--learn-attacks]\n      [--ipdb_file PATH] [--uap_regexes PATH]\n"
                   "Without --scores, scores the CSV itself (score, then learn, in file order).\n"
                   "--enrich ignores the CSV's Country/ASN/browser/OS/device columns and\n"
                   "derives them from the IP address and user agent.\n"
                   "--dump writes, per row and model, the label, the risk, ln LR, its terms\n"
                   "and the signals (tab-separated), to see why a row scored as it did.\n"
                   "Rows in the first --warmup-days (7) days are learned but not counted:\n"
                   "simulated accounts start with no history. Attackers' rows are not learned\n"
                   "(a challenged attacker fails the challenge, so every attack login is\n"
                   "measured against the victim's own history) unless --learn-attacks.\n");
            return 0;
        }
        if (!strcmp(a, "--enrich")) {
            enrich = true;
            continue;
        }
        if (!strcmp(a, "--learn-attacks")) {
            learn_attacks = true;
            continue;
        }
        if (a[0] == '-' && a[1] == '-') {
            if (!v) {
                fprintf(stderr, "accountguard evaluate: %s needs a value\n", a);
                return 2;
            }
            if (!strcmp(a, "--scores"))
                scores = v;
            else if (!strcmp(a, "--svg"))
                svg = v;
            else if (!strcmp(a, "--model"))
                model = v;
            else if (!strcmp(a, "--dump"))
                dump = v;
            else if (!strcmp(a, "--warmup-days"))
                warmup_days = atof(v);

            else if (!strcmp(a, "--ipdb_file"))
                ipdb = v;
            else if (!strcmp(a, "--uap_regexes"))
                uap = v;
            else {
                fprintf(stderr, "accountguard evaluate: unknown option %s\n", a);
                return 2;
            }
            i++;
            continue;
        }
        if (csv) {
            fprintf(stderr, "accountguard evaluate: one CSV file, please\n");
            return 2;
        }
        csv = a;
    }
    if (!csv) {
        fprintf(stderr, "accountguard evaluate: which CSV? (accountguard evaluate --help)\n");
        return 2;
    }
    struct eval e;
    memset(&e, 0, sizeof e);
    kind_of(&e, "legit");
    enum ag_login_model_kind kinds[MAXMODELS];
    if (scores) {
        e.nmodels = 1;
        e.model_names[0] = "scores";
    } else if (!strcmp(model, "both")) {
        e.nmodels = 2;
        kinds[0] = AG_MODEL_FREEMAN, kinds[1] = AG_MODEL_EXTENDED;
        e.model_names[0] = "freeman", e.model_names[1] = "extended";
    } else if (!strcmp(model, "freeman") || !strcmp(model, "extended")) {
        e.nmodels = 1;
        kinds[0] = model[0] == 'f' ? AG_MODEL_FREEMAN : AG_MODEL_EXTENDED;
        e.model_names[0] = model;
    } else {
        fprintf(stderr, "accountguard evaluate: --model is freeman, extended or both\n");
        return 2;
    }
    struct ag_risk_engine *eng[MAXMODELS] = {0};
    e.scored_here = !scores;
    for (int m = 0; !scores && m < e.nmodels; m++)
        e.kinds_m[m] = kinds[m];
    struct ag_err err;
    for (int m = 0; !scores && m < e.nmodels; m++) {
        struct ag_risk_options o = {
            .ipdb_file = ipdb, .uap_regexes = uap, .model = kinds[m], .expected_accounts = 100000,
        };
        if (ag_risk_engine_open(&o, &eng[m], &err)) {
            fprintf(stderr, "accountguard evaluate: %s\n", err.msg);
            return 1;
        }
    }
    struct ag_rba_reader *r;
    if (ag_rba_open(csv, &r, &err)) {
        fprintf(stderr, "accountguard evaluate: %s\n", err.msg);
        return 1;
    }
    bool labelled = ag_rba_has_label(r);
    if (labelled) { /* the simulator's kinds, in a stable order */
        kind_of(&e, "stuffing");
        kind_of(&e, "vpn_local");
        kind_of(&e, "targeted");
    }
    FILE *df = dump ? fopen(dump, "w") : NULL;
    if (dump && !df) {
        fprintf(stderr, "accountguard evaluate: cannot write %s\n", dump);
        ag_rba_close(r);
        return 1;
    }
    static struct ag_rba_row row;
    char (*idx)[32] = NULL;
    size_t idx_cap = 0;
    int rc = 0, bad = 0;
    for (;;) {
        int k = ag_rba_next(r, &row, &err);
        if (k == 0)
            break;
        if (k < 0) {
            fprintf(stderr, "accountguard evaluate: %s: %s\n", csv, err.msg);
            if (k != AG_EINVAL || ++bad > 10) {
                rc = 1;
                break;
            }
            continue;
        }
        if (e.n == e.cap) {
            e.cap = e.cap ? e.cap * 2 : 65536;
            e.v = realloc(e.v, e.cap * sizeof *e.v);
            if (!e.v) {
                fprintf(stderr, "accountguard evaluate: out of memory\n");
                return 1;
            }
        }
        if (scores && e.n >= idx_cap) {
            idx_cap = idx_cap ? idx_cap * 2 : 65536;
            idx = realloc(idx, idx_cap * sizeof *idx);
            if (!idx) {
                fprintf(stderr, "accountguard evaluate: out of memory\n");
                return 1;
            }
        }
        struct erow *w = &e.v[e.n];
        memset(w, 0, sizeof *w);
        const char *label = labelled         ? row.label
                            : row.takeover   ? "takeover"
                            : row.attack_ip  ? "attack_ip"
                                             : "legit";
        int kind = kind_of(&e, label[0] ? label : "legit");
        w->kind = (uint8_t)(kind < 0 ? 0 : kind);
        w->ok = row.success;
        static int64_t first_ms = INT64_MIN;
        if (first_ms == INT64_MIN)
            first_ms = row.ev.occurred_at_ms;
        w->warmup = row.ev.occurred_at_ms < first_ms + (int64_t)(warmup_days * 86400000.0);
        if (scores)
            memcpy(idx[e.n], row.index, sizeof idx[0]);
        for (int m = 0; !scores && m < e.nmodels; m++) {
            struct ag_risk_assessment a;
            ag_risk_assess(eng[m], &row.ev, enrich ? NULL : &row.given, &a);
            w->score[m] = a.log_lr; /* ranks like risk, without saturating at 1 */
            if (df) {
                fprintf(df, "%s\t%s\t%s\t%d\t%.4f\t%.3f", row.index, e.model_names[m],
                        e.kinds[w->kind], w->ok, a.risk, a.log_lr);
                for (int t = 0; t < AG_LM_TERMS; t++)
                    fprintf(df, "\t%.2f", a.term[t]);
                fprintf(df, "\t");
                for (uint32_t b = 1; b; b <<= 1)
                    if ((a.signals & b) && ag_risk_signal_code(b))
                        fprintf(df, "%s ", ag_risk_signal_code(b));
                fprintf(df, "\n");
            }
            /* a challenged login is learned only once the challenge is passed:
             * legitimate users pass it, attackers do not. Failed attempts
             * always count in the velocity windows. */
            if (w->kind == 0 || !row.success || learn_attacks)
                ag_risk_learn(eng[m], &row.ev, &a);
        }
        e.n++;
    }
    ag_rba_close(r);
    if (df)
        fclose(df);
    if (!rc && scores && read_scores(&e, scores, idx))
        rc = 1;
    if (!rc)
        report(&e, svg);
    for (int m = 0; m < MAXMODELS; m++)
        ag_risk_engine_close(eng[m]);
    free(e.v);
    free(idx);
    return rc;
}
