/* Benchmark of the intel match set (src/intel/match.h): how long a build of
 * N indicators takes, how much memory the set holds, and what one lookup
 * and one event's worth of lookups cost with 0 and with N indicators
 * loaded. Usage: bench_intel [N] (default 1000000). Prints one line per
 * figure; exits 1 if a planted indicator is not found (the numbers would
 * be meaningless). */
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* A mix like a fraud team's lists: mostly IPs, then domains and the rest. */
static void make(struct ag_intel_list *l, size_t n)
{
    char v[128];
    for (size_t i = 0; i < n; i++) {
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        ag_intel_id_new(ind.id);
        uint64_t r = xr();
        unsigned pick = (unsigned)(i % 100);
        enum ag_intel_type t;
        if (pick < 55) {
            t = AG_INTEL_IPV4;
            unsigned a = (unsigned)r;
            if (pick < 5)
                snprintf(v, sizeof v, "%u.%u.%u.0/24", a >> 24, (a >> 16) & 255, (a >> 8) & 255);
            else
                snprintf(v, sizeof v, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                         a & 255);
        } else if (pick < 60) {
            t = AG_INTEL_IPV6;
            snprintf(v, sizeof v, "2001:db8:%x:%x::%x/%d", (unsigned)(r >> 48) & 0xffff,
                     (unsigned)(r >> 32) & 0xffff, (unsigned)r & 0xffff, pick < 57 ? 48 : 128);
        } else if (pick < 85) {
            t = AG_INTEL_DOMAIN;
            snprintf(v, sizeof v, "d%llx.example", (unsigned long long)(r & 0xffffffffffULL));
        } else if (pick < 90) {
            t = AG_INTEL_EMAIL;
            snprintf(v, sizeof v, "m%llx@mail.example", (unsigned long long)(r & 0xffffffffULL));
        } else if (pick < 95) {
            t = AG_INTEL_PHONE;
            snprintf(v, sizeof v, "+49151%08llu", (unsigned long long)(r % 100000000ULL));
        } else {
            t = AG_INTEL_DEVICE;
            snprintf(v, sizeof v, "dev_%llx", (unsigned long long)r);
        }
        if (ag_intel_indicator_set_value(&ind, t, v, NULL) != 0) {
            ag_intel_indicator_free(&ind);
            continue;
        }
        ag_intel_indicator_set_str(&ind.source, i % 2 ? "feed:firehol_level1" : "misp:CIRCL");
        ag_intel_list_push_move(l, &ind);
    }
}

static volatile size_t sink;

/* CPU time of this thread: a loaded machine (parallel builds) stretches
 * wall time, not the work a lookup does. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double bench_event(const struct ag_intel_matchset *ms, const char *label, int iters)
{
    /* typical clean event: nothing matches, every field is looked at */
    const char *ips[4] = {"203.0.113.77", "198.51.100.3", "2001:db8:ffff::1", "192.0.2.250"};
    struct ag_intel_query q = {.domain = "shop.customer-mail.example",
                               .email = "Jane.Doe@customer-mail.example",
                               .phone = "+4915199999999", .device_id = "d_customer_device",
                               .at_ms = ag_time_now_ms()};
    struct ag_intel_hit hits[8];
    int64_t t0 = cpu_ns();
    for (int i = 0; i < iters; i++) {
        q.ip = ips[i & 3];
        sink += ag_intel_matchset_match(ms, &q, hits, 8);
    }
    double ns = (double)(cpu_ns() - t0) / iters;
    printf("%-44s %8.0f ns per event (ip, domain, email, phone, device)\n", label, ns);
    return ns;
}

static double bench_ip(const struct ag_intel_matchset *ms, const char *label, int iters)
{
    char ips[256][20];
    for (int i = 0; i < 256; i++) {
        unsigned a = (unsigned)xr();
        snprintf(ips[i], sizeof ips[i], "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                 a & 255);
    }
    struct ag_intel_hit h;
    int64_t now = ag_time_now_ms();
    int64_t t0 = cpu_ns();
    for (int i = 0; i < iters; i++)
        sink += (size_t)ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, ips[i & 255], now, &h);
    double ns = (double)(cpu_ns() - t0) / iters;
    printf("%-44s %8.0f ns per IP lookup\n", label, ns);
    return ns;
}

int main(int argc, char **argv)
{
    printf("(times are this thread's CPU time)\n");
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const int iters = 1000000;
    struct ag_err err;
    struct ag_intel_matchset *empty;
    if (ag_intel_matchset_build(NULL, 0, ag_time_now_ms(), &empty, &err)) {
        fprintf(stderr, "build: %s\n", err.msg);
        return 1;
    }
    double e0 = bench_event(empty, "0 indicators:", iters);
    bench_ip(empty, "0 indicators:", iters);

    struct ag_intel_list l = {0};
    int64_t t0 = cpu_ns();
    make(&l, n);
    printf("%-44s %8.0f ms (%zu indicators)\n", "generate + normalise:",
           (double)(cpu_ns() - t0) / 1e6, l.len);
    long rss0 = rss_kb();
    struct ag_intel_matchset *ms;
    t0 = cpu_ns();
    if (ag_intel_matchset_build(l.items, l.len, ag_time_now_ms(), &ms, &err)) {
        fprintf(stderr, "build: %s\n", err.msg);
        return 1;
    }
    double build_ms = (double)(cpu_ns() - t0) / 1e6;
    long rss1 = rss_kb();
    struct ag_intel_matchset_stats st;
    ag_intel_matchset_stats(ms, &st);
    printf("%-44s %8.0f ms\n", "match set build:", build_ms);
    printf("%-44s %8.1f MiB (%.0f bytes per indicator; RSS +%.1f MiB)\n", "match set memory:",
           st.bytes / 1048576.0, (double)st.bytes / (st.indicators ? st.indicators : 1),
           (rss1 - rss0) / 1024.0);
    printf("%-44s %zu prefixes in %zu trie nodes, %zu keys\n", "structure:", st.ip_prefixes,
           st.ip_nodes, st.keys);

    /* every planted value must be found (the first of each type) */
    for (size_t i = 0; i < l.len && i < 100; i++) {
        struct ag_intel_hit h;
        const struct ag_intel_indicator *x = &l.items[i];
        enum ag_intel_field f = x->type == AG_INTEL_IPV4 || x->type == AG_INTEL_IPV6
                                    ? AG_INTEL_FIELD_IP
                                : x->type == AG_INTEL_DOMAIN ? AG_INTEL_FIELD_DOMAIN
                                : x->type == AG_INTEL_EMAIL  ? AG_INTEL_FIELD_EMAIL
                                : x->type == AG_INTEL_PHONE  ? AG_INTEL_FIELD_PHONE
                                                             : AG_INTEL_FIELD_DEVICE;
        char probe[160];
        snprintf(probe, sizeof probe, "%s", x->value);
        char *slash = strchr(probe, '/');
        if (slash)
            *slash = '\0';
        if (!ag_intel_matchset_lookup(ms, f, probe, ag_time_now_ms(), &h)) {
            fprintf(stderr, "planted %s %s not found\n", ag_intel_type_name(x->type), x->value);
            return 1;
        }
    }
    char label[64];
    snprintf(label, sizeof label, "%zu indicators:", l.len);
    double e1 = bench_event(ms, label, iters);
    bench_ip(ms, label, iters);
    printf("%-44s %8.0f ns per event\n", "added by the loaded set:", e1 - e0);
    ag_intel_matchset_unref(ms);
    ag_intel_matchset_unref(empty);
    ag_intel_list_free(&l);
    return 0;
}
