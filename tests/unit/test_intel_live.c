/* Unit tests for src/intel/live.c and fetch.c: an event's fields against a
 * live set (context IP and device, the documented properties, formatted
 * phone numbers, raw bank accounts fingerprinted, upper-case fingerprints),
 * labels per indicator, informational hits, expiry at the event's time, the
 * slot; the feed fetcher's file:// confinement and max_bytes; and the TAXII
 * status resource's status-details (id and version). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "intel/fetch.h"
#include "intel/live.h"
#include "intel/stix.h"
#include "intel/taxii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1700000000000LL

static struct ag_intel_list list;

static struct ag_intel_indicator *add(enum ag_intel_type t, const char *v, int conf, bool info,
                                      const char *tag)
{
    struct ag_intel_indicator ind;
    struct ag_err err;
    ag_intel_indicator_init(&ind);
    ag_intel_id_new(ind.id);
    if (ag_intel_indicator_set_value(&ind, t, v, &err))
        fail_msg("%s: %s", v, err.msg);
    ag_intel_indicator_set_str(&ind.source, "test");
    ind.confidence = conf;
    ind.valid_from_ms = T0 - 1000;
    ind.informational = info;
    if (tag)
        ag_intel_indicator_add_tag(&ind, tag);
    assert_int_equal(ag_intel_list_push_move(&list, &ind), 0);
    return &list.items[list.len - 1];
}

static int teardown(void **state)
{
    ag_intel_list_free(&list);
    return 0;
}

static const struct ag_intel_event_hit *find(const struct ag_intel_event_hit *h, size_t n,
                                             const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(h[i].field, field))
            return &h[i];
    return NULL;
}

static void event_fields(void **state)
{
    char fp[65];
    assert_int_equal(ag_intel_financial_fingerprint("DE89 3704 0044 0532 0130 00", NULL, 0, fp, NULL), 0);
    add(AG_INTEL_IPV4, "198.51.100.0/24", 80, false, "botnet");
    add(AG_INTEL_DEVICE, "d_bad", 60, false, NULL);
    add(AG_INTEL_DOMAIN, "evil.example", 70, false, "phishing");
    add(AG_INTEL_PHONE, "+4915112345678", 50, false, NULL);
    add(AG_INTEL_FINANCIAL, fp, 90, false, "mule");
    add(AG_INTEL_EMAIL, "boss@corp.example", 40, true, "context-only");
    struct ag_intel_live *l;
    struct ag_err err;
    assert_int_equal(ag_intel_live_build(list.items, list.len, T0, &l, &err), 0);

    json_t *props = json_pack("{s:s, s:s, s:s, s:s, s:s}", "email", "x@login.evil.example",
                              "new_phone", "+49 151 1234-5678", "iban", "DE89370400440532013000",
                              "url", "https://ok.example/", "new_email", "Boss@Corp.example");
    struct ag_intel_event_hit hits[AG_INTEL_EVENT_HITS_MAX];
    size_t n = ag_intel_live_match_event(l, "198.51.100.255", "d_bad", props, T0, hits,
                                         AG_INTEL_EVENT_HITS_MAX);
    assert_int_equal(n, 6);
    const struct ag_intel_event_hit *h = find(hits, n, "context.ip");
    assert_non_null(h);
    assert_string_equal(h->hit.value, "198.51.100.0/24");
    const char *const *tags;
    size_t nt;
    ag_intel_live_labels(l, h->hit.id, &tags, &nt);
    assert_int_equal(nt, 1);
    assert_string_equal(tags[0], "botnet");
    assert_non_null(find(hits, n, "context.device_id"));
    h = find(hits, n, "properties.email"); /* by the address's domain */
    assert_non_null(h);
    assert_string_equal(h->hit.value, "evil.example");
    assert_non_null(find(hits, n, "properties.new_phone"));
    h = find(hits, n, "properties.iban");
    assert_non_null(h);
    assert_string_equal(h->seen, "(fingerprint)"); /* the account number is never echoed */
    h = find(hits, n, "properties.new_email");
    assert_non_null(h);
    assert_true(h->hit.informational);
    assert_null(find(hits, n, "properties.url"));
    json_decref(props);

    /* Neighbours of the network, other devices: nothing. */
    props = json_pack("{s:s, s:s}", "payout_fingerprint", "00", "domain", "notevil.example");
    n = ag_intel_live_match_event(l, "198.51.101.0", "d_good", props, T0, hits, 16);
    assert_int_equal(n, 0);
    json_decref(props);
    /* An upper-case fingerprint is the same fingerprint. */
    char up[65];
    for (int i = 0; i < 65; i++)
        up[i] = (char)(fp[i] >= 'a' && fp[i] <= 'f' ? fp[i] - 32 : fp[i]);
    props = json_pack("{s:s}", "bank_account_fingerprint", up);
    n = ag_intel_live_match_event(l, NULL, NULL, props, T0, hits, 16);
    assert_int_equal(n, 1);
    json_decref(props);
    ag_intel_live_unref(l);
}

