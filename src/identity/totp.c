/* HOTP/TOTP, base32 and otpauth URIs (see totp.h). */
#include "identity/totp.h"

#include "core/util.h"


#include <nettle/hmac.h>
#include <nettle/sha1.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static const struct {
    enum ag_identity_otp_alg alg;
    const char *name;
} alg_table[] = {
    {AG_IDENTITY_OTP_SHA1, "SHA1"},
    {AG_IDENTITY_OTP_SHA256, "SHA256"},
    {AG_IDENTITY_OTP_SHA512, "SHA512"},
};

const char *ag_identity_otp_alg_name(enum ag_identity_otp_alg alg)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(alg_table); i++)
        if (alg_table[i].alg == alg)
            return alg_table[i].name;
    return NULL;
}

int ag_identity_otp_alg_parse(const char *name, enum ag_identity_otp_alg *out)
{
    for (size_t i = 0; name && i < AG_ARRAY_LEN(alg_table); i++)
        if (strcasecmp(alg_table[i].name, name) == 0) {
            *out = alg_table[i].alg;
            return 0;
        }
    return AG_EINVAL;
}

int ag_identity_totp_secret_new(uint8_t out[AG_IDENTITY_TOTP_SECRET_BYTES])
{
    if (sodium_init() < 0)
        return AG_EINTERNAL; /* no randomness: nothing safe to return */
    randombytes_buf(out, AG_IDENTITY_TOTP_SECRET_BYTES);
    return 0;
}

int ag_identity_base32_encode(const uint8_t *in, size_t n, bool pad, char *out, size_t cap)
{
    size_t need = (pad ? AG_IDENTITY_BASE32_PADDED_LEN(n) : AG_IDENTITY_BASE32_LEN(n)) + 1;
    if (cap < need)
        return AG_ELIMIT;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
    while (pad && o % 8)
        out[o++] = '=';
    out[o] = '\0';
    return 0;
}

static int b32_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int ag_identity_base32_decode(const char *in, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t o = 0, nchars = 0, npad = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *s = in; *s; s++) {
        if (*s == ' ' || *s == '-')
            continue;
        if (*s == '=') {
            npad++;
            continue;
        }
        int v = b32_value(*s);
        if (v < 0 || npad)
            return AG_EINVAL; /* junk, or data after padding */
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        nchars++;
        if (bits >= 8) {
            if (o >= cap)
                return AG_ELIMIT;
            out[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* A valid encoding leaves 0, 2, 4, 1 or 3 spare characters' worth of
     * bits (groups of 2, 4, 5, 7 chars) and the spare bits are zero. */
    size_t rem = nchars % 8;
    if (rem == 1 || rem == 3 || rem == 6)
        return AG_EINVAL;
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return AG_EINVAL;
    if (npad && (nchars + npad) % 8 != 0)
        return AG_EINVAL;
    *out_len = o;
    return 0;
}

/* HMAC of an 8-byte big-endian counter; returns the digest length. */
static size_t otp_hmac(enum ag_identity_otp_alg alg, const uint8_t *key, size_t keylen,
                       const uint8_t msg[8], uint8_t mac[64])
{
    switch (alg) {
    case AG_IDENTITY_OTP_SHA1: {
        struct hmac_sha1_ctx ctx;
        hmac_sha1_set_key(&ctx, keylen, key);
        hmac_sha1_update(&ctx, 8, msg);
        hmac_sha1_digest(&ctx, SHA1_DIGEST_SIZE, mac);
        sodium_memzero(&ctx, sizeof ctx);
        return SHA1_DIGEST_SIZE;
    }
    case AG_IDENTITY_OTP_SHA256: {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, keylen);
        crypto_auth_hmacsha256_update(&st, msg, 8);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_memzero(&st, sizeof st);
        return crypto_auth_hmacsha256_BYTES;
    }
    case AG_IDENTITY_OTP_SHA512: {
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, key, keylen);
        crypto_auth_hmacsha512_update(&st, msg, 8);
        crypto_auth_hmacsha512_final(&st, mac);
        sodium_memzero(&st, sizeof st);
        return crypto_auth_hmacsha512_BYTES;
    }
    }
    return 0;
}

