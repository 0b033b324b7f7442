/* Unit tests for IP enrichment (libloc, the installed location database)
 * and user-agent parsing (uap-core regexes): known addresses, v4 and v6;
 * real user-agent strings; concurrent use from several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "risk/ipintel.h"
#include "risk/useragent.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define IPDB "/var/lib/location/database.db"
#define UAP "/usr/share/uap-core/regexes.yaml"

static struct ag_ipintel *ip;
static struct ag_useragent *ua;

static int setup(void **state)
{
    struct ag_err err;
    if (ag_ipintel_open(IPDB, 1024, &ip, &err) || ag_useragent_open(UAP, 256, &ua, &err)) {
        print_error("%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    ag_ipintel_close(ip);
    ag_useragent_close(ua);
    return 0;
}

static void known_addresses(void **state)
{
    static const struct {
        const char *ip;
        const char *cc;
        uint32_t asn;
        uint32_t flags;
    } cases[] = {
        {"8.8.8.8", "US", 15169, AG_IP_ANYCAST},
        {"81.167.0.1", "NO", 29695, 0},
        {"2001:4860:4860::8888", "US", 15169, 0},
        {"2a01:4f8::1", "DE", 24940, AG_IP_HOSTING},
        {"185.220.101.1", "DE", 60729, AG_IP_ANON_PROXY | AG_IP_HOSTING},
        {"193.0.14.129", "NL", 25152, 0},
    };
    for (int pass = 0; pass < 2; pass++) { /* the second pass hits the cache */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct ag_ipinfo o;
            assert_int_equal(ag_ipintel_lookup(ip, cases[i].ip, &o), 0);
            assert_true(o.found);
            assert_string_equal(o.country, cases[i].cc);
            assert_int_equal(o.asn, cases[i].asn);
            assert_int_equal(o.flags & cases[i].flags, cases[i].flags);
        }
    }
    struct ag_ipinfo o;
    assert_int_equal(ag_ipintel_lookup(ip, "81.167.0.1", &o), 0);
    assert_string_equal(o.as_name, "Altibox AS");
    assert_string_equal(ag_ipintel_as_name(ip, 24940), "Hetzner Online GmbH");
    assert_string_equal(ag_ipintel_as_name(ip, 0), "");
    uint64_t hits, misses;
    ag_ipintel_stats(ip, &hits, &misses, NULL);
    assert_true(hits >= 6);
}

static void special_addresses(void **state)
{
    struct ag_ipinfo o;
    assert_int_equal(ag_ipintel_lookup(ip, "10.1.2.3", &o), AG_ENOTFOUND);
    assert_true(o.flags & AG_IP_PRIVATE);
    assert_false(o.found);
    assert_int_equal(ag_ipintel_lookup(ip, "fe80::1", &o), AG_ENOTFOUND);
    assert_true(o.flags & AG_IP_PRIVATE);
    assert_int_equal(ag_ipintel_lookup(ip, "::1", &o), AG_ENOTFOUND);
    assert_int_equal(ag_ipintel_lookup(ip, "not an address", &o), AG_EINVAL);
    assert_int_equal(ag_ipintel_lookup(ip, "1.2.3.256", &o), AG_EINVAL);
    assert_string_equal(o.as_name, "");
    assert_true(ag_ipintel_is_hosting(16509, "AMAZON-02"));
    assert_true(ag_ipintel_is_hosting(1, "Example Cloud Hosting Ltd"));
    assert_false(ag_ipintel_is_hosting(29695, "Altibox AS"));
    struct ag_err err;
    struct ag_ipintel *bad;
    assert_int_equal(ag_ipintel_open("/nonexistent/db", 0, &bad, &err), AG_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/db"));
}

static void user_agents(void **state)
{
    static const struct {
        const char *s, *browser, *major, *os, *os_major;
        enum ag_device_type t;
    } cases[] = {
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/118.0.0.0 Safari/537.36",
         "Chrome", "118", "Windows", "10", AG_DEVICE_DESKTOP},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
         "Mobile Safari", "16", "iOS", "16", AG_DEVICE_MOBILE},
        {"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/116.0.0.0 Mobile Safari/537.36",
         "Chrome Mobile", "116", "Android", "13", AG_DEVICE_MOBILE},
        {"Mozilla/5.0 (iPad; CPU OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/15.6 Mobile/15E148 Safari/604.1",
         "Mobile Safari", "15", "iOS", "15", AG_DEVICE_TABLET},
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/16.5 Safari/605.1.15",
         "Safari", "16", "Mac OS X", "10", AG_DEVICE_DESKTOP},
        {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
         "Firefox", "118", "Ubuntu", "", AG_DEVICE_DESKTOP},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/118.0.0.0 Safari/537.36 Edg/118.0.2088.46",
         "Edge", "118", "Windows", "10", AG_DEVICE_DESKTOP},
        {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot",
         "2", "Other", "", AG_DEVICE_BOT},
        {"python-requests/2.31.0", "Python Requests", "2", "Other", "", AG_DEVICE_BOT},
        {"", "Other", "", "Other", "", AG_DEVICE_OTHER},
    };
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct ag_uainfo u;
            ag_useragent_parse(ua, cases[i].s, &u);
            assert_string_equal(u.browser, cases[i].browser);
            assert_string_equal(u.browser_major, cases[i].major);
            assert_string_equal(u.os, cases[i].os);
            assert_string_equal(u.os_major, cases[i].os_major);
            assert_int_equal(u.device_type, cases[i].t);
        }
    }
    int n_ua, n_os, n_dev, failed;
    ag_useragent_counts(ua, &n_ua, &n_os, &n_dev, &failed);
    assert_true(n_ua > 100 && n_os > 50 && n_dev > 100);
    assert_int_equal(failed, 0);
    assert_string_equal(ag_device_type_name(AG_DEVICE_TABLET), "tablet");
    assert_int_equal(ag_device_type_parse("Mobile"), AG_DEVICE_MOBILE);
    assert_int_equal(ag_device_type_parse("unknown"), AG_DEVICE_OTHER);
    struct ag_err err;
    struct ag_useragent *bad;
    assert_int_equal(ag_useragent_open("/nonexistent.yaml", 0, &bad, &err), AG_EIO);
}

