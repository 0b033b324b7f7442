/* User-agent parsing with uap-core's regular expressions (the
 * `uap_regexes` setting, Debian's /usr/share/uap-core/regexes.yaml): browser
 * family and version, OS family and version, device family, and a device
 * type derived from those. The regexes are compiled once with PCRE2 JIT;
 * results are kept in a bounded cache keyed by the UA string's hash. */
#ifndef AG_RISK_USERAGENT_H
#define AG_RISK_USERAGENT_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

enum ag_device_type {
    AG_DEVICE_OTHER = 0,
    AG_DEVICE_DESKTOP,
    AG_DEVICE_MOBILE,
    AG_DEVICE_TABLET,
    AG_DEVICE_BOT,
};
#define AG_DEVICE_TYPE_COUNT 5

struct ag_uainfo {
    char browser[40];       /* "Chrome", "Firefox", "Other" */
    char browser_major[12]; /* "118", "" */
    char browser_minor[12];
    char os[40];            /* "Windows", "Mac OS X", "Android", "Other" */
    char os_major[12];      /* "10" */
    char os_minor[12];
    char device[40];        /* uap device family: "iPhone", "Mac", "Other" */
    enum ag_device_type device_type;
};

struct ag_useragent;

/* Load and compile the regexes from <yaml_path>; cache about <cache_entries>
 * distinct strings (0: 8192). Returns 0, or AG_EIO / AG_EINVAL / AG_ENOMEM
 * with <err> naming the file and what was wrong with it. */
int ag_useragent_open(const char *yaml_path, size_t cache_entries, struct ag_useragent **out,
                      struct ag_err *err);
void ag_useragent_close(struct ag_useragent *ua);

/* Parse <s> into <out> (never fails: unknown parts are "Other" / ""). An
 * empty string gives device type OTHER. Thread-safe. */
void ag_useragent_parse(struct ag_useragent *ua, const char *s, struct ag_uainfo *out);

/* Regexes loaded (user agent, os, device) and how many failed to compile. */
void ag_useragent_counts(const struct ag_useragent *ua, int *n_ua, int *n_os, int *n_dev,
                         int *n_failed);
void ag_useragent_stats(struct ag_useragent *ua, uint64_t *hits, uint64_t *misses, size_t *bytes);

const char *ag_device_type_name(enum ag_device_type t);
/* Parse "desktop", "mobile", "tablet", "bot", anything else -> OTHER. */
enum ag_device_type ag_device_type_parse(const char *s);

#endif
