/* STIX 2.1: indicators to bundles and back.
 *
 * Export writes one `identity` for the producer, the official TLP 2.0
 * `marking-definition` objects the indicators use (ids and extension from
 * the OASIS cti-stix-common-objects set) and one `indicator` per indicator,
 * with a STIX pattern:
 *   ipv4   [ipv4-addr:value = '203.0.113.7'] / [ipv4-addr:value = '198.51.100.0/24']
 *   ipv6   [ipv6-addr:value = '2001:db8::/32']
 *   domain [domain-name:value = 'example.com']
 *   url    [url:value = 'http://example.com/login']
 *   email  [email-addr:value = 'mule@example.com']
 * and, for the types STIX has no cyber-observable for, custom observable
 * types (allowed in patterns; the pattern property is a plain string to the
 * schemas):
 *   phone      [x-accountguard-phone-number:value = '+4915112345678']
 *   device     [x-accountguard-device:value = 'd_9f3a']
 *   financial  [x-accountguard-account-fingerprint:value = '<sha256 hex>']
 * What STIX has no property for travels in custom properties:
 * x_accountguard_type, x_accountguard_source, x_accountguard_informational.
 *
 * Import is all-or-nothing on structure and lenient on content: a payload
 * that is not JSON, not a bundle (or a TAXII envelope, or one STIX object),
 * or has an object with a bad id, a bad timestamp or an indicator without its
 * required properties is rejected with an error naming the field
 * ("objects[3].valid_from") and nothing is returned. Otherwise every
 * indicator whose pattern is a comparison `=` (or IN, or ISSUBSET for IP
 * ranges) on a supported object path, or an OR of such, becomes indicators;
 * everything else (other object types, AND, FOLLOWEDBY, qualifiers, MATCHES,
 * LIKE, other pattern languages, values that fail normalisation) is reported
 * in the import's notes with the object id and the reason. */
#ifndef AG_INTEL_STIX_H
#define AG_INTEL_STIX_H

#include "core/err.h"
#include "intel/indicator.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define AG_INTEL_STIX_MEDIA_TYPE "application/stix+json;version=2.1"
#define AG_INTEL_STIX_TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/* Who produced an export: becomes the bundle's `identity` object and every
 * indicator's created_by_ref. */
struct ag_intel_stix_producer {
    const char *identity_id;    /* "identity--<uuid>", stable for this installation */
    const char *name;           /* "accountguard (Example Marketplace)" */
    const char *identity_class; /* "organization" when NULL */
    int64_t created_ms;         /* the identity's created/modified */
};

/* The TLP 2.0 marking-definition id for <tlp>. */
const char *ag_intel_stix_tlp_id(enum ag_intel_tlp tlp);
/* Map a marking-definition id (TLP 2.0 or TLP 1.0) to a TLP level. Returns
 * 0, or AG_ENOTFOUND if it is not a TLP marking. */
int ag_intel_stix_tlp_from_id(const char *id, enum ag_intel_tlp *out);

/* The STIX pattern for <ind> into <buf>, quoting the value per the
 * patterning grammar ('\'' and '\\' escaped). Returns 0, or AG_ELIMIT if
 * <len> is too small. */
int ag_intel_stix_pattern(const struct ag_intel_indicator *ind, char *buf, size_t len);

/* The STIX objects, each a new reference (NULL on allocation failure). */
json_t *ag_intel_stix_identity(const struct ag_intel_stix_producer *p);
json_t *ag_intel_stix_tlp_marking(enum ag_intel_tlp tlp);
json_t *ag_intel_stix_indicator(const struct ag_intel_indicator *ind, const char *identity_id);

/* A bundle {"type":"bundle","id":"bundle--<random uuid>","objects":[...]}
 * holding the producer's identity, the TLP markings in use and one
 * indicator object per element of <inds>. Returns a new reference, or NULL
 * with <err> set (AG_ENOMEM, or AG_EINVAL if an indicator's pattern does not
 * fit). */
json_t *ag_intel_stix_bundle_export(const struct ag_intel_indicator *inds, size_t n,
                                    const struct ag_intel_stix_producer *p, struct ag_err *err);

/* One comparison of a parsed pattern: either mapped to an indicator type
 * and normalised value, or not, with the reason. */
struct ag_intel_stix_term {
    int supported;            /* 1: type/value are set */
    enum ag_intel_type type;
    char *value;              /* normalised; NULL when unsupported */
    char reason[200];         /* why not, when unsupported */
};

/* Parse a STIX 2.1 pattern and map it to terms (see the header comment for
 * what maps). On success *terms is an array of *n terms (free with
 * ag_intel_stix_terms_free) and 0 is returned; a pattern that does not
 * parse gives AG_EINVAL and a message with the byte offset. */
int ag_intel_stix_pattern_map(const char *pattern, struct ag_intel_stix_term **terms, size_t *n,
                              struct ag_err *err);
void ag_intel_stix_terms_free(struct ag_intel_stix_term *terms, size_t n);

/* Import the STIX JSON text <buf> (<len> bytes): a bundle, a TAXII envelope
 * ({"objects": [...]}) or a single STIX object. <out> must be zeroed;
 * on success it holds the indicators (validated) and the notes. On failure
 * <out> stays empty and <err> names the offending field. <opts> supplies the
 * defaults (source, confidence, TLP, ttl) where an object has none; the
 * source is otherwise x_accountguard_source, or "stix:" + the name of the
 * identity in created_by_ref when the bundle holds it. */
int ag_intel_stix_import(const char *buf, size_t len, const struct ag_intel_import_opts *opts,
                         struct ag_intel_import *out, struct ag_err *err);

/* The same over parsed JSON (an array of STIX objects), for TAXII's "add
 * objects" whose envelope the caller has already parsed. <path> prefixes
 * field names in errors ("objects"). */
int ag_intel_stix_objects_import(const json_t *objects, const char *path,
                                 const struct ag_intel_import_opts *opts,
                                 struct ag_intel_import *out, struct ag_err *err);

/* Is <s> a STIX timestamp ("YYYY-MM-DDTHH:MM:SS[.s+]Z")? Sets *ms. */
int ag_intel_stix_time_parse(const char *s, int64_t *ms);
/* Format <ms> as a STIX timestamp with milliseconds into <buf> (>= 32). */
void ag_intel_stix_time_format(int64_t ms, char *buf, size_t len);

#endif
