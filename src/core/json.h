/* JSON helpers over jansson: parsing request bodies under limits, and reading
 * typed fields with errors that name the field ("context.ip"). */
#ifndef AG_CORE_JSON_H
#define AG_CORE_JSON_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_JSON_MAX_DEPTH 32

/* Parse <len> bytes as one JSON value. Rejects invalid UTF-8, NUL bytes,
 * nesting deeper than <max_depth>, and trailing junk. Returns a new reference
 * or NULL with <err> set (code AG_EINVAL, slug "invalid_json" or
 * "too_deep"). */
json_t *ag_json_parse(const char *buf, size_t len, int max_depth, struct ag_err *err);

/* Depth of the deepest container in <v> (a scalar is 0). */
int ag_json_depth(const json_t *v);

/* Read a string member <key> of <obj>. <path> is the field's name in errors.
 * Missing: returns AG_ENOTFOUND if <required> is false (and *out = NULL),
 * else AG_EINVAL. Present but not a string, or longer than <maxlen> bytes, or
 * (when <nonempty>) empty: AG_EINVAL with slug "invalid_field". */
int ag_json_str(const json_t *obj, const char *key, const char *path, size_t maxlen,
                bool required, const char **out, struct ag_err *err);

/* Read an integer member; same conventions. Range is checked. */
int ag_json_int(const json_t *obj, const char *key, const char *path, int64_t min,
                int64_t max, bool required, int64_t *out, struct ag_err *err);

/* Read a boolean member; same conventions. */
int ag_json_bool(const json_t *obj, const char *key, const char *path, bool required,
                 bool *out, struct ag_err *err);

/* Serialize compactly (keys in insertion order). Caller frees with free(). */
char *ag_json_dump(const json_t *v);

/* {"error":{"code":slug,"message":msg,"field":field}} from <err>. */
json_t *ag_json_error(const struct ag_err *err);

#endif

/* ---- a small streaming JSON writer for hot paths ----
 * Appends to an ag_buf; callers place commas. Strings are escaped per
 * RFC 8259 (control characters as \u00XX; UTF-8 passed through, so input
 * must be valid UTF-8, as everything from ag_json_parse is). */
#ifndef AG_CORE_JSONW
#define AG_CORE_JSONW
#include "core/util.h"
int ag_jw_str(struct ag_buf *b, const char *s);
int ag_jw_raw(struct ag_buf *b, const char *s);

/* Append <v> as compact JSON with object keys sorted: byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) writes, without its
 * per-object key arrays and callbacks (the pipeline hashes every event's
 * canonical form). Returns 0, or -1 when out of memory or <v> cannot be
 * written. */
int ag_json_canonical(const json_t *v, struct ag_buf *b);

#endif
