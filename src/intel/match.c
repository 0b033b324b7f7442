/* The immutable match set: a path-compressed binary trie for IP prefixes and
 * an open-addressing hash table for every other indicator type, over compact
 * entries whose strings live in one arena owned by the set (see match.h). */
#include "intel/match.h"

#include "core/util.h"
#include "intel/ip.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <idn2.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define SPEC_EXACT 1000u /* an exact value beats any suffix or prefix */

/* One indicator as the set keeps it (56 bytes). */
struct entry {
    int64_t valid_from, valid_until; /* valid_until: INT64_MAX when none */
    const char *value, *source;      /* in the arena */
    uint8_t uuid[16];
    uint32_t next;                   /* next entry with the same key */
    uint8_t type, confidence, tlp, informational;
};

struct node {
    uint64_t hi, lo;
    uint32_t child[2];
    uint32_t head; /* entries for exactly this prefix, or NONE */
    uint8_t len;
};

struct slot {
    uint64_t hash;
    uint32_t head; /* NONE: empty */
};

struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
};

/* IPv4 fast path: where the descent for each /16 continues, and the nodes
 * above it (prefixes of /16 or shorter) whose entries cover the whole /16.
 * It turns ~20 dependent cache misses per lookup into ~5. */
#define V4_BUCKET_LEN 112 /* 96 bits of ::ffff:0:0/96 + 16 */
struct jump {
    uint32_t start;     /* node to continue from, or NONE */
    uint32_t anc_first; /* into anc[] */
    uint32_t anc_count;
};

struct ag_intel_matchset {
    atomic_int refs;
    struct jump *jump; /* 65536 entries, NULL when there are no IP prefixes */
    uint32_t *anc;
    size_t nanc;
    struct entry *entries;
    size_t nentries;
    struct node *nodes;
    size_t nnodes, nodes_cap;
    uint32_t root;
    struct slot *slots;
    size_t slots_mask; /* capacity - 1 */
    uint64_t seed;
    struct chunk *arena;
    struct ag_intel_matchset_stats stats;
};

static const char *const field_names[AG_INTEL_FIELD_COUNT] = {
    "ip", "domain", "url", "email", "phone", "device_id", "financial",
};

const char *ag_intel_field_name(enum ag_intel_field f)
{
    return (unsigned)f < AG_INTEL_FIELD_COUNT ? field_names[f] : "unknown";
}

/* ---- arena --------------------------------------------------------------- */

static const char *arena_dup(struct ag_intel_matchset *ms, const char *s)
{
    size_t n = strlen(s) + 1;
    struct chunk *c = ms->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = ms->arena;
        c->used = 0;
        c->cap = cap;
        ms->arena = c;
        ms->stats.bytes += sizeof *c + cap;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    c->used += n;
    return p;
}

/* ---- keys ---------------------------------------------------------------- */

/* Word-at-a-time multiply/xor-shift hash with a per-set random seed, so
 * crafted feed values cannot aim at one probe sequence. Not cryptographic. */
