/* Unit tests for src/intel/match.c: CIDR edges in both families, IPv4-mapped
 * IPv6, domain suffix matching and its non-matches, IDN input, exact sets,
 * expiry at build and at lookup, best-hit ranking, concurrent readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "intel/match.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000LL

static struct ag_intel_list list;

static void add(enum ag_intel_type t, const char *v, const char *source, int conf, int64_t from,
                int64_t until, bool info)
{
    struct ag_intel_indicator ind;
    struct ag_err err;
    ag_intel_indicator_init(&ind);
    ag_intel_id_new(ind.id);
    if (ag_intel_indicator_set_value(&ind, t, v, &err))
        fail_msg("%s: %s", v, err.msg);
    ag_intel_indicator_set_str(&ind.source, source);
    ind.confidence = conf;
    ind.valid_from_ms = from;
    ind.valid_until_ms = until;
    ind.informational = info;
    assert_int_equal(ag_intel_indicator_validate(&ind, &err), 0);
    assert_int_equal(ag_intel_list_push_move(&list, &ind), 0);
}

static struct ag_intel_matchset *build(int64_t now)
{
    struct ag_intel_matchset *ms;
    struct ag_err err;
    assert_int_equal(ag_intel_matchset_build(list.items, list.len, now, &ms, &err), 0);
    return ms;
}

static const char *hit_value(const struct ag_intel_matchset *ms, enum ag_intel_field f,
                             const char *v, int64_t at)
{
    static struct ag_intel_hit hit;
    return ag_intel_matchset_lookup(ms, f, v, at, &hit) ? hit.value : NULL;
}

#define EXPECT(ms, f, v, want)                                                                 \
    do {                                                                                       \
        const char *got_ = hit_value(ms, f, v, T0);                                            \
        const char *want_ = (want);                                                            \
        if (!(got_ == want_ || (got_ && want_ && strcmp(got_, want_) == 0)))                   \
            fail_msg("%s %s: got %s, want %s", ag_intel_field_name(f), v, got_ ? got_ : "none", \
                     want_ ? want_ : "none");                                                  \
    } while (0)

static int teardown(void **state)
{
    ag_intel_list_free(&list);
    return 0;
}

static void cidr_edges_v4(void **state)
{
    add(AG_INTEL_IPV4, "198.51.100.0/24", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV4, "203.0.113.7", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV4, "10.0.0.0/8", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV4, "10.1.0.0/16", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV4, "10.1.2.3", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV4, "192.0.2.128/25", "s", 50, 0, 0, false);
    struct ag_intel_matchset *ms = build(T0);
    /* network and broadcast addresses are inside, their neighbours outside */
    EXPECT(ms, AG_INTEL_FIELD_IP, "198.51.100.0", "198.51.100.0/24");
    EXPECT(ms, AG_INTEL_FIELD_IP, "198.51.100.255", "198.51.100.0/24");
    EXPECT(ms, AG_INTEL_FIELD_IP, "198.51.99.255", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "198.51.101.0", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "192.0.2.128", "192.0.2.128/25");
    EXPECT(ms, AG_INTEL_FIELD_IP, "192.0.2.255", "192.0.2.128/25");
    EXPECT(ms, AG_INTEL_FIELD_IP, "192.0.2.127", NULL);
    /* /32: only itself */
    EXPECT(ms, AG_INTEL_FIELD_IP, "203.0.113.7", "203.0.113.7");
    EXPECT(ms, AG_INTEL_FIELD_IP, "203.0.113.6", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "203.0.113.8", NULL);
    /* nested prefixes: the most specific wins */
    EXPECT(ms, AG_INTEL_FIELD_IP, "10.1.2.3", "10.1.2.3");
    EXPECT(ms, AG_INTEL_FIELD_IP, "10.1.2.4", "10.1.0.0/16");
    EXPECT(ms, AG_INTEL_FIELD_IP, "10.2.0.0", "10.0.0.0/8");
    EXPECT(ms, AG_INTEL_FIELD_IP, "10.255.255.255", "10.0.0.0/8");
    EXPECT(ms, AG_INTEL_FIELD_IP, "11.0.0.0", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "9.255.255.255", NULL);
    /* IPv4-mapped IPv6 is the same address */
    EXPECT(ms, AG_INTEL_FIELD_IP, "::ffff:203.0.113.7", "203.0.113.7");
    EXPECT(ms, AG_INTEL_FIELD_IP, "::ffff:cb00:7107", "203.0.113.7");
    EXPECT(ms, AG_INTEL_FIELD_IP, "::ffff:198.51.100.9", "198.51.100.0/24");
    /* but not an IPv6 address with the same low bits */
    EXPECT(ms, AG_INTEL_FIELD_IP, "::203.0.113.7", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8::cb00:7107", NULL);
    /* junk input is no match, not a crash */
    EXPECT(ms, AG_INTEL_FIELD_IP, "not-an-ip", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "203.0.113.7/32", NULL);
    ag_intel_matchset_unref(ms);
}

