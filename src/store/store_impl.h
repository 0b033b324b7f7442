/* Internal to src/store: what the record files (core.c and one per
 * subsystem) need from the generic store: a read connection from the pool,
 * and the writer's connection inside a job. */
#ifndef AG_STORE_IMPL_H
#define AG_STORE_IMPL_H

#include "store/db.h"
#include "store/store.h"

struct ag_store_tx {
    struct ag_store *s;
    struct ag_db *db;
    /* identity-cache buckets the batch wrote (identcache.c): bumped again
     * once the batch has committed or rolled back */
    uint16_t touched[64];
    int ntouched;
    bool touched_all;
};

/* Borrow a read connection (blocks while all are busy); give it back. */
struct ag_db *ag_store_read_acquire(struct ag_store *s);
void ag_store_read_release(struct ag_store *s, struct ag_db *db);

/* The identity read cache (identcache.c); NULL on PostgreSQL, whose rows
 * other nodes write too. */
struct ag_ident_cache;
struct ag_ident_cache *ag_store_ident_cache(struct ag_store *s);
struct ag_ident_cache *ag_ident_cache_new(void);
void ag_ident_cache_free(struct ag_ident_cache *c);
/* A job is about to write <account_id>'s identity rows (trust, flags,
 * password): entries for it stop being used now and again after commit. */
void ag_store_ident_cache_touch(struct ag_store_tx *tx, const char *account_id);
/* The batch committed or rolled back: the second bump (store.c). */
void ag_store_ident_cache_settled(struct ag_store_tx *tx);
struct ag_ident_account_rec;
int ag_ident_cache_device_trusted(struct ag_store *s, struct ag_ident_cache *c,
                                  const char *account_id, const char *device_id, bool *trusted,
                                  struct ag_err *err);
int ag_ident_cache_account_get(struct ag_store *s, struct ag_ident_cache *c,
                               const char *account_id, struct ag_ident_account_rec *out,
                               struct ag_err *err);
/* The read behind the account cache (identity.c); device records are not
 * cached, only their trust (ag_store_ident_device_trusted). */
int ag_store_ident_account_get_uncached(struct ag_store *s, const char *account_id,
                                        struct ag_ident_account_rec *out, struct ag_err *err);
/* Read an account row whose first nine columns are, in this order, id, role,
 * state, frozen_reason, frozen_by, frozen_until, locale, created_at and
 * updated_at into the struct ag_account_rec <out> (core.c). */
void ag_store_account_read(struct ag_db_stmt *st, void *out);

/* Run <expr> (which may use `db`) on a borrowed read connection and return
 * its int result. */
#define AG_STORE_READ(s, expr)                                                                   \
    do {                                                                                         \
        struct ag_db *db = ag_store_read_acquire(s);                                             \
        int rc_ = (expr);                                                                        \
        ag_store_read_release(s, db);                                                            \
        return rc_;                                                                              \
    } while (0)

/* The adapter ag_db_each needs to hand a caller's callback one record per
 * row: defines struct each_<name> {cb, arg} and each_<name>_row(st, p), which
 * reads a <type> with <read>(st, &rec) and calls cb(arg, &rec). */
#define AG_DB_EACH_RECORD(name, type, read)                                                      \
    struct each_##name {                                                                         \
        int (*cb)(void *, const type *);                                                         \
        void *arg;                                                                               \
    };                                                                                           \
    static int each_##name##_row(struct ag_db_stmt *st, void *p)                                 \
    {                                                                                            \
        struct each_##name *e = p;                                                               \
        type rec;                                                                                \
        read(st, &rec);                                                                          \
        return e->cb(e->arg, &rec);                                                              \
    }

#endif
