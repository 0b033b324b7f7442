/* Threat-intelligence indicators: the one model every intel format maps to.
 *
 * An indicator is a normalised value of one type (an IP address or CIDR, a
 * domain, a URL, an email address, a phone number, a device id or a hashed
 * financial identifier) with its provenance (source, confidence, TLP marking,
 * tags) and its life span (valid_from .. valid_until). Values are normalised
 * once, here, so that the matchers, the store and every exporter agree on one
 * spelling: lower-case domains with IDN labels as punycode A-labels, canonical
 * CIDRs, E.164 phone numbers, lower-case SHA-256 hex for financial ids.
 *
 * Everything in this module is pure computation: no I/O, no global state
 * other than libsodium's random source for new ids. */
#ifndef AG_INTEL_INDICATOR_H
#define AG_INTEL_INDICATOR_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ag_intel_type {
    AG_INTEL_IPV4,      /* "203.0.113.7" or "198.51.100.0/24" */
    AG_INTEL_IPV6,      /* "2001:db8::1" or "2001:db8::/32" */
    AG_INTEL_DOMAIN,    /* matches itself and its subdomains */
    AG_INTEL_URL,       /* exact, after normalisation */
    AG_INTEL_EMAIL,     /* exact, lower-cased */
    AG_INTEL_PHONE,     /* E.164: "+4915112345678" */
    AG_INTEL_DEVICE,    /* the platform's opaque device id, exact */
    AG_INTEL_FINANCIAL, /* 64 lower-case hex chars, see ag_intel_financial_fingerprint */
    AG_INTEL_TYPE_COUNT
};

/* Traffic Light Protocol 2.0. TLP:WHITE (1.0) is read as CLEAR. */
enum ag_intel_tlp {
    AG_INTEL_TLP_CLEAR,
    AG_INTEL_TLP_GREEN,
    AG_INTEL_TLP_AMBER,
    AG_INTEL_TLP_AMBER_STRICT,
    AG_INTEL_TLP_RED,
    AG_INTEL_TLP_COUNT
};

/* Limits, in bytes, checked by validation. */
#define AG_INTEL_VALUE_MAX 2048
#define AG_INTEL_SOURCE_MAX 128
#define AG_INTEL_DESC_MAX 4096
#define AG_INTEL_TAG_MAX 128
#define AG_INTEL_TAGS_MAX 32
#define AG_INTEL_REF_MAX 256
#define AG_INTEL_ID_LEN 47 /* "indicator--" + 36-char UUID */

/* One indicator. All strings are owned by the struct (heap, freed by
 * ag_intel_indicator_free); <value> is always in normalised form once the
 * indicator has been validated. Times are ms since the epoch; 0 in
 * valid_until_ms means "no expiry". */
struct ag_intel_indicator {
    char id[AG_INTEL_ID_LEN + 1]; /* "indicator--<uuid>", lower-case */
    enum ag_intel_type type;
    char *value;
    char *source;       /* who said so: "misp:CIRCL", "feed:firehol_level1", "analyst" */
    int confidence;     /* 0..100 (STIX confidence scale) */
    int64_t valid_from_ms;
    int64_t valid_until_ms; /* 0: does not expire */
    char **tags;
    size_t ntags;
    enum ag_intel_tlp tlp;
    char *description;  /* may be NULL */
    char *external_ref; /* provenance: STIX object id, MISP attribute uuid, feed line; may be NULL */
    bool informational; /* MISP to_ids=false: matches are reported, never block */
    int64_t created_ms;
    int64_t modified_ms;
    int64_t added_ms;   /* when this server first stored it (TAXII date_added); 0 if unknown */
};

/* A growable array of indicators that owns its elements. Zero-init to use. */
struct ag_intel_list {
    struct ag_intel_indicator *items;
    size_t len, cap;
};

/* Something an import skipped, with where it was and why. */
struct ag_intel_note {
    char where[AG_INTEL_REF_MAX]; /* "indicator--…", "Attribute 3 (uuid …)", "line 12" */
    char reason[256];
};

