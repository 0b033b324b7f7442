/* Feed configs and the line parser for netsets and domain/URL lists. */
#include "intel/feed.h"

#include "core/json.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"netset", "domains", "urls"};

const char *ag_intel_feed_format_name(enum ag_intel_feed_format f)
{
    return (unsigned)f < AG_ARRAY_LEN(format_names) ? format_names[f] : "unknown";
}

void ag_intel_feed_config_init(struct ag_intel_feed_config *c)
{
    memset(c, 0, sizeof *c);
    c->format = AG_INTEL_FEED_NETSET;
    c->interval_ms = 3600 * 1000LL;
    c->ttl_ms = 3 * 86400 * 1000LL;
    c->confidence = 50;
    c->tlp = AG_INTEL_TLP_CLEAR;
    c->enabled = true;
    c->max_bytes = 64u << 20;
}

static int opt_int(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
                   struct ag_err *err)
{
    int rc = ag_json_int(o, key, key, min, max, false, out, err);
    return rc == AG_ENOTFOUND ? 0 : rc;
}

static int opt_bool(const json_t *o, const char *key, bool *out, struct ag_err *err)
{
    int rc = ag_json_bool(o, key, key, false, out, err);
    return rc == AG_ENOTFOUND ? 0 : rc;
}

int ag_intel_feed_config_from_json(const json_t *o, struct ag_intel_feed_config *out,
                                   struct ag_err *err)
{
    ag_intel_feed_config_init(out);
    if (!json_is_object(o))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "", "a feed config must be an object");
    const char *s;
    int rc;
    if ((rc = ag_json_str(o, "name", "name", sizeof out->name - 1, true, &s, err)))
        return rc;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("_.-", *p)))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "name",
                              "name may hold only a-z, 0-9, '_', '.' and '-'");
    snprintf(out->name, sizeof out->name, "%s", s);
    if ((rc = ag_json_str(o, "format", "format", 16, true, &s, err)))
        return rc;
    size_t f = 0;
    while (f < AG_ARRAY_LEN(format_names) && strcmp(s, format_names[f]) != 0)
        f++;
    if (f == AG_ARRAY_LEN(format_names))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "format",
                          "format must be netset, domains or urls");
    out->format = (enum ag_intel_feed_format)f;
    if ((rc = ag_json_str(o, "url", "url", sizeof out->url - 1, true, &s, err)))
        return rc;
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0 &&
        strncmp(s, "file://", 7) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "url",
                          "url must start with http://, https:// or file://");
    snprintf(out->url, sizeof out->url, "%s", s);
    int64_t v;
    v = out->interval_ms / 1000;
    if ((rc = opt_int(o, "interval_s", 60, 30LL * 86400, &v, err)))
        return rc;
    out->interval_ms = v * 1000;
    v = out->ttl_ms / 1000;
    if ((rc = opt_int(o, "ttl_s", 60, 365LL * 86400, &v, err)))
        return rc;
    out->ttl_ms = v * 1000;
    if (out->ttl_ms < out->interval_ms)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "ttl_s",
                          "ttl_s must be at least interval_s, or entries lapse between fetches");
    v = out->confidence;
    if ((rc = opt_int(o, "confidence", 0, 100, &v, err)))
        return rc;
    out->confidence = (int)v;
    rc = ag_json_str(o, "tlp", "tlp", 32, false, &s, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (rc == 0 && ag_intel_tlp_parse(s, &out->tlp))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "tlp",
                          "tlp must be clear, green, amber, amber+strict or red");
    if ((rc = opt_bool(o, "informational", &out->informational, err)) ||
        (rc = opt_bool(o, "strict", &out->strict, err)) ||
        (rc = opt_bool(o, "enabled", &out->enabled, err)))
        return rc;
    v = (int64_t)out->max_bytes;
    if ((rc = opt_int(o, "max_bytes", 1024, 1LL << 30, &v, err)))
        return rc;
    out->max_bytes = (size_t)v;
    return 0;
}