static void cidr_edges_v6_and_zero(void **state)
{
    add(AG_INTEL_IPV6, "2001:db8::/32", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV6, "2001:db8:1::1", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV6, "2001:db8:8000::/33", "s", 50, 0, 0, false);
    struct ag_intel_matchset *ms = build(T0);
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8::", "2001:db8::/32");
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
           "2001:db8:8000::/33");
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32");
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db9::", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:DB8:1:0:0:0:0:1", "2001:db8:1::1");
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8:1::2", "2001:db8::/32");
    EXPECT(ms, AG_INTEL_FIELD_IP, "203.0.113.7", NULL);
    ag_intel_matchset_unref(ms);

    /* /0 of each family covers exactly that family */
    ag_intel_list_free(&list);
    add(AG_INTEL_IPV4, "0.0.0.0/0", "s", 50, 0, 0, false);
    ms = build(T0);
    EXPECT(ms, AG_INTEL_FIELD_IP, "0.0.0.0", "0.0.0.0/0");
    EXPECT(ms, AG_INTEL_FIELD_IP, "255.255.255.255", "0.0.0.0/0");
    EXPECT(ms, AG_INTEL_FIELD_IP, "::ffff:1.2.3.4", "0.0.0.0/0");
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8::1", NULL);
    EXPECT(ms, AG_INTEL_FIELD_IP, "::1", NULL);
    ag_intel_matchset_unref(ms);
    ag_intel_list_free(&list);
    add(AG_INTEL_IPV6, "::/0", "s", 50, 0, 0, false);
    add(AG_INTEL_IPV6, "::1/128", "s", 50, 0, 0, false);
    ms = build(T0);
    EXPECT(ms, AG_INTEL_FIELD_IP, "2001:db8::1", "::/0");
    EXPECT(ms, AG_INTEL_FIELD_IP, "::1", "::1");
    EXPECT(ms, AG_INTEL_FIELD_IP, "::", "::/0");
    /* the IPv6 /0 contains the IPv4-mapped space, so it covers IPv4 too */
    EXPECT(ms, AG_INTEL_FIELD_IP, "1.2.3.4", "::/0");
    ag_intel_matchset_unref(ms);
}

static void domains(void **state)
{
    add(AG_INTEL_DOMAIN, "example.com", "s", 50, 0, 0, false);
    add(AG_INTEL_DOMAIN, "münchen.example", "s", 50, 0, 0, false);
    add(AG_INTEL_DOMAIN, "deep.sub.example.org", "s", 50, 0, 0, false);
    struct ag_intel_matchset *ms = build(T0);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "example.com", "example.com");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "EXAMPLE.COM.", "example.com");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "a.example.com", "example.com");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "a.b.c.Example.com", "example.com");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "evil-example.com", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "notexample.com", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "example.com.evil.net", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "example.co", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "com", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "sub.example.org", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "x.deep.sub.example.org", "deep.sub.example.org");
    /* IDN: Unicode or punycode input, either way round */
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "xn--mnchen-3ya.example", "xn--mnchen-3ya.example");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "münchen.example", "xn--mnchen-3ya.example");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "www.MÜNCHEN.example", "xn--mnchen-3ya.example");
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "munchen.example", NULL);
    /* emails and URLs fall back to their domain */
    EXPECT(ms, AG_INTEL_FIELD_EMAIL, "Someone@Mail.Example.com", "example.com");
    EXPECT(ms, AG_INTEL_FIELD_EMAIL, "someone@evil-example.com", NULL);
    EXPECT(ms, AG_INTEL_FIELD_URL, "https://login.example.com:8443/x?y", "example.com");
    EXPECT(ms, AG_INTEL_FIELD_URL, "https://user@münchen.example/", "xn--mnchen-3ya.example");
    EXPECT(ms, AG_INTEL_FIELD_URL, "https://example.com.evil.net/", NULL);
    ag_intel_matchset_unref(ms);
}

