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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A row kept for sorting. An RBA row keeps its fields packed in one block
 * and becomes an event only when it is submitted (a million JSON trees
 * held at once cost more than running them). */
struct rba_fields {
    bool success;
    bool attacker; /* Is Attack IP or Is Account Takeover */
    const char *account, *ip, *ua, *device;
    char *index; /* the row's "index" column */
    struct ag_risk_given given;
    char data[]; /* the strings above */
};

struct row {
    int64_t t;
    long order;
    char *index;
    json_t *event;            /* jsonl */
    struct rba_fields *rba;   /* rba */
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

/* Copy the row's strings into one block; empty ones become NULL (given) or
 * "" (event fields). */
static struct rba_fields *pack_row(const struct ag_rba_row *r)
{
    const char *src[] = {r->ev.account_id, r->ev.ip,        r->ev.user_agent, r->ev.device_id,
                         r->given.country, r->given.city,   r->given.browser, r->given.os,
                         r->given.device_type, r->given.region, r->index};
    enum { N = sizeof src / sizeof *src };
    size_t len[N], total = 0;
    for (int i = 0; i < N; i++)
        total += (len[i] = src[i] ? strlen(src[i]) : 0) + 1;
    struct rba_fields *f = malloc(sizeof *f + total);
    if (!f)
        return NULL;
    char *dst[N];
    char *p = f->data;
    for (int i = 0; i < N; i++) {
        memcpy(p, src[i] ? src[i] : "", len[i]);
        p[len[i]] = '\0';
        dst[i] = p;
        p += len[i] + 1;
    }
#define GIVEN(i) (len[i] ? dst[i] : NULL)
    *f = (struct rba_fields){
        .success = r->success,
        .attacker = r->attack_ip || r->takeover,
        .account = dst[0],
        .ip = dst[1],
        .ua = dst[2],
        .device = dst[3],
        .index = dst[10],
        .given = {.country = GIVEN(4),
                  .city = GIVEN(5),
                  .browser = GIVEN(6),
                  .os = GIVEN(7),
                  .device_type = GIVEN(8),
                  .region = GIVEN(9),
                  .asn = r->given.asn,
                  .rtt_ms = r->given.rtt_ms},
    };
#undef GIVEN
    return f;
}

static int read_rba(const char *path, struct rows *rs, long *bad, bool *needs_ip_index)
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
        /* an address without a given country and ASN is looked up */
        if (r->ev.ip[0] && !(r->given.country && r->given.country[0] && r->given.asn))
            *needs_ip_index = true;
        struct row w = {.t = r->ev.occurred_at_ms, .order = order++, .rba = pack_row(r)};
        if (w.rba)
            w.index = w.rba->index;
        if (!w.rba || push(rs, &w)) {
            fprintf(stderr, "accountguard replay: out of memory\n");
            free(w.rba);
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
            free(w.index);
            json_decref(ev);
            free(line);
            if (f != stdin)
                fclose(f);
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

/* <src> into <dst> of <cap> bytes, cut if longer. */
static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The event an RBA row stands for: a successful or failed login, or (<mfa>)
 * the second factor passed from the same context right after it (<types>:
 * login.succeeded, login.failed, mfa.succeeded). */
static void rba_event(const struct row *w, bool mfa, const struct ag_event_type *const types[3],
                      struct ag_event *ev)
{
    const struct rba_fields *f = w->rba;
    memset(ev, 0, offsetof(struct ag_event, user_agent));
    /* (copies, not snprintf: this runs a million times a replay) */
    size_t n = strlen(w->index);
    if (n > sizeof ev->id - 9)
        n = sizeof ev->id - 9;
    memcpy(ev->id, "rba-", 4);
    memcpy(ev->id + 4, w->index, n);
    memcpy(ev->id + 4 + n, mfa ? "-mfa" : "", mfa ? 5 : 1);
    ev->type = types[mfa ? 2 : f->success ? 0 : 1];
    ev->occurred_at_ms = w->t;
    copy(ev->account_id, sizeof ev->account_id, f->account);
    copy(ev->ip, sizeof ev->ip, f->ip);
    copy(ev->user_agent, sizeof ev->user_agent, f->ua);
    copy(ev->device_id, sizeof ev->device_id, f->device);
    ev->session_id[0] = '\0';
    ev->has_amount = false;
    ev->properties = ev->raw = NULL;
}

/* Results in submission order; a window bounds the events in flight. */
struct run {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int inflight, window;
    double *risk;
    signed char *action;
    int *status;
    size_t passed; /* challenges passed by legitimate users */
    const struct rows *rows;
    const struct ag_event_type *types[3]; /* rba_event's */
};

struct slot {
    struct run *run;
    size_t i;
    bool mfa;
};

static void replay_done(void *arg, struct ag_pipeline_reply *r)
{
    struct slot *s = arg;
    struct run *run = s->run;
    free(r->body);
    pthread_mutex_lock(&run->lock);
    if (!s->mfa) {
        run->status[s->i] = r->status;
        run->risk[s->i] = r->risk;
        run->action[s->i] = (signed char)r->action;
    } else if (r->status == 200) {
        run->passed++;
    }
    run->inflight--;
    pthread_cond_signal(&run->cond);
    pthread_mutex_unlock(&run->lock);
    free(s);
}

static void submit(struct ag_pipeline *p, struct run *run, size_t i, bool mfa)
{
    const struct row *w = &run->rows->v[i];
    pthread_mutex_lock(&run->lock);
    while (run->inflight >= run->window)
        pthread_cond_wait(&run->cond, &run->lock);
    run->inflight++;
    pthread_mutex_unlock(&run->lock);
    struct slot *sl = malloc(sizeof *sl);
    if (!sl) {
        pthread_mutex_lock(&run->lock);
        if (!mfa)
            run->status[i] = 503;
        run->inflight--;
        pthread_mutex_unlock(&run->lock);
        return;
    }
    *sl = (struct slot){run, i, mfa};
    if (w->rba) {
        struct ag_event ev;
        rba_event(w, mfa, run->types, &ev);
        ag_pipeline_submit_event(p, &ev, &w->rba->given, replay_done, sl);
        /* The stages ran on this thread: if the pipeline holds a legitimate
         * user's login for a second factor, the user passes it now (an
         * attacker does not), so that what is learned next is in order. */
        if (!mfa && w->rba->success && !w->rba->attacker &&
            ag_pipeline_login_held(p, w->rba->account))
            submit(p, run, i, true);
    } else {
        ag_pipeline_submit(p, w->event, NULL, replay_done, sl);
    }
}

int ag_replay_run(struct ag_pipeline *p, const char *path, bool rba, FILE *out, bool progress,
                  size_t *events, long *failed_out)
{
    struct rows rs = {0};
    long bad = 0;
    int status = -1;
    struct run run = {.window = 4096,
                      .rows = &rs,
                      .types = {ag_event_type_find("login.succeeded"),
                                ag_event_type_find("login.failed"),
                                ag_event_type_find("mfa.succeeded")}};
    bool needs_ip_index = !rba;
    if ((rba ? read_rba(path, &rs, &bad, &needs_ip_index) : read_jsonl(path, &rs, &bad)))
        goto done;
    qsort(rs.v, rs.n, sizeof *rs.v, by_time);
    /* The IP network index was being built meanwhile: wait for it when
     * addresses will be looked up (lookups work before it, only slower).
     * Rows that give their country and ASN, as the RBA dataset's do, never
     * look an address up. */
    if (needs_ip_index)
        ag_pipeline_wait_ready(p);
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
        submit(p, &run, i, false);
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
    pthread_mutex_destroy(&run.lock);
    pthread_cond_destroy(&run.cond);
    if (progress)
        fputc('\n', stderr);
    if (run.passed)
        fprintf(stderr, "%zu challenged logins of legitimate users passed their second factor\n",
                run.passed);
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
        if (rs.v[i].rba)
            free(rs.v[i].rba); /* the index lives in it */
        else
            free(rs.v[i].index);
        json_decref(rs.v[i].event);
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
    /* Without --store the run is thrown away: decide without writing the
     * events (the hot state lives in memory for the run). */
    struct ag_pipeline_options po = {.cfg = &cfg,
                                     .hooks = with_hooks ? ag_app_hooks : NULL,
                                     .ephemeral = !store_given};
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