static void human_span(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms / 1000;
    if (s % 86400 == 0)
        snprintf(buf, len, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0)
        snprintf(buf, len, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(buf, len, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, len, "%llds", (long long)s);
}

json_t *ag_intel_feed_config_to_json(const struct ag_intel_feed_config *c)
{
    char iv[32], tt[32], desc[1300], source[80];
    human_span(c->interval_ms, iv, sizeof iv);
    human_span(c->ttl_ms, tt, sizeof tt);
    snprintf(desc, sizeof desc,
             "%s from %s, every %s, entries live %s, confidence %d, TLP:%s%s%s%s",
             ag_intel_feed_format_name(c->format), c->url, iv, tt, c->confidence,
             ag_intel_tlp_name(c->tlp), c->informational ? ", informational" : "",
             c->strict ? ", strict" : ", junk lines skipped", c->enabled ? "" : ", disabled");
    for (char *p = strstr(desc, "TLP:"); p && *p && *p != ','; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(source, sizeof source, "feed:%s", c->name);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:b, s:b, s:b, s:I, s:s, s:s}", "name",
                     c->name, "format", ag_intel_feed_format_name(c->format), "url", c->url,
                     "interval_s", (json_int_t)(c->interval_ms / 1000), "ttl_s",
                     (json_int_t)(c->ttl_ms / 1000), "confidence", c->confidence, "tlp",
                     ag_intel_tlp_name(c->tlp), "informational", c->informational, "strict",
                     c->strict, "enabled", c->enabled, "max_bytes", (json_int_t)c->max_bytes,
                     "source", source, "description", desc);
}

/* ---- parsing ------------------------------------------------------------ */

/* A set of 64-bit value hashes, to drop duplicate lines. */
struct seen {
    uint64_t *tab;
    size_t mask, used;
};

static int seen_add(struct seen *s, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (!s->tab || s->used * 2 >= s->mask + 1) {
        size_t cap = s->tab ? (s->mask + 1) * 2 : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; s->tab && i <= s->mask; i++) {
            if (!s->tab[i])
                continue;
            size_t j = s->tab[i] & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = s->tab[i];
        }
        free(s->tab);
        s->tab = t;
        s->mask = cap - 1;
    }
    size_t j = h & s->mask;
    while (s->tab[j]) {
        if (s->tab[j] == h)
            return 1;
        j = (j + 1) & s->mask;
    }
    s->tab[j] = h;
    s->used++;
    return 0;
}

static const char *hosts_sinks[] = {"0.0.0.0", "127.0.0.1", "::", "::1", "::0"};
static const char *hosts_self[] = {"localhost", "localhost.localdomain", "local",
                                   "broadcasthost", "ip6-localhost", "ip6-loopback", "0.0.0.0"};

