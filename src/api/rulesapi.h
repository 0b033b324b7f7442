/* /v1/rules: read, validate, publish, reload and backtest the decision
 * rules (scope rules:write). */
#ifndef AG_API_RULESAPI_H
#define AG_API_RULESAPI_H

#include "api/api.h"

void ag_api_rules_get(struct ag_app *app, struct ag_http_req *req);
void ag_api_rules_validate(struct ag_app *app, struct ag_http_req *req);
void ag_api_rules_put(struct ag_app *app, struct ag_http_req *req);
void ag_api_rules_reload(struct ag_app *app, struct ag_http_req *req);
void ag_api_rules_backtest(struct ag_app *app, struct ag_http_req *req);

#endif
