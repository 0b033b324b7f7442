/* Unit tests for src/intel/stix.c: the pattern parser, round trips
 * indicators -> STIX -> indicators, schema validation of exported bundles with
 * ajv (node, tests/node), the OASIS example bundles, and malformed bundles
 * rejected with a precise error and nothing imported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "core/util.h"
#include "intel/stix.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *src_dir(void)
{
    const char *s = getenv("AG_SOURCE_DIR");
    return s && *s ? s : AG_SOURCE_DIR;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct ag_buf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        ag_buf_append(&b, tmp, n);
    fclose(f);
    ag_buf_append(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

/* ---- the pattern parser ---- */

static void expect_terms(const char *pattern, const char *want)
{
    struct ag_intel_stix_term *t;
    size_t n;
    struct ag_err err = {0};
    if (ag_intel_stix_pattern_map(pattern, &t, &n, &err) != 0)
        fail_msg("%s: %s", pattern, err.msg);
    /* render as "type=value;type=value;!reason;" */
    struct ag_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (t[i].supported)
            ag_buf_printf(&b, "%s=%s;", ag_intel_type_name(t[i].type), t[i].value);
        else
            ag_buf_printf(&b, "!%s;", t[i].reason);
    }
    ag_buf_append(&b, "", 1);
    if (strcmp(b.data, want) != 0)
        fail_msg("%s\n  got  %s\n  want %s", pattern, b.data, want);
    ag_buf_free(&b);
    ag_intel_stix_terms_free(t, n);
}

static void expect_syntax_error(const char *pattern, const char *offset_text)
{
    struct ag_intel_stix_term *t;
    size_t n;
    struct ag_err err = {0};
    if (ag_intel_stix_pattern_map(pattern, &t, &n, &err) != AG_EINVAL)
        fail_msg("%s: parsed, expected a syntax error", pattern);
    if (!strstr(err.msg, offset_text))
        fail_msg("%s: \"%s\" lacks \"%s\"", pattern, err.msg, offset_text);
    assert_string_equal(err.field, "pattern");
}

