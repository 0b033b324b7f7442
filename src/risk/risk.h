/* The risk engine: one facade over enrichment (ipintel, useragent), the
 * account profiles, velocity windows and the login model. Pure computation:
 * no storage, no network. The pipeline calls, per event:
 *
 *   ag_risk_assess()  enrich + features + score (reads state, never writes)
 *   ... decide (thresholds risk_challenge / risk_review / risk_deny and the
 *       rules are the pipeline's, not ours) ...
 *   ag_risk_reasons() reason codes for the decision
 *   ag_risk_learn()   update the profile (successful logins) and velocity
 *                     (failures, accounts per IP / device)
 *
 * and persists ag_risk_profile_get()'s blob with the event; at start it
 * loads every blob back with ag_risk_profile_put(), which also rebuilds the
 * global frequency tables. All functions are thread-safe. */
#ifndef AG_RISK_RISK_H
#define AG_RISK_RISK_H

#include "core/decision.h"
#include "core/err.h"
#include "core/event.h"
#include "risk/loginmodel.h"
#include "risk/profile.h"
#include "risk/useragent.h"
#include "risk/velocity.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_risk_options {
    const char *ipdb_file;   /* the `ipdb_file` setting; NULL or "": no IP enrichment */
    const char *uap_regexes; /* the `uap_regexes` setting; NULL or "": no UA parsing */
    enum ag_login_model_kind model; /* AG_MODEL_EXTENDED unless comparing */
    double risk_center;      /* mapping of ln LR to risk (loginmodel.h); */
    double risk_scale;       /* risk_scale <= 0: the model's calibrated defaults */
    size_t expected_accounts;
    size_t ip_cache;         /* addresses cached; 0: 65536 */
    bool ip_index_off;       /* no in-memory network index (ag_ipintel_index_start) */
    size_t ua_cache;         /* user agents cached; 0: 8192 */
    struct ag_velocity_options velocity;
};

/* Optional fields given with an event (the RBA CSV's columns). Any may be
 * NULL / 0 / negative: then enrichment fills them. Given values win. */
struct ag_risk_given {
    const char *country;     /* ISO alpha-2 */
    const char *region;
    const char *city;
    uint32_t asn;
    const char *browser;     /* "Chrome 79.0.3945" */
    const char *os;          /* "iOS 11.2.6" */
    const char *device_type; /* "mobile", "desktop", "tablet", "bot", other */
    int rtt_ms;              /* < 0: unknown */
};

/* Everything a rule may want to read about an event's risk, as plain
 * fields. Copyable; owns nothing. */
struct ag_risk_assessment {
    int64_t at_ms;
    bool is_login, login_ok, login_fail;
    /* enrichment: network */
    bool ip_valid, ip_v6, ip_found;
    char ip_prefix[56];      /* "203.0.113.0/24", "2001:db8:1::/48" */
    char country[3];         /* "" if unknown */
    uint32_t asn;
    char as_name[64];
    uint32_t ip_flags;       /* AG_IP_* */
    bool ip_hosting, ip_anon_proxy, ip_private;
    /* enrichment: client */
    char browser[40];
    char browser_version[24];
    char os[40];
    char os_version[24];
    enum ag_device_type device_type;
    bool ua_bot;
    bool has_device_id;
    /* model */
    enum ag_login_model_kind model;
    double risk;             /* [0,1] */
    double log_lr;
    uint32_t signals;        /* AG_RISK_* */
    uint32_t unfamiliar;     /* the AG_RISK_NEW_* part of signals */
    double term[AG_LM_TERMS];
    uint32_t history_logins; /* successful logins in the account's history */
    char prev_country[3];    /* the account's most frequent country */
    uint32_t prev_asn;       /* and ASN */
    char prev_as_name[64];
    int64_t last_login_ms;   /* 0 if none */
    /* velocity (window: ag_velocity_window_ms, one hour by default) */
    uint32_t fail_account, fail_ip, fail_prefix, fail_asn;
    uint32_t accounts_per_ip, accounts_per_device;
    uint32_t mfa_fail_account, attempts_ip;
    /* impossible travel since the last successful login */
    double travel_km, travel_kmh;
    /* for ag_risk_learn */
    uint64_t account_key, ip_key, prefix_key, device_key, asn_key;
    struct ag_profile_values values;
};

struct ag_risk_engine;

