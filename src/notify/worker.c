/* The delivery workers (notify.h): threads that claim due messages from the
 * outbox with a lease, hand each to its channel (webhook, email, SMS), and
 * record the outcome — delivered, retry later (exponential backoff with
 * jitter), or dead after notify_max_attempts. They sleep until woken
 * (ag_notify_wake after a commit) or until the next message falls due, and
 * look at the store at least once a second, so messages queued by another
 * process sharing the store are seen too. */
#include "notify/notify.h"
#include "notify/internal.h"
#include "notify/template.h"
#include "notify/webhook.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 64
#define CLAIM_BATCH 4
#define IDLE_MAX_MS 1000
#define PURGE_EVERY_MS (10 * 60 * 1000)
#define PURGE_BATCH 1000

struct ag_notifier {
    const struct ag_config *cfg;
    struct ag_store *store;
    uint8_t webhook_key[32]; /* seals the subscriptions' secrets */
    _Atomic bool stopping;
    _Atomic int64_t last_purge; /* ms; the retention sweep runs every PURGE_EVERY_MS */
    int nthreads;
    pthread_t threads[MAX_WORKERS];
};

/* ---- metrics ---- */

static const double delay_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600};
static struct ag_histogram delay_hist[AG_NOTIFY_NCHANNELS] = {
    {.bounds = delay_bounds, .nbounds = 12},
    {.bounds = delay_bounds, .nbounds = 12},
    {.bounds = delay_bounds, .nbounds = 12},
};
enum { OUT_DELIVERED, OUT_RETRY, OUT_DEAD, NOUTCOMES };
static const char *const outcome_names[NOUTCOMES] = {"delivered", "retry", "dead"};
static _Atomic uint64_t outcomes[AG_NOTIFY_NCHANNELS][NOUTCOMES];
/* The store of the running notifier, for the outbox gauge (NULL: none). */
static struct ag_store *_Atomic metrics_store;

void ag_notify_metrics_render(struct ag_buf *out)
{
    ag_buf_printf(out, "# HELP ag_notify_delay_seconds Time from the event to the hand-off of "
                       "its message to the channel.\n"
                       "# TYPE ag_notify_delay_seconds histogram\n");
    for (int c = 0; c < AG_NOTIFY_NCHANNELS; c++) {
        char label[40];
        snprintf(label, sizeof label, "channel=\"%s\"", ag_notify_channel_name(c));
        ag_metrics_render_histogram(out, "ag_notify_delay_seconds", &delay_hist[c], label);
    }
    ag_buf_printf(out, "# HELP ag_notify_deliveries_total Delivery attempts by channel and "
                       "outcome.\n"
                       "# TYPE ag_notify_deliveries_total counter\n");
    for (int c = 0; c < AG_NOTIFY_NCHANNELS; c++)
        for (int o = 0; o < NOUTCOMES; o++)
            ag_buf_printf(out, "ag_notify_deliveries_total{channel=\"%s\",outcome=\"%s\"} %llu\n",
                          ag_notify_channel_name(c), outcome_names[o],
                          (unsigned long long)atomic_load(&outcomes[c][o]));
    struct ag_store *store = atomic_load(&metrics_store);
    if (!store)
        return;
    ag_buf_printf(out, "# HELP ag_notify_outbox_messages Messages in the outbox by state "
                       "(dead ones wait for POST /v1/notifications/{id}/retry).\n"
                       "# TYPE ag_notify_outbox_messages gauge\n");
    static const char *const states[] = {"pending", "sending", "delivered", "dead"};
    for (size_t i = 0; i < AG_ARRAY_LEN(states); i++) {
        int64_t n = ag_store_notify_count(store, states[i]);
        if (n >= 0)
            ag_buf_printf(out, "ag_notify_outbox_messages{state=\"%s\"} %lld\n", states[i],
                          (long long)n);
    }
}

/* ---- retries ---- */

int64_t ag_notify_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint32_t rnd)
{
    if (attempt < 1)
        attempt = 1;
    if (base_ms < 1)
        base_ms = 1;
    if (max_ms < base_ms)
        max_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    if (d > max_ms)
        d = max_ms;
    int64_t half = d / 2;
    return d - half + (int64_t)(rnd % (uint64_t)(half + 1));
}

