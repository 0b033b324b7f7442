/* Domains: IDNA normalization (libidn2), registrable domains (libpsl over
 * Debian's public suffix list), the protected brands and lookalike checks
 * against them (UTS #39 skeletons via ICU's spoof checker, edit distance,
 * brand names inside other domains), and the small host lists (freemail,
 * shorteners, free hosting, much-abused TLDs). */
#include "phish/internal.h"

#include <ctype.h>
#include <idn2.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uspoof.h>
#include <unicode/utypes.h>

/* Each entry: "domain" (the brand is the domain's first label) or
 * "name=domain" (another domain of brand <name>). */
const char *const ag_phish_default_brands[] = {
    "marketplace.example",
    "paypal.com", "paypal=paypal.me",
    "amazon.com", "amazon=amazon.co.uk", "amazon=amazon.de", "amazon=amazon.fr",
    "amazon=amazon.es", "amazon=amazon.it", "amazon=amazon.com.br", "amazon=amazon.ca",
    "amazon=amazon.in", "amazon=amazon.co.jp", "amazon=primevideo.com",
    "apple.com", "microsoft.com", "microsoft=office.com", "microsoft=office365.com",
    "microsoft=microsoftonline.com", "microsoft=sharepoint.com", "google.com",
    "google=youtube.com", "netflix.com", "facebook.com", "facebook=facebookmail.com",
    "facebook=meta.com", "instagram.com", "whatsapp.com", "linkedin.com", "dhl.com",
    "dhl=dhl.de", "fedex.com", "ups.com", "usps.com", "usps=usps.gov", "royalmail.com",
    "ebay.com", "chase.com", "wellsfargo.com", "bankofamerica.com", "citi.com",
    "americanexpress.com", "coinbase.com", "binance.com", "metamask.io", "docusign.com",
    "docusign=docusign.net", "dropbox.com", "adobe.com", "spotify.com", "walmart.com",
    "aliexpress.com", "booking.com", "correios.com.br", "bradesco.com.br", "itau.com.br",
    "bancodobrasil=bb.com.br", "caixa.gov.br", "mercadolivre.com.br", "mercadopago.com",
    "mercadopago=mercadopago.com.br", "mercadolibre.com", "nubank.com.br", "santander.com",
    "santander=santander.com.br", "santander=santander.es", "bbva.com", "bbva=bbva.es",
    "caixabank.es", "sparkasse.de", "postbank.de", "laposte.fr", "ameli.fr", "irs.gov",
    "steampowered.com", "steam=steamcommunity.com", "trustwallet.com", "opensea.io",
    "ledger.com", "kraken.com", "blockchain.com", "crypto.com", "openai.com", "kroger.com",
    "disney.com", "aarp.org", "harborfreight.com", "lowes.com", "homedepot.com", "costco.com",
    "target.com", "bestbuy.com", "geico.com", "statefarm.com", "siriusxm.com", "norton.com",
    "mcafee.com", "verizon.com", "t-mobile.com", "xfinity.com", "comcast.com", "zelle=zellepay.com",
    "venmo.com", "cashapp=cash.app", "itaucard=itau.com.br", "primevideo=primevideo.com",
    "americanexpress=amex.com", "dhl=dhl.fr", "hmrc=hmrc.gov.uk",
    NULL,
};

/* Domains used by everyone although a brand runs them: never "brand inside
 * another domain". */
static const char *const neutral_domains[] = {
    "amazonaws.com", "amazonses.com", "googleusercontent.com", "googleapis.com",
    "googlegroups.com", "google-analytics.com", "googlemail.com", "microsoftstream.com",
    "applebot.com", "paypalobjects.com", "fbcdn.net", "ebaystatic.com", "ebayimg.com",
    "ssl-images-amazon.com", "media-amazon.com", "amazontrust.com", NULL,
};

