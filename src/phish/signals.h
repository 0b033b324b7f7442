/* The signal table: every signal the analyzer can raise, declared once. Each
 * row is SIG(id, code, title, scope): <code> is the stable name in reasons,
 * JSON and the weights file; <scope> says which model it feeds (E email,
 * S SMS, B both). Adding a signal: one row here, the code that fires it,
 * then `make train-phish`. All signals are phishing indicators: training
 * keeps their weights >= 0, so more evidence never lowers a score. */
#ifndef AG_PHISH_SIGNALS_H
#define AG_PHISH_SIGNALS_H

#define AG_PHISH_SIGNALS(SIG)                                                                    \
    /* sender and headers */                                                                   \
    SIG(SENDER_LOOKALIKE, "sender_lookalike_domain",                                            \
        "sender domain looks like a brand's domain", E)                                         \
    SIG(SENDER_BRAND_IN_DOMAIN, "sender_brand_in_domain",                                       \
        "brand name inside a domain the brand does not own", E)                                 \
    SIG(SENDER_PUNYCODE, "sender_punycode", "sender domain is internationalized (punycode)", E)  \
    SIG(SENDER_RANDOM, "sender_random_domain", "sender domain looks machine-generated", E)       \
    SIG(SENDER_ABUSED_TLD, "sender_abused_tld", "sender domain under a much-abused TLD", E)      \
    SIG(SENDER_FREEMAIL, "sender_freemail", "sender uses a free mailbox provider", E)           \
    SIG(DISPLAY_BRAND, "display_name_brand_spoof",                                              \
        "display name claims a brand the sender domain does not belong to", E)                  \
    SIG(DISPLAY_ADDRESS, "display_name_other_address",                                          \
        "display name shows a different email address", E)                                     \
    SIG(DISPLAY_CONFUSABLE, "display_name_confusable",                                          \
        "display name uses look-alike or invisible characters", E)                              \
    SIG(SUBJECT_OBFUSCATED, "subject_obfuscated",                                               \
        "subject uses look-alike, styled or invisible characters", E)                           \
    SIG(SUBJECT_ADDRESS, "subject_has_address", "subject contains an email address", E)         \
    SIG(REPLY_TO_MISMATCH, "reply_to_mismatch", "Reply-To goes to another domain than From", E) \
    SIG(REPLY_TO_FREEMAIL, "reply_to_freemail",                                                 \
        "Reply-To is a free mailbox while From is not", E)                                      \
    SIG(RETURN_PATH_MISMATCH, "return_path_mismatch",                                           \
        "Return-Path domain unrelated to the From domain", E)                                   \
    SIG(AUTH_SPF_FAIL, "auth_spf_fail", "SPF failed (Authentication-Results)", E)               \
    SIG(AUTH_DKIM_FAIL, "auth_dkim_fail", "DKIM failed (Authentication-Results)", E)            \
    SIG(AUTH_DMARC_FAIL, "auth_dmarc_fail", "DMARC failed (Authentication-Results)", E)         \
    SIG(BRAND_UNLINKED, "brand_mention_offsite",                                                \
        "mentions a brand but neither sender nor links belong to it", B)                        \
    SIG(GENERIC_GREETING, "generic_greeting", "impersonal greeting (\"Dear customer\")", B)     \
    /* links */                                                                                 \
    SIG(LINK_TEXT_MISMATCH, "link_text_mismatch",                                               \
        "link text shows one domain, the link goes to another", E)                              \
    SIG(LINK_SHORTENER, "link_shortener", "link through a URL shortener", B)                    \
    SIG(LINK_IP_HOST, "link_ip_host", "link to a bare IP address", B)                           \
    SIG(LINK_PUNYCODE, "link_punycode", "link to an internationalized (punycode) domain", B)    \
    SIG(LINK_MANY_SUBDOMAINS, "link_many_subdomains", "link host with many subdomains", B)      \
    SIG(LINK_CREDENTIAL_PATH, "link_credential_path",                                           \
        "link path asks to log in, verify or pay", B)                                           \
    SIG(LINK_SCRIPT_URI, "link_script_uri", "data: or javascript: link", E)                     \
    SIG(LINK_LOOKALIKE, "link_lookalike_domain", "link domain looks like a brand's domain", B)  \
    SIG(LINK_BRAND_IN_DOMAIN, "link_brand_in_domain",                                           \
        "brand name inside a link domain the brand does not own", B)                            \
    SIG(LINK_ABUSED_TLD, "link_abused_tld", "link under a much-abused TLD", B)                  \
    SIG(LINK_FREE_HOSTING, "link_free_hosting", "link to free web hosting or a form service", B) \
    SIG(LINK_USERINFO, "link_userinfo", "link with a user name before the host (a@b)", B)       \
    SIG(LINK_ODD_PORT, "link_odd_port", "link to a non-standard port", B)                       \
    SIG(HTML_FORM, "html_form", "HTML form in the message", E)                                  \
    SIG(HTML_HIDDEN_TEXT, "html_hidden_text", "hidden text in the HTML", E)                     \
    SIG(HTML_LOW_TEXT, "html_image_lure", "HTML with links but almost no text", E)              \
    SIG(HTML_META_REFRESH, "html_meta_refresh", "HTML redirects by itself (meta refresh)", E)   \
    /* attachments */                                                                           \
    SIG(ATTACH_HTML, "attachment_html", "HTML or SVG attachment", E)                            \
    SIG(ATTACH_EXEC, "attachment_executable", "executable or script attachment", E)             \
    SIG(ATTACH_MACRO, "attachment_macro_document", "Office document that can carry macros", E)  \
    SIG(ATTACH_ARCHIVE, "attachment_archive", "archive or disk image attachment", E)            \
    SIG(ATTACH_DOUBLE_EXT, "attachment_double_extension",                                       \
        "attachment name with a double extension", E)                                           \
    /* language cues (EN, ES, DE, FR, PT) */                                                    \
    SIG(CUE_URGENCY, "cue_urgency", "urgent or time-limited wording", B)                        \
    SIG(CUE_THREAT, "cue_threat", "threat of suspension, closure or legal action", B)           \
    SIG(CUE_CREDENTIAL, "cue_credential_request", "asks to verify the account or log in", B)    \
    SIG(CUE_OTP, "cue_code_request", "asks for a one-time code or PIN", B)                      \
    SIG(CUE_PAYMENT, "cue_payment_request", "asks to pay or update payment details", B)         \
    SIG(CUE_PRIZE, "cue_prize", "prize, reward or gift lure", B)                                \
    SIG(CUE_CLICK, "cue_click_here", "pushes to click or tap a link", B)                        \
    SIG(CUE_MANY, "cue_many", "three or more kinds of pressure in one message", B)              \
    /* SMS */                                                                                   \
    SIG(SMS_LINK, "sms_link", "SMS carries a link", S)                                          \
    SIG(SMS_BRAND_LINK_URGENCY, "sms_brand_link_urgency",                                       \
        "SMS names a brand, links elsewhere and presses for action", S)                         \
    SIG(SMS_CALLBACK, "sms_callback_number", "SMS asks to call or text a number", S)            \
    SIG(SMS_SHORTCODE, "sms_premium_shortcode", "SMS asks to text a keyword to a short code", S) \
    SIG(MONEY, "money_amount", "quotes a money or crypto amount", B)                           \
    SIG(SMS_SHOUTING, "sms_shouting", "SMS written largely in capitals", S)                     \
    SIG(SMS_OPT_OUT, "sms_opt_out", "SMS carries bulk opt-out wording", S)                      \
    SIG(SMS_SENDER_ALNUM, "sms_sender_brand",                                                   \
        "SMS sender id names a brand", S)

enum ag_phish_sig {
#define AG_PHISH_SIG_ENUM(id, code, title, scope) AG_PHISH_SIG_##id,
    AG_PHISH_SIGNALS(AG_PHISH_SIG_ENUM)
#undef AG_PHISH_SIG_ENUM
        AG_PHISH_NSIG
};

struct ag_phish_sig_def {
    const char *code;
    const char *title;
    char scope; /* 'E', 'S' or 'B' */
};

extern const struct ag_phish_sig_def ag_phish_sigs[AG_PHISH_NSIG];

/* The signal id of <code>, or -1. */
int ag_phish_sig_find(const char *code);

#endif
