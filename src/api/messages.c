/* POST /v1/messages/analyze: a reported email or SMS through the phishing
 * analyzer (src/phish), answered with its verdict, score, reasons and the
 * indicators the message holds (docs/PHISHING.md has the shape).
 *
 * Request forms:
 *   Content-Type: application/json   {"kind":"email","raw":"..."} or
 *                                    {"kind":"sms","sender":"...","text":"..."}
 *   Content-Type: message/rfc822     the raw email
 *   Content-Type: text/plain         an SMS text (?sender=...), or with
 *                                    ?kind=email a raw email
 *
 * With the setting intel_from_messages on, a message judged phishing adds
 * its URLs, domains, phone numbers, sender addresses and IPs to intel
 * (source "phish", the message's digest as external_ref, 30 days), except
 * the protected brands' own domains and big mail providers' domains, which
 * phishing mail names too and which must never be blocked. */
#include "api/intel.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "phish/phish.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INTEL_TTL_MS (30LL * 86400 * 1000)
#define INTEL_CONFIDENCE 70

static pthread_once_t analyzer_once = PTHREAD_ONCE_INIT;
static struct ag_phish_analyzer *analyzer; /* built once, read-only, lives until exit */
static struct ag_err analyzer_err;

static void analyzer_build(void)
{
    struct ag_phish_options o;
    memset(&o, 0, sizeof o);
    if (ag_phish_analyzer_new(&o, &analyzer, &analyzer_err))
        analyzer = NULL;
}

/* Domains a phishing message names without being the attacker's. */
static const char *const never_add[] = {
    "gmail.com",   "googlemail.com", "outlook.com",  "hotmail.com", "live.com",
    "yahoo.com",   "icloud.com",     "me.com",       "aol.com",     "gmx.de",
    "gmx.net",     "web.de",         "proton.me",    "protonmail.com", "mail.ru",
    "yandex.ru",   "qq.com",         "163.com",      "bit.ly",      "t.co",
};

/* Is <host> <dom> or a subdomain of it? */
static bool under(const char *host, const char *dom)
{
    size_t h = strlen(host), d = strlen(dom);
    return h >= d && strcasecmp(host + h - d, dom) == 0 && (h == d || host[h - d - 1] == '.');
}

static bool protected_host(const char *host)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(never_add); i++)
        if (under(host, never_add[i]))
            return true;
    for (const char *const *b = ag_phish_default_brands; *b; b++)
        if (under(host, *b))
            return true;
    return false;
}