static const char *const freemail[] = {
    "gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
    "aol.com", "icloud.com", "me.com", "mac.com", "mail.com", "gmx.com", "gmx.net", "gmx.de",
    "web.de", "yandex.com", "yandex.ru", "mail.ru", "protonmail.com", "proton.me",
    "zoho.com", "terra.com.br", "uol.com.br", "bol.com.br", "ig.com.br", "libero.it",
    "orange.fr", "free.fr", "laposte.net", "t-online.de", "qq.com", "163.com", "126.com",
    "rediffmail.com", "inbox.com", "yahoo.com", "ymail.com", "rocketmail.com", "tutanota.com",
    NULL,
};
/* Freemail providers with many country domains: matched by label. */
static const char *const freemail_labels[] = {"yahoo", "hotmail", "outlook", "live", "gmx",
                                              "yandex", "aol", NULL};

static const char *const shorteners[] = {
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "s.id", "v.gd",
    "qrco.de", "lnkd.in", "surl.li", "shorte.st", "adf.ly", "bl.ink", "tiny.one", "u.to",
    "urlz.fr", "x.gd", "bit.do", "soo.gd", "clck.ru", "kutt.it", "tr.im", "cli.re", "gg.gg",
    "smarturl.it", "snip.ly", "han.gl", "me2.do", "t2m.io", "shrtco.de", "short.gy",
    "tinu.be", "zpr.io", "1url.com", "shorturl.com", "hyperurl.co", "bitly.ws", "qr.net",
    "y2u.be", "is.gd", "l.ead.me", "rotf.lol", "shorter.me", "linktr.ee", "tiny.pl",
    "trib.al", "dlvr.it", "ift.tt", "wp.me", "amzn.to", "fb.me", "youtu.be", NULL,
};

/* Hosts where anyone can publish a page or a form (suffix match). */
static const char *const free_hosting[] = {
    "firebaseapp.com", "web.app", "weebly.com", "weeblysite.com", "wixsite.com",
    "000webhostapp.com", "blogspot.com", "github.io", "glitch.me", "herokuapp.com",
    "netlify.app", "vercel.app", "pages.dev", "workers.dev", "r2.dev", "azurewebsites.net",
    "web.core.windows.net", "blob.core.windows.net", "storage.googleapis.com",
    "firebasestorage.googleapis.com", "sites.google.com", "docs.google.com", "forms.gle",
    "typeform.com", "jotform.com", "ipfs.io", "dweb.link", "cloudflare-ipfs.com",
    "mybluehost.me", "square.site", "godaddysites.com", "wordpress.com", "notion.site",
    "webflow.io", "carrd.co", "replit.app", "repl.co", "onrender.com", "s3.amazonaws.com",
    "backblazeb2.com", "ngrok.io", "ngrok-free.app", "trycloudflare.com", "duckdns.org",
    "yolasite.com", "jimdosite.com", "strikingly.com", "mystrikingly.com", "webnode.page",
    "site123.me", "wix.com", "formstack.com", "123formbuilder.com", "zohopublic.com",
    "myshopify.com", "ukit.me", "tilda.ws", "gitbook.io", "framer.app", "my.canva.site",
    "canva.site", "linodeobjects.com", "digitaloceanspaces.com", NULL,
};

static const char *const abused_tlds[] = {
    "top", "xyz", "click", "beauty", "vip", "shop", "online", "site", "buzz", "rest", "cfd",
    "sbs", "monster", "icu", "cyou", "quest", "lol", "autos", "bond", "work", "support",
    "space", "fun", "club", "tk", "ml", "ga", "cf", "gq", "pw", "su", "zip", "mov", "best",
    "casa", "skin", "hair", "makeup", "boats", "mom", "yachts", "bar", "uno", "store", "live",
    "life", "today", "website", "digital", "link", "loan", "win", "bid", "date", "racing",
    "review", "stream", "download", "country", "kim", "men", "party", "science", "trade",
    "accountant", "faith", "cricket", "gdn", "ltd", "host", "press", "pics", "motorcycles",
    "homes", "tokyo", "ink", "beauty", "christmas", "help", "center", "email", "finance",
    "ws", "cc", "one", "info", "biz", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

/* Does <host> equal <suffix> or end with "." <suffix>? */
static bool host_under(const char *host, const char *suffix)
{
    size_t h = strlen(host), s = strlen(suffix);
    if (h < s || strcmp(host + h - s, suffix))
        return false;
    return h == s || host[h - s - 1] == '.';
}

static bool host_under_list(const char *const *list, const char *host)
{
    for (size_t i = 0; list[i]; i++)
        if (host_under(host, list[i]))
            return true;
    return false;
}

bool ag_phish_tld_abused(const char *host)
{
    const char *dot = strrchr(host, '.');
    return dot && in_list(abused_tlds, dot + 1);
}

/* The label of a registrable domain (left of the first dot) into <out>. */
static void reg_label(const char *reg, char *out, size_t outlen)
{
    size_t n = strcspn(reg, ".");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, reg, n);
    out[n] = '\0';
}

