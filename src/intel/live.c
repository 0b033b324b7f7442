/* The live intel set: a match set plus the tags of its indicators, swapped
 * as one, and the event fields the enrich stage checks (see live.h). */
#include "intel/live.h"

#include "core/strmap.h"
#include "core/util.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct labels {
    size_t n;
    const char *items[]; /* strings follow the array in the same block */
};

struct ag_intel_live {
    atomic_int refs;
    int64_t built_at;
    size_t count; /* indicators in the match set */
    struct ag_intel_matchset *ms;
    struct ag_strmap labels; /* indicator id -> struct labels (only tagged ones) */
};

static int free_labels(void *arg, const char *key, void *value)
{
    free(value);
    return 0;
}

static void live_free(struct ag_intel_live *l)
{
    ag_intel_matchset_unref(l->ms);
    ag_strmap_each(&l->labels, free_labels, NULL);
    ag_strmap_free(&l->labels);
    free(l);
}

static struct labels *labels_new(const struct ag_intel_indicator *ind)
{
    size_t bytes = sizeof(struct labels) + ind->ntags * sizeof(char *);
    for (size_t i = 0; i < ind->ntags; i++)
        bytes += strlen(ind->tags[i]) + 1;
    struct labels *lb = malloc(bytes);
    if (!lb)
        return NULL;
    lb->n = ind->ntags;
    char *p = (char *)&lb->items[ind->ntags];
    for (size_t i = 0; i < ind->ntags; i++) {
        size_t len = strlen(ind->tags[i]) + 1;
        memcpy(p, ind->tags[i], len);
        lb->items[i] = p;
        p += len;
    }
    return lb;
}

int ag_intel_live_build(const struct ag_intel_indicator *inds, size_t n, int64_t now_ms,
                        struct ag_intel_live **out, struct ag_err *err)
{
    *out = NULL;
    struct ag_intel_live *l = calloc(1, sizeof *l);
    if (!l)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    atomic_init(&l->refs, 1);
    l->built_at = now_ms;
    int rc = ag_intel_matchset_build(inds, n, now_ms, &l->ms, err);
    if (rc) {
        free(l);
        return rc;
    }
    struct ag_intel_matchset_stats st;
    ag_intel_matchset_stats(l->ms, &st);
    l->count = st.indicators;
    for (size_t i = 0; i < n; i++) {
        const struct ag_intel_indicator *ind = &inds[i];
        if (!ind->ntags || (ind->valid_until_ms && ind->valid_until_ms <= now_ms))
            continue;
        struct labels *lb = labels_new(ind), *old = NULL;
        if (!lb || ag_strmap_put(&l->labels, ind->id, lb, (void **)&old)) {
            free(lb);
            live_free(l);
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        }
        free(old);
    }
    *out = l;
    return 0;
}

struct ag_intel_live *ag_intel_live_ref(struct ag_intel_live *l)
{
    if (l)
        atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    return l;
}

void ag_intel_live_unref(struct ag_intel_live *l)
{
    if (l && atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1)
        live_free(l);
}

const struct ag_intel_matchset *ag_intel_live_matchset(const struct ag_intel_live *l)
{
    return l ? l->ms : NULL;
}

int64_t ag_intel_live_built_at(const struct ag_intel_live *l) { return l ? l->built_at : 0; }

void ag_intel_live_labels(const struct ag_intel_live *l, const char *id,
                          const char *const **tags, size_t *n)
{
    const struct labels *lb = l && l->labels.len ? ag_strmap_get(&l->labels, id) : NULL;
    *tags = lb ? lb->items : NULL;
    *n = lb ? lb->n : 0;
}

/* ---- event fields -------------------------------------------------------- */

enum prop_kind { P_PLAIN, P_FINGERPRINT, P_RAW_ACCOUNT };

static const struct prop {
    const char *name;
    const char *field; /* as reported */
    enum ag_intel_field f;
    enum prop_kind kind;
} props[] = {
    {"email", "properties.email", AG_INTEL_FIELD_EMAIL, P_PLAIN},
    {"new_email", "properties.new_email", AG_INTEL_FIELD_EMAIL, P_PLAIN},
    {"url", "properties.url", AG_INTEL_FIELD_URL, P_PLAIN},
    {"domain", "properties.domain", AG_INTEL_FIELD_DOMAIN, P_PLAIN},
    {"phone", "properties.phone", AG_INTEL_FIELD_PHONE, P_PLAIN},
    {"new_phone", "properties.new_phone", AG_INTEL_FIELD_PHONE, P_PLAIN},
    {"payout_fingerprint", "properties.payout_fingerprint", AG_INTEL_FIELD_FINANCIAL,
     P_FINGERPRINT},
    {"bank_account_fingerprint", "properties.bank_account_fingerprint",
     AG_INTEL_FIELD_FINANCIAL, P_FINGERPRINT},
    {"iban", "properties.iban", AG_INTEL_FIELD_FINANCIAL, P_RAW_ACCOUNT},
    {"bank_account", "properties.bank_account", AG_INTEL_FIELD_FINANCIAL, P_RAW_ACCOUNT},
};

