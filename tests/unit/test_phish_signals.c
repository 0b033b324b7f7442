/* Unit tests for src/phish: each signal family on small hand-made fixtures
 * in tests/data/phish/ (sender and headers, links, attachments, MIME and
 * encoded words, language cues in five languages, SMS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "phish/phish.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ag_phish_analyzer *an;

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/phish/%s", AG_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static struct ag_phish_result *email(const char *name)
{
    size_t len;
    char *raw = fixture(name, &len);
    struct ag_phish_result *r = NULL;
    struct ag_err err;
    assert_int_equal(ag_phish_analyze_email(an, raw, len, &r, &err), 0);
    free(raw);
    return r;
}

static const struct ag_phish_reason *reason(const struct ag_phish_result *r, const char *code)
{
    for (size_t i = 0; i < r->nreasons; i++)
        if (!strcmp(r->reasons[i].code, code))
            return &r->reasons[i];
    return NULL;
}

#define HAS(r, code)                                                                           \
    do {                                                                                       \
        if (!reason(r, code))                                                                  \
            fail_msg("signal %s did not fire", code);                                          \
    } while (0)
#define HASNT(r, code)                                                                         \
    do {                                                                                       \
        if (reason(r, code))                                                                   \
            fail_msg("signal %s fired: %s", code, reason(r, code)->evidence);                  \
    } while (0)

static bool has_indicator(const struct ag_phish_result *r, enum ag_phish_ind_type t,
                          const char *value)
{
    for (size_t i = 0; i < r->nindicators; i++)
        if (r->indicators[i].type == t && !strcmp(r->indicators[i].value, value))
            return true;
    return false;
}

static void sender_and_headers(void **state)
{
    struct ag_phish_result *r = email("spoof_paypal.eml");
    HAS(r, "sender_lookalike_domain");
    HAS(r, "display_name_brand_spoof");
    HAS(r, "reply_to_mismatch");
    HAS(r, "reply_to_freemail");
    HAS(r, "return_path_mismatch");
    HAS(r, "auth_spf_fail");
    HAS(r, "auth_dkim_fail");
    HAS(r, "auth_dmarc_fail");
    HAS(r, "generic_greeting");
    const struct ag_phish_reason *x = reason(r, "sender_lookalike_domain");
    assert_string_equal(x->source, "header:From");
    assert_non_null(strstr(x->evidence, "paypa1.com"));
    assert_non_null(strstr(x->evidence, "paypal.com"));
    assert_int_equal(r->verdict, AG_PHISH_PHISHING);
    assert_true(has_indicator(r, AG_PHISH_IND_EMAIL, "service@paypa1.com"));
    assert_true(has_indicator(r, AG_PHISH_IND_EMAIL, "paypal.resolution@gmail.com"));
    assert_string_equal(r->from, "service@paypa1.com");
    assert_string_equal(r->subject, "Your account has been limited");
    ag_phish_result_free(r);
}

static void html_links_and_forms(void **state)
{
    struct ag_phish_result *r = email("spoof_paypal.eml");
    HAS(r, "link_text_mismatch");
    HAS(r, "link_brand_in_domain");
    HAS(r, "link_credential_path");
    HAS(r, "link_abused_tld");
    HAS(r, "html_form");
    HAS(r, "link_ip_host");
    assert_non_null(strstr(reason(r, "link_text_mismatch")->evidence, "www.paypal.com"));
    assert_true(has_indicator(r, AG_PHISH_IND_IP, "198.51.100.7"));
    assert_true(has_indicator(r, AG_PHISH_IND_DOMAIN, "paypal.com.secure-login.example.top"));
    ag_phish_result_free(r);
}

static void link_kinds(void **state)
{
    struct ag_phish_result *r = email("links.eml");
    HAS(r, "link_shortener");
    HAS(r, "link_ip_host");
    HAS(r, "link_punycode");
    HAS(r, "link_many_subdomains");
    HAS(r, "link_odd_port");
    HAS(r, "link_userinfo");
    HAS(r, "link_free_hosting");
    HAS(r, "link_script_uri");
    HAS(r, "link_lookalike_domain");
    HAS(r, "link_brand_in_domain");
    HAS(r, "link_text_mismatch");
    HAS(r, "link_credential_path");
    assert_true(has_indicator(r, AG_PHISH_IND_URL, "https://bit.ly/abc123"));
    assert_true(has_indicator(r, AG_PHISH_IND_IP, "192.0.2.44"));
    ag_phish_result_free(r);
}

static void attachments(void **state)
{
    struct ag_phish_result *r = email("attachments.eml");
    HAS(r, "attachment_executable");
    HAS(r, "attachment_double_extension");
    HAS(r, "attachment_macro_document");
    HAS(r, "attachment_archive");
    HAS(r, "attachment_html");
    HAS(r, "html_form"); /* the HTML attachment is read too */
    assert_string_equal(reason(r, "attachment_double_extension")->evidence, "invoice.pdf.exe");
    ag_phish_result_free(r);
}

