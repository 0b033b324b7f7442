/* A string-keyed hash map (open addressing, linear probing) owning copies of
 * its keys; values are opaque pointers owned by the caller. Not thread-safe:
 * callers lock. Used for hot state keyed by account, event or key ids. */
#ifndef AG_CORE_STRMAP_H
#define AG_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct ag_strmap {
    struct ag_strmap_slot {
        char *key; /* NULL = empty; tombstones use the static sentinel */
        uint64_t hash;
        void *value;
    } *slots;
    size_t cap, len, used; /* used counts tombstones too */
};

/* Value for <key>, or NULL. */
void *ag_strmap_get(const struct ag_strmap *m, const char *key);
/* Insert or replace. Returns 0, or AG_ENOMEM. *old (if not NULL) gets the
 * replaced value or NULL. */
int ag_strmap_put(struct ag_strmap *m, const char *key, void *value, void **old);
/* Remove <key>; returns its value or NULL. */
void *ag_strmap_del(struct ag_strmap *m, const char *key);
/* Call <fn> for every entry; stop when it returns non-zero. */
void ag_strmap_each(const struct ag_strmap *m, int (*fn)(void *arg, const char *key, void *value),
                    void *arg);
/* Free the table and keys (not the values). */
void ag_strmap_free(struct ag_strmap *m);

#endif
