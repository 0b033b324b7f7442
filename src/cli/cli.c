/* The subcommand table and dispatch. Adding a subcommand: write
 * cmd_<name>.c, declare its function in cli.h, add one row here. */
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct ag_cli_cmd commands[] = {
    {"serve", "run the HTTP API and console",
     "accountguard serve [--config FILE] [--setting=value ...]", ag_cmd_serve, 1},
    {"migrate", "create or upgrade the store's schema and exit",
     "accountguard migrate [--store PATH|postgres://...] [--data-dir DIR]", ag_cmd_migrate, 1},
    {"apikey", "create, list or revoke API keys",
     "accountguard apikey create --name NAME --scopes SCOPE[,SCOPE...]\n"
     "  accountguard apikey list\n"
     "  accountguard apikey revoke KEY_ID\n"
     "Scopes: events:write events:read accounts:read accounts:write cases:read\n"
     "        cases:write messages:write intel:read intel:write rules:write admin",
     ag_cmd_apikey, 1},
    {"console-user", "create, list, disable or enable analyst console users",
     "accountguard console-user create --name NAME --role analyst|admin [--password-file FILE]\n"
     "  accountguard console-user list\n"
     "  accountguard console-user disable NAME\n"
     "  accountguard console-user enable NAME\n"
     "  create reads the password from --password-file, AG_CONSOLE_PASSWORD or stdin, and\n"
     "  prints the TOTP enrollment URI (otpauth://) once",
     ag_cmd_console_user, 1},
    {"replay", "run a login CSV (RBA schema) or JSONL events through the pipeline",
     "accountguard replay [--format rba|jsonl] [--out FILE] [--store PATH] [--with-hooks] FILE\n"
     "Prints index<TAB>risk<TAB>action per event, in time order. Without --store nothing is\n"
     "kept (a throwaway in-memory store); subsystem hooks (alerts, cases) run only with\n"
     "--with-hooks. A challenged login of an RBA row not marked Is Attack IP or Is Account\n"
     "Takeover passes its second factor (an mfa.succeeded follows); an attacker's does not.",
     ag_cmd_replay, 1},
    {"routes", "print the HTTP route table with required scopes", "accountguard routes",
     ag_cmd_routes, 0},
    {"audit", "verify the hash-chained audit log (exit 1 naming the first bad entry)",
     "accountguard audit verify [--data-dir DIR] [--store PATH]", ag_cmd_audit, 1},
    {"simulate", "write a labelled, realistic login stream (RBA CSV schema)",
     "accountguard simulate [--users N] [--days D] [--seed S] [--out FILE] [--ipdb_file PATH]",
     ag_cmd_simulate, 0},
    {"evaluate", "ROC AUC and attacks caught at 1/2/5% of logins challenged",
     "accountguard evaluate LABELLED.csv [--scores FILE] [--model freeman|extended|both]\n"
     "  [--enrich] [--svg FILE] [--dump FILE] [--warmup-days D] [--learn-attacks]",
     ag_cmd_evaluate, 0},
    {"analyze", "phishing/smishing verdicts for email (.eml) and SMS (.txt) files",
     "accountguard analyze [--format tsv|json] [--brand DOMAIN ...] [--brands-only] [--sms]\n"
     "                     [--weights FILE] FILE...   (see docs/PHISHING.md)",
     ag_cmd_analyze, 0},
    {"train-phish", "refit the phishing weights from the labelled corpora",
     "accountguard train-phish [--corpora DIR] [--out FILE.json] [--inc FILE.inc] [--version V]",
     ag_cmd_train_phish, 0},
    {"version", "print the version", "accountguard version", cmd_version, 0},
    {"help", "list subcommands, or show one's usage", "accountguard help [SUBCOMMAND]", cmd_help,
     0},
};

