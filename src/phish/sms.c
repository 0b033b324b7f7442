/* SMS: the text and its sender. Links (with or without a scheme:
 * "bit.ly/x", "paypal-verify.com/login"), phone numbers, and the SMS
 * combinations: a brand named next to a link that goes elsewhere with a push
 * to act, callback numbers, premium short codes, money amounts, shouting. */
#include "phish/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sender_is_number(const char *s)
{
    size_t digits = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (!strchr("+ -().", *p))
            return false;
    }
    return digits >= 3;
}

void ag_phish_sms_scan(struct ag_phish_ctx *c, const char *sender, const char *text)
{
    const struct ag_phish_analyzer *a = c->a;
    size_t len = strlen(text);
    if (sender && *sender) {
        c->r->from = ag_phish_arena_strdup(c->r, sender);
        if (strchr(sender, '@'))
            ag_phish_indicator_add(c, AG_PHISH_IND_EMAIL, sender, strlen(sender), "sms:sender");
        else if (sender_is_number(sender))
            ag_phish_indicator_add(c, AG_PHISH_IND_PHONE, sender, strlen(sender), "sms:sender");
        else {
            int b = ag_phish_brand_in_name(a, sender);
            if (b >= 0)
                ag_phish_fire(c, AG_PHISH_SIG_SMS_SENDER_ALNUM, "sms:sender",
                              "sender id \"%s\" names %s", sender, a->brands[b].domain);
        }
    }
    ag_phish_text_add(c, text, len);
    /* Scheme URLs first, then bare domains in what is left. */
    ag_phish_text_scan_links(c, text, len, true);
    char *rest = malloc(len + 1);
    if (!rest) {
        c->oom = true;
        return;
    }
    memcpy(rest, text, len + 1);
    size_t off = 0, m;
    while (off < len && ag_phish_re_find(a->re_url, rest, len, off, &off, &m)) {
        memset(rest + off, ' ', m);
        off += m ? m : 1;
    }
    off = 0;
    while (off < len && ag_phish_re_find(a->re_bare, rest, len, off, &off, &m)) {
        size_t n = m;
        while (n && strchr(".,;:!?)]}'\"", rest[off + n - 1]))
            n--;
        /* "e.g", "i.e" and numbers are not domains; require a letter label. */
        if (n >= 4)
            ag_phish_link_check(c, rest + off, n, NULL, false);
        off += m ? m : 1;
    }
    free(rest);
    if (c->nlinks)
        ag_phish_fire(c, AG_PHISH_SIG_SMS_LINK, "sms", "%s", c->links[0].url);
    size_t letters = 0, upper = 0;
    for (const char *p = text; *p; p++)
        if (isalpha((unsigned char)*p)) {
            letters++;
            upper += isupper((unsigned char)*p) != 0;
        }
    if (letters >= 20 && upper * 10 >= letters * 6)
        ag_phish_fire(c, AG_PHISH_SIG_SMS_SHOUTING, "sms", "%zu of %zu letters upper-case", upper,
                      letters);
}
