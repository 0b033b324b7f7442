/* Indicators: value normalisation per type, validation with field names,
 * identifiers, the financial fingerprint and the API's JSON shape. */
#include "intel/indicator.h"

#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/ip.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <idn2.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const type_names[AG_INTEL_TYPE_COUNT] = {
    [AG_INTEL_IPV4] = "ipv4",     [AG_INTEL_IPV6] = "ipv6",   [AG_INTEL_DOMAIN] = "domain",
    [AG_INTEL_URL] = "url",       [AG_INTEL_EMAIL] = "email", [AG_INTEL_PHONE] = "phone",
    [AG_INTEL_DEVICE] = "device", [AG_INTEL_FINANCIAL] = "financial",
};

static const char *const tlp_names[AG_INTEL_TLP_COUNT] = {
    [AG_INTEL_TLP_CLEAR] = "clear",
    [AG_INTEL_TLP_GREEN] = "green",
    [AG_INTEL_TLP_AMBER] = "amber",
    [AG_INTEL_TLP_AMBER_STRICT] = "amber+strict",
    [AG_INTEL_TLP_RED] = "red",
};

const char *ag_intel_type_name(enum ag_intel_type t)
{
    return (unsigned)t < AG_INTEL_TYPE_COUNT ? type_names[t] : "unknown";
}

int ag_intel_type_parse(const char *s, enum ag_intel_type *out)
{
    for (int i = 0; i < AG_INTEL_TYPE_COUNT; i++)
        if (s && strcmp(s, type_names[i]) == 0) {
            *out = (enum ag_intel_type)i;
            return 0;
        }
    return AG_EINVAL;
}

const char *ag_intel_tlp_name(enum ag_intel_tlp t)
{
    return (unsigned)t < AG_INTEL_TLP_COUNT ? tlp_names[t] : "unknown";
}

int ag_intel_tlp_parse(const char *s, enum ag_intel_tlp *out)
{
    if (!s)
        return AG_EINVAL;
    if (strncasecmp(s, "tlp:", 4) == 0)
        s += 4;
    if (strcasecmp(s, "white") == 0) {
        *out = AG_INTEL_TLP_CLEAR;
        return 0;
    }
    for (int i = 0; i < AG_INTEL_TLP_COUNT; i++)
        if (strcasecmp(s, tlp_names[i]) == 0) {
            *out = (enum ag_intel_tlp)i;
            return 0;
        }
    return AG_EINVAL;
}

void ag_intel_import_opts_init(struct ag_intel_import_opts *o, int64_t now_ms)
{
    memset(o, 0, sizeof *o);
    o->confidence = 50;
    o->tlp = AG_INTEL_TLP_AMBER;
    o->now_ms = now_ms;
}

/* ---- value normalisation ------------------------------------------------ */

static int copy_out(const char *s, char *out, size_t outlen, const char *field,
                    struct ag_err *err)
{
    size_t n = strlen(s);
    if (n >= outlen || n > AG_INTEL_VALUE_MAX)
        return ag_err_set(err, AG_EINVAL, "field_too_long", field,
                          "%s is longer than %d bytes once normalised", field,
                          AG_INTEL_VALUE_MAX);
    memcpy(out, s, n + 1);
    return 0;
}

static bool has_space_or_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int ip_normalize(enum ag_intel_type want, const char *in, char *out, size_t outlen,
                        enum ag_intel_type *got, const char *field, struct ag_err *err)
{
    struct ag_intel_prefix p;
    if (ag_intel_prefix_parse(in, &p) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s is not an IP address or CIDR (\"%.60s\")", field, in);
    enum ag_intel_type t = p.is_v4 ? AG_INTEL_IPV4 : AG_INTEL_IPV6;
    if (want != t && (want == AG_INTEL_IPV4 || want == AG_INTEL_IPV6) && !got)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s is an %s address but the type is %s", field,
                          p.is_v4 ? "IPv4" : "IPv6", type_names[want]);
    if (got)
        *got = t;
    char buf[64];
    ag_intel_prefix_format(&p, buf, sizeof buf);
    return copy_out(buf, out, outlen, field, err);
}

static bool is_dotted_v4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

/* Lower-case/IDNA <in> into <out> and check the LDH shape of every label
 * (underscores allowed: they occur in real host names). */
