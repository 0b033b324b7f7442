/* Structured logging: one JSON object per line, to stderr or a file.
 * Every line has "ts", "level" and "msg"; callers add fields as key/value
 * pairs. Secrets must never be passed here (see docs/SECURITY.md). */
#ifndef AG_CORE_LOG_H
#define AG_CORE_LOG_H

#include <stdio.h>

enum ag_log_level { AG_LOG_DEBUG, AG_LOG_INFO, AG_LOG_WARN, AG_LOG_ERROR };

/* Set the minimum level and the destination (NULL: stderr). Not thread-safe;
 * call before starting threads. */
void ag_log_setup(enum ag_log_level min, FILE *out);
/* Parse "debug", "info", "warn", "error"; returns -1 if unknown. */
int ag_log_level_parse(const char *s);

/* Log <msg> with extra string fields given as a NULL-terminated list of
 * key, value pairs: ag_log(AG_LOG_INFO, "started", "addr", addr, NULL).
 * A NULL value is skipped. Thread-safe; each line is written whole. */
void ag_log(enum ag_log_level level, const char *msg, ...) __attribute__((sentinel));

/* Like ag_log, with a request id field first (may be NULL). */
void ag_log_req(enum ag_log_level level, const char *rid, const char *msg, ...)
    __attribute__((sentinel));

#endif
