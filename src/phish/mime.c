/* Email: parse a raw RFC 5322 message with GMime (multipart MIME, encoded
 * words, transfer encodings, charsets), then check the sender (From,
 * display name, Reply-To, Return-Path, Authentication-Results), walk the
 * parts for text, HTML and attachments, and hand text and links to the
 * other scanners. Header vintage (Date, Received, X-Mailer, DKIM presence)
 * is deliberately not looked at: see docs/PHISHING.md. */
#include "phish/internal.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 100
#define MAX_DEPTH 8
#define MAX_TEXT_PART (1024 * 1024)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libs(void)
{
    g_mime_init();
    xmlInitParser();
}

void ag_phish_mime_init(void) { pthread_once(&init_once, init_libs); }

/* Domain part of an address, normalized, and its registrable domain. */
static bool addr_domain(const struct ag_phish_analyzer *a, const char *addr, char *host,
                        size_t hlen, char *reg, size_t rlen)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    if (!at || ag_phish_host_ascii(at + 1, strlen(at + 1), host, hlen))
        return false;
    if (ag_phish_registrable(a, host, reg, rlen))
        snprintf(reg, rlen, "%s", host);
    return true;
}

static InternetAddressMailbox *first_mailbox(InternetAddressList *l)
{
    if (!l)
        return NULL;
    int n = internet_address_list_length(l);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            return INTERNET_ADDRESS_MAILBOX(ia);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressMailbox *m =
                first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
            if (m)
                return m;
        }
    }
    return NULL;
}

static void check_from(struct ag_phish_ctx *c, GMimeMessage *msg)
{
    const struct ag_phish_analyzer *a = c->a;
    InternetAddressMailbox *mb = first_mailbox(g_mime_message_get_from(msg));
    if (!mb)
        return;
    const char *addr = internet_address_mailbox_get_addr(mb);
    const char *name = internet_address_get_name(INTERNET_ADDRESS(mb));
    char host[256], reg[256];
    if (addr && *addr) {
        c->r->from = ag_phish_arena_strdup(c->r, addr);
        ag_phish_indicator_add(c, AG_PHISH_IND_EMAIL, addr, strlen(addr), "header:From");
    }
    bool have_domain = addr_domain(a, addr, host, sizeof host, reg, sizeof reg);
    if (have_domain) {
        c->from_reg = ag_phish_arena_strdup(c->r, reg);
        c->from_brand = ag_phish_brand_owner(a, reg);
        ag_phish_indicator_add(c, AG_PHISH_IND_DOMAIN, host, strlen(host), "header:From");
        bool look;
        const char *how;
        int b = ag_phish_brand_lookalike(a, host, reg, &look, &how);
        if (b >= 0)
            ag_phish_fire(c, look ? AG_PHISH_SIG_SENDER_LOOKALIKE : AG_PHISH_SIG_SENDER_BRAND_IN_DOMAIN,
                          "header:From", "%s: %s (%s)", host, how, a->brands[b].domain);
        if (strstr(host, "xn--"))
            ag_phish_fire(c, AG_PHISH_SIG_SENDER_PUNYCODE, "header:From", "%s", host);
        if (c->from_brand < 0 && ag_phish_host_random(host, addr))
            ag_phish_fire(c, AG_PHISH_SIG_SENDER_RANDOM, "header:From", "%s", addr);
        if (c->from_brand < 0 && ag_phish_tld_abused(host))
            ag_phish_fire(c, AG_PHISH_SIG_SENDER_ABUSED_TLD, "header:From", "%s", host);
        if (ag_phish_domain_freemail(reg))
            ag_phish_fire(c, AG_PHISH_SIG_SENDER_FREEMAIL, "header:From", "%s", addr);
    }
    const char *fromkey = c->from_brand >= 0 ? a->brands[c->from_brand].key : NULL;
    if (name && *name) {
        int b = ag_phish_brand_in_name(a, name);
        if (b >= 0 && (!fromkey || strcmp(fromkey, a->brands[b].key)))
            ag_phish_fire(c, AG_PHISH_SIG_DISPLAY_BRAND, "header:From",
                          "display name \"%s\" names %s, address is %s", name,
                          a->brands[b].domain, addr ? addr : "(none)");
        size_t off, m;
        if (ag_phish_re_find(a->re_email, name, strlen(name), 0, &off, &m) &&
            (!addr || strncasecmp(name + off, addr, m) || strlen(addr) != m))
            ag_phish_fire(c, AG_PHISH_SIG_DISPLAY_ADDRESS, "header:From",
                          "display name shows %.*s, address is %s", (int)m, name + off,
                          addr ? addr : "(none)");
        const char *what;
        if (ag_phish_text_confusable(a, name, &what))
            ag_phish_fire(c, AG_PHISH_SIG_DISPLAY_CONFUSABLE, "header:From", "%s: \"%s\"", what,
                          name);
    }
    if (addr) {
        /* A brand in the mailbox name: "paypal.service@other.example". */
        const char *at = strrchr(addr, '@');
        char local[128];
        snprintf(local, sizeof local, "%.*s", at ? (int)(at - addr) : 0, addr);
        int b = local[0] ? ag_phish_brand_in_name(a, local) : -1;
        if (b >= 0 && (!fromkey || strcmp(fromkey, a->brands[b].key)))
            ag_phish_fire(c, AG_PHISH_SIG_DISPLAY_BRAND, "header:From",
                          "address %s names %s", addr, a->brands[b].domain);
    }
}