/* ---- channels ---- */

struct outcome {
    bool ok;
    bool permanent; /* retrying cannot help: dead at once */
    char error[256];
};

static json_t *params_of(const struct ag_notify_rec *r, struct outcome *o)
{
    char *text = ag_notify_params_open(r->params);
    json_t *p = text ? json_loads(text, 0, NULL) : NULL;
    if (text) {
        if (r->sensitive)
            sodium_memzero(text, strlen(text));
        free(text);
    }
    if (!json_is_object(p)) {
        json_decref(p);
        o->permanent = true;
        snprintf(o->error, sizeof o->error, "the message's params cannot be read");
        return NULL;
    }
    return p;
}

static void deliver_webhook(struct ag_notifier *n, const struct ag_notify_rec *r, struct outcome *o)
{
    struct ag_notify_webhook_rec w;
    struct ag_err err;
    if (ag_store_notify_webhook_get(n->store, r->destination, &w, &err) || w.deleted_at) {
        o->permanent = true;
        snprintf(o->error, sizeof o->error, "webhook subscription %.40s no longer exists",
                 r->destination);
        return;
    }
    uint8_t key[AG_NOTIFY_WEBHOOK_KEY_MAX];
    size_t keylen;
    if (ag_notify_unseal(n->webhook_key, w.secret, w.secret_len, key, sizeof key, &keylen)) {
        o->permanent = true;
        snprintf(o->error, sizeof o->error, "the subscription's secret does not open "
                                            "(was the server secret changed?)");
        return;
    }
    json_t *data = params_of(r, o);
    if (!data) {
        sodium_memzero(key, sizeof key);
        return;
    }
    if (r->account_id[0] && !json_object_get(data, "account_id"))
        json_object_set_new(data, "account_id", json_string(r->account_id));
    if (r->event_id[0] && !json_object_get(data, "event_id"))
        json_object_set_new(data, "event_id", json_string(r->event_id));
    if (r->template_id[0]) {
        struct ag_notify_rendered m;
        if (ag_notify_template_render(r->template_id, r->locale, data, &m, NULL) == 0) {
            json_object_set_new(data, "message",
                                json_pack("{s:s, s:s, s:s, s:s}", "locale", m.lang, "subject",
                                          m.subject, "text", m.text, "sms", m.sms));
            ag_notify_rendered_free(&m);
        }
    }
    char ts_iso[40];
    ag_time_format_ms(r->event_at, ts_iso, sizeof ts_iso);
    json_t *payload = json_pack("{s:s, s:s, s:o}", "type", r->kind, "timestamp", ts_iso, "data",
                                data);
    char *body = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!body) {
        sodium_memzero(key, sizeof key);
        snprintf(o->error, sizeof o->error, "out of memory");
        return;
    }
    int64_t ts = ag_time_now_ms() / 1000;
    char sig[AG_NOTIFY_WEBHOOK_SIG_TEXT];
    ag_notify_webhook_sign(key, keylen, r->id, ts, body, strlen(body), sig);
    sodium_memzero(key, sizeof key);
    char h_id[80], h_ts[64], h_sig[100];
    snprintf(h_id, sizeof h_id, "webhook-id: %s", r->id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", (long long)ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    const char *headers[] = {"Content-Type: application/json", h_id, h_ts, h_sig};
    struct ag_notify_http_result res;
    int rc = ag_notify_http_post(w.url, headers, 4, body, strlen(body),
                                 (long)n->cfg->notify_timeout_s, &n->stopping, &res);
    if (r->sensitive)
        sodium_memzero(body, strlen(body));
    free(body);
    o->ok = rc == 0;
    if (!o->ok)
        snprintf(o->error, sizeof o->error, "%s", res.error);
}

static int render(const struct ag_notify_rec *r, struct ag_notify_rendered *m, struct outcome *o)
{
    json_t *p = params_of(r, o);
    if (!p)
        return -1;
    struct ag_err err;
    int rc = ag_notify_template_render(r->template_id, r->locale, p, m, &err);
    json_decref(p);
    if (rc) {
        o->permanent = rc != AG_ENOMEM;
        snprintf(o->error, sizeof o->error, "%s", err.msg);
        return -1;
    }
    return 0;
}

