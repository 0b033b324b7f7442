/* STIX 2.1 export and import, with a tokenizer and recursive-descent parser
 * for the STIX patterning language (see stix.h for what maps). */
#include "intel/stix.h"

#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/ip.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- TLP marking definitions ---------------------------------------------- */

static const struct {
    const char *id, *name;
} tlp2[AG_INTEL_TLP_COUNT] = {
    [AG_INTEL_TLP_CLEAR] = {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                            "TLP:CLEAR"},
    [AG_INTEL_TLP_GREEN] = {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                            "TLP:GREEN"},
    [AG_INTEL_TLP_AMBER] = {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                            "TLP:AMBER"},
    [AG_INTEL_TLP_AMBER_STRICT] = {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                                   "TLP:AMBER+STRICT"},
    [AG_INTEL_TLP_RED] = {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED"},
};

/* TLP 1.0 markings, as STIX 2.1 section 7.2.1.4 defines them. */
static const struct {
    const char *id;
    enum ag_intel_tlp tlp;
} tlp1[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", AG_INTEL_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", AG_INTEL_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", AG_INTEL_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", AG_INTEL_TLP_RED},
};

const char *ag_intel_stix_tlp_id(enum ag_intel_tlp tlp)
{
    return (unsigned)tlp < AG_INTEL_TLP_COUNT ? tlp2[tlp].id : NULL;
}

int ag_intel_stix_tlp_from_id(const char *id, enum ag_intel_tlp *out)
{
    for (int i = 0; i < AG_INTEL_TLP_COUNT; i++)
        if (strcmp(id, tlp2[i].id) == 0) {
            *out = (enum ag_intel_tlp)i;
            return 0;
        }
    for (size_t i = 0; i < AG_ARRAY_LEN(tlp1); i++)
        if (strcmp(id, tlp1[i].id) == 0) {
            *out = tlp1[i].tlp;
            return 0;
        }
    return AG_ENOTFOUND;
}

/* ---- object paths ---------------------------------------------------------- */

#define GUESS_IP AG_INTEL_TYPE_COUNT

static const struct {
    const char *path;
    unsigned type; /* enum ag_intel_type, or GUESS_IP */
    int subset_ok; /* ISSUBSET means "inside this CIDR" */
} paths[] = {
    {"ipv4-addr:value", AG_INTEL_IPV4, 1},
    {"ipv6-addr:value", AG_INTEL_IPV6, 1},
    {"domain-name:value", AG_INTEL_DOMAIN, 0},
    {"url:value", AG_INTEL_URL, 0},
    {"email-addr:value", AG_INTEL_EMAIL, 0},
    {"email-message:from_ref.value", AG_INTEL_EMAIL, 0},
    {"email-message:sender_ref.value", AG_INTEL_EMAIL, 0},
    {"network-traffic:src_ref.value", GUESS_IP, 1},
    {"network-traffic:dst_ref.value", GUESS_IP, 1},
    {"x-accountguard-phone-number:value", AG_INTEL_PHONE, 0},
    {"x-accountguard-device:value", AG_INTEL_DEVICE, 0},
    {"x-accountguard-account-fingerprint:value", AG_INTEL_FINANCIAL, 0},
};

/* The export path of each type (the first row of the table for it). */
static const char *export_path(enum ag_intel_type t)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(paths); i++)
        if (paths[i].type == (unsigned)t)
            return paths[i].path;
    return NULL;
}

int ag_intel_stix_pattern(const struct ag_intel_indicator *ind, char *buf, size_t len)
{
    const char *path = export_path(ind->type);
    if (!path || !ind->value)
        return AG_EINVAL;
    size_t o = 0;
    int w = snprintf(buf, len, "[%s = '", path);
    if (w < 0 || (size_t)w >= len)
        return AG_ELIMIT;
    o = (size_t)w;
    for (const char *p = ind->value; *p; p++) {
        if (o + 3 >= len)
            return AG_ELIMIT;
        if (*p == '\'' || *p == '\\')
            buf[o++] = '\\';
        buf[o++] = *p;
    }
    if (o + 3 > len)
        return AG_ELIMIT;
    memcpy(buf + o, "']", 3);
    return 0;
}

/* ---- timestamps -------------------------------------------------------------- */

int ag_intel_stix_time_parse(const char *s, int64_t *ms)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 20 || s[10] != 'T' || s[n - 1] != 'Z')
        return AG_EINVAL;
    if (n > 20 && s[19] != '.')
        return AG_EINVAL;
    return ag_time_parse(s, ms) == 0 ? 0 : AG_EINVAL;
}

void ag_intel_stix_time_format(int64_t ms, char *buf, size_t len) { ag_time_format_ms(ms, buf, len); }

/* ---- the pattern parser -------------------------------------------------------- */

enum tok {
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_STRING, /* '...' decoded into text */
    T_TYPED,  /* t'...', h'...', b'...' */
    T_NUMBER,
    T_PATH,   /* object path, in text */
    T_OP,     /* = != < <= > >= in text */
    T_WORD,   /* keywords, true/false, in text */
};

struct parser {
    const char *s;
    size_t pos, tstart;
    enum tok tok;
    struct ag_buf text;
    struct ag_intel_stix_term *terms;
    size_t n, cap;
    struct ag_err *err;
    int failed;
    int depth;
};

static int perr(struct parser *p, size_t at, const char *what)
{
    if (!p->failed)
        ag_err_set(p->err, AG_EINVAL, "invalid_pattern", "pattern",
                   "pattern syntax error at offset %zu: %s", at, what);
    p->failed = 1;
    return -1;
}

