/* Account profiles and global frequency tables.
 *
 * An account record is one allocation: a small header and the history
 * entries of all features back to back, feature by feature (len[f] entries
 * each), growing in steps of 4 entries up to the sum of the caps. An entry
 * is 8 bytes: 32-bit value fingerprint, 16-bit count, 16-bit last-seen day. */
#include "risk/profile.h"

#include "risk/bigmem.h"
#include "risk/rhash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const uint8_t ag_profile_caps[AG_PF_COUNT] = {
    [AG_PF_IP] = 8,      [AG_PF_PREFIX] = 6, [AG_PF_ASN] = 6,    [AG_PF_COUNTRY] = 4,
    [AG_PF_UA] = 6,      [AG_PF_BROWSER] = 6, [AG_PF_OS] = 4,    [AG_PF_DEVTYPE] = 3,
    [AG_PF_DEVICE] = 8,  [AG_PF_NETCLASS] = 3, [AG_PF_PREFIX_DT] = 8,
};

/* Features whose values carry a group in their low bits: statistics are
 * taken within the group of the value looked up. */
static const uint32_t group_mask[AG_PF_COUNT] = {[AG_PF_PREFIX_DT] = 7};

static const char *const feature_names[AG_PF_COUNT] = {
    "ip", "ip_prefix", "asn", "country", "user_agent", "browser", "os", "device_type",
    "device", "network_class", "ip_prefix_per_device_type",
};

const char *ag_risk_feature_name(enum ag_risk_feature f)
{
    return (unsigned)f < AG_PF_COUNT ? feature_names[f] : "?";
}

/* Count-min sketch widths (log2) per feature; depth 2. */
static const uint8_t sketch_bits[AG_PF_COUNT] = {
    [AG_PF_IP] = 19,      [AG_PF_PREFIX] = 17, [AG_PF_ASN] = 16, [AG_PF_COUNTRY] = 12,
    [AG_PF_UA] = 17,      [AG_PF_BROWSER] = 14, [AG_PF_OS] = 12, [AG_PF_DEVTYPE] = 6,
    [AG_PF_DEVICE] = 18,  [AG_PF_NETCLASS] = 4, [AG_PF_PREFIX_DT] = 17,
};
#define DEPTH 2

struct ent {
    uint32_t key;
    uint16_t count;
    uint16_t day;
};

struct acct {
    uint64_t key;
    uint32_t n;
    uint32_t last_s;
    uint16_t last_cc;
    uint8_t hours[8];
    uint8_t len[AG_PF_COUNT];
    uint8_t cap;
    struct ent e[];
};

#define NSTRIPES 1024
#define MAX_ENTRIES 62 /* sum of the caps */

struct stripe {
    pthread_mutex_t lock;
    struct acct **slots;
    uint32_t cap, len; /* cap: power of two or 0 */
} __attribute__((aligned(64)));

struct ag_profile_store {
    struct stripe stripes[NSTRIPES];
    _Atomic uint32_t *sketch[AG_PF_COUNT];
    _Atomic uint64_t total;
    _Atomic uint64_t accounts;
    _Atomic uint64_t record_bytes;
};

uint64_t ag_profile_account_key(const char *account_id)
{
    uint64_t k = ag_rh_str(account_id, 0xacc0u);
    return k ? k : 1;
}

uint32_t ag_profile_country_key(const char *cc)
{
    if (!cc || !cc[0] || !cc[1])
        return 0;
    return ((uint32_t)(unsigned char)cc[0] << 8) | (unsigned char)cc[1];
}

void ag_profile_country_str(uint32_t key, char out[3])
{
    out[0] = (char)(key >> 8);
    out[1] = (char)(key & 0xff);
    out[2] = 0;
    if (!key)
        out[0] = 0;
}

int ag_profile_store_open(size_t expected_accounts, struct ag_profile_store **out,
                          struct ag_err *err)
{
    *out = NULL;
    struct ag_profile_store *ps = aligned_alloc(64, sizeof *ps);
    if (!ps)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    memset(ps, 0, sizeof *ps);
    uint32_t per = 16;
    while (per * NSTRIPES < expected_accounts * 10 / 7)
        per <<= 1;
    for (int i = 0; i < NSTRIPES; i++) {
        pthread_mutex_init(&ps->stripes[i].lock, NULL);
        ps->stripes[i].slots = calloc(per, sizeof(struct acct *));
        ps->stripes[i].cap = per;
        if (!ps->stripes[i].slots) {
            ag_profile_store_close(ps);
            return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
        }
    }
    for (int f = 0; f < AG_PF_COUNT; f++) {
        ps->sketch[f] = ag_risk_big_calloc(((size_t)DEPTH << sketch_bits[f]) * sizeof(uint32_t));
        if (!ps->sketch[f]) {
            ag_profile_store_close(ps);
            return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
        }
    }
    *out = ps;
    return 0;
}

