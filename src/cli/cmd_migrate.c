/* accountguard migrate: bring the store's schema up to this build's version
 * and exit (serve also migrates at start). */
#include "cli/cli.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int ag_cmd_migrate(int argc, char **argv)
{
    struct ag_config cfg;
    int first, rc = ag_cli_config("migrate", &cfg, argc, argv, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    mkdir(cfg.data_dir, 0700);
    struct ag_store *store;
    struct ag_err err;
    struct ag_store_options o = {.no_migrate = true, .read_pool = 1};
    int from, to;
    if (ag_store_open(cfg.store, &o, &store, &err) || ag_store_migrate(store, &from, &to, &err)) {
        fprintf(stderr, "accountguard migrate: %s\n", err.msg);
        ag_config_free(&cfg);
        return 1;
    }
    /* Never print a password that a postgres:// URL may carry. */
    char shown[512];
    snprintf(shown, sizeof shown, "%s", cfg.store);
    char *scheme = strstr(shown, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at && colon && colon < at)
        memmove(colon + 4, at, strlen(at) + 1), memcpy(colon, ":***", 4);
    if (from == to)
        printf("%s store %s is at schema version %d; nothing to do\n", ag_store_backend(store),
               shown, to);
    else
        printf("%s store %s migrated from schema version %d to %d\n", ag_store_backend(store),
               shown, from, to);
    ag_store_close(store);
    ag_config_free(&cfg);
    return 0;
}
