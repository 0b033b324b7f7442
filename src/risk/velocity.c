/* Sliding-window counters: one 8-way set-associative table per key class,
 * a spinlock per group of sets, rings of time buckets per key. */
#include "risk/velocity.h"

#include "risk/bigmem.h"
#include "risk/geo.h"
#include "risk/rhash.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 8
#define NLOCKS 256
#define MAXB 12

/* Key classes: one table each. */
enum { K_ACCOUNT, K_IP, K_PREFIX, K_ASN, K_DEVICE, NCLASSES };

/* What each table's entries hold: <nc> counter rings, and a distinct-bits
 * ring or not. */
static const struct {
    int nc;
    bool bits;
} layout[NCLASSES] = {
    [K_ACCOUNT] = {2, false}, /* failed logins, failed one-time codes */
    [K_IP] = {2, true},       /* failed logins, attempts; accounts */
    [K_PREFIX] = {1, false},  /* failed logins */
    [K_ASN] = {1, false},     /* failed logins */
    [K_DEVICE] = {0, true},   /* accounts */
};

/* counter kind -> (class, ring) */
static const struct {
    int cls, ring;
} counter_map[AG_VEL_COUNTER_KINDS] = {
    [AG_VEL_FAIL_ACCOUNT] = {K_ACCOUNT, 0}, [AG_VEL_MFA_FAIL_ACCOUNT] = {K_ACCOUNT, 1},
    [AG_VEL_FAIL_IP] = {K_IP, 0},           [AG_VEL_LOGIN_IP] = {K_IP, 1},
    [AG_VEL_FAIL_PREFIX] = {K_PREFIX, 0},   [AG_VEL_FAIL_ASN] = {K_ASN, 0},
};
static const int distinct_map[AG_VEL_DISTINCT_KINDS] = {
    [AG_VEL_ACCOUNTS_PER_IP] = K_IP,
    [AG_VEL_ACCOUNTS_PER_DEVICE] = K_DEVICE,
};

/* A set: the keys first (one cache line to probe), then when each was last
 * updated, then the payloads (counter rings, then the bits ring). */
struct sethead {
    uint64_t key[WAYS];   /* 0: empty */
    int64_t newest[WAYS]; /* absolute index of the newest bucket */
};

struct table {
    size_t nsets;  /* power of two */
    size_t psize;  /* payload bytes per way */
    size_t ssize;  /* bytes per set */
    int nc;
    bool bits;
    unsigned char *mem;
    pthread_spinlock_t locks[NLOCKS]; /* held for a few dozen instructions */
};

struct ag_velocity {
    int64_t window_ms, width_ms;
    int buckets;
    struct table t[NCLASSES];
    size_t bytes;
};

static int table_init(struct table *t, int cls, size_t capacity)
{
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets <<= 1;
    t->nsets = nsets;
    t->nc = layout[cls].nc;
    t->bits = layout[cls].bits;
    t->psize = (size_t)t->nc * MAXB * sizeof(uint16_t) + (t->bits ? MAXB * sizeof(uint64_t) : 0);
    t->psize = (t->psize + 7) & ~(size_t)7;
    t->ssize = (sizeof(struct sethead) + WAYS * t->psize + 63) & ~(size_t)63;
    t->mem = ag_risk_big_calloc(nsets * t->ssize);
    for (int i = 0; i < NLOCKS; i++)
        pthread_spin_init(&t->locks[i], PTHREAD_PROCESS_PRIVATE);
    return t->mem ? 0 : AG_ENOMEM;
}

