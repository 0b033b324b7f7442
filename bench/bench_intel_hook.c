/* Benchmark of the intel pipeline hook's per-event work (api/intel_live.c,
 * ag_api_intel_hook_enrich): take the live set from its slot, check an
 * event's context IP and device id and its properties (email, URL, phone,
 * payout fingerprint) with ag_intel_live_match_event, read the labels of
 * the hits, release the set. Run with an empty set and with N indicators
 * (default 1,000,000, the mix of bench_intel.c) and print the cost per
 * event of each and the difference: what 1M indicators add to scoring one
 * event in process. Usage: bench_intel_hook [N]. Exits 1 if a planted
 * indicator does not match (the figures would be meaningless). */
#include "core/timeutil.h"
#include "intel/live.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void make(struct ag_intel_list *l, size_t n)
{
    char v[128];
    for (size_t i = 0; i < n; i++) {
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        ag_intel_id_new(ind.id);
        uint64_t r = xr();
        unsigned pick = (unsigned)(i % 100), a = (unsigned)r;
        enum ag_intel_type t;
        if (pick < 55) {
            t = AG_INTEL_IPV4;
            if (pick < 5)
                snprintf(v, sizeof v, "%u.%u.%u.0/24", a >> 24, (a >> 16) & 255, (a >> 8) & 255);
            else
                snprintf(v, sizeof v, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                         a & 255);
        } else if (pick < 60) {
            t = AG_INTEL_IPV6;
            snprintf(v, sizeof v, "2001:db8:%x:%x::/48", (unsigned)(r >> 48) & 0xffff,
                     (unsigned)(r >> 32) & 0xffff);
        } else if (pick < 80) {
            t = AG_INTEL_DOMAIN;
            snprintf(v, sizeof v, "d%llx.example", (unsigned long long)(r & 0xffffffffffULL));
        } else if (pick < 85) {
            t = AG_INTEL_URL;
            snprintf(v, sizeof v, "http://u%llx.example/login", (unsigned long long)(r & 0xffffffULL));
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
        ag_intel_indicator_set_str(&ind.source, "feed:bench");
        if (i % 10 == 0)
            ag_intel_indicator_add_tag(&ind, "botnet");
        ag_intel_list_push_move(l, &ind);
    }
}

static volatile size_t sink;

/* The hook's work for one event, without the pipeline's fact setters. */
static size_t hook_once(struct ag_intel_live_slot *slot, const char *ip, const json_t *props,
                        int64_t now)
{
    struct ag_intel_live *l = ag_intel_live_slot_acquire(slot);
    struct ag_intel_event_hit hits[AG_INTEL_EVENT_HITS_MAX];
    size_t n = ag_intel_live_match_event(l, ip, "d_customer_device", props, now, hits,
                                         AG_INTEL_EVENT_HITS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *const *tags;
        size_t nt;
        ag_intel_live_labels(l, hits[i].hit.id, &tags, &nt);
        sink += nt;
    }
    ag_intel_live_unref(l);
    return n;
}

/* <rich>: a payout change with email, URL, phone and fingerprint; else a
 * login (IP and device only). */
static double run(struct ag_intel_live_slot *slot, const char *label, bool rich, int iters)
{
    const char *ips[4] = {"203.0.113.77", "198.51.100.3", "2001:db8:ffff::1", "192.0.2.250"};
    json_t *props = rich ? json_pack("{s:s, s:s, s:s, s:s}", "email", "Jane.Doe@customer-mail.example",
                                     "url", "https://shop.customer-mail.example/checkout", "phone",
                                     "+49 151 9999 9999", "payout_fingerprint",
                                     "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")
                         : json_object();
    int64_t now = ag_time_now_ms();
    int64_t t0 = cpu_ns();
    for (int i = 0; i < iters; i++)
        sink += hook_once(slot, ips[i & 3], props, now);
    double ns = (double)(cpu_ns() - t0) / iters;
    json_decref(props);
    printf("%-40s %8.0f ns per event (%s)\n", label, ns,
           rich ? "ip, device, email, url, phone, payout" : "login: ip, device");
    return ns;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    int iters = 300000;
    printf("(this thread's CPU time)\n");
    struct ag_intel_live_slot slot;
    ag_intel_live_slot_init(&slot);
    struct ag_intel_live *l;
    struct ag_err err;
    if (ag_intel_live_build(NULL, 0, ag_time_now_ms(), &l, &err)) {
        fprintf(stderr, "build: %s\n", err.msg);
        return 1;
    }
    ag_intel_live_slot_replace(&slot, l);
    double empty_login = run(&slot, "hook, empty set:", false, iters);
    double empty_rich = run(&slot, "hook, empty set:", true, iters);

    struct ag_intel_list list = {0};
    make(&list, n);
    int64_t t0 = ag_time_mono_ns();
    if (ag_intel_live_build(list.items, list.len, ag_time_now_ms(), &l, &err)) {
        fprintf(stderr, "build: %s\n", err.msg);
        return 1;
    }
    printf("%-40s %8.0f ms (%zu indicators)\n", "live set build:",
           (double)(ag_time_mono_ns() - t0) / 1e6, list.len);
    ag_intel_live_slot_replace(&slot, l);
    /* Planted values must match, or the loaded figure means nothing. */
    json_t *props = json_pack("{s:s}", "domain", list.items[60].value);
    struct ag_intel_event_hit hits[4];
    l = ag_intel_live_slot_acquire(&slot);
    size_t got = ag_intel_live_match_event(l, list.items[10].value, NULL, props, ag_time_now_ms(),
                                           hits, 4);
    ag_intel_live_unref(l);
    json_decref(props);
    if (got != 2) {
        fprintf(stderr, "planted indicators not found (%zu hits)\n", got);
        return 1;
    }
    char label[64];
    snprintf(label, sizeof label, "hook, %zu indicators:", list.len);
    double loaded_login = run(&slot, label, false, iters);
    double loaded_rich = run(&slot, label, true, iters);
    printf("%-40s %8.0f ns per login, %.0f ns per rich event\n", "added by the loaded set:",
           loaded_login - empty_login, loaded_rich - empty_rich);
    ag_intel_list_free(&list);
    ag_intel_live_slot_destroy(&slot);
    return 0;
}
