/* The intel service: the "intel" pipeline hook's state. It owns the live
 * match set (built from the store at start, rebuilt by a background thread
 * whenever indicators change and swapped in whole), the enrich step that
 * turns matches into the intel_match reason and the intel.* rules facts,
 * and the feed scheduler that fetches configured feeds on their intervals.
 *
 * Rebuilds: a writer commits, then calls ag_api_intel_refresh(wait): the
 * rebuild thread coalesces requests (one rebuild serves every request made
 * before it started) and the writer returns once a set that includes its
 * change is in place. The thread also polls the store's intel generation
 * every few seconds, so a node sharing a PostgreSQL store picks up another
 * node's changes, and rebuilds hourly to drop expired indicators (lookups
 * check expiry anyway). */
#include "api/intel.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/feed.h"
#include "intel/fetch.h"
#include "intel/live.h"
#include "rules/fields.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define POLL_MS 2000
#define FULL_REBUILD_MS (3600 * 1000)
#define FEED_RETRY_MS (5 * 60 * 1000)
#define FEED_LEASE_MS (10 * 60 * 1000)
#define FEED_NOTES_MAX 20

struct ag_intel_svc {
    const struct ag_config *cfg;
    struct ag_store *store;
    struct ag_intel_live_slot slot;
    char identity_id[AG_INTEL_ID_LEN + 8];
    int64_t identity_created;
    char feed_root[PATH_MAX];

    pthread_mutex_t mu;
    pthread_cond_t wake, built_cv;
    uint64_t requested, built;
    bool stop;
    int64_t seen_generation, last_build_ms;
    pthread_t rebuild_thread;
    bool rebuild_started;

    pthread_mutex_t feed_mu;
    pthread_cond_t feed_wake;
    bool feed_kicked;
    pthread_t feed_thread;
    bool feed_started;
    pthread_mutex_t fetch_mu; /* one fetch at a time (scheduler or refresh) */
};

/* ---- rows <-> indicators ------------------------------------------------- */

int ag_api_intel_from_rec(const struct ag_intel_rec *r, struct ag_intel_indicator *out)
{
    ag_intel_indicator_init(out);
    snprintf(out->id, sizeof out->id, "%s", r->id);
    if (ag_intel_type_parse(r->type, &out->type) || ag_intel_tlp_parse(r->tlp, &out->tlp))
        out->tlp = AG_INTEL_TLP_RED; /* unreadable row: share nothing */
    out->confidence = r->confidence;
    out->informational = r->informational;
    out->valid_from_ms = r->valid_from;
    out->valid_until_ms = r->valid_until;
    out->created_ms = r->created;
    out->modified_ms = r->modified;
    out->added_ms = r->added;
    if (ag_intel_indicator_set_str(&out->value, r->value) ||
        ag_intel_indicator_set_str(&out->source, r->source) ||
        ag_intel_indicator_set_str(&out->description, r->description) ||
        ag_intel_indicator_set_str(&out->external_ref, r->external_ref))
        goto oom;
    if (r->tags && strcmp(r->tags, "[]") != 0) {
        json_t *tags = json_loads(r->tags, 0, NULL);
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t)
        {
            if (json_is_string(t) && ag_intel_indicator_add_tag(out, json_string_value(t)) ==
                                         AG_ENOMEM) {
                json_decref(tags);
                goto oom;
            }
        }
        json_decref(tags);
    }
    return 0;
oom:
    ag_intel_indicator_free(out);
    return AG_ENOMEM;
}

/* The columns of <ind>; <tags> receives the JSON text to free. */
static int to_rec(const struct ag_intel_indicator *ind, int64_t added, struct ag_intel_rec *r,
                  char **tags)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < ind->ntags; i++)
        json_array_append_new(a, json_string(ind->tags[i]));
    *tags = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!*tags)
        return AG_ENOMEM;
    *r = (struct ag_intel_rec){
        .id = ind->id,
        .type = ag_intel_type_name(ind->type),
        .value = ind->value,
        .source = ind->source,
        .confidence = ind->confidence,
        .tlp = ag_intel_tlp_name(ind->tlp),
        .tags = *tags,
        .description = ind->description,
        .external_ref = ind->external_ref,
        .informational = ind->informational,
        .valid_from = ind->valid_from_ms,
        .valid_until = ind->valid_until_ms,
        .created = ind->created_ms,
        .modified = ind->modified_ms,
        .added = added,
    };
    return 0;
}

