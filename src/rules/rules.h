/* The rules language: a small, safe expression language over named, typed
 * fields, compiled once against a caller-supplied schema and evaluated per
 * event without allocation. A compiled rule set is immutable and reference
 * counted; a holder swaps the current set whole on reload. docs/RULES.md
 * describes the language, the missing-value semantics and the default fields
 * (src/rules/fields.h).
 *
 *   rule stuffing_from_hosting "credential stuffing from a hosting network"
 *     when event.type == "login.failed" and ip.hosting
 *          and velocity.accounts_per_ip_1h >= 20
 *     then deny score 0.95
 */
#ifndef AG_RULES_RULES_H
#define AG_RULES_RULES_H

#include "core/decision.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits, checked at compile time; a text over any of them does not compile. */
#define AG_RULES_MAX_TEXT (4u << 20)  /* bytes in one rules file */
#define AG_RULES_MAX_RULES 4096
#define AG_RULES_MAX_DEPTH 64         /* expression nesting (tree depth) */
#define AG_RULES_MAX_STRING 4096      /* bytes in one string literal */
#define AG_RULES_MAX_LIST 4096        /* items in one [..] list */
#define AG_RULES_ID_MAX 63            /* bytes in a rule id */
#define AG_RULES_MAX_FIELD_ID 65535   /* field ids are 0 .. this */

/* A field's type. AG_RULES_MISSING is never a field type: it marks a value
 * the event does not have. */
enum ag_rules_type {
    AG_RULES_MISSING = 0,
    AG_RULES_BOOL,
    AG_RULES_NUMBER,  /* a double; integers are exact up to 2^53 */
    AG_RULES_STRING,  /* bytes (UTF-8), need not be NUL-terminated */
    AG_RULES_STRLIST, /* NUL-terminated strings */
};

const char *ag_rules_type_name(enum ag_rules_type t);

/* One field the rules may name. <id> indexes the value array handed to
 * ag_rules_eval_values and is what the get callback receives. */
struct ag_rules_field {
    const char *name; /* "ip.hosting": letters, digits, '_' and '.' */
    enum ag_rules_type type;
    int id;           /* 0 .. AG_RULES_MAX_FIELD_ID, unique in the schema */
    const char *help; /* one line for docs and the console; may be NULL */
};

struct ag_rules_schema {
    const struct ag_rules_field *fields;
    int nfields;
};

/* One field's value for the current event. Strings and lists are borrowed:
 * they must stay valid during the evaluation that reads them. A value whose
 * <type> differs from the field's declared type, and a NaN number, read as
 * missing. */
struct ag_rules_value {
    enum ag_rules_type type;
    union {
        bool b;
        double num;
        struct {
            const char *ptr;
            size_t len;
        } str;
        struct {
            const char *const *items;
            size_t n;
        } list;
    };
};

static inline struct ag_rules_value ag_rules_bool(bool b)
{
    return (struct ag_rules_value){.type = AG_RULES_BOOL, .b = b};
}
static inline struct ag_rules_value ag_rules_num(double n)
{
    return (struct ag_rules_value){.type = AG_RULES_NUMBER, .num = n};
}
/* <s> NUL-terminated; NULL gives a missing value. */
struct ag_rules_value ag_rules_str(const char *s);
static inline struct ag_rules_value ag_rules_strn(const char *s, size_t len)
{
    return (struct ag_rules_value){.type = AG_RULES_STRING, .str = {s, len}};
}
static inline struct ag_rules_value ag_rules_list(const char *const *items, size_t n)
{
    return (struct ag_rules_value){.type = AG_RULES_STRLIST, .list = {items, n}};
}

/* Fill <out> with field <field_id>'s value for the event behind <ctx>; leave
 * out->type as AG_RULES_MISSING (it is zeroed before the call) when the event
 * has none. Called during evaluation: it must not block, and it must be
 * safe to call from the evaluating thread. */
typedef void (*ag_rules_get_fn)(void *ctx, int field_id, struct ag_rules_value *out);

/* One rule of a compiled set; owned by the set, read-only. */
struct ag_rules_rule {
    char id[AG_RULES_ID_MAX + 1];
    const char *description;
    enum ag_action action;
    bool has_score;
    double score;     /* in [0,1] when has_score */
    uint32_t methods; /* AG_CHALLENGE_*; only for challenge, 0 = the defaults */
    int index;        /* position in the file, from 0 */
    int line;         /* where its `rule` keyword is */
};

/* Where a compile error is: 1-based line and column (columns count UTF-8
 * characters; a tab is one). Both 0 when the error is about no place. */
struct ag_rules_pos {
    int line;
    int col;
};

struct ag_rules; /* an immutable compiled set; opaque */

/* Compile <len> bytes of <text> against <schema>. <name> (a file name, may
 * be NULL) prefixes messages: "default.rules:12:7: expected 'then' ...".
 * On success *out holds a set with one reference, returns 0. On failure
 * returns AG_EINVAL (syntax, unknown field, type, limit), AG_ELIMIT (text
 * too large) or AG_ENOMEM, *out is NULL, <err> says why and <pos> (may be
 * NULL) where. Slugs: rules_syntax, rules_unknown_field, rules_unknown_function,
 * rules_type, rules_duplicate, rules_limit, rules_schema. The schema is only
 * read during the call; the set keeps what it needs. */
int ag_rules_compile(const struct ag_rules_schema *schema, const char *name, const char *text,
                     size_t len, struct ag_rules **out, struct ag_rules_pos *pos,
                     struct ag_err *err);

/* Read <path> and compile it (as above; AG_EIO if it cannot be read). */
int ag_rules_compile_file(const struct ag_rules_schema *schema, const char *path,
                          struct ag_rules **out, struct ag_rules_pos *pos, struct ag_err *err);

