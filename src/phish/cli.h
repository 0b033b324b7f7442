/* Command-line front ends of the phishing analyzer (src/phish/cli.c):
 * `accountguard analyze` and `accountguard train-phish` call these with the
 * arguments after the subcommand's name. They return the exit code (0 ok,
 * 1 some file failed, 2 usage) and print to <out> and <errf>. */
#ifndef AG_PHISH_CLI_H
#define AG_PHISH_CLI_H

#include "phish/phish.h"

#include <stdio.h>

int ag_phish_cli_analyze(int argc, char **argv, FILE *out, FILE *errf);
int ag_phish_cli_train(int argc, char **argv, FILE *out, FILE *errf);

/* Split an SMS file in place: an optional first line "From: SENDER", then
 * the text (trailing newlines dropped). Returns 0, or -1 if no text. */
int ag_phish_sms_file_parse(char *buf, const char **sender, const char **text);

#endif
