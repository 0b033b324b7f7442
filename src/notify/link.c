/* "This wasn't me" link tokens: make and verify (see link.h). */
#include "notify/link.h"
#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define MAC_LEN 16
#define PAYLOAD_MAX 180 /* base64url of 180 bytes is 240 chars; + "." + 22 */

int ag_notify_link_make(const uint8_t key[32], const char *account_id, const char *event_id,
                        int64_t expires_at_ms, char out[AG_NOTIFY_LINK_TOKEN_MAX],
                        struct ag_err *err)
{
    uint8_t p[PAYLOAD_MAX];
    size_t alen = strlen(account_id), elen = strlen(event_id ? event_id : "");
    char ebuf[18];
    if (alen == 0 || alen > 128)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account_id",
                          "account id must be 1..128 bytes for a link");
    if (elen > 128 || 1 + 4 + 1 + alen + 1 + elen > PAYLOAD_MAX) {
        uint8_t h[8];
        crypto_generichash(h, sizeof h, (const uint8_t *)event_id, elen, NULL, 0);
        ebuf[0] = '#';
        ag_hex(h, sizeof h, ebuf + 1);
        event_id = ebuf;
        elen = 17;
    }
    if (1 + 4 + 1 + alen + 1 + elen > PAYLOAD_MAX)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account_id",
                          "account id too long for a link");
    uint64_t exp = expires_at_ms <= 0 ? 0 : (uint64_t)(expires_at_ms / 1000);
    if (exp > UINT32_MAX)
        exp = UINT32_MAX;
    size_t n = 0;
    p[n++] = 1;
    p[n++] = (uint8_t)(exp >> 24);
    p[n++] = (uint8_t)(exp >> 16);
    p[n++] = (uint8_t)(exp >> 8);
    p[n++] = (uint8_t)exp;
    p[n++] = (uint8_t)alen;
    memcpy(p + n, account_id, alen);
    n += alen;
    p[n++] = (uint8_t)elen;
    memcpy(p + n, event_id ? event_id : "", elen);
    n += elen;
    uint8_t mac[MAC_LEN];
    crypto_generichash(mac, sizeof mac, p, n, key, 32);
    sodium_bin2base64(out, AG_NOTIFY_LINK_TOKEN_MAX, p, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t tl = strlen(out);
    out[tl++] = '.';
    sodium_bin2base64(out + tl, AG_NOTIFY_LINK_TOKEN_MAX - tl, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

static int invalid(struct ag_err *err)
{
    return ag_err_set(err, AG_EFORBIDDEN, "link_invalid", "token",
                      "this link is not valid: it may be mistyped or incomplete");
}

int ag_notify_link_verify(const uint8_t key[32], const char *token, int64_t now_ms,
                          struct ag_notify_link *out, char id[AG_NOTIFY_LINK_ID_LEN],
                          struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    const char *dot = token ? strchr(token, '.') : NULL;
    if (!dot || strlen(token) >= AG_NOTIFY_LINK_TOKEN_MAX)
        return invalid(err);
    uint8_t p[PAYLOAD_MAX], mac[MAC_LEN], want[MAC_LEN];
    size_t n = 0, m = 0;
    const char *end;
    if (sodium_base642bin(p, sizeof p, token, (size_t)(dot - token), NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        end != dot)
        return invalid(err);
    if (sodium_base642bin(mac, sizeof mac, dot + 1, strlen(dot + 1), NULL, &m, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        *end || m != MAC_LEN)
        return invalid(err);
    crypto_generichash(want, sizeof want, p, n, key, 32);
    if (sodium_memcmp(want, mac, MAC_LEN) != 0)
        return invalid(err);
    /* Authentic: parse what we wrote. */
    if (n < 7 || p[0] != 1)
        return invalid(err);
    uint64_t exp = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
    size_t alen = p[5];
    if (alen == 0 || alen > 128 || 6 + alen + 1 > n)
        return invalid(err);
    size_t elen = p[6 + alen];
    if (elen > 128 || 6 + alen + 1 + elen != n)
        return invalid(err);
    memcpy(out->account_id, p + 6, alen);
    memcpy(out->event_id, p + 7 + alen, elen);
    out->expires_at_ms = (int64_t)exp * 1000;
    if (id)
        ag_hex(mac, MAC_LEN, id);
    if (now_ms >= out->expires_at_ms)
        return ag_err_set(err, AG_ESTATE, "link_expired", "token",
                          "this link has expired; sign in to review your account's activity");
    return 0;
}
