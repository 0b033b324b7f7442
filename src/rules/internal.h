/* Internals shared by the rules compiler (compile.c), the evaluator
 * (eval.c), the holder and the backtest: the compiled form of a rule set.
 * Not for other modules. */
#ifndef AG_RULES_INTERNAL_H
#define AG_RULES_INTERNAL_H

#include "rules/rules.h"

#include <stdatomic.h>
#include <stdint.h>

/* Node operations. Every node has a static type (enum ag_rules_type) fixed
 * by the compiler, so the evaluator never checks types. */
enum {
    OP_CONST_BOOL,  /* u.b */
    OP_CONST_NUM,   /* u.num */
    OP_CONST_STR,   /* u.str: offset and length in the string pool */
    OP_FIELD,       /* u.field: field id */
    OP_EXISTS,      /* u.field */
    OP_AND,         /* kids[a .. a+b-1] */
    OP_OR,          /* kids[a .. a+b-1] */
    OP_NOT,         /* a */
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, /* a, b: both num, both str or both bool */
    OP_IN_LIST,     /* a in consts[u.list.first .. +n] */
    OP_IN_FIELD,    /* string a in string list b */
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, /* a, b numbers */
    OP_NEG,         /* a */
    OP_STARTS, OP_ENDS, OP_CONTAINS, /* strings a, b */
    OP_LOWER,       /* string a: marks the value case-folded */
    OP_LEN,         /* string or list a */
    OP_DEFAULT,     /* a, or b when a is missing */
    OP_MIN, OP_MAX, OP_ABS,
    OP_FCMP,        /* number field a, compared by op b (OP_EQ..OP_GE) with u.num:
                       the common `velocity.x >= 20` in one node */
};

struct node {
    uint8_t op;
    uint8_t type;  /* enum ag_rules_type of the result */
    uint8_t atype; /* type of operand a where the op is overloaded */
    uint8_t depth; /* height of the subtree, 1 for a leaf */
    int32_t a, b;
    union {
        bool b;
        double num;
        int32_t field;
        struct {
            uint32_t off, len;
        } str;
        struct {
            uint32_t first, n;
        } list;
    } u;
};

/* A constant list item: a number or a string in the pool. */
struct constv {
    double num;
    uint32_t off, len;
};

struct compiled_rule {
    struct ag_rules_rule pub;
    int32_t cond;  /* root node */
    int8_t guard;  /* index in ag_rules.guards (string guard), or -1 */
    int8_t bguard; /* index in ag_rules.bguards (bool guard), or -1 */
    int32_t skip;  /* the conjunct of an 'and' root that the guard already proved, or -1 */
};

/* Guards (guard.c) let evaluation visit only the rules that can fire. A
 * rule's guard is a top-level conjunct of its condition: a string guard is
 * `F == "c"` or `F in ["c", ...]` on a plain string field (typically
 * event.type), a bool guard is a plain bool field (`event.login and ...`).
 * Each guard field is read once per evaluation; a string guard's value is
 * looked up among all its constants. A rule whose guard is false or unknown
 * cannot be true, so skipping it is exact; a rule that passes skips the
 * proven conjunct. Rules are bits in nwords-long masks, in file order. */
#define GUARDS_MAX 8
#define BGUARDS_MAX 16
struct guard {
    int32_t field;
    uint32_t nkeys;
    struct constv *keys; /* distinct constants sorted by (length, bytes) */
    uint64_t *bits;      /* nkeys rows of nwords: the rules each key lets through */
};
struct bguard {
    int32_t field;
    uint64_t *bits; /* nwords: the rules this field lets through when true */
};

struct ag_rules {
    atomic_long refs;
    int nrules;
    struct compiled_rule *rules;
    struct node *nodes;
    int32_t *kids;
    struct constv *consts;
    char *pool; /* string literals and descriptions, each NUL-terminated */
    int nguards, nbguards, nwords;
    struct guard guards[GUARDS_MAX];
    struct bguard bguards[BGUARDS_MAX];
    uint64_t *always; /* nwords: rules without a guard */
    uint8_t *used; /* per field id: read by some rule */
    int nused;
    char version[17];
    char *source;
};

/* Find the rules' guards and fill s->guards (guard.c). 0 or AG_ENOMEM. */
int ag_rules_guards_build(struct ag_rules *s);
void ag_rules_guards_free(struct ag_rules *s);
/* The rules guard <g> lets through when its field's value is <p>; NULL if none. */
const uint64_t *ag_rules_guard_match(const struct ag_rules *s, int g, const char *p, size_t len);
/* Compare a string with a key: by length, then bytes. */
int ag_rules_key_cmp(const char *p, size_t len, const char *kp, size_t klen);

#endif
