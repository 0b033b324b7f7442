/* The analyst console over HTTP: a console session (cookie, plus the CSRF
 * header on state-changing methods) stands in for an API key in dispatch,
 * with the scopes of the user's role; sign-in, sign-out and "who am I";
 * the overview figures; the embedded web assets with their caching and
 * Content-Security-Policy; and the audit record of every console action.
 * The security core (users, sessions, CSRF tokens) is src/console/. */
#ifndef AG_API_CONSOLE_H
#define AG_API_CONSOLE_H

#include "api/api.h"

/* Open the console's state from the server secret <secret> (kept by the
 * caller) and the settings in app->cfg; sets app->console. */
int ag_api_console_open(struct ag_app *app, const uint8_t secret[AG_SECRET_LEN],
                        struct ag_err *err);
void ag_api_console_close(struct ag_app *app);

enum ag_api_console_auth {
    AG_API_CONSOLE_NONE = 0, /* no console session involved: check the API key */
    AG_API_CONSOLE_OK,       /* a console session is the principal; call the handler */
    AG_API_CONSOLE_DENIED,   /* refused; the response is written */
};
/* Called by dispatch for every routed request. A request without an
 * Authorization header but with the console cookie is authenticated by the
 * session: CSRF header required on methods other than GET/HEAD, the route's
 * scope checked against the role (analyst: every read scope and
 * cases/accounts/messages/intel writes; admin: all), the principal set to
 * "console:<name>". Public routes (scope NULL) are left alone. */
enum ag_api_console_auth ag_api_console_authorize(struct ag_app *app, struct ag_http_req *req,
                                                  const struct ag_route *route);
/* Does <role> grant <scope>? */
bool ag_api_console_role_allows(const char *role, const char *scope);
/* Called by the completion callback: a state-changing request made by a
 * console user goes into the audit log (asynchronously; console sign-in and
 * sign-out record themselves). */
void ag_api_console_audit(struct ag_app *app, struct ag_http_req *req);

/* For `serve --demo`: make sure a demo console admin exists and fill the
 * lines to print (name, password, TOTP secret), kept in
 * <data_dir>/demo-console so later runs print them again. */
int ag_api_console_demo(struct ag_app *app, char *out, size_t cap, struct ag_err *err);

/* Handlers. */
void ag_api_console_root(struct ag_app *app, struct ag_http_req *req);
void ag_api_console_index(struct ag_app *app, struct ag_http_req *req);
void ag_api_console_asset(struct ag_app *app, struct ag_http_req *req);
void ag_api_console_login(struct ag_app *app, struct ag_http_req *req);
void ag_api_console_logout(struct ag_app *app, struct ag_http_req *req);
void ag_api_console_me(struct ag_app *app, struct ag_http_req *req);
void ag_api_stats_overview(struct ag_app *app, struct ag_http_req *req);

#endif
