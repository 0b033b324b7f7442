/* Unit tests for src/intel/indicator.c: normalisation per type, validation
 * errors that name the field, ids, the financial fingerprint, JSON shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/timeutil.h"
#include "core/util.h"
#include "intel/indicator.h"

#include <stdio.h>
#include <string.h>

static void norm_ok(enum ag_intel_type t, const char *in, const char *want)
{
    char out[AG_INTEL_VALUE_MAX + 1];
    struct ag_err err = {0};
    int rc = ag_intel_value_normalize(t, in, out, sizeof out, "value", &err);
    if (rc != 0)
        fail_msg("normalize(%s, \"%s\") failed: %s", ag_intel_type_name(t), in, err.msg);
    if (strcmp(out, want) != 0)
        fail_msg("normalize(%s, \"%s\") = \"%s\", want \"%s\"", ag_intel_type_name(t), in, out,
                 want);
}

static void norm_bad(enum ag_intel_type t, const char *in)
{
    char out[AG_INTEL_VALUE_MAX + 1];
    struct ag_err err = {0};
    if (ag_intel_value_normalize(t, in, out, sizeof out, "value", &err) != AG_EINVAL)
        fail_msg("normalize(%s, \"%s\") accepted it as \"%s\"", ag_intel_type_name(t), in, out);
    assert_string_equal(err.field, "value");
    assert_true(err.msg[0] != '\0');
}

static void normalize_ip(void **state)
{
    norm_ok(AG_INTEL_IPV4, "203.0.113.7", "203.0.113.7");
    norm_ok(AG_INTEL_IPV4, "203.0.113.7/32", "203.0.113.7");
    norm_ok(AG_INTEL_IPV4, "198.51.100.77/24", "198.51.100.0/24");
    norm_ok(AG_INTEL_IPV4, "0.0.0.0/0", "0.0.0.0/0");
    norm_ok(AG_INTEL_IPV4, "10.255.255.255/8", "10.0.0.0/8");
    norm_ok(AG_INTEL_IPV4, "::ffff:203.0.113.7", "203.0.113.7");
    norm_ok(AG_INTEL_IPV6, "2001:DB8:0:0::1", "2001:db8::1");
    norm_ok(AG_INTEL_IPV6, "2001:db8::1/128", "2001:db8::1");
    norm_ok(AG_INTEL_IPV6, "2001:db8:ffff::/32", "2001:db8::/32");
    norm_ok(AG_INTEL_IPV6, "::/0", "::/0");
    norm_bad(AG_INTEL_IPV4, "203.0.113.256");
    norm_bad(AG_INTEL_IPV4, "203.0.113.7/33");
    norm_bad(AG_INTEL_IPV4, "203.0.113.7/");
    norm_bad(AG_INTEL_IPV4, "203.0.113.7/-1");
    norm_bad(AG_INTEL_IPV4, "010.0.0.1");
    norm_bad(AG_INTEL_IPV4, "2001:db8::1"); /* family does not match the type */
    norm_bad(AG_INTEL_IPV6, "2001:db8::1/129");
    norm_bad(AG_INTEL_IPV6, "example.com");
}

static void normalize_domain(void **state)
{
    norm_ok(AG_INTEL_DOMAIN, "Example.COM.", "example.com");
    norm_ok(AG_INTEL_DOMAIN, "münchen.example", "xn--mnchen-3ya.example");
    norm_ok(AG_INTEL_DOMAIN, "MÜNCHEN.example", "xn--mnchen-3ya.example");
    norm_ok(AG_INTEL_DOMAIN, "xn--mnchen-3ya.example", "xn--mnchen-3ya.example");
    norm_ok(AG_INTEL_DOMAIN, "_dmarc.example.org", "_dmarc.example.org");
    norm_bad(AG_INTEL_DOMAIN, "");
    norm_bad(AG_INTEL_DOMAIN, "ex ample.com");
    norm_bad(AG_INTEL_DOMAIN, "a..b");
    norm_bad(AG_INTEL_DOMAIN, "-a.com");
    norm_bad(AG_INTEL_DOMAIN, "a-.com");
    norm_bad(AG_INTEL_DOMAIN, "xn--zz.com");
    norm_bad(AG_INTEL_DOMAIN, "evil.com/path");
    norm_bad(AG_INTEL_DOMAIN, "203.0.113.7");
    char longlabel[80];
    memset(longlabel, 'a', 64);
    strcpy(longlabel + 64, ".com");
    norm_bad(AG_INTEL_DOMAIN, longlabel);
}

