/* Structured JSON-lines logging. Lines are assembled in memory with jansson
 * (which escapes everything) and written with one fwrite under a lock. */
#include "core/log.h"
#include "core/timeutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static enum ag_log_level log_min = AG_LOG_INFO;
static FILE *log_out;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ag_log_setup(enum ag_log_level min, FILE *out)
{
    log_min = min;
    log_out = out;
}

int ag_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

static void log_emit(enum ag_log_level level, const char *rid, const char *msg, va_list ap)
{
    if (level < log_min)
        return;
    char ts[40];
    ag_time_format_ms(ag_time_now_ms(), ts, sizeof ts);
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level_names[level]));
    if (rid)
        json_object_set_new(o, "request_id", json_string(rid));
    json_object_set_new(o, "msg", json_string(msg));
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (v)
            json_object_set_new(o, k, json_string(v));
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line)
        return;
    FILE *out = log_out ? log_out : stderr;
    pthread_mutex_lock(&log_lock);
    fputs(line, out);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
    free(line);
}

void ag_log(enum ag_log_level level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    log_emit(level, NULL, msg, ap);
    va_end(ap);
}

void ag_log_req(enum ag_log_level level, const char *rid, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    log_emit(level, rid, msg, ap);
    va_end(ap);
}