static inline uint64_t key_hash(uint64_t seed, unsigned type, const char *s, size_t n)
{
    uint64_t h = seed ^ ((type + 1) * 0x9E3779B97F4A7C15ULL) ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

static inline unsigned bit_at(uint64_t hi, uint64_t lo, unsigned i)
{
    return i < 64 ? (unsigned)(hi >> (63 - i)) & 1u : (unsigned)(lo >> (127 - i)) & 1u;
}

static inline unsigned common_len(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
    uint64_t x = ah ^ bh;
    if (x)
        return (unsigned)__builtin_clzll(x);
    x = al ^ bl;
    if (x)
        return 64u + (unsigned)__builtin_clzll(x);
    return 128;
}

static void mask_to(uint64_t *hi, uint64_t *lo, unsigned len)
{
    if (len == 0) {
        *hi = *lo = 0;
    } else if (len < 64) {
        *hi &= ~0ULL << (64 - len);
        *lo = 0;
    } else if (len == 64) {
        *lo = 0;
    } else if (len < 128) {
        *lo &= ~0ULL << (128 - len);
    }
}

/* ---- build --------------------------------------------------------------- */

static uint32_t node_new(struct ag_intel_matchset *ms, uint64_t hi, uint64_t lo, unsigned len,
                         uint32_t head)
{
    struct node *n = &ms->nodes[ms->nnodes];
    n->hi = hi;
    n->lo = lo;
    n->len = (uint8_t)len;
    n->child[0] = n->child[1] = NONE;
    n->head = head;
    return (uint32_t)ms->nnodes++;
}

static int trie_insert(struct ag_intel_matchset *ms, const struct ag_intel_prefix *p, uint32_t ei)
{
    if (ms->nnodes + 2 > ms->nodes_cap) {
        size_t cap = ms->nodes_cap ? ms->nodes_cap * 2 : 1024;
        struct node *nn = realloc(ms->nodes, cap * sizeof *nn);
        if (!nn)
            return AG_ENOMEM;
        ms->nodes = nn;
        ms->nodes_cap = cap;
    }
    uint32_t parent = NONE;
    unsigned side = 0;
    uint32_t cur = ms->root;
    for (;;) {
        uint32_t made;
        if (cur == NONE) {
            made = node_new(ms, p->hi, p->lo, p->len, ei);
            ms->stats.ip_prefixes++;
            goto link;
        }
        struct node *n = &ms->nodes[cur];
        unsigned c = common_len(p->hi, p->lo, n->hi, n->lo);
        unsigned m = p->len < n->len ? p->len : n->len;
        if (c > m)
            c = m;
        if (c == n->len && n->len == p->len) {
            if (n->head == NONE)
                ms->stats.ip_prefixes++;
            ms->entries[ei].next = n->head;
            n->head = ei;
            return 0;
        }
        if (c == n->len) {
            parent = cur;
            side = bit_at(p->hi, p->lo, n->len);
            cur = n->child[side];
            continue;
        }
        uint64_t nh = n->hi, nl = n->lo;
        if (c == p->len) {
            made = node_new(ms, p->hi, p->lo, p->len, ei);
            ms->nodes[made].child[bit_at(nh, nl, p->len)] = cur;
            ms->stats.ip_prefixes++;
        } else {
            uint64_t gh = p->hi, gl = p->lo;
            mask_to(&gh, &gl, c);
            made = node_new(ms, gh, gl, c, NONE);
            uint32_t leaf = node_new(ms, p->hi, p->lo, p->len, ei);
            ms->nodes[made].child[bit_at(p->hi, p->lo, c)] = leaf;
            ms->nodes[made].child[bit_at(nh, nl, c)] = cur;
            ms->stats.ip_prefixes++;
        }
    link:
        if (parent == NONE)
            ms->root = made;
        else
            ms->nodes[parent].child[side] = made;
        return 0;
    }
}

static void table_insert(struct ag_intel_matchset *ms, uint32_t ei)
{
    struct entry *e = &ms->entries[ei];
    size_t n = strlen(e->value);
    uint64_t h = key_hash(ms->seed, e->type, e->value, n);
    for (size_t i = h & ms->slots_mask;; i = (i + 1) & ms->slots_mask) {
        struct slot *s = &ms->slots[i];
        if (s->head == NONE) {
            s->hash = h;
            s->head = ei;
            ms->stats.keys++;
            return;
        }
        const struct entry *o = &ms->entries[s->head];
        if (s->hash == h && o->type == e->type && strcmp(o->value, e->value) == 0) {
            e->next = s->head;
            s->head = ei;
            return;
        }
    }
}

/* Interned source names: few distinct values shared by many indicators. */
struct interner {
    const char **tab;
    size_t mask, used;
};

static const char *intern(struct ag_intel_matchset *ms, struct interner *in, const char *s)
{
    if (in->used * 2 >= in->mask + 1) {
        size_t cap = (in->mask + 1) * 2;
        const char **t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i <= in->mask; i++) {
            if (!in->tab[i])
                continue;
            size_t j = ag_hash_str(in->tab[i]) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = in->tab[i];
        }
        free(in->tab);
        in->tab = t;
        in->mask = cap - 1;
    }
    size_t j = ag_hash_str(s) & in->mask;
    while (in->tab[j]) {
        if (strcmp(in->tab[j], s) == 0)
            return in->tab[j];
        j = (j + 1) & in->mask;
    }
    const char *p = arena_dup(ms, s);
    if (p) {
        in->tab[j] = p;
        in->used++;
    }
    return p;
}