static int set_text(struct parser *p, const char *s, size_t n)
{
    p->text.len = 0;
    if (ag_buf_append(&p->text, s, n) || ag_buf_append(&p->text, "", 1))
        return perr(p, p->pos, "out of memory");
    return 0;
}

static int lex_string(struct parser *p)
{
    /* p->pos is at the opening quote */
    p->text.len = 0;
    size_t i = p->pos + 1;
    for (;;) {
        char c = p->s[i];
        if (c == '\0')
            return perr(p, p->pos, "unterminated string");
        if (c == '\\') {
            char e = p->s[i + 1];
            if (e != '\'' && e != '\\')
                return perr(p, i, "invalid escape in string (only \\' and \\\\ are allowed)");
            if (ag_buf_append(&p->text, &e, 1))
                return perr(p, i, "out of memory");
            i += 2;
            continue;
        }
        if (c == '\'')
            break;
        if (ag_buf_append(&p->text, &c, 1))
            return perr(p, i, "out of memory");
        i++;
    }
    if (ag_buf_append(&p->text, "", 1))
        return perr(p, i, "out of memory");
    p->pos = i + 1;
    return 0;
}

static int next(struct parser *p)
{
    if (p->failed)
        return -1;
    while (isspace((unsigned char)p->s[p->pos]))
        p->pos++;
    p->tstart = p->pos;
    char c = p->s[p->pos];
    const char *single = "[]()," ;
    static const enum tok single_tok[] = {T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_COMMA};
    if (c == '\0') {
        p->tok = T_EOF;
        return 0;
    }
    const char *sp = strchr(single, c);
    if (sp) {
        p->tok = single_tok[sp - single];
        p->pos++;
        return 0;
    }
    if (c == '\'') {
        p->tok = T_STRING;
        return lex_string(p);
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
        size_t l = 1;
        if (p->s[p->pos + 1] == '=')
            l = 2;
        if (c == '!' && l != 2)
            return perr(p, p->pos, "expected '!='");
        if (c == '=' && l == 2)
            return perr(p, p->pos, "'==' is not an operator; use '='");
        p->tok = T_OP;
        int rc = set_text(p, p->s + p->pos, l);
        p->pos += l;
        return rc;
    }
    if (isdigit((unsigned char)c) || (c == '-' && isdigit((unsigned char)p->s[p->pos + 1]))) {
        size_t i = p->pos + 1;
        while (isdigit((unsigned char)p->s[i]) || p->s[i] == '.')
            i++;
        p->tok = T_NUMBER;
        int rc = set_text(p, p->s + p->pos, i - p->pos);
        p->pos = i;
        return rc;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        size_t i = p->pos;
        while (isalnum((unsigned char)p->s[i]) || p->s[i] == '_' || p->s[i] == '-')
            i++;
        size_t wl = i - p->pos;
        if (wl == 1 && strchr("thb", c) && p->s[i] == '\'') {
            p->pos = i;
            p->tok = T_TYPED;
            return lex_string(p);
        }
        if (p->s[i] == ':') {
            /* object path: type ':' property ( '.' prop | '[' idx ']' | '.' 'quoted' )* */
            i++;
            for (;;) {
                char d = p->s[i];
                if (isalnum((unsigned char)d) || d == '_' || d == '-' || d == '.') {
                    i++;
                } else if (d == '[') {
                    const char *rb = strchr(p->s + i, ']');
                    if (!rb)
                        return perr(p, i, "unterminated '[' in object path");
                    i = (size_t)(rb - p->s) + 1;
                } else if (d == '\'' && i > 0 && p->s[i - 1] == '.') {
                    const char *q = strchr(p->s + i + 1, '\'');
                    if (!q)
                        return perr(p, i, "unterminated quoted path component");
                    i = (size_t)(q - p->s) + 1;
                } else {
                    break;
                }
            }
            if (p->s[i - 1] == ':')
                return perr(p, p->pos, "object path without a property");
            p->tok = T_PATH;
            int rc = set_text(p, p->s + p->pos, i - p->pos);
            p->pos = i;
            return rc;
        }
        p->tok = T_WORD;
        int rc = set_text(p, p->s + p->pos, wl);
        p->pos = i;
        return rc;
    }
    return perr(p, p->pos, "unexpected character");
}

static bool is_word(const struct parser *p, const char *w)
{
    return p->tok == T_WORD && strcmp(p->text.data, w) == 0;
}

static int push_term(struct parser *p, int supported, enum ag_intel_type type, const char *value,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int push_term(struct parser *p, int supported, enum ag_intel_type type, const char *value,
                     const char *fmt, ...)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct ag_intel_stix_term *t = realloc(p->terms, cap * sizeof *t);
        if (!t)
            return perr(p, p->pos, "out of memory");
        p->terms = t;
        p->cap = cap;
    }
    struct ag_intel_stix_term *t = &p->terms[p->n];
    memset(t, 0, sizeof *t);
    t->supported = supported;
    t->type = type;
    if (value && !(t->value = ag_strdup(value)))
        return perr(p, p->pos, "out of memory");
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->reason, sizeof t->reason, fmt, ap);
        va_end(ap);
    }
    p->n++;
    return 0;
}

/* Replace the terms from <first> on by one unsupported term: used where
 * the parts cannot stand alone (AND, FOLLOWEDBY, qualifiers). */
