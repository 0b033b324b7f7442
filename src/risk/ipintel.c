/* IP enrichment over libloc with a sharded address cache.
 *
 * libloc 0.9 keeps plain (non-atomic) reference counts on its context and
 * returns freshly allocated network objects from every lookup, so every call
 * into it happens under <lib_lock>. A lookup walks the database's bit trie
 * (several microseconds), hence the cache: 4-way set-associative, one mutex
 * per shard of sets, least-recently-used replacement inside a set. */
#include "risk/ipintel.h"

#include "risk/bigmem.h"
#include "risk/rhash.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libloc/as.h>
#include <libloc/database.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NSHARDS 64
#define WAYS 4

struct cache_ent {
    struct in6_addr addr;
    uint32_t stamp; /* 0: empty */
    int rc;
    struct ag_ipinfo info;
};

struct shard {
    pthread_spinlock_t lock; /* held to copy one entry */
    uint32_t clock;
    uint64_t hits, misses;
} __attribute__((aligned(64)));

struct asname {
    uint32_t asn; /* 0: empty slot */
    char *name;
};

/* An interned name, immutable once published. */
struct asent {
    uint32_t asn;
    bool hosting; /* ag_ipintel_is_hosting(asn, name), computed once */
    char name[];
};

#define FAST_NAMES 4096

/* What an address range resolves to (8 bytes). flags 0xff: no network. */
struct rinfo {
    char cc[2];
    uint8_t flags; /* AG_IP_ANON_PROXY .. AG_IP_DROP */
    uint8_t prefix;
    uint32_t asn;
};

/* Disjoint ranges in address order: range i runs from start[i] to the next
 * start - 1. IPv4 in 32 bits, IPv6 in 128. */
struct ipindex {
    uint32_t *s4;
    struct rinfo *i4;
    size_t n4;
    unsigned __int128 *s6;
    struct rinfo *i6;
    size_t n6;
    /* t[h] = ranges starting below h << (bits - 16): the candidates for an
     * address whose top 16 bits are h lie in [t[h] - 1, t[h + 1]) */
    uint32_t t4[65537], t6[65537];
};

struct ag_ipintel {
    pthread_mutex_t lib_lock; /* everything libloc, and the AS-name map */
    struct loc_ctx *ctx;
    struct loc_database *db;
    FILE *f;
    struct asname *names;
    size_t names_cap, names_len;
    size_t nsets; /* power of two */
    struct cache_ent *sets; /* nsets * WAYS */
    _Atomic(struct asent *) fast[FAST_NAMES]; /* lock-free AS name lookups */
    char *path;
    pthread_t builder;
    bool building;
    atomic_bool cancel;
    _Atomic(struct ipindex *) index; /* published once, freed at close */
    struct shard shards[NSHARDS];
};

static void silent_log(struct loc_ctx *ctx, int priority, const char *file, int line,
                       const char *fn, const char *format, va_list args)
{
}

