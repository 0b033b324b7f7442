/* Links: each URL (an HTML href or a URL found in text) is parsed with
 * libcurl's URL API, its host normalized (IDNA) and reduced to its
 * registrable domain, and checked for the link signals: shorteners, bare IP
 * hosts, punycode, many subdomains, credential/payment paths, user info,
 * odd ports, free hosting, abused TLDs, brand lookalikes, and anchor text
 * that names another domain than the target. */
#include "phish/internal.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Paths that ask for credentials or money, or point into a hijacked site. */
static const char *const credential_words[] = {
    "login", "log-in", "signin", "sign-in", "logon", "verify", "verif", "validat", "confirm",
    "account", "update", "secure", "unlock", "suspend", "billing", "payment", "wallet",
    "password", "passwd", "credential", "webscr", "recover", "restore", "reactivat",
    "banking", "kyc", "2fa", "otp", "authenticat", "claim", "refund", "cadastro", "atualiz",
    "conta", "acesso", "cuenta", "actualiz", "konto", "anmeld", "compte", "connexion",
    "wp-content", "wp-includes", "wp-admin", "invoice", "tracking", "parcel", "delivery",
    "redeem", "reward", "seed", "connect-wallet", NULL,
};

static bool path_credential(const char *path, const char **word)
{
    char low[512];
    size_t n = strlen(path);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)path[i]);
    low[n] = '\0';
    for (size_t i = 0; credential_words[i]; i++)
        if (strstr(low, credential_words[i])) {
            *word = credential_words[i];
            return true;
        }
    return false;
}

static size_t count_char(const char *s, char ch)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == ch;
    return n;
}

/* A domain named in anchor text ("www.paypal.com", "https://x.y/z"), or
 * NULL. Writes the host into <out>. */
static const char *text_domain(const char *text, char *out, size_t outlen)
{
    const char *p = text;
    while (*p && isspace((unsigned char)*p))
        p++;
    if (!strncasecmp(p, "http://", 7))
        p += 7;
    else if (!strncasecmp(p, "https://", 8))
        p += 8;
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '.'))
        n++;
    while (n && p[n - 1] == '.')
        n--;
    /* Only text that is itself a host name: "paypal.com", not "Click here. Now". */
    const char *rest = p + n;
    if (*rest && *rest != '/' && *rest != ':' && !isspace((unsigned char)*rest) && *rest != '?')
        return NULL;
    if (n < 4 || !memchr(p, '.', n))
        return NULL;
    const char *dot = p + n;
    while (dot > p && dot[-1] != '.')
        dot--;
    size_t tldlen = (size_t)(p + n - dot);
    if (tldlen < 2 || tldlen > 12)
        return NULL;
    for (const char *q = dot; q < p + n; q++)
        if (!isalpha((unsigned char)*q))
            return NULL;
    if (ag_phish_host_ascii(p, n, out, outlen))
        return NULL;
    return out;
}

static void check_host(struct ag_phish_ctx *c, const char *host, const char *reg,
                       const char *url, const char *path, bool sms)
{
    const struct ag_phish_analyzer *a = c->a;
    int owner = ag_phish_brand_owner(a, reg);
    if (strstr(host, "xn--"))
        ag_phish_fire(c, AG_PHISH_SIG_LINK_PUNYCODE, "link", "%s", url);
    if (reg) {
        size_t sub = count_char(host, '.') - count_char(reg, '.');
        if (sub >= 3 && owner < 0)
            ag_phish_fire(c, AG_PHISH_SIG_LINK_MANY_SUBDOMAINS, "link", "%zu subdomains: %s", sub,
                          host);
    }
    if (ag_phish_domain_shortener(reg, host))
        ag_phish_fire(c, AG_PHISH_SIG_LINK_SHORTENER, "link", "%s", url);
    if (ag_phish_domain_free_hosting(reg, host))
        ag_phish_fire(c, AG_PHISH_SIG_LINK_FREE_HOSTING, "link", "%s", url);
    if (owner < 0 && ag_phish_tld_abused(host))
        ag_phish_fire(c, AG_PHISH_SIG_LINK_ABUSED_TLD, "link", "%s", host);
    bool look;
    const char *how;
    int b = ag_phish_brand_lookalike(a, host, reg, &look, &how);
    if (b >= 0)
        ag_phish_fire(c, look ? AG_PHISH_SIG_LINK_LOOKALIKE : AG_PHISH_SIG_LINK_BRAND_IN_DOMAIN,
                      "link", "%s: %s (%s)", host, how, a->brands[b].domain);
    const char *word;
    if (owner < 0 && path && (!c->from_reg || !reg || strcmp(c->from_reg, reg)) &&
        path_credential(path, &word))
        ag_phish_fire(c, AG_PHISH_SIG_LINK_CREDENTIAL_PATH, "link", "\"%s\" in %s", word, url);
    (void)sms;
}