static void check_reply_to(struct ag_phish_ctx *c, GMimeMessage *msg)
{
    const struct ag_phish_analyzer *a = c->a;
    InternetAddressMailbox *mb = first_mailbox(g_mime_message_get_reply_to(msg));
    if (!mb)
        return;
    const char *addr = internet_address_mailbox_get_addr(mb);
    char host[256], reg[256];
    if (!addr || !addr_domain(a, addr, host, sizeof host, reg, sizeof reg))
        return;
    ag_phish_indicator_add(c, AG_PHISH_IND_EMAIL, addr, strlen(addr), "header:Reply-To");
    if (!c->from_reg || !strcmp(reg, c->from_reg))
        return;
    int owner = ag_phish_brand_owner(a, reg);
    if (owner >= 0 && c->from_brand >= 0 &&
        !strcmp(a->brands[owner].key, a->brands[c->from_brand].key))
        return;
    ag_phish_fire(c, AG_PHISH_SIG_REPLY_TO_MISMATCH, "header:Reply-To",
                  "replies go to %s, From is @%s", addr, c->from_reg);
    if (ag_phish_domain_freemail(reg) && !ag_phish_domain_freemail(c->from_reg))
        ag_phish_fire(c, AG_PHISH_SIG_REPLY_TO_FREEMAIL, "header:Reply-To",
                      "replies go to free mailbox %s", addr);
}

static void check_return_path(struct ag_phish_ctx *c, GMimeMessage *msg)
{
    const char *rp = g_mime_object_get_header(GMIME_OBJECT(msg), "Return-Path");
    if (!rp)
        return;
    char addr[320];
    const char *lt = strchr(rp, '<');
    const char *s = lt ? lt + 1 : rp;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strcspn(s, "> \t\r\n");
    if (!n || n >= sizeof addr)
        return;
    memcpy(addr, s, n);
    addr[n] = '\0';
    char host[256], reg[256];
    if (!addr_domain(c->a, addr, host, sizeof host, reg, sizeof reg))
        return;
    ag_phish_indicator_add(c, AG_PHISH_IND_EMAIL, addr, n, "header:Return-Path");
    if (c->from_reg && strcmp(reg, c->from_reg))
        ag_phish_fire(c, AG_PHISH_SIG_RETURN_PATH_MISMATCH, "header:Return-Path",
                      "bounces go to %s, From is @%s", addr, c->from_reg);
}