static void encoded_words_and_languages(void **state)
{
    struct ag_phish_result *r = email("encoded.eml");
    /* RFC 2047 subject decoded; quoted-printable Latin-1 body converted. */
    assert_string_equal(r->subject, "Atualização cadastral urgente");
    HAS(r, "display_name_confusable");
    HAS(r, "cue_threat");
    HAS(r, "cue_credential_request");
    HAS(r, "cue_urgency");
    HAS(r, "cue_click_here");
    HAS(r, "generic_greeting");
    HAS(r, "link_shortener");
    ag_phish_result_free(r);
}

/* Each language alone raises its cues. */
static void cues_per_language(void **state)
{
    static const char *const texts[][2] = {
        {"en", "Your account has been suspended. Verify your account within 24 hours."},
        {"es", "Su cuenta ha sido suspendida. Verifique su cuenta inmediatamente."},
        {"de", "Ihr Konto wurde gesperrt. Bitte bestätigen Sie Ihre Identität sofort."},
        {"fr", "Votre compte a été suspendu. Vérifiez votre compte immédiatement."},
        {"pt", "Sua conta foi bloqueada. Confirme seus dados imediatamente."},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char msg[1024];
        snprintf(msg, sizeof msg,
                 "From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; "
                 "charset=utf-8\r\n\r\n%s\r\n",
                 texts[i][1]);
        struct ag_phish_result *r;
        assert_int_equal(ag_phish_analyze_email(an, msg, strlen(msg), &r, NULL), 0);
        if (!reason(r, "cue_threat") || !reason(r, "cue_credential_request") ||
            !reason(r, "cue_urgency"))
            fail_msg("language %s: missing cues", texts[i][0]);
        ag_phish_result_free(r);
    }
}

static void legit_brand_mail(void **state)
{
    struct ag_phish_result *r = email("legit_amazon.eml");
    HASNT(r, "display_name_brand_spoof");
    HASNT(r, "sender_lookalike_domain");
    HASNT(r, "link_credential_path"); /* the brand's own site */
    HASNT(r, "brand_mention_offsite");
    assert_int_equal(r->verdict, AG_PHISH_LEGIT);
    ag_phish_result_free(r);
}

static void sms(void **state)
{
    struct ag_phish_result *r;
    assert_int_equal(ag_phish_analyze_sms(an, "+44 7700 900123",
                                          "Your PayPal account is suspended. Verify now at "
                                          "paypal-verify-account.com/login or call 0800 123 "
                                          "4567 immediately.",
                                          &r, NULL),
                     0);
    HAS(r, "sms_link");
    HAS(r, "link_brand_in_domain");
    HAS(r, "brand_mention_offsite");
    HAS(r, "sms_brand_link_urgency");
    HAS(r, "sms_callback_number");
    HAS(r, "cue_threat");
    assert_true(has_indicator(r, AG_PHISH_IND_PHONE, "+44 7700 900123"));
    assert_true(has_indicator(r, AG_PHISH_IND_PHONE, "08001234567"));
    assert_int_equal(r->kind, AG_PHISH_SMS);
    assert_int_not_equal(r->verdict, AG_PHISH_LEGIT);
    ag_phish_result_free(r);

    assert_int_equal(ag_phish_analyze_sms(an, NULL,
                                          "WINNER!! You have won a £1000 prize. Text CLAIM to "
                                          "87121 now. T&Cs apply, 18+",
                                          &r, NULL),
                     0);
    HAS(r, "sms_premium_shortcode");
    HAS(r, "money_amount");
    HAS(r, "cue_prize");
    HAS(r, "sms_opt_out");
    assert_int_equal(r->verdict, AG_PHISH_PHISHING);
    ag_phish_result_free(r);

    assert_int_equal(ag_phish_analyze_sms(an, "Mum", "Are you coming for dinner tonight?", &r,
                                          NULL),
                     0);
    assert_int_equal(r->nreasons, 0);
    assert_int_equal(r->verdict, AG_PHISH_LEGIT);
    ag_phish_result_free(r);

    /* Short links without a scheme. */
    assert_int_equal(ag_phish_analyze_sms(an, NULL, "Parcel on hold: bit.ly/3AbCd pay fee", &r,
                                          NULL),
                     0);
    HAS(r, "link_shortener");
    ag_phish_result_free(r);
}

