/* The rules compiler: lexes and parses a rules file in one pass, checks every
 * field name and type against the caller's schema, and produces the
 * immutable node arrays the evaluator walks. Any error stops the whole
 * compile (a file compiles as a whole or not at all); errors carry the line
 * and column and say what was expected. Recursion is bounded by
 * AG_RULES_MAX_DEPTH, so no input can exhaust the stack. */
#include "rules/internal.h"

#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok {
    T_EOF, T_IDENT, T_NUM, T_STR,
    T_LP, T_RP, T_LB, T_RB, T_COMMA,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_ASSIGN,
};

struct token {
    int kind;
    int line, col;
    const char *p; /* source text of the token */
    uint32_t len;
    double num;          /* T_NUM */
    uint32_t soff, slen; /* T_STR: the unescaped literal in the pool */
};

struct let {
    char name[AG_RULES_ID_MAX + 1];
    int32_t node;
};

struct compiler {
    const struct ag_rules_schema *schema;
    const char *name;
    /* lexer */
    const char *p, *end;
    int line, col;
    struct token tok;   /* current */
    struct token ahead; /* one token of lookahead, when has_ahead */
    bool has_ahead;
    int nest;
    /* output, grown as needed */
    struct node *nodes;
    struct ag_rules_pos *npos; /* where each node starts, for messages */
    int nnodes, cnodes;
    int32_t *kids;
    int nkids, ckids;
    struct constv *consts;
    int nconsts, cconsts;
    struct ag_buf pool;
    struct compiled_rule *rules;
    uint32_t *desc_off;
    int nrules, crules;
    struct let *lets;
    int nlets, clets;
    int32_t *stack; /* terms of and/or chains being parsed */
    int nstack, cstack;
    uint8_t *used; /* per field id */
    int max_id;
    /* error exit */
    jmp_buf jb;
    int rc;
    struct ag_rules_pos *errpos;
    struct ag_err *err;
};

static const char *const keywords[] = {"rule", "let", "when", "then", "and",
                                       "or",   "not", "in",   "true", "false"};

static const char *const method_names[] = {"totp", "sms", "email", "backup"};

/* ---- errors ------------------------------------------------------------ */

static _Noreturn void __attribute__((format(printf, 6, 7)))
fail(struct compiler *c, int line, int col, int code, const char *slug, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errpos) {
        c->errpos->line = line;
        c->errpos->col = col;
    }
    const char *n = c->name && *c->name ? c->name : "rules";
    if (line > 0)
        ag_err_set(c->err, code, slug, "", "%s:%d:%d: %s", n, line, col, msg);
    else
        ag_err_set(c->err, code, slug, "", "%s: %s", n, msg);
    c->rc = code;
    longjmp(c->jb, 1);
}

static _Noreturn void nomem(struct compiler *c)
{
    fail(c, 0, 0, AG_ENOMEM, "out_of_memory", "out of memory while compiling rules");
}

static void *grow(struct compiler *c, void *arr, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return arr;
    int ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(arr, (size_t)ncap * size);
    if (!n)
        nomem(c);
    *cap = ncap;
    return n;
}

/* "'then'", "end of file", "number 20", "string \"login\"" */
static const char *tok_desc(const struct token *t, char *buf, size_t n)
{
    switch (t->kind) {
    case T_EOF:
        return "end of file";
    case T_NUM:
        snprintf(buf, n, "number %.*s", (int)(t->len > 24 ? 24 : t->len), t->p);
        return buf;
    case T_STR:
        snprintf(buf, n, "string %.*s%s", (int)(t->len > 24 ? 24 : t->len), t->p,
                 t->len > 24 ? "..." : "");
        return buf;
    default:
        snprintf(buf, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->p);
        return buf;
    }
}

static _Noreturn void expected(struct compiler *c, const struct token *t, const char *what)
{
    char b[80];
    fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "expected %s, found %s", what,
         tok_desc(t, b, sizeof b));
}

/* ---- lexer ------------------------------------------------------------- */

static void adv(struct compiler *c)
{
    unsigned char ch = (unsigned char)*c->p++;
    if (ch == '\n') {
        c->line++;
        c->col = 1;
    } else if ((ch & 0xC0) != 0x80) {
        c->col++;
    }
}

static bool is_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
static bool is_digit(int ch) { return ch >= '0' && ch <= '9'; }

/* Length of the valid UTF-8 sequence at <s> (at most <n> bytes), 0 if invalid. */
static int utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    int len;
    uint32_t cp;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void pool_put(struct compiler *c, const void *p, size_t n)
{
    if (ag_buf_append(&c->pool, p, n) < 0)
        nomem(c);
}

static void lex_string(struct compiler *c, struct token *t)
{
    adv(c); /* the opening quote */
    uint32_t off = (uint32_t)c->pool.len;
    for (;;) {
        if (c->p >= c->end || *c->p == '\n')
            fail(c, t->line, t->col, AG_EINVAL, "rules_syntax",
                 "unterminated string (a string ends with '\"' on the same line)");
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            adv(c);
            break;
        }
        if (ch == '\\') {
            int line = c->line, col = c->col;
            adv(c);
            char e = c->p < c->end ? *c->p : '\0';
            const char *rep = e == '"' ? "\"" : e == '\\' ? "\\" : e == 'n' ? "\n" : e == 't' ? "\t" : NULL;
            if (!rep)
                fail(c, line, col, AG_EINVAL, "rules_syntax",
                     "unknown escape in string (use \\\", \\\\, \\n or \\t)");
            adv(c);
            pool_put(c, rep, 1);
        } else if (ch < 0x20 && ch != '\t') {
            fail(c, c->line, c->col, AG_EINVAL, "rules_syntax", "control character in string");
        } else {
            int n = utf8_len((const unsigned char *)c->p, (size_t)(c->end - c->p));
            if (!n)
                fail(c, c->line, c->col, AG_EINVAL, "rules_syntax", "invalid UTF-8 in string");
            pool_put(c, c->p, (size_t)n);
            for (int i = 0; i < n; i++)
                adv(c);
        }
        if (c->pool.len - off > AG_RULES_MAX_STRING)
            fail(c, t->line, t->col, AG_EINVAL, "rules_limit",
                 "string longer than %u bytes", AG_RULES_MAX_STRING);
    }
    t->soff = off;
    t->slen = (uint32_t)(c->pool.len - off);
    pool_put(c, "", 1); /* NUL after each literal */
}

