/* Large fixed tables (sketches, velocity windows, caches) are read at random
 * on every event: allocating them on 2 MB boundaries and asking for
 * transparent huge pages saves most of the TLB misses. Zeroed; free with
 * free(). */
#ifndef AG_RISK_BIGMEM_H
#define AG_RISK_BIGMEM_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static inline void *ag_risk_big_calloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    size_t align = n >= huge ? huge : 64;
    size_t sz = (n + align - 1) / align * align;
    void *p = aligned_alloc(align, sz);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align == huge)
        madvise(p, sz, MADV_HUGEPAGE); /* a hint: failure is fine */
#endif
    memset(p, 0, sz);
    return p;
}

#endif