void ag_phish_link_check(struct ag_phish_ctx *c, const char *url, size_t len, const char *text,
                         bool from_html)
{
    while (len && isspace((unsigned char)*url))
        url++, len--;
    while (len && isspace((unsigned char)url[len - 1]))
        len--;
    if (!len || len > 4096)
        return;
    if (len > 5 && (!strncasecmp(url, "data:", 5) || !strncasecmp(url, "javascript:", 11) ||
                    !strncasecmp(url, "vbscript:", 9))) {
        if (!strncasecmp(url, "data:image/", 11))
            return;
        int n = (int)(len > 60 ? 60 : len);
        ag_phish_fire(c, AG_PHISH_SIG_LINK_SCRIPT_URI, "link", "%.*s", n, url);
        return;
    }
    if (!strncasecmp(url, "mailto:", 7)) {
        size_t n = strcspn(url + 7, "?");
        if (n > len - 7)
            n = len - 7;
        ag_phish_indicator_add(c, AG_PHISH_IND_EMAIL, url + 7, n, "link:mailto");
        return;
    }
    if (!strncasecmp(url, "tel:", 4) || !strncasecmp(url, "sms:", 4)) {
        ag_phish_indicator_add(c, AG_PHISH_IND_PHONE, url + 4, len - 4, "link:tel");
        return;
    }
    if (url[0] == '#' || !strncasecmp(url, "cid:", 4))
        return;
    char buf[4200];
    if (!strncasecmp(url, "www.", 4) || !memchr(url, ':', len < 12 ? len : 12)) {
        if (url[0] == '/' || !memchr(url, '.', len))
            return; /* relative link */
        snprintf(buf, sizeof buf, "http://%.*s", (int)len, url);
    } else {
        snprintf(buf, sizeof buf, "%.*s", (int)len, url);
    }
    if (c->nlinks >= AG_PHISH_MAX_LINKS)
        return;
    CURLU *h = curl_url();
    if (!h) {
        c->oom = true;
        return;
    }
    char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL, *user = NULL,
         *port = NULL;
    if (curl_url_set(h, CURLUPART_URL, buf,
                     CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE | CURLU_URLENCODE) ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) ||
        curl_url_get(h, CURLUPART_HOST, &host, 0))
        goto done;
    if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https") && strcasecmp(scheme, "ftp"))
        goto done;
    curl_url_get(h, CURLUPART_PATH, &path, 0);
    curl_url_get(h, CURLUPART_QUERY, &query, 0);
    curl_url_get(h, CURLUPART_USER, &user, 0);
    curl_url_get(h, CURLUPART_PORT, &port, 0);

    struct ag_phish_link *L = &c->links[c->nlinks];
    memset(L, 0, sizeof *L);
    L->url = ag_phish_arena_strdup(c->r, buf);
    L->text = text ? ag_phish_arena_strdup(c->r, text) : NULL;
    L->from_html = from_html;
    if (!L->url) {
        c->oom = true;
        goto done;
    }
    c->nlinks++;
    ag_phish_indicator_add(c, AG_PHISH_IND_URL, buf, strlen(buf), from_html ? "link" : "body");

    char hbuf[256], reg[256];
    const char *hraw = host;
    size_t hlen = strlen(hraw);
    if (hlen >= 2 && hraw[0] == '[' && hraw[hlen - 1] == ']') {
        hraw++;
        hlen -= 2;
    }
    if (user && *user)
        ag_phish_fire(c, AG_PHISH_SIG_LINK_USERINFO, "link", "%s", buf);
    if (port && strcmp(port, "80") && strcmp(port, "443"))
        ag_phish_fire(c, AG_PHISH_SIG_LINK_ODD_PORT, "link", "port %s: %s", port, buf);
    bool v6;
    snprintf(hbuf, sizeof hbuf, "%.*s", (int)hlen, hraw);
    if (ag_ip_valid(hbuf, &v6)) {
        ag_phish_fire(c, AG_PHISH_SIG_LINK_IP_HOST, "link", "%s", buf);
        ag_phish_indicator_add(c, AG_PHISH_IND_IP, hbuf, strlen(hbuf), "link");
        L->host = ag_phish_arena_strdup(c->r, hbuf);
        goto done;
    }
    if (ag_phish_host_ascii(hraw, hlen, hbuf, sizeof hbuf))
        goto done;
    L->host = ag_phish_arena_strdup(c->r, hbuf);
    ag_phish_indicator_add(c, AG_PHISH_IND_DOMAIN, hbuf, strlen(hbuf), "link");
    if (!ag_phish_registrable(c->a, hbuf, reg, sizeof reg))
        L->reg = ag_phish_arena_strdup(c->r, reg);
    char pq[600];
    snprintf(pq, sizeof pq, "%s%s%s", path ? path : "", query ? "?" : "", query ? query : "");
    check_host(c, hbuf, L->reg, buf, pq, false);
    if (text && L->reg) {
        char th[256], treg[256];
        if (text_domain(text, th, sizeof th) &&
            !ag_phish_registrable(c->a, th, treg, sizeof treg) && strcmp(treg, L->reg))
            ag_phish_fire(c, AG_PHISH_SIG_LINK_TEXT_MISMATCH, "link",
                          "text shows %s, link goes to %s", th, hbuf);
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_free(port);
    curl_url_cleanup(h);
}