static int uuid_parse(const char *id, uint8_t out[16])
{
    const char *u = strstr(id, "--");
    if (!u || strlen(u + 2) != 36)
        return -1;
    u += 2;
    int k = 0;
    for (int i = 0; i < 36 && k < 32; i++) {
        if (u[i] == '-')
            continue;
        int v = isdigit((unsigned char)u[i])   ? u[i] - '0'
                : isxdigit((unsigned char)u[i]) ? (tolower((unsigned char)u[i]) - 'a' + 10)
                                                : -1;
        if (v < 0)
            return -1;
        if (k & 1)
            out[k / 2] = (uint8_t)(out[k / 2] | v);
        else
            out[k / 2] = (uint8_t)(v << 4);
        k++;
    }
    return k == 32 ? 0 : -1;
}

static int build_jump(struct ag_intel_matchset *ms)
{
    ms->jump = malloc(65536 * sizeof *ms->jump);
    size_t cap = 1024;
    ms->anc = malloc(cap * sizeof *ms->anc);
    if (!ms->jump || !ms->anc)
        return AG_ENOMEM;
    for (uint32_t b = 0; b < 65536; b++) {
        uint64_t hi = 0, lo = 0xffff00000000ULL | (uint64_t)b << 16;
        struct jump *j = &ms->jump[b];
        j->anc_first = (uint32_t)ms->nanc;
        j->anc_count = 0;
        j->start = NONE;
        uint32_t cur = ms->root;
        while (cur != NONE) {
            const struct node *nd = &ms->nodes[cur];
            unsigned want = nd->len < V4_BUCKET_LEN ? nd->len : V4_BUCKET_LEN;
            if (common_len(hi, lo, nd->hi, nd->lo) < want)
                break; /* nothing in this /16 below here */
            if (nd->len > V4_BUCKET_LEN || nd->len == V4_BUCKET_LEN) {
                j->start = cur; /* its entries (if /16) are visited by the descent */
                break;
            }
            if (nd->head != NONE) {
                if (ms->nanc == cap) {
                    cap *= 2;
                    uint32_t *a = realloc(ms->anc, cap * sizeof *a);
                    if (!a)
                        return AG_ENOMEM;
                    ms->anc = a;
                }
                ms->anc[ms->nanc++] = cur;
                j->anc_count++;
            }
            cur = nd->child[bit_at(hi, lo, nd->len)];
        }
    }
    return 0;
}

static void matchset_free(struct ag_intel_matchset *ms)
{
    if (!ms)
        return;
    free(ms->entries);
    free(ms->jump);
    free(ms->anc);
    free(ms->nodes);
    free(ms->slots);
    struct chunk *c = ms->arena;
    while (c) {
        struct chunk *nx = c->next;
        free(c);
        c = nx;
    }
    free(ms);
}

