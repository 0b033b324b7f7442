/* Notifications: a durable outbox in the store and the workers that deliver
 * it over three channels — webhooks to the platform (Standard Webhooks
 * signatures), email over SMTP, SMS through an HTTP gateway — with
 * localized templates for the owner alerts.
 *
 * HOW TO SEND A MESSAGE (other subsystems):
 *
 *   Inside the pipeline (a hook's act()), so the message is durable exactly
 *   when the event is:
 *
 *     struct ag_notify_msg m = {.channel = AG_NOTIFY_SMS, .kind = "otp.sms",
 *         .account_id = acct,            (destination NULL: the contact's phone)
 *         .template_id = NULL,           (literal: your own localized text)
 *         .params_json = "{\"text\":\"Your code is 123456 ...\"}",
 *         .idempotency_key = "otp:<challenge id>", .sensitive = true};
 *     struct ag_notify_msg *copy = ag_notify_msg_dup(&m);
 *     ag_pipeline_event_write(pe, ag_notify_enqueue_job, copy, ag_notify_msg_free);
 *     ag_pipeline_event_after(pe, ag_notify_wake_after, NULL);
 *
 *   Inside your own store job:  ag_notify_enqueue(tx, &m, err), then after
 *   the commit: ag_notify_wake().
 *
 *   Anywhere else (a handler): ag_notify_send(store, &m, err) — one store
 *   job, waits for the commit, wakes the workers.
 *
 * Delivery is at least once: a receiver dedupes by the message id (the
 * webhook-id header; the Message-ID of an email). Failed deliveries are
 * retried with exponential backoff and jitter, and after notify_max_attempts
 * the message is "dead": listed by GET /v1/notifications?state=dead and
 * re-driven by POST /v1/notifications/{id}/retry. */
#ifndef AG_NOTIFY_NOTIFY_H
#define AG_NOTIFY_NOTIFY_H

#include "core/config.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/secret.h"
#include "core/util.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ag_notify_channel { AG_NOTIFY_WEBHOOK = 0, AG_NOTIFY_EMAIL = 1, AG_NOTIFY_SMS = 2 };
#define AG_NOTIFY_NCHANNELS 3

/* "webhook", "email", "sms"; ag_notify_channel_parse returns -1 if unknown. */
const char *ag_notify_channel_name(enum ag_notify_channel c);
int ag_notify_channel_parse(const char *s);

#define AG_NOTIFY_KIND_MAX 64
#define AG_NOTIFY_KEY_MAX 200
#define AG_NOTIFY_DEST_MAX 320
#define AG_NOTIFY_PARAMS_MAX 16384

/* One message to queue. Every pointer is borrowed for the call; NULL and ""
 * mean "not given". */
struct ag_notify_msg {
    enum ag_notify_channel channel;
    /* What it is about, dotted: "alert.new_device_login", "otp.sms",
     * "account.frozen", "case.updated", "reversal.command". For webhooks it is
     * the payload's "type" and selects the subscriptions. Required. */
    const char *kind;
    const char *account_id; /* the account it concerns (may be NULL) */
    /* Where to: an email address (email), a phone number in E.164 (sms), a
     * subscription id "wh_..." (webhook). NULL: resolved at enqueue — email
     * and sms from the account's contact (PUT /v1/accounts/{id}/contact), else
     * from the contact it verified for 2-step verification; webhook fans out
     * to every live subscription whose kinds match <kind> (one stored
     * message per subscription). */
    const char *destination;
    /* "en", "pt-BR", ... NULL: the account contact's locale, else "en". The
     * template falls back to the language part, then to English. */
    const char *locale;
    /* A template of src/notify/template.c (the alert kinds), or
     * NULL for a literal message: then <params_json> carries "subject"
     * (email), "text" and optionally "html". Webhooks send the params as the
     * payload's "data" whatever the template. */
    const char *template_id;
    const char *params_json; /* a JSON object (text); NULL = {} */
    /* Required. A message enqueued twice with the same key (and channel) is
     * stored once: the second enqueue stores nothing and returns 0. */
    const char *idempotency_key;
    const char *event_id; /* the event that caused it, if any */
    /* When accountguard learned of the cause (ms since the epoch; the
     * event's received_at) — the start of the delivery-delay histogram.
     * 0 = the enqueue time. */
    int64_t event_at_ms;
    /* The params hold a secret (a one-time code): they are encrypted at
     * rest and erased from the outbox once delivered or dead. */
    bool sensitive;
};

