/* Unit tests for src/core: time parsing, JSON limits, config loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/event_types.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void time_parse_valid(void **state)
{
    int64_t ms;
    assert_int_equal(ag_time_parse("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(ag_time_parse("2026-11-21T10:00:00Z", &ms), 0);
    assert_int_equal(ms, 1795255200000LL);
    assert_int_equal(ag_time_parse("2026-11-21T12:00:00.5+02:00", &ms), 0);
    assert_int_equal(ms, 1795255200500LL);
    assert_int_equal(ag_time_parse("2024-02-29 00:00:00Z", &ms), 0);
    char buf[40];
    ag_time_format_ms(1795255200500LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-21T10:00:00.500Z");
}

static void time_parse_invalid(void **state)
{
    int64_t ms;
    const char *bad[] = {"", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                         "2026-11-21T24:00:00Z", "2026-11-21T10:00:00", "2026-11-21",
                         "2026-11-21T10:00:00Zjunk", "yesterday", "2026-11-21T10:00:00+2:00"};
    for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++)
        assert_int_equal(ag_time_parse(bad[i], &ms), AG_EINVAL);
}

static void json_limits(void **state)
{
    struct ag_err err;
    char deep[200];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    json_t *v = ag_json_parse(deep, 80, 32, &err);
    assert_null(v);
    assert_string_equal(err.slug, "too_deep");
    v = ag_json_parse(deep + 8, 64, 32, &err); /* exactly 32 deep */
    assert_non_null(v);
    json_decref(v);
    const char bad_utf8[] = "{\"a\":\"\xff\xfe\"}";
    assert_null(ag_json_parse(bad_utf8, sizeof bad_utf8 - 1, 32, &err));
    assert_string_equal(err.slug, "invalid_utf8");
    assert_null(ag_json_parse("{} x", 4, 32, &err));
    assert_null(ag_json_parse("{\"a\":1,\"a\":2}", 13, 32, &err));
    /* Brackets inside strings do not count as depth. */
    v = ag_json_parse("{\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 46, 2, &err);
    assert_non_null(v);
    json_decref(v);
}

static void json_fields(void **state)
{
    struct ag_err err;
    json_t *o = json_pack("{s:s, s:i, s:b, s:s}", "a", "hello", "n", 5, "b", 1, "e", "");
    const char *s;
    int64_t n;
    bool b;
    assert_int_equal(ag_json_str(o, "a", "x.a", 10, true, &s, &err), 0);
    assert_string_equal(s, "hello");
    assert_int_equal(ag_json_str(o, "a", "x.a", 3, true, &s, &err), AG_EINVAL);
    assert_string_equal(err.slug, "field_too_long");
    assert_string_equal(err.field, "x.a");
    assert_int_equal(ag_json_str(o, "zz", "x.zz", 3, false, &s, &err), AG_ENOTFOUND);
    assert_int_equal(ag_json_str(o, "zz", "x.zz", 3, true, &s, &err), AG_EINVAL);
    assert_string_equal(err.slug, "missing_field");
    assert_int_equal(ag_json_str(o, "e", "x.e", 3, true, &s, &err), AG_EINVAL);
    assert_int_equal(ag_json_str(o, "n", "x.n", 3, true, &s, &err), AG_EINVAL);
    assert_int_equal(ag_json_int(o, "n", "x.n", 0, 10, true, &n, &err), 0);
    assert_int_equal(n, 5);
    assert_int_equal(ag_json_int(o, "n", "x.n", 6, 10, true, &n, &err), AG_EINVAL);
    assert_int_equal(ag_json_bool(o, "b", "x.b", true, &b, &err), 0);
    assert_true(b);
    json_decref(o);
}

