/* Account activity: facts for the rules and their update after a decision. */
#include "pipeline/activity.h"
#include "core/util.h"
#include "rules/fields.h"

#include <stdlib.h>
#include <string.h>

#define MIN_MS 60000.0

static void put_minutes(struct ag_rules_value *facts, int id, int64_t since, int64_t now)
{
    if (since > 0 && now >= since)
        facts[id] = ag_rules_num((double)(now - since) / MIN_MS);
}

static uint32_t ring_count(const uint32_t *ring, uint32_t now_s, uint32_t window_s)
{
    uint32_t n = 0;
    for (int i = 0; i < AG_ACTIVITY_RING; i++)
        if (ring[i] && ring[i] <= now_s + 60 && now_s - ring[i] < window_s)
            n++;
    return n;
}

static void ring_add(uint32_t *ring, uint8_t *idx, uint32_t t)
{
    ring[*idx % AG_ACTIVITY_RING] = t ? t : 1;
    *idx = (uint8_t)((*idx + 1) % AG_ACTIVITY_RING);
}

/* A shipping address as given (string or object), hashed canonically. */
static uint64_t ship_hash(const struct ag_event *ev)
{
    json_t *v = json_object_get(ev->properties, "shipping_address");
    if (!v)
        return 0;
    if (json_is_string(v))
        return ag_hash_str(json_string_value(v)) | 1;
    char *dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!dump)
        return 0;
    uint64_t h = ag_hash_str(dump) | 1;
    free(dump);
    return h;
}

/* properties.<flag> == true, or any properties.items[].category == <category>. */
static bool has_item_kind(const struct ag_event *ev, const char *flag, const char *category)
{
    if (json_is_true(json_object_get(ev->properties, flag)))
        return true;
    json_t *items = json_object_get(ev->properties, "items"), *it;
    size_t i;
    json_array_foreach(items, i, it) {
        const char *c = json_string_value(json_object_get(it, "category"));
        if (c && !strcmp(c, category))
            return true;
    }
    return false;
}

