/* The HTTP API: the route table (routes.c), authentication by API key with
 * scopes (auth.c), and one file per resource. The application state every
 * handler sees is struct ag_app. */
#ifndef AG_API_API_H
#define AG_API_API_H

#include "core/config.h"
#include "core/secret.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

struct ag_console;

struct ag_app {
    const struct ag_config *cfg;
    struct ag_store *store;
    struct ag_pipeline *pipeline;
    uint8_t apikey_key[AG_SECRET_LEN]; /* keys API key hashes */
    struct ag_console *console;        /* console sessions (api/console.h); NULL = off */
    int64_t started_at;
};

typedef void (*ag_api_handler_fn)(struct ag_app *app, struct ag_http_req *req);

struct ag_route {
    const char *method;
    const char *pattern; /* "/v1/events/{id}": {x} matches one path segment */
    const char *scope;   /* required scope; NULL = public */
    ag_api_handler_fn fn;
    const char *summary;
};

extern const struct ag_route ag_routes[];
extern const int ag_routes_count;

/* The pipeline hooks of the application (hooks.c). */
extern const struct ag_pipeline_hook ag_app_hooks[];

/* The server's dispatch callback: route, authenticate, call the handler. */
void ag_api_dispatch(void *app, struct ag_http_req *req);
/* The server's completion callback: metrics and error logs. */
void ag_api_complete(void *app, struct ag_http_req *req);

/* ---- API keys (auth.c) ---- */

/* Every scope a key may hold; "admin" grants all. */
extern const char *const ag_api_scopes[];
extern const int ag_api_scopes_count;

/* Create a key with <name> and space- or comma-separated <scopes> (each must
 * be known). Writes the full secret key "agk_<id>_<secret>" into <token>
 * (>= 96 bytes) — shown once, never stored — and the record into <out>. */
int ag_api_key_create(struct ag_store *store, const uint8_t hash_key[AG_SECRET_LEN],
                      const char *name, const char *scopes, char *token, size_t token_len,
                      struct ag_apikey_rec *out, struct ag_err *err);
int ag_api_key_revoke(struct ag_store *store, const char *id, struct ag_err *err);
/* Check "Bearer agk_..." against the store; on success fills <out>. */
int ag_api_key_verify(struct ag_store *store, const uint8_t hash_key[AG_SECRET_LEN],
                      const char *authorization, struct ag_apikey_rec *out, struct ag_err *err);
/* Does a key with <scopes> (space-separated) grant <scope>? */
bool ag_api_scope_allows(const char *scopes, const char *scope);

/* Take one request from the token bucket of <kind>:<who> refilled at
 * <per_second> (0 = unlimited). Returns false when over the limit. */
bool ag_api_rate_allow(const char *kind, const char *who, int64_t per_second);

/* ---- helpers for handlers ---- */

/* Parse the request body as a JSON object under the configured limits;
 * on failure responds 400/415 and returns NULL. */
json_t *ag_api_body_object(struct ag_app *app, struct ag_http_req *req);
/* Respond with an error from <code>, <slug>, <field> and a message. */
void ag_api_error(struct ag_http_req *req, int code, const char *slug, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Read ?limit= (default <def>, 1..<max>) and ?cursor=; responds 400 and
 * returns -1 when malformed. */
int ag_api_page_params(struct ag_http_req *req, int def, int max, int *limit, int64_t *cursor);

/* Resource handlers. */
void ag_api_healthz(struct ag_app *app, struct ag_http_req *req);
void ag_api_metrics(struct ag_app *app, struct ag_http_req *req);
void ag_api_event_types(struct ag_app *app, struct ag_http_req *req);
void ag_api_events_post(struct ag_app *app, struct ag_http_req *req);
void ag_api_events_batch(struct ag_app *app, struct ag_http_req *req);
void ag_api_events_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_account_events(struct ag_app *app, struct ag_http_req *req);
void ag_api_account_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_account_freeze(struct ag_app *app, struct ag_http_req *req);
void ag_api_account_unfreeze(struct ag_app *app, struct ag_http_req *req);
void ag_api_apikeys_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_apikeys_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_apikeys_revoke(struct ag_app *app, struct ag_http_req *req);

#endif
