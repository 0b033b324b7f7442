/* The enrich, features, score, decide and act stages: the risk engine's
 * enrichment and login model, the account's activity, the rules, the
 * account's state, and the subsystems' hooks, in that order.
 *
 * Decision = the strongest of: the model's risk against the configured
 * thresholds (risk_review < risk_challenge < risk_deny), every rule that
 * fired, and the account's state (a frozen account is denied money movement
 * and credential changes here in code, so no rules edit can undo a freeze). */
#include "pipeline/internal.h"
#include "pipeline/facts.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern const unsigned char ag_default_rules[];
extern const unsigned long ag_default_rules_len;

static int run_hooks(struct ctx *c, bool enrich)
{
    struct ag_pipeline *p = c->p;
    for (int i = 0; i < p->nhooks; i++) {
        const struct ag_pipeline_hook *h = &p->hooks[i];
        int (*fn)(void *, struct ag_pipeline_event *) = enrich ? h->enrich : h->act;
        if (!fn)
            continue;
        int rc = fn(p->hook_state[i], c);
        if (rc) {
            if (!c->err.code)
                ag_err_set(&c->err, rc, NULL, "", "%s failed in the %s stage", h->name,
                           enrich ? "enrich" : "act");
            return rc;
        }
    }
    return 0;
}

/* Does the event carry anything the login model can judge? */
static bool has_context(const struct ag_event *ev)
{
    return ev->ip[0] || ev->user_agent[0] || ev->device_id[0];
}

