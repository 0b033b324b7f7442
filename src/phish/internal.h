/* Internals shared by the files of src/phish/: the analyzer object, the
 * per-analysis context (signals fired, indicators, collected text), and the
 * helpers each file provides. Not for other modules. */
#ifndef AG_PHISH_INTERNAL_H
#define AG_PHISH_INTERNAL_H

#include "core/util.h"
#include "phish/phish.h"
#include "phish/signals.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

struct psl_ctx_st;
struct USpoofChecker;

/* Text scanned for language cues is capped: cues sit at the top. */
#define AG_PHISH_TEXT_CAP (64 * 1024)
#define AG_PHISH_CUE_CAP (24 * 1024)
#define AG_PHISH_MAX_LINKS 256
#define AG_PHISH_MAX_INDICATORS 200

struct ag_phish_brand {
    char *key;     /* lower-case alphanumeric name: "paypal", "bankofamerica" */
    char *domain;  /* registrable domain the brand owns: "paypal.com" */
    char *label;   /* the domain's label left of the public suffix */
    char *skel;    /* UTS #39 skeleton of <label> */
};

/* One model (email or SMS): bias, one weight per signal, thresholds. */
struct ag_phish_model {
    double bias;
    double w[AG_PHISH_NSIG];
    double t_phish; /* probability at or above which: phishing */
    double t_susp;  /* at or above which: suspicious */
};

enum ag_phish_cue {
    CUE_URGENCY,
    CUE_THREAT,
    CUE_CREDENTIAL,
    CUE_OTP,
    CUE_PAYMENT,
    CUE_PRIZE,
    CUE_CLICK,
    CUE_GREETING,
    CUE_SMS_CALL,
    CUE_SMS_SHORTCODE,
    CUE_SMS_MONEY,
    CUE_SMS_OPTOUT,
    CUE_N
};

struct ag_phish_analyzer {
    struct ag_phish_brand *brands;
    size_t nbrands;
    struct psl_ctx_st *psl;
    struct USpoofChecker *spoof;
    pcre2_code *cue_email;  /* all email cues, one pass (see lang.c) */
    pcre2_code *cue_sms;    /* all SMS cues but money */
    pcre2_code *cue_money;
    pcre2_code *re_url;     /* URLs and bare www./domain links in text */
    pcre2_code *re_phone;   /* phone numbers */
    pcre2_code *re_email;   /* email addresses */
    pcre2_code *re_brand;   /* any brand key as a word */
    pcre2_code *re_bare;    /* bare domains with a path (SMS: "bit.ly/x") */
    struct ag_phish_model email, sms;
    char model_version[64];
};

/* Arena for a result's strings: freed in one go. */
struct ag_phish_result_priv {
    struct arena_block *head;
};

struct ag_phish_link {
    const char *url;    /* as found (arena) */
    const char *host;   /* lower-case ASCII (punycode) host, or NULL */
    const char *reg;    /* registrable domain, or NULL */
    const char *text;   /* visible anchor text (HTML), or NULL */
    bool from_html;
};

/* Per-analysis state; lives on the caller's stack for one call. */
struct ag_phish_ctx {
    const struct ag_phish_analyzer *a;
    struct ag_phish_result *r;
    bool fired[AG_PHISH_NSIG];
    const char *ev[AG_PHISH_NSIG];
    const char *src[AG_PHISH_NSIG];
    struct ag_phish_indicator *inds;
    size_t ninds, capinds;
    struct ag_phish_link links[AG_PHISH_MAX_LINKS];
    size_t nlinks;
    struct ag_buf text;   /* visible text: subject + bodies, capped */
    size_t html_words;    /* words of visible HTML text */
    size_t html_parts;
    size_t images;
    const char *from_reg;  /* registrable domain of the From address */
    int from_brand;        /* index of the brand owning From, or -1 */
    bool oom;
};