static int collapse(struct parser *p, size_t first, const char *reason)
{
    for (size_t i = first; i < p->n; i++)
        free(p->terms[i].value);
    p->n = first;
    return push_term(p, 0, AG_INTEL_DOMAIN, NULL, "%s", reason);
}

static int map_comparison(struct parser *p, const char *path, const char *op, const char *value)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(paths); i++) {
        if (strcmp(paths[i].path, path) != 0)
            continue;
        bool subset = strcmp(op, "ISSUBSET") == 0;
        if (strcmp(op, "=") != 0 && !(subset && paths[i].subset_ok))
            return push_term(p, 0, AG_INTEL_DOMAIN, NULL,
                             "operator %s on %s is not supported (only = and IN%s)", op, path,
                             paths[i].subset_ok ? ", ISSUBSET" : "");
        char buf[AG_INTEL_VALUE_MAX + 1];
        struct ag_err e = {0};
        enum ag_intel_type t = (enum ag_intel_type)paths[i].type;
        int rc;
        if (paths[i].type == GUESS_IP) {
            struct ag_intel_prefix pr;
            t = ag_intel_prefix_parse(value, &pr) == 0 && !pr.is_v4 ? AG_INTEL_IPV6
                                                                     : AG_INTEL_IPV4;
        }
        rc = ag_intel_value_normalize(t, value, buf, sizeof buf, "value", &e);
        if (rc == AG_EINVAL && (t == AG_INTEL_IPV4 || t == AG_INTEL_IPV6)) {
            /* an IPv4-mapped IPv6 address under ipv6-addr is still fine */
            enum ag_intel_type g;
            if (ag_intel_value_guess(value, &g, buf, sizeof buf, "value", NULL) == 0 &&
                (g == AG_INTEL_IPV4 || g == AG_INTEL_IPV6)) {
                t = g;
                rc = 0;
            }
        }
        if (rc)
            return push_term(p, 0, t, NULL, "invalid %s value '%.60s': %s", ag_intel_type_name(t),
                             value, e.msg);
        return push_term(p, 1, t, buf, NULL);
    }
    return push_term(p, 0, AG_INTEL_DOMAIN, NULL, "object path %.80s is not supported", path);
}

static int expect(struct parser *p, enum tok t, const char *what)
{
    if (p->tok != t)
        return perr(p, p->tstart, what);
    return next(p);
}