/* ---- writes --------------------------------------------------------------- */

struct put_job {
    const struct ag_intel_indicator *inds;
    size_t n, created, updated;
    int64_t now;
};

static int put_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct put_job *j = arg;
    j->created = j->updated = 0;
    for (size_t i = 0; i < j->n; i++) {
        struct ag_intel_rec r;
        char *tags;
        if (to_rec(&j->inds[i], j->now, &r, &tags))
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        bool created;
        int rc = ag_store_intel_put(tx, &r, &created, err);
        free(tags);
        if (rc)
            return rc;
        if (created)
            j->created++;
        else
            j->updated++;
    }
    return ag_store_intel_touch(tx, err);
}

int ag_api_intel_store_list(struct ag_intel_svc *svc, const struct ag_intel_indicator *inds,
                            size_t n, size_t *created, size_t *updated, struct ag_err *err)
{
    struct put_job j = {.inds = inds, .n = n, .now = ag_time_now_ms()};
    int rc = ag_store_exec(svc->store, put_job, &j, err);
    if (rc)
        return rc;
    if (created)
        *created = j.created;
    if (updated)
        *updated = j.updated;
    ag_api_intel_refresh(svc, true);
    return 0;
}

struct del_job {
    const char *id;
};

static int del_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct del_job *j = arg;
    int rc = ag_store_intel_delete(tx, j->id, err);
    return rc ? rc : ag_store_intel_touch(tx, err);
}

int ag_api_intel_delete(struct ag_intel_svc *svc, const char *id, struct ag_err *err)
{
    struct del_job j = {id};
    int rc = ag_store_exec(svc->store, del_job, &j, err);
    if (!rc)
        ag_api_intel_refresh(svc, true);
    return rc;
}

static int get_cb(void *arg, const struct ag_intel_rec *r)
{
    return ag_api_intel_from_rec(r, arg) ? 1 : 0;
}

int ag_api_intel_get(struct ag_intel_svc *svc, const char *id, struct ag_intel_indicator *out,
                     struct ag_err *err)
{
    ag_intel_indicator_init(out);
    return ag_store_intel_get(svc->store, id, get_cb, out, err);
}

/* ---- the match set -------------------------------------------------------- */

struct load {
    struct ag_intel_list list;
    bool oom;
};

static int load_cb(void *arg, const struct ag_intel_rec *r)
{
    struct load *l = arg;
    struct ag_intel_indicator ind;
    if (ag_api_intel_from_rec(r, &ind) || ag_intel_list_push_move(&l->list, &ind)) {
        ag_intel_indicator_free(&ind);
        l->oom = true;
        return 1;
    }
    return 0;
}