int ag_intel_matchset_build(const struct ag_intel_indicator *inds, size_t n, int64_t now_ms,
                            struct ag_intel_matchset **out, struct ag_err *err)
{
    *out = NULL;
    if (n >= (size_t)INT32_MAX)
        return ag_err_set(err, AG_ELIMIT, NULL, "", "too many indicators for one match set");
    struct ag_intel_matchset *ms = calloc(1, sizeof *ms);
    struct interner in = {0};
    if (!ms)
        goto oom;
    atomic_init(&ms->refs, 1);
    ms->root = NONE;
    randombytes_buf(&ms->seed, sizeof ms->seed);
    in.mask = 15;
    if (!(in.tab = calloc(16, sizeof *in.tab)))
        goto oom;
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++)
        if (inds[i].type != AG_INTEL_IPV4 && inds[i].type != AG_INTEL_IPV6)
            nkeys++;
    size_t cap = 16;
    while (cap < nkeys * 2)
        cap *= 2;
    ms->slots = malloc(cap * sizeof *ms->slots);
    ms->entries = malloc((n ? n : 1) * sizeof *ms->entries);
    if (!ms->slots || !ms->entries)
        goto oom;
    for (size_t i = 0; i < cap; i++)
        ms->slots[i].head = NONE;
    ms->slots_mask = cap - 1;

    for (size_t i = 0; i < n; i++) {
        const struct ag_intel_indicator *ind = &inds[i];
        if (ind->valid_until_ms != 0 && ind->valid_until_ms <= now_ms) {
            ms->stats.skipped_expired++;
            continue;
        }
        struct entry *e = &ms->entries[ms->nentries];
        struct ag_intel_prefix p;
        bool is_ip = ind->type == AG_INTEL_IPV4 || ind->type == AG_INTEL_IPV6;
        if (!ind->value || (unsigned)ind->type >= AG_INTEL_TYPE_COUNT ||
            uuid_parse(ind->id, e->uuid) != 0 ||
            (is_ip && ag_intel_prefix_parse(ind->value, &p) != 0)) {
            ms->stats.skipped_invalid++;
            continue;
        }
        e->valid_from = ind->valid_from_ms;
        e->valid_until = ind->valid_until_ms ? ind->valid_until_ms : INT64_MAX;
        e->type = (uint8_t)ind->type;
        e->confidence = (uint8_t)(ind->confidence < 0 ? 0 : ind->confidence > 100 ? 100
                                                                                   : ind->confidence);
        e->tlp = (uint8_t)ind->tlp;
        e->informational = ind->informational;
        e->next = NONE;
        e->value = arena_dup(ms, ind->value);
        e->source = intern(ms, &in, ind->source ? ind->source : "");
        if (!e->value || !e->source)
            goto oom;
        uint32_t ei = (uint32_t)ms->nentries++;
        if (is_ip) {
            if (trie_insert(ms, &p, ei))
                goto oom;
        } else {
            table_insert(ms, ei);
        }
    }
    free(in.tab);
    in.tab = NULL;
    if (ms->root != NONE && build_jump(ms))
        goto oom;
    ms->stats.indicators = ms->nentries;
    ms->stats.ip_nodes = ms->nnodes;
    ms->stats.bytes += sizeof *ms + n * sizeof *ms->entries + ms->nodes_cap * sizeof *ms->nodes +
                       cap * sizeof *ms->slots + (ms->jump ? 65536 * sizeof *ms->jump : 0) +
                       ms->nanc * sizeof *ms->anc;
    *out = ms;
    return 0;
oom:
    free(in.tab);
    matchset_free(ms);
    return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory building the match set");
}

struct ag_intel_matchset *ag_intel_matchset_ref(struct ag_intel_matchset *ms)
{
    if (ms)
        atomic_fetch_add_explicit(&ms->refs, 1, memory_order_relaxed);
    return ms;
}

void ag_intel_matchset_unref(struct ag_intel_matchset *ms)
{
    if (ms && atomic_fetch_sub_explicit(&ms->refs, 1, memory_order_acq_rel) == 1)
        matchset_free(ms);
}

void ag_intel_matchset_stats(const struct ag_intel_matchset *ms,
                             struct ag_intel_matchset_stats *out)
{
    *out = ms->stats;
}

/* ---- lookup -------------------------------------------------------------- */

