/* Unit tests for src/intel/taxii.c, written as a TAXII 2.1 client would
 * read the responses: paging with limit/next until more is false, added_after
 * with the X-TAXII-Date-Added-Last value, match filters, manifests,
 * versions, the resources' required members and the Accept header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "intel/stix.h"
#include "intel/taxii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1772438400000LL
#define N 25

static struct ag_intel_list coll;

static int make(void **state)
{
    for (int i = 0; i < N; i++) {
        struct ag_intel_indicator ind;
        ag_intel_indicator_init(&ind);
        ag_intel_id_new(ind.id);
        char v[32];
        snprintf(v, sizeof v, "192.0.2.%d", i);
        assert_int_equal(ag_intel_indicator_set_value(&ind, AG_INTEL_IPV4, v, NULL), 0);
        ag_intel_indicator_set_str(&ind.source, "s");
        ind.created_ms = ind.modified_ms = ind.valid_from_ms = T0 - 1000;
        /* added in bursts of three with the same millisecond: ties broken by id */
        ind.added_ms = T0 + (i / 3) * 1000;
        ag_intel_list_push_move(&coll, &ind);
    }
    return 0;
}

static int drop(void **state)
{
    ag_intel_list_free(&coll);
    return 0;
}

static struct ag_intel_taxii_page get(const char *added_after, const char *limit,
                                      const char *next, const char *match_id,
                                      const char *match_type, const char *match_version)
{
    struct ag_intel_taxii_filter f;
    struct ag_err err = {0};
    if (ag_intel_taxii_filter_parse(added_after, limit, next, match_id, match_type,
                                    match_version, NULL, &f, &err))
        fail_msg("filter: %s", err.msg);
    struct ag_intel_taxii_page p;
    if (ag_intel_taxii_objects(coll.items, coll.len, &f, "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f",
                               &p, &err))
        fail_msg("objects: %s", err.msg);
    return p;
}

static void paging(void **state)
{
    char seen[N] = {0};
    char next[AG_INTEL_TAXII_CURSOR_MAX] = "";
    int pages = 0;
    char prev_last[40] = "";
    for (;;) {
        struct ag_intel_taxii_page p = get(NULL, "7", next[0] ? next : NULL, NULL, NULL, NULL);
        pages++;
        json_t *objs = json_object_get(p.body, "objects");
        assert_int_equal(json_array_size(objs), p.count);
        assert_int_equal(json_is_true(json_object_get(p.body, "more")), p.more);
        /* the page's first date is not before the previous page's last */
        assert_true(strcmp(p.date_added_first, prev_last) >= 0);
        strcpy(prev_last, p.date_added_last);
        size_t k;
        json_t *o;
        json_array_foreach(objs, k, o) {
            const char *id = json_string_value(json_object_get(o, "id"));
            int found = -1;
            for (int i = 0; i < N; i++)
                if (strcmp(coll.items[i].id, id) == 0)
                    found = i;
            assert_true(found >= 0);
            assert_false(seen[found]); /* never twice */
            seen[found] = 1;
            assert_string_equal(json_string_value(json_object_get(o, "type")), "indicator");
        }
        if (!p.more) {
            assert_null(json_object_get(p.body, "next"));
            json_decref(p.body);
            break;
        }
        assert_string_equal(json_string_value(json_object_get(p.body, "next")), p.next);
        strcpy(next, p.next);
        json_decref(p.body);
    }
    assert_int_equal(pages, 4); /* 7 + 7 + 7 + 4 */
    for (int i = 0; i < N; i++)
        assert_true(seen[i]);
}

