/* Unit tests of the notify module's pure parts: the retry schedule,
 * Standard Webhooks signing and secrets, kind patterns, sealing, the alert
 * table over every event type, the MIME message and the SMS gateway body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/decision.h"
#include "core/event_types.h"
#include "notify/alerts.h"
#include "notify/internal.h"
#include "notify/notify.h"
#include "notify/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* ---- backoff ---- */

static void test_backoff_doubles_with_equal_jitter(void **state)
{
    (void)state;
    /* attempt n waits base * 2^(n-1), half of it fixed, half jittered */
    for (int a = 1; a <= 6; a++) {
        int64_t d = 1000LL << (a - 1);
        assert_int_equal(ag_notify_backoff_ms(a, 1000, 3600000, 0), d - d / 2);
        assert_int_equal(ag_notify_backoff_ms(a, 1000, 3600000, (uint32_t)(d / 2)), d);
        for (uint32_t r = 0; r < 5000; r += 37) {
            int64_t v = ag_notify_backoff_ms(a, 1000, 3600000, r * 7919u);
            assert_true(v >= d - d / 2 && v <= d);
        }
    }
}

static void test_backoff_caps_and_clamps(void **state)
{
    (void)state;
    assert_int_equal(ag_notify_backoff_ms(40, 1000, 60000, 0), 30000);
    assert_int_equal(ag_notify_backoff_ms(1000, 1000, 60000, 30000), 60000);
    assert_true(ag_notify_backoff_ms(1000, 1000, 60000, UINT32_MAX) <= 60000);
    assert_int_equal(ag_notify_backoff_ms(0, 1000, 60000, 0), 500); /* as attempt 1 */
    assert_int_equal(ag_notify_backoff_ms(-5, 1000, 60000, 0), 500);
    assert_true(ag_notify_backoff_ms(3, 0, 0, 0) >= 1);
    /* never decreasing in the attempt number (without jitter) */
    int64_t prev = 0;
    for (int a = 1; a < 70; a++) {
        int64_t v = ag_notify_backoff_ms(a, 2000, 3600000, 0);
        assert_true(v >= prev);
        prev = v;
    }
}

/* ---- Standard Webhooks ---- */

static void test_sign_reference_vector(void **state)
{
    (void)state;
    /* The example of the Standard Webhooks reference libraries' tests. */
    uint8_t key[AG_NOTIFY_WEBHOOK_KEY_MAX];
    size_t klen;
    assert_int_equal(ag_notify_webhook_secret_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key,
                                                    &klen),
                     0);
    assert_int_equal(klen, 24);
    const char *body = "{\"test\": 2432232314}";
    char sig[AG_NOTIFY_WEBHOOK_SIG_TEXT];
    ag_notify_webhook_sign(key, klen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                           strlen(body), sig);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_sign_matches_plain_hmac(void **state)
{
    (void)state;
    uint8_t key[AG_NOTIFY_WEBHOOK_KEY_LEN];
    char text[AG_NOTIFY_WEBHOOK_SECRET_TEXT];
    ag_notify_webhook_secret_new(key, text, sizeof text);
    assert_memory_equal(text, "whsec_", 6);
    uint8_t back[AG_NOTIFY_WEBHOOK_KEY_MAX];
    size_t blen;
    assert_int_equal(ag_notify_webhook_secret_parse(text, back, &blen), 0);
    assert_int_equal(blen, sizeof key);
    assert_memory_equal(back, key, sizeof key);
    const char *body = "{\"type\":\"alert.password_changed\"}";
    char sig[AG_NOTIFY_WEBHOOK_SIG_TEXT];
    ag_notify_webhook_sign(key, sizeof key, "msg_x", 1700000000, body, strlen(body), sig);
    char signed_content[256];
    snprintf(signed_content, sizeof signed_content, "msg_x.1700000000.%s", body);
    uint8_t mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof key);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)signed_content, strlen(signed_content));
    crypto_auth_hmacsha256_final(&st, mac);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, mac, 32, sodium_base64_VARIANT_ORIGINAL);
    assert_memory_equal(sig, "v1,", 3);
    assert_string_equal(sig + 3, b64);
    /* a different body or id signs differently */
    char sig2[AG_NOTIFY_WEBHOOK_SIG_TEXT];
    ag_notify_webhook_sign(key, sizeof key, "msg_y", 1700000000, body, strlen(body), sig2);
    assert_string_not_equal(sig, sig2);
}