void ag_activity_facts(const struct ag_activity *a, const struct ag_event *ev,
                       const struct ag_activity_input *in, struct ag_rules_value *facts)
{
    uint32_t fl = ev->type->flags;
    int64_t now = ev->occurred_at_ms;
    facts[AG_RF_EVENT_TYPE] = ag_rules_str(ev->type->name);
    facts[AG_RF_EVENT_LOGIN] = ag_rules_bool(fl & AG_EVT_LOGIN);
    facts[AG_RF_EVENT_MONEY] = ag_rules_bool(fl & AG_EVT_MONEY);
    facts[AG_RF_EVENT_CREDENTIAL] = ag_rules_bool(fl & AG_EVT_CREDENTIAL);
    facts[AG_RF_EVENT_ACCOUNT_CHANGE] = ag_rules_bool(fl & AG_EVT_ACCOUNT_CHANGE);
    facts[AG_RF_EVENT_SELLER] = ag_rules_bool(fl & AG_EVT_SELLER);
    if (ev->has_amount) {
        facts[AG_RF_EVENT_AMOUNT] = ag_rules_num((double)ev->amount_minor);
        facts[AG_RF_EVENT_CURRENCY] = ag_rules_str(ev->currency);
    }
    facts[AG_RF_ACCOUNT_ROLE] = ag_rules_str(ev->role);
    /* The platform says the session passed 2-step verification. */
    json_t *mv = json_object_get(ev->properties, "mfa_verified");
    if (json_is_boolean(mv))
        facts[AG_RF_SESSION_MFA_VERIFIED] = ag_rules_bool(json_is_true(mv));
    /* Failed logins in the last 10 minutes and distinct addresses that
     * failed in the last hour, this event included. */
    bool failing = fl & AG_EVT_LOGIN_FAIL;
    uint32_t now_s = (uint32_t)(ev->occurred_at_ms / 1000);
    uint64_t my_ip = ev->ip[0] ? ag_hash_str(ev->ip) | 1 : 0;
    uint32_t f10 = failing, ips = 0;
    uint64_t seen[AG_ACTIVITY_FAILS + 1];
    if (failing && my_ip)
        seen[ips++] = my_ip;
    const struct ag_activity_fails *fs = a ? a->fails : NULL;
    for (int i = 0; fs && i < AG_ACTIVITY_FAILS; i++) {
        uint32_t t = fs->at_s[i];
        if (!t || t > now_s + 60 || now_s - t >= 3600)
            continue;
        if (now_s - t < 600)
            f10++;
        bool dup = !fs->ip[i];
        for (uint32_t k = 0; k < ips && !dup; k++)
            dup = seen[k] == fs->ip[i];
        if (!dup)
            seen[ips++] = fs->ip[i];
    }
    if (fl & AG_EVT_LOGIN) {
        facts[AG_RF_VEL_FAILED_ACCOUNT_10M] = ag_rules_num(f10);
        facts[AG_RF_VEL_IPS_PER_ACCOUNT_1H] = ag_rules_num(ips);
    }
    if (ev->device_id[0]) {
        facts[AG_RF_DEVICE_ID] = ag_rules_str(ev->device_id);
        facts[AG_RF_DEVICE_NEW] = ag_rules_bool(in->new_device);
    }
    if (!a) {
        facts[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num(0);
        facts[AG_RF_ACCOUNT_LOGINS] = ag_rules_num(0);
        facts[AG_RF_ACCOUNT_ORDERS] = ag_rules_num(0);
        return;
    }
    if (a->first_seen_ms && now >= a->first_seen_ms)
        facts[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num((double)(now - a->first_seen_ms) / 86400000.0);
    else
        facts[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num(0);
    facts[AG_RF_ACCOUNT_LOGINS] = ag_rules_num(a->successful_logins);
    put_minutes(facts, AG_RF_ACCOUNT_MIN_SINCE_RISKY_LOGIN, a->risky_login_ms, now);
    put_minutes(facts, AG_RF_ACCOUNT_MIN_SINCE_CHALLENGED_LOGIN, a->challenged_login_ms, now);
    put_minutes(facts, AG_RF_ACCOUNT_MIN_SINCE_NEW_DEVICE_LOGIN, a->new_device_login_ms, now);
    put_minutes(facts, AG_RF_ACCOUNT_MIN_SINCE_RECOVERY, a->recovery_ms, now);
    put_minutes(facts, AG_RF_ACCOUNT_MIN_SINCE_CREDENTIAL_CHANGE, a->credential_change_ms, now);
    if (a->successful_logins) {
        facts[AG_RF_ACCOUNT_LAST_LOGIN_NEW_DEVICE] = ag_rules_bool(a->last_login_new_device);
        facts[AG_RF_ACCOUNT_LAST_LOGIN_RISK] = ag_rules_num(a->last_login_risk);
    }
    const struct ag_activity_commerce *c = a->commerce;
    facts[AG_RF_ACCOUNT_ORDERS] = ag_rules_num(c ? c->orders : 0);
    if (a->recovered)
        facts[AG_RF_ACCOUNT_ORDERS_SINCE_RECOVERY] = ag_rules_num(c ? c->orders_since_recovery : 0);
    /* now_s: as above */
    if (c) {
        if (ev->has_amount && c->orders_in_currency && !strcmp(c->currency, ev->currency)) {
            facts[AG_RF_ACCOUNT_ORDER_AMOUNT_AVG] =
                ag_rules_num(c->amount_sum / (double)c->orders_in_currency);
            facts[AG_RF_ACCOUNT_ORDER_AMOUNT_MAX] = ag_rules_num((double)c->amount_max);
        }
    }
    /* Velocity of the account's own commerce, this event included. */
    bool is_order = !strcmp(ev->type->name, "order.placed");
    bool is_listing = !strcmp(ev->type->name, "listing.created");
    bool is_price = !strcmp(ev->type->name, "listing.price_changed");
    facts[AG_RF_VEL_ORDERS_1H] =
        ag_rules_num((c ? ring_count(c->order_s, now_s, 3600) : 0) + is_order);
    facts[AG_RF_VEL_ORDERS_24H] =
        ag_rules_num((c ? ring_count(c->order_s, now_s, 86400) : 0) + is_order);
    facts[AG_RF_VEL_LISTINGS_1H] =
        ag_rules_num((c ? ring_count(c->listing_s, now_s, 3600) : 0) + is_listing);
    facts[AG_RF_VEL_PRICE_CHANGES_1H] =
        ag_rules_num((c ? ring_count(c->price_s, now_s, 3600) : 0) + is_price);
    if (is_order) {
        uint64_t h = ship_hash(ev);
        if (h) {
            bool seen = false;
            for (int i = 0; c && i < AG_ACTIVITY_SHIP; i++)
                seen |= c->ship[i] == h;
            facts[AG_RF_ORDER_NEW_SHIPPING_ADDRESS] = ag_rules_bool(!seen);
        }
        facts[AG_RF_ORDER_GIFT_CARD] = ag_rules_bool(has_item_kind(ev, "gift_card", "gift_card"));
        facts[AG_RF_ORDER_DIGITAL_GOODS] = ag_rules_bool(has_item_kind(ev, "digital", "digital"));
    }
}

int ag_activity_update(struct ag_activity *a, const struct ag_event *ev,
                       const struct ag_decision *d, const struct ag_activity_input *in)
{
    uint32_t fl = ev->type->flags;
    int64_t t = ev->occurred_at_ms;
    if (!a->first_seen_ms || t < a->first_seen_ms)
        a->first_seen_ms = t;
    if (fl & AG_EVT_LOGIN_OK) {
        a->successful_logins++;
        if (d->action >= AG_ACTION_REVIEW || in->risk >= in->review_threshold)
            a->risky_login_ms = t;
        if (d->action == AG_ACTION_CHALLENGE)
            a->challenged_login_ms = t;
        a->login_held = d->action == AG_ACTION_CHALLENGE;
        if (in->new_device)
            a->new_device_login_ms = t;
        a->last_login_new_device = in->new_device;
        a->last_login_risk = (float)in->risk;
    }
    if (ag_activity_passes_held_login(a, ev))
        a->login_held = false;
    if ((fl & AG_EVT_LOGIN_FAIL) &&
        (a->fails || (a->fails = calloc(1, sizeof *a->fails)))) {
        struct ag_activity_fails *f = a->fails;
        f->at_s[f->next] = (uint32_t)(t / 1000);
        f->ip[f->next] = ev->ip[0] ? ag_hash_str(ev->ip) | 1 : 0;
        f->next = (uint8_t)((f->next + 1) % AG_ACTIVITY_FAILS);
    }
    if (!strcmp(ev->type->name, "password.reset_completed")) {
        a->recovery_ms = t;
        a->recovered = true;
        if (a->commerce)
            a->commerce->orders_since_recovery = 0;
    }
    if (fl & AG_EVT_CREDENTIAL)
        a->credential_change_ms = t;
    bool is_order = !strcmp(ev->type->name, "order.placed");
    bool is_listing = !strcmp(ev->type->name, "listing.created");
    bool is_price = !strcmp(ev->type->name, "listing.price_changed");
    if (!is_order && !is_listing && !is_price)
        return 0;
    /* Denied orders are not the account's history. */
    if (d->action == AG_ACTION_DENY)
        return 0;
    if (!a->commerce && !(a->commerce = calloc(1, sizeof *a->commerce)))
        return AG_ENOMEM;
    struct ag_activity_commerce *c = a->commerce;
    uint32_t s = (uint32_t)(t / 1000);
    if (is_listing)
        ring_add(c->listing_s, &c->listing_i, s);
    if (is_price)
        ring_add(c->price_s, &c->price_i, s);
    if (is_order) {
        ring_add(c->order_s, &c->order_i, s);
        c->orders++;
        c->orders_since_recovery++;
        if (ev->has_amount) {
            if (!c->currency[0])
                memcpy(c->currency, ev->currency, 4);
            if (!strcmp(c->currency, ev->currency)) {
                c->orders_in_currency++;
                c->amount_sum += (double)ev->amount_minor;
                if (ev->amount_minor > c->amount_max)
                    c->amount_max = ev->amount_minor;
            }
        }
        uint64_t h = ship_hash(ev);
        if (h) {
            int i = 0;
            while (i < AG_ACTIVITY_SHIP - 1 && c->ship[i] != h)
                i++;
            memmove(&c->ship[1], &c->ship[0], (size_t)i * sizeof c->ship[0]);
            c->ship[0] = h;
        }
    }
    return 0;
}

bool ag_activity_passes_held_login(const struct ag_activity *a, const struct ag_event *ev)
{
    return a && a->login_held && !strcmp(ev->type->name, "mfa.succeeded") &&
           ev->occurred_at_ms >= a->challenged_login_ms &&
           ev->occurred_at_ms - a->challenged_login_ms <= AG_ACTIVITY_PASS_WINDOW_MS;
}

/* ---- blob: version 1, little-endian fixed layout ---- */

struct wr {
    uint8_t *p;
    size_t n, cap;
    bool ok;
};
static void wr(struct wr *w, const void *v, size_t n)
{
    if (w->n + n > w->cap) {
        w->ok = false;
        return;
    }
    memcpy(w->p + w->n, v, n);
    w->n += n;
}
struct rd {
    const uint8_t *p;
    size_t n, len;
    bool ok;
};
static void rd(struct rd *r, void *v, size_t n)
{
    if (r->n + n > r->len) {
        r->ok = false;
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p + r->n, n);
    r->n += n;
}

/* flags: 1 last login from a new device, 2 recovered, 4 commerce part
 * follows, 8 payout hold follows, 16 failed logins follow, 32 the last
 * login is held for its second factor. */
size_t ag_activity_blob(const struct ag_activity *a, bool fails, uint8_t *buf, size_t cap)
{
    struct wr w = {buf, 0, cap, true};
    fails = fails && a->fails;
    uint8_t ver = 1, flags = (uint8_t)(a->last_login_new_device | a->recovered << 1 |
                                       (a->commerce != NULL) << 2 |
                                       (a->payout_hold_until_ms != 0) << 3 | fails << 4 |
                                       a->login_held << 5);
    wr(&w, &ver, 1);
    wr(&w, &flags, 1);
    wr(&w, &a->first_seen_ms, 8);
    wr(&w, &a->risky_login_ms, 8);
    wr(&w, &a->challenged_login_ms, 8);
    wr(&w, &a->new_device_login_ms, 8);
    wr(&w, &a->recovery_ms, 8);
    wr(&w, &a->credential_change_ms, 8);
    wr(&w, &a->successful_logins, 4);
    wr(&w, &a->last_login_risk, 4);
    if (a->payout_hold_until_ms)
        wr(&w, &a->payout_hold_until_ms, 8);
    if (a->commerce)
        wr(&w, a->commerce, sizeof *a->commerce);
    if (fails) {
        wr(&w, a->fails->at_s, sizeof a->fails->at_s);
        wr(&w, a->fails->ip, sizeof a->fails->ip);
        wr(&w, &a->fails->next, 1);
    }
    return w.ok ? w.n : 0;
}

int ag_activity_load(struct ag_activity *a, const uint8_t *blob, size_t len)
{
    ag_activity_free(a);
    memset(a, 0, sizeof *a);
    struct rd r = {blob, 0, len, true};
    uint8_t ver, flags;
    rd(&r, &ver, 1);
    rd(&r, &flags, 1);
    if (!r.ok || ver != 1)
        return AG_EINVAL;
    rd(&r, &a->first_seen_ms, 8);
    rd(&r, &a->risky_login_ms, 8);
    rd(&r, &a->challenged_login_ms, 8);
    rd(&r, &a->new_device_login_ms, 8);
    rd(&r, &a->recovery_ms, 8);
    rd(&r, &a->credential_change_ms, 8);
    rd(&r, &a->successful_logins, 4);
    rd(&r, &a->last_login_risk, 4);
    a->last_login_new_device = flags & 1;
    a->recovered = flags & 2;
    a->login_held = flags & 32;
    if (flags & 8)
        rd(&r, &a->payout_hold_until_ms, 8);
    if (flags & 4) {
        if (!(a->commerce = calloc(1, sizeof *a->commerce)))
            return AG_ENOMEM;
        rd(&r, a->commerce, sizeof *a->commerce);
        a->commerce->currency[3] = '\0';
    }
    if (flags & 16) {
        if (!(a->fails = calloc(1, sizeof *a->fails)))
            return AG_ENOMEM;
        rd(&r, a->fails->at_s, sizeof a->fails->at_s);
        rd(&r, a->fails->ip, sizeof a->fails->ip);
        rd(&r, &a->fails->next, 1);
        a->fails->next %= AG_ACTIVITY_FAILS;
    }
    if (!r.ok || r.n != len) {
        ag_activity_free(a);
        return AG_EINVAL;
    }
    return 0;
}

void ag_activity_free(struct ag_activity *a)
{
    free(a->commerce);
    a->commerce = NULL;
    free(a->fails);
    a->fails = NULL;
}
