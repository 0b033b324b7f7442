/* accountguard routes: print the HTTP route table (method, path, scope,
 * summary) as TSV: for docs, audits and the table-driven API tests. */
#include "api/api.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int ag_cmd_routes(int argc, char **argv)
{
    if (argc > 0) {
        if (!strcmp(argv[0], "--help")) {
            ag_cli_usage("routes");
            return 0;
        }
        fprintf(stderr, "accountguard routes: unexpected argument '%s'\n", argv[0]);
        return 2;
    }
    printf("method\tpath\tscope\tsummary\n");
    for (int i = 0; i < ag_routes_count; i++)
        printf("%s\t%s\t%s\t%s\n", ag_routes[i].method, ag_routes[i].pattern,
               ag_routes[i].scope ? ag_routes[i].scope : "-", ag_routes[i].summary);
    return 0;
}