int ag_velocity_open(const struct ag_velocity_options *o, struct ag_velocity **out,
                     struct ag_err *err)
{
    *out = NULL;
    struct ag_velocity *v = calloc(1, sizeof *v);
    if (!v)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    v->window_ms = o && o->window_ms > 0 ? o->window_ms : 3600000;
    v->buckets = o && o->buckets > 0 ? o->buckets : 12;
    if (v->buckets > MAXB)
        v->buckets = MAXB;
    v->width_ms = v->window_ms / v->buckets;
    if (v->width_ms < 1)
        v->width_ms = 1;
    size_t cap = o && o->capacity ? o->capacity : 65536;
    int rc = 0;
    for (int c = 0; c < NCLASSES && !rc; c++)
        rc = table_init(&v->t[c], c, cap);
    if (rc) {
        ag_velocity_close(v);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    v->bytes = sizeof *v;
    for (int c = 0; c < NCLASSES; c++)
        v->bytes += v->t[c].nsets * v->t[c].ssize;
    *out = v;
    return 0;
}

void ag_velocity_close(struct ag_velocity *v)
{
    if (!v)
        return;
    for (int c = 0; c < NCLASSES; c++) {
        if (!v->t[c].mem)
            continue;
        free(v->t[c].mem);
        for (int i = 0; i < NLOCKS; i++)
            pthread_spin_destroy(&v->t[c].locks[i]);
    }
    free(v);
}

int64_t ag_velocity_window_ms(const struct ag_velocity *v) { return v->window_ms; }
size_t ag_velocity_bytes(const struct ag_velocity *v) { return v->bytes; }

static inline int64_t bucket_of(const struct ag_velocity *v, int64_t ms)
{
    return ms >= 0 ? ms / v->width_ms : -((-ms + v->width_ms - 1) / v->width_ms);
}

static inline uint64_t fix_key(uint64_t k) { return k ? k : 1; }

static inline int ring_index(int64_t b, int nb) { return (int)(((b % nb) + nb) % nb); }

static inline size_t set_of(const struct table *t, uint64_t key)
{
    return (size_t)(ag_rh_mix(key) & (t->nsets - 1));
}

static inline struct sethead *set_at(const struct table *t, size_t si)
{
    return (struct sethead *)(t->mem + si * t->ssize);
}

static inline uint16_t *ring_c(const struct table *t, struct sethead *h, int w, int ring)
{
    return (uint16_t *)((unsigned char *)(h + 1) + (size_t)w * t->psize) + ring * MAXB;
}

static inline uint64_t *ring_bits(const struct table *t, struct sethead *h, int w)
{
    return (uint64_t *)((unsigned char *)(h + 1) + (size_t)w * t->psize +
                        (size_t)t->nc * MAXB * sizeof(uint16_t) + 0) ;
}

static inline int find_way(const uint64_t *keys, uint64_t key)
{
    for (int w = 0; w < WAYS; w++)
        if (keys[w] == key)
            return w;
    return -1;
}

/* A way for a new key: an empty one, else the one updated longest ago. */
static inline int victim_way(const uint64_t *keys, const int64_t *newest)
{
    int v = 0;
    for (int w = 0; w < WAYS; w++) {
        if (!keys[w])
            return w;
        if (newest[w] < newest[v])
            v = w;
    }
    return v;
}

/* Buckets in (now - nb, now] that a ring whose newest bucket is <newest>
 * still holds: [*lo, *hi]; false if none. */
static inline bool live_range(int64_t newest, int64_t now, int nb, int64_t *lo, int64_t *hi)
{
    *hi = newest < now ? newest : now;
    *lo = now - nb + 1;
    if (*lo < newest - nb + 1)
        *lo = newest - nb + 1;
    return *hi >= *lo;
}

/* Lock the set of <key> in class <c> and find (or, if <create>, make) its
 * way. Returns the way or -1 (then the lock is still held: call unlock). */
static int way_lock(struct ag_velocity *v, int c, uint64_t key, bool create, int64_t b,
                    struct sethead **hp, size_t *sip)
{
    struct table *t = &v->t[c];
    size_t si = set_of(t, key);
    struct sethead *h = set_at(t, si);
    *hp = h;
    *sip = si;
    pthread_spin_lock(&t->locks[si % NLOCKS]);
    int w = find_way(h->key, key);
    if (w >= 0 || !create)
        return w;
    w = victim_way(h->key, h->newest);
    h->key[w] = key;
    h->newest[w] = b;
    memset((unsigned char *)(h + 1) + (size_t)w * t->psize, 0, t->psize);
    return w;
}

static inline void way_unlock(struct ag_velocity *v, int c, size_t si)
{
    pthread_spin_unlock(&v->t[c].locks[si % NLOCKS]);
}

/* Move way <w>'s rings forward so that bucket <b> is the newest. */
static void advance(struct ag_velocity *v, int c, struct sethead *h, int w, int64_t b)
{
    const struct table *t = &v->t[c];
    int nb = v->buckets;
    if (b <= h->newest[w])
        return;
    if (b - h->newest[w] >= nb) {
        memset((unsigned char *)(h + 1) + (size_t)w * t->psize, 0, t->psize);
    } else {
        for (int64_t j = h->newest[w] + 1, i = ring_index(j, nb); j <= b; j++) {
            for (int r = 0; r < t->nc; r++)
                ring_c(t, h, w, r)[i] = 0;
            if (t->bits)
                ring_bits(t, h, w)[i] = 0;
            if (++i == nb)
                i = 0;
        }
    }
    h->newest[w] = b;
}

static void bump(struct ag_velocity *v, int c, struct sethead *h, int w, int ring, int64_t b)
{
    if (h->newest[w] - b >= v->buckets)
        return; /* older than the window */
    uint16_t *x = &ring_c(&v->t[c], h, w, ring)[ring_index(b, v->buckets)];
    if (*x < UINT16_MAX)
        (*x)++;
}

static void mark(struct ag_velocity *v, int c, struct sethead *h, int w, uint64_t member,
                 int64_t b)
{
    if (h->newest[w] - b >= v->buckets)
        return;
    ring_bits(&v->t[c], h, w)[ring_index(b, v->buckets)] |= ag_velocity_member_bit(member);
}

uint64_t ag_velocity_member_bit(uint64_t member)
{
    return 1ULL << (ag_rh_mix(member ^ 0x5eedULL) & 63);
}
int64_t ag_velocity_bucket(const struct ag_velocity *v, int64_t at_ms) { return bucket_of(v, at_ms); }
int ag_velocity_buckets(const struct ag_velocity *v) { return v->buckets; }

uint32_t ag_velocity_distinct_estimate(uint64_t bits)
{
    int ones = __builtin_popcountll(bits);
    if (ones <= 1)
        return (uint32_t)ones;
    int zeros = 64 - ones;
    if (!zeros)
        return 266; /* saturated: 64 ln 64 */
    return (uint32_t)lround(-64.0 * log((double)zeros / 64.0));
}

static uint32_t sum_ring(struct ag_velocity *v, int c, struct sethead *h, int w, int ring,
                         int64_t now)
{
    int64_t lo, hi;
    int nb = v->buckets;
    uint32_t sum = 0;
    if (!live_range(h->newest[w], now, nb, &lo, &hi))
        return 0;
    const uint16_t *r = ring_c(&v->t[c], h, w, ring);
    int i = ring_index(lo, nb);
    for (int64_t j = lo; j <= hi; j++) {
        sum += r[i];
        if (++i == nb)
            i = 0;
    }
    return sum;
}

static uint32_t distinct_of(struct ag_velocity *v, int c, struct sethead *h, int w, int64_t now)
{
    int64_t lo, hi;
    int nb = v->buckets;
    uint64_t bits = 0;
    if (live_range(h->newest[w], now, nb, &lo, &hi)) {
        const uint64_t *r = ring_bits(&v->t[c], h, w);
        int i = ring_index(lo, nb);
        for (int64_t j = lo; j <= hi; j++) {
            bits |= r[i];
            if (++i == nb)
                i = 0;
        }
    }
    return ag_velocity_distinct_estimate(bits);
}

/* --- per-kind API --------------------------------------------------------- */

void ag_velocity_add(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                     int64_t at_ms)
{
    int c = counter_map[kind].cls;
    int64_t b = bucket_of(v, at_ms);
    struct sethead *h;
    size_t si;
    int w = way_lock(v, c, fix_key(key), true, b, &h, &si);
    advance(v, c, h, w, b);
    bump(v, c, h, w, counter_map[kind].ring, b);
    way_unlock(v, c, si);
}

uint32_t ag_velocity_count(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                           int64_t now_ms)
{
    int c = counter_map[kind].cls;
    struct sethead *h;
    size_t si;
    int w = way_lock(v, c, fix_key(key), false, 0, &h, &si);
    uint32_t n = w >= 0 ? sum_ring(v, c, h, w, counter_map[kind].ring, bucket_of(v, now_ms)) : 0;
    way_unlock(v, c, si);
    return n;
}

void ag_velocity_add_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              uint64_t member, int64_t at_ms)
{
    int c = distinct_map[kind];
    int64_t b = bucket_of(v, at_ms);
    struct sethead *h;
    size_t si;
    int w = way_lock(v, c, fix_key(key), true, b, &h, &si);
    advance(v, c, h, w, b);
    mark(v, c, h, w, member, b);
    way_unlock(v, c, si);
}

