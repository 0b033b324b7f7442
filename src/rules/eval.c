/* The rules evaluator: walks a compiled set's node arrays for one event.
 * Conditions use three-valued logic (true, false, unknown): a comparison,
 * function or arithmetic with a missing operand is unknown, 'and' is false
 * if any term is false, 'or' true if any term is true, 'not' keeps unknown,
 * and a rule fires only on true. Nothing allocates; recursion is bounded by
 * the tree depth the compiler enforced (AG_RULES_MAX_DEPTH). Also here: the
 * set's reference count and accessors. */
#include "rules/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F = 0, T = 1, U = 2 };

struct src {
    const struct ag_rules_value *vals;
    int nvals;
    ag_rules_get_fn get;
    void *ctx;
};

struct sv {
    const char *p;
    size_t len;
    bool fold; /* compare case-insensitively (ASCII): lower() was applied */
};

static inline bool fetch(const struct src *s, int id, int type, struct ag_rules_value *out)
{
    if (s->vals) {
        if (id >= s->nvals)
            return false;
        *out = s->vals[id];
    } else {
        out->type = AG_RULES_MISSING;
        s->get(s->ctx, id, out);
    }
    if ((int)out->type != type)
        return false;
    switch (type) {
    case AG_RULES_NUMBER:
        return !isnan(out->num);
    case AG_RULES_STRING:
        return out->str.ptr != NULL || out->str.len == 0;
    case AG_RULES_STRLIST:
        return out->list.items != NULL || out->list.n == 0;
    default:
        return true;
    }
}

static inline unsigned char fold(unsigned char ch) { return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch; }

/* Compare n bytes of a and b, folding the sides marked. */
static bool bytes_eq(const char *a, bool fa, const char *b, bool fb, size_t n)
{
    if (!fa && !fb)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (fa)
            x = fold(x);
        if (fb)
            y = fold(y);
        if (x != y)
            return false;
    }
    return true;
}

static bool sv_eq(const struct sv *a, const struct sv *b)
{
    return a->len == b->len && bytes_eq(a->p, a->fold, b->p, b->fold, a->len);
}

static bool sv_contains(const struct sv *h, const struct sv *n)
{
    if (n->len == 0)
        return true;
    if (n->len > h->len)
        return false;
    if (!h->fold && !n->fold)
        return memmem(h->p, h->len, n->p, n->len) != NULL;
    for (size_t i = 0; i + n->len <= h->len; i++)
        if (bytes_eq(h->p + i, h->fold, n->p, n->fold, n->len))
            return true;
    return false;
}

static int ev_bool(const struct ag_rules *s, int32_t n, const struct src *src);
static bool ev_num(const struct ag_rules *s, int32_t n, const struct src *src, double *out);

static bool ev_str(const struct ag_rules *s, int32_t n, const struct src *src, struct sv *out)
{
    const struct node *nd = &s->nodes[n];
    switch (nd->op) {
    case OP_CONST_STR:
        *out = (struct sv){s->pool + nd->u.str.off, nd->u.str.len, false};
        return true;
    case OP_FIELD: {
        struct ag_rules_value v;
        if (!fetch(src, nd->u.field, AG_RULES_STRING, &v))
            return false;
        *out = (struct sv){v.str.ptr ? v.str.ptr : "", v.str.len, false};
        return true;
    }
    case OP_LOWER:
        if (!ev_str(s, nd->a, src, out))
            return false;
        out->fold = true;
        return true;
    case OP_DEFAULT:
        return ev_str(s, nd->a, src, out) || ev_str(s, nd->b, src, out);
    default:
        return false;
    }
}

static bool ev_list(const struct ag_rules *s, int32_t n, const struct src *src,
                    struct ag_rules_value *out)
{
    const struct node *nd = &s->nodes[n];
    return nd->op == OP_FIELD && fetch(src, nd->u.field, AG_RULES_STRLIST, out);
}

static size_t utf8_chars(const char *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)p[i] & 0xC0) != 0x80;
    return n;
}