static int domain_normalize(const char *in, char *out, size_t outlen, const char *field,
                            struct ag_err *err)
{
    char tmp[AG_INTEL_VALUE_MAX + 1];
    size_t n = strlen(in);
    if (n == 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s is empty", field);
    if (n > AG_INTEL_VALUE_MAX)
        return ag_err_set(err, AG_EINVAL, "field_too_long", field, "%s is too long", field);
    memcpy(tmp, in, n + 1);
    if (tmp[n - 1] == '.')
        tmp[--n] = '\0';
    if (has_space_or_ctl(tmp))
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s contains spaces or control characters", field);
    bool ascii = true, ace = false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tmp[i] >= 0x80)
            ascii = false;
    for (char *p = tmp; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strstr(tmp, "xn--"))
        ace = true;
    char *conv = NULL;
    const char *d = tmp;
    if (!ascii || ace) {
        int rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&conv,
                                IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
        if (rc != IDN2_OK)
            return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                              "%s is not a valid internationalised domain name: %s", field,
                              idn2_strerror(rc));
        d = conv;
    }
    size_t len = strlen(d);
    int rc = 0;
    if (len == 0 || len > 253) {
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", field,
                        "%s must be 1 to 253 characters long", field);
        goto done;
    }
    const char *label = d;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t ll = (size_t)(p - label);
            if (ll == 0 || ll > 63) {
                rc = ag_err_set(err, AG_EINVAL, "invalid_field", field,
                                "%s has an empty label or one longer than 63 characters",
                                field);
                goto done;
            }
            if (label[0] == '-' || p[-1] == '-') {
                rc = ag_err_set(err, AG_EINVAL, "invalid_field", field,
                                "%s has a label that starts or ends with '-'", field);
                goto done;
            }
            if (*p == '\0')
                break;
            label = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            rc = ag_err_set(err, AG_EINVAL, "invalid_field", field,
                            "%s contains '%c', which is not allowed in a domain name", field, c);
            goto done;
        }
    }
    if (is_dotted_v4(d)) {
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", field,
                        "%s is an IP address, not a domain", field);
        goto done;
    }
    rc = copy_out(d, out, outlen, field, err);
done:
    free(conv);
    return rc;
}

static int email_normalize(const char *in, char *out, size_t outlen, const char *field,
                           struct ag_err *err)
{
    const char *at = strrchr(in, '@');
    if (!at || at == in || !at[1])
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s is not an email address (local@domain)", field);
    size_t ll = (size_t)(at - in);
    if (ll > 64)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s has a local part longer than 64 characters", field);
    char local[65];
    for (size_t i = 0; i < ll; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\"\\@", c))
            return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                              "%s has a character not allowed in an address's local part",
                              field);
        local[i] = (char)tolower(c);
    }
    local[ll] = '\0';
    char dom[AG_INTEL_VALUE_MAX + 1];
    int rc = domain_normalize(at + 1, dom, sizeof dom, field, err);
    if (rc)
        return rc;
    if (ll + 1 + strlen(dom) > 254)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s is longer than 254 characters", field);
    if (ll + 2 + strlen(dom) > outlen)
        return ag_err_set(err, AG_EINVAL, "field_too_long", field, "%s is too long", field);
    snprintf(out, outlen, "%s@%s", local, dom);
    return 0;
}

static int phone_normalize(const char *in, char *out, size_t outlen, const char *field,
                           struct ag_err *err)
{
    const char *p = in;
    while (*p == ' ')
        p++;
    if (*p == '+')
        p++;
    else if (p[0] == '0' && p[1] == '0')
        p += 2;
    else
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s must be in international format: '+' and the country code",
                          field);
    char digits[16];
    size_t n = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n >= 15)
                return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                                  "%s has more than 15 digits (E.164)", field);
            digits[n++] = *p;
        } else if (!strchr(" -.()/", *p)) {
            return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                              "%s contains '%c', which is not part of a phone number", field,
                              *p);
        }
    }
    if (n < 7)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s has fewer than 7 digits", field);
    if (digits[0] == '0')
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s: a country code cannot start with 0", field);
    if (n + 2 > outlen)
        return ag_err_set(err, AG_EINVAL, "field_too_long", field, "%s is too long", field);
    out[0] = '+';
    memcpy(out + 1, digits, n);
    out[n + 1] = '\0';
    return 0;
}