static void deliver_email(struct ag_notifier *n, const struct ag_notify_rec *r, struct outcome *o)
{
    const struct ag_config *cfg = n->cfg;
    struct ag_notify_rendered m;
    if (render(r, &m, o))
        return;
    char mid[96];
    snprintf(mid, sizeof mid, "%s@accountguard", r->id);
    struct ag_notify_mime mime = {.from = cfg->smtp_from, .from_name = cfg->platform_name,
                                  .to = r->destination,
                                  .subject = m.subject, .text = m.text,
                                  .html = cfg->smtp_html ? m.html : NULL, .message_id = mid,
                                  .date_ms = ag_time_now_ms()};
    struct ag_buf msg = {0};
    int rc = ag_notify_mime_build(&mime, &msg);
    ag_notify_rendered_free(&m);
    if (rc) {
        ag_buf_free(&msg);
        o->permanent = rc == AG_EINVAL;
        snprintf(o->error, sizeof o->error, "cannot build the message");
        return;
    }
    struct ag_notify_smtp s = {.url = cfg->smtp_url, .user = cfg->smtp_user,
                               .password = cfg->smtp_password, .tls = cfg->smtp_tls,
                               .timeout_s = (long)cfg->notify_timeout_s,
                               .cancel = &n->stopping};
    rc = ag_notify_smtp_send(&s, cfg->smtp_from, r->destination, msg.data, msg.len, o->error,
                             sizeof o->error);
    if (r->sensitive && msg.data)
        sodium_memzero(msg.data, msg.len);
    ag_buf_free(&msg);
    o->ok = rc == 0;
}

static void deliver_sms(struct ag_notifier *n, const struct ag_notify_rec *r, struct outcome *o)
{
    const struct ag_config *cfg = n->cfg;
    if (!cfg->sms_gateway_url || !cfg->sms_gateway_url[0]) {
        snprintf(o->error, sizeof o->error, "no SMS gateway configured (sms_gateway_url)");
        return;
    }
    struct ag_notify_rendered m;
    if (render(r, &m, o))
        return;
    /* An SMS says who it is from: "<platform_name>: <text>". */
    struct ag_buf text = {0};
    int rc = cfg->platform_name && cfg->platform_name[0] && r->template_id[0]
                 ? ag_buf_printf(&text, "%s: %s", cfg->platform_name, m.sms)
                 : ag_buf_printf(&text, "%s", m.sms);
    ag_notify_rendered_free(&m);
    struct ag_buf body = {0};
    if (!rc)
        rc = ag_notify_sms_body(cfg->sms_gateway_body, cfg->sms_gateway_content_type,
                                r->destination, text.data, &body);
    if (r->sensitive && text.data)
        sodium_memzero(text.data, text.len);
    ag_buf_free(&text);
    if (rc || ag_buf_append(&body, "", 1)) {
        ag_buf_free(&body);
        snprintf(o->error, sizeof o->error, "out of memory");
        return;
    }
    char ct[200], auth[1100];
    snprintf(ct, sizeof ct, "Content-Type: %s", cfg->sms_gateway_content_type);
    const char *headers[2] = {ct, NULL};
    int nh = 1;
    if (cfg->sms_gateway_auth && cfg->sms_gateway_auth[0]) {
        if (strchr(cfg->sms_gateway_auth, ':'))
            snprintf(auth, sizeof auth, "%s", cfg->sms_gateway_auth);
        else
            snprintf(auth, sizeof auth, "Authorization: %s", cfg->sms_gateway_auth);
        headers[nh++] = auth;
    }
    struct ag_notify_http_result res;
    rc = ag_notify_http_post(cfg->sms_gateway_url, headers, nh, body.data, body.len - 1,
                             (long)cfg->notify_timeout_s, &n->stopping, &res);
    sodium_memzero(auth, sizeof auth);
    if (r->sensitive)
        sodium_memzero(body.data, body.len);
    ag_buf_free(&body);
    o->ok = rc == 0;
    if (!o->ok)
        snprintf(o->error, sizeof o->error, "%s", res.error);
}

/* ---- claim, deliver, record ---- */

struct batch {
    struct ag_notify_rec recs[CLAIM_BATCH];
    int n;
};

