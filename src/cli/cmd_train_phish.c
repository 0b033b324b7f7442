/* `accountguard train-phish`: refit the phishing weights from the labelled
 * corpora (docs/PHISHING.md; `make train-phish` does the same with the
 * standalone tool). The work is in src/phish/cli.c. */
#include "cli/cli.h"
#include "phish/cli.h"

#include <stdio.h>

int ag_cmd_train_phish(int argc, char **argv)
{
    return ag_phish_cli_train(argc, argv, stdout, stderr);
}