static bool ev_num(const struct ag_rules *s, int32_t n, const struct src *src, double *out)
{
    const struct node *nd = &s->nodes[n];
    double x, y;
    switch (nd->op) {
    case OP_CONST_NUM:
        *out = nd->u.num;
        return true;
    case OP_FIELD: {
        struct ag_rules_value v;
        if (!fetch(src, nd->u.field, AG_RULES_NUMBER, &v))
            return false;
        *out = v.num;
        return true;
    }
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MIN:
    case OP_MAX:
        if (!ev_num(s, nd->a, src, &x) || !ev_num(s, nd->b, src, &y))
            return false;
        switch (nd->op) {
        case OP_ADD: *out = x + y; break;
        case OP_SUB: *out = x - y; break;
        case OP_MUL: *out = x * y; break;
        case OP_DIV:
            if (y == 0)
                return false;
            *out = x / y;
            break;
        case OP_MIN: *out = x < y ? x : y; break;
        default: *out = x > y ? x : y; break;
        }
        return !isnan(*out);
    case OP_NEG:
        if (!ev_num(s, nd->a, src, &x))
            return false;
        *out = -x;
        return true;
    case OP_ABS:
        if (!ev_num(s, nd->a, src, &x))
            return false;
        *out = fabs(x);
        return true;
    case OP_LEN:
        if (nd->atype == AG_RULES_STRLIST) {
            struct ag_rules_value v;
            if (!ev_list(s, nd->a, src, &v))
                return false;
            *out = (double)v.list.n;
        } else {
            struct sv v;
            if (!ev_str(s, nd->a, src, &v))
                return false;
            *out = (double)utf8_chars(v.p, v.len);
        }
        return true;
    case OP_DEFAULT:
        return ev_num(s, nd->a, src, out) || ev_num(s, nd->b, src, out);
    default:
        return false;
    }
}

static int cmp_num(int op, double x, double y)
{
    switch (op) {
    case OP_EQ: return x == y;
    case OP_NE: return x != y;
    case OP_LT: return x < y;
    case OP_LE: return x <= y;
    case OP_GT: return x > y;
    default: return x >= y;
    }
}

/* The rest of ev_bool: comparisons of strings and bools, lists, functions.
 * Kept out of line so the common nodes below walk with a small frame. */
static __attribute__((noinline)) int ev_bool_other(const struct ag_rules *s, int32_t n,
                                                   const struct src *src);

static int ev_bool(const struct ag_rules *s, int32_t n, const struct src *src)
{
    const struct node *nd = &s->nodes[n];
    switch (nd->op) {
    case OP_CONST_BOOL:
        return nd->u.b ? T : F;
    case OP_FIELD: {
        struct ag_rules_value v;
        if (!fetch(src, nd->u.field, AG_RULES_BOOL, &v))
            return U;
        return v.b ? T : F;
    }
    case OP_EXISTS: {
        struct ag_rules_value v;
        return fetch(src, nd->u.field, nd->atype, &v) ? T : F;
    }
    case OP_AND: {
        int r = T;
        for (int32_t i = 0; i < nd->b; i++) {
            int k = ev_bool(s, s->kids[nd->a + i], src);
            if (k == F)
                return F;
            if (k == U)
                r = U;
        }
        return r;
    }
    case OP_OR: {
        int r = F;
        for (int32_t i = 0; i < nd->b; i++) {
            int k = ev_bool(s, s->kids[nd->a + i], src);
            if (k == T)
                return T;
            if (k == U)
                r = U;
        }
        return r;
    }
    case OP_NOT: {
        int k = ev_bool(s, nd->a, src);
        return k == U ? U : k == T ? F : T;
    }
    case OP_FCMP: {
        struct ag_rules_value v;
        if (!fetch(src, nd->a, AG_RULES_NUMBER, &v))
            return U;
        return cmp_num(nd->b, v.num, nd->u.num) ? T : F;
    }
    default:
        return ev_bool_other(s, n, src);
    }
}