/* One "method=result" of Authentication-Results: fires on failures. */
static void auth_method(struct ag_phish_ctx *c, const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p))
        p++, n--;
    static const struct {
        const char *m;
        enum ag_phish_sig sig;
    } methods[] = {{"spf=", AG_PHISH_SIG_AUTH_SPF_FAIL},
                   {"dkim=", AG_PHISH_SIG_AUTH_DKIM_FAIL},
                   {"dmarc=", AG_PHISH_SIG_AUTH_DMARC_FAIL}};
    for (size_t i = 0; i < AG_ARRAY_LEN(methods); i++) {
        size_t ml = strlen(methods[i].m);
        if (n <= ml || strncasecmp(p, methods[i].m, ml))
            continue;
        const char *res = p + ml;
        size_t rl = 0;
        while (rl < n - ml && isalpha((unsigned char)res[rl]))
            rl++;
        bool fail = (rl == 4 && !strncasecmp(res, "fail", 4)) ||
                    (rl == 8 && !strncasecmp(res, "softfail", 8) && methods[i].sig == AG_PHISH_SIG_AUTH_SPF_FAIL);
        if (fail) {
            size_t en = strcspn(p, "(;");
            if (en > n)
                en = n;
            while (en && isspace((unsigned char)p[en - 1]))
                en--;
            ag_phish_fire(c, methods[i].sig, "header:Authentication-Results", "%.*s",
                          (int)(en > 120 ? 120 : en), p);
        }
    }
}

/* Authentication-Results (RFC 8601): only the topmost header counts, the
 * one our own receiving server added; lower ones may be forged. */
static void check_auth(struct ag_phish_ctx *c, GMimeMessage *msg)
{
    /* Mailing lists rewrite messages and so break DKIM and DMARC of their
     * posters: failures there say nothing. */
    if (g_mime_object_get_header(GMIME_OBJECT(msg), "List-Id"))
        return;
    GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    int n = g_mime_header_list_get_count(hl);
    const char *ar = NULL, *rspf = NULL;
    for (int i = 0; i < n; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);
        if (!ar && !strcasecmp(name, "Authentication-Results"))
            ar = g_mime_header_get_value(h);
        else if (!rspf && !strcasecmp(name, "Received-SPF"))
            rspf = g_mime_header_get_value(h);
    }
    if (ar) {
        /* Skip parenthesized comments while splitting on ';'. */
        const char *s = ar, *start = ar;
        int depth = 0;
        for (;; s++) {
            if (*s == '(')
                depth++;
            else if (*s == ')' && depth)
                depth--;
            if (*s == '\0' || (*s == ';' && !depth)) {
                /* A piece may hold several "m=r" (no ';' between). */
                const char *q = start;
                while (q < s) {
                    auth_method(c, q, (size_t)(s - q));
                    const char *sp = q;
                    while (sp < s && !isspace((unsigned char)*sp))
                        sp++;
                    while (sp < s && isspace((unsigned char)*sp))
                        sp++;
                    q = sp > q ? sp : s;
                }
                if (!*s)
                    break;
                start = s + 1;
            }
        }
    }
    if (!c->fired[AG_PHISH_SIG_AUTH_SPF_FAIL] && rspf) {
        while (isspace((unsigned char)*rspf))
            rspf++;
        if (!strncasecmp(rspf, "fail", 4) || !strncasecmp(rspf, "softfail", 8))
            ag_phish_fire(c, AG_PHISH_SIG_AUTH_SPF_FAIL, "header:Received-SPF", "%.40s", rspf);
    }
}

static bool ext_in(const char *ext, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(ext, list[i]))
            return true;
    return false;
}

