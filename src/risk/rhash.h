/* Fast non-cryptographic hashing for the risk module's tables (feature
 * values, cache keys). Not for secrets; collisions only blur statistics. */
#ifndef AG_RISK_RHASH_H
#define AG_RISK_RHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t ag_rh_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* 64-bit hash of <n> bytes with <seed>: 8 bytes per step, then a finalizer. */
static inline uint64_t ag_rh_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        h = (h ^ ag_rh_mix(k)) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t k = 0;
    memcpy(&k, s, n);
    h = (h ^ ag_rh_mix(k ^ 0x5bd1e995ULL)) * 0x9e3779b97f4a7c15ULL;
    return ag_rh_mix(h);
}

static inline uint64_t ag_rh_str(const char *s, uint64_t seed) { return ag_rh_bytes(s, strlen(s), seed); }

/* Fold a 64-bit hash to a nonzero 32-bit fingerprint. */
static inline uint32_t ag_rh_fold32(uint64_t h)
{
    uint32_t v = (uint32_t)(h ^ (h >> 32));
    return v ? v : 1;
}

#endif
