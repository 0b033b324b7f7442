/* `accountguard analyze`: phishing/smishing verdicts for email and SMS files
 * (docs/PHISHING.md). The work is in src/phish/cli.c. */
#include "cli/cli.h"
#include "phish/cli.h"

#include <stdio.h>

int ag_cmd_analyze(int argc, char **argv) { return ag_phish_cli_analyze(argc, argv, stdout, stderr); }