static int url_normalize_once(const char *in, char *out, size_t outlen, const char *field,
                              struct ag_err *err)
{
    if (has_space_or_ctl(in))
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s contains spaces or control characters", field);
    size_t n = strlen(in);
    if (n == 0 || n > AG_INTEL_VALUE_MAX)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s must be 1 to %d bytes long", field, AG_INTEL_VALUE_MAX);
    char tmp[AG_INTEL_VALUE_MAX + 8];
    if (!strstr(in, "://"))
        snprintf(tmp, sizeof tmp, "http://%s", in);
    else
        snprintf(tmp, sizeof tmp, "%s", in);
    CURLU *h = curl_url();
    if (!h)
        return ag_err_set(err, AG_ENOMEM, NULL, field, "out of memory");
    char *host = NULL, *url = NULL;
    int rc = 0;
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, tmp, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s is not a valid URL: %s",
                        field, curl_url_strerror(uc));
        goto done;
    }
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s has no host", field);
        goto done;
    }
    char hbuf[AG_INTEL_VALUE_MAX + 1];
    if (host[0] == '[') {
        /* IPv6 literal: canonical text inside the brackets. */
        char lit[64];
        size_t hl = strlen(host);
        if (hl < 3 || hl - 2 >= sizeof lit || host[hl - 1] != ']') {
            rc = ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s has a bad IPv6 host",
                            field);
            goto done;
        }
        memcpy(lit, host + 1, hl - 2);
        lit[hl - 2] = '\0';
        char *pct = strchr(lit, '%'); /* zone id: not meaningful in an indicator */
        if (pct)
            *pct = '\0';
        struct in6_addr a6;
        char canon[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, lit, &a6) != 1 ||
            !inet_ntop(AF_INET6, &a6, canon, sizeof canon)) {
            rc = ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s has a bad IPv6 host",
                            field);
            goto done;
        }
        snprintf(hbuf, sizeof hbuf, "[%s]", canon);
    } else if (is_dotted_v4(host)) {
        snprintf(hbuf, sizeof hbuf, "%s", host);
    } else {
        char path[AG_INTEL_VALUE_MAX + 16];
        snprintf(path, sizeof path, "%s host", field);
        rc = domain_normalize(host, hbuf, sizeof hbuf, path, err);
        if (rc)
            goto done;
    }
    if (curl_url_set(h, CURLUPART_HOST, hbuf, 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_URL, &url, CURLU_NO_DEFAULT_PORT) != CURLUE_OK) {
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s is not a valid URL", field);
        goto done;
    }
    rc = copy_out(url, out, outlen, field, err);
done:
    curl_free(host);
    curl_free(url);
    curl_url_cleanup(h);
    return rc;
}

/* Normalization must be a fixed point (normalizing a normalized URL changes
 * nothing), or an indicator would not match the same URL seen in an event.
 * One pass is not always enough: libcurl reads "http://1./" with the host
 * "1.", which becomes "1" once its trailing dot goes, and "1" as a host is
 * the IPv4 address 0.0.0.1 on the next read. So normalize until it stops
 * changing (twice more at most), or refuse the URL. */
static int url_normalize(const char *in, char *out, size_t outlen, const char *field,
                         struct ag_err *err)
{
    int rc = url_normalize_once(in, out, outlen, field, err);
    for (int i = 0; !rc && i < 3; i++) {
        char again[AG_INTEL_VALUE_MAX + 8];
        if ((rc = url_normalize_once(out, again, sizeof again, field, err)))
            return rc;
        if (!strcmp(again, out))
            return 0;
        if (strlen(again) >= outlen)
            return ag_err_set(err, AG_EINVAL, "invalid_field", field, "%s is too long", field);
        memcpy(out, again, strlen(again) + 1);
    }
    if (!rc)
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", field,
                        "%s does not normalize to a stable form", field);
    return rc;
}

static int device_normalize(const char *in, char *out, size_t outlen, const char *field,
                            struct ag_err *err)
{
    size_t n = strlen(in);
    if (n == 0 || n > 128)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s must be 1 to 128 characters long", field);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in[i] <= 0x20 || (unsigned char)in[i] >= 0x7f)
            return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                              "%s must be printable ASCII without spaces", field);
    return copy_out(in, out, outlen, field, err);
}