int ag_identity_hotp(enum ag_identity_otp_alg alg, const uint8_t *key, size_t keylen,
                     uint64_t counter, unsigned digits, char out[AG_IDENTITY_OTP_CODE_MAX])
{
    static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};
    if (digits < 6 || digits > 8 || !key || keylen == 0 || keylen > AG_IDENTITY_OTP_KEY_MAX ||
        !ag_identity_otp_alg_name(alg))
        return AG_EINVAL;
    if (sodium_init() < 0)
        return AG_EINTERNAL;
    uint8_t msg[8], mac[64];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(counter & 0xff);
        counter >>= 8;
    }
    size_t maclen = otp_hmac(alg, key, keylen, msg, mac);
    /* Dynamic truncation (RFC 4226 section 5.3). */
    unsigned off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    uint32_t v = bin % pow10[digits];
    for (unsigned i = digits; i > 0; i--) {
        out[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    out[digits] = '\0';
    sodium_memzero(mac, sizeof mac);
    return 0;
}

static bool params_valid(const struct ag_identity_totp_params *p)
{
    return p && p->digits >= 6 && p->digits <= 8 && p->period >= 1 && p->period <= 300 &&
           ag_identity_otp_alg_name(p->alg);
}

int64_t ag_identity_totp_step(const struct ag_identity_totp_params *p, int64_t unix_s)
{
    if (!params_valid(p) || unix_s < 0)
        return -1;
    return unix_s / (int64_t)p->period;
}

int ag_identity_totp_code(const struct ag_identity_totp_params *p, const uint8_t *key,
                          size_t keylen, int64_t unix_s, char out[AG_IDENTITY_OTP_CODE_MAX])
{
    int64_t step = ag_identity_totp_step(p, unix_s);
    if (step < 0)
        return AG_EINVAL;
    return ag_identity_hotp(p->alg, key, keylen, (uint64_t)step, p->digits, out);
}

int ag_identity_totp_verify(const struct ag_identity_totp_params *p, const uint8_t *key,
                            size_t keylen, const char *code, int64_t unix_s, unsigned window,
                            int64_t last_used_step, int64_t *matched_step, struct ag_err *err)
{
    int64_t now_step = ag_identity_totp_step(p, unix_s);
    if (now_step < 0)
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "bad TOTP parameters or time");
    if (window > AG_IDENTITY_TOTP_WINDOW_MAX)
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "window too wide");
    char given[AG_IDENTITY_OTP_CODE_MAX] = {0};
    size_t n = 0;
    for (const char *s = code ? code : ""; *s; s++) {
        if (*s == ' ')
            continue;
        if (*s < '0' || *s > '9' || n >= p->digits)
            return ag_err_set(err, AG_EAUTH, "code_invalid", "code", "code is not %u digits",
                              p->digits);
        given[n++] = *s;
    }
    if (n != p->digits)
        return ag_err_set(err, AG_EAUTH, "code_invalid", "code", "code is not %u digits",
                          p->digits);

    int64_t fresh = -1, stale = -1;
    for (int64_t step = now_step - (int64_t)window; step <= now_step + (int64_t)window; step++) {
        if (step < 0)
            continue;
        char want[AG_IDENTITY_OTP_CODE_MAX];
        int rc = ag_identity_hotp(p->alg, key, keylen, (uint64_t)step, p->digits, want);
        if (rc < 0)
            return ag_err_set(err, rc, "invalid_request", "", "bad TOTP key");
        /* Compare every candidate; no early exit on a match. */
        if (sodium_memcmp(want, given, p->digits) == 0) {
            if (step > last_used_step)
                fresh = step;
            else
                stale = step;
        }
        sodium_memzero(want, sizeof want);
    }
    sodium_memzero(given, sizeof given);
    if (fresh >= 0) {
        *matched_step = fresh;
        return 0;
    }
    if (stale >= 0)
        return ag_err_set(err, AG_ESTATE, "code_reused", "code", "code was already used");
    return ag_err_set(err, AG_EAUTH, "code_invalid", "code", "wrong code");
}

int ag_identity_totp_step_accept(int64_t last_used_step, int64_t matched_step,
                                 int64_t *next_last_used_step)
{
    if (matched_step < 0 || matched_step <= last_used_step) {
        *next_last_used_step = last_used_step;
        return AG_ESTATE;
    }
    *next_last_used_step = matched_step;
    return 0;
}

/* A writer into the caller's fixed buffer: no allocation, so no stray copies
 * of the secret end up in freed heap memory. */
struct writer {
    char *p;
    size_t cap, len;
    bool over;
};

static void w_put(struct writer *w, const char *s, size_t n)
{
    if (w->over || w->len + n + 1 > w->cap) {
        w->over = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

static void w_str(struct writer *w, const char *s) { w_put(w, s, strlen(s)); }

/* Percent-encoded (RFC 3986: only unreserved characters pass). */
static void w_pct(struct writer *w, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            w_put(w, (const char *)c, 1);
        } else {
            char e[3] = {'%', hx[*c >> 4], hx[*c & 15]};
            w_put(w, e, 3);
        }
    }
}

static bool label_part_valid(const char *s, size_t max)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++, n++)
        if (*c == ':' || *c < 0x20 || *c == 0x7f)
            return false;
    return n <= max;
}

int ag_identity_totp_uri(const struct ag_identity_totp_params *p, const char *issuer,
                         const char *account, const uint8_t *secret, size_t secret_len,
                         char *out, size_t cap, struct ag_err *err)
{
    if (!params_valid(p))
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "bad TOTP parameters");
    if (!issuer)
        issuer = "";
    if (!label_part_valid(issuer, 100))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "issuer",
                          "issuer must be at most 100 bytes without ':' or control characters");
    if (!account || !*account || !label_part_valid(account, 200))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account",
                          "account must be 1..200 bytes without ':' or control characters");
    if (!secret || secret_len == 0 || secret_len > 64)
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "secret must be 1..64 bytes");
    if (!out || cap == 0)
        return ag_err_set(err, AG_ELIMIT, "buffer_too_small", "", "URI buffer too small");

    char b32[AG_IDENTITY_BASE32_LEN(64) + 1];
    ag_identity_base32_encode(secret, secret_len, false, b32, sizeof b32);
    char tail[64];
    snprintf(tail, sizeof tail, "&algorithm=%s&digits=%u&period=%u",
             ag_identity_otp_alg_name(p->alg), p->digits, p->period);

    struct writer w = {.p = out, .cap = cap};
    out[0] = '\0';
    w_str(&w, "otpauth://totp/");
    if (*issuer) {
        w_pct(&w, issuer);
        w_str(&w, ":");
    }
    w_pct(&w, account);
    w_str(&w, "?secret=");
    w_str(&w, b32);
    if (*issuer) {
        w_str(&w, "&issuer=");
        w_pct(&w, issuer);
    }
    w_str(&w, tail);
    sodium_memzero(b32, sizeof b32);
    if (w.over) {
        sodium_memzero(out, cap);
        return ag_err_set(err, AG_ELIMIT, "buffer_too_small", "", "URI buffer too small");
    }
    return 0;
}
