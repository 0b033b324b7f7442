/* Threat intelligence in the running service: the "intel" pipeline hook
 * (the live match set, rebuilt and swapped after indicators change, the
 * enrich stage's intel_match reason and rules facts, the feed scheduler)
 * and the HTTP handlers of /v1/intel/..., /taxii2/... and /v1/messages/analyze.
 *
 * The hook's state is the intel service: handlers reach it through
 * ag_api_intel_svc(app). Indicators are written through
 * ag_api_intel_store_list, which commits them in one job (all or nothing),
 * then rebuilds the match set and waits until it is swapped in, so an event
 * submitted after the API answered sees the change. */
#ifndef AG_API_INTEL_H
#define AG_API_INTEL_H

#include "api/api.h"
#include "intel/indicator.h"
#include "intel/stix.h"

struct ag_intel_svc;

/* The pipeline hook (one row in hooks.c). */
int ag_api_intel_hook_init(struct ag_pipeline *p, const struct ag_config *cfg,
                           struct ag_store *store, void **state, struct ag_err *err);
void ag_api_intel_hook_fini(void *state);
int ag_api_intel_hook_enrich(void *state, struct ag_pipeline_event *pe);

/* The service of <app>, or NULL when the hook is not installed. */
struct ag_intel_svc *ag_api_intel_svc(struct ag_app *app);

/* Write <n> indicators (validated, normalised) in one job: each is inserted
 * or replaced by id, with added = now. *created / *updated (may be NULL) get
 * the counts. Then rebuild the match set and wait for it. Returns 0 or a
 * negative code (nothing written). */
int ag_api_intel_store_list(struct ag_intel_svc *svc, const struct ag_intel_indicator *inds,
                            size_t n, size_t *created, size_t *updated, struct ag_err *err);
/* Delete one indicator, then rebuild. AG_ENOTFOUND if none. */
int ag_api_intel_delete(struct ag_intel_svc *svc, const char *id, struct ag_err *err);
/* Read one indicator into <out> (initialised here; free it). */
int ag_api_intel_get(struct ag_intel_svc *svc, const char *id, struct ag_intel_indicator *out,
                     struct ag_err *err);
/* Ask for a rebuild; with <wait>, return once a set built after this call
 * is in place. */
void ag_api_intel_refresh(struct ag_intel_svc *svc, bool wait);
/* The installation's STIX identity id ("identity--<uuid>"), stable. */
const char *ag_api_intel_identity(struct ag_intel_svc *svc);
/* The producer for STIX exports. */
void ag_api_intel_producer(struct ag_intel_svc *svc, struct ag_intel_stix_producer *p);
/* Wake the feed scheduler (a feed was added or changed). */
void ag_api_intel_feeds_kick(struct ag_intel_svc *svc);
/* Fetch feed <name> now, synchronously, and record the outcome. Returns 0
 * when the fetch was stored, else the error (also recorded as the feed's
 * status). */
int ag_api_intel_feed_fetch(struct ag_intel_svc *svc, const char *name, struct ag_err *err);

/* Store rows to indicators (the strings copied). Returns 0 or AG_ENOMEM. */
struct ag_intel_rec;
int ag_api_intel_from_rec(const struct ag_intel_rec *r, struct ag_intel_indicator *out);

/* Handlers: /v1/intel (intel.c). */
void ag_api_intel_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_get_one(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_patch(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_delete_one(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_export_stix(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_import_stix(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_export_misp(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_import_misp(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_feeds_list(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_feeds_create(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_feeds_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_feeds_delete(struct ag_app *app, struct ag_http_req *req);
void ag_api_intel_feeds_refresh(struct ag_app *app, struct ag_http_req *req);

/* Handlers: TAXII 2.1 (taxii.c). */
void ag_api_taxii_discovery(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_api_root(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_collections(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_collection(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_objects_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_objects_post(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_object_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_object_versions(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_manifest(struct ag_app *app, struct ag_http_req *req);
void ag_api_taxii_status(struct ag_app *app, struct ag_http_req *req);

/* Handler: POST /v1/messages/analyze (messages.c). */
void ag_api_messages_analyze(struct ag_app *app, struct ag_http_req *req);

#endif
