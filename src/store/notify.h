/* Store records of the notifications subsystem (src/notify): the outbox,
 * webhook subscriptions, the accounts' contact details, and the used
 * "this wasn't me" tokens. Tables in the "notify" migration track
 * (schema_notify.c). Included by store/store.h; times are ms since the
 * epoch.
 *
 * The outbox is claimed with a lease: a claim is one UPDATE ... WHERE id = ?
 * AND (state = 'pending' AND next_at <= now OR state = 'sending' AND
 * claimed_until <= now), so two processes sharing a store never deliver the
 * same message at once, and a process that dies mid-delivery leaves the
 * message to be delivered again once its lease has passed. */
#ifndef AG_STORE_NOTIFY_H
#define AG_STORE_NOTIFY_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_store;
struct ag_store_tx;

/* ---- outbox ---- */

struct ag_notify_rec {
    int64_t seq;           /* assigned by the store, increasing (the list cursor) */
    char id[40];           /* "msg_...": the webhook-id, stable across retries */
    char idem_key[256];    /* unique: "<channel>:<key>[#<subscription>]" */
    char channel[16];      /* "webhook", "email", "sms" */
    char kind[65];
    char account_id[129];
    char destination[321]; /* address, phone or subscription id */
    char locale[16];
    char template_id[65];
    char *params;          /* JSON text (or sealed when sensitive); malloc'd, may be NULL */
    char event_id[129];
    bool sensitive;
    char state[16];        /* "pending", "sending", "delivered", "dead" */
    int attempts;          /* deliveries started (a claim counts one) */
    int64_t event_at, created_at, next_at, claimed_until, delivered_at, updated_at;
    char claim[32];        /* the current claim's token */
    char last_error[256];
};
void ag_notify_rec_free(struct ag_notify_rec *r);

/* Insert <r> (seq is ignored). Returns 1 if stored, 0 if a message with the
 * same idem_key exists (nothing changed), or a negative code. */
int ag_store_notify_put(struct ag_store_tx *tx, const struct ag_notify_rec *r, struct ag_err *err);

/* Claim up to <max> due messages at <now> for <claim> (a random token),
 * leased until <lease_until>; attempts is incremented. <cb> gets each
 * claimed row (its own copy to keep: the callee frees params). Returns the
 * number claimed or a negative code. */
int ag_store_notify_claim(struct ag_store_tx *tx, int64_t now, int64_t lease_until,
                          const char *claim, int max,
                          void (*cb)(void *arg, struct ag_notify_rec *r), void *arg,
                          struct ag_err *err);

/* Record the outcome of the delivery made under <claim>: <state> is
 * "delivered", "pending" (retry at <next_at>) or "dead". <erase_params>
 * clears the params (sensitive messages once final). Returns 0, or
 * AG_ESTATE when the claim was lost (another process took the message after
 * the lease ran out). */
int ag_store_notify_finish(struct ag_store_tx *tx, const char *id, const char *claim,
                           const char *state, int64_t next_at, const char *last_error,
                           int64_t at, bool erase_params, struct ag_err *err);

/* Re-drive a message: back to "pending", due at <now>, attempts reset.
 * Allowed from "dead" and "pending"; AG_ESTATE for "delivered" or while
 * "sending" under a live lease; AG_ENOTFOUND if no such id. */
int ag_store_notify_retry(struct ag_store_tx *tx, const char *id, int64_t now, struct ag_err *err);

int ag_store_notify_get(struct ag_store *s, const char *id, struct ag_notify_rec *out,
                        struct ag_err *err);
/* Messages with seq > <after_seq>, oldest first, at most <limit>, filtered by
 * <state>, <account_id> and <kind> (each NULL = any). <cb> gets rows it must
 * not keep. */
int ag_store_notify_list(struct ag_store *s, const char *state, const char *account_id,
                         const char *kind, int64_t after_seq, int limit,
                         int (*cb)(void *arg, const struct ag_notify_rec *r), void *arg,
                         struct ag_err *err);