static int literal(struct parser *p, char **out, bool *is_string)
{
    if (p->tok != T_STRING && p->tok != T_TYPED && p->tok != T_NUMBER && !is_word(p, "true") &&
        !is_word(p, "false"))
        return perr(p, p->tstart, "expected a literal value");
    *is_string = p->tok == T_STRING;
    *out = ag_strdup(p->text.data);
    if (!*out)
        return perr(p, p->tstart, "out of memory");
    if (next(p)) {
        /* The caller owns *out only on success. */
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int cmp_or(struct parser *p);

static int cmp_atom(struct parser *p)
{
    if (p->tok == T_LPAREN) {
        if (++p->depth > 64)
            return perr(p, p->tstart, "nesting too deep");
        if (next(p) || cmp_or(p) || expect(p, T_RPAREN, "expected ')'"))
            return -1;
        p->depth--;
        return 0;
    }
    if (is_word(p, "EXISTS")) {
        if (next(p))
            return -1;
        if (p->tok != T_PATH)
            return perr(p, p->tstart, "expected an object path after EXISTS");
        if (next(p))
            return -1;
        return push_term(p, 0, AG_INTEL_DOMAIN, NULL, "EXISTS is not supported");
    }
    if (p->tok != T_PATH)
        return perr(p, p->tstart, "expected an object path (type:property)");
    char *path = ag_strdup(p->text.data);
    if (!path)
        return perr(p, p->tstart, "out of memory");
    int rc = -1;
    bool neg = false;
    char op[16] = "";
    if (next(p))
        goto out;
    if (is_word(p, "NOT")) {
        neg = true;
        if (next(p))
            goto out;
    }
    static const char *const word_ops[] = {"IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"};
    if (p->tok == T_OP) {
        snprintf(op, sizeof op, "%s", p->text.data);
    } else {
        for (size_t i = 0; i < AG_ARRAY_LEN(word_ops); i++)
            if (is_word(p, word_ops[i]))
                snprintf(op, sizeof op, "%s", word_ops[i]);
    }
    if (!op[0]) {
        perr(p, p->tstart, "expected a comparison operator");
        goto out;
    }
    if (next(p))
        goto out;
    if (strcmp(op, "IN") == 0) {
        if (expect(p, T_LPAREN, "expected '(' after IN"))
            goto out;
        size_t first = p->n;
        bool all_strings = true;
        for (;;) {
            char *v;
            bool is_str;
            if (literal(p, &v, &is_str))
                goto out;
            all_strings &= is_str;
            int mrc = neg || !is_str ? 0 : map_comparison(p, path, "=", v);
            free(v);
            if (mrc)
                goto out;
            if (p->tok == T_COMMA) {
                if (next(p))
                    goto out;
                continue;
            }
            break;
        }
        if (expect(p, T_RPAREN, "expected ')' to close the IN list"))
            goto out;
        if (neg || !all_strings)
            rc = collapse(p, first, neg ? "NOT IN is not supported" : "IN with non-string values is not supported");
        else
            rc = 0;
        goto out;
    }
    char *v;
    bool is_str;
    if (literal(p, &v, &is_str))
        goto out;
    if (neg)
        rc = push_term(p, 0, AG_INTEL_DOMAIN, NULL, "NOT %s on %s is not supported", op, path);
    else if (!is_str)
        rc = push_term(p, 0, AG_INTEL_DOMAIN, NULL, "%s compared with a non-string on %s", op,
                       path);
    else
        rc = map_comparison(p, path, op, v);
    free(v);
out:
    free(path);
    return rc;
}

static int cmp_and(struct parser *p)
{
    size_t first = p->n;
    if (cmp_atom(p))
        return -1;
    if (!is_word(p, "AND"))
        return 0;
    while (is_word(p, "AND"))
        if (next(p) || cmp_atom(p))
            return -1;
    return collapse(p, first, "comparisons joined with AND cannot be matched one value at a time");
}

static int cmp_or(struct parser *p)
{
    if (cmp_and(p))
        return -1;
    while (is_word(p, "OR"))
        if (next(p) || cmp_and(p))
            return -1;
    return 0;
}

static int obs_or(struct parser *p);

static int obs_atom(struct parser *p)
{
    size_t first = p->n;
    if (p->tok == T_LBRACK) {
        if (next(p) || cmp_or(p) || expect(p, T_RBRACK, "expected ']'"))
            return -1;
    } else if (p->tok == T_LPAREN) {
        if (++p->depth > 64)
            return perr(p, p->tstart, "nesting too deep");
        if (next(p) || obs_or(p) || expect(p, T_RPAREN, "expected ')'"))
            return -1;
        p->depth--;
    } else {
        return perr(p, p->tstart, "expected '[' or '('");
    }
    bool qualified = false;
    for (;;) {
        if (is_word(p, "WITHIN")) {
            if (next(p) || expect(p, T_NUMBER, "expected a number after WITHIN"))
                return -1;
            if (!is_word(p, "SECONDS"))
                return perr(p, p->tstart, "expected SECONDS");
        } else if (is_word(p, "START")) {
            if (next(p) || expect(p, T_TYPED, "expected t'...' after START"))
                return -1;
            if (!is_word(p, "STOP"))
                return perr(p, p->tstart, "expected STOP");
            if (next(p))
                return -1;
            if (p->tok != T_TYPED)
                return perr(p, p->tstart, "expected t'...' after STOP");
        } else if (is_word(p, "REPEATS")) {
            if (next(p) || expect(p, T_NUMBER, "expected a number after REPEATS"))
                return -1;
            if (!is_word(p, "TIMES"))
                return perr(p, p->tstart, "expected TIMES");
        } else {
            break;
        }
        if (next(p))
            return -1;
        qualified = true;
    }
    if (qualified)
        return collapse(p, first, "qualifiers (WITHIN, START/STOP, REPEATS) are not supported");
    return 0;
}

static int obs_seq(struct parser *p)
{
    size_t first = p->n;
    if (obs_atom(p))
        return -1;
    if (!is_word(p, "FOLLOWEDBY"))
        return 0;
    while (is_word(p, "FOLLOWEDBY"))
        if (next(p) || obs_atom(p))
            return -1;
    return collapse(p, first, "FOLLOWEDBY sequences are not supported");
}

static int obs_and(struct parser *p)
{
    size_t first = p->n;
    if (obs_seq(p))
        return -1;
    if (!is_word(p, "AND"))
        return 0;
    while (is_word(p, "AND"))
        if (next(p) || obs_seq(p))
            return -1;
    return collapse(p, first, "observation expressions joined with AND are not supported");
}

static int obs_or(struct parser *p)
{
    if (obs_and(p))
        return -1;
    while (is_word(p, "OR"))
        if (next(p) || obs_and(p))
            return -1;
    return 0;
}

void ag_intel_stix_terms_free(struct ag_intel_stix_term *terms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(terms[i].value);
    free(terms);
}

int ag_intel_stix_pattern_map(const char *pattern, struct ag_intel_stix_term **terms, size_t *n,
                              struct ag_err *err)
{
    struct parser p = {.s = pattern ? pattern : "", .err = err};
    *terms = NULL;
    *n = 0;
    if (next(&p) == 0 && obs_or(&p) == 0 && p.tok != T_EOF)
        perr(&p, p.tstart, "unexpected text after the pattern");
    ag_buf_free(&p.text);
    if (p.failed) {
        ag_intel_stix_terms_free(p.terms, p.n);
        return AG_EINVAL;
    }
    *terms = p.terms;
    *n = p.n;
    return 0;
}

/* ---- export ------------------------------------------------------------------ */

static int set_time(json_t *o, const char *key, int64_t ms)
{
    char b[40];
    ag_intel_stix_time_format(ms, b, sizeof b);
    return json_object_set_new(o, key, json_string(b));
}

json_t *ag_intel_stix_identity(const struct ag_intel_stix_producer *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "type", json_string("identity"));
    bad |= json_object_set_new(o, "spec_version", json_string("2.1"));
    bad |= json_object_set_new(o, "id", json_string(p->identity_id));
    bad |= set_time(o, "created", p->created_ms);
    bad |= set_time(o, "modified", p->created_ms);
    bad |= json_object_set_new(o, "name", json_string(p->name ? p->name : "accountguard"));
    bad |= json_object_set_new(o, "identity_class",
                               json_string(p->identity_class ? p->identity_class
                                                             : "organization"));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ag_intel_stix_tlp_marking(enum ag_intel_tlp tlp)
{
    if ((unsigned)tlp >= AG_INTEL_TLP_COUNT)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type",
                          "marking-definition", "spec_version", "2.1", "id", tlp2[tlp].id,
                          "created", "2022-10-01T00:00:00.000Z", "name", tlp2[tlp].name,
                          "extensions", AG_INTEL_STIX_TLP2_EXTENSION, "extension_type",
                          "property-extension", "tlp_2_0", ag_intel_tlp_name(tlp));
    return o;
}

json_t *ag_intel_stix_indicator(const struct ag_intel_indicator *ind, const char *identity_id)
{
    char pattern[AG_INTEL_VALUE_MAX * 2 + 128];
    if (ag_intel_stix_pattern(ind, pattern, sizeof pattern))
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    char name[160];
    snprintf(name, sizeof name, "%s %.120s%s", ag_intel_type_name(ind->type), ind->value,
             strlen(ind->value) > 120 ? "..." : "");
    int bad = json_object_set_new(o, "type", json_string("indicator"));
    bad |= json_object_set_new(o, "spec_version", json_string("2.1"));
    bad |= json_object_set_new(o, "id", json_string(ind->id));
    if (identity_id)
        bad |= json_object_set_new(o, "created_by_ref", json_string(identity_id));
    bad |= set_time(o, "created", ind->created_ms);
    bad |= set_time(o, "modified", ind->modified_ms);
    bad |= json_object_set_new(o, "name", json_string(name));
    if (ind->description)
        bad |= json_object_set_new(o, "description", json_string(ind->description));
    bad |= json_object_set_new(
        o, "indicator_types",
        json_pack("[s]", ind->informational ? "anomalous-activity" : "malicious-activity"));
    bad |= json_object_set_new(o, "pattern", json_string(pattern));
    bad |= json_object_set_new(o, "pattern_type", json_string("stix"));
    bad |= json_object_set_new(o, "pattern_version", json_string("2.1"));
    bad |= set_time(o, "valid_from", ind->valid_from_ms);
    if (ind->valid_until_ms)
        bad |= set_time(o, "valid_until", ind->valid_until_ms);
    bad |= json_object_set_new(o, "confidence", json_integer(ind->confidence));
    if (ind->ntags) {
        json_t *labels = json_array();
        for (size_t i = 0; labels && i < ind->ntags; i++)
            bad |= json_array_append_new(labels, json_string(ind->tags[i]));
        bad |= json_object_set_new(o, "labels", labels);
    }
    bad |= json_object_set_new(o, "object_marking_refs",
                               json_pack("[s]", ag_intel_stix_tlp_id(ind->tlp)));
    bad |= json_object_set_new(o, "x_accountguard_type",
                               json_string(ag_intel_type_name(ind->type)));
    if (ind->source)
        bad |= json_object_set_new(o, "x_accountguard_source", json_string(ind->source));
    if (ind->external_ref)
        bad |= json_object_set_new(o, "x_accountguard_external_ref",
                                   json_string(ind->external_ref));
    bad |= json_object_set_new(o, "x_accountguard_informational",
                               json_boolean(ind->informational));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void uuid4(char out[37])
{
    char id[AG_INTEL_ID_LEN + 1];
    ag_intel_id_new(id);
    memcpy(out, id + strlen("indicator--"), 37);
}

json_t *ag_intel_stix_bundle_export(const struct ag_intel_indicator *inds, size_t n,
                                    const struct ag_intel_stix_producer *p, struct ag_err *err)
{
    char uuid[37], bid[64];
    uuid4(uuid);
    snprintf(bid, sizeof bid, "bundle--%s", uuid);
    json_t *b = json_object(), *objs = json_array();
    if (!b || !objs)
        goto oom;
    if (json_object_set_new(b, "type", json_string("bundle")) ||
        json_object_set_new(b, "id", json_string(bid)))
        goto oom;
    if (p && p->identity_id && json_array_append_new(objs, ag_intel_stix_identity(p)))
        goto oom;
    bool used[AG_INTEL_TLP_COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        if ((unsigned)inds[i].tlp < AG_INTEL_TLP_COUNT)
            used[inds[i].tlp] = true;
    for (int t = 0; t < AG_INTEL_TLP_COUNT; t++)
        if (used[t] && json_array_append_new(objs, ag_intel_stix_tlp_marking((enum ag_intel_tlp)t)))
            goto oom;
    for (size_t i = 0; i < n; i++) {
        json_t *o = ag_intel_stix_indicator(&inds[i], p ? p->identity_id : NULL);
        if (!o) {
            json_decref(objs);
            json_decref(b);
            return ag_err_set(err, AG_EINVAL, "invalid_field", "value",
                              "indicator %s cannot be expressed as a STIX pattern", inds[i].id),
                   NULL;
        }
        if (json_array_append_new(objs, o))
            goto oom;
    }
    if (json_object_set_new(b, "objects", objs))
        goto oom_b;
    return b;
oom:
    json_decref(objs);
oom_b:
    json_decref(b);
    ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory exporting STIX");
    return NULL;
}

/* ---- import ------------------------------------------------------------------- */

struct ref_map {
    const char **ids;
    const char **names; /* identity names; NULL for markings */
    int *tlp;
    size_t n;
};

static int map_add(struct ref_map *m, const char *id, const char *name, int tlp)
{
    const char **ids = realloc(m->ids, (m->n + 1) * sizeof *ids);
    if (!ids)
        return AG_ENOMEM;
    m->ids = ids;
    const char **names = realloc(m->names, (m->n + 1) * sizeof *names);
    if (!names)
        return AG_ENOMEM;
    m->names = names;
    int *t = realloc(m->tlp, (m->n + 1) * sizeof *t);
    if (!t)
        return AG_ENOMEM;
    m->tlp = t;
    ids[m->n] = id;
    names[m->n] = name;
    t[m->n] = tlp;
    m->n++;
    return 0;
}

static size_t map_find(const struct ref_map *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->ids[i], id) == 0)
            return i;
    return (size_t)-1;
}

static void map_free(struct ref_map *m)
{
    free(m->ids);
    free(m->names);
    free(m->tlp);
    memset(m, 0, sizeof *m);
}

static bool stix_type_valid(const char *t)
{
    size_t n = strlen(t);
    if (n < 3 || n > 250 || !(t[0] >= 'a' && t[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
            return false;
    return !strstr(t, "--");
}

#define FIELD(buf, key) field_name(buf, sizeof buf, path, idx, single, key)

static const char *field_name(char *buf, size_t len, const char *path, size_t idx, bool single,
                              const char *key)
{
    if (single)
        snprintf(buf, len, "%s", key);
    else
        snprintf(buf, len, "%s[%zu]%s%s", path, idx, key[0] ? "." : "", key);
    return buf;
}

static int check_time_field(const json_t *o, const char *key, bool required, int64_t *out,
                            const char *path, size_t idx, bool single, struct ag_err *err)
{
    char f[96];
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            return ag_err_set(err, AG_EINVAL, "missing_field", FIELD(f, key), "%s is required",
                              FIELD(f, key));
        return 0;
    }
    int64_t ms;
    if (!json_is_string(v) || ag_intel_stix_time_parse(json_string_value(v), &ms) != 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, key),
                          "%s is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)",
                          FIELD(f, key));
    if (out)
        *out = ms;
    return 0;
}

/* Pass 1: everything structural. Fills the identity and marking maps. */
static int validate_object(const json_t *o, const char *path, size_t idx, bool single,
                           struct ref_map *idents, struct ref_map *marks, struct ag_err *err)
{
    char f[96];
    if (!json_is_object(o))
        return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, ""),
                          "%s must be a STIX object", FIELD(f, ""));
    json_t *tv = json_object_get(o, "type"), *iv = json_object_get(o, "id");
    if (!json_is_string(tv) || !stix_type_valid(json_string_value(tv)))
        return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "type"),
                          "%s must be a STIX type name", FIELD(f, "type"));
    const char *type = json_string_value(tv);
    if (!json_is_string(iv) || !ag_intel_stix_id_valid(json_string_value(iv), type))
        return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "id"),
                          "%s must be \"%s--\" and a UUID", FIELD(f, "id"), type);
    const char *id = json_string_value(iv);
    json_t *sv = json_object_get(o, "spec_version");
    if (sv && !(json_is_string(sv) && (strcmp(json_string_value(sv), "2.1") == 0 ||
                                       strcmp(json_string_value(sv), "2.0") == 0)))
        return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "spec_version"),
                          "%s must be \"2.1\"", FIELD(f, "spec_version"));
    static const char *const times[] = {"created",    "modified",      "first_seen",
                                        "last_seen",  "published",     "first_observed",
                                        "last_observed", "valid_from", "valid_until"};
    int rc;
    for (size_t i = 0; i < AG_ARRAY_LEN(times); i++)
        if ((rc = check_time_field(o, times[i], false, NULL, path, idx, single, err)))
            return rc;
    json_t *cb = json_object_get(o, "created_by_ref");
    if (cb && !(json_is_string(cb) && ag_intel_stix_id_valid(json_string_value(cb), NULL)))
        return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "created_by_ref"),
                          "%s must be a STIX identifier", FIELD(f, "created_by_ref"));
    json_t *omr = json_object_get(o, "object_marking_refs");
    if (omr) {
        size_t i;
        json_t *m;
        if (!json_is_array(omr))
            return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "object_marking_refs"),
                              "%s must be an array", FIELD(f, "object_marking_refs"));
        json_array_foreach(omr, i, m) {
            if (!json_is_string(m) ||
                !ag_intel_stix_id_valid(json_string_value(m), "marking-definition"))
                return ag_err_set(err, AG_EINVAL, "invalid_field",
                                  FIELD(f, "object_marking_refs"),
                                  "%s[%zu] must be a marking-definition id",
                                  FIELD(f, "object_marking_refs"), i);
        }
    }
    if (strcmp(type, "identity") == 0) {
        json_t *nv = json_object_get(o, "name");
        if (json_is_string(nv) && map_add(idents, id, json_string_value(nv), -1))
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    } else if (strcmp(type, "marking-definition") == 0) {
        enum ag_intel_tlp t;
        int tlp = -1;
        json_t *ext = json_object_get(json_object_get(o, "extensions"),
                                      AG_INTEL_STIX_TLP2_EXTENSION);
        json_t *def = json_object_get(o, "definition");
        json_t *dtype = json_object_get(o, "definition_type");
        if (ext && ag_intel_tlp_parse(json_string_value(json_object_get(ext, "tlp_2_0")), &t) == 0)
            tlp = (int)t;
        else if (json_is_string(dtype) && strcmp(json_string_value(dtype), "tlp") == 0 &&
                 ag_intel_tlp_parse(json_string_value(json_object_get(def, "tlp")), &t) == 0)
            tlp = (int)t;
        else if (ag_intel_stix_tlp_from_id(id, &t) == 0)
            tlp = (int)t;
        if (tlp >= 0 && map_add(marks, id, NULL, tlp))
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    } else if (strcmp(type, "indicator") == 0) {
        json_t *pv = json_object_get(o, "pattern"), *pt = json_object_get(o, "pattern_type");
        if (!json_is_string(pv))
            return ag_err_set(err, AG_EINVAL, pv ? "invalid_field" : "missing_field",
                              FIELD(f, "pattern"), "%s must be a string", FIELD(f, "pattern"));
        if (pt ? !json_is_string(pt) : !(sv == NULL))
            return ag_err_set(err, AG_EINVAL, pt ? "invalid_field" : "missing_field",
                              FIELD(f, "pattern_type"), "%s is required and must be a string",
                              FIELD(f, "pattern_type"));
        int64_t from = 0, until = 0;
        if ((rc = check_time_field(o, "created", true, NULL, path, idx, single, err)) ||
            (rc = check_time_field(o, "modified", true, NULL, path, idx, single, err)) ||
            (rc = check_time_field(o, "valid_from", true, &from, path, idx, single, err)) ||
            (rc = check_time_field(o, "valid_until", false, &until, path, idx, single, err)))
            return rc;
        if (json_object_get(o, "valid_until") && until <= from)
            return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "valid_until"),
                              "%s must be later than valid_from", FIELD(f, "valid_until"));
        json_t *cv = json_object_get(o, "confidence");
        if (cv && !(json_is_integer(cv) && json_integer_value(cv) >= 0 &&
                    json_integer_value(cv) <= 100))
            return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "confidence"),
                              "%s must be an integer from 0 to 100", FIELD(f, "confidence"));
        json_t *lv = json_object_get(o, "labels");
        if (lv) {
            size_t i;
            json_t *l;
            if (!json_is_array(lv))
                return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "labels"),
                                  "%s must be an array of strings", FIELD(f, "labels"));
            json_array_foreach(lv, i, l) {
                if (!json_is_string(l))
                    return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "labels"),
                                      "%s[%zu] must be a string", FIELD(f, "labels"), i);
            }
        }
        json_t *rv = json_object_get(o, "revoked");
        if (rv && !json_is_boolean(rv))
            return ag_err_set(err, AG_EINVAL, "invalid_field", FIELD(f, "revoked"),
                              "%s must be true or false", FIELD(f, "revoked"));
    }
    return 0;
}

