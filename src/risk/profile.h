/* Account profiles: per account, bounded histories of the feature values
 * seen on successful logins, stored as 32-bit fingerprints with a count and
 * a last-seen day; plus global frequency tables (count-min sketches, fixed
 * size) for p(x). Memory per account is bounded by the per-feature caps
 * (AG_PROFILE_CAP_*): the least recently seen value is evicted first.
 *
 * Thread-safe: accounts live in a hash table split into stripes, one mutex
 * per stripe; global counters are updated with relaxed atomics.
 *
 * Persistence: one profile <-> one compact blob (ag_profile_blob_get/put).
 * Global tables are not serialized: ag_profile_blob_put adds the blob's
 * counts to them, so loading every blob at start rebuilds them (minus the
 * mass of values evicted from histories; see docs/RISK.md). */
#ifndef AG_RISK_PROFILE_H
#define AG_RISK_PROFILE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Profile features (AG_PF_*; AG_RF_* are the rules fields of rules/fields.h). */
enum ag_risk_feature {
    AG_PF_IP = 0,   /* full address */
    AG_PF_PREFIX,   /* IPv4 /24, IPv6 /48 */
    AG_PF_ASN,      /* fingerprint = the AS number itself */
    AG_PF_COUNTRY,  /* fingerprint = the two letters packed (reversible) */
    AG_PF_UA,       /* full user-agent string */
    AG_PF_BROWSER,  /* browser family + major version */
    AG_PF_OS,       /* OS family + major version */
    AG_PF_DEVTYPE,  /* device type + 1 */
    AG_PF_DEVICE,   /* the client's device id */
    AG_PF_NETCLASS, /* 1 ordinary, 2 hosting, 3 anonymous proxy / drop */
    AG_PF_PREFIX_DT, /* IP prefix given the device type: low 3 bits = device type; counts,
                        mass and distinct are taken within the same device type */
    AG_PF_COUNT
};

/* History capacity per feature (values kept per account). */
extern const uint8_t ag_profile_caps[AG_PF_COUNT];
const char *ag_risk_feature_name(enum ag_risk_feature f);

/* The current event's feature values as fingerprints; bit f of <present>
 * says value f is known (an absent device id is skipped, not "new"). */
struct ag_profile_values {
    uint32_t v[AG_PF_COUNT];
    uint32_t present;
};

/* What an account's history says about <values>. */
struct ag_profile_view {
    bool exists;
    uint32_t n;                     /* successful logins learned */
    uint32_t last_login_s;          /* unix seconds of the last one, 0 if none */
    char last_country[3];           /* country of the last one */
    uint16_t count[AG_PF_COUNT];    /* times this value was seen (0: unfamiliar) */
    uint32_t mass[AG_PF_COUNT];     /* sum of the counts kept for feature f */
    uint8_t distinct[AG_PF_COUNT];  /* distinct values kept for feature f */
    uint32_t top[AG_PF_COUNT];      /* the most frequent value kept (its fingerprint) */
    uint8_t hours[8];               /* logins per 3-hour slot of the day (UTC), scaled */
};

struct ag_profile_store;

/* <expected_accounts> sizes the table (it grows anyway). */
int ag_profile_store_open(size_t expected_accounts, struct ag_profile_store **out,
                          struct ag_err *err);
void ag_profile_store_close(struct ag_profile_store *ps);

/* The key of an account id (a 64-bit hash). */
uint64_t ag_profile_account_key(const char *account_id);

/* Fill <out> with what the history of <account> says about <values>. Never
 * mutates. Thread-safe. */
void ag_profile_lookup(struct ag_profile_store *ps, uint64_t account,
                       const struct ag_profile_values *values, struct ag_profile_view *out);

/* Learn a successful login: add <values> to the account's history (creating
 * it) and to the global tables. <country> may be "" . Returns 0 or AG_ENOMEM. */
int ag_profile_learn(struct ag_profile_store *ps, uint64_t account,
                     const struct ag_profile_values *values, int64_t at_ms, const char *country);

/* Hint that the global counts of <values> are about to be read. */
void ag_profile_prefetch(const struct ag_profile_store *ps, const struct ag_profile_values *values);

/* Global frequency of value <key> of feature <f> (an estimate that may
 * overcount, never undercounts), and the totals. */
uint32_t ag_profile_global_count(const struct ag_profile_store *ps, enum ag_risk_feature f,
                                 uint32_t key);
uint64_t ag_profile_global_total(const struct ag_profile_store *ps);
uint64_t ag_profile_accounts(const struct ag_profile_store *ps);

/* Serialize <account> into <buf> (<cap> bytes). Returns the blob's length,
 * AG_ENOTFOUND if the account has no profile, or AG_ELIMIT if <cap> is too
 * small (AG_PROFILE_BLOB_MAX always suffices). */
#define AG_PROFILE_BLOB_MAX 640
int ag_profile_blob_get(struct ag_profile_store *ps, uint64_t account, uint8_t *buf, size_t cap);
/* Replace <account>'s profile with the blob's (and move the global tables
 * from the old counts to the new ones). AG_EINVAL if the blob is malformed. */
int ag_profile_blob_put(struct ag_profile_store *ps, uint64_t account, const uint8_t *blob,
                        size_t len, struct ag_err *err);

/* Learn one successful login (as ag_profile_learn) into the profile blob
 * <blob> of <account> (<len> 0: no profile yet) and write the result to <out>
 * (<cap> bytes; AG_PROFILE_BLOB_MAX suffices). No store is involved: this
 * merges a login into a profile as another node stored it. Returns the new
 * blob's length; AG_EINVAL if <blob> is malformed, AG_ENOMEM, AG_ELIMIT. */
int ag_profile_blob_learn(uint64_t account, const uint8_t *blob, size_t len,
                          const struct ag_profile_values *values, int64_t at_ms,
                          const char *country, uint8_t *out, size_t cap, struct ag_err *err);

struct ag_profile_mem {
    size_t accounts;
    size_t account_bytes; /* records, including malloc overhead estimate */
    size_t table_bytes;   /* hash table slots */
    size_t global_bytes;  /* sketches: fixed, independent of the number of accounts */
};
void ag_profile_mem(struct ag_profile_store *ps, struct ag_profile_mem *out);

/* Country code <-> fingerprint. */
uint32_t ag_profile_country_key(const char *cc);
void ag_profile_country_str(uint32_t key, char out[3]);

#endif