static void lookalikes(void **state)
{
    /* Confusable skeleton, swap, addition, removal, brand as subdomain. */
    static const char *const hosts[][2] = {
        {"paypa1.com", "sender_lookalike_domain"},   {"pyapal.com", "sender_lookalike_domain"},
        {"paypall.com", "sender_lookalike_domain"},  {"paypl.com", "sender_lookalike_domain"},
        {"rnicrosoft.com", "sender_lookalike_domain"}, {"xn--pypal-4ve.com", "sender_lookalike_domain"},
        {"paypal.com.evil.example", "sender_brand_in_domain"},
        {"secure-paypal.example", "sender_brand_in_domain"},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "From: x <x@%s>\r\nSubject: hi\r\n\r\nhello\r\n", hosts[i][0]);
        struct ag_phish_result *r;
        assert_int_equal(ag_phish_analyze_email(an, msg, strlen(msg), &r, NULL), 0);
        if (!reason(r, hosts[i][1]))
            fail_msg("%s: %s did not fire", hosts[i][0], hosts[i][1]);
        ag_phish_result_free(r);
    }
    /* The brand's own domains and unrelated ones stay quiet. */
    static const char *const quiet[] = {"paypal.com", "mail.paypal.com", "amazon.de",
                                        "example.org", "gmail.com"};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "From: x <x@%s>\r\nSubject: hi\r\n\r\nhello\r\n", quiet[i]);
        struct ag_phish_result *r;
        assert_int_equal(ag_phish_analyze_email(an, msg, strlen(msg), &r, NULL), 0);
        HASNT(r, "sender_lookalike_domain");
        HASNT(r, "sender_brand_in_domain");
        ag_phish_result_free(r);
    }
}

static void configured_brand(void **state)
{
    const char *brands[] = {"acmebank.example"};
    struct ag_phish_options opt = {.brands = brands, .nbrands = 1};
    struct ag_phish_analyzer *a2;
    struct ag_err err;
    assert_int_equal(ag_phish_analyzer_new(&opt, &a2, &err), 0);
    const char *msg = "From: \"AcmeBank\" <alerts@acrnebank.example>\r\nSubject: x\r\n\r\nhi\r\n";
    struct ag_phish_result *r;
    assert_int_equal(ag_phish_analyze_email(a2, msg, strlen(msg), &r, NULL), 0);
    HAS(r, "sender_lookalike_domain");
    HAS(r, "display_name_brand_spoof");
    ag_phish_result_free(r);
    /* Only the configured brand: PayPal is not protected now. */
    msg = "From: x <x@paypa1.com>\r\nSubject: x\r\n\r\nhi\r\n";
    assert_int_equal(ag_phish_analyze_email(a2, msg, strlen(msg), &r, NULL), 0);
    HASNT(r, "sender_lookalike_domain");
    ag_phish_result_free(r);
    ag_phish_analyzer_free(a2);
    const char *bad[] = {"not a domain"};
    opt.brands = bad;
    assert_int_equal(ag_phish_analyzer_new(&opt, &a2, &err), AG_EINVAL);
    assert_null(a2);
}

static void bad_input(void **state)
{
    struct ag_phish_result *r;
    struct ag_err err;
    assert_int_equal(ag_phish_analyze_email(an, "", 0, &r, &err), AG_EINVAL);
    assert_null(r);
    assert_int_equal(ag_phish_analyze_sms(an, NULL, "", &r, &err), AG_EINVAL);
    /* Garbage is analyzed as text, never a crash. */
    const char junk[] = "\x00\xff\xfe--\r\n\r\n<a href='http://[::1'>x</a>=?utf-8?B?////?=";
    assert_int_equal(ag_phish_analyze_email(an, junk, sizeof junk - 1, &r, &err), 0);
    ag_phish_result_free(r);
}

static int setup(void **state)
{
    struct ag_err err;
    return ag_phish_analyzer_new(NULL, &an, &err);
}

static int teardown(void **state)
{
    ag_phish_analyzer_free(an);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sender_and_headers), cmocka_unit_test(html_links_and_forms),
        cmocka_unit_test(link_kinds),         cmocka_unit_test(attachments),
        cmocka_unit_test(encoded_words_and_languages), cmocka_unit_test(cues_per_language),
        cmocka_unit_test(legit_brand_mail),   cmocka_unit_test(sms),
        cmocka_unit_test(lookalikes),         cmocka_unit_test(configured_brand),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
