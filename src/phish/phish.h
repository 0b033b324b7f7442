/* The phishing and smishing message analyzer: takes a raw RFC 5322 email or
 * an SMS text with its sender, finds signals (lookalike sender and link
 * domains, display-name spoofing, header mismatches, failed authentication,
 * deceptive links, risky attachments, urgency/threat/credential language),
 * combines them with learned logistic-regression weights into a score and a
 * verdict, and returns the reasons with their evidence and the indicators
 * (URLs, domains, phone numbers, sender addresses) the message contains.
 *
 * Pure computation: no network, no storage. One analyzer is built at start
 * (brand domains, public suffix list, spoof checker, regexes, weights) and is
 * then read-only, so any number of threads may analyze with it at once.
 * See docs/PHISHING.md. */
#ifndef AG_PHISH_PHISH_H
#define AG_PHISH_PHISH_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

enum ag_phish_verdict { AG_PHISH_LEGIT = 0, AG_PHISH_SUSPICIOUS = 1, AG_PHISH_PHISHING = 2 };
enum ag_phish_kind { AG_PHISH_EMAIL = 0, AG_PHISH_SMS = 1 };

enum ag_phish_ind_type {
    AG_PHISH_IND_URL = 0,
    AG_PHISH_IND_DOMAIN,
    AG_PHISH_IND_PHONE,
    AG_PHISH_IND_EMAIL,
    AG_PHISH_IND_IP,
};

/* One signal that fired. <code> and <title> are static strings from the
 * signal table; <source> says where ("header:From", "link", "attachment",
 * "body", "subject", "sms"); <evidence> what exactly triggered it. */
struct ag_phish_reason {
    const char *code;
    const char *title;
    const char *source;
    const char *evidence;
    double weight; /* this signal's contribution to the log-odds */
};

/* An extracted indicator. <context> says where it was seen ("header:From",
 * "link", "body", "html:form", "sms:sender"...). */
struct ag_phish_indicator {
    enum ag_phish_ind_type type;
    const char *value;
    const char *context;
};

/* The analysis of one message. All strings are owned by the result and live
 * until ag_phish_result_free. Reasons are sorted by weight, strongest
 * first; only signals that raise the score are listed. */
struct ag_phish_result {
    enum ag_phish_kind kind;
    enum ag_phish_verdict verdict;
    double score; /* probability of phishing/smishing, 0..1 */
    const char *model_version;
    const char *subject; /* email: decoded Subject, or NULL */
    const char *from;    /* email: From address; SMS: sender; or NULL */
    struct ag_phish_reason *reasons;
    size_t nreasons;
    struct ag_phish_indicator *indicators;
    size_t nindicators;
    struct ag_phish_result_priv *priv; /* arena; internal */
};

struct ag_phish_analyzer;

/* Options for ag_phish_analyzer_new. Zero-initialize; every field may be
 * left empty. */
struct ag_phish_options {
    /* Brand domains to protect, e.g. {"paypal.com", "marketplace.example"}.
     * Each domain's first label is the brand's name ("paypal"). NULL or
     * empty: the default list (ag_phish_default_brands). */
    const char *const *brands;
    size_t nbrands;
    /* Add the defaults to <brands> instead of replacing them. */
    int brands_add_defaults;
    /* Weights file (JSON, see docs/PHISHING.md). NULL: the shipped
     * src/phish/phish_weights.json compiled into the binary. */
    const char *weights_file;
    /* Public suffix list file. NULL: Debian's
     * /usr/share/publicsuffix/public_suffix_list.dat, else libpsl's builtin. */
    const char *psl_file;
};

/* Build an analyzer. Returns 0 and sets *out (free with
 * ag_phish_analyzer_free), or AG_EINVAL (bad weights file, bad brand
 * domain) / AG_ENOMEM with <err> filled. */
int ag_phish_analyzer_new(const struct ag_phish_options *opt, struct ag_phish_analyzer **out,
                          struct ag_err *err);
void ag_phish_analyzer_free(struct ag_phish_analyzer *a);

/* The version string of the loaded weights (e.g. "phish-2026.11.1"). */
const char *ag_phish_analyzer_model_version(const struct ag_phish_analyzer *a);

/* The default brand list: a NULL-terminated array of domains. */
extern const char *const ag_phish_default_brands[];

/* Analyze one raw RFC 5322 message of <len> bytes (an mbox "From " first
 * line is tolerated). Returns 0 with *out set (free with
 * ag_phish_result_free); AG_EINVAL if <raw> is empty or larger than
 * AG_PHISH_MAX_EMAIL; AG_ENOMEM. Thread-safe. */
#define AG_PHISH_MAX_EMAIL (25u * 1024u * 1024u)
int ag_phish_analyze_email(const struct ag_phish_analyzer *a, const char *raw, size_t len,
                           struct ag_phish_result **out, struct ag_err *err);

/* Analyze an SMS <text> (UTF-8) from <sender> (a phone number, short code or
 * alphanumeric sender id; NULL or "" if unknown). Same returns; texts over
 * AG_PHISH_MAX_SMS bytes are AG_EINVAL. Thread-safe. */
#define AG_PHISH_MAX_SMS (64u * 1024u)
int ag_phish_analyze_sms(const struct ag_phish_analyzer *a, const char *sender, const char *text,
                         struct ag_phish_result **out, struct ag_err *err);

void ag_phish_result_free(struct ag_phish_result *r);

/* The result as JSON (shape in docs/PHISHING.md); a new reference, NULL on
 * allocation failure. */
json_t *ag_phish_result_json(const struct ag_phish_result *r);

const char *ag_phish_verdict_name(enum ag_phish_verdict v);
const char *ag_phish_ind_type_name(enum ag_phish_ind_type t);

#endif
