/* The live intel set the enrich stage matches events against: a match set
 * (match.h) together with the tags of its indicators (the rules' intel.labels),
 * built and swapped as one immutable, reference-counted object, and the
 * table of which event fields are checked.
 *
 * Checked fields (docs/INTEL.md, "In decisions"):
 *   context.ip                                   ip (prefix tree)
 *   context.device_id                            device id
 *   properties.email, properties.new_email       email address, then its domain
 *   properties.url                               URL, then its host
 *   properties.domain                            domain and its parents
 *   properties.phone, properties.new_phone       phone number (E.164)
 *   properties.payout_fingerprint,
 *   properties.bank_account_fingerprint          financial fingerprint (64 hex)
 *   properties.iban, properties.bank_account     fingerprinted here (plain
 *                                                SHA-256, ag_intel_financial_fingerprint)
 *                                                and matched; never kept
 * Pure computation: no I/O, no global state. */
#ifndef AG_INTEL_LIVE_H
#define AG_INTEL_LIVE_H

#include "core/err.h"
#include "intel/indicator.h"
#include "intel/match.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct ag_intel_live; /* opaque, immutable, reference counted */

/* Build a live set from <n> indicators at <now_ms> (expired ones are left
 * out). On success *out holds one reference. Returns 0 or AG_ENOMEM /
 * AG_ELIMIT. */
int ag_intel_live_build(const struct ag_intel_indicator *inds, size_t n, int64_t now_ms,
                        struct ag_intel_live **out, struct ag_err *err);
struct ag_intel_live *ag_intel_live_ref(struct ag_intel_live *l);
void ag_intel_live_unref(struct ag_intel_live *l);
/* The match set inside (borrowed: valid while the caller holds <l>). */
const struct ag_intel_matchset *ag_intel_live_matchset(const struct ag_intel_live *l);
/* When the set was built (ms). */
int64_t ag_intel_live_built_at(const struct ag_intel_live *l);

/* The tags of indicator <id>: *tags points into the set (valid while the
 * caller holds <l>), *n their count (0 when none or unknown). */
void ag_intel_live_labels(const struct ag_intel_live *l, const char *id,
                          const char *const **tags, size_t *n);

/* One hit on an event: which event field carried the value, the value as
 * sent (the event's, borrowed from it) and the indicator. */
struct ag_intel_event_hit {
    const char *field;     /* "context.ip", "properties.email", ... */
    const char *seen;      /* the event's value ("<fingerprint>" for raw accounts) */
    struct ag_intel_hit hit;
};

#define AG_INTEL_EVENT_HITS_MAX 16

/* Check an event's fields (see the table above) against <l> at <at_ms>:
 * <ip> and <device_id> from its context (NULL or "" to skip), the rest from
 * <properties> (a JSON object or NULL). Writes at most <max> hits, one per
 * checked value, and returns how many. Does not allocate for ASCII input
 * other than URLs (libcurl) and raw bank accounts (hashed on the stack). */
size_t ag_intel_live_match_event(const struct ag_intel_live *l, const char *ip,
                                 const char *device_id, const json_t *properties, int64_t at_ms,
                                 struct ag_intel_event_hit *hits, size_t max);

/* The checked property names, for documentation and tests: a NULL-terminated
 * array of "properties.<name>" strings. */
extern const char *const ag_intel_event_properties[];

/* A holder for the current live set (NULL until the first build). Readers
 * acquire a reference; the owner replaces it whole. A mutex guards only the
 * pointer. */
struct ag_intel_live_slot {
    pthread_mutex_t mu;
    struct ag_intel_live *cur;
};
void ag_intel_live_slot_init(struct ag_intel_live_slot *s);
void ag_intel_live_slot_destroy(struct ag_intel_live_slot *s);
struct ag_intel_live *ag_intel_live_slot_acquire(struct ag_intel_live_slot *s);
/* Install <l> (taking over the caller's reference) and drop the old one. */
void ag_intel_live_slot_replace(struct ag_intel_live_slot *s, struct ag_intel_live *l);

#endif