static void patterns(void **state)
{
    expect_terms("[ipv4-addr:value = '203.0.113.7']", "ipv4=203.0.113.7;");
    expect_terms("[ ipv4-addr:value = '10.0.0.0' ]", "ipv4=10.0.0.0;");
    expect_terms("[ipv4-addr:value = '198.51.100.9/24']", "ipv4=198.51.100.0/24;");
    expect_terms("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "ipv4=198.51.100.0/24;");
    expect_terms("[ipv6-addr:value = '2001:DB8::1']", "ipv6=2001:db8::1;");
    expect_terms("[domain-name:value = 'Example.COM' OR ipv4-addr:value = '60.2.148.167']",
                 "domain=example.com;ipv4=60.2.148.167;");
    expect_terms("[domain-name:value = 'a.example'] OR [url:value = 'http://x.example/it\\'s']",
                 "domain=a.example;url=http://x.example/it's;");
    expect_terms("[email-addr:value IN ('a@x.example', 'B@x.example')]",
                 "email=a@x.example;email=b@x.example;");
    expect_terms("[email-message:from_ref.value = 'Boss@Corp.example']", "email=boss@corp.example;");
    expect_terms("[network-traffic:dst_ref.value = '2001:db8::5']", "ipv6=2001:db8::5;");
    expect_terms("[x-accountguard-phone-number:value = '+49 151 12345678']", "phone=+4915112345678;");
    expect_terms("[x-accountguard-device:value = 'd\\\\1']", "device=d\\1;");
    expect_terms("([domain-name:value = 'a.example'])", "domain=a.example;");
    /* unsupported, with reasons */
    expect_terms("[file:hashes.'SHA-256' = 'ef53']", "!object path file:hashes.'SHA-256' is not supported;");
    expect_terms("[file:hashes.md5 = 'x' OR ipv4-addr:value = '1.2.3.4']",
                 "!object path file:hashes.md5 is not supported;ipv4=1.2.3.4;");
    expect_terms("[x509-certificate:issuer = 'CN=A' AND x509-certificate:serial_number = '0e']",
                 "!comparisons joined with AND cannot be matched one value at a time;");
    expect_terms("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']",
                 "!observation expressions joined with AND are not supported;");
    expect_terms("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']",
                 "!FOLLOWEDBY sequences are not supported;");
    expect_terms("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS",
                 "!qualifiers (WITHIN, START/STOP, REPEATS) are not supported;");
    expect_terms("[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP "
                 "t'2016-07-01T00:00:00Z'",
                 "!qualifiers (WITHIN, START/STOP, REPEATS) are not supported;");
    expect_terms("[email-message:subject MATCHES '^[IMPORTANT]']",
                 "!object path email-message:subject is not supported;");
    expect_terms("[domain-name:value MATCHES 'evil']",
                 "!operator MATCHES on domain-name:value is not supported (only = and IN);");
    expect_terms("[domain-name:value NOT = 'a.example']",
                 "!NOT = on domain-name:value is not supported;");
    expect_terms("[domain-name:value = 'domain autuo.xicp.net']",
                 "!invalid domain value 'domain autuo.xicp.net': value contains spaces or "
                 "control characters;");
    expect_terms("[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final.+\\\\.exe$']",
                 "!object path email-message:body_multipart[*].body_raw_ref.name is not supported;");
    /* syntax errors carry the offset */
    expect_syntax_error("", "offset 0");
    expect_syntax_error("[ipv4-addr:value = '1.2.3.4'", "offset 28");
    expect_syntax_error("[ipv4-addr:value = '1.2.3.4]", "unterminated string");
    expect_syntax_error("[ipv4-addr:value = 'a\\b']", "invalid escape");
    expect_syntax_error("[ipv4-addr:value == '1.2.3.4']", "offset 17");
    expect_syntax_error("[ipv4-addr:value '1.2.3.4']", "comparison operator");
    expect_syntax_error("[ipv4-addr:value = '1.2.3.4'] junk", "offset 30");
    expect_syntax_error("ipv4-addr:value = '1.2.3.4'", "expected '[' or '('");
    /* a lexing error right after a literal (the literal must not leak) */
    expect_syntax_error("[ipv4-addr:value = '1.2.3.4' == ]", "'==' is not an operator");
    expect_syntax_error("[ipv4-addr:value IN ('1.2.3.4' !x)]", "expected '!='");
}

/* ---- export and round trip ---- */

static struct ag_intel_list sample;
static const struct ag_intel_stix_producer producer = {
    .identity_id = "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f",
    .name = "accountguard test",
    .created_ms = 1700000000000LL,
};

static void add(enum ag_intel_type t, const char *v, enum ag_intel_tlp tlp, bool info)
{
    struct ag_intel_indicator ind;
    struct ag_err err;
    ag_intel_indicator_init(&ind);
    ag_intel_id_new(ind.id);
    if (ag_intel_indicator_set_value(&ind, t, v, &err))
        fail_msg("%s: %s", v, err.msg);
    ag_intel_indicator_set_str(&ind.source, "analyst:it's");
    ag_intel_indicator_set_str(&ind.description, "seen in mule ring #7");
    ag_intel_indicator_set_str(&ind.external_ref, "case-123");
    ag_intel_indicator_add_tag(&ind, "mule");
    ag_intel_indicator_add_tag(&ind, "ring-7");
    ind.confidence = 70 + (int)sample.len;
    ind.tlp = tlp;
    ind.informational = info;
    ind.created_ms = 1700000000123LL;
    ind.modified_ms = 1700000500456LL;
    ind.valid_from_ms = 1700000000123LL;
    ind.valid_until_ms = sample.len % 2 ? 0 : 1800000000000LL;
    assert_int_equal(ag_intel_indicator_validate(&ind, &err), 0);
    ag_intel_list_push_move(&sample, &ind);
}

static int make_sample(void **state)
{
    char fp[65];
    ag_intel_financial_fingerprint("GB82WEST12345698765432", NULL, 0, fp, NULL);
    add(AG_INTEL_IPV4, "203.0.113.7", AG_INTEL_TLP_CLEAR, false);
    add(AG_INTEL_IPV4, "198.51.100.0/24", AG_INTEL_TLP_GREEN, false);
    add(AG_INTEL_IPV6, "2001:db8::/32", AG_INTEL_TLP_AMBER, false);
    add(AG_INTEL_DOMAIN, "münchen.example", AG_INTEL_TLP_AMBER_STRICT, false);
    add(AG_INTEL_URL, "https://evil.example/it's\\here?q='1'", AG_INTEL_TLP_RED, false);
    add(AG_INTEL_EMAIL, "mule@bank.example", AG_INTEL_TLP_AMBER, true);
    add(AG_INTEL_PHONE, "+4915112345678", AG_INTEL_TLP_AMBER, false);
    add(AG_INTEL_DEVICE, "d_9f3a", AG_INTEL_TLP_AMBER, false);
    add(AG_INTEL_FINANCIAL, fp, AG_INTEL_TLP_RED, false);
    return 0;
}

static int free_sample(void **state)
{
    ag_intel_list_free(&sample);
    return 0;
}

static char *export_text(void)
{
    struct ag_err err;
    json_t *b = ag_intel_stix_bundle_export(sample.items, sample.len, &producer, &err);
    assert_non_null(b);
    char *s = json_dumps(b, JSON_INDENT(1));
    json_decref(b);
    return s;
}

static void round_trip(void **state)
{
    char *text = export_text();
    assert_non_null(strstr(text, "[ipv4-addr:value = '198.51.100.0/24']"));
    assert_non_null(strstr(text, "[domain-name:value = 'xn--mnchen-3ya.example']"));
    assert_non_null(strstr(text, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"));
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 0);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    if (ag_intel_stix_import(text, strlen(text), &opts, &imp, &err))
        fail_msg("%s: %s", err.field, err.msg);
    assert_int_equal(imp.nnotes, 0);
    assert_int_equal(imp.list.len, sample.len);
    assert_int_equal(imp.seen, sample.len + 1 + 5); /* identity and five markings */
    for (size_t i = 0; i < sample.len; i++) {
        const struct ag_intel_indicator *a = &sample.items[i], *b = &imp.list.items[i];
        assert_string_equal(a->id, b->id);
        assert_int_equal(a->type, b->type);
        assert_string_equal(a->value, b->value);
        assert_string_equal(a->source, b->source);
        assert_int_equal(a->confidence, b->confidence);
        assert_int_equal(a->tlp, b->tlp);
        assert_int_equal(a->informational, b->informational);
        assert_int_equal(a->valid_from_ms, b->valid_from_ms);
        assert_int_equal(a->valid_until_ms, b->valid_until_ms);
        assert_int_equal(a->created_ms, b->created_ms);
        assert_int_equal(a->modified_ms, b->modified_ms);
        assert_string_equal(a->description, b->description);
        assert_string_equal(a->external_ref, b->external_ref);
        assert_int_equal(a->ntags, b->ntags);
        for (size_t t = 0; t < a->ntags; t++)
            assert_string_equal(a->tags[t], b->tags[t]);
    }
    ag_intel_import_free(&imp);
    free(text);
}

/* ---- schema validation with ajv ---- */

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void schema_validation(void **state)
{
    char node_dir[1024], cmd[8192], mods[1100];
    snprintf(node_dir, sizeof node_dir, "%s/tests/node", src_dir());
    snprintf(mods, sizeof mods, "%s/node_modules/ajv", node_dir);
    struct stat st;
    if (stat(mods, &st) != 0) {
        snprintf(cmd, sizeof cmd, "npm ci --silent --no-audit --no-fund --prefix '%s' >&2",
                 node_dir);
        if (run(cmd) != 0)
            fail_msg("npm ci in %s failed: node_modules are needed to validate STIX", node_dir);
    }
    char dir[] = "/tmp/ag-stix-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char good[1200], empty[1200], bad[1200];
    snprintf(good, sizeof good, "%s/export.json", dir);
    snprintf(empty, sizeof empty, "%s/one.json", dir);
    snprintf(bad, sizeof bad, "%s/broken.json", dir);
    char *text = export_text();
    write_file(good, text);
    free(text);
    /* one indicator only: the smallest bundle */
    json_t *b = ag_intel_stix_bundle_export(sample.items + 3, 1, &producer, NULL);
    text = json_dumps(b, 0);
    write_file(empty, text);
    free(text);
    /* the same, broken: a created time without milliseconds fails the schema,
     * which proves the validator can say no */
    json_t *objs = json_object_get(b, "objects");
    json_t *ind = json_array_get(objs, json_array_size(objs) - 1);
    json_object_set_new(ind, "created", json_string("2023-11-14T22:13:20Z"));
    text = json_dumps(b, 0);
    write_file(bad, text);
    free(text);
    json_decref(b);
    char schemas[1100];
    snprintf(schemas, sizeof schemas, "%s/../shared/stix2.1/schemas", src_dir());
    snprintf(cmd, sizeof cmd, "node '%s/validate-stix.mjs' --schemas '%s' '%s' '%s' >&2", node_dir,
             schemas, good, empty);
    int rc = run(cmd);
    snprintf(cmd, sizeof cmd,
             "node '%s/validate-stix.mjs' --schemas '%s' --expect-invalid '%s' >&2", node_dir,
             schemas, bad);
    int rc_bad = run(cmd);
    unlink(good);
    unlink(empty);
    unlink(bad);
    rmdir(dir);
    if (rc != 0)
        fail_msg("exported bundles do not validate against the STIX 2.1 schemas (exit %d)", rc);
    if (rc_bad != 0)
        fail_msg("the validator accepted a broken bundle (exit %d)", rc_bad);
}

/* ---- the OASIS examples ---- */

static size_t total_imported, total_notes, files_seen;

static void import_examples_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        stat(p, &st);
        if (S_ISDIR(st.st_mode)) {
            import_examples_in(p);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        size_t len;
        char *text = read_file(p, &len);
        assert_non_null(text);
        struct ag_intel_import_opts opts;
        ag_intel_import_opts_init(&opts, 0);
        struct ag_intel_import imp = {0};
        struct ag_err err = {0};
        if (ag_intel_stix_import(text, len, &opts, &imp, &err))
            fail_msg("%s: %s (%s)", p, err.msg, err.field);
        for (size_t i = 0; i < imp.nnotes; i++)
            assert_true(imp.notes[i].where[0] && imp.notes[i].reason[0]);
        for (size_t i = 0; i < imp.list.len; i++)
            assert_int_equal(ag_intel_indicator_validate(&imp.list.items[i], &err), 0);
        if (strcmp(e->d_name, "indicator-for-c2-ip-address.json") == 0) {
            assert_int_equal(imp.list.len, 1);
            assert_string_equal(imp.list.items[0].value, "10.0.0.0");
            assert_string_equal(imp.list.items[0].id,
                                "indicator--33fe3b22-0201-47cf-85d0-97c02164528d");
        }
        if (strcmp(e->d_name, "poisonivy.json") == 0) {
            bool reported = false;
            for (size_t i = 0; i < imp.nnotes; i++)
                reported |= strstr(imp.notes[i].reason, "domain autuo.xicp.net") != NULL;
            assert_true(reported);
        }
        total_imported += imp.list.len;
        total_notes += imp.nnotes;
        files_seen++;
        ag_intel_import_free(&imp);
        free(text);
    }
    closedir(d);
}

static void oasis_examples(void **state)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/../shared/stix2.1/examples", src_dir());
    import_examples_in(dir);
    assert_true(files_seen >= 8);
    assert_true(total_imported >= 40);
    assert_true(total_notes > 0);
}

