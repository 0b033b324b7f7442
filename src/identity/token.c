/* Session tokens and API keys, stored as keyed hashes (see token.h). */
#include "identity/token.h"

#include "core/util.h"

#include <sodium.h>
#include <string.h>

#define SECRET_B64_LEN 43 /* base64url, no padding, of 32 bytes */

_Static_assert(sodium_base64_ENCODED_LEN(AG_IDENTITY_TOKEN_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                   SECRET_B64_LEN + 1,
               "base64url length");
_Static_assert(AG_IDENTITY_TOKEN_PREFIX_MAX + SECRET_B64_LEN + 1 <= AG_IDENTITY_TOKEN_MAX,
               "token room");

static bool prefix_ok(const char *p)
{
    size_t n = strlen(p);
    return n <= AG_IDENTITY_TOKEN_PREFIX_MAX &&
           strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void random_secret(char out[SECRET_B64_LEN + 1])
{
    uint8_t raw[AG_IDENTITY_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, SECRET_B64_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

int ag_identity_token_new(const char *prefix, char *out, size_t cap, struct ag_err *err)
{
    if (!prefix)
        prefix = "";
    if (!prefix_ok(prefix))
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "bad token prefix");
    size_t p = strlen(prefix);
    if (cap < p + SECRET_B64_LEN + 1)
        return ag_err_set(err, AG_ELIMIT, "buffer_too_small", "", "token buffer too small");
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    memcpy(out, prefix, p);
    random_secret(out + p);
    return 0;
}

void ag_identity_token_hash(const uint8_t key[32], const char *token,
                            uint8_t out[AG_IDENTITY_TOKEN_HASH_BYTES])
{
    /* BLAKE2b works before sodium_init (which only picks a faster
     * implementation), so there is no failure to report here. */
    if (sodium_init() < 0) {
        /* fall through: the portable BLAKE2b needs no initialisation */
    }
    crypto_generichash(out, AG_IDENTITY_TOKEN_HASH_BYTES, (const unsigned char *)token,
                       strlen(token), key, 32);
}

bool ag_identity_token_hash_equal(const uint8_t a[AG_IDENTITY_TOKEN_HASH_BYTES],
                                  const uint8_t b[AG_IDENTITY_TOKEN_HASH_BYTES])
{
    return sodium_memcmp(a, b, AG_IDENTITY_TOKEN_HASH_BYTES) == 0;
}

int ag_identity_token_check(const uint8_t key[32], const char *token,
                            const uint8_t stored[AG_IDENTITY_TOKEN_HASH_BYTES])
{
    if (!token || strnlen(token, AG_IDENTITY_TOKEN_MAX) >= AG_IDENTITY_TOKEN_MAX)
        return AG_EAUTH;
    uint8_t h[AG_IDENTITY_TOKEN_HASH_BYTES];
    ag_identity_token_hash(key, token, h);
    bool eq = ag_identity_token_hash_equal(h, stored);
    sodium_memzero(h, sizeof h);
    return eq ? 0 : AG_EAUTH;
}

int ag_identity_apikey_new(char id[AG_IDENTITY_APIKEY_ID_MAX], char key[AG_IDENTITY_APIKEY_MAX],
                           struct ag_err *err)
{
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    ag_id_random(id, AG_IDENTITY_APIKEY_ID_MAX, "", AG_IDENTITY_APIKEY_ID_CHARS);
    char secret[SECRET_B64_LEN + 1];
    random_secret(secret);
    size_t o = 0;
    memcpy(key + o, AG_IDENTITY_APIKEY_PREFIX, strlen(AG_IDENTITY_APIKEY_PREFIX));
    o += strlen(AG_IDENTITY_APIKEY_PREFIX);
    memcpy(key + o, id, AG_IDENTITY_APIKEY_ID_CHARS);
    o += AG_IDENTITY_APIKEY_ID_CHARS;
    key[o++] = '_';
    memcpy(key + o, secret, SECRET_B64_LEN);
    o += SECRET_B64_LEN;
    key[o] = '\0';
    sodium_memzero(secret, sizeof secret);
    return 0;
}

int ag_identity_apikey_parse(const char *key, char id[AG_IDENTITY_APIKEY_ID_MAX],
                             struct ag_err *err)
{
    static const char id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; /* as ag_id_random */
    static const char b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const size_t pl = strlen(AG_IDENTITY_APIKEY_PREFIX);
    if (!key || strnlen(key, AG_IDENTITY_APIKEY_MAX) != pl + AG_IDENTITY_APIKEY_ID_CHARS + 1 +
                                                           SECRET_B64_LEN ||
        strncmp(key, AG_IDENTITY_APIKEY_PREFIX, pl) != 0 ||
        key[pl + AG_IDENTITY_APIKEY_ID_CHARS] != '_')
        return ag_err_set(err, AG_EAUTH, "apikey_malformed", "", "malformed API key");
    const char *idp = key + pl, *sec = idp + AG_IDENTITY_APIKEY_ID_CHARS + 1;
    for (size_t i = 0; i < AG_IDENTITY_APIKEY_ID_CHARS; i++)
        if (!idp[i] || !memchr(id_alphabet, idp[i], sizeof id_alphabet - 1))
            return ag_err_set(err, AG_EAUTH, "apikey_malformed", "", "malformed API key");
    if (strspn(sec, b64url) != SECRET_B64_LEN)
        return ag_err_set(err, AG_EAUTH, "apikey_malformed", "", "malformed API key");
    memcpy(id, idp, AG_IDENTITY_APIKEY_ID_CHARS);
    id[AG_IDENTITY_APIKEY_ID_CHARS] = '\0';
    return 0;
}