int ag_ipintel_open(const char *path, size_t cache_entries, struct ag_ipintel **out,
                    struct ag_err *err)
{
    *out = NULL;
    struct ag_ipintel *db = calloc(1, sizeof *db);
    if (!db)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    pthread_mutex_init(&db->lib_lock, NULL);
    for (int i = 0; i < NSHARDS; i++)
        pthread_spin_init(&db->shards[i].lock, PTHREAD_PROCESS_PRIVATE);
    if (!cache_entries)
        cache_entries = 65536;
    size_t nsets = 16;
    while (nsets * WAYS < cache_entries)
        nsets <<= 1;
    db->nsets = nsets;
    db->sets = ag_risk_big_calloc(nsets * WAYS * sizeof *db->sets);
    if (!db->sets) {
        ag_ipintel_close(db);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    db->path = strdup(path);
    db->f = fopen(path, "r");
    if (!db->f) {
        ag_ipintel_close(db);
        return ag_err_set(err, AG_EIO, "ipdb_open", "ipdb_file",
                          "cannot open the location database %s", path);
    }
    if (loc_new(&db->ctx)) {
        ag_ipintel_close(db);
        return ag_err_set(err, AG_ENOMEM, "", "", "libloc: cannot create a context");
    }
    loc_set_log_fn(db->ctx, silent_log);
    if (loc_database_new(db->ctx, &db->db, db->f)) {
        db->db = NULL;
        ag_ipintel_close(db);
        return ag_err_set(err, AG_EIO, "ipdb_open", "ipdb_file",
                          "%s is not a readable location database", path);
    }
    *out = db;
    return 0;
}

static void index_free(struct ipindex *x)
{
    if (!x)
        return;
    free(x->s4);
    free(x->i4);
    free(x->s6);
    free(x->i6);
    free(x);
}

void ag_ipintel_close(struct ag_ipintel *db)
{
    if (!db)
        return;
    if (db->building) {
        atomic_store(&db->cancel, true);
        pthread_join(db->builder, NULL);
    }
    index_free(atomic_load(&db->index));
    free(db->path);
    if (db->db)
        loc_database_unref(db->db);
    if (db->ctx)
        loc_unref(db->ctx);
    if (db->f)
        fclose(db->f);
    for (size_t i = 0; i < db->names_cap; i++)
        if (db->names[i].name)
            free(db->names[i].name - offsetof(struct asent, name));
    free(db->names);
    free(db->sets);
    pthread_mutex_destroy(&db->lib_lock);
    for (int i = 0; i < NSHARDS; i++)
        pthread_spin_destroy(&db->shards[i].lock);
    free(db);
}

/* --- hosting heuristic -------------------------------------------------- */

static const uint32_t hosting_asns[] = {
    16509, 14618, 8987,   /* Amazon */
    396982, 19527,        /* Google Cloud */
    8075,                 /* Microsoft */
    14061,                /* DigitalOcean */
    16276,                /* OVH */
    24940,                /* Hetzner */
    63949,                /* Linode / Akamai cloud */
    20473,                /* Choopa / Vultr */
    51167,                /* Contabo */
    12876,                /* Scaleway */
    45102, 37963,         /* Alibaba */
    132203,               /* Tencent */
    31898,                /* Oracle */
    60781, 28753, 30633, 16265, /* Leaseweb */
    9009,                 /* M247 (many VPN exits) */
    60068, 212238,        /* Datacamp / CDN77 (VPN exits) */
    136787,               /* TEFINCOM (NordVPN) */
    62240,                /* Clouvider */
    36352,                /* ColoCrossing */
    53667,                /* FranTech */
    3223,                 /* Voxility */
    49981,                /* WorldStream */
    51852,                /* Private Layer */
    197540,               /* netcup */
    8560,                 /* IONOS */
    46606,                /* Unified Layer */
    26347,                /* DreamHost */
    60729,                /* Zwiebelfreunde (Tor exits) */
};

static const char *const hosting_words[] = {
    "hosting", "host ",  "server", "cloud", "data center", "datacenter", "data-center",
    "colo",    "vps",    "dedicated", "vpn", "proxy",    "virtual",
};

bool ag_ipintel_is_hosting(uint32_t asn, const char *name)
{
    for (size_t i = 0; i < sizeof hosting_asns / sizeof hosting_asns[0]; i++)
        if (hosting_asns[i] == asn)
            return true;
    if (!name || !*name)
        return false;
    char low[128];
    size_t n = 0;
    for (; name[n] && n < sizeof low - 2; n++)
        low[n] = (char)tolower((unsigned char)name[n]);
    low[n++] = ' ';
    low[n] = 0;
    for (size_t i = 0; i < sizeof hosting_words / sizeof hosting_words[0]; i++)
        if (strstr(low, hosting_words[i]))
            return true;
    return false;
}

/* --- AS names (under lib_lock) ------------------------------------------ */

static const char *asname_get_locked(struct ag_ipintel *db, uint32_t asn)
{
    if (!asn)
        return "";
    if (db->names_cap) {
        size_t m = db->names_cap - 1;
        for (size_t i = ag_rh_mix(asn) & m;; i = (i + 1) & m) {
            if (db->names[i].asn == asn) {
                atomic_store_explicit(&db->fast[asn % FAST_NAMES],
                                      (struct asent *)(db->names[i].name -
                                                       offsetof(struct asent, name)),
                                      memory_order_release);
                return db->names[i].name;
            }
            if (!db->names[i].asn)
                break;
        }
    }
    if ((db->names_len + 1) * 2 > db->names_cap) {
        size_t ncap = db->names_cap ? db->names_cap * 2 : 1024;
        struct asname *nn = calloc(ncap, sizeof *nn);
        if (!nn)
            return "";
        for (size_t i = 0; i < db->names_cap; i++) {
            if (!db->names[i].asn)
                continue;
            size_t j = ag_rh_mix(db->names[i].asn) & (ncap - 1);
            while (nn[j].asn)
                j = (j + 1) & (ncap - 1);
            nn[j] = db->names[i];
        }
        free(db->names);
        db->names = nn;
        db->names_cap = ncap;
    }
    const char *nm = "";
    struct loc_as *as = NULL;
    if (loc_database_get_as(db->db, &as, asn) == 0 && as) {
        const char *s = loc_as_get_name(as);
        if (s)
            nm = s;
    }
    size_t nl = strlen(nm);
    struct asent *ent = malloc(sizeof *ent + nl + 1);
    if (ent) {
        ent->asn = asn;
        memcpy(ent->name, nm, nl + 1); /* before the AS object (which owns nm) goes */
        ent->hosting = ag_ipintel_is_hosting(asn, ent->name);
    }
    if (as)
        loc_as_unref(as);
    if (!ent)
        return "";
    char *copy = ent->name;
    atomic_store_explicit(&db->fast[asn % FAST_NAMES], ent, memory_order_release);
    size_t m = db->names_cap - 1;
    size_t i = ag_rh_mix(asn) & m;
    while (db->names[i].asn)
        i = (i + 1) & m;
    db->names[i].asn = asn;
    db->names[i].name = copy;
    db->names_len++;
    return copy;
}

const char *ag_ipintel_as_name(struct ag_ipintel *db, uint32_t asn)
{
    struct asent *f = atomic_load_explicit(&db->fast[asn % FAST_NAMES], memory_order_acquire);
    if (f && f->asn == asn)
        return f->name;
    pthread_mutex_lock(&db->lib_lock);
    const char *s = asname_get_locked(db, asn);
    pthread_mutex_unlock(&db->lib_lock);
    return s;
}

/* Is the interned name <name> (from asname_get_locked) a hosting network's? */
static bool interned_hosting(const char *name)
{
    if (!name || !*name)
        return false;
    return ((const struct asent *)(name - offsetof(struct asent, name)))->hosting;
}

/* --- lookups ------------------------------------------------------------ */

static bool is_private(const struct in6_addr *a)
{
    const uint8_t *b = a->s6_addr;
    static const uint8_t v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(b, v4map, 12)) {
        const uint8_t *v = b + 12;
        return v[0] == 10 || v[0] == 127 || v[0] == 0 || (v[0] == 172 && (v[1] & 0xf0) == 16) ||
               (v[0] == 192 && v[1] == 168) || (v[0] == 169 && v[1] == 254) ||
               (v[0] == 100 && (v[1] & 0xc0) == 64);
    }
    static const uint8_t zero[15] = {0};
    if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
        return true;
    return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

static int parse_addr(const char *ip, struct in6_addr *a)
{
    struct in_addr v4;
    if (inet_pton(AF_INET, ip, &v4) == 1) {
        memset(a, 0, sizeof *a);
        a->s6_addr[10] = 0xff;
        a->s6_addr[11] = 0xff;
        memcpy(&a->s6_addr[12], &v4, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, a) == 1)
        return 0;
    return -1;
}

static int lookup_lib(struct ag_ipintel *db, const struct in6_addr *a, struct ag_ipinfo *out)
{
    memset(out, 0, sizeof *out);
    out->as_name = "";
    if (is_private(a)) {
        out->flags = AG_IP_PRIVATE;
        return AG_ENOTFOUND;
    }
    pthread_mutex_lock(&db->lib_lock);
    struct loc_network *n = NULL;
    int r = loc_database_lookup(db->db, a, &n);
    if (r || !n) {
        pthread_mutex_unlock(&db->lib_lock);
        return AG_ENOTFOUND;
    }
    out->found = true;
    const char *cc = loc_network_get_country_code(n);
    if (cc && isalpha((unsigned char)cc[0]) && isalpha((unsigned char)cc[1])) {
        out->country[0] = cc[0];
        out->country[1] = cc[1];
    }
    out->asn = loc_network_get_asn(n);
    out->net_prefix = (uint8_t)loc_network_prefix(n);
    if (loc_network_has_flag(n, LOC_NETWORK_FLAG_ANONYMOUS_PROXY))
        out->flags |= AG_IP_ANON_PROXY;
    if (loc_network_has_flag(n, LOC_NETWORK_FLAG_SATELLITE_PROVIDER))
        out->flags |= AG_IP_SATELLITE;
    if (loc_network_has_flag(n, LOC_NETWORK_FLAG_ANYCAST))
        out->flags |= AG_IP_ANYCAST;
    if (loc_network_has_flag(n, LOC_NETWORK_FLAG_DROP))
        out->flags |= AG_IP_DROP;
    loc_network_unref(n);
    out->as_name = asname_get_locked(db, out->asn);
    pthread_mutex_unlock(&db->lib_lock);
    if (out->asn && (*out->as_name ? interned_hosting(out->as_name)
                                   : ag_ipintel_is_hosting(out->asn, "")))
        out->flags |= AG_IP_HOSTING;
    return 0;
}

/* --- the in-memory index ------------------------------------------------- */

static bool is_v4mapped(const struct in6_addr *a)
{
    static const uint8_t v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return !memcmp(a->s6_addr, v4map, 12);
}

static unsigned __int128 addr128(const uint8_t *b)
{
    unsigned __int128 v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | b[i];
    return v;
}

static int lookup_index(struct ag_ipintel *db, const struct ipindex *x, const struct in6_addr *a,
                        struct ag_ipinfo *out)
{
    memset(out, 0, sizeof *out);
    out->as_name = "";
    if (is_private(a)) {
        out->flags = AG_IP_PRIVATE;
        return AG_ENOTFOUND;
    }
    const struct rinfo *ri = NULL;
    if (is_v4mapped(a)) {
        const uint8_t *b = a->s6_addr + 12;
        uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        size_t lo = x->t4[v >> 16], hi = x->t4[(v >> 16) + 1]; /* last start <= v */
        lo = lo ? lo - 1 : 0;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (x->s4[mid] <= v)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo)
            ri = &x->i4[lo - 1];
    } else {
        unsigned __int128 v = addr128(a->s6_addr);
        unsigned h = (unsigned)(v >> 112);
        size_t lo = x->t6[h], hi = x->t6[h + 1];
        lo = lo ? lo - 1 : 0;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (x->s6[mid] <= v)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo)
            ri = &x->i6[lo - 1];
    }
    if (!ri || ri->flags == 0xff)
        return AG_ENOTFOUND;
    out->found = true;
    out->country[0] = ri->cc[0];
    out->country[1] = ri->cc[1];
    out->asn = ri->asn;
    out->flags = ri->flags;
    out->net_prefix = ri->prefix;
    out->as_name = ag_ipintel_as_name(db, ri->asn);
    if (out->asn && (*out->as_name ? interned_hosting(out->as_name)
                                   : ag_ipintel_is_hosting(out->asn, "")))
        out->flags |= AG_IP_HOSTING;
    return 0;
}

