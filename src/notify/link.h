/* "This wasn't me" links: <public_url>/v1/wasnt-me/<token>. The token
 * carries the account id, the event id and an expiry, authenticated with a
 * keyed BLAKE2b (16 bytes) under a subkey of the server secret, all in
 * base64url so it is one URL path segment (< 256 bytes). Single use is the
 * caller's: ag_notify_link_id() is the key to record a used token under.
 *
 *   token = base64url(payload) "." base64url(mac)
 *   payload = 0x01 | expiry (4 bytes, Unix seconds, big-endian)
 *           | len | account id | len | event id
 *
 * An event id too long to fit is replaced by "#" and 16 hex digits of its
 * hash (the report still names the event unambiguously enough to find it). */
#ifndef AG_NOTIFY_LINK_H
#define AG_NOTIFY_LINK_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define AG_NOTIFY_LINK_TOKEN_MAX 256 /* longest token, with its NUL */
#define AG_NOTIFY_LINK_ID_LEN 33     /* hex of the MAC, with its NUL */

struct ag_notify_link {
    char account_id[129];
    char event_id[129];
    int64_t expires_at_ms; /* whole seconds */
};

/* Make the token for <account_id>/<event_id> valid until <expires_at_ms>,
 * keyed with <key> (32 bytes: ag_secret_derive(secret, "wasnt-me")).
 * AG_EINVAL if the account id is too long for a link. */
int ag_notify_link_make(const uint8_t key[32], const char *account_id, const char *event_id,
                        int64_t expires_at_ms, char out[AG_NOTIFY_LINK_TOKEN_MAX],
                        struct ag_err *err);

/* Check <token> at <now_ms>: 0 with <out> filled; AG_EFORBIDDEN
 * ("link_invalid") if malformed or not made with <key>; AG_ESTATE
 * ("link_expired") if past its expiry (<out> is still filled). <id> (may be
 * NULL) gets the single-use key. */
int ag_notify_link_verify(const uint8_t key[32], const char *token, int64_t now_ms,
                          struct ag_notify_link *out, char id[AG_NOTIFY_LINK_ID_LEN],
                          struct ag_err *err);

#endif
