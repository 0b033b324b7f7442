/* accountguard replay: run a file of logins or events through the one
 * pipeline, in time order, and print `index<TAB>risk<TAB>action` per event.
 *
 *   --format rba    the RBA dataset's CSV schema (risk/rba_csv.h); the given
 *                   Country/ASN/browser/OS/device columns win over enrichment
 *   --format jsonl  one API event object per line
 *
 * The store defaults to an in-memory SQLite database (--store PATH keeps
 * the events). Subsystem hooks (alerts, cases, ...) are off unless
 * --with-hooks: a replay decides, it does not page anyone. */
#include "api/api.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "risk/rba_csv.h"
#include "cli/replay.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A row kept for sorting: the event JSON and what was given with it. */
struct row {
    int64_t t;
    long order;
    char *index;
    json_t *event;
    struct ag_risk_given given;
    char *strs[6]; /* owned copies behind <given> */
};

struct rows {
    struct row *v;
    size_t n, cap;
};

static int push(struct rows *rs, struct row *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 4096;
        struct row *v = realloc(rs->v, cap * sizeof *v);
        if (!v)
            return -1;
        rs->v = v;
        rs->cap = cap;
    }
    rs->v[rs->n++] = *r;
    return 0;
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static int read_rba(const char *path, struct rows *rs, long *bad)
{
    struct ag_rba_reader *rd;
    struct ag_err err;
    if (ag_rba_open(path, &rd, &err)) {
        fprintf(stderr, "accountguard replay: %s\n", err.msg);
        return -1;
    }
    struct ag_rba_row *r = malloc(sizeof *r);
    int rc;
    long order = 0;
    while (r && (rc = ag_rba_next(rd, r, &err)) != 0) {
        if (rc < 0) {
            if (rc == AG_EIO) {
                fprintf(stderr, "accountguard replay: %s\n", err.msg);
                free(r);
                ag_rba_close(rd);
                return -1;
            }
            if ((*bad)++ < 10)
                fprintf(stderr, "accountguard replay: skipped %s\n", err.msg);
            continue;
        }
        char ts[40], id[64];
        ag_time_format_ms(r->ev.occurred_at_ms, ts, sizeof ts);
        snprintf(id, sizeof id, "rba-%s", r->index);
        json_t *ctx = json_object();
        if (r->ev.ip[0])
            json_object_set_new(ctx, "ip", json_string(r->ev.ip));
        if (r->ev.user_agent[0])
            json_object_set_new(ctx, "user_agent", json_string(r->ev.user_agent));
        if (r->ev.device_id[0])
            json_object_set_new(ctx, "device_id", json_string(r->ev.device_id));
        struct row w = {.t = r->ev.occurred_at_ms, .order = order++};
        w.index = strdup(r->index);
        w.event = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "id", id, "type",
                            r->success ? "login.succeeded" : "login.failed", "occurred_at", ts,
                            "account", "id", r->ev.account_id, "context", ctx);
        w.strs[0] = dup_or_null(r->given.country);
        w.strs[1] = dup_or_null(r->given.city);
        w.strs[2] = dup_or_null(r->given.browser);
        w.strs[3] = dup_or_null(r->given.os);
        w.strs[4] = dup_or_null(r->given.device_type);
        w.strs[5] = dup_or_null(r->given.region);
        w.given = (struct ag_risk_given){.country = w.strs[0],
                                         .city = w.strs[1],
                                         .browser = w.strs[2],
                                         .os = w.strs[3],
                                         .device_type = w.strs[4],
                                         .region = w.strs[5],
                                         .asn = r->given.asn,
                                         .rtt_ms = r->given.rtt_ms};
        if (!w.index || !w.event || push(rs, &w)) {
            fprintf(stderr, "accountguard replay: out of memory\n");
            free(r);
            ag_rba_close(rd);
            return -1;
        }
    }
    free(r);
    ag_rba_close(rd);
    return 0;
}

static int read_jsonl(const char *path, struct rows *rs, long *bad)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "accountguard replay: cannot open %s\n", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, order = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n <= 1)
            continue;
        struct ag_err err;
        json_t *ev = ag_json_parse(line, (size_t)n, 32, &err);
        const char *id = ev ? json_string_value(json_object_get(ev, "id")) : NULL;
        const char *ts = ev ? json_string_value(json_object_get(ev, "occurred_at")) : NULL;
        int64_t t = 0;
        if (!ev || !id || !ts || ag_time_parse(ts, &t)) {
            if ((*bad)++ < 10)
                fprintf(stderr, "accountguard replay: skipped line %ld: %s\n", lineno,
                        ev ? "needs a string id and an RFC 3339 occurred_at" : err.msg);
            json_decref(ev);
            continue;
        }
        struct row w = {.t = t, .order = order++, .index = strdup(id), .event = ev};
        if (!w.index || push(rs, &w)) {
            fprintf(stderr, "accountguard replay: out of memory\n");
            free(line);
            return -1;
        }
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Results in submission order; a window bounds the events in flight. */
struct run {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int inflight, window;
    double *risk;
    signed char *action;
    int *status;
};

struct slot {
    struct run *run;
    size_t i;
};

static void replay_done(void *arg, struct ag_pipeline_reply *r)
{
    struct slot *s = arg;
    struct run *run = s->run;
    run->status[s->i] = r->status;
    run->risk[s->i] = r->risk;
    run->action[s->i] = (signed char)r->action;
    free(r->body);
    free(s);
    pthread_mutex_lock(&run->lock);
    run->inflight--;
    pthread_cond_signal(&run->cond);
    pthread_mutex_unlock(&run->lock);
}