/* Load every live indicator and swap in a new set. */
static int rebuild_now(struct ag_intel_svc *svc, struct ag_err *err)
{
    int64_t gen = ag_store_intel_generation(svc->store);
    int64_t now = ag_time_now_ms();
    struct load l = {0};
    int rc = ag_store_intel_scan_live(svc->store, now, load_cb, &l, err);
    if (!rc && l.oom)
        rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory loading indicators");
    struct ag_intel_live *live = NULL;
    if (!rc)
        rc = ag_intel_live_build(l.list.items, l.list.len, now, &live, err);
    ag_intel_list_free(&l.list);
    if (rc)
        return rc;
    ag_intel_live_slot_replace(&svc->slot, live);
    pthread_mutex_lock(&svc->mu);
    svc->seen_generation = gen;
    svc->last_build_ms = now;
    pthread_mutex_unlock(&svc->mu);
    return 0;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *rebuild_main(void *arg)
{
    struct ag_intel_svc *svc = arg;
    pthread_mutex_lock(&svc->mu);
    while (!svc->stop) {
        bool due = svc->requested > svc->built;
        if (!due) {
            struct timespec ts;
            deadline_in(&ts, POLL_MS);
            if (pthread_cond_timedwait(&svc->wake, &svc->mu, &ts) == ETIMEDOUT && !svc->stop) {
                int64_t seen = svc->seen_generation, last = svc->last_build_ms;
                pthread_mutex_unlock(&svc->mu);
                int64_t gen = ag_store_intel_generation(svc->store);
                bool stale = (gen >= 0 && gen != seen) ||
                             ag_time_now_ms() - last >= FULL_REBUILD_MS;
                pthread_mutex_lock(&svc->mu);
                if (stale)
                    svc->requested++;
            }
            continue;
        }
        uint64_t target = svc->requested;
        pthread_mutex_unlock(&svc->mu);
        struct ag_err err;
        if (rebuild_now(svc, &err))
            ag_log(AG_LOG_ERROR, "intel: match set rebuild failed", "error", err.msg, NULL);
        pthread_mutex_lock(&svc->mu);
        svc->built = target;
        pthread_cond_broadcast(&svc->built_cv);
    }
    pthread_cond_broadcast(&svc->built_cv);
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

void ag_api_intel_refresh(struct ag_intel_svc *svc, bool wait)
{
    pthread_mutex_lock(&svc->mu);
    uint64_t mine = ++svc->requested;
    pthread_cond_signal(&svc->wake);
    if (wait) {
        struct timespec ts;
        deadline_in(&ts, 120 * 1000);
        while (svc->built < mine && !svc->stop)
            if (pthread_cond_timedwait(&svc->built_cv, &svc->mu, &ts) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&svc->mu);
}

const char *ag_api_intel_identity(struct ag_intel_svc *svc) { return svc->identity_id; }

void ag_api_intel_producer(struct ag_intel_svc *svc, struct ag_intel_stix_producer *p)
{
    *p = (struct ag_intel_stix_producer){
        .identity_id = svc->identity_id,
        .name = "accountguard",
        .identity_class = "organization",
        .created_ms = svc->identity_created,
    };
}

struct ag_intel_svc *ag_api_intel_svc(struct ag_app *app)
{
    return app->pipeline ? ag_pipeline_hook_state(app->pipeline, "intel") : NULL;
}

/* ---- feeds ---------------------------------------------------------------- */

struct feed_snap {
    struct ag_intel_feed_config cfg;
    bool ok;
    int64_t next_fetch_at;
};

static int feed_snap_cb(void *arg, const struct ag_intel_feed_rec *r)
{
    struct feed_snap *s = arg;
    json_t *o = json_loads(r->config, 0, NULL);
    s->ok = o && ag_intel_feed_config_from_json(o, &s->cfg, NULL) == 0;
    s->next_fetch_at = r->next_fetch_at;
    json_decref(o);
    return 0;
}

struct status_job {
    const char *name;
    int64_t now, next;
    const char *error; /* NULL: the fetch is stored and matching */
    int64_t bytes;
    int64_t indicators;
    const char *notes;
};

static int status_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct status_job *j = arg;
    return ag_store_intel_feed_status(tx, j->name, j->now, j->next, j->error ? "error" : "ok",
                                      j->error ? j->error : "", j->indicators, j->bytes,
                                      j->notes ? j->notes : "[]", err);
}

static char *notes_json(const struct ag_intel_import *imp)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < imp->nnotes && i < FEED_NOTES_MAX; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "where", imp->notes[i].where, "reason",
                                           imp->notes[i].reason));
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

int ag_api_intel_feed_fetch(struct ag_intel_svc *svc, const char *name, struct ag_err *err)
{
    struct feed_snap snap = {0};
    int rc = ag_store_intel_feed_get(svc->store, name, feed_snap_cb, &snap, err);
    if (rc)
        return rc;
    if (!snap.ok)
        return ag_err_set(err, AG_EINTERNAL, "internal", "", "feed %s has an unreadable config",
                          name);
    pthread_mutex_lock(&svc->fetch_mu);
    int64_t start = ag_time_now_ms();
    struct ag_buf body = {0};
    struct ag_intel_fetch_opts fo = {.max_bytes = snap.cfg.max_bytes, .timeout_s = 60,
                                     .file_root = svc->feed_root};
    struct ag_intel_import imp = {0};
    rc = ag_intel_fetch(snap.cfg.url, &fo, &body, err);
    if (!rc)
        rc = ag_intel_feed_parse(&snap.cfg, body.data ? body.data : "", body.len, start, &imp, err);
    if (!rc) {
        /* The indicators first; the feed says "ok" only once the match set
         * that decisions use holds them (the status is what clients wait on). */
        struct put_job j = {.inds = imp.list.items, .n = imp.list.len, .now = start};
        rc = ag_store_exec(svc->store, put_job, &j, err);
        if (!rc) {
            ag_api_intel_refresh(svc, true);
            char *notes = notes_json(&imp);
            struct status_job sj = {.name = name, .now = start,
                                    .next = start + snap.cfg.interval_ms,
                                    .bytes = (int64_t)body.len,
                                    .indicators = (int64_t)imp.list.len,
                                    .notes = notes ? notes : "[]"};
            rc = ag_store_exec(svc->store, status_job, &sj, err);
            free(notes);
        }
        if (!rc)
            ag_log(AG_LOG_INFO, "intel: feed fetched", "feed", name, NULL);
    } else {
        char msg[sizeof err->msg + sizeof err->field + 8];
        if (err->field[0] && strncmp(err->field, "line ", 5) == 0)
            snprintf(msg, sizeof msg, "%s: %s", err->field, err->msg);
        else
            snprintf(msg, sizeof msg, "%s", err->msg);
        int64_t retry = snap.cfg.interval_ms < FEED_RETRY_MS ? snap.cfg.interval_ms : FEED_RETRY_MS;
        struct status_job j = {name, start, start + retry, msg, (int64_t)body.len, 0, NULL};
        struct ag_err e2;
        ag_store_exec(svc->store, status_job, &j, &e2);
        ag_log(AG_LOG_WARN, "intel: feed fetch failed", "feed", name, "error", msg, NULL);
    }
    ag_intel_import_free(&imp);
    ag_buf_free(&body);
    pthread_mutex_unlock(&svc->fetch_mu);
    return rc;
}