const char *const ag_intel_event_properties[] = {
    "properties.email",
    "properties.new_email",
    "properties.url",
    "properties.domain",
    "properties.phone",
    "properties.new_phone",
    "properties.payout_fingerprint",
    "properties.bank_account_fingerprint",
    "properties.iban",
    "properties.bank_account",
    NULL,
};

/* Phone numbers arrive formatted ("+49 151 1234-5678"): keep '+' and digits,
 * and "00" as the international prefix, as the normaliser does. */
static bool phone_compact(const char *in, char *out, size_t len)
{
    size_t o = 0;
    const char *p = in;
    while (*p == ' ')
        p++;
    if (p[0] == '0' && p[1] == '0') {
        out[o++] = '+';
        p += 2;
    }
    for (; *p; p++) {
        if (isdigit((unsigned char)*p) || (*p == '+' && o == 0)) {
            if (o + 1 >= len)
                return false;
            out[o++] = *p;
        } else if (!strchr(" .-()/", *p)) {
            return false;
        }
    }
    out[o] = '\0';
    return o > 1 && out[0] == '+';
}

static bool add_hit(const struct ag_intel_matchset *ms, enum ag_intel_field f, const char *field,
                    const char *seen, const char *lookup, int64_t at_ms,
                    struct ag_intel_event_hit *hits, size_t *n, size_t max)
{
    if (*n >= max || !lookup || !*lookup)
        return false;
    struct ag_intel_event_hit *h = &hits[*n];
    if (!ag_intel_matchset_lookup(ms, f, lookup, at_ms, &h->hit))
        return false;
    h->field = field;
    h->seen = seen;
    (*n)++;
    return true;
}

size_t ag_intel_live_match_event(const struct ag_intel_live *l, const char *ip,
                                 const char *device_id, const json_t *properties, int64_t at_ms,
                                 struct ag_intel_event_hit *hits, size_t max)
{
    const struct ag_intel_matchset *ms = l ? l->ms : NULL;
    size_t n = 0;
    if (!ms || !l->count)
        return 0; /* nothing loaded: no parsing at all */
    add_hit(ms, AG_INTEL_FIELD_IP, "context.ip", ip, ip, at_ms, hits, &n, max);
    add_hit(ms, AG_INTEL_FIELD_DEVICE, "context.device_id", device_id, device_id, at_ms, hits, &n,
            max);
    if (!json_is_object(properties))
        return n;
    for (size_t i = 0; i < AG_ARRAY_LEN(props) && n < max; i++) {
        const struct prop *p = &props[i];
        const char *v = json_string_value(json_object_get(properties, p->name));
        if (!v || !*v || strlen(v) > AG_INTEL_VALUE_MAX)
            continue;
        char buf[AG_INTEL_VALUE_MAX + 1];
        const char *lookup = v;
        if (p->kind == P_FINGERPRINT) {
            size_t len = strlen(v);
            if (len != 64)
                continue;
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)tolower((unsigned char)v[k]);
            buf[len] = '\0';
            lookup = buf;
        } else if (p->kind == P_RAW_ACCOUNT) {
            char fp[65];
            if (ag_intel_financial_fingerprint(v, NULL, 0, fp, NULL))
                continue;
            memcpy(buf, fp, sizeof fp);
            lookup = buf;
        } else if (p->f == AG_INTEL_FIELD_PHONE) {
            if (!phone_compact(v, buf, sizeof buf))
                continue;
            lookup = buf;
        }
        /* The raw account number is never reported back: only that a
         * fingerprint of it matched. */
        add_hit(ms, p->f, p->field, p->kind == P_RAW_ACCOUNT ? "(fingerprint)" : v, lookup, at_ms,
                hits, &n, max);
    }
    return n;
}

/* ---- the slot ------------------------------------------------------------ */

void ag_intel_live_slot_init(struct ag_intel_live_slot *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->cur = NULL;
}

void ag_intel_live_slot_destroy(struct ag_intel_live_slot *s)
{
    ag_intel_live_unref(s->cur);
    s->cur = NULL;
    pthread_mutex_destroy(&s->mu);
}

struct ag_intel_live *ag_intel_live_slot_acquire(struct ag_intel_live_slot *s)
{
    pthread_mutex_lock(&s->mu);
    struct ag_intel_live *l = ag_intel_live_ref(s->cur);
    pthread_mutex_unlock(&s->mu);
    return l;
}

void ag_intel_live_slot_replace(struct ag_intel_live_slot *s, struct ag_intel_live *l)
{
    pthread_mutex_lock(&s->mu);
    struct ag_intel_live *old = s->cur;
    s->cur = l;
    pthread_mutex_unlock(&s->mu);
    ag_intel_live_unref(old);
}
