/* Store records of the audit log (src/audit/ computes the hash chain; this
 * file only stores and reads rows). Included from store/store.h. */
#ifndef AG_STORE_AUDIT_H
#define AG_STORE_AUDIT_H

#include "core/err.h"

#include <stdint.h>

struct ag_store;
struct ag_store_tx;

/* One audit entry. <details> is canonical JSON text (sorted keys, compact),
 * owned by whoever filled the record (borrowed from the row in callbacks). */
struct ag_audit_rec {
    int64_t seq; /* 1, 2, 3 ... with no gaps */
    int64_t at;  /* ms since the epoch */
    char actor[129];
    char action[65];
    char target[257];
    const char *details;
    uint8_t prev_hash[32]; /* the previous entry's hash; zeros for the first */
    uint8_t hash[32];
};

/* The chain's newest entry as recorded in the head row: its seq and hash.
 * Returns AG_ENOTFOUND when the log is empty. Inside the writer's transaction
 * (sees writes of jobs earlier in the batch). */
int ag_store_audit_head_tx(struct ag_store_tx *tx, int64_t *seq, uint8_t hash[32],
                           struct ag_err *err);
int ag_store_audit_head(struct ag_store *s, int64_t *seq, uint8_t hash[32], struct ag_err *err);
/* Insert <r> (its seq must be the head's + 1) and move the head to it.
 * AG_ECONFLICT if that seq exists (another writer appended first). */
int ag_store_audit_put(struct ag_store_tx *tx, const struct ag_audit_rec *r, struct ag_err *err);
/* Entries with seq > <after_seq> in seq order, at most <limit>. When
 * <target> or <actor> is non-NULL only matching entries are given. <cb> gets
 * a row it must not keep; a non-zero return stops. */
int ag_store_audit_scan(struct ag_store *s, int64_t after_seq, int limit, const char *target,
                        const char *actor,
                        int (*cb)(void *arg, const struct ag_audit_rec *r), void *arg,
                        struct ag_err *err);

#endif
