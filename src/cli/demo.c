/* Demo seeding. Events have fixed ids, so seeding twice changes nothing
 * (idempotency does the work). */
#include "cli/demo.h"
#include "cli/cli.h"
#include "cli/replay.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int demo_key(struct ag_app *app, char *key, size_t keylen, struct ag_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/demo-api-key", app->cfg->data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char buf[128] = "";
        int ok = fgets(buf, sizeof buf, f) != NULL;
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
        struct ag_apikey_rec k;
        char hdr[160];
        snprintf(hdr, sizeof hdr, "Bearer %s", buf);
        if (ok && ag_api_key_verify(app->store, app->apikey_key, hdr, &k, NULL) == 0) {
            snprintf(key, keylen, "%s", buf);
            return 0;
        }
    }
    int rc = ag_api_key_create(app->store, app->apikey_key, "demo", "admin", key, keylen, NULL, err);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        ssize_t n = write(fd, key, strlen(key));
        (void)n;
        close(fd);
    }
    return 0;
}

/* A short account story: a customer's usual logins, a takeover attempt
 * from elsewhere, a seller, and a frozen account. */
static const char *const demo_events[] = {
    "{\"id\":\"demo-1\",\"type\":\"account.created\","
    "\"account\":{\"id\":\"u_alice\",\"role\":\"customer\",\"locale\":\"en\"},"
    "\"context\":{\"ip\":\"81.2.69.160\",\"user_agent\":\"Mozilla/5.0 (Macintosh; Intel Mac OS X "
    "10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15\","
    "\"device_id\":\"d_alice_mac\"}}",
    "{\"id\":\"demo-2\",\"type\":\"login.succeeded\","
    "\"account\":{\"id\":\"u_alice\"},\"context\":{\"ip\":\"81.2.69.160\",\"user_agent\":"
    "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15\",\"device_id\":\"d_alice_mac\",\"session_id\":\"s_a1\"}}",
    "{\"id\":\"demo-3\",\"type\":\"order.placed\","
    "\"account\":{\"id\":\"u_alice\"},\"context\":{\"ip\":\"81.2.69.160\","
    "\"device_id\":\"d_alice_mac\"},\"properties\":{\"amount\":4599,\"currency\":\"GBP\","
    "\"order_id\":\"o_1001\"}}",
    "{\"id\":\"demo-4\",\"type\":\"login.failed\","
    "\"account\":{\"id\":\"u_alice\"},\"context\":{\"ip\":\"185.220.101.4\",\"user_agent\":"
    "\"python-requests/2.31.0\",\"device_id\":\"d_unknown_1\"}}",
    "{\"id\":\"demo-5\",\"type\":\"account.created\","
    "\"account\":{\"id\":\"u_bob_shop\",\"role\":\"seller\",\"locale\":\"de\"},"
    "\"context\":{\"ip\":\"2a02:810d:4b3f::1\",\"device_id\":\"d_bob_pc\"}}",
    "{\"id\":\"demo-6\",\"type\":\"payout_account.changed\","
    "\"account\":{\"id\":\"u_bob_shop\",\"role\":\"seller\"},\"context\":{\"ip\":"
    "\"2a02:810d:4b3f::1\",\"device_id\":\"d_bob_pc\"},\"properties\":{\"bank_fingerprint\":"
    "\"iban:DE89...3000\"}}",
};

int ag_demo_seed(struct ag_app *app, char *key, size_t keylen, struct ag_err *err)
{
    int rc = demo_key(app, key, keylen, err);
    if (rc)
        return rc;
    /* Seeded once: the events carry the time of the first seeding. */
    struct ag_event_row seeded;
    if (ag_store_event_get(app->store, "demo-1", &seeded, NULL) == 0) {
        ag_event_row_free(&seeded);
        return 0;
    }
    char ts[40];
    ag_time_format(ag_time_now_ms() - 3600 * 1000, ts, sizeof ts);
    for (size_t i = 0; i < sizeof demo_events / sizeof demo_events[0]; i++) {
        json_t *ev = json_loads(demo_events[i], 0, NULL);
        if (!ev)
            return ag_err_set(err, AG_EINTERNAL, "demo", "", "demo event %zu is not JSON", i);
        json_object_set_new(ev, "occurred_at", json_string(ts));
        struct ag_pipeline_reply r = {0};
        ag_pipeline_run(app->pipeline, ev, &r);
        json_decref(ev);
        if (r.status != 200) {
            rc = ag_err_set(err, AG_EINTERNAL, "demo", "", "demo event %zu: %d %s", i, r.status,
                            r.body ? r.body : "");
            free(r.body);
            return rc;
        }
        free(r.body);
    }
    /* A few weeks of a simulated marketplace: 150 customers with their
     * devices, travel and typos, and credential-stuffing, VPN and targeted
     * takeover attempts, all through the pipeline (so the risk model,
     * rules, alerts and cases have something to show). */
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/demo-logins.csv", app->cfg->data_dir);
    char *sim_argv[] = {"--users", "150", "--days", "21", "--seed", "7", "--out", csv,
                        "--ipdb_file", app->cfg->ipdb_file, NULL};
    fprintf(stderr, "seeding demo data (a simulated login stream)...\n");
    if (ag_cmd_simulate(10, sim_argv) == 0) {
        size_t n = 0;
        long failed = 0;
        if (ag_replay_run(app->pipeline, csv, true, NULL, false, &n, &failed) == 0)
            fprintf(stderr, "seeded %zu simulated logins (%ld failed)\n", n, failed);
    } else {
        ag_log(AG_LOG_WARN, "demo: the login simulation failed; demo has the story accounts only",
               NULL);
    }
    /* A frozen account, to show what a freeze does. */
    struct ag_account_state st;
    ag_pipeline_account_state(app->pipeline, "u_carol", ag_time_now_ms(), &st);
    if (!st.frozen)
        rc = ag_pipeline_account_freeze(app->pipeline, "u_carol", true,
                                        "customer reported a takeover", "demo", 0, NULL, err);
    return rc;
}

void ag_demo_banner(const struct ag_config *cfg, int port, const char *key)
{
    char host[256];
    snprintf(host, sizeof host, "%s", cfg->listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    if (!strcmp(host, "0.0.0.0") || !host[0])
        snprintf(host, sizeof host, "127.0.0.1");
    printf("\naccountguard %s is running on its embedded store (%s)\n\n", AG_VERSION, cfg->store);
    printf("  console and API:  http://%s:%d/\n", host, port);
    printf("  demo API key:     %s   (all scopes; kept in %s/demo-api-key)\n\n", key,
           cfg->data_dir);
    printf("  try it:\n"
           "    curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n"
           "      -d '{\"id\":\"try-1\",\"type\":\"login.succeeded\",\"occurred_at\":\"2026-11-21T10:00:00Z\",\n"
           "           \"account\":{\"id\":\"u_alice\"},\"context\":{\"ip\":\"203.0.113.7\"}}' \\\n"
           "      http://%s:%d/v1/events\n\n"
           "  stop with Ctrl-C\n\n",
           key, host, port);
    fflush(stdout);
}
