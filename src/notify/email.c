/* Email messages: a MIME message (RFC 5322/2045/2047) with a text part and
 * an optional HTML part, ready for SMTP. */
#include "notify/internal.h"
#include "core/err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool has_crlf(const char *s) { return s && (strchr(s, '\r') || strchr(s, '\n')); }

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Base64 of <s> in lines of 76 characters. */
static int b64_lines(struct ag_buf *b, const char *s, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *enc = malloc(cap);
    if (!enc)
        return -1;
    sodium_bin2base64(enc, cap, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
    size_t el = strlen(enc);
    int rc = 0;
    for (size_t i = 0; i < el; i += 76) {
        size_t k = el - i < 76 ? el - i : 76;
        rc |= ag_buf_append(b, enc + i, k) || ag_buf_append(b, "\r\n", 2);
    }
    free(enc);
    return rc;
}

/* An unstructured header value: as is when ASCII, else RFC 2047 B-encoded
 * words, split so each stays under 76 characters and no UTF-8 sequence is
 * cut. */
static int header_text(struct ag_buf *b, const char *s)
{
    if (is_ascii(s))
        return ag_buf_append(b, s, strlen(s));
    int rc = 0;
    size_t n = strlen(s), i = 0;
    bool first = true;
    while (i < n) {
        size_t k = n - i < 45 ? n - i : 45;
        while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k--;
        char enc[80];
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, k,
                          sodium_base64_VARIANT_ORIGINAL);
        rc |= ag_buf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
        first = false;
        i += k;
    }
    return rc;
}

static int part(struct ag_buf *b, const char *boundary, const char *type, const char *body)
{
    int rc = 0;
    if (boundary)
        rc |= ag_buf_printf(b, "--%s\r\n", boundary);
    rc |= ag_buf_printf(b,
                        "Content-Type: %s; charset=UTF-8\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n",
                        type);
    return rc | b64_lines(b, body, strlen(body));
}

int ag_notify_mime_build(const struct ag_notify_mime *m, struct ag_buf *out)
{
    if (has_crlf(m->from) || has_crlf(m->to) || has_crlf(m->message_id))
        return AG_EINVAL;
    char date[64];
    time_t t = (time_t)(m->date_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
             tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    /* The subject must stay one header: fold any line breaks into spaces. */
    char *subject = strdup(m->subject ? m->subject : "");
    if (!subject)
        return AG_ENOMEM;
    for (char *p = subject; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    int rc = ag_buf_append(out, "From: ", 6);
    if (m->from_name && *m->from_name && !has_crlf(m->from_name)) {
        if (is_ascii(m->from_name)) {
            /* a quoted string: escape its quotes and backslashes */
            rc |= ag_buf_append(out, "\"", 1);
            for (const char *p = m->from_name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    rc |= ag_buf_append(out, "\\", 1);
                rc |= ag_buf_append(out, p, 1);
            }
            rc |= ag_buf_append(out, "\" ", 2);
        } else {
            rc |= header_text(out, m->from_name);
            rc |= ag_buf_append(out, " ", 1);
        }
        rc |= ag_buf_printf(out, "<%s>", m->from);
    } else {
        rc |= ag_buf_printf(out, "%s", m->from);
    }
    rc |= ag_buf_printf(out, "\r\nTo: %s\r\nSubject: ", m->to);
    rc |= header_text(out, subject);
    free(subject);
    rc |= ag_buf_printf(out,
                        "\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
                        "Auto-Submitted: auto-generated\r\n",
                        date, m->message_id);
    if (m->html) {
        char boundary[64];
        snprintf(boundary, sizeof boundary, "=_ag_%s", m->message_id);
        rc |= ag_buf_printf(out,
                            "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                            "This is a multi-part message in MIME format.\r\n",
                            boundary);
        rc |= part(out, boundary, "text/plain", m->text);
        rc |= part(out, boundary, "text/html", m->html);
        rc |= ag_buf_printf(out, "--%s--\r\n", boundary);
    } else {
        rc |= part(out, NULL, "text/plain", m->text);
    }
    return rc ? AG_ENOMEM : 0;
}