static void check_attachment(struct ag_phish_ctx *c, const char *fname, GMimeContentType *ct)
{
    static const char *const exec[] = {"exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe",
                                       "js", "jse", "wsf", "wsh", "hta", "msi", "msp", "jar",
                                       "ps1", "lnk", "cpl", "reg", "dll", "apk", "app", "sh",
                                       "appx", "msix", "url", "chm", "xll", NULL};
    static const char *const macro[] = {"docm", "xlsm", "pptm", "dotm", "xltm", "xlam",
                                        "ppam", "doc", "xls", "ppt", "xlsb", "xla", "dot",
                                        "rtf", "one", NULL};
    static const char *const archive[] = {"zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz",
                                          "cab", "ace", "arj", "lzh", "iso", "img", "vhd",
                                          "vhdx", "z", "r00", NULL};
    static const char *const html[] = {"htm", "html", "shtml", "xhtml", "svg", "mht", "mhtml",
                                       "xht", NULL};
    static const char *const decoy[] = {"pdf", "doc", "docx", "xls", "xlsx", "jpg", "jpeg",
                                        "png", "txt", "rtf", "gif", "mp3", "mp4", "csv", NULL};
    char low[256];
    size_t n = 0;
    for (const char *p = fname ? fname : ""; *p && n + 1 < sizeof low; p++)
        low[n++] = (char)tolower((unsigned char)*p);
    low[n] = '\0';
    while (n && (low[n - 1] == ' ' || low[n - 1] == '.'))
        low[--n] = '\0';
    const char *dot = strrchr(low, '.');
    const char *ext = dot ? dot + 1 : "";
    const char *type = ct ? g_mime_content_type_get_media_type(ct) : "";
    const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : "";
    char mime[128];
    snprintf(mime, sizeof mime, "%s/%s", type ? type : "", sub ? sub : "");
    for (char *p = mime; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *shown = fname && *fname ? fname : mime;
    if (ext_in(ext, exec) || !strcmp(mime, "application/x-msdownload") ||
        !strcmp(mime, "application/x-dosexec") || !strcmp(mime, "application/x-msdos-program") ||
        !strcmp(mime, "application/java-archive") || !strcmp(mime, "application/hta"))
        ag_phish_fire(c, AG_PHISH_SIG_ATTACH_EXEC, "attachment", "%s", shown);
    if (ext_in(ext, macro) || strstr(mime, "macroenabled") || !strcmp(mime, "application/msword") ||
        !strcmp(mime, "application/vnd.ms-excel"))
        ag_phish_fire(c, AG_PHISH_SIG_ATTACH_MACRO, "attachment", "%s", shown);
    if (ext_in(ext, archive) || !strcmp(mime, "application/zip") ||
        !strcmp(mime, "application/x-zip-compressed") || !strcmp(mime, "application/x-rar-compressed") ||
        !strcmp(mime, "application/vnd.rar") || !strcmp(mime, "application/x-7z-compressed") ||
        !strcmp(mime, "application/x-iso9660-image"))
        ag_phish_fire(c, AG_PHISH_SIG_ATTACH_ARCHIVE, "attachment", "%s", shown);
    if (ext_in(ext, html) || !strcmp(mime, "text/html") || !strcmp(mime, "image/svg+xml"))
        ag_phish_fire(c, AG_PHISH_SIG_ATTACH_HTML, "attachment", "%s", shown);
    if (dot && dot > low) {
        const char *prev = dot - 1;
        while (prev > low && *prev != '.')
            prev--;
        if (*prev == '.') {
            char pext[16];
            size_t pl = (size_t)(dot - prev - 1);
            if (pl < sizeof pext) {
                memcpy(pext, prev + 1, pl);
                pext[pl] = '\0';
                if (ext_in(pext, decoy) &&
                    (ext_in(ext, exec) || ext_in(ext, html) || ext_in(ext, archive)))
                    ag_phish_fire(c, AG_PHISH_SIG_ATTACH_DOUBLE_EXT, "attachment", "%s", fname);
            }
        }
        /* Padding before the real extension: "invoice.pdf        .exe". */
        if (strstr(low, "     ."))
            ag_phish_fire(c, AG_PHISH_SIG_ATTACH_DOUBLE_EXT, "attachment", "%s", fname);
    }
}

struct walk {
    struct ag_phish_ctx *c;
    int parts;
    size_t plain_words;
};

static void walk(struct walk *w, GMimeObject *obj, int depth);

static void walk_message(struct walk *w, GMimeMessage *m, int depth)
{
    if (!m || depth > MAX_DEPTH)
        return;
    GMimeObject *body = g_mime_message_get_mime_part(m);
    if (body)
        walk(w, body, depth + 1);
}

static size_t count_words(const char *s, size_t n)
{
    size_t words = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        bool ch = !isspace((unsigned char)s[i]);
        if (ch && !in)
            words++;
        in = ch;
    }
    return words;
}