static void expiry_and_slot(void **state)
{
    struct ag_intel_indicator *i = add(AG_INTEL_IPV6, "2001:db8::/32", 50, false, "x");
    i->valid_until_ms = T0 + 1000;
    add(AG_INTEL_IPV4, "203.0.113.7", 50, false, NULL)->valid_until_ms = T0 - 1;
    struct ag_intel_live *l;
    assert_int_equal(ag_intel_live_build(list.items, list.len, T0, &l, NULL), 0);
    struct ag_intel_event_hit hits[4];
    assert_int_equal(ag_intel_live_match_event(l, "2001:db8::1", NULL, NULL, T0, hits, 4), 1);
    assert_int_equal(ag_intel_live_match_event(l, "2001:db8::1", NULL, NULL, T0 + 1000, hits, 4), 0);
    assert_int_equal(ag_intel_live_match_event(l, "203.0.113.7", NULL, NULL, T0, hits, 4), 0);
    /* Expired at build: its labels are not kept either. */
    const char *const *tags;
    size_t nt;
    ag_intel_live_labels(l, list.items[1].id, &tags, &nt);
    assert_int_equal(nt, 0);

    struct ag_intel_live_slot slot;
    ag_intel_live_slot_init(&slot);
    assert_null(ag_intel_live_slot_acquire(&slot));
    ag_intel_live_slot_replace(&slot, l);
    struct ag_intel_live *got = ag_intel_live_slot_acquire(&slot);
    assert_ptr_equal(got, l);
    ag_intel_live_slot_replace(&slot, NULL); /* the reader's reference keeps it alive */
    assert_int_equal(ag_intel_live_match_event(got, "2001:db8::2", NULL, NULL, T0, hits, 4), 1);
    ag_intel_live_unref(got);
    ag_intel_live_slot_destroy(&slot);
    /* No set: no hits. */
    assert_int_equal(ag_intel_live_match_event(NULL, "2001:db8::2", NULL, NULL, T0, hits, 4), 0);
}

static void fetch_files(void **state)
{
    char root[] = "/tmp/agfetchXXXXXX";
    assert_non_null(mkdtemp(root));
    char feeds[128], inside[160], outside[160], url[256];
    snprintf(feeds, sizeof feeds, "%s/feeds", root);
    mkdir(feeds, 0700);
    snprintf(inside, sizeof inside, "%s/list.txt", feeds);
    snprintf(outside, sizeof outside, "%s/secret.txt", root);
    FILE *f = fopen(inside, "w");
    fputs("198.51.100.0/24\n", f);
    fclose(f);
    f = fopen(outside, "w");
    fputs("secret\n", f);
    fclose(f);
    struct ag_intel_fetch_opts o = {.max_bytes = 1024, .file_root = feeds};
    struct ag_buf b = {0};
    struct ag_err err;
    snprintf(url, sizeof url, "file://%s", inside);
    assert_int_equal(ag_intel_fetch(url, &o, &b, &err), 0);
    assert_int_equal(b.len, 16);
    ag_buf_free(&b);
    /* Outside the feed directory, also through "..": refused. */
    snprintf(url, sizeof url, "file://%s", outside);
    assert_int_equal(ag_intel_fetch(url, &o, &b, &err), AG_EINVAL);
    ag_buf_free(&b);
    snprintf(url, sizeof url, "file://%s/../secret.txt", feeds);
    assert_int_equal(ag_intel_fetch(url, &o, &b, &err), AG_EINVAL);
    ag_buf_free(&b);
    /* Larger than max_bytes: the whole fetch fails. */
    o.max_bytes = 10;
    snprintf(url, sizeof url, "file://%s", inside);
    assert_int_equal(ag_intel_fetch(url, &o, &b, &err), AG_ELIMIT);
    ag_buf_free(&b);
    /* No feed directory: file:// is refused; other schemes too. */
    o.file_root = NULL;
    assert_int_equal(ag_intel_fetch(url, &o, &b, &err), AG_EINVAL);
    assert_int_equal(ag_intel_fetch("ftp://x/y", &o, &b, &err), AG_EINVAL);
    ag_buf_free(&b);
    unlink(inside);
    unlink(outside);
    rmdir(feeds);
    rmdir(root);
}

static void taxii_status_details(void **state)
{
    struct ag_intel_indicator *i = add(AG_INTEL_DOMAIN, "evil.example", 50, false, NULL);
    i->modified_ms = T0;
    struct ag_intel_import imp = {0};
    ag_intel_list_push_copy(&imp.list, i);
    json_t *st = ag_intel_taxii_status("2d086da7-4bdc-4f91-900e-d77486753710", T0, 1, &imp);
    json_t *s0 = json_array_get(json_object_get(st, "successes"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "id")), i->id);
    char ver[40];
    ag_intel_stix_time_format(T0, ver, sizeof ver);
    assert_string_equal(json_string_value(json_object_get(s0, "version")), ver);
    json_decref(st);
    ag_intel_import_free(&imp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(event_fields, teardown),
        cmocka_unit_test_teardown(expiry_and_slot, teardown),
        cmocka_unit_test(fetch_files),
        cmocka_unit_test_teardown(taxii_status_details, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
