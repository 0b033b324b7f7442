/* Velocity: sliding-window counters bounded in memory. Counters are grouped
 * by what they are keyed on (account, IP, IP prefix, ASN, device hashes):
 * one fixed-size, set-associative table per key class, whose entries hold a
 * ring of time buckets for each counter of that class, so one probe reads
 * every counter of a key. An event at time t counts at time `now` while
 *     floor(now / width) - floor(t / width) < buckets
 * (width = window / buckets): an event exactly one window old has expired.
 * When a set is full, the key updated longest ago is replaced, so memory
 * never grows; a replaced key simply starts again from zero.
 *
 * Distinct counters (accounts per IP, accounts per device) keep a 64-bit
 * bitmap per bucket and estimate the distinct count by linear counting:
 * exact-ish for small numbers, saturating near 260.
 *
 * Impossible travel is a pure function over two (country, time) points. */
#ifndef AG_RISK_VELOCITY_H
#define AG_RISK_VELOCITY_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ag_vel_counter {
    AG_VEL_FAIL_ACCOUNT = 0, /* failed logins per account */
    AG_VEL_FAIL_IP,          /* failed logins per IP */
    AG_VEL_FAIL_PREFIX,      /* failed logins per IP prefix (/24, /48) */
    AG_VEL_FAIL_ASN,         /* failed logins per ASN */
    AG_VEL_MFA_FAIL_ACCOUNT, /* failed one-time codes per account */
    AG_VEL_LOGIN_IP,         /* login attempts of any outcome per IP */
    AG_VEL_COUNTER_KINDS
};

enum ag_vel_distinct {
    AG_VEL_ACCOUNTS_PER_IP = 0,  /* distinct accounts tried from one IP */
    AG_VEL_ACCOUNTS_PER_DEVICE,  /* distinct accounts tried from one device id */
    AG_VEL_DISTINCT_KINDS
};

struct ag_velocity_options {
    int64_t window_ms;   /* 0: one hour */
    int buckets;         /* 0: 12 (at most 12) */
    size_t capacity;     /* keys per kind; 0: 65536 */
};

struct ag_velocity;

int ag_velocity_open(const struct ag_velocity_options *o, struct ag_velocity **out,
                     struct ag_err *err);
void ag_velocity_close(struct ag_velocity *v);

/* Count one event for <key> at <at_ms>. Events older than the window are
 * ignored. Thread-safe. */
void ag_velocity_add(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                     int64_t at_ms);
/* Events for <key> inside the window ending at <now_ms>. Thread-safe. */
uint32_t ag_velocity_count(struct ag_velocity *v, enum ag_vel_counter kind, uint64_t key,
                           int64_t now_ms);

/* Record that <member> (an account hash) was seen with <key> at <at_ms>. */
void ag_velocity_add_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              uint64_t member, int64_t at_ms);
/* Estimated distinct members with <key> inside the window ending at <now_ms>. */
uint32_t ag_velocity_distinct(struct ag_velocity *v, enum ag_vel_distinct kind, uint64_t key,
                              int64_t now_ms);

/* Batched access for the engine: every counter of an event's keys with one
 * probe per key class. A zero key is skipped (its counters read 0). */
struct ag_velocity_keys {
    uint64_t account, ip, prefix, asn, device;
};

struct ag_velocity_counts {
    uint32_t fail_account, mfa_fail_account;
    uint32_t fail_ip, attempts_ip, accounts_per_ip;
    uint32_t fail_prefix, fail_asn, accounts_per_device;
};

/* Start loading the sets of <k> into the cache (no effect otherwise). */
void ag_velocity_prefetch(const struct ag_velocity *v, const struct ag_velocity_keys *k);
void ag_velocity_snapshot(struct ag_velocity *v, const struct ag_velocity_keys *k,
                          int64_t now_ms, struct ag_velocity_counts *out);

enum {
    AG_VEL_REC_ATTEMPT = 1u << 0,  /* a login attempt: attempts and distinct accounts */
    AG_VEL_REC_FAIL = 1u << 1,     /* a failed login: failure counters */
    AG_VEL_REC_MFA_FAIL = 1u << 2, /* a failed one-time code */
};
/* Record an event with <k> at <at_ms>; <what> is AG_VEL_REC_*. */
void ag_velocity_record(struct ag_velocity *v, const struct ag_velocity_keys *k, unsigned what,
                        int64_t at_ms);

/* The windows' arithmetic, for counters kept elsewhere (pipeline/cluster.c
 * keeps them in the store when several nodes share one): the bucket an event
 * at <at_ms> falls in (it counts at `now` while bucket(now) - bucket < the
 * number of buckets), the bit <member> sets in a distinct bitmap, and the
 * distinct estimate of an OR of bitmaps. */
int64_t ag_velocity_bucket(const struct ag_velocity *v, int64_t at_ms);
int ag_velocity_buckets(const struct ag_velocity *v);
uint64_t ag_velocity_member_bit(uint64_t member);
uint32_t ag_velocity_distinct_estimate(uint64_t bits);

int64_t ag_velocity_window_ms(const struct ag_velocity *v);
size_t ag_velocity_bytes(const struct ag_velocity *v);

/* Travel between the representative points of two countries: distance in km
 * and the speed in km/h needed to cover it in the elapsed time (at least one
 * minute is assumed). Returns 0, or AG_ENOTFOUND when a country is unknown
 * (then *km and *kmh are 0). */
int ag_velocity_travel(const char *from_cc, int64_t from_ms, const char *to_cc, int64_t to_ms,
                       double *km, double *kmh);

#endif
