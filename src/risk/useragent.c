/* uap-core user-agent parser: YAML (libyaml document API) -> three ordered
 * lists of PCRE2 patterns, JIT-compiled; the first pattern of each list that
 * matches decides that part, with uap's "$N" replacement rules.
 *
 * Per-thread state: PCRE2 match data and a JIT stack live in thread-local
 * storage (a pthread key frees them when the thread exits), so concurrent
 * parses share only the read-only compiled patterns and the locked cache. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "risk/useragent.h"

#include "risk/bigmem.h"
#include "risk/rhash.h"

#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define NSHARDS 64
#define WAYS 4
#define NREPL 4

enum { L_UA, L_OS, L_DEV, NLISTS };

struct rule {
    pcre2_code *re;
    char *repl[NREPL];
};

struct rlist {
    struct rule *v;
    int n, cap;
};

struct cache_ent {
    uint64_t h;
    uint32_t stamp; /* 0: empty */
    uint32_t len;
    struct ag_uainfo info;
};

struct shard {
    pthread_spinlock_t lock; /* held to copy one entry */
    uint32_t clock;
    uint64_t hits, misses;
} __attribute__((aligned(64)));

struct ag_useragent {
    struct rlist lists[NLISTS];
    int failed;
    size_t nsets;
    struct cache_ent *sets;
    struct shard shards[NSHARDS];
};

/* --- per-thread match state --------------------------------------------- */

struct tls {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p)
{
    struct tls *t = p;
    if (!t)
        return;
    pcre2_match_data_free(t->md);
    pcre2_match_context_free(t->mc);
    pcre2_jit_stack_free(t->js);
    free(t);
}

static void tls_init(void) { pthread_key_create(&tls_key, tls_free); }

static struct tls *tls_get(void)
{
    pthread_once(&tls_once, tls_init);
    struct tls *t = pthread_getspecific(tls_key);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->md = pcre2_match_data_create(20, NULL);
    t->mc = pcre2_match_context_create(NULL);
    t->js = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (!t->md || !t->mc) {
        tls_free(t);
        return NULL;
    }
    if (t->js)
        pcre2_jit_stack_assign(t->mc, NULL, t->js);
    pthread_setspecific(tls_key, t);
    return t;
}

/* --- loading ------------------------------------------------------------ */

static const char *const repl_keys[NLISTS][NREPL] = {
    {"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement"},
    {"os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement"},
    {"device_replacement", "brand_replacement", "model_replacement", NULL},
};

static const char *scalar(yaml_document_t *doc, yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n->data.scalar.value;
}

static int add_rule(struct ag_useragent *ua, int list, yaml_document_t *doc, yaml_node_t *m,
                    struct ag_err *err, const char *path)
{
    const char *re = NULL, *flag = NULL;
    const char *repl[NREPL] = {0};
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
        const char *v = scalar(doc, yaml_document_get_node(doc, p->value));
        if (!k || !v)
            continue;
        if (!strcmp(k, "regex"))
            re = v;
        else if (!strcmp(k, "regex_flag"))
            flag = v;
        else
            for (int i = 0; i < NREPL; i++)
                if (repl_keys[list][i] && !strcmp(k, repl_keys[list][i]))
                    repl[i] = v;
    }
    if (!re)
        return ag_err_set(err, AG_EINVAL, "uap_regexes", "uap_regexes",
                          "%s: line %lu: a parser without a regex", path,
                          (unsigned long)m->start_mark.line + 1);
    struct rlist *l = &ua->lists[list];
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 256;
        struct rule *nv = realloc(l->v, (size_t)ncap * sizeof *nv);
        if (!nv)
            return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
        l->v = nv;
        l->cap = ncap;
    }
    int ec;
    PCRE2_SIZE eo;
    uint32_t opts = (flag && strchr(flag, 'i')) ? PCRE2_CASELESS : 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (!code) {
        ua->failed++; /* a pattern PCRE2 rejects is skipped, and counted */
        return 0;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    struct rule *r = &l->v[l->n];
    memset(r, 0, sizeof *r);
    r->re = code;
    for (int i = 0; i < NREPL; i++)
        if (repl[i] && !(r->repl[i] = strdup(repl[i])))
            return pcre2_code_free(code), ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    l->n++;
    return 0;
}