static void walk(struct walk *w, GMimeObject *obj, int depth)
{
    struct ag_phish_ctx *c = w->c;
    if (!obj || depth > MAX_DEPTH || ++w->parts > MAX_PARTS)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner) {
            const char *subj = g_mime_message_get_subject(inner);
            if (subj)
                ag_phish_text_add(c, subj, strlen(subj));
        }
        walk_message(w, inner, depth + 1);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    GMimePart *part = GMIME_PART(obj);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *fname = g_mime_part_get_filename(part);
    const char *disp = g_mime_object_get_disposition(obj);
    bool is_text = GMIME_IS_TEXT_PART(obj);
    bool html = ct && g_mime_content_type_is_type(ct, "text", "html");
    bool attachment = (fname && *fname) || (disp && !strcasecmp(disp, "attachment"));
    if (attachment && !(is_text && !fname && !html))
        check_attachment(c, fname, ct);
    if (!is_text || (attachment && !html))
        return;
    if (ct && !g_mime_content_type_is_type(ct, "text", "plain") && !html)
        return;
    char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
    if (!text)
        return;
    size_t n = strlen(text);
    if (n > MAX_TEXT_PART)
        n = MAX_TEXT_PART;
    if (html) {
        ag_phish_html_scan(c, text, n);
    } else {
        w->plain_words += count_words(text, n < 65536 ? n : 65536);
        ag_phish_text_add(c, text, n);
        ag_phish_text_scan_links(c, text, n < 262144 ? n : 262144, true);
    }
    g_free(text);
}

int ag_phish_email_scan(struct ag_phish_ctx *c, const char *raw, size_t len, struct ag_err *err)
{
    ag_phish_mime_init();
    /* Tolerate an mbox "From " separator line. */
    if (len > 5 && !memcmp(raw, "From ", 5)) {
        const char *nl = memchr(raw, '\n', len);
        if (nl) {
            len -= (size_t)(nl + 1 - raw);
            raw = nl + 1;
        }
    }
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
    if (!stream)
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    if (!msg) {
        /* Not a message: read it as plain text. */
        ag_phish_text_add(c, raw, len < AG_PHISH_TEXT_CAP ? len : AG_PHISH_TEXT_CAP);
        ag_phish_text_scan_links(c, raw, len < 262144 ? len : 262144, false);
        return 0;
    }
    const char *subj = g_mime_message_get_subject(msg);
    if (subj) {
        c->r->subject = ag_phish_arena_strdup(c->r, subj);
        ag_phish_text_add(c, subj, strlen(subj));
        const char *what;
        if (ag_phish_text_confusable(c->a, subj, &what))
            ag_phish_fire(c, AG_PHISH_SIG_SUBJECT_OBFUSCATED, "header:Subject", "%s: \"%s\"",
                          what, subj);
        size_t off, m;
        if (ag_phish_re_find(c->a->re_email, subj, strlen(subj), 0, &off, &m))
            ag_phish_fire(c, AG_PHISH_SIG_SUBJECT_ADDRESS, "header:Subject", "%.*s", (int)m,
                          subj + off);
    }
    check_from(c, msg);
    check_reply_to(c, msg);
    check_return_path(c, msg);
    check_auth(c, msg);
    struct walk w = {.c = c};
    walk_message(&w, msg, 0);
    if (c->html_parts && c->html_words + w.plain_words < 25 && (c->nlinks || c->images))
        ag_phish_fire(c, AG_PHISH_SIG_HTML_LOW_TEXT, "html", "%zu words, %zu links, %zu images",
                      c->html_words + w.plain_words, c->nlinks, c->images);
    g_object_unref(msg);
    return 0;
}