bool ag_phish_domain_freemail(const char *reg)
{
    if (!reg)
        return false;
    if (in_list(freemail, reg))
        return true;
    char label[64];
    reg_label(reg, label, sizeof label);
    return in_list(freemail_labels, label);
}

bool ag_phish_domain_shortener(const char *reg, const char *host)
{
    return (reg && in_list(shorteners, reg)) || (host && in_list(shorteners, host));
}

bool ag_phish_domain_free_hosting(const char *reg, const char *host)
{
    return host && host_under_list(free_hosting, host);
}

/* Machine-made labels: "fk1izdode6", "q2bfawq7pq", "xjwqzptk". Digits mixed
 * into letters several times, or a long run without vowels. */
bool ag_phish_label_random(const char *reg)
{
    char label[64];
    reg_label(reg, label, sizeof label);
    size_t n = strlen(label);
    if (n < 7)
        return false;
    int switches = 0, digits = 0, run = 0, maxrun = 0, vowels = 0, letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)label[i];
        bool d = isdigit(ch);
        digits += d;
        if (i && d != (bool)isdigit((unsigned char)label[i - 1]) && label[i] != '-' &&
            label[i - 1] != '-')
            switches++;
        if (isalpha(ch)) {
            letters++;
            bool v = strchr("aeiouy", ch) != NULL;
            vowels += v;
            run = v ? 0 : run + 1;
            if (run > maxrun)
                maxrun = run;
        } else {
            run = 0;
        }
    }
    if (switches >= 3 && digits >= 2 && letters >= 3)
        return true;
    if (maxrun >= 6)
        return true;
    return letters >= 8 && vowels * 6 < letters;
}

bool ag_phish_host_random(const char *host, const char *addr)
{
    /* Every label of the host, then the mailbox name. */
    for (const char *p = host; p && *p;) {
        if (ag_phish_label_random(p))
            return true;
        p = strchr(p, '.');
        if (p)
            p++;
    }
    if (!addr)
        return false;
    char local[64];
    size_t n = strcspn(addr, "@");
    if (n >= sizeof local)
        return false;
    for (size_t i = 0; i < n; i++)
        local[i] = addr[i] == '.' || addr[i] == '_' || addr[i] == '+' ? '-' : (char)tolower((unsigned char)addr[i]);
    local[n] = '\0';
    return ag_phish_label_random(local);
}

int ag_phish_host_ascii(const char *host, size_t len, char *out, size_t outlen)
{
    while (len && host[len - 1] == '.')
        len--;
    if (!len || len >= outlen || len > 253)
        return -1;
    bool ascii = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (ch >= 0x80) {
            ascii = false;
        } else if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_')) {
            return -1;
        }
    }
    if (ascii) {
        for (size_t i = 0; i < len; i++)
            out[i] = (char)tolower((unsigned char)host[i]);
        out[len] = '\0';
        return out[0] == '.' || strstr(out, "..") ? -1 : 0;
    }
    char tmp[256];
    memcpy(tmp, host, len);
    tmp[len] = '\0';
    char *res = NULL;
    int rc = idn2_to_ascii_8z(tmp, &res, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        rc = idn2_to_ascii_8z(tmp, &res, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    if (rc != IDN2_OK || !res)
        return -1;
    size_t n = strlen(res);
    if (n >= outlen) {
        idn2_free(res);
        return -1;
    }
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)res[i]);
    idn2_free(res);
    return 0;
}

int ag_phish_registrable(const struct ag_phish_analyzer *a, const char *host, char *out,
                         size_t outlen)
{
    bool v6;
    if (!host || !*host || ag_ip_valid(host, &v6))
        return -1;
    const char *reg = psl_registrable_domain(a->psl, host);
    if (!reg || strlen(reg) >= outlen)
        return -1;
    strcpy(out, reg);
    return 0;
}

