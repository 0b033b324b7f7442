/* HTML bodies, read with libxml2's HTML parser in SAX mode (no tree is
 * built): the visible text (for language cues), every link with its anchor
 * text, forms and password fields, hidden text, images, meta refresh. Script
 * and style contents are skipped. */
#include "phish/internal.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 256
#define ANCHOR_CAP 512

struct html_state {
    struct ag_phish_ctx *c;
    int depth;
    unsigned char hidden[MAX_DEPTH]; /* element at this depth hides its text */
    int hidden_depth;                /* >0: inside hidden content */
    int skip;                        /* inside script/style/title */
    bool in_a;
    char href[2048];
    char anchor[ANCHOR_CAP];
    size_t anchor_len;
    size_t hidden_chars;  /* hidden text, not counting a preheader */
    size_t hidden_blocks; /* separate hidden runs */
    size_t block_chars;   /* chars in the current hidden run */
    char hidden_sample[80];
};

static const char *attr(const xmlChar **atts, const char *name)
{
    if (!atts)
        return NULL;
    for (size_t i = 0; atts[i]; i += 2)
        if (!strcasecmp((const char *)atts[i], name))
            return atts[i + 1] ? (const char *)atts[i + 1] : "";
    return NULL;
}

static bool style_hides(const char *style)
{
    if (!style)
        return false;
    char low[256];
    size_t k = 0;
    for (const char *p = style; *p && k + 1 < sizeof low; p++)
        if (!isspace((unsigned char)*p))
            low[k++] = (char)tolower((unsigned char)*p);
    low[k] = '\0';
    return strstr(low, "display:none") || strstr(low, "visibility:hidden") ||
           strstr(low, "font-size:0;") || strstr(low, "font-size:0px") ||
           strstr(low, "font-size:1px") || strstr(low, "opacity:0;") ||
           (strstr(low, "font-size:0") && low[strlen(low) - 1] == '0');
}

static void on_start(void *ud, const xmlChar *xname, const xmlChar **atts)
{
    struct html_state *s = ud;
    struct ag_phish_ctx *c = s->c;
    const char *name = (const char *)xname;
    bool hides = style_hides(attr(atts, "style")) || attr(atts, "hidden");
    if (s->depth < MAX_DEPTH)
        s->hidden[s->depth] = hides;
    s->depth++;
    if (hides && s->hidden_depth++ == 0) {
        s->hidden_blocks++;
        s->block_chars = 0;
    }
    if (!strcasecmp(name, "script") || !strcasecmp(name, "style") || !strcasecmp(name, "title"))
        s->skip++;
    if (!strcasecmp(name, "a") || !strcasecmp(name, "area")) {
        const char *href = attr(atts, "href");
        if (s->in_a && s->href[0])
            ag_phish_link_check(c, s->href, strlen(s->href), s->anchor, true);
        s->in_a = href != NULL;
        s->anchor_len = 0;
        s->anchor[0] = '\0';
        snprintf(s->href, sizeof s->href, "%s", href ? href : "");
        if (!strcasecmp(name, "area") && href) {
            ag_phish_link_check(c, href, strlen(href), NULL, true);
            s->in_a = false;
        }
    } else if (!strcasecmp(name, "form")) {
        const char *action = attr(atts, "action");
        ag_phish_fire(c, AG_PHISH_SIG_HTML_FORM, "html:form", "form action=%s",
                      action && *action ? action : "(none)");
        if (action && *action)
            ag_phish_link_check(c, action, strlen(action), NULL, true);
    } else if (!strcasecmp(name, "input")) {
        const char *type = attr(atts, "type");
        if (type && !strcasecmp(type, "password"))
            ag_phish_fire(c, AG_PHISH_SIG_HTML_FORM, "html:form", "password field");
    } else if (!strcasecmp(name, "img")) {
        c->images++;
    } else if (!strcasecmp(name, "meta")) {
        const char *eq = attr(atts, "http-equiv");
        const char *content = attr(atts, "content");
        if (eq && content && !strcasecmp(eq, "refresh")) {
            const char *u = strcasestr(content, "url=");
            if (u) {
                ag_phish_fire(c, AG_PHISH_SIG_HTML_META_REFRESH, "html:meta", "%s", u + 4);
                ag_phish_link_check(c, u + 4, strlen(u + 4), NULL, true);
            }
        }
    } else if (!strcasecmp(name, "iframe") || !strcasecmp(name, "frame")) {
        const char *src = attr(atts, "src");
        if (src)
            ag_phish_link_check(c, src, strlen(src), NULL, true);
    }
}