int ag_replay_run(struct ag_pipeline *p, const char *path, bool rba, FILE *out, bool progress,
                  size_t *events, long *failed_out)
{
    struct rows rs = {0};
    long bad = 0;
    int status = -1;
    struct run run = {.window = 4096};
    if ((rba ? read_rba(path, &rs, &bad) : read_jsonl(path, &rs, &bad)))
        goto done;
    qsort(rs.v, rs.n, sizeof *rs.v, by_time);
    run.risk = calloc(rs.n + 1, sizeof *run.risk);
    run.action = calloc(rs.n + 1, 1);
    run.status = calloc(rs.n + 1, sizeof *run.status);
    if (!run.risk || !run.action || !run.status) {
        fprintf(stderr, "accountguard replay: out of memory\n");
        goto done;
    }
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.cond, NULL);
    for (size_t i = 0; i < rs.n; i++) {
        pthread_mutex_lock(&run.lock);
        while (run.inflight >= run.window)
            pthread_cond_wait(&run.cond, &run.lock);
        run.inflight++;
        pthread_mutex_unlock(&run.lock);
        struct slot *sl = malloc(sizeof *sl);
        if (!sl) {
            run.status[i] = 503;
            pthread_mutex_lock(&run.lock);
            run.inflight--;
            pthread_mutex_unlock(&run.lock);
            continue;
        }
        *sl = (struct slot){&run, i};
        ag_pipeline_submit_given(p, rs.v[i].event, rba ? &rs.v[i].given : NULL, NULL,
                                 replay_done, sl);
        if (progress && (i % 20000 == 0 || i + 1 == rs.n)) {
            int width = 40, done = (int)((double)(i + 1) / (double)rs.n * width);
            fprintf(stderr, "\r[%.*s%*s] %zu/%zu", done,
                    "########################################", width - done, "", i + 1, rs.n);
        }
    }
    pthread_mutex_lock(&run.lock);
    while (run.inflight > 0)
        pthread_cond_wait(&run.cond, &run.lock);
    pthread_mutex_unlock(&run.lock);
    if (progress)
        fputc('\n', stderr);
    static const char *const names[] = {"allow", "review", "challenge", "deny"};
    long failed = 0;
    for (size_t i = 0; i < rs.n; i++) {
        if (run.status[i] != 200) {
            failed++;
            if (out)
                fprintf(out, "%s\t\terror:%d\n", rs.v[i].index, run.status[i]);
            continue;
        }
        if (out)
            fprintf(out, "%s\t%.6f\t%s\n", rs.v[i].index, run.risk[i],
                    names[run.action[i] & 3]);
    }
    *events = rs.n;
    *failed_out = failed + bad;
    status = 0;
done:
    for (size_t i = 0; i < rs.n; i++) {
        free(rs.v[i].index);
        json_decref(rs.v[i].event);
        for (int k = 0; k < 6; k++)
            free(rs.v[i].strs[k]);
    }
    free(rs.v);
    free(run.risk);
    free(run.action);
    free(run.status);
    return status;
}

int ag_cmd_replay(int argc, char **argv)
{
    const char *format = ag_cli_take_opt(&argc, argv, "format", "rba");
    const char *out_path = ag_cli_take_opt(&argc, argv, "out", NULL);
    int with_hooks = ag_cli_take_flag(&argc, argv, "with-hooks");
    bool store_given = false;
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "--store", 7))
            store_given = true;
    struct ag_config cfg;
    int first, rc = ag_cli_config("replay", &cfg, argc, argv, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    int status = 1;
    if (first >= argc) {
        fprintf(stderr, "accountguard replay: give the file to replay (see --help)\n");
        ag_config_free(&cfg);
        return 2;
    }
    if (strcmp(format, "rba") && strcmp(format, "jsonl")) {
        fprintf(stderr, "accountguard replay: --format must be rba or jsonl\n");
        ag_config_free(&cfg);
        return 2;
    }
    if (!store_given) {
        free(cfg.store);
        cfg.store = strdup(":memory:");
    }
    struct ag_store *store = NULL;
    struct ag_pipeline *p = NULL;
    FILE *out = stdout;
    struct ag_err err;
    struct ag_store_options so = {.read_pool = 2, .batch_max = (int)cfg.commit_batch_max};
    struct ag_pipeline_options po = {.cfg = &cfg, .hooks = with_hooks ? ag_app_hooks : NULL};
    if (ag_store_open(cfg.store, &so, &store, &err) ||
        (po.store = store, ag_pipeline_open(&po, &p, &err))) {
        fprintf(stderr, "accountguard replay: %s\n", err.msg);
        goto done;
    }
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "accountguard replay: cannot write %s\n", out_path);
        out = stdout;
        goto done;
    }
    int64_t tw = ag_time_mono_ns();
    ag_pipeline_wait_ready(p);
    fprintf(stderr, "IP network index ready in %.2f s\n", (double)(ag_time_mono_ns() - tw) / 1e9);
    int64_t t0 = ag_time_mono_ns();
    size_t n = 0;
    long failed = 0;
    if (ag_replay_run(p, argv[first], !strcmp(format, "rba"), out, isatty(STDERR_FILENO), &n,
                      &failed) == 0) {
        double secs = (double)(ag_time_mono_ns() - t0) / 1e9;
        fprintf(stderr, "replayed %zu events (%ld skipped or failed) in %.2f s (%.0f events/s)\n",
                n, failed, secs, (double)n / (secs + 1e-9));
        status = failed ? 1 : 0;
    }
done:
    if (out != stdout)
        fclose(out);
    ag_pipeline_close(p);
    ag_store_close(store);
    ag_config_free(&cfg);
    return status;
}
