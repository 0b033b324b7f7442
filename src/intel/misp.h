/* MISP event JSON: indicators to an event and attributes back.
 *
 * Import accepts {"Event": {...}}, a list of those, {"response": [...]}
 * (restSearch on events) and {"response": {"Attribute": [...]}} (restSearch
 * on attributes). Attribute types map as follows:
 *   ip-src, ip-dst, ip-src|port, ip-dst|port   -> ipv4 / ipv6 (port dropped)
 *   domain, hostname, hostname|port            -> domain
 *   domain|ip                                  -> domain and ipv4/ipv6
 *   url                                        -> url
 *   email, email-src, email-dst, email-reply-to, whois-registrant-email -> email
 *   phone-number, whois-registrant-phone       -> phone
 *   iban, bank-account-nr                      -> financial (fingerprinted here:
 *                                                 plain SHA-256, never stored raw)
 *   text/other tagged accountguard:type="device"|"financial" -> device / financial
 * Everything else is reported as a note. to_ids=false imports as an
 * informational indicator: it is matched and shown as context but never
 * blocks on its own. Tags: tlp:* sets the TLP (the attribute's, else the
 * event's; the strictest wins), the accountguard:* machine tags carry what
 * MISP has no field for (confidence, valid-until, source, type); other tags
 * become indicator tags. first_seen is valid_from; comment is the
 * description; the attribute uuid becomes the indicator id.
 *
 * Like the STIX import, structure errors (not JSON, an Attribute without a
 * type or value, a bad uuid or timestamp) reject the whole document with the
 * field's path ("Event.Attribute[3].value") and nothing is imported. */
#ifndef AG_INTEL_MISP_H
#define AG_INTEL_MISP_H

#include "core/err.h"
#include "intel/indicator.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct ag_intel_misp_event_opts {
    const char *uuid;     /* event uuid; NULL: random */
    const char *info;     /* event title; NULL: "accountguard indicators" */
    const char *org_name; /* Orgc.name; NULL: "accountguard" */
    int64_t date_ms;      /* event date and timestamp */
};

/* One MISP event {"Event": {..., "Attribute": [...]}} with one attribute per
 * indicator. Returns a new reference, or NULL with <err> set. */
json_t *ag_intel_misp_event_export(const struct ag_intel_indicator *inds, size_t n,
                                   const struct ag_intel_misp_event_opts *o, struct ag_err *err);

/* Import MISP JSON text (see above). <out> must be zeroed; it is filled only
 * on success. Returns 0 or AG_EINVAL / AG_ENOMEM with <err> set. */
int ag_intel_misp_import(const char *buf, size_t len, const struct ag_intel_import_opts *opts,
                         struct ag_intel_import *out, struct ag_err *err);

#endif