/* result.c */
void *ag_phish_arena_alloc(struct ag_phish_result *r, size_t n);
char *ag_phish_arena_strndup(struct ag_phish_result *r, const char *s, size_t n);
char *ag_phish_arena_strdup(struct ag_phish_result *r, const char *s);
char *ag_phish_arena_printf(struct ag_phish_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct ag_phish_result *ag_phish_result_new(void);
/* Fire signal <sig> with evidence (first evidence wins). */
void ag_phish_fire(struct ag_phish_ctx *c, enum ag_phish_sig sig, const char *source,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ag_phish_indicator_add(struct ag_phish_ctx *c, enum ag_phish_ind_type t, const char *value,
                            size_t len, const char *context);
/* Append visible text (capped). */
void ag_phish_text_add(struct ag_phish_ctx *c, const char *s, size_t n);

/* domain.c */
/* Normalize a host to lower-case ASCII (IDNA 2008 via libidn2, punycode);
 * writes into <out> (NUL-terminated). Returns 0, or -1 if not a host name. */
int ag_phish_host_ascii(const char *host, size_t len, char *out, size_t outlen);
/* The registrable domain of an ASCII host into <out>; -1 if none (an IP, a
 * bare public suffix). */
int ag_phish_registrable(const struct ag_phish_analyzer *a, const char *host, char *out,
                         size_t outlen);
/* Index of the brand owning registrable domain <reg>, or -1. */
int ag_phish_brand_owner(const struct ag_phish_analyzer *a, const char *reg);
/* Lookalike checks of an ASCII host against the brands: returns the brand
 * index and sets *how ("skeleton", "edit distance 1", "brand in domain"...)
 * or -1. <lookalike> set when the registrable label imitates a brand's;
 * otherwise the brand sits elsewhere in the host (subdomain, hyphenated). */
int ag_phish_brand_lookalike(const struct ag_phish_analyzer *a, const char *host,
                             const char *reg, bool *lookalike, const char **how);
/* Index of a brand whose key occurs in <s> after removing non-alphanumerics
 * (display names: "Bank of America" -> bankofamerica), or -1. */
int ag_phish_brand_in_name(const struct ag_phish_analyzer *a, const char *s);
bool ag_phish_tld_abused(const char *host);
bool ag_phish_domain_freemail(const char *reg);
bool ag_phish_domain_shortener(const char *reg, const char *host);
bool ag_phish_domain_free_hosting(const char *reg, const char *host);
bool ag_phish_label_random(const char *reg);
/* Any label of <host>, or the mailbox name of <addr>, machine-made? */
bool ag_phish_host_random(const char *host, const char *addr);
/* Does <s> (UTF-8) use look-alike Unicode: mixed scripts within a word,
 * invisible characters, mathematical styled letters? Sets *what. */
bool ag_phish_text_confusable(const struct ag_phish_analyzer *a, const char *s,
                              const char **what);
int ag_phish_domains_init(struct ag_phish_analyzer *a, const struct ag_phish_options *opt,
                          struct ag_err *err);
void ag_phish_domains_free(struct ag_phish_analyzer *a);

/* url.c */
/* Examine one link (href or URL found in text); adds the indicator and fires
 * the link signals. <text> is the visible anchor text, or NULL. */
void ag_phish_link_check(struct ag_phish_ctx *c, const char *url, size_t len, const char *text,
                         bool from_html);
/* Find URLs, emails and phone numbers in plain <text>. */
void ag_phish_text_scan_links(struct ag_phish_ctx *c, const char *text, size_t len,
                              bool phones);
/* Signals over all links together (after the message is read). */
void ag_phish_links_finish(struct ag_phish_ctx *c, bool sms);

/* html.c: visible text and links of an HTML body. */
void ag_phish_html_scan(struct ag_phish_ctx *c, const char *html, size_t len);

/* mime.c */
int ag_phish_email_scan(struct ag_phish_ctx *c, const char *raw, size_t len, struct ag_err *err);
void ag_phish_mime_init(void);

/* lang.c */
int ag_phish_cues_init(struct ag_phish_analyzer *a, struct ag_err *err);
/* Match the cue regexes over the collected text; fires CUE_* signals. */
void ag_phish_cues_scan(struct ag_phish_ctx *c, bool sms);
/* Copy of s[0..n) with ASCII and Latin-1 capitals lowered, same offsets;
 * free() it. NULL on allocation failure. */
char *ag_phish_lower_copy(const char *s, size_t n);
/* First match of <re> in s[0..n): returns 1 and sets *off and *mlen. */
int ag_phish_re_find(const pcre2_code *re, const char *s, size_t n, size_t start, size_t *off,
                     size_t *mlen);

/* sms.c */
void ag_phish_sms_scan(struct ag_phish_ctx *c, const char *sender, const char *text);

/* weights.c */
int ag_phish_weights_parse(struct ag_phish_analyzer *a, const char *json, size_t len,
                           struct ag_err *err);
extern const char ag_phish_weights_builtin[];

/* analyzer.c: the signal values of a finished context as a feature vector
 * (1.0 fired, 0.0 not). */
void ag_phish_ctx_features(const struct ag_phish_ctx *c, double *x);
/* Run the scanners without scoring (training): fills <x>[AG_PHISH_NSIG]. */
int ag_phish_features_email(const struct ag_phish_analyzer *a, const char *raw, size_t len,
                            double *x, struct ag_err *err);
int ag_phish_features_sms(const struct ag_phish_analyzer *a, const char *sender,
                          const char *text, double *x, struct ag_err *err);

#endif
