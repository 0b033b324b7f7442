/* Throttling and lockout as pure functions over small state structs the store
 * persists. One struct ag_identity_throttle per (scope, key): per
 * authenticator (one factor of one account), per device, per IP (IPv6: /64),
 * per network prefix (IPv4 /24, IPv6 /48), and per wallet passcode.
 *
 * The rules (docs/IDENTITY.md has the full policy and the numbers):
 * - Failures beyond a free allowance delay the next attempt exponentially
 *   (base * 2^k, capped).
 * - Delays that an attacker can run up from elsewhere (the account's
 *   authenticator counter, a shared IP or prefix) do not apply to the owner's
 *   trusted devices; a device's own failures always slow that device.
 * - A scope with a lock (authenticator: the NIST SP 800-63B cap of 100
 *   consecutive failures; wallet passcode: 10) answers STEP_UP when reached:
 *   the owner proves themselves with 2-step verification, then the caller
 *   clears it. A lock never becomes a plain "denied" for the owner.
 * - Throttled attempts are refused before the secret is checked and are not
 *   counted, so an attacker cannot keep a scope locked by hammering it.
 *
 * Concurrency: every change bumps <version>; the store applies a new state
 * with a conditional update (... WHERE version = <old>) and retries on
 * conflict, so parallel guesses cannot slip past a limit. */
#ifndef AG_IDENTITY_THROTTLE_H
#define AG_IDENTITY_THROTTLE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NIST SP 800-63B 5.2.2: at most 100 consecutive failed attempts on one
 * authenticator. No policy's lock_after may exceed it. */
#define AG_IDENTITY_THROTTLE_HARD_CAP 100

#include "core/err.h"

enum ag_identity_throttle_scope {
    AG_IDENTITY_SCOPE_AUTHENTICATOR = 0,
    AG_IDENTITY_SCOPE_DEVICE,
    AG_IDENTITY_SCOPE_IP,
    AG_IDENTITY_SCOPE_PREFIX,
    AG_IDENTITY_SCOPE_PASSCODE,
    AG_IDENTITY_SCOPE_COUNT
};

struct ag_identity_throttle_policy {
    const char *name;       /* "authenticator", "device", ... */
    uint32_t free_failures; /* failures before any delay */
    int64_t base_delay_ms;  /* delay after the first failure past the allowance */
    int64_t max_delay_ms;   /* cap on the delay */
    int64_t decay_ms;       /* failures older than this are forgotten; 0: never
                             * (a consecutive count, reset only by success) */
    uint32_t lock_after;    /* failures that lock (STEP_UP); 0: never. Capped
                             * at AG_IDENTITY_THROTTLE_HARD_CAP */
    bool reset_on_success;  /* a success clears the count (per-account scopes
                             * only: a success there proves the secret) */
    bool exempt_trusted;    /* delays do not apply to trusted devices (locks do) */
};

/* The default policy of each scope, indexed by enum ag_identity_throttle_scope. */
extern const struct ag_identity_throttle_policy
    ag_identity_throttle_policies[AG_IDENTITY_SCOPE_COUNT];

/* Persisted state of one (scope, key). Zero-initialized is "no failures". */
struct ag_identity_throttle {
    uint32_t failures;       /* failures counted (consecutive, or within decay) */
    int64_t last_failure_ms; /* time of the last counted failure */
    bool locked;             /* lock reached: 2-step verification needed */
    uint32_t version;        /* bumped on every change, for compare-and-set */
};

enum ag_identity_throttle_verdict {
    AG_IDENTITY_THROTTLE_ALLOW = 0, /* go ahead and check the secret */
    AG_IDENTITY_THROTTLE_DELAY,     /* refuse now; retry after *retry_after_ms */
    AG_IDENTITY_THROTTLE_STEP_UP,   /* refuse until 2-step verification */
};

/* The delay after <failures> counted failures under <p>: 0 within the free
 * allowance, then base, 2*base, 4*base, ... up to max. */
int64_t ag_identity_throttle_delay_ms(const struct ag_identity_throttle_policy *p,
                                      uint32_t failures);

/* May an attempt go ahead at <now_ms>? <trusted>: the attempt comes from one
 * of the owner's trusted devices. On DELAY sets *retry_after_ms (>0); on
 * ALLOW and STEP_UP sets it to 0. <retry_after_ms> may be NULL. */
enum ag_identity_throttle_verdict
ag_identity_throttle_check(const struct ag_identity_throttle_policy *p,
                           const struct ag_identity_throttle *s, bool trusted, int64_t now_ms,
                           int64_t *retry_after_ms);

/* Record a failed attempt at <now_ms> (after decay, count +1, lock if the
 * limit is reached). */
void ag_identity_throttle_fail(const struct ag_identity_throttle_policy *p,
                               struct ag_identity_throttle *s, int64_t now_ms);
/* Record a successful attempt: clears the count if the policy says so (a
 * lock is not cleared by success; only ag_identity_throttle_clear does). */
void ag_identity_throttle_succeed(const struct ag_identity_throttle_policy *p,
                                  struct ag_identity_throttle *s);
/* The owner passed 2-step verification: clear count and lock. */
void ag_identity_throttle_clear(struct ag_identity_throttle *s);

/* One scope of an attempt: its policy and its state. */
struct ag_identity_throttle_slot {
    const struct ag_identity_throttle_policy *policy;
    struct ag_identity_throttle *state; /* NULL: scope not applicable */
};

/* Combine the scopes of one attempt: STEP_UP if any scope needs it, else
 * DELAY with the longest wait, else ALLOW. *culprit (may be NULL) gets the
 * index of the deciding slot (n when ALLOW). */
enum ag_identity_throttle_verdict
ag_identity_throttle_decide(const struct ag_identity_throttle_slot *slots, size_t n, bool trusted,
                            int64_t now_ms, int64_t *retry_after_ms, size_t *culprit);

/* Record the outcome of a checked attempt in every slot. */
void ag_identity_throttle_record(const struct ag_identity_throttle_slot *slots, size_t n,
                                 bool success, int64_t now_ms);

#define AG_IDENTITY_THROTTLE_KEY_MAX 64
/* The keys of the IP and prefix scopes for address <ip>: IPv4 "a.b.c.d" and
 * "a.b.c.0/24"; IPv6 its "/64" (one host usually owns a whole /64) and its
 * "/48"; IPv4-mapped IPv6 counts as IPv4. Each buffer holds
 * AG_IDENTITY_THROTTLE_KEY_MAX bytes. Returns 0 or AG_EINVAL for a bad
 * address. */
int ag_identity_throttle_ip_keys(const char *ip, char ip_key[AG_IDENTITY_THROTTLE_KEY_MAX],
                                 char prefix_key[AG_IDENTITY_THROTTLE_KEY_MAX]);

#endif
