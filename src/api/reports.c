/* GET /v1/reports/cases (JSON or CSV) and GET /v1/labels (JSON lines or
 * CSV): what the fraud department did, and the confirmed outcomes the risk
 * model is trained and evaluated on. */
#include "api/cases.h"
#include "cases/service.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

/* ?format= among <a> (default) and <b>; -1 after responding 400. */
static int format_of(struct ag_http_req *req, const char *a, const char *b)
{
    const char *f = ag_http_query(req, "format");
    if (!f || !strcmp(f, a))
        return 0;
    if (!strcmp(f, b))
        return 1;
    ag_api_error(req, AG_EINVAL, "invalid_parameter", "format", "format must be %s or %s", a, b);
    return -1;
}

void ag_api_labels_export(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    int csv = format_of(req, "jsonl", "csv");
    if (csv < 0)
        return;
    struct ag_buf b = {0};
    struct ag_err err = {0};
    if (ag_cases_labels_export(m, csv, &b, &err)) {
        ag_buf_free(&b);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    ag_http_respond_bytes(req, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                          b.data ? b.data : "", b.len);
    ag_buf_free(&b);
}

void ag_api_reports_cases(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_cases *m = ag_api_cases_module(app, req);
    if (!m)
        return;
    int csv = format_of(req, "json", "csv");
    if (csv < 0)
        return;
    const char *period = ag_http_query(req, "period");
    int64_t from = 0, to = 0;
    const char *fs = ag_http_query(req, "from"), *ts = ag_http_query(req, "to");
    if ((fs && ag_time_parse(fs, &from)) || (ts && ag_time_parse(ts, &to))) {
        ag_api_error(req, AG_EINVAL, "invalid_parameter", fs && ag_time_parse(fs, &from) ? "from" : "to",
                     "from and to must be RFC 3339 timestamps");
        return;
    }
    struct ag_buf b = {0};
    json_t *out = NULL;
    struct ag_err err = {0};
    int rc = ag_cases_report(m, period ? period : "day", from, to, csv ? NULL : &out,
                             csv ? &b : NULL, &err);
    if (rc) {
        ag_buf_free(&b);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    if (csv)
        ag_http_respond_bytes(req, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
    else
        ag_http_respond_json(req, 200, out);
    ag_buf_free(&b);
}
