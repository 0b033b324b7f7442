/* SMS through an HTTP gateway: the request body from the configured
 * template, with {to} and {text} escaped for its content type. */
#include "notify/internal.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static int json_escaped(struct ag_buf *b, const char *s)
{
    int rc = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc |= ag_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            rc |= ag_buf_append(b, "\\n", 2);
        else if (c < 0x20)
            rc |= ag_buf_printf(b, "\\u%04x", c);
        else
            rc |= ag_buf_append(b, s, 1);
    }
    return rc;
}

static int form_escaped(struct ag_buf *b, const char *s)
{
    int rc = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            rc |= ag_buf_append(b, s, 1);
        else if (c == ' ')
            rc |= ag_buf_append(b, "+", 1);
        else
            rc |= ag_buf_printf(b, "%%%02X", c);
    }
    return rc;
}

int ag_notify_sms_body(const char *tpl, const char *content_type, const char *to,
                       const char *text, struct ag_buf *out)
{
    enum { RAW, JSON, FORM } mode = RAW;
    if (content_type && strstr(content_type, "json"))
        mode = JSON;
    else if (content_type && strstr(content_type, "x-www-form-urlencoded"))
        mode = FORM;
    int rc = 0;
    for (const char *p = tpl; *p;) {
        const char *v = NULL;
        size_t skip = 0;
        if (!strncmp(p, "{to}", 4)) {
            v = to;
            skip = 4;
        } else if (!strncmp(p, "{text}", 6)) {
            v = text;
            skip = 6;
        }
        if (!v) {
            rc |= ag_buf_append(out, p, 1);
            p++;
            continue;
        }
        rc |= mode == JSON ? json_escaped(out, v)
              : mode == FORM ? form_escaped(out, v)
                             : ag_buf_append(out, v, strlen(v));
        p += skip;
    }
    return rc ? AG_ENOMEM : 0;
}
