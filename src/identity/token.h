/* Opaque bearer secrets: session tokens and API keys.
 *
 * A session token is "<prefix>" + base64url (no padding) of 32 random bytes,
 * e.g. "ags_3q2-...": the prefix makes a leaked token recognizable (secret
 * scanners, logs) without revealing anything. An API key is
 * "agk_<id>_<secret>": <id> (12 lower-case base32 characters) names the key
 * in listings and logs, <secret> is base64url of 32 random bytes.
 *
 * Only a keyed hash is stored (BLAKE2b via crypto_generichash under the
 * AG_IDENTITY_KEY_TOKEN / _APIKEY subkey), so a copy of the database holds
 * no usable token, and the store can look a token up by its hash. */
#ifndef AG_IDENTITY_TOKEN_H
#define AG_IDENTITY_TOKEN_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_IDENTITY_TOKEN_BYTES 32
#define AG_IDENTITY_TOKEN_HASH_BYTES 32
#define AG_IDENTITY_TOKEN_PREFIX_MAX 16
#define AG_IDENTITY_TOKEN_MAX 80 /* prefix, 43 characters and NUL fit */
#define AG_IDENTITY_SESSION_PREFIX "ags_"
#define AG_IDENTITY_APIKEY_PREFIX "agk_"
#define AG_IDENTITY_APIKEY_ID_CHARS 12
#define AG_IDENTITY_APIKEY_ID_MAX (AG_IDENTITY_APIKEY_ID_CHARS + 1)
#define AG_IDENTITY_APIKEY_MAX 80

/* A new token "<prefix><43 base64url characters>" into <out>/<cap>
 * (AG_IDENTITY_TOKEN_MAX is enough). <prefix> is up to 16 of [a-z0-9_].
 * Returns 0, AG_EINVAL for a bad prefix, AG_ELIMIT if <cap> is too small.
 * WARNING: the token is a bearer secret: show it once, never log it. */
int ag_identity_token_new(const char *prefix, char *out, size_t cap, struct ag_err *err);

/* The keyed hash of <token> (the whole string, prefix included) under the
 * 32-byte <key> into <out>. Deterministic: the store indexes on it. */
void ag_identity_token_hash(const uint8_t key[32], const char *token,
                            uint8_t out[AG_IDENTITY_TOKEN_HASH_BYTES]);

/* Constant-time comparison of two token hashes. */
bool ag_identity_token_hash_equal(const uint8_t a[AG_IDENTITY_TOKEN_HASH_BYTES],
                                  const uint8_t b[AG_IDENTITY_TOKEN_HASH_BYTES]);

/* Does <token> hash to <stored> under <key>? Returns 0 if so, AG_EAUTH
 * ("token_invalid") if not or if <token> is NULL or longer than
 * AG_IDENTITY_TOKEN_MAX. */
int ag_identity_token_check(const uint8_t key[32], const char *token,
                            const uint8_t stored[AG_IDENTITY_TOKEN_HASH_BYTES]);

/* A new API key: writes its public <id> and the full key "agk_<id>_<secret>"
 * (show once; store ag_identity_token_hash of it). Returns 0 or AG_EINTERNAL. */
int ag_identity_apikey_new(char id[AG_IDENTITY_APIKEY_ID_MAX], char key[AG_IDENTITY_APIKEY_MAX],
                           struct ag_err *err);

/* Split a presented API key: checks the "agk_" prefix, the id's alphabet
 * and length and the secret's length and alphabet, and copies the id to
 * <id>. Returns 0 or AG_EAUTH ("apikey_malformed"); the caller then looks
 * the id up and compares hashes. */
int ag_identity_apikey_parse(const char *key, char id[AG_IDENTITY_APIKEY_ID_MAX],
                             struct ag_err *err);

#endif