static int64_t time_of(const json_t *o, const char *key)
{
    int64_t ms = 0;
    ag_intel_stix_time_parse(json_string_value(json_object_get(o, key)), &ms);
    return ms;
}

/* Pass 2: one indicator object to indicators and notes. Only fails on OOM. */
static int map_indicator(const json_t *o, const struct ref_map *idents,
                         const struct ref_map *marks, const struct ag_intel_import_opts *opts,
                         struct ag_intel_import *imp)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *ptype = json_string_value(json_object_get(o, "pattern_type"));
    if (json_is_true(json_object_get(o, "revoked")))
        return ag_intel_import_note(imp, id, "revoked");
    if (ptype && strcmp(ptype, "stix") != 0)
        return ag_intel_import_note(imp, id, "pattern_type '%.40s' is not supported (only stix)",
                                    ptype);
    struct ag_intel_stix_term *terms;
    size_t nterms;
    struct ag_err perr_ = {0};
    if (ag_intel_stix_pattern_map(json_string_value(json_object_get(o, "pattern")), &terms,
                                  &nterms, &perr_))
        return ag_intel_import_note(imp, id, "%s", perr_.msg);
    size_t nsupported = 0;
    for (size_t i = 0; i < nterms; i++)
        nsupported += terms[i].supported != 0;

    /* What every indicator from this object shares. */
    char source[AG_INTEL_SOURCE_MAX + 1] = "stix";
    const char *xs = json_string_value(json_object_get(o, "x_accountguard_source"));
    const char *cb = json_string_value(json_object_get(o, "created_by_ref"));
    size_t k;
    if (xs && *xs)
        snprintf(source, sizeof source, "%s", xs);
    else if (cb && (k = map_find(idents, cb)) != (size_t)-1)
        snprintf(source, sizeof source, "stix:%s", idents->names[k]);
    else if (opts->source)
        snprintf(source, sizeof source, "%s", opts->source);
    enum ag_intel_tlp tlp = opts->tlp;
    bool marked = false;
    json_t *omr = json_object_get(o, "object_marking_refs");
    size_t i;
    json_t *m;
    json_array_foreach(omr, i, m) {
        enum ag_intel_tlp t;
        const char *mid = json_string_value(m);
        if ((k = map_find(marks, mid)) != (size_t)-1)
            t = (enum ag_intel_tlp)marks->tlp[k];
        else if (ag_intel_stix_tlp_from_id(mid, &t) != 0)
            continue;
        if (!marked || t > tlp) /* the strictest marking wins */
            tlp = t;
        marked = true;
    }
    bool informational = false;
    json_t *xi = json_object_get(o, "x_accountguard_informational");
    json_t *itypes = json_object_get(o, "indicator_types");
    if (json_is_boolean(xi))
        informational = json_is_true(xi);
    else if (json_array_size(itypes) == 1 &&
             json_is_string(json_array_get(itypes, 0)) &&
             strcmp(json_string_value(json_array_get(itypes, 0)), "benign") == 0)
        informational = true;

    int rc = 0;
    for (size_t t = 0; t < nterms && rc == 0; t++) {
        if (!terms[t].supported) {
            rc = ag_intel_import_note(imp, id, "%s", terms[t].reason);
            continue;
        }
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        if (nsupported == 1) {
            snprintf(ind.id, sizeof ind.id, "%s", id);
            for (char *c = ind.id; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        } else {
            char name[AG_INTEL_VALUE_MAX + 16];
            snprintf(name, sizeof name, "%s %s", ag_intel_type_name(terms[t].type),
                     terms[t].value);
            ag_intel_id_derive(id, name, ind.id);
        }
        ind.type = terms[t].type;
        ind.value = terms[t].value;
        terms[t].value = NULL;
        json_t *cv = json_object_get(o, "confidence");
        ind.confidence = cv ? (int)json_integer_value(cv) : opts->confidence;
        ind.tlp = tlp;
        ind.informational = informational;
        ind.created_ms = time_of(o, "created");
        ind.modified_ms = time_of(o, "modified");
        ind.valid_from_ms = time_of(o, "valid_from");
        ind.valid_until_ms = json_object_get(o, "valid_until") ? time_of(o, "valid_until")
                             : opts->ttl_ms ? ind.valid_from_ms + opts->ttl_ms
                                            : 0;
        const char *desc = json_string_value(json_object_get(o, "description"));
        if (!desc)
            desc = json_string_value(json_object_get(o, "name"));
        const char *xref = json_string_value(json_object_get(o, "x_accountguard_external_ref"));
        if (ag_intel_indicator_set_str(&ind.source, source) ||
            (desc && ag_intel_indicator_set_str(&ind.description, desc)) ||
            ag_intel_indicator_set_str(&ind.external_ref, xref ? xref : id)) {
            ag_intel_indicator_free(&ind);
            return AG_ENOMEM;
        }
        json_t *labels = json_object_get(o, "labels");
        size_t li;
        json_t *l;
        json_array_foreach(labels, li, l) {
            const char *s = json_string_value(l);
            if (s && *s && strlen(s) <= AG_INTEL_TAG_MAX && ag_intel_indicator_add_tag(&ind, s) == AG_ENOMEM) {
                ag_intel_indicator_free(&ind);
                return AG_ENOMEM;
            }
        }
        struct ag_err verr;
        if (ag_intel_indicator_validate(&ind, &verr) != 0) {
            rc = ag_intel_import_note(imp, id, "%s: %s", verr.field, verr.msg);
            ag_intel_indicator_free(&ind);
            continue;
        }
        rc = ag_intel_list_push_move(&imp->list, &ind);
        ag_intel_indicator_free(&ind);
    }
    ag_intel_stix_terms_free(terms, nterms);
    return rc;
}

