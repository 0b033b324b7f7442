/* Small secrets encrypted at rest (TOTP seeds today): libsodium
 * crypto_secretbox (XSalsa20-Poly1305) under a 32-byte key, with a fresh
 * random nonce per seal. A blob is
 *     version (1 byte, 0x01) | nonce (24) | MAC (16) | ciphertext (n)
 * so it can be stored as one opaque BLOB; the version byte leaves room for a
 * later algorithm or key rotation without guessing. */
#ifndef AG_IDENTITY_SEAL_H
#define AG_IDENTITY_SEAL_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define AG_IDENTITY_SEAL_KEY_BYTES 32
#define AG_IDENTITY_SEAL_OVERHEAD (1 + 24 + 16)
#define AG_IDENTITY_SEAL_LEN(n) ((size_t)(n) + AG_IDENTITY_SEAL_OVERHEAD)
/* The largest plaintext accepted (secrets are small; this bounds buffers). */
#define AG_IDENTITY_SEAL_MAX 1024

/* Encrypt <n> bytes at <plain> under <key> into <out> (room for <cap> bytes,
 * at least AG_IDENTITY_SEAL_LEN(n)); sets *out_len. Returns 0, AG_ELIMIT if
 * <n> exceeds AG_IDENTITY_SEAL_MAX or <cap> is too small, AG_EINTERNAL if
 * libsodium cannot start. */
int ag_identity_secret_seal(const uint8_t key[AG_IDENTITY_SEAL_KEY_BYTES], const uint8_t *plain,
                            size_t n, uint8_t *out, size_t cap, size_t *out_len,
                            struct ag_err *err);

/* Decrypt the blob <in>/<n> under <key> into <out> (room for <cap> bytes,
 * at least n - AG_IDENTITY_SEAL_OVERHEAD); sets *out_len. Returns 0;
 * AG_EINVAL ("sealed_malformed") if the blob is too short or of an unknown
 * version; AG_EAUTH ("sealed_tampered") if the MAC does not verify (wrong key
 * or a modified blob), in which case <out> holds nothing useful; AG_ELIMIT
 * if <cap> is too small. The caller wipes <out> with sodium_memzero. */
int ag_identity_secret_open(const uint8_t key[AG_IDENTITY_SEAL_KEY_BYTES], const uint8_t *in,
                            size_t n, uint8_t *out, size_t cap, size_t *out_len,
                            struct ag_err *err);

#endif
