/* Error values: filling struct ag_err and mapping codes to HTTP statuses. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int ag_err_setv(struct ag_err *err, int code, const char *slug, const char *field,
                const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->slug, sizeof err->slug, "%s", slug ? slug : ag_err_default_slug(code));
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int ag_err_set(struct ag_err *err, int code, const char *slug, const char *field,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ag_err_setv(err, code, slug, field, fmt, ap);
    va_end(ap);
    return code;
}

void ag_err_clear(struct ag_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static const struct {
    int code;
    int status;
    const char *slug;
} err_table[] = {
    {AG_EINVAL, 400, "invalid_request"},
    {AG_ENOTFOUND, 404, "not_found"},
    {AG_ECONFLICT, 409, "conflict"},
    {AG_ENOMEM, 503, "out_of_memory"},
    {AG_EIO, 500, "store_error"},
    {AG_EAUTH, 401, "unauthorized"},
    {AG_EFORBIDDEN, 403, "forbidden"},
    {AG_ELIMIT, 413, "too_large"},
    {AG_ERATE, 429, "rate_limited"},
    {AG_ESTATE, 409, "invalid_state"},
    {AG_EUNAVAIL, 503, "unavailable"},
    {AG_EINTERNAL, 500, "internal"},
};

int ag_err_http_status(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return err_table[i].status;
    return 500;
}

const char *ag_err_default_slug(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return err_table[i].slug;
    return "internal";
}