void ag_phish_text_scan_links(struct ag_phish_ctx *c, const char *text, size_t len, bool phones)
{
    const struct ag_phish_analyzer *a = c->a;
    size_t off = 0, m;
    while (off < len && ag_phish_re_find(a->re_url, text, len, off, &off, &m)) {
        size_t n = m;
        while (n && strchr(".,;:!?)]}'\">*", text[off + n - 1]))
            n--;
        ag_phish_link_check(c, text + off, n, NULL, false);
        off += m ? m : 1;
    }
    off = 0;
    while (off < len && ag_phish_re_find(a->re_email, text, len, off, &off, &m)) {
        ag_phish_indicator_add(c, AG_PHISH_IND_EMAIL, text + off, m, "body");
        off += m ? m : 1;
    }
    if (!phones)
        return;
    off = 0;
    while (off < len && ag_phish_re_find(a->re_phone, text, len, off, &off, &m)) {
        char digits[32];
        size_t k = 0;
        for (size_t i = 0; i < m && k + 1 < sizeof digits; i++)
            if (isdigit((unsigned char)text[off + i]) || text[off + i] == '+')
                digits[k++] = text[off + i];
        digits[k] = '\0';
        if (k >= 9)
            ag_phish_indicator_add(c, AG_PHISH_IND_PHONE, digits, k, "body");
        off += m ? m : 1;
    }
}

void ag_phish_links_finish(struct ag_phish_ctx *c, bool sms)
{
    (void)sms;
}