static void lex_number(struct compiler *c, struct token *t)
{
    char buf[64];
    size_t n = 0;
    bool seen_dot = false, seen_exp = false;
    while (c->p < c->end) {
        char ch = *c->p;
        if (is_digit(ch)) {
            if (n < sizeof buf - 1)
                buf[n++] = ch;
        } else if (ch == '_' && c->p + 1 < c->end && is_digit(c->p[1]) && n > 0 &&
                   is_digit(c->p[-1])) {
            /* 100_000: a separator between digits */
        } else if (ch == '.' && !seen_dot && !seen_exp && c->p + 1 < c->end && is_digit(c->p[1])) {
            seen_dot = true;
            buf[n++] = ch;
        } else if ((ch == 'e' || ch == 'E') && !seen_exp &&
                   ((c->p + 1 < c->end && is_digit(c->p[1])) ||
                    (c->p + 2 < c->end && (c->p[1] == '+' || c->p[1] == '-') && is_digit(c->p[2])))) {
            seen_exp = true;
            buf[n++] = ch;
            adv(c);
            if (*c->p == '+' || *c->p == '-')
                buf[n++] = *c->p;
            else
                continue;
        } else {
            break;
        }
        adv(c);
        if (n >= sizeof buf - 2)
            fail(c, t->line, t->col, AG_EINVAL, "rules_limit", "number too long");
    }
    if (c->p < c->end && (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '.'))
        fail(c, c->line, c->col, AG_EINVAL, "rules_syntax", "unexpected '%c' after number %.*s",
             *c->p, (int)(c->p - t->p), t->p);
    buf[n] = '\0';
    errno = 0;
    t->num = strtod(buf, NULL);
    if (errno == ERANGE || !isfinite(t->num))
        fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "number %s out of range", buf);
}

static void lex(struct compiler *c, struct token *t)
{
    /* whitespace and # comments */
    for (;;) {
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
            adv(c);
        if (c->p < c->end && *c->p == '#') {
            while (c->p < c->end && *c->p != '\n')
                adv(c);
            continue;
        }
        break;
    }
    memset(t, 0, sizeof *t);
    t->line = c->line;
    t->col = c->col;
    t->p = c->p;
    if (c->p >= c->end) {
        t->kind = T_EOF;
        return;
    }
    unsigned char ch = (unsigned char)*c->p;
    if (is_alpha(ch)) {
        t->kind = T_IDENT;
        for (;;) {
            while (c->p < c->end && (is_alpha(*c->p) || is_digit(*c->p)))
                adv(c);
            if (c->p < c->end && *c->p == '.') {
                adv(c);
                if (c->p >= c->end || !is_alpha(*c->p))
                    fail(c, c->line, c->col, AG_EINVAL, "rules_syntax",
                         "expected a name after '.' in '%.*s'", (int)(c->p - t->p), t->p);
                continue;
            }
            break;
        }
        if (c->p - t->p > 128)
            fail(c, t->line, t->col, AG_EINVAL, "rules_limit", "name longer than 128 characters");
    } else if (is_digit(ch)) {
        t->kind = T_NUM;
        lex_number(c, t);
    } else if (ch == '"') {
        t->kind = T_STR;
        lex_string(c, t);
    } else {
        char n1 = c->p + 1 < c->end ? c->p[1] : '\0';
        int kind = -1, len = 1;
        switch (ch) {
        case '(': kind = T_LP; break;
        case ')': kind = T_RP; break;
        case '[': kind = T_LB; break;
        case ']': kind = T_RB; break;
        case ',': kind = T_COMMA; break;
        case '+': kind = T_PLUS; break;
        case '-': kind = T_MINUS; break;
        case '*': kind = T_STAR; break;
        case '/': kind = T_SLASH; break;
        case '=': kind = n1 == '=' ? T_EQ : T_ASSIGN; len = n1 == '=' ? 2 : 1; break;
        case '<': kind = n1 == '=' ? T_LE : T_LT; len = n1 == '=' ? 2 : 1; break;
        case '>': kind = n1 == '=' ? T_GE : T_GT; len = n1 == '=' ? 2 : 1; break;
        case '!':
            if (n1 == '=') {
                kind = T_NE;
                len = 2;
            } else {
                fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "unexpected '!' (write 'not')");
            }
            break;
        case '&':
            fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "unexpected '&' (write 'and')");
        case '|':
            fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "unexpected '|' (write 'or')");
        case '\'':
            fail(c, t->line, t->col, AG_EINVAL, "rules_syntax",
                 "unexpected \"'\" (strings use double quotes)");
        default:
            if (ch >= 0x21 && ch < 0x7F)
                fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "unexpected character '%c'", ch);
            fail(c, t->line, t->col, AG_EINVAL, "rules_syntax", "unexpected byte 0x%02x", ch);
        }
        t->kind = kind;
        for (int i = 0; i < len; i++)
            adv(c);
    }
    t->len = (uint32_t)(c->p - t->p);
}

static void next(struct compiler *c)
{
    if (c->has_ahead) {
        c->tok = c->ahead;
        c->has_ahead = false;
    } else {
        lex(c, &c->tok);
    }
}

static const struct token *peek(struct compiler *c)
{
    if (!c->has_ahead) {
        lex(c, &c->ahead);
        c->has_ahead = true;
    }
    return &c->ahead;
}

static bool tok_is(const struct token *t, const char *word)
{
    return t->kind == T_IDENT && strlen(word) == t->len && memcmp(t->p, word, t->len) == 0;
}

static bool is_keyword(const struct token *t)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(keywords); i++)
        if (tok_is(t, keywords[i]))
            return true;
    return false;
}

/* ---- nodes ------------------------------------------------------------- */

