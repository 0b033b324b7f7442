/* Exponential backoff and lockout over plain state (see throttle.h and
 * docs/IDENTITY.md for the policy). */
#include "identity/throttle.h"

#include "core/err.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

const struct ag_identity_throttle_policy ag_identity_throttle_policies[AG_IDENTITY_SCOPE_COUNT] = {
    [AG_IDENTITY_SCOPE_AUTHENTICATOR] = {"authenticator", 5, 1 * SEC, 15 * MIN, 0,
                                         AG_IDENTITY_THROTTLE_HARD_CAP, true, true},
    [AG_IDENTITY_SCOPE_DEVICE] = {"device", 5, 1 * SEC, 1 * HOUR, 24 * HOUR, 0, false, false},
    [AG_IDENTITY_SCOPE_IP] = {"ip", 20, 1 * SEC, 1 * HOUR, 1 * HOUR, 0, false, true},
    [AG_IDENTITY_SCOPE_PREFIX] = {"prefix", 100, 1 * SEC, 1 * HOUR, 1 * HOUR, 0, false, true},
    [AG_IDENTITY_SCOPE_PASSCODE] = {"passcode", 3, 30 * SEC, 1 * HOUR, 0, 10, true, false},
};

int64_t ag_identity_throttle_delay_ms(const struct ag_identity_throttle_policy *p,
                                      uint32_t failures)
{
    if (failures <= p->free_failures || p->base_delay_ms <= 0)
        return 0;
    uint32_t k = failures - p->free_failures - 1;
    int64_t d = p->base_delay_ms;
    while (k-- > 0 && d < p->max_delay_ms)
        d *= 2;
    return d < p->max_delay_ms ? d : p->max_delay_ms;
}

static uint32_t lock_limit(const struct ag_identity_throttle_policy *p)
{
    if (!p->lock_after)
        return 0;
    return p->lock_after < AG_IDENTITY_THROTTLE_HARD_CAP ? p->lock_after
                                                         : AG_IDENTITY_THROTTLE_HARD_CAP;
}

/* Failures still counted at <now_ms>. */
static uint32_t live_failures(const struct ag_identity_throttle_policy *p,
                              const struct ag_identity_throttle *s, int64_t now_ms)
{
    if (p->decay_ms > 0 && now_ms - s->last_failure_ms >= p->decay_ms)
        return 0;
    return s->failures;
}

enum ag_identity_throttle_verdict
ag_identity_throttle_check(const struct ag_identity_throttle_policy *p,
                           const struct ag_identity_throttle *s, bool trusted, int64_t now_ms,
                           int64_t *retry_after_ms)
{
    if (retry_after_ms)
        *retry_after_ms = 0;
    if (s->locked)
        return AG_IDENTITY_THROTTLE_STEP_UP;
    if (trusted && p->exempt_trusted)
        return AG_IDENTITY_THROTTLE_ALLOW;
    uint32_t f = live_failures(p, s, now_ms);
    int64_t until = s->last_failure_ms + ag_identity_throttle_delay_ms(p, f);
    if (f > 0 && now_ms < until) {
        if (retry_after_ms)
            *retry_after_ms = until - now_ms;
        return AG_IDENTITY_THROTTLE_DELAY;
    }
    return AG_IDENTITY_THROTTLE_ALLOW;
}

void ag_identity_throttle_fail(const struct ag_identity_throttle_policy *p,
                               struct ag_identity_throttle *s, int64_t now_ms)
{
    uint32_t f = live_failures(p, s, now_ms);
    if (f < UINT32_MAX)
        f++;
    s->failures = f;
    s->last_failure_ms = now_ms;
    uint32_t lim = lock_limit(p);
    if (lim && f >= lim)
        s->locked = true;
    s->version++;
}

void ag_identity_throttle_succeed(const struct ag_identity_throttle_policy *p,
                                  struct ag_identity_throttle *s)
{
    if (!p->reset_on_success || s->failures == 0)
        return;
    s->failures = 0;
    s->version++;
}

void ag_identity_throttle_clear(struct ag_identity_throttle *s)
{
    s->failures = 0;
    s->locked = false;
    s->version++;
}

enum ag_identity_throttle_verdict
ag_identity_throttle_decide(const struct ag_identity_throttle_slot *slots, size_t n, bool trusted,
                            int64_t now_ms, int64_t *retry_after_ms, size_t *culprit)
{
    enum ag_identity_throttle_verdict v = AG_IDENTITY_THROTTLE_ALLOW;
    int64_t wait = 0;
    size_t who = n;
    for (size_t i = 0; i < n; i++) {
        if (!slots[i].policy || !slots[i].state)
            continue;
        int64_t w = 0;
        enum ag_identity_throttle_verdict vi =
            ag_identity_throttle_check(slots[i].policy, slots[i].state, trusted, now_ms, &w);
        if (vi == AG_IDENTITY_THROTTLE_STEP_UP) {
            if (v != AG_IDENTITY_THROTTLE_STEP_UP)
                who = i;
            v = AG_IDENTITY_THROTTLE_STEP_UP;
            wait = 0;
        } else if (vi == AG_IDENTITY_THROTTLE_DELAY && v != AG_IDENTITY_THROTTLE_STEP_UP &&
                   w > wait) {
            v = AG_IDENTITY_THROTTLE_DELAY;
            wait = w;
            who = i;
        }
    }
    if (retry_after_ms)
        *retry_after_ms = wait;
    if (culprit)
        *culprit = who;
    return v;
}

void ag_identity_throttle_record(const struct ag_identity_throttle_slot *slots, size_t n,
                                 bool success, int64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        if (!slots[i].policy || !slots[i].state)
            continue;
        if (success)
            ag_identity_throttle_succeed(slots[i].policy, slots[i].state);
        else
            ag_identity_throttle_fail(slots[i].policy, slots[i].state, now_ms);
    }
}

static void v4_keys(unsigned char a[4], char *ip_key, char *prefix_key)
{
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, a, text, sizeof text);
    snprintf(ip_key, AG_IDENTITY_THROTTLE_KEY_MAX, "%s", text);
    a[3] = 0;
    inet_ntop(AF_INET, a, text, sizeof text);
    snprintf(prefix_key, AG_IDENTITY_THROTTLE_KEY_MAX, "%s/24", text);
}

int ag_identity_throttle_ip_keys(const char *ip, char ip_key[AG_IDENTITY_THROTTLE_KEY_MAX],
                                 char prefix_key[AG_IDENTITY_THROTTLE_KEY_MAX])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    if (!ip)
        return AG_EINVAL;
    if (inet_pton(AF_INET, ip, a) == 1) {
        v4_keys(a, ip_key, prefix_key);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, a) != 1)
        return AG_EINVAL;
    if (memcmp(a, mapped, sizeof mapped) == 0) {
        v4_keys(a + 12, ip_key, prefix_key);
        return 0;
    }
    memset(a + 8, 0, 8);
    inet_ntop(AF_INET6, a, text, sizeof text);
    snprintf(ip_key, AG_IDENTITY_THROTTLE_KEY_MAX, "%s/64", text);
    memset(a + 6, 0, 2);
    inet_ntop(AF_INET6, a, text, sizeof text);
    snprintf(prefix_key, AG_IDENTITY_THROTTLE_KEY_MAX, "%s/48", text);
    return 0;
}