/* The result of an import: the indicators mapped and what was skipped.
 * Zero-init; free with ag_intel_import_free. */
struct ag_intel_import {
    struct ag_intel_list list;
    struct ag_intel_note *notes;
    size_t nnotes, notes_cap;
    size_t seen; /* objects / attributes / lines looked at */
};

/* Defaults an importer applies where the input says nothing. */
struct ag_intel_import_opts {
    const char *source;     /* default source name; NULL: derived from the input */
    int confidence;         /* when the input carries none */
    enum ag_intel_tlp tlp;  /* when the input carries no TLP marking */
    int64_t now_ms;         /* created/modified/valid_from when absent */
    int64_t ttl_ms;         /* valid_until = valid_from + ttl when absent; 0: never */
};

/* Fill <o> with the defaults: source NULL, confidence 50, TLP:AMBER (nothing
 * shared further than the input's recipients unless it says so), ttl 0. */
void ag_intel_import_opts_init(struct ag_intel_import_opts *o, int64_t now_ms);

const char *ag_intel_type_name(enum ag_intel_type t);
/* Parse a type name ("ipv4", "ipv6", "domain", "url", "email", "phone",
 * "device", "financial"). Returns 0 or AG_EINVAL. */
int ag_intel_type_parse(const char *s, enum ag_intel_type *out);

/* "clear", "green", "amber", "amber+strict", "red". */
const char *ag_intel_tlp_name(enum ag_intel_tlp t);
/* Parse a TLP name, case-insensitive, with or without a "tlp:" prefix;
 * "white" is TLP 1.0 for "clear". Returns 0 or AG_EINVAL. */
int ag_intel_tlp_parse(const char *s, enum ag_intel_tlp *out);

/* Normalise <in> as a value of <type> into <out> (<outlen> bytes, at least
 * AG_INTEL_VALUE_MAX + 1 is always enough). IP addresses: canonical text
 * (inet_ntop), CIDRs with host bits cleared and "/32" or "/128" dropped;
 * IPv4-mapped IPv6 becomes IPv4. Domains: trailing dot removed, lower-case,
 * IDN labels as A-labels (libidn2, UTS#46 non-transitional). URLs: libcurl's
 * parser; scheme and host lower-cased, IDN host to A-labels, default port and
 * fragment dropped, dot segments resolved, empty path as "/"; a URL without
 * a scheme gets "http://". Email: lower-cased, domain part as for domains.
 * Phone: E.164 ("+", 8..15 digits) from text with spaces, dots, dashes,
 * parentheses or a "00" international prefix. Financial: 64 hex digits,
 * lower-cased. Device: 1..128 printable ASCII characters, kept as is.
 * Returns 0, or AG_EINVAL with <err> naming <field> and what is wrong. */
int ag_intel_value_normalize(enum ag_intel_type type, const char *in, char *out, size_t outlen,
                             const char *field, struct ag_err *err);

/* Like ag_intel_value_normalize but guesses the type of a bare value: an IP
 * or CIDR, an email address (has '@'), a URL (has "://"), a phone number
 * (starts with '+'), else a domain. Sets *type. */
int ag_intel_value_guess(const char *in, enum ag_intel_type *type, char *out, size_t outlen,
                         const char *field, struct ag_err *err);

/* The fingerprint of a bank account or payout identifier, the value of an
 * AG_INTEL_FINANCIAL indicator. <account> is normalised first: spaces, dots,
 * dashes and slashes removed, upper-cased; it must then be 4..34 characters
 * of A-Z and 0-9, and if it looks like an IBAN (two letters, two digits) its
 * ISO 13616 mod-97 check must hold. The fingerprint is the lower-case hex of
 * SHA-256(normalised) when <key> is NULL (peers can compute and share it), or
 * of HMAC-SHA-256(key, normalised) for a private keyed fingerprint. <out>
 * must hold 65 bytes. Returns 0 or AG_EINVAL. */
int ag_intel_financial_fingerprint(const char *account, const uint8_t *key, size_t keylen,
                                   char out[65], struct ag_err *err);