/* A visitor sees each live candidate with how specific the match is. */
struct visit {
    int64_t at;
    enum ag_intel_field field;
    int (*fn)(struct visit *v, const struct entry *e, unsigned spec);
    /* best-of state */
    const struct entry *best;
    unsigned best_spec;
    /* all-of state */
    int (*user_fn)(const struct ag_intel_hit *hit, void *ctx);
    void *user_ctx;
    const struct ag_intel_matchset *ms;
    size_t calls;
    bool stop;
};

static void visit_chain(struct visit *v, const struct ag_intel_matchset *ms, uint32_t head,
                        unsigned spec)
{
    for (uint32_t i = head; i != NONE && !v->stop; i = ms->entries[i].next) {
        const struct entry *e = &ms->entries[i];
        if (e->valid_from <= v->at && v->at < e->valid_until)
            v->stop = v->fn(v, e, spec) != 0;
    }
}

static void visit_addr(struct visit *v, const struct ag_intel_matchset *ms, uint64_t hi,
                       uint64_t lo)
{
    uint32_t cur = ms->root;
    if (ms->jump && hi == 0 && (lo >> 32) == 0xffff) {
        const struct jump *j = &ms->jump[(lo >> 16) & 0xffff];
        for (uint32_t k = 0; k < j->anc_count && !v->stop; k++) {
            const struct node *n = &ms->nodes[ms->anc[j->anc_first + k]];
            visit_chain(v, ms, n->head, n->len);
        }
        cur = j->start;
    }
    while (cur != NONE && !v->stop) {
        const struct node *n = &ms->nodes[cur];
        if (common_len(hi, lo, n->hi, n->lo) < n->len)
            return;
        if (n->head != NONE)
            visit_chain(v, ms, n->head, n->len);
        if (n->len == 128)
            return;
        cur = n->child[bit_at(hi, lo, n->len)];
    }
}

static void visit_key(struct visit *v, const struct ag_intel_matchset *ms, unsigned type,
                      const char *key, size_t n, unsigned spec)
{
    if (ms->stats.keys == 0)
        return;
    uint64_t h = key_hash(ms->seed, type, key, n);
    for (size_t i = h & ms->slots_mask;; i = (i + 1) & ms->slots_mask) {
        const struct slot *s = &ms->slots[i];
        if (s->head == NONE)
            return;
        const struct entry *e = &ms->entries[s->head];
        if (s->hash == h && e->type == type && strncmp(e->value, key, n) == 0 &&
            e->value[n] == '\0') {
            visit_chain(v, ms, s->head, spec);
            return;
        }
    }
}

/* Every suffix of <name> that starts at a label boundary. */
static void visit_domain(struct visit *v, const struct ag_intel_matchset *ms, const char *name,
                         size_t n)
{
    for (size_t i = 0; i < n && !v->stop;) {
        visit_key(v, ms, AG_INTEL_DOMAIN, name + i, n - i, (unsigned)(n - i));
        const char *dot = memchr(name + i, '.', n - i);
        if (!dot)
            break;
        i = (size_t)(dot - name) + 1;
    }
}

/* Lower-case an ASCII host name into <buf>; non-ASCII goes through libidn2
 * (which allocates). Returns the length, or 0 if it is no valid name. */
static size_t host_norm(const char *in, size_t n, char *buf, size_t buflen)
{
    if (n && in[n - 1] == '.')
        n--;
    if (n == 0 || n >= buflen)
        return 0;
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 0x80)
            ascii = false;
        buf[i] = (char)tolower(c);
    }
    buf[n] = '\0';
    if (ascii)
        return n;
    char *conv = NULL;
    if (idn2_lookup_u8((const uint8_t *)buf, (uint8_t **)&conv,
                       IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) {
        free(conv);
        return 0;
    }
    size_t cl = strlen(conv);
    if (cl >= buflen) {
        free(conv);
        return 0;
    }
    memcpy(buf, conv, cl + 1);
    free(conv);
    return cl;
}

