/* Guards: an index that lets evaluation visit only the rules that can fire.
 * Most rules start with a test of the event type (`event.type ==
 * "order.placed" and ...`) or of a bool field (`event.login and ...`).
 * Instead of walking every rule's condition to find that out, each guard
 * field is read once per evaluation, a string guard's value is looked up
 * among its constants (binary search), and the union of the rule masks that
 * pass, plus the unguarded rules, is what gets evaluated, in file order. A
 * guard is a top-level conjunct, so skipping is exact: with the guard false
 * or unknown the condition cannot be true. See internal.h. */
#include "rules/internal.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

int ag_rules_key_cmp(const char *p, size_t len, const char *kp, size_t klen)
{
    if (len != klen)
        return len < klen ? -1 : 1;
    return memcmp(p, kp, len);
}

/* The field and constants of <n>, if <n> is `F == "c"`, `"c" == F` or
 * `F in [...]` on a plain string field; else false. */
static bool string_guard_of(const struct ag_rules *s, int32_t n, int32_t *field,
                            const struct constv **keys, uint32_t *nkeys, struct constv *one)
{
    const struct node *nd = &s->nodes[n];
    if (nd->op == OP_EQ && nd->atype == AG_RULES_STRING) {
        const struct node *a = &s->nodes[nd->a], *b = &s->nodes[nd->b];
        if (a->op == OP_CONST_STR) {
            const struct node *t = a;
            a = b;
            b = t;
        }
        if (a->op != OP_FIELD || b->op != OP_CONST_STR)
            return false;
        *field = a->u.field;
        *one = (struct constv){0, b->u.str.off, b->u.str.len};
        *keys = one;
        *nkeys = 1;
        return true;
    }
    if (nd->op == OP_IN_LIST && nd->atype == AG_RULES_STRING && s->nodes[nd->a].op == OP_FIELD) {
        *field = s->nodes[nd->a].u.field;
        *keys = s->consts + nd->u.list.first;
        *nkeys = nd->u.list.n;
        return true;
    }
    return false;
}

/* The conjuncts of rule <r>: the root's kids if it is an 'and', else the root. */
static int32_t conjunct(const struct ag_rules *s, const struct compiled_rule *r, int32_t i,
                        int32_t *n)
{
    const struct node *nd = &s->nodes[r->cond];
    if (nd->op != OP_AND) {
        *n = 1;
        return r->cond;
    }
    *n = nd->b;
    return s->kids[nd->a + i];
}

/* The first string-guard conjunct of rule <r>: its position, or -1. */
static int32_t find_string_guard(const struct ag_rules *s, const struct compiled_rule *r,
                                 int32_t *field, const struct constv **keys, uint32_t *nkeys,
                                 struct constv *one)
{
    int32_t n = 1;
    for (int32_t i = 0; i < n; i++)
        if (string_guard_of(s, conjunct(s, r, i, &n), field, keys, nkeys, one))
            return i;
    return -1;
}

/* The first conjunct of rule <r> that is a plain bool field: its position, or -1. */
static int32_t find_bool_guard(const struct ag_rules *s, const struct compiled_rule *r,
                               int32_t *field)
{
    int32_t n = 1;
    for (int32_t i = 0; i < n; i++) {
        const struct node *k = &s->nodes[conjunct(s, r, i, &n)];
        if (k->op == OP_FIELD) {
            *field = k->u.field;
            return i;
        }
    }
    return -1;
}

static int cmp_keys(const void *x, const void *y, void *pool)
{
    const struct constv *a = x, *b = y;
    const char *p = pool;
    return ag_rules_key_cmp(p + a->off, a->len, p + b->off, b->len);
}

