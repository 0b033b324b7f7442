/* The network side of delivery, with libcurl: an HTTP POST (webhooks, the
 * SMS gateway) and an SMTP submission. Each call uses its own easy handle,
 * so workers run them in parallel. */
#include "notify/internal.h"
#include "core/err.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* libcurl's progress callback: a non-zero return aborts the transfer. */
static int check_cancel(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const _Atomic bool *cancel = arg;
    return cancel && atomic_load(cancel);
}

static void cancellable(CURL *c, const _Atomic bool *cancel)
{
    if (!cancel)
        return;
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, check_cancel);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cancel);
}

int ag_notify_http_post(const char *url, const char *const *headers, int nheaders,
                        const char *body, size_t len, long timeout_s,
                        const _Atomic bool *cancel, struct ag_notify_http_result *res)
{
    memset(res, 0, sizeof *res);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(res->error, sizeof res->error, "cannot start an HTTP request");
        return AG_ENOMEM;
    }
    struct curl_slist *h = NULL;
    for (int i = 0; i < nheaders; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s > 0 ? timeout_s : 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "accountguard/" AG_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    cancellable(c, cancel);
    CURLcode cc = curl_easy_perform(c);
    int rc = 0;
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(res->error, sizeof res->error, "interrupted by shutdown");
        rc = AG_EUNAVAIL;
    } else if (cc != CURLE_OK) {
        snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(cc));
        rc = AG_EIO;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
        if (res->status < 200 || res->status > 299) {
            snprintf(res->error, sizeof res->error, "HTTP %ld", res->status);
            rc = AG_EIO;
        }
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

struct reader {
    const char *p;
    size_t left;
};

static size_t read_msg(char *dst, size_t size, size_t n, void *arg)
{
    struct reader *r = arg;
    size_t k = size * n < r->left ? size * n : r->left;
    memcpy(dst, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

int ag_notify_smtp_send(const struct ag_notify_smtp *s, const char *from, const char *to,
                        const char *msg, size_t len, char *error, size_t error_len)
{
    if (!s->url || !*s->url) {
        snprintf(error, error_len, "no SMTP server configured (smtp_url)");
        return AG_ESTATE;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(error, error_len, "cannot start an SMTP session");
        return AG_ENOMEM;
    }
    char addr[400];
    snprintf(addr, sizeof addr, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, addr);
    char sender[400];
    snprintf(sender, sizeof sender, "<%s>", from);
    struct reader r = {msg, len};
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, sender);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, s->timeout_s > 0 ? s->timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long ssl = CURLUSESSL_TRY;
    if (s->tls && !strcmp(s->tls, "off"))
        ssl = CURLUSESSL_NONE;
    else if (s->tls && !strcmp(s->tls, "require"))
        ssl = CURLUSESSL_ALL;
    curl_easy_setopt(c, CURLOPT_USE_SSL, ssl);
    if (s->user && *s->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->password ? s->password : "");
    }
    cancellable(c, s->cancel);
    CURLcode cc = curl_easy_perform(c);
    int rc = 0;
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(error, error_len, "interrupted by shutdown");
        rc = AG_EUNAVAIL;
    } else if (cc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code)
            snprintf(error, error_len, "%s (SMTP %ld)", curl_easy_strerror(cc), code);
        else
            snprintf(error, error_len, "%s", curl_easy_strerror(cc));
        rc = AG_EIO;
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rc;
}