/* UTS #39 skeleton of an ASCII label (punycode decoded first). */
static int skeleton(const struct ag_phish_analyzer *a, const char *label, char *out,
                    size_t outlen)
{
    char *uni = NULL;
    const char *s = label;
    if (strstr(label, "xn--") && idn2_to_unicode_8z8z(label, &uni, 0) == IDN2_OK && uni)
        s = uni;
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = uspoof_getSkeletonUTF8(a->spoof, 0, s, -1, out, (int32_t)outlen, &st);
    if (uni)
        idn2_free(uni);
    if (U_FAILURE(st) || n < 0 || (size_t)n >= outlen)
        return -1;
    /* Case does not matter in host names. */
    for (int32_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    return 0;
}

/* Optimal string alignment distance (edits plus adjacent swaps), capped. */
static int osa_distance(const char *s, const char *t, int cap)
{
    size_t n = strlen(s), m = strlen(t);
    if (n > 63 || m > 63)
        return cap + 1;
    if ((n > m ? n - m : m - n) > (size_t)cap)
        return cap + 1;
    int d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = s[i - 1] != t[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && s[i - 1] == t[j - 2] && s[i - 2] == t[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m];
}

int ag_phish_brand_owner(const struct ag_phish_analyzer *a, const char *reg)
{
    if (!reg)
        return -1;
    for (size_t i = 0; i < a->nbrands; i++)
        if (!strcmp(a->brands[i].domain, reg))
            return (int)i;
    /* The brand's own label under a country code (amazon.co.jp, paypal.de):
     * brands hold those, and flagging them would only raise false alarms. */
    char label[64];
    reg_label(reg, label, sizeof label);
    const char *suffix = reg + strlen(label);
    const char *tld = strrchr(reg, '.');
    if (!tld || strlen(tld + 1) != 2 || strlen(suffix) > 8)
        return -1;
    for (size_t i = 0; i < a->nbrands; i++)
        if (!strcmp(a->brands[i].label, label) && strlen(label) >= 4)
            return (int)i;
    return -1;
}

/* Is <tok> (length n) one of host's '.'/'-' separated tokens? */
static bool host_has_token(const char *host, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = host; (p = strstr(p, tok)); p++) {
        bool left = p == host || p[-1] == '.' || p[-1] == '-';
        bool right = p[n] == '\0' || p[n] == '.' || p[n] == '-';
        if (left && right)
            return true;
    }
    return false;
}

int ag_phish_brand_lookalike(const struct ag_phish_analyzer *a, const char *host,
                             const char *reg, bool *lookalike, const char **how)
{
    *lookalike = false;
    *how = NULL;
    if (!host || !reg || ag_phish_brand_owner(a, reg) >= 0)
        return -1;
    if (in_list(neutral_domains, reg))
        return -1;
    char label[64], skel[192], flat[64];
    reg_label(reg, label, sizeof label);
    if (skeleton(a, label, skel, sizeof skel))
        skel[0] = '\0';
    size_t k = 0;
    for (const char *p = label; *p && k + 1 < sizeof flat; p++)
        if (*p != '-')
            flat[k++] = *p;
    flat[k] = '\0';
    size_t llen = strlen(label);
    /* First pass: the registrable label imitates a brand's. */
    for (size_t i = 0; i < a->nbrands; i++) {
        const struct ag_phish_brand *b = &a->brands[i];
        size_t blen = strlen(b->label);
        if (!strcmp(label, b->label) || !strcmp(flat, b->label)) {
            if (strcmp(label, b->label)) {
                *lookalike = true;
                *how = "hyphenated brand name";
                return (int)i;
            }
            /* Same label under another suffix (paypal.com.co): lookalike. */
            *lookalike = true;
            *how = "brand name under another suffix";
            return (int)i;
        }
        if (skel[0] && !strcmp(skel, b->skel)) {
            *lookalike = true;
            *how = "confusable characters (UTS #39 skeleton)";
            return (int)i;
        }
        if (blen >= 5 && llen >= 4) {
            int cap = blen >= 9 ? 2 : 1;
            int d = osa_distance(label, b->label, cap);
            if (d <= cap) {
                *lookalike = true;
                *how = d == 1 ? "one character added, removed, swapped or changed"
                              : "two characters changed";
                return (int)i;
            }
        }
    }
    /* Second pass: the brand's domain or name sits inside the host. */
    for (size_t i = 0; i < a->nbrands; i++) {
        const struct ag_phish_brand *b = &a->brands[i];
        size_t blen = strlen(b->label);
        const char *p = strstr(host, b->domain);
        if (p && p != host + strlen(host) - strlen(b->domain) &&
            (p == host || p[-1] == '.' || p[-1] == '-')) {
            *how = "brand domain as a subdomain of another domain";
            return (int)i;
        }
        if (blen >= 3 && host_has_token(host, b->label)) {
            *how = "brand name as a subdomain or word of another domain";
            return (int)i;
        }
        if (blen >= 5 && strstr(label, b->label)) {
            *how = "brand name inside another domain's name";
            return (int)i;
        }
        if (strcmp(b->key, b->label) && strlen(b->key) >= 5 && strstr(flat, b->key)) {
            *how = "brand name inside another domain's name";
            return (int)i;
        }
    }
    return -1;
}

int ag_phish_brand_in_name(const struct ag_phish_analyzer *a, const char *s)
{
    char flat[512];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < sizeof flat; p++)
        if (isalnum(*p))
            flat[k++] = (char)tolower(*p);
    flat[k] = '\0';
    if (!k)
        return -1;
    for (size_t i = 0; i < a->nbrands; i++) {
        const char *key = a->brands[i].key;
        size_t n = strlen(key);
        if (n < 4)
            continue;
        /* Short names must be the whole name or a word of it. */
        if (n < 6) {
            if (!strcmp(flat, key))
                return (int)i;
            char low[512];
            size_t j = 0;
            for (const unsigned char *p = (const unsigned char *)s; *p && j + 1 < sizeof low; p++)
                low[j++] = isalnum(*p) ? (char)tolower(*p) : ' ';
            low[j] = '\0';
            for (char *q = low; (q = strstr(q, key)); q++)
                if ((q == low || q[-1] == ' ') && (q[n] == ' ' || q[n] == '\0'))
                    return (int)i;
            continue;
        }
        if (strstr(flat, key))
            return (int)i;
    }
    return -1;
}

