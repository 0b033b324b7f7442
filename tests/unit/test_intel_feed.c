/* Unit tests for src/intel/feed.c: netsets and domain/URL lists, junk lines
 * skipped with their line numbers or rejected in strict mode, wrong-format
 * fetches refused, stable ids, TTL, and the feed config in JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "intel/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1772438400000LL

static char *read_data(const char *name, size_t *len)
{
    const char *s = getenv("AG_SOURCE_DIR");
    char p[1024];
    snprintf(p, sizeof p, "%s/tests/data/intel/%s", s && *s ? s : AG_SOURCE_DIR, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        fail_msg("cannot open %s", p);
    struct ag_buf b = {0};
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        ag_buf_append(&b, tmp, n);
    fclose(f);
    ag_buf_append(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

static void config(struct ag_intel_feed_config *c, const char *name,
                   enum ag_intel_feed_format fmt)
{
    ag_intel_feed_config_init(c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->format = fmt;
    snprintf(c->url, sizeof c->url, "https://iplists.firehol.org/files/%s.netset", name);
}

static void netset(void **state)
{
    size_t len;
    char *text = read_data("firehol_sample.netset", &len);
    struct ag_intel_feed_config c;
    config(&c, "firehol_level1", AG_INTEL_FEED_NETSET);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    if (ag_intel_feed_parse(&c, text, len, NOW, &imp, &err))
        fail_msg("%s: %s", err.field, err.msg);
    const char *want[] = {"0.0.0.0/8",       "10.0.0.0/8",     "100.64.0.0/10",
                          "192.0.2.0/24",    "198.51.100.0/24", "203.0.113.7",
                          "2001:db8::/32",   "192.168.0.0/16", "172.16.0.0/12"};
    assert_int_equal(imp.list.len, AG_ARRAY_LEN(want)); /* 203.0.113.7/32 was a duplicate */
    for (size_t i = 0; i < AG_ARRAY_LEN(want); i++) {
        const struct ag_intel_indicator *x = &imp.list.items[i];
        assert_string_equal(x->value, want[i]);
        assert_string_equal(x->source, "feed:firehol_level1");
        assert_int_equal(x->valid_from_ms, NOW);
        assert_int_equal(x->valid_until_ms, NOW + c.ttl_ms);
        assert_int_equal(ag_intel_indicator_validate(x, &err), 0);
    }
    assert_int_equal(imp.list.items[6].type, AG_INTEL_IPV6);
    assert_string_equal(imp.list.items[1].external_ref, "feed:firehol_level1 line 10");
    /* two junk lines, reported with their numbers */
    assert_int_equal(imp.nnotes, 2);
    assert_string_equal(imp.notes[0].where, "line 21");
    assert_non_null(strstr(imp.notes[0].reason, "300.1.2.3"));
    assert_string_equal(imp.notes[1].where, "line 22");
    assert_non_null(strstr(imp.notes[1].reason, "unexpected text"));
    /* ids are stable across fetches and differ between feeds */
    struct ag_intel_import again = {0};
    assert_int_equal(ag_intel_feed_parse(&c, text, len, NOW + 3600000, &again, &err), 0);
    assert_string_equal(again.list.items[3].id, imp.list.items[3].id);
    assert_int_equal(again.list.items[3].valid_until_ms, NOW + 3600000 + c.ttl_ms);
    ag_intel_import_free(&again);
    config(&c, "other_list", AG_INTEL_FEED_NETSET);
    assert_int_equal(ag_intel_feed_parse(&c, text, len, NOW, &again, &err), 0);
    assert_string_not_equal(again.list.items[3].id, imp.list.items[3].id);
    ag_intel_import_free(&again);
    /* strict: the first junk line rejects everything */
    c.strict = true;
    assert_int_equal(ag_intel_feed_parse(&c, text, len, NOW, &again, &err), AG_EINVAL);
    assert_string_equal(err.field, "line 21");
    assert_int_equal(again.list.len, 0);
    ag_intel_import_free(&imp);
    free(text);
}

static void domains_and_urls(void **state)
{
    size_t len;
    char *text = read_data("domains_sample.txt", &len);
    struct ag_intel_feed_config c;
    config(&c, "phish_domains", AG_INTEL_FEED_DOMAINS);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    assert_int_equal(ag_intel_feed_parse(&c, text, len, NOW, &imp, &err), 0);
    free(text);
    const char *want[] = {"evil.example", "xn--mnchen-bank-thb.example", "wild.example",
                          "dot.example", "plain.example"};
    assert_int_equal(imp.list.len, AG_ARRAY_LEN(want));
    for (size_t i = 0; i < AG_ARRAY_LEN(want); i++) {
        assert_int_equal(imp.list.items[i].type, AG_INTEL_DOMAIN);
        assert_string_equal(imp.list.items[i].value, want[i]);
    }
    assert_int_equal(imp.nnotes, 2);
    assert_string_equal(imp.notes[0].where, "line 8");
    assert_string_equal(imp.notes[1].where, "line 9");
    ag_intel_import_free(&imp);

    config(&c, "phish_urls", AG_INTEL_FEED_URLS);
    const char *urls = "https://Evil.example/login\r\n\r\nhttp://x.example:80/a/../b # note\n";
    assert_int_equal(ag_intel_feed_parse(&c, urls, strlen(urls), NOW, &imp, &err), 0);
    assert_int_equal(imp.list.len, 2);
    assert_string_equal(imp.list.items[0].value, "https://evil.example/login");
    assert_string_equal(imp.list.items[1].value, "http://x.example/b");
    assert_int_equal(imp.nnotes, 0);
    ag_intel_import_free(&imp);
}