uint32_t ag_velocity_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              int64_t now_ms)
{
    int c = distinct_map[kind];
    struct sethead *h;
    size_t si;
    int w = way_lock(v, c, fix_key(key), false, 0, &h, &si);
    uint32_t n = w >= 0 ? distinct_of(v, c, h, w, bucket_of(v, now_ms)) : 0;
    way_unlock(v, c, si);
    return n;
}

/* --- batched API ---------------------------------------------------------- */

void ag_velocity_prefetch(const struct ag_velocity *v, const struct ag_velocity_keys *k)
{
    const uint64_t keys[NCLASSES] = {k->account, k->ip, k->prefix, k->asn, k->device};
    for (int c = 0; c < NCLASSES; c++) {
        if (!keys[c])
            continue;
        const struct sethead *h = set_at(&v->t[c], set_of(&v->t[c], keys[c]));
        __builtin_prefetch(h->key);
        __builtin_prefetch(h->newest);
    }
}

void ag_velocity_snapshot(struct ag_velocity *v, const struct ag_velocity_keys *k,
                          int64_t now_ms, struct ag_velocity_counts *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = bucket_of(v, now_ms);
    struct sethead *h;
    size_t si;
    int w;
    if (k->account) {
        w = way_lock(v, K_ACCOUNT, k->account, false, 0, &h, &si);
        if (w >= 0) {
            out->fail_account = sum_ring(v, K_ACCOUNT, h, w, 0, now);
            out->mfa_fail_account = sum_ring(v, K_ACCOUNT, h, w, 1, now);
        }
        way_unlock(v, K_ACCOUNT, si);
    }
    if (k->ip) {
        w = way_lock(v, K_IP, k->ip, false, 0, &h, &si);
        if (w >= 0) {
            out->fail_ip = sum_ring(v, K_IP, h, w, 0, now);
            out->attempts_ip = sum_ring(v, K_IP, h, w, 1, now);
            out->accounts_per_ip = distinct_of(v, K_IP, h, w, now);
        }
        way_unlock(v, K_IP, si);
    }
    if (k->prefix) {
        w = way_lock(v, K_PREFIX, k->prefix, false, 0, &h, &si);
        if (w >= 0)
            out->fail_prefix = sum_ring(v, K_PREFIX, h, w, 0, now);
        way_unlock(v, K_PREFIX, si);
    }
    if (k->asn) {
        w = way_lock(v, K_ASN, k->asn, false, 0, &h, &si);
        if (w >= 0)
            out->fail_asn = sum_ring(v, K_ASN, h, w, 0, now);
        way_unlock(v, K_ASN, si);
    }
    if (k->device) {
        w = way_lock(v, K_DEVICE, k->device, false, 0, &h, &si);
        if (w >= 0)
            out->accounts_per_device = distinct_of(v, K_DEVICE, h, w, now);
        way_unlock(v, K_DEVICE, si);
    }
}

