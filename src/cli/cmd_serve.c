/* accountguard serve: open the store (migrating it), build the pipeline's
 * hot state, serve the HTTP API until SIGINT/SIGTERM, then drain: stop
 * accepting, let open requests finish (their writes commit), close. */
#include "api/api.h"
#include "api/console.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "rules/rules.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ag_cmd_serve(int argc, char **argv)
{
    struct ag_config cfg;
    int first, rc = ag_cli_config("serve", &cfg, argc, argv, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (first < argc) {
        fprintf(stderr, "accountguard serve: unexpected argument '%s'\n", argv[first]);
        ag_config_free(&cfg);
        return 2;
    }
    /* Block the signals we wait for before any thread starts, so every
     * thread inherits the mask and sigwait below receives them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct ag_app app = {.cfg = &cfg, .started_at = ag_time_now_ms()};
    struct ag_err err;
    struct ag_http_server *http = NULL;
    uint8_t secret[AG_SECRET_LEN];
    int status = 1;
    if (mkdir(cfg.data_dir, 0700) && access(cfg.data_dir, W_OK)) {
        fprintf(stderr, "accountguard serve: cannot use data directory %s\n", cfg.data_dir);
        goto out;
    }
    if (ag_secret_load(cfg.secret_key_file, true, secret, &err)) {
        fprintf(stderr, "accountguard serve: %s\n", err.msg);
        goto out;
    }
    ag_secret_derive(secret, "apikey", app.apikey_key);
    rc = ag_api_console_open(&app, secret, &err);
    sodium_memzero(secret, sizeof secret);
    if (rc) {
        fprintf(stderr, "accountguard serve: %s\n", err.msg);
        goto out;
    }
    struct ag_store_options so = {.read_pool = (int)cfg.read_pool,
                                  .batch_max = (int)cfg.commit_batch_max};
    if (ag_store_open(cfg.store, &so, &app.store, &err)) {
        fprintf(stderr, "accountguard serve: %s\n", err.msg);
        goto out;
    }
    struct ag_pipeline_options po = {.cfg = &cfg, .store = app.store, .hooks = ag_app_hooks};
    if (ag_pipeline_open(&po, &app.pipeline, &err)) {
        fprintf(stderr, "accountguard serve: %s\n", err.msg);
        goto out;
    }
    char demo_key[128] = "", demo_console[512] = "";
    if (cfg.demo && (ag_demo_seed(&app, demo_key, sizeof demo_key, &err) ||
                     ag_api_console_demo(&app, demo_console, sizeof demo_console, &err))) {
        fprintf(stderr, "accountguard serve: demo data: %s\n", err.msg);
        goto out;
    }
    struct ag_http_options ho = {
        .listen = cfg.listen,
        .threads = (int)cfg.http_threads,
        .max_connections = (int)cfg.max_connections,
        .timeout_s = (int)cfg.connection_timeout_s,
        .max_body = (size_t)cfg.max_body_bytes,
        .dispatch = ag_api_dispatch,
        .complete = ag_api_complete,
        .app = &app,
    };
    if (ag_http_server_start(&ho, &http, &err)) {
        fprintf(stderr, "accountguard serve: %s\n", err.msg);
        goto out;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", ag_http_server_port(http));
    ag_log(AG_LOG_INFO, "serving", "listen", cfg.listen, "port", port, "store",
           ag_store_backend(app.store), "version", AG_VERSION, NULL);
    if (cfg.demo) {
        ag_demo_banner(&cfg, ag_http_server_port(http), demo_key);
        printf("%s\n", demo_console);
        fflush(stdout);
    }
    sodium_memzero(demo_key, sizeof demo_key);
    sodium_memzero(demo_console, sizeof demo_console);

    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig))
            continue;
        if (sig == SIGHUP) {
            struct ag_rules_pos pos = {0};
            struct ag_err rerr;
            if (ag_pipeline_rules_reload(app.pipeline, NULL, 0, &pos, &rerr))
                ag_log(AG_LOG_ERROR, "rules reload refused; the running rules stay", "error",
                       rerr.msg, NULL);
            else
                ag_log(AG_LOG_INFO, "rules reloaded", "file",
                       ag_pipeline_rules_path(app.pipeline), NULL);
            continue;
        }
        break;
    }
    ag_log(AG_LOG_INFO, "shutting down", NULL);
    ag_http_server_quiesce(http);
    for (int i = 0; i < 1000 && ag_http_server_active(http) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    status = 0;
out:
    ag_http_server_stop(http);
    ag_pipeline_close(app.pipeline);
    ag_store_close(app.store);
    ag_api_console_close(&app);
    sodium_memzero(app.apikey_key, sizeof app.apikey_key);
    ag_config_free(&cfg);
    return status;
}
