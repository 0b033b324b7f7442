/* API keys: "agk_<id>_<secret>". The id is public and indexes the store; the
 * secret is shown once at creation and stored only as a BLAKE2b hash keyed
 * with a subkey of the server secret; verification compares in constant
 * time. Scopes are checked per route. */
#include "api/api.h"
#include "core/timeutil.h"
#include "core/util.h"

#include "core/strmap.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key records read from the store are cached briefly, so a request does not
 * cost a store read. A revocation through this process drops the entry at
 * once; one made by another process (the CLI, another node) takes effect
 * within KEY_CACHE_MS. */
#define KEY_CACHE_MS 2000
struct cached_key {
    struct ag_apikey_rec rec;
    int64_t fetched_at;
};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ag_strmap key_cache;

static int cached_get(struct ag_store *store, const char *id, struct ag_apikey_rec *out)
{
    int64_t now = ag_time_now_ms();
    pthread_mutex_lock(&cache_lock);
    struct cached_key *c = ag_strmap_get(&key_cache, id);
    if (c && now - c->fetched_at < KEY_CACHE_MS) {
        *out = c->rec;
        pthread_mutex_unlock(&cache_lock);
        return 0;
    }
    pthread_mutex_unlock(&cache_lock);
    int rc = ag_store_apikey_get(store, id, out, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&cache_lock);
    c = ag_strmap_get(&key_cache, id);
    if (!c && key_cache.len < 10000 && (c = malloc(sizeof *c)) &&
        ag_strmap_put(&key_cache, id, c, NULL)) {
        free(c);
        c = NULL;
    }
    if (c) {
        c->rec = *out;
        c->fetched_at = now;
    }
    pthread_mutex_unlock(&cache_lock);
    return 0;
}

static void cache_drop(const char *id)
{
    pthread_mutex_lock(&cache_lock);
    free(ag_strmap_del(&key_cache, id));
    pthread_mutex_unlock(&cache_lock);
}

const char *const ag_api_scopes[] = {
    "events:write", "events:read",    "accounts:read", "accounts:write", "cases:read",
    "cases:write",  "messages:write", "intel:read",    "intel:write",    "rules:read",     "rules:write",
    "notifications:read", "notifications:write", "webhooks:write",
    "metrics:read", "admin",
};
const int ag_api_scopes_count = (int)AG_ARRAY_LEN(ag_api_scopes);

#define ID_CHARS 12
#define SECRET_CHARS 40

bool ag_api_scope_allows(const char *scopes, const char *scope)
{
    /* "<resource>:write" includes "<resource>:read". */
    size_t sl = strlen(scope);
    if (sl > 5 && !strcmp(scope + sl - 5, ":read")) {
        char w[64];
        if (sl - 5 + 7 < sizeof w) {
            snprintf(w, sizeof w, "%.*s:write", (int)(sl - 5), scope);
            if (ag_api_scope_allows(scopes, w))
                return true;
        }
    }
    size_t n = strlen(scope);
    for (const char *p = scopes; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        size_t len = (size_t)(e - p);
        if ((len == n && !strncmp(p, scope, n)) || (len == 5 && !strncmp(p, "admin", 5)))
            return true;
        p = e;
    }
    return false;
}

static void hash_secret(const uint8_t key[AG_SECRET_LEN], const char *secret, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)secret, strlen(secret), key, AG_SECRET_LEN);
}

static int normalize_scopes(const char *in, char *out, size_t outlen, struct ag_err *err)
{
    out[0] = '\0';
    size_t used = 0;
    const char *p = in;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ' && *e != ',')
            e++;
        size_t len = (size_t)(e - p);
        int i = 0;
        while (i < ag_api_scopes_count &&
               !(strlen(ag_api_scopes[i]) == len && !strncmp(ag_api_scopes[i], p, len)))
            i++;
        if (i == ag_api_scopes_count)
            return ag_err_set(err, AG_EINVAL, "unknown_scope", "scopes", "unknown scope '%.*s'",
                              (int)(len > 40 ? 40 : len), p);
        if (used + len + 2 > outlen)
            return ag_err_set(err, AG_EINVAL, "invalid_field", "scopes", "too many scopes");
        if (used)
            out[used++] = ' ';
        memcpy(out + used, p, len);
        used += len;
        out[used] = '\0';
        p = e;
    }
    if (!used)
        return ag_err_set(err, AG_EINVAL, "missing_field", "scopes", "at least one scope is required");
    return 0;
}