static void added_after(void **state)
{
    /* the first page, then resume with added_after = X-TAXII-Date-Added-Last */
    struct ag_intel_taxii_page p = get(NULL, "5", NULL, NULL, NULL, NULL);
    assert_int_equal(p.count, 5);
    assert_string_equal(p.date_added_first, "2026-03-02T08:00:00.000000Z");
    assert_string_equal(p.date_added_last, "2026-03-02T08:00:01.000000Z");
    char last[40];
    strcpy(last, p.date_added_last);
    json_decref(p.body);
    p = get(last, NULL, NULL, NULL, NULL, NULL);
    /* strictly after: the burst at +1 s (3 objects) is not repeated */
    assert_int_equal(p.count, N - 6);
    assert_false(p.more);
    assert_string_equal(p.date_added_first, "2026-03-02T08:00:02.000000Z");
    json_decref(p.body);
    /* after the last object: an empty envelope without "objects" */
    p = get("2026-03-02T08:00:08.000Z", NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(p.count, 0);
    assert_null(json_object_get(p.body, "objects"));
    assert_false(json_is_true(json_object_get(p.body, "more")));
    assert_string_equal(p.date_added_first, "");
    json_decref(p.body);
    /* a bad timestamp is a 400 naming the parameter */
    struct ag_intel_taxii_filter f;
    struct ag_err err = {0};
    assert_int_equal(ag_intel_taxii_filter_parse("yesterday", NULL, NULL, NULL, NULL, NULL, NULL,
                                                 &f, &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "added_after");
    assert_int_equal(ag_intel_taxii_filter_parse(NULL, "0", NULL, NULL, NULL, NULL, NULL, &f, &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "limit");
    assert_int_equal(ag_intel_taxii_filter_parse(NULL, "100000", NULL, NULL, NULL, NULL, NULL, &f,
                                                 &err),
                     0);
    assert_int_equal(f.limit, AG_INTEL_TAXII_PAGE_MAX);
    /* a forged cursor is refused */
    assert_int_equal(ag_intel_taxii_filter_parse(NULL, NULL, "abc", NULL, NULL, NULL, NULL, &f, &err),
                     0);
    struct ag_intel_taxii_page q;
    assert_int_equal(ag_intel_taxii_objects(coll.items, coll.len, &f, NULL, &q, &err), AG_EINVAL);
    assert_string_equal(err.field, "next");
}

static void stable_cursor(void **state)
{
    /* objects added between two pages neither shift nor repeat the walk */
    struct ag_intel_taxii_page p = get(NULL, "10", NULL, NULL, NULL, NULL);
    char next[AG_INTEL_TAXII_CURSOR_MAX];
    strcpy(next, p.next);
    json_decref(p.body);
    struct ag_intel_indicator ind;
    ag_intel_indicator_init(&ind);
    ag_intel_id_new(ind.id);
    ag_intel_indicator_set_value(&ind, AG_INTEL_DOMAIN, "late.example", NULL);
    ag_intel_indicator_set_str(&ind.source, "s");
    ind.created_ms = ind.modified_ms = T0;
    ind.added_ms = T0 + 60000;
    ag_intel_list_push_move(&coll, &ind);
    p = get(NULL, NULL, next, NULL, NULL, NULL);
    assert_int_equal(p.count, N - 10 + 1);
    json_t *objs = json_object_get(p.body, "objects");
    assert_string_equal(json_string_value(json_object_get(json_array_get(objs, p.count - 1), "id")),
                        coll.items[N].id);
    json_decref(p.body);
}

static void filters_manifest_versions(void **state)
{
    char ids[200];
    snprintf(ids, sizeof ids, "%s,%s", coll.items[4].id, coll.items[17].id);
    struct ag_intel_taxii_page p = get(NULL, NULL, NULL, ids, NULL, NULL);
    assert_int_equal(p.count, 2);
    json_decref(p.body);
    p = get(NULL, NULL, NULL, NULL, "malware,identity", NULL);
    assert_int_equal(p.count, 0);
    json_decref(p.body);
    p = get(NULL, NULL, NULL, NULL, "indicator", "last");
    assert_int_equal(p.count, N);
    json_decref(p.body);
    p = get(NULL, NULL, NULL, NULL, NULL, "2026-03-02T07:59:59.000Z");
    assert_int_equal(p.count, N); /* every object's one version */
    json_decref(p.body);
    p = get(NULL, NULL, NULL, NULL, NULL, "2020-01-01T00:00:00.000Z");
    assert_int_equal(p.count, 0);
    json_decref(p.body);

    struct ag_intel_taxii_filter f;
    struct ag_err err = {0};
    assert_int_equal(ag_intel_taxii_filter_parse(NULL, "2", NULL, NULL, NULL, NULL, NULL, &f, &err),
                     0);
    assert_int_equal(ag_intel_taxii_manifest(coll.items, coll.len, &f, &p, &err), 0);
    assert_true(p.more);
    json_t *rec = json_array_get(json_object_get(p.body, "objects"), 0);
    const char *keys[] = {"id", "date_added", "version", "media_type"};
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++)
        assert_true(json_is_string(json_object_get(rec, keys[i])));
    assert_string_equal(json_string_value(json_object_get(rec, "media_type")),
                        AG_INTEL_STIX_MEDIA_TYPE);
    assert_string_equal(json_string_value(json_object_get(rec, "version")),
                        "2026-03-02T07:59:59.000Z");
    json_decref(p.body);

    assert_int_equal(ag_intel_taxii_versions(coll.items, coll.len, coll.items[3].id, NULL, &p, &err),
                     0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(p.body, "versions"), 0)),
                        "2026-03-02T07:59:59.000Z");
    json_decref(p.body);
    assert_int_equal(ag_intel_taxii_versions(coll.items, coll.len,
                                             "indicator--00000000-0000-4000-8000-000000000000",
                                             NULL, &p, &err),
                     AG_ENOTFOUND);
}