static int ev_bool_other(const struct ag_rules *s, int32_t n, const struct src *src)
{
    const struct node *nd = &s->nodes[n];
    switch (nd->op) {
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        switch (nd->atype) {
        case AG_RULES_NUMBER: {
            double x, y;
            if (!ev_num(s, nd->a, src, &x) || !ev_num(s, nd->b, src, &y))
                return U;
            return cmp_num(nd->op, x, y) ? T : F;
        }
        case AG_RULES_STRING: {
            struct sv x, y;
            if (!ev_str(s, nd->a, src, &x) || !ev_str(s, nd->b, src, &y))
                return U;
            return sv_eq(&x, &y) == (nd->op == OP_EQ) ? T : F;
        }
        default: {
            int x = ev_bool(s, nd->a, src);
            if (x == U)
                return U;
            int y = ev_bool(s, nd->b, src);
            if (y == U)
                return U;
            return (x == y) == (nd->op == OP_EQ) ? T : F;
        }
        }
    case OP_IN_LIST: {
        const struct constv *items = s->consts + nd->u.list.first;
        if (nd->atype == AG_RULES_NUMBER) {
            double x;
            if (!ev_num(s, nd->a, src, &x))
                return U;
            for (uint32_t i = 0; i < nd->u.list.n; i++)
                if (items[i].num == x)
                    return T;
            return F;
        }
        struct sv x;
        if (!ev_str(s, nd->a, src, &x))
            return U;
        for (uint32_t i = 0; i < nd->u.list.n; i++)
            if (items[i].len == x.len &&
                bytes_eq(x.p, x.fold, s->pool + items[i].off, false, x.len))
                return T;
        return F;
    }
    case OP_IN_FIELD: {
        struct sv x;
        struct ag_rules_value l;
        if (!ev_str(s, nd->a, src, &x) || !ev_list(s, nd->b, src, &l))
            return U;
        for (size_t i = 0; i < l.list.n; i++) {
            const char *it = l.list.items[i];
            if (!it)
                continue;
            size_t len = strlen(it);
            if (len == x.len && bytes_eq(x.p, x.fold, it, false, len))
                return T;
        }
        return F;
    }
    case OP_STARTS:
    case OP_ENDS:
    case OP_CONTAINS: {
        struct sv x, y;
        if (!ev_str(s, nd->a, src, &x) || !ev_str(s, nd->b, src, &y))
            return U;
        if (nd->op == OP_CONTAINS)
            return sv_contains(&x, &y) ? T : F;
        if (y.len > x.len)
            return F;
        const char *at = nd->op == OP_STARTS ? x.p : x.p + (x.len - y.len);
        return bytes_eq(at, x.fold, y.p, y.fold, y.len) ? T : F;
    }
    case OP_DEFAULT: {
        int k = ev_bool(s, nd->a, src);
        return k != U ? k : ev_bool(s, nd->b, src);
    }
    default:
        return U;
    }
}

/* Evaluate rule <r>'s condition, skipping the conjunct its guard proved. */
static int ev_rule(const struct ag_rules *s, const struct compiled_rule *r, const struct src *src)
{
    const struct node *nd = &s->nodes[r->cond];
    if (r->skip < 0)
        return ev_bool(s, r->cond, src);
    if (nd->op != OP_AND)
        return T; /* the guard was the whole condition */
    int res = T;
    for (int32_t i = 0; i < nd->b; i++) {
        if (i == r->skip)
            continue;
        int k = ev_bool(s, s->kids[nd->a + i], src);
        if (k == F)
            return F;
        if (k == U)
            res = U;
    }
    return res;
}

static int run(const struct ag_rules *s, const struct src *src, const struct ag_rules_rule **fired,
               int max)
{
    /* The candidates: unguarded rules, and those whose guard passes (guard.c). */
    uint64_t cand[AG_RULES_MAX_RULES / 64 + 1];
    int nw = s->nwords;
    memcpy(cand, s->always, (size_t)nw * sizeof *cand);
    for (int g = 0; g < s->nguards; g++) {
        struct ag_rules_value v;
        if (!fetch(src, s->guards[g].field, AG_RULES_STRING, &v))
            continue;
        const uint64_t *row = ag_rules_guard_match(s, g, v.str.ptr ? v.str.ptr : "", v.str.len);
        for (int w = 0; row && w < nw; w++)
            cand[w] |= row[w];
    }
    for (int g = 0; g < s->nbguards; g++) {
        struct ag_rules_value v;
        if (!fetch(src, s->bguards[g].field, AG_RULES_BOOL, &v) || !v.b)
            continue;
        for (int w = 0; w < nw; w++)
            cand[w] |= s->bguards[g].bits[w];
    }
    int n = 0;
    for (int w = 0; w < nw; w++) {
        for (uint64_t m = cand[w]; m; m &= m - 1) {
            const struct compiled_rule *r = &s->rules[w * 64 + __builtin_ctzll(m)];
            if (ev_rule(s, r, src) != T)
                continue;
            if (n < max)
                fired[n] = &r->pub;
            n++;
        }
    }
    return n;
}

