/* accountguard apikey create|list|revoke: API keys from the command line.
 * The key is printed once at creation; only its hash is stored. */
#include "api/api.h"
#include "cli/cli.h"
#include "core/secret.h"
#include "core/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int print_key(void *arg, const struct ag_apikey_rec *k)
{
    char created[40];
    ag_time_format(k->created_at, created, sizeof created);
    printf("%s\t%s\t%s\t%s\t%s\n", k->id, k->name, k->scopes, created,
           k->revoked_at ? "revoked" : "active");
    return 0;
}

int ag_cmd_apikey(int argc, char **argv)
{
    const char *name = ag_cli_take_opt(&argc, argv, "name", NULL);
    const char *scopes = ag_cli_take_opt(&argc, argv, "scopes", NULL);
    struct ag_config cfg;
    int first, rc = ag_cli_config("apikey", &cfg, argc, argv, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    const char *action = first < argc ? argv[first] : NULL;
    if (!action || (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "revoke"))) {
        fprintf(stderr, "accountguard apikey: say create, list or revoke (see --help)\n");
        ag_config_free(&cfg);
        return 2;
    }
    struct ag_err err;
    uint8_t secret[AG_SECRET_LEN], hkey[AG_SECRET_LEN];
    struct ag_store *store = NULL;
    mkdir(cfg.data_dir, 0700);
    if ((rc = ag_secret_load(cfg.secret_key_file, true, secret, &err)) ||
        (rc = ag_store_open(cfg.store, NULL, &store, &err))) {
        fprintf(stderr, "accountguard apikey: %s\n", err.msg);
        ag_config_free(&cfg);
        return 1;
    }
    ag_secret_derive(secret, "apikey", hkey);
    sodium_memzero(secret, sizeof secret);
    int status = 0;
    if (!strcmp(action, "create")) {
        char token[128];
        struct ag_apikey_rec k;
        if (!name || !scopes) {
            fprintf(stderr, "accountguard apikey create: --name and --scopes are required\n");
            status = 2;
        } else if (ag_api_key_create(store, hkey, name, scopes, token, sizeof token, &k, &err)) {
            fprintf(stderr, "accountguard apikey create: %s\n", err.msg);
            status = 1;
        } else {
            printf("%s\n", token);
            fprintf(stderr, "created key %s (%s) with scopes: %s\n"
                            "the key is shown only now; store it safely\n",
                    k.id, k.name, k.scopes);
            sodium_memzero(token, sizeof token);
        }
    } else if (!strcmp(action, "list")) {
        printf("id\tname\tscopes\tcreated\tstate\n");
        if (ag_store_apikey_list(store, print_key, NULL, &err)) {
            fprintf(stderr, "accountguard apikey list: %s\n", err.msg);
            status = 1;
        }
    } else {
        const char *id = first + 1 < argc ? argv[first + 1] : NULL;
        if (!id) {
            fprintf(stderr, "accountguard apikey revoke: give the key id (see apikey list)\n");
            status = 2;
        } else if (ag_api_key_revoke(store, id, &err)) {
            fprintf(stderr, "accountguard apikey revoke: %s\n", err.msg);
            status = 1;
        } else {
            printf("revoked %s\n", id);
        }
    }
    sodium_memzero(hkey, sizeof hkey);
    ag_store_close(store);
    ag_config_free(&cfg);
    return status;
}