int ag_intel_feed_parse(const struct ag_intel_feed_config *c, const char *text, size_t len,
                        int64_t now_ms, struct ag_intel_import *out, struct ag_err *err)
{
    struct ag_intel_import tmp = {0};
    struct seen seen = {0};
    char source[80], ns[80];
    snprintf(source, sizeof source, "feed:%s", c->name);
    snprintf(ns, sizeof ns, "feed:%s", c->name);
    size_t good = 0, junk = 0, lineno = 0;
    int rc = 0;
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '<') {
        rc = ag_err_set(err, AG_EINVAL, "wrong_format", "line 1",
                        "feed %s returned HTML, not a %s list", c->name,
                        ag_intel_feed_format_name(c->format));
        goto fail;
    }
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        char line[AG_INTEL_VALUE_MAX + 2];
        size_t ll = end - pos;
        char where[32];
        snprintf(where, sizeof where, "line %zu", lineno);
        if (ll > AG_INTEL_VALUE_MAX) {
            pos = end + 1;
            junk++;
            if (c->strict) {
                rc = ag_err_set(err, AG_EINVAL, "invalid_line", where, "%s: line too long", where);
                break;
            }
            rc = ag_intel_import_note(&tmp, where, "line too long");
            continue;
        }
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos = end + 1;
        bool has_nul = memchr(line, '\0', ll) != NULL;
        /* comments: '#' anywhere; ';' too in netsets (Spamhaus DROP) */
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        if (c->format == AG_INTEL_FEED_NETSET) {
            char *semi = strchr(line, ';');
            if (semi)
                *semi = '\0';
        }
        char *tok[3] = {0};
        int ntok = 0;
        for (char *save = NULL, *t = strtok_r(line, " \t\r\v\f", &save); t;
             t = strtok_r(NULL, " \t\r\v\f", &save)) {
            if (ntok < 3)
                tok[ntok] = t;
            ntok++;
        }
        if (ntok == 0 && !has_nul)
            continue;
        const char *value = ntok ? tok[0] : "";
        const char *why = has_nul ? "line contains NUL bytes" : NULL;
        if (why) {
            /* reported below */
        } else if (c->format == AG_INTEL_FEED_DOMAINS && ntok >= 2) {
            bool sink = false;
            for (size_t k = 0; k < AG_ARRAY_LEN(hosts_sinks); k++)
                sink |= strcmp(tok[0], hosts_sinks[k]) == 0;
            if (!sink)
                why = "expected one domain, or a hosts line \"0.0.0.0 domain\"";
            else if (ntok > 2)
                why = "unexpected text after the domain";
            value = tok[1];
            bool self = false;
            for (size_t k = 0; k < AG_ARRAY_LEN(hosts_self); k++)
                self |= strcmp(value, hosts_self[k]) == 0;
            if (self && !why)
                continue;
        } else if (ntok > 1) {
            why = "unexpected text after the value";
        }
        enum ag_intel_type type = AG_INTEL_DOMAIN;
        char norm[AG_INTEL_VALUE_MAX + 1];
        struct ag_err e = {0};
        if (!why) {
            int nrc;
            if (c->format == AG_INTEL_FEED_NETSET) {
                nrc = ag_intel_value_guess(value, &type, norm, sizeof norm, "value", &e);
                if (nrc == 0 && type != AG_INTEL_IPV4 && type != AG_INTEL_IPV6)
                    nrc = ag_err_set(&e, AG_EINVAL, "invalid_field", "value",
                                     "not an IP address or CIDR");
            } else if (c->format == AG_INTEL_FEED_DOMAINS) {
                if (strncmp(value, "*.", 2) == 0)
                    value += 2;
                else if (value[0] == '.')
                    value += 1;
                nrc = ag_intel_value_normalize(AG_INTEL_DOMAIN, value, norm, sizeof norm, "value",
                                               &e);
            } else {
                type = AG_INTEL_URL;
                nrc = ag_intel_value_normalize(AG_INTEL_URL, value, norm, sizeof norm, "value",
                                               &e);
            }
            if (nrc)
                why = e.msg;
        }
        if (why) {
            junk++;
            if (c->strict) {
                rc = ag_err_set(err, AG_EINVAL, "invalid_line", where, "%s: '%.60s': %s", where,
                                value, why);
                break;
            }
            rc = ag_intel_import_note(&tmp, where, "'%.60s': %s", value, why);
            continue;
        }
        good++;
        tmp.seen++;
        char name[AG_INTEL_VALUE_MAX + 16];
        snprintf(name, sizeof name, "%s %s", ag_intel_type_name(type), norm);
        int dup = seen_add(&seen, ag_hash_str(name));
        if (dup < 0) {
            rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            break;
        }
        if (dup)
            continue;
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        ag_intel_id_derive(ns, name, ind.id);
        ind.type = type;
        ind.confidence = c->confidence;
        ind.tlp = c->tlp;
        ind.informational = c->informational;
        ind.created_ms = ind.modified_ms = ind.valid_from_ms = now_ms;
        ind.valid_until_ms = c->ttl_ms ? now_ms + c->ttl_ms : 0;
        char xref[128];
        snprintf(xref, sizeof xref, "%s %s", source, where);
        if (ag_intel_indicator_set_str(&ind.value, norm) ||
            ag_intel_indicator_set_str(&ind.source, source) ||
            ag_intel_indicator_set_str(&ind.external_ref, xref) ||
            ag_intel_list_push_move(&tmp.list, &ind)) {
            ag_intel_indicator_free(&ind);
            rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            break;
        }
    }
    if (rc == AG_ENOMEM || (rc && rc != AG_EINVAL)) {
        if (!err || !err->msg[0])
            ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        goto fail;
    }
    if (rc)
        goto fail;
    if (junk > 10 && junk > good) {
        rc = ag_err_set(err, AG_EINVAL, "wrong_format", "",
                        "feed %s: %zu of %zu lines are not a %s list; refusing the fetch", c->name,
                        junk, junk + good, ag_intel_feed_format_name(c->format));
        goto fail;
    }
    free(seen.tab);
    *out = tmp;
    return 0;
fail:
    free(seen.tab);
    ag_intel_import_free(&tmp);
    return rc;
}