/* A network as enumerated: first address (128 bits, v4-mapped for IPv4),
 * last address, and what it resolves to. */
struct bnet {
    unsigned __int128 first, last;
    struct rinfo info;
};

struct bvec {
    struct bnet *v;
    size_t n, cap;
};

static int bvec_push(struct bvec *b, const struct bnet *x)
{
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 1 << 16;
        struct bnet *nv = realloc(b->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        b->v = nv;
        b->cap = ncap;
    }
    b->v[b->n++] = *x;
    return 0;
}

static int bnet_cmp(const void *pa, const void *pb)
{
    const struct bnet *a = pa, *b = pb;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->info.prefix < b->info.prefix ? -1 : a->info.prefix > b->info.prefix;
}

/* Output of the sweep: ranges over 128-bit addresses. */
struct rvec {
    unsigned __int128 *s;
    struct rinfo *i;
    size_t n, cap;
};

static const struct rinfo no_net = {{0, 0}, 0xff, 0, 0};

static int rvec_emit(struct rvec *r, unsigned __int128 start, const struct rinfo *info)
{
    if (r->n && !memcmp(&r->i[r->n - 1], info, sizeof *info))
        return 0; /* same as the range before: extend it */
    if (r->n && r->s[r->n - 1] == start) { /* an empty range before: replace */
        r->i[r->n - 1] = *info;
        return 0;
    }
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 1 << 16;
        unsigned __int128 *ns = realloc(r->s, ncap * sizeof *ns);
        if (!ns)
            return -1;
        r->s = ns;
        struct rinfo *ni = realloc(r->i, ncap * sizeof *ni);
        if (!ni)
            return -1;
        r->i = ni;
        r->cap = ncap;
    }
    r->s[r->n] = start;
    r->i[r->n] = *info;
    r->n++;
    return 0;
}

