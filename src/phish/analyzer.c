/* The analyzer: builds the shared read-only state (brands, public suffix
 * list, spoof checker, regexes, weights), runs the scanners over one
 * message, and turns the fired signals into a score, a verdict and the
 * reasons. */
#include "phish/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uspoof.h>

const struct ag_phish_sig_def ag_phish_sigs[AG_PHISH_NSIG] = {
#define AG_PHISH_SIG_ROW(id, code, title, scope) [AG_PHISH_SIG_##id] = {code, title, #scope[0]},
    AG_PHISH_SIGNALS(AG_PHISH_SIG_ROW)
#undef AG_PHISH_SIG_ROW
};

int ag_phish_sig_find(const char *code)
{
    for (int i = 0; i < AG_PHISH_NSIG; i++)
        if (!strcmp(ag_phish_sigs[i].code, code))
            return i;
    return -1;
}

static int read_file(const char *path, char **out, size_t *len, struct ag_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ag_err_set(err, AG_EINVAL, "invalid_weights", "weights_file", "cannot open %s: %s",
                          path, strerror(errno));
    struct ag_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ag_buf_append(&b, chunk, n)) {
            fclose(f);
            ag_buf_free(&b);
            return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
        }
    fclose(f);
    *out = b.data ? b.data : strdup("");
    *len = b.len;
    return *out ? 0 : ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
}