static void config_layers(void **state)
{
    struct ag_config cfg;
    struct ag_err err;
    assert_int_equal(ag_config_init(&cfg), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.max_body_bytes, 1048576);
    char path[] = "/tmp/agcfgXXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nlisten = 127.0.0.1:9999\nmax_body_bytes=2048\ndemo = yes\n");
    fclose(f);
    setenv("AG_MAX_BODY_BYTES", "4096", 1);
    char *argv[] = {"--config", path, "--data-dir=/tmp/x", "rest", NULL};
    int first;
    bool help;
    assert_int_equal(ag_config_from_args(&cfg, 4, argv, &first, &help, &err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:9999");
    assert_int_equal(cfg.max_body_bytes, 4096); /* env beats file */
    assert_true(cfg.demo);
    assert_string_equal(cfg.data_dir, "/tmp/x");
    assert_string_equal(cfg.store, "/tmp/x/accountguard.db");
    assert_int_equal(first, 3);
    assert_string_equal(argv[3], "rest");
    unsetenv("AG_MAX_BODY_BYTES");
    /* Errors name the line. */
    f = fopen(path, "w");
    fprintf(f, "listen = x\nnonsense = 1\n");
    fclose(f);
    assert_int_equal(ag_config_load_file(&cfg, path, &err), AG_EINVAL);
    assert_non_null(strstr(err.msg, ":2:"));
    char *argv2[] = {"--no-such-flag", NULL};
    assert_int_equal(ag_config_from_args(&cfg, 1, argv2, &first, &help, &err), AG_EINVAL);
    unlink(path);
    ag_config_free(&cfg);
}

static void event_table(void **state)
{
    const struct ag_event_type *t = ag_event_type_find("order.placed");
    assert_non_null(t);
    assert_true(t->flags & AG_EVT_MONEY);
    assert_null(ag_event_type_find("order.exploded"));
    for (int i = 0; i < ag_event_types_count; i++)
        assert_ptr_equal(ag_event_type_find(ag_event_types[i].name), &ag_event_types[i]);
}

static void ids_and_ips(void **state)
{
    char id[32];
    ag_id_random(id, sizeof id, "ev_", 20);
    assert_int_equal(strlen(id), 23);
    assert_memory_equal(id, "ev_", 3);
    bool v6;
    assert_true(ag_ip_valid("203.0.113.7", &v6));
    assert_false(v6);
    assert_true(ag_ip_valid("2001:db8::1", &v6));
    assert_true(v6);
    assert_false(ag_ip_valid("203.0.113.256", &v6));
    assert_false(ag_ip_valid("not-an-ip", &v6));
}

/* A random JSON tree: every kind of value, keys with quotes, control
 * characters, non-ASCII and shared prefixes, objects small and large. */
static json_t *random_json(unsigned *seed, int depth)
{
    static const char *const pieces[] = {"a", "b", "ab", "", "\"", "\\", "\n", "\x01",
                                         "\x1f", "/", "\xc3\xa9", "\xe2\x82\xac", "z", "A",
                                         "id", "type", "\t\b\f\r", "\x7f"};
    int kind = depth > 3 ? rand_r(seed) % 6 : rand_r(seed) % 8;
    char s[64] = "";
    for (int i = rand_r(seed) % 4; i > 0; i--)
        strcat(s, pieces[rand_r(seed) % (int)(sizeof pieces / sizeof *pieces)]);
    switch (kind) {
    case 0: return json_string(s);
    case 1: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? -1 : 1) * 977);
    case 2: return json_real((double)rand_r(seed) / 7.0 - 1e6);
    case 3: return json_true();
    case 4: return json_false();
    case 5: return json_null();
    case 6: {
        json_t *a = json_array();
        for (int i = rand_r(seed) % 5; i > 0; i--)
            json_array_append_new(a, random_json(seed, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        int n = rand_r(seed) % 3 == 0 ? 10 + rand_r(seed) % 30 : rand_r(seed) % 6;
        for (int i = 0; i < n; i++) {
            char k[80];
            snprintf(k, sizeof k, "%s%d", s, rand_r(seed) % 50);
            json_object_set_new(o, i % 3 ? k : s, random_json(seed, depth + 1));
        }
        return o;
    }
    }
}

static void json_canonical_matches_jansson(void **state)
{
    unsigned seed = 20261122;
    for (int i = 0; i < 3000; i++) {
        json_t *v = random_json(&seed, 0);
        char *want = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        struct ag_buf b = {0};
        assert_int_equal(ag_json_canonical(v, &b), 0);
        assert_non_null(want);
        assert_string_equal(b.data, want);
        free(want);
        ag_buf_free(&b);
        json_decref(v);
    }
    /* an event as the API receives it */
    const char *ev = "{\"type\":\"login.succeeded\",\"id\":\"e1\",\"account\":{\"id\":\"u1\"},"
                     "\"context\":{\"user_agent\":\"Mozilla/5.0 (X11)\",\"ip\":\"192.0.2.1\"},"
                     "\"properties\":{\"amount\":12.5,\"n\":3,\"ok\":true,\"tags\":[\"x\",null]}}";
    json_t *v = json_loads(ev, 0, NULL);
    struct ag_buf b = {0};
    assert_int_equal(ag_json_canonical(v, &b), 0);
    assert_string_equal(b.data,
                        "{\"account\":{\"id\":\"u1\"},\"context\":{\"ip\":\"192.0.2.1\","
                        "\"user_agent\":\"Mozilla/5.0 (X11)\"},\"id\":\"e1\",\"properties\":{"
                        "\"amount\":12.5,\"n\":3,\"ok\":true,\"tags\":[\"x\",null]},"
                        "\"type\":\"login.succeeded\"}");
    ag_buf_free(&b);
    json_decref(v);
}

/* ag_utf8_valid agrees with jansson's check on random and edge-case bytes. */
static void utf8_matches_jansson(void **state)
{
    static const char *const edge[] = {"", "abc", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                       "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80", "\xff", "\xc3", "\xe2\x82",
                                       "\x80" "abc", "a\xf0\x9f\x98"};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        json_t *j = json_stringn(edge[i], strlen(edge[i]));
        assert_int_equal(ag_utf8_valid(edge[i], strlen(edge[i])), j != NULL);
        json_decref(j);
    }
    unsigned seed = 7;
    for (int i = 0; i < 20000; i++) {
        char buf[8];
        size_t n = (size_t)(rand_r(&seed) % 8);
        for (size_t k = 0; k < n; k++) {
            int r = rand_r(&seed) % 4;
            buf[k] = (char)(r == 0 ? 0x80 + rand_r(&seed) % 64
                            : r == 1 ? 0xc0 + rand_r(&seed) % 64
                            : r == 2 ? 0x20 + rand_r(&seed) % 95 : rand_r(&seed) % 256);
            if (!buf[k])
                buf[k] = 'x';
        }
        json_t *j = json_stringn(buf, n);
        assert_int_equal(ag_utf8_valid(buf, n), j != NULL);
        json_decref(j);
    }
}

