/* The console's web assets, embedded at build time (console/assets.h):
 * "/" sends browsers to /console/, /console/ is the page (revalidated on
 * every load: it names the current hashed assets), /console/assets/<name>
 * are the hashed scripts and styles (cached for a year). Every answer
 * carries a strict Content-Security-Policy: only this origin's scripts and
 * styles, nothing inline, no framing, no plugins. */
#include "api/console.h"
#include "console/assets.h"

#include <stdio.h>
#include <string.h>

#define CSP                                                                                      \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "           \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"

static void page_headers(struct ag_http_req *req, const char *cache)
{
    ag_http_add_header(req, "Content-Security-Policy", CSP);
    ag_http_add_header(req, "X-Frame-Options", "DENY");
    ag_http_add_header(req, "Referrer-Policy", "no-referrer");
    ag_http_add_header(req, "Cross-Origin-Opener-Policy", "same-origin");
    ag_http_add_header(req, "Cache-Control", cache);
}

static void send_asset(struct ag_http_req *req, const char *path)
{
    const struct ag_console_asset *a = ag_console_asset_find(path);
    if (!a) {
        ag_api_error(req, AG_ENOTFOUND, "no_such_asset", "", "no console file %s", req->path);
        page_headers(req, "no-store");
        return;
    }
    ag_http_respond_bytes(req, 200, a->content_type, a->data, a->len);
    page_headers(req, a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
}

void ag_api_console_root(struct ag_app *app, struct ag_http_req *req)
{
    (void)app;
    static const char body[] = "the analyst console is at /console/\n";
    ag_http_respond_bytes(req, 302, "text/plain; charset=utf-8", body, sizeof body - 1);
    ag_http_add_header(req, "Location", "/console/");
    page_headers(req, "no-cache");
}

void ag_api_console_index(struct ag_app *app, struct ag_http_req *req)
{
    (void)app;
    send_asset(req, "index.html");
}

void ag_api_console_asset(struct ag_app *app, struct ag_http_req *req)
{
    (void)app;
    char path[300];
    snprintf(path, sizeof path, "assets/%s", req->params[0]);
    send_asset(req, path);
}
