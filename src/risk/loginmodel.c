/* Freeman et al.'s likelihood ratio with hierarchical backoff, and our
 * extensions. See loginmodel.h and docs/RISK.md for the derivation. */
#include "risk/loginmodel.h"

#include "risk/ipintel.h"

#include <math.h>
#include <string.h>

/* Nominal vocabulary size per feature for the global add-one estimate
 * p(x) = (C(x) + 1) / (N + V): it only matters for values the population has
 * rarely seen. */
static const double vocab[AG_PF_COUNT] = {
    [AG_PF_IP] = 1e6,    [AG_PF_PREFIX] = 2e5, [AG_PF_ASN] = 3e4,    [AG_PF_COUNTRY] = 250,
    [AG_PF_UA] = 1e5,    [AG_PF_BROWSER] = 2e3, [AG_PF_OS] = 500,    [AG_PF_DEVTYPE] = 5,
    [AG_PF_DEVICE] = 1e6, [AG_PF_NETCLASS] = 3, [AG_PF_PREFIX_DT] = 1e6,
};

static double global_p(const struct ag_profile_store *ps, int f, uint32_t key, double total)
{
    return ((double)ag_profile_global_count(ps, (enum ag_risk_feature)f, key) + 1.0) /
           (total + vocab[f]);
}

double ag_login_model_chain(const struct ag_profile_store *ps, const struct ag_profile_view *view,
                            const struct ag_profile_values *values, const int *levels, int n)
{
    double total = (double)ag_profile_global_total(ps);
    /* From the coarsest level present down to the finest:
     *   p^(x_K|u) = l_K c_K/m_K + (1 - l_K) p(x_K)
     *   p^(x_k|u) = l_k c_k/m_k + (1 - l_k) p^(x_{k+1}|u) p(x_k | x_{k+1})
     * with l = m / (m + d) (m: the account's mass of kept values at that
     * level, d: distinct values kept) and p(x_k | x_{k+1}) = p(x_k)/p(x_{k+1})
     * from the global tables, capped at 1. */
    double p_hat = -1, p_parent = 0, p_finest = 1;
    for (int i = n - 1; i >= 0; i--) {
        int f = levels[i];
        if (!(values->present >> f & 1))
            continue;
        double p = global_p(ps, f, values->v[f], total);
        double m = view->mass[f], d = view->distinct[f];
        double lam = m > 0 ? m / (m + d) : 0;
        double ml = m > 0 ? view->count[f] / m : 0;
        double backoff;
        if (p_hat < 0) {
            backoff = p;
        } else {
            double cond = p / p_parent;
            if (cond > 1)
                cond = 1;
            backoff = p_hat * cond;
        }
        p_hat = lam * ml + (1 - lam) * backoff;
        p_parent = p;
        p_finest = p;
    }
    if (p_hat <= 0)
        return 0;
    return log(p_finest / p_hat);
}

void ag_login_model_mapping(const struct ag_login_model_options *o, double *center,
                            double *scale)
{
    if (o && o->scale > 0) {
        *center = o->center;
        *scale = o->scale;
    } else if (o && o->kind == AG_MODEL_EXTENDED) {
        *center = AG_LM_EXTENDED_CENTER;
        *scale = AG_LM_EXTENDED_SCALE;
    } else {
        *center = AG_LM_FREEMAN_CENTER;
        *scale = AG_LM_FREEMAN_SCALE;
    }
}

double ag_login_model_risk(const struct ag_login_model_options *o, double log_lr)
{
    double c, s;
    ag_login_model_mapping(o, &c, &s);
    double z = (log_lr - c) / s;
    if (z > 40)
        return 1.0;
    if (z < -40)
        return 0.0;
    return 1.0 / (1.0 + exp(-z));
}

/* Attacker's distribution over network classes (1 ordinary, 2 hosting,
 * 3 proxy / drop list): credential stuffing and VPN-hiding attackers come
 * from hosting networks far more often than customers do. */
static const double attack_netclass[4] = {0, 0.55, 0.35, 0.10};

static inline double lnpos(double x) { return x > 1 ? log(x) : 0; }

