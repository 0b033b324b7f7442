/* Standard Webhooks (standardwebhooks.com) for the platform's
 * subscriptions: secrets "whsec_<base64>", the signature
 * "v1,<base64 HMAC-SHA256 of id.timestamp.body>", the payload shape
 * {"type", "timestamp", "data"}, and which subscriptions a kind selects.
 * Secrets are kept sealed (secretbox) under a subkey of the server secret. */
#ifndef AG_NOTIFY_WEBHOOK_H
#define AG_NOTIFY_WEBHOOK_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_NOTIFY_WEBHOOK_KEY_LEN 24  /* random bytes of a new secret */
#define AG_NOTIFY_WEBHOOK_KEY_MAX 64  /* longest secret accepted */
#define AG_NOTIFY_WEBHOOK_SECRET_TEXT 96 /* "whsec_" + base64 + NUL fits */
#define AG_NOTIFY_WEBHOOK_SIG_TEXT 64    /* "v1," + 44 chars of base64 + NUL */

/* A new random secret: <key> gets AG_NOTIFY_WEBHOOK_KEY_LEN bytes and <text>
 * (>= AG_NOTIFY_WEBHOOK_SECRET_TEXT) the "whsec_..." form shown once. */
void ag_notify_webhook_secret_new(uint8_t key[AG_NOTIFY_WEBHOOK_KEY_LEN], char *text, size_t len);
/* Decode "whsec_<base64>" (or bare base64) into <key>; *keylen gets its
 * length. AG_EINVAL if malformed or longer than AG_NOTIFY_WEBHOOK_KEY_MAX. */
int ag_notify_webhook_secret_parse(const char *text, uint8_t key[AG_NOTIFY_WEBHOOK_KEY_MAX],
                                   size_t *keylen);

/* The webhook-signature value for message <msg_id> sent at <ts_s> (Unix
 * seconds) with <body>: "v1,<base64(HMAC-SHA256(key, id.ts.body))>". */
void ag_notify_webhook_sign(const uint8_t *key, size_t keylen, const char *msg_id, int64_t ts_s,
                            const char *body, size_t body_len, char out[AG_NOTIFY_WEBHOOK_SIG_TEXT]);

/* Does a subscription to <kinds> (space-separated patterns: "*", an exact
 * kind, or a prefix ending in ".*" such as "alert.*") take <kind>? */
bool ag_notify_webhook_kind_matches(const char *kinds, const char *kind);

/* Seal <n> bytes (<= AG_NOTIFY_WEBHOOK_KEY_MAX) under <box_key> into <out>
 * (nonce | MAC | ciphertext; *outlen set; <out> holds >= n + 40 bytes);
 * open them again. Open returns AG_EINVAL when the box does not verify. */
int ag_notify_seal(const uint8_t box_key[32], const uint8_t *in, size_t n, uint8_t *out,
                   size_t *outlen);
int ag_notify_unseal(const uint8_t box_key[32], const uint8_t *in, size_t n, uint8_t *out,
                     size_t cap, size_t *outlen);

#endif