void ag_velocity_record(struct ag_velocity *v, const struct ag_velocity_keys *k, unsigned what,
                        int64_t at_ms)
{
    int64_t b = bucket_of(v, at_ms);
    struct sethead *h;
    size_t si;
    int w;
    bool attempt = what & AG_VEL_REC_ATTEMPT, fail = what & AG_VEL_REC_FAIL;
    if (k->account && (fail || (what & AG_VEL_REC_MFA_FAIL))) {
        w = way_lock(v, K_ACCOUNT, k->account, true, b, &h, &si);
        advance(v, K_ACCOUNT, h, w, b);
        if (fail)
            bump(v, K_ACCOUNT, h, w, 0, b);
        if (what & AG_VEL_REC_MFA_FAIL)
            bump(v, K_ACCOUNT, h, w, 1, b);
        way_unlock(v, K_ACCOUNT, si);
    }
    if (k->ip && (attempt || fail)) {
        w = way_lock(v, K_IP, k->ip, true, b, &h, &si);
        advance(v, K_IP, h, w, b);
        if (fail)
            bump(v, K_IP, h, w, 0, b);
        if (attempt) {
            bump(v, K_IP, h, w, 1, b);
            mark(v, K_IP, h, w, k->account, b);
        }
        way_unlock(v, K_IP, si);
    }
    if (k->prefix && fail) {
        w = way_lock(v, K_PREFIX, k->prefix, true, b, &h, &si);
        advance(v, K_PREFIX, h, w, b);
        bump(v, K_PREFIX, h, w, 0, b);
        way_unlock(v, K_PREFIX, si);
    }
    if (k->asn && fail) {
        w = way_lock(v, K_ASN, k->asn, true, b, &h, &si);
        advance(v, K_ASN, h, w, b);
        bump(v, K_ASN, h, w, 0, b);
        way_unlock(v, K_ASN, si);
    }
    if (k->device && attempt) {
        w = way_lock(v, K_DEVICE, k->device, true, b, &h, &si);
        advance(v, K_DEVICE, h, w, b);
        mark(v, K_DEVICE, h, w, k->account, b);
        way_unlock(v, K_DEVICE, si);
    }
}

/* --- travel ------------------------------------------------------------- */

int ag_velocity_travel(const char *from_cc, int64_t from_ms, const char *to_cc, int64_t to_ms,
                       double *km, double *kmh)
{
    *km = *kmh = 0;
    const struct ag_geo_country *a = ag_geo_country_find(from_cc);
    const struct ag_geo_country *b = ag_geo_country_find(to_cc);
    if (!a || !b)
        return AG_ENOTFOUND;
    *km = ag_geo_distance_km(a->lat, a->lon, b->lat, b->lon);
    double hours = (double)(to_ms - from_ms) / 3600000.0;
    if (hours < 1.0 / 60)
        hours = 1.0 / 60;
    *kmh = *km / hours;
    return 0;
}
