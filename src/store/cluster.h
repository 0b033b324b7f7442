/* Records for hot state that several nodes on one PostgreSQL share
 * (pipeline/cluster.c, docs/SCALING.md): velocity counters. They work on
 * SQLite too (the store tests run them on both), where one node has no use
 * for them. Include store/store.h, not this file. */
#ifndef AG_STORE_CLUSTER_H
#define AG_STORE_CLUSTER_H

#include "core/err.h"

#include <stdint.h>

struct ag_store;
struct ag_store_tx;

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

#endif
