/* The hash-chained audit log: appending inside a store transaction and
 * verifying the whole chain. */
#include "audit/audit.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    crypto_generichash_update(h, b, 8);
}

/* Length-prefixed, so no two different field lists hash alike. */
static void put_str(crypto_generichash_state *h, const char *s)
{
    size_t n = strlen(s);
    put_u64(h, n);
    crypto_generichash_update(h, (const unsigned char *)s, n);
}

void ag_audit_hash(const struct ag_audit_rec *r, uint8_t out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    put_str(&h, "accountguard-audit-v1");
    crypto_generichash_update(&h, r->prev_hash, 32);
    put_u64(&h, (uint64_t)r->seq);
    put_u64(&h, (uint64_t)r->at);
    put_str(&h, r->actor);
    put_str(&h, r->action);
    put_str(&h, r->target);
    put_str(&h, r->details ? r->details : "{}");
    crypto_generichash_final(&h, out, 32);
}

int ag_audit_append(struct ag_store_tx *tx, const char *actor, const char *action,
                    const char *target, const json_t *details, struct ag_err *err)
{
    if (!actor || !*actor || !action || !*action)
        return ag_err_set(err, AG_EINVAL, "invalid_audit_entry", "",
                          "an audit entry needs an actor and an action");
    if (details && !json_is_object(details))
        return ag_err_set(err, AG_EINVAL, "invalid_audit_entry", "details",
                          "audit details must be a JSON object");
    struct ag_audit_rec r;
    memset(&r, 0, sizeof r);
    int64_t head = 0;
    int rc = ag_store_audit_head_tx(tx, &head, r.prev_hash, err);
    if (rc == AG_ENOTFOUND) {
        head = 0;
        memset(r.prev_hash, 0, 32);
    } else if (rc) {
        return rc;
    }
    char *text = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (details && !text)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    r.seq = head + 1;
    r.at = ag_time_now_ms();
    snprintf(r.actor, sizeof r.actor, "%s", actor);
    snprintf(r.action, sizeof r.action, "%s", action);
    snprintf(r.target, sizeof r.target, "%s", target ? target : "");
    r.details = text ? text : "{}";
    ag_audit_hash(&r, r.hash);
    rc = ag_store_audit_put(tx, &r, err);
    free(text);
    return rc;
}

struct record_job {
    const char *actor, *action, *target;
    const json_t *details;
};

static int record_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct record_job *j = arg;
    return ag_audit_append(tx, j->actor, j->action, j->target, j->details, err);
}

int ag_audit_record(struct ag_store *store, const char *actor, const char *action,
                    const char *target, const json_t *details, struct ag_err *err)
{
    struct record_job j = {actor, action, target, details};
    return ag_store_exec(store, record_run, &j, err);
}

struct walk {
    struct ag_audit_verify_result *out;
    int64_t expect_seq;
    uint8_t prev[32];
    int64_t last_seq;
};

static int walk_one(void *arg, const struct ag_audit_rec *r)
{
    struct walk *w = arg;
    struct ag_audit_verify_result *o = w->out;
    o->checked++;
    w->last_seq = r->seq;
    if (r->seq != w->expect_seq) {
        o->ok = false;
        o->bad_seq = w->expect_seq;
        snprintf(o->problem, sizeof o->problem,
                 "entry %lld is missing (the next one present is %lld)",
                 (long long)w->expect_seq, (long long)r->seq);
        return 1;
    }
    if (sodium_memcmp(r->prev_hash, w->prev, 32) != 0) {
        o->ok = false;
        o->bad_seq = r->seq;
        snprintf(o->problem, sizeof o->problem,
                 "entry %lld does not link to entry %lld (removed, reordered or altered)",
                 (long long)r->seq, (long long)(r->seq - 1));
        return 1;
    }
    uint8_t h[32];
    ag_audit_hash(r, h);
    if (sodium_memcmp(h, r->hash, 32) != 0) {
        o->ok = false;
        o->bad_seq = r->seq;
        snprintf(o->problem, sizeof o->problem,
                 "entry %lld was altered: its content does not match its hash",
                 (long long)r->seq);
        return 1;
    }
    memcpy(w->prev, r->hash, 32);
    w->expect_seq++;
    return 0;
}

int ag_audit_verify(struct ag_store *store, struct ag_audit_verify_result *out,
                    struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    out->ok = true;
    uint8_t head_hash[32] = {0};
    int64_t head_seq = 0;
    int rc = ag_store_audit_head(store, &head_seq, head_hash, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    out->head_seq = rc ? 0 : head_seq;
    struct walk w = {.out = out, .expect_seq = 1};
    for (;;) {
        int64_t before = out->checked;
        if ((rc = ag_store_audit_scan(store, w.last_seq, 1000, NULL, NULL, walk_one, &w, err)))
            return rc;
        if (!out->ok || out->checked - before < 1000)
            break;
    }
    if (!out->ok)
        return 0;
    if (w.last_seq != out->head_seq) {
        out->ok = false;
        out->bad_seq = w.last_seq < out->head_seq ? w.last_seq + 1 : out->head_seq + 1;
        snprintf(out->problem, sizeof out->problem,
                 "the log ends at entry %lld but its head says %lld (entries removed or added "
                 "outside the log)",
                 (long long)w.last_seq, (long long)out->head_seq);
    } else if (out->head_seq && sodium_memcmp(head_hash, w.prev, 32) != 0) {
        out->ok = false;
        out->bad_seq = out->head_seq;
        snprintf(out->problem, sizeof out->problem,
                 "entry %lld does not match the hash the head recorded", (long long)out->head_seq);
    }
    return 0;
}
