/* The server secret: 32 random bytes in a file (0600), created on first use.
 * It keys the hashes of API keys and tokens and the encryption of secrets at
 * rest, so every process of one deployment (serve, the CLI) must read the
 * same file. WARNING: losing it invalidates every API key and token. */
#ifndef AG_CORE_SECRET_H
#define AG_CORE_SECRET_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define AG_SECRET_LEN 32

/* Read the secret from <path>; create it (random) if missing and <create>.
 * Returns 0, AG_ENOTFOUND (missing, !create) or AG_EIO/AG_EINVAL. */
int ag_secret_load(const char *path, bool create, uint8_t key[AG_SECRET_LEN], struct ag_err *err);

/* Derive a 32-byte subkey for <purpose> ("apikey", "token", "totp", ...). */
void ag_secret_derive(const uint8_t key[AG_SECRET_LEN], const char *purpose,
                      uint8_t out[AG_SECRET_LEN]);

#endif