static int financial_normalize(const char *in, char *out, size_t outlen, const char *field,
                               struct ag_err *err)
{
    size_t n = strlen(in);
    if (n != 64 || outlen < 65)
        return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                          "%s must be a SHA-256 fingerprint: 64 hex digits", field);
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)in[i]))
            return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                              "%s must be a SHA-256 fingerprint: 64 hex digits", field);
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    out[n] = '\0';
    return 0;
}

int ag_intel_value_normalize(enum ag_intel_type type, const char *in, char *out, size_t outlen,
                             const char *field, struct ag_err *err)
{
    if (!field)
        field = "value";
    if (!in)
        return ag_err_set(err, AG_EINVAL, "missing_field", field, "%s is required", field);
    if (strlen(in) > AG_INTEL_VALUE_MAX)
        return ag_err_set(err, AG_EINVAL, "field_too_long", field,
                          "%s is longer than %d bytes", field, AG_INTEL_VALUE_MAX);
    switch (type) {
    case AG_INTEL_IPV4:
    case AG_INTEL_IPV6:
        return ip_normalize(type, in, out, outlen, NULL, field, err);
    case AG_INTEL_DOMAIN:
        return domain_normalize(in, out, outlen, field, err);
    case AG_INTEL_URL:
        return url_normalize(in, out, outlen, field, err);
    case AG_INTEL_EMAIL:
        return email_normalize(in, out, outlen, field, err);
    case AG_INTEL_PHONE:
        return phone_normalize(in, out, outlen, field, err);
    case AG_INTEL_DEVICE:
        return device_normalize(in, out, outlen, field, err);
    case AG_INTEL_FINANCIAL:
        return financial_normalize(in, out, outlen, field, err);
    default:
        return ag_err_set(err, AG_EINVAL, "invalid_field", "type", "unknown indicator type");
    }
}

int ag_intel_value_guess(const char *in, enum ag_intel_type *type, char *out, size_t outlen,
                         const char *field, struct ag_err *err)
{
    if (!field)
        field = "value";
    struct ag_intel_prefix p;
    if (ag_intel_prefix_parse(in, &p) == 0)
        return ip_normalize(AG_INTEL_TYPE_COUNT, in, out, outlen, type, field, err);
    if (strstr(in, "://"))
        *type = AG_INTEL_URL;
    else if (strchr(in, '@'))
        *type = AG_INTEL_EMAIL;
    else if (in[0] == '+')
        *type = AG_INTEL_PHONE;
    else
        *type = AG_INTEL_DOMAIN;
    return ag_intel_value_normalize(*type, in, out, outlen, field, err);
}

/* ---- financial fingerprint ---------------------------------------------- */

static bool iban_check(const char *s)
{
    size_t n = strlen(s);
    if (n < 15)
        return false;
    unsigned rem = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[(k + 4) % n];
        if (c >= '0' && c <= '9')
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    return rem == 1;
}

int ag_intel_financial_fingerprint(const char *account, const uint8_t *key, size_t keylen,
                                   char out[65], struct ag_err *err)
{
    char norm[40];
    size_t n = 0;
    for (const char *p = account ? account : ""; *p; p++) {
        if (strchr(" .-/", *p))
            continue;
        char c = (char)toupper((unsigned char)*p);
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "account",
                              "account contains '%c'; only letters and digits are allowed",
                              *p);
        if (n >= 34)
            return ag_err_set(err, AG_EINVAL, "invalid_field", "account",
                              "account is longer than 34 characters");
        norm[n++] = c;
    }
    norm[n] = '\0';
    if (n < 4)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account",
                          "account is shorter than 4 characters");
    bool ibanish = isalpha((unsigned char)norm[0]) && isalpha((unsigned char)norm[1]) &&
                   isdigit((unsigned char)norm[2]) && isdigit((unsigned char)norm[3]);
    if (ibanish && !iban_check(norm))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account",
                          "account looks like an IBAN but its check digits are wrong");
    uint8_t h[32];
    if (key) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, keylen);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)norm, n);
        crypto_auth_hmacsha256_final(&st, h);
        sodium_memzero(&st, sizeof st);
    } else {
        crypto_hash_sha256(h, (const uint8_t *)norm, n);
    }
    sodium_memzero(norm, sizeof norm);
    ag_hex(h, sizeof h, out);
    return 0;
}

/* ---- identifiers -------------------------------------------------------- */