int ag_useragent_open(const char *yaml_path, size_t cache_entries, struct ag_useragent **out,
                      struct ag_err *err)
{
    *out = NULL;
    struct ag_useragent *ua = calloc(1, sizeof *ua);
    if (!ua)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    for (int i = 0; i < NSHARDS; i++)
        pthread_spin_init(&ua->shards[i].lock, PTHREAD_PROCESS_PRIVATE);
    if (!cache_entries)
        cache_entries = 8192;
    size_t nsets = 16;
    while (nsets * WAYS < cache_entries)
        nsets <<= 1;
    ua->nsets = nsets;
    ua->sets = ag_risk_big_calloc(nsets * WAYS * sizeof *ua->sets);
    if (!ua->sets) {
        ag_useragent_close(ua);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    FILE *f = fopen(yaml_path, "rb");
    if (!f) {
        ag_useragent_close(ua);
        return ag_err_set(err, AG_EIO, "uap_open", "uap_regexes", "cannot open %s", yaml_path);
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = ag_err_set(err, AG_EINVAL, "uap_regexes", "uap_regexes", "%s: line %lu: %s",
                        yaml_path, (unsigned long)parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "YAML error");
        yaml_parser_delete(&parser);
        fclose(f);
        ag_useragent_close(ua);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = ag_err_set(err, AG_EINVAL, "uap_regexes", "uap_regexes",
                        "%s: not a mapping of parser lists", yaml_path);
    } else {
        static const char *const keys[NLISTS] = {"user_agent_parsers", "os_parsers",
                                                 "device_parsers"};
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             !rc && p < root->data.mapping.pairs.top; p++) {
            const char *k = scalar(&doc, yaml_document_get_node(&doc, p->key));
            yaml_node_t *v = yaml_document_get_node(&doc, p->value);
            int list = -1;
            for (int i = 0; k && i < NLISTS; i++)
                if (!strcmp(k, keys[i]))
                    list = i;
            if (list < 0 || !v || v->type != YAML_SEQUENCE_NODE)
                continue;
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 !rc && it < v->data.sequence.items.top; it++) {
                yaml_node_t *m = yaml_document_get_node(&doc, *it);
                if (m && m->type == YAML_MAPPING_NODE)
                    rc = add_rule(ua, list, &doc, m, err, yaml_path);
            }
        }
        if (!rc && !ua->lists[L_UA].n)
            rc = ag_err_set(err, AG_EINVAL, "uap_regexes", "uap_regexes",
                            "%s: no user_agent_parsers", yaml_path);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc) {
        ag_useragent_close(ua);
        return rc;
    }
    *out = ua;
    return 0;
}

void ag_useragent_close(struct ag_useragent *ua)
{
    if (!ua)
        return;
    for (int l = 0; l < NLISTS; l++) {
        for (int i = 0; i < ua->lists[l].n; i++) {
            pcre2_code_free(ua->lists[l].v[i].re);
            for (int j = 0; j < NREPL; j++)
                free(ua->lists[l].v[i].repl[j]);
        }
        free(ua->lists[l].v);
    }
    for (int i = 0; i < NSHARDS; i++)
        pthread_spin_destroy(&ua->shards[i].lock);
    free(ua->sets);
    free(ua);
}

/* --- matching ----------------------------------------------------------- */

