/* Standard Webhooks secrets, signatures and kind patterns; sealing of the
 * secrets kept in the store. */
#include "notify/webhook.h"

#include <sodium.h>
#include <string.h>

void ag_notify_webhook_secret_new(uint8_t key[AG_NOTIFY_WEBHOOK_KEY_LEN], char *text, size_t len)
{
    randombytes_buf(key, AG_NOTIFY_WEBHOOK_KEY_LEN);
    char b64[sodium_base64_ENCODED_LEN(AG_NOTIFY_WEBHOOK_KEY_MAX, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, key, AG_NOTIFY_WEBHOOK_KEY_LEN,
                      sodium_base64_VARIANT_ORIGINAL);
    size_t n = strlen(b64);
    if (len < n + 7) {
        if (len)
            text[0] = '\0';
        return;
    }
    memcpy(text, "whsec_", 6);
    memcpy(text + 6, b64, n + 1);
    sodium_memzero(b64, sizeof b64);
}

int ag_notify_webhook_secret_parse(const char *text, uint8_t key[AG_NOTIFY_WEBHOOK_KEY_MAX],
                                   size_t *keylen)
{
    if (!strncmp(text, "whsec_", 6))
        text += 6;
    size_t n = 0;
    if (!*text || sodium_base642bin(key, AG_NOTIFY_WEBHOOK_KEY_MAX, text, strlen(text), NULL, &n,
                                    NULL, sodium_base64_VARIANT_ORIGINAL) ||
        n == 0)
        return AG_EINVAL;
    *keylen = n;
    return 0;
}

void ag_notify_webhook_sign(const uint8_t *key, size_t keylen, const char *msg_id, int64_t ts_s,
                            const char *body, size_t body_len, char out[AG_NOTIFY_WEBHOOK_SIG_TEXT])
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char ts[24];
    int tl = 0;
    /* decimal Unix seconds, no locale */
    {
        char rev[24];
        uint64_t v = ts_s < 0 ? 0 : (uint64_t)ts_s;
        do {
            rev[tl++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        for (int i = 0; i < tl; i++)
            ts[i] = rev[tl - 1 - i];
    }
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, AG_NOTIFY_WEBHOOK_SIG_TEXT - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(&st, sizeof st);
}

bool ag_notify_webhook_kind_matches(const char *kinds, const char *kind)
{
    size_t klen = strlen(kind);
    const char *p = kinds;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != ',')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 1 && *p == '*')
            return true;
        if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '.') {
            /* "alert.*": the prefix with its dot */
            if (klen > n - 1 && !strncmp(kind, p, n - 1))
                return true;
        } else if (n && n == klen && !strncmp(kind, p, n)) {
            return true;
        }
        p = e;
    }
    return false;
}

int ag_notify_seal(const uint8_t box_key[32], const uint8_t *in, size_t n, uint8_t *out,
                   size_t *outlen)
{
    uint8_t *nonce = out;
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    if (crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, in, n, nonce, box_key))
        return AG_EINVAL;
    *outlen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    return 0;
}

int ag_notify_unseal(const uint8_t box_key[32], const uint8_t *in, size_t n, uint8_t *out,
                     size_t cap, size_t *outlen)
{
    size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (n < over || n - over > cap)
        return AG_EINVAL;
    if (crypto_secretbox_open_easy(out, in + crypto_secretbox_NONCEBYTES,
                                   n - crypto_secretbox_NONCEBYTES, in, box_key))
        return AG_EINVAL;
    *outlen = n - over;
    return 0;
}
