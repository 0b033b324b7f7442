/* The phishing analyzer's command-line front ends, kept in this module so
 * that they build and are tested with it alone: `accountguard analyze` and
 * `accountguard train-phish` (src/cli/cmd_analyze.c and cmd_train_phish.c
 * only call these). File formats are in docs/PHISHING.md. */
#include "phish/cli.h"
#include "phish/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BRANDS 64

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return -1;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        if (cap >= AG_PHISH_MAX_EMAIL + 1)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        return -1;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int ag_phish_sms_file_parse(char *buf, const char **sender, const char **text)
{
    *sender = NULL;
    char *p = buf;
    if (!strncmp(p, "\xef\xbb\xbf", 3))
        p += 3;
    if (!strncasecmp(p, "From:", 5)) {
        char *nl = strchr(p, '\n');
        char *s = p + 5;
        while (*s == ' ' || *s == '\t')
            s++;
        if (nl) {
            *nl = '\0';
            if (nl > s && nl[-1] == '\r')
                nl[-1] = '\0';
            p = nl + 1;
        } else {
            p = s + strlen(s);
        }
        *sender = s;
    }
    size_t n = strlen(p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = '\0';
    *text = p;
    return *p ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: accountguard analyze [--format tsv|json] [--brand DOMAIN ...] "
               "[--brands-only] [--sms] [--weights FILE] FILE...\n");
}

int ag_phish_cli_analyze(int argc, char **argv, FILE *out, FILE *errf)
{
    const char *format = "tsv", *weights = NULL;
    const char *brands[MAX_BRANDS];
    size_t nbrands = 0;
    bool all_sms = false, brands_only = false;
    int first = argc;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "--")) {
            first = i + 1;
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(out);
            return 0;
        }
        if (!strcmp(a, "--sms")) {
            all_sms = true;
            continue;
        }
        if (!strcmp(a, "--brands-only")) {
            brands_only = true;
            continue;
        }
        const char *names[] = {"--format", "--brand", "--weights"};
        int which = -1;
        for (int k = 0; k < 3; k++) {
            size_t n = strlen(names[k]);
            if (!strncmp(a, names[k], n) && (a[n] == '=' || a[n] == '\0')) {
                which = k;
                if (a[n] == '=')
                    val = a + n + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                break;
            }
        }
        if (which < 0) {
            if (a[0] == '-' && a[1]) {
                fprintf(errf, "accountguard analyze: unknown option %s\n", a);
                usage(errf);
                return 2;
            }
            first = i;
            break;
        }
        if (!val) {
            fprintf(errf, "accountguard analyze: %s needs a value\n", names[which]);
            return 2;
        }
        if (which == 0)
            format = val;
        else if (which == 2)
            weights = val;
        else if (nbrands < MAX_BRANDS)
            brands[nbrands++] = val;
    }
    if (strcmp(format, "tsv") && strcmp(format, "json")) {
        fprintf(errf, "accountguard analyze: --format must be tsv or json\n");
        return 2;
    }
    if (first >= argc) {
        usage(errf);
        return 2;
    }
    struct ag_phish_options opt = {.brands = brands, .nbrands = nbrands,
                                   .brands_add_defaults = !brands_only, .weights_file = weights};
    struct ag_err err = {0};
    struct ag_phish_analyzer *an;
    if (ag_phish_analyzer_new(&opt, &an, &err)) {
        fprintf(errf, "accountguard analyze: %s\n", err.msg);
        return 2;
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
        const char *path = argv[i];
        char *buf;
        size_t len;
        if (read_all(path, &buf, &len)) {
            fprintf(errf, "accountguard analyze: cannot read %s\n", path);
            status = 1;
            continue;
        }
        struct ag_phish_result *r = NULL;
        int rc;
        if (all_sms || ends_with(path, ".txt")) {
            const char *sender, *text;
            rc = ag_phish_sms_file_parse(buf, &sender, &text)
                     ? ag_err_set(&err, AG_EINVAL, "invalid_message", "", "empty SMS")
                     : ag_phish_analyze_sms(an, sender, text, &r, &err);
        } else {
            rc = ag_phish_analyze_email(an, buf, len, &r, &err);
        }
        free(buf);
        if (rc) {
            fprintf(errf, "accountguard analyze: %s: %s\n", path, err.msg);
            status = 1;
            continue;
        }
        if (!strcmp(format, "tsv")) {
            fprintf(out, "%s\t%s\t%.4f\n", path, ag_phish_verdict_name(r->verdict), r->score);
        } else {
            json_t *j = ag_phish_result_json(r);
            char *s = NULL;
            if (j && !json_object_set_new(j, "path", json_string(path)))
                s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
            if (s)
                fprintf(out, "%s\n", s);
            else
                status = 1;
            free(s);
            json_decref(j);
        }
        ag_phish_result_free(r);
    }
    ag_phish_analyzer_free(an);
    return status;
}

int ag_phish_cli_train(int argc, char **argv, FILE *out, FILE *errf)
{
    struct ag_phish_train_opts o = {.corpora = "../shared/corpora",
                                    .out_json = "src/phish/phish_weights.json",
                                    .version = "phish-dev", .log = out};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fprintf(out, "usage: accountguard train-phish [--corpora DIR] [--out FILE.json] "
                         "[--inc FILE.inc] [--version V]\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(errf, "accountguard train-phish: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--corpora"))
            o.corpora = argv[++i];
        else if (!strcmp(a, "--out"))
            o.out_json = argv[++i];
        else if (!strcmp(a, "--inc"))
            o.out_inc = argv[++i];
        else if (!strcmp(a, "--version"))
            o.version = argv[++i];
        else {
            fprintf(errf, "accountguard train-phish: unknown option %s\n", a);
            return 2;
        }
    }
    struct ag_err err = {0};
    if (ag_phish_train(&o, &err)) {
        fprintf(errf, "accountguard train-phish: %s\n", err.msg);
        return 1;
    }
    return 0;
}
