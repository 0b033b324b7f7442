/* Identity keys: one 32-byte server secret (config secret_key_file) is split
 * into independent subkeys, one per purpose, so a key used to hash session
 * tokens never also encrypts TOTP secrets. Derivation is libsodium's
 * crypto_kdf (BLAKE2b) with the context "agident1"; the table of purposes is
 * fixed, and a purpose's number never changes once shipped (stored hashes and
 * sealed blobs depend on it). */
#ifndef AG_IDENTITY_KEYS_H
#define AG_IDENTITY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define AG_IDENTITY_KEY_BYTES 32

enum ag_identity_key_purpose {
    AG_IDENTITY_KEY_TOKEN = 1,     /* session token hashes */
    AG_IDENTITY_KEY_APIKEY = 2,    /* API key hashes */
    AG_IDENTITY_KEY_BACKUP = 3,    /* backup code hashes */
    AG_IDENTITY_KEY_OTP = 4,       /* SMS / email one-time code hashes */
    AG_IDENTITY_KEY_TOTP_SEAL = 5, /* encryption of TOTP secrets at rest */
};

/* Derive the subkey for <purpose> from the 32-byte <master> into <out>
 * (AG_IDENTITY_KEY_BYTES). Deterministic; nothing is allocated. Returns 0, or
 * AG_EINVAL for an unknown purpose. The caller wipes <out> with
 * sodium_memzero when done. */
int ag_identity_key_derive(const uint8_t master[AG_IDENTITY_KEY_BYTES],
                           enum ag_identity_key_purpose purpose,
                           uint8_t out[AG_IDENTITY_KEY_BYTES]);

#endif
