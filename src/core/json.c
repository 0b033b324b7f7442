/* JSON parsing under limits and typed field access with precise errors. */
#include "core/json.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* Check nesting depth on the raw text before building the tree, so a hostile
 * body of a million '[' never reaches jansson's recursive parser. Strings are
 * skipped with their escapes. */
static int raw_depth_ok(const char *buf, size_t len, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return 0;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return 1;
}

json_t *ag_json_parse(const char *buf, size_t len, int max_depth, struct ag_err *err)
{
    if (len == 0) {
        ag_err_set(err, AG_EINVAL, "invalid_json", "", "request body is empty");
        return NULL;
    }
    if (!raw_depth_ok(buf, len, max_depth)) {
        ag_err_set(err, AG_EINVAL, "too_deep", "", "JSON nesting deeper than %d", max_depth);
        return NULL;
    }
    json_error_t je;
    ag_json_alloc_failed_reset();
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    /* Also when a tree came back: jansson's lexer ignores a failed growth of
     * its token buffer and goes on with the token cut short (seen under
     * AG_FAULT_ALLOC_EVERY: "login.succeede", then a wrong 400). */
    if (ag_json_alloc_failed_reset()) {
        json_decref(v);
        ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory");
        return NULL;
    }
    if (!v) {
        /* jansson reports an allocation failure as out_of_memory, or (when
         * the failure hits before it can say anything) with an empty text. */
        if (json_error_code(&je) == json_error_out_of_memory || je.text[0] == '\0') {
            ag_err_set(err, AG_ENOMEM, "out_of_memory", "", "out of memory");
            return NULL;
        }
        const char *slug =
            json_error_code(&je) == json_error_invalid_utf8 ? "invalid_utf8" : "invalid_json";
        ag_err_set(err, AG_EINVAL, slug, "", "invalid JSON at line %d column %d: %s", je.line,
                   je.column, je.text);
        return NULL;
    }
    return v;
}

int ag_json_depth(const json_t *v)
{
    int max = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            int d = ag_json_depth(c);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            int d = ag_json_depth(c);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    return 0;
}

static int missing(bool required, const char *path, struct ag_err *err)
{
    if (required)
        return ag_err_set(err, AG_EINVAL, "missing_field", path, "%s is required", path);
    return AG_ENOTFOUND;
}

int ag_json_str(const json_t *obj, const char *key, const char *path, size_t maxlen,
                bool required, const char **out, struct ag_err *err)
{
    *out = NULL;
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(required, path, err);
    if (!json_is_string(v))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be a string", path);
    size_t n = json_string_length(v);
    if (n > maxlen)
        return ag_err_set(err, AG_EINVAL, "field_too_long", path,
                          "%s is longer than %zu bytes", path, maxlen);
    if (required && n == 0)
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must not be empty", path);
    if (memchr(json_string_value(v), '\0', n))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s contains a NUL byte", path);
    *out = json_string_value(v);
    return 0;
}

int ag_json_int(const json_t *obj, const char *key, const char *path, int64_t min,
                int64_t max, bool required, int64_t *out, struct ag_err *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(required, path, err);
    if (!json_is_integer(v))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be an integer", path);
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return ag_err_set(err, AG_EINVAL, "invalid_field", path,
                          "%s must be between %lld and %lld", path, (long long)min,
                          (long long)max);
    *out = x;
    return 0;
}

int ag_json_bool(const json_t *obj, const char *key, const char *path, bool required,
                 bool *out, struct ag_err *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(required, path, err);
    if (!json_is_boolean(v))
        return ag_err_set(err, AG_EINVAL, "invalid_field", path, "%s must be true or false",
                          path);
    *out = json_is_true(v);
    return 0;
}

char *ag_json_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

json_t *ag_json_error(const struct ag_err *err)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(err->slug[0] ? err->slug
                                                            : ag_err_default_slug(err->code)));
    json_object_set_new(e, "message", json_string(err->msg));
    if (err->field[0])
        json_object_set_new(e, "field", json_string(err->field));
    json_t *o = json_object();
    json_object_set_new(o, "error", e);
    return o;
}

