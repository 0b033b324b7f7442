/* The risk engine facade: enrichment -> features -> velocity -> model. */
#include "risk/risk.h"

#include "core/event_types.h"
#include "risk/ipintel.h"
#include "risk/rhash.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTING_CACHE 4096

struct ag_risk_engine {
    struct ag_login_model_options model;
    _Atomic uint64_t hosting_cache[HOSTING_CACHE]; /* asn << 1 | is hosting */
    struct ag_ipintel *ip;
    struct ag_useragent *ua;
    struct ag_profile_store *profiles;
    struct ag_velocity *vel;
    ag_risk_velocity_fn vel_source; /* counts of other nodes; NULL: none */
    void *vel_source_arg;
};

void ag_risk_velocity_source(struct ag_risk_engine *e, ag_risk_velocity_fn fn, void *arg)
{
    e->vel_source = fn;
    e->vel_source_arg = arg;
}

int ag_risk_engine_open(const struct ag_risk_options *o, struct ag_risk_engine **out,
                        struct ag_err *err)
{
    *out = NULL;
    struct ag_risk_engine *e = calloc(1, sizeof *e);
    if (!e)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    e->model.kind = o->model;
    e->model.center = o->risk_center;
    e->model.scale = o->risk_scale;
    int rc = 0;
    if (o->ipdb_file && o->ipdb_file[0])
        rc = ag_ipintel_open(o->ipdb_file, o->ip_cache, &e->ip, err);
    if (!rc && e->ip && !o->ip_index_off)
        ag_ipintel_index_start(e->ip); /* in the background; libloc answers meanwhile */
    if (!rc && o->uap_regexes && o->uap_regexes[0])
        rc = ag_useragent_open(o->uap_regexes, o->ua_cache, &e->ua, err);
    if (!rc)
        rc = ag_profile_store_open(o->expected_accounts, &e->profiles, err);
    if (!rc)
        rc = ag_velocity_open(&o->velocity, &e->vel, err);
    if (rc) {
        ag_risk_engine_close(e);
        return rc;
    }
    *out = e;
    return 0;
}

void ag_risk_engine_close(struct ag_risk_engine *e)
{
    if (!e)
        return;
    ag_ipintel_close(e->ip);
    ag_useragent_close(e->ua);
    ag_profile_store_close(e->profiles);
    ag_velocity_close(e->vel);
    free(e);
}

struct ag_ipintel *ag_risk_ipintel(struct ag_risk_engine *e) { return e->ip; }
struct ag_useragent *ag_risk_useragent(struct ag_risk_engine *e) { return e->ua; }
struct ag_profile_store *ag_risk_profiles(struct ag_risk_engine *e) { return e->profiles; }
struct ag_velocity *ag_risk_velocity(struct ag_risk_engine *e) { return e->vel; }

/* --- helpers ------------------------------------------------------------ */

static void scopy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

/* "Chrome Mobile 46.0.2490" -> family "Chrome Mobile", version "46.0.2490". */
static void split_name_version(const char *s, char *fam, size_t fcap, char *ver, size_t vcap)
{
    const char *sp = strrchr(s, ' ');
    if (sp && isdigit((unsigned char)sp[1])) {
        size_t n = (size_t)(sp - s);
        if (n >= fcap)
            n = fcap - 1;
        memcpy(fam, s, n);
        fam[n] = 0;
        scopy(ver, vcap, sp + 1);
    } else {
        scopy(fam, fcap, s);
        ver[0] = 0;
    }
}

/* Fingerprint of "family major": the family and the version up to its first dot. */
static uint32_t name_major_key(const char *fam, const char *ver, uint64_t seed)
{
    size_t n = strcspn(ver, ".");
    return ag_rh_fold32(ag_rh_str(fam, seed) ^ ag_rh_bytes(ver, n, seed + 1));
}

/* "%u.%u.%u.0/24" without printf. */
static void v4_prefix(char *out, const uint8_t *a)
{
    char *p = out;
    for (int i = 0; i < 3; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = '.';
    }
    memcpy(p, "0/24", 5);
}

