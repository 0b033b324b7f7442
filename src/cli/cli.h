/* The command-line interface: one table of subcommands (cli.c), one file per
 * subcommand (cmd_<name>.c). A subcommand gets argv after its name, returns
 * the process exit code, and prints a one-line message on error. */
#ifndef AG_CLI_CLI_H
#define AG_CLI_CLI_H

#include "core/config.h"

struct ag_cli_cmd {
    const char *name;
    const char *summary; /* one line for `accountguard help` */
    const char *usage;   /* usage lines for `accountguard NAME --help` */
    int (*run)(int argc, char **argv);
    int with_settings;   /* --help also lists the settings table */
};

int ag_cli_main(int argc, char **argv);

/* Print the usage of <name> (for --help and usage errors). */
void ag_cli_usage(const char *name);

/* Load configuration for a subcommand from its argv (flags, env, file).
 * On --help prints the usage and returns 1 (exit 0); on error prints one line
 * and returns 2; otherwise 0, with positional arguments at argv[*first ..]. */
int ag_cli_config(const char *cmd, struct ag_config *cfg, int argc, char **argv, int *first);

/* Pull "--name VALUE" / "--name=VALUE" out of argv (in place; argc updated).
 * Returns the value, or <def> if absent. For subcommand-specific options that
 * are not settings. */
const char *ag_cli_take_opt(int *argc, char **argv, const char *name, const char *def);
/* Pull a boolean "--name" out of argv; returns 1 if present. */
int ag_cli_take_flag(int *argc, char **argv, const char *name);

/* Subcommands (one file each). */
int ag_cmd_serve(int argc, char **argv);
int ag_cmd_migrate(int argc, char **argv);
int ag_cmd_apikey(int argc, char **argv);
int ag_cmd_console_user(int argc, char **argv);
int ag_cmd_simulate(int argc, char **argv);
int ag_cmd_evaluate(int argc, char **argv);
int ag_cmd_routes(int argc, char **argv);
int ag_cmd_audit(int argc, char **argv);
int ag_cmd_replay(int argc, char **argv);
int ag_cmd_analyze(int argc, char **argv);
int ag_cmd_train_phish(int argc, char **argv);

#endif