static void normalize_other(void **state)
{
    norm_ok(AG_INTEL_URL, "HTTP://Example.COM:80/a/../b?q=1#frag", "http://example.com/b?q=1");
    norm_ok(AG_INTEL_URL, "evil.example/login", "http://evil.example/login");
    norm_ok(AG_INTEL_URL, "https://münchen.example/x", "https://xn--mnchen-3ya.example/x");
    norm_ok(AG_INTEL_URL, "http://[2001:DB8::1]:8080", "http://[2001:db8::1]:8080/");
    norm_ok(AG_INTEL_URL, "https://example.com:443/", "https://example.com/");
    norm_bad(AG_INTEL_URL, "http://a b/");
    norm_bad(AG_INTEL_URL, "http://");
    norm_ok(AG_INTEL_EMAIL, "Mule.Account@Example.COM", "mule.account@example.com");
    norm_ok(AG_INTEL_EMAIL, "x@münchen.example", "x@xn--mnchen-3ya.example");
    norm_bad(AG_INTEL_EMAIL, "no-at-sign");
    norm_bad(AG_INTEL_EMAIL, "@example.com");
    norm_bad(AG_INTEL_EMAIL, "a b@example.com");
    norm_bad(AG_INTEL_EMAIL, "a@bad..domain");
    norm_ok(AG_INTEL_PHONE, "+49 (151) 123-456.78", "+4915112345678");
    norm_ok(AG_INTEL_PHONE, "0044 20 7946 0958", "+442079460958");
    norm_bad(AG_INTEL_PHONE, "0151 12345678"); /* national format: no country code */
    norm_bad(AG_INTEL_PHONE, "+1234567890123456");
    norm_bad(AG_INTEL_PHONE, "+49 151 CALLME");
    norm_bad(AG_INTEL_PHONE, "+0123456789");
    norm_ok(AG_INTEL_DEVICE, "d_9fA3", "d_9fA3");
    norm_bad(AG_INTEL_DEVICE, "has space");
    norm_bad(AG_INTEL_DEVICE, "");
    norm_ok(AG_INTEL_FINANCIAL,
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    norm_bad(AG_INTEL_FINANCIAL, "e3b0c442");
    norm_bad(AG_INTEL_FINANCIAL,
             "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void guess_types(void **state)
{
    char out[AG_INTEL_VALUE_MAX + 1];
    enum ag_intel_type t;
    assert_int_equal(ag_intel_value_guess("198.51.100.0/24", &t, out, sizeof out, NULL, NULL), 0);
    assert_int_equal(t, AG_INTEL_IPV4);
    assert_int_equal(ag_intel_value_guess("2001:db8::/32", &t, out, sizeof out, NULL, NULL), 0);
    assert_int_equal(t, AG_INTEL_IPV6);
    assert_int_equal(ag_intel_value_guess("::ffff:10.0.0.1", &t, out, sizeof out, NULL, NULL), 0);
    assert_int_equal(t, AG_INTEL_IPV4);
    assert_string_equal(out, "10.0.0.1");
    assert_int_equal(ag_intel_value_guess("a@b.example", &t, out, sizeof out, NULL, NULL), 0);
    assert_int_equal(t, AG_INTEL_EMAIL);
    assert_int_equal(ag_intel_value_guess("https://x.example/", &t, out, sizeof out, NULL, NULL),
                     0);
    assert_int_equal(t, AG_INTEL_URL);
    assert_int_equal(ag_intel_value_guess("Bad.Example", &t, out, sizeof out, NULL, NULL), 0);
    assert_int_equal(t, AG_INTEL_DOMAIN);
    assert_string_equal(out, "bad.example");
}

static void financial(void **state)
{
    char a[65], b[65], c[65];
    struct ag_err err;
    /* The same IBAN written two ways gives one fingerprint. */
    assert_int_equal(ag_intel_financial_fingerprint("DE89 3704 0044 0532 0130 00", NULL, 0, a, &err),
                     0);
    assert_int_equal(ag_intel_financial_fingerprint("de89370400440532013000", NULL, 0, b, &err), 0);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 64);
    /* A keyed fingerprint differs from the plain one and between keys. */
    const uint8_t k1[] = "peer-group-secret-1", k2[] = "peer-group-secret-2";
    assert_int_equal(ag_intel_financial_fingerprint("DE89370400440532013000", k1, sizeof k1 - 1, c,
                                                    &err),
                     0);
    assert_string_not_equal(a, c);
    assert_int_equal(ag_intel_financial_fingerprint("DE89370400440532013000", k2, sizeof k2 - 1, b,
                                                    &err),
                     0);
    assert_string_not_equal(b, c);
    /* Wrong IBAN check digits, junk characters, too short. */
    assert_int_equal(ag_intel_financial_fingerprint("DE88370400440532013000", NULL, 0, a, &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "account");
    assert_int_equal(ag_intel_financial_fingerprint("1234_5678", NULL, 0, a, &err), AG_EINVAL);
    assert_int_equal(ag_intel_financial_fingerprint("12", NULL, 0, a, &err), AG_EINVAL);
    /* A plain account number (not IBAN-shaped) is fine. */
    assert_int_equal(ag_intel_financial_fingerprint("021000021-123456789", NULL, 0, a, &err), 0);
}

static void ids(void **state)
{
    char a[AG_INTEL_ID_LEN + 1], b[AG_INTEL_ID_LEN + 1];
    ag_intel_id_new(a);
    ag_intel_id_new(b);
    assert_string_not_equal(a, b);
    assert_true(ag_intel_stix_id_valid(a, "indicator"));
    ag_intel_id_derive("feed:x", "ipv4 1.2.3.4", a);
    ag_intel_id_derive("feed:x", "ipv4 1.2.3.4", b);
    assert_string_equal(a, b);
    assert_true(ag_intel_stix_id_valid(a, "indicator"));
    ag_intel_id_derive("feed:y", "ipv4 1.2.3.4", b);
    assert_string_not_equal(a, b);
    assert_false(ag_intel_stix_id_valid("indicator--1234", NULL));
    assert_false(ag_intel_stix_id_valid("indicator--33fe3b22-0201-67cf-85d0-97c02164528d", NULL));
    assert_false(ag_intel_stix_id_valid("indicator--33fe3b22-0201-47cf-c5d0-97c02164528d", NULL));
    assert_false(ag_intel_stix_id_valid("Indicator--33fe3b22-0201-47cf-85d0-97c02164528d", NULL));
    assert_false(ag_intel_stix_id_valid("identity--33fe3b22-0201-47cf-85d0-97c02164528d",
                                        "indicator"));
    assert_true(ag_intel_stix_id_valid("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
                                       NULL));
}

static void expect_json_error(const char *text, const char *field)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    assert_non_null(o);
    struct ag_intel_indicator ind;
    struct ag_err err = {0};
    int rc = ag_intel_indicator_from_json(o, "analyst", 1000, &ind, &err);
    if (rc != AG_EINVAL || strcmp(err.field, field) != 0)
        fail_msg("%s: rc %d field \"%s\" (%s), want field \"%s\"", text, rc, err.field, err.msg,
                 field);
    ag_intel_indicator_free(&ind);
    json_decref(o);
}

static void json_round_trip(void **state)
{
    const char *text =
        "{\"type\":\"domain\",\"value\":\"München.Example\",\"source\":\"analyst\","
        "\"confidence\":80,\"tlp\":\"TLP:AMBER+STRICT\",\"tags\":[\"phishing\",\"mule\"],"
        "\"description\":\"lookalike\",\"valid_from\":\"2026-01-01T00:00:00Z\","
        "\"valid_until\":\"2026-02-01T00:00:00Z\",\"informational\":true}";
    json_t *o = json_loads(text, 0, NULL);
    struct ag_intel_indicator ind, back;
    struct ag_err err = {0};
    int64_t now;
    ag_time_parse("2026-01-05T00:00:00Z", &now);
    assert_int_equal(ag_intel_indicator_from_json(o, "default", now, &ind, &err), 0);
    json_decref(o);
    assert_string_equal(ind.value, "xn--mnchen-3ya.example");
    assert_int_equal(ind.tlp, AG_INTEL_TLP_AMBER_STRICT);
    assert_int_equal(ind.ntags, 2);
    assert_true(ind.informational);
    assert_true(ag_intel_indicator_live(&ind, now));
    int64_t later;
    ag_time_parse("2026-02-01T00:00:00Z", &later);
    assert_false(ag_intel_indicator_live(&ind, later));
    assert_true(ag_intel_indicator_live(&ind, later - 1));
    json_t *j = ag_intel_indicator_to_json(&ind);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tlp")), "amber+strict");
    assert_true(json_is_null(json_object_get(j, "added")));
    assert_int_equal(ag_intel_indicator_from_json(j, "x", 0, &back, &err), 0);
    assert_string_equal(back.id, ind.id);
    assert_string_equal(back.value, ind.value);
    assert_string_equal(back.source, "analyst");
    assert_int_equal(back.confidence, 80);
    assert_int_equal(back.valid_until_ms, ind.valid_until_ms);
    assert_int_equal(back.created_ms, now);
    assert_string_equal(back.tags[1], "mule");
    json_decref(j);
    ag_intel_indicator_free(&back);
    ag_intel_indicator_free(&ind);
}

static void json_errors(void **state)
{
    expect_json_error("{\"value\":\"1.2.3.4\"}", "type");
    expect_json_error("{\"type\":\"ipv5\",\"value\":\"1.2.3.4\"}", "type");
    expect_json_error("{\"type\":\"ipv4\"}", "value");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.400\"}", "value");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"confidence\":101}", "confidence");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"tlp\":\"purple\"}", "tlp");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"tags\":[\"a\",3]}", "tags[1]");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"valid_until\":\"soon\"}",
                      "valid_until");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"valid_from\":"
                      "\"2026-01-02T00:00:00Z\",\"valid_until\":\"2026-01-01T00:00:00Z\"}",
                      "valid_until");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"id\":\"indicator--x\"}", "id");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"valid_untill\":null}",
                      "valid_untill");
    expect_json_error("{\"type\":\"ipv4\",\"value\":\"1.2.3.4\",\"source\":\"\"}", "source");
}

