/* accountguard audit verify: walk the hash-chained audit log and report the
 * first entry that was altered, removed or put out of order. Exits 0 when
 * the chain holds, 1 when it does not (naming the entry), 2 on usage or
 * store errors. */
#include "audit/audit.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int ag_cmd_audit(int argc, char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "verify") && strcmp(argv[0], "--help"))) {
        ag_cli_usage("audit");
        return 2;
    }
    struct ag_config cfg;
    int first, rc = ag_cli_config("audit", &cfg, argc - 1, argv + 1, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (first < argc - 1) {
        fprintf(stderr, "accountguard audit: unexpected argument '%s'\n", argv[1 + first]);
        ag_config_free(&cfg);
        return 2;
    }
    struct ag_store *store;
    struct ag_err err;
    /* Read-only use: never migrate (a missing log is an error, not an empty one). */
    struct ag_store_options o = {.no_migrate = true, .read_pool = 1};
    if (ag_store_open(cfg.store, &o, &store, &err)) {
        fprintf(stderr, "accountguard audit: %s\n", err.msg);
        ag_config_free(&cfg);
        return 2;
    }
    struct ag_audit_verify_result res;
    rc = ag_audit_verify(store, &res, &err);
    ag_store_close(store);
    ag_config_free(&cfg);
    if (rc) {
        fprintf(stderr, "accountguard audit: %s\n", err.msg);
        return 2;
    }
    if (!res.ok) {
        printf("audit log BROKEN at entry %lld: %s\n", (long long)res.bad_seq, res.problem);
        printf("%lld entries checked before the break\n", (long long)res.checked);
        return 1;
    }
    printf("audit log OK: %lld entries, chain intact to entry %lld\n", (long long)res.checked,
           (long long)res.head_seq);
    return 0;
}