static void test_secret_parse_rejects_junk(void **state)
{
    (void)state;
    uint8_t key[AG_NOTIFY_WEBHOOK_KEY_MAX];
    size_t n;
    assert_int_not_equal(ag_notify_webhook_secret_parse("whsec_", key, &n), 0);
    assert_int_not_equal(ag_notify_webhook_secret_parse("whsec_!!!notbase64", key, &n), 0);
    assert_int_not_equal(ag_notify_webhook_secret_parse("", key, &n), 0);
    char longer[200] = "whsec_";
    memset(longer + 6, 'A', 150);
    assert_int_not_equal(ag_notify_webhook_secret_parse(longer, key, &n), 0);
}

static void test_kind_patterns(void **state)
{
    (void)state;
    assert_true(ag_notify_webhook_kind_matches("*", "alert.password_changed"));
    assert_true(ag_notify_webhook_kind_matches("alert.*", "alert.password_changed"));
    assert_true(ag_notify_webhook_kind_matches("case.updated alert.*", "alert.x"));
    assert_true(ag_notify_webhook_kind_matches("account.frozen", "account.frozen"));
    assert_false(ag_notify_webhook_kind_matches("account.frozen", "account.frozen2"));
    assert_false(ag_notify_webhook_kind_matches("alert.*", "alert."));
    assert_false(ag_notify_webhook_kind_matches("alert.*", "alerts.x"));
    assert_false(ag_notify_webhook_kind_matches("alert", "alert.x"));
    assert_false(ag_notify_webhook_kind_matches("", "alert.x"));
}

static void test_seal_roundtrip_and_tamper(void **state)
{
    (void)state;
    uint8_t k[32], k2[32], msg[24], box[128], out[64];
    randombytes_buf(k, sizeof k);
    randombytes_buf(k2, sizeof k2);
    randombytes_buf(msg, sizeof msg);
    size_t bl, ol;
    assert_int_equal(ag_notify_seal(k, msg, sizeof msg, box, &bl), 0);
    assert_int_equal(bl, sizeof msg + 40);
    assert_int_equal(ag_notify_unseal(k, box, bl, out, sizeof out, &ol), 0);
    assert_int_equal(ol, sizeof msg);
    assert_memory_equal(out, msg, sizeof msg);
    assert_int_not_equal(ag_notify_unseal(k2, box, bl, out, sizeof out, &ol), 0);
    box[bl - 1] ^= 1;
    assert_int_not_equal(ag_notify_unseal(k, box, bl, out, sizeof out, &ol), 0);
    assert_int_not_equal(ag_notify_unseal(k, box, 10, out, sizeof out, &ol), 0);
}

/* ---- owner alerts, table-driven over the event types ---- */

struct alert_case {
    const char *type;
    int action;
    const char *codes[4];
    const char *want; /* NULL: no alert */
    bool urgent;
};