static void visit_host(struct visit *v, const struct ag_intel_matchset *ms, const char *h,
                       size_t n)
{
    uint64_t hi, lo;
    if (n >= 2 && h[0] == '[') {
        if (ag_intel_addr_parse(h + 1, n - 2, &hi, &lo) == 0)
            visit_addr(v, ms, hi, lo);
        return;
    }
    if (ag_intel_addr_parse(h, n, &hi, &lo) == 0) {
        visit_addr(v, ms, hi, lo);
        return;
    }
    char buf[256];
    size_t dn = host_norm(h, n, buf, sizeof buf);
    if (dn)
        visit_domain(v, ms, buf, dn);
}

static void visit_field(struct visit *v, const struct ag_intel_matchset *ms,
                        enum ag_intel_field field, const char *value)
{
    if (!value || !*value)
        return;
    size_t n = strlen(value);
    char buf[AG_INTEL_VALUE_MAX + 1];
    uint64_t hi, lo;
    switch (field) {
    case AG_INTEL_FIELD_IP:
        if (ag_intel_addr_parse(value, n, &hi, &lo) == 0)
            visit_addr(v, ms, hi, lo);
        return;
    case AG_INTEL_FIELD_DOMAIN: {
        size_t dn = host_norm(value, n, buf, sizeof buf);
        if (dn)
            visit_domain(v, ms, buf, dn);
        return;
    }
    case AG_INTEL_FIELD_URL: {
        if (ag_intel_value_normalize(AG_INTEL_URL, value, buf, sizeof buf, "url", NULL))
            return;
        visit_key(v, ms, AG_INTEL_URL, buf, strlen(buf), SPEC_EXACT);
        /* then the host: after "://" and any userinfo, up to port or path */
        char *h = strstr(buf, "://");
        if (!h || v->stop)
            return;
        h += 3;
        size_t hl = strcspn(h, "/?#");
        char *at = memchr(h, '@', hl);
        if (at) {
            hl -= (size_t)(at + 1 - h);
            h = at + 1;
        }
        size_t end = hl;
        if (h[0] == '[') {
            char *rb = memchr(h, ']', hl);
            if (!rb)
                return;
            end = (size_t)(rb - h) + 1;
        } else {
            char *colon = memchr(h, ':', hl);
            if (colon)
                end = (size_t)(colon - h);
        }
        visit_host(v, ms, h, end);
        return;
    }
    case AG_INTEL_FIELD_EMAIL: {
        const char *at = strrchr(value, '@');
        if (!at || at == value || (size_t)(at - value) > 64)
            return;
        size_t ll = (size_t)(at - value);
        for (size_t i = 0; i < ll; i++)
            buf[i] = (char)tolower((unsigned char)value[i]);
        buf[ll] = '@';
        size_t dn = host_norm(at + 1, strlen(at + 1), buf + ll + 1, sizeof buf - ll - 1);
        if (!dn)
            return;
        visit_key(v, ms, AG_INTEL_EMAIL, buf, ll + 1 + dn, SPEC_EXACT);
        if (!v->stop)
            visit_domain(v, ms, buf + ll + 1, dn);
        return;
    }
    case AG_INTEL_FIELD_PHONE:
        if (ag_intel_value_normalize(AG_INTEL_PHONE, value, buf, sizeof buf, "phone", NULL) == 0)
            visit_key(v, ms, AG_INTEL_PHONE, buf, strlen(buf), SPEC_EXACT);
        return;
    case AG_INTEL_FIELD_DEVICE:
        visit_key(v, ms, AG_INTEL_DEVICE, value, n, SPEC_EXACT);
        return;
    case AG_INTEL_FIELD_FINANCIAL:
        if (n != 64)
            return;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)tolower((unsigned char)value[i]);
        visit_key(v, ms, AG_INTEL_FINANCIAL, buf, n, SPEC_EXACT);
        return;
    default:
        return;
    }
}

