/* The subsystems plugged into the pipeline's enrich and act stages, in the
 * order they run (see struct ag_pipeline_hook in pipeline/pipeline.h). Used
 * by `serve` and by every command that runs events (replay, demo). One row
 * per subsystem; the table ends with a NULL name. */
#include "api/api.h"

const struct ag_pipeline_hook ag_app_hooks[] = {
    {.name = NULL},
};
