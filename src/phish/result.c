/* The analysis result: its arena (every string of a result is freed in one
 * go), the signal and indicator recorders used while scanning, and the JSON
 * rendering. */
#include "phish/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

#define ARENA_BLOCK 8192

void *ag_phish_arena_alloc(struct ag_phish_result *r, size_t n)
{
    struct ag_phish_result_priv *p = r->priv;
    n = (n + 15) & ~(size_t)15;
    struct arena_block *b = p->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = p->head;
        p->head = b;
    }
    void *m = b->data + b->used;
    b->used += n;
    return m;
}

char *ag_phish_arena_strndup(struct ag_phish_result *r, const char *s, size_t n)
{
    char *d = ag_phish_arena_alloc(r, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ag_phish_arena_strdup(struct ag_phish_result *r, const char *s)
{
    return s ? ag_phish_arena_strndup(r, s, strlen(s)) : NULL;
}

static char *arena_vprintf(struct ag_phish_result *r, const char *fmt, va_list ap)
{
    char small[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof small)
        return ag_phish_arena_strndup(r, small, (size_t)n);
    char *d = ag_phish_arena_alloc(r, (size_t)n + 1);
    if (d)
        vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *ag_phish_arena_printf(struct ag_phish_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vprintf(r, fmt, ap);
    va_end(ap);
    return s;
}

struct ag_phish_result *ag_phish_result_new(void)
{
    struct ag_phish_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->priv = calloc(1, sizeof *r->priv);
    if (!r->priv) {
        free(r);
        return NULL;
    }
    return r;
}

void ag_phish_result_free(struct ag_phish_result *r)
{
    if (!r)
        return;
    if (r->priv) {
        struct arena_block *b = r->priv->head;
        while (b) {
            struct arena_block *n = b->next;
            free(b);
            b = n;
        }
        free(r->priv);
        r->priv = NULL;
    }
    free(r);
}

void ag_phish_fire(struct ag_phish_ctx *c, enum ag_phish_sig sig, const char *source,
                   const char *fmt, ...)
{
    if (c->fired[sig])
        return;
    c->fired[sig] = true;
    c->src[sig] = source;
    va_list ap;
    va_start(ap, fmt);
    c->ev[sig] = arena_vprintf(c->r, fmt, ap);
    va_end(ap);
    if (!c->ev[sig])
        c->oom = true;
}

void ag_phish_indicator_add(struct ag_phish_ctx *c, enum ag_phish_ind_type t, const char *value,
                            size_t len, const char *context)
{
    if (!len || c->ninds >= AG_PHISH_MAX_INDICATORS)
        return;
    if (len > 2048)
        len = 2048;
    for (size_t i = 0; i < c->ninds; i++)
        if (c->inds[i].type == t && strlen(c->inds[i].value) == len &&
            !memcmp(c->inds[i].value, value, len))
            return;
    if (c->ninds == c->capinds) {
        size_t cap = c->capinds ? c->capinds * 2 : 16;
        struct ag_phish_indicator *n = ag_phish_arena_alloc(c->r, cap * sizeof *n);
        if (!n) {
            c->oom = true;
            return;
        }
        if (c->ninds)
            memcpy(n, c->inds, c->ninds * sizeof *n);
        c->inds = n;
        c->capinds = cap;
    }
    char *v = ag_phish_arena_strndup(c->r, value, len);
    if (!v) {
        c->oom = true;
        return;
    }
    c->inds[c->ninds++] = (struct ag_phish_indicator){t, v, context};
}

/* Length of the valid UTF-8 sequence at <p> (at most <n> bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t k = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
             : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!k || k > n || (k == 2 && p[0] < 0xc2) || (k == 4 && p[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (k == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
        return 0;
    if (k == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
        return 0;
    return k;
}

/* Append <s> as valid UTF-8 (invalid bytes become '?', NULs spaces), so the
 * UTF-mode cue patterns can run without a validity check. */
void ag_phish_text_add(struct ag_phish_ctx *c, const char *s, size_t n)
{
    if (c->text.len >= AG_PHISH_TEXT_CAP)
        return;
    if (c->text.len + n > AG_PHISH_TEXT_CAP)
        n = AG_PHISH_TEXT_CAP - c->text.len;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        size_t k;
        while (run < n && p[run] && (k = utf8_seq(p + run, n - run)))
            run += k;
        if (run > i && ag_buf_append(&c->text, s + i, run - i)) {
            c->oom = true;
            return;
        }
        if (run < n) {
            if (ag_buf_append(&c->text, p[run] ? "?" : " ", 1)) {
                c->oom = true;
                return;
            }
            run++;
        }
        i = run;
    }
    if (ag_buf_append(&c->text, "\n", 1))
        c->oom = true;
}

const char *ag_phish_verdict_name(enum ag_phish_verdict v)
{
    switch (v) {
    case AG_PHISH_PHISHING:
        return "phishing";
    case AG_PHISH_SUSPICIOUS:
        return "suspicious";
    default:
        return "legit";
    }
}

const char *ag_phish_ind_type_name(enum ag_phish_ind_type t)
{
    static const char *const names[] = {"url", "domain", "phone", "email", "ip"};
    return (unsigned)t < AG_ARRAY_LEN(names) ? names[t] : "unknown";
}

static int set_new(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

json_t *ag_phish_result_json(const struct ag_phish_result *r)
{
    json_t *o = json_object();
    json_t *reasons = json_array();
    json_t *ind = json_object();
    if (!o || !reasons || !ind)
        goto fail;
    /* The score is rounded so that equal inputs print equal JSON. */
    double score = (double)(long long)(r->score * 10000.0 + 0.5) / 10000.0;
    int rc = set_new(o, "kind", json_string(r->kind == AG_PHISH_SMS ? "sms" : "email"));
    rc |= set_new(o, "verdict", json_string(ag_phish_verdict_name(r->verdict)));
    rc |= set_new(o, "score", json_real(score));
    rc |= set_new(o, "model_version", json_string(r->model_version ? r->model_version : ""));
    if (r->subject)
        rc |= set_new(o, "subject", json_string(r->subject));
    if (r->from)
        rc |= set_new(o, "from", json_string(r->from));
    for (size_t i = 0; i < r->nreasons; i++) {
        const struct ag_phish_reason *x = &r->reasons[i];
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:f}", "code", x->code, "title", x->title,
                              "source", x->source ? x->source : "", "evidence",
                              x->evidence ? x->evidence : "", "weight",
                              (double)(long long)(x->weight * 1000.0 + 0.5) / 1000.0);
        if (!j || json_array_append_new(reasons, j))
            goto fail_rc;
    }
    static const char *const groups[] = {"urls", "domains", "phones", "emails", "ips"};
    for (size_t g = 0; g < AG_ARRAY_LEN(groups); g++) {
        json_t *arr = json_array();
        if (!arr || json_object_set_new(ind, groups[g], arr))
            goto fail_rc;
        for (size_t i = 0; i < r->nindicators; i++) {
            const struct ag_phish_indicator *x = &r->indicators[i];
            if ((size_t)x->type != g)
                continue;
            json_t *j = json_pack("{s:s, s:s}", "value", x->value, "context",
                                  x->context ? x->context : "");
            if (!j || json_array_append_new(arr, j))
                goto fail_rc;
        }
    }
    rc |= json_object_set_new(o, "reasons", reasons);
    reasons = NULL;
    rc |= json_object_set_new(o, "indicators", ind);
    ind = NULL;
    if (rc)
        goto fail;
    return o;
fail_rc:
fail:
    json_decref(o);
    json_decref(reasons);
    json_decref(ind);
    return NULL;
}
