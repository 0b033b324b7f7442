/* Demo data for `accountguard serve --demo` (make run): an API key with every
 * scope, kept in <data_dir>/demo-api-key so restarts print the same one, and
 * a small story of accounts and events run through the real pipeline. */
#ifndef AG_CLI_DEMO_H
#define AG_CLI_DEMO_H

#include "api/api.h"

int ag_demo_seed(struct ag_app *app, char *key, size_t keylen, struct ag_err *err);
void ag_demo_banner(const struct ag_config *cfg, int port, const char *key);

#endif