static const struct alert_case alert_cases[] = {
    {"login.succeeded", AG_ACTION_ALLOW, {"new_device"}, "alert.new_device_login", true},
    {"login.succeeded", AG_ACTION_CHALLENGE, {"new_device", "new_country"},
     "alert.new_device_login", true},
    {"login.succeeded", AG_ACTION_ALLOW, {"new_country"}, "alert.unusual_login", true},
    {"login.succeeded", AG_ACTION_ALLOW, {"impossible_travel"}, "alert.unusual_login", true},
    {"login.succeeded", AG_ACTION_ALLOW, {"rule:odd_login"}, "alert.unusual_login", true},
    {"login.succeeded", AG_ACTION_REVIEW, {"new_ip"}, "alert.unusual_login", true},
    {"login.succeeded", AG_ACTION_ALLOW, {"new_ip", "new_user_agent"}, NULL, false},
    {"login.succeeded", AG_ACTION_ALLOW, {"first_login", "new_device"}, NULL, false},
    {"login.succeeded", AG_ACTION_CHALLENGE, {"first_login"}, NULL, false},
    {"login.succeeded", AG_ACTION_ALLOW, {"account_state_only"}, NULL, false},
    {"login.failed", AG_ACTION_DENY, {"new_device"}, NULL, false},
    {"password.changed", AG_ACTION_ALLOW, {0}, "alert.password_changed", true},
    {"email.changed", AG_ACTION_ALLOW, {0}, "alert.email_changed", true},
    {"phone.changed", AG_ACTION_ALLOW, {0}, "alert.phone_changed", true},
    {"mfa.disabled", AG_ACTION_ALLOW, {0}, "alert.mfa_disabled", true},
    {"mfa.enabled", AG_ACTION_ALLOW, {0}, "alert.mfa_enabled", false},
    {"payment_method.added", AG_ACTION_ALLOW, {0}, "alert.payment_method_added", false},
    {"payment_method.removed", AG_ACTION_ALLOW, {0}, "alert.payment_method_removed", false},
    {"shipping_address.added", AG_ACTION_ALLOW, {0}, "alert.shipping_address_added", false},
    {"payout_account.changed", AG_ACTION_REVIEW, {"rule:payout_after_risky_login"},
     "alert.payout_account_changed", true},
    {"subscription.activated", AG_ACTION_ALLOW, {0}, "alert.subscription_activated", false},
    {"password.reset_requested", AG_ACTION_ALLOW, {0}, "alert.recovery_requested", true},
    {"password.reset_completed", AG_ACTION_ALLOW, {0}, "alert.recovery_completed", true},
    {"order.placed", AG_ACTION_DENY, {"account_frozen"}, "alert.money_denied", true},
    {"wallet.transfer", AG_ACTION_DENY, {0}, "alert.money_denied", true},
    {"payout.requested", AG_ACTION_DENY, {0}, "alert.money_denied", true},
    {"order.placed", AG_ACTION_ALLOW, {0}, NULL, false},
    {"order.placed", AG_ACTION_REVIEW, {0}, NULL, false},
    {"profile.updated", AG_ACTION_ALLOW, {0}, NULL, false},
    {"listing.created", AG_ACTION_ALLOW, {0}, NULL, false},
    {"logout", AG_ACTION_ALLOW, {0}, NULL, false},
};

static void test_alert_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof alert_cases / sizeof alert_cases[0]; i++) {
        const struct alert_case *c = &alert_cases[i];
        const struct ag_event_type *t = ag_event_type_find(c->type);
        assert_non_null(t);
        int nc = 0;
        while (nc < 4 && c->codes[nc])
            nc++;
        struct ag_notify_alert out[AG_NOTIFY_ALERTS_MAX];
        int n = ag_notify_alerts_for_event(t->name, t->flags, c->action, c->codes, nc, out);
        if (!c->want) {
            if (n != 0)
                fail_msg("%s (case %zu): unexpected alert %s", c->type, i, out[0].kind);
            continue;
        }
        if (n != 1)
            fail_msg("%s (case %zu): %d alerts", c->type, i, n);
        assert_string_equal(out[0].kind, c->want);
        assert_int_equal(out[0].urgent, c->urgent);
        assert_int_equal(out[0].held, c->action >= AG_ACTION_REVIEW);
    }
}

static void test_every_account_change_type_alerts(void **state)
{
    (void)state;
    /* Any type flagged as a sensitive account change alerts, even one added
     * to the table later without a template of its own. */
    for (int i = 0; i < ag_event_types_count; i++) {
        const struct ag_event_type *t = &ag_event_types[i];
        if (!(t->flags & AG_EVT_ACCOUNT_CHANGE))
            continue;
        struct ag_notify_alert out[AG_NOTIFY_ALERTS_MAX];
        int n = ag_notify_alerts_for_event(t->name, t->flags, AG_ACTION_ALLOW, NULL, 0, out);
        if (n != 1)
            fail_msg("%s raises no alert", t->name);
    }
    struct ag_notify_alert out[AG_NOTIFY_ALERTS_MAX];
    assert_int_equal(ag_notify_alerts_for_event("future.change", AG_EVT_ACCOUNT_CHANGE,
                                                AG_ACTION_ALLOW, NULL, 0, out),
                     1);
    assert_string_equal(out[0].kind, "alert.account_change");
}

/* ---- email and SMS bodies ---- */

