/* Internal to src/store: the backend operations table and the handle
 * layout shared by store.c (generic: pool, writer thread, dispatch) and the
 * backends. Nothing outside src/store includes this. */
#ifndef AG_STORE_IMPL_H
#define AG_STORE_IMPL_H

#include "store/store.h"

#include <pthread.h>

/* A backend connection: opaque to store.c. */
struct ag_store_conn;

struct ag_store_ops {
    const char *name;
    int (*connect)(const char *url, bool writer, struct ag_store_conn **out, struct ag_err *err);
    void (*disconnect)(struct ag_store_conn *c);
    int (*migrate)(struct ag_store_conn *c, int *from, int *to, struct ag_err *err);
    int (*check)(struct ag_store_conn *c, struct ag_err *err);
    int (*begin)(struct ag_store_conn *c, struct ag_err *err);
    int (*commit)(struct ag_store_conn *c, struct ag_err *err);
    int (*rollback)(struct ag_store_conn *c);
    int (*savepoint)(struct ag_store_conn *c);
    int (*release)(struct ag_store_conn *c);
    int (*rollback_to)(struct ag_store_conn *c);

    int (*apikey_put)(struct ag_store_conn *c, const struct ag_apikey_rec *k, struct ag_err *err);
    int (*apikey_revoke)(struct ag_store_conn *c, const char *id, int64_t at, struct ag_err *err);
    int (*apikey_get)(struct ag_store_conn *c, const char *id, struct ag_apikey_rec *out,
                      struct ag_err *err);
    int (*apikey_list)(struct ag_store_conn *c, int (*cb)(void *, const struct ag_apikey_rec *),
                       void *arg, struct ag_err *err);

    int (*account_put)(struct ag_store_conn *c, const struct ag_account_rec *a, struct ag_err *err);
    int (*account_get)(struct ag_store_conn *c, const char *id, struct ag_account_rec *out,
                       struct ag_err *err);
    int (*account_scan)(struct ag_store_conn *c, int (*cb)(void *, const struct ag_account_rec *),
                        void *arg, struct ag_err *err);
    int (*account_log_put)(struct ag_store_conn *c, const struct ag_account_log_rec *l,
                           struct ag_err *err);
    int (*account_log_list)(struct ag_store_conn *c, const char *account_id,
                            int (*cb)(void *, const struct ag_account_log_rec *), void *arg,
                            struct ag_err *err);

    int (*event_put)(struct ag_store_conn *c, struct ag_event_rec *e, struct ag_err *err);
    int (*event_get)(struct ag_store_conn *c, const char *id, struct ag_event_row *out,
                     struct ag_err *err);
    int (*event_list_account)(struct ag_store_conn *c, const char *account_id, int64_t before_seq,
                              int limit, int (*cb)(void *, const struct ag_event_row *), void *arg,
                              struct ag_err *err);
    int (*event_scan)(struct ag_store_conn *c, int64_t after_seq, int limit,
                      int (*cb)(void *, const struct ag_event_row *), void *arg,
                      struct ag_err *err);
    int64_t (*event_count)(struct ag_store_conn *c);

    int (*profile_put)(struct ag_store_conn *c, const char *account_id, const void *blob,
                       size_t len, struct ag_err *err);
    int (*profile_scan)(struct ag_store_conn *c,
                        int (*cb)(void *, const char *, const void *, size_t), void *arg,
                        struct ag_err *err);
};

extern const struct ag_store_ops ag_store_sqlite_ops;

struct ag_store_tx {
    struct ag_store *s;
    struct ag_store_conn *conn;
};

#endif
