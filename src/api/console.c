/* Console sign-in, sign-out and "who am I" (/console/api/...), the console
 * state's life cycle, and the demo console user of `serve --demo`. */
#include "api/console.h"
#include "console/console.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "identity/token.h"
#include "identity/totp.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ag_api_console_open(struct ag_app *app, const uint8_t secret[AG_SECRET_LEN],
                        struct ag_err *err)
{
    const struct ag_config *cfg = app->cfg;
    struct ag_console_options o = {
        .idle_timeout_s = cfg->console_idle_timeout_s,
        .session_max_s = cfg->console_session_max_s,
        .cookie_secure = cfg->console_cookie_secure,
        .pwhash = {.opslimit = (uint64_t)cfg->password_hash_ops,
                   .memlimit = (size_t)cfg->password_hash_mem_kib * 1024},
        .issuer = cfg->platform_name,
    };
    return ag_console_open(secret, &o, &app->console, err);
}

void ag_api_console_close(struct ag_app *app)
{
    ag_console_close(app->console);
    app->console = NULL;
}

static struct ag_console *console_of(struct ag_app *app, struct ag_http_req *req)
{
    if (!app->console)
        ag_api_error(req, AG_EUNAVAIL, "console_unavailable", "",
                     "the console is not enabled in this process");
    return app->console;
}

static json_t *scopes_of(const char *role)
{
    json_t *a = json_array();
    for (int i = 0; i < ag_api_scopes_count; i++)
        if (ag_api_console_role_allows(role, ag_api_scopes[i]))
            json_array_append_new(a, json_string(ag_api_scopes[i]));
    return a;
}

static json_t *session_json(const struct ag_console *c, const struct ag_console_principal *p)
{
    char exp[40], idle[40];
    ag_time_format_ms(p->expires_at, exp, sizeof exp);
    ag_time_format_ms(p->idle_ends_at, idle, sizeof idle);
    return json_pack("{s:{s:s, s:s}, s:s, s:s, s:s, s:I, s:o}", "user", "name", p->name, "role",
                     p->role, "session_id", p->session_id, "csrf_token", p->csrf, "expires_at", exp,
                     "idle_timeout_s", (json_int_t)ag_console_options(c)->idle_timeout_s, "scopes",
                     scopes_of(p->role));
}

static void no_store(struct ag_http_req *req)
{
    ag_http_add_header(req, "Cache-Control", "no-store");
}