/* The host of a URL indicator (normalised), into <out>. */
static void url_host(const char *url, char *out, size_t len)
{
    out[0] = '\0';
    const char *p = strstr(url, "://");
    if (!p)
        return;
    p += 3;
    size_t n = strcspn(p, "/:?#");
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int add_indicators(struct ag_app *app, const struct ag_phish_result *r, const char *digest,
                          size_t *added, struct ag_err *err)
{
    *added = 0;
    struct ag_intel_svc *svc = ag_api_intel_svc(app);
    if (!svc)
        return 0;
    int64_t now = ag_time_now_ms();
    struct ag_intel_list list = {0};
    char ref[AG_INTEL_REF_MAX], desc[512];
    snprintf(ref, sizeof ref, "message:sha256:%s", digest);
    snprintf(desc, sizeof desc, "from a %s judged phishing (score %.2f)%s%.300s%s",
             r->kind == AG_PHISH_SMS ? "text message" : "email", r->score,
             r->subject ? ": \"" : "", r->subject ? r->subject : "", r->subject ? "\"" : "");
    int rc = 0;
    for (size_t i = 0; i < r->nindicators && !rc; i++) {
        const struct ag_phish_indicator *x = &r->indicators[i];
        enum ag_intel_type t;
        switch (x->type) {
        case AG_PHISH_IND_URL: t = AG_INTEL_URL; break;
        case AG_PHISH_IND_DOMAIN: t = AG_INTEL_DOMAIN; break;
        case AG_PHISH_IND_PHONE: t = AG_INTEL_PHONE; break;
        case AG_PHISH_IND_EMAIL: t = AG_INTEL_EMAIL; break;
        default: t = strchr(x->value, ':') ? AG_INTEL_IPV6 : AG_INTEL_IPV4; break;
        }
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        if (ag_intel_indicator_set_value(&ind, t, x->value, NULL)) {
            ag_intel_indicator_free(&ind);
            continue; /* not a value intel can hold (a short code, ...) */
        }
        char host[256] = "";
        if (t == AG_INTEL_URL)
            url_host(ind.value, host, sizeof host);
        else if (t == AG_INTEL_DOMAIN)
            snprintf(host, sizeof host, "%s", ind.value);
        if (host[0] && protected_host(host)) {
            ag_intel_indicator_free(&ind);
            continue;
        }
        char name[AG_INTEL_VALUE_MAX + 16];
        snprintf(name, sizeof name, "%s:%s", ag_intel_type_name(t), ind.value);
        ag_intel_id_derive("phish", name, ind.id);
        ind.confidence = INTEL_CONFIDENCE;
        ind.tlp = AG_INTEL_TLP_AMBER;
        ind.valid_from_ms = ind.created_ms = ind.modified_ms = now;
        ind.valid_until_ms = now + INTEL_TTL_MS;
        if (ag_intel_indicator_set_str(&ind.source, "phish") ||
            ag_intel_indicator_set_str(&ind.external_ref, ref) ||
            ag_intel_indicator_set_str(&ind.description, desc) ||
            ag_intel_indicator_add_tag(&ind, "phishing") == AG_ENOMEM ||
            ag_intel_indicator_add_tag(&ind, x->context ? x->context : "message") == AG_ENOMEM ||
            ag_intel_list_push_move(&list, &ind))
            rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        ag_intel_indicator_free(&ind);
    }
    /* Several contexts can name one value: keep the first. */
    for (size_t i = 0; i < list.len; i++)
        for (size_t j = i + 1; j < list.len;)
            if (!strcmp(list.items[i].id, list.items[j].id)) {
                ag_intel_indicator_free(&list.items[j]);
                memmove(&list.items[j], &list.items[j + 1],
                        (list.len - j - 1) * sizeof list.items[0]);
                list.len--;
            } else {
                j++;
            }
    if (!rc && list.len)
        rc = ag_api_intel_store_list(svc, list.items, list.len, NULL, NULL, err);
    if (!rc)
        *added = list.len;
    ag_intel_list_free(&list);
    return rc;
}

/* Does <raw> start like an RFC 5322 message: header fields ("Name: value",
 * the name printable ASCII without ':' or space, continuation lines
 * allowed), at least one before the first empty line? An mbox "From "
 * line first is tolerated. */
static bool looks_like_email(const char *raw, size_t len)
{
    if (memchr(raw, '\0', len))
        return false;
    const char *p = raw, *end = raw + len;
    if (len > 5 && !strncmp(p, "From ", 5)) {
        const char *nl = memchr(p, '\n', len);
        if (!nl)
            return false;
        p = nl + 1;
    }
    int fields = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0)
            break; /* the end of the header */
        if (p[0] == ' ' || p[0] == '\t') {
            if (!fields)
                return false;
        } else {
            size_t k = 0;
            while (k < n && p[k] > 32 && p[k] < 127 && p[k] != ':')
                k++;
            if (k == 0 || k >= n || p[k] != ':')
                return false;
            fields++;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return fields > 0;
}

static bool utf8_ok(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n); /* jansson checks UTF-8 */
    json_decref(v);
    return v != NULL && !memchr(s, '\0', n);
}