static bool better(const struct entry *a, unsigned aspec, const struct entry *b, unsigned bspec)
{
    if (!b)
        return true;
    if (a->informational != b->informational)
        return !a->informational;
    if (aspec != bspec)
        return aspec > bspec;
    return a->confidence > b->confidence;
}

static int best_fn(struct visit *v, const struct entry *e, unsigned spec)
{
    if (better(e, spec, v->best, v->best_spec)) {
        v->best = e;
        v->best_spec = spec;
    }
    return 0;
}

static void fill_hit(const struct entry *e, enum ag_intel_field field, struct ag_intel_hit *hit)
{
    hit->field = field;
    hit->type = (enum ag_intel_type)e->type;
    hit->value = e->value;
    hit->source = e->source;
    hit->confidence = e->confidence;
    hit->tlp = (enum ag_intel_tlp)e->tlp;
    hit->informational = e->informational;
    hit->valid_until_ms = e->valid_until == INT64_MAX ? 0 : e->valid_until;
    char hex[33];
    ag_hex(e->uuid, 16, hex);
    snprintf(hit->id, sizeof hit->id, "indicator--%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
}

int ag_intel_matchset_lookup(const struct ag_intel_matchset *ms, enum ag_intel_field field,
                             const char *value, int64_t at_ms, struct ag_intel_hit *hit)
{
    if (!ms)
        return 0;
    struct visit v = {.at = at_ms, .field = field, .fn = best_fn};
    visit_field(&v, ms, field, value);
    if (!v.best)
        return 0;
    fill_hit(v.best, field, hit);
    return 1;
}

static int all_fn(struct visit *v, const struct entry *e, unsigned spec)
{
    struct ag_intel_hit hit;
    fill_hit(e, v->field, &hit);
    v->calls++;
    return v->user_fn(&hit, v->user_ctx);
}

size_t ag_intel_matchset_lookup_all(const struct ag_intel_matchset *ms, enum ag_intel_field field,
                                    const char *value, int64_t at_ms,
                                    int (*fn)(const struct ag_intel_hit *hit, void *ctx),
                                    void *ctx)
{
    if (!ms)
        return 0;
    struct visit v = {.at = at_ms, .field = field, .fn = all_fn, .user_fn = fn, .user_ctx = ctx};
    visit_field(&v, ms, field, value);
    return v.calls;
}

size_t ag_intel_matchset_match(const struct ag_intel_matchset *ms, const struct ag_intel_query *q,
                               struct ag_intel_hit *hits, size_t max)
{
    const char *vals[AG_INTEL_FIELD_COUNT] = {
        q->ip, q->domain, q->url, q->email, q->phone, q->device_id, q->financial,
    };
    size_t n = 0;
    for (int f = 0; f < AG_INTEL_FIELD_COUNT && n < max; f++)
        if (vals[f] && *vals[f] &&
            ag_intel_matchset_lookup(ms, (enum ag_intel_field)f, vals[f], q->at_ms, &hits[n]))
            n++;
    return n;
}

/* ---- the slot ------------------------------------------------------------ */

void ag_intel_matchset_slot_init(struct ag_intel_matchset_slot *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->cur = NULL;
}

void ag_intel_matchset_slot_destroy(struct ag_intel_matchset_slot *s)
{
    ag_intel_matchset_unref(s->cur);
    s->cur = NULL;
    pthread_mutex_destroy(&s->mu);
}

struct ag_intel_matchset *ag_intel_matchset_slot_acquire(struct ag_intel_matchset_slot *s)
{
    pthread_mutex_lock(&s->mu);
    struct ag_intel_matchset *ms = ag_intel_matchset_ref(s->cur);
    pthread_mutex_unlock(&s->mu);
    return ms;
}

void ag_intel_matchset_slot_replace(struct ag_intel_matchset_slot *s, struct ag_intel_matchset *ms)
{
    pthread_mutex_lock(&s->mu);
    struct ag_intel_matchset *old = s->cur;
    s->cur = ms;
    pthread_mutex_unlock(&s->mu);
    ag_intel_matchset_unref(old);
}
