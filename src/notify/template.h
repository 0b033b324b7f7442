/* Localized message templates for the owner alerts, as a C table
 * (template.c): for each alert kind a subject and a one-line explanation in
 * every language, framed by per-language pieces (greeting, the event's
 * details, the "this wasn't me" link, a footer). Rendered as plain text and
 * HTML for email and as one short line for SMS.
 *
 * A message without a template (template_id NULL or "") is literal: its
 * params carry "subject", "text" and optionally "html" and "sms". */
#ifndef AG_NOTIFY_TEMPLATE_H
#define AG_NOTIFY_TEMPLATE_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

/* The alert kinds that have templates, and the languages they are in. */
extern const char *const ag_notify_template_ids[];
extern const int ag_notify_template_count;
extern const char *const ag_notify_template_langs[];
extern const int ag_notify_template_lang_count;

bool ag_notify_template_exists(const char *template_id);

struct ag_notify_rendered {
    char lang[8];   /* the language used */
    char *subject;  /* malloc'd (all four) */
    char *text;
    char *html;     /* NULL when the message has no HTML */
    char *sms;      /* one short line */
};

/* Render <template_id> in the language of <locale> ("pt-BR" -> "pt",
 * unknown -> "en") with <params> (an object: "when", "ip", "device",
 * "detail", "link", "held" — all optional). NULL/"" template: literal.
 * AG_ENOTFOUND for an unknown template, AG_EINVAL for a literal without
 * text, AG_ENOMEM. Free <out> with ag_notify_rendered_free. */
int ag_notify_template_render(const char *template_id, const char *locale, const json_t *params,
                              struct ag_notify_rendered *out, struct ag_err *err);
void ag_notify_rendered_free(struct ag_notify_rendered *r);

/* The texts of the "this wasn't me" pages (src/api/notify.c), in the same
 * languages. */
enum ag_notify_page_text {
    AG_NOTIFY_PAGE_CONFIRM_TITLE, /* "Was this not you?" */
    AG_NOTIFY_PAGE_CONFIRM_TEXT,
    AG_NOTIFY_PAGE_BUTTON,
    AG_NOTIFY_PAGE_WAS_ME,        /* "If it was you, close this page" */
    AG_NOTIFY_PAGE_SECURED_TITLE,
    AG_NOTIFY_PAGE_SECURED_TEXT,
    AG_NOTIFY_PAGE_INVALID_TITLE,
    AG_NOTIFY_PAGE_EXPIRED_TITLE,
    AG_NOTIFY_PAGE_USED_TITLE,
    AG_NOTIFY_PAGE_USED_TEXT,
    AG_NOTIFY_PAGE_HELP_TEXT,     /* what to do when the link does not work */
    AG_NOTIFY_PAGE_NTEXTS
};
/* The text <which> in the language of <locale> (fallbacks as for the
 * templates); *lang (may be NULL) gets the language used. */
const char *ag_notify_page_text(const char *locale, enum ag_notify_page_text which,
                                const char **lang);

#endif
