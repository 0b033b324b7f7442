/* Identifiers, hex, IP checks, buffers, hashing and the allocation hook. */
#include "core/util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_id_random(char *buf, size_t len, const char *prefix, size_t n)
{
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    size_t p = strlen(prefix);
    if (p + n + 1 > len)
        n = len > p + 1 ? len - p - 1 : 0;
    memcpy(buf, prefix, p < len ? p : len - 1);
    uint8_t rnd[64];
    randombytes_buf(rnd, n < sizeof rnd ? n : sizeof rnd);
    for (size_t i = 0; i < n; i++)
        buf[p + i] = alphabet[rnd[i % sizeof rnd] & 31];
    buf[p + n] = '\0';
    sodium_memzero(rnd, sizeof rnd);
}

void ag_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool ag_ip_valid(const char *s, bool *is_v6)
{
    unsigned char tmp[16];
    if (inet_pton(AF_INET, s, tmp) == 1) {
        if (is_v6)
            *is_v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, s, tmp) == 1) {
        if (is_v6)
            *is_v6 = true;
        return true;
    }
    return false;
}

uint64_t ag_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t ag_hash_str(const char *s) { return ag_hash_bytes(s, strlen(s)); }

int ag_buf_append(struct ag_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ag_buf_printf(struct ag_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return ag_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = ag_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

void ag_buf_free(struct ag_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static atomic_long fault_countdown;
#ifdef AG_FAULT_INJECTION
static long fault_alloc_every, fault_commit_every, fault_rerun_every;
static atomic_long fault_alloc_n, fault_commit_n, fault_rerun_n;
#endif
#ifdef AG_FAULT_INJECTION
/* The k-th, 2k-th, ... call with this counter (never when k is 0). */
static bool every_kth(long k, atomic_long *n)
{
    return k > 0 && (atomic_fetch_add(n, 1) + 1) % k == 0;
}
#endif

void ag_fault_alloc_after(long nth) { atomic_store(&fault_countdown, nth); }

bool ag_fault_enabled(void)
{
#ifdef AG_FAULT_INJECTION
    return true;
#else
    return false;
#endif
}

bool ag_fault_alloc_fire(void)
{
#ifdef AG_FAULT_INJECTION
    if (every_kth(fault_alloc_every, &fault_alloc_n))
        return true;
    long v = atomic_load(&fault_countdown);
    while (v > 0) {
        if (atomic_compare_exchange_weak(&fault_countdown, &v, v - 1))
            return v == 1;
    }
#endif
    return false;
}

bool ag_fault_commit_fire(void)
{
#ifdef AG_FAULT_INJECTION
    return every_kth(fault_commit_every, &fault_commit_n);
#else
    return false;
#endif
}

bool ag_fault_rerun_fire(void)
{
#ifdef AG_FAULT_INJECTION
    return every_kth(fault_rerun_every, &fault_rerun_n);
#else
    return false;
#endif
}

/* jansson's allocations go through here, so that a parse that failed for
 * want of memory can be told from one that failed on bad input (jansson
 * does not always say so itself). */
static _Thread_local bool json_alloc_failed;

static void *json_malloc(size_t n)
{
    void *p = ag_fault_alloc_fire() ? NULL : malloc(n);
    if (!p)
        json_alloc_failed = true;
    return p;
}

bool ag_json_alloc_failed_reset(void)
{
    bool f = json_alloc_failed;
    json_alloc_failed = false;
    return f;
}

void ag_fault_setup(void)
{
#ifdef AG_FAULT_INJECTION
    const char *a = getenv("AG_FAULT_ALLOC_EVERY"), *c = getenv("AG_FAULT_COMMIT_EVERY"),
               *r = getenv("AG_FAULT_RERUN_EVERY");
    fault_alloc_every = a ? atol(a) : 0;
    fault_commit_every = c ? atol(c) : 0;
    fault_rerun_every = r ? atol(r) : 0;
#endif
    json_set_alloc_funcs(json_malloc, free);
}

void *ag_malloc(size_t n) { return ag_fault_alloc_fire() ? NULL : malloc(n); }
void *ag_calloc(size_t n, size_t size) { return ag_fault_alloc_fire() ? NULL : calloc(n, size); }
char *ag_strdup(const char *s) { return ag_fault_alloc_fire() ? NULL : strdup(s); }

bool ag_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p++;
        if (c < 0x80)
            continue;
        int more;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            more = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (end - p < more)
            return false;
        while (more--) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}
