/* Queueing into the durable outbox (notify.h): validate a message, resolve
 * where it goes (the account's contact, or every matching webhook
 * subscription), and store one row per destination under its idempotency
 * key, inside the caller's transaction. Also the process-wide wake-up the
 * workers sleep on, and the sealing of sensitive params. */
#include "notify/notify.h"
#include "notify/internal.h"
#include "notify/template.h"
#include "notify/webhook.h"
#include "core/timeutil.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const channel_names[AG_NOTIFY_NCHANNELS] = {"webhook", "email", "sms"};

const char *ag_notify_channel_name(enum ag_notify_channel c)
{
    return (unsigned)c < AG_NOTIFY_NCHANNELS ? channel_names[c] : "?";
}

int ag_notify_channel_parse(const char *s)
{
    for (int i = 0; i < AG_NOTIFY_NCHANNELS; i++)
        if (s && !strcmp(s, channel_names[i]))
            return i;
    return -1;
}

/* ---- wake-up ---- */

static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static uint64_t wake_gen;

void ag_notify_wake(void)
{
    pthread_mutex_lock(&wake_lock);
    wake_gen++;
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

void ag_notify_wake_after(void *arg, int rc)
{
    (void)arg;
    if (rc == 0)
        ag_notify_wake();
}

uint64_t ag_notify_wake_gen(void)
{
    pthread_mutex_lock(&wake_lock);
    uint64_t g = wake_gen;
    pthread_mutex_unlock(&wake_lock);
    return g;
}

void ag_notify_wait(uint64_t seen_gen, int64_t timeout_ms, const _Atomic bool *stopping)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (timeout_ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&wake_lock);
    while (wake_gen == seen_gen && !atomic_load(stopping))
        if (pthread_cond_timedwait(&wake_cond, &wake_lock, &ts))
            break;
    pthread_mutex_unlock(&wake_lock);
}

/* ---- sealing of sensitive params ---- */

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t params_key[32];
static bool have_params_key;

void ag_notify_set_params_key(const uint8_t key[32])
{
    pthread_mutex_lock(&key_lock);
    memcpy(params_key, key, 32);
    have_params_key = true;
    pthread_mutex_unlock(&key_lock);
}

#define SEALED_PREFIX "sealed:v1:"

/* A malloc'd sealed form of <text>, or a copy when no key is set. */
static char *seal_params(const char *text)
{
    pthread_mutex_lock(&key_lock);
    bool have = have_params_key;
    uint8_t key[32];
    memcpy(key, params_key, 32);
    pthread_mutex_unlock(&key_lock);
    if (!have)
        return strdup(text);
    size_t n = strlen(text), blen = n + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    uint8_t *box = malloc(blen);
    size_t b64len = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(sizeof SEALED_PREFIX + b64len);
    if (!box || !out) {
        free(box);
        free(out);
        sodium_memzero(key, sizeof key);
        return NULL;
    }
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const uint8_t *)text, n, box, key);
    memcpy(out, SEALED_PREFIX, sizeof SEALED_PREFIX - 1);
    sodium_bin2base64(out + sizeof SEALED_PREFIX - 1, b64len, box, blen,
                      sodium_base64_VARIANT_ORIGINAL);
    free(box);
    sodium_memzero(key, sizeof key);
    return out;
}

char *ag_notify_params_open(const char *stored)
{
    if (!stored)
        return strdup("{}");
    if (strncmp(stored, SEALED_PREFIX, sizeof SEALED_PREFIX - 1))
        return strdup(stored);
    const char *b64 = stored + sizeof SEALED_PREFIX - 1;
    size_t cap = strlen(b64), blen = 0;
    uint8_t *box = malloc(cap + 1);
    if (!box)
        return NULL;
    if (sodium_base642bin(box, cap, b64, strlen(b64), NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(box);
        return NULL;
    }
    size_t n = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *out = malloc(n + 1);
    pthread_mutex_lock(&key_lock);
    int bad = !have_params_key || !out ||
              crypto_secretbox_open_easy((uint8_t *)out, box + crypto_secretbox_NONCEBYTES,
                                         blen - crypto_secretbox_NONCEBYTES, box, params_key);
    pthread_mutex_unlock(&key_lock);
    free(box);
    if (bad) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* ---- enqueue ---- */

static bool blank(const char *s) { return !s || !*s; }

static bool clean_text(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
            return false;
    return n <= max;
}

bool ag_notify_email_valid(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 320)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || strchr("<>()[]\\,;:\"", *p) || *p == 0x7f)
            return false;
    return strchr(at + 1, '.') != NULL;
}

bool ag_notify_phone_valid(const char *s)
{
    size_t n = 0;
    if (*s != '+')
        return false;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9')
            return false;
    return n >= 6 && n <= 15;
}

