/* The settings table and the loaders for file, environment and flags. */
#include "core/config.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(f) offsetof(struct ag_config, f)

const struct ag_config_def ag_config_defs[] = {
    {"listen", AG_CFG_STR, S(listen), "127.0.0.1:8080", "address and port to serve HTTP on"},
    {"data_dir", AG_CFG_STR, S(data_dir), "var", "directory for the embedded store and keys"},
    {"store", AG_CFG_STR, S(store), "",
     "store: SQLite file path, ':memory:' or postgres://... (default <data_dir>/accountguard.db)"},
    {"secret_key_file", AG_CFG_STR, S(secret_key_file), "",
     "32-byte server secret, created if missing (default <data_dir>/secret.key)"},
    {"log_level", AG_CFG_STR, S(log_level), "info", "debug, info, warn or error"},
    {"log_file", AG_CFG_STR, S(log_file), "", "log to this file instead of stderr"},
    {"public_url", AG_CFG_STR, S(public_url), "", "external base URL for links (default http://<listen>)"},
    {"http_threads", AG_CFG_INT, S(http_threads), "0", "HTTP worker threads (0 = number of cores)"},
    {"max_connections", AG_CFG_INT, S(max_connections), "1024", "concurrent HTTP connections"},
    {"connection_timeout_s", AG_CFG_INT, S(connection_timeout_s), "30",
     "idle/slow connection timeout in seconds"},
    {"max_body_bytes", AG_CFG_INT, S(max_body_bytes), "1048576", "largest request body accepted"},
    {"max_json_depth", AG_CFG_INT, S(max_json_depth), "32", "deepest JSON nesting accepted"},
    {"rate_per_key", AG_CFG_INT, S(rate_per_key), "0", "requests/s per API key (0 = unlimited)"},
    {"rate_per_ip", AG_CFG_INT, S(rate_per_ip), "0", "requests/s per client IP (0 = unlimited)"},
    {"commit_batch_max", AG_CFG_INT, S(commit_batch_max), "2000",
     "most writes the store commits in one transaction (group commit)"},
    {"read_pool", AG_CFG_INT, S(read_pool), "8", "read connections to the store"},
    {"learned_flush_ms", AG_CFG_INT, S(learned_flush_ms), "1000",
     "risk profiles and account activity are written at most this long after an event changed "
     "them (one node; a crash loses at most this much learning, never an event; 0 = with every "
     "event)"},
    {"demo", AG_CFG_BOOL, S(demo), "false", "seed demo data and print a demo API key at start"},
    {"rules_file", AG_CFG_STR, S(rules_file), "", "decision rules (default: the shipped rules/default.rules)"},
    {"ipdb_file", AG_CFG_STR, S(ipdb_file), "/var/lib/location/database.db",
     "IPFire location database (libloc)"},
    {"uap_regexes", AG_CFG_STR, S(uap_regexes), "/usr/share/uap-core/regexes.yaml",
     "uap-core user-agent regexes"},
    {"risk_challenge", AG_CFG_DOUBLE, S(risk_challenge), "0.7", "risk at or above which to challenge"},
    {"risk_review", AG_CFG_DOUBLE, S(risk_review), "0.6", "risk at or above which to hold for review"},
    {"payout_hold_hours", AG_CFG_INT, S(payout_hold_hours), "48",
     "a new seller payout account not 2-step verified from a trusted device is held this long "
     "(0 = no hold)"},
    {"first_login_action", AG_CFG_STR, S(first_login_action), "allow",
     "strongest action the model's risk alone gives an account's first login (no history "
     "to compare with; rules still apply)"},
    {"risk_deny", AG_CFG_DOUBLE, S(risk_deny), "1", "risk at or above which to deny (1: the model alone never denies)"},
    {"platform_name", AG_CFG_STR, S(platform_name), "accountguard",
     "the platform's name in authenticator apps (TOTP issuer) and in one-time code texts"},
    {"password_hash_ops", AG_CFG_INT, S(password_hash_ops), "2",
     "Argon2id passes for passwords accountguard holds (changing it rehashes on next login)"},
    {"password_hash_mem_kib", AG_CFG_INT, S(password_hash_mem_kib), "65536",
     "Argon2id memory in KiB for held passwords (changing it rehashes on next login)"},
    {"passcode_hash_ops", AG_CFG_INT, S(passcode_hash_ops), "3", "Argon2id passes for wallet passcodes"},
    {"passcode_hash_mem_kib", AG_CFG_INT, S(passcode_hash_mem_kib), "65536",
     "Argon2id memory in KiB for wallet passcodes"},
    {"cases_auto_risk", AG_CFG_DOUBLE, S(cases_auto_risk), "0.8",
     "a deny/review decision at or above this risk opens (or joins) a fraud case"},
    {"cases_upload_max_bytes", AG_CFG_INT, S(cases_upload_max_bytes), "1048576",
     "largest evidence file accepted (also capped by max_body_bytes)"},
    {"cases_retry_interval_s", AG_CFG_INT, S(cases_retry_interval_s), "60",
     "how often failed secure-account playbook steps are retried in the background (0 = off)"},
    {"cases_fail_steps", AG_CFG_STR, S(cases_fail_steps), "",
     "drills and tests only: playbook steps to fail on purpose (comma-separated)"},
    {"notify_workers", AG_CFG_INT, S(notify_workers), "4", "notification delivery threads"},
    {"notify_max_attempts", AG_CFG_INT, S(notify_max_attempts), "8",
     "delivery attempts before a notification is dead (listed, re-drivable over the API)"},
    {"notify_backoff_base_ms", AG_CFG_INT, S(notify_backoff_base_ms), "2000",
     "first retry delay; doubles with each attempt, with jitter"},
    {"notify_backoff_max_ms", AG_CFG_INT, S(notify_backoff_max_ms), "3600000",
     "longest retry delay"},
    {"notify_lease_s", AG_CFG_INT, S(notify_lease_s), "60",
     "a claimed notification not finished by then (crash) is delivered again"},
    {"notify_timeout_s", AG_CFG_INT, S(notify_timeout_s), "10",
     "timeout of one delivery (webhook, SMTP, SMS gateway)"},
    {"smtp_url", AG_CFG_STR, S(smtp_url), "", "SMTP server for email alerts: smtp://host:587 or smtps://host:465"},
    {"smtp_from", AG_CFG_STR, S(smtp_from), "accountguard@localhost", "sender address of emails"},
    {"smtp_user", AG_CFG_STR, S(smtp_user), "", "SMTP login (empty = none)"},
    {"smtp_password", AG_CFG_STR, S(smtp_password), "", "SMTP password"},
    {"smtp_tls", AG_CFG_STR, S(smtp_tls), "try", "SMTP TLS: off, try (STARTTLS if offered) or require"},
    {"smtp_html", AG_CFG_BOOL, S(smtp_html), "true", "add an HTML part to alert emails"},
    {"sms_gateway_url", AG_CFG_STR, S(sms_gateway_url), "", "HTTP SMS gateway endpoint (POST)"},
    {"sms_gateway_auth", AG_CFG_STR, S(sms_gateway_auth), "",
     "SMS gateway auth: a header line ('X-Key: k') or an Authorization value ('Bearer t')"},
    {"sms_gateway_body", AG_CFG_STR, S(sms_gateway_body), "{\"to\":\"{to}\",\"text\":\"{text}\"}",
     "SMS gateway request body; {to} and {text} are replaced, escaped for the content type"},
    {"sms_gateway_content_type", AG_CFG_STR, S(sms_gateway_content_type), "application/json",
     "content type of the SMS gateway request"},
    {"alert_link_ttl_s", AG_CFG_INT, S(alert_link_ttl_s), "604800",
     "how long a \"this wasn't me\" link in an alert stays valid"},
    {"notify_retention_days", AG_CFG_INT, S(notify_retention_days), "30",
     "delivered notifications are deleted from the outbox after this many days (0 = keep)"},
    {"intel_from_messages", AG_CFG_BOOL, S(intel_from_messages), "false",
     "add the indicators of messages judged phishing (POST /v1/messages/analyze) to intel"},
    {"console_idle_timeout_s", AG_CFG_INT, S(console_idle_timeout_s), "900",
     "a console session unused this long ends (sign in again)"},
    {"console_session_max_s", AG_CFG_INT, S(console_session_max_s), "43200",
     "a console session ends this long after sign-in, used or not"},
    {"console_cookie_secure", AG_CFG_BOOL, S(console_cookie_secure), "true",
     "mark the console's session cookie Secure (browsers keep it over HTTPS and on localhost)"},
};
const size_t ag_config_ndefs = AG_ARRAY_LEN(ag_config_defs);