/* Turn nested CIDR networks (sorted by first address, then less specific
 * first) into disjoint ranges where the most specific network wins. */
static int sweep(const struct bvec *b, unsigned __int128 lo, struct rvec *out)
{
    const struct bnet *stack[130];
    int top = 0;
    unsigned __int128 cur = lo;
    if (rvec_emit(out, lo, &no_net))
        return -1;
    for (size_t k = 0; k < b->n; k++) {
        const struct bnet *n = &b->v[k];
        while (top && stack[top - 1]->last < n->first) {
            const struct bnet *t = stack[--top];
            cur = t->last + 1; /* what follows t is its parent's, or nothing */
            if (rvec_emit(out, cur, top ? &stack[top - 1]->info : &no_net))
                return -1;
        }
        if (top == (int)(sizeof stack / sizeof stack[0]))
            return -1;
        if (rvec_emit(out, n->first, &n->info))
            return -1;
        stack[top++] = n;
    }
    while (top) {
        const struct bnet *t = stack[--top];
        if (t->last == ~(unsigned __int128)0)
            break;
        if (rvec_emit(out, t->last + 1, top ? &stack[top - 1]->info : &no_net))
            return -1;
    }
    return 0;
}

static void *build_index(void *arg)
{
    struct ag_ipintel *db = arg;
    struct loc_database_enumerator *e = NULL;
    struct bvec v4 = {0}, v6 = {0};
    struct rvec r4 = {0}, r6 = {0};
    struct ipindex *x = NULL;
    bool ok = false, done = false;
    /* libloc keeps state that is not safe to touch from two threads at once,
     * even through separate handles (we saw enumerations differ): walk the
     * shared handle under the libloc lock, a few thousand networks at a time,
     * so that lookups get the lock in between. */
    pthread_mutex_lock(&db->lib_lock);
    int rc = loc_database_enumerator_new(&e, db->db, LOC_DB_ENUMERATE_NETWORKS, 0);
    pthread_mutex_unlock(&db->lib_lock);
    if (rc)
        goto out;
    while (!done) {
        if (atomic_load_explicit(&db->cancel, memory_order_relaxed))
            goto out;
        pthread_mutex_lock(&db->lib_lock);
        for (int k = 0; k < 4096; k++) {
            struct loc_network *n = NULL;
            if (loc_database_enumerator_next_network(e, &n) || !n) {
                done = true;
                break;
            }
            struct bnet b;
            memset(&b, 0, sizeof b);
            b.first = addr128(loc_network_get_first_address(n)->s6_addr);
            b.last = addr128(loc_network_get_last_address(n)->s6_addr);
            const char *cc = loc_network_get_country_code(n);
            if (cc && isalpha((unsigned char)cc[0]) && isalpha((unsigned char)cc[1])) {
                b.info.cc[0] = cc[0];
                b.info.cc[1] = cc[1];
            }
            b.info.asn = loc_network_get_asn(n);
            if (loc_network_has_flag(n, LOC_NETWORK_FLAG_ANONYMOUS_PROXY))
                b.info.flags |= AG_IP_ANON_PROXY;
            if (loc_network_has_flag(n, LOC_NETWORK_FLAG_SATELLITE_PROVIDER))
                b.info.flags |= AG_IP_SATELLITE;
            if (loc_network_has_flag(n, LOC_NETWORK_FLAG_ANYCAST))
                b.info.flags |= AG_IP_ANYCAST;
            if (loc_network_has_flag(n, LOC_NETWORK_FLAG_DROP))
                b.info.flags |= AG_IP_DROP;
            b.info.prefix = (uint8_t)loc_network_prefix(n); /* as libloc reports it */
            bool is4 = loc_network_address_family(n) == AF_INET;
            loc_network_unref(n);
            if (bvec_push(is4 ? &v4 : &v6, &b)) {
                pthread_mutex_unlock(&db->lib_lock);
                goto out;
            }
        }
        pthread_mutex_unlock(&db->lib_lock);
    }
    qsort(v4.v, v4.n, sizeof *v4.v, bnet_cmp);
    qsort(v6.v, v6.n, sizeof *v6.v, bnet_cmp);
    const unsigned __int128 v4base = (unsigned __int128)0xffff << 32;
    if (sweep(&v4, v4base, &r4) || sweep(&v6, 0, &r6))
        goto out;
    x = calloc(1, sizeof *x);
    if (!x)
        goto out;
    x->s4 = malloc((r4.n + 1) * sizeof *x->s4);
    x->s6 = r6.s;
    x->i6 = r6.i;
    x->n6 = r6.n;
    r6.s = NULL;
    r6.i = NULL;
    x->i4 = r4.i;
    r4.i = NULL;
    if (!x->s4)
        goto out;
    /* IPv4 ranges in 32 bits; drop those outside the v4-mapped block */
    size_t k = 0;
    for (size_t i = 0; i < r4.n; i++) {
        unsigned __int128 st = r4.s[i];
        if (st < v4base || st > v4base + 0xffffffffu)
            continue;
        x->s4[k] = (uint32_t)(st - v4base);
        x->i4[k] = x->i4[i];
        k++;
    }
    x->n4 = k;
    for (size_t h = 0, i = 0; h <= 65536; h++) {
        while (i < x->n4 && (x->s4[i] >> 16) < h)
            i++;
        x->t4[h] = (uint32_t)i;
    }
    for (size_t h = 0, i = 0; h <= 65536; h++) {
        while (i < x->n6 && (unsigned)(x->s6[i] >> 112) < h)
            i++;
        x->t6[h] = (uint32_t)i;
    }
    ok = true;
out:
    if (e) {
        pthread_mutex_lock(&db->lib_lock);
        loc_database_enumerator_unref(e);
        pthread_mutex_unlock(&db->lib_lock);
    }
    free(v4.v);
    free(v6.v);
    free(r4.s);
    free(r4.i);
    free(r6.s);
    free(r6.i);
    if (ok)
        atomic_store_explicit(&db->index, x, memory_order_release);
    else
        index_free(x);
    return NULL;
}