static void exact_sets(void **state)
{
    char fp[65];
    assert_int_equal(ag_intel_financial_fingerprint("GB82 WEST 1234 5698 7654 32", NULL, 0, fp,
                                                    NULL),
                     0);
    add(AG_INTEL_URL, "http://evil.example/login", "s", 50, 0, 0, false);
    add(AG_INTEL_EMAIL, "mule@bank.example", "s", 50, 0, 0, false);
    add(AG_INTEL_PHONE, "+4915112345678", "s", 50, 0, 0, false);
    add(AG_INTEL_DEVICE, "d_9fA3", "s", 50, 0, 0, false);
    add(AG_INTEL_FINANCIAL, fp, "s", 50, 0, 0, false);
    add(AG_INTEL_IPV6, "2001:db8::7", "s", 50, 0, 0, false);
    struct ag_intel_matchset *ms = build(T0);
    EXPECT(ms, AG_INTEL_FIELD_URL, "HTTP://EVIL.example:80/a/../login#x",
           "http://evil.example/login");
    EXPECT(ms, AG_INTEL_FIELD_URL, "http://evil.example/login2", NULL);
    EXPECT(ms, AG_INTEL_FIELD_URL, "http://[2001:db8::7]/", "2001:db8::7");
    EXPECT(ms, AG_INTEL_FIELD_EMAIL, "MULE@bank.example", "mule@bank.example");
    EXPECT(ms, AG_INTEL_FIELD_EMAIL, "mule2@bank.example", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DOMAIN, "bank.example", NULL); /* an email is not a domain */
    EXPECT(ms, AG_INTEL_FIELD_PHONE, "+49 151 1234 5678", "+4915112345678");
    EXPECT(ms, AG_INTEL_FIELD_PHONE, "004915112345678", "+4915112345678");
    EXPECT(ms, AG_INTEL_FIELD_PHONE, "+4915112345679", NULL);
    EXPECT(ms, AG_INTEL_FIELD_DEVICE, "d_9fA3", "d_9fA3");
    EXPECT(ms, AG_INTEL_FIELD_DEVICE, "d_9fa3", NULL); /* device ids are opaque */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(fp[i] >= 'a' && fp[i] <= 'f' ? fp[i] - 32 : fp[i]);
    EXPECT(ms, AG_INTEL_FIELD_FINANCIAL, upper, fp);

    struct ag_intel_query q = {.ip = "203.0.113.1", .device_id = "d_9fA3",
                               .email = "mule@bank.example", .phone = "+1 202 555 0100",
                               .at_ms = T0};
    struct ag_intel_hit hits[8];
    size_t n = ag_intel_matchset_match(ms, &q, hits, 8);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].field, AG_INTEL_FIELD_EMAIL);
    assert_int_equal(hits[1].field, AG_INTEL_FIELD_DEVICE);
    assert_string_equal(hits[1].id, list.items[3].id);
    assert_int_equal(ag_intel_matchset_match(ms, &q, hits, 1), 1);
    ag_intel_matchset_unref(ms);
}

static void expiry(void **state)
{
    add(AG_INTEL_IPV4, "10.0.0.0/8", "old", 50, 0, T0 - 1, false);     /* expired at build */
    add(AG_INTEL_IPV4, "10.1.0.0/16", "soon", 50, 0, T0 + 1000, false); /* expires later */
    add(AG_INTEL_IPV4, "10.2.0.0/16", "future", 50, T0 + 500, 0, false); /* not yet valid */
    add(AG_INTEL_DOMAIN, "gone.example", "old", 50, 0, T0, false);        /* until == now */
    add(AG_INTEL_DOMAIN, "soon.example", "soon", 50, 0, T0 + 1000, false);
    struct ag_intel_matchset *ms = build(T0);
    struct ag_intel_matchset_stats st;
    ag_intel_matchset_stats(ms, &st);
    assert_int_equal(st.skipped_expired, 2);
    assert_int_equal(st.indicators, 3);
    struct ag_intel_hit h;
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "10.9.9.9", T0, &h), 0);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "10.1.9.9", T0, &h), 1);
    assert_int_equal(h.valid_until_ms, T0 + 1000);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "10.1.9.9", T0 + 999, &h), 1);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "10.1.9.9", T0 + 1000, &h), 0);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "10.2.0.1", T0, &h), 0);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "10.2.0.1", T0 + 500, &h), 1);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_DOMAIN, "gone.example", T0, &h), 0);
    assert_int_equal(
        ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_DOMAIN, "a.soon.example", T0 + 2000, &h), 0);
    ag_intel_matchset_unref(ms);
}

static int count_fn(const struct ag_intel_hit *hit, void *ctx)
{
    (*(int *)ctx)++;
    return 0;
}