/* Under allocation failures (AG_FAULT builds) a parse either fails with
 * out_of_memory or returns the whole document: never a tree with a token cut
 * short (jansson's lexer drops a byte when its buffer cannot grow). Without
 * fault injection every run parses whole, which is also checked. */
static void json_parse_whole_or_out_of_memory(void **state)
{
    (void)state;
    ag_fault_setup();
    const char doc[] = "{\"id\":\"e_1\",\"type\":\"login.succeeded_with_a_longer_name\","
                       "\"account\":{\"id\":\"u_1234567890abcdef\"},"
                       "\"context\":{\"ip\":\"203.0.113.10\",\"user_agent\":"
                       "\"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\"}}";
    json_t *want = json_loads(doc, 0, NULL);
    assert_non_null(want);
    int whole = 0, oom = 0;
    for (long nth = 1; nth <= 200; nth++) {
        struct ag_err err = {0};
        ag_fault_alloc_after(nth);
        json_t *v = ag_json_parse(doc, sizeof doc - 1, 32, &err);
        ag_fault_alloc_after(0);
        if (v) {
            if (!json_equal(v, want))
                fail_msg("allocation %ld failed: parsed a different document", nth);
            whole++;
            json_decref(v);
        } else {
            assert_string_equal(err.slug, "out_of_memory");
            oom++;
        }
    }
    assert_true(whole > 0);
    if (ag_fault_enabled())
        assert_true(oom > 0);
    json_decref(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_parse_valid), cmocka_unit_test(time_parse_invalid),
        cmocka_unit_test(json_limits), cmocka_unit_test(json_canonical_matches_jansson), cmocka_unit_test(utf8_matches_jansson),      cmocka_unit_test(json_fields),
        cmocka_unit_test(config_layers),    cmocka_unit_test(event_table),
        cmocka_unit_test(ids_and_ips),
        cmocka_unit_test(json_parse_whole_or_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