static int32_t add_node(struct compiler *c, const struct node *n, int line, int col)
{
    int cap = c->cnodes;
    c->nodes = grow(c, c->nodes, &c->cnodes, c->nnodes + 1, sizeof *c->nodes);
    if (cap != c->cnodes || !c->npos) { /* npos has the capacity of nodes */
        struct ag_rules_pos *np = realloc(c->npos, (size_t)c->cnodes * sizeof *np);
        if (!np)
            nomem(c);
        c->npos = np;
    }
    if (n->depth > AG_RULES_MAX_DEPTH)
        fail(c, line, col, AG_EINVAL, "rules_limit", "expression nested too deeply (limit %d)",
             AG_RULES_MAX_DEPTH);
    c->nodes[c->nnodes] = *n;
    c->npos[c->nnodes] = (struct ag_rules_pos){line, col};
    return c->nnodes++;
}

static uint8_t depth_of(struct compiler *c, int32_t a, int32_t b)
{
    int d = 0;
    if (a >= 0 && c->nodes[a].depth > d)
        d = c->nodes[a].depth;
    if (b >= 0 && c->nodes[b].depth > d)
        d = c->nodes[b].depth;
    return (uint8_t)(d + 1 > 255 ? 255 : d + 1);
}

static int32_t node2(struct compiler *c, int op, int type, int32_t a, int32_t b, int line, int col)
{
    struct node n = {.op = (uint8_t)op, .type = (uint8_t)type, .a = a, .b = b};
    n.atype = a >= 0 ? c->nodes[a].type : 0;
    n.depth = depth_of(c, a, b);
    return add_node(c, &n, line, col);
}

static const char *an(int type)
{
    switch (type) {
    case AG_RULES_BOOL: return "true/false";
    case AG_RULES_NUMBER: return "a number";
    case AG_RULES_STRING: return "a string";
    case AG_RULES_STRLIST: return "a string list";
    default: return "nothing";
    }
}

/* "'ip.asn' (a number)" or "a number" */
static const char *describe(struct compiler *c, int32_t n, char *buf, size_t len)
{
    const struct node *nd = &c->nodes[n];
    if (nd->op == OP_FIELD) {
        for (int i = 0; i < c->schema->nfields; i++)
            if (c->schema->fields[i].id == nd->u.field) {
                snprintf(buf, len, "'%s' (%s)", c->schema->fields[i].name, an(nd->type));
                return buf;
            }
    }
    snprintf(buf, len, "%s", an(nd->type));
    return buf;
}

static void need_type(struct compiler *c, int32_t n, int type, const char *what)
{
    if (c->nodes[n].type == type)
        return;
    char b[160];
    fail(c, c->npos[n].line, c->npos[n].col, AG_EINVAL, "rules_type", "%s needs %s, found %s",
         what, an(type), describe(c, n, b, sizeof b));
}

/* ---- expressions ------------------------------------------------------- */

static int32_t parse_or(struct compiler *c);

static void enter(struct compiler *c, const struct token *t)
{
    if (++c->nest > AG_RULES_MAX_DEPTH)
        fail(c, t->line, t->col, AG_EINVAL, "rules_limit", "expression nested too deeply (limit %d)",
             AG_RULES_MAX_DEPTH);
}

static void expect(struct compiler *c, int kind, const char *what)
{
    next(c);
    if (c->tok.kind != kind)
        expected(c, &c->tok, what);
}

static const struct ag_rules_field *schema_find(const struct ag_rules_schema *s, const char *p,
                                                size_t len)
{
    for (int i = 0; i < s->nfields; i++)
        if (strlen(s->fields[i].name) == len && memcmp(s->fields[i].name, p, len) == 0)
            return &s->fields[i];
    return NULL;
}

static int edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    if (la > 127 || lb > 127)
        return 1000;
    int row[128];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static _Noreturn void unknown_field(struct compiler *c, const struct token *t)
{
    const char *best = NULL;
    int bestd = 3;
    for (int i = 0; i < c->schema->nfields; i++) {
        int d = edit_distance(t->p, t->len, c->schema->fields[i].name);
        if (d < bestd) {
            bestd = d;
            best = c->schema->fields[i].name;
        }
    }
    for (int i = 0; i < c->nlets; i++) {
        int d = edit_distance(t->p, t->len, c->lets[i].name);
        if (d < bestd) {
            bestd = d;
            best = c->lets[i].name;
        }
    }
    if (best)
        fail(c, t->line, t->col, AG_EINVAL, "rules_unknown_field",
             "unknown field '%.*s' (did you mean '%s'?)", (int)t->len, t->p, best);
    fail(c, t->line, t->col, AG_EINVAL, "rules_unknown_field", "unknown field '%.*s'", (int)t->len,
         t->p);
}

static int32_t field_node(struct compiler *c, const struct token *t)
{
    const struct ag_rules_field *f = schema_find(c->schema, t->p, t->len);
    if (!f)
        unknown_field(c, t);
    struct node n = {.op = OP_FIELD, .type = (uint8_t)f->type, .depth = 1, .a = -1, .b = -1};
    n.u.field = f->id;
    c->used[f->id] = 1;
    return add_node(c, &n, t->line, t->col);
}

/* Function table: name, op, arity, allowed types of each argument (bit
 * masks of 1 << type), and the result type (0: the type of argument 1). */
