/* Replaying a file of logins (RBA CSV) or events (JSONL) through a
 * pipeline, in time order: used by `accountguard replay` and the demo data. */
#ifndef AG_CLI_REPLAY_H
#define AG_CLI_REPLAY_H

#include "pipeline/pipeline.h"

#include <stdbool.h>
#include <stdio.h>

/* Run every row of <path> through <p>, sorted by time; write
 * `index<TAB>risk<TAB>action` per event to <out> (may be NULL). *events gets
 * the rows run, *failed the rows skipped or not stored. Returns 0, or -1 if
 * the file cannot be read (a one-line message is printed). */
int ag_replay_run(struct ag_pipeline *p, const char *path, bool rba, FILE *out, bool progress,
                  size_t *events, long *failed);

#endif