static void uuid_format(uint8_t b[16], char out[AG_INTEL_ID_LEN + 1])
{
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    ag_hex(b, 16, hex);
    snprintf(out, AG_INTEL_ID_LEN + 1, "indicator--%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
}

void ag_intel_id_new(char out[AG_INTEL_ID_LEN + 1])
{
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    uuid_format(b, out);
}

void ag_intel_id_derive(const char *ns, const char *name, char out[AG_INTEL_ID_LEN + 1])
{
    crypto_hash_sha256_state st;
    uint8_t h[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)ns, strlen(ns) + 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_final(&st, h);
    uuid_format(h, out);
}

bool ag_intel_stix_id_valid(const char *s, const char *prefix)
{
    if (!s)
        return false;
    const char *sep = strstr(s, "--");
    if (!sep)
        return false;
    size_t tl = (size_t)(sep - s);
    if (prefix) {
        if (strlen(prefix) != tl || strncmp(s, prefix, tl) != 0)
            return false;
    }
    if (tl < 3 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 0; i < tl; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    if (s[tl - 1] == '-')
        return false;
    const char *u = sep + 2;
    if (strlen(u) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)u[i])) {
            return false;
        }
    }
    if (u[14] < '1' || u[14] > '5')
        return false;
    return strchr("89abAB", u[19]) != NULL;
}

/* ---- the struct ---------------------------------------------------------- */

void ag_intel_indicator_init(struct ag_intel_indicator *ind)
{
    memset(ind, 0, sizeof *ind);
    ind->confidence = 50;
    ind->tlp = AG_INTEL_TLP_AMBER;
}

void ag_intel_indicator_free(struct ag_intel_indicator *ind)
{
    if (!ind)
        return;
    free(ind->value);
    free(ind->source);
    free(ind->description);
    free(ind->external_ref);
    for (size_t i = 0; i < ind->ntags; i++)
        free(ind->tags[i]);
    free(ind->tags);
    ag_intel_indicator_init(ind);
}

int ag_intel_indicator_set_str(char **slot, const char *s)
{
    char *c = NULL;
    if (s && !(c = ag_strdup(s)))
        return AG_ENOMEM;
    free(*slot);
    *slot = c;
    return 0;
}

int ag_intel_indicator_add_tag(struct ag_intel_indicator *ind, const char *tag)
{
    for (size_t i = 0; i < ind->ntags; i++)
        if (strcmp(ind->tags[i], tag) == 0)
            return 0;
    if (ind->ntags >= AG_INTEL_TAGS_MAX)
        return AG_ELIMIT;
    char **t = realloc(ind->tags, (ind->ntags + 1) * sizeof *t);
    if (!t)
        return AG_ENOMEM;
    ind->tags = t;
    if (!(t[ind->ntags] = ag_strdup(tag)))
        return AG_ENOMEM;
    ind->ntags++;
    return 0;
}

int ag_intel_indicator_copy(struct ag_intel_indicator *dst, const struct ag_intel_indicator *src)
{
    *dst = *src;
    dst->value = dst->source = dst->description = dst->external_ref = NULL;
    dst->tags = NULL;
    dst->ntags = 0;
    if (ag_intel_indicator_set_str(&dst->value, src->value) ||
        ag_intel_indicator_set_str(&dst->source, src->source) ||
        ag_intel_indicator_set_str(&dst->description, src->description) ||
        ag_intel_indicator_set_str(&dst->external_ref, src->external_ref))
        goto oom;
    for (size_t i = 0; i < src->ntags; i++)
        if (ag_intel_indicator_add_tag(dst, src->tags[i]))
            goto oom;
    return 0;
oom:
    ag_intel_indicator_free(dst);
    return AG_ENOMEM;
}

int ag_intel_indicator_set_value(struct ag_intel_indicator *ind, enum ag_intel_type type,
                                 const char *value, struct ag_err *err)
{
    char buf[AG_INTEL_VALUE_MAX + 1];
    int rc;
    if (type == AG_INTEL_IPV4 || type == AG_INTEL_IPV6)
        rc = ip_normalize(type, value ? value : "", buf, sizeof buf, &type, "value", err);
    else
        rc = ag_intel_value_normalize(type, value, buf, sizeof buf, "value", err);
    if (rc)
        return rc;
    if (ag_intel_indicator_set_str(&ind->value, buf))
        return ag_err_set(err, AG_ENOMEM, NULL, "value", "out of memory");
    ind->type = type;
    return 0;
}

