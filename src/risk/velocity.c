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
#define MAXB 16

struct cent {
    uint64_t key;     /* 0: empty */
    int64_t newest;   /* absolute index of the newest bucket */
    uint16_t c[MAXB];
};

struct dent {
    uint64_t key;
    int64_t newest;
    uint64_t bits[MAXB];
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

static int table_init(struct table *t, size_t capacity, size_t esize)
{
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets <<= 1;
    t->nsets = nsets;
    t->ents = calloc(nsets * WAYS, esize);
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
        rc = table_init(&v->counters[k], cap, sizeof(struct cent));
    for (int k = 0; k < AG_VEL_DISTINCT_KINDS && !rc; k++)
        rc = table_init(&v->distinct[k], cap, sizeof(struct dent));
    if (rc) {
        ag_velocity_close(v);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    v->bytes = sizeof *v;
    for (int k = 0; k < AG_VEL_COUNTER_KINDS; k++)
        v->bytes += v->counters[k].nsets * WAYS * sizeof(struct cent);
    for (int k = 0; k < AG_VEL_DISTINCT_KINDS; k++)
        v->bytes += v->distinct[k].nsets * WAYS * sizeof(struct dent);
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

/* Locate the set of <key>: returns the set index; caller locks. */
static inline size_t set_of(const struct table *t, uint64_t key)
{
    return (size_t)(ag_rh_mix(key) & (t->nsets - 1));
}

/* --- counters ----------------------------------------------------------- */

/* Advance <e>'s ring so that its newest bucket is <b>, clearing what leaves. */
static void ring_advance_c(struct cent *e, int64_t b, int nb)
{
    if (b <= e->newest)
        return;
    int64_t shift = b - e->newest;
    if (shift >= nb) {
        memset(e->c, 0, sizeof e->c);
    } else {
        for (int64_t j = e->newest + 1; j <= b; j++)
            e->c[((j % nb) + nb) % nb] = 0;
    }
    e->newest = b;
}

void ag_velocity_add(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                     int64_t at_ms)
{
    struct table *t = &v->counters[kind];
    key = fix_key(key);
    size_t set = set_of(t, key);
    struct cent *ways = (struct cent *)t->ents + set * WAYS;
    int64_t b = bucket_of(v, at_ms);
    int nb = v->buckets;
    pthread_mutex_lock(&t->locks[set % NLOCKS]);
    struct cent *e = NULL, *victim = &ways[0];
    for (int w = 0; w < WAYS; w++) {
        if (ways[w].key == key) {
            e = &ways[w];
            break;
        }
        if (victim->key && (!ways[w].key || ways[w].newest < victim->newest))
            victim = &ways[w]; /* an empty way, else the one updated longest ago */ /* an empty way, else the one updated longest ago */
    }
    if (!e) {
        e = victim;
        memset(e, 0, sizeof *e);
        e->key = key;
        e->newest = b;
    }
    ring_advance_c(e, b, nb);
    if (e->newest - b < nb) {
        uint16_t *c = &e->c[((b % nb) + nb) % nb];
        if (*c < UINT16_MAX)
            (*c)++;
    }
    pthread_mutex_unlock(&t->locks[set % NLOCKS]);
}

uint32_t ag_velocity_count(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                           int64_t now_ms)
{
    struct table *t = &v->counters[kind];
    key = fix_key(key);
    size_t set = set_of(t, key);
    struct cent *ways = (struct cent *)t->ents + set * WAYS;
    int64_t now = bucket_of(v, now_ms);
    int nb = v->buckets;
    uint32_t sum = 0;
    pthread_mutex_lock(&t->locks[set % NLOCKS]);
    for (int w = 0; w < WAYS; w++) {
        if (ways[w].key != key)
            continue;
        for (int64_t j = ways[w].newest; j > ways[w].newest - nb; j--)
            if (now - j < nb && j <= now)
                sum += ways[w].c[((j % nb) + nb) % nb];
        break;
    }
    pthread_mutex_unlock(&t->locks[set % NLOCKS]);
    return sum;
}

/* --- distinct ----------------------------------------------------------- */

void ag_velocity_add_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              uint64_t member, int64_t at_ms)
{
    struct table *t = &v->distinct[kind];
    key = fix_key(key);
    size_t set = set_of(t, key);
    struct dent *ways = (struct dent *)t->ents + set * WAYS;
    int64_t b = bucket_of(v, at_ms);
    int nb = v->buckets;
    pthread_mutex_lock(&t->locks[set % NLOCKS]);
    struct dent *e = NULL, *victim = &ways[0];
    for (int w = 0; w < WAYS; w++) {
        if (ways[w].key == key) {
            e = &ways[w];
            break;
        }
        if (victim->key && (!ways[w].key || ways[w].newest < victim->newest))
            victim = &ways[w]; /* an empty way, else the one updated longest ago */
    }
    if (!e) {
        e = victim;
        memset(e, 0, sizeof *e);
        e->key = key;
        e->newest = b;
    }
    if (b > e->newest) {
        if (b - e->newest >= nb)
            memset(e->bits, 0, sizeof e->bits);
        else
            for (int64_t j = e->newest + 1; j <= b; j++)
                e->bits[((j % nb) + nb) % nb] = 0;
        e->newest = b;
    }
    if (e->newest - b < nb)
        e->bits[((b % nb) + nb) % nb] |= 1ULL << (ag_rh_mix(member ^ 0x5eedULL) & 63);
    pthread_mutex_unlock(&t->locks[set % NLOCKS]);
}

uint32_t ag_velocity_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              int64_t now_ms)
{
    struct table *t = &v->distinct[kind];
    key = fix_key(key);
    size_t set = set_of(t, key);
    struct dent *ways = (struct dent *)t->ents + set * WAYS;
    int64_t now = bucket_of(v, now_ms);
    int nb = v->buckets;
    uint64_t bits = 0;
    pthread_mutex_lock(&t->locks[set % NLOCKS]);
    for (int w = 0; w < WAYS; w++) {
        if (ways[w].key != key)
            continue;
        for (int64_t j = ways[w].newest; j > ways[w].newest - nb; j--)
            if (now - j < nb && j <= now)
                bits |= ways[w].bits[((j % nb) + nb) % nb];
        break;
    }
    pthread_mutex_unlock(&t->locks[set % NLOCKS]);
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