static const struct ag_config_def *find_def(const char *name, size_t n)
{
    for (size_t i = 0; i < ag_config_ndefs; i++)
        if (strlen(ag_config_defs[i].name) == n && strncmp(ag_config_defs[i].name, name, n) == 0)
            return &ag_config_defs[i];
    return NULL;
}

static int set_value(struct ag_config *cfg, const struct ag_config_def *d, const char *value,
                     struct ag_err *err)
{
    char *base = (char *)cfg + d->offset;
    char *end;
    switch (d->type) {
    case AG_CFG_STR: {
        char **p = (char **)base;
        char *v = strdup(value);
        if (!v)
            return ag_err_set(err, AG_ENOMEM, NULL, d->name, "out of memory");
        free(*p);
        *p = v;
        return 0;
    }
    case AG_CFG_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < 0)
            return ag_err_set(err, AG_EINVAL, "invalid_config", d->name,
                              "%s: '%s' is not a non-negative integer", d->name, value);
        *(int64_t *)base = v;
        return 0;
    }
    case AG_CFG_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end)
            return ag_err_set(err, AG_EINVAL, "invalid_config", d->name,
                              "%s: '%s' is not a number", d->name, value);
        *(double *)base = v;
        return 0;
    }
    case AG_CFG_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes") ||
            !strcmp(value, "on"))
            *(bool *)base = true;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no") ||
                 !strcmp(value, "off"))
            *(bool *)base = false;
        else
            return ag_err_set(err, AG_EINVAL, "invalid_config", d->name,
                              "%s: '%s' is not true or false", d->name, value);
        return 0;
    }
    return AG_EINTERNAL;
}