int ag_jw_raw(struct ag_buf *b, const char *s) { return ag_buf_append(b, s, strlen(s)); }

int ag_jw_str(struct ag_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (ag_buf_append(b, "\"", 1))
        return -1;
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        if (ag_buf_append(b, run, (size_t)((const char *)p - run)))
            return -1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        if (ag_buf_append(b, esc, n))
            return -1;
        run = (const char *)p + 1;
    }
    if (ag_buf_append(b, run, strlen(run)))
        return -1;
    return ag_buf_append(b, "\"", 1);
}

/* ---- canonical form ---- */

/* A string as jansson writes it: '"', '\\' and control characters escaped
 * (\b \f \n \r \t, else \u00XX in upper case), everything else as is. */
static int canon_str(struct ag_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (ag_buf_append(b, "\"", 1))
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        if (ag_buf_append(b, s + run, i - run))
            return -1;
        char esc[6] = {'\\', 0, '0', '0', hex[ch >> 4], hex[ch & 15]};
        size_t n = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: esc[1] = 'u'; n = 6;
        }
        if (ag_buf_append(b, esc, n))
            return -1;
        run = i + 1;
    }
    return ag_buf_append(b, s + run, len - run) || ag_buf_append(b, "\"", 1);
}

struct canon_key {
    const char *key;
    size_t len;
    const json_t *value;
};

/* jansson's order: bytes, then the shorter key first. */
static int canon_key_cmp(const void *a, const void *b)
{
    const struct canon_key *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int canon_value(const json_t *v, struct ag_buf *b, int depth)
{
    if (depth > 2048)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        struct canon_key small[16], *keys = n <= 16 ? small : malloc(n * sizeof *keys);
        if (!keys)
            return -1;
        size_t i = 0;
        const char *k;
        size_t klen;
        json_t *m;
        json_object_keylen_foreach((json_t *)v, k, klen, m) keys[i++] = (struct canon_key){k, klen, m};
        /* insertion sort: events have a handful of keys per object */
        if (n <= 16) {
            for (size_t a = 1; a < n; a++)
                for (size_t c = a; c > 0 && canon_key_cmp(&keys[c - 1], &keys[c]) > 0; c--) {
                    struct canon_key t = keys[c];
                    keys[c] = keys[c - 1];
                    keys[c - 1] = t;
                }
        } else {
            qsort(keys, n, sizeof *keys, canon_key_cmp);
        }
        int rc = ag_buf_append(b, "{", 1);
        for (i = 0; i < n && !rc; i++)
            rc = (i ? ag_buf_append(b, ",", 1) : 0) || canon_str(b, keys[i].key, keys[i].len) ||
                 ag_buf_append(b, ":", 1) || canon_value(keys[i].value, b, depth + 1);
        if (keys != small)
            free(keys);
        return rc ? -1 : ag_buf_append(b, "}", 1);
    }
    case JSON_ARRAY: {
        int rc = ag_buf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && !rc; i++)
            rc = (i ? ag_buf_append(b, ",", 1) : 0) ||
                 canon_value(json_array_get(v, i), b, depth + 1);
        return rc ? -1 : ag_buf_append(b, "]", 1);
    }
    case JSON_STRING: return canon_str(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return ag_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        /* jansson's own shortest-round-trip formatting, not re-done here */
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        int rc = s ? ag_buf_append(b, s, strlen(s)) : -1;
        free(s);
        return rc;
    }
    case JSON_TRUE: return ag_buf_append(b, "true", 4);
    case JSON_FALSE: return ag_buf_append(b, "false", 5);
    case JSON_NULL: return ag_buf_append(b, "null", 4);
    }
    return -1;
}

int ag_json_canonical(const json_t *v, struct ag_buf *b)
{
    return v ? canon_value(v, b, 0) : -1;
}