/* ---- malformed input: rejected whole ---- */

#define IND_OBJ(extra)                                                                         \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","                                           \
    "\"id\":\"indicator--33fe3b22-0201-47cf-85d0-97c02164528d\","                                \
    "\"created\":\"2014-05-08T09:00:00.000Z\",\"modified\":\"2014-05-08T09:00:00.000Z\","        \
    "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","                 \
    "\"valid_from\":\"2014-05-08T09:00:00Z\"" extra "}"

static void expect_rejected(const char *text, const char *slug, const char *field)
{
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 0);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    int rc = ag_intel_stix_import(text, strlen(text), &opts, &imp, &err);
    if (rc != AG_EINVAL)
        fail_msg("accepted: %s", text);
    if (strcmp(err.field, field) != 0 || (slug && strcmp(err.slug, slug) != 0))
        fail_msg("%.80s...: slug %s field \"%s\" (%s), want %s \"%s\"", text, err.slug, err.field,
                 err.msg, slug ? slug : "*", field);
    assert_int_equal(imp.list.len, 0);
    assert_null(imp.list.items);
    assert_int_equal(imp.nnotes, 0);
}

static void malformed(void **state)
{
    char good_ind[1024], text[4096];
    snprintf(good_ind, sizeof good_ind, "%s", IND_OBJ(""));
    expect_rejected("{\"type\":\"bundle\",", "invalid_json", "");
    expect_rejected("[1,2]", "not_a_bundle", "");
    expect_rejected("{\"hello\":\"world\"}", "not_a_bundle", "type");
    snprintf(text, sizeof text,
             "{\"type\":\"bundle\",\"id\":\"bundle--nope\",\"objects\":[%s]}", good_ind);
    expect_rejected(text, "invalid_field", "id");
    snprintf(text, sizeof text,
             "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\","
             "\"objects\":{}}");
    expect_rejected(text, "invalid_field", "objects");
    /* a good indicator first and a bad object second: nothing imported */
#define heads                                                                                  \
    "{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\","               \
    "\"objects\":[%s,%s]}"
    char bad[1024];
    snprintf(bad, sizeof bad, "{\"type\":\"malware\",\"id\":\"malware--123\"}");
    snprintf(text, sizeof text, heads, good_ind, bad);
    expect_rejected(text, "invalid_field", "objects[1].id");
    snprintf(bad, sizeof bad, "%s", IND_OBJ(",\"valid_until\":\"2014-13-08T09:00:00Z\""));
    snprintf(text, sizeof text, heads, good_ind, bad);
    expect_rejected(text, "invalid_field", "objects[1].valid_until");
    snprintf(bad, sizeof bad, "%s", IND_OBJ(",\"valid_until\":\"2014-05-08T08:00:00Z\""));
    snprintf(text, sizeof text, heads, good_ind, bad);
    expect_rejected(text, "invalid_field", "objects[1].valid_until");
    snprintf(bad, sizeof bad, "%s", IND_OBJ(",\"confidence\":\"high\""));
    snprintf(text, sizeof text, heads, good_ind, bad);
    expect_rejected(text, "invalid_field", "objects[1].confidence");
    snprintf(bad, sizeof bad, "%s", IND_OBJ(",\"object_marking_refs\":[\"tlp:red\"]"));
    snprintf(text, sizeof text, heads, good_ind, bad);
    expect_rejected(text, "invalid_field", "objects[1].object_marking_refs");
    snprintf(text, sizeof text, heads, good_ind,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
             "\"indicator--33fe3b22-0201-47cf-85d0-97c02164528e\",\"created\":"
             "\"2014-05-08 09:00:00Z\",\"modified\":\"2014-05-08T09:00:00.000Z\"}");
    expect_rejected(text, "invalid_field", "objects[1].created");
    snprintf(text, sizeof text, heads, good_ind,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
             "\"indicator--33fe3b22-0201-47cf-85d0-97c02164528e\",\"created\":"
             "\"2014-05-08T09:00:00.000Z\",\"modified\":\"2014-05-08T09:00:00.000Z\","
             "\"pattern_type\":\"stix\",\"valid_from\":\"2014-05-08T09:00:00Z\"}");
    expect_rejected(text, "missing_field", "objects[1].pattern");

    /* the same bundle with both objects good imports both */
    snprintf(bad, sizeof bad, "%s", IND_OBJ(",\"labels\":[\"x\"]"));
    bad[strstr(bad, "528d") - bad + 3] = 'e';
    snprintf(text, sizeof text, heads, good_ind, bad);
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 0);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    if (ag_intel_stix_import(text, strlen(text), &opts, &imp, &err))
        fail_msg("%s %s", err.field, err.msg);
    assert_int_equal(imp.list.len, 2);
    assert_int_equal(imp.list.items[0].tlp, AG_INTEL_TLP_AMBER); /* opts default */
    ag_intel_import_free(&imp);
}