/* ag_ipintel_is_hosting, remembered per ASN (a small lock-free table). */
static bool asn_hosting(struct ag_risk_engine *e, uint32_t asn, const char *name)
{
    _Atomic uint64_t *slot = &e->hosting_cache[ag_rh_mix(asn) & (HOSTING_CACHE - 1)];
    uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
    if (v >> 1 == asn)
        return v & 1;
    bool h = ag_ipintel_is_hosting(asn, name);
    atomic_store_explicit(slot, (uint64_t)asn << 1 | h, memory_order_relaxed);
    return h;
}

static void version_join(char *out, size_t cap, const char *major, const char *minor)
{
    if (!major[0])
        out[0] = 0;
    else if (!minor[0])
        scopy(out, cap, major);
    else
        snprintf(out, cap, "%.11s.%.11s", major, minor);
}

/* --- assess ------------------------------------------------------------- */

int ag_risk_assess(struct ag_risk_engine *e, const struct ag_event *ev,
                   const struct ag_risk_given *given, struct ag_risk_assessment *a)
{
    memset(a, 0, sizeof *a);
    a->at_ms = ev->occurred_at_ms;
    uint32_t tflags = ev->type ? ev->type->flags : 0;
    a->is_login = tflags & AG_EVT_LOGIN;
    a->login_ok = tflags & AG_EVT_LOGIN_OK;
    a->login_fail = tflags & AG_EVT_LOGIN_FAIL;
    a->model = e->model.kind;
    a->account_key = ag_profile_account_key(ev->account_id);
    struct ag_profile_values *val = &a->values;

    /* network */
    uint8_t addr[16];
    if (ev->ip[0] && inet_pton(AF_INET, ev->ip, addr) == 1) {
        a->ip_valid = true;
        a->ip_key = ag_rh_bytes(addr, 4, 0x1f4u);
        a->prefix_key = ag_rh_bytes(addr, 3, 0x9f4u);
        v4_prefix(a->ip_prefix, addr);
    } else if (ev->ip[0] && inet_pton(AF_INET6, ev->ip, addr) == 1) {
        a->ip_valid = a->ip_v6 = true;
        a->ip_key = ag_rh_bytes(addr, 16, 0x1f6u);
        a->prefix_key = ag_rh_bytes(addr, 6, 0x9f6u);
        uint8_t p[16] = {0};
        memcpy(p, addr, 6);
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, p, buf, sizeof buf);
        snprintf(a->ip_prefix, sizeof a->ip_prefix, "%s/48", buf);
    }
    if (a->ip_valid) {
        val->v[AG_PF_IP] = ag_rh_fold32(a->ip_key);
        val->v[AG_PF_PREFIX] = ag_rh_fold32(a->prefix_key);
        val->present |= 1u << AG_PF_IP | 1u << AG_PF_PREFIX;
    }
    bool have_cc = given && given->country && given->country[0];
    bool have_asn = given && given->asn;
    if (a->ip_valid && e->ip && !(have_cc && have_asn)) {
        struct ag_ipinfo info;
        ag_ipintel_lookup(e->ip, ev->ip, &info);
        a->ip_found = info.found;
        scopy(a->country, sizeof a->country, info.country);
        a->asn = info.asn;
        scopy(a->as_name, sizeof a->as_name, info.as_name);
        a->ip_flags = info.flags;
    }
    if (have_cc) {
        a->country[0] = (char)toupper((unsigned char)given->country[0]);
        a->country[1] = (char)toupper((unsigned char)given->country[1]);
        a->country[2] = 0;
    }
    if (have_asn && given->asn != a->asn) {
        a->asn = given->asn;
        scopy(a->as_name, sizeof a->as_name, e->ip ? ag_ipintel_as_name(e->ip, a->asn) : "");
        a->ip_flags &= ~(uint32_t)AG_IP_HOSTING;
    }
    if (a->asn && !(a->ip_flags & AG_IP_HOSTING) && asn_hosting(e, a->asn, a->as_name))
        a->ip_flags |= AG_IP_HOSTING;
    a->ip_hosting = a->ip_flags & AG_IP_HOSTING;
    a->ip_anon_proxy = a->ip_flags & (AG_IP_ANON_PROXY | AG_IP_DROP);
    a->ip_private = a->ip_flags & AG_IP_PRIVATE;
    if (a->asn) {
        val->v[AG_PF_ASN] = a->asn;
        val->present |= 1u << AG_PF_ASN;
        a->asn_key = a->asn;
    }
    if (a->country[0]) {
        val->v[AG_PF_COUNTRY] = ag_profile_country_key(a->country);
        val->present |= 1u << AG_PF_COUNTRY;
    }
    if (a->ip_valid && (a->ip_found || have_asn || have_cc)) {
        val->v[AG_PF_NETCLASS] = a->ip_anon_proxy ? 3 : a->ip_hosting ? 2 : 1;
        val->present |= 1u << AG_PF_NETCLASS;
    }

    /* client */
    bool g_br = given && given->browser && given->browser[0];
    bool g_os = given && given->os && given->os[0];
    bool g_dt = given && given->device_type && given->device_type[0];
    struct ag_uainfo ui;
    bool parsed = false;
    if (ev->user_agent[0] && e->ua && !(g_br && g_os && g_dt)) {
        ag_useragent_parse(e->ua, ev->user_agent, &ui);
        parsed = true;
    }
    if (g_br) {
        split_name_version(given->browser, a->browser, sizeof a->browser, a->browser_version,
                           sizeof a->browser_version);
    } else if (parsed) {
        scopy(a->browser, sizeof a->browser, ui.browser);
        version_join(a->browser_version, sizeof a->browser_version, ui.browser_major,
                     ui.browser_minor);
    }
    if (g_os) {
        split_name_version(given->os, a->os, sizeof a->os, a->os_version, sizeof a->os_version);
    } else if (parsed) {
        scopy(a->os, sizeof a->os, ui.os);
        version_join(a->os_version, sizeof a->os_version, ui.os_major, ui.os_minor);
    }
    if (g_dt)
        a->device_type = ag_device_type_parse(given->device_type);
    else if (parsed)
        a->device_type = ui.device_type;
    a->ua_bot = a->device_type == AG_DEVICE_BOT;
    if (ev->user_agent[0]) {
        val->v[AG_PF_UA] = ag_rh_fold32(ag_rh_str(ev->user_agent, 0x0a11u));
        val->present |= 1u << AG_PF_UA;
    }
    if (a->browser[0]) {
        val->v[AG_PF_BROWSER] = name_major_key(a->browser, a->browser_version, 0xb0u);
        val->present |= 1u << AG_PF_BROWSER;
    }
    if (a->os[0]) {
        val->v[AG_PF_OS] = name_major_key(a->os, a->os_version, 0x05u);
        val->present |= 1u << AG_PF_OS;
    }
    if (a->browser[0] || a->os[0] || g_dt) {
        val->v[AG_PF_DEVTYPE] = (uint32_t)a->device_type + 1;
        val->present |= 1u << AG_PF_DEVTYPE;
    }
    if (a->ip_valid && (val->present >> AG_PF_DEVTYPE & 1)) {
        val->v[AG_PF_PREFIX_DT] = (ag_rh_fold32(a->prefix_key ^ 0xd7d7ULL) & ~7u) |
                                  ((uint32_t)a->device_type & 7u);
        if (!(val->v[AG_PF_PREFIX_DT] & ~7u))
            val->v[AG_PF_PREFIX_DT] |= 8;
        val->present |= 1u << AG_PF_PREFIX_DT;
    }
    if (ev->device_id[0]) {
        a->has_device_id = true;
        a->device_key = ag_rh_str(ev->device_id, 0xde7u);
        val->v[AG_PF_DEVICE] = ag_rh_fold32(a->device_key);
        val->present |= 1u << AG_PF_DEVICE;
    }

    /* start the memory accesses of what follows, so that they overlap */
    ag_profile_prefetch(e->profiles, val);
    struct ag_velocity_keys vk = {
        .account = a->account_key,
        .ip = a->ip_valid ? a->ip_key : 0,
        .prefix = a->ip_valid ? a->prefix_key : 0,
        .asn = a->asn_key,
        .device = a->has_device_id ? a->device_key : 0,
    };
    ag_velocity_prefetch(e->vel, &vk);

    /* history */
    struct ag_profile_view view;
    ag_profile_lookup(e->profiles, a->account_key, val, &view);
    a->history_logins = view.n;
    a->last_login_ms = (int64_t)view.last_login_s * 1000;
    ag_profile_country_str(view.top[AG_PF_COUNTRY], a->prev_country);
    a->prev_asn = view.top[AG_PF_ASN];

    /* velocity */
    int64_t t = a->at_ms;
    struct ag_velocity_counts vc;
    ag_velocity_snapshot(e->vel, &vk, t, &vc);
    if (e->vel_source)
        e->vel_source(e->vel_source_arg, &vk, t, &vc);
    a->fail_account = vc.fail_account;
    a->mfa_fail_account = vc.mfa_fail_account;
    a->fail_ip = vc.fail_ip;
    a->attempts_ip = vc.attempts_ip;
    a->accounts_per_ip = vc.accounts_per_ip;
    a->fail_prefix = vc.fail_prefix;
    a->fail_asn = vc.fail_asn;
    a->accounts_per_device = vc.accounts_per_device;

    /* travel from the last successful login */
    if (view.last_login_s && view.last_country[0] && a->country[0] &&
        strcmp(view.last_country, a->country))
        ag_velocity_travel(view.last_country, a->last_login_ms, a->country, t, &a->travel_km,
                           &a->travel_kmh);

    /* score */
    struct ag_login_context ctx = {
        .ip_flags = a->ip_flags,
        .fail_account = a->fail_account,
        .fail_ip = a->fail_ip,
        .fail_prefix = a->fail_prefix,
        .accounts_per_ip = a->accounts_per_ip,
        .accounts_per_device = a->accounts_per_device,
        .mfa_fail_account = a->mfa_fail_account,
        .travel_kmh = a->travel_kmh,
        .travel_km = a->travel_km,
        .hour_slot = t > 0 ? (int)(t / 1000 % 86400 / 10800) : -1,
        .bot_ua = a->ua_bot,
    };
    struct ag_login_score sc;
    ag_login_model_score(&e->model, e->profiles, &view, val, &ctx, &sc);
    a->risk = sc.risk;
    a->log_lr = sc.log_lr;
    a->signals = sc.signals;
    a->unfamiliar = sc.signals & (AG_RISK_NEW_IP | AG_RISK_NEW_PREFIX | AG_RISK_NEW_ASN |
                                  AG_RISK_NEW_COUNTRY | AG_RISK_NEW_UA | AG_RISK_NEW_BROWSER |
                                  AG_RISK_NEW_OS | AG_RISK_NEW_DEVICE_TYPE | AG_RISK_NEW_DEVICE |
                                  AG_RISK_NEW_NETWORK_TYPE);
    memcpy(a->term, sc.term, sizeof a->term);
    if ((a->unfamiliar & AG_RISK_NEW_ASN) && a->prev_asn && e->ip)
        scopy(a->prev_as_name, sizeof a->prev_as_name, ag_ipintel_as_name(e->ip, a->prev_asn));
    return 0;
}