static void take_claimed(void *arg, struct ag_notify_rec *r)
{
    struct batch *b = arg;
    if (b->n < CLAIM_BATCH)
        b->recs[b->n++] = *r;
    else
        ag_notify_rec_free(r);
}

struct claim_job {
    struct batch *b;
    int64_t now, lease_until;
    const char *claim;
};

static int claim_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct claim_job *j = arg;
    /* run again after a rollback (store.h): the first run's claims are gone */
    for (int i = 0; i < j->b->n; i++)
        ag_notify_rec_free(&j->b->recs[i]);
    j->b->n = 0;
    int rc = ag_store_notify_claim(tx, j->now, j->lease_until, j->claim, CLAIM_BATCH,
                                   take_claimed, j->b, err);
    return rc < 0 ? rc : 0;
}

struct finish_job {
    const struct ag_notify_rec *r;
    const char *state;
    int64_t next_at, at;
    const char *error;
    bool erase;
};

static int finish_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct finish_job *j = arg;
    return ag_store_notify_finish(tx, j->r->id, j->r->claim, j->state, j->next_at, j->error,
                                  j->at, j->erase, err);
}

static void handle(struct ag_notifier *n, const struct ag_notify_rec *r)
{
    struct outcome o = {0};
    int ch = ag_notify_channel_parse(r->channel);
    switch (ch) {
    case AG_NOTIFY_WEBHOOK: deliver_webhook(n, r, &o); break;
    case AG_NOTIFY_EMAIL: deliver_email(n, r, &o); break;
    case AG_NOTIFY_SMS: deliver_sms(n, r, &o); break;
    default:
        o.permanent = true;
        snprintf(o.error, sizeof o.error, "unknown channel %s", r->channel);
        ch = AG_NOTIFY_WEBHOOK;
    }
    int64_t now = ag_time_now_ms();
    struct finish_job j = {.r = r, .at = now, .next_at = now, .error = o.error};
    if (o.ok) {
        j.state = "delivered";
        j.error = "";
        j.erase = r->sensitive;
        ag_histogram_observe_ns(&delay_hist[ch], (now - r->event_at) * 1000000);
        atomic_fetch_add(&outcomes[ch][OUT_DELIVERED], 1);
    } else if (atomic_load(&n->stopping)) {
        j.state = "pending"; /* interrupted: due again at once after the restart */
    } else if (o.permanent || r->attempts >= n->cfg->notify_max_attempts) {
        j.state = "dead";
        j.erase = r->sensitive;
        atomic_fetch_add(&outcomes[ch][OUT_DEAD], 1);
        ag_log(AG_LOG_WARN, "notification dead", "id", r->id, "channel", r->channel, "kind",
               r->kind, "error", o.error, NULL);
    } else {
        j.state = "pending";
        j.next_at = now + ag_notify_backoff_ms(r->attempts, n->cfg->notify_backoff_base_ms,
                                               n->cfg->notify_backoff_max_ms,
                                               randombytes_random());
        atomic_fetch_add(&outcomes[ch][OUT_RETRY], 1);
        ag_log(AG_LOG_INFO, "notification will be retried", "id", r->id, "channel", r->channel,
               "error", o.error, NULL);
    }
    struct ag_err err;
    if (ag_store_exec(n->store, finish_run, &j, &err))
        ag_log(AG_LOG_WARN, "notification outcome not recorded", "id", r->id, "error", err.msg,
               NULL);
}

struct purge_job {
    int64_t before;
    int deleted;
};

static int purge_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct purge_job *j = arg;
    int rc = ag_store_notify_purge(tx, j->before, PURGE_BATCH, err);
    if (rc < 0)
        return rc;
    j->deleted = rc;
    return 0;
}

/* Retention: delete delivered messages older than notify_retention_days, a
 * batch per store job so the writer is never held long. One idle worker
 * does it every PURGE_EVERY_MS. */