int ag_rules_eval(const struct ag_rules *set, ag_rules_get_fn get, void *ctx,
                  const struct ag_rules_rule **fired, int max_fired)
{
    struct src src = {.get = get, .ctx = ctx};
    return run(set, &src, fired, max_fired);
}

int ag_rules_eval_values(const struct ag_rules *set, const struct ag_rules_value *values,
                         int nvalues, const struct ag_rules_rule **fired, int max_fired)
{
    static const struct ag_rules_value none;
    struct src src = {.vals = values ? values : &none, .nvals = values ? nvalues : 0};
    return run(set, &src, fired, max_fired);
}

struct ag_rules_value ag_rules_str(const char *s)
{
    if (!s)
        return (struct ag_rules_value){.type = AG_RULES_MISSING};
    return ag_rules_strn(s, strlen(s));
}

const char *ag_rules_type_name(enum ag_rules_type t)
{
    switch (t) {
    case AG_RULES_BOOL: return "bool";
    case AG_RULES_NUMBER: return "number";
    case AG_RULES_STRING: return "string";
    case AG_RULES_STRLIST: return "string list";
    default: return "missing";
    }
}

/* ---- the set as an object ---------------------------------------------- */

struct ag_rules *ag_rules_acquire(struct ag_rules *set)
{
    if (set)
        atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    return set;
}

void ag_rules_release(struct ag_rules *set)
{
    if (!set || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
        return;
    ag_rules_guards_free(set);
    free(set->rules);
    free(set->nodes);
    free(set->kids);
    free(set->consts);
    free(set->pool);
    free(set->used);
    free(set->source);
    free(set);
}

int ag_rules_count(const struct ag_rules *set) { return set ? set->nrules : 0; }

const struct ag_rules_rule *ag_rules_rule_at(const struct ag_rules *set, int i)
{
    return set && i >= 0 && i < set->nrules ? &set->rules[i].pub : NULL;
}

const struct ag_rules_rule *ag_rules_find(const struct ag_rules *set, const char *id)
{
    for (int i = 0; set && i < set->nrules; i++)
        if (strcmp(set->rules[i].pub.id, id) == 0)
            return &set->rules[i].pub;
    return NULL;
}

const char *ag_rules_version(const struct ag_rules *set) { return set->version; }
const char *ag_rules_source(const struct ag_rules *set) { return set->source; }

bool ag_rules_uses_field(const struct ag_rules *set, int field_id)
{
    return set && field_id >= 0 && field_id < set->nused && set->used[field_id];
}

void ag_rules_decision_apply(const struct ag_rules_rule *const *fired, int n, struct ag_decision *d)
{
    uint32_t methods = 0;
    bool have_methods = false;
    for (int i = 0; i < n; i++) {
        const struct ag_rules_rule *r = fired[i];
        ag_decision_rule(d, r->id);
        if (r->action == AG_ACTION_ALLOW)
            continue; /* a monitor rule: recorded, changes nothing */
        ag_decision_escalate(d, r->action);
        char code[40];
        snprintf(code, sizeof code, "rule:%.34s", r->id); /* codes hold 39 bytes */
        ag_decision_reason(d, code, "%s", r->description);
        if (r->has_score && r->score > d->risk)
            d->risk = r->score;
        if (r->action == AG_ACTION_CHALLENGE && r->methods) {
            if (!have_methods)
                methods = r->methods;
            else if (methods & r->methods)
                methods &= r->methods;
            have_methods = true;
        }
    }
    if (have_methods && d->action == AG_ACTION_CHALLENGE)
        d->challenge_methods = methods;
}