/* --- learn -------------------------------------------------------------- */

unsigned ag_risk_learn_what(uint32_t tflags)
{
    unsigned what = 0;
    if (tflags & (AG_EVT_LOGIN | AG_EVT_LOGIN_OK | AG_EVT_LOGIN_FAIL))
        what |= AG_VEL_REC_ATTEMPT;
    if (tflags & AG_EVT_LOGIN_FAIL)
        what |= AG_VEL_REC_FAIL;
    if (tflags & AG_EVT_MFA_FAIL)
        what |= AG_VEL_REC_MFA_FAIL;
    return what;
}

void ag_risk_learn(struct ag_risk_engine *e, const struct ag_event *ev,
                   const struct ag_risk_assessment *a)
{
    ag_risk_learn_as(e, ev, a, ev->type && (ev->type->flags & AG_EVT_LOGIN_OK));
}

void ag_risk_learn_as(struct ag_risk_engine *e, const struct ag_event *ev,
                      const struct ag_risk_assessment *a, bool profile)
{
    uint32_t tflags = ev->type ? ev->type->flags : 0;
    if (profile)
        ag_profile_learn(e->profiles, a->account_key, &a->values, a->at_ms, a->country);
    unsigned what = ag_risk_learn_what(tflags);
    if (!what)
        return;
    struct ag_velocity_keys vk = {
        .account = a->account_key,
        .ip = a->ip_valid ? a->ip_key : 0,
        .prefix = a->ip_valid ? a->prefix_key : 0,
        .asn = a->asn_key,
        .device = a->has_device_id ? a->device_key : 0,
    };
    ag_velocity_record(e->vel, &vk, what, a->at_ms);
}