static void resources(void **state)
{
    const char *roots[] = {"https://intel.example/api1/"};
    struct ag_intel_taxii_server s = {.title = "accountguard TAXII", .api_roots = roots,
                                      .n_api_roots = 1, .default_api_root = roots[0]};
    json_t *d = ag_intel_taxii_discovery(&s);
    assert_string_equal(json_string_value(json_object_get(d, "title")), "accountguard TAXII");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "api_roots"), 0)),
                        roots[0]);
    assert_string_equal(json_string_value(json_object_get(d, "default")), roots[0]);
    json_decref(d);
    struct ag_intel_taxii_api_root r = {.title = "api1", .max_content_length = 10485760};
    json_t *a = ag_intel_taxii_api_root(&r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "versions"), 0)),
                        "application/taxii+json;version=2.1");
    assert_int_equal(json_integer_value(json_object_get(a, "max_content_length")), 10485760);
    json_decref(a);
    struct ag_intel_taxii_collection c = {.id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
                                          .title = "accountguard indicators", .can_read = true};
    json_t *cs = ag_intel_taxii_collections(&c, 1);
    json_t *c0 = json_array_get(json_object_get(cs, "collections"), 0);
    assert_true(json_is_true(json_object_get(c0, "can_read")));
    assert_true(json_is_false(json_object_get(c0, "can_write")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(c0, "media_types"), 0)),
                        "application/stix+json;version=2.1");
    json_decref(cs);
    cs = ag_intel_taxii_collections(NULL, 0);
    assert_int_equal(json_object_size(cs), 0);
    json_decref(cs);
    json_t *e = ag_intel_taxii_error("Bad request", "added_after is not a timestamp", 400);
    assert_string_equal(json_string_value(json_object_get(e, "http_status")), "400");
    json_decref(e);

    assert_true(ag_intel_taxii_accept_ok("application/taxii+json;version=2.1"));
    assert_true(ag_intel_taxii_accept_ok("application/taxii+json; version=2.1"));
    assert_true(ag_intel_taxii_accept_ok("text/html, application/taxii+json"));
    assert_false(ag_intel_taxii_accept_ok("application/json"));
    assert_false(ag_intel_taxii_accept_ok("application/taxii+json;version=2.0"));
    assert_true(ag_intel_taxii_accept_ok(NULL));

    struct ag_intel_import imp = {0};
    ag_intel_list_push_copy(&imp.list, &coll.items[0]);
    ag_intel_import_note(&imp, "indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
                         "object path file:name is not supported");
    json_t *st = ag_intel_taxii_status("2d086da7-4bdc-4f91-900e-d77486753710", T0, 2, &imp);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "failure_count")), 1);
    assert_string_equal(json_string_value(json_object_get(st, "status")), "complete");
    json_decref(st);
    ag_intel_import_free(&imp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(paging, make, drop),
        cmocka_unit_test_setup_teardown(added_after, make, drop),
        cmocka_unit_test_setup_teardown(stable_cursor, make, drop),
        cmocka_unit_test_setup_teardown(filters_manifest_versions, make, drop),
        cmocka_unit_test_setup_teardown(resources, make, drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
