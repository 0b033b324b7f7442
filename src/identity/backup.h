/* Backup codes: AG_IDENTITY_BACKUP_COUNT single-use codes shown once at
 * enrollment. Each is 10 characters from an unambiguous 32-letter alphabet
 * (no 0/O, 1/I/L) shown as "XXXXX-XXXXX" (50 bits), drawn with libsodium
 * randomness. Only a keyed hash of each (BLAKE2b via crypto_generichash,
 * under the AG_IDENTITY_KEY_BACKUP subkey) is stored; verification compares
 * against every stored hash in constant time. */
#ifndef AG_IDENTITY_BACKUP_H
#define AG_IDENTITY_BACKUP_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define AG_IDENTITY_BACKUP_COUNT 10
#define AG_IDENTITY_BACKUP_CHARS 10   /* without the hyphen */
#define AG_IDENTITY_BACKUP_TEXT_MAX 12 /* "XXXXX-XXXXX" and NUL */
#define AG_IDENTITY_BACKUP_HASH_BYTES 32

/* One stored code: its keyed hash and when it was used (0: unused). */
struct ag_identity_backup_code {
    uint8_t hash[AG_IDENTITY_BACKUP_HASH_BYTES];
    int64_t used_ms;
};

/* Generate a fresh set: <codes> receives the texts to show once (the caller
 * wipes them with sodium_memzero after display), <stored> their hashes under
 * <key> (32 bytes), unused. Replaces any previous set entirely. Returns 0 or
 * AG_EINTERNAL if libsodium cannot start. */
int ag_identity_backup_generate(const uint8_t key[32],
                                char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX],
                                struct ag_identity_backup_code stored[AG_IDENTITY_BACKUP_COUNT]);

/* Keyed hash of a code as typed: case, spaces and hyphens are ignored.
 * Returns 0, or AG_EINVAL if it is not 10 characters of the alphabet. */
int ag_identity_backup_hash(const uint8_t key[32], const char *code,
                            uint8_t out[AG_IDENTITY_BACKUP_HASH_BYTES]);

/* Find <code> among the <n> stored codes. Every entry is compared (no early
 * exit). Returns 0 and sets *index for an unused match; AG_ESTATE
 * ("code_used") if it matches a used one; AG_EAUTH ("code_invalid")
 * otherwise (also for malformed input). The caller then marks it used with
 * ag_identity_backup_mark_used and persists that conditionally (... WHERE
 * used_ms = 0), so a code works once even under concurrent use. */
int ag_identity_backup_verify(const uint8_t key[32], const char *code,
                              const struct ag_identity_backup_code *stored, size_t n,
                              size_t *index, struct ag_err *err);

/* Mark code <index> used at <now_ms>. Returns 0, AG_ESTATE if it already
 * was, AG_EINVAL for a bad index. */
int ag_identity_backup_mark_used(struct ag_identity_backup_code *stored, size_t n, size_t index,
                                 int64_t now_ms);

/* How many of the <n> codes are still unused (to warn the owner when few
 * are left). */
size_t ag_identity_backup_remaining(const struct ag_identity_backup_code *stored, size_t n);

#endif