static void validate_fields(void **state)
{
    struct ag_intel_indicator ind;
    struct ag_err err;
    ag_intel_indicator_init(&ind);
    ag_intel_id_new(ind.id);
    assert_int_equal(ag_intel_indicator_set_value(&ind, AG_INTEL_IPV6, "::ffff:1.2.3.4", &err), 0);
    assert_int_equal(ind.type, AG_INTEL_IPV4); /* the family decides */
    assert_int_equal(ag_intel_indicator_validate(&ind, &err), AG_EINVAL);
    assert_string_equal(err.field, "source");
    ag_intel_indicator_set_str(&ind.source, "s");
    assert_int_equal(ag_intel_indicator_validate(&ind, &err), 0);
    /* A value changed behind the setter's back is caught. */
    ag_intel_indicator_set_str(&ind.value, "1.2.3.4/32");
    assert_int_equal(ag_intel_indicator_validate(&ind, &err), AG_EINVAL);
    assert_string_equal(err.field, "value");
    ag_intel_indicator_set_str(&ind.value, "1.2.3.4");
    ind.id[12] = 'Z';
    assert_int_equal(ag_intel_indicator_validate(&ind, &err), AG_EINVAL);
    assert_string_equal(err.field, "id");
    ag_intel_indicator_free(&ind);
}

/* Found by fuzz_intel_feed: a numeric host with a trailing dot normalized
 * to a URL that normalized differently again. Normalization is a fixed
 * point. */
static void url_normalization_is_stable(void **state)
{
    const char *inputs[] = {"http://1./", "http://127.0.0./x", "http://0x5./", "HTTP://Example.COM./a#f",
                            "example.com:80/path?q=1", "http://[2001:DB8::1]:8080/"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char once[600], twice[600];
        struct ag_err err;
        int rc = ag_intel_value_normalize(AG_INTEL_URL, inputs[i], once, sizeof once, "url", &err);
        if (rc)
            continue; /* refusing is fine; changing on every pass is not */
        assert_int_equal(ag_intel_value_normalize(AG_INTEL_URL, once, twice, sizeof twice, "url",
                                                  &err),
                         0);
        assert_string_equal(once, twice);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_ip),   cmocka_unit_test(normalize_domain),
        cmocka_unit_test(url_normalization_is_stable),
        cmocka_unit_test(normalize_other), cmocka_unit_test(guess_types),
        cmocka_unit_test(financial),      cmocka_unit_test(ids),
        cmocka_unit_test(json_round_trip), cmocka_unit_test(json_errors),
        cmocka_unit_test(validate_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
