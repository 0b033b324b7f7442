/* In-memory matchers over live indicators: the enrich stage's intel lookup.
 *
 * A match set is built once from a list of indicators and never changes
 * afterwards, so any number of threads may look up in it at once without
 * locks. It is reference counted; when indicators change, the owner builds a
 * new set and swaps it in whole (ag_intel_matchset_slot), and readers that
 * still hold the old one finish with it undisturbed. There is no incremental
 * add: a rebuild of 1M indicators costs about 2 s of CPU and 150 MiB
 * (bench/bench_intel.c prints the figures), done off the request path while
 * the old set keeps serving; lists change in batches (a feed fetch, an
 * import), so one rebuild per batch is cheap enough.
 *
 * Inside: IP indicators (addresses and CIDRs, both families) in one
 * path-compressed binary trie over 128-bit keys (IPv4 as IPv4-mapped IPv6);
 * every other type in one open-addressing hash table keyed by (type, value).
 * Domains match themselves and their subdomains by looking up each suffix
 * that starts at a label boundary, so "example.com" matches
 * "a.example.com" but never "evil-example.com". Lookups of ASCII input do not
 * allocate; expiry is checked against the caller's event time on every
 * lookup, and indicators already expired at build time are left out. */
#ifndef AG_INTEL_MATCH_H
#define AG_INTEL_MATCH_H

#include "core/err.h"
#include "intel/indicator.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_intel_matchset; /* opaque, immutable, reference counted */

/* Which field of an event a hit came from. */
enum ag_intel_field {
    AG_INTEL_FIELD_IP,
    AG_INTEL_FIELD_DOMAIN,
    AG_INTEL_FIELD_URL,
    AG_INTEL_FIELD_EMAIL,
    AG_INTEL_FIELD_PHONE,
    AG_INTEL_FIELD_DEVICE,
    AG_INTEL_FIELD_FINANCIAL,
    AG_INTEL_FIELD_COUNT
};

const char *ag_intel_field_name(enum ag_intel_field f);

/* One matching indicator. The strings point into the match set and stay
 * valid while the caller holds a reference to it. */
struct ag_intel_hit {
    enum ag_intel_field field;
    enum ag_intel_type type;   /* the indicator's type (a URL can hit a domain) */
    const char *value;         /* the indicator's value, e.g. "198.51.100.0/24" */
    const char *source;
    char id[AG_INTEL_ID_LEN + 1];
    int confidence;
    enum ag_intel_tlp tlp;
    bool informational;        /* never blocks on its own (MISP to_ids=false) */
    int64_t valid_until_ms;    /* 0: no expiry */
};

/* The fields of one event to check; NULL or "" skips a field. */
struct ag_intel_query {
    const char *ip;
    const char *domain;
    const char *url;
    const char *email;
    const char *phone;
    const char *device_id;
    const char *financial; /* a fingerprint (64 hex), see ag_intel_financial_fingerprint */
    int64_t at_ms;         /* the event's time: expiry is judged against it */
};

struct ag_intel_matchset_stats {
    size_t indicators;      /* entries held */
    size_t skipped_expired; /* not live any more at build time */
    size_t skipped_invalid; /* values that did not parse (not validated input) */
    size_t ip_prefixes, ip_nodes, keys;
    size_t bytes;           /* memory held by the set */
};

/* Build a match set from <n> indicators. Indicators whose valid_until is at
 * or before <now_ms> are left out; values must be normalised (as
 * ag_intel_indicator_validate guarantees), or they will not match. Nothing of
 * <inds> is kept. On success *out holds one reference. Returns 0,
 * AG_ENOMEM, or AG_ELIMIT beyond 2^31 indicators. */
int ag_intel_matchset_build(const struct ag_intel_indicator *inds, size_t n, int64_t now_ms,
                            struct ag_intel_matchset **out, struct ag_err *err);

/* Take another reference / drop one (the last frees the set). Thread-safe. */
struct ag_intel_matchset *ag_intel_matchset_ref(struct ag_intel_matchset *ms);
void ag_intel_matchset_unref(struct ag_intel_matchset *ms);

void ag_intel_matchset_stats(const struct ag_intel_matchset *ms,
                             struct ag_intel_matchset_stats *out);

/* Look up one value of <field> at <at_ms> and fill <hit> with the best live
 * indicator: blocking before informational, then the most specific (longest
 * prefix, longest domain suffix), then the highest confidence. A URL is
 * tried whole, then by its host (domain or IP indicators); an email address
 * whole, then by its domain. Returns 1 on a hit, 0 on none (also for input
 * that is not a valid value of the field). Allocation-free for ASCII input
 * except for URLs, which libcurl parses. */
int ag_intel_matchset_lookup(const struct ag_intel_matchset *ms, enum ag_intel_field field,
                             const char *value, int64_t at_ms, struct ag_intel_hit *hit);

/* Call <fn> for every live indicator matching <value> (all sources, all
 * covering prefixes and suffixes); stops early when <fn> returns non-zero.
 * Returns the number of calls. */
size_t ag_intel_matchset_lookup_all(const struct ag_intel_matchset *ms, enum ag_intel_field field,
                                    const char *value, int64_t at_ms,
                                    int (*fn)(const struct ag_intel_hit *hit, void *ctx),
                                    void *ctx);

/* Check every field of <q>; writes at most one hit per field into
 * <hits> (room for <max>) and returns how many were written. */
size_t ag_intel_matchset_match(const struct ag_intel_matchset *ms, const struct ag_intel_query *q,
                               struct ag_intel_hit *hits, size_t max);

/* A holder for the current set, swapped whole. acquire() returns a new
 * reference to the current set (NULL if none; release it with unref);
 * replace() installs <ms> (taking over the caller's reference, NULL allowed)
 * and drops the slot's reference to the old one. A mutex guards only the
 * pointer, never a lookup. */
struct ag_intel_matchset_slot {
    pthread_mutex_t mu;
    struct ag_intel_matchset *cur;
};
void ag_intel_matchset_slot_init(struct ag_intel_matchset_slot *s);
void ag_intel_matchset_slot_destroy(struct ag_intel_matchset_slot *s);
struct ag_intel_matchset *ag_intel_matchset_slot_acquire(struct ag_intel_matchset_slot *s);
void ag_intel_matchset_slot_replace(struct ag_intel_matchset_slot *s, struct ag_intel_matchset *ms);

#endif
