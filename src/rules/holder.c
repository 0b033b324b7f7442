/* The rules holder: the one current rule set of a running service, swapped
 * whole on reload. A short mutex covers only "read the pointer and take a
 * reference" and "replace the pointer"; compiling happens outside it, so a
 * reload never stalls evaluators, and a failed reload leaves the current set
 * in place. Per-thread readers skip even that lock while the generation is
 * unchanged. */
#include "rules/internal.h"

#include "core/util.h"

#include <pthread.h>
#include <stdlib.h>

struct ag_rules_holder {
    pthread_mutex_t lock;
    struct ag_rules *cur;  /* guarded by lock */
    _Atomic uint64_t gen;  /* written under lock */
};

struct ag_rules_holder *ag_rules_holder_new(struct ag_rules *initial)
{
    struct ag_rules_holder *h = ag_calloc(1, sizeof *h);
    if (!h) {
        ag_rules_release(initial);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    h->cur = initial;
    atomic_init(&h->gen, 1);
    return h;
}

void ag_rules_holder_free(struct ag_rules_holder *h)
{
    if (!h)
        return;
    ag_rules_release(h->cur);
    h->cur = NULL;
    pthread_mutex_destroy(&h->lock);
    free(h);
}

struct ag_rules *ag_rules_holder_get(struct ag_rules_holder *h)
{
    pthread_mutex_lock(&h->lock);
    struct ag_rules *s = ag_rules_acquire(h->cur);
    pthread_mutex_unlock(&h->lock);
    return s;
}

void ag_rules_holder_swap(struct ag_rules_holder *h, struct ag_rules *set)
{
    pthread_mutex_lock(&h->lock);
    struct ag_rules *old = h->cur;
    h->cur = set;
    atomic_fetch_add_explicit(&h->gen, 1, memory_order_release);
    pthread_mutex_unlock(&h->lock);
    /* Evaluators still holding <old> keep it alive; it is freed with the last. */
    ag_rules_release(old);
}

int ag_rules_holder_reload_text(struct ag_rules_holder *h, const struct ag_rules_schema *schema,
                                const char *name, const char *text, size_t len,
                                struct ag_rules_pos *pos, struct ag_err *err)
{
    struct ag_rules *s;
    int rc = ag_rules_compile(schema, name, text, len, &s, pos, err);
    if (rc < 0)
        return rc;
    ag_rules_holder_swap(h, s);
    return 0;
}

int ag_rules_holder_reload_file(struct ag_rules_holder *h, const struct ag_rules_schema *schema,
                                const char *path, struct ag_rules_pos *pos, struct ag_err *err)
{
    struct ag_rules *s;
    int rc = ag_rules_compile_file(schema, path, &s, pos, err);
    if (rc < 0)
        return rc;
    ag_rules_holder_swap(h, s);
    return 0;
}

uint64_t ag_rules_holder_generation(const struct ag_rules_holder *h)
{
    return atomic_load_explicit(&h->gen, memory_order_acquire);
}

const struct ag_rules *ag_rules_reader_get(struct ag_rules_reader *r, struct ag_rules_holder *h)
{
    uint64_t gen = atomic_load_explicit(&h->gen, memory_order_acquire);
    if (r->gen == gen && r->gen != 0)
        return r->set;
    pthread_mutex_lock(&h->lock);
    struct ag_rules *s = ag_rules_acquire(h->cur);
    gen = atomic_load_explicit(&h->gen, memory_order_relaxed);
    pthread_mutex_unlock(&h->lock);
    ag_rules_release(r->set);
    r->set = s;
    r->gen = gen;
    return s;
}

void ag_rules_reader_close(struct ag_rules_reader *r)
{
    ag_rules_release(r->set);
    r->set = NULL;
    r->gen = 0;
}
