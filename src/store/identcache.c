/* The identity read cache (store_impl.h): the two identity reads every login
 * makes (is this device trusted; the account's identity record, for its
 * mfa_reverify flag) answered from memory when nothing about the account
 * has been written since.
 *
 * Invalidation is by generation, never by time: the account hashes to one of
 * IC_BUCKETS counters. A write bumps its account's counter when the job runs
 * and again after its batch commits (or rolls back); an entry is used only
 * while the counter still holds the value read *before* the database read
 * that filled it. So a reader that raced with a write either read before the
 * first bump (its entry is stale at once) or between the two (stale at the
 * second) — no interleaving keeps a pre-write answer alive after the commit.
 * A batch that touches more accounts than a tx records bumps the global
 * epoch instead, which voids every entry.
 *
 * Only the SQLite store caches: on PostgreSQL other nodes write the same rows
 * and this process would not see their writes. */
#include "store/store_impl.h"
#include "store/identity.h"
#include "core/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define IC_BUCKETS 4096
#define IC_WAYS 4
#define IC_SETS 4096 /* per kind; IC_WAYS entries a set */
#define IC_LOCKS 64

/* What both kinds of entry begin with. */
struct ic_head {
    uint32_t gen, epoch;
    uint16_t bucket;
    bool valid, found;
};

struct ic_dev {
    struct ic_head h;
    bool trusted;
    char account_id[AG_STORE_ID_MAX];
    char device_id[AG_STORE_ID_MAX];
};

struct ic_acc {
    struct ic_head h;
    struct ag_ident_account_rec rec;
};

/* A device sighting written (committed) at <at> with these details. */
struct ic_seen {
    struct ic_head h;
    int64_t at;
    uint64_t details; /* hash of ip, country and user agent */
    char account_id[AG_STORE_ID_MAX];
    char device_id[AG_STORE_ID_MAX];
};

struct ag_ident_cache {
    _Atomic uint32_t gen[IC_BUCKETS];
    _Atomic uint32_t epoch;
    pthread_mutex_t locks[IC_LOCKS];
    struct ic_dev *dev;
    struct ic_acc *acc;
    struct ic_seen *seen;
    _Atomic uint64_t hits, misses;
};

