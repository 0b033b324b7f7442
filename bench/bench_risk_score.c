/* bench_risk_score: in-process scoring speed and memory of the risk engine.
 *
 * 1. Simulates a login stream (`simulate --users 100000 --days 9`) into a
 *    temporary file and loads up to 1,000,000 events into memory.
 * 2. Scores them on one thread, in time order, score-then-learn, twice:
 *    "enrich" (the API path: IP and UA enrichment through libloc and the
 *    uap-core regexes, with their caches) and "given" (the replay path:
 *    Country, ASN, browser, OS and device type taken from the CSV).
 *    Prints events/s and the p50/p99/max time per event (assess + learn).
 * 3. Prints bytes per account at 100k accounts, then copies those profiles
 *    to 1M accounts (blob round trip) and prints bytes per account again.
 * Usage: bench_risk_score [--users N] [--days D] [--events N] [--csv FILE]
 *                         [--memory no] [--only given|enrich] */
#include "cli/cli.h"
#include "core/event_types.h"
#include "risk/ipintel.h"
#include "risk/rba_csv.h"
#include "risk/risk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cev {
    int64_t t;
    bool ok;
    char acct[20];
    char ip[40];
    char dev[20];
    char cc[3];
    uint32_t asn;
    uint32_t ua, br, os, dt; /* interned string indexes */
};

struct strtab {
    char **v;
    size_t n, cap;
};