int ag_phish_analyzer_new(const struct ag_phish_options *opt, struct ag_phish_analyzer **out,
                          struct ag_err *err)
{
    *out = NULL;
    ag_phish_mime_init();
    struct ag_phish_analyzer *a = calloc(1, sizeof *a);
    if (!a)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    int rc = ag_phish_domains_init(a, opt, err);
    if (!rc)
        rc = ag_phish_cues_init(a, err);
    if (!rc) {
        if (opt && opt->weights_file) {
            char *buf;
            size_t len;
            rc = read_file(opt->weights_file, &buf, &len, err);
            if (!rc) {
                rc = ag_phish_weights_parse(a, buf, len, err);
                free(buf);
            }
        } else {
            rc = ag_phish_weights_parse(a, ag_phish_weights_builtin,
                                        strlen(ag_phish_weights_builtin), err);
        }
    }
    if (rc) {
        ag_phish_analyzer_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void ag_phish_analyzer_free(struct ag_phish_analyzer *a)
{
    if (!a)
        return;
    ag_phish_domains_free(a);
    pcre2_code_free(a->cue_email);
    pcre2_code_free(a->cue_sms);
    pcre2_code_free(a->cue_money);
    pcre2_code_free(a->re_url);
    pcre2_code_free(a->re_email);
    pcre2_code_free(a->re_phone);
    pcre2_code_free(a->re_brand);
    pcre2_code_free(a->re_bare);
    free(a);
}

const char *ag_phish_analyzer_model_version(const struct ag_phish_analyzer *a)
{
    return a->model_version;
}

/* Brand named near the top of the text (subject, greeting, first lines)
 * whose domains neither the sender nor any link belongs to. */
static void check_brand_offsite(struct ag_phish_ctx *c, bool sms)
{
    const struct ag_phish_analyzer *a = c->a;
    if (!c->text.len || !c->nlinks)
        return;
    size_t n = c->text.len < 3000 ? c->text.len : 3000;
    /* Do not cut a UTF-8 sequence. */
    while (n < c->text.len && ((unsigned char)c->text.data[n] & 0xc0) == 0x80)
        n--;
    char *low = ag_phish_lower_copy(c->text.data, n);
    if (!low) {
        c->oom = true;
        return;
    }
    size_t off = 0, m;
    while (off < n && ag_phish_re_find(a->re_brand, low, n, off, &off, &m)) {
        char flat[64];
        size_t k = 0;
        for (size_t i = 0; i < m && k + 1 < sizeof flat; i++) {
            unsigned char ch = (unsigned char)low[off + i];
            if (ch < 0x80 && ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
                flat[k++] = (char)(ch | 0x20);
            else if (ch >= '0' && ch <= '9')
                flat[k++] = (char)ch;
        }
        flat[k] = '\0';
        off += m ? m : 1;
        int b = -1;
        for (size_t i = 0; i < a->nbrands && b < 0; i++)
            if (!strcmp(a->brands[i].key, flat) || !strcmp(a->brands[i].label, flat))
                b = (int)i;
        if (b < 0)
            b = ag_phish_brand_in_name(a, flat);
        if (b < 0)
            continue;
        const char *key = a->brands[b].key;
        if (c->from_brand >= 0 && !strcmp(a->brands[c->from_brand].key, key))
            break; /* the brand's own mail */
        bool linked = false;
        for (size_t i = 0; i < c->nlinks && !linked; i++) {
            int o = ag_phish_brand_owner(a, c->links[i].reg);
            linked = o >= 0 && !strcmp(a->brands[o].key, key);
        }
        if (linked)
            continue;
        ag_phish_fire(c, AG_PHISH_SIG_BRAND_UNLINKED, sms ? "sms" : "body",
                      "names %s, links go to %s", a->brands[b].domain,
                      c->links[0].reg ? c->links[0].reg
                                      : c->links[0].host ? c->links[0].host : c->links[0].url);
        if (sms && (c->fired[AG_PHISH_SIG_CUE_URGENCY] || c->fired[AG_PHISH_SIG_CUE_THREAT] ||
                    c->fired[AG_PHISH_SIG_CUE_CREDENTIAL] || c->fired[AG_PHISH_SIG_CUE_PAYMENT] ||
                    c->fired[AG_PHISH_SIG_CUE_CLICK] || c->fired[AG_PHISH_SIG_CUE_OTP]))
            ag_phish_fire(c, AG_PHISH_SIG_SMS_BRAND_LINK_URGENCY, "sms",
                          "names %s, links to %s and presses to act", a->brands[b].domain,
                          c->links[0].url);
        break;
    }
    free(low);
}

static void ctx_init(struct ag_phish_ctx *c, const struct ag_phish_analyzer *a,
                     struct ag_phish_result *r)
{
    memset(c, 0, sizeof *c);
    c->a = a;
    c->r = r;
    c->from_brand = -1;
}

void ag_phish_ctx_features(const struct ag_phish_ctx *c, double *x)
{
    for (int i = 0; i < AG_PHISH_NSIG; i++)
        x[i] = c->fired[i] ? 1.0 : 0.0;
}

static int run_email(struct ag_phish_ctx *c, const char *raw, size_t len, struct ag_err *err)
{
    int rc = ag_phish_email_scan(c, raw, len, err);
    if (rc)
        return rc;
    ag_phish_cues_scan(c, false);
    check_brand_offsite(c, false);
    ag_phish_links_finish(c, false);
    return c->oom ? ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory") : 0;
}

static int run_sms(struct ag_phish_ctx *c, const char *sender, const char *text,
                   struct ag_err *err)
{
    ag_phish_sms_scan(c, sender, text);
    ag_phish_cues_scan(c, true);
    check_brand_offsite(c, true);
    ag_phish_links_finish(c, true);
    return c->oom ? ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory") : 0;
}

static int cmp_reason(const void *x, const void *y)
{
    const struct ag_phish_reason *p = x, *q = y;
    if (p->weight != q->weight)
        return p->weight < q->weight ? 1 : -1;
    return strcmp(p->code, q->code);
}

static int finish(struct ag_phish_ctx *c, const struct ag_phish_model *m, struct ag_err *err)
{
    struct ag_phish_result *r = c->r;
    double z = m->bias;
    size_t nfired = 0;
    for (int i = 0; i < AG_PHISH_NSIG; i++)
        if (c->fired[i]) {
            z += m->w[i];
            nfired++;
        }
    r->score = 1.0 / (1.0 + exp(-z));
    r->verdict = r->score >= m->t_phish  ? AG_PHISH_PHISHING
                 : r->score >= m->t_susp ? AG_PHISH_SUSPICIOUS
                                         : AG_PHISH_LEGIT;
    r->model_version = c->a->model_version;
    r->reasons = nfired ? ag_phish_arena_alloc(r, nfired * sizeof *r->reasons) : NULL;
    if (nfired && !r->reasons)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    for (int i = 0; i < AG_PHISH_NSIG; i++)
        if (c->fired[i])
            r->reasons[r->nreasons++] = (struct ag_phish_reason){
                ag_phish_sigs[i].code, ag_phish_sigs[i].title, c->src[i], c->ev[i], m->w[i]};
    if (r->nreasons > 1)
        qsort(r->reasons, r->nreasons, sizeof *r->reasons, cmp_reason);
    r->indicators = c->inds;
    r->nindicators = c->ninds;
    return 0;
}

int ag_phish_analyze_email(const struct ag_phish_analyzer *a, const char *raw, size_t len,
                           struct ag_phish_result **out, struct ag_err *err)
{
    *out = NULL;
    if (!raw || !len)
        return ag_err_set(err, AG_EINVAL, "invalid_message", "message", "empty message");
    if (len > AG_PHISH_MAX_EMAIL)
        return ag_err_set(err, AG_ELIMIT, "message_too_large", "message",
                          "message is larger than %u bytes", AG_PHISH_MAX_EMAIL);
    struct ag_phish_result *r = ag_phish_result_new();
    if (!r)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    r->kind = AG_PHISH_EMAIL;
    struct ag_phish_ctx c;
    ctx_init(&c, a, r);
    int rc = run_email(&c, raw, len, err);
    if (!rc)
        rc = finish(&c, &a->email, err);
    ag_buf_free(&c.text);
    if (rc) {
        ag_phish_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int ag_phish_analyze_sms(const struct ag_phish_analyzer *a, const char *sender, const char *text,
                         struct ag_phish_result **out, struct ag_err *err)
{
    *out = NULL;
    if (!text || !*text)
        return ag_err_set(err, AG_EINVAL, "invalid_message", "text", "empty text");
    if (strlen(text) > AG_PHISH_MAX_SMS)
        return ag_err_set(err, AG_ELIMIT, "message_too_large", "text",
                          "text is longer than %u bytes", AG_PHISH_MAX_SMS);
    if (sender && strlen(sender) > 256)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "sender", "sender is too long");
    struct ag_phish_result *r = ag_phish_result_new();
    if (!r)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    r->kind = AG_PHISH_SMS;
    struct ag_phish_ctx c;
    ctx_init(&c, a, r);
    int rc = run_sms(&c, sender, text, err);
    if (!rc)
        rc = finish(&c, &a->sms, err);
    ag_buf_free(&c.text);
    if (rc) {
        ag_phish_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int ag_phish_features_email(const struct ag_phish_analyzer *a, const char *raw, size_t len,
                            double *x, struct ag_err *err)
{
    struct ag_phish_result *r = ag_phish_result_new();
    if (!r)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    struct ag_phish_ctx c;
    ctx_init(&c, a, r);
    int rc = run_email(&c, raw, len, err);
    ag_phish_ctx_features(&c, x);
    ag_buf_free(&c.text);
    ag_phish_result_free(r);
    return rc;
}

int ag_phish_features_sms(const struct ag_phish_analyzer *a, const char *sender,
                          const char *text, double *x, struct ag_err *err)
{
    struct ag_phish_result *r = ag_phish_result_new();
    if (!r)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    struct ag_phish_ctx c;
    ctx_init(&c, a, r);
    int rc = run_sms(&c, sender, text, err);
    ag_phish_ctx_features(&c, x);
    ag_buf_free(&c.text);
    ag_phish_result_free(r);
    return rc;
}