/* Reference counting; thread-safe. acquire returns <set>. release frees the
 * set with its last reference; NULL is ignored. */
struct ag_rules *ag_rules_acquire(struct ag_rules *set);
void ag_rules_release(struct ag_rules *set);

int ag_rules_count(const struct ag_rules *set);
const struct ag_rules_rule *ag_rules_rule_at(const struct ag_rules *set, int i);
/* Find a rule by id; NULL if none. */
const struct ag_rules_rule *ag_rules_find(const struct ag_rules *set, const char *id);
/* "<16 hex digits of the text's hash>": names the set in logs and decisions. */
const char *ag_rules_version(const struct ag_rules *set);
/* The <name> given at compile time ("" if none). */
const char *ag_rules_source(const struct ag_rules *set);
/* Does any rule read field <field_id>? Lets the caller skip computing
 * features no rule uses. */
bool ag_rules_uses_field(const struct ag_rules *set, int field_id);

/* Evaluate every rule for one event, reading values through <get>. Stores
 * pointers to the rules that fired, in file order, into fired[0 ..
 * max_fired-1] and returns how many fired (which may exceed max_fired; the
 * rest are not stored). Never allocates, never fails; the pointers live as
 * long as the caller's reference to <set>. A rule fires when its condition
 * is true; a condition that is false or unknown (missing values, see
 * docs/RULES.md) does not fire. */
int ag_rules_eval(const struct ag_rules *set, ag_rules_get_fn get, void *ctx,
                  const struct ag_rules_rule **fired, int max_fired);

/* The same, reading field <id> from values[id]; ids at or past <nvalues>
 * read as missing. */
int ag_rules_eval_values(const struct ag_rules *set, const struct ag_rules_value *values,
                         int nvalues, const struct ag_rules_rule **fired, int max_fired);

/* Fold fired rules into a decision: record each rule id; for each rule
 * whose action is not allow (allow rules are monitors and change nothing),
 * escalate to its action, add one reason (code "rule:<id>", the id cut to
 * 34 bytes; detail its description) and raise d->risk to its score. When the
 * result is a challenge, d->challenge_methods becomes the intersection of
 * the methods of the firing challenge rules that list some (a rule that
 * would leave none is skipped); if none lists methods it is left as is, for
 * the caller's defaults. */
void ag_rules_decision_apply(const struct ag_rules_rule *const *fired, int n,
                             struct ag_decision *d);

/* The rules as JSON: {"version","source","rules":[{"id","description",
 * "action","score","methods","line"}]}. New reference or NULL on ENOMEM. */
json_t *ag_rules_describe_json(const struct ag_rules *set);

/* Fill values[0 .. nvalues-1] from a JSON object {"field.name": value, ...}
 * keyed by the schema's field names (null = missing). Strings are borrowed
 * from <obj>; string-list items are stored as pointers in scratch[0 ..
 * nscratch-1]. Unknown names, wrong types and running out of scratch are
 * AG_EINVAL with err->field naming the key. Values not in <obj> are missing.
 * For the API's "try a rule on this event" and for backtests over stored
 * feature snapshots. */
int ag_rules_values_from_json(const struct ag_rules_schema *schema, const json_t *obj,
                              struct ag_rules_value *values, int nvalues, const char **scratch,
                              int nscratch, struct ag_err *err);

/* Method names as written in rules files: "totp", "sms", "email", "backup". */
const char *ag_rules_method_name(uint32_t method_bit);

/* ---- Holder: the current set, swapped whole on reload ---------------------
 * Evaluators never see a half-loaded set and never touch a freed one: they
 * either take a reference (holder_get) or keep a per-thread reader that
 * refreshes its reference only when the generation changed. */
struct ag_rules_holder;

/* A holder starting with <initial> (its reference is taken over; may be
 * NULL). Returns NULL on ENOMEM (and releases <initial>). */
struct ag_rules_holder *ag_rules_holder_new(struct ag_rules *initial);
/* Release the current set and free the holder. No reader or getter may use
 * the holder during or after this. */
void ag_rules_holder_free(struct ag_rules_holder *h);

/* A new reference to the current set (NULL if none); release it when done. */
struct ag_rules *ag_rules_holder_get(struct ag_rules_holder *h);
/* Make <set> current (its reference is taken over; NULL clears) and release
 * the previous one. Bumps the generation. */
void ag_rules_holder_swap(struct ag_rules_holder *h, struct ag_rules *set);
/* Compile and swap in. On any error the current set stays, and the error is
 * returned as ag_rules_compile returns it. Safe to call while other threads
 * evaluate; not from a signal handler (set a flag there and reload from a
 * thread). */
int ag_rules_holder_reload_text(struct ag_rules_holder *h, const struct ag_rules_schema *schema,
                                const char *name, const char *text, size_t len,
                                struct ag_rules_pos *pos, struct ag_err *err);
int ag_rules_holder_reload_file(struct ag_rules_holder *h, const struct ag_rules_schema *schema,
                                const char *path, struct ag_rules_pos *pos, struct ag_err *err);
/* Counts successful swaps; starts at 1. */
uint64_t ag_rules_holder_generation(const struct ag_rules_holder *h);

/* A per-thread cache of the holder's current set: zero-initialize, call
 * ag_rules_reader_get before each evaluation (one atomic load when nothing
 * changed), ag_rules_reader_close when the thread is done. The returned set
 * stays valid until the next reader_get or reader_close on <r>. A reader
 * belongs to one thread and one holder. */
struct ag_rules_reader {
    struct ag_rules *set;
    uint64_t gen;
};
const struct ag_rules *ag_rules_reader_get(struct ag_rules_reader *r, struct ag_rules_holder *h);
void ag_rules_reader_close(struct ag_rules_reader *r);

#endif