/* --- reasons ------------------------------------------------------------ */

struct sigdef {
    uint32_t bit;
    const char *code;
};

/* Strongest first: the order reasons are listed in. */
static const struct sigdef sigdefs[] = {
    {AG_RISK_IMPOSSIBLE_TRAVEL, "impossible_travel"},
    {AG_RISK_STUFFING_IP, "credential_stuffing_ip"},
    {AG_RISK_STUFFING_DEVICE, "credential_stuffing_device"},
    {AG_RISK_FAILURES_ACCOUNT, "failed_logins_account"},
    {AG_RISK_FAILURES_IP, "failed_logins_ip"},
    {AG_RISK_MFA_FAILURES, "failed_mfa"},
    {AG_RISK_ANON_PROXY, "anonymous_proxy"},
    {AG_RISK_HOSTING, "hosting_network"},
    {AG_RISK_BOT_UA, "bot_user_agent"},
    {AG_RISK_NEW_COUNTRY, "new_country"},
    {AG_RISK_NEW_ASN, "new_asn"},
    {AG_RISK_NEW_DEVICE, "new_device"},
    {AG_RISK_NEW_NETWORK_TYPE, "new_network_type"},
    {AG_RISK_NEW_DEVICE_TYPE, "new_device_type"},
    {AG_RISK_NEW_OS, "new_os"},
    {AG_RISK_NEW_BROWSER, "new_browser"},
    {AG_RISK_NEW_PREFIX, "new_ip_prefix"},
    {AG_RISK_NEW_IP, "new_ip"},
    {AG_RISK_NEW_UA, "new_user_agent"},
    {AG_RISK_UNUSUAL_HOUR, "unusual_hour"},
    {AG_RISK_FIRST_LOGIN, "first_login"},
};

