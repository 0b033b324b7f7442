/* Errors as values. Functions return 0 on success and a negative AG_E* code on
 * failure; details for people go in a struct ag_err out-parameter, which may
 * be NULL when the caller does not care. Library code never prints. */
#ifndef AG_CORE_ERR_H
#define AG_CORE_ERR_H

#include <stdarg.h>

enum {
    AG_OK = 0,
    AG_EINVAL = -1,     /* bad input: maps to 400 */
    AG_ENOTFOUND = -2,  /* 404 */
    AG_ECONFLICT = -3,  /* 409 */
    AG_ENOMEM = -4,     /* 503 */
    AG_EIO = -5,        /* store or I/O failure: 500 */
    AG_EAUTH = -6,      /* 401 */
    AG_EFORBIDDEN = -7, /* 403 */
    AG_ELIMIT = -8,     /* a size limit: 413 */
    AG_ERATE = -9,      /* a rate limit: 429 */
    AG_ESTATE = -10,    /* not allowed in the current state: 409/422 */
    AG_EUNAVAIL = -11,  /* shutting down, queue full: 503 */
    AG_EINTERNAL = -12, /* a bug: 500 */
};

/* <code> is one of AG_E*; <slug> a stable machine code for API clients
 * ("invalid_field", "not_found", ...); <field> the JSON path of the offending
 * input, or empty. */
struct ag_err {
    int code;
    char slug[40];
    char field[96];
    char msg[256];
};

/* Fill <err> (if not NULL) and return <code>, so callers can write
 * `return ag_err_set(err, AG_EINVAL, "invalid_field", "context.ip", "...")`. */
int ag_err_set(struct ag_err *err, int code, const char *slug, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int ag_err_setv(struct ag_err *err, int code, const char *slug, const char *field,
                const char *fmt, va_list ap);
void ag_err_clear(struct ag_err *err);

/* The HTTP status an error code maps to. */
int ag_err_http_status(int code);
/* A default slug for a code ("internal", "not_found", ...). */
const char *ag_err_default_slug(int code);

#endif
