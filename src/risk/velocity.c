/* Sliding-window counters: 8-way set-associative tables, one mutex per
 * group of sets, rings of time buckets per key. */
#include "risk/velocity.h"

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

/* One set: the keys first (one cache line to probe), then when each was
 * last updated, then the rings. */
struct cset {
    uint64_t key[WAYS];    /* 0: empty */
    int64_t newest[WAYS];  /* absolute index of the newest bucket */
    uint16_t c[WAYS][MAXB];
};

struct dset {
    uint64_t key[WAYS];
    int64_t newest[WAYS];
    uint64_t bits[WAYS][MAXB];
};

struct table {
    size_t nsets; /* power of two */
    void *ents;
    pthread_mutex_t locks[NLOCKS];
};

struct ag_velocity {
    int64_t window_ms, width_ms;
    int buckets;
    struct table counters[AG_VEL_COUNTER_KINDS];
    struct table distinct[AG_VEL_DISTINCT_KINDS];
    size_t bytes;
};

static int table_init(struct table *t, size_t capacity, size_t setsize)
{
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets <<= 1;
    t->nsets = nsets;
    t->ents = aligned_alloc(64, nsets * setsize);
    if (t->ents)
        memset(t->ents, 0, nsets * setsize);
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_init(&t->locks[i], NULL);
    return t->ents ? 0 : AG_ENOMEM;
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
    for (int k = 0; k < AG_VEL_COUNTER_KINDS && !rc; k++)
        rc = table_init(&v->counters[k], cap, sizeof(struct cset));
    for (int k = 0; k < AG_VEL_DISTINCT_KINDS && !rc; k++)
        rc = table_init(&v->distinct[k], cap, sizeof(struct dset));
    if (rc) {
        ag_velocity_close(v);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    v->bytes = sizeof *v;
    for (int k = 0; k < AG_VEL_COUNTER_KINDS; k++)
        v->bytes += v->counters[k].nsets * sizeof(struct cset);
    for (int k = 0; k < AG_VEL_DISTINCT_KINDS; k++)
        v->bytes += v->distinct[k].nsets * sizeof(struct dset);
    *out = v;
    return 0;
}

static void table_free(struct table *t)
{
    free(t->ents);
    t->ents = NULL;
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_destroy(&t->locks[i]);
}

void ag_velocity_close(struct ag_velocity *v)
{
    if (!v)
        return;
    for (int k = 0; k < AG_VEL_COUNTER_KINDS; k++)
        if (v->counters[k].ents)
            table_free(&v->counters[k]);
    for (int k = 0; k < AG_VEL_DISTINCT_KINDS; k++)
        if (v->distinct[k].ents)
            table_free(&v->distinct[k]);
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

/* Locate the set of <key>: returns the set index; caller locks. */
static inline size_t set_of(const struct table *t, uint64_t key)
{
    return (size_t)(ag_rh_mix(key) & (t->nsets - 1));
}

/* --- counters ----------------------------------------------------------- */

/* The way holding <key>, or -1. */
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

/* Ring positions of the buckets in (now - nb, now] that a ring whose newest
 * bucket is <newest> still holds: [*lo, *hi]; false if none. */
static inline bool live_range(int64_t newest, int64_t now, int nb, int64_t *lo, int64_t *hi)
{
    *hi = newest < now ? newest : now;
    *lo = now - nb + 1;
    if (*lo < newest - nb + 1)
        *lo = newest - nb + 1;
    return *hi >= *lo;
}

void ag_velocity_add(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                     int64_t at_ms)
{
    struct table *t = &v->counters[kind];
    key = fix_key(key);
    size_t si = set_of(t, key);
    struct cset *set = (struct cset *)t->ents + si;
    int64_t b = bucket_of(v, at_ms);
    int nb = v->buckets;
    pthread_mutex_lock(&t->locks[si % NLOCKS]);
    int w = find_way(set->key, key);
    if (w < 0) {
        w = victim_way(set->key, set->newest);
        set->key[w] = key;
        set->newest[w] = b;
        memset(set->c[w], 0, sizeof set->c[w]);
    }
    uint16_t *c = set->c[w];
    if (b > set->newest[w]) { /* advance the ring, clearing what leaves it */
        if (b - set->newest[w] >= nb) {
            memset(c, 0, sizeof set->c[w]);
        } else {
            for (int64_t j = set->newest[w] + 1, i = ring_index(j, nb); j <= b; j++) {
                c[i] = 0;
                if (++i == nb)
                    i = 0;
            }
        }
        set->newest[w] = b;
    }
    if (set->newest[w] - b < nb) {
        uint16_t *x = &c[ring_index(b, nb)];
        if (*x < UINT16_MAX)
            (*x)++;
    }
    pthread_mutex_unlock(&t->locks[si % NLOCKS]);
}

uint32_t ag_velocity_count(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                           int64_t now_ms)
{
    struct table *t = &v->counters[kind];
    key = fix_key(key);
    size_t si = set_of(t, key);
    struct cset *set = (struct cset *)t->ents + si;
    int64_t now = bucket_of(v, now_ms), lo, hi;
    int nb = v->buckets;
    uint32_t sum = 0;
    pthread_mutex_lock(&t->locks[si % NLOCKS]);
    int w = find_way(set->key, key);
    if (w >= 0 && live_range(set->newest[w], now, nb, &lo, &hi)) {
        int i = ring_index(lo, nb);
        for (int64_t j = lo; j <= hi; j++) {
            sum += set->c[w][i];
            if (++i == nb)
                i = 0;
        }
    }
    pthread_mutex_unlock(&t->locks[si % NLOCKS]);
    return sum;
}

void ag_velocity_prefetch(const struct ag_velocity *v, bool distinct, int kind, uint64_t key)
{
    key = fix_key(key);
    if (distinct) {
        const struct table *t = &v->distinct[kind];
        const struct dset *set = (const struct dset *)t->ents + set_of(t, key);
        __builtin_prefetch(set->key);
        __builtin_prefetch(set->newest);
    } else {
        const struct table *t = &v->counters[kind];
        const struct cset *set = (const struct cset *)t->ents + set_of(t, key);
        __builtin_prefetch(set->key);
        __builtin_prefetch(set->newest);
    }
}

/* --- distinct ----------------------------------------------------------- */

void ag_velocity_add_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              uint64_t member, int64_t at_ms)
{
    struct table *t = &v->distinct[kind];
    key = fix_key(key);
    size_t si = set_of(t, key);
    struct dset *set = (struct dset *)t->ents + si;
    int64_t b = bucket_of(v, at_ms);
    int nb = v->buckets;
    pthread_mutex_lock(&t->locks[si % NLOCKS]);
    int w = find_way(set->key, key);
    if (w < 0) {
        w = victim_way(set->key, set->newest);
        set->key[w] = key;
        set->newest[w] = b;
        memset(set->bits[w], 0, sizeof set->bits[w]);
    }
    uint64_t *bits = set->bits[w];
    if (b > set->newest[w]) {
        if (b - set->newest[w] >= nb) {
            memset(bits, 0, sizeof set->bits[w]);
        } else {
            for (int64_t j = set->newest[w] + 1, i = ring_index(j, nb); j <= b; j++) {
                bits[i] = 0;
                if (++i == nb)
                    i = 0;
            }
        }
        set->newest[w] = b;
    }
    if (set->newest[w] - b < nb)
        bits[ring_index(b, nb)] |= 1ULL << (ag_rh_mix(member ^ 0x5eedULL) & 63);
    pthread_mutex_unlock(&t->locks[si % NLOCKS]);
}

uint32_t ag_velocity_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              int64_t now_ms)
{
    struct table *t = &v->distinct[kind];
    key = fix_key(key);
    size_t si = set_of(t, key);
    struct dset *set = (struct dset *)t->ents + si;
    int64_t now = bucket_of(v, now_ms), lo, hi;
    int nb = v->buckets;
    uint64_t bits = 0;
    pthread_mutex_lock(&t->locks[si % NLOCKS]);
    int w = find_way(set->key, key);
    if (w >= 0 && live_range(set->newest[w], now, nb, &lo, &hi)) {
        int i = ring_index(lo, nb);
        for (int64_t j = lo; j <= hi; j++) {
            bits |= set->bits[w][i];
            if (++i == nb)
                i = 0;
        }
    }
    pthread_mutex_unlock(&t->locks[si % NLOCKS]);
    int ones = __builtin_popcountll(bits);
    if (ones <= 1)
        return (uint32_t)ones;
    int zeros = 64 - ones;
    if (!zeros)
        return 266; /* saturated: 64 ln 64 */
    return (uint32_t)lround(-64.0 * log((double)zeros / 64.0));
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