const char *ag_risk_signal_code(uint32_t bit)
{
    for (size_t i = 0; i < sizeof sigdefs / sizeof sigdefs[0]; i++)
        if (sigdefs[i].bit == bit)
            return sigdefs[i].code;
    return NULL;
}

static const char *netclass_name(uint32_t flags)
{
    return flags & (AG_IP_ANON_PROXY | AG_IP_DROP) ? "anonymous proxy"
           : flags & AG_IP_HOSTING                 ? "hosting network"
                                                   : "ordinary network";
}

void ag_risk_reasons(const struct ag_risk_assessment *a, struct ag_decision *d)
{
    for (size_t i = 0; i < sizeof sigdefs / sizeof sigdefs[0]; i++) {
        uint32_t b = sigdefs[i].bit;
        if (!(a->signals & b))
            continue;
        const char *c = sigdefs[i].code;
        switch (b) {
        case AG_RISK_IMPOSSIBLE_TRAVEL:
            ag_decision_reason(d, c, "%s -> %s: %.0f km at %.0f km/h", a->prev_country,
                               a->country, a->travel_km, a->travel_kmh);
            break;
        case AG_RISK_STUFFING_IP:
            ag_decision_reason(d, c, "%u accounts tried from %s in the last hour",
                               a->accounts_per_ip, a->ip_prefix);
            break;
        case AG_RISK_STUFFING_DEVICE:
            ag_decision_reason(d, c, "%u accounts tried from this device in the last hour",
                               a->accounts_per_device);
            break;
        case AG_RISK_FAILURES_ACCOUNT:
            ag_decision_reason(d, c, "%u failed logins on the account in the last hour",
                               a->fail_account);
            break;
        case AG_RISK_FAILURES_IP:
            ag_decision_reason(d, c, "%u failed logins from the address, %u from %s",
                               a->fail_ip, a->fail_prefix, a->ip_prefix);
            break;
        case AG_RISK_MFA_FAILURES:
            ag_decision_reason(d, c, "%u wrong one-time codes in the last hour",
                               a->mfa_fail_account);
            break;
        case AG_RISK_ANON_PROXY:
        case AG_RISK_HOSTING:
            ag_decision_reason(d, c, "AS%u %s", a->asn, a->as_name);
            break;
        case AG_RISK_BOT_UA:
            ag_decision_reason(d, c, "%s", a->browser[0] ? a->browser : "automated client");
            break;
        case AG_RISK_NEW_COUNTRY:
            ag_decision_reason(d, c, "%s -> %s", a->prev_country[0] ? a->prev_country : "?",
                               a->country);
            break;
        case AG_RISK_NEW_ASN:
            ag_decision_reason(d, c, "AS%u %s -> AS%u %s", a->prev_asn, a->prev_as_name, a->asn,
                               a->as_name);
            break;
        case AG_RISK_NEW_DEVICE:
            ag_decision_reason(d, c, "device not seen before on this account (%u logins)",
                               a->history_logins);
            break;
        case AG_RISK_NEW_NETWORK_TYPE:
            ag_decision_reason(d, c, "first login from a %s", netclass_name(a->ip_flags));
            break;
        case AG_RISK_NEW_DEVICE_TYPE:
            ag_decision_reason(d, c, "first login from a %s device",
                               ag_device_type_name(a->device_type));
            break;
        case AG_RISK_NEW_OS:
            ag_decision_reason(d, c, "%s %s", a->os, a->os_version);
            break;
        case AG_RISK_NEW_BROWSER:
            ag_decision_reason(d, c, "%s %s", a->browser, a->browser_version);
            break;
        case AG_RISK_NEW_PREFIX:
            ag_decision_reason(d, c, "%s", a->ip_prefix);
            break;
        case AG_RISK_NEW_IP:
            ag_decision_reason(d, c, "address not seen before on this account");
            break;
        case AG_RISK_NEW_UA:
            ag_decision_reason(d, c, "user agent not seen before on this account");
            break;
        case AG_RISK_UNUSUAL_HOUR:
            ag_decision_reason(d, c, "login at an hour this account does not use");
            break;
        case AG_RISK_FIRST_LOGIN:
            ag_decision_reason(d, c, "no login history yet");
            break;
        }
    }
}

