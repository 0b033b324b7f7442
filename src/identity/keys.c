/* Identity subkeys derived from the server secret (see keys.h). */
#include "identity/keys.h"

#include "core/err.h"

#include <sodium.h>

int ag_identity_key_derive(const uint8_t master[AG_IDENTITY_KEY_BYTES],
                           enum ag_identity_key_purpose purpose,
                           uint8_t out[AG_IDENTITY_KEY_BYTES])
{
    if (purpose < AG_IDENTITY_KEY_TOKEN || purpose > AG_IDENTITY_KEY_TOTP_SEAL)
        return AG_EINVAL;
    if (sodium_init() < 0)
        return AG_EINTERNAL;
    /* The context is exactly crypto_kdf_CONTEXTBYTES (8) characters. */
    if (crypto_kdf_derive_from_key(out, AG_IDENTITY_KEY_BYTES, (uint64_t)purpose, "agident1",
                                   master) != 0)
        return AG_EINTERNAL;
    return 0;
}
