/* accountguard console-user create|list|disable|enable: the analyst
 * console's users from the command line. create prints the TOTP enrollment
 * URI once (the user adds it to an authenticator app); only the password's
 * Argon2id hash and the sealed TOTP secret are stored. */
#include "api/api.h"
#include "api/console.h"
#include "cli/cli.h"
#include "console/console.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "identity/totp.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int print_user(void *arg, const struct ag_console_user_rec *u)
{
    (void)arg;
    char created[40], last[40] = "never";
    ag_time_format(u->created_at, created, sizeof created);
    if (u->last_login_at)
        ag_time_format(u->last_login_at, last, sizeof last);
    printf("%s\t%s\t%s\t%s\t%s\n", u->name, u->role, created, last,
           u->disabled_at ? "disabled" : "active");
    return 0;
}

/* The new user's password: from a file, the environment, or stdin (one line). */
static int read_password(const char *file, char *out, size_t cap)
{
    const char *env = getenv("AG_CONSOLE_PASSWORD");
    if (!file && env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    FILE *f = file ? fopen(file, "r") : stdin;
    if (!f)
        return -1;
    if (!file && isatty(fileno(stdin)))
        fprintf(stderr, "password for the new console user: ");
    int ok = fgets(out, (int)cap, f) != NULL;
    if (file)
        fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok ? 0 : -1;
}

int ag_cmd_console_user(int argc, char **argv)
{
    const char *name = ag_cli_take_opt(&argc, argv, "name", NULL);
    const char *role = ag_cli_take_opt(&argc, argv, "role", NULL);
    const char *pwfile = ag_cli_take_opt(&argc, argv, "password-file", NULL);
    struct ag_config cfg;
    int first, rc = ag_cli_config("console-user", &cfg, argc, argv, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    const char *action = first < argc ? argv[first] : NULL;
    if (!action || (strcmp(action, "create") && strcmp(action, "list") &&
                    strcmp(action, "disable") && strcmp(action, "enable"))) {
        fprintf(stderr, "accountguard console-user: say create, list, disable or enable (see --help)\n");
        ag_config_free(&cfg);
        return 2;
    }
    struct ag_err err;
    uint8_t secret[AG_SECRET_LEN];
    struct ag_app app = {.cfg = &cfg};
    mkdir(cfg.data_dir, 0700);
    if ((rc = ag_secret_load(cfg.secret_key_file, true, secret, &err)) ||
        (rc = ag_api_console_open(&app, secret, &err)) ||
        (rc = ag_store_open(cfg.store, NULL, &app.store, &err))) {
        fprintf(stderr, "accountguard console-user: %s\n", err.msg);
        sodium_memzero(secret, sizeof secret);
        ag_api_console_close(&app);
        ag_config_free(&cfg);
        return 1;
    }
    sodium_memzero(secret, sizeof secret);
    int status = 0;
    if (!strcmp(action, "create")) {
        char password[1100], uri[AG_IDENTITY_TOTP_URI_MAX];
        if (!name || !role) {
            fprintf(stderr, "accountguard console-user create: --name and --role are required\n");
            status = 2;
        } else if (read_password(pwfile, password, sizeof password)) {
            fprintf(stderr, "accountguard console-user create: no password given\n");
            status = 2;
        } else if (ag_console_user_create(app.console, app.store, name, role, password,
                                          "system:cli", uri, NULL, &err)) {
            fprintf(stderr, "accountguard console-user create: %s\n", err.msg);
            status = 1;
        } else {
            printf("%s\n", uri);
            fprintf(stderr,
                    "created console user %s (%s); add the otpauth URI above to an authenticator\n"
                    "app (it is shown only now), then sign in at /console/\n",
                    name, role);
        }
        sodium_memzero(password, sizeof password);
        sodium_memzero(uri, sizeof uri);
    } else if (!strcmp(action, "list")) {
        printf("name\trole\tcreated\tlast_sign_in\tstate\n");
        if (ag_store_console_user_list(app.store, print_user, NULL, &err)) {
            fprintf(stderr, "accountguard console-user list: %s\n", err.msg);
            status = 1;
        }
    } else {
        bool disable = !strcmp(action, "disable");
        const char *who = first + 1 < argc ? argv[first + 1] : name;
        if (!who) {
            fprintf(stderr, "accountguard console-user %s: give the user's name\n", action);
            status = 2;
        } else if (ag_console_user_disable(app.console, app.store, who, disable, "system:cli",
                                           &err)) {
            fprintf(stderr, "accountguard console-user %s: %s\n", action, err.msg);
            status = 1;
        } else {
            printf("%s %s\n", disable ? "disabled" : "enabled", who);
        }
    }
    ag_store_close(app.store);
    ag_api_console_close(&app);
    ag_config_free(&cfg);
    return status;
}