static void index_matches_libloc(void **state)
{
    struct ag_err err;
    struct ag_ipintel *lib, *idx;
    assert_int_equal(ag_ipintel_open(IPDB, 16, &lib, &err), 0);
    assert_int_equal(ag_ipintel_open(IPDB, 16, &idx, &err), 0);
    assert_int_equal(ag_ipintel_index_start(idx), 0);
    assert_true(ag_ipintel_index_wait(idx));
    /* random addresses, v4 and v6 (in 2000::/4, where most v6 networks are) */
    uint32_t x = 777;
    int found = 0;
    for (int i = 0; i < 30000; i++) {
        x = x * 1103515245u + 12345u;
        char s[64];
        if (i % 3 == 0)
            snprintf(s, sizeof s, "2%03x:%x:%x::%x", (x >> 20) & 0xfff, (x >> 4) & 0xffff,
                     (x * 2654435761u) & 0xffff, i & 0xffff);
        else
            snprintf(s, sizeof s, "%u.%u.%u.%u", x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255);
        struct ag_ipinfo p, q;
        int r1 = ag_ipintel_lookup(lib, s, &p), r2 = ag_ipintel_lookup(idx, s, &q);
        if (r1 != r2 || p.found != q.found || strcmp(p.country, q.country) || p.asn != q.asn ||
            p.flags != q.flags || p.net_prefix != q.net_prefix) {
            print_error("%s: libloc %d %s AS%u %x /%u, index %d %s AS%u %x /%u\n", s, r1,
                        p.country, p.asn, p.flags, p.net_prefix, r2, q.country, q.asn, q.flags,
                        q.net_prefix);
            fail();
        }
        found += r1 == 0;
    }
    assert_true(found > 10000);
    ag_ipintel_close(lib);
    ag_ipintel_close(idx);
    /* closing while the index is being built stops the build */
    assert_int_equal(ag_ipintel_open(IPDB, 16, &idx, &err), 0);
    assert_int_equal(ag_ipintel_index_start(idx), 0);
    ag_ipintel_close(idx);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char addr[32];
    for (int i = 0; i < 2000; i++) {
        struct ag_ipinfo o;
        snprintf(addr, sizeof addr, "81.167.%ld.%d", id, i % 250 + 1);
        if (ag_ipintel_lookup(ip, addr, &o) || strcmp(o.country, "NO"))
            return (void *)1;
        struct ag_uainfo u;
        char s[160];
        snprintf(s, sizeof s, "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/%d.0",
                 100 + i % 20);
        ag_useragent_parse(ua, s, &u);
        if (strcmp(u.browser, "Firefox"))
            return (void *)1;
    }
    return NULL;
}

static void concurrent(void **state)
{
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_addresses),
        cmocka_unit_test(special_addresses),
        cmocka_unit_test(user_agents),
        cmocka_unit_test(index_matches_libloc),
        cmocka_unit_test(concurrent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