static int32_t find_key(const struct ag_rules *s, const struct guard *g, const char *p, size_t len)
{
    size_t lo = 0, hi = g->nkeys;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = ag_rules_key_cmp(p, len, s->pool + g->keys[mid].off, g->keys[mid].len);
        if (c == 0)
            return (int32_t)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

void ag_rules_guards_free(struct ag_rules *s)
{
    for (int g = 0; g < s->nguards; g++) {
        free(s->guards[g].keys);
        free(s->guards[g].bits);
        s->guards[g].keys = NULL;
        s->guards[g].bits = NULL;
    }
    for (int g = 0; g < s->nbguards; g++) {
        free(s->bguards[g].bits);
        s->bguards[g].bits = NULL;
    }
    free(s->always);
    s->always = NULL;
    s->nguards = s->nbguards = 0;
}

static void set_bit(uint64_t *bits, int i) { bits[i / 64] |= 1ull << (i % 64); }

int ag_rules_guards_build(struct ag_rules *s)
{
    s->nwords = (s->nrules + 63) / 64;
    size_t nw = (size_t)s->nwords + 1;
    struct constv one;
    const struct constv *keys;
    uint32_t nkeys;
    int32_t field;
    uint32_t total[GUARDS_MAX] = {0};

    s->always = ag_calloc(nw, sizeof *s->always);
    if (!s->always)
        goto nomem;
    /* pass 1: each rule's guard; string guards first, they skip the most */
    for (int i = 0; i < s->nrules; i++) {
        struct compiled_rule *r = &s->rules[i];
        r->guard = r->bguard = -1;
        r->skip = -1;
        int32_t at = find_string_guard(s, r, &field, &keys, &nkeys, &one);
        if (at >= 0) {
            int g = 0;
            while (g < s->nguards && s->guards[g].field != field)
                g++;
            if (g < GUARDS_MAX) {
                if (g == s->nguards)
                    s->guards[s->nguards++].field = field;
                r->guard = (int8_t)g;
                r->skip = at;
                total[g] += nkeys;
                continue;
            }
        }
        at = find_bool_guard(s, r, &field);
        if (at >= 0) {
            int g = 0;
            while (g < s->nbguards && s->bguards[g].field != field)
                g++;
            if (g < BGUARDS_MAX) {
                if (g == s->nbguards) {
                    s->bguards[g].field = field;
                    s->bguards[g].bits = ag_calloc(nw, sizeof(uint64_t));
                    if (!s->bguards[g].bits)
                        goto nomem;
                    s->nbguards++;
                }
                r->bguard = (int8_t)g;
                r->skip = at;
                set_bit(s->bguards[g].bits, i);
                continue;
            }
        }
        set_bit(s->always, i);
    }
    /* pass 2: each string guard's sorted distinct constants, then its masks */
    for (int g = 0; g < s->nguards; g++) {
        struct guard *gd = &s->guards[g];
        gd->keys = ag_calloc(total[g] ? total[g] : 1, sizeof *gd->keys);
        if (!gd->keys)
            goto nomem;
        uint32_t n = 0;
        for (int i = 0; i < s->nrules; i++)
            if (s->rules[i].guard == g && find_string_guard(s, &s->rules[i], &field, &keys, &nkeys, &one) >= 0)
                for (uint32_t k = 0; k < nkeys; k++)
                    gd->keys[n++] = keys[k];
        qsort_r(gd->keys, n, sizeof *gd->keys, cmp_keys, s->pool);
        uint32_t u = 0;
        for (uint32_t k = 0; k < n; k++)
            if (u == 0 || cmp_keys(&gd->keys[u - 1], &gd->keys[k], s->pool) != 0)
                gd->keys[u++] = gd->keys[k];
        gd->nkeys = u;
        gd->bits = ag_calloc((size_t)u * nw, sizeof *gd->bits);
        if (!gd->bits)
            goto nomem;
        for (int i = 0; i < s->nrules; i++) {
            if (s->rules[i].guard != g ||
                find_string_guard(s, &s->rules[i], &field, &keys, &nkeys, &one) < 0)
                continue;
            for (uint32_t k = 0; k < nkeys; k++) {
                int32_t row = find_key(s, gd, s->pool + keys[k].off, keys[k].len);
                set_bit(gd->bits + (size_t)row * nw, i);
            }
        }
    }
    return 0;
nomem:
    ag_rules_guards_free(s);
    return AG_ENOMEM;
}

const uint64_t *ag_rules_guard_match(const struct ag_rules *s, int g, const char *p, size_t len)
{
    const struct guard *gd = &s->guards[g];
    int32_t row = find_key(s, gd, p, len);
    return row < 0 ? NULL : gd->bits + (size_t)row * ((size_t)s->nwords + 1);
}
