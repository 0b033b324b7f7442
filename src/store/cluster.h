/* Records for hot state that several nodes on one PostgreSQL share
 * (pipeline/cluster.c, docs/SCALING.md): velocity counters, and an
 * account's learned state (risk profile and activity blobs) with the
 * versions that let nodes refresh and merge it. They work on
 * SQLite too (the store tests run them on both), where one node has no use
 * for them. Include store/store.h, not this file. */
#ifndef AG_STORE_CLUSTER_H
#define AG_STORE_CLUSTER_H

#include "core/err.h"

#include <stdint.h>

struct ag_store;
struct ag_store_tx;
struct ag_account_rec;

/* One velocity counter of one key in one time bucket: <n> events and an
 * OR of member bits (distinct counts). */
struct ag_store_vel_row {
    int kind;
    int64_t key;    /* a 64-bit hash, stored as its two's-complement value */
    int64_t bucket;
    int64_t n;
    uint64_t bits;
};

#define AG_STORE_VEL_READ_MAX 8

/* Add <rows> (at most 16; distinct (kind, key) pairs) to <node>'s counters:
 * n is added and bits are OR'ed into the row of (kind, key, bucket, node). */
int ag_store_velocity_add(struct ag_store_tx *tx, int64_t node, const struct ag_store_vel_row *rows,
                          int nrows, struct ag_err *err);
/* For each of the <n> (at most AG_STORE_VEL_READ_MAX) queries <q> (kind and
 * key set), fill n with the sum and bits with the OR over every node's
 * buckets > <min_bucket>; bucket is ignored. */
int ag_store_velocity_read(struct ag_store *s, int64_t min_bucket, struct ag_store_vel_row *q,
                           int n, struct ag_err *err);
/* Delete every counter in a bucket < <before_bucket>; *deleted gets how many. */
int ag_store_velocity_expire(struct ag_store_tx *tx, int64_t before_bucket, int64_t *deleted,
                             struct ag_err *err);

/* An account's learned state: its risk profile blob (risk_profiles) and its
 * activity blob (accounts.activity), each with the version its last writer
 * gave it (0: never written with one). The caller owns the buffers. */
struct ag_store_learned {
    uint8_t *profile, *activity;      /* buffers of profile_cap / activity_cap bytes */
    size_t profile_cap, activity_cap;
    size_t profile_len, activity_len; /* 0: no blob, or not sent */
    int64_t profile_ver, activity_ver;
};

/* Read account <id> and its learned state in one query (on a reader). Fills
 * <acct> and the versions in <out>; a blob is sent only when its version is
 * above <have_profile> / <have_activity> (what the caller already has), else
 * its length is 0. AG_ENOTFOUND if there is no such account; AG_ELIMIT if a
 * blob is larger than its buffer. */
int ag_store_learned_get(struct ag_store *s, const char *id, int64_t have_profile,
                         int64_t have_activity, struct ag_account_rec *acct,
                         struct ag_store_learned *out, struct ag_err *err);
/* In the writer's transaction: lock account <id>'s row until the commit
 * (PostgreSQL: FOR NO KEY UPDATE, the lock its UPDATE takes anyway; SQLite's
 * writer holds the database) and read both blobs and versions, as committed
 * when the lock was granted, into <out>. One query, and a second one for
 * the profile only if another node stored it while this one waited.
 * AG_ENOTFOUND if there is no such account; AG_ELIMIT as above. */
int ag_store_learned_lock(struct ag_store_tx *tx, const char *id, struct ag_store_learned *out,
                          struct ag_err *err);
/* Write <l>'s activity blob (activity_len > 0, else AG_EINVAL) and, if
 * profile_len, its profile blob of existing account <id> with their
 * versions from <l> (one statement on PostgreSQL). */
int ag_store_learned_put(struct ag_store_tx *tx, const char *id, const struct ag_store_learned *l,
                         struct ag_err *err);

/* Rules published through the API (rules_published): add <text> as the
 * next version (*version gets it), and read the newest version (and, when
 * <text> is not NULL, its text, malloc'd, into *text / *len). AG_ENOTFOUND
 * when none was published. */
int ag_store_rules_publish(struct ag_store_tx *tx, const char *text, size_t len, int64_t at,
                           const char *actor, int64_t *version, struct ag_err *err);
int ag_store_rules_latest(struct ag_store *s, int64_t *version, char **text, size_t *len,
                          struct ag_err *err);
/* The newest published version alone (0: none). */
int ag_store_rules_version(struct ag_store *s, int64_t *version, struct ag_err *err);

#endif