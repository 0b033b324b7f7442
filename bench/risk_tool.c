/* risk_tool: runs `simulate` and `evaluate` without the full accountguard
 * binary (which needs every module), for the risk benchmarks and for
 * working on the risk module alone: risk_tool simulate|evaluate ARGS... */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "simulate"))
        return ag_cmd_simulate(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "evaluate"))
        return ag_cmd_evaluate(argc - 2, argv + 2);
    fprintf(stderr, "usage: risk_tool simulate|evaluate [options] (see --help)\n");
    return 2;
}