#define TB (1u << AG_RULES_BOOL)
#define TN (1u << AG_RULES_NUMBER)
#define TS (1u << AG_RULES_STRING)
#define TL (1u << AG_RULES_STRLIST)
static const struct func {
    const char *name;
    int op;
    int nargs;
    unsigned args[2];
    int result;
    const char *help;
} funcs[] = {
    {"exists", OP_EXISTS, 1, {TB | TN | TS | TL, 0}, AG_RULES_BOOL,
     "exists(field): the event has a value for the field"},
    {"lower", OP_LOWER, 1, {TS, 0}, AG_RULES_STRING, "lower(s): s in lower case (ASCII)"},
    {"starts_with", OP_STARTS, 2, {TS, TS}, AG_RULES_BOOL, "starts_with(s, prefix)"},
    {"ends_with", OP_ENDS, 2, {TS, TS}, AG_RULES_BOOL, "ends_with(s, suffix)"},
    {"contains", OP_CONTAINS, 2, {TS | TL, TS}, AG_RULES_BOOL,
     "contains(s, part) or contains(list, item)"},
    {"len", OP_LEN, 1, {TS | TL, 0}, AG_RULES_NUMBER, "len(s or list): characters or items"},
    {"default", OP_DEFAULT, 2, {TB | TN | TS, TB | TN | TS}, 0,
     "default(x, v): x, or v when x is missing"},
    {"min", OP_MIN, 2, {TN, TN}, AG_RULES_NUMBER, "min(a, b)"},
    {"max", OP_MAX, 2, {TN, TN}, AG_RULES_NUMBER, "max(a, b)"},
    {"abs", OP_ABS, 1, {TN, 0}, AG_RULES_NUMBER, "abs(a)"},
};