int ag_risk_engine_open(const struct ag_risk_options *o, struct ag_risk_engine **out,
                        struct ag_err *err);
void ag_risk_engine_close(struct ag_risk_engine *e);

/* Enrich and score <ev> against the state before it. <given> may be NULL.
 * Fills <out>; returns 0 (an unparseable IP or unknown UA only leaves fields
 * empty). Does not change any state. */
int ag_risk_assess(struct ag_risk_engine *e, const struct ag_event *ev,
                   const struct ag_risk_given *given, struct ag_risk_assessment *out);

/* Add reason codes (stable "new_country", ... with details such as
 * "NO -> BR") for the signals in <a> to <d>, strongest first. Does not touch
 * d->action or d->risk. */
void ag_risk_reasons(const struct ag_risk_assessment *a, struct ag_decision *d);

/* After the decision: learn <ev> (assessed as <a>). Successful logins update
 * the account's profile; failed logins, failed one-time codes and login
 * attempts update the velocity windows. */
void ag_risk_learn(struct ag_risk_engine *e, const struct ag_event *ev,
                   const struct ag_risk_assessment *a);
/* The same, saying whether the event's context joins the account's profile
 * (the pipeline holds a challenged login back until its second factor
 * passes, and then learns the mfa.succeeded from that context). */
void ag_risk_learn_as(struct ag_risk_engine *e, const struct ag_event *ev,
                      const struct ag_risk_assessment *a, bool profile);

/* What ag_risk_learn records in the velocity windows for an event whose
 * type has flags <tflags>: AG_VEL_REC_* bits (0: nothing). */
unsigned ag_risk_learn_what(uint32_t tflags);

/* Several nodes on one store (pipeline/cluster.c): velocity counted by every
 * node. ag_risk_assess calls <fn> with the event's keys and this node's
 * counts, which <fn> may raise (it must not lower them: they include events
 * this node has not committed yet). NULL: this node's counts only. Set it
 * before the first event. */
typedef void (*ag_risk_velocity_fn)(void *arg, const struct ag_velocity_keys *k, int64_t now_ms,
                                    struct ag_velocity_counts *counts);
void ag_risk_velocity_source(struct ag_risk_engine *e, ag_risk_velocity_fn fn, void *arg);

/* Profile persistence (see profile.h for the blob). get returns the length
 * or AG_ENOTFOUND / AG_ELIMIT; put returns 0 or AG_EINVAL / AG_ENOMEM. */
int ag_risk_profile_get(struct ag_risk_engine *e, const char *account_id, uint8_t *buf,
                        size_t cap);
int ag_risk_profile_put(struct ag_risk_engine *e, const char *account_id, const uint8_t *blob,
                        size_t len, struct ag_err *err);

/* Apply the context of a login assessed as <a> (one the caller has decided
 * joins the profile: ag_risk_learn_as's <profile>) to the profile blob
 * <stored> instead of the engine's memory (<len> 0: none yet), writing the
 * result to <out> (<cap> bytes). Several nodes merge a login into the profile
 * another node stored with it (pipeline/cluster.c). Returns the new blob's
 * length, or AG_EINVAL (malformed <stored>), AG_ENOMEM, AG_ELIMIT with <err>
 * set. */
int ag_risk_profile_apply(const struct ag_risk_assessment *a, const uint8_t *stored, size_t len,
                          uint8_t *out, size_t cap, struct ag_err *err);

struct ag_risk_mem {
    size_t accounts;
    size_t profile_bytes;  /* account records + table */
    size_t global_bytes;   /* global frequency sketches (fixed) */
    size_t velocity_bytes; /* fixed */
    size_t cache_bytes;    /* IP and UA caches and the network index (fixed) */
    uint64_t ip_cache_hits, ip_cache_misses, ua_cache_hits, ua_cache_misses;
};
void ag_risk_mem(struct ag_risk_engine *e, struct ag_risk_mem *out);

/* Parts, for tools and tests (owned by the engine; NULL when disabled). */
struct ag_ipintel *ag_risk_ipintel(struct ag_risk_engine *e);
struct ag_useragent *ag_risk_useragent(struct ag_risk_engine *e);
struct ag_profile_store *ag_risk_profiles(struct ag_risk_engine *e);
struct ag_velocity *ag_risk_velocity(struct ag_risk_engine *e);

/* Human name of a signal bit ("new_country"), NULL if unknown. */
const char *ag_risk_signal_code(uint32_t bit);

#endif
