/* Single-use backup codes stored as keyed hashes (see backup.h). */
#include "identity/backup.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

/* 32 symbols: digits 2-9 and letters without I and O. */
static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
#define DOMAIN "ag-backup-v1"

static int normalize(const char *code, char out[AG_IDENTITY_BACKUP_CHARS + 1])
{
    size_t n = 0;
    for (const char *c = code ? code : ""; *c; c++) {
        if (*c == ' ' || *c == '-')
            continue;
        char u = (*c >= 'a' && *c <= 'z') ? (char)(*c - 'a' + 'A') : *c;
        if (!memchr(alphabet, u, sizeof alphabet - 1) || u == '\0' ||
            n >= AG_IDENTITY_BACKUP_CHARS)
            return AG_EINVAL;
        out[n++] = u;
    }
    out[n] = '\0';
    return n == AG_IDENTITY_BACKUP_CHARS ? 0 : AG_EINVAL;
}

int ag_identity_backup_hash(const uint8_t key[32], const char *code,
                            uint8_t out[AG_IDENTITY_BACKUP_HASH_BYTES])
{
    char norm[AG_IDENTITY_BACKUP_CHARS + 1];
    if (normalize(code, norm) < 0) {
        sodium_memzero(norm, sizeof norm);
        return AG_EINVAL;
    }
    if (sodium_init() < 0)
        return AG_EINTERNAL;
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, AG_IDENTITY_BACKUP_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)DOMAIN, sizeof DOMAIN);
    crypto_generichash_update(&st, (const unsigned char *)norm, AG_IDENTITY_BACKUP_CHARS);
    crypto_generichash_final(&st, out, AG_IDENTITY_BACKUP_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(norm, sizeof norm);
    return 0;
}

int ag_identity_backup_generate(const uint8_t key[32],
                                char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX],
                                struct ag_identity_backup_code stored[AG_IDENTITY_BACKUP_COUNT])
{
    if (sodium_init() < 0)
        return AG_EINTERNAL;
    for (size_t i = 0; i < AG_IDENTITY_BACKUP_COUNT; i++) {
        char *c = codes[i];
        bool dup;
        do {
            size_t o = 0;
            for (size_t k = 0; k < AG_IDENTITY_BACKUP_CHARS; k++) {
                if (k == AG_IDENTITY_BACKUP_CHARS / 2)
                    c[o++] = '-';
                c[o++] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
            }
            c[o] = '\0';
            /* A duplicate within a set (odds 2^-50) would make one code
             * count twice; draw again. */
            dup = false;
            for (size_t j = 0; j < i; j++)
                dup |= strcmp(codes[j], c) == 0;
        } while (dup);
        if (ag_identity_backup_hash(key, c, stored[i].hash) < 0)
            return AG_EINTERNAL;
        stored[i].used_ms = 0;
    }
    return 0;
}

int ag_identity_backup_verify(const uint8_t key[32], const char *code,
                              const struct ag_identity_backup_code *stored, size_t n,
                              size_t *index, struct ag_err *err)
{
    uint8_t h[AG_IDENTITY_BACKUP_HASH_BYTES];
    if (ag_identity_backup_hash(key, code, h) < 0)
        return ag_err_set(err, AG_EAUTH, "code_invalid", "code", "wrong backup code");
    size_t found = n;
    int used = 0;
    for (size_t i = 0; i < n; i++) {
        int eq = sodium_memcmp(h, stored[i].hash, sizeof h) == 0;
        if (eq) {
            found = i;
            used = stored[i].used_ms != 0;
        }
    }
    sodium_memzero(h, sizeof h);
    if (found == n)
        return ag_err_set(err, AG_EAUTH, "code_invalid", "code", "wrong backup code");
    if (used)
        return ag_err_set(err, AG_ESTATE, "code_used", "code", "backup code already used");
    *index = found;
    return 0;
}

int ag_identity_backup_mark_used(struct ag_identity_backup_code *stored, size_t n, size_t index,
                                 int64_t now_ms)
{
    if (index >= n || now_ms <= 0)
        return AG_EINVAL;
    if (stored[index].used_ms != 0)
        return AG_ESTATE;
    stored[index].used_ms = now_ms;
    return 0;
}

size_t ag_identity_backup_remaining(const struct ag_identity_backup_code *stored, size_t n)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
        left += stored[i].used_ms == 0;
    return left;
}