static uint32_t intern(struct strtab *t, const char *s)
{
    /* few distinct strings; a linear probe over a small hash index */
    static uint32_t *idx;
    static size_t icap;
    if (!idx) {
        icap = 1 << 16;
        idx = calloc(icap, sizeof *idx);
    }
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = s; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (size_t i = h & (icap - 1);; i = (i + 1) & (icap - 1)) {
        if (!idx[i]) {
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 1024;
                t->v = realloc(t->v, t->cap * sizeof *t->v);
            }
            t->v[t->n] = strdup(s);
            idx[i] = (uint32_t)++t->n;
            return idx[i] - 1;
        }
        if (!strcmp(t->v[idx[i] - 1], s))
            return idx[i] - 1;
    }
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *name, struct cev *evs, size_t n, struct strtab *st, bool given,
                struct ag_risk_engine **keep)
{
    struct ag_risk_options o = {
        .ipdb_file = "/var/lib/location/database.db",
        .uap_regexes = "/usr/share/uap-core/regexes.yaml",
        .model = AG_MODEL_EXTENDED,
        .expected_accounts = 100000,
    };
    struct ag_err err;
    struct ag_risk_engine *e;
    if (ag_risk_engine_open(&o, &e, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    /* a running service has its network index; do not time its build */
    if (!ag_ipintel_index_wait(ag_risk_ipintel(e)))
        fprintf(stderr, "bench: no network index, libloc answers cache misses\n");
    const struct ag_event_type *t_ok = ag_event_type_find("login.succeeded");
    const struct ag_event_type *t_fail = ag_event_type_find("login.failed");
    static struct ag_event ev;
    int64_t *lat = malloc(n * sizeof *lat);
    double risk_sum = 0;
    int64_t t0 = now_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        const struct cev *c = &evs[i];
        /* building the event is the caller's work: not timed */
        ev.type = c->ok ? t_ok : t_fail;
        ev.occurred_at_ms = c->t;
        memcpy(ev.account_id, c->acct, sizeof c->acct);
        memcpy(ev.ip, c->ip, sizeof c->ip);
        size_t ul = strlen(st->v[c->ua]);
        memcpy(ev.user_agent, st->v[c->ua], ul + 1);
        memcpy(ev.device_id, c->dev, sizeof c->dev);
        struct ag_risk_given g = {.country = c->cc, .asn = c->asn, .browser = st->v[c->br],
                                  .os = st->v[c->os], .device_type = st->v[c->dt], .rtt_ms = -1};
        int64_t a0 = now_ns();
        struct ag_risk_assessment a;
        ag_risk_assess(e, &ev, given ? &g : NULL, &a);
        ag_risk_learn(e, &ev, &a);
        lat[i] = now_ns() - a0;
        risk_sum += a.risk;
    }
    int64_t cpu = cpu_ns() - c0;
    (void)t0;
    int64_t busy = 0;
    for (size_t i = 0; i < n; i++)
        busy += lat[i];
    qsort(lat, n, sizeof *lat, cmp_i64);
    struct ag_risk_mem m;
    ag_risk_mem(e, &m);
    /* On a shared machine wall time includes other processes' turns: the
     * thread's CPU time (which also covers building the events and reading
     * the clock) is the one-core figure. */
    printf("%-7s %zu events: %.0f events per CPU-second of this thread (event building "
           "included); %.0f/s by wall clock; per event (assess+learn, wall clock): p50 %lld ns, "
           "p99 %lld ns, max %lld ns; mean risk %.3f\n",
           name, n, n / (cpu / 1e9), n / (busy / 1e9), (long long)lat[n / 2],
           (long long)lat[n * 99 / 100], (long long)lat[n - 1], risk_sum / n);
    printf("        caches: IP %.1f%% hits, UA %.1f%% hits\n",
           100.0 * m.ip_cache_hits / (m.ip_cache_hits + m.ip_cache_misses + 1e-9),
           100.0 * m.ua_cache_hits / (m.ua_cache_hits + m.ua_cache_misses + 1e-9));
    free(lat);
    if (keep)
        *keep = e;
    else
        ag_risk_engine_close(e);
}

static void mem_report(struct ag_risk_engine *e, const char *what)
{
    struct ag_risk_mem m;
    ag_risk_mem(e, &m);
    printf("%s: %zu accounts, profiles %.1f MB = %.0f bytes/account; fixed: global tables %.1f "
           "MB, velocity %.1f MB, caches and network index %.1f MB\n",
           what, m.accounts, m.profile_bytes / 1048576.0,
           m.accounts ? (double)m.profile_bytes / m.accounts : 0, m.global_bytes / 1048576.0,
           m.velocity_bytes / 1048576.0, m.cache_bytes / 1048576.0);
}

int main(int argc, char **argv)
{
    const char *users = "100000", *days = "9", *csv = NULL;
    bool memory = true;
    const char *only = "";
    size_t max_events = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--users"))
            users = argv[i + 1];
        else if (!strcmp(argv[i], "--days"))
            days = argv[i + 1];
        else if (!strcmp(argv[i], "--events"))
            max_events = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--csv"))
            csv = argv[i + 1];
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--memory"))
            memory = strcmp(argv[i + 1], "no") != 0;
    }
    char tmp[] = "/tmp/bench_risk_XXXXXX";
    if (!csv) {
        int fd = mkstemp(tmp);
        if (fd < 0) {
            perror("mkstemp");
            return 1;
        }
        close(fd);
        char *sargv[] = {"--users", (char *)users, "--days", (char *)days, "--seed", "7",
                         "--out", tmp, NULL};
        int64_t t0 = now_ns();
        if (ag_cmd_simulate(8, sargv)) {
            unlink(tmp);
            return 1;
        }
        printf("simulated %s users x %s days in %.1f s\n", users, days, (now_ns() - t0) / 1e9);
        csv = tmp;
    }
    struct ag_err err;
    struct ag_rba_reader *r;
    if (ag_rba_open(csv, &r, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    struct cev *evs = calloc(max_events, sizeof *evs);
    struct strtab st = {0};
    static struct ag_rba_row row;
    size_t n = 0;
    int64_t t0 = now_ns(), rc0 = cpu_ns();
    while (n < max_events) {
        int k = ag_rba_next(r, &row, &err);
        if (k <= 0) {
            if (k < 0)
                fprintf(stderr, "bench: %s\n", err.msg);
            break;
        }
        struct cev *c = &evs[n++];
        c->t = row.ev.occurred_at_ms;
        c->ok = row.success;
        snprintf(c->acct, sizeof c->acct, "%.19s", row.ev.account_id);
        snprintf(c->ip, sizeof c->ip, "%.39s", row.ev.ip);
        snprintf(c->dev, sizeof c->dev, "%.19s", row.ev.device_id);
        memcpy(c->cc, row.country, 2);
        c->asn = row.asn;
        c->ua = intern(&st, row.ev.user_agent);
        c->br = intern(&st, row.browser);
        c->os = intern(&st, row.os);
        c->dt = intern(&st, row.device_type);
    }
    ag_rba_close(r);
    double rcpu = (cpu_ns() - rc0) / 1e9;
    printf("read %zu rows of the RBA CSV in %.2f s wall, %.2f s CPU (%.0f rows per CPU-second, "
           "copying included)\n", n, (now_ns() - t0) / 1e9, rcpu, n / rcpu);
    if (csv == tmp)
        unlink(tmp);

    struct ag_risk_engine *e = NULL;
    if (strcmp(only, "enrich"))
        run("given", evs, n, &st, true, strcmp(only, "given") ? NULL : &e);
    if (strcmp(only, "given"))
        run("enrich", evs, n, &st, false, &e);
    mem_report(e, "memory after the stream");

    if (!memory) {
        ag_risk_engine_close(e);
        return 0;
    }
    /* 1M accounts: the simulated profiles copied under new account ids */
    struct ag_risk_options o = {.model = AG_MODEL_EXTENDED, .expected_accounts = 1000000};
    struct ag_risk_engine *big;
    if (ag_risk_engine_open(&o, &big, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    long nusers = atol(users);
    size_t copied = 0;
    uint8_t blob[AG_PROFILE_BLOB_MAX];
    for (int k = 0; k < 100 && copied < 1000000; k++) {
      for (long u = 0; u < nusers && copied < 1000000; u++) {
        char id[32];
        snprintf(id, sizeof id, "u%07ld", u);
        int len = ag_risk_profile_get(e, id, blob, sizeof blob);
        if (len < 0)
            continue;
        {
            char nid[48];
            snprintf(nid, sizeof nid, "%s-%d", id, k);
            uint64_t key = ag_profile_account_key(nid);
            for (int b = 0; b < 8; b++)
                blob[4 + b] = (uint8_t)(key >> (8 * b));
            if (ag_risk_profile_put(big, nid, blob, (size_t)len, &err) == 0)
                copied++;
        }
      }
    }
    mem_report(big, "memory at 1M accounts");
    ag_risk_engine_close(big);
    ag_risk_engine_close(e);
    free(evs);
    for (size_t i = 0; i < st.n; i++)
        free(st.v[i]);
    free(st.v);
    return 0;
}
