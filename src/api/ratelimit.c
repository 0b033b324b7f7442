/* Token-bucket rate limits per API key and per client IP. Buckets live in
 * one bounded map: when it grows past MAX_BUCKETS, buckets idle for a minute
 * are dropped (a dropped bucket is a full one, so this never blocks anyone
 * unfairly). Burst = one second's worth of requests. */
#include "api/api.h"
#include "core/strmap.h"
#include "core/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_BUCKETS 100000
#define IDLE_MS 60000

struct bucket {
    double tokens;
    int64_t last_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ag_strmap buckets;

struct sweep {
    int64_t now;
    char **dead;
    size_t n, cap;
};

static int collect_idle(void *arg, const char *key, void *value)
{
    struct sweep *s = arg;
    struct bucket *b = value;
    if (s->now - b->last_ms > IDLE_MS && s->n < s->cap)
        s->dead[s->n++] = (char *)key;
    return 0;
}

static void sweep_idle(int64_t now)
{
    struct sweep s = {.now = now, .cap = buckets.len};
    s.dead = malloc(s.cap * sizeof *s.dead);
    if (!s.dead)
        return;
    ag_strmap_each(&buckets, collect_idle, &s);
    for (size_t i = 0; i < s.n; i++) {
        char key[128];
        snprintf(key, sizeof key, "%s", s.dead[i]);
        free(ag_strmap_del(&buckets, key));
    }
    free(s.dead);
}

bool ag_api_rate_allow(const char *kind, const char *who, int64_t per_second)
{
    if (per_second <= 0)
        return true;
    char key[128];
    snprintf(key, sizeof key, "%s:%s", kind, who);
    int64_t now = ag_time_now_ms();
    bool ok = true;
    pthread_mutex_lock(&lock);
    struct bucket *b = ag_strmap_get(&buckets, key);
    if (!b) {
        if (buckets.len >= MAX_BUCKETS)
            sweep_idle(now);
        if (buckets.len < MAX_BUCKETS && (b = malloc(sizeof *b)) &&
            ag_strmap_put(&buckets, key, b, NULL) == 0) {
            b->tokens = (double)per_second;
            b->last_ms = now;
        } else {
            free(b);
            b = NULL;
        }
    }
    if (b) {
        b->tokens += (double)(now - b->last_ms) * (double)per_second / 1000.0;
        if (b->tokens > (double)per_second)
            b->tokens = (double)per_second;
        b->last_ms = now;
        if (b->tokens >= 1.0)
            b->tokens -= 1.0;
        else
            ok = false;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}