/* --- persistence and memory --------------------------------------------- */

int ag_risk_profile_get(struct ag_risk_engine *e, const char *account_id, uint8_t *buf,
                        size_t cap)
{
    return ag_profile_blob_get(e->profiles, ag_profile_account_key(account_id), buf, cap);
}

int ag_risk_profile_put(struct ag_risk_engine *e, const char *account_id, const uint8_t *blob,
                        size_t len, struct ag_err *err)
{
    return ag_profile_blob_put(e->profiles, ag_profile_account_key(account_id), blob, len, err);
}

int ag_risk_profile_apply(const struct ag_risk_assessment *a, const uint8_t *stored, size_t len,
                          uint8_t *out, size_t cap, struct ag_err *err)
{
    return ag_profile_blob_learn(a->account_key, stored, len, &a->values, a->at_ms, a->country,
                                 out, cap, err);
}

void ag_risk_mem(struct ag_risk_engine *e, struct ag_risk_mem *out)
{
    memset(out, 0, sizeof *out);
    struct ag_profile_mem pm;
    ag_profile_mem(e->profiles, &pm);
    out->accounts = pm.accounts;
    out->profile_bytes = pm.account_bytes + pm.table_bytes;
    out->global_bytes = pm.global_bytes;
    out->velocity_bytes = ag_velocity_bytes(e->vel);
    size_t b = 0;
    if (e->ip) {
        ag_ipintel_stats(e->ip, &out->ip_cache_hits, &out->ip_cache_misses, &b);
        out->cache_bytes += b;
    }
    if (e->ua) {
        ag_useragent_stats(e->ua, &out->ua_cache_hits, &out->ua_cache_misses, &b);
        out->cache_bytes += b;
    }
}
