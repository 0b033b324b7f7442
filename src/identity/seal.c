/* Encryption of small secrets at rest with libsodium secretbox (see seal.h). */
#include "identity/seal.h"

#include <sodium.h>
#include <string.h>

#define SEAL_VERSION 0x01

_Static_assert(crypto_secretbox_NONCEBYTES == 24, "secretbox nonce size");
_Static_assert(crypto_secretbox_MACBYTES == 16, "secretbox MAC size");
_Static_assert(crypto_secretbox_KEYBYTES == AG_IDENTITY_SEAL_KEY_BYTES, "secretbox key size");

int ag_identity_secret_seal(const uint8_t key[AG_IDENTITY_SEAL_KEY_BYTES], const uint8_t *plain,
                            size_t n, uint8_t *out, size_t cap, size_t *out_len,
                            struct ag_err *err)
{
    if (n > AG_IDENTITY_SEAL_MAX)
        return ag_err_set(err, AG_ELIMIT, "secret_too_large", "", "secret of %zu bytes", n);
    if (cap < AG_IDENTITY_SEAL_LEN(n))
        return ag_err_set(err, AG_ELIMIT, "buffer_too_small", "", "sealed blob needs %zu bytes",
                          AG_IDENTITY_SEAL_LEN(n));
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    uint8_t *nonce = out + 1;
    out[0] = SEAL_VERSION;
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, plain, n, nonce, key);
    *out_len = AG_IDENTITY_SEAL_LEN(n);
    return 0;
}

int ag_identity_secret_open(const uint8_t key[AG_IDENTITY_SEAL_KEY_BYTES], const uint8_t *in,
                            size_t n, uint8_t *out, size_t cap, size_t *out_len,
                            struct ag_err *err)
{
    if (n < AG_IDENTITY_SEAL_OVERHEAD || in[0] != SEAL_VERSION)
        return ag_err_set(err, AG_EINVAL, "sealed_malformed", "", "not a sealed secret");
    size_t plain_len = n - AG_IDENTITY_SEAL_OVERHEAD;
    if (plain_len > AG_IDENTITY_SEAL_MAX)
        return ag_err_set(err, AG_ELIMIT, "secret_too_large", "", "sealed blob of %zu bytes", n);
    if (cap < plain_len)
        return ag_err_set(err, AG_ELIMIT, "buffer_too_small", "", "secret needs %zu bytes",
                          plain_len);
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    const uint8_t *nonce = in + 1;
    if (crypto_secretbox_open_easy(out, nonce + crypto_secretbox_NONCEBYTES,
                                   n - 1 - crypto_secretbox_NONCEBYTES, nonce, key) != 0) {
        sodium_memzero(out, plain_len);
        return ag_err_set(err, AG_EAUTH, "sealed_tampered", "",
                          "sealed secret failed authentication (wrong key or modified)");
    }
    *out_len = plain_len;
    return 0;
}