/* The earliest time anything becomes claimable (a pending next_at or a
 * sending lease end); INT64_MAX when nothing is waiting. */
int ag_store_notify_next_due(struct ag_store *s, int64_t *out, struct ag_err *err);
/* Delete up to <limit> delivered messages delivered before <before> (the
 * outbox's retention). Returns how many were deleted, or a negative code. */
int ag_store_notify_purge(struct ag_store_tx *tx, int64_t before, int limit, struct ag_err *err);
/* How many messages are in <state>. */
int64_t ag_store_notify_count(struct ag_store *s, const char *state);

/* ---- webhook subscriptions ---- */

struct ag_notify_webhook_rec {
    char id[40];          /* "wh_..." */
    char url[1025];
    char kinds[1024];     /* space-separated: "alert.*", "account.frozen", "*" */
    char description[257];
    uint8_t secret[128];  /* the signing secret, sealed (src/notify/webhook.c) */
    size_t secret_len;
    int64_t created_at;
    int64_t deleted_at;   /* 0 = live */
};

int ag_store_notify_webhook_put(struct ag_store_tx *tx, const struct ag_notify_webhook_rec *w,
                                struct ag_err *err);
/* Mark deleted at <at>; AG_ENOTFOUND if no live subscription <id>. */
int ag_store_notify_webhook_delete(struct ag_store_tx *tx, const char *id, int64_t at,
                                   struct ag_err *err);
/* Also returns deleted ones (deleted_at set). */
int ag_store_notify_webhook_get(struct ag_store *s, const char *id,
                                struct ag_notify_webhook_rec *out, struct ag_err *err);
/* Live subscriptions, oldest first; through the read pool or the writer's
 * transaction (enqueue fans out with it). A non-zero <cb> return stops. */
int ag_store_notify_webhook_list(struct ag_store *s,
                                 int (*cb)(void *arg, const struct ag_notify_webhook_rec *w),
                                 void *arg, struct ag_err *err);
int ag_store_notify_webhook_list_tx(struct ag_store_tx *tx,
                                    int (*cb)(void *arg, const struct ag_notify_webhook_rec *w),
                                    void *arg, struct ag_err *err);

/* ---- account contacts (where the owner's alerts go) ---- */

struct ag_notify_contact_rec {
    char account_id[129];
    char email[321];
    char phone[33];
    char locale[16];
    int64_t updated_at;
};

int ag_store_notify_contact_put(struct ag_store_tx *tx, const struct ag_notify_contact_rec *c,
                                struct ag_err *err);
int ag_store_notify_contact_get(struct ag_store *s, const char *account_id,
                                struct ag_notify_contact_rec *out, struct ag_err *err);
int ag_store_notify_contact_get_tx(struct ag_store_tx *tx, const char *account_id,
                                   struct ag_notify_contact_rec *out, struct ag_err *err);

/* ---- "this wasn't me" reports (used tokens) ---- */

struct ag_notify_report_rec {
    char token_id[65];    /* hex of a hash of the token: the single-use key */
    char account_id[129];
    char event_id[129];
    char kind[65];
    char client_ip[46];
    char outcome[64];     /* what securing the account did: "frozen", "playbook", ... */
    int64_t at;
};
/* Record a used token. AG_ECONFLICT if it was used before. */
int ag_store_notify_report_put(struct ag_store_tx *tx, const struct ag_notify_report_rec *r,
                               struct ag_err *err);
/* Forget a report (when securing the account failed, so the link works
 * again). */
int ag_store_notify_report_delete(struct ag_store_tx *tx, const char *token_id,
                                  struct ag_err *err);
/* The report recorded under <token_id>; AG_ENOTFOUND if the token is unused. */
int ag_store_notify_report_get(struct ag_store *s, const char *token_id,
                               struct ag_notify_report_rec *out, struct ag_err *err);
/* Reports of one account, newest first. */
int ag_store_notify_report_list(struct ag_store *s, const char *account_id,
                                int (*cb)(void *arg, const struct ag_notify_report_rec *r),
                                void *arg, struct ag_err *err);

#endif
