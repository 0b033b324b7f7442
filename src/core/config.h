/* Configuration: one table of settings (config.c), each with a name, type,
 * default and help line. Values come, later overriding earlier, from the
 * defaults, the config file (`key = value` lines), the environment
 * (AG_<NAME>, upper-cased) and command-line flags (--name=value). */
#ifndef AG_CORE_CONFIG_H
#define AG_CORE_CONFIG_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_config {
    /* service */
    char *listen;          /* host:port */
    char *data_dir;        /* embedded store, secret key, uploads */
    char *store;           /* sqlite file path, ":memory:", or postgres:// URL */
    char *secret_key_file; /* keyed hashes and encryption at rest */
    char *log_level;
    char *log_file;
    char *public_url;      /* how users reach us (links in alerts) */
    int64_t http_threads;
    int64_t max_connections;
    int64_t connection_timeout_s;
    int64_t max_body_bytes;
    int64_t max_json_depth;
    int64_t rate_per_key;  /* requests per second per API key, 0 = off */
    int64_t rate_per_ip;   /* requests per second per client IP, 0 = off */
    /* store */
    int64_t commit_batch_max;
    int64_t read_pool;
    int64_t learned_flush_ms; /* pipeline/learned.c; 0 = with every event */
    bool demo;
    /* risk */
    char *rules_file;
    char *ipdb_file;
    char *uap_regexes;
    double risk_challenge;
    double risk_review;
    double risk_deny;
    char *first_login_action; /* allow | review | challenge | deny */
    int64_t payout_hold_hours;
    /* identity */
    char *platform_name;           /* issuer in authenticator apps, name in code texts */
    int64_t password_hash_ops;     /* Argon2id passes for held passwords */
    int64_t password_hash_mem_kib; /* Argon2id memory (KiB) for held passwords */
    int64_t passcode_hash_ops;     /* the same for wallet passcodes */
    int64_t passcode_hash_mem_kib;
    /* cases */
    double cases_auto_risk;
    int64_t cases_upload_max_bytes;
    int64_t cases_retry_interval_s;
    char *cases_fail_steps;
    /* notifications (src/notify) */
    int64_t notify_workers;         /* delivery threads */
    int64_t notify_max_attempts;    /* then the message is dead */
    int64_t notify_backoff_base_ms; /* first retry delay; doubles per attempt */
    int64_t notify_backoff_max_ms;  /* cap of the retry delay */
    int64_t notify_lease_s;         /* a claimed message is redelivered after this */
    int64_t notify_timeout_s;       /* per delivery (HTTP, SMTP) */
    char *smtp_url;                 /* smtp://host:port or smtps://...; empty = no email */
    char *smtp_from;
    char *smtp_user;
    char *smtp_password;
    char *smtp_tls;                 /* "off", "try" (STARTTLS if offered), "require" */
    bool smtp_html;                 /* add an HTML part to alert emails */
    char *sms_gateway_url;          /* empty = no SMS */
    char *sms_gateway_auth;         /* a header line, or the Authorization value */
    char *sms_gateway_body;         /* with {to} and {text} */
    char *sms_gateway_content_type;
    int64_t alert_link_ttl_s;       /* validity of "this wasn't me" links */
    int64_t notify_retention_days;  /* delivered messages are purged after (0 = keep) */
    /* intel */
    bool intel_from_messages; /* add a phishing message's indicators to intel */
    /* console (src/console) */
    int64_t console_idle_timeout_s; /* a console session unused this long ends */
    int64_t console_session_max_s;  /* a console session ends this long after sign-in */
    bool console_cookie_secure;     /* Secure flag on the console's cookie */
};

enum ag_config_type { AG_CFG_STR, AG_CFG_INT, AG_CFG_BOOL, AG_CFG_DOUBLE };

struct ag_config_def {
    const char *name;
    enum ag_config_type type;
    size_t offset;
    const char *def; /* default as text; "" for none */
    const char *help;
};

extern const struct ag_config_def ag_config_defs[];
extern const size_t ag_config_ndefs;

/* Fill <cfg> with the defaults. Free with ag_config_free. */
int ag_config_init(struct ag_config *cfg);
/* Apply "key = value" lines from <path>. Errors name the line. */
int ag_config_load_file(struct ag_config *cfg, const char *path, struct ag_err *err);
/* Apply AG_<NAME> environment variables. */
int ag_config_load_env(struct ag_config *cfg, struct ag_err *err);
/* Set one setting by name from text. */
int ag_config_set(struct ag_config *cfg, const char *name, const char *value, struct ag_err *err);
/* Derive settings that depend on others (store and key file under data_dir). */
void ag_config_finish(struct ag_config *cfg);
void ag_config_free(struct ag_config *cfg);

/* Parse the leading --flags of argv (consuming --config first), applying the
 * full order: defaults, file, env, flags. Non-flag arguments are left in
 * argv[*first_arg ..]. --help sets *help. A flag not in the table is an
 * error: subcommands take their own options out of argv first. */
int ag_config_from_args(struct ag_config *cfg, int argc, char **argv, int *first_arg,
                        bool *help, struct ag_err *err);

/* Print the settings table (name, default, help) for --help output. */
void ag_config_print_help(void);

#endif