struct due_list {
    char names[64][64];
    int n;
    int64_t now, next_due;
};

static int due_cb(void *arg, const struct ag_intel_feed_rec *r)
{
    struct due_list *d = arg;
    json_t *o = json_loads(r->config, 0, NULL);
    struct ag_intel_feed_config c;
    bool ok = o && ag_intel_feed_config_from_json(o, &c, NULL) == 0 && c.enabled;
    json_decref(o);
    if (!ok)
        return 0;
    if (r->next_fetch_at <= d->now) {
        if (d->n < (int)AG_ARRAY_LEN(d->names))
            snprintf(d->names[d->n++], sizeof d->names[0], "%s", r->name);
    } else if (!d->next_due || r->next_fetch_at < d->next_due) {
        d->next_due = r->next_fetch_at;
    }
    return 0;
}

struct claim_job {
    const char *name;
    int64_t now, lease;
    bool claimed;
};

/* Take the feed for this node: move its due time past the lease unless
 * another node did so first (it stays due only for one of them). */
static int claim_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct claim_job *j = arg;
    int rc = ag_store_intel_feed_claim(tx, j->name, j->now, j->lease, err);
    if (rc < 0)
        return rc;
    j->claimed = rc == 1;
    return 0;
}

static void *feed_main(void *arg)
{
    struct ag_intel_svc *svc = arg;
    for (;;) {
        struct due_list d = {.now = ag_time_now_ms()};
        struct ag_err err;
        if (ag_store_intel_feed_list(svc->store, due_cb, &d, &err))
            ag_log(AG_LOG_WARN, "intel: cannot list feeds", "error", err.msg, NULL);
        for (int i = 0; i < d.n; i++) {
            pthread_mutex_lock(&svc->mu);
            bool stop = svc->stop;
            pthread_mutex_unlock(&svc->mu);
            if (stop)
                break;
            struct claim_job cj = {d.names[i], d.now, d.now + FEED_LEASE_MS, false};
            if (ag_store_exec(svc->store, claim_job, &cj, &err) || !cj.claimed)
                continue;
            ag_api_intel_feed_fetch(svc, d.names[i], &err);
        }
        pthread_mutex_lock(&svc->feed_mu);
        pthread_mutex_lock(&svc->mu);
        bool stop = svc->stop;
        pthread_mutex_unlock(&svc->mu);
        if (stop) {
            pthread_mutex_unlock(&svc->feed_mu);
            break;
        }
        if (!svc->feed_kicked) {
            int64_t wait = 30 * 1000;
            if (d.next_due) {
                int64_t until = d.next_due - ag_time_now_ms();
                wait = until < 0 ? 0 : (until < wait ? until : wait);
            }
            if (wait > 0) {
                struct timespec ts;
                deadline_in(&ts, wait);
                pthread_cond_timedwait(&svc->feed_wake, &svc->feed_mu, &ts);
            }
        }
        svc->feed_kicked = false;
        pthread_mutex_unlock(&svc->feed_mu);
    }
    return NULL;
}

void ag_api_intel_feeds_kick(struct ag_intel_svc *svc)
{
    pthread_mutex_lock(&svc->feed_mu);
    svc->feed_kicked = true;
    pthread_cond_signal(&svc->feed_wake);
    pthread_mutex_unlock(&svc->feed_mu);
}