static uint32_t utf8_next(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (extra)
        c &= 0x3f >> extra;
    while (extra-- && (*p & 0xc0) == 0x80)
        c = (c << 6) | (*p++ & 0x3f);
    *pp = p;
    return c;
}

bool ag_phish_text_confusable(const struct ag_phish_analyzer *a, const char *s, const char **what)
{
    const unsigned char *p = (const unsigned char *)s;
    bool nonascii = false;
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        nonascii = true;
        uint32_t c = utf8_next(&p);
        if ((c >= 0x200b && c <= 0x200f) || (c >= 0x2060 && c <= 0x2064) || c == 0xfeff ||
            c == 0x00ad || c == 0x034f || c == 0x180e || c == 0x3164 || c == 0x115f ||
            c == 0x1160 || c == 0x2800) {
            *what = "invisible characters";
            return true;
        }
        if (c >= 0x1d400 && c <= 0x1d7ff) {
            *what = "mathematical styled letters";
            return true;
        }
        if ((c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a)) {
            *what = "full-width letters";
            return true;
        }
        if (c >= 0x24b6 && c <= 0x24e9) {
            *what = "circled letters";
            return true;
        }
    }
    if (!nonascii)
        return false;
    /* Words mixing scripts (Latin with Cyrillic or Greek look-alikes). */
    const char *w = s;
    while (*w) {
        size_t n = strcspn(w, " \t\r\n,;:!?()[]\"'<>|/");
        bool hi = false, lo = false;
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)w[i] >= 0x80)
                hi = true;
            else if (isalpha((unsigned char)w[i]))
                lo = true;
        }
        if (hi && lo && n > 2) {
            UErrorCode st = U_ZERO_ERROR;
            int32_t r = uspoof_checkUTF8(a->spoof, w, (int32_t)n, NULL, &st);
            if (U_SUCCESS(st) && (r & (USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS))) {
                *what = "words mixing scripts (look-alike letters)";
                return true;
            }
        }
        w += n;
        while (*w && strchr(" \t\r\n,;:!?()[]\"'<>|/", *w))
            w++;
    }
    return false;
}