void ag_api_messages_analyze(struct ag_app *app, struct ag_http_req *req)
{
    pthread_once(&analyzer_once, analyzer_build);
    if (!analyzer) {
        ag_api_error(req, AG_EUNAVAIL, "analyzer_unavailable", "",
                     "the phishing analyzer could not start: %s", analyzer_err.msg);
        return;
    }
    const char *ct = ag_http_header(req, "Content-Type");
    const char *body = req->body.data ? req->body.data : "";
    size_t blen = req->body.len;
    bool email;
    const char *raw = NULL, *sender = NULL, *text = NULL;
    size_t rawlen = 0;
    char *text_copy = NULL, *sender_copy = NULL;
    json_t *doc = NULL;
    if (ct && !strncasecmp(ct, "message/rfc822", 14)) {
        email = true;
        raw = body;
        rawlen = blen;
    } else if (ct && !strncasecmp(ct, "text/plain", 10)) {
        const char *kind = ag_http_query(req, "kind");
        if (kind && strcmp(kind, "email") && strcmp(kind, "sms")) {
            ag_api_error(req, AG_EINVAL, "invalid_parameter", "kind", "kind must be email or sms");
            return;
        }
        email = kind && !strcmp(kind, "email");
        if (email) {
            raw = body;
            rawlen = blen;
        } else {
            if (blen > AG_PHISH_MAX_SMS) {
                ag_api_error(req, AG_ELIMIT, "message_too_large", "text",
                             "an SMS text is at most %u bytes", AG_PHISH_MAX_SMS);
                return;
            }
            if (!utf8_ok(body, blen) || !(text_copy = strndup(body, blen))) {
                ag_api_error(req, AG_EINVAL, "invalid_message", "text",
                             "the text must be UTF-8 without NUL bytes");
                return;
            }
            text = text_copy;
            sender = ag_http_query(req, "sender");
        }
    } else {
        if (!(doc = ag_api_body_object(app, req)))
            return;
        const char *kind;
        struct ag_err err;
        int rc = ag_json_str(doc, "kind", "kind", 16, true, &kind, &err);
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v)
        {
            if (!rc && strcmp(key, "kind") && strcmp(key, "raw") && strcmp(key, "sender") &&
                strcmp(key, "text"))
                rc = ag_err_set(&err, AG_EINVAL, "unknown_field", key, "unknown field \"%s\"", key);
        }
        if (!rc && strcmp(kind, "email") && strcmp(kind, "sms"))
            rc = ag_err_set(&err, AG_EINVAL, "invalid_field", "kind", "kind must be email or sms");
        email = !rc && !strcmp(kind, "email");
        if (!rc && email) {
            rc = ag_json_str(doc, "raw", "raw", AG_PHISH_MAX_EMAIL, true, &raw, &err);
            rawlen = raw ? json_string_length(json_object_get(doc, "raw")) : 0;
        } else if (!rc) {
            json_t *t = json_object_get(doc, "text");
            if (json_is_string(t) && json_string_length(t) > AG_PHISH_MAX_SMS)
                rc = ag_err_set(&err, AG_ELIMIT, "message_too_large", "text",
                                "an SMS text is at most %u bytes", AG_PHISH_MAX_SMS);
            if (!rc)
                rc = ag_json_str(doc, "text", "text", AG_PHISH_MAX_SMS, true, &text, &err);
            if (!rc) {
                rc = ag_json_str(doc, "sender", "sender", 64, false, &sender, &err);
                if (rc == AG_ENOTFOUND)
                    rc = 0;
            }
        }
        if (rc) {
            json_decref(doc);
            ag_http_respond_error(req, 0, &err);
            return;
        }
    }
    if (email && (rawlen == 0 || !looks_like_email(raw, rawlen))) {
        json_decref(doc);
        ag_api_error(req, AG_EINVAL, "invalid_message", "raw",
                     "not an email: expected RFC 5322 header fields (\"Name: value\") first");
        return;
    }
    if (!email && (!text || !*text)) {
        json_decref(doc);
        free(text_copy);
        ag_api_error(req, AG_EINVAL, "invalid_message", "text", "the SMS text is empty");
        return;
    }
    if (sender && strlen(sender) > 64) {
        json_decref(doc);
        free(text_copy);
        ag_api_error(req, AG_EINVAL, "invalid_field", "sender", "sender is at most 64 bytes");
        return;
    }
    if (sender)
        sender_copy = strdup(sender);
    struct ag_phish_result *r = NULL;
    struct ag_err err;
    int rc = email ? ag_phish_analyze_email(analyzer, raw, rawlen, &r, &err)
                   : ag_phish_analyze_sms(analyzer, sender_copy, text, &r, &err);
    /* The message's digest, for provenance. */
    uint8_t h[32];
    char digest[65];
    if (email)
        crypto_hash_sha256(h, (const unsigned char *)raw, rawlen);
    else {
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, (const unsigned char *)(sender_copy ? sender_copy : ""),
                                  sender_copy ? strlen(sender_copy) : 0);
        crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
        crypto_hash_sha256_update(&st, (const unsigned char *)text, strlen(text));
        crypto_hash_sha256_final(&st, h);
    }
    ag_hex(h, sizeof h, digest);
    json_decref(doc);
    free(text_copy);
    free(sender_copy);
    if (rc) {
        if (rc == AG_EINVAL && strcmp(err.slug, "invalid_field"))
            snprintf(err.slug, sizeof err.slug, "invalid_message");
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *out = ag_phish_result_json(r);
    if (out)
        json_object_set_new(out, "message_digest", json_string(digest));
    if (out && r->verdict == AG_PHISH_PHISHING && app->cfg->intel_from_messages) {
        size_t added;
        rc = add_indicators(app, r, digest, &added, &err);
        json_object_set_new(out, "intel_added", json_integer(rc ? 0 : (json_int_t)added));
    }
    ag_phish_result_free(r);
    if (rc) {
        json_decref(out);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_json(req, 200, out);
}
