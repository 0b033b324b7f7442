/* The statistical login model of Freeman et al., "Who Are You? A Statistical
 * Approach to Measuring User Authenticity" (NDSS 2016):
 *
 *   LR(u, x) = p(u|attack) / p(u|legit) * prod_k p(x_k) / p(x_k | u)
 *
 * over the features x_k of a login, each a hierarchy whose unseen values
 * back off to their parent (IP -> ASN -> country; UA -> browser -> OS ->
 * device type). Scored online: the caller scores with the history before
 * the login, then learns (successful logins only). docs/RISK.md derives the
 * estimator, the smoothing, and the mapping of LR to a risk in [0,1].
 *
 * AG_MODEL_FREEMAN is the plain model, kept for comparison.
 * AG_MODEL_EXTENDED adds what our evaluation showed to help: the IP prefix
 * level, the device id, the network class (hosting / proxy) with an
 * attacker prior, the IP prefix given the device type (a desktop rarely moves;
 * a phone roams), the hour of day, and failed-attempt and stuffing context.
 * Impossible travel is reported as a signal only. */
#ifndef AG_RISK_LOGINMODEL_H
#define AG_RISK_LOGINMODEL_H

#include "risk/profile.h"

#include <stdint.h>

enum ag_login_model_kind { AG_MODEL_FREEMAN = 0, AG_MODEL_EXTENDED = 1 };

/* Signals: bit set = the feature's value was never seen on this account's
 * successful logins (AG_RISK_NEW_*), or a context signal fired. */
enum {
    AG_RISK_NEW_IP = 1u << 0,
    AG_RISK_NEW_PREFIX = 1u << 1,
    AG_RISK_NEW_ASN = 1u << 2,
    AG_RISK_NEW_COUNTRY = 1u << 3,
    AG_RISK_NEW_UA = 1u << 4,
    AG_RISK_NEW_BROWSER = 1u << 5,
    AG_RISK_NEW_OS = 1u << 6,
    AG_RISK_NEW_DEVICE_TYPE = 1u << 7,
    AG_RISK_NEW_DEVICE = 1u << 8,
    AG_RISK_NEW_NETWORK_TYPE = 1u << 9,
    AG_RISK_FIRST_LOGIN = 1u << 10,      /* no history yet */
    AG_RISK_HOSTING = 1u << 11,          /* from a hosting / cloud / VPN network */
    AG_RISK_ANON_PROXY = 1u << 12,       /* anonymous proxy or drop-listed network */
    AG_RISK_IMPOSSIBLE_TRAVEL = 1u << 13,
    AG_RISK_STUFFING_IP = 1u << 14,      /* many accounts tried from this IP */
    AG_RISK_STUFFING_DEVICE = 1u << 15,  /* many accounts tried from this device */
    AG_RISK_FAILURES_ACCOUNT = 1u << 16, /* many recent failed logins on the account */
    AG_RISK_FAILURES_IP = 1u << 17,      /* many recent failed logins from the IP / prefix */
    AG_RISK_UNUSUAL_HOUR = 1u << 18,
    AG_RISK_BOT_UA = 1u << 19,
    AG_RISK_MFA_FAILURES = 1u << 20,
};

/* Terms of the log-likelihood ratio, for explanations and tests. */
enum ag_lm_term {
    AG_LM_USER = 0, /* ln p(u|attack)/p(u|legit) */
    AG_LM_IP,       /* the IP hierarchy */
    AG_LM_UA,       /* the UA hierarchy */
    AG_LM_DEVICE,   /* extended: device id */
    AG_LM_NETDEV,   /* extended: IP prefix given the device type */
    AG_LM_NETWORK,  /* extended: network class */
    AG_LM_HOUR,     /* extended: hour of day */
    AG_LM_CONTEXT,  /* extended: failed attempts and stuffing */
    AG_LM_TRAVEL,   /* impossible travel: 0, kept as a signal only (docs/RISK.md) */
    AG_LM_TERMS
};

/* risk = 1 / (1 + exp(-(ln LR - center) / scale)): with center = -ln(prior
 * odds of an attack) and scale 1 it is the posterior probability of an
 * attack. scale <= 0 selects the model's calibrated defaults below. */
struct ag_login_model_options {
    enum ag_login_model_kind kind;
    double center;
    double scale;
};

/* What the model needs beyond the profile: context the engine measured. */
struct ag_login_context {
    uint32_t ip_flags;         /* AG_IP_* */
    uint32_t fail_account;     /* failed logins on the account, last window */
    uint32_t fail_ip;          /* failed logins from the IP, last window */
    uint32_t fail_prefix;
    uint32_t accounts_per_ip;  /* distinct accounts tried from the IP */
    uint32_t accounts_per_device;
    uint32_t mfa_fail_account;
    double travel_kmh;         /* 0 if unknown */
    double travel_km;
    int hour_slot;             /* 0..7: 3-hour slot of the day (UTC), -1 unknown */
    bool bot_ua;
};

struct ag_login_score {
    double log_lr;                /* natural log of LR */
    double risk;                  /* in [0,1], monotonic in log_lr */
    uint32_t signals;             /* AG_RISK_* */
    double term[AG_LM_TERMS];     /* ln contribution of each term */
};

/* Score one login: <view> is the account's history about <values> (from
 * ag_profile_lookup), <ps> gives global frequencies. Pure; thread-safe. */
void ag_login_model_score(const struct ag_login_model_options *o,
                          const struct ag_profile_store *ps, const struct ag_profile_view *view,
                          const struct ag_profile_values *values,
                          const struct ag_login_context *ctx, struct ag_login_score *out);

/* One hierarchy's ln p(x_0)/p^(x_0|u), levels finest first (exposed for tests). */
double ag_login_model_chain(const struct ag_profile_store *ps, const struct ag_profile_view *view,
                            const struct ag_profile_values *values, const int *levels, int n);

/* The mapping of ln LR to risk. */
double ag_login_model_risk(const struct ag_login_model_options *o, double log_lr);

/* Calibrated defaults of the mapping (docs/RISK.md): on the simulator, the
 * default thresholds risk_challenge 0.7 / risk_review 0.9 / risk_deny 0.98
 * fall near 2% / 1% / a few per mille of legitimate logins. */
#define AG_LM_FREEMAN_CENTER (-1.6)
#define AG_LM_FREEMAN_SCALE 2.0
#define AG_LM_EXTENDED_CENTER (-5.65)
#define AG_LM_EXTENDED_SCALE 3.16

/* The center and scale <o> means (its own, or the model's defaults). */
void ag_login_model_mapping(const struct ag_login_model_options *o, double *center,
                            double *scale);

#endif