static int check_text(const char *s, size_t max, bool required, const char *field,
                      struct ag_err *err)
{
    if (!s || !*s) {
        if (required)
            return ag_err_set(err, AG_EINVAL, "missing_field", field, "%s is required", field);
        return 0;
    }
    if (strlen(s) > max)
        return ag_err_set(err, AG_EINVAL, "field_too_long", field,
                          "%s is longer than %zu bytes", field, max);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
            return ag_err_set(err, AG_EINVAL, "invalid_field", field,
                              "%s contains control characters", field);
    return 0;
}

int ag_intel_indicator_validate(const struct ag_intel_indicator *ind, struct ag_err *err)
{
    if (!ag_intel_stix_id_valid(ind->id, "indicator"))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "id",
                          "id must be \"indicator--\" and a UUID");
    for (const char *p = ind->id; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            return ag_err_set(err, AG_EINVAL, "invalid_field", "id", "id must be lower-case");
    if ((unsigned)ind->type >= AG_INTEL_TYPE_COUNT)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "type", "unknown indicator type");
    if (!ind->value)
        return ag_err_set(err, AG_EINVAL, "missing_field", "value", "value is required");
    char buf[AG_INTEL_VALUE_MAX + 1];
    int rc = ag_intel_value_normalize(ind->type, ind->value, buf, sizeof buf, "value", err);
    if (rc)
        return rc;
    if (strcmp(buf, ind->value) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "value",
                          "value is not normalised (expected \"%.80s\")", buf);
    if ((rc = check_text(ind->source, AG_INTEL_SOURCE_MAX, true, "source", err)))
        return rc;
    if (ind->confidence < 0 || ind->confidence > 100)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "confidence",
                          "confidence must be between 0 and 100");
    if ((unsigned)ind->tlp >= AG_INTEL_TLP_COUNT)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "tlp", "unknown TLP marking");
    if (ind->valid_from_ms < 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "valid_from",
                          "valid_from is before 1970");
    if (ind->valid_until_ms != 0 && ind->valid_until_ms <= ind->valid_from_ms)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "valid_until",
                          "valid_until must be later than valid_from");
    if (ind->modified_ms < ind->created_ms)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "modified",
                          "modified must not be earlier than created");
    if ((rc = check_text(ind->description, AG_INTEL_DESC_MAX, false, "description", err)) ||
        (rc = check_text(ind->external_ref, AG_INTEL_REF_MAX - 1, false, "external_ref", err)))
        return rc;
    if (ind->ntags > AG_INTEL_TAGS_MAX)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "tags",
                          "at most %d tags are allowed", AG_INTEL_TAGS_MAX);
    for (size_t i = 0; i < ind->ntags; i++) {
        char f[40];
        snprintf(f, sizeof f, "tags[%zu]", i);
        if ((rc = check_text(ind->tags[i], AG_INTEL_TAG_MAX, true, f, err)))
            return rc;
    }
    return 0;
}