static void test_mime_message(void **state)
{
    (void)state;
    struct ag_notify_mime m = {.from = "guard@example.org", .from_name = "Mercado \"Sur\"",
                               .to = "ana@example.com",
                               .subject = "Votre mot de passe a été modifié",
                               .text = "Bonjour,\n\nligne", .html = "<p>Bonjour</p>",
                               .message_id = "msg_abc@accountguard", .date_ms = 0};
    struct ag_buf b = {0};
    assert_int_equal(ag_notify_mime_build(&m, &b), 0);
    ag_buf_append(&b, "", 1);
    assert_non_null(strstr(b.data, "From: \"Mercado \\\"Sur\\\"\" <guard@example.org>\r\n"));
    assert_non_null(strstr(b.data, "To: ana@example.com\r\n"));
    assert_non_null(strstr(b.data, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(b.data, "Message-ID: <msg_abc@accountguard>\r\n"));
    assert_non_null(strstr(b.data, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
    assert_non_null(strstr(b.data, "multipart/alternative"));
    assert_non_null(strstr(b.data, "text/plain; charset=UTF-8"));
    assert_non_null(strstr(b.data, "text/html; charset=UTF-8"));
    /* every line ends in CRLF and stays under 998 bytes */
    for (char *p = b.data; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(nl > p ? nl[-1] == '\r' : 0);
        assert_true(nl - p < 998);
        p = nl + 1;
    }
    ag_buf_free(&b);
    /* a non-ASCII display name is an encoded word */
    m.from_name = "Marché";
    struct ag_buf b4 = {0};
    assert_int_equal(ag_notify_mime_build(&m, &b4), 0);
    ag_buf_append(&b4, "", 1);
    assert_non_null(strstr(b4.data, "From: =?UTF-8?B?TWFyY2jDqQ==?= <guard@example.org>\r\n"));
    ag_buf_free(&b4);
    /* header injection through an address is refused */
    m.to = "ana@example.com\r\nBcc: evil@example.net";
    struct ag_buf b2 = {0};
    assert_int_equal(ag_notify_mime_build(&m, &b2), AG_EINVAL);
    ag_buf_free(&b2);
    /* a subject with a line break stays one header */
    m.to = "ana@example.com";
    m.subject = "a\r\nBcc: evil@example.net";
    m.html = NULL;
    struct ag_buf b3 = {0};
    assert_int_equal(ag_notify_mime_build(&m, &b3), 0);
    ag_buf_append(&b3, "", 1);
    assert_null(strstr(b3.data, "\r\nBcc:"));
    assert_null(strstr(b3.data, "multipart"));
    ag_buf_free(&b3);
}

static void test_sms_body_escaping(void **state)
{
    (void)state;
    struct ag_buf b = {0};
    assert_int_equal(ag_notify_sms_body("{\"to\":\"{to}\",\"text\":\"{text}\"}", "application/json",
                                        "+34600000000", "Say \"hi\"\n\\", &b),
                     0);
    ag_buf_append(&b, "", 1);
    assert_string_equal(b.data, "{\"to\":\"+34600000000\",\"text\":\"Say \\\"hi\\\"\\n\\\\\"}");
    ag_buf_free(&b);
    struct ag_buf f = {0};
    assert_int_equal(ag_notify_sms_body("to={to}&msg={text}", "application/x-www-form-urlencoded",
                                        "+4912345678", "a b&c=d é", &f),
                     0);
    ag_buf_append(&f, "", 1);
    assert_string_equal(f.data, "to=%2B4912345678&msg=a+b%26c%3Dd+%C3%A9");
    ag_buf_free(&f);
}

static void test_address_checks(void **state)
{
    (void)state;
    assert_true(ag_notify_email_valid("ana@example.com"));
    assert_false(ag_notify_email_valid("ana@example"));
    assert_false(ag_notify_email_valid("ana example@x.com"));
    assert_false(ag_notify_email_valid("<ana@x.com>"));
    assert_false(ag_notify_email_valid("a@b@c.com"));
    assert_false(ag_notify_email_valid("ana@x.com\r\n"));
    assert_true(ag_notify_phone_valid("+34600111222"));
    assert_false(ag_notify_phone_valid("34600111222"));
    assert_false(ag_notify_phone_valid("+34 600"));
    assert_false(ag_notify_phone_valid("+1234567890123456"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_with_equal_jitter),
        cmocka_unit_test(test_backoff_caps_and_clamps),
        cmocka_unit_test(test_sign_reference_vector),
        cmocka_unit_test(test_sign_matches_plain_hmac),
        cmocka_unit_test(test_secret_parse_rejects_junk),
        cmocka_unit_test(test_kind_patterns),
        cmocka_unit_test(test_seal_roundtrip_and_tamper),
        cmocka_unit_test(test_alert_table),
        cmocka_unit_test(test_every_account_change_type_alerts),
        cmocka_unit_test(test_mime_message),
        cmocka_unit_test(test_sms_body_escaping),
        cmocka_unit_test(test_address_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