static int brand_add(struct ag_phish_analyzer *a, const char *spec, struct ag_err *err)
{
    const char *eq = strchr(spec, '=');
    const char *dom = eq ? eq + 1 : spec;
    char host[256], reg[256];
    if (ag_phish_host_ascii(dom, strlen(dom), host, sizeof host) ||
        ag_phish_registrable(a, host, reg, sizeof reg))
        return ag_err_set(err, AG_EINVAL, "invalid_brand", "brands", "not a brand domain: %s",
                          spec);
    struct ag_phish_brand b = {0};
    char label[64], key[64], skel[192];
    reg_label(reg, label, sizeof label);
    size_t k = 0;
    const char *name = eq ? spec : label;
    size_t namelen = eq ? (size_t)(eq - spec) : strlen(label);
    for (size_t i = 0; i < namelen && k + 1 < sizeof key; i++)
        if (isalnum((unsigned char)name[i]))
            key[k++] = (char)tolower((unsigned char)name[i]);
    key[k] = '\0';
    if (!k || skeleton(a, label, skel, sizeof skel))
        return ag_err_set(err, AG_EINVAL, "invalid_brand", "brands", "not a brand domain: %s",
                          spec);
    b.key = strdup(key);
    b.domain = strdup(reg);
    b.label = strdup(label);
    b.skel = strdup(skel);
    struct ag_phish_brand *nb = realloc(a->brands, (a->nbrands + 1) * sizeof *nb);
    if (!b.key || !b.domain || !b.label || !b.skel || !nb) {
        free(b.key);
        free(b.domain);
        free(b.label);
        free(b.skel);
        if (nb)
            a->brands = nb;
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    }
    a->brands = nb;
    a->brands[a->nbrands++] = b;
    return 0;
}

int ag_phish_domains_init(struct ag_phish_analyzer *a, const struct ag_phish_options *opt,
                          struct ag_err *err)
{
    const char *pslf = opt && opt->psl_file ? opt->psl_file
                                            : "/usr/share/publicsuffix/public_suffix_list.dat";
    a->psl = psl_load_file(pslf);
    if (!a->psl && opt && opt->psl_file)
        return ag_err_set(err, AG_EINVAL, "invalid_psl", "", "cannot load public suffix list %s",
                          pslf);
    if (!a->psl)
        a->psl = (psl_ctx_t *)psl_builtin();
    if (!a->psl)
        return ag_err_set(err, AG_EINTERNAL, "no_psl", "", "no public suffix list");
    UErrorCode st = U_ZERO_ERROR;
    a->spoof = uspoof_open(&st);
    if (U_FAILURE(st))
        return ag_err_set(err, AG_EINTERNAL, "icu", "", "uspoof_open: %s", u_errorName(st));
    uspoof_setChecks(a->spoof, USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS, &st);
    uspoof_setRestrictionLevel(a->spoof, USPOOF_MODERATELY_RESTRICTIVE);
    if (U_FAILURE(st))
        return ag_err_set(err, AG_EINTERNAL, "icu", "", "uspoof_setChecks: %s", u_errorName(st));
    bool defaults = !opt || !opt->brands || !opt->nbrands || opt->brands_add_defaults;
    if (defaults)
        for (size_t i = 0; ag_phish_default_brands[i]; i++)
            if (brand_add(a, ag_phish_default_brands[i], err))
                return err ? err->code : AG_EINVAL;
    if (opt && opt->brands)
        for (size_t i = 0; i < opt->nbrands; i++)
            if (brand_add(a, opt->brands[i], err))
                return err ? err->code : AG_EINVAL;
    return 0;
}

void ag_phish_domains_free(struct ag_phish_analyzer *a)
{
    for (size_t i = 0; i < a->nbrands; i++) {
        free(a->brands[i].key);
        free(a->brands[i].domain);
        free(a->brands[i].label);
        free(a->brands[i].skel);
    }
    free(a->brands);
    a->brands = NULL;
    a->nbrands = 0;
    if (a->psl && a->psl != psl_builtin())
        psl_free(a->psl);
    a->psl = NULL;
    if (a->spoof)
        uspoof_close(a->spoof);
    a->spoof = NULL;
}