static void flush_anchor(struct html_state *s)
{
    if (s->in_a && s->href[0])
        ag_phish_link_check(s->c, s->href, strlen(s->href), s->anchor, true);
    s->in_a = false;
    s->href[0] = '\0';
}

/* A hidden run ends. The first one, short and before any visible text, is
 * the "preheader" that inbox previews show: legitimate newsletters use it,
 * so it does not count. */
static void end_block(struct html_state *s)
{
    bool preheader = s->hidden_blocks == 1 && s->block_chars < 300 && s->c->html_words < 5;
    if (!preheader)
        s->hidden_chars += s->block_chars;
    s->block_chars = 0;
}

static void on_end(void *ud, const xmlChar *xname)
{
    struct html_state *s = ud;
    const char *name = (const char *)xname;
    if (s->depth > 0) {
        s->depth--;
        if (s->depth < MAX_DEPTH && s->hidden[s->depth] && s->hidden_depth > 0 &&
            --s->hidden_depth == 0)
            end_block(s);
    }
    if ((!strcasecmp(name, "script") || !strcasecmp(name, "style") ||
         !strcasecmp(name, "title")) &&
        s->skip > 0)
        s->skip--;
    if (!strcasecmp(name, "a"))
        flush_anchor(s);
}

static void on_text(void *ud, const xmlChar *ch, int len)
{
    struct html_state *s = ud;
    struct ag_phish_ctx *c = s->c;
    if (s->skip || len <= 0)
        return;
    const char *t = (const char *)ch;
    size_t n = (size_t)len;
    bool blank = true;
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)t[i])) {
            blank = false;
            break;
        }
    if (blank)
        return;
    if (s->hidden_depth > 0) {
        if (!s->hidden_sample[0] || (s->hidden_blocks > 1 && !s->hidden_chars && !s->block_chars))
            snprintf(s->hidden_sample, sizeof s->hidden_sample, "%.*s", (int)(n > 60 ? 60 : n),
                     t);
        s->block_chars += n;
        return;
    }
    if (s->in_a && s->anchor_len + 1 < ANCHOR_CAP) {
        size_t k = n < ANCHOR_CAP - 1 - s->anchor_len ? n : ANCHOR_CAP - 1 - s->anchor_len;
        memcpy(s->anchor + s->anchor_len, t, k);
        s->anchor_len += k;
        s->anchor[s->anchor_len] = '\0';
    }
    bool inword = false;
    for (size_t i = 0; i < n; i++) {
        bool w = !isspace((unsigned char)t[i]);
        if (w && !inword)
            c->html_words++;
        inword = w;
    }
    ag_phish_text_add(c, t, n);
}

static void on_silent(void *ud, const char *msg, ...)
{
    (void)ud;
    (void)msg;
}

void ag_phish_html_scan(struct ag_phish_ctx *c, const char *html, size_t len)
{
    if (len > (size_t)2 * 1024 * 1024)
        len = (size_t)2 * 1024 * 1024;
    htmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.warning = on_silent;
    sax.error = on_silent;
    struct html_state *s = calloc(1, sizeof *s);
    if (!s) {
        c->oom = true;
        return;
    }
    s->c = c;
    c->html_parts++;
    htmlParserCtxtPtr p = htmlCreatePushParserCtxt(&sax, s, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (!p) {
        free(s);
        c->oom = true;
        return;
    }
    htmlCtxtUseOptions(p, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                              HTML_PARSE_NONET | HTML_PARSE_NOBLANKS | HTML_PARSE_IGNORE_ENC);
    htmlParseChunk(p, html, (int)len, 0);
    htmlParseChunk(p, NULL, 0, 1);
    flush_anchor(s);
    htmlFreeParserCtxt(p);
    if (s->hidden_depth > 0)
        end_block(s);
    if (s->hidden_chars >= 60 || (s->hidden_blocks >= 4 && s->hidden_chars >= 20))
        ag_phish_fire(c, AG_PHISH_SIG_HTML_HIDDEN_TEXT, "html",
                      "%zu hidden characters in %zu runs: \"%s\"", s->hidden_chars,
                      s->hidden_blocks, s->hidden_sample);
    free(s);
}