static int bad(struct ag_err *err, const char *field, const char *msg)
{
    return ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s", msg);
}

static int validate(const struct ag_notify_msg *m, struct ag_err *err)
{
    if ((unsigned)m->channel >= AG_NOTIFY_NCHANNELS)
        return bad(err, "channel", "channel must be webhook, email or sms");
    if (blank(m->kind) || !clean_text(m->kind, AG_NOTIFY_KIND_MAX))
        return bad(err, "kind", "kind is required (at most 64 printable bytes)");
    if (blank(m->idempotency_key) || !clean_text(m->idempotency_key, AG_NOTIFY_KEY_MAX))
        return bad(err, "idempotency_key",
                   "idempotency_key is required (at most 200 printable bytes)");
    if (m->account_id && !clean_text(m->account_id, 128))
        return bad(err, "account_id", "account_id is at most 128 printable bytes");
    if (m->event_id && !clean_text(m->event_id, 128))
        return bad(err, "event_id", "event_id is at most 128 printable bytes");
    if (m->locale && !clean_text(m->locale, 15))
        return bad(err, "locale", "locale is at most 15 bytes");
    if (!blank(m->template_id) && !ag_notify_template_exists(m->template_id))
        return bad(err, "template_id", "unknown template");
    if (!blank(m->destination)) {
        if (m->channel == AG_NOTIFY_EMAIL && !ag_notify_email_valid(m->destination))
            return bad(err, "destination", "not an email address");
        if (m->channel == AG_NOTIFY_SMS && !ag_notify_phone_valid(m->destination))
            return bad(err, "destination", "not a phone number in E.164 form (+...)");
        if (m->channel == AG_NOTIFY_WEBHOOK && !clean_text(m->destination, 39))
            return bad(err, "destination", "not a webhook subscription id");
    }
    if (m->params_json) {
        if (strlen(m->params_json) > AG_NOTIFY_PARAMS_MAX)
            return bad(err, "params", "params are at most 16 KiB");
        json_t *p = json_loads(m->params_json, JSON_REJECT_DUPLICATES, NULL);
        bool obj = json_is_object(p);
        json_decref(p);
        if (!obj)
            return bad(err, "params", "params must be a JSON object");
    }
    if (blank(m->template_id) && m->channel != AG_NOTIFY_WEBHOOK) {
        json_t *p = m->params_json ? json_loads(m->params_json, 0, NULL) : NULL;
        bool ok = json_is_string(json_object_get(p, "text"));
        json_decref(p);
        if (!ok)
            return bad(err, "params.text", "a message without a template needs params.text");
    }
    return 0;
}

struct fanout {
    struct ag_store_tx *tx;
    struct ag_notify_rec *rec;
    const char *key;
    const char *kind;
    int stored;
    int rc;
    struct ag_err *err;
};

static int put_one(struct ag_store_tx *tx, struct ag_notify_rec *r, struct ag_err *err)
{
    ag_id_random(r->id, sizeof r->id, "msg_", 26);
    return ag_store_notify_put(tx, r, err);
}

static int fan_one(void *arg, const struct ag_notify_webhook_rec *w)
{
    struct fanout *f = arg;
    if (!ag_notify_webhook_kind_matches(w->kinds, f->kind))
        return 0;
    snprintf(f->rec->destination, sizeof f->rec->destination, "%s", w->id);
    snprintf(f->rec->idem_key, sizeof f->rec->idem_key, "webhook:%s#%s", f->key, w->id);
    int rc = put_one(f->tx, f->rec, f->err);
    if (rc < 0) {
        f->rc = rc;
        return 1;
    }
    f->stored += rc;
    return 0;
}

