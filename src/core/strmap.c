/* Open-addressing string map with tombstones and doubling. */
#include "core/strmap.h"
#include "core/err.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static char tombstone_key[] = "";
#define TOMB tombstone_key

static struct ag_strmap_slot *find(const struct ag_strmap *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct ag_strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static int grow(struct ag_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    if (m->len * 4 < m->cap) /* mostly tombstones: rehash at the same size */
        ncap = m->cap;
    struct ag_strmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return AG_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct ag_strmap_slot *s = &m->slots[i];
        if (!s->key || s->key == TOMB)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->len;
    return 0;
}

void *ag_strmap_get(const struct ag_strmap *m, const char *key)
{
    struct ag_strmap_slot *s = find(m, key, ag_hash_str(key));
    return s ? s->value : NULL;
}

int ag_strmap_put(struct ag_strmap *m, const char *key, void *value, void **old)
{
    uint64_t h = ag_hash_str(key);
    struct ag_strmap_slot *s = find(m, key, h);
    if (s) {
        if (old)
            *old = s->value;
        s->value = value;
        return 0;
    }
    if (old)
        *old = NULL;
    if ((m->used + 1) * 4 >= m->cap * 3 && grow(m))
        return AG_ENOMEM;
    char *k = strdup(key);
    if (!k)
        return AG_ENOMEM;
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key && m->slots[i].key != TOMB)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i] = (struct ag_strmap_slot){k, h, value};
    m->len++;
    return 0;
}

void *ag_strmap_del(struct ag_strmap *m, const char *key)
{
    struct ag_strmap_slot *s = find(m, key, ag_hash_str(key));
    if (!s)
        return NULL;
    void *v = s->value;
    free(s->key);
    s->key = TOMB;
    s->value = NULL;
    m->len--;
    return v;
}

void ag_strmap_each(const struct ag_strmap *m, int (*fn)(void *, const char *, void *), void *arg)
{
    for (size_t i = 0; i < m->cap; i++) {
        struct ag_strmap_slot *s = &m->slots[i];
        if (s->key && s->key != TOMB && fn(arg, s->key, s->value))
            return;
    }
}

void ag_strmap_free(struct ag_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMB)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}