/* A new random id "indicator--<uuid v4>" into <out>. */
void ag_intel_id_new(char out[AG_INTEL_ID_LEN + 1]);
/* A stable id derived from <ns> and <name> (SHA-256, laid out as a v4-format
 * UUID): the same feed entry gets the same id on every fetch. */
void ag_intel_id_derive(const char *ns, const char *name, char out[AG_INTEL_ID_LEN + 1]);
/* Is <s> "<prefix>--<uuid>" with a UUID the STIX schema accepts (version
 * 1-5, RFC 4122 variant)? <prefix> NULL accepts any lower-case type. */
bool ag_intel_stix_id_valid(const char *s, const char *prefix);

/* Set every field to its empty/default value (confidence 50, TLP:AMBER). */
void ag_intel_indicator_init(struct ag_intel_indicator *ind);
/* Free what <ind> owns and re-initialise it. */
void ag_intel_indicator_free(struct ag_intel_indicator *ind);
/* Deep copy <src> into <dst> (which is overwritten, not freed). Returns 0 or
 * AG_ENOMEM (dst then owns nothing). */
int ag_intel_indicator_copy(struct ag_intel_indicator *dst, const struct ag_intel_indicator *src);

/* Setters that replace an owned string (NULL clears). Return 0 or AG_ENOMEM. */
int ag_intel_indicator_set_str(char **slot, const char *s);
/* Append a tag (duplicates ignored). Returns 0, AG_ENOMEM or AG_ELIMIT. */
int ag_intel_indicator_add_tag(struct ag_intel_indicator *ind, const char *tag);

/* Normalise <value> as <type> and store it in <ind>. Returns 0 or AG_EINVAL
 * (field "value") / AG_ENOMEM. */
int ag_intel_indicator_set_value(struct ag_intel_indicator *ind, enum ag_intel_type type,
                                 const char *value, struct ag_err *err);

/* Check every field: id format, value normalised for its type, source
 * non-empty, confidence 0..100, valid_until after valid_from, string limits,
 * tags. Returns 0 or AG_EINVAL with the field's name in err->field. */
int ag_intel_indicator_validate(const struct ag_intel_indicator *ind, struct ag_err *err);

/* Is <ind> in force at <at_ms> (valid_from <= at < valid_until)? */
bool ag_intel_indicator_live(const struct ag_intel_indicator *ind, int64_t at_ms);

/* The API's JSON shape of one indicator:
 * {"id","type","value","source","confidence","tlp","tags":[],"description",
 *  "external_ref","informational","valid_from","valid_until","created",
 *  "modified","added"} with RFC 3339 times (valid_until/added null when 0).
 * Returns a new reference or NULL on allocation failure. */
json_t *ag_intel_indicator_to_json(const struct ag_intel_indicator *ind);

/* Parse the API's JSON shape into <out> (initialised here; free it with
 * ag_intel_indicator_free even on error). "type" and "value" are required;
 * "id" is generated when absent; "source" defaults to <default_source>;
 * created/modified/valid_from default to <now_ms>. The result is normalised
 * and validated. Returns 0 or AG_EINVAL naming the field ("valid_until",
 * "tags[2]", ...). */
int ag_intel_indicator_from_json(const json_t *obj, const char *default_source, int64_t now_ms,
                                 struct ag_intel_indicator *out, struct ag_err *err);

/* Append a copy of <ind> to <list>. Returns 0 or AG_ENOMEM. */
int ag_intel_list_push_copy(struct ag_intel_list *list, const struct ag_intel_indicator *ind);
/* Append <ind> itself; <list> takes over what it owns and <ind> is
 * re-initialised. Returns 0 or AG_ENOMEM (then <ind> still owns it all). */
int ag_intel_list_push_move(struct ag_intel_list *list, struct ag_intel_indicator *ind);
void ag_intel_list_free(struct ag_intel_list *list);

/* Record a note in <imp>. Returns 0 or AG_ENOMEM. */
int ag_intel_import_note(struct ag_intel_import *imp, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ag_intel_import_free(struct ag_intel_import *imp);

#endif
