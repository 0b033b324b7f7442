/* Templates: every alert kind renders in every language (subject, text,
 * HTML, SMS), picked by locale with fallbacks; the details and the "this
 * wasn't me" link appear; HTML is escaped; literal messages pass through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "notify/template.h"

#include <string.h>

static const char *const link = "https://guard.example/v1/wasnt-me/AbC.dEf";

static json_t *params(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "when", "2026-11-21T10:00:00Z", "ip",
                     "203.0.113.7", "device", "Firefox <script>", "detail", "NO -> BR", "link",
                     link);
}

static void test_every_kind_in_every_language(void **state)
{
    (void)state;
    json_t *p = params();
    assert_true(ag_notify_template_lang_count >= 6);
    for (int k = 0; k < ag_notify_template_count; k++) {
        struct ag_notify_rendered en;
        assert_int_equal(ag_notify_template_render(ag_notify_template_ids[k], "en", p, &en, NULL),
                         0);
        for (int l = 0; l < ag_notify_template_lang_count; l++) {
            const char *lang = ag_notify_template_langs[l];
            struct ag_notify_rendered r;
            struct ag_err err;
            if (ag_notify_template_render(ag_notify_template_ids[k], lang, p, &r, &err))
                fail_msg("%s/%s: %s", ag_notify_template_ids[k], lang, err.msg);
            assert_string_equal(r.lang, lang);
            assert_true(strlen(r.subject) > 5);
            assert_non_null(strstr(r.text, link));
            assert_non_null(strstr(r.text, "203.0.113.7"));
            assert_non_null(strstr(r.text, "NO -> BR"));
            assert_non_null(strstr(r.sms, link));
            assert_true(strlen(r.sms) < 400);
            assert_non_null(r.html);
            assert_non_null(strstr(r.html, "<a href=\"https://guard.example/v1/wasnt-me/AbC.dEf\">"));
            assert_null(strstr(r.html, "<script>"));
            assert_non_null(strstr(r.html, "&lt;script&gt;"));
            assert_null(strstr(r.text, "{link}"));
            if (strcmp(lang, "en") != 0) {
                /* really translated, not the English text */
                if (!strcmp(r.subject, en.subject))
                    fail_msg("%s/%s: subject is the English one", ag_notify_template_ids[k],
                             lang);
                assert_string_not_equal(r.sms, en.sms);
            }
            ag_notify_rendered_free(&r);
        }
        ag_notify_rendered_free(&en);
    }
    json_decref(p);
}

static void test_kinds_differ(void **state)
{
    (void)state;
    json_t *p = json_object();
    for (int a = 0; a < ag_notify_template_count; a++)
        for (int b = a + 1; b < ag_notify_template_count; b++)
            for (int l = 0; l < ag_notify_template_lang_count; l++) {
                struct ag_notify_rendered ra, rb;
                const char *lang = ag_notify_template_langs[l];
                assert_int_equal(
                    ag_notify_template_render(ag_notify_template_ids[a], lang, p, &ra, NULL), 0);
                assert_int_equal(
                    ag_notify_template_render(ag_notify_template_ids[b], lang, p, &rb, NULL), 0);
                if (!strcmp(ra.subject, rb.subject))
                    fail_msg("%s and %s share a subject in %s", ag_notify_template_ids[a],
                             ag_notify_template_ids[b], lang);
                ag_notify_rendered_free(&ra);
                ag_notify_rendered_free(&rb);
            }
    json_decref(p);
}

static void test_locale_fallbacks(void **state)
{
    (void)state;
    json_t *p = json_object();
    static const struct {
        const char *locale, *lang;
    } cases[] = {{"pt-BR", "pt"}, {"de_AT", "de"}, {"FR", "fr"}, {"it", "it"},
                 {"es-419", "es"}, {"xx", "en"},   {"", "en"},   {NULL, "en"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ag_notify_rendered r;
        assert_int_equal(
            ag_notify_template_render("alert.password_changed", cases[i].locale, p, &r, NULL), 0);
        assert_string_equal(r.lang, cases[i].lang);
        ag_notify_rendered_free(&r);
    }
    json_decref(p);
}

static void test_without_link_or_details(void **state)
{
    (void)state;
    json_t *p = json_pack("{s:b}", "held", 1);
    struct ag_notify_rendered r;
    assert_int_equal(ag_notify_template_render("alert.payout_account_changed", "de", p, &r, NULL),
                     0);
    assert_null(strstr(r.text, "{link}"));
    assert_null(strstr(r.text, "wasnt-me"));
    assert_non_null(strstr(r.text, "angehalten")); /* the "held for review" line */
    assert_null(strstr(r.text, "IP-Adresse"));     /* no empty detail lines */
    ag_notify_rendered_free(&r);
    json_decref(p);
}

static void test_literal_and_unknown(void **state)
{
    (void)state;
    json_t *p = json_pack("{s:s, s:s}", "subject", "Your code", "text", "Code 123456");
    struct ag_notify_rendered r;
    assert_int_equal(ag_notify_template_render(NULL, "es", p, &r, NULL), 0);
    assert_string_equal(r.subject, "Your code");
    assert_string_equal(r.text, "Code 123456");
    assert_string_equal(r.sms, "Code 123456");
    assert_null(r.html);
    ag_notify_rendered_free(&r);
    json_decref(p);
    struct ag_err err;
    p = json_object();
    assert_int_equal(ag_notify_template_render("", "en", p, &r, &err), AG_EINVAL);
    assert_int_equal(ag_notify_template_render("alert.nope", "en", p, &r, &err), AG_ENOTFOUND);
    assert_false(ag_notify_template_exists("alert.nope"));
    assert_true(ag_notify_template_exists("alert.account_frozen"));
    json_decref(p);
}

static void test_pages_in_every_language(void **state)
{
    (void)state;
    for (int l = 0; l < ag_notify_template_lang_count; l++) {
        const char *want = ag_notify_template_langs[l], *got;
        for (int t = 0; t < AG_NOTIFY_PAGE_NTEXTS; t++) {
            const char *text = ag_notify_page_text(want, t, &got);
            assert_string_equal(got, want);
            assert_true(strlen(text) > 5);
            assert_null(strpbrk(text, "<>&\""));
            if (strcmp(want, "en") != 0)
                assert_string_not_equal(text, ag_notify_page_text("en", t, NULL));
        }
    }
    const char *got;
    ag_notify_page_text("es-MX,es;q=0.9", AG_NOTIFY_PAGE_BUTTON, &got);
    assert_string_equal(got, "es");
    ag_notify_page_text(NULL, AG_NOTIFY_PAGE_BUTTON, &got);
    assert_string_equal(got, "en");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_in_every_language),
        cmocka_unit_test(test_kinds_differ),
        cmocka_unit_test(test_locale_fallbacks),
        cmocka_unit_test(test_without_link_or_details),
        cmocka_unit_test(test_literal_and_unknown),
        cmocka_unit_test(test_pages_in_every_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