void ag_profile_store_close(struct ag_profile_store *ps)
{
    if (!ps)
        return;
    for (int i = 0; i < NSTRIPES; i++) {
        struct stripe *s = &ps->stripes[i];
        for (uint32_t j = 0; j < s->cap; j++)
            free(s->slots[j]);
        free(s->slots);
        pthread_mutex_destroy(&s->lock);
    }
    for (int f = 0; f < AG_PF_COUNT; f++)
        free((void *)ps->sketch[f]);
    free(ps);
}

/* --- global sketches ---------------------------------------------------- */

static inline size_t sk_index(int f, int d, uint32_t key)
{
    uint64_t h = ag_rh_mix(((uint64_t)key << 8) ^ (uint64_t)(f * 2 + d + 1) * 0x9e3779b97f4a7c15ULL);
    return ((size_t)d << sketch_bits[f]) + (size_t)(h & ((1u << sketch_bits[f]) - 1));
}

static void sk_add(struct ag_profile_store *ps, int f, uint32_t key, int64_t delta)
{
    for (int d = 0; d < DEPTH; d++) {
        _Atomic uint32_t *c = &ps->sketch[f][sk_index(f, d, key)];
        if (delta >= 0) {
            atomic_fetch_add_explicit(c, (uint32_t)delta, memory_order_relaxed);
        } else {
            uint32_t old = atomic_load_explicit(c, memory_order_relaxed), nv;
            do
                nv = old > (uint32_t)-delta ? old - (uint32_t)-delta : 0;
            while (!atomic_compare_exchange_weak_explicit(c, &old, nv, memory_order_relaxed,
                                                          memory_order_relaxed));
        }
    }
}

uint32_t ag_profile_global_count(const struct ag_profile_store *ps, enum ag_risk_feature f,
                                 uint32_t key)
{
    uint32_t m = UINT32_MAX;
    for (int d = 0; d < DEPTH; d++) {
        uint32_t c = atomic_load_explicit(&((struct ag_profile_store *)ps)->sketch[f][sk_index(f, d, key)],
                                          memory_order_relaxed);
        if (c < m)
            m = c;
    }
    return m;
}

void ag_profile_prefetch(const struct ag_profile_store *ps, const struct ag_profile_values *values)
{
    for (int f = 0; f < AG_PF_COUNT; f++)
        if (values->present >> f & 1)
            for (int d = 0; d < DEPTH; d++)
                __builtin_prefetch((const void *)&ps->sketch[f][sk_index(f, d, values->v[f])]);
}

uint64_t ag_profile_global_total(const struct ag_profile_store *ps)
{
    return atomic_load_explicit(&((struct ag_profile_store *)ps)->total, memory_order_relaxed);
}

uint64_t ag_profile_accounts(const struct ag_profile_store *ps)
{
    return atomic_load_explicit(&((struct ag_profile_store *)ps)->accounts, memory_order_relaxed);
}

/* --- account table (caller holds the stripe lock) ------------------------ */

static inline struct stripe *stripe_of(struct ag_profile_store *ps, uint64_t key)
{
    return &ps->stripes[(key >> 40) & (NSTRIPES - 1)];
}

static struct acct **slot_find(struct stripe *s, uint64_t key)
{
    uint32_t m = s->cap - 1;
    for (uint32_t i = (uint32_t)key & m;; i = (i + 1) & m) {
        if (!s->slots[i] || s->slots[i]->key == key)
            return &s->slots[i];
    }
}