/* Queue <m> inside the caller's store transaction <tx> (a job running on the
 * store's writer), so it is durable exactly when the caller's writes are.
 * Returns the number of messages stored (0 if the key was already used, or
 * if there is nowhere to send: no contact address, no subscription for the
 * kind), or a negative AG_E* code with <err> (AG_EINVAL for a malformed
 * message: the caller's job should fail). Does not wake the workers: call
 * ag_notify_wake() once the transaction commits. */
int ag_notify_enqueue(struct ag_store_tx *tx, const struct ag_notify_msg *m, struct ag_err *err);

/* A deep copy of <m> for deferred use (ag_pipeline_event_write). NULL on
 * ENOMEM. Freed with ag_notify_msg_free (a cleanup callback: takes void *). */
struct ag_notify_msg *ag_notify_msg_dup(const struct ag_notify_msg *m);
void ag_notify_msg_free(void *m);
/* An ag_store_job_fn that enqueues the struct ag_notify_msg <arg>. A message
 * with nowhere to go is not an error (returns 0). */
int ag_notify_enqueue_job(struct ag_store_tx *tx, void *arg, struct ag_err *err);

/* Wake the delivery workers of this process (any thread; cheap; never
 * blocks). Call after the commit that queued messages. */
void ag_notify_wake(void);
/* The same as an after-commit callback (ag_pipeline_event_after): wakes
 * when rc is 0. <arg> is ignored. */
void ag_notify_wake_after(void *arg, int rc);

/* Queue <m> in its own store job, wait until durable, wake the workers.
 * Returns the number stored (>= 0) or a negative AG_E* code. */
int ag_notify_send(struct ag_store *store, const struct ag_notify_msg *m, struct ag_err *err);

/* Is <s> an email address we can send to (one @, a dot in the domain, no
 * spaces, quotes or angle brackets, at most 320 bytes)? A phone number in
 * E.164 form (+ and 6..15 digits)? */
bool ag_notify_email_valid(const char *s);
bool ag_notify_phone_valid(const char *s);

/* ---- the delivery workers ---- */

struct ag_notifier; /* opaque: workers, channel settings, keys */

/* Start the workers described by <cfg> (notify_* / smtp_* / sms_* settings)
 * on <store>. <secret> is the server secret (webhook secrets and sensitive
 * params are sealed with subkeys of it); copied. Started by the pipeline's
 * "notify" hook (src/api/hooks.c), so every command running the pipeline
 * delivers. */
int ag_notify_start(const struct ag_config *cfg, struct ag_store *store,
                    const uint8_t secret[AG_SECRET_LEN], struct ag_notifier **out,
                    struct ag_err *err);
/* The subkeys of the server secret notify uses: <webhook_key> seals the
 * subscriptions' signing secrets in the store, <params_key> the params of
 * sensitive messages. Either may be NULL. */
void ag_notify_keys_derive(const uint8_t secret[AG_SECRET_LEN], uint8_t webhook_key[32],
                           uint8_t params_key[32]);
/* Stop the workers (deliveries in flight finish or time out; claimed
 * messages not finished are delivered again after their lease). */
void ag_notify_stop(struct ag_notifier *n);

/* ---- metrics (src/api/system.c renders them on /metrics) ---- */

/* Append the notification metrics in Prometheus text format: the
 * event-to-hand-off delay histogram ag_notify_delay_seconds{channel},
 * ag_notify_deliveries_total{channel,outcome} (delivered, retry, dead), and
 * while workers run, the gauge ag_notify_outbox_messages{state}. */
void ag_notify_metrics_render(struct ag_buf *out);

#endif