static int put_key(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_apikey_put(tx, arg, err);
}

int ag_api_key_create(struct ag_store *store, const uint8_t hash_key[AG_SECRET_LEN],
                      const char *name, const char *scopes, char *token, size_t token_len,
                      struct ag_apikey_rec *out, struct ag_err *err)
{
    struct ag_apikey_rec k = {.created_at = ag_time_now_ms()};
    if (!name || !*name || strlen(name) >= sizeof k.name)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "name",
                          "a key needs a name of 1 to %zu bytes", sizeof k.name - 1);
    int rc = normalize_scopes(scopes ? scopes : "", k.scopes, sizeof k.scopes, err);
    if (rc)
        return rc;
    snprintf(k.name, sizeof k.name, "%s", name);
    ag_id_random(k.id, sizeof k.id, "k", ID_CHARS);
    char secret[SECRET_CHARS + 1];
    ag_id_random(secret, sizeof secret, "", SECRET_CHARS);
    hash_secret(hash_key, secret, k.hash);
    if ((rc = ag_store_exec(store, put_key, &k, err))) {
        sodium_memzero(secret, sizeof secret);
        return rc;
    }
    snprintf(token, token_len, "agk_%s_%s", k.id, secret);
    sodium_memzero(secret, sizeof secret);
    if (out)
        *out = k;
    return 0;
}

static int revoke_key(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_apikey_revoke(tx, arg, ag_time_now_ms(), err);
}

int ag_api_key_revoke(struct ag_store *store, const char *id, struct ag_err *err)
{
    int rc = ag_store_exec(store, revoke_key, (void *)id, err);
    cache_drop(id);
    return rc;
}

int ag_api_key_verify(struct ag_store *store, const uint8_t hash_key[AG_SECRET_LEN],
                      const char *authorization, struct ag_apikey_rec *out, struct ag_err *err)
{
    if (!authorization || !*authorization)
        return ag_err_set(err, AG_EAUTH, "missing_api_key", "",
                          "send the API key as 'Authorization: Bearer agk_...'");
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return ag_err_set(err, AG_EAUTH, "invalid_api_key", "",
                          "the Authorization header must be 'Bearer agk_...'");
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    /* agk_ + id (1 + ID_CHARS) + _ + secret */
    size_t idlen = 1 + ID_CHARS;
    if (strncmp(tok, "agk_", 4) != 0 || strlen(tok) != 4 + idlen + 1 + SECRET_CHARS ||
        tok[4 + idlen] != '_')
        return ag_err_set(err, AG_EAUTH, "invalid_api_key", "", "malformed API key");
    char id[40];
    memcpy(id, tok + 4, idlen);
    id[idlen] = '\0';
    struct ag_apikey_rec k;
    int rc = cached_get(store, id, &k);
    if (rc == AG_ENOTFOUND)
        return ag_err_set(err, AG_EAUTH, "invalid_api_key", "", "unknown or wrong API key");
    if (rc)
        return ag_err_set(err, AG_EUNAVAIL, "store_unavailable", "", "cannot check the API key");
    uint8_t h[32];
    hash_secret(hash_key, tok + 4 + idlen + 1, h);
    int same = sodium_memcmp(h, k.hash, 32) == 0;
    sodium_memzero(h, sizeof h);
    if (!same)
        return ag_err_set(err, AG_EAUTH, "invalid_api_key", "", "unknown or wrong API key");
    if (k.revoked_at)
        return ag_err_set(err, AG_EAUTH, "revoked_api_key", "", "this API key was revoked");
    if (out)
        *out = k;
    return 0;
}