static int import_array(const json_t *objects, const char *path, bool single,
                        const struct ag_intel_import_opts *opts, struct ag_intel_import *out,
                        struct ag_err *err)
{
    struct ref_map idents = {0}, marks = {0};
    struct ag_intel_import tmp = {0};
    size_t idx;
    json_t *o;
    int rc = 0;
    json_array_foreach(objects, idx, o) {
        if ((rc = validate_object(o, path, idx, single, &idents, &marks, err)))
            goto fail;
    }
    json_array_foreach(objects, idx, o) {
        tmp.seen++;
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        if (strcmp(type, "indicator") == 0)
            rc = map_indicator(o, &idents, &marks, opts, &tmp);
        else if (strcmp(type, "identity") != 0 && strcmp(type, "marking-definition") != 0)
            rc = ag_intel_import_note(&tmp, id, "%s objects are not imported", type);
        if (rc) {
            rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory importing STIX");
            goto fail;
        }
    }
    map_free(&idents);
    map_free(&marks);
    *out = tmp;
    return 0;
fail:
    map_free(&idents);
    map_free(&marks);
    ag_intel_import_free(&tmp);
    return rc;
}

int ag_intel_stix_objects_import(const json_t *objects, const char *path,
                                 const struct ag_intel_import_opts *opts,
                                 struct ag_intel_import *out, struct ag_err *err)
{
    if (!json_is_array(objects))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be an array", path);
    return import_array(objects, path, false, opts, out, err);
}