int ag_ipintel_index_start(struct ag_ipintel *db)
{
    if (db->building || !db->path)
        return AG_ESTATE;
    if (pthread_create(&db->builder, NULL, build_index, db))
        return AG_ENOMEM;
    db->building = true;
    return 0;
}

bool ag_ipintel_index_wait(struct ag_ipintel *db)
{
    if (db->building) {
        pthread_join(db->builder, NULL);
        db->building = false;
    }
    return atomic_load(&db->index) != NULL;
}

int ag_ipintel_lookup(struct ag_ipintel *db, const char *ip, struct ag_ipinfo *out)
{
    struct in6_addr a;
    if (!ip || parse_addr(ip, &a)) {
        memset(out, 0, sizeof *out);
        out->as_name = "";
        return AG_EINVAL;
    }
    uint64_t h = ag_rh_bytes(&a, sizeof a, 0x1a2b3c4dULL);
    size_t set = (size_t)h & (db->nsets - 1);
    struct shard *sh = &db->shards[set % NSHARDS];
    struct cache_ent *ways = &db->sets[set * WAYS];
    pthread_spin_lock(&sh->lock);
    for (int w = 0; w < WAYS; w++) {
        if (ways[w].stamp && !memcmp(&ways[w].addr, &a, sizeof a)) {
            ways[w].stamp = ++sh->clock ? sh->clock : (sh->clock = 1);
            *out = ways[w].info;
            int rc = ways[w].rc;
            sh->hits++;
            pthread_spin_unlock(&sh->lock);
            return rc;
        }
    }
    sh->misses++;
    pthread_spin_unlock(&sh->lock);

    struct ipindex *x = atomic_load_explicit(&db->index, memory_order_acquire);
    int rc = x ? lookup_index(db, x, &a, out) : lookup_lib(db, &a, out);

    pthread_spin_lock(&sh->lock);
    int victim = 0;
    for (int w = 1; w < WAYS; w++)
        if (ways[w].stamp < ways[victim].stamp)
            victim = w;
    ways[victim].addr = a;
    ways[victim].info = *out;
    ways[victim].rc = rc;
    ways[victim].stamp = ++sh->clock ? sh->clock : (sh->clock = 1);
    pthread_spin_unlock(&sh->lock);
    return rc;
}