/* The risk engine's view as rules facts. */
static void risk_facts(struct ctx *c)
{
    const struct ag_risk_assessment *a = &c->risk;
    const struct ag_event *ev = &c->ev;
    struct ag_rules_value *f = c->facts;
    if (ev->ip[0]) {
        f[AG_RF_IP_ADDRESS] = ag_rules_str(ev->ip);
        f[AG_RF_IP_V6] = ag_rules_bool(ev->ip_v6);
        if (a->country[0])
            f[AG_RF_IP_COUNTRY] = ag_rules_str(a->country);
        if (a->asn)
            f[AG_RF_IP_ASN] = ag_rules_num(a->asn);
        if (a->as_name[0])
            f[AG_RF_IP_AS_NAME] = ag_rules_str(a->as_name);
        f[AG_RF_IP_ANONYMOUS_PROXY] = ag_rules_bool(a->ip_anon_proxy);
        f[AG_RF_IP_HOSTING] = ag_rules_bool(a->ip_hosting);
        f[AG_RF_IP_SATELLITE] = ag_rules_bool(a->ip_flags & AG_IP_SATELLITE);
        f[AG_RF_IP_DROP] = ag_rules_bool(a->ip_flags & AG_IP_DROP);
        f[AG_RF_PROFILE_NEW_IP] = ag_rules_bool(a->unfamiliar & AG_RISK_NEW_IP);
        if (a->asn)
            f[AG_RF_PROFILE_NEW_ASN] = ag_rules_bool(a->unfamiliar & AG_RISK_NEW_ASN);
        if (a->country[0])
            f[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(a->unfamiliar & AG_RISK_NEW_COUNTRY);
    }
    if (ev->user_agent[0]) {
        if (a->browser[0]) {
            f[AG_RF_UA_BROWSER] = ag_rules_str(a->browser);
            f[AG_RF_PROFILE_NEW_BROWSER] = ag_rules_bool(a->unfamiliar & AG_RISK_NEW_BROWSER);
        }
        if (a->os[0])
            f[AG_RF_UA_OS] = ag_rules_str(a->os);
        f[AG_RF_UA_DEVICE_TYPE] = ag_rules_str(ag_device_type_name(a->device_type));
        f[AG_RF_UA_BOT] = ag_rules_bool(a->ua_bot);
    }
    if (has_context(ev)) {
        f[AG_RF_RISK_SCORE] = ag_rules_num(a->risk);
        int n = 0;
        for (uint32_t bit = 1; bit && n < AG_RISK_MAX_CODES; bit <<= 1) {
            if (!(a->signals & bit))
                continue;
            const char *code = ag_risk_signal_code(bit);
            if (code)
                c->risk_codes[n++] = code;
        }
        f[AG_RF_RISK_REASONS] = ag_rules_list(c->risk_codes, (size_t)n);
    }
    f[AG_RF_VEL_FAILED_ACCOUNT_1H] = ag_rules_num(a->fail_account);
    if (ev->ip[0]) {
        f[AG_RF_VEL_FAILED_IP_1H] = ag_rules_num(a->fail_ip);
        f[AG_RF_VEL_FAILED_PREFIX_1H] = ag_rules_num(a->fail_prefix);
        f[AG_RF_VEL_ACCOUNTS_PER_IP_1H] = ag_rules_num(a->accounts_per_ip);
    }
    if (a->asn)
        f[AG_RF_VEL_FAILED_ASN_1H] = ag_rules_num(a->fail_asn);
    if (ev->device_id[0])
        f[AG_RF_VEL_ACCOUNTS_PER_DEVICE_1H] = ag_rules_num(a->accounts_per_device);
    f[AG_RF_VEL_FAILED_MFA_1H] = ag_rules_num(a->mfa_fail_account);
    if (a->last_login_ms && a->prev_country[0] && a->country[0]) {
        f[AG_RF_TRAVEL_DISTANCE_KM] = ag_rules_num(a->travel_km);
        f[AG_RF_TRAVEL_SPEED_KMH] = ag_rules_num(a->travel_kmh);
    }
}

int ag_pipeline_stage_enrich(struct ctx *c)
{
    /* Several nodes: what every node has learned about the account, before
     * it is scored (and the account's state, for the features stage). */
    if (c->p->cluster)
        ag_pipeline_cluster_refresh(c);
    if (c->p->risk) {
        ag_risk_assess(c->p->risk, &c->ev, c->given, &c->risk);
        c->risk_done = true;
        risk_facts(c);
    }
    return run_hooks(c, true);
}

int ag_pipeline_stage_features(struct ctx *c)
{
    struct ag_pipeline *p = c->p;
    c->ain.new_device = c->risk_done && c->ev.device_id[0] && (c->risk.unfamiliar & AG_RISK_NEW_DEVICE);
    c->ain.risk = c->risk_done && has_context(&c->ev) ? c->risk.risk : 0;
    c->ain.review_threshold = p->cfg->risk_review;
    /* One lookup under one lock for the account's state and its activity
     * (several nodes: the state came from the store in the enrich stage). */
    pthread_mutex_lock(&p->acct_lock);
    struct acct *a = ag_strmap_get(&p->accounts, c->ev.account_id);
    if (!p->cluster)
        ag_pipeline_acct_state_locked(a, c->ev.received_at_ms, &c->acct);
    ag_activity_facts(a ? &a->activity : NULL, &c->ev, &c->ain, c->facts);
    c->hold_active_until_ms = a ? a->activity.payout_hold_until_ms : 0;
    pthread_mutex_unlock(&p->acct_lock);
    if (c->acct.known && c->acct.role[0] && strcmp(c->ev.role, "customer") == 0 &&
        !json_object_get(json_object_get(c->ev.raw, "account"), "role"))
        c->facts[AG_RF_ACCOUNT_ROLE] = ag_rules_str(c->acct.role);
    return 0;
}

int ag_pipeline_stage_score(struct ctx *c)
{
    c->decision.risk = c->ain.risk;
    return 0;
}

/* Events whose risk the thresholds judge: not failures (the rules and
 * velocity judge those), not events without context. */
static bool thresholds_apply(const struct ag_event *ev)
{
    if (ev->type->flags & (AG_EVT_LOGIN_FAIL | AG_EVT_MFA_FAIL))
        return false;
    if (!strcmp(ev->type->name, "logout"))
        return false;
    return has_context(ev);
}

/* Seller payout protection: a new payout account is held for
 * payout_hold_hours unless the change was made from a trusted device with
 * 2-step verification (properties.mfa_verified), and payouts are denied
 * while a hold lasts. The hold is recorded after the decision (learn). */
static void payout_hold(struct ctx *c)
{
    struct ag_pipeline *p = c->p;
    const char *type = c->ev.type->name;
    struct ag_decision *d = &c->decision;
    if (!strcmp(type, "payout_account.changed") && p->cfg->payout_hold_hours > 0) {
        struct ag_rules_value mv, tr;
        ag_pipeline_event_get_fact(c, AG_RF_SESSION_MFA_VERIFIED, &mv);
        ag_pipeline_event_get_fact(c, AG_RF_DEVICE_TRUSTED, &tr);
        bool verified = mv.type == AG_RULES_BOOL && mv.b && tr.type == AG_RULES_BOOL && tr.b;
        if (!verified) {
            c->hold_until_ms = c->ev.occurred_at_ms + p->cfg->payout_hold_hours * 3600000;
            char until[40];
            ag_time_format(c->hold_until_ms, until, sizeof until);
            ag_decision_escalate(d, AG_ACTION_REVIEW);
            ag_decision_reason(d, "payout_change_held",
                               "new payout account held until %s (not 2-step verified from a "
                               "trusted device)",
                               until);
            ag_pipeline_event_decision_extra(c, "hold", json_pack("{s:s}", "until", until));
        }
    } else if (!strcmp(type, "payout.requested") && c->hold_active_until_ms > c->ev.occurred_at_ms) {
        char until[40];
        ag_time_format(c->hold_active_until_ms, until, sizeof until);
        ag_decision_escalate(d, AG_ACTION_DENY);
        ag_decision_reason(d, "payout_account_on_hold",
                           "the payout account changed recently and is on hold until %s", until);
    }
}

int ag_pipeline_stage_decide(struct ctx *c)
{
    struct ag_pipeline *p = c->p;
    const struct ag_config *cfg = p->cfg;
    struct ag_decision *d = &c->decision;
    if (c->risk_done && has_context(&c->ev)) {
        if (thresholds_apply(&c->ev)) {
            enum ag_action a = AG_ACTION_ALLOW;
            if (d->risk >= cfg->risk_deny)
                a = AG_ACTION_DENY;
            else if (d->risk >= cfg->risk_challenge)
                a = AG_ACTION_CHALLENGE;
            else if (d->risk >= cfg->risk_review)
                a = AG_ACTION_REVIEW;
            /* An account's first login has no history to be unfamiliar
             * with: its risk is only how rare the network and browser are
             * globally, so the model alone may not act on it beyond
             * first_login_action (the rules still judge it). */
            if ((c->risk.signals & AG_RISK_FIRST_LOGIN) && a > p->first_login_cap)
                a = p->first_login_cap;
            ag_decision_escalate(d, a);
        }
        if (!p->lean)
            ag_risk_reasons(&c->risk, d);
    }
    c->base_action = d->action;
    struct ag_rules *set = p->rules ? ag_rules_holder_get(p->rules) : NULL;
    if (set) {
        const struct ag_rules_rule *fired[AG_DECISION_MAX_RULES];
        int n = ag_rules_eval_values(set, c->facts, AG_RF_COUNT, fired, AG_DECISION_MAX_RULES);
        if (n > AG_DECISION_MAX_RULES)
            n = AG_DECISION_MAX_RULES;
        ag_rules_decision_apply(fired, n, d);
        ag_rules_release(set);
    }
    payout_hold(c);
    uint32_t f = c->ev.type->flags;
    if (c->acct.frozen && (f & (AG_EVT_MONEY | AG_EVT_CREDENTIAL)) && !(f & AG_EVT_RECOVERY)) {
        ag_decision_escalate(d, AG_ACTION_DENY);
        ag_decision_reason(d, "account_frozen",
                           "the account is frozen: no money movement or credential change");
    }
    if (d->action == AG_ACTION_CHALLENGE && !d->challenge_methods)
        d->challenge_methods = AG_CHALLENGE_TOTP | AG_CHALLENGE_SMS | AG_CHALLENGE_EMAIL;
    if (d->risk > 1)
        d->risk = 1;
    return 0;
}

int ag_pipeline_stage_act(struct ctx *c) { return run_hooks(c, false); }

int ag_pipeline_activity_learn(struct ag_activity *a, const struct ctx *c)
{
    int rc = ag_activity_update(a, &c->ev, &c->decision, &c->ain);
    if (c->hold_until_ms && c->decision.action != AG_ACTION_DENY)
        a->payout_hold_until_ms = c->hold_until_ms;
    return rc;
}

bool ag_pipeline_learns_profile(const struct ctx *c, bool passed)
{
    if (!has_context(&c->ev) || c->decision.action == AG_ACTION_DENY)
        return false;
    return passed ||
           ((c->ev.type->flags & AG_EVT_LOGIN_OK) && c->decision.action < AG_ACTION_CHALLENGE);
}

void ag_pipeline_learn(struct ctx *c)
{
    struct ag_pipeline *p = c->p;
    /* The blobs to store: several nodes make them in the writer, from the
     * stored ones (ag_pipeline_cluster_learn); memory learns here all the
     * same, for this node's next events. An ephemeral run stores none. */
    bool blobs = !p->cluster && !p->ephemeral;
    bool passed = false;
    pthread_mutex_lock(&p->acct_lock);
    struct acct *a = ag_pipeline_acct_locked(p, c->ev.account_id);
    if (a) {
        passed = ag_activity_passes_held_login(&a->activity, &c->ev);
        if (!c->acct.known)
            snprintf(a->role, sizeof a->role, "%s", c->ev.role);
        ag_pipeline_activity_learn(&a->activity, c);
        if (blobs)
            c->activity_len = ag_activity_blob(&a->activity, false, c->activity_blob,
                                               sizeof c->activity_blob);
    }
    pthread_mutex_unlock(&p->acct_lock);
    if (c->risk_done) {
        /* A successful login joins the account's profile unless it was
         * challenged or denied; a challenged one joins once its second factor
         * passes (the mfa.succeeded that follows, from the same context), so
         * an attacker who stops at the challenge teaches the profile nothing. */
        c->learn_profile = ag_pipeline_learns_profile(c, passed);
        ag_risk_learn_as(p->risk, &c->ev, &c->risk, c->learn_profile);
        if (blobs && c->learn_profile) {
            int n = ag_risk_profile_get(p->risk, c->ev.account_id, c->profile_blob,
                                        sizeof c->profile_blob);
            c->profile_len = n > 0 ? (size_t)n : 0;
        }
    }
    if (p->ephemeral)
        return; /* the blobs below are only written with the event */
    struct ag_buf b = {0};
    if (ag_facts_encode(c->facts, AG_RF_COUNT, c->base_action, &b) == 0) {
        c->facts_blob = b.data;
        c->facts_len = b.len;
    } else {
        ag_buf_free(&b);
    }
}

/* ---- models ---- */

static int load_profile(void *arg, const char *account_id, const void *blob, size_t len)
{
    struct ag_pipeline *p = arg;
    struct ag_err err;
    if (ag_risk_profile_put(p->risk, account_id, blob, len, &err))
        ag_log(AG_LOG_WARN, "risk profile not loaded", "account", account_id, "error", err.msg,
               NULL);
    return 0;
}

static int load_activity(void *arg, const char *account_id, const void *blob, size_t len)
{
    struct ag_pipeline *p = arg;
    pthread_mutex_lock(&p->acct_lock);
    struct acct *a = ag_pipeline_acct_locked(p, account_id);
    if (a && len && ag_activity_load(&a->activity, blob, len))
        ag_log(AG_LOG_WARN, "account activity not loaded", "account", account_id, NULL);
    pthread_mutex_unlock(&p->acct_lock);
    return 0;
}

static bool readable(const char *path)
{
    struct stat st;
    return path && *path && stat(path, &st) == 0;
}

int ag_pipeline_models_open(struct ag_pipeline *p, struct ag_err *err)
{
    const struct ag_config *cfg = p->cfg;
    int cap = ag_action_parse(cfg->first_login_action ? cfg->first_login_action : "allow");
    if (cap < 0)
        return ag_err_set(err, AG_EINVAL, "invalid_config", "first_login_action",
                          "first_login_action must be allow, review, challenge or deny");
    p->first_login_cap = (enum ag_action)cap;
    struct ag_risk_options ro = {
        .ipdb_file = readable(cfg->ipdb_file) ? cfg->ipdb_file : "",
        .uap_regexes = readable(cfg->uap_regexes) ? cfg->uap_regexes : "",
        .model = AG_MODEL_EXTENDED,
    };
    if (!ro.ipdb_file[0])
        ag_log(AG_LOG_WARN, "no IP location database: IP enrichment is off", "ipdb_file",
               cfg->ipdb_file, NULL);
    if (!ro.uap_regexes[0])
        ag_log(AG_LOG_WARN, "no uap-core regexes: user-agent parsing is off", "uap_regexes",
               cfg->uap_regexes, NULL);
    int rc = ag_risk_engine_open(&ro, &p->risk, err);
    if (rc)
        return rc;
    if ((rc = ag_store_profile_scan(p->store, load_profile, p, err)) ||
        (rc = ag_store_activity_scan(p->store, load_activity, p, err)))
        return rc;
    struct ag_rules *set = NULL;
    struct ag_rules_pos pos;
    if (cfg->rules_file[0])
        snprintf(p->rules_path, sizeof p->rules_path, "%s", cfg->rules_file);
    else
        snprintf(p->rules_path, sizeof p->rules_path, "%s/rules.rules", cfg->data_dir);
    if (readable(p->rules_path)) {
        rc = ag_rules_compile_file(&ag_rules_default_schema, p->rules_path, &set, &pos, err);
    } else if (cfg->rules_file[0]) {
        return ag_err_set(err, AG_EIO, "rules_unreadable", "rules_file", "cannot read %s",
                          cfg->rules_file);
    } else {
        rc = ag_rules_compile(&ag_rules_default_schema, "default.rules",
                              (const char *)ag_default_rules, ag_default_rules_len, &set, &pos,
                              err);
    }
    if (rc)
        return rc;
    if (!(p->rules = ag_rules_holder_new(set)))
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    return 0;
}

void ag_pipeline_models_close(struct ag_pipeline *p)
{
    ag_rules_holder_free(p->rules);
    p->rules = NULL;
    ag_risk_engine_close(p->risk);
    p->risk = NULL;
}

int ag_pipeline_rules_reload(struct ag_pipeline *p, const char *text, size_t len,
                             struct ag_rules_pos *pos, struct ag_err *err)
{
    if (text)
        return ag_rules_holder_reload_text(p->rules, &ag_rules_default_schema, "rules", text, len,
                                           pos, err);
    int rc = readable(p->rules_path)
                 ? ag_rules_holder_reload_file(p->rules, &ag_rules_default_schema, p->rules_path,
                                               pos, err)
                 : ag_rules_holder_reload_text(p->rules, &ag_rules_default_schema, "default.rules",
                                               (const char *)ag_default_rules,
                                               ag_default_rules_len, pos, err);
    if (!rc)
        ag_pipeline_cluster_rules_own(p);
    return rc;
}

int ag_pipeline_rules_publish(struct ag_pipeline *p, struct ag_rules *set, const char *text,
                              size_t len, const char *actor, struct ag_err *err)
{
    int64_t version = 0;
    int rc = ag_pipeline_cluster_rules_publish(p, text, len, actor, &version, err);
    if (rc) {
        ag_rules_release(set);
        return rc;
    }
    ag_rules_holder_swap(p->rules, set);
    ag_pipeline_cluster_rules_running(p, text, len, version);
    return 0;
}

bool ag_pipeline_rules_shared(struct ag_pipeline *p) { return p->cluster != NULL; }

struct ag_rules *ag_pipeline_rules(struct ag_pipeline *p) { return ag_rules_holder_get(p->rules); }

const char *ag_pipeline_rules_path(struct ag_pipeline *p) { return p->rules_path; }

int ag_pipeline_rules_text(struct ag_pipeline *p, char **text, size_t *len)
{
    if (ag_pipeline_cluster_rules_text(p, text, len) == 0)
        return 0;
    if (!readable(p->rules_path)) {
        *text = malloc(ag_default_rules_len + 1);
        if (!*text)
            return AG_ENOMEM;
        memcpy(*text, ag_default_rules, ag_default_rules_len);
        (*text)[ag_default_rules_len] = '\0';
        *len = ag_default_rules_len;
        return 0;
    }
    FILE *f = fopen(p->rules_path, "rb");
    if (!f)
        return AG_EIO;
    struct ag_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ag_buf_append(&b, chunk, n)) {
            fclose(f);
            ag_buf_free(&b);
            return AG_ENOMEM;
        }
    fclose(f);
    if (!b.data && ag_buf_append(&b, "", 0))
        return AG_ENOMEM;
    *text = b.data;
    *len = b.len;
    return 0;
}

bool ag_pipeline_rules_use(struct ag_pipeline *p, int field_id)
{
    struct ag_rules *set = p->rules ? ag_rules_holder_get(p->rules) : NULL;
    bool used = set && ag_rules_uses_field(set, field_id);
    ag_rules_release(set);
    return used;
}

bool ag_pipeline_wait_ready(struct ag_pipeline *p)
{
    struct ag_ipintel *ip = p->risk ? ag_risk_ipintel(p->risk) : NULL;
    return ip && ag_ipintel_index_wait(ip);
}