int ag_intel_stix_import(const char *buf, size_t len, const struct ag_intel_import_opts *opts,
                         struct ag_intel_import *out, struct ag_err *err)
{
    json_t *root = ag_json_parse(buf, len, 64, err);
    if (!root)
        return AG_EINVAL;
    int rc;
    json_t *type = json_object_get(root, "type");
    json_t *objects = json_object_get(root, "objects");
    if (!json_is_object(root)) {
        rc = ag_err_set(err, AG_EINVAL, "not_a_bundle", "",
                        "not a STIX bundle: the document is not a JSON object");
    } else if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0) {
        if (!ag_intel_stix_id_valid(json_string_value(json_object_get(root, "id")), "bundle"))
            rc = ag_err_set(err, AG_EINVAL, "invalid_field", "id",
                            "the bundle's id must be \"bundle--\" and a UUID");
        else if (objects && !json_is_array(objects))
            rc = ag_err_set(err, AG_EINVAL, "invalid_field", "objects",
                            "the bundle's objects must be an array");
        else if (!objects) {
            memset(out, 0, sizeof *out);
            rc = 0;
        } else
            rc = import_array(objects, "objects", false, opts, out, err);
    } else if (!type && json_is_array(objects)) {
        rc = import_array(objects, "objects", false, opts, out, err); /* TAXII envelope */
    } else if (json_is_string(type) && json_object_get(root, "id")) {
        json_t *one = json_pack("[O]", root);
        rc = one ? import_array(one, "", true, opts, out, err)
                 : ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        json_decref(one);
    } else {
        rc = ag_err_set(err, AG_EINVAL, "not_a_bundle", "type",
                        "not a STIX bundle: expected \"type\": \"bundle\"");
    }
    json_decref(root);
    return rc;
}