static void wrong_format(void **state)
{
    struct ag_intel_feed_config c;
    config(&c, "x", AG_INTEL_FEED_NETSET);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    const char *html = "  <!DOCTYPE html><html><body>502 Bad Gateway</body></html>\n";
    assert_int_equal(ag_intel_feed_parse(&c, html, strlen(html), NOW, &imp, &err), AG_EINVAL);
    assert_string_equal(err.slug, "wrong_format");
    /* a domain list fed to a netset: mostly junk, refused whole */
    struct ag_buf b = {0};
    for (int i = 0; i < 30; i++)
        ag_buf_printf(&b, "host%d.example\n", i);
    ag_buf_printf(&b, "10.0.0.1\n");
    assert_int_equal(ag_intel_feed_parse(&c, b.data, b.len, NOW, &imp, &err), AG_EINVAL);
    assert_string_equal(err.slug, "wrong_format");
    assert_int_equal(imp.list.len, 0);
    ag_buf_free(&b);
    /* NUL bytes are junk, not silently truncated lines */
    const char nul[] = "10.0.0.1\n10.0.0.2\0junk\n10.0.0.3\n";
    assert_int_equal(ag_intel_feed_parse(&c, nul, sizeof nul - 1, NOW, &imp, &err), 0);
    assert_int_equal(imp.list.len, 2);
    assert_int_equal(imp.nnotes, 1);
    assert_string_equal(imp.notes[0].where, "line 2");
    ag_intel_import_free(&imp);
    /* empty feed: fine, nothing */
    assert_int_equal(ag_intel_feed_parse(&c, "", 0, NOW, &imp, &err), 0);
    assert_int_equal(imp.list.len, 0);
}

static void config_json(void **state)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:b}", "name", "spamhaus_drop", "format",
                          "netset", "url", "https://www.spamhaus.org/drop/drop.txt", "interval_s",
                          43200, "ttl_s", 172800, "tlp", "green", "informational", 0);
    struct ag_intel_feed_config c;
    struct ag_err err = {0};
    assert_int_equal(ag_intel_feed_config_from_json(o, &c, &err), 0);
    json_decref(o);
    assert_int_equal(c.interval_ms, 43200000);
    assert_int_equal(c.tlp, AG_INTEL_TLP_GREEN);
    json_t *j = ag_intel_feed_config_to_json(&c);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "feed:spamhaus_drop");
    assert_string_equal(json_string_value(json_object_get(j, "description")),
                        "netset from https://www.spamhaus.org/drop/drop.txt, every 12h, entries "
                        "live 2d, confidence 50, TLP:GREEN, junk lines skipped");
    struct ag_intel_feed_config back;
    json_object_del(j, "source");
    json_object_del(j, "description");
    assert_int_equal(ag_intel_feed_config_from_json(j, &back, &err), 0);
    assert_memory_equal(&back, &c, sizeof c);
    json_decref(j);

    const struct {
        const char *text, *field;
    } bad[] = {
        {"{\"format\":\"netset\",\"url\":\"https://x/\"}", "name"},
        {"{\"name\":\"Bad Name\",\"format\":\"netset\",\"url\":\"https://x/\"}", "name"},
        {"{\"name\":\"a\",\"format\":\"csv\",\"url\":\"https://x/\"}", "format"},
        {"{\"name\":\"a\",\"format\":\"netset\",\"url\":\"gopher://x/\"}", "url"},
        {"{\"name\":\"a\",\"format\":\"netset\",\"url\":\"https://x/\",\"interval_s\":5}",
         "interval_s"},
        {"{\"name\":\"a\",\"format\":\"netset\",\"url\":\"https://x/\",\"interval_s\":7200,"
         "\"ttl_s\":3600}",
         "ttl_s"},
        {"{\"name\":\"a\",\"format\":\"netset\",\"url\":\"https://x/\",\"tlp\":\"blue\"}", "tlp"},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++) {
        json_t *b = json_loads(bad[i].text, 0, NULL);
        assert_int_equal(ag_intel_feed_config_from_json(b, &c, &err), AG_EINVAL);
        if (strcmp(err.field, bad[i].field) != 0)
            fail_msg("%s: field %s, want %s", bad[i].text, err.field, bad[i].field);
        json_decref(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(netset),
        cmocka_unit_test(domains_and_urls),
        cmocka_unit_test(wrong_format),
        cmocka_unit_test(config_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