void ag_login_model_score(const struct ag_login_model_options *o,
                          const struct ag_profile_store *ps, const struct ag_profile_view *view,
                          const struct ag_profile_values *values,
                          const struct ag_login_context *ctx, struct ag_login_score *out)
{
    memset(out, 0, sizeof *out);
    bool ext = o && o->kind == AG_MODEL_EXTENDED;
    double accounts = (double)ag_profile_accounts(ps);
    double total = (double)ag_profile_global_total(ps);
    if (accounts < 1)
        accounts = 1;

    /* p(u|attack) = 1/A (the attacker picks any account); p(u|legit) =
     * (n_u + 1) / (N + A), the account's share of legitimate logins. */
    out->term[AG_LM_USER] = log((total + accounts) / (accounts * ((double)view->n + 1)));

    static const int ip_plain[] = {AG_PF_IP, AG_PF_ASN, AG_PF_COUNTRY};
    static const int ip_ext[] = {AG_PF_IP, AG_PF_PREFIX, AG_PF_ASN, AG_PF_COUNTRY};
    static const int ua_chain[] = {AG_PF_UA, AG_PF_BROWSER, AG_PF_OS, AG_PF_DEVTYPE};
    if (ext)
        out->term[AG_LM_IP] = ag_login_model_chain(ps, view, values, ip_ext, 4);
    else
        out->term[AG_LM_IP] = ag_login_model_chain(ps, view, values, ip_plain, 3);
    out->term[AG_LM_UA] = ag_login_model_chain(ps, view, values, ua_chain, 4);

    uint32_t sig = 0;
    if (!view->exists || view->n == 0) {
        sig |= AG_RISK_FIRST_LOGIN;
    } else {
        static const struct {
            int f;
            uint32_t bit;
        } fam[] = {
            {AG_PF_IP, AG_RISK_NEW_IP},           {AG_PF_PREFIX, AG_RISK_NEW_PREFIX},
            {AG_PF_ASN, AG_RISK_NEW_ASN},         {AG_PF_COUNTRY, AG_RISK_NEW_COUNTRY},
            {AG_PF_UA, AG_RISK_NEW_UA},           {AG_PF_BROWSER, AG_RISK_NEW_BROWSER},
            {AG_PF_OS, AG_RISK_NEW_OS},           {AG_PF_DEVTYPE, AG_RISK_NEW_DEVICE_TYPE},
            {AG_PF_DEVICE, AG_RISK_NEW_DEVICE},   {AG_PF_NETCLASS, AG_RISK_NEW_NETWORK_TYPE},
        };
        for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++)
            if ((values->present >> fam[i].f & 1) && !view->count[fam[i].f])
                sig |= fam[i].bit;
    }
    if (ctx) {
        if (ctx->ip_flags & AG_IP_HOSTING)
            sig |= AG_RISK_HOSTING;
        if (ctx->ip_flags & (AG_IP_ANON_PROXY | AG_IP_DROP))
            sig |= AG_RISK_ANON_PROXY;
        if (ctx->bot_ua)
            sig |= AG_RISK_BOT_UA;
        if (ctx->accounts_per_ip >= 5)
            sig |= AG_RISK_STUFFING_IP;
        if (ctx->accounts_per_device >= 5)
            sig |= AG_RISK_STUFFING_DEVICE;
        if (ctx->fail_account >= 5)
            sig |= AG_RISK_FAILURES_ACCOUNT;
        if (ctx->fail_ip >= 10 || ctx->fail_prefix >= 20)
            sig |= AG_RISK_FAILURES_IP;
        if (ctx->mfa_fail_account >= 3)
            sig |= AG_RISK_MFA_FAILURES;
        if (ctx->travel_kmh > 1000 && ctx->travel_km > 500)
            sig |= AG_RISK_IMPOSSIBLE_TRAVEL;
    }

    if (ext) {
        /* Device id: a one-level hierarchy (device -> population). */
        static const int dev[] = {AG_PF_DEVICE};
        out->term[AG_LM_DEVICE] = ag_login_model_chain(ps, view, values, dev, 1);
        static const int netdev[] = {AG_PF_PREFIX_DT};
        out->term[AG_LM_NETDEV] = ag_login_model_chain(ps, view, values, netdev, 1);

        /* Network class: the attacker's own prior instead of p(x). */
        if (values->present >> AG_PF_NETCLASS & 1) {
            uint32_t cls = values->v[AG_PF_NETCLASS];
            if (cls >= 1 && cls <= 3) {
                double m = view->mass[AG_PF_NETCLASS], d = view->distinct[AG_PF_NETCLASS];
                double lam = m > 0 ? m / (m + d) : 0;
                double p = global_p(ps, AG_PF_NETCLASS, cls, total);
                double ml = m > 0 ? view->count[AG_PF_NETCLASS] / m : 0;
                double p_hat = lam * ml + (1 - lam) * p;
                out->term[AG_LM_NETWORK] = log(attack_netclass[cls] / p_hat);
            }
        }

        /* Hour of day: slot frequency vs uniform, half weight (habits drift). */
        if (ctx && ctx->hour_slot >= 0 && ctx->hour_slot < 8 && view->n >= 5) {
            double sum = 0;
            for (int i = 0; i < 8; i++)
                sum += view->hours[i];
            double p_hat = (view->hours[ctx->hour_slot] + 0.5) / (sum + 4.0);
            out->term[AG_LM_HOUR] = 0.5 * log(0.125 / p_hat);
            if (sum >= 10 && view->hours[ctx->hour_slot] == 0)
                sig |= AG_RISK_UNUSUAL_HOUR;
        }

        /* Failed-attempt context: a likelihood ratio assumed log-linear in
         * the counts beyond what ordinary use produces (a typo or two, a
         * shared address). */
        if (ctx) {
            double c = 1.5 * lnpos(ctx->accounts_per_ip / 2.0) +
                       1.5 * lnpos(ctx->accounts_per_device / 2.0) +
                       0.7 * lnpos(ctx->fail_ip / 3.0) + 0.5 * lnpos(ctx->fail_prefix / 6.0) +
                       0.7 * lnpos(ctx->fail_account / 3.0) +
                       0.7 * lnpos(ctx->mfa_fail_account / 2.0) + (ctx->bot_ua ? 2.0 : 0);
            out->term[AG_LM_CONTEXT] = c;
            /* Impossible travel stays a signal (and a field for rules), not a
             * term: with country-level locations it showed no gain in our
             * evaluation (docs/RISK.md), only a few more challenged travellers. */
        }
    }
    double s = 0;
    for (int i = 0; i < AG_LM_TERMS; i++)
        s += out->term[i];
    out->log_lr = s;
    out->signals = sig;
    out->risk = ag_login_model_risk(o, s);
}
