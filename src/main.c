/* accountguard: dispatch to the subcommand table (src/cli/). */
#include "cli/cli.h"

int main(int argc, char **argv) { return ag_cli_main(argc, argv); }
