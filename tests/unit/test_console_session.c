/* The console's security core against a real (in-memory) store: user
 * creation rules, sign-in with password and TOTP (each code once, one
 * answer for every refusal, throttling), sessions from the cookie, the
 * idle timeout, CSRF tokens bound to their session, sign-out, disabling,
 * cookie parsing and the Set-Cookie flags; and the embedded assets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "console/assets.h"
#include "console/console.h"
#include "identity/token.h"
#include "identity/totp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *PW = "correct horse battery staple 42";

struct fx {
    struct ag_store *store;
    struct ag_console *c;
    uint8_t secret[64];
    size_t secret_len;
    int64_t last_step;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct ag_err err;
    uint8_t master[32];
    memset(master, 7, sizeof master);
    struct ag_console_options o = {.idle_timeout_s = 1,
                                   .session_max_s = 3600,
                                   .cookie_secure = true,
                                   .pwhash = {.opslimit = 1, .memlimit = 8192 * 1024},
                                   .issuer = "Test:Co"};
    if (ag_store_open(":memory:", NULL, &f->store, &err) || ag_console_open(master, &o, &f->c, &err))
        return -1;
    char uri[AG_IDENTITY_TOTP_URI_MAX], b32[64];
    if (ag_console_user_create(f->c, f->store, "ann", "analyst", PW, "test", uri, b32, &err))
        return -1;
    assert_non_null(strstr(uri, "otpauth://totp/Test%20Co:ann?"));
    assert_non_null(strstr(uri, b32));
    assert_int_equal(ag_identity_base32_decode(b32, f->secret, sizeof f->secret, &f->secret_len), 0);
    f->last_step = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ag_console_close(f->c);
    ag_store_close(f->store);
    free(f);
    return 0;
}

/* A code for a step after the last one used, within one step of now. */
static void next_code(struct fx *f, char code[AG_IDENTITY_OTP_CODE_MAX])
{
    struct ag_identity_totp_params p = AG_IDENTITY_TOTP_DEFAULT;
    int64_t now = time(NULL) / 30;
    int64_t step = f->last_step + 1 > now - 1 ? f->last_step + 1 : now - 1;
    assert_true(step <= now + 1);
    f->last_step = step;
    assert_int_equal(ag_identity_totp_code(&p, f->secret, f->secret_len, step * 30, code), 0);
}

static int login(struct fx *f, const char *name, const char *pw, const char *code, char *token,
                 struct ag_console_principal *p, struct ag_err *err)
{
    int64_t retry;
    return ag_console_login(f->c, f->store, name, pw, code, "192.0.2.1", "test", token, p, &retry,
                            err);
}

static void cookie_of(const char *token, char *out, size_t cap)
{
    snprintf(out, cap, "theme=dark; ag_console=%s; other=1", token);
}