struct ag_ident_cache *ag_ident_cache_new(void)
{
    struct ag_ident_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dev = calloc(IC_SETS * IC_WAYS, sizeof *c->dev);
    c->acc = calloc(IC_SETS * IC_WAYS, sizeof *c->acc);
    c->seen = calloc(IC_SETS * IC_WAYS, sizeof *c->seen);
    if (!c->dev || !c->acc || !c->seen) {
        ag_ident_cache_free(c);
        return NULL;
    }
    for (int i = 0; i < IC_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void ag_ident_cache_free(struct ag_ident_cache *c)
{
    if (!c)
        return;
    if (c->dev && c->acc && c->seen)
        for (int i = 0; i < IC_LOCKS; i++)
            pthread_mutex_destroy(&c->locks[i]);
    free(c->dev);
    free(c->acc);
    free(c->seen);
    free(c);
}

/* The string hash mixed again (MurmurHash3's finalizer): similar ids
 * ("u_1", "d_1") otherwise crowd into the same few sets. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static unsigned bucket_of(const char *account_id)
{
    return (unsigned)(mix(ag_hash_str(account_id)) % IC_BUCKETS);
}

void ag_store_ident_cache_touch(struct ag_store_tx *tx, const char *account_id)
{
    struct ag_ident_cache *c = ag_store_ident_cache(tx->s);
    if (!c)
        return;
    unsigned b = bucket_of(account_id);
    atomic_fetch_add(&c->gen[b], 1);
    for (int i = 0; i < tx->ntouched; i++)
        if (tx->touched[i] == b)
            return;
    if (tx->ntouched < (int)(sizeof tx->touched / sizeof tx->touched[0]))
        tx->touched[tx->ntouched++] = (uint16_t)b;
    else
        tx->touched_all = true;
}

void ag_store_ident_cache_settled(struct ag_store_tx *tx)
{
    struct ag_ident_cache *c = ag_store_ident_cache(tx->s);
    if (!c)
        return;
    for (int i = 0; i < tx->ntouched; i++)
        atomic_fetch_add(&c->gen[tx->touched[i]], 1);
    if (tx->touched_all)
        atomic_fetch_add(&c->epoch, 1);
    tx->ntouched = 0;
    tx->touched_all = false;
}

/* The stamp an entry filled now must carry to stay usable. */
struct stamp {
    uint32_t gen, epoch;
};

static struct stamp stamp_now(struct ag_ident_cache *c, unsigned b)
{
    return (struct stamp){atomic_load(&c->gen[b]), atomic_load(&c->epoch)};
}

/* Whether an entry may answer for a reader holding stamp <st>. */
static bool fresh(const struct ic_head *e, struct stamp st)
{
    return e->valid && e->gen == st.gen && e->epoch == st.epoch;
}

/* The way of a set (entries <stride> bytes apart) to fill: a free or
 * outdated one (by its own account's counter), else one chosen by <h>. */
static int pick_way(struct ag_ident_cache *c, void *set, size_t stride, uint64_t h)
{
    for (int i = 0; i < IC_WAYS; i++) {
        const struct ic_head *e = (const struct ic_head *)((char *)set + (size_t)i * stride);
        if (!fresh(e, stamp_now(c, e->bucket)))
            return i;
    }
    return (int)((h >> 32) % IC_WAYS);
}

/* Fill the head of a new entry. */
static void head_set(struct ic_head *e, unsigned bucket, struct stamp st, bool found)
{
    *e = (struct ic_head){.gen = st.gen, .epoch = st.epoch, .bucket = (uint16_t)bucket,
                          .valid = true, .found = found};
}

int ag_ident_cache_device_trusted(struct ag_store *s, struct ag_ident_cache *c,
                                  const char *account_id, const char *device_id, bool *trusted,
                                  struct ag_err *err)
{
    uint64_t ha = mix(ag_hash_str(account_id));
    uint64_t h = mix(ha ^ ag_hash_str(device_id));
    unsigned b = (unsigned)(ha % IC_BUCKETS);
    size_t si = (size_t)(h % IC_SETS);
    pthread_mutex_t *lock = &c->locks[si % IC_LOCKS];
    struct ic_dev *set = &c->dev[si * IC_WAYS];
    struct stamp st = stamp_now(c, b);
    pthread_mutex_lock(lock);
    for (int i = 0; i < IC_WAYS; i++) {
        struct ic_dev *e = &set[i];
        if (fresh(&e->h, st) && !strcmp(e->account_id, account_id) &&
            !strcmp(e->device_id, device_id)) {
            bool found = e->h.found;
            *trusted = e->trusted;
            pthread_mutex_unlock(lock);
            atomic_fetch_add(&c->hits, 1);
            if (!found)
                return ag_err_set(err, AG_ENOTFOUND, "device_not_found", "device",
                                  "no such device");
            return 0;
        }
    }
    pthread_mutex_unlock(lock);
    atomic_fetch_add(&c->misses, 1);
    struct ag_ident_device_rec d;
    int rc = ag_store_ident_device_get(s, account_id, device_id, &d, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    *trusted = !rc && d.trusted;
    if (strlen(account_id) < sizeof set->account_id && strlen(device_id) < sizeof set->device_id) {
        pthread_mutex_lock(lock);
        int w = -1; /* the key's own way if a racing reader filled it too */
        for (int i = 0; i < IC_WAYS && w < 0; i++)
            if (set[i].h.valid && !strcmp(set[i].account_id, account_id) &&
                !strcmp(set[i].device_id, device_id))
                w = i;
        struct ic_dev *e = &set[w >= 0 ? w : pick_way(c, set, sizeof *set, h)];
        head_set(&e->h, b, st, !rc);
        e->trusted = *trusted;
        strcpy(e->account_id, account_id);
        strcpy(e->device_id, device_id);
        pthread_mutex_unlock(lock);
    }
    return rc;
}

int ag_ident_cache_account_get(struct ag_store *s, struct ag_ident_cache *c,
                               const char *account_id, struct ag_ident_account_rec *out,
                               struct ag_err *err)
{
    uint64_t h = mix(ag_hash_str(account_id));
    unsigned b = (unsigned)(h % IC_BUCKETS);
    size_t si = (size_t)((h >> 16) % IC_SETS);
    pthread_mutex_t *lock = &c->locks[si % IC_LOCKS];
    struct ic_acc *set = &c->acc[si * IC_WAYS];
    struct stamp st = stamp_now(c, b);
    pthread_mutex_lock(lock);
    for (int i = 0; i < IC_WAYS; i++) {
        struct ic_acc *e = &set[i];
        if (fresh(&e->h, st) && !strcmp(e->rec.account_id, account_id)) {
            bool found = e->h.found;
            *out = e->rec;
            pthread_mutex_unlock(lock);
            atomic_fetch_add(&c->hits, 1);
            if (!found)
                return ag_err_set(err, AG_ENOTFOUND, "not_found", "", "no such identity record");
            return 0;
        }
    }
    pthread_mutex_unlock(lock);
    atomic_fetch_add(&c->misses, 1);
    int rc = ag_store_ident_account_get_uncached(s, account_id, out, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (strlen(account_id) < sizeof set->rec.account_id) {
        pthread_mutex_lock(lock);
        int w = -1; /* the key's own way if a racing reader filled it too */
        for (int i = 0; i < IC_WAYS && w < 0; i++)
            if (set[i].h.valid && !strcmp(set[i].rec.account_id, account_id))
                w = i;
        struct ic_acc *e = &set[w >= 0 ? w : pick_way(c, set, sizeof *set, h)];
        head_set(&e->h, b, st, !rc);
        if (rc) {
            memset(&e->rec, 0, sizeof e->rec);
            strcpy(e->rec.account_id, account_id);
        } else {
            e->rec = *out;
        }
        pthread_mutex_unlock(lock);
    }
    return rc;
}

/* ---- device sightings ---- */

/* How long an unchanged device's sighting goes unwritten; the store's own
 * upsert has the same rule (identity.c, q_dev_seen). */
#define SEEN_PRECISION_MS 60000

static uint64_t seen_details(const struct ag_ident_device_rec *d)
{
    return mix(ag_hash_str(d->ip) ^ mix(ag_hash_str(d->country) ^ mix(ag_hash_str(d->user_agent))));
}

static struct ic_seen *seen_find(struct ag_ident_cache *c, const struct ag_ident_device_rec *d,
                                 uint64_t *h, pthread_mutex_t **lock)
{
    uint64_t ha = mix(ag_hash_str(d->account_id));
    *h = mix(ha ^ ag_hash_str(d->device_id) ^ 0x5eed);
    size_t si = (size_t)(*h % IC_SETS);
    *lock = &c->locks[si % IC_LOCKS];
    return &c->seen[si * IC_WAYS];
}

bool ag_store_ident_device_seen_due(struct ag_store *s, const struct ag_ident_device_rec *d,
                                    uint64_t *stamp)
{
    struct ag_ident_cache *c = ag_store_ident_cache(s);
    if (!c)
        return true;
    unsigned b = bucket_of(d->account_id);
    struct stamp st = stamp_now(c, b);
    *stamp = (uint64_t)st.gen << 32 | st.epoch;
    uint64_t h;
    pthread_mutex_t *lock;
    struct ic_seen *set = seen_find(c, d, &h, &lock);
    bool due = true;
    pthread_mutex_lock(lock);
    for (int i = 0; i < IC_WAYS; i++) {
        struct ic_seen *e = &set[i];
        if (fresh(&e->h, st) && !strcmp(e->account_id, d->account_id) &&
            !strcmp(e->device_id, d->device_id)) {
            due = !(d->last_seen >= e->at && d->last_seen < e->at + SEEN_PRECISION_MS &&
                    e->details == seen_details(d));
            break;
        }
    }
    pthread_mutex_unlock(lock);
    return due;
}

void ag_store_ident_device_seen_written(struct ag_store *s, const struct ag_ident_device_rec *d,
                                        uint64_t stamp)
{
    struct ag_ident_cache *c = ag_store_ident_cache(s);
    if (!c || strlen(d->account_id) >= AG_STORE_ID_MAX || strlen(d->device_id) >= AG_STORE_ID_MAX)
        return;
    struct stamp st = {(uint32_t)(stamp >> 32), (uint32_t)stamp};
    uint64_t h;
    pthread_mutex_t *lock;
    struct ic_seen *set = seen_find(c, d, &h, &lock);
    pthread_mutex_lock(lock);
    struct ic_seen *e = NULL;
    for (int i = 0; i < IC_WAYS && !e; i++)
        if (set[i].h.valid && !strcmp(set[i].account_id, d->account_id) &&
            !strcmp(set[i].device_id, d->device_id))
            e = &set[i];
    if (!e)
        e = &set[pick_way(c, set, sizeof *set, h)];
    head_set(&e->h, bucket_of(d->account_id), st, true);
    e->at = d->last_seen;
    e->details = seen_details(d);
    strcpy(e->account_id, d->account_id);
    strcpy(e->device_id, d->device_id);
    pthread_mutex_unlock(lock);
}

void ag_store_ident_cache_counts(struct ag_store *s, uint64_t *hits, uint64_t *misses)
{
    struct ag_ident_cache *c = ag_store_ident_cache(s);
    *hits = c ? atomic_load(&c->hits) : 0;
    *misses = c ? atomic_load(&c->misses) : 0;
}