static int stripe_grow(struct stripe *s)
{
    uint32_t ncap = s->cap * 2;
    struct acct **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return AG_ENOMEM;
    for (uint32_t i = 0; i < s->cap; i++) {
        struct acct *a = s->slots[i];
        if (!a)
            continue;
        uint32_t j = (uint32_t)a->key & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = a;
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
    return 0;
}

static inline size_t acct_size(unsigned cap) { return sizeof(struct acct) + cap * sizeof(struct ent); }
/* malloc's chunk: 8 bytes of header, rounded to 16. */
static inline size_t chunk_size(size_t n) { return (n + 8 + 15) & ~(size_t)15; }

static inline unsigned feat_off(const struct acct *a, int f)
{
    unsigned o = 0;
    for (int i = 0; i < f; i++)
        o += a->len[i];
    return o;
}

static inline unsigned total_len(const struct acct *a) { return feat_off(a, AG_PF_COUNT); }

/* --- lookup ------------------------------------------------------------- */

void ag_profile_lookup(struct ag_profile_store *ps, uint64_t account,
                       const struct ag_profile_values *values, struct ag_profile_view *out)
{
    memset(out, 0, sizeof *out);
    struct stripe *s = stripe_of(ps, account);
    pthread_mutex_lock(&s->lock);
    struct acct *a = *slot_find(s, account);
    if (a) {
        out->exists = true;
        out->n = a->n;
        out->last_login_s = a->last_s;
        ag_profile_country_str(a->last_cc, out->last_country);
        memcpy(out->hours, a->hours, sizeof out->hours);
        unsigned o = 0;
        for (int f = 0; f < AG_PF_COUNT; f++) {
            const struct ent *e = &a->e[o];
            uint16_t best = 0;
            uint32_t mass = 0;
            uint32_t g = group_mask[f];
            uint8_t nd = 0;
            for (unsigned i = 0; i < a->len[f]; i++) {
                if (g && (values->present >> f & 1) && (e[i].key & g) != (values->v[f] & g))
                    continue;
                nd++;
                mass += e[i].count;
                if (e[i].count > best) {
                    best = e[i].count;
                    out->top[f] = e[i].key;
                }
                if ((values->present >> f & 1) && e[i].key == values->v[f])
                    out->count[f] = e[i].count;
            }
            out->mass[f] = mass;
            out->distinct[f] = nd;
            o += a->len[f];
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* --- learning ----------------------------------------------------------- */

/* Add one sighting of <key> to feature <f> of *<ap> (which may move).
 * <ps> (for its memory count) may be NULL. */
static int hist_add(struct ag_profile_store *ps, struct acct **ap, int f, uint32_t key,
                    uint16_t day)
{
    struct acct *a = *ap;
    unsigned off = feat_off(a, f);
    struct ent *e = &a->e[off];
    for (unsigned i = 0; i < a->len[f]; i++) {
        if (e[i].key == key) {
            if (e[i].count < UINT16_MAX)
                e[i].count++;
            e[i].day = day;
            return 0;
        }
    }
    if (a->len[f] >= ag_profile_caps[f]) {
        /* evict the least recently seen, then the least frequent */
        unsigned v = 0;
        for (unsigned i = 1; i < a->len[f]; i++)
            if (e[i].day < e[v].day || (e[i].day == e[v].day && e[i].count < e[v].count))
                v = i;
        e[v] = (struct ent){key, 1, day};
        return 0;
    }
    unsigned tot = total_len(a);
    if (tot + 1 > a->cap) {
        unsigned ncap = a->cap + 4;
        if (ncap > MAX_ENTRIES)
            ncap = MAX_ENTRIES;
        struct acct *na = realloc(a, acct_size(ncap));
        if (!na)
            return AG_ENOMEM;
        if (ps)
            atomic_fetch_add_explicit(&ps->record_bytes,
                                      chunk_size(acct_size(ncap)) - chunk_size(acct_size(na->cap)),
                                      memory_order_relaxed);
        na->cap = (uint8_t)ncap;
        *ap = a = na;
        e = &a->e[off];
    }
    unsigned end = off + a->len[f];
    memmove(&a->e[end + 1], &a->e[end], (tot - end) * sizeof(struct ent));
    a->e[end] = (struct ent){key, 1, day};
    a->len[f]++;
    return 0;
}

static struct acct *acct_new(struct ag_profile_store *ps, uint64_t key)
{
    unsigned cap = 12;
    struct acct *a = calloc(1, acct_size(cap));
    if (!a)
        return NULL;
    a->key = key;
    a->cap = (uint8_t)cap;
    atomic_fetch_add_explicit(&ps->record_bytes, chunk_size(acct_size(cap)), memory_order_relaxed);
    atomic_fetch_add_explicit(&ps->accounts, 1, memory_order_relaxed);
    return a;
}

/* Find or create the account's slot; caller holds the stripe lock. */
static struct acct **acct_slot(struct ag_profile_store *ps, struct stripe *s, uint64_t key,
                               bool create)
{
    struct acct **sl = slot_find(s, key);
    if (*sl || !create)
        return sl;
    if ((s->len + 1) * 10 > s->cap * 7) {
        if (stripe_grow(s))
            return NULL;
        sl = slot_find(s, key);
    }
    if (!(*sl = acct_new(ps, key)))
        return NULL;
    s->len++;
    return sl;
}

/* Learn one successful login into the history *<ap> (which may move);
 * <ps> may be NULL. The global tables are the caller's. */
static int acct_learn(struct ag_profile_store *ps, struct acct **ap,
                      const struct ag_profile_values *values, int64_t at_ms, const char *country)
{
    uint16_t day = (uint16_t)(at_ms > 0 ? at_ms / 86400000 : 0);
    int rc = 0;
    for (int f = 0; f < AG_PF_COUNT && !rc; f++)
        if (values->present >> f & 1)
            rc = hist_add(ps, ap, f, values->v[f], day);
    struct acct *a = *ap;
    if (a->n < UINT32_MAX)
        a->n++;
    if (at_ms > 0)
        a->last_s = (uint32_t)(at_ms / 1000);
    a->last_cc = (uint16_t)ag_profile_country_key(country);
    int slot = (int)((at_ms / 1000 % 86400 + 86400) % 86400 / 10800);
    if (a->hours[slot] == UINT8_MAX)
        for (int i = 0; i < 8; i++)
            a->hours[i] /= 2;
    a->hours[slot]++;
    return rc;
}

int ag_profile_learn(struct ag_profile_store *ps, uint64_t account,
                     const struct ag_profile_values *values, int64_t at_ms, const char *country)
{
    struct stripe *s = stripe_of(ps, account);
    pthread_mutex_lock(&s->lock);
    struct acct **sl = acct_slot(ps, s, account, true);
    if (!sl) {
        pthread_mutex_unlock(&s->lock);
        return AG_ENOMEM;
    }
    int rc = acct_learn(ps, sl, values, at_ms, country);
    pthread_mutex_unlock(&s->lock);
    for (int f = 0; f < AG_PF_COUNT; f++)
        if (values->present >> f & 1)
            sk_add(ps, f, values->v[f], 1);
    atomic_fetch_add_explicit(&ps->total, 1, memory_order_relaxed);
    return rc;
}

/* --- blobs -------------------------------------------------------------- */

#define BLOB_MAGIC "AGP"
#define BLOB_VERSION 1
#define BLOB_HEADER (4 + 8 + 4 + 4 + 2 + 8 + AG_PF_COUNT)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* Serialize <a> into <buf>: the blob's length, or AG_ELIMIT. */
static int acct_encode(const struct acct *a, uint8_t *buf, size_t cap)
{
    unsigned tot = total_len(a);
    size_t need = BLOB_HEADER + (size_t)tot * 8;
    if (need > cap)
        return AG_ELIMIT;
    uint8_t *p = buf;
    memcpy(p, BLOB_MAGIC, 3);
    p[3] = BLOB_VERSION;
    put64(p + 4, a->key);
    put32(p + 12, a->n);
    put32(p + 16, a->last_s);
    put16(p + 20, a->last_cc);
    memcpy(p + 22, a->hours, 8);
    memcpy(p + 30, a->len, AG_PF_COUNT);
    p += BLOB_HEADER;
    for (unsigned i = 0; i < tot; i++, p += 8) {
        put32(p, a->e[i].key);
        put16(p + 4, a->e[i].count);
        put16(p + 6, a->e[i].day);
    }
    return (int)need;
}

int ag_profile_blob_get(struct ag_profile_store *ps, uint64_t account, uint8_t *buf, size_t cap)
{
    struct stripe *s = stripe_of(ps, account);
    pthread_mutex_lock(&s->lock);
    struct acct *a = *slot_find(s, account);
    int rc = a ? acct_encode(a, buf, cap) : AG_ENOTFOUND;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void global_apply(struct ag_profile_store *ps, const struct acct *a, int sign)
{
    unsigned o = 0;
    for (int f = 0; f < AG_PF_COUNT; f++) {
        for (unsigned i = 0; i < a->len[f]; i++)
            sk_add(ps, f, a->e[o + i].key, sign * (int64_t)a->e[o + i].count);
        o += a->len[f];
    }
    if (sign > 0)
        atomic_fetch_add_explicit(&ps->total, a->n, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&ps->total, a->n, memory_order_relaxed);
}

/* Parse <blob> of <account> into a new record *<out> (the caller's to free).
 * AG_EINVAL if it is malformed, AG_ENOMEM. */
static int acct_decode(uint64_t account, const uint8_t *blob, size_t len, struct acct **out,
                       struct ag_err *err)
{
    if (len < BLOB_HEADER || memcmp(blob, BLOB_MAGIC, 3) || blob[3] != BLOB_VERSION)
        return ag_err_set(err, AG_EINVAL, "bad_profile", "", "not a version %d profile blob",
                          BLOB_VERSION);
    unsigned tot = 0;
    for (int f = 0; f < AG_PF_COUNT; f++) {
        if (blob[30 + f] > ag_profile_caps[f])
            return ag_err_set(err, AG_EINVAL, "bad_profile", "",
                              "profile blob: %u %s values, more than the cap of %u",
                              blob[30 + f], ag_risk_feature_name(f), ag_profile_caps[f]);
        tot += blob[30 + f];
    }
    if (len != BLOB_HEADER + (size_t)tot * 8)
        return ag_err_set(err, AG_EINVAL, "bad_profile", "",
                          "profile blob: %zu bytes, expected %zu", len,
                          (size_t)BLOB_HEADER + (size_t)tot * 8);
    if (get64(blob + 4) != account)
        return ag_err_set(err, AG_EINVAL, "bad_profile", "",
                          "profile blob belongs to another account");
    unsigned cap = tot < 12 ? 12 : (tot + 3) / 4 * 4;
    if (cap > MAX_ENTRIES)
        cap = MAX_ENTRIES;
    struct acct *na = calloc(1, acct_size(cap));
    if (!na)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    na->key = account;
    na->cap = (uint8_t)cap;
    na->n = get32(blob + 12);
    na->last_s = get32(blob + 16);
    na->last_cc = get16(blob + 20);
    memcpy(na->hours, blob + 22, 8);
    memcpy(na->len, blob + 30, AG_PF_COUNT);
    const uint8_t *p = blob + BLOB_HEADER;
    for (unsigned i = 0; i < tot; i++, p += 8)
        na->e[i] = (struct ent){get32(p), get16(p + 4), get16(p + 6)};
    *out = na;
    return 0;
}

int ag_profile_blob_put(struct ag_profile_store *ps, uint64_t account, const uint8_t *blob,
                        size_t len, struct ag_err *err)
{
    struct acct *na;
    int rc = acct_decode(account, blob, len, &na, err);
    if (rc)
        return rc;
    struct stripe *s = stripe_of(ps, account);
    pthread_mutex_lock(&s->lock);
    struct acct **sl = acct_slot(ps, s, account, true);
    if (!sl) {
        pthread_mutex_unlock(&s->lock);
        free(na);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    struct acct *old = *sl;
    global_apply(ps, old, -1);
    atomic_fetch_sub_explicit(&ps->record_bytes, chunk_size(acct_size(old->cap)),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&ps->record_bytes, chunk_size(acct_size(na->cap)),
                              memory_order_relaxed);
    *sl = na;
    global_apply(ps, na, +1);
    pthread_mutex_unlock(&s->lock);
    free(old);
    return 0;
}

int ag_profile_blob_learn(uint64_t account, const uint8_t *blob, size_t len,
                          const struct ag_profile_values *values, int64_t at_ms,
                          const char *country, uint8_t *out, size_t cap, struct ag_err *err)
{
    struct acct *a = NULL;
    int rc;
    if (len) {
        if ((rc = acct_decode(account, blob, len, &a, err)))
            return rc;
    } else if (!(a = calloc(1, acct_size(12)))) {
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    } else {
        a->key = account;
        a->cap = 12;
    }
    if ((rc = acct_learn(NULL, &a, values, at_ms, country)))
        ag_err_set(err, rc, "", "", "out of memory");
    else if ((rc = acct_encode(a, out, cap)) < 0)
        ag_err_set(err, rc, "", "", "profile blob larger than %zu bytes", cap);
    free(a);
    return rc;
}

void ag_profile_mem(struct ag_profile_store *ps, struct ag_profile_mem *out)
{
    memset(out, 0, sizeof *out);
    out->accounts = (size_t)ag_profile_accounts(ps);
    out->account_bytes = (size_t)atomic_load(&ps->record_bytes);
    for (int i = 0; i < NSTRIPES; i++) {
        pthread_mutex_lock(&ps->stripes[i].lock);
        out->table_bytes += ps->stripes[i].cap * sizeof(struct acct *);
        pthread_mutex_unlock(&ps->stripes[i].lock);
    }
    out->table_bytes += sizeof *ps;
    for (int f = 0; f < AG_PF_COUNT; f++)
        out->global_bytes += ((size_t)DEPTH << sketch_bits[f]) * sizeof(uint32_t);
}