static void test_users_are_checked(void **state)
{
    struct fx *f = *state;
    char uri[AG_IDENTITY_TOTP_URI_MAX];
    struct ag_err err;
    assert_int_equal(ag_console_user_create(f->c, f->store, "ann", "admin", PW, "t", uri, NULL, &err),
                     AG_ECONFLICT);
    assert_int_equal(ag_console_user_create(f->c, f->store, "Bad Name", "admin", PW, "t", uri, NULL,
                                            &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "name");
    assert_int_equal(ag_console_user_create(f->c, f->store, "bob", "root", PW, "t", uri, NULL, &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "role");
    assert_int_equal(ag_console_user_create(f->c, f->store, "bob", "admin", "password1", "t", uri,
                                            NULL, &err),
                     AG_EINVAL);
    assert_string_equal(err.field, "password");
}

static void test_signin_session_csrf_logout(void **state)
{
    struct fx *f = *state;
    char code[AG_IDENTITY_OTP_CODE_MAX], token[AG_IDENTITY_TOKEN_MAX], cookie[200];
    struct ag_console_principal p, q;
    struct ag_err err;
    next_code(f, code);
    assert_int_equal(login(f, "ann", PW, code, token, &p, &err), 0);
    assert_string_equal(p.role, "analyst");
    assert_int_equal(strncmp(token, "agc_", 4), 0);
    /* the same code again is refused like any wrong code */
    char t2[AG_IDENTITY_TOKEN_MAX];
    assert_int_equal(login(f, "ann", PW, code, t2, &q, &err), AG_EAUTH);
    assert_string_equal(err.slug, "signin_failed");

    cookie_of(token, cookie, sizeof cookie);
    assert_int_equal(ag_console_session_check(f->c, f->store, cookie, &q, &err), 0);
    assert_string_equal(q.name, "ann");
    assert_string_equal(q.session_id, p.session_id);
    assert_string_equal(q.csrf, p.csrf);
    assert_true(ag_console_csrf_ok(&q, p.csrf));
    char bad[AG_CONSOLE_CSRF_LEN + 1];
    memcpy(bad, p.csrf, sizeof bad);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    assert_false(ag_console_csrf_ok(&q, bad));
    assert_false(ag_console_csrf_ok(&q, NULL));
    assert_false(ag_console_csrf_ok(&q, ""));

    /* a second session has its own CSRF token */
    next_code(f, code);
    struct ag_console_principal p2;
    assert_int_equal(login(f, "ann", PW, code, t2, &p2, &err), 0);
    assert_string_not_equal(p2.csrf, p.csrf);
    assert_false(ag_console_csrf_ok(&q, p2.csrf));

    assert_int_equal(ag_console_logout(f->c, f->store, &q, &err), 0);
    assert_int_equal(ag_console_session_check(f->c, f->store, cookie, &q, &err), AG_EAUTH);
    assert_string_equal(err.slug, "session_invalid");
    /* the other session lives on */
    cookie_of(t2, cookie, sizeof cookie);
    assert_int_equal(ag_console_session_check(f->c, f->store, cookie, &q, &err), 0);
}

static void test_refusals_look_alike_and_throttle(void **state)
{
    struct fx *f = *state;
    char code[AG_IDENTITY_OTP_CODE_MAX], token[AG_IDENTITY_TOKEN_MAX];
    struct ag_console_principal p;
    struct ag_err err;
    assert_int_equal(login(f, "nobody", PW, "123456", token, &p, &err), AG_EAUTH);
    assert_string_equal(err.slug, "signin_failed");
    assert_int_equal(login(f, "Not-Valid!", PW, "123456", token, &p, &err), AG_EAUTH);
    assert_string_equal(err.slug, "signin_failed");
    for (int i = 0; i < 6; i++) {
        assert_int_equal(login(f, "ann", "wrong password!", "123456", token, &p, &err), AG_EAUTH);
        assert_string_equal(err.slug, "signin_failed");
    }
    next_code(f, code);
    assert_int_equal(login(f, "ann", PW, code, token, &p, &err), AG_ERATE);
    assert_string_equal(err.slug, "signin_throttled");
}

static void test_idle_timeout(void **state)
{
    struct fx *f = *state;
    char code[AG_IDENTITY_OTP_CODE_MAX], token[AG_IDENTITY_TOKEN_MAX], cookie[200];
    struct ag_console_principal p;
    struct ag_err err;
    next_code(f, code);
    assert_int_equal(login(f, "ann", PW, code, token, &p, &err), 0);
    cookie_of(token, cookie, sizeof cookie);
    for (int i = 0; i < 3; i++) { /* use keeps it alive past the 1 s timeout */
        usleep(450 * 1000);
        assert_int_equal(ag_console_session_check(f->c, f->store, cookie, &p, &err), 0);
    }
    usleep(1300 * 1000);
    assert_int_equal(ag_console_session_check(f->c, f->store, cookie, &p, &err), AG_EAUTH);
    assert_string_equal(err.slug, "session_expired");
}

static void test_disable_ends_sessions(void **state)
{
    struct fx *f = *state;
    char code[AG_IDENTITY_OTP_CODE_MAX], token[AG_IDENTITY_TOKEN_MAX], cookie[200];
    struct ag_console_principal p;
    struct ag_err err;
    next_code(f, code);
    assert_int_equal(login(f, "ann", PW, code, token, &p, &err), 0);
    cookie_of(token, cookie, sizeof cookie);
    assert_int_equal(ag_console_user_disable(f->c, f->store, "ann", true, "t", &err), 0);
    assert_int_equal(ag_console_session_check(f->c, f->store, cookie, &p, &err), AG_EAUTH);
    next_code(f, code);
    assert_int_equal(login(f, "ann", PW, code, token, &p, &err), AG_EAUTH);
    assert_int_equal(ag_console_user_disable(f->c, f->store, "ann", false, "t", &err), 0);
    next_code(f, code);
    assert_int_equal(login(f, "ann", PW, code, token, &p, &err), 0);
    assert_int_equal(ag_console_user_disable(f->c, f->store, "zed", true, "t", &err), AG_ENOTFOUND);
}

static void test_cookies(void **state)
{
    struct fx *f = *state;
    char v[100], sc[200];
    assert_int_equal(ag_console_cookie_get("a=1; ag_console=agc_x ; b=2", "ag_console", v, sizeof v), 0);
    assert_string_equal(v, "agc_x");
    assert_int_equal(ag_console_cookie_get("xag_console=1", "ag_console", v, sizeof v), AG_ENOTFOUND);
    assert_int_equal(ag_console_cookie_get("ag_console=", "ag_console", v, sizeof v), AG_ENOTFOUND);
    assert_int_equal(ag_console_cookie_get(NULL, "ag_console", v, sizeof v), AG_ENOTFOUND);
    assert_int_equal(ag_console_cookie_get("ag_console=0123456789", "ag_console", v, 5), AG_ENOTFOUND);
    ag_console_cookie_format(f->c, "agc_t", sc, sizeof sc);
    assert_string_equal(sc, "ag_console=agc_t; Path=/; HttpOnly; SameSite=Strict; Secure");
    ag_console_cookie_format(f->c, NULL, sc, sizeof sc);
    assert_non_null(strstr(sc, "Max-Age=0"));
    struct ag_console_principal p;
    struct ag_err err;
    assert_int_equal(ag_console_session_check(f->c, f->store, "ag_console=agc_forged", &p, &err),
                     AG_EAUTH);
    assert_string_equal(err.slug, "session_invalid");
    assert_int_equal(ag_console_session_check(f->c, f->store, "other=1", &p, &err), AG_EAUTH);
    assert_string_equal(err.slug, "no_session");
}

static void test_assets(void **state)
{
    (void)state;
    const struct ag_console_asset *index = ag_console_asset_find("index.html");
    assert_non_null(index);
    assert_false(index->immutable);
    int scripts = 0;
    for (int i = 0; i < ag_console_assets_count; i++) {
        const struct ag_console_asset *a = &ag_console_assets[i];
        if (a != index) {
            assert_true(a->immutable);
            assert_non_null(memmem(index->data, index->len, a->path, strlen(a->path)));
        }
        scripts += strstr(a->path, ".js") != NULL;
    }
    assert_int_equal(scripts, 1);
    assert_null(ag_console_asset_find("../index.html"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signin_session_csrf_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_look_alike_and_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disable_ends_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookies, setup, teardown),
        cmocka_unit_test(test_assets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
