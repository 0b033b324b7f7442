/* Plain-text intel feeds: FireHOL-style netsets and domain or URL lists.
 *
 * A feed is described by a config (name, format, where to fetch it, how
 * often, how long its entries live, the confidence and TLP they get); the
 * integrator fetches the text on schedule (libcurl, or a file) and hands it
 * to ag_intel_feed_parse, which turns it into indicators:
 *   netset   one IPv4/IPv6 address or CIDR per line ("# comment" and
 *            "; comment" tails allowed, as in FireHOL and Spamhaus DROP)
 *   domains  one domain per line, or hosts-file lines ("0.0.0.0 evil.example");
 *            a leading "*." or "." is dropped (subdomains match anyway)
 *   urls     one URL per line
 * Blank lines and comment lines are ignored. Each entry gets a stable id
 * derived from (feed name, type, value), so a re-fetch updates the same
 * indicators, valid_from = now and valid_until = now + ttl: an entry that
 * disappears from the feed expires by itself one ttl later.
 *
 * Junk lines: by default skipped and reported (a note "line N: reason"),
 * because one bad line should not stop a 50,000-line blocklist. With
 * <strict> the first junk line rejects the whole fetch. Either way a fetch
 * that is mostly junk (more junk than good lines, past 10 junk lines), or
 * that is an HTML page (a portal's error page served with 200), is rejected
 * whole: that is the wrong file, not a few typos. */
#ifndef AG_INTEL_FEED_H
#define AG_INTEL_FEED_H

#include "core/err.h"
#include "intel/indicator.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ag_intel_feed_format { AG_INTEL_FEED_NETSET, AG_INTEL_FEED_DOMAINS, AG_INTEL_FEED_URLS };

struct ag_intel_feed_config {
    char name[64];       /* [a-z0-9_.-]+; source becomes "feed:<name>" */
    enum ag_intel_feed_format format;
    char url[1024];      /* http://, https:// or file:// */
    int64_t interval_ms; /* how often to fetch; >= 60 s */
    int64_t ttl_ms;      /* entry lifetime; >= interval (else entries lapse between fetches) */
    int confidence;
    enum ag_intel_tlp tlp;
    bool informational;  /* entries never block on their own */
    bool strict;         /* reject the fetch on the first junk line */
    bool enabled;
    size_t max_bytes;    /* largest fetch accepted; the fetcher enforces it */
};

/* Defaults: netset, every hour, ttl 3 days, confidence 50, TLP:CLEAR
 * (public lists), lenient, enabled, 64 MiB. */
void ag_intel_feed_config_init(struct ag_intel_feed_config *c);

/* Read a config from JSON {"name","format":"netset|domains|urls","url",
 * "interval_s","ttl_s","confidence","tlp","informational","strict",
 * "enabled","max_bytes"}; only name, format and url are required. Returns 0
 * or AG_EINVAL naming the field. */
int ag_intel_feed_config_from_json(const json_t *o, struct ag_intel_feed_config *out,
                                   struct ag_err *err);
/* The config as JSON in the same shape, plus "source" and a human
 * "description" ("netset from https://..., every 1h, entries live 3d").
 * Returns a new reference or NULL. */
json_t *ag_intel_feed_config_to_json(const struct ag_intel_feed_config *c);

const char *ag_intel_feed_format_name(enum ag_intel_feed_format f);

/* Parse <len> bytes of feed text fetched at <now_ms> into <out> (zeroed;
 * filled only on success). Returns 0, or AG_EINVAL with err->field "line N"
 * (strict, or a wrong-format fetch), or AG_ENOMEM. */
int ag_intel_feed_parse(const struct ag_intel_feed_config *c, const char *text, size_t len,
                        int64_t now_ms, struct ag_intel_import *out, struct ag_err *err);

#endif
