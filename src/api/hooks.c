/* The subsystems plugged into the pipeline's enrich and act stages, in the
 * order they run (see struct ag_pipeline_hook in pipeline/pipeline.h). Used
 * by `serve` and by every command that runs events (replay, demo). One row
 * per subsystem; the table ends with a NULL name. */
#include "api/api.h"
#include "api/identity.h"
#include "cases/cases.h"
#include "api/intel.h"
#include "api/notify.h"

const struct ag_pipeline_hook ag_app_hooks[] = {
    {.name = "intel", .init = ag_api_intel_hook_init, .fini = ag_api_intel_hook_fini,
     .enrich = ag_api_intel_hook_enrich},
    {.name = "cases", .init = ag_cases_hook_init, .fini = ag_cases_hook_fini,
     .act = ag_cases_hook_act},
    {.name = "identity", .init = ag_api_identity_hook_init, .fini = ag_api_identity_hook_fini,
     .enrich = ag_api_identity_hook_enrich, .act = ag_api_identity_hook_act},
    /* "notify" after every hook that may escalate: alerts follow the final
     * decision (held or not, which reasons). */
    {.name = "notify", .init = ag_api_notify_hook_init, .fini = ag_api_notify_hook_fini,
     .act = ag_api_notify_hook_act},
    /* Keep "challenge" last: it turns the final challenge decision into a
     * challenge record, after every other hook has escalated. */
    {.name = "challenge", .init = ag_api_challenge_hook_init, .act = ag_api_challenge_hook_act},
    {.name = NULL},
};