static const struct ag_cli_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void ag_cli_usage(const char *name)
{
    const struct ag_cli_cmd *c = find_cmd(name);
    if (!c)
        return;
    printf("%s: %s\n\nUsage:\n  %s\n", c->name, c->summary, c->usage);
    if (c->with_settings)
        ag_config_print_help();
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 0 && !strcmp(argv[0], "--help")) {
        ag_cli_usage("version");
        return 0;
    }
    printf("accountguard %s%s\n", AG_VERSION, ag_fault_enabled() ? " (fault injection)" : "");
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "--help") != 0) {
        if (!find_cmd(argv[0])) {
            fprintf(stderr, "accountguard: unknown subcommand '%s'\n", argv[0]);
            return 2;
        }
        ag_cli_usage(argv[0]);
        return 0;
    }
    printf("accountguard %s: account protection and fraud operations\n\n"
           "Usage: accountguard SUBCOMMAND [options]\n\nSubcommands:\n",
           AG_VERSION);
    for (size_t i = 0; i < AG_ARRAY_LEN(commands); i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].summary);
    printf("\n`accountguard SUBCOMMAND --help` shows a subcommand's options.\n");
    return 0;
}

int ag_cli_config(const char *cmd, struct ag_config *cfg, int argc, char **argv, int *first)
{
    struct ag_err err;
    bool help = false;
    if (ag_config_init(cfg)) {
        fprintf(stderr, "accountguard %s: out of memory\n", cmd);
        return 2;
    }
    if (ag_config_from_args(cfg, argc, argv, first, &help, &err)) {
        fprintf(stderr, "accountguard %s: %s\n", cmd, err.msg);
        ag_config_free(cfg);
        return 2;
    }
    if (help) {
        ag_cli_usage(cmd);
        ag_config_free(cfg);
        return 1;
    }
    int lvl = ag_log_level_parse(cfg->log_level);
    if (lvl < 0) {
        fprintf(stderr, "accountguard %s: log_level must be debug, info, warn or error\n", cmd);
        ag_config_free(cfg);
        return 2;
    }
    FILE *out = NULL;
    if (cfg->log_file[0] && !(out = fopen(cfg->log_file, "a"))) {
        fprintf(stderr, "accountguard %s: cannot open log file %s\n", cmd, cfg->log_file);
        ag_config_free(cfg);
        return 2;
    }
    ag_log_setup((enum ag_log_level)lvl, out);
    return 0;
}

const char *ag_cli_take_opt(int *argc, char **argv, const char *name, const char *def)
{
    size_t n = strlen(name);
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) || strncmp(a + 2, name, n))
            continue;
        const char *val = NULL;
        int take = 0;
        if (a[2 + n] == '=') {
            val = a + 3 + n;
            take = 1;
        } else if (a[2 + n] == '\0' && i + 1 < *argc) {
            val = argv[i + 1];
            take = 2;
        } else {
            continue;
        }
        memmove(&argv[i], &argv[i + take], (size_t)(*argc - i - take + 1) * sizeof *argv);
        *argc -= take;
        return val;
    }
    return def;
}

int ag_cli_take_flag(int *argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < *argc; i++) {
        if (!strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, name)) {
            memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof *argv);
            (*argc)--;
            (void)n;
            return 1;
        }
    }
    return 0;
}

int ag_cli_main(int argc, char **argv)
{
    ag_fault_setup();
    if (sodium_init() < 0) {
        fprintf(stderr, "accountguard: libsodium failed to initialize\n");
        return 1;
    }
    if (argc < 2)
        return cmd_help(0, NULL), 2;
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        return cmd_help(0, NULL);
    if (!strcmp(name, "--version"))
        return cmd_version(0, NULL);
    const struct ag_cli_cmd *c = find_cmd(name);
    if (!c) {
        fprintf(stderr, "accountguard: unknown subcommand '%s' (try 'accountguard help')\n", name);
        return 2;
    }
    /* `accountguard NAME --help` reads the same for every subcommand. */
    if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        ag_cli_usage(name);
        return 0;
    }
    return c->run(argc - 2, argv + 2);
}