/* ---- the hook ------------------------------------------------------------- */

struct identity_job {
    char want[AG_INTEL_ID_LEN + 8];
    char got[AG_INTEL_ID_LEN + 8];
    char created_want[32], created_got[32];
};

static int identity_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct identity_job *j = arg;
    int rc = ag_store_intel_meta_init(tx, "identity_id", j->want, j->got, sizeof j->got, err);
    if (!rc)
        rc = ag_store_intel_meta_init(tx, "identity_created", j->created_want, j->created_got,
                                      sizeof j->created_got, err);
    return rc;
}

int ag_api_intel_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                           struct ag_store *store, void **state, struct ag_err *err)
{
    struct ag_intel_svc *svc = calloc(1, sizeof *svc);
    if (!svc)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    svc->cfg = cfg;
    svc->store = store;
    ag_intel_live_slot_init(&svc->slot);
    pthread_mutex_init(&svc->mu, NULL);
    pthread_cond_init(&svc->wake, NULL);
    pthread_cond_init(&svc->built_cv, NULL);
    pthread_mutex_init(&svc->feed_mu, NULL);
    pthread_cond_init(&svc->feed_wake, NULL);
    pthread_mutex_init(&svc->fetch_mu, NULL);
    snprintf(svc->feed_root, sizeof svc->feed_root, "%s/feeds",
             cfg && cfg->data_dir ? cfg->data_dir : "var");
    *state = svc;

    struct identity_job ij;
    memset(&ij, 0, sizeof ij);
    char uuid[AG_INTEL_ID_LEN + 1];
    ag_intel_id_new(uuid); /* "indicator--<uuid>": reuse the UUID */
    snprintf(ij.want, sizeof ij.want, "identity--%s", uuid + strlen("indicator--"));
    snprintf(ij.created_want, sizeof ij.created_want, "%lld", (long long)ag_time_now_ms());
    int rc = ag_store_exec(store, identity_job, &ij, err);
    if (rc)
        return rc;
    snprintf(svc->identity_id, sizeof svc->identity_id, "%s", ij.got);
    svc->identity_created = strtoll(ij.created_got, NULL, 10);
    if ((rc = rebuild_now(svc, err)))
        return rc;
    if (pthread_create(&svc->rebuild_thread, NULL, rebuild_main, svc))
        return ag_err_set(err, AG_EINTERNAL, NULL, "", "cannot start the intel rebuild thread");
    svc->rebuild_started = true;
    if (pthread_create(&svc->feed_thread, NULL, feed_main, svc))
        return ag_err_set(err, AG_EINTERNAL, NULL, "", "cannot start the intel feed thread");
    svc->feed_started = true;
    return 0;
}

void ag_api_intel_hook_fini(void *state)
{
    struct ag_intel_svc *svc = state;
    if (!svc)
        return;
    pthread_mutex_lock(&svc->mu);
    svc->stop = true;
    pthread_cond_broadcast(&svc->wake);
    pthread_cond_broadcast(&svc->built_cv);
    pthread_mutex_unlock(&svc->mu);
    pthread_mutex_lock(&svc->feed_mu);
    pthread_cond_broadcast(&svc->feed_wake);
    pthread_mutex_unlock(&svc->feed_mu);
    if (svc->rebuild_started)
        pthread_join(svc->rebuild_thread, NULL);
    if (svc->feed_started)
        pthread_join(svc->feed_thread, NULL);
    ag_intel_live_slot_destroy(&svc->slot);
    pthread_mutex_destroy(&svc->mu);
    pthread_cond_destroy(&svc->wake);
    pthread_cond_destroy(&svc->built_cv);
    pthread_mutex_destroy(&svc->feed_mu);
    pthread_cond_destroy(&svc->feed_wake);
    pthread_mutex_destroy(&svc->fetch_mu);
    free(svc);
}

/* "ipv4 198.51.100.0/24 (feed:firehol, confidence 80)" */
static int hit_text(const struct ag_intel_event_hit *h, char *buf, size_t len)
{
    return snprintf(buf, len, "%s %s (%s, confidence %d)", ag_intel_type_name(h->hit.type),
                    h->hit.value, h->hit.source, h->hit.confidence);
}

