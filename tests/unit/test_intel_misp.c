/* Unit tests for src/intel/misp.c: a realistic event imported attribute by
 * attribute, round trips MISP -> indicators -> MISP and indicators -> MISP ->
 * indicators, the list/response forms, and malformed documents rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "intel/misp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const struct ag_intel_indicator *find(const struct ag_intel_import *imp, const char *value)
{
    for (size_t i = 0; i < imp->list.len; i++)
        if (strcmp(imp->list.items[i].value, value) == 0)
            return &imp->list.items[i];
    fail_msg("no indicator %s", value);
    return NULL;
}

static bool noted(const struct ag_intel_import *imp, const char *what)
{
    for (size_t i = 0; i < imp->nnotes; i++)
        if (strstr(imp->notes[i].reason, what) || strstr(imp->notes[i].where, what))
            return true;
    return false;
}

static void import_event(void **state)
{
    size_t len;
    char *text = read_data("misp-event.json", &len);
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 1000);
    struct ag_intel_import imp = {0};
    struct ag_err err = {0};
    if (ag_intel_misp_import(text, len, &opts, &imp, &err))
        fail_msg("%s: %s", err.field, err.msg);
    free(text);
    assert_int_equal(imp.seen, 13);
    assert_int_equal(imp.list.len, 11);
    const struct ag_intel_indicator *i = find(&imp, "203.0.113.7");
    assert_int_equal(i->type, AG_INTEL_IPV4);
    assert_string_equal(i->id, "indicator--6d9c1f2e-3b4a-4c5d-8e7f-0a1b2c3d4e51");
    assert_string_equal(i->source, "misp:CIRCL");
    assert_string_equal(i->description, "login source");
    assert_int_equal(i->tlp, AG_INTEL_TLP_GREEN); /* from the event */
    assert_false(i->informational);
    assert_int_equal(i->created_ms, 1772438400000LL);
    assert_int_equal(i->ntags, 0); /* event tags set TLP only */
    assert_int_equal(find(&imp, "198.51.100.23")->type, AG_INTEL_IPV4); /* port dropped */
    i = find(&imp, "secure-login.example");
    assert_int_equal(i->tlp, AG_INTEL_TLP_AMBER); /* the attribute's own */
    assert_int_equal(i->ntags, 1);
    assert_string_equal(i->tags[0], "phishing");
    i = find(&imp, "cdn.xn--mnchen-3ya.example");
    assert_true(i->informational); /* to_ids false */
    find(&imp, "http://secure-login.example/verify?id=1");
    find(&imp, "support@secure-login.example");
    assert_true(find(&imp, "+442079460958")->informational);
    char fp[65];
    ag_intel_financial_fingerprint("GB82WEST12345698765432", NULL, 0, fp, NULL);
    assert_int_equal(find(&imp, fp)->type, AG_INTEL_FINANCIAL);
    ag_intel_financial_fingerprint("12345678", NULL, 0, fp, NULL);
    find(&imp, fp); /* inside a MISP object */
    /* domain|ip gives two, the second with a derived id */
    const struct ag_intel_indicator *d = find(&imp, "pay.example"), *ip = find(&imp, "2001:db8::66");
    assert_string_equal(d->id, "indicator--6d9c1f2e-3b4a-4c5d-8e7f-0a1b2c3d4e59");
    assert_string_not_equal(ip->id, d->id);
    assert_int_equal(ip->type, AG_INTEL_IPV6);
    assert_true(noted(&imp, "md5 is not supported"));
    assert_true(noted(&imp, "not-an-ip"));
    assert_true(noted(&imp, "deleted"));
    ag_intel_import_free(&imp);
}

static void round_trip_misp_first(void **state)
{
    size_t len;
    char *text = read_data("misp-event.json", &len);
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 1000);
    struct ag_intel_import a = {0}, b = {0};
    struct ag_err err = {0};
    assert_int_equal(ag_intel_misp_import(text, len, &opts, &a, &err), 0);
    free(text);
    struct ag_intel_misp_event_opts eo = {.info = "re-export", .org_name = "accountguard",
                                          .date_ms = 1772438400000LL};
    json_t *ev = ag_intel_misp_event_export(a.list.items, a.list.len, &eo, &err);
    assert_non_null(ev);
    json_t *attrs = json_object_get(json_object_get(ev, "Event"), "Attribute");
    assert_int_equal(json_array_size(attrs), a.list.len);
    /* to_ids kept on the way out */
    size_t k;
    json_t *at;
    json_array_foreach(attrs, k, at) {
        assert_int_equal(json_is_true(json_object_get(at, "to_ids")),
                         !a.list.items[k].informational);
        assert_string_equal(json_string_value(json_object_get(at, "value")),
                            a.list.items[k].value);
    }
    char *out = json_dumps(ev, 0);
    json_decref(ev);
    assert_int_equal(ag_intel_misp_import(out, strlen(out), &opts, &b, &err), 0);
    free(out);
    assert_int_equal(b.nnotes, 0);
    assert_int_equal(b.list.len, a.list.len);
    for (size_t i = 0; i < a.list.len; i++) {
        const struct ag_intel_indicator *x = &a.list.items[i], *y = &b.list.items[i];
        assert_string_equal(x->id, y->id);
        assert_int_equal(x->type, y->type);
        assert_string_equal(x->value, y->value);
        assert_string_equal(x->source, y->source);
        assert_int_equal(x->tlp, y->tlp);
        assert_int_equal(x->informational, y->informational);
        assert_int_equal(x->confidence, y->confidence);
        assert_int_equal(x->ntags, y->ntags);
    }
    ag_intel_import_free(&a);
    ag_intel_import_free(&b);
}