void ag_api_console_login(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_console *c = console_of(app, req);
    if (!c)
        return;
    const char *site = ag_http_header(req, "Sec-Fetch-Site");
    if (site && !strcmp(site, "cross-site")) {
        ag_api_error(req, AG_EFORBIDDEN, "csrf_failed", "", "sign in from the console's own page");
        return;
    }
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    const char *name = NULL, *password = NULL, *code = NULL;
    struct ag_err err;
    int rc;
    if ((rc = ag_json_str(body, "name", "name", AG_CONSOLE_NAME_MAX, true, &name, &err)) ||
        (rc = ag_json_str(body, "password", "password", 1024, true, &password, &err)) ||
        (rc = ag_json_str(body, "code", "code", 16, true, &code, &err))) {
        json_decref(body);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    char token[AG_IDENTITY_TOKEN_MAX];
    struct ag_console_principal p;
    int64_t retry_ms = 0;
    rc = ag_console_login(c, app->store, name, password, code, req->client_ip,
                          ag_http_header(req, "User-Agent"), token, &p, &retry_ms, &err);
    json_decref(body);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        if (rc == AG_ERATE) {
            char ra[24];
            snprintf(ra, sizeof ra, "%lld", (long long)((retry_ms + 999) / 1000));
            ag_http_add_header(req, "Retry-After", ra);
        }
        no_store(req);
        return;
    }
    snprintf(req->principal, sizeof req->principal, "console:%s", p.name);
    char cookie[256];
    ag_console_cookie_format(c, token, cookie, sizeof cookie);
    sodium_memzero(token, sizeof token);
    ag_http_respond_json(req, 200, session_json(c, &p));
    ag_http_add_header(req, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
    no_store(req);
}

void ag_api_console_logout(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_console *c = console_of(app, req);
    if (!c)
        return;
    struct ag_console_principal p;
    struct ag_err err;
    char clear[160];
    ag_console_cookie_format(c, NULL, clear, sizeof clear);
    int rc = ag_console_session_check(c, app->store, ag_http_header(req, "Cookie"), &p, &err);
    if (rc == 0) {
        snprintf(req->principal, sizeof req->principal, "console:%s", p.name);
        if (!ag_console_csrf_ok(&p, ag_http_header(req, AG_CONSOLE_CSRF_HEADER))) {
            ag_api_error(req, AG_EFORBIDDEN, "csrf_failed", "",
                         "signing out needs the session's %s header", AG_CONSOLE_CSRF_HEADER);
            return;
        }
        if ((rc = ag_console_logout(c, app->store, &p, &err))) {
            ag_http_respond_error(req, 0, &err);
            return;
        }
    } else if (rc != AG_EAUTH) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    /* Without a live session there is nothing to end; the cookie goes anyway. */
    ag_http_respond_json(req, 200, json_pack("{s:b}", "signed_out", 1));
    ag_http_add_header(req, "Set-Cookie", clear);
    no_store(req);
}

void ag_api_console_me(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_console *c = console_of(app, req);
    if (!c)
        return;
    struct ag_console_principal p;
    struct ag_err err;
    int rc = ag_console_session_check(c, app->store, ag_http_header(req, "Cookie"), &p, &err);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        if (rc == AG_EAUTH && strcmp(err.slug, "no_session") != 0) {
            char clear[160];
            ag_console_cookie_format(c, NULL, clear, sizeof clear);
            ag_http_add_header(req, "Set-Cookie", clear);
        }
        no_store(req);
        return;
    }
    snprintf(req->principal, sizeof req->principal, "console:%s", p.name);
    ag_http_respond_json(req, 200, session_json(c, &p));
    no_store(req);
}

/* ---- demo ---- */

int ag_api_console_demo(struct ag_app *app, char *out, size_t cap, struct ag_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/demo-console", app->cfg->data_dir);
    char name[65] = "demo", password[80] = "", secret[80] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        int n = fscanf(f, "%64s %79s %79s", name, password, secret);
        fclose(f);
        struct ag_console_user_rec u;
        if (n == 3 && ag_store_console_user_get(app->store, name, &u, NULL) == 0)
            goto print;
    }
    struct ag_console_user_rec u;
    if (ag_store_console_user_get(app->store, "demo", &u, NULL) == 0) {
        snprintf(out, cap, "  console:          a user 'demo' exists, but its password is not in %s\n",
                 path);
        return 0;
    }
    uint8_t b[12];
    randombytes_buf(b, sizeof b);
    char hex[25];
    ag_hex(b, sizeof b, hex);
    snprintf(password, sizeof password, "demo-%s", hex);
    char uri[AG_IDENTITY_TOTP_URI_MAX];
    int rc = ag_console_user_create(app->console, app->store, "demo", "admin", password,
                                    "system:demo", uri, secret, err);
    sodium_memzero(uri, sizeof uri);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        char line[256];
        int n = snprintf(line, sizeof line, "demo %s %s\n", password, secret);
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
        sodium_memzero(line, sizeof line);
    }
print:
    snprintf(out, cap,
             "  console sign-in:  user %s, password %s (admin; kept in %s)\n"
             "                    code: oathtool --totp -b %s  (or add the secret to an\n"
             "                    authenticator app)\n",
             name, password, path, secret);
    sodium_memzero(password, sizeof password);
    sodium_memzero(secret, sizeof secret);
    return 0;
}