static int32_t fold_lower(struct compiler *c, int32_t a)
{
    /* lower("ABC") is the constant "abc" */
    struct node n = c->nodes[a];
    uint32_t off = (uint32_t)c->pool.len;
    for (uint32_t i = 0; i < n.u.str.len; i++) {
        char ch = c->pool.data[n.u.str.off + i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        pool_put(c, &ch, 1);
    }
    pool_put(c, "", 1);
    n.u.str.off = off;
    return add_node(c, &n, c->npos[a].line, c->npos[a].col);
}

static int32_t parse_call(struct compiler *c, struct token name)
{
    const struct func *f = NULL;
    for (size_t i = 0; i < AG_ARRAY_LEN(funcs); i++)
        if (tok_is(&name, funcs[i].name))
            f = &funcs[i];
    if (!f)
        fail(c, name.line, name.col, AG_EINVAL, "rules_unknown_function",
             "unknown function '%.*s' (known: exists, lower, starts_with, ends_with, contains, "
             "len, default, min, max, abs)",
             (int)name.len, name.p);
    next(c); /* ( */
    enter(c, &name);
    int32_t args[2] = {-1, -1};
    for (int i = 0; i < f->nargs; i++) {
        if (i > 0)
            expect(c, T_COMMA, f->nargs == 2 ? "',' between the two arguments" : "','");
        if (f->op == OP_EXISTS) {
            next(c);
            if (c->tok.kind != T_IDENT || is_keyword(&c->tok))
                expected(c, &c->tok, "a field name in exists(...)");
            args[i] = field_node(c, &c->tok);
            continue;
        }
        struct token at = *peek(c);
        args[i] = parse_or(c);
        int t = c->nodes[args[i]].type;
        if (!(f->args[i] & (1u << t))) {
            char b[160];
            fail(c, at.line, at.col, AG_EINVAL, "rules_type", "argument %d of %s() cannot be %s",
                 i + 1, f->name, describe(c, args[i], b, sizeof b));
        }
    }
    next(c);
    if (c->tok.kind != T_RP) {
        if (c->tok.kind == T_COMMA)
            fail(c, c->tok.line, c->tok.col, AG_EINVAL, "rules_syntax",
                 "%s() takes %d argument%s", f->name, f->nargs, f->nargs == 1 ? "" : "s");
        expected(c, &c->tok, "')' to close the call");
    }
    c->nest--;
    if (f->op == OP_DEFAULT && c->nodes[args[0]].type != c->nodes[args[1]].type) {
        char b1[160], b2[160];
        fail(c, name.line, name.col, AG_EINVAL, "rules_type",
             "default() needs two values of one type, found %s and %s",
             describe(c, args[0], b1, sizeof b1), describe(c, args[1], b2, sizeof b2));
    }
    int type = f->result ? f->result : c->nodes[args[0]].type;
    if (f->op == OP_LOWER && c->nodes[args[0]].op == OP_CONST_STR)
        return fold_lower(c, args[0]);
    if (f->op == OP_EXISTS) {
        struct node n = {.op = OP_EXISTS, .type = AG_RULES_BOOL, .depth = 1, .a = -1, .b = -1};
        n.atype = c->nodes[args[0]].type; /* the field's type */
        n.u.field = c->nodes[args[0]].u.field;
        return add_node(c, &n, name.line, name.col);
    }
    if (f->op == OP_CONTAINS && c->nodes[args[0]].type == AG_RULES_STRLIST)
        return node2(c, OP_IN_FIELD, AG_RULES_BOOL, args[1], args[0], name.line, name.col);
    return node2(c, f->op, type, args[0], args[1], name.line, name.col);
}

static int32_t parse_primary(struct compiler *c)
{
    next(c);
    struct token t = c->tok;
    struct node n = {.depth = 1, .a = -1, .b = -1};
    switch (t.kind) {
    case T_NUM:
        n.op = OP_CONST_NUM;
        n.type = AG_RULES_NUMBER;
        n.u.num = t.num;
        return add_node(c, &n, t.line, t.col);
    case T_STR:
        n.op = OP_CONST_STR;
        n.type = AG_RULES_STRING;
        n.u.str.off = t.soff;
        n.u.str.len = t.slen;
        return add_node(c, &n, t.line, t.col);
    case T_LP: {
        int32_t e = parse_or(c);
        next(c);
        if (c->tok.kind != T_RP)
            expected(c, &c->tok, "')'");
        return e;
    }
    case T_IDENT:
        if (tok_is(&t, "true") || tok_is(&t, "false")) {
            n.op = OP_CONST_BOOL;
            n.type = AG_RULES_BOOL;
            n.u.b = tok_is(&t, "true");
            return add_node(c, &n, t.line, t.col);
        }
        if (is_keyword(&t))
            break;
        if (peek(c)->kind == T_LP)
            return parse_call(c, t);
        for (int i = 0; i < c->nlets; i++)
            if (tok_is(&t, c->lets[i].name))
                return c->lets[i].node;
        return field_node(c, &t);
    default:
        break;
    }
    expected(c, &t, "a value (a field, number, string, true, false or '(')");
}

static int32_t parse_unary(struct compiler *c)
{
    const struct token *t = peek(c);
    if (t->kind != T_MINUS)
        return parse_primary(c);
    next(c);
    struct token m = c->tok;
    enter(c, &m);
    int32_t a = parse_unary(c);
    c->nest--;
    need_type(c, a, AG_RULES_NUMBER, "'-'");
    if (c->nodes[a].op == OP_CONST_NUM) {
        struct node n = c->nodes[a];
        n.u.num = -n.u.num;
        return add_node(c, &n, m.line, m.col);
    }
    return node2(c, OP_NEG, AG_RULES_NUMBER, a, -1, m.line, m.col);
}

static int32_t arith(struct compiler *c, int op, int32_t a, int32_t b, const struct token *t)
{
    char what[16];
    snprintf(what, sizeof what, "'%.*s'", (int)t->len, t->p);
    need_type(c, a, AG_RULES_NUMBER, what);
    need_type(c, b, AG_RULES_NUMBER, what);
    const struct node *na = &c->nodes[a], *nb = &c->nodes[b];
    if (na->op == OP_CONST_NUM && nb->op == OP_CONST_NUM && !(op == OP_DIV && nb->u.num == 0)) {
        double x = na->u.num, y = nb->u.num;
        double r = op == OP_ADD ? x + y : op == OP_SUB ? x - y : op == OP_MUL ? x * y : x / y;
        if (isfinite(r)) {
            struct node n = {.op = OP_CONST_NUM, .type = AG_RULES_NUMBER, .depth = 1, .a = -1, .b = -1};
            n.u.num = r;
            return add_node(c, &n, c->npos[a].line, c->npos[a].col);
        }
    }
    return node2(c, op, AG_RULES_NUMBER, a, b, c->npos[a].line, c->npos[a].col);
}

static int32_t parse_prod(struct compiler *c)
{
    int32_t a = parse_unary(c);
    for (;;) {
        const struct token *t = peek(c);
        if (t->kind != T_STAR && t->kind != T_SLASH)
            return a;
        next(c);
        struct token op = c->tok;
        int32_t b = parse_unary(c);
        a = arith(c, op.kind == T_STAR ? OP_MUL : OP_DIV, a, b, &op);
    }
}

static int32_t parse_sum(struct compiler *c)
{
    int32_t a = parse_prod(c);
    for (;;) {
        const struct token *t = peek(c);
        if (t->kind != T_PLUS && t->kind != T_MINUS)
            return a;
        next(c);
        struct token op = c->tok;
        int32_t b = parse_prod(c);
        a = arith(c, op.kind == T_PLUS ? OP_ADD : OP_SUB, a, b, &op);
    }
}

static bool is_cmp(int kind) { return kind >= T_EQ && kind <= T_GE; }

/* [ item, item, ... ] of literals of <type> after 'in'. */
static int32_t parse_list(struct compiler *c, int32_t a, const struct token *in)
{
    int type = c->nodes[a].type;
    if (type != AG_RULES_STRING && type != AG_RULES_NUMBER) {
        char b[160];
        fail(c, in->line, in->col, AG_EINVAL, "rules_type",
             "'in [...]' needs a string or a number on its left, found %s",
             describe(c, a, b, sizeof b));
    }
    next(c); /* [ */
    uint32_t first = (uint32_t)c->nconsts, n = 0;
    for (;;) {
        next(c);
        if (c->tok.kind == T_RB && n > 0)
            break; /* a trailing comma is fine */
        bool neg = false;
        struct token t = c->tok;
        if (t.kind == T_MINUS) {
            neg = true;
            next(c);
        }
        struct constv v = {0};
        if (c->tok.kind == T_STR && !neg && type == AG_RULES_STRING) {
            v.off = c->tok.soff;
            v.len = c->tok.slen;
        } else if (c->tok.kind == T_NUM && type == AG_RULES_NUMBER) {
            v.num = neg ? -c->tok.num : c->tok.num;
        } else if (c->tok.kind == T_STR || c->tok.kind == T_NUM) {
            char b[160];
            fail(c, t.line, t.col, AG_EINVAL, "rules_type",
                 "list item is %s but the value before 'in' is %s",
                 c->tok.kind == T_STR ? "a string" : "a number", describe(c, a, b, sizeof b));
        } else if (c->tok.kind == T_RB) {
            fail(c, c->tok.line, c->tok.col, AG_EINVAL, "rules_syntax", "empty list");
        } else {
            expected(c, &c->tok,
                     type == AG_RULES_STRING ? "a string in the list" : "a number in the list");
        }
        if (n >= AG_RULES_MAX_LIST)
            fail(c, t.line, t.col, AG_EINVAL, "rules_limit", "list longer than %d items",
                 AG_RULES_MAX_LIST);
        c->consts = grow(c, c->consts, &c->cconsts, c->nconsts + 1, sizeof *c->consts);
        c->consts[c->nconsts++] = v;
        n++;
        next(c);
        if (c->tok.kind == T_RB)
            break;
        if (c->tok.kind != T_COMMA)
            expected(c, &c->tok, "',' or ']' in the list");
    }
    struct node nd = {.op = OP_IN_LIST, .type = AG_RULES_BOOL, .atype = (uint8_t)type, .a = a, .b = -1};
    nd.depth = depth_of(c, a, -1);
    nd.u.list.first = first;
    nd.u.list.n = n;
    return add_node(c, &nd, in->line, in->col);
}

static int32_t parse_in(struct compiler *c, int32_t a, const struct token *in)
{
    const struct token *t = peek(c);
    if (t->kind == T_LB)
        return parse_list(c, a, in);
    if (t->kind != T_IDENT || is_keyword(t))
        expected(c, t, "'[' or a string-list field after 'in'");
    int32_t b = parse_primary(c);
    if (c->nodes[b].type != AG_RULES_STRLIST) {
        char bb[160];
        fail(c, c->npos[b].line, c->npos[b].col, AG_EINVAL, "rules_type",
             "'in' needs a [...] list or a string-list field, found %s",
             describe(c, b, bb, sizeof bb));
    }
    need_type(c, a, AG_RULES_STRING, "'in' a string list");
    return node2(c, OP_IN_FIELD, AG_RULES_BOOL, a, b, in->line, in->col);
}

static int32_t parse_cmp(struct compiler *c)
{
    int32_t a = parse_sum(c);
    const struct token *t = peek(c);
    int32_t r;
    struct token op = *t;
    if (is_cmp(t->kind)) {
        next(c);
        int32_t b = parse_sum(c);
        int ta = c->nodes[a].type, tb = c->nodes[b].type;
        char b1[160], b2[160];
        if (ta != tb)
            fail(c, op.line, op.col, AG_EINVAL, "rules_type", "cannot compare %s with %s",
                 describe(c, a, b1, sizeof b1), describe(c, b, b2, sizeof b2));
        if (ta == AG_RULES_STRLIST)
            fail(c, op.line, op.col, AG_EINVAL, "rules_type",
                 "a string list cannot be compared with '%.*s'; use 'in' or contains()",
                 (int)op.len, op.p);
        if (op.kind != T_EQ && op.kind != T_NE && ta != AG_RULES_NUMBER)
            fail(c, op.line, op.col, AG_EINVAL, "rules_type", "'%.*s' needs numbers, found %s",
                 (int)op.len, op.p, describe(c, a, b1, sizeof b1));
        static const int ops[] = {OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE};
        static const int flipped[] = {OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE};
        const struct node *na = &c->nodes[a], *nb = &c->nodes[b];
        if (ta == AG_RULES_NUMBER && ((na->op == OP_FIELD && nb->op == OP_CONST_NUM) ||
                                      (na->op == OP_CONST_NUM && nb->op == OP_FIELD))) {
            /* field <op> constant: one node, no operand walks */
            bool swap = na->op == OP_CONST_NUM;
            struct node n = {.op = OP_FCMP, .type = AG_RULES_BOOL, .atype = AG_RULES_NUMBER,
                             .depth = 2};
            n.a = swap ? nb->u.field : na->u.field;
            n.b = swap ? flipped[op.kind - T_EQ] : ops[op.kind - T_EQ];
            n.u.num = swap ? na->u.num : nb->u.num;
            r = add_node(c, &n, c->npos[a].line, c->npos[a].col);
        } else {
            r = node2(c, ops[op.kind - T_EQ], AG_RULES_BOOL, a, b, op.line, op.col);
        }
    } else if (tok_is(t, "in")) {
        next(c);
        r = parse_in(c, a, &op);
    } else if (tok_is(t, "not")) {
        /* "x not in [...]" */
        next(c);
        struct token in = *peek(c);
        if (!tok_is(&in, "in"))
            expected(c, &in, "'in' after 'not' (a condition goes 'x not in [...]')");
        next(c);
        int32_t e = parse_in(c, a, &in);
        r = node2(c, OP_NOT, AG_RULES_BOOL, e, -1, op.line, op.col);
    } else if (t->kind == T_ASSIGN) {
        fail(c, t->line, t->col, AG_EINVAL, "rules_syntax",
             "expected '==' to compare, found '=' (a single '=' is only for 'let')");
    } else {
        return a;
    }
    t = peek(c);
    if (is_cmp(t->kind) || tok_is(t, "in"))
        fail(c, t->line, t->col, AG_EINVAL, "rules_syntax",
             "comparisons cannot be chained; join them with 'and'");
    return r;
}

static int32_t parse_not(struct compiler *c)
{
    const struct token *t = peek(c);
    if (!tok_is(t, "not"))
        return parse_cmp(c);
    next(c);
    struct token op = c->tok;
    enter(c, &op);
    int32_t a = parse_not(c);
    c->nest--;
    need_type(c, a, AG_RULES_BOOL, "'not'");
    return node2(c, OP_NOT, AG_RULES_BOOL, a, -1, op.line, op.col);
}

static void push_term(struct compiler *c, int32_t e)
{
    c->stack = grow(c, c->stack, &c->cstack, c->nstack + 1, sizeof *c->stack);
    c->stack[c->nstack++] = e;
}

/* a and b and c ... (or the same with 'or'): one node with n children. */
static int32_t parse_chain(struct compiler *c, const char *word, int op,
                           int32_t (*sub)(struct compiler *))
{
    int32_t first = sub(c);
    if (!tok_is(peek(c), word))
        return first;
    char what[8];
    snprintf(what, sizeof what, "'%s'", word);
    need_type(c, first, AG_RULES_BOOL, what);
    /* terms go on a scratch stack: nested chains push above ours */
    int base = c->nstack, n = 0;
    push_term(c, first);
    n++;
    int line = c->npos[first].line, col = c->npos[first].col;
    while (tok_is(peek(c), word)) {
        next(c);
        int32_t e = sub(c);
        need_type(c, e, AG_RULES_BOOL, what);
        if (n >= AG_RULES_MAX_LIST)
            fail(c, c->tok.line, c->tok.col, AG_EINVAL, "rules_limit",
                 "more than %d terms joined by '%s'", AG_RULES_MAX_LIST, word);
        push_term(c, e);
        n++;
    }
    int32_t *items = c->stack + base;
    c->kids = grow(c, c->kids, &c->ckids, c->nkids + n, sizeof *c->kids);
    int start = c->nkids;
    int d = 0;
    for (int i = 0; i < n; i++) {
        c->kids[c->nkids++] = items[i];
        if (c->nodes[items[i]].depth > d)
            d = c->nodes[items[i]].depth;
    }
    c->nstack = base;
    struct node nd = {.op = (uint8_t)op, .type = AG_RULES_BOOL, .a = start, .b = n,
                      .depth = (uint8_t)(d + 1)};
    return add_node(c, &nd, line, col);
}

static int32_t parse_and(struct compiler *c) { return parse_chain(c, "and", OP_AND, parse_not); }

static int32_t parse_or(struct compiler *c)
{
    enter(c, peek(c));
    int32_t r = parse_chain(c, "or", OP_OR, parse_and);
    c->nest--;
    return r;
}

/* ---- rules ------------------------------------------------------------- */

static void parse_let(struct compiler *c)
{
    next(c);
    struct token name = c->tok;
    if (name.kind != T_IDENT || is_keyword(&name))
        expected(c, &name, "a name after 'let'");
    if (memchr(name.p, '.', name.len))
        fail(c, name.line, name.col, AG_EINVAL, "rules_syntax",
             "a 'let' name cannot contain '.' (those are field names)");
    if (name.len > AG_RULES_ID_MAX)
        fail(c, name.line, name.col, AG_EINVAL, "rules_limit", "name longer than %d characters",
             AG_RULES_ID_MAX);
    if (schema_find(c->schema, name.p, name.len))
        fail(c, name.line, name.col, AG_EINVAL, "rules_duplicate",
             "'%.*s' is already a field", (int)name.len, name.p);
    for (size_t i = 0; i < AG_ARRAY_LEN(funcs); i++)
        if (tok_is(&name, funcs[i].name))
            fail(c, name.line, name.col, AG_EINVAL, "rules_duplicate",
                 "'%.*s' is a function name", (int)name.len, name.p);
    for (int i = 0; i < c->nlets; i++)
        if (tok_is(&name, c->lets[i].name))
            fail(c, name.line, name.col, AG_EINVAL, "rules_duplicate",
                 "'%.*s' is already defined", (int)name.len, name.p);
    expect(c, T_ASSIGN, "'=' after the name");
    int32_t e = parse_or(c);
    c->lets = grow(c, c->lets, &c->clets, c->nlets + 1, sizeof *c->lets);
    struct let *l = &c->lets[c->nlets++];
    memcpy(l->name, name.p, name.len);
    l->name[name.len] = '\0';
    l->node = e;
}

static bool at_rule_end(const struct token *t)
{
    return t->kind == T_EOF || tok_is(t, "rule") || tok_is(t, "let");
}

static void parse_rule(struct compiler *c)
{
    int line = c->tok.line;
    next(c);
    struct token id = c->tok;
    if (id.kind != T_IDENT || is_keyword(&id))
        expected(c, &id, "a rule id after 'rule'");
    if (id.len > AG_RULES_ID_MAX)
        fail(c, id.line, id.col, AG_EINVAL, "rules_limit", "rule id longer than %d characters",
             AG_RULES_ID_MAX);
    for (int i = 0; i < c->nrules; i++)
        if (tok_is(&id, c->rules[i].pub.id))
            fail(c, id.line, id.col, AG_EINVAL, "rules_duplicate",
                 "rule '%.*s' is already defined on line %d", (int)id.len, id.p,
                 c->rules[i].pub.line);
    if (c->nrules >= AG_RULES_MAX_RULES)
        fail(c, id.line, id.col, AG_EINVAL, "rules_limit", "more than %d rules",
             AG_RULES_MAX_RULES);
    expect(c, T_STR, "a description in double quotes after the rule id");
    uint32_t desc = c->tok.soff;

    next(c);
    if (!tok_is(&c->tok, "when"))
        expected(c, &c->tok, "'when' after the description");
    struct token at = *peek(c);
    int32_t cond = parse_or(c);
    if (c->nodes[cond].type != AG_RULES_BOOL) {
        char b[160];
        fail(c, at.line, at.col, AG_EINVAL, "rules_type",
             "a condition must be true or false, found %s", describe(c, cond, b, sizeof b));
    }
    next(c);
    if (!tok_is(&c->tok, "then"))
        expected(c, &c->tok, "'then' or an operator after the condition");

    next(c);
    int action = -1;
    if (c->tok.kind == T_IDENT && c->tok.len < 16) {
        char w[16];
        memcpy(w, c->tok.p, c->tok.len);
        w[c->tok.len] = '\0';
        action = ag_action_parse(w);
    }
    if (action < 0)
        expected(c, &c->tok, "an action (allow, review, challenge or deny) after 'then'");

    struct compiled_rule r = {0};
    memcpy(r.pub.id, id.p, id.len);
    r.pub.action = (enum ag_action)action;
    r.pub.index = c->nrules;
    r.pub.line = line;
    r.cond = cond;
    bool seen_methods = false;
    for (;;) {
        const struct token *t = peek(c);
        if (at_rule_end(t))
            break;
        next(c);
        struct token kw = c->tok;
        if (tok_is(&kw, "score")) {
            if (r.pub.has_score)
                fail(c, kw.line, kw.col, AG_EINVAL, "rules_duplicate", "'score' given twice");
            expect(c, T_NUM, "a number between 0 and 1 after 'score'");
            if (c->tok.num < 0 || c->tok.num > 1)
                fail(c, c->tok.line, c->tok.col, AG_EINVAL, "rules_syntax",
                     "score must be between 0 and 1");
            r.pub.has_score = true;
            r.pub.score = c->tok.num;
        } else if (tok_is(&kw, "methods")) {
            if (seen_methods)
                fail(c, kw.line, kw.col, AG_EINVAL, "rules_duplicate", "'methods' given twice");
            if (action != AG_ACTION_CHALLENGE)
                fail(c, kw.line, kw.col, AG_EINVAL, "rules_syntax",
                     "'methods' is only for 'challenge' rules");
            seen_methods = true;
            expect(c, T_LB, "'[' after 'methods'");
            for (;;) {
                next(c);
                if (c->tok.kind == T_RB && r.pub.methods)
                    break; /* a trailing comma is fine */
                int m = -1;
                for (size_t i = 0; i < AG_ARRAY_LEN(method_names); i++)
                    if (tok_is(&c->tok, method_names[i]))
                        m = (int)i;
                if (m < 0)
                    expected(c, &c->tok, "a challenge method (totp, sms, email or backup)");
                r.pub.methods |= 1u << m;
                next(c);
                if (c->tok.kind == T_RB)
                    break;
                if (c->tok.kind != T_COMMA)
                    expected(c, &c->tok, "',' or ']' in the methods");
            }
        } else {
            expected(c, &kw, "'score', 'methods' or the next 'rule'");
        }
    }
    c->rules = grow(c, c->rules, &c->crules, c->nrules + 1, sizeof *c->rules);
    uint32_t *d = realloc(c->desc_off, (size_t)c->crules * sizeof *d);
    if (!d)
        nomem(c);
    c->desc_off = d;
    c->desc_off[c->nrules] = desc;
    c->rules[c->nrules++] = r;
}

static int run(struct compiler *c)
{
    if (setjmp(c->jb))
        return c->rc;
    for (;;) {
        next(c);
        if (c->tok.kind == T_EOF)
            return 0;
        if (tok_is(&c->tok, "rule"))
            parse_rule(c);
        else if (tok_is(&c->tok, "let"))
            parse_let(c);
        else
            expected(c, &c->tok, "'rule' or 'let'");
    }
}

static int check_schema(const struct ag_rules_schema *s, int *max_id, struct ag_err *err)
{
    *max_id = -1;
    if (!s || (s->nfields > 0 && !s->fields) || s->nfields < 0)
        return ag_err_set(err, AG_EINVAL, "rules_schema", "", "no schema");
    for (int i = 0; i < s->nfields; i++) {
        const struct ag_rules_field *f = &s->fields[i];
        if (!f->name || !*f->name || f->id < 0 || f->id > AG_RULES_MAX_FIELD_ID ||
            f->type < AG_RULES_BOOL || f->type > AG_RULES_STRLIST)
            return ag_err_set(err, AG_EINVAL, "rules_schema", "", "schema field %d is invalid", i);
        for (const char *p = f->name; *p; p++)
            if (!is_alpha(*p) && !is_digit(*p) && *p != '.')
                return ag_err_set(err, AG_EINVAL, "rules_schema", "",
                                  "schema field name '%s' has a bad character", f->name);
        for (int j = 0; j < i; j++) {
            if (strcmp(s->fields[j].name, f->name) == 0)
                return ag_err_set(err, AG_EINVAL, "rules_schema", "",
                                  "schema field '%s' declared twice", f->name);
            if (s->fields[j].id == f->id)
                return ag_err_set(err, AG_EINVAL, "rules_schema", "",
                                  "schema fields '%s' and '%s' share id %d", s->fields[j].name,
                                  f->name, f->id);
        }
        if (f->id > *max_id)
            *max_id = f->id;
    }
    return 0;
}

static void compiler_free(struct compiler *c)
{
    free(c->nodes);
    free(c->npos);
    free(c->kids);
    free(c->consts);
    ag_buf_free(&c->pool);
    free(c->rules);
    free(c->desc_off);
    free(c->lets);
    free(c->stack);
    free(c->used);
}

int ag_rules_compile(const struct ag_rules_schema *schema, const char *name, const char *text,
                     size_t len, struct ag_rules **out, struct ag_rules_pos *pos,
                     struct ag_err *err)
{
    *out = NULL;
    if (pos)
        *pos = (struct ag_rules_pos){0, 0};
    int max_id;
    int rc = check_schema(schema, &max_id, err);
    if (rc < 0)
        return rc;
    if (len > AG_RULES_MAX_TEXT)
        return ag_err_set(err, AG_ELIMIT, "rules_limit", "", "%s: rules text is larger than %u bytes",
                          name && *name ? name : "rules", AG_RULES_MAX_TEXT);
    struct compiler c = {.schema = schema, .name = name, .p = text, .end = text + len,
                         .line = 1, .col = 1, .errpos = pos, .err = err, .max_id = max_id};
    c.used = calloc((size_t)max_id + 2, 1);
    if (!c.used)
        return ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory while compiling rules");
    if (ag_buf_append(&c.pool, "", 1) < 0) { /* offset 0: the empty string */
        compiler_free(&c);
        return ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory while compiling rules");
    }
    rc = run(&c);
    if (rc < 0) {
        compiler_free(&c);
        return rc;
    }
    struct ag_rules *s = ag_calloc(1, sizeof *s);
    char *src = ag_strdup(name ? name : "");
    if (!s || !src) {
        free(s);
        free(src);
        compiler_free(&c);
        return ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory while compiling rules");
    }
    atomic_init(&s->refs, 1);
    s->nrules = c.nrules;
    s->rules = c.rules;
    s->nodes = c.nodes;
    s->kids = c.kids;
    s->consts = c.consts;
    s->pool = c.pool.data;
    s->used = c.used;
    s->nused = max_id + 1;
    s->source = src;
    for (int i = 0; i < s->nrules; i++)
        s->rules[i].pub.description = s->pool + c.desc_off[i];
    snprintf(s->version, sizeof s->version, "%016llx",
             (unsigned long long)ag_hash_bytes(text, len));
    c.rules = NULL;
    c.nodes = NULL;
    c.kids = NULL;
    c.consts = NULL;
    c.pool.data = NULL;
    c.used = NULL;
    compiler_free(&c);
    if (ag_rules_guards_build(s) < 0) {
        ag_rules_release(s);
        return ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory while compiling rules");
    }
    *out = s;
    return 0;
}

int ag_rules_compile_file(const struct ag_rules_schema *schema, const char *path,
                          struct ag_rules **out, struct ag_rules_pos *pos, struct ag_err *err)
{
    *out = NULL;
    if (pos)
        *pos = (struct ag_rules_pos){0, 0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return ag_err_set(err, AG_EIO, "rules_io", "", "%s: cannot open: %s", path, strerror(errno));
    struct ag_buf b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > AG_RULES_MAX_TEXT) {
            rc = ag_err_set(err, AG_ELIMIT, "rules_limit", "", "%s: rules file is larger than %u bytes",
                            path, AG_RULES_MAX_TEXT);
            break;
        }
        if (ag_buf_append(&b, chunk, n) < 0) {
            rc = ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "%s: out of memory", path);
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = ag_err_set(err, AG_EIO, "rules_io", "", "%s: read error", path);
    fclose(f);
    if (rc == 0) {
        const char *base = strrchr(path, '/');
        rc = ag_rules_compile(schema, base ? base + 1 : path, b.data ? b.data : "", b.len, out, pos,
                              err);
    }
    ag_buf_free(&b);
    return rc;
}

const char *ag_rules_method_name(uint32_t bit)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(method_names); i++)
        if (bit == 1u << i)
            return method_names[i];
    return NULL;
}