int ag_notify_enqueue(struct ag_store_tx *tx, const struct ag_notify_msg *m, struct ag_err *err)
{
    int rc = validate(m, err);
    if (rc)
        return rc;
    struct ag_notify_rec r;
    memset(&r, 0, sizeof r);
    int64_t now = ag_time_now_ms();
    snprintf(r.channel, sizeof r.channel, "%s", ag_notify_channel_name(m->channel));
    snprintf(r.kind, sizeof r.kind, "%s", m->kind);
    snprintf(r.account_id, sizeof r.account_id, "%s", m->account_id ? m->account_id : "");
    snprintf(r.template_id, sizeof r.template_id, "%s", m->template_id ? m->template_id : "");
    snprintf(r.event_id, sizeof r.event_id, "%s", m->event_id ? m->event_id : "");
    r.sensitive = m->sensitive;
    r.event_at = m->event_at_ms > 0 ? m->event_at_ms : now;
    r.created_at = now;
    r.next_at = now;

    /* Where it goes, and in which language. */
    struct ag_notify_contact_rec contact;
    bool have_contact = !blank(m->account_id) &&
                        ag_store_notify_contact_get_tx(tx, m->account_id, &contact, NULL) == 0;
    const char *locale = m->locale;
    if (blank(locale) && have_contact && contact.locale[0])
        locale = contact.locale;
    struct ag_account_rec acct;
    if (blank(locale) && !blank(m->account_id) &&
        ag_store_account_get_tx(tx, m->account_id, &acct, NULL) == 0 && acct.locale[0])
        locale = acct.locale;
    snprintf(r.locale, sizeof r.locale, "%s", blank(locale) ? "en" : locale);

    const char *dest = m->destination;
    if (blank(dest) && m->channel == AG_NOTIFY_EMAIL)
        dest = have_contact && contact.email[0] ? contact.email : NULL;
    if (blank(dest) && m->channel == AG_NOTIFY_SMS)
        dest = have_contact && contact.phone[0] ? contact.phone : NULL;
    /* No alert contact from the platform: a contact the owner verified for
     * 2-step verification (src/identity) will do. */
    struct ag_ident_contact_rec ic;
    if (blank(dest) && !blank(m->account_id) && m->channel != AG_NOTIFY_WEBHOOK &&
        ag_store_ident_contact_get_tx(tx, m->account_id,
                                      m->channel == AG_NOTIFY_SMS ? "sms" : "email", &ic,
                                      NULL) == 0 &&
        ic.verified_at > 0 && ic.address[0])
        dest = ic.address;
    if (blank(dest) && m->channel != AG_NOTIFY_WEBHOOK)
        return 0; /* nowhere to send it */

    if (m->params_json && m->sensitive) {
        if (!(r.params = seal_params(m->params_json)))
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    } else if (m->params_json && !(r.params = strdup(m->params_json))) {
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }

    if (m->channel == AG_NOTIFY_WEBHOOK && blank(dest)) {
        struct fanout f = {.tx = tx, .rec = &r, .key = m->idempotency_key, .kind = m->kind,
                           .err = err};
        rc = ag_store_notify_webhook_list_tx(tx, fan_one, &f, err);
        free(r.params);
        if (rc)
            return rc;
        return f.rc < 0 ? f.rc : f.stored;
    }
    snprintf(r.destination, sizeof r.destination, "%s", dest);
    if (m->channel == AG_NOTIFY_WEBHOOK)
        snprintf(r.idem_key, sizeof r.idem_key, "webhook:%.200s#%.39s", m->idempotency_key, dest);
    else
        snprintf(r.idem_key, sizeof r.idem_key, "%.15s:%.200s", r.channel, m->idempotency_key);
    rc = put_one(tx, &r, err);
    free(r.params);
    return rc;
}

/* ---- deferred and standalone enqueue ---- */

static char *dup_or_null(const char *s, bool *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = true;
    return d;
}

struct ag_notify_msg *ag_notify_msg_dup(const struct ag_notify_msg *m)
{
    struct ag_notify_msg *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bool fail = false;
    *c = *m;
    c->kind = dup_or_null(m->kind, &fail);
    c->account_id = dup_or_null(m->account_id, &fail);
    c->destination = dup_or_null(m->destination, &fail);
    c->locale = dup_or_null(m->locale, &fail);
    c->template_id = dup_or_null(m->template_id, &fail);
    c->params_json = dup_or_null(m->params_json, &fail);
    c->idempotency_key = dup_or_null(m->idempotency_key, &fail);
    c->event_id = dup_or_null(m->event_id, &fail);
    if (fail) {
        ag_notify_msg_free(c);
        return NULL;
    }
    return c;
}

void ag_notify_msg_free(void *p)
{
    struct ag_notify_msg *m = p;
    if (!m)
        return;
    free((char *)m->kind);
    free((char *)m->account_id);
    free((char *)m->destination);
    free((char *)m->locale);
    free((char *)m->template_id);
    if (m->params_json) {
        if (m->sensitive)
            sodium_memzero((char *)m->params_json, strlen(m->params_json));
        free((char *)m->params_json);
    }
    free((char *)m->idempotency_key);
    free((char *)m->event_id);
    free(m);
}

int ag_notify_enqueue_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    int rc = ag_notify_enqueue(tx, arg, err);
    return rc < 0 ? rc : 0;
}

struct send_job {
    const struct ag_notify_msg *m;
    int stored;
};

static int send_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct send_job *j = arg;
    int rc = ag_notify_enqueue(tx, j->m, err);
    if (rc < 0)
        return rc;
    j->stored = rc;
    return 0;
}

int ag_notify_send(struct ag_store *store, const struct ag_notify_msg *m, struct ag_err *err)
{
    struct send_job j = {.m = m};
    int rc = ag_store_exec(store, send_run, &j, err);
    if (rc)
        return rc;
    if (j.stored)
        ag_notify_wake();
    return j.stored;
}