static void maybe_purge(struct ag_notifier *n)
{
    int64_t now = ag_time_now_ms(), last = atomic_load(&n->last_purge);
    if (n->cfg->notify_retention_days <= 0 || now - last < PURGE_EVERY_MS ||
        !atomic_compare_exchange_strong(&n->last_purge, &last, now))
        return;
    struct purge_job j = {.before = now - n->cfg->notify_retention_days * 86400000LL};
    int total = 0;
    do {
        j.deleted = 0;
        if (ag_store_exec(n->store, purge_run, &j, NULL))
            break;
        total += j.deleted;
    } while (j.deleted == PURGE_BATCH && !atomic_load(&n->stopping));
    if (total) {
        char buf[24];
        snprintf(buf, sizeof buf, "%d", total);
        ag_log(AG_LOG_INFO, "outbox retention: delivered notifications deleted", "count", buf,
               NULL);
    }
}

static void *worker_main(void *arg)
{
    struct ag_notifier *n = arg;
    while (!atomic_load(&n->stopping)) {
        uint64_t gen = ag_notify_wake_gen();
        struct batch b = {.n = 0};
        char claim[32];
        ag_id_random(claim, sizeof claim, "c_", 20);
        int64_t now = ag_time_now_ms();
        struct claim_job cj = {.b = &b, .now = now,
                               .lease_until = now + n->cfg->notify_lease_s * 1000,
                               .claim = claim};
        struct ag_err err;
        int rc = ag_store_exec(n->store, claim_run, &cj, &err);
        if (rc) {
            for (int i = 0; i < b.n; i++)
                ag_notify_rec_free(&b.recs[i]);
            if (rc != AG_EUNAVAIL)
                ag_log(AG_LOG_WARN, "outbox claim failed", "error", err.msg, NULL);
            ag_notify_wait(gen, IDLE_MAX_MS, &n->stopping);
            continue;
        }
        for (int i = 0; i < b.n; i++) {
            handle(n, &b.recs[i]);
            if (b.recs[i].params && b.recs[i].sensitive)
                sodium_memzero(b.recs[i].params, strlen(b.recs[i].params));
            ag_notify_rec_free(&b.recs[i]);
        }
        if (b.n)
            continue;
        maybe_purge(n);
        int64_t due = INT64_MAX, wait = IDLE_MAX_MS;
        if (ag_store_notify_next_due(n->store, &due, NULL) == 0 && due != INT64_MAX)
            wait = due - ag_time_now_ms();
        if (wait > IDLE_MAX_MS)
            wait = IDLE_MAX_MS;
        if (wait < 20)
            wait = 20; /* due but taken by someone else: do not spin */
        ag_notify_wait(gen, wait, &n->stopping);
    }
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int ag_notify_start(const struct ag_config *cfg, struct ag_store *store,
                    const uint8_t secret[AG_SECRET_LEN], struct ag_notifier **out,
                    struct ag_err *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    struct ag_notifier *n = calloc(1, sizeof *n);
    if (!n)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    n->cfg = cfg;
    n->store = store;
    ag_notify_keys_derive(secret, n->webhook_key, NULL);
    uint8_t pk[32];
    ag_notify_keys_derive(secret, NULL, pk);
    ag_notify_set_params_key(pk);
    sodium_memzero(pk, sizeof pk);
    int want = (int)cfg->notify_workers;
    if (want > MAX_WORKERS)
        want = MAX_WORKERS;
    for (int i = 0; i < want; i++) {
        if (pthread_create(&n->threads[i], NULL, worker_main, n)) {
            ag_notify_stop(n);
            return ag_err_set(err, AG_EIO, NULL, "", "cannot start a notification worker");
        }
        n->nthreads++;
    }
    atomic_store(&metrics_store, store);
    *out = n;
    return 0;
}

void ag_notify_stop(struct ag_notifier *n)
{
    if (!n)
        return;
    struct ag_store *expected = n->store;
    atomic_compare_exchange_strong(&metrics_store, &expected, NULL);
    atomic_store(&n->stopping, true);
    ag_notify_wake();
    for (int i = 0; i < n->nthreads; i++)
        pthread_join(n->threads[i], NULL);
    sodium_memzero(n->webhook_key, sizeof n->webhook_key);
    free(n);
}

void ag_notify_keys_derive(const uint8_t secret[AG_SECRET_LEN], uint8_t webhook_key[32],
                           uint8_t params_key[32])
{
    if (webhook_key)
        ag_secret_derive(secret, "notify-webhook-secrets", webhook_key);
    if (params_key)
        ag_secret_derive(secret, "notify-sensitive-params", params_key);
}