int ag_config_set(struct ag_config *cfg, const char *name, const char *value, struct ag_err *err)
{
    const struct ag_config_def *d = find_def(name, strlen(name));
    if (!d)
        return ag_err_set(err, AG_EINVAL, "unknown_setting", name, "unknown setting '%s'", name);
    return set_value(cfg, d, value, err);
}

int ag_config_init(struct ag_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < ag_config_ndefs; i++) {
        int rc = set_value(cfg, &ag_config_defs[i], ag_config_defs[i].def, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int ag_config_load_file(struct ag_config *cfg, const char *path, struct ag_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ag_err_set(err, AG_EIO, "config_unreadable", "", "cannot open config file %s: %s",
                          path, strerror(errno));
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '#' || *s == ';' || *s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = ag_err_set(err, AG_EINVAL, "invalid_config", "", "%s:%d: expected key = value",
                            path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        struct ag_err e2;
        if ((rc = ag_config_set(cfg, key, val, &e2))) {
            ag_err_set(err, rc, e2.slug, e2.field, "%s:%d: %s", path, lineno, e2.msg);
            break;
        }
    }
    fclose(f);
    return rc;
}

int ag_config_load_env(struct ag_config *cfg, struct ag_err *err)
{
    for (size_t i = 0; i < ag_config_ndefs; i++) {
        char name[80] = "AG_";
        size_t j = 3;
        for (const char *p = ag_config_defs[i].name; *p && j < sizeof name - 1; p++)
            name[j++] = (char)toupper((unsigned char)*p);
        name[j] = '\0';
        const char *v = getenv(name);
        if (v) {
            struct ag_err e2;
            int rc = set_value(cfg, &ag_config_defs[i], v, &e2);
            if (rc)
                return ag_err_set(err, rc, e2.slug, e2.field, "environment %s: %s", name, e2.msg);
        }
    }
    return 0;
}

void ag_config_finish(struct ag_config *cfg)
{
    char buf[4096];
    if (!cfg->store[0]) {
        snprintf(buf, sizeof buf, "%s/accountguard.db", cfg->data_dir);
        free(cfg->store);
        cfg->store = strdup(buf);
    }
    if (!cfg->secret_key_file[0]) {
        snprintf(buf, sizeof buf, "%s/secret.key", cfg->data_dir);
        free(cfg->secret_key_file);
        cfg->secret_key_file = strdup(buf);
    }
    if (!cfg->public_url[0]) {
        snprintf(buf, sizeof buf, "http://%s", cfg->listen);
        free(cfg->public_url);
        cfg->public_url = strdup(buf);
    }
}

void ag_config_free(struct ag_config *cfg)
{
    for (size_t i = 0; i < ag_config_ndefs; i++)
        if (ag_config_defs[i].type == AG_CFG_STR) {
            char **p = (char **)((char *)cfg + ag_config_defs[i].offset);
            free(*p);
            *p = NULL;
        }
}

int ag_config_from_args(struct ag_config *cfg, int argc, char **argv, int *first_arg,
                        bool *help, struct ag_err *err)
{
    int rc;
    *help = false;
    const char *file = getenv("AG_CONFIG");
    /* Pass 1: --config, so the file applies before env and flags. */
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            file = argv[++i];
    }
    if (file && *file && (rc = ag_config_load_file(cfg, file, err)))
        return rc;
    if ((rc = ag_config_load_env(cfg, err)))
        return rc;
    /* Flags may come before, between or after positional arguments; the
     * positionals are gathered, in order, at the end of argv. */
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int npos = 0, i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !strcmp(a, "-")) {
            pos[npos++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                pos[npos++] = argv[i];
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *help = true;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        char key[64];
        if (nlen >= sizeof key) {
            free(pos);
            return ag_err_set(err, AG_EINVAL, "unknown_flag", "", "unknown flag %.80s", a);
        }
        for (size_t k = 0; k < nlen; k++)
            key[k] = name[k] == '-' ? '_' : name[k];
        key[nlen] = '\0';
        if (!strcmp(key, "config")) {
            if (!eq)
                i++;
            continue;
        }
        const struct ag_config_def *d = find_def(key, nlen);
        if (!d) {
            free(pos);
            return ag_err_set(err, AG_EINVAL, "unknown_flag", "", "unknown flag --%s", key);
        }
        const char *val;
        if (eq)
            val = eq + 1;
        else if (d->type == AG_CFG_BOOL)
            val = "true";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            free(pos);
            return ag_err_set(err, AG_EINVAL, "missing_value", key, "--%s needs a value", key);
        }
        struct ag_err e2;
        if ((rc = set_value(cfg, d, val, &e2))) {
            free(pos);
            return ag_err_set(err, rc, e2.slug, e2.field, "--%s: %s", key, e2.msg);
        }
    }
    for (int k = 0; k < npos; k++)
        argv[argc - npos + k] = pos[k];
    free(pos);
    i = argc - npos;
    *first_arg = i;
    ag_config_finish(cfg);
    return 0;
}

void ag_config_print_help(void)
{
    printf("\nSettings (flag --name=value, environment AG_NAME, or `name = value` in --config FILE):\n");
    for (size_t i = 0; i < ag_config_ndefs; i++) {
        const struct ag_config_def *d = &ag_config_defs[i];
        char flag[64];
        size_t k = 0;
        for (; d->name[k] && k < sizeof flag - 1; k++)
            flag[k] = d->name[k] == '_' ? '-' : d->name[k];
        flag[k] = '\0';
        printf("  --%-22s %s", flag, d->help);
        if (d->def[0])
            printf(" [%s]", d->def);
        printf("\n");
    }
}