static void bare_object_and_envelope(void **state)
{
    char one[1024];
    snprintf(one, sizeof one, "%s",
             IND_OBJ(",\"object_marking_refs\":[\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\"]"));
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 0);
    opts.source = "taxii:peer";
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    assert_int_equal(ag_intel_stix_import(one, strlen(one), &opts, &imp, &err), 0);
    assert_int_equal(imp.list.len, 1);
    assert_int_equal(imp.list.items[0].tlp, AG_INTEL_TLP_GREEN); /* TLP 1.0 id */
    assert_string_equal(imp.list.items[0].source, "taxii:peer");
    ag_intel_import_free(&imp);
    char env[1200];
    snprintf(env, sizeof env, "{\"more\":false,\"objects\":[%s]}", one);
    assert_int_equal(ag_intel_stix_import(env, strlen(env), &opts, &imp, &err), 0);
    assert_int_equal(imp.list.len, 1);
    ag_intel_import_free(&imp);
    /* an OR pattern gives one indicator per value, with derived, stable ids */
    const char *orp = "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                      "\"id\":\"indicator--33fe3b22-0201-47cf-85d0-97c02164528d\","
                      "\"created\":\"2014-05-08T09:00:00.000Z\",\"modified\":"
                      "\"2014-05-08T09:00:00.000Z\",\"pattern\":\"[domain-name:value = 'a.example' "
                      "OR ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","
                      "\"valid_from\":\"2014-05-08T09:00:00Z\",\"indicator_types\":[\"benign\"]}";
    assert_int_equal(ag_intel_stix_import(orp, strlen(orp), &opts, &imp, &err), 0);
    assert_int_equal(imp.list.len, 2);
    assert_string_not_equal(imp.list.items[0].id, imp.list.items[1].id);
    assert_string_equal(imp.list.items[1].external_ref,
                        "indicator--33fe3b22-0201-47cf-85d0-97c02164528d");
    assert_true(imp.list.items[0].informational);
    char first_id[64];
    strcpy(first_id, imp.list.items[0].id);
    ag_intel_import_free(&imp);
    assert_int_equal(ag_intel_stix_import(orp, strlen(orp), &opts, &imp, &err), 0);
    assert_string_equal(imp.list.items[0].id, first_id);
    ag_intel_import_free(&imp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patterns),
        cmocka_unit_test_setup_teardown(round_trip, make_sample, free_sample),
        cmocka_unit_test_setup_teardown(schema_validation, make_sample, free_sample),
        cmocka_unit_test(oasis_examples),
        cmocka_unit_test(malformed),
        cmocka_unit_test(bare_object_and_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