static void add_reason(struct ag_decision *d, const char *code,
                       const struct ag_intel_event_hit *hits, size_t n, bool informational)
{
    char detail[sizeof d->reasons[0].detail], one[256];
    size_t used = 0;
    int shown = 0;
    detail[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (hits[i].hit.informational != informational)
            continue;
        hit_text(&hits[i], one, sizeof one);
        size_t need = strlen(one) + (shown ? 2 : 0);
        if (used + need >= sizeof detail) {
            if (!shown) { /* the first alone is too long: cut it */
                snprintf(detail, sizeof detail, "%.*s", (int)sizeof detail - 1, one);
                used = strlen(detail);
                shown++;
            }
            break;
        }
        used += (size_t)snprintf(detail + used, sizeof detail - used, "%s%s", shown ? "; " : "",
                                 one);
        shown++;
    }
    if (shown)
        ag_decision_reason(d, code, "%s", detail);
}

static void free_after(void *arg, int rc) { free(arg); }

int ag_api_intel_hook_enrich(void *state, struct ag_pipeline_event *pe)
{
    struct ag_intel_svc *svc = state;
    const struct ag_event *ev = ag_pipeline_event_event(pe);
    struct ag_intel_live *l = ag_intel_live_slot_acquire(&svc->slot);
    struct ag_intel_event_hit hits[AG_INTEL_EVENT_HITS_MAX];
    /* Judged at the time of the decision: an old occurred_at (a late or
     * replayed event) must not revive an expired indicator, nor miss one
     * added since. */
    int64_t at = ev->received_at_ms ? ev->received_at_ms : ev->occurred_at_ms;
    size_t n = l ? ag_intel_live_match_event(l, ev->ip, ev->device_id, ev->properties, at, hits,
                                             AG_INTEL_EVENT_HITS_MAX)
                 : 0;
    bool match = false;
    int conf = -1;
    const char *labels[64];
    size_t nlabels = 0;
    json_t *shown = n ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct ag_intel_hit *h = &hits[i].hit;
        const char *const *tags;
        size_t nt;
        ag_intel_live_labels(l, h->id, &tags, &nt);
        json_t *jt = json_array();
        for (size_t t = 0; t < nt; t++) {
            json_array_append_new(jt, json_string(tags[t]));
            if (h->informational || nlabels >= AG_ARRAY_LEN(labels))
                continue;
            bool dup = false;
            for (size_t k = 0; k < nlabels && !dup; k++)
                dup = strcmp(labels[k], tags[t]) == 0;
            if (!dup) {
                char *c = ag_pipeline_event_strdup(pe, tags[t]);
                if (c)
                    labels[nlabels++] = c;
            }
        }
        if (!h->informational) {
            match = true;
            if (h->confidence > conf)
                conf = h->confidence;
        }
        if (shown)
            json_array_append_new(
                shown, json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:o}", "field",
                                 hits[i].field, "seen", hits[i].seen, "id", h->id, "type",
                                 ag_intel_type_name(h->type), "value", h->value, "source",
                                 h->source, "confidence", h->confidence, "tlp",
                                 ag_intel_tlp_name(h->tlp), "informational", h->informational,
                                 "labels", jt));
        else
            json_decref(jt);
    }
    struct ag_rules_value v = ag_rules_bool(match);
    ag_pipeline_event_fact(pe, AG_RF_INTEL_MATCH, &v);
    if (conf >= 0) {
        v = ag_rules_num(conf);
        ag_pipeline_event_fact(pe, AG_RF_INTEL_CONFIDENCE, &v);
    }
    /* The rules read the labels during the decide stage: the pointer
     * array lives until the event is done (freed by an after-callback,
     * which runs whatever the event's fate); the strings are in the
     * event's arena. */
    v = ag_rules_list(NULL, 0);
    if (nlabels) {
        const char **arr = malloc(nlabels * sizeof *arr);
        if (arr && ag_pipeline_event_after(pe, free_after, arr) == 0) {
            memcpy(arr, labels, nlabels * sizeof *arr);
            v = ag_rules_list(arr, nlabels);
        } else {
            free(arr);
        }
    }
    ag_pipeline_event_fact(pe, AG_RF_INTEL_LABELS, &v);
    if (n) {
        struct ag_decision *d = ag_pipeline_event_decision(pe);
        add_reason(d, "intel_match", hits, n, false);
        add_reason(d, "intel_context", hits, n, true);
        ag_pipeline_event_decision_extra(pe, "intel", shown);
    }
    ag_intel_live_unref(l);
    return 0;
}
