/* TAXII 2.1 resources as pure functions, so the HTTP server is a thin layer:
 * it authenticates, checks the Accept header with ag_intel_taxii_accept_ok,
 * reads the query parameters into a filter, calls a builder over the
 * collection's indicators and sends the JSON with the media type and the
 * X-TAXII-Date-Added-First/Last headers the page reports.
 *
 * Endpoints (TAXII 2.1, OASIS Standard, section 4 and 5) and builders:
 *   GET /taxii2/                                  ag_intel_taxii_discovery
 *   GET /{api-root}/                              ag_intel_taxii_api_root
 *   GET /{api-root}/collections/                  ag_intel_taxii_collections
 *   GET /{api-root}/collections/{id}/             ag_intel_taxii_collection
 *   GET /{api-root}/collections/{id}/objects/     ag_intel_taxii_objects   (envelope)
 *   GET /{api-root}/collections/{id}/manifest/    ag_intel_taxii_manifest
 *   GET .../objects/{object-id}/                  ag_intel_taxii_objects with match_id
 *   GET .../objects/{object-id}/versions/         ag_intel_taxii_versions
 *   POST .../objects/                             ag_intel_stix_objects_import, then
 *                                                 ag_intel_taxii_status
 *   errors                                        ag_intel_taxii_error
 *
 * Pagination: objects are ordered by (date added, id); a page holds at most
 * <limit> of them (capped at AG_INTEL_TAXII_PAGE_MAX); when more remain the
 * response has "more": true and an opaque "next" cursor naming the last
 * object returned, which the client sends back with the same filters. The
 * cursor is a position, not an offset, so objects added meanwhile are not
 * skipped or repeated. added_after keeps objects added strictly after the
 * given time. The date added is the indicator's added_ms (its created time
 * when the store has not set one). Each indicator has exactly one version
 * (its modified time), so match[version]=first|last|all all select it. */
#ifndef AG_INTEL_TAXII_H
#define AG_INTEL_TAXII_H

#include "core/err.h"
#include "intel/indicator.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_INTEL_TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define AG_INTEL_TAXII_PAGE_MAX 1000
#define AG_INTEL_TAXII_CURSOR_MAX 64

struct ag_intel_taxii_server {
    const char *title;
    const char *description;      /* may be NULL */
    const char *contact;          /* may be NULL */
    const char *default_api_root; /* URL; may be NULL */
    const char *const *api_roots; /* URLs */
    size_t n_api_roots;
};

struct ag_intel_taxii_api_root {
    const char *title;
    const char *description; /* may be NULL */
    int64_t max_content_length;
};

struct ag_intel_taxii_collection {
    const char *id; /* a UUID */
    const char *title;
    const char *description; /* may be NULL */
    const char *alias;       /* may be NULL */
    bool can_read, can_write;
};

/* The URL query of a GET objects/manifest request. The match strings are
 * borrowed (comma-separated lists as sent) and must outlive the filter. */
struct ag_intel_taxii_filter {
    int64_t added_after_ms; /* -1: no filter */
    size_t limit;           /* 1..PAGE_MAX */
    char next[AG_INTEL_TAXII_CURSOR_MAX]; /* "" on the first page */
    const char *match_id, *match_type, *match_version, *match_spec_version;
};

/* One page: the body (envelope or manifest) and what the headers need. */
struct ag_intel_taxii_page {
    json_t *body;
    size_t count;
    bool more;
    char next[AG_INTEL_TAXII_CURSOR_MAX];
    char date_added_first[40], date_added_last[40]; /* "" when the page is empty */
};

/* Does an Accept header allow the TAXII 2.1 media type? Accepts
 * "application/taxii+json;version=2.1" and the version-less form, alone or
 * in a list, with any spacing. A NULL header is accepted. */
bool ag_intel_taxii_accept_ok(const char *accept);

json_t *ag_intel_taxii_discovery(const struct ag_intel_taxii_server *s);
json_t *ag_intel_taxii_api_root(const struct ag_intel_taxii_api_root *r);
json_t *ag_intel_taxii_collection(const struct ag_intel_taxii_collection *c);
json_t *ag_intel_taxii_collections(const struct ag_intel_taxii_collection *cs, size_t n);
/* {"title","description","http_status":"<status>"}; description may be NULL. */
json_t *ag_intel_taxii_error(const char *title, const char *description, int http_status);
/* A status resource for an add-objects request that has finished:
 * successes are the ids of the indicators imported, failures the import's
 * notes (object id and reason). */
json_t *ag_intel_taxii_status(const char *status_id, int64_t request_ms, size_t total_objects,
                              const struct ag_intel_import *imp);

/* Read the query parameters (each NULL when absent): added_after (a STIX
 * timestamp), limit (1.., capped at PAGE_MAX, default PAGE_MAX), next (a
 * cursor from a previous page) and the match[...] filters. Returns 0 or
 * AG_EINVAL naming the parameter. */
int ag_intel_taxii_filter_parse(const char *added_after, const char *limit, const char *next,
                                const char *match_id, const char *match_type,
                                const char *match_version, const char *match_spec_version,
                                struct ag_intel_taxii_filter *out, struct ag_err *err);

/* The objects envelope {"more","next","objects":[STIX indicators]} for the
 * <n> indicators of a collection under filter <f>; created_by_ref is
 * <identity_id> (may be NULL). Fills <out>; the caller owns out->body.
 * Returns 0, AG_EINVAL for a cursor that is not ours, or AG_ENOMEM. */
int ag_intel_taxii_objects(const struct ag_intel_indicator *inds, size_t n,
                           const struct ag_intel_taxii_filter *f, const char *identity_id,
                           struct ag_intel_taxii_page *out, struct ag_err *err);

/* The manifest {"more","next","objects":[{id,date_added,version,media_type}]}
 * with the same selection and paging as ag_intel_taxii_objects. */
int ag_intel_taxii_manifest(const struct ag_intel_indicator *inds, size_t n,
                            const struct ag_intel_taxii_filter *f, struct ag_intel_taxii_page *out,
                            struct ag_err *err);

/* {"more":false,"versions":[...]} for <object_id>. Returns 0, AG_ENOTFOUND
 * if the collection has no such object, or AG_ENOMEM. */
int ag_intel_taxii_versions(const struct ag_intel_indicator *inds, size_t n,
                            const char *object_id, const struct ag_intel_taxii_filter *f,
                            struct ag_intel_taxii_page *out, struct ag_err *err);

/* A TAXII timestamp with microseconds ("2026-01-01T00:00:00.123000Z"). */
void ag_intel_taxii_time_format(int64_t ms, char *buf, size_t len);

#endif