static void ranking(void **state)
{
    /* same value from two sources; a more specific informational prefix */
    add(AG_INTEL_IPV4, "192.0.2.0/24", "low", 30, 0, 0, false);
    add(AG_INTEL_IPV4, "192.0.2.0/24", "high", 90, 0, 0, false);
    add(AG_INTEL_IPV4, "192.0.2.7", "context", 100, 0, 0, true);
    add(AG_INTEL_DOMAIN, "example.net", "a", 40, 0, 0, false);
    add(AG_INTEL_DOMAIN, "x.example.net", "b", 20, 0, 0, false);
    struct ag_intel_matchset *ms = build(T0);
    struct ag_intel_hit h;
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "192.0.2.7", T0, &h), 1);
    assert_string_equal(h.source, "high"); /* blocking beats informational */
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, "192.0.2.8", T0, &h), 1);
    assert_string_equal(h.source, "high");
    assert_int_equal(h.confidence, 90);
    int calls = 0;
    assert_int_equal(ag_intel_matchset_lookup_all(ms, AG_INTEL_FIELD_IP, "192.0.2.7", T0, count_fn,
                                                  &calls),
                     3);
    assert_int_equal(calls, 3);
    assert_int_equal(ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_DOMAIN, "y.x.example.net", T0, &h),
                     1);
    assert_string_equal(h.value, "x.example.net"); /* longest suffix */
    ag_intel_matchset_unref(ms);
}

/* ---- many indicators, checked against a brute-force oracle ---- */

static uint64_t rng = 88172645463325252ULL;
static uint32_t xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void random_prefixes_vs_oracle(void **state)
{
    enum { N = 3000, Q = 20000 };
    static uint32_t net[N];
    static int plen[N];
    char buf[64];
    for (int i = 0; i < N; i++) {
        /* cluster in 10.0.0.0/12 so prefixes nest and collide */
        plen[i] = 8 + (int)(xr() % 25);
        uint32_t a = 0x0a000000u | (xr() & 0x000fffffu);
        net[i] = plen[i] == 0 ? 0 : a & (0xffffffffu << (32 - plen[i]));
        snprintf(buf, sizeof buf, "%u.%u.%u.%u/%d", net[i] >> 24, (net[i] >> 16) & 255,
                 (net[i] >> 8) & 255, net[i] & 255, plen[i]);
        add(AG_INTEL_IPV4, buf, "s", 50, 0, 0, false);
    }
    struct ag_intel_matchset *ms = build(T0);
    for (int q = 0; q < Q; q++) {
        uint32_t a = 0x0a000000u | (xr() & 0x001fffffu);
        int best = -1;
        for (int i = 0; i < N; i++)
            if ((a & (0xffffffffu << (32 - plen[i]))) == net[i] && plen[i] > best)
                best = plen[i];
        snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
        struct ag_intel_hit h;
        int got = ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_IP, buf, T0, &h);
        if (best < 0) {
            if (got)
                fail_msg("%s matched %s, oracle says none", buf, h.value);
            continue;
        }
        if (!got)
            fail_msg("%s: no match, oracle says /%d", buf, best);
        const char *slash = strchr(h.value, '/');
        int hl = slash ? atoi(slash + 1) : 32;
        if (hl != best)
            fail_msg("%s matched %s, oracle says /%d", buf, h.value, best);
    }
    ag_intel_matchset_unref(ms);
}

static struct ag_intel_matchset_slot slot;

static void *reader(void *arg)
{
    int hits = 0;
    for (int i = 0; i < 2000; i++) {
        struct ag_intel_matchset *ms = ag_intel_matchset_slot_acquire(&slot);
        struct ag_intel_hit h;
        hits += ag_intel_matchset_lookup(ms, AG_INTEL_FIELD_DOMAIN, "a.example.com", T0, &h);
        ag_intel_matchset_unref(ms);
    }
    *(int *)arg = hits;
    return NULL;
}

static void concurrent_swap(void **state)
{
    add(AG_INTEL_DOMAIN, "example.com", "s", 50, 0, 0, false);
    ag_intel_matchset_slot_init(&slot);
    ag_intel_matchset_slot_replace(&slot, build(T0));
    pthread_t th[4];
    int hits[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, reader, &hits[i]);
    for (int i = 0; i < 50; i++)
        ag_intel_matchset_slot_replace(&slot, build(T0));
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(hits[i], 2000);
    }
    ag_intel_matchset_slot_destroy(&slot);
}

static void empty_set(void **state)
{
    struct ag_intel_matchset *ms = build(T0);
    struct ag_intel_query q = {.ip = "1.2.3.4", .domain = "a.b", .url = "http://x/", .at_ms = T0};
    struct ag_intel_hit hits[4];
    assert_int_equal(ag_intel_matchset_match(ms, &q, hits, 4), 0);
    ag_intel_matchset_unref(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(cidr_edges_v4, teardown),
        cmocka_unit_test_teardown(cidr_edges_v6_and_zero, teardown),
        cmocka_unit_test_teardown(domains, teardown),
        cmocka_unit_test_teardown(exact_sets, teardown),
        cmocka_unit_test_teardown(expiry, teardown),
        cmocka_unit_test_teardown(ranking, teardown),
        cmocka_unit_test_teardown(random_prefixes_vs_oracle, teardown),
        cmocka_unit_test_teardown(concurrent_swap, teardown),
        cmocka_unit_test_teardown(empty_set, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