static void round_trip_indicators_first(void **state)
{
    struct ag_intel_list l = {0};
    const struct {
        enum ag_intel_type t;
        const char *v;
    } vals[] = {
        {AG_INTEL_IPV4, "198.51.100.0/24"}, {AG_INTEL_IPV6, "2001:db8::/48"},
        {AG_INTEL_DEVICE, "d_77"},
        {AG_INTEL_FINANCIAL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(vals); i++) {
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        ag_intel_id_new(ind.id);
        assert_int_equal(ag_intel_indicator_set_value(&ind, vals[i].t, vals[i].v, NULL), 0);
        ag_intel_indicator_set_str(&ind.source, "feed:firehol_level1");
        ag_intel_indicator_add_tag(&ind, "botnet");
        ind.confidence = 65;
        ind.tlp = AG_INTEL_TLP_RED;
        ind.valid_from_ms = 1772438400123LL;
        ind.valid_until_ms = 1772438400123LL + 86400000;
        ind.created_ms = ind.modified_ms = 1772438400000LL;
        ind.informational = i == 1;
        ag_intel_list_push_move(&l, &ind);
    }
    struct ag_err err;
    json_t *ev = ag_intel_misp_event_export(l.items, l.len, NULL, &err);
    char *out = json_dumps(ev, 0);
    json_decref(ev);
    struct ag_intel_import_opts opts;
    ag_intel_import_opts_init(&opts, 1000);
    struct ag_intel_import b = {0};
    assert_int_equal(ag_intel_misp_import(out, strlen(out), &opts, &b, &err), 0);
    free(out);
    assert_int_equal(b.list.len, l.len);
    for (size_t i = 0; i < l.len; i++) {
        const struct ag_intel_indicator *x = &l.items[i], *y = &b.list.items[i];
        assert_string_equal(x->id, y->id);
        assert_int_equal(x->type, y->type);
        assert_string_equal(x->value, y->value);
        assert_string_equal(x->source, y->source);
        assert_int_equal(x->confidence, y->confidence);
        assert_int_equal(x->tlp, y->tlp);
        assert_int_equal(x->valid_from_ms, y->valid_from_ms);
        assert_int_equal(x->valid_until_ms, y->valid_until_ms);
        assert_int_equal(x->informational, y->informational);
        assert_int_equal(y->ntags, 1);
        assert_string_equal(y->tags[0], "botnet");
    }
    ag_intel_import_free(&b);
    ag_intel_list_free(&l);
}

static void other_forms(void **state)
{
    const char *forms[] = {
        "[{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\"}]}}]",
        "{\"response\":[{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\"}]}}]}",
        "{\"response\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\","
        "\"to_ids\":\"0\"}]}}",
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(forms); i++) {
        struct ag_intel_import_opts opts;
        ag_intel_import_opts_init(&opts, 1000);
        opts.source = "misp:peer";
        struct ag_intel_import imp = {0};
        struct ag_err err = {0};
        if (ag_intel_misp_import(forms[i], strlen(forms[i]), &opts, &imp, &err))
            fail_msg("form %zu: %s %s", i, err.field, err.msg);
        assert_int_equal(imp.list.len, 1);
        assert_string_equal(imp.list.items[0].source, "misp:peer");
        assert_int_equal(imp.list.items[0].informational, i == 2);
        assert_int_equal(imp.list.items[0].created_ms, 1000);
        ag_intel_import_free(&imp);
    }
}

static void malformed(void **state)
{
    const struct {
        const char *text, *field;
    } cases[] = {
        {"{\"Event\":", ""},
        {"{\"foo\":1}", ""},
        {"{\"Event\":{\"Attribute\":{}}}", "Event.Attribute"},
        {"{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\"},"
         "{\"type\":\"domain\"}]}}",
         "Event.Attribute[1].value"},
        {"{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\","
         "\"uuid\":\"xyz\"}]}}",
         "Event.Attribute[0].uuid"},
        {"{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\","
         "\"timestamp\":\"yesterday\"}]}}",
         "Event.Attribute[0].timestamp"},
        {"[{\"Event\":{}},{\"NotEvent\":{}}]", "[1]"},
        {"{\"response\":[{\"Event\":{\"Tag\":[\"tlp:red\"]}}]}", "response[0].Event.Tag"},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(cases); i++) {
        struct ag_intel_import_opts opts;
        ag_intel_import_opts_init(&opts, 1000);
        struct ag_intel_import imp = {0};
        struct ag_err err = {0};
        if (ag_intel_misp_import(cases[i].text, strlen(cases[i].text), &opts, &imp, &err) !=
            AG_EINVAL)
            fail_msg("accepted %s", cases[i].text);
        if (strcmp(err.field, cases[i].field) != 0)
            fail_msg("%s: field \"%s\" (%s), want \"%s\"", cases[i].text, err.field, err.msg,
                     cases[i].field);
        assert_int_equal(imp.list.len, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(import_event),
        cmocka_unit_test(round_trip_misp_first),
        cmocka_unit_test(round_trip_indicators_first),
        cmocka_unit_test(other_forms),
        cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