int ag_ipintel_each_network(struct ag_ipintel *db, const uint32_t *asns, size_t nasns,
                            int (*fn)(void *arg, const char *cidr, const char *country,
                                      uint32_t asn, uint32_t flags),
                            void *arg)
{
    pthread_mutex_lock(&db->lib_lock);
    struct loc_database_enumerator *e = NULL;
    if (loc_database_enumerator_new(&e, db->db, LOC_DB_ENUMERATE_NETWORKS, 0)) {
        pthread_mutex_unlock(&db->lib_lock);
        return AG_ENOMEM;
    }
    struct loc_network *n = NULL;
    int stop = 0;
    while (!stop && loc_database_enumerator_next_network(e, &n) == 0 && n) {
        uint32_t asn = loc_network_get_asn(n);
        size_t i = 0;
        while (i < nasns && asns[i] != asn)
            i++;
        if (i < nasns) {
            uint32_t fl = 0;
            if (loc_network_has_flag(n, LOC_NETWORK_FLAG_ANONYMOUS_PROXY))
                fl |= AG_IP_ANON_PROXY;
            if (loc_network_has_flag(n, LOC_NETWORK_FLAG_ANYCAST))
                fl |= AG_IP_ANYCAST;
            const char *cc = loc_network_get_country_code(n);
            stop = fn(arg, loc_network_str(n), cc ? cc : "", asn, fl);
        }
        loc_network_unref(n);
        n = NULL;
    }
    loc_database_enumerator_unref(e);
    pthread_mutex_unlock(&db->lib_lock);
    return 0;
}

void ag_ipintel_stats(struct ag_ipintel *db, uint64_t *hits, uint64_t *misses, size_t *bytes)
{
    uint64_t h = 0, m = 0;
    for (int i = 0; i < NSHARDS; i++) {
        pthread_spin_lock(&db->shards[i].lock);
        h += db->shards[i].hits;
        m += db->shards[i].misses;
        pthread_spin_unlock(&db->shards[i].lock);
    }
    if (hits)
        *hits = h;
    if (misses)
        *misses = m;
    if (bytes) {
        *bytes = sizeof *db + db->nsets * WAYS * sizeof(struct cache_ent) +
                 db->names_cap * sizeof(struct asname);
        const struct ipindex *x = atomic_load(&db->index);
        if (x)
            *bytes += sizeof *x + x->n4 * (sizeof *x->s4 + sizeof *x->i4) +
                      x->n6 * (sizeof *x->s6 + sizeof *x->i6);
    }
}