bool ag_intel_indicator_live(const struct ag_intel_indicator *ind, int64_t at_ms)
{
    return ind->valid_from_ms <= at_ms && (ind->valid_until_ms == 0 || at_ms < ind->valid_until_ms);
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *time_or_null(int64_t ms)
{
    if (ms == 0)
        return json_null();
    char b[40];
    ag_time_format_ms(ms, b, sizeof b);
    return json_string(b);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *ag_intel_indicator_to_json(const struct ag_intel_indicator *ind)
{
    json_t *o = json_object(), *tags = json_array();
    if (!o || !tags)
        goto oom;
    for (size_t i = 0; i < ind->ntags; i++)
        if (json_array_append_new(tags, json_string(ind->tags[i])))
            goto oom;
    char vf[40];
    ag_time_format_ms(ind->valid_from_ms, vf, sizeof vf);
    char cr[40], mo[40];
    ag_time_format_ms(ind->created_ms, cr, sizeof cr);
    ag_time_format_ms(ind->modified_ms, mo, sizeof mo);
    int bad = 0;
    bad |= json_object_set_new(o, "id", json_string(ind->id));
    bad |= json_object_set_new(o, "type", json_string(ag_intel_type_name(ind->type)));
    bad |= json_object_set_new(o, "value", str_or_null(ind->value));
    bad |= json_object_set_new(o, "source", str_or_null(ind->source));
    bad |= json_object_set_new(o, "confidence", json_integer(ind->confidence));
    bad |= json_object_set_new(o, "tlp", json_string(ag_intel_tlp_name(ind->tlp)));
    bad |= json_object_set_new(o, "tags", tags);
    tags = NULL;
    bad |= json_object_set_new(o, "description", str_or_null(ind->description));
    bad |= json_object_set_new(o, "external_ref", str_or_null(ind->external_ref));
    bad |= json_object_set_new(o, "informational", json_boolean(ind->informational));
    bad |= json_object_set_new(o, "valid_from", json_string(vf));
    bad |= json_object_set_new(o, "valid_until", time_or_null(ind->valid_until_ms));
    bad |= json_object_set_new(o, "created", json_string(cr));
    bad |= json_object_set_new(o, "modified", json_string(mo));
    bad |= json_object_set_new(o, "added", time_or_null(ind->added_ms));
    if (bad)
        goto oom;
    return o;
oom:
    json_decref(tags);
    json_decref(o);
    return NULL;
}

static int json_time(const json_t *obj, const char *key, bool nullable, int64_t *out,
                     bool *present, struct ag_err *err)
{
    const char *s;
    *present = false;
    json_t *v = json_object_get(obj, key);
    if (v && json_is_null(v) && nullable) {
        *present = true;
        *out = 0;
        return 0;
    }
    int rc = ag_json_str(obj, key, key, 64, false, &s, err);
    if (rc == AG_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (ag_time_parse(s, out) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", key,
                          "%s is not an RFC 3339 timestamp", key);
    *present = true;
    return 0;
}

int ag_intel_indicator_from_json(const json_t *obj, const char *default_source, int64_t now_ms,
                                 struct ag_intel_indicator *out, struct ag_err *err)
{
    static const char *const known[] = {
        "id",          "type",          "value",      "source",      "confidence",
        "tlp",         "tags",          "description", "external_ref", "informational",
        "valid_from",  "valid_until",   "created",    "modified",    "added",
    };
    ag_intel_indicator_init(out);
    if (!json_is_object(obj))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "", "an indicator must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (size_t i = 0; i < AG_ARRAY_LEN(known); i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok)
            return ag_err_set(err, AG_EINVAL, "unknown_field", key, "unknown field \"%s\"", key);
    }
    const char *s;
    int rc = ag_json_str(obj, "id", "id", AG_INTEL_ID_LEN, false, &s, err);
    if (rc == AG_ENOTFOUND)
        ag_intel_id_new(out->id);
    else if (rc)
        return rc;
    else {
        if (!ag_intel_stix_id_valid(s, "indicator"))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "id",
                              "id must be \"indicator--\" and a UUID");
        for (size_t i = 0; s[i]; i++)
            out->id[i] = (char)tolower((unsigned char)s[i]);
    }
    enum ag_intel_type type;
    if ((rc = ag_json_str(obj, "type", "type", 32, true, &s, err)))
        return rc;
    if (ag_intel_type_parse(s, &type))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "type",
                          "type must be one of ipv4, ipv6, domain, url, email, phone, device, "
                          "financial");
    if ((rc = ag_json_str(obj, "value", "value", AG_INTEL_VALUE_MAX, true, &s, err)))
        return rc;
    if ((rc = ag_intel_indicator_set_value(out, type, s, err)))
        return rc;
    rc = ag_json_str(obj, "source", "source", AG_INTEL_SOURCE_MAX, false, &s, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (ag_intel_indicator_set_str(&out->source, rc ? default_source : s))
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int64_t conf;
    rc = ag_json_int(obj, "confidence", "confidence", 0, 100, false, &conf, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (rc == 0)
        out->confidence = (int)conf;
    rc = ag_json_str(obj, "tlp", "tlp", 32, false, &s, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (rc == 0 && ag_intel_tlp_parse(s, &out->tlp))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "tlp",
                          "tlp must be clear, green, amber, amber+strict or red");
    json_t *tags = json_object_get(obj, "tags");
    if (tags && !json_is_null(tags)) {
        if (!json_is_array(tags))
            return ag_err_set(err, AG_EINVAL, "invalid_field", "tags",
                              "tags must be an array of strings");
        size_t i;
        json_array_foreach(tags, i, v) {
            char f[40];
            snprintf(f, sizeof f, "tags[%zu]", i);
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > AG_INTEL_TAG_MAX)
                return ag_err_set(err, AG_EINVAL, "invalid_field", f,
                                  "%s must be a string of 1 to %d bytes", f, AG_INTEL_TAG_MAX);
            rc = ag_intel_indicator_add_tag(out, json_string_value(v));
            if (rc == AG_ELIMIT)
                return ag_err_set(err, AG_EINVAL, "invalid_field", "tags",
                                  "at most %d tags are allowed", AG_INTEL_TAGS_MAX);
            if (rc)
                return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        }
    }
    const char *opt_str[][2] = {{"description", NULL}, {"external_ref", NULL}};
    char **slots[] = {&out->description, &out->external_ref};
    size_t maxes[] = {AG_INTEL_DESC_MAX, AG_INTEL_REF_MAX - 1};
    for (size_t i = 0; i < 2; i++) {
        rc = ag_json_str(obj, opt_str[i][0], opt_str[i][0], maxes[i], false, &s, err);
        if (rc && rc != AG_ENOTFOUND)
            return rc;
        if (rc == 0 && *s && ag_intel_indicator_set_str(slots[i], s))
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    bool b;
    rc = ag_json_bool(obj, "informational", "informational", false, &b, err);
    if (rc && rc != AG_ENOTFOUND)
        return rc;
    if (rc == 0)
        out->informational = b;
    bool present;
    out->valid_from_ms = out->created_ms = out->modified_ms = now_ms;
    if ((rc = json_time(obj, "valid_from", false, &out->valid_from_ms, &present, err)) ||
        (rc = json_time(obj, "valid_until", true, &out->valid_until_ms, &present, err)) ||
        (rc = json_time(obj, "created", false, &out->created_ms, &present, err)))
        return rc;
    out->modified_ms = out->created_ms > now_ms ? out->created_ms : now_ms;
    if ((rc = json_time(obj, "modified", false, &out->modified_ms, &present, err)) ||
        (rc = json_time(obj, "added", true, &out->added_ms, &present, err)))
        return rc;
    return ag_intel_indicator_validate(out, err);
}

/* ---- lists and imports ---------------------------------------------------- */

static int list_grow(struct ag_intel_list *list)
{
    if (list->len < list->cap)
        return 0;
    size_t cap = list->cap ? list->cap * 2 : 16;
    struct ag_intel_indicator *it = realloc(list->items, cap * sizeof *it);
    if (!it)
        return AG_ENOMEM;
    list->items = it;
    list->cap = cap;
    return 0;
}

int ag_intel_list_push_copy(struct ag_intel_list *list, const struct ag_intel_indicator *ind)
{
    if (list_grow(list))
        return AG_ENOMEM;
    if (ag_intel_indicator_copy(&list->items[list->len], ind))
        return AG_ENOMEM;
    list->len++;
    return 0;
}

int ag_intel_list_push_move(struct ag_intel_list *list, struct ag_intel_indicator *ind)
{
    if (list_grow(list))
        return AG_ENOMEM;
    list->items[list->len++] = *ind;
    ag_intel_indicator_init(ind);
    return 0;
}

void ag_intel_list_free(struct ag_intel_list *list)
{
    for (size_t i = 0; i < list->len; i++)
        ag_intel_indicator_free(&list->items[i]);
    free(list->items);
    memset(list, 0, sizeof *list);
}

int ag_intel_import_note(struct ag_intel_import *imp, const char *where, const char *fmt, ...)
{
    if (imp->nnotes == imp->notes_cap) {
        size_t cap = imp->notes_cap ? imp->notes_cap * 2 : 8;
        struct ag_intel_note *n = realloc(imp->notes, cap * sizeof *n);
        if (!n)
            return AG_ENOMEM;
        imp->notes = n;
        imp->notes_cap = cap;
    }
    struct ag_intel_note *n = &imp->notes[imp->nnotes++];
    snprintf(n->where, sizeof n->where, "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->reason, sizeof n->reason, fmt, ap);
    va_end(ap);
    return 0;
}

void ag_intel_import_free(struct ag_intel_import *imp)
{
    ag_intel_list_free(&imp->list);
    free(imp->notes);
    memset(imp, 0, sizeof *imp);
}