static void copy_trim(char *dst, size_t cap, const char *src, size_t n)
{
    while (n && isspace((unsigned char)*src))
        src++, n--;
    while (n && isspace((unsigned char)src[n - 1]))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Group <g> of the last match into <dst> ("" if unset or absent). */
static void group(const char *s, PCRE2_SIZE *ov, int rc, int g, char *dst, size_t cap)
{
    dst[0] = 0;
    if (g >= rc || ov[2 * g] == PCRE2_UNSET)
        return;
    copy_trim(dst, cap, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

/* uap's replacement: the template with "$N" replaced by group N; without a
 * template, group <defg> (0: none). */
static void field(const char *s, PCRE2_SIZE *ov, int rc, const char *tmpl, int defg, char *dst,
                  size_t cap)
{
    if (!tmpl) {
        if (defg)
            group(s, ov, rc, defg, dst, cap);
        else
            dst[0] = 0;
        return;
    }
    char buf[256];
    size_t n = 0;
    for (const char *t = tmpl; *t && n < sizeof buf - 1; t++) {
        if (t[0] == '$' && t[1] >= '1' && t[1] <= '9') {
            char g[128];
            group(s, ov, rc, t[1] - '0', g, sizeof g);
            for (const char *c = g; *c && n < sizeof buf - 1; c++)
                buf[n++] = *c;
            t++;
        } else {
            buf[n++] = *t;
        }
    }
    copy_trim(dst, cap, buf, n);
}

/* Index of the first rule of <l> matching <s>, with the match's group count
 * in *rc; -1 if none. */
static int first_match(const struct rlist *l, const char *s, size_t len, struct tls *t, int *rc)
{
    for (int i = 0; i < l->n; i++) {
        *rc = pcre2_match(l->v[i].re, (PCRE2_SPTR)s, len, 0, 0, t->md, t->mc);
        if (*rc > 0)
            return i;
        if (*rc == 0) { /* ovector too small: use what fits */
            *rc = (int)pcre2_get_ovector_count(t->md);
            return i;
        }
    }
    return -1;
}

static bool icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return false;
}

static enum ag_device_type classify(const char *s, const struct ag_uainfo *u)
{
    static const char *const bot_words[] = {
        "bot",       "crawl",          "spider",        "slurp",      "curl/",      "wget/",
        "python-",   "go-http-client", "java/",         "libwww",     "httpclient", "okhttp/3.",
        "headless",  "phantomjs",      "scrapy",        "axios/",     "node-fetch", "aiohttp",
    };
    if (!strcmp(u->device, "Spider"))
        return AG_DEVICE_BOT;
    for (size_t i = 0; i < sizeof bot_words / sizeof bot_words[0]; i++)
        if (icontains(s, bot_words[i]) || icontains(u->browser, bot_words[i]))
            return AG_DEVICE_BOT;
    bool android = !strncmp(u->os, "Android", 7);
    if (!strcmp(u->device, "iPad") || icontains(u->device, "tablet") || icontains(s, "tablet") ||
        icontains(s, "kindle") || icontains(s, "silk/") || (android && !strstr(s, "Mobile")))
        return AG_DEVICE_TABLET;
    if (!strcmp(u->device, "iPhone") || !strcmp(u->device, "iPod") || !strcmp(u->os, "iOS") ||
        android || !strncmp(u->os, "Windows Phone", 13) || strstr(s, "Mobile") ||
        strstr(s, "Mobi"))
        return AG_DEVICE_MOBILE;
    static const char *const desktop_os[] = {"Windows", "Mac OS X", "Mac OS", "Linux",
                                             "Ubuntu",  "Fedora",   "Debian", "Chrome OS",
                                             "FreeBSD", "OpenBSD",  "NetBSD", "Solaris",
                                             "macOS",   "Mint",     "Arch Linux", "SUSE"};
    for (size_t i = 0; i < sizeof desktop_os / sizeof desktop_os[0]; i++)
        if (!strncmp(u->os, desktop_os[i], strlen(desktop_os[i])))
            return AG_DEVICE_DESKTOP;
    return AG_DEVICE_OTHER;
}

static void parse_uncached(struct ag_useragent *ua, const char *s, size_t len,
                           struct ag_uainfo *out)
{
    memset(out, 0, sizeof *out);
    strcpy(out->browser, "Other");
    strcpy(out->os, "Other");
    strcpy(out->device, "Other");
    struct tls *t = len ? tls_get() : NULL;
    if (!t) {
        out->device_type = AG_DEVICE_OTHER;
        return;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
    int rc = 0;
    int i = first_match(&ua->lists[L_UA], s, len, t, &rc);
    if (i >= 0) {
        const struct rule *r = &ua->lists[L_UA].v[i];
        field(s, ov, rc, r->repl[0], 1, out->browser, sizeof out->browser);
        field(s, ov, rc, r->repl[1], 2, out->browser_major, sizeof out->browser_major);
        field(s, ov, rc, r->repl[2], 3, out->browser_minor, sizeof out->browser_minor);
        if (!out->browser[0])
            strcpy(out->browser, "Other");
    }
    i = first_match(&ua->lists[L_OS], s, len, t, &rc);
    if (i >= 0) {
        const struct rule *r = &ua->lists[L_OS].v[i];
        field(s, ov, rc, r->repl[0], 1, out->os, sizeof out->os);
        field(s, ov, rc, r->repl[1], 2, out->os_major, sizeof out->os_major);
        field(s, ov, rc, r->repl[2], 3, out->os_minor, sizeof out->os_minor);
        if (!out->os[0])
            strcpy(out->os, "Other");
    }
    i = first_match(&ua->lists[L_DEV], s, len, t, &rc);
    if (i >= 0) {
        const struct rule *r = &ua->lists[L_DEV].v[i];
        field(s, ov, rc, r->repl[0], 1, out->device, sizeof out->device);
        if (!out->device[0])
            strcpy(out->device, "Other");
    }
    out->device_type = classify(s, out);
}

void ag_useragent_parse(struct ag_useragent *ua, const char *s, struct ag_uainfo *out)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    uint64_t h = ag_rh_bytes(s, len, 0x75a9e11ULL);
    size_t set = (size_t)h & (ua->nsets - 1);
    struct shard *sh = &ua->shards[set % NSHARDS];
    struct cache_ent *ways = &ua->sets[set * WAYS];
    pthread_spin_lock(&sh->lock);
    for (int w = 0; w < WAYS; w++) {
        if (ways[w].stamp && ways[w].h == h && ways[w].len == (uint32_t)len) {
            ways[w].stamp = ++sh->clock ? sh->clock : (sh->clock = 1);
            *out = ways[w].info;
            sh->hits++;
            pthread_spin_unlock(&sh->lock);
            return;
        }
    }
    sh->misses++;
    pthread_spin_unlock(&sh->lock);
    parse_uncached(ua, s, len, out);
    pthread_spin_lock(&sh->lock);
    int victim = 0;
    for (int w = 1; w < WAYS; w++)
        if (ways[w].stamp < ways[victim].stamp)
            victim = w;
    ways[victim].h = h;
    ways[victim].len = (uint32_t)len;
    ways[victim].info = *out;
    ways[victim].stamp = ++sh->clock ? sh->clock : (sh->clock = 1);
    pthread_spin_unlock(&sh->lock);
}

void ag_useragent_counts(const struct ag_useragent *ua, int *n_ua, int *n_os, int *n_dev,
                         int *n_failed)
{
    if (n_ua)
        *n_ua = ua->lists[L_UA].n;
    if (n_os)
        *n_os = ua->lists[L_OS].n;
    if (n_dev)
        *n_dev = ua->lists[L_DEV].n;
    if (n_failed)
        *n_failed = ua->failed;
}

void ag_useragent_stats(struct ag_useragent *ua, uint64_t *hits, uint64_t *misses, size_t *bytes)
{
    uint64_t h = 0, m = 0;
    for (int i = 0; i < NSHARDS; i++) {
        pthread_spin_lock(&ua->shards[i].lock);
        h += ua->shards[i].hits;
        m += ua->shards[i].misses;
        pthread_spin_unlock(&ua->shards[i].lock);
    }
    if (hits)
        *hits = h;
    if (misses)
        *misses = m;
    if (bytes)
        *bytes = sizeof *ua + ua->nsets * WAYS * sizeof(struct cache_ent);
}

static const char *const dev_names[AG_DEVICE_TYPE_COUNT] = {"other", "desktop", "mobile",
                                                            "tablet", "bot"};

const char *ag_device_type_name(enum ag_device_type t)
{
    return (unsigned)t < AG_DEVICE_TYPE_COUNT ? dev_names[t] : "other";
}

enum ag_device_type ag_device_type_parse(const char *s)
{
    for (int i = 1; s && i < AG_DEVICE_TYPE_COUNT; i++)
        if (!strcasecmp(s, dev_names[i]))
            return (enum ag_device_type)i;
    return AG_DEVICE_OTHER;
}
