/* The audit log: every analyst and system action, append-only and
 * hash-chained. Each entry's hash is BLAKE2b-256 (libsodium) over the
 * previous entry's hash and the entry's canonical content (seq, time, actor,
 * action, target, details as sorted compact JSON), so changing, removing or
 * reordering any entry breaks the chain from there on; a head row records
 * the newest entry so a cut tail shows too. `accountguard audit verify`
 * walks the chain (ag_audit_verify).
 *
 * HOW TO RECORD AN ACTION (any subsystem): inside the store job that makes
 * the change, so the entry commits exactly with it:
 *
 *   ag_audit_append(tx, "apikey:k_abc", "account.freeze", "account:u_1",
 *                   details, err);      (details: a JSON object or NULL)
 *
 * Outside a job: ag_audit_record(store, ...) runs one job and waits. */
#ifndef AG_AUDIT_AUDIT_H
#define AG_AUDIT_AUDIT_H

#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Append one entry in the caller's transaction <tx> (a job on the store's
 * writer). <actor> is who did it ("apikey:k_..", "system:pipeline",
 * "analyst:alice"), <action> a dotted verb ("case.status", "account.freeze"),
 * <target> what it was done to ("case:c_..", "account:u_1"); each is cut to
 * its column's size (128, 64, 256 bytes). <details> (borrowed; NULL = {})
 * must be a JSON object. Returns 0, or AG_EINVAL / AG_EIO / AG_ECONFLICT
 * with <err>: the caller's job should then fail, so the action and its
 * record commit together or not at all. */
int ag_audit_append(struct ag_store_tx *tx, const char *actor, const char *action,
                    const char *target, const json_t *details, struct ag_err *err);

/* ag_audit_append in its own store job; waits until durable. */
int ag_audit_record(struct ag_store *store, const char *actor, const char *action,
                    const char *target, const json_t *details, struct ag_err *err);

/* Compute an entry's hash from its content and prev_hash (for verifiers). */
void ag_audit_hash(const struct ag_audit_rec *r, uint8_t out[32]);

/* The outcome of walking the chain. */
struct ag_audit_verify_result {
    int64_t checked;   /* entries read */
    int64_t head_seq;  /* what the head row says (0 = none) */
    bool ok;
    int64_t bad_seq;   /* the first bad entry (or the missing one) when !ok */
    char problem[200]; /* what is wrong with it, for people */
};

/* Walk the whole log in seq order, checking each entry's hash, its link to
 * the previous entry, seq continuity and the head row. Returns 0 with
 * <out> filled (out->ok says whether the chain holds), or a store error. */
int ag_audit_verify(struct ag_store *store, struct ag_audit_verify_result *out,
                    struct ag_err *err);

#endif
